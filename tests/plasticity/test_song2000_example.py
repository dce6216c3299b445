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


EQ_EXAMPLE = EXAMPLE.with_name("stdp_song2000_eq.yaml")
DT = 1e-4


def _song_eq(duration: float, seed: int = 7):
    """examples/stdp_song2000_eq.yaml with its Poisson input replaced by fixed Poisson trains
    (15 Hz, at most one spike per step and input), so both engines see the same spikes."""
    import spikecore as sc
    from spikecore import units
    net = load_network(EQ_EXAMPLE)
    hits = np.random.default_rng(seed).random((int(round(duration / DT)), 1000)) < 15 * DT
    steps, idx = np.nonzero(hits)
    net.sources["inputs"] = sc.SpikeSource(times=steps * 0.1 * units.ms, indices=idx, size=1000, name="inputs")
    return net


def _assert_same_run(rn, rb):
    tn, tb = rn.spikes["neuron"][0], rb.spikes["neuron"][0]
    assert tn.size > 20
    np.testing.assert_array_equal(np.rint(tn / DT), np.rint(tb / DT))
    wn, wb = rn.weights["stdp"]["final"], rb.weights["stdp"]["final"]
    assert not np.allclose(wn, _song_eq(0.1).to_ir().projections["stdp"].weight)   # it learnt
    np.testing.assert_allclose(wn, wb, rtol=1e-12, atol=0)
    np.testing.assert_allclose(rn.weights["stdp"]["w"], rb.weights["stdp"]["w"], rtol=1e-12, atol=0)


def test_equation_neuron_identical_to_brian2():
    """The Song neuron as Brian2's script writes it (forward Euler, dimensionless ge) with the same
    Poisson trains: native and Brian2 give the same spikes and the same weights (1e-12 relative)."""
    pytest.importorskip("brian2")
    rn = _song_eq(1.0).run("1 s")
    rb = _song_eq(1.0).run("1 s", backend="brian2", target="numpy")
    _assert_same_run(rn, rb)


@pytest.mark.slow
def test_equation_neuron_identical_to_brian2_standalone():
    pytest.importorskip("brian2")
    rn = _song_eq(2.0).run("2 s")
    rb = _song_eq(2.0).run("2 s", backend="brian2", device="cpp_standalone")
    _assert_same_run(rn, rb)


def test_brian2_replays_a_poisson_source_that_drives_a_plastic_projection():
    """Brian2's draw mode folds a Poisson source into its targets, where no synapse can learn:
    a source with a plastic projection is replayed (here refused for its multiple spikes in a
    step), and poisson=draw is refused, instead of a run whose weights silently stay put."""
    pytest.importorskip("brian2")
    from spikecore.errors import UnsupportedFeature
    net = load_network(EQ_EXAMPLE)
    for poisson in ("auto", "draw"):
        with pytest.raises(UnsupportedFeature, match="draw|more than once in a step"):
            net.run("0.3 s", backend="brian2", target="numpy", poisson=poisson)
