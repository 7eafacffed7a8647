/*
 * libFuzzer target for the detection engine: the lines before the first empty line are
 * patterns (at most 16; each becomes an indicator, versions 2.1), the rest is one JSON
 * document of observations. Every observation is matched by the engine and, for every
 * indicator the engine accepted, by the evaluator over the set holding that observation
 * alone; the answers must agree whenever the evaluator raises no error (differential
 * fuzzing). The observations are also fed to a stream. Violations abort.
 */
#include <kizuna/engine.h>
#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/pattern/eval_internal.h" /* a one-observation view of a loaded set */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct hitset {
    unsigned mask;
} hitset;

static int on_hit(void *ctx, const kz_engine_hit *h)
{
    hitset *hs = ctx;
    /* ids are indicator--00000000-0000-4000-8000-0000000000NN */
    size_t n = strlen(h->id);
    int k = (h->id[n - 2] - '0') * 10 + (h->id[n - 1] - '0');
    if (k < 0 || k >= 16 || !h->fired || !h->pattern || !h->context_json)
        abort();
    if (hs->mask & (1u << k))
        abort(); /* one hit per indicator per observation */
    hs->mask |= 1u << k;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *sep = strstr(buf, "\n\n");
    if (!sep) {
        free(buf);
        return 0;
    }
    *sep = 0;
    const char *obs_text = sep + 2;
    kz_engine_opts o = {.now_us = 1735689600000000ll};
    kz_engine *e = kz_engine_new(&o);
    kz_pattern *pats[16] = {0};
    json_t *arr = json_array();
    int np = 0;
    for (char *line = buf, *next; line && np < 16; line = next, np++) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        json_t *ind = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator",
                                "spec_version", "2.1", "id", "", "created", "2024-01-01T00:00:00Z",
                                "modified", "2024-01-01T00:00:00Z", "pattern", line, "pattern_type",
                                "stix", "valid_from", "2024-01-01T00:00:00Z");
        if (!ind)
            continue; /* not UTF-8 */
        char id[64];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-0000000000%02d", np);
        json_object_set_new(ind, "id", json_string(id));
        json_array_append_new(arr, ind);
        int l, c;
        char msg[128];
        pats[np] = kz_pattern_parse(line, 21, &l, &c, msg, sizeof msg);
    }
    char err[256];
    kz_diags dg;
    kz_diags_init(&dg);
    kz_engine_load_json(e, arr, &dg, err, sizeof err);
    json_decref(arr);
    unsigned refused = 0;
    for (size_t k = 0; k < dg.n; k++) {
        const char *rid = dg.v[k].object_id;
        size_t n = rid ? strlen(rid) : 0;
        if (n > 2)
            refused |= 1u << ((rid[n - 2] - '0') * 10 + (rid[n - 1] - '0'));
    }
    kz_diags_free(&dg);
    kz_json_error je;
    json_t *doc = kz_json_parse(obs_text, strlen(obs_text), &je);
    if (doc && !json_is_array(doc)) {
        json_t *a = json_array();
        json_array_append_new(a, doc);
        doc = a;
    }
    kz_obs_set *s = doc ? kz_obs_set_from_json(doc, 21, err, sizeof err) : NULL;
    const kz_engine_gen *g = kz_engine_acquire(e);
    kz_engine_stream *st = kz_engine_stream_new(e, NULL);
    for (size_t i = 0; s && i < s->nobs; i++) {
        hitset hs = {0};
        if (kz_engine_match_obs(g, s, i, on_hit, &hs, err, sizeof err) < 0)
            abort();
        kz_obs_set one = *s;
        one.obs = &s->obs[i];
        one.nobs = 1;
        for (int k = 0; k < np; k++) {
            if (!pats[k] || ((refused >> k) & 1))
                continue;
            kz_matcher *m = kz_matcher_new(pats[k], err, sizeof err);
            int want = m ? kz_matcher_match(m, &one, NULL, NULL, err, sizeof err) : -1;
            kz_matcher_free(m);
            bool got = (hs.mask >> k) & 1;
            if (want == 1 && !got)
                abort(); /* an accepted indicator missed (refused ones never hit) */
            if (want != 1 && got)
                abort(); /* no match or a runtime error: no hit */
        }
        if (kz_engine_stream_feed_obs(st, s, i, NULL, NULL, err, sizeof err) < 0)
            abort();
    }
    kz_engine_stream_free(st);
    kz_engine_release(e, g);
    kz_obs_set_free(s);
    json_decref(doc);
    for (int k = 0; k < 16; k++)
        kz_pattern_free(pats[k]);
    kz_engine_free(e);
    free(buf);
    return 0;
}
