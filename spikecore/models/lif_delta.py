"""``lif_delta``: LIF with delta (voltage-jump) synapses, Brunel (2000)::

    tau_mem dv/dt = (v_leak - v) + r * I_ext
    on spike:  v += w            (w in volts; discarded while refractory, as NEST)

Integrated exactly: v decays by exp(-dt/tau_mem) towards the drive v_leak + r I per step.
A jump that arrives in the step its target spikes is discarded (reset wins).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import units as u
from .base import COMMON_LIF_PARAMS, DEFAULT_R, Brian2Equations, LoihiStructure, NeuronModel, ParamSpec


@dataclass(frozen=True)
class LifDelta(NeuronModel):
    def membrane_decay(self, params, dt):
        return math.exp(-dt / params["tau_mem"])

    def drive(self, params):
        return params["v_leak"], params["r"]

    def brian2_equations(self, params, receptors, dt, refractory_steps):
        flag = " (unless refractory)" if refractory_steps > 0 else ""
        constants = {"v_threshold": (params["v_threshold"], "volt"), "v_reset": (params["v_reset"], "volt"),
                     "v_leak": (params["v_leak"], "volt"), "tau_mem": (params["tau_mem"], "second"),
                     "r": (params["r"], "ohm")}
        return Brian2Equations(dv_template=f"dv/dt = (v_leak - v{{cur}})/tau_mem : volt{flag}", ode_lines=[],
                               constants=constants, current_term=" + r*I_ext", method="exact",
                               delta_gate=refractory_steps > 0)

    def loihi_structure(self, params, receptors):
        return LoihiStructure(tau_mem=params["tau_mem"], current_gain=params["r"], receptor_gain={})


MODEL = LifDelta(
    name="lif_delta",
    synapse="delta",
    params={"tau_mem": ParamSpec(u.TIME, positive=True, doc="membrane time constant"),
            **COMMON_LIF_PARAMS,
            "r": ParamSpec(u.RESISTANCE, DEFAULT_R, positive=True,
                           doc="membrane resistance (scales injected current)")},
    receptor_params={},
    weight_dims=(u.VOLTAGE,),
    state={"v": u.VOLTAGE},
    default_receptors=("default",),
    doc="LIF with delta (voltage-jump) synapses (Brunel 2000)",
    modes=frozenset({"grid", "precise", "loihi", "brian2", "lava", "nir"}),
    nir_kind="delta",
)
