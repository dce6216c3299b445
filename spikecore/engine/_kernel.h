/* The native engine's step loop, in C: declarations shared by _kernel.c and _core.pyx.
 *
 * _core.pyx (the Python-facing Kernel) fills one sc_net with pointers into numpy
 * arrays that spikecore.engine.simulator allocated and laid out, and calls
 * sc_run_f64 or sc_run_f32 (the same body, _kernel_impl.h, compiled for double and
 * float state). Why C and not Cython: `restrict` pointers (without them the
 * compiler will not vectorise the neuron updates) and OpenMP barriers (one per
 * step, inside one parallel region for the whole run; Cython's prange can only
 * fork and join).
 *
 * Step semantics: spikecore.ir (module docstring); model equations:
 * spikecore.engine._core (module docstring); memory layout:
 * spikecore.engine.simulator (module docstring).
 */
#ifndef SPIKECORE_KERNEL_H
#define SPIKECORE_KERNEL_H

#include <stdint.h>

enum { SC_SPLIT_ADAPTIVE = 0, SC_SPLIT_EVEN = 1, SC_SPLIT_CYCLE = 2 };
enum { SC_RECORD_V = 0, SC_RECORD_SYN = 1, SC_RECORD_X = 2 };   /* v, a channel, further state (xstate) */

/* Phases of a window in the profile (sc_net.ph_log): the window's own steps (updates,
 * thresholds, own inputs), the wait at the barrier, the part of that wait spent drawing
 * Poisson counts ahead, and the delivery of the window's spikes (4b); and, not a phase, the
 * CPU the thread ran on at the end of the window (sched_getcpu; -1 where unknown), and the
 * number of the layout's parts the thread ran in the window (sc_split, _kernel.c). */
enum { SC_PH_OWN = 0, SC_PH_WAIT = 1, SC_PH_DRAW = 2, SC_PH_DELIVER = 3, SC_PH_CPU = 4, SC_PH_PARTS = 5, SC_PH_N = 6 };

/* One block of a population -- the neurons [0, m) that one thread owns -- at step n, as a
 * model's update function sees it. Pointers are offset to the block's first neuron (v,
 * drive, free_at, pend) or first channel (syn); REAL is the state type of the entry point
 * (double in sc_run_f64, float in sc_run_f32), so the pointers are void here. Parameters
 * are doubles, rounded to REAL by the update. docs/architecture.md says how this grows
 * (per-neuron parameters, further state variables, functions compiled by numba). */
