/*
 * The engine object: indicator loading (versions, revocation, validity window), updates and
 * the publication of generations.
 *
 * Invariants: all updates run under wlock. A generation is never modified after it is
 * published; an update builds the next one (a new delta segment, a copied dead bitmap, or a
 * merged base) beside it, publishes it with one atomic store and then retires the old one:
 * it flips the reader epoch, waits until no reader is between "epoch entered" and "reference
 * taken" on the old epoch, then until the old generation's reader count drops to zero.
 * Readers (kz_engine_acquire) never wait: at worst they retry when an epoch flips under them.
 * An id is live in at most one place (the delta, or a non-dead base record); ids that are not
 * live but remembered (pending or gone) sit in e->ids, sorted by uuid.
 *
 * It does not match (match.c) nor build indexes (segment.c).
 */
#include "engine_int.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* ---- generations --------------------------------------------------------------------- */

static void gen_free(kz_engine_gen *g)
{
    if (!g)
        return;
    if (g->base && --g->base->refs == 0)
        kz_e_seg_free(g->base);
    if (g->delta && --g->delta->refs == 0)
        kz_e_seg_free(g->delta);
    free(g->dead);
    free(g->pflags);
    free(g->skinds);
    free(g->c4);
    free(g->c6);
    free(g->tflags);
    free(g->tp_start);
    free(g->tp_paths);
    free(g);
}

static void seg_info(kz_engine_gen *g, const kz_eseg *s)
{
    if (!s)
        return;
    for (size_t p = 0; p < s->npaths && p < g->npaths; p++) {
        g->pflags[p] |= s->pflags[p];
        g->skinds[p] |= s->skinds[p];
        g->c4[p] |= s->c4[p];
        for (int k = 0; k < 3; k++)
            g->c6[3 * p + k] |= s->c6[3 * p + k];
    }
    for (size_t t = 0; t < s->ntypes && t < g->ntypes; t++) {
        g->tflags[t] |= s->tflags[t];
        g->any_tkeys |= s->tflags[t];
    }
}

static kz_engine_gen *gen_new(kz_engine *e, kz_eseg *base, kz_eseg *delta, uint64_t *dead,
                              size_t ndead)
{
    kz_engine_gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->eng = e;
    g->base = base;
    g->delta = delta;
    g->dead = dead;
    g->ndead = ndead;
    g->npaths = atomic_load(&e->npaths);
    g->ntypes = atomic_load(&e->ntypes);
    g->pflags = calloc(g->npaths + 1, 1);
    g->skinds = calloc(g->npaths + 1, sizeof *g->skinds);
    g->c4 = calloc(g->npaths + 1, 8);
    g->c6 = calloc(3 * (g->npaths + 1), 8);
    g->tp_start = calloc(g->ntypes + 2, sizeof(uint32_t));
    g->tflags = calloc(g->ntypes + 1, 1);
    g->tp_paths = calloc(g->npaths + 1, sizeof(uint32_t));
    /* on failure the caller keeps base, delta and dead: gen_free sees none of them */
    if (!g->pflags || !g->skinds || !g->c4 || !g->c6 || !g->tp_start || !g->tp_paths ||
        !g->tflags) {
        g->dead = NULL;
        g->base = g->delta = NULL;
        gen_free(g);
        return NULL;
    }
    seg_info(g, base);
    seg_info(g, delta);
    for (size_t p = 0; p < g->npaths; p++)
        if (g->pflags[p])
            g->tp_start[e->paths[p]->type + 1]++;
    for (size_t t = 0; t < g->ntypes; t++)
        g->tp_start[t + 1] += g->tp_start[t];
    uint32_t *fill = calloc(g->ntypes + 1, sizeof *fill);
    if (!fill) {
        g->dead = NULL;
        g->base = g->delta = NULL;
        gen_free(g);
        return NULL;
    }
    if (base)
        base->refs++;
    if (delta)
        delta->refs++;
    for (size_t p = 0; p < g->npaths; p++)
        if (g->pflags[p]) {
            uint32_t t = e->paths[p]->type;
            g->tp_paths[g->tp_start[t] + fill[t]++] = (uint32_t)p;
            g->any_ref1 |= e->paths[p]->ref1;
        }
    free(fill);
    return g;
}

const kz_engine_gen *kz_engine_acquire(kz_engine *e)
{
    for (;;) {
        uint64_t ep = atomic_load(&e->epoch);
        atomic_fetch_add(&e->readers[ep & 1], 1);
        if (atomic_load(&e->epoch) == ep) {
            kz_engine_gen *g = atomic_load(&e->cur);
            atomic_fetch_add(&g->refs, 1);
            atomic_fetch_sub(&e->readers[ep & 1], 1);
            return g;
        }
        atomic_fetch_sub(&e->readers[ep & 1], 1);
    }
}

void kz_engine_release(kz_engine *e, const kz_engine_gen *g)
{
    (void)e;
    if (g)
        atomic_fetch_sub(&((kz_engine_gen *)g)->refs, 1);
}

static void pause_briefly(unsigned *spins)
{
    if (++*spins < 64) {
        sched_yield();
        return;
    }
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
}

