"""Precise-timing mode of the native engine (spikecore.engine.precise, issue 8).

Every expected value is computed here from the model's closed-form solution
(spikecore.models), found by scipy's brentq on that solution, or produced by NEST's
iaf_psc_delta_ps / iaf_psc_exp_ps on the same realised network.

Why this file is over 800 lines: it is the precise kernel's one behaviour suite (exact
crossings, delays, refractoriness, currents, Poisson replay, the fast path's bounds and
its memory placement), and its fixtures (the reference solutions, the NEST runs) serve
all of them.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from backends import get_backend
from benchmarks.precise import recurrent_network
from spikecore.engine.precise import PreciseSimulator, split_delays, split_times
from spikecore.models.lif_cuba import synaptic_kernel
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.network import (CurrentSource, FromIndices, Network, OneToOne, PoissonSource, Population,
                               Projection, SpikeSource, StateMonitor, Uniform)
from spikecore import ir as _ir
from spikecore import units
from spikecore.result import Result

MS = 1e-3
MV = 1e-3
NATIVE = get_backend("native")

TAU_M, V_LEAK, V_TH, V_RESET, R = 20e-3, -70e-3, -50e-3, -65e-3, 1e8


def lif_params(model, t_ref="2 ms", **extra):
    p = {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV",
         "t_refrac": t_ref, "r": "100 Mohm"}
    if model == "lif_cuba":
        p["tau_syn"] = {"exc": "2 ms", "inh": "5 ms"}
    p.update(extra)
    return p


def run(net, duration, timing, dt=None):
    g = net.to_ir(dt=None if dt is None else f"{dt!r} s", timing=timing)
    return NATIVE.compile(g, timing=timing).run(duration)


# ----------------------------------------------------------------------------- closed forms
def constant_current_train(i_amp, t_ref, n):
    """Spike times of a LIF from v_leak under constant current (no synaptic input)."""
    v_inf = V_LEAK + R * i_amp
    first = TAU_M * math.log((v_inf - V_LEAK) / (v_inf - V_TH))
    isi = t_ref + TAU_M * math.log((v_inf - V_RESET) / (v_inf - V_TH))
    return first + isi * np.arange(n)


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
@pytest.mark.parametrize("dt_ms", [0.01, 0.1, 0.25, 1.0])
def test_constant_current_matches_closed_form(model, dt_ms):
    dt = dt_ms * MS
    net = Network(seed=0, dt=f"{dt!r} s")
    net.add(Population(1, model, lif_params(model), name="n"))
    net.add(CurrentSource("n", amplitude="250 pA", name="i"))
    duration = 0.2
    precise = run(net, duration, "precise").spikes["n"][0]
    exact = constant_current_train(250e-12, 2e-3, precise.size)
    assert exact[-1] < duration and exact[-1] + (exact[1] - exact[0]) > duration  # all of them
    assert np.max(np.abs(precise - exact)) < 1e-9 * MS

    # grid mode reports the step in which v crossed: the first spike early by less than dt
    grid = run(net, duration, "grid").spikes["n"][0]
    err = exact[0] - grid[0]
    assert 0 <= err < dt
    assert np.allclose(grid / dt, np.rint(grid / dt))


def test_grid_mode_errs_by_up_to_one_dt_and_precise_does_not_depend_on_dt():
    firsts = {}
    for dt_ms in (0.01, 0.1, 1.0):
        net = Network(seed=0, dt=f"{dt_ms} ms")
        net.add(Population(1, "lif_delta", lif_params("lif_delta"), name="n"))
        net.add(CurrentSource("n", amplitude="250 pA", name="i"))
        firsts[dt_ms] = (run(net, 0.05, "grid").spikes["n"][0][0], run(net, 0.05, "precise").spikes["n"][0][0])
    exact = constant_current_train(250e-12, 2e-3, 1)[0]
    errors = {dt: exact - g for dt, (g, _) in firsts.items()}
    assert errors[1.0] > 0.1 * MS          # not trivially on the grid
    assert all(0 <= e < dt * MS for dt, e in errors.items())
    assert all(abs(p - exact) < 1e-12 for _, p in firsts.values())


def test_refractory_period_off_the_grid():
    t_ref = 1.2345e-3
    net = Network(seed=0, dt="0.1 ms")
    net.add(Population(1, "lif_cuba", lif_params("lif_cuba", t_ref=f"{t_ref!r} s"), name="n"))
    net.add(CurrentSource("n", amplitude="300 pA", name="i"))
    t = run(net, 0.2, "precise").spikes["n"][0]
    exact = constant_current_train(300e-12, t_ref, t.size)
    assert t.size > 5
    assert np.max(np.abs(t - exact)) < 1e-9 * MS


def test_current_step_takes_effect_at_its_exact_time():
    t_on = 10.03333e-3
    net = Network(seed=0, dt="0.5 ms")
    net.add(Population(1, "lif_delta", lif_params("lif_delta"), name="n"))
    net.add(CurrentSource("n", steps=[("0 ms", "0 pA"), (f"{t_on!r} s", "250 pA")], name="i"))
    t = run(net, 0.1, "precise").spikes["n"][0]
    exact = t_on + constant_current_train(250e-12, 2e-3, t.size)
    assert np.max(np.abs(t - exact)) < 1e-9 * MS


@pytest.mark.parametrize("receptors", ["sign-pure", "mixed"])
def test_current_step_takes_effect_at_its_exact_time_cuba(receptors):
    """As for lif_delta, through both cuba fast paths: receptors that are sign-pure (Dale's
    law; the kernel bounds positive input from the receptor sums) and a receptor that gets
    weights of both signs (from a source that only spikes after the checked window)."""
    t_on = 10.03333e-3
    net = Network(seed=0, dt="0.5 ms")
    net.add(Population(1, "lif_cuba", lif_params("lif_cuba"), name="n"))
    net.add(CurrentSource("n", steps=[("0 ms", "0 pA"), (f"{t_on!r} s", "250 pA")], name="i"))
    if receptors == "mixed":
        net.add(SpikeSource(spike_times=[["95 ms"], ["95 ms"]], name="late"))
        net.add(Projection("late", "n", FromIndices([0, 1], [0, 0]), weight=["1 mV", "-1 mV"],
                           delay="1 ms", receptor="exc", name="pm"))
    t = run(net, 0.09, "precise").spikes["n"][0]
    exact = t_on + constant_current_train(250e-12, 2e-3, t.size)
    assert t.size >= 2
    assert np.max(np.abs(t - exact)) < 1e-9 * MS


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
def test_current_step_during_refractory_period_takes_effect(model):
    """A change of current inside a step in which the neuron is clamped all step holds
    from then on: the next interspike interval follows the new current."""
    first = constant_current_train(250e-12, 2e-3, 1)[0]            # 32.19 ms; clamped until 34.19 ms
    t_change = 33.0537e-3                                          # inside a step wholly in that period
    net = Network(seed=0, dt="0.1 ms")
    net.add(Population(1, model, lif_params(model), name="n"))
    net.add(CurrentSource("n", steps=[("0 ms", "250 pA"), (f"{t_change!r} s", "300 pA")], name="i"))
    t = run(net, 0.06, "precise").spikes["n"][0]
    v_inf = V_LEAK + R * 300e-12
    second = first + 2e-3 + TAU_M * math.log((v_inf - V_RESET) / (v_inf - V_TH))
    assert t.size >= 2
    assert abs(t[0] - first) < 1e-9 * MS and abs(t[1] - second) < 1e-9 * MS


# ----------------------------------------------------------------------------- one input spike
def one_input(model, weight, t_in, delay, dt="0.1 ms"):
    net = Network(seed=0, dt=dt)
    net.add(Population(1, model, lif_params(model), name="n"))
    net.add(SpikeSource(spike_times=[[f"{t_in!r} s"]], name="src"))
    net.add(Projection("src", "n", OneToOne(), weight=weight, delay=f"{delay!r} s",
                       receptor="exc" if model == "lif_cuba" else None, name="p"))
    net.add(StateMonitor("n", ("v",), name="vm"))
    return net


def test_psp_of_an_off_grid_spike_cuba():
    t_in, delay, w = 3.21234e-3, 1.0567e-3, 8e-3
    res = run(one_input("lif_cuba", f"{w!r} V", t_in, delay), 0.03, "precise")
    times = res.traces["vm"]["times"]
    v = res.traces["vm"]["variables"]["v"][:, 0]
    t_arr = t_in + delay
    expected = V_LEAK + np.where(times > t_arr, w * synaptic_kernel(np.maximum(times - t_arr, 0), TAU_M, 2e-3), 0.0)
    assert np.max(np.abs(v - expected)) < 1e-12
    assert res.spikes["n"][0].size == 0        # 8 mV of drive stays below the 20 mV gap


def test_output_spike_time_of_an_off_grid_input_cuba():
    t_in, delay, w = 3.21234e-3, 1.0567e-3, 300e-3
    t_arr = t_in + delay

    def v(t):
        return V_LEAK + w * synaptic_kernel(t - t_arr, TAU_M, 2e-3)
    t_peak = TAU_M * 2e-3 / (2e-3 - TAU_M) * math.log(2e-3 / TAU_M)
    assert v(t_arr + t_peak) > V_TH
    exact = brentq(lambda t: v(t) - V_TH, t_arr, t_arr + t_peak, xtol=1e-18, rtol=1e-15)
    for dt in ("0.1 ms", "1 ms"):
        t = run(one_input("lif_cuba", f"{w!r} V", t_in, delay, dt=dt), 0.03, "precise").spikes["n"][0]
        assert t.size == 1
        assert abs(t[0] - exact) < 1e-9 * MS


def test_psp_and_spike_of_an_off_grid_input_delta():
    t_in, delay = 3.21234e-3, 1.0567e-3
    t_arr = t_in + delay
    res = run(one_input("lif_delta", "5 mV", t_in, delay), 0.03, "precise")
    times = res.traces["vm"]["times"]
    v = res.traces["vm"]["variables"]["v"][:, 0]
    expected = V_LEAK + np.where(times > t_arr, 5e-3 * np.exp(-(times - t_arr) / TAU_M), 0.0)
    assert np.max(np.abs(v - expected)) < 1e-12
    # a jump across threshold fires at the arrival time itself
    t = run(one_input("lif_delta", "25 mV", t_in, delay), 0.03, "precise").spikes["n"][0]
    assert t.size == 1 and abs(t[0] - t_arr) < 1e-12


@pytest.mark.parametrize("k", [6, 12, 27, 40], ids=["rank-sorted-8", "rank-sorted-16", "rank-sorted-32",
                                           "insertion-sorted"])
def test_many_inputs_within_one_step_apply_in_time_order(k):
    """k inputs of both signs arrive inside one step in shuffled order (a replayed neuron
    sorts up to RANK_SORT_MAX = 32 events by rank counting, in three sizes, more by
    insertion): the output spike follows them in time order, two of them at the same instant."""
    rng = np.random.default_rng(k)
    t = 5e-3 + rng.uniform(0.0, 1e-4, k)              # inside one 0.1 ms step
    t[1] = t[0]                                          # simultaneous pair
    w = np.where(rng.random(k) < 0.75, 1.0, -0.6) * rng.uniform(0.5, 1.0, k)
    w *= 30.0 / np.sum(np.maximum(w, 0))                 # 30 mV of excitation in all
    order = rng.permutation(k)
    net = Network(seed=0, dt="0.1 ms")
    net.add(Population(1, "lif_delta", lif_params("lif_delta", v_leak="-66 mV"), name="n"))
    net.add(SpikeSource(spike_times=[[f"{t[i]!r} s"] for i in order], name="src"))
    net.add(Projection("src", "n", FromIndices(np.arange(k), np.zeros(k, dtype=int)),
                       weight=[f"{w[i]!r} mV" for i in order], delay="1 ms", name="p"))
    res = run(net, 0.01, "precise")
    # the exact solution: decay between distinct instants, all inputs of an instant, then the check
    v, tp, fired = -66e-3, 0.0, None
    for ti in np.unique(t):
        v = -66e-3 + (v + 66e-3) * math.exp(-(ti - tp) / TAU_M)
        v += 1e-3 * w[t == ti].sum()
        tp = ti
        if v >= V_TH:
            fired = ti + 1e-3
            break
    # threshold is reached part-way through the inputs, so their order decides when
    assert fired is not None and tp < t.max()
    spikes = res.spikes["n"][0]
    assert spikes.size == 1 and abs(spikes[0] - fired) < 1e-12


def test_crossing_that_returns_below_threshold_within_a_step_is_found():
    """v peaks above threshold and falls back between two grid points of a coarse step:
    checking v only at the end of steps or events (iaf_psc_exp_ps) would miss it."""
    tau_s, dt = 0.5e-3, 5e-3
    t_arr = 1.2e-3 + 5e-3

    def v(t, w):
        return V_LEAK + w * synaptic_kernel(t - t_arr, TAU_M, tau_s)
    t_peak = TAU_M * tau_s / (tau_s - TAU_M) * math.log(tau_s / TAU_M)
    peak_gain = float(synaptic_kernel(t_peak, TAU_M, tau_s))
    w = (V_TH - V_LEAK) / peak_gain * (1 + 1e-6)          # peak 20 nV above threshold
    assert v(10e-3, w) < V_TH                             # below at the next grid point
    exact = brentq(lambda t: v(t, w) - V_TH, t_arr, t_arr + t_peak, xtol=1e-18, rtol=1e-15)
    net = Network(seed=0, dt=f"{dt!r} s")
    params = lif_params("lif_cuba")
    params["tau_syn"] = {"exc": f"{tau_s!r} s"}
    net.add(Population(1, "lif_cuba", params, name="n"))
    net.add(SpikeSource(spike_times=[["1.2 ms"]], name="src"))
    net.add(Projection("src", "n", OneToOne(), weight=f"{w!r} V", delay="5 ms", receptor="exc", name="p"))
    t = run(net, 0.05, "precise").spikes["n"][0]
    assert t.size == 1
    # the crossing is tangent-like (slope ~ sqrt of the overshoot): time error ~ v error / slope
    assert abs(t[0] - exact) < 1e-6 * MS
    assert run(net, 0.05, "grid").spikes["n"][0].size == 0   # grid mode, sampling at 5 ms, misses it


def test_chain_with_off_grid_delays_fires_at_exact_sums():
    t0, d1, d2 = 2.7183e-3, 1.2345e-3, 0.77777e-3
    net = Network(seed=0, dt="0.1 ms")
    net.add(Population(2, "lif_delta", lif_params("lif_delta"), name="n"))
    net.add(SpikeSource(spike_times=[[f"{t0!r} s"]], name="src"))
    net.add(Projection("src", "n", FromIndices([0], [0]), weight="25 mV", delay=f"{d1!r} s", name="a"))
    net.add(Projection("n", "n", FromIndices([0], [1]), weight="25 mV", delay=f"{d2!r} s", name="b"))
    res = run(net, 0.02, "precise")
    t, i = res.spikes["n"]
    assert list(i) == [0, 1]
    assert abs(t[0] - (t0 + d1)) < 1e-12 and abs(t[1] - (t0 + d1 + d2)) < 1e-12
    steps = res.spike_steps["n"]
    assert list(steps) == [math.ceil((t0 + d1) / 1e-4) - 1, math.ceil((t0 + d1 + d2) / 1e-4) - 1]


def test_inputs_during_refractory_period_are_discarded_by_delta_neurons():
    net = Network(seed=0, dt="0.1 ms")
    net.add(Population(1, "lif_delta", lif_params("lif_delta", t_ref="5 ms"), name="n"))
    # 1 ms: fires; 3.05 ms: discarded (refractory until 6 ms); 6 ms: the period has ended
    # at that instant, so the input counts (NEST's order) and fires again
    net.add(SpikeSource(spike_times=[["1 ms", "3.05 ms", "6 ms"]], name="src"))
    net.add(Projection("src", "n", OneToOne(), weight="30 mV", delay="0.5 ms", name="p"))
    t = run(net, 0.02, "precise").spikes["n"][0]
    assert np.allclose(t, [1.5e-3, 6.5e-3], atol=1e-12)


def delta_with_inputs(t_ref, delay, inputs):
    """One lif_delta neuron, its inputs [(spike time s, weight mV)] through one delay."""
    net = Network(seed=0, dt="0.1 ms")
    net.add(Population(1, "lif_delta", lif_params("lif_delta", t_ref=f"{t_ref!r} s"), name="n"))
    net.add(SpikeSource(spike_times=[[f"{t!r} s"] for t, _ in inputs], name="src"))
    k = len(inputs)
    net.add(Projection("src", "n", FromIndices(np.arange(k), np.zeros(k, dtype=int)),
                       weight=[f"{w!r} mV" for _, w in inputs], delay=f"{delay!r} s", name="p"))
    net.add(StateMonitor("n", ("v",), name="vm"))
    return run(net, 0.006, "precise")


@pytest.mark.parametrize("late", [2.0, 18.0], ids=["stays-below", "fires-after-the-end"])
def test_refractory_period_ending_inside_a_step_with_inputs_around_its_end(late):
    """A delta neuron's refractory period ends inside a step (t_ref off the grid) in which
    inputs arrive before the end (discarded) and after it. Below threshold, the replay
    takes the closed form from v_reset (no walk through the events); v at later steps
    follows the analytic solution. With a large enough input after the end, it fires at
    that input instead."""
    t_ref, delay = 2.03456e-3, 0.5e-3
    t_fire = 1.0e-3 + delay                              # 30 mV at 1 ms: fires on arrival
    t_end = t_fire + t_ref                               # 3.53456 ms, inside step 35
    before, after = t_end - 0.02e-3, t_end + 0.03e-3
    res = delta_with_inputs(t_ref, delay, [(1.0e-3, 30.0), (before - delay, 4.0), (after - delay, late)])
    t = res.spikes["n"][0]
    if late < 15.0:                                      # v_reset + the jump stays below v_th
        assert np.allclose(t, [t_fire], rtol=0, atol=1e-15)
        times = res.traces["vm"]["times"]
        v = res.traces["vm"]["variables"]["v"][:, 0]
        sel = times >= 3.6e-3
        expected = (V_LEAK + (V_RESET - V_LEAK) * np.exp(-(times[sel] - t_end) / TAU_M)
                    + late * 1e-3 * np.exp(-(times[sel] - after) / TAU_M))
        assert np.max(np.abs(v[sel] - expected)) < 1e-12
    else:
        assert np.allclose(t, [t_fire, after], rtol=0, atol=1e-15)


def test_input_at_the_end_of_a_refractory_period_applies():
    """On the grid: the period ends at 3.5 ms, the end of a step; an input arriving at 3.45
    ms is discarded, one arriving at 3.5 ms itself applies (the period ends first, NEST's
    order), in the closed form of the replay as in its walk."""
    res = delta_with_inputs(2e-3, 0.5e-3, [(1e-3, 30.0), (2.95e-3, 4.0), (3e-3, 3.0)])
    assert np.allclose(res.spikes["n"][0], [1.5e-3], rtol=0, atol=1e-15)
    times = res.traces["vm"]["times"]
    v = res.traces["vm"]["variables"]["v"][:, 0]
    sel = times >= 3.5e-3
    expected = V_LEAK + (V_RESET - V_LEAK + 3e-3) * np.exp(-(times[sel] - 3.5e-3) / TAU_M)
    assert np.max(np.abs(v[sel] - expected)) < 1e-12


# ----------------------------------------------------------------------------- Poisson input
def test_poisson_spikes_keep_grid_counts_at_exact_offsets():
    """Every Poisson spike of the grid stream's counts reaches its target at its own time."""
    net = Network(seed=3, dt="0.1 ms")
    net.add(Population(20, "lif_delta", lif_params("lif_delta", t_ref="0 ms", v_reset="-70 mV"), name="n"))
    net.add(PoissonSource(20, "300 Hz", name="ext"))
    net.add(Projection("ext", "n", OneToOne(), weight="25 mV", delay="0.1 ms", name="p"))
    g = net.to_ir(timing="precise")
    res = NATIVE.compile(g, timing="precise").run(0.1)
    t, i = res.spikes["n"]
    from spikecore import ir as _ir
    counts = _ir.poisson_counts(g.poisson_sources["ext"], 1e-4, 0, 999)
    steps = res.spike_steps["n"]
    # a Poisson spike of step n (offset u) arrives one step later at the same offset
    got = np.zeros_like(counts, dtype=np.int64)
    np.add.at(got, (steps - 1, i), 1)
    assert np.array_equal(got, counts)
    assert (np.diff(t) >= 0).all() and np.unique(t).size == t.size


