"""Python side of the native engine: lays an IR out as flat arrays for the kernel.

``GridSimulator(ir, threads=1, precision="float64")`` validates the IR for the
grid engine, allocates every array (state, synapse table, delay ring buffer,
Poisson tables, recording buffers) and ``run(duration)`` steps it in chunks
through ``spikecore.engine._core.Kernel``: between chunks it updates injected
currents and drives a progress bar. Nothing of Python runs inside a chunk.

Length (over 800 lines): the layout of every table the C kernel reads (static, packed and
plastic synapses, modulators, Poisson streams, recordings) is here on purpose, next to the
one struct it fills, so that a change to the kernel's data is one file on each side.

Layout:
* neurons of all populations are numbered globally (population order of the IR);
* presynaptic indices: neurons [0, N), then spike-source neurons, then Poisson
  neurons — one synapse table over all of them;
* a *channel* is one synaptic variable of one neuron: delta models have one per
  neuron (a v jump), cuba/coba one per receptor per neuron (receptor-major);
* the ring buffer holds, for each of the next L = max_delay+1 steps, the input due
  to every channel (C channels x L slots of the state type);
* threads: each population is cut into B contiguous ranges, the layout's *parts*
  (thread_ranges with thread_choice.part_shares: 1 part for 1 thread, 2 equal ones for 2
  (or 4 of 35/15/15/35 %: thread_choice.TWO_THREAD_SHARES), 2 per thread for more; boundaries on 16 neurons, and the state arrays start on a
  cache line, so two parts' neurons rarely share one); part t holds range t of every
  population and those neurons' channels. The synapse table is split the same way — part
  t holds exactly the synapses onto its channels — and a thread runs whole parts (which
  ones moves between windows to the threads' speeds: sc_split in _kernel.c), so threads
  never write the same memory at once. The team's size T is the ``threads`` option, or
  for "all" as many as the network's work per window pays for (thread_choice.py). Threads meet once per
  *window* of W steps, W = the smallest neuron->neuron delay (at most MAX_WINDOW):
  a spike cannot act on anyone within W steps, so each thread advances its own
  neurons and draws its own Poisson and spike-source input for a window, then
  adds every thread's spikes of the window (spikecore/engine/_kernel_impl.h);
* the synapse table, per part, is a CSR over presynaptic indices whose rows are
  sorted by delay and cut into segments of equal delay and equal block of 2^16
  channels (so a target fits in 16 bits: the delivery loop streams half the
  bytes of 32-bit indices, and it is bound by that stream — 15 % of Brunel's
  run time on one thread):

      per synapse   syn_chan   uint16           target channel - base     2 B
                    syn_weight float32/float64  weight (state precision)  4 / 8 B
      per segment   seg_delay  uint16           delay in steps            2 B
                    seg_len    uint16           synapses in the segment   2 B
                    seg_block  uint16           base = seg_block * 2^16   2 B
      per row       row_ptr    int64            first synapse             8 B x B
                    seg_ptr    int64            first segment             8 B x B
                    row_w      float32/float64  the row's weight if all   4 / 8 B x B
                                                its synapses share it, else NaN

  Segments onto current or conductance variables carry the flag SEG_SPARSE in
  seg_delay: their pushes also list each channel the first time it is touched in
  a slot, and the fold into syn reads only the listed channels (sparse activity
  as in CUBA/COBA touches a few percent of them per step). Delta-synapse inputs
  are folded densely (dense activity as in Brunel). Bookkeeping: 5 B per channel
  and ring slot, only for networks with such synapses.

  So a synapse costs 6 B (float32) or 10 B (float64) plus 6 B per segment of its
  row: at most 12 B (float32) even when every synapse of a row has its own delay.
  When every row has a single weight (scalar weights per projection, as in CUBA,
  COBA and Brunel) syn_weight is not stored at all: about 2 B per synapse.
  Sorting is stable, so synapses onto one channel keep their order (the order of
  the additions into it). ``bytes_per_synapse`` reports the figure of a compiled network.
  Delays are at most 65535 steps (the ring buffer would not fit long before).
* the *packed* table holds the static projections whose weights or delays differ from
  synapse to synapse, when their delays fit 8 bits, the channels 23 bits and their weights
  are float32 values (docs/architecture.md, synapse storage), per thread a CSR over
  presynaptic rows in the IR's synapse order, filled from the projections' pieces
  (ProjectionEdge.chunks) in two passes (count, then fill):

      per synapse   pk_syn     uint32   channel << 9 | sparse flag << 8 | delay   4 B
                    pk_w       float32  weight (empty when every row has one)   4 B
      per row       pk_ptr     int64    first synapse                            8 B x B
                    pk_row_w   float64/float32  the row's weight if all equal, else NaN

  A row's packed synapses are pushed after its segmented ones; into one channel and ring
  slot a row adds in IR order either way, so the sums are those of the segmented table.
  In bucket mode (spikecore.engine.delivery) each row is then sorted by delay, stably, and
  cut into groups of one delay (_group_packed), about 2 % of the synapses at full scale:

      per group     pk_grp     uint32   length << 8 | delay                      4 B
      per row       pk_gptr    int64    first group                              8 B x T

  A spike appends one item per group to the bucket of its slot; the drain adds the group's
  synapses in order. Synapses of one delay keep the IR's order, and a row sends into one
  slot only those of one delay, so each cell still receives the same inputs in the same order.

The kernel adds a row's weights segment by segment into the ring slot of that
delay. Each channel receives its inputs in an order fixed by the network, not by
the thread count (per window: each step's spike-source and Poisson input, then the
window's neuron spikes by step, population and neuron), so every thread count
gives the same results bit for bit. Precision "float32" keeps state, ring and weights in
float (parameters are computed in double and rounded once).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import ir as _ir
from ..errors import UnsupportedFeature, ValidationError
from ..models import equations as equation_models
from ..models import model_for
from ..plasticity import rule_for
from ._core import Kernel, fill_packed, group_packed_by_delay, has_update, openmp_enabled, plastic_post_is_lazy, touched_n_size
from .equations import compile_model
from .thread_choice import choose_threads, part_shares, resolve_threads
from .delivery import (DELIVERY_MODES, bucket_capacity, contiguous_poisson_channels, deferred_poisson, likely_buckets,
                       uses_buckets)
from .base import Recording, Simulator, SpikeBuffer
from .layout import NetLayout, poisson_layout, spike_source_events, state_recording

PRECISIONS = {"float64": np.float64, "float32": np.float32}
MAX_DELAY_STEPS = 2**15 - 1  # seg_delay is uint16, its top bit flags sparse folding
SEG_SPARSE = 2**15
MAX_SEGMENT = 2**16 - 1      # seg_len is uint16: longer runs of one delay are cut
MAX_WINDOW = 64              # most steps threads run apart (bounds the per-window spike buffers)
LAZY_HISTORY = 47            # a spike history holds at least this many spikes beyond the longest post delay
HIST_POS_INT64 = 4           # sc_hist_pos (_kernel.h): head and length, the newest 3 steps
# packed table entry (uint32): channel << 9 | sparse flag << 8 | delay in steps
PACKED_CHANNEL_SHIFT = 9
PACKED_SPARSE = 1 << 8
MAX_PACKED_DELAY = 255
MAX_PACKED_CHANNELS = 2**23


@dataclass
class _Scan:
    """What the first pass over a projection's chunks found (GridSimulator._scan_projection)."""
    row_counts: np.ndarray | None
    n: int = 0
    d_min: int = 2**62
    d_max: int = 0
    f32: bool = True
    one_weight: bool = True
    one_delay: bool = True
    weight: float = 0.0          # the smallest weight (the one weight when one_weight)


