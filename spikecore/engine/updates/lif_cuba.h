/* The grid engine's update of lif_cuba (spikecore/models/lif_cuba.py): exact propagator,
 * v <- drive + (v - drive) am + sum_k syn_k coef_k; syn_k <- syn_k decay_k.
 * Included by _updates.h once per state type (REAL, FN: _kernel_impl.h); registered there. */

/* Two receptors (CUBA's exc and inh), one receptor, any number: specialised loops
 * that flag the threshold blocks where v crossed (threshold skips the others). With
 * `fold` (sc_block.fold) each receptor value first takes its pending input (f0, f1 and
 * their marks g0, g1), in the same pass; a constant after inlining, so each variant
 * keeps its vectorised loop. */
static SC_ALWAYS_INLINE void FN(cuba2_pass)(int64_t m, int64_t n, int64_t stride, REAL am, REAL c0, REAL c1,
                                            REAL a0, REAL a1, REAL *restrict v, const REAL *restrict drive, REAL d0,
                                            REAL *restrict s0, const int64_t *restrict free_at, REAL vth,
                                            uint8_t *restrict crossed, int fold, REAL *restrict f0,
                                            uint8_t *restrict g0)
{
    REAL *restrict s1 = s0 + stride, *restrict f1 = fold ? f0 + stride : NULL;
    uint8_t *restrict g1 = fold ? g0 + stride : NULL;
    for (int64_t k0 = 0; k0 < m; k0 += SC_BLOCK) {
        int64_t k1 = k0 + SC_BLOCK < m ? k0 + SC_BLOCK : m;
        int c = 0;
        for (int64_t k = k0; k < k1; k++) {
            REAL vi = v[k];
            REAL dk = drive ? drive[k] : d0;
            REAL x0 = s0[k], x1 = s1[k];
            if (fold) {
                x0 = FN(sc_fold_pending)(x0, f0, g0, k);
                x1 = FN(sc_fold_pending)(x1, f1, g1, k);
            }
            REAL vn = dk + (vi - dk) * am + x0 * c0 + x1 * c1;
            REAL vv = free_at[k] > n ? vi : vn;
            v[k] = vv;
            c += vv > vth;
            s0[k] = x0 * a0;
            s1[k] = x1 * a1;
        }
        crossed[k0 / SC_BLOCK] = c != 0;
    }
}

SC_CLONES static void FN(upd_cuba2)(int64_t m, int64_t n, int64_t stride, REAL am, REAL c0, REAL c1, REAL a0,
                                    REAL a1, REAL *restrict v, const REAL *restrict drive, REAL d0,
                                    REAL *restrict s0, const int64_t *restrict free_at, REAL vth,
                                    uint8_t *restrict crossed, REAL *restrict f0, uint8_t *restrict g0)
{
    if (f0)
        FN(cuba2_pass)(m, n, stride, am, c0, c1, a0, a1, v, drive, d0, s0, free_at, vth, crossed, 1, f0, g0);
    else
        FN(cuba2_pass)(m, n, stride, am, c0, c1, a0, a1, v, drive, d0, s0, free_at, vth, crossed, 0, NULL, NULL);
}

static SC_ALWAYS_INLINE void FN(cuba1_pass)(int64_t m, int64_t n, REAL am, REAL c0, REAL a0, REAL *restrict v,
                                            const REAL *restrict drive, REAL d0, REAL *restrict s0,
                                            const int64_t *restrict free_at, REAL vth, uint8_t *restrict crossed,
                                            int fold, REAL *restrict f0, uint8_t *restrict g0)
{
    for (int64_t k0 = 0; k0 < m; k0 += SC_BLOCK) {
        int64_t k1 = k0 + SC_BLOCK < m ? k0 + SC_BLOCK : m;
        int c = 0;
        for (int64_t k = k0; k < k1; k++) {
            REAL vi = v[k];
            REAL dk = drive ? drive[k] : d0;
            REAL x0 = s0[k];
            if (fold)
                x0 = FN(sc_fold_pending)(x0, f0, g0, k);
            REAL vn = dk + (vi - dk) * am + x0 * c0;
            REAL vv = free_at[k] > n ? vi : vn;
            v[k] = vv;
            c += vv > vth;
            s0[k] = x0 * a0;
        }
        crossed[k0 / SC_BLOCK] = c != 0;
    }
}

