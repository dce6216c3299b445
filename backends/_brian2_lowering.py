"""The Brian2 backend's lowering: the IR (spikecore.ir) as plain data for Brian2.

Equations as text (each model writes its own, ``spikecore.models``' ``brian2_equations``),
namespaces of quantities, arrays; no Brian2 object is made here. backends/brian2.py makes
the objects from this plan once the right device is active (at compile for runtime,
inside run for cpp_standalone). The mapping itself is described in backends/brian2.py.
"""
from __future__ import annotations

import hashlib
import math
import sys
from dataclasses import dataclass, field

import numpy as np

_excepthook = sys.excepthook
import brian2 as b2  # noqa: E402
from brian2.units.fundamentalunits import DIMENSIONLESS  # noqa: E402

# Importing brian2 replaces sys.excepthook with one that asks users to report any
# error to the Brian team; spikecore's errors are not Brian2 bugs. backends/brian2.py
# imports this module before brian2, so this is where the hook is kept.
sys.excepthook = _excepthook

from spikecore import ir as _ir  # noqa: E402
from spikecore.errors import UnsupportedFeature, ValidationError  # noqa: E402
from spikecore.models import equations as equation_models  # noqa: E402
from spikecore.models import get_model, model_for  # noqa: E402
from spikecore.plasticity import rule_for  # noqa: E402

NAME = "brian2"
#: Largest number of Poisson events replayed in one Brian2 run (~16 bytes each in
#: Brian2's generator arrays, plus ours); bigger replays run in windows (runtime)
#: or are refused (cpp_standalone).
REPLAY_MAX_EVENTS = 5_000_000

_SECOND = b2.second
_SIEMENS = b2.siemens


def _q(value, unit):
    """An SI float (or array) as a Brian2 quantity: the value is kept exactly, only the dimension is attached."""
    return b2.Quantity(value, dim=unit.dim)


@dataclass
class _PopPlan:
    """One Brian2 NeuronGroup: one population, or several with identical model and parameters
    (side by side at ``offsets``, as Brian2's own CUBA example holds exc and inh in one group)."""
    name: str
    size: int
    model: str
    equations: str
    constants: dict                         # shared constant parameters: name -> Quantity
    refractory: object                      # Quantity or False
    method: str
    initial: dict                           # var -> Quantity array
    dv_template: str = ""                   # dv/dt line with a {cur} slot for the injected current
    ode_lines: list = field(default_factory=list)  # receptor equations
    current_term: str = ""
    params: dict = field(default_factory=dict)   # per-neuron parameters: var -> Quantity/int array
    draw_code: list = field(default_factory=list)  # run_regularly lines (Poisson draw mode)
    current_table: np.ndarray | None = None  # (rows, cols) amperes
    current_dt: float = 0.0
    clamp_v: bool = False                   # clamp v by conditional write instead of the flag
    offsets: dict = field(default_factory=dict)   # population -> first neuron in the group
    sizes: dict = field(default_factory=dict)     # population -> size
    delta_gate: bool = False                # delta synapses gated by not_refractory
    threshold: str | None = "v > v_threshold"
    reset: str | None = "v = v_reset"       # whole (izhikevich: v = v_reset, then u += d)
    units: dict = field(default_factory=dict)     # equation-defined models: variable -> Brian2 unit
    defined: bool = False                   # an equation-defined model: the user's text, constants in the namespace

    def unit(self, var):
        """The Brian2 unit of state variable ``var`` (a target's: its weights' unit too)."""
        return self.units[var] if self.defined else _unit(self.model, var)

    def merge_key(self):
        if self.defined:
            return ("equations", self.name)    # its own group: the definition is the population's
        consts = tuple((k, float(v), str(getattr(v, "dim", ""))) for k, v in self.constants.items())
        # a population with per-neuron parameters keeps a group of its own
        return (self.model, self.dv_template, tuple(self.ode_lines), consts, repr(self.refractory), self.method,
                self.clamp_v, self.threshold, self.reset, self.name if self.params else None)


@dataclass
class _SynPlan:
    name: str                               # Brian2 object name
    projections: list                       # IR projection names merged into it
    pre: str                                # group (populations) or source name
    pre_is_source: bool
    post: str                               # group name
    on_pre: str
    model: str
    namespace: dict
    i: np.ndarray
    j: np.ndarray
    weight: object                          # Quantity array or None (then in namespace)
    delay: object                           # Quantity scalar or array
    on_post: str | None = None              # plastic projections: the rule's postsynaptic statements
    plastic: bool = False                   # one plastic projection, whose weights are read back
    initial: dict = field(default_factory=dict)   # per-synapse rule variables' initial values
    weight_var: str = "w"                   # the weight's name ("w_syn" onto a model with a state w: adex)
    # a neuromodulated rule (three_factor): (modulator group or source (None: a signal), is a
    # source, first index, size, on_pre onto this Synapses' synapses, delay, the signal's (steps,
    # values) or None); and (rule, parameters, sign) for reading
    # weights that change between events
    modulation: tuple | None = None
    readout: tuple | None = None


