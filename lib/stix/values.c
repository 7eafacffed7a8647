/*
 * Checks for STIX's structured value types: timestamps, identifiers and references, hashes,
 * dictionaries, kill-chain phases, external references, granular markings, extensions and
 * custom property names (STIX 2.1 sections 2, 3 and 11).
 *
 * References are checked for form and target type only; whether the target exists is a
 * bundle- or store-level question. Granular-marking selectors, by contrast, are resolved
 * against the object itself, because the spec requires that they point at something there.
 */
#include "values.h"
#include "vocab.h"
#include "vocab_sco.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kz_check_timestamp(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v)) {
        kz_v_error(c, "must be an RFC 3339 timestamp string");
        return;
    }
    kz_time t;
    char err[160];
    if (kz_time_parse(json_string_value(v), &t, err, sizeof err) < 0)
        kz_v_error(c, "invalid timestamp '%s': %s", json_string_value(v), err);
}

bool kz_stix_id_valid(const char *id, const char *expected_type, char *err, size_t errlen)
{
    const char *sep = strstr(id, "--");
    if (!sep) {
        snprintf(err, errlen, "'%s' is not an identifier (expected type--UUID)", id);
        return false;
    }
    size_t tlen = (size_t)(sep - id);
    if (tlen == 0) {
        snprintf(err, errlen, "'%s' has no object type before '--'", id);
        return false;
    }
    for (size_t i = 0; i < tlen; i++)
        if (!(islower((unsigned char)id[i]) || isdigit((unsigned char)id[i]) || id[i] == '-')) {
            snprintf(err, errlen, "'%s': the type part may only hold a-z, 0-9 and '-'", id);
            return false;
        }
    kz_uuid u;
    if (kz_uuid_parse(sep + 2, &u) < 0) {
        snprintf(err, errlen, "'%s': '%s' is not a UUID", id, sep + 2);
        return false;
    }
    if (!kz_uuid_rfc4122_variant(&u) || kz_uuid_version(&u) < 1 || kz_uuid_version(&u) > 5) {
        snprintf(err, errlen, "'%s': the UUID is not an RFC 4122 UUID (version 1-5)", id);
        return false;
    }
    if (expected_type && (strlen(expected_type) != tlen || strncmp(id, expected_type, tlen) != 0)) {
        snprintf(err, errlen, "'%s' must be an identifier of type '%s'", id, expected_type);
        return false;
    }
    return true;
}

bool kz_check_ref(kz_vctx *c, const json_t *v, const char *const *types)
{
    if (!json_is_string(v)) {
        kz_v_error(c, "must be an identifier string");
        return false;
    }
    const char *s = json_string_value(v);
    if (c->scope) {
        /* STIX 2.0 embedded observables: references are keys of the objects dictionary. */
        const json_t *target = json_object_get(c->scope, s);
        if (!target) {
            kz_v_error(c, "'%s' does not name an object in this observed-data", s);
            return false;
        }
        const char *tt = json_string_value(json_object_get(target, "type"));
        if (types && tt && !kz_str_in(tt, types)) {
            kz_v_error(c, "'%s' refers to a %s object, which is not allowed here", s, tt);
            return false;
        }
        return true;
    }
    char err[300];
    if (!kz_stix_id_valid(s, NULL, err, sizeof err)) {
        kz_v_error(c, "%s", err);
        return false;
    }
    if (types) {
        size_t tlen = (size_t)(strstr(s, "--") - s);
        char tname[256];
        if (tlen >= sizeof tname)
            tlen = sizeof tname - 1;
        memcpy(tname, s, tlen);
        tname[tlen] = '\0';
        bool ok = kz_str_in(tname, types);
        /* Pseudo-types in allowed lists: "<sdo>", "<sco>", "<sro>" stand for categories. */
        if (!ok) {
            kz_stix_category cat = kz_stix_type_category(tname, c->ver);
            const char *pseudo = cat == KZ_STIX_SDO      ? "<sdo>"
                                 : cat == KZ_STIX_SCO    ? "<sco>"
                                 : cat == KZ_STIX_SRO    ? "<sro>"
                                 : cat == KZ_STIX_CUSTOM ? "<custom>"
                                                         : NULL;
            ok = pseudo && kz_str_in(pseudo, types);
        }
        if (!ok) {
            char allowed[300] = "";
            size_t o = 0;
            for (int i = 0; types[i] && o + 40 < sizeof allowed; i++)
                o += (size_t)snprintf(allowed + o, sizeof allowed - o, "%s%s", i ? ", " : "",
                                      types[i]);
            kz_v_error(c, "'%s' refers to a %s, but only %s may be referenced here", s, tname,
                       allowed);
            return false;
        }
    }
    return true;
}

