/* The native engine's step loop (declarations and layout: _kernel.h). The
 * templated body is _kernel_impl.h, compiled here for double and for float state.
 *
 * Build flags (setup.py): -O3 -fno-trapping-math (lets loops with refractory
 * selects vectorise; changes no result) and -ffp-contract=off (no fused
 * multiply-add), never -ffast-math: every clone below (AVX-512, AVX2, baseline)
 * computes the same IEEE operations in the same order, so results are exact and
 * CPU-independent. -fopenmp when the compiler has it (else one thread).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* sched_getcpu, CPU_SET: thread pinning (sc_pin_plan) */
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "_kernel.h"
#include "_vexp.h"
#include "_plastic_vec.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
#define SC_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SC_CLONES
#endif

int sc_set_plastic_simd(int enable)
{
#ifdef SC_PL_VEC
    return sc_pl_vec_set(enable);
#else
    (void)enable;
    return 0;
#endif
}

int sc_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

static int sc_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* CPU time of the calling thread (Linux/POSIX); 0 where the clock is missing */
static double sc_thread_cpu(void)
{
#if defined(CLOCK_THREAD_CPUTIME_ID)
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
    return 0.0;
}

/* The profile's clock: rdtsc on x86 (a few ns to read; constant rate on current CPUs),
 * else the monotonic clock in ns. Kernel.tick_ns calibrates it against the clock. */
int64_t sc_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return (int64_t)__builtin_ia32_rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}

static int sc_team_size(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* ---------------------------------------------------------------- pinning */
/* The CPU the calling thread runs on (-1 where the OS does not tell). */
static int sc_cpu_now(void)
{
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Threads of a team meet at a spin barrier once per window (microseconds apart). Two of them
 * on one CPU take turns by time slices, each window waiting for the other's: the OS puts a
 * team's threads where it likes when they wake up for a run call (an idle CPU was busy for
 * a moment, the caller's CPU looked cheaper) and moves them later. So a team of T > 1 can run
 * pinned for the call (sc_net.pin_threads; off by default: Kernel.pin_threads says why):
 * thread 0 on the CPU the caller runs on, thread t
 * on the t-th CPU after it in the caller's affinity mask (cyclically), each thread's own
 * mask restored at the end of the call. Never onto a CPU outside the mask; not when the
 * mask has fewer CPUs than threads (a thread per CPU is impossible), and not when the user
 * placed OpenMP's threads (OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY: OpenMP binds them
 * as told). Pinning changes where threads run, never what they compute. Returns 1 and the
 * CPUs in cpus[0..T) when the team pins. */
static int sc_pin_plan(int T, int *cpus)
{
#if defined(__linux__) && defined(CPU_ISSET)
    if (T < 2 || getenv("OMP_PROC_BIND") || getenv("OMP_PLACES") || getenv("GOMP_CPU_AFFINITY"))
        return 0;
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0 || CPU_COUNT(&mask) < T)
        return 0;
    int here = sched_getcpu(), k = 0;
    if (here < 0 || here >= CPU_SETSIZE)
        here = 0;
    for (int i = 0; i < CPU_SETSIZE && k < T; i++) {
        int cpu = (here + i) % CPU_SETSIZE;
        if (CPU_ISSET(cpu, &mask))
            cpus[k++] = cpu;
    }
    return k == T;
#else
    (void)T;
    (void)cpus;
    return 0;
#endif
}

#if defined(__linux__) && defined(CPU_ISSET)
typedef cpu_set_t sc_cpu_mask;
#else
typedef int sc_cpu_mask;
#endif

/* Pin the calling thread to `cpu`, keeping its mask in *saved: 1 if pinned (sc_unpin undoes it). */
static int sc_pin(int cpu, sc_cpu_mask *saved)
{
#if defined(__linux__) && defined(CPU_ISSET)
    cpu_set_t one;
    if (sched_getaffinity(0, sizeof *saved, saved) != 0)
        return 0;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
#else
    (void)cpu;
    (void)saved;
    return 0;
#endif
}

