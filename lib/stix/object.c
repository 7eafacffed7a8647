/*
 * Validation of one STIX object: picks the version and the rule set for its type, applies
 * the common properties of its category (SDO/SRO, SCO, or the meta object's own set) and the
 * type's table, then the cross-property rules.
 *
 * Invariant: every problem is reported as a diagnostic on the object's id with a JSON pointer;
 * the function never stops early, so one run lists all of an object's problems.
 * Custom object types (not defined by the version in force) are checked for their name, id
 * and the common properties they carry; their other properties pass as custom content.
 */
#include "rules.h"
#include "values.h"

#include <kizuna/pattern.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const identity_t[] = {"identity", NULL};
static const char *const marking_t[] = {"marking-definition", NULL};

static void check_spec_version(kz_vctx *c, const json_t *v)
{
    const char *s = json_string_value(v);
    if (c->ver == KZ_STIX_21 && strcmp(s, "2.1") != 0)
        kz_v_error(c, "spec_version must be \"2.1\" for STIX 2.1 content (got \"%s\")", s);
    if (c->ver == KZ_STIX_20)
        kz_v_error(c, "STIX 2.0 objects have no spec_version (it belongs on the bundle)");
}

static void check_own_id(kz_vctx *c, const json_t *v)
{
    const char *type = json_string_value(json_object_get(c->obj, "type"));
    char err[300];
    if (!kz_stix_id_valid(json_string_value(v), type, err, sizeof err))
        kz_v_error(c, "%s", err);
}

/* 2.1: created and modified must be at least millisecond precision. */
static void check_ms(kz_vctx *c, const json_t *v)
{
    kz_time t;
    if (c->ver == KZ_STIX_21 && kz_time_parse(json_string_value(v), &t, NULL, 0) == 0 &&
        t.frac_digits < 3)
        kz_v_error(c, "must be precise to at least milliseconds (three fractional digits)");
}

#define END                                                                                        \
    {                                                                                              \
        NULL, 0, 0, NULL, NULL, 0, 0                                                               \
    }

