/* Helpers shared by the benchmarks in bench/: clocks, medians/percentiles, resident-set size
 * and the one-line description of the machine. Each bench used to carry its own copy of these,
 * and the copies had drifted (different machine lines, different comparators); one header keeps
 * the figures comparable across benches. Header-only (static inline) because bench/CMakeLists.txt
 * builds every bench_*.c as its own executable with no shared object. Benchmarks may print and
 * exit; nothing here is for lib/. */
#ifndef KZ_BENCH_UTIL_H
#define KZ_BENCH_UTIL_H

#include <kizuna/engine.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static inline double bench_clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Monotonic wall-clock seconds. */
static inline double bench_wall_s(void)
{
    return bench_clock_s(CLOCK_MONOTONIC);
}

/* CPU seconds of the calling thread: a per-core figure even when other jobs share the machine,
 * which wall time on a busy VM is not. */
static inline double bench_thread_cpu_s(void)
{
    return bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* CPU seconds of the whole process (equal to the thread's for single-threaded benches). */
static inline double bench_process_cpu_s(void)
{
    return bench_clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* qsort comparator for doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v and returns its median (mean of the two middle values when n is even). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Sorts v and returns the element nearest to fraction p (0..1) of the way through it; p = 0.5
 * gives v[n / 2], the upper middle when n is even. 0 when n is 0. */
static inline double bench_percentile(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, bench_cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* Current resident-set size in bytes (0 if /proc/self/statm cannot be read). */
static inline size_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* One line naming the machine: kernel, architecture, CPU model, CPUs online and the 1-minute
 * load average (the machine is shared, so a high load explains a slow figure). */
static inline void bench_machine(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    char line[512], model[sizeof line] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            snprintf(model, sizeof model, "%s", c ? c + 2 : line);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    if (f)
        fclose(f);
    double la = 0;
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &la) != 1)
            la = 0;
        fclose(f);
    }
    printf("machine: %s %s %s, %s, %ld CPUs online, load average %.2f (other jobs share it)\n",
           u.sysname, u.release, u.machine, model, sysconf(_SC_NPROCESSORS_ONLN), la);
}

/* xorshift64: the benchmarks' reproducible random numbers (state must start non-zero). */
static inline uint64_t bench_xorshift(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Bytes of the process's memory in transparent huge pages (0 when unknown): an index whose
 * arrays did not get them misses the TLB on top of the caches, and its rates drop. */
static inline size_t bench_thp_bytes(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %zu kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

/* BENCH_HASH_SEED=N fixes the engine's hash seed (drawn at random per process otherwise, as
 * in production), so that two builds compared run on the same index layout. Call before the
 * first kz_engine_new. */
static inline void bench_hash_seed(void)
{
    const char *v = getenv("BENCH_HASH_SEED");
    if (v && *v && kz_engine_set_hash_seed(strtoull(v, NULL, 0)) < 0)
        fprintf(stderr, "BENCH_HASH_SEED: an engine exists already\n");
}

/* Profiling only the timed loops: with BENCH_PERF_CTL naming the control FIFO of
 * `perf record -D -1 --control fifo:FIFO`, bench_perf(true) and bench_perf(false) around a
 * loop enable and disable the recording there, so set-up and data generation stay out. */
static inline void bench_perf(int on)
{
    const char *path = getenv("BENCH_PERF_CTL");
    if (!path)
        return;
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs(on ? "enable\n" : "disable\n", f);
    fclose(f);
}

#endif
