"""Equation-defined neuron models: a population whose model is written as equations in Brian2's syntax.

A population's ``model`` may be, instead of a registered name, a definition::

    Equations(equations="dv/dt = (v_rest - v + R*I)/tau : volt (unless refractory)\\nI : amp (constant)",
              threshold="v > v_th", reset="v = v_r", refractory="2 ms", method="exact", targets=["v"])

(model files: the same keys in a mapping). The constants the equations use (``tau``,
``v_rest`` ...) are the population's ``params``, each a quantity in any unit (dimensionless
numbers as plain numbers); state variables (differential equations and parameters such as
``I : amp``) take per-neuron values from ``initial`` (default 0).

* ``threshold``: a condition (Brian2 syntax); none: the population never spikes.
* ``reset``: statements run for the neurons that spiked, after the threshold.
* ``refractory``: a time: after a spike, variables flagged ``(unless refractory)`` are not
  integrated for that long and the threshold is not tested (Brian2's rule); default 0.
* ``method``: Brian2's integration method: exact, euler, rk2, rk4, heun, exponential_euler
  (default: Brian2's own choice for the equations).
* ``targets``: the variables projections may add their weights to. A projection onto the
  population names one with its ``receptor`` (``receptor: ge`` adds w to ge when a spike
  arrives, Brian2's ``on_pre="ge += w"``); weights carry that variable's unit. Default:
  ``[v]`` when the equations have a variable v, else none.

What Brian2 itself parses and checks is checked here by Brian2 (``analyse``): the
equations' syntax, every symbol defined, consistent units. The integration is Brian2's
own state updater: ``analyse`` returns the statements Brian2's code generation produces
for its numpy target (loop invariants pulled out, boolean variables specialised), as
plain strings; the native engine compiles them with numba (spikecore.engine.equations)
and the Brian2 backend hands Brian2 the same definition, so both compute the same
arithmetic. Refused, naming the construct: stochastic terms (xi), random functions,
functions outside Brian2's default set, linked, shared and summed variables, non-float
variables, threshold or refractoriness written as conditions on ``lastspike``, the
neuron index ``i``. Only the native grid engine and the Brian2 backend run these
models (``modes``); every other mode refuses them.

This module imports brian2 (for its parser and state updaters) only when a definition is
analysed; importing spikecore does not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import units as u
from ..errors import UnsupportedFeature, ValidationError
from .base import NeuronModel

NAME = "equations"
DEFINITION_KEYS = ("equations", "threshold", "reset", "refractory", "method", "targets")
METHODS = ("exact", "euler", "rk2", "rk4", "heun", "exponential_euler")
#: Brian2 default functions the native engine compiles (spikecore.engine.equations)
FUNCTIONS = ("exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos",
             "arctan", "abs", "int", "floor", "ceil", "clip", "sign", "exprel", "expm1", "log1p")
_RANDOM = ("rand", "randn", "poisson", "binomial")
_FLAGS = ("unless refractory", "constant")
#: identifiers of Brian2's generated code that the native engine supplies itself
_ENGINE_NAMES = ("t", "dt", "not_refractory")


@dataclass(frozen=True)
class Equations:
    """An equation-defined model for ``Network.population(..., model=Equations(...))`` (module docstring)."""
    equations: str
    threshold: str | None = None
    reset: str | None = None
    refractory: object = None
    method: str | None = None
    targets: tuple | list | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in DEFINITION_KEYS if getattr(self, k) is not None}


def is_definition(model) -> bool:
    """Whether a population's ``model`` is an equation definition rather than a registered name."""
    return isinstance(model, (Equations, dict))


