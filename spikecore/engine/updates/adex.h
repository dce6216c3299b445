/* The grid engine's updates of adex and adex_cond (spikecore/models/adex.py), in SI:
 *     c_m V' = -g_l (V - E_L) + g_l D exp((min(V, V_peak) - V_T)/D) - w + I_syn + I
 *     tau_w w' = a (V - E_L) - w
 * with I_syn = sum_k I_k (adex: exponential currents) or sum_k g_k (E_k - V) (adex_cond:
 * exponential conductances), the receptors' exact exponential decay inside the step.
 * Classical RK4 per step; where V crosses V_peak inside a step the crossing is located on the
 * cubic Hermite interpolant of V (bisection), w jumps by b there, and what is left of the
 * step after the reset and the refractory period is integrated at the update that frees the
 * neuron (xstate phase: the crossing's offset into its step), so neither the reset nor the
 * end of refractoriness lags by a step. While refractory V is clamped and w relaxes exactly.
 * integrator 1 (euler): forward Euler of V and w from the step start (receptors as at the
 * step start, their decay exact), spike at the step's end, w += b there for the neurons the
 * threshold will fire; while refractory V is clamped and w takes its Euler step (Brian2's
 * method 'euler' for V and w with exact receptor decays: backends/brian2.py reproduces it).
 * param: c_m, g_l, v_leak, delta_t, v_t, tau_w, a, b, v_reset, v_threshold, t_refrac, bias,
 * integrator (declaration order); xstate: w, phase, fresh.
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

#ifndef SC_ADEX_MAX_REC
#define SC_ADEX_MAX_REC 8   /* receptors per population (spikecore/models/adex.py refuses more) */
#endif

typedef struct {
    REAL c_m, g_l, e_l, dlt, v_t, tau_w, a, vpk, I;
    int64_t nrec;
    REAL syn[SC_ADEX_MAX_REC], half[SC_ADEX_MAX_REC], full[SC_ADEX_MAX_REC], erev[SC_ADEX_MAX_REC];   /* receptors at the sub-step start, decays over its half, all */
    double step_decay[SC_ADEX_MAX_REC];                      /* decays over the whole step dt */
    int cond;
} FN(adex_ctx);

static inline void FN(adex_rhs)(const FN(adex_ctx) *c, REAL V, REAL w, int stage, REAL *dv, REAL *dw)
{
    REAL Vx = V < c->vpk ? V : c->vpk;
    REAL cur = -c->g_l * (V - c->e_l) + c->g_l * c->dlt * SC_EXP((Vx - c->v_t) / c->dlt) - w + c->I;
    for (int64_t r = 0; r < c->nrec; r++) {
        REAL x = c->syn[r] * (stage == 0 ? (REAL)1 : stage == 1 ? c->half[r] : c->full[r]);
        cur = cur + (c->cond ? x * (c->erev[r] - V) : x);
    }
    *dv = cur / c->c_m;
    *dw = (c->a * (V - c->e_l) - w) / c->tau_w;
}

/* RK4 over h from (V, w) with the receptors' values at its start in c->syn; returns V. */
static inline REAL FN(adex_rk4)(const FN(adex_ctx) *c, REAL V, REAL w, REAL h, REAL *w_out, REAL *f0)
{
    REAL half = (REAL)0.5, k1, l1, k2, l2, k3, l3, k4, l4;
    FN(adex_rhs)(c, V, w, 0, &k1, &l1);
    FN(adex_rhs)(c, V + half * h * k1, w + half * h * l1, 1, &k2, &l2);
    FN(adex_rhs)(c, V + half * h * k2, w + half * h * l2, 1, &k3, &l3);
    FN(adex_rhs)(c, V + h * k3, w + h * l3, 2, &k4, &l4);
    *w_out = w + h / 6 * (l1 + 2 * l2 + 2 * l3 + l4);
    *f0 = k1;
    REAL Vn = V + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
    return Vn == Vn ? Vn : c->vpk + 1;
}

/* w relaxing with V held at V over h (exact). */
static inline REAL FN(adex_w_clamped)(const FN(adex_ctx) *c, REAL V, REAL w, REAL h)
{
    REAL winf = c->a * (V - c->e_l);
    return winf + (w - winf) * SC_EXP(-h / c->tau_w);
}

static void FN(adex_set_decays)(FN(adex_ctx) *c, const double *decay, const double *erev, int64_t nrec)
{
    c->nrec = nrec;
    for (int64_t r = 0; r < nrec; r++) {
        c->step_decay[r] = decay[r];
        c->full[r] = (REAL)decay[r];
        c->half[r] = (REAL)sqrt(decay[r]);
        c->erev[r] = (REAL)erev[r];
    }
}

