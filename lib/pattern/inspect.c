/*
 * STIX pattern inspector: a JSON summary of a parsed pattern, the counterpart of the OASIS
 * validator's Pattern.inspect(): every comparison (object type, path, operator with its NOT,
 * literal), the qualifiers and the observation operators used.
 *
 * Invariants: comparisons come in pattern order (left to right); qualifiers and
 * observation_ops are sorted (byte order) and distinct. Literal texts are canonical (as the
 * printer writes them), not the source spelling.
 * It does not evaluate anything and keeps no reference to the pattern.
 */
#include "parse_internal.h"

#include <stdlib.h>
#include <string.h>

static json_t *lit_value(const kz_pat_lit *lit)
{
    kz_buf b;
    json_t *v = NULL;
    switch (lit->kind) {
    case KZ_LIT_STRING:
    case KZ_LIT_TIMESTAMP: return json_stringn(lit->str, lit->len);
    case KZ_LIT_INT: return json_integer((json_int_t)lit->i);
    case KZ_LIT_FLOAT: return json_real(lit->f);
    case KZ_LIT_BOOL: return json_boolean(lit->b);
    case KZ_LIT_BINARY:
    case KZ_LIT_HEX:
        /* the canonical literal without its b'' / h'' wrapper */
        kz_buf_init(&b);
        if (kz_pattern_print_lit(lit, &b) == 0 && b.len >= 3)
            v = json_stringn(b.data + 2, b.len - 3);
        kz_buf_free(&b);
        return v;
    case KZ_LIT_SET:
        v = json_array();
        for (size_t i = 0; v && i < lit->nitems; i++)
            if (json_array_append_new(v, lit_value(&lit->items[i])) < 0) {
                json_decref(v);
                return NULL;
            }
        return v;
    }
    return NULL;
}

static int add_cmp(json_t *arr, const kz_pat_cmp *c)
{
    if (c->kind != KZ_CE_CMP)
        return add_cmp(arr, c->left) < 0 || add_cmp(arr, c->right) < 0 ? -1 : 0;
    json_t *o = json_object();
    json_t *path = json_array();
    if (!o || !path) {
        json_decref(o);
        json_decref(path);
        return -1;
    }
    json_object_set_new(o, "type", json_string(c->path.object_type));
    for (size_t i = 0; i < c->path.nsteps; i++) {
        const kz_pat_step *s = &c->path.steps[i];
        json_array_append_new(path, s->kind == KZ_STEP_KEY     ? json_string(s->key)
                                    : s->kind == KZ_STEP_INDEX ? json_integer(s->index)
                                                               : json_string("*"));
    }
    json_object_set_new(o, "path", path);
    kz_buf b;
    kz_buf_init(&b);
    if (c->negated)
        kz_buf_puts(&b, "NOT ");
    kz_buf_puts(&b, kz_pattern_op_name(c->op));
    json_object_set_new(o, "operator", json_string(b.data));
    if (c->op != KZ_CMP_EXISTS) {
        json_object_set_new(o, "value", lit_value(&c->lit));
        json_object_set_new(o, "kind", json_string(kz_pattern_lit_kind_name(c->lit.kind)));
        kz_buf_reset(&b);
        kz_pattern_print_lit(&c->lit, &b);
        json_object_set_new(o, "text", json_string(b.data ? b.data : ""));
    }
    bool oom = b.oom;
    kz_buf_free(&b);
    if (oom || json_array_append_new(arr, o) < 0)
        return -1;
    return 0;
}

/* Insert s into a sorted array of distinct strings. */
static int add_sorted(json_t *arr, const char *s)
{
    size_t n = json_array_size(arr), i = 0;
    for (; i < n; i++) {
        int c = strcmp(json_string_value(json_array_get(arr, i)), s);
        if (c == 0)
            return 0;
        if (c > 0)
            break;
    }
    return json_array_insert_new(arr, i, json_string(s));
}

static void time_text(const char *text, int version, kz_buf *b)
{
    if (version >= 21) {
        kz_buf_puts(b, "t'");
        kz_buf_puts(b, text);
        kz_buf_putc(b, '\'');
    } else {
        parse_print_string(text, strlen(text), b);
    }
}

static int walk(const kz_pat_obs *o, int version, json_t *cmps, json_t *quals, json_t *ops)
{
    kz_buf b;
    int rc = 0;
    switch (o->kind) {
    case KZ_OE_OBS: return add_cmp(cmps, o->cmp);
    case KZ_OE_AND:
    case KZ_OE_OR:
    case KZ_OE_FOLLOWEDBY:
        if (walk(o->left, version, cmps, quals, ops) < 0 ||
            walk(o->right, version, cmps, quals, ops) < 0)
            return -1;
        return add_sorted(ops, o->kind == KZ_OE_AND  ? "AND"
                               : o->kind == KZ_OE_OR ? "OR"
                                                     : "FOLLOWEDBY");
    default: break;
    }
    if (walk(o->left, version, cmps, quals, ops) < 0)
        return -1;
    kz_buf_init(&b);
    if (o->kind == KZ_OE_WITHIN) {
        kz_buf_puts(&b, "WITHIN ");
        parse_format_seconds(o->within_seconds, &b);
        kz_buf_puts(&b, " SECONDS");
    } else if (o->kind == KZ_OE_REPEATS) {
        kz_buf_printf(&b, "REPEATS %lld TIMES", (long long)o->repeats);
    } else {
        kz_buf_puts(&b, "START ");
        time_text(o->start_text, version, &b);
        kz_buf_puts(&b, " STOP ");
        time_text(o->stop_text, version, &b);
    }
    rc = b.oom ? -1 : add_sorted(quals, b.data);
    kz_buf_free(&b);
    return rc;
}

json_t *kz_pattern_inspect(const kz_pattern *p)
{
    if (!p || !p->root)
        return NULL;
    json_t *cmps = json_array(), *quals = json_array(), *ops = json_array();
    json_t *root = json_object();
    if (!cmps || !quals || !ops || !root ||
        walk(p->root, p->version, cmps, quals, ops) < 0) {
        json_decref(cmps);
        json_decref(quals);
        json_decref(ops);
        json_decref(root);
        return NULL;
    }
    json_object_set_new(root, "stix_version", json_string(p->version >= 21 ? "2.1" : "2.0"));
    json_object_set_new(root, "comparisons", cmps);
    json_object_set_new(root, "qualifiers", quals);
    json_object_set_new(root, "observation_ops", ops);
    return root;
}
