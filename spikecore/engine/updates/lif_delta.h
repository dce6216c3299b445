/* The grid engine's update of lif_delta (spikecore/models/lif_delta.py): exact decay towards
 * the drive, v <- drive + (v - drive) am, after the jumps of the previous step; am per neuron
 * where the population has per-neuron parameters.
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

/* Delta synapses: the jump delivered at the previous step n-1 counts unless the
 * neuron was refractory then (free_at > n-1; a neuron that spiked had its input
 * cleared by the threshold, as its reset would erase it). */
SC_CLONES static void FN(upd_delta)(int64_t m, int64_t n, REAL am, REAL *restrict v, const REAL *restrict drive,
                                    REAL d0, REAL *restrict pend, const int64_t *restrict free_at, REAL vth,
                                    uint8_t *restrict crossed)
{
    for (int64_t k0 = 0; k0 < m; k0 += SC_BLOCK) {
        int64_t k1 = k0 + SC_BLOCK < m ? k0 + SC_BLOCK : m;
        int c = 0;
        for (int64_t k = k0; k < k1; k++) {
            REAL vi = free_at[k] < n ? v[k] + pend[k] : v[k];
            pend[k] = 0;
            REAL dk = drive ? drive[k] : d0;
            REAL vn = dk + (vi - dk) * am;
            REAL vv = free_at[k] > n ? vi : vn;
            v[k] = vv;
            c += vv > vth;
        }
        crossed[k0 / SC_BLOCK] = c != 0;
    }
}


/* Per-neuron parameters: the decay per neuron (nparam row 7, after the model's 7 parameters:
 * LifDelta.per_neuron_coefficients); threshold, reset and refractoriness are the kernel's. */
static void FN(upd_delta_n)(int64_t m, int64_t n, const REAL *restrict am, REAL *restrict v,
                            const REAL *restrict drive, REAL d0, REAL *restrict pend, const int64_t *restrict free_at)
{
    for (int64_t k = 0; k < m; k++) {
        REAL vi = free_at[k] < n ? v[k] + pend[k] : v[k];
        pend[k] = 0;
        REAL dk = drive ? drive[k] : d0;
        REAL vn = dk + (vi - dk) * am[k];
        v[k] = free_at[k] > n ? vi : vn;
    }
}

static int FN(update_lif_delta)(const sc_block *b)
{
    if (b->nparam) {
        FN(upd_delta_n)(b->m, b->n, (const REAL *)b->nparam + 7 * b->stride, (REAL *)b->v, (const REAL *)b->drive,
                        (REAL)b->d0, (REAL *)b->pend, b->free_at);
        return 0;
    }
    FN(upd_delta)(b->m, b->n, (REAL)b->decay_mem, (REAL *)b->v, (const REAL *)b->drive, (REAL)b->d0,
                  (REAL *)b->pend, b->free_at, (REAL)b->vth, b->crossed);
    return 1;
}
