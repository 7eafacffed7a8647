/*
 * Streams: multi-observation patterns evaluated over a sequence of observations.
 *
 * Per indicator with several observation expressions the stream keeps the observations
 * that satisfied one of its expressions (a binding never uses any other), in arrival order,
 * each as a self-contained JSON document shared between indicators (refcounted). When a new
 * observation joins an indicator's buffer, the evaluator (kz_matcher_match) runs over the
 * buffer; a match is a hit that reports the sequence numbers of its binding, and those
 * observations are consumed. Without bounds this reports a hit at the first observation after
 * which the evaluator finds the stream so far matching (the evaluator's answer is monotone in
 * the observations when no runtime error occurs). Bounds: per-indicator count, total count,
 * and age (last_observed older than max_age — or the pattern's outer WITHIN — before the
 * newest first_observed seen), counted as dropped. The WITHIN bound is exact only when
 * observations arrive in first_observed order (a later one can then never pair with an
 * expired one); no_within_expiry turns it off for out-of-order input.
 *
 * It does not share state between streams; one stream is used by one thread at a time.
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sobs {
    json_t *doc;
    size_t seq;
    kz_evt first, last;
    size_t refs;
} sobs;

typedef struct sstate {
    uint8_t uuid[16];
    bool used;
    sobs **v;
    size_t n, cap;
} sstate;

struct kz_engine_stream {
    kz_engine *e;
    kz_engine_stream_opts o;
    sstate *tab;
    size_t ntab, nused;
    size_t seq, buffered, dropped;
    kz_evt newest;
    bool have_newest;
    kz_ecands c; /* candidates, kept between feeds: no allocation per record */
    const kz_engine_gen *g; /* held between feeds while current (stream_gen), or NULL */
};

kz_engine_stream *kz_engine_stream_new(kz_engine *e, const kz_engine_stream_opts *o)
{
    kz_engine_stream *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->e = e;
    if (o)
        st->o = *o;
    if (!st->o.max_per_indicator)
        st->o.max_per_indicator = 64;
    if (!st->o.max_total)
        st->o.max_total = 1000000;
    if (!st->o.max_age_us)
        st->o.max_age_us = 24ll * 3600 * 1000000;
    st->ntab = 64;
    st->tab = calloc(st->ntab, sizeof *st->tab);
    st->c.memo = kz_e_memo_new();
    st->c.shapes = kz_e_shapes_new();
    if (!st->tab || !st->c.memo || !st->c.shapes) {
        kz_e_memo_free(st->c.memo);
        kz_e_shapes_free(st->c.shapes);
        free(st->tab);
        free(st);
        return NULL;
    }
    return st;
}

static void sobs_unref(sobs *o)
{
    if (o && --o->refs == 0) {
        json_decref(o->doc);
        free(o);
    }
}

void kz_engine_stream_free(kz_engine_stream *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->ntab; i++) {
        for (size_t k = 0; k < st->tab[i].n; k++)
            sobs_unref(st->tab[i].v[k]);
        free(st->tab[i].v);
    }
    free(st->tab);
    kz_e_cands_free(&st->c);
    kz_engine_release(st->e, st->g);
    free(st);
}

/* The generation to match with: the one held since the last feed while it is still the
 * engine's current one (a feed then costs no reference counting: four atomic operations per
 * record were 3% of the sensor's time), else the current one, acquired. Holding it is safe
 * because a held generation is never freed; kz_engine_stream_rest lets it go. */
static const kz_engine_gen *stream_gen(kz_engine_stream *st)
{
    if (st->g && st->g == atomic_load_explicit(&st->e->cur, memory_order_acquire))
        return st->g;
    kz_engine_release(st->e, st->g);
    st->g = kz_engine_acquire(st->e);
    return st->g;
}

void kz_engine_stream_rest(kz_engine_stream *st)
{
    if (!st)
        return;
    kz_engine_release(st->e, st->g);
    st->g = NULL;
}

size_t kz_engine_stream_buffered(const kz_engine_stream *st) { return st->buffered; }
size_t kz_engine_stream_dropped(const kz_engine_stream *st) { return st->dropped; }

static sstate *state_get(kz_engine_stream *st, const uint8_t uuid[16])
{
    if ((st->nused + 1) * 2 > st->ntab) {
        size_t nn = st->ntab * 2;
        sstate *nt = calloc(nn, sizeof *nt);
        if (!nt)
            return NULL;
        for (size_t i = 0; i < st->ntab; i++) {
            if (!st->tab[i].used)
                continue;
            size_t at = kz_e_hash(st->tab[i].uuid, 16) & (nn - 1);
            while (nt[at].used)
                at = (at + 1) & (nn - 1);
            nt[at] = st->tab[i];
        }
        free(st->tab);
        st->tab = nt;
        st->ntab = nn;
    }
    size_t at = kz_e_hash(uuid, 16) & (st->ntab - 1);
    while (st->tab[at].used) {
        if (memcmp(st->tab[at].uuid, uuid, 16) == 0)
            return &st->tab[at];
        at = (at + 1) & (st->ntab - 1);
    }
    st->tab[at].used = true;
    memcpy(st->tab[at].uuid, uuid, 16);
    st->nused++;
    return &st->tab[at];
}