typedef struct sc_block {
    int64_t m;                     /* neurons in the block */
    int64_t n;                     /* the step being updated (absolute: it continues across runs) */
    int64_t stride;                /* the population's size: receptor r of neuron k is syn[r*stride + k] */
    int64_t n_rec;                 /* receptors */
    double dt;
    void *v;                       /* REAL[m]: membrane potential */
    void *syn;                     /* REAL[n_rec*stride]: receptor variables, this step's input folded in */
    void *pend;                    /* REAL[m]: jumps delivered at step n-1 (voltage-jump synapses; else NULL),
                                      cleared by the update */
    const void *drive;             /* REAL[m]: per-neuron drive, NULL: d0 for every neuron */
    double d0;                     /* the drive without injected current (NeuronModel.drive) */
    double decay_mem;              /* NeuronModel.membrane_decay (0 where it has none) */
    double vth;                    /* threshold, for the crossed flags (a model with a per-neuron threshold
                                      writes it into its xstate variable NeuronModel.threshold_state and flags
                                      the blocks where v crossed it) */
    const int64_t *free_at;        /* first step each neuron is free: v stays while free_at > n (refractory) */
    const double *param;           /* the model's parameters in its declaration order (spikecore/models) */
    const void *nparam;            /* per-neuron values of every parameter, REAL[n_param*stride] offset to the
                                      block (parameter i of neuron k at nparam[i*stride + k]); NULL: all are
                                      population-wide (then read param) */
    void *xstate;                  /* REAL[n_x*stride] offset to the block: the model's state variables other
                                      than v and the receptors (NeuronModel.extra_state order; variable i of
                                      neuron k at xstate[i*stride + k]); NULL when it has none */
    const double *rec_decay;       /* per receptor: NeuronModel.receptor_decay */
    const double *rec_coef;        /* per receptor: NeuronModel.synaptic_coefficient (0 where none) */
    const double *rec_erev;        /* per receptor: its reversal potential e_rev (0 where none) */
    uint8_t *crossed;              /* per SC_BLOCK neurons: 1 where some v > vth after the update */
    /* Read only by a population's reset function (sc_net.pop_reset: equation-defined models), called
     * every step after the threshold, with the block's neurons that spiked at step n: */
    int64_t first;                 /* the global index of the block's neuron 0 */
    const int32_t *spikes;         /* the neurons that spiked, as global indices (first + k) */
    int64_t n_spikes;
    void *due;                     /* REAL[n_rec*stride] offset to the block: the input due at step n (this
                                      step's ring slot, else folded into syn at the next step); a reset
                                      function may deliver it itself and clear it (Brian2's schedule: on_pre
                                      after the threshold, before the reset) */
    const double *rec_tau;         /* per receptor: its time constant tau_syn (0 where none), for updates that
                                      compute synaptic coefficients per neuron (a per-neuron tau_mem) */
    /* Bucket mode, for an update whose registry entry folds (sc_update_entry.folds), else NULL: the
     * input of step n-1 not yet in syn, REAL[n_rec*stride] offset to the block as syn is, and its
     * marks. The update adds it first, in the same pass (sc_fold_pending, _kernel_impl.h):
     * syn = mark ? syn + fold : syn, then clears fold and mark; "syn" above then means after that. */
    void *fold;
    uint8_t *fold_mark;
} sc_block;

/* A model's update of one block over one step: returns 1 when it wrote every crossed
 * flag, 0 when the threshold must scan v itself. */
typedef int (*sc_update_fn)(const sc_block *b);
/* A registry entry (_updates.h): folds = 1 where fn honours sc_block.fold (it then runs with syn
 * not yet folded, saving a pass over the state), 0 where the step loop folds first. */
typedef struct { const char *name; sc_update_fn fn; int folds; } sc_update_entry;

/* A plasticity rule's functions (_plastic_rules.h): update one synapse -- its weight w, its
 * rule state st[0 ..] (REAL, per the entry point; sc_net.pl_nstate variables per synapse)
 * and the step of its last event -- at step n, with the rule's parameters P of its
 * projection. pre: a presynaptic spike arrives, returns what is delivered to the target;
 * post: the target spiked; mod: a neuromodulator spike arrives (set = 0) or the modulator
 * signal takes the value `value` (set = 1). */
typedef double (*sc_plastic_pre_fn)(const double *P, void *w, void *st, int64_t *last, int64_t n, double dt);
typedef void (*sc_plastic_post_fn)(const double *P, void *w, void *st, int64_t *last, int64_t n, double dt);
typedef void (*sc_plastic_mod_fn)(const double *P, void *w, void *st, int64_t *last, int64_t n, double dt,
                                  double value, int set);
typedef struct {
    const char *name;
    sc_plastic_pre_fn pre;
    sc_plastic_post_fn post;
    sc_plastic_mod_fn mod;
} sc_plastic_entry;

/* Thread t's count of touched channels of ring slot `slot` (sc_net.touched_n): thread after
 * thread, each thread's counts rounded up to a multiple of 8 and followed by 8 unused ones
 * (64 bytes, whatever the array's alignment), so that two threads never write one cache
 * line (with the counts of a slot side by side, both threads wrote the same line at every
 * push and fold: the line moved between the cores every step). */
#define SC_TOUCHED_N_STRIDE(ring_len) (((((int64_t)(ring_len)) + 7) & ~(int64_t)7) + 8)
#define SC_TOUCHED_N(net, slot, t) ((int64_t)(t) * SC_TOUCHED_N_STRIDE((net)->ring_len) + (slot))