def definition(model, fld: str) -> dict:
    """The definition as a checked dict of plain values: equations/threshold/reset/method strings
    (or None), refractory in seconds, targets a tuple of names (None: the default)."""
    d = model.as_dict() if isinstance(model, Equations) else model
    if not isinstance(d, dict):
        raise ValidationError(fld, d, "a model name or an equation definition {equations: ..., threshold: ...}")
    for key in d:
        if key not in DEFINITION_KEYS:
            raise ValidationError(f"{fld}.{key}", d[key], "a key of an equation definition: " + ", ".join(DEFINITION_KEYS))
    out = {}
    for key in ("equations", "threshold", "reset", "method"):
        value = d.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValidationError(f"{fld}.{key}", value, "a string in Brian2's syntax")
        out[key] = value.strip() if isinstance(value, str) else None
    if out["equations"] is None:
        raise ValidationError(f"{fld}.equations", None, "the model's equations, e.g. 'dv/dt = -v/tau : volt'")
    if out["method"] is not None and out["method"] not in METHODS:
        raise ValidationError(f"{fld}.method", out["method"], "one of " + ", ".join(METHODS))
    ref = d.get("refractory")
    if isinstance(ref, str) and not _is_quantity_text(ref):
        raise UnsupportedFeature("native", f"a refractory condition ({ref!r}, {fld}.refractory)",
                                 "a refractory period (a time, e.g. '2 ms')")
    out["refractory"] = 0.0 if ref is None else u.to_si(ref, u.TIME, f"{fld}.refractory")
    if not (out["refractory"] >= 0 and math.isfinite(out["refractory"])):
        raise ValidationError(f"{fld}.refractory", ref, "a finite time >= 0")
    targets = d.get("targets")
    if targets is not None:
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, (list, tuple)) or not all(isinstance(x, str) for x in targets):
            raise ValidationError(f"{fld}.targets", targets, "a list of variable names")
        targets = tuple(targets)
    out["targets"] = targets
    return out


def _is_quantity_text(text: str) -> bool:
    try:
        u.parse_quantity(text)
        return True
    except Exception:   # noqa: BLE001 -- any parse failure means it is not a plain quantity
        return False


def quantity(value, fld: str) -> u.Quantity:
    """A parameter value as a Quantity (its unit is whatever the user wrote)."""
    if isinstance(value, str):
        return u.parse_quantity(value, fld)
    if isinstance(value, u.Quantity):
        return value
    if hasattr(value, "dim") and hasattr(value, "dimensions"):
        return u._from_brian2(value, fld)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError(fld, value, "a single quantity such as '10 ms' or a number (per-neuron values: "
                              "declare a parameter, e.g. 'I : amp (constant)', and set it in initial)")
    return u.Quantity(float(value), u.DIMENSIONLESS)


# ----------------------------------------------------------------------------- analysis by Brian2
@dataclass(frozen=True)
class CodeBlock:
    """Statements of one of Brian2's code blocks, as its numpy target would run them: ``scalar``
    (name, expression) computed once per step, ``vector`` (var, op, expression, split) per
    neuron, where split is None or (boolean variable, expression if true, expression if false)."""
    scalar: tuple = ()
    vector: tuple = ()


@dataclass(frozen=True)
class Analysis:
    """What Brian2 makes of a definition (``analyse``): the state variables (name -> dimension,
    in declaration order), those flagged (unless refractory), the targets, every constant the
    code names (name -> SI value), the integration method Brian2 used, and the code blocks."""
    variables: dict
    unless_refractory: frozenset
    targets: tuple
    constants: dict
    method: str
    update: CodeBlock
    threshold: CodeBlock
    reset: CodeBlock


def _b2_dim(dim):
    from brian2.units.fundamentalunits import get_or_create_dimension
    kg, m, s, a = dim
    return get_or_create_dimension([m, kg, s, a, 0, 0, 0])


def _our_dim(b2dim, fld, what):
    exps = [int(b2dim._dims[k]) for k in range(7)]
    if any(exps[4:]):
        raise UnsupportedFeature("native", f"{what} with temperature, amount or luminosity units ({fld})",
                                 "units made of kg, m, s and A")
    return (exps[1], exps[0], exps[2], exps[3])