static const kz_prop_rule common_sdo[] = {
    {"type", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"spec_version", KZ_P_STRING, KZ_F_REQ_21, NULL, check_spec_version, 0, 0},
    {"id", KZ_P_STRING, KZ_F_REQUIRED, NULL, check_own_id, 0, 0},
    {"created_by_ref", KZ_P_REF, 0, identity_t, NULL, 0, 0},
    {"created", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, check_ms, 0, 0},
    {"modified", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, check_ms, 0, 0},
    {"revoked", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"labels", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"confidence", KZ_P_INTEGER, KZ_F_ONLY_21 | KZ_F_RANGE, NULL, NULL, 0, 100},
    {"lang", KZ_P_STRING, KZ_F_ONLY_21 | KZ_F_NONEMPTY, NULL, NULL, 0, 0},
    {"external_references", KZ_P_EXTREF_LIST, 0, NULL, NULL, 0, 0},
    {"object_marking_refs", KZ_P_REF_LIST, 0, marking_t, NULL, 0, 0},
    {"granular_markings", KZ_P_GRANULAR_LIST, 0, NULL, NULL, 0, 0},
    {"extensions", KZ_P_EXTENSIONS, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    END,
};

static const kz_prop_rule common_sco[] = {
    {"type", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"id", KZ_P_STRING, KZ_F_REQ_21, NULL, check_own_id, 0, 0},
    {"spec_version", KZ_P_STRING, KZ_F_ONLY_21, NULL, check_spec_version, 0, 0},
    {"object_marking_refs", KZ_P_REF_LIST, KZ_F_ONLY_21, marking_t, NULL, 0, 0},
    {"granular_markings", KZ_P_GRANULAR_LIST, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"defanged", KZ_P_BOOLEAN, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"extensions", KZ_P_EXTENSIONS, 0, NULL, NULL, 0, 0},
    END,
};

/* SCOs embedded in an observed-data `objects` dictionary are named by their key, not an id. */
static const kz_prop_rule common_sco_embedded[] = {
    {"type", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"id", KZ_P_STRING, 0, NULL, check_own_id, 0, 0},
    {"spec_version", KZ_P_STRING, KZ_F_ONLY_21, NULL, check_spec_version, 0, 0},
    {"object_marking_refs", KZ_P_REF_LIST, KZ_F_ONLY_21, marking_t, NULL, 0, 0},
    {"granular_markings", KZ_P_GRANULAR_LIST, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"defanged", KZ_P_BOOLEAN, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"extensions", KZ_P_EXTENSIONS, 0, NULL, NULL, 0, 0},
    END,
};

static const kz_prop_rule common_marking[] = {
    {"type", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"spec_version", KZ_P_STRING, KZ_F_REQ_21, NULL, check_spec_version, 0, 0},
    {"id", KZ_P_STRING, KZ_F_REQUIRED, NULL, check_own_id, 0, 0},
    {"created_by_ref", KZ_P_REF, 0, identity_t, NULL, 0, 0},
    {"created", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, check_ms, 0, 0},
    {"external_references", KZ_P_EXTREF_LIST, 0, NULL, NULL, 0, 0},
    {"object_marking_refs", KZ_P_REF_LIST, 0, marking_t, NULL, 0, 0},
    {"granular_markings", KZ_P_GRANULAR_LIST, 0, NULL, NULL, 0, 0},
    {"extensions", KZ_P_EXTENSIONS, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    END,
};

static const kz_prop_rule common_extdef[] = {
    {"type", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"spec_version", KZ_P_STRING, KZ_F_REQ_21, NULL, check_spec_version, 0, 0},
    {"id", KZ_P_STRING, KZ_F_REQUIRED, NULL, check_own_id, 0, 0},
    {"created_by_ref", KZ_P_REF, KZ_F_REQUIRED, identity_t, NULL, 0, 0},
    {"created", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, check_ms, 0, 0},
    {"modified", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, check_ms, 0, 0},
    {"revoked", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"labels", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"external_references", KZ_P_EXTREF_LIST, 0, NULL, NULL, 0, 0},
    {"object_marking_refs", KZ_P_REF_LIST, 0, marking_t, NULL, 0, 0},
    {"granular_markings", KZ_P_GRANULAR_LIST, 0, NULL, NULL, 0, 0},
    END,
};

/* Custom objects: the common properties they happen to carry are checked, none required
 * beyond type and id. */
static const kz_prop_rule common_custom[] = {
    {"type", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"spec_version", KZ_P_STRING, 0, NULL, check_spec_version, 0, 0},
    {"id", KZ_P_STRING, KZ_F_REQUIRED, NULL, check_own_id, 0, 0},
    {"created_by_ref", KZ_P_REF, 0, identity_t, NULL, 0, 0},
    {"created", KZ_P_TIMESTAMP, 0, NULL, check_ms, 0, 0},
    {"modified", KZ_P_TIMESTAMP, 0, NULL, check_ms, 0, 0},
    {"revoked", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"labels", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"confidence", KZ_P_INTEGER, KZ_F_RANGE, NULL, NULL, 0, 100},
    {"external_references", KZ_P_EXTREF_LIST, 0, NULL, NULL, 0, 0},
    {"object_marking_refs", KZ_P_REF_LIST, 0, marking_t, NULL, 0, 0},
    {"granular_markings", KZ_P_GRANULAR_LIST, 0, NULL, NULL, 0, 0},
    {"extensions", KZ_P_EXTENSIONS, 0, NULL, NULL, 0, 0},
    END,
};

static const kz_type_rules *find_in(const kz_type_rules *t, const char *type)
{
    for (; t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}

const kz_type_rules *kz_rules_find(const char *type)
{
    const kz_type_rules *r;
    if ((r = find_in(kz_sdo_rules, type)) || (r = find_in(kz_sro_rules, type)) ||
        (r = find_in(kz_sco_rules, type)) || (r = find_in(kz_meta_rules, type)))
        return r;
    return NULL;
}

static const kz_type_rules *rules_for(const char *type, kz_stix_version v)
{
    const kz_type_rules *r = kz_rules_find(type);
    if (r && (r->flags & KZ_F_ONLY_21) && v == KZ_STIX_20)
        return NULL;
    return r;
}

kz_stix_category kz_stix_type_category(const char *type, kz_stix_version v)
{
    if (strcmp(type, "bundle") == 0)
        return KZ_STIX_BUNDLE;
    const kz_type_rules *r = rules_for(type, v == KZ_STIX_AUTO ? KZ_STIX_21 : v);
    return r ? r->cat : KZ_STIX_CUSTOM;
}

kz_stix_version kz_stix_object_version(const json_t *obj, kz_stix_version context)
{
    const char *sv = json_string_value(json_object_get(obj, "spec_version"));
    if (sv && strcmp(sv, "2.1") == 0)
        return KZ_STIX_21;
    if (sv && strcmp(sv, "2.0") == 0)
        return KZ_STIX_20;
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type && context == KZ_STIX_21 && kz_stix_type_category(type, KZ_STIX_21) == KZ_STIX_SCO)
        return KZ_STIX_21;
    if (sv)
        return KZ_STIX_21; /* an unknown spec_version is reported against 2.1 rules */
    return KZ_STIX_20;
}

static bool valid_type_name(const char *t)
{
    size_t n = strlen(t);
    if (n < 3 || n > 250)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)t[i]) || isdigit((unsigned char)t[i]) || t[i] == '-'))
            return false;
    return !strstr(t, "--");
}