/* Thread t's count of events in the bucket of ring slot `slot` (sc_net.bk_n): laid out as the
 * touched counts, so that two threads never write one cache line. */
#define SC_BUCKET_N(net, slot, t) SC_TOUCHED_N(net, slot, t)
/* A bucket entry (uint64): bits 0-31 hold channel << 2 | SC_BK_SPARSE | SC_BK_WIDE, bits 32-63 the
 * value as a float; SC_BK_WIDE: the value is a double that no float holds, in the next entry. */
#define SC_BK_WIDE 1u
#define SC_BK_SPARSE 2u
#define SC_BK_MAX_CHANNELS ((1 << 30) - 1)
/* A deferred Poisson input (sc_net.pd_defer): a two-entry item whose first word holds SC_BK_POIS in
 * bits 0-31 (no channel: channels stay below SC_BK_MAX_CHANNELS) and the node q in bits 32-63, and
 * whose second word is the step m whose counts it stands for: draining it adds thread t's counts of
 * node q at step m, each times its weight, into the slot, at that place in the bucket's order. */
#define SC_BK_POIS 0xFFFFFFFFu
/* A deferred group of the packed table (sc_net.pk_grp): thread t's synapses pk_syn/pk_w[s .. s + n) of
 * one row, all of one delay, for one spike; the item stands where their entries would have stood,
 * and draining it adds them into the slot in order. Its first word holds the kind in bits 0-31 (no
 * channel, as SC_BK_POIS) and n in bits 32-63, its second word s; SC_BK_GRP1: each synapse adds its
 * weight (a spike of multiplier 1); SC_BK_GRPM: each adds its weight times the value in the third
 * word (the multiplier, a REAL); SC_BK_GRPU: each adds the third word's value (the row's one weight
 * times the multiplier). */
#define SC_BK_GRP1 0xFFFFFFFCu
#define SC_BK_GRPM 0xFFFFFFFDu
#define SC_BK_GRPU 0xFFFFFFFEu

/* Where neuron k's spike history is (sc_net, lazy postsynaptic updates) and its newest
 * SC_HIST_RECENT spike steps (recent[0] the newest), so that most catch-ups read this one
 * record and not the history itself: 32 bytes, aligned to 32 (one cache line) */
#define SC_HIST_RECENT 3
typedef struct { int32_t head, len; int64_t recent[SC_HIST_RECENT]; } sc_hist_pos;

/* Part t's Poisson counts of the step being run, drawn ahead by a team (sc_net.pd_drawn): `row`
 * (NULL: none) with each node's range at off[q]; a deferred range (sc_net.pd_defer, delay D) holds
 * the counts of step - D, which the SC_BK_POIS item drained at `step` stands for. A cache line
 * per part: its runner writes it at every step. */
typedef struct sc_drawn_row { const uint16_t *row; const int64_t *off; int64_t step, unused[5]; } sc_drawn_row;

