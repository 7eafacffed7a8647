/*
 * Loading observations for the pattern evaluator: observed-data objects, in input order,
 * each turned into its time interval, its multiplicity (number_observed) and its object
 * graph, built once so that every pattern evaluated afterwards only does lookups.
 *
 * Invariants: an observation's objects are sorted by interned type id (a pattern's
 * [type:...] scans one contiguous range) and indexed by key (a _ref lookup is a binary
 * search). For STIX 2.1 object_refs, only the objects listed there belong to the
 * observation, both as roots and as reference targets (spec 9.7.4); unresolvable refs are
 * dropped, as the reference matcher does.
 *
 * It does not validate the STIX objects beyond what matching needs (that is kz_stix's job);
 * a malformed first_observed/last_observed/number_observed is an error because every
 * temporal operator depends on them.
 */
#include "eval_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kz_eval_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- instants --------------------------------------------------------------------------- */

kz_evt kz_evt_from_time(const kz_time *t)
{
    int64_t s = t->us / 1000000, r = t->us % 1000000;
    if (r < 0) {
        r += 1000000;
        s--;
    }
    kz_evt e = {s, (int32_t)(r * 1000 + t->nanos_extra)};
    return e;
}

int kz_evt_cmp(const kz_evt *a, const kz_evt *b)
{
    if (a->s != b->s)
        return a->s < b->s ? -1 : 1;
    return (a->ns > b->ns) - (a->ns < b->ns);
}

kz_evt kz_evt_add_ns(kz_evt a, int64_t dur_ns)
{
    int64_t add_s = dur_ns / 1000000000, add_ns = dur_ns % 1000000000;
    if (a.s > INT64_MAX - add_s - 1) {
        a.s = INT64_MAX;
        a.ns = 999999999;
        return a;
    }
    a.s += add_s;
    int64_t ns = a.ns + add_ns;
    if (ns >= 1000000000) {
        ns -= 1000000000;
        a.s++;
    }
    a.ns = (int32_t)ns;
    return a;
}

int64_t kz_evt_diff_ns(const kz_evt *a, const kz_evt *b)
{
    int64_t ds = a->s - b->s, dn = (int64_t)a->ns - b->ns;
    if (ds > INT64_MAX / 1000000000 - 1)
        return INT64_MAX;
    return ds * 1000000000 + dn;
}

/* ---- lookups ---------------------------------------------------------------------------- */

uint32_t kz_obs_type_id(const kz_obs_set *s, const char *type)
{
    size_t lo = 0, hi = s->ntypes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->types[mid], type);
        if (c == 0)
            return (uint32_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return UINT32_MAX;
}

json_t *kz_obs_resolve(const kz_obs *o, const char *key)
{
    size_t lo = 0, hi = o->nobjs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(o->objs[o->by_key[mid]].key, key);
        if (c == 0)
            return o->objs[o->by_key[mid]].obj;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void kz_obs_type_range(const kz_obs *o, uint32_t type_id, size_t *lo_out, size_t *hi_out)
{
    size_t lo = 0, hi = o->nobjs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->objs[mid].type_id < type_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < o->nobjs && o->objs[end].type_id == type_id)
        end++;
    *lo_out = lo;
    *hi_out = end;
}

/* ---- loading ---------------------------------------------------------------------------- */

typedef struct scope_ent {
    const char *id;
    json_t *obj;
} scope_ent;

typedef struct scope {
    scope_ent *v;
    size_t n, cap;
} scope;

typedef struct pending {
    json_t *sdo;
    size_t scope; /* index into scopes; 0 is the loose objects */
} pending;

typedef struct loader {
    scope *scopes;
    size_t nscopes, capscopes;
    pending *obs;
    size_t nobs, capobs;
    const char **types;
    size_t ntypes, captypes;
    bool oom;
} loader;

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return false;
    *p = q;
    *cap = nc;
    return true;
}

