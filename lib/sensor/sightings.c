/*
 * Sensor sightings: hits aggregated per (indicator, time bucket) into STIX 2.1 sightings.
 *
 * Invariants: a sighting's id is UUIDv5(namespace, indicator id | bucket start | org | sensor) and its
 * created = modified = the bucket's end, so the same hits always give byte-identical objects
 * and a re-post after a restart is an exact duplicate (a success at the hub, never counted
 * twice). A bucket is emitted once: hits that arrive for a bucket already closed are counted
 * in the earliest bucket still open (the watermark), never in a second version of a closed
 * one. A bucket may keep the objects of its first hit (observed-data and SCOs, built by the
 * caller once, when the bucket opens); its observed-data id is derived from the sighting id,
 * so it is as deterministic as the sighting. Not done here: delivery (the outbox) and
 * wall-clock decisions (the caller passes `until`).
 */
#include <kizuna/sensor.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixed namespace for kizuna sighting ids (a random v4, chosen once). */
static const char *const NS = "5b0f3c1e-7d2a-4c59-9a8e-3f6b2d1c0e47";

typedef struct bucket {
    char *indicator;
    int64_t start, first, last;
    uint64_t count;
    json_t *obs; /* [observed-data, SCO...] of the first hit, or NULL */
} bucket;

struct kz_sensor_sightings {
    char *org, *sensor;
    int64_t bucket_us;
    int64_t watermark; /* buckets starting before it are closed */
    bool have_watermark;
    bucket *b;
    size_t n, cap;
    uint64_t hits;
};

kz_sensor_sightings *kz_sensor_sightings_new(const char *org, const char *sensor,
                                             int64_t bucket_s)
{
    if (!org || !sensor || bucket_s < 1 || bucket_s > INT64_MAX / 4000000)
        return NULL;
    kz_sensor_sightings *s = calloc(1, sizeof *s);
    if (!s || !(s->org = strdup(org)) || !(s->sensor = strdup(sensor))) {
        if (s)
            free(s->org);
        free(s);
        return NULL;
    }
    s->bucket_us = bucket_s * 1000000;
    return s;
}

void kz_sensor_sightings_free(kz_sensor_sightings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->b[i].indicator);
        json_decref(s->b[i].obs);
    }
    free(s->b);
    free(s->org);
    free(s->sensor);
    free(s);
}

size_t kz_sensor_sightings_open(const kz_sensor_sightings *s)
{
    return s->n;
}

uint64_t kz_sensor_sightings_hits(const kz_sensor_sightings *s)
{
    return s->hits;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Open buckets are few (one per indicator hit in the last bucket or two): a linear scan from
 * the newest end finds the usual case at once. */
int kz_sensor_sightings_add(kz_sensor_sightings *s, const char *indicator_id, int64_t ts_us)
{
    return kz_sensor_sightings_add_observed(s, indicator_id, ts_us, NULL, NULL);
}

int kz_sensor_sightings_add_observed(kz_sensor_sightings *s, const char *indicator_id,
                                     int64_t ts_us, kz_sensor_obs_fn obs, void *ctx)
{
    int64_t start = floor_div(ts_us, s->bucket_us) * s->bucket_us;
    if (s->have_watermark && start < s->watermark)
        start = s->watermark;
    for (size_t i = s->n; i-- > 0;) {
        bucket *b = &s->b[i];
        if (b->start == start && strcmp(b->indicator, indicator_id) == 0) {
            b->count++;
            if (ts_us < b->first)
                b->first = ts_us;
            if (ts_us > b->last)
                b->last = ts_us;
            s->hits++;
            return 0;
        }
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        bucket *nb = realloc(s->b, nc * sizeof *nb);
        if (!nb)
            return -1;
        s->b = nb;
        s->cap = nc;
    }
    char *id = strdup(indicator_id);
    if (!id)
        return -1;
    s->b[s->n++] = (bucket){id, start, ts_us, ts_us, 1, obs ? obs(ctx) : NULL};
    s->hits++;
    return 0;
}

int kz_sensor_sighting_id(const char *indicator_id, int64_t bucket_start_us, const char *org,
                          const char *sensor, char *out)
{
    kz_uuid ns, u;
    char name[1024];
    int n = snprintf(name, sizeof name, "%s|%lld|%s|%s", indicator_id,
                     (long long)bucket_start_us, org, sensor);
    if (n < 0 || (size_t)n >= sizeof name || kz_uuid_parse(NS, &ns) < 0 ||
        kz_uuid_v5(&ns, name, (size_t)n, &u) < 0)
        return -1;
    memcpy(out, "sighting--", 10);
    kz_uuid_format(&u, out + 10);
    return 0;
}

/* observed-data--UUIDv5(namespace, sighting id): one per sighting, as stable as it */
static int observed_id(const char *sighting_id, char *out)
{
    kz_uuid ns, u;
    if (kz_uuid_parse(NS, &ns) < 0 ||
        kz_uuid_v5(&ns, sighting_id, strlen(sighting_id), &u) < 0)
        return -1;
    memcpy(out, "observed-data--", 15);
    kz_uuid_format(&u, out + 15);
    return 0;
}

static json_t *sighting(const kz_sensor_sightings *s, const bucket *b)
{
    char id[48], t[40];
    if (kz_sensor_sighting_id(b->indicator, b->start, s->org, s->sensor, id) < 0)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    kz_time_format(b->start + s->bucket_us, 3, t, sizeof t);
    json_object_set_new(o, "type", json_string("sighting"));
    json_object_set_new(o, "spec_version", json_string("2.1"));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "created_by_ref", json_string(s->org));
    json_object_set_new(o, "created", json_string(t));
    json_object_set_new(o, "modified", json_string(t));
    /* first_seen/last_seen keep microseconds: they are what the analyst correlates on */
    kz_time_format(b->first, 6, t, sizeof t);
    json_object_set_new(o, "first_seen", json_string(t));
    kz_time_format(b->last, 6, t, sizeof t);
    json_object_set_new(o, "last_seen", json_string(t));
    json_object_set_new(o, "count",
                        json_integer(b->count > 999999999 ? 999999999 : (json_int_t)b->count));
    json_object_set_new(o, "sighting_of_ref", json_string(b->indicator));
    json_t *w = json_array();
    json_array_append_new(w, json_string(s->org));
    json_object_set_new(o, "where_sighted_refs", w);
    if (b->obs) {
        char od[64];
        if (observed_id(id, od) < 0) {
            json_decref(o);
            return NULL;
        }
        json_t *r = json_array();
        json_array_append_new(r, json_string(od));
        json_object_set_new(o, "observed_data_refs", r);
    }
    return o;
}