static void stats_of(kz_engine *e, const kz_engine_gen *g)
{
    kz_engine_stats *st = &e->st;
    st->live = st->simple = st->multi = st->type_scan = st->index_keys = st->index_bytes = 0;
    st->base_records = st->delta_records = 0;
    const kz_eseg *segs[2] = {g->base, g->delta};
    for (int k = 0; k < 2; k++) {
        const kz_eseg *s = segs[k];
        if (!s)
            continue;
        st->live += s->nrecs;
        *(k ? &st->delta_records : &st->base_records) = s->nrecs;
        st->simple += s->nsimple;
        st->multi += s->nmulti;
        st->type_scan += s->ntype;
        st->index_keys += s->nposts + s->nskeys;
        st->index_bytes += s->bytes;
    }
    if (g->base && g->ndead) {
        const kz_eseg *b = g->base;
        for (size_t w = 0; w < (b->nrecs + 63) / 64; w++)
            for (uint64_t m = g->dead[w]; m; m &= m - 1) {
                size_t r = w * 64 + (size_t)__builtin_ctzll(m);
                st->live--;
                const kz_ecplx *c = kz_e_seg_cplx(b, r); /* one walk: NULL for a simple one */
                if (!c)
                    st->simple--;
                else
                    st->multi -= c->multi;
            }
    }
    st->confirmed = st->live - st->simple;
    st->pending = 0;
    for (size_t i = 0; i < e->nids; i++)
        st->pending += e->ids[i].state == 1;
    st->generation = g->number;
}

static void publish(kz_engine *e, kz_engine_gen *g)
{
    kz_engine_gen *old = atomic_load(&e->cur);
    g->number = old ? old->number + 1 : 1;
    atomic_store(&e->cur, g);
    stats_of(e, g);
    if (!old)
        return;
    uint64_t ep = atomic_fetch_add(&e->epoch, 1);
    unsigned spins = 0;
    while (atomic_load(&e->readers[ep & 1]) != 0)
        pause_briefly(&spins);
    /* no reader can reach old any more; those holding it release it whenever they like: it
     * waits on the retired list and is freed by the first update that finds it unused (a
     * thread holding a snapshot may thus update without deadlocking) */
    old->retired_next = e->retired;
    e->retired = old;
    for (kz_engine_gen **pp = &e->retired; *pp;) {
        kz_engine_gen *r = *pp;
        if (atomic_load(&r->refs) == 0) {
            *pp = r->retired_next;
            gen_free(r);
        } else {
            pp = &r->retired_next;
        }
    }
}

kz_engine *kz_engine_new(const kz_engine_opts *opts)
{
    kz_e_hash_seed_init();
    kz_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (opts)
        e->opts = *opts;
    if (!e->opts.max_comparisons)
        e->opts.max_comparisons = 1000;
    if (!e->opts.max_pattern_len)
        e->opts.max_pattern_len = (size_t)64 * 1024;
    if (!e->opts.merge_ratio)
        e->opts.merge_ratio = 8;
    if (!e->opts.merge_min)
        e->opts.merge_min = 65536;
    e->now = e->opts.now_us ? e->opts.now_us : kz_time_now_us();
    pthread_mutex_init(&e->wlock, NULL);
    pthread_mutex_init(&e->reglock, NULL);
    e->ctx_cap = KZ_E_CTX_CHUNK * KZ_E_CTX_CHUNKS;
    e->tables_cap = SIZE_MAX;
    kz_e_ctx_intern(e, "{}");
    kz_engine_gen *g = gen_new(e, NULL, NULL, NULL, 0);
    if (!g || atomic_load(&e->nctx) != 1) {
        gen_free(g);
        kz_e_registry_free(e);
        free(e);
        return NULL;
    }
    publish(e, g);
    return e;
}

void kz_engine_free(kz_engine *e)
{
    if (!e)
        return;
    kz_engine_settle(e);
    free(e->mg.log);
    gen_free(atomic_load(&e->cur));
    while (e->retired) {
        kz_engine_gen *r = e->retired;
        e->retired = r->retired_next;
        gen_free(r);
    }
    for (size_t i = 0; i < e->nids; i++)
        json_decref(e->ids[i].obj);
    free(e->ids);
    free(e->exp);
    kz_e_regex_cache_free(e);
    for (size_t k = 0; k < KZ_E_CTX_SEEN; k++)
        for (size_t i = 0; i < KZ_E_CTX_KEYS; i++)
            json_decref(e->ctx_seen[k].m[i]);
    kz_e_registry_free(e);
    pthread_mutex_destroy(&e->wlock);
    pthread_mutex_destroy(&e->reglock);
    free(e);
}

size_t kz_engine_match_errors(const kz_engine *e)
{
    return atomic_load(&((kz_engine *)e)->match_errors);
}

size_t kz_engine_candidates(const kz_engine *e)
{
    return atomic_load(&((kz_engine *)e)->candidates);
}

void kz_engine_get_stats(kz_engine *e, kz_engine_stats *st)
{
    pthread_mutex_lock(&e->wlock);
    *st = e->st;
    st->merging = e->mg.running;
    pthread_mutex_unlock(&e->wlock);
}

/* ---- operations ----------------------------------------------------------------------- */

enum { OP_ADD, OP_GONE, OP_PENDING, OP_REMOVE, OP_EXPIRE };

typedef struct op {
    uint8_t uuid[16];
    int64_t modified;
    int kind;
    size_t seq;
    int64_t valid_from, valid_until; /* valid_until INT64_MAX when absent */
    json_t *obj;                     /* pending */
    kz_ecplx *cplx;
    uint8_t *key;
    int shape;
    char *name;
    uint32_t ctx;
} op;

/* Keys of the operations of one load: carved from 4 MiB chunks instead of one malloc each
 * (ten million small allocations, and their frees, weighed on a 10M load). */
typedef struct opchunk {
    struct opchunk *next;
    size_t used, cap;
    uint8_t data[];
} opchunk;

