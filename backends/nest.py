"""The NEST backend: compiles the IR (spikecore.ir) to NEST 3 (nest-simulator) nodes and connections.

NEST is the field's simulator for networks that outgrow one machine (MPI);
this backend runs spikecore's realised networks on it: the same synapses (the
IR's explicit (i, j, weight, delay) arrays, never re-drawn), the same spike
sources and, by default, the same Poisson trains as the native engine.
Neighbours: backends/base.py (the contract), spikecore/ir.py (the step
semantics matched here), docs/nest.md (every difference from the IR, each
shown by a test in tests/backends/test_nest.py).

Mapping (NEST units: ms, mV, pA, nS, pF; converted once, here, with the named
factors below):

* a model that runs in mode "nest" (spikecore.models), planned in backends/_nest_models.py:
  ``izhikevich`` -> ``izhikevich`` (integrators euler and izhikevich2003), ``adex`` ->
  ``aeif_psc_exp``, ``adex_cond`` -> ``aeif_cond_exp``, per-neuron parameters per node;
  the LIFs by synapse kind: ``lif_delta`` -> ``iaf_psc_delta``; ``lif_cuba`` -> ``iaf_psc_exp`` when the
  receptors can be told apart by the sign of their weights (NEST routes positive
  weights to ``ex``, negative to ``in``), else ``iaf_psc_exp_multisynapse``
  (one receptor port per IR receptor); ``lif_coba`` -> ``iaf_cond_exp`` (two
  receptors: the one of higher reversal potential on ``ex`` with +w, the other on
  ``in`` with -w; more are refused). ``C_m = tau_mem / r`` for the current models,
  so NEST's ``I / C_m`` is the IR's ``r * I / tau_mem``.
* spike source -> one ``spike_generator`` per neuron; Poisson source -> option
  ``poisson``: ``replay`` (default) one ``spike_generator`` per neuron fed with
  the counts of ``spikecore.ir.poisson_counts`` (the native engine's stream, so
  results can match), or ``nest``: NEST's ``poisson_generator`` (one per distinct
  rate) relayed by one ``parrot_neuron`` per IR Poisson neuron, so all of a
  neuron's synapses see one train (statistical agreement only).
* current input -> the neuron's ``I_e`` for the amplitude of steps 0 and 1, a
  ``step_current_generator`` (delay one step) for the later changes.
* spike monitor -> ``spike_recorder``; state monitor -> ``multimeter`` at the
  monitor's interval.

Time grid. NEST updates step k over (k*h, (k+1)*h] and stamps its spikes
(k+1)*h; the IR reports a spike of step k at k*dt, so spike times are moved back
by one step. A spike stamped T reaches its target at T + delay: a current or
conductance jump then acts from the next step, as in the IR, so delays are
kept; a delta jump acts in the step it arrives, before the threshold test, one
step earlier than the IR's, so delays onto ``iaf_psc_delta`` get one step more.
NEST's refractory count starts with the step after the spike, the IR's with
the spike's step, so ``t_ref`` is one step shorter. Multimeters sample the
state at the start of a step, as the IR's monitors do (step 0 is read before
the run). What still differs (threshold ``>=``, delta input in the step after a
spike and in the last refractory step, the delta jump not decaying for a step,
``iaf_cond_exp``'s adaptive integrator) is listed in docs/nest.md.

NEST's kernel is one per process: compiling resets it, so only the most
recently compiled executable can run (an older one says so). Under ``mpirun``
with an MPI-enabled NEST each rank connects only the synapses onto the neurons
it hosts, reading each projection's stream piece by piece (``hosted_synapses``:
a lazy projection is never joined; a rank-local one, fixed_total_number, one_to_one or
all_to_all with a constant weight and delay, or any of these, fixed_indegree and
fixed_probability with ``streams: per_target`` and drawn values, is drawn only for those
neurons, and read before connecting only where a weight can take both signs), and records
only those; ``merge_ranks`` joins the ranks' Results. NEST finds the delay extrema itself
(``_reset_kernel``).
"""
from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("PYNEST_QUIET", "1")   # no banner on import
import nest  # noqa: E402

from spikecore import ir as _ir  # noqa: E402
from spikecore.plasticity import refuse_plastic  # noqa: E402
from spikecore.recording import multiples  # noqa: E402
from spikecore.errors import SpikecoreError, UnsupportedFeature, ValidationError  # noqa: E402
from spikecore.result import RawRun, Result  # noqa: E402

