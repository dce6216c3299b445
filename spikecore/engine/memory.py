"""How much memory a network will need, estimated from its description before anything is built.

``estimate(net, duration, backend, options)`` reads a spikecore.network.Network — population
sizes, each connector's expected synapse count, delays, monitors, sources — and returns a
``MemoryEstimate``: the bytes alive at each stage of a run and the peak over them, by component:

* ``realise``: Network.to_ir draws one projection after another; while it draws projection k,
  the IR arrays of the projections before it are alive, plus k's connector and delay-check
  temporaries (DRAW_BYTES_PER_SYNAPSE, its own IR arrays included);
* ``compile``: the IR (IR_BYTES_PER_SYNAPSE: i, j int64, weight, delay float64, spikecore.ir)
  plus what the backend allocates while it lays the network out (for the grid engine: the
  sort of the synapse table, spikecore/engine/simulator.py ``_lay_out_synapses``);
* ``run``: the IR, the backend's own copy of the network (synapse table, ring buffer of
  channels x delay slots, neuron state), the state monitors' buffers (samples x neurons x 8 B,
  held twice while the traces are collected) and the recorded spikes.

The peak is the largest stage. Constants below were measured on this machine (2-core EPYC VM,
Python 3.11, numpy 1.26, Brian2 2.9, Lava 0.10) as peak RSS (VmHWM) in a fresh process minus
the same process's VmHWM after its imports, divided by the synapse count, for all-to-all,
fixed-probability and fixed-indegree networks of 10^6 to 1.6 10^7 synapses
(``python -m benchmarks.memory_estimate``, benchmarks/RESULTS.md "Memory estimates").
Engine layout changes must keep them true: tests/engine/test_memory.py compares the estimate
with the measured peak (within 30 %).

``available_memory()`` is the smaller of /proc/meminfo's MemAvailable and the cgroup's limit
(cgroup v2 memory.max, v1 memory.limit_in_bytes); ``SPIKECORE_MEMORY_LIMIT`` (e.g. ``8GiB``)
lowers it further. ``check(estimate)`` raises spikecore.errors.InsufficientMemory naming the
largest consumer when the peak exceeds it; callers (spikecore.network.Network.run and the
``run``, ``compare``, ``deploy`` commands) offer a way to go ahead anyway.

The module is long because each measured constant carries how it was measured; the estimator
itself is the ``_Plan`` and the three ``_*_stage`` functions.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

import numpy as np

from .. import units as u
from ..connectors import CHUNK_SYNAPSES
from ..errors import InsufficientMemory, ValidationError
from ..ir import is_lazy
from .delivery import BUCKET_ENTRIES_PER_CHANNEL, DELIVERY_MODES, bucket_bytes, uses_buckets
from .thread_choice import part_shares

# ----------------------------------------------------------------------------- measured constants
#: the IR's realised synapse arrays: i, j (int64), weight, delay (float64) — spikecore.ir.ProjectionEdge
IR_BYTES_PER_SYNAPSE = 32
#: peak bytes per synapse while Network.to_ir draws one projection on the grid, its IR arrays
#: included: the connector's index arrays and copies, then check_delays' three float64 temporaries
#: (24 B). fixed_probability and fixed_indegree draw one small array per row, which the allocator
#: keeps after they are joined (+8 B); a sparse matrix is converted to COO twice (connectivity,
#: then weights). Measured (VmHWM of to_ir alone, 4 10^6 synapses; the all-to-all ones up to
#: 1.6 10^7): all_to_all 56.0, one_to_one 56.0, from_indices 56.0, fixed_probability 63.8-64.0,
#: fixed_indegree 64.2-64.8, fixed_total_number 56.4 (its sort keys are freed before the delay
#: check), sparse 80.9 B per synapse.
DRAW_BYTES_PER_SYNAPSE = {"all_to_all": 56, "one_to_one": 56, "fixed_probability": 64,
                          "fixed_indegree": 65, "fixed_total_number": 57, "from_indices": 56, "sparse": 81}
#: the same in precise timing, where no grid check of the delays runs: measured all_to_all 33.0
#: (40.0 with drawn delays), one_to_one 33.0, from_indices 33.0, fixed_probability 39.9,
#: fixed_indegree 48.3, fixed_total_number 48.5, sparse 80.9
DRAW_BYTES_PER_SYNAPSE_PRECISE = {"all_to_all": 40, "one_to_one": 40, "fixed_probability": 40,
                                  "fixed_indegree": 48, "fixed_total_number": 49, "from_indices": 40,
                                  "sparse": 81}
#: connectors the table does not know (a newer connector without ``expected_synapses``)
DRAW_BYTES_PER_SYNAPSE_OTHER = 64

#: bytes per synapse a backend allocates while compiling, on top of the IR (measured peak at the
#: end of compile minus IR_BYTES_PER_SYNAPSE, all-to-all 2000^2 and 3000^2):
#:   grid: the sort key (int64), its argsort and the permuted copy, the uint16 channels and the
#:   float64 weights joined then permuted (simulator.py _lay_out_synapses): 43; with >= 2 threads
#:   the owner-thread array adds 8 (51); precise mode (precise.py: split delays, per-delay
#:   grouping, fast-path copies) 126, with drawn delays 148; Loihi mode (hwmodels.loihi
#:   quantization to integer weights, then loihi.py's table) 116; Brian2 runtime (Synapses with
#:   i, j int32 and its own weight/delay arrays and per-neuron synapse lists) 65, with drawn
#:   delays 97; Lava (parent: the CSR weight and delay matrices of each Sparse process) 130.
COMPILE_BYTES_PER_SYNAPSE = {"native-grid": 43, "native-grid-threads": 51, "native-precise": 126,
                             "native-precise-drawn-delays": 148, "native-loihi": 116,
                             "brian2": 65, "brian2-drawn-delays": 97, "lava": 130}
#: bytes per synapse the backend keeps while it runs, on top of the IR (RSS after compile):
#: grid: uint16 channel (2) + weight when a row's weights differ (4/8), segments separately;
#: precise 110, Loihi 96, Brian2 65 (97 with drawn delays: per-synapse delays and their
#: spike queue; a first run that has Cython generate new code adds a one-off ~35 B/synapse);
#: Lava: the parent keeps its 130 while the forked worker processes hold their own copies of the
#: connection processes' matrices, another 85 (Lava's peak is the sum of the proportional set
#: sizes (PSS) of the parent and its workers, sampled every 20 ms: 96 MiB for all-to-all 500^2,
#: 273 MiB for 1000^2, format float; 292 MiB fixed), plus LAVA_RUNTIME_BYTES.
RUN_BYTES_PER_SYNAPSE = {"native-precise": 110, "native-loihi": 96, "brian2": 65,
                         "brian2-drawn-delays": 97, "lava": 130 + 85}
#: Lava's runtime modules, imported when a network first runs, and its workers' own pages: the
#: intercept of the measurements above, 33 MiB for the all-to-all networks, 55 MiB for the
#: neuron-heavy ones (which also inject a current); their middle
LAVA_RUNTIME_BYTES = 44 * 2**20
#: Brian2's network objects and code objects of a run (intercept of the 157 B/neuron fit)
BRIAN2_RUNTIME_BYTES = 3 * 2**20
GRID_CHANNEL_BYTES = 2           # syn_chan, uint16
GRID_SEGMENT_BYTES = 6           # seg_delay, seg_len, seg_block (uint16 each)
GRID_ROW_BYTES = 24              # row_ptr, seg_ptr (int64), row_w (float64) per row and thread
GRID_PACKED_BYTES = 4            # the packed table's entry (channel, sparse flag, delay), uint32
GRID_PACKED_WEIGHT_BYTES = 4     # its float32 weight, where a row's weights differ
GRID_PACKED_ROW_BYTES = 16       # pk_ptr (int64), pk_row_w (float64) per row and thread
GRID_PACKED_MAX_DELAY_STEPS = 255
GRID_PACKED_GROUP_BYTES = 4      # bucket mode: a delay group of a packed row (length << 8 | delay), uint32
GRID_PACKED_GROUP_ROW_BYTES = 8  # and its rows' first groups (pk_gptr, int64) per row and thread
#: a lazy projection (spikecore.ir.SynapseStream) drawn piece by piece into the grid engine: one
#: piece of CHUNK_SYNAPSES synapses alive at a time, with its i, j, weight, delay, the engine's
#: delay steps, rows and entries (measured 60 B per synapse of the piece, 10^5 neurons, fixed
#: in-degree); fixed_indegree also holds one int64 key per synapse of the projection
#: (connectors.FixedIndegree.connect_chunks), and so does fixed_probability drawn with
#: ``streams: per_target`` (connectors.FixedProbabilityPerTarget.connect_chunks; by default it
#: draws row by row and holds nothing), fixed_total_number one uint32 target per synapse
#: (connectors.FixedTotalNumber.connect_chunks)
STREAM_PIECE_BYTES = 64 * CHUNK_SYNAPSES
STREAM_HELD_BYTES_PER_SYNAPSE = {"fixed_indegree": 8, "fixed_total_number": 4,
                                 ("fixed_probability", "per_target"): 8}


def _held_bytes_per_synapse(pr) -> int:
    """What drawing a lazy projection holds per synapse of the whole projection (its connector
    kind, or kind and ``streams`` where those differ: STREAM_HELD_BYTES_PER_SYNAPSE)."""
    kind = getattr(pr.connector, "kind", "")
    return STREAM_HELD_BYTES_PER_SYNAPSE.get((kind, getattr(pr, "streams", "projection")),
                                             STREAM_HELD_BYTES_PER_SYNAPSE.get(kind, 0))
#: a redrawn value of a lazy projection's truncated normal: its position (int64) and value
#: (float64), kept for the engine's second pass (ValueStream's known_redraws)
REDRAW_BYTES = 16
#: a lazy projection bound for the segmented table: its pieces' sort keys, uint16 channels and
#: weights (18 B), joined (18 B), then the argsort and the permuted copies
#: (simulator.py _segmented_keys); the IR holds nothing of it
COMPILE_BYTES_PER_LAZY_SYNAPSE = 44
#: per neuron, besides the IR's initial state (8 B per state variable): the engine's state,
#: drive and refractory counters (native, about 12 float64; measured 0.96 of the estimate with
#: 10^6 neurons), Brian2's NeuronGroup variables and spike queue (157 B per neuron in all, from
#: 2 10^4 and 2 10^5 neurons), Lava's LIF variables in the parent and again in its worker, with
#: their port buffers (1.95 KB per neuron in all, from 200 to 10^5 neurons)
NEURON_BYTES = {"native": 96, "brian2": 140, "lava": 1930}
#: Lava pre-generates each source's spike counts for the whole run: (size, steps) int64, plus the
#: uniform variates and uint16 counts of spikecore.ir.poisson_counts while drawing them
LAVA_SOURCE_BYTES_PER_NEURON_STEP = 8 + 8 + 2
#: a state-monitor sample is a float64 in the recording buffer and again in the collected trace
TRACE_BYTES_PER_SAMPLE = 2 * 8
#: a recorded spike: (step int64, neuron int32) in the growing spike buffer (up to twice its need
#: while it is resized), then (time, neuron) float64/int64 in the Result
SPIKE_BYTES = 2 * 12 + 16
#: firing rate assumed for the expected number of recorded spikes (no simulation has run yet):
#: the rates of the balanced networks in examples/ (CUBA 6 Hz, COBA 10 Hz, Brunel 30 Hz) are of this
#: order; a network firing faster records proportionally more
ASSUMED_RATE_HZ = 10.0
#: a grid-engine plastic synapse besides its weight and its rule's state variables (one real
#: each; spikecore/engine/simulator.py _lay_out_plastic): pl_chan and pl_syn_proj int32,
#: pl_last (step of its last event) and pl_post_syn (the transposed index) int64, the
#: position of each synapse in IR order (_pl_pos) int64 and pl_pdone (its last event was a
#: postsynaptic one) uint8. (Per neuron, the lazy updates' spike history adds 8 B per entry
#: and a 32-byte record: PLASTIC_NEURON_BYTES.)
PLASTIC_SYNAPSE_INDEX_BYTES = 4 + 4 + 8 + 8 + 8 + 1
#: a plastic synapse of the shared-trace layout besides its weight (simulator.py
#: _lay_out_shared_traces: lazy stdp_pair with the whole delay presynaptic, in a network whose
#: plastic projections all are so): pl_chan and pl_syn_proj int32, pl_post_syn and _pl_pos
#: int64 -- no traces, last event or flag of its own
PLASTIC_SHARED_SYNAPSE_INDEX_BYTES = 4 + 4 + 8 + 8
#: per target neuron and shared-trace projection: its newest spike steps and postsynaptic
#: trace (sc_fast_post, _kernel_impl.h)
PLASTIC_SHARED_NEURON_BYTES = 64
#: a neuron's spike history for lazy postsynaptic updates (simulator.py: pl_hist, 64 int64
#: entries when no post delay exceeds 16 steps; pl_hpos 32 B; pl_nin, pl_chan_neuron int32)
PLASTIC_NEURON_BYTES = 64 * 8 + 32 + 4 + 4
#: bytes per plastic synapse while the grid engine lays the plastic synapses out, on top of
#: the IR, by the size of a real (8: float64, 4: float32): the per-synapse fields gathered per
#: projection, their sort by thread, row, delay and projection and the sorted copies, the
#: transposed index's sort, and the arrays kept for the run (PLASTIC_SYNAPSE_INDEX_BYTES + the
#: reals). Measured (VmHWM at the end of compile minus the IR, stdp_pair, all-to-all 2000^2,
#: benchmarks/memory_estimate.py): 157 (float64), 145 (float32). The resident memory stays
#: about that high while the network runs (the freed temporaries' pages stay with the process).
COMPILE_BYTES_PER_PLASTIC_SYNAPSE = {8: 157, 4: 145}
#: a weight-monitor snapshot of one synapse: a float64 in the recorder and again in the Result
WEIGHT_SAMPLE_BYTES = 2 * 8
#: warn when a spike monitor is expected to record more spikes than this
SPIKE_WARNING_COUNT = 10**7
#: ratio of the peak to available memory above which a run is refused
REFUSE_ABOVE = 1.0

LIMIT_ENV = "SPIKECORE_MEMORY_LIMIT"
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class LargeRecordingWarning(UserWarning):
    """A spike monitor is likely to record more than SPIKE_WARNING_COUNT spikes."""


# ----------------------------------------------------------------------------- the estimate
@dataclass
class Stage:
    """Bytes alive at one stage of a run, by component."""
    name: str
    components: dict = field(default_factory=dict)

    def add(self, what: str, nbytes: float):
        if nbytes > 0:
            self.components[what] = self.components.get(what, 0) + int(nbytes)

    @property
    def total(self) -> int:
        return sum(self.components.values())


@dataclass
class MemoryEstimate:
    """The peak memory of running a network on one backend, as estimated from its description."""
    mode: str
    stages: list
    synapses: dict              # projection -> expected synapse count
    neurons: int
    recorded_spikes: float      # expected, at ASSUMED_RATE_HZ
    duration: float
    lazy: frozenset = frozenset()   # projections the IR keeps as streams (drawn when compiled)

    @property
    def peak_stage(self) -> Stage:
        return max(self.stages, key=lambda s: s.total)

    @property
    def total(self) -> int:
        return self.peak_stage.total

    def largest(self, k: int = 3) -> list:
        """The k largest (component, bytes) at the peak."""
        return sorted(self.peak_stage.components.items(), key=lambda c: -c[1])[:k]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def describe(self, k: int = 3) -> str:
        parts = ", ".join(f"{what} {format_bytes(n)}" for what, n in self.largest(k))
        return f"~{format_bytes(self.total)} at {self.peak_stage.name} ({parts})"


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            x = n / size
            return f"{x:.3g} {unit}" if x < 100 else f"{x:.0f} {unit}"
    return f"{int(n)} B"


# ----------------------------------------------------------------------------- reading the description
def _source_size(net, name) -> int:
    if name in net.populations:
        return net.populations[name].size
    src = net.sources[name]
    return int(getattr(src, "n", None) or src.size)


def expected_synapses(net, pr) -> int:
    """The number of synapses a projection's connector is expected to draw: the connector's own
    ``expected_synapses(n_pre, n_post, same)`` (spikecore.network); all-to-all for one without it."""
    n_pre, n_post = _source_size(net, pr.pre_name), net.populations[pr.post_name].size
    c = pr.connector
    if hasattr(c, "expected_synapses"):
        return int(c.expected_synapses(n_pre, n_post, pr.pre_name == pr.post_name))
    return n_pre * n_post


def _largest(value, dt: float) -> float:
    """The largest value a delay description can take (s): a scalar, an array's max, a
    distribution's upper bound (mean + 5 std for an unbounded normal)."""
    try:
        if value is None:
            return dt
        kind = getattr(value, "kind", None)      # a distribution of spikecore.network
        if kind == "uniform":
            return u.to_si(value.high, u.TIME, "delay.high")
        if kind == "normal":
            if value.high is not None:
                return u.to_si(value.high, u.TIME, "delay.high")
            return u.to_si(value.mean, u.TIME, "delay.mean") + 5 * abs(u.to_si(value.std, u.TIME, "delay.std"))
        v = u.to_si(value, u.TIME, "delay", allow_array=True)
        return float(np.max(v)) if np.size(v) else dt
    except (ValidationError, TypeError, ValueError):
        return dt   # an invalid delay is to_ir's to report


