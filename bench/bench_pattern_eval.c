/*
 * Benchmark: STIX pattern evaluation throughput. Generates N observed-data (STIX 2.0 shape,
 * one second apart, each with a network-traffic referencing an ipv4-addr and a
 * domain-name), then times kz_matcher_match over the whole set for simple, compound (AND/OR
 * inside one [...]) and temporal (FOLLOWEDBY/WITHIN/REPEATS) patterns, plus the
 * one-observation API, and a set where every observation matches every leaf — the case
 * whose cross products took the reference matcher an hour. Prints the median of 5 runs in
 * observations per second (and milliseconds per whole-set match), and the machine.
 * Usage: bench_pattern_eval [OBSERVATIONS]   (default 5000)
 */
#include "bench_util.h"
#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *gen_traffic(size_t n)
{
    json_t *docs = json_array();
    char ts[40], ip[32], dom[64];
    for (size_t i = 0; i < n; i++) {
        kz_time_format((int64_t)(1577836800 + (int64_t)i) * 1000000, 0, ts, sizeof ts);
        snprintf(ip, sizeof ip, "10.%zu.%zu.%zu", i >> 16 & 255, i >> 8 & 255, i & 255);
        snprintf(dom, sizeof dom, "host%zu.%s", i, i % 7 ? "example.com" : "example.org");
        json_t *od = json_pack(
            "{s:s, s:s, s:s, s:s, s:i, s:{s:{s:s, s:s}, s:{s:s, s:s, s:i, s:[s, s]}, "
            "s:{s:s, s:s}}}",
            "type", "observed-data", "id", "observed-data--bench", "first_observed", ts,
            "last_observed", ts, "number_observed", 1, "objects", "0", "type", "ipv4-addr", "value",
            ip, "1", "type", "network-traffic", "dst_ref", "0", "dst_port", (int)(i % 3 ? 443 : 53),
            "protocols", "ipv4", i % 3 ? "tcp" : "udp", "2", "type", "domain-name", "value", dom);
        json_array_append_new(docs, od);
    }
    return docs;
}

static json_t *gen_people(size_t n)
{
    json_t *docs = json_array();
    char ts[40];
    for (size_t i = 0; i < n; i++) {
        kz_time_format((int64_t)(1577836800 + (int64_t)i) * 1000000, 0, ts, sizeof ts);
        json_array_append_new(docs, json_pack("{s:s, s:s, s:s, s:i, s:{s:{s:s, s:i}}}", "type",
                                              "observed-data", "first_observed", ts,
                                              "last_observed", ts, "number_observed", 1, "objects",
                                              "0", "type", "person", "age", (int)(i % 2 ? 7 : 3)));
    }
    return docs;
}

/* Median seconds of 5 whole-set matches of pattern over s; -1 when it does not evaluate. */
static double time_match(const char *pattern, const kz_obs_set *s, int *result)
{
    int line, col;
    char msg[256], err[256];
    kz_pattern *p = kz_pattern_parse(pattern, 20, &line, &col, msg, sizeof msg);
    if (!p) {
        printf("  parse error %d:%d: %s\n", line, col, msg);
        return -1;
    }
    kz_matcher *m = kz_matcher_new(p, err, sizeof err);
    double t[5];
    for (int r = 0; r < 5 && m; r++) {
        double t0 = bench_wall_s();
        *result = kz_matcher_match(m, s, NULL, NULL, err, sizeof err);
        t[r] = bench_wall_s() - t0;
    }
    if (m && *result < 0)
        printf("  error: %s\n", err);
    kz_matcher_free(m);
    kz_pattern_free(p);
    if (!m)
        return -1;
    return bench_median(t, 5);
}

