/* Fast path of the precise-timing kernel (_precise.pyx): one population, one step.
 *
 * For every neuron: the end-of-step state by the grid engine's exact propagators plus
 * the queued events' exact contributions (summed in `acc` when they were queued), and
 * a rigorous upper bound of v over the step (see _precise.pyx). Neurons whose bound
 * reaches threshold, whose refractory period ends in this step or whose current
 * changes in it get flag = 1 and keep their state: the kernel replays them exactly.
 *
 * Written in C for `restrict` (without it the loops do not vectorise; Cython cannot say
 * it) and compiled like _update.h: -O3 -fno-trapping-math (selects instead of branches)
 * -ffp-contract=off (no FMA, so the AVX2 clone and the baseline agree bit for bit).
 *
 * acc layout, per step slot: [N doubles by neuron: sum of w*F_v][N by neuron: sum of positive
 * w (times the kernel peak Kmax for cuba)][C by channel, cuba only: sum of w*F_syn]. A
 * neuron whose current changes in the step gets acc_p = +inf from the kernel: slow path.
 */
#ifndef SPIKECORE_PRECISE_FAST_H
#define SPIKECORE_PRECISE_FAST_H

#include <math.h>
#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PC_CLONES
#endif

/* lif_delta: v_free = d + (v - d) am is monotone, bound = max(v, v_free) + positive jumps.
 * Inputs of neurons refractory all step are discarded. */
PC_CLONES static void pc_fast_delta(int64_t size, int64_t n, double am, double vth,
                                    double *restrict v, const double *restrict drive,
                                    const int64_t *restrict ref_end,
                                    double *restrict acc_v, double *restrict acc_p, int64_t *restrict flag)
{
    for (int64_t k = 0; k < size; k++) {
        double vi = v[k], d = drive[k];
        double vf = d + (vi - d) * am;
        double ub = (vi > vf ? vi : vf) + acc_p[k];
        int64_t re = ref_end[k];
        int64_t refr = re > n;
        int64_t slow = (re == n) | ((!refr) & (ub >= vth));
        flag[k] = slow;
        v[k] = (slow | refr) ? vi : vf + acc_v[k];
        acc_v[k] = 0.0;
        acc_p[k] = 0.0;
    }
}

/* lif_cuba with two receptors (the common case), fused into one pass over memory. */
PC_CLONES static void pc_fast_cuba2(int64_t size, int64_t n, double am, double inv_tm, double vth, double h2_8,
                                    double a0, double a1, double c0, double c1, double it0, double it1,
                                    double *restrict v, const double *restrict drive,
                                    const int64_t *restrict ref_end, double *restrict syn0, double *restrict syn1,
                                    double *restrict acc_v, double *restrict acc_p,
                                    double *restrict acc_s0, double *restrict acc_s1, int64_t *restrict flag)
{
    for (int64_t k = 0; k < size; k++) {
        double vi = v[k], d = drive[k], s0 = syn0[k], s1 = syn1[k];
        double e0 = s0 * a0, e1 = s1 * a1;
        double vf = d + (vi - d) * am + s0 * c0 + s1 * c1;
        int p0 = s0 > 0.0, p1 = s1 > 0.0;
        double jmax = d + (p0 ? s0 : e0) + (p1 ? s1 : e1);
        double jmin = d + (p0 ? e0 : s0) + (p1 ? e1 : s1);
        double sabs = fabs(s0) * it0 + fabs(s1) * it1;
        double hi = vi > jmax ? vi : jmax;
        double lo = vi < jmin ? vi : jmin;
        double M = (sabs + (hi - lo) * inv_tm) * inv_tm;
        double ub = (vi > vf ? vi : vf) + M * h2_8 + acc_p[k];
        int64_t re = ref_end[k];
        int64_t refr = re > n;
        int64_t slow = (re == n) | ((!refr) & (ub >= vth));
        flag[k] = slow;
        v[k] = (slow | refr) ? vi : vf + acc_v[k];
        syn0[k] = slow ? s0 : e0 + acc_s0[k];
        syn1[k] = slow ? s1 : e1 + acc_s1[k];
        acc_v[k] = 0.0;
        acc_p[k] = 0.0;
        acc_s0[k] = 0.0;
        acc_s1[k] = 0.0;
    }
}

/* lif_cuba with nr receptors (receptor r's syn at syn + r*size, its sums at acc_s + r*size).
 * Scratch arrays t_* hold per-neuron partial sums across the receptor loops. */
PC_CLONES static void pc_fast_cuba(int64_t size, int64_t n, int64_t nr,
                                   double am, double inv_tm, double vth, double h2_8,
                                   const double *ak, const double *coef_h, const double *inv_tk,
                                   double *restrict v, const double *restrict drive,
                                   const int64_t *restrict ref_end, double *restrict syn,
                                   double *restrict acc_v, double *restrict acc_p, double *restrict acc_s,
                                   double *restrict t_vf, double *restrict t_jmax, double *restrict t_jmin,
                                   double *restrict t_sabs, int64_t *restrict flag)
{
    for (int64_t k = 0; k < size; k++) {
        double d = drive[k];
        t_vf[k] = d + (v[k] - d) * am;
        t_jmax[k] = d;
        t_jmin[k] = d;
        t_sabs[k] = 0.0;
    }
    for (int64_t r = 0; r < nr; r++) {
        const double *restrict s = syn + r * size;
        double a = ak[r], c = coef_h[r], it = inv_tk[r];
        for (int64_t k = 0; k < size; k++) {
            double s0 = s[k], s1 = s0 * a;
            int pos = s0 > 0.0;
            t_vf[k] = t_vf[k] + s0 * c;
            t_jmax[k] = t_jmax[k] + (pos ? s0 : s1);
            t_jmin[k] = t_jmin[k] + (pos ? s1 : s0);
            t_sabs[k] = t_sabs[k] + fabs(s0) * it;
        }
    }
    for (int64_t k = 0; k < size; k++) {
        double vi = v[k], vf = t_vf[k];
        double hi = vi > t_jmax[k] ? vi : t_jmax[k];
        double lo = vi < t_jmin[k] ? vi : t_jmin[k];
        double M = (t_sabs[k] + (hi - lo) * inv_tm) * inv_tm;
        double ub = (vi > vf ? vi : vf) + M * h2_8 + acc_p[k];
        int64_t re = ref_end[k];
        int64_t refr = re > n;
        int64_t slow = (re == n) | ((!refr) & (ub >= vth));
        flag[k] = slow;
        v[k] = (slow | refr) ? vi : vf + acc_v[k];
        acc_v[k] = 0.0;
        acc_p[k] = 0.0;
    }
    for (int64_t r = 0; r < nr; r++) {
        double *restrict s = syn + r * size;
        double *restrict as = acc_s + r * size;
        double a = ak[r];
        for (int64_t k = 0; k < size; k++) {
            double x = s[k] * a + as[k];
            s[k] = flag[k] ? s[k] : x;
            as[k] = 0.0;
        }
    }
}

#endif