def test_kernel_poisson_counts_equal_numpy_definition():
    """The kernel draws the counts in C (_poisson_stream.h, the grid engine's code): the same
    numbers as spikecore.ir.poisson_counts with the windows open (the kernel applies them at
    exact times), for shared tables (short and long), per-neuron tables (rate 0, long tables)
    and steps far into a run."""
    net = Network(seed=4, dt="0.1 ms")
    net.add(Population(3, "lif_delta", lif_params("lif_delta"), name="n"))
    net.add(PoissonSource(300, "20 kHz", name="a"))
    net.add(PoissonSource(8, np.array([0.0, 5.0, 1e3, 2e4, 1e6, 3e6, 2e4, 7.0]) * units.Hz, start="0.35 ms",
                          stop="1.05 ms", name="b"))
    net.add(PoissonSource(70, "1.5 MHz", name="c"))          # shared table of > 64 entries
    for name, size in (("a", 300), ("b", 8), ("c", 70)):
        net.add(Projection(name, "n", FromIndices([0, size - 1], [0, 2]), weight="0.1 mV", delay="1 ms",
                           name=f"p{name}"))
    g = net.to_ir(timing="precise")
    sim = PreciseSimulator(g)
    nodes = [dataclasses.replace(g.poisson_sources[s], start=0.0, stop=float("inf")) for s in ("a", "b", "c")]
    assert g.poisson_sources["b"].rates.max() == 3e6
    for n0 in (0, 987_654_321):
        ref = np.concatenate([_ir.poisson_counts(node, 1e-4, n0, 12) for node in nodes], axis=1)
        got = np.stack([sim.kernel.poisson_counts(n0 + n) for n in range(12)])
        assert got.dtype == np.uint16 and got.shape == ref.shape
        assert np.array_equal(got, ref)
        assert ref[:, 308].min() > 100 and ref[:, 300].max() == 0 and ref[:, 304].min() > 50


