/*
 * kizuna pattern: validate, inspect and print STIX patterns; `match` is handed to
 * cmd_pattern_match (src/cmd_pattern_match.c).
 *
 * Exit status: 0 valid / done, 2 invalid pattern or bad usage. An invalid pattern is reported
 * on stderr as "LINE:COLUMN: MESSAGE" (1-based, columns in code points).
 */
#include "cli.h"

#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_pattern_usage(void)
{
    printf("usage: kizuna pattern validate [--stix-version 2.0|2.1] PATTERN\n"
           "       kizuna pattern inspect  [--stix-version 2.0|2.1] PATTERN\n"
           "       kizuna pattern print    [--stix-version 2.0|2.1] PATTERN\n"
           "       kizuna pattern match    ...   (match a pattern against observed data)\n"
           "\n"
           "Work with STIX patterning expressions (STIX 2.1 by default; 2.0 takes plain\n"
           "strings in START/STOP and has no EXISTS). PATTERN '-' reads it from stdin.\n"
           "\n"
           "  validate  check syntax and semantics; prints 'valid'\n"
           "  inspect   print the comparisons, qualifiers and observation operators as JSON\n"
           "  print     print the canonical form of the pattern\n"
           "  match     see docs/PATTERNS.md for its options\n"
           "\n"
           "An invalid pattern prints LINE:COLUMN: MESSAGE on stderr, for example\n"
           "  1:14: expected a literal after =, found ']'\n"
           "\n"
           "exit status: 0 valid, 2 invalid pattern or bad usage\n");
}

typedef struct {
    int version;
    const char *pattern;
} pattern_args;

static int parse_args(int argc, char **argv, pattern_args *a)
{
    a->version = 21;
    a->pattern = NULL;
    bool no_more_opts = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *ver = NULL;
        if (!no_more_opts && strcmp(arg, "--") == 0) {
            no_more_opts = true;
            continue;
        }
        if (!no_more_opts && strcmp(arg, "--stix-version") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kizuna pattern %s: --stix-version needs 2.0 or 2.1\n", argv[0]);
                return -1;
            }
            ver = argv[++i];
        } else if (!no_more_opts && strncmp(arg, "--stix-version=", 15) == 0) {
            ver = arg + 15;
        } else if (!no_more_opts && arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "kizuna pattern %s: unknown option '%s'\n", argv[0], arg);
            return -1;
        } else if (a->pattern) {
            fprintf(stderr, "kizuna pattern %s: one PATTERN only (quote it)\n", argv[0]);
            return -1;
        } else {
            a->pattern = arg;
        }
        if (ver) {
            if (strcmp(ver, "2.0") == 0) {
                a->version = 20;
            } else if (strcmp(ver, "2.1") == 0) {
                a->version = 21;
            } else {
                fprintf(stderr, "kizuna pattern %s: --stix-version must be 2.0 or 2.1\n",
                        argv[0]);
                return -1;
            }
        }
    }
    if (!a->pattern) {
        fprintf(stderr, "kizuna pattern %s: missing PATTERN (see 'kizuna pattern --help')\n",
                argv[0]);
        return -1;
    }
    return 0;
}

/* Parse the pattern named on the command line ('-' = stdin). Prints the error itself. */
static kz_pattern *load(const pattern_args *a)
{
    char *owned = NULL;
    const char *text = a->pattern;
    if (strcmp(text, "-") == 0) {
        size_t len;
        owned = kz_read_file("-", &len);
        if (!owned) {
            fprintf(stderr, "kizuna pattern: cannot read the pattern from stdin\n");
            return NULL;
        }
        if (strlen(owned) != len) {
            fprintf(stderr, "kizuna pattern: the pattern contains a NUL byte\n");
            free(owned);
            return NULL;
        }
        text = owned;
    }
    int line = 0, col = 0;
    char msg[256];
    kz_pattern *p = kz_pattern_parse(text, a->version, &line, &col, msg, sizeof msg);
    if (!p)
        fprintf(stderr, "%d:%d: %s\n", line, col, msg);
    free(owned);
    return p;
}

static int run_validate(const pattern_args *a)
{
    kz_pattern *p = load(a);
    if (!p)
        return 2;
    printf("valid\n");
    kz_pattern_free(p);
    return 0;
}

static int run_inspect(const pattern_args *a)
{
    kz_pattern *p = load(a);
    if (!p)
        return 2;
    json_t *j = kz_pattern_inspect(p);
    kz_pattern_free(p);
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s) {
        fprintf(stderr, "kizuna pattern inspect: out of memory\n");
        return 2;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

static int run_print(const pattern_args *a)
{
    kz_pattern *p = load(a);
    if (!p)
        return 2;
    kz_buf b;
    kz_buf_init(&b);
    int rc = kz_pattern_print(p, &b);
    kz_pattern_free(p);
    if (rc < 0) {
        fprintf(stderr, "kizuna pattern print: out of memory\n");
        kz_buf_free(&b);
        return 2;
    }
    printf("%s\n", b.data);
    kz_buf_free(&b);
    return 0;
}

int cmd_pattern(int argc, char **argv)
{
    if (argc < 2) {
        cmd_pattern_usage();
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "match") == 0)
        return cmd_pattern_match(argc - 1, argv + 1);
    int (*run)(const pattern_args *) = NULL;
    if (strcmp(sub, "validate") == 0)
        run = run_validate;
    else if (strcmp(sub, "inspect") == 0)
        run = run_inspect;
    else if (strcmp(sub, "print") == 0)
        run = run_print;
    if (!run) {
        fprintf(stderr, "kizuna pattern: unknown subcommand '%s' (validate, inspect, print, "
                        "match)\n",
                sub);
        return 2;
    }
    pattern_args a;
    if (parse_args(argc - 1, argv + 1, &a) < 0)
        return 2;
    return run(&a);
}
