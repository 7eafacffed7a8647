/*
 * Pattern compilation for the engine: parse, bound, classify (simple string equality or a
 * complex pattern kept with its evaluator), and derive the index keys that select a complex
 * pattern as a candidate.
 *
 * Candidate keys are a *necessary* condition: a pattern can only be matched by an
 * observation that produces one of its keys. Every comparison names an object type and is
 * false when the path selects nothing (spec 9.6), so "an object of type T" is necessary for
 * any comparison; a positive comparison on a plain path, or on a one-hop reference path
 * (T:x_ref.value: keyed on the referenced object's value), adds a sharper key (exact value,
 * integer, CIDR prefix, domain suffix). Within one [ ... ], AND needs one child (the most
 * selective is chosen) and OR needs both; across observation expressions every expression
 * contributes (the stream needs to see every expression's observations).
 *
 * It does not evaluate: candidates are confirmed by kz_matcher_match (match.c).
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t count_cmps(const kz_pat_cmp *c)
{
    if (!c)
        return 0;
    if (c->kind == KZ_CE_CMP)
        return 1;
    return count_cmps(c->left) + count_cmps(c->right);
}

static size_t count_obs_cmps(const kz_pat_obs *n)
{
    if (!n)
        return 0;
    if (n->kind == KZ_OE_OBS)
        return count_cmps(n->cmp);
    size_t k = count_obs_cmps(n->left);
    if (n->kind == KZ_OE_AND || n->kind == KZ_OE_OR || n->kind == KZ_OE_FOLLOWEDBY)
        k += count_obs_cmps(n->right);
    return k;
}

/* A quantified group that itself holds a quantifier — (a+)+, (.*)*, (x{2,}){3} — is the
 * shape of catastrophic backtracking; such MATCHES patterns are refused up front. */
static bool nested_quantifier(const char *re)
{
    int depth = 0;
    bool inner[KZ_PATTERN_MAX_NESTING + 2] = {false};
    bool in_class = false;
    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (p[1])
                p++;
            continue;
        }
        if (in_class) {
            if (*p == ']')
                in_class = false;
            continue;
        }
        if (*p == '[') {
            in_class = true;
        } else if (*p == '(') {
            if (depth < KZ_PATTERN_MAX_NESTING)
                inner[++depth] = false;
        } else if (*p == ')') {
            bool had = depth > 0 && inner[depth];
            if (depth > 0)
                depth--;
            char q = p[1];
            if (had && (q == '*' || q == '+' || q == '{'))
                return true;
            if (had)
                inner[depth] = true;
        } else if (*p == '*' || *p == '+' || *p == '{') {
            inner[depth] = true;
        }
    }
    return false;
}

static bool has_repeats(const kz_pat_obs *n)
{
    if (!n || n->kind == KZ_OE_OBS)
        return false;
    if (n->kind == KZ_OE_REPEATS)
        return true;
    return has_repeats(n->left) || ((n->kind == KZ_OE_AND || n->kind == KZ_OE_OR ||
                                     n->kind == KZ_OE_FOLLOWEDBY) &&
                                    has_repeats(n->right));
}

static const char *bad_regex(const kz_pat_cmp *c)
{
    if (!c)
        return NULL;
    if (c->kind != KZ_CE_CMP) {
        const char *r = bad_regex(c->left);
        return r ? r : bad_regex(c->right);
    }
    if (c->op == KZ_CMP_MATCHES && c->lit.kind == KZ_LIT_STRING && nested_quantifier(c->lit.str))
        return c->lit.str;
    return NULL;
}

static const char *bad_regex_obs(const kz_pat_obs *n)
{
    if (!n)
        return NULL;
    if (n->kind == KZ_OE_OBS)
        return bad_regex(n->cmp);
    const char *r = bad_regex_obs(n->left);
    if (!r && (n->kind == KZ_OE_AND || n->kind == KZ_OE_OR || n->kind == KZ_OE_FOLLOWEDBY))
        r = bad_regex_obs(n->right);
    return r;
}

