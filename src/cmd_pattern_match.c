/*
 * kizuna pattern match: evaluate one STIX pattern against observed data.
 *
 *   kizuna pattern match [--stix-version 2.0|2.1] PATTERN FILE...
 *
 * A FILE holds a bundle, a JSON array of bundles and/or objects, or JSON lines; the
 * observed-data objects, in input order across all files, are the observations. '-' reads
 * stdin (for PATTERN or one FILE). Exit status: 0 match (the ids of one binding's
 * observed-data are printed, one per line), 1 no match, 2 invalid pattern (LINE:COLUMN:
 * MESSAGE), unreadable or malformed input, or bad usage, 3 the data cannot be evaluated
 * (e.g. a malformed timestamp, an invalid regular expression).
 */
#include "cli.h"

#include <errno.h>
#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void match_usage(void)
{
    printf("usage: kizuna pattern match [--stix-version 2.0|2.1] PATTERN FILE...\n"
           "\n"
           "Match a STIX pattern against observed-data. Each FILE holds a bundle, a JSON array\n"
           "of bundles and/or objects, or JSON lines; '-' is stdin (PATTERN or one FILE).\n"
           "STIX 2.1 observed-data refers to SCOs in its bundle (object_refs); 2.0 embeds them.\n"
           "\n"
           "exit status: 0 match (prints the observed-data ids of one binding), 1 no match,\n"
           "             2 invalid pattern, unreadable input or bad usage,\n"
           "             3 the data cannot be evaluated against the pattern\n");
}

static int on_err(void *ctx, const kz_json_error *e)
{
    fprintf(stderr, "kizuna pattern match: %s:%d:%d: %s\n", (const char *)ctx, e->line, e->column,
            e->text);
    return 0;
}

static char *read_pattern(const char *arg)
{
    if (strcmp(arg, "-") != 0)
        return strdup(arg);
    size_t len;
    char *buf = kz_read_file("-", &len);
    if (buf)
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = 0;
    return buf;
}

int cmd_pattern_match(int argc, char **argv)
{
    int version = 21, i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--stix-version") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "2.1") == 0)
                version = 21;
            else if (strcmp(v, "2.0") == 0)
                version = 20;
            else {
                fprintf(stderr, "kizuna pattern match: unknown STIX version '%s'\n", v);
                return 2;
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            match_usage();
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "kizuna pattern match: unknown option '%s'\n", argv[i]);
            match_usage();
            return 2;
        } else {
            break;
        }
    }
    if (argc - i < 2) {
        match_usage();
        return 2;
    }
    char *text = read_pattern(argv[i]);
    if (!text) {
        fprintf(stderr, "kizuna pattern match: cannot read the pattern: %s\n", strerror(errno));
        return 2;
    }
    int line = 0, col = 0;
    char msg[256] = "";
    kz_pattern *p = kz_pattern_parse(text, version, &line, &col, msg, sizeof msg);
    free(text);
    if (!p) {
        fprintf(stderr, "%d:%d: %s\n", line, col, msg);
        return 2;
    }
    json_t *docs = json_array();
    int rc = 0;
    for (int f = i + 1; f < argc && rc == 0; f++) {
        long n = kz_json_append_file(argv[f], docs, on_err, argv[f]);
        if (n < 0)
            fprintf(stderr, "kizuna pattern match: %s: %s\n", argv[f], strerror(errno));
        if (n != 0)
            rc = 2;
    }
    kz_obs_set *s = NULL;
    char err[512] = "";
    if (rc == 0) {
        s = kz_obs_set_from_json(docs, version, err, sizeof err);
        if (!s) {
            fprintf(stderr, "kizuna pattern match: cannot evaluate: %s\n", err);
            rc = 3;
        }
    }
    if (rc == 0) {
        size_t *b = NULL, nb = 0;
        int r = kz_pattern_match(p, s, &b, &nb, err, sizeof err);
        if (r < 0) {
            fprintf(stderr, "kizuna pattern match: cannot evaluate: %s\n", err);
            rc = 3;
        } else if (r == 0) {
            rc = 1;
        } else {
            for (size_t k = 0; k < nb; k++) {
                const char *id = kz_obs_set_id(s, b[k]);
                if (id)
                    printf("%s\n", id);
                else
                    printf("#%zu\n", b[k]);
            }
        }
        free(b);
    }
    kz_obs_set_free(s);
    json_decref(docs);
    kz_pattern_free(p);
    return rc;
}
