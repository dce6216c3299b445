/* The shared-trace stdp_pair row (_kernel_impl.h, pl_fast_row) eight synapses at a time with
 * AVX-512, float64 state: the weight updates of one presynaptic arrival (and, where the row's
 * channels are all different, its deliveries).
 *
 * Per synapse the operations of the scalar row in the same order and the same IEEE
 * roundings (no FMA: the build has -ffp-contract=off, and the intrinsics below are separate
 * multiplies and adds; max/min are the clip's selects `m > lo ? m : lo`, `m < hi ? m : hi`
 * operand for operand), so the weights are bit for bit those of the scalar code. Lanes the
 * vector form does not cover -- a window of 2^31 steps or more, or a target with more than
 * SC_PL_VEC_HIST spikes in it -- are flagged and left to the scalar code; spikes beyond the
 * decay table take stdp_pair_decayed's exp() lane by lane.
 * Chosen at run time (sc_pl_vec_available) on CPUs with AVX-512F/VL/DQ, unless
 * sc_set_plastic_simd(0) (the tests run both); included by
 * _kernel.c once, before the templated bodies. */
#ifndef SC_PLASTIC_VEC_H
#define SC_PLASTIC_VEC_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
#define SC_PL_VEC 1
#include <immintrin.h>

/* -1: not chosen yet; 0: the scalar row; 1: sc_pl_fast_vec_f64 (sc_set_plastic_simd) */
static int sc_pl_vec_choice = -1;

static inline int sc_pl_vec_set(int enable)
{
    __builtin_cpu_init();
    sc_pl_vec_choice = enable && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
                       && __builtin_cpu_supports("avx512dq");
    return sc_pl_vec_choice;
}

/* whether the rows use sc_pl_fast_vec_f64 */
static inline int sc_pl_vec_available(void)
{
    return sc_pl_vec_choice < 0 ? sc_pl_vec_set(1) : sc_pl_vec_choice;
}
/* Spikes per target the vector form applies: the newest and the ten before it that an f64
 * record holds (sc_fast_post_f64: step0 in word 0, the trace now in word 1, 32-bit offsets
 * off[0 .. 9] in words 2 .. 6). */
#define SC_PL_VEC_SPIKES 11
#ifndef SC_PL_VEC_W_AHEAD
#define SC_PL_VEC_W_AHEAD 128   /* synapses ahead whose weights and channels the vector row fetches */
#endif
#ifndef SC_PL_VEC_AHEAD
#define SC_PL_VEC_AHEAD 32   /* synapses ahead whose target records the vector row fetches */
#endif

/* What every block of a segment shares: the window [from, lim) of target spikes, the
 * segment's last arrival lg and trace xg, the rule's parameters, the decay table tab or xs
 * (xs[i] = xg * tab[2 * i], when the row made it), K: the rows of tab (of xs) a lane may
 * use -- one whose newest spike lies beyond them is left to the scalar code -- and the
 * targets' records. */
typedef struct {
    __m512i vfrom, vlim, vlg, vK;
    __m512d vxg, vsg, vap, vam, vlo, vhi;
    const double *tab, *xs;
    const int64_t *rec;
    const int64_t *hpos, *hist;                /* the targets' history positions (sc_hist_pos) and rings */
    int64_t H;                                 /* the ring's length (a power of two) */
    double xg, dt, tau;                        /* beyond the table: xg * exp(-(e dt - lg dt) / tau) */
    int64_t lg;
    int mult, depress;
    int neg;                                   /* the sign sg is not 1 (inhibitory): the multiplies by it */
} sc_pl_vec_seg;