from ._nest_models import (MS_PER_S, MV_PER_V, NS_PER_S, PA_PER_A, PF_PER_F, PopulationPlan,  # noqa: E402,F401
                           declared_weight_signs, nest_delays_ms, nest_weights, population_plan, receptor_signs,
                           refractory_ms, sign_routes, value_chunks)
from .base import Backend, Executable  # noqa: E402

NAME = "nest"
POISSON_MODES = ("replay", "nest")

#: NEST's time grid is counted in tics; these are tried in order until dt is a whole number of them
TICS_PER_MS = (1000, 10_000, 100_000, 1_000_000)
#: Poisson counts are drawn in chunks of at most this many (step, neuron) entries
POISSON_CHUNK = 1 << 22
NEST_SEED_MAX = 2 ** 31 - 2

MPI_HINT = ("build NEST from source with MPI (cmake -Dwith-mpi=ON, see "
            "https://nest-simulator.readthedocs.io/en/stable/installation/) and install it into this environment")


class NestError(SpikecoreError):
    """NEST's kernel cannot do what was asked (e.g. run a network whose kernel was reset)."""


# ----------------------------------------------------------------------------- the time grid
def spike_step_of_stamp(times_ms: np.ndarray, dt: float) -> np.ndarray:
    """The IR step of NEST spikes stamped at ``times_ms`` (NEST stamps step k's spikes (k+1)*h)."""
    return np.rint(np.asarray(times_ms) / (dt * MS_PER_S)).astype(np.int64) - 1


def stamp_of_step(steps: np.ndarray, dt: float) -> np.ndarray:
    """The spike_generator time (ms) that makes NEST emit a spike as the IR does at ``steps``."""
    return (np.asarray(steps, dtype=np.int64) + 1) * dt * MS_PER_S


def current_plan(node: _ir.CurrentInputNode, dt: float):
    """(amplitude of step 0, of step 1, [(generator time ms, amplitude - step-1 amplitude), ...]) in pA.

    A step_current_generator change at time T (delay one step) acts from step T/h + 1,
    and no change may be at T <= 0: steps 0 and 1 are set through I_e."""
    st, amp = _ir.current_at_steps(node, dt)
    amp = amp * PA_PER_A

    def at(step):
        k = np.flatnonzero(st <= step)
        return float(amp[k[-1]]) if k.size else 0.0
    a0, a1 = at(0), at(1)
    changes = {}
    for s, a in zip(st, amp):
        if s >= 2:
            changes[int(s)] = float(a) - a1        # the last change within a step wins
    return a0, a1, [((s - 1) * dt * MS_PER_S, a) for s, a in sorted(changes.items())]


def resolve_nest_threads(threads) -> int:
    if isinstance(threads, str) and threads.strip().isdigit():
        threads = int(threads)
    if threads == "all":
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValidationError("option 'threads'", threads, 'a positive number of threads or "all"')
    return int(threads)


def tics_per_ms(dt: float) -> int:
    """A NEST tic size in which dt is a whole number of tics; refuses a dt no tic size fits."""
    for tics in TICS_PER_MS:
        n = dt * MS_PER_S * tics
        if abs(n - round(n)) < 1e-6 * max(1.0, n) and round(n) >= 1:
            return tics
    raise UnsupportedFeature(NAME, f"dt={dt!r} s", "NEST's time grid needs dt to be a whole number of "
                             "nanoseconds")


# ----------------------------------------------------------------------------- MPI
def have_mpi() -> bool:
    return bool(nest.build_info.get("have_mpi", False))


def mpi_ranks(n_ranks) -> int:
    """The number of MPI ranks of ``--mpi``, validated."""
    if isinstance(n_ranks, str) and n_ranks.strip().isdigit():
        n_ranks = int(n_ranks)
    if isinstance(n_ranks, bool) or not isinstance(n_ranks, (int, np.integer)) or n_ranks < 1:
        raise ValidationError("--mpi", n_ranks, "a positive number of MPI processes")
    return int(n_ranks)