@dataclass
class _SourcePlan:
    """Spike events of one source as (step, index); layered by multiplicity when built."""
    name: str
    size: int
    mode: str                               # "events" (spike source) | "replay" (Poisson)
    steps: np.ndarray = None
    indices: np.ndarray = None
    node: object = None                     # PoissonSourceNode for replay


def _check_ir(g: _ir.IRGraph):
    if g.version != _ir.IR_VERSION:
        raise UnsupportedFeature(NAME, f"IR version {g.version}", f"this backend reads version {_ir.IR_VERSION}")
    if not g.populations:
        raise ValidationError("populations", {}, "at least one population")
    if not (g.dt > 0 and math.isfinite(g.dt)):
        raise ValidationError("dt", g.dt, "a positive, finite time step")
    for p in g.populations.values():
        model_for(p.model, "brian2", f"population {p.name}", NAME)


def _ref_steps(pop, dt):
    """The refractory period in steps: an int, or an int array for per-neuron values."""
    t = pop.params["t_refrac"]
    return np.rint(np.asarray(t, dtype=float) / dt).astype(np.int64) if np.ndim(t) else _ir.steps(t, dt)


def _state_var(pop, receptor: str) -> str:
    """The variable a spike onto ``receptor`` changes (v itself for delta synapses)."""
    return get_model(pop.model).receptor_var(receptor) or "v"


def _b2_unit(name: str):
    """A Brian2 unit by its name ("1": dimensionless)."""
    return b2.Unit(1) if name == "1" else getattr(b2, name)


def _b2_unit_of(dim):
    """A Brian2 value of 1 in dimensions ``dim`` that has ``.dim`` (Unit(1) when dimensionless)."""
    return b2.Unit(1) if dim is DIMENSIONLESS else b2.Quantity(1.0, dim=dim)


def _unit(model: str, var: str):
    """The Brian2 unit of state variable ``var`` of ``model`` (a receptor's var: its weights' unit too)."""
    return _b2_unit(get_model(model).brian2_unit(var))


def _known_state(pop) -> set:
    """The state variables of a population that Brian2 holds: v, the model's further state
    (izhikevich's u, adex's w) and the receptors' variables."""
    model = get_model(pop.model)
    return {"v"} | set(model.state) | {_state_var(pop, r) for r in pop.receptors}


def _equation_plan(pop, dt: float) -> _PopPlan:
    """An equation-defined population (spikecore/models/equations.py): the user's equations,
    threshold, reset, refractory period and method as they are, constants in the namespace,
    so Brian2 generates the statements the native engine compiled from the same analysis."""
    model = equation_models.of_node(pop, dt)
    defn = model.definition
    # a dimensionless variable's unit is Unit(1): Quantity(1.0, dim=DIMENSIONLESS) is a plain float
    units = {var: _b2_unit_of(equation_models._b2_dim(dim)) for var, dim in model.analysis.variables.items()}
    ns = {k: b2.Quantity(float(pop.params[k]), dim=equation_models._b2_dim(ps.dim)) for k, ps in model.params.items()}
    ref = defn["refractory"]
    plan = _PopPlan(pop.name, pop.size, pop.model, defn["equations"], ns, _q(ref, _SECOND) if ref > 0 else False,
                    defn["method"] or ("exact", "euler", "heun"), {}, offsets={pop.name: 0}, sizes={pop.name: pop.size},
                    threshold=defn["threshold"], reset=defn["reset"], units=units, defined=True)
    for var, arr in pop.initial.items():
        if var not in units:
            raise UnsupportedFeature(NAME, f"initial value of '{var}' in population {pop.name}",
                                     f"variables of its equations: {', '.join(units)}")
        plan.initial[var] = b2.Quantity(np.asarray(arr, dtype=float), dim=units[var].dim)
    return plan


