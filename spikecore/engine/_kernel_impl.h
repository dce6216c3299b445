/* Body of the step loop, included twice by _kernel.c: once with REAL = double
 * (suffix _f64) and once with REAL = float (_f32). Declarations: _kernel.h.
 *
 * Refractoriness: free_at[k] is the first step at which neuron k is no longer
 * refractory. A spike at step s sets free_at = s + ref_steps; the update of step
 * n clamps the neuron while free_at > n, i.e. at steps s+1 .. s+ref_steps-1 (and
 * at step s itself, for the delta-synapse input that arrives after the threshold
 * when ref_steps > 0); the threshold of step n needs free_at <= n. This equals
 * Brian2's `not_refractory = timestep(t - lastspike) >= timestep(refractory)`
 * (brian2/groups/neurongroup.py, Refractoriness) evaluated at the update. Steps
 * are absolute (they continue across run calls) and free_at starts at -1, so a
 * neuron's refractory state is only read, never counted down: the updates write
 * v and the synaptic variables, nothing else.
 *
 * Input due at step n is left in ring slot n and folded into the state update of
 * step n+1, which is where it first acts: this saves a pass over every synaptic
 * variable per step. The slot is applied explicitly only where state is observed:
 * before monitors sample, and when a run call returns.
 */

#define SC_CAT2(a, b) a##b
#define SC_CAT(a, b) SC_CAT2(a, b)
#define FN(name) SC_CAT(name, SC_SUFFIX)

/* ---------------------------------------------------------------- neuron updates */
#ifndef SC_BLOCK
#define SC_BLOCK 64   /* neurons per threshold block: the updates flag blocks where v crossed */
#endif
#ifndef SC_VB
#define SC_VB 256     /* neurons per pass of the updates that evaluate exp per neuron (SC_EXP_ARRAY) */
#endif
/* Each model's update (_updates.h) takes the neuron range [0, m) of one thread, pointers
 * already offset to its first neuron; `stride` (the population size) separates receptor
 * blocks of syn. drive == NULL means the scalar drive d0. Input to synaptic variables
 * has been folded into syn already (fold_sparse), so x = s + p of the IR is s here --
 * or, for an update that folds (sc_block.fold), is folded by it with sc_fold_pending. */
#ifndef SC_ALWAYS_INLINE
#if defined(__GNUC__)
#define SC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SC_ALWAYS_INLINE inline
#endif
#endif

/* Bucket mode's fold of pending input p (marks mk) into receptor value x of neuron k, clearing
 * p[k] and mk[k]: the sum fold_hot forms (an unmarked channel's input is 0, and x stays). */
static SC_ALWAYS_INLINE REAL FN(sc_fold_pending)(REAL x, REAL *restrict p, uint8_t *restrict mk, int64_t k)
{
    REAL y = x + p[k];
    y = mk[k] ? y : x;
    p[k] = 0;
    mk[k] = 0;
    return y;
}

/* The fold of sc_block.fold into syn for all of a block's receptors, for the paths of an update
 * that folds which have no fused loop. */
static void FN(fold_block)(const sc_block *b)
{
    REAL *syn = (REAL *)b->syn, *p = (REAL *)b->fold;
    for (int64_t r = 0; r < b->n_rec; r++) {
        REAL *restrict s = syn + r * b->stride, *restrict pr = p + r * b->stride;
        uint8_t *restrict mr = b->fold_mark + r * b->stride;
        for (int64_t k = 0; k < b->m; k++)
            s[k] = FN(sc_fold_pending)(s[k], pr, mr, k);
    }
}

/* syn_r <- syn_r * decay_r for the receptors [0, nrec) of neurons [0, m): exponential
 * synaptic variables over one step (models whose receptors decay independently of v). */
static inline void FN(decay_receptors)(int64_t m, int64_t stride, int64_t nrec, const double *decay,
                                       REAL *restrict syn)
{
    for (int64_t r = 0; r < nrec; r++) {
        REAL *restrict s = syn + r * stride;
        REAL a = (REAL)decay[r];
        for (int64_t k = 0; k < m; k++)
            s[k] = s[k] * a;
    }
}

#include "_updates.h"
#ifndef SC_UNLIKELY
#if defined(__GNUC__)
#define SC_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define SC_UNLIKELY(c) (c)
#endif
#endif
#include "_plastic_rules.h"

/* How many of v[0..n) exceed vth: a branch-free reduction the compiler vectorises. */
SC_CLONES static int64_t FN(count_above)(int64_t n, const REAL *restrict v, REAL vth)
{
    int64_t c = 0;
    for (int64_t k = 0; k < n; k++)
        c += v[k] > vth;
    return c;
}

/* Strict threshold, never while clamped; spiking neurons are reset at once (nothing
 * before the next step's update reads their v), clamped for ref_steps steps, and
 * appended to spk as global indices. For delta-synapse models `due` is the input
 * arriving at this step (or NULL): a spiking neuron loses it, as Brian2's reset
 * overwrites the v += w of the synapses slot that precedes it. `vthn`: each neuron's
 * threshold, written by its update this step (NeuronModel.threshold_state), or NULL for
 * the population's vth; the test on it is loop-invariant (gcc -O3 unswitches the loop),
 * so the scalar path is the loop it always was. */
static int64_t FN(threshold)(int64_t m, int64_t n, int64_t first, REAL vth, const REAL *restrict vthn, REAL vreset,
                             int32_t ref_steps, REAL *restrict v, int64_t *restrict free_at, REAL *restrict due,
                             const uint8_t *restrict crossed, int32_t *restrict spk, int64_t n_spk)
{
    /* Spikes are rare: look at the neurons of a block only when one crossed (flags
     * from the update, or a vectorised count here when the update gave none; with a
     * threshold per neuron and no flags, every block is looked at). */
    for (int64_t k0 = 0; k0 < m; k0 += SC_BLOCK) {
        int64_t k1 = k0 + SC_BLOCK < m ? k0 + SC_BLOCK : m;
        if (crossed ? !crossed[k0 / SC_BLOCK] : !vthn && FN(count_above)(k1 - k0, v + k0, vth) == 0)
            continue;
        for (int64_t k = k0; k < k1; k++) {
            if (v[k] > (vthn ? vthn[k] : vth) && free_at[k] <= n) {
                spk[n_spk++] = (int32_t)(first + k);
                free_at[k] = n + ref_steps;
                v[k] = vreset;
                if (due)
                    due[k] = 0;
            }
        }
    }
    return n_spk;
}

/* The same with threshold, reset and refractory steps per neuron (per-neuron parameters). */
static int64_t FN(threshold_n)(int64_t m, int64_t n, int64_t first, const REAL *restrict vth,
                               const REAL *restrict vreset, const int32_t *restrict ref_steps, REAL *restrict v,
                               int64_t *restrict free_at, REAL *restrict due, int32_t *restrict spk, int64_t n_spk)
{
    for (int64_t k = 0; k < m; k++) {
        if (v[k] > vth[k] && free_at[k] <= n) {
            spk[n_spk++] = (int32_t)(first + k);
            free_at[k] = n + ref_steps[k];
            v[k] = vreset[k];
            if (due)
                due[k] = 0;
        }
    }
    return n_spk;
}

/* ---------------------------------------------------------------- propagation */
/* Add mult * w of thread t's part of row `pre` into the ring slots now + delay.
 * row_w[pre] is the row's one weight when all its synapses share it (then the
 * per-synapse weights are not read, or not even stored), else NaN. Segments
 * flagged SC_SEG_SPARSE (inputs to synaptic variables, not to v) also note each
 * channel the first time it is touched in a slot, so the fold reads only those
 * (sc_fold_sparse) instead of the whole slot. */
#define SC_SEG_SPARSE 0x8000
#define SC_PK_SPARSE 0x100u

/* ---------------------------------------------------------------- delivery buckets
 * Bucket mode (sc_net.bk; simulator.py chooses it where the ring does not fit in the cache):
 * an input for a later step is not added into its ring cell at once -- a cache miss per event
 * once the ring (channels x slots) outgrows the cache -- but appended to the bucket of its slot
 * (per thread: its own channels), a sequential write. At the start of step n thread t adds the
 * bucket of slot n into the slot, in the order the events were appended (bk_drain): a slot of
 * one thread's channels fits in L2 while its bucket streams through. Every input into a slot
 * that is due later goes through its bucket, and an input due at the current step (a delay of
 * 0, a plastic arrival) goes into the slot after its bucket was added, so each cell receives
 * the same values in the same order as in ring mode: the same sums, bit for bit. A full bucket
 * is added into its slot at once (the earliest inputs first: the order holds), and every
 * bucket is emptied when a run call returns, so between calls the ring holds all pending input
 * as in ring mode. */
#ifndef SC_BK_TAIL
#define SC_BK_TAIL 32    /* entries ahead of a bucket's tail that bk_put fetches (4 cache lines) */
#endif
#ifndef SC_BK_CHUNK
#define SC_BK_CHUNK 512  /* entries of a bucket's chunk (4 KB; fewer where the buckets are smaller) */
#endif
#ifndef SC_BK_AHEAD
#define SC_BK_AHEAD 48   /* bucket entries ahead whose ring cell (and mark) bk_drain fetches */
#endif

/* Ring slot `slot` of the step being run or the one before: the hot slot in bucket mode
 * (sc_net.hot), else the ring's. */
static SC_ALWAYS_INLINE REAL *FN(slot_at)(const sc_net *net, int64_t slot)
{
    return net->hot ? (REAL *)net->hot + SC_HOT_INDEX(net, slot) * net->n_channels
                    : (REAL *)net->ring + slot * net->n_channels;
}

/* Thread t's marks of hot slot `slot` (bucket mode). */
#define SC_HOT_MARK(net, t, slot) ((net)->hot_mark + ((int64_t)(t) * 3 + SC_HOT_INDEX(net, slot)) * (net)->n_channels)

/* Note channel c as touched in thread t's slot `slot` of the step being run or the one before:
 * its mark in bucket mode's hot slot, else its mark and its entry in the slot's list. */
static SC_ALWAYS_INLINE void FN(mark_touched)(const sc_net *net, int t, int64_t slot, int32_t c)
{
    if (net->hot) {
        SC_HOT_MARK(net, t, slot)[c] = 1;
        return;
    }
    uint8_t *mk = SC_MARK(net, t, slot);
    if (!mk[c]) {
        mk[c] = 1;
        net->touched[slot * net->n_channels + net->chan_ofs[t] + net->touched_n[SC_TOUCHED_N(net, slot, t)]++] = c;
    }
}

/* Add ring input `add` for channel c into slot `slot` now (with its mark where sparse). */
static SC_ALWAYS_INLINE void FN(ring_add)(const sc_net *net, int t, int64_t slot, int32_t c, int sparse, REAL add)
{
    FN(slot_at)(net, slot)[c] += add;
    if (sparse)
        FN(mark_touched)(net, t, slot, c);
}

/* Bucket mode: thread t's channels of ring slot `slot` hold input added there (a full bucket, or
 * the buckets a call emptied when it returned), the first of the step's input: move it, with its
 * marks, into the slot's hot slot (empty: sc_net.hot), before the slot's bucket is added. */
static void FN(bk_take_big)(const sc_net *net, int t, int64_t slot)
{
    int64_t C = net->n_channels, T = net->n_parts;
    REAL *restrict big = (REAL *)net->ring + slot * C, *restrict hot = FN(slot_at)(net, slot);
    for (int64_t p = 0; p < net->n_pops; p++) {
        int64_t a = net->part[p * (T + 1) + t], b = net->part[p * (T + 1) + t + 1], size = net->pop_size[p];
        for (int64_t q = 0; q < net->pop_n_rec[p]; q++) {
            int64_t c0 = net->pop_chan_start[p] + q * size;
            for (int64_t c = c0 + a; c < c0 + b; c++) {
                hot[c] = big[c];
                big[c] = 0;
            }
        }
    }
    if (net->mark) {
        uint8_t *mk = SC_MARK(net, t, slot), *hm = SC_HOT_MARK(net, t, slot);
        const int32_t *lst = net->touched + slot * C + net->chan_ofs[t];
        int64_t *nb = net->touched_n + SC_TOUCHED_N(net, slot, t);
        for (int64_t k = 0; k < *nb; k++) {
            mk[lst[k]] = 0;
            hm[lst[k]] = 1;
        }
        *nb = 0;
    }
    net->hot_big[t * net->hot_big_stride + slot] = 0;
}

/* Add counts cnt[0 .. mm) times weights w into d[0 .. mm), marking in hm (NULL: none) the
 * channels with a count: bk_pois's loop where the channels follow one another. */
SC_CLONES static void FN(bk_pois_add)(REAL *restrict d, uint8_t *restrict hm, const REAL *restrict w,
                                      const uint16_t *restrict cnt, int64_t mm)
{
    for (int64_t k = 0; k < mm; k++)
        d[k] += (REAL)cnt[k] * w[k];
    if (hm)
        for (int64_t k = 0; k < mm; k++)
            hm[k] |= (uint8_t)(cnt[k] != 0);
}

/* Add thread t's Poisson input of node q at step m into ring slot dst, as push_single's bucket
 * mode would have appended it at step m: each row adds count times its weight to its channel (a
 * zero count adds a zero, which changes no cell: a cell is never -0.0) and, where the channels
 * are synaptic variables, a row with a count marks its channel: in the hot slot's marks hm, or
 * (draining into the ring, hm NULL) in mk and the list lst of nl touched channels. Returns nl. */