static void drop_at(kz_engine_stream *st, sstate *s, size_t k)
{
    sobs_unref(s->v[k]);
    memmove(&s->v[k], &s->v[k + 1], (s->n - k - 1) * sizeof *s->v); // NOLINT(bugprone-sizeof-expression)
    s->n--;
    st->buffered--;
}

/* The JSON document that carries observation v on its own. */
static sobs *make_sobs(kz_engine_stream *st, const kz_engine_gen *g, kz_eview *v)
{
    sobs *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->seq = st->seq;
    o->refs = 1; /* the feeding call's own reference */
    size_t idx;
    const kz_obs_set *set = kz_e_view_set(g, v, &idx);
    if (!set) {
        free(o);
        return NULL;
    }
    const kz_obs *ob = &set->obs[idx];
    o->first = ob->first;
    o->last = ob->last;
    if (json_is_array(json_object_get(ob->sdo, "object_refs"))) {
        json_t *b = json_object(), *objs = json_array();
        if (b && objs) {
            json_object_set_new(b, "type", json_string("bundle"));
            json_object_set_new(b, "id", json_string("bundle--00000000-0000-4000-8000-000000000000"));
            json_array_append(objs, ob->sdo);
            for (size_t j = 0; j < ob->nobjs; j++)
                json_array_append(objs, ob->objs[j].obj);
            json_object_set_new(b, "objects", objs);
            o->doc = b;
        } else {
            json_decref(b);
            json_decref(objs);
        }
    } else {
        o->doc = json_incref(ob->sdo);
    }
    if (!o->doc) {
        free(o);
        return NULL;
    }
    return o;
}

static void expire(kz_engine_stream *st, sstate *s, int64_t age_us)
{
    if (!st->have_newest)
        return;
    kz_evt lim = st->newest;
    int64_t sec = age_us / 1000000, us = age_us % 1000000;
    lim.s -= sec;
    lim.ns -= (int32_t)(us * 1000);
    if (lim.ns < 0) {
        lim.ns += 1000000000;
        lim.s--;
    }
    for (size_t k = 0; k < s->n;) {
        if (kz_evt_cmp(&s->v[k]->last, &lim) < 0) {
            drop_at(st, s, k);
            st->dropped++;
        } else {
            k++;
        }
    }
}

/* One observation against generation g; c is the caller's candidate buffer (reused). */
static long feed_g(kz_engine_stream *st, const kz_engine_gen *g, kz_eview *v, int version,
                   kz_engine_hit_fn fn, void *ctx, kz_ecands *cands, bool *refused, char *err,
                   size_t errlen)
{
    kz_ecands c = *cands;
    long hits = 0, rc = kz_e_collect(g, v, &c, err, errlen);
    kz_e_cands_count(g->eng, &c);
    if (refused)
        *refused = rc < 0 && !c.oom; /* the record itself is invalid */
    sobs *cur = NULL;
    size_t idx;
    const kz_obs_set *set = NULL;
    if (rc == 0 && c.n) {
        set = kz_e_view_set(g, v, &idx);
        if (set) {
            const kz_obs *ob = &set->obs[idx];
            if (!st->have_newest || kz_evt_cmp(&ob->first, &st->newest) > 0)
                st->newest = ob->first;
            st->have_newest = true;
        }
    }
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        const kz_ecplx *x = kz_e_cand_cplx(g, &c.v[i]);
        if (!x || !x->multi) {
            if (x && !(c.v[i].aux & KZ_E_PROOF)) {
                char e1[256];
                const kz_eprep *pp = kz_e_prep(x);
                int r = set && pp ? kz_matcher_match(pp->m, set, NULL, NULL, e1, sizeof e1) : -1;
                if (r < 0)
                    atomic_fetch_add(&st->e->match_errors, 1);
                if (r != 1)
                    continue;
            }
            size_t seq = st->seq;
            hits++;
            rc = kz_e_emit(g, &c.v[i], st->seq, &seq, 1, fn, ctx);
            continue;
        }
        const kz_eprep *pp = set ? kz_e_prep(x) : NULL;
        if (!pp)
            continue;
        bool any = false;
        for (size_t l = 0; l < x->nleaves && !any; l++)
            any = kz_matcher_match_observation(pp->m, l, set, idx, NULL, 0) == 1;
        if (!any)
            continue;
        if (!cur && !(cur = make_sobs(st, g, v))) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        sstate *s = state_get(st, kz_e_cand_uuid(g, &c.v[i]));
        if (!s) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        int64_t age = st->o.max_age_us;
        if (!st->o.no_within_expiry && x->within_ns > 0 && x->within_ns / 1000 + 1 < age)
            age = x->within_ns / 1000 + 1;
        expire(st, s, age);
        if (s->n >= st->o.max_per_indicator) {
            drop_at(st, s, 0);
            st->dropped++;
        }
        if (st->buffered >= st->o.max_total) {
            st->dropped++;
            continue;
        }
        if (s->n == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 4;
            sobs **nv = realloc(s->v, nc * sizeof *nv); // NOLINT(bugprone-sizeof-expression)
            if (!nv) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            s->v = nv;
            s->cap = nc;
        }
        s->v[s->n++] = cur;
        cur->refs++;
        st->buffered++;
        json_t *arr = json_array();
        for (size_t k = 0; arr && k < s->n; k++)
            json_array_append(arr, s->v[k]->doc);
        char e2[256];
        kz_obs_set *bs = arr ? kz_obs_set_from_json(arr, version, e2, sizeof e2) : NULL;
        json_decref(arr);
        size_t *bind = NULL, nb = 0;
        int r = bs ? kz_matcher_match(pp->m, bs, &bind, &nb, e2, sizeof e2) : -1;
        kz_obs_set_free(bs);
        if (r < 0)
            atomic_fetch_add(&st->e->match_errors, 1);
        if (r == 1) {
            size_t *seqs = malloc((nb ? nb : 1) * sizeof *seqs);
            if (!seqs) {
                free(bind);
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            for (size_t k = 0; k < nb; k++)
                seqs[k] = s->v[bind[k]]->seq;
            hits++;
            rc = kz_e_emit(g, &c.v[i], st->seq, seqs, nb, fn, ctx);
            for (size_t k = nb; k-- > 0;)
                drop_at(st, s, bind[k]);
            free(seqs);
        }
        free(bind);
    }
    sobs_unref(cur);
    *cands = c;
    kz_e_view_clear(v);
    st->seq++;
    return rc ? rc : hits;
}