bool kz_is_hex(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return false;
    return n % 2 == 0;
}

bool kz_is_base64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    if (n % 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '=') {
            pad++;
            if (i < n - 2)
                return false;
        } else if (pad || !(isalnum(ch) || ch == '+' || ch == '/')) {
            return false;
        }
    }
    return pad <= 2;
}

void kz_check_hashes(kz_vctx *c, const json_t *v)
{
    if (!json_is_object(v)) {
        kz_v_error(c, "hashes must be an object (algorithm → value)");
        return;
    }
    if (json_object_size(v) == 0) {
        kz_v_error(c, "hashes must not be empty (omit the property instead)");
        return;
    }
    const char *algo;
    const json_t *h;
    json_object_foreach((json_t *)v, algo, h)
    {
        kz_ptr_push_key(&c->ptr, algo);
        size_t n = strlen(algo);
        bool name_ok = n >= 3 && n <= 250;
        for (size_t i = 0; name_ok && i < n; i++)
            if (!(isalnum((unsigned char)algo[i]) || algo[i] == '-' || algo[i] == '_'))
                name_ok = false;
        if (!name_ok)
            kz_v_error(c, "hash algorithm name '%s' must be 3-250 characters of a-z A-Z 0-9 - _",
                       algo);
        if (!json_is_string(h)) {
            kz_v_error(c, "a hash value must be a string");
        } else {
            const char *problem =
                kz_stix_hash_problem(algo, json_string_value(h), json_string_length(h));
            if (problem)
                kz_v_error(c, "%s", problem);
            else if (!kz_str_in(algo, kz_vocab_hash_algorithm)) {
                /* A loosely written known name ("sha256") is a custom key to the spec, and
                 * its value goes unchecked: say which name was probably meant. */
                const char *meant = kz_stix_hash_algorithm(algo);
                if (meant && kz_str_in(meant, kz_vocab_hash_algorithm))
                    kz_v_warn(c,
                              "'%s' is not in hash-algorithm-ov; did you mean '%s'? "
                              "(names are case-sensitive)",
                              algo, meant);
            }
        }
        kz_ptr_pop(&c->ptr);
    }
}

void kz_check_dict(kz_vctx *c, const json_t *v)
{
    if (!json_is_object(v)) {
        kz_v_error(c, "must be a dictionary (JSON object)");
        return;
    }
    if (json_object_size(v) == 0) {
        kz_v_error(c, "dictionaries must not be empty (omit the property instead)");
        return;
    }
    const char *key;
    const json_t *e;
    json_object_foreach((json_t *)v, key, e)
    {
        size_t n = strlen(key);
        bool ok = n <= 250;
        for (size_t i = 0; ok && i < n; i++)
            if (!(isalnum((unsigned char)key[i]) || key[i] == '-' || key[i] == '_') ||
                (unsigned char)key[i] > 127)
                ok = false;
        if (!ok && c->ver == KZ_STIX_21)
            kz_v_error_at(c, key,
                          "dictionary key '%s' must be at most 250 ASCII characters of "
                          "a-z A-Z 0-9 - _",
                          key);
        if (json_is_null(e))
            kz_v_error_at(c, key, "dictionary values must not be null");
    }
}

