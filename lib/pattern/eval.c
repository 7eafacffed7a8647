/*
 * The pattern evaluator's front half: preparing a kz_matcher from a parsed pattern and
 * deciding, for every observation expression ([ ... ]), which observations satisfy it.
 *
 * Invariants: all comparisons of one [ ... ] start from the same root object (spec 9.5):
 * the expression is evaluated once per candidate root, and a comparison whose path names
 * another type is false for that root. A path that selects no value makes its comparison
 * false whatever the operator or NOT (spec 9.6); a path that selects several values ([*],
 * _refs) passes when any value passes. Every comparison is evaluated (no short-circuit) so
 * that runtime errors surface as they do in the reference matcher, whatever the order.
 *
 * It does not combine observations: operators and qualifiers are eval_search.c's job.
 */
#include "eval_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- preparing -------------------------------------------------------------------------- */

typedef struct builder {
    kz_matcher *m;
    size_t capcmps, capleaves;
    char *err;
    size_t errlen;
} builder;

static size_t count_nodes(const kz_pat_obs *n)
{
    if (!n)
        return 0;
    return 1 + count_nodes(n->left) +
           (n->kind == KZ_OE_AND || n->kind == KZ_OE_OR || n->kind == KZ_OE_FOLLOWEDBY
                ? count_nodes(n->right)
                : 0);
}

static int add_type(kz_leaf *lf, const char *t)
{
    for (size_t i = 0; i < lf->ntypes; i++)
        if (strcmp(lf->types[i], t) == 0)
            return 0;
    const char **v = realloc(lf->types, (lf->ntypes + 1) * sizeof *v);
    if (!v)
        return -1;
    v[lf->ntypes++] = t;
    lf->types = v;
    return 0;
}

