/*
 * Compact observation records: validation and their JSON meaning.
 *
 * A record stands for one observed-data with embedded objects "0".."n-1" (the 2.1 form the
 * evaluator loads, as 2.0 does); each field sets one property, nested by its path's key
 * steps; REF fields on a path ending in _refs are the items of one list, in field order.
 * Validation rejects every record whose JSON form would be ambiguous (two fields on one
 * property other than list items, a field below another's value) or not what the fields say
 * (type mismatch, non-UTF-8 text), so that the index's answer over the fields equals the
 * evaluator's over the JSON. It does not match.
 */
#include "engine_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The memo of shapes. A sensor maps every record of a log alike: the same object types, and
 * fields of the same kinds on the same objects and paths; only the values change. All of the
 * check but the values' (UTF-8 text, reference targets) depends on that shape alone, so a
 * stream remembers the shapes that passed and checks only the values of a record whose shape
 * it knows. On the sensor's Zeek path the check's own instructions per record went from
 * about 610 to 300 (callgrind; the UTF-8 check of the values, which stays, is apart).
 *
 * Invariants that keep it exact: an entry is taken only on equality of the whole shape (the
 * type pointers, every field's object, kind and path as stored; a hash only picks the slot), so a
 * shape the check never passed is never taken for one that it did; and what the shape check
 * reads never changes for an engine (paths are immutable once registered, their number only
 * grows), so an entry, which names its engine, never goes stale. That holds for the type
 * names only when they are the engine's own (kz_engine_path_type, as the sensor's map gives
 * them): a caller's buffer may hold another name at the same address later. So a shape is
 * kept only when every field's type was the engine's pointer; with names of the caller's,
 * every record gets the whole check.
 */
enum { SHAPE_BITS = 3, SHAPE_WAYS = 2, SHAPE_FIELDS = 24, SHAPE_TYPES = 8 };
typedef struct shape_ent {
    const kz_engine *e; /* NULL: empty */
    uint32_t ntypes, nfields;
    const char *types[SHAPE_TYPES];
    uint64_t f[SHAPE_FIELDS]; /* the first 8 bytes of each field: obj, kind, path */
} shape_ent;
_Static_assert(offsetof(kz_engine_field, obj) == 0 && offsetof(kz_engine_field, kind) == 2 &&
                   offsetof(kz_engine_field, path) == 4 && offsetof(kz_engine_field, s) == 8,
               "a field's shape is its first 8 bytes, without padding");
/* Sets of two entries: with one entry per hash value, two shapes of a log that fell on one
 * (the hash includes the type names' addresses, so it varies from run to run) evicted each
 * other on every record, and the records of both got the whole check. In the mixed-record
 * benchmark (three shapes in turn) two of three records did in some runs: 512 instructions
 * per record for the check instead of about 300. */
struct kz_eshapes {
    shape_ent ents[1 << SHAPE_BITS][SHAPE_WAYS];
    uint8_t next[1 << SHAPE_BITS]; /* the way a new shape of the set takes (round robin) */
    size_t whole;                  /* records that got the whole check */
};

kz_eshapes *kz_e_shapes_new(void)
{
    return calloc(1, sizeof(kz_eshapes));
}

void kz_e_shapes_free(kz_eshapes *s)
{
    free(s);
}

size_t kz_e_shapes_whole(const kz_eshapes *s)
{
    return s->whole;
}

/* The set of r's shape, with the shape's words in f; NULL when r is beyond what an entry
 * holds (then the whole check runs). */
static shape_ent *shape_set(kz_eshapes *s, const kz_engine_record *r, uint64_t *f, size_t *set)
{
    if (r->nfields > SHAPE_FIELDS || r->ntypes > SHAPE_TYPES)
        return NULL;
    uint64_t h = r->ntypes * 0x9e3779b97f4a7c15ull ^ r->nfields;
    for (size_t j = 0; j < r->nfields; j++) {
        memcpy(&f[j], &r->fields[j], 8);
        h = (h ^ f[j]) * 0xff51afd7ed558ccdull;
    }
    for (size_t j = 0; j < r->ntypes; j++)
        h = (h ^ (uintptr_t)r->types[j]) * 0xc4ceb9fe1a85ec53ull;
    *set = (size_t)(h >> (64 - SHAPE_BITS));
    return s->ents[*set];
}

static bool shape_known(const shape_ent *x, const kz_engine *e, const kz_engine_record *r,
                        const uint64_t *f)
{
    return x->e == e && x->ntypes == r->ntypes && x->nfields == r->nfields &&
           (!r->nfields || memcmp(x->f, f, r->nfields * sizeof *f) == 0) &&
           (!r->ntypes || memcmp(x->types, r->types, r->ntypes * sizeof *r->types) == 0);
}

