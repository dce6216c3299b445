/* Slow path of the precise-timing kernel (_precise.pyx): collecting the events of the
 * neurons replayed in a step, the exact replay of each, and the types the kernel shares
 * with it.
 *
 * A neuron whose fast-path bound reaches threshold, or whose refractory period ends or
 * current changes inside the step, is replayed from its events of the step.
 * pc_collect_and_replay finds them (the synapse groups due, scanned for the replayed
 * neurons' channels; the off-grid events due; the Poisson spikes, redrawn), and
 * pc_replay_neuron sorts them by offset and propagates the state exactly from event to
 * event. Between events a
 * crossing is found
 *   lif_delta: in closed form, t = tau_m log((J - v)/(J - v_th)) (v is monotone there);
 *   lif_cuba:  by a bisection on the curvature bound that discards subintervals that
 *              cannot reach threshold (pc_cuba_crossing), then safeguarded Newton on the
 *              exact propagator (pc_cuba_root) once v provably rises on the bracket.
 * A neuron whose refractory period ends inside the step and provably stays below
 * threshold after it takes a closed form without the walk. The semantics (threshold at
 * v >= v_th, events of one instant applied together, a refractory end before the events
 * of its instant) are the module docstring's of _precise.pyx.
 *
 * Compiled into the kernel's module with its flags (-O3 -fno-trapping-math
 * -ffp-contract=off): no FMA contraction, so results do not depend on the CPU. The
 * arithmetic is written in the order the kernel's Cython wrote it, operation for
 * operation (tests/regression/test_golden.py holds the spike times to the bit).
 */
#ifndef SPIKECORE_PRECISE_REPLAY_H
#define SPIKECORE_PRECISE_REPLAY_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "_precise_fast.h"

/* the kernel's algorithms (precise.KIND_*) */
#define PC_MODEL_DELTA 0
#define PC_MODEL_CUBA 1
/* receptors per population the replay holds on its stack (precise.MAX_RECEPTORS) */
#define PC_MAX_RECEPTORS 8
/* depth of the crossing search's interval stack */
#define PC_SEARCH_STACK 96
/* Newton on a bracket stops when its step is below this (seconds) plus a few ulps */
#define PC_ROOT_XTOL 1e-17
#define PC_ROOT_MAXITER 100
/* the crossing search stops splitting below this fraction (2^-40) of the piece: an
 * excursion above threshold narrower than that counts as grazing */
#define PC_SEARCH_MIN_FRACTION 9.094947017729282e-13
/* ref_end_step of a neuron that is not refractory */
#define PC_NO_REFRACTORY (-4611686018427387904LL)

/* ---------------------------------------------------------------- the one growable buffer
 * `n` items of one type at `data`, room for `cap`. Every buffer of the kernel whose length
 * the run decides is one: the step slots' queues, the events of the neurons replayed in a
 * step, the spike output, the Poisson scratch arrays. */
typedef struct {
    void *data;
    int64_t n;
    int64_t cap;
} pc_buf;

/* Room for at least `need` items of `item` bytes (capacity doubles); -1 when out of memory
 * (b unchanged). */
static inline int pc_reserve(pc_buf *b, int64_t need, size_t item)
{
    int64_t c = b->cap;
    if (need <= c)
        return 0;
    while (c < need)
        c = 2 * c + 256;
    void *q = realloc(b->data, (size_t)c * item);
    if (q == NULL)
        return -1;
    b->data = q;
    b->cap = c;
    return 0;
}

static inline void pc_release(pc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->n = 0;
    b->cap = 0;
}

/* One event on one synapse: synapse `syn` with weight `w` arrives on channel `chan` at
 * offset `off` of its step (the weight travels with the event: read from the synapse
 * array during the replay, each was a cache miss on the critical path). */
typedef struct {
    double off;
    double w;
    int32_t chan;
    int32_t syn;
} pc_event;

/* A spike queued for one synapse group (same presynaptic neuron, whole-step delay and
 * target receptor): it arrives at offset `off` (s, in (0, dt]) of its slot's step on every
 * synapse of group `grp`. The fast path got its sums when it arrived; the replay finds a
 * neuron's events by scanning the groups' synapses. */
