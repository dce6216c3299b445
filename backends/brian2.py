"""The Brian2 backend: compiles the IR (spikecore.ir) to Brian2 2.9 objects.

Brian2 is the reference simulator of the field; this backend is how spikecore's
own engine (backends/native.py) is checked against it (tests/conformance,
``spikecore compare``). Neighbours: backends/base.py (the contract),
spikecore/ir.py (the step semantics matched here), spikecore/models.py (the
equations written out below).

Mapping, all in an explicit ``Network`` on one explicit ``Clock`` (no magic
collection, no ``defaultclock``):

* population  -> ``NeuronGroup`` with the model's equations; populations with the
  same model and parameters share one group side by side (as Brian2's
  examples/CUBA.py holds exc and inh in one group: fewer objects, less per-step
  overhead); parameters are ``(shared, constant)`` variables. ``method='exact'``
  for lif_delta and lif_cuba (linear), ``'exponential_euler'`` for lif_coba. The
  native engine's coba update is Brian2's exponential Euler with the
  conductances of the step start (brian2/stateupdaters/exponential_euler.py,
  ``ExponentialEulerStateUpdater.__call__``: ``_BA_v`` and ``exp(A*dt)`` are
  evaluated from the values at t). Threshold ``v > v_threshold`` (strict),
  reset ``v = v_reset``, ``(unless refractory)`` on dv/dt only.
  Brian2's sympy solutions are memoised per equation structure, on disk too
  (``_CachedStateUpdater``): the code is Brian2's, only computed once.
* projection  -> ``Synapses`` connected from the IR's explicit (i, j) arrays with
  its weights and delays (never re-drawn; constants when homogeneous);
  projections with the same source, target group and update share one. Delta
  synapses use ``v_post += w*int(not_refractory_post)``: an input arriving while
  the target is refractory is discarded (IR step 4).
* spike source -> ``SpikeGeneratorGroup``. Brian2 allows one spike per neuron per
  step (brian2/input/spikegeneratorgroup.py, ``before_run``), the IR allows
  several; a spike of multiplicity m goes to m *layers* (one generator per
  layer, each with a copy of the source's projections). Times are passed
  already on the grid (step*dt): the IR rounds to the nearest step, Brian2
  would floor (``timestep``, shift 1e-3*dt).
* Poisson source -> one of two exact forms, per source (option ``poisson``):
  ``replay``: the counts the native engine draws (``spikecore.ir.poisson_counts``,
  same seed) are replayed through layered SpikeGeneratorGroups: identical input
  trains, memory proportional to the number of events. ``draw``: Brian2 draws
  Poisson(rate*dt) counts itself with its ``poisson()`` function in a
  ``run_regularly`` operation of the target group in the ``synapses`` slot:
  exact in distribution (counts of different Poisson neurons are independent and
  a sum of independent Poisson counts with equal weight and delay is Poisson of
  the summed rate), no memory cost, but only when every Poisson neuron has at
  most one synapse (else targets would have to share draws). A delay shifts the
  source's active window. ``auto`` (default) replays sources with a finite stop
  and at most REPLAY_MAX_EVENTS expected events, draws the others when it can,
  and replays otherwise. Brian2's own ``PoissonGroup`` is not used: it draws
  Bernoulli(rate*dt), at most one spike per step (Brunel's 20 kHz external drive
  is 2 spikes per 0.1 ms step on average, so it would deliver half of it);
  neither is ``PoissonInput``: Binomial(N, rate*dt) needs N inputs sharing one
  rate and weight, and its binomial sampler switches to a normal approximation
  for large N*p (brian2/input/binomial.py).
* current input -> a 2-D ``TimedArray`` (time x column) read as
  ``I_ext = I_table(t, cur_col)``; each neuron's column sums the inputs it
  receives; change points are moved to the IR's grid (``current_at_steps``).
  A TimedArray whose dt is a multiple of the clock's is locally constant, so
  ``'exact'`` still applies (brian2/input/timedarray.py, ``is_locally_constant``).
* spike monitor -> ``SpikeMonitor``; state monitor -> ``StateMonitor`` with
  ``when='start'`` on a clock of dt = interval (the IR samples at step start).

Refractory periods are handed to Brian2 as round(t_refrac/dt)*dt: Brian2
compares ``timestep(t - lastspike, dt) >= timestep(ref, dt)``
(brian2/groups/neurongroup.py, ``StateUpdater._get_refractory_code``), which
floors, whereas the IR rounds to the nearest step.

Devices: ``runtime`` (code generation target ``cython``, the default, or
``numpy``, which compiles nothing) and ``cpp_standalone``.
Both build under a cache folder (``cache_dir`` option, else $SPIKECORE_CACHE,
else $XDG_CACHE_HOME/spikecore or ~/.cache/spikecore), never in the user's
working directory. Brian2's process-wide state (active device, preferences, the
runtime random state) is set for the duration of each compile or run and
restored afterwards; the standalone device is reinitialised before and after
each build. A cpp_standalone executable runs once (Brian2 builds one C++
project per simulation); the runtime executable can continue with more runs.
Brian2 generates the standalone project; ``make`` and the compiled binary run here
in their own process groups (spikecore.procs), so an interrupt ends them and
make's compilers with the run (make deletes its half-written targets on SIGTERM),
and the partial results of an interrupted binary are removed.

Known, tested differences from the native engine (tests/conformance):
Brian2's sympy-generated update expressions round differently from the
native engine's propagator form, so membrane traces agree to ~1e-12 relative,
not bit for bit; a neuron whose v lands within an ulp of threshold can
therefore spike in one and not in the other, and chaotic networks diverge
spike by spike after a while (then only statistics compare).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_excepthook = sys.excepthook
import brian2 as b2  # noqa: E402
from brian2.devices.device import reset_device as _reset_device  # noqa: E402
from brian2.units.fundamentalunits import DIMENSIONLESS  # noqa: E402
from brian2.stateupdaters.base import StateUpdateMethod  # noqa: E402

# Importing brian2 replaces sys.excepthook with one that asks users to report any
# error to the Brian team; spikecore's errors are not Brian2 bugs.
sys.excepthook = _excepthook

from spikecore import ir as _ir
from spikecore import procs
from spikecore.interrupts import checkpoint
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.engine.layout import count_multiples, multiples
from spikecore.result import Result

from .base import Backend, Executable

NAME = "brian2"
DEVICES = ("runtime", "cpp_standalone")
POISSON_MODES = ("auto", "replay", "draw")
#: Runtime code generation targets: cython (compiled, cached; the default) or numpy
#: (no compilation: slower per step, quicker to start; the tests' choice for small networks)
TARGETS = ("cython", "numpy")
MODELS = ("lif_delta", "lif_cuba", "lif_coba")
#: Largest number of Poisson events replayed in one Brian2 run (~16 bytes each in
#: Brian2's generator arrays, plus ours); bigger replays run in windows (runtime)
#: or are refused (cpp_standalone).
REPLAY_MAX_EVENTS = 5_000_000
CACHE_ENV = "SPIKECORE_CACHE"
#: Brian2 schedule slot of the Poisson draws: where the native engine applies due input.
DRAW_SLOT = "synapses"

_VOLT = b2.volt
_SECOND = b2.second
_AMP = b2.amp
_SIEMENS = b2.siemens


def _q(value, unit):
    """An SI float (or array) as a Brian2 quantity: the value is kept exactly, only the dimension is attached."""
    return b2.Quantity(value, dim=unit.dim)


def default_cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / "brian2"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "spikecore" / "brian2"


# ----------------------------------------------------------------------------- lowering
# The IR is first lowered to plain data (no Brian2 object): equations as text,
# namespaces of quantities, arrays. Objects are made from it only once the right
# device is active (at compile for runtime, inside run for cpp_standalone).

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

    def merge_key(self):
        consts = tuple((k, float(v), str(v.dim)) for k, v in self.constants.items())
        return (self.model, self.dv_template, tuple(self.ode_lines), consts, repr(self.refractory), self.method,
                self.clamp_v)


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
        if p.model not in MODELS:
            raise UnsupportedFeature(NAME, f"model '{p.model}' (population {p.name})", "one of " + ", ".join(MODELS))


def _ref_steps(pop, dt) -> int:
    return _ir.steps(pop.params["t_refrac"], dt)


def _state_var(pop, receptor: str) -> str:
    if pop.model == "lif_delta":
        return "v"
    return ("syn_" if pop.model == "lif_cuba" else "g_") + receptor


def _receptor_unit(pop):
    return _SIEMENS if pop.model == "lif_coba" else _VOLT


def _population_plan(pop, dt: float) -> _PopPlan:
    prm = pop.params
    refr = _ref_steps(pop, dt)
    # tau_syn == tau_mem (cuba): sympy's general solution divides by (tau_syn - tau_mem);
    # naming the same constant lets it find the degenerate (t*exp) solution, as the native
    # engine's special case does (engine/simulator.py, _synaptic_coefficient). The
    # int(not_refractory) factor that '(unless refractory)' multiplies into dv/dt would
    # split the coinciding eigenvalues again (0/0 at not_refractory = 1), so there v is
    # clamped by the same conditional write Brian2 adds for the flag
    # (brian2/groups/neurongroup.py, NeuronGroup.__init__, set_conditional_write).
    degenerate = pop.model == "lif_cuba" and any(
        math.isclose(rp["tau_syn"], pop.params["tau_mem"], rel_tol=1e-12) for rp in pop.receptors.values())
    flag = " (unless refractory)" if refr > 0 and not degenerate else ""
    ns = {"v_threshold": _q(prm["v_threshold"], _VOLT), "v_reset": _q(prm["v_reset"], _VOLT),
          "v_leak": _q(prm["v_leak"], _VOLT)}
    lines = []
    if pop.model in ("lif_delta", "lif_cuba"):
        ns["tau_mem"] = _q(prm["tau_mem"], _SECOND)
        ns["r"] = _q(prm["r"], b2.ohm)
        terms = "v_leak - v"
        for rname, rp in pop.receptors.items():
            if pop.model == "lif_delta":
                continue
            var = f"syn_{rname}"
            terms += f" + {var}"
            if math.isclose(rp["tau_syn"], prm["tau_mem"], rel_tol=1e-12):
                tau = "tau_mem"
            else:
                tau = f"tau_syn_{rname}"
                ns[tau] = _q(rp["tau_syn"], _SECOND)
            lines.append(f"d{var}/dt = -{var}/{tau} : volt")
        current = " + r*I_ext"
        dv = f"dv/dt = ({terms}{{cur}})/tau_mem : volt{flag}"
        method = "exact"
    else:
        ns["c_m"] = _q(prm["c_m"], b2.farad)
        ns["gleak"] = _q(prm["g_l"], _SIEMENS)   # not g_l: a receptor named 'l' has conductance g_l
        terms = "gleak*(v_leak - v)"
        for rname, rp in pop.receptors.items():
            var = f"g_{rname}"
            ns[f"tau_syn_{rname}"] = _q(rp["tau_syn"], _SECOND)
            ns[f"e_rev_{rname}"] = _q(rp["e_rev"], _VOLT)
            terms += f" + {var}*(e_rev_{rname} - v)"
            lines.append(f"d{var}/dt = -{var}/tau_syn_{rname} : siemens")
        current = " + I_ext"
        dv = f"dv/dt = ({terms}{{cur}})/c_m : volt{flag}"
        method = "exponential_euler"
    plan = _PopPlan(pop.name, pop.size, pop.model, "", ns, _q(refr * dt, _SECOND) if refr > 0 else False,
                    method, {}, dv_template=dv, ode_lines=lines, current_term=current,
                    clamp_v=refr > 0 and degenerate, offsets={pop.name: 0}, sizes={pop.name: pop.size},
                    delta_gate=pop.model == "lif_delta" and refr > 0)
    known = {"v"} | {_state_var(pop, r) for r in pop.receptors}
    for var, arr in pop.initial.items():
        if pop.model == "lif_delta" and var in pop.receptors and not np.any(arr):
            continue    # the description layer lists delta receptors as (always zero) state
        if var not in known:
            raise UnsupportedFeature(NAME, f"initial value of '{var}' in population {pop.name}",
                                     f"state variables of {pop.model}: {', '.join(sorted(known))}")
        arr = np.asarray(arr, dtype=float)
        if arr.shape != (pop.size,):
            raise ValidationError(f"populations.{pop.name}.initial.{var}", f"array of shape {arr.shape}",
                                  f"shape ({pop.size},)")
        plan.initial[var] = _q(arr, _VOLT if var == "v" else _receptor_unit(pop))
    return plan


def _unit_name(value) -> str:
    if isinstance(value, b2.Quantity) and value.dim is not DIMENSIONLESS:
        return repr(b2.get_unit(value.dim))
    return "integer" if np.issubdtype(np.asarray(value).dtype, np.integer) else "1"


def _finish_equations(plan: _PopPlan):
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


def _group_populations(g: _ir.IRGraph, dt: float):
    """Population plans merged into groups by identical equations and parameters.

    Returns (groups by name, population -> group name). Fewer Brian2 objects means
    less per-step overhead (runtime calls each code object from Python every step)."""
    by_key: dict = {}
    for p in g.populations.values():
        plan = _population_plan(p, dt)
        by_key.setdefault(plan.merge_key(), []).append(plan)
    groups, where = {}, {}
    for plans in by_key.values():
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
            unit = _VOLT if var == "v" else _receptor_unit(g.populations[plans[0].name])
            parts = []
            for pl in plans:
                if var in pl.initial:
                    parts.append(np.asarray(pl.initial[var]))
                else:
                    default = g.populations[pl.name].params["v_leak"] if var == "v" else 0.0
                    parts.append(np.full(pl.size, default))
            initial[var] = _q(np.concatenate(parts), unit)
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
        drawable = bool((fan_out <= 1).all())
        if option == "replay":
            mode = "replay"
        elif option == "draw":
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
        unit = _VOLT if pop.model != "lif_coba" else _SIEMENS
        var = _state_var(pop, e.receptor)
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
    expected = {"lif_delta": "delta", "lif_cuba": "current", "lif_coba": "conductance"}[pop.model]
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
    if post.delta_gate:
        # Brian2 would already skip this write while the target is refractory (the
        # conditional write '(unless refractory)' puts on v guards every writer of v),
        # but the rule is the IR's, so it is spelled out here.
        on_pre = "v_post += w*int(not_refractory_post)"
    else:
        on_pre = f"{var}_post += w"
    key = (pre, pre_is_source, post.name, on_pre)
    return key, i, j + post.offsets[e.post], np.asarray(e.weight, dtype=float), steps


def _synapse_plans(g: _ir.IRGraph, groups: dict, where: dict, skip_sources: set) -> list:
    """Projections with the same source, target group and update merged into one Synapses each."""
    merged: dict = {}
    for e in g.projections.values():
        if e.n_synapses == 0 or e.pre in skip_sources:
            continue
        key, i, j, w, steps = _projection_arrays(g, e, groups, where)
        merged.setdefault(key, []).append((e.name, i, j, w, steps))
    plans = []
    for (pre, pre_is_source, post, on_pre), parts in merged.items():
        names = [p[0] for p in parts]
        i, j, w, steps = (np.concatenate([p[k] for p in parts]) for k in range(1, 5))
        unit = _SIEMENS if groups[post].model == "lif_coba" else _VOLT
        ns = {}
        # homogeneous weights and delays become constants (as a hand-written script would have them)
        if (w == w[0]).all():
            ns["w"] = _q(float(w[0]), unit)
            weight, model = None, ""
        else:
            weight, model = _q(w, unit), f"w : {'siemens' if unit is _SIEMENS else 'volt'} (constant)"
        delay_s = steps * g.dt                  # exactly on the grid
        delay = _q(float(delay_s[0]), _SECOND) if (steps == steps[0]).all() else _q(delay_s, _SECOND)
        plans.append(_SynPlan(_short_name("syn_", names), names, pre, pre_is_source, post, on_pre, model, ns,
                              i, j, weight, delay))
    return plans


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


def _lower(g: _ir.IRGraph, poisson: str) -> _Plan:
    _check_ir(g)
    dt = g.dt
    groups, where = _group_populations(g, dt)
    _current_plan(g, groups, where)
    modes = _poisson_modes(g, poisson)
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
    syns = _synapse_plans(g, groups, where, {s.name for s in draw_sources})
    for plan in groups.values():
        _finish_equations(plan)
    monitors = []
    for m in g.state_monitors.values():
        pop = g.populations.get(m.target)
        if pop is None:
            raise ValidationError(f"monitors.{m.name}.target", m.target, "a population")
        known = {"v"} | {_state_var(pop, r) for r in pop.receptors}
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
    return _Plan(dt, groups, where, syns, sources, modes, draw_seed, monitors,
                 list(dict.fromkeys(g.recorded_populations())))


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


# ----------------------------------------------------------------------------- state updaters
_UPDATER_MEMO: dict = {}


class _CachedStateUpdater:
    """Brian2's own state updater (``'exact'`` or ``'exponential_euler'``), memoised.

    Brian2 caches its sympy solution per equations and per variables *including
    group sizes and constant values* (brian2/utils/caching.py, ``_hashable``), so
    every population pays a symbolic matrix exponential (seconds each). The
    abstract code depends only on the equations, the kinds and units of the
    identifiers they use and dt, so that is the key here; solutions are also kept
    on disk under the cache folder. The code returned is Brian2's, unchanged."""

    def __init__(self, method: str, cache_dir: Path):
        self.method = method
        self.base = StateUpdateMethod.stateupdaters[method]
        self.directory = cache_dir / "stateupdaters"
        self.__name__ = method          # Brian2 logs the method by this name

    def can_integrate(self, equations, variables, method_options=None):
        return self.base.can_integrate(equations, variables, method_options)

    def _key(self, equations, variables, method_options) -> str:
        variables = variables or {}
        dt = float(variables["dt"].get_value()[0]) if "dt" in variables else None
        kinds = []
        for name in sorted((equations.identifiers | equations.names | {"t", "dt"}) & set(variables)):
            var = variables[name]
            entry = [name, type(var).__name__, str(getattr(var, "dim", "")), getattr(var, "scalar", None),
                     getattr(var, "constant", None), str(getattr(var, "dtype", ""))]
            if type(var).__name__ == "Constant":
                entry.append(repr(var.value))
            if hasattr(var, "is_locally_constant") and dt is not None:
                entry.append(bool(var.is_locally_constant(dt)))
            kinds.append(entry)
        doc = json.dumps([b2.__version__, self.method, str(equations), kinds, repr(dt), repr(method_options)],
                         default=str)
        return hashlib.sha256(doc.encode()).hexdigest()

    def __call__(self, equations, variables=None, method_options=None):
        key = self._key(equations, variables, method_options)
        if key not in _UPDATER_MEMO:
            path = self.directory / f"{self.method}-{key[:32]}.txt"
            try:
                code = path.read_text()
            except OSError:
                code = self.base(equations, variables, method_options)
                try:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_text(code)
                    os.replace(tmp, path)
                except OSError:
                    pass        # a read-only cache only costs time
            _UPDATER_MEMO[key] = code
        return _UPDATER_MEMO[key]


