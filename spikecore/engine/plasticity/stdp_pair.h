/* The grid engine's pair STDP (spikecore/plasticity/stdp_pair.py: the equations, the
 * parameters in P and what st[0], st[1] hold). Included by _plastic_rules.h once per state type
 * (REAL, FN: _kernel_impl.h); registered there.
 *
 * P: tau_plus, tau_minus, A_plus, A_minus, w_min, w_max, sign, nearest, multiplicative, then
 * the decay table (stdp_pair.engine_tables): K, and K pairs of factors.
 * The operations and their order are those of the Brian2 statements the rule module
 * writes (stdp_pair.brian2_code), so both give the same numbers (to the decay factors'
 * rounding, below). The functions are always inlined where the step loop calls them
 * directly (the lazy presynaptic row, _kernel_impl.h). */

/* decay both traces from the synapse's last event to step n: by the factors over k = n - last
 * steps from the table P[10 ..] (P[9] = its length K, stdp_pair.decay_table) -- the same
 * numbers as exp(-(t - t_last)/tau) to about 1e-14 relative, t - t_last being k*dt up to
 * the rounding of t -- or for k >= K from exp() */
static inline void FN(stdp_pair_decay)(const double *P, REAL *xpre, REAL *xpost, int64_t *last, int64_t n,
                                       double dt)
{
    int64_t k = n - *last;
    double f0, f1;
    if ((uint64_t)k < (uint64_t)P[9]) {
        f0 = P[10 + 2 * k];
        f1 = P[11 + 2 * k];
    } else {
        double el = (double)n * dt - (double)*last * dt;     /* t - t_last */
        f0 = exp(-el / P[0]);
        f1 = exp(-el / P[1]);
    }
    *xpre = (REAL)((double)*xpre * f0);
    *xpost = (REAL)((double)*xpost * f1);
    *last = n;
}

static SC_ALWAYS_INLINE REAL FN(stdp_pair_clip_to)(REAL m, REAL lo, REAL hi)
{
    m = m > lo ? m : lo;
    return m < hi ? m : hi;
}

static inline REAL FN(stdp_pair_clip)(REAL m, const double *P)
{
    return FN(stdp_pair_clip_to)(m, (REAL)P[4], (REAL)P[5]);
}

/* a presynaptic spike arrives: returns the weight delivered (the one before the update) */
static SC_ALWAYS_INLINE double FN(stdp_pair_pre)(const double *P, void *wp, void *st, int64_t *last, int64_t n, double dt)
{
    REAL *w = (REAL *)wp, *xpre = (REAL *)st, *xpost = (REAL *)st + 1;
    REAL out = *w, sg = (REAL)P[6];
    FN(stdp_pair_decay)(P, xpre, xpost, last, n, dt);
    *xpre = P[7] != 0 ? (REAL)1 : *xpre + (REAL)1;
    REAL m = sg * *w;
    REAL dw = P[8] != 0 ? (REAL)P[3] * (m - (REAL)P[4]) * *xpost : (REAL)P[3] * *xpost;
    *w = sg * FN(stdp_pair_clip)(m - dw, P);
    return (double)out;
}

/* the postsynaptic neuron spiked */
static SC_ALWAYS_INLINE void FN(stdp_pair_post)(const double *P, void *wp, void *st, int64_t *last, int64_t n, double dt)
{
    REAL *w = (REAL *)wp, *xpre = (REAL *)st, *xpost = (REAL *)st + 1;
    REAL sg = (REAL)P[6];
    FN(stdp_pair_decay)(P, xpre, xpost, last, n, dt);
    *xpost = P[7] != 0 ? (REAL)1 : *xpost + (REAL)1;
    REAL m = sg * *w;
    REAL dw = P[8] != 0 ? (REAL)P[2] * ((REAL)P[5] - m) * *xpre : (REAL)P[2] * *xpre;
    *w = sg * FN(stdp_pair_clip)(m + dw, P);
}

/* ---- the shared-trace layout (_kernel_impl.h, pl_fast_*): one presynaptic trace per
 * presynaptic segment, one postsynaptic trace per target neuron, the weight alone per synapse.
 * The same equations; each trace is decayed once from its own last spike instead of along
 * every event of each synapse (a difference in the last bit of the trace, not in the rule). */

/* trace x, last changed at step `last`, decayed to step n by the factors of column col of
 * the table (0: tau_plus, 1: tau_minus), or exp() beyond it: stdp_pair_decay's numbers */
static SC_ALWAYS_INLINE REAL FN(stdp_pair_decayed)(const double *P, REAL x, int64_t last, int64_t n, double dt, int col)
{
    int64_t k = n - last;
    double f;
    if ((uint64_t)k < (uint64_t)P[9])
        f = P[10 + 2 * k + col];
    else
        f = x != 0 ? exp(-((double)n * dt - (double)last * dt) / P[col]) : 0.0;
    return (REAL)((double)x * f);
}

/* the target spiked: weight w of a synapse whose presynaptic trace is xpre then */
static SC_ALWAYS_INLINE REAL FN(stdp_pair_w_post)(const double *P, REAL w, REAL xpre)
{
    REAL sg = (REAL)P[6], m = sg * w;
    REAL dw = P[8] != 0 ? (REAL)P[2] * ((REAL)P[5] - m) * xpre : (REAL)P[2] * xpre;
    return sg * FN(stdp_pair_clip)(m + dw, P);
}

/* a presynaptic spike arrives: weight w of a synapse whose postsynaptic trace is xpost then */
static SC_ALWAYS_INLINE REAL FN(stdp_pair_w_pre)(const double *P, REAL w, REAL xpost)
{
    REAL sg = (REAL)P[6], m = sg * w;
    REAL dw = P[8] != 0 ? (REAL)P[3] * (m - (REAL)P[4]) * xpost : (REAL)P[3] * xpost;
    return sg * FN(stdp_pair_clip)(m - dw, P);
}

/* a spike of the trace's side at step n: the trace last changed at step last, now */
static SC_ALWAYS_INLINE REAL FN(stdp_pair_bump)(const double *P, REAL x, int64_t last, int64_t n, double dt, int col)
{
    REAL d = FN(stdp_pair_decayed)(P, x, last, n, dt, col);
    return P[7] != 0 ? (REAL)1 : d + (REAL)1;
}