void kz_check_kill_chain_phases(kz_vctx *c, const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0) {
        kz_v_error(c, "must be a non-empty list of kill-chain phases");
        return;
    }
    static const kz_prop_rule kcp[] = {
        {"kill_chain_name", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_NONEMPTY, NULL, NULL, 0, 0},
        {"phase_name", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_NONEMPTY, NULL, NULL, 0, 0},
        {NULL, 0, 0, NULL, NULL, 0, 0},
    };
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        kz_ptr_push_index(&c->ptr, i);
        if (!json_is_object(e)) {
            kz_v_error(c, "a kill-chain phase must be an object");
        } else {
            kz_check_props(c, e, kcp, true);
            const char *names[2] = {"kill_chain_name", "phase_name"};
            for (int k = 0; k < 2; k++) {
                const char *s = json_string_value(json_object_get(e, names[k]));
                for (const char *p = s; p && *p; p++)
                    if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')) {
                        kz_v_warn_at(c, names[k], "'%s' should be lowercase with hyphens", s);
                        break;
                    }
            }
        }
        kz_ptr_pop(&c->ptr);
    }
}

static void check_extref(kz_vctx *c, const json_t *e)
{
    static const kz_prop_rule er[] = {
        {"source_name", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_NONEMPTY, NULL, NULL, 0, 0},
        {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
        {"url", KZ_P_STRING, 0, NULL, NULL, 0, 0},
        {"hashes", KZ_P_HASHES, 0, NULL, NULL, 0, 0},
        {"external_id", KZ_P_STRING, 0, NULL, NULL, 0, 0},
        {NULL, 0, 0, NULL, NULL, 0, 0},
    };
    if (!json_is_object(e)) {
        kz_v_error(c, "an external reference must be an object");
        return;
    }
    kz_check_props(c, e, er, true);
    if (c->ver == KZ_STIX_21 && !json_object_get(e, "description") && !json_object_get(e, "url") &&
        !json_object_get(e, "external_id"))
        kz_v_error(c, "an external reference must have at least one of description, url or "
                      "external_id");
    const char *src = json_string_value(json_object_get(e, "source_name"));
    const char *xid = json_string_value(json_object_get(e, "external_id"));
    if (src && strcmp(src, "cve") == 0) {
        bool ok = xid && strncmp(xid, "CVE-", 4) == 0 && strlen(xid) >= 13;
        for (size_t i = 4; ok && xid[i]; i++)
            if (!(isdigit((unsigned char)xid[i]) || (i == 8 && xid[i] == '-')))
                ok = false;
        if (!ok)
            kz_v_error_at(c, "external_id",
                          "a 'cve' reference must have external_id CVE-YYYY-NNNN (got %s)",
                          xid ? xid : "none");
    }
    if (src && strcmp(src, "capec") == 0) {
        bool ok = xid && strncmp(xid, "CAPEC-", 6) == 0 && xid[6];
        for (size_t i = 6; ok && xid[i]; i++)
            if (!isdigit((unsigned char)xid[i]))
                ok = false;
        if (!ok)
            kz_v_error_at(c, "external_id",
                          "a 'capec' reference must have external_id CAPEC-<number> (got %s)",
                          xid ? xid : "none");
    }
    if (json_object_get(e, "url") && !json_object_get(e, "hashes") && c->ver == KZ_STIX_21)
        (void)0; /* SHOULD only; too common in real feeds to warn about on every reference */
}

void kz_check_external_references(kz_vctx *c, const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0) {
        kz_v_error(c, "must be a non-empty list of external references");
        return;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        kz_ptr_push_index(&c->ptr, i);
        check_extref(c, e);
        kz_ptr_pop(&c->ptr);
    }
}

/* Resolve a granular-marking selector ("description", "labels.[1]",
 * "external_references.[0].source_name") against the object. */
