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
#include <immintrin.h>
#define LO_HAVE_AVX512 1
#else
#define LO_HAVE_AVX512 0
#endif

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
/* Hides how a pointer was computed from the compiler: given ring + base, GCC otherwise
 * adds base to every synapse's offset inside the scatter loop (one more instruction per
 * synaptic event, ~7 % of a step here) instead of using the pointer as the address base. */
#if defined(__GNUC__)
#define LO_OPAQUE(p) __asm__("" : "+r"(p))
#else
#define LO_OPAQUE(p) ((void)0)
#endif
#define LO_PF_MAX_LINES 8            /* lo_push_spikes prefetches at most 512 bytes per array */

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

/* The ring's overflow row (see lo_push) into the input row: ain += ain2, ain2 cleared. */
LO_CLONES static void lo_fold(int64_t n, uint32_t *restrict ain, uint32_t *restrict ain2)
{
    for (int64_t k = 0; k < n; k++) {
        ain[k] += ain2[k];
        ain2[k] = 0;
    }
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

#if LO_HAVE_AVX512
/* lo_decay on 16 lanes (the same steps in 32-bit lanes). */
__attribute__((target("avx512f"))) static inline __m512i lo_decay16(__m512i x, __m512i f)
{
    const __m512i low = _mm512_set1_epi32(4095);
    __m512i lf = _mm512_mullo_epi32(_mm512_and_si512(x, low), f);
    __m512i r = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_srai_epi32(x, 12), f), _mm512_srli_epi32(lf, 12));
    __mmask16 up = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512()) & _mm512_test_epi32_mask(lf, low);
    return _mm512_mask_add_epi32(r, up, r, _mm512_set1_epi32(1));
}

/* 16 neurons of lo_update then lo_threshold, lanes m of [k, k + 16): the same integer
 * operations lane by lane (so the same bits); the spiking neurons' numbers are
 * compressed into spk[n_spk...] without a branch (16 entries written, the spikes first:
 * spk has that much room past its last neuron). Masked loads and stores only where m is
 * not all lanes: they are slow on some CPUs. */
__attribute__((target("avx512f"))) static inline int64_t lo_step16(int64_t k, __mmask16 m, int full, int64_t first,
                                                                  __m512i vfu, __m512i vfv, __m512i vthr,
                                                                  uint32_t *restrict ain, uint32_t *restrict ain2,
                                                                  int32_t *restrict u,
                                                                  int32_t *restrict v, const int32_t *restrict bias,
                                                                  int32_t *restrict spk, int64_t n_spk)
{
    const __m512i zero = _mm512_setzero_si512();
    const __m512i span = _mm512_set1_epi32(LO_UV_SPAN);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i a, uu, vv, bb;
    if (full) {
        a = _mm512_loadu_si512(ain + k);
        _mm512_storeu_si512(ain + k, zero);
        if (ain2) {
            a = _mm512_add_epi32(a, _mm512_loadu_si512(ain2 + k));
            _mm512_storeu_si512(ain2 + k, zero);
        }
        uu = _mm512_loadu_si512(u + k);
        vv = _mm512_loadu_si512(v + k);
        bb = _mm512_loadu_si512(bias + k);
    } else {
        a = _mm512_maskz_loadu_epi32(m, ain + k);
        _mm512_mask_storeu_epi32(ain + k, m, zero);
        if (ain2) {
            a = _mm512_add_epi32(a, _mm512_maskz_loadu_epi32(m, ain2 + k));
            _mm512_mask_storeu_epi32(ain2 + k, m, zero);
        }
        uu = _mm512_maskz_loadu_epi32(m, u + k);
        vv = _mm512_maskz_loadu_epi32(m, v + k);
        bb = _mm512_maskz_loadu_epi32(m, bias + k);
    }
    __m512i cur = _mm512_add_epi32(lo_decay16(uu, vfu), _mm512_slli_epi32(a, LO_ACT_SHIFT));
    cur = _mm512_mask_sub_epi32(cur, _mm512_cmpgt_epi32_mask(cur, _mm512_set1_epi32(LO_MAX_UV)), cur, span);
    cur = _mm512_mask_add_epi32(cur, _mm512_cmple_epi32_mask(cur, _mm512_set1_epi32(-LO_MAX_UV)), cur, span);
    vv = _mm512_add_epi32(_mm512_add_epi32(lo_decay16(vv, vfv), cur), bb);
    vv = _mm512_max_epi32(_mm512_min_epi32(vv, _mm512_set1_epi32(LO_V_LIMIT)), _mm512_set1_epi32(-LO_V_LIMIT));
    __mmask16 fire = _mm512_cmpgt_epi32_mask(vv, vthr) & m;
    vv = _mm512_mask_mov_epi32(vv, fire, zero);
    if (full) {
        _mm512_storeu_si512(u + k, cur);
        _mm512_storeu_si512(v + k, vv);
    } else {
        _mm512_mask_storeu_epi32(u + k, m, cur);
        _mm512_mask_storeu_epi32(v + k, m, vv);
    }
    __m512i ids = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(first + k)), lane);
    _mm512_storeu_si512(spk + n_spk, _mm512_maskz_compress_epi32(fire, ids));
    return n_spk + __builtin_popcount((unsigned)fire);
}

