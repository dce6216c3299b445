/* The grid engine's update of lif_coba (spikecore/models/lif_coba.py): exponential Euler.
 * param: c_m, g_l, v_leak (the model's declaration order).
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

/* Exponential Euler with the conductances of the step start (Brian2 'exponential_euler'):
 *     g_tot = g_l + sum_r g_r,  v_inf = (g_l v_leak + I + sum_r g_r e_r) / g_tot,
 *     v <- v_inf + (v - v_inf) exp(-dt g_tot / c_m)      (not while refractory).
 * In blocks of SC_VB neurons, three passes the compiler vectorises with the exp of the whole
 * block between them (SC_EXP_ARRAY: libm's exp bit for bit, _vexp.h); per neuron the same
 * operations in the same order as one scalar loop, so the same results. `np`: per-neuron
 * c_m, g_l, v_leak (nparam rows 0-2), else the scalars c_m, g_l, v_leak. */
/* One block's receptor terms, receptor after receptor: g_tot += g_r, numerator += g_r e_r. */
static inline void FN(coba_add_receptors)(int64_t len, int64_t nrec, const REAL *restrict syn, int64_t stride,
                                          const double *erev, REAL *restrict gt, REAL *restrict num)
{
    for (int64_t r = 0; r < nrec; r++) {
        const REAL *restrict g = syn + r * stride;
        REAL er = (REAL)erev[r];
        for (int64_t k = 0; k < len; k++) {
            gt[k] = gt[k] + g[k];
            num[k] = num[k] + g[k] * er;
        }
    }
}

SC_CLONES static void FN(upd_coba)(int64_t m, int64_t n, int64_t stride, int64_t nrec, REAL dt, const REAL *restrict np,
                         REAL c_m, REAL g_l, REAL v_leak, const double *erev, const double *decay,
                         REAL *restrict v, const REAL *restrict drive, REAL *restrict syn,
                         const int64_t *restrict free_at)
{
    REAL glv = g_l * v_leak;
    REAL gt[SC_VB], num[SC_VB], vinf[SC_VB], e[SC_VB];
    for (int64_t k0 = 0; k0 < m; k0 += SC_VB) {
        int64_t len = m - k0 < SC_VB ? m - k0 : SC_VB;
        if (np) {
            const REAL *restrict cm = np + k0, *restrict gl = np + stride + k0, *restrict vl = np + 2 * stride + k0;
            for (int64_t k = 0; k < len; k++) {
                gt[k] = gl[k];
                num[k] = gl[k] * vl[k] + (drive ? drive[k0 + k] : 0);
            }
            FN(coba_add_receptors)(len, nrec, syn + k0, stride, erev, gt, num);
            for (int64_t k = 0; k < len; k++) {
                vinf[k] = num[k] / gt[k];
                e[k] = -dt * gt[k] / cm[k];
            }
        } else {
            for (int64_t k = 0; k < len; k++) {
                gt[k] = g_l;
                num[k] = glv + (drive ? drive[k0 + k] : 0);
            }
            FN(coba_add_receptors)(len, nrec, syn + k0, stride, erev, gt, num);
            for (int64_t k = 0; k < len; k++) {
                vinf[k] = num[k] / gt[k];
                e[k] = -dt * gt[k] / c_m;
            }
        }
        SC_EXP_ARRAY(e, e, len);
        REAL *restrict vb = v + k0;
        const int64_t *restrict fa = free_at + k0;
        for (int64_t k = 0; k < len; k++) {
            REAL vn = vinf[k] + (vb[k] - vinf[k]) * e[k];
            vb[k] = fa[k] > n ? vb[k] : vn;
        }
    }
    FN(decay_receptors)(m, stride, nrec, decay, syn);
}

static int FN(update_lif_coba)(const sc_block *b)
{
    const double *prm = b->param;     /* c_m, g_l, v_leak */
    FN(upd_coba)(b->m, b->n, b->stride, b->n_rec, (REAL)b->dt, (const REAL *)b->nparam, (REAL)prm[0],
                 (REAL)prm[1], (REAL)prm[2], b->rec_erev, b->rec_decay, (REAL *)b->v, (const REAL *)b->drive,
                 (REAL *)b->syn, b->free_at);
    return 0;
}
