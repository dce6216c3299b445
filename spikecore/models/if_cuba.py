"""``if_cuba``: non-leaky integrate-and-fire neuron with exponential current synapses,
the tau_mem -> infinity limit of a LIF written with its membrane capacitance::

    c_m dv/dt = sum_k I_k + I_ext
    tau_syn_k dI_k/dt = -I_k
    on spike:  I_k += w          (w in amperes)

Integrated exactly (the currents are the only input and I_ext is constant over a step):
over one step I_k decays by exp(-dt/tau_syn_k) and adds ``synaptic_coefficient`` * I_k =
tau_syn_k (1 - exp(-dt/tau_syn_k)) / c_m * I_k to v; the injected current adds I_ext dt/c_m.
Without a leak nothing pulls v back: ``v_leak`` is only v's initial value. Threshold,
reset and refractory clamp as every float model (spikecore/models/base.py).

Runs in grid mode only (the native engine's update: spikecore/engine/updates/if_cuba.h).
Precise mode would need a spike-time search of its own; Brian2 equations, a Loihi mapping
and a NIR node are not written for it, so those modes refuse it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import units as u
from .base import COMMON_LIF_PARAMS, NeuronModel, ParamSpec


@dataclass(frozen=True)
class IfCuba(NeuronModel):
    @property
    def receptor_state_dim(self):
        return u.CURRENT

    def tau_mem(self, params):
        return None

    def membrane_decay(self, params, dt):
        return 1.0

    def receptor_decay(self, receptor_params, dt):
        return math.exp(-dt / receptor_params["tau_syn"])

    def synaptic_coefficient(self, params, receptor_params, dt):
        tau = receptor_params["tau_syn"]
        return -tau * math.expm1(-dt / tau) / params["c_m"]

    def drive(self, params):
        # the drive is the injected current itself; the update scales it by dt/c_m
        return params.get("bias", 0.0), 1.0


MODEL = IfCuba(
    name="if_cuba",
    synapse="current",
    # the grid update reads c_m as the first parameter (spikecore/engine/updates/if_cuba.h)
    params={"c_m": ParamSpec(u.CAPACITANCE, positive=True, doc="membrane capacitance"),
            **COMMON_LIF_PARAMS,
            "v_leak": ParamSpec(u.VOLTAGE, doc="initial potential (no leak pulls v back to it)")},
    receptor_params={"tau_syn": ParamSpec(u.TIME, positive=True, doc="synaptic time constant")},
    weight_dims=(u.CURRENT,),
    state={"v": u.VOLTAGE},
    receptor_state_prefix="syn_",
    per_neuron_params=frozenset({"bias"}),
    doc="non-leaky integrate-and-fire with exponential current synapses",
    modes=frozenset({"grid"}),
)
