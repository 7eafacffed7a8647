/*
 * The binding search: given, for every observation expression (leaf), the observations it
 * matches, find distinct observations for the leaves that satisfy AND / OR / FOLLOWEDBY,
 * WITHIN, REPEATS and START/STOP — without enumerating combinations.
 *
 * Model. An observed-data with number_observed n offers n interchangeable units. Every
 * temporal constraint the reference matcher applies reduces to a "box" on the units a leaf
 * may use — first_observed <= F (or < F), last_observed >= L — once one anchor instant is
 * fixed:
 *   - START s STOP t:   every unit has first < t and last >= s (and s < t);
 *   - WITHIN d:         max(first) <= min(last) + d  ⇔  ∃E among the units' last values with
 *                       every unit last >= E and first <= E + d;
 *   - A FOLLOWEDBY B:   max(first of A) <= min(last of B)  ⇔  ∃T among A's first values with
 *                       A's units first <= T and B's units last >= T.
 * With the anchors and OR branches chosen, what remains is a pure assignment problem: give
 * each leaf instance (REPEATS n expands to n instances) a distinct unit inside its box — a
 * bipartite b-matching, solved by augmenting paths (Kuhn), polynomial.
 *
 * Search. A depth-first search fixes the choices (OR branch, WITHIN/FOLLOWEDBY anchors) in
 * pattern order. At every choice the matching is re-run over the instances fixed so far
 * plus a relaxation of everything still pending (each pending leaf instance with its
 * current box, OR contributing nothing), which is a necessary condition: a failed check
 * prunes the whole subtree. The copies made by REPEATS are interchangeable, so their
 * choices are taken in non-decreasing order (symmetry breaking), and a pending copy's
 * relaxation already carries the bound its later anchor implies. Before matching, a run of
 * identical instances is checked by counting the units in its box.
 *
 * Complexity, with N observed-data, P leaf instances (the pattern's size after REPEATS
 * expansion) and K choice points on the current path: one feasibility check is O(P · N)
 * when every instance finds a free unit in its candidate range (the usual case; identical
 * instances resume each other's scan), O(P² · N) in the worst case of Kuhn's augmenting
 * paths; each choice point tries at most N anchors. Patterns without
 * WITHIN/FOLLOWEDBY/OR — the combinatorial cases of the reference like
 * "[a] AND [a] ... (10 times)" or "[a] REPEATS 10 TIMES" — need one check; a WITHIN over a
 * REPEATS needs at most N checks; the worst case is O(N^K) checks for K nested anchors,
 * polynomial in the data for a fixed pattern, and in practice the relaxation prunes almost
 * everything. A step budget turns a pathological pattern into a runtime error rather than a
 * hang.
 *
 * It does not evaluate comparisons (eval.c did) and keeps no state across calls.
 */
#include "eval_internal.h"

#include <stdlib.h>
#include <string.h>

/* Search steps (choices tried, plus feasibility checks weighted by their size) allowed per
 * match: a base plus a share per observation, so that large sets may try every anchor while
 * an adversarial pattern fails within about a tenth of a second. */
#define KZ_SEARCH_BUDGET_BASE 200000u
#define KZ_SEARCH_BUDGET_PER_OBS 64u
#define KZ_SEARCH_MAX_INSTANCES 100000u

typedef struct box {
    bool hf, fstrict, hl;
    kz_evt fmax, lmin;
} box;

typedef struct task {
    int node;
    box b;
    int group; /* REPEATS copy group, -1 when not a copy */
} task;

/* The copies of one REPEATS expansion: the choice the latest copy made, and for anchors
 * its instant. Later copies choose at or after it, so their units must end at or after it
 * too (a WITHIN anchor is a lower bound on every last_observed, a FOLLOWEDBY anchor on the
 * right side's): relax() uses that to tighten what the pending copies need. */
typedef struct rgroup {
    int last;
    bool has_anchor;
    kz_evt anchor;
} rgroup;

typedef struct inst {
    uint32_t leaf;
    box b;
    int64_t od; /* assigned observation, -1 when none */
} inst;