def mixed_poisson_net(stop, dt="0.1 ms", tau_syn=None):
    """Recurrent lif_delta and lif_cuba neurons driven by Poisson sources of every kind the
    kernel tells apart: one-to-one onto lif_delta (~3 spikes per step, often more than 4),
    fan-out, onto lif_cuba, and through an off-grid delay."""
    rng = np.random.default_rng(8)
    net = Network(seed=8, dt=dt)
    net.add(Population(60, "lif_delta", lif_params("lif_delta", v_leak="-58 mV"), name="d",
                       initial={"v": Uniform("-70 mV", "-51 mV")}))
    cuba = lif_params("lif_cuba") if tau_syn is None else lif_params("lif_cuba", tau_syn=tau_syn)
    net.add(Population(20, "lif_cuba", cuba, name="c",
                       initial={"v": Uniform("-70 mV", "-51 mV")}))
    win = {} if stop is None else {"stop": stop}
    net.add(PoissonSource(60, "30 kHz", name="one", **win))
    net.add(PoissonSource(10, "2 kHz", name="fan", **win))
    net.add(PoissonSource(20, "5 kHz", name="cub", **win))
    net.add(PoissonSource(60, "10 kHz", name="inh", **win))
    net.add(Projection("one", "d", OneToOne(), weight="0.4 mV", delay="0.1 ms", name="p_one"))
    net.add(Projection("inh", "d", OneToOne(), weight="-0.3 mV", delay="0.1 ms", name="p_inh"))
    net.add(Projection("fan", "d", FromIndices(np.repeat(np.arange(10), 3), rng.permutation(60)[:30]),
                       weight="1.5 mV", delay="0.1 ms", name="p_fan"))
    net.add(Projection("fan", "c", FromIndices(np.arange(10), np.arange(10)), weight="2 mV", delay="0.23 ms",
                       receptor="exc", name="p_fanc"))
    net.add(Projection("cub", "c", OneToOne(), weight="3 mV", delay="0.1 ms", receptor="exc", name="p_cub"))
    pre, post = np.nonzero(rng.random((60, 60)) < 0.1)
    w = np.where(rng.random(pre.size) < 0.8, 0.5, -1.0)          # groups of both signs
    net.add(Projection("d", "d", FromIndices(pre, post), weight=[f"{x!r} mV" for x in w], delay="1.5 ms",
                       name="rec"))
    net.add(Projection("d", "c", FromIndices(np.arange(20), np.arange(20)), weight="-1 mV", delay="1 ms",
                       receptor="inh", name="dc"))
    return net