static int prep_cmps(builder *b, kz_leaf *lf, const kz_pat_cmp *c)
{
    if (!c) {
        kz_eval_seterr(b->err, b->errlen, "empty comparison expression");
        return -1;
    }
    if (c->kind != KZ_CE_CMP)
        return prep_cmps(b, lf, c->left) < 0 ? -1 : prep_cmps(b, lf, c->right);
    kz_matcher *m = b->m;
    if (m->ncmps == b->capcmps) {
        size_t nc = b->capcmps ? b->capcmps * 2 : 8;
        kz_ecmp *v = realloc(m->cmps, nc * sizeof *v);
        if (!v) {
            kz_eval_seterr(b->err, b->errlen, "out of memory");
            return -1;
        }
        m->cmps = v;
        b->capcmps = nc;
    }
    if (kz_ecmp_prepare(&m->cmps[m->ncmps], c, b->err, b->errlen) < 0)
        return -1;
    m->ncmps++;
    lf->ncmp++;
    if (add_type(lf, c->path.object_type) < 0) {
        kz_eval_seterr(b->err, b->errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int qualifier_time(const char *text, const kz_time *parsed, kz_evt *out, const char *what,
                          char *err, size_t errlen)
{
    kz_time t = *parsed;
    if (text) {
        char why[128];
        if (kz_time_parse(text, &t, why, sizeof why) < 0) {
            kz_eval_seterr(err, errlen, "invalid %s timestamp '%s': %s", what, text, why);
            return -1;
        }
    }
    *out = kz_evt_from_time(&t);
    return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}
static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Number the nodes in pre-order and fill their facts. Returns the node number or -1. */
static int build_node(builder *b, const kz_pat_obs *n)
{
    kz_matcher *m = b->m;
    int id = (int)m->nnodes++;
    kz_enode *e = &m->nodes[id];
    e->node = n;
    e->left = e->right = e->leaf = -1;
    switch (n->kind) {
    case KZ_OE_OBS: {
        if (m->nleaves == b->capleaves) {
            size_t nc = b->capleaves ? b->capleaves * 2 : 8;
            kz_leaf *v = realloc(m->leaves, nc * sizeof *v);
            if (!v) {
                kz_eval_seterr(b->err, b->errlen, "out of memory");
                return -1;
            }
            m->leaves = v;
            b->capleaves = nc;
        }
        kz_leaf *lf = &m->leaves[m->nleaves];
        memset(lf, 0, sizeof *lf);
        lf->node = n;
        lf->first_cmp = m->ncmps;
        e->leaf = (int)m->nleaves++;
        if (prep_cmps(b, lf, n->cmp) < 0)
            return -1;
        e->mandatory = 1;
        break;
    }
    case KZ_OE_AND:
    case KZ_OE_OR:
    case KZ_OE_FOLLOWEDBY: {
        int l = build_node(b, n->left);
        if (l < 0)
            return -1;
        int r = build_node(b, n->right);
        if (r < 0)
            return -1;
        e = &m->nodes[id];
        e->left = l;
        e->right = r;
        uint64_t ml = m->nodes[l].mandatory, mr = m->nodes[r].mandatory;
        e->mandatory = n->kind == KZ_OE_OR ? (ml < mr ? ml : mr) : sat_add(ml, mr);
        break;
    }
    case KZ_OE_WITHIN:
    case KZ_OE_REPEATS:
    case KZ_OE_STARTSTOP: {
        if (n->kind == KZ_OE_WITHIN) {
            if (!(n->within_seconds > 0)) {
                kz_eval_seterr(b->err, b->errlen,
                               "%d:%d: WITHIN needs a positive number of seconds", n->line,
                               n->column);
                return -1;
            }
            double ns = n->within_seconds * 1e9;
            e->within_ns = ns >= 9.2e18 ? INT64_MAX : (int64_t)(ns + 0.5);
        } else if (n->kind == KZ_OE_REPEATS) {
            if (n->repeats < 1) {
                kz_eval_seterr(b->err, b->errlen, "%d:%d: REPEATS needs a positive count", n->line,
                               n->column);
                return -1;
            }
        } else {
            if (qualifier_time(n->start_text, &n->start, &e->start, "START", b->err, b->errlen) <
                    0 ||
                qualifier_time(n->stop_text, &n->stop, &e->stop, "STOP", b->err, b->errlen) < 0)
                return -1;
        }
        int c = build_node(b, n->left);
        if (c < 0)
            return -1;
        e = &m->nodes[id];
        e->left = c;
        e->mandatory = n->kind == KZ_OE_REPEATS
                           ? sat_mul(m->nodes[c].mandatory, (uint64_t)n->repeats)
                           : m->nodes[c].mandatory;
        break;
    }
    }
    return id;
}

/* Leaves below each node: a node's leaves are the contiguous leaf numbers assigned while
 * building its subtree, which pre-order numbering guarantees. */
static int fill_leaves(kz_matcher *m)
{
    for (size_t i = 0; i < m->nnodes; i++) {
        kz_enode *e = &m->nodes[i];
        size_t lo = SIZE_MAX, hi = 0;
        /* the subtree of node i is the pre-order range [i, i + size) */
        size_t end = i + count_nodes(e->node);
        for (size_t j = i; j < end; j++)
            if (m->nodes[j].leaf >= 0) {
                size_t lf = (size_t)m->nodes[j].leaf;
                lo = lf < lo ? lf : lo;
                hi = lf + 1 > hi ? lf + 1 : hi;
            }
        e->nleaves = lo == SIZE_MAX ? 0 : hi - lo;
        e->leaves = malloc((e->nleaves ? e->nleaves : 1) * sizeof(size_t));
        if (!e->leaves)
            return -1;
        for (size_t k = 0; k < e->nleaves; k++)
            e->leaves[k] = lo + k;
    }
    return 0;
}

void kz_matcher_free(kz_matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ncmps; i++)
        kz_ecmp_clear(&m->cmps[i]);
    free(m->cmps);
    for (size_t i = 0; i < m->nleaves; i++)
        free(m->leaves[i].types);
    free(m->leaves);
    if (m->nodes)
        for (size_t i = 0; i < m->nnodes; i++)
            free(m->nodes[i].leaves);
    free(m->nodes);
    free(m);
}

kz_matcher *kz_matcher_new(const kz_pattern *p, char *err, size_t errlen)
{
    const kz_pat_obs *root = p ? kz_pattern_root(p) : NULL;
    if (!root) {
        kz_eval_seterr(err, errlen, "no pattern");
        return NULL;
    }
    kz_matcher *m = calloc(1, sizeof *m);
    size_t total = count_nodes(root);
    if (!m || !(m->nodes = calloc(total, sizeof *m->nodes))) {
        free(m);
        kz_eval_seterr(err, errlen, "out of memory");
        return NULL;
    }
    m->pattern = p;
    builder b = {m, 0, 0, err, errlen};
    if (build_node(&b, root) < 0) {
        kz_matcher_free(m);
        return NULL;
    }
    if (fill_leaves(m) < 0) {
        kz_eval_seterr(err, errlen, "out of memory");
        kz_matcher_free(m);
        return NULL;
    }
    return m;
}

size_t kz_matcher_leaf_count(const kz_matcher *m)
{
    return m ? m->nleaves : 0;
}

const kz_pat_obs *kz_matcher_leaf(const kz_matcher *m, size_t leaf)
{
    return m && leaf < m->nleaves ? m->leaves[leaf].node : NULL;
}

/* ---- one observation -------------------------------------------------------------------- */

typedef struct ectx {
    const kz_matcher *m;
    const kz_obs *o;
    kz_cmp_scratch sc;
    char *err;
    size_t errlen;
} ectx;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode a _hex or _bin property value. Returns a malloc'd buffer or NULL (*bad set when the
 * text is malformed rather than memory short). */
static uint8_t *decode_binary(const char *s, size_t len, bool hex, size_t *outlen, bool *bad)
{
    uint8_t *out = malloc(len / 2 + len + 1);
    *bad = false;
    if (!out)
        return NULL;
    size_t o = 0;
    if (hex) {
        if (len % 2) {
            *bad = true;
            free(out);
            return NULL;
        }
        for (size_t i = 0; i < len; i += 2) {
            int hi = s[i], lo = s[i + 1], v = 0;
            for (int k = 0; k < 2; k++) {
                int c = k ? lo : hi, d;
                if (c >= '0' && c <= '9')
                    d = c - '0';
                else if (c >= 'a' && c <= 'f')
                    d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                    d = c - 'A' + 10;
                else {
                    *bad = true;
                    free(out);
                    return NULL;
                }
                v = v * 16 + d;
            }
            out[o++] = (uint8_t)v;
        }
    } else {
        if (len % 4) {
            *bad = true;
            free(out);
            return NULL;
        }
        for (size_t i = 0; i < len; i += 4) {
            int v[4], pad = 0;
            for (int k = 0; k < 4; k++) {
                int c = s[i + k];
                if (c == '=' && i + 4 == len && k >= 2) {
                    v[k] = 0;
                    pad++;
                } else if (pad || (v[k] = b64val(c)) < 0) {
                    *bad = true;
                    free(out);
                    return NULL;
                }
            }
            uint32_t w =
                (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
            out[o++] = (uint8_t)(w >> 16);
            if (pad < 2)
                out[o++] = (uint8_t)(w >> 8);
            if (pad < 1)
                out[o++] = (uint8_t)w;
        }
    }
    *outlen = o;
    return out;
}

static int test_json(ectx *x, const kz_ecmp *e, const json_t *j)
{
    kz_val v = {KZ_V_OTHER, NULL, 0, 0, 0, false};
    if (json_is_string(j)) {
        v.k = KZ_V_STR;
        v.s = json_string_value(j);
        v.len = json_string_length(j);
    } else if (json_is_integer(j)) {
        v.k = KZ_V_INT;
        v.i = json_integer_value(j);
    } else if (json_is_real(j)) {
        v.k = KZ_V_FLOAT;
        v.f = json_real_value(j);
    } else if (json_is_boolean(j)) {
        v.k = KZ_V_BOOL;
        v.b = json_is_true(j);
    }
    return kz_ecmp_test(e, &v, &x->sc, x->err, x->errlen);
}

static int walk(ectx *x, const kz_ecmp *e, const json_t *cur, size_t step);

/* The value of a _refs property: a list of references, dereferenced lazily by the next
 * step. Unresolvable references are dropped, so [n] counts resolved ones only. */
static int walk_reflist(ectx *x, const kz_ecmp *e, const json_t *list, size_t step)
{
    const kz_pat_path *p = &e->cmp->path;
    size_t i, seen = 0, nres = 0;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        if (json_is_string(r) && kz_obs_resolve(x->o, json_string_value(r)))
            nres++;
    }
    if (step == p->nsteps) /* the list itself: present only when something resolved */
        return nres ? test_json(x, e, list) : 0;
    const kz_pat_step *st = &p->steps[step];
    if (st->kind == KZ_STEP_KEY)
        return 0;
    int64_t want =
        st->kind == KZ_STEP_INDEX && st->index < 0 ? (int64_t)nres + st->index : st->index;
    json_array_foreach(list, i, r)
    {
        if (!json_is_string(r)) {
            kz_eval_seterr(x->err, x->errlen, "a value of a reference list is not a string");
            return -1;
        }
        json_t *t = kz_obs_resolve(x->o, json_string_value(r));
        if (!t)
            continue;
        if (st->kind == KZ_STEP_INDEX) {
            if ((int64_t)seen++ == want)
                return walk(x, e, t, step + 1);
            continue;
        }
        int rc = walk(x, e, t, step + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int walk(ectx *x, const kz_ecmp *e, const json_t *cur, size_t step)
{
    const kz_pat_path *p = &e->cmp->path;
    if (step == p->nsteps)
        return test_json(x, e, cur);
    const kz_pat_step *st = &p->steps[step];
    if (st->kind == KZ_STEP_ANY) {
        if (!json_is_array(cur))
            return 0;
        size_t i;
        json_t *v;
        json_array_foreach(cur, i, v)
        {
            int rc = walk(x, e, v, step + 1);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (st->kind == KZ_STEP_INDEX) {
        if (!json_is_array(cur))
            return 0;
        int64_t n = (int64_t)json_array_size(cur), k = st->index < 0 ? n + st->index : st->index;
        if (k < 0 || k >= n)
            return 0;
        return walk(x, e, json_array_get(cur, (size_t)k), step + 1);
    }
    if (!json_is_object(cur))
        return 0;
    const json_t *v = json_object_get(cur, st->key);
    if (!v)
        return 0;
    if (ends_with(st->key, "_ref")) {
        if (!json_is_string(v)) {
            kz_eval_seterr(x->err, x->errlen,
                           "the value of reference property '%s' is not a string", st->key);
            return -1;
        }
        json_t *t = kz_obs_resolve(x->o, json_string_value(v));
        return t ? walk(x, e, t, step + 1) : 0;
    }
    if (ends_with(st->key, "_refs")) {
        if (!json_is_array(v)) {
            kz_eval_seterr(x->err, x->errlen,
                           "the value of reference list property '%s' is not a list", st->key);
            return -1;
        }
        return walk_reflist(x, e, v, step + 1);
    }
    bool hex = ends_with(st->key, "_hex");
    if ((hex || ends_with(st->key, "_bin")) && json_is_string(v)) {
        if (step + 1 != p->nsteps)
            return 0; /* binary data has no properties */
        size_t blen = 0;
        bool bad;
        uint8_t *bytes =
            decode_binary(json_string_value(v), json_string_length(v), hex, &blen, &bad);
        if (!bytes) {
            kz_eval_seterr(x->err, x->errlen,
                           bad ? "property '%s' is not valid %s" : "out of memory", st->key,
                           hex ? "hex" : "base64");
            return -1;
        }
        kz_val bv = {KZ_V_BYTES, (const char *)bytes, blen, 0, 0, false};
        int rc = kz_ecmp_test(e, &bv, &x->sc, x->err, x->errlen);
        free(bytes);
        return rc;
    }
    return walk(x, e, v, step + 1);
}

/* Evaluate the comparison tree rooted at c for one root object; *k walks the prepared
 * comparisons in pre-order. */
static int eval_tree(ectx *x, const kz_pat_cmp *c, const json_t *root, const char *type, size_t *k)
{
    if (c->kind == KZ_CE_CMP) {
        const kz_ecmp *e = &x->m->cmps[(*k)++];
        if (strcmp(c->path.object_type, type) != 0)
            return 0;
        return walk(x, e, root, 0);
    }
    int l = eval_tree(x, c->left, root, type, k);
    if (l < 0)
        return -1;
    int r = eval_tree(x, c->right, root, type, k);
    if (r < 0)
        return -1;
    return c->kind == KZ_CE_AND ? (l && r) : (l || r);
}

static int eval_leaf(ectx *x, size_t leaf, const kz_obs_set *s)
{
    const kz_leaf *lf = &x->m->leaves[leaf];
    int found = 0;
    for (size_t t = 0; t < lf->ntypes; t++) {
        uint32_t tid = kz_obs_type_id(s, lf->types[t]);
        if (tid == UINT32_MAX)
            continue;
        size_t lo, hi;
        kz_obs_type_range(x->o, tid, &lo, &hi);
        for (size_t i = lo; i < hi; i++) {
            size_t k = lf->first_cmp;
            int r = eval_tree(x, lf->node->cmp, x->o->objs[i].obj, lf->types[t], &k);
            if (r < 0)
                return -1;
            found |= r;
        }
    }
    return found;
}

int kz_matcher_match_observation(const kz_matcher *m, size_t leaf, const kz_obs_set *s, size_t obs,
                                 char *err, size_t errlen)
{
    if (!m || !s || leaf >= m->nleaves || obs >= s->nobs) {
        kz_eval_seterr(err, errlen, "leaf or observation index out of range");
        return -1;
    }
    ectx x = {m, &s->obs[obs], {NULL}, err, errlen};
    int r = eval_leaf(&x, leaf, s);
    pcre2_match_data_free(x.sc.md);
    return r;
}

int kz_matcher_match(const kz_matcher *m, const kz_obs_set *s, size_t **binding, size_t *nbinding,
                     char *err, size_t errlen)
{
    if (binding)
        *binding = NULL;
    if (nbinding)
        *nbinding = 0;
    if (!m || !s) {
        kz_eval_seterr(err, errlen, "no matcher or observation set");
        return -1;
    }
    ectx x = {m, NULL, {NULL}, err, errlen};
    size_t **cand = calloc(m->nleaves ? m->nleaves : 1, sizeof *cand);
    size_t *ncand = calloc(m->nleaves ? m->nleaves : 1, sizeof *ncand);
    int rc = 0;
    if (!cand || !ncand) {
        kz_eval_seterr(err, errlen, "out of memory");
        rc = -1;
    }
    for (size_t lf = 0; lf < m->nleaves && rc == 0; lf++) {
        cand[lf] = malloc((s->nobs ? s->nobs : 1) * sizeof(size_t));
        if (!cand[lf]) {
            kz_eval_seterr(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        for (size_t i = 0; i < s->nobs; i++) {
            x.o = &s->obs[i];
            int r = eval_leaf(&x, lf, s);
            if (r < 0) {
                rc = -1;
                break;
            }
            if (r)
                cand[lf][ncand[lf]++] = i;
        }
    }
    if (rc == 0)
        rc = kz_eval_search(m, s, cand, ncand, binding, nbinding, err, errlen);
    if (cand)
        for (size_t lf = 0; lf < m->nleaves; lf++)
            free(cand[lf]);
    free(cand);
    free(ncand);
    pcre2_match_data_free(x.sc.md);
    return rc;
}

int kz_pattern_match(const kz_pattern *p, const kz_obs_set *s, size_t **binding, size_t *nbinding,
                     char *err, size_t errlen)
{
    if (binding)
        *binding = NULL;
    if (nbinding)
        *nbinding = 0;
    kz_matcher *m = kz_matcher_new(p, err, errlen);
    if (!m)
        return -1;
    int r = kz_matcher_match(m, s, binding, nbinding, err, errlen);
    kz_matcher_free(m);
    return r;
}
