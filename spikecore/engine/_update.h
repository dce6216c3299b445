/* Per-neuron state updates of the native engine, one function per model.
 *
 * Called from _core.pyx (which owns the event-driven orchestration). Written in C
 * for one reason: `restrict` pointers, which Cython cannot express and without
 * which the compiler will not vectorise these loops (it must assume v, syn and
 * the refractory counters alias). Build flags (setup.py): -O3 -fno-trapping-math
 * (lets the compiler compute the update of refractory neurons and select, which
 * changes no result) and -ffp-contract=off (no fused multiply-add, so the AVX2
 * and baseline clones below give bit-identical results).
 *
 * Refractoriness: refr[k] counts down the steps of the refractory period. A
 * spike at step n sets refr = ref_steps; each update first counts it down and
 * the neuron is clamped while it is still > 0, i.e. at steps n+1 .. n+ref_steps-1
 * (and at step n itself, for the delta-synapse input that arrives after the
 * threshold when ref_steps > 0). This equals Brian2's
 * `not_refractory = timestep(t - lastspike) >= timestep(refractory)`
 * (brian2/groups/neurongroup.py, Refractoriness) evaluated at the update.
 */
#ifndef SPIKECORE_UPDATE_H
#define SPIKECORE_UPDATE_H

#include <math.h>
#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SC_CLONES
#endif

/* x += p; p <- 0: apply input that was delivered at the previous step. */
static void sc_apply_pending(int64_t n, double *restrict x, double *restrict p)
{
    for (int64_t k = 0; k < n; k++) {
        x[k] = x[k] + p[k];
        p[k] = 0.0;
    }
}

/* s_r += p_r (input delivered at the previous step, see _core.pyx), then
 * v <- drive + (v - drive) am + s0 c0 + s1 c1 unless clamped; s_r <- s_r a_r; p_r <- 0. */
SC_CLONES static void sc_update_cuba2(int64_t size, double am, double c0, double c1, double a0, double a1,
                                      double *restrict v, const double *restrict drive,
                                      double *restrict s0, double *restrict s1,
                                      double *restrict p0, double *restrict p1, int32_t *restrict refr)
{
    for (int64_t k = 0; k < size; k++) {
        double vi = v[k];
        double x0 = s0[k] + p0[k], x1 = s1[k] + p1[k];
        double vn = drive[k] + (vi - drive[k]) * am + x0 * c0 + x1 * c1;
        int32_t r = refr[k] > 0 ? refr[k] - 1 : 0;
        refr[k] = r;
        v[k] = r > 0 ? vi : vn;
        s0[k] = x0 * a0;
        s1[k] = x1 * a1;
        p0[k] = 0.0;
        p1[k] = 0.0;
    }
}

SC_CLONES static void sc_update_cuba1(int64_t size, double am, double c0, double a0,
                                      double *restrict v, const double *restrict drive,
                                      double *restrict s0, double *restrict p0, int32_t *restrict refr)
{
    for (int64_t k = 0; k < size; k++) {
        double vi = v[k];
        double x0 = s0[k] + p0[k];
        double vn = drive[k] + (vi - drive[k]) * am + x0 * c0;
        int32_t r = refr[k] > 0 ? refr[k] - 1 : 0;
        refr[k] = r;
        v[k] = r > 0 ? vi : vn;
        s0[k] = x0 * a0;
        p0[k] = 0.0;
    }
}

/* Any number of receptors: syn is receptor-major (nrec blocks of size). */
static void sc_update_cuba_n(int64_t size, int64_t nrec, double am, const double *coef, const double *decay,
                             double *restrict v, const double *restrict drive,
                             double *restrict syn, double *restrict pend, int32_t *restrict refr)
{
    sc_apply_pending(size * nrec, syn, pend);
    for (int64_t k = 0; k < size; k++) {
        if (refr[k] > 0)
            refr[k] -= 1;
        if (refr[k] > 0)
            continue;
        double vn = drive[k] + (v[k] - drive[k]) * am;
        for (int64_t r = 0; r < nrec; r++)
            vn = vn + syn[r * size + k] * coef[r];
        v[k] = vn;
    }
    for (int64_t r = 0; r < nrec; r++) {
        double *restrict s = syn + r * size;
        double a = decay[r];
        for (int64_t k = 0; k < size; k++)
            s[k] = s[k] * a;
    }
}

