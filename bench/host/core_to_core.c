/* Cache-line round trip between two CPUs: how long one thread's write takes
 * to reach another and come back. nerve's threads meet once per timestep
 * through such a line (`Posts`), so this bounds what a second thread can
 * bring on a given host, and on a VM it changes with where the host puts
 * the vCPUs. Prints the median of 15 batches of 20,000 round trips, in ns.
 *
 *     cc -O2 -pthread bench/host/core_to_core.c -o c2c && ./c2c 0 1
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TRIPS 20000
#define BATCHES 15

static _Alignas(128) _Atomic long ping;
static _Alignas(128) _Atomic long pong;
static int cpu_b;

static int pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *echo(void *arg) {
    (void)arg;
    pin(cpu_b);
    for (long i = 1; i <= (long)TRIPS * BATCHES; i++) {
        while (atomic_load_explicit(&ping, memory_order_acquire) != i) {
        }
        atomic_store_explicit(&pong, i, memory_order_release);
    }
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CPU_A CPU_B\n", argv[0]);
        return 2;
    }
    int cpu_a = atoi(argv[1]);
    cpu_b = atoi(argv[2]);
    if (cpu_a == cpu_b) {
        fprintf(stderr, "two different CPUs, please (one would spin waiting for the other's time slice)\n");
        return 2;
    }
    if (pin(cpu_a) != 0) {
        fprintf(stderr, "cannot pin to CPU %d\n", cpu_a);
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, echo, NULL);
    double ns[BATCHES];
    long i = 0;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now();
        for (int k = 0; k < TRIPS; k++) {
            i++;
            atomic_store_explicit(&ping, i, memory_order_release);
            while (atomic_load_explicit(&pong, memory_order_acquire) != i) {
            }
        }
        ns[b] = (now() - t0) / TRIPS;
    }
    pthread_join(t, NULL);
    qsort(ns, BATCHES, sizeof ns[0], cmp);
    printf("%.1f\n", ns[BATCHES / 2]);
    return 0;
}