typedef struct sc_net {
    /* sizes */
    int64_t n_neurons, n_channels, ring_len, n_pops, n_pre, n_parts;
    int64_t n_team;                          /* threads that run the parts (1 <= n_team <= n_parts): _kernel_impl.h, sc_run */
    int64_t window;                          /* steps between thread meetings, <= smallest neuron->neuron delay */
    double dt;
    /* per population: its model's update (sc_update_function) and what the step loop reads */
    const sc_update_fn *pop_update;
    const sc_update_fn *pop_reset;           /* NULL, or per population NULL or a function run every step after
                                                the threshold (sc_block.spikes, due): equation-defined models */
    const int32_t *pop_ref_steps;
    const int32_t *pop_jump_input;           /* 1: synapses make v jump (no receptor state; ring slots are v's) */
    const int64_t *pop_start, *pop_size, *pop_n_rec, *pop_rec_start, *pop_chan_start;
    const int32_t *pop_has_drive;
    const int32_t *pop_ring_input;           /* 0: no synapse reaches it through the ring */
    const double *pop_vth, *pop_vreset, *pop_decay_mem;   /* pop_vth: the smallest where per neuron */
    const int32_t *pop_neuron_thr;           /* 1: threshold, reset and refractory period per neuron (below) */
    const void *neuron_vth, *neuron_vreset;  /* REAL per neuron (read where pop_neuron_thr) */
    const int32_t *neuron_ref;               /* refractory steps per neuron (read where pop_neuron_thr) */
    const double *pop_d0;                    /* the drive without injected current (used where pop_has_drive is 0) */
    const double *pop_param;                 /* every population's model parameters, from pop_param_start[p] */
    const int64_t *pop_param_start;
    const int64_t *pop_nparam_start;         /* first entry of the population's per-neuron parameters in nparam, -1: none */
    const int64_t *pop_xstate_start;         /* first entry of the population's further state in xstate */
    const int64_t *pop_vth_state;            /* entry in xstate of the population's per-neuron threshold, which its
                                                update writes each step (NeuronModel.threshold_state); -1: the
                                                scalar pop_vth */
    /* per receptor */
    const double *rec_decay, *rec_coef, *rec_erev, *rec_tau;
    /* thread t updates neurons [part[p*(T+1)+t], part[p*(T+1)+t+1]) of population p
     * and owns their channels: every synapse onto them is in t's part of the CSR */
    const int64_t *part;
    /* state (double or float, per the entry point) */
    void *v, *syn, *drive, *ring;
    void *xstate;                            /* further state variables (sc_block.xstate), population after population */
    const void *nparam;                      /* per-neuron parameters (sc_block.nparam), population after population */
    int64_t *free_at;                        /* first step each neuron is not refractory (_kernel_impl.h) */
    const int32_t *neuron_pop;
    /* synapses: for thread t, row `pre` is synapses [row_ptr[t*(n_pre+1)+pre], ...+1)
     * sorted by delay, split into segments [seg_ptr[..pre], seg_ptr[..pre+1]) of equal
     * delay seg_delay[g] & 0x7fff and length seg_len[g]; bit 0x8000 marks segments onto
     * current or conductance channels, whose touched channels are listed per slot */
    const int64_t *row_ptr, *seg_ptr;
    const uint16_t *seg_delay, *seg_len, *seg_block;
    const uint16_t *syn_chan;                /* target channel - (seg_block << 16) */
    const void *syn_weight;                  /* empty when every row has one weight */
    const void *row_w;                       /* T*n_pre: the row's weight if all equal, else NaN */
    /* packed synapses (the compact table, simulator.py): thread t's part of row `pre` is
     * pk_syn[pk_ptr[t*(n_pre+1)+pre] .. +1), in the IR's synapse order (bucket mode: by delay,
     * below); each entry is
     * channel << 9 | sparse << 8 | delay (steps, 1..255); pk_w the float32 weight per
     * synapse (empty when every row has one weight: pk_row_w, T*n_pre, else NaN) */
    int64_t n_pk;
    const int64_t *pk_ptr;
    const uint32_t *pk_syn;
    const float *pk_w;
    const void *pk_row_w;
    /* bucket mode: each row of the packed table is sorted by delay (stably: synapses of one delay
     * keep the IR's order, so each cell still receives a row's inputs in that order) and cut into
     * groups of one delay, thread t's row `pre` having groups pk_grp[pk_gptr[t*(n_pre+1)+pre] ..
     * +1), each length << 8 | delay, in the row's order (empty in ring mode: the IR's order) */
    const int64_t *pk_gptr;
    const uint32_t *pk_grp;
    /* sparse fold: per slot, the channels of thread t touched so far are
     * touched[slot*C + chan_ofs[t] ..][0 .. touched_n[SC_TOUCHED_N(net, slot, t)]); thread t's
     * marks SC_MARK(net, t, slot)[c] say c is listed. Each thread has marks of its own (T*L*C
     * bytes): with one byte per channel, a cache line of shared marks held the channels of both
     * threads wherever a population's range boundary or a receptor block did not fall on a
     * multiple of 64 channels, and both threads wrote it at every push and fold (CUBA: three
     * such lines per slot). NULL mark: no such synapses. */
    int32_t *touched;
    int64_t *touched_n;
    uint8_t *mark;
    const int64_t *chan_ofs;
#define SC_MARK(net, t, slot) ((net)->mark + ((int64_t)(t) * (net)->ring_len + (slot)) * (net)->n_channels)
    /* Bucket delivery (_kernel_impl.h, delivery buckets; NULL bk: ring mode). Thread t's events
     * bound for ring slot `slot` are bk[(t*ring_len + slot)*bk_cap ..][0 .. bk_n[SC_BUCKET_N(net,
     * slot, t)]) in the order they were pushed, 8 bytes each (16 for a double value that is not a
     * float: SC_BK_* below); a full bucket is added into its slot at once. Empty between calls. */
    uint64_t *bk;
    int64_t *bk_n;
    int64_t bk_cap;
    /* Bucket mode's hot slots, set by sc_run for the call (NULL otherwise): the input of the step
     * being run and of the one before is added into one of three slots of C channels,
     * SC_HOT_INDEX(net, slot), with marks of their own (thread t's at hot_mark + (t*3 + h)*C) and
     * no lists of touched channels (the fold reads the thread's channels and their marks in
     * order: most are touched at every step where buckets pay): a few MB that stay in the cache,
     * where the ring's slot of a step was last used ring_len steps before. The ring itself receives
     * only full buckets and, when a call returns, every bucket (so that between calls it holds all
     * pending input, as in ring mode); hot_big[t*hot_big_stride + slot] says thread t's channels of
     * that slot may hold such input, which moves to the hot slot before the slot's bucket is added. */
    void *hot;
    uint8_t *hot_mark;
    uint8_t *hot_big;
    int64_t hot_big_stride;
    /* and the buckets' chunks, for the call: thread t's part of bk is a pool of ck_per_thread
     * chunks of ck_len entries; its bucket of slot `slot` is the chain from bk_head[t*hot_big_stride
     * + slot] through ck_next[t*ck_per_thread + chunk] to bk_tail[..] (-1: empty), each chunk
     * holding ck_fill[..] entries, the tail bk_n[SC_BUCKET_N(net, slot, t)]; the free chunks are
     * a stack, ck_free[t*ck_per_thread ..][0 .. ck_top[t*8]), so that the chunk drained last (in
     * the cache) is filled next: the buckets' memory is what they hold, not ring_len slots of it */
    int64_t ck_len, ck_per_thread;
    int32_t *ck_next, *ck_fill, *ck_free, *bk_head, *bk_tail;
    int64_t *ck_top;
    /* a team's deferred Poisson counts drawn ahead (sc_scratch.win_cnt), for the call: part t's
     * pd_drawn[t] (NULL: none) */
    struct sc_drawn_row *pd_drawn;
#define SC_HOT_INDEX(net, slot) ((slot) == (net)->ring_len - 1 ? 2 : (slot) & 1)
    /* spike-source events sorted by step; ev_ptr persists between calls */
    int64_t n_ev, ev_ptr;
    const int64_t *ev_step;
    const int32_t *ev_pre;
    /* Poisson sources: presynaptic indices pois_base + [0, n_pois); node q covers
     * [pn_first[q], pn_first[q] + pn_size[q]), draws the counter-based stream of
     * spikecore.ir.poisson_counts from pn_seed[q] and is active at steps
     * [pn_on[q], pn_off[q]); neuron k uses the CDF table cdf[pt_off[k] .. +pt_len[k]) */
    int64_t pois_base, n_pois, n_pnodes;
    const int64_t *pn_first, *pn_size, *pn_on, *pn_off;
    const int64_t *pn_toff;                  /* the node's table offset when all its neurons share one, else -1 */
    const int32_t *pn_tlen;
    const uint64_t *pn_seed;
    const int64_t *pr_lo, *pr_hi;            /* T*n_pnodes: node neurons [lo, hi) with synapses in thread t's part */
    /* T*n_pnodes: when each row of that range has exactly one synapse in t's part, onto
     * a densely folded channel, its (channel, delay, weight) start at pd_*[pd_off]; else -1 */
    const int64_t *pd_off;
    /* T*n_pnodes, bucket mode: the one delay (steps, >= 1) of every row of such a range whose counts
     * are drawn when their slot's bucket is drained (an SC_BK_POIS item marks their place among the
     * slot's inputs) instead of being drawn and appended at their step; else 0 */
    const int64_t *pd_defer;
    /* T*n_pnodes: 1 where such a range's channels follow one another (pd_chan[pd_off + k] =
     * pd_chan[pd_off] + k: a one-to-one drive), so that draining its item adds its counts in a
     * vectorised loop */
    const uint8_t *pd_contig;
    const int32_t *pd_chan;
    const uint16_t *pd_delay;
    const void *pd_weight;
    const int64_t *pt_off;
    const int32_t *pt_len;
    const double *cdf;
    /* state monitors: entry e samples kind/idx every `every` steps; the runner of part rec_owner[e] writes it */
    int64_t n_rec;
    const int32_t *rec_kind, *rec_owner;
    const int64_t *rec_idx, *rec_every;
    /* CPU seconds each thread of the team spent in sc_run, accumulated over calls (length n_team) */
    double *thread_cpu;
    /* 1: a team of T > 1 threads runs pinned, one thread per CPU of the calling thread's
     * affinity mask, for the call (sc_pin_plan in _kernel.c); 0 (Kernel's default): where
     * the OS puts them */
    int32_t pin_threads;
    /* How a team shares the parts out (sc_split, _kernel.c): SC_SPLIT_ADAPTIVE (Kernel's default)
     * moves the split to the threads' measured speeds, SC_SPLIT_EVEN keeps the even one (what the
     * team did before: the baseline of benchmarks/threads.py's "2e"), SC_SPLIT_CYCLE moves it at
     * every window through every split (the tests: results must not change) */
    int32_t split_mode;
    /* Per-window phase profile (Kernel.profile_windows; NULL: off). Thread t writes its w-th
     * window since profiling began at ph_log[(t*ph_cap + w)*SC_PH_N + k], k = SC_PH_*, in
     * ticks of sc_ticks (ns = ticks * Kernel.tick_ns), while w < ph_cap; ph_n[t*8] counts its
     * windows (8 apart: one cache line per thread). */
    int64_t *ph_log;
    int64_t *ph_n;
    int64_t ph_cap;
    /* plastic synapses (spikecore.engine.simulator, module docstring), outside the static
     * table. Thread t's segments of row `pre` are [pl_seg_ptr[t*(n_pre+1)+pre], ..+1): segment
     * g is synapses [pl_seg_start[g], pl_seg_start[g+1]) of one projection pl_seg_proj[g] and
     * one delay pl_seg_delay[g]. Per synapse: target channel, projection, weight, rule state,
     * last event step. A spike at step s queues (g | count << 48) in thread t's list of slot
     * (s + delay) % ring_len (pl_q from pl_qofs[t] + slot * pl_qcap[t], pl_qn[slot*T + t]
     * entries); at that step the rule's pre function runs for each synapse of the segment and
     * its result is added to the ring slot pl_seg_dend[g] steps later (0 unless part of the
     * delay is dendritic). A neuron's spike runs the post function on the synapses onto it,
     * pl_post_syn[pl_post_ptr[k] .. pl_post_ptr[k+1]), in groups of one post delay: group x
     * (pl_pg_ptr[k] .. pl_pg_ptr[k+1]) covers pl_post_syn[pl_pg_start[x] .. pl_pg_end[x]);
     * delay 0 runs at the spike, delay D > 0 queues x in thread t's post list of slot
     * (s + D) % ring_len (pl_pq from pl_pqofs[t] + slot * pl_pqcap[t], pl_pqn[slot*T + t]),
     * run at that step after the presynaptic arrivals. */
    int64_t n_pl_seg;                        /* 0: no plastic synapses */
    const int64_t *pl_seg_ptr, *pl_seg_start;
    const int32_t *pl_seg_delay, *pl_seg_proj, *pl_seg_dend;
    const int64_t *pl_pg_ptr, *pl_pg_start, *pl_pg_end;
    const int32_t *pl_pg_delay;
    int64_t *pl_pq, *pl_pqn;
    const int64_t *pl_pqofs, *pl_pqcap;
    const int32_t *pl_chan, *pl_syn_proj;
    void *pl_w, *pl_state;                   /* weight; rule state: pl_nstate per synapse, synapse-major */
    int64_t pl_nstate;
    int64_t *pl_last;
    const int64_t *pl_post_ptr, *pl_post_syn;
    const double *pl_param;                  /* per projection from pl_param_start[q] */
    const int64_t *pl_param_start;
    const int32_t *pl_sparse;                /* per projection: 1 where it feeds synaptic variables */
    const sc_plastic_pre_fn *pl_pre;
    const sc_plastic_post_fn *pl_post;
    int64_t *pl_q, *pl_qn;
    const int64_t *pl_qofs, *pl_qcap;
    /* neuromodulator rows: a spike of a modulator neuron reaches every synapse of the
     * projections it modulates. Thread t's modulator segments of row `pre` are
     * [pl_mod_ptr[t*(n_pre+1)+pre], ..+1); segment g covers projection pl_mod_proj[g]'s
     * synapses of thread t, pl_mod_syn[pl_mod_start[g] .. pl_mod_end[g]) (segments of one
     * projection and thread share the list), after pl_mod_delay[g] steps. Queued with the
     * plastic segments as n_pl_seg + g. */
    int64_t n_pl_mod;
    const int64_t *pl_mod_ptr, *pl_mod_start, *pl_mod_end, *pl_mod_syn;
    const int32_t *pl_mod_delay, *pl_mod_proj;
    const sc_plastic_mod_fn *pl_mod;
    /* Lazy postsynaptic updates, for the projections with pl_lazy[q] (a rule with a post
     * function and no modulator): a target's spike is not applied to its synapses at once
     * (their post groups, pl_pg_lazy[x] = 1, are never queued) but noted in the target's
     * history, and each synapse catches up with the spikes it has not seen when its next
     * presynaptic spike arrives -- walking the presynaptic row, in memory order -- or when
     * sc_plastic_settle brings every synapse up to a step (before Python reads weights).
     * Per synapse the same calls in the same order as the eager updates: the same numbers.
     * History of neuron k: its spike steps pl_hist[k*H + (head + i) % H], i < len, where
     * head and len are pl_hpos[k] (with copies of the newest steps), H = pl_hist_len (a power
     * of two). A full history is settled: every synapse onto k applies what it has not, and
     * the spikes every synapse has seen are dropped (those of steps s with s + pl_hist_dmax
     * before the settled step; pl_hist_dmax is the longest post delay of a lazy synapse).
     * A synapse with post delay D sees the spike of step s at s + D
     * (pl_seg_pdel per segment, pl_pg_delay per group); pl_pdone[syn] = 1 when its last
     * event (pl_last) was a postsynaptic one, so a spike seen at that same step is applied. */
    const int32_t *pl_lazy, *pl_seg_pdel, *pl_pg_lazy, *pl_chan_neuron, *pl_nin;
    int32_t pl_chan_is_neuron;               /* 1: pl_chan_neuron[c] == c for every plastic channel c */
    int32_t pl_chan_distinct;                /* 1: the channels of every plastic segment all differ */
    int64_t pl_hist_len, pl_hist_dmax;
    int64_t *pl_hist;
    sc_hist_pos *pl_hpos;
    uint8_t *pl_pdone;
    /* The shared-trace layout (NEST's), for the lazy stdp_pair projections whose synapses all
     * see their target's spikes at once (post delay 0): pl_fast[q] = 1 + q's slot, else 0.
     * Such a synapse holds only its weight (its pl_state, pl_last, pl_pdone are not used):
     * segment g's presynaptic trace is pl_seg_x[g] (REAL) after its last arrival at step
     * pl_seg_last[g], and its synapses have applied every target spike before step
     * pl_seg_from[g]; neuron k's postsynaptic trace for slot f is the record
     * pl_fpost[f*n_neurons + k] (sc_fast_post, _kernel_impl.h: the step of its newest spike, the
     * trace at the step, the offsets of the spikes before the newest, the trace just after it). A full history settles the thread's shared-trace segments up to the step
     * (pl_fast_done[t*8]: the step they are all settled to); pl_nin_slow[k] counts the lazy
     * synapses onto k that are not of this layout. pl_fast_proj[f]: slot f's projection. */
    const int32_t *pl_fast, *pl_fast_proj, *pl_nin_slow;
    const int64_t *pl_fast_nrn_ptr;          /* thread t's shared-trace targets: pl_fast_nrn[ptr[t] .. ptr[t+1]) */
    const int32_t *pl_fast_nrn;
    int64_t n_pl_fast;
    void *pl_seg_x;
    int64_t *pl_seg_last, *pl_seg_from;
    void *pl_fpost;
    int64_t *pl_fast_done;
} sc_net;

