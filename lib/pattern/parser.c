/*
 * STIX patterning parser: recursive descent from tokens to the kz_pat_* AST, plus the
 * kz_pattern object (its arena) and the public entry points.
 *
 * Grammar (STIXPattern.g4, 2.1; 2.0 differs in START/STOP taking plain strings and having no
 * EXISTS):
 *   pattern     := obs_fb EOF
 *   obs_fb      := obs_or (FOLLOWEDBY obs_or)*           left-assoc, lowest
 *   obs_or      := obs_and (OR obs_and)*
 *   obs_and     := obs_qual (AND obs_qual)*
 *   obs_qual    := obs_primary (WITHIN n SECONDS | REPEATS n TIMES | START t STOP t)*
 *   obs_primary := '[' cmp_or ']' | '(' obs_fb ')'
 *   cmp_or      := cmp_and (OR cmp_and)* ;  cmp_and := prop_test (AND prop_test)*
 *   prop_test   := '(' cmp_or ')' | EXISTS path | path NOT? op literal
 * Invariants: recursion is bounded by KZ_PATTERN_MAX_NESTING brackets/parentheses, and a chain
 * of one associative operator (AND, OR) is built as a balanced tree, so that a pattern with
 * thousands of ORed indicators is a tree of logarithmic depth; every node's depth is checked
 * against KZ_PATTERN_MAX_DEPTH so consumers may recurse freely. FOLLOWEDBY stays left-deep.
 * All memory comes from the pattern's arena; on error the whole arena is dropped.
 * It does not judge values (hash formats, duplicate qualifiers): semantic.c does.
 */
#include "parse_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------------------------ */