typedef struct oplist {
    opchunk *keys;
    op *v;
    size_t n, cap;
    kz_diags *diags;
    long added;
    bool oom;
} oplist;

static uint8_t *op_key_alloc(oplist *L, size_t n)
{
    opchunk *c = L->keys;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ((size_t)4 << 20) ? n : ((size_t)4 << 20) - sizeof *c;
        opchunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        L->keys = c = nc;
    }
    uint8_t *p = c->data + c->used;
    c->used += n;
    return p;
}

static void op_clear(op *o)
{
    if (o->cplx && o->cplx->refs == 0)
        kz_e_cplx_free(o->cplx);
    o->cplx = NULL;
    free(o->name);
    json_decref(o->obj);
    o->key = NULL;
    o->name = NULL;
    o->obj = NULL;
}

/* The list and what its operations still hold: after an update (whose segments copied the
 * keys and names, and own the complex entries they took), or in place of one that failed
 * (before, a load or removal that ran out of memory leaked every operation's pattern, name
 * and pending indicator). Every way out of a load, a removal or a transaction comes here. */
static void oplist_free(oplist *L)
{
    for (size_t i = 0; L->v && i < L->n; i++)
        op_clear(&L->v[i]);
    free(L->v);
    L->v = NULL;
    for (opchunk *c = L->keys, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    L->keys = NULL;
}

static op *op_push(oplist *L)
{
    if (L->n == L->cap) {
        size_t nc = L->cap ? L->cap * 2 : 256;
        op *v = realloc(L->v, nc * sizeof *v);
        if (!v) {
            L->oom = true;
            return NULL;
        }
        L->v = v;
        L->cap = nc;
        /* applied in uuid order, the operations are read at random: huge pages keep a
         * gigabyte of them from missing the TLB on every step */
        kz_e_advise_huge(v, nc * sizeof *v);
    }
    op *o = &L->v[L->n];
    memset(o, 0, sizeof *o);
    o->seq = L->n++;
    o->valid_until = INT64_MAX;
    return o;
}

static int parse_id(const char *id, uint8_t uuid[16])
{
    static const char pre[] = "indicator--";
    if (!id || strncmp(id, pre, sizeof pre - 1) != 0 || strlen(id) != sizeof pre - 1 + 36)
        return -1;
    kz_uuid u;
    if (kz_uuid_parse(id + sizeof pre - 1, &u) < 0)
        return -1;
    memcpy(uuid, u.b, 16);
    return 0;
}

static int get_time(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!v)
        return 1;
    kz_time t;
    if (!json_is_string(v) || kz_time_parse(json_string_value(v), &t, NULL, 0) < 0)
        return -1;
    *out = t.us;
    return 0;
}

static const char *const ctx_keys[KZ_E_CTX_KEYS] = {"indicator_types", "confidence",
                                                      "created_by_ref", "object_marking_refs",
                                                      "kill_chain_phases", "labels"};

static bool ctx_same(const kz_ectx_seen *c, json_t *const cur[KZ_E_CTX_KEYS])
{
    if (!c->valid)
        return false;
    for (size_t i = 0; i < KZ_E_CTX_KEYS; i++)
        if (!(!cur[i] && !c->m[i]) && !(cur[i] && c->m[i] && json_equal(cur[i], c->m[i])))
            return false;
    return true;
}

/* The interned context of an indicator. Feeds repeat a few contexts, so the members of the
 * recent ones are kept and compared first, the last one found before the others (json_equal
 * on a few small values is much cheaper than building and serialising the canonical
 * object). */
static uint32_t context_of(kz_engine *e, const json_t *ind)
{
    json_t *cur[KZ_E_CTX_KEYS];
    for (size_t i = 0; i < KZ_E_CTX_KEYS; i++)
        cur[i] = json_object_get(ind, ctx_keys[i]);
    if (ctx_same(&e->ctx_seen[e->ctx_hit], cur))
        return e->ctx_seen[e->ctx_hit].id;
    for (unsigned k = 0; k < KZ_E_CTX_SEEN; k++)
        if (k != e->ctx_hit && ctx_same(&e->ctx_seen[k], cur)) {
            e->ctx_hit = k;
            return e->ctx_seen[k].id;
        }
    json_t *c = json_object();
    if (!c)
        return KZ_E_CTX_OOM;
    for (size_t i = 0; i < KZ_E_CTX_KEYS; i++)
        if (cur[i] && json_object_set(c, ctx_keys[i], cur[i]) < 0) {
            json_decref(c);
            return KZ_E_CTX_OOM;
        }
    kz_buf b;
    kz_buf_init(&b);
    /* a loaded value has a canonical form (never NaN): only memory can fail it */
    uint32_t id = KZ_E_CTX_OOM;
    if (kz_json_canonical(c, &b) == 0 && b.data)
        id = kz_e_ctx_intern(e, b.data);
    kz_buf_free(&b);
    json_decref(c);
    if (id == KZ_E_CTX_OOM || id == KZ_E_CTX_FULL)
        return id; /* not kept: the next indicator with this context tries again */
    /* copies: a caller of kz_engine_load_json may change its objects after the load */
    kz_ectx_seen *s = &e->ctx_seen[e->ctx_next];
    s->valid = true;
    for (size_t i = 0; i < KZ_E_CTX_KEYS; i++) {
        json_decref(s->m[i]);
        s->m[i] = cur[i] ? json_deep_copy(cur[i]) : NULL;
        if (cur[i] && !s->m[i])
            s->valid = false; /* out of memory: a missing copy would read as an absent member */
    }
    s->id = id;
    e->ctx_hit = e->ctx_next;
    e->ctx_next = (e->ctx_next + 1) % KZ_E_CTX_SEEN;
    return id;
}

