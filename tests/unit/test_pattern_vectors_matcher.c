/* Conformance: every vector of pattern-matcher.json (both STIX versions) through
 * kz_pattern_parse + kz_obs_set_from_json + kz_pattern_match. A vector passes when the
 * outcome is the one the reference matcher produced: match, no match, rejected by the
 * parser ("parse"), or a runtime error ("match"). Failing ids are printed. Patterns are
 * parsed with KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS, as the reference matcher accepts them;
 * every "parse" vector is also checked against plain kz_pattern_parse. */
#include "kt.h"

#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *load_vectors(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/conformance/stix-patterns/pattern-matcher.json", kt_shared_dir);
    size_t len;
    char *buf = kz_read_file(path, &len);
    if (!buf)
        return NULL;
    kz_json_error e;
    json_t *doc = kz_json_parse(buf, len, &e);
    free(buf);
    return doc;
}

/* Outcome codes: 1 match, 0 no match, 2 parse error, 3 runtime error. */
static int run_vector(const json_t *v, const json_t *sets, char *why, size_t whylen)
{
    const char *pattern = json_string_value(json_object_get(v, "pattern"));
    const char *ver = json_string_value(json_object_get(v, "stix_version"));
    int version = ver && strcmp(ver, "2.0") == 0 ? 20 : 21;
    int line = 0, col = 0;
    char msg[256] = "";
    /* The reference matcher evaluates duplicated qualifiers ("REPEATS 2 TIMES REPEATS 3
     * TIMES") that the spec and the validator reject; its vectors expect that. */
    kz_pattern *p = kz_pattern_parse_ex(pattern, version, KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS,
                                        &line, &col, msg, sizeof msg);
    if (!p) {
        snprintf(why, whylen, "parse: %d:%d: %s", line, col, msg);
        kz_pattern *strict = kz_pattern_parse(pattern, version, &line, &col, msg, sizeof msg);
        if (strict) {
            kz_pattern_free(strict); /* the strict parser must reject at least as much */
            return 5;
        }
        return 2;
    }
    const json_t *obs =
        json_object_get(sets, json_string_value(json_object_get(v, "observations")));
    char err[256] = "";
    kz_obs_set *s = kz_obs_set_from_json(obs, version, err, sizeof err);
    int out;
    if (!s) {
        snprintf(why, whylen, "load: %s", err);
        out = 3;
    } else {
        size_t *b = NULL, nb = 0;
        int r = kz_pattern_match(p, s, &b, &nb, err, sizeof err);
        out = r < 0 ? 3 : r;
        snprintf(why, whylen, "%s", r < 0 ? err : "");
        /* a reported binding must name distinct, in-range observations */
        for (size_t i = 0; i < nb; i++)
            if (b[i] >= kz_obs_set_count(s) || (i && b[i] <= b[i - 1]))
                out = 4;
        if (r == 1 && nb == 0)
            out = 4;
        free(b);
        kz_obs_set_free(s);
    }
    kz_pattern_free(p);
    return out;
}

static void check_version(const char *version)
{
    json_t *doc = load_vectors();
    if (!doc)
        KT_SKIP("%s/conformance/stix-patterns/pattern-matcher.json not found", kt_shared_dir);
    const json_t *sets = json_object_get(doc, "observation_sets");
    size_t i, total = 0, pass = 0;
    json_t *v;
    json_array_foreach(json_object_get(doc, "vectors"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "stix_version")), version) != 0)
            continue;
        const json_t *exp = json_object_get(v, "expected");
        const char *error = json_string_value(json_object_get(v, "error"));
        int want = error ? (strcmp(error, "parse") == 0 ? 2 : 3) : json_is_true(exp);
        char why[512] = "";
        int got = run_vector(v, sets, why, sizeof why);
        total++;
        if (got == want) {
            pass++;
        } else {
            fprintf(stderr, "FAIL vector %s: want %d got %d (%s)\n",
                    json_string_value(json_object_get(v, "id")), want, got, why);
        }
    }
    fprintf(stderr, "STIX %s matcher vectors: %zu/%zu pass\n", version, pass, total);
    KT_CHECK(total > 0);
    KT_CHECK_MSG(pass == total, "%zu of %zu vectors failed", total - pass, total);
    json_decref(doc);
}

static void test_vectors_v21(void)
{
    check_version("2.1");
}
static void test_vectors_v20(void)
{
    check_version("2.0");
}

KT_MAIN(KT(test_vectors_v21), KT(test_vectors_v20))