/* Stage decays for a sub-step of `frac` of the step (1: the precomputed ones). */
static void FN(adex_sub_decays)(FN(adex_ctx) *c, double frac)
{
    for (int64_t r = 0; r < c->nrec; r++) {
        c->full[r] = (REAL)pow(c->step_decay[r], frac);
        c->half[r] = (REAL)pow(c->step_decay[r], 0.5 * frac);
    }
}

/* integrator euler with population-wide parameters: the loop of the euler branch below,
 * without its per-neuron context (the same arithmetic, in the same order: adex_rhs at stage 0),
 * in blocks of SC_VB neurons: passes the compiler vectorises, the exp of the whole block between
 * them (SC_EXP_ARRAY: libm's exp bit for bit, _vexp.h), selects instead of branches. */
SC_CLONES static void FN(adex_euler_scalar)(const sc_block *b, int cond)
{
    const double *prm = b->param;
    int64_t m = b->m, n = b->n, S = b->stride, nrec = b->n_rec;
    REAL *restrict v = (REAL *)b->v, *restrict wv = (REAL *)b->xstate, *restrict syn = (REAL *)b->syn;
    const REAL *restrict drive = (const REAL *)b->drive;
    const int64_t *restrict free_at = b->free_at;
    REAL h = (REAL)b->dt, vth = (REAL)b->vth, d0 = (REAL)b->d0;
    REAL c_m = (REAL)prm[0], g_l = (REAL)prm[1], e_l = (REAL)prm[2], dlt = (REAL)prm[3], v_t = (REAL)prm[4];
    REAL tau_w = (REAL)prm[5], a = (REAL)prm[6], bw = (REAL)prm[7];
    REAL gd = g_l * dlt;
    REAL erev[SC_ADEX_MAX_REC];
    for (int64_t r = 0; r < nrec; r++)
        erev[r] = (REAL)b->rec_erev[r];
    REAL e[SC_VB], cur[SC_VB];
    for (int64_t k0 = 0; k0 < m; k0 += SC_VB) {
        int64_t len = m - k0 < SC_VB ? m - k0 : SC_VB;
        REAL *restrict vb = v + k0, *restrict wb = wv + k0;
        const int64_t *restrict fa = free_at + k0;
        for (int64_t k = 0; k < len; k++) {
            REAL V = vb[k];
            REAL Vx = V < vth ? V : vth;
            e[k] = (Vx - v_t) / dlt;
        }
        SC_EXP_ARRAY(e, e, len);
        for (int64_t k = 0; k < len; k++) {
            REAL V = vb[k];
            cur[k] = -g_l * (V - e_l) + gd * e[k] - wb[k] + (drive ? drive[k0 + k] : d0);
        }
        for (int64_t r = 0; r < nrec; r++) {
            const REAL *restrict x = syn + r * S + k0;
            REAL er = erev[r];
            if (cond)
                for (int64_t k = 0; k < len; k++)
                    cur[k] = cur[k] + x[k] * (er - vb[k]);
            else
                for (int64_t k = 0; k < len; k++)
                    cur[k] = cur[k] + x[k];
        }
        for (int64_t k = 0; k < len; k++) {
            REAL V = vb[k], w = wb[k];
            REAL wn = w + h * ((a * (V - e_l) - w) / tau_w);
            REAL Vn = V + h * (cur[k] / c_m);
            REAL wf = Vn > vth ? wn + bw : wn;    /* the threshold fires it: w += b */
            int refractory = fa[k] > n;           /* V clamped, w its Euler step */
            vb[k] = refractory ? V : Vn;
            wb[k] = refractory ? wn : wf;
        }
    }
    FN(decay_receptors)(m, S, nrec, b->rec_decay, syn);
}

