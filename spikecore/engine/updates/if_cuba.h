/* The grid engine's update of if_cuba (spikecore/models/if_cuba.py): exact, no leak,
 * v <- v + drive dt/c_m + sum_k I_k coef_k; I_k <- I_k decay_k (drive: the injected current).
 * param: c_m first (the model's declaration order).
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

SC_CLONES static void FN(upd_if_cuba)(int64_t m, int64_t n, int64_t stride, int64_t nrec, REAL gain,
                                      const double *coef, const double *decay, REAL *restrict v,
                                      const REAL *restrict drive, REAL d0, REAL *restrict syn,
                                      const int64_t *restrict free_at, REAL vth, uint8_t *restrict crossed)
{
    for (int64_t k0 = 0; k0 < m; k0 += SC_BLOCK) {
        int64_t k1 = k0 + SC_BLOCK < m ? k0 + SC_BLOCK : m;
        int c = 0;
        for (int64_t k = k0; k < k1; k++) {
            REAL vi = v[k];
            REAL vn = vi + (drive ? drive[k] : d0) * gain;
            for (int64_t r = 0; r < nrec; r++)     /* receptor order, as every model sums */
                vn = vn + syn[r * stride + k] * (REAL)coef[r];
            REAL vv = free_at[k] > n ? vi : vn;
            v[k] = vv;
            c += vv > vth;
        }
        crossed[k0 / SC_BLOCK] = c != 0;
    }
    FN(decay_receptors)(m, stride, nrec, decay, syn);
}

static int FN(update_if_cuba)(const sc_block *b)
{
    REAL gain = (REAL)(b->dt / b->param[0]);    /* dt / c_m */
    FN(upd_if_cuba)(b->m, b->n, b->stride, b->n_rec, gain, b->rec_coef, b->rec_decay, (REAL *)b->v,
                    (const REAL *)b->drive, (REAL)b->d0, (REAL *)b->syn, b->free_at, (REAL)b->vth, b->crossed);
    return 1;
}
