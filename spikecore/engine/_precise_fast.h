/* Vectorised loops of the precise-timing kernel (_precise.pyx).
 *
 * Fast path, one population and one step: the end-of-step state by the grid engine's
 * exact propagators plus the queued events' exact contributions (summed in `acc` when
 * they were queued), for every neuron that provably does not reach threshold in the
 * step. The proof is a cheap upper bound of v over the step (see pc_cuba2_block); a
 * neuron whose bound reaches threshold, or whose refractory period ends or current
 * changes in the step (the kernel makes its bound +inf), is appended to `cand` with its
 * state untouched: the kernel replays it exactly, from its events (so every neuron's
 * acc sums are cleared here). Refractoriness is not looked at: the kernel puts v back to
 * v_reset for the few neurons clamped all step (it is exactly v_reset while clamped).
 *
 * Written in C for `restrict` (without it the loops do not vectorise; Cython cannot
 * say it) and compiled like _update.h: -O3 -fno-trapping-math (selects instead of
 * branches), -ffp-contract=off (no FMA, so every clone and the scalar code give the
 * same bits). One more switch, below: GCC's jump threading splits the loop on the
 * candidate flag, and if-conversion then writes "keep the old value" as masked stores
 * (VMASKMOVPD), which are microcoded on AMD CPUs: the earlier cuba fast path took 3-6 ns
 * per neuron-step (microbenchmark, full run) instead of 1.8. Without jump threading the
 * selects stay blends.
 *
 * acc layout, per step slot, one region per population: lif_delta: per neuron the pair
 * (sum of w*F_v over positive w, the same over negative w), so an event adds to one of
 * them; lif_cuba: [size: sum of w*F_v][size: sum of positive
 * w times the kernel peak Kmax][size per receptor: sum of w*F_syn].
 */
#ifndef SPIKECORE_PRECISE_FAST_H
#define SPIKECORE_PRECISE_FAST_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "_poisson_stream.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-thread-jumps")
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PC_CLONES __attribute__((target_clones("avx2", "default")))
#if __GNUC__ >= 11
/* a clone for x86-64-v4 too, where AVX-512 pays: the Poisson offset hash multiplies
 * 64-bit lanes (native with AVX-512DQ, emulated in AVX2: integer arithmetic, so every
 * clone gives the same bits) and converts them to double; the event ranks compare 8
 * offsets at once */
#define PC_CLONES_V4 __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define PC_CLONES_V4 PC_CLONES
#endif
#else
#define PC_CLONES
#define PC_CLONES_V4
#endif
#if defined(__GNUC__)
#define PC_INLINE static inline __attribute__((always_inline))
#else
#define PC_INLINE static inline
#endif

/* Neurons per block: flags of a block stay in L1, and a block without candidates
 * costs no scalar pass. The flags `fl` (PC_BLOCK entries) are the kernel's, placed
 * within a page apart from the streams the loops walk (precise.place_fast_path_arrays). */
#define PC_BLOCK 64

/* Append the flagged neurons of a block (cnt of them) to cand. */
PC_INLINE int64_t pc_collect(const int64_t *fl, int64_t cnt, int64_t first, int32_t *cand, int64_t nc)
{
    for (int64_t k = 0; cnt > 0; k++) {
        if (fl[k]) {
            cand[nc++] = (int32_t)(first + k);
            cnt--;
        }
    }
    return nc;
}

/* ---------------------------------------------------------------- lif_delta
 * v_free = d + (v - d) am is monotone, so v <= max(v, v_free(dt)) + positive jumps.
 * Candidates keep v.
 * acc holds per neuron the adjacent pair (pos, neg): the sums of w*F_v of the step's
 * events with w > 0 and with w < 0 (an event adds to one of them, so queuing a spike is
 * one read-modify-write per synapse). Every event's F_v = e^{-(dt - offset)/tau_m} is at
 * least e^{-dt/tau_m} = am, so the positive jumps sum to at most pos/am <= pos*gp
 * (gp: 1/am rounded up past the rounding of the sums). */
PC_INLINE int64_t pc_delta_block(int64_t size, double am, double gp, double vth,
                                 double *restrict v, const double *restrict drive, double d0, int uniform,
                                 double *restrict acc,
                                 int64_t *restrict fl)
{
    int64_t cnt = 0;
    for (int64_t k = 0; k < size; k++) {
        double vi = v[k], d = uniform ? d0 : drive[k], ap = acc[2 * k], an = acc[2 * k + 1];
        double vf = d + (vi - d) * am;
        double ub = (vi > vf ? vi : vf) + ap * gp;
        int64_t slow = ub >= vth;
        fl[k] = slow;
        cnt += slow;
        v[k] = slow ? vi : vf + (ap + an);
        acc[2 * k] = 0.0;
        acc[2 * k + 1] = 0.0;
    }
    return cnt;
}

