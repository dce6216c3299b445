"""The neuron-model contract: what a model module declares and what the rest of spikecore asks it.

One model, one module (``spikecore/models/<name>.py``), registered by one line in
``spikecore/models/__init__.py``. Engines, backends, IO and hwmodels never compare a
model's name: they call ``get_model(pop.model)`` and ask the returned ``NeuronModel``.
Everything here is plain Python and numpy, so IR -> IR passes (hwmodels) and IO use it
without the compiled engine, and no backend library is imported.

What a model declares (dataclass fields)
----------------------------------------
``name``               the registry key, the IR's ``PopulationNode.model``
``synapse``            "delta" (voltage jumps), "current" (exponential currents),
                       "conductance" (exponential conductances) or "integer" (a
                       hardware model whose inputs are integer messages)
``params``             name -> ParamSpec: scalar per population, with its dimension
                       (spikecore.units), default and range
``receptor_params``    name -> ParamSpec: one value per receptor (tau_syn, e_rev)
``weight_dims``        the weight dimensions a projection onto it accepts; the first
                       is the one the IR holds
``state``              state variables other than the per-receptor ones -> dimension
``receptor_state_prefix``  a receptor ``exc`` is held in ``<prefix>exc`` ("" for none)
``default_receptors``  receptors of a model without receptor parameters
``modes``              where it runs (``MODES``): "grid" and "precise" (the native
                       engine's two float modes), "loihi" (the native bit-accurate
                       Loihi mode, through the Loihi quantization pass unless the
                       model is already integer), "brian2", "lava", "nir" (export and
                       import), "nest" (backends/nest.py maps a leaky LIF by its synapse
                       kind onto NEST's iaf_psc_delta, iaf_psc_exp, iaf_cond_exp). Every
                       other place refuses it: ``require(mode, ...)`` (or
                       the registry's ``model_for(name, mode, ...)``, which also takes
                       names that are not registered) raises UnsupportedFeature naming
                       the model and the modes it has.
``describable``        whether model files and ``spikecore.Network`` accept it (an
                       IR-only model is not; equation-defined ones are described by their equations)
``per_neuron_params``  the parameters that may be a per-neuron array or a seeded
                       distribution (its grid update reads them per neuron: sc_block.nparam,
                       with ``per_neuron_coefficients`` after them; v_threshold, v_reset
                       and t_refrac per neuron go to the kernel's threshold, except for a
                       model with ``threshold_state``)
``threshold_state``    None (the common threshold compares v with v_threshold), or the
                       variable of ``extra_state`` that holds each neuron's threshold: the
                       grid update writes it every step and the common threshold compares
                       v with it (an adaptive threshold: ``alif``)

What the others ask it (methods; a model overrides what differs from the defaults)
------------------------------------------------------------------------------------
Description layer (spikecore.network, io): ``weight_dim``, ``state_variables``,
``receptor_state_dim``, ``state_dim``.
State and recording (engines, backends, io/neo): ``receptor_var(r)`` (the variable
holding receptor r, None for delta synapses), ``receptor_of_var``.
Maths, all exact per step (engines, hwmodels passes, the Loihi mapping):
``tau_mem(params)``, ``membrane_decay(params, dt)`` (None when the decay depends on
the state, as with conductances), ``receptor_decay(rp, dt)``,
``synaptic_coefficient(params, rp, dt)`` (the exact contribution of a receptor's
variable at t to v at t + dt; None when not linear), ``drive(params)`` (the native
engines' constant drive and its gain per ampere injected).
Precise mode: ``synaptic_kernel(t, params, rp)`` and ``kernel_peak``.
Equation-defined models (spikecore/models/equations.py) answer ``threshold_in_update``
(their grid update evaluates the spike condition itself) and ``receptor_weight_dims(r)``
(each target variable has its own unit); every other model keeps the defaults.
Brian2: ``brian2_equations(params, receptors, dt, refractory_steps)`` -> ``Brian2Equations``
(equation text, constants with unit names, integration method; no brian2 import here).
Loihi: ``loihi_structure(params, receptors)`` -> ``LoihiStructure`` (the membrane time
constant, the gain of injected current, each receptor's drive factor, and what cannot
be represented exactly); ``spikecore.models.loihi_lif`` holds the integer model itself.
NIR: ``nir_kind`` ("delta" maps onto NIR's LIF/IF/LI/I, "current" onto CubaLIF/CubaLI;
None: no NIR node) and ``model_for_nir`` in the registry for the way back.

Common to the float models: a spike is emitted when ``v > v_threshold`` (strict) and the
neuron is not refractory; then ``v = v_reset`` and v is clamped for ``t_refrac``
(synaptic variables keep evolving, as Brian2's ``(unless refractory)``). The order of
operations in one step is the IR's (docs/architecture.md, spikecore/ir.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import units as u

REQUIRED = object()

#: every mode a model may run in (see the module docstring)
MODES = ("grid", "precise", "loihi", "brian2", "lava", "nir", "nest")

#: where a mode's refusal comes from, as UnsupportedFeature names it
MODE_ENGINES = {"grid": "native", "precise": "native --timing precise", "loihi": "native --format loihi",
                "brian2": "brian2", "lava": "lava", "nir": "NIR", "nest": "nest"}


@dataclass(frozen=True)
class ParamSpec:
    dim: tuple
    default: object = REQUIRED
    positive: bool = False       # strictly > 0
    nonnegative: bool = False    # >= 0
    doc: str = ""
    bounds: tuple | None = None  # (lo, hi) inclusive, for integer hardware registers


@dataclass(frozen=True)
class Brian2Equations:
    """A population's Brian2 equations as text (no brian2 object): ``dv_template`` is the
    dv/dt line with a ``{cur}`` slot for the injected-current term ``current_term``;
    ``ode_lines`` the receptors' equations; ``constants`` name -> (value, Brian2 unit name);
    ``clamp_v`` clamps v by a conditional write instead of ``(unless refractory)``;
    ``delta_gate`` gates delta-synapse jumps by not_refractory; ``threshold`` and ``reset`` are
    the NeuronGroup's conditions, whole (an adaptive threshold: alif's ``v > v_threshold + a``;
    a reset that does more than ``v = v_reset``: izhikevich's ``u += d`` after it). ``method``
    is a Brian2 state updater's name, or one of backends/brian2.py's own (``izhikevich2003``,
    ``euler_exact_decay``)."""
    dv_template: str
    ode_lines: list
    constants: dict
    current_term: str
    method: str
    clamp_v: bool = False
    delta_gate: bool = False
    threshold: str = "v > v_threshold"
    reset: str = "v = v_reset"


@dataclass(frozen=True)
class LoihiStructure:
    """A float model on Loihi's LIF structure (hwmodels.loihi maps it): the membrane time
    constant, volts of drive per ampere injected, the voltage between reset and threshold
    where a conductance's driving force is taken (None when none is needed), per receptor
    the factor its weights are scaled by before the synaptic coefficient, and ``inexact``:
    what the structure cannot represent, as (rule, value, hardware, fix, approximation)
    tuples that hwmodels.loihi turns into error findings."""
    tau_mem: float
    current_gain: float
    receptor_gain: dict
    inexact: tuple = ()


@dataclass(frozen=True)
class NeuronModel:
    """A neuron model: parameters, state, synapse type, maths and per-mode needs (module docstring)."""
    name: str
    synapse: str                        # "delta" | "current" | "conductance" | "integer"
    params: dict                        # name -> ParamSpec (scalar per population)
    receptor_params: dict               # name -> ParamSpec (one value per receptor)
    weight_dims: tuple                  # accepted weight dimensions, first is the IR's
    state: dict = field(default_factory=dict)   # state var -> dim (receptor vars listed by prefix)
    receptor_state_prefix: str = ""
    default_receptors: tuple = ()
    doc: str = ""
    modes: frozenset = frozenset()
    describable: bool = True
    nir_kind: str | None = None
    per_neuron_params: frozenset = frozenset()   # params that may differ per neuron (its grid update reads them so)
    internal_state: tuple = ()                  # grid-update variables after extra_state's, not user-visible
    threshold_state: str | None = None          # the extra_state variable holding a per-neuron threshold

    # -- description layer: presets, named options and initial values --------------------
    def expand_params(self, params: dict, field: str) -> dict:
        """The user's parameters with named presets and options replaced by their values
        (``field`` prefixes the names in errors); the default has none."""
        return params

    def check_params(self, si: dict, field: str) -> None:
        """Cross-parameter checks on the SI values (``field`` prefixes the names in errors)."""

    def check_receptors(self, receptors: dict, field: str) -> None:
        """Checks on the receptors (name -> parameters) a population declares."""

    def check_state(self, var: str, values: np.ndarray, field: str) -> None:
        """Checks on the realised initial values of state variable ``var`` (e.g. a hardware
        model's integer widths); the default has none."""

    def initial_value(self, var: str, si_params: dict):
        """The initial value of state variable ``var`` when none is given (SI; v: v_leak)."""
        return si_params["v_leak"] if var == "v" else 0.0

    @property
    def extra_state(self) -> list:
        """State variables other than v and the receptors', in the order the grid update's
        ``xstate`` holds them."""
        return [var for var in self.state if var != "v"] + list(self.internal_state)

    # -- description layer ------------------------------------------------------------
    @property
    def weight_dim(self):
        return self.weight_dims[0]

    #: the grid update evaluates the spike condition itself and writes 1 or 0 into the kernel's v, and
    #: a reset function runs after the threshold (equation-defined models, spikecore/engine/equations.py)
    threshold_in_update = False

    def receptor_weight_dims(self, receptor) -> tuple:
        """The weight dimensions a projection onto ``receptor`` accepts (the first is the IR's);
        the same for every receptor except in equation-defined models (one per target variable)."""
        return self.weight_dims

    @property
    def has_synaptic_state(self) -> bool:
        """Whether each receptor has a state variable of its own (not so for delta synapses)."""
        return bool(self.receptor_state_prefix)

    @property
    def receptor_state_dim(self):
        return u.CONDUCTANCE if self.synapse == "conductance" else u.VOLTAGE

    def state_variables(self, receptors) -> dict:
        out = dict(self.state)
        if not self.has_synaptic_state:
            return out
        for r in receptors:
            out[self.receptor_var(r)] = self.receptor_state_dim
        return out

    def state_dim(self, var: str, receptors) -> tuple | None:
        """The dimension of state variable ``var`` (None when the model has no such variable)."""
        return self.state_variables(receptors).get(var)

    def receptor_var(self, receptor: str) -> str | None:
        """The state variable holding ``receptor`` (None when receptors have no state)."""
        return f"{self.receptor_state_prefix}{receptor}" if self.has_synaptic_state else None

    def receptor_of_var(self, var: str, receptors) -> str | None:
        """The receptor among ``receptors`` whose state variable is ``var`` (None if none is)."""
        for r in receptors:
            if self.receptor_var(r) == var:
                return r
        return None

    # -- modes ------------------------------------------------------------------------
    def supports(self, mode: str) -> bool:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
        return mode in self.modes

    def require(self, mode: str, where: str = "", engine: str | None = None, others=None) -> "NeuronModel":
        """Self when it runs in ``mode``; else UnsupportedFeature naming the model, ``where``
        (e.g. "population exc"), the modes it runs in and, if given, the ``others`` that run
        there (the registry's ``model_for`` passes them)."""
        if self.supports(mode):
            return self
        from ..errors import UnsupportedFeature
        runs_in = f"{self.name} runs in: " + (", ".join(m for m in MODES if m in self.modes) or "nothing")
        hint = runs_in if others is None else f"one of {', '.join(others)}; {runs_in}"
        reason = self.unsupported_reason(mode)
        raise UnsupportedFeature(engine or MODE_ENGINES[mode], f"model '{self.name}'" + (f" ({where})" if where else ""),
                                 f"{reason}; {hint}" if reason else hint)

    def unsupported_reason(self, mode: str) -> str:
        """Why the model does not run in ``mode`` when there is more to say than that nobody
        implemented it (e.g. the target's neuron differs in a way no parameters bridge); "" else.
        Refusals (``require``) and hwmodels.lint's findings quote it."""
        return ""

    # -- maths (defaults: no membrane time constant, no linear synapse) ----------------
    def tau_mem(self, params: dict) -> float | None:
        """The membrane time constant (s), None when there is none."""
        return params.get("tau_mem")

    def membrane_decay(self, params: dict, dt: float) -> float | None:
        """v's decay over one step without input, exp(-dt/tau_mem); None when it depends on the state."""
        return None

    def receptor_decay(self, receptor_params: dict, dt: float) -> float | None:
        """A receptor variable's decay over one step, exp(-dt/tau_syn); None without receptor state."""
        return None

    def synaptic_coefficient(self, params: dict, receptor_params: dict, dt: float) -> float | None:
        """The exact contribution of a receptor's variable at t to v at t + dt (None: not a linear synapse)."""
        return None

    def per_neuron_coefficients(self, params: dict, receptors: dict, dt: float) -> list:
        """Per-neuron coefficients the grid update reads after the parameters in nparam when
        the population has per-neuron parameters (arrays of its size, e.g. a LIF's decay
        exp(-dt/tau_mem) per neuron); none by default."""
        return []

    def drive(self, params: dict) -> tuple:
        """The native engines' drive: (its value without injected current, its gain per ampere)."""
        raise NotImplementedError(f"model {self.name} has no float drive")

    def synaptic_kernel(self, t, params: dict, receptor_params: dict):
        """v(t) after a unit step of a receptor's variable at 0 (precise mode's spike-time search)."""
        raise NotImplementedError(f"model {self.name} has no analytic synaptic kernel")

    def kernel_peak(self, h: float, params: dict, receptor_params: dict) -> float:
        raise NotImplementedError(f"model {self.name} has no analytic synaptic kernel")

    # -- per-backend needs --------------------------------------------------------------
    def brian2_equations(self, params: dict, receptors: dict, dt: float, refractory_steps: int) -> Brian2Equations:
        raise NotImplementedError(f"model {self.name} has no Brian2 equations")

    def brian2_unit(self, var: str) -> str:
        """The Brian2 unit name of state variable ``var``."""
        return "volt" if var == "v" or self.receptor_state_dim == u.VOLTAGE else "siemens"

    def loihi_structure(self, params: dict, receptors: dict) -> LoihiStructure:
        raise NotImplementedError(f"model {self.name} has no Loihi mapping")


#: the fields every float LIF model shares
COMMON_LIF_PARAMS = {
    "v_leak": ParamSpec(u.VOLTAGE, doc="resting (leak reversal) potential"),
    "v_threshold": ParamSpec(u.VOLTAGE, doc="spike when v > v_threshold"),
    "v_reset": ParamSpec(u.VOLTAGE, doc="v after a spike"),
    "t_refrac": ParamSpec(u.TIME, 0.0, nonnegative=True, doc="refractory period (v clamped)"),
    "bias": ParamSpec(u.CURRENT, 0.0, doc="constant input current, per neuron if wanted (added to injected currents)"),
}

# 100 Mohm: a typical input resistance; only used to convert injected currents.
DEFAULT_R = 1e8

#: the parameters of a LIF whose membrane is tau_mem dv/dt = (v_leak - v) + r I
LEAKY_LIF_PARAMS = {
    "tau_mem": ParamSpec(u.TIME, positive=True, doc="membrane time constant"),
    **COMMON_LIF_PARAMS,
    "r": ParamSpec(u.RESISTANCE, DEFAULT_R, positive=True,
                   doc="membrane resistance (volts of drive per ampere: injected currents, current weights)"),
}


def leaky_drive(params: dict):
    """v_leak + r bias: the value tau_mem dv/dt = (drive - v) relaxes to without input."""
    bias = params.get("bias", 0.0)
    return params["v_leak"] + params["r"] * bias if np.ndim(bias) or bias != 0.0 else params["v_leak"]


def brian2_lif_constants(params: dict) -> dict:
    """The Brian2 constants of a LEAKY_LIF_PARAMS membrane: name -> (value, unit name)."""
    return {"v_threshold": (params["v_threshold"], "volt"), "v_reset": (params["v_reset"], "volt"),
            # the bias is a constant drive: it shifts v_leak (per neuron when it is an array)
            "v_leak": (leaky_drive(params), "volt"), "tau_mem": (params["tau_mem"], "second"),
            "r": (params["r"], "ohm")}


def degenerate(tau_mem: float, tau_syn: float) -> bool:
    """tau_syn == tau_mem, where the general solution divides by zero (the t*exp solution holds)."""
    return math.isclose(tau_syn, tau_mem, rel_tol=1e-12)


def brian2_current_lif(model, params: dict, receptors: dict, refractory_steps: int, same: bool, *,
                       adaptation_term: str = "", adaptation_line: str | None = None,
                       adaptation_constants: dict | None = None, threshold: str = "v > v_threshold",
                       reset: str = "v = v_reset") -> "Brian2Equations":
    """The Brian2 equations of a leaky LIF with exponential current synapses (lif_cuba, and alif's
    two forms with their adaptation added): tau_mem dv/dt = v_leak - v + sum_k syn_k
    [+ ``adaptation_term``] + r I_ext, each syn_k decaying with its tau_syn, solved exactly.

    A receptor whose tau_syn equals a scalar tau_mem decays with ``tau_mem`` itself (so sympy
    finds the degenerate t*exp solution instead of dividing by their difference). ``same``: some
    time constant coincides with tau_mem, so '(unless refractory)', whose int(not_refractory)
    factor would split the coinciding eigenvalues (0/0), is replaced by the conditional write
    Brian2 adds for it (``clamp_v``; brian2/groups/neurongroup.py, set_conditional_write).
    ``adaptation_line`` and ``adaptation_constants`` follow the receptors' lines and constants."""
    tau_mem = params["tau_mem"]
    scalar_tau_mem = not np.ndim(tau_mem)
    flag = " (unless refractory)" if refractory_steps > 0 and not same else ""
    constants = brian2_lif_constants(params)
    terms, lines = "v_leak - v", []
    for rname, rp in receptors.items():
        var = model.receptor_var(rname)
        terms += f" + {var}"
        if scalar_tau_mem and degenerate(tau_mem, rp["tau_syn"]):
            tau = "tau_mem"
        else:
            tau = f"tau_syn_{rname}"
            constants[tau] = (rp["tau_syn"], "second")
        lines.append(f"d{var}/dt = -{var}/{tau} : volt")
    if adaptation_line is not None:
        lines.append(adaptation_line)
    constants.update(adaptation_constants or {})
    terms += adaptation_term
    return Brian2Equations(dv_template=f"dv/dt = ({terms}{{cur}})/tau_mem : volt{flag}", ode_lines=lines,
                           constants=constants, current_term=" + r*I_ext", method="exact",
                           clamp_v=refractory_steps > 0 and same, threshold=threshold, reset=reset)

@dataclass(frozen=True)
class LeakyLif(NeuronModel):
    """A LIF whose membrane is tau_mem dv/dt = (v_leak - v) + r I (+ its synapses): decays
    by exp(-dt/tau_mem) per step towards the drive v_leak + r I."""

    def membrane_decay(self, params, dt):
        return math.exp(-dt / params["tau_mem"])

    def drive(self, params):
        return leaky_drive(params), params["r"]

    def per_neuron_coefficients(self, params, receptors, dt):
        # nparam row len(params): the membrane's decay per neuron (updates/lif_delta.h, lif_cuba.h)
        return [np.exp(-dt / np.asarray(params["tau_mem"], dtype=float))]


@dataclass(frozen=True)
class ConductanceMembrane(NeuronModel):
    """A membrane c_m dv/dt = g_l (v_leak - v) + I (+ its synapses), whose synapses decay
    by exp(-dt/tau_syn) per step and whose drive is the injected current itself (the
    update divides by c_m): lif_coba and adex."""

    def tau_mem(self, params):
        return params["c_m"] / params["g_l"]

    def receptor_decay(self, receptor_params, dt):
        return math.exp(-dt / receptor_params["tau_syn"])

    def drive(self, params):
        return params.get("bias", 0.0), 1.0


#: the contract's earlier name, still imported by older code
ModelSpec = NeuronModel
