/*
 * Engine registries: object types, object paths and hit contexts, interned once for the
 * engine's life so that their ids can be stored in compact records and used by sensors.
 *
 * Invariants: entries are append-only and never move (fixed arrays / chunks), so readers
 * look them up without a lock: an entry is fully written before its count or hash slot is
 * published with a release store. Additions take reglock (types, paths) or run under the
 * update lock (contexts).
 */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

/* A key the pattern grammar accepts unquoted (IdentifierWithoutHyphen: [a-zA-Z_][a-zA-Z0-9_]*);
 * anything else is printed quoted, so that a path's text is itself valid pattern syntax. */
static bool plain_key(const char *k)
{
    if (!*k || (*k >= '0' && *k <= '9'))
        return false;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

static bool ends(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

long kz_e_type_id(kz_engine *e, const char *type, bool add)
{
    if (!type)
        return -1;
    uint64_t h = kz_e_hash(type, strlen(type));
    const size_t ns = (size_t)2 * KZ_E_MAX_TYPES;
    for (int pass = 0; pass < 2; pass++) {
        size_t at = h & (ns - 1);
        for (;;) {
            unsigned v = atomic_load_explicit(&e->tslots[at], memory_order_acquire);
            if (!v)
                break;
            if (strcmp(e->types[v - 1], type) == 0) {
                if (pass)
                    pthread_mutex_unlock(&e->reglock);
                return (long)v - 1;
            }
            at = (at + 1) & (ns - 1);
        }
        if (!add)
            return -1;
        if (pass == 0) {
            pthread_mutex_lock(&e->reglock);
            continue;
        }
        unsigned n = atomic_load(&e->ntypes);
        char *t = n < KZ_E_MAX_TYPES ? strdup(type) : NULL;
        if (!t) {
            pthread_mutex_unlock(&e->reglock);
            return -1;
        }
        e->types[n] = t;
        atomic_store_explicit(&e->ntypes, n + 1, memory_order_release);
        atomic_store_explicit(&e->tslots[at], n + 1, memory_order_release);
        pthread_mutex_unlock(&e->reglock);
        return (long)n;
    }
    return -1;
}

static void free_path(kz_epath *p)
{
    if (!p)
        return;
    free(p->steps);
    free(p->text);
    free(p);
}

/* The engine's one copy of step name k (caller holds reglock); NULL when out of memory. An
 * open-addressing set, kept at most half full: a feed's patterns may name any number of
 * distinct steps, and a scan per name would make loading them quadratic. */
static const char *step_intern(kz_engine *e, const char *k)
{
    size_t kl = strlen(k);
    if ((e->nstepnames + 1) * 2 > e->capstepnames) {
        size_t nc = e->capstepnames ? 2 * e->capstepnames : 64;
        char **v = calloc(nc, sizeof *v);
        if (!v)
            return NULL;
        for (size_t i = 0; i < e->capstepnames; i++) {
            char *name = e->stepnames[i];
            if (!name)
                continue;
            size_t at = kz_e_hash(name, strlen(name)) & (nc - 1);
            while (v[at])
                at = (at + 1) & (nc - 1);
            v[at] = name;
        }
        free(e->stepnames);
        e->stepnames = v;
        e->capstepnames = nc;
    }
    size_t at = kz_e_hash(k, kl) & (e->capstepnames - 1);
    for (; e->stepnames[at]; at = (at + 1) & (e->capstepnames - 1))
        if (strcmp(e->stepnames[at], k) == 0)
            return e->stepnames[at];
    char *c = strdup(k);
    if (c) {
        e->stepnames[at] = c;
        e->nstepnames++;
    }
    return c;
}

long kz_e_path_from_ast(kz_engine *e, const kz_pat_path *pp, bool add)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_puts(&b, pp->object_type);
    kz_buf_putc(&b, ':');
    bool simple = true;
    for (size_t i = 0; i < pp->nsteps; i++) {
        const kz_pat_step *st = &pp->steps[i];
        if (st->kind == KZ_STEP_KEY) {
            if (i)
                kz_buf_putc(&b, '.');
            if (plain_key(st->key))
                kz_buf_puts(&b, st->key);
            else
                kz_e_quote(&b, st->key, strlen(st->key));
            if (ends(st->key, "_ref") || ends(st->key, "_refs") || ends(st->key, "_hex") ||
                ends(st->key, "_bin"))
                simple = false;
        } else if (st->kind == KZ_STEP_INDEX) {
            kz_buf_printf(&b, "[%lld]", (long long)st->index);
            simple = false;
        } else {
            kz_buf_puts(&b, "[*]");
            simple = false;
        }
    }
    if (b.oom) {
        kz_buf_free(&b);
        return -1;
    }
    long tid = kz_e_type_id(e, pp->object_type, add);
    if (tid < 0) {
        kz_buf_free(&b);
        return -1;
    }
    uint64_t h = kz_e_hash(b.data, b.len);
    const size_t ns = (size_t)2 * KZ_E_MAX_PATHS;
    long res = -1;
    for (int pass = 0; pass < 2 && res < 0; pass++) {
        size_t at = h & (ns - 1);
        bool found = false;
        for (;;) {
            unsigned v = atomic_load_explicit(&e->pslots[at], memory_order_acquire);
            if (!v)
                break;
            if (strcmp(e->paths[v - 1]->text, b.data) == 0) {
                res = (long)v - 1;
                found = true;
                break;
            }
            at = (at + 1) & (ns - 1);
        }
        if (found) {
            if (pass)
                pthread_mutex_unlock(&e->reglock);
            break;
        }
        if (!add)
            break;
        if (pass == 0) {
            pthread_mutex_lock(&e->reglock);
            continue;
        }
        unsigned n = atomic_load(&e->npaths);
        kz_epath *p = n < KZ_E_MAX_PATHS ? calloc(1, sizeof *p) : NULL;
        if (p) {
            p->type = (uint32_t)tid;
            p->simple = simple;
            p->text = strdup(b.data);
            p->tlen = b.len;
            p->steps = calloc(pp->nsteps ? pp->nsteps : 1, sizeof *p->steps);
            bool ok = p->text && p->steps;
            for (size_t i = 0; ok && i < pp->nsteps; i++) {
                if (pp->steps[i].kind != KZ_STEP_KEY)
                    continue; /* only key-step paths serve records; others never walk */
                ok = (p->steps[i] = step_intern(e, pp->steps[i].key)) != NULL;
            }
            p->nsteps = pp->nsteps;
            p->ref1 = ok && pp->nsteps >= 2 && pp->steps[0].kind == KZ_STEP_KEY &&
                      ends(pp->steps[0].key, "_ref");
            for (size_t i = 1; p->ref1 && i < pp->nsteps; i++) {
                const char *k = pp->steps[i].kind == KZ_STEP_KEY ? pp->steps[i].key : NULL;
                p->ref1 = k && !ends(k, "_ref") && !ends(k, "_refs") && !ends(k, "_hex") &&
                          !ends(k, "_bin");
            }
            p->rec_ok = ok && pp->nsteps && pp->steps[0].kind == KZ_STEP_KEY &&
                        strcmp(pp->steps[0].key, "type") != 0;
            for (size_t i = 0; p->rec_ok && i < pp->nsteps; i++)
                p->rec_ok = pp->steps[i].kind == KZ_STEP_KEY &&
                            (i + 1 == pp->nsteps ||
                             (!ends(pp->steps[i].key, "_ref") && !ends(pp->steps[i].key, "_refs")));
            p->refs_last = ok && pp->nsteps && pp->steps[pp->nsteps - 1].kind == KZ_STEP_KEY &&
                           ends(pp->steps[pp->nsteps - 1].key, "_refs");
            p->ref_last = ok && pp->nsteps == 1 && pp->steps[0].kind == KZ_STEP_KEY &&
                          ends(pp->steps[0].key, "_ref");
            if (!ok) {
                free_path(p);
                p = NULL;
            }
        }
        if (p) {
            e->paths[n] = p;
            e->recp[n] = (kz_erecpath){p->rec_ok ? e->types[p->type] : NULL,
                                       p->nsteps ? p->steps[0] : NULL, (uint32_t)p->nsteps,
                                       p->refs_last};
            atomic_store_explicit(&e->npaths, n + 1, memory_order_release);
            atomic_store_explicit(&e->pslots[at], n + 1, memory_order_release);
            res = (long)n;
        }
        pthread_mutex_unlock(&e->reglock);
    }
    kz_buf_free(&b);
    return res;
}

long kz_engine_path(kz_engine *e, const char *path)
{
    if (!e || !path)
        return -1;
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_printf(&b, "[EXISTS %s]", path);
    if (b.oom) {
        kz_buf_free(&b);
        return -1;
    }
    int line, col;
    char msg[128];
    kz_pattern *p = kz_pattern_parse(b.data, 21, &line, &col, msg, sizeof msg);
    kz_buf_free(&b);
    if (!p)
        return -1;
    const kz_pat_obs *root = kz_pattern_root(p);
    long id = root->kind == KZ_OE_OBS && root->cmp->kind == KZ_CE_CMP
                  ? kz_e_path_from_ast(e, &root->cmp->path, true)
                  : -1;
    kz_pattern_free(p);
    return id;
}

const char *kz_engine_path_type(kz_engine *e, uint32_t path)
{
    if (!e || path >= atomic_load_explicit(&e->npaths, memory_order_acquire))
        return NULL;
    return e->types[e->paths[path]->type];
}

typedef struct ctxmap {
    uint32_t *slots; /* id + 1 */
    size_t n;        /* power of two */
} ctxmap;

void kz_e_registry_free(kz_engine *e)
{
    unsigned np = atomic_load(&e->npaths), nt = atomic_load(&e->ntypes), nc = atomic_load(&e->nctx);
    for (unsigned i = 0; i < np; i++)
        free_path(e->paths[i]);
    for (unsigned i = 0; i < nt; i++)
        free(e->types[i]);
    for (size_t i = 0; i < e->capstepnames; i++)
        free(e->stepnames[i]);
    free(e->stepnames);
    for (unsigned i = 0; i < nc; i++)
        free(e->ctx[i / KZ_E_CTX_CHUNK][i % KZ_E_CTX_CHUNK]);
    for (unsigned i = 0; i < KZ_E_CTX_CHUNKS; i++)
        free(e->ctx[i]);
    if (e->ctx_map)
        free(((ctxmap *)e->ctx_map)->slots);
    free(e->ctx_map);
}

/* ---- contexts (writer side) ---- */


const char *kz_e_ctx_text(const kz_engine *e, uint32_t id)
{
    return e->ctx[id / KZ_E_CTX_CHUNK][id % KZ_E_CTX_CHUNK];
}

static int ctx_insert_slot(ctxmap *m, const kz_engine *e, uint32_t id)
{
    const char *t = kz_e_ctx_text(e, id);
    size_t at = kz_e_hash(t, strlen(t)) & (m->n - 1);
    while (m->slots[at])
        at = (at + 1) & (m->n - 1);
    m->slots[at] = id + 1;
    return 0;
}

uint32_t kz_e_ctx_intern(kz_engine *e, const char *text)
{
    ctxmap *m = e->ctx_map;
    unsigned n = atomic_load(&e->nctx);
    if (!m) {
        m = calloc(1, sizeof *m);
        if (!m)
            return KZ_E_CTX_OOM;
        m->n = 1024;
        m->slots = calloc(m->n, sizeof *m->slots);
        if (!m->slots) {
            free(m);
            return KZ_E_CTX_OOM;
        }
        e->ctx_map = m;
        for (unsigned i = 0; i < n; i++)
            ctx_insert_slot(m, e, i);
    }
    size_t at = kz_e_hash(text, strlen(text)) & (m->n - 1);
    while (m->slots[at]) {
        if (strcmp(kz_e_ctx_text(e, m->slots[at] - 1), text) == 0)
            return m->slots[at] - 1;
        at = (at + 1) & (m->n - 1);
    }
    if (n >= e->ctx_cap || n >= KZ_E_CTX_CHUNK * KZ_E_CTX_CHUNKS)
        return KZ_E_CTX_FULL; /* the caller refuses the indicator: a hit without its markings
                                 would pass on what they restrict */
    if (((size_t)n + 1) * 2 > m->n) {
        uint32_t *ns = calloc(m->n * 2, sizeof *ns);
        if (!ns)
            return KZ_E_CTX_OOM;
        free(m->slots);
        m->slots = ns;
        m->n *= 2;
        for (unsigned i = 0; i < n; i++)
            ctx_insert_slot(m, e, i);
        at = kz_e_hash(text, strlen(text)) & (m->n - 1);
        while (m->slots[at])
            at = (at + 1) & (m->n - 1);
    }
    unsigned ch = n / KZ_E_CTX_CHUNK;
    if (!e->ctx[ch] && !(e->ctx[ch] = calloc(KZ_E_CTX_CHUNK, sizeof(char *))))
        return KZ_E_CTX_OOM;
    char *t = strdup(text);
    if (!t)
        return KZ_E_CTX_OOM;
    e->ctx[ch][n % KZ_E_CTX_CHUNK] = t;
    atomic_store_explicit(&e->nctx, n + 1, memory_order_release);
    m->slots[at] = n + 1;
    return n;
}