typedef struct sctx {
    const kz_matcher *m;
    const kz_obs_set *s;
    size_t **cand; /* per leaf, sorted by (first_observed, index) */
    const size_t *ncand;
    int64_t *span_ns; /* per leaf: the longest last - first among its candidates */
    task *tasks;
    size_t ntasks, captasks;
    inst *fixed;
    size_t nfixed, capfixed;
    inst *work;
    size_t nwork, capwork;
    int64_t *used;
    uint32_t *visit;
    uint32_t stamp;
    rgroup *groups;
    size_t ngroups, capgroups;
    uint64_t steps, budget;
    char *err;
    size_t errlen;
    bool oom, too_big;
} sctx;

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

/* ---- boxes ------------------------------------------------------------------------------ */

static void box_fmax(box *b, kz_evt t, bool strict)
{
    int c = b->hf ? kz_evt_cmp(&t, &b->fmax) : -1;
    if (c < 0) {
        b->hf = true;
        b->fmax = t;
        b->fstrict = strict;
    } else if (c == 0 && strict) {
        b->fstrict = true;
    }
}

static void box_lmin(box *b, kz_evt t)
{
    if (!b->hl || kz_evt_cmp(&t, &b->lmin) > 0) {
        b->hl = true;
        b->lmin = t;
    }
}

static bool box_allows(const box *b, const kz_obs *o)
{
    if (b->hf) {
        int c = kz_evt_cmp(&o->first, &b->fmax);
        if (c > 0 || (c == 0 && b->fstrict))
            return false;
    }
    return !b->hl || kz_evt_cmp(&o->last, &b->lmin) >= 0;
}

static kz_evt evt_sub_ns(kz_evt a, int64_t ns)
{
    int64_t s = ns / 1000000000, r = ns % 1000000000;
    a.s = a.s < INT64_MIN + s + 1 ? INT64_MIN : a.s - s;
    int64_t n = a.ns - r;
    if (n < 0) {
        n += 1000000000;
        a.s--;
    }
    a.ns = (int32_t)n;
    return a;
}

/* The candidates of leaf that box b may allow: [*lo, *hi) of cand[leaf]. Candidates are
 * sorted by first_observed, so the box's first bound cuts the end, and its last bound cuts
 * the start (a unit with last >= L has first >= L - span). */
static void cand_range(const sctx *c, uint32_t leaf, const box *b, size_t *lo_out, size_t *hi_out)
{
    const size_t *v = c->cand[leaf];
    size_t n = c->ncand[leaf], lo = 0, hi = n;
    if (b->hl && c->span_ns[leaf] != INT64_MAX) { /* INT64_MAX: a span too long to cut by */
        kz_evt from = evt_sub_ns(b->lmin, c->span_ns[leaf]);
        size_t a = 0, z = n;
        while (a < z) {
            size_t mid = (a + z) / 2;
            if (kz_evt_cmp(&c->s->obs[v[mid]].first, &from) < 0)
                a = mid + 1;
            else
                z = mid;
        }
        lo = a;
    }
    if (b->hf) {
        size_t a = lo, z = n;
        while (a < z) {
            size_t mid = (a + z) / 2;
            int k = kz_evt_cmp(&c->s->obs[v[mid]].first, &b->fmax);
            if (k < 0 || (k == 0 && !b->fstrict))
                a = mid + 1;
            else
                z = mid;
        }
        hi = a;
    }
    *lo_out = lo;
    *hi_out = hi < lo ? lo : hi;
}

/* ---- matching --------------------------------------------------------------------------- */

static bool box_eq(const box *a, const box *b)
{
    return a->hf == b->hf && a->hl == b->hl &&
           (!a->hf || (a->fstrict == b->fstrict && kz_evt_cmp(&a->fmax, &b->fmax) == 0)) &&
           (!a->hl || kz_evt_cmp(&a->lmin, &b->lmin) == 0);
}

/* Give instance k a unit that is still free, scanning from *pos (a position in its
 * candidate list, or SIZE_MAX to start at the range's beginning). Usage only grows during
 * one feasibility check, so a run of identical instances (REPEATS) can resume where the
 * previous one stopped instead of rescanning full units: *pos is left at the unit taken. */
