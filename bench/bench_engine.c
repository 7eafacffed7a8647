/*
 * Detection engine benchmark: N synthetic indicators (kz_engine_gen_indicator: 40%
 * addresses, 5% CIDRs, 30% domains, 15% URLs, 10% hashes), then
 *   - compile time (one transaction: JSON parse + pattern parse + index build),
 *   - index memory: RSS after load (malloc_trim) minus RSS before, per indicator, and the
 *     engine's own count of segment bytes,
 *   - exact-value index probes/s (kz_engine_lookup_exact_batch), of values that hit (the
 *     worst case), of values absent from the set (most of what traffic carries) and of a
 *     mix with one present value in a hundred,
 *   - exact observations/s through the full matcher (kz_engine_match_batch, one field),
 *   - domain-suffix observations/s (subdomains of "domain and subdomains" indicators and of
 *     plain domains: exact + suffix probes, hits answered without the evaluator),
 *   - mixed observations/s (DNS query, HTTP request, TLS handshake records; 10% hits),
 *   - incremental change: 1,000 added, 1,000 removed, each one published generation.
 * Every rate is the median of RUNS runs on one thread. Records carry the engine's own type
 * names (kz_engine_path_type), as the sensor's do.
 *
 *   bench_engine [N=1000000] [RUNS=5]
 */
#include "bench_util.h"
#include <kizuna/engine.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Rates are per core: operations over the CPU time of the measuring thread (the machine is
 * shared, so wall time would mostly measure the other jobs); wall-clock rates are printed
 * next to them. */
static double wrate[50];
static double w0;

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd64(void)
{
    return bench_xorshift(&rs);
}

static int count_hit(void *ctx, const kz_engine_hit *h)
{
    (void)h;
    (*(size_t *)ctx)++;
    return 0;
}

/* BENCH_MODIFIED=spread gives each indicator its own modified time (one second apart from
 * 2024-01-01), as most real feeds do; unset, they share the generator's one, as a bulk export's
 * do. The index stores a time other than the segment's first record's after the entry. */
static void spread_modified(kz_buf *one, size_t i)
{
    static const char key[] = "\"modified\":\"";
    char *at = strstr(one->data, key);
    if (!at)
        return;
    at += sizeof key - 1; /* the generator's "2024-01-01T00:00:00.000Z": 24 characters */
    time_t t = (time_t)(1704067200 + i);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + 19, sizeof ts - 19, ".%03uZ", (unsigned)(i % 1000));
    memcpy(at, ts, 24);
}

/* BENCH_ONLY=exact,probes,suffix,mixed,incremental (or present: the probes of present values
 * alone) limits the figures measured (for profiling one phase); unset, all are. BENCH_QUERIES
 * sets the queries per figure.
 * BENCH_ONLY=churn (never by default) runs the sustained feed, BENCH_CHURN rounds. */
static int runs_for(const char *phase, int runs)
{
    const char *only = getenv("BENCH_ONLY");
    return !only || strstr(only, phase) ? runs : 0;
}

typedef struct exact_paths {
    long ip4, ip6, dom, url, sha, md5;
} exact_paths;

/* Generated indicator i of seed into one/val; its value's path when it is of a class the
 * exact index answers (address, domain, URL, hash), else -1. */
static long exact_value(const exact_paths *xp, uint64_t seed, uint64_t i, kz_buf *one, kz_buf *val)
{
    const char *kind;
    kz_engine_gen_indicator(seed, i, one, val, &kind);
    return strcmp(kind, "ipv4") == 0     ? xp->ip4
           : strcmp(kind, "ipv6") == 0   ? xp->ip6
           : strcmp(kind, "domain") == 0 ? xp->dom
           : strcmp(kind, "url") == 0    ? xp->url
           : strcmp(kind, "sha256") == 0 ? xp->sha
           : strcmp(kind, "md5") == 0    ? xp->md5
                                         : -1;
}

/* Times runs exact batch lookups of the n values and prints their rate as "exact index
 * probes<label>" (nothing when runs is 0). */