static int collect_fired(kz_eprep *c, const kz_pat_cmp *x, kz_buf *b)
{
    if (x->kind != KZ_CE_CMP)
        return collect_fired(c, x->left, b) < 0 ? -1 : collect_fired(c, x->right, b);
    kz_buf_reset(b);
    if (kz_pattern_print_cmp(x, b) < 0 || !(c->fired[c->ncmp] = strdup(b->data ? b->data : "")))
        return -1;
    c->ncmp++;
    return 0;
}

static int collect_fired_obs(kz_eprep *c, const kz_pat_obs *n, kz_buf *b)
{
    if (n->kind == KZ_OE_OBS)
        return collect_fired(c, n->cmp, b);
    if (collect_fired_obs(c, n->left, b) < 0)
        return -1;
    if (n->kind == KZ_OE_AND || n->kind == KZ_OE_OR || n->kind == KZ_OE_FOLLOWEDBY)
        return collect_fired_obs(c, n->right, b);
    return 0;
}

static void prep_free(kz_eprep *p)
{
    if (!p)
        return;
    kz_matcher_free(p->m);
    kz_pattern_free(p->pat);
    for (size_t i = 0; i < p->ncmp; i++)
        free(p->fired[i]);
    free(p->fired);
    free(p);
}

const kz_eprep *kz_e_prep(const kz_ecplx *cc)
{
    kz_ecplx *c = (kz_ecplx *)cc;
    kz_eprep *p = atomic_load_explicit(&c->prep, memory_order_acquire);
    if (p)
        return p;
    int line, col;
    char msg[256];
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->pat = kz_pattern_parse(c->text, c->version, &line, &col, msg, sizeof msg);
    size_t n = p->pat ? count_obs_cmps(kz_pattern_root(p->pat)) : 0;
    p->m = p->pat ? kz_matcher_new(p->pat, msg, sizeof msg) : NULL;
    p->fired = calloc(n ? n : 1, sizeof(char *));
    kz_buf b;
    kz_buf_init(&b);
    if (!p->m || !p->fired || collect_fired_obs(p, kz_pattern_root(p->pat), &b) < 0) {
        kz_buf_free(&b);
        prep_free(p);
        return NULL;
    }
    kz_buf_free(&b);
    kz_eprep *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&c->prep, &expected, p, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        prep_free(p); /* another reader won the race */
        return expected;
    }
    return p;
}

void kz_e_cplx_free(kz_ecplx *c)
{
    if (!c)
        return;
    prep_free(atomic_load(&c->prep));
    free(c->text);
    free(c->keys);
    free(c);
}

static size_t count_leaves(const kz_pat_obs *n)
{
    if (!n)
        return 0;
    if (n->kind == KZ_OE_OBS)
        return 1;
    size_t k = count_leaves(n->left);
    if (n->kind == KZ_OE_AND || n->kind == KZ_OE_OR || n->kind == KZ_OE_FOLLOWEDBY)
        k += count_leaves(n->right);
    return k;
}

static bool suffix_like(const kz_pat_cmp *c);

/* Whether kz_matcher_new could fail on this pattern for a reason other than memory: only
 * qualifiers, IN sets, ISSUBSET/ISSUPERSET literals and regexes are checked there (a suffix
 * LIKE always compiles). Those patterns are prepared once at load to report the error. */
static bool needs_validation(const kz_pat_cmp *c)
{
    if (c->kind != KZ_CE_CMP)
        return needs_validation(c->left) || needs_validation(c->right);
    return c->op == KZ_CMP_IN || c->op == KZ_CMP_ISSUBSET || c->op == KZ_CMP_ISSUPERSET ||
           c->op == KZ_CMP_MATCHES || (c->op == KZ_CMP_LIKE && !suffix_like(c));
}

static bool needs_validation_obs(const kz_pat_obs *n)
{
    if (n->kind == KZ_OE_OBS)
        return needs_validation(n->cmp);
    if (n->kind == KZ_OE_WITHIN || n->kind == KZ_OE_REPEATS || n->kind == KZ_OE_STARTSTOP)
        return true;
    return needs_validation_obs(n->left) || needs_validation_obs(n->right);
}