@pytest.mark.parametrize("dt, tau_syn, poly", [("0.01 ms", None, 5), ("0.1 ms", None, 8),
                                               ("0.1 ms", {"exc": "1.5 ms", "inh": "5 ms"}, 0)],
                         ids=["degree-5", "degree-8", "table"])
def test_poisson_one_pass_path_equals_the_windowed_path_bit_for_bit(dt, tau_syn, poly):
    """Unwindowed sources take pc_poisson_direct (offsets, factors and sums in one pass); a
    window that never closes sends the same sources through the general path (laid-out
    spikes, _scatter). Both must compute the same numbers in the same order, with each of
    the exp evaluations that dt/tau selects for the spikes' factors."""
    out = []
    for stop in (None, "1000 s"):
        g = mixed_poisson_net(stop, dt, tau_syn).to_ir(timing="precise")
        sim = PreciseSimulator(g)
        assert sim.kernel.pois_windowed == (stop is not None)
        assert sim.kernel.pois_poly == poly
        out.append(sim.run(0.2))
    for pop in ("d", "c"):
        (t0, i0), (t1, i1) = out[0].spikes[pop], out[1].spikes[pop]
        assert t0.size > 50
        assert np.array_equal(i0, i1) and np.array_equal(t0, t1)


def poisson_relay(dt, delay, start=None, stop=None, fan_out=1, rate="300 Hz", seed=3):
    """Poisson neurons each driving ``fan_out`` lif_delta neurons that fire at every input
    (25 mV from rest, no refractory period): output times = input times + delay."""
    net = Network(seed=seed, dt=dt)
    net.add(Population(4 * fan_out, "lif_delta", lif_params("lif_delta", t_ref="0 ms", v_reset="-70 mV"),
                       name="n"))
    net.add(PoissonSource(4, rate, start=start, stop=stop, name="ext"))
    pre = np.repeat(np.arange(4), fan_out)
    net.add(Projection("ext", "n", FromIndices(pre, np.arange(4 * fan_out)), weight="25 mV",
                       delay=f"{delay!r} s", name="p"))
    g = net.to_ir(timing="precise")
    return g, NATIVE.compile(g, timing="precise").run(0.2)


