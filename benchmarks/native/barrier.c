/* What one meeting of two threads costs on this machine, measured alone (benchmarks/barrier.py).
 *
 * The protocol is the grid engine's (spikecore/engine/_kernel.c, sc_team_arrive/sc_team_done):
 * each thread stores the count of meetings it has reached into a cache line of its own
 * (release) and spins -- pause, then sched_yield after SC_SPIN_ROUNDS rounds -- until its
 * partner's count reaches it (acquire). Between meetings each thread does `work` ns of
 * private arithmetic and, with `spikes` > 0, writes that many int32 spike indices into a
 * buffer of its own and reads its partner's after the meeting (the engine's exchange:
 * the partner's spike counts and spikes). Per meeting, each thread records the ticks of
 * its wait and of the exchange (reading the partner's spikes) with rdtsc.
 *
 * Output, one line per thread: the medians and 10th percentiles of wait and exchange (ns),
 * and the median, 10th percentile and mean of the whole meeting-to-meeting interval (the
 * mean is what a run takes per meeting). Usage:
 *     barrier MEETINGS WORK_NS SPIKES INLINE
 * INLINE 1 puts the spikes in the line of the count (a single line to fetch), 0 in a line
 * of their own (the engine's layout of today).
 */
#include <omp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SC_SPIN_ROUNDS
#define SC_SPIN_ROUNDS 256
#endif

/* rdtsc between lfences: the loads before it have completed (rdtsc alone may run ahead of them) */
static inline int64_t ticks(void)
{
    __builtin_ia32_lfence();
    int64_t k = (int64_t)__builtin_ia32_rdtsc();
    __builtin_ia32_lfence();
    return k;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Spikes of meeting i go to parity i % 2 (as in the engine): the partner reads those of
 * meeting i before it arrives at meeting i + 1, so the writer of meeting i + 2 finds them read. */
typedef struct {
    _Alignas(64) int64_t count;      /* meetings reached */
    int32_t inline_spk[2][7];        /* with INLINE: the spikes, in the count's line */
    _Alignas(64) int32_t spk[2][16]; /* without: the spikes, a line of their own per parity */
} mailbox;

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, int64_t n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[(int64_t)(p * (double)(n - 1))];
}

int main(int argc, char **argv)
{
    int64_t M = argc > 1 ? atoll(argv[1]) : 200000;
    double work_ns = argc > 2 ? atof(argv[2]) : 0;
    int spikes = argc > 3 ? atoi(argv[3]) : 0;
    int inl = argc > 4 ? atoi(argv[4]) : 0;
    if (spikes > 7)
        spikes = 7;
    /* ns per tick */
    double t0 = now_s();
    int64_t k0 = ticks();
    while (now_s() - t0 < 0.05)
        ;
    double tick_ns = (now_s() - t0) * 1e9 / (double)(ticks() - k0);
    /* what the wait's two ways of passing time cost: SC_SPIN_ROUNDS pauses, one sched_yield
     * (fastest of 50 tries: what they cost when nothing else wants the core) */
    double spin = 1e9, yield = 1e9;
    for (int r = 0; r < 50; r++) {
        double a = now_s();
        for (int k = 0; k < SC_SPIN_ROUNDS; k++)
            __builtin_ia32_pause();
        double b = now_s();
        sched_yield();
        double c = now_s();
        spin = b - a < spin ? b - a : spin;
        yield = c - b < yield ? c - b : yield;
    }
    printf("%d pause rounds: %.0f ns; sched_yield: %.0f ns\n", SC_SPIN_ROUNDS, spin * 1e9, yield * 1e9);
    /* work: a dependent chain of multiply-adds, about 1 ns each */
    int64_t work_iters = (int64_t)work_ns;
    mailbox *box = aligned_alloc(64, 2 * sizeof(mailbox));
    memset(box, 0, 2 * sizeof(mailbox));
    int64_t *wait = malloc(2 * M * sizeof(int64_t)), *xch = malloc(2 * M * sizeof(int64_t)),
            *per = malloc(2 * M * sizeof(int64_t));
    volatile double sink = 0;
    omp_set_dynamic(0);
#pragma omp parallel num_threads(2)
    {
        int t = omp_get_thread_num(), u = 1 - t;
        double x = 1.0 + t;
        int64_t last = ticks();
        for (int64_t i = 1; i <= M; i++) {
            for (int64_t k = 0; k < work_iters; k++)
                x = x * 0.999999 + 1e-7;
            int32_t *mine = inl ? box[t].inline_spk[i & 1] : box[t].spk[i & 1];
            for (int s = 0; s < spikes; s++)
                mine[s] = (int32_t)(i + s);
            int64_t a = ticks();
            __atomic_store_n(&box[t].count, i, __ATOMIC_RELEASE);
            for (int64_t r = 0; __atomic_load_n(&box[u].count, __ATOMIC_ACQUIRE) < i; r++) {
                if (r < SC_SPIN_ROUNDS)
                    __builtin_ia32_pause();
                else
                    sched_yield();
            }
            int64_t b = ticks();
            const int32_t *theirs = inl ? box[u].inline_spk[i & 1] : box[u].spk[i & 1];
            int64_t acc = 0;
            for (int s = 0; s < spikes; s++)
                acc += theirs[s];
            x += (double)acc * 1e-30;
            int64_t c = ticks();
            wait[t * M + i - 1] = b - a;
            xch[t * M + i - 1] = c - b;
            per[t * M + i - 1] = c - last;
            last = c;
        }
        sink = x;
    }
    for (int t = 0; t < 2; t++) {
        int64_t skip = M / 10;   /* the first tenth: warming up */
        int64_t n = M - skip;
        int64_t w50 = pct(wait + t * M + skip, n, 0.5), w10 = pct(wait + t * M + skip, n, 0.1);
        int64_t x50 = pct(xch + t * M + skip, n, 0.5), x10 = pct(xch + t * M + skip, n, 0.1);
        double mean = 0;
        for (int64_t i = skip; i < M; i++)
            mean += (double)per[t * M + i] / (double)n;
        int64_t p50 = pct(per + t * M + skip, n, 0.5), p10 = pct(per + t * M + skip, n, 0.1);
        printf("thread %d: wait median %.0f ns p10 %.0f ns; exchange median %.0f ns p10 %.0f ns; "
               "meeting-to-meeting median %.0f ns p10 %.0f ns mean %.0f ns\n", t, w50 * tick_ns, w10 * tick_ns,
               x50 * tick_ns, x10 * tick_ns, p50 * tick_ns, p10 * tick_ns, mean * tick_ns);
    }
    (void)sink;
    return 0;
}