static bool ascii_plain_suffix(const char *s, size_t len);

/* The shapes the index answers alone (engine_int.h): a simple path, no NOT. */
static int shape_of(kz_engine *e, const kz_pat_obs *root, uint8_t *keybuf, size_t *keylen)
{
    if (root->kind != KZ_OE_OBS)
        return -1;
    const kz_pat_cmp *c = root->cmp;
    if (c->kind == KZ_CE_CMP && !c->negated && c->lit.kind == KZ_LIT_STRING &&
        (c->op == KZ_CMP_EQ || c->op == KZ_CMP_ISSUBSET)) {
        long pid = kz_e_path_from_ast(e, &c->path, true);
        if (pid < 0 || !e->paths[pid]->simple)
            return -1;
        if (c->op == KZ_CMP_EQ) {
            *keylen = kz_e_key_str(keybuf, (uint32_t)pid, c->lit.str, c->lit.len);
            return *keylen ? SHAPE_EQ : -1;
        }
        int fam, pre;
        uint8_t a[17];
        if (!kz_e_parse_cidr(c->lit.str, c->lit.len, &fam, a + 1, &pre))
            return -1;
        int nb = fam == 4 ? 4 : 16;
        kz_e_mask(a + 1, nb, pre);
        a[0] = (uint8_t)pre;
        *keylen = kz_e_key_raw(keybuf, (uint32_t)pid, fam == 4 ? K_CIDR4 : K_CIDR6, a, 1 + (size_t)nb);
        return SHAPE_CIDR;
    }
    if (c->kind == KZ_CE_OR && c->left->kind == KZ_CE_CMP && c->right->kind == KZ_CE_CMP) {
        const kz_pat_cmp *eq = c->left->op == KZ_CMP_EQ ? c->left : c->right;
        const kz_pat_cmp *lk = eq == c->left ? c->right : c->left;
        if (eq->op != KZ_CMP_EQ || lk->op != KZ_CMP_LIKE || eq->negated || lk->negated ||
            eq->lit.kind != KZ_LIT_STRING || lk->lit.kind != KZ_LIT_STRING)
            return -1;
        size_t xl = eq->lit.len;
        if (lk->lit.len != xl + 2 || memcmp(lk->lit.str, "%.", 2) != 0 ||
            memcmp(lk->lit.str + 2, eq->lit.str, xl) != 0 ||
            !ascii_plain_suffix(lk->lit.str + 1, xl + 1) || xl + 1 > KZ_E_MAX_KEY)
            return -1;
        long p1 = kz_e_path_from_ast(e, &eq->path, true), p2 = kz_e_path_from_ast(e, &lk->path, true);
        if (p1 < 0 || p1 != p2 || !e->paths[p1]->simple)
            return -1;
        *keylen = kz_e_key_str(keybuf, (uint32_t)p1, eq->lit.str, xl);
        return *keylen ? SHAPE_EQ_OR_SUF : -1;
    }
    return -1;
}