typedef struct {
    double off;
    int32_t grp;
    int32_t pad;
} pc_entry;

/* What is due in one step: spikes by synapse group (pc_entry), events of off-grid synapses
 * (pc_event: their arrival offsets differ per synapse). */
typedef struct {
    pc_buf en;
    pc_buf ev;
} pc_slot;

/* A Poisson synapse as the replay reads it: weight, delay remainder, synapse, source
 * (0-based among the Poisson neurons), channel and whole-step delay, together in 32 bytes
 * (read at random per replayed neuron: one cache line, not six). */
typedef struct {
    double w;
    double rem;
    int32_t syn;
    int32_t src;
    int32_t chan;
    int32_t dsteps;
} pc_pin;

/* An event found for a neuron replayed this step, with the neuron's index in the slow list. */
typedef struct {
    pc_event ev;
    int32_t k;
    int32_t pad;
} pc_hit;

/* A spike emitted by a neuron: its step, its offset in the step, the neuron. */
typedef struct {
    int64_t step;
    double off;
    int32_t idx;
    int32_t pad;
} pc_spike;

/* What the replay reads and writes: the kernel's arrays (views of
 * spikecore.engine.precise_records), set once by the kernel's constructor. */
typedef struct {
    double dt;
    /* per population */
    const int32_t *pop_model;
    const int64_t *pop_start, *pop_size, *pop_n_rec, *pop_rec_start, *pop_chan_start, *pop_ref_steps;
    const double *pop_vth, *pop_vreset, *pop_tm, *pop_ref_rem;
    /* per receptor: tau_syn, the synaptic kernel's coefficients, its peak */
    const double *rec_tk, *rec_ck, *rec_delta, *rec_kmax;
    const int32_t *rec_near;
    /* per channel: its receptor */
    const int32_t *chan_rec;
    /* state */
    double *v, *syn, *drive, *ref_end_off;
    int64_t *ref_end_step;
    const int32_t *neuron_pop;
    /* current changes (sorted by step, neuron, offset) and each neuron's first of this step */
    const int64_t *drv_step;
    const double *drv_off, *drv_delta;
    const int32_t *drv_neuron;
    int64_t n_drv;
    const int64_t *drv_first;
    /* exp(-k/PC_EXP_SCALE), k < exptab_n (NULL: libm) */
    const double *exptab;
    int64_t exptab_n;
    /* synapse groups: CSR by presynaptic index, per group its synapses, receptor, weight
     * (NaN: they differ), whether off the grid; per synapse its channel (also as uint16
     * where chan16) and weight */
    const int64_t *pre_grp, *grp_start;
    const int32_t *grp_offgrid, *grp_rec, *syn_chan;
    const double *grp_w, *syn_weight;
    const uint16_t *syn_chan16;
    int chan16;
    /* the queues, one slot per step of the ring */
    const pc_slot *slots;
    int64_t ring_len;
    /* Poisson inputs: synapses by target neuron, counts of the last ring_len steps by
     * slot, the offsets' key, the windows (pois_windowed: any of them finite) */
    const pc_pin *pin;
    const int64_t *pin_ptr;
    int64_t n_pois;
    const uint16_t *pring;
    uint64_t pois_key;
    int pois_windowed;
    const double *pois_start, *pois_stop;
    /* the neurons replayed this step (slow), their event counts (slow_cnt); per channel the
     * neuron's index in slow (slowc, else -1) and a mark (slowmark); per receptor how many
     * (rec_nslow); scratch of the group scans (scan_out) */
    const int32_t *slow;
    int64_t *slow_cnt;
    int32_t *slowc;
    uint8_t *slowmark;
    int64_t *rec_nslow;
    int64_t *scan_out;
    /* the events found (hits) and, grouped by neuron, the replay's input (events) */
    pc_buf *hits, *events;
    /* neurons refractory at the end of their last step: list, membership, length */
    int32_t *rlist;
    char *rin;
    int64_t *rl_n;
} pc_replay;

/* The state of a cuba neuron at one time, as the crossing search needs it: v, and over the
 * receptors the sums of positive and negative syn and of |syn|/tau_syn. */
typedef struct {
    double v;
    double pos;
    double neg;
    double sabs;
} pc_probe;