# ----------------------------------------------------------------------------- Brian2 state
@contextlib.contextmanager
def _brian2_state(device: str, cache_dir: Path, target: str = "cython"):
    """Activate ``device`` and our preferences; restore the previous device and preferences after."""
    prefs = {"codegen.target": target,
             "codegen.runtime.cython.cache_dir": str(cache_dir / "cython"),
             # Brian2's default is an unbounded `make -j`: hundreds of compilers on a 2-core machine
             "devices.cpp_standalone.extra_make_args_unix": [f"-j{os.cpu_count() or 1}"],
             # Brian2's own Ctrl-C handler ends a run early and lets it return as if complete:
             # a partial result saved as a whole one. A signal must interrupt (spikecore.interrupts).
             "core.stop_on_keyboard_interrupt": False}
    saved = {k: b2.prefs[k] for k in prefs}
    for k, v in prefs.items():
        b2.prefs[k] = v
    b2.set_device(device, build_on_run=False)
    try:
        yield b2.get_device()
    finally:
        _reset_device()
        for k, v in saved.items():
            b2.prefs[k] = v


class _Built:
    """The Brian2 objects of one network, made while the target device is active."""

    def __init__(self, plan: _Plan, cache_dir: Path):
        dt = plan.dt
        self.plan = plan
        updaters = {m: _CachedStateUpdater(m, cache_dir) for m in ("exact", "exponential_euler")}
        self.clock = b2.Clock(dt=_q(dt, _SECOND), name="spikecore_clock")
        self.objects = []
        self.groups = {}
        for p in plan.pops.values():
            ns = {}
            if p.current_table is not None:
                ns["I_table"] = b2.TimedArray(_q(p.current_table, _AMP), dt=_q(p.current_dt, _SECOND),
                                              name=f"I_table_{p.name}")
            G = b2.NeuronGroup(p.size, p.equations, threshold="v > v_threshold", reset="v = v_reset",
                               refractory=p.refractory, method=updaters[p.method], namespace=ns, clock=self.clock,
                               name=p.name)
            if p.clamp_v:
                G.variables["v"].set_conditional_write(G.variables["not_refractory"])
            for var, value in p.initial.items():
                setattr(G, var, value)
            for var, value in list(p.constants.items()) + list(p.params.items()):
                setattr(G, var, value)
            if p.draw_code:
                self.objects.append(G.run_regularly("\n".join(p.draw_code), when=DRAW_SLOT,
                                                    name=f"draw_{p.name}"))
            self.groups[p.name] = G
            self.objects.append(G)
        # spike sources: one generator per multiplicity layer, each with the source's projections
        self.layers = {}                       # source -> list of SpikeGeneratorGroup
        self.syn_plans = {}
        for sp in plan.syns:
            if sp.pre_is_source:
                self.syn_plans.setdefault(sp.pre, []).append(sp)
            else:
                self._synapses(sp, self.groups[sp.pre], sp.name)
        for src in plan.sources.values():
            self.layers[src.name] = []
            if src.mode == "events":
                for steps, idx in _layered(src.steps, src.indices):
                    self._add_layer(src, steps, idx)
            # replayed Poisson sources get their layers from set_replay, run by run
        # one SpikeMonitor per group, split into populations when collecting
        self.spike_monitors = {}
        for pop in plan.recorded:
            gname = plan.where[pop]
            if gname not in self.spike_monitors:
                self.spike_monitors[gname] = b2.SpikeMonitor(self.groups[gname], record=True,
                                                             name=f"spikes_{gname}")
        self.objects += list(self.spike_monitors.values())
        self.state_monitors = {}
        for name, target, variables, neurons, every in plan.monitors:
            if neurons.size == 0:
                continue
            gname = plan.where[target]
            mon = b2.StateMonitor(self.groups[gname], list(variables),
                                  record=neurons + plan.pops[gname].offsets[target], when="start",
                                  dt=_q(every * dt, _SECOND) if every > 1 else None,
                                  clock=None if every > 1 else self.clock, name=f"state_{name}")
            self.state_monitors[name] = mon
            self.objects.append(mon)
        self.network = b2.Network(*self.objects, name="spikecore_network")
        self._own(self.objects)
        self._spikes_seen = {name: 0 for name in self.spike_monitors}
        self._samples_seen = {name: 0 for name in self.state_monitors}

    def _own(self, objects):
        # Brian2 marks an object as part of a network at its first run and warns, when it is
        # garbage-collected unmarked, that it was "never included in a network": noise after
        # an interrupted build. They are in ours from the start; this is the mark run() sets.
        for obj in objects:
            obj._network = self.network.id

    def _synapses(self, sp: _SynPlan, source, name):
        S = b2.Synapses(source, self.groups[sp.post], model=sp.model, on_pre=sp.on_pre,
                        delay=sp.delay if np.ndim(sp.delay) == 0 else None, namespace=dict(sp.namespace),
                        clock=self.clock, name=name)
        S.connect(i=sp.i, j=sp.j)
        if sp.weight is not None:
            S.w = sp.weight
        if np.ndim(sp.delay) != 0:
            S.delay = sp.delay
        self.objects.append(S)
        if hasattr(self, "network"):
            self.network.add(S)
            self._own([S])
        return S

    def _add_layer(self, src: _SourcePlan, steps, idx):
        k = len(self.layers[src.name])
        gen = b2.SpikeGeneratorGroup(src.size, idx, _q(steps * self.plan.dt, _SECOND), clock=self.clock,
                                     name=f"src{k}_{src.name}")
        self.layers[src.name].append(gen)
        self.objects.append(gen)
        if hasattr(self, "network"):
            self.network.add(gen)
            self._own([gen])
        for sp in self.syn_plans.get(src.name, []):
            self._synapses(sp, gen, sp.name if k == 0 else f"{sp.name}_L{k}")
        return gen

    def set_replay(self, src: _SourcePlan, n0: int, n1: int, rng):
        """Give a replayed Poisson source the counts of steps [n0, n1) (layers grow as needed)."""
        counts = _ir.poisson_counts(src.node, self.plan.dt, n0, n1 - n0, rng)
        layers = _layered(*_counts_to_events(counts, n0))
        for k, (steps, idx) in enumerate(layers):
            if k < len(self.layers[src.name]):
                self.layers[src.name][k].set_spikes(idx, _q(steps * self.plan.dt, _SECOND))
            else:
                self._add_layer(src, steps, idx)
        for gen in self.layers[src.name][len(layers):]:
            gen.set_spikes(np.zeros(0, np.int64), _q(np.zeros(0), _SECOND))

    def collect(self, n_start: int, n_end: int) -> tuple:
        dt = self.plan.dt
        by_group = {}
        for name, mon in self.spike_monitors.items():
            t = np.asarray(mon.t_[:], dtype=float)[self._spikes_seen[name]:]
            i = np.asarray(mon.i[:], dtype=np.int64)[self._spikes_seen[name]:]
            self._spikes_seen[name] += t.size
            by_group[name] = (np.rint(t / dt).astype(np.int64), i)
        spikes = {}
        for pop in self.plan.recorded:
            gname = self.plan.where[pop]
            steps, i = by_group[gname]
            first = self.plan.pops[gname].offsets[pop]
            sel = (i >= first) & (i < first + self.plan.pops[gname].sizes[pop])
            steps, i = steps[sel], i[sel] - first
            order = np.lexsort((i, steps))
            # times as the native engine writes them (step*dt), so results compare exactly
            spikes[pop] = (steps[order] * dt, i[order])
        traces = {}
        for name, target, variables, neurons, every in self.plan.monitors:
            mon = self.state_monitors.get(name)
            if mon is None:
                ns = count_multiples(n_start, n_end, every)
                times = multiples(n_start, n_end, every) * dt
                traces[name] = {"target": target, "neurons": neurons.copy(), "times": times,
                                "variables": {v: np.zeros((ns, 0)) for v in variables}}
                continue
            seen = self._samples_seen[name]
            t = np.asarray(mon.t_[:], dtype=float)[seen:]
            self._samples_seen[name] += t.size
            traces[name] = {"target": target, "neurons": neurons.copy(),
                            "times": np.rint(t / dt).astype(np.int64) * dt,
                            "variables": {v: np.asarray(getattr(mon, v + "_"), dtype=float)[:, seen:].T.copy()
                                          for v in variables}}
        return spikes, traces