/* The part of the check that depends on a field's value, not its shape: text is UTF-8, a
 * reference names an object of the record. */
static bool value_ok(const kz_engine_field *f, size_t ntypes)
{
    if (f->kind == KZ_EF_STR)
        return (f->s || !f->len) && kz_utf8_valid(f->s, f->len);
    if (f->kind == KZ_EF_REF)
        return f->i >= 0 && (uint64_t)f->i < ntypes;
    return true;
}

/* What the check says of a record whose shape passed: only its values can be wrong. */
static int check_values(const kz_engine_record *r, char *err, size_t errlen)
{
    for (size_t j = 0; j < r->nfields; j++)
        if (!value_ok(&r->fields[j], r->ntypes)) {
            snprintf(err, errlen, "field %zu: invalid value", j);
            return -1;
        }
    return 0;
}

static int check_all(const kz_engine *e, const kz_engine_record *r, bool *interned, char *err,
                     size_t errlen);

int kz_e_record_check(const kz_engine *e, const kz_engine_record *r, kz_eshapes *shapes,
                      char *err, size_t errlen)
{
    if (!r || r->ntypes > KZ_ENGINE_MAX_OBJECTS || (r->nfields && !r->fields) ||
        (r->ntypes && !r->types)) {
        snprintf(err, errlen, "malformed record");
        return -1;
    }
    uint64_t f[SHAPE_FIELDS];
    size_t set = 0;
    shape_ent *ways = shapes ? shape_set(shapes, r, f, &set) : NULL;
    for (size_t k = 0; ways && k < SHAPE_WAYS; k++)
        if (shape_known(&ways[k], e, r, f))
            return check_values(r, err, errlen);
    bool interned;
    if (shapes)
        shapes->whole++;
    if (check_all(e, r, &interned, err, errlen) < 0)
        return -1;
    if (ways && interned) {
        shape_ent *x = &ways[shapes->next[set]];
        shapes->next[set] = (uint8_t)((shapes->next[set] + 1) % SHAPE_WAYS);
        x->e = e;
        x->ntypes = (uint32_t)r->ntypes;
        x->nfields = (uint32_t)r->nfields;
        if (r->ntypes)
            memcpy(x->types, r->types, r->ntypes * sizeof *r->types);
        if (r->nfields)
            memcpy(x->f, f, r->nfields * sizeof *f);
    }
    return 0;
}

/* The whole check, for a record of the basic form (counts in range, arrays present). */
static int check_all(const kz_engine *e, const kz_engine_record *r, bool *interned, char *err,
                     size_t errlen)
{
    *interned = true;
    unsigned np = atomic_load_explicit(&e->npaths, memory_order_acquire);
    /* The overlap test compares a field with the earlier fields of its object only: first[o]
     * is the first field of object o (valid when bit o of seen is set), so a record whose
     * objects have one field each costs no comparison. The test over all earlier fields was
     * 4% of the sensor's time on pcap; the gain of this one was within the host's noise. */
    _Static_assert(KZ_ENGINE_MAX_OBJECTS <= 64, "seen has a bit per object");
    uint64_t seen = 0;
    size_t first[KZ_ENGINE_MAX_OBJECTS];
    for (size_t j = 0; j < r->ntypes; j++)
        if (!r->types[j]) {
            snprintf(err, errlen, "object %zu has no type", j);
            return -1;
        }
    for (size_t j = 0; j < r->nfields; j++) {
        const kz_engine_field *f = &r->fields[j];
        if (f->obj >= r->ntypes || f->path >= np || f->kind > KZ_EF_REF) {
            snprintf(err, errlen, "field %zu: object or path out of range", j);
            return -1;
        }
        const char *rt = e->recp[f->path].tname;
        if (rt != r->types[f->obj])
            *interned = false;
        if (!rt || (rt != r->types[f->obj] && strcmp(rt, r->types[f->obj]) != 0)) {
            const kz_epath *p = e->paths[f->path];
            const char *pt = e->types[p->type];
            if (pt != r->types[f->obj] && strcmp(pt, r->types[f->obj]) != 0)
                snprintf(err, errlen, "field %zu: path %s on an object of type %s", j, p->text,
                         r->types[f->obj]);
            else
                snprintf(err, errlen, "field %zu: path %s cannot be set by a record", j, p->text);
            return -1;
        }
        if (!value_ok(f, r->ntypes)) {
            snprintf(err, errlen, "field %zu: invalid value", j);
            return -1;
        }
        if (!(seen >> f->obj & 1)) {
            seen |= 1ull << f->obj;
            first[f->obj] = j;
            continue;
        }
        /* two fields of one object overlap when one's path is a prefix of the other's (or
         * they are one path, unless both are items of one list): one path is a prefix of
         * another of a different length only when their first steps are one (interned) */
        uint32_t fn = e->recp[f->path].nsteps;
        const char *f0 = e->recp[f->path].step0;
        for (size_t k = first[f->obj]; k < j; k++) {
            const kz_engine_field *g = &r->fields[k];
            if (g->obj != f->obj)
                continue;
            if (g->path == f->path) {
                if (e->recp[f->path].list && f->kind == KZ_EF_REF && g->kind == KZ_EF_REF)
                    continue;
            } else {
                uint32_t gn = e->recp[g->path].nsteps;
                if (gn == fn || (fn && gn && e->recp[g->path].step0 != f0))
                    continue;
                const kz_epath *p = e->paths[f->path], *q = e->paths[g->path];
                size_t n = fn < gn ? fn : gn, s = n ? 1 : 0;
                while (s < n && p->steps[s] == q->steps[s])
                    s++;
                if (s < n)
                    continue;
            }
            snprintf(err, errlen, "fields %zu and %zu overlap (%s, %s)", k, j,
                     e->paths[g->path]->text, e->paths[f->path]->text);
            return -1;
        }
    }
    return 0;
}

