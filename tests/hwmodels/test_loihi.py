"""The Loihi profile (hwmodels/loihi.py): float mapping, integer conversions, policies.

The float mapping is checked against the native engine by running Loihi's LIF
structure in numpy; the integer conversions against Lava's own process models
(tests marked with the ``lava`` helper start a tiny Lava network, ~1-2 s each).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from hwmodels import loihi
from spikecore import ir as _ir
from spikecore.units import mV, ms
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.network import (FromIndices, Network, OneToOne, PoissonSource, SpikeSource)

DT = 1e-4


def cuba_net(tau_syn=None, t_refrac="0 ms", weight="2 mV", delay="0.3 ms", seed=0, v_leak="-50 mV",
             spikes=((1.0, 3.0, 3.2, 7.5), (2.0, 2.1, 9.0))):
    tau_syn = tau_syn or {"exc": "5 ms"}
    net = Network("t", seed=seed, dt="0.1 ms")
    net.population("a", 3, "lif_cuba", {"tau_mem": "20 ms", "v_leak": v_leak, "v_threshold": "-50 mV",
                                        "v_reset": "-60 mV", "t_refrac": t_refrac, "tau_syn": tau_syn},
                   initial={"v": np.array([-55.0, -52.0, -58.0]) * mV})
    net.add(SpikeSource(spike_times=[[f"{t} ms" for t in tr] for tr in spikes], name="src"))
    r = next(iter(tau_syn))
    net.project("src", "a", FromIndices(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2])), weight=weight,
                delay=delay, receptor=r, name="src_a")
    return net


# ----------------------------------------------------------------------------- float mapping
def run_loihi_float(g: _ir.IRGraph, n_steps: int):
    """Loihi's float LIF structure (Lava PyLifModelFloat) driven by the mapping, in numpy.

    Returns spikes as (IR step, neuron) of the single population and its v trace (IR volts)."""
    nm = loihi.map_network(g)
    (pop,) = nm.neurons.values()
    u, v = pop.u0.copy(), pop.v0.copy()
    # incoming input per Lava step: a spike of IR step m with delay d arrives at Lava step m + 2 + d
    due = np.zeros((n_steps + 80, pop.size))
    for sm in nm.synapses.values():
        src = g.spike_sources[sm.pre]
        for t, i in zip(src.times, src.indices):
            m = _ir.steps(t, g.dt)
            sel = sm.i == i
            np.add.at(due, (m + 2 + sm.delay[sel], sm.j[sel]), sm.weight[sel])
    out, vs = [], []
    for t in range(1, n_steps + 1):
        vs.append(v + pop.v_reset)
        u = u * (1 - pop.du) + due[t]
        v = v * (1 - pop.dv) + u + pop.bias
        s = v > pop.vth
        v[s] = 0
        out += [(t - 1, k) for k in np.nonzero(s)[0]]
    return out, np.array(vs)


def native_run(g, n_steps):
    from spikecore.engine import GridSimulator
    sim = GridSimulator(g)
    raw = sim.run(n_steps * g.dt)
    t, i = raw["spikes"]["a"]
    return sorted(zip(np.rint(t / g.dt).astype(int).tolist(), i.tolist()))


def test_float_mapping_reproduces_native_engine_spike_for_spike():
    net = cuba_net(weight="4 mV", v_leak="-47 mV")
    g = net.to_ir()
    ours, _ = run_loihi_float(g, 600)
    native = native_run(g, 600)
    assert len(native) > 5
    assert sorted(ours) == native


def test_float_mapping_delta_model_and_delays():
    net = Network("d", dt="0.1 ms")
    net.population("a", 2, "lif_delta", {"tau_mem": "10 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-70 mV"}, initial={"v": np.array([-66.0, -60.0]) * mV})
    net.add(SpikeSource(spike_times=[["1 ms", "1.5 ms", "4 ms"], ["2 ms"]], name="src"))
    net.project("src", "a", FromIndices(np.array([0, 1, 0]), np.array([0, 0, 1])), weight="9 mV",
                delay=np.array([0.1, 0.3, 0.5]) * ms, name="p")
    g = net.to_ir()
    ours, _ = run_loihi_float(g, 100)
    assert sorted(ours) == native_run(g, 100)
    assert ours  # the scenario spikes


def test_mapping_parameters_follow_design_formulas():
    g = cuba_net().to_ir()
    nm = loihi.map_network(g).neurons["a"]
    assert nm.dv == pytest.approx(1 - math.exp(-DT / 20e-3))
    assert nm.du == pytest.approx(1 - math.exp(-DT / 5e-3))
    assert nm.vth == pytest.approx(10e-3)
    assert nm.weight_gain["exc"] == pytest.approx(loihi.synaptic_coefficient(DT, 20e-3, 5e-3))
    q = loihi.quantize(g).populations["a"]
    # for dt << tau: du ~ 4096 dt/tau_syn - 1, dv ~ 4096 dt/tau_mem (hwmodels/loihi.py, the scale)
    assert abs(q.params["du"] - (4096 * DT / 5e-3 - 1)) <= 1
    assert abs(q.params["dv"] - 4096 * DT / 20e-3) <= 1


# ----------------------------------------------------------------------------- quantize
def test_quantize_returns_integer_loihi_populations_and_projections():
    g = cuba_net().to_ir()
    q = loihi.quantize(g)
    pop = q.populations["a"]
    assert pop.model == "loihi_lif"
    for key in ("du", "dv", "vth", "bias_mant", "bias_exp"):
        assert isinstance(pop.params[key], int)
    assert pop.params["vth"] == loihi.vth_mantissa(loihi.DEFAULT_HEADROOM) == 32768
    assert pop.initial["v"].dtype == np.int64 and pop.initial["u"].dtype == np.int64
    # v = (v - v_reset) * scale, threshold distance = vth << 6
    scale = pop.attrs["scale"]
    assert scale * 10e-3 == pytest.approx(32768 * 64)
    np.testing.assert_array_equal(pop.initial["v"], np.rint((g.populations["a"].initial["v"] + 60e-3) * scale))
    np.testing.assert_allclose(loihi.v_to_volts(pop, pop.initial["v"]), g.populations["a"].initial["v"], atol=1e-9)
    e = q.projections["src_a"]
    assert set(e.attrs) >= {"weight_exp", "num_weight_bits", "sign_mode"}
    assert e.attrs["sign_mode"] == "exc"
    # the effective weight reproduces coef * w in volts to 8-bit precision
    eff = e.weight * 2.0 ** e.attrs["weight_exp"] * 64 / scale
    want = 2e-3 * loihi.synaptic_coefficient(DT, 20e-3, 5e-3)
    np.testing.assert_allclose(eff, want, rtol=1 / 200)
    # the original graph is untouched
    assert g.populations["a"].model == "lif_cuba"
    np.testing.assert_array_equal(q.projections["src_a"].delay, g.projections["src_a"].delay)


@pytest.mark.parametrize("mode_weights", [np.array([0.3, 1.7, 40.0]), np.array([-0.3, -2.5, -90.0]),
                                          np.array([-3.0, 0.7, 55.0, -120.0])])
def test_weight_mantissas_survive_lavas_own_clip_and_truncate(mode_weights):
    from lava.utils.weightutils import SignMode, clip_weights, truncate_weights

    units = mode_weights * 37.0
    for nwb in (8, 6, 4):
        mode = loihi.sign_mode_of(units)
        e, mant, clipped = loihi.choose_weight_exp(units, mode, nwb)
        assert not clipped
        lava_mode = SignMode(loihi.LAVA_SIGN_MODE[mode])
        after = truncate_weights(clip_weights(mant, lava_mode, num_bits=8), lava_mode, nwb)
        np.testing.assert_array_equal(after, mant)     # Lava changes nothing
        lo, hi = loihi.weight_range(mode, nwb)
        assert mant.min() >= lo and mant.max() <= hi
        # the exponent is the smallest that fits: one lower would overflow the range
        if e > loihi.WEIGHT_EXP_MIN:
            step = 1 << (8 - nwb + (mode == "mixed"))
            lower = np.rint(units / 2.0 ** (e - 1) / step) * step
            assert lower.min() < lo or lower.max() > hi


def test_mixed_sign_weights_lose_one_bit_and_lint_says_so():
    net = cuba_net()
    g = net.to_ir()
    g.projections["src_a"].weight = np.array([2e-3, -1e-3, 1.5e-3, -0.2e-3])
    q, rep = loihi.quantize_with_report(g)
    assert q.projections["src_a"].attrs["sign_mode"] == "mixed"
    assert np.all(q.projections["src_a"].weight % 2 == 0)
    assert any(f.rule == "mixed-sign 8-bit weights" for f in rep.findings)


def test_bias_exponent_is_the_smallest_that_fits_and_matches_float_scale():
    g = cuba_net(v_leak="-49 mV").to_ir()
    q = loihi.quantize(g).populations["a"]
    nm = loihi.map_network(g).neurons["a"]
    target = nm.bias[0] * q.attrs["scale"]
    e, m = q.params["bias_exp"], q.params["bias_mant"]
    assert loihi.BIAS_MANT_MIN <= m <= loihi.BIAS_MANT_MAX
    assert abs(m * 2 ** e - target) <= 2 ** (e - 1)
    if e > 0:
        assert round(target / 2 ** (e - 1)) > loihi.BIAS_MANT_MAX
    # at bias_exp = 6 the mantissa is in threshold/weight mantissa units (Lava's float scale)
    assert target / 64 == pytest.approx(nm.bias[0] / nm.vth * q.params["vth"])


def test_strict_policy_refuses_what_loihi_cannot_represent():
    cases = {
        "two synaptic time constants": cuba_net(tau_syn={"exc": "5 ms", "inh": "10 ms"}).to_ir(),
        "refractory period in fixed point": cuba_net(t_refrac="2 ms").to_ir(),
        "delay over 63 steps": cuba_net(delay="7 ms").to_ir(),
    }
    for rule, g in cases.items():
        with pytest.raises(UnsupportedFeature, match=rule):
            loihi.quantize(g)
        q, rep = loihi.quantize_with_report(g, policy="approximate")
        assert any(rule in a for a in rep.approximations), rep.approximations
    q = loihi.quantize(cases["delay over 63 steps"], policy="approximate")
    assert np.allclose(q.projections["src_a"].delay, 63 * DT)


def test_conductance_model_is_approximated_only_on_request():
    net = Network("c", dt="0.1 ms")
    net.population("a", 2, "lif_coba", {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV",
                                         "v_threshold": "-50 mV", "v_reset": "-60 mV",
                                         "tau_syn": {"exc": "5 ms"}, "e_rev": {"exc": "0 mV"}})
    net.add(PoissonSource(2, "100 Hz", name="p"))
    net.project("p", "a", OneToOne(), weight="6 nS", name="pa")
    g = net.to_ir()
    with pytest.raises(UnsupportedFeature, match="conductance"):
        loihi.quantize(g)
    nm = loihi.map_network(g).neurons["a"]
    assert nm.tau_mem == pytest.approx(20e-3)
    # driving force at mid-range (-55 mV) over g_l, times the synaptic coefficient
    want = 55e-3 / 10e-9 * loihi.synaptic_coefficient(DT, 20e-3, 5e-3)
    assert nm.weight_gain["exc"] == pytest.approx(want)
    q = loihi.quantize(g, policy="approximate")
    assert q.projections["pa"].attrs["graded"] is True


def test_unknown_parameters_are_errors_not_silently_ignored():
    g = cuba_net().to_ir()
    g.populations["a"].params["tau_adapt"] = 0.1
    with pytest.raises(UnsupportedFeature, match="unknown parameter"):
        loihi.quantize(g)


def test_decay_limits_and_headroom_validation():
    assert loihi.decay_du(1.0) == 4095 and loihi.decay_du(0.0) == 0
    assert loihi.decay_dv(1.0) == 4095 and loihi.decay_dv(0.0) == 0
    g = cuba_net(tau_syn={"exc": "2 s"}).to_ir()    # decay < 1/4096 per step
    with pytest.raises(UnsupportedFeature, match="12-bit current decay"):
        loihi.quantize(g)
    with pytest.raises(ValidationError, match="headroom"):
        loihi.quantize(cuba_net().to_ir(), headroom=0.5)
    with pytest.raises(ValidationError, match="policy"):
        loihi.quantize(cuba_net().to_ir(), policy="lenient")
    h2 = loihi.quantize(cuba_net().to_ir(), headroom=2).populations["a"]
    assert h2.params["vth"] == 65536


# ----------------------------------------------------------------------------- against Lava itself
def loihi_int_reference(du, dv, vth, bias, a_in, u0, v0, n_steps):
    """Loihi's integer LIF (spikecore/models/loihi_lif.py) in numpy integers (one neuron per column)."""
    u, v = u0.astype(np.int64).copy(), v0.astype(np.int64).copy()
    spikes, us = [], []
    for t in range(n_steps):
        du_ = u * (4096 - (du + 1))
        u = np.sign(du_) * (np.abs(du_) >> 12) + (a_in[t] << 6)
        u = np.where(u > 2 ** 23, u - 2 ** 24, np.where(u <= -2 ** 23, u + 2 ** 24, u))
        dv_ = v * (4096 - dv)
        v = np.clip(np.sign(dv_) * (np.abs(dv_) >> 12) + u + bias, -(2 ** 23 - 1), 2 ** 23 - 1)
        s = v > (vth << 6)
        v[s] = 0
        spikes.append(s.copy())
        us.append(u.copy())
    return np.array(spikes), np.array(us)