def input_steps(t_out, delay, dt):
    """Step n of each input time t_out - delay in (n*dt, (n+1)*dt]."""
    return np.ceil((t_out - delay) / dt - 1e-6).astype(np.int64) - 1


@pytest.mark.parametrize("fan_out", [1, 3])
def test_poisson_spikes_through_off_grid_delays_and_fan_out(fan_out):
    """Off-grid delays and several targets per Poisson neuron: the exact replay redraws the
    spikes it received (they are never queued); every target gets the same spikes, and
    the per-step counts are the stream's."""
    dt, delay = 1e-4, 0.2371e-3
    g, res = poisson_relay(f"{dt!r} s", delay, fan_out=fan_out)
    t, i = res.spikes["n"]
    counts = _ir.poisson_counts(g.poisson_sources["ext"], dt, 0, 2000)
    assert t.size > 100
    for k in range(4):
        trains = [np.sort(t[i == k * fan_out + r]) for r in range(fan_out)]
        assert all(np.array_equal(trains[0], x) for x in trains[1:])
        steps = input_steps(trains[0], delay, dt)
        last = int(np.floor((0.2 - delay) / dt)) - 1            # inputs of later steps arrive after the run
        got = np.bincount(steps, minlength=last + 1)[:last + 1]
        assert np.array_equal(got, counts[:last + 1, k])


def test_poisson_many_spikes_per_step_reach_their_targets():
    """~5 spikes per step per Poisson neuron (the queuing's branch-free path covers 4)."""
    dt, delay = 1e-4, 1e-4
    g, res = poisson_relay(f"{dt!r} s", delay, rate="50 kHz")
    t, i = res.spikes["n"]
    counts = _ir.poisson_counts(g.poisson_sources["ext"], dt, 0, 2000)
    assert counts.max() > 8
    for k in range(4):
        got = np.bincount(input_steps(np.sort(t[i == k]), delay, dt), minlength=2000)[:1999]
        assert np.array_equal(got, counts[:1999, k])


def test_poisson_active_window_is_exact():
    dt, delay, start, stop = 1e-4, 1e-4, 20.0437e-3, 150.0219e-3
    g, res = poisson_relay(f"{dt!r} s", delay, start=f"{start!r} s", stop=f"{stop!r} s", rate="2 kHz")
    t, i = res.spikes["n"]
    t_in = t - delay
    assert t.size > 500
    assert t_in.min() >= start - 1e-15 and t_in.max() < stop + 1e-15
    # whole steps inside the window keep the stream's counts
    node = dataclasses.replace(g.poisson_sources["ext"], start=0.0, stop=float("inf"))
    counts = _ir.poisson_counts(node, dt, 0, 2000)
    lo, hi = int(np.ceil(start / dt)), int(np.floor(stop / dt)) - 1
    for k in range(4):
        steps = input_steps(np.sort(t[i == k]), delay, dt)
        got = np.bincount(steps, minlength=2000)
        assert np.array_equal(got[lo:hi], counts[lo:hi, k])
        assert got[lo - 1] <= counts[lo - 1, k] and got[hi] <= counts[hi, k]


# ----------------------------------------------------------------------------- consistency
def recurrent_net(model, dt="0.1 ms", **options):
    """benchmarks.precise.recurrent_network: heterogeneous constant currents, fixed synapses,
    ``mixed_sign`` for one projection with weights of both signs."""
    return recurrent_network(model, dt, **options)


def match_trains(a, b, n):
    """Per neuron: equal counts required; returns the largest time difference."""
    (ta, ia), (tb, ib) = a, b
    worst = 0.0
    for k in range(n):
        x, y = np.sort(ta[ia == k]), np.sort(tb[ib == k])
        assert x.size == y.size, f"neuron {k}: {x.size} vs {y.size} spikes"
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y))))
    return worst


@pytest.mark.parametrize("net_of", [lambda: recurrent_net("lif_delta", mixed_sign=True),
                                    lambda: recurrent_net("lif_cuba"),
                                    lambda: mixed_poisson_net(None)],
                         ids=["lif_delta", "lif_cuba", "poisson-mixed"])