def analyse(defn: dict, params: dict, dims: dict, dt: float, fld: str) -> Analysis:
    """Brian2's parse, unit check and code generation of ``defn`` (from ``definition``) with the
    constants ``params`` (name -> SI value) of dimensions ``dims``, at step ``dt``; one-line
    errors naming the field and the construct. Cached: the same arguments give the same object."""
    key = (tuple(sorted((k, v) for k, v in defn.items())), tuple(sorted(params.items())),
           tuple(sorted(dims.items())), float(dt))
    found = _ANALYSES.get(key)
    if found is None:
        if len(_ANALYSES) > 256:
            _ANALYSES.clear()
        found = _ANALYSES[key] = _analyse(dict(defn), dict(params), dict(dims), float(dt), fld)
    return found


#: analyses by their arguments (Brian2's symbolic integration takes up to seconds)
_ANALYSES: dict = {}


def _import_brian2():
    import sys
    hook = sys.excepthook
    import brian2
    sys.excepthook = hook     # brian2 installs a hook asking to report every error to its authors
    return brian2


def _refuse_constructs(b2, eqs, defn, params, fld):
    """The constructs the native engine does not compile, named (module docstring)."""
    from brian2.equations.equations import SUBEXPRESSION
    if eqs.stochastic_variables:
        raise UnsupportedFeature("native", f"stochastic term {', '.join(sorted(eqs.stochastic_variables))} "
                                 f"({fld}.equations)", "deterministic equations")
    for name, eq in eqs.items():
        for flag in eq.flags:
            if flag not in _FLAGS:
                raise UnsupportedFeature("native", f"the flag ({flag}) of {name} ({fld}.equations)",
                                         "the flags " + ", ".join(_FLAGS))
        if eq.var_type != "float":
            raise UnsupportedFeature("native", f"{eq.var_type} variable {name} ({fld}.equations)", "float variables")
        if name in params:
            raise ValidationError(f"{fld}.params.{name}", params[name], f"a name other than the variable {name}")
        if eq.type == SUBEXPRESSION and "constant over dt" in eq.flags:
            raise UnsupportedFeature("native", f"(constant over dt) on {name} ({fld}.equations)", "plain subexpressions")
    texts = [defn["equations"], defn["threshold"] or "", defn["reset"] or ""]
    from brian2.utils.stringtools import get_identifiers
    used = set().union(*(get_identifiers(t) for t in texts))
    for bad, what in (("lastspike", "lastspike"), ("i", "the neuron index i"), ("N", "the group size N")):
        if bad in used and bad not in eqs.names and bad not in params:
            raise UnsupportedFeature("native", f"{what} ({fld})", "equations of the state variables, t and dt")
    for name in used:
        if name in _RANDOM:
            raise UnsupportedFeature("native", f"random function {name}() ({fld})", "deterministic functions")
        f = b2.core.functions.DEFAULT_FUNCTIONS.get(name)
        if f is not None and name not in FUNCTIONS:
            raise UnsupportedFeature("native", f"function {name}() ({fld})", "one of " + ", ".join(FUNCTIONS))


