/*
 * libFuzzer target for the pattern evaluator: the first line of the input is a pattern, the
 * rest one JSON document of observations (a bundle, an observed-data, or an array of them),
 * read with jansson directly so that findings stay in the evaluator. Whatever parses is
 * loaded and matched under both STIX versions; the evaluator must return 1, 0 or -1 and
 * never crash, and a reported binding must hold distinct, ascending, in-range indices, each
 * of which satisfies at least one observation expression. Violations abort.
 * Seeds: one file per matcher vector (pattern line + its observation set), see
 * docs/PATTERN-EVAL.md.
 */
#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const kz_pattern *p, const json_t *docs, int version)
{
    char err[256];
    kz_obs_set *s = kz_obs_set_from_json(docs, version, err, sizeof err);
    if (!s)
        return;
    kz_matcher *m = kz_matcher_new(p, err, sizeof err);
    if (m) {
        size_t *b = NULL, nb = 0;
        int r = kz_matcher_match(m, s, &b, &nb, err, sizeof err);
        if (r < -1 || r > 1 || (r != 1 && (b || nb)) || (r == 1 && nb == 0))
            abort();
        for (size_t i = 0; i < nb; i++) {
            if (b[i] >= kz_obs_set_count(s) || (i && b[i] <= b[i - 1]))
                abort();
            int any = 0;
            for (size_t lf = 0; lf < kz_matcher_leaf_count(m) && !any; lf++)
                any = kz_matcher_match_observation(m, lf, s, b[i], err, sizeof err) == 1;
            if (!any)
                abort(); /* a bound observation satisfies none of the expressions */
        }
        free(b);
        kz_matcher_free(m);
    }
    kz_obs_set_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *text = malloc(plen + 1);
    if (!text)
        return 0;
    memcpy(text, data, plen);
    text[plen] = '\0';
    json_t *docs = json_array();
    json_t *doc =
        nl ? json_loadb((const char *)nl + 1, size - plen - 1, JSON_DECODE_ANY, NULL) : NULL;
    if (json_is_array(doc))
        json_array_extend(docs, doc);
    else if (doc)
        json_array_append(docs, doc);
    json_decref(doc);
    for (int version = 20; version <= 21; version++) {
        int line, col;
        char msg[256];
        kz_pattern *p = kz_pattern_parse(text, version, &line, &col, msg, sizeof msg);
        if (p) {
            check(p, docs, version);
            kz_pattern_free(p);
        }
    }
    json_decref(docs);
    free(text);
    return 0;
}