def test_uint16_channel_copy_gives_the_same_spikes(monkeypatch, net_of):
    """Networks of at most 2^16 channels stream a uint16 copy of the synapses' channels
    (syn_chan16); without it (forced here, as for larger networks) the kernel reads the
    int32 channels. Both give the same spikes, bit for bit."""
    import spikecore.engine.precise as precise_module
    out = []
    for limit in (precise_module.CHAN16_LIMIT, 0):
        monkeypatch.setattr(precise_module, "CHAN16_LIMIT", limit)
        sim = PreciseSimulator(net_of().to_ir(timing="precise"))
        assert sim.kernel.chan16 == (limit > 0)
        out.append(sim.run(0.2).spikes)
    assert out[0].keys() == out[1].keys()
    for pop in out[0]:
        (t0, i0), (t1, i1) = out[0][pop], out[1][pop]
        assert t0.size > 20
        assert np.array_equal(i0, i1) and np.array_equal(t0, t1)


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
def test_uniform_drive_taken_as_a_number_gives_the_same_spikes(monkeypatch, model):
    """A population with one drive value (no per-neuron currents, no changes) has its drive
    passed to the fast path as a number; streaming the array instead gives the same spikes."""
    import spikecore.engine.precise as precise_module

    def net():
        n = recurrent_net(model, mixed_sign=model == "lif_delta")
        n.currents.clear()
        n.add(CurrentSource("n", amplitude="210 pA", name="all"))
        return n
    out = []
    for force_array in (False, True):
        if force_array:
            monkeypatch.setattr(precise_module, "uniform_drive", lambda d, c, st, sz: np.zeros(len(st), np.int32))
        sim = PreciseSimulator(net().to_ir(timing="precise"))
        assert sim.arrays["pop_drive_uniform"][0] == (not force_array)
        out.append(sim.run(0.2).spikes["n"])
    assert out[0][0].size > 50
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
def test_runs_in_pieces_equal_one_run(model):
    """A run cut at a step inside refractory periods gives the spikes and v of one run;
    between runs, a neuron still clamped holds v_reset exactly (the kernel puts it back
    after a run's last step, as it does at the start of every step)."""
    net = recurrent_net(model)
    net.add(StateMonitor("n", ("v",), name="vm"))
    one = PreciseSimulator(net.to_ir(timing="precise")).run(0.1)
    t_spike = one.spikes["n"][0][one.spikes["n"][0] > 0.03][0]
    cut = round((t_spike + 1e-3) / 1e-4) * 1e-4                 # 1 ms into its 2 ms period
    sim = PreciseSimulator(net.to_ir(timing="precise"))
    first = sim.run(cut)
    clamped = sim.arrays["ref_end_step"] >= sim.step
    assert clamped.any()
    assert np.all(np.asarray(sim.arrays["v"])[clamped] == V_RESET)
    second = sim.run(0.1 - cut)
    t1, i1 = first.spikes["n"]
    t2, i2 = second.spikes["n"]
    assert np.array_equal(np.concatenate([t1, t2]), one.spikes["n"][0])
    assert np.array_equal(np.concatenate([i1, i2]), one.spikes["n"][1])
    v = np.concatenate([first.traces["vm"]["variables"]["v"], second.traces["vm"]["variables"]["v"]])
    assert np.array_equal(v, one.traces["vm"]["variables"]["v"])


def test_more_than_2_16_channels_reach_the_high_neurons():
    """70000 neurons: no uint16 copy; spikes relayed onto neurons 65535, 65536 and 69999
    (25 mV from rest each) fire them at the input times plus the delay, exactly."""
    net = Network(seed=1, dt="0.1 ms")
    net.add(Population(70000, "lif_delta", lif_params("lif_delta", t_ref="0 ms"), name="n"))
    t_in = [1.23456e-3, 2.5e-3, 3.00001e-3]
    net.add(SpikeSource(spike_times=[[f"{t!r} s"] for t in t_in], name="src"))
    targets = [65535, 65536, 69999]
    net.add(Projection("src", "n", FromIndices(np.arange(3), targets), weight="25 mV", delay="1 ms", name="p"))
    sim = PreciseSimulator(net.to_ir(timing="precise"))
    assert not sim.kernel.chan16
    t, i = sim.run(0.006).spikes["n"]
    assert list(i) == targets
    assert np.allclose(t, np.asarray(t_in) + 1e-3, rtol=0, atol=1e-15)


@pytest.mark.parametrize("model, mixed_sign", [("lif_delta", False), ("lif_delta", True), ("lif_cuba", False)],
                         ids=["lif_delta", "lif_delta-mixed-sign-groups", "lif_cuba"])
def test_precise_mode_does_not_depend_on_dt(model, mixed_sign):
    net = recurrent_net(model, delays_ms=(1.0, 1.37, 2.05), mixed_sign=mixed_sign)
    a = run(net, 0.2, "precise", dt=1e-4).spikes["n"]
    b = run(net, 0.2, "precise", dt=2.5e-5).spikes["n"]
    assert a[0].size > 50
    assert match_trains(a, b, 30) < 1e-9 * MS


def receptor_net(receptors, seed=11, n=30, dt="0.1 ms"):
    """recurrent_net's lif_cuba with weights of both signs spread over ``receptors``
    ({name: tau_syn}): no receptor is sign-pure, so the kernel's general fast paths run."""
    rng = np.random.default_rng(seed)
    net = Network(seed=seed, dt=dt)
    net.add(Population(n, "lif_cuba", lif_params("lif_cuba", tau_syn=receptors),
                       initial={"v": Uniform("-70 mV", "-52 mV")}, name="n"))
    amps = rng.uniform(180, 260, n)
    for k in range(n):
        net.add(CurrentSource("n", amplitude=f"{amps[k]!r} pA", neurons=[k], name=f"i{k}"))
    pre, post = np.nonzero(rng.random((n, n)) < 0.2)
    w = np.where(rng.random(pre.size) < 0.7, 1.5, -3.0) * rng.uniform(0.5, 1.0, pre.size)
    d = rng.choice(np.array([1.0, 1.37, 2.05]), pre.size)
    rec = rng.integers(0, len(receptors), pre.size)
    for r, name in enumerate(receptors):
        sel = rec == r
        net.add(Projection("n", "n", FromIndices(pre[sel], post[sel]), weight=[f"{x!r} mV" for x in w[sel]],
                           delay=[f"{x!r} ms" for x in d[sel]], receptor=name, name=f"p{name}"))
    return net


@pytest.mark.parametrize("receptors", [{"exc": "2 ms", "inh": "5 ms"}, {"a": "3 ms"},
                                       {"a": "2 ms", "b": "20 ms", "c": "7 ms"}],
                         ids=["two-mixed", "one", "three-with-tau_mem"])
def test_precise_mode_does_not_depend_on_dt_with_mixed_receptors(receptors):
    """As above for lif_cuba populations that are not sign-pure per receptor, with one,
    two and three receptors (one of them with tau_syn = tau_mem)."""
    net = receptor_net(receptors)
    a = run(net, 0.2, "precise", dt=1e-4).spikes["n"]
    b = run(net, 0.2, "precise", dt=2.5e-5).spikes["n"]
    assert a[0].size > 50
    assert match_trains(a, b, 30) < 1e-9 * MS