/* a[ix[q]] in lane q, by eight scalar loads: on AMD Zen 4 they take about half the time of
 * one eight-lane gather, which also holds up the instructions around it (microcoded) */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512d sc_pl_vec_lookup(const double *a, __m512i ix)
{
    int64_t p[8] __attribute__((aligned(64)));
    _mm512_store_si512((void *)p, ix);
    __m128d a01 = _mm_loadh_pd(_mm_load_sd(a + p[0]), a + p[1]), a23 = _mm_loadh_pd(_mm_load_sd(a + p[2]), a + p[3]);
    __m128d a45 = _mm_loadh_pd(_mm_load_sd(a + p[4]), a + p[5]), a67 = _mm_loadh_pd(_mm_load_sd(a + p[6]), a + p[7]);
    __m256d lo = _mm256_insertf128_pd(_mm256_castpd128_pd256(a01), a23, 1);
    __m256d hi = _mm256_insertf128_pd(_mm256_castpd128_pd256(a45), a67, 1);
    return _mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1);
}

/* a[ix[q]] in lane q (int64), by eight scalar loads, as sc_pl_vec_lookup */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512i sc_pl_vec_lookup_i64(const int64_t *a, __m512i ix)
{
    return _mm512_castpd_si512(sc_pl_vec_lookup((const double *)a, ix));
}

/* The potentiation by one target spike at steps st in the lanes of mask ok (the others keep
 * wv): w = sg * clip(sg * w + A_plus [* (w_max - sg * w)] * x), x = xg * tab[2 * (st - lg)]
 * (xs[st - lg], the same product). The other lanes look up row 0 (xs[0] or tab[0]), whose
 * value the blend drops. */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512d sc_pl_vec_potentiate(const sc_pl_vec_seg *G, __m512d wv, __m512i st, __mmask8 ok,
                                           const int may_be_far)
{
    __m512i ix = _mm512_maskz_sub_epi64(ok, st, G->vlg);
    __mmask8 far = may_be_far ? _mm512_mask_cmpge_epi64_mask(ok, ix, G->vK) : 0;
    if (far)
        ix = _mm512_maskz_mov_epi64((__mmask8)~far, ix);
    __m512d x;
    if (G->xs)
        x = sc_pl_vec_lookup(G->xs, ix);
    else
        x = _mm512_mul_pd(G->vxg, sc_pl_vec_lookup(G->tab, _mm512_slli_epi64(ix, 1)));
    if (far) {                                 /* spikes beyond the table: stdp_pair_decayed's exp() */
        double xl[8];
        int64_t sl[8];
        _mm512_storeu_pd(xl, x);
        _mm512_storeu_si512((void *)sl, st);
        for (int q = 0; q < 8; q++)
            if (far >> q & 1)
                xl[q] = G->xg * (G->xg != 0 ? exp(-((double)sl[q] * G->dt - (double)G->lg * G->dt) / G->tau) : 0.0);
        x = _mm512_loadu_pd(xl);
    }
    __m512d m = G->neg ? _mm512_mul_pd(G->vsg, wv) : wv;   /* (1 * w is w, bit for bit) */
    __m512d d = G->mult ? _mm512_mul_pd(_mm512_mul_pd(G->vap, _mm512_sub_pd(G->vhi, m)), x) : _mm512_mul_pd(G->vap, x);
    __m512d wn = _mm512_min_pd(_mm512_max_pd(_mm512_add_pd(m, d), G->vlo), G->vhi);
    if (G->neg)
        wn = _mm512_mul_pd(G->vsg, wn);
    return _mm512_mask_blend_pd(ok, wv, wn);
}

/* The potentiations by spikes st[J-1] .. st[0] (newest first in the arrays) in the lanes of
 * in[q] & keep whose spike lies before lim, applied oldest first */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512d sc_pl_vec_potentiate_oldest_first(const sc_pl_vec_seg *G, __m512d wv, const __m512i *st,
                                                        const __mmask8 *in, int J, __mmask8 keep)
{
    for (int q = J - 1; q >= 0; q--) {         /* oldest first */
        __mmask8 ok = _mm512_mask_cmplt_epi64_mask(in[q] & keep, st[q], G->vlim);
        if (ok)
            wv = sc_pl_vec_potentiate(G, wv, st[q], ok, 1);
    }
    return wv;
}