def _population_plan(pop, dt: float) -> _PopPlan:
    model = get_model(pop.model)
    if model.threshold_in_update:
        return _equation_plan(pop, dt)
    refr = _ref_steps(pop, dt)
    try:
        eq = model.brian2_equations(pop.params, pop.receptors, dt, int(np.max(refr)))
    except UnsupportedFeature as e:     # name the population
        raise UnsupportedFeature(NAME, f"{e.feature} (population {pop.name})", e.hint) from None
    ns = {name: _q(value, _b2_unit(unit)) for name, (value, unit) in eq.constants.items() if np.ndim(value) == 0}
    per_neuron = {name: _q(np.asarray(value, dtype=float), _b2_unit(unit))
                  for name, (value, unit) in eq.constants.items() if np.ndim(value) > 0}
    if np.ndim(refr):
        # per-neuron refractory periods (on the grid, as the IR rounds them): a per-neuron
        # variable that Brian2's refractoriness reads (timestep(t - lastspike) >= timestep(t_ref_grid))
        per_neuron["t_ref_grid"] = _q(refr * dt, _SECOND)
        refractory = "t_ref_grid" if refr.max() > 0 else False
    else:
        refractory = _q(refr * dt, _SECOND) if refr > 0 else False
    plan = _PopPlan(pop.name, pop.size, pop.model, "", ns, refractory,
                    eq.method, {}, dv_template=eq.dv_template, ode_lines=list(eq.ode_lines),
                    current_term=eq.current_term, clamp_v=eq.clamp_v, offsets={pop.name: 0},
                    sizes={pop.name: pop.size}, delta_gate=eq.delta_gate, params=per_neuron,
                    threshold=eq.threshold, reset=eq.reset)
    known = _known_state(pop)
    for var, arr in pop.initial.items():
        if not model.has_synaptic_state and var in pop.receptors and not np.any(arr):
            continue    # the description layer lists delta receptors as (always zero) state
        if var not in known:
            raise UnsupportedFeature(NAME, f"initial value of '{var}' in population {pop.name}",
                                     f"state variables of {pop.model}: {', '.join(sorted(known))}")
        arr = np.asarray(arr, dtype=float)
        if arr.shape != (pop.size,):
            raise ValidationError(f"populations.{pop.name}.initial.{var}", f"array of shape {arr.shape}",
                                  f"shape ({pop.size},)")
        plan.initial[var] = _q(arr, _unit(pop.model, var))
    return plan


def _unit_name(value) -> str:
    if isinstance(value, b2.Quantity) and value.dim is not DIMENSIONLESS:
        return repr(b2.get_unit(value.dim))
    return "integer" if np.issubdtype(np.asarray(value).dtype, np.integer) else "1"


def _finish_equations(plan: _PopPlan):
    if plan.defined:
        lines = [plan.equations] + [f"{var} : {_unit_name(arr)} (constant)" for var, arr in plan.params.items()]
        plan.equations = "\n".join(lines)
        return
    has_current = plan.current_table is not None
    lines = [plan.dv_template.replace("{cur}", plan.current_term if has_current else "")] + plan.ode_lines
    if has_current:
        lines.append("I_ext = I_table(t, cur_col) : amp")
    # Parameters are declared as (shared) variables rather than namespace constants:
    # Brian2 caches the sympy solution of 'exact' by equations *and* constant values
    # (brian2/utils/caching.py, _hashable), so populations that differ only in their
    # parameters would each cost a symbolic matrix exponential (seconds); shared
    # constants are still hoisted out of the per-neuron loop.
    for var, value in plan.constants.items():
        lines.append(f"{var} : {_unit_name(value)} (shared, constant)")
    for var, arr in plan.params.items():
        lines.append(f"{var} : {_unit_name(arr)} (constant)")
    plan.equations = "\n".join(lines)


def _short_name(prefix: str, parts: list) -> str:
    """A Brian2 object name from element names; stable (standalone projects and Cython modules key on it)."""
    name = prefix + "__".join(parts)
    if len(name) > 60:
        name = f"{prefix}{parts[0][:30]}_{hashlib.sha1('/'.join(parts).encode()).hexdigest()[:10]}"
    return name


#: what the populations sharing a Brian2 group must have in common (the generated equations)
_SHARED_STRUCTURE = ("model", "dv_template", "ode_lines", "current_term", "method", "clamp_v", "threshold", "reset",
                     "delta_gate", "defined")


def _group_populations(g: _ir.IRGraph, dt: float, like: "_Plan | None" = None):
    """Population plans merged into groups by identical equations and parameters.

    Returns (groups by name, population -> group name). Fewer Brian2 objects means
    less per-step overhead (runtime calls each code object from Python every step).
    ``like``: the plan of this network compiled before (run control's rebuild): the same
    groups, with what differs between their populations lowered to per-neuron variables."""
    if like is not None:
        return _regroup_like(g, dt, like)
    by_key: dict = {}
    for p in g.populations.values():
        plan = _population_plan(p, dt)
        by_key.setdefault(plan.merge_key(), []).append(plan)
    return _merge_groups(g, by_key.values())