def _is_drawn(value) -> bool:
    return getattr(value, "kind", None) in ("uniform", "normal") or (np.ndim(getattr(value, "value", value)) > 0
                                                     and not isinstance(value, str))


def _mode(backend: str, options: dict) -> str:
    if backend == "native":
        if options.get("format") in ("loihi", "fixed"):
            return "native-loihi"
        if options.get("timing") == "precise":
            return "native-precise"
        return "native-grid"
    return backend


def _threads(options) -> int:
    t = options.get("threads", 1)
    if t == "all":
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:
            return os.cpu_count() or 1
    try:
        return max(1, int(t))
    except (TypeError, ValueError):
        return 1


# ----------------------------------------------------------------------------- estimating
@dataclass
class _Plan:
    """What the stages need to know, read once from the description and the options."""
    net: object
    mode: str
    backend: str
    dt: float
    duration: float
    options: dict
    counts: dict = field(default_factory=dict)

    def __post_init__(self):
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise ValidationError("duration", f"{self.duration!r} s", "a positive, finite duration")
        self.steps = max(1, int(round(self.duration / self.dt)))
        self.precise = self.options.get("timing") == "precise"
        self.threads = _threads(self.options) if self.mode == "native-grid" else 1
        self.parts = len(part_shares(self.threads))     # the grid layout's parts (per-part tables)
        self.real = 4 if self.options.get("precision") == "float32" and self.mode == "native-grid" else 8
        self.counts = {name: expected_synapses(self.net, pr) for name, pr in self.net.projections.items()}
        # lazy projections (spikecore.ir.SynapseStream): the grid engine draws them piece by
        # piece and the IR never holds them; other backends join them when they compile
        static = {name for name, pr in self.net.projections.items()
                  if getattr(pr, "plasticity", None) is None and getattr(pr.connector, "kind", "") != "sparse"}
        network_static = sum(self.counts[name] for name in static)
        self.lazy = {name for name in static
                     if is_lazy(self.counts[name], network_static) and self.mode == "native-grid"}
        self.packed = _packed_projections(self.net, self.dt, self.real) if self.mode == "native-grid" else set()
        self.n_syn = sum(self.counts.values())
        self.n_ir = sum(n for name, n in self.counts.items() if name not in self.lazy)
        self.drawn_delays = any(_is_drawn(pr.delay) for pr in self.net.projections.values())
        self.label = {"native-grid": "native engine", "native-precise": "native precise engine",
                      "native-loihi": "native Loihi engine", "brian2": "Brian2", "lava": "Lava"}.get(self.mode,
                                                                                                   self.mode)
        per_neuron = NEURON_BYTES.get(self.backend, NEURON_BYTES["native"])
        self.state = sum(p.size * (per_neuron + 8 * len(p.state_variables())) for p in self.net.populations.values())
        self.ir_sources = _ir_source_bytes(self.net)

    def common(self, stage: Stage, with_ir: bool = True) -> Stage:
        if with_ir:
            stage.add("IR synapse arrays", IR_BYTES_PER_SYNAPSE * self.n_ir)
        stage.add("neuron state", self.state)
        stage.add("IR sources", self.ir_sources)
        return stage


