/* Per-neuron update of the native engine's Loihi mode (called from _loihi.pyx).
 *
 * In C for the same reason as _update.h: `restrict` pointers, without which the
 * compiler will not vectorise (it must assume u, v and the input row alias).
 * Everything is integer arithmetic, so the AVX2 and baseline clones give identical
 * results. Lava's rules (lava/proc/lif/models.py, AbstractPyLifModelFixed.subthr_dynamics,
 * PyLifModelBitAcc.spiking_activation, AbstractPyLifModelFixed.reset_voltage):
 *
 *   u <- np.int32(trunc0(np.int64(u) * fu / 4096)) + (a_in << 6)   (int32 arithmetic)
 *   u <- u - 2**24 if u > 2**23;  u + 2**24 if u <= -2**23          (one wrap, not a modulo)
 *   v <- clip(np.int32(trunc0(np.int64(v) * fv / 4096)) + u + bias, -(2**23 - 1), 2**23 - 1)
 *   spike where v > vth << 6, then v <- 0 (u is kept)
 *
 * with fu = 4096 - (du + 1), fv = 4096 - dv in [0, 4095] and trunc0 rounding toward zero
 * (Lava: np.sign(d) * np.right_shift(np.abs(d), 12)). int32 wrap-around is done in uint32,
 * where C defines it; uint32 -> int32 conversion and >> on negative int32 are
 * two's-complement/arithmetic in GCC (documented implementation-defined behaviour).
 */
#ifndef SPIKECORE_LOIHI_UPDATE_H
#define SPIKECORE_LOIHI_UPDATE_H

#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define LO_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LO_CLONES
#endif

#define LO_MAX_UV (1 << 23)          /* max_uv_val = 2**(uv_bitwidth - 1) */
#define LO_UV_SPAN (1 << 24)
#define LO_V_LIMIT ((1 << 23) - 1)
#define LO_ACT_SHIFT 6               /* act_shift */
#define LO_BLOCK 16

/* trunc0(x * f / 4096) for any int32 x and 0 <= f <= 4096, in 32-bit lanes:
 * x = hi*4096 + lo (hi = floor(x/4096), 0 <= lo < 4096), so
 * floor(x f / 4096) = hi f + floor(lo f / 4096), and rounding toward zero adds 1
 * when x < 0 and the division is inexact ((lo f) mod 4096 != 0). The true result
 * fits int32 (|result| <= |x|), so computing it modulo 2**32 is exact. */
static inline int32_t lo_decay(int32_t x, int32_t f)
{
    uint32_t lf = ((uint32_t)x & 4095u) * (uint32_t)f;
    uint32_t r = (uint32_t)(x >> 12) * (uint32_t)f + (lf >> 12)
                 + (uint32_t)((x < 0) & ((lf & 4095u) != 0));
    return (int32_t)r;
}

/* Sub-threshold update of neurons [0, n): reads and clears the input row. */
LO_CLONES static void lo_update(int64_t n, int32_t fu, int32_t fv, uint32_t *restrict ain,
                                int32_t *restrict u, int32_t *restrict v, const int32_t *restrict bias)
{
    for (int64_t k = 0; k < n; k++) {
        uint32_t a = ain[k];
        ain[k] = 0;
        int32_t cur = (int32_t)((uint32_t)lo_decay(u[k], fu) + (a << LO_ACT_SHIFT));
        cur = cur > LO_MAX_UV ? cur - LO_UV_SPAN : cur;
        cur = cur <= -LO_MAX_UV ? cur + LO_UV_SPAN : cur;
        u[k] = cur;
        int32_t vv = (int32_t)((uint32_t)lo_decay(v[k], fv) + (uint32_t)cur + (uint32_t)bias[k]);
        vv = vv > LO_V_LIMIT ? LO_V_LIMIT : vv;
        vv = vv < -LO_V_LIMIT ? -LO_V_LIMIT : vv;
        v[k] = vv;
    }
}

/* Spikes (v > vth) of neurons [0, n), numbered from `first`, appended to spk; v reset to 0.
 * A vectorised test per block skips blocks without a spike; within a block the compaction
 * is branch-free (spk has room for every neuron), since at a few % activity per step a
 * branch per neuron mispredicts often. */