class SharedGroupConflict(Exception):
    """The populations of one Brian2 group would need different equations (``pops``)."""

    def __init__(self, pops: list, group: str):
        super().__init__(group)
        self.pops, self.group = pops, group


def _regroup_like(g: _ir.IRGraph, dt: float, like: "_Plan"):
    """The groups of ``like`` for the populations of ``g`` (the same members, order and
    names). In a group of several populations every constant that differs between them, or
    that ``like`` held per neuron, is a per-neuron variable (so is the refractory period,
    ``t_ref_grid``); SharedGroupConflict where they no longer share their equations."""
    lists = []
    for old in like.pops.values():
        members = sorted(old.sizes, key=lambda p: old.offsets[p])
        plans = [_population_plan(g.populations[p], dt) for p in members]
        for pl in plans[1:]:
            if any(getattr(pl, a) != getattr(plans[0], a) for a in _SHARED_STRUCTURE):
                raise SharedGroupConflict(members, old.name)
        if len(plans) > 1 and not plans[0].defined:
            per_neuron = {k for k in old.params if k != "cur_col" and not k.startswith("pois_")}
            per_neuron |= set().union(*(pl.params for pl in plans))
            for k in set().union(*(pl.constants for pl in plans)):
                if len({float(pl.constants[k]) if k in pl.constants else None for pl in plans}) > 1:
                    per_neuron.add(k)
            refs = {repr(pl.refractory) for pl in plans}
            per_neuron_ref = "t_ref_grid" in per_neuron or len(refs) > 1
            for pl in plans:
                for k in per_neuron & set(pl.constants):
                    pl.params[k] = _per_neuron(pl.constants.pop(k), pl.size)
                if per_neuron_ref:
                    pl.params.setdefault("t_ref_grid", _q(np.full(pl.size, _ref_steps(g.populations[pl.name], dt) * dt),
                                                          _SECOND))
                    pl.refractory = "t_ref_grid"
        lists.append(plans)
    return _merge_groups(g, lists, per_neuron=True)


def _per_neuron(value, size: int):
    """A shared constant (a Brian2 quantity) as one value per neuron."""
    return b2.Quantity(np.full(size, float(value)), dim=b2.get_dimensions(value))


def _merge_groups(g: _ir.IRGraph, lists, per_neuron: bool = False):
    """One group per list of population plans, side by side; ``per_neuron``: their per-neuron
    parameters concatenated (run control's regrouping), else the group keeps the first's."""
    groups, where = {}, {}
    for plans in lists:
        first = plans[0]
        name = _short_name("pop_", [pl.name for pl in plans])
        offset = 0
        initial: dict = {}
        for pl in plans:
            first.offsets[pl.name] = offset
            first.sizes[pl.name] = pl.size
            offset += pl.size
            where[pl.name] = name
        for var in set().union(*(pl.initial for pl in plans)):
            unit = first.unit(var)
            parts = []
            for pl in plans:
                if var in pl.initial:
                    parts.append(np.asarray(pl.initial[var]))
                else:
                    default = g.populations[pl.name].params["v_leak"] if var == "v" else 0.0
                    parts.append(np.full(pl.size, default))
            initial[var] = _q(np.concatenate(parts), unit)
        if per_neuron and len(plans) > 1:
            first.params = {k: b2.Quantity(np.concatenate([np.asarray(pl.params[k]) for pl in plans]),
                                           dim=b2.get_dimensions(first.params[k])) for k in first.params}
        first.name, first.size, first.initial = name, offset, initial
        groups[name] = first
    return groups, where


