"""The Brian2 backend: compiles the IR (spikecore.ir) to Brian2 2.9 objects.

(Over 800 lines: the runtime and cpp_standalone executables and the Brian2 process state
they share live together; the IR-to-data lowering is apart, in backends/_brian2_lowering.py,
and run control's changes between runs in backends/_brian2_control.py.)

Brian2 is the reference simulator of the field; this backend is how spikecore's
own engine (backends/native.py) is checked against it (tests/conformance,
``spikecore compare``). Neighbours: backends/base.py (the contract),
backends/_brian2_lowering.py (the IR as plain data: equations, namespaces, arrays),
spikecore/ir.py (the step semantics matched here), spikecore/models/ (each model
writes its Brian2 equations, ``brian2_equations``, as text that is compiled here).

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
  reset ``v = v_reset``, ``(unless refractory)`` on dv/dt only; a model may give its own
  threshold and reset (``Brian2Equations.threshold``/``reset``: alif's ``v > v_threshold
  + a`` and ``a += delta_threshold``; izhikevich's ``u += d``, adex's ``w += b`` after
  ``v = v_reset``).
  izhikevich: ``'euler'`` (its integrator euler) or this module's ``izhikevich2003``
  updater (v in two half-steps, then u from the new v: Izhikevich's published
  scheme, written out as abstract code); adex and adex_cond (integrator euler): this
  module's ``euler_exact_decay`` updater, Brian2's forward Euler for v and w with the
  receptors' exact decay x*exp(-dt/tau), which is the grid update's arithmetic. The
  grid engine's event-located rk4 schemes (a reset inside a step) are refused.
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
``numpy``, which compiles nothing) and ``cpp_standalone``. Brian2 compiles its C++ with
``-ffast-math`` (brian2/codegen/cpp_prefs.py); option ``fast_math=off`` drops it (and
``-march=native``'s FMA contraction), so compiled runs round as the native engine does:
the conformance runs use it.
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
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

# the lowering imports brian2 first, keeping sys.excepthook (backends/_brian2_lowering.py)
from ._brian2_lowering import (NAME, REPLAY_MAX_EVENTS, _counts_to_events, _layered, _lower, _Plan, _q,
                               _SourcePlan, _SynPlan)

import brian2 as b2
from brian2.devices.device import reset_device as _reset_device
from brian2.stateupdaters.base import StateUpdateMethod
from brian2.utils.stringtools import word_substitute

from spikecore import ir as _ir
from spikecore import procs
from spikecore.interrupts import checkpoint
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.recording import count_multiples, multiples
from spikecore.engine.layout import receptor_var
from spikecore.models import get_model
from spikecore.result import RawRun, Result

from ._brian2_control import RunControl
from .base import Backend, Executable

DEVICES = ("runtime", "cpp_standalone")
POISSON_MODES = ("auto", "replay", "draw")
#: Runtime code generation targets: cython (compiled, cached; the default) or numpy
#: (no compilation: slower per step, quicker to start; the tests' choice for small networks)
TARGETS = ("cython", "numpy")
#: Brian2's C++ flags (fast_math=on, its default) or without -ffast-math and FMA contraction (off)
FAST_MATH = ("on", "off")
CACHE_ENV = "SPIKECORE_CACHE"
#: Brian2 schedule slot of the Poisson draws: where the native engine applies due input.
DRAW_SLOT = "synapses"

_SECOND = b2.second
_AMP = b2.amp


def default_cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root).expanduser() / "brian2"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "spikecore" / "brian2"


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


class _Izhikevich2003:
    """Izhikevich's (2003) published scheme as a Brian2 state updater: v in two half-steps
    of forward Euler, then every other variable one Euler step from the new v
    (spikecore/engine/updates/izhikevich.h, method 1; NEST izhikevich with
    consistent_integration=False). Abstract code, compiled by Brian2 as its own."""
    __name__ = "izhikevich2003"

    def can_integrate(self, equations, variables, method_options=None):
        return "v" in equations.diff_eq_names and not equations.is_stochastic

    def __call__(self, equations, variables=None, method_options=None):
        exprs = dict((var, expr.code) for var, expr in equations.get_substituted_expressions(variables))
        f_v = exprs.pop("v")
        lines = [f"_v_half = v + 0.5*dt*({f_v})",
                 f"_v_new = _v_half + 0.5*dt*({word_substitute(f_v, {'v': '_v_half'})})"]
        lines += [f"_{var}_new = {var} + dt*({word_substitute(code, {'v': '_v_new'})})" for var, code in exprs.items()]
        lines += ["v = _v_new"] + [f"{var} = _{var}_new" for var in exprs]
        return "\n".join(lines)


class _EulerExactDecay:
    """Forward Euler from the step start for every variable, except those whose equation is a
    pure decay dx/dt = -x/tau (the receptors), which decay exactly: x*exp(-dt/tau). The grid
    engine's adex integrator euler (spikecore/engine/updates/adex.h). Abstract code."""
    __name__ = "euler_exact_decay"

    def can_integrate(self, equations, variables, method_options=None):
        return not equations.is_stochastic

    @staticmethod
    def _decay_constant(var, code):
        parts = code.replace(" ", "").split("/")
        if len(parts) == 2 and parts[0] == f"-{var}" and parts[1].isidentifier():
            return parts[1]
        return None

    def __call__(self, equations, variables=None, method_options=None):
        exprs = [(var, expr.code) for var, expr in equations.get_substituted_expressions(variables)]
        lines = []
        for var, code in exprs:
            tau = self._decay_constant(var, code)
            lines.append(f"_{var}_new = {var}*exp(-dt/{tau})" if tau else f"_{var}_new = {var} + dt*({code})")
        lines += [f"{var} = _{var}_new" for var, _ in exprs]
        return "\n".join(lines)


