/*
 * kizuna gen: generate indicator sets, telemetry and observed-data with planted hits (a known
 * answer for demos, tests, benchmarks and analyst training). This file parses arguments and
 * reports; the generators are gen_indicators.c, gen_telemetry.c (with gen_plan.c, gen_wire.c)
 * and gen_obs.c.
 *
 * Exit status: 0 done, 2 bad usage, unreadable input or unwritable output.
 */
#include "cli.h"
#include "gen.h"

#include <errno.h>
#include <kizuna/core.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_gen_usage(void)
{
    printf("usage: kizuna gen indicators --count N [--seed S] [--mix KIND=W,...]\n"
           "                             [--format bundle|jsonl] [--out FILE]\n"
           "       kizuna gen telemetry --indicators FILE --out-dir DIR [--records N]\n"
           "                            [--hits K] [--seed S] [--start TIME]\n"
           "       kizuna gen observations --indicators FILE --out-dir DIR [--records N]\n"
           "                               [--hits K] [--seed S] [--start TIME]\n"
           "\n"
           "Generate realistic test data with a known answer. Output depends only on the\n"
           "options: the same seed gives the same bytes. Only reserved addresses (192.0.2.0/24,\n"
           "198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15, 2001:db8::/32) and reserved names\n"
           "(*.example, *.test, *.invalid) are used.\n"
           "\n"
           "indicators  STIX 2.1 identity + N indicators (bundle by default, or JSON lines)\n"
           "  --count N       number of indicators (required, 1..100000000)\n"
           "  --seed S        PRNG seed (default 1)\n"
           "  --mix ...       weights of ipv4, ipv6, cidr, domain, url, hash; kinds left out\n"
           "                  get 0 (default ipv4=35,ipv6=5,cidr=5,domain=30,url=15,hash=10)\n"
           "  --format F      bundle (default) or jsonl\n"
           "  --out FILE      write there instead of stdout\n"
           "\n"
           "telemetry   Zeek TSV logs (conn, dns, http, ssl, files), Suricata eve.json, a pcap\n"
           "            (traffic.pcap) and the answer key expected-hits.jsonl in DIR\n"
           "  --indicators F  STIX bundle, array or JSON lines whose values are planted\n"
           "  --out-dir DIR   created if missing (one level)\n"
           "  --records N     background sessions, 1..10000000 (default 1000)\n"
           "  --hits K        planted hits (default 20; 0 plants none)\n"
           "  --seed S        PRNG seed (default 1)\n"
           "  --start TIME    RFC 3339 time of the first session (default 2026-01-15T09:00:00Z)\n"
           "\n"
           "observations  the same sessions as STIX 2.1 observed-data bundles, one per line, in\n"
           "            DIR/observations.jsonl, with DIR/expected-hits.jsonl (same options)\n"
           "\n"
           "See docs/GEN.md for what is planted and how the answer key reads.\n"
           "exit status: 0 done, 2 bad usage, unreadable input or unwritable output\n");
}

