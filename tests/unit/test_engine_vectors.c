/* Detection engine over the conformance vectors of pattern-matcher.json: every vector whose
 * pattern the engine accepts is loaded as an indicator; (1) for every observation of its
 * set, the engine must hit exactly when kz_matcher_match over the set holding that
 * observation alone returns 1 (a runtime error is no hit), and (2) for vectors without a
 * runtime error, a stream fed the whole set must report a hit exactly when the vector
 * expects a match. */
#include "kt.h"

#include <kizuna/engine.h>
#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/eval_internal.h" /* a one-observation view of a loaded set */

static int count_hit(void *ctx, const kz_engine_hit *h)
{
    (void)h;
    (*(int *)ctx)++;
    return 0;
}

static void test_vectors(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/conformance/stix-patterns/pattern-matcher.json", kt_shared_dir);
    size_t len;
    char *buf = kz_read_file(path, &len);
    if (!buf)
        KT_SKIP("%s not found", path);
    kz_json_error je;
    json_t *doc = kz_json_parse(buf, len, &je);
    free(buf);
    KT_CHECK(doc != NULL);
    if (!doc)
        return;
    const json_t *sets = json_object_get(doc, "observation_sets");
    size_t i, used = 0, single = 0, refused = 0;
    json_t *v;
    json_array_foreach(json_object_get(doc, "vectors"), i, v) {
        const char *verr = json_string_value(json_object_get(v, "error"));
        if (verr && strcmp(verr, "parse") == 0)
            continue;
        const char *pattern = json_string_value(json_object_get(v, "pattern"));
        const char *ver = json_string_value(json_object_get(v, "stix_version"));
        int version = ver && strcmp(ver, "2.0") == 0 ? 20 : 21;
        int line, col;
        char msg[256];
        kz_pattern *p = kz_pattern_parse(pattern, version, &line, &col, msg, sizeof msg);
        if (!p)
            continue; /* accepted only with duplicate qualifiers: not an indicator */
        const json_t *obs = json_object_get(sets, json_string_value(json_object_get(v, "observations")));
        char err[256];
        kz_obs_set *s = kz_obs_set_from_json(obs, version, err, sizeof err);
        kz_matcher *m = kz_matcher_new(p, err, sizeof err);
        kz_engine_opts o = {.now_us = 1735689600000000ll};
        kz_engine *e = kz_engine_new(&o);
        json_t *ind = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator", "id",
                                "indicator--00000000-0000-4000-8000-000000000001", "created",
                                "2024-01-01T00:00:00Z", "modified", "2024-01-01T00:00:00Z",
                                "pattern", pattern, "valid_from", "2024-01-01T00:00:00Z");
        if (version == 21) {
            json_object_set_new(ind, "spec_version", json_string("2.1"));
            json_object_set_new(ind, "pattern_type", json_string("stix"));
        }
        long loaded = kz_engine_load_json(e, ind, NULL, err, sizeof err);
        json_decref(ind);
        if (loaded != 1) {
            refused++;
        } else if (s && m) {
            used++;
            const kz_engine_gen *g = kz_engine_acquire(e);
            for (size_t k = 0; k < s->nobs; k++) {
                kz_obs_set one = *s;
                one.obs = &s->obs[k];
                one.nobs = 1;
                int want = kz_matcher_match(m, &one, NULL, NULL, err, sizeof err);
                if (want < 0)
                    want = 0; /* a runtime error is no hit */
                int got = 0;
                KT_CHECK(kz_engine_match_obs(g, s, k, count_hit, &got, err, sizeof err) >= 0);
                single++;
                KT_CHECK_MSG(got == want, "%s obs %zu: engine %d evaluator %d",
                             json_string_value(json_object_get(v, "id")), k, got, want);
            }
            kz_engine_release(e, g);
            if (verr) { /* runtime error vectors: the stream's monotone reading does not hold */
                kz_engine_free(e);
                kz_matcher_free(m);
                kz_obs_set_free(s);
                kz_pattern_free(p);
                continue;
            }
            kz_engine_stream_opts so = {.max_per_indicator = 100000,
                                        .max_age_us = INT64_MAX / 4,
                                        .no_within_expiry = true};
            kz_engine_stream *st = kz_engine_stream_new(e, &so);
            int got = 0;
            for (size_t k = 0; k < s->nobs; k++)
                KT_CHECK(kz_engine_stream_feed_obs(st, s, k, count_hit, &got, err, sizeof err) >= 0);
            bool want = json_is_true(json_object_get(v, "expected"));
            KT_CHECK_MSG((got > 0) == want, "%s stream: engine %d expected %d",
                         json_string_value(json_object_get(v, "id")), got, want);
            kz_engine_stream_free(st);
        }
        kz_engine_free(e);
        kz_matcher_free(m);
        kz_obs_set_free(s);
        kz_pattern_free(p);
    }
    fprintf(stderr, "vectors used %zu (refused %zu), single-observation comparisons %zu\n", used,
            refused, single);
    KT_CHECK(used > 400);
    json_decref(doc);
}

KT_MAIN(KT(test_vectors))
