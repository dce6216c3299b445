"""Skips the PyNN scenarios that do not apply to spikecore, with the reason that
APPLICABLE.md (the committed list) gives; all others run and must pass."""
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def not_applicable() -> dict:
    """scenario ("file.py::test") -> reason, from APPLICABLE.md's table."""
    out = {}
    for line in (HERE / "APPLICABLE.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and "::" in cells[0]:
            out[cells[0]] = cells[1]
    return out


NOT_APPLICABLE = not_applicable()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).parent != HERE:
            continue
        key = f"{Path(str(item.fspath)).name}::{item.originalname}"
        if key in NOT_APPLICABLE:
            item.add_marker(pytest.mark.skip(reason=f"not applicable to spikecore: {NOT_APPLICABLE[key]}"))


@pytest.fixture(autouse=True)
def _fresh_simulation(tmp_path, monkeypatch):
    """Each scenario runs in its own directory (some write data files) and ends with end()."""
    monkeypatch.chdir(tmp_path)
    yield
    import spikecore.pynn
    spikecore.pynn.end()
