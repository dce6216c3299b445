"""examples/stdp_song2000.yaml (Brian2's examples/synapses/STDP.py, Song, Miller & Abbott 2000)."""
from pathlib import Path

import numpy as np
import pytest

from spikecore.io import load_network

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "stdp_song2000.yaml"
G_MAX = 0.1e-9


def test_short_run_learns_and_monitors():
    net = load_network(EXAMPLE)
    w_max = net.to_ir().projections["stdp"].plasticity["w_max"]
    assert w_max == pytest.approx(G_MAX)
    r = net.run("2 s")
    entry = r.weights["stdp"]
    assert entry["final"].shape == (1000,) and entry["w"].shape == (2, 1000)
    assert 0 <= entry["final"].min() and entry["final"].max() <= w_max
    assert not np.array_equal(entry["w"][0], entry["final"])
    assert r.spikes["neuron"][0].size > 10


@pytest.mark.slow
def test_weights_become_bimodal():
    """After 100 s, weights gather at both bounds (Song et al. 2000, fig. 2; Brian2's example)."""
    w = load_network(EXAMPLE).run("100 s").weights["stdp"]["final"] / G_MAX
    near0, near_max, middle = np.mean(w < 0.1), np.mean(w > 0.9), np.mean((w > 0.3) & (w < 0.7))
    assert near0 > 0.15 and near_max > 0.1 and middle < 0.3, (near0, near_max, middle)