/* lo_update followed by lo_threshold for neurons [0, n), 16 at a time (lo_step16). */
__attribute__((target("avx512f"))) static int64_t lo_step_avx512(int64_t n, int64_t first, int32_t fu, int32_t fv,
                                                                 int32_t vth, uint32_t *restrict ain,
                                                                 uint32_t *restrict ain2, int32_t *restrict u,
                                                                 int32_t *restrict v,
                                                                 const int32_t *restrict bias,
                                                                 int32_t *restrict spk, int64_t n_spk)
{
    const __m512i vfu = _mm512_set1_epi32(fu), vfv = _mm512_set1_epi32(fv), vthr = _mm512_set1_epi32(vth);
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
        n_spk = lo_step16(k, (__mmask16)0xFFFF, 1, first, vfu, vfv, vthr, ain, ain2, u, v, bias, spk, n_spk);
    if (k < n)
        n_spk = lo_step16(k, (__mmask16)((1u << (n - k)) - 1u), 0, first, vfu, vfv, vthr, ain, ain2, u, v, bias,
                          spk, n_spk);
    return n_spk;
}
#endif

/* Which lo_step uses: -1 not yet chosen, 0 the portable loops, 1 AVX-512. The two give
 * the same bits (integer operations); lo_set_simd lets the tests run both. */
static int lo_simd_choice = -1;

static inline int lo_set_simd(int enable)
{
#if LO_HAVE_AVX512
    __builtin_cpu_init();
    lo_simd_choice = enable && __builtin_cpu_supports("avx512f");
#else
    lo_simd_choice = 0;
#endif
    return lo_simd_choice;
}

/* One population's step: sub-threshold update with the input ain + ain2 (ain2 NULL: none;
 * both rows cleared), spikes appended to spk, reset. */
static inline int64_t lo_step(int64_t n, int64_t first, int32_t fu, int32_t fv, int32_t vth, uint32_t *ain,
                              uint32_t *ain2, int32_t *u, int32_t *v, const int32_t *bias, int32_t *spk,
                              int64_t n_spk)
{
    if (lo_simd_choice < 0)
        lo_set_simd(1);
#if LO_HAVE_AVX512
    if (lo_simd_choice)
        return lo_step_avx512(n, first, fu, fv, vth, ain, ain2, u, v, bias, spk, n_spk);
#endif
    if (ain2)
        lo_fold(n, ain, ain2);
    lo_update(n, fu, fv, ain, u, v, bias);
    return lo_threshold(n, first, vth, v, spk, n_spk);
}

/* The ring: the input due at step m sits in row m mod L (L = longest delay + 2) plus,
 * for m mod L <= L - 2, in the overflow row L + m mod L; lo_step adds the two. A synapse
 * of delay d holds the offset (1 + d) * n_neurons + target, and a spike of step n adds at
 * base + offset, base = (n mod L) * n_neurons: row n mod L + 1 + d, which is m mod L or
 * L + m mod L for m = n + 1 + d, and never beyond row 2 L - 2. So no message needs a
 * wrap-around test, which would cost a compare per synapse. */

