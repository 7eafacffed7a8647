/*
 * The rule tables of the two STIX Relationship Objects (STIX 2.1 section 5, and their
 * STIX 2.0 forms): relationship and sighting.
 *
 * Invariants: only type-specific properties are listed (the walker owns the common ones);
 * properties new in 2.1 are KZ_F_ONLY_21. Reference targets are checked by category, so a
 * custom object type is accepted wherever the spec says "an SDO" (custom objects are
 * SDO-like), while SROs, bundles and meta objects are refused.
 *
 * Not here: whether the relationship_type is one the spec defines for that source and
 * target (any lowercase name is allowed), or whether referenced objects exist.
 */
#include "rules.h"

#include <string.h>

/* The type part of a reference ("indicator" of "indicator--..."), or false when the value
 * is not an identifier at all (the walker has said so already). */
static bool ref_type(const json_t *v, char *out, size_t len)
{
    const char *s = json_string_value(v);
    const char *sep = s ? strstr(s, "--") : NULL;
    if (!sep || sep == s)
        return false;
    size_t n = (size_t)(sep - s);
    if (n >= len)
        n = len - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* ---- relationship (5.1) ------------------------------------------------------------------ */

static void relationship_type_chars(kz_vctx *c, const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return;
    if (!*s) {
        kz_v_error(c, "relationship_type must not be empty");
        return;
    }
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
            kz_v_error(c, "relationship_type '%s' may only hold a-z, 0-9 and '-'", s);
            return;
        }
}

/* 5.1: source_ref and target_ref "MUST be an ID reference to an SDO or SCO (i.e., it cannot
 * point to an SRO, Bundle, Language Content, or Marking Definition)". STIX 2.0 had no SCO
 * identifiers, so there only SDOs (and custom objects) qualify. */
static void endpoint(kz_vctx *c, const json_t *v)
{
    char type[256];
    if (!ref_type(v, type, sizeof type))
        return;
    kz_stix_category cat = kz_stix_type_category(type, c->ver);
    bool ok =
        cat == KZ_STIX_SDO || cat == KZ_STIX_CUSTOM || (cat == KZ_STIX_SCO && c->ver == KZ_STIX_21);
    if (!ok)
        kz_v_error(c, "a relationship cannot point to a %s object (only %s)", type,
                   c->ver == KZ_STIX_21 ? "SDOs and SCOs" : "SDOs");
}

static const kz_prop_rule relationship_props[] = {
    {"relationship_type", KZ_P_STRING, KZ_F_REQUIRED, NULL, relationship_type_chars, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"source_ref", KZ_P_REF, KZ_F_REQUIRED, NULL, endpoint, 0, 0},
    {"target_ref", KZ_P_REF, KZ_F_REQUIRED, NULL, endpoint, 0, 0},
    {"start_time", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"stop_time", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void relationship_check(kz_vctx *c, const json_t *obj)
{
    if (c->ver != KZ_STIX_21)
        return;
    /* "stop_time MUST be later than the start_time": equal is an error. */
    kz_time a, b;
    if (kz_get_time(obj, "start_time", &a) && kz_get_time(obj, "stop_time", &b) &&
        kz_time_cmp(&b, &a) <= 0)
        kz_v_error_at(c, "stop_time", "'stop_time' must be later than 'start_time'");
}

/* ---- sighting (5.2) ---------------------------------------------------------------------- */

/* 5.2: sighting_of_ref "MUST reference only an SDO". */
static void sighted_sdo(kz_vctx *c, const json_t *v)
{
    char type[256];
    if (!ref_type(v, type, sizeof type))
        return;
    kz_stix_category cat = kz_stix_type_category(type, c->ver);
    if (cat != KZ_STIX_SDO && cat != KZ_STIX_CUSTOM)
        kz_v_error(c, "sighting_of_ref must reference an SDO, not a %s object", type);
}

static const char *const observed_data_t[] = {"observed-data", NULL};
static const char *const where_sighted_21[] = {"identity", "location", NULL};
static const char *const where_sighted_20[] = {"identity", NULL};

static const kz_prop_rule sighting_props[] = {
    {"description", KZ_P_STRING, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"first_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"last_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"count", KZ_P_INTEGER, KZ_F_RANGE, NULL, NULL, 0, 999999999},
    {"sighting_of_ref", KZ_P_REF, KZ_F_REQUIRED, NULL, sighted_sdo, 0, 0},
    {"observed_data_refs", KZ_P_REF_LIST, 0, observed_data_t, NULL, 0, 0},
    {"where_sighted_refs", KZ_P_REF_LIST, KZ_F_ONLY_21, where_sighted_21, NULL, 0, 0},
    {"where_sighted_refs", KZ_P_REF_LIST, KZ_F_ONLY_20, where_sighted_20, NULL, 0, 0},
    {"summary", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void sighting_check(kz_vctx *c, const json_t *obj)
{
    kz_time a, b;
    if (kz_get_time(obj, "first_seen", &a) && kz_get_time(obj, "last_seen", &b) &&
        kz_time_cmp(&b, &a) < 0)
        kz_v_error_at(c, "last_seen", "'last_seen' must not be earlier than 'first_seen'");
}

const kz_type_rules kz_sro_rules[] = {
    {"relationship", KZ_STIX_SRO, 0, relationship_props, relationship_check},
    {"sighting", KZ_STIX_SRO, 0, sighting_props, sighting_check},
    {NULL, 0, 0, NULL, NULL},
};