def _analyse(defn, params, dims, dt, fld):
    b2 = _import_brian2()
    from brian2.codegen.translation import make_statements
    from brian2.core.variables import Constant
    try:
        eqs = b2.Equations(defn["equations"])
    except Exception as e:   # noqa: BLE001 -- Brian2's parser raises several kinds; all are the user's text
        raise ValidationError(f"{fld}.equations", defn["equations"], f"equations in Brian2's syntax ({_first_line(e)})") from None
    _refuse_constructs(b2, eqs, defn, params, fld)
    variables = {}
    for name in eqs.names:
        eq = eqs[name]
        if eq.type == "subexpression":
            continue
        variables[name] = _our_dim(eq.dim, f"{fld}.equations", f"variable {name}")
    targets = defn["targets"] if defn["targets"] is not None else (("v",) if "v" in variables else ())
    for t in targets:
        if t not in variables:
            raise ValidationError(f"{fld}.targets", t, "variables of the equations: " + ", ".join(variables))
    unless = frozenset(n for n in eqs.diff_eq_names if "unless refractory" in eqs[n].flags)
    ns = {k: b2.Quantity(v, dim=_b2_dim(dims[k])) for k, v in params.items()}
    blocks = {}
    stage = "equations"
    try:
        group = b2.NeuronGroup(1, eqs, threshold=defn["threshold"], reset=defn["reset"],
                               refractory=defn["refractory"] * b2.second if defn["refractory"] > 0 else False,
                               method=defn["method"] or ("exact", "euler", "heun"), namespace=ns, dt=dt * b2.second,
                               codeobj_class=b2.NumpyCodeObject, name="spikecore_equation_analysis*")
        group._network = "analysis only"   # never run: keeps Brian2 from warning when it is collected
        group.before_run(run_namespace=ns)    # the equations' units
        runners = [("update", "equations", group.state_updater)]
        if defn["threshold"]:
            runners.append(("threshold", "threshold", group.thresholder["spike"]))
        if defn["reset"]:
            runners.append(("reset", "reset", group.resetter["spike"]))
        for block, stage, runner in runners:
            runner._network = "analysis only"
            runner.before_run(run_namespace=ns)
            scalar, vector = make_statements(runner.abstract_code, runner.codeobj.variables, np.float64,
                                             optimise=True)
            blocks[block] = (scalar, vector, runner.codeobj.variables)
        method = getattr(group.state_updater, "method_choice", defn["method"])
    except (UnsupportedFeature, ValidationError):
        raise
    except Exception as e:   # noqa: BLE001 -- Brian2 reports units, symbols and methods with many types
        from brian2.stateupdaters.base import UnsupportedEquationsException
        if isinstance(e, UnsupportedEquationsException) and defn["method"]:
            raise ValidationError(f"{fld}.method", defn["method"], f"a method that integrates these equations "
                                  f"({_first_line(e)})") from None
        raise ValidationError(f"{fld}.{stage}", _first_line(defn[stage]),
                              f"{stage} Brian2 accepts: {_first_line(e)}") from None
    constants = {}
    code = {}
    for block in ("update", "threshold", "reset"):
        if block not in blocks:
            code[block] = CodeBlock()
            continue
        scalar, vector, var_objs = blocks[block]
        for name, var in var_objs.items():
            if isinstance(var, Constant) and not name.startswith("_"):
                constants[name] = float(var.value)
        code[block] = CodeBlock(tuple((s.var, s.expr) for s in scalar), tuple(_vector(s) for s in vector))
    return Analysis(variables, unless, tuple(targets), constants, _method_name(method, defn),
                    code["update"], code["threshold"], code["reset"])


def _method_name(method, defn) -> str:
    if isinstance(method, str):
        return method
    return defn["method"] or str(method)


def _vector(s) -> tuple:
    """One vector statement, specialised on its boolean variable where Brian2's numpy target does so
    (brian2/codegen/generators/numpy_generator.py, translate_statement)."""
    split = None
    if (s.used_boolean_variables is not None and len(s.used_boolean_variables) == 1
            and np.dtype(s.dtype).kind == "f" and s.complexity_std > sum(s.complexities.values())):
        boolvar = s.used_boolean_variables[0]
        exprs = {assign[0][1]: expr for assign, expr in s.boolean_simplified_expressions.items()}
        split = (boolvar, exprs[True], exprs[False])
    return (s.var, s.op, s.expr, split)