/* The depression of weights wv by the postsynaptic traces xpost */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512d sc_pl_vec_depress(const sc_pl_vec_seg *G, __m512d wv, __m512d xpost)
{
    __m512d mm = G->neg ? _mm512_mul_pd(G->vsg, wv) : wv;
    __m512d dw = G->mult ? _mm512_mul_pd(_mm512_mul_pd(G->vam, _mm512_sub_pd(mm, G->vlo)), xpost)
                         : _mm512_mul_pd(G->vam, xpost);
    __m512d wn = _mm512_min_pd(_mm512_max_pd(_mm512_sub_pd(mm, dw), G->vlo), G->vhi);
    return G->neg ? _mm512_mul_pd(G->vsg, wn) : wn;
}

/* The lanes act of eight synapses whose targets' records start at words kb (8 per record) and
 * whose weights are wv: every spike of steps [from, lim) the records hold applied, oldest
 * first. Returns the weights; *rr: the lanes left to the caller, with their weights not
 * applied (a window of 2^31 steps or more; or the record's oldest spike at or after from:
 * those also in *hist, for the history) */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512d sc_pl_vec_all_spikes(const sc_pl_vec_seg *G, __m512i kb, __mmask8 act, __m512d wv,
                                           __mmask8 *rr_out, __mmask8 *hist_out)
{
    const __m512i low = _mm512_set1_epi64(0xffffffff);
    const int64_t *rec = G->rec;
    __m512i st[SC_PL_VEC_SPIKES];
    __mmask8 in[SC_PL_VEC_SPIKES];             /* at or after from */
    st[0] = sc_pl_vec_lookup_i64(rec, kb);     /* (every lane's kb is a record: the others' are 0) */
    in[0] = _mm512_mask_cmpge_epi64_mask(act, st[0], G->vfrom);
    /* a window of 2^31 steps or more, where the offsets say nothing */
    __mmask8 rr = _mm512_mask_cmpge_epu64_mask(in[0], _mm512_sub_epi64(st[0], G->vlg), _mm512_set1_epi64(1ll << 31));
    int J = 1;                                 /* spikes 0 .. J-1 are known */
    while (J < SC_PL_VEC_SPIKES && (in[J - 1] & (__mmask8)~rr)) {   /* two more, from word 1 + (J + 1) / 2 */
        __mmask8 want = in[J - 1] & (__mmask8)~rr;
        __m512i of = sc_pl_vec_lookup_i64(rec + 1 + (J + 1) / 2, kb);
        st[J] = _mm512_sub_epi64(st[0], _mm512_and_epi64(of, low));
        st[J + 1] = _mm512_sub_epi64(st[0], _mm512_srli_epi64(of, 32));
        in[J] = _mm512_mask_cmpge_epi64_mask(want, st[J], G->vfrom);
        in[J + 1] = _mm512_mask_cmpge_epi64_mask(in[J], st[J + 1], G->vfrom);
        J += 2;
    }
    __mmask8 hist = 0;
    if (J == SC_PL_VEC_SPIKES)                 /* the record's oldest spike in the window: the history */
        hist = in[SC_PL_VEC_SPIKES - 1] & (__mmask8)~rr;
    rr |= hist;
    *hist_out = hist;
    __mmask8 keep = (__mmask8)~rr;
    wv = sc_pl_vec_potentiate_oldest_first(G, wv, st, in, J, keep);
    *rr_out = rr;
    return wv;
}

/* Spikes per target the history pass (sc_pl_vec_history) applies at most; a lane with more in
 * the window is left to the scalar code */
#define SC_PL_VEC_HIST 64

