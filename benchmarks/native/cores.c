/* What two CPUs give when both compute at once (benchmarks/cores.py).
 *
 * Two worker threads, each pinned to one CPU of the command line, run a throughput-bound loop
 * (8 independent chains of vector multiply-adds, in the compiler's widest vectors) for bursts of
 * BURST_MS milliseconds. Per round: the first CPU alone, the second alone, then both at once.
 * The main thread blocks in a barrier while the workers run (it never spins: a spinning
 * caller shares a CPU with one worker and halves it, which is not the CPUs' doing).
 *
 * Output, one line per round: the rates (loop iterations per second) of CPU A alone, CPU B
 * alone, CPU A while both ran, CPU B while both ran. Usage:
 *     cores ROUNDS BURST_MS CPU_A CPU_B
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef double v8d __attribute__((vector_size(64)));

static pthread_barrier_t start_b, end_b;
static int mode, quit, cpus[2];
static double burst_s, rate[2];
static volatile double sink;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* iterations per second of the multiply-add loop over burst_s */
static double work(void)
{
    v8d a[8], m, c;
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 8; k++)
            a[i][k] = 1.0 + 1e-9 * (double)(i * 8 + k);
    for (int k = 0; k < 8; k++)
        m[k] = 0.999999999, c[k] = 1e-9;
    long it = 0;
    double t0 = now_s(), t;
    do {
        for (int r = 0; r < 1000; r++)
            for (int i = 0; i < 8; i++)
                a[i] = a[i] * m + c;
        it += 1000;
        t = now_s();
    } while (t - t0 < burst_s);
    double s = 0;
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 8; k++)
            s += a[i][k];
    sink = s;
    return (double)it / (t - t0);
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(cpus[id], &cs);
    if (pthread_setaffinity_np(pthread_self(), sizeof cs, &cs) != 0)
        fprintf(stderr, "could not pin a worker to CPU %d\n", cpus[id]);
    for (;;) {
        pthread_barrier_wait(&start_b);
        if (quit)
            break;
        if (mode == 2 || mode == id)
            rate[id] = work();
        pthread_barrier_wait(&end_b);
    }
    return NULL;
}

static void phase(int m)
{
    mode = m;
    pthread_barrier_wait(&start_b);
    pthread_barrier_wait(&end_b);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: cores ROUNDS BURST_MS CPU_A CPU_B\n");
        return 2;
    }
    int rounds = atoi(argv[1]);
    burst_s = atof(argv[2]) * 1e-3;
    cpus[0] = atoi(argv[3]);
    cpus[1] = atoi(argv[4]);
    pthread_t th[2];
    pthread_barrier_init(&start_b, NULL, 3);
    pthread_barrier_init(&end_b, NULL, 3);
    for (long i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int r = 0; r < rounds; r++) {
        double a0, a1;
        phase(0);
        a0 = rate[0];
        phase(1);
        a1 = rate[1];
        phase(2);
        printf("%.4e %.4e %.4e %.4e\n", a0, a1, rate[0], rate[1]);
        fflush(stdout);
    }
    quit = 1;
    pthread_barrier_wait(&start_b);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    return 0;
}
