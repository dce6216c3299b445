"""Paper check (slow): Brunel (2000) Fig. 8's four points at full size (examples/brunel_phase.py).

    .venv/bin/python -m pytest -q -m slow tests/sweep/test_brunel_phase.py

Four full-size runs (12,500 neurons, 15.6 million synapses, 1.2 s each) on a local
Dask cluster of two worker processes; the second and third classifications' tests (marked
``long``: ``make test-long``) add the same four at 4x the size (50,000 neurons, 62.5
million synapses), and the check of the third's prediction the same four at 2x;
examples/brunel_phase.md has the numbers and the time it takes.
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
    rows, raw = {}, {}
    with open_client(jobs=2) as cluster:
        for g, nu in bp.FIG8:
            spec = bp.spec_for([g], [nu])
            raw[(g, nu)] = run_sweep(spec, out / f"g{g}_nu{nu}", cluster)["rows"]
            for row in bp.regime_table(spec, raw[(g, nu)]):
                rows[(row["g"], row["nu"])] = row
    return bp, rows, raw


def _bigger_runs(bp, out, size_factor) -> dict:
    """{(g, nu): sweep rows} of the four points with every population and source ``size_factor``
    times larger (the same in-degrees)."""
    from spikecore.sweep.cluster import open_client
    from spikecore.sweep.runner import run_sweep

    with open_client(jobs=2) as cluster:
        return {(g, nu): run_sweep(bp.spec_for([g], [nu], size_factor=size_factor), out / f"g{g}_nu{nu}",
                                   cluster)["rows"] for g, nu in bp.FIG8}


@pytest.fixture(scope="module")
def fig8_scaled(fig8, tmp_path_factory):
    """{(g, nu): row of brunel_phase.regime_table with the 4x runs} (the second classification)."""
    bp, _, raw = fig8
    big = _bigger_runs(bp, tmp_path_factory.mktemp("brunel_phase_scaled"), bp.SCALE_FACTOR)
    rows = {}
    for g, nu in bp.FIG8:
        for row in bp.regime_table(bp.spec_for([g], [nu]), raw[(g, nu)], big[(g, nu)]):
            rows[(row["g"], row["nu"])] = row
    return bp, rows


@pytest.fixture(scope="module")
def fig8_double(fig8, tmp_path_factory):
    """{(g, nu): excitatory sync at 2x the paper's size} (the third classification's prediction check)."""
    bp, _, _ = fig8
    double = _bigger_runs(bp, tmp_path_factory.mktemp("brunel_phase_double"), 2)
    sync = {}
    for key, rows in double.items():
        (row,) = rows
        sync[key] = row["exc.sync"]
    return sync


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


@pytest.mark.long
def test_the_modulation_scales_as_the_theory_says(fig8_scaled):
    """Regression bounds written after the run of examples/brunel_phase.md (not the classification):
    the AI point's modulation falls as N^-1/2 (ratio 0.51 at 4x the size), SR's does not (0.99)."""
    _, scaled_rows = fig8_scaled
    assert 0.4 < scaled_rows[(5.0, 2.0)]["sync_ratio"] < 0.6
    assert scaled_rows[(3.0, 2.0)]["sync_ratio"] > 0.9


@pytest.mark.xfail(strict=True, reason="the finite-size scaling committed before its run names the SI slow point "
                                       "(g=4.5, nu=0.9) AI: its modulation falls from sync 1.78 to 1.10 at 4x the "
                                       "size (ratio 0.62 < 0.707); the other three as in the paper. See "
                                       "examples/brunel_phase.md")
@pytest.mark.long
def test_regimes_named_by_finite_size_scaling(fig8_scaled):
    """The second classification (spikecore.sweep.regimes.classify_scaled): each point also at 4x the size."""
    bp, scaled_rows = fig8_scaled
    assert {k: scaled_rows[k]["regime"] for k in bp.FIG8} == bp.FIG8


@pytest.mark.long
def test_regimes_named_by_the_extrapolated_amplitude(fig8_scaled):
    """The third classification (spikecore.sweep.regimes.classify_extrapolated) on the N and 4N runs.

    Not blind: its threshold (SYNC_MIN, reused) was chosen knowing these runs' amplitudes
    (0.77, 0.75, 0.06, 0.75); the blind part is test_sync_at_twice_the_size_as_predicted."""
    bp, scaled_rows = fig8_scaled
    assert {k: scaled_rows[k]["regime_extrapolated"] for k in bp.FIG8} == bp.FIG8


@pytest.mark.long
def test_sync_at_twice_the_size_as_predicted(fig8_scaled, fig8_double):
    """sync(2N) = sqrt(a^2 + b^2 / 2) from the N and 4N runs, within regimes.prediction_tolerance
    (predictions written down before the 2N runs: examples/brunel_phase.md)."""
    from spikecore.sweep.regimes import predicted_sync, prediction_holds

    bp, scaled_rows = fig8_scaled
    off = {k: (fig8_double[k], predicted_sync(r["sync"], r["sync_scaled"], 2)) for k, r in scaled_rows.items()
           if not prediction_holds(fig8_double[k], r["sync"], r["sync_scaled"], 2)}
    assert not off, f"(measured, predicted) sync at 2N outside the bound: {off}"
