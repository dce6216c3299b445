"""The Brian2 equation text of the current-based LIFs (lif_cuba, alif, alif_current), which
share one builder (spikecore.models.base.brian2_current_lif): for every case below the text
the Brian2 backend generates (equations with the declared constants, threshold, reset,
method, the refractory clamp) is string for string the one recorded in
data/brian2_lif_text.json before the two models' copies were joined into that builder.
``python tests/models/test_brian2_lif_text.py --record`` rewrites the file (only when a
change of the text is intended)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("brian2")

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backends._brian2_lowering import _lower  # noqa: E402
from spikecore import units as u  # noqa: E402
from spikecore.network import CurrentSource, Network  # noqa: E402

RECORDED = Path(__file__).with_name("data") / "brian2_lif_text.json"
BASE = {"v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV", "bias": "100 pA"}
ALIF = {"tau_adapt": "200 ms", "delta_threshold": "2 mV"}
CURRENT = {"tau_w": "150 ms", "b": "20 pA"}
PER_NEURON_TAU = u.Quantity(np.linspace(15e-3, 25e-3, 4), u.TIME)
CASES = {
    "lif_cuba": ("lif_cuba", {"tau_mem": "20 ms", "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}),
    "lif_cuba_no_refractory": ("lif_cuba", {"tau_mem": "20 ms", "t_refrac": "0 ms", "tau_syn": {"exc": "5 ms"}}),
    "lif_cuba_tau_syn_is_tau_mem": ("lif_cuba", {"tau_mem": "20 ms", "t_refrac": "2 ms",
                                                 "tau_syn": {"exc": "20 ms", "inh": "10 ms"}}),
    "lif_cuba_per_neuron_tau_mem": ("lif_cuba", {"tau_mem": PER_NEURON_TAU, "t_refrac": "2 ms",
                                                 "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}),
    "alif": ("alif", {**ALIF, "tau_mem": "20 ms", "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}),
    "alif_tau_syn_is_tau_mem": ("alif", {**ALIF, "tau_mem": "20 ms", "t_refrac": "2 ms",
                                         "tau_syn": {"exc": "20 ms"}}),
    "alif_per_neuron_tau_mem": ("alif", {**ALIF, "tau_mem": PER_NEURON_TAU, "t_refrac": "1 ms",
                                         "tau_syn": {"exc": "5 ms"}}),
    "alif_current": ("alif_current", {**CURRENT, "tau_mem": "10 ms", "t_refrac": "1 ms",
                                      "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}),
    "alif_current_tau_w_is_tau_mem": ("alif_current", {**CURRENT, "tau_w": "10 ms", "tau_mem": "10 ms",
                                                       "t_refrac": "1 ms", "tau_syn": {"exc": "5 ms"}}),
    "alif_current_no_refractory": ("alif_current", {**CURRENT, "tau_mem": "10 ms", "t_refrac": "0 ms",
                                                    "tau_syn": {"exc": "10 ms"}}),
    "alif_current_per_neuron_tau_mem": ("alif_current", {**CURRENT, "tau_mem": PER_NEURON_TAU, "t_refrac": "1 ms",
                                                         "tau_syn": {"exc": "5 ms"}}),
}


def generated_text(model: str, params: dict, current: bool) -> dict:
    """What the Brian2 backend generates for one population of ``model`` (with or without an
    injected current): the NeuronGroup's text and the shared constants' values."""
    net = Network("text", seed=1, dt="0.1 ms")
    net.population("p", 4, model, {**BASE, **params})
    if current:
        net.add(CurrentSource("p", steps=[("0 ms", "10 pA"), ("5 ms", "20 pA")], neurons=[0, 1], name="c"))
    plan = _lower(net.to_ir(), "replay")
    (group,) = plan.pops.values()
    return {"equations": group.equations, "threshold": group.threshold, "reset": group.reset,
            "method": group.method, "clamp_v": group.clamp_v, "refractory": repr(group.refractory),
            "constants": {k: repr(v) for k, v in group.constants.items()}}


def all_texts() -> dict:
    return {f"{name}{'+current' if current else ''}": generated_text(model, params, current)
            for name, (model, params) in CASES.items() for current in (False, True)}


@pytest.mark.parametrize("current", [False, True])
@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_brian2_text_is_the_recorded_one(name, current):
    recorded = json.loads(RECORDED.read_text())
    assert len(recorded) == 2 * len(CASES)
    model, params = CASES[name]
    assert generated_text(model, params, current) == recorded[f"{name}{'+current' if current else ''}"]


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    RECORDED.write_text(json.dumps(all_texts(), indent=1, sort_keys=True) + "\n")