/* The lanes act of eight synapses onto neurons kk (whose records say that every spike they
 * hold is in the window) and weights wv: every spike of steps [from, lim) in the targets'
 * histories (G->hist, ring of G->H steps per neuron at position head, len from G->hpos)
 * applied, oldest first, as sc_pl_vec_all_spikes does from the records. Returns the weights;
 * *rr: the lanes with more than SC_PL_VEC_HIST spikes in the window, left to the scalar code. */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512d sc_pl_vec_history(const sc_pl_vec_seg *G, __m512i kk, __mmask8 act, __m512d wv,
                                        __mmask8 *rr_out)
{
    __m512i hw = _mm512_maskz_mov_epi64(act, sc_pl_vec_lookup_i64(G->hpos, _mm512_slli_epi64(kk, 2)));   /* head | len << 32 */
    __m512i len = _mm512_srli_epi64(hw, 32);
    __m512i vM = _mm512_set1_epi64(G->H - 1);
    __m512i base = _mm512_mullo_epi64(kk, _mm512_set1_epi64(G->H));
    __m512i top = _mm512_add_epi64(_mm512_and_epi64(hw, _mm512_set1_epi64(0xffffffff)), len);   /* head + len */
    __m512i st[SC_PL_VEC_HIST];
    __mmask8 in[SC_PL_VEC_HIST];               /* at or after from */
    __mmask8 want = act;
    int J = 0;                                 /* spikes 0 .. J-1 (newest first) are known */
    while (J < SC_PL_VEC_HIST && want) {
        /* the gathers' masks do not wait for the previous gather: a lane's entries J < len are
         * all spikes of its history, in the window or not */
        __mmask8 has = _mm512_mask_cmpgt_epi64_mask(act, len, _mm512_set1_epi64(J));
        __m512i pos = _mm512_and_epi64(_mm512_sub_epi64(top, _mm512_set1_epi64(J + 1)), vM);
        st[J] = sc_pl_vec_lookup_i64(G->hist, _mm512_add_epi64(base, pos));   /* (in the ring, lane in has or not) */
        in[J] = _mm512_mask_cmpge_epi64_mask(want & has, st[J], G->vfrom);
        want = in[J];
        J++;
    }
    __mmask8 rr = J == SC_PL_VEC_HIST ? in[SC_PL_VEC_HIST - 1] : 0;
    __mmask8 keep = (__mmask8)~rr;
    wv = sc_pl_vec_potentiate_oldest_first(G, wv, st, in, J, keep);
    *rr_out = rr;
    return wv;
}

/* out[ch[j]] += the lane's value of v, for the lanes of mask k, j = the lane (jj NULL) or its
 * entry of jj: the deliveries of a row whose channels are all different (the order of the
 * adds does not matter then: each channel gets one) */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline void sc_pl_vec_deliver(double *restrict out, const int32_t *restrict ch, const __m256i *jj,
                                     __m512d v, __mmask8 k)
{
    double vl[8];
    int32_t jl[8];
    _mm512_storeu_pd(vl, v);
    if (jj)
        _mm256_storeu_si256((__m256i *)jl, *jj);
    if (k == 0xff && !jj) {
        for (int q = 0; q < 8; q++)
            out[ch[q]] += vl[q];
        return;
    }
    for (unsigned r = k; r; r &= r - 1) {
        int q = __builtin_ctz(r);
        out[ch[jj ? jl[q] : q]] += vl[q];
    }
}

/* Words 0 .. 3 of the records of the eight targets of channels ch (cn: their neurons, or
 * NULL: ch itself) by lane: step0, now and off[0 .. 1] (of), by eight loads of 32 bytes and a
 * transposition, instead of three gathers */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline void sc_pl_vec_records(const int64_t *rec, const int32_t *ch, const int32_t *cn, __m512i *st0,
                                     __m512i *of, __m512d *now)
{
    const __m512i ia = _mm512_setr_epi64(0, 4, 1, 5, 8, 12, 9, 13), ic = _mm512_setr_epi64(2, 6, 3, 7, 10, 14, 11, 15);
    const int64_t *r[8];
    for (int q = 0; q < 8; q++)
        r[q] = rec + 8 * (int64_t)(cn ? cn[ch[q]] : ch[q]);
    __m512i z01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_load_si256((const __m256i *)r[0])),
                                     _mm256_load_si256((const __m256i *)r[1]), 1);
    __m512i z23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_load_si256((const __m256i *)r[2])),
                                     _mm256_load_si256((const __m256i *)r[3]), 1);
    __m512i z45 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_load_si256((const __m256i *)r[4])),
                                     _mm256_load_si256((const __m256i *)r[5]), 1);
    __m512i z67 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_load_si256((const __m256i *)r[6])),
                                     _mm256_load_si256((const __m256i *)r[7]), 1);
    __m512i u0 = _mm512_unpacklo_epi64(z01, z23), u1 = _mm512_unpackhi_epi64(z01, z23);   /* a0 a2 c0 c2 a1 a3 c1 c3 */
    __m512i u2 = _mm512_unpacklo_epi64(z45, z67), u3 = _mm512_unpackhi_epi64(z45, z67);
    *st0 = _mm512_permutex2var_epi64(u0, ia, u2);
    *of = _mm512_permutex2var_epi64(u0, ic, u2);
    *now = _mm512_castsi512_pd(_mm512_permutex2var_epi64(u1, ia, u3));
}