/* The bucket's observed-data, completed (id, created, modified, creator), and its SCOs are
 * appended to scos / ods; an SCO already there (its id in seen) is not added twice. */
static int evidence(const kz_sensor_sightings *s, const bucket *b, json_t *scos, json_t *ods,
                    json_t *seen)
{
    char sid[48], od[64], t[40];
    if (kz_sensor_sighting_id(b->indicator, b->start, s->org, s->sensor, sid) < 0 ||
        observed_id(sid, od) < 0)
        return -1;
    json_t *o = json_deep_copy(json_array_get(b->obs, 0));
    if (!o)
        return -1;
    kz_time_format(b->start + s->bucket_us, 3, t, sizeof t);
    json_object_set_new(o, "id", json_string(od));
    json_object_set_new(o, "created_by_ref", json_string(s->org));
    json_object_set_new(o, "created", json_string(t));
    json_object_set_new(o, "modified", json_string(t));
    if (json_array_append_new(ods, o) < 0)
        return -1;
    for (size_t i = 1; i < json_array_size(b->obs); i++) {
        json_t *sco = json_array_get(b->obs, i);
        const char *id = json_string_value(json_object_get(sco, "id"));
        if (!id || json_object_get(seen, id))
            continue;
        if (json_object_set_new(seen, id, json_true()) < 0 || json_array_append(scos, sco) < 0)
            return -1;
    }
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "id"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "id"));
    return strcmp(x ? x : "", y ? y : "");
}

json_t *kz_sensor_sightings_close(kz_sensor_sightings *s, int64_t until_us)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    size_t keep = 0, nout = 0;
    int64_t closed_end = INT64_MIN;
    json_t **tmp = s->n ? calloc(s->n, sizeof *tmp) : NULL;
    json_t *scos = json_array(), *ods = json_array(), *seen = json_object();
    if ((s->n && !tmp) || !scos || !ods || !seen) {
        free(tmp);
        json_decref(seen);
        json_decref(scos);
        json_decref(ods);
        json_decref(arr);
        return NULL;
    }
    /* build every object first, so a failure leaves the table as it was */
    for (size_t i = 0; i < s->n; i++) {
        const bucket *b = &s->b[i];
        if (until_us != INT64_MAX && b->start + s->bucket_us > until_us)
            continue;
        if (!(tmp[nout++] = sighting(s, b)) || (b->obs && evidence(s, b, scos, ods, seen) < 0)) {
            for (size_t j = 0; j < nout; j++)
                json_decref(tmp[j]);
            free(tmp);
            json_decref(seen);
            json_decref(scos);
            json_decref(ods);
            json_decref(arr);
            return NULL;
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        bucket *b = &s->b[i];
        if (until_us == INT64_MAX || b->start + s->bucket_us <= until_us) {
            if (b->start + s->bucket_us > closed_end)
                closed_end = b->start + s->bucket_us;
            free(b->indicator);
            json_decref(b->obs);
        } else {
            s->b[keep++] = *b;
        }
    }
    s->n = keep;
    int64_t wm = until_us != INT64_MAX ? floor_div(until_us, s->bucket_us) * s->bucket_us
                                       : closed_end; /* later hits must not reopen these */
    if (wm != INT64_MIN && (!s->have_watermark || wm > s->watermark)) {
        s->watermark = wm;
        s->have_watermark = true;
    }
    if (nout)
        qsort(tmp, nout, sizeof *tmp, by_id);
    /* what the sightings refer to comes first */
    json_array_extend(arr, scos);
    json_array_extend(arr, ods);
    json_decref(scos);
    json_decref(ods);
    json_decref(seen);
    for (size_t j = 0; j < nout; j++)
        json_array_append_new(arr, tmp[j]);
    free(tmp);
    return arr;
}
