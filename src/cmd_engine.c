/*
 * kizuna engine: compile a set of STIX indicators and match observations against all of them.
 *
 *   kizuna engine match --indicators FILE [--now TIMESTAMP] [--stream] OBSERVATIONS...
 *   kizuna engine stats --indicators FILE [--now TIMESTAMP]
 *
 * Indicator files hold a bundle, an array or JSON lines. Observation files hold bundles,
 * arrays of objects or JSON lines; the observed-data objects in input order are the
 * observations. match prints one JSON line per hit; --stream also evaluates patterns that
 * need several observations over the whole sequence (hits then carry the binding).
 * Rejected indicators are reported on stderr. Exit status: 0 at least one hit (match) or
 * success (stats), 1 no hit, 2 bad usage or unreadable input.
 */
#include "cli.h"

#include <kizuna/engine.h>
#include <kizuna/json.h>
#include <kizuna/pattern_match.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_engine_usage(void)
{
    printf("usage: kizuna engine match --indicators FILE [--now TIMESTAMP] [--stream] "
           "OBSERVATIONS...\n"
           "       kizuna engine stats --indicators FILE [--now TIMESTAMP]\n"
           "\n"
           "Compile STIX indicators (bundle, array or JSON lines) into the detection engine.\n"
           "match prints one JSON line per hit: observation index and id, indicator id, name,\n"
           "the comparison that selected it, the pattern and the indicator's context.\n"
           "--stream feeds the observations in order so that multi-observation patterns\n"
           "(AND/FOLLOWEDBY across observations, REPEATS, WITHIN) are answered too.\n"
           "--now sets the instant for valid_from/valid_until (default: the current time).\n"
           "\n"
           "exit status: 0 hits (match) or success (stats), 1 no hit, 2 bad usage or input\n");
}

typedef struct out {
    const kz_obs_set *s;
} out;

static int print_hit(void *ctx, const kz_engine_hit *h)
{
    out *o = ctx;
    json_t *j = json_object();
    json_object_set_new(j, "observation", json_integer((json_int_t)h->observation));
    const char *oid =
        h->observation < kz_obs_set_count(o->s) ? kz_obs_set_id(o->s, h->observation) : NULL;
    if (oid)
        json_object_set_new(j, "observed_data", json_string(oid));
    json_object_set_new(j, "indicator", json_string(h->id));
    if (h->name)
        json_object_set_new(j, "name", json_string(h->name));
    json_object_set_new(j, "fired", json_string(h->fired));
    json_object_set_new(j, "pattern", json_string(h->pattern));
    json_t *c = json_loads(h->context_json, 0, NULL);
    if (c)
        json_object_set_new(j, "context", c);
    if (h->nbinding) {
        json_t *b = json_array();
        for (size_t i = 0; i < h->nbinding; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "observation", json_integer((json_int_t)h->binding[i]));
            const char *bid =
                h->binding[i] < kz_obs_set_count(o->s) ? kz_obs_set_id(o->s, h->binding[i]) : NULL;
            if (bid)
                json_object_set_new(e, "observed_data", json_string(bid));
            json_array_append_new(b, e);
        }
        json_object_set_new(j, "binding", b);
    }
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (t)
        printf("%s\n", t);
    free(t);
    json_decref(j);
    return 0;
}

static int on_err(void *ctx, const kz_json_error *e)
{
    fprintf(stderr, "kizuna engine: %s:%d:%d: %s\n", (const char *)ctx, e->line, e->column,
            e->text);
    return 0;
}