def _first_line(e) -> str:
    """An error of Brian2's (or a text) on one line."""
    text = " ".join(x.strip() for x in str(e).strip().splitlines()[:3])
    return (text or type(e).__name__)[:300]


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class EquationModel(NeuronModel):
    """An equation-defined model. The registered one (``MODEL``, name "equations") carries no
    definition: mode checks ask it. A population's own (``for_population``) carries its
    definition and Brian2's analysis of it."""
    definition: dict | None = field(default=None, compare=False, hash=False)
    analysis: Analysis | None = field(default=None, compare=False, hash=False)

    threshold_in_update = True

    def drive(self, params):
        return 0.0, 0.0    # no injected current: a parameter of the equations carries a drive

    @property
    def has_synaptic_state(self) -> bool:
        return True    # the targets are channels of their own (syn), inputs fold into them

    def receptor_var(self, receptor):
        return receptor

    def receptor_of_var(self, var, receptors):
        return var if var in receptors else None

    @property
    def extra_state(self) -> list:
        """The variables that are not targets: the grid update's xstate (targets live in syn)."""
        if self.analysis is None:
            return []
        return [v for v in self.analysis.variables if v not in self.analysis.targets]

    def state_variables(self, receptors) -> dict:
        return dict(self.analysis.variables) if self.analysis is not None else {}

    def initial_value(self, var, si_params):
        return 0.0

    def receptor_weight_dims(self, receptor) -> tuple:
        return (self.analysis.variables[receptor],)

    def refractory(self) -> float:
        return self.definition["refractory"]


def for_population(model, params: dict, fld: str, dt: float) -> tuple:
    """(the population's EquationModel, its parameters in SI) from a definition and the user's
    params (name -> quantity), checked by Brian2 (``analyse``) at step ``dt``."""
    defn = definition(model, f"{fld}.model")
    if not isinstance(params, dict):
        raise ValidationError(f"{fld}.params", params, "a mapping of constant names to quantities")
    si, dims = {}, {}
    for key, value in params.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValidationError(f"{fld}.params", key, "names made of letters, digits and '_'")
        q = quantity(value, f"{fld}.params.{key}")
        if np.ndim(q.value) != 0:
            raise ValidationError(f"{fld}.params.{key}", value, "a single value (per-neuron values: declare a "
                                  "parameter such as 'I : amp (constant)' and set it in initial)")
        si[key], dims[key] = float(q.value), tuple(q.dim)
    an = analyse(defn, si, dims, dt, fld)
    from .base import ParamSpec
    model = EquationModel(name=NAME, synapse="variable", params={k: ParamSpec(dims[k]) for k in si},
                          receptor_params={}, weight_dims=tuple(an.variables[t] for t in an.targets) or ((0, 0, 0, 0),),
                          state=dict(an.variables), default_receptors=an.targets, modes=MODEL.modes,
                          definition=defn, analysis=an, doc="equation-defined model")
    return model, si


def node_attrs(model: EquationModel) -> dict:
    """What an IR PopulationNode carries in ``attrs["equations"]`` to rebuild its model (``of_node``)."""
    return {"definition": dict(model.definition), "dims": {k: tuple(ps.dim) for k, ps in model.params.items()}}


def of_node(pop, dt: float) -> EquationModel:
    """The EquationModel of an IR population of model "equations" (``attrs["equations"]``)."""
    info = pop.attrs.get("equations")
    if not isinstance(info, dict):
        raise ValidationError(f"populations.{pop.name}.attrs.equations", info, "the equation definition")
    params = {k: u.Quantity(float(pop.params[k]), tuple(d)) for k, d in info["dims"].items()}
    defn = dict(info["definition"], refractory=u.Quantity(float(info["definition"]["refractory"]), u.TIME))
    model, _ = for_population(defn, params, f"populations.{pop.name}", dt)
    return model


MODEL = EquationModel(
    name=NAME, synapse="variable", params={}, receptor_params={}, weight_dims=((0, 0, 0, 0),),
    doc="a model defined by equations in Brian2's syntax (spikecore/models/equations.py)",
    modes=frozenset({"grid", "brian2"}), describable=False)