static void sc_unpin(const sc_cpu_mask *saved)
{
#if defined(__linux__) && defined(CPU_ISSET)
    sched_setaffinity(0, sizeof *saved, saved);
#else
    (void)saved;
#endif
}

/* ---------------------------------------------------------------- Poisson counts */
#include "_poisson_stream.h"

/* counts of the node-q neurons [a, b) (presynaptic Poisson indices) at step n, into out[0..b-a) */
static void sc_pois_range(const sc_net *net, int64_t q, int64_t n, int64_t a, int64_t b, uint16_t *out)
{
    int64_t f = net->pn_first[q], size = net->pn_size[q];
    uint64_t ctr0 = (uint64_t)n * (uint64_t)size + (uint64_t)(a - f) + 1;
    if (net->pn_toff[q] >= 0) {
        sc_pois_shared(net->pn_seed[q], ctr0, b - a, net->cdf + net->pn_toff[q], net->pn_tlen[q], out);
        return;
    }
    for (int64_t k = a; k < b; k++) {
        double u = sc_unit(net->pn_seed[q], ctr0 + (uint64_t)(k - a));
        out[k - a] = (uint16_t)sc_upper(net->cdf + net->pt_off[k], net->pt_len[k], u);
    }
}

void sc_poisson_counts(const sc_net *net, int64_t n, int64_t k0, int64_t k1, uint16_t *out)
{
    memset(out, 0, sizeof(uint16_t) * (size_t)(k1 - k0));
    for (int64_t q = 0; q < net->n_pnodes; q++) {
        int64_t f = net->pn_first[q], e = f + net->pn_size[q];
        int64_t a = k0 > f ? k0 : f, b = k1 < e ? k1 : e;
        if (a < b && n >= net->pn_on[q] && n < net->pn_off[q])
            sc_pois_range(net, q, n, a, b, out + (a - k0));
    }
}

/* ---------------------------------------------------------------- per-run scratch */
#define SC_MAX_THREADS 256

/* Poisson counts of the entries [r0, r1) of thread t's row at step n (the row holds every node
 * range of thread t, laid out by pq_off; ranges of inactive nodes are left as they are: never
 * read). A deferred range (sc_net.pd_defer: delay D) holds the counts of step n - D, which the
 * SC_BK_POIS item drained at step n stands for (none where that step precedes the call's first,
 * n0: that input waits in the ring). Each count depends on (seed, step, neuron) alone, so a row
 * drawn in parts, by any threads, holds the counts of a row drawn whole. */
static void sc_pois_part(const sc_net *net, int t, int64_t n, int64_t n0, const int64_t *pq_off, uint16_t *row,
                         int64_t r0, int64_t r1)
{
    int64_t nq = net->n_pnodes;
    for (int64_t q = 0; q < nq; q++) {
        int64_t a = net->pr_lo[t * nq + q], b = net->pr_hi[t * nq + q], m = n - net->pd_defer[t * nq + q];
        if (a >= b || m < n0 || m < net->pn_on[q] || m >= net->pn_off[q])
            continue;
        int64_t o0 = pq_off[q], o1 = o0 + (b - a);
        int64_t lo = o0 > r0 ? o0 : r0, hi = o1 < r1 ? o1 : r1;
        if (lo < hi)
            sc_pois_range(net, q, m, a + (lo - o0), a + (hi - o0), row + lo);
    }
}

/* A team's Poisson counts of a window are drawn in items: block b of step j's row of thread
 * u (sc_scratch.win_cnt), SC_POIS_BLOCK neurons or more, at most SC_POIS_MAX_BLOCKS per row.
 * Whole rows made a thread that had claimed its partner's row at the barrier (≈10 µs of
 * drawing in the microcircuit at scale 0.1) finish it while the partner, arrived meanwhile,
 * waited for it: a block bounds that to ≈1.5 µs. Each item's claim state has a cache line of
 * its own (SC_PSTATE_STRIDE), so claiming one block never takes the line of another. */