static kz_engine *load_indicators(const char *file, int64_t now, bool quiet)
{
    size_t len;
    char *buf = kz_read_file(file, &len);
    if (!buf) {
        fprintf(stderr, "kizuna engine: cannot read %s\n", file);
        return NULL;
    }
    kz_engine_opts o = {.now_us = now};
    kz_engine *e = kz_engine_new(&o);
    kz_diags d;
    kz_diags_init(&d);
    char err[256];
    long n = e ? kz_engine_load(e, buf, len, &d, err, sizeof err) : -1;
    free(buf);
    for (size_t i = 0; i < d.n && !quiet; i++)
        fprintf(stderr, "kizuna engine: rejected %s: %s\n",
                d.v[i].object_id ? d.v[i].object_id : "?", d.v[i].message);
    kz_diags_free(&d);
    if (n < 0) {
        fprintf(stderr, "kizuna engine: %s\n", e ? err : "out of memory");
        kz_engine_free(e);
        return NULL;
    }
    return e;
}

int cmd_engine(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "match") != 0 && strcmp(argv[1], "stats") != 0)) {
        cmd_engine_usage();
        return 2;
    }
    bool stats = strcmp(argv[1], "stats") == 0, stream = false;
    const char *ind = NULL;
    int64_t now = 0;
    int a = 2;
    for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
        if (strcmp(argv[a], "--indicators") == 0 && a + 1 < argc) {
            ind = argv[++a];
        } else if (strcmp(argv[a], "--now") == 0 && a + 1 < argc) {
            kz_time t;
            if (kz_time_parse(argv[++a], &t, NULL, 0) < 0) {
                fprintf(stderr, "kizuna engine: --now: not a timestamp: %s\n", argv[a]);
                return 2;
            }
            now = t.us;
        } else if (strcmp(argv[a], "--stream") == 0) {
            stream = true;
        } else {
            cmd_engine_usage();
            return 2;
        }
    }
    if (!ind || (!stats && a >= argc) || (stats && a != argc)) {
        cmd_engine_usage();
        return 2;
    }
    kz_engine *e = load_indicators(ind, now, false);
    if (!e)
        return 2;
    if (stats) {
        kz_engine_stats st;
        kz_engine_get_stats(e, &st);
        printf("{\"live\":%zu,\"simple\":%zu,\"confirmed\":%zu,\"multi_observation\":%zu,"
               "\"type_scan\":%zu,\"index_keys\":%zu,\"pending\":%zu,\"seen\":%zu,\"rejected\":%zu,"
               "\"other_pattern_types\":%zu,\"revoked\":%zu,\"expired\":%zu,\"superseded\":%zu,"
               "\"index_bytes\":%zu}\n",
               st.live, st.simple, st.confirmed, st.multi, st.type_scan, st.index_keys, st.pending,
               st.seen, st.rejected, st.other_types, st.revoked, st.expired, st.superseded,
               st.index_bytes);
        kz_engine_free(e);
        return 0;
    }
    json_t *docs = json_array();
    bool bad = false;
    for (; a < argc && !bad; a++) {
        long n = kz_json_append_file(argv[a], docs, on_err, argv[a]);
        if (n < 0)
            fprintf(stderr, "kizuna engine: cannot read %s\n", argv[a]);
        bad = n != 0;
    }
    char err[256];
    kz_obs_set *s = bad ? NULL : kz_obs_set_from_json(docs, 21, err, sizeof err);
    if (!bad && !s)
        fprintf(stderr, "kizuna engine: observations: %s\n", err);
    long hits = 0;
    int rc = 2;
    if (s) {
        out o = {s};
        rc = 0;
        kz_engine_stream *st = stream ? kz_engine_stream_new(e, NULL) : NULL;
        const kz_engine_gen *g = kz_engine_acquire(e);
        for (size_t i = 0; i < kz_obs_set_count(s); i++) {
            long r = st ? kz_engine_stream_feed_obs(st, s, i, print_hit, &o, err, sizeof err)
                        : kz_engine_match_obs(g, s, i, print_hit, &o, err, sizeof err);
            if (r < 0) {
                fprintf(stderr, "kizuna engine: observation %zu: %s\n", i, err);
                rc = 2;
                break;
            }
            hits += r;
        }
        kz_engine_release(e, g);
        kz_engine_stream_free(st);
        if (rc == 0 && hits == 0)
            rc = 1;
    }
    kz_obs_set_free(s);
    json_decref(docs);
    kz_engine_free(e);
    return rc;
}