PC_CLONES static int64_t pc_fast_delta(int64_t size, double am, double gp, double vth,
                                       double *restrict v, const double *restrict drive, int uniform,
                                       double *restrict acc,
                                       int32_t *restrict cand, int64_t first,
                                       int64_t *restrict fl)
{
    int64_t nc = 0;
    for (int64_t k0 = 0; k0 < size; k0 += PC_BLOCK) {
        int64_t m = size - k0 < PC_BLOCK ? size - k0 : PC_BLOCK;
        int64_t cnt = uniform ? pc_delta_block(m, am, gp, vth, v + k0, drive, drive[0], 1, acc + 2 * k0, fl)
                              : pc_delta_block(m, am, gp, vth, v + k0, drive + k0, 0.0, 0, acc + 2 * k0, fl);
        if (cnt)
            nc = pc_collect(fl, cnt, first + k0, cand, nc);
    }
    return nc;
}

/* ---------------------------------------------------------------- lif_cuba
 * Free solution over the step: v(t) = d + (v0 - d) e^{-t/tau_m} + sum_k s_k coef_k(t),
 * coef_k(t) = tau_k/(tau_k - tau_m) (e^{-t/tau_k} - e^{-t/tau_m}) >= 0 with maximum
 * Kmax_k over [0, dt]; the leak term is monotone. Hence
 *     v(t) <= max(v0, d + (v0 - d) am) + sum_k max(s_k, 0) Kmax_k + acc_p
 * (acc_p: the same bound for the events of the step, positive w times Kmax). Cheap,
 * and tight for all but the neurons near threshold, whose inhibition it ignores. (The exact
 * replay tries the tighter curvature bound first, so a neuron sent there in vain costs
 * little more.) Two receptors, one pass over memory; with `dale` (a constant where it is
 * inlined) the Dale's-law bound of pc_fast_cuba2 instead, kb = g0 and no acc_p; else
 * kb = Kmax_1. */
PC_INLINE int64_t pc_cuba2_block(int64_t size, int dale, double am, double vth,
                                 double a0, double a1, double c0, double c1, double k0, double kb,
                                 double *restrict v, const double *restrict drive, double d0, int uniform,
                                 double *restrict syn0, double *restrict syn1,
                                 double *restrict acc_v, double *restrict acc_p,
                                 double *restrict acc_s0, double *restrict acc_s1, int64_t *restrict fl)
{
    int64_t cnt = 0;
    for (int64_t k = 0; k < size; k++) {
        double vi = v[k], d = uniform ? d0 : drive[k], s0 = syn0[k], s1 = syn1[k];
        double av = acc_v[k], x0 = acc_s0[k], x1 = acc_s1[k];
        double lk = d + (vi - d) * am;
        double vf = lk + s0 * c0 + s1 * c1;
        double ub;
        if (dale) {
            ub = (vi > lk ? vi : lk) + s0 * k0 + x0 * kb;
        } else {
            double p0 = s0 > 0.0 ? s0 : 0.0, p1 = s1 > 0.0 ? s1 : 0.0;
            ub = (vi > lk ? vi : lk) + p0 * k0 + p1 * kb + acc_p[k];
        }
        int64_t slow = ub >= vth;
        fl[k] = slow;
        cnt += slow;
        v[k] = slow ? vi : vf + av;
        syn0[k] = slow ? s0 : s0 * a0 + x0;
        syn1[k] = slow ? s1 : s1 * a1 + x1;
        acc_v[k] = 0.0;
        if (!dale)
            acc_p[k] = 0.0;
        acc_s0[k] = 0.0;
        acc_s1[k] = 0.0;
    }
    return cnt;
}

/* The block loop of both two-receptor fast paths (dale: a compile-time constant in each). */
PC_INLINE int64_t pc_fast_cuba2_blocks(int64_t size, int dale, double am, double vth,
                                       double a0, double a1, double c0, double c1, double k0, double kb,
                                       double *restrict v, const double *restrict drive, int uniform,
                                       double *restrict syn0, double *restrict syn1, double *restrict acc_v,
                                       double *restrict acc_p, double *restrict acc_s0, double *restrict acc_s1,
                                       int32_t *restrict cand, int64_t first, int64_t *restrict fl)
{
    int64_t nc = 0;
    for (int64_t b = 0; b < size; b += PC_BLOCK) {
        int64_t m = size - b < PC_BLOCK ? size - b : PC_BLOCK;
        double *restrict pb = dale ? acc_p : acc_p + b;
        int64_t cnt = uniform ? pc_cuba2_block(m, dale, am, vth, a0, a1, c0, c1, k0, kb, v + b, drive, drive[0], 1,
                                               syn0 + b, syn1 + b, acc_v + b, pb, acc_s0 + b, acc_s1 + b, fl)
                              : pc_cuba2_block(m, dale, am, vth, a0, a1, c0, c1, k0, kb, v + b, drive + b, 0.0, 0,
                                               syn0 + b, syn1 + b, acc_v + b, pb, acc_s0 + b, acc_s1 + b, fl);
        if (cnt)
            nc = pc_collect(fl, cnt, first + b, cand, nc);
    }
    return nc;
}