static bool try_free(sctx *c, size_t k, size_t *pos)
{
    inst *in = &c->work[k];
    size_t lo, hi;
    cand_range(c, in->leaf, &in->b, &lo, &hi);
    if (*pos != SIZE_MAX && *pos > lo)
        lo = *pos;
    for (size_t i = lo; i < hi; i++) {
        size_t o = c->cand[in->leaf][i];
        if (c->used[o] < c->s->obs[o].count && box_allows(&in->b, &c->s->obs[o])) {
            c->used[o]++;
            in->od = (int64_t)o;
            *pos = i;
            return true;
        }
    }
    *pos = hi;
    return false;
}

static bool augment(sctx *c, size_t k)
{
    size_t lo, hi;
    cand_range(c, c->work[k].leaf, &c->work[k].b, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        size_t o = c->cand[c->work[k].leaf][i];
        if (c->visit[o] == c->stamp || !box_allows(&c->work[k].b, &c->s->obs[o]))
            continue;
        c->visit[o] = c->stamp;
        if (c->used[o] < c->s->obs[o].count) {
            c->used[o]++;
            c->work[k].od = (int64_t)o;
            return true;
        }
        for (size_t h = 0; h < c->nwork; h++) {
            if (h == k || c->work[h].od != (int64_t)o)
                continue;
            c->work[h].od = -1; /* move h elsewhere, k takes its unit */
            if (augment(c, h)) {
                c->work[k].od = (int64_t)o;
                return true;
            }
            c->work[h].od = (int64_t)o;
        }
    }
    return false;
}

static void push_work(sctx *c, uint32_t leaf, const box *b)
{
    if (c->nwork >= KZ_SEARCH_MAX_INSTANCES) {
        c->too_big = true;
        return;
    }
    if (!grow((void **)&c->work, &c->capwork, c->nwork + 1, sizeof(inst))) {
        c->oom = true;
        return;
    }
    inst in = {leaf, *b, -1};
    c->work[c->nwork++] = in;
}

/* The leaf instances every binding of (node, b) needs, with boxes only as tight as the
 * choices already made allow. */
static void relax(sctx *c, int node, const box *b);

/* A pending task's relaxation; a REPEATS copy whose group already chose an anchor gets the
 * lower bound on last_observed that its own (later or equal) anchor will impose. */
static void relax_task(sctx *c, const task *t)
{
    const kz_enode *e = &c->m->nodes[t->node];
    if (t->group < 0 || !c->groups[t->group].has_anchor) {
        relax(c, t->node, &t->b);
        return;
    }
    box tb = t->b;
    box_lmin(&tb, c->groups[t->group].anchor);
    if (e->node->kind == KZ_OE_WITHIN) {
        relax(c, e->left, &tb);
    } else if (e->node->kind == KZ_OE_FOLLOWEDBY) {
        relax(c, e->left, &t->b);
        relax(c, e->right, &tb);
    } else {
        relax(c, t->node, &t->b);
    }
}

static void relax(sctx *c, int node, const box *b)
{
    const kz_enode *e = &c->m->nodes[node];
    switch (e->node->kind) {
    case KZ_OE_OBS:
        push_work(c, (uint32_t)e->leaf, b);
        break;
    case KZ_OE_AND:
    case KZ_OE_FOLLOWEDBY:
        relax(c, e->left, b);
        relax(c, e->right, b);
        break;
    case KZ_OE_OR:
        break;
    case KZ_OE_WITHIN:
        relax(c, e->left, b);
        break;
    case KZ_OE_STARTSTOP: {
        box nb = *b;
        box_fmax(&nb, e->stop, true);
        box_lmin(&nb, e->start);
        relax(c, e->left, &nb);
        break;
    }
    case KZ_OE_REPEATS:
        for (int64_t i = 0; i < e->node->repeats && !c->too_big && !c->oom; i++)
            relax(c, e->left, b);
        break;
    }
}

static void clear_work(sctx *c)
{
    for (size_t k = 0; k < c->nwork; k++)
        if (c->work[k].od >= 0)
            c->used[c->work[k].od]--;
    c->nwork = 0;
}

/* Can the fixed instances plus the relaxation of every pending task get distinct units?
 * Leaves the assignment in c->work. Returns 1, 0, or -1 on OOM/size limit. */