def estimate(net, duration: float | None = None, backend: str = "native", options: dict | None = None,
             dt: float | None = None) -> MemoryEstimate:
    """The memory of realising ``net`` and running it for ``duration`` seconds (default: the
    network's) on ``backend`` with ``options`` (the backend's compile options), from the
    description alone: nothing is drawn or built."""
    options = dict(options or {})
    plan = _Plan(net, _mode(backend, options), backend, net.dt if dt is None else float(dt),
                 net.duration if duration is None else float(duration), options)
    run, spikes = _run_stage(plan)
    return MemoryEstimate(plan.mode, [_realise_stage(plan), _compile_stage(plan), run], plan.counts,
                          sum(p.size for p in net.populations.values()), spikes, plan.duration,
                          frozenset(plan.lazy))


def _realise_stage(plan: _Plan) -> Stage:
    """Network.to_ir draws projections in order, each beside the IR arrays of those before it."""
    table = DRAW_BYTES_PER_SYNAPSE_PRECISE if plan.precise else DRAW_BYTES_PER_SYNAPSE
    done, worst = 0, (0, None, 0)
    for name, pr in plan.net.projections.items():
        if name in plan.lazy:   # drawn later, by the engine
            continue
        draw = table.get(getattr(pr.connector, "kind", ""), DRAW_BYTES_PER_SYNAPSE_OTHER) * plan.counts[name]
        if done + draw >= worst[0]:
            worst = (done + draw, name, done)
        done += IR_BYTES_PER_SYNAPSE * plan.counts[name]
    stage = plan.common(Stage("realise"), with_ir=False)
    if worst[1] is not None:
        stage.add("IR synapse arrays", worst[2])
        stage.add(f"drawing projection '{worst[1]}'", worst[0] - worst[2])
    return stage


