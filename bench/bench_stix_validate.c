/*
 * Benchmark: parse + validate throughput on real STIX bundles (the ATT&CK ICS and Mobile
 * bundles in ../shared/data/attack by default, or the files given).
 *
 *   bench_stix_validate [--runs N] [FILE...]
 *
 * Each run parses every file from memory (jansson, strict) and validates every object; the
 * figures are the median of N runs (default 7) in MB/s and objects/s on one core. Parsing
 * alone is also timed, to show how the cost splits between JSON and the rules.
 */
#include "bench_util.h"
#include <kizuna/stix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    int runs = 7;
    const char *files[64];
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (nfiles < 64)
            files[nfiles++] = argv[i];
    }
    if (runs < 1 || runs > 1000)
        runs = 7;
    if (nfiles == 0) {
        files[nfiles++] = "../shared/data/attack/ics-attack-18.1.json";
        files[nfiles++] = "../shared/data/attack/mobile-attack-17.1.json";
    }
    kz_init();
    char *bufs[64];
    size_t lens[64], total = 0;
    for (int i = 0; i < nfiles; i++) {
        bufs[i] = kz_read_file(files[i], &lens[i]);
        if (!bufs[i]) {
            fprintf(stderr, "bench_stix_validate: cannot read %s\n", files[i]);
            return 2;
        }
        total += lens[i];
    }
    double *tv = calloc((size_t)runs, sizeof *tv), *tp = calloc((size_t)runs, sizeof *tp);
    size_t objects = 0, errors = 0;
    for (int r = 0; r < runs; r++) {
        objects = errors = 0;
        double t0 = bench_wall_s();
        for (int i = 0; i < nfiles; i++) {
            json_t *doc = kz_json_parse(bufs[i], lens[i], NULL);
            json_decref(doc);
        }
        tp[r] = bench_wall_s() - t0;
        t0 = bench_wall_s();
        for (int i = 0; i < nfiles; i++) {
            json_t *doc = kz_json_parse(bufs[i], lens[i], NULL);
            kz_diags d;
            kz_diags_init(&d);
            kz_stix_opts o = {.version = KZ_STIX_AUTO, .check_sco_ids = true};
            errors += kz_stix_validate_bundle(doc, &o, &d);
            objects += json_array_size(json_object_get(doc, "objects"));
            kz_diags_free(&d);
            json_decref(doc);
        }
        tv[r] = bench_wall_s() - t0;
    }
    /* p = 0.5 picks tv[runs / 2], the upper middle for an even number of runs */
    double mv = bench_percentile(tv, (size_t)runs, 0.5);
    double mp = bench_percentile(tp, (size_t)runs, 0.5);
    bench_machine();
    printf("input: %d files, %.2f MB, %zu objects, %zu errors\n", nfiles, total / 1e6, objects,
           errors);
    printf("parse+validate: median %.1f ms over %d runs = %.1f MB/s, %.0f objects/s\n",
           mv * 1e3, runs, total / 1e6 / mv, objects / mv);
    printf("parse only:     median %.1f ms = %.1f MB/s (validation share %.0f%%)\n", mp * 1e3,
           total / 1e6 / mp, 100.0 * (mv - mp) / mv);
    for (int i = 0; i < nfiles; i++)
        free(bufs[i]);
    free(tv);
    free(tp);
    return 0;
}
