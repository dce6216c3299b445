# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernel of the native engine's precise-timing mode: spike times off the time grid.

Continuous-time semantics (Morrison et al. 2007, Hanuschkin et al. 2010; NEST's
``iaf_psc_delta_ps`` / ``iaf_psc_exp_ps``): every spike carries a time inside its step.
Step n covers the interval (n*dt, (n+1)*dt]; a time inside it is the step plus an
*offset* in (0, dt]. Synaptic events take effect at their exact arrival time, threshold
crossings are located inside the step, refractory periods end at their exact time.
Delays are >= dt, so nothing emitted in step n arrives before step n+1 and the neurons
of one step can be advanced independently.

Per neuron and step there are two paths:

* fast path (vectorised, _precise_fast.h): the end-of-step state is the free
  (input-less) propagation of the grid engine plus, by superposition, each event's exact
  contribution ``w*F(dt - offset)``, summed per neuron (one exp per spike and distinct
  time constant, shared by all its targets, and for off-grid delays one stored
  per-synapse factor). It is taken when an upper bound of v over the step stays below
  threshold:
    delta: max(v(0), v_free(dt)) + sum of positive jumps       (v_free is monotone),
           the jumps bounded by e^{dt/tau_m} times the sum of w*F over positive w;
    cuba:  max(v(0), v_leak(dt)) + sum_k max(s_k, 0) Kmax_k + sum_k P_k Kmax_k, with
           v_leak the leak part of the free solution, P_k the positive weight arriving on
           receptor k and Kmax_k >= 0 the peak over [0, dt] of its kernel
           coef_k(s) = tau_k/(tau_k - tau_m)(e^{-s/tau_k} - e^{-s/tau_m}) >= 0;
           where that fails, the tighter max(v(0), v_free(dt)) + M dt^2/8 + sum_k P_k Kmax_k
           with M >= |v_free''| (from tau_m v'' = J' - v', J = drive + sum syn,
           |v'| <= range(v, J)/tau_m).
* slow path (bound reached, refractory period or current change inside the step; C,
  _precise_replay.h: pc_collect_and_replay, pc_replay_neuron): the neuron's events are collected,
  sorted by offset and the state is propagated exactly from event to event.
  Between events a crossing is found
    delta: in closed form, t = tau_m log((J - v)/(J - v_th)) (v is monotone there);
    cuba:  by a bisection on the curvature bound that discards subintervals that cannot
           reach threshold (so a crossing that dips back below threshold before the next
           event is still found, unlike iaf_psc_exp_ps), then safeguarded Newton on the
           exact propagator to PC_ROOT_XTOL once v is provably rising on the bracket.
  A neuron whose refractory period ends inside the step and provably stays below
  threshold after it (v_reset's free course plus the later jumps; for cuba, in a step
  without events, plus sum_k max(s_k, 0) Kmax_k) takes the closed form, without the walk.

Queues: a spike is queued once per synapse group (its synapses of one whole-step delay
and one target receptor), not once per synapse, and added to its targets' sums when it
arrives (_deliver); the slow path finds a neuron's events by scanning the groups due in
the step. Synapses with off-grid delays queue one event each.
Poisson spikes are not queued at all: their offsets are a counter-based function of
(step, source, index), so the slow path redraws those its neuron received. Their per-step
counts are drawn here too, in C, with the grid engine's code for the stream of
spikecore.ir.poisson_counts (_poisson_stream.h, shared with _kernel.c).

Threshold: a spike when v >= v_threshold (NEST's convention; for a continuous crossing
it is the same time as the grid engine's strict ``>``). Events at one instant are all
applied before the threshold is checked; a refractory period ending at an instant ends
before that instant's events (NEST's slice_ring_buffer order). Delta inputs arriving
while refractory are discarded; synaptic variables of cuba neurons keep evolving.

What is here and what is C: the arithmetic of both paths is C (_precise_fast.h: the
fast path's loops, Poisson counts and offsets, exp tables; _precise_replay.h: the slow
path, collecting the replayed neurons' events and replaying each, and the one growable
buffer type pc_buf). This class holds the kernel's state (typed views of
spikecore.engine.precise_records, set once by the constructor, and its C buffers) and
the step's plumbing around the two: refractory ends, state samples, current changes,
queuing (_push, _scatter, _add_grid), delivery (_deliver), the Poisson sources
(_poisson) and the fast path's dispatch per population (_fast). Why that part is still
Cython, and this file over 800 lines: it reads most of the 100-odd typed fields of this
one final class; one cdef class cannot be split across modules, and moving the
queuing to C would mean a C struct mirroring those fields too (as pc_replay does for the
slow path's 60) for no change in the generated code.
"""
from libc.math cimport exp, expm1, INFINITY, isnan
from libc.stdint cimport int64_t, int32_t, uint64_t, uint16_t, uint8_t
from libc.stdlib cimport malloc, realloc, free, calloc
from libc.string cimport memset

cdef extern from "<stdlib.h>" nogil:
    void* aligned_alloc(size_t alignment, size_t size)     # C11

import numpy as np

# For spikecore.engine.precise: ref_end_step of a neuron that is not refractory; the
# kernel's two algorithms (voltage jumps, exponential current synapses); the receptors per
# population the replay holds on its stack.
NO_REFRACTORY_STEP = PC_NO_REFRACTORY
KIND_JUMP, KIND_CURRENT = PC_MODEL_DELTA, PC_MODEL_CUBA
MAX_RECEPTORS = PC_MAX_RECEPTORS


cdef class PreciseKernel:
    def __cinit__(self):
        self.acc = NULL
        self.acc_base = NULL
        self.flags_base = NULL
        self.slots = NULL
        self.cand = NULL
        self.etab = NULL
        self.inv_tau = NULL
        self.exptab = NULL
        self.pring = NULL
        self.p_other = NULL
        self.p_other_q = NULL
        self.ps_xs = NULL
        self.ps_aoff = NULL
        self.pin = NULL
        self.slow = NULL
        self.slow_cnt = NULL
        self.slowc = NULL
        self.slowmark = NULL
        self.scan_out = NULL
        self.rec_nslow = NULL
        self.drv_first = NULL
        self.rlist = NULL
        self.rin = NULL
        self.ring_len = 0
        # (the growable buffers, pc_buf, start empty: the object's memory is zeroed)

    def __init__(self, layout):
        """``layout``: a spikecore.engine.precise_records.PreciseLayout; the kernel views its
        arrays (no copies: v, syn, drive and the refractory ends change in place)."""
        cdef int64_t k
        pops, recs, sums, state = layout.pops, layout.receptors, layout.sums, layout.state
        syns, og, pin, dale = layout.synapses, layout.off_grid, layout.poisson_synapses, layout.dale
        single, ev, cur, pois = layout.single_poisson, layout.spike_sources, layout.currents, layout.poisson
        rec = layout.recording
        cdef double dt = layout.dt
        cdef int64_t ring_len = layout.ring_len
        self.dt = dt
        self.ring_len = ring_len
        self.pop_model = pops.model
        self.pop_start = pops.start
        self.pop_size = pops.size
        self.pop_n_rec = pops.n_rec
        self.pop_rec_start = pops.rec_start
        self.pop_chan_start = pops.chan_start
        self.pop_ref_steps = pops.ref_steps
        self.pop_vth = pops.vth
        self.pop_vreset = pops.vreset
        self.pop_tm = pops.tm
        self.pop_am = pops.am
        self.pop_ref_rem = pops.ref_rem
        self.pop_dale = dale.pop_dale
        self.pop_drive_uniform = cur.pop_uniform
        self.pop_pos_gain = dale.pop_pos_gain
        self.rec_tk = recs.tk
        self.rec_ak = recs.ak
        self.rec_coef_h = recs.coef_h
        self.rec_kmax = recs.kmax
        self.rec_ck = recs.ck
        self.rec_delta = recs.delta
        self.rec_near = recs.near
        self.rec_um = recs.um
        self.rec_uk = recs.uk
        self.rec_model = recs.model
        self.rec_vstride = sums.vstride
        self.rec_voff = sums.voff
        self.rec_pstep = sums.pstep
        self.rec_soff = sums.soff
        self.pop_acc = sums.pop_acc
        self.rec_dale = dale.rec_dale
        self.chan_rec = layout.channels.rec
        self.tau_u = recs.tau_u
        self.tau_hdecay = recs.tau_hdecay
        self.v = state.v
        self.syn = state.syn
        self.drive = cur.drive
        self.ref_end_step = state.ref_end_step
        self.ref_end_off = state.ref_end_off
        self.neuron_pop = state.neuron_pop
        self.pre_grp = syns.pre_grp
        self.grp_start = syns.grp_start
        self.grp_dsteps = syns.grp_dsteps
        self.grp_offgrid = syns.grp_offgrid
        self.grp_rec = syns.grp_rec
        self.grp_w = syns.grp_w
        self.syn_chan = syns.chan
        self.syn_chan16 = syns.chan16
        self.chan16 = self.syn_chan16.shape[0] > 0
        self.syn_dsteps = syns.dsteps
        self.syn_weight = syns.weight
        self.syn_rem = og.rem
        self.syn_gm = og.gm
        self.syn_gk = og.gk
        self.pin_ptr = pin.ptr
        self.ev_step = ev.step
        self.ev_off = ev.off
        self.ev_pre = ev.pre
        self.drv_step = cur.step
        self.drv_off = cur.off
        self.drv_delta = cur.delta
        self.drv_neuron = cur.neuron
        self.pois_start = pois.start
        self.pois_stop = pois.stop
        self.pn_first = pois.pn_first
        self.pn_size = pois.pn_size
        self.pn_seed = pois.pn_seed
        self.pn_toff = pois.pn_toff
        self.pn_tlen = pois.pn_tlen
        self.pt_off = pois.pt_off
        self.pt_len = pois.pt_len
        self.pcdf = pois.cdf
        self.n_pnodes = self.pn_first.shape[0]
        self.pois_windowed = bool(np.any(np.asarray(pois.start) > 0.0) or np.any(np.isfinite(pois.stop)))
        self.ps_target = single.target
        self.ps_weight = single.weight
        self.ps_dsteps = single.dsteps
        self.ps_um = single.um
        self.rec_kind = rec.kind
        self.rec_idx = rec.idx
        self.rec_every = rec.every
        self.pois_base = pois.base
        self.n_pois = pois.n
        self.n_pops = self.pop_model.shape[0]
        self.n_recs = self.rec_tk.shape[0]
        self.n_neurons = self.v.shape[0]
        self.n_channels = self.syn.shape[0]
        self.n_taus = self.tau_u.shape[0]
        self.has_rem = self.syn_rem.shape[0] > 0
        if self.has_rem and self.syn_rem.shape[0] != self.syn_weight.shape[0]:
            raise ValueError("syn_rem must be empty or one value per synapse")
        if self.pre_grp.shape[0] != self.pois_base + self.n_pois + 1:
            raise ValueError("pre_grp must hold one group range per presynaptic index")
        if self.pin_ptr.shape[0] != self.n_neurons + 1:
            raise ValueError("pin_ptr must hold one range per neuron")
        if self.n_pnodes and (self.pn_size.shape[0] != self.n_pnodes or self.pn_seed.shape[0] != self.n_pnodes
                              or self.pn_toff.shape[0] != self.n_pnodes or self.pn_tlen.shape[0] != self.n_pnodes
                              or self.pt_off.shape[0] != self.n_pois or self.pt_len.shape[0] != self.n_pois
                              or int(np.sum(pois.pn_size)) != self.n_pois):
            raise ValueError("Poisson node arrays must cover the n_pois Poisson neurons")
        if ring_len < 2:
            raise ValueError("ring_len must be >= 2")
        self.ev_ptr = 0
        self.drv_ptr = 0
        self.slow_neuron_steps = 0
        st = np.asarray(pois.offset_key, dtype=np.uint64)
        if st.shape[0] != 4 or not st.any():
            raise ValueError("the Poisson offset key must be 4 uint64 words, not all zero")
        self.pois_key = <uint64_t>int(st[0] ^ st[1] ^ st[2] ^ st[3])
        cdef int64_t N = max(self.n_neurons, 1), C = max(self.n_channels, 1)
        cdef int64_t U = max(self.n_taus, 1), R = max(self.n_recs, 1)
        self.acc_slot = max(int(sums.slot), 1)
        # page-aligned, then sums.acc_offset bytes in (precise.place_fast_path_arrays)
        cdef size_t acc_bytes = ring_len * self.acc_slot * sizeof(double) + PAGE_BYTES
        cdef size_t acc_offset = (int(sums.acc_offset) % PAGE_BYTES) & ~(<size_t>7)
        self.acc_base = aligned_alloc(PAGE_BYTES, ((acc_bytes + PAGE_BYTES - 1) // PAGE_BYTES) * PAGE_BYTES)
        if self.acc_base != NULL:
            memset(self.acc_base, 0, acc_bytes)
        self.acc = <double*>(<char*>self.acc_base + acc_offset)
        cdef size_t flags_offset = (int(sums.flags_offset) % PAGE_BYTES) & ~(<size_t>7)
        self.flags_base = aligned_alloc(PAGE_BYTES, 2 * PAGE_BYTES)
        self.flags = <int64_t*>(<char*>self.flags_base + flags_offset)
        self.slots = <pc_slot*>calloc(ring_len, sizeof(pc_slot))
        self.cand = <int32_t*>malloc(N * sizeof(int32_t))
        self.etab = <double*>calloc(U * PUSH_BATCH, sizeof(double))
        self.inv_tau = <double*>calloc(U, sizeof(double))
        self.pring = <uint16_t*>calloc(ring_len * max(self.n_pois, 1), sizeof(uint16_t))
        self.slow = <int32_t*>malloc(N * sizeof(int32_t))
        self.slow_cnt = <int64_t*>malloc((N + 1) * sizeof(int64_t))
        self.slowc = <int32_t*>malloc(C * sizeof(int32_t))
        self.slowmark = <uint8_t*>calloc(max(C, 1), sizeof(uint8_t))
        gsz = np.diff(np.asarray(self.grp_start))
        self.scan_out = <int64_t*>malloc(max(int(gsz.max()) if gsz.size else 1, 1) * sizeof(int64_t))
        self.rec_nslow = <int64_t*>calloc(R, sizeof(int64_t))
        self.drv_first = <int64_t*>malloc(N * sizeof(int64_t))
        self.rlist = <int32_t*>malloc(N * sizeof(int32_t))
        self.rin = <char*>calloc(N, sizeof(char))
        self.rl_n = 0
        self.p_other = <int32_t*>malloc(max(self.n_pois, 1) * sizeof(int32_t))
        self.p_other_q = <int64_t*>malloc(max(self.n_pois, 1) * sizeof(int64_t))
        if (self.acc_base == NULL or self.flags_base == NULL or self.slots == NULL or self.cand == NULL or self.etab == NULL
                or self.inv_tau == NULL or self.pring == NULL or self.slow == NULL or self.slow_cnt == NULL
                or self.slowc == NULL or self.slowmark == NULL or self.scan_out == NULL or self.rec_nslow == NULL
                or self.drv_first == NULL or self.rlist == NULL or self.rin == NULL
                or self.p_other == NULL or self.p_other_q == NULL
                or pc_reserve(&self.spikes, 1024, sizeof(pc_spike)) != 0 or pc_reserve(&self.events, 1024, sizeof(pc_event)) != 0
                or pc_reserve(&self.hits, 1024, sizeof(pc_hit)) != 0 or self._p_reserve(1024) != 0):
            raise MemoryError("precise kernel: cannot allocate its buffers")
        for k in range(self.n_taus):
            self.inv_tau[k] = 1.0 / self.tau_u[k]
        cdef int64_t[::1] pin_syn = pin.syn
        cdef int32_t[::1] pin_src = pin.src, pin_chan = pin.chan, pin_dsteps = pin.dsteps
        cdef double[::1] pin_w = pin.w, pin_rem = pin.rem
        cdef int64_t n_pin = pin_syn.shape[0]
        self.pin = <pc_pin*>aligned_alloc(64, ((max(n_pin, 1) * sizeof(pc_pin) + 63) // 64) * 64)
        if self.pin == NULL:
            raise MemoryError("precise kernel: cannot allocate its buffers")
        for k in range(n_pin):
            self.pin[k].w = pin_w[k]
            self.pin[k].rem = pin_rem[k]
            self.pin[k].syn = <int32_t>pin_syn[k]
            self.pin[k].src = pin_src[k]
            self.pin[k].chan = pin_chan[k]
            self.pin[k].dsteps = pin_dsteps[k]
        self.ps_xs = <double*>malloc(max(self.n_pois, 1) * sizeof(double))
        self.ps_aoff = <int64_t*>malloc(max(self.n_pois, 1) * sizeof(int64_t))
        if self.ps_xs == NULL or self.ps_aoff == NULL:
            raise MemoryError("precise kernel: cannot allocate its buffers")
        for k in range(self.n_pois):
            self.ps_xs[k] = pc_poisson_xscale(dt, self.inv_tau[self.ps_um[k]]) if self.n_taus else 0.0
            # the target's positive or negative sum (pc_delta_block), by the weight's sign
            self.ps_aoff[k] = (self.ps_dsteps[k] * self.acc_slot + self.ps_target[k] + (self.ps_weight[k] < 0.0)
                               if self.ps_target[k] >= 0 else -1)
        # queuing a spike needs exp(-x) for x in [0, dt/tau]: a table plus a short polynomial
        # (Poisson spikes, one per event, made libm's exp the largest cost of queuing)
        self.exptab_n = <int64_t>(dt / min(self.tau_u) * PC_EXP_SCALE) + 2 if self.n_taus else 0
        # Poisson factors by a polynomial alone where the range allows (pc_poisson_factor)
        self.pois_poly = 0
        if self.n_taus > 0 and dt / min(self.tau_u) <= PC_EXP_POLY5_MAX:
            self.pois_poly = 5
        elif self.n_taus > 0 and dt / min(self.tau_u) <= PC_EXP_POLY8_MAX:
            self.pois_poly = 8
        if 0 < self.exptab_n <= EXP_TABLE_MAX:
            self.exptab = <double*>malloc(self.exptab_n * sizeof(double))
            if self.exptab == NULL:
                raise MemoryError("precise kernel: cannot allocate its exp table")
            for k in range(self.exptab_n):
                self.exptab[k] = exp(-<double>k / PC_EXP_SCALE)
        for k in range(N):
            self.drv_first[k] = -1
        for k in range(C):
            self.slowc[k] = -1
        self._set_replay()

    cdef void _set_replay(self):
        """Point the slow path's view (pc_replay) at the arrays (all allocated by now)."""
        cdef pc_replay* R = &self.replay
        R.dt = self.dt
        R.pop_model = &self.pop_model[0]
        R.pop_start = &self.pop_start[0]
        R.pop_size = &self.pop_size[0]
        R.pop_n_rec = &self.pop_n_rec[0]
        R.pop_rec_start = &self.pop_rec_start[0]
        R.pop_chan_start = &self.pop_chan_start[0]
        R.pop_ref_steps = &self.pop_ref_steps[0]
        R.pop_vth = &self.pop_vth[0]
        R.pop_vreset = &self.pop_vreset[0]
        R.pop_tm = &self.pop_tm[0]
        R.pop_ref_rem = &self.pop_ref_rem[0]
        R.rec_tk = &self.rec_tk[0]
        R.rec_ck = &self.rec_ck[0]
        R.rec_delta = &self.rec_delta[0]
        R.rec_kmax = &self.rec_kmax[0]
        R.rec_near = &self.rec_near[0]
        R.chan_rec = &self.chan_rec[0]
        R.v = &self.v[0]
        R.syn = &self.syn[0]
        R.drive = &self.drive[0]
        R.ref_end_off = &self.ref_end_off[0]
        R.ref_end_step = &self.ref_end_step[0]
        R.neuron_pop = &self.neuron_pop[0]
        R.drv_step = &self.drv_step[0]
        R.drv_off = &self.drv_off[0]
        R.drv_delta = &self.drv_delta[0]
        R.drv_neuron = &self.drv_neuron[0]
        R.n_drv = self.drv_step.shape[0]
        R.drv_first = self.drv_first
        R.exptab = self.exptab
        R.exptab_n = self.exptab_n
        R.pre_grp = &self.pre_grp[0]
        R.grp_start = &self.grp_start[0]
        R.grp_offgrid = &self.grp_offgrid[0]
        R.grp_rec = &self.grp_rec[0]
        R.syn_chan = &self.syn_chan[0]
        R.grp_w = &self.grp_w[0]
        R.syn_weight = &self.syn_weight[0]
        R.syn_chan16 = &self.syn_chan16[0] if self.chan16 else NULL
        R.chan16 = self.chan16
        R.slots = self.slots
        R.ring_len = self.ring_len
        R.pin = self.pin
        R.pin_ptr = &self.pin_ptr[0]
        R.n_pois = self.n_pois
        R.pring = self.pring
        R.pois_key = self.pois_key
        R.pois_windowed = self.pois_windowed
        R.pois_start = &self.pois_start[0]
        R.pois_stop = &self.pois_stop[0]
        R.slow = self.slow
        R.slow_cnt = self.slow_cnt
        R.slowc = self.slowc
        R.slowmark = self.slowmark
        R.rec_nslow = self.rec_nslow
        R.scan_out = self.scan_out
        R.hits = &self.hits
        R.events = &self.events
        R.rlist = self.rlist
        R.rin = self.rin
        R.rl_n = &self.rl_n

    def __dealloc__(self):
        cdef int64_t k
        if self.slots != NULL:
            for k in range(self.ring_len):
                pc_release(&self.slots[k].ev)
                pc_release(&self.slots[k].en)
            free(self.slots)
        free(self.acc_base)
        free(self.flags_base)
        free(self.cand)
        pc_release(&self.events)
        pc_release(&self.spikes)
        pc_release(&self.hits)
        free(self.etab)
        free(self.inv_tau)
        free(self.exptab)
        free(self.pring)
        pc_release(&self.p_off)
        pc_release(&self.p_uu)
        pc_release(&self.p_src)
        pc_release(&self.p_idx)
        pc_release(&self.p_fac)
        free(self.p_other)
        free(self.p_other_q)
        free(self.ps_xs)
        free(self.ps_aoff)
        free(self.pin)
        free(self.slow)
        free(self.slow_cnt)
        free(self.slowc)
        free(self.slowmark)
        free(self.scan_out)
        free(self.rec_nslow)
        free(self.drv_first)
        free(self.rlist)
        free(self.rin)

    # -- Python entry points ---------------------------------------------------------
    def run(self, int64_t n0, int64_t n1, double[::1] rec_out, int64_t[::1] rec_pos):
        """Advance steps [n0, n1). Spikes accumulate in the kernel; fetch them with take_spikes()."""
        cdef int64_t n
        cdef int rc = 0
        with nogil:
            # spike-source spikes emitted before n0 (a spike at t = 0 belongs to step -1)
            while rc == 0 and self.ev_ptr < self.ev_step.shape[0] and self.ev_step[self.ev_ptr] < n0:
                rc = self._push(self.ev_pre[self.ev_ptr], self.ev_step[self.ev_ptr], &self.ev_off[self.ev_ptr], 1, True)
                self.ev_ptr += 1
            n = n0
            while rc == 0 and n < n1:
                rc = self._step(n, rec_out, rec_pos)
                n += 1
            self._restore_clamped(n)
        if rc != 0:
            raise MemoryError("precise kernel: out of memory while queuing events")
        return n1

    def poisson_counts(self, int64_t n):
        """Counts (uint16, one per Poisson neuron) of step n as the kernel draws them (for tests:
        they must equal spikecore.ir.poisson_counts with the sources' windows open)."""
        out = np.zeros(self.n_pois, np.uint16)
        cdef uint16_t[::1] ov = out
        if self.n_pois:
            self._draw_counts(n, &ov[0])
        return out

    def take_spikes(self):
        """(steps int64, offsets float64 s, neuron indices int32) emitted since the last call."""
        cdef int64_t k, m = self.spikes.n
        cdef const pc_spike* sp = <pc_spike*>self.spikes.data
        steps = np.empty(m, np.int64)
        offs = np.empty(m, np.float64)
        idx = np.empty(m, np.int32)
        cdef int64_t[::1] sv = steps
        cdef double[::1] ov = offs
        cdef int32_t[::1] iv = idx
        for k in range(m):
            sv[k] = sp[k].step
            ov[k] = sp[k].off
            iv[k] = sp[k].idx
        self.spikes.n = 0
        return steps, offs, idx

    def queued_events(self):
        """Number of queue records waiting (spikes by synapse group, events of off-grid synapses);
        Poisson spikes are never queued. For tests and diagnostics."""
        cdef int64_t k, total = 0
        for k in range(self.ring_len):
            total += self.slots[k].ev.n + self.slots[k].en.n
        return total

    # -- one step --------------------------------------------------------------------
    cdef int _step(self, int64_t n, double[::1] rec_out, int64_t[::1] rec_pos) noexcept nogil:
        cdef pc_slot* sl = &self.slots[n % self.ring_len]
        cdef int64_t e, i, q, drv_end, n_slow = 0, first_spike
        cdef pc_spike* sp

        # 0. refractory neurons (_refractory): v_reset back where the last fast path moved it
        self._refractory(n)

        # 1. state monitors sample at the start of the step (t = n*dt)
        for e in range(self.rec_kind.shape[0]):
            if n % self.rec_every[e] == 0:
                if self.rec_kind[e] == PRECORD_V:
                    rec_out[rec_pos[e]] = self.v[self.rec_idx[e]]
                else:
                    rec_out[rec_pos[e]] = self.syn[self.rec_idx[e]]
                rec_pos[e] += 1

        # 2. current changes inside this step send their neurons down the slow path (via
        # acc_p = +inf in step 3); a neuron clamped all step just takes its new drive
        while self.drv_ptr < self.drv_step.shape[0] and self.drv_step[self.drv_ptr] < n:
            self.drv_ptr += 1
        q = self.drv_ptr
        while q < self.drv_step.shape[0] and self.drv_step[q] == n:
            i = self.drv_neuron[q]
            if self.ref_end_step[i] > n:
                self.drive[i] += self.drv_delta[q]
            elif self.drv_first[i] < 0:
                self.drv_first[i] = q
            q += 1
        drv_end = q

        # 3. fast path: neurons that may cross join the slow list. The synapse rows that the
        # slow path will scan (spikes due now, queued up to max-delay steps ago) start loading.
        self._deliver(n)
        if self._fast(n, &n_slow) != 0:
            return -1

        # 4. slow path: collect the replayed neurons' events, replay each exactly
        first_spike = self.spikes.n
        self.slow_neuron_steps += n_slow
        if n_slow > 0 and pc_collect_and_replay(&self.replay, &self.spikes, n, n_slow) != 0:
            return -1
        for q in range(self.drv_ptr, drv_end):
            self.drv_first[self.drv_neuron[q]] = -1
        self.drv_ptr = drv_end
        sl.ev.n = 0
        sl.en.n = 0

        # 5. queue what was emitted in this step: neurons, spike sources, Poisson sources
        sp = <pc_spike*>self.spikes.data
        for e in range(first_spike, self.spikes.n):
            if self._push(sp[e].idx, n, &sp[e].off, 1, True) != 0:
                return -1
        self._sort_step_spikes(first_spike)
        while self.ev_ptr < self.ev_step.shape[0] and self.ev_step[self.ev_ptr] <= n:
            if self._push(self.ev_pre[self.ev_ptr], self.ev_step[self.ev_ptr], &self.ev_off[self.ev_ptr], 1, True) != 0:
                return -1
            self.ev_ptr += 1
        if self.n_pois and self._poisson(n) != 0:
            return -1
        return 0

    cdef void _sort_step_spikes(self, int64_t first) noexcept nogil:
        """Order the spikes of this step (from ``first``, queued already) by offset, then
        neuron: the results are then in time order without a sort in Python (precise.py).
        Insertion sort: a step holds a handful of spikes, the slow list's neuron order."""
        cdef int64_t a, b
        cdef pc_spike* sp = <pc_spike*>self.spikes.data
        cdef pc_spike key
        for a in range(first + 1, self.spikes.n):
            key = sp[a]
            b = a - 1
            while b >= first and (sp[b].off > key.off or (sp[b].off == key.off and sp[b].idx > key.idx)):
                sp[b + 1] = sp[b]
                b -= 1
            sp[b + 1] = key

    cdef int _fast(self, int64_t n, int64_t* n_slow) noexcept nogil:
        """Fast path of every population (_precise_fast.h, which also clears the step's acc
        sums); fills the slow list, slowc and slowmark."""
        cdef int64_t L = self.ring_len
        cdef double* acc = self.acc + (n % L) * self.acc_slot
        cdef double* ab
        cdef int64_t p, q, j, r, i, nc, start, size, chan0, rec0, nr, local, c, ns = 0, pd
        cdef int32_t model, dale
        cdef double* v = &self.v[0]
        cdef double* syn = &self.syn[0] if self.n_channels else NULL
        # a current change inside the step makes the neuron's bound +inf (neurons clamped
        # all step are not in drv_first: step 2 gave them their new drive)
        for q in range(self.drv_ptr, self.drv_step.shape[0]):
            if self.drv_step[q] != n:
                break
            if self.drv_first[self.drv_neuron[q]] >= 0:
                self._force_slow(acc, self.drv_neuron[q])
        # (the fast path does not look at refractoriness: _refractory sent the neurons whose
        # period ends inside the step to the slow path)
        for p in range(self.n_pops):
            start = self.pop_start[p]
            size = self.pop_size[p]
            chan0 = self.pop_chan_start[p]
            rec0 = self.pop_rec_start[p]
            nr = self.pop_n_rec[p]
            model = self.pop_model[p]
            dale = self.pop_dale[p]
            ab = acc + self.pop_acc[p]           # this population's region
            if size == 0:
                continue
            if model == PC_MODEL_DELTA:
                nc = pc_fast_delta(size, self.pop_am[p], self.pop_pos_gain[p], self.pop_vth[p], v + start, &self.drive[start],
                                   self.pop_drive_uniform[p], ab,
                                   self.cand, start, self.flags)
            elif dale >= 0:
                # receptor `dale` first: the kernel takes receptor 0 as the positive one
                pd = 1 - dale
                nc = pc_fast_cuba2(size, 1, self.pop_am[p], self.pop_vth[p], self.rec_ak[rec0 + dale],
                                   self.rec_ak[rec0 + pd], self.rec_coef_h[rec0 + dale], self.rec_coef_h[rec0 + pd],
                                   self.rec_kmax[rec0 + dale], self.pop_pos_gain[p], v + start, &self.drive[start],
                                   self.pop_drive_uniform[p],
                                   syn + chan0 + dale * size, syn + chan0 + pd * size,
                                   ab, NULL, ab + (2 + dale) * size, ab + (2 + pd) * size, self.cand, start, self.flags)
            elif nr == 2:
                nc = pc_fast_cuba2(size, 0, self.pop_am[p], self.pop_vth[p], self.rec_ak[rec0], self.rec_ak[rec0 + 1],
                                   self.rec_coef_h[rec0], self.rec_coef_h[rec0 + 1], self.rec_kmax[rec0],
                                   self.rec_kmax[rec0 + 1], v + start, &self.drive[start], self.pop_drive_uniform[p],
                                   syn + chan0, syn + chan0 + size, ab, ab + size, ab + 2 * size, ab + 3 * size,
                                   self.cand, start, self.flags)
            else:
                nc = pc_fast_cuba(size, nr, self.pop_am[p], self.pop_vth[p], &self.rec_ak[rec0],
                                  &self.rec_coef_h[rec0], &self.rec_kmax[rec0], v + start, &self.drive[start],
                                  syn + chan0, ab, ab + size, ab + 2 * size,
                                  self.cand, start, self.flags)
            for j in range(nc):
                i = self.cand[j]
                # its Poisson synapses, refractory state, current changes and synapse groups
                # are read at random by the replay
                if self.n_pois:
                    pc_prefetch(&self.pin[self.pin_ptr[i]])
                pc_prefetch(&self.ref_end_step[i])
                pc_prefetch(&self.ref_end_off[i])
                pc_prefetch(&self.drv_first[i])
                pc_prefetch(&self.pre_grp[i])       # (its synapse rows, if it spikes: pc_emit)
                local = i - start
                self.slow[ns] = <int32_t>i
                for r in range(nr):
                    c = chan0 + r * size + local
                    self.slowc[c] = <int32_t>ns
                    self.slowmark[c] = 1
                    self.rec_nslow[rec0 + r] += 1
                ns += 1
        n_slow[0] = ns
        return 0

    cdef void _refractory(self, int64_t n) noexcept nogil:
        """At the start of step n, one pass over the refractory list: a neuron whose period
        has ended leaves it; one still clamped at the step's start gets v_reset back (the
        fast path of step n-1 moved its v: it does not look at refractoriness, and v is
        exactly v_reset while clamped); one whose period ends inside step n takes the slow
        path. run() restores the clamped neurons' v after its last step too (_restore_clamped)."""
        cdef int64_t j, i, k = 0
        cdef int32_t* rl = self.rlist
        cdef int64_t* ref_end = &self.ref_end_step[0]
        cdef double* acc = self.acc + (n % self.ring_len) * self.acc_slot
        for j in range(self.rl_n):
            i = rl[j]
            if ref_end[i] < n:
                self.rin[i] = 0
                continue
            self.v[i] = self.pop_vreset[self.neuron_pop[i]]
            if ref_end[i] == n:
                self._force_slow(acc, i)
            rl[k] = <int32_t>i
            k += 1
        self.rl_n = k

    cdef void _restore_clamped(self, int64_t n) noexcept nogil:
        """After step n-1 (the last of a run): v_reset back for the neurons still clamped at
        n (as _refractory would at the start of step n)."""
        cdef int64_t j, i
        for j in range(self.rl_n):
            i = self.rlist[j]
            if self.ref_end_step[i] >= n:
                self.v[i] = self.pop_vreset[self.neuron_pop[i]]

    cdef void _force_slow(self, double* acc, int64_t i) noexcept nogil:
        """Make neuron i's fast-path bound +inf in the slot `acc`: it takes the slow path."""
        cdef int64_t p = self.neuron_pop[i], local = i - self.pop_start[p]
        if self.pop_model[p] == PC_MODEL_DELTA:
            acc[self.pop_acc[p] + 2 * local] = INFINITY
        elif self.pop_dale[p] >= 0:
            acc[self.pop_acc[p] + (2 + self.pop_dale[p]) * self.pop_size[p] + local] = INFINITY
        else:
            acc[self.pop_acc[p] + self.pop_size[p] + local] = INFINITY

    cdef inline int32_t _chan_of(self, int64_t s) noexcept nogil:
        """Channel of synapse s, from the uint16 copy where the network has one."""
        return self.syn_chan16[s] if self.chan16 else self.syn_chan[s]

    # -- queuing ---------------------------------------------------------------------
    cdef int _push(self, int64_t pre, int64_t n, const double* offs, int64_t cnt, bint store) noexcept nogil:
        """Queue ``cnt`` spikes of presynaptic index ``pre`` emitted in step n at offsets ``offs``:
        their factors exp(-(dt - offset)/tau) for every distinct tau, then _scatter. (Stored
        spikes through on-grid groups get theirs when they arrive, _deliver: the factors are
        only computed here when an off-grid group or ``store`` = False needs them.)"""
        cdef int64_t b0 = 0, nb, j, u, g, U = self.n_taus
        cdef double h = self.dt
        cdef bint need = not store
        if self.pre_grp[pre] == self.pre_grp[pre + 1]:
            return 0
        for g in range(self.pre_grp[pre], self.pre_grp[pre + 1]):
            if self.grp_offgrid[g]:
                need = True
        while b0 < cnt:
            nb = cnt - b0 if cnt - b0 < PUSH_BATCH else PUSH_BATCH
            for u in range(U if need else 0):
                for j in range(nb):
                    self.etab[u * PUSH_BATCH + j] = pc_expn(self.exptab, self.exptab_n, (h - offs[b0 + j]) * self.inv_tau[u])
            if self._scatter(pre, n, offs + b0, self.etab, PUSH_BATCH, nb, store) != 0:
                return -1
            b0 += nb
        return 0

    cdef int _scatter(self, int64_t pre, int64_t n, const double* offs, const double* fac, int64_t stride,
                      int64_t cnt, bint store) noexcept nogil:
        """Add the exact end-of-step contributions of ``cnt`` spikes of ``pre`` (emitted in step n
        at ``offs``, factors fac[u*stride + j] = exp(-(dt - offs[j])/tau_u)) to the fast-path sums
        of their arrival steps; with ``store``, queue them for the exact replay too.

        A group with a whole-step delay (_add_grid) takes the spikes' factors summed, so its
        synapse loop runs once per call; with ``store`` (spikes of neurons and spike sources)
        it only queues them, and _deliver adds them when they arrive. An off-grid synapse
        shifts each spike's arrival by its remainder."""
        cdef int64_t L = self.ring_len, g, s, s0, s1, j, slot, slot0, voff, vst, pst, soff, i
        cdef int32_t rec, um, uk, c
        cdef double h = self.dt, fm, fk, o, w, kmax
        cdef double* ap
        cdef double* av
        cdef pc_slot* sl
        cdef pc_entry* en
        cdef pc_event* ev
        cdef const int32_t* chan = &self.syn_chan[0]
        cdef const double* weight = &self.syn_weight[0]
        slot0 = n % L
        if slot0 < 0:
            slot0 += L               # spike-source spikes at t = 0 belong to step -1
        for g in range(self.pre_grp[pre], self.pre_grp[pre + 1]):
            if not self.grp_offgrid[g]:
                slot = slot0 + self.grp_dsteps[g]        # delays are < ring_len - 1 steps
                if slot >= L:
                    slot -= L
                if store:
                    sl = &self.slots[slot]
                    if pc_reserve(&sl.en, sl.en.n + cnt, sizeof(pc_entry)) != 0:
                        return -1
                    en = <pc_entry*>sl.en.data + sl.en.n
                    for j in range(cnt):
                        en[j].off = offs[j]
                        en[j].grp = <int32_t>g
                    sl.en.n += cnt
                    continue                   # added to the sums when due (_deliver)
                self._add_grid(g, self.acc + slot * self.acc_slot, offs, fac, stride, cnt)
                continue
            # off-grid delays: each spike's arrival offset (and maybe step) differs
            rec = self.grp_rec[g]
            um = self.rec_um[rec]
            uk = self.rec_uk[rec]
            vst = self.rec_vstride[rec]
            voff = self.rec_voff[rec]
            pst = self.rec_pstep[rec]
            soff = self.rec_soff[rec]
            kmax = self.rec_kmax[rec]
            s0 = self.grp_start[g]
            s1 = self.grp_start[g + 1]
            for s in range(s0, s1):
                c = chan[s]
                w = weight[s]
                for j in range(cnt):
                    o = offs[j] + self.syn_rem[s]
                    fm = fac[um * stride + j] * self.syn_gm[s]
                    fk = fac[uk * stride + j] * self.syn_gk[s]
                    slot = slot0 + self.syn_dsteps[s]
                    if o > h:
                        o = o - h
                        slot += 1
                        fm = fm * self.tau_hdecay[um]
                        fk = fk * self.tau_hdecay[uk]
                    if slot >= L:
                        slot -= L
                    if store:
                        sl = &self.slots[slot]
                        if pc_reserve(&sl.ev, sl.ev.n + 1, sizeof(pc_event)) != 0:
                            return -1
                        ev = <pc_event*>sl.ev.data + sl.ev.n
                        ev.off = o
                        ev.chan = c
                        ev.syn = <int32_t>s
                        ev.w = w
                        sl.ev.n += 1
                    ap = self.acc + slot * self.acc_slot
                    i = c * vst + voff
                    if self.rec_model[rec] == PC_MODEL_DELTA:
                        ap[i + (w < 0.0)] += w * fm      # the pair's positive or negative sum
                    else:
                        if w > 0.0 and not self.rec_dale[rec]:
                            ap[i + pst] += w * kmax
                        ap[c + soff] += w * fk
                        ap[i] += w * self._coef_at(rec, fm, fk, h - o)
        return 0

    cdef void _add_grid(self, int64_t g, double* ap, const double* offs, const double* fac, int64_t stride,
                        int64_t cnt) noexcept nogil:
        """Add the exact end-of-step contributions of ``cnt`` spikes through the on-grid group g,
        arriving at offsets ``offs`` (factors fac[u*stride + j] = exp(-(dt - offs[j])/tau_u)), to
        the fast-path sums ``ap`` of their arrival step. The spikes' factors are summed first,
        so the synapse loop runs once."""
        cdef int64_t s, j, s0 = self.grp_start[g], s1 = self.grp_start[g + 1]
        cdef int32_t rec = self.grp_rec[g], c
        cdef int32_t um = self.rec_um[rec], uk = self.rec_uk[rec]
        cdef int64_t voff = self.rec_voff[rec], pst = self.rec_pstep[rec], soff = self.rec_soff[rec]
        cdef double h = self.dt, fv, fs, fm, fk, w, t
        cdef double kp = self.rec_kmax[rec] * cnt
        cdef double* av
        cdef const int32_t* chan = &self.syn_chan[0]
        cdef const uint16_t* chan16 = &self.syn_chan16[0] if self.chan16 else NULL
        cdef const double* weight = &self.syn_weight[0]
        if self.rec_model[rec] == PC_MODEL_DELTA:
            fv = 0.0
            for j in range(cnt):
                fv += fac[um * stride + j]
            w = self.grp_w[g]
            if not isnan(w):
                # one weight for the whole group: no pass over syn_weight; each target's
                # positive or negative sum (pc_delta_block)
                t = w * fv
                ap = ap + voff + (w < 0.0)
                if self.chan16:
                    for s in range(s0, s1):
                        ap[2 * chan16[s]] += t
                else:
                    for s in range(s0, s1):
                        ap[2 * chan[s]] += t
                return
            for s in range(s0, s1):
                w = weight[s]
                ap[2 * (self._chan_of(s)) + voff + (w < 0.0)] += w * fv
        else:
            fv = 0.0
            fs = 0.0
            for j in range(cnt):
                fm = fac[um * stride + j]
                fk = fac[uk * stride + j]
                fv += self._coef_at(rec, fm, fk, h - offs[j])
                fs += fk
            av = ap + soff
            ap = ap + voff
            w = self.grp_w[g]
            if not isnan(w) and self.rec_dale[rec]:
                t = w * fv
                fs = w * fs
                for s in range(s0, s1):
                    c = self._chan_of(s)
                    ap[c] += t
                    av[c] += fs
                return
            if self.rec_dale[rec]:
                # the fast path bounds the positive input from av: no acc_p
                for s in range(s0, s1):
                    c = self._chan_of(s)
                    w = weight[s]
                    ap[c] += w * fv
                    av[c] += w * fs
                return
            for s in range(s0, s1):
                c = self._chan_of(s)
                w = weight[s]
                ap[c] += w * fv
                ap[c + pst] += (w if w > 0.0 else 0.0) * kp
                av[c] += w * fs

    cdef void _deliver(self, int64_t n) noexcept nogil:
        """Add the spikes queued for step n through on-grid groups to the step's fast-path sums.
        Done on arrival rather than when the spikes were emitted: the step's sums (written by
        the Poisson sources in the step before) are then in cache, unlike a slot max-delay
        steps ahead, and so are the synapse rows when the slow path scans them next."""
        cdef pc_slot* sl = &self.slots[n % self.ring_len]
        cdef double* ap = self.acc + (n % self.ring_len) * self.acc_slot
        cdef double* f = self.etab
        cdef double h = self.dt, off
        cdef int64_t e, g, ahead = 4, meta_ahead = 8
        cdef int32_t rec
        cdef pc_entry* en = <pc_entry*>sl.en.data
        if sl.en.n == 0:
            return
        for e in range(-meta_ahead, sl.en.n):
            if e + meta_ahead < sl.en.n:
                # the group's row bounds, weight and receptor, read at random: ask early
                g = en[e + meta_ahead].grp
                pc_prefetch(&self.grp_start[g])
                pc_prefetch(&self.grp_w[g])
                pc_prefetch(&self.grp_rec[g])
            if e < -ahead:
                continue
            if e + ahead < sl.en.n:
                g = en[e + ahead].grp
                if self.chan16:
                    pc_prefetch_row16(&self.syn_chan16[0], self.grp_start[g], self.grp_start[g + 1])
                else:
                    pc_prefetch_row(&self.syn_chan[0], self.grp_start[g], self.grp_start[g + 1])
            if e < 0:
                continue
            g = en[e].grp
            rec = self.grp_rec[g]
            off = en[e].off
            f[self.rec_um[rec] * PUSH_BATCH] = pc_expn(self.exptab, self.exptab_n, (h - off) * self.inv_tau[self.rec_um[rec]])
            if self.rec_uk[rec] != self.rec_um[rec]:
                f[self.rec_uk[rec] * PUSH_BATCH] = pc_expn(self.exptab, self.exptab_n, (h - off) * self.inv_tau[self.rec_uk[rec]])
            self._add_grid(g, ap, &en[e].off, f, PUSH_BATCH, 1)

    cdef inline double _coef_at(self, int32_t rec, double fm, double fk, double t) noexcept nogil:
        """coef of receptor rec at time t, given fm = e^{-t/tau_m} and fk = e^{-t/tau_k}."""
        cdef double dlt, tk
        if self.rec_near[rec]:
            # tau_syn close to tau_mem: the difference form would cancel
            dlt = self.rec_delta[rec]
            tk = self.rec_tk[rec]
            if dlt == 0.0:
                return t / (tk - dlt) * fm
            return fm * tk / dlt * expm1(t * dlt / (tk * (tk - dlt)))
        return self.rec_ck[rec] * (fk - fm)

    cdef void _draw_counts(self, int64_t n, uint16_t* out) noexcept nogil:
        pc_poisson_counts(self.n_pnodes, &self.pn_first[0], &self.pn_size[0], &self.pn_seed[0], &self.pn_toff[0],
                          &self.pn_tlen[0], &self.pt_off[0], &self.pt_len[0],
                          &self.pcdf[0] if self.pcdf.shape[0] else NULL, n, out)

    cdef int _poisson(self, int64_t n) noexcept nogil:
        """Poisson spikes emitted in step n: draw their offsets and factors (vectorised), add
        them to the fast-path sums. They are not queued: pc_collect_and_replay redraws them."""
        cdef int64_t k, j, m, P, q, r, u, U = self.n_taus, L = self.ring_len, no
        cdef double h = self.dt, t0 = n * self.dt
        cdef uint64_t sk = pc_step_key(self.pois_key, n)
        cdef uint16_t* ring = self.pring + (n % L) * self.n_pois
        cdef int64_t pre0 = self.pois_base
        cdef double* p_off
        cdef double* p_uu
        cdef double* p_fac
        cdef int32_t* p_src
        cdef int32_t* p_idx
        self._draw_counts(n, ring)
        if not self.pois_windowed and self.exptab != NULL:
            return self._poisson_direct(n, sk, ring)
        m = 0
        for k in range(self.n_pois):
            m += ring[k]
        if m == 0:
            return 0
        if self._p_reserve(m) != 0:
            return -1
        p_off, p_uu, p_fac = <double*>self.p_off.data, <double*>self.p_uu.data, <double*>self.p_fac.data
        p_src, p_idx = <int32_t*>self.p_src.data, <int32_t*>self.p_idx.data
        P = pc_poisson_fill(self.n_pois, ring, p_src, p_idx)
        # given the count of a step, a Poisson process's times are iid uniform in it
        pc_poisson_offsets(P, sk, p_src, p_idx, h, p_uu, p_off)
        if self.pois_windowed:
            q = 0
            for r in range(P):
                k = p_src[r]
                if t0 + p_off[r] < self.pois_start[k] or t0 + p_off[r] >= self.pois_stop[k]:
                    continue
                p_off[q] = p_off[r]
                p_uu[q] = p_uu[r]
                p_src[q] = <int32_t>k
                q += 1
            P = q
        for u in range(U):
            if self.exptab != NULL:
                pc_exp_factors(P, pc_poisson_xscale(h, self.inv_tau[u]), p_uu, self.exptab, self.pois_poly,
                               p_fac + u * self.p_stride)
            else:
                for q in range(P):
                    p_fac[u * self.p_stride + q] = exp(-p_uu[q] * pc_poisson_xscale(h, self.inv_tau[u]))
            for q in range(P, P + 4):
                p_fac[u * self.p_stride + q] = 0.0
        if not self.pois_windowed:
            no = pc_poisson_simple(self.n_pois, ring, &self.ps_target[0], &self.ps_weight[0], &self.ps_dsteps[0],
                                   &self.ps_um[0], p_fac, self.p_stride, self.acc, self.acc_slot, n % L, L,
                                   self.p_other, self.p_other_q)
            for j in range(no):
                k = self.p_other[j]
                q = self.p_other_q[j]
                if self._scatter(pre0 + k, n, p_off + q, p_fac + q, self.p_stride, ring[k], False) != 0:
                    return -1
            return 0
        # with active windows: the spikes left are in source order, runs of equal source
        q = 0
        while q < P:
            k = p_src[q]
            r = q + 1
            while r < P and p_src[r] == k:
                r += 1
            if self._scatter(pre0 + k, n, p_off + q, p_fac + q, self.p_stride, r - q, False) != 0:
                return -1
            q = r
        return 0

    cdef int _p_reserve(self, int64_t m) noexcept nogil:
        """Room for m Poisson spikes (plus 4 of slack) in p_off, p_uu, p_src, p_idx and, for each
        time constant, p_fac; all of it p_stride long. Their contents are not kept."""
        cdef int64_t U = self.n_taus if self.n_taus > 1 else 1, c
        if m + 4 <= self.p_stride:
            return 0
        if pc_reserve(&self.p_off, m + 4, sizeof(double)) != 0:
            return -1
        c = self.p_off.cap
        if (pc_reserve(&self.p_uu, c, sizeof(double)) != 0 or pc_reserve(&self.p_src, c, sizeof(int32_t)) != 0
                or pc_reserve(&self.p_idx, c, sizeof(int32_t)) != 0 or pc_reserve(&self.p_fac, c * U, sizeof(double)) != 0):
            return -1
        self.p_stride = c
        return 0

    cdef int _poisson_direct(self, int64_t n, uint64_t sk, const uint16_t* ring) noexcept nogil:
        """_poisson without windows (pc_poisson_direct): the sums of the one-to-one sources in
        one pass; each other source with spikes gets its offsets and factors, then _scatter."""
        cdef int64_t j, k, c, u, no, st = self.p_stride
        cdef double* p_off
        cdef double* p_uu
        cdef double* p_fac
        cdef double h = self.dt
        no = pc_poisson_direct(self.n_pois, ring, sk, h, self.exptab, self.pois_poly, self.ps_xs, self.ps_aoff,
                               &self.ps_weight[0], self.acc, self.acc_slot, n % self.ring_len, self.ring_len,
                               self.p_other)
        for j in range(no):
            k = self.p_other[j]
            c = ring[k]
            if self._p_reserve(c) != 0:
                return -1
            st = self.p_stride
            p_off, p_uu, p_fac = <double*>self.p_off.data, <double*>self.p_uu.data, <double*>self.p_fac.data
            for u in range(c):
                p_uu[u] = pc_poisson_u(sk, k, u)
                p_off[u] = pc_poisson_offset(sk, k, u, h)
            for u in range(self.n_taus):
                pc_exp_factors(c, pc_poisson_xscale(h, self.inv_tau[u]), p_uu, self.exptab, self.pois_poly,
                               p_fac + u * st)
            if self._scatter(self.pois_base + k, n, p_off, p_fac, st, c, False) != 0:
                return -1
        return 0