LO_CLONES static int64_t lo_threshold(int64_t n, int64_t first, int32_t vth, int32_t *restrict v,
                                      int32_t *restrict spk, int64_t n_spk)
{
    int64_t k0 = 0;
    for (; k0 + LO_BLOCK <= n; k0 += LO_BLOCK) {
        int any = 0;
        for (int64_t k = k0; k < k0 + LO_BLOCK; k++)
            any |= v[k] > vth;
        if (!any)
            continue;
        for (int64_t k = k0; k < k0 + LO_BLOCK; k++) {
            int fire = v[k] > vth;
            spk[n_spk] = (int32_t)(first + k);
            n_spk += fire;
            v[k] = fire ? 0 : v[k];
        }
    }
    for (int64_t k = k0; k < n; k++) {
        if (v[k] > vth) {
            v[k] = 0;
            spk[n_spk++] = (int32_t)(first + k);
        }
    }
    return n_spk;
}

/* Messages of one presynaptic row's synapses (weight_exp >= 0, weights pre-shifted):
 * idx = (1 + delay) * n_neurons + target, offset by the current slot's base in the flat
 * ring of `total` entries (int32 messages, summed modulo 2**32 as Lava's int32 sums). A
 * graded source's spike count multiplies the weights. When the row's largest offset
 * (max_idx) does not wrap around the ring, none does (the usual case) and the loop needs
 * no wrap test. */
static inline void lo_push(int64_t s0, int64_t s1, const uint32_t *restrict idx, const uint32_t *restrict w,
                           uint32_t *restrict ring, uint64_t base, uint64_t total, uint32_t count,
                           uint32_t max_idx)
{
    if (s1 <= s0)
        return;
    if (base + max_idx < total) {
        uint32_t *restrict r = ring + base;
        if (count == 1) {
            for (int64_t s = s0; s < s1; s++)
                r[idx[s]] += w[s];
        } else {
            for (int64_t s = s0; s < s1; s++)
                r[idx[s]] += w[s] * count;
        }
        return;
    }
    for (int64_t s = s0; s < s1; s++) {
        uint64_t k = base + idx[s];
        k = k >= total ? k - total : k;
        ring[k] += w[s] * count;
    }
}

/* Ask for the cache lines of [p, p + bytes), at most 4: a spike's synapse row is a random
 * place in a large array, whose first lines would otherwise miss in every step. */
static inline void lo_prefetch(const void *p, int64_t bytes)
{
    const char *c = (const char *)p;
    for (int64_t k = 0; k < bytes && k < 256; k += 64)
        __builtin_prefetch(c + k, 0, 3);
}

/* floor(x / 2**sh), as numpy's np.right_shift on signed integers, without relying on the
 * compiler's choice for >> of a negative operand. 0 <= sh <= 31. */
static inline int64_t lo_floor_shift(int64_t x, int sh)
{
    return x >= 0 ? (x >> sh) : ~((~x) >> sh);
}

/* Synapses of one presynaptic neuron in projections with weight_exp < 0: their weights are
 * summed per cell (projection, target, delay) before the flooring shift, since Lava floors
 * the sum of a step (a_accum), not each weight. A cell touched for the first time this
 * step is listed with its ring offset and shift. Returns the new list length. */
static inline int64_t lo_accumulate(int64_t s0, int64_t s1, const uint32_t *restrict cell,
                                    const int32_t *restrict w, const uint32_t *restrict idx,
                                    const uint8_t *restrict shift, int64_t *restrict scratch,
                                    uint8_t *restrict used, uint32_t *restrict t_cell,
                                    uint32_t *restrict t_idx, uint8_t *restrict t_shift, int64_t n_t,
                                    int64_t count)
{
    for (int64_t s = s0; s < s1; s++) {
        uint32_t c = cell[s];
        if (!used[c]) {
            used[c] = 1;
            t_cell[n_t] = c;
            t_idx[n_t] = idx[s];
            t_shift[n_t] = shift[s];
            n_t++;
        }
        scratch[c] += (int64_t)w[s] * count;
    }
    return n_t;
}

/* The listed cells' floored sums into the ring (int32 messages, modulo 2**32); cells cleared. */
static inline void lo_flush(int64_t n_t, const uint32_t *restrict t_cell, const uint32_t *restrict t_idx,
                            const uint8_t *restrict t_shift, int64_t *restrict scratch, uint8_t *restrict used,
                            uint32_t *restrict ring, uint64_t base, uint64_t total)
{
    for (int64_t k = 0; k < n_t; k++) {
        uint32_t c = t_cell[k];
        /* Dense sums in int64, shifts, and sends the result as an int32 message */
        int64_t val = lo_floor_shift(scratch[c], t_shift[k]);
        scratch[c] = 0;
        used[c] = 0;
        uint64_t r = base + t_idx[k];
        r = r >= total ? r - total : r;
        ring[r] += (uint32_t)val;
    }
}

#endif