static int new_scope(loader *L)
{
    if (!grow((void **)&L->scopes, &L->capscopes, L->nscopes + 1, sizeof(scope))) {
        L->oom = true;
        return -1;
    }
    memset(&L->scopes[L->nscopes], 0, sizeof(scope));
    return (int)L->nscopes++;
}

static void scope_add(loader *L, size_t si, json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (!id)
        return;
    scope *sc = &L->scopes[si];
    if (!grow((void **)&sc->v, &sc->cap, sc->n + 1, sizeof(scope_ent))) {
        L->oom = true;
        return;
    }
    sc->v[sc->n].id = id;
    sc->v[sc->n].obj = obj;
    sc->n++;
}

static void add_obs(loader *L, json_t *sdo, size_t si)
{
    if (!grow((void **)&L->obs, &L->capobs, L->nobs + 1, sizeof(pending))) {
        L->oom = true;
        return;
    }
    L->obs[L->nobs].sdo = sdo;
    L->obs[L->nobs].scope = si;
    L->nobs++;
}

static bool is_type(const json_t *o, const char *t)
{
    const char *v = json_string_value(json_object_get(o, "type"));
    return v && strcmp(v, t) == 0;
}

/* A loose document is an observation when it is observed-data, or when it has the shape of
 * one under another type name (the 2.0 reference accepts any such SDO, and its vectors use a
 * "cybox-container"). */
static bool is_observation(const json_t *o)
{
    if (is_type(o, "observed-data"))
        return true;
    return json_object_get(o, "first_observed") &&
           (json_is_object(json_object_get(o, "objects")) ||
            json_is_array(json_object_get(o, "object_refs")));
}

static void add_type(loader *L, const char *t)
{
    if (!grow((void **)&L->types, &L->captypes, L->ntypes + 1, sizeof(char *))) {
        L->oom = true;
        return;
    }
    L->types[L->ntypes++] = t;
}