/* A refused indicator: counted, and a diagnostic at member ptr (fmt has one %s, why). */
static void reject(kz_engine *e, oplist *L, const char *id, const char *ptr, const char *fmt,
                   const char *why)
{
    e->st.rejected++;
    if (L->diags)
        kz_diags_add(L->diags, KZ_SEV_ERROR, id, ptr, fmt, why);
}

/* Turn one indicator object into an operation (or a counted rejection). */
static void take_indicator(kz_engine *e, oplist *L, json_t *ind)
{
    e->st.seen++;
    const char *id = json_string_value(json_object_get(ind, "id"));
    uint8_t uuid[16];
    if (parse_id(id, uuid) < 0) {
        reject(e, L, id, "/id", "%s", "indicator id is not indicator--<uuid>");
        return;
    }
    int64_t modified = 0, vf = INT64_MIN, vu = INT64_MAX;
    int r = get_time(ind, "modified", &modified);
    if (r == 1)
        r = get_time(ind, "created", &modified);
    if (r != 0) {
        reject(e, L, id, "/modified", "%s", "missing or invalid modified/created");
        return;
    }
    if (get_time(ind, "valid_from", &vf) < 0 || get_time(ind, "valid_until", &vu) < 0) {
        reject(e, L, id, "/valid_from", "%s", "invalid valid_from/valid_until");
        return;
    }
    op *o = op_push(L);
    if (!o)
        return;
    memcpy(o->uuid, uuid, 16);
    o->modified = modified;
    o->valid_from = vf;
    o->valid_until = vu;
    if (json_is_true(json_object_get(ind, "revoked"))) {
        e->st.revoked++;
        o->kind = OP_GONE;
        return;
    }
    if (vu <= e->now) {
        e->st.expired++;
        o->kind = OP_GONE;
        return;
    }
    const char *ptype = json_string_value(json_object_get(ind, "pattern_type"));
    if (ptype && strcmp(ptype, "stix") != 0) {
        e->st.other_types++;
        o->kind = OP_GONE; /* a newer non-STIX version ends the older STIX one */
        return;
    }
    const char *pattern = json_string_value(json_object_get(ind, "pattern"));
    if (!pattern) {
        L->n--;
        reject(e, L, id, "/pattern", "%s", "no pattern string");
        return;
    }
    const char *sv = json_string_value(json_object_get(ind, "spec_version"));
    int version = sv ? (strcmp(sv, "2.0") == 0 ? 20 : 21) : (ptype ? 21 : 20);
    uint8_t kb[KZ_E_MAX_KEY + 32];
    size_t kl = 0;
    char why[512];
    if (kz_e_compile(e, pattern, version, kb, &kl, &o->shape, &o->cplx, why, sizeof why) < 0) {
        L->n--;
        reject(e, L, id, "/pattern", "invalid pattern: %s", why);
        return;
    }
    if (vf > e->now) {
        kz_e_cplx_free(o->cplx);
        o->cplx = NULL;
        o->kind = OP_PENDING;
        o->obj = json_incref(ind);
        return;
    }
    /* a hit reports the indicator's context (its markings among it): an indicator whose
     * context cannot be kept is refused, not loaded with an empty one */
    o->ctx = context_of(e, ind);
    if (o->ctx == KZ_E_CTX_OOM) {
        L->oom = true;
        return;
    }
    if (o->ctx == KZ_E_CTX_FULL) {
        kz_e_cplx_free(o->cplx);
        o->cplx = NULL;
        L->n--;
        char full[64];
        snprintf(full, sizeof full, "%u distinct contexts already", e->ctx_cap);
        reject(e, L, id, "", "context not kept: %s", full);
        return;
    }
    if (kl) {
        o->key = op_key_alloc(L, kl);
        if (!o->key) {
            L->oom = true;
            return;
        }
        memcpy(o->key, kb, kl);
    }
    const char *name = json_string_value(json_object_get(ind, "name"));
    if (name && !(o->name = strdup(name)))
        L->oom = true;
    o->kind = OP_ADD;
}

static void take_doc(kz_engine *e, oplist *L, json_t *doc)
{
    if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v) take_doc(e, L, v);
        return;
    }
    if (!json_is_object(doc))
        return;
    const char *t = json_string_value(json_object_get(doc, "type"));
    if (!t)
        return;
    if (strcmp(t, "bundle") == 0) {
        json_t *objs = json_object_get(doc, "objects");
        if (json_is_array(objs))
            take_doc(e, L, objs);
    } else if (strcmp(t, "indicator") == 0) {
        take_indicator(e, L, doc);
    }
}

