"""Triplet STDP (Pfister & Gerstner 2006, all-to-all): the closed form of a pre-post-post
triplet, the minimal parameter set, and identity with Brian2 (spikes, weights to 1e-12)."""
import math

import numpy as np
import pytest

import spikecore as sc
from spikecore.errors import ValidationError

from scenarios import LIF, pairs_network

DT = 1e-4
FULL = {"rule": "stdp_triplet", "A2_plus": "0.3 mV", "A3_plus": "0.4 mV", "A2_minus": "0.35 mV",
        "A3_minus": "0.1 mV", "w_min": "0.2 mV", "w_max": "3 mV"}
MINIMAL = {"rule": "stdp_triplet", "parameter_set": "minimal", "A3_plus": "0.5 mV", "A2_minus": "0.4 mV",
           "w_min": "0.2 mV", "w_max": "3 mV"}


def _two_neurons(pre_steps, teach_steps, plasticity, delay_steps=3):
    net = sc.Network(seed=1, dt="0.1 ms")
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in pre_steps]], name="pre"))
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in teach_steps]], name="teacher"))
    net.population("post", 1, "lif_delta", {**LIF, "t_refrac": "0 ms"}, initial={"v": "-70 mV"})
    net.project("teacher", "post", sc.OneToOne(), weight="40 mV", delay="0.1 ms", name="teach")
    net.project("pre", "post", sc.OneToOne(), weight="1 mV", delay=f"{delay_steps * 0.1} ms", name="syn",
                plasticity=plasticity)
    return net


def test_pre_post_post_triplet_closed_form():
    # pre arrives at 103; post spikes at 150 and 200; a later pre arrival at 303
    r = _two_neurons([100, 300], [148, 198], FULL).run("40 ms")
    assert np.rint(r.spikes["post"][0] / DT).astype(int).tolist() == [150, 200]
    tp, tx, tm, ty = 0.0168, 0.101, 0.0337, 0.125
    w = 1e-3
    w += math.exp(-47 * DT / tp) * (0.3e-3 + 0.4e-3 * 0.0)                     # first post: o2 = 0
    w += math.exp(-97 * DT / tp) * (0.3e-3 + 0.4e-3 * math.exp(-50 * DT / ty))  # second: o2 from the first
    o1 = math.exp(-153 * DT / tm) + math.exp(-103 * DT / tm)
    r2 = math.exp(-200 * DT / tx)
    w -= o1 * (0.35e-3 + 0.1e-3 * r2)
    assert r.weights["syn"]["final"][0] == pytest.approx(w, rel=1e-12)


def test_minimal_set_refuses_its_zero_amplitudes():
    with pytest.raises(ValidationError, match="plasticity.A2_plus"):
        _two_neurons([100], [148], {**MINIMAL, "A2_plus": "0.1 mV"})
    with pytest.raises(ValidationError, match="plasticity.tau_plus_triplet"):
        _two_neurons([100], [148], {**FULL, "tau_plus_triplet": "0 ms"})


@pytest.mark.parametrize("rule", [FULL, MINIMAL], ids=["full", "minimal"])
def test_identical_to_brian2(rule):
    pytest.importorskip("brian2")
    rn = pairs_network(rule).run("0.2 s")
    rb = pairs_network(rule).run("0.2 s", backend="brian2", target="numpy")
    np.testing.assert_array_equal(rn.spikes["post"][1], rb.spikes["post"][1])
    np.testing.assert_array_equal(np.rint(rn.spikes["post"][0] / DT), np.rint(rb.spikes["post"][0] / DT))
    w = rn.weights["plastic"]["final"]
    np.testing.assert_allclose(w, rb.weights["plastic"]["final"], rtol=1e-12, atol=0)
    assert np.isclose(w, 3e-3, rtol=1e-12).any()


def test_thread_count_changes_nothing():
    runs = [pairs_network(FULL).run("0.2 s", threads=t) for t in (1, 3)]
    np.testing.assert_array_equal(runs[0].weights["plastic"]["final"], runs[1].weights["plastic"]["final"])