static int cmp_scope_ent(const void *a, const void *b)
{
    return strcmp(((const scope_ent *)a)->id, ((const scope_ent *)b)->id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *scope_find(const scope *sc, const char *id)
{
    scope_ent key = {id, NULL};
    scope_ent *e = sc->n ? bsearch(&key, sc->v, sc->n, sizeof *sc->v, cmp_scope_ent) : NULL;
    return e ? e->obj : NULL;
}

static int parse_ts(const json_t *sdo, const char *prop, kz_evt *out, char *err, size_t errlen,
                    size_t idx)
{
    const char *s = json_string_value(json_object_get(sdo, prop));
    kz_time t;
    char why[128] = "";
    if (!s) {
        kz_eval_seterr(err, errlen, "observed-data #%zu: %s is missing or not a string", idx, prop);
        return -1;
    }
    if (kz_time_parse(s, &t, why, sizeof why) < 0) {
        kz_eval_seterr(err, errlen, "observed-data #%zu: invalid %s '%s': %s", idx, prop, s, why);
        return -1;
    }
    *out = kz_evt_from_time(&t);
    return 0;
}

/* The observation's object list is first collected in input order, then sorted by type. */
typedef struct objvec {
    kz_obs_obj *v;
    size_t n, cap;
} objvec;

static int push_obj(objvec *ov, json_t *obj, const char *key)
{
    if (!json_is_object(obj) || !json_string_value(json_object_get(obj, "type")))
        return 0;
    if (ov->n >= UINT32_MAX || !grow((void **)&ov->v, &ov->cap, ov->n + 1, sizeof(kz_obs_obj)))
        return -1;
    ov->v[ov->n].obj = obj;
    ov->v[ov->n].key = key;
    ov->v[ov->n].type_id = 0;
    ov->v[ov->n].pos = (uint32_t)ov->n;
    ov->n++;
    return 0;
}

typedef struct keyidx {
    const char *key;
    uint32_t idx;
} keyidx;

static int cmp_keyidx(const void *a, const void *b)
{
    const keyidx *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_obj_type(const void *a, const void *b)
{
    const kz_obs_obj *x = a, *y = b;
    if (x->type_id != y->type_id)
        return x->type_id < y->type_id ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

void kz_obs_set_free(kz_obs_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nobs; i++) {
        free(s->obs[i].objs);
        free(s->obs[i].by_key);
    }
    free(s->obs);
    free(s->types);
    json_decref(s->docs);
    free(s);
}

static void loader_free(loader *L)
{
    for (size_t i = 0; i < L->nscopes; i++)
        free(L->scopes[i].v);
    free(L->scopes);
    free(L->obs);
    free(L->types);
}

/* Turn the collected objects into the observation's final layout: duplicates (an id listed
 * twice in object_refs) dropped, objects sorted by type id with input order kept within a
 * type, and the key index. O(n log n) in the observation's objects. */
static int build_obs(kz_obs_set *s, kz_obs *o, objvec *ov)
{
    size_t n = ov->n;
    keyidx *ki = malloc((n ? n : 1) * sizeof *ki);
    o->by_key = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!ki || !o->by_key) {
        free(ki);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ki[i].key = ov->v[i].key;
        ki[i].idx = (uint32_t)i;
    }
    if (n > 1)
        qsort(ki, n, sizeof *ki, cmp_keyidx);
    for (size_t i = 1; i < n; i++)
        if (strcmp(ki[i].key, ki[i - 1].key) == 0)
            ov->v[ki[i].idx].obj = NULL; /* keep the first occurrence */
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (ov->v[i].obj) {
            ov->v[u] = ov->v[i];
            ov->v[u].pos = (uint32_t)u;
            ov->v[u].type_id =
                kz_obs_type_id(s, json_string_value(json_object_get(ov->v[u].obj, "type")));
            u++;
        }
    n = u;
    if (n > 1)
        qsort(ov->v, n, sizeof *ov->v, cmp_obj_type);
    for (size_t i = 0; i < n; i++) {
        ki[i].key = ov->v[i].key;
        ki[i].idx = (uint32_t)i;
    }
    if (n > 1)
        qsort(ki, n, sizeof *ki, cmp_keyidx);
    for (size_t i = 0; i < n; i++)
        o->by_key[i] = ki[i].idx;
    free(ki);
    o->objs = ov->v;
    o->nobjs = n;
    ov->v = NULL;
    ov->n = ov->cap = 0;
    return 0;
}

kz_obs_set *kz_obs_set_from_json(const json_t *docs, int stix_version, char *err, size_t errlen)
{
    if (!json_is_array(docs)) {
        kz_eval_seterr(err, errlen, "observations must be a JSON array of documents");
        return NULL;
    }
    loader L = {0};
    kz_obs_set *s = calloc(1, sizeof *s);
    if (!s || new_scope(&L) < 0)
        goto oom;
    s->docs = json_incref((json_t *)docs);
    s->version = stix_version;

    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        if (!json_is_object(doc))
            continue;
        if (is_type(doc, "bundle")) {
            int si = new_scope(&L);
            if (si < 0)
                goto oom;
            size_t j;
            json_t *o;
            json_array_foreach(json_object_get(doc, "objects"), j, o)
            {
                if (!json_is_object(o))
                    continue;
                scope_add(&L, (size_t)si, o);
                if (is_observation(o))
                    add_obs(&L, o, (size_t)si);
            }
        } else if (is_observation(doc)) {
            add_obs(&L, doc, 0);
        } else {
            scope_add(&L, 0, doc);
        }
        if (L.oom)
            goto oom;
    }
    for (size_t k = 0; k < L.nscopes; k++)
        if (L.scopes[k].n)
            qsort(L.scopes[k].v, L.scopes[k].n, sizeof(scope_ent), cmp_scope_ent);

    /* Collect the objects of every observation, intern their types. */
    objvec *ovs = calloc(L.nobs ? L.nobs : 1, sizeof(objvec));
    s->obs = calloc(L.nobs ? L.nobs : 1, sizeof(kz_obs));
    if (!ovs || !s->obs) {
        free(ovs);
        goto oom;
    }
    s->nobs = L.nobs;
    int rc = 0;
    for (size_t k = 0; k < L.nobs && rc == 0; k++) {
        json_t *sdo = L.obs[k].sdo;
        kz_obs *o = &s->obs[k];
        o->sdo = sdo;
        o->id = json_string_value(json_object_get(sdo, "id"));
        if (parse_ts(sdo, "first_observed", &o->first, err, errlen, k) < 0 ||
            parse_ts(sdo, "last_observed", &o->last, err, errlen, k) < 0) {
            rc = -1;
            break;
        }
        if (kz_evt_cmp(&o->first, &o->last) > 0) {
            kz_eval_seterr(err, errlen,
                           "observed-data #%zu: last_observed is before first_observed", k);
            rc = -1;
            break;
        }
        json_t *n = json_object_get(sdo, "number_observed");
        if (!json_is_integer(n) || json_integer_value(n) < 1) {
            kz_eval_seterr(err, errlen,
                           "observed-data #%zu: number_observed must be an integer >= 1", k);
            rc = -1;
            break;
        }
        o->count = json_integer_value(n);
        json_t *refs = json_object_get(sdo, "object_refs");
        json_t *objs = json_object_get(sdo, "objects");
        if (json_is_array(refs)) {
            size_t j;
            json_t *r;
            json_array_foreach(refs, j, r)
            {
                const char *id = json_string_value(r);
                json_t *target = id ? scope_find(&L.scopes[L.obs[k].scope], id) : NULL;
                if (target && push_obj(&ovs[k], target, id) < 0)
                    rc = -2;
            }
        } else if (json_is_object(objs)) {
            const char *key;
            json_t *v;
            json_object_foreach(objs, key, v)
            {
                if (push_obj(&ovs[k], v, key) < 0)
                    rc = -2;
            }
        }
        for (size_t j = 0; j < ovs[k].n && rc == 0; j++) {
            add_type(&L, json_string_value(json_object_get(ovs[k].v[j].obj, "type")));
            if (L.oom)
                rc = -2;
        }
    }
    if (rc == 0 && L.ntypes) {
        qsort(L.types, L.ntypes, sizeof(char *), cmp_str);
        size_t u = 0;
        for (size_t k = 0; k < L.ntypes; k++)
            if (u == 0 || strcmp(L.types[u - 1], L.types[k]) != 0)
                L.types[u++] = L.types[k];
        L.ntypes = u;
    }
    s->types = L.types;
    s->ntypes = L.ntypes;
    L.types = NULL;
    for (size_t k = 0; k < L.nobs && rc == 0; k++)
        if (build_obs(s, &s->obs[k], &ovs[k]) < 0)
            rc = -2;
    for (size_t k = 0; k < L.nobs; k++)
        free(ovs[k].v);
    free(ovs);
    loader_free(&L);
    if (rc == -2) {
        kz_eval_seterr(err, errlen, "out of memory");
        kz_obs_set_free(s);
        return NULL;
    }
    if (rc < 0) {
        kz_obs_set_free(s);
        return NULL;
    }
    return s;

oom:
    loader_free(&L);
    kz_obs_set_free(s);
    kz_eval_seterr(err, errlen, "out of memory");
    return NULL;
}

size_t kz_obs_set_count(const kz_obs_set *s)
{
    return s ? s->nobs : 0;
}

const json_t *kz_obs_set_sdo(const kz_obs_set *s, size_t i)
{
    return s && i < s->nobs ? s->obs[i].sdo : NULL;
}

const char *kz_obs_set_id(const kz_obs_set *s, size_t i)
{
    return s && i < s->nobs ? s->obs[i].id : NULL;
}