/* lif_cuba with two receptors (the common case), one pass over memory. With `dale`: one
 * receptor whose syn is never negative (index 0: every weight onto it and its initial
 * values >= 0) and one whose syn is never positive (index 1), as under Dale's law. Then
 * max(s0, 0) = s0, max(s1, 0) = 0, and the positive input of the step is bounded by the
 * receptor's own sum: each event adds w e^{-(dt - offset)/tau_0} >= w e^{-dt/tau_0} to
 * acc_s0, so sum w <= acc_s0 e^{dt/tau_0} (kb = g0, that factor times Kmax_0, rounded up).
 * No acc_p (NULL), a shorter bound. Without: kb = Kmax_1. One copy of the loop per bound,
 * each with its flag a constant. */
PC_CLONES static int64_t pc_fast_cuba2(int64_t size, int dale, double am, double vth,
                                       double a0, double a1, double c0, double c1, double k0, double kb,
                                       double *restrict v, const double *restrict drive, int uniform,
                                       double *restrict syn0, double *restrict syn1, double *restrict acc_v,
                                       double *restrict acc_p, double *restrict acc_s0, double *restrict acc_s1,
                                       int32_t *restrict cand, int64_t first, int64_t *restrict fl)
{
    if (dale)
        return pc_fast_cuba2_blocks(size, 1, am, vth, a0, a1, c0, c1, k0, kb, v, drive, uniform, syn0, syn1, acc_v,
                                    NULL, acc_s0, acc_s1, cand, first, fl);
    return pc_fast_cuba2_blocks(size, 0, am, vth, a0, a1, c0, c1, k0, kb, v, drive, uniform, syn0, syn1, acc_v,
                                acc_p, acc_s0, acc_s1, cand, first, fl);
}

/* lif_cuba with nr receptors: receptor r's syn at syn + r*stride, its sums at
 * acc_s + r*stride (stride: the population size). Block by block: the per-neuron
 * partial sums live in L1. */
PC_CLONES static int64_t pc_fast_cuba(int64_t size, int64_t nr, double am, double vth,
                                      const double *ak, const double *coef_h, const double *kmax,
                                      double *restrict v, const double *restrict drive,
                                      double *restrict syn,
                                      double *restrict acc_v, double *restrict acc_p,
                                      double *restrict acc_s, int32_t *restrict cand, int64_t first,
                                       int64_t *restrict fl)
{
    int64_t nc = 0, stride = size;
    double vf[PC_BLOCK], ub[PC_BLOCK];
    for (int64_t b = 0; b < size; b += PC_BLOCK) {
        int64_t m = size - b < PC_BLOCK ? size - b : PC_BLOCK, cnt = 0;
        double *restrict vb = v + b;
        const double *restrict db = drive + b;
        const double *restrict pb = acc_p + b;
        for (int64_t k = 0; k < m; k++) {
            double vi = vb[k], d = db[k];
            double lk = d + (vi - d) * am;
            vf[k] = lk;
            ub[k] = (vi > lk ? vi : lk) + pb[k];
        }
        for (int64_t r = 0; r < nr; r++) {
            const double *restrict s = syn + r * stride + b;
            double c = coef_h[r], K = kmax[r];
            for (int64_t k = 0; k < m; k++) {
                double s0 = s[k];
                vf[k] = vf[k] + s0 * c;
                ub[k] = ub[k] + (s0 > 0.0 ? s0 : 0.0) * K;
            }
        }
        {
            double *restrict avb = acc_v + b;
            double *restrict apb = acc_p + b;
            for (int64_t k = 0; k < m; k++) {
                double vi = vb[k], av = avb[k];
                int64_t slow = ub[k] >= vth;
                fl[k] = slow;
                cnt += slow;
                vb[k] = slow ? vi : vf[k] + av;
                avb[k] = 0.0;
                apb[k] = 0.0;
            }
        }
        for (int64_t r = 0; r < nr; r++) {
            double *restrict s = syn + r * stride + b;
            double *restrict as = acc_s + r * stride + b;
            double a = ak[r];
            for (int64_t k = 0; k < m; k++) {
                double s0 = s[k];
                s[k] = fl[k] ? s0 : s0 * a + as[k];
                as[k] = 0.0;
            }
        }
        if (cnt)
            nc = pc_collect(fl, cnt, first + b, cand, nc);
    }
    return nc;
}

