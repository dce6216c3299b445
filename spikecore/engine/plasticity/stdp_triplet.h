/* The grid engine's triplet STDP (spikecore/plasticity/stdp_triplet.py: the equations and the
 * parameters). Included by _plastic_rules.h once per state type (REAL, FN: _kernel_impl.h);
 * registered there.
 *
 * P: tau_plus, tau_plus_triplet, tau_minus, tau_minus_triplet, A2_plus, A3_plus, A2_minus,
 * A3_minus, w_min, w_max, sign. st: r1, r2, o1, o2. The operations and their order are those
 * of the Brian2 statements the rule module writes. */

static inline void FN(stdp_triplet_decay)(const double *P, REAL *st, int64_t *last, int64_t n, double dt)
{
    double el = (double)n * dt - (double)*last * dt;
    for (int k = 0; k < 4; k++)
        st[k] = (REAL)((double)st[k] * exp(-el / P[k]));
    *last = n;
}

static inline REAL FN(stdp_triplet_clip)(REAL m, const double *P)
{
    REAL lo = (REAL)P[8], hi = (REAL)P[9];
    m = m > lo ? m : lo;
    return m < hi ? m : hi;
}

static double FN(stdp_triplet_pre)(const double *P, void *wp, void *stp, int64_t *last, int64_t n, double dt)
{
    REAL *w = (REAL *)wp, *st = (REAL *)stp;
    REAL out = *w, sg = (REAL)P[10];
    FN(stdp_triplet_decay)(P, st, last, n, dt);
    REAL m = sg * *w;
    *w = sg * FN(stdp_triplet_clip)(m - st[2] * ((REAL)P[6] + (REAL)P[7] * st[1]), P);
    st[0] = st[0] + (REAL)1;
    st[1] = st[1] + (REAL)1;
    return (double)out;
}

static void FN(stdp_triplet_post)(const double *P, void *wp, void *stp, int64_t *last, int64_t n, double dt)
{
    REAL *w = (REAL *)wp, *st = (REAL *)stp;
    REAL sg = (REAL)P[10];
    FN(stdp_triplet_decay)(P, st, last, n, dt);
    REAL m = sg * *w;
    *w = sg * FN(stdp_triplet_clip)(m + st[0] * ((REAL)P[4] + (REAL)P[5] * st[3]), P);
    st[2] = st[2] + (REAL)1;
    st[3] = st[3] + (REAL)1;
}