json_t *kz_engine_record_to_json(const kz_engine *e, const kz_engine_record *r, char *err,
                                 size_t errlen)
{
    if (kz_e_record_check(e, r, NULL, err, errlen) < 0)
        return NULL;
    json_t *od = json_object(), *objs = json_object();
    char ts[40], key[24];
    bool ok = od && objs;
    for (size_t j = 0; ok && j < r->ntypes; j++) {
        json_t *o = json_object();
        snprintf(key, sizeof key, "%zu", j);
        ok = o && json_object_set_new(o, "type", json_string(r->types[j])) == 0 &&
             json_object_set_new(objs, key, o) == 0;
    }
    for (size_t j = 0; ok && j < r->nfields; j++) {
        const kz_engine_field *f = &r->fields[j];
        const kz_epath *p = e->paths[f->path];
        snprintf(key, sizeof key, "%u", (unsigned)f->obj);
        json_t *cur = json_object_get(objs, key);
        for (size_t s = 0; ok && s + 1 < p->nsteps; s++) {
            json_t *nx = json_object_get(cur, p->steps[s]);
            if (!nx) {
                nx = json_object();
                ok = nx && json_object_set_new(cur, p->steps[s], nx) == 0;
            }
            cur = nx;
        }
        if (!ok || !json_is_object(cur) || !p->nsteps) {
            ok = false;
            break;
        }
        json_t *val;
        if (f->kind == KZ_EF_REF && p->refs_last) { /* an item of a list of references */
            char ref[24];
            snprintf(ref, sizeof ref, "%lld", (long long)f->i);
            json_t *list = json_object_get(cur, p->steps[p->nsteps - 1]);
            if (!list) {
                list = json_array();
                ok = list && json_object_set_new(cur, p->steps[p->nsteps - 1], list) == 0;
            }
            ok = ok && json_array_append_new(list, json_string(ref)) == 0;
            continue;
        }
        if (f->kind == KZ_EF_STR) {
            val = json_stringn_nocheck(f->s ? f->s : "", f->len);
        } else if (f->kind == KZ_EF_INT) {
            val = json_integer(f->i);
        } else {
            char ref[24];
            snprintf(ref, sizeof ref, "%lld", (long long)f->i);
            val = json_string(ref);
        }
        ok = val && json_object_set_new(cur, p->steps[p->nsteps - 1], val) == 0;
    }
    if (ok) {
        json_object_set_new(od, "type", json_string("observed-data"));
        json_object_set_new(od, "id",
                            json_string("observed-data--00000000-0000-4000-8000-000000000000"));
        kz_time_format(r->first_us, 6, ts, sizeof ts);
        json_object_set_new(od, "first_observed", json_string(ts));
        kz_time_format(r->last_us, 6, ts, sizeof ts);
        json_object_set_new(od, "last_observed", json_string(ts));
        json_object_set_new(od, "number_observed",
                            json_integer(r->number_observed ? r->number_observed : 1));
        ok = json_object_set_new(od, "objects", objs) == 0;
        objs = NULL;
    }
    json_decref(objs);
    if (!ok) {
        json_decref(od);
        snprintf(err, errlen, "out of memory building the record's JSON");
        return NULL;
    }
    return od;
}