def _current_plan(g: _ir.IRGraph, groups: dict, where: dict):
    """Piecewise currents per group -> one TimedArray table per group (column per input signature)."""
    by_group: dict = {}
    for c in g.currents.values():
        if c.target not in where:
            raise ValidationError(f"currents.{c.name}.target", c.target, "a population")
        by_group.setdefault(where[c.target], []).append(c)
    for gname, currents in by_group.items():
        plan = groups[gname]
        if plan.defined:
            raise UnsupportedFeature(NAME, f"injected current {currents[0].name} onto the equation-defined "
                                     f"population {currents[0].target}", "a parameter of the equations (e.g. "
                                     "'I : amp (constant)') set through initial")
        changes = [_ir.current_at_steps(c, g.dt) for c in currents]
        all_steps = np.unique(np.concatenate([np.maximum(st, 0) for st, _ in changes] + [np.zeros(1, np.int64)]))
        # neurons with the same set of inputs share one column; all-False is "no input"
        member = np.zeros((plan.size, len(currents)), dtype=bool)
        for k, c in enumerate(currents):
            member[plan.offsets[c.target] + np.asarray(c.neurons, dtype=np.int64), k] = True
        signatures, cols = np.unique(member, axis=0, return_inverse=True)
        cols = np.asarray(cols).ravel()
        # the table's grid: a common divisor of every change step keeps it short; its
        # dt must be an exact multiple of the clock's for 'exact' integration
        g_steps = int(np.gcd.reduce(all_steps[all_steps > 0])) if (all_steps > 0).any() else 1
        if (g_steps * g.dt) / g.dt != g_steps:
            g_steps = 1
        rows = int(all_steps.max()) // g_steps + 1
        table = np.zeros((rows, signatures.shape[0]))
        row_steps = np.arange(rows) * g_steps
        for k, (st, amps) in enumerate(changes):
            active = np.searchsorted(st, row_steps, side="right") - 1
            value = np.where(active >= 0, amps[np.maximum(active, 0)], 0.0)
            for col in np.nonzero(signatures[:, k])[0]:
                table[:, col] += value
        plan.current_table = table
        plan.current_dt = g_steps * g.dt
        plan.params["cur_col"] = cols.astype(np.int64)


def _poisson_modes(g: _ir.IRGraph, option: str) -> dict:
    modes = {}
    for s in g.poisson_sources.values():
        edges = [e for e in g.projections.values() if e.pre == s.name]
        fan_out = np.zeros(s.size, np.int64)
        for e in edges:
            fan_out += np.bincount(e.i, minlength=s.size)
        # a drawn source is folded into its targets' update: a plastic projection has no Synapses
        # there to learn in, so its source is replayed
        plastic = [e.name for e in edges if e.plasticity is not None]
        drawable = bool((fan_out <= 1).all()) and not plastic
        if option == "replay":
            mode = "replay"
        elif option == "draw":
            if plastic:
                raise UnsupportedFeature(NAME, f"poisson=draw for source {s.name}, which drives the plastic "
                                         f"projection {plastic[0]}", "use -O poisson=replay")
            if not drawable:
                raise UnsupportedFeature(NAME, f"poisson=draw for source {s.name}, whose neurons have up to "
                                         f"{int(fan_out.max())} synapses", "draw mode needs at most one "
                                         "synapse per Poisson neuron; use -O poisson=replay")
            mode = "draw"
        else:
            span = s.stop - s.start
            expected = float(np.sum(s.rates)) * span if math.isfinite(span) else math.inf
            mode = "replay" if expected <= REPLAY_MAX_EVENTS or not drawable else "draw"
        modes[s.name] = mode
    return modes


