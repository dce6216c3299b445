# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernel of the native engine: steps a realised network on the grid.

The step order is the IR's (spikecore.ir, module docstring), which is Brian2's
default schedule: state monitors, state update, threshold, propagation (queue
this step's spikes by delay, apply what is due now), reset.

State update, per neuron, with ``drive`` constant over the step:
  delta  v <- drive + (v - drive) * exp(-dt/tau_mem)                 (exact)
  cuba   v <- drive + (v - drive) * exp(-dt/tau_mem) + sum_k syn_k * coef_k,
         coef_k = tau_k/(tau_k - tau_mem) * (exp(-dt/tau_k) - exp(-dt/tau_mem))  (exact,
         Brian2 method='exact'); syn_k <- syn_k * exp(-dt/tau_k)
  coba   exponential Euler with the conductances of the step start (Brian2
         method='exponential_euler'): g_tot = g_l + sum g_k,
         v_inf = (g_l v_leak + sum g_k e_k + I) / g_tot, v <- v_inf + (v - v_inf) exp(-dt g_tot/c_m);
         g_k <- g_k * exp(-dt/tau_k)
where drive = v_leak + r*I_ext for delta/cuba, and drive = I_ext for coba.
Refractory neurons keep v; synaptic variables decay (counters: see _update.h).
"""
from libc.math cimport exp
from libc.stdint cimport int64_t, int32_t, uint16_t

import numpy as np


cdef class Kernel:
    def __init__(self, dict a, double dt, int64_t ring_len):
        self.dt = dt
        self.ring_len = ring_len
        self.pop_model = a["pop_model"]
        self.pop_start = a["pop_start"]
        self.pop_size = a["pop_size"]
        self.pop_ref_steps = a["pop_ref_steps"]
        self.pop_rec_start = a["pop_rec_start"]
        self.pop_n_rec = a["pop_n_rec"]
        self.pop_chan_start = a["pop_chan_start"]
        self.pop_vth = a["pop_vth"]
        self.pop_vreset = a["pop_vreset"]
        self.pop_decay_mem = a["pop_decay_mem"]
        self.pop_cm = a["pop_cm"]
        self.pop_gl = a["pop_gl"]
        self.pop_vleak = a["pop_vleak"]
        self.rec_decay = a["rec_decay"]
        self.rec_coef = a["rec_coef"]
        self.rec_erev = a["rec_erev"]
        self.v = a["v"]
        self.syn = a["syn"]
        self.drive = a["drive"]
        self.ring = a["ring"]
        self.refr = a["refr"]
        self.neuron_pop = a["neuron_pop"]
        self.row_ptr = a["row_ptr"]
        self.syn_chan = a["syn_chan"]
        self.syn_delay = a["syn_delay"]
        self.syn_weight = a["syn_weight"]
        self.ev_step = a["ev_step"]
        self.ev_pre = a["ev_pre"]
        self.rec_kind = a["rec_kind"]
        self.rec_idx = a["rec_idx"]
        self.rec_every = a["rec_every"]
        self.n_pops = self.pop_model.shape[0]
        self.n_neurons = self.v.shape[0]
        self.n_channels = self.syn.shape[0]
        self.n_rec = self.rec_kind.shape[0]
        self.pois_base = a["pois_base"]
        self.n_pois = a["n_pois"]
        self.ev_ptr = 0
        if self.ring.shape[0] != ring_len * self.n_channels:
            raise ValueError("ring buffer size does not match ring_len * n_channels")

    def run(self, int64_t n0, int64_t n1, const uint16_t[:, ::1] pois_counts,
            int64_t[::1] out_step, int32_t[::1] out_idx, int64_t out_n,
            double[::1] rec_out, int64_t[::1] rec_pos, int32_t[::1] spk):
        """Step from n0 towards n1; returns (next step, spikes recorded so far).

        Stops early, before a step, when out_step could overflow in that step;
        the caller grows the buffers and calls again from the returned step."""
        cdef int64_t done, total = out_n
        if pois_counts.shape[1] != self.n_pois or pois_counts.shape[0] < n1 - n0:
            raise ValueError("pois_counts has the wrong shape")
        if spk.shape[0] < self.n_neurons:
            raise ValueError("spike scratch buffer too small")
        with nogil:
            done = self._run(n0, n1, pois_counts, out_step, out_idx, out_n, rec_out, rec_pos, spk, &total)
        return done, total

    cdef int64_t _run(self, int64_t n0, int64_t n1, const uint16_t[:, ::1] pois_counts,
                      int64_t[::1] out_step, int32_t[::1] out_idx, int64_t out_n,
                      double[::1] rec_out, int64_t[::1] rec_pos, int32_t[::1] spk,
                      int64_t* out_n_ptr) noexcept nogil:
        # Input due at step n is left in ring slot n and folded into the state
        # update of step n+1 (_update.h), which is where it first acts: this saves
        # a pass over every synaptic variable per step. The slot is applied
        # explicitly only where state is observed: before monitors sample, and
        # when the kernel returns (so between calls no input is pending).
        cdef int64_t n, e, p, k, i, cap = out_step.shape[0]
        cdef int64_t n_spk
        cdef double cnt
        cdef double* v = &self.v[0] if self.n_neurons else NULL
        cdef bint sample
        for n in range(n0, n1):
            if out_n + self.n_neurons > cap:
                self._apply_slot(n - 1)
                out_n_ptr[0] = out_n
                return n
            # 1. state monitors sample at the start of the step
            sample = False
            for e in range(self.n_rec):
                if n % self.rec_every[e] == 0:
                    if not sample:
                        self._apply_slot(n - 1)
                        sample = True
                    if self.rec_kind[e] == RECORD_V:
                        rec_out[rec_pos[e]] = v[self.rec_idx[e]]
                    else:
                        rec_out[rec_pos[e]] = self.syn[self.rec_idx[e]]
                    rec_pos[e] += 1
            # 2-3. state update (applying the input due at n-1) and threshold
            n_spk = 0
            for p in range(self.n_pops):
                n_spk = self._update_population(p, n, n_spk, &spk[0])
            # 4. queue this step's spikes with their delays (d >= 1: never into slot n)
            for k in range(n_spk):
                i = spk[k]
                out_step[out_n] = n
                out_idx[out_n] = <int32_t>i
                out_n += 1
                self._push(i, n, 1.0)
            while self.ev_ptr < self.ev_step.shape[0] and self.ev_step[self.ev_ptr] <= n:
                if self.ev_step[self.ev_ptr] == n:
                    self._push(self.ev_pre[self.ev_ptr], n, 1.0)
                self.ev_ptr += 1
            for k in range(self.n_pois):
                cnt = pois_counts[n - n0, k]
                if cnt != 0:
                    self._push(self.pois_base + k, n, cnt)
            # 5. reset
            for k in range(n_spk):
                i = spk[k]
                v[i] = self.pop_vreset[self.neuron_pop[i]]
        self._apply_slot(n1 - 1)
        out_n_ptr[0] = out_n
        return n1

    cdef void _apply_slot(self, int64_t n) noexcept nogil:
        """Apply the input due at step n (after its threshold and reset) and clear the slot."""
        cdef int64_t p, k, start, size, L = self.ring_len, C = self.n_channels
        cdef double* buf
        if C == 0 or n < 0:
            return
        buf = &self.ring[(n % L) * C]
        for p in range(self.n_pops):
            start = self.pop_start[p]
            size = self.pop_size[p]
            if self.pop_model[p] == MODEL_DELTA:
                # v jumps, discarded while refractory (and for neurons that just spiked:
                # sc_threshold cleared theirs)
                for k in range(size):
                    if self.refr[start + k] == 0:
                        self.v[start + k] += buf[self.pop_chan_start[p] + k]
                    buf[self.pop_chan_start[p] + k] = 0.0
            else:
                sc_apply_pending(self.pop_n_rec[p] * size, &self.syn[self.pop_chan_start[p]],
                                 buf + self.pop_chan_start[p])

    cdef int64_t _update_population(self, int64_t p, int64_t n, int64_t n_spk, int32_t* spk) noexcept nogil:
        """Advance population p over step n (see _update.h); append its spiking neurons to spk."""
        cdef int64_t start = self.pop_start[p], size = self.pop_size[p]
        cdef int64_t nrec = self.pop_n_rec[p], rec0 = self.pop_rec_start[p], chan0 = self.pop_chan_start[p]
        cdef int64_t L = self.ring_len, C = self.n_channels
        cdef int model = self.pop_model[p]
        cdef double* v = &self.v[start]
        cdef double* d = &self.drive[start]
        cdef int32_t* refr = &self.refr[start]
        # input due at step n-1 (zero at a chunk's first step: _apply_slot cleared it) and at step n
        cdef double* pend = &self.ring[((n - 1 + L) % L) * C + chan0]
        cdef double* due = &self.ring[(n % L) * C + chan0]
        cdef double* syn = &self.syn[chan0] if model != MODEL_DELTA else NULL
        if model == MODEL_CUBA:
            if nrec == 2:
                sc_update_cuba2(size, self.pop_decay_mem[p], self.rec_coef[rec0], self.rec_coef[rec0 + 1],
                                self.rec_decay[rec0], self.rec_decay[rec0 + 1], v, d, syn, syn + size,
                                pend, pend + size, refr)
            elif nrec == 1:
                sc_update_cuba1(size, self.pop_decay_mem[p], self.rec_coef[rec0], self.rec_decay[rec0],
                                v, d, syn, pend, refr)
            else:
                sc_update_cuba_n(size, nrec, self.pop_decay_mem[p], &self.rec_coef[rec0], &self.rec_decay[rec0],
                                 v, d, syn, pend, refr)
        elif model == MODEL_DELTA:
            sc_update_delta(size, self.pop_decay_mem[p], v, d, pend, refr)
        else:
            sc_update_coba(size, nrec, self.dt, self.pop_cm[p], self.pop_gl[p], self.pop_vleak[p],
                           &self.rec_erev[rec0], &self.rec_decay[rec0], v, d, syn, pend, refr)
        return sc_threshold(size, start, self.pop_vth[p], <int32_t>self.pop_ref_steps[p], v, refr,
                            due if model == MODEL_DELTA else NULL, spk, n_spk)

    cdef void _push(self, int64_t pre, int64_t n, double mult) noexcept nogil:
        # slot of step n+d in the ring; d < L so one conditional subtraction replaces a modulo
        cdef int64_t s, slot, L = self.ring_len, C = self.n_channels, now = n % L
        cdef int64_t end = self.row_ptr[pre + 1]
        cdef const int32_t* delay = &self.syn_delay[0]
        cdef const int32_t* chan = &self.syn_chan[0]
        cdef const double* w = &self.syn_weight[0]
        cdef double* ring = &self.ring[0]
        for s in range(self.row_ptr[pre], end):
            slot = now + delay[s]
            if slot >= L:
                slot -= L
            ring[slot * C + chan[s]] += mult * w[s]