/* m synapses (m a multiple of 8) of a shared-trace segment, starting at channels ch and
 * weights w: targets cn[ch[j]] (cn NULL: ch[j] itself), whose records (sc_fast_post_f64: 8
 * words: the step of the newest spike, the post trace at the arrival step in word 1, the
 * offsets of the ten spikes before the newest in words 2 .. 6) start at G->rec; target spikes
 * at steps in [from, lim) potentiate, oldest first. Writes the weight each synapse delivers to
 * dv[j] -- or, where out is not NULL (a row whose channels are all different), adds it to
 * out[ch[j]] at once -- and its weight after the arrival (depress: the depression by the
 * target's trace included; else the potentiations alone, a settle, and dv unused) to w[j],
 * except in the lanes flagged in rare[j / 8] (bit j % 8: a window of 2^31 steps or more, or
 * more than SC_PL_VEC_HIST spikes in it), whose w[j] is left as it was (and nothing
 * delivered). ahead: synapses after ch[m - 1] in the row whose records may be fetched.
 *
 * Three passes, so that the common case runs without a branch on the data: the first takes
 * every lane whose target has at most two spikes in the window (the newest two, from the
 * record's words 0 and 2) and collects the others (idx, at most m + 8 entries); the second
 * goes through those eight at a time with the whole record (sc_pl_vec_all_spikes), the third
 * through those whose record does not reach back to the window's start with the targets'
 * histories (sc_pl_vec_history). */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static void sc_pl_fast_vec_f64(const int32_t *restrict ch, const int32_t *restrict cn, const sc_pl_vec_seg *Gp,
                               double *restrict w, int64_t m, int64_t ahead, double *restrict dv,
                               uint8_t *restrict rare, int32_t *restrict idx, double *restrict out)
{
    const sc_pl_vec_seg Gl = *Gp, *G = &Gl;   /* a copy no store can reach: its fields stay in registers */
    const __m512i low = _mm512_set1_epi64(0xffffffff);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int64_t *rec = G->rec;
    const double *recd = (const double *)rec;
    int64_t ns = 0;                            /* lanes collected for the second pass */
    __m512i nst0 = _mm512_setzero_si512(), nof = _mm512_setzero_si512();
    __m512d nxpost = _mm512_setzero_pd();
    if (m)
        sc_pl_vec_records(rec, ch, cn, &nst0, &nof, &nxpost);
    for (int64_t j = 0; j < m; j += 8) {
        if (j + SC_PL_VEC_W_AHEAD < m + ahead) {   /* the row's weights and channels, well ahead */
            __builtin_prefetch(w + j + SC_PL_VEC_W_AHEAD, 1);
            __builtin_prefetch(ch + j + SC_PL_VEC_W_AHEAD, 0);
        }
        if (j + SC_PL_VEC_AHEAD + 8 <= m + ahead)   /* the records ahead lie apart: fetch them */
            for (int64_t q = SC_PL_VEC_AHEAD; q < SC_PL_VEC_AHEAD + 8; q++)
                __builtin_prefetch(rec + 8 * (int64_t)(cn ? cn[ch[j + q]] : ch[j + q]), 0);
        __m512i st0 = nst0, of = nof;          /* this block's records (loaded in the block before) */
        __m512d xpost = nxpost;
        if (j + 8 < m)                         /* and the next block's, while this one waits for them */
            sc_pl_vec_records(rec, ch + j + 8, cn, &nst0, &nof, &nxpost);
        __m512i st1 = _mm512_sub_epi64(st0, _mm512_and_epi64(of, low));
        __m512i st2 = _mm512_sub_epi64(st0, _mm512_srli_epi64(of, 32));
        __mmask8 in0 = _mm512_cmpge_epi64_mask(st0, G->vfrom);
        __mmask8 in1 = _mm512_mask_cmpge_epi64_mask(in0, st1, G->vfrom);
        __mmask8 in2 = _mm512_mask_cmpge_epi64_mask(in1, st2, G->vfrom);
        /* a window of 2^31 steps or more (the offsets say nothing): the scalar code; the newest
         * spike beyond the table (exp()): the second pass, as three or more spikes */
        __m512i i0 = _mm512_sub_epi64(st0, G->vlg);
        __mmask8 rr = _mm512_mask_cmpge_epu64_mask(in0, i0, _mm512_set1_epi64(1ll << 31));
        __mmask8 far = _mm512_mask_cmpge_epu64_mask(in0, i0, G->vK) & (__mmask8)~rr;
        __mmask8 slow = (in2 | far) & (__mmask8)~rr;
        __mmask8 fast = (__mmask8)~(rr | slow);
        __m512d wv = _mm512_loadu_pd(w + j);
        wv = sc_pl_vec_potentiate(G, wv, st1, _mm512_mask_cmplt_epi64_mask(in1 & fast, st1, G->vlim), 0);
        wv = sc_pl_vec_potentiate(G, wv, st0, _mm512_mask_cmplt_epi64_mask(in0 & fast, st0, G->vlim), 0);
        rare[j >> 3] = (uint8_t)rr;
        if (G->hist)                           /* the history positions the later passes may need */
            for (unsigned r = slow; r; r &= r - 1)
                __builtin_prefetch(G->hpos + 4 * (int64_t)(cn ? cn[ch[j + __builtin_ctz(r)]] : ch[j + __builtin_ctz(r)]), 0);
        _mm256_storeu_si256((__m256i *)(idx + ns),
                            _mm256_maskz_compress_epi32(slow, _mm256_add_epi32(lane, _mm256_set1_epi32((int)j))));
        ns += __builtin_popcount(slow);
        if (!G->depress) {                     /* a settle: the potentiations alone */
            _mm512_mask_storeu_pd(w + j, fast, wv);
            continue;
        }
        if (out) {                             /* the other lanes add -0.0, which leaves every value as it is */
            double vl[8];
            _mm512_storeu_pd(vl, _mm512_mask_blend_pd(fast, _mm512_set1_pd(-0.0), wv));
            for (int q = 0; q < 8; q++)
                out[ch[j + q]] += vl[q];
        } else
            _mm512_mask_storeu_pd(dv + j, fast, wv);
        _mm512_mask_storeu_pd(w + j, fast, sc_pl_vec_depress(G, wv, xpost));
    }
    int64_t nh = 0;                            /* lanes collected for the history pass (idx[0 .. nh)) */
    for (int pass = 0; pass < 2; pass++) {
    int64_t n2 = pass ? nh : ns;
    for (int64_t i = 0; i < n2; i += 8) {      /* the lanes with three or more spikes; then the history's */
        __mmask8 act = n2 - i >= 8 ? 0xff : (__mmask8)((1u << (n2 - i)) - 1);
        __m256i jj = _mm256_maskz_loadu_epi32(act, idx + i);
        /* (the lanes outside act: jj 0, a synapse of the block) */
        int32_t jl[8], kl[8];
        _mm256_storeu_si256((__m256i *)jl, jj);
        for (int q = 0; q < 8; q++)
            kl[q] = cn ? cn[ch[jl[q]]] : ch[jl[q]];
        __m256i k32 = _mm256_maskz_loadu_epi32(act, kl);
        __m512i kb = _mm512_slli_epi64(_mm512_cvtepi32_epi64(k32), 3);
        __m512d wv = _mm512_maskz_mov_pd(act, sc_pl_vec_lookup(w, _mm512_cvtepi32_epi64(jj)));
        __mmask8 rr, hist = 0;
        if (!pass) {
            wv = sc_pl_vec_all_spikes(G, kb, act, wv, &rr, &hist);
            if (G->hist) {                     /* to the history pass (idx[i .. i + 8) are read) */
                _mm256_mask_compressstoreu_epi32(idx + nh, hist, jj);
                nh += __builtin_popcount(hist);
                if (hist) {                    /* whose rings it reads: fetched ahead */
                    for (unsigned r = hist; r; r &= r - 1) {
                        int64_t k = kl[__builtin_ctz(r)], hw = G->hpos[4 * k];
                        int64_t top = (hw & 0xffffffff) + (hw >> 32), M = G->H - 1;
                        const int64_t *ring = G->hist + k * G->H;
                        for (int b = SC_PL_VEC_SPIKES; b < SC_PL_VEC_SPIKES + 24; b += 8)
                            __builtin_prefetch(ring + ((top - 1 - b) & M), 0);
                    }
                }
                rr &= (__mmask8)~hist;
            } else
                hist = 0;
        } else
            wv = sc_pl_vec_history(G, _mm512_cvtepi32_epi64(k32), act, wv, &rr);
        __mmask8 done = act & (__mmask8)~(rr | hist);
        if (rr) {                              /* the scalar code (idx[i ..] may be overwritten) */
            for (int q = 0; q < 8; q++)
                if (rr >> q & 1)
                    rare[jl[q] >> 3] |= (uint8_t)(1u << (jl[q] & 7));
        }
        if (G->depress) {
            __m512d xpost = sc_pl_vec_lookup(recd + 1, kb);
            if (out)
                sc_pl_vec_deliver(out, ch, &jj, wv, done);
            else
                _mm512_mask_i32scatter_pd((void *)dv, done, jj, wv, 8);
            wv = sc_pl_vec_depress(G, wv, xpost);
        }
        _mm512_mask_i32scatter_pd((void *)w, done, jj, wv, 8);
    }
    }
}