def check_mpi(n_ranks, command: list | None = None) -> int:
    """The number of MPI ranks, validated; refuses when the installed NEST has no MPI, saying
    how to get it and, given the ``command`` (mpirun_command), what would have been run."""
    n_ranks = mpi_ranks(n_ranks)
    if not have_mpi():
        would = f"; the run would be: {shlex.join(command)}" if command else ""
        raise UnsupportedFeature(NAME, f"--mpi {n_ranks}", "the installed NEST was built without MPI "
                                 "(nest.build_info['have_mpi'] is False; the PyPI wheel has none): " + MPI_HINT
                                 + would)
    return n_ranks


def mpirun_command(n_ranks: int, run_args: list, python: str = sys.executable, launcher: str = "mpirun") -> list:
    """The command that runs ``spikecore run RUN_ARGS`` (no --mpi in them) on ``n_ranks`` MPI processes."""
    if isinstance(n_ranks, bool) or not isinstance(n_ranks, (int, np.integer)) or n_ranks < 1:
        raise ValidationError("--mpi", n_ranks, "a positive number of MPI processes")
    if any(a == "--mpi" or a.startswith("--mpi=") for a in run_args):
        raise ValidationError("run arguments", " ".join(run_args), "no --mpi (the ranks run without it)")
    return [launcher, "-np", str(int(n_ranks)), python, "-m", "spikecore", "run", *run_args]


def rank_dir(out, rank: int) -> Path:
    """Where rank ``rank`` of an MPI run writing to ``out`` saves its part (beside ``out``, which is
    replaced whole once the parts are joined)."""
    out = Path(out)
    return out.with_name(out.name + ".ranks") / f"rank_{rank}"


def mpi_rank() -> tuple:
    """(this process's MPI rank, the number of ranks): (0, 1) outside mpirun or without MPI."""
    return nest.Rank(), nest.NumProcesses()


def merge_ranks(parts: list) -> Result:
    """One Result from the Results of the ranks of one MPI run (each holds its own neurons)."""
    if not parts:
        raise ValidationError("ranks", [], "the Results of at least one rank")
    first = parts[0]
    spikes = {}
    for pop in first.spikes:
        t = np.concatenate([p.spikes[pop][0] for p in parts])
        i = np.concatenate([p.spikes[pop][1] for p in parts])
        order = np.lexsort((i, np.rint(t / first.dt)))
        spikes[pop] = (t[order], i[order])
    traces = {}
    for mon, tr in first.traces.items():
        neurons = np.asarray(tr["neurons"])
        merged = {var: np.full_like(block, np.nan, dtype=float) for var, block in tr["variables"].items()}
        for p in parts:                        # a rank's samples of the neurons it does not host are NaN
            for var, block in p.traces[mon]["variables"].items():
                merged[var] = np.where(np.isnan(merged[var]), block, merged[var])
        traces[mon] = {"target": tr["target"], "neurons": neurons, "times": tr["times"], "variables": merged}
    extra = {k: v for k, v in first.extra.items() if k not in ("mpi_rank",)}
    return Result(backend=first.backend, duration=first.duration, dt=first.dt,
                  wall_s=max(p.wall_s for p in parts), sizes=dict(first.sizes), spikes=spikes, traces=traces,
                  build_s=max(p.build_s for p in parts), seed=first.seed, model=first.model,
                  n_synapses=first.n_synapses, options=dict(first.options), extra=extra)


# ----------------------------------------------------------------------------- the kernel's owner
class _Kernel:
    """NEST has one kernel per process: the executable that built it last owns it."""
    owner = None


def hosted_synapses(edge: _ir.ProjectionEdge, hosted: np.ndarray | None):
    """The projection's synapses onto the target neurons marked in ``hosted`` (a mask over the
    target population; None: all), chunk by chunk (i, j, weight, delay).

    A lazy edge (spikecore.ir.SynapseStream: every large projection) is drawn from the seed
    piece by piece and never joined: a rank holds one piece and the synapses onto its own
    neurons, never the projection's whole list. A rank-local stream (``SynapseStream.rank_local``:
    fixed_total_number, one_to_one or all_to_all with a weight and delay that depend on the target
    only, or drawn from per-target streams, ``streams: per_target``, which also makes fixed_indegree
    and fixed_probability rank-local) draws only the synapses onto the hosted neurons; the others are drawn whole,
    piece by piece, and filtered.
    Either way each target gets the synapses and values it has in the IR's list, so the
    synapses each rank keeps, and their union, do not depend on the number of ranks or threads."""
    if hosted is not None and edge.is_lazy:
        chunks = edge.stream.onto(hosted)
    else:
        chunks = edge.chunks()
    for i, j, w, d in chunks:
        if hosted is not None and not edge.is_lazy:
            keep = hosted[j]
            i, j, w, d = i[keep], j[keep], w[keep], d[keep]
        if i.size:
            yield i, j, w, d


