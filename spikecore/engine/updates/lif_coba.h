/* The grid engine's update of lif_coba (spikecore/models/lif_coba.py): exponential Euler.
 * param: c_m, g_l, v_leak (the model's declaration order).
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

/* Exponential Euler with the conductances of the step start (Brian2 'exponential_euler'). */
static void FN(upd_coba)(int64_t m, int64_t n, int64_t stride, int64_t nrec, REAL dt, REAL c_m, REAL g_l,
                         REAL v_leak, const double *erev, const double *decay, REAL *restrict v,
                         const REAL *restrict drive, REAL *restrict syn, const int64_t *restrict free_at)
{
    REAL glv = g_l * v_leak;
    for (int64_t k = 0; k < m; k++) {
        if (free_at[k] > n)
            continue;
        REAL gt = g_l, num = glv + (drive ? drive[k] : 0);
        for (int64_t r = 0; r < nrec; r++) {
            REAL g = syn[r * stride + k];
            gt = gt + g;
            num = num + g * (REAL)erev[r];
        }
        REAL vinf = num / gt;
        v[k] = vinf + (v[k] - vinf) * SC_EXP(-dt * gt / c_m);
    }
    FN(decay_receptors)(m, stride, nrec, decay, syn);
}

/* Per-neuron parameters: c_m, g_l, v_leak per neuron (nparam rows 0-2). */
static void FN(upd_coba_pn)(int64_t m, int64_t n, int64_t stride, int64_t nrec, REAL dt, const REAL *restrict np,
                            const double *erev, const double *decay, REAL *restrict v,
                            const REAL *restrict drive, REAL *restrict syn, const int64_t *restrict free_at)
{
    for (int64_t k = 0; k < m; k++) {
        if (free_at[k] > n)
            continue;
        REAL c_m = np[k], g_l = np[stride + k], v_leak = np[2 * stride + k];
        REAL gt = g_l, num = g_l * v_leak + (drive ? drive[k] : 0);
        for (int64_t r = 0; r < nrec; r++) {
            REAL g = syn[r * stride + k];
            gt = gt + g;
            num = num + g * (REAL)erev[r];
        }
        REAL vinf = num / gt;
        v[k] = vinf + (v[k] - vinf) * SC_EXP(-dt * gt / c_m);
    }
    FN(decay_receptors)(m, stride, nrec, decay, syn);
}

static int FN(update_lif_coba)(const sc_block *b)
{
    const double *prm = b->param;     /* c_m, g_l, v_leak */
    if (b->nparam) {
        FN(upd_coba_pn)(b->m, b->n, b->stride, b->n_rec, (REAL)b->dt, (const REAL *)b->nparam, b->rec_erev,
                        b->rec_decay, (REAL *)b->v, (const REAL *)b->drive, (REAL *)b->syn, b->free_at);
        return 0;
    }
    FN(upd_coba)(b->m, b->n, b->stride, b->n_rec, (REAL)b->dt, (REAL)prm[0], (REAL)prm[1], (REAL)prm[2],
                 b->rec_erev, b->rec_decay, (REAL *)b->v, (const REAL *)b->drive, (REAL *)b->syn, b->free_at);
    return 0;
}
