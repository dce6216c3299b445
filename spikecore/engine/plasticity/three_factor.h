/* The grid engine's three-factor rule (spikecore/plasticity/three_factor.py: the equations,
 * the parameters in P and what st[0..3] hold). Included by _plastic_rules.h once per state
 * type (REAL, FN: _kernel_impl.h); registered there.
 *
 * P: tau_plus, tau_minus, A_plus, A_minus, w_min, w_max, sign, tau_c, tau_d (0: a signal,
 * d constant between changes), d_increment, baseline.
 * st: x_pre, x_post, c, d. The operations and their order are those of the Brian2 statements
 * the rule module writes (three_factor._integrate), so both give the same numbers. */

/* integrate the synapse from its last event to step n (closed form) and decay its traces */
static inline void FN(three_factor_advance)(const double *P, REAL *w, REAL *st, int64_t *last, int64_t n,
                                            double dt)
{
    double el = (double)n * dt - (double)*last * dt;     /* t - t_last */
    double tc = P[7], td = P[8], sg = P[6];
    double kc = -tc * expm1(-el / tc), kd = kc;
    if (td > 0) {
        double taus = tc * td / (tc + td);
        kd = -taus * expm1(-el / taus);
    }
    double c = (double)st[2], d = (double)st[3];
    double m = sg * (double)*w + c * (d * kd - P[10] * kc);
    m = m > P[4] ? m : P[4];
    m = m < P[5] ? m : P[5];
    *w = (REAL)(sg * m);
    st[2] = (REAL)(c * exp(-el / tc));
    if (td > 0)
        st[3] = (REAL)(d * exp(-el / td));
    st[0] = (REAL)((double)st[0] * exp(-el / P[0]));
    st[1] = (REAL)((double)st[1] * exp(-el / P[1]));
    *last = n;
}

/* a presynaptic spike arrives: returns the weight delivered (integrated to now) */
static double FN(three_factor_pre)(const double *P, void *wp, void *stp, int64_t *last, int64_t n, double dt)
{
    REAL *w = (REAL *)wp, *st = (REAL *)stp;
    FN(three_factor_advance)(P, w, st, last, n, dt);
    st[2] = (REAL)((double)st[2] - P[3] * (double)st[1]);
    st[0] = st[0] + (REAL)1;
    return (double)*w;
}

/* the postsynaptic neuron spiked */
static void FN(three_factor_post)(const double *P, void *wp, void *stp, int64_t *last, int64_t n, double dt)
{
    REAL *w = (REAL *)wp, *st = (REAL *)stp;
    FN(three_factor_advance)(P, w, st, last, n, dt);
    st[2] = (REAL)((double)st[2] + P[2] * (double)st[0]);
    st[1] = st[1] + (REAL)1;
}

/* a modulator spike arrives (set = 0: d += d_increment), or a signal changes (set = 1: d = value) */
static void FN(three_factor_mod)(const double *P, void *wp, void *stp, int64_t *last, int64_t n, double dt,
                                 double value, int set)
{
    REAL *w = (REAL *)wp, *st = (REAL *)stp;
    FN(three_factor_advance)(P, w, st, last, n, dt);
    st[3] = set ? (REAL)value : (REAL)((double)st[3] + P[9]);
}
