/*
 * The rule walker: checks a JSON object against a property table (rules.h).
 *
 * For each key of the object: a property in the table is checked by its kind (and its extra
 * check function); any other key is a custom property and is checked only for its name. Then
 * required properties are checked for presence. A property that the table defines for another
 * STIX version only (KZ_F_ONLY_21 read as 2.0) is treated like a custom property.
 * The walker never stops at the first problem: one pass reports everything it can see.
 */
#include "rules.h"
#include "values.h"

#include <stdio.h>
#include <string.h>

static void vdiag(kz_vctx *c, kz_severity sev, const char *key, const char *fmt, va_list ap)
{
    if (key)
        kz_ptr_push_key(&c->ptr, key);
    kz_diags_addv(c->d, sev, c->id, c->ptr.s, fmt, ap);
    if (key)
        kz_ptr_pop(&c->ptr);
    if (sev == KZ_SEV_ERROR)
        c->errors++;
}

void kz_v_error(kz_vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, KZ_SEV_ERROR, NULL, fmt, ap);
    va_end(ap);
}

void kz_v_warn(kz_vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, KZ_SEV_WARNING, NULL, fmt, ap);
    va_end(ap);
}

void kz_v_error_at(kz_vctx *c, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, KZ_SEV_ERROR, key, fmt, ap);
    va_end(ap);
}

void kz_v_warn_at(kz_vctx *c, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, KZ_SEV_WARNING, key, fmt, ap);
    va_end(ap);
}

bool kz_str_in(const char *s, const char *const *list)
{
    if (!list)
        return false;
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

bool kz_get_time(const json_t *obj, const char *key, kz_time *t)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) && kz_time_parse(json_string_value(v), t, NULL, 0) == 0;
}

/* Does the property exist in the version being checked? */
static bool prop_in_version(const kz_prop_rule *p, kz_stix_version v)
{
    if ((p->flags & KZ_F_ONLY_21) && v == KZ_STIX_20)
        return false;
    if ((p->flags & KZ_F_ONLY_20) && v == KZ_STIX_21)
        return false;
    return true;
}

static bool prop_required(const kz_prop_rule *p, kz_stix_version v)
{
    if (!prop_in_version(p, v))
        return false;
    if (p->flags & KZ_F_REQUIRED)
        return true;
    if ((p->flags & KZ_F_REQ_21) && v == KZ_STIX_21)
        return true;
    if ((p->flags & KZ_F_REQ_20) && v == KZ_STIX_20)
        return true;
    return false;
}

static const char *json_kind(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* Format a short list of allowed values for messages ("a, b, c, ..."). */
static void list_values(const char *const *values, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; values && values[i] && o + 8 < len; i++) {
        int n = snprintf(out + o, len - o, "%s%s", i ? ", " : "", values[i]);
        if (n < 0 || (size_t)n >= len - o) {
            snprintf(out + o, len - o, ", ...");
            break;
        }
        o += (size_t)n;
    }
}

static bool want_string(kz_vctx *c, const json_t *v, const char *what)
{
    if (json_is_string(v))
        return true;
    kz_v_error(c, "must be %s, not %s", what, json_kind(v));
    return false;
}

static void check_vocab_value(kz_vctx *c, const kz_prop_rule *p, const json_t *v, bool is_enum)
{
    if (!want_string(c, v, "a string"))
        return;
    const char *s = json_string_value(v);
    if (kz_str_in(s, p->values))
        return;
    char allowed[400];
    list_values(p->values, allowed, sizeof allowed);
    if (is_enum)
        kz_v_error(c, "'%s' is not an allowed value (one of: %s)", s, allowed);
    else
        kz_v_warn(c, "'%s' is not in the suggested vocabulary (%s)", s, allowed);
}

/* Every list property in STIX must be non-empty. Returns false (reported) when v is not a
 * usable list. */
static bool want_list(kz_vctx *c, const json_t *v)
{
    if (!json_is_array(v)) {
        kz_v_error(c, "must be a list, not %s", json_kind(v));
        return false;
    }
    if (json_array_size(v) == 0) {
        kz_v_error(c, "must not be an empty list (omit the property instead)");
        return false;
    }
    return true;
}

static void check_range(kz_vctx *c, const kz_prop_rule *p, double x)
{
    if ((p->flags & KZ_F_RANGE) && (x < p->min || x > p->max))
        kz_v_error(c, "value %g is outside the allowed range %g..%g", x, p->min, p->max);
}