static int cmp_op(const void *a, const void *b)
{
    const op *x = a, *y = b;
    int c = memcmp(x->uuid, y->uuid, 16);
    if (c)
        return c;
    if (x->modified != y->modified)
        return x->modified < y->modified ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The sort key of an operation: k the first 8 bytes of its uuid (big-endian), v its index;
 * the radix sort's own pairs, so the keys are sorted where they are built. */
typedef kz_e_kv okey;

static const op *g_ops; /* qsort has no context; apply runs under wlock */

static int cmp_okey(const void *a, const void *b)
{
    const okey *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return cmp_op(&g_ops[x->v], &g_ops[y->v]);
}

static int cmp_eid(const void *a, const void *b)
{
    return memcmp(((const kz_eid *)a)->uuid, ((const kz_eid *)b)->uuid, 16);
}

static kz_eid *find_eid(kz_engine *e, size_t n, const uint8_t uuid[16])
{
    kz_eid key;
    memset(&key, 0, sizeof key); /* only uuid is compared; the rest is zeroed for tools */
    memcpy(key.uuid, uuid, 16);
    return n ? bsearch(&key, e->ids, n, sizeof *e->ids, cmp_eid) : NULL;
}

static bool bit(const uint64_t *b, size_t i) { return b && (b[i / 64] >> (i % 64)) & 1; }

/* The records of s that are neither dead (bitmap) nor dropped (one byte per record; either
 * may be NULL) as sources of a new segment, into out; their count. */
static size_t seg_sources(const kz_eseg *s, const uint64_t *dead, const uint8_t *dropped,
                          kz_esrc *out)
{
    size_t n = 0;
    if (!s || !s->nrecs)
        return 0;
    /* the entries are in record order: step from one to the next, no walk per record */
    for (uint32_t i = 0, ref = kz_e_seg_ref(s, 0);; ref = kz_e_seg_next_ref(s, ref)) {
        if (!bit(dead, i) && !(dropped && dropped[i]))
            kz_e_seg_src_at(s, i, ref, &out[n++]);
        if (++i == s->nrecs)
            break;
    }
    return n;
}

/* ---- background merge ------------------------------------------------------------------
 * An update whose delta reaches merge_min records (and whose base is larger: see apply)
 * starts a thread that builds a new base from the generation it published: the base's live
 * records and the delta's. Updates go on meanwhile, each building its delta as before, and
 * log the ids they change. The thread then takes wlock and publishes: base = what it built,
 * with the records of logged ids dead (their state is now the delta's or gone); delta = the
 * current delta's records of logged ids (the others are in the new base). Only merges
 * replace the base, so the current base is still the snapshot's; a merge in the update
 * itself meanwhile marks the background one stale, and so does a log that cannot grow: a
 * stale result is freed, never published. Readers are not involved: they see one
 * generation or the next, as with any update. */

static int merge_log(kz_engine *e, const uint8_t uuid[16])
{
    kz_emerge *m = &e->mg;
    if (m->nlog == m->caplog) {
        size_t nc = m->caplog ? m->caplog * 2 : 1024;
        uint8_t(*v)[16] = realloc(m->log, nc * sizeof *v);
        if (!v)
            return -1;
        m->log = v;
        m->caplog = nc;
    }
    memcpy(m->log[m->nlog++], uuid, 16);
    return 0;
}

static int cmp_uuid16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Under wlock: publish base nb (built from the snapshot), or free it when stale. */
static void merge_publish(kz_engine *e, kz_eseg *nb)
{
    kz_emerge *m = &e->mg;
    kz_engine_gen *g = atomic_load(&e->cur);
    uint64_t *dead = NULL;
    kz_esrc *src = NULL;
    kz_eseg *nd = NULL;
    if (!nb || m->stale || g->base != m->snap->base)
        goto discard;
    qsort(m->log, m->nlog, sizeof *m->log, cmp_uuid16);
    size_t ndead = 0;
    if (nb->nrecs && !(dead = calloc((nb->nrecs + 63) / 64, 8)))
        goto discard;
    for (size_t i = 0; i < m->nlog; i++) {
        long r = kz_e_seg_find(nb, m->log[i]);
        if (dead && r >= 0 && !bit(dead, (size_t)r)) { /* no records: no dead bitmap */
            dead[r / 64] |= 1ull << (r % 64);
            ndead++;
        }
    }
    size_t n = 0, nd0 = g->delta ? g->delta->nrecs : 0;
    if (nd0 && !(src = malloc(nd0 * sizeof *src)))
        goto discard;
    for (size_t i = 0; i < nd0; i++)
        if (m->nlog && bsearch(g->delta->uuids[i].b, m->log, m->nlog, sizeof *m->log, cmp_uuid16))
            kz_e_seg_src(g->delta, i, &src[n++]);
    char err[256];
    if (n)
        nd = kz_e_seg_build(e, src, n, err, sizeof err);
    free(src);
    src = NULL;
    kz_engine_gen *ng = n && !nd ? NULL : gen_new(e, nb, nd, dead, ndead);
    if (!ng)
        goto discard;
    publish(e, ng);
    e->st.merges++;
    return;
discard:
    free(src);
    free(dead);
    kz_e_seg_free(nd);
    kz_e_seg_free(nb);
    e->st.merges_discarded++;
}

static void *merge_main(void *arg)
{
    kz_engine *e = arg;
    const kz_engine_gen *g = e->mg.snap; /* set before the thread was made, fixed until it ends */
    size_t nb = g->base ? g->base->nrecs : 0, nd = g->delta ? g->delta->nrecs : 0, n = 0;
    kz_esrc *src = malloc((nb + nd + 1) * sizeof *src);
    kz_eseg *s = NULL;
    if (src) {
        n = seg_sources(g->base, g->dead, NULL, src);
        n += seg_sources(g->delta, NULL, NULL, src + n);
        char err[256];
        s = kz_e_seg_build(e, src, n, err, sizeof err);
        free(src);
    }
    pthread_mutex_lock(&e->wlock);
    merge_publish(e, s); /* before the snapshot goes: s shares its complex patterns */
    kz_engine_release(e, e->mg.snap);
    e->mg.snap = NULL;
    e->mg.running = false;
    e->mg.nlog = 0;
    pthread_mutex_unlock(&e->wlock);
    return NULL;
}

/* Under wlock, just after g was published. */
static void merge_start(kz_engine *e, kz_engine_gen *g)
{
    kz_emerge *m = &e->mg;
    if (m->joinable) { /* the last merge has ended: it cleared running under wlock */
        pthread_join(m->th, NULL);
        m->joinable = false;
    }
    atomic_fetch_add(&g->refs, 1); /* as a reader: g and its segments stay while it is read */
    m->snap = g;
    m->nlog = 0;
    m->stale = false;
    m->running = true;
    if (pthread_create(&m->th, NULL, merge_main, e) != 0) {
        m->running = false;
        m->snap = NULL;
        atomic_fetch_sub(&g->refs, 1);
        return; /* the next update tries again */
    }
    m->joinable = true;
}

void kz_engine_settle(kz_engine *e)
{
    pthread_mutex_lock(&e->wlock);
    bool join = e->mg.joinable;
    pthread_t th = e->mg.th;
    e->mg.joinable = false; /* this call joins it; a merge started later is another thread */
    pthread_mutex_unlock(&e->wlock);
    if (join)
        pthread_join(th, NULL);
}

/* Room in *a (of *cap entries of size bytes) for need entries: 0, or -1 when out of memory
 * (or past the engine's tables_cap), with *a unchanged. */
static int reserve(const kz_engine *e, void **a, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need && nc <= SIZE_MAX / 2)
        nc *= 2;
    if (nc > e->tables_cap)
        nc = e->tables_cap;
    if (nc < need || nc > SIZE_MAX / size)
        return -1;
    void *v = realloc(*a, nc * size);
    if (!v)
        return -1;
    *a = v;
    *cap = nc;
    return 0;
}