/* ---------------------------------------------------------------- finding replayed neurons' events
 * Synapses s in [s0, s1) whose channel is marked (mark[c] = 1: the channels of the neurons
 * replayed in this step): their positions go to out, in order, their number is returned.
 * Every synapse of every spike due in the step is tested, against one L1-resident byte per
 * channel, eight at a time: their marks packed into 8 bits, so the loop's one branch per
 * eight synapses is rarely taken. (An AVX2 gather of bitmap words took 1.4x as long,
 * microbenchmark on an AMD EPYC; the scalar bitmap test twice as long.) */
#define PC_DEFINE_SCAN_MARKED(name, chan_t)                                                         \
    static int64_t name(int64_t s, int64_t s1, const chan_t *restrict chan, const uint8_t *restrict mark,  \
                        int64_t *restrict out)                                                          \
    {                                                                                                   \
        int64_t m = 0;                                                                                  \
        for (; s + 8 <= s1; s += 8) {                                                                   \
            unsigned a = 0;                                                                             \
            for (int j = 0; j < 8; j++)                                                                 \
                a |= (unsigned)mark[chan[s + j]] << j;                                                  \
            while (a) {                                                                                 \
                out[m++] = s + __builtin_ctz(a);                                                        \
                a &= a - 1;                                                                             \
            }                                                                                           \
        }                                                                                               \
        for (; s < s1; s++) {                                                                           \
            out[m] = s;                                                                                 \
            m += mark[chan[s]];                                                                         \
        }                                                                                               \
        return m;                                                                                       \
    }

/* over int32 channels, and over their uint16 copy (networks of at most 2^16 channels) */
PC_DEFINE_SCAN_MARKED(pc_scan_marked, int32_t)
PC_DEFINE_SCAN_MARKED(pc_scan_marked16, uint16_t)

/* ---------------------------------------------------------------- ordering a replayed neuron's events
 * rank[a] = the position of event a (of n <= PC_RANK_MAX) in the stable order by offset:
 * the number of events b with off[b] < off[a], or equal and b < a. off has room for
 * PC_RANK_MAX entries; those from n up to the width compared (8, 16 or 32, the least that
 * holds n) are set to +inf here, so the inner loop has a fixed length and vectorises: a
 * comparison of all of them per event, no data-dependent branch. Microbenchmark, 3-12 events: 55 ns per neuron against 90 for the
 * scalar count over the events' structs. A neuron replayed on Brunel 10k has 9 events on
 * average, 12 % more than 16. */
#define PC_RANK_MAX 32

#define PC_RANKS_OF_WIDTH(width)                                                                  \
    for (int64_t a = 0; a < n; a++) {                                                             \
        double oa = off[a];                                                                       \
        int64_t r = 0;                                                                            \
        for (int64_t b = 0; b < (width); b++)                                                     \
            r += (off[b] < oa) | ((off[b] == oa) & (b < a));                                      \
        rank[a] = r;                                                                              \
    }

PC_CLONES_V4 static void pc_event_ranks(int64_t n, double *restrict off, int64_t *restrict rank)
{
    int64_t width = n <= 8 ? 8 : n <= 16 ? 16 : PC_RANK_MAX;
    for (int64_t b = n; b < width; b++)
        off[b] = INFINITY;
    if (n <= 8) {
        PC_RANKS_OF_WIDTH(8)
    } else if (n <= 16) {
        PC_RANKS_OF_WIDTH(16)
    } else {
        PC_RANKS_OF_WIDTH(PC_RANK_MAX)
    }
}

/* Ask for the line holding p (a replayed neuron's state, read at random a little later). */
PC_INLINE void pc_prefetch(const void *p)
{
#if defined(__GNUC__)
    __builtin_prefetch(p, 0, 3);
#endif
}

/* Ask for the synapse channels [s0, s1) (at most 4096 bytes), which are read soon: a
 * spike's row on its arrival (_deliver asks a few spikes ahead), an off-grid row when a
 * spike is queued (_emit). A row read last when its neuron last spiked has left the
 * cache. pc_prefetch_row16 for the uint16 copy. */
PC_INLINE void pc_prefetch_span(const char *p, int64_t bytes)
{
#if defined(__GNUC__)
    if (bytes > 4096)
        bytes = 4096;
    for (int64_t b = 0; b < bytes; b += 64)
        __builtin_prefetch(p + b, 0, 1);
#endif
}
PC_INLINE void pc_prefetch_row(const int32_t *chan, int64_t s0, int64_t s1)
{
    pc_prefetch_span((const char *)(chan + s0), (s1 - s0) * (int64_t)sizeof(int32_t));
}
PC_INLINE void pc_prefetch_row16(const uint16_t *chan, int64_t s0, int64_t s1)
{
    pc_prefetch_span((const char *)(chan + s0), (s1 - s0) * (int64_t)sizeof(uint16_t));
}

