/*
 * Semantic checks on a parsed STIX pattern, the ones the grammar cannot express:
 *  - hash values: a string compared (=, !=, IN) with a path whose last step is a known hash
 *    algorithm under a 'hashes' step must have that algorithm's form (MD5 32 hex digits,
 *    SHA-256 64, SSDEEP its alphabet, TLSH 70 hex or T1 + 70 hex, ...). The algorithm name is
 *    matched as the reference validator does: uppercase, '-' removed.
 *  - qualifiers (STIX 2.1): one qualifier of each type on an observation expression. As in the
 *    reference validator, the rule looks at the chain of qualifiers applied directly to a
 *    [ ... ] expression; qualifiers on a parenthesised group are not compared with those
 *    inside it ("([a] REPEATS 2 TIMES) REPEATS 2 TIMES" is valid).
 *    KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS turns this rule off (the reference matcher lacks it).
 *  - REPEATS must be at least 1 (the spec: "x MUST be a positive integer").
 * Unknown object types and properties are allowed (custom objects). START >= STOP and
 * WITHIN 0 SECONDS are accepted: the reference matcher treats them at match time.
 */
#include "parse_internal.h"

#include <kizuna/stix.h>

#include <string.h>

static int check_hash_lit(const kz_pat_cmp *c, const char *algo, const kz_pat_lit *lit,
                          parse_error *e)
{
    if (lit->kind != KZ_LIT_STRING || !kz_stix_hash_problem(algo, lit->str, lit->len))
        return 0;
    parse_error_set(e, c->line, c->column, "'%.80s' is not a valid %s hash", lit->str, algo);
    return -1;
}

static int check_cmp(const kz_pat_cmp *c, parse_error *e)
{
    if (c->kind != KZ_CE_CMP)
        return check_cmp(c->left, e) < 0 || check_cmp(c->right, e) < 0 ? -1 : 0;
    const kz_pat_path *p = &c->path;
    if (p->nsteps < 2 || p->steps[p->nsteps - 1].kind != KZ_STEP_KEY)
        return 0;
    bool under_hashes = false;
    for (size_t i = 0; i + 1 < p->nsteps; i++)
        if (p->steps[i].kind == KZ_STEP_KEY && strcmp(p->steps[i].key, "hashes") == 0)
            under_hashes = true;
    if (!under_hashes)
        return 0;
    const char *r = kz_stix_hash_algorithm(p->steps[p->nsteps - 1].key);
    if (!r)
        return 0; /* custom hash algorithm: any value */
    if (c->op == KZ_CMP_EQ || c->op == KZ_CMP_NE)
        return check_hash_lit(c, r, &c->lit, e);
    if (c->op == KZ_CMP_IN)
        for (size_t i = 0; i < c->lit.nitems; i++)
            if (check_hash_lit(c, r, &c->lit.items[i], e) < 0)
                return -1;
    return 0;
}

static bool is_qualifier(const kz_pat_obs *o)
{
    return o->kind == KZ_OE_WITHIN || o->kind == KZ_OE_REPEATS || o->kind == KZ_OE_STARTSTOP;
}

static const char *qual_name(kz_oe_kind k)
{
    return k == KZ_OE_WITHIN ? "WITHIN" : k == KZ_OE_REPEATS ? "REPEATS" : "START/STOP";
}

/* o is the outermost qualifier of a chain. Walk inward to the first node that is not a
 * qualifier or is parenthesised; if that base is a plain [ ... ], each type may appear once. */
static int check_chain(const kz_pat_obs *o, const kz_pattern *p, parse_error *e)
{
    if (p->version < 21 || (p->flags & KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS))
        return 0;
    const kz_pat_obs *n = o;
    while (is_qualifier(n->left) && !n->left->parenthesized)
        n = n->left;
    const kz_pat_obs *base = n->left;
    if (base->kind != KZ_OE_OBS || base->parenthesized)
        return 0;
    /* visit the chain from the inside out so that the duplicate reported is the later one in
     * the text; the chain is at most KZ_PATTERN_MAX_DEPTH long (the parser's bound) */
    const kz_pat_obs *seen[3] = {NULL, NULL, NULL};
    const kz_pat_obs *dup = NULL;
    const kz_pat_obs *stack[KZ_PATTERN_MAX_DEPTH];
    size_t sn = 0;
    for (const kz_pat_obs *m = o; m != base; m = m->left)
        stack[sn++] = m;
    while (sn-- > 0) {
        // cppcheck-suppress uninitvar ; filled by the loop above for every index below sn
        const kz_pat_obs *m = stack[sn];
        int idx = m->kind == KZ_OE_WITHIN ? 0 : m->kind == KZ_OE_REPEATS ? 1 : 2;
        if (seen[idx]) {
            dup = m;
            break;
        }
        seen[idx] = m;
    }
    if (dup) {
        parse_error_set(e, dup->line, dup->column,
                        "duplicate %s qualifier: an observation expression may have one "
                        "qualifier of each type",
                        qual_name(dup->kind));
        return -1;
    }
    return 0;
}

static int check_obs(const kz_pat_obs *o, bool chain_top, const kz_pattern *p, parse_error *e)
{
    switch (o->kind) {
    case KZ_OE_OBS:
        return check_cmp(o->cmp, e);
    case KZ_OE_AND:
    case KZ_OE_OR:
    case KZ_OE_FOLLOWEDBY:
        return check_obs(o->left, true, p, e) < 0 || check_obs(o->right, true, p, e) < 0 ? -1 : 0;
    default:
        break;
    }
    if (o->kind == KZ_OE_REPEATS && o->repeats < 1) {
        parse_error_set(e, o->line, o->column, "REPEATS needs a positive integer, found %lld",
                        (long long)o->repeats);
        return -1;
    }
    if (chain_top && check_chain(o, p, e) < 0)
        return -1;
    /* the child starts a new chain when parenthesised, or when it is not a qualifier */
    bool child_top = o->left->parenthesized || !is_qualifier(o->left);
    return check_obs(o->left, child_top, p, e);
}

int parse_semantic_check(const kz_pattern *p, parse_error *e)
{
    return check_obs(p->root, true, p, e);
}
