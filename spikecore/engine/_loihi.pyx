# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernel of the native engine's Loihi mode: Lava's bit-accurate LIF + Dense, in integers.

Reproduces, bit for bit, lava-nc 0.10.0's PyLifModelBitAcc with PyDenseModelBitAcc,
PyDelayDenseModelBitAcc, PySparseModelBitAcc and PyDelaySparseModelBitAcc under
Loihi2SimCfg(select_tag="fixed_pt"). Each rule cites the Lava file and function it
comes from (paths under lava/). Integer widths are Lava's numpy dtypes: u, v, the
received activation and every message between processes are int32 arrays whose
arithmetic wraps modulo 2**32; we compute in uint32 (defined wrap in C) and convert.

One step n (Lava time_step n+1), per neuron, all populations first, then synapses:
  a_in  = what every connection computed at step n-1 (ring slot n)
  u     = trunc0(u * (4096 - (du+1)) / 4096) + (a_in << 6), wrapped once into (-2**23, 2**23]
  v     = clip(trunc0(v * (4096 - dv) / 4096) + u + bias, -(2**23-1), 2**23-1)
  spike = v > vth << 6;  v = 0 where spiked (u kept)
then every spike of step n (neurons, spike sources, Poisson sources) adds, per
connection and target, (sum of clipped/truncated weights) << weight_exp
(arithmetic >> for negative exponents, which floors) to a_in of step n+1+d.
The weight conversion (clip by sign mode, LSB truncation) is done once in
spikecore/engine/loihi.py, the bias scaling too (both are constant).
"""
from libc.stdint cimport int64_t, int32_t, int16_t, uint64_t, uint32_t, uint16_t, uint8_t

import numpy as np

# spikes ahead of the one being delivered whose synapse rows are prefetched
cdef int64_t PREFETCH_AHEAD = 4


def set_simd(bint enable):
    """Use the AVX-512 neuron update where the CPU has it (the default), or the portable
    loops; both give the same bits. Returns whether AVX-512 is now used."""
    return bool(lo_set_simd(enable))

def csr_order(const int64_t[::1] rows, int64_t n_rows):
    """(order, row_ptr): a stable counting sort of ``rows`` (each in [0, n_rows)), O(n)."""
    cdef int64_t n = rows.shape[0], k, r
    ptr_arr = np.zeros(n_rows + 1, dtype=np.int64)
    order_arr = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] ptr = ptr_arr
    cdef int64_t[::1] order = order_arr
    cdef int64_t[::1] fill
    with nogil:
        for k in range(n):
            ptr[rows[k] + 1] += 1
        for r in range(n_rows):
            ptr[r + 1] += ptr[r]
    fill_arr = ptr_arr[:-1].copy()
    fill = fill_arr
    with nogil:
        for k in range(n):
            r = rows[k]
            order[fill[r]] = k
            fill[r] += 1
    return order_arr, ptr_arr


cdef class LoihiKernel:
    def __init__(self, dict a):
        self.pop_start = a["pop_start"]
        self.pop_size = a["pop_size"]
        self.pop_fu = a["pop_fu"]
        self.pop_fv = a["pop_fv"]
        self.pop_vth = a["pop_vth"]
        self.u = a["u"]
        self.v = a["v"]
        self.bias = a["bias"]
        self.ring = a["ring"]
        self.f_row = a["f_row"]
        self.f_idx = a["f_idx"]
        self.f_w = a["f_w"]
        self.s_ptr = a["s_ptr"]
        self.s_cell = a["s_cell"]
        self.s_idx = a["s_idx"]
        self.s_w = a["s_w"]
        self.s_shift = a["s_shift"]
        self.scratch = a["scratch"]
        self.cell_used = a["cell_used"]
        self.t_cell = a["t_cell"]
        self.t_idx = a["t_idx"]
        self.t_shift = a["t_shift"]
        self.ev_step = a["ev_step"]
        self.ev_pre = a["ev_pre"]
        self.rec_kind = a["rec_kind"]
        self.rec_phase = a["rec_phase"]
        self.rec_idx = a["rec_idx"]
        self.rec_every = a["rec_every"]
        self.n_pops = self.pop_start.shape[0]
        self.n_neurons = self.u.shape[0]
        # logical length L; the array has 2 L - 1 rows (_loihi_update.h, lo_push)
        self.ring_len = (self.ring.shape[0] + 1) // 2
        self.pois_base = a["pois_base"]
        self.n_pois = a["n_pois"]
        self.n_rec = self.rec_kind.shape[0]
        self.ev_ptr = 0
        self.n_pre = self.f_row.shape[0] // 2
        self.has_slow = self.s_w.shape[0] > 0
        self.pf_lines_idx, self.pf_lines_w = a["pf_lines"]
        if not (0 <= self.pf_lines_idx <= LO_PF_MAX_LINES and 0 <= self.pf_lines_w <= LO_PF_MAX_LINES):
            raise ValueError("pf_lines out of range")
        if (self.ring.shape[0] < 3 or self.ring.shape[0] % 2 != 1 or self.ring.shape[1] != self.n_neurons
                or self.s_ptr.shape[0] != self.f_row.shape[0] + 1 or self.f_row.shape[0] != 2 * self.n_pre
                or self.f_row.shape[1] != 2 or self.n_neurons > self.n_pre):
            raise ValueError("inconsistent kernel arrays")
        if (self.t_cell.shape[0] < self.scratch.shape[0] or self.t_idx.shape[0] < self.scratch.shape[0]
                or self.t_shift.shape[0] < self.scratch.shape[0] or self.cell_used.shape[0] != self.scratch.shape[0]):
            raise ValueError("scratch bookkeeping arrays too small")

    def run(self, int64_t n0, int64_t n1, const uint16_t[:, ::1] pois_counts,
            int64_t[::1] out_step, int32_t[::1] out_idx, int64_t out_n,
            double[::1] rec_out, int64_t[::1] rec_pos, int32_t[::1] spk, uint32_t[::1] spk_cnt):
        """Step from n0 towards n1; returns (next step, spikes recorded so far).

        Stops early, before a step, when out_step could overflow in that step;
        the caller grows the buffers and calls again from the returned step."""
        cdef int64_t done, total = out_n
        if pois_counts.shape[1] != self.n_pois or pois_counts.shape[0] < n1 - n0:
            raise ValueError("pois_counts has the wrong shape")
        # spk: 16 entries of room past the last neuron, for lo_step's block-wise writes
        if spk.shape[0] < self.n_pre + 16 or spk_cnt.shape[0] < self.n_pre + 16:
            raise ValueError("spike scratch buffers too small")
        with nogil:
            done = self._run(n0, n1, pois_counts, out_step, out_idx, out_n, rec_out, rec_pos, spk, spk_cnt,
                             &total)
        return done, total

    cdef int64_t _run(self, int64_t n0, int64_t n1, const uint16_t[:, ::1] pois_counts,
                      int64_t[::1] out_step, int32_t[::1] out_idx, int64_t out_n,
                      double[::1] rec_out, int64_t[::1] rec_pos, int32_t[::1] spk, uint32_t[::1] spk_cnt,
                      int64_t* out_n_ptr) noexcept nogil:
        cdef int64_t n, k, slot, n_spk, n_nrn, pre, n_touched, cap = out_step.shape[0]
        cdef int64_t n_ev = self.ev_step.shape[0]
        cdef uint32_t c
        cdef int32_t* spk_p = &spk[0] if spk.shape[0] else NULL
        cdef uint32_t* cnt_p = &spk_cnt[0] if spk_cnt.shape[0] else NULL
        for n in range(n0, n1):
            if out_n + self.n_neurons > cap:
                out_n_ptr[0] = out_n
                return n
            # state monitors sample at the start of the step (spikecore.ir step semantics)
            self._record(n, PHASE_START, rec_out, rec_pos)
            slot = n % self.ring_len
            n_spk = self._update(slot, spk_p)
            n_nrn = n_spk
            for k in range(n_spk):
                out_step[out_n] = n
                out_idx[out_n] = spk_p[k]
                out_n += 1
            # lava/proc/io/source.py, AbstractPyRingBuffer.run_spk: column k of the data is sent
            # at time_step k+1, i.e. like a neuron spike of step k; its value is the count
            while self.ev_ptr < n_ev and self.ev_step[self.ev_ptr] < n:
                self.ev_ptr += 1
            while self.ev_ptr < n_ev and self.ev_step[self.ev_ptr] == n:
                pre = self.ev_pre[self.ev_ptr]
                c = 0
                while self.ev_ptr < n_ev and self.ev_step[self.ev_ptr] == n and self.ev_pre[self.ev_ptr] == pre:
                    c += 1
                    self.ev_ptr += 1
                spk_p[n_spk] = <int32_t>pre
                cnt_p[n_spk] = c
                n_spk += 1
            for k in range(self.n_pois):
                c = pois_counts[n - n0, k]
                if c != 0:
                    spk_p[n_spk] = <int32_t>(self.pois_base + k)
                    cnt_p[n_spk] = c
                    n_spk += 1
            # neurons' spikes: binary rows only (a neuron spikes at most once per step)
            if n_nrn and self.f_idx.shape[0]:
                lo_push_spikes(n_nrn, spk_p, &self.f_row[0, 0], &self.f_idx[0], &self.f_w[0],
                               &self.ring[0, 0], <uint64_t>(slot * self.n_neurons), self.pf_lines_idx,
                               self.pf_lines_w)
            n_touched = 0
            if self.has_slow:
                for k in range(n_nrn):
                    pre = spk_p[k]
                    if self.s_ptr[pre + 1] > self.s_ptr[pre]:
                        n_touched = lo_accumulate(self.s_ptr[pre], self.s_ptr[pre + 1], &self.s_cell[0],
                                                  &self.s_w[0], &self.s_idx[0], &self.s_shift[0], &self.scratch[0],
                                                  &self.cell_used[0], &self.t_cell[0], &self.t_idx[0],
                                                  &self.t_shift[0], n_touched, 1)
            # sources' spikes: binary and graded rows, with their counts
            n_touched = self._propagate(slot, spk_p + n_nrn, cnt_p + n_nrn, n_spk - n_nrn, n_touched)
            if n_touched:
                lo_flush(n_touched, &self.t_cell[0], &self.t_idx[0], &self.t_shift[0], &self.scratch[0],
                         &self.cell_used[0], &self.ring[0, 0], <uint64_t>(slot * self.n_neurons))
            self._record(n, PHASE_END, rec_out, rec_pos)
        out_n_ptr[0] = out_n
        return n1

    cdef void _record(self, int64_t n, int32_t phase, double[::1] rec_out, int64_t[::1] rec_pos) noexcept nogil:
        cdef int64_t e
        for e in range(self.n_rec):
            if self.rec_phase[e] == phase and n % self.rec_every[e] == 0:
                if self.rec_kind[e] == RECORD_V:
                    rec_out[rec_pos[e]] = self.v[self.rec_idx[e]]
                else:
                    rec_out[rec_pos[e]] = self.u[self.rec_idx[e]]
                rec_pos[e] += 1

    cdef int64_t _update(self, int64_t slot, int32_t* spk) noexcept nogil:
        """Sub-threshold dynamics, spike and reset of every neuron (_loihi_update.h, which
        cites Lava's rules); returns the spike count. The input row and its overflow row
        (lo_push) are read and cleared:
        lava/magma/core/model/py/ports.py, PyInPortVectorDense.recv sums the int32 messages
        of all connections (int16 zeros + int32 -> int32), which the ring holds modulo 2**32."""
        cdef int64_t p, i0, size, n_spk = 0
        cdef bint overflow = slot + self.ring_len < self.ring.shape[0]
        if self.n_neurons == 0:
            return 0
        for p in range(self.n_pops):
            i0 = self.pop_start[p]
            size = self.pop_size[p]
            if size:
                n_spk = lo_step(size, i0, self.pop_fu[p], self.pop_fv[p], self.pop_vth[p], &self.ring[slot, i0],
                                &self.ring[slot + self.ring_len, i0] if overflow else NULL,
                                &self.u[i0], &self.v[i0], &self.bias[i0], spk, n_spk)
        return n_spk

    cdef int64_t _propagate(self, int64_t slot, const int32_t* spk, const uint32_t* cnt, int64_t n_spk,
                            int64_t n_touched) noexcept nogil:
        """Add the messages caused by this step's source spikes to the ring slots they are due
        in (neurons' spikes take lo_push_spikes, the same rule for count 1); returns the
        length of the list of touched weight_exp < 0 cells, which the caller flushes.

        lava/proc/dense/models.py, AbstractPyDenseModelBitAcc.run_spk: the a_out sent at step
        t+1 is the sum computed from s_in of step t, shifted by weight_exp (np.left_shift, or
        np.right_shift by -weight_exp, which floors); PyDelayDenseModelBitAcc (and the Sparse
        models, lava/proc/sparse/models.py) do the same per delay and add delay d on top (a_buff
        rolled: arrives at t+1+d). Ring offsets hold (1 + d) * n_neurons + target. Binary
        connections receive s_in.astype(bool) (num_message_bits = 0): one spike whatever the
        count; graded ones (num_message_bits > 0) weights.dot(s_in): the count multiplies."""
        cdef int64_t k, g, pre, row, s0
        cdef uint32_t c
        cdef uint32_t* ring = &self.ring[0, 0]
        cdef uint64_t base = <uint64_t>(slot * self.n_neurons)
        for k in range(n_spk):
            pre = spk[k]
            if k + PREFETCH_AHEAD < n_spk:
                row = spk[k + PREFETCH_AHEAD]
                s0 = self.f_row[row, 0]
                lo_prefetch(&self.f_idx[0] + s0, 4 * <int64_t>self.f_row[row, 1])
                lo_prefetch(&self.f_w[0] + s0, 2 * <int64_t>self.f_row[row, 1])
            for g in range(2):
                # row pre: binary projections (one spike); pre + n_pre: graded (the count)
                row = pre + g * self.n_pre
                c = cnt[k] if g else 1
                if self.f_row[row, 1]:
                    s0 = self.f_row[row, 0]
                    lo_push(s0, s0 + <int64_t>self.f_row[row, 1], &self.f_idx[0], &self.f_w[0], ring, base, c)
                if self.s_ptr[row + 1] > self.s_ptr[row]:
                    n_touched = lo_accumulate(self.s_ptr[row], self.s_ptr[row + 1], &self.s_cell[0], &self.s_w[0],
                                              &self.s_idx[0], &self.s_shift[0], &self.scratch[0],
                                              &self.cell_used[0], &self.t_cell[0], &self.t_idx[0],
                                              &self.t_shift[0], n_touched, c)
        return n_touched