SC_CLONES static void FN(upd_cuba1)(int64_t m, int64_t n, REAL am, REAL c0, REAL a0,
                                    REAL *restrict v, const REAL *restrict drive, REAL d0,
                                    REAL *restrict s0, const int64_t *restrict free_at, REAL vth,
                                    uint8_t *restrict crossed, REAL *restrict f0, uint8_t *restrict g0)
{
    if (f0)
        FN(cuba1_pass)(m, n, am, c0, a0, v, drive, d0, s0, free_at, vth, crossed, 1, f0, g0);
    else
        FN(cuba1_pass)(m, n, am, c0, a0, v, drive, d0, s0, free_at, vth, crossed, 0, NULL, NULL);
}

/* Any number of receptors. The sum over receptors runs in receptor order, as in
 * the 1- and 2-receptor versions, so all give the same v. */
static void FN(upd_cuba_n)(int64_t m, int64_t n, int64_t stride, int64_t nrec, REAL am, const double *coef,
                           const double *decay, REAL *restrict v, const REAL *restrict drive, REAL d0,
                           REAL *restrict syn, const int64_t *restrict free_at)
{
    for (int64_t k = 0; k < m; k++) {
        if (free_at[k] > n)
            continue;
        REAL dk = drive ? drive[k] : d0;
        REAL vn = dk + (v[k] - dk) * am;
        for (int64_t r = 0; r < nrec; r++)
            vn = vn + syn[r * stride + k] * (REAL)coef[r];
        v[k] = vn;
    }
    FN(decay_receptors)(m, stride, nrec, decay, syn);
}

/* Per-neuron parameters: am and the receptors' coefficients per neuron (nparam rows 7 and
 * 8 + r, after the model's 7 parameters: LifCuba.per_neuron_coefficients). */
static void FN(upd_cuba_pn)(int64_t m, int64_t n, int64_t stride, int64_t nrec, const REAL *restrict np,
                            const double *decay, REAL *restrict v, const REAL *restrict drive, REAL d0,
                            REAL *restrict syn, const int64_t *restrict free_at)
{
    const REAL *am = np + 7 * stride, *coef = np + 8 * stride;
    for (int64_t k = 0; k < m; k++) {
        if (free_at[k] > n)
            continue;
        REAL dk = drive ? drive[k] : d0;
        REAL vn = dk + (v[k] - dk) * am[k];
        for (int64_t r = 0; r < nrec; r++)
            vn = vn + syn[r * stride + k] * coef[r * stride + k];
        v[k] = vn;
    }
    FN(decay_receptors)(m, stride, nrec, decay, syn);
}

static int FN(update_lif_cuba)(const sc_block *b)
{
    int fused = !b->nparam && (b->n_rec == 1 || b->n_rec == 2);
    if (b->fold && !fused)   /* (the other loops take syn with its input folded in) */
        FN(fold_block)(b);
    if (b->nparam) {
        FN(upd_cuba_pn)(b->m, b->n, b->stride, b->n_rec, (const REAL *)b->nparam, b->rec_decay, (REAL *)b->v,
                        (const REAL *)b->drive, (REAL)b->d0, (REAL *)b->syn, b->free_at);
        return 0;
    }
    const double *cf = b->rec_coef, *dc = b->rec_decay;
    REAL am = (REAL)b->decay_mem, d0 = (REAL)b->d0, vth = (REAL)b->vth;
    REAL *v = (REAL *)b->v, *syn = (REAL *)b->syn;
    const REAL *drive = (const REAL *)b->drive;
    if (b->n_rec == 2) {
        FN(upd_cuba2)(b->m, b->n, b->stride, am, (REAL)cf[0], (REAL)cf[1], (REAL)dc[0], (REAL)dc[1],
                      v, drive, d0, syn, b->free_at, vth, b->crossed, (REAL *)b->fold, b->fold_mark);
        return 1;
    }
    if (b->n_rec == 1) {
        FN(upd_cuba1)(b->m, b->n, am, (REAL)cf[0], (REAL)dc[0], v, drive, d0, syn, b->free_at, vth, b->crossed,
                      (REAL *)b->fold, b->fold_mark);
        return 1;
    }
    FN(upd_cuba_n)(b->m, b->n, b->stride, b->n_rec, am, cf, dc, v, drive, d0, syn, b->free_at);
    return 0;
}