static int64_t FN(bk_pois)(const sc_net *net, int t, int64_t q, int64_t m, REAL *restrict dst, uint8_t *restrict hm,
                           uint8_t *restrict mk, int32_t *restrict lst, int64_t nl)
{
    enum { B = 512 };
    uint16_t buf[B];
    int64_t nq = net->n_pnodes, a = net->pr_lo[t * nq + q], b = net->pr_hi[t * nq + q];
    int64_t off = net->pd_off[t * nq + q];
    /* the counts a team drew ahead (sc_net.pd_drawn), where they are this item's: the same counts */
    const sc_drawn_row *dr = net->pd_drawn ? net->pd_drawn + t : NULL;
    const uint16_t *pre = dr && dr->row && m + net->pd_defer[t * nq + q] == dr->step ? dr->row + dr->off[q] : NULL;
    const int32_t *restrict pc = net->pd_chan + off;
    const REAL *restrict pw = (const REAL *)net->pd_weight + off;
    int sparse = (net->pd_delay[off] & SC_SEG_SPARSE) != 0;
    int contig = net->pd_contig[t * nq + q];
    for (int64_t i0 = 0; i0 < b - a; i0 += B) {
        int64_t mm = b - a - i0 < B ? b - a - i0 : B;
        const int32_t *restrict pci = pc + i0;
        const REAL *restrict pwi = pw + i0;
        const uint16_t *restrict cnt = pre ? pre + i0 : buf;
        if (!pre)
            sc_pois_range(net, q, m, a + i0, a + i0 + mm, buf);
        if (contig && (hm || !sparse)) {   /* channels pci[0] + k: the same additions, vectorised */
            FN(bk_pois_add)(dst + pci[0], sparse ? hm + pci[0] : NULL, pwi, cnt, mm);
        } else if (!sparse) {
            for (int64_t k = 0; k < mm; k++)
                dst[pci[k]] += (REAL)cnt[k] * pwi[k];
        } else if (hm) {
            for (int64_t k = 0; k < mm; k++) {
                int32_t c = pci[k];
                dst[c] += (REAL)cnt[k] * pwi[k];
                hm[c] |= cnt[k] != 0;
            }
        } else {
            for (int64_t k = 0; k < mm; k++) {
                if (!cnt[k])
                    continue;
                int32_t c = pci[k];
                dst[c] += (REAL)cnt[k] * pwi[k];
                if (!mk[c]) {
                    mk[c] = 1;
                    lst[nl++] = c;
                }
            }
        }
    }
    return nl;
}

/* Add synapses pk_syn/pk_w[s .. e) of one delay into slot dst, each its input of a group of kind
 * `kind` with value v (SC_BK_GRP1 above): the same values push_packed adds in ring mode. The slot's
 * marks: the hot slot's hm, or (hm NULL) mk and the list lst of nl touched channels (NULL mk: none);
 * returns nl. */
static SC_ALWAYS_INLINE int64_t FN(bk_group)(const sc_net *net, uint32_t kind, int64_t s, int64_t e, REAL v,
                                             REAL *restrict dst, uint8_t *restrict hm, uint8_t *restrict mk,
                                             int32_t *restrict lst, int64_t nl)
{
    const uint32_t *restrict syn = net->pk_syn;
    const float *restrict w = net->pk_w;
    if (hm) {   /* the hot slot: the mark is the entry's sparse flag */
        if (kind == SC_BK_GRP1)
            for (int64_t k = s; k < e; k++) {
                uint32_t x = syn[k];
                dst[x >> 9] += (REAL)w[k];
                hm[x >> 9] |= (uint8_t)((x >> 8) & 1u);
            }
        else if (kind == SC_BK_GRPM)
            for (int64_t k = s; k < e; k++) {
                uint32_t x = syn[k];
                dst[x >> 9] += v * (REAL)w[k];
                hm[x >> 9] |= (uint8_t)((x >> 8) & 1u);
            }
        else
            for (int64_t k = s; k < e; k++) {
                uint32_t x = syn[k];
                dst[x >> 9] += v;
                hm[x >> 9] |= (uint8_t)((x >> 8) & 1u);
            }
        return nl;
    }
    for (int64_t k = s; k < e; k++) {
        uint32_t x = syn[k];
        int32_t c = (int32_t)(x >> 9);
        dst[c] += kind == SC_BK_GRPU ? v : kind == SC_BK_GRP1 ? (REAL)w[k] : v * (REAL)w[k];
        if ((x & SC_PK_SPARSE) && mk && !mk[c]) {
            mk[c] = 1;
            lst[nl++] = c;
        }
    }
    return nl;
}

/* Fetch the first lines of the synapses of a group item (n synapses from s, kind lo) that a drain
 * will add soon: each item's synapses lie elsewhere in the table. */
#ifndef SC_BK_GROUP_LINES
#define SC_BK_GROUP_LINES 8   /* lines fetched per array and group (the hardware follows longer runs) */
#endif
#ifndef SC_BK_GROUP_AHEAD
#define SC_BK_GROUP_AHEAD 9   /* words of a bucket ahead of the drain whose groups are fetched */
#endif
static SC_ALWAYS_INLINE void FN(bk_group_fetch)(const sc_net *net, uint32_t lo, int64_t s, int64_t n)
{
    const char *a = (const char *)(net->pk_syn + s), *z = (const char *)(net->pk_syn + s + n);
    const char *wa = (const char *)(net->pk_w + s);
    for (int x = 0; x < SC_BK_GROUP_LINES && a + 64 * x < z; x++) {
        __builtin_prefetch(a + 64 * x, 0, 3);
        if (lo != SC_BK_GRPU)
            __builtin_prefetch(wa + 64 * x, 0, 3);
    }
}

/* Words of the bucket entry or item whose first word's low half is lo. */
static SC_ALWAYS_INLINE int64_t FN(bk_words_at)(uint32_t lo)
{
    if (lo >= SC_BK_GRP1)
        return lo == SC_BK_GRPM || lo == SC_BK_GRPU ? 3 : 2;
    return (lo & SC_BK_WIDE) ? 2 : 1;
}

/* Advance the drain's fetch cursor *p through b[.. n) up to word k + SC_BK_GROUP_AHEAD, fetching the
 * groups of the items it passes and the cells (in dst, and marks mk where not NULL) of the single
 * entries: where a bucket holds items, its words are not all entries, and a fetch of a cell named
 * by an item's word (an address far outside the slot) only costs a page walk. */
static SC_ALWAYS_INLINE void FN(bk_fetch_ahead)(const sc_net *net, const uint64_t *restrict b, int64_t n, int64_t k,
                                                int64_t *p, const REAL *dst, const uint8_t *mk)
{
    int64_t q = *p;
    while (q < n && q <= k + SC_BK_GROUP_AHEAD) {
        uint32_t y = (uint32_t)b[q];
        if (y >= SC_BK_GRP1) {
            if (y != SC_BK_POIS)
                FN(bk_group_fetch)(net, y, (int64_t)b[q + 1], (int64_t)(b[q] >> 32));
        } else {
            __builtin_prefetch(dst + (y >> 2), 1, 3);
            if (mk)
                __builtin_prefetch(mk + (y >> 2), 1, 3);
        }
        q += FN(bk_words_at)(y);
    }
    *p = q;
}

/* The value word of a group item. */
static SC_ALWAYS_INLINE REAL FN(bk_group_value)(const uint64_t *restrict b)
{
    REAL v;
    memcpy(&v, b, sizeof v);
    return v;
}

/* The value of bucket entry b[*k] (lo: its low word): the float in its high word, or, for a
 * wide entry, the double in the next word (*k then steps over it). */
static inline REAL FN(bk_value)(const uint64_t *restrict b, int64_t *k, uint32_t lo)
{
    if (SC_UNLIKELY(lo & SC_BK_WIDE)) {
        double d;
        memcpy(&d, b + *k + 1, sizeof d);
        (*k)++;
        return (REAL)d;
    }
    uint32_t fb = (uint32_t)(b[*k] >> 32);
    float f;
    memcpy(&f, &fb, sizeof f);
    return (REAL)f;
}

/* Add entries b[0 .. n) of a bucket into hot slot dst (its thread's marks hm), in order. */
static void FN(bk_run_hot)(const sc_net *net, int t, const uint64_t *restrict b, int64_t n, REAL *restrict dst,
                           uint8_t *restrict hm)
{
    int64_t p = 0;
    for (int64_t k = 0; k < n; k++) {
        if (net->pk_gptr)   /* (items: the cursor parses the words, bk_fetch_ahead) */
            FN(bk_fetch_ahead)(net, b, n, k, &p, dst, NULL);
        else if (k + SC_BK_AHEAD < n)   /* (on a wide value's second word or in an item: a prefetch of nothing useful) */
            __builtin_prefetch(dst + ((uint32_t)b[k + SC_BK_AHEAD] >> 2), 1, 3);
        uint64_t e = b[k];
        uint32_t lo = (uint32_t)e;
        int32_t c = (int32_t)(lo >> 2);
        if (lo >= SC_BK_GRP1) {
            if (lo == SC_BK_POIS)   /* deferred Poisson input: node, then step */
                FN(bk_pois)(net, t, (int64_t)(e >> 32), (int64_t)b[k + 1], dst, hm, NULL, NULL, 0);
            else   /* a group of the packed table (SC_BK_GRP1) */
                FN(bk_group)(net, lo, (int64_t)b[k + 1], (int64_t)b[k + 1] + (int64_t)(e >> 32),
                             lo == SC_BK_GRP1 ? 1 : FN(bk_group_value)(b + k + 2), dst, hm, NULL, NULL, 0);
            k += FN(bk_words_at)(lo) - 1;
            continue;
        }
        dst[c] += FN(bk_value)(b, &k, lo);
        hm[c] |= (uint8_t)((lo & SC_BK_SPARSE) != 0);
    }
}

/* Add entries b[0 .. n) of a bucket into ring slot dst (marks mk and list lst of nl touched
 * channels, NULL where no synapse feeds synaptic variables), in order; returns nl. */
static int64_t FN(bk_run_big)(const sc_net *net, int t, const uint64_t *restrict b, int64_t n, REAL *restrict dst,
                              uint8_t *restrict mk, int32_t *restrict lst, int64_t nl)
{
    int64_t p = 0;
    for (int64_t k = 0; k < n; k++) {
        if (net->pk_gptr) {   /* (items: the cursor parses the words, bk_fetch_ahead) */
            FN(bk_fetch_ahead)(net, b, n, k, &p, dst, mk);
        } else if (k + SC_BK_AHEAD < n) {   /* (on a wide value's second word or in an item: a prefetch of nothing useful) */
            uint32_t y = (uint32_t)b[k + SC_BK_AHEAD];
            __builtin_prefetch(dst + (y >> 2), 1, 3);
            if (mk)
                __builtin_prefetch(mk + (y >> 2), 1, 3);
        }
        uint64_t e = b[k];
        uint32_t lo = (uint32_t)e;
        int32_t c = (int32_t)(lo >> 2);
        if (lo >= SC_BK_GRP1) {
            if (lo == SC_BK_POIS)   /* deferred Poisson input: node, then step */
                nl = FN(bk_pois)(net, t, (int64_t)(e >> 32), (int64_t)b[k + 1], dst, NULL, mk, lst, nl);
            else   /* a group of the packed table (SC_BK_GRP1) */
                nl = FN(bk_group)(net, lo, (int64_t)b[k + 1], (int64_t)b[k + 1] + (int64_t)(e >> 32),
                                  lo == SC_BK_GRP1 ? 1 : FN(bk_group_value)(b + k + 2), dst, NULL, mk, lst, nl);
            k += FN(bk_words_at)(lo) - 1;
            continue;
        }
        dst[c] += FN(bk_value)(b, &k, lo);
        if ((lo & SC_BK_SPARSE) && !mk[c]) {
            mk[c] = 1;
            lst[nl++] = c;
        }
    }
    return nl;
}

/* Add thread t's bucket of slot `slot` into the slot, in order, and empty it (its chunks go back
 * to the thread's pool, the last one drained on top): into the hot slot (the slot's step
 * begins), or (big) into the ring, when the pool has run dry or the call returns. */
static void FN(bk_drain)(const sc_net *net, int t, int64_t slot, int big)
{
    int64_t C = net->n_channels, K = net->ck_len, hs = (int64_t)t * net->hot_big_stride + slot;
    int32_t ci = net->bk_head[hs];
    if (ci < 0)
        return;
    int64_t *np = net->bk_n + SC_BUCKET_N(net, slot, t);
    const uint64_t *pool = net->bk + (int64_t)t * net->ring_len * net->bk_cap;
    int32_t *stack = net->ck_free + (int64_t)t * net->ck_per_thread;
    int64_t *top = net->ck_top + (int64_t)t * 8;
    REAL *dst;
    uint8_t *hm = NULL, *mk = NULL;
    int32_t *lst = NULL;
    int64_t nl = 0;
    if (big) {
        dst = (REAL *)net->ring + slot * C;
        if (net->mark) {
            mk = SC_MARK(net, t, slot);
            lst = net->touched + slot * C + net->chan_ofs[t];
            nl = net->touched_n[SC_TOUCHED_N(net, slot, t)];
        }
        net->hot_big[hs] = 1;
    } else {
        dst = FN(slot_at)(net, slot);
        hm = SC_HOT_MARK(net, t, slot);
    }
    while (ci >= 0) {
        int32_t next = net->ck_next[(int64_t)t * net->ck_per_thread + ci];
        int64_t n = ci == net->bk_tail[hs] ? *np : net->ck_fill[(int64_t)t * net->ck_per_thread + ci];
        const uint64_t *b = pool + (int64_t)ci * K;
        if (next >= 0) {             /* the next chunk lies elsewhere: fetch its first lines */
            const char *nb = (const char *)(pool + (int64_t)next * K);
            for (int x = 0; x < 4; x++)
                __builtin_prefetch(nb + 64 * x, 0, 3);
        }
        if (big)
            nl = FN(bk_run_big)(net, t, b, n, dst, mk, lst, nl);
        else
            FN(bk_run_hot)(net, t, b, n, dst, hm);
        stack[(*top)++] = ci;
        ci = next;
    }
    if (mk)
        net->touched_n[SC_TOUCHED_N(net, slot, t)] = nl;
    net->bk_head[hs] = net->bk_tail[hs] = -1;
    *np = K;                          /* (full: the next entry takes a chunk) */
}

/* Room for an item (up to three entries) at the tail of thread t's bucket of slot `slot`: a chunk from the pool
 * (the one drained last: still in the cache) when the tail chunk is full; when the pool has run
 * dry, every bucket of the thread is first added into its slot of the ring (earliest inputs
 * first, so the order holds), which bounds the memory, never the results. Returns the tail. */
