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
Refractory neurons ((n - lastspike) < ref_steps) keep v; synaptic variables decay.
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
        self.lastspike = a["lastspike"]
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
        cdef int64_t n, i, e, p, k, s, c, r, start, size, ref, chan0, rec0, nrec, slot, cap
        cdef int64_t n_spk, row_end, L = self.ring_len, C = self.n_channels
        cdef int32_t model
        cdef double vi, dv, am, vth, g, gtot, num, vinf, val, cnt
        cdef bint refractory
        cap = out_step.shape[0]
        for n in range(n0, n1):
            if out_n + self.n_neurons > cap:
                out_n_ptr[0] = out_n
                return n
            # 1. state monitors sample at the start of the step
            for e in range(self.n_rec):
                if n % self.rec_every[e] == 0:
                    if self.rec_kind[e] == RECORD_V:
                        rec_out[rec_pos[e]] = self.v[self.rec_idx[e]]
                    else:
                        rec_out[rec_pos[e]] = self.syn[self.rec_idx[e]]
                    rec_pos[e] += 1
            # 2-3. state update and threshold, population by population
            n_spk = 0
            for p in range(self.n_pops):
                model = self.pop_model[p]
                start = self.pop_start[p]
                size = self.pop_size[p]
                ref = self.pop_ref_steps[p]
                chan0 = self.pop_chan_start[p]
                rec0 = self.pop_rec_start[p]
                nrec = self.pop_n_rec[p]
                am = self.pop_decay_mem[p]
                vth = self.pop_vth[p]
                for i in range(start, start + size):
                    refractory = (n - self.lastspike[i]) < ref
                    if model == MODEL_CUBA:
                        if not refractory:
                            vi = self.drive[i] + (self.v[i] - self.drive[i]) * am
                            for r in range(nrec):
                                vi = vi + self.syn[chan0 + r * size + (i - start)] * self.rec_coef[rec0 + r]
                            self.v[i] = vi
                        for r in range(nrec):
                            self.syn[chan0 + r * size + (i - start)] *= self.rec_decay[rec0 + r]
                    elif model == MODEL_DELTA:
                        if not refractory:
                            self.v[i] = self.drive[i] + (self.v[i] - self.drive[i]) * am
                    else:
                        if not refractory:
                            gtot = self.pop_gl[p]
                            num = self.pop_gl[p] * self.pop_vleak[p] + self.drive[i]
                            for r in range(nrec):
                                g = self.syn[chan0 + r * size + (i - start)]
                                gtot = gtot + g
                                num = num + g * self.rec_erev[rec0 + r]
                            vinf = num / gtot
                            self.v[i] = vinf + (self.v[i] - vinf) * exp(-self.dt * gtot / self.pop_cm[p])
                        for r in range(nrec):
                            self.syn[chan0 + r * size + (i - start)] *= self.rec_decay[rec0 + r]
                    if not refractory and self.v[i] > vth:
                        spk[n_spk] = <int32_t>i
                        n_spk += 1
                        self.lastspike[i] = n
            # 4a. queue this step's spikes with their delays
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
            # 4b. apply what is due now
            slot = (n % L) * C
            for p in range(self.n_pops):
                start = self.pop_start[p]
                size = self.pop_size[p]
                chan0 = self.pop_chan_start[p]
                if self.pop_model[p] == MODEL_DELTA:
                    ref = self.pop_ref_steps[p]
                    for c in range(chan0, chan0 + size):
                        val = self.ring[slot + c]
                        if val != 0.0:
                            i = start + (c - chan0)
                            if (n - self.lastspike[i]) >= ref:
                                self.v[i] += val
                            self.ring[slot + c] = 0.0
                else:
                    for c in range(chan0, chan0 + self.pop_n_rec[p] * size):
                        val = self.ring[slot + c]
                        if val != 0.0:
                            self.syn[c] += val
                            self.ring[slot + c] = 0.0
            # 5. reset
            for k in range(n_spk):
                i = spk[k]
                self.v[i] = self.pop_vreset[self.neuron_pop[i]]
        out_n_ptr[0] = out_n
        return n1

    cdef void _push(self, int64_t pre, int64_t n, double mult) noexcept nogil:
        cdef int64_t s, L = self.ring_len, C = self.n_channels
        for s in range(self.row_ptr[pre], self.row_ptr[pre + 1]):
            self.ring[((n + self.syn_delay[s]) % L) * C + self.syn_chan[s]] += mult * self.syn_weight[s]