def convergence_errors(model, dts, duration=0.1):
    """Mean |t_grid - t_precise| (s) per dt on recurrent_net, precise at the coarsest dt as reference."""
    net = recurrent_net(model, delays_ms=(1.0, 1.5, 2.0))
    ref = run(net, duration, "precise", dt=dts[0]).spikes["n"]
    out = {"grid": [], "precise": []}
    for dt in dts:
        for timing in ("grid", "precise"):
            t, i = run(net, duration, timing, dt=dt).spikes["n"]
            diffs = []
            for k in range(30):
                x, y = np.sort(t[i == k]), np.sort(ref[0][ref[1] == k])
                assert x.size == y.size, f"{timing} dt={dt}: neuron {k} {x.size} vs {y.size} spikes"
                diffs.append(np.abs(x - y))
            out[timing].append(float(np.mean(np.concatenate(diffs))))
    return out


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
def test_grid_mode_converges_to_precise_mode_at_first_order(model):
    dts = [1e-4, 5e-5, 2.5e-5, 1.25e-5]
    err = convergence_errors(model, dts)
    slope = np.polyfit(np.log(dts), np.log(err["grid"]), 1)[0]
    assert 0.8 < slope < 1.2, (slope, err["grid"])
    assert max(err["precise"]) < 1e-9 * MS


# ----------------------------------------------------------------------------- plumbing
def test_results_keep_exact_times_and_steps(tmp_path):
    net = one_input("lif_delta", "25 mV", 3.21234e-3, 1e-3)
    res = run(net, 0.02, "precise")
    res.save(tmp_path)
    back = Result.load(tmp_path)
    assert back.options["timing"] == "precise"
    assert np.array_equal(back.spikes["n"][0], res.spikes["n"][0])
    assert np.array_equal(back.spike_steps["n"], res.spike_steps["n"])
    assert back.summary()["populations"] == res.summary()["populations"]
    grid = run(net, 0.02, "grid")
    grid.save(tmp_path / "grid")
    assert "n.steps" not in np.load(tmp_path / "grid" / "spikes.npz").files


def test_spikes_come_out_in_time_then_neuron_order():
    """The kernel orders each step's spikes by offset, then neuron; the results keep that
    order, and ties across steps (which steps * dt + offset can produce) are sorted too.
    Here 40 neurons fire in groups at identical times: one input spike reaches groups of
    them at once, and the slow path finds the group's members in random order of index."""
    rng = np.random.default_rng(4)
    net = Network(seed=4, dt="0.1 ms")
    net.add(Population(40, "lif_delta", lif_params("lif_delta", v_leak="-60 mV"), name="n",
                       initial={"v": Uniform("-60 mV", "-59 mV")}))
    net.add(SpikeSource(spike_times=[[f"{x!r} ms" for x in np.sort(rng.uniform(1, 19, 6))] for _ in range(4)],
                        name="src"))
    net.add(Projection("src", "n", FromIndices(np.repeat(np.arange(4), 10), rng.permutation(40)),
                       weight="15 mV", delay="0.1 ms", name="p"))
    res = run(net, 0.02, "precise")
    t, i = res.spikes["n"]
    assert t.size > 100 and np.unique(t).size < t.size / 5       # many exact ties
    order = np.lexsort((i, t))
    assert np.array_equal(order, np.arange(t.size))

    # the kernel's own order, before any check in Python
    from spikecore.engine.base import Recording, SpikeBuffer
    from spikecore.engine.layout import recording_buffers
    sim = PreciseSimulator(net.to_ir(timing="precise"))
    _, rec_out, rec_pos = recording_buffers(sim.arrays["rec_every"], 0, 200)
    sim.kernel.run(0, 200, rec_out, rec_pos)
    st, of, ix = sim.kernel.take_spikes()
    assert st.size == t.size and np.array_equal(np.lexsort((ix, of, st)), np.arange(st.size))

    sim = PreciseSimulator(net.to_ir(timing="precise"))
    steps = np.array([3, 2, 4, 4], np.int64)                     # out of order across steps
    offs = np.array([0.0, 1e-4, 5e-5, 5e-5])                     # 2*dt + dt == 3*dt + 0 (ties)
    idx = np.array([7, 9, 5, 1], np.int32)
    buf = SpikeBuffer(4, offsets=True)
    buf.extend(steps, idx, offs)
    out = sim._collect(buf, Recording(sim.arrays["rec_every"], 0, 5), 0, 5)
    tt, ii = out.spikes["n"]
    assert np.all(np.diff(tt) >= 0)
    assert list(ii[2:]) == [1, 5]


def test_cli_run_timing_precise(tmp_path):
    from spikecore.cli import main
    model = tmp_path / "m.yaml"
    model.write_text("""spikecore: 1
name: chain
dt: 0.1 ms
duration: 20 ms
populations:
  n: {size: 1, model: lif_delta, params: {tau_mem: 20 ms, v_leak: -70 mV, v_threshold: -50 mV, v_reset: -65 mV}}
sources:
  src: {type: spike_times, spike_times: [[2.71828 ms]]}
projections:
  p: {pre: src, post: n, connector: {type: one_to_one}, weight: 25 mV, delay: 1.23456 ms}
""")
    assert main(["run", str(model), "--timing", "precise", "--out", str(tmp_path / "out"), "--no-plot"]) == 0
    sp = np.load(tmp_path / "out" / "spikes.npz")
    assert abs(sp["n.times"][0] - (2.71828e-3 + 1.23456e-3)) < 1e-12
    assert sp["n.steps"][0] == 39
    # the same model is refused by grid mode: its delay is not a multiple of dt
    assert main(["run", str(model), "--out", str(tmp_path / "g"), "--no-plot"]) == 2


