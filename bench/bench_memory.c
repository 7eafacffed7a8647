/*
 * The machine's memory, as the engine and the sensor meet it: the latency of a dependent
 * random load by working-set size (where the caches end and what a miss costs), and the rate
 * of independent random loads with software prefetch (how many misses can be in flight).
 *
 *   bench_memory [max MB, default 512]
 *
 * Why it is here: the index's figures at 10M are set by these two numbers more than by the
 * code. At 10M indicators the simple filter alone is 8 MB and the slots, records and values
 * 430 MB, so an absent value costs one miss wherever the filter is out of cache, and a
 * present one three or four dependent misses (filter, slot, record, value) that the batch
 * pipeline overlaps. Comparing runs across machines, or across days on a shared host, means
 * comparing these first. Arrays are in transparent huge pages where the kernel gives them
 * (as the engine's are), so the figures leave out 4 KiB TLB misses.
 */
#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { LINE = 64 };

static uint8_t *big(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    memset(p, 1, bytes); /* fault it all in now, not in the timed loop */
    return p;
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    return bench_xorshift(&rnd_state);
}

/* Nanoseconds per load of a pointer chase through every line of the first `bytes` of p in a
 * random cyclic order: each load's address is the previous load's value, so nothing overlaps
 * and each costs the full latency of wherever the line is. */
static double chase_ns(uint8_t *p, size_t bytes, uint32_t *perm)
{
    size_t n = bytes / LINE;
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t next = (uint64_t)perm[(i + 1) % n] * LINE;
        memcpy(p + (size_t)perm[i] * LINE, &next, sizeof next);
    }
    size_t steps = n * 2 < 4000000 ? 4000000 : n * 2;
    double best = 0;
    for (int run = 0; run < 3; run++) {
        uint64_t at = (uint64_t)perm[0] * LINE;
        double t0 = bench_wall_s();
        for (size_t i = 0; i < steps; i++)
            memcpy(&at, p + at, sizeof at);
        double ns = (bench_wall_s() - t0) / (double)steps * 1e9;
        if (at == UINT64_MAX) /* never: keeps the chase from being optimised away */
            puts("");
        if (run == 0 || ns < best)
            best = ns;
    }
    return best;
}

/* Nanoseconds per line of independent random reads over p, each prefetched dist reads ahead. */
static double stream_ns(const uint8_t *p, size_t bytes, const uint32_t *idx, size_t n, size_t dist)
{
    double best = 0;
    for (int run = 0; run < 3; run++) {
        uint64_t sum = 0;
        double t0 = bench_wall_s();
        for (size_t i = 0; i < n; i++) {
            if (dist && i + dist < n)
                __builtin_prefetch(p + (size_t)idx[i + dist] * LINE);
            sum += p[(size_t)idx[i] * LINE];
        }
        double ns = (bench_wall_s() - t0) / (double)n * 1e9;
        if (sum == UINT64_MAX)
            puts("");
        if (run == 0 || ns < best)
            best = ns;
    }
    (void)bytes;
    return best;
}

int main(int argc, char **argv)
{
    size_t max_mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 512;
    if (max_mb < 1 || max_mb > 65536) {
        fprintf(stderr, "usage: bench_memory [max MB, 1 to 65536]\n");
        return 2;
    }
    bench_machine();
    size_t bytes = max_mb << 20;
    uint8_t *p = big(bytes);
    uint32_t *perm = malloc(bytes / LINE * sizeof *perm);
    if (!p || !perm) {
        fprintf(stderr, "bench_memory: cannot allocate %zu MB\n", max_mb);
        free(perm);
        if (p)
            munmap(p, bytes);
        return 1;
    }
    printf("%zu MB mapped, %.0f MB of it in huge pages\n", max_mb,
           (double)bench_thp_bytes() / 1048576.0);
    printf("dependent random loads (best of 3):\n");
    static const size_t sizes[] = {1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128, 256, 512, 1024, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes && sizes[i] <= max_mb; i++)
        printf("  %5zu MB: %6.1f ns per load\n", sizes[i], chase_ns(p, sizes[i] << 20, perm));
    size_t n = 8000000;
    uint32_t *idx = malloc(n * sizeof *idx);
    if (!idx) {
        fprintf(stderr, "bench_memory: out of memory\n");
        free(perm);
        munmap(p, bytes);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)(rnd() % (bytes / LINE));
    printf("independent random line reads over %zu MB (best of 3):\n", max_mb);
    static const size_t dists[] = {0, 8, 16, 32, 64};
    for (size_t i = 0; i < sizeof dists / sizeof *dists; i++) {
        double ns = stream_ns(p, bytes, idx, n, dists[i]);
        printf("  prefetch %2zu ahead: %5.1f ns per line, %6.1f M lines/s\n", dists[i], ns,
               1e3 / ns);
    }
    free(idx);
    free(perm);
    munmap(p, bytes);
    return 0;
}