/* ---------------------------------------------------------------- exp(-x) for queuing
 * exp(-x) for 0 <= x < tab_n/PC_EXP_SCALE: exp(-k/PC_EXP_SCALE) from the table times
 * the degree-5 Taylor polynomial of the rest r (|r| < 1/256: truncation r^6/720 < 6e-18,
 * ~1 ulp overall), in Estrin's form. The caller guarantees the range (offsets lie in
 * (0, dt] and the table covers dt/min(tau)). */
#define PC_EXP_SCALE 256

PC_INLINE double pc_exp_tab(double x, const double *tab)
{
    int32_t k = (int32_t)(x * PC_EXP_SCALE);
    double r = (double)k * (1.0 / PC_EXP_SCALE) - x;     /* in (-1/256, 0] */
    double r2 = r * r;
    double p01 = 1.0 + r;
    double p23 = 0.5 + r * (1.0 / 6.0);
    double p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    return tab[k] * (p01 + r2 * (p23 + r2 * p45));
}

/* exp(-x) without a table (a table lookup does not vectorise well: gathers): Taylor
 * polynomials in Estrin's form, of degree 8 for 0 <= x <= PC_EXP_POLY8_MAX (truncation
 * x^9/9! < 6e-18) and of degree 5 for 0 <= x <= PC_EXP_POLY5_MAX (x^6/6! < 7e-17). */
#define PC_EXP_POLY8_MAX 0.05
#define PC_EXP_POLY5_MAX 0.006

PC_INLINE double pc_exp_poly5(double x)
{
    double r = -x, r2 = r * r;
    double p01 = 1.0 + r, p23 = 0.5 + r * (1.0 / 6.0), p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    return p01 + r2 * (p23 + r2 * p45);
}

PC_INLINE double pc_exp_poly8(double x)
{
    double r = -x, r2 = r * r, r4 = r2 * r2;
    double p01 = 1.0 + r, p23 = 0.5 + r * (1.0 / 6.0);
    double p45 = 1.0 / 24.0 + r * (1.0 / 120.0), p67 = 1.0 / 720.0 + r * (1.0 / 5040.0);
    return (p01 + r2 * p23) + r4 * ((p45 + r2 * p67) + r4 * (1.0 / 40320.0));
}

/* The factor of a Poisson spike, exp(-x) for x = (dt - offset)/tau in [0, dt/tau]: by
 * pc_exp_poly5 or pc_exp_poly8 when `poly` is 5 or 8 (dt/tau within their range for every
 * tau), else (poly = 0) pc_exp_tab. Every path that sums Poisson factors uses this, so
 * they agree bit for bit. x is computed as u * xs from the spike's 32 random bits u
 * (offset = dt (1 - u/2^32), pc_poisson_offset) and xs = dt/tau/2^32 (pc_poisson_xscale): one
 * multiplication, and within 1e-18 of (dt - offset)/tau. */
PC_INLINE double pc_poisson_factor(double x, const double *tab, int poly)
{
    return poly == 5 ? pc_exp_poly5(x) : poly == 8 ? pc_exp_poly8(x) : pc_exp_tab(x, tab);
}

/* The scale xs of pc_poisson_factor's argument for a target with time constant 1/inv_tau. */
PC_INLINE double pc_poisson_xscale(double dt, double inv_tau)
{
    return dt * inv_tau * 0x1.0p-32;
}

/* out[p] = the factor of a Poisson spike with random bits uu[p] (as a double) onto a
 * target with scale xs, for p < m (pc_poisson_factor). */
PC_CLONES static void pc_exp_factors(int64_t m, double xs, const double *restrict uu,
                                     const double *restrict tab, int poly, double *restrict out)
{
    if (poly == 5)
        for (int64_t p = 0; p < m; p++)
            out[p] = pc_exp_poly5(uu[p] * xs);
    else if (poly == 8)
        for (int64_t p = 0; p < m; p++)
            out[p] = pc_exp_poly8(uu[p] * xs);
    else
        for (int64_t p = 0; p < m; p++)
            out[p] = pc_exp_tab(uu[p] * xs, tab);
}

/* ---------------------------------------------------------------- Poisson offsets
 * Counter-based: the offset of spike j of Poisson neuron k in step n is a pure function
 * of (key, n, k, j), so the exact replay of a neuron can redraw the Poisson spikes it
 * received instead of the kernel storing them. SplitMix64's finaliser (Steele, Lea &
 * Flood 2014) hashes the counters; one hash gives the offsets of two spikes (2j, 2j+1),
 * 32 bits each, so an offset is a multiple of dt/2^32 (2.3e-14 s at dt = 0.1 ms). */