static int feasible(sctx *c)
{
    clear_work(c);
    for (size_t k = 0; k < c->nfixed; k++)
        push_work(c, c->fixed[k].leaf, &c->fixed[k].b);
    for (size_t t = 0; t < c->ntasks && !c->oom && !c->too_big; t++)
        relax_task(c, &c->tasks[t]);
    if (c->oom || c->too_big)
        return -1;
    c->steps += c->nwork / 8 + 1;
    /* Necessary condition first, cheap: a run of identical instances (REPEATS) needs as many
     * units inside its box. Catches the usual failure — too few in a WITHIN window — in one
     * scan instead of a failed augmenting search. */
    for (size_t k = 0, run; k < c->nwork; k += run) {
        run = 1;
        while (k + run < c->nwork && c->work[k + run].leaf == c->work[k].leaf &&
               box_eq(&c->work[k + run].b, &c->work[k].b))
            run++;
        if (run < 2)
            continue;
        size_t lo, hi;
        uint64_t have = 0;
        cand_range(c, c->work[k].leaf, &c->work[k].b, &lo, &hi);
        for (size_t i = lo; i < hi && have < run; i++) {
            const kz_obs *o = &c->s->obs[c->cand[c->work[k].leaf][i]];
            if (box_allows(&c->work[k].b, o))
                have += (uint64_t)o->count;
        }
        if (have < run)
            return 0;
    }
    size_t pos = SIZE_MAX;
    for (size_t k = 0; k < c->nwork; k++) {
        if (k == 0 || c->work[k].leaf != c->work[k - 1].leaf ||
            !box_eq(&c->work[k].b, &c->work[k - 1].b))
            pos = SIZE_MAX;
        if (try_free(c, k, &pos))
            continue;
        if (++c->stamp == 0) {
            memset(c->visit, 0, c->s->nobs * sizeof *c->visit);
            c->stamp = 1;
        }
        if (!augment(c, k))
            return 0;
    }
    return 1;
}

/* ---- the search ------------------------------------------------------------------------- */

static bool push_task(sctx *c, int node, const box *b, int group)
{
    if (!grow((void **)&c->tasks, &c->captasks, c->ntasks + 1, sizeof(task))) {
        c->oom = true;
        return false;
    }
    task t = {node, *b, group};
    c->tasks[c->ntasks++] = t;
    return true;
}

static int cmp_evt(const void *a, const void *b)
{
    return kz_evt_cmp(a, b);
}

/* Distinct first (or last) instants of the candidates of node's leaves allowed by b. */
static kz_evt *anchors(sctx *c, int node, const box *b, bool use_first, size_t *n)
{
    const kz_enode *e = &c->m->nodes[node];
    size_t total = 0;
    for (size_t i = 0; i < e->nleaves; i++)
        total += c->ncand[e->leaves[i]];
    kz_evt *v = malloc((total ? total : 1) * sizeof *v);
    if (!v) {
        c->oom = true;
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < e->nleaves; i++) {
        uint32_t leaf = (uint32_t)e->leaves[i];
        size_t lo, hi;
        cand_range(c, leaf, b, &lo, &hi);
        for (size_t j = lo; j < hi; j++) {
            const kz_obs *o = &c->s->obs[c->cand[leaf][j]];
            if (box_allows(b, o))
                v[k++] = use_first ? o->first : o->last;
        }
    }
    if (k)
        qsort(v, k, sizeof *v, cmp_evt);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || kz_evt_cmp(&v[u - 1], &v[i]) != 0)
            v[u++] = v[i];
    *n = u;
    return v;
}

static int solve(sctx *c);

static int fail_budget(sctx *c)
{
    kz_eval_seterr(c->err, c->errlen,
                   "pattern too complex for these observations: the search gave up after %llu "
                   "steps",
                   (unsigned long long)c->budget);
    return -1;
}

/* Try each alternative of a choice point (OR branch or anchor), from the previous REPEATS
 * copy's choice on: set it up, check feasibility, recurse. */
