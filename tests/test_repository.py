"""The repository's own housekeeping: ``make clean`` keeps hand-written sources, and the
repository cites only its own documents."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_removes_generated_c_but_not_the_hand_written_kernel():
    # -n: print the commands with their variables expanded, run nothing
    p = subprocess.run(["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True, check=True)
    removed = set(p.stdout.split())
    assert "spikecore/engine/_kernel.c" not in removed
    assert not any("*.c" in word for word in removed)
    for pyx in (ROOT / "spikecore" / "engine").glob("*.pyx"):
        assert str(pyx.relative_to(ROOT).with_suffix(".c")) in removed
    tracked = subprocess.run(["git", "ls-files", "spikecore/engine/*.c"], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    assert not removed & set(tracked)


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_no_file_cites_documents_outside_the_repository():
    outside = re.compile("|".join(["DESIGN" + r"\.md", "STYLE" + r"\.md", r"\.\./" + "shared"]))
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    cited = []
    for f in files:
        path = ROOT / f
        if not path.is_file() or path.suffix in (".png", ".so", ".nir", ".h5", ".npz"):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        cited += [f"{f}:{n}" for n, line in enumerate(text.splitlines(), 1) if outside.search(line)]
    assert cited == []
