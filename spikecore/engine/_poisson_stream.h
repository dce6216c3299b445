/* Poisson spike counts of the native engine: the one C copy of the counter-based
 * stream defined by spikecore.ir.poisson_counts, shared by the grid step loop
 * (_kernel.c) and the precise-timing kernel (_precise.pyx through _precise_fast.h).
 * Integer arithmetic, one exact int-to-double conversion and comparisons only, so the
 * counts are the same bits whatever the clone or the compiler flags.
 */
#ifndef SPIKECORE_POISSON_STREAM_H
#define SPIKECORE_POISSON_STREAM_H

#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
#define SC_STREAM_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SC_STREAM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SC_STREAM_CLONES
#endif

/* The stream of spikecore.ir.poisson_counts (the definition; this is its fast
 * equivalent, tests/engine/test_simulator.py and tests/engine/test_precise.py compare them): the count of neuron k
 * of a node at step n is the number of CDF entries <= u, where u is the top 53
 * bits of SplitMix64's output number n*size + k of the node's seed (Steele,
 * Lea & Flood 2014: z = seed + (n*size+k+1)*gamma, then the mix). Counter-based,
 * so any thread can draw any neuron's count of any step without shared state. */
#define SC_GAMMA 0x9E3779B97F4A7C15ULL

/* The top 53 bits of SplitMix64's output for counter ctr (sc_unit without the scaling) */
static inline uint64_t sc_bits53(uint64_t seed, uint64_t ctr)
{
    uint64_t z = seed + ctr * SC_GAMMA;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (z ^ (z >> 31)) >> 11;
}

static inline double sc_unit(uint64_t seed, uint64_t ctr)
{
    return (double)(int64_t)sc_bits53(seed, ctr) * 0x1.0p-53;
}

/* number of entries of the sorted table cdf[0..len) that are <= u */
static inline int32_t sc_upper(const double *cdf, int32_t len, double u)
{
    int32_t lo = 0, hi = len;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Blocks of the draw below whose largest variate lies beyond this many table entries
 * take the binary search per variate instead of one pass per entry. */
#define SC_POIS_LINEAR 48

/* counts of m neurons sharing one table, counters ctr0 .. ctr0+m-1. Per block of B
 * variates: their largest u (an integer maximum of the 53-bit numbers, which the
 * compiler vectorises; the conversion to double is exact and monotonic, so it is the
 * largest u) bounds the entries any of them passes; when few entries lie below it (a
 * Poisson mean of a few spikes per step: the table's tail towards 1.0 is long but no
 * variate reaches it) each count is the sum of one vectorised comparison per such
 * entry, else a binary search per variate. Both count the entries <= u exactly. */
SC_STREAM_CLONES static void sc_pois_shared(uint64_t seed, uint64_t ctr0, int64_t m, const double *cdf, int32_t len,
                                     uint16_t *out)
{
    enum { B = 256 };
    double u[B];
    uint64_t bits[B];
    uint16_t cnt[B];
    for (int64_t i0 = 0; i0 < m; i0 += B) {
        int64_t mm = m - i0 < B ? m - i0 : B;
        uint64_t bmax = 0;
        for (int64_t i = 0; i < mm; i++) {
            uint64_t x = sc_bits53(seed, ctr0 + (uint64_t)(i0 + i));
            bits[i] = x;
            bmax = x > bmax ? x : bmax;
        }
        for (int64_t i = 0; i < mm; i++)
            u[i] = (double)(int64_t)bits[i] * 0x1.0p-53;
        double umax = (double)(int64_t)bmax * 0x1.0p-53;
        uint16_t *o = out + i0;
        int32_t reach = sc_upper(cdf, len, umax);   /* entries <= the largest u */
        if (reach <= SC_POIS_LINEAR) {
            for (int64_t i = 0; i < mm; i++)
                cnt[i] = 0;
            for (int32_t j = 0; j < reach; j++) {
                double c = cdf[j];
                for (int64_t i = 0; i < mm; i++)
                    cnt[i] += c <= u[i];
            }
            for (int64_t i = 0; i < mm; i++)
                o[i] = cnt[i];
        } else {
            for (int64_t i = 0; i < mm; i++)
                o[i] = (uint16_t)sc_upper(cdf, reach, u[i]);
        }
    }
}

#endif
