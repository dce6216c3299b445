"""Where plain Brian2 and the IR order or round things differently, and how backends/brian2.py bridges it.

Each test shows the raw Brian2 behaviour (a few lines of hand-written Brian2,
numpy target) next to the IR's, so the mapping's choices stay justified if
Brian2 changes:

* spike-source times off the grid: Brian2 floors (t/dt + 1e-3), the IR rounds to
  the nearest step -> the backend passes times already on the grid;
* refractory periods off the grid: Brian2 floors the period in steps
  (``timestep``), the IR rounds -> the backend passes round(t_ref/dt)*dt;
* ``PoissonGroup`` is Bernoulli, at most one spike per step -> not used: the IR's
  Poisson sources allow several (Brunel's 20 kHz drive is 2 per step);
* ``(unless refractory)`` also guards synaptic writes to v: delta inputs arriving
  while refractory are discarded, as the IR says (the backend still spells it out);
* the step order itself (state update, threshold, propagation, reset) is the same:
  an input arriving in the spike step is lost to the reset, in both.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

b2 = pytest.importorskip("brian2")

from spikecore import ir as _ir  # noqa: E402

DT = 0.1 * b2.ms


@contextlib.contextmanager
def numpy_target():
    old = b2.prefs["codegen.target"]
    b2.prefs["codegen.target"] = "numpy"
    try:
        yield b2.Clock(dt=DT)
    finally:
        b2.prefs["codegen.target"] = old


def test_spike_generator_floors_off_grid_times_the_ir_rounds():
    with numpy_target() as clock:
        gen = b2.SpikeGeneratorGroup(2, [0, 1], [3.06, 3.04] * b2.ms, clock=clock)
        mon = b2.SpikeMonitor(gen)
        b2.Network(gen, mon).run(5 * b2.ms, namespace={})
        brian_steps = dict(zip(mon.i[:].tolist(), np.rint(mon.t[:] / DT).astype(int).tolist()))
    assert brian_steps == {0: 30, 1: 30}
    assert [_ir.steps(t, 1e-4) for t in (3.06e-3, 3.04e-3)] == [31, 30]


def test_refractory_period_is_floored_by_brian2_rounded_by_the_ir():
    """A neuron forced to threshold every step fires every ref_steps steps."""
    with numpy_target() as clock:
        G = b2.NeuronGroup(1, "v : 1", threshold="True", refractory=2.06 * b2.ms, clock=clock)
        mon = b2.SpikeMonitor(G)
        b2.Network(G, mon).run(10 * b2.ms, namespace={})
        period = int(np.diff(np.rint(mon.t[:] / DT))[0])
    assert period == 20                       # Brian2: timestep(2.06 ms) = 20 steps
    assert _ir.steps(2.06e-3, 1e-4) == 21     # the IR (and backends/brian2.py) use 21


def test_poisson_group_is_bernoulli():
    with numpy_target() as clock:
        P = b2.PoissonGroup(200, rates=20 * b2.kHz, clock=clock)
        mon = b2.SpikeMonitor(P)
        b2.Network(P, mon).run(20 * b2.ms, namespace={})
        per_step = mon.num_spikes / (200 * 200)
    assert per_step == pytest.approx(1.0, abs=0.01)     # capped at one spike per step, not 2 on average


def test_unless_refractory_guards_synaptic_writes_and_reset_comes_last():
    """Both neurons are kicked over threshold at step 12. A delta input reaching neuron 0 while it is
    refractory (step 16) is dropped by Brian2 even with a plain 'v_post += w'; one reaching neuron 1
    in its spike step (12) is overwritten by the reset."""
    with numpy_target() as clock:
        G = b2.NeuronGroup(2, "dv/dt = -v/(20*ms) : volt (unless refractory)", threshold="v > 20*mV",
                           reset="v = 10*mV", refractory=2 * b2.ms, method="exact", clock=clock)
        gen = b2.SpikeGeneratorGroup(3, [0, 1, 2], [1.0, 1.5, 1.0] * b2.ms, clock=clock)
        kick = b2.Synapses(gen, G, on_pre="v_post += 30*mV", delay=0.1 * b2.ms, clock=clock)
        kick.connect(i=[0, 2], j=[0, 1])
        refractory_probe = b2.Synapses(gen, G, on_pre="v_post += 5*mV", delay=0.1 * b2.ms, clock=clock)
        refractory_probe.connect(i=[1], j=[0])
        same_step_probe = b2.Synapses(gen, G, on_pre="v_post += 5*mV", delay=0.2 * b2.ms, clock=clock)
        same_step_probe.connect(i=[2], j=[1])
        mon = b2.StateMonitor(G, "v", record=True, when="start", clock=clock)
        spikes = b2.SpikeMonitor(G)
        b2.Network(G, gen, kick, refractory_probe, same_step_probe, mon, spikes).run(4 * b2.ms, namespace={})
        v = mon.v_[:].T
        steps = dict(zip(spikes.i[:].tolist(), np.rint(spikes.t[:] / DT).astype(int).tolist()))
    assert steps == {0: 12, 1: 12}
    # refractory for steps 12..31: v holds v_reset through the start of step 32, both probes lost
    assert np.all(v[13:33] == 0.01)
    assert v[33, 0] == pytest.approx(0.01 * np.exp(-0.1 / 20), rel=1e-12)