#: this backend's own state updaters, by the names models give (Brian2Equations.method)
CUSTOM_UPDATERS = {"izhikevich2003": _Izhikevich2003(), "euler_exact_decay": _EulerExactDecay()}


def _compile_args(fast_math: str) -> list:
    """Brian2's GCC flags, without -ffast-math and -march=native (FMA contraction) when off."""
    args = list(b2.prefs["codegen.cpp.extra_compile_args_gcc"])
    if fast_math == "off":
        args = [a for a in args if a not in ("-ffast-math", "-fno-finite-math-only", "-march=native")]
        args += ["-ffp-contract=off"]
    return args


# ----------------------------------------------------------------------------- Brian2 state
@contextlib.contextmanager
def _brian2_state(device: str, cache_dir: Path, target: str = "cython", fast_math: str = "on"):
    """Activate ``device`` and our preferences; restore the previous device and preferences after."""
    prefs = {"codegen.target": target,
             "codegen.cpp.extra_compile_args_gcc": _compile_args(fast_math),
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
        updaters = {m: _CachedStateUpdater(m, cache_dir) for m in ("exact", "exponential_euler", "euler")}
        updaters.update(CUSTOM_UPDATERS)
        self.clock = b2.Clock(dt=_q(dt, _SECOND), name="spikecore_clock")
        self.objects = []
        self.groups = {}
        for p in plan.pops.values():
            ns = {}
            if p.current_table is not None:
                ns["I_table"] = b2.TimedArray(_q(p.current_table, _AMP), dt=_q(p.current_dt, _SECOND),
                                              name=f"I_table_{p.name}")
            if p.defined:   # an equation-defined model: its own text, its constants in the namespace
                ns.update(p.constants)
            G = b2.NeuronGroup(p.size, p.equations, threshold=p.threshold, reset=p.reset,
                               refractory=p.refractory, method=p.method if p.defined else updaters[p.method],
                               namespace=ns, clock=self.clock, name=p.name)
            if p.clamp_v:
                G.variables["v"].set_conditional_write(G.variables["not_refractory"])
            for var, value in p.initial.items():
                setattr(G, var, value)
            for var, value in ([] if p.defined else list(p.constants.items())) + list(p.params.items()):
                setattr(G, var, value)
            if p.draw_code:
                self.objects.append(G.run_regularly("\n".join(p.draw_code), when=DRAW_SLOT,
                                                    name=f"draw_{p.name}"))
            self.groups[p.name] = G
            self.objects.append(G)
        # spike sources: one generator per multiplicity layer, each with the source's projections
        self.layers = {}                       # source -> list of SpikeGeneratorGroup
        self.syn_plans = {}
        self.plastic = {}                      # plastic projection -> its Synapses
        self.readouts = {}                     # plastic projection -> (rule, parameters, sign) or None
        self.weight_monitors, self._weight_samples_seen = {}, {}
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
        for sp in plan.syns:
            if sp.modulation is not None and sp.modulation[6] is not None:    # a signal's changes
                steps = sp.modulation[6][0]
                gen = b2.SpikeGeneratorGroup(steps.size, np.arange(steps.size), _q(steps * plan.dt, _SECOND),
                                             clock=self.clock, name=f"signal_{sp.name}")
                self.objects.append(gen)
                self._modulation(sp, gen, "")
            elif sp.modulation is not None and not sp.modulation[1]:
                self._modulation(sp, self.groups[sp.modulation[0]], "")
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
        S = b2.Synapses(source, self.groups[sp.post], model=sp.model, on_pre=sp.on_pre, on_post=sp.on_post,
                        delay=sp.delay if np.ndim(sp.delay) == 0 else None, namespace=dict(sp.namespace),
                        clock=self.clock, name=name)
        S.connect(i=sp.i, j=sp.j)
        if sp.weight is not None:
            setattr(S, sp.weight_var, sp.weight)
        if np.ndim(sp.delay) != 0:
            S.delay = sp.delay
        for var, value in sp.initial.items():
            setattr(S, var, value)
        if sp.plastic:
            if name != sp.name:
                raise UnsupportedFeature(NAME, f"plastic projection {sp.projections[0]} from a source that "
                                         "spikes more than once in a step", "Brian2 would copy its synapses")
            self.plastic[sp.projections[0]] = S
            self.readouts[sp.projections[0]] = sp.readout
            for pend in [x for x in getattr(self, "_pending_modulation", []) if x[0] is sp]:
                self._pending_modulation.remove(pend)
                self._modulation(*pend)
            if sp.projections[0] in self.plan.weight_monitors:
                synapses, every = self.plan.weight_monitors[sp.projections[0]]
                mon = b2.StateMonitor(S, ["w", "c", "d", "tlast"] if sp.readout else "w", record=synapses,
                                      when="start",
                                      dt=_q(every * self.plan.dt, _SECOND) if every > 1 else None,
                                      clock=None if every > 1 else self.clock, name=f"weights_{sp.name}")
                self.weight_monitors[sp.projections[0]] = mon
                self._weight_samples_seen[sp.projections[0]] = 0
                self.objects.append(mon)
                if hasattr(self, "network"):
                    self.network.add(mon)
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
        for sp in self.plan.syns:
            if sp.modulation is not None and sp.modulation[1] and sp.modulation[0] == src.name:
                self._modulation(sp, gen, f"_L{k}")
        return gen

    def _modulation(self, sp: _SynPlan, source, suffix: str):
        """Synapses from a modulator group or generator layer onto every synapse of the plastic
        Synapses of ``sp`` (each modulator spike reaches each synapse, after the modulator delay).
        A plastic projection from a source is built with that source's layers: built on first use."""
        group, _, first, size, on_pre, delay, signal = sp.modulation
        target = self.plastic.get(sp.projections[0])
        if target is None:
            self._pending_modulation = getattr(self, "_pending_modulation", []) + [(sp, source, suffix)]
            return
        M = b2.Synapses(source, target, model="value : hertz" if signal is not None else "", on_pre=on_pre,
                        delay=delay, namespace=dict(sp.namespace), clock=self.clock, name=f"mod_{sp.name}{suffix}")
        n_syn = len(sp.i)
        M.connect(i=np.repeat(np.arange(size) + first, n_syn), j=np.tile(np.arange(n_syn), size))
        if signal is not None:
            M.value = _q(np.repeat(signal[1], n_syn), b2.hertz)
        self.objects.append(M)
        if hasattr(self, "network"):
            self.network.add(M)
            self._own([M])

    def set_replay(self, src: _SourcePlan, n0: int, n1: int):
        """Give a replayed Poisson source the counts of steps [n0, n1) (layers grow as needed)."""
        counts = _ir.poisson_counts(src.node, self.plan.dt, n0, n1 - n0)
        layers = _layered(*_counts_to_events(counts, n0))
        for k, (steps, idx) in enumerate(layers):
            if k < len(self.layers[src.name]):
                self.layers[src.name][k].set_spikes(idx, _q(steps * self.plan.dt, _SECOND))
            else:
                self._add_layer(src, steps, idx)
        for gen in self.layers[src.name][len(layers):]:
            gen.set_spikes(np.zeros(0, np.int64), _q(np.zeros(0), _SECOND))

    def weights(self) -> dict:
        """Per plastic projection, every synapse's weight now (SI, the IR's synapse order;
        integrated to now where the rule's weights change between events)."""
        out = {}
        for name, S in self.plastic.items():
            w = np.array(S.w_[:], dtype=float)
            if self.readouts.get(name):
                rule, p, sign = self.readouts[name]
                now = float(self.network.t_) if hasattr(self, "network") else 0.0
                w = rule.weight_now(p, sign, w, {"c": np.asarray(S.c_[:]), "d": np.asarray(S.d_[:])},
                                    now - np.asarray(S.tlast_[:]))
            out[name] = w
        return out

    def weight_samples(self) -> dict:
        """Per monitored projection, the weight samples since the last call: (steps, samples x
        synapses, synapse indices)."""
        out = {}
        for proj, mon in self.weight_monitors.items():
            seen = self._weight_samples_seen[proj]
            t = np.asarray(mon.t_[:], dtype=float)[seen:]
            self._weight_samples_seen[proj] += t.size
            w = np.asarray(mon.w_, dtype=float)[:, seen:].T.copy()
            if self.readouts.get(proj):
                rule, p, sign = self.readouts[proj]
                c, d = (np.asarray(getattr(mon, v), dtype=float)[:, seen:].T for v in ("c_", "d_"))
                el = t[:, None] - np.asarray(mon.tlast_, dtype=float)[:, seen:].T
                w = rule.weight_now(p, sign, w, {"c": c, "d": d}, el)
            out[proj] = (np.rint(t / self.plan.dt).astype(np.int64), w, self.plan.weight_monitors[proj][0].copy())
        return out

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
            # steps: Result.from_run writes times as the native engine does (step*dt)
            spikes[pop] = (steps[order], i[order])
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
        self.build_s = time.perf_counter() - t0

    def _result(self, n_steps, wall, build, spikes, traces, extra, weights=None, samples=None,
                final_state=None) -> Result:
        """The Result of the run that ended at self.step; ``spikes``: population -> (steps, indices)."""
        g = self.ir
        return Result.from_run(
            RawRun(dt=g.dt, n_start=self.step - n_steps, n_steps=n_steps,
                   spike_steps={p: s for p, (s, _) in spikes.items()},
                   spike_indices={p: i for p, (_, i) in spikes.items()}, traces=traces, weights=weights or {},
                   weight_samples=samples or {}, final_state=final_state or {}),
            g, backend=NAME, wall_s=wall, build_s=build,
            options={k: (str(v) if k == "cache_dir" and v is not None else v) for k, v in self.options.items()},
            extra={"brian2": {"version": b2.__version__, "device": self.options["device"],
                              "poisson_sources": dict(self.plan.poisson_modes), **extra}})

    def _replay_events(self, n_steps: int) -> float:
        return sum(float(np.sum(src.node.rates)) * n_steps * self.ir.dt
                   for src in self.plan.sources.values() if src.mode == "replay")


class RuntimeExecutable(RunControl, _Brian2Executable):
    """Brian2's runtime device with Cython code generation; supports consecutive runs."""

    def __init__(self, g, options):
        super().__init__(g, options)
        t0 = time.perf_counter()
        with _brian2_state("runtime", self.cache_dir, self.options["target"], self.options["fast_math"]) as dev:
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
        # run control: the static weights the objects hold now, and weight writes that wait
        # until the spikes sent before a change have arrived ((step, projection, synapses, values))
        self._applied = {n: np.array(e.weight, dtype=float) for n, e in g.projections.items() if e.plasticity is None}
        self._deferred = []

    def _run(self, duration: float, progress: bool = False) -> Result:
        dt = self.ir.dt
        n_steps = _ir.duration_steps(duration, dt)
        n_start, n_end = self.step, self.step + n_steps
        # replayed Poisson input bounds how many steps one Brian2 run may cover
        per_step = self._replay_events(1)
        window = n_steps if per_step == 0 else max(1, min(n_steps, int(REPLAY_MAX_EVENTS / per_step)))
        wall = prep = 0.0
        with _brian2_state("runtime", self.cache_dir, self.options["target"], self.options["fast_math"]) as dev:
            saved_rng = dev.get_random_state()
            dev.set_random_state(self._rng_state)
            try:
                n = n_start
                while n < n_end:
                    self._apply_deferred(n)
                    stop = min([n_end, n + window] + [at for at, *_ in self._deferred if at > n])
                    t0 = time.perf_counter()
                    for src in self.plan.sources.values():
                        if src.mode == "replay":
                            self.built.set_replay(src, n, stop)
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
            weights, samples = self.built.weights(), self.built.weight_samples()
        return self._result(n_steps, wall, self.build_s + prep, spikes, traces,
                            {"target": self.options["target"], "runs": -(-n_steps // window)}, weights, samples,
                            final_state=self.state())

    # -- run control (docs/run_control.md): state variables and snapshots --------------------
    def _state_arrays(self):
        """(population, var, Brian2 value array, offset, size) of every state variable: the
        runtime device's arrays themselves, in SI, so writes reach the next run."""
        for name, p in self.ir.populations.items():
            gname = self.plan.where[name]
            G = self.built.groups[gname]
            first = self.plan.pops[gname].offsets[name]
            names = ["v"] + [var for var in get_model(p.model).state if var != "v"]
            names += [var for r in p.receptors if (var := receptor_var(p, r)) is not None]
            for var in names:
                yield name, var, G.variables[var].get_value(), first, p.size

    def state(self) -> dict:
        out: dict = {}
        for name, var, arr, first, size in self._state_arrays():
            out.setdefault(name, {})[var] = np.array(arr[first:first + size], dtype=float)
        return out

    def modulate(self, projection: str, count: int = 1) -> None:
        readout = self.built.readouts.get(projection)
        if readout is None or "modulator" not in readout[1]:
            raise ValidationError("projection", projection, "a three_factor projection with a modulator population: "
                                  + ", ".join(n for n, r in self.built.readouts.items() if r and "modulator" in r[1]))
        if not isinstance(count, (int, np.integer)) or count < 1:
            raise ValidationError("count", count, "a whole number of modulator spikes >= 1")
        rule, p, sign = readout
        S = self.built.plastic[projection]
        names = ("w", "xpre", "xpost", "c", "d", "tlast")
        arrays = {k: S.variables[k].get_value() for k in names}     # the device's own arrays
        now = self.step * self.ir.dt
        for _ in range(int(count)):
            new = rule.modulated(p, sign, {k: np.asarray(a, dtype=float) for k, a in arrays.items()}, now)
            for k in names:
                arrays[k][:] = new[k]

    def set(self, pop: str, var: str, values) -> None:
        size = self.get(pop, var).size           # checks pop and var
        vals = np.asarray(values, dtype=float)
        if vals.ndim > 1 or (vals.ndim == 1 and vals.size != size):
            raise ValidationError(f"{pop}.{var}", f"{vals.size} values", f"a scalar or {size} values")
        if not np.isfinite(vals).all():
            raise ValidationError(f"{pop}.{var}", values, "finite values")
        for name, v, arr, first, n in self._state_arrays():
            if (name, v) == (pop, var):
                arr[first:first + n] = vals

    def weights(self, projection: str) -> np.ndarray:
        edge = self._edge(projection)
        learnt = self.built.weights() if edge.plasticity is not None else {}
        return learnt[projection] if projection in learnt else edge.weight.copy()

    def _device(self):
        """Brian2's runtime device with this executable's preferences, active inside the block."""
        return _brian2_state("runtime", self.cache_dir, self.options["target"], self.options["fast_math"])

    def _build(self, plan: _Plan) -> _Built:
        return _Built(plan, self.cache_dir)


class StandaloneExecutable(_Brian2Executable):
    """Brian2's cpp_standalone device: one C++ project per network, built and run by ``run`` (once)."""

    def _run(self, duration: float, progress: bool = False) -> Result:
        n_steps = _ir.duration_steps(duration, self.ir.dt)
        if self.step:
            raise UnsupportedFeature(NAME, "a second run() of a cpp_standalone executable",
                                     "compile again, or use device=runtime to continue a simulation")
        dt = self.ir.dt
        events = self._replay_events(n_steps)
        if events > REPLAY_MAX_EVENTS:
            raise UnsupportedFeature(NAME, f"replaying ~{events:.3g} Poisson events in one cpp_standalone build",
                                     f"at most {REPLAY_MAX_EVENTS:g}; use -O poisson=draw, a shorter run "
                                     "or device=runtime")
        procs.clean_stale()
        directory = self.cache_dir / "standalone" / _project_key(self.ir)
        directory.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with _brian2_state("cpp_standalone", self.cache_dir, fast_math=self.options["fast_math"]) as dev, _locked(directory):
            dev.reinit()
            dev.activate(build_on_run=False)
            try:
                built = _Built(self.plan, self.cache_dir)
                for src in self.plan.sources.values():
                    if src.mode == "replay":
                        built.set_replay(src, 0, n_steps)
                if self.plan.draw_seed is not None:
                    dev.seed(self.plan.draw_seed % 2**32)
                built.network.run(_q(n_steps * dt, _SECOND), namespace={},
                                  report="stderr" if progress else None)
                dev.build(directory=str(directory), compile=False, run=False, with_output=False)
                _make(directory)
                _run_binary(dev, directory)
                wall = float(dev._last_run_time)
                spikes, traces = built.collect(0, n_steps)
                weights, samples = built.weights(), built.weight_samples()
            finally:
                dev.reinit()
        self.step = n_steps
        total = time.perf_counter() - t0
        return self._result(n_steps, wall, self.build_s + total - wall, spikes, traces,
                            {"project": str(directory)}, weights, samples)


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
        "fast_math": (FAST_MATH, "on"),
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