/* Delta synapses: the jump delivered at the previous step counts unless the
 * neuron was refractory then (refr still holds that step's value here; a neuron
 * that spiked had its input cleared by sc_threshold, as its reset would erase it). */
SC_CLONES static void sc_update_delta(int64_t size, double am, double *restrict v,
                                      const double *restrict drive, double *restrict pend,
                                      int32_t *restrict refr)
{
    for (int64_t k = 0; k < size; k++) {
        double vi = refr[k] == 0 ? v[k] + pend[k] : v[k];
        pend[k] = 0.0;
        double vn = drive[k] + (vi - drive[k]) * am;
        int32_t r = refr[k] > 0 ? refr[k] - 1 : 0;
        refr[k] = r;
        v[k] = r > 0 ? vi : vn;
    }
}

/* Exponential Euler with the conductances of the step start (Brian2 'exponential_euler'). */
static void sc_update_coba(int64_t size, int64_t nrec, double dt, double c_m, double g_l, double v_leak,
                           const double *erev, const double *decay,
                           double *restrict v, const double *restrict drive,
                           double *restrict syn, double *restrict pend, int32_t *restrict refr)
{
    double glv = g_l * v_leak;
    sc_apply_pending(size * nrec, syn, pend);
    for (int64_t k = 0; k < size; k++) {
        if (refr[k] > 0)
            refr[k] -= 1;
        if (refr[k] > 0)
            continue;
        double gt = g_l, num = glv + drive[k];
        for (int64_t r = 0; r < nrec; r++) {
            double g = syn[r * size + k];
            gt = gt + g;
            num = num + g * erev[r];
        }
        double vinf = num / gt;
        v[k] = vinf + (v[k] - vinf) * exp(-dt * gt / c_m);
    }
    for (int64_t r = 0; r < nrec; r++) {
        double *restrict s = syn + r * size;
        double a = decay[r];
        for (int64_t k = 0; k < size; k++)
            s[k] = s[k] * a;
    }
}

/* Strict threshold, never while clamped; returns the new spike count. A neuron
 * that spikes is clamped for ref_steps steps (0: free again next step). For
 * delta-synapse models `due` is the input arriving at this step (or NULL): a
 * spiking neuron loses it, as Brian2's reset overwrites the v += w of the
 * synapses slot that precedes it. */
/* How many of v[0..n) exceed vth: a branch-free reduction the compiler vectorises. */
SC_CLONES static int64_t sc_count_above(int64_t n, const double *restrict v, double vth)
{
    int64_t c = 0;
    for (int64_t k = 0; k < n; k++)
        c += v[k] > vth;
    return c;
}

static int64_t sc_threshold(int64_t size, int64_t first, double vth, int32_t ref_steps,
                            const double *restrict v, int32_t *restrict refr, double *restrict due,
                            int32_t *restrict spk, int64_t n_spk)
{
    /* Spikes are rare: count crossings per block of SC_BLOCK neurons with a vectorised
     * reduction and look at the neurons of a block only when one crossed. */
    enum { SC_BLOCK = 256 };
    for (int64_t k0 = 0; k0 < size; k0 += SC_BLOCK) {
        int64_t k1 = k0 + SC_BLOCK < size ? k0 + SC_BLOCK : size;
        if (sc_count_above(k1 - k0, v + k0, vth) == 0)
            continue;
        for (int64_t k = k0; k < k1; k++) {
            if (v[k] > vth && refr[k] == 0) {
                spk[n_spk++] = (int32_t)(first + k);
                refr[k] = ref_steps;
                if (due)
                    due[k] = 0.0;
            }
        }
    }
    return n_spk;
}

#endif
