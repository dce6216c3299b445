/* The shared-trace stdp_pair row (_kernel_impl.h, pl_fast_row) eight synapses at a time with
 * AVX-512, float64 state: the weight updates of one presynaptic arrival, without the delivery.
 *
 * Per synapse the operations of the scalar row in the same order and the same IEEE
 * roundings (no FMA: the build has -ffp-contract=off, and the intrinsics below are separate
 * multiplies and adds; max/min are the clip's selects `m > lo ? m : lo`, `m < hi ? m : hi`
 * operand for operand), so the weights are bit for bit those of the scalar code. Lanes the
 * vector form does not cover -- a target whose record does not reach back to the segment's
 * last arrival (eleven or more spikes since), or a spike beyond the decay table -- are
 * flagged and left to the scalar code.
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
 * record holds (sc_fast_post_f64: step0 in word 0, 32-bit offsets off[0 .. 9] in words 1 .. 5). */
#define SC_PL_VEC_SPIKES 11
#ifndef SC_PL_VEC_AHEAD
#define SC_PL_VEC_AHEAD 32   /* synapses ahead whose target records the vector row fetches */
#endif

/* The potentiation by one target spike at steps st in the lanes of mask ok (the others keep
 * wv): w = sg * clip(sg * w + A_plus [* (w_max - sg * w)] * xg * tab[2 * (st - lg)]) */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static inline __m512d sc_pl_vec_potentiate(__m512d wv, __m512i st, __mmask8 ok, __m512i vlg, const double *tab,
                                           __m512d vxg, __m512d vsg, __m512d vap, __m512d vlo, __m512d vhi,
                                           int mult)
{
    __m512i ix = _mm512_slli_epi64(_mm512_maskz_sub_epi64(ok, st, vlg), 1);
    __m512d t = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), ok, ix, (const void *)tab, 8);
    __m512d x = _mm512_mul_pd(vxg, t), m = _mm512_mul_pd(vsg, wv);
    __m512d d = mult ? _mm512_mul_pd(_mm512_mul_pd(vap, _mm512_sub_pd(vhi, m)), x) : _mm512_mul_pd(vap, x);
    __m512d wn = _mm512_mul_pd(vsg, _mm512_min_pd(_mm512_max_pd(_mm512_add_pd(m, d), vlo), vhi));
    return _mm512_mask_blend_pd(ok, wv, wn);
}