static int FN(adex_update)(const sc_block *b, int cond)
{
    if ((int)b->param[12] == 1 && !b->nparam) {
        FN(adex_euler_scalar)(b, cond);
        return 0;
    }
    const double *prm = b->param;
    const REAL *np = (const REAL *)b->nparam;
    int64_t m = b->m, n = b->n, S = b->stride;
    REAL *restrict v = (REAL *)b->v, *restrict wv = (REAL *)b->xstate, *restrict phase = wv + S;
    REAL *restrict fresh = wv + 2 * S;            /* 1: the spike step's rest (after the crossing) not yet spent */
    REAL *restrict syn = (REAL *)b->syn;
    const REAL *drive = (const REAL *)b->drive;
    const int64_t *free_at = b->free_at;
    REAL h = (REAL)b->dt, vth0 = (REAL)b->vth, d0 = (REAL)b->d0, half = (REAL)0.5;
    FN(adex_ctx) c;
    c.cond = cond;
    FN(adex_set_decays)(&c, b->rec_decay, b->rec_erev, b->n_rec);
    int euler = (int)prm[12] == 1;
    for (int64_t k = 0; k < m; k++) {
        c.c_m = np ? np[k] : (REAL)prm[0];
        c.g_l = np ? np[S + k] : (REAL)prm[1];
        c.e_l = np ? np[2 * S + k] : (REAL)prm[2];
        c.dlt = np ? np[3 * S + k] : (REAL)prm[3];
        c.v_t = np ? np[4 * S + k] : (REAL)prm[4];
        c.tau_w = np ? np[5 * S + k] : (REAL)prm[5];
        c.a = np ? np[6 * S + k] : (REAL)prm[6];
        REAL bw = np ? np[7 * S + k] : (REAL)prm[7];
        REAL vth = np ? np[9 * S + k] : vth0;   /* V_peak */
        c.vpk = vth;
        c.I = drive ? drive[k] : d0;
        for (int64_t r = 0; r < c.nrec; r++)
            c.syn[r] = syn[r * S + k];
        REAL V = v[k], w = wv[k], Vn, wn, f0;
        if (euler) {
            REAL dv, dw;
            FN(adex_rhs)(&c, V, w, 0, &dv, &dw);
            wn = w + h * dw;
            if (free_at[k] > n) {                 /* refractory: V clamped, w its Euler step */
                wv[k] = wn;
                continue;
            }
            Vn = V + h * dv;
            if (Vn > vth)                         /* the threshold fires it: w += b */
                wn = wn + bw;
            v[k] = Vn;
            wv[k] = wn;
            continue;
        }
        REAL ph = phase[k];
        if (free_at[k] > n) {                     /* refractory: V clamped, w relaxes */
            REAL span = h;
            if (ph >= 0 && fresh[k] != 0) {       /* and over the spike step's rest */
                span = span + (h - ph);
                fresh[k] = 0;
            }
            wv[k] = FN(adex_w_clamped)(&c, V, w, span);
            continue;
        }
        REAL t0 = 0;                              /* where in this step V is free from */
        if (ph >= 0) {
            if (free_at[k] < n) {
                /* spiked in the last step without refractoriness: the rest of that step from the
                 * reset first (receptors as at this step's start: an error of the step's order) */
                FN(adex_sub_decays)(&c, (double)(h - ph) / (double)h);
                V = FN(adex_rk4)(&c, V, w, h - ph, &w, &f0);
                for (int64_t r = 0; r < c.nrec; r++)
                    c.syn[r] = syn[r * S + k];
            } else {
                /* the step that ends the refractory period: w clamped up to the crossing's offset
                 * (and over the spike step's rest if no refractory step came between) */
                w = FN(adex_w_clamped)(&c, V, w, ph + (fresh[k] != 0 ? h - ph : 0));
                t0 = ph;
                /* the receptors at t0 into the step (exact decay) */
                for (int64_t r = 0; r < c.nrec; r++)
                    c.syn[r] = c.syn[r] * (REAL)pow(c.step_decay[r], (double)t0 / (double)h);
            }
            phase[k] = -1;
            fresh[k] = 0;
        }
        REAL hf = h - t0;
        if (hf != h)
            FN(adex_sub_decays)(&c, (double)hf / (double)h);
        Vn = FN(adex_rk4)(&c, V, w, hf, &wn, &f0);
        if (hf != h)
            FN(adex_set_decays)(&c, b->rec_decay, b->rec_erev, b->n_rec);
        if (Vn > vth) {
            REAL k1n, l1n;
            FN(adex_rhs)(&c, Vn < vth * 2 ? Vn : vth, wn, 2, &k1n, &l1n);
            REAL lo = 0, hi = 1;
            for (int it = 0; it < 40; it++) {
                REAL s = half * (lo + hi), s2 = s * s, s3 = s2 * s;
                REAL hv = (2 * s3 - 3 * s2 + 1) * V + (s3 - 2 * s2 + s) * hf * f0 + (-2 * s3 + 3 * s2) * Vn
                          + (s3 - s2) * hf * k1n;
                if (hv >= vth) hi = s; else lo = s;
            }
            REAL tc = hi * hf;                    /* crossing, from V's free start */
            /* w to the crossing from its slope at the start (RK4's w has seen V's runaway stages
             * beyond V_peak; w changes by O(dt^2) less than that within a step) */
            REAL dv0, dw0;
            FN(adex_rhs)(&c, V, w, 0, &dv0, &dw0);
            REAL wc = w + tc * dw0 + bw;
            phase[k] = t0 + tc;                   /* offset of the crossing into this step */
            fresh[k] = 1;
            wv[k] = wc;                           /* w just after the crossing; the rest: next update */
            v[k] = Vn;                            /* above V_peak: the threshold fires, V <- V_reset */
            continue;
        }
        v[k] = Vn;
        wv[k] = wn;
    }
    FN(decay_receptors)(m, S, b->n_rec, b->rec_decay, syn);
    return 0;
}

static int FN(update_adex)(const sc_block *b) { return FN(adex_update)(b, 0); }
static int FN(update_adex_cond)(const sc_block *b) { return FN(adex_update)(b, 1); }
