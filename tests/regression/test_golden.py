"""No behaviour change: every example and conformance scenario, on every engine mode,
gives the spikes, traces and Result fields recorded in golden.json (see golden.py)."""
import json

import pytest

from golden import GOLDEN, cases, run_case

RECORDED = json.loads(GOLDEN.read_text())


def _params():
    for cid, make, dur, be, opts, slow in cases():
        marks = [pytest.mark.slow] if slow else []
        yield pytest.param(cid, make, dur, be, opts, id=cid, marks=marks)


@pytest.mark.parametrize("cid, make, duration, backend, options", _params())
def test_fingerprint_unchanged(cid, make, duration, backend, options):
    assert cid in RECORDED, f"{cid}: no recorded fingerprint (record it with golden.py --write before changing code)"
    got = run_case(make, duration, backend, options)
    want = RECORDED[cid]
    if "refused" in want:
        assert got.get("refused") == want["refused"], got
        return
    assert "refused" not in got, got
    assert got["spikes"] == want["spikes"]
    assert got["traces"] == want["traces"]
    assert got == want