/* m synapses (m a multiple of 8) of a shared-trace segment, starting at channels ch and
 * weights w: targets cn[ch[j]] (cn NULL: ch[j] itself), whose records (sc_fast_post_f64: 8
 * words, the step of the newest spike, the offsets of the ten before it in words 1 .. 5, the
 * post trace at the arrival step in word 7) start at rec; the segment's presynaptic trace xg
 * after step lg; target spikes at steps in [from, lim) potentiate, oldest first (decay factor
 * tab[2 * (step - lg)], K rows). Writes the weight each synapse delivers to dv[j] and its
 * weight after the arrival (depress: the depression by the target's trace included; else
 * the potentiations alone, a settle, and dv unused) to w[j], except in the lanes flagged in
 * rare[j / 8] (bit j % 8:
 * the record's oldest spike is at or after from, or the newest beyond the table), whose w[j]
 * is left as it was. ahead: synapses after ch[m - 1] in the row whose records may be fetched. */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static void sc_pl_fast_vec_f64(const int32_t *restrict ch, const int32_t *restrict cn, const int64_t *restrict rec,
                               const double *restrict tab, int64_t K, double *restrict w, int64_t m, int64_t ahead,
                               int64_t from, int64_t lim, int64_t lg, double xg, double sg, double ap, double am,
                               double lo, double hi, int mult, int depress, double *restrict dv,
                               uint8_t *restrict rare)
{
    const __m512i vfrom = _mm512_set1_epi64(from), vlim = _mm512_set1_epi64(lim), vlg = _mm512_set1_epi64(lg), vK = _mm512_set1_epi64(K),
                  low = _mm512_set1_epi64(0xffffffff);
    const __m512d vxg = _mm512_set1_pd(xg), vsg = _mm512_set1_pd(sg), vap = _mm512_set1_pd(ap),
                  vam = _mm512_set1_pd(am), vlo = _mm512_set1_pd(lo), vhi = _mm512_set1_pd(hi);
    const double *recd = (const double *)rec;
    for (int64_t j = 0; j < m; j += 8) {
        if (j + SC_PL_VEC_AHEAD + 8 <= m + ahead)   /* the records ahead lie apart: fetch them */
            for (int64_t q = SC_PL_VEC_AHEAD; q < SC_PL_VEC_AHEAD + 8; q++)
                __builtin_prefetch(rec + 8 * (int64_t)(cn ? cn[ch[j + q]] : ch[j + q]), 0);
        __m256i c = _mm256_loadu_si256((const __m256i *)(ch + j));
        __m256i k32 = cn ? _mm256_i32gather_epi32((const int *)cn, c, 4) : c;
        __m512i kb = _mm512_slli_epi64(_mm512_cvtepi32_epi64(k32), 3);
        __m512i st[SC_PL_VEC_SPIKES];
        __mmask8 in[SC_PL_VEC_SPIKES], ok[SC_PL_VEC_SPIKES];   /* at or after from; and before lim */
        st[0] = _mm512_i64gather_epi64(kb, (const void *)rec, 8);
        in[0] = _mm512_cmpge_epi64_mask(st[0], vfrom);
        /* beyond the table (also: a window of 2^31 steps or more, where the offsets say nothing) */
        __mmask8 rr = _mm512_mask_cmpge_epu64_mask(in[0], _mm512_sub_epi64(st[0], vlg), vK);
        int J = 1;                             /* spikes 0 .. J-1 are known */
        while (J < SC_PL_VEC_SPIKES && (in[J - 1] & (__mmask8)~rr)) {   /* two more, from word (J + 1) / 2 */
            __mmask8 want = in[J - 1] & (__mmask8)~rr;
            __m512i of = _mm512_mask_i64gather_epi64(_mm512_set1_epi64(-1), want, kb,
                                                     (const void *)(rec + (J + 1) / 2), 8);
            st[J] = _mm512_sub_epi64(st[0], _mm512_and_epi64(of, low));
            st[J + 1] = _mm512_sub_epi64(st[0], _mm512_srli_epi64(of, 32));
            in[J] = _mm512_mask_cmpge_epi64_mask(want, st[J], vfrom);
            in[J + 1] = _mm512_mask_cmpge_epi64_mask(in[J], st[J + 1], vfrom);
            J += 2;
        }
        if (J == SC_PL_VEC_SPIKES)             /* the record's oldest spike in the window: the history */
            rr |= in[SC_PL_VEC_SPIKES - 1];
        __mmask8 keep = (__mmask8)~rr;
        for (int q = 0; q < J; q++)
            ok[q] = _mm512_mask_cmplt_epi64_mask(in[q], st[q], vlim);
        __m512d wv = _mm512_loadu_pd(w + j);
        for (int q = J - 1; q >= 0; q--)       /* oldest first */
            if (ok[q] & keep)
                wv = sc_pl_vec_potentiate(wv, st[q], ok[q] & keep, vlg, tab, vxg, vsg, vap, vlo, vhi, mult);
        rare[j >> 3] = (uint8_t)rr;
        if (!depress) {                        /* a settle: the potentiations alone */
            _mm512_mask_storeu_pd(w + j, keep, wv);
            continue;
        }
        __m512d xpost = _mm512_i64gather_pd(kb, (const void *)(recd + 7), 8);
        _mm512_storeu_pd(dv + j, wv);
        /* depression by the target's postsynaptic trace */
        __m512d mm = _mm512_mul_pd(vsg, wv);
        __m512d dw = mult ? _mm512_mul_pd(_mm512_mul_pd(vam, _mm512_sub_pd(mm, vlo)), xpost) : _mm512_mul_pd(vam, xpost);
        __m512d wn = _mm512_mul_pd(vsg, _mm512_min_pd(_mm512_max_pd(_mm512_sub_pd(mm, dw), vlo), vhi));
        _mm512_mask_storeu_pd(w + j, keep, wn);
    }
}
#endif

#endif
