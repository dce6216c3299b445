"""Bad parameters of the izhikevich, adex and alif models: a ValidationError naming the field."""
from __future__ import annotations

import pytest

import spikecore as sc
from spikecore.errors import ValidationError

ALIF = {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV",
        "tau_syn": {"e": "5 ms"}}


@pytest.mark.parametrize("model,params,field", [
    ("izhikevich", {"preset": "XY"}, "params.preset"),
    ("izhikevich", {"integrator": "heun"}, "params.integrator"),
    ("izhikevich", {"c_m": "-1 pF"}, "params.c_m"),
    ("izhikevich", {"v_peak": "-70 mV"}, "params.v_reset"),
    ("izhikevich", {"bias": ["1 pA", "2 pA"]}, "params.bias"),
    ("izhikevich", {"integrator": [0, 1, 1]}, "params.integrator"),      # one per population
    ("adex", {"tau_syn": {"e": "5 ms"}, "tau_w": "-5 ms"}, "params.tau_w"),
    ("adex", {"tau_syn": {"e": "5 ms"}, "c_m": "0 pF"}, "params.c_m"),
    ("adex", {"tau_syn": {"e": "5 ms"}, "v_threshold": "-55 mV"}, "params.v_threshold"),
    ("adex", {"tau_syn": {"e": "5 ms"}, "bias": ["1 pA", "2 pA"]}, "params.bias"),
    ("adex", {"tau_syn": {"e": "5 ms"}, "a": ["1 nS", "2 nS"]}, "params.a"),
    ("adex", {"tau_syn": {"e": "5 ms"}, "tau_w": ["5 ms", "-6 ms", "7 ms"]}, "params.tau_w"),
    ("alif", {**ALIF, "tau_adapt": "-5 ms"}, "params.tau_adapt"),
    ("alif", {**ALIF, "tau_mem": "-20 ms"}, "params.tau_mem"),
    ("alif", {**ALIF, "tau_syn": {"e": "-5 ms"}}, "params.tau_syn.e"),
    ("alif", {**ALIF, "delta_threshold": "-1 mV"}, "params.delta_threshold"),
    ("alif", {**ALIF, "tau_adapt": ["100 ms", "200 ms"]}, "params.tau_adapt"),
    ("alif", {**ALIF, "tau_mem": ["20 ms", "-20 ms", "30 ms"]}, "params.tau_mem"),
    ("alif", {**ALIF, "v_reset": ["-65 mV", "-60 mV", "-55 mV"]}, "params.v_reset"),
    ("alif", {**ALIF, "tau_adapt": "5 mV"}, "params.tau_adapt"),
    ("alif_current", {**ALIF, "tau_w": "-5 ms"}, "params.tau_w"),
    ("alif_current", {**ALIF, "tau_w": ["1 ms", "2 ms", "-3 ms"]}, "params.tau_w"),
    ("alif_current", {**ALIF, "b": ["1 pA", "2 pA"]}, "params.b"),
    ("alif_current", {**ALIF, "b": "-5 pA"}, "params.b"),
    ("alif_current", {**ALIF, "t_refrac": ["1 ms", "2 ms", "3 ms"]}, "params.t_refrac"),
])
def test_bad_input_names_the_field(model, params, field):
    with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
        sc.Population(3, model, params, name="p")