def test_refusals_name_the_problem():
    net = Network(seed=0, dt="0.1 ms")
    net.add(Population(1, "lif_coba", {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV",
                                       "v_threshold": "-50 mV", "v_reset": "-60 mV",
                                       "tau_syn": {"e": "5 ms"}, "e_rev": {"e": "0 mV"}}, name="c"))
    with pytest.raises(UnsupportedFeature, match="lif_coba"):
        NATIVE.compile(net.to_ir(timing="precise"), timing="precise")
    with pytest.raises(ValidationError, match="timing"):
        NATIVE.compile(net.to_ir(), timing="exact")
    with pytest.raises(ValidationError, match="timing"):
        net.to_ir(timing="exact")

    short = Network(seed=0, dt="0.1 ms")
    short.add(Population(2, "lif_delta", lif_params("lif_delta"), name="n"))
    short.add(Projection("n", "n", FromIndices([0], [1]), weight="1 mV", delay="0.05 ms", name="p"))
    with pytest.raises(ValidationError, match="delay"):
        short.to_ir(timing="precise")
    off = Network(seed=0, dt="0.1 ms")
    off.add(Population(2, "lif_delta", lif_params("lif_delta"), name="n"))
    off.add(Projection("n", "n", FromIndices([0], [1]), weight="1 mV", delay="0.15 ms", name="p"))
    g = off.to_ir(timing="precise")          # precise lowering keeps the off-grid delay ...
    with pytest.raises(ValidationError, match="multiple of dt"):
        NATIVE.compile(g)                      # ... which grid mode refuses
    with pytest.raises(ValidationError, match="multiple of dt"):
        off.to_ir()


def test_time_and_delay_splitting():
    dt = 1e-4
    st, off = split_times(np.array([0.0, 1e-4, 1.5e-4, 0.3]), dt)
    assert list(st) == [-1, 0, 1, 2999] and np.allclose(off, [dt, dt, 0.5e-4, dt])
    d, rem = split_delays(np.array([1e-4, 3e-4, 1.37e-4]), dt, "d")
    assert list(d) == [1, 3, 1] and rem[0] == 0 and rem[1] == 0 and abs(rem[2] - 0.37e-4) < 1e-18


# ----------------------------------------------------------------------------- NEST
def nest_spikes(g, duration_ms, resolution_ms):
    """Run the realised IR ``g`` on NEST's precise models; spikes per population (s, index)."""
    nest = pytest.importorskip("nest", reason="nest-simulator is not installed (pip install nest-simulator)")
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = resolution_ms
    nodes, recs = {}, {}
    for name, p in g.populations.items():
        pr = p.params
        common = {"tau_m": pr["tau_mem"] / MS, "C_m": pr["tau_mem"] / pr["r"] * 1e12, "E_L": pr["v_leak"] / MV,
                  "V_th": pr["v_threshold"] / MV, "V_reset": pr["v_reset"] / MV, "t_ref": pr["t_refrac"] / MS}
        if p.model == "lif_delta":
            nodes[name] = nest.Create("iaf_psc_delta_ps", p.size, params=common)
        else:
            common.update(tau_syn_ex=p.receptors["exc"]["tau_syn"] / MS, tau_syn_in=p.receptors["inh"]["tau_syn"] / MS)
            nodes[name] = nest.Create("iaf_psc_exp_ps", p.size, params=common)
        nodes[name].set(V_m=list(p.initial["v"] / MV))
        recs[name] = nest.Create("spike_recorder")
        nest.Connect(nodes[name], recs[name])
    for c in g.currents.values():
        assert list(c.times) == [0.0], "constant currents only"
        pop = nodes[c.target]
        for k in c.neurons:
            pop[int(k)].set(I_e=pop[int(k)].get("I_e") + c.amplitudes[0] * 1e12)
    for name, s in g.spike_sources.items():
        gens = nest.Create("spike_generator", s.size, params={"precise_times": True})
        for k in range(s.size):
            gens[k].set(spike_times=list(s.times[s.indices == k] / MS))
        nodes[name] = gens
    for e in g.projections.values():
        post = g.populations[e.post]
        if post.model == "lif_cuba":
            w = e.weight / post.params["r"] * 1e12           # syn in volts = r * I
            assert (w > 0).all() if e.receptor == "exc" else (w < 0).all()
        else:
            w = e.weight / MV
        pre_ids = np.asarray(nodes[e.pre].tolist(), dtype=np.int64)[e.i]
        post_ids = np.asarray(nodes[e.post].tolist(), dtype=np.int64)[e.j]
        nest.Connect(pre_ids, post_ids, "one_to_one", syn_spec={"weight": w, "delay": e.delay / MS})
    nest.Simulate(duration_ms)
    out = {}
    for name, r in recs.items():
        ev = r.get("events")
        first = nodes[name][0].global_id
        out[name] = (np.asarray(ev["times"]) * MS, np.asarray(ev["senders"]) - first)
    return out


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
def test_agrees_with_nest_precise_models(model):
    net = recurrent_net(model, seed=7, delays_ms=(1.0, 1.5, 2.3))
    net.add(SpikeSource(spike_times=[[f"{t!r} ms" for t in (3.14159, 17.2718, 40.0001)]] * 3, name="src"))
    kw = {"receptor": "exc"} if model == "lif_cuba" else {}
    net.add(Projection("src", "n", FromIndices([0, 1, 2], [0, 5, 9]), weight="4 mV", delay="1.3 ms",
                       name="stim", **kw))
    g = net.to_ir(timing="precise")
    ours = NATIVE.compile(g, timing="precise").run(0.3).spikes["n"]
    ref = nest_spikes(g, 300.0, 0.1)["n"]
    assert ours[0].size > 100
    assert match_trains(ours, ref, 30) < 1e-6 * MS


def test_fast_path_arrays_are_placed_apart_modulo_a_page():
    """The arrays one fast-path loop walks together start at chosen offsets past a page
    boundary (precise.place_fast_path_arrays), keep their values, and on CUBA's layout no
    two of a loop's streams lie within STREAM_GAPS[1] bytes of each other modulo a page
    (the rows of syn and of acc are 8*3200 bytes apart, so not all can be 256 apart)."""
    from pathlib import Path
    from spikecore.engine import precise
    from spikecore.io import load_network

    root = Path(__file__).resolve().parents[2]
    g = load_network(root / "examples" / "cuba.yaml").to_ir(timing="precise")
    sim = PreciseSimulator(g)
    a = sim.arrays
    v0 = np.concatenate([p.initial["v"] for p in sim.pops]).astype(float)
    assert np.array_equal(a["v"], v0)
    base = {0: a["v"].ctypes.data, 1: a["drive"].ctypes.data, 2: a["syn"].ctypes.data}
    groups = precise._fast_path_streams(a, sim.ring_len)
    assert groups
    for grp in groups:
        addr = [((base[k] if k in base else a["acc_offset"]) + off) % precise.PAGE_BYTES for k, off in grp]
        for i in range(len(addr)):
            for j in range(i + 1, len(addr)):
                d = abs(addr[i] - addr[j]) % precise.PAGE_BYTES
                assert min(d, precise.PAGE_BYTES - d) >= precise.STREAM_GAPS[1], (grp[i], grp[j])
    assert sim.run(0.05).spikes["exc"][0].size > 0
