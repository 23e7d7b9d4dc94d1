/* How fast this host hands a process new memory: maps MB megabytes, touches
 * one byte of every 4 KiB page (the kernel zeroes each page on first touch)
 * and prints GB/s; then the same on a second mapping with transparent huge
 * pages asked for (MADV_HUGEPAGE, as `nerve run` does for its large arrays).
 * The first mapping is kept until both are measured: memory just unmapped
 * is handed out again at once and cheaply, so the second would not be of
 * new memory otherwise (the process needs 2 × MB of free memory).
 *
 * Loading a large image is mostly this (the 1M ring's load touches ~3.3 GB
 * of new memory; docs/benchmarks.md). On a VM the rate is the host's: with
 * virtio-balloon free page reporting, memory the guest freed seconds ago has
 * been given back to the host, and touching it again costs a host fault.
 * This project's VM ran it at 0.2 to 3 GB/s from minute to minute.
 *
 *     cc -O2 bench/host/fresh_memory.c -o fresh_memory
 *     ./fresh_memory [MB]        (default 1024)
 *
 * Prints `GB/s-4KiB GB/s-huge`.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Maps `bytes`, touches every page and gives GB/s; the mapping stays. */
static double touch(size_t bytes, int huge) {
    double t0 = now();
    volatile char *p = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    if (huge)
        madvise((void *)p, bytes, MADV_HUGEPAGE);
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = 1;
    return bytes / (now() - t0) / 1e9;
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 1024;
    if (mb == 0) {
        fprintf(stderr, "usage: fresh_memory [MB > 0]\n");
        return 2;
    }
    double small = touch(mb << 20, 0);
    double huge = touch(mb << 20, 1);
    printf("%.3f %.3f\n", small, huge);
    return 0;
}
