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
 * equivalent, tests/engine/test_kernel.py and tests/engine/test_precise.py compare them): the count of neuron k
 * of a node at step n is the number of CDF entries <= u, where u is the top 53
 * bits of SplitMix64's output number n*size + k of the node's seed (Steele,
 * Lea & Flood 2014: z = seed + (n*size+k+1)*gamma, then the mix). Counter-based,
 * so any thread can draw any neuron's count of any step without shared state. */
#define SC_GAMMA 0x9E3779B97F4A7C15ULL

static inline double sc_unit(uint64_t seed, uint64_t ctr)
{
    uint64_t z = seed + ctr * SC_GAMMA;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    return (double)(int64_t)(z >> 11) * 0x1.0p-53;
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

/* counts of m neurons sharing one table, counters ctr0 .. ctr0+m-1 */
SC_STREAM_CLONES static void sc_pois_shared(uint64_t seed, uint64_t ctr0, int64_t m, const double *cdf, int32_t len,
                                     uint16_t *out)
{
    enum { B = 256 };
    double u[B];
    for (int64_t i0 = 0; i0 < m; i0 += B) {
        int64_t mm = m - i0 < B ? m - i0 : B;
        double umax = 0.0;
        for (int64_t i = 0; i < mm; i++) {
            u[i] = sc_unit(seed, ctr0 + (uint64_t)(i0 + i));
            umax = u[i] > umax ? u[i] : umax;
        }
        uint16_t *o = out + i0;
        if (len <= 64) {
            for (int64_t i = 0; i < mm; i++)
                o[i] = 0;
            /* entries above every u of the block add nothing */
            for (int32_t j = 0; j < len && cdf[j] <= umax; j++) {
                double c = cdf[j];
                for (int64_t i = 0; i < mm; i++)
                    o[i] += c <= u[i];
            }
        } else {
            for (int64_t i = 0; i < mm; i++)
                o[i] = (uint16_t)sc_upper(cdf, len, u[i]);
        }
    }
}

#endif