int kz_e_compile(kz_engine *e, const char *pattern, int version, uint8_t *keybuf,
                 size_t *keylen, int *shape, kz_ecplx **cplx, char *why, size_t whylen)
{
    *keylen = 0;
    *shape = -1;
    *cplx = NULL;
    size_t plen = strlen(pattern);
    if (plen > e->opts.max_pattern_len) {
        snprintf(why, whylen, "pattern of %zu bytes exceeds the limit of %zu", plen,
                 e->opts.max_pattern_len);
        return -1;
    }
    int line = 0, col = 0;
    char msg[256];
    kz_pattern *p = kz_pattern_parse(pattern, version, &line, &col, msg, sizeof msg);
    if (!p) {
        snprintf(why, whylen, "%d:%d: %s", line, col, msg);
        return -1;
    }
    const kz_pat_obs *root = kz_pattern_root(p);
    size_t ncmp = count_obs_cmps(root);
    if (ncmp > e->opts.max_comparisons) {
        snprintf(why, whylen, "pattern has %zu comparisons, more than the limit of %zu", ncmp,
                 e->opts.max_comparisons);
        kz_pattern_free(p);
        return -1;
    }
    const char *bre = bad_regex_obs(root);
    if (bre) {
        snprintf(why, whylen,
                 "MATCHES '%.80s' nests quantifiers (catastrophic backtracking); refused", bre);
        kz_pattern_free(p);
        return -1;
    }
    /* answered by the index alone */
    *shape = shape_of(e, root, keybuf, keylen);
    if (*shape >= 0) {
        kz_pattern_free(p);
        return 0;
    }
    *keylen = 0;
    char err[256] = "";
    if (needs_validation_obs(root)) {
        kz_matcher *m = kz_matcher_new(p, err, sizeof err);
        if (!m) {
            snprintf(why, whylen, "%s", err);
            kz_pattern_free(p);
            return -1;
        }
        kz_matcher_free(m);
    }
    kz_ecplx *c = calloc(1, sizeof *c);
    kz_buf b;
    kz_buf_init(&b);
    if (!c || !(c->text = strdup(pattern)) || kz_e_cplx_keys(e, root, &b) < 0) {
        snprintf(why, whylen, "out of memory or too many distinct object types/paths");
        kz_buf_free(&b);
        kz_pattern_free(p);
        kz_e_cplx_free(c);
        return -1;
    }
    c->version = version;
    c->nleaves = count_leaves(root);
    c->multi = c->nleaves > 1 || has_repeats(root);
    if (root->kind == KZ_OE_WITHIN) {
        double ns = root->within_seconds * 1e9;
        c->within_ns = ns >= 9.2e18 ? INT64_MAX : (int64_t)ns + 1;
    }
    c->keys_len = b.len;
    c->keys = (uint8_t *)kz_buf_take(&b);
    kz_pattern_free(p);
    *cplx = c;
    return 0;
}

/* ---- candidate keys ------------------------------------------------------------------- */

/* A narrow network (IPv4 /16 or longer, IPv6 /48 or longer) beats an integer: integers are
 * mostly ports, where one value (443) covers much of the traffic. */
enum { COST_EXACT = 1, COST_NET_NARROW = 3, COST_INT = 4, COST_NET = 8, COST_RE = 50, COST_TYPE = 1000 };

typedef struct kctx {
    kz_engine *e;
    uint32_t k; /* comparison counter (pre-order) */
    bool oom;
    bool proof_ok; /* one [ ... ] without qualifiers whose comparisons never raise errors */
    bool single_cidr; /* the pattern is one [T:p ISSUBSET 'net'] */
} kctx;

static void put_key(kz_buf *out, uint32_t aux, const uint8_t *key, size_t len)
{
    uint32_t l = (uint32_t)len;
    kz_buf_append(out, &aux, 4);
    kz_buf_append(out, &l, 4);
    kz_buf_append(out, key, len);
}

static bool ascii_plain_suffix(const char *s, size_t len);

static bool suffix_like(const kz_pat_cmp *c)
{
    const kz_pat_lit *l = &c->lit;
    return c->op == KZ_CMP_LIKE && l->kind == KZ_LIT_STRING && l->len >= 3 && l->str[0] == '%' &&
           l->len - 1 <= KZ_E_MAX_KEY && ascii_plain_suffix(l->str + 1, l->len - 1);
}

static bool ascii_plain_suffix(const char *s, size_t len)
{
    if (len < 2 || s[0] != '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x80 || ch == '%' || ch == '_' || ch == 0 || ch == '\n')
            return false;
    }
    return true;
}

static bool int_ok(const kz_pat_lit *l)
{
    return l->kind == KZ_LIT_INT && l->i <= (1ll << 53) && l->i >= -(1ll << 53);
}