#ifndef SC_POIS_BLOCK
#define SC_POIS_BLOCK 512
#endif
#ifndef SC_POIS_MAX_BLOCKS
#define SC_POIS_MAX_BLOCKS 16
#endif
#define SC_PSTATE_STRIDE 8     /* int64 per claim state: 64 bytes */

/* Claim states of a window's Poisson counts (sc_scratch.pstate). An item's state names
 * the window it belongs to: for window g (counted from 0 in a call) it is SC_FREE(g)
 * while nobody draws it, SC_FREE(g) + 1 while one thread draws it and SC_FREE(g) + 2
 * once drawn. The owner, after using its row, frees the item for window g + 2 (the next
 * window of that parity). Naming the window matters: a thread still in its draw-ahead
 * loop after the barrier has opened may try an item its owner has already used and freed;
 * with plain free/busy/drawn states that claim succeeded, left the item "drawn", and two
 * windows later the owner read stale counts (1 run in ~100 with 2-3 threads on a loaded
 * machine). With the window in the state the stale claim expects SC_FREE(g), finds
 * SC_FREE(g + 2) and fails. */
#define SC_FREE(g) ((int64_t)3 * (g))

/* Claim an item for window g: 1 if the caller now draws it, 0 if another thread has it
 * (or it is not free for that window). */
static inline int sc_claim(int64_t *state, int64_t g)
{
    int64_t free_ = SC_FREE(g);
    return __atomic_compare_exchange_n(state, &free_, free_ + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Pause inside a spin-wait: the CPU's pause hint, and after SC_SPIN_ROUNDS rounds (a few
 * µs: a partner that runs arrives sooner) the OS's yield, so a waiting thread hands its
 * core to whoever the machine is running instead of burning it (and instead of a futex
 * sleep, whose wake-up costs more than a window's work when cores are shared). 256
 * rather than 2048 rounds: CUBA with two threads on the loaded machine, 15 bursts of
 * 0.05 s, median 41-53 ms against 84-269 ms (benchmarks/RESULTS.md, round 3). */
#ifndef SC_SPIN_ROUNDS
#define SC_SPIN_ROUNDS 256
#endif
static inline void sc_relax(int64_t round)
{
    if (round < SC_SPIN_ROUNDS) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();
    }
}

typedef struct {
    int T;
    int32_t *spk[2][SC_MAX_THREADS];       /* a window's spikes, per parity and thread: step j at j*spk_stride */
    int64_t spk_stride[SC_MAX_THREADS];
    /* step j: end of population p's spikes at [j*P + p]; after them, at [W*P], the windows
     * of this parity the thread has finished in this call (the barrier's count: below) */
    int64_t *pop_end[2][SC_MAX_THREADS];
    uint16_t *cnt_buf[SC_MAX_THREADS];     /* Poisson counts of one node's range */
    /* Poisson counts of a window, per parity and thread: row j (step j of the window) of
     * thread u at win_cnt[par][u] + j*row_stride[u]; its entries [b*blk_len[u], (b+1)*blk_len[u])
     * are item (j*T + u)*pb + b, drawn by whichever thread claims it first (claim state at
     * pstate[par] + item*SC_PSTATE_STRIDE: SC_FREE(g) free, + 1 being drawn, + 2 drawn, for
     * window g), so a thread waiting at the barrier draws the next window's counts of its own
     * neurons and of its slower partners. Rows and blocks start on a cache line. */
    uint16_t *win_cnt[2][SC_MAX_THREADS];
    int64_t *pstate[2];
    int64_t pb;                            /* blocks per row */
    int64_t row_stride[SC_MAX_THREADS], blk_len[SC_MAX_THREADS];
    int64_t *pq_off[SC_MAX_THREADS];       /* node q's ranges start at pq_off[q] in a step's row; [nq] = row length */
    uint8_t *cross[SC_MAX_THREADS];        /* per threshold block: did v cross (set by the updates) */
    int64_t count_at;                      /* W*P: where pop_end holds the count of finished windows */
    int64_t *part_ev;                      /* per part (8 apart): its next spike-source event */
    int64_t n0;                            /* the call's first step (sc_run) */
    double *weight;                        /* per part: its neurons (sc_split) */
} sc_scratch;

/* Scratch memory on whole cache lines of its own (64-byte aligned, size rounded up), so
 * that no two threads' buffers share a line (malloc packs small blocks side by side, and
 * a thread writing its flags next to its partner's spike buffer would steal the line). */
static void *sc_alloc(size_t size)
{
    void *p = NULL;
    size = (size + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, size ? size : 64) != 0)
        return NULL;
    return p;
}

