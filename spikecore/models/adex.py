"""``adex`` and ``adex_cond``: the adaptive exponential integrate-and-fire neuron (Brette &
Gerstner 2005, J. Neurophysiol. 94:3637), with exponential current synapses (``adex``, as
NEST's ``aeif_psc_exp``) or exponential conductances (``adex_cond``, as ``aeif_cond_exp``)::

    c_m dV/dt = -g_l (V - v_leak) + g_l delta_t exp((V - v_t)/delta_t) - w + I_syn + I
    tau_w dw/dt = a (V - v_leak) - w
    I_syn = sum_k I_k (adex)  or  sum_k g_k (e_rev_k - V) (adex_cond),  tau_syn_k dx_k/dt = -x_k
    V > v_threshold (V_peak):  V <- v_reset, w <- w + b, V clamped for t_refrac (w evolves)

I is the injected current plus ``bias``; weights are amperes (adex) or siemens (adex_cond).
As NEST does, the exponential is evaluated at min(V, V_peak).

Integrator (spikecore/engine/updates/adex.h): classical RK4 per step with the receptors'
exact exponential decay at the stages, and event location: where V crosses V_peak inside
a step, the crossing is found on the cubic Hermite interpolant of V, w jumps by b there,
and the refractory period and the rest of the step after the reset start at the crossing,
not at the step's end. The spike is reported at the step it falls in (time n dt for a
crossing in [n dt, (n+1) dt)). Measured (tests/models/test_adex.py, NEST's default
parameters with t_ref = 2 ms, 1000 to 2500 pA, first 20 spikes): against a scipy DOP853
(rtol 1e-10) event-located solution the largest error is 0.11 to 0.38 ms at dt = 0.1 ms,
0.05 to 0.08 ms at 0.02 ms, 0.022 to 0.034 ms at 0.01 ms and 0.009 to 0.018 ms at
0.005 ms (about linear in dt: the crossing's location and w's Euler step to it); NEST
3.10's aeif_cond_exp and aeif_psc_exp (adaptive RKF45) differ from that solution by
0.04 to 0.11 ms, and from spikecore at 0.01 ms by less than 0.25 ms.
The remainder of a step after a reset without refractoriness sees the receptors of the
next step's start: an error of order dt in the synaptic input of that fraction of a step.

Runs in the native grid engine only; precise mode, Loihi, Lava, Brian2 and NIR refuse it.
Parameters (NEST's defaults): c_m 281 pF, g_l 30 nS, v_leak -70.6 mV, delta_t 2 mV,
v_t -50.4 mV, tau_w 144 ms, a 4 nS, b 80.5 pA, v_reset -60 mV, v_threshold (V_peak) 0 mV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import units as u
from ..errors import ValidationError
from .base import NeuronModel, ParamSpec

#: receptors a population may have (the grid update's fixed arrays, updates/adex.h)
MAX_RECEPTORS = 8

PARAMS = {
    # the grid update reads the first ten in this order (updates/adex.h)
    "c_m": ParamSpec(u.CAPACITANCE, 281e-12, positive=True, doc="membrane capacitance"),
    "g_l": ParamSpec(u.CONDUCTANCE, 30e-9, positive=True, doc="leak conductance"),
    "v_leak": ParamSpec(u.VOLTAGE, -70.6e-3, doc="leak reversal potential (E_L); V's initial value"),
    "delta_t": ParamSpec(u.VOLTAGE, 2e-3, positive=True, doc="slope factor of the exponential"),
    "v_t": ParamSpec(u.VOLTAGE, -50.4e-3, doc="threshold of the exponential (V_T)"),
    "tau_w": ParamSpec(u.TIME, 144e-3, positive=True, doc="adaptation time constant"),
    "a": ParamSpec(u.CONDUCTANCE, 4e-9, doc="subthreshold adaptation"),
    "b": ParamSpec(u.CURRENT, 80.5e-12, doc="spike-triggered adaptation (w increment)"),
    "v_reset": ParamSpec(u.VOLTAGE, -60e-3, doc="V after a spike"),
    "v_threshold": ParamSpec(u.VOLTAGE, 0.0, doc="V_peak: a spike when V > V_peak"),
    "t_refrac": ParamSpec(u.TIME, 0.0, nonnegative=True, doc="refractory period (V clamped, w evolves)"),
    "bias": ParamSpec(u.CURRENT, 0.0, doc="constant input current"),
}


@dataclass(frozen=True)
class Adex(NeuronModel):
    @property
    def receptor_state_dim(self):
        return u.CONDUCTANCE if self.synapse == "conductance" else u.CURRENT

    def check_params(self, si, field):
        if not si["v_threshold"] > si["v_t"]:
            raise ValidationError(f"{field}.v_threshold", si["v_threshold"],
                                  f"V_peak above v_t ({si['v_t']} V): the upswing must reach it")

    def check_receptors(self, receptors, field):
        if len(receptors) > MAX_RECEPTORS:
            raise ValidationError(f"{field}.tau_syn", sorted(receptors), f"at most {MAX_RECEPTORS} receptors")

    def initial_value(self, var, si_params):
        if var == "phase":
            return -1.0     # no crossing pending (updates/adex.h)
        return super().initial_value(var, si_params)

    def tau_mem(self, params):
        return params["c_m"] / params["g_l"]

    def receptor_decay(self, receptor_params, dt):
        return math.exp(-dt / receptor_params["tau_syn"])

    def drive(self, params):
        return params.get("bias", 0.0), 1.0


_TAU_SYN = ParamSpec(u.TIME, positive=True, doc="synaptic time constant")

MODEL = Adex(
    name="adex", synapse="current", params=PARAMS, receptor_params={"tau_syn": _TAU_SYN},
    weight_dims=(u.CURRENT,), state={"v": u.VOLTAGE, "w": u.CURRENT}, receptor_state_prefix="syn_",
    doc="adaptive exponential integrate-and-fire, exponential current synapses (NEST aeif_psc_exp)",
    modes=frozenset({"grid"}), per_neuron_params=frozenset({"bias"}),
    internal_state=("phase", "fresh"),   # event location (updates/adex.h)
)

COND_MODEL = Adex(
    name="adex_cond", synapse="conductance", params=PARAMS,
    receptor_params={"tau_syn": _TAU_SYN, "e_rev": ParamSpec(u.VOLTAGE, doc="synaptic reversal potential")},
    weight_dims=(u.CONDUCTANCE,), state={"v": u.VOLTAGE, "w": u.CURRENT}, receptor_state_prefix="g_",
    doc="adaptive exponential integrate-and-fire, exponential conductances (NEST aeif_cond_exp)",
    modes=frozenset({"grid"}), per_neuron_params=frozenset({"bias"}),
    internal_state=("phase", "fresh"),
)
