"""hwmodels/lint.py: one model per rule, built to trip it (and a clean one that trips nothing)."""
from __future__ import annotations

import numpy as np
import pytest

from hwmodels.lint import lint, summary
from spikecore.errors import ValidationError
from spikecore.network import FixedProbability, FromIndices, Network, Normal, OneToOne, PoissonSource, SpikeSource

BASE = {"tau_mem": "20 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
        "tau_syn": {"exc": "5 ms"}}


def net_with(params=None, weight="1 mV", delay="0.1 ms", model="lif_cuba", n_pre=4, connector=None, dt="0.1 ms",
             extra_pop=None):
    net = Network("lintme", dt=dt)
    p = dict(BASE if model == "lif_cuba" else {k: v for k, v in BASE.items() if k != "tau_syn"})
    p.update(params or {})
    net.population("post", 3, model, p)
    if extra_pop:
        net.population("other", 2, model, {**p, **extra_pop})
    net.add(SpikeSource(spike_times=[["1 ms"]] * n_pre, name="src"))
    receptor = "exc" if model == "lif_cuba" else None
    net.project("src", "post", connector or FixedProbability(1.0), weight=weight, delay=delay, receptor=receptor,
                name="proj")
    return net.to_ir(dt=dt)


def rules(g, **kw):
    return {(f.severity, f.rule) for f in lint(g, **kw)}


def findings_of(g, rule):
    return [f for f in lint(g) if f.rule == rule]


def test_a_representable_model_has_no_errors_or_warnings():
    g = net_with({"tau_mem": "8 ms"})      # dv = 51, du + 1 = 81: on the 12-bit grid within 1%
    found = lint(g)
    assert all(f.severity == "info" for f in found), [f.line() for f in found]
    assert "0 error(s), 0 warning(s)" in summary(found)


def test_12_bit_decays():
    assert ("error", "12-bit current decay") in rules(net_with({"tau_syn": {"exc": "2 s"}}))
    assert ("error", "12-bit voltage decay") in rules(net_with({"tau_mem": "0.01 ms"}))
    assert ("warning", "12-bit voltage decay") in rules(net_with({"tau_mem": "20 s"}))    # dv rounds to 0: no leak
    (f,) = [x for x in findings_of(net_with(), "12-bit decay rounding") if "tau_mem" in x.value]
    assert "dv = 20" in f.value and "+2.1%" in f.value


def test_17_bit_threshold_line_gives_resolution_and_saturation():
    (f,) = findings_of(net_with(), "17-bit threshold")
    assert "vth = 32768 (16 of 17 bits)" in f.value and "saturates" in f.hardware
    (f2,) = [x for x in lint(net_with(), headroom=1.0) if x.rule == "17-bit threshold"]
    assert "vth = 131072" not in f2.value and "(17 of 17 bits)" in f2.value


def test_mixed_sign_weights_lose_a_bit():
    g = net_with(weight=Normal("0 mV", "1 mV"), n_pre=20)
    assert ("warning", "mixed-sign 8-bit weights") in rules(g)
    assert ("warning", "weight LSBs lost") in rules(g)


def test_weights_truncated_to_zero_and_clipped():
    g = net_with(n_pre=2, connector=FromIndices(np.array([0, 1]), np.array([0, 0])))
    g.projections["proj"].weight = np.array([5e-3, 1e-8])    # 1e-8 V is below half a mantissa step
    assert ("warning", "weights truncated to zero") in rules(g)
    big = net_with(weight="50 mV", model="lif_delta")          # more than the threshold distance in one step
    assert ("error", "weights beyond 8 bits") in rules(big)


def test_weight_exponent_is_reported():
    (f,) = findings_of(net_with(weight="0.5 mV"), "negative weight exponent")
    assert f.value.startswith("weight_exp = -")


def test_delays_over_63_steps():
    (f,) = findings_of(net_with(delay="6.4 ms"), "delay over 63 steps")
    assert f.severity == "error" and "64 steps" in f.value and "projection proj" == f.element


def test_heterogeneous_decays_force_extra_processes():
    (f,) = findings_of(net_with(extra_pop={"tau_mem": "10 ms"}), "heterogeneous du/dv/vth")
    assert "other" in f.element and "dv" in f.value and "extra LIF process (2 in all)" in f.hardware


def test_state_overflow_risk_from_fan_in():
    g = net_with(model="lif_delta", weight="9 mV", n_pre=10)
    assert ("warning", "24-bit state overflow risk") in rules(g)
    assert ("warning", "16-bit input overflow risk") in rules(g)


def test_unknown_parameters_and_models():
    g = net_with()
    g.populations["post"].params["tau_adapt"] = 0.1
    g.populations["post"].receptors["exc"]["e_rev"] = 0.0
    found = findings_of(g, "unknown parameter")
    assert {f.severity for f in found} == {"error"} and len(found) == 2
    g.populations["post"].model = "adex"
    assert ("error", "unknown model") in rules(g)


def test_what_loihi_cannot_represent_is_an_error():
    assert ("error", "refractory period in fixed point") in rules(net_with({"t_refrac": "2 ms"}))
    assert ("error", "two synaptic time constants") in rules(net_with({"tau_syn": {"exc": "5 ms", "inh": "9 ms"}}))
    net = Network("c", dt="0.1 ms")
    net.population("a", 2, "lif_coba", {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV", "v_threshold": "-50 mV",
                                         "v_reset": "-60 mV", "tau_syn": {"e": "5 ms"}, "e_rev": {"e": "0 mV"}})
    net.add(PoissonSource(2, "10 Hz", name="p"))
    net.project("p", "a", OneToOne(), weight="1 nS")
    assert ("error", "conductance synapses") in rules(net.to_ir())


def test_bias_beyond_13_bits():
    g = net_with({"v_leak": "100 mV", "tau_mem": "1 ms"})
    assert ("error", "bias beyond 13 bits") in rules(g)


def test_every_line_names_element_value_hardware_and_fix():
    for f in lint(net_with({"t_refrac": "2 ms"}, delay="7 ms")):
        line = f.line()
        assert line.startswith(f.severity + ": ") and f.element in line and " -> " in line and "; fix: " in line
    with pytest.raises(ValidationError, match="target"):
        lint(net_with(), target="spinnaker")