def _draw_plan(g: _ir.IRGraph, src, groups: dict, where: dict):
    """Poisson draw mode: per target neuron, one Poisson(sum of rates*dt) count per (projection, weight, delay)."""
    dt = g.dt
    lo0 = int(np.ceil(src.start / dt - _ir.GRID_TOLERANCE))
    hi0 = math.inf if math.isinf(src.stop) else int(np.ceil(src.stop / dt - _ir.GRID_TOLERANCE))
    for e in g.projections.values():
        if e.pre != src.name or e.n_synapses == 0:
            continue
        pop = g.populations[e.post]
        plan = groups[where[e.post]]
        d = _ir.delay_steps(e.delay, dt)
        lam = np.asarray(src.rates, dtype=float)[e.i] * dt
        w = np.asarray(e.weight, dtype=float)
        # group synapses by (target, weight, delay); Poisson counts of a group add up
        keys = np.lexsort((d, w, e.j))
        j_s, w_s, d_s, lam_s = e.j[keys], w[keys], d[keys], lam[keys]
        new = np.ones(j_s.size, dtype=bool)
        new[1:] = (j_s[1:] != j_s[:-1]) | (w_s[1:] != w_s[:-1]) | (d_s[1:] != d_s[:-1])
        group = np.cumsum(new) - 1
        g_lam = np.bincount(group, lam_s)
        g_j, g_w, g_d = j_s[new] + plan.offsets[e.post], w_s[new], d_s[new]
        # slot = rank of the group among its target's groups
        first_of_target = np.ones(g_j.size, dtype=bool)
        first_of_target[1:] = g_j[1:] != g_j[:-1]
        start_idx = np.maximum.accumulate(np.where(first_of_target, np.arange(g_j.size), 0))
        slot = np.arange(g_j.size) - start_idx
        var = _state_var(pop, e.receptor)
        unit = plan.unit(var)
        gate = "*int(not_refractory)" if plan.delta_gate else ""
        for k in range(int(slot.max()) + 1 if slot.size else 0):
            sel = slot == k
            names = {x: f"pois_{x}_{e.name}_{k}" for x in ("w", "lam", "t0", "t1")}
            arrays = {x: np.zeros(plan.size) for x in names}
            arrays["t1"][:] = -1.0          # inactive unless set
            jj = g_j[sel]
            arrays["w"][jj] = g_w[sel]
            arrays["lam"][jj] = g_lam[sel]
            # emission step m is active if lo0 <= m < hi0; it is applied at m + d
            arrays["t0"][jj] = (lo0 + g_d[sel] - 0.5) * dt
            arrays["t1"][jj] = (hi0 + g_d[sel] - 0.5) * dt if math.isfinite(hi0) else math.inf
            plan.params[names["w"]] = _q(arrays["w"], unit)
            plan.params[names["lam"]] = arrays["lam"]
            plan.params[names["t0"]] = _q(arrays["t0"], _SECOND)
            plan.params[names["t1"]] = _q(arrays["t1"], _SECOND)
            plan.draw_code.append(
                f"{var} += {names['w']}*poisson({names['lam']}*int(t >= {names['t0']} and t < {names['t1']})){gate}")


def _projection_arrays(g: _ir.IRGraph, e, groups: dict, where: dict):
    """Validate one projection; return (merge key, i, j, weights, delay steps) in group indices."""
    dt = g.dt
    fld = f"projections.{e.name}"
    if e.post not in g.populations:
        raise ValidationError(f"{fld}.post", e.post, "a population")
    pop = g.populations[e.post]
    expected = get_model(pop.model).synapse
    if e.synapse != expected:
        raise UnsupportedFeature(NAME, f"{e.synapse} synapses onto {pop.model} (projection {e.name})",
                                 f"{pop.model} takes {expected} synapses")
    if e.receptor not in pop.receptors:
        raise ValidationError(f"{fld}.receptor", e.receptor, "one of " + ", ".join(pop.receptors))
    n_pre = g.source_size(e.pre)
    i = np.asarray(e.i, dtype=np.int64)
    j = np.asarray(e.j, dtype=np.int64)
    if i.size and (i.min() < 0 or i.max() >= n_pre or j.min() < 0 or j.max() >= pop.size):
        raise ValidationError(f"{fld}.i", "indices out of range", f"pre in [0, {n_pre}), post in [0, {pop.size})")
    d = np.asarray(e.delay, dtype=float)
    steps = _ir.delay_steps(d, dt)
    if d.size and steps.min() < 1:
        raise ValidationError(f"{fld}.delay", float(d.min()), f"delays >= dt ({dt} s)")
    if d.size and (np.abs(d / dt - steps) > _ir.GRID_TOLERANCE).any():
        off = float(d[np.argmax(np.abs(d / dt - steps))])
        raise UnsupportedFeature(NAME, f"a delay off the dt grid ({off!r} s in projection {e.name})",
                                 "Brian2 delivers spikes on the grid; lower the network with timing='grid'")
    post = groups[where[e.post]]
    if e.pre in where:
        pre, pre_is_source = where[e.pre], False
        i = i + groups[pre].offsets[e.pre]
    else:
        pre, pre_is_source = e.pre, True
    var = _state_var(pop, e.receptor)
    # a Synapses reads its target's variables unsuffixed too: adex's adaptation current w
    # would shadow a weight called w
    wvar = "w_syn" if "w" in get_model(pop.model).state else "w"
    if post.delta_gate:
        # Brian2 would already skip this write while the target is refractory (the
        # conditional write '(unless refractory)' puts on v guards every writer of v),
        # but the rule is the IR's, so it is spelled out here.
        on_pre = f"v_post += {wvar}*int(not_refractory_post)"
    else:
        on_pre = f"{var}_post += {wvar}"
    key = (pre, pre_is_source, post.name, on_pre)
    if e.plasticity is not None:
        # a plastic projection is a Synapses of its own: its weights change
        rule = rule_for(e.plasticity, "brian2", f"projection {e.name}", NAME)
        if wvar != "w":
            raise UnsupportedFeature(NAME, f"plastic projection {e.name} onto {pop.model}",
                                     f"its state variable w is the rules' weight name")
        frac = e.plasticity.get("dendritic_delay_fraction", 0.0)
        if frac != 0.0:
            raise UnsupportedFeature(NAME, f"dendritic_delay_fraction={frac!r} (projection {e.name})",
                                     "0: Brian2 puts the delay on the presynaptic path")
        sign = rule.check_weights(e.plasticity, e.weight, fld)
        key = (pre, pre_is_source, post.name, on_pre, e.name, sign)
    return key, i, j + post.offsets[e.post], np.asarray(e.weight, dtype=float), steps