/* Apply the operations: resolve versions, build the next generation, publish it. */
static long apply(kz_engine *e, oplist *L, char *err, size_t errlen)
{
    kz_engine_gen *g = atomic_load(&e->cur);
    kz_eseg *base = g->base, *delta = g->delta;
    size_t nb = base ? base->nrecs : 0, nd = delta ? delta->nrecs : 0;
    uint64_t *dead = NULL;
    uint8_t *ddrop = calloc(nd + 1, 1);
    size_t ndead = g->ndead;
    long changed = 0;
    if (nb) {
        dead = malloc(((nb + 63) / 64) * 8);
        if (dead) {
            if (g->dead)
                memcpy(dead, g->dead, ((nb + 63) / 64) * 8);
            else
                memset(dead, 0, ((nb + 63) / 64) * 8);
        }
    }
    if (!ddrop || (nb && !dead)) {
        free(ddrop);
        free(dead);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* order by (uuid, modified, arrival) through 16-byte (prefix, index) pairs: sorting the
     * 100-byte operations themselves dominated a 10M load */
    okey *ok = malloc((L->n + 1) * sizeof *ok);
    if (!ok) {
        free(ddrop);
        free(dead);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < L->n; i++) {
        const uint8_t *u = L->v[i].uuid;
        ok[i].k = (uint64_t)u[0] << 56 | (uint64_t)u[1] << 48 | (uint64_t)u[2] << 40 |
                  (uint64_t)u[3] << 32 | (uint64_t)u[4] << 24 | (uint64_t)u[5] << 16 |
                  (uint64_t)u[6] << 8 | u[7];
        ok[i].v = i;
    }
    g_ops = L->v;
    /* radix on the uuid prefix (stable), then runs of equal prefixes by cmp_op */
    if (kz_e_radix_sort(ok, L->n) == 0) {
        for (size_t i = 0; i < L->n;) {
            size_t j = i + 1;
            while (j < L->n && ok[j].k == ok[i].k)
                j++;
            if (j - i > 1)
                qsort(ok + i, j - i, sizeof *ok, cmp_okey);
            i = j;
        }
    } else if (L->n) {
        qsort(ok, L->n, sizeof *ok, cmp_okey);
    }
    size_t nids_before = e->nids;
    kz_esrc *adds = malloc((L->n + 1) * sizeof *adds);
    size_t nadds = 0;
    /* the loop below appends to the id and expiry tables as it goes, and a failed append
     * would lose an entry (an indicator that never expires, a revoked id forgotten, so that
     * an older version could come back): their room is made first, for every operation that
     * may need it, so that running out of memory fails the update before it changes anything */
    size_t id_ops = 0, exp_ops = 0;
    for (size_t i = 0; i < L->n; i++) {
        id_ops += L->v[i].kind != OP_ADD;
        exp_ops += L->v[i].kind == OP_ADD && L->v[i].valid_until != INT64_MAX;
    }
    void *ids = e->ids, *exps = e->exp;
    int room = reserve(e, &ids, &e->capids, e->nids + id_ops, sizeof *e->ids);
    e->ids = ids;
    room = room ? room : reserve(e, &exps, &e->capexp, e->nexp + exp_ops, sizeof *e->exp);
    e->exp = exps;
    if (!adds || room) {
        free(adds);
        free(ok);
        free(ddrop);
        free(dead);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < L->n; i++) {
        /* the operations are visited in uuid order, scattered over an array of 100-byte
         * entries (a gigabyte for 10M): fetch ahead, the entry, then what it points to */
        if (i + 16 < L->n)
            __builtin_prefetch(&L->v[ok[i + 16].v]);
        if (i + 8 < L->n && L->v[ok[i + 8].v].key)
            __builtin_prefetch(L->v[ok[i + 8].v].key);
        op *o = &L->v[ok[i].v];
        bool last = i + 1 == L->n || memcmp(L->v[ok[i + 1].v].uuid, o->uuid, 16) != 0;
        if (!last && o->kind != OP_REMOVE && o->kind != OP_EXPIRE) {
            e->st.superseded++;
            op_clear(o);
            continue;
        }
        long bi = kz_e_seg_find(base, o->uuid);
        if (bi >= 0 && bit(dead, (size_t)bi))
            bi = -1;
        long di = kz_e_seg_find(delta, o->uuid);
        if (di >= 0 && ddrop[di])
            di = -1;
        kz_eid *x = find_eid(e, nids_before, o->uuid);
        if (!x) /* look among ids appended by this apply */
            for (size_t k = nids_before; k < e->nids && !x; k++)
                if (memcmp(e->ids[k].uuid, o->uuid, 16) == 0)
                    x = &e->ids[k];
        int64_t cur = INT64_MIN;
        if (bi >= 0)
            cur = kz_e_seg_modified(base, (size_t)bi);
        if (di >= 0)
            cur = kz_e_seg_modified(delta, (size_t)di);
        if (x && x->state && x->modified > cur)
            cur = x->modified;
        bool live = bi >= 0 || di >= 0;
        if (o->kind == OP_REMOVE || o->kind == OP_EXPIRE) {
            if (!live || (o->kind == OP_EXPIRE && cur != o->modified)) {
                op_clear(o);
                continue;
            }
            o->modified = cur;
        } else if (o->modified <= cur) {
            e->st.superseded++;
            op_clear(o);
            continue;
        }
        if (e->mg.running && merge_log(e, o->uuid) < 0)
            e->mg.stale = true; /* an id the merge would not know about: its result is dropped */
        if (bi >= 0) {
            dead[bi / 64] |= 1ull << (bi % 64); // NOLINT(clang-analyzer-core.NullDereference): bi >= 0 ⇒ a base ⇒ dead
            ndead++;
        }
        if (di >= 0)
            ddrop[di] = 1;
        if (live)
            changed++;
        if (x && x->obj) {
            json_decref(x->obj);
            x->obj = NULL;
        }
        if (o->kind == OP_ADD) {
            if (x)
                x->state = 0;
            kz_esrc *s = &adds[nadds++];
            memset(s, 0, sizeof *s);
            memcpy(s->uuid, o->uuid, 16);
            s->modified = o->modified;
            s->ctx = o->ctx;
            s->name = o->name;
            s->namelen = o->name ? strlen(o->name) : 0;
            s->key = o->key;
            s->shape = o->shape;
            s->cplx = o->cplx;
            if (!live)
                changed++;
            L->added++;
            if (o->valid_until != INT64_MAX) { /* room made above */
                kz_eexp *xp = &e->exp[e->nexp++];
                xp->until = o->valid_until;
                xp->modified = o->modified;
                memcpy(xp->uuid, o->uuid, 16);
            }
            continue;
        }
        /* pending or gone: remember the id (room made above) */
        if (!x) {
            x = &e->ids[e->nids++];
            memset(x, 0, sizeof *x);
            memcpy(x->uuid, o->uuid, 16);
        }
        x->modified = o->modified;
        x->state = o->kind == OP_PENDING ? 1 : 2;
        x->valid_from = o->valid_from;
        x->obj = o->kind == OP_PENDING ? json_incref(o->obj) : NULL;
        op_clear(o);
    }
    if (e->nids != nids_before)
        qsort(e->ids, e->nids, sizeof *e->ids, cmp_eid);
    /* next delta = surviving delta records + additions; merge into base when large */
    size_t nsrc = 0, ndl = 0;
    for (size_t i = 0; i < nd; i++)
        ndl += !ddrop[i];
    size_t live_base = nb - ndead;
    /* in the update itself: in the foreground mode by the ratio rule, else only when the
     * base is not larger than the delta (a first load: the merge costs about what the
     * delta's build would). Larger bases are merged in the background (merge_start). */
    bool merge = ndl + nadds >= e->opts.merge_min &&
                 (e->opts.merge_foreground ? (ndl + nadds) * e->opts.merge_ratio > live_base
                                           : live_base <= ndl + nadds);
    if (merge && e->mg.running)
        e->mg.stale = true; /* its base is being replaced: what it builds is obsolete */
    size_t cap = ndl + nadds + (merge ? live_base : 0);
    /* only additions (a first load): build from them directly, not from a copy */
    kz_esrc *src = cap == nadds ? adds : malloc((cap + 1) * sizeof *src);
    kz_eseg *nbase = base, *ndelta = NULL;
    long rc = changed;
    if (!src) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    if (merge)
        nsrc = seg_sources(base, dead, NULL, src);
    nsrc += seg_sources(delta, NULL, ddrop, src + nsrc);
    if (src != adds)
        memcpy(src + nsrc, adds, nadds * sizeof *adds);
    nsrc += nadds;
    if (merge) {
        nbase = kz_e_seg_build(e, src, nsrc, err, errlen);
        if (!nbase) {
            rc = -1;
            goto done;
        }
        free(dead);
        dead = NULL;
        ndead = 0;
    } else if (nsrc) {
        ndelta = kz_e_seg_build(e, src, nsrc, err, errlen);
        if (!ndelta) {
            rc = -1;
            goto done;
        }
    }
    kz_engine_gen *ng = gen_new(e, nbase, ndelta, dead, ndead);
    if (!ng) {
        if (nbase != base)
            kz_e_seg_free(nbase);
        kz_e_seg_free(ndelta);
        snprintf(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    dead = NULL;
    publish(e, ng);
    if (merge)
        e->st.merges++;
    else if (!e->opts.merge_foreground && ndelta && ndelta->nrecs >= e->opts.merge_min &&
             !e->mg.running)
        merge_start(e, ng);
done:
    /* ids were logged but their changes not published: the merge would take the logged
     * ids' state from a delta that does not hold it */
    if (rc < 0 && e->mg.running)
        e->mg.stale = true;
    if (src != adds)
        free(src);
    free(adds);
    free(ok);
    free(ddrop);
    free(dead);
    return rc;
}

static int on_doc(void *ctx, json_t *doc, int line)
{
    (void)line;
    void **c = ctx;
    take_doc(c[0], c[1], doc);
    return 0;
}

static int on_err(void *ctx, const kz_json_error *je)
{
    void **c = ctx;
    oplist *L = c[1];
    kz_engine *e = c[0];
    e->st.rejected++;
    if (L->diags)
        kz_diags_add(L->diags, KZ_SEV_ERROR, NULL, "", "JSON %d:%d: %s", je->line, je->column,
                     je->text);
    return 0;
}

long kz_engine_load(kz_engine *e, const char *text, size_t len, kz_diags *diags, char *err,
                    size_t errlen)
{
    pthread_mutex_lock(&e->wlock);
    oplist L = {0};
    L.diags = diags;
    void *c[2] = {e, &L};
    kz_json_each_document(text, len, on_doc, on_err, c);
    long rc = L.oom ? -1 : apply(e, &L, err, errlen);
    if (L.oom)
        snprintf(err, errlen, "out of memory");
    oplist_free(&L);
    pthread_mutex_unlock(&e->wlock);
    return rc < 0 ? -1 : L.added;
}

long kz_engine_load_json(kz_engine *e, const json_t *doc, kz_diags *diags, char *err,
                         size_t errlen)
{
    pthread_mutex_lock(&e->wlock);
    oplist L = {0};
    L.diags = diags;
    take_doc(e, &L, (json_t *)doc);
    long rc = L.oom ? -1 : apply(e, &L, err, errlen);
    if (L.oom)
        snprintf(err, errlen, "out of memory");
    oplist_free(&L);
    pthread_mutex_unlock(&e->wlock);
    return rc < 0 ? -1 : L.added;
}

long kz_engine_remove(kz_engine *e, const char *const *ids, size_t n, char *err, size_t errlen)
{
    pthread_mutex_lock(&e->wlock);
    oplist L = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t u[16];
        if (parse_id(ids[i], u) < 0)
            continue;
        op *o = op_push(&L);
        if (!o)
            break;
        memcpy(o->uuid, u, 16);
        o->kind = OP_REMOVE;
    }
    long rc = L.oom ? -1 : apply(e, &L, err, errlen);
    oplist_free(&L);
    pthread_mutex_unlock(&e->wlock);
    return rc;
}

long kz_engine_advance(kz_engine *e, int64_t now_us, char *err, size_t errlen)
{
    pthread_mutex_lock(&e->wlock);
    e->now = now_us;
    oplist L = {0};
    size_t keep = 0;
    for (size_t i = 0; i < e->nexp; i++) {
        kz_eexp *x = &e->exp[i];
        if (x->until > now_us) {
            e->exp[keep++] = *x;
            continue;
        }
        op *o = op_push(&L);
        if (!o)
            break;
        memcpy(o->uuid, x->uuid, 16);
        o->modified = x->modified;
        o->kind = OP_EXPIRE;
        e->st.expired++;
    }
    if (!L.oom)
        e->nexp = keep;
    for (size_t i = 0; i < e->nids && !L.oom; i++) {
        kz_eid *x = &e->ids[i];
        if (x->state == 1 && x->valid_from <= now_us && x->obj) {
            json_t *obj = json_incref(x->obj);
            x->state = 2; /* take_indicator re-adds it with its own modified */
            x->modified = INT64_MIN;
            take_indicator(e, &L, obj);
            json_decref(obj);
        }
    }
    long rc = L.oom ? -1 : apply(e, &L, err, errlen);
    if (L.oom)
        snprintf(err, errlen, "out of memory");
    oplist_free(&L);
    pthread_mutex_unlock(&e->wlock);
    return rc;
}

struct kz_engine_txn {
    kz_engine *e;
    oplist L;
};

kz_engine_txn *kz_engine_txn_begin(kz_engine *e)
{
    kz_engine_txn *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->e = e;
    pthread_mutex_lock(&e->wlock);
    return t;
}

long kz_engine_txn_load(kz_engine_txn *t, const char *text, size_t len, kz_diags *diags)
{
    size_t before = t->L.n;
    t->L.diags = diags;
    void *c[2] = {t->e, &t->L};
    kz_json_each_document(text, len, on_doc, on_err, c);
    t->L.diags = NULL;
    return t->L.oom ? -1 : (long)(t->L.n - before);
}

long kz_engine_txn_commit(kz_engine_txn *t, char *err, size_t errlen)
{
    kz_engine *e = t->e;
    long rc = t->L.oom ? -1 : apply(e, &t->L, err, errlen);
    if (t->L.oom)
        snprintf(err, errlen, "out of memory");
    long added = t->L.added;
    oplist_free(&t->L);
    pthread_mutex_unlock(&e->wlock);
    free(t);
    return rc < 0 ? -1 : added;
}