PC_INLINE uint64_t pc_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Per-step key: SplitMix64's output number n for the stream `key`. */
PC_INLINE uint64_t pc_step_key(uint64_t key, int64_t n)
{
    return pc_mix64(key + ((uint64_t)n + 1) * 0x9E3779B97F4A7C15ULL);
}

/* The hash behind spikes 2jj and 2jj + 1 (jj < 2^15) of Poisson neuron k in the step with
 * key `sk`. */
PC_INLINE uint64_t pc_poisson_pair(uint64_t sk, int64_t k, int64_t jj)
{
    return pc_mix64(sk + ((((uint64_t)k << 15) | (uint64_t)jj) + 1) * 0x9E3779B97F4A7C15ULL);
}

/* The low and the high 32 bits of a pair's hash as doubles (converted as 64-bit integers:
 * one instruction with AVX-512DQ). */
PC_INLINE double pc_u_lo(uint64_t z)
{
    return (double)(int64_t)(z & 0xFFFFFFFFULL);
}
PC_INLINE double pc_u_hi(uint64_t z)
{
    return (double)(int64_t)(z >> 32);
}

/* The 32 random bits u of spike j (< 2^16) of Poisson neuron k in the step with key `sk`:
 * the low (even j) or high (odd j) half of its pair's hash, as a double. */
PC_INLINE double pc_poisson_u(uint64_t sk, int64_t k, int64_t j)
{
    uint64_t z = pc_poisson_pair(sk, k, j >> 1);
    return j & 1 ? pc_u_hi(z) : pc_u_lo(z);
}

/* Offset in (0, dt] of spike j (< 2^16) of Poisson neuron k in the step with key `sk`:
 * dt (1 - u/2^32) (1 - u/2^32 is exact). */
PC_INLINE double pc_poisson_offset(uint64_t sk, int64_t k, int64_t j, double dt)
{
    return dt * (1.0 - pc_poisson_u(sk, k, j) * 0x1.0p-32);
}

/* uu[p] = pc_poisson_u(sk, src[p], idx[p]) and off[p] = the offset (pc_poisson_offset),
 * for p < m (vectorised). */
PC_CLONES_V4 static void pc_poisson_offsets(int64_t m, uint64_t sk, const int32_t *restrict src,
                                               const int32_t *restrict idx, double dt, double *restrict uu,
                                               double *restrict off)
{
    for (int64_t p = 0; p < m; p++) {
        double u = pc_poisson_u(sk, src[p], idx[p]);
        uu[p] = u;
        off[p] = dt * (1.0 - u * 0x1.0p-32);
    }
}

/* Counts of every Poisson neuron at step n, into out[0 .. sum of sizes): the stream of
 * spikecore.ir.poisson_counts (_poisson_stream.h, shared with the grid engine) with every
 * source's window open, since the kernel drops the spikes outside it at their exact times.
 * Node q covers neurons [first[q], first[q] + size[q]) and draws from seed[q]; its neurons
 * share the table cdf[toff[q] ..] of tlen[q] entries, or (toff[q] < 0) neuron k has its own,
 * cdf[pt_off[k] ..] of pt_len[k] entries. */
static void pc_poisson_counts(int64_t n_nodes, const int64_t *first, const int64_t *size, const uint64_t *seed,
                              const int64_t *toff, const int32_t *tlen, const int64_t *pt_off,
                              const int32_t *pt_len, const double *cdf, int64_t n, uint16_t *out)
{
    for (int64_t q = 0; q < n_nodes; q++) {
        int64_t f = first[q], m = size[q];
        uint64_t ctr0 = (uint64_t)n * (uint64_t)m + 1;
        if (toff[q] >= 0) {
            sc_pois_shared(seed[q], ctr0, m, cdf + toff[q], tlen[q], out + f);
            continue;
        }
        for (int64_t k = 0; k < m; k++)
            out[f + k] = (uint16_t)sc_upper(cdf + pt_off[f + k], pt_len[f + k], sc_unit(seed[q], ctr0 + (uint64_t)k));
    }
}

/* Lay out the Poisson spikes of one step: spike j of source k gets src = k, idx = j, in
 * source order; returns their number. Branch-free for counts <= 4 (Poisson counts are
 * random, so a loop over them mispredicts), hence 4 entries of slack in src and idx. */
