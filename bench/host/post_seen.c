/* How long a post takes to be seen by a thread already polling its line,
 * against one that starts reading after it was written. nerve's threads
 * post each step in a line the other reads (`Posts`); a reader that polled
 * before the post holds a shared copy, which the writer's store must take
 * away before it lands and the reader must then fetch again: two transfers
 * where a reader arriving later needs one. Thread A writes a line at fixed
 * TSC times (its line claimed well before, as `Posts::claim` does); thread
 * B either polls from 3,000 cycles before each write ("early") or first
 * loads 100 cycles after it ("late"). Prints per mode the median and 10th /
 * 90th percentiles of B's TSC when it sees the write minus A's TSC when it
 * wrote, over 20,000 writes. Two CPUs' TSCs may be offset by a constant
 * (a VM's vCPUs especially): compare the modes, not the absolute values.
 *
 *     cc -O2 -pthread bench/host/post_seen.c -o post_seen && ./post_seen [CPU_A CPU_B]
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
    fprintf(stderr, "post_seen: x86-64 only (it counts TSC cycles)\n");
    return 1;
}
#else
#include <x86intrin.h>

#define WRITES 20000
#define GAP 20000 /* TSC cycles between writes */
#define LATE 100  /* a late reader's first load, this long after the write */

/* Writes alternate between two lines, as posts alternate by step parity. */
struct line {
    _Alignas(128) _Atomic uint64_t seq;
};

static struct line lines[2];
static int cpus[2], late;
static uint64_t start, seen[WRITES];

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (pthread_setaffinity_np(pthread_self(), sizeof s, &s)) {
        fprintf(stderr, "post_seen: cannot pin to CPU %d\n", cpu);
        exit(1);
    }
}

static void until(uint64_t t) {
    while (__rdtsc() < t)
        _mm_pause();
}

static void *writer(void *arg) {
    (void)arg;
    pin(cpus[0]);
    for (uint64_t k = 0; k < WRITES; k++) {
        uint64_t at = start + k * GAP;
        /* The next write's line, taken back long after the reader last read
         * it (two writes ago) and long before it is written. The stored
         * value is the one it holds, so the reader never sees it go back. */
        until(at - GAP / 2);
        atomic_store_explicit(&lines[(k + 1) & 1].seq, k, memory_order_relaxed);
        until(at);
        atomic_store_explicit(&lines[k & 1].seq, k + 1, memory_order_release);
    }
    return NULL;
}

static void *reader(void *arg) {
    (void)arg;
    pin(cpus[1]);
    for (uint64_t k = 0; k < WRITES; k++) {
        uint64_t at = start + k * GAP;
        struct line *l = &lines[k & 1];
        until(late ? at + LATE : at - 3000);
        while (atomic_load_explicit(&l->seq, memory_order_acquire) < k + 1)
            _mm_pause();
        seen[k] = __rdtsc() - at;
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    cpus[0] = argc > 1 ? atoi(argv[1]) : 0;
    cpus[1] = argc > 2 ? atoi(argv[2]) : 1;
    for (late = 0; late < 2; late++) {
        atomic_store(&lines[0].seq, 0);
        atomic_store(&lines[1].seq, 0);
        start = __rdtsc() + 100000000; /* both threads pinned and waiting by then */
        pthread_t a, b;
        pthread_create(&a, NULL, writer, NULL);
        pthread_create(&b, NULL, reader, NULL);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        /* Signed: with offset TSCs a write can seem seen before it was made. */
        qsort(seen, WRITES, sizeof seen[0], by_value);
        int64_t *s = (int64_t *)seen;
        printf("%s reader (%s): seen %lld cycles after the write (median; 10th-90th percentile %lld-%lld)\n", late ? "late" : "early",
               late ? "first load 100 cycles after it" : "polling from 3,000 cycles before", (long long)s[WRITES / 2], (long long)s[WRITES / 10],
               (long long)s[9 * WRITES / 10]);
    }
    return 0;
}
#endif