/* Messages of one presynaptic row's synapses (weight_exp >= 0, weights pre-shifted: a
 * mantissa in [-256, 255] shifted by at most 7 fits int16) into the ring at base (int32
 * messages, summed modulo 2**32 as Lava's int32 sums). A graded source's spike count
 * multiplies the weights. */
static inline void lo_push(int64_t s0, int64_t s1, const uint32_t *restrict idx, const int16_t *restrict w,
                           uint32_t *restrict ring, uint64_t base, uint32_t count)
{
    uint32_t *restrict r = ring + base;
    LO_OPAQUE(r);
    if (count == 1) {
        for (int64_t s = s0; s < s1; s++)
            r[idx[s]] += (uint32_t)(int32_t)w[s];
    } else {
        for (int64_t s = s0; s < s1; s++)
            r[idx[s]] += (uint32_t)(int32_t)w[s] * count;
    }
}

/* Ask for the first two cache lines of [p, p + bytes): a spike's synapse row is a random
 * place in a large array, whose first lines would otherwise miss in every step; past
 * them the hardware prefetcher follows the row (asking for more lines was slower, here
 * on a Zen 4: the requests compete with the scatter's own loads). */
static inline void lo_prefetch(const void *p, int64_t bytes)
{
    const char *c = (const char *)p;
    for (int64_t k = 0; k < bytes && k < 128; k += 64)
        __builtin_prefetch(c + k, 0, 3);
}

/* The messages of n neuron spikes (binary rows, weight_exp >= 0). Each row is described
 * by two words, row[2 pre] = first synapse and row[2 pre + 1] = length, so a spike costs
 * one look-up before its synapses; the look-ups and the synapse rows of spikes a few
 * places ahead are prefetched, as they are random places in arrays larger than the
 * caches: lines_idx and lines_w cache lines of each row (the network's mean row, set
 * once per network: a count that varied with each row would cost a mispredicted branch
 * per spike; a prefetch past the row's end is harmless). The scatter loop is unrolled:
 * a scatter-add is a few instructions, and the loop's own counting and branching would
 * otherwise take as long. */
static inline void lo_push_spikes(int64_t n, const int32_t *restrict spk, const uint64_t *restrict row,
                                  const uint32_t *restrict idx, const int16_t *restrict w,
                                  uint32_t *restrict ring, uint64_t base, int lines_idx, int lines_w)
{
    uint32_t *restrict dst = ring + base;
    LO_OPAQUE(dst);
    for (int64_t k = 0; k < n; k++) {
        if (k + 8 < n)
            __builtin_prefetch(row + 2 * (int64_t)spk[k + 8], 0, 3);
        if (k + 3 < n) {
            const uint64_t *ra = row + 2 * (int64_t)spk[k + 3];
            const char *pi = (const char *)(idx + ra[0]), *pw = (const char *)(w + ra[0]);
            for (int l = 0; l < lines_idx; l++)
                __builtin_prefetch(pi + 64 * l, 0, 3);
            for (int l = 0; l < lines_w; l++)
                __builtin_prefetch(pw + 64 * l, 0, 3);
        }
        const uint64_t *r = row + 2 * (int64_t)spk[k];
        int64_t len = (int64_t)r[1];
        const uint32_t *restrict ix = idx + r[0];
        const int16_t *restrict ww = w + r[0];
#pragma GCC unroll 4
        for (int64_t s = 0; s < len; s++)
            dst[ix[s]] += (uint32_t)(int32_t)ww[s];
    }
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
                            uint32_t *restrict ring, uint64_t base)
{
    for (int64_t k = 0; k < n_t; k++) {
        uint32_t c = t_cell[k];
        /* Dense sums in int64, shifts, and sends the result as an int32 message */
        int64_t val = lo_floor_shift(scratch[c], t_shift[k]);
        scratch[c] = 0;
        used[c] = 0;
        ring[base + t_idx[k]] += (uint32_t)val;
    }
}

#endif
