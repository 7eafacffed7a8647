/*
 * The STIX pattern parser against the OASIS-derived conformance vectors in
 * SHARED/conformance/stix-patterns:
 *  - pattern-validator.json validity[]: valid/invalid for the vector's STIX version; for
 *    syntax errors the reported position is the reference's ANTLR position + 1 column
 *    (ANTLR columns are 0-based, ours 1-based);
 *  - pattern-validator.json inspect[]: kz_pattern_inspect mapped to the reference format
 *    ({type: [[path], op, literal text]}, sorted qualifiers, sorted observation operators);
 *  - pattern-matcher.json: every pattern with error "parse" is rejected (at the reference's
 *    position + 1 when it gives one), every other pattern parses for its stix_version;
 *  - every valid pattern of both files round-trips through the printer.
 * Each mismatch prints the vector id.
 */
#include "kt.h"

#include <kizuna/pattern.h>
#include <stdlib.h>

static json_t *load_vectors(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/conformance/stix-patterns/%s", kt_shared_dir, name);
    json_error_t err;
    return json_load_file(path, 0, &err);
}

static int version_of(json_t *v)
{
    const char *s = json_string_value(json_object_get(v, "stix_version"));
    return s && strcmp(s, "2.0") == 0 ? 20 : 21;
}

/* print(parse(x)) must parse again and print identically. */
static int roundtrip(const char *id, const kz_pattern *p, unsigned flags)
{
    kz_buf a, b;
    kz_buf_init(&a);
    kz_buf_init(&b);
    int ok = 0;
    KT_CHECK(kz_pattern_print(p, &a) == 0);
    int line, col;
    char msg[256];
    kz_pattern *q = kz_pattern_parse_ex(a.data, kz_pattern_version(p), flags, &line, &col, msg,
                                        sizeof msg);
    KT_CHECK_MSG(q != NULL, "%s: printout does not parse: %s -> %d:%d: %s", id, a.data, line, col,
                 msg);
    if (q) {
        KT_CHECK(kz_pattern_print(q, &b) == 0);
        KT_CHECK_MSG(strcmp(a.data, b.data) == 0, "%s: printout not stable:\n  %s\n  %s", id,
                     a.data, b.data);
        ok = strcmp(a.data, b.data) == 0;
    }
    kz_pattern_free(q);
    kz_buf_free(&a);
    kz_buf_free(&b);
    return ok;
}

/* "... line 1:13. ..." or "1:13: ..." -> 13 (the ANTLR column), or -1. */
static int ref_column(const char *s)
{
    if (!s)
        return -1;
    const char *p = strstr(s, "line 1:");
    if (p)
        return atoi(p + 7);
    if (strncmp(s, "1:", 2) == 0)
        return atoi(s + 2);
    return -1;
}

static int n_valid_ok, n_invalid_ok, n_syntax_pos_ok, n_roundtrip_ok;

static void test_validity_vectors(void)
{
    json_t *root = load_vectors("pattern-validator.json");
    if (!root)
        KT_SKIP("%s/conformance/stix-patterns/pattern-validator.json not found", kt_shared_dir);
    json_t *arr = json_object_get(root, "validity");
    KT_CHECK(json_array_size(arr) == 127);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *pat = json_string_value(json_object_get(v, "pattern"));
        bool valid = json_is_true(json_object_get(v, "valid"));
        int line = 0, col = 0;
        char msg[256] = "";
        kz_pattern *p = kz_pattern_parse(pat, version_of(v), &line, &col, msg, sizeof msg);
        KT_CHECK_MSG((p != NULL) == valid, "%s: %s expected %s, got %s (%d:%d: %s)", id, pat,
                     valid ? "valid" : "invalid", p ? "valid" : "invalid", line, col, msg);
        if (p && valid) {
            n_valid_ok++;
            n_roundtrip_ok += roundtrip(id, p, 0);
        }
        if (!p && !valid) {
            n_invalid_ok++;
            const char *kind = json_string_value(json_object_get(v, "error_kind"));
            if (kind && strcmp(kind, "syntax") == 0) {
                int ref = ref_column(
                    json_string_value(json_object_get(v, "expected_error_prefix")));
                KT_CHECK_MSG(line == 1 && col == ref + 1,
                             "%s: %s: error at %d:%d, reference at 1:%d (+1 expected): %s", id,
                             pat, line, col, ref, msg);
                if (line == 1 && col == ref + 1)
                    n_syntax_pos_ok++;
            }
        }
        kz_pattern_free(p);
    }
    fprintf(stderr, "validity: %d valid ok, %d invalid ok (%d syntax positions ok), %d round "
                    "trips ok\n",
            n_valid_ok, n_invalid_ok, n_syntax_pos_ok, n_roundtrip_ok);
    json_decref(root);
}

