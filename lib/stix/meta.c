/*
 * The rule tables of the STIX meta objects (STIX 2.1 section 7): marking-definition (in both
 * versions), extension-definition and language-content (2.1 only).
 *
 * Invariants: a marking-definition is either a legacy one (definition_type + definition) or
 * an extension-based one (2.1); a marking that carries a standard TLP id must be exactly the
 * standard object (tlp.c), and no other marking may claim to be TLP, because the spec allows
 * no other TLP instances and a forged "TLP:CLEAR" would leak data. Only type-specific
 * properties are listed; the walker owns the common ones (including extension-definition's
 * required created_by_ref).
 *
 * Not here: whether a language-content's object_modified matches its target, or whether its
 * translated keys exist in the target (that needs the target object).
 */
#include "rules.h"
#include "vocab.h"

#include <ctype.h>
#include <string.h>

/* ---- marking-definition (7.2.1) --------------------------------------------------------- */

static const kz_prop_rule statement_props[] = {
    {"statement", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static const kz_prop_rule tlp_props[] = {
    {"tlp", KZ_P_ENUM, KZ_F_REQUIRED, kz_vocab_tlp_level, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* The marking object's shape depends on definition_type; other types are not ours to know. */
static void definition_body(kz_vctx *c, const json_t *def)
{
    const char *dt = json_string_value(json_object_get(c->obj, "definition_type"));
    if (!dt)
        return;
    if (strcmp(dt, "statement") == 0)
        kz_check_props(c, def, statement_props, false);
    else if (strcmp(dt, "tlp") == 0)
        kz_check_props(c, def, tlp_props, false);
}

static const kz_prop_rule marking_props[] = {
    {"name", KZ_P_STRING, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"definition_type", KZ_P_OPEN_VOCAB, KZ_F_REQ_20, kz_vocab_marking_definition_type, NULL, 0, 0},
    {"definition", KZ_P_OBJECT, KZ_F_REQ_20, NULL, definition_body, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* A marking with a standard TLP id: every member must equal the standard object's. */
static void standard_tlp(kz_vctx *c, const json_t *obj, const kz_tlp_marking *m)
{
    json_t *std = kz_tlp_standard_object(m->id, c->ver);
    if (!std) {
        kz_v_error_at(c, "id", "%s is the TLP 2.0 %s marking, which exists only in STIX 2.1", m->id,
                      m->name);
        return;
    }
    const char *key;
    const json_t *want;
    json_object_foreach(std, key, want)
    {
        const json_t *got = json_object_get(obj, key);
        /* Early python-stix2 2.1 releases wrote the TLP 1.0 markings without a name; the
         * level is still unambiguous, so that one omission is a warning. */
        if (!got && m->tlp_version == 1 && strcmp(key, "name") == 0)
            kz_v_warn_at(c, key, "the standard %s marking has name \"%s\"", m->name, m->name);
        else if (!got)
            kz_v_error_at(c, key, "the standard %s marking has '%s'; this copy lacks it", m->name,
                          key);
        else if (!json_equal((json_t *)got, (json_t *)want))
            kz_v_error_at(c, key, "differs from the standard %s marking definition", m->name);
    }
    const json_t *got;
    json_object_foreach((json_t *)obj, key, got)
    {
        if (!json_object_get(std, key))
            kz_v_error_at(c, key, "'%s' is not part of the standard %s marking definition", key,
                          m->name);
    }
    json_decref(std);
}

static void marking_check(kz_vctx *c, const json_t *obj)
{
    bool has_ext = c->ver == KZ_STIX_21 && json_object_get(obj, "extensions");
    bool has_dt = json_object_get(obj, "definition_type") != NULL;
    bool has_def = json_object_get(obj, "definition") != NULL;
    /* 2.1: without extensions, both legacy properties are required (2.0 requires them
     * always, which the table says). */
    if (c->ver == KZ_STIX_21 && !has_ext) {
        if (!has_dt)
            kz_v_error_at(c, "definition_type",
                          "'definition_type' is required when there are no extensions");
        if (!has_def)
            kz_v_error_at(c, "definition", "'definition' is required when there are no extensions");
    } else if (has_dt != has_def) {
        kz_v_error_at(c, has_dt ? "definition" : "definition_type",
                      "'definition_type' and 'definition' go together");
    }

    const char *id = json_string_value(json_object_get(obj, "id"));
    const kz_tlp_marking *m = kz_tlp_lookup(id);
    if (m) {
        standard_tlp(c, obj, m);
        return;
    }
    const char *dt = json_string_value(json_object_get(obj, "definition_type"));
    if (dt && strcmp(dt, "tlp") == 0)
        kz_v_error_at(c, "id",
                      "a TLP marking must be one of the four standard TLP marking definitions; "
                      "other TLP instances must not be created");
    const json_t *exts = json_object_get(obj, "extensions");
    if (json_is_object(exts) && json_object_get(exts, kz_tlp2_extension_id)) {
        kz_ptr_push_key(&c->ptr, "extensions");
        kz_v_error_at(c, kz_tlp2_extension_id,
                      "only the five standard TLP 2.0 marking definitions may use the TLP 2.0 "
                      "extension");
        kz_ptr_pop(&c->ptr);
    }
}

/* ---- extension-definition (7.3) --------------------------------------------------------- */

static const kz_prop_rule extension_definition_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"schema", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_NONEMPTY, NULL, NULL, 0, 0},
    {"version", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_NONEMPTY, NULL, NULL, 0, 0},
    {"extension_types", KZ_P_ENUM_LIST, KZ_F_REQUIRED, kz_vocab_extension_type_enum, NULL, 0, 0},
    {"extension_properties", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static bool list_has(const json_t *list, const char *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
            return true;
    }
    return false;
}

static void extension_definition_check(kz_vctx *c, const json_t *obj)
{
    const json_t *types = json_object_get(obj, "extension_types");
    if (!json_is_array(types))
        return;
    bool toplevel = list_has(types, "toplevel-property-extension");
    bool props = json_object_get(obj, "extension_properties") != NULL;
    if (props && !toplevel)
        kz_v_error_at(c, "extension_properties",
                      "'extension_properties' may only be used when extension_types includes "
                      "'toplevel-property-extension'");
    if (toplevel && !props)
        kz_v_warn_at(c, "extension_properties",
                     "a toplevel-property-extension should list its property names in "
                     "'extension_properties'");
}

/* ---- language-content (7.1) ------------------------------------------------------------- */

/* RFC 5646 tag syntax, loosely: alphanumeric subtags of 1-8 characters separated by '-',
 * the first alphabetic. Registry membership is not checked. */
static bool lang_tag(const char *s)
{
    size_t sub = 0;
    bool first = true;
    for (const char *p = s;; p++) {
        if (*p == '-' || *p == '\0') {
            if (sub == 0 || sub > 8)
                return false;
            if (!*p)
                return true;
            sub = 0;
            first = false;
        } else if (isalnum((unsigned char)*p) && (!first || isalpha((unsigned char)*p))) {
            sub++;
        } else {
            return false;
        }
    }
}

static void contents_check(kz_vctx *c, const json_t *contents)
{
    if (json_object_size(contents) == 0) {
        kz_v_error(c, "'contents' must hold at least one language");
        return;
    }
    const char *lang;
    const json_t *tr;
    json_object_foreach((json_t *)contents, lang, tr)
    {
        kz_ptr_push_key(&c->ptr, lang);
        if (!lang_tag(lang))
            kz_v_error(c, "'%s' is not an RFC 5646 language tag", lang);
        if (!json_is_object(tr))
            kz_v_error(c, "each language must map to an object of translated properties");
        else if (json_object_size(tr) == 0)
            kz_v_error(c, "the translation for '%s' is empty", lang);
        kz_ptr_pop(&c->ptr);
    }
}

/* 7.1: object_ref "MUST be the identifier for a STIX Object"; a bundle is a container. */
static void language_target(kz_vctx *c, const json_t *v)
{
    const char *s = json_string_value(v);
    if (s && strncmp(s, "bundle--", 8) == 0)
        kz_v_error(c, "a language-content cannot translate a bundle");
}

static const kz_prop_rule language_content_props[] = {
    {"object_ref", KZ_P_REF, KZ_F_REQUIRED, NULL, language_target, 0, 0},
    {"object_modified", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"contents", KZ_P_OBJECT, KZ_F_REQUIRED, NULL, contents_check, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

const kz_type_rules kz_meta_rules[] = {
    {"marking-definition", KZ_STIX_META, 0, marking_props, marking_check},
    {"extension-definition", KZ_STIX_META, KZ_F_ONLY_21, extension_definition_props,
     extension_definition_check},
    {"language-content", KZ_STIX_META, KZ_F_ONLY_21, language_content_props, NULL},
    {NULL, 0, 0, NULL, NULL},
};