static void probe_figure(kz_engine *e, const char *label, const uint32_t *paths,
                         const char *const *vals, const uint32_t *lens, size_t n, uint32_t *counts,
                         int runs)
{
    double rate[50], wr[50];
    for (int r = 0; r < runs; r++) {
        const kz_engine_gen *g = kz_engine_acquire(e);
        double c0 = bench_thread_cpu_s(), t0 = bench_wall_s();
        bench_perf(1);
        kz_engine_lookup_exact_batch(g, paths, vals, lens, n, counts);
        bench_perf(0);
        rate[r] = (double)n / (bench_thread_cpu_s() - c0);
        wr[r] = (double)n / (bench_wall_s() - t0);
        kz_engine_release(e, g);
    }
    if (!runs)
        return;
    size_t found = 0;
    for (size_t i = 0; i < n; i++)
        found += counts[i] > 0;
    printf("exact index probes%s: %.2f M/s per core (%.2f M/s wall) (%zu of %zu values found)\n",
           label, bench_median(rate, runs) / 1e6, bench_median(wr, runs) / 1e6, found, n);
}

typedef struct qset {
    kz_engine_record *r;
    kz_engine_field *f;
    const char **types; /* per record: up to 4 */
    char *arena;
    size_t n, nf, alen, acap;
} qset;

