# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernel of the native engine: steps a realised network on the grid.

The step loop is C (_kernel.c, _kernel_impl.h, declared in _kernel.h): this
module only checks and hands over the arrays spikecore.engine.simulator laid
out. The step order is the IR's (spikecore.ir, module docstring), which is
Brian2's default schedule: state monitors, state update, threshold, propagation
(queue this step's spikes by delay, apply what is due now), reset.

State update: each population's block of neurons is advanced by its model's update
function (one per model: spikecore/engine/updates/<model>.h, registered by the model's
name in _updates.h; the equations are in spikecore/models/<model>.py), with the drive
(NeuronModel.drive: a value plus a gain times the injected current) constant over the
step. Refractory neurons keep v; synaptic variables decay (counters: _kernel_impl.h).
State is double (sc_run_f64) or float (sc_run_f32); parameters are computed in
double and rounded once.
"""
from libc.stdint cimport int64_t, int32_t, uint16_t, uint32_t, uint64_t, uint8_t

import numpy as np


def fill_packed(int64_t[::1] cursor, const int64_t[::1] group, const uint32_t[::1] entry,
                const float[::1] weight, uint32_t[::1] out_syn, float[::1] out_w):
    """Append a chunk of synapses to their rows of the packed table (simulator.py): synapse k
    goes to position cursor[group[k]], which then advances, so each row keeps the chunk order.
    ``weight`` may be empty (no per-synapse weights)."""
    cdef Py_ssize_t k, n = group.shape[0]
    cdef int64_t pos, g, n_rows = cursor.shape[0], n_out = out_syn.shape[0]
    cdef bint with_w = weight.shape[0] > 0
    if entry.shape[0] != n or (with_w and (weight.shape[0] != n or out_w.shape[0] != n_out)):
        raise ValueError("chunk arrays differ in length")
    with nogil:
        for k in range(n):
            g = group[k]
            if g < 0 or g >= n_rows:
                with gil:
                    raise ValueError("row out of range")
            pos = cursor[g]
            if pos >= n_out:
                with gil:
                    raise ValueError("row overflows its counted length")
            cursor[g] = pos + 1
            out_syn[pos] = entry[k]
            if with_w:
                out_w[pos] = weight[k]


#: most synapses of one delay group of the packed table (group_packed_by_delay: length << 8 | delay)
DEF _GROUP_MAX = 16777215
PACKED_GROUP_MAX = _GROUP_MAX


def group_packed_by_delay(const int64_t[::1] ptr, uint32_t[::1] syn, float[::1] w):
    """Sort each row of the packed table (simulator.py: rows [ptr[i], ptr[i+1]) of ``syn`` and, where
    not empty, ``w``) by delay (the entry's low 8 bits), stably, so that synapses of one delay keep
    their order, and cut it into groups of one delay: returns (gptr, grp), row i's groups being
    grp[gptr[i] .. gptr[i+1]), each length << 8 | delay (at most PACKED_GROUP_MAX synapses; a longer
    run is cut), in the row's order. Bucket delivery appends one item per group (_kernel_impl.h,
    push_packed_bk). ``ptr`` may hold several threads' rows one after the other (a thread's last
    pointer equals the next thread's first: an empty row)."""
    cdef Py_ssize_t n_rows = ptr.shape[0] - 1 if ptr.shape[0] else 0
    cdef Py_ssize_t i, k, b, e, d, pos, longest = 0
    cdef int64_t n_groups = 0, run, piece
    cdef int64_t hist[256]
    cdef int64_t at[256]
    cdef bint with_w = w.shape[0] > 0, sorted_
    cdef uint32_t prev
    if with_w and w.shape[0] != syn.shape[0]:
        raise ValueError("packed weights and entries differ in length")
    for i in range(n_rows):
        if ptr[i] > ptr[i + 1] or ptr[i + 1] > syn.shape[0] or ptr[i] < 0:
            raise ValueError("packed row pointers out of order")
        longest = max(longest, ptr[i + 1] - ptr[i])
    gptr = np.zeros(n_rows + 1, np.int64)
    cdef int64_t[::1] gp = gptr
    tmp_syn_a = np.empty(longest, np.uint32)
    tmp_w_a = np.empty(longest if with_w else 0, np.float32)
    cdef uint32_t[::1] tmp_syn = tmp_syn_a
    cdef float[::1] tmp_w = tmp_w_a
    with nogil:
        for i in range(n_rows):       # sort each row by delay (a stable counting sort), count its groups
            b, e = ptr[i], ptr[i + 1]
            for d in range(256):
                hist[d] = 0
            sorted_ = True
            prev = 0
            for k in range(b, e):
                d = syn[k] & 0xFF
                hist[d] += 1
                if <uint32_t>d < prev:
                    sorted_ = False
                prev = <uint32_t>d
            for d in range(256):
                if hist[d]:
                    n_groups += (hist[d] + _GROUP_MAX - 1) // _GROUP_MAX
            gp[i + 1] = n_groups
            if sorted_:
                continue
            pos = 0
            for d in range(256):
                at[d] = pos
                pos += hist[d]
            for k in range(b, e):
                d = syn[k] & 0xFF
                tmp_syn[at[d]] = syn[k]
                if with_w:
                    tmp_w[at[d]] = w[k]
                at[d] += 1
            for k in range(e - b):
                syn[b + k] = tmp_syn[k]
            if with_w:
                for k in range(e - b):
                    w[b + k] = tmp_w[k]
    grp_a = np.empty(n_groups, np.uint32)
    cdef uint32_t[::1] grp = grp_a
    cdef int64_t g = 0
    with nogil:
        for i in range(n_rows):       # the runs of one delay, in order, cut at PACKED_GROUP_MAX
            b, e = ptr[i], ptr[i + 1]
            k = b
            while k < e:
                d = syn[k] & 0xFF
                run = 1
                while k + run < e and (syn[k + run] & 0xFF) == <uint32_t>d:
                    run += 1
                k += run
                while run > 0:
                    piece = run if run < _GROUP_MAX else _GROUP_MAX
                    grp[g] = <uint32_t>(piece << 8) | <uint32_t>d
                    g += 1
                    run -= piece
    return gptr, grp_a


def has_update(str model) -> bool:
    """Whether the grid engine has an update function registered for ``model`` (_updates.h)."""
    return sc_update_function(model.encode(), 0) != NULL


def plastic_post_is_lazy(str rule) -> bool:
    """Whether the grid engine applies the postsynaptic updates of plasticity rule ``rule``
    lazily (sc_net, lazy postsynaptic updates): it has a post function and no modulator."""
    cdef sc_plastic_pre_fn pre
    cdef sc_plastic_post_fn post
    cdef sc_plastic_mod_fn mod
    return bool(sc_plastic_rule(rule.encode(), 0, &pre, &post, &mod)) and post != NULL and mod == NULL


def has_plastic_rule(str rule) -> bool:
    """Whether the grid engine has functions registered for plasticity rule ``rule`` (_plastic_rules.h)."""
    cdef sc_plastic_pre_fn pre
    cdef sc_plastic_post_fn post
    cdef sc_plastic_mod_fn mod
    return bool(sc_plastic_rule(rule.encode(), 0, &pre, &post, &mod))


#: sc_block's fields in declaration order (_kernel.h); every one is 8 bytes
BLOCK_FIELDS = ("m", "n", "stride", "n_rec", "dt", "v", "syn", "pend", "drive", "d0", "decay_mem", "vth", "free_at",
                "param", "nparam", "xstate", "rec_decay", "rec_coef", "rec_erev", "crossed", "first", "spikes",
                "n_spikes", "due")


def block_layout() -> dict:
    """sc_block's field offsets in bytes as the C compiler laid them out, and its size ("sizeof"):
    what a function compiled elsewhere (numba, spikecore.engine.equations) reads the block through."""
    cdef sc_block b
    cdef size_t base = <size_t>&b
    offsets = [<size_t>&b.m, <size_t>&b.n, <size_t>&b.stride, <size_t>&b.n_rec, <size_t>&b.dt, <size_t>&b.v,
               <size_t>&b.syn, <size_t>&b.pend, <size_t>&b.drive, <size_t>&b.d0, <size_t>&b.decay_mem,
               <size_t>&b.vth, <size_t>&b.free_at, <size_t>&b.param, <size_t>&b.nparam, <size_t>&b.xstate,
               <size_t>&b.rec_decay, <size_t>&b.rec_coef, <size_t>&b.rec_erev, <size_t>&b.crossed,
               <size_t>&b.first, <size_t>&b.spikes, <size_t>&b.n_spikes, <size_t>&b.due]
    out = {name: int(o - base) for name, o in zip(BLOCK_FIELDS, offsets)}
    out["sizeof"] = sizeof(sc_block)
    return out


def exp_values(x, precision="float64"):
    """exp of each element of the array ``x`` as the grid engine's updates evaluate it at that
    state precision (the vector path of _vexp.h where it is enabled, else the C library's exp or
    expf): for tests."""
    cdef double[::1] xs, ys
    cdef float[::1] xf, yf
    if precision == "float32":
        xf = np.ascontiguousarray(x, dtype=np.float32).ravel()
        out = np.empty(xf.shape[0], dtype=np.float32)
        yf = out
        if xf.shape[0]:
            sc_expf_values(&yf[0], &xf[0], xf.shape[0])
        return out
    xs = np.ascontiguousarray(x, dtype=np.float64).ravel()
    out = np.empty(xs.shape[0], dtype=np.float64)
    ys = out
    if xs.shape[0]:
        sc_exp_values(&ys[0], &xs[0], xs.shape[0])
    return out


def vector_exp_enabled(precision="float64") -> bool:
    """Whether the updates evaluate exp (float64 state) or expf (float32) with the vector path
    (_vexp.h), having found it equal to the C library's bit for bit on this CPU and C library;
    else they call the library per neuron."""
    return bool(sc_exp_vector_enabled(precision == "float32"))


def touched_n_size(int64_t ring_len, int64_t n_threads) -> int:
    """Length of the sparse fold's per-thread counts (sc_net.touched_n) for a ring of ``ring_len``
    slots: thread after thread, each rounded up to 8 counts and 8 more (SC_TOUCHED_N in _kernel.h)."""
    return 0 if ring_len == 0 else int(n_threads * ((ring_len + 7) // 8 * 8 + 8))


def set_plastic_simd(bint enable) -> bool:
    """Run the shared-trace stdp_pair rows of float64 runs with AVX-512 where the CPU has it
    (the default), or with the scalar loop; both give the same bits. Returns whether AVX-512
    is now used."""
    return bool(sc_set_plastic_simd(enable))


_TICK_NS = None     # ns per sc_ticks tick (Kernel.tick_ns)


def openmp_enabled() -> bool:
    """Whether the engine was built with OpenMP (else it runs one thread)."""
    return bool(sc_openmp_enabled())


def segments_rise(chan, seg_start) -> bool:
    """Whether the channels rise within every plastic segment (chan[seg_start[g] ..
    seg_start[g + 1])), so that they all differ: a row's deliveries may then go in any order
    (sc_net pl_chan_distinct)."""
    chan, starts = np.asarray(chan), np.asarray(seg_start)
    if chan.shape[0] < 2:
        return True
    rise = chan[1:] > chan[:-1]
    rise[starts[(starts > 0) & (starts < chan.shape[0])] - 1] = True    # across a segment boundary
    return bool(rise.all())


cdef size_t _addr(dict a, str key, dtype) except? 0:
    arr = a[key]
    if not isinstance(arr, np.ndarray) or arr.dtype != np.dtype(dtype) or not arr.flags.c_contiguous:
        raise ValueError(f"engine array {key!r} must be a contiguous {np.dtype(dtype)} array")
    return <size_t>arr.ctypes.data


#: Kernel.split's values, in the order of _kernel.h's SC_SPLIT_*
SPLIT_MODES = ("adaptive", "even", "cycle")


cdef class Kernel:
    def __init__(self, dict a, double dt, int64_t ring_len, int n_threads, bint single, list models,
                 list rules=None, list resets=None, int parts=0):
        """``models``: per population, its model's name, whose registered update (_updates.h) steps it,
        or the address of an update function compiled elsewhere (an int: a numba cfunc of an
        equation-defined model, spikecore.engine.equations); ``resets``: per population 0 or the
        address of its reset function (sc_net.pop_reset); ``rules``: each plastic projection's rule
        name (_plastic_rules.h), in the order of pl_param_start. ``parts``: the parts the layout
        was cut into (thread_ranges; 0: one per thread), which the team of ``n_threads`` threads
        shares out window by window (sc_run, _kernel_impl.h)."""
        real = np.float32 if single else np.float64
        self.arrays = a
        self.single = single
        if parts == 0:
            parts = n_threads
        if n_threads < 1 or parts < n_threads:
            raise ValueError(f"{n_threads} threads for {parts} parts: expected 1 <= threads <= parts")
        self.n_threads = n_threads
        self.n_parts = parts
        n_threads = parts     # the layout's arrays below are per part
        cdef sc_net* s = &self.net
        s.dt = dt
        s.ring_len = ring_len
        s.n_parts = parts
        s.n_team = self.n_threads
        s.n_pops = len(models)
        cdef sc_update_fn fn
        updates = np.zeros(s.n_pops, np.uint64)
        for k, name in enumerate(models):
            if isinstance(name, int):
                if name == 0:
                    raise ValueError(f"population {k}: a null update function")
                updates[k] = name
                continue
            fn = sc_update_function(name.encode(), single)
            if fn == NULL:
                raise ValueError(f"no grid update function is registered for model {name!r}")
            updates[k] = <size_t>fn
        a["pop_update"] = updates
        resets = resets or []
        if resets and len(resets) != s.n_pops:
            raise ValueError("one reset entry per population")
        a["pop_reset"] = np.array(resets, dtype=np.uint64)
        s.pop_reset = <const sc_update_fn*>_addr(a, "pop_reset", np.uint64) if any(resets) else NULL
        s.n_neurons = a["v"].shape[0]
        s.n_channels = a["syn"].shape[0]
        s.n_pre = a["row_ptr"].shape[0] // n_threads - 1
        self.n_neurons = s.n_neurons
        s.pop_update = <const sc_update_fn*>_addr(a, "pop_update", np.uint64)
        s.pop_ref_steps = <const int32_t*>_addr(a, "pop_ref_steps", np.int32)
        s.pop_jump_input = <const int32_t*>_addr(a, "pop_jump_input", np.int32)
        s.pop_start = <const int64_t*>_addr(a, "pop_start", np.int64)
        s.pop_size = <const int64_t*>_addr(a, "pop_size", np.int64)
        s.pop_n_rec = <const int64_t*>_addr(a, "pop_n_rec", np.int64)
        s.pop_rec_start = <const int64_t*>_addr(a, "pop_rec_start", np.int64)
        s.pop_chan_start = <const int64_t*>_addr(a, "pop_chan_start", np.int64)
        s.pop_has_drive = <const int32_t*>_addr(a, "pop_has_drive", np.int32)
        s.pop_ring_input = <const int32_t*>_addr(a, "pop_ring_input", np.int32)
        s.pop_vth = <const double*>_addr(a, "pop_vth", np.float64)
        s.pop_vreset = <const double*>_addr(a, "pop_vreset", np.float64)
        s.pop_neuron_thr = <const int32_t*>_addr(a, "pop_neuron_thr", np.int32)
        s.neuron_vth = <const void*>_addr(a, "neuron_vth", real)
        s.neuron_vreset = <const void*>_addr(a, "neuron_vreset", real)
        s.neuron_ref = <const int32_t*>_addr(a, "neuron_ref", np.int32)
        s.pop_decay_mem = <const double*>_addr(a, "pop_decay_mem", np.float64)
        s.pop_d0 = <const double*>_addr(a, "pop_d0", np.float64)
        s.pop_param = <const double*>_addr(a, "pop_param", np.float64)
        s.pop_param_start = <const int64_t*>_addr(a, "pop_param_start", np.int64)
        s.pop_nparam_start = <const int64_t*>_addr(a, "pop_nparam_start", np.int64)
        s.pop_xstate_start = <const int64_t*>_addr(a, "pop_xstate_start", np.int64)
        s.pop_vth_state = <const int64_t*>_addr(a, "pop_vth_state", np.int64)
        s.xstate = <void*>_addr(a, "xstate", real)
        s.nparam = <const void*>_addr(a, "nparam", real)
        s.rec_decay = <const double*>_addr(a, "rec_decay", np.float64)
        s.rec_coef = <const double*>_addr(a, "rec_coef", np.float64)
        s.rec_erev = <const double*>_addr(a, "rec_erev", np.float64)
        s.rec_tau = <const double*>_addr(a, "rec_tau", np.float64)
        s.part = <const int64_t*>_addr(a, "part", np.int64)
        s.v = <void*>_addr(a, "v", real)
        s.syn = <void*>_addr(a, "syn", real)
        s.drive = <void*>_addr(a, "drive", real)
        s.ring = <void*>_addr(a, "ring", real)
        s.free_at = <int64_t*>_addr(a, "free_at", np.int64)
        s.neuron_pop = <const int32_t*>_addr(a, "neuron_pop", np.int32)
        s.row_ptr = <const int64_t*>_addr(a, "row_ptr", np.int64)
        s.seg_ptr = <const int64_t*>_addr(a, "seg_ptr", np.int64)
        s.seg_delay = <const uint16_t*>_addr(a, "seg_delay", np.uint16)
        s.seg_len = <const uint16_t*>_addr(a, "seg_len", np.uint16)
        s.seg_block = <const uint16_t*>_addr(a, "seg_block", np.uint16)
        s.syn_chan = <const uint16_t*>_addr(a, "syn_chan", np.uint16)
        s.syn_weight = <const void*>_addr(a, "syn_weight", real)
        s.row_w = <const void*>_addr(a, "row_w", real)
        s.n_pk = a["pk_syn"].shape[0]
        s.pk_ptr = <const int64_t*>_addr(a, "pk_ptr", np.int64)
        s.pk_syn = <const uint32_t*>_addr(a, "pk_syn", np.uint32)
        s.pk_w = <const float*>_addr(a, "pk_w", np.float32)
        s.pk_row_w = <const void*>_addr(a, "pk_row_w", real)
        if s.n_pk and (a["pk_ptr"].shape[0] != n_threads * (s.n_pre + 1) or a["pk_row_w"].shape[0] != n_threads * s.n_pre
                       or a["pk_w"].shape[0] not in (0, s.n_pk)):
            raise ValueError("packed synapse table does not match the layout")
        s.pk_gptr = <const int64_t*>_addr(a, "pk_gptr", np.int64) if a["pk_gptr"].size else NULL
        s.pk_grp = <const uint32_t*>_addr(a, "pk_grp", np.uint32)
        if a["pk_gptr"].size and (a["pk_gptr"].shape[0] != n_threads * (s.n_pre + 1)
                                  or a["pk_gptr"][a["pk_gptr"].shape[0] - 1] != a["pk_grp"].shape[0] or not a["bk"].size):
            raise ValueError("packed delay groups do not match the layout")
        s.touched = <int32_t*>_addr(a, "touched", np.int32)
        s.touched_n = <int64_t*>_addr(a, "touched_n", np.int64)
        s.mark = <uint8_t*>_addr(a, "mark", np.uint8) if a["mark"].size else NULL
        s.chan_ofs = <const int64_t*>_addr(a, "chan_ofs", np.int64)
        if a["mark"].size and (a["mark"].size != n_threads * ring_len * s.n_channels
                               or a["touched"].size != ring_len * s.n_channels
                               or a["touched_n"].size != touched_n_size(ring_len, n_threads)):
            raise ValueError("sparse-fold arrays do not match the ring")
        s.bk_cap = a["bk_cap"] if a["bk"].size else 0
        s.bk = <uint64_t*>_addr(a, "bk", np.uint64) if a["bk"].size else NULL
        s.bk_n = <int64_t*>_addr(a, "bk_n", np.int64)
        if a["bk"].size and (s.bk_cap < 3 or a["bk"].size != n_threads * ring_len * s.bk_cap
                             or a["bk_n"].size != touched_n_size(ring_len, n_threads)
                             or s.n_channels >= 2**30 - 1):
            raise ValueError("delivery buckets do not match the ring")
        s.n_ev = a["ev_step"].shape[0]
        s.ev_ptr = 0
        s.ev_step = <const int64_t*>_addr(a, "ev_step", np.int64)
        s.ev_pre = <const int32_t*>_addr(a, "ev_pre", np.int32)
        s.pois_base = a["pois_base"]
        s.n_pois = a["n_pois"]
        s.n_pnodes = a["pn_first"].shape[0]
        s.pn_first = <const int64_t*>_addr(a, "pn_first", np.int64)
        s.pn_size = <const int64_t*>_addr(a, "pn_size", np.int64)
        s.pn_on = <const int64_t*>_addr(a, "pn_on", np.int64)
        s.pn_off = <const int64_t*>_addr(a, "pn_off", np.int64)
        s.pn_toff = <const int64_t*>_addr(a, "pn_toff", np.int64)
        s.pn_tlen = <const int32_t*>_addr(a, "pn_tlen", np.int32)
        s.pn_seed = <const uint64_t*>_addr(a, "pn_seed", np.uint64)
        s.pt_off = <const int64_t*>_addr(a, "pt_off", np.int64)
        s.pr_lo = <const int64_t*>_addr(a, "pr_lo", np.int64)
        s.pr_hi = <const int64_t*>_addr(a, "pr_hi", np.int64)
        s.window = a["window"]
        s.pd_off = <const int64_t*>_addr(a, "pd_off", np.int64)
        s.pd_defer = <const int64_t*>_addr(a, "pd_defer", np.int64)
        s.pd_contig = <const uint8_t*>_addr(a, "pd_contig", np.uint8)
        s.pd_chan = <const int32_t*>_addr(a, "pd_chan", np.int32)
        s.pd_delay = <const uint16_t*>_addr(a, "pd_delay", np.uint16)
        s.pd_weight = <const void*>_addr(a, "pd_weight", real)
        if a["pr_lo"].shape[0] != n_threads * s.n_pnodes or s.window < 1 or a["pd_off"].shape[0] != n_threads * s.n_pnodes \
                or a["pd_defer"].shape[0] != n_threads * s.n_pnodes or a["pd_contig"].shape[0] != n_threads * s.n_pnodes:
            raise ValueError("Poisson ranges or window do not match the layout")
        s.pt_len = <const int32_t*>_addr(a, "pt_len", np.int32)
        s.cdf = <const double*>_addr(a, "cdf", np.float64)
        s.n_rec = a["rec_kind"].shape[0]
        s.rec_kind = <const int32_t*>_addr(a, "rec_kind", np.int32)
        s.rec_owner = <const int32_t*>_addr(a, "rec_owner", np.int32)
        s.rec_idx = <const int64_t*>_addr(a, "rec_idx", np.int64)
        s.rec_every = <const int64_t*>_addr(a, "rec_every", np.int64)
        a["thread_cpu"] = np.zeros(self.n_threads)
        s.thread_cpu = <double*>_addr(a, "thread_cpu", np.float64)
        s.pin_threads = 0     # off unless asked: benchmarks/RESULTS.md, round 5
        s.split_mode = 0      # adaptive (SPLIT_MODES)
        s.ph_log = NULL
        s.ph_n = NULL
        s.ph_cap = 0
        self._plastic(a, rules or [], single, real)
        if a["ring"].shape[0] != ring_len * s.n_channels:
            raise ValueError("ring buffer size does not match ring_len * n_channels")
        if a["row_w"].shape[0] != n_threads * s.n_pre:
            raise ValueError("row weights do not match the synapse table")
        if a["row_ptr"].shape[0] != n_threads * (s.n_pre + 1) or a["part"].shape[0] != s.n_pops * (n_threads + 1):
            raise ValueError("synapse table does not match the thread count")

    def _plastic(self, dict a, list rules, bint single, real):
        """Point the step loop at the plastic synapses (sc_net, _kernel.h); none without ``rules``."""
        cdef sc_net* s = &self.net
        cdef sc_plastic_pre_fn pre
        cdef sc_plastic_post_fn post
        cdef sc_plastic_mod_fn mod
        s.n_pl_seg = 0
        s.n_pl_mod = 0
        s.pl_mod_ptr = NULL
        if not rules:
            return
        pres = np.zeros(len(rules), np.uint64)
        posts = np.zeros(len(rules), np.uint64)
        mods = np.zeros(len(rules), np.uint64)
        for k, name in enumerate(rules):
            if not sc_plastic_rule(name.encode(), single, &pre, &post, &mod):
                raise ValueError(f"no grid functions are registered for plasticity rule {name!r}")
            pres[k] = <size_t>pre
            posts[k] = <size_t>post
            mods[k] = <size_t>mod
        a["pl_pre"], a["pl_post"], a["pl_modf"] = pres, posts, mods
        s.pl_mod = <const sc_plastic_mod_fn*>_addr(a, "pl_modf", np.uint64)
        s.n_pl_mod = a["pl_mod_delay"].shape[0]
        if s.n_pl_mod:
            s.pl_mod_ptr = <const int64_t*>_addr(a, "pl_mod_ptr", np.int64)
            s.pl_mod_start = <const int64_t*>_addr(a, "pl_mod_start", np.int64)
            s.pl_mod_end = <const int64_t*>_addr(a, "pl_mod_end", np.int64)
            s.pl_mod_syn = <const int64_t*>_addr(a, "pl_mod_syn", np.int64)
            s.pl_mod_delay = <const int32_t*>_addr(a, "pl_mod_delay", np.int32)
            s.pl_mod_proj = <const int32_t*>_addr(a, "pl_mod_proj", np.int32)
            if (a["pl_mod_ptr"].shape[0] != s.n_parts * (s.n_pre + 1)
                    or a["pl_mod_start"].shape[0] != s.n_pl_mod or a["pl_mod_end"].shape[0] != s.n_pl_mod
                    or (a["pl_mod_end"] > a["pl_mod_syn"].shape[0]).any()
                    or any(mods[q] == 0 for q in set(a["pl_mod_proj"].tolist()))):
                raise ValueError("modulator arrays do not match the layout")
        s.pl_pre = <const sc_plastic_pre_fn*>_addr(a, "pl_pre", np.uint64)
        s.pl_post = <const sc_plastic_post_fn*>_addr(a, "pl_post", np.uint64)
        s.n_pl_seg = a["pl_seg_delay"].shape[0]
        s.pl_seg_ptr = <const int64_t*>_addr(a, "pl_seg_ptr", np.int64)
        s.pl_seg_start = <const int64_t*>_addr(a, "pl_seg_start", np.int64)
        s.pl_seg_delay = <const int32_t*>_addr(a, "pl_seg_delay", np.int32)
        s.pl_seg_proj = <const int32_t*>_addr(a, "pl_seg_proj", np.int32)
        s.pl_chan = <const int32_t*>_addr(a, "pl_chan", np.int32)
        s.pl_syn_proj = <const int32_t*>_addr(a, "pl_syn_proj", np.int32)
        s.pl_w = <void*>_addr(a, "pl_w", real)
        s.pl_state = <void*>_addr(a, "pl_state", real)
        s.pl_nstate = a["pl_nstate"]
        s.pl_last = <int64_t*>_addr(a, "pl_last", np.int64)
        s.pl_post_ptr = <const int64_t*>_addr(a, "pl_post_ptr", np.int64)
        s.pl_post_syn = <const int64_t*>_addr(a, "pl_post_syn", np.int64)
        s.pl_param = <const double*>_addr(a, "pl_param", np.float64)
        s.pl_param_start = <const int64_t*>_addr(a, "pl_param_start", np.int64)
        s.pl_sparse = <const int32_t*>_addr(a, "pl_sparse", np.int32)
        s.pl_q = <int64_t*>_addr(a, "pl_q", np.int64)
        s.pl_qn = <int64_t*>_addr(a, "pl_qn", np.int64)
        s.pl_qofs = <const int64_t*>_addr(a, "pl_qofs", np.int64)
        s.pl_qcap = <const int64_t*>_addr(a, "pl_qcap", np.int64)
        s.pl_seg_dend = <const int32_t*>_addr(a, "pl_seg_dend", np.int32)
        s.pl_pg_ptr = <const int64_t*>_addr(a, "pl_pg_ptr", np.int64)
        s.pl_pg_start = <const int64_t*>_addr(a, "pl_pg_start", np.int64)
        s.pl_pg_end = <const int64_t*>_addr(a, "pl_pg_end", np.int64)
        s.pl_pg_delay = <const int32_t*>_addr(a, "pl_pg_delay", np.int32)
        s.pl_pq = <int64_t*>_addr(a, "pl_pq", np.int64)
        s.pl_pqn = <int64_t*>_addr(a, "pl_pqn", np.int64)
        s.pl_pqofs = <const int64_t*>_addr(a, "pl_pqofs", np.int64)
        s.pl_pqcap = <const int64_t*>_addr(a, "pl_pqcap", np.int64)
        s.pl_lazy = <const int32_t*>_addr(a, "pl_lazy", np.int32)
        s.pl_seg_pdel = <const int32_t*>_addr(a, "pl_seg_pdel", np.int32)
        s.pl_pg_lazy = <const int32_t*>_addr(a, "pl_pg_lazy", np.int32)
        s.pl_chan_neuron = <const int32_t*>_addr(a, "pl_chan_neuron", np.int32)
        cn = a["pl_chan_neuron"]
        s.pl_chan_is_neuron = 1 if ((cn < 0) | (cn == np.arange(cn.shape[0]))).all() else 0
        s.pl_chan_distinct = 1 if segments_rise(a["pl_chan"], a["pl_seg_start"]) else 0
        s.pl_nin = <const int32_t*>_addr(a, "pl_nin", np.int32)
        s.pl_hist_len = a["pl_hist_len"]
        s.pl_hist_dmax = a["pl_hist_dmax"]
        s.pl_hist = <int64_t*>_addr(a, "pl_hist", np.int64)
        s.pl_hpos = <sc_hist_pos*>_addr(a, "pl_hpos", np.int64)
        s.pl_pdone = <uint8_t*>_addr(a, "pl_pdone", np.uint8)
        s.pl_fast = <const int32_t*>_addr(a, "pl_fast", np.int32)
        s.pl_fast_proj = <const int32_t*>_addr(a, "pl_fast_proj", np.int32)
        s.pl_nin_slow = <const int32_t*>_addr(a, "pl_nin_slow", np.int32)
        s.n_pl_fast = a["pl_fast_proj"].shape[0]
        s.pl_fast_nrn_ptr = <const int64_t*>_addr(a, "pl_fast_nrn_ptr", np.int64)
        s.pl_fast_nrn = <const int32_t*>_addr(a, "pl_fast_nrn", np.int32)
        if (a["pl_fast_nrn_ptr"].shape[0] != s.n_parts + 1
                or ((a["pl_fast_nrn"] < 0) | (a["pl_fast_nrn"] >= s.n_neurons)).any()
                or a["pl_fast_nrn_ptr"][s.n_parts] != a["pl_fast_nrn"].shape[0]):
            raise ValueError("shared-trace target lists of the wrong size")
        s.pl_seg_x = <void*>_addr(a, "pl_seg_x", real)
        s.pl_seg_last = <int64_t*>_addr(a, "pl_seg_last", np.int64)
        s.pl_seg_from = <int64_t*>_addr(a, "pl_seg_from", np.int64)
        s.pl_fpost = <void*>_addr(a, "pl_fpost", np.int64)
        s.pl_fast_done = <int64_t*>_addr(a, "pl_fast_done", np.int64)
        if (a["pl_fast"].shape[0] != len(rules) or a["pl_seg_x"].shape[0] != s.n_pl_seg
                or a["pl_seg_last"].shape[0] != s.n_pl_seg or a["pl_seg_from"].shape[0] != s.n_pl_seg
                or a["pl_fpost"].shape[0] != 8 * s.n_pl_fast * s.n_neurons
                or a["pl_fast_done"].shape[0] != 8 * s.n_parts or a["pl_nin_slow"].shape[0] != s.n_neurons):
            raise ValueError("shared-trace plastic arrays of the wrong size")
        H = s.pl_hist_len
        # per-synapse state (traces, last event, pdone) only where a projection is not laid out
        # with shared traces (all are: the weight alone per synapse)
        own_state = 0 if a["pl_fast"].all() else 1
        if (a["pl_lazy"].shape[0] != len(rules) or a["pl_seg_pdel"].shape[0] != s.n_pl_seg
                or a["pl_pg_lazy"].shape[0] != a["pl_pg_delay"].shape[0] or a["pl_chan_neuron"].shape[0] != s.n_channels
                or a["pl_nin"].shape[0] != s.n_neurons or a["pl_hpos"].shape[0] != 4 * s.n_neurons or sizeof(sc_hist_pos) != 32
                or H < 1 or (H & (H - 1)) or a["pl_hist"].shape[0] != H * s.n_neurons
                or s.pl_hist_dmax < 0 or s.pl_hist_dmax >= H
                or a["pl_pdone"].shape[0] != own_state * a["pl_w"].shape[0]
                or (a["pl_pg_lazy"].any() and H <= a["pl_pg_delay"].max())):
            raise ValueError("inconsistent lazy postsynaptic arrays")
        if (a["pl_seg_dend"].shape[0] != s.n_pl_seg or a["pl_pg_ptr"].shape[0] != a["pl_post_ptr"].shape[0]
                or a["pl_pqofs"].shape[0] != s.n_parts or a["pl_pqcap"].shape[0] != s.n_parts):
            raise ValueError("inconsistent plastic post-group arrays")
        n_syn = a["pl_w"].shape[0]
        if (a["pl_seg_ptr"].shape[0] != s.n_parts * (s.n_pre + 1) or a["pl_seg_start"].shape[0] != s.n_pl_seg + 1
                or a["pl_post_ptr"].shape[0] != s.n_neurons + 1 or a["pl_qn"].shape[0] != s.n_parts * s.ring_len
                or any(a[k].shape[0] != n_syn for k in ("pl_chan", "pl_syn_proj"))
                or a["pl_last"].shape[0] != own_state * n_syn
                or a["pl_state"].shape[0] != own_state * n_syn * a["pl_nstate"]
                or a["pl_param_start"].shape[0] != len(rules) or a["pl_sparse"].shape[0] != len(rules)):
            raise ValueError("plastic synapse arrays do not match the layout")
        if a["pl_sparse"].any() and not a["mark"].size:
            raise ValueError("plastic synapses onto synaptic variables need the sparse-fold arrays")

    def modulate(self, int32_t q, int64_t[::1] syn, int64_t n, double value, bint set_value):
        """A modulator event at step n on synapses ``syn`` of plastic projection q (a spike,
        or with ``set_value`` the signal taking ``value``); between runs."""
        if q < 0 or q >= self.arrays["pl_modf"].shape[0] or self.arrays["pl_modf"][q] == 0:
            raise ValueError(f"plastic projection {q} has no modulator function")
        if syn.shape[0] == 0:
            return
        if self.single:
            sc_modulate_f32(&self.net, q, &syn[0], syn.shape[0], n, value, set_value)
        else:
            sc_modulate_f64(&self.net, q, &syn[0], syn.shape[0], n, value, set_value)

    def settle_plastic(self):
        """Apply the postsynaptic updates still pending before the next step to run
        (sc_plastic_settle): afterwards the plastic weights and traces are those the eager
        updates would have left there. Before anything reads them."""
        cdef int64_t n = self.reached
        if self.net.n_pl_seg == 0:
            return
        with nogil:
            if self.single:
                sc_plastic_settle_f32(&self.net, n)
            else:
                sc_plastic_settle_f64(&self.net, n)

    def run(self, int64_t n0, int64_t n1, int64_t[::1] out_step, int32_t[::1] out_idx, int64_t out_n,
            double[::1] rec_out, int64_t[::1] rec_pos):
        """Step from n0 towards n1; returns (next step, spikes recorded so far).

        Stops early, before a step, when out_step could overflow in that step;
        the caller grows the buffers and calls again from the returned step."""
        cdef int64_t done, total = out_n, cap = out_step.shape[0]
        cdef double* rec = &rec_out[0] if rec_out.shape[0] else NULL
        cdef int64_t* pos = &rec_pos[0] if rec_pos.shape[0] else NULL
        if out_idx.shape[0] < cap:
            raise ValueError("spike buffers of different sizes")
        if cap < self.n_neurons * self.net.window:
            raise ValueError("spike buffer smaller than one window's worth of spikes")
        with nogil:
            if self.single:
                done = sc_run_f32(&self.net, n0, n1, &out_step[0], &out_idx[0], &total, cap, rec, pos)
            else:
                done = sc_run_f64(&self.net, n0, n1, &out_step[0], &out_idx[0], &total, cap, rec, pos)
        if done == -2:
            raise RuntimeError(f"OpenMP started fewer than the {self.n_threads} threads this network was laid out for")
        if done < 0:
            raise MemoryError("could not allocate the engine's per-run scratch buffers")
        self.reached = done
        return done, total

    def poisson_counts(self, int64_t n, int64_t k0, int64_t k1):
        """Counts of Poisson neurons [k0, k1) (indices among all Poisson neurons) at step n."""
        if not (0 <= k0 <= k1 <= self.net.n_pois):
            raise ValueError("Poisson neuron range out of bounds")
        out = np.zeros(k1 - k0, np.uint16)
        cdef uint16_t[::1] o = out
        if k1 > k0:
            sc_poisson_counts(&self.net, n, k0, k1, &o[0])
        return out

    @property
    def thread_cpu(self):
        """CPU seconds each thread has spent stepping, over all calls (a copy)."""
        return self.arrays["thread_cpu"].copy()

    @property
    def pin_threads(self):
        """Whether a team of threads runs pinned, one thread per CPU of the calling thread's
        affinity mask, for each run call (never where the mask has fewer CPUs than threads,
        or where OMP_PROC_BIND, OMP_PLACES or GOMP_CPU_AFFINITY is set: then OpenMP places
        them as told). Default False, wherever the OS puts them: on a loaded machine pinned
        teams were slower in 7 of 10 same-minute comparisons (a pinned thread cannot leave a
        CPU another process uses), although unpinned teams were found sharing one CPU for
        whole runs (benchmarks/RESULTS.md, round 5); an idle machine decides."""
        return bool(self.net.pin_threads)

    @pin_threads.setter
    def pin_threads(self, bint value):
        self.net.pin_threads = value

    @property
    def split(self):
        """How a team shares the layout's parts out, window by window (sc_split in _kernel.c):
        "adaptive" (the default: the faster thread takes more parts, by the measured ticks per
        neuron of each thread), "even" (the even split, always: a baseline for benchmarks) or
        "cycle" (a different split at every window: tests show that the results do not change)."""
        return SPLIT_MODES[self.net.split_mode]

    @split.setter
    def split(self, str value):
        if value not in SPLIT_MODES:
            raise ValueError(f"split {value!r}: expected one of {', '.join(SPLIT_MODES)}")
        self.net.split_mode = SPLIT_MODES.index(value)

    def profile_windows(self, int64_t windows):
        """Profile the next ``windows`` windows of each thread (0: stop profiling): per window,
        the ticks spent in the phases of _kernel.h's SC_PH_* (own steps, barrier wait, drawing
        ahead while waiting, delivery of the window's spikes) and the CPU the thread ran on.
        Read them with phase_profile and phase_cpus."""
        if windows < 0:
            raise ValueError("negative number of windows")
        if windows == 0:
            self.net.ph_log = NULL
            self.net.ph_n = NULL
            self.net.ph_cap = 0
            return
        self._ph_log = np.zeros(self.n_threads * windows * SC_PH_N, np.int64)
        self._ph_n = np.zeros(self.n_threads * 8, np.int64)
        self.net.ph_log = <int64_t*><size_t>self._ph_log.ctypes.data
        self.net.ph_n = <int64_t*><size_t>self._ph_n.ctypes.data
        self.net.ph_cap = windows

    def _phase_log(self):
        if self.net.ph_cap == 0:
            return np.zeros((self.n_threads, 0, SC_PH_N), np.int64)
        n = int(min(self._ph_n[::8].min(), self.net.ph_cap))
        return self._ph_log.reshape(self.n_threads, self.net.ph_cap, SC_PH_N)[:, :n]

    def phase_profile(self):
        """The profiled windows so far as ns, shape (threads, windows, 4): own steps, barrier
        wait, drawing ahead during the wait, delivery (profile_windows)."""
        return self._phase_log()[:, :, :4] * self.tick_ns

    def phase_cpus(self):
        """The CPU each thread ran on at the end of each profiled window, shape (threads,
        windows); -1 where the OS does not tell (profile_windows)."""
        return self._phase_log()[:, :, SC_PH_CPU].copy()

    def phase_parts(self):
        """How many of the layout's parts each thread ran in each profiled window, shape
        (threads, windows): the team's split (sc_split in _kernel.c) as it moved."""
        return self._phase_log()[:, :, SC_PH_PARTS].copy()

    @property
    def tick_ns(self):
        """ns per tick of the profile's clock (sc_ticks), measured once against perf_counter."""
        global _TICK_NS
        if _TICK_NS is None:
            import time
            t0, k0 = time.perf_counter(), sc_ticks()
            while time.perf_counter() - t0 < 0.02:
                pass
            t1, k1 = time.perf_counter(), sc_ticks()
            _TICK_NS = (t1 - t0) * 1e9 / max(1, k1 - k0)
        return _TICK_NS

    def resume_at(self, int64_t step):
        """Continue from ``step`` after a restore: lazy plastic updates settle up to it
        (``reached``), not up to where this kernel had run before."""
        if step < 0:
            raise ValueError("negative step")
        self.reached = step

    @property
    def ev_ptr(self):
        """The next spike-source event to deliver (persists between calls; set by a restore)."""
        return self.net.ev_ptr

    @ev_ptr.setter
    def ev_ptr(self, int64_t value):
        if not (0 <= value <= self.net.n_ev):
            raise ValueError("event pointer out of range")
        self.net.ev_ptr = value