/* A new object type defined through an extension-definition: which category it claims. */
static const kz_prop_rule *extension_defined_common(const json_t *obj)
{
    const json_t *exts = json_object_get(obj, "extensions");
    const char *key;
    const json_t *ext;
    if (!json_is_object(exts))
        return NULL;
    json_object_foreach((json_t *)exts, key, ext)
    {
        const char *et = json_string_value(json_object_get(ext, "extension_type"));
        if (!et)
            continue;
        if (strcmp(et, "new-sdo") == 0 || strcmp(et, "new-sro") == 0)
            return common_sdo;
        if (strcmp(et, "new-sco") == 0)
            return common_sco;
    }
    return NULL;
}

static bool uses_toplevel_extension(const json_t *obj)
{
    const json_t *exts = json_object_get(obj, "extensions");
    const char *key;
    const json_t *ext;
    if (!json_is_object(exts))
        return false;
    json_object_foreach((json_t *)exts, key, ext)
    {
        const char *et = json_string_value(json_object_get(ext, "extension_type"));
        if (et && strcmp(et, "toplevel-property-extension") == 0)
            return true;
    }
    return false;
}

/* Rules every versioned object shares: modified >= created. */
static void check_created_modified(kz_vctx *c, const json_t *obj)
{
    kz_time cr, mo;
    if (kz_get_time(obj, "created", &cr) && kz_get_time(obj, "modified", &mo) &&
        kz_time_cmp(&mo, &cr) < 0)
        kz_v_error_at(c, "modified", "modified (%s) must not be earlier than created (%s)",
                      json_string_value(json_object_get(obj, "modified")),
                      json_string_value(json_object_get(obj, "created")));
}

static void check_marking_refs_not_self(kz_vctx *c, const json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const json_t *refs = json_object_get(obj, "object_marking_refs");
    size_t i;
    const json_t *r;
    if (!id || !json_is_array(refs))
        return;
    json_array_foreach(refs, i, r)
    {
        if (json_is_string(r) && strcmp(json_string_value(r), id) == 0) {
            kz_ptr_push_key(&c->ptr, "object_marking_refs");
            kz_ptr_push_index(&c->ptr, i);
            kz_v_error(c, "a marking definition must not mark itself");
            kz_ptr_pop(&c->ptr);
            kz_ptr_pop(&c->ptr);
        }
    }
}