# ----------------------------------------------------------------------------- executables
class _Brian2Executable(Executable):
    backend = NAME

    def __init__(self, g: _ir.IRGraph, options: dict):
        t0 = time.perf_counter()
        self.ir = g
        self.options = options
        self.cache_dir = Path(options["cache_dir"]).expanduser() if options.get("cache_dir") else default_cache_dir()
        self.plan = _lower(g, options["poisson"])
        self.step = 0
        self._replay_rngs = {name: _ir.poisson_rng(src.node) for name, src in self.plan.sources.items()
                             if src.mode == "replay"}
        self.build_s = time.perf_counter() - t0

    def _result(self, n_steps, wall, build, spikes, traces, extra) -> Result:
        g = self.ir
        return Result(backend=NAME, duration=n_steps * g.dt, dt=g.dt, wall_s=wall,
                      sizes={n: g.populations[n].size for n in spikes}, spikes=spikes, traces=traces,
                      build_s=build, seed=g.seed, model=g.name, n_synapses=g.n_synapses,
                      options={k: (str(v) if k == "cache_dir" and v is not None else v)
                               for k, v in self.options.items()},
                      extra={"brian2": {"version": b2.__version__, "device": self.options["device"],
                                        "poisson_sources": dict(self.plan.poisson_modes), **extra}})

    def _replay_events(self, n_steps: int) -> float:
        return sum(float(np.sum(src.node.rates)) * n_steps * self.ir.dt
                   for src in self.plan.sources.values() if src.mode == "replay")