/* Keys of one comparison; returns the cost. */
static unsigned cmp_keys(kctx *x, const kz_pat_cmp *c, uint32_t aux, bool or_path, kz_buf *out)
{
    /* A comparison reached from the root through ORs only, in a pattern that cannot raise a
     * runtime error, makes the whole pattern true whenever it is true (eval.c evaluates
     * every comparison of the expression for the object; none can fail). */
    uint32_t proof = x->proof_ok && or_path && !c->negated ? KZ_E_PROOF : 0;
    uint8_t kb[KZ_E_MAX_KEY + 32];
    long pid = kz_e_path_from_ast(x->e, &c->path, true);
    /* a one-hop reference path is keyed like a plain one (match.c probes it with the value
     * of the referenced object) but never proves: never_fails refuses it, so proof is 0,
     * and the lone-ISSUBSET proof below is kept for plain paths */
    bool ref1 = pid >= 0 && x->e->paths[pid]->ref1;
    bool simple = pid >= 0 && (x->e->paths[pid]->simple || ref1) && !c->negated;
    const kz_pat_lit *l = &c->lit;
    size_t kl;
    if (simple) {
        uint32_t p = (uint32_t)pid;
        if (c->op == KZ_CMP_EQ && l->kind == KZ_LIT_STRING &&
            (kl = kz_e_key_str(kb, p, l->str, l->len))) {
            put_key(out, aux | proof, kb, kl);
            return COST_EXACT;
        }
        if (c->op == KZ_CMP_EQ && int_ok(l)) {
            put_key(out, aux | proof, kb, kz_e_key_raw(kb, p, K_INT, &l->i, 8));
            return COST_INT;
        }
        if (c->op == KZ_CMP_IN && l->nitems > 0) {
            bool strs = true, ints = true;
            for (size_t i = 0; i < l->nitems; i++) {
                strs = strs && l->items[i].kind == KZ_LIT_STRING &&
                       l->items[i].len <= KZ_E_MAX_KEY;
                ints = ints && int_ok(&l->items[i]);
            }
            if (strs || ints) {
                for (size_t i = 0; i < l->nitems; i++) {
                    const kz_pat_lit *it = &l->items[i];
                    kl = strs ? kz_e_key_str(kb, p, it->str, it->len)
                              : kz_e_key_raw(kb, p, K_INT, &it->i, 8);
                    put_key(out, aux | proof, kb, kl);
                }
                return (unsigned)l->nitems * (strs ? COST_EXACT : COST_INT);
            }
        }
        int fam, pre;
        uint8_t a[17];
        if (c->op == KZ_CMP_ISSUBSET && l->kind == KZ_LIT_STRING &&
            kz_e_parse_cidr(l->str, l->len, &fam, a + 1, &pre)) {
            int nb = fam == 4 ? 4 : 16;
            kz_e_mask(a + 1, nb, pre);
            a[0] = (uint8_t)pre;
            /* [T:p ISSUBSET 'net'] alone: the CIDR probe is the evaluator's test; it can only
             * differ by a runtime error on an unparseable value, which match.c rules out
             * before keeping the proof */
            put_key(out, aux | (x->single_cidr && !ref1 ? KZ_E_PROOF : 0), kb,
                    kz_e_key_raw(kb, p, fam == 4 ? K_CIDR4 : K_CIDR6, a, 1 + (size_t)nb));
            return pre >= (fam == 4 ? 16 : 48) ? COST_NET_NARROW : COST_NET;
        }
        if (c->op == KZ_CMP_LIKE && l->kind == KZ_LIT_STRING && l->len >= 3 && l->str[0] == '%' &&
            l->len - 1 <= KZ_E_MAX_KEY && ascii_plain_suffix(l->str + 1, l->len - 1)) {
            put_key(out, aux | proof, kb, kz_e_key_raw(kb, p, K_SUF, l->str + 1, l->len - 1));
            return COST_NET;
        }
        if ((c->op == KZ_CMP_LIKE || c->op == KZ_CMP_MATCHES) && l->kind == KZ_LIT_STRING &&
            l->len < KZ_E_MAX_KEY / 2) {
            char *re = kz_e_regex_of(c->op == KZ_CMP_LIKE, l->str);
            size_t rl = re ? strlen(re) : 0;
            if (re && rl < KZ_E_MAX_KEY && kz_e_regex_ok(x->e, re)) {
                uint8_t d[KZ_E_MAX_KEY + 1];
                d[0] = c->op == KZ_CMP_MATCHES;
                memcpy(d + 1, re, rl);
                put_key(out, aux, kb, kz_e_key_raw(kb, p, K_RE, d, rl + 1));
                free(re);
                return COST_RE;
            }
            free(re);
        }
    }
    long tid = kz_e_type_id(x->e, c->path.object_type, true);
    if (tid < 0) {
        x->oom = true; /* registry full: the pattern cannot be indexed, refuse it */
        return COST_TYPE;
    }
    put_key(out, KZ_E_AUX_TYPE, kb, kz_e_key_raw(kb, (uint32_t)tid, K_TYPE, NULL, 0));
    return COST_TYPE;
}

