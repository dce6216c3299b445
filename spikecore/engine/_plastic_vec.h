/* The shared-trace stdp_pair row (_kernel_impl.h, pl_fast_row) eight synapses at a time with
 * AVX-512, float64 state: the weight updates of one presynaptic arrival, without the delivery.
 *
 * Per synapse the operations of the scalar row in the same order and the same IEEE
 * roundings (no FMA: the build has -ffp-contract=off, and the intrinsics below are separate
 * multiplies and adds; max/min are the clip's selects `m > lo ? m : lo`, `m < hi ? m : hi`
 * operand for operand), so the weights are bit for bit those of the scalar code. Lanes the
 * vector form does not cover -- a target with three or more spikes since the segment's last
 * arrival, or a spike beyond the decay table -- are flagged and left to the scalar code.
 * Chosen at run time (sc_pl_vec_available) on CPUs with AVX-512F/VL/DQ; included by
 * _kernel.c once, before the templated bodies. */
#ifndef SC_PLASTIC_VEC_H
#define SC_PLASTIC_VEC_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
#define SC_PL_VEC 1
#include <immintrin.h>

static int sc_pl_vec_choice = -1;

/* whether this CPU runs sc_pl_fast_vec_f64 (once; SPIKECORE_NO_AVX512 in the environment
 * turns it off, for the tests that compare both forms) */
static inline int sc_pl_vec_available(void)
{
    if (sc_pl_vec_choice < 0) {
        const char *off = getenv("SPIKECORE_NO_AVX512");
        sc_pl_vec_choice = !(off && *off) && __builtin_cpu_supports("avx512f")
                           && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    }
    return sc_pl_vec_choice;
}

/* m synapses (m a multiple of 8) of a shared-trace segment, starting at channels ch and
 * weights w: targets cn[ch[j]] (cn NULL: ch[j] itself), whose records (sc_fast_post_f64: 8 words, the step of the
 * newest spike, the offsets of the two before it in word 1, the post trace at the arrival
 * step in word 7) start at rec; the
 * segment's presynaptic trace xg after step lg; target spikes at steps >= from potentiate
 * (decay factor tab[2 * (step - lg)], K rows). Writes the weight each synapse delivers to
 * dv[j] and its weight after the arrival to w[j], except in the lanes flagged in rare[j / 8]
 * (bit j % 8), whose w[j] is left as it was. ahead: synapses after ch[m - 1] in the row whose
 * records may be fetched. */
__attribute__((target("avx512f,avx512vl,avx512dq,avx2")))
static void sc_pl_fast_vec_f64(const int32_t *restrict ch, const int32_t *restrict cn, const int64_t *restrict rec,
                               const double *restrict tab, int64_t K, double *restrict w, int64_t m, int64_t ahead,
                               int64_t from, int64_t lg, double xg, double sg, double ap, double am, double lo,
                               double hi, int mult, double *restrict dv, uint8_t *restrict rare)
{
    const __m512i vfrom = _mm512_set1_epi64(from), vlg = _mm512_set1_epi64(lg), vK = _mm512_set1_epi64(K);
    const __m512d vxg = _mm512_set1_pd(xg), vsg = _mm512_set1_pd(sg), vap = _mm512_set1_pd(ap),
                  vam = _mm512_set1_pd(am), vlo = _mm512_set1_pd(lo), vhi = _mm512_set1_pd(hi),
                  zero = _mm512_setzero_pd();
    const double *recd = (const double *)rec;
    for (int64_t j = 0; j < m; j += 8) {
        if (j + 40 <= m + ahead)               /* the records 32 synapses ahead lie apart: fetch them */
            for (int q = 32; q < 40; q++)
                __builtin_prefetch(rec + 8 * (int64_t)(cn ? cn[ch[j + q]] : ch[j + q]), 0);
        __m256i c = _mm256_loadu_si256((const __m256i *)(ch + j));
        __m256i k32 = cn ? _mm256_i32gather_epi32((const int *)cn, c, 4) : c;
        __m512i kb = _mm512_slli_epi64(_mm512_cvtepi32_epi64(k32), 3);
        __m512i r0 = _mm512_i64gather_epi64(kb, (const void *)rec, 8);
        __m512i of = _mm512_i64gather_epi64(kb, (const void *)(rec + 1), 8);
        __m512i r1 = _mm512_sub_epi64(r0, _mm512_and_epi64(of, _mm512_set1_epi64(0xffffffff)));
        __m512i r2 = _mm512_sub_epi64(r0, _mm512_srli_epi64(of, 32));
        __m512d xpost = _mm512_i64gather_pd(kb, (const void *)(recd + 7), 8);
        __mmask8 ok0 = _mm512_cmpge_epi64_mask(r0, vfrom), ok1 = _mm512_cmpge_epi64_mask(r1, vfrom);
        __m512i i0 = _mm512_maskz_sub_epi64(ok0, r0, vlg), i1 = _mm512_maskz_sub_epi64(ok1, r1, vlg);
        __mmask8 rr = _mm512_cmpge_epi64_mask(r2, vfrom) | _mm512_cmpge_epu64_mask(i0, vK);
        __mmask8 ok = (__mmask8)~rr;
        __m512d t1 = _mm512_mask_i64gather_pd(zero, ok, _mm512_slli_epi64(i1, 1), (const void *)tab, 8);
        __m512d t0 = _mm512_mask_i64gather_pd(zero, ok, _mm512_slli_epi64(i0, 1), (const void *)tab, 8);
        __m512d wv = _mm512_loadu_pd(w + j);
        /* the older spike, then the newer: w = sg * clip(sg * w + dw) */
        __m512d x1 = _mm512_mul_pd(vxg, t1), m1 = _mm512_mul_pd(vsg, wv);
        __m512d d1 = mult ? _mm512_mul_pd(_mm512_mul_pd(vap, _mm512_sub_pd(vhi, m1)), x1) : _mm512_mul_pd(vap, x1);
        __m512d w1 = _mm512_mul_pd(vsg, _mm512_min_pd(_mm512_max_pd(_mm512_add_pd(m1, d1), vlo), vhi));
        wv = _mm512_mask_blend_pd(ok1, wv, w1);
        __m512d x0 = _mm512_mul_pd(vxg, t0), m0 = _mm512_mul_pd(vsg, wv);
        __m512d d0 = mult ? _mm512_mul_pd(_mm512_mul_pd(vap, _mm512_sub_pd(vhi, m0)), x0) : _mm512_mul_pd(vap, x0);
        __m512d w0 = _mm512_mul_pd(vsg, _mm512_min_pd(_mm512_max_pd(_mm512_add_pd(m0, d0), vlo), vhi));
        wv = _mm512_mask_blend_pd(ok0, wv, w0);
        _mm512_storeu_pd(dv + j, wv);
        /* depression by the target's postsynaptic trace */
        __m512d mm = _mm512_mul_pd(vsg, wv);
        __m512d dw = mult ? _mm512_mul_pd(_mm512_mul_pd(vam, _mm512_sub_pd(mm, vlo)), xpost) : _mm512_mul_pd(vam, xpost);
        __m512d wn = _mm512_mul_pd(vsg, _mm512_min_pd(_mm512_max_pd(_mm512_sub_pd(mm, dw), vlo), vhi));
        _mm512_mask_storeu_pd(w + j, ok, wn);
        rare[j >> 3] = (uint8_t)rr;
    }
}
#endif

#endif