def _synapse_plans(g: _ir.IRGraph, groups: dict, where: dict, skip_sources: set,
                   per_synapse: frozenset = frozenset()) -> list:
    """Projections with the same source, target group and update merged into one Synapses each
    (``per_synapse``: projections whose Synapses hold one weight per synapse even if all are equal)."""
    merged: dict = {}
    for e in g.projections.values():
        if e.n_synapses == 0 or e.pre in skip_sources:
            continue
        key, i, j, w, steps = _projection_arrays(g, e, groups, where)
        merged.setdefault(key, []).append((e.name, i, j, w, steps))
    plans = []
    for key, parts in merged.items():
        pre, pre_is_source, post, on_pre = key[:4]
        names = [p[0] for p in parts]
        i, j, w, steps = (np.concatenate([p[k] for p in parts]) for k in range(1, 5))
        unit = groups[post].unit(on_pre.split(" ", 1)[0][:-len("_post")])   # "<var>_post += ..."
        delay_s = steps * g.dt                  # exactly on the grid
        delay = _q(float(delay_s[0]), _SECOND) if (steps == steps[0]).all() else _q(delay_s, _SECOND)
        if len(key) > 4:
            e = g.projections[key[4]]
            rule, sign = rule_for(e.plasticity, "brian2", f"projection {e.name}", NAME), key[5]
            # the weight's unit by name (an equation-defined target's variable may be dimensionless)
            uname = "1" if b2.get_dimensions(unit) is DIMENSIONLESS else repr(b2.get_unit(b2.get_dimensions(unit)))
            code = rule.brian2_code(e.plasticity, sign, uname)
            ns = {name: _q(value, getattr(b2, u) if u != "1" else b2.Unit(1)) for name, (value, u) in
                  code.constants.items()}
            deliver = on_pre.replace("+= w", f"+= ({code.deliver})", 1)
            initial = {name: _q(value, getattr(b2, u) if u != "1" else b2.Unit(1))
                       for name, (value, u) in code.initial.items()}
            plans.append(_SynPlan(f"syn_{key[4]}", names, pre, pre_is_source, post,
                                  code.on_pre.replace("{target}", deliver), f"w : {uname}\n" + code.model, ns,
                                  i, j, _q(w, unit), delay, on_post=code.on_post or None, plastic=True,
                                  initial=initial, modulation=_modulation(g, e, rule, groups, where),
                                  readout=(rule, e.plasticity, sign) if hasattr(rule, "weight_now") else None))
            continue
        ns = {}
        wvar = on_pre.split("+= ", 1)[1].split("*", 1)[0]
        # homogeneous weights and delays become constants (as a hand-written script would have them)
        if (w == w[0]).all() and not per_synapse & set(names):
            ns[wvar] = _q(float(w[0]), unit)
            weight, model = None, ""
        else:
            weight, model = _q(w, unit), f"{wvar} : {_unit_name(_q(1.0, unit))} (constant)"
        plans.append(_SynPlan(_short_name("syn_", names), names, pre, pre_is_source, post, on_pre, model, ns,
                              i, j, weight, delay, weight_var=wvar))
    return plans


def _modulation(g: _ir.IRGraph, e, rule, groups: dict, where: dict):
    """A neuromodulated projection's modulator: Synapses from its population onto the plastic
    synapses (Brian2's synapses on synapses), built by backends.brian2."""
    if not hasattr(rule, "brian2_modulation"):
        return None
    sig = rule.signal_steps(e.plasticity, g.dt, f"projections.{e.name}.plasticity")
    if sig is not None:     # a generator firing at the signal's changes (backends.brian2)
        return None, True, 0, sig[0].size, rule.brian2_modulation(e.plasticity), _q(0.0, _SECOND), sig
    m = e.plasticity["modulator"]
    node = g.populations.get(m) or g.spike_sources.get(m) or g.poisson_sources.get(m)
    delay = _q(rule.modulator_delay_steps(e.plasticity, g.dt) * g.dt, _SECOND)
    if m in where:
        return (where[m], False, groups[where[m]].offsets[m], node.size, rule.brian2_modulation(e.plasticity),
                delay, None)
    return m, True, 0, node.size, rule.brian2_modulation(e.plasticity), delay, None