static int choose(sctx *c, const task *t, size_t nalt, kz_evt *anch)
{
    const kz_enode *e = &c->m->nodes[t->node];
    size_t base = c->ntasks;
    rgroup saved = {0, false, {0, 0}};
    if (t->group >= 0)
        saved = c->groups[t->group];
    int from = saved.last;
    int r = 0;
    for (size_t a = from < 0 ? 0 : (size_t)from; a < nalt && r == 0; a++) {
        if (++c->steps > c->budget)
            return fail_budget(c);
        c->ntasks = base;
        switch (e->node->kind) {
        case KZ_OE_OR:
            push_task(c, a ? e->right : e->left, &t->b, -1);
            break;
        case KZ_OE_WITHIN: {
            box nb = t->b;
            box_lmin(&nb, anch[a]);
            box_fmax(&nb, kz_evt_add_ns(anch[a], e->within_ns), false);
            push_task(c, e->left, &nb, -1);
            break;
        }
        case KZ_OE_FOLLOWEDBY: {
            box lb = t->b, rb = t->b;
            box_fmax(&lb, anch[a], false);
            box_lmin(&rb, anch[a]);
            push_task(c, e->right, &rb, -1);
            push_task(c, e->left, &lb, -1);
            break;
        }
        default:
            break;
        }
        if (c->oom)
            return -1;
        if (t->group >= 0) {
            c->groups[t->group].last = (int)a;
            c->groups[t->group].has_anchor = anch != NULL;
            if (anch)
                c->groups[t->group].anchor = anch[a];
        }
        int f = feasible(c);
        if (f < 0)
            return -1;
        if (f)
            r = solve(c);
    }
    if (r != 1) {
        c->ntasks = base;
        if (t->group >= 0)
            c->groups[t->group] = saved;
    }
    return r;
}

static int solve(sctx *c)
{
    if (++c->steps > c->budget)
        return fail_budget(c);
    if (c->ntasks == 0) {
        int f = feasible(c);
        return f;
    }
    task t = c->tasks[--c->ntasks];
    const kz_enode *e = &c->m->nodes[t.node];
    size_t base = c->ntasks;
    int r = 0;
    switch (e->node->kind) {
    case KZ_OE_OBS:
        if (!grow((void **)&c->fixed, &c->capfixed, c->nfixed + 1, sizeof(inst))) {
            c->oom = true;
            return -1;
        }
        c->fixed[c->nfixed].leaf = (uint32_t)e->leaf;
        c->fixed[c->nfixed].b = t.b;
        c->fixed[c->nfixed].od = -1;
        c->nfixed++;
        r = solve(c);
        if (r != 1)
            c->nfixed--;
        break;
    case KZ_OE_AND:
        push_task(c, e->right, &t.b, -1);
        push_task(c, e->left, &t.b, -1);
        r = c->oom ? -1 : solve(c);
        break;
    case KZ_OE_STARTSTOP: {
        if (kz_evt_cmp(&e->start, &e->stop) >= 0)
            break;
        box nb = t.b;
        box_fmax(&nb, e->stop, true);
        box_lmin(&nb, e->start);
        push_task(c, e->left, &nb, -1);
        r = c->oom ? -1 : solve(c);
        break;
    }
    case KZ_OE_REPEATS: {
        if (!grow((void **)&c->groups, &c->capgroups, c->ngroups + 1, sizeof(rgroup))) {
            c->oom = true;
            return -1;
        }
        int g = (int)c->ngroups++;
        c->groups[g].last = 0;
        c->groups[g].has_anchor = false;
        for (int64_t i = 0; i < e->node->repeats && !c->oom; i++)
            push_task(c, e->left, &t.b, g);
        r = c->oom ? -1 : solve(c);
        if (r != 1)
            c->ngroups--;
        break;
    }
    case KZ_OE_OR:
        r = choose(c, &t, 2, NULL);
        break;
    case KZ_OE_WITHIN:
    case KZ_OE_FOLLOWEDBY: {
        size_t n = 0;
        bool within = e->node->kind == KZ_OE_WITHIN;
        kz_evt *anch = anchors(c, within ? t.node : e->left, &t.b, !within, &n);
        if (!anch)
            return -1;
        r = choose(c, &t, n, anch);
        free(anch);
        break;
    }
    }
    if (r == 0) {
        c->ntasks = base;
        c->tasks[c->ntasks++] = t;
    }
    return r;
}

/* ---- entry ------------------------------------------------------------------------------ */