class RuntimeExecutable(_Brian2Executable):
    """Brian2's runtime device with Cython code generation; supports consecutive runs."""

    def __init__(self, g, options):
        super().__init__(g, options)
        t0 = time.perf_counter()
        with _brian2_state("runtime", self.cache_dir, self.options["target"]) as dev:
            saved_rng = dev.get_random_state()
            try:
                self.built = _Built(self.plan, self.cache_dir)
                checkpoint("compile")
                if self.plan.draw_seed is not None:
                    dev.seed(self.plan.draw_seed % 2**32)
                self._rng_state = dev.get_random_state()
            finally:
                dev.set_random_state(saved_rng)
        self.build_s += time.perf_counter() - t0

    def run(self, duration: float, progress: bool = False) -> Result:
        if not (duration > 0 and math.isfinite(duration)):
            raise ValidationError("duration", duration, "a positive, finite duration")
        dt = self.ir.dt
        n_steps = _ir.steps(duration, dt)
        n_start, n_end = self.step, self.step + n_steps
        # replayed Poisson input bounds how many steps one Brian2 run may cover
        per_step = self._replay_events(1)
        window = n_steps if per_step == 0 else max(1, min(n_steps, int(REPLAY_MAX_EVENTS / per_step)))
        wall = prep = 0.0
        with _brian2_state("runtime", self.cache_dir, self.options["target"]) as dev:
            saved_rng = dev.get_random_state()
            dev.set_random_state(self._rng_state)
            try:
                n = n_start
                while n < n_end:
                    stop = min(n_end, n + window)
                    t0 = time.perf_counter()
                    for name, src in self.plan.sources.items():
                        if src.mode == "replay":
                            self.built.set_replay(src, n, stop, self._replay_rngs[name])
                    checkpoint("run")
                    self.built.network.run(_q((stop - n) * dt, _SECOND), namespace={},
                                           report="stderr" if progress else None)
                    total = time.perf_counter() - t0
                    wall += dev._last_run_time
                    prep += total - dev._last_run_time
                    n = stop
                    self.step = n
                self._rng_state = dev.get_random_state()
            finally:
                dev.set_random_state(saved_rng)
            spikes, traces = self.built.collect(n_start, n_end)
        return self._result(n_steps, wall, self.build_s + prep, spikes, traces,
                            {"target": self.options["target"], "runs": -(-n_steps // window)})


class StandaloneExecutable(_Brian2Executable):
    """Brian2's cpp_standalone device: one C++ project per network, built and run by ``run`` (once)."""

    def run(self, duration: float, progress: bool = False) -> Result:
        if not (duration > 0 and math.isfinite(duration)):
            raise ValidationError("duration", duration, "a positive, finite duration")
        if self.step:
            raise UnsupportedFeature(NAME, "a second run() of a cpp_standalone executable",
                                     "compile again, or use device=runtime to continue a simulation")
        dt = self.ir.dt
        n_steps = _ir.steps(duration, dt)
        events = self._replay_events(n_steps)
        if events > REPLAY_MAX_EVENTS:
            raise UnsupportedFeature(NAME, f"replaying ~{events:.3g} Poisson events in one cpp_standalone build",
                                     f"at most {REPLAY_MAX_EVENTS:g}; use -O poisson=draw, a shorter run "
                                     "or device=runtime")
        procs.clean_stale()
        directory = self.cache_dir / "standalone" / _project_key(self.ir)
        directory.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with _brian2_state("cpp_standalone", self.cache_dir) as dev, _locked(directory):
            dev.reinit()
            dev.activate(build_on_run=False)
            try:
                built = _Built(self.plan, self.cache_dir)
                for name, src in self.plan.sources.items():
                    if src.mode == "replay":
                        built.set_replay(src, 0, n_steps, self._replay_rngs[name])
                if self.plan.draw_seed is not None:
                    dev.seed(self.plan.draw_seed % 2**32)
                built.network.run(_q(n_steps * dt, _SECOND), namespace={},
                                  report="stderr" if progress else None)
                dev.build(directory=str(directory), compile=False, run=False, with_output=False)
                _make(directory)
                _run_binary(dev, directory)
                wall = float(dev._last_run_time)
                spikes, traces = built.collect(0, n_steps)
            finally:
                dev.reinit()
        self.step = n_steps
        total = time.perf_counter() - t0
        return self._result(n_steps, wall, self.build_s + total - wall, spikes, traces,
                            {"project": str(directory)})


def _make(directory: Path) -> None:
    """Compile a generated standalone project (what Brian2's compile_source does on Unix, interruptibly)."""
    make = [b2.prefs["devices.cpp_standalone.make_cmd_unix"],
            *b2.prefs["devices.cpp_standalone.extra_make_args_unix"]]
    log = directory / "make.log"
    with open(log, "w") as out:
        code = procs.run_in_group(make, stage="compile", cwd=directory, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        raise RuntimeError(f"Project compilation failed (make exit code {code}), see {log}")


def _run_binary(dev, directory: Path) -> None:
    """Run the compiled project through Brian2 (which reads its results), the binary in its own group."""
    results = directory / "results"
    saved = b2.prefs["devices.cpp_standalone.run_cmd_unix"]
    cmd = [saved] if isinstance(saved, str) else list(saved)
    b2.prefs["devices.cpp_standalone.run_cmd_unix"] = procs.group_argv(cmd, fault_stage="run")
    try:
        dev.run(directory=str(directory), results_directory="results", with_output=False)
    except BaseException:
        shutil.rmtree(results, ignore_errors=True)     # a killed binary's partial output
        raise
    finally:
        b2.prefs["devices.cpp_standalone.run_cmd_unix"] = saved


def _project_key(g: _ir.IRGraph) -> str:
    """The standalone project directory of a network: one per structure, so make recompiles
    only what changed (Brian2 rewrites only changed files, cpp_standalone/device.py CPPWriter.write)."""
    sig = {"name": g.name, "pops": [(p.name, p.model, p.size, sorted(p.receptors)) for p in g.populations.values()],
           "proj": [(e.name, e.pre, e.post, e.receptor) for e in g.projections.values()],
           "src": sorted(list(g.spike_sources) + list(g.poisson_sources)),
           "mon": sorted(list(g.state_monitors) + list(g.spike_monitors))}
    digest = hashlib.sha1(json.dumps(sig, sort_keys=True).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in g.name)[:40]
    return f"{safe}-{digest}"


@contextlib.contextmanager
def _locked(directory: Path):
    """Exclusive use of a standalone project directory (parallel runs of one network wait)."""
    with open(directory / ".spikecore.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Brian2Backend(Backend):
    name = NAME
    options = {
        "device": (DEVICES, "runtime"),
        "poisson": (POISSON_MODES, "auto"),
        "target": (TARGETS, "cython"),
        "cache_dir": (None, None),
    }

    def compile(self, ir: _ir.IRGraph, **options) -> _Brian2Executable:
        opts = self.check_options(options)
        if opts["device"] == "cpp_standalone":
            if opts["target"] != "cython":
                raise ValidationError("option 'target'", opts["target"],
                                      "the default (cython) with device=cpp_standalone, which generates C++")
            return StandaloneExecutable(ir, opts)
        return RuntimeExecutable(ir, opts)


BACKEND = Brian2Backend()