static void validate_in(kz_vctx *c, const json_t *obj)
{
    const json_t *tv = json_object_get(obj, "type");
    if (!tv) {
        kz_v_error_at(c, "type", "required property 'type' is missing");
        return;
    }
    if (!json_is_string(tv)) {
        kz_v_error_at(c, "type", "type must be a string");
        return;
    }
    const char *type = json_string_value(tv);
    if (strcmp(type, "bundle") == 0) {
        kz_v_error_at(c, "type", "a bundle cannot appear inside another bundle or as an object");
        return;
    }
    c->has_toplevel_ext = uses_toplevel_extension(obj);
    const kz_type_rules *r = rules_for(type, c->ver);
    const kz_prop_rule *tables[2] = {NULL, NULL};
    size_t nt = 0;
    if (r) {
        if (r->cat == KZ_STIX_SCO)
            tables[nt++] = c->scope ? common_sco_embedded : common_sco;
        else if (r->cat == KZ_STIX_META && strcmp(type, "marking-definition") == 0)
            tables[nt++] = common_marking;
        else if (r->cat == KZ_STIX_META && strcmp(type, "extension-definition") == 0)
            tables[nt++] = common_extdef;
        else
            tables[nt++] = common_sdo;
        tables[nt++] = r->props;
        kz_check_props_multi(c, obj, tables, nt, true);
        if (r->cat != KZ_STIX_SCO)
            check_created_modified(c, obj);
        if (strcmp(type, "marking-definition") == 0)
            check_marking_refs_not_self(c, obj);
        if (r->check)
            r->check(c, obj);
        return;
    }
    /* A type this version does not define. */
    if (!valid_type_name(type)) {
        kz_v_error_at(c, "type",
                      "'%s' is not a STIX %s type, and a custom type name must be 3-250 "
                      "characters of a-z 0-9 and single hyphens",
                      type, c->ver == KZ_STIX_20 ? "2.0" : "2.1");
        return;
    }
    const kz_prop_rule *common = extension_defined_common(obj);
    if (!common) {
        common = common_custom;
        if (strncmp(type, "x-", 2) != 0)
            kz_v_warn_at(c, "type", "custom object type '%s' should start with 'x-'", type);
    }
    c->has_toplevel_ext = true; /* a custom object's own properties need no x_ prefix */
    tables[nt++] = common;
    kz_check_props_multi(c, obj, tables, nt, true);
    check_created_modified(c, obj);
}

size_t kz_stix_validate_object(const json_t *obj, const kz_stix_opts *opts, kz_diags *d)
{
    static const kz_stix_opts defaults = {.version = KZ_STIX_AUTO, .check_sco_ids = true};
    if (!opts)
        opts = &defaults;
    kz_vctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.opts = opts;
    c.obj = obj;
    kz_ptr_init(&c.ptr);
    if (!json_is_object(obj)) {
        kz_diags_add(d, KZ_SEV_ERROR, NULL, "", "a STIX object must be a JSON object");
        return 1;
    }
    c.id = json_string_value(json_object_get(obj, "id"));
    /* A forced version checks the object by that version's rules; a spec_version that
     * disagrees is then reported by check_spec_version. */
    c.ver =
        opts->version != KZ_STIX_AUTO ? opts->version : kz_stix_object_version(obj, KZ_STIX_AUTO);
    validate_in(&c, obj);
    if (opts->interop && c.ver == KZ_STIX_21)
        kz_check_interop(&c, obj);
    if (opts->check_sco_ids && c.ver == KZ_STIX_21) {
        const char *type = json_string_value(json_object_get(obj, "type"));
        if (type && c.id && kz_stix_type_category(type, KZ_STIX_21) == KZ_STIX_SCO) {
            char want[300];
            if (kz_stix_sco_id(obj, want, sizeof want) == 0 && strcmp(want, c.id) != 0)
                kz_v_warn_at(&c, "id",
                             "id is not the deterministic SCO id %s computed from the "
                             "ID-contributing properties",
                             want);
        }
    }
    return c.errors;
}

void kz_check_embedded_sco(kz_vctx *c, const json_t *sco, const json_t *scope)
{
    if (!json_is_object(sco)) {
        kz_v_error(c, "an observable must be an object");
        return;
    }
    kz_vctx sub = *c;
    sub.obj = sco;
    sub.scope = scope;
    sub.errors = 0;
    const char *type = json_string_value(json_object_get(sco, "type"));
    const kz_type_rules *r = type ? rules_for(type, c->ver) : NULL;
    if (type && r && r->cat != KZ_STIX_SCO) {
        kz_v_error_at(&sub, "type", "'%s' is not a cyber-observable type", type);
    } else if (r) {
        const kz_prop_rule *tables[2] = {common_sco_embedded, r->props};
        kz_check_props_multi(&sub, sco, tables, 2, true);
        if (r->check)
            r->check(&sub, sco);
    } else {
        validate_in(&sub, sco);
    }
    c->errors += sub.errors;
    c->ptr = sub.ptr;
}

