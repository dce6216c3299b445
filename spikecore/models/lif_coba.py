"""``lif_coba``: LIF with exponential conductances and reversal potentials
(Brette et al. 2007, benchmark 1)::

    c_m dv/dt = g_l (v_leak - v) + sum_k g_k (e_rev_k - v) + I_ext
    tau_syn_k dg_k/dt = -g_k
    on spike:  g_k += w          (w in siemens)

Integrated by exponential Euler with the conductances of the step start (Brian2's
``exponential_euler``): the membrane's decay depends on the state, so there is no fixed
propagator. Loihi and NIR have current synapses only: the Loihi mapping approximates each
conductance by a current with the driving force taken midway between reset and threshold
(an error finding, applied only under the approximate policy); NIR refuses it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import units as u
from .base import COMMON_LIF_PARAMS, Brian2Equations, ConductanceMembrane, LoihiStructure, ParamSpec


@dataclass(frozen=True)
class LifCoba(ConductanceMembrane):
    def brian2_equations(self, params, receptors, dt, refractory_steps):
        flag = " (unless refractory)" if refractory_steps > 0 else ""
        constants = {"v_threshold": (params["v_threshold"], "volt"), "v_reset": (params["v_reset"], "volt"),
                     "v_leak": (params["v_leak"], "volt"), "c_m": (params["c_m"], "farad"),
                     # not g_l: a receptor named 'l' has conductance g_l
                     "gleak": (params["g_l"], "siemens")}
        terms, lines = "gleak*(v_leak - v)", []
        for rname, rp in receptors.items():
            var = self.receptor_var(rname)
            constants[f"tau_syn_{rname}"] = (rp["tau_syn"], "second")
            constants[f"e_rev_{rname}"] = (rp["e_rev"], "volt")
            terms += f" + {var}*(e_rev_{rname} - v)"
            lines.append(f"d{var}/dt = -{var}/tau_syn_{rname} : siemens")
        if np.ndim(params.get("bias", 0.0)) or params.get("bias", 0.0) != 0.0:
            constants["bias"] = (params["bias"], "amp")
            terms += " + bias"
        return Brian2Equations(dv_template=f"dv/dt = ({terms}{{cur}})/c_m : volt{flag}", ode_lines=lines,
                               constants=constants, current_term=" + I_ext", method="exponential_euler")

    def loihi_structure(self, params, receptors):
        v_mid = 0.5 * (params["v_reset"] + params["v_threshold"])
        inexact = (("conductance synapses", f"{len(receptors)} conductance receptor(s)",
                    "Loihi's LIF has current synapses only",
                    "use lif_cuba with weights w*(e_rev - v)/g_l at a typical v",
                    f"use current synapses with driving force e_rev - {v_mid * 1e3:g} mV "
                    "(midway between reset and threshold) and tau_mem = c_m/g_l"),)
        return LoihiStructure(tau_mem=self.tau_mem(params), current_gain=1.0 / params["g_l"],
                              receptor_gain={r: (rp["e_rev"] - v_mid) / params["g_l"] for r, rp in receptors.items()},
                              inexact=inexact)


PARAMS = {"c_m": ParamSpec(u.CAPACITANCE, positive=True, doc="membrane capacitance"),
          "g_l": ParamSpec(u.CONDUCTANCE, positive=True, doc="leak conductance"),
          **COMMON_LIF_PARAMS}

MODEL = LifCoba(
    name="lif_coba",
    synapse="conductance",
    params=PARAMS,
    receptor_params={"tau_syn": ParamSpec(u.TIME, positive=True, doc="synaptic time constant"),
                     "e_rev": ParamSpec(u.VOLTAGE, doc="synaptic reversal potential")},
    weight_dims=(u.CONDUCTANCE,),
    state={"v": u.VOLTAGE},
    receptor_state_prefix="g_",
    per_neuron_params=frozenset(PARAMS),   # every parameter (updates/lif_coba.h reads c_m, g_l, v_leak per neuron)
    doc="LIF with exponential conductances (Brette et al. 2007 COBA)",
    modes=frozenset({"grid", "loihi", "brian2", "lava", "nest"}),
)
