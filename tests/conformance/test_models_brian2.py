"""izhikevich, adex and adex_cond on Brian2 against the native engine: identical spikes.

Deterministic scenarios (current steps, spike-source and recurrent inputs, per-neuron
parameters, refractoriness), one per model and integrator Brian2 can express
(izhikevich: euler, izhikevich2003; adex and adex_cond: euler). They are kept out of
conformance_scenarios.SCENARIOS, whose networks the golden regression fingerprints.
Brian2 runs with its numpy target in the fast suite and, in the slow one, compiled
(Cython and cpp_standalone) with ``fast_math=off``: Brian2's default -ffast-math would
let the compiler reassociate the arithmetic. Tolerance: none for spikes; traces of v,
u and w within a relative 1e-9 (Brian2's sympy-generated expressions round differently).
"""
from __future__ import annotations

import numpy as np
import pytest

from backends import available_backends
from spikecore import units as u
from spikecore.errors import UnsupportedFeature
from spikecore.network import AllToAll, CurrentSource, FromIndices, Network, SpikeSource, StateMonitor

pytestmark = pytest.mark.skipif("brian2" not in available_backends(), reason="Brian2 is not installed")

DT = "0.1 ms"


def amps(values):
    return u.Quantity(np.asarray(values, dtype=float), u.CURRENT)


def izhikevich_network(integrator: str, t_refrac: str = "0 ms") -> Network:
    """Regular-spiking neurons driven by per-neuron biases and a current step, and fast-spiking
    ones driven by them (delta synapses) and by a spike source."""
    net = Network(f"izh_{integrator}", seed=3, dt=DT, duration="120 ms")
    net.population("rs", 4, "izhikevich", {"preset": "RS", "integrator": integrator, "t_refrac": t_refrac,
                                            "bias": amps([5e-12, 8e-12, 10e-12, 15e-12]),
                                            "d": [8.0, 6.0, 4.0, 2.0]})
    net.population("fs", 3, "izhikevich", {"preset": "FS", "integrator": integrator, "t_refrac": t_refrac})
    net.project("rs", "fs", AllToAll(), weight="5 mV", delay="1 ms", name="rs_fs")
    net.add(SpikeSource(spike_times=[["20 ms", "20.5 ms", "21 ms", "60 ms"]], name="kick"))
    net.project("kick", "fs", FromIndices([0, 0], [1, 2]), weight="20 mV", delay="0.5 ms", name="kick_fs")
    net.add(CurrentSource("fs", steps=[("0 ms", "0 pA"), ("10 ms", "6 pA"), ("80 ms", "0 pA")], neurons=[0, 2],
                          name="step"))
    net.add(StateMonitor("rs", ["v", "u"], name="rs_vu"))
    net.add(StateMonitor("fs", ["v", "u"], name="fs_vu"))
    return net


def adex_network(model: str, t_refrac: str = "2 ms") -> Network:
    """AdEx neurons with per-neuron biases and adaptation driving a second population through
    exponential synapses (currents or conductances), with a spike-source kick."""
    net = Network(f"{model}_net", seed=3, dt=DT, duration="200 ms")
    prm = {"integrator": "euler", "t_refrac": t_refrac, "bias": amps([600e-12, 800e-12, 1000e-12]),
           "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}
    if model == "adex_cond":
        prm["e_rev"] = {"exc": "0 mV", "inh": "-80 mV"}
    net.population("drv", 3, model, prm)
    net.population("tgt", 2, model, dict(prm, bias="300 pA"))
    weight = {"adex": ("2 nA", "-1 nA"), "adex_cond": ("60 nS", "20 nS")}[model]
    net.project("drv", "tgt", AllToAll(), weight=weight[0], delay="1 ms", receptor="exc", name="drv_tgt")
    net.add(SpikeSource(spike_times=[["50 ms", "120 ms"]], name="inhib"))
    net.project("inhib", "tgt", AllToAll(), weight=weight[1], delay="0.3 ms", receptor="inh", name="inhib_tgt")
    net.add(StateMonitor("drv", ["v", "w"], name="drv_vw"))
    net.add(StateMonitor("tgt", ["v", "w", "g_exc" if model == "adex_cond" else "syn_exc"], name="tgt_vw"))
    return net


CASES = {
    "izhikevich_euler": lambda: izhikevich_network("euler"),
    "izhikevich_izhikevich2003": lambda: izhikevich_network("izhikevich2003"),
    "izhikevich_refractory": lambda: izhikevich_network("izhikevich2003", "1.5 ms"),
    "adex": lambda: adex_network("adex"),
    "adex_cond": lambda: adex_network("adex_cond"),
    "adex_no_refractory": lambda: adex_network("adex", "0 ms"),
}

BRIAN2_VARIANTS = [pytest.param({"target": "numpy"}, id="numpy"),
                   pytest.param({"fast_math": "off"}, id="cython", marks=pytest.mark.slow),
                   # a C++ build per case: minutes each (make test-long)
                   pytest.param({"device": "cpp_standalone", "fast_math": "off"}, id="cpp_standalone",
                                marks=[pytest.mark.slow, pytest.mark.long])]

_NATIVE: dict = {}


def native(case):
    if case not in _NATIVE:
        _NATIVE[case] = CASES[case]().run(backend="native")
    return _NATIVE[case]


@pytest.mark.parametrize("options", BRIAN2_VARIANTS)
@pytest.mark.parametrize("case", list(CASES))
def test_brian2_gives_the_native_spikes_and_state(case, options):
    want = native(case)
    got = CASES[case]().run(backend="brian2", **options)
    for pop, (t, i) in want.spikes.items():
        assert t.size > 0, f"{case}/{pop}: the scenario must make it fire"
        tg, ig = got.spikes[pop]
        assert np.array_equal(np.rint(tg / 1e-4), np.rint(t / 1e-4)) and np.array_equal(ig, i), \
            f"{case}/{pop}: native {t.size} spikes, brian2 {tg.size}"
    for mon, tr in want.traces.items():
        for var, block in tr["variables"].items():
            scale = float(np.max(np.abs(block)))
            np.testing.assert_allclose(got.traces[mon]["variables"][var], block, rtol=1e-9, atol=1e-9 * scale,
                                       err_msg=f"{case}/{mon}.{var}")


def test_recorded_u_and_w_jump_at_spikes():
    """The further state is what the model says: u += d and w += b at each spike."""
    r = native("izhikevich_euler")
    t, i = r.spikes["rs"]
    uu = r.traces["rs_vu"]["variables"]["u"]
    step, k = int(round(t[0] / 1e-4)), int(i[0])
    jump = uu[step + 1, k] - uu[step, k]
    assert jump == pytest.approx([8.0, 6.0, 4.0, 2.0][k], abs=0.05)   # its d (plus one small Euler step)
    r = native("adex")
    t, i = r.spikes["drv"]
    ww = r.traces["drv_vw"]["variables"]["w"]
    step, k = int(round(t[0] / 1e-4)), int(i[0])
    assert ww[step + 1, k] - ww[step, k] == pytest.approx(80.5e-12, rel=0.05)


@pytest.mark.parametrize("model", ["izhikevich", "adex", "adex_cond"])
def test_event_located_rk4_is_refused_naming_the_integrator(model):
    from backends import get_backend
    net = izhikevich_network("rk4") if model == "izhikevich" else adex_network(model)
    if model != "izhikevich":
        for pop in net.populations.values():
            pop.params["integrator"] = "rk4"
            pop.validate()
    with pytest.raises(UnsupportedFeature, match=r"integrator rk4 \(population"):
        get_backend("brian2").compile(net.to_ir(), target="numpy")
