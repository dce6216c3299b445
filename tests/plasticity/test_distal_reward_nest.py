"""Slow: the rewarded weight of examples/distal_reward.py over 10 seeds is statistically
equivalent to NEST 3.10's stdp_dopamine_synapse on the same network
(examples/distal_reward_nest.py): two one-sided Welch t-tests (TOST, alpha 0.05) with an
equivalence margin of 20 % of w_max, fixed before the comparison was run.

Both run DURATION of the Izhikevich (2007) protocol with the stronger noise of the example's
fast test (about 2.6 Hz: a chance coincidence every few seconds), long enough for several
rewards and short enough that the rewarded synapse is mostly between its bounds (an
equivalence of saturated weights would say little). What differs between the two is stated in distal_reward_nest.py's
docstring (NEST's dendritic STDP delay, its own noise generator, rewards 2 ms later)."""
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDS = range(1, 11)
DURATION = 60.0          # s
MARGIN = 0.2             # of w_max
ALPHA = 0.05


def tost_p(a, b, margin: float) -> float:
    """p-value of two one-sided Welch t-tests that |mean(a) - mean(b)| < margin."""
    from scipy import stats
    a, b = np.asarray(a, float), np.asarray(b, float)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    diff = a.mean() - b.mean()
    return float(max(stats.t.sf((diff + margin) / se, df), stats.t.sf((margin - diff) / se, df)))


def test_tost_separates_equal_from_different():
    rng = np.random.default_rng(0)
    a = rng.normal(2.0, 0.5, 10)
    assert tost_p(a, rng.normal(2.05, 0.5, 10), 0.8) < ALPHA
    assert tost_p(a, rng.normal(3.5, 0.5, 10), 0.8) > ALPHA


@pytest.mark.slow
@pytest.mark.long      # 10 seeds x 60 s in spikecore and in NEST: tens of minutes (make test-long)
def test_rewarded_weight_equivalent_to_nest(monkeypatch):
    pytest.importorskip("nest")
    sys.path.insert(0, str(EXAMPLES))
    try:
        import distal_reward as dr
        import distal_reward_nest as drn
    finally:
        sys.path.remove(str(EXAMPLES))
    monkeypatch.setattr(dr, "NOISE_MV", 2.65)
    ours = [dr.run(seed=s, seconds=DURATION)["final_rewarded"] for s in SEEDS]
    theirs = [drn.run(seed=s, seconds=DURATION)["final_rewarded"] for s in SEEDS]
    p = tost_p(ours, theirs, MARGIN * dr.W_MAX)
    print(f"spikecore {np.round(ours, 3)}\nNEST      {np.round(theirs, 3)}\nTOST p = {p:.4f}")
    assert np.mean(ours) > 0.5                  # rewards made the synapse grow at all
    assert p < ALPHA, (ours, theirs, p)