static bool selector_resolves(const json_t *obj, const char *sel)
{
    const json_t *cur = obj;
    const char *p = sel;
    if (!*p)
        return false;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0)
            return false;
        if (p[0] == '[' && p[n - 1] == ']') {
            if (!json_is_array(cur) || n < 3)
                return false;
            size_t idx = 0;
            for (size_t i = 1; i < n - 1; i++) {
                if (!isdigit((unsigned char)p[i]) || idx > 100000000)
                    return false;
                idx = idx * 10 + (size_t)(p[i] - '0');
            }
            cur = json_array_get(cur, idx);
        } else {
            if (!json_is_object(cur))
                return false;
            char key[256];
            if (n >= sizeof key)
                return false;
            memcpy(key, p, n);
            key[n] = '\0';
            cur = json_object_get(cur, key);
        }
        if (!cur)
            return false;
        p += n;
        if (*p == '.')
            p++;
    }
    return true;
}

void kz_check_granular_markings(kz_vctx *c, const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0) {
        kz_v_error(c, "must be a non-empty list of granular markings");
        return;
    }
    static const char *const marking_types[] = {"marking-definition", NULL};
    size_t i;
    const json_t *gm;
    json_array_foreach(v, i, gm)
    {
        kz_ptr_push_index(&c->ptr, i);
        if (!json_is_object(gm)) {
            kz_v_error(c, "a granular marking must be an object");
            kz_ptr_pop(&c->ptr);
            continue;
        }
        const json_t *mref = json_object_get(gm, "marking_ref");
        const json_t *lang = json_object_get(gm, "lang");
        const json_t *sels = json_object_get(gm, "selectors");
        if (c->ver == KZ_STIX_21 && !!mref == !!lang)
            kz_v_error(c, "a granular marking must have exactly one of marking_ref and lang");
        if (c->ver == KZ_STIX_20 && !mref)
            kz_v_error_at(c, "marking_ref", "required property 'marking_ref' is missing");
        if (mref) {
            kz_ptr_push_key(&c->ptr, "marking_ref");
            kz_check_ref(c, mref, marking_types);
            kz_ptr_pop(&c->ptr);
        }
        if (lang && !json_is_string(lang))
            kz_v_error_at(c, "lang", "must be a language tag string");
        if (!sels) {
            kz_v_error_at(c, "selectors", "required property 'selectors' is missing");
        } else if (!json_is_array(sels) || json_array_size(sels) == 0) {
            kz_v_error_at(c, "selectors", "must be a non-empty list of selectors");
        } else {
            size_t k;
            const json_t *s;
            kz_ptr_push_key(&c->ptr, "selectors");
            json_array_foreach(sels, k, s)
            {
                kz_ptr_push_index(&c->ptr, k);
                if (!json_is_string(s))
                    kz_v_error(c, "a selector must be a string");
                else if (!selector_resolves(c->obj, json_string_value(s)))
                    kz_v_error(c, "selector '%s' does not resolve to a property of this object",
                               json_string_value(s));
                kz_ptr_pop(&c->ptr);
            }
            kz_ptr_pop(&c->ptr);
        }
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *)gm, key, val)
        {
            if (strcmp(key, "marking_ref") != 0 && strcmp(key, "lang") != 0 &&
                strcmp(key, "selectors") != 0) {
                kz_ptr_push_key(&c->ptr, key);
                kz_check_custom_property_name(c, key, val);
                kz_ptr_pop(&c->ptr);
            }
        }
        kz_ptr_pop(&c->ptr);
    }
}

