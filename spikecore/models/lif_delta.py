"""``lif_delta``: LIF with delta (voltage-jump) synapses, Brunel (2000)::

    tau_mem dv/dt = (v_leak - v) + r * I_ext
    on spike:  v += w            (w in volts; discarded while refractory, as NEST)

Integrated exactly: v decays by exp(-dt/tau_mem) towards the drive v_leak + r I per step.
A jump that arrives in the step its target spikes is discarded (reset wins).
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import units as u
from .base import LEAKY_LIF_PARAMS, Brian2Equations, LeakyLif, LoihiStructure, brian2_lif_constants


@dataclass(frozen=True)
class LifDelta(LeakyLif):
    def brian2_equations(self, params, receptors, dt, refractory_steps):
        flag = " (unless refractory)" if refractory_steps > 0 else ""
        constants = brian2_lif_constants(params)
        return Brian2Equations(dv_template=f"dv/dt = (v_leak - v{{cur}})/tau_mem : volt{flag}", ode_lines=[],
                               constants=constants, current_term=" + r*I_ext", method="exact",
                               delta_gate=refractory_steps > 0)

    def loihi_structure(self, params, receptors):
        return LoihiStructure(tau_mem=params["tau_mem"], current_gain=params["r"], receptor_gain={})


MODEL = LifDelta(
    name="lif_delta",
    synapse="delta",
    params=LEAKY_LIF_PARAMS,
    receptor_params={},
    weight_dims=(u.VOLTAGE,),
    state={"v": u.VOLTAGE},
    default_receptors=("default",),
    per_neuron_params=frozenset(LEAKY_LIF_PARAMS),   # every parameter (module docstring of base)
    doc="LIF with delta (voltage-jump) synapses (Brunel 2000)",
    modes=frozenset({"grid", "precise", "loihi", "brian2", "lava", "nir", "nest"}),
    nir_kind="delta",
)
