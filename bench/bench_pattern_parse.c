/*
 * Benchmark: STIX pattern parsing throughput (kz_pattern_parse + kz_pattern_free) over a
 * generated mix of simple patterns (one hash or address equality) and complex ones (several
 * observations, AND/OR/FOLLOWEDBY, sets, LIKE/MATCHES, qualifiers). Prints the median of 5
 * runs in patterns per second and MB/s, and the machine it ran on.
 * Usage: bench_pattern_parse [PATTERNS_PER_RUN]   (default 200000)
 */
#include "bench_util.h"
#include <kizuna/pattern.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One pattern of the mix; i selects the shape (3 simple : 1 complex). */
static void gen(unsigned i, kz_buf *b)
{
    kz_buf_reset(b);
    switch (i % 8) {
    case 0:
        kz_buf_printf(b, "[file:hashes.'SHA-256' = '%08x%056d']", i, 0);
        break;
    case 1:
        kz_buf_printf(b, "[ipv4-addr:value = '10.%u.%u.%u']", i >> 16 & 255, i >> 8 & 255,
                      i & 255);
        break;
    case 2:
        kz_buf_printf(b, "[domain-name:value = 'host%u.example.com']", i);
        break;
    case 3:
        kz_buf_printf(b, "[url:value = 'http://example.com/%u' OR url:value LIKE '%%/x%u/%%']",
                      i, i);
        break;
    case 4:
        kz_buf_printf(b, "[file:hashes.MD5 = '%032x']", i);
        break;
    case 5:
        kz_buf_printf(b, "[network-traffic:dst_port IN (80, 443, %u) AND "
                         "network-traffic:dst_ref.value ISSUBSET '192.168.%u.0/24'] "
                         "REPEATS 5 TIMES WITHIN 300 SECONDS",
                      1024 + i % 60000, i & 255);
        break;
    case 6:
        kz_buf_printf(b, "([file:name = 'a%u.exe' AND file:size > %u] FOLLOWEDBY "
                         "[process:command_line MATCHES '^cmd\\\\.exe /c .*%u$']) WITHIN 60 "
                         "SECONDS",
                      i, i, i);
        break;
    default:
        kz_buf_printf(b, "[email-message:from_ref.value = 'u%u@example.org' AND "
                         "email-message:body_multipart[*].body_raw_ref.name LIKE '%%.pdf'] OR "
                         "[x509-certificate:serial_number = '%u'] START "
                         "t'2024-01-01T00:00:00Z' STOP t'2025-01-01T00:00:00.5Z'",
                      i, i);
        break;
    }
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200000;
    if (n == 0)
        n = 1;
    /* generate once, outside the timing */
    char **pats = malloc(n * sizeof *pats);
    size_t bytes = 0;
    kz_buf b;
    kz_buf_init(&b);
    for (unsigned i = 0; i < n; i++) {
        gen(i, &b);
        pats[i] = strdup(b.data);
        bytes += b.len;
    }
    kz_buf_free(&b);
    double runs[5];
    for (int r = 0; r < 5; r++) {
        double t0 = bench_wall_s();
        for (unsigned i = 0; i < n; i++) {
            kz_pattern *p = kz_pattern_parse(pats[i], 21, NULL, NULL, NULL, 0);
            if (!p) {
                fprintf(stderr, "bench pattern %u does not parse: %s\n", i, pats[i]);
                return 1;
            }
            kz_pattern_free(p);
        }
        runs[r] = bench_wall_s() - t0;
    }
    double med = bench_median(runs, 5);
    bench_machine();
    printf("patterns: %u per run (%.1f bytes average; 5/8 simple, 3/8 complex)\n", n,
           (double)bytes / n);
    printf("parse+free: median of 5 runs %.3f s = %.0f patterns/s, %.1f MB/s\n", med,
           (double)n / med, (double)bytes / med / 1e6);
    for (unsigned i = 0; i < n; i++)
        free(pats[i]);
    free(pats);
    return 0;
}