static unsigned tree_keys(kctx *x, const kz_pat_cmp *c, bool or_path, kz_buf *out)
{
    if (c->kind == KZ_CE_CMP)
        return cmp_keys(x, c, x->k++, or_path, out);
    bool sub = or_path && c->kind == KZ_CE_OR;
    kz_buf l, r;
    kz_buf_init(&l);
    kz_buf_init(&r);
    unsigned cl = tree_keys(x, c->left, sub, &l), cr = tree_keys(x, c->right, sub, &r), cost;
    if (c->kind == KZ_CE_OR) {
        if (l.len)
            kz_buf_append(out, l.data, l.len);
        if (r.len)
            kz_buf_append(out, r.data, r.len);
        cost = cl + cr > COST_TYPE * 4 ? COST_TYPE * 4 : cl + cr;
    } else {
        const kz_buf *pick = cr < cl ? &r : &l;
        if (pick->len)
            kz_buf_append(out, pick->data, pick->len);
        cost = cr < cl ? cr : cl;
    }
    x->oom = x->oom || l.oom || r.oom;
    kz_buf_free(&l);
    kz_buf_free(&r);
    return cost;
}

static void obs_keys(kctx *x, const kz_pat_obs *n, kz_buf *out)
{
    if (n->kind == KZ_OE_OBS) {
        tree_keys(x, n->cmp, true, out);
        return;
    }
    obs_keys(x, n->left, out);
    if (n->kind == KZ_OE_AND || n->kind == KZ_OE_OR || n->kind == KZ_OE_FOLLOWEDBY)
        obs_keys(x, n->right, out);
}

/* Comparisons that cannot raise a runtime error in the evaluator: plain paths (no reference
 * walk, no binary decoding), no timestamps, no CIDR parsing of data, and regexes only of the
 * linear suffix form. */
static bool never_fails(kz_engine *e, const kz_pat_cmp *c)
{
    if (c->kind != KZ_CE_CMP)
        return never_fails(e, c->left) && never_fails(e, c->right);
    long pid = kz_e_path_from_ast(e, &c->path, true);
    if (pid < 0 || !e->paths[pid]->simple)
        return false;
    const kz_pat_lit *l = &c->lit;
    switch (c->op) {
    case KZ_CMP_EQ:
    case KZ_CMP_NE:
        return l->kind == KZ_LIT_STRING || l->kind == KZ_LIT_INT || l->kind == KZ_LIT_BOOL;
    case KZ_CMP_IN:
        for (size_t i = 0; i < l->nitems; i++)
            if (l->items[i].kind != KZ_LIT_STRING && l->items[i].kind != KZ_LIT_INT)
                return false;
        return true;
    case KZ_CMP_EXISTS:
        return true;
    case KZ_CMP_LIKE:
        return l->kind == KZ_LIT_STRING && l->len >= 3 && l->str[0] == '%' &&
               ascii_plain_suffix(l->str + 1, l->len - 1);
    default:
        return false;
    }
}

int kz_e_cplx_keys(kz_engine *e, const kz_pat_obs *root, kz_buf *out)
{
    kctx x = {e, 0, false, root->kind == KZ_OE_OBS && never_fails(e, root->cmp),
              root->kind == KZ_OE_OBS && root->cmp->kind == KZ_CE_CMP &&
                  root->cmp->op == KZ_CMP_ISSUBSET && !root->cmp->negated};
    obs_keys(&x, root, out);
    return x.oom || out->oom ? -1 : 0;
}