static void *sc_alloc_zero(size_t size)
{
    void *p = sc_alloc(size);
    if (p)
        memset(p, 0, (size + 63) & ~(size_t)63);
    return p;
}

/* The barrier at the end of a window of parity par. Whoever ran part x's steps of the window
 * counts the windows finished in part x's own spike counts of that parity (pop_end[par][x]
 * [count_at], release), after the ticks it took (deliveries and steps: [count_at + 1], the
 * team's measure for sharing the parts out: sc_team_split), so that the count, the ticks and
 * the spike counts a partner reads next come in one cache line; a thread at the barrier waits
 * until every part's count reaches the window (acquire: their spikes of the window, and every
 * state of the part its last runner wrote, are then visible). No line is written by two
 * threads at once (a shared arrival count, written by every thread at every window, moved
 * between the cores twice per window). A parity's buffer holds every other window, so a
 * count there is either the window before last or this one: no thread can be further on
 * before every part has arrived. */
static inline void sc_part_arrive(const sc_scratch *s, int x, int par, int64_t windows, int64_t ticks)
{
    s->pop_end[par][x][s->count_at + 1] = ticks;
    __atomic_store_n(s->pop_end[par][x] + s->count_at, windows, __ATOMIC_RELEASE);
}

static inline int sc_team_done(const sc_scratch *s, int par, int64_t windows)
{
    for (int u = 0; u < s->T; u++)
        if (__atomic_load_n(s->pop_end[par][u] + s->count_at, __ATOMIC_ACQUIRE) < windows)
            return 0;
    return 1;
}

/* How the team shares the parts out (sc_run): thread i runs parts [lo[i], lo[i+1]), a
 * contiguous run, at least one each. With one part per thread (the default for 2 threads:
 * thread_choice.TWO_THREAD_SHARES) there is nothing to move; with 2 threads and 4 parts of
 * 35, 15, 15 and 35 % of every population, moving one part between the two threads moves 15 %. Every thread keeps its own copy of the split and of the per-thread cost
 * estimates, and updates them after each barrier from the same numbers (the ticks of every
 * part, read from the parts' lines it reads anyway) in the same way, so all copies agree
 * without a word exchanged. A thread's cost is its ticks per neuron of its parts over the
 * window, smoothed over windows (SC_SPLIT_SMOOTH; a window's value clipped to 2x the estimate:
 * a thread preempted by another process stalls one window for milliseconds, then runs at its
 * speed again, and moving parts away from it would not shorten the stall); the split moves to the one that minimises
 * the predicted slower thread's time, when that is SC_SPLIT_GAIN better than the current
 * split's. Where the CPUs run at different speeds (a VM whose second vCPU gives ~0.55 of the
 * first while both compute: benchmarks/cores.py), the faster thread takes more parts. Which
 * thread runs a part changes no result: every part's inputs are added in the serial order. */