/* exp(-x): for 0 <= x <= dt/min(tau) from the table (pc_exp_tab, ~1 ulp), else libm. */
static inline double pc_expn(const double *tab, int64_t tab_n, double x)
{
    if (tab == NULL || !(x >= 0.0) || x * PC_EXP_SCALE >= tab_n - 1)
        return exp(-x);
    return pc_exp_tab(x, tab);
}

/* Response of v at time t to syn = 1 at time 0: tau_k/(tau_k - tau_m) (e^{-t/tau_k} - e^{-t/tau_m}),
 * given em = e^{-t/tau_m}, ek = e^{-t/tau_k}; near: tau_k close to tau_m, the expm1 form. */
static inline double pc_coef(int near, double ck, double dlt, double tk, double tm, double t, double em, double ek)
{
    if (near) {
        if (dlt == 0.0)
            return t / tm * em;
        return em * tk / dlt * expm1(t * dlt / (tk * tm));
    }
    return ck * (ek - em);
}

/* Neuron i spikes at offset `off` of step n. Its off-grid synapses are read when it is
 * queued at the end of the step: their rows start loading now (an on-grid group's row is
 * read on arrival, the kernel's _deliver loads it). */
static inline int pc_emit(const pc_replay *R, pc_buf *spikes, int64_t n, double off, int32_t i)
{
    if (spikes->n == spikes->cap && pc_reserve(spikes, spikes->n + 1, sizeof(pc_spike)) != 0)
        return -1;
    pc_spike *sp = (pc_spike *)spikes->data + spikes->n;
    sp->step = n;
    sp->off = off;
    sp->idx = i;
    spikes->n += 1;
    for (int64_t g = R->pre_grp[i]; g < R->pre_grp[i + 1]; g++)
        if (R->grp_offgrid[g])
            pc_prefetch_row(R->syn_chan, R->grp_start[g], R->grp_start[g + 1]);
    return 0;
}

/* Neuron i spiked at offset t of step n: refractory until t + t_refrac (step and offset);
 * *t_ref_end becomes that offset if it falls inside step n, else +inf. */
static inline void pc_start_refractory(const pc_replay *R, int64_t p, int64_t n, int32_t i, double t,
                                       double *t_ref_end)
{
    double h = R->dt, eo = t + R->pop_ref_rem[p];
    int64_t est = n + R->pop_ref_steps[p];
    if (eo > h) {
        eo -= h;
        est += 1;
    }
    R->ref_end_step[i] = est;
    R->ref_end_off[i] = eo;
    *t_ref_end = est == n ? eo : INFINITY;
}

/* State at time t of a cuba piece that starts with (v0, s0) and has no events. */
static inline void pc_cuba_probe(const pc_replay *R, int64_t p, double v0, const double *s0, double d, double t,
                                 pc_probe *out)
{
    double tm = R->pop_tm[p], em = pc_expn(R->exptab, R->exptab_n, t / R->pop_tm[p]), ek, sk, tk;
    int64_t rec0 = R->pop_rec_start[p];
    out->v = d + (v0 - d) * em;
    out->pos = 0.0;
    out->neg = 0.0;
    out->sabs = 0.0;
    for (int64_t r = 0; r < R->pop_n_rec[p]; r++) {
        tk = R->rec_tk[rec0 + r];
        ek = pc_expn(R->exptab, R->exptab_n, t / tk);
        out->v += s0[r] * pc_coef(R->rec_near[rec0 + r], R->rec_ck[rec0 + r], R->rec_delta[rec0 + r], tk, tm, t, em,
                                  ek);
        sk = s0[r] * ek;
        if (sk > 0.0) {
            out->pos += sk;
            out->sabs += sk / tk;
        } else {
            out->neg += sk;
            out->sabs -= sk / tk;
        }
    }
}

