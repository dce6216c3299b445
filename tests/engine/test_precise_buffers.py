"""The precise kernel's growable buffers (pc_buf, _precise_replay.h) growing inside one step.

The spike output, the events of the neurons replayed in a step and the Poisson scratch
arrays start with room for about a thousand entries; these networks need several times
that in a single step, so each buffer grows while the step's data sits in it.
"""
from __future__ import annotations

import numpy as np

from spikecore.engine.precise import PreciseSimulator
from spikecore.network import AllToAll, FromIndices, Network, PoissonSource, Population, Projection, SpikeSource

N_SYNCHRONOUS = 3000


def test_thousands_of_neurons_spiking_in_one_step_all_keep_their_exact_time():
    """One spike-source spike at 1.05 ms reaches every neuron 1 ms later as a 30 mV jump from
    rest, 10 mV above threshold: each of them spikes once, at exactly 2.05 ms, all inside one
    step (3000 replayed neurons, 3000 events and 3000 spikes before the step ends)."""
    net = Network(seed=1, dt="0.1 ms")
    net.add(Population(N_SYNCHRONOUS, "lif_delta", {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV",
                                                    "v_reset": "-70 mV", "t_refrac": "2 ms", "r": "100 Mohm"},
                       initial={"v": "-70 mV"}, name="p"))
    net.add(SpikeSource(spike_times=[["1.05 ms"]], name="s"))
    net.add(Projection("s", "p", AllToAll(), weight="30 mV", delay="1 ms", name="sp"))
    t, i = PreciseSimulator(net.to_ir(timing="precise")).run(0.005).spikes["p"]
    assert np.array_equal(np.sort(i), np.arange(N_SYNCHRONOUS))
    assert np.allclose(t, 2.05e-3, rtol=0, atol=1e-15)


def _poisson_fan_in(stop):
    """4000 Poisson sources at 10 kHz (about 4000 spikes per step of 0.1 ms), 20 onto each
    of 200 lif_delta neurons."""
    net = Network(seed=7, dt="0.1 ms")
    net.add(Population(200, "lif_delta", {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV",
                                          "v_reset": "-65 mV", "t_refrac": "2 ms", "r": "100 Mohm"},
                       initial={"v": "-70 mV"}, name="p"))
    net.add(PoissonSource(4000, "10 kHz", name="noise", **({} if stop is None else {"stop": stop})))
    net.add(Projection("noise", "p", FromIndices(np.arange(4000), np.repeat(np.arange(200), 20)),
                       weight="0.12 mV", delay="0.1 ms", name="np"))
    return net


def test_poisson_scratch_grows_within_a_step_and_both_poisson_paths_agree():
    """A window that never closes sends the sources through the laid-out path, whose scratch
    arrays must hold some 4000 spikes of one step; its spikes equal the one-pass path's."""
    out = []
    for stop in (None, "1000 s"):
        sim = PreciseSimulator(_poisson_fan_in(stop).to_ir(timing="precise"))
        assert sim.kernel.pois_windowed == (stop is not None)
        assert int(sim.kernel.poisson_counts(0).sum()) > 2000
        out.append(sim.run(0.05).spikes["p"])
    (t0, i0), (t1, i1) = out
    assert t0.size > 100
    assert np.array_equal(i0, i1) and np.array_equal(t0, t1)