def test_quantized_parameters_run_bit_exact_on_lava_fixed_pt():
    """A quantized population driven by its bias and a source, on Lava's PyLifModelBitAcc +
    PyDenseModelBitAcc, against the integer rules; and its rate against the float network."""
    from spikecore.compat.lava_dataclasses import install
    install()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    g = cuba_net(v_leak="-49 mV", weight="3 mV", delay="0.1 ms").to_ir()
    q = loihi.quantize(g)
    pop, e = q.populations["a"], q.projections["src_a"]
    n = 200
    src = g.spike_sources["src"]
    data = np.zeros((2, n), dtype=np.int64)
    for t, i in zip(src.times, src.indices):
        data[i, _ir.steps(t, g.dt)] = 1
    w = np.zeros((3, 2), dtype=np.int64)
    w[e.j, e.i] = e.weight
    p = pop.params
    source = Source(data=data)
    dense = Dense(weights=w, weight_exp=e.attrs["weight_exp"], num_weight_bits=e.attrs["num_weight_bits"])
    lif = LIF(shape=(3,), du=p["du"], dv=p["dv"], vth=p["vth"], bias_mant=p["bias_mant"], bias_exp=p["bias_exp"],
              u=pop.initial["u"], v=pop.initial["v"])
    sink = Sink(shape=(3,), buffer=n)
    source.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(sink.a_in)
    try:
        lif.run(condition=RunSteps(num_steps=n), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        got = sink.data.get().T.astype(bool)
        u_end, v_end = lif.u.get(), lif.v.get()
    finally:
        lif.stop()
    # row t (Lava step t + 1) receives data column t - 1 through the weights: column k is
    # sent at Lava step k + 1 and Dense delivers it one step later
    a_in = np.zeros((n, 3), dtype=np.int64)
    a_in[1:] = (data[:, :n - 1].T @ w.T)
    a_in = (a_in << e.attrs["weight_exp"]) if e.attrs["weight_exp"] >= 0 else (a_in >> -e.attrs["weight_exp"])
    ref, us = loihi_int_reference(p["du"], p["dv"], p["vth"], p["bias_mant"] << p["bias_exp"], a_in,
                                  pop.initial["u"], pop.initial["v"], n)
    assert got.any()
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(u_end, us[-1])
    # and the quantized network fires like the float one (12-bit decays: within a few %)
    native = native_run(g, n)
    assert abs(int(got.sum()) - len(native)) <= max(2, 0.1 * len(native))