def _compile_stage(plan: _Plan) -> Stage:
    key = {"native-grid": "native-grid-threads" if plan.threads > 1 else "native-grid",
           "native-precise": "native-precise-drawn-delays" if plan.drawn_delays else "native-precise",
           "brian2": "brian2-drawn-delays" if plan.drawn_delays else "brian2"}.get(plan.mode, plan.mode)
    stage = plan.common(Stage("compile"))
    if plan.mode != "native-grid":
        stage.add(f"{plan.label}: laying out the synapses", COMPILE_BYTES_PER_SYNAPSE.get(key, 130) * plan.n_syn)
        return stage
    # the grid engine: the segmented table's sort over the explicit and the lazy projections
    # bound for it, then the packed table filled piece by piece beside the finished one
    plastic = {name for name, pr in plan.net.projections.items() if getattr(pr, "plasticity", None) is not None}
    segmented_ir = sum(n for name, n in plan.counts.items()
                       if name not in plan.packed and name not in plan.lazy and name not in plastic)
    segmented_lazy = sum(n for name, n in plan.counts.items() if name not in plan.packed and name in plan.lazy)
    stage.add(f"{plan.label}: laying out the synapses", COMPILE_BYTES_PER_SYNAPSE[key] * segmented_ir
              + COMPILE_BYTES_PER_LAZY_SYNAPSE * segmented_lazy)
    n_plastic = sum(plan.counts.get(name, 0) for name in plastic)
    if n_plastic:
        stage.add(f"{plan.label}: laying out the plastic synapses ({n_plastic})",
                  COMPILE_BYTES_PER_PLASTIC_SYNAPSE[plan.real] * n_plastic
                  + PLASTIC_NEURON_BYTES * sum(p.size for p in plan.net.populations.values()))
    if plan.packed:
        stage.add(f"{plan.label}: packed synapse table", _grid_table_bytes(
            plan.net, {k: v for k, v in plan.counts.items() if k in plan.packed}, plan.dt, plan.real,
            plan.parts, plan.packed))
    if plan.lazy:
        held = max(_held_bytes_per_synapse(plan.net.projections[name]) * plan.counts[name] for name in plan.lazy)
        stage.add(f"{plan.label}: drawing projections piece by piece", STREAM_PIECE_BYTES + held)
        stage.add(f"{plan.label}: truncated draws' redraws kept for the second pass", _kept_redraw_bytes(plan))
    return stage