static const char *put(qset *q, const char *s, size_t len)
{
    if (q->alen + len + 1 > q->acap) {
        fprintf(stderr, "arena full\n");
        exit(1);
    }
    char *d = q->arena + q->alen;
    memcpy(d, s, len);
    d[len] = 0;
    q->alen += len + 1;
    return d;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    size_t N = argc > 1 ? strtoull(argv[1], &end, 10) : 1000000;
    if (argc > 1 && (end == argv[1] || *end || N < 1 || N > 100000000)) {
        fprintf(stderr, "bench_engine: N=%s: a number of indicators from 1 to 100000000\n", argv[1]);
        return 2;
    }
    long runs_arg = argc > 2 ? strtol(argv[2], &end, 10) : 5;
    if (argc > 2 && (end == argv[2] || *end || runs_arg < 1 || runs_arg > 50)) {
        fprintf(stderr, "bench_engine: RUNS=%s: a number of runs from 1 to 50\n", argv[2]);
        return 2;
    }
    int runs = (int)runs_arg;
    /* the query count and the sustained feed's rounds, checked before anything is built */
    const char *bq = getenv("BENCH_QUERIES");
    size_t queries = bq ? strtoull(bq, &end, 10) : 0;
    if (bq && (end == bq || *end || queries < 1 || queries > 100000000)) {
        fprintf(stderr, "BENCH_QUERIES=%s: a number of queries from 1 to 100000000\n", bq);
        return 2;
    }
    const char *only = getenv("BENCH_ONLY"), *churn = getenv("BENCH_CHURN");
    char *cend = NULL;
    long rounds = churn ? strtol(churn, &cend, 10) : 200;
    if (churn && (cend == churn || *cend || rounds < 1 || rounds > 100000)) {
        fprintf(stderr, "BENCH_CHURN=%s: a number of rounds from 1 to 100000\n", churn);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    kz_init();
    bench_machine();
    printf("indicators: %zu, runs per figure: %d (median)\n", N, runs);
    kz_engine_opts o = {.now_us = 1735689600000000ll};
    bench_hash_seed();
    kz_engine *e = kz_engine_new(&o);
    long p_ip4 = kz_engine_path(e, "ipv4-addr:value"), p_ip6 = kz_engine_path(e, "ipv6-addr:value"),
         p_dom = kz_engine_path(e, "domain-name:value"), p_url = kz_engine_path(e, "url:value"),
         p_sha = kz_engine_path(e, "file:hashes.'SHA-256'"), p_md5 = kz_engine_path(e, "file:hashes.MD5"),
         p_port = kz_engine_path(e, "network-traffic:dst_port"),
         p_dref = kz_engine_path(e, "network-traffic:dst_ref"), p_ja3 = kz_engine_path(e, "x-ja3:value");
    malloc_trim(0);
    size_t rss0 = bench_rss_bytes();

    /* ---- compile ---- */
    kz_buf chunk, one, val;
    kz_buf_init(&chunk);
    kz_buf_init(&one);
    kz_buf_init(&val);
    double t_load = 0, t_loadw = 0;
    const char *modified = getenv("BENCH_MODIFIED");
    bool spread = modified && strcmp(modified, "spread") == 0;
    kz_engine_txn *t = kz_engine_txn_begin(e);
    for (size_t i = 0; i < N;) {
        kz_buf_reset(&chunk);
        for (size_t k = 0; k < 20000 && i < N; k++, i++) {
            kz_engine_gen_indicator(1, i, &one, NULL, NULL);
            if (spread)
                spread_modified(&one, i);
            kz_buf_append(&chunk, one.data, one.len);
            kz_buf_putc(&chunk, '\n');
        }
        double a = bench_thread_cpu_s(), aw = bench_wall_s();
        kz_engine_txn_load(t, chunk.data, chunk.len, NULL);
        t_load += bench_thread_cpu_s() - a;
        t_loadw += bench_wall_s() - aw;
    }
    char err[256];
    double a = bench_thread_cpu_s(), aw = bench_wall_s();
    long added = kz_engine_txn_commit(t, err, sizeof err);
    double t_commit = bench_thread_cpu_s() - a, t_commitw = bench_wall_s() - aw;
    kz_buf_free(&chunk);
    malloc_trim(0);
    size_t rss1 = bench_rss_bytes();
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    printf("compile: %ld indicators in %.2f s CPU, %.2f s wall (JSON+pattern parsing %.2f s, "
           "index build %.2f s CPU)\n",
           added, t_load + t_commit, t_loadw + t_commitw, t_load, t_commit);
    printf("live %zu (simple %zu, confirmed %zu), index keys %zu\n", st.live, st.simple,
           st.confirmed, st.index_keys);
    printf("memory: RSS +%.1f MB = %.1f bytes/indicator; segment heap %.1f MB = %.1f bytes/indicator; "
           "%.0f MB in huge pages\n",
           (double)(rss1 - rss0) / 1e6, (double)(rss1 - rss0) / (double)N, (double)st.index_bytes / 1e6,
           (double)st.index_bytes / (double)N, (double)bench_thp_bytes() / 1e6);

    /* ---- query sets ---- */
    /* BENCH_QUERIES sets the query count apart from N (a small, cache-resident index probed
     * a million times isolates the computation from the cache misses). */
    size_t Q = queries ? queries : N < 1000000 ? N : 1000000;
    qset q = {0};
    int exit_code = 0;
    q.acap = Q * 200 + 1024;
    q.arena = malloc(q.acap);
    q.r = calloc(Q, sizeof *q.r);
    q.f = calloc(Q * 8, sizeof *q.f);
    q.types = calloc(Q * 8, sizeof *q.types);
    uint32_t *paths = malloc(Q * sizeof *paths), *lens = malloc(Q * sizeof *lens),
             *counts = calloc(Q, sizeof *counts);
    const char **vals = malloc(Q * sizeof *vals);
    if (!q.arena || !q.r || !q.f || !q.types || !paths || !lens || !counts || !vals) {
        fprintf(stderr, "bench_engine: out of memory for %zu queries\n", Q);
        exit_code = 1;
        goto out;
    }
    /* exact: values of exact-class indicators */
    const exact_paths xp = {p_ip4, p_ip6, p_dom, p_url, p_sha, p_md5};
    size_t nq = 0;
    while (nq < Q) {
        long p = exact_value(&xp, 1, rnd64() % N, &one, &val);
        if (p < 0)
            continue;
        const char *type = kz_engine_path_type(e, (uint32_t)p);
        vals[nq] = put(&q, val.data, val.len);
        lens[nq] = (uint32_t)val.len;
        paths[nq] = (uint32_t)p;
        q.types[nq * 8] = type;
        q.f[nq * 8] = (kz_engine_field){0, KZ_EF_STR, (uint32_t)p, vals[nq], (uint32_t)val.len, 0};
        q.r[nq] = (kz_engine_record){0, 0, 1, &q.types[nq * 8], 1, &q.f[nq * 8], 1};
        nq++;
    }
    double rate[50];
    size_t found = 0;
    /* BENCH_ONLY=present: these alone (a profile of present values) */
    probe_figure(e, "", paths, vals, lens, Q, counts,
                 runs_for("probes", runs) ? runs : runs_for("present", runs));
    /* the same kinds of values from another seed: absent from the set, as most of what
     * traffic carries is (the probes that hit above are the worst case) */
    {
        uint32_t *paths2 = malloc(Q * sizeof *paths2), *lens2 = malloc(Q * sizeof *lens2);
        const char **vals2 = malloc(Q * sizeof *vals2);
        size_t nq2 = 0;
        while (nq2 < Q) {
            long p = exact_value(&xp, 2, rnd64() % N, &one, &val);
            if (p < 0)
                continue;
            vals2[nq2] = put(&q, val.data, val.len);
            lens2[nq2] = (uint32_t)val.len;
            paths2[nq2++] = (uint32_t)p;
        }
        probe_figure(e, ", absent values", paths2, vals2, lens2, Q, counts,
                     runs_for("probes", runs));
        /* traffic-like: one value in a hundred present, in place of an absent one */
        for (size_t i = 0; i < Q; i += 100) {
            vals2[i] = vals[i];
            lens2[i] = lens[i];
            paths2[i] = paths[i];
        }
        probe_figure(e, ", 1% present", paths2, vals2, lens2, Q, counts,
                     runs_for("probes", runs));
        free(paths2);
        free(lens2);
        free(vals2);
    }
    for (int r = 0; r < runs_for("exact", runs); r++) {
        size_t hits = 0;
        const kz_engine_gen *g = kz_engine_acquire(e);
        a = bench_thread_cpu_s();
        w0 = bench_wall_s();
        bench_perf(1);
        kz_engine_match_batch(g, q.r, Q, count_hit, &hits, err, sizeof err);
        bench_perf(0);
        rate[r] = (double)Q / (bench_thread_cpu_s() - a);
        wrate[r] = (double)Q / (bench_wall_s() - w0);
        kz_engine_release(e, g);
        found = hits;
    }
    if (runs_for("exact", runs))
    printf("exact observations (full matcher, 1 field): %.2f M/s per core (%.2f M/s wall) (%zu hits)\n",
           bench_median(rate, runs) / 1e6, bench_median(wrate, runs) / 1e6, found);

    /* suffix: www.<domain> of "domain and subdomains" indicators, and sub.<domain> of plain ones */
    q.alen = 0;
    nq = 0;
    while (nq < Q) {
        uint64_t i = rnd64() % N;
        const char *kind;
        kz_engine_gen_indicator(1, i, &one, &val, &kind);
        if (strcmp(kind, "suffix") != 0 && strcmp(kind, "domain") != 0)
            continue;
        char b[300];
        snprintf(b, sizeof b, "%s%s", strcmp(kind, "domain") == 0 ? "cdn." : "img.", val.data);
        const char *v = put(&q, b, strlen(b));
        q.types[nq * 8] = kz_engine_path_type(e, (uint32_t)p_dom);
        q.f[nq * 8] = (kz_engine_field){0, KZ_EF_STR, (uint32_t)p_dom, v, (uint32_t)strlen(v), 0};
        q.r[nq] = (kz_engine_record){0, 0, 1, &q.types[nq * 8], 1, &q.f[nq * 8], 1};
        nq++;
    }
    for (int r = 0; r < runs_for("suffix", runs); r++) {
        size_t hits = 0;
        const kz_engine_gen *g = kz_engine_acquire(e);
        a = bench_thread_cpu_s();
        w0 = bench_wall_s();
        bench_perf(1);
        kz_engine_match_batch(g, q.r, Q, count_hit, &hits, err, sizeof err);
        bench_perf(0);
        rate[r] = (double)Q / (bench_thread_cpu_s() - a);
        wrate[r] = (double)Q / (bench_wall_s() - w0);
        kz_engine_release(e, g);
        found = hits;
    }
    if (runs_for("suffix", runs))
    printf("domain-suffix observations: %.2f M/s per core (%.2f M/s wall) (%zu hits)\n",
           bench_median(rate, runs) / 1e6, bench_median(wrate, runs) / 1e6, found);

    /* mixed: DNS query, HTTP request, TLS handshake; 10% carry an indicator's value */
    q.alen = 0;
    for (nq = 0; nq < Q; nq++) {
        int kind = (int)(nq % 3);
        bool hit = rnd64() % 10 == 0;
        char ip[64], dom[128], url[256], ja3[40];
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", (unsigned)(rnd64() % 223) + 1, (unsigned)(rnd64() % 256),
                 (unsigned)(rnd64() % 256), (unsigned)(rnd64() % 256));
        snprintf(dom, sizeof dom, "host%u.example%u.com", (unsigned)(rnd64() % 100000), (unsigned)(rnd64() % 1000));
        snprintf(url, sizeof url, "http://%s/index%u.html", dom, (unsigned)(rnd64() % 1000));
        snprintf(ja3, sizeof ja3, "%016llx%016llx", (unsigned long long)rnd64(), (unsigned long long)rnd64());
        if (hit) {
            const char *k;
            kz_engine_gen_indicator(1, rnd64() % N, &one, &val, &k);
            if (strcmp(k, "ipv4") == 0 || strcmp(k, "cidr") == 0)
                snprintf(ip, sizeof ip, "%s", val.data);
            else if (strcmp(k, "domain") == 0 || strcmp(k, "suffix") == 0)
                snprintf(dom, sizeof dom, "%s", val.data);
            else if (strcmp(k, "url") == 0)
                snprintf(url, sizeof url, "%s", val.data);
        }
        const char **ty = &q.types[nq * 8];
        kz_engine_field *f = &q.f[nq * 8];
        size_t nf = 0, nt = 0;
        ty[nt++] = kz_engine_path_type(e, (uint32_t)p_port);
        f[nf++] = (kz_engine_field){0, KZ_EF_INT, (uint32_t)p_port, NULL, 0, kind == 0 ? 53 : kind == 1 ? 80 : 443};
        f[nf++] = (kz_engine_field){0, KZ_EF_REF, (uint32_t)p_dref, NULL, 0, 1};
        ty[nt++] = kz_engine_path_type(e, (uint32_t)p_ip4);
        const char *v = put(&q, ip, strlen(ip));
        f[nf++] = (kz_engine_field){1, KZ_EF_STR, (uint32_t)p_ip4, v, (uint32_t)strlen(v), 0};
        if (kind == 1) {
            ty[nt++] = kz_engine_path_type(e, (uint32_t)p_url);
            v = put(&q, url, strlen(url));
            f[nf++] = (kz_engine_field){2, KZ_EF_STR, (uint32_t)p_url, v, (uint32_t)strlen(v), 0};
        } else if (kind == 2) {
            ty[nt++] = kz_engine_path_type(e, (uint32_t)p_ja3);
            v = put(&q, ja3, strlen(ja3));
            f[nf++] = (kz_engine_field){2, KZ_EF_STR, (uint32_t)p_ja3, v, (uint32_t)strlen(v), 0};
        }
        ty[nt++] = kz_engine_path_type(e, (uint32_t)p_dom);
        v = put(&q, dom, strlen(dom));
        f[nf++] = (kz_engine_field){(uint16_t)(nt - 1), KZ_EF_STR, (uint32_t)p_dom, v, (uint32_t)strlen(v), 0};
        q.r[nq] = (kz_engine_record){0, 0, 1, ty, nt, f, nf};
    }
    for (int r = 0; r < runs_for("mixed", runs); r++) {
        size_t hits = 0;
        const kz_engine_gen *g = kz_engine_acquire(e);
        a = bench_thread_cpu_s();
        w0 = bench_wall_s();
        bench_perf(1);
        long rc = kz_engine_match_batch(g, q.r, Q, count_hit, &hits, err, sizeof err);
        bench_perf(0);
        rate[r] = (double)Q / (bench_thread_cpu_s() - a);
        wrate[r] = (double)Q / (bench_wall_s() - w0);
        kz_engine_release(e, g);
        if (rc < 0)
            printf("mixed: error %s\n", err);
        found = hits;
    }
    if (runs_for("mixed", runs))
    printf("mixed observations (DNS/HTTP/TLS, 4-6 fields): %.2f M/s per core (%.2f M/s wall) (%zu hits)\n",
           bench_median(rate, runs) / 1e6, bench_median(wrate, runs) / 1e6, found);

    /* ---- incremental change of 1,000 ---- */
    double tadd[50], trem[50];
    for (int r = 0; r < runs_for("incremental", runs); r++) {
        kz_buf b;
        kz_buf_init(&b);
        const char *ids[1000];
        char idbuf[1000][64];
        for (int k = 0; k < 1000; k++) {
            kz_engine_gen_indicator(1, N + (size_t)r * 1000 + (size_t)k, &one, NULL, NULL);
            kz_buf_append(&b, one.data, one.len);
            kz_buf_putc(&b, '\n');
            const char *id = strstr(one.data, "indicator--");
            snprintf(idbuf[k], sizeof idbuf[k], "%.47s", id);
            ids[k] = idbuf[k];
        }
        a = bench_wall_s();
        long n = kz_engine_load(e, b.data, b.len, NULL, err, sizeof err);
        tadd[r] = bench_wall_s() - a;
        a = bench_wall_s();
        long m = kz_engine_remove(e, ids, 1000, err, sizeof err);
        trem[r] = bench_wall_s() - a;
        if (n != 1000 || m != 1000)
            printf("incremental: added %ld removed %ld\n", n, m);
        kz_buf_free(&b);
    }
    if (runs_for("incremental", runs))
    printf("incremental (wall): 1,000 added in %.1f ms, 1,000 removed in %.1f ms (one generation each)\n",
           bench_median(tadd, runs) * 1e3, bench_median(trem, runs) * 1e3);
    /* ---- a sustained feed: BENCH_CHURN rounds of 1,000 new indicators, none removed, so
     * the delta grows as it would under a live feed until a merge folds it into the base.
     * Each round's wall time, and the slowest (the rounds that merge). Only when asked
     * (BENCH_ONLY=churn): it adds BENCH_CHURN thousand indicators to the set. ---- */
    if (only && strstr(only, "churn")) {
        double *tr = malloc((size_t)rounds * sizeof *tr);
        size_t merges = 0, base0 = st.base_records;
        kz_buf b;
        kz_buf_init(&b);
        for (long r = 0; r < rounds && tr; r++) {
            b.len = 0;
            for (size_t k = 0; k < 1000; k++) {
                kz_engine_gen_indicator(3, (size_t)r * 1000 + k, &one, NULL, NULL);
                kz_buf_append(&b, one.data, one.len);
                kz_buf_putc(&b, '\n');
            }
            a = bench_wall_s();
            long n = kz_engine_load(e, b.data, b.len, NULL, err, sizeof err);
            tr[r] = bench_wall_s() - a;
            if (n != 1000)
                printf("churn: round %ld added %ld (%s)\n", r, n, n < 0 ? err : "");
            kz_engine_get_stats(e, &st);
            if (st.base_records != base0) {
                merges++;
                printf("churn: round %ld merged (%.0f ms): base %zu records\n", r, tr[r] * 1e3,
                       st.base_records);
            }
            base0 = st.base_records;
        }
        kz_engine_get_stats(e, &st);
        if (tr) {
            double p50 = bench_percentile(tr, (size_t)rounds, 0.5);
            double p90 = bench_percentile(tr, (size_t)rounds, 0.9); /* tr is sorted now */
            printf("sustained feed (wall): %ld rounds of 1,000 added: median %.1f ms, 90th "
                   "percentile %.1f ms, slowest %.1f ms; %zu merges; delta now %zu records, base "
                   "%zu\n",
                   rounds, p50 * 1e3, p90 * 1e3, tr[rounds - 1] * 1e3, merges, st.delta_records,
                   st.base_records);
        }
        free(tr);
        kz_buf_free(&b);
    }
out:
    kz_buf_free(&one);
    kz_buf_free(&val);
    free(q.arena);
    free(q.r);
    free(q.f);
    free(q.types);
    free(paths);
    free(lens);
    free(counts);
    free(vals);
    kz_engine_free(e);
    return exit_code;
}
