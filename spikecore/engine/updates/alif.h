/* The grid engine's updates of alif and alif_current (spikecore/models/alif.py): the exact
 * propagator of lif_cuba's membrane and receptors, plus
 *   alif:          a <- a exp(-dt/tau_adapt); theta = v_threshold + a   (the threshold the
 *                  common threshold step compares v with: xstate theta, NeuronModel.threshold_state)
 *                  a neuron the threshold will fire gets a += delta_threshold;
 *   alif_current:  v also gets -r w's exact contribution (w decays with tau_w like a receptor),
 *                  w <- w exp(-dt/tau_w); a neuron the threshold will fire gets w += b.
 * Both write theta (alif_current: its v_threshold) so that v_threshold may differ per neuron.
 * With per-neuron parameters (nparam) the membrane decay and the synaptic coefficients are
 * computed per neuron from tau_mem with the expressions of spikecore/models/lif_cuba.py
 * (membrane_decay, synaptic_coefficient), so equal parameters give the population path's v.
 * While refractory v is clamped; receptors, a and w keep decaying.
 * param: tau_mem, v_leak, v_threshold, v_reset, t_refrac, bias, r, then tau_adapt, delta_threshold
 * (alif) or tau_w, b (alif_current); xstate: a, theta (alif) or w, theta (alif_current).
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

#ifndef SC_ALIF_COEF
#define SC_ALIF_COEF
/* The exact contribution of an exponential variable with time constant ts at t to v at t + dt
 * (tau_m dv/dt = -v + x): lif_cuba.synaptic_coefficient, with am = exp(-dt/tau_m), ak = exp(-dt/ts). */
static inline double sc_alif_coef(double dt, double tm, double ts, double am, double ak)
{
    if (fabs(ts - tm) <= 1e-12 * fmax(fabs(ts), fabs(tm)))
        return dt / tm * am;
    return ts / (ts - tm) * (ak - am);
}
#endif

/* v after one step, receptors decayed: the population's coefficients (tm <= 0) or neuron k's. */
static inline REAL FN(alif_membrane)(const sc_block *b, int64_t k, REAL vi, REAL dk, double tm, double *am_out)
{
    int64_t S = b->stride;
    REAL *restrict syn = (REAL *)b->syn;
    REAL vn;
    if (tm <= 0) {
        vn = dk + (vi - dk) * (REAL)b->decay_mem;
        for (int64_t r = 0; r < b->n_rec; r++)
            vn = vn + syn[r * S + k] * (REAL)b->rec_coef[r];
        *am_out = b->decay_mem;
    } else {
        double am = exp(-b->dt / tm);
        vn = dk + (vi - dk) * (REAL)am;
        for (int64_t r = 0; r < b->n_rec; r++)
            vn = vn + syn[r * S + k] * (REAL)sc_alif_coef(b->dt, tm, b->rec_tau[r], am, b->rec_decay[r]);
        *am_out = am;
    }
    for (int64_t r = 0; r < b->n_rec; r++)
        syn[r * S + k] = syn[r * S + k] * (REAL)b->rec_decay[r];
    return vn;
}

/* Shared body: `form` 0 = adaptive threshold (xstate a), 1 = adaptation current (xstate w). */
static inline int FN(alif_update)(const sc_block *b, int form)
{
    const double *prm = b->param;
    const REAL *np = (const REAL *)b->nparam;
    int64_t m = b->m, n = b->n, S = b->stride;
    REAL *restrict v = (REAL *)b->v;
    REAL *restrict x = (REAL *)b->xstate, *restrict theta = x + S;
    const REAL *drive = (const REAL *)b->drive;
    const int64_t *free_at = b->free_at;
    double dt = b->dt;
    REAL d0 = (REAL)b->d0;
    /* population values (the scalar path) */
    double tm0 = prm[0], tx0 = prm[7];
    REAL vth0 = (REAL)prm[2], jump0 = (REAL)prm[8];
    REAL dx0 = (REAL)exp(-dt / tx0);
    REAL cw0 = form ? (REAL)(prm[6] * sc_alif_coef(dt, tm0, tx0, b->decay_mem, exp(-dt / tx0))) : 0;
    for (int64_t k0 = 0; k0 < m; k0 += SC_BLOCK) {
        int64_t k1 = k0 + SC_BLOCK < m ? k0 + SC_BLOCK : m;
        int c = 0;
        for (int64_t k = k0; k < k1; k++) {
            REAL vth = vth0, jump = jump0, dx = dx0, cw = cw0;
            double tm = 0, am;
            if (np) {
                tm = (double)np[k];
                vth = np[2 * S + k];
                jump = np[8 * S + k];
                double tx = (double)np[7 * S + k];
                double ax = exp(-dt / tx);
                dx = (REAL)ax;
                if (form)
                    cw = (REAL)((double)np[6 * S + k] * sc_alif_coef(dt, tm, tx, exp(-dt / tm), ax));
            }
            REAL vi = v[k], dk = drive ? drive[k] : d0;
            REAL xi = x[k];
            REAL vn = FN(alif_membrane)(b, k, vi, dk, tm, &am);
            if (form)
                vn = vn - xi * cw;                /* the adaptation current's exact contribution */
            REAL xn = xi * dx;
            REAL th = form ? vth : vth + xn;
            REAL vv = free_at[k] > n ? vi : vn;
            v[k] = vv;
            theta[k] = th;
            int fires = vv > th && free_at[k] <= n;   /* the common threshold's test */
            x[k] = fires ? xn + jump : xn;
            c += vv > th;
        }
        b->crossed[k0 / SC_BLOCK] = c != 0;
    }
    return 1;
}

static int FN(update_alif)(const sc_block *b)
{
    return FN(alif_update)(b, 0);
}

static int FN(update_alif_current)(const sc_block *b)
{
    return FN(alif_update)(b, 1);
}