static uint64_t *FN(bk_grow)(const sc_net *net, int t, int64_t slot)
{
    int64_t K = net->ck_len, hs = (int64_t)t * net->hot_big_stride + slot, base = (int64_t)t * net->ck_per_thread;
    int64_t *np = net->bk_n + SC_BUCKET_N(net, slot, t);
    int64_t *top = net->ck_top + (int64_t)t * 8;
    if (net->bk_tail[hs] >= 0)
        net->ck_fill[base + net->bk_tail[hs]] = (int32_t)*np;
    if (*top == 0)
        for (int64_t s = 0; s < net->ring_len; s++)
            FN(bk_drain)(net, t, s, 1);
    int32_t ci = net->ck_free[base + --(*top)];
    net->ck_next[base + ci] = -1;
    if (net->bk_tail[hs] >= 0)
        net->ck_next[base + net->bk_tail[hs]] = ci;
    else
        net->bk_head[hs] = ci;
    net->bk_tail[hs] = ci;
    *np = 0;
    return net->bk + ((int64_t)t * net->ring_len * net->bk_cap + (int64_t)ci * K);
}

/* The tail of thread t's bucket of slot `slot` with room for `need` entries (at most 3: a chunk
 * holds at least 3); *np its fill. */
static SC_ALWAYS_INLINE uint64_t *FN(bk_tail_at)(const sc_net *net, int t, int64_t slot, int64_t *np, int need)
{
    int64_t k = *np;
    if (SC_UNLIKELY(k + need > net->ck_len))
        return FN(bk_grow)(net, t, slot);
    return net->bk + ((int64_t)t * net->ring_len * net->bk_cap
                      + (int64_t)net->bk_tail[(int64_t)t * net->hot_big_stride + slot] * net->ck_len + k);
}

/* Append input `add` for channel c (sparse: SC_BK_SPARSE or 0) to thread t's bucket of slot
 * `slot`: 8 bytes when a float holds the value exactly (always in float state; in double
 * state the weights of float32 tables and their sums with integer counts mostly), else 16. */
static SC_ALWAYS_INLINE void FN(bk_put)(const sc_net *net, int t, int64_t slot, int32_t c, uint32_t sparse, REAL add)
{
    int64_t *np = net->bk_n + SC_BUCKET_N(net, slot, t);
    uint64_t *b = FN(bk_tail_at)(net, t, slot, np, 2);
    int64_t k = *np;
    /* a thread appends to up to ring_len buckets at once, more streams than the hardware
     * prefetcher follows: fetch the line SC_BK_TAIL entries ahead of the tail (past the end of
     * the chunk: a fetch of nothing useful) */
    if (SC_BK_TAIL)
        __builtin_prefetch(b + SC_BK_TAIL, 1, 3);
    float f = (float)add;
    if (sizeof(REAL) == sizeof(float) || (double)f == (double)add) {
        uint32_t fb;
        memcpy(&fb, &f, sizeof fb);
        b[0] = (uint64_t)fb << 32 | (uint32_t)c << 2 | sparse;
        *np = k + 1;
    } else {
        double d = (double)add;
        b[0] = (uint64_t)((uint32_t)c << 2 | sparse | SC_BK_WIDE);
        memcpy(b + 1, &d, sizeof d);
        *np = k + 2;
    }
}

/* Note in thread t's bucket of slot `slot` that its Poisson input of node q at step m goes here
 * (sc_net.pd_defer; drawn and added when the bucket is drained). */
static void FN(bk_put_pois)(const sc_net *net, int t, int64_t slot, int64_t q, int64_t m)
{
    int64_t *np = net->bk_n + SC_BUCKET_N(net, slot, t);
    uint64_t *b = FN(bk_tail_at)(net, t, slot, np, 2);
    b[0] = (uint64_t)q << 32 | SC_BK_POIS;
    b[1] = (uint64_t)m;
    *np += 2;
}

/* Note in thread t's bucket of slot `slot` that synapses pk_syn/pk_w[s .. s + n) go here (kind
 * SC_BK_GRP1, SC_BK_GRPM or SC_BK_GRPU with its value v: SC_BK_GRP1 above; added when the bucket is
 * drained). */
static SC_ALWAYS_INLINE void FN(bk_put_group)(const sc_net *net, int t, int64_t slot, uint32_t kind, int64_t s,
                                              int64_t n, REAL v)
{
    int64_t *np = net->bk_n + SC_BUCKET_N(net, slot, t);
    int need = kind == SC_BK_GRP1 ? 2 : 3;
    uint64_t *b = FN(bk_tail_at)(net, t, slot, np, need);
    if (SC_BK_TAIL)
        __builtin_prefetch(b + SC_BK_TAIL, 1, 3);
    b[0] = (uint64_t)n << 32 | kind;
    b[1] = (uint64_t)s;
    if (need == 3) {
        b[2] = 0;
        memcpy(b + 2, &v, sizeof v);
    }
    *np += need;
}

/* Thread t's bucket-mode delivery of its part of packed row `pre` (push_packed), whose synapses are
 * sorted by delay into groups (sc_net.pk_grp): one item per group in the bucket of its slot, or,
 * for a delay of 0, its inputs into the slot now. */
static void FN(push_packed_bk)(const sc_net *net, int t, int64_t pre, int64_t s, REAL wu, int uniform, int64_t now,
                               REAL mult)
{
    int64_t L = net->ring_len;
    const int64_t *gp = net->pk_gptr + (int64_t)t * (net->n_pre + 1);
    const uint32_t *restrict grp = net->pk_grp;
    uint32_t kind = uniform ? SC_BK_GRPU : mult == 1 ? SC_BK_GRP1 : SC_BK_GRPM;
    REAL v = uniform ? wu : mult;
    for (int64_t g = gp[pre], g1 = gp[pre + 1]; g < g1; g++) {
        uint32_t x = grp[g];
        int64_t d = (int64_t)(x & 0xFFu), n = (int64_t)(x >> 8), slot = now + d;
        if (slot >= L)
            slot -= L;
        if (d)
            FN(bk_put_group)(net, t, slot, kind, s, n, v);
        else   /* (the packed table's delays are at least a step: kept for any table) */
            FN(bk_group)(net, kind, s, s + n, v, FN(slot_at)(net, slot), SC_HOT_MARK(net, t, slot), NULL, NULL, 0);
        s += n;
    }
}

/* The packed part of thread t's row `pre` (sc_net.pk_syn): one 32-bit entry per synapse
 * (channel, sparse flag, delay) and a float32 weight, or the row's one weight. The
 * synapses are in the IR's order, so each (channel, slot) receives a row's inputs in the
 * same order as from the segmented table: the same sums.
 *
 * A large network's ring (channels x delay slots) does not fit in the cache, so each
 * synapse's read-modify-write of its (slot, channel) cell is a miss. The cells of one row
 * are independent, so the loop prefetches the cells (and their marks, for inputs to
 * synaptic variables) SC_PK_AHEAD synapses ahead: the misses overlap instead of each
 * waiting for the last (memory-level parallelism). Prefetches change no value. */
#ifndef SC_PK_AHEAD
#define SC_PK_AHEAD 24
#endif
static inline void FN(pk_prefetch)(const sc_net *net, int t, uint32_t x, int64_t now, REAL *ring)
{
    int64_t L = net->ring_len, C = net->n_channels;
    int64_t slot = now + (int64_t)(x & 0xFFu);
    if (slot >= L)
        slot -= L;
    int64_t cell = slot * C + (int64_t)(x >> 9);
    __builtin_prefetch(ring + cell, 1, 3);
    if (x & SC_PK_SPARSE)
        __builtin_prefetch(SC_MARK(net, t, 0) + cell, 1, 3);
}
#if defined(__GNUC__)
__attribute__((noinline))   /* kept out of push: networks without packed rows run push's old body */
#endif
static void FN(push_packed)(const sc_net *net, int t, int64_t pre, int64_t now, REAL mult,
                            REAL *restrict ring)
{
    int64_t L = net->ring_len, C = net->n_channels, n_pre = net->n_pre;
    const int64_t *ptr = net->pk_ptr + (int64_t)t * (n_pre + 1);
    const uint32_t *restrict syn = net->pk_syn;
    const float *restrict w = net->pk_w;
    REAL wu = ((const REAL *)net->pk_row_w)[(int64_t)t * n_pre + pre];
    int uniform = wu == wu;
    wu = mult * wu;
    int64_t s = ptr[pre], e = ptr[pre + 1];
    if (net->bk) {
        FN(push_packed_bk)(net, t, pre, s, wu, uniform, now, mult);
        return;
    }
    int64_t ahead = e - s < SC_PK_AHEAD ? e - s : SC_PK_AHEAD;
    for (int64_t k = s; k < s + ahead; k++)
        FN(pk_prefetch)(net, t, syn[k], now, ring);
    for (; s < e; s++) {
        if (s + SC_PK_AHEAD < e)
            FN(pk_prefetch)(net, t, syn[s + SC_PK_AHEAD], now, ring);
        uint32_t x = syn[s];
        int64_t slot = now + (int64_t)(x & 0xFFu);
        if (slot >= L)
            slot -= L;
        int32_t c = (int32_t)(x >> 9);
        REAL add = uniform ? wu : mult * (REAL)w[s];
        ring[slot * C + c] += add;
        if (x & SC_PK_SPARSE) {
            uint8_t *mk = SC_MARK(net, t, slot);
            if (!mk[c]) {
                mk[c] = 1;
                net->touched[slot * C + net->chan_ofs[t] + net->touched_n[SC_TOUCHED_N(net, slot, t)]++] = c;
            }
        }
    }
}
/* push in bucket mode: thread t's segmented part of row `pre`, then its packed part; inputs
 * due at a later step go to the buckets, those due now (delay 0) into the slot */
#if defined(__GNUC__)
__attribute__((noinline))   /* kept out of push: ring mode runs push's old body */
#endif
static void FN(push_bk)(const sc_net *net, int t, const int64_t *restrict row_ptr, const int64_t *restrict seg_ptr,
                        const REAL *restrict row_w, int64_t pre, int64_t now, REAL mult)
{
    const uint16_t *restrict chan = net->syn_chan;
    const REAL *restrict w = (const REAL *)net->syn_weight;
    int64_t L = net->ring_len;
    int64_t s = row_ptr[pre];
    REAL wu = row_w[pre];
    int uniform = wu == wu;
    wu = mult * wu;
    for (int64_t g = seg_ptr[pre], g1 = seg_ptr[pre + 1]; g < g1; g++) {
        int64_t d = net->seg_delay[g] & ~SC_SEG_SPARSE;
        int sparse = (net->seg_delay[g] & SC_SEG_SPARSE) != 0;
        int64_t slot = now + d;
        if (slot >= L)
            slot -= L;
        int32_t base = (int32_t)net->seg_block[g] << 16;
        uint32_t sp = sparse ? SC_BK_SPARSE : 0u;
        for (int64_t e = s + net->seg_len[g]; s < e; s++) {
            REAL add = uniform ? wu : mult * w[s];
            if (d)
                FN(bk_put)(net, t, slot, base + chan[s], sp, add);
            else
                FN(ring_add)(net, t, slot, base + chan[s], sparse, add);
        }
    }
    if (net->n_pk)
        FN(push_packed)(net, t, pre, now, mult, (REAL *)net->ring);
}

