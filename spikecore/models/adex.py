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

``integrator: euler`` instead: forward Euler of V and w from each step's start (the
receptors as at the step start, their decay exact), the spike at the step's end and w += b
there, w taking its Euler step while V is clamped. Less accurate (spikes lag by up to a
step and drift), but Brian2 can run exactly this: its method ``'euler'`` for V and w with
the receptors' exact decay (backends/brian2.py, the ``euler_exact_decay`` state updater),
so native and Brian2 give the same spikes. The event-located rk4 is not expressible in
Brian2 (a reset inside a step), which refuses it naming the integrator.

Runs in the native grid engine, (integrator euler) Brian2 and NEST (``aeif_psc_exp`` /
``aeif_cond_exp`` with their adaptive RKF45 whatever the integrator: within tolerance,
backends/_nest_models.py); precise mode, Loihi, Lava and NIR refuse it. Every parameter may be a per-neuron array or a seeded distribution
(the grid update and the kernel's threshold read them per neuron; on Brian2 they are
per-neuron variables), except ``integrator``.
Parameters (NEST's defaults): c_m 281 pF, g_l 30 nS, v_leak -70.6 mV, delta_t 2 mV,
v_t -50.4 mV, tau_w 144 ms, a 4 nS, b 80.5 pA, v_reset -60 mV, v_threshold (V_peak) 0 mV.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..errors import ValidationError
from ..errors import UnsupportedFeature
from .base import Brian2Equations, ConductanceMembrane, ParamSpec

#: integrator name -> the code the grid update reads (param ``integrator``, updates/adex.h)
INTEGRATORS = {"rk4": 0, "euler": 1}

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
    "integrator": ParamSpec(u.DIMENSIONLESS, float(INTEGRATORS["rk4"]),
                            doc="rk4 (event-located, the default) or euler (module docstring)"),
}


#: what may differ per neuron: every parameter but the integrator (updates/adex.h reads them
#: from nparam, the kernel's threshold the per-neuron V_peak, v_reset and t_refrac)
PER_NEURON = frozenset(PARAMS) - {"integrator"}


@dataclass(frozen=True)
class Adex(ConductanceMembrane):
    @property
    def receptor_state_dim(self):
        return u.CONDUCTANCE if self.synapse == "conductance" else u.CURRENT

    def expand_params(self, params, field):
        method = params.get("integrator")
        if isinstance(method, str):
            if method not in INTEGRATORS:
                raise ValidationError(f"{field}.integrator", method, "one of " + ", ".join(INTEGRATORS))
            params = {**params, "integrator": INTEGRATORS[method]}
        return params

    def check_params(self, si, field):
        if si["integrator"] not in INTEGRATORS.values():
            raise ValidationError(f"{field}.integrator", si["integrator"], "one of " + ", ".join(INTEGRATORS))
        if not np.all(np.asarray(si["v_threshold"]) > np.asarray(si["v_t"])):
            raise ValidationError(f"{field}.v_threshold", si["v_threshold"],
                                  f"V_peak above v_t ({si['v_t']} V): the upswing must reach it")

    def check_receptors(self, receptors, field):
        if len(receptors) > MAX_RECEPTORS:
            raise ValidationError(f"{field}.tau_syn", sorted(receptors), f"at most {MAX_RECEPTORS} receptors")

    def brian2_unit(self, var):
        if var == "w":
            return "amp"
        return "volt" if var == "v" else ("siemens" if self.synapse == "conductance" else "amp")

    def brian2_equations(self, params, receptors, dt, refractory_steps):
        if int(params["integrator"]) != INTEGRATORS["euler"]:
            raise UnsupportedFeature("brian2", f"{self.name}'s integrator rk4",
                                     "integrator: euler runs on Brian2; rk4 resets inside a step where V "
                                     "crosses V_peak, which Brian2's state updaters cannot express")
        flag = " (unless refractory)" if refractory_steps > 0 else ""
        constants = {"c_m": (params["c_m"], "farad"), "gleak": (params["g_l"], "siemens"),
                     "v_leak": (params["v_leak"], "volt"), "delta_t": (params["delta_t"], "volt"),
                     "v_t": (params["v_t"], "volt"), "tau_w": (params["tau_w"], "second"),
                     "a": (params["a"], "siemens"), "b": (params["b"], "amp"), "bias": (params["bias"], "amp"),
                     "v_threshold": (params["v_threshold"], "volt"), "v_reset": (params["v_reset"], "volt")}
        # the grid update's sum, in its order (updates/adex.h adex_rhs); the exponential at
        # min(v, V_peak) as NEST's (a free neuron starts each step at v <= V_peak anyway)
        terms = "-gleak*(v - v_leak) + gleak*delta_t*exp((clip(v, -inf*volt, v_threshold) - v_t)/delta_t) - w"
        terms += " + bias{cur}"
        unit = "siemens" if self.synapse == "conductance" else "amp"
        lines = ["dw/dt = (a*(v - v_leak) - w)/tau_w : amp"]
        for rname, rp in receptors.items():
            var = self.receptor_var(rname)
            constants[f"tau_syn_{rname}"] = (rp["tau_syn"], "second")
            if self.synapse == "conductance":
                constants[f"e_rev_{rname}"] = (rp["e_rev"], "volt")
                terms += f" + {var}*(e_rev_{rname} - v)"
            else:
                terms += f" + {var}"
            lines.append(f"d{var}/dt = -{var}/tau_syn_{rname} : {unit}")
        return Brian2Equations(dv_template=f"dv/dt = ({terms})/c_m : volt{flag}", ode_lines=lines,
                               constants=constants, current_term=" + I_ext", method="euler_exact_decay",
                               reset="v = v_reset\nw += b")

    def initial_value(self, var, si_params):
        if var == "phase":
            return -1.0     # no crossing pending (updates/adex.h)
        return super().initial_value(var, si_params)


_TAU_SYN = ParamSpec(u.TIME, positive=True, doc="synaptic time constant")

MODEL = Adex(
    name="adex", synapse="current", params=PARAMS, receptor_params={"tau_syn": _TAU_SYN},
    weight_dims=(u.CURRENT,), state={"v": u.VOLTAGE, "w": u.CURRENT}, receptor_state_prefix="syn_",
    doc="adaptive exponential integrate-and-fire, exponential current synapses (NEST aeif_psc_exp)",
    modes=frozenset({"grid", "brian2", "nest"}), per_neuron_params=PER_NEURON,
    internal_state=("phase", "fresh"),   # event location (updates/adex.h)
)

COND_MODEL = Adex(
    name="adex_cond", synapse="conductance", params=PARAMS,
    receptor_params={"tau_syn": _TAU_SYN, "e_rev": ParamSpec(u.VOLTAGE, doc="synaptic reversal potential")},
    weight_dims=(u.CONDUCTANCE,), state={"v": u.VOLTAGE, "w": u.CURRENT}, receptor_state_prefix="g_",
    doc="adaptive exponential integrate-and-fire, exponential conductances (NEST aeif_cond_exp)",
    modes=frozenset({"grid", "brian2", "nest"}), per_neuron_params=PER_NEURON,
    internal_state=("phase", "fresh"),
)