/* Safeguarded Newton for v(t) = v_th on [a, b], fa < 0 <= fb. */
static double pc_cuba_root(const pc_replay *R, int64_t p, double v0, const double *s0, double d, double a, double b,
                           double fa, double fb)
{
    double vth = R->pop_vth[p], tm = R->pop_tm[p], x, xn, f, fp, tol;
    pc_probe P;
    if (fb == 0.0)
        return b;
    x = a - fa * (b - a) / (fb - fa);
    if (!(x > a && x < b))
        x = 0.5 * (a + b);
    for (int it = 0; it < PC_ROOT_MAXITER; it++) {
        pc_cuba_probe(R, p, v0, s0, d, x, &P);
        f = P.v - vth;
        if (f == 0.0)
            return x;
        if (f > 0.0)
            b = x;
        else
            a = x;
        fp = (d + P.pos + P.neg - P.v) / tm;
        if (fp > 0.0)
            xn = x - f / fp;
        else
            xn = 0.5 * (a + b);
        if (!(xn > a && xn < b))
            xn = 0.5 * (a + b);
        tol = PC_ROOT_XTOL + 4.0 * DBL_EPSILON * fabs(xn);
        if (fabs(xn - x) <= tol || b - a <= tol)
            return xn;
        x = xn;
    }
    return b;
}

/* First t in (0, tau] with v(t) >= v_th of a cuba piece without events, or -1; v0 < v_th.
 * On [a, b], v <= max(v(a), v(b)) + M (b - a)^2 / 8 with M >= |v''| from
 * tau_m v'' = J' - v' (J = drive + sum syn, |v'| <= range(v, J)/tau_m). */
static double pc_cuba_crossing(const pc_replay *R, int64_t p, double v0, const double *s0, double d, double tau)
{
    double vth = R->pop_vth[p], tm = R->pop_tm[p], tc;
    int64_t nr = R->pop_n_rec[p], rec0 = R->pop_rec_start[p], sp = 0;
    int has_syn = 0;
    double sa[PC_SEARCH_STACK], sb[PC_SEARCH_STACK];
    pc_probe pa[PC_SEARCH_STACK], pb[PC_SEARCH_STACK];
    pc_probe A, B, Mp;
    double a, b, m, jmax, jmin, hi, lo, M, ub, min_w = tau * PC_SEARCH_MIN_FRACTION;
    for (int64_t r = 0; r < nr; r++)
        if (s0[r] != 0.0)
            has_syn = 1;
    if (!has_syn) {
        /* no synaptic drive: v relaxes monotonically to d, closed form */
        if (d + (v0 - d) * pc_expn(R->exptab, R->exptab_n, tau / tm) < vth)
            return -1.0;
        tc = tm * log((d - v0) / (d - vth));
        if (!(tc > 0.0))
            tc = 0.0;
        return tc < tau ? tc : tau;
    }
    A.v = v0;
    A.pos = 0.0;
    A.neg = 0.0;
    A.sabs = 0.0;
    for (int64_t r = 0; r < nr; r++) {
        if (s0[r] > 0.0) {
            A.pos += s0[r];
            A.sabs += s0[r] / R->rec_tk[rec0 + r];
        } else {
            A.neg += s0[r];
            A.sabs -= s0[r] / R->rec_tk[rec0 + r];
        }
    }
    pc_cuba_probe(R, p, v0, s0, d, tau, &B);
    sa[0] = 0.0;
    sb[0] = tau;
    pa[0] = A;
    pb[0] = B;
    sp = 1;
    while (sp > 0) {
        sp -= 1;
        a = sa[sp];
        b = sb[sp];
        A = pa[sp];
        B = pb[sp];
        jmax = d + A.pos + B.neg;
        jmin = d + B.pos + A.neg;
        hi = A.v > jmax ? A.v : jmax;
        lo = A.v < jmin ? A.v : jmin;
        M = (A.sabs + (hi - lo) / tm) / tm;
        ub = (A.v > B.v ? A.v : B.v) + M * (b - a) * (b - a) / 8.0;
        if (B.v >= vth) {
            if (jmin > ub || b - a <= min_w || sp + 2 > PC_SEARCH_STACK)
                /* v rises on all of [a, b]: the only crossing there */
                return pc_cuba_root(R, p, v0, s0, d, a, b, A.v - vth, B.v - vth);
        } else {
            if (ub < vth || b - a <= min_w || sp + 2 > PC_SEARCH_STACK)
                continue;
        }
        m = 0.5 * (a + b);
        pc_cuba_probe(R, p, v0, s0, d, m, &Mp);
        if (Mp.v < vth) {
            sa[sp] = m;
            sb[sp] = b;
            pa[sp] = Mp;
            pb[sp] = B;
            sp += 1;
        }
        sa[sp] = a;
        sb[sp] = m;
        pa[sp] = A;
        pb[sp] = Mp;
        sp += 1;
    }
    return -1.0;
}