#ifndef SC_SPLIT_SMOOTH
#define SC_SPLIT_SMOOTH 0.0625
#endif
#ifndef SC_SPLIT_GAIN
#define SC_SPLIT_GAIN 0.08
#endif
typedef struct {
    int NT;
    int lo[SC_MAX_THREADS + 1];
    double est[SC_MAX_THREADS];     /* ticks per neuron, smoothed; 0 before the first window */
    double *weight;                 /* neurons per part (the caller's) */
} sc_split;

static void sc_split_init(sc_split *sp, int NT, int T, double *weight)
{
    sp->NT = NT;
    sp->weight = weight;
    for (int i = 0; i <= NT; i++)
        sp->lo[i] = (int)((int64_t)i * T / NT);
    for (int i = 0; i < NT; i++)
        sp->est[i] = 0;
}

/* The predicted window time of the split with thread 0 ending at part k (two threads). */
static double sc_split_time(const sc_split *sp, int T, int k)
{
    double w0 = 0, w1 = 0;
    for (int x = 0; x < T; x++)
        *(x < k ? &w0 : &w1) += sp->weight[x];
    double a = w0 * sp->est[0], b = w1 * sp->est[1];
    return a > b ? a : b;
}

/* After the barrier of the window numbered `windows` (from 1 in the call), of parity par:
 * update the estimates and the split (mode: sc_net.split_mode). */
static void sc_split_update(sc_split *sp, const sc_scratch *s, int par, int64_t windows, int mode)
{
    int NT = sp->NT, T = s->T;
    if (NT < 2 || mode == SC_SPLIT_EVEN)
        return;
    if (mode == SC_SPLIT_CYCLE) {
        if (NT == 2)
            sp->lo[1] = 1 + (int)(windows % (T - 1));
        else
            for (int i = 1; i < NT; i++)
                sp->lo[i] = (int)((int64_t)i * T / NT) - (int)(windows & 1);
        return;
    }
    for (int i = 0; i < NT; i++) {
        double ticks = 0, w = 0;
        for (int x = sp->lo[i]; x < sp->lo[i + 1]; x++) {
            ticks += (double)s->pop_end[par][x][s->count_at + 1];
            w += sp->weight[x];
        }
        double c = ticks / w;
        if (sp->est[i] <= 0)
            sp->est[i] = c;
        else {
            if (c > 2 * sp->est[i])
                c = 2 * sp->est[i];
            sp->est[i] += SC_SPLIT_SMOOTH * (c - sp->est[i]);
        }
    }
    if (NT != 2)
        return;     /* more threads keep the even split */
    int best = sp->lo[1];
    double now = sc_split_time(sp, T, best), t_best = now;
    for (int k = 1; k < T; k++) {
        double t = sc_split_time(sp, T, k);
        if (t < t_best)
            best = k, t_best = t;
    }
    if (t_best < now * (1 - SC_SPLIT_GAIN))
        sp->lo[1] = best;
}

/* After the barrier of a window (parity par): fetch the partners' spike counts and the
 * first line of their spikes of each step, all at once, instead of one cache miss after
 * the other as the walk reaches them (a line written by another core costs ≈250 ns here);
 * and take this thread's buffers of the next window (par ^ 1, free now: the partners read
 * them before they arrived) for writing, so that the window's spikes do not wait for them. */
static inline void sc_prefetch_window(const sc_scratch *s, int lo, int hi, int par, int64_t n_counts, int64_t steps)
{
    for (int u = 0; u < s->T; u++) {
        if (u >= lo && u < hi) {
            for (int64_t i = 0; i < n_counts; i += 8)
                __builtin_prefetch(s->pop_end[par ^ 1][u] + i, 1);
            for (int64_t j = 0; j < steps; j++)
                __builtin_prefetch(s->spk[par ^ 1][u] + j * s->spk_stride[u], 1);
        } else {
            for (int64_t i = 0; i < n_counts; i += 8)
                __builtin_prefetch(s->pop_end[par][u] + i, 0);
            for (int64_t j = 0; j < steps; j++)
                __builtin_prefetch(s->spk[par][u] + j * s->spk_stride[u], 0);
        }
    }
}