static int parse_u64(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max,
                     uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+') {
        fprintf(stderr, "kizuna gen %s: %s needs a number\n", cmd, opt);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        fprintf(stderr, "kizuna gen %s: %s must be a whole number from %llu to %llu, not '%s'\n",
                cmd, opt, (unsigned long long)min, (unsigned long long)max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_mix(const char *s, unsigned mix[GEN_K_COUNT])
{
    memset(mix, 0, sizeof(unsigned) * GEN_K_COUNT);
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        return -1;
    unsigned total = 0;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        int k = -1;
        if (eq) {
            *eq = '\0';
            for (int i = 0; i < GEN_K_COUNT; i++)
                if (strcmp(tok, gen_kind_names[i]) == 0)
                    k = i;
        }
        char *end;
        errno = 0;
        unsigned long w = eq && eq[1] != '-' ? strtoul(eq + 1, &end, 10) : 0;
        if (k < 0 || !eq || errno || *end || w > 1000000 || eq[1] == '\0') {
            fprintf(stderr,
                    "kizuna gen indicators: --mix: '%s' is not KIND=WEIGHT (KIND one of ipv4, "
                    "ipv6, cidr, domain, url, hash; WEIGHT 0..1000000)\n",
                    tok);
            rc = -1;
            break;
        }
        mix[k] = (unsigned)w;
        total += (unsigned)w;
    }
    if (rc == 0 && total == 0) {
        fprintf(stderr, "kizuna gen indicators: --mix: the weights add up to 0\n");
        rc = -1;
    }
    free(copy);
    return rc;
}

static int gen_indicators_cmd(int argc, char **argv)
{
    gen_ind_opts o = {.count = 0, .seed = 1, .mix = {35, 5, 5, 30, 15, 10}, .jsonl = false};
    const char *out_path = NULL;
    bool have_count = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--count") == 0) {
            if (parse_u64("indicators", a, v, 1, 100000000, &o.count) < 0)
                return 2;
            have_count = true;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u64("indicators", a, v, 0, UINT64_MAX, &o.seed) < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--mix") == 0) {
            if (!v || parse_mix(v, o.mix) < 0) {
                if (!v)
                    fprintf(stderr, "kizuna gen indicators: --mix needs KIND=WEIGHT,...\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--format") == 0) {
            if (v && strcmp(v, "bundle") == 0)
                o.jsonl = false;
            else if (v && strcmp(v, "jsonl") == 0)
                o.jsonl = true;
            else {
                fprintf(stderr, "kizuna gen indicators: --format must be bundle or jsonl\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--out") == 0) {
            if (!v || !*v) {
                fprintf(stderr, "kizuna gen indicators: --out needs a FILE\n");
                return 2;
            }
            out_path = v;
            i++;
        } else {
            fprintf(stderr, "kizuna gen indicators: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!have_count) {
        fprintf(stderr, "kizuna gen indicators: --count N is required\n");
        return 2;
    }
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "kizuna gen indicators: cannot write %s: %s\n", out_path, strerror(errno));
        return 2;
    }
    char err[256] = "";
    int rc = gen_indicators_write(&o, out, err, sizeof err);
    if (out != stdout) {
        if (fclose(out) != 0 && rc == 0) {
            snprintf(err, sizeof err, "%s", strerror(errno));
            rc = -1;
        }
    } else if (fflush(stdout) != 0 && rc == 0) {
        rc = -1;
        snprintf(err, sizeof err, "write failed");
    }
    if (rc < 0) {
        fprintf(stderr, "kizuna gen indicators: %s: %s\n", out_path ? out_path : "stdout", err);
        return 2;
    }
    if (out_path)
        fprintf(stderr, "kizuna gen indicators: wrote %llu indicators to %s\n",
                (unsigned long long)o.count, out_path);
    return 0;
}

static int gen_telemetry_cmd(int argc, char **argv, bool observations)
{
    gen_tel_opts o = {.records = 1000, .hits = 20, .seed = 1, .observations = observations};
    const char *cmd = observations ? "observations" : "telemetry";
    const char *start = "2026-01-15T09:00:00Z";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--indicators") == 0 || strcmp(a, "--out-dir") == 0 ||
            strcmp(a, "--start") == 0) {
            if (!v || !*v) {
                fprintf(stderr, "kizuna gen %s: %s needs a value\n", cmd, a);
                return 2;
            }
            if (a[2] == 'i')
                o.indicators = v;
            else if (a[2] == 'o')
                o.out_dir = v;
            else
                start = v;
            i++;
        } else if (strcmp(a, "--records") == 0) {
            if (parse_u64(cmd, a, v, 1, 10000000, &o.records) < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--hits") == 0) {
            if (parse_u64(cmd, a, v, 0, 1000000, &o.hits) < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u64(cmd, a, v, 0, UINT64_MAX, &o.seed) < 0)
                return 2;
            i++;
        } else {
            fprintf(stderr, "kizuna gen %s: unknown option '%s' (see --help)\n", cmd, a);
            return 2;
        }
    }
    if (!o.indicators || !o.out_dir) {
        fprintf(stderr, "kizuna gen %s: --indicators FILE and --out-dir DIR are required\n", cmd);
        return 2;
    }
    kz_time t;
    char terr[128];
    if (kz_time_parse(start, &t, terr, sizeof terr) < 0) {
        fprintf(stderr, "kizuna gen %s: --start: %s\n", cmd, terr);
        return 2;
    }
    /* pcap stores seconds as an unsigned 32-bit count from 1970 */
    if (t.us < 0 || t.us >= 4102444800LL * 1000000) {
        fprintf(stderr, "kizuna gen %s: --start must be from 1970 to 2099\n", cmd);
        return 2;
    }
    o.start_us = t.us;
    gen_tel_stats st;
    char err[512] = "";
    int rc = gen_telemetry_run(&o, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "kizuna gen %s: %s\n", cmd, err);
        return 2;
    }
    fprintf(stderr,
            "kizuna gen %s: %zu indicators (%zu plantable), %zu sessions, %zu packets, "
            "%zu hits planted, %zu answer-key entries in %s\n",
            cmd, st.indicators, st.plantable, st.sessions, st.packets, st.planted, st.key_entries,
            o.out_dir);
    if (o.hits && st.planted == 0)
        fprintf(stderr, "kizuna gen %s: warning: no indicator in %s could be planted\n", cmd,
                o.indicators);
    return 0;
}

int cmd_gen(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "kizuna gen: which? indicators, telemetry or observations (see --help)\n");
        return 2;
    }
    if (strcmp(argv[1], "indicators") == 0)
        return gen_indicators_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "telemetry") == 0)
        return gen_telemetry_cmd(argc - 1, argv + 1, false);
    if (strcmp(argv[1], "observations") == 0)
        return gen_telemetry_cmd(argc - 1, argv + 1, true);
    fprintf(stderr, "kizuna gen: unknown generator '%s' (indicators, telemetry or observations)\n",
            argv[1]);
    return 2;
}