static long feed(kz_engine_stream *st, kz_eview *v, int version, kz_engine_hit_fn fn, void *ctx,
                 char *err, size_t errlen)
{
    return feed_g(st, stream_gen(st), v, version, fn, ctx, &st->c, NULL, err, errlen);
}

long kz_engine_stream_feed_obs(kz_engine_stream *st, const kz_obs_set *s, size_t i,
                               kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen)
{
    if (!st || !s || i >= kz_obs_set_count(s)) {
        snprintf(err, errlen, "no stream or observation out of range");
        return -1;
    }
    kz_eview v = {0};
    v.s = s;
    v.i = i;
    return feed(st, &v, s->version, fn, ctx, err, errlen);
}

long kz_engine_stream_feed_record(kz_engine_stream *st, const kz_engine_record *r,
                                  kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen)
{
    if (!st || !r) {
        snprintf(err, errlen, "no stream or record");
        return -1;
    }
    kz_eview v = {0};
    v.r = r;
    return feed(st, &v, 21, fn, ctx, err, errlen);
}

long kz_engine_stream_feed_batch(kz_engine_stream *st, const kz_engine_record *r, size_t n,
                                 kz_engine_hit_fn fn, void *const *ctxs, long *res, char *err,
                                 size_t errlen)
{
    if (!st || (!r && n) || (n && !res)) {
        snprintf(err, errlen, "no stream or records");
        return -1;
    }
    if (errlen)
        err[0] = 0;
    const kz_engine_gen *g = stream_gen(st);
    kz_e_pipe *p = kz_e_pipe_begin(g, r, n);
    kz_ecands c = {0};
    c.shapes = st->c.shapes; /* the stream's, lent (taken back before c is freed) */
    long total = 0, rc = 0;
    size_t k = 0;
    for (; k < n; k++) {
        kz_e_pipe_at(p, k);
        kz_eview v = {0};
        v.r = &r[k];
        v.pw = kz_e_pipe_win(p, k);
        char e1[256] = "";
        bool refused = false;
        long h = feed_g(st, g, &v, 21, fn, ctxs ? ctxs[k] : NULL, &c, &refused, e1, sizeof e1);
        if (h < 0 && refused) { /* reported before any hit; the batch goes on */
            res[k] = -1;
            if (errlen && !err[0])
                snprintf(err, errlen, "%s", e1);
            continue;
        }
        if (h < 0) { /* memory, or a callback that asked to stop: the batch ends */
            res[k] = -1;
            if (errlen && !err[0])
                snprintf(err, errlen, "%s", e1);
            rc = -1;
            k++;
            break;
        }
        res[k] = h;
        total += h;
    }
    for (; k < n; k++)
        res[k] = -2;
    c.shapes = NULL;
    kz_e_cands_free(&c);
    kz_e_pipe_end(p);
    return rc ? rc : total;
}