class GridSimulator(Simulator):
    """A compiled network for the native grid engine."""

    DYNAMIC_ARRAYS = ("v", "syn", "ring", "free_at", "touched", "touched_n", "mark", "xstate")

    #: lay the lazy stdp_pair projections whose synapses see their target's spikes at once out
    #: with shared traces (sc_net, pl_fast); False keeps every synapse's own traces (the
    #: per-synapse layout the shared one is checked against, tests/plasticity/test_shared_traces.py)
    SHARED_TRACES = True

    #: what a run changes in the plastic synapses (weights, traces, last events, the targets'
    #: spike histories of the lazy updates, the queues of pending pre- and postsynaptic events)
    PLASTIC_ARRAYS = ("pl_w", "pl_state", "pl_last", "pl_hist", "pl_hpos", "pl_pdone", "pl_q", "pl_qn", "pl_pq",
                      "pl_pqn", "pl_seg_x", "pl_seg_last", "pl_seg_from", "pl_fpost", "pl_fast_done")

    def snapshot(self) -> dict:
        """The base snapshot plus the plastic synapses' state, the lazy postsynaptic updates
        settled first (settling gives the numbers the eager updates would have: no change)."""
        snap = super().snapshot()
        if getattr(self, "plastic_names", None):
            self.kernel.settle_plastic()
            snap["arrays"].update({k: self.arrays[k].copy() for k in self.PLASTIC_ARRAYS})
        return snap

    def load_snapshot(self, snap: dict) -> None:
        super().load_snapshot(snap)
        self.kernel.resume_at(self.step)      # lazy updates settle up to the restored step

    def set_plastic_weights(self, projection: str, weights: np.ndarray) -> None:
        """Overwrite the learnt weights of plastic ``projection`` (IR synapse order, SI), the
        lazy postsynaptic updates settled first; traces and pending events are kept."""
        rule, p, sign = self._pl_rules[self.plastic_names.index(projection)]
        if hasattr(rule, "weight_now"):
            raise UnsupportedFeature("native", f"setting the weights of {projection} ({rule.name}: its weights "
                                     "move between events with its eligibility trace)",
                                     "pair-based rules; or change the description and compile again")
        if rule.check_weights(p, weights, f"weights of {projection}") != sign and np.any(weights):
            raise ValidationError(f"weights of {projection}", f"[{np.min(weights)!r} .. {np.max(weights)!r}]",
                                  "weights of the sign the projection was compiled with (its bounds apply to |w|)")
        self.kernel.settle_plastic()
        self.arrays["pl_w"][self._pl_span[projection]] = weights

    def __init__(self, g: _ir.IRGraph, threads: int = 1, precision: str = "float64", packed: bool = True,
                 delivery: str = "auto"):
        """``packed=False`` keeps every static synapse in the segmented table (the layout
        before the packed one; tests compare the two). ``delivery``: "auto", "ring" or "bucket"
        (spikecore.engine.delivery: the same results, a different memory access pattern)."""
        if delivery not in DELIVERY_MODES:
            raise ValidationError("delivery", delivery, "one of " + ", ".join(DELIVERY_MODES))
        self.ir = g
        self.packed = packed
        self.dt = dt = g.dt
        if precision not in PRECISIONS:
            raise ValidationError("precision", precision, "one of " + ", ".join(PRECISIONS))
        # how many threads, and why ("all" may run fewer than the cores: thread_choice.py)
        self.thread_choice = choose_threads(g, threads, buckets=likely_buckets(g, delivery))
        self.threads = self.thread_choice.threads
        # the layout's parts, which the team shares out window by window (part_shares)
        self.part_shares = part_shares(self.threads)
        self.parts = T = len(self.part_shares)
        self.precision = precision
        real = PRECISIONS[precision]
        self.layout = lay = NetLayout.from_ir(g)
        pops = list(g.populations.values())
        a: dict = {}
        P = len(pops)
        self.models = models = [grid_model(p, dt) for p in pops]
        # equation-defined models: numba-compiled update and reset functions (spikecore/engine/equations.py)
        self.compiled = [compile_model(m, dt, precision == "float32", f"population {p.name}")
                         if m.threshold_in_update else None for m, p in zip(models, pops)]
        for c in g.currents.values():
            if models[lay.pop_index[c.target]].threshold_in_update if c.target in lay.pop_index else False:
                raise UnsupportedFeature("native", f"injected current {c.name} onto the equation-defined "
                                         f"population {c.target}", "a parameter of the equations (e.g. "
                                         "'I : amp (constant)') set through initial")
        sizes = a["pop_size"] = lay.pop_size
        a["pop_start"] = lay.pop_start
        n_rec = a["pop_n_rec"] = lay.pop_n_rec
        a["pop_rec_start"] = lay.pop_rec_start
        a["pop_chan_start"] = lay.pop_chan_start
        # threshold, reset and refractory steps: per population, and per neuron for the
        # populations with per-neuron values of any of them (the kernel's threshold_n);
        # pop_vth is then the smallest threshold (the updates' crossed flags stay conservative).
        # An update that evaluates its own spike condition writes 1 or 0 into v (equations.py);
        # a model with threshold_state keeps its per-neuron threshold in its update's xstate (the
        # population's scalar is then only a bound): neither uses the per-neuron threshold
        ref_n = [np.asarray(_ir.steps(m.refractory(), dt), dtype=np.int64) if m.threshold_in_update
                 else np.rint(np.asarray(p.params["t_refrac"], dtype=float) / dt).astype(np.int64)
                 for m, p in zip(models, pops)]
        if max((int(r.max()) for r in ref_n), default=0) > np.iinfo(np.int32).max:
            raise ValidationError("t_refrac", float(max(np.max(p.params["t_refrac"]) for p in pops)),
                                  "a refractory period shorter than 2**31 steps")
        a["pop_ref_steps"] = np.array([int(np.ravel(r)[0]) for r in ref_n], dtype=np.int32)
        a["pop_vth"] = np.array([0.5 if m.threshold_in_update else float(np.min(p.params["v_threshold"]))
                                 for m, p in zip(models, pops)])
        a["pop_vreset"] = np.array([0.0 if m.threshold_in_update else float(np.ravel(p.params["v_reset"])[0])
                                    for m, p in zip(models, pops)])
        per_neuron_thr = [not m.threshold_in_update and m.threshold_state is None
                          and any(np.ndim(p.params[k]) for k in ("v_threshold", "v_reset", "t_refrac"))
                          for m, p in zip(models, pops)]
        a["pop_neuron_thr"] = np.array(per_neuron_thr, dtype=np.int32)
        if any(per_neuron_thr):
            a["neuron_vth"] = np.concatenate([np.broadcast_to(np.asarray(p.params.get("v_threshold", 0.0), float),
                                                              (p.size,)) for p in pops]).astype(real)
            a["neuron_vreset"] = np.concatenate([np.broadcast_to(np.asarray(p.params.get("v_reset", 0.0), float),
                                                                 (p.size,)) for p in pops]).astype(real)
            a["neuron_ref"] = np.concatenate([np.broadcast_to(r, (p.size,)) for r, p in zip(ref_n, pops)]
                                             ).astype(np.int32)
        else:
            a["neuron_vth"], a["neuron_vreset"] = np.zeros(1, real), np.zeros(1, real)
            a["neuron_ref"] = np.zeros(1, np.int32)
        self._drive = [m.drive(p.params) for m, p in zip(models, pops)]   # (value, gain per ampere)
        a["pop_d0"] = np.array([float(np.ravel(d0)[0]) for d0, _ in self._drive], dtype=float)
        # the population-wide coefficients from the first neuron's values (a population with
        # per-neuron parameters reads its own per neuron: per_neuron_params)
        first = [{k: np.ravel(x)[0] if np.ndim(x) else x for k, x in p.params.items()} for p in pops]
        a["pop_decay_mem"] = np.array([_or_zero(m.membrane_decay(f, dt)) for m, f in zip(models, first)])
        a["pop_jump_input"] = np.array([not m.has_synaptic_state for m in models], dtype=np.int32)
        # each model's parameters in its declaration order (the C update reads them so); a
        # population with per-neuron values gets all of them per neuron (nparam, param-major)
        params = [[float(np.ravel(p.params[k])[0]) for k in m.params] for m, p in zip(models, pops)]
        a["pop_param"] = np.array([x for ps in params for x in ps], dtype=float)
        a["pop_param_start"] = np.concatenate([[0], np.cumsum([len(ps) for ps in params])[:-1]]).astype(np.int64)
        a["pop_nparam_start"], a["nparam"] = per_neuron_params(pops, models, real, dt)
        a["pop_xstate_start"], a["xstate"] = further_state(pops, models, real)
        # a model whose threshold differs per neuron keeps it in one of its further state variables
        a["pop_vth_state"] = np.array([-1 if m.threshold_state is None else
                                       start + m.extra_state.index(m.threshold_state) * p.size
                                       for m, p, start in zip(models, pops, a["pop_xstate_start"])], dtype=np.int64)
        targeted = {c.target for c in g.currents.values()}
        self._array_drive = [np.ndim(d0) > 0 for d0, _ in self._drive]
        a["pop_has_drive"] = np.array([p.name in targeted or per_neuron for p, per_neuron
                                       in zip(pops, self._array_drive)], dtype=np.int32)
        rec_decay, rec_coef, rec_erev, rec_tau = [], [], [], []
        self.channel_of = lay.channel_of   # (pop, receptor) -> first channel
        for m, p, f in zip(models, pops, first):
            for rp in p.receptors.values():
                rec_decay.append(_or_zero(m.receptor_decay(rp, dt)))
                rec_coef.append(_or_zero(m.synaptic_coefficient(f, rp, dt)))
                rec_erev.append(rp.get("e_rev", 0.0))
                rec_tau.append(rp.get("tau_syn", 0.0))
        a["rec_decay"], a["rec_coef"], a["rec_erev"], a["rec_tau"] = (
            np.array(x, dtype=float) for x in (rec_decay, rec_coef, rec_erev, rec_tau))
        # part t holds neurons [part[p, t], part[p, t+1]) of population p
        part = thread_ranges(sizes, self.part_shares)
        a["part"] = part.ravel()

        N = lay.n_neurons
        C = self.n_channels = lay.n_channels
        self.pop_index = lay.pop_index
        self.pops = pops
        a["v"], a["syn"] = lay.initial_state(g, real)
        a["neuron_pop"] = np.repeat(np.arange(P, dtype=np.int32), sizes)
        a["free_at"] = np.full(N, -1, dtype=np.int64)   # first free step (_kernel_impl.h): free from the start
        a["drive"] = np.zeros(N, dtype=real)

        # presynaptic index space
        self.pre_base, a["pois_base"], a["n_pois"], n_pre = lay.pre_base, lay.pois_base, lay.n_pois, lay.n_pre
        pois = list(g.poisson_sources.values())
        if n_pre >= 2**31 or C >= 2**31:
            raise UnsupportedFeature("native", f"{n_pre} presynaptic neurons and {C} channels",
                                     "at most 2**31 - 1 of each")

        max_d = self._lay_out_synapses(g, a, real, part, n_pre)
        self.ring_len = max_d + 1
        a["ring"] = np.zeros(self.ring_len * C, dtype=real)
        # sparse fold of inputs to syn variables: per slot, each thread lists the channels it touched
        own = np.array([sum(int(n_rec[k]) * int(part[k, t + 1] - part[k, t]) for k in range(P)) for t in range(T)])
        a["chan_ofs"] = np.concatenate([[0], np.cumsum(own)]).astype(np.int64)
        sparse = any(m.has_synaptic_state for m in models) and bool(a["seg_delay"].size) and \
            bool((a["seg_delay"] & SEG_SPARSE).any()) or bool(a["pl_sparse"].any()) or self._pk_sparse
        L = self.ring_len if sparse else 0
        a["touched"] = np.zeros(L * C, np.int32)
        a["touched_n"] = np.zeros(touched_n_size(L, T), np.int64)
        a["mark"] = np.zeros(T * L * C, np.uint8)     # each thread its own marks (SC_MARK, _kernel.h)
        self._lay_out_poisson(pois, a)
        # delivery buckets (spikecore.engine.delivery), per thread and slot: np.zeros leaves the
        # pages untouched until a bucket fills them
        n_syn = sum(int(a[k].size) for k in ("syn_chan", "pk_syn", "pl_w") if k in a)
        self.delivery = "bucket" if uses_buckets(delivery, self.ring_len, C, np.dtype(real).itemsize,
                                                 n_syn) else "ring"
        a["bk_cap"] = bucket_capacity(int(own.max())) if self.delivery == "bucket" else 0
        a["bk"] = np.zeros(T * self.ring_len * a["bk_cap"], np.uint64)
        a["bk_n"] = np.zeros(touched_n_size(self.ring_len, T), np.int64)
        a["pd_defer"] = deferred_poisson(a, T, SEG_SPARSE) if self.delivery == "bucket" else np.zeros_like(a["pd_off"])
        a["pd_contig"] = contiguous_poisson_channels(a, a["pd_defer"])
        self._group_packed(a)

        # spike-source events, by step
        a.update(spike_source_events(g, dt, self.pre_base))
        self._lay_out_plastic_queue(a)

        # state recording; each entry is written by the thread that owns its neuron
        rec, self.rec_layout = state_recording(g, dt, self.pop_index, a["pop_start"], self.channel_of, part,
                                               self._xstate_index(a))
        a.update(rec)

        # Start these on a cache line, for any thread count. Threads write neighbouring ranges
        # of them: so (with thread_ranges' boundaries on 16 neurons) no line holds two threads'
        # values. And one thread's vectorised updates read and write them a vector at a time:
        # numpy aligns to 16 bytes only, and where an array started off a line, every other
        # AVX-512 access straddled two lines -- CUBA on one thread took 0.029-0.037 s of CPU
        # against 0.024 s aligned, depending on where each simulator's arrays happened to land
        # (benchmarks/RESULTS.md, "Thread scaling, round 4").
        for k in ("v", "syn", "ring", "free_at", "drive", "xstate", "mark", "touched", "touched_n"):
            a[k] = cache_aligned(a[k])
        self.arrays = a
        self.kernel = Kernel(a, dt, self.ring_len, self.threads, precision == "float32",
                             [c.addresses[0] if c else m.name for m, c in zip(models, self.compiled)],
                             self.plastic_rules, [c.addresses[1] if c else 0 for c in self.compiled], parts=T)
        self.n_neurons = N
        self.n_synapses = int(a["syn_chan"].size + a["pk_syn"].size + a["pl_w"].size)
        self.step = 0
        self._currents = [self._current_schedule(c) for c in g.currents.values()]
        self._change_steps = [steps for _, steps, _ in self._currents] + [steps for _, _, steps, _ in self._signals]
        self._set_drive(0)

    def _xstate_index(self, a) -> dict:
        """(population, variable) -> its first entry in xstate, for every model's further state
        kept there (an equation-defined model's variables, izhikevich's u, adex's w): state
        monitors sample them (RECORD_X), state() reports an equation-defined model's."""
        out = {}
        for k, (m, p) in enumerate(zip(self.models, self.pops)):
            for i, var in enumerate(m.extra_state):
                out[(p.name, var)] = int(a["pop_xstate_start"][k]) + i * p.size
        return out

    def state(self) -> dict:
        """Base state(); equation-defined populations report their variables instead of v (which holds
        their spike condition in the kernel)."""
        out = super().state()
        xs = self._xstate_index(self.arrays)
        for m, p in zip(self.models, self.pops):
            if m.threshold_in_update:
                st = out[p.name]
                if "v" not in p.receptors:
                    del st["v"]
                for var in m.extra_state:
                    x0 = xs[(p.name, var)]
                    st[var] = self.arrays["xstate"][x0:x0 + p.size].astype(np.float64)
        return out

    def _write_state(self, pop: str, var: str, values: np.ndarray) -> None:
        x0 = self._xstate_index(self.arrays).get((pop, var))
        if x0 is None:
            return super()._write_state(pop, var, values)
        self.arrays["xstate"][x0:x0 + values.size] = values

    def _lay_out_synapses(self, g, a, real, part, n_pre) -> int:
        """Fill the synapse tables (module docstring): the packed one for the projections
        that fit it and gain from it, the segmented one for the others; returns the largest
        delay. Each projection is read chunk by chunk (ProjectionEdge.chunks): a first pass
        measures it, a second fills the packed table, so a lazy projection's synapses are
        never all held at once."""
        dt, T = self.dt, self.parts
        max_d, min_neuron_d = 1, MAX_WINDOW
        # sort key (owner thread, presynaptic index, channel block, delay) in one int64
        block_bits = max(1, (max(self.n_channels, 1) - 1).bit_length() - 16)
        if (T * n_pre).bit_length() + block_bits + 16 > 63:
            raise UnsupportedFeature("native", f"{T * n_pre} presynaptic rows x {self.n_channels} channels",
                                     "a smaller network or fewer threads (the synapse sort key is 63 bits)")
        ring_input = np.zeros(len(self.pops), np.int32)
        plastic, segmented, packed, one_weight = [], [], [], []
        G = T * n_pre
        pk_counts = np.zeros(G, np.int64)
        for e in g.projections.values():
            if e.post not in self.pop_index:
                raise ValidationError(f"projections.{e.name}.post", e.post, "a population")
            scan = self._scan_projection(e, part, n_pre, G, real, count_rows=e.plasticity is None)
            if scan.n:
                max_d = max(max_d, scan.d_max)
                if e.pre in self.pop_index:
                    min_neuron_d = min(min_neuron_d, scan.d_min)
                ring_input[self.pop_index[e.post]] = 1
            if max_d > MAX_DELAY_STEPS:
                raise UnsupportedFeature("native", f"delays of {max_d} steps",
                                         f"at most {MAX_DELAY_STEPS} steps; use a larger dt")
            if e.plasticity is not None:
                plastic.append((e, _ir.delay_steps(e.delay, dt)))   # outside the static tables (_lay_out_plastic)
            elif scan.n and self._fits_packed(e, scan, real):
                packed.append(e)
                pk_counts += scan.row_counts
            elif scan.n and self._fits_packed(e, scan, real, exact_weights=False):
                one_weight.append((e, scan.row_counts, scan.weight))
            else:
                segmented.append(e)
        # one weight that is no float32 value: packed only in rows of its own, which keep it
        # exactly as the row's weight (pk_row_w, the state's type) and never read pk_w
        own_rows = []   # (rows, weight) of those: their rows' weight, exactly
        for e, counts, weight in one_weight:
            if (pk_counts[counts > 0] == 0).all():
                packed.append(e)
                pk_counts += counts
                own_rows.append((np.flatnonzero(counts), weight))
            else:
                segmented.append(e)
        del one_weight
        key = self._segmented_keys(segmented, a, real, part, n_pre, block_bits)
        n = key.size
        # segments: runs of equal (group, block, delay), cut at MAX_SEGMENT synapses
        starts = np.flatnonzero(np.diff(key)) + 1 if n else np.zeros(0, np.int64)
        starts = np.concatenate([[0], starts]).astype(np.int64) if n else starts
        lens = np.diff(np.append(starts, n))
        if lens.size and lens.max() > MAX_SEGMENT:
            pieces = -(-lens // MAX_SEGMENT)
            first = np.repeat(starts, pieces)
            within = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
            starts = first + within * MAX_SEGMENT
            lens = np.diff(np.append(starts, n))
        seg_key = key[starts]
        a["seg_delay"] = (seg_key & 0xFFFF).astype(np.uint16)   # delay | SEG_SPARSE
        a["seg_len"] = lens.astype(np.uint16)
        a["seg_block"] = ((seg_key >> 16) & ((1 << block_bits) - 1)).astype(np.uint16)
        row_counts = np.bincount(key >> (16 + block_bits), minlength=G) if n else np.zeros(G, np.int64)
        seg_counts = np.bincount(seg_key >> (16 + block_bits), minlength=G) if n else np.zeros(G, np.int64)
        del key
        a["row_ptr"] = _per_thread_ptr(row_counts, T, n_pre)
        # rows whose synapses share one weight need no per-synapse weights
        row_w, all_same = _row_weights(row_counts, a["syn_weight"], G, real)
        if n and all_same:
            a["syn_weight"] = np.zeros(0, real)
        a["row_w"] = row_w
        a["seg_ptr"] = _per_thread_ptr(seg_counts, T, n_pre)
        a["window"] = min_neuron_d
        a["pop_ring_input"] = ring_input
        self._row_counts = row_counts
        self._fill_packed(packed, pk_counts, a, real, part, n_pre, own_rows)
        self._lay_out_plastic(plastic, a, real, part, n_pre)
        if a["pl_pg_delay"].size:
            max_d = max(max_d, int(a["pl_pg_delay"].max()))      # delayed post events share the ring's slots
            a["window"] = min(a["window"], self._pl_min_pre_delay)
        mod_d = a["pl_mod_delay"]
        if mod_d.size:
            max_d = max(max_d, int(mod_d.max()))
            if self._mod_from_neurons:
                a["window"] = min(a["window"], int(mod_d.min()))
        return max_d

    def _scan_projection(self, e, part, n_pre, G, real, count_rows=True) -> "_Scan":
        """First pass over a projection's chunks: its size, delay range (steps), whether its
        weights are one value and float32 values, and its synapses per (thread, row)."""
        dt = self.dt
        sc = _Scan(row_counts=np.zeros(G, np.int64) if count_rows else None)
        w_lo, w_hi = np.inf, -np.inf
        for i, j, w, d in e.chunks(ordered=False):      # counts and ranges only: any order will do
            if not i.size:
                continue
            steps = _ir.delay_steps(d, dt)
            if steps.min() < 1:
                raise ValidationError(f"projections.{e.name}.delay", float(np.min(d)), f"delays >= dt ({dt} s)")
            off = np.abs(np.asarray(d) / dt - steps) > _ir.GRID_TOLERANCE
            if off.any():
                raise ValidationError(f"projections.{e.name}.delay", f"{float(np.asarray(d)[off][0])!r} s",
                                      f"a multiple of dt ({dt!r} s)")
            sc.n += int(i.size)
            sc.d_min = min(sc.d_min, int(steps.min()))
            sc.d_max = max(sc.d_max, int(steps.max()))
            w_lo, w_hi = min(w_lo, float(np.min(w))), max(w_hi, float(np.max(w)))
            sc.f32 = sc.f32 and bool(np.array_equal(np.asarray(w, np.float32), w))
            if count_rows:
                sc.row_counts += np.bincount(self._groups(e, i, j, part, n_pre), minlength=G)
        sc.one_weight = w_lo == w_hi
        sc.weight = w_lo
        sc.one_delay = sc.d_min == sc.d_max
        return sc

    def _groups(self, e, i, j, part, n_pre):
        """(owner thread, presynaptic index) of synapses (i, j) of edge e, as one row number."""
        group = self.pre_base[e.pre] + np.asarray(i, dtype=np.int64)
        if self.parts > 1:
            group += (np.searchsorted(part[self.pop_index[e.post]], j, side="right") - 1) * n_pre
        return group

    def _fits_packed(self, e, scan, real, exact_weights=True) -> bool:
        """Whether a static projection can go to the packed table: its delays fit 8 bits and
        the channels 23, its weights are float32 values (or the state is float32; with
        ``exact_weights=False`` it has one weight), and it gains from it (not one weight
        and one delay: those cost ~2 B in the segmented one)."""
        if not self.packed or (scan.one_weight and scan.one_delay):
            return False
        weights_fit = (scan.f32 or real == np.float32) if exact_weights else scan.one_weight
        return scan.d_max <= MAX_PACKED_DELAY and self.n_channels <= MAX_PACKED_CHANNELS and weights_fit

    def _segmented_keys(self, edges, a, real, part, n_pre, block_bits):
        """The segmented table's synapses sorted by (thread, row, block, delay): fills
        syn_chan and syn_weight, returns the sorted keys."""
        keys, chans_, ws = [], [], []
        for e in edges:
            for i, j, w, d in e.chunks():
                d = _ir.delay_steps(d, self.dt)
                group = self._groups(e, i, j, part, n_pre)
                if self.models[self.pop_index[e.post]].has_synaptic_state:
                    d = d | SEG_SPARSE   # inputs to syn variables: folded sparsely (_kernel_impl.h push)
                chan = self.channel_of[(e.post, e.receptor)] + np.asarray(j, dtype=np.int64)
                keys.append((((group << block_bits) | (chan >> 16)) << 16) | d)
                chans_.append((chan & 0xFFFF).astype(np.uint16))
                ws.append(np.asarray(w, dtype=real))
                del group, d
        if not keys:
            a["syn_chan"] = np.zeros(0, np.uint16)
            a["syn_weight"] = np.zeros(0, real)
            return np.zeros(0, np.int64)
        key = np.concatenate(keys)
        del keys
        order = np.argsort(key, kind="stable")
        key = key[order]
        a["syn_chan"] = np.concatenate(chans_)[order]
        del chans_
        a["syn_weight"] = np.concatenate(ws)[order]
        return key

    def _fill_packed(self, edges, counts, a, real, part, n_pre, own_rows=()):
        """Second pass: each packed projection's chunks appended to their rows (fill_packed),
        so a row keeps the IR's synapse order; per-synapse weights are dropped when every
        row has one weight (pk_row_w)."""
        T = self.parts
        G = T * n_pre
        n = int(counts.sum())
        a["pk_ptr"] = _per_thread_ptr(counts, T, n_pre)
        # (np.empty would let numpy advise huge pages: 4 % less run time at full scale in bucket
        # mode, but 4 s more of the kernel's time in the build's page faults; benchmarks/RESULTS.md)
        a["pk_syn"] = syn = np.zeros(n, np.uint32)
        a["pk_w"] = w_all = np.zeros(n, np.float32)
        cursor = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self._pk_sparse = False
        for e in edges:
            k = self.pop_index[e.post]
            sparse = self.models[k].has_synaptic_state
            self._pk_sparse |= sparse
            c0 = self.channel_of[(e.post, e.receptor)]
            for i, j, w, d in e.chunks():
                entry = ((c0 + np.asarray(j, np.int64)) << PACKED_CHANNEL_SHIFT) | _ir.delay_steps(d, self.dt)
                if sparse:
                    entry |= PACKED_SPARSE
                fill_packed(cursor, self._groups(e, i, j, part, n_pre), entry.astype(np.uint32),
                            np.asarray(w, dtype=real).astype(np.float32), syn, w_all)
                del entry
        if not np.array_equal(cursor, np.cumsum(counts)):
            raise RuntimeError("the packed table's rows were not filled as counted")
        row_w, all_same = _row_weights(counts, w_all, G, real)
        if n and all_same:
            a["pk_w"] = np.zeros(0, np.float32)
        for rows, weight in own_rows:   # a weight that is no float32 value, in rows of its own
            row_w[rows] = weight
        a["pk_row_w"] = row_w
        self._pk_rows = counts

    def _group_packed(self, a):
        """Bucket mode: each row of the packed table sorted by delay, stably, and cut into groups of
        one delay (pk_gptr, pk_grp: _core.group_packed_by_delay), so that a spike leaves one item
        per group in the buckets instead of an entry per synapse. Ring mode keeps the IR's order
        and has no groups."""
        a["pk_gptr"], a["pk_grp"] = np.zeros(0, np.int64), np.zeros(0, np.uint32)
        if self.delivery != "bucket" or not a["pk_syn"].size:
            return
        # (pk_ptr's threads follow one another: its pairs of neighbours are the rows, with an
        # empty one between two threads, so the groups' pointers index as pk_ptr does)
        a["pk_gptr"], a["pk_grp"] = group_packed_by_delay(a["pk_ptr"], a["pk_syn"], a["pk_w"])

    def _lay_out_plastic(self, plastic, a, real, part, n_pre):
        """The plastic synapses (module docstring, plastic synapses): rows by thread and
        presynaptic index cut into segments of one delay and projection, per-synapse state,
        the transposed index by target neuron, each projection's rule parameters."""
        T, N = self.parts, sum(p.size for p in self.pops)
        rules, params, sparse, signs = [], [], [], []
        own_, pre_, d_, q_, k_, chan_, post_, w_, st_, last_, dd_ = ([] for _ in range(11))
        found = [rule_for(e.plasticity, "grid", f"projection {e.name}", "native") for e, _ in plastic]
        S = max([len(r.initial_state(e.plasticity)) for r, (e, _) in zip(found, plastic)] + [1])  # state per synapse
        self.plastic_names = []
        for q, (e, d) in enumerate(plastic):
            where, rule = f"projection {e.name}", found[q]
            frac = float(e.plasticity.get("dendritic_delay_fraction", 0.0))
            if frac != 0.0 and hasattr(rule, "signal_steps"):
                raise UnsupportedFeature("native", f"dendritic_delay_fraction={frac!r} with a neuromodulated "
                                         f"rule ({where})", "0: the whole delay on the presynaptic path")
            sign = rule.check_weights(e.plasticity, e.weight, f"projections.{e.name}")
            signs.append(sign)
            k = self.pop_index[e.post]
            self.plastic_names.append(e.name)
            rules.append(rule.name)
            params.append(np.asarray(list(rule.engine_params(e.plasticity, sign))
                                     + list(rule.engine_tables(e.plasticity, self.dt)), dtype=float))
            sparse.append(int(self.models[k].has_synaptic_state))
            j = np.asarray(e.j, dtype=np.int64)
            own_.append(np.searchsorted(part[k], j, side="right") - 1 if T > 1 else np.zeros(j.size, np.int64))
            pre_.append(self.pre_base[e.pre] + np.asarray(e.i, dtype=np.int64))
            d_.append(d.astype(np.int64))
            # the dendritic part of each synapse's delay, in steps (NEST: the whole delay)
            dd_.append(np.rint(frac * d).astype(np.int64))
            q_.append(np.full(j.size, q, np.int64))
            k_.append(np.arange(j.size, dtype=np.int64))
            chan_.append((self.channel_of[(e.post, e.receptor)] + j).astype(np.int32))
            post_.append(int(a["pop_start"][k]) + j)
            w_.append(np.asarray(e.weight, dtype=real))
            init = np.zeros(S)
            init[:len(rule.initial_state(e.plasticity))] = rule.initial_state(e.plasticity)
            st_.append(np.tile(init, (j.size, 1)).astype(real))
            last_.append(np.full(j.size, rule.initial_last, np.int64))
        cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
        own, pre, d, q, k, dd = (cat(x, np.int64) for x in (own_, pre_, d_, q_, k_, dd_))
        del own_, pre_, d_, q_, k_, dd_             # (one array alive per synapse field: the build's peak)
        order = np.lexsort((k, q, d, pre, own))     # by thread, row, delay, projection; stable
        own = own[order]
        pre = pre[order]
        d = d[order]
        q = q[order]
        k = k[order]
        dd = dd[order]
        # Dendritic delays (docs/architecture.md, plastic synapses): a synapse with dendritic
        # part dd >= 1 of its delay d sees a presynaptic spike of step n at n + (d - dd) + 1 and
        # a postsynaptic spike of step m at m + dd + 1 -- NEST's relative timing, both shifted
        # by one step so that a presynaptic spike is never due at the step it is emitted;
        # what it delivers reaches the target at n + d, as a static synapse's input.
        shift = (dd >= 1).astype(np.int64)
        seen = d - dd + shift                        # steps from the presynaptic spike to the synapse
        n = order.size
        new = np.ones(n, bool)
        if n:
            new[1:] = (np.diff(own) != 0) | (np.diff(pre) != 0) | (np.diff(d) != 0) | (np.diff(q) != 0)
        starts = np.flatnonzero(new)
        a["pl_seg_start"] = np.append(starts, n).astype(np.int64)
        a["pl_seg_delay"] = seen[starts].astype(np.int32)
        a["pl_seg_dend"] = (d - seen)[starts].astype(np.int32)        # then on to the target
        self._pl_min_pre_delay = int(seen[dd >= 1].min()) if (dd >= 1).any() else MAX_WINDOW
        del shift, seen, new, d
        a["pl_seg_proj"] = q[starts].astype(np.int32)
        a["pl_seg_ptr"] = _per_thread_ptr(np.bincount(own[starts] * n_pre + pre[starts], minlength=T * n_pre),
                                          T, n_pre)
        self._pl_segs_per_thread = np.bincount(own[starts], minlength=T).astype(np.int64)
        a["pl_chan"] = cat(chan_, np.int32)[order]
        del chan_
        a["pl_syn_proj"] = q.astype(np.int32)
        a["pl_w"] = cat(w_, real)[order]
        del w_
        a["pl_state"] = (np.concatenate(st_) if st_ else np.zeros((0, S), real))[order].ravel()
        del st_
        a["pl_nstate"] = S
        a["pl_last"] = cat(last_, np.int64)[order]
        del last_
        post = cat(post_, np.int64)[order]
        del post_, order
        a["pl_post_ptr"] = np.concatenate([[0], np.cumsum(np.bincount(post, minlength=N))]).astype(np.int64)
        post_delay = np.where(dd >= 1, dd + 1, 0)   # when the synapse sees its target's spike
        del dd
        # lazy postsynaptic updates (sc_net, _kernel.h) for the rules with a post function and no modulator
        lazy_rule = np.array([plastic_post_is_lazy(r.name) for r in found], np.int32)
        lazy = lazy_rule[q].astype(np.int64) if n else np.zeros(0, np.int64)
        by_post = np.lexsort((post_delay, lazy, post))    # by target, lazy or not, that delay; stable
        a["pl_post_syn"] = by_post.astype(np.int64, copy=False)
        # groups of one target, kind and post delay: a spike queues its delayed eager groups
        ps, pd, pz = post[by_post], post_delay[by_post], lazy[by_post]
        gnew = np.ones(ps.size, bool)
        if ps.size:
            gnew[1:] = (np.diff(ps) != 0) | (np.diff(pd) != 0) | (np.diff(pz) != 0)
        gstart = np.flatnonzero(gnew)
        a["pl_pg_start"] = gstart.astype(np.int64)
        a["pl_pg_end"] = np.append(gstart[1:], ps.size).astype(np.int64)
        a["pl_pg_delay"] = pd[gstart].astype(np.int32)
        a["pl_pg_lazy"] = pz[gstart].astype(np.int32)
        a["pl_pg_ptr"] = np.concatenate([[0], np.cumsum(np.bincount(ps[gstart], minlength=N))]).astype(np.int64)
        gown = own[by_post][gstart]                 # a target's thread owns its groups
        self._pl_delayed_groups = np.bincount(gown[(pd[gstart] > 0) & (pz[gstart] == 0)],
                                              minlength=T).astype(np.int64)
        del ps, pd, pz, gnew, gown, by_post
        a["pl_lazy"] = lazy_rule
        a["pl_seg_pdel"] = post_delay[starts].astype(np.int32)
        chan_neuron = np.full(self.n_channels, -1, np.int32)
        chan_neuron[a["pl_chan"]] = post
        a["pl_chan_neuron"] = chan_neuron
        a["pl_nin"] = np.bincount(post[lazy == 1], minlength=N).astype(np.int32)
        # each neuron's spike history: room beyond the longest post delay (a full one is settled)
        d_lazy = int(post_delay[lazy == 1].max()) if (lazy == 1).any() else -1
        H = 1 if d_lazy < 0 else 1 << (d_lazy + LAZY_HISTORY).bit_length()
        a["pl_hist_len"] = H
        a["pl_hist_dmax"] = max(d_lazy, 0)
        a["pl_hist"] = np.zeros(N * H, np.int64)           # spike steps
        a["pl_hpos"] = _zeros_aligned(HIST_POS_INT64 * N, np.int64, 32)   # sc_hist_pos per neuron
        a["pl_pdone"] = np.zeros(n, np.uint8)
        self._lay_out_shared_traces(plastic, found, a, q, post, lazy, post_delay, real, starts.size, own)
        a["pl_param"] = np.concatenate(params) if params else np.zeros(0)
        a["pl_param_start"] = np.concatenate([[0], np.cumsum([p.size for p in params])[:-1]]).astype(np.int64) \
            if params else np.zeros(0, np.int64)
        a["pl_sparse"] = np.array(sparse, np.int32)
        self.plastic_rules = rules
        # per projection, the position of each of its synapses (IR order) in the sorted arrays
        self._pl_pos = {}
        self._pl_span = {}           # _pl_pos, or the slice it spans where it is a run of positions
        for p, name in enumerate(self.plastic_names):
            sel = np.flatnonzero(q == p)
            pos = np.empty(sel.size, np.int64)
            pos[k[sel]] = sel
            self._pl_pos[name] = pos
            # where they lie in IR order in one run (one thread, say), reads and writes go by slice
            self._pl_span[name] = slice(int(pos[0]), int(pos[0]) + pos.size) \
                if pos.size and pos[-1] - pos[0] == pos.size - 1 and np.all(np.diff(pos) == 1) else pos
        self._pl_rows = np.bincount(own * n_pre + pre, minlength=T * n_pre) if n else np.zeros(T * n_pre, np.int64)
        self._pl_rules = [(r, e.plasticity, sg) for r, (e, _), sg in zip(found, plastic, signs)]
        self._lay_out_modulators(plastic, found, a, q, own, n_pre)

    def _lay_out_shared_traces(self, plastic, found, a, q, post, lazy, post_delay, real, n_seg, own):
        """The shared-trace layout (sc_net, pl_fast; docs/architecture.md, plastic synapses)
        for the lazy stdp_pair projections whose synapses all see their target's spikes at
        once: a presynaptic trace per segment, a postsynaptic trace per target neuron, the
        weight alone per synapse."""
        T, N, P = self.parts, sum(p.size for p in self.pops), len(plastic)
        longest = np.zeros(P, np.int64)
        if q.size:
            np.maximum.at(longest, q, post_delay)
        fast = np.array([self.SHARED_TRACES and r.name == "stdp_pair" and plastic_post_is_lazy(r.name)
                         and not any(r.initial_state(e.plasticity)) and r.initial_last == 0 and longest[p] == 0
                         for p, (r, (e, _)) in enumerate(zip(found, plastic))], bool)
        slots = np.flatnonzero(fast)
        a["pl_fast"] = np.zeros(P, np.int32)
        a["pl_fast"][slots] = np.arange(1, slots.size + 1, dtype=np.int32)
        a["pl_fast_proj"] = slots.astype(np.int32)
        slow = (lazy == 1) & ~fast[q] if q.size else np.zeros(0, bool)
        a["pl_nin_slow"] = np.bincount(post[slow], minlength=N).astype(np.int32)
        a["pl_seg_x"] = np.zeros(n_seg, real)
        a["pl_seg_last"] = np.zeros(n_seg, np.int64)
        a["pl_seg_from"] = np.zeros(n_seg, np.int64)
        # {newest spike step, the trace now, offsets of the spikes before it (uint32), trace after}
        fpost = _zeros_aligned(8 * slots.size * N, np.int64, 64)
        fpost.reshape(-1, 8)[:, 0] = -(1 << 62)                       # (never spiked)
        offsets = slice(4, 14) if real == np.float64 else slice(3, 15)  # (no spike before it: UINT32_MAX)
        fpost.view(np.uint32).reshape(-1, 16)[:, offsets] = np.uint32(0xFFFFFFFF)
        a["pl_fpost"] = fpost
        a["pl_fast_done"] = np.zeros(8 * T, np.int64)
        # per thread, the neurons its shared-trace synapses target (their traces decayed each step)
        on = fast[q] if q.size else np.zeros(0, bool)
        pairs = np.unique(own[on] * N + post[on]) if on.any() else np.zeros(0, np.int64)
        a["pl_fast_nrn"] = (pairs % N).astype(np.int32) if N else np.zeros(0, np.int32)
        a["pl_fast_nrn_ptr"] = np.concatenate([[0], np.cumsum(np.bincount(pairs // N if N else pairs,
                                                                          minlength=T))]).astype(np.int64)
        if P and fast.all():        # no synapse keeps state of its own: only the weight stays
            a["pl_state"] = np.zeros(0, real)
            a["pl_last"] = np.zeros(0, np.int64)
            a["pl_pdone"] = np.zeros(0, np.uint8)

    def _lay_out_modulators(self, plastic, found, a, q, own, n_pre):
        """Neuromodulator rows (sc_net, _kernel.h): per thread, each modulator neuron's spike
        reaches every synapse of the projections it modulates; signals change between kernel
        calls (``_advance``)."""
        T = self.parts
        rows, seg_proj, seg_delay, seg_start, seg_end, syn = [], [], [], [], [], []
        self._signals, self._mod_from_neurons, self._pl_syn_of = [], False, {}
        total = 0
        for p, (rule, (e, _)) in enumerate(zip(found, plastic)):
            if not hasattr(rule, "signal_steps"):
                continue
            mine = np.flatnonzero(q == p)
            self._pl_syn_of[e.name] = mine
            sig = rule.signal_steps(e.plasticity, self.dt, f"projections.{e.name}.plasticity")
            if sig is not None:
                self._signals.append((p, mine, sig[0], sig[1]))
                continue
            m = e.plasticity["modulator"]
            self._mod_from_neurons |= m in self.pop_index
            g = self.ir
            node = g.populations.get(m) or g.spike_sources.get(m) or g.poisson_sources.get(m)
            if node is None:
                raise ValidationError(f"projections.{e.name}.plasticity.modulator", m,
                                      "the name of a population or source of the network")
            size = node.size
            delay = rule.modulator_delay_steps(e.plasticity, self.dt)
            for t in range(T):
                lst = mine[own[mine] == t]
                if not lst.size:
                    continue
                syn.append(lst)
                for k in range(size):
                    rows.append(t * n_pre + self.pre_base[m] + k)
                    seg_proj.append(p)
                    seg_delay.append(delay)
                    seg_start.append(total)
                    seg_end.append(total + lst.size)
                total += lst.size
        rows = np.asarray(rows, np.int64)
        order = np.argsort(rows, kind="stable")
        a["pl_mod_ptr"] = _per_thread_ptr(np.bincount(rows, minlength=T * n_pre), T, n_pre)
        a["pl_mod_start"] = np.asarray(seg_start, np.int64)[order]
        a["pl_mod_end"] = np.asarray(seg_end, np.int64)[order]
        a["pl_mod_proj"] = np.asarray(seg_proj, np.int32)[order]
        a["pl_mod_delay"] = np.asarray(seg_delay, np.int32)[order]
        a["pl_mod_syn"] = np.concatenate(syn).astype(np.int64) if syn else np.zeros(0, np.int64)
        self._pl_mods_per_thread = np.bincount(rows // n_pre, minlength=T).astype(np.int64) if n_pre else \
            np.zeros(T, np.int64)
        self._pl_rows = self._pl_rows + np.bincount(rows, minlength=T * n_pre)

    def _lay_out_plastic_queue(self, a):
        """Per thread and ring slot, room for one entry per plastic segment and spike of one
        presynaptic neuron in a step (spike sources may repeat a neuron in a step)."""
        T, L = self.parts, self.ring_len
        mult = 1
        if a["ev_step"].size:
            _, counts = np.unique(a["ev_step"] * (self.layout.n_pre + 1) + a["ev_pre"], return_counts=True)
            mult = int(counts.max())
        cap = (self._pl_segs_per_thread + self._pl_mods_per_thread) * mult
        a["pl_qcap"] = cap
        a["pl_qofs"] = np.concatenate([[0], np.cumsum(cap * L)[:-1]]).astype(np.int64)
        a["pl_q"] = np.zeros(int(cap.sum()) * L, np.int64)
        a["pl_qn"] = np.zeros(T * L, np.int64)
        # delayed postsynaptic events: each group is queued at most once per slot
        pcap = self._pl_delayed_groups
        a["pl_pqcap"] = pcap
        a["pl_pqofs"] = np.concatenate([[0], np.cumsum(pcap * L)[:-1]]).astype(np.int64)
        a["pl_pq"] = np.zeros(int(pcap.sum()) * L, np.int64)
        a["pl_pqn"] = np.zeros(T * L, np.int64)

    def plastic_weights(self, projection: str | None = None, step: int | None = None) -> dict:
        """Per plastic projection (or only ``projection``), every synapse's weight at ``step``
        (default: now; float64, in the IR's synapse order). Rules whose weights change between
        events (three_factor) report them integrated to that step (``weight_now``)."""
        a = self.arrays
        n = self.step if step is None else step
        names = self.plastic_names if projection is None else [projection]
        self.kernel.settle_plastic()     # lazy postsynaptic updates (_kernel.h) applied up to now
        out = {}
        for name in names:
            pos = self._pl_span[name]
            rule, p, sign = self._pl_rules[self.plastic_names.index(name)]
            w = a["pl_w"][pos].astype(np.float64)    # (a copy: from a slice, the only one)
            if hasattr(rule, "weight_now"):
                st = a["pl_state"].reshape(-1, a["pl_nstate"])[pos].astype(np.float64)
                elapsed = n * self.dt - a["pl_last"][pos] * self.dt
                w = rule.weight_now(p, sign, w, {k: st[:, i] for i, k in enumerate(rule.state_names)}, elapsed)
            out[name] = w
        return out

    def modulate(self, projection: str, count: int = 1) -> None:
        """``count`` modulator spikes arrive now (the present step) at every synapse of
        ``projection`` (a three_factor projection with a modulator population; run control)."""
        if projection not in self._pl_syn_of or any(p == self.plastic_names.index(projection)
                                                    for p, *_ in self._signals):
            raise ValidationError("projection", projection, "a three_factor projection with a modulator population: "
                                  + ", ".join(n for n in self._pl_syn_of
                                              if all(p != self.plastic_names.index(n) for p, *_ in self._signals)))
        if not isinstance(count, (int, np.integer)) or count < 1:
            raise ValidationError("count", count, "a whole number of modulator spikes >= 1")
        q = self.plastic_names.index(projection)
        syn = np.ascontiguousarray(self._pl_syn_of[projection], dtype=np.int64)
        for _ in range(int(count)):
            self.kernel.modulate(q, syn, self.step, 0.0, False)

    def _lay_out_poisson(self, pois, a):
        """Per-node counters and seeds, per-neuron CDF tables (spikecore.ir.poisson_counts)."""
        a.update(poisson_layout(pois, self.dt))
        active = [_ir.poisson_active_steps(s, self.dt) for s in pois]
        a["pn_on"] = np.array([o for o, _ in active], np.int64)
        a["pn_off"] = np.array([f for _, f in active], np.int64)
        first = a["pn_first"]
        # each thread draws the counts of the Poisson neurons with synapses in its part
        T, n_pre, base = self.parts, self._row_counts.size // self.parts, a["pois_base"]
        lo = np.zeros((T, len(pois)), np.int64)
        hi = np.zeros((T, len(pois)), np.int64)
        for t in range(T):
            for q, k in enumerate(first):
                r0 = t * n_pre + base + k
                rows = np.flatnonzero(self._row_counts[r0: r0 + pois[q].size] + self._pl_rows[r0: r0 + pois[q].size]
                                      + self._pk_rows[r0: r0 + pois[q].size])
                if rows.size:
                    lo[t, q], hi[t, q] = k + rows[0], k + rows[-1] + 1
        a["pr_lo"], a["pr_hi"] = lo.ravel(), hi.ravel()
        # ranges whose rows are single synapses, all onto densely folded channels or all onto synaptic
        # variables (SEG_SPARSE, which the delays keep), get a flat (channel, delay, weight) table
        pd_off = np.full((T, len(pois)), -1, np.int64)
        chans, dels, wts, total = [], [], [], 0
        real = a["ring"].dtype
        for t in range(T):
            for q in range(len(pois)):
                rows = base + np.arange(lo[t, q], hi[t, q])
                if rows.size == 0:
                    continue
                r0 = a["row_ptr"][t * (n_pre + 1) + rows]
                g0 = a["seg_ptr"][t * (n_pre + 1) + rows]
                single = (a["row_ptr"][t * (n_pre + 1) + rows + 1] - r0 == 1) & \
                         (a["seg_ptr"][t * (n_pre + 1) + rows + 1] - g0 == 1)
                plastic = self._pl_rows[t * n_pre + rows].any()   # plastic rows are queued row by row
                packed = self._pk_rows[t * n_pre + rows].any()    # packed rows are pushed row by row
                if plastic or packed or not single.all():
                    continue
                flags = a["seg_delay"][g0] & SEG_SPARSE
                if (flags != flags[0]).any():
                    continue
                pd_off[t, q] = total
                chans.append(a["syn_chan"][r0].astype(np.int64) + (a["seg_block"][g0].astype(np.int64) << 16))
                dels.append(a["seg_delay"][g0])
                rw = a["row_w"][t * n_pre + rows]
                wts.append(np.where(np.isnan(rw), a["syn_weight"][r0] if a["syn_weight"].size else rw, rw))
                total += rows.size
        a["pd_off"] = pd_off.ravel()
        a["pd_chan"] = np.concatenate(chans).astype(np.int32) if chans else np.zeros(0, np.int32)
        a["pd_delay"] = np.concatenate(dels).astype(np.uint16) if dels else np.zeros(0, np.uint16)
        a["pd_weight"] = np.concatenate(wts).astype(real) if wts else np.zeros(0, real)
        del self._row_counts, self._pl_rows, self._pk_rows

    @property
    def bytes_per_synapse(self) -> float:
        """Memory of the synapse table per synapse (module docstring), all threads' row pointers and
        bucket mode's delay groups included."""
        a = self.arrays
        keys = ("syn_chan", "syn_weight", "seg_delay", "seg_len", "seg_block", "row_ptr", "seg_ptr", "row_w",
                "pk_ptr", "pk_syn", "pk_w", "pk_row_w", "pk_gptr", "pk_grp")
        return sum(a[k].nbytes for k in keys) / max(self.n_synapses, 1)

    # -- inputs ---------------------------------------------------------------------
    def _current_schedule(self, c: _ir.CurrentInputNode):
        k = self.pop_index[c.target]
        neurons = int(self.arrays["pop_start"][k]) + c.neurons
        steps, amps = _ir.current_at_steps(c, self.dt)
        # the drive is the model's value plus its gain times the current (NeuronModel.drive)
        gain = self._drive[k][1]
        if np.ndim(gain):       # a per-neuron gain (per-neuron r or c_m): the targeted neurons'
            gain = np.asarray(gain, dtype=float)[np.asarray(c.neurons, dtype=np.int64)]
            amps = np.asarray(amps, dtype=float)
            return neurons, steps, (amps[:, None] if amps.ndim == 1 else amps) * gain
        return neurons, steps, amps * gain

    def _set_drive(self, n: int):
        """Drive of every neuron for step n (currents are constant between change points);
        populations without currents use their scalar drive in the kernel."""
        if not self._currents and not any(self._array_drive):
            return
        a = self.arrays
        drive = np.zeros(self.n_neurons)
        for k, p in enumerate(self.pops):
            s0, s1 = a["pop_start"][k], a["pop_start"][k] + p.size
            drive[s0:s1] = self._drive[k][0]
        for neurons, steps, amps in self._currents:
            active = np.searchsorted(steps, n, side="right") - 1
            if active >= 0:
                drive[neurons] += amps[active]
        a["drive"][:] = drive

    # -- running --------------------------------------------------------------------
    def _new_spike_buffer(self) -> SpikeBuffer:
        # room for the spikes of a few windows: the kernel stops before one could overflow
        return SpikeBuffer(max(1024, (self.arrays["window"] + 3) * self.n_neurons))

    def _advance(self, n: int, stop: int, spikes: SpikeBuffer, rec: Recording):
        self._set_drive(n)
        for q, syn, steps, values in self._signals:     # a signal changes at the start of step n
            hit = np.flatnonzero(steps == n)
            if hit.size:
                self.kernel.modulate(q, np.ascontiguousarray(syn, dtype=np.int64), n, float(values[hit[-1]]), True)
        reached = n
        while reached < stop:
            reached, spikes.n = self.kernel.run(reached, stop, spikes.step, spikes.index, spikes.n, rec.out, rec.pos)
            if reached < stop:  # spike buffer full: grow and continue
                spikes.grow()


def grid_model(pop: _ir.PopulationNode, dt: float):
    """The model of a population the grid engine steps: one that runs in grid mode and has
    an update function registered (spikecore/engine/_updates.h) or is equation-defined (its
    own EquationModel, compiled by spikecore/engine/equations.py); else UnsupportedFeature."""
    model = model_for(pop.model, "grid", f"population {pop.name}")
    if model.threshold_in_update:
        return equation_models.of_node(pop, dt)
    if not has_update(model.name):
        raise UnsupportedFeature("native", f"model '{model.name}' (population {pop.name})",
                                 "a model with a grid update function (spikecore/engine/_updates.h)")
    return model


def per_neuron_params(pops, models, real, dt):
    """Per-neuron parameters (sc_block.nparam): for each population with a per-neuron array
    among its parameters, all its parameters per neuron, parameter-major (broadcast where
    scalar), then its model's per_neuron_coefficients. Returns (first entry per population or -1, the values). A parameter its model's
    grid update cannot read per neuron is refused naming it."""
    starts, blocks, total = [], [], 0
    for m, p in zip(models, pops):
        arrays = [k for k in m.params if np.ndim(p.params[k]) > 0]
        if not arrays:
            starts.append(-1)
            continue
        for k in arrays:
            if k not in m.per_neuron_params:
                raise UnsupportedFeature("native", f"per-neuron {k} (population {p.name}, model {m.name})",
                                         "per-neuron values only of " + (", ".join(sorted(m.per_neuron_params))
                                                                         or "no parameter of this model"))
            if np.size(p.params[k]) != p.size:
                raise ValidationError(f"populations.{p.name}.params.{k}", f"array of length {np.size(p.params[k])}",
                                      f"length {p.size}")
        starts.append(total)
        rows = [p.params[k] for k in m.params] + list(m.per_neuron_coefficients(p.params, p.receptors, dt))
        block = np.stack([np.broadcast_to(np.asarray(x, dtype=float), (p.size,)) for x in rows])
        blocks.append(block.ravel())
        total += block.size
    values = np.concatenate(blocks).astype(real) if blocks else np.zeros(0, real)
    return np.array(starts, dtype=np.int64), values


def further_state(pops, models, real):
    """State variables other than v and the receptors' (sc_block.xstate), variable-major per
    population, from the IR's initial values. Returns (first entry per population, values)."""
    starts, blocks, total = [], [], 0
    for m, p in zip(models, pops):
        starts.append(total)
        for var in m.extra_state:
            value = p.initial[var] if var in p.initial else m.initial_value(var, p.params)
            blocks.append(np.broadcast_to(np.asarray(value, dtype=float), (p.size,)))
            total += p.size
    values = np.concatenate(blocks).astype(real) if blocks else np.zeros(0, real)
    return np.array(starts, dtype=np.int64), values


def _or_zero(x) -> float:
    """A model's coefficient, 0 where it has none (None): the update does not read it."""
    return 0.0 if x is None else float(x)


def thread_ranges(sizes, shares) -> np.ndarray:
    """(P, B+1): part t holds neurons [part[p, t], part[p, t+1]) of population p, for B parts of
    relative sizes ``shares`` (an int B: B equal parts). The boundaries inside a population
    are rounded to multiples of 16 neurons (64 bytes of float32 state, 128 of float64), so that
    two parts' neurons never share a cache line of a population's state (false sharing: the
    line would move between the cores every step while two threads run them)."""
    shares = (1,) * shares if isinstance(shares, (int, np.integer)) else tuple(shares)
    B, total = len(shares), sum(shares)
    cum = np.cumsum((0,) + shares)
    part = np.zeros((len(sizes), B + 1), dtype=np.int64)
    for p, s in enumerate(sizes):
        s = int(s)
        for t in range(1, B):
            part[p, t] = min(s, (s * int(cum[t]) // total + 8) // 16 * 16)
        part[p, B] = s
        part[p] = np.maximum.accumulate(part[p])
    return part


def cache_aligned(x: np.ndarray) -> np.ndarray:
    """A copy of ``x`` whose data starts on a 64-byte boundary (numpy aligns to 16 bytes)."""
    buf = np.empty(x.nbytes + 64, np.uint8)
    off = (-buf.ctypes.data) % 64
    out = buf[off:off + x.nbytes].view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


def _row_weights(counts, w, G: int, real):
    """Per row (of ``counts`` synapses each, ``w`` row after row) its one weight where all its
    synapses share it, else NaN; and whether every non-empty row does."""
    row_w = np.full(G, np.nan, dtype=real)
    if not w.size:
        return row_w, True
    cum = np.concatenate([[0], np.cumsum(counts)])
    nonempty = np.flatnonzero(counts)
    lo = np.minimum.reduceat(w, cum[nonempty])
    hi = np.maximum.reduceat(w, cum[nonempty])
    same = lo == hi
    row_w[nonempty[same]] = lo[same]
    return row_w, bool(same.all())


def _zeros_aligned(n: int, dtype, align: int) -> np.ndarray:
    """n zeros of dtype whose first byte lies on a multiple of align bytes (records of that
    size then never straddle two cache lines)."""
    item = np.dtype(dtype).itemsize
    raw = np.zeros(n + align // item, dtype)
    skip = (-raw.ctypes.data % align) // item
    return raw[skip:skip + n]


def _per_thread_ptr(counts: np.ndarray, T: int, n_pre: int) -> np.ndarray:
    """Row pointers (T x (n_pre+1), flattened) into one array grouped by (thread, row)."""
    cum = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return np.concatenate([cum[t * n_pre: t * n_pre + n_pre + 1] for t in range(T)])
