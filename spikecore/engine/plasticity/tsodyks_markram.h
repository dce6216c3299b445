/* The grid engine's short-term plasticity (spikecore/plasticity/tsodyks_markram.py: the
 * equations; NEST's tsodyks2_synapse.h, send). Included by _plastic_rules.h once per state
 * type (REAL, FN: _kernel_impl.h); registered there.
 *
 * P: U, tau_rec, tau_fac. st[0] = x (resources), st[1] = u (release probability); last < 0: no
 * spike yet. The weight is not changed: each spike delivers x*u*w.
 * Postsynaptic spikes change nothing: no post function (NULL in the registry). */

static double FN(tsodyks_markram_pre)(const double *P, void *wp, void *st, int64_t *last, int64_t n, double dt)
{
    REAL *x = (REAL *)st, *u = (REAL *)st + 1;
    if (*last >= 0) {
        double h = (double)n * dt - (double)*last * dt;
        double x_decay = exp(-h / P[1]);
        double u_decay = P[2] == 0 ? 0.0 : exp(-h / P[2]);
        double xv = (double)*x, uv = (double)*u;
        *x = (REAL)(1. + (xv - xv * uv - 1.) * x_decay);
        *u = (REAL)(P[0] + uv * (1. - P[0]) * u_decay);
    }
    *last = n;
    return (double)(*x * *u * *(REAL *)wp);
}