static void report(const char *label, const char *pattern, const kz_obs_set *s)
{
    int r = -1;
    double sec = time_match(pattern, s, &r);
    size_t n = kz_obs_set_count(s);
    printf("%-10s %9.0f obs/s  %8.3f ms/set  result=%s  %s\n", label, sec > 0 ? n / sec : 0,
           sec * 1e3,
           r == 1   ? "match"
           : r == 0 ? "no-match"
                    : "error",
           pattern);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5000;
    if (n < 10)
        n = 10;
    bench_machine();
    printf("observations per set: %zu; median of 5 runs\n\n", n);
    char err[256];

    json_t *docs = gen_traffic(n);
    double t0 = bench_wall_s();
    kz_obs_set *s = kz_obs_set_from_json(docs, 20, err, sizeof err);
    double load = bench_wall_s() - t0;
    if (!s) {
        printf("load failed: %s\n", err);
        return 1;
    }
    printf("load      %9.0f obs/s  (kz_obs_set_from_json, once)\n\n", n / load);
    report("simple", "[ipv4-addr:value = '10.0.3.7']", s);
    report("simple", "[domain-name:value LIKE '%.example.org']", s);
    report("compound",
           "[network-traffic:dst_port = 443 AND network-traffic:dst_ref.value ISSUBSET "
           "'10.0.0.0/16' OR network-traffic:protocols[*] = 'udp']",
           s);
    report("compound",
           "[domain-name:value MATCHES '^host[0-9]+7\\\\.example' AND "
           "domain-name:value NOT LIKE '%.org']",
           s);
    report("temporal",
           "([ipv4-addr:value = '10.0.0.5'] FOLLOWEDBY [domain-name:value = 'host9.example.com']) "
           "WITHIN 60 SECONDS",
           s);
    report("temporal", "[network-traffic:dst_port = 53] REPEATS 5 TIMES WITHIN 12 SECONDS", s);
    report("temporal", "[network-traffic:dst_port = 53] REPEATS 5 TIMES WITHIN 11 SECONDS",
           s); /* every third observation: 5 need 12 s, so no match */

    /* one observation at a time through the detection-engine entry point */
    {
        int line, col;
        char msg[256];
        kz_pattern *p = kz_pattern_parse(
            "[network-traffic:dst_port = 443 AND network-traffic:dst_ref.value ISSUBSET "
            "'10.0.0.0/16']",
            20, &line, &col, msg, sizeof msg);
        kz_matcher *m = p ? kz_matcher_new(p, err, sizeof err) : NULL;
        double t[5];
        size_t hits = 0;
        for (int r = 0; r < 5 && m; r++) {
            hits = 0;
            double a = bench_wall_s();
            for (size_t i = 0; i < n; i++)
                hits += kz_matcher_match_observation(m, 0, s, i, err, sizeof err) == 1;
            t[r] = bench_wall_s() - a;
        }
        if (m) {
            printf("%-10s %9.0f obs/s  (kz_matcher_match_observation, %zu hits)\n", "one-obs",
                   n / bench_median(t, 5), hits);
        }
        kz_matcher_free(m);
        kz_pattern_free(p);
    }
    kz_obs_set_free(s);
    json_decref(docs);

    printf("\nexplosion set: every observation matches every leaf\n");
    docs = gen_people(n);
    s = kz_obs_set_from_json(docs, 20, err, sizeof err);
    if (!s) {
        printf("load failed: %s\n", err);
        return 1;
    }
    report("explode", "[person:age < 20] REPEATS 10 TIMES WITHIN 8 SECONDS", s);
    report("explode", "[person:age < 20] REPEATS 10 TIMES WITHIN 10 SECONDS", s);
    report("explode", "([person:age < 20] FOLLOWEDBY [person:age > 5]) REPEATS 10 TIMES", s);
    report("explode",
           "[person:age < 20] AND [person:age < 20] AND [person:age < 20] AND [person:age < 20] "
           "AND [person:age < 20] AND [person:age < 20] AND [person:age < 20] AND "
           "[person:age < 20] AND [person:age < 20] AND [person:age < 20]",
           s);
    report("explode", "([person:age < 5] AND [person:age > 5]) WITHIN 1 SECONDS REPEATS 50 TIMES",
           s);
    report("explode", "[person:age < 20] REPEATS 100 TIMES WITHIN 98 SECONDS", s);
    kz_obs_set_free(s);
    json_decref(docs);
    return 0;
}