static void sc_scratch_free(sc_scratch *s)
{
    free(s->pstate[0]);
    free(s->pstate[1]);
    free(s->part_ev);
    free(s->weight);
    for (int t = 0; t < s->T; t++) {
        for (int p = 0; p < 2; p++) {
            free(s->spk[p][t]);
            free(s->pop_end[p][t]);
        }
        free(s->cnt_buf[t]);
        free(s->win_cnt[0][t]);
        free(s->win_cnt[1][t]);
        free(s->pq_off[t]);
        free(s->cross[t]);
    }
}

static int sc_scratch_alloc(sc_scratch *s, const sc_net *net)
{
    int T = (int)net->n_parts;
    int64_t W = net->window, P = net->n_pops;
    memset(s, 0, sizeof(*s));
    if (T < 1 || T > SC_MAX_THREADS || W < 1)
        return -1;
    s->T = T;
    int bad = 0;
    for (int t = 0; t < T; t++) {
        int64_t m = 0, np = 0;   /* neurons of thread t, longest Poisson range */
        for (int64_t p = 0; p < P; p++)
            m += net->part[p * (T + 1) + t + 1] - net->part[p * (T + 1) + t];
        for (int64_t q = 0; q < net->n_pnodes; q++) {
            int64_t len = net->pr_hi[t * net->n_pnodes + q] - net->pr_lo[t * net->n_pnodes + q];
            np = len > np ? len : np;
        }
        s->spk_stride[t] = m;
        for (int p = 0; p < 2; p++) {
            s->spk[p][t] = sc_alloc(sizeof(int32_t) * (size_t)(W * m + 1));
            s->pop_end[p][t] = sc_alloc_zero(sizeof(int64_t) * (size_t)(W * P + 2));
            bad |= !s->spk[p][t] || !s->pop_end[p][t];
        }
        s->cnt_buf[t] = sc_alloc(sizeof(uint16_t) * (size_t)(np + 1));
        bad |= !s->cnt_buf[t];
        int64_t nq = net->n_pnodes, row = 0;
        s->pq_off[t] = sc_alloc(sizeof(int64_t) * (size_t)(nq + 1));
        bad |= !s->pq_off[t];
        if (s->pq_off[t]) {
            for (int64_t q = 0; q < nq; q++) {
                s->pq_off[t][q] = row;   /* (a deferred range's counts: those its bucket's drain adds) */
                row += net->pr_hi[t * nq + q] - net->pr_lo[t * nq + q];
            }
            s->pq_off[t][nq] = row;
        }
        /* only teams meet at barriers, so only they draw ahead */
        s->row_stride[t] = (row + 31) & ~(int64_t)31;       /* 32 counts: a cache line */
        if (T > 1 && row > 0) {
            for (int p = 0; p < 2; p++) {
                s->win_cnt[p][t] = sc_alloc(sizeof(uint16_t) * (size_t)(W * s->row_stride[t]));
                bad |= !s->win_cnt[p][t];
            }
        }
        int64_t blocks = (row + SC_POIS_BLOCK - 1) / SC_POIS_BLOCK;
        s->pb = blocks > s->pb ? blocks : s->pb;
        int64_t longest = 0;     /* the longest population range of thread t */
        for (int64_t p = 0; p < P; p++) {
            int64_t len = net->part[p * (T + 1) + t + 1] - net->part[p * (T + 1) + t];
            longest = len > longest ? len : longest;
        }
        s->cross[t] = sc_alloc((size_t)(longest / 64 + 2));
        bad |= !s->cross[t];
    }
    s->pb = s->pb < 1 ? 1 : s->pb > SC_POIS_MAX_BLOCKS ? SC_POIS_MAX_BLOCKS : s->pb;
    for (int t = 0; t < T; t++) {
        int64_t row = s->pq_off[t] ? s->pq_off[t][net->n_pnodes] : 0, len = (row + s->pb - 1) / s->pb;
        s->blk_len[t] = (len + 31) & ~(int64_t)31;           /* blocks start on a cache line */
    }
    for (int p = 0; p < 2 && T > 1; p++) {
        int64_t items = W * T * s->pb;
        s->pstate[p] = sc_alloc(sizeof(int64_t) * (size_t)(items * SC_PSTATE_STRIDE));
        bad |= !s->pstate[p];
        for (int64_t i = 0; s->pstate[p] && i < items; i++)
            s->pstate[p][i * SC_PSTATE_STRIDE] = SC_FREE(p);    /* parity p's first window is window p */
    }
    s->count_at = W * P;
    s->part_ev = sc_alloc(sizeof(int64_t) * (size_t)(8 * T));
    s->weight = sc_alloc(sizeof(double) * (size_t)T);
    bad |= !s->part_ev || !s->weight;
    for (int t = 0; t < T && s->part_ev && s->weight; t++) {
        s->part_ev[8 * t] = net->ev_ptr;
        int64_t m = 0;
        for (int64_t p = 0; p < P; p++)
            m += net->part[p * (T + 1) + t + 1] - net->part[p * (T + 1) + t];
        s->weight[t] = (double)m + 1;    /* + 1: an empty part still costs its walk of the spikes */
    }
    if (bad) {
        sc_scratch_free(s);
        return -1;
    }
    return 0;
}