typedef struct sort_ctx_item {
    kz_evt first;
    size_t idx;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    int c = kz_evt_cmp(&x->first, &y->first);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int kz_eval_search(const kz_matcher *m, const kz_obs_set *s, size_t *const *cand_in,
                   const size_t *ncand, size_t **binding, size_t *nbinding, char *err,
                   size_t errlen)
{
    sctx c = {0};
    c.m = m;
    c.s = s;
    c.ncand = ncand;
    c.err = err;
    c.errlen = errlen;
    c.budget = KZ_SEARCH_BUDGET_BASE + (uint64_t)KZ_SEARCH_BUDGET_PER_OBS * s->nobs;
    int rc = -1;
    size_t nl = m->nleaves ? m->nleaves : 1, no = s->nobs ? s->nobs : 1;
    c.cand = calloc(nl, sizeof *c.cand);
    c.span_ns = calloc(nl, sizeof *c.span_ns);
    c.used = calloc(no, sizeof *c.used);
    c.visit = calloc(no, sizeof *c.visit);
    sort_item *tmp = malloc(no * sizeof *tmp);
    if (!c.cand || !c.span_ns || !c.used || !c.visit || !tmp)
        goto oom;

    /* Quick reject: more instances needed than units exist. */
    uint64_t units = 0;
    for (size_t i = 0; i < s->nobs; i++)
        units = units > UINT64_MAX - (uint64_t)s->obs[i].count ? UINT64_MAX
                                                               : units + (uint64_t)s->obs[i].count;
    if (m->nodes[0].mandatory > units) {
        rc = 0;
        goto done;
    }
    if (m->nodes[0].mandatory > KZ_SEARCH_MAX_INSTANCES) {
        kz_eval_seterr(err, errlen, "pattern needs %llu observations; the limit is %u",
                       (unsigned long long)m->nodes[0].mandatory, KZ_SEARCH_MAX_INSTANCES);
        goto done;
    }

    for (size_t lf = 0; lf < m->nleaves; lf++) {
        size_t n = ncand[lf];
        c.cand[lf] = malloc((n ? n : 1) * sizeof(size_t));
        if (!c.cand[lf])
            goto oom;
        int64_t span = 0;
        for (size_t i = 0; i < n; i++) {
            const kz_obs *o = &s->obs[cand_in[lf][i]];
            tmp[i].first = o->first;
            tmp[i].idx = cand_in[lf][i];
            int64_t d = kz_evt_diff_ns(&o->last, &o->first);
            span = d > span ? d : span;
        }
        if (n)
            qsort(tmp, n, sizeof *tmp, cmp_item);
        for (size_t i = 0; i < n; i++)
            c.cand[lf][i] = tmp[i].idx;
        c.span_ns[lf] = span;
    }

    box nobox = {0};
    push_task(&c, 0, &nobox, -1);
    if (c.oom)
        goto oom;
    int f = feasible(&c);
    rc = f <= 0 ? f : solve(&c);
    if (rc < 0 && (c.oom || c.too_big)) {
        if (c.too_big)
            kz_eval_seterr(err, errlen, "pattern needs more than %u observation instances",
                           KZ_SEARCH_MAX_INSTANCES);
        else
            goto oom;
    }
    if (rc == 1 && binding) {
        size_t *b = malloc((c.nwork ? c.nwork : 1) * sizeof *b), n = 0;
        if (!b)
            goto oom;
        for (size_t k = 0; k < c.nwork; k++)
            b[n++] = (size_t)c.work[k].od;
        qsort(b, n, sizeof *b, cmp_size);
        size_t u = 0;
        for (size_t k = 0; k < n; k++)
            if (u == 0 || b[u - 1] != b[k])
                b[u++] = b[k];
        *binding = b;
        if (nbinding)
            *nbinding = u;
    } else if (rc == 1 && nbinding) {
        *nbinding = 0;
    }
    goto done;

oom:
    kz_eval_seterr(err, errlen, "out of memory");
    rc = -1;
done:
    if (c.cand)
        for (size_t lf = 0; lf < m->nleaves; lf++)
            free(c.cand[lf]);
    free(c.cand);
    free(c.span_ns);
    free(c.used);
    free(c.visit);
    free(tmp);
    free(c.tasks);
    free(c.fixed);
    free(c.work);
    free(c.groups);
    return rc;
}