def rank_local_report(ir: _ir.IRGraph) -> str:
    """One line for the run log of an MPI run: which projections each rank draws only for its own
    neurons (those drawn from per-target streams, ``streams: per_target``, marked so), which it
    draws whole and filters (with why), and which rank-local ones it still reads whole before
    connecting: the weights of one onto current synapses whose weight can take both signs (the
    NEST model, chosen by the receptors' signs, must be the same on every rank:
    _nest_models.receptor_signs); projections held as arrays (below spikecore.ir.LAZY_SYNAPSES)
    are built whole on every rank."""
    local, whole, arrays, signs_read = [], [], [], []
    for name, edge in ir.projections.items():
        if not edge.is_lazy:
            arrays.append(name)
        elif edge.stream.rank_local:
            local.append(name + (" (per-target streams)" if edge.stream.per_target else ""))
            if edge.synapse == "current" and declared_weight_signs(edge) is None:
                signs_read.append(name)
        else:
            whole.append(f"{name} ({edge.stream.rank_local_reason})")
    return ("per-rank synapse generation: drawn for this rank's neurons only: " + (", ".join(local) or "none")
            + "; drawn whole and filtered: " + ("; ".join(whole) or "none")
            + "; small, built whole: " + (", ".join(arrays) or "none")
            + "; weights read whole for NEST's receptor routing (a weight that can take both signs): "
            + (", ".join(signs_read) or "none"))


def check_on_grid(name: str, delays, dt: float):
    """Refuses delays (s) off the dt grid: NEST would round them to its grid."""
    d = np.asarray(delays)
    if d.size and np.any(np.abs(d / dt - np.rint(d / dt)) > _ir.GRID_TOLERANCE):
        raise UnsupportedFeature(NAME, f"off-grid delays (projections.{name}.delay)",
                                 "NEST rounds delays to its grid: realise the network with timing=grid")


def check_delays_on_grid(ir: _ir.IRGraph):
    """Refuses off-grid delays before the kernel is touched, the same way on every MPI rank.

    A rank-local projection (SynapseStream.rank_local) is checked on the synapses onto its
    first target that has any (the same on every rank, a few values drawn): its delay is a
    constant or drawn from a continuous distribution, off the grid only in a precise-timing
    IR and then (but for a zero spread, which the probe decides too) at every synapse; each
    rank also checks every delay it connects (NestExecutable._connect_projections), so no
    rank ever hands NEST an off-grid delay. Any other projection is read whole, chunk by
    chunk (value_chunks: every rank draws it whole anyway)."""
    for name, edge in ir.projections.items():
        if edge.is_lazy and edge.stream.rank_local:
            with_synapses = np.flatnonzero(edge.stream.in_degrees())
            if with_synapses.size:
                first = np.zeros(ir.populations[edge.post].size, dtype=bool)
                first[with_synapses[0]] = True
                for _, _, _, d in edge.stream.onto(first):
                    check_on_grid(name, d, ir.dt)
            continue
        for _, _, d in value_chunks(edge):
            check_on_grid(name, d, ir.dt)


def _reset_kernel(ir: _ir.IRGraph, threads: int):
    """A fresh kernel on the IR's grid. The delay extrema are left to NEST: it raises min_delay
    and max_delay as connections are made (DelayChecker::assert_valid_delay_ms) and, before it
    simulates, takes the smallest and largest over all MPI ranks
    (ConnectionManager::update_delay_extrema_, in SimulationManager::prepare), so no rank needs
    the largest delay of synapses it does not host. (Setting them ourselves would need it: NEST
    then refuses any longer delay, and takes the values as given on each rank.) min_delay stays
    one step: the recorders' connections carry the default delay, h, and the samples at the end
    of a run arrive one min_delay late."""
    tics = tics_per_ms(ir.dt)                  # (refuses before the kernel is touched)
    h = ir.dt * MS_PER_S
    _Kernel.owner = None
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"tics_per_ms": tics, "resolution": h,
                          "local_num_threads": threads, "rng_seed": int(ir.seed % NEST_SEED_MAX) + 1})
    nest.SetDefaults("static_synapse", {"delay": h})      # devices' connections (NEST's default is 1 ms)


