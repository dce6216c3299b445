"""Neuron models: their parameters, state variables, synapses and equations.

This is the single table that the description layer validates against and that
every backend reads. Parameter names follow NIR where NIR has the concept
(``tau_mem``, ``tau_syn``, ``v_leak``, ``v_threshold``, ``v_reset``, ``r``).
All values are SI floats once validated (spikecore.units).

Models (``dt`` the step; all integrate exactly or by exponential Euler, never forward Euler):

``lif_delta`` — LIF with delta (voltage-jump) synapses, Brunel (2000)::

    tau_mem dv/dt = (v_leak - v) + r * I_ext
    on spike:  v += w            (w in volts; discarded while refractory, as NEST)

``lif_cuba`` — LIF with exponential current synapses, one time constant per receptor
(Brian2 ``examples/CUBA.py``; NIR ``CubaLIF``)::

    tau_mem dv/dt = (v_leak - v) + sum_k syn_k + r * I_ext
    tau_syn_k dsyn_k/dt = -syn_k
    on spike:  syn_k += w        (w in volts: the synaptic drive r*I_k; a weight in
                                  amperes is converted once with the population's r)

``lif_coba`` — LIF with exponential conductances and reversal potentials
(Brette et al. 2007, benchmark 1)::

    c_m dv/dt = g_l (v_leak - v) + sum_k g_k (e_rev_k - v) + I_ext
    tau_syn_k dg_k/dt = -g_k
    on spike:  g_k += w          (w in siemens)

Common to all: a spike is emitted when ``v > v_threshold`` (strict) and the neuron is
not refractory; then ``v = v_reset`` and v is clamped for ``t_refrac`` (synaptic
variables keep evolving, as Brian2's ``(unless refractory)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import units as u

REQUIRED = object()


@dataclass(frozen=True)
class ParamSpec:
    dim: tuple
    default: object = REQUIRED
    positive: bool = False       # strictly > 0
    nonnegative: bool = False    # >= 0
    doc: str = ""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    synapse: str                        # "delta" | "current" | "conductance"
    params: dict                        # name -> ParamSpec (scalar per population)
    receptor_params: dict               # name -> ParamSpec (one value per receptor)
    weight_dims: tuple                  # accepted weight dimensions, first is the IR's
    state: dict = field(default_factory=dict)   # state var -> dim (receptor vars listed by prefix)
    receptor_state_prefix: str = ""
    default_receptors: tuple = ()
    doc: str = ""

    @property
    def weight_dim(self):
        return self.weight_dims[0]

    def state_variables(self, receptors) -> dict:
        out = dict(self.state)
        if self.synapse == "delta":   # delta synapses act on v directly: no synaptic state
            return out
        for r in receptors:
            out[f"{self.receptor_state_prefix}{r}"] = self.receptor_state_dim
        return out

    @property
    def receptor_state_dim(self):
        return u.CONDUCTANCE if self.synapse == "conductance" else u.VOLTAGE


_COMMON = {
    "v_leak": ParamSpec(u.VOLTAGE, doc="resting (leak reversal) potential"),
    "v_threshold": ParamSpec(u.VOLTAGE, doc="spike when v > v_threshold"),
    "v_reset": ParamSpec(u.VOLTAGE, doc="v after a spike"),
    "t_refrac": ParamSpec(u.TIME, 0.0, nonnegative=True, doc="refractory period (v clamped)"),
}

# 100 Mohm: a typical input resistance; only used to convert injected currents.
DEFAULT_R = 1e8

MODELS = {
    "lif_delta": ModelSpec(
        name="lif_delta",
        synapse="delta",
        params={"tau_mem": ParamSpec(u.TIME, positive=True, doc="membrane time constant"),
                **_COMMON,
                "r": ParamSpec(u.RESISTANCE, DEFAULT_R, positive=True,
                               doc="membrane resistance (scales injected current)")},
        receptor_params={},
        weight_dims=(u.VOLTAGE,),
        state={"v": u.VOLTAGE},
        default_receptors=("default",),
        doc="LIF with delta (voltage-jump) synapses (Brunel 2000)",
    ),
    "lif_cuba": ModelSpec(
        name="lif_cuba",
        synapse="current",
        params={"tau_mem": ParamSpec(u.TIME, positive=True, doc="membrane time constant"),
                **_COMMON,
                "r": ParamSpec(u.RESISTANCE, DEFAULT_R, positive=True,
                               doc="membrane resistance (scales currents in A)")},
        receptor_params={"tau_syn": ParamSpec(u.TIME, positive=True, doc="synaptic time constant")},
        weight_dims=(u.VOLTAGE, u.CURRENT),
        state={"v": u.VOLTAGE},
        receptor_state_prefix="syn_",
        doc="LIF with exponential current synapses (Brian2 CUBA)",
    ),
    "lif_coba": ModelSpec(
        name="lif_coba",
        synapse="conductance",
        params={"c_m": ParamSpec(u.CAPACITANCE, positive=True, doc="membrane capacitance"),
                "g_l": ParamSpec(u.CONDUCTANCE, positive=True, doc="leak conductance"),
                **_COMMON},
        receptor_params={"tau_syn": ParamSpec(u.TIME, positive=True, doc="synaptic time constant"),
                         "e_rev": ParamSpec(u.VOLTAGE, doc="synaptic reversal potential")},
        weight_dims=(u.CONDUCTANCE,),
        state={"v": u.VOLTAGE},
        receptor_state_prefix="g_",
        doc="LIF with exponential conductances (Brette et al. 2007 COBA)",
    ),
}


def get_model(name: str) -> ModelSpec:
    from .errors import ValidationError

    if name not in MODELS:
        raise ValidationError("model", name, "one of " + ", ".join(sorted(MODELS)))
    return MODELS[name]