/* Step from n0 towards n1. Stops early, before a step, when the spike output could
 * overflow `cap`; returns the next step and leaves the spike count in *out_n;
 * -1 if scratch memory could not be allocated, -2 if OpenMP gave fewer threads. */
int64_t sc_run_f64(sc_net *net, int64_t n0, int64_t n1, int64_t *out_step, int32_t *out_idx,
                   int64_t *out_n, int64_t cap, double *rec_out, int64_t *rec_pos);
int64_t sc_run_f32(sc_net *net, int64_t n0, int64_t n1, int64_t *out_step, int32_t *out_idx,
                   int64_t *out_n, int64_t cap, double *rec_out, int64_t *rec_pos);
/* Poisson counts of presynaptic Poisson neurons [k0, k1) at step n (tests compare
 * them with the numpy definition in spikecore.ir.poisson_counts). */
void sc_poisson_counts(const sc_net *net, int64_t n, int64_t k0, int64_t k1, uint16_t *out);
int sc_openmp_enabled(void);
/* Whether the shared-trace stdp_pair rows of float64 runs use the AVX-512 form
 * (_plastic_vec.h; the default where the CPU has it) or the scalar loop: the same bits.
 * Returns whether the AVX-512 form is used from now on. */
int sc_set_plastic_simd(int enable);
/* The profile's clock (sc_net.ph_log): the CPU's time-stamp counter where there is one, else ns */
int64_t sc_ticks(void);
/* The registered update of model `name` for float (single) or double state; NULL if none. */
sc_update_fn sc_update_function(const char *name, int single);
/* y[k] = exp(x[k]) (expf: float), bit for bit the C library's, as the updates evaluate them
 * (_vexp.h); sc_exp_vector_enabled: 1 where the vector path of double (single = 0) or float
 * (single = 1) state passed its check and is used, else 0. */
void sc_exp_values(double *y, const double *x, int64_t n);
void sc_expf_values(float *y, const float *x, int64_t n);
int sc_exp_vector_enabled(int single);
/* The registered functions of plasticity rule `name` (0 if none, else 1). */
int sc_plastic_rule(const char *name, int single, sc_plastic_pre_fn *pre, sc_plastic_post_fn *post,
                    sc_plastic_mod_fn *mod);
/* A modulator event at step n on synapses syn[0 .. n_syn) of plastic projection q (set = 0: a
 * modulator spike; 1: the signal takes `value`); run between sc_run calls. */
void sc_modulate_f64(sc_net *net, int32_t q, const int64_t *syn, int64_t n_syn, int64_t n, double value, int set);
void sc_modulate_f32(sc_net *net, int32_t q, const int64_t *syn, int64_t n_syn, int64_t n, double value, int set);
/* Apply every lazy postsynaptic update seen before step n (sc_net, lazy postsynaptic updates):
 * afterwards the weights and traces equal the eager updates' at the start of step n. Between
 * sc_run calls, before the weights are read. */
void sc_plastic_settle_f64(sc_net *net, int64_t n);
void sc_plastic_settle_f32(sc_net *net, int64_t n);

#endif