# ----------------------------------------------------------------------------- the executable
class NestExecutable(Executable):
    backend = NAME

    def __init__(self, ir: _ir.IRGraph, options: dict):
        t0 = time.perf_counter()
        self.ir, self.options = ir, options
        self.threads = resolve_nest_threads(options["threads"])
        self.plans = {name: population_plan(ir, p) for name, p in ir.populations.items()}
        for m in ir.state_monitors.values():       # refuse before touching the kernel
            for var in m.variables:
                self._recordable(m.target, var)
        check_delays_on_grid(ir)
        _reset_kernel(ir, self.threads)
        self.step = 0
        self.nodes = {}
        self.pending_i_e = {}                     # population -> I_e from step 1 (set after step 0)
        self._create_populations()
        self._create_sources()
        self._connect_projections()
        self._create_currents()
        self._create_recorders()
        _Kernel.owner = self                      # built completely: the kernel holds this network
        self.build_s = time.perf_counter() - t0

    # -- building -----------------------------------------------------------------------
    def _create_populations(self):
        for name, plan in self.plans.items():
            params = plan.params
            if plan.node_params:         # per-neuron values: all of a node's parameters at once
                params = [{**plan.params, **{k: float(v[n]) for k, v in plan.node_params.items()}}
                          for n in range(plan.size)]
            nodes = nest.Create(plan.nest_model, plan.size, params=params)
            for key, values in plan.initial.items():
                nodes.set({key: np.asarray(values, dtype=float).tolist()})
            self.nodes[name] = nodes

    def _create_sources(self):
        dt = self.ir.dt
        for name, s in self.ir.spike_sources.items():
            gens = nest.Create("spike_generator", s.size)
            steps = np.rint(np.asarray(s.times) / dt).astype(np.int64)
            order = np.lexsort((steps, s.indices))
            idx, st = np.asarray(s.indices)[order], steps[order]
            starts = np.searchsorted(idx, np.arange(s.size + 1))
            gens.set([{"spike_times": stamp_of_step(st[starts[k]:starts[k + 1]], dt)}
                      for k in range(s.size)])
            self.nodes[name] = gens
        for name, s in self.ir.poisson_sources.items():
            if self.options["poisson"] == "replay":
                self.nodes[name] = nest.Create("spike_generator", s.size)
            else:
                self.nodes[name] = self._nest_poisson(s)

    def _nest_poisson(self, s: _ir.PoissonSourceNode):
        """NEST's own Poisson trains: a generator per distinct rate, a parrot per IR neuron (so one
        train reaches all of its synapses). A generator active over (start, stop] drives its parrots
        in IR steps start/h + 2 ... stop/h + 1 (measured: tests/backends/test_nest.py), so the
        window moves two steps early, and the source cannot spike in steps 0 and 1."""
        dt_ms = self.ir.dt * MS_PER_S
        parrots = nest.Create("parrot_neuron", s.size)
        on, off = _ir.poisson_active_steps(s, self.ir.dt)
        window = {"start": max(on - 2, 0) * dt_ms}
        if off < 2 ** 62:
            window["stop"] = max(off - 2, 0) * dt_ms
        rates = np.asarray(s.rates, dtype=float)
        ids = np.asarray(parrots.tolist())
        for rate in np.unique(rates):
            gen = nest.Create("poisson_generator", params={"rate": float(rate), **window})
            nest.Connect(gen, nest.NodeCollection(ids[rates == rate].tolist()), syn_spec={"delay": dt_ms})
        return parrots

    def _local_posts(self, name: str) -> np.ndarray | None:
        """Under MPI, the mask of the population's neurons this rank hosts (None: all of them)."""
        if nest.NumProcesses() == 1:
            return None
        return np.atleast_1d(np.asarray(self.nodes[name].get("local"), dtype=bool))

    def _connect_projections(self):
        dt = self.ir.dt
        local = {name: self._local_posts(name) for name in self.ir.populations}
        if nest.NumProcesses() > 1 and nest.Rank() == 0:      # the run log says what each rank draws
            print(rank_local_report(self.ir), file=sys.stderr)
        for e in self.ir.projections.values():
            plan = self.plans[e.post]
            pre_ids = np.asarray(self.nodes[e.pre].tolist(), dtype=np.int64)
            post_ids = np.asarray(self.nodes[e.post].tolist(), dtype=np.int64)
            port = plan.routes.get(e.receptor)
            # each rank connects only the synapses onto its own neurons, drawn piece by piece
            for i, j, w, d in hosted_synapses(e, local[e.post]):
                check_on_grid(e.name, d, dt)              # each rank checks every delay it connects
                syn = {"weight": nest_weights(plan, e.receptor, w, j),
                       "delay": nest_delays_ms(d, dt, plan.extra_delay_steps)}
                if isinstance(port, int):
                    syn["receptor_type"] = port
                nest.Connect(pre_ids[i], post_ids[j], "one_to_one", syn_spec=syn)

    def _create_currents(self):
        dt = self.ir.dt
        i_e0 = {name: np.zeros(p.size) for name, p in self.ir.populations.items()}
        i_e1 = {name: np.zeros(p.size) for name, p in self.ir.populations.items()}
        for c in self.ir.currents.values():
            a0, a1, changes = current_plan(c, dt)
            neurons = np.unique(np.asarray(c.neurons, dtype=np.int64))   # a neuron listed twice gets it once
            # NEST's current input per pA (1 for the LIF and AdEx models, 1e-12 / c_m for izhikevich)
            per_pa = self.plans[c.target].current_factor[neurons] / PA_PER_A
            i_e0[c.target][neurons] += a0 * per_pa
            i_e1[c.target][neurons] += a1 * per_pa
            if changes:
                gen = nest.Create("step_current_generator", params={
                    "amplitude_times": [t for t, _ in changes], "amplitude_values": [a for _, a in changes]})
                post = np.asarray(self.nodes[c.target].tolist(), dtype=np.int64)[neurons]
                nest.Connect(np.full(post.size, gen.global_id), post, "one_to_one",
                             syn_spec={"delay": np.full(post.size, dt * MS_PER_S), "weight": per_pa})
        for name, plan in self.plans.items():             # the model's bias current is a constant I_e
            i_e0[name] += plan.i_e_bias
            i_e1[name] += plan.i_e_bias
        for name, nodes in self.nodes.items():
            if name in self.ir.populations:
                if i_e0[name].any():
                    nodes.set(I_e=i_e0[name].tolist())
                if not np.array_equal(i_e0[name], i_e1[name]):
                    self.pending_i_e[name] = i_e1[name]

    def _recordable(self, target: str, var: str) -> str:
        plan = self.plans[target]
        if var in plan.recordables:
            return plan.recordables[var][0]
        raise UnsupportedFeature(NAME, f"recording '{var}' of population '{target}'",
                                 f"{plan.nest_model} records " + ", ".join(plan.recordables))

    def _create_recorders(self):
        self.recorders = {}
        for name in self.ir.recorded_populations():
            rec = nest.Create("spike_recorder")
            nest.Connect(self.nodes[name], rec)
            self.recorders[name] = rec
        self.multimeters = {}
        for mname, m in self.ir.state_monitors.items():
            neurons = np.asarray(m.neurons, dtype=np.int64)
            targets = np.unique(neurons)
            names = [self._recordable(m.target, var) for var in m.variables]
            mm = nest.Create("multimeter", params={"interval": m.interval * MS_PER_S,
                                                   "record_from": sorted(set(names))})
            ids = np.asarray(self.nodes[m.target].tolist(), dtype=np.int64)[targets]
            if ids.size:
                nest.Connect(mm, nest.NodeCollection(ids.tolist()))
            self.multimeters[mname] = (mm, names, targets, neurons)

    # -- running ------------------------------------------------------------------------
    def _feed_poisson(self, n_start: int, n_steps: int):
        """Give the replaying generators the IR's Poisson trains of steps [n_start, n_start + n_steps)."""
        dt = self.ir.dt
        for name, s in self.ir.poisson_sources.items():
            if self.options["poisson"] != "replay":
                continue
            chunk = max(1, POISSON_CHUNK // max(s.size, 1))
            steps, neurons, counts = [], [], []
            for a in range(n_start, n_start + n_steps, chunk):
                c = np.ascontiguousarray(_ir.poisson_counts(s, dt, a, min(chunk, n_start + n_steps - a)).T)
                nk, st = np.nonzero(c)            # neuron-major: each neuron's steps in order
                steps.append(st + a)
                neurons.append(nk)
                counts.append(c[nk, st])
            st, nk, ct = (np.concatenate(x) for x in (steps, neurons, counts))
            if len(steps) > 1:                    # chunks follow each other in time: a stable sort by neuron
                order = np.argsort(nk, kind="stable")
                st, nk, ct = st[order], nk[order], ct[order]
            starts = np.searchsorted(nk, np.arange(s.size + 1))
            stamps = stamp_of_step(st, dt)
            ct = ct.astype(np.int64)             # (numpy arrays: NEST cannot type an empty list)
            self.nodes[name].set([{"spike_times": stamps[starts[k]:starts[k + 1]],
                                   "spike_multiplicities": ct[starts[k]:starts[k + 1]]}
                                  for k in range(s.size)])

    def _run(self, duration: float, progress: bool = False) -> Result:
        if _Kernel.owner is not self:
            raise NestError("nest: this network's NEST kernel was reset by a later compile (NEST has one "
                            "kernel per process); compile it again to run it")
        dt = self.ir.dt
        n_steps = _ir.duration_steps(duration, dt)
        n_start = self.step
        t0 = time.perf_counter()
        self._feed_poisson(n_start, n_steps)
        first = {mname: self._initial_state(mname) for mname in self.multimeters} if n_start == 0 else {}
        remaining = n_steps
        if self.pending_i_e and n_start == 0:      # the current of step 1 differs from step 0's
            nest.Simulate(dt * MS_PER_S)
            for name, i_e in self.pending_i_e.items():
                self.nodes[name].set(I_e=i_e.tolist())
            self.pending_i_e = {}
            remaining -= 1
        if remaining > 0:
            nest.Simulate(remaining * dt * MS_PER_S)
        wall = time.perf_counter() - t0
        self.step = n_start + n_steps
        spikes = self._collect_spikes()
        traces = {mname: self._collect_trace(mname, n_start, self.step, first.get(mname))
                  for mname in self.multimeters}
        extra = {}
        if nest.NumProcesses() > 1:
            extra = {"mpi_rank": nest.Rank(), "mpi_ranks": nest.NumProcesses()}
        raw = RawRun(dt=dt, n_start=n_start, n_steps=n_steps, spike_steps={n: st for n, (st, _) in spikes.items()},
                     spike_indices={n: i for n, (_, i) in spikes.items()}, traces=traces)
        return Result.from_run(raw, self.ir, backend=NAME, wall_s=wall, build_s=self.build_s,
                               options=dict(self.options), extra=extra)

    def _collect_spikes(self) -> dict:
        out = {}
        for name, rec in self.recorders.items():
            ev = rec.get("events")
            steps = spike_step_of_stamp(ev["times"], self.ir.dt)
            idx = np.asarray(ev["senders"], dtype=np.int64) - self.nodes[name][0].global_id
            order = np.lexsort((idx, steps))
            out[name] = (steps[order], idx[order])     # steps: Result.from_run writes times as step*dt
            rec.set(n_events=0)
        return out

    def _to_si(self, target: str, var: str, values: np.ndarray, neurons: np.ndarray) -> np.ndarray:
        """NEST's recorded ``values`` of ``var`` for the target's ``neurons`` in SI units."""
        factor = self.plans[target].recordables[var][1]
        return np.asarray(values, dtype=float) * (factor[neurons] if np.ndim(factor) else factor)

    def _initial_state(self, mname: str) -> dict:
        """The monitored variables at step 0 (NEST's multimeter has no sample at t = 0): the values
        this executable gave NEST (synaptic state starts at 0, population_plan refuses others)."""
        _, names, _, neurons = self.multimeters[mname]
        m = self.ir.state_monitors[mname]
        initial = self.plans[m.target].initial
        return {var: self._to_si(m.target, var, initial[rec][neurons], neurons) if rec in initial
                else np.zeros(neurons.size) for var, rec in zip(m.variables, names)}

    def _collect_trace(self, mname: str, n_start: int, n_end: int, first) -> dict:
        mm, names, targets, neurons = self.multimeters[mname]
        m = self.ir.state_monitors[mname]
        every = _ir.steps(m.interval, self.ir.dt)
        sample_steps = multiples(n_start, n_end, every)
        ev = mm.get("events")
        ev_steps = np.rint(np.asarray(ev["times"]) / (self.ir.dt * MS_PER_S)).astype(np.int64)
        gid0 = self.nodes[m.target][0].global_id
        col_of = np.full(self.ir.populations[m.target].size, -1, np.int64)
        col_of[targets] = np.arange(targets.size)
        row = np.searchsorted(sample_steps, ev_steps)
        col = col_of[np.asarray(ev["senders"], dtype=np.int64) - gid0] if ev_steps.size else np.zeros(0, np.int64)
        ok = (row < sample_steps.size) & (ev_steps >= n_start)
        variables = {}
        for var, rec in zip(m.variables, names):
            block = np.full((sample_steps.size, targets.size), np.nan)
            senders = np.asarray(ev["senders"], dtype=np.int64)[ok] - gid0
            block[row[ok], col[ok]] = self._to_si(m.target, var, np.asarray(ev[rec])[ok], senders)
            block = block[:, np.searchsorted(targets, neurons)] if neurons.size else np.zeros((sample_steps.size, 0))
            if first is not None and sample_steps.size and sample_steps[0] == 0:
                block[0] = first[var]
            variables[var] = block
        mm.set(n_events=0)
        return {"target": m.target, "neurons": neurons.copy(), "times": sample_steps * self.ir.dt,
                "variables": variables}


_LATE_JUMP = ("nest: a delta jump enters NEST's membrane in the step after the IR adds it (decayed by a step "
              "to match), so a trace shows it one sample later")
_COND_EXP = ("nest: iaf_cond_exp integrates with GSL's adaptive RKF45 and conductances decaying within the "
             "step; the IR takes an exponential Euler step with the step-start conductances (~1e-3 apart)")
_LAST_REFRACTORY_STEP = ("nest: a delta input arriving in the last refractory step is applied (NEST counts the "
                         "refractory steps from the step after the spike); the IR discards it")
_SPIKE_STEP_INPUT = ("nest: with t_refrac < 2 dt a delta input arriving in the spike step is applied after the "
                     "reset; the IR loses it to the reset")


class NestBackend(Backend):
    name = NAME
    options = {"threads": (None, 1), "poisson": (POISSON_MODES, "replay")}
    #: conformance features this backend simulates differently by design (docs/nest.md; tests/backends/test_nest.py)
    conformance_exclusions = {
        "exact_threshold": "NEST fires on V >= V_th (the IR: V > V_th) and holds V in mV, so a membrane "
                           "landing exactly on threshold fires",
    }
    #: parts of scenarios NEST runs but by design does differently (docs/nest.md); strict xfails there
    conformance_differences = {
        ("delays", "traces"): f"{_LATE_JUMP}; {_COND_EXP}",
        ("refractory", "checks"): _LAST_REFRACTORY_STEP,
        ("refractory", "traces"): f"{_LAST_REFRACTORY_STEP}; {_LATE_JUMP}; {_COND_EXP}",
        ("reset", "checks"): _SPIKE_STEP_INPUT,
        ("reset", "traces"): f"{_SPIKE_STEP_INPUT}; {_LATE_JUMP}",
        ("multiplicity", "checks"): _LATE_JUMP,
        ("multiplicity", "traces"): _LATE_JUMP,
        ("poisson", "spikes"): _LAST_REFRACTORY_STEP,
        ("recurrent", "spikes"): _COND_EXP,
        ("recurrent", "traces"): _COND_EXP,
    }

    def compile(self, ir: _ir.IRGraph, **options) -> NestExecutable:
        opts = self.check_options(options)
        refuse_plastic(ir, NAME, "plastic projections run on the native grid engine and on brian2")
        resolve_nest_threads(opts["threads"])
        return NestExecutable(ir, opts)

    # MPI, used by the CLI (spikecore run --backend nest --mpi N)
    mpi_ranks = staticmethod(mpi_ranks)
    check_mpi = staticmethod(check_mpi)
    mpirun_command = staticmethod(mpirun_command)
    rank_dir = staticmethod(rank_dir)
    mpi_rank = staticmethod(mpi_rank)
    merge_ranks = staticmethod(merge_ranks)


BACKEND = NestBackend()