def _kept_redraw_bytes(plan: _Plan) -> int:
    """A lazy projection keeps, per truncated-normal weight or delay drawn outside its bounds,
    the position and the final value (16 B: spikecore.distributions.ValueStream's
    known_redraws) from its first pass on: the expected count is the mass outside the bounds."""
    from ..distributions import Normal, _normal_mass, _normal_params

    total = 0.0
    for name in plan.lazy:
        pr = plan.net.projections[name]
        for value, dim in ((pr.weight, None), (pr.delay, u.TIME)):
            if not isinstance(value, Normal) or (value.low is None and value.high is None):
                continue
            try:
                dim = dim if dim is not None else _value_dim(value.mean)
                mean, std, lo, hi, _ = _normal_params(value, dim, f"projections.{name}")
            except (ValidationError, ValueError):   # the description's own check reports it
                continue
            total += REDRAW_BYTES * plan.counts[name] * (1.0 - _normal_mass(mean, std, lo, hi))
    return int(total)


def _value_dim(text):
    """The dimension of a quantity such as '87.8 pA' (for a weight, whose dimension the
    target's model decides)."""
    if isinstance(text, str):
        return u.parse_quantity(text, "weight").dim
    return getattr(text, "dim", u.DIMENSIONLESS)


def _run_stage(plan: _Plan) -> tuple:
    """The run: the IR, the backend's copy of the network, recordings. Returns (stage, expected spikes)."""
    net, stage = plan.net, plan.common(Stage("run"))
    if plan.mode == "native-grid":
        plastic = {name for name, pr in net.projections.items() if getattr(pr, "plasticity", None) is not None}
        static = {name: n for name, n in plan.counts.items() if name not in plastic}
        stage.add(f"{plan.label}: synapse table", _grid_table_bytes(net, static, plan.dt, plan.real,
                                                                    plan.parts, plan.packed))
        shared = bool(plastic) and all(_has_shared_traces(net.projections[name]) for name in plastic)
        for name in sorted(plastic):
            if shared:
                pr = net.projections[name]
                stage.add(f"{plan.label}: plastic projection '{name}' ({plan.counts[name]} synapses x weight, "
                          "shared traces)",
                          (PLASTIC_SHARED_SYNAPSE_INDEX_BYTES + plan.real) * plan.counts[name]
                          + PLASTIC_SHARED_NEURON_BYTES * _population_size(net, pr.post))
                continue
            n_state = _plastic_state_count(net.projections[name])
            stage.add(f"{plan.label}: plastic projection '{name}' ({plan.counts[name]} synapses x "
                      f"(weight + {n_state} state variables))",
                      (PLASTIC_SYNAPSE_INDEX_BYTES + plan.real * (1 + n_state)) * plan.counts[name])
    else:
        key = "brian2-drawn-delays" if plan.mode == "brian2" and plan.drawn_delays else plan.mode
        what = "synapses (parent and worker copies)" if plan.backend == "lava" else "synapses"
        stage.add(f"{plan.label}: {what}", RUN_BYTES_PER_SYNAPSE.get(key, 130) * plan.n_syn)
    if plan.mode.startswith("native"):
        max_delay = max([_largest(pr.delay, plan.dt) for pr in net.projections.values()] or [plan.dt])
        slots = max(1, int(math.ceil(max_delay / plan.dt - 1e-6))) + 1
        channels = sum(p.size * max(1, len(p.receptors)) for p in net.populations.values())
        stage.add(f"{plan.label}: ring buffer ({channels} channels x {slots} delay slots)",
                  _ring_bytes(plan.mode, net, channels, slots, plan.real, plan.parts))
        delivery = plan.options.get("delivery", "auto")
        if plan.mode == "native-grid" and delivery in DELIVERY_MODES and \
                uses_buckets(delivery, slots, channels, plan.real, plan.n_syn):
            stage.add(f"{plan.label}: delivery buckets ({slots} slots x {BUCKET_ENTRIES_PER_CHANNEL} "
                      f"entries per channel, filled as needed; hot slots)",
                      bucket_bytes(slots, channels, plan.threads, plan.real))
            if plan.packed:
                stage.add(f"{plan.label}: the packed rows' delay groups (bucket delivery)",
                          _packed_group_bytes(net, plan.counts, plan.dt, plan.threads, plan.packed))
    if plan.backend == "brian2":
        stage.add("Brian2 network and code objects", BRIAN2_RUNTIME_BYTES)
    if plan.backend == "lava":
        stage.add("Lava runtime and worker processes", LAVA_RUNTIME_BYTES)
        n_src = sum(_source_size(net, name) for name in net.sources)
        stage.add("Lava: pre-generated source spike counts", LAVA_SOURCE_BYTES_PER_NEURON_STEP * n_src * plan.steps)
    for name, m in net.monitors.items():
        if hasattr(m, "variables"):
            n, every = _monitor_neurons(net, m), _monitor_every(m, plan.dt)
            variables = (m.variables,) if isinstance(m.variables, str) else tuple(m.variables)
            samples = -(-plan.steps // every)
            stage.add(f"state monitor '{name}' ({samples} samples x {n} neurons x {len(variables)} variables)",
                      TRACE_BYTES_PER_SAMPLE * samples * n * len(variables))
        elif hasattr(m, "projection_name") and m.projection_name in plan.counts:
            n = plan.counts[m.projection_name] if m.synapses is None else int(np.size(m.synapses))
            samples = -(-plan.steps // _monitor_every(m, plan.dt))
            stage.add(f"weight monitor '{name}' ({samples} snapshots x {n} synapses)",
                      WEIGHT_SAMPLE_BYTES * samples * n)
    spikes = _recorded_neurons(net) * ASSUMED_RATE_HZ * plan.duration
    stage.add(f"recorded spikes (~{spikes:.3g} at {ASSUMED_RATE_HZ:g} Hz)", SPIKE_BYTES * spikes)
    return stage, spikes


def _has_shared_traces(pr) -> bool:
    """Whether the grid engine lays plastic projection ``pr`` out with shared traces (the
    weight alone per synapse): stdp_pair with its whole delay on the presynaptic path."""
    p = pr.plasticity or {}
    try:
        return p.get("rule") == "stdp_pair" and float(p.get("dendritic_delay_fraction", 0.0)) == 0.0
    except (TypeError, ValueError):
        return False


def _population_size(net, name) -> int:
    pop = net.populations.get(name)
    return int(pop.size) if pop is not None else 0


def _plastic_state_count(pr) -> int:
    """How many state variables per synapse the grid engine keeps for a plastic projection's rule
    (the largest over the network's rules sizes the table; this counts the projection's own)."""
    from spikecore import plasticity
    p = getattr(pr, "si_plasticity", None)
    try:
        rule = plasticity.get_rule(pr.plasticity.get("rule"), "plasticity")
        return max(1, len(rule.initial_state(p))) if p is not None else 2
    except (ValidationError, AttributeError, KeyError, TypeError):
        return 2


def _ir_source_bytes(net) -> int:
    total = 0
    for s in net.sources.values():
        times = getattr(s, "si_times", None)
        total += 2 * 16 * (times.size if times is not None else 0) + 16 * _source_size(net, s.name)
    return total


def _ring_bytes(mode, net, channels, slots, real, threads=1) -> int:
    ring = channels * slots * real
    if mode == "native-grid" and any(p.spec.has_synaptic_state for p in net.populations.values()):
        ring += channels * slots * (4 + threads)   # the sparse fold's touched list, each thread's marks
    return ring


def _packed_projections(net, dt, real) -> set:
    """The projections the grid engine puts in its packed table (simulator.py _fits_packed):
    static, delays of at most 255 steps, not one weight and one delay, and float32 weights
    (weight_precision, or float32 state), or one weight in rows no other packed one uses."""
    out, one_weight = set(), []
    for name, pr in net.projections.items():
        if getattr(pr, "plasticity", None) is not None or _largest(pr.delay, dt) / dt > GRID_PACKED_MAX_DELAY_STEPS:
            continue
        drawn_w, drawn_d = pr.weight is None or _is_drawn(pr.weight), _is_drawn(pr.delay)
        if not (drawn_w or drawn_d):
            continue
        if getattr(pr, "weight_precision", "float64") == "float32" or real == 4:
            out.add(name)
        elif not drawn_w:
            one_weight.append(name)
    used = {net.projections[name].pre_name for name in out}
    for name in one_weight:
        pre = net.projections[name].pre_name
        if pre not in used:
            out.add(name)
            used.add(pre)
    return out


def _grid_table_bytes(net, counts, dt, real, threads, packed=frozenset()) -> int:
    """The grid engine's synapse tables (simulator.py module docstring). Segmented: per synapse a
    uint16 channel and, where a row's weights differ, a weight; per segment (equal delay) 6 B; per
    row and thread two pointers and a row weight. Packed: per synapse a 32-bit entry and, where a
    row's weights differ, a float32 weight; per row and thread a pointer and a row weight."""
    total, rows, packed_rows = 0, 0, 0
    for name, pr in net.projections.items():
        if name not in counts:
            continue
        n = counts[name]
        n_pre = _source_size(net, pr.pre_name)
        drawn_w = pr.weight is None or _is_drawn(pr.weight)   # one weight per synapse, not per row
        if name in packed:
            packed_rows += n_pre
            total += (GRID_PACKED_BYTES + (GRID_PACKED_WEIGHT_BYTES if drawn_w else 0)) * n
            continue
        rows += n_pre
        total += GRID_CHANNEL_BYTES * n
        if drawn_w:
            total += real * n
        fan_out = n / max(n_pre, 1)
        if _is_drawn(pr.delay):
            values = max(1, int(round((_largest(pr.delay, dt) - dt) / dt)) + 1)
            total += GRID_SEGMENT_BYTES * n_pre * min(fan_out, values)
        else:
            total += GRID_SEGMENT_BYTES * n_pre * min(fan_out, 1 + fan_out / 65535)
    return int(total + GRID_ROW_BYTES * threads * rows + GRID_PACKED_ROW_BYTES * threads * packed_rows)


def _packed_group_bytes(net, counts, dt, threads, packed) -> int:
    """Bucket delivery's delay groups of the packed table (simulator.py _group_packed): a row (a
    source's neuron, all its packed projections) has per thread at most one group per delay step
    its projections can draw, and never more than its synapses there; and a pointer per row."""
    fan_out, steps, sizes = {}, {}, {}
    for name in packed:
        pr = net.projections[name]
        pre = pr.pre_name
        sizes[pre] = _source_size(net, pre)
        fan_out[pre] = fan_out.get(pre, 0.0) + counts.get(name, 0) / max(sizes[pre], 1) / threads
        largest = max(1, int(round((_largest(pr.delay, dt) - dt) / dt)) + 1)
        steps[pre] = max(steps.get(pre, 1), largest)
    groups = sum(threads * sizes[pre] * min(max(fan_out[pre], 1.0), steps[pre]) for pre in sizes if fan_out[pre])
    return int(GRID_PACKED_GROUP_BYTES * groups + GRID_PACKED_GROUP_ROW_BYTES * threads * sum(sizes.values()))


def _monitor_neurons(net, m) -> int:
    neurons = getattr(m, "si_neurons", None)
    if neurons is not None:
        return int(np.size(neurons))
    return net.populations[m.target_name].size if m.target_name in net.populations else 0


def _monitor_every(m, dt) -> int:
    if m.interval is None:
        return 1
    try:
        return max(1, int(round(u.to_si(m.interval, u.TIME, "interval") / dt)))
    except ValidationError:
        return 1


def _recorded_neurons(net) -> int:
    targets = [m.target_name for m in net.monitors.values()
               if not hasattr(m, "variables") and hasattr(m, "target_name")]     # spike monitors
    if not targets:
        return sum(p.size for p in net.populations.values())
    return sum(net.populations[t].size for t in targets if t in net.populations)


# ----------------------------------------------------------------------------- what the machine has
def _read_int(path) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value < 2**60 else None   # cgroup v1 writes ~2^63 for "no limit"


def _cgroup_limit(cgroup_file: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup") -> tuple:
    """(bytes, file) of the tightest memory limit of this process's cgroup and its ancestors:
    cgroup v2 ``memory.max`` (under ``root``, or ``root``/unified on hybrid systems), cgroup v1
    ``memory.limit_in_bytes`` (under ``root``/memory). A container that sees its own cgroup as
    the root has the limit at the top of the mount. (None, None) when there is no limit."""
    try:
        with open(cgroup_file) as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    candidates = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hier, controllers, path = parts
        if hier == "0" and controllers == "":
            mounts, name = (root, os.path.join(root, "unified")), "memory.max"
        elif "memory" in controllers.split(","):
            mounts, name = (os.path.join(root, "memory"),), "memory.limit_in_bytes"
        else:
            continue
        for mount in mounts:
            rel = path.strip("/")
            while True:
                candidates.append(os.path.join(mount, rel, name))
                if not rel:
                    break
                rel = os.path.dirname(rel)
    best = (None, None)
    for path in candidates:
        value = _read_int(path)
        if value is not None and (best[0] is None or value < best[0]):
            best = (value, path)
    return best


def parse_bytes(text: str, field_name: str = LIMIT_ENV) -> int:
    """'8GiB', '500 MB', '1e9' -> bytes."""
    m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValidationError(field_name, text, "a size such as 8GiB, 500MB or 1e9")
    try:
        value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    except ValueError:
        raise ValidationError(field_name, text, "a size such as 8GiB, 500MB or 1e9") from None
    if not value > 0:
        raise ValidationError(field_name, text, "a positive size")
    return int(value)


def available_memory() -> tuple:
    """(bytes, where it came from): the smaller of MemAvailable (/proc/meminfo) and the cgroup's
    memory limit, lowered to SPIKECORE_MEMORY_LIMIT when that is set; (None, ...) if unknown."""
    found = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append((int(line.split()[1]) * 1024, "MemAvailable"))
    except (OSError, ValueError, IndexError):
        pass
    limit, path = _cgroup_limit()
    if limit is not None:
        found.append((limit, f"cgroup limit {path}"))
    env = os.environ.get(LIMIT_ENV)
    if env:
        found.append((parse_bytes(env), LIMIT_ENV))
    if not found:
        return None, "unknown"
    return min(found)


# ----------------------------------------------------------------------------- refusing and warning
def check(est: MemoryEstimate, what: str = "this run", override: str = "ignore_memory_check=True") -> None:
    """Raise InsufficientMemory when ``est`` exceeds the available memory."""
    avail, source = available_memory()
    if avail is None or est.total <= REFUSE_ABOVE * avail:
        return
    (top, nbytes), = est.largest(1)
    raise InsufficientMemory(
        f"{what} needs ~{format_bytes(est.total)} of memory ({est.mode}), more than the "
        f"{format_bytes(avail)} available ({source}); largest: {top} {format_bytes(nbytes)} "
        f"(to try anyway: {override})")


def recording_warning(est: MemoryEstimate) -> str | None:
    """A one-line warning when the spike monitors are likely to record more than
    SPIKE_WARNING_COUNT spikes (at the ASSUMED_RATE_HZ), else None."""
    if est.recorded_spikes <= SPIKE_WARNING_COUNT:
        return None
    return (f"the spike monitors will likely record ~{est.recorded_spikes:.2g} spikes "
            f"(at {ASSUMED_RATE_HZ:g} Hz over {est.duration:g} s), "
            f"~{format_bytes(SPIKE_BYTES * est.recorded_spikes)}; monitor fewer populations or run shorter")


def preflight(net, duration=None, backend: str = "native", options: dict | None = None, dt=None,
              ignore: bool = False, what: str = "this run", override: str = "ignore_memory_check=True",
              warn=None) -> MemoryEstimate:
    """Estimate, refuse (unless ``ignore``) and warn about a large spike recording — the
    check every entry point runs before drawing anything. ``warn`` receives the warning's text
    (default: a LargeRecordingWarning)."""
    if dt is not None and not isinstance(dt, (int, float)):
        dt = u.to_si(dt, u.TIME, "dt")
    est = estimate(net, duration, backend, options, dt)
    if not ignore:
        check(est, what, override)
    message = recording_warning(est)
    if message:
        if warn is None:
            import warnings
            warnings.warn(message, LargeRecordingWarning, stacklevel=3)
        else:
            warn(message)
    return est
