"""Paper check (slow): Brunel (2000) Fig. 8's four points at full size (examples/brunel_phase.py).

    .venv/bin/python -m pytest -q -m slow tests/sweep/test_brunel_phase.py

Four full-size runs (12,500 neurons, 15.6 million synapses, 1.2 s each) and the same
four at 4x the size (50,000 neurons, 62.5 million synapses) on a local Dask cluster of
two worker processes; examples/brunel_phase.md has the numbers and the
time it takes.
"""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _script():
    spec = importlib.util.spec_from_file_location("brunel_phase", ROOT / "examples" / "brunel_phase.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fig8(tmp_path_factory):
    """{(g, nu): row of brunel_phase.regime_table} for the four points of Fig. 8."""
    bp = _script()
    from spikecore.sweep.cluster import open_client
    from spikecore.sweep.runner import run_sweep

    out = tmp_path_factory.mktemp("brunel_phase")
    rows, scaled_rows = {}, {}
    with open_client(jobs=2) as cluster:
        for i, (g, nu) in enumerate(bp.FIG8):
            spec = bp.spec_for([g], [nu])
            small = run_sweep(spec, out / f"{i}_size_1", cluster)["rows"]
            big = run_sweep(bp.spec_for([g], [nu], size_factor=bp.SCALE_FACTOR),
                            out / f"{i}_size_{bp.SCALE_FACTOR}", cluster)["rows"]
            for row in bp.regime_table(spec, small):
                rows[(row["g"], row["nu"])] = row
            for row in bp.regime_table(spec, small, big):
                scaled_rows[(row["g"], row["nu"])] = row
    return bp, rows, scaled_rows


def test_measures_show_the_papers_distinctions(fig8):
    """What the paper's caption says of each point, in the measures themselves."""
    _, rows, _ = fig8
    sr, ai, fast, slow = rows[(3.0, 2.0)], rows[(5.0, 2.0)], rows[(6.0, 4.0)], rows[(4.5, 0.9)]
    # A: regular firing at high rates, all neurons together
    assert sr["cv_isi"] < 0.1 and sr["rate_hz"] > 200
    # B: fast global oscillation, irregular neurons firing below the global frequency
    assert fast["freq_hz"] > 150 and fast["cv_isi"] > 0.8 and fast["rate_hz"] < fast["freq_hz"]
    # D: slow global oscillation, very low rates
    assert slow["freq_hz"] < 40 and slow["rate_hz"] < 10
    # C: the stationary rate of the mean-field theory (37.9 Hz from Siegert's formula)
    assert ai["rate_hz"] == pytest.approx(37.9, rel=0.1)


@pytest.mark.xfail(strict=True, reason="the thresholds fixed before the run name the AI point (g=5, nu=2: "
                                       "sync 0.54 at 112 Hz, CV 0.40) and the SI slow point (CV 0.49) SR; "
                                       "see examples/brunel_phase.md")
def test_regimes_named_with_the_thresholds_fixed_before_the_run(fig8):
    bp, rows, _ = fig8
    assert {k: rows[k]["regime"] for k in bp.FIG8} == bp.FIG8


def test_regimes_named_by_finite_size_scaling(fig8):
    """The second classification (spikecore.sweep.regimes.classify_scaled): each point also at 4x the size."""
    bp, _, scaled_rows = fig8
    assert {k: scaled_rows[k]["regime"] for k in bp.FIG8} == bp.FIG8