struct parse_arena_block {
    parse_arena_block *next;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

void parse_arena_init(parse_arena *a) { memset(a, 0, sizeof *a); }

void parse_arena_free(parse_arena *a)
{
    parse_arena_block *b = a->head;
    while (b) {
        parse_arena_block *n = b->next;
        free(b);
        b = n;
    }
    memset(a, 0, sizeof *a);
}

void *parse_arena_alloc(parse_arena *a, size_t n)
{
    if (a->oom)
        return NULL;
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (!a->head || a->cap - a->used < n) {
        /* the first block within malloc's per-thread cache (chunks up to 1032 bytes): a
         * one-comparison pattern's tree fits, and its block is reused from there at once */
        size_t cap = a->head ? a->head->cap * 2 : 1008 - sizeof(parse_arena_block);
        if (cap > 1 << 20)
            cap = 1 << 20;
        if (cap < n)
            cap = n;
        parse_arena_block *b = malloc(sizeof *b + cap);
        if (!b) {
            a->oom = true;
            return NULL;
        }
        b->next = a->head;
        b->cap = cap;
        a->head = b;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *parse_arena_strndup(parse_arena *a, const char *s, size_t n)
{
    char *d = parse_arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void parse_error_set(parse_error *e, int line, int column, const char *fmt, ...)
{
    if (e->set)
        return; /* the first error wins */
    e->set = true;
    e->line = line;
    e->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

/* ---- parser state ----------------------------------------------------------------------- */

typedef struct parser {
    lex_state lx;
    lex_token tok; /* the current (not yet consumed) token */
    kz_pattern *p;
    parse_error *e;
    int nesting;
} parser;

static void next(parser *ps) { lex_next(&ps->lx, &ps->tok); }

/* A short, quoted rendering of the current token for messages. */
static const char *tok_desc(const parser *ps, char *buf, size_t n)
{
    const lex_token *t = &ps->tok;
    if (t->kind == LEX_EOF)
        return "end of pattern";
    size_t len = t->len > 40 ? 40 : t->len;
    while (len < t->len && len > 0 && ((unsigned char)t->start[len] & 0xC0) == 0x80)
        len--; /* never cut a UTF-8 sequence */
    snprintf(buf, n, "'%.*s%s'", (int)len, t->start, len < t->len ? "..." : "");
    return buf;
}

/* Report "expected X" at the current token; a lexer error takes precedence since it says
 * exactly what is wrong with the token. */
static void expected(parser *ps, const char *what)
{
    if (ps->tok.kind == LEX_ERROR) {
        parse_error_set(ps->e, ps->lx.err_line, ps->lx.err_column, "%s", ps->lx.err);
        return;
    }
    char buf[64];
    parse_error_set(ps->e, ps->tok.line, ps->tok.column, "expected %s, found %s", what,
                    tok_desc(ps, buf, sizeof buf));
}

static void *alloc(parser *ps, size_t n)
{
    void *m = parse_arena_alloc(&ps->p->arena, n);
    if (!m)
        parse_error_set(ps->e, ps->tok.line, ps->tok.column, "out of memory");
    return m;
}

/* ---- depth bookkeeping ------------------------------------------------------------------ */

/* The parser carries each subtree's depth beside it (cmp_res/obs_res) rather than in the
 * public structs. */
typedef struct {
    kz_pat_cmp *node;
    int depth;
} cmp_res;

typedef struct {
    kz_pat_obs *node;
    int depth;
} obs_res;

static bool depth_ok(parser *ps, int depth, int line, int col)
{
    if (depth > KZ_PATTERN_MAX_DEPTH) {
        parse_error_set(ps->e, line, col, "nesting too deep (the expression tree exceeds %d levels)",
                        KZ_PATTERN_MAX_DEPTH);
        return false;
    }
    return true;
}

static bool enter(parser *ps)
{
    if (++ps->nesting > KZ_PATTERN_MAX_NESTING) {
        parse_error_set(ps->e, ps->tok.line, ps->tok.column,
                        "nesting too deep (more than %d levels of brackets and parentheses)",
                        KZ_PATTERN_MAX_NESTING);
        return false;
    }
    return true;
}

/* ---- balanced chains -------------------------------------------------------------------- */

/* An operand and the position of the operator before it (n > 0). */
typedef struct {
    void *node;
    int depth, line, col;
} chain_link;

/* The operands of one chain of a binary operator. Most chains hold one or two (every
 * bracket and parenthesis starts three or four): they live in the chain itself, and only a
 * longer one is moved to the heap (four arrays grown by realloc for each chain made a simple
 * indicator's pattern twenty allocations; 8% of loading ten million indicators). */
typedef struct {
    chain_link *e; /* local until it outgrows it */
    chain_link local[8];
    size_t n, cap;
} chain;

static void chain_free(chain *c)
{
    if (c->e != c->local)
        free(c->e);
}

static bool chain_push(parser *ps, chain *c, void *node, int depth, int line, int col)
{
    if (!c->e) {
        c->e = c->local;
        c->cap = sizeof c->local / sizeof c->local[0];
    }
    if (c->n == c->cap) {
        size_t cap = c->cap * 2;
        chain_link *e = c->e == c->local ? malloc(cap * sizeof *e) : realloc(c->e, cap * sizeof *e);
        if (!e) {
            parse_error_set(ps->e, line, col, "out of memory");
            return false;
        }
        if (c->e == c->local)
            memcpy(e, c->local, sizeof c->local);
        c->e = e;
        c->cap = cap;
    }
    c->e[c->n++] = (chain_link){node, depth, line, col};
    return true;
}

/* Build a balanced tree over operands [lo, hi). */
static cmp_res build_cmp(parser *ps, chain *c, size_t lo, size_t hi, kz_ce_kind kind)
{
    if (hi - lo == 1)
        return (cmp_res){c->e[lo].node, c->e[lo].depth};
    size_t mid = lo + (hi - lo) / 2;
    cmp_res l = build_cmp(ps, c, lo, mid, kind);
    if (!l.node)
        return l;
    cmp_res r = build_cmp(ps, c, mid, hi, kind);
    if (!r.node)
        return r;
    kz_pat_cmp *n = alloc(ps, sizeof *n);
    if (!n)
        return (cmp_res){NULL, 0};
    n->kind = kind;
    n->left = l.node;
    n->right = r.node;
    n->line = c->e[mid].line;
    n->column = c->e[mid].col;
    int d = 1 + (l.depth > r.depth ? l.depth : r.depth);
    if (!depth_ok(ps, d, n->line, n->column))
        return (cmp_res){NULL, 0};
    return (cmp_res){n, d};
}

static obs_res build_obs(parser *ps, chain *c, size_t lo, size_t hi, kz_oe_kind kind)
{
    if (hi - lo == 1)
        return (obs_res){c->e[lo].node, c->e[lo].depth};
    size_t mid = lo + (hi - lo) / 2;
    obs_res l = build_obs(ps, c, lo, mid, kind);
    if (!l.node)
        return l;
    obs_res r = build_obs(ps, c, mid, hi, kind);
    if (!r.node)
        return r;
    kz_pat_obs *n = alloc(ps, sizeof *n);
    if (!n)
        return (obs_res){NULL, 0};
    n->kind = kind;
    n->left = l.node;
    n->right = r.node;
    n->line = c->e[mid].line;
    n->column = c->e[mid].col;
    int d = 1 + (l.depth > r.depth ? l.depth : r.depth);
    if (!depth_ok(ps, d, n->line, n->column))
        return (obs_res){NULL, 0};
    return (obs_res){n, d};
}

/* ---- comparisons ------------------------------------------------------------------------ */

static cmp_res parse_cmp_or(parser *ps);

/* A property name: IdentifierWithoutHyphen or a quoted string. `where` names what precedes
 * it, for the message. */
static bool take_key(parser *ps, kz_pat_step *st, const char *where)
{
    const lex_token *t = &ps->tok;
    st->kind = KZ_STEP_KEY;
    if (t->kind == LEX_IDENT) {
        st->key = parse_arena_strndup(&ps->p->arena, t->start, t->len);
    } else if (t->kind == LEX_STRING) {
        st->key = t->str;
    } else if (t->kind == LEX_IDENT_HYPHEN) {
        int n = (int)(t->len > 60 ? 60 : t->len);
        parse_error_set(ps->e, t->line, t->column,
                        "property name '%.*s' contains '-': quote it as '%.*s'", n, t->start, n,
                        t->start);
        return false;
    } else {
        char what[64];
        snprintf(what, sizeof what, "a property name after %s", where);
        expected(ps, what);
        return false;
    }
    if (!st->key) {
        parse_error_set(ps->e, t->line, t->column, "out of memory");
        return false;
    }
    next(ps);
    return true;
}

static bool parse_path(parser *ps, kz_pat_path *path)
{
    if (ps->tok.kind != LEX_IDENT && ps->tok.kind != LEX_IDENT_HYPHEN) {
        expected(ps, "an object path (type:property), EXISTS or '('");
        return false;
    }
    path->object_type = parse_arena_strndup(&ps->p->arena, ps->tok.start, ps->tok.len);
    if (!path->object_type) {
        parse_error_set(ps->e, ps->tok.line, ps->tok.column, "out of memory");
        return false;
    }
    next(ps);
    if (ps->tok.kind != LEX_COLON) {
        expected(ps, "':' after the object type");
        return false;
    }
    next(ps);
    /* the number of steps is unknown until the path ends: grow an arena array (the old
     * copies stay in the arena; paths are short) */
    size_t cap = 4, n = 0;
    kz_pat_step *steps = alloc(ps, cap * sizeof *steps);
    if (!steps)
        return false;
    for (;;) {
        kz_pat_step st = {0};
        if (n == 0) {
            if (!take_key(ps, &st, "':'"))
                return false;
        } else if (ps->tok.kind == LEX_DOT) {
            next(ps);
            if (!take_key(ps, &st, "'.'"))
                return false;
        } else if (ps->tok.kind == LEX_LBRACK) {
            next(ps);
            if (ps->tok.kind == LEX_ASTERISK) {
                st.kind = KZ_STEP_ANY;
            } else if (ps->tok.kind == LEX_INT) {
                st.kind = KZ_STEP_INDEX;
                st.index = ps->tok.i;
            } else {
                expected(ps, "a list index (integer or '*') after '['");
                return false;
            }
            next(ps);
            if (ps->tok.kind != LEX_RBRACK) {
                expected(ps, "']' after the list index");
                return false;
            }
            next(ps);
        } else {
            break;
        }
        if (n == cap) {
            kz_pat_step *bigger = alloc(ps, cap * 2 * sizeof *bigger);
            if (!bigger)
                return false;
            memcpy(bigger, steps, n * sizeof *steps);
            steps = bigger;
            cap *= 2;
        }
        steps[n++] = st;
    }
    path->steps = steps;
    path->nsteps = n;
    return true;
}

static bool take_literal(parser *ps, kz_pat_lit *lit)
{
    const lex_token *t = &ps->tok;
    memset(lit, 0, sizeof *lit);
    switch (t->kind) {
    case LEX_STRING: lit->kind = KZ_LIT_STRING; break;
    case LEX_INT: lit->kind = KZ_LIT_INT; break;
    case LEX_FLOAT: lit->kind = KZ_LIT_FLOAT; break;
    case LEX_BOOL: lit->kind = KZ_LIT_BOOL; break;
    case LEX_BINARY: lit->kind = KZ_LIT_BINARY; break;
    case LEX_HEX: lit->kind = KZ_LIT_HEX; break;
    case LEX_TIMESTAMP: lit->kind = KZ_LIT_TIMESTAMP; break;
    default: return false;
    }
    lit->str = t->str;
    lit->len = t->slen;
    lit->i = t->i;
    lit->f = t->kind == LEX_INT ? (double)t->i : t->f;
    lit->b = t->b;
    lit->t = t->t;
    next(ps);
    return true;
}

/* A literal of the kind the operator admits (grammar: primitiveLiteral for = and !=,
 * orderableLiteral for < > <= >=, StringLiteral for LIKE/MATCHES/ISSUBSET/ISSUPERSET). */
static bool parse_operand(parser *ps, kz_pat_cmp *c)
{
    kz_cmp_op op = c->op;
    const char *opname = kz_pattern_op_name(op);
    lex_kind k = ps->tok.kind;
    bool is_null = k == LEX_IDENT && ps->tok.len == 4 && memcmp(ps->tok.start, "null", 4) == 0;
    if (op == KZ_CMP_IN) {
        if (k != LEX_LPAREN) {
            expected(ps, "'(' to open the set after IN");
            return false;
        }
        next(ps);
        size_t cap = 4, n = 0;
        kz_pat_lit *items = alloc(ps, cap * sizeof *items);
        if (!items)
            return false;
        if (ps->tok.kind != LEX_RPAREN) {
            for (;;) {
                if (n == cap) {
                    kz_pat_lit *bigger = alloc(ps, cap * 2 * sizeof *bigger);
                    if (!bigger)
                        return false;
                    memcpy(bigger, items, n * sizeof *items);
                    items = bigger;
                    cap *= 2;
                }
                bool item_null = ps->tok.kind == LEX_IDENT && ps->tok.len == 4 &&
                                 memcmp(ps->tok.start, "null", 4) == 0;
                if (!take_literal(ps, &items[n])) {
                    expected(ps, item_null ? "a literal in the set ('null' is not a STIX literal)"
                                           : "a literal in the set");
                    return false;
                }
                n++;
                if (ps->tok.kind == LEX_COMMA) {
                    next(ps);
                    continue;
                }
                if (ps->tok.kind != LEX_RPAREN) {
                    expected(ps, "',' or ')' in the set");
                    return false;
                }
                break;
            }
        }
        next(ps); /* ')' */
        memset(&c->lit, 0, sizeof c->lit);
        c->lit.kind = KZ_LIT_SET;
        c->lit.items = items;
        c->lit.nitems = n;
        return true;
    }
    bool ok;
    const char *want;
    switch (op) {
    case KZ_CMP_EQ:
    case KZ_CMP_NE:
        ok = k == LEX_STRING || k == LEX_INT || k == LEX_FLOAT || k == LEX_BOOL ||
             k == LEX_BINARY || k == LEX_HEX || k == LEX_TIMESTAMP;
        want = "a literal";
        break;
    case KZ_CMP_LT:
    case KZ_CMP_GT:
    case KZ_CMP_LE:
    case KZ_CMP_GE:
        ok = k == LEX_STRING || k == LEX_INT || k == LEX_FLOAT || k == LEX_BINARY ||
             k == LEX_HEX || k == LEX_TIMESTAMP;
        want = k == LEX_BOOL ? "an orderable literal (number, string, binary, hex or "
                               "timestamp; booleans have no order)"
                             : "an orderable literal";
        break;
    default:
        ok = k == LEX_STRING;
        want = "a string literal";
        break;
    }
    if (!ok) {
        char what[200];
        bool word = opname[0] >= 'A' && opname[0] <= 'Z';
        snprintf(what, sizeof what, "%s after %s%s%s%s", want, word ? "" : "'", opname,
                 word ? "" : "'",
                 is_null ? " ('null' is not a STIX literal)" : "");
        expected(ps, what);
        return false;
    }
    return take_literal(ps, &c->lit);
}

static cmp_res parse_prop_test(parser *ps)
{
    const cmp_res fail = {NULL, 0};
    if (ps->tok.kind == LEX_LPAREN) {
        if (!enter(ps))
            return fail;
        next(ps);
        cmp_res r = parse_cmp_or(ps);
        if (!r.node)
            return fail;
        if (ps->tok.kind != LEX_RPAREN) {
            expected(ps, "')' after comparison");
            return fail;
        }
        next(ps);
        ps->nesting--;
        return r;
    }
    kz_pat_cmp *c = alloc(ps, sizeof *c);
    if (!c)
        return fail;
    c->kind = KZ_CE_CMP;
    c->line = ps->tok.line;
    c->column = ps->tok.column;
    if (ps->tok.kind == LEX_EXISTS) {
        if (ps->p->version < 21) {
            parse_error_set(ps->e, ps->tok.line, ps->tok.column,
                            "EXISTS is not part of STIX 2.0 patterning (use --stix-version 2.1)");
            return fail;
        }
        next(ps);
        if (!parse_path(ps, &c->path))
            return fail;
        c->op = KZ_CMP_EXISTS;
        return (cmp_res){c, 1};
    }
    if (!parse_path(ps, &c->path))
        return fail;
    if (ps->tok.kind == LEX_NOT) {
        c->negated = true;
        next(ps);
    }
    switch (ps->tok.kind) {
    case LEX_EQ: c->op = KZ_CMP_EQ; break;
    case LEX_NEQ: c->op = KZ_CMP_NE; break;
    case LEX_LT: c->op = KZ_CMP_LT; break;
    case LEX_GT: c->op = KZ_CMP_GT; break;
    case LEX_LE: c->op = KZ_CMP_LE; break;
    case LEX_GE: c->op = KZ_CMP_GE; break;
    case LEX_IN: c->op = KZ_CMP_IN; break;
    case LEX_LIKE: c->op = KZ_CMP_LIKE; break;
    case LEX_MATCHES: c->op = KZ_CMP_MATCHES; break;
    case LEX_ISSUBSET: c->op = KZ_CMP_ISSUBSET; break;
    case LEX_ISSUPERSET: c->op = KZ_CMP_ISSUPERSET; break;
    default:
        expected(ps, c->negated ? "a comparison operator after NOT"
                                : "a comparison operator after the object path");
        return fail;
    }
    next(ps);
    if (!parse_operand(ps, c))
        return fail;
    return (cmp_res){c, 1};
}

static cmp_res parse_cmp_and(parser *ps)
{
    chain ch = {0};
    cmp_res r = {NULL, 0};
    int line = ps->tok.line, col = ps->tok.column;
    for (;;) {
        cmp_res t = parse_prop_test(ps);
        if (!t.node || !chain_push(ps, &ch, t.node, t.depth, line, col))
            goto out;
        if (ps->tok.kind != LEX_AND)
            break;
        line = ps->tok.line;
        col = ps->tok.column;
        next(ps);
    }
    r = build_cmp(ps, &ch, 0, ch.n, KZ_CE_AND);
out:
    chain_free(&ch);
    return r;
}

static cmp_res parse_cmp_or(parser *ps)
{
    chain ch = {0};
    cmp_res r = {NULL, 0};
    int line = ps->tok.line, col = ps->tok.column;
    for (;;) {
        cmp_res t = parse_cmp_and(ps);
        if (!t.node || !chain_push(ps, &ch, t.node, t.depth, line, col))
            goto out;
        if (ps->tok.kind != LEX_OR)
            break;
        line = ps->tok.line;
        col = ps->tok.column;
        next(ps);
    }
    r = build_cmp(ps, &ch, 0, ch.n, KZ_CE_OR);
out:
    chain_free(&ch);
    return r;
}

/* ---- observation expressions ------------------------------------------------------------ */

static obs_res parse_obs_fb(parser *ps);

static obs_res parse_obs_primary(parser *ps)
{
    const obs_res fail = {NULL, 0};
    int line = ps->tok.line, col = ps->tok.column;
    if (ps->tok.kind == LEX_LBRACK) {
        if (!enter(ps))
            return fail;
        next(ps);
        cmp_res c = parse_cmp_or(ps);
        if (!c.node)
            return fail;
        if (ps->tok.kind != LEX_RBRACK) {
            expected(ps, "']' after comparison");
            return fail;
        }
        next(ps);
        ps->nesting--;
        kz_pat_obs *o = alloc(ps, sizeof *o);
        if (!o)
            return fail;
        o->kind = KZ_OE_OBS;
        o->cmp = c.node;
        o->line = line;
        o->column = col;
        if (!depth_ok(ps, c.depth + 1, line, col))
            return fail;
        return (obs_res){o, c.depth + 1};
    }
    if (ps->tok.kind == LEX_LPAREN) {
        if (!enter(ps))
            return fail;
        next(ps);
        obs_res r = parse_obs_fb(ps);
        if (!r.node)
            return fail;
        if (ps->tok.kind != LEX_RPAREN) {
            expected(ps, "')' after observation expression");
            return fail;
        }
        next(ps);
        ps->nesting--;
        r.node->parenthesized = true;
        return r;
    }
    expected(ps, "'[' or '(' to start an observation expression");
    return fail;
}

static bool parse_start_stop_time(parser *ps, const char **text, kz_time *t,
                                  const char **bad, const char *kw)
{
    char what[96];
    if (ps->p->version >= 21) {
        if (ps->tok.kind != LEX_TIMESTAMP) {
            snprintf(what, sizeof what, "a timestamp literal t'...' after %s", kw);
            expected(ps, what);
            return false;
        }
        *text = ps->tok.str;
        *t = ps->tok.t;
    } else {
        /* STIX 2.0: START/STOP take plain strings; a string that is not a timestamp is a
         * runtime error in the reference matcher, so it is recorded, not rejected. */
        if (ps->tok.kind != LEX_STRING) {
            snprintf(what, sizeof what, "a timestamp string '...' after %s (STIX 2.0)", kw);
            expected(ps, what);
            return false;
        }
        *text = ps->tok.str;
        if ((strlen(ps->tok.str) != ps->tok.slen || kz_time_parse(ps->tok.str, t, NULL, 0) < 0) &&
            !*bad)
            *bad = ps->tok.str; /* the first bad one, START before STOP */
    }
    next(ps);
    return true;
}

static obs_res parse_obs_qual(parser *ps)
{
    const obs_res fail = {NULL, 0};
    obs_res r = parse_obs_primary(ps);
    if (!r.node)
        return fail;
    for (;;) {
        lex_kind k = ps->tok.kind;
        if (k != LEX_WITHIN && k != LEX_REPEATS && k != LEX_START)
            return r;
        kz_pat_obs *q = alloc(ps, sizeof *q);
        if (!q)
            return fail;
        q->line = ps->tok.line;
        q->column = ps->tok.column;
        q->left = r.node;
        next(ps);
        if (k == LEX_WITHIN) {
            q->kind = KZ_OE_WITHIN;
            if ((ps->tok.kind != LEX_INT && ps->tok.kind != LEX_FLOAT) || ps->tok.negative) {
                expected(ps, "a positive number of seconds after WITHIN");
                return fail;
            }
            q->within_seconds = ps->tok.kind == LEX_INT ? (double)ps->tok.i : ps->tok.f;
            next(ps);
            if (ps->tok.kind != LEX_SECONDS) {
                expected(ps, "'SECONDS' after WITHIN n");
                return fail;
            }
            next(ps);
        } else if (k == LEX_REPEATS) {
            q->kind = KZ_OE_REPEATS;
            if (ps->tok.kind != LEX_INT || ps->tok.negative) {
                expected(ps, "a positive integer after REPEATS");
                return fail;
            }
            q->repeats = ps->tok.i;
            next(ps);
            if (ps->tok.kind != LEX_TIMES) {
                expected(ps, "'TIMES' after REPEATS n");
                return fail;
            }
            next(ps);
        } else {
            q->kind = KZ_OE_STARTSTOP;
            const char *bad = NULL;
            if (!parse_start_stop_time(ps, &q->start_text, &q->start, &bad, "START"))
                return fail;
            if (ps->tok.kind != LEX_STOP) {
                expected(ps, "'STOP' after START t'...'");
                return fail;
            }
            next(ps);
            if (!parse_start_stop_time(ps, &q->stop_text, &q->stop, &bad, "STOP"))
                return fail;
            q->time_error = bad;
        }
        r.node = q;
        r.depth++;
        if (!depth_ok(ps, r.depth, q->line, q->column))
            return fail;
    }
}

static obs_res parse_obs_level(parser *ps, lex_kind opk, kz_oe_kind kind,
                               obs_res (*sub)(parser *))
{
    chain ch = {0};
    obs_res r = {NULL, 0};
    int line = ps->tok.line, col = ps->tok.column;
    for (;;) {
        obs_res t = sub(ps);
        if (!t.node || !chain_push(ps, &ch, t.node, t.depth, line, col))
            goto out;
        if (ps->tok.kind != opk)
            break;
        line = ps->tok.line;
        col = ps->tok.column;
        next(ps);
    }
    r = build_obs(ps, &ch, 0, ch.n, kind);
out:
    chain_free(&ch);
    return r;
}

static obs_res parse_obs_and(parser *ps)
{
    return parse_obs_level(ps, LEX_AND, KZ_OE_AND, parse_obs_qual);
}

static obs_res parse_obs_or(parser *ps)
{
    return parse_obs_level(ps, LEX_OR, KZ_OE_OR, parse_obs_and);
}

/* FOLLOWEDBY is kept left-deep: its operands are ordered in time, so a rebalanced tree
 * would be a different (if often equivalent) pattern. Its chains add depth one by one. */
static obs_res parse_obs_fb(parser *ps)
{
    const obs_res fail = {NULL, 0};
    obs_res r = parse_obs_or(ps);
    if (!r.node)
        return fail;
    while (ps->tok.kind == LEX_FOLLOWEDBY) {
        kz_pat_obs *n = alloc(ps, sizeof *n);
        if (!n)
            return fail;
        n->kind = KZ_OE_FOLLOWEDBY;
        n->line = ps->tok.line;
        n->column = ps->tok.column;
        next(ps);
        obs_res rr = parse_obs_or(ps);
        if (!rr.node)
            return fail;
        n->left = r.node;
        n->right = rr.node;
        r.node = n;
        r.depth = 1 + (r.depth > rr.depth ? r.depth : rr.depth);
        if (!depth_ok(ps, r.depth, n->line, n->column))
            return fail;
    }
    return r;
}

int parse_pattern(kz_pattern *p, const char *text, size_t len, parse_error *e)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.p = p;
    ps.e = e;
    lex_init(&ps.lx, text, len, &p->arena);
    next(&ps);
    obs_res r = parse_obs_fb(&ps);
    if (!r.node)
        return -1;
    if (ps.tok.kind != LEX_EOF) {
        const lex_token *t = &ps.tok;
        /* lowercase keywords are a common mistake: name the keyword the user meant */
        const char *kw = NULL;
        static const char *upper[] = {"and", "or", "followedby", "within", "repeats", "start"};
        for (size_t i = 0; i < sizeof upper / sizeof upper[0]; i++)
            if (t->kind == LEX_IDENT && strlen(upper[i]) == t->len &&
                strncmp(upper[i], t->start, t->len) == 0)
                kw = upper[i];
        if (kw) {
            char buf[64];
            size_t i = 0;
            for (; kw[i] && i + 1 < sizeof buf; i++)
                buf[i] = (char)(kw[i] - 'a' + 'A');
            buf[i] = '\0';
            parse_error_set(e, t->line, t->column,
                            "expected AND, OR, FOLLOWEDBY, a qualifier or end of pattern, found "
                            "'%s' (keywords are uppercase: %s)",
                            kw, buf);
        } else {
            expected(&ps, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern");
        }
        return -1;
    }
    p->root = r.node;
    return 0;
}

/* ---- public entry points ---------------------------------------------------------------- */

/* Patterns are Unicode text (spec 9.4): reject malformed UTF-8 (overlongs, surrogates, > U+10FFFF)
 * before lexing, so that strings and columns are always well defined. */
static bool utf8_valid(const char *text, size_t len, parse_error *e)
{
    const unsigned char *s = (const unsigned char *)text;
    int line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                             : (c & 0xF8) == 0xF0 ? 4 : 0;
        uint32_t cp = n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
        bool ok = n != 0 && i + n <= len;
        for (size_t k = 1; ok && k < n; k++) {
            ok = (s[i + k] & 0xC0) == 0x80;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (ok && n > 1)
            ok = !(n == 2 && cp < 0x80) && !(n == 3 && cp < 0x800) && !(n == 4 && cp < 0x10000) &&
                 cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!ok) {
            parse_error_set(e, line, col, "invalid UTF-8 in pattern (byte 0x%02x)", c);
            return false;
        }
        if (c == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
        i += n;
    }
    return true;
}

kz_pattern *kz_pattern_parse(const char *text, int version, int *line, int *column, char *msg,
                             size_t msglen)
{
    return kz_pattern_parse_ex(text, version, 0, line, column, msg, msglen);
}

kz_pattern *kz_pattern_parse_ex(const char *text, int version, unsigned flags, int *line,
                                int *column, char *msg, size_t msglen)
{
    parse_error e = {0};
    kz_pattern *p = NULL;
    if (!text) {
        parse_error_set(&e, 1, 1, "no pattern given");
        goto fail;
    }
    if (version != 20 && version != 21) {
        parse_error_set(&e, 1, 1, "unsupported STIX version %d (20 or 21)", version);
        goto fail;
    }
    size_t len = strnlen(text, (size_t)KZ_PATTERN_MAX_LEN + 1);
    if (len > (size_t)KZ_PATTERN_MAX_LEN) {
        parse_error_set(&e, 1, 1, "pattern longer than %d bytes", KZ_PATTERN_MAX_LEN);
        goto fail;
    }
    if (!utf8_valid(text, len, &e))
        goto fail;
    p = calloc(1, sizeof *p);
    if (!p) {
        parse_error_set(&e, 1, 1, "out of memory");
        goto fail;
    }
    parse_arena_init(&p->arena);
    p->version = version;
    p->flags = flags;
    if (parse_pattern(p, text, len, &e) < 0 || parse_semantic_check(p, &e) < 0)
        goto fail;
    return p;
fail:
    kz_pattern_free(p);
    if (!e.set)
        parse_error_set(&e, 1, 1, "invalid pattern");
    if (line)
        *line = e.line;
    if (column)
        *column = e.column;
    if (msg && msglen)
        snprintf(msg, msglen, "%s", e.msg);
    return NULL;
}

void kz_pattern_free(kz_pattern *p)
{
    if (!p)
        return;
    parse_arena_free(&p->arena);
    free(p);
}

const kz_pat_obs *kz_pattern_root(const kz_pattern *p) { return p ? p->root : NULL; }

int kz_pattern_version(const kz_pattern *p) { return p ? p->version : 0; }