/* Replay neuron i over step n from its n_ev events `ev` (any order; sorted here, in place
 * or in a copy), emitting its spikes into `spikes`. Returns -1 when out of memory. */
static int pc_replay_neuron(const pc_replay *R, pc_buf *spikes, int64_t n, int32_t i, pc_event *ev, int64_t n_ev)
{
    const double *tab = R->exptab;
    int64_t tab_n = R->exptab_n;
    int64_t p = R->neuron_pop[i];
    int32_t model = R->pop_model[p];
    double h = R->dt, vth = R->pop_vth[p], vreset = R->pop_vreset[p], tm = R->pop_tm[p];
    /* delta neurons have no synaptic variables (their one channel is a v jump) */
    int64_t nr = model == PC_MODEL_CUBA ? R->pop_n_rec[p] : 0;
    int64_t rec0 = R->pop_rec_start[p], chan0 = R->pop_chan_start[p];
    int64_t size = R->pop_size[p], local = i - R->pop_start[p];
    int64_t k = 0, q;
    int has_ref = R->pop_ref_steps[p] > 0 || R->pop_ref_rem[p] > 0.0;
    double s[PC_MAX_RECEPTORS];
    double v = R->v[i], d = R->drive[i], t = 0.0, t_next, tau, tc, ts, em, ek, vn, tk;
    int refr = R->ref_end_step[i] >= n;
    double t_ref_end = R->ref_end_step[i] == n ? R->ref_end_off[i] : INFINITY;
    pc_event tmp[PC_RANK_MAX];
    double offs[PC_RANK_MAX];
    int64_t rank[PC_RANK_MAX];
    double pos, acc, ub;
    if (model == PC_MODEL_DELTA && t_ref_end <= h && R->drv_first[i] < 0) {
        /* The refractory period ends inside the step, at t_ref_end: v is v_reset until
         * then, events before it are discarded, and from then on v is its free course
         * (monotone from v_reset towards d) plus the later jumps, each at most its weight.
         * If that bound stays below threshold, the end of the step is the closed form:
         * no sort, no walk through the events (a third of Brunel's replays). */
        vn = d + (vreset - d) * pc_expn(tab, tab_n, (h - t_ref_end) / tm);
        pos = 0.0;
        acc = 0.0;
        for (int64_t a = 0; a < n_ev; a++) {
            if (ev[a].off >= t_ref_end) { /* an event at the end itself applies */
                pos += ev[a].w > 0.0 ? ev[a].w : 0.0;
                acc += ev[a].w * pc_expn(tab, tab_n, (h - ev[a].off) / tm);
            }
        }
        ub = (vreset > vn ? vreset : vn) + pos;
        if (ub + 1e-12 * (fabs(ub) + fabs(vth)) < vth) {
            R->v[i] = vn + acc;
            R->ref_end_step[i] = PC_NO_REFRACTORY;
            return 0;
        }
    }
    if (model == PC_MODEL_CUBA && n_ev == 0 && t_ref_end <= h && R->drv_first[i] < 0) {
        /* The same for lif_cuba without events in the step: syn decays while v is clamped,
         * then v's free course from v_reset at t_ref_end; bound: the leak part is
         * monotone, each receptor adds at most max(s, 0) Kmax. Below threshold, the walk
         * below would compute exactly these numbers (no search for a crossing). */
        tau = h - t_ref_end;
        em = pc_expn(tab, tab_n, tau / tm);
        vn = d + (vreset - d) * em;
        ub = vreset > vn ? vreset : vn;
        for (int64_t r = 0; r < nr; r++) {
            tk = R->rec_tk[rec0 + r];
            s[r] = R->syn[chan0 + r * size + local] * pc_expn(tab, tab_n, t_ref_end / tk);
            if (s[r] > 0.0)
                ub += s[r] * R->rec_kmax[rec0 + r];
            ek = pc_expn(tab, tab_n, tau / tk);
            vn = vn + s[r] * pc_coef(R->rec_near[rec0 + r], R->rec_ck[rec0 + r], R->rec_delta[rec0 + r], tk, tm, tau,
                                     em, ek);
            s[r] = s[r] * ek;
        }
        if (ub + 1e-12 * (fabs(ub) + fabs(vth)) < vth) {
            R->v[i] = vn;
            for (int64_t r = 0; r < nr; r++)
                R->syn[chan0 + r * size + local] = s[r];
            R->ref_end_step[i] = PC_NO_REFRACTORY;
            return 0;
        }
    }
    if (n_ev <= PC_RANK_MAX) {
        /* stable sort by offset of the handful of events a neuron has per step: each
         * event's rank counted by comparisons alone (pc_event_ranks: vectorised, no
         * data-dependent branch, which insertion sort mispredicts), then one move each */
        for (int64_t a = 0; a < n_ev; a++)
            offs[a] = ev[a].off;
        pc_event_ranks(n_ev, offs, rank);
        for (int64_t a = 0; a < n_ev; a++)
            tmp[rank[a]] = ev[a];
        ev = tmp; /* (the walk reads the sorted copy) */
    } else {
        /* insertion sort (stable) */
        for (int64_t a = 1; a < n_ev; a++) {
            pc_event key = ev[a];
            int64_t b = a - 1;
            while (b >= 0 && ev[b].off > key.off) {
                ev[b + 1] = ev[b];
                b -= 1;
            }
            ev[b + 1] = key;
        }
    }
    if (model == PC_MODEL_CUBA)
        for (int64_t r = 0; r < nr; r++)
            s[r] = R->syn[chan0 + r * size + local];
    q = R->drv_first[i];
    if (!refr && v >= vth) { /* initialised above threshold: spike at the step's start */
        if (pc_emit(R, spikes, n, 0.0, i) != 0)
            return -1;
        v = vreset;
        if (has_ref) {
            pc_start_refractory(R, p, n, i, 0.0, &t_ref_end);
            refr = 1;
        }
    }
    for (;;) {
        t_next = h;
        if (k < n_ev && ev[k].off < t_next)
            t_next = ev[k].off;
        if (q >= 0 && R->drv_off[q] < t_next)
            t_next = R->drv_off[q];
        if (refr && t_ref_end < t_next)
            t_next = t_ref_end;
        if (t_next < t)
            t_next = t;
        tau = t_next - t;
        if (tau > 0.0) {
            tc = -1.0;
            if (!refr) {
                if (model == PC_MODEL_DELTA) {
                    vn = d + (v - d) * pc_expn(tab, tab_n, tau / tm);
                    if (vn >= vth) {
                        /* v relaxes monotonically towards d > v_th: closed form */
                        tc = tm * log((d - v) / (d - vth));
                        if (!(tc > 0.0))
                            tc = 0.0;
                        if (tc > tau)
                            tc = tau;
                    } else {
                        v = vn;
                    }
                } else {
                    tc = pc_cuba_crossing(R, p, v, s, d, tau);
                    if (tc < 0.0) {
                        em = pc_expn(tab, tab_n, tau / tm);
                        vn = d + (v - d) * em;
                        for (int64_t r = 0; r < nr; r++) {
                            tk = R->rec_tk[rec0 + r];
                            ek = pc_expn(tab, tab_n, tau / tk);
                            vn = vn + s[r] * pc_coef(R->rec_near[rec0 + r], R->rec_ck[rec0 + r],
                                                     R->rec_delta[rec0 + r], tk, tm, tau, em, ek);
                            s[r] = s[r] * ek;
                        }
                        v = vn;
                    }
                }
            } else {
                for (int64_t r = 0; r < nr; r++)
                    s[r] = s[r] * pc_expn(tab, tab_n, tau / R->rec_tk[rec0 + r]);
            }
            if (tc >= 0.0) {
                ts = t + tc;
                if (ts > t_next)
                    ts = t_next;
                for (int64_t r = 0; r < nr; r++)
                    s[r] = s[r] * pc_expn(tab, tab_n, (ts - t) / R->rec_tk[rec0 + r]);
                if (pc_emit(R, spikes, n, ts, i) != 0)
                    return -1;
                v = vreset;
                t = ts;
                if (has_ref) {
                    pc_start_refractory(R, p, n, i, ts, &t_ref_end);
                    refr = 1;
                }
                continue;
            }
            t = t_next;
        }
        /* at time t: the refractory period ends first, then all events of this instant apply */
        if (refr && t_ref_end <= t) {
            refr = 0;
            t_ref_end = INFINITY;
            R->ref_end_step[i] = PC_NO_REFRACTORY;
        }
        while (k < n_ev && ev[k].off <= t) {
            if (model == PC_MODEL_DELTA) {
                if (!refr)
                    v += ev[k].w;
            } else {
                s[R->chan_rec[ev[k].chan] - rec0] += ev[k].w;
            }
            k += 1;
        }
        while (q >= 0 && R->drv_off[q] <= t) {
            d += R->drv_delta[q];
            q += 1;
            if (q >= R->n_drv || R->drv_step[q] != n || R->drv_neuron[q] != i)
                q = -1;
        }
        if (!refr && v >= vth) {
            if (pc_emit(R, spikes, n, t, i) != 0)
                return -1;
            v = vreset;
            if (has_ref) {
                pc_start_refractory(R, p, n, i, t, &t_ref_end);
                refr = 1;
            }
        }
        if (t >= h && k >= n_ev && q < 0 && !(refr && t_ref_end <= h))
            break;
    }
    R->v[i] = v;
    R->drive[i] = d;
    if (model == PC_MODEL_CUBA)
        for (int64_t r = 0; r < nr; r++)
            R->syn[chan0 + r * size + local] = s[r];
    return 0;
}

