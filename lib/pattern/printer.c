/*
 * STIX pattern printer: the canonical text of a parsed pattern.
 *
 * Invariant: the output parses (same STIX version) to a pattern whose printout is identical,
 * so print(parse(print(parse(x)))) == print(parse(x)). Canonical means: one space around
 * binary operators, '=' and '!=' for '=='/'<>', parentheses only where precedence needs them
 * (AND inside OR never, OR inside AND always; a binary expression under a qualifier; a
 * FOLLOWEDBY as a right operand) plus the source's parentheses directly under a qualifier,
 * which carry meaning for the duplicate-qualifier rule. Numbers are printed in the shortest
 * form that reads back to the same value, never with an exponent (the grammar has none);
 * hex is lowercase; base64 is re-encoded; timestamps are printed as written.
 * It does not pretty-print over several lines.
 */
#include "parse_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kz_pattern_op_name(kz_cmp_op op)
{
    switch (op) {
    case KZ_CMP_EQ: return "=";
    case KZ_CMP_NE: return "!=";
    case KZ_CMP_LT: return "<";
    case KZ_CMP_GT: return ">";
    case KZ_CMP_LE: return "<=";
    case KZ_CMP_GE: return ">=";
    case KZ_CMP_IN: return "IN";
    case KZ_CMP_LIKE: return "LIKE";
    case KZ_CMP_MATCHES: return "MATCHES";
    case KZ_CMP_ISSUBSET: return "ISSUBSET";
    case KZ_CMP_ISSUPERSET: return "ISSUPERSET";
    case KZ_CMP_EXISTS: return "EXISTS";
    }
    return "?";
}

const char *kz_pattern_lit_kind_name(kz_lit_kind k)
{
    switch (k) {
    case KZ_LIT_STRING: return "string";
    case KZ_LIT_INT: return "int";
    case KZ_LIT_FLOAT: return "float";
    case KZ_LIT_BOOL: return "bool";
    case KZ_LIT_BINARY: return "binary";
    case KZ_LIT_HEX: return "hex";
    case KZ_LIT_TIMESTAMP: return "timestamp";
    case KZ_LIT_SET: return "set";
    }
    return "?";
}

/* Shortest %.{p}e that reads back exactly, rewritten in positional notation. */
int parse_format_float(double f, kz_buf *out)
{
    char e[64];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, f);
        if (strtod(e, NULL) == f)
            break;
    }
    /* e is [-]d[.ddd]e[+-]xx */
    const char *s = e;
    if (*s == '-') {
        kz_buf_putc(out, '-');
        s++;
    }
    char digits[32];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.' && nd + 1 < sizeof digits)
            digits[nd++] = *s;
    int exp10 = *s == 'e' ? atoi(s + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    /* value = 0.d1d2...dn * 10^(exp10+1) */
    int point = exp10 + 1; /* digits before the decimal point */
    if (point <= 0) {
        kz_buf_puts(out, "0.");
        for (int i = 0; i < -point; i++)
            kz_buf_putc(out, '0');
        kz_buf_append(out, digits, nd);
    } else if ((size_t)point >= nd) {
        kz_buf_append(out, digits, nd);
        for (size_t i = nd; i < (size_t)point; i++)
            kz_buf_putc(out, '0');
        kz_buf_puts(out, ".0");
    } else {
        kz_buf_append(out, digits, (size_t)point);
        kz_buf_putc(out, '.');
        kz_buf_append(out, digits + point, nd - (size_t)point);
    }
    return out->oom ? -1 : 0;
}

/* WITHIN n: an integral value prints as an integer ("WITHIN 5 SECONDS", as the reference's
 * inspector shows it), anything else as a float. */
int parse_format_seconds(double f, kz_buf *out)
{
    if (f == floor(f) && fabs(f) < 9007199254740992.0)
        return kz_buf_printf(out, "%" PRId64, (int64_t)f);
    return parse_format_float(f, out);
}

