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
#include <kizuna/stix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void machine(void)
{
    struct utsname u;
    uname(&u);
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                if (p) {
                    snprintf(model, sizeof model, "%s", p + 2);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        fclose(f);
    }
    printf("machine: %s %s, %s\n", u.sysname, u.machine, model);
}

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
        double t0 = now();
        for (int i = 0; i < nfiles; i++) {
            json_t *doc = kz_json_parse(bufs[i], lens[i], NULL);
            json_decref(doc);
        }
        tp[r] = now() - t0;
        t0 = now();
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
        tv[r] = now() - t0;
    }
    qsort(tv, (size_t)runs, sizeof *tv, cmp_double);
    qsort(tp, (size_t)runs, sizeof *tp, cmp_double);
    double mv = tv[runs / 2], mp = tp[runs / 2];
    machine();
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