/* Note an event (channel chan, synapse syn, weight w, offset off) of the neuron at index k
 * of the slow list. */
static inline int pc_hit_add(pc_buf *hits, int32_t k, double off, int32_t chan, int32_t syn, double w)
{
    if (hits->n == hits->cap && pc_reserve(hits, hits->n + 1, sizeof(pc_hit)) != 0)
        return -1;
    pc_hit *h = (pc_hit *)hits->data + hits->n;
    h->k = k;
    h->ev.off = off;
    h->ev.chan = chan;
    h->ev.syn = syn;
    h->ev.w = w;
    hits->n += 1;
    return 0;
}

/* Find the events of step n of the n_slow neurons in the slow list, replay each (spikes to
 * `spikes`), and clear their marks. Returns -1 when out of memory. */
static int pc_collect_and_replay(const pc_replay *R, pc_buf *spikes, int64_t n, int64_t n_slow)
{
    int64_t L = R->ring_len;
    const pc_slot *sl = &R->slots[n % L];
    double h = R->dt;
    const int32_t *slowc = R->slowc;
    pc_buf *hits = R->hits;
    hits->n = 0;
    /* the replayed neurons' Poisson synapses are read after the scan below: start loading them */
    if (R->n_pois)
        for (int64_t k = 0; k < n_slow; k++)
            pc_prefetch(&R->pin[R->pin_ptr[R->slow[k]]]);
    /* spikes queued by synapse group: scan the group's synapses */
    const pc_entry *en = (const pc_entry *)sl->en.data;
    const pc_event *sev = (const pc_event *)sl->ev.data;
    for (int64_t e = 0; e < sl->en.n; e++) {
        int64_t g = en[e].grp, nh;
        if (R->rec_nslow[R->grp_rec[g]] == 0)
            continue;
        double off = en[e].off, w = R->grp_w[g];
        if (R->chan16)
            nh = pc_scan_marked16(R->grp_start[g], R->grp_start[g + 1], R->syn_chan16, R->slowmark, R->scan_out);
        else
            nh = pc_scan_marked(R->grp_start[g], R->grp_start[g + 1], R->syn_chan, R->slowmark, R->scan_out);
        for (int64_t j = 0; j < nh; j++) {
            int64_t s = R->scan_out[j];
            int32_t c = R->chan16 ? R->syn_chan16[s] : R->syn_chan[s];
            /* (a group's uniform weight spares a cache miss on syn_weight per event) */
            if (pc_hit_add(hits, slowc[c], off, c, (int32_t)s, isnan(w) ? R->syn_weight[s] : w) != 0)
                return -1;
        }
    }
    /* events of off-grid synapses */
    for (int64_t e = 0; e < sl->ev.n; e++) {
        int32_t ks = slowc[sev[e].chan];
        if (ks >= 0 && pc_hit_add(hits, ks, sev[e].off, sev[e].chan, sev[e].syn, sev[e].w) != 0)
            return -1;
    }
    /* Poisson spikes: redraw those of the emission steps whose arrival is step n */
    if (R->n_pois) {
        int64_t sk_m = -1; /* the step whose key sk holds */
        uint64_t sk = 0;
        for (int64_t k = 0; k < n_slow; k++) {
            int64_t i = R->slow[k];
            for (int64_t t = R->pin_ptr[i]; t < R->pin_ptr[i + 1]; t++) {
                int32_t s = R->pin[t].syn, c = R->pin[t].chan;
                int64_t src = R->pin[t].src, ds = R->pin[t].dsteps;
                double w = R->pin[t].w, rem = R->pin[t].rem;
                for (int64_t m = n - ds - (rem > 0.0 ? 1 : 0); m < n - ds + 1; m++) {
                    if (m < 0)
                        continue;
                    int64_t cnt = R->pring[(m % L) * R->n_pois + src];
                    if (cnt == 0)
                        continue;
                    if (m != sk_m) {
                        sk = pc_step_key(R->pois_key, m);
                        sk_m = m;
                    }
                    for (int64_t j = 0; j < cnt; j++) {
                        double u = pc_poisson_offset(sk, src, j, h);
                        if (R->pois_windowed && (m * h + u < R->pois_start[src] || m * h + u >= R->pois_stop[src]))
                            continue;
                        /* as the kernel's _scatter computes the arrival */
                        double o = u;
                        int64_t dst = m + ds;
                        if (rem > 0.0) {
                            o = u + rem;
                            if (o > h) {
                                o = o - h;
                                dst += 1;
                            }
                        }
                        if (dst == n && pc_hit_add(hits, (int32_t)k, o, c, s, w) != 0)
                            return -1;
                    }
                }
            }
        }
    }
    /* group the hits by neuron (counting sort), then replay */
    int64_t *cnt_of = R->slow_cnt;
    for (int64_t k = 0; k < n_slow + 1; k++)
        cnt_of[k] = 0;
    const pc_hit *hit = (const pc_hit *)hits->data;
    for (int64_t e = 0; e < hits->n; e++)
        cnt_of[hit[e].k + 1] += 1;
    for (int64_t k = 0; k < n_slow; k++)
        cnt_of[k + 1] += cnt_of[k];
    if (pc_reserve(R->events, hits->n, sizeof(pc_event)) != 0)
        return -1;
    pc_event *buf = (pc_event *)R->events->data;
    for (int64_t e = 0; e < hits->n; e++) {
        int64_t k = hit[e].k;
        buf[cnt_of[k]] = hit[e].ev;
        cnt_of[k] += 1;
    }
    int64_t pos = 0;
    for (int64_t k = 0; k < n_slow; k++) {
        int32_t i = R->slow[k];
        if (pc_replay_neuron(R, spikes, n, i, buf + pos, cnt_of[k] - pos) != 0)
            return -1;
        if (R->ref_end_step[i] > n && !R->rin[i]) {
            /* still refractory at the step's end: the kernel's _refractory looks after it */
            R->rin[i] = 1;
            R->rlist[*R->rl_n] = i;
            *R->rl_n += 1;
        }
        pos = cnt_of[k];
        int64_t p = R->neuron_pop[i], size = R->pop_size[p], chan0 = R->pop_chan_start[p];
        int64_t local = i - R->pop_start[p];
        for (int64_t r = 0; r < R->pop_n_rec[p]; r++) {
            int64_t c = chan0 + r * size + local;
            R->slowc[c] = -1;
            R->slowmark[c] = 0;
            R->rec_nslow[R->pop_rec_start[p] + r] = 0;
        }
    }
    return 0;
}

#endif