int parse_print_string(const char *s, size_t len, kz_buf *out)
{
    kz_buf_putc(out, '\'');
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\') {
            kz_buf_append(out, s + from, i - from);
            kz_buf_putc(out, '\\');
            from = i;
        }
    }
    kz_buf_append(out, s + from, len - from);
    return kz_buf_putc(out, '\'');
}

static void put_base64(const unsigned char *p, size_t n, kz_buf *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            w |= p[i + 2];
        char q[4] = {tbl[w >> 18 & 63], tbl[w >> 12 & 63], i + 1 < n ? tbl[w >> 6 & 63] : '=',
                     i + 2 < n ? tbl[w & 63] : '='};
        kz_buf_append(out, q, 4);
    }
}

int kz_pattern_print_lit(const kz_pat_lit *lit, kz_buf *out)
{
    switch (lit->kind) {
    case KZ_LIT_STRING: parse_print_string(lit->str, lit->len, out); break;
    case KZ_LIT_INT: kz_buf_printf(out, "%" PRId64, lit->i); break;
    case KZ_LIT_FLOAT: parse_format_float(lit->f, out); break;
    case KZ_LIT_BOOL: kz_buf_puts(out, lit->b ? "true" : "false"); break;
    case KZ_LIT_BINARY:
        kz_buf_puts(out, "b'");
        put_base64((const unsigned char *)lit->str, lit->len, out);
        kz_buf_putc(out, '\'');
        break;
    case KZ_LIT_HEX:
        kz_buf_puts(out, "h'");
        for (size_t i = 0; i < lit->len; i++)
            kz_buf_printf(out, "%02x", (unsigned char)lit->str[i]);
        kz_buf_putc(out, '\'');
        break;
    case KZ_LIT_TIMESTAMP:
        kz_buf_puts(out, "t'");
        kz_buf_append(out, lit->str, lit->len);
        kz_buf_putc(out, '\'');
        break;
    case KZ_LIT_SET:
        kz_buf_putc(out, '(');
        for (size_t i = 0; i < lit->nitems; i++) {
            if (i)
                kz_buf_puts(out, ", ");
            kz_pattern_print_lit(&lit->items[i], out);
        }
        kz_buf_putc(out, ')');
        break;
    }
    return out->oom ? -1 : 0;
}

/* A key prints bare when the grammar's IdentifierWithoutHyphen would read it back as that
 * key (and it is not a keyword or boolean), quoted otherwise. */
