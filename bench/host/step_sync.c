/* The floor of a two-thread timestep on this host: what meeting once per
 * step costs when there is nothing else to wait for. Two pinned threads each
 * do W0 / W1 cycles of work (no memory traffic), post the step the way
 * nerve's `Posts` do (a line per thread and step parity, taken back a step
 * ahead; the other's line asked for right after posting), do V cycles of
 * work between posting and waiting (nerve: sending and settling the step
 * before), then spin until the other has posted. Prints the step's period
 * in TSC cycles and what it costs beyond the mean work plus the window, and
 * per thread the cycles each part of its step took. The work and the window
 * are timed as they ran, not taken as asked for: a spin of W cycles here
 * lasts ~4-11% longer (session 32: 4,140-4,430 for 4,000), and the floor is
 * what the step costs beyond what was really done. The engine's own step
 * can cost no less beyond its work; CUBA's two-thread step has ~4,000
 * cycles of work before a post.
 *
 *     cc -O2 -pthread bench/host/step_sync.c -o step_sync
 *     ./step_sync [W0 [W1 [V [CPU_A CPU_B]]]]      # defaults 4000 4000 280 0 1
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#if !defined(__x86_64__)
int main(void) {
    fprintf(stderr, "step_sync: x86-64 only (it counts TSC cycles)\n");
    return 1;
}
#else
#include <x86intrin.h>

#define STEPS 200000

/* A thread's post of one step parity: the step plus one, its spikes. */
struct post {
    _Alignas(128) _Atomic uint64_t seq;
    uint64_t n, before, spikes[13];
};

static struct post posts[2][2];
static long work[2], window;
static int cpus[2];
static uint64_t cycles[2], waited[2], worked[2], windowed[2], posted[2];
static volatile uint64_t sink;

static void spin_for(long cyc) {
    uint64_t t = __rdtsc();
    while ((long)(__rdtsc() - t) < cyc) {
    }
}

static void *run(void *arg) {
    int t = (int)(intptr_t)arg, o = 1 - t;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpus[t], &s);
    if (pthread_setaffinity_np(pthread_self(), sizeof s, &s)) {
        fprintf(stderr, "step_sync: cannot pin to CPU %d\n", cpus[t]);
        exit(1);
    }
    uint64_t start = __rdtsc(), w = 0, wk = 0, wn = 0, ps = 0;
    for (uint64_t step = 0; step < STEPS; step++) {
        uint64_t b = __rdtsc();
        spin_for(work[t]);
        uint64_t c = __rdtsc();
        wk += c - b;
        struct post *p = &posts[t][step & 1];
        p->spikes[0] = step;
        p->n = 1;
        atomic_store_explicit(&p->seq, step + 1, memory_order_release);
        struct post *q = &posts[o][step & 1];
        _mm_prefetch((const char *)q, _MM_HINT_T0);
        uint64_t d = __rdtsc();
        ps += d - c;
        spin_for(window);
        uint64_t a = __rdtsc();
        wn += a - d;
        while (atomic_load_explicit(&q->seq, memory_order_acquire) <= step)
            _mm_pause();
        w += __rdtsc() - a;
        sink += q->spikes[0];
        /* The next step's line, taken back once the other has read it. */
        posts[t][(step + 1) & 1].before = 0;
    }
    cycles[t] = __rdtsc() - start;
    waited[t] = w;
    worked[t] = wk;
    windowed[t] = wn;
    posted[t] = ps;
    return NULL;
}

int main(int argc, char **argv) {
    work[0] = argc > 1 ? atol(argv[1]) : 4000;
    work[1] = argc > 2 ? atol(argv[2]) : work[0];
    window = argc > 3 ? atol(argv[3]) : 280;
    cpus[0] = argc > 4 ? atoi(argv[4]) : 0;
    cpus[1] = argc > 5 ? atoi(argv[5]) : 1;
    pthread_t a, b;
    pthread_create(&a, NULL, run, (void *)0);
    pthread_create(&b, NULL, run, (void *)1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    double period = (double)cycles[0] / STEPS, k = STEPS;
    double wk0 = worked[0] / k, wk1 = worked[1] / k, wn0 = windowed[0] / k, wn1 = windowed[1] / k;
    printf("work %ld/%ld, window %ld (asked): period %.0f cycles, %.0f beyond the work and window as timed\n", work[0], work[1], window, period,
           period - (wk0 + wk1) / 2 - (wn0 + wn1) / 2);
    for (int t = 0; t < 2; t++)
        printf("  thread %d: work %.0f, post %.0f, window %.0f, wait %.0f\n", t, worked[t] / k, posted[t] / k, windowed[t] / k, waited[t] / k);
    return 0;
}
#endif