static int64_t pc_poisson_fill(int64_t ns, const uint16_t *restrict cnt, int32_t *restrict src,
                               int32_t *restrict idx)
{
    int64_t P = 0;
    for (int64_t k = 0; k < ns; k++) {
        int64_t m = cnt[k];
        src[P] = src[P + 1] = src[P + 2] = src[P + 3] = (int32_t)k;
        idx[P] = 0;
        idx[P + 1] = 1;
        idx[P + 2] = 2;
        idx[P + 3] = 3;
        for (int64_t j = 4; j < m; j++) {
            src[P + j] = (int32_t)k;
            idx[P + j] = (int32_t)j;
        }
        P += m;
    }
    return P;
}

/* Fast-path sums of the Poisson spikes of one step (laid out by pc_poisson_fill, factors
 * fac[um*fstride + p]) for the sources with one on-grid synapse onto a lif_delta neuron
 * (target[k] >= 0: the index of its pair in acc): w * (sum of the spikes' factors) to the
 * pair's positive or negative sum, in the slot `dsteps` after slot0. Branch-free for counts <= 4 (fac has 4 entries of zero
 * slack); a source with count 0 adds zeros. The other sources are listed in `other`
 * (with the position of their first spike in `other_q`) for the general scatter. */
static const double pc_first_ones[5][4] = {
    {0.0, 0.0, 0.0, 0.0}, {1.0, 0.0, 0.0, 0.0}, {1.0, 1.0, 0.0, 0.0}, {1.0, 1.0, 1.0, 0.0}, {1.0, 1.0, 1.0, 1.0}};

static int64_t pc_poisson_simple(int64_t ns, const uint16_t *restrict cnt, const int64_t *restrict target,
                                 const double *restrict weight, const int32_t *restrict dsteps,
                                 const int32_t *restrict um, const double *restrict fac, int64_t fstride,
                                 double *acc, int64_t acc_slot, int64_t slot0, int64_t L,
                                 int32_t *restrict other, int64_t *restrict other_q)
{
    int64_t q = 0, no = 0;
    for (int64_t k = 0; k < ns; k++) {
        int64_t m = cnt[k], i = target[k];
        if (i < 0) {
            if (m) {
                other[no] = (int32_t)k;
                other_q[no] = q;
                no++;
            }
            q += m;
            continue;
        }
        const double *f = fac + um[k] * fstride + q;
        /* f * 1.0 or f * 0.0 (f is finite), the 0/1 from a table: no branch on the random count */
        const double *mk = pc_first_ones[m < 4 ? m : 4];
        double fs = (f[0] * mk[0] + f[1] * mk[1]) + (f[2] * mk[2] + f[3] * mk[3]);
        for (int64_t j = 4; j < m; j++)
            fs = fs + f[j];
        int64_t slot = slot0 + dsteps[k];
        slot = slot >= L ? slot - L : slot;
        double *ap = acc + slot * acc_slot;
        double w = weight[k];
        ap[i + (w < 0.0)] = ap[i + (w < 0.0)] + w * fs;
        q += m;
    }
    return no;
}

/* pc_exp_tab with a 64-bit table index: the same number (x * PC_EXP_SCALE < 2^31), but
 * loops that mix it with 64-bit integer lanes vectorise at full width. */
PC_INLINE double pc_exp_tab64(double x, const double *tab)
{
    int64_t k = (int64_t)(x * PC_EXP_SCALE);
    double r = (double)k * (1.0 / PC_EXP_SCALE) - x;
    double r2 = r * r;
    double p01 = 1.0 + r;
    double p23 = 0.5 + r * (1.0 / 6.0);
    double p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    return tab[k] * (p01 + r2 * (p23 + r2 * p45));
}

/* pc_poisson_direct's loop over the first 4 spikes of every source of a block, with exp
 * evaluation EXPF (a name, so the three loops are one text). */
#define PC_DIRECT_FIRST4(EXPF)                                                                        \
    for (int64_t i = 0; i < m; i++) {                                                                 \
        uint64_t z0 = pc_poisson_pair(sk, b + i, 0), z1 = pc_poisson_pair(sk, b + i, 1);              \
        double it = xscale[b + i], c = (double)cnt[b + i];                                            \
        double f0 = EXPF(pc_u_lo(z0) * it), f1 = EXPF(pc_u_hi(z0) * it);                              \
        double f2 = EXPF(pc_u_lo(z1) * it), f3 = EXPF(pc_u_hi(z1) * it);                              \
        fv[i] = (f0 * (double)(c > 0.0) + f1 * (double)(c > 1.0)) + (f2 * (double)(c > 2.0) + f3 * (double)(c > 3.0)); \
    }
#define PC_EXP_TAB64_OF(x) pc_exp_tab64((x), tab)

