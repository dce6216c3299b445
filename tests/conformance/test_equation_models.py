"""Conformance of equation-defined models (docs/models.md): scenarios with known answers, run on
every backend that runs such models (the native grid engine and Brian2), which must also give
each other's spikes at the same steps and bit-identical traces. Brian2 runs its numpy target
here (no -ffast-math); its Cython target, with -ffast-math removed, runs in the slow suite.

These scenarios are separate from conformance_scenarios.py: the golden regression fingerprints
that suite as a whole."""
from __future__ import annotations

import numpy as np
import pytest

from spikecore import units as u
from spikecore.models.equations import Equations
from spikecore.network import FromIndices, Network, SpikeSource, StateMonitor

DT = 1e-4
DELAYS = [1, 2, 7, 15]
LIF = Equations("""dv/dt = (v_rest - v)/tau : volt (unless refractory)
dge/dt = -ge/tau_e : volt
dx/dt = -x/tau_e : volt""", threshold="v > v_th", reset="v = v_r", refractory="2 ms", method="exact",
                targets=["v", "ge", "x"])
PARAMS = {"tau": "20 ms", "tau_e": "5 ms", "v_rest": "0 mV", "v_th": "20 mV", "v_r": "10 mV"}


def _delays(net):
    """A source spike at step 10 reaches neuron k after D_k steps and makes it fire at 10 + D_k + 1."""
    net.add(SpikeSource(spike_times=[["1 ms"]], name="d_src"))
    net.population("d", len(DELAYS), LIF, PARAMS)
    net.project("d_src", "d", FromIndices(np.zeros(4, np.int64), np.arange(4)), weight="30 mV",
                delay=u.Quantity(np.array(DELAYS) * DT, u.TIME), receptor="v", name="d_in")


def _lost_in_spike_step(net):
    """The neuron fires at step 12 from a jump due at step 11; a second jump onto v due at step 12
    (its spike step) is lost to the (unless refractory) conditional write, while an input onto x
    due at that step is kept: x is 5 mV at the start of step 13."""
    net.add(SpikeSource(spike_times=[["1 ms"], ["1.1 ms"]], name="r_src"))
    net.population("r", 1, LIF, PARAMS)
    net.project("r_src", "r", FromIndices([0, 1], [0, 0]), weight="30 mV", delay="0.1 ms", receptor="v", name="r_v")
    net.project("r_src", "r", FromIndices([1], [0]), weight="5 mV", delay="0.1 ms", receptor="x", name="r_x")
    net.add(StateMonitor("r", ["v", "x"], name="r_mon"))


def _drive(net):
    """Constant drives through a per-neuron parameter, integrated by rk4: a regular firing
    whose first spike is where the exact solution crosses, to the step."""
    eq = Equations("dv/dt = (R*I - v)/tau : volt (unless refractory)\nI : amp (constant)",
                   threshold="v > v_th", reset="v = 0*mV", refractory="1 ms", method="rk4")
    net.population("c", 3, eq, {"tau": "10 ms", "R": "100 Mohm", "v_th": "15 mV"},
                   initial={"v": "0 mV", "I": ["0.2 nA", "0.3 nA", "0.5 nA"]})


def suite() -> Network:
    net = Network("equation_conformance", seed=3, dt="0.1 ms")
    for build in (_delays, _lost_in_spike_step, _drive):
        build(net)
    return net


@pytest.fixture(scope="module")
def results():
    net = suite()
    return {"native": net.run("60 ms", backend="native"), "brian2": net.run("60 ms", backend="brian2", target="numpy")}


def _steps(result, pop):
    t, i = result.spikes[pop]
    return np.rint(t / DT).astype(int), i


@pytest.mark.parametrize("backend", ["native", "brian2"])
def test_delays(results, backend):
    steps, idx = _steps(results[backend], "d")
    assert sorted(zip(idx.tolist(), steps.tolist())) == [(k, 10 + d + 1) for k, d in enumerate(DELAYS)]


@pytest.mark.parametrize("backend", ["native", "brian2"])
def test_input_in_the_spike_step(results, backend):
    r = results[backend]
    steps, _ = _steps(r, "r")
    assert steps.tolist() == [12]
    tr = r.traces["r_mon"]["variables"]
    assert tr["v"][13, 0] == 0.01                         # the reset value: the second jump was lost
    assert tr["x"][13, 0] == 0.005                        # sampled at the start of step 13


@pytest.mark.parametrize("backend", ["native", "brian2"])
def test_constant_drive_first_spike(results, backend):
    steps, idx = _steps(results[backend], "c")
    for k, current in enumerate([0.2e-9, 0.3e-9, 0.5e-9]):
        crossing = -0.01 * np.log(1 - 0.015 / (1e8 * current))      # v(t) = R I (1 - exp(-t/tau))
        first = steps[idx == k].min()
        assert abs(first - crossing / DT) <= 1.0


@pytest.mark.parametrize("pop", ["d", "r", "c"])
def test_native_and_brian2_identical(results, pop):
    a, b = _steps(results["native"], pop), _steps(results["brian2"], pop)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    for var, block in results["brian2"].traces.get("r_mon", {}).get("variables", {}).items():
        np.testing.assert_array_equal(results["native"].traces["r_mon"]["variables"][var], block)


@pytest.mark.slow
def test_brian2_cython_without_fast_math_identical(results):
    """Brian2's Cython target compiles with -ffast-math by default; without it, the same spikes."""
    import brian2
    key = "codegen.cpp.extra_compile_args_gcc"     # Cython's and C++ standalone's flags
    old = list(brian2.prefs[key])
    brian2.prefs[key] = [a for a in old if a not in ("-ffast-math", "-fno-finite-math-only")] + ["-ffp-contract=off"]
    try:
        cy = suite().run("60 ms", backend="brian2", target="cython")
    finally:
        brian2.prefs[key] = old
    for pop in ("d", "r", "c"):
        a, b = _steps(results["native"], pop), _steps(cy, pop)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
