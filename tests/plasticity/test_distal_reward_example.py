"""examples/distal_reward.py (Izhikevich 2007): rewards follow the chosen coincidence and
the rewarded synapse grows from 0 while the other excitatory weights stay near their start."""
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def distal_reward():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import distal_reward
    finally:
        sys.path.remove(str(EXAMPLES))
    return distal_reward


def test_wiring_is_izhikevichs(distal_reward):
    post_e, post_i, k, n2 = distal_reward.connectivity(1)
    assert post_e.shape == (800, 100) and post_i.shape == (200, 100)
    assert post_i.max() < 800 and post_e.max() >= 800          # inhibitory onto excitatory only
    assert post_e[0, k] == n2 and 0 < n2 < 800


def test_short_run_rewards_the_chosen_synapse(distal_reward, monkeypatch):
    # stronger noise (about 2.6 Hz instead of 1 Hz): chance coincidences, hence rewards, within 20 s
    monkeypatch.setattr(distal_reward, "NOISE_MV", 2.65)
    out = distal_reward.run(seed=1, seconds=20.0)
    assert 1 <= out["rewards"].size <= out["coincidences"]
    assert 0.5 < out["rate_exc"] < 10 and 0.5 < out["rate_inh"] < 20
    # from 0 mV: every reward converts the pairing's eligibility into weight
    assert out["final_rewarded"] > 0.3
    assert out["w_rewarded"][0] == 0.0 and (np.diff(out["w_rewarded"]) >= -0.05).all()
    assert 0.7 < out["others"].mean() < 1.05 and (out["others"] < distal_reward.W_MAX).all()


def test_without_rewards_the_synapse_stays_small(distal_reward, monkeypatch):
    monkeypatch.setattr(distal_reward, "NOISE_MV", 2.65)
    monkeypatch.setattr(distal_reward, "REWARD_DELAY_S", (1e6, 1e6 + 1))    # never due
    out = distal_reward.run(seed=1, seconds=20.0)
    assert out["rewards"].size == 0 and out["final_rewarded"] < 0.3