/* The Poisson spikes of one step in one pass from their counts, for sources without a
 * window (the common case): each spike's offset (pc_poisson_offset) and factor
 * exp(-(dt - offset)/tau) (pc_poisson_factor; xscale[k]: its scale for source k's target's tau_mem),
 * summed per source; the sources with one on-grid synapse onto a lif_delta neuron add them
 * to the fast-path sums as pc_poisson_simple does (aoff[k] >= 0: the position of the
 * target's positive or negative sum, by the weight's sign, in the slot slot0 + its delay,
 * as an offset from the slot0 = 0 slot; aoff[k] = -1 for the other sources), the others
 * with spikes are listed in `other` for the general scatter. The same numbers in the same
 * order as pc_poisson_fill, pc_poisson_offsets, pc_exp_factors and pc_poisson_simple (kept
 * for windowed sources), without laying the spikes out in memory. Per block of sources:
 * the first 4 spikes of every source in one loop (hashes, offsets, factors and their sum
 * vectorise together; branch-free, since counts are random and a loop over them
 * mispredicts: lanes beyond a count add +0.0, as f * 0.0 does there); spikes 4 and 5 for
 * the sources with more than 4 (5 % at 2 spikes per step), from one hash and again
 * branch-free; the rarer further ones one by one. A block whose targets are consecutive
 * pairs (one-to-one onto a population, one sign) adds its sums in a vectorised loop.
 * (Microbenchmark, 10^4 sources at 2 spikes per step: 4.8 ns per source-step with the
 * spikes 4+ one by one and separate loops per stage, 3.8 now.) */
PC_CLONES_V4 static int64_t pc_poisson_direct(int64_t ns, const uint16_t *restrict cnt, uint64_t sk, double dt,
                                                 const double *restrict tab, int poly, const double *restrict xscale,
                                                 const int64_t *restrict aoff, const double *restrict weight,
                                                 double *acc, int64_t acc_slot, int64_t slot0, int64_t L,
                                                 int32_t *restrict other)
{
    double fv[PC_BLOCK];
    int64_t more[PC_BLOCK];
    int64_t no = 0, base = slot0 * acc_slot, wrap = L * acc_slot;
    for (int64_t b = 0; b < ns; b += PC_BLOCK) {
        int64_t m = ns - b < PC_BLOCK ? ns - b : PC_BLOCK, nm = 0;
        /* the first 4 spikes of every source, branch-free: lanes beyond a count add +0.0;
         * one loop per exp evaluation (pc_poisson_factor's choice, hoisted) */
        if (poly == 5)
            PC_DIRECT_FIRST4(pc_exp_poly5)
        else if (poly == 8)
            PC_DIRECT_FIRST4(pc_exp_poly8)
        else
            PC_DIRECT_FIRST4(PC_EXP_TAB64_OF)
        for (int64_t i = 0; i < m; i++) {
            more[nm] = i;
            nm += cnt[b + i] > 4;
        }
        /* spikes 4 and 5 of the sources with more than 4 (one hash, branch-free), the rare
         * further ones one by one: the same sums in the same order as spike by spike */
        for (int64_t q = 0; q < nm; q++) {
            int64_t i = more[q], k = b + i, c = cnt[k];
            double it = xscale[k];
            uint64_t z = pc_poisson_pair(sk, k, 2);
            double f = fv[i] + pc_poisson_factor(pc_u_lo(z) * it, tab, poly);
            f = f + pc_poisson_factor(pc_u_hi(z) * it, tab, poly) * (double)(c > 5);
            for (int64_t j = 6; j < c; j++)
                f = f + pc_poisson_factor(pc_poisson_u(sk, k, j) * it, tab, poly);
            fv[i] = f;
        }
        int64_t any_other = 0;
        for (int64_t i = 0; i < m; i++) {
            fv[i] = weight[b + i] * fv[i];
            any_other |= aoff[b + i] < 0;
        }
        if (!any_other) {
            int64_t a0 = aoff[b] + base, a1 = aoff[b + m - 1] + base, aff = 1;
            for (int64_t i = 0; i < m; i++)
                aff &= aoff[b + i] == aoff[b] + 2 * i;
            if (aff && (a0 >= wrap) == (a1 >= wrap)) {
                double *restrict ap = acc + (a0 >= wrap ? a0 - wrap : a0);
                for (int64_t i = 0; i < m; i++)
                    ap[2 * i] += fv[i];
                continue;
            }
            for (int64_t i = 0; i < m; i++) {
                int64_t a = aoff[b + i] + base;
                a -= a >= wrap ? wrap : 0;
                acc[a] = acc[a] + fv[i];
            }
            continue;
        }
        for (int64_t i = 0; i < m; i++) {
            int64_t k = b + i, a = aoff[k];
            other[no] = (int32_t)k;
            no += (a < 0) & (cnt[k] > 0);
            if (a < 0)
                continue;
            a += base;
            a -= a >= wrap ? wrap : 0;
            acc[a] = acc[a] + fv[i];
        }
    }
    return no;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

#endif