/* Our inspector's comparisons as {type: [[path], op, text]} (the reference's format). */
static json_t *reference_shape(json_t *cmps)
{
    json_t *out = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(cmps, i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        json_t *list = json_object_get(out, type);
        if (!list) {
            list = json_array();
            json_object_set_new(out, type, list);
        }
        json_t *t = json_pack("[OOO]", json_object_get(c, "path"), json_object_get(c, "operator"),
                              json_object_get(c, "text"));
        json_array_append_new(list, t);
    }
    return out;
}

static void test_inspect_vectors(void)
{
    json_t *root = load_vectors("pattern-validator.json");
    if (!root)
        KT_SKIP("%s/conformance/stix-patterns/pattern-validator.json not found", kt_shared_dir);
    json_t *arr = json_object_get(root, "inspect");
    KT_CHECK(json_array_size(arr) == 39);
    size_t i;
    json_t *v;
    int ok = 0;
    json_array_foreach(arr, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *pat = json_string_value(json_object_get(v, "pattern"));
        const char *what = json_string_value(json_object_get(v, "inspect"));
        json_t *expected = json_object_get(v, "expected");
        int line = 0, col = 0;
        char msg[256] = "";
        kz_pattern *p = kz_pattern_parse(pat, version_of(v), &line, &col, msg, sizeof msg);
        KT_CHECK_MSG(p != NULL, "%s: does not parse: %d:%d: %s", id, line, col, msg);
        if (!p)
            continue;
        roundtrip(id, p, 0);
        json_t *ins = kz_pattern_inspect(p);
        KT_CHECK(ins != NULL);
        json_t *got = NULL;
        if (strcmp(what, "comparisons") == 0)
            got = reference_shape(json_object_get(ins, "comparisons"));
        else
            got = json_incref(json_object_get(ins, what));
        bool same = json_equal(got, expected);
        if (!same) {
            char *g = json_dumps(got, JSON_COMPACT), *e = json_dumps(expected, JSON_COMPACT);
            KT_CHECK_MSG(same, "%s: %s:\n  got      %s\n  expected %s", id, what, g, e);
            free(g);
            free(e);
        } else {
            ok++;
        }
        json_decref(got);
        json_decref(ins);
        kz_pattern_free(p);
    }
    fprintf(stderr, "inspect: %d of %zu ok\n", ok, json_array_size(arr));
    json_decref(root);
}

static void test_matcher_patterns(void)
{
    json_t *root = load_vectors("pattern-matcher.json");
    if (!root)
        KT_SKIP("%s/conformance/stix-patterns/pattern-matcher.json not found", kt_shared_dir);
    json_t *arr = json_object_get(root, "vectors");
    KT_CHECK(json_array_size(arr) == 616);
    size_t i;
    json_t *v;
    int accepted = 0, rejected = 0, pos_ok = 0, pos_known = 0, rt = 0, lenient = 0;
    json_array_foreach(arr, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *pat = json_string_value(json_object_get(v, "pattern"));
        const char *err = json_string_value(json_object_get(v, "error"));
        bool want_reject = err && strcmp(err, "parse") == 0;
        int line = 0, col = 0;
        char msg[256] = "";
        kz_pattern *p = kz_pattern_parse(pat, version_of(v), &line, &col, msg, sizeof msg);
        unsigned flags = 0;
        if (!p && !want_reject && strstr(msg, "duplicate")) {
            /* The two references disagree: the validator rejects a repeated qualifier type
             * (as the spec says), the matcher evaluates it. Strict parsing rejects it; the
             * lenient flag must accept it, and the matcher's verdict must be "no match",
             * which is also what the spec requires of an invalid pattern. */
            lenient++;
            KT_CHECK_MSG(json_is_false(json_object_get(v, "expected")),
                         "%s: duplicate-qualifier pattern expected to match", id);
            flags = KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS;
            p = kz_pattern_parse_ex(pat, version_of(v), flags, &line, &col, msg, sizeof msg);
        }
        KT_CHECK_MSG((p == NULL) == want_reject, "%s: %s: expected %s, got %s (%d:%d: %s)", id,
                     pat, want_reject ? "a parse error" : "a parse", p ? "a parse" : "an error",
                     line, col, msg);
        if (p && !want_reject) {
            accepted++;
            rt += roundtrip(id, p, flags);
        }
        if (!p && want_reject) {
            rejected++;
            int ref = ref_column(json_string_value(json_object_get(v, "error_message")));
            if (ref >= 0) {
                pos_known++;
                KT_CHECK_MSG(line == 1 && col == ref + 1,
                             "%s: %s: error at %d:%d, reference at 1:%d (+1 expected): %s", id,
                             pat, line, col, ref, msg);
                pos_ok += line == 1 && col == ref + 1;
            }
        }
        kz_pattern_free(p);
    }
    fprintf(stderr, "matcher patterns: %d parsed (%d only with duplicate qualifiers allowed), "
                    "%d rejected (%d of %d positions agree), %d round trips\n",
            accepted, lenient, rejected, pos_ok, pos_known, rt);
    json_decref(root);
}

KT_MAIN(KT(test_validity_vectors), KT(test_inspect_vectors), KT(test_matcher_patterns))