@dataclass
class _Plan:
    dt: float
    pops: dict                               # group name -> _PopPlan
    where: dict                              # population -> group name
    syns: list
    sources: dict                            # name -> _SourcePlan
    poisson_modes: dict
    draw_seed: int | None
    monitors: list                           # (name, target, variables, neurons, interval_steps)
    recorded: list
    weight_monitors: dict = field(default_factory=dict)   # projection -> (synapses, interval_steps)


def _lower(g: _ir.IRGraph, poisson: str, like: _Plan | None = None, per_synapse: frozenset = frozenset()) -> _Plan:
    """The plan of ``g``; ``like``: the plan it had when compiled before (run control's
    rebuild): the same groups, Synapses and Poisson modes, so that the state carries over;
    ``per_synapse``: projections whose Synapses hold a weight per synapse (run control)."""
    _check_ir(g)
    dt = g.dt
    groups, where = _group_populations(g, dt, like)
    _current_plan(g, groups, where)
    modes = _poisson_modes(g, poisson) if like is None else dict(like.poisson_modes)
    sources = {}
    for s in g.spike_sources.values():
        steps = np.rint(np.asarray(s.times, dtype=float) / dt).astype(np.int64)
        idx = np.asarray(s.indices, dtype=np.int64)
        if steps.size and steps.min() < 0:
            raise ValidationError(f"sources.{s.name}.times", float(np.min(s.times)), "times >= 0 s")
        sources[s.name] = _SourcePlan(s.name, s.size, "events", steps, idx)
    draw_sources = []
    for s in g.poisson_sources.values():
        if modes[s.name] == "draw":
            draw_sources.append(s)
            _draw_plan(g, s, groups, where)
        else:
            sources[s.name] = _SourcePlan(s.name, s.size, "replay", node=s)
    syns = _synapse_plans(g, groups, where, {s.name for s in draw_sources}, frozenset(per_synapse))
    for plan in groups.values():
        _finish_equations(plan)
    monitors = []
    for m in g.state_monitors.values():
        pop = g.populations.get(m.target)
        if pop is None:
            raise ValidationError(f"monitors.{m.name}.target", m.target, "a population")
        known = _known_state(pop)
        if groups[where[m.target]].defined:
            known = set(groups[where[m.target]].units)
        for var in m.variables:
            if var not in known:
                raise UnsupportedFeature(NAME, f"recording '{var}' of {pop.model} (monitor {m.name})",
                                         f"state variables: {', '.join(sorted(known))}")
        every = max(1, _ir.steps(m.interval, dt))
        monitors.append((m.name, m.target, tuple(m.variables), np.asarray(m.neurons, dtype=np.int64), every))
    # Brian2 draws with its own generator; seed it from the sources' seeds (reproducible per network)
    draw_seed = None
    if draw_sources:
        draw_seed = int(np.random.SeedSequence([int(s.seed) % 2**63 for s in draw_sources]).generate_state(1)[0])
    weight_monitors = {m.projection: (np.asarray(m.synapses, dtype=np.int64), max(1, _ir.steps(m.interval, dt)))
                       for m in g.weight_monitors.values()}
    return _Plan(dt, groups, where, syns, sources, modes, draw_seed, monitors,
                 list(dict.fromkeys(g.recorded_populations())), weight_monitors)


def _layered(steps: np.ndarray, idx: np.ndarray):
    """Split events (which may repeat) into layers with at most one spike per neuron per step.

    Returns a list of (steps, indices) per layer: layer k holds the (k+1)-th copy of each event."""
    if steps.size == 0:
        return [(steps, idx)]
    order = np.lexsort((idx, steps))
    s, i = steps[order], idx[order]
    new = np.ones(s.size, dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (i[1:] != i[:-1])
    run_start = np.maximum.accumulate(np.where(new, np.arange(s.size), 0))
    rank = np.arange(s.size) - run_start
    return [(s[rank == k], i[rank == k]) for k in range(int(rank.max()) + 1)]


def _counts_to_events(counts: np.ndarray, first_step: int):
    """Poisson counts (steps, size) -> repeated (step, index) events."""
    n, k = np.nonzero(counts)
    c = counts[n, k].astype(np.int64)
    return np.repeat(n + first_step, c), np.repeat(k, c)