static void print_key(const char *k, kz_buf *out)
{
    bool bare = (k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_';
    for (const char *c = k; bare && *c; c++)
        bare = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
               (*c >= '0' && *c <= '9');
    if (bare) {
        static const char *reserved[] = {"AND",     "OR",       "NOT",        "FOLLOWEDBY",
                                         "LIKE",    "MATCHES",  "ISSUBSET",   "ISSUPERSET",
                                         "EXISTS",  "LAST",     "IN",         "START",
                                         "STOP",    "SECONDS",  "WITHIN",     "REPEATS",
                                         "TIMES",   "true",     "false"};
        for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
            if (strcmp(k, reserved[i]) == 0)
                bare = false;
        /* a lone t/b/h is fine: only t' b' h' start literals */
    }
    if (bare)
        kz_buf_puts(out, k);
    else
        parse_print_string(k, strlen(k), out);
}

static void print_path(const kz_pat_path *p, kz_buf *out)
{
    kz_buf_puts(out, p->object_type);
    kz_buf_putc(out, ':');
    for (size_t i = 0; i < p->nsteps; i++) {
        const kz_pat_step *s = &p->steps[i];
        if (s->kind == KZ_STEP_KEY) {
            if (i)
                kz_buf_putc(out, '.');
            print_key(s->key, out);
        } else if (s->kind == KZ_STEP_INDEX) {
            kz_buf_printf(out, "[%" PRId64 "]", s->index);
        } else {
            kz_buf_puts(out, "[*]");
        }
    }
}

static void print_cmp(const kz_pat_cmp *c, kz_buf *out)
{
    if (c->kind == KZ_CE_CMP) {
        if (c->op == KZ_CMP_EXISTS) {
            kz_buf_puts(out, "EXISTS ");
            print_path(&c->path, out);
            return;
        }
        print_path(&c->path, out);
        kz_buf_puts(out, c->negated ? " NOT " : " ");
        kz_buf_puts(out, kz_pattern_op_name(c->op));
        kz_buf_putc(out, ' ');
        kz_pattern_print_lit(&c->lit, out);
        return;
    }
    for (int side = 0; side < 2; side++) {
        const kz_pat_cmp *ch = side ? c->right : c->left;
        bool paren = c->kind == KZ_CE_AND && ch->kind == KZ_CE_OR;
        if (side)
            kz_buf_puts(out, c->kind == KZ_CE_AND ? " AND " : " OR ");
        if (paren)
            kz_buf_putc(out, '(');
        print_cmp(ch, out);
        if (paren)
            kz_buf_putc(out, ')');
    }
}

int kz_pattern_print_cmp(const kz_pat_cmp *c, kz_buf *out)
{
    print_cmp(c, out);
    return out->oom ? -1 : 0;
}

/* Binding strength: qualifiers and [ ] bind tightest, then AND, OR, FOLLOWEDBY. */
static int prec(const kz_pat_obs *o)
{
    switch (o->kind) {
    case KZ_OE_FOLLOWEDBY: return 1;
    case KZ_OE_OR: return 2;
    case KZ_OE_AND: return 3;
    default: return 4;
    }
}

static void print_obs(const kz_pat_obs *o, int version, kz_buf *out);

static void print_child(const kz_pat_obs *ch, bool paren, int version, kz_buf *out)
{
    if (paren)
        kz_buf_putc(out, '(');
    print_obs(ch, version, out);
    if (paren)
        kz_buf_putc(out, ')');
}

static void print_time(const char *text, int version, kz_buf *out)
{
    if (version >= 21) {
        kz_buf_puts(out, "t'");
        kz_buf_puts(out, text);
        kz_buf_putc(out, '\'');
    } else {
        parse_print_string(text, strlen(text), out);
    }
}

static void print_obs(const kz_pat_obs *o, int version, kz_buf *out)
{
    switch (o->kind) {
    case KZ_OE_OBS:
        kz_buf_putc(out, '[');
        print_cmp(o->cmp, out);
        kz_buf_putc(out, ']');
        return;
    case KZ_OE_AND:
    case KZ_OE_OR:
    case KZ_OE_FOLLOWEDBY: {
        int p = prec(o);
        /* AND and OR are associative (and built balanced), so equal precedence needs no
         * parentheses on either side; FOLLOWEDBY is left-assoc: parenthesise on the right */
        bool lp = prec(o->left) < p;
        bool rp = prec(o->right) < p || (o->kind == KZ_OE_FOLLOWEDBY && prec(o->right) == p);
        print_child(o->left, lp, version, out);
        kz_buf_puts(out, o->kind == KZ_OE_AND  ? " AND "
                         : o->kind == KZ_OE_OR ? " OR "
                                               : " FOLLOWEDBY ");
        print_child(o->right, rp, version, out);
        return;
    }
    default: break;
    }
    const kz_pat_obs *ch = o->left;
    bool paren = prec(ch) < 4 || ch->parenthesized;
    print_child(ch, paren, version, out);
    if (o->kind == KZ_OE_WITHIN) {
        kz_buf_puts(out, " WITHIN ");
        parse_format_seconds(o->within_seconds, out);
        kz_buf_puts(out, " SECONDS");
    } else if (o->kind == KZ_OE_REPEATS) {
        kz_buf_printf(out, " REPEATS %" PRId64 " TIMES", o->repeats);
    } else {
        kz_buf_puts(out, " START ");
        print_time(o->start_text, version, out);
        kz_buf_puts(out, " STOP ");
        print_time(o->stop_text, version, out);
    }
}

int kz_pattern_print(const kz_pattern *p, kz_buf *out)
{
    if (!p || !p->root)
        return -1;
    print_obs(p->root, p->version, out);
    return out->oom ? -1 : 0;
}