static inline void FN(push)(const sc_net *net, int t, const int64_t *restrict row_ptr,
                            const int64_t *restrict seg_ptr, const REAL *restrict row_w, int64_t pre,
                            int64_t now, REAL mult, REAL *restrict ring)
{
#if defined(__GNUC__)
    if (__builtin_expect(net->bk != NULL, 0)) {
#else
    if (net->bk) {
#endif
        FN(push_bk)(net, t, row_ptr, seg_ptr, row_w, pre, now, mult);
        return;
    }
    const uint16_t *restrict chan = net->syn_chan;
    const REAL *restrict w = (const REAL *)net->syn_weight;
    int64_t L = net->ring_len, C = net->n_channels;
    int64_t s = row_ptr[pre];
    REAL wu = row_w[pre];
    int uniform = wu == wu;
    wu = mult * wu;
    for (int64_t g = seg_ptr[pre], g1 = seg_ptr[pre + 1]; g < g1; g++) {
        int64_t d = net->seg_delay[g];
        int sparse = (d & SC_SEG_SPARSE) != 0;
        int64_t slot = now + (d & ~SC_SEG_SPARSE);
        if (slot >= L)
            slot -= L;
        int32_t base = (int32_t)net->seg_block[g] << 16;
        REAL *restrict dst = ring + slot * C + base;
        int64_t e = s + net->seg_len[g];
        if (sparse) {
            uint8_t *restrict mk = SC_MARK(net, t, slot) + base;
            int32_t *restrict lst = net->touched + slot * C + net->chan_ofs[t];
            int64_t nl = net->touched_n[SC_TOUCHED_N(net, slot, t)];
            for (; s < e; s++) {
                int32_t c = chan[s];
                dst[c] += uniform ? wu : mult * w[s];
                if (!mk[c]) {
                    mk[c] = 1;
                    lst[nl++] = base + c;
                }
            }
            net->touched_n[SC_TOUCHED_N(net, slot, t)] = nl;
        } else if (uniform) {
            for (; s < e; s++)
                dst[chan[s]] += wu;
        } else if (mult == 1) {
            for (; s < e; s++)
                dst[chan[s]] += w[s];
        } else {
            for (; s < e; s++)
                dst[chan[s]] += mult * w[s];
        }
    }
#if defined(__GNUC__)
    if (__builtin_expect(net->n_pk != 0, 0))
#else
    if (net->n_pk)
#endif
        FN(push_packed)(net, t, pre, now, mult, ring);
}

/* The rows of a Poisson range that are each one synapse (a one-to-one drive), with count
 * cnt[k] of row k: its (channel, delay, weight) at pd_chan/pd_delay/pd_weight[off + k]. Onto
 * densely folded channels a flat loop (a zero count adds +0.0, which changes no sum); onto
 * synaptic variables (SC_SEG_SPARSE in the delays: the same in every row of a range) the
 * rows with a count also list their channel in the slot, as push does. Either way each
 * channel receives what push would add, in the same order. */
static void FN(push_single)(const sc_net *net, int t, int64_t off, int64_t m, const uint16_t *restrict cnt, int64_t now,
                            REAL *restrict ring)
{
    const int32_t *restrict pc = net->pd_chan + off;
    const uint16_t *restrict pd = net->pd_delay + off;
    const REAL *restrict pw = (const REAL *)net->pd_weight + off;
    int64_t L = net->ring_len, C = net->n_channels;
    if (m <= 0)
        return;
    if (net->bk) {
        /* bucket mode: a zero count is left out -- adding +0.0 changes no cell, as no cell is ever
         * -0.0 (a cell starts at +0.0, and a sum is -0.0 only when both terms are) */
        uint32_t sp = (pd[0] & SC_SEG_SPARSE) ? SC_BK_SPARSE : 0u;
        for (int64_t k = 0; k < m; k++) {
            if (!cnt[k])
                continue;
            int64_t d = pd[k] & ~SC_SEG_SPARSE, slot = now + d;
            if (slot >= L)
                slot -= L;
            REAL add = (REAL)cnt[k] * pw[k];
            if (d)
                FN(bk_put)(net, t, slot, pc[k], sp, add);
            else
                FN(ring_add)(net, t, slot, pc[k], sp != 0, add);
        }
        return;
    }
    if (!(pd[0] & SC_SEG_SPARSE)) {
        for (int64_t k = 0; k < m; k++) {
            int64_t slot = now + pd[k];
            if (slot >= L)
                slot -= L;
            ring[slot * C + pc[k]] += (REAL)cnt[k] * pw[k];
        }
        return;
    }
    for (int64_t k = 0; k < m; k++) {
        if (!cnt[k])
            continue;
        int64_t slot = now + (pd[k] & ~SC_SEG_SPARSE);
        if (slot >= L)
            slot -= L;
        int32_t c = pc[k];
        ring[slot * C + c] += (REAL)cnt[k] * pw[k];
        uint8_t *mk = SC_MARK(net, t, slot);
        if (!mk[c]) {
            mk[c] = 1;
            net->touched[slot * C + net->chan_ofs[t] + net->touched_n[SC_TOUCHED_N(net, slot, t)]++] = c;
        }
    }
}

/* ---------------------------------------------------------------- plastic synapses */
/* Queue thread t's plastic segments of row `pre` (spiking `count` times at step n) for
 * the steps their delays take them to (sc_net, plastic synapses). */
static void FN(pl_enqueue)(const sc_net *net, int t, int64_t pre, int64_t n, int64_t count)
{
    int64_t L = net->ring_len, T = net->n_parts;
    const int64_t *sp = net->pl_seg_ptr + (int64_t)t * (net->n_pre + 1);
    for (int64_t g = sp[pre], g1 = sp[pre + 1]; g < g1; g++) {
        int64_t slot = (n + net->pl_seg_delay[g]) % L;
        int64_t *qn = net->pl_qn + slot * T + t;
        net->pl_q[net->pl_qofs[t] + slot * net->pl_qcap[t] + *qn] = g | (count << 48);
        *qn += 1;
    }
    const int64_t *mp = net->pl_mod_ptr ? net->pl_mod_ptr + (int64_t)t * (net->n_pre + 1) : NULL;
    for (int64_t g = mp ? mp[pre] : 0, g1 = mp ? mp[pre + 1] : 0; g < g1; g++) {
        int64_t slot = (n + net->pl_mod_delay[g]) % L;
        int64_t *qn = net->pl_qn + slot * T + t;
        net->pl_q[net->pl_qofs[t] + slot * net->pl_qcap[t] + *qn] = (net->n_pl_seg + g) | (count << 48);
        *qn += 1;
    }
}

/* A modulator event at step n on synapses syn[0 .. n_syn) of projection q (_kernel.h). */
void FN(sc_modulate)(sc_net *net, int32_t q, const int64_t *syn, int64_t n_syn, int64_t n, double value, int set)
{
    REAL *w = (REAL *)net->pl_w, *st = (REAL *)net->pl_state;
    const double *P = net->pl_param + net->pl_param_start[q];
    for (int64_t k = 0; k < n_syn; k++)
        net->pl_mod[q](P, w + syn[k], st + syn[k] * net->pl_nstate, net->pl_last + syn[k], n, net->dt, value, set);
}

#ifndef SC_PL_TABLE_AHEAD
#define SC_PL_TABLE_AHEAD 1  /* a shared-trace row also fetches the decay-table rows its targets need */
#endif
#define SC_PL_VB 256   /* synapses per block of the vector row (sc_pl_fast_vec_f64) */
#ifndef SC_PL_SEG_AHEAD
#define SC_PL_SEG_AHEAD 2   /* queued segments ahead whose fields a step's arrivals fetch */
#endif
#define SC_PL_XS 2048  /* the longest window whose presynaptic trace a vector row tabulates (xs) */
#ifndef SC_PL_AHEAD
#define SC_PL_AHEAD 16  /* synapses ahead whose target's history a presynaptic arrival fetches */
#endif

/* Lazy postsynaptic updates (sc_net): the step of entry i (0: the oldest) of neuron k's
 * history hs, from its record hp where it holds a copy (the newest SC_HIST_RECENT). */
static SC_ALWAYS_INLINE int64_t FN(pl_hist_step)(const sc_hist_pos *hp, const int64_t *hs, int64_t i, int64_t M)
{
    int64_t j = hp->len - 1 - i;
    return j < SC_HIST_RECENT ? hp->recent[j] : hs[(hp->head + i) & M];
}

/* Synapse syn onto neuron k, which sees k's spikes D steps after them, catches up with those
 * it has not applied yet and sees before step lim, oldest first: the post function its rule
 * would have run at each of them. */
static SC_ALWAYS_INLINE void FN(pl_catch_up)(const sc_net *net, int64_t syn, int64_t k, int64_t D, int64_t lim,
                                   sc_plastic_post_fn post, const double *P)
{
    const sc_hist_pos *hp = net->pl_hpos + k;
    int64_t len = hp->len, last = net->pl_last[syn], newest = hp->recent[0] + D;
    int done = net->pl_pdone[syn];
    if (!len || newest < last || (newest == last && done))
        return;                                /* seen every spike (the common case: one cache line) */
    int64_t M = net->pl_hist_len - 1;
    const int64_t *hs = net->pl_hist + k * net->pl_hist_len;
    int64_t i = len;
    while (i > 0) {                            /* back to the first spike not applied yet */
        int64_t e = FN(pl_hist_step)(hp, hs, i - 1, M) + D;
        if (e < last || (e == last && done))
            break;
        i--;
    }
    if (i == len || FN(pl_hist_step)(hp, hs, i, M) + D >= lim)
        return;
    REAL *w = (REAL *)net->pl_w + syn, *st = (REAL *)net->pl_state + syn * net->pl_nstate;
    for (; i < len; i++) {
        int64_t e = FN(pl_hist_step)(hp, hs, i, M) + D;
        if (e >= lim)
            break;
        post(P, w, st, net->pl_last + syn, e, net->dt);
    }
    net->pl_pdone[syn] = 1;
}

/* Every lazy synapse onto neuron k catches up with the spikes it sees before step lim (in
 * the order of the transposed index). */
static void FN(pl_settle_neuron)(const sc_net *net, int64_t k, int64_t lim)
{
    for (int64_t x = net->pl_pg_ptr[k], x1 = net->pl_pg_ptr[k + 1]; x < x1; x++) {
        if (!net->pl_pg_lazy[x])
            continue;
        int64_t D = net->pl_pg_delay[x];
        for (int64_t y = net->pl_pg_start[x], y1 = net->pl_pg_end[x]; y < y1; y++) {
            int64_t s = net->pl_post_syn[y];
            int32_t proj = net->pl_syn_proj[s];
            if (net->pl_fast[proj])            /* the shared-trace layout settles by segment */
                continue;
            FN(pl_catch_up)(net, s, k, D, lim, net->pl_post[proj], net->pl_param + net->pl_param_start[proj]);
        }
    }
}

/* Drop the oldest entries of neuron k's history that every lazy synapse onto it has applied
 * once all have been settled up to step lim: those seen before lim at the longest post delay. */
static inline void FN(pl_drop_seen)(const sc_net *net, int64_t k, int64_t lim)
{
    sc_hist_pos *hp = net->pl_hpos + k;
    int64_t H = net->pl_hist_len, M = H - 1;
    const int64_t *hs = net->pl_hist + k * H;
    while (hp->len > 0 && hs[hp->head] + net->pl_hist_dmax < lim) {
        hp->head = (int32_t)((hp->head + 1) & M);
        hp->len -= 1;
    }
}

/* ---- the shared-trace layout (sc_net, pl_fast): stdp_pair with post delay 0 */
/* pl_fpost: the step of the neuron's newest spike (step0; far in the past before it spiked),
 * the postsynaptic trace decayed to the step being run (now: once per neuron and step,
 * pl_fast_now), how many steps before the newest each of the SC_FAST_OFFS spikes before it
 * came (off[0] the next newest; UINT32_MAX: not a spike, or at least that many steps before)
 * and the trace just after the newest (x); the first three words (float64) are what a vector
 * row reads of most records: 64 bytes, aligned to 64 (one cache line); float64:
 * 11 spikes, float32: 13. The offsets tell whether a spike came at or after a step `from`
 * whenever step0 - from < 2^31 (pl_fast_potentiate goes through the history otherwise). */
#define SC_FAST_OFFS ((int)((64 - 8 - 2 * sizeof(REAL)) / 4))
typedef struct { int64_t step0; REAL now; uint32_t off[SC_FAST_OFFS]; REAL x; } FN(sc_fast_post);

/* the step of spike j (0: the newest) in record rec */
static SC_ALWAYS_INLINE int64_t FN(pl_fast_step)(const FN(sc_fast_post) *rec, int j)
{
    return j ? rec->step0 - (int64_t)rec->off[j - 1] : rec->step0;
}

/* A synapse onto neuron k, weight w, of a segment whose presynaptic trace is xg after step lg:
 * its target's spikes of steps [from, lim), oldest first (each a stdp_pair post update). The
 * newest `known` spikes of the history are known to be at or after from (the record says so):
 * the walk back to the window's first spike starts before them. */
static SC_ALWAYS_INLINE REAL FN(pl_fast_catch_up)(const sc_net *net, const double *P, REAL w, int64_t k, REAL xg,
                                                  int64_t lg, int64_t from, int64_t lim, int64_t known)
{
    const sc_hist_pos *hp = net->pl_hpos + k;
    int64_t len = hp->len, M = net->pl_hist_len - 1;
    const int64_t *hs = net->pl_hist + k * net->pl_hist_len;
    int64_t i = len - (known < len ? known : len);
    while (i > 0 && FN(pl_hist_step)(hp, hs, i - 1, M) >= from)
        i--;
    for (; i < len; i++) {
        int64_t e = FN(pl_hist_step)(hp, hs, i, M);
        if (e >= lim)
            break;
        w = FN(stdp_pair_w_post)(P, w, FN(stdp_pair_decayed)(P, xg, lg, e, net->dt, 0));
    }
    return w;
}

/* The spikes of steps [from, lim) in neuron record rec applied to weight w, oldest first,
 * through the history where the record does not reach back to from. */
static SC_ALWAYS_INLINE REAL FN(pl_fast_potentiate)(const sc_net *net, const double *P, REAL w, int64_t k,
                                                    const FN(sc_fast_post) *rec, REAL xg, int64_t lg,
                                                    int64_t from, int64_t lim)
{
    if (rec->step0 - from >= ((int64_t)1 << 31))
        return FN(pl_fast_catch_up)(net, P, w, k, xg, lg, from, lim, 0);
    if (FN(pl_fast_step)(rec, SC_FAST_OFFS) >= from)   /* the record's spikes all in the window */
        return FN(pl_fast_catch_up)(net, P, w, k, xg, lg, from, lim, SC_FAST_OFFS + 1);
    for (int j = SC_FAST_OFFS - 1; j >= 0; j--) {
        int64_t e = FN(pl_fast_step)(rec, j);
        if (e >= from && e < lim)
            w = FN(stdp_pair_w_post)(P, w, FN(stdp_pair_decayed)(P, xg, lg, e, net->dt, 0));
    }
    return w;
}

/* Shared-trace segment g: every synapse applies its target's spikes before step lim. */
static void FN(pl_fast_settle_segment)(const sc_net *net, int64_t g, int64_t lim)
{
    int64_t from = net->pl_seg_from[g];
    if (from >= lim)
        return;
    int32_t proj = net->pl_seg_proj[g];
    const double *P = net->pl_param + net->pl_param_start[proj];
    const FN(sc_fast_post) *fp = (const FN(sc_fast_post) *)net->pl_fpost + (int64_t)(net->pl_fast[proj] - 1) * net->n_neurons;
    const int32_t *ch = net->pl_chan, *cn = net->pl_chan_neuron;
    REAL *w = (REAL *)net->pl_w, xg = ((REAL *)net->pl_seg_x)[g];
    int64_t lg = net->pl_seg_last[g];
    int64_t s = net->pl_seg_start[g], e = net->pl_seg_start[g + 1];
#if defined(SC_PL_VEC) && defined(SC_REAL_IS_F64)
    if (e - s >= 8 && sc_pl_vec_available()) {   /* eight at a time (_plastic_vec.h), as the row */
        double dv[1];
        uint8_t rare[SC_PL_VB / 8];
        int32_t idx[SC_PL_VB + 8];
        /* the segment's trace tabulated over the window where it is short enough, as in the
         * row (pl_fast_row): the spikes lie before lim */
        double xs[SC_PL_XS];
        const double *tab = P + 10;
        int64_t K = (int64_t)P[9], nx = lim - lg < K ? lim - lg : K;
        int use_xs = nx <= SC_PL_XS;
        if (use_xs)
            sc_pl_vec_tabulate(xs, tab, xg, nx);
        sc_pl_vec_seg G;
        sc_pl_vec_seg_init(&G, (const int64_t *)fp, tab, use_xs ? xs : NULL, use_xs ? nx : K, from, lim, lg, xg, P[6],
                           P[2], P[3], P[4], P[5], P[8] != 0, 0, (const int64_t *)net->pl_hpos, net->pl_hist,
                           net->pl_hist_len, net->dt, P[0]);
        for (; s < e; s += SC_PL_VB) {
            int64_t m = e - s < SC_PL_VB ? e - s : SC_PL_VB, mv = m & ~(int64_t)7;
            sc_pl_fast_vec_f64(ch + s, net->pl_chan_is_neuron ? NULL : cn, &G, w + s, mv, e - s - mv, dv, rare, idx,
                               NULL);
            for (int64_t j = 0; j < m; j++) {
                if (j + 8 <= mv && !rare[j >> 3]) {
                    j += 7;
                    continue;
                }
                if (j >= mv || (rare[j >> 3] >> (j & 7) & 1)) {
                    int64_t k = cn[ch[s + j]];
                    if (fp[k].step0 >= from)
                        w[s + j] = FN(pl_fast_potentiate)(net, P, w[s + j], k, fp + k, xg, lg, from, lim);
                }
            }
        }
        net->pl_seg_from[g] = lim;
        return;
    }
#endif
    for (; s < e; s++) {
        if (s + SC_PL_AHEAD < e)
            __builtin_prefetch(fp + cn[ch[s + SC_PL_AHEAD]], 0);
        int64_t k = cn[ch[s]];
        if (fp[k].step0 >= from)
            w[s] = FN(pl_fast_potentiate)(net, P, w[s], k, fp + k, xg, lg, from, lim);
    }
    net->pl_seg_from[g] = lim;
}

/* Every shared-trace segment of thread t (they are contiguous) settled up to step lim. */
static void FN(pl_fast_settle_thread)(const sc_net *net, int t, int64_t lim)
{
    const int64_t *sp = net->pl_seg_ptr + (int64_t)t * (net->n_pre + 1);
    for (int64_t g = sp[0], g1 = sp[net->n_pre]; g < g1; g++)
        if (net->pl_fast[net->pl_seg_proj[g]])
            FN(pl_fast_settle_segment)(net, g, lim);
    net->pl_fast_done[(int64_t)t * 8] = lim;
}

#if defined(SC_PL_VEC) && defined(SC_REAL_IS_F64)
/* out[ch[j]] += dv[j] for the lanes from j on that the vector form covered (pl_fast_row), up
 * to the first it left (a bit of rare) or mv; returns where it stopped */
static int64_t sc_pl_deliver_run(double *restrict out, const int32_t *restrict ch, const double *restrict dv,
                                 const uint8_t *restrict rare, int64_t j, int64_t mv)
{
    for (; j < mv; j++) {
        if (!(j & 7) && j + 8 <= mv && !rare[j >> 3]) {   /* eight at once */
            for (int q = 0; q < 8; q++)
                out[ch[j + q]] += dv[j + q];
            j += 7;
            continue;
        }
        if (rare[j >> 3] >> (j & 7) & 1)
            return j;
        out[ch[j]] += dv[j];
    }
    return j;
}
#endif

/* Deliver value v of channel c (pl_fast_row). */
static SC_ALWAYS_INLINE void FN(pl_fast_deliver)(const sc_net *net, int t, int32_t c, REAL v, REAL *out,
                                                 int64_t dslot, int sparse, int bucket)
{
    if (bucket)                                /* bucket mode, due at a later step */
        FN(bk_put)(net, t, dslot, c, sparse ? SC_BK_SPARSE : 0u, v);
    else
        out[c] += v;
}

/* One synapse of a shared-trace row at an arrival of count spikes at step n (pl_fast_row):
 * its target's spikes since the segment's last arrival potentiate first, oldest first (up to
 * two of them from the table without a branch, the common case; more through the record or
 * the history, the trace's exp() beyond the table); then each spike delivers the weight
 * to channel c (pl_fast_deliver) and is followed by the depression by the target's
 * postsynaptic trace. Returns the weight after the arrival. */
static SC_ALWAYS_INLINE REAL FN(pl_fast_one)(const sc_net *net, const double *P, REAL wv, int64_t k,
                                             const FN(sc_fast_post) *rec, REAL xg, int64_t lg, int64_t from,
                                             int64_t n, int64_t count, int t, int32_t c, REAL *out, int64_t dslot,
                                             int sparse, int bucket, const int mult)
{
    uint64_t K = (uint64_t)P[9];
    const double *tab = P + 10;
    const REAL sg = (REAL)P[6], ap = (REAL)P[2], am = (REAL)P[3], lo = (REAL)P[4], hi = (REAL)P[5];
    int64_t r0 = rec->step0, r1 = FN(pl_fast_step)(rec, 1);
    int ok0 = r0 >= from, ok1 = r1 >= from;
    int64_t i0 = ok0 ? r0 - lg : 0, i1 = ok1 ? r1 - lg : 0;
    /* (i0 < K < 2^31 also says that the offsets are exact back to from) */
    if (SC_UNLIKELY(FN(pl_fast_step)(rec, 2) >= from || (uint64_t)i0 >= K)) {
        wv = FN(pl_fast_potentiate)(net, P, wv, k, rec, xg, lg, from, n);
    } else {
        REAL x1 = (REAL)((double)xg * tab[2 * i1]), m1 = sg * wv;
        REAL d1 = mult ? ap * (hi - m1) * x1 : ap * x1;
        REAL w1 = sg * FN(stdp_pair_clip_to)(m1 + d1, lo, hi);
        wv = ok1 ? w1 : wv;
        REAL x0 = (REAL)((double)xg * tab[2 * i0]), m0 = sg * wv;
        REAL d0 = mult ? ap * (hi - m0) * x0 : ap * x0;
        REAL w0 = sg * FN(stdp_pair_clip_to)(m0 + d0, lo, hi);
        wv = ok0 ? w0 : wv;
    }
    REAL xpost = rec->now;
    for (int64_t r = 0; r < count; r++) {
        FN(pl_fast_deliver)(net, t, c, wv, out, dslot, sparse, bucket);
        REAL m = sg * wv;
        REAL dw = mult ? am * (m - lo) * xpost : am * xpost;
        wv = sg * FN(stdp_pair_clip_to)(m - dw, lo, hi);
    }
    return wv;
}

static SC_ALWAYS_INLINE void FN(pl_fast_mark)(const sc_net *net, int t, int32_t c, int64_t dslot)
{
    FN(mark_touched)(net, t, dslot, c);
}


/* Presynaptic arrivals at step n (count spikes) on shared-trace segment g: each synapse
 * first applies its target's spikes since the segment's last arrival (with the segment's
 * presynaptic trace), delivers its weight and is depressed by its target's postsynaptic
 * trace (one record per target); then the segment's trace takes the spike. The row loop
 * holds the rule's parameters in registers, specialised on its weight dependence
 * (multiplicative: mult), with the stdp_pair.h operations in their order. In float64 on
 * AVX-512 CPUs a single spike's row goes by blocks: the weights eight synapses at a time
 * (_plastic_vec.h, the same operations), then the deliveries in row order. */
static SC_ALWAYS_INLINE void FN(pl_fast_row)(const sc_net *net, int t, int64_t g, int64_t n, int64_t count,
                                             REAL *out, int64_t dslot, int sparse, int bucket,
                                             const double *P, const FN(sc_fast_post) *fp, const int mult)
{
    const int32_t *ch = net->pl_chan, *cn = net->pl_chan_neuron;
    REAL *w = (REAL *)net->pl_w;
    REAL xg = ((REAL *)net->pl_seg_x)[g];
    int64_t lg = net->pl_seg_last[g], from = net->pl_seg_from[g];
    uint64_t K = (uint64_t)P[9];
    const double *tab = P + 10;
    double dt = net->dt;
    int64_t s = net->pl_seg_start[g], e = net->pl_seg_start[g + 1];
#if defined(SC_PL_VEC) && defined(SC_REAL_IS_F64)
    if (count == 1 && e - s >= 8 && sc_pl_vec_available()) {
        double dv[SC_PL_VB];
        uint8_t rare[SC_PL_VB / 8];
        int32_t idx[SC_PL_VB + 8];
        /* the segment's trace at each step of the window, xs[i] = xg * tab[2 * i] (i < n - lg:
         * the target spikes before this step; a lane beyond it goes to the scalar code, as one
         * beyond the table), where the window is short enough */
        double xs[SC_PL_XS];
        int64_t nx = n - lg < (int64_t)K ? n - lg : (int64_t)K;
        int use_xs = nx <= SC_PL_XS;
        if (use_xs)
            sc_pl_vec_tabulate(xs, tab, xg, nx);
        sc_pl_vec_seg G;
        sc_pl_vec_seg_init(&G, (const int64_t *)fp, tab, use_xs ? xs : NULL, use_xs ? nx : (int64_t)K, from, INT64_MAX,
                           lg, xg, P[6], P[2], P[3], P[4], P[5], mult, 1, (const int64_t *)net->pl_hpos,
                           net->pl_hist, net->pl_hist_len, net->dt, P[0]);
        /* channels all different within every row: the vector form delivers at once (each
         * channel gets one add from this row, so their order does not matter) */
        double *fused = !bucket && !sparse && net->pl_chan_distinct ? (double *)out : NULL;
        for (; s < e; s += SC_PL_VB) {
            int64_t m = e - s < SC_PL_VB ? e - s : SC_PL_VB, mv = m & ~(int64_t)7;
            sc_pl_fast_vec_f64(ch + s, net->pl_chan_is_neuron ? NULL : cn, &G, w + s, mv, e - s - mv, dv, rare, idx,
                               fused);
            if (fused) {                       /* the lanes the vector form left */
                for (int64_t j = 0; j < m; j++) {
                    uint64_t r64;                  /* (64 lanes at a time where none is left) */
                    if (!(j & 63) && j + 64 <= mv && (memcpy(&r64, rare + (j >> 3), 8), !r64)) {
                        j += 63;
                        continue;
                    }
                    if (j + 8 <= mv && !rare[j >> 3]) {
                        j += 7;
                        continue;
                    }
                    if (j >= mv || (rare[j >> 3] >> (j & 7) & 1)) {
                        int32_t c = ch[s + j];
                        int64_t k = cn[c];
                        w[s + j] = FN(pl_fast_one)(net, P, w[s + j], k, fp + k, xg, lg, from, n, 1, t, c, out, dslot,
                                                   0, 0, mult);
                    }
                }
                continue;
            }
            for (int64_t j = 0; j < m; j++) {
                if (!bucket && !sparse)        /* to the first lane the vector form left */
                    j = sc_pl_deliver_run((double *)out, ch + s, dv, rare, j, mv);
                if (j >= m)
                    break;
                int32_t c = ch[s + j];
                if (j + 8 <= mv && !rare[j >> 3]) {   /* eight synapses the vector form covered */
                    for (int64_t q = j; q < j + 8; q++) {
                        FN(pl_fast_deliver)(net, t, ch[s + q], (REAL)dv[q], out, dslot, sparse, bucket);
                        if (!bucket && sparse)
                            FN(pl_fast_mark)(net, t, ch[s + q], dslot);
                    }
                    j += 7;
                    continue;
                }
                if (j >= mv || (rare[j >> 3] >> (j & 7) & 1)) {
                    int64_t k = cn[c];
                    w[s + j] = FN(pl_fast_one)(net, P, w[s + j], k, fp + k, xg, lg, from, n, 1, t, c, out, dslot,
                                               sparse, bucket, mult);
                } else {
                    FN(pl_fast_deliver)(net, t, c, (REAL)dv[j], out, dslot, sparse, bucket);
                }
                if (!bucket && sparse)
                    FN(pl_fast_mark)(net, t, c, dslot);
            }
        }
    } else
#endif
    for (; s < e; s++) {
        if (SC_PL_TABLE_AHEAD && s + 2 * SC_PL_AHEAD < e) {   /* the targets' records lie apart: fetch ahead, */
            __builtin_prefetch(fp + cn[ch[s + 2 * SC_PL_AHEAD]], 0);
            const FN(sc_fast_post) *ra = fp + cn[ch[s + SC_PL_AHEAD]];   /* and the table rows they need */
            uint64_t ib = (uint64_t)(ra->step0 - lg);
            __builtin_prefetch(tab + 2 * (ib < K ? ib : 0), 0);
        }
        int32_t c = ch[s];
        int64_t k = cn[c];
        w[s] = FN(pl_fast_one)(net, P, w[s], k, fp + k, xg, lg, from, n, count, t, c, out, dslot, sparse, bucket,
                               mult);
        if (!bucket && sparse)
            FN(pl_fast_mark)(net, t, c, dslot);
    }
    for (int64_t r = 0; r < count; r++) {
        xg = FN(stdp_pair_bump)(P, xg, lg, n, dt, 0);
        lg = n;
    }
    ((REAL *)net->pl_seg_x)[g] = xg;
    net->pl_seg_last[g] = n;
    net->pl_seg_from[g] = n;
}

/* The postsynaptic traces of thread t's shared-trace targets decayed to step n, once per
 * neuron and step, before the step's arrivals (the spikes of step n come after them). */
static void FN(pl_fast_now)(const sc_net *net, int t, int64_t n)
{
    const int32_t *nrn = net->pl_fast_nrn;
    for (int64_t f = 0; f < net->n_pl_fast; f++) {
        const double *P = net->pl_param + net->pl_param_start[net->pl_fast_proj[f]];
        const double *restrict post = P + 10 + 1;   /* the table's tau_minus column */
        const uint64_t K = (uint64_t)P[9];         /* (in registers: the stores below do not change them) */
        FN(sc_fast_post) *restrict fp = (FN(sc_fast_post) *)net->pl_fpost + f * net->n_neurons;
        for (int64_t x = net->pl_fast_nrn_ptr[t], x1 = net->pl_fast_nrn_ptr[t + 1]; x < x1; x++) {
            FN(sc_fast_post) *rec = fp + nrn[x];
            uint64_t k = (uint64_t)(n - rec->step0);
            rec->now = !SC_UNLIKELY(k >= K) ? (REAL)((double)rec->x * post[2 * k])
                                        : FN(stdp_pair_decayed)(P, rec->x, rec->step0, n, net->dt, 1);
        }
    }
}

static void FN(pl_fast_segment)(const sc_net *net, int t, int64_t g, int64_t n, int64_t count, REAL *out,
                                int64_t dslot, int sparse, int bucket)
{
    int32_t proj = net->pl_seg_proj[g];
    const double *P = net->pl_param + net->pl_param_start[proj];
    const FN(sc_fast_post) *fp = (const FN(sc_fast_post) *)net->pl_fpost + (int64_t)(net->pl_fast[proj] - 1) * net->n_neurons;
    if (P[8] != 0)
        FN(pl_fast_row)(net, t, g, n, count, out, dslot, sparse, bucket, P, fp, 1);
    else
        FN(pl_fast_row)(net, t, g, n, count, out, dslot, sparse, bucket, P, fp, 0);
}

/* Neuron k (with lazy plastic synapses onto it) spiked at step n: note it in its history.
 * A full history is first settled up to step n (every spike seen at or before n is applied:
 * this step's presynaptic arrivals are done), which leaves only the spikes some synapse sees
 * after n: fewer than H, which exceeds every post delay. */
static void FN(pl_note_spike)(const sc_net *net, int t, int64_t k, int64_t n)
{
    sc_hist_pos *hp = net->pl_hpos + k;
    int64_t H = net->pl_hist_len;
    if (hp->len == H) {
        int64_t lim = n + 1;
        if (net->pl_nin_slow[k])
            FN(pl_settle_neuron)(net, k, n + 1);
        if (net->pl_nin[k] > net->pl_nin_slow[k]) {   /* shared-trace synapses: settled by thread */
            lim = net->pl_fast_done[(int64_t)t * 8];
            if (net->pl_hist[k * H + hp->head] + net->pl_hist_dmax >= lim) {
                FN(pl_fast_settle_thread)(net, t, n);   /* spikes of step n are still being noted */
                lim = n;
            }
        }
        FN(pl_drop_seen)(net, k, lim);
    }
    for (int64_t f = 0; f < net->n_pl_fast; f++) {     /* its postsynaptic traces */
        const double *P = net->pl_param + net->pl_param_start[net->pl_fast_proj[f]];
        FN(sc_fast_post) *fp = (FN(sc_fast_post) *)net->pl_fpost + f * net->n_neurons + k;
        fp->x = FN(stdp_pair_bump)(P, fp->x, fp->step0, n, net->dt, 1);
        uint64_t gap = (uint64_t)(n - fp->step0);        /* > 0: one spike per step */
        gap = gap < UINT32_MAX ? gap : UINT32_MAX;
        for (int j = SC_FAST_OFFS - 1; j > 0; j--) {
            uint64_t o = (uint64_t)fp->off[j - 1] + gap;
            fp->off[j] = (uint32_t)(o < UINT32_MAX ? o : UINT32_MAX);
        }
        fp->off[0] = (uint32_t)gap;
        fp->step0 = n;
    }
    net->pl_hist[k * H + ((hp->head + hp->len) & (H - 1))] = n;
    for (int j = SC_HIST_RECENT - 1; j > 0; j--)
        hp->recent[j] = hp->recent[j - 1];
    hp->recent[0] = n;
    hp->len += 1;
}

/* Every lazy synapse, in memory order (segment by segment), then every history trimmed. */
void FN(sc_plastic_settle)(sc_net *net, int64_t n)
{
    if (!net->n_pl_seg)
        return;
    for (int64_t g = 0; g < net->n_pl_seg; g++) {
        int32_t proj = net->pl_seg_proj[g];
        if (net->pl_fast[proj]) {
            FN(pl_fast_settle_segment)(net, g, n);
            continue;
        }
        if (!net->pl_lazy[proj])
            continue;
        const double *P = net->pl_param + net->pl_param_start[proj];
        sc_plastic_post_fn post = net->pl_post[proj];
        int64_t D = net->pl_seg_pdel[g];
        for (int64_t s = net->pl_seg_start[g], e = net->pl_seg_start[g + 1]; s < e; s++)
            FN(pl_catch_up)(net, s, net->pl_chan_neuron[net->pl_chan[s]], D, n, post, P);
    }
    if (net->n_pl_fast)
        for (int64_t t = 0; t < net->n_parts; t++)
            net->pl_fast_done[t * 8] = n;
    for (int64_t k = 0; k < net->n_neurons; k++)
        if (net->pl_hpos[k].len)
            FN(pl_drop_seen)(net, k, n);
}

/* Presynaptic arrivals at step n (count spikes) on lazy segment g of thread t: each synapse
 * first catches up with its target's spikes, then runs its pre function, whose result goes
 * to out (ring slot dslot). Inlined with the functions of the rule where they are known. */
static SC_ALWAYS_INLINE void FN(pl_lazy_segment)(
    const sc_net *net, int t, int64_t g, int64_t n, int64_t count, REAL *out, int64_t dslot, int sparse,
    int bucket, sc_plastic_pre_fn pre, sc_plastic_post_fn post)
{
    int64_t S = net->pl_nstate, H = net->pl_hist_len;
    int32_t proj = net->pl_seg_proj[g];
    const double *P = net->pl_param + net->pl_param_start[proj];
    REAL *w = (REAL *)net->pl_w, *st = (REAL *)net->pl_state;
    int64_t D = net->pl_seg_pdel[g];
    double dt = net->dt;
    for (int64_t s = net->pl_seg_start[g], e = net->pl_seg_start[g + 1]; s < e; s++) {
        int32_t c = net->pl_chan[s];
        if (s + 2 * SC_PL_AHEAD < e) {         /* the targets' histories lie far apart: fetch ahead */
            int64_t k = net->pl_chan_neuron[net->pl_chan[s + 2 * SC_PL_AHEAD]];
            __builtin_prefetch(net->pl_hpos + k, 0);
            k = net->pl_chan_neuron[net->pl_chan[s + SC_PL_AHEAD]];
            const sc_hist_pos *hp = net->pl_hpos + k;
            if (hp->len > SC_HIST_RECENT && hp->recent[SC_HIST_RECENT - 1] + D >= net->pl_last[s + SC_PL_AHEAD])
                __builtin_prefetch(net->pl_hist + k * H + ((hp->head + hp->len - 1 - SC_HIST_RECENT) & (H - 1)), 0);
        }
        FN(pl_catch_up)(net, s, net->pl_chan_neuron[c], D, n, post, P);
        if (bucket) {
            for (int64_t r = 0; r < count; r++)
                FN(bk_put)(net, t, dslot, c, sparse ? SC_BK_SPARSE : 0u,
                           (REAL)pre(P, w + s, st + s * S, net->pl_last + s, n, dt));
            net->pl_pdone[s] = 0;
            continue;
        }
        for (int64_t r = 0; r < count; r++)
            out[c] += (REAL)pre(P, w + s, st + s * S, net->pl_last + s, n, dt);
        net->pl_pdone[s] = 0;
        if (sparse)
            FN(mark_touched)(net, t, dslot, c);
    }
}

/* The plastic spikes of thread t that arrive at step n, in the order they were queued:
 * each synapse's pre function (once per spike of a multiple count), its result added to
 * ring slot n (input due at step n, as a static synapse's would be). */
static void FN(pl_arrivals)(const sc_net *net, int t, int64_t n)
{
    int64_t L = net->ring_len, C = net->n_channels, T = net->n_parts, slot = n % L;
    int64_t *qn = net->pl_qn + slot * T + t;
    const int64_t *q = net->pl_q + net->pl_qofs[t] + slot * net->pl_qcap[t];
    REAL *dst = FN(slot_at)(net, slot);
    REAL *w = (REAL *)net->pl_w, *st = (REAL *)net->pl_state;
    int64_t S = net->pl_nstate;
    double dt = net->dt;
    if (net->n_pl_fast && *qn)
        FN(pl_fast_now)(net, t, n);
    const int64_t gmask = ((int64_t)1 << 48) - 1;
    for (int64_t k = 0; k < *qn; k++) {
        int64_t g = q[k] & gmask, count = q[k] >> 48;
        int64_t dslot = slot;                   /* the slot its result is due in */
        if (k + SC_PL_SEG_AHEAD < *qn && (q[k + SC_PL_SEG_AHEAD] & gmask) < net->n_pl_seg) {
            /* the segments ahead lie apart: their fields, then the starts of their rows */
            int64_t ga = q[k + SC_PL_SEG_AHEAD] & gmask;
            __builtin_prefetch(net->pl_seg_start + ga, 0);
            __builtin_prefetch(net->pl_seg_proj + ga, 0);
            __builtin_prefetch(net->pl_seg_dend + ga, 0);
            __builtin_prefetch((REAL *)net->pl_seg_x + ga, 0);
            __builtin_prefetch(net->pl_seg_last + ga, 0);
            __builtin_prefetch(net->pl_seg_from + ga, 0);
        }
        if (k + 1 < *qn && (q[k + 1] & gmask) < net->n_pl_seg) {
            int64_t s1 = net->pl_seg_start[q[k + 1] & gmask];
            for (int b = 0; b < 4; b++)
                __builtin_prefetch((REAL *)net->pl_w + s1 + b * 64 / (int)sizeof(REAL), 1);
            __builtin_prefetch(net->pl_chan + s1, 0);
            __builtin_prefetch(net->pl_chan + s1 + 16, 0);
        }
        if (g >= net->n_pl_seg) {      /* a modulator spike: every synapse of its projection */
            g -= net->n_pl_seg;
            int32_t mq = net->pl_mod_proj[g];
            const double *P = net->pl_param + net->pl_param_start[mq];
            for (int64_t x = net->pl_mod_start[g], e = net->pl_mod_end[g]; x < e; x++) {
                int64_t s = net->pl_mod_syn[x];
                for (int64_t r = 0; r < count; r++)
                    net->pl_mod[mq](P, w + s, st + s * S, net->pl_last + s, n, dt, 0.0, 0);
            }
            continue;
        }
        int32_t proj = net->pl_seg_proj[g];
        const double *P = net->pl_param + net->pl_param_start[proj];
        sc_plastic_pre_fn pre = net->pl_pre[proj];
        int sparse = net->pl_sparse[proj];
        REAL *out = dst;
        if (net->pl_seg_dend[g]) {             /* the rest of the delay is dendritic */
            dslot = (n + net->pl_seg_dend[g]) % L;
            out = net->bk ? NULL : (REAL *)net->ring + dslot * C;   /* (bucket mode: to its bucket) */
        }
        int bucket = net->bk && dslot != slot;  /* bucket mode, due at a later step */
        if (net->pl_fast[proj]) {              /* the shared-trace layout */
            FN(pl_fast_segment)(net, t, g, n, count, out, dslot, sparse, bucket);
            continue;
        }
        if (net->pl_lazy[proj]) {              /* first the target's spikes the synapse has not seen */
            if (pre == FN(stdp_pair_pre))      /* the rule's functions inlined */
                FN(pl_lazy_segment)(net, t, g, n, count, out, dslot, sparse, bucket, FN(stdp_pair_pre),
                                    FN(stdp_pair_post));
            else
                FN(pl_lazy_segment)(net, t, g, n, count, out, dslot, sparse, bucket, pre, net->pl_post[proj]);
            continue;
        }
        for (int64_t s = net->pl_seg_start[g], e = net->pl_seg_start[g + 1]; s < e; s++) {
            int32_t c = net->pl_chan[s];
            if (bucket) {
                for (int64_t r = 0; r < count; r++)
                    FN(bk_put)(net, t, dslot, c, sparse ? SC_BK_SPARSE : 0u,
                               (REAL)pre(P, w + s, st + s * S, net->pl_last + s, n, dt));
                continue;
            }
            for (int64_t r = 0; r < count; r++)
                out[c] += (REAL)pre(P, w + s, st + s * S, net->pl_last + s, n, dt);
            if (sparse)
                FN(mark_touched)(net, t, dslot, c);
        }
    }
    *qn = 0;
}

/* Thread t's neurons spk[0 .. n_spk) spiked at step n: the post function of every eager
 * plastic synapse onto them (all in t's part: synapses belong to the thread of their
 * target), at once or queued by post delay; the lazy ones get the spike in the history. */
static void FN(pl_post_group)(const sc_net *net, int64_t n, int64_t x)
{
    REAL *w = (REAL *)net->pl_w, *st = (REAL *)net->pl_state;
    int64_t S = net->pl_nstate;
    for (int64_t y = net->pl_pg_start[x], y1 = net->pl_pg_end[x]; y < y1; y++) {
        if (y + 8 < y1) {                      /* the targets' synapses lie far apart: fetch ahead */
            int64_t f = net->pl_post_syn[y + 8];
            __builtin_prefetch(w + f, 1);
            __builtin_prefetch(st + f * S, 1);
            __builtin_prefetch(net->pl_last + f, 1);
            __builtin_prefetch(net->pl_syn_proj + f, 0);
        }
        int64_t s = net->pl_post_syn[y];
        int32_t proj = net->pl_syn_proj[s];
        if (net->pl_post[proj])
            net->pl_post[proj](net->pl_param + net->pl_param_start[proj], w + s, st + s * S,
                               net->pl_last + s, n, net->dt);
    }
}

static void FN(pl_post_spikes)(const sc_net *net, int t, int64_t n, const int32_t *spk, int64_t n_spk)
{
    int64_t L = net->ring_len, T = net->n_parts;
    for (int64_t k = 0; k < n_spk; k++) {
        int32_t i = spk[k];
        if (net->pl_nin[i])
            FN(pl_note_spike)(net, t, i, n);
        for (int64_t x = net->pl_pg_ptr[i], x1 = net->pl_pg_ptr[i + 1]; x < x1; x++) {
            int32_t d = net->pl_pg_delay[x];
            if (net->pl_pg_lazy[x]) {
                continue;
            } else if (d == 0) {
                FN(pl_post_group)(net, n, x);
            } else {                           /* seen at the synapses d steps later */
                int64_t slot = (n + d) % L;
                int64_t *qn = net->pl_pqn + slot * T + t;
                net->pl_pq[net->pl_pqofs[t] + slot * net->pl_pqcap[t] + *qn] = x;
                *qn += 1;
            }
        }
    }
}

/* Thread t's delayed postsynaptic events due at step n (after its presynaptic arrivals). */
static void FN(pl_post_due)(const sc_net *net, int t, int64_t n)
{
    int64_t L = net->ring_len, T = net->n_parts, slot = n % L;
    int64_t *qn = net->pl_pqn + slot * T + t;
    const int64_t *q = net->pl_pq + net->pl_pqofs[t] + slot * net->pl_pqcap[t];
    for (int64_t k = 0; k < *qn; k++)
        FN(pl_post_group)(net, n, q[k]);
    *qn = 0;
}

/* Bucket mode's fold of hot slot p into syn for thread t's part [a, b) of population q (marks mk): each
 * marked channel adds its input, and the part's cells and marks are cleared (an unmarked
 * channel's input is 0); the same as the list's fold, in the channels' order, vectorised. */
SC_CLONES static void FN(fold_hot_pop)(const sc_net *net, int64_t q, int64_t a, int64_t b, REAL *restrict p,
                                       REAL *restrict syn, uint8_t *restrict mk)
{
    int64_t size = net->pop_size[q];
    for (int64_t r = 0; r < net->pop_n_rec[q]; r++) {
        int64_t c0 = net->pop_chan_start[q] + r * size;
        REAL *restrict pp = p + c0, *restrict ss = syn + c0;
        uint8_t *restrict mm = mk + c0;
        for (int64_t c = a; c < b; c++)
            ss[c] = FN(sc_fold_pending)(ss[c], pp, mm, c);
    }
}

/* Whether bucket mode's fold covers population q's channels (synaptic variables fed by the ring). */
static SC_ALWAYS_INLINE int FN(folds_pop)(const sc_net *net, int64_t q)
{
    return net->pop_ring_input[q] && !net->pop_jump_input[q];
}

/* Bucket mode's fold of a hot slot p into syn: thread t's parts of every population with
 * synaptic variables (fold_hot_pop). */
static void FN(fold_hot)(const sc_net *net, int t, REAL *restrict p, REAL *restrict syn, uint8_t *restrict mk)
{
    int64_t T = net->n_parts;
    for (int64_t q = 0; q < net->n_pops; q++)
        if (FN(folds_pop)(net, q))
            FN(fold_hot_pop)(net, q, net->part[q * (T + 1) + t], net->part[q * (T + 1) + t + 1], p, syn, mk);
}

/* Whether update function fn folds sc_block.fold itself (its registry entry, _updates.h; a function
 * from elsewhere does not). */
static int FN(update_folds)(sc_update_fn fn)
{
    for (const sc_update_entry *e = FN(sc_updates); e->name; e++)
        if (e->fn == fn)
            return e->folds;
    return 0;
}

/* syn += pending for the channels thread t's pushes touched in the slot of step n;
 * clears them. The same sums as folding the whole slot: untouched channels add 0. */
static void FN(fold_sparse)(const sc_net *net, int t, int64_t n)
{
    if (!net->mark || n < 0)
        return;
    int64_t L = net->ring_len, C = net->n_channels, slot = n % L;
    REAL *p = FN(slot_at)(net, slot), *syn = (REAL *)net->syn;   /* x = s + p, then p = 0 */
    if (net->hot) {   /* bucket mode: the thread's channels in order, where marked */
        FN(fold_hot)(net, t, p, syn, SC_HOT_MARK(net, t, slot));
        return;
    }
    int64_t nl = net->touched_n[SC_TOUCHED_N(net, slot, t)];
    const int32_t *lst = net->touched + slot * C + net->chan_ofs[t];
    uint8_t *mk = SC_MARK(net, t, slot);
    for (int64_t k = 0; k < nl; k++) {
        int32_t c = lst[k];
        syn[c] = syn[c] + p[c];
        p[c] = 0;
        mk[c] = 0;
    }
    net->touched_n[SC_TOUCHED_N(net, slot, t)] = 0;
}

/* Apply the pending slot of step n to thread t's neurons and clear it: delta
 * jumps densely (discarded while refractory), synaptic variables sparsely. */
static void FN(apply_slot)(const sc_net *net, int t, int64_t n)
{
    int64_t L = net->ring_len, C = net->n_channels, T = net->n_parts;
    if (C == 0 || n < 0)
        return;
    REAL *buf = FN(slot_at)(net, n % L);
    REAL *v = (REAL *)net->v;
    for (int64_t p = 0; p < net->n_pops; p++) {
        if (!net->pop_ring_input[p] || !net->pop_jump_input[p])
            continue;
        int64_t a = net->part[p * (T + 1) + t], b = net->part[p * (T + 1) + t + 1];
        int64_t start = net->pop_start[p], c0 = net->pop_chan_start[p];
        for (int64_t k = a; k < b; k++) {
            if (net->free_at[start + k] <= n)
                v[start + k] += buf[c0 + k];
            buf[c0 + k] = 0;
        }
    }
    FN(fold_sparse)(net, t, n);
}

/* Update populations' thread-t ranges over step n; returns the spikes appended to
 * spk, with pop_end[p] = spike count after population p. */
static int64_t FN(update_all)(const sc_net *net, int t, int64_t n, int32_t *spk, int64_t *pop_end,
                              uint8_t *cross)
{
    int64_t L = net->ring_len, T = net->n_parts;
    REAL *pend_slot = FN(slot_at)(net, (n - 1 + L) % L), *due_slot = FN(slot_at)(net, n % L);
    int64_t n_spk = 0;
    /* bucket mode folds the slot of step n - 1 population by population, just before each update, or
     * lets an update that folds (sc_block.fold) do it in its own pass: an update reads and writes
     * its own population's channels only, so the sums are those of folding every population first */
    int fold_each = net->hot && net->mark && n >= 1;
    uint8_t *hot_mk = fold_each ? SC_HOT_MARK(net, t, (n - 1) % L) : NULL;
    if (!fold_each)
        FN(fold_sparse)(net, t, n - 1);
    for (int64_t p = 0; p < net->n_pops; p++) {
        int64_t a = net->part[p * (T + 1) + t], b = net->part[p * (T + 1) + t + 1], m = b - a;
        int fuse = 0;
        if (m > 0 && fold_each && FN(folds_pop)(net, p)) {
            fuse = FN(update_folds)(net->pop_update[p]);
            if (!fuse)
                FN(fold_hot_pop)(net, p, a, b, pend_slot, (REAL *)net->syn, hot_mk);
        }
        if (m > 0) {
            int64_t start = net->pop_start[p] + a, rec0 = net->pop_rec_start[p];
            int64_t c0 = net->pop_chan_start[p] + a;
            int jumps = net->pop_jump_input[p];
            REAL *v = (REAL *)net->v + start;
            int64_t *free_at = net->free_at + start;
            REAL vth = (REAL)net->pop_vth[p];
            sc_block blk = {
                .m = m, .n = n, .stride = net->pop_size[p], .n_rec = net->pop_n_rec[p], .dt = net->dt,
                .v = v, .syn = (REAL *)net->syn + c0, .pend = jumps ? pend_slot + c0 : NULL,
                .drive = net->pop_has_drive[p] ? (const REAL *)net->drive + start : NULL,
                .d0 = net->pop_d0[p], .decay_mem = net->pop_decay_mem[p], .vth = net->pop_vth[p],
                .free_at = free_at, .param = net->pop_param + net->pop_param_start[p],
                .nparam = net->pop_nparam_start[p] < 0 ? NULL
                          : (const REAL *)net->nparam + net->pop_nparam_start[p] + a,
                .xstate = (REAL *)net->xstate + net->pop_xstate_start[p] + a,
                .rec_decay = net->rec_decay + rec0, .rec_coef = net->rec_coef + rec0,
                .rec_erev = net->rec_erev + rec0, .crossed = cross, .rec_tau = net->rec_tau + rec0,
                .fold = fuse ? pend_slot + c0 : NULL, .fold_mark = fuse ? hot_mk + c0 : NULL,
            };
            int flagged = net->pop_update[p](&blk);
            int64_t before = n_spk;
            if (net->pop_neuron_thr[p]) {
                n_spk = FN(threshold_n)(m, n, start, (const REAL *)net->neuron_vth + start,
                                        (const REAL *)net->neuron_vreset + start, net->neuron_ref + start, v, free_at,
                                        jumps ? due_slot + c0 : NULL, spk, n_spk);
            } else {
                const REAL *vthn = net->pop_vth_state[p] < 0 ? NULL
                                   : (const REAL *)net->xstate + net->pop_vth_state[p] + a;
                n_spk = FN(threshold)(m, n, start, vth, vthn, (REAL)net->pop_vreset[p], net->pop_ref_steps[p], v,
                                      free_at, jumps ? due_slot + c0 : NULL, flagged ? cross : NULL, spk, n_spk);
            }
            /* a model with more to do after the threshold (equation-defined models: deliver this
             * step's input, then reset the neurons that spiked) */
            sc_update_fn reset = net->pop_reset ? net->pop_reset[p] : NULL;
            if (reset) {
                blk.first = start;
                blk.spikes = spk + before;
                blk.n_spikes = n_spk - before;
                blk.due = due_slot + c0;
                reset(&blk);
            }
        }
        pop_end[p] = n_spk;
    }
    return n_spk;
}

/* ---------------------------------------------------------------- the run */
/* Free bucket mode's hot slots (sc_net.hot; empty when a call returns). */
static void FN(hot_free)(sc_net *net)
{
    free(net->hot);
    free(net->hot_big);
    free(net->hot_mark);
    free(net->ck_next);
    free(net->ck_fill);
    free(net->ck_free);
    free(net->ck_top);
    free(net->bk_head);
    free(net->bk_tail);
    net->hot = NULL;
    net->hot_big = NULL;
    net->hot_mark = NULL;
    net->ck_next = net->ck_fill = net->ck_free = net->bk_head = net->bk_tail = NULL;
    net->ck_top = NULL;
}

/* Threads meet once per window of W = net->window steps (W <= the smallest delay
 * of any synapse from a neuron): a neuron's spike at step m cannot act before step
 * m + W, so each thread runs a window on its own — updates, thresholds, and the
 * inputs it draws itself (Poisson counts, spike-source events) — then, after one
 * barrier, adds every thread's neuron spikes of the window to its own channels.
 * Every thread walks the spikes in the serial order (step, population, neuron),
 * and the window is a property of the network, not of T, so each channel receives
 * its inputs in the same order for any thread count: results are bit-identical. */
int64_t FN(sc_run)(sc_net *net, int64_t n0, int64_t n1, int64_t *out_step, int32_t *out_idx,
                   int64_t *out_n, int64_t cap, double *rec_out, int64_t *rec_pos)
{
    int T = (int)net->n_parts;
    int64_t P = net->n_pops, N = net->n_neurons, W = net->window;
    sc_scratch sc;
    if (sc_scratch_alloc(&sc, net) != 0)
        return -1;
    sc.n0 = n0;
    /* a team's deferred Poisson counts drawn ahead (sc_net.pd_drawn), where it draws them */
    int deferred = 0;
    for (int64_t i = 0; net->bk && i < T * net->n_pnodes; i++)
        deferred |= net->pd_defer[i] != 0 && sc.win_cnt[0][i / net->n_pnodes] != NULL;
    net->pd_drawn = NULL;
    if (deferred) {
        net->pd_drawn = sc_alloc_zero(sizeof(sc_drawn_row) * (size_t)T);
        if (!net->pd_drawn) {
            sc_scratch_free(&sc);
            return -1;
        }
        for (int t = 0; t < T; t++)
            net->pd_drawn[t].off = sc.pq_off[t];
    }
    if (net->bk) {   /* bucket mode's hot slots for this call (sc_net.hot) */
        int64_t C = net->n_channels, L = net->ring_len;
        net->hot_big_stride = (L + 63) & ~(int64_t)63;
        net->hot = sc_alloc_zero(sizeof(REAL) * (size_t)(3 * C));
        net->hot_big = sc_alloc((size_t)(T * net->hot_big_stride));
        net->hot_mark = sc_alloc_zero((size_t)(3 * T * C));
        /* the buckets' chunks: each thread's part of bk is a pool of chunks of ck_len entries */
        net->ck_len = net->bk_cap < SC_BK_CHUNK ? net->bk_cap : SC_BK_CHUNK;
        net->ck_per_thread = L * net->bk_cap / net->ck_len;
        size_t nck = (size_t)(T * net->ck_per_thread);
        net->ck_next = sc_alloc(sizeof(int32_t) * nck);
        net->ck_fill = sc_alloc(sizeof(int32_t) * nck);
        net->ck_free = sc_alloc(sizeof(int32_t) * nck);
        net->ck_top = sc_alloc(sizeof(int64_t) * (size_t)(8 * T));
        net->bk_head = sc_alloc(sizeof(int32_t) * (size_t)(T * net->hot_big_stride));
        net->bk_tail = sc_alloc(sizeof(int32_t) * (size_t)(T * net->hot_big_stride));
        if (!net->hot || !net->hot_big || !net->hot_mark || !net->ck_next || !net->ck_fill || !net->ck_free
            || !net->ck_top || !net->bk_head || !net->bk_tail) {
            FN(hot_free)(net);
            free(net->pd_drawn);
            net->pd_drawn = NULL;
            sc_scratch_free(&sc);
            return -1;
        }
        for (int u = 0; u < T; u++) {
            for (int64_t i = 0; i < net->ck_per_thread; i++)   /* chunk 0 on top */
                net->ck_free[u * net->ck_per_thread + i] = (int32_t)(net->ck_per_thread - 1 - i);
            net->ck_top[u * 8] = net->ck_per_thread;
            for (int64_t slot = 0; slot < L; slot++) {
                net->bk_head[u * net->hot_big_stride + slot] = net->bk_tail[u * net->hot_big_stride + slot] = -1;
                net->bk_n[SC_BUCKET_N(net, slot, u)] = net->ck_len;   /* no chunk yet */
            }
        }
        /* any slot of the ring may hold input a previous call left there */
        memset(net->hot_big, 1, (size_t)(T * net->hot_big_stride));
    }
    int64_t stop = n1;
    int64_t out0 = *out_n;
    int64_t ev_end = net->ev_ptr;
    int short_team = 0;
    int NT = (int)net->n_team;
    int pin_cpu[SC_MAX_THREADS];
    int pin = net->pin_threads && sc_pin_plan(NT, pin_cpu);
#ifdef _OPENMP
    if (NT > 1)
        omp_set_dynamic(0);
#pragma omp parallel num_threads(NT) if (NT > 1)
#endif
    {
        int me = sc_thread_id();
        double cpu0 = sc_thread_cpu();
        /* every part must have a thread (all threads see the same count) */
        if (sc_team_size() != NT) {
            if (me == 0)
                short_team = 1;
            goto done;
        }
        sc_cpu_mask own_mask;
        int pinned = pin && sc_pin(pin_cpu[me], &own_mask);
        int64_t L = net->ring_len, n_pre = net->n_pre, nq = net->n_pnodes;
        REAL *ring = (REAL *)net->ring, *v = (REAL *)net->v, *syn = (REAL *)net->syn;
        int64_t out_local = out0;
        int64_t n = n0;
        int par = 0;
        int64_t windows = 0;
        sc_split split;     /* which parts this thread runs: [split.lo[me], split.lo[me + 1]) */
        sc_split_init(&split, NT, T, sc.weight);
        int lo_me = split.lo[me], hi_me = split.lo[me + 1];     /* (kept in registers) */
        /* a thread's work on its parts, from the end of one meeting to each part's arrival at
         * the next: the deliveries of the last window, then each part's steps (sc_split) */
        int64_t part_t0 = NT > 1 ? sc_ticks() : 0;
        while (n < n1) {
            int64_t w_end = n + W < n1 ? n + W : n1;
            /* every thread takes the same decision from the same count */
            if (out_local + (w_end - n) * N > cap)
                break;
            /* the phase profile (sc_net.ph_log): this window's entry, or NULL */
            int64_t *ph = net->ph_log && net->ph_n[8 * me] < net->ph_cap
                          ? net->ph_log + ((int64_t)me * net->ph_cap + net->ph_n[8 * me]) * SC_PH_N : NULL;
            int64_t tk0 = ph ? sc_ticks() : 0, tk1 = 0, tk2 = 0;
            for (int t = lo_me; t < hi_me; t++) {
                const int64_t *row_ptr = net->row_ptr + (int64_t)t * (n_pre + 1);
                const int64_t *seg_ptr = net->seg_ptr + (int64_t)t * (n_pre + 1);
                const REAL *row_w = (const REAL *)net->row_w + (int64_t)t * n_pre;
                const int64_t *pr_lo = net->pr_lo + (int64_t)t * nq, *pr_hi = net->pr_hi + (int64_t)t * nq;
                const int64_t *pq_off = sc.pq_off[t];
                int shared = T > 1 && sc.win_cnt[0][t] != NULL;   /* counts go through the shared items */
                uint16_t *cnt = sc.cnt_buf[t];
                int64_t ev = sc.part_ev[8 * t];
                for (int64_t m = n; m < w_end; m++) {
                    int64_t now = m % L;
                    /* 1. state monitors sample at the start of the step (own entries) */
                    int sampled = 0;
                    for (int64_t e = 0; e < net->n_rec; e++) {
                        if (net->rec_owner[e] != t || m % net->rec_every[e] != 0)
                            continue;
                        if (!sampled) {
                            FN(apply_slot)(net, t, m - 1);
                            sampled = 1;
                        }
                        int64_t i = net->rec_idx[e];
                        int32_t kind = net->rec_kind[e];
                        rec_out[rec_pos[e]] = kind == SC_RECORD_V ? (double)v[i] : kind == SC_RECORD_SYN ? (double)syn[i]
                                              : (double)((REAL *)net->xstate)[i];
                        rec_pos[e] += 1;
                    }
                    int64_t j = m - n;
                    /* this step's counts: drawn by a thread waiting at the last barrier, else now
                     * (before the drain: a deferred range's counts in the row are what it adds) */
                    const uint16_t *drawn = NULL;
                    if (shared) {
                        /* the blocks nobody has claimed, drawn here in order; then those a partner
                         * claimed (drawing from the row's end back), once drawn */
                        int64_t *st = sc.pstate[par] + (j * T + t) * sc.pb * SC_PSTATE_STRIDE;
                        uint16_t *row = sc.win_cnt[par][t] + j * sc.row_stride[t];
                        uint32_t theirs = 0;
                        for (int64_t b = 0; b < sc.pb; b++) {
                            if (sc_claim(st + b * SC_PSTATE_STRIDE, windows))
                                sc_pois_block(net, &sc, t, m, row, b);
                            else
                                theirs |= 1u << b;
                        }
                        for (int64_t b = 0; b < sc.pb; b++) {
                            int64_t *sb = st + b * SC_PSTATE_STRIDE;
                            if (theirs >> b & 1u)
                                for (int64_t r = 0; __atomic_load_n(sb, __ATOMIC_ACQUIRE) != SC_FREE(windows) + 2; r++)
                                    sc_relax(r);
                            /* free for the next window of this parity: nobody claims it for that
                             * window before the next barrier (releases it), and a late claim for
                             * this window now fails */
                            __atomic_store_n(sb, SC_FREE(windows + 2), __ATOMIC_RELAXED);
                        }
                        drawn = row;
                    }
                    if (net->bk) {   /* bucket mode: this step's slot receives what its bucket holds */
                        if (net->pd_drawn) {   /* (bk_pois reads the deferred ranges' counts there) */
                            net->pd_drawn[t].row = drawn;
                            net->pd_drawn[t].step = m;
                        }
                        if (net->hot_big[t * net->hot_big_stride + now])
                            FN(bk_take_big)(net, t, now);
                        FN(bk_drain)(net, t, now, 0);
                    }
                    if (net->n_pl_seg)
                        FN(pl_arrivals)(net, t, m), FN(pl_post_due)(net, t, m);
                    /* 2-3 (and 5). update, threshold, reset of own neurons */
                    int32_t *own_spk = sc.spk[par][t] + j * sc.spk_stride[t];
                    int64_t n_own = FN(update_all)(net, t, m, own_spk, sc.pop_end[par][t] + j * P, sc.cross[t]);
                    if (net->n_pl_seg && n_own)
                        FN(pl_post_spikes)(net, t, m, own_spk, n_own);
                    /* 4a. inputs this part draws itself, into its own channels */
                    while (ev < net->n_ev && net->ev_step[ev] <= m) {
                        if (net->ev_step[ev] == m) {
                            FN(push)(net, t, row_ptr, seg_ptr, row_w, net->ev_pre[ev], now, 1, ring);
                            if (net->n_pl_seg)
                                FN(pl_enqueue)(net, t, net->ev_pre[ev], m, 1);
                        }
                        ev++;
                    }
                    for (int64_t q = 0; q < nq; q++) {
                        int64_t a = pr_lo[q], b = pr_hi[q];
                        if (a >= b || m < net->pn_on[q] || m >= net->pn_off[q])
                            continue;
                        int64_t dd = net->pd_defer[t * nq + q];
                        if (dd) {   /* drawn when the bucket of its slot is drained */
                            int64_t slot = now + dd;
                            FN(bk_put_pois)(net, t, slot >= L ? slot - L : slot, q, m);
                            continue;
                        }
                        if (drawn)
                            cnt = (uint16_t *)drawn + pq_off[q];
                        else {
                            cnt = sc.cnt_buf[t];
                            sc_pois_range(net, q, m, a, b, cnt);
                        }
                        int64_t base = net->pois_base, off = net->pd_off[t * nq + q];
                        if (off >= 0) {
                            FN(push_single)(net, t, off, b - a, cnt, now, ring);
                            continue;
                        }
                        for (int64_t k = a; k < b; k++)
                            if (cnt[k - a]) {
                                FN(push)(net, t, row_ptr, seg_ptr, row_w, base + k, now, (REAL)cnt[k - a], ring);
                                if (net->n_pl_seg)
                                    FN(pl_enqueue)(net, t, base + k, m, cnt[k - a]);
                            }
                    }
                }
                sc.part_ev[8 * t] = ev;
                /* this part's window is done: its count, with the ticks since the last part's
                 * (the first part's include this thread's deliveries) */
                if (NT > 1) {
                    int64_t part_t1 = sc_ticks();
                    sc_part_arrive(&sc, t, par, windows + 1, part_t1 - part_t0);
                    part_t0 = part_t1;
                }
            }
            /* The team meets: no thread reads another's spikes of the window before
             * all parts have written them (each part's runner releases the part's count of
             * finished windows, and a waiting thread acquires every part's: sc_part_arrive).
             * While waiting, a thread draws Poisson counts of the next window, of others' parts
             * and its own (whoever claims an item first): they depend only on (seed, step,
             * neuron), not on anything the team does, and a thread that arrives late is spared
             * the work it would have done next. */
            windows++;
            if (ph)
                tk1 = sc_ticks();
            int64_t steps = w_end - n;
            if (NT > 1) {
                int64_t round = 0;
                int64_t next_end = w_end + W < n1 ? w_end + W : n1;
                /* the next window's blocks: first the other threads' parts (the late ones' work),
                 * each row from its last block back, where the runner, drawing from the front at
                 * its step, reaches them last; then this thread's, in the order its steps take them */
                int lo = lo_me, mine = hi_me - lo_me;
                int64_t steps_next = next_end - w_end, B = sc.pb;
                int64_t other_items = steps_next * (T - mine) * B, items = steps_next * T * B, it = 0;
                int nxt = par ^ 1;
                while (!sc_team_done(&sc, par, windows)) {
                    int drew = 0;
                    while (it < items && !drew) {
                        int64_t jj, b, r;
                        int u;
                        if (it < other_items) {
                            r = it % ((T - mine) * B);
                            jj = it / ((T - mine) * B);
                            u = (int)(r / B);
                            u += u >= lo ? mine : 0;
                            b = B - 1 - r % B;
                        } else {
                            r = (it - other_items) % (mine * B);
                            jj = (it - other_items) / (mine * B);
                            u = lo + (int)(r / B);
                            b = r % B;
                        }
                        it++;
                        int64_t *sb = sc.pstate[nxt] + ((jj * T + u) * B + b) * SC_PSTATE_STRIDE;
                        if (sc.win_cnt[nxt][u] && sc_claim(sb, windows)) {
                            int64_t td = ph ? sc_ticks() : 0;
                            sc_pois_block(net, &sc, u, w_end + jj, sc.win_cnt[nxt][u] + jj * sc.row_stride[u], b);
                            if (ph)
                                ph[SC_PH_DRAW] += sc_ticks() - td;
                            __atomic_store_n(sb, SC_FREE(windows) + 2, __ATOMIC_RELEASE);
                            drew = 1;
                        }
                    }
                    if (!drew)
                        sc_relax(round++);
                }
                /* the parts of the next window (every thread's copy of the split the same) */
                sc_split_update(&split, &sc, par, windows, net->split_mode);
                lo_me = split.lo[me], hi_me = split.lo[me + 1];
                sc_prefetch_window(&sc, lo_me, hi_me, par, steps * P, steps);
                part_t0 = sc_ticks();
            }
            if (ph)
                tk2 = sc_ticks();
            /* 4b. every part's neuron spikes of the window, in the serial order, into this
             * thread's parts of the next window (each walk counts the window's spikes: o_end) */
            int64_t o_end = out_local;
            for (int t = lo_me; t < hi_me; t++) {
                const int64_t *row_ptr = net->row_ptr + (int64_t)t * (n_pre + 1);
                const int64_t *seg_ptr = net->seg_ptr + (int64_t)t * (n_pre + 1);
                const REAL *row_w = (const REAL *)net->row_w + (int64_t)t * n_pre;
                int64_t o = out_local;
                for (int64_t m = n; m < w_end; m++) {
                    int64_t j = m - n, now = m % L;
                    for (int64_t p = 0; p < P; p++) {
                        for (int u = 0; u < T; u++) {
                            const int64_t *pe = sc.pop_end[par][u] + j * P;
                            int64_t b = p ? pe[p - 1] : 0, e = pe[p];
                            const int32_t *sp = sc.spk[par][u] + j * sc.spk_stride[u];
                            for (int64_t k = b; k < e; k++) {
                                if (t == 0) {
                                    out_step[o] = m;
                                    out_idx[o] = sp[k];
                                }
                                o++;
                                FN(push)(net, t, row_ptr, seg_ptr, row_w, sp[k], now, 1, ring);
                                if (net->n_pl_seg)
                                    FN(pl_enqueue)(net, t, sp[k], m, 1);
                            }
                        }
                    }
                }
                o_end = o;
            }
            out_local = o_end;
            if (ph) {
                ph[SC_PH_OWN] = tk1 - tk0;
                ph[SC_PH_WAIT] = tk2 - tk1;
                ph[SC_PH_DELIVER] = sc_ticks() - tk2;
                ph[SC_PH_CPU] = sc_cpu_now();
                ph[SC_PH_PARTS] = hi_me - lo_me;
                net->ph_n[8 * me] += 1;
            }
            n = w_end;
            par ^= 1;
        }
        /* between calls no input is pending, and the buckets are empty: their inputs wait in the
         * ring, as in ring mode */
        for (int t = lo_me; t < hi_me; t++) {
            if (net->pd_drawn)
                net->pd_drawn[t].row = NULL;
            if (net->bk)
                for (int64_t slot = 0; slot < L; slot++) {
                    FN(bk_drain)(net, t, slot, 1);
                    net->bk_n[SC_BUCKET_N(net, slot, t)] = 0;
                }
            FN(apply_slot)(net, t, n - 1);
        }
        if (pinned)
            sc_unpin(&own_mask);
        net->thread_cpu[me] += sc_thread_cpu() - cpu0;
        if (me == 0) {
            stop = n;
            *out_n = out_local;
            ev_end = sc.part_ev[0];
        }
    done:;
    }
    free(net->pd_drawn);
    net->pd_drawn = NULL;
    sc_scratch_free(&sc);
    FN(hot_free)(net);
    if (short_team)
        return -2;
    net->ev_ptr = ev_end;
    return stop;
}

#undef FN