/* xs[i] = xg * tab[2 * i] for i < nx (the segment's trace over the window), eight at a time */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline void sc_pl_vec_tabulate(double *restrict xs, const double *restrict tab, double xg, int64_t nx)
{
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512d vx = _mm512_set1_pd(xg);
    int64_t i = 0;
    for (; i + 8 <= nx; i += 8)                /* (tab + 2 i + 15 < tab + 2 nx: in the table) */
        _mm512_storeu_pd(xs + i, _mm512_mul_pd(vx, _mm512_permutex2var_pd(_mm512_loadu_pd(tab + 2 * i), even,
                                                                          _mm512_loadu_pd(tab + 2 * i + 8))));
    for (; i < nx; i++)
        xs[i] = xg * tab[2 * i];
}

/* The block's shared parameters (sc_pl_vec_seg) of a segment */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline void sc_pl_vec_seg_init(sc_pl_vec_seg *G, const int64_t *rec, const double *tab, const double *xs,
                                      int64_t K, int64_t from, int64_t lim, int64_t lg, double xg, double sg,
                                      double ap, double am, double lo, double hi, int mult, int depress,
                                      const int64_t *hpos, const int64_t *hist, int64_t H, double dt, double tau)
{
    G->xg = xg;
    G->lg = lg;
    G->dt = dt;
    G->tau = tau;
    G->vfrom = _mm512_set1_epi64(from);
    G->vlim = _mm512_set1_epi64(lim);
    G->vlg = _mm512_set1_epi64(lg);
    G->vK = _mm512_set1_epi64(K);
    G->vxg = _mm512_set1_pd(xg);
    G->vsg = _mm512_set1_pd(sg);
    G->neg = sg != 1.0;
    G->vap = _mm512_set1_pd(ap);
    G->vam = _mm512_set1_pd(am);
    G->vlo = _mm512_set1_pd(lo);
    G->vhi = _mm512_set1_pd(hi);
    G->tab = tab;
    G->xs = xs;
    G->rec = rec;
    G->hpos = hpos;
    G->hist = hist;
    G->H = H;
    G->mult = mult;
    G->depress = depress;
}
#endif

#endif
