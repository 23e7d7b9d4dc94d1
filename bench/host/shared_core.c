/* Whether two CPUs are two cores or the two hyperthreads of one: each rep
 * measures the cache-line round trip between them (2,000 trips), then runs
 * integer work that keeps every ALU of a core busy on both at once, then on
 * the first alone. On two cores the work runs at the same speed side by side
 * as alone; on one core's two hyperthreads each runs at about half. On a VM
 * the answer changes with where the host puts the vCPUs (this project's host:
 * a ~110-120 ns round trip on two cores, ~50-60 ns on one core's two
 * hyperthreads, 500+ ns on cores far apart). nerve's threads pass a cache line
 * once per step, and two threads on one core's hyperthreads share its
 * execution units: no second thread can make a step twice as fast there.
 *
 *     cc -O2 -fno-tree-vectorize -pthread bench/host/shared_core.c -o shared_core
 *     ./shared_core CPU_A CPU_B [REPS] [-v]
 *
 * Prints the medians over REPS (default 60, ~0.3 s): round trip ns, ns per
 * iteration alone and side by side, their ratio, and the verdict; -v also
 * prints every rep.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRIPS 2000
#define ITERS 400000L
#define MAXREPS 100000

static _Alignas(128) _Atomic long ping;
static _Alignas(128) _Atomic long pong;
static _Alignas(128) _Atomic long phase;
static double side_b;
static int cpu_b, reps;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

/* Ten independent chains of add, shift and xor (~40 single-cycle operations an
 * iteration, more than a core's ALUs retire in one cycle): ns per iteration. */
#define STEP(x) x = (x + 0x9e3779b97f4a7c15ULL) ^ (x >> 7);
static volatile uint64_t sink;
static double alu(int seed) {
    uint64_t a0 = 1 + seed, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8, a8 = 9, a9 = 10;
    double t = now();
    for (long i = 0; i < ITERS; i++) {
        STEP(a0) STEP(a1) STEP(a2) STEP(a3) STEP(a4) STEP(a5) STEP(a6) STEP(a7) STEP(a8) STEP(a9)
    }
    double d = now() - t;
    sink = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7 ^ a8 ^ a9;
    return d / ITERS;
}

static void *other(void *arg) {
    (void)arg;
    pin(cpu_b);
    long i = 0;
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < TRIPS; k++) {
            i++;
            while (atomic_load_explicit(&ping, memory_order_acquire) != i) {
            }
            atomic_store_explicit(&pong, i, memory_order_release);
        }
        while (atomic_load_explicit(&phase, memory_order_acquire) != 2 * r + 1) {
        }
        side_b = alu(1);
        atomic_store_explicit(&phase, 2 * r + 2, memory_order_release);
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof v[0], cmp);
    return v[n / 2];
}

int main(int argc, char **argv) {
    int verbose = argc > 1 && strcmp(argv[argc - 1], "-v") == 0;
    int args = argc - verbose;
    if (args < 3 || args > 4) {
        fprintf(stderr, "usage: %s CPU_A CPU_B [REPS] [-v]\n", argv[0]);
        return 2;
    }
    int cpu_a = atoi(argv[1]);
    cpu_b = atoi(argv[2]);
    reps = args == 4 ? atoi(argv[3]) : 60;
    if (cpu_a == cpu_b || reps < 1 || reps > MAXREPS) {
        fprintf(stderr, "two different CPUs and 1..%d reps, please\n", MAXREPS);
        return 2;
    }
    if (pin(cpu_a) != 0) {
        fprintf(stderr, "cannot pin to CPU %d\n", cpu_a);
        return 1;
    }
    static double rt[MAXREPS], alone[MAXREPS], side[MAXREPS], ratio[MAXREPS];
    pthread_t t;
    pthread_create(&t, NULL, other, NULL);
    long i = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int k = 0; k < TRIPS; k++) {
            i++;
            atomic_store_explicit(&ping, i, memory_order_release);
            while (atomic_load_explicit(&pong, memory_order_acquire) != i) {
            }
        }
        rt[r] = (now() - t0) / TRIPS;
        atomic_store_explicit(&phase, 2 * r + 1, memory_order_release);
        double sa = alu(0);
        while (atomic_load_explicit(&phase, memory_order_acquire) != 2 * r + 2) {
        }
        alone[r] = alu(2);
        side[r] = sa > side_b ? sa : side_b;
        ratio[r] = side[r] / alone[r];
        if (verbose) {
            printf("rep %d: round trip %.1f ns, side by side %.3f ns/iter (slower of two), alone %.3f\n", r, rt[r], side[r], alone[r]);
        }
    }
    pthread_join(t, NULL);
    double m_ratio = median(ratio, reps);
    const char *verdict = m_ratio < 1.3 ? "two cores" : m_ratio > 1.7 ? "one core's two hyperthreads" : "in between (sharing part of the time)";
    printf("round trip %.1f ns; alone %.3f, side by side %.3f ns/iter; ratio %.2f: %s\n", median(rt, reps), median(alone, reps), median(side, reps), m_ratio,
           verdict);
    return 0;
}
