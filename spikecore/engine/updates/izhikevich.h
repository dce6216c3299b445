/* The grid engine's update of izhikevich (spikecore/models/izhikevich.py), in Izhikevich's
 * units (v in mV, t in ms, u and I in mV/ms; v is held in volts and u in mV/ms = V/s):
 *     v' = k2 v^2 + k1 v + k0 - u + I,   u' = a (b v - u)
 * by one of three integrators (param 6): 0 forward Euler (NEST izhikevich,
 * consistent_integration=True), 1 Izhikevich (2003): v in two half-steps, then u from the
 * new v (consistent_integration=False), 2 classical Runge-Kutta 4 (the default) with the
 * spike located inside the step (cubic Hermite interpolation of v): u jumps there and the
 * rest of that step is integrated from (c, u + d) at the start of the next update (xstate
 * rem), so resets do not lag by a step.
 * Voltage jumps of delta synapses delivered at step n-1 are added first (as lif_delta).
 * The spike itself is the common threshold's (v > v_peak, v <- c); the update adds d to u
 * of every neuron the threshold will fire, by the same test.
 * param: a, b, d, k2, k1, k0, integrator, c_m, v_threshold, ... (the model's declaration order;
 * per neuron in nparam where the population has per-neuron parameters); xstate: u, rem, vmv.
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

#define SC_IZH_F(vm, u, k2, k1, k0, I) ((((k2) * (vm) * (vm) + (k1) * (vm)) + (k0)) - (u) + (I))

/* One RK4 step of length h from (vm, uk); returns v, writes u and v' at the start. */
static inline REAL FN(izh_rk4)(REAL vm, REAL uk, REAL h, REAL a, REAL bb, REAL k2, REAL k1, REAL k0, REAL I,
                               REAL *u_out, REAL *f_start)
{
    REAL half = (REAL)0.5;
    REAL f1 = SC_IZH_F(vm, uk, k2, k1, k0, I), g1 = a * (bb * vm - uk);
    REAL v2 = vm + half * h * f1, u2 = uk + half * h * g1;
    REAL f2 = SC_IZH_F(v2, u2, k2, k1, k0, I), g2 = a * (bb * v2 - u2);
    REAL v3 = vm + half * h * f2, u3 = uk + half * h * g2;
    REAL f3 = SC_IZH_F(v3, u3, k2, k1, k0, I), g3 = a * (bb * v3 - u3);
    REAL v4 = vm + h * f3, u4 = uk + h * g3;
    REAL f4 = SC_IZH_F(v4, u4, k2, k1, k0, I), g4 = a * (bb * v4 - u4);
    REAL vn = vm + h / 6 * (f1 + 2 * f2 + 2 * f3 + f4);
    REAL un = uk + h / 6 * (g1 + 2 * g2 + 2 * g3 + g4);
    if (!(vn < (REAL)1e6 && un == un)) {   /* the quadratic ran away inside the step: Euler (it spikes) */
        vn = vm + h * f1;
        un = uk + h * g1;
    }
    *u_out = un;
    *f_start = f1;
    return vn;
}

static int FN(update_izhikevich)(const sc_block *b)
{
    const double *prm = b->param;
    const REAL *np = (const REAL *)b->nparam;
    int64_t m = b->m, n = b->n, S = b->stride;
    REAL *restrict v = (REAL *)b->v, *restrict u = (REAL *)b->xstate;
    REAL *restrict rem = u + S;                   /* rk4: the part of the last step left after a reset (ms) */
    REAL *restrict vmv = u + 2 * S;               /* euler, izhikevich2003: v in mV after the last update */
    REAL *restrict pend = (REAL *)b->pend;
    const REAL *drive = (const REAL *)b->drive;
    const int64_t *free_at = b->free_at;
    int method = (int)prm[6];
    REAL h = (REAL)(b->dt / 1e-3), half = (REAL)0.5, vth0 = (REAL)b->vth, d0 = (REAL)b->d0;
    REAL to_v = (REAL)1e-3, vpk0 = (REAL)(b->vth / 1e-3);
    for (int64_t k = 0; k < m; k++) {
        REAL a = np ? np[k] : (REAL)prm[0], bb = np ? np[S + k] : (REAL)prm[1];
        REAL d = np ? np[2 * S + k] : (REAL)prm[2];
        REAL k2 = np ? np[3 * S + k] : (REAL)prm[3], k1 = np ? np[4 * S + k] : (REAL)prm[4];
        REAL k0 = np ? np[5 * S + k] : (REAL)prm[5];
        REAL vth = np ? np[8 * S + k] : vth0, vpk = np ? np[8 * S + k] / to_v : vpk0;   /* v_peak */
        REAL vi = v[k];
        if (pend) {
            if (free_at[k] < n)
                vi = vi + pend[k];
            pend[k] = 0;
        }
        REAL I = drive ? drive[k] : d0;
        REAL vm = vi / to_v, uk = u[k], vn, un;
        /* the Euler schemes keep v in mV (vmv) between steps, unless a reset or jump wrote v,
         * so that their arithmetic is NEST's to the last bit */
        if (method != 2 && v[k] == vmv[k] * to_v && vi == v[k])
            vm = vmv[k];
        if (method == 0) {
            vn = vm + h * SC_IZH_F(vm, uk, k2, k1, k0, I);
            un = uk + h * a * (bb * vm - uk);
        } else if (method == 1) {
            vn = vm + h * half * SC_IZH_F(vm, uk, k2, k1, k0, I);
            vn = vn + h * half * SC_IZH_F(vn, uk, k2, k1, k0, I);
            un = uk + h * a * (bb * vn - uk);
        } else {
            REAL f0, f1, r = rem[k];
            if (r > 0) {                          /* finish the step of the last spike from (c, u + d) */
                if (free_at[k] <= n)
                    vm = FN(izh_rk4)(vm, uk, r, a, bb, k2, k1, k0, I, &uk, &f0);
                rem[k] = 0;
            }
            vn = FN(izh_rk4)(vm, uk, h, a, bb, k2, k1, k0, I, &un, &f0);
            if (vn * to_v > vth && free_at[k] <= n) {
                /* event location: where the cubic Hermite interpolant of v crosses v_peak (bisection),
                 * u there by linear interpolation; reset there, the rest of the step next update */
                f1 = SC_IZH_F(vn, un, k2, k1, k0, I);
                if (!(f1 < (REAL)1e12))
                    f1 = (vn - vm) / h;
                REAL lo = 0, hi = 1;
                for (int it = 0; it < 40; it++) {
                    REAL s = half * (lo + hi), s2 = s * s, s3 = s2 * s;
                    REAL hv = (2 * s3 - 3 * s2 + 1) * vm + (s3 - 2 * s2 + s) * h * f0 + (-2 * s3 + 3 * s2) * vn
                              + (s3 - s2) * h * f1;
                    if (hv >= vpk) hi = s; else lo = s;
                }
                un = uk + hi * (un - uk) + d;
                rem[k] = (1 - hi) * h;
                v[k] = vn * to_v;                 /* above v_peak: the threshold fires and resets v to c */
                u[k] = un;
                continue;
            }
        }
        if (free_at[k] > n) {
            v[k] = vi;                            /* refractory: v clamped, u evolves */
            vmv[k] = vm;
        } else {
            REAL vv = vn * to_v;
            v[k] = vv;
            vmv[k] = vn;
            if (vv > vth)                         /* the threshold fires it (it is free): u += d */
                un = un + d;
        }
        u[k] = un;
    }
    return 0;
}
#undef SC_IZH_F
