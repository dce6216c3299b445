"""``alif`` and ``alif_current``: the leaky integrate-and-fire neuron with spike-triggered
adaptation, in its two common forms, on lif_cuba's membrane and exponential current
synapses (weights in volts, or amperes converted with r)::

    tau_mem dv/dt = (v_leak - v) + sum_k syn_k + r (I + bias)          [alif]
    tau_mem dv/dt = (v_leak - v) + sum_k syn_k + r (I + bias - w)      [alif_current]
                                                  (w: the state variable ``i_adapt``)
    tau_syn_k dsyn_k/dt = -syn_k

``alif``, an adaptive threshold (Bellec et al. 2018, "Long short-term memory and
learning-to-learn in networks of spiking neurons", their A_j = b_j0 + beta a_j with
beta a_j held here as one variable in volts; Lava's ATRLIF theta)::

    tau_adapt da/dt = -a
    spike when v > v_threshold + a (and not refractory):  v <- v_reset,  a <- a + delta_threshold

``alif_current``, an adaptation current (a spike-triggered, purely decaying w: Brian2's
documented adaptation ``w += b`` with ``dw/dt = -w/tau_w``; NEST's aeif models without the
exponential and with a = 0; the state variable is ``i_adapt``, not ``w``, because Brian2's
synapses see their target's variables by name and call their own weight ``w``)::

    tau_w dw/dt = -w
    spike when v > v_threshold (and not refractory):  v <- v_reset,  w <- w + b

v is clamped for t_refrac after a spike; the receptors, a and w keep decaying.

Integration. Both systems are linear between spikes, so they are integrated exactly, as
lif_cuba (the propagator of NEST's iaf_psc_exp, Brian2's ``method='exact'``): per step v
relaxes by exp(-dt/tau_mem) towards v_leak + r (I + bias), each receptor adds
``synaptic_coefficient`` times its value and decays by exp(-dt/tau_syn), a decays by
exp(-dt/tau_adapt), and w acts on v as a receptor of time constant tau_w and weight -r w
(the same coefficient with tau_w for tau_syn, the limit t exp(-t/tau) where they are equal).
The adaptive threshold of a step is v_threshold + a after a's decay over that step, i.e. the
threshold at the time v is compared (Brian2's order: state update, then threshold).

Why two registered models and not one with a ``form`` parameter: the forms have different
state (a threshold offset in volts against a current in amperes), different parameters
(tau_adapt and delta_threshold against tau_w and b, with different units) and different
deployments (only an adaptive threshold has a Lava process, ATRLIF); the registry declares
state, parameter specs and modes per model, so each form is one model, as adex/adex_cond.

Per neuron: every parameter except v_reset and t_refrac (the common reset step applies one
value per population) may be an array or a seeded distribution, bias included. The grid
engine's update (spikecore/engine/updates/alif.h) computes the per-neuron membrane decay
and synaptic coefficients from tau_mem with the expressions of lif_cuba; the adaptive
threshold is the per-neuron threshold of the common threshold step
(``NeuronModel.threshold_state``).

Modes: the native grid engine and Brian2 (the same equations as text). Lava's ATRLIF is not
an exact target: it has no reset to v_reset -- it fires at (v - r) >= theta and then adds
2 theta to a decaying refractory variable r, a reset by subtraction whose size depends on
theta -- so no alif parameters reproduce it; Lava and the native Loihi mode refuse alif
naming that reason (``spikecore lint`` reports it as an error). Precise timing, NIR and NEST
have no such neuron and refuse both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..errors import UnsupportedFeature
from .base import LEAKY_LIF_PARAMS, ParamSpec, brian2_current_lif
from .lif_cuba import LifCuba, degenerate

#: why Lava's ATRLIF (and so the Loihi mode) cannot run an adaptive-threshold alif exactly
ATRLIF_INEXACT = ("Lava's ATRLIF has no reset to v_reset: it fires at (v - r) >= theta and adds 2 theta to a "
                  "decaying refractory variable r (a reset by subtraction), so no alif maps onto it exactly")

#: the parameters both forms share, then each form's own (the grid update reads them in this order)
THRESHOLD_PARAMS = {
    **LEAKY_LIF_PARAMS,
    "tau_adapt": ParamSpec(u.TIME, 0.1, positive=True, doc="time constant of the threshold's adaptation a"),
    "delta_threshold": ParamSpec(u.VOLTAGE, 1e-3, nonnegative=True, doc="increase of the threshold per spike"),
}
CURRENT_PARAMS = {
    **LEAKY_LIF_PARAMS,
    "tau_w": ParamSpec(u.TIME, 0.1, positive=True, doc="time constant of the adaptation current w"),
    "b": ParamSpec(u.CURRENT, 10e-12, nonnegative=True, doc="increase of the adaptation current per spike"),
}
#: parameters the common reset step reads, one value per population
POPULATION_ONLY = ("v_reset", "t_refrac")


def _per_neuron(params: dict, *names) -> bool:
    return any(np.ndim(params[n]) > 0 for n in names)


@dataclass(frozen=True)
class Alif(LifCuba):
    """Both forms (module docstring); ``adaptation`` is the form's state variable: "a" or "i_adapt"."""
    adaptation: str = "a"

    # per-neuron tau_mem: the grid update computes its coefficients per neuron (the population's are unused)
    def membrane_decay(self, params, dt):
        return None if _per_neuron(params, "tau_mem") else super().membrane_decay(params, dt)

    def synaptic_coefficient(self, params, receptor_params, dt):
        return None if _per_neuron(params, "tau_mem") else super().synaptic_coefficient(params, receptor_params, dt)

    def initial_value(self, var, si_params):
        if var == "theta":
            return si_params["v_threshold"]
        return super().initial_value(var, si_params)

    def brian2_unit(self, var):
        return "amp" if var == "i_adapt" else "volt"

    def unsupported_reason(self, mode):
        if mode in ("lava", "loihi"):
            return ATRLIF_INEXACT if self.adaptation == "a" else "Loihi and Lava have no adaptation current"
        return ""

    def brian2_equations(self, params, receptors, dt, refractory_steps):
        tau_mem = params["tau_mem"]
        taus = [rp["tau_syn"] for rp in receptors.values()]
        if self.adaptation != "a":
            taus.append(params["tau_w"])
        coupled = ("tau_mem", "tau_w") if self.adaptation != "a" else ("tau_mem",)
        if _per_neuron(params, *coupled):
            for ts in taus:
                if np.any(np.isclose(tau_mem, ts, rtol=1e-12, atol=0)):
                    raise UnsupportedFeature("brian2", f"a per-neuron tau_mem equal to another time constant "
                                             f"(model {self.name})",
                                             "Brian2's exact solution divides by their difference there")
            same = False
        else:
            same = any(degenerate(tau_mem, float(ts)) for ts in np.ravel(taus))
        if self.adaptation == "a":
            return brian2_current_lif(
                self, params, receptors, refractory_steps, same, adaptation_line="da/dt = -a/tau_adapt : volt",
                adaptation_constants={"tau_adapt": (params["tau_adapt"], "second"),
                                      "delta_threshold": (params["delta_threshold"], "volt")},
                threshold="v > v_threshold + a", reset="v = v_reset\na += delta_threshold")
        scalar_same = not _per_neuron(params, "tau_mem", "tau_w") and degenerate(tau_mem, params["tau_w"])
        constants = {} if scalar_same else {"tau_w": (params["tau_w"], "second")}
        constants["b"] = (params["b"], "amp")
        return brian2_current_lif(
            self, params, receptors, refractory_steps, same, adaptation_term=" - r*i_adapt",
            adaptation_line=f"di_adapt/dt = -i_adapt/{'tau_mem' if scalar_same else 'tau_w'} : amp",
            adaptation_constants=constants, reset="v = v_reset\ni_adapt += b")

    def loihi_structure(self, params, receptors):
        raise NotImplementedError(f"model {self.name} has no Loihi mapping ({ATRLIF_INEXACT})")


_TAU_SYN = ParamSpec(u.TIME, positive=True, doc="synaptic time constant")

def _alif(name, params, adaptation, adaptation_dim, doc):
    """One of the two forms: its parameters, its adaptation variable, the rest shared."""
    return Alif(
        name=name, synapse="current", params=params, receptor_params={"tau_syn": _TAU_SYN},
        weight_dims=(u.VOLTAGE, u.CURRENT), state={"v": u.VOLTAGE, adaptation: adaptation_dim},
        receptor_state_prefix="syn_", doc=doc, modes=frozenset({"grid", "brian2"}),
        per_neuron_params=frozenset(set(params) - set(POPULATION_ONLY)),
        internal_state=("theta",), threshold_state="theta", adaptation=adaptation)


MODEL = _alif("alif", THRESHOLD_PARAMS, "a", u.VOLTAGE,
              "LIF with an adaptive threshold (Bellec et al. 2018), exponential current synapses")
CURRENT_MODEL = _alif("alif_current", CURRENT_PARAMS, "i_adapt", u.CURRENT,
                      "LIF with a spike-triggered adaptation current, exponential current synapses")