/* Draw item b of thread u's row at step n (if it has entries) into its place in `row`. */
static void sc_pois_block(const sc_net *net, const sc_scratch *s, int u, int64_t n, uint16_t *row, int64_t b)
{
    int64_t len = s->pq_off[u][net->n_pnodes], r0 = b * s->blk_len[u], r1 = r0 + s->blk_len[u];
    if (r0 < len)
        sc_pois_part(net, u, n, s->n0, s->pq_off[u], row, r0, r1 < len ? r1 : len);
}

/* ---------------------------------------------------------------- the two bodies */
#define REAL double
#define SC_SUFFIX _f64
#define SC_EXP exp
#define SC_EXP_ARRAY sc_exp_array
#define SC_REAL_IS_F64 1
#include "_kernel_impl.h"
#undef SC_REAL_IS_F64
#undef REAL
#undef SC_SUFFIX
#undef SC_EXP
#undef SC_EXP_ARRAY

#define REAL float
#define SC_SUFFIX _f32
#define SC_EXP expf
#define SC_EXP_ARRAY sc_expf_array
#include "_kernel_impl.h"
#undef REAL
#undef SC_SUFFIX
#undef SC_EXP
#undef SC_EXP_ARRAY

int sc_plastic_rule(const char *name, int single, sc_plastic_pre_fn *pre, sc_plastic_post_fn *post,
                    sc_plastic_mod_fn *mod)
{
    for (const sc_plastic_entry *e = single ? sc_plastic_rules_f32 : sc_plastic_rules_f64; e->name; e++)
        if (strcmp(e->name, name) == 0) {
            *pre = e->pre;
            *post = e->post;
            *mod = e->mod;
            return 1;
        }
    return 0;
}

void sc_exp_values(double *y, const double *x, int64_t n)
{
    sc_exp_array(y, x, n);
}

void sc_expf_values(float *y, const float *x, int64_t n)
{
    sc_expf_array(y, x, n);
}

int sc_exp_vector_enabled(int single)
{
    return (sc_exp_check() & (single ? SC_VEXP_F32 : SC_VEXP_F64)) != 0;
}

sc_update_fn sc_update_function(const char *name, int single)
{
    sc_exp_check();     /* decided here, before any run: the updates then only read the answer */
    for (const sc_update_entry *e = single ? sc_updates_f32 : sc_updates_f64; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e->fn;
    return NULL;
}
