"""Deterministic conformance scenarios: small networks with known answers.

Each scenario adds its elements (names prefixed by the scenario's name) to a
shared Network, so one build per backend runs them all (Brian2 and standalone
builds cost seconds each; the scenarios never interact). Each one also states
what it checks independently of any backend: the step at which a spike must
happen, the exact value a membrane must hold. Every backend must further give
the reference backend's spikes at the same steps (see conftest.py).

Features name what a scenario needs; a backend can opt out of a feature with a
``conformance_exclusions`` mapping {feature: reason} (see conftest.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikecore import units as u
from spikecore.network import (AllToAll, CurrentSource, FixedProbability, FromIndices, Network, OneToOne,
                               PoissonSource, SpikeSource, StateMonitor, Uniform)

DT = 1e-4                 # s
DURATION = 0.06           # s: every scenario fits in it

DELTA = {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV", "v_reset": "10 mV", "t_refrac": "2 ms"}
CUBA = {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-70 mV", "t_refrac": "2 ms",
        "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}
COBA = {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
        "t_refrac": "5 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}, "e_rev": {"exc": "0 mV", "inh": "-80 mV"}}
MODEL_PARAMS = {"lif_delta": DELTA, "lif_cuba": CUBA, "lif_coba": COBA}
# a weight that makes a resting neuron cross threshold one step after it arrives
STRONG = {"lif_delta": "30 mV", "lif_cuba": "10 V", "lif_coba": "5 uS"}


def volts(values) -> u.Quantity:
    return u.Quantity(np.asarray(values, dtype=float), u.VOLTAGE)


@dataclass
class Scenario:
    name: str
    features: tuple
    doc: str
    build: object                    # build(net, p) with p(name) -> prefixed name
    checks: object = None            # checks(view) -> None; raises AssertionError on failure


# ----------------------------------------------------------------------------- delays
def _delays(net, p):
    """A source spike at step 10 reaches neuron k after D_k steps and makes it spike at 10 + D_k + 1."""
    net.add(SpikeSource(spike_times=[["1 ms"]], name=p("src")))
    delays_steps = [1, 2, 7, 15]
    for model in MODEL_PARAMS:
        pop = p(model)
        net.population(pop, len(delays_steps), model, MODEL_PARAMS[model])
        net.project(p("src"), pop, FromIndices(np.zeros(4, np.int64), np.arange(4)), weight=STRONG[model],
                    delay=u.Quantity(np.array(delays_steps) * DT, u.TIME), receptor=None if model == "lif_delta"
                    else "exc", name=p(f"{model}_in"))
        net.add(StateMonitor(pop, ["v"], name=p(f"{model}_v")))


def _delays_check(view):
    for model in MODEL_PARAMS:
        t, i = view.spikes(model)
        for k, d in enumerate([1, 2, 7, 15]):
            first = np.rint(t[i == k] / DT).astype(int)
            assert first.size and first.min() == 10 + d + 1, \
                f"{model} neuron {k} (delay {d} steps): first spike at step {first.min() if first.size else None}, " \
                f"expected {10 + d + 1}"


# ----------------------------------------------------------------------------- refractoriness
def _refractory(net, p):
    """Inputs during the refractory period: delta inputs are discarded, synaptic ones integrate, v is clamped."""
    # delta, t_refrac 2 ms = 20 steps: kick arriving at step 20 -> spike at 21; probes (5 mV) arrive at
    # 21+19 = 40 (refractory: discarded) on neuron 0 and at 21+20 = 41 (applied) on neuron 1.
    # t_refrac 2.06 ms rounds to 21 steps (Brian2 alone would floor it to 20): neuron 2's probe at
    # 21+20 is discarded, neuron 3's at 21+21 applied.
    net.add(SpikeSource(times=u.Quantity(np.array([19, 19, 39, 40, 19, 19, 40, 41]) * DT, u.TIME),
                        indices=[0, 1, 2, 3, 4, 5, 6, 7], name=p("src")))
    net.population(p("delta"), 2, "lif_delta", DELTA)
    net.population(p("delta_odd"), 2, "lif_delta", dict(DELTA, t_refrac="2.06 ms"))
    for pop, base in ((p("delta"), 0), (p("delta_odd"), 4)):
        net.project(p("src"), pop, FromIndices([base, base + 1], [0, 1]), weight="30 mV", delay="0.1 ms",
                    name=f"{pop}_kick")
        net.project(p("src"), pop, FromIndices([base + 2, base + 3], [0, 1]), weight="5 mV", delay="0.1 ms",
                    name=f"{pop}_probe")
        net.add(StateMonitor(pop, ["v"], name=f"{pop}_v"))
    # cuba and coba: a kick at step 20 (spike at 21), then a subthreshold input on the other receptor
    # during the refractory period (arrives at step 26): the synaptic variable jumps, v stays clamped.
    net.add(SpikeSource(times=u.Quantity(np.array([19, 25]) * DT, u.TIME), indices=[0, 1], name=p("src2")))
    for model, kick, kick_rec, probe, probe_rec in (("lif_cuba", "10 V", "inh", "0.5 V", "exc"),
                                                    ("lif_coba", "5 uS", "exc", "20 nS", "inh")):
        pop = p(model)
        # cuba: a fast 'inh' receptor carries the kick, so it is spent by the end of the refractory period
        prm = dict(MODEL_PARAMS[model], tau_syn={"exc": "5 ms", "inh": "0.2 ms"}) if model == "lif_cuba" \
            else MODEL_PARAMS[model]
        net.population(pop, 1, model, prm)
        net.project(p("src2"), pop, FromIndices([0], [0]), weight=kick, delay="0.1 ms", receptor=kick_rec,
                    name=f"{pop}_kick")
        net.project(p("src2"), pop, FromIndices([1], [0]), weight=probe, delay="0.1 ms", receptor=probe_rec,
                    name=f"{pop}_probe")
        var = "syn_exc" if model == "lif_cuba" else "g_inh"
        net.add(StateMonitor(pop, ["v", var], name=f"{pop}_v"))


def _refractory_check(view):
    a = math.exp(-DT / 0.02)
    for pop, ref in (("delta", 20), ("delta_odd", 21)):
        t, i = view.spikes(pop)
        steps = np.rint(t / DT).astype(int)
        assert list(steps[i == 0][:1]) == [21] and list(steps[i == 1][:1]) == [21], f"{pop}: kicks must fire at 21"
        v = view.trace(f"{pop}_v", "v")
        end = 21 + ref          # first step that is not refractory
        # clamped through the whole period: the probe arriving at end-1 on neuron 0 is discarded
        assert np.all(v[22:end + 1, 0] == 10e-3), f"{pop} neuron 0: v must stay at v_reset until step {end}"
        np.testing.assert_allclose(v[end + 1, 0], 10e-3 * a, rtol=1e-12,
                                   err_msg=f"{pop} neuron 0: the discarded probe changed v")
        # the probe arriving at `end` on neuron 1 is applied after the state update of that step
        assert np.all(v[22:end + 1, 1] == 10e-3)
        np.testing.assert_allclose(v[end + 1, 1], 10e-3 * a + 5e-3, rtol=1e-12, err_msg=f"{pop} neuron 1 probe")
    for model, var, reset in (("lif_cuba", "syn_exc", -70e-3), ("lif_coba", "g_inh", -60e-3)):
        t, _ = view.spikes(model)
        steps = np.rint(t / DT).astype(int)
        assert steps.size and steps[0] == 21, f"{model}: kick must fire at step 21, got {steps[:1]}"
        v, s = view.trace(f"{model}_v", "v"), view.trace(f"{model}_v", var)
        ref = 20 if model == "lif_cuba" else 50
        assert np.all(v[22:21 + ref + 1, 0] == reset), f"{model}: v not clamped while refractory"
        assert s[26, 0] == 0 and s[27, 0] > 0, f"{model}: a synaptic input during refractoriness must integrate"


# ----------------------------------------------------------------------------- reset
def _reset(net, p):
    """An input arriving in the step a neuron spikes is lost: propagation comes before reset (t_refrac = 0)."""
    net.add(SpikeSource(times=u.Quantity(np.array([19, 20, 19, 21]) * DT, u.TIME), indices=[0, 1, 2, 3],
                        name=p("src")))
    pop = p("delta0")
    net.population(pop, 2, "lif_delta", dict(DELTA, t_refrac="0 ms"))
    net.project(p("src"), pop, FromIndices([0, 2], [0, 1]), weight="30 mV", delay="0.1 ms", name=p("kick"))
    net.project(p("src"), pop, FromIndices([1, 3], [0, 1]), weight="5 mV", delay="0.1 ms", name=p("probe"))
    net.add(StateMonitor(pop, ["v"], name=p("v")))
    # constant strong drive with t_refrac = 0: fires, resets, integrates again at once
    net.population(p("driven"), 1, "lif_delta", dict(DELTA, t_refrac="0 ms"))
    net.add(CurrentSource(p("driven"), amplitude="1 nA", name=p("drive")))


def _reset_check(view):
    a = math.exp(-DT / 0.02)
    t, i = view.spikes("delta0")
    steps = np.rint(t / DT).astype(int)
    assert list(steps) == [21, 21], f"both kicked neurons fire at step 21, got {list(zip(steps, i))}"
    v = view.trace("v", "v")
    assert v[22, 0] == 10e-3, "a probe arriving in the spike step must be lost to the reset"
    np.testing.assert_allclose(v[23, 0], 10e-3 * a, rtol=1e-12, err_msg="the lost probe must not come back later")
    np.testing.assert_allclose(v[23, 1], 10e-3 * a + 5e-3, rtol=1e-12, err_msg="probe one step later applies")
    t, _ = view.spikes("driven")
    assert t.size > 5, "a constantly driven neuron with t_refrac = 0 fires repeatedly"


# ----------------------------------------------------------------------------- threshold
def exact_threshold_start(v_th: float, tau: float) -> float:
    """The v0 whose one-step exact decay (v_leak = 0, no input) lands exactly on v_th in floating point."""
    a = math.exp(-DT / tau)
    v0 = v_th / a
    while v0 * a > v_th:
        v0 = np.nextafter(v0, -np.inf)
    while v0 * a < v_th:
        v0 = np.nextafter(v0, np.inf)
    if v0 * a != v_th:
        raise RuntimeError("no float lands exactly on threshold")   # pragma: no cover
    return float(v0)


def _threshold(net, p):
    """Threshold is strict: v == v_threshold after the update does not fire, one ulp above does."""
    v0 = exact_threshold_start(20e-3, 0.02)
    starts = volts([v0, np.nextafter(v0, np.inf), np.nextafter(v0, -np.inf)])
    net.population(p("delta"), 3, "lif_delta", DELTA, {"v": starts})
    net.population(p("cuba"), 3, "lif_cuba", dict(CUBA, v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV"),
                   {"v": starts})
    # v_leak == v_threshold: v approaches threshold from below forever and never crosses
    net.population(p("asym_delta"), 2, "lif_delta", dict(DELTA, v_leak="20 mV"), {"v": volts([0.0, 19.9e-3])})
    net.population(p("asym_cuba"), 2, "lif_cuba", dict(CUBA, v_leak="-50 mV"), {"v": volts([-70e-3, -50.1e-3])})
    net.population(p("asym_coba"), 2, "lif_coba", dict(COBA, v_leak="-50 mV"), {"v": volts([-60e-3, -50.1e-3])})


def _threshold_check(view):
    for pop in ("delta", "cuba"):
        t, i = view.spikes(pop)
        assert list(i) == [1] and list(np.rint(t / DT).astype(int)) == [0], \
            f"{pop}: only the neuron one ulp above threshold fires (at step 0); got {list(i)}"
    for pop in ("asym_delta", "asym_cuba", "asym_coba"):
        assert view.spikes(pop)[0].size == 0, f"{pop}: a neuron driven to exactly v_threshold must not fire"


# ----------------------------------------------------------------------------- currents
def _currents(net, p):
    """Piecewise currents: a change at t applies from the first step whose time is >= t; inputs add up."""
    for model in MODEL_PARAMS:
        pop = p(model)
        net.population(pop, 4, model, MODEL_PARAMS[model])
        amp = "600 pA" if model == "lif_coba" else "300 pA"
        # 2.05 ms -> step 21 (off the grid), 30 ms -> step 300; the second input starts on the grid at step 100
        net.add(CurrentSource(pop, steps=[("0 ms", "0 pA"), ("2.05 ms", amp), ("30 ms", "0 pA")], neurons=[0, 1],
                              name=f"{pop}_a"))
        net.add(CurrentSource(pop, steps=[("10 ms", amp)], neurons=[1, 2], name=f"{pop}_b"))
        net.add(StateMonitor(pop, ["v"], name=f"{pop}_v"))


def _currents_check(view):
    # "at rest" up to rounding (Brian2's exact solution rounds differently from v_leak itself);
    # one step of these currents moves v by ~0.1 mV
    tiny, moved = 1e-12, 1e-5
    for model in MODEL_PARAMS:
        v = view.trace(f"{model}_v", "v")
        rest = v[0, 3]
        assert np.all(np.abs(v[:, 3] - rest) < tiny), f"{model}: a neuron without current stays at rest"
        assert np.all(np.abs(v[:22, 0] - rest) < tiny) and v[22, 0] - rest > moved, \
            f"{model}: the current changing at 2.05 ms must act from step 21 (seen at the start of step 22)"
        assert np.all(np.abs(v[:101, 2] - rest) < tiny) and v[101, 2] - rest > moved, \
            f"{model}: a current from 10 ms acts from step 100"
        assert view.spikes(model)[0].size > 0, f"{model}: the driven neurons must fire"


# ----------------------------------------------------------------------------- multiplicity
def _multiplicity(net, p):
    """Two spikes of one source neuron in one step add twice; off-grid times go to the nearest step."""
    net.add(SpikeSource(spike_times=[["1 ms", "1 ms"], ["3.06 ms"], ["3.04 ms"]], name=p("src")))
    pop = p("delta")
    net.population(pop, 3, "lif_delta", dict(DELTA, v_threshold="50 mV"))
    net.project(p("src"), pop, OneToOne(), weight="7 mV", delay="0.2 ms", name=p("in"))
    net.add(StateMonitor(pop, ["v"], name=p("v")))


def _multiplicity_check(view):
    v = view.trace("v", "v")
    # spike at step 10, delay 2: added at step 12 after the update, seen at the start of step 13
    assert v[12, 0] == 0.0 and math.isclose(v[13, 0], 14e-3, rel_tol=1e-12), \
        "two spikes in one step must add two weights"
    # 3.06 ms -> step 31 (nearest; Brian2 alone would floor to 30), 3.04 ms -> step 30
    assert v[33, 1] == 0.0 and math.isclose(v[34, 1], 7e-3, rel_tol=1e-12), "3.06 ms must be emitted at step 31"
    assert v[32, 2] == 0.0 and math.isclose(v[33, 2], 7e-3, rel_tol=1e-12), "3.04 ms must be emitted at step 30"


# ----------------------------------------------------------------------------- Poisson and recurrence
def _poisson(net, p):
    """Poisson input with a finite stop drives a recurrent delta network: the IR fixes the trains."""
    pop = p("delta")
    net.population(pop, 40, "lif_delta", DELTA)
    net.add(PoissonSource(40, "3 kHz", stop="40 ms", name=p("noise")))
    net.project(p("noise"), pop, OneToOne(), weight="1.2 mV", delay="0.3 ms", name=p("drive"))
    net.project(pop, pop, FixedProbability(0.2, allow_self=False), weight="-1 mV", delay="1.5 ms", name=p("rec"))


def _recurrent(net, p):
    """A small E/I cuba network with fixed random connectivity, driven by currents, multiple delays."""
    e, i = p("exc"), p("inh")
    init = {"v": u.Quantity(np.linspace(-70e-3, -51e-3, 40), u.VOLTAGE)}
    net.population(e, 40, "lif_cuba", dict(CUBA, v_leak="-40 mV"), init)
    net.population(i, 10, "lif_coba", COBA, {"v": u.Quantity(np.linspace(-60e-3, -51e-3, 10), u.VOLTAGE)})
    net.add(CurrentSource(i, amplitude="250 pA", name=p("drive_i")))
    net.project(e, e, FixedProbability(0.1), weight="2 mV", delay="0.5 ms", receptor="exc", name=p("ee"))
    net.project(e, i, FixedProbability(0.3), weight="3 nS", delay="1 ms", receptor="exc", name=p("ei"))
    net.project(i, e, AllToAll(), weight="-1.5 mV", delay="0.2 ms", receptor="inh", name=p("ie"))
    net.project(i, i, FixedProbability(0.5), weight="20 nS", delay="0.1 ms", receptor="inh", name=p("ii"))
    net.add(StateMonitor(e, ["v", "syn_exc"], neurons=[0, 5, 39], interval="0.5 ms", name=p("ev")))
    net.add(StateMonitor(i, ["g_inh"], interval="1 ms", name=p("ig")))


def _recurrent_check(view):
    assert view.spikes("exc")[0].size > 20 and view.spikes("inh")[0].size > 5, "the network must be active"
    tr = view.traces["ev"]
    assert np.array_equal(np.rint(tr["times"] / DT).astype(int), np.arange(0, 600, 5)), \
        "an interval of 0.5 ms samples at the start of every 5th step"


# ----------------------------------------------------------------------------- degenerate time constants
def _degenerate(net, p):
    """tau_syn == tau_mem: the general exact solution divides by zero; the limit must be used."""
    net.add(SpikeSource(spike_times=[["1 ms", "4 ms", "4.5 ms", "20 ms"]], name=p("src")))
    pop = p("cuba")
    net.population(pop, 2, "lif_cuba", dict(CUBA, tau_syn={"exc": "20 ms", "inh": "10 ms"}),
                   {"v": volts([-70e-3, -60e-3])})
    net.project(p("src"), pop, AllToAll(), weight="0.25 V", delay="0.1 ms", receptor="exc", name=p("in"))
    net.add(StateMonitor(pop, ["v", "syn_exc"], name=p("v")))


def _degenerate_check(view):
    v = view.trace("v", "v")
    assert np.isfinite(v).all(), "v must stay finite when tau_syn == tau_mem"
    assert view.spikes("cuba")[0].size > 0, "the inputs must make the neurons fire"


SCENARIOS = [
    Scenario("delays", ("lif_delta", "lif_cuba", "lif_coba", "spike_source"), _delays.__doc__, _delays,
             _delays_check),
    Scenario("refractory", ("lif_delta", "lif_cuba", "lif_coba", "spike_source", "refractory"),
             _refractory.__doc__, _refractory, _refractory_check),
    Scenario("reset", ("lif_delta", "spike_source", "current"), _reset.__doc__, _reset, _reset_check),
    Scenario("threshold", ("lif_delta", "lif_cuba", "lif_coba", "exact_threshold"), _threshold.__doc__,
             _threshold, _threshold_check),
    Scenario("currents", ("lif_delta", "lif_cuba", "lif_coba", "current"), _currents.__doc__, _currents,
             _currents_check),
    Scenario("multiplicity", ("lif_delta", "spike_source", "repeated_spikes"), _multiplicity.__doc__,
             _multiplicity, _multiplicity_check),
    Scenario("poisson", ("lif_delta", "poisson_exact"), _poisson.__doc__, _poisson, None),
    Scenario("recurrent", ("lif_cuba", "lif_coba", "current"), _recurrent.__doc__, _recurrent, _recurrent_check),
    Scenario("degenerate", ("lif_cuba", "spike_source"), _degenerate.__doc__, _degenerate, _degenerate_check),
]
SCENARIO_NAMES = [s.name for s in SCENARIOS]


# ----------------------------------------------------------------------------- models beyond LIF
# Scenarios of the models added after the golden fingerprints were recorded: they run in their own
# network (MODEL_SCENARIOS, tests/conformance/test_model_scenarios.py), so the recorded suite's
# network, and with it tests/regression/golden.json, stays as it was.
ALIF = {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV", "t_refrac": "2 ms",
        "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}


def _alif(net, p):
    """Both adaptation forms with per-neuron parameters (arrays and seeded distributions), bias, a
    step current, spike-source kicks, recurrent coupling and the degenerate tau_w == tau_mem."""
    n = 6
    net.population(p("thr"), n, "alif", dict(ALIF, bias=u.Quantity(np.linspace(300e-12, 550e-12, n), u.CURRENT),
                                              tau_adapt=Uniform("30 ms", "150 ms"),
                                              v_threshold=volts(-0.05 - 1e-3 * np.arange(n)),
                                              delta_threshold="3 mV"))
    net.population(p("cur"), n, "alif_current", dict(ALIF, bias="380 pA", t_refrac="1 ms",
                                                      tau_w=u.Quantity(np.linspace(0.03, 0.2, n), u.TIME),
                                                      b=u.Quantity(np.linspace(5e-12, 40e-12, n), u.CURRENT)))
    net.population(p("deg"), 2, "alif_current", dict(ALIF, tau_w="20 ms", b="30 pA", bias="400 pA"))
    net.add(CurrentSource(p("cur"), steps=[("0 ms", "0 pA"), ("20 ms", "100 pA"), ("40 ms", "0 pA")],
                          name=p("step")))
    net.add(SpikeSource(spike_times=[["5 ms", "5.5 ms", "25 ms"]], name=p("src")))
    net.project(p("src"), p("thr"), AllToAll(), weight="3 mV", delay="0.3 ms", receptor="exc", name=p("kick"))
    net.project(p("thr"), p("cur"), FixedProbability(0.5), weight="2 mV", delay="1 ms", receptor="exc",
                name=p("tc"))
    net.project(p("cur"), p("thr"), FixedProbability(0.5), weight="-1 mV", delay="0.5 ms", receptor="inh",
                name=p("ct"))
    net.add(StateMonitor(p("thr"), ["v"], name=p("thr_v")))
    net.add(StateMonitor(p("cur"), ["v", "syn_exc"], interval="0.5 ms", name=p("cur_v")))


def _alif_check(view):
    for pop in ("thr", "cur", "deg"):
        t, i = view.spikes(pop)
        steps = np.rint(t / DT).astype(int)
        for k in np.unique(i):
            isi = np.diff(steps[i == k])
            if isi.size >= 3:
                assert isi[-1] > isi[0], f"{pop} neuron {k}: adaptation must lengthen the intervals ({isi})"
        assert np.unique(i).size == view.result.sizes[view.prefix + pop], f"{pop}: every neuron must fire"


MODEL_SCENARIOS = [
    Scenario("alif", ("alif", "spike_source", "current", "refractory"), _alif.__doc__, _alif, _alif_check),
]


def build_suite(scenarios, seed: int = 7) -> Network:
    """One network holding the given scenarios side by side (element names 'scenario__name')."""
    net = Network("conformance", seed=seed, dt=f"{DT * 1e3} ms", duration=f"{DURATION * 1e3} ms")
    for sc in scenarios:
        sc.build(net, lambda name, _sc=sc: f"{_sc.name}__{name}")
    return net
