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

* fast path: the end-of-step state is the free (input-less) propagation of the grid
  engine plus, by superposition, each event's exact contribution ``w*F(dt - offset)``.
  The factors F are computed when the event is queued, from one exp per spike and
  distinct time constant (shared by all targets) and, for off-grid delays, one stored
  per-synapse factor: queuing costs no exp per synapse. The fast path is taken only when
  a rigorous upper bound of v over the step stays below threshold:
    delta: max(v(0), v_free(dt)) + sum of positive jumps       (v_free is monotone);
    cuba:  max(v(0), v_free(dt)) + M dt^2/8 + sum_k P_k Kmax_k, with M >= |v_free''|
           (from tau_m v'' = J' - v', J = drive + sum syn, |v'| <= range(v, J)/tau_m),
           P_k the positive weight arriving on receptor k and Kmax_k the peak over
           [0, dt] of its kernel coef_k(s) = tau_k/(tau_k - tau_m)(e^{-s/tau_k} - e^{-s/tau_m}).
* slow path (bound reached, refractory period or current change inside the step): the
  neuron's events are sorted by offset and the state is propagated exactly from event
  to event. Between events a crossing is found
    delta: in closed form, t = tau_m log((J - v)/(J - v_th)) (v is monotone there);
    cuba:  by a bisection on the same bound that discards subintervals that cannot reach
           threshold (so a crossing that dips back below threshold before the next event
           is still found, unlike iaf_psc_exp_ps), then safeguarded Newton on the exact
           propagator to ROOT_XTOL once v is provably rising on the bracket.

Threshold: a spike when v >= v_threshold (NEST's convention; for a continuous crossing
it is the same time as the grid engine's strict ``>``). Events at one instant are all
applied before the threshold is checked; a refractory period ending at an instant ends
before that instant's events (NEST's slice_ring_buffer order). Delta inputs arriving
while refractory are discarded; synaptic variables of cuba neurons keep evolving.
"""
from libc.math cimport exp, expm1, log, fabs, INFINITY, isnan
from libc.stdint cimport int64_t, int32_t, uint64_t, uint16_t
from libc.stdlib cimport malloc, realloc, free, calloc
from libc.float cimport DBL_EPSILON

import numpy as np

# Newton on a bracket stops when its step is below this (seconds) plus a few ulps.
cdef double ROOT_XTOL = 1e-17
cdef int ROOT_MAXITER = 100
# The crossing search stops splitting below this fraction of the piece: an excursion
# above threshold narrower than piece*2^-40 (~1e-12 of it) counts as grazing.
cdef double SEARCH_MIN_FRACTION = 9.094947017729282e-13
# ref_end_step of a neuron that is not refractory
cdef int64_t NO_REFRACTORY = -4611686018427387904
NO_REFRACTORY_STEP = NO_REFRACTORY


cdef inline uint64_t _rotl(uint64_t x, int k) noexcept nogil:
    return (x << k) | (x >> (64 - k))


cdef inline double _coef(int near, double ck, double dlt, double tk, double tm, double t,
                         double em, double ek) noexcept nogil:
    """Response of v at time t to syn = 1 at time 0: tau_k/(tau_k - tau_m) (e^{-t/tau_k} - e^{-t/tau_m})."""
    if near:
        if dlt == 0.0:
            return t / tm * em
        return em * tk / dlt * expm1(t * dlt / (tk * tm))
    return ck * (ek - em)


cdef class PreciseKernel:
    def __cinit__(self):
        self.acc = NULL
        self.slots = NULL
        self.buf = NULL
        self.out_step = NULL
        self.out_off = NULL
        self.out_idx = NULL
        self.etab = NULL
        self.slow = NULL
        self.slow_cnt = NULL
        self.slow_pos = NULL
        self.drv_first = NULL
        self.hit_k = NULL
        self.hit_ev = NULL
        self.exptab = NULL
        self.t_vf = NULL
        self.t_jmax = NULL
        self.t_jmin = NULL
        self.t_sabs = NULL
        self.flag = NULL
        self.inv_tau = NULL
        self.pofs = NULL
        self.ring_len = 0

    def __init__(self, dict a, double dt, int64_t ring_len, rng_state):
        cdef int64_t k
        self.dt = dt
        self.ring_len = ring_len
        self.pop_model = a["pop_model"]
        self.pop_tau_idx = a["pop_tau_idx"]
        self.pop_start = a["pop_start"]
        self.pop_size = a["pop_size"]
        self.pop_n_rec = a["pop_n_rec"]
        self.pop_rec_start = a["pop_rec_start"]
        self.pop_chan_start = a["pop_chan_start"]
        self.pop_ref_steps = a["pop_ref_steps"]
        self.pop_vth = a["pop_vth"]
        self.pop_vreset = a["pop_vreset"]
        self.pop_tm = a["pop_tm"]
        self.pop_am = a["pop_am"]
        self.pop_ref_rem = a["pop_ref_rem"]
        self.rec_tk = a["rec_tk"]
        self.rec_ak = a["rec_ak"]
        self.rec_coef_h = a["rec_coef_h"]
        self.rec_kmax = a["rec_kmax"]
        self.rec_ck = a["rec_ck"]
        self.rec_delta = a["rec_delta"]
        self.rec_near = a["rec_near"]
        self.rec_inv_tk = 1.0 / np.asarray(a["rec_tk"], dtype=np.float64)
        self.pop_inv_tm = 1.0 / np.asarray(a["pop_tm"], dtype=np.float64)
        self.chan_neuron = a["chan_neuron"]
        self.chan_rec = a["chan_rec"]
        self.chan_um = a["chan_um"]
        self.chan_uk = a["chan_uk"]
        self.tau_u = a["tau_u"]
        self.tau_hdecay = a["tau_hdecay"]
        self.v = a["v"]
        self.syn = a["syn"]
        self.drive = a["drive"]
        self.ref_end_step = a["ref_end_step"]
        self.ref_end_off = a["ref_end_off"]
        self.neuron_pop = a["neuron_pop"]
        self.row_ptr = a["row_ptr"]
        self.syn_chan = a["syn_chan"]
        self.syn_dsteps = a["syn_dsteps"]
        self.syn_weight = a["syn_weight"]
        self.syn_rem = a["syn_rem"]
        self.syn_gm = a["syn_gm"]
        self.syn_gk = a["syn_gk"]
        self.ev_step = a["ev_step"]
        self.ev_off = a["ev_off"]
        self.ev_pre = a["ev_pre"]
        self.drv_step = a["drv_step"]
        self.drv_off = a["drv_off"]
        self.drv_delta = a["drv_delta"]
        self.drv_neuron = a["drv_neuron"]
        self.pois_start = a["pois_start"]
        self.pois_stop = a["pois_stop"]
        self.rec_kind = a["rec_kind"]
        self.rec_idx = a["rec_idx"]
        self.rec_every = a["rec_every"]
        self.pois_base = a["pois_base"]
        self.n_pois = a["n_pois"]
        self.n_pops = self.pop_model.shape[0]
        self.n_neurons = self.v.shape[0]
        self.n_channels = self.syn.shape[0]
        self.n_taus = self.tau_u.shape[0]
        self.has_rem = self.syn_rem.shape[0] > 0
        if self.has_rem and self.syn_rem.shape[0] != self.syn_weight.shape[0]:
            raise ValueError("syn_rem must be empty or one value per synapse")
        if ring_len < 2:
            raise ValueError("ring_len must be >= 2")
        self.ev_ptr = 0
        self.drv_ptr = 0
        self.failed = 0
        self.slow_neuron_steps = 0
        st = np.asarray(rng_state, dtype=np.uint64)
        if st.shape[0] != 4 or not st.any():
            raise ValueError("rng_state must be 4 uint64 words, not all zero")
        for k in range(4):
            self.rng[k] = <uint64_t>int(st[k])
        cdef int64_t N = max(self.n_neurons, 1), C = max(self.n_channels, 1)
        # per neuron: w*F_v and positive w; per channel of cuba neurons: w*F_syn
        self.acc_slot = 2 * N + (C if np.any(np.asarray(self.pop_model) == PMODEL_CUBA) else 0)
        self.t_vf = <double*>malloc(N * sizeof(double))
        self.t_jmax = <double*>malloc(N * sizeof(double))
        self.t_jmin = <double*>malloc(N * sizeof(double))
        self.t_sabs = <double*>malloc(N * sizeof(double))
        self.flag = <int64_t*>malloc(N * sizeof(int64_t))
        if (self.t_vf == NULL or self.t_jmax == NULL or self.t_jmin == NULL or self.t_sabs == NULL
                or self.flag == NULL):
            raise MemoryError("precise kernel: cannot allocate its buffers")
        self.acc = <double*>calloc(ring_len * self.acc_slot, sizeof(double))
        self.slots = <Slot*>calloc(ring_len, sizeof(Slot))
        self.etab = <double*>calloc(max(self.n_taus, 1) * (PUSH_BATCH + 1), sizeof(double))
        self.inv_tau = <double*>calloc(max(self.n_taus, 1), sizeof(double))
        self.pofs = <double*>malloc(65536 * sizeof(double))      # counts are uint16
        if self.etab == NULL or self.inv_tau == NULL or self.pofs == NULL:
            raise MemoryError("precise kernel: cannot allocate its buffers")
        for k in range(self.n_taus):
            self.inv_tau[k] = 1.0 / self.tau_u[k]
        # queuing a spike needs exp(-x) for x in [0, dt/tau]: a table plus a short polynomial
        # (Poisson spikes, one per event, made libm's exp the largest cost of queuing)
        self.exptab_n = <int64_t>(dt / min(self.tau_u) * EXP_TABLE_SCALE) + 2 if self.n_taus else 0
        if 0 < self.exptab_n <= EXP_TABLE_MAX:
            self.exptab = <double*>malloc(self.exptab_n * sizeof(double))
            if self.exptab == NULL:
                raise MemoryError("precise kernel: cannot allocate its exp table")
            for k in range(self.exptab_n):
                self.exptab[k] = exp(-<double>k / EXP_TABLE_SCALE)
        self.slow = <int32_t*>malloc(N * sizeof(int32_t))
        self.slow_cnt = <int64_t*>malloc((N + 1) * sizeof(int64_t))
        self.slow_pos = <int32_t*>malloc(N * sizeof(int32_t))
        self.drv_first = <int64_t*>malloc(N * sizeof(int64_t))
        self.out_cap = 1024
        self.out_n = 0
        self.out_step = <int64_t*>malloc(self.out_cap * sizeof(int64_t))
        self.out_off = <double*>malloc(self.out_cap * sizeof(double))
        self.out_idx = <int32_t*>malloc(self.out_cap * sizeof(int32_t))
        self.buf_cap = 1024
        self.buf = <Event*>malloc(self.buf_cap * sizeof(Event))
        self.hit_cap = 1024
        self.hit_k = <int32_t*>malloc(self.hit_cap * sizeof(int32_t))
        self.hit_ev = <Event*>malloc(self.hit_cap * sizeof(Event))
        if (self.hit_k == NULL or self.hit_ev == NULL or self.acc == NULL or self.slots == NULL or self.etab == NULL or self.slow == NULL
                or self.slow_cnt == NULL or self.slow_pos == NULL or self.drv_first == NULL
                or self.out_step == NULL or self.out_off == NULL or self.out_idx == NULL or self.buf == NULL):
            raise MemoryError("precise kernel: cannot allocate its buffers")
        for k in range(N):
            self.slow_pos[k] = -1
            self.drv_first[k] = -1

    def __dealloc__(self):
        cdef int64_t k
        if self.slots != NULL:
            for k in range(self.ring_len):
                free(self.slots[k].ev)
            free(self.slots)
        free(self.acc)
        free(self.buf)
        free(self.out_step)
        free(self.out_off)
        free(self.out_idx)
        free(self.etab)
        free(self.slow)
        free(self.slow_cnt)
        free(self.slow_pos)
        free(self.drv_first)
        free(self.hit_k)
        free(self.hit_ev)
        free(self.exptab)
        free(self.inv_tau)
        free(self.t_vf)
        free(self.t_jmax)
        free(self.t_jmin)
        free(self.t_sabs)
        free(self.flag)
        free(self.pofs)

    # -- Python entry points ---------------------------------------------------------
    def run(self, int64_t n0, int64_t n1, const uint16_t[:, ::1] pois_counts,
            double[::1] rec_out, int64_t[::1] rec_pos):
        """Advance steps [n0, n1). Spikes accumulate in the kernel; fetch them with take_spikes()."""
        cdef int64_t n
        cdef int rc = 0
        if pois_counts.shape[1] != self.n_pois or pois_counts.shape[0] < n1 - n0:
            raise ValueError("pois_counts has the wrong shape")
        with nogil:
            # spike-source spikes emitted before n0 (a spike at t = 0 belongs to step -1)
            while rc == 0 and self.ev_ptr < self.ev_step.shape[0] and self.ev_step[self.ev_ptr] < n0:
                rc = self._push(self.ev_pre[self.ev_ptr], self.ev_step[self.ev_ptr], &self.ev_off[self.ev_ptr], 1)
                self.ev_ptr += 1
            n = n0
            while rc == 0 and n < n1:
                rc = self._step(n, n - n0, pois_counts, rec_out, rec_pos)
                n += 1
        if rc != 0:
            raise MemoryError("precise kernel: out of memory while queuing events")
        return n1

    def take_spikes(self):
        """(steps int64, offsets float64 s, neuron indices int32) emitted since the last call."""
        cdef int64_t k, m = self.out_n
        steps = np.empty(m, np.int64)
        offs = np.empty(m, np.float64)
        idx = np.empty(m, np.int32)
        cdef int64_t[::1] sv = steps
        cdef double[::1] ov = offs
        cdef int32_t[::1] iv = idx
        for k in range(m):
            sv[k] = self.out_step[k]
            ov[k] = self.out_off[k]
            iv[k] = self.out_idx[k]
        self.out_n = 0
        return steps, offs, idx

    def queued_events(self):
        """Number of synaptic events waiting in the queue (for tests and diagnostics)."""
        cdef int64_t k, total = 0
        for k in range(self.ring_len):
            total += self.slots[k].n
        return total

    # -- one step --------------------------------------------------------------------
    cdef int _step(self, int64_t n, int64_t row, const uint16_t[:, ::1] pois_counts,
                   double[::1] rec_out, int64_t[::1] rec_pos) noexcept nogil:
        cdef int64_t L = self.ring_len, C = self.n_channels
        cdef int64_t slot = n % L
        cdef Slot* sl = &self.slots[slot]
        cdef int64_t N = self.n_neurons
        cdef double* acc = self.acc + slot * self.acc_slot    # [w*F_v by neuron | positive w by neuron | w*F_syn by channel]
        cdef double h = self.dt, h2_8 = self.dt * self.dt / 8.0
        cdef int64_t e, p, i, start, size, nr, rec0, chan0, c, r, k, q, drv_end, n_slow = 0
        cdef int64_t first_spike, tot, pos, cnt, j, n_hit, newcap
        cdef int32_t* nk
        cdef int32_t model
        cdef double am, vth, tm, v0, d, vf, ub, s0, s1, jmax, jmin, sabs, pk, av, M, hi, lo, u, t_abs
        cdef double* ap
        cdef Event* evp
        cdef Event* nb
        cdef unsigned int m_cnt

        # 1. state monitors sample at the start of the step (t = n*dt)
        for e in range(self.rec_kind.shape[0]):
            if n % self.rec_every[e] == 0:
                if self.rec_kind[e] == PRECORD_V:
                    rec_out[rec_pos[e]] = self.v[self.rec_idx[e]]
                else:
                    rec_out[rec_pos[e]] = self.syn[self.rec_idx[e]]
                rec_pos[e] += 1

        # 2. current changes inside this step send their neurons down the slow path
        while self.drv_ptr < self.drv_step.shape[0] and self.drv_step[self.drv_ptr] < n:
            self.drv_ptr += 1
        q = self.drv_ptr
        while q < self.drv_step.shape[0] and self.drv_step[q] == n:
            i = self.drv_neuron[q]
            if self.drv_first[i] < 0:
                self.drv_first[i] = q
            q += 1
        drv_end = q

        # 3. fast path (vectorised, _precise_fast.h); flagged neurons keep their state.
        # A current change inside the step sends its neuron to the slow path via the bound.
        for q in range(self.drv_ptr, drv_end):
            acc[N + self.drv_neuron[q]] = INFINITY
        for p in range(self.n_pops):
            start = self.pop_start[p]
            size = self.pop_size[p]
            chan0 = self.pop_chan_start[p]
            rec0 = self.pop_rec_start[p]
            if self.pop_model[p] == PMODEL_DELTA:
                pc_fast_delta(size, n, self.pop_am[p], self.pop_vth[p], &self.v[start], &self.drive[start],
                              &self.ref_end_step[start], acc + start, acc + N + start, self.flag + start)
            elif self.pop_n_rec[p] == 2:
                pc_fast_cuba2(size, n, self.pop_am[p], self.pop_inv_tm[p], self.pop_vth[p], h2_8,
                              self.rec_ak[rec0], self.rec_ak[rec0 + 1], self.rec_coef_h[rec0],
                              self.rec_coef_h[rec0 + 1], self.rec_inv_tk[rec0], self.rec_inv_tk[rec0 + 1],
                              &self.v[start], &self.drive[start], &self.ref_end_step[start],
                              &self.syn[chan0], &self.syn[chan0 + size], acc + start, acc + N + start,
                              acc + 2 * N + chan0, acc + 2 * N + chan0 + size, self.flag + start)
            else:
                pc_fast_cuba(size, n, self.pop_n_rec[p], self.pop_am[p], self.pop_inv_tm[p], self.pop_vth[p],
                             h2_8, &self.rec_ak[rec0], &self.rec_coef_h[rec0], &self.rec_inv_tk[rec0],
                             &self.v[start], &self.drive[start], &self.ref_end_step[start], &self.syn[chan0],
                             acc + start, acc + N + start, acc + 2 * N + chan0, self.t_vf + start,
                             self.t_jmax + start, self.t_jmin + start, self.t_sabs + start, self.flag + start)
            for i in range(start, start + size):
                if self.flag[i]:
                    self.slow_pos[i] = <int32_t>n_slow
                    self.slow[n_slow] = <int32_t>i
                    n_slow += 1

        # 4. slow path: group this step's events by slow neuron, then replay each neuron exactly
        first_spike = self.out_n
        self.slow_neuron_steps += n_slow
        if n_slow > 0:
            # one pass over the step's events picks those of slow neurons; a counting
            # sort over just those groups them by neuron
            n_hit = 0
            for e in range(sl.n):
                k = self.slow_pos[self.chan_neuron[sl.ev[e].chan]]
                if k >= 0:
                    if n_hit == self.hit_cap:
                        newcap = 2 * self.hit_cap
                        nk = <int32_t*>realloc(self.hit_k, newcap * sizeof(int32_t))
                        if nk == NULL:
                            return -1
                        self.hit_k = nk
                        nb = <Event*>realloc(self.hit_ev, newcap * sizeof(Event))
                        if nb == NULL:
                            return -1
                        self.hit_ev = nb
                        self.hit_cap = newcap
                    self.hit_k[n_hit] = <int32_t>k
                    self.hit_ev[n_hit] = sl.ev[e]
                    n_hit += 1
            for k in range(n_slow + 1):
                self.slow_cnt[k] = 0
            for e in range(n_hit):
                self.slow_cnt[self.hit_k[e] + 1] += 1
            for k in range(n_slow):
                self.slow_cnt[k + 1] += self.slow_cnt[k]
            if n_hit > self.buf_cap:
                nb = <Event*>realloc(self.buf, n_hit * 2 * sizeof(Event))
                if nb == NULL:
                    return -1
                self.buf = nb
                self.buf_cap = n_hit * 2
            # scatter: slow_cnt[k] walks from the start of k's block to its end
            for e in range(n_hit):
                k = self.hit_k[e]
                self.buf[self.slow_cnt[k]] = self.hit_ev[e]
                self.slow_cnt[k] += 1
            pos = 0
            for k in range(n_slow):
                i = self.slow[k]
                cnt = self.slow_cnt[k] - pos
                if self._slow_neuron(n, <int32_t>i, self.buf + pos, cnt) != 0:
                    return -1
                self.slow_pos[i] = -1
                pos = self.slow_cnt[k]
        for q in range(self.drv_ptr, drv_end):
            self.drv_first[self.drv_neuron[q]] = -1
        self.drv_ptr = drv_end
        sl.n = 0

        # 5. queue what was emitted in this step: neurons, spike sources, Poisson sources
        for e in range(first_spike, self.out_n):
            if self._push(self.out_idx[e], n, &self.out_off[e], 1) != 0:
                return -1
        while self.ev_ptr < self.ev_step.shape[0] and self.ev_step[self.ev_ptr] <= n:
            if self._push(self.ev_pre[self.ev_ptr], self.ev_step[self.ev_ptr], &self.ev_off[self.ev_ptr], 1) != 0:
                return -1
            self.ev_ptr += 1
        for k in range(self.n_pois):
            m_cnt = pois_counts[row, k]
            if m_cnt == 0:
                continue
            cnt = 0
            for j in range(m_cnt):
                # given the count of a step, a Poisson process's times are iid uniform in it
                u = h * (1.0 - self._uniform())       # offset in (0, dt]
                t_abs = n * h + u
                if t_abs < self.pois_start[k] or t_abs >= self.pois_stop[k]:
                    continue
                self.pofs[cnt] = u
                cnt += 1
            if cnt and self._push(self.pois_base + k, n, self.pofs, cnt) != 0:
                return -1
        return 0

    # -- queuing ---------------------------------------------------------------------
    cdef int _push(self, int64_t pre, int64_t n, double* offs, int64_t cnt) noexcept nogil:
        """Queue the events of ``cnt`` spikes of presynaptic index ``pre`` at offsets ``offs``
        of step n. Each spike is one event per synapse; the fast-path sums of a synapse with
        an on-grid delay take all the spikes at once."""
        cdef int64_t s, slot, c, L = self.ring_len, C = self.n_channels, u, r0, r1, newcap, j, b0, nb, U = self.n_taus
        cdef int64_t N = self.n_neurons, slot0 = n % self.ring_len, slot1, i
        cdef double h = self.dt, o, w, fm, fk, rem
        cdef int32_t rec, um, uk
        cdef Slot* sl
        cdef Event* ne
        cdef double* ap
        cdef double* et = self.etab
        cdef double* esum = self.etab + U * PUSH_BATCH
        r0 = self.row_ptr[pre]
        r1 = self.row_ptr[pre + 1]
        if r0 == r1:
            return 0
        b0 = 0
        while b0 < cnt:
            nb = cnt - b0 if cnt - b0 < PUSH_BATCH else PUSH_BATCH
            for u in range(U):
                esum[u] = 0.0
            for j in range(nb):
                for u in range(U):
                    et[j * U + u] = self._exp_neg((h - offs[b0 + j]) * self.inv_tau[u])
                    esum[u] += et[j * U + u]
            for s in range(r0, r1):
                c = self.syn_chan[s]
                w = self.syn_weight[s]
                um = self.chan_um[c]
                uk = self.chan_uk[c]
                rec = self.chan_rec[c]
                slot1 = slot0 + self.syn_dsteps[s]       # delays are < ring_len - 1 steps
                rem = self.syn_rem[s] if self.has_rem else 0.0
                if rem == 0.0:
                    slot = slot1 - L if slot1 >= L else slot1
                    sl = &self.slots[slot]
                    if sl.n + nb > sl.cap:
                        newcap = 2 * sl.cap + nb + 256
                        ne = <Event*>realloc(sl.ev, newcap * sizeof(Event))
                        if ne == NULL:
                            return -1
                        sl.ev = ne
                        sl.cap = newcap
                    ne = sl.ev + sl.n
                    for j in range(nb):
                        ne[j].off = offs[b0 + j]
                        ne[j].chan = <int32_t>c
                        ne[j].syn = <int32_t>s
                    sl.n += nb
                    ap = self.acc + slot * self.acc_slot
                    i = self.chan_neuron[c]
                    if rec < 0:
                        ap[i] += w * esum[um]
                        if w > 0.0:
                            ap[N + i] += w * nb
                    else:
                        if nb == 1 or not self.rec_near[rec]:
                            self._acc_add(ap, i, c, rec, w, esum[um], esum[uk], h - offs[b0])
                        else:
                            for j in range(nb):
                                self._acc_add(ap, i, c, rec, w, et[j * U + um], et[j * U + uk], h - offs[b0 + j])
                        if w > 0.0:
                            ap[N + i] += w * nb * self.rec_kmax[rec]
                    continue
                # off-grid delay: each spike's arrival offset (and maybe step) differs
                for j in range(nb):
                    o = offs[b0 + j] + rem
                    fm = et[j * U + um] * self.syn_gm[s]
                    fk = et[j * U + uk] * self.syn_gk[s]
                    slot = slot1
                    if o > h:
                        o = o - h
                        slot += 1
                        fm = fm * self.tau_hdecay[um]
                        fk = fk * self.tau_hdecay[uk]
                    if slot >= L:
                        slot -= L
                    sl = &self.slots[slot]
                    if sl.n == sl.cap:
                        newcap = 2 * sl.cap + 256
                        ne = <Event*>realloc(sl.ev, newcap * sizeof(Event))
                        if ne == NULL:
                            return -1
                        sl.ev = ne
                        sl.cap = newcap
                    ne = sl.ev + sl.n
                    ne.off = o
                    ne.chan = <int32_t>c
                    ne.syn = <int32_t>s
                    sl.n += 1
                    ap = self.acc + slot * self.acc_slot
                    i = self.chan_neuron[c]
                    if rec < 0:
                        ap[i] += w * fm
                        if w > 0.0:
                            ap[N + i] += w
                    else:
                        self._acc_add(ap, i, c, rec, w, fm, fk, h - o)
                        if w > 0.0:
                            ap[N + i] += w * self.rec_kmax[rec]
            b0 += nb
        return 0

    cdef void _acc_add(self, double* ap, int64_t i, int64_t c, int32_t rec, double w, double fm, double fk,
                       double tau_left) noexcept nogil:
        """Fast-path sums of a cuba channel for weight w with factors fm = e^{-tau_left/tau_m},
        fk = e^{-tau_left/tau_k} (sums of such factors when linear in them)."""
        cdef double dlt, tk, tmv
        ap[2 * self.n_neurons + c] += w * fk
        if self.rec_near[rec]:
            # tau_syn close to tau_mem: the difference form would cancel
            dlt = self.rec_delta[rec]
            tk = self.rec_tk[rec]
            tmv = tk - dlt
            if dlt == 0.0:
                ap[i] += w * tau_left / tmv * fm
            else:
                ap[i] += w * fm * tk / dlt * expm1(tau_left * dlt / (tk * tmv))
        else:
            ap[i] += w * self.rec_ck[rec] * (fk - fm)

    cdef int _emit(self, int64_t n, double off, int32_t i) noexcept nogil:
        cdef int64_t newcap
        cdef int64_t* a
        cdef double* b
        cdef int32_t* c
        if self.out_n == self.out_cap:
            newcap = 2 * self.out_cap
            a = <int64_t*>realloc(self.out_step, newcap * sizeof(int64_t))
            if a == NULL:
                return -1
            self.out_step = a
            b = <double*>realloc(self.out_off, newcap * sizeof(double))
            if b == NULL:
                return -1
            self.out_off = b
            c = <int32_t*>realloc(self.out_idx, newcap * sizeof(int32_t))
            if c == NULL:
                return -1
            self.out_idx = c
            self.out_cap = newcap
        self.out_step[self.out_n] = n
        self.out_off[self.out_n] = off
        self.out_idx[self.out_n] = i
        self.out_n += 1
        return 0

    # -- exact replay of one neuron over one step ------------------------------------------
    cdef int _slow_neuron(self, int64_t n, int32_t i, Event* ev, int64_t n_ev) noexcept nogil:
        cdef int64_t p = self.neuron_pop[i]
        cdef int32_t model = self.pop_model[p]
        cdef double h = self.dt, vth = self.pop_vth[p], vreset = self.pop_vreset[p], tm = self.pop_tm[p]
        # delta neurons have no synaptic variables (their one channel is a v jump)
        cdef int64_t nr = self.pop_n_rec[p] if model == PMODEL_CUBA else 0
        cdef int64_t rec0 = self.pop_rec_start[p], chan0 = self.pop_chan_start[p]
        cdef int64_t size = self.pop_size[p], local = i - self.pop_start[p]
        cdef int64_t ref_steps = self.pop_ref_steps[p], a, b, k = 0, q, r, est
        cdef double ref_rem = self.pop_ref_rem[p]
        cdef bint has_ref = ref_steps > 0 or ref_rem > 0.0
        cdef double s[MAX_RECEPTORS]
        cdef double v = self.v[i], d = self.drive[i], t = 0.0, t_next, tau, tc, ts, em, ek, vn, eo, dlt, tk
        cdef bint refr = self.ref_end_step[i] >= n
        cdef double t_ref_end = self.ref_end_off[i] if self.ref_end_step[i] == n else INFINITY
        cdef Event key
        # insertion sort by offset: a neuron rarely has more than a handful of events per step
        for a in range(1, n_ev):
            key = ev[a]
            b = a - 1
            while b >= 0 and ev[b].off > key.off:
                ev[b + 1] = ev[b]
                b -= 1
            ev[b + 1] = key
        if model == PMODEL_CUBA:
            for r in range(nr):
                s[r] = self.syn[chan0 + r * size + local]
        q = self.drv_first[i]
        if not refr and v >= vth:          # initialised above threshold: spike at the step's start
            if self._emit(n, 0.0, i) != 0:
                return -1
            v = vreset
            if has_ref:
                eo = ref_rem
                est = n + ref_steps
                if eo > h:
                    eo -= h
                    est += 1
                self.ref_end_step[i] = est
                self.ref_end_off[i] = eo
                refr = True
                t_ref_end = eo if est == n else INFINITY
        while True:
            t_next = h
            if k < n_ev and ev[k].off < t_next:
                t_next = ev[k].off
            if q >= 0 and self.drv_off[q] < t_next:
                t_next = self.drv_off[q]
            if refr and t_ref_end < t_next:
                t_next = t_ref_end
            if t_next < t:
                t_next = t
            tau = t_next - t
            if tau > 0.0:
                tc = -1.0
                if not refr:
                    if model == PMODEL_DELTA:
                        vn = d + (v - d) * exp(-tau / tm)
                        if vn >= vth:
                            # v relaxes monotonically towards d > v_th: closed form
                            tc = tm * log((d - v) / (d - vth))
                            if not (tc > 0.0):
                                tc = 0.0
                            if tc > tau:
                                tc = tau
                        else:
                            v = vn
                    else:
                        tc = self._cuba_crossing(p, v, s, d, tau)
                        if tc < 0.0:
                            em = exp(-tau / tm)
                            vn = d + (v - d) * em
                            for r in range(nr):
                                tk = self.rec_tk[rec0 + r]
                                ek = exp(-tau / tk)
                                vn = vn + s[r] * _coef(self.rec_near[rec0 + r], self.rec_ck[rec0 + r],
                                                       self.rec_delta[rec0 + r], tk, tm, tau, em, ek)
                                s[r] = s[r] * ek
                            v = vn
                else:
                    for r in range(nr):
                        s[r] = s[r] * exp(-tau / self.rec_tk[rec0 + r])
                if tc >= 0.0:
                    ts = t + tc
                    if ts > t_next:
                        ts = t_next
                    for r in range(nr):
                        s[r] = s[r] * exp(-(ts - t) / self.rec_tk[rec0 + r])
                    if self._emit(n, ts, i) != 0:
                        return -1
                    v = vreset
                    t = ts
                    if has_ref:
                        eo = ts + ref_rem
                        est = n + ref_steps
                        if eo > h:
                            eo -= h
                            est += 1
                        self.ref_end_step[i] = est
                        self.ref_end_off[i] = eo
                        refr = True
                        t_ref_end = eo if est == n else INFINITY
                    continue
                t = t_next
            # at time t: the refractory period ends first, then all events of this instant apply
            if refr and t_ref_end <= t:
                refr = False
                t_ref_end = INFINITY
                self.ref_end_step[i] = NO_REFRACTORY
            while k < n_ev and ev[k].off <= t:
                if model == PMODEL_DELTA:
                    if not refr:
                        v += self.syn_weight[ev[k].syn]
                else:
                    s[self.chan_rec[ev[k].chan] - rec0] += self.syn_weight[ev[k].syn]
                k += 1
            while q >= 0 and self.drv_off[q] <= t:
                d += self.drv_delta[q]
                q += 1
                if q >= self.drv_step.shape[0] or self.drv_step[q] != n or self.drv_neuron[q] != i:
                    q = -1
            if not refr and v >= vth:
                if self._emit(n, t, i) != 0:
                    return -1
                v = vreset
                if has_ref:
                    eo = t + ref_rem
                    est = n + ref_steps
                    if eo > h:
                        eo -= h
                        est += 1
                    self.ref_end_step[i] = est
                    self.ref_end_off[i] = eo
                    refr = True
                    t_ref_end = eo if est == n else INFINITY
            if t >= h and k >= n_ev and q < 0 and not (refr and t_ref_end <= h):
                break
        self.v[i] = v
        self.drive[i] = d
        if model == PMODEL_CUBA:
            for r in range(nr):
                self.syn[chan0 + r * size + local] = s[r]
        return 0

    # -- cuba: where does v first reach threshold in (0, tau]? -----------------------------
    cdef void _cuba_probe(self, int64_t p, double v0, double* s0, double d, double t, Probe* out) noexcept nogil:
        """State at time t of a piece that starts with (v0, s0) and has no events."""
        cdef double tm = self.pop_tm[p], em = exp(-t / self.pop_tm[p]), ek, sk, tk
        cdef int64_t r, rec0 = self.pop_rec_start[p]
        out.v = d + (v0 - d) * em
        out.pos = 0.0
        out.neg = 0.0
        out.sabs = 0.0
        for r in range(self.pop_n_rec[p]):
            tk = self.rec_tk[rec0 + r]
            ek = exp(-t / tk)
            out.v += s0[r] * _coef(self.rec_near[rec0 + r], self.rec_ck[rec0 + r], self.rec_delta[rec0 + r],
                                   tk, tm, t, em, ek)
            sk = s0[r] * ek
            if sk > 0.0:
                out.pos += sk
                out.sabs += sk / tk
            else:
                out.neg += sk
                out.sabs -= sk / tk

    cdef double _cuba_crossing(self, int64_t p, double v0, double* s0, double d, double tau) noexcept nogil:
        """First t in (0, tau] with v(t) >= v_th, or -1. v0 < v_th."""
        cdef double vth = self.pop_vth[p], tm = self.pop_tm[p], tc
        cdef int64_t r, nr = self.pop_n_rec[p], sp = 0
        cdef bint has_syn = False
        cdef double sa[SEARCH_STACK]
        cdef double sb[SEARCH_STACK]
        cdef Probe pa[SEARCH_STACK]
        cdef Probe pb[SEARCH_STACK]
        cdef Probe A, B, Mp
        cdef double a, b, m, jmax, jmin, hi, lo, M, ub, min_w = tau * SEARCH_MIN_FRACTION
        for r in range(nr):
            if s0[r] != 0.0:
                has_syn = True
        if not has_syn:
            # no synaptic drive: v relaxes monotonically to d, closed form
            if d + (v0 - d) * exp(-tau / tm) < vth:
                return -1.0
            tc = tm * log((d - v0) / (d - vth))
            if not (tc > 0.0):
                tc = 0.0
            return tc if tc < tau else tau
        A.v = v0
        A.pos = 0.0
        A.neg = 0.0
        A.sabs = 0.0
        for r in range(nr):
            if s0[r] > 0.0:
                A.pos += s0[r]
                A.sabs += s0[r] / self.rec_tk[self.pop_rec_start[p] + r]
            else:
                A.neg += s0[r]
                A.sabs -= s0[r] / self.rec_tk[self.pop_rec_start[p] + r]
        self._cuba_probe(p, v0, s0, d, tau, &B)
        sa[0] = 0.0
        sb[0] = tau
        pa[0] = A
        pb[0] = B
        sp = 1
        while sp > 0:
            sp -= 1
            a = sa[sp]
            b = sb[sp]
            A = pa[sp]
            B = pb[sp]
            # bound of v on [a, b] (see module docstring)
            jmax = d + A.pos + B.neg
            jmin = d + B.pos + A.neg
            hi = A.v if A.v > jmax else jmax
            lo = A.v if A.v < jmin else jmin
            M = (A.sabs + (hi - lo) / tm) / tm
            ub = (A.v if A.v > B.v else B.v) + M * (b - a) * (b - a) / 8.0
            if B.v >= vth:
                if jmin > ub or b - a <= min_w or sp + 2 > SEARCH_STACK:
                    # v rises on all of [a, b]: the only crossing there
                    return self._cuba_root(p, v0, s0, d, a, b, A.v - vth, B.v - vth)
            else:
                if ub < vth or b - a <= min_w or sp + 2 > SEARCH_STACK:
                    continue
            m = 0.5 * (a + b)
            self._cuba_probe(p, v0, s0, d, m, &Mp)
            if Mp.v < vth:
                sa[sp] = m
                sb[sp] = b
                pa[sp] = Mp
                pb[sp] = B
                sp += 1
            sa[sp] = a
            sb[sp] = m
            pa[sp] = A
            pb[sp] = Mp
            sp += 1
        return -1.0

    cdef double _cuba_root(self, int64_t p, double v0, double* s0, double d, double a, double b,
                           double fa, double fb) noexcept nogil:
        """Safeguarded Newton for v(t) = v_th on [a, b], fa < 0 <= fb."""
        cdef double vth = self.pop_vth[p], tm = self.pop_tm[p], x, xn, f, fp, tol
        cdef Probe P
        cdef int it
        if fb == 0.0:
            return b
        x = a - fa * (b - a) / (fb - fa)
        if not (x > a and x < b):
            x = 0.5 * (a + b)
        for it in range(ROOT_MAXITER):
            self._cuba_probe(p, v0, s0, d, x, &P)
            f = P.v - vth
            if f == 0.0:
                return x
            if f > 0.0:
                b = x
            else:
                a = x
            fp = (d + P.pos + P.neg - P.v) / tm
            if fp > 0.0:
                xn = x - f / fp
            else:
                xn = 0.5 * (a + b)
            if not (xn > a and xn < b):
                xn = 0.5 * (a + b)
            tol = ROOT_XTOL + 4.0 * DBL_EPSILON * fabs(xn)
            if fabs(xn - x) <= tol or b - a <= tol:
                return xn
            x = xn
        return b

    cdef double _exp_neg(self, double x) noexcept nogil:
        """exp(-x) for 0 <= x <= dt/min(tau): exp(-k/256) from the table times the degree-5
        Taylor polynomial of the rest r (|r| < 1/256: truncation r^6/720 < 6e-18, so ~1 ulp
        overall), evaluated in Estrin's form to keep the dependency chain short."""
        cdef int64_t k
        cdef double r, r2, p01, p23, p45
        if self.exptab == NULL or not (x >= 0.0):
            return exp(-x)
        k = <int64_t>(x * EXP_TABLE_SCALE)
        if k >= self.exptab_n:
            return exp(-x)
        r = <double>k * (1.0 / EXP_TABLE_SCALE) - x        # in (-1/256, 0]
        r2 = r * r
        p01 = 1.0 + r
        p23 = 0.5 + r * (1.0 / 6.0)
        p45 = 1.0 / 24.0 + r * (1.0 / 120.0)
        return self.exptab[k] * (p01 + r2 * (p23 + r2 * p45))

    cdef double _uniform(self) noexcept nogil:
        """xoshiro256+ (Blackman & Vigna): a double in [0, 1)."""
        cdef uint64_t res = self.rng[0] + self.rng[3]
        cdef uint64_t t = self.rng[1] << 17
        self.rng[2] ^= self.rng[0]
        self.rng[3] ^= self.rng[1]
        self.rng[1] ^= self.rng[2]
        self.rng[0] ^= self.rng[3]
        self.rng[2] ^= t
        self.rng[3] = _rotl(self.rng[3], 45)
        return <double>(res >> 11) * (1.0 / 9007199254740992.0)