static void check_bundle_objects(kz_vctx *c, const json_t *v)
{
    if (!json_is_array(v))
        kz_v_error(c, "objects must be a list");
    else if (json_array_size(v) == 0)
        kz_v_warn(c, "the bundle holds no objects");
}

/* The version a bundle's objects default to: a 2.0 bundle says so in spec_version. */
static kz_stix_version bundle_version(const json_t *bundle, const kz_stix_opts *opts)
{
    const char *sv = json_string_value(json_object_get(bundle, "spec_version"));
    return opts->version != KZ_STIX_AUTO    ? opts->version
           : (sv && strcmp(sv, "2.0") == 0) ? KZ_STIX_20
                                            : KZ_STIX_21;
}

size_t kz_stix_validate_bundle_envelope(const json_t *bundle, const kz_stix_opts *opts, kz_diags *d)
{
    static const kz_stix_opts defaults = {.version = KZ_STIX_AUTO, .check_sco_ids = true};
    if (!opts)
        opts = &defaults;
    kz_vctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.opts = opts;
    c.obj = bundle;
    kz_ptr_init(&c.ptr);
    c.id = json_string_value(json_object_get(bundle, "id"));
    const char *sv = json_string_value(json_object_get(bundle, "spec_version"));
    c.ver = bundle_version(bundle, opts);
    static const kz_prop_rule bundle_props[] = {
        {"type", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
        {"id", KZ_P_STRING, KZ_F_REQUIRED, NULL, check_own_id, 0, 0},
        {"spec_version", KZ_P_STRING, KZ_F_REQ_20 | KZ_F_ONLY_20, NULL, NULL, 0, 0},
        {"objects", KZ_P_ANY, 0, NULL, check_bundle_objects, 0, 0},
        END,
    };
    kz_check_props(&c, bundle, bundle_props, true);
    if (sv && c.ver == KZ_STIX_20 && strcmp(sv, "2.0") != 0)
        kz_v_error_at(&c, "spec_version", "a STIX 2.0 bundle must have spec_version \"2.0\"");
    if (sv && c.ver == KZ_STIX_21)
        kz_v_error_at(&c, "spec_version",
                      "STIX 2.1 bundles have no spec_version (each object carries its own)");
    return c.errors;
}

size_t kz_stix_validate_bundle(const json_t *bundle, const kz_stix_opts *opts, kz_diags *d)
{
    static const kz_stix_opts defaults = {.version = KZ_STIX_AUTO, .check_sco_ids = true};
    if (!opts)
        opts = &defaults;
    size_t errors = kz_stix_validate_bundle_envelope(bundle, opts, d);
    const json_t *objs = json_object_get(bundle, "objects");
    if (!json_is_array(objs))
        return errors;
    kz_stix_opts sub = *opts;
    if (bundle_version(bundle, opts) == KZ_STIX_20 && sub.version == KZ_STIX_AUTO)
        sub.version = KZ_STIX_20;
    size_t i;
    const json_t *o;
    json_array_foreach(objs, i, o)
    {
        kz_stix_opts one = sub;
        if (one.version == KZ_STIX_AUTO && json_is_object(o))
            one.version = kz_stix_object_version(o, KZ_STIX_21);
        errors += kz_stix_validate_object(o, &one, d);
    }
    return errors;
}

void kz_check_stix_pattern(kz_vctx *c, const json_t *pattern, kz_stix_version v)
{
    if (!json_is_string(pattern) || json_string_length(pattern) == 0) {
        kz_v_error(c, "pattern must be a non-empty string");
        return;
    }
    int line = 0, col = 0;
    char msg[256];
    kz_pattern *p = kz_pattern_parse(json_string_value(pattern), v == KZ_STIX_20 ? 20 : 21, &line,
                                     &col, msg, sizeof msg);
    if (!p) {
        kz_v_error(c, "%d:%d: %s", line, col, msg);
        return;
    }
    kz_pattern_free(p);
}

char *kz_stix_serialize(const json_t *obj, bool canonical)
{
    if (!canonical)
        return json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    kz_buf b;
    kz_buf_init(&b);
    if (kz_json_canonical(obj, &b) < 0) {
        kz_buf_free(&b);
        return NULL;
    }
    return kz_buf_take(&b);
}