static const kz_ext_rules *find_ext(const char *name)
{
    for (const kz_ext_rules *e = kz_sco_ext_rules; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

void kz_check_extensions(kz_vctx *c, const json_t *v)
{
    if (!json_is_object(v)) {
        kz_v_error(c, "extensions must be a dictionary");
        return;
    }
    if (json_object_size(v) == 0) {
        kz_v_error(c, "extensions must not be empty (omit the property instead)");
        return;
    }
    const char *type = json_string_value(json_object_get(c->obj, "type"));
    const char *key;
    const json_t *ext;
    json_object_foreach((json_t *)v, key, ext)
    {
        kz_ptr_push_key(&c->ptr, key);
        if (!json_is_object(ext)) {
            kz_v_error(c, "an extension must be an object");
            kz_ptr_pop(&c->ptr);
            continue;
        }
        const json_t *et = json_object_get(ext, "extension_type");
        if (strncmp(key, "extension-definition--", 22) == 0) {
            char err[300];
            if (!kz_stix_id_valid(key, "extension-definition", err, sizeof err))
                kz_v_error(c, "%s", err);
            if (!et)
                kz_v_error(c, "an extension that uses an extension-definition must have "
                              "extension_type");
            else if (!json_is_string(et) ||
                     !kz_str_in(json_string_value(et), kz_vocab_extension_type_enum))
                kz_v_error_at(c, "extension_type",
                              "must be one of new-sdo, new-sco, new-sro, property-extension, "
                              "toplevel-property-extension");
            else if (strcmp(json_string_value(et), "toplevel-property-extension") == 0 &&
                     json_object_size(ext) > 1)
                kz_v_warn(c, "a toplevel-property-extension puts its properties at the top "
                             "level of the object, not inside the extension");
        } else {
            const kz_ext_rules *er = find_ext(key);
            if (er) {
                if (type && strcmp(er->sco_type, type) != 0)
                    kz_v_error(c, "'%s' is an extension of %s objects, not of %s", key,
                               er->sco_type, type);
                if (json_object_size(ext) == 0)
                    kz_v_error(c, "an extension must have at least one property");
                kz_check_props(c, ext, er->props, true);
                if (er->check)
                    er->check(c, ext);
            } else if (c->ver == KZ_STIX_21) {
                if (json_object_size(ext) == 0)
                    kz_v_error(c, "an extension must have at least one property");
                if (strlen(key) < 3 || strlen(key) > 250)
                    kz_v_error(c, "custom extension names must be 3-250 characters");
                kz_v_warn(c,
                          "'%s' is neither an extension-definition id nor a predefined "
                          "extension (custom extensions are deprecated in STIX 2.1)",
                          key);
            }
            if (et)
                kz_v_error_at(c, "extension_type",
                              "extension_type is only for extensions that reference an "
                              "extension-definition");
        }
        kz_ptr_pop(&c->ptr);
    }
}

void kz_check_custom_property_name(kz_vctx *c, const char *name, const json_t *v)
{
    static const char *const reserved[] = {"severity", "username", "phone_number", "action", NULL};
    size_t n = strlen(name);
    bool ok = n >= 3 && n <= 250;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!(islower(ch) || isdigit(ch) || ch == '_' || (c->ver == KZ_STIX_20 && isupper(ch))))
            ok = false;
    }
    if (!ok) {
        kz_v_error(c,
                   "'%s' is not a property of this object, and a custom property name must be "
                   "3-250 characters of a-z 0-9 _",
                   name);
        return;
    }
    if (c->ver == KZ_STIX_21 && kz_str_in(name, reserved)) {
        kz_v_error(c, "'%s' is reserved by STIX 2.1 and must not be used", name);
        return;
    }
    if (c->ver == KZ_STIX_21 && strncmp(name, "x_", 2) != 0 && !c->has_toplevel_ext)
        kz_v_warn(c, "custom property '%s' should start with 'x_'", name);
    if (n > 4 && strcmp(name + n - 4, "_hex") == 0 &&
        (!json_is_string(v) || !kz_is_hex(json_string_value(v))))
        kz_v_error(c, "a custom property ending in _hex must hold a hex string");
    if (n > 4 && strcmp(name + n - 4, "_bin") == 0 &&
        (!json_is_string(v) || !kz_is_base64(json_string_value(v))))
        kz_v_error(c, "a custom property ending in _bin must hold a base64 string");
}