static void check_value(kz_vctx *c, const kz_prop_rule *p, const json_t *v)
{
    size_t i, errors_before = c->errors;
    const json_t *e;
    switch (p->kind) {
    case KZ_P_STRING:
        if (want_string(c, v, "a string") && (p->flags & KZ_F_NONEMPTY) &&
            json_string_length(v) == 0)
            kz_v_error(c, "must not be empty");
        break;
    case KZ_P_STRING_LIST:
        if (!want_list(c, v))
            return;
        json_array_foreach(v, i, e)
        {
            kz_ptr_push_index(&c->ptr, i);
            want_string(c, e, "a string");
            kz_ptr_pop(&c->ptr);
        }
        break;
    case KZ_P_INTEGER:
        if (!json_is_integer(v)) {
            kz_v_error(c, "must be an integer, not %s", json_kind(v));
            return;
        }
        check_range(c, p, (double)json_integer_value(v));
        break;
    case KZ_P_FLOAT:
        if (!json_is_number(v)) {
            kz_v_error(c, "must be a number, not %s", json_kind(v));
            return;
        }
        check_range(c, p, json_number_value(v));
        break;
    case KZ_P_BOOLEAN:
        if (!json_is_boolean(v))
            kz_v_error(c, "must be true or false, not %s", json_kind(v));
        break;
    case KZ_P_TIMESTAMP:
        kz_check_timestamp(c, v);
        break;
    case KZ_P_REF:
        kz_check_ref(c, v, p->values);
        break;
    case KZ_P_REF_LIST:
        if (!want_list(c, v))
            return;
        json_array_foreach(v, i, e)
        {
            kz_ptr_push_index(&c->ptr, i);
            kz_check_ref(c, e, p->values);
            kz_ptr_pop(&c->ptr);
        }
        break;
    case KZ_P_OPEN_VOCAB:
    case KZ_P_ENUM:
        check_vocab_value(c, p, v, p->kind == KZ_P_ENUM);
        break;
    case KZ_P_OPEN_VOCAB_LIST:
    case KZ_P_ENUM_LIST:
        if (!want_list(c, v))
            return;
        json_array_foreach(v, i, e)
        {
            kz_ptr_push_index(&c->ptr, i);
            check_vocab_value(c, p, e, p->kind == KZ_P_ENUM_LIST);
            kz_ptr_pop(&c->ptr);
        }
        break;
    case KZ_P_HASHES:
        kz_check_hashes(c, v);
        break;
    case KZ_P_DICT:
        kz_check_dict(c, v);
        break;
    case KZ_P_KILL_CHAIN_LIST:
        kz_check_kill_chain_phases(c, v);
        break;
    case KZ_P_EXTREF_LIST:
        kz_check_external_references(c, v);
        break;
    case KZ_P_GRANULAR_LIST:
        kz_check_granular_markings(c, v);
        break;
    case KZ_P_EXTENSIONS:
        kz_check_extensions(c, v);
        break;
    case KZ_P_BINARY:
        if (want_string(c, v, "a base64 string") && !kz_is_base64(json_string_value(v)))
            kz_v_error(c, "is not valid base64 (RFC 4648, with padding)");
        break;
    case KZ_P_HEX:
        if (want_string(c, v, "a hex string") && !kz_is_hex(json_string_value(v)))
            kz_v_error(c, "is not a hex string (an even number of 0-9a-fA-F digits)");
        break;
    case KZ_P_OBJECT:
        if (!json_is_object(v)) {
            kz_v_error(c, "must be an object, not %s", json_kind(v));
            return;
        }
        break;
    case KZ_P_LIST:
        if (!want_list(c, v))
            return;
        if (p->check) {
            json_array_foreach(v, i, e)
            {
                kz_ptr_push_index(&c->ptr, i);
                p->check(c, e);
                kz_ptr_pop(&c->ptr);
            }
        }
        return; /* the check was per element */
    case KZ_P_ANY:
        break;
    }
    /* A type-specific check only sees values of the right kind. */
    if (p->check && c->errors == errors_before)
        p->check(c, v);
}

static const kz_prop_rule *find_prop(const kz_prop_rule *const *tables, size_t ntables,
                                     const char *name, kz_stix_version v)
{
    for (size_t t = 0; t < ntables; t++)
        for (const kz_prop_rule *p = tables[t]; p && p->name; p++)
            if (strcmp(p->name, name) == 0 && prop_in_version(p, v))
                return p;
    return NULL;
}

void kz_check_props_multi(kz_vctx *c, const json_t *obj, const kz_prop_rule *const *tables,
                          size_t ntables, bool allow_custom)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const kz_prop_rule *p = find_prop(tables, ntables, key, c->ver);
        kz_ptr_push_key(&c->ptr, key);
        if (p) {
            if (p->flags & KZ_F_DEPRECATED)
                kz_v_warn(c, "'%s' is deprecated in STIX 2.1", key);
            if (json_is_null(v))
                kz_v_error(c, "must not be null (omit an optional property instead)");
            else
                check_value(c, p, v);
        } else if (allow_custom) {
            kz_check_custom_property_name(c, key, v);
        } else {
            kz_v_error(c, "'%s' is not a property of this object", key);
        }
        kz_ptr_pop(&c->ptr);
    }
    for (size_t t = 0; t < ntables; t++)
        for (const kz_prop_rule *p = tables[t]; p && p->name; p++)
            if (prop_required(p, c->ver) && !json_object_get(obj, p->name))
                kz_v_error_at(c, p->name, "required property '%s' is missing", p->name);
}

void kz_check_props(kz_vctx *c, const json_t *obj, const kz_prop_rule *props, bool allow_custom)
{
    const kz_prop_rule *tables[1] = {props};
    kz_check_props_multi(c, obj, tables, 1, allow_custom);
}
