/*
 * The rule tables of the 19 STIX Domain Objects (STIX 2.1 section 4, and their STIX 2.0
 * forms): each type's own properties with kind, required flags, vocabulary and allowed
 * reference targets, plus a function per type for the rules that span several properties
 * (time windows, "one of these MUST be present", is_family/name, patterns).
 *
 * Invariants: the tables hold only type-specific properties; the common ones (type, id,
 * created, labels, ...) belong to the walker. A property that STIX 2.0 did not define is
 * KZ_F_ONLY_21, so a 2.0 object carrying it is checked as a custom property; a 2.1-only
 * type is KZ_F_ONLY_21 as a whole. Check functions run after the per-property checks and
 * must tolerate values of the wrong kind (already reported): they look, never assume.
 *
 * Not here: whether referenced objects exist (a bundle or store question), SCO tables
 * (sco.c), the STIX pattern grammar (pattern module, reached via kz_check_stix_pattern).
 */
#include "rules.h"
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared by the type checks ------------------------------------------------- */

/* Reference targets that the spec names by category. "<sdo>"/"<sco>"/"<sro>"/"<custom>" are
 * the walker's pseudo-types for "any object of that category". */
static const char *const any_sco[] = {"<sco>", "<custom>", NULL};
static const char *const sco_or_sro[] = {"<sco>", "<sro>", "<custom>", NULL};
static const char *const software_only[] = {"software", NULL};
static const char *const file_or_artifact[] = {"file", "artifact", NULL};
static const char *const analysis_sample[] = {"file", "network-traffic", "artifact", NULL};

/* later >= earlier (or > when strict) when both timestamps parse; reported at `later`. */
static void time_order(kz_vctx *c, const json_t *obj, const char *earlier, const char *later,
                       bool strict)
{
    kz_time a, b;
    if (!kz_get_time(obj, earlier, &a) || !kz_get_time(obj, later, &b))
        return;
    int cmp = kz_time_cmp(&b, &a);
    if (strict && cmp <= 0)
        kz_v_error_at(c, later, "'%s' must be later than '%s'", later, earlier);
    else if (!strict && cmp < 0)
        kz_v_error_at(c, later, "'%s' must not be earlier than '%s'", later, earlier);
}

/* STIX 2.0 put the subtype of indicator, malware, report, threat-actor and tool in the
 * required `labels` property, drawn from a per-type open vocabulary. 2.1 moved the subtype
 * to *_types and made labels free-form, so this applies to 2.0 objects only. */
static void labels_20(kz_vctx *c, const json_t *obj, const char *const *vocab)
{
    if (c->ver != KZ_STIX_20)
        return;
    const json_t *labels = json_object_get(obj, "labels");
    if (!labels) {
        kz_v_error_at(c, "labels", "required property 'labels' is missing (STIX 2.0)");
        return;
    }
    if (!json_is_array(labels))
        return;
    size_t i;
    const json_t *e;
    json_array_foreach(labels, i, e)
    {
        if (!json_is_string(e) || kz_str_in(json_string_value(e), vocab))
            continue;
        kz_ptr_push_key(&c->ptr, "labels");
        kz_ptr_push_index(&c->ptr, i);
        kz_v_warn(c, "'%s' is not in the suggested STIX 2.0 label vocabulary",
                  json_string_value(e));
        kz_ptr_pop(&c->ptr);
        kz_ptr_pop(&c->ptr);
    }
}

/* External references that name a well-known catalogue must use its id format: CAPEC-<n>
 * for attack patterns (4.1), the exact CVE id for vulnerabilities (4.19). */
static bool capec_id(const char *s)
{
    if (strncmp(s, "CAPEC-", 6) != 0 || !s[6])
        return false;
    for (s += 6; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool cve_id(const char *s)
{
    /* CVE-YYYY-NNNN with four or more sequence digits (the 2014 CVE ID syntax). */
    if (strncmp(s, "CVE-", 4) != 0)
        return false;
    s += 4;
    for (int i = 0; i < 4; i++, s++)
        if (*s < '0' || *s > '9')
            return false;
    if (*s++ != '-')
        return false;
    size_t n = 0;
    for (; *s; s++, n++)
        if (*s < '0' || *s > '9')
            return false;
    return n >= 4;
}

static void catalogue_refs(kz_vctx *c, const json_t *obj, const char *source,
                           bool (*valid)(const char *), const char *form)
{
    const json_t *refs = json_object_get(obj, "external_references");
    if (!json_is_array(refs))
        return;
    size_t i;
    const json_t *r;
    json_array_foreach(refs, i, r)
    {
        const char *sn = json_string_value(json_object_get(r, "source_name"));
        const json_t *ext = json_object_get(r, "external_id");
        if (!sn || strcmp(sn, source) != 0 || !json_is_string(ext))
            continue;
        if (valid(json_string_value(ext)))
            continue;
        kz_ptr_push_key(&c->ptr, "external_references");
        kz_ptr_push_index(&c->ptr, i);
        kz_v_error_at(c, "external_id", "a '%s' external_id must have the form %s, not '%s'",
                      source, form, json_string_value(ext));
        kz_ptr_pop(&c->ptr);
        kz_ptr_pop(&c->ptr);
    }
}

static void seen_window(kz_vctx *c, const json_t *obj)
{
    time_order(c, obj, "first_seen", "last_seen", false);
}

/* ---- attack-pattern (4.1) --------------------------------------------------------------- */

static const kz_prop_rule attack_pattern_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"aliases", KZ_P_STRING_LIST, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"kill_chain_phases", KZ_P_KILL_CHAIN_LIST, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void attack_pattern_check(kz_vctx *c, const json_t *obj)
{
    catalogue_refs(c, obj, "capec", capec_id, "CAPEC-<number>");
}

/* ---- campaign (4.2) --------------------------------------------------------------------- */

static const kz_prop_rule campaign_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"aliases", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"first_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"last_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"objective", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- course-of-action (4.3) ------------------------------------------------------------- */

static const kz_prop_rule course_of_action_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- grouping (4.4, 2.1 only) ----------------------------------------------------------- */

static const kz_prop_rule grouping_props[] = {
    {"name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"context", KZ_P_OPEN_VOCAB, KZ_F_REQUIRED, kz_vocab_grouping_context, NULL, 0, 0},
    {"object_refs", KZ_P_REF_LIST, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* The Errata 01 text marks grouping's name "(required)"; STIX 2.1 OS and the OASIS schemas
 * leave it optional and the errata's change list does not mention it. A warning keeps both
 * readings visible without rejecting objects that the standard accepts. */
static void grouping_check(kz_vctx *c, const json_t *obj)
{
    if (!json_object_get(obj, "name"))
        kz_v_warn_at(c, "name",
                     "a grouping should have a name (required by the STIX 2.1 "
                     "Errata 01 text, optional in STIX 2.1)");
}

/* ---- identity (4.5) --------------------------------------------------------------------- */

static const kz_prop_rule identity_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"roles", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"identity_class", KZ_P_OPEN_VOCAB, KZ_F_ONLY_21, kz_vocab_identity_class, NULL, 0, 0},
    /* Required in 2.0, whose vocabulary had no "system". */
    {"identity_class", KZ_P_OPEN_VOCAB, KZ_F_ONLY_20 | KZ_F_REQUIRED, kz_vocab_identity_class_20,
     NULL, 0, 0},
    {"sectors", KZ_P_OPEN_VOCAB_LIST, 0, kz_vocab_industry_sector, NULL, 0, 0},
    {"contact_information", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- incident (4.6, 2.1 only; a stub in the spec) ---------------------------------------- */

static const kz_prop_rule incident_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- indicator (4.7) -------------------------------------------------------------------- */

static const kz_prop_rule indicator_props[] = {
    {"name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"indicator_types", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21, kz_vocab_indicator_type, NULL, 0, 0},
    {"pattern", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_NONEMPTY, NULL, NULL, 0, 0},
    {"pattern_type", KZ_P_OPEN_VOCAB, KZ_F_REQ_21 | KZ_F_ONLY_21, kz_vocab_pattern_type, NULL, 0,
     0},
    {"pattern_version", KZ_P_STRING, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"valid_from", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"valid_until", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"kill_chain_phases", KZ_P_KILL_CHAIN_LIST, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void indicator_check(kz_vctx *c, const json_t *obj)
{
    labels_20(c, obj, kz_vocab_indicator_label_20);
    /* 4.7: valid_until "MUST be greater than" valid_from; equal is an error. */
    time_order(c, obj, "valid_from", "valid_until", true);

    const json_t *pattern = json_object_get(obj, "pattern");
    if (!json_is_string(pattern))
        return;
    /* STIX 2.0 indicators have only STIX patterns; in 2.1 pattern_type says which language,
     * and only "stix" is ours to parse. pattern_version picks the grammar when given. */
    kz_stix_version pv = c->ver;
    if (c->ver == KZ_STIX_21) {
        const char *pt = json_string_value(json_object_get(obj, "pattern_type"));
        if (!pt || strcmp(pt, "stix") != 0)
            return;
        const char *ver = json_string_value(json_object_get(obj, "pattern_version"));
        if (ver && strcmp(ver, "2.0") == 0)
            pv = KZ_STIX_20;
        else if (ver && strcmp(ver, "2.1") != 0)
            kz_v_warn_at(c, "pattern_version",
                         "'%s' is not a STIX Patterning version (2.0 or 2.1); checked as 2.1", ver);
    }
    kz_ptr_push_key(&c->ptr, "pattern");
    kz_check_stix_pattern(c, pattern, pv);
    kz_ptr_pop(&c->ptr);
}

/* ---- infrastructure (4.8, 2.1 only) ----------------------------------------------------- */

static const kz_prop_rule infrastructure_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"infrastructure_types", KZ_P_OPEN_VOCAB_LIST, 0, kz_vocab_infrastructure_type, NULL, 0, 0},
    {"aliases", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"kill_chain_phases", KZ_P_KILL_CHAIN_LIST, 0, NULL, NULL, 0, 0},
    {"first_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"last_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- intrusion-set (4.9) ---------------------------------------------------------------- */

static const kz_prop_rule intrusion_set_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"aliases", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"first_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"last_seen", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"goals", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"resource_level", KZ_P_OPEN_VOCAB, 0, kz_vocab_attack_resource_level, NULL, 0, 0},
    {"primary_motivation", KZ_P_OPEN_VOCAB, 0, kz_vocab_attack_motivation, NULL, 0, 0},
    {"secondary_motivations", KZ_P_OPEN_VOCAB_LIST, 0, kz_vocab_attack_motivation, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- location (4.10, 2.1 only) ---------------------------------------------------------- */

static const kz_prop_rule location_props[] = {
    {"name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"latitude", KZ_P_FLOAT, KZ_F_RANGE, NULL, NULL, -90.0, 90.0},
    {"longitude", KZ_P_FLOAT, KZ_F_RANGE, NULL, NULL, -180.0, 180.0},
    {"precision", KZ_P_FLOAT, 0, NULL, NULL, 0, 0},
    {"region", KZ_P_OPEN_VOCAB, 0, kz_vocab_region, NULL, 0, 0},
    {"country", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"administrative_area", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"city", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"street_address", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"postal_code", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void location_check(kz_vctx *c, const json_t *obj)
{
    bool lat = json_object_get(obj, "latitude") != NULL;
    bool lon = json_object_get(obj, "longitude") != NULL;
    if (lat && !lon)
        kz_v_error_at(c, "longitude", "'longitude' must be present when 'latitude' is");
    if (lon && !lat)
        kz_v_error_at(c, "latitude", "'latitude' must be present when 'longitude' is");
    if (json_object_get(obj, "precision") && !(lat && lon))
        kz_v_error_at(c, "precision", "'precision' requires both 'latitude' and 'longitude'");
    const json_t *prec = json_object_get(obj, "precision");
    if (json_is_number(prec) && json_number_value(prec) < 0)
        kz_v_warn_at(c, "precision", "'precision' is a distance in meters and cannot be negative");
    if (!json_object_get(obj, "region") && !json_object_get(obj, "country") && !(lat && lon))
        kz_v_error(c, "a location needs at least one of 'region', 'country', or 'latitude' "
                      "with 'longitude'");
}

/* ---- malware (4.11) --------------------------------------------------------------------- */

static const kz_prop_rule malware_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQ_20, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"malware_types", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21, kz_vocab_malware_type, NULL, 0, 0},
    /* Errata 01's text prints "(optional)" here, but the OS, the OASIS schema and the
     * errata's own list of changes keep is_family required. */
    {"is_family", KZ_P_BOOLEAN, KZ_F_REQ_21 | KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"aliases", KZ_P_STRING_LIST, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"kill_chain_phases", KZ_P_KILL_CHAIN_LIST, 0, NULL, NULL, 0, 0},
    {"first_seen", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"last_seen", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"operating_system_refs", KZ_P_REF_LIST, KZ_F_ONLY_21, software_only, NULL, 0, 0},
    {"architecture_execution_envs", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21,
     kz_vocab_processor_architecture, NULL, 0, 0},
    {"implementation_languages", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21,
     kz_vocab_implementation_language, NULL, 0, 0},
    {"capabilities", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21, kz_vocab_malware_capabilities, NULL, 0, 0},
    {"sample_refs", KZ_P_REF_LIST, KZ_F_ONLY_21, file_or_artifact, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void malware_check(kz_vctx *c, const json_t *obj)
{
    labels_20(c, obj, kz_vocab_malware_label_20);
    if (c->ver != KZ_STIX_21)
        return;
    if (json_is_true(json_object_get(obj, "is_family")) && !json_object_get(obj, "name"))
        kz_v_error_at(c, "name", "a malware family (is_family true) must have a name");
    seen_window(c, obj);
}

/* ---- malware-analysis (4.12, 2.1 only) -------------------------------------------------- */

/* 4.12: product names "SHOULD be all lowercase with words separated by a dash". */
static void product_name(kz_vctx *c, const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s)
        return;
    bool ok = *s && *s != '-';
    for (const char *p = s; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
             (*p == '-' && p[1] && p[1] != '-');
    if (!ok)
        kz_v_warn(c, "product names should be lowercase words separated by '-' (got '%s')", s);
}

static const kz_prop_rule malware_analysis_props[] = {
    {"product", KZ_P_STRING, KZ_F_REQUIRED, NULL, product_name, 0, 0},
    {"version", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"host_vm_ref", KZ_P_REF, 0, software_only, NULL, 0, 0},
    {"operating_system_ref", KZ_P_REF, 0, software_only, NULL, 0, 0},
    {"installed_software_refs", KZ_P_REF_LIST, 0, software_only, NULL, 0, 0},
    {"configuration_version", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"modules", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"analysis_engine_version", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"analysis_definition_version", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"submitted", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"analysis_started", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"analysis_ended", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"result_name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"result", KZ_P_OPEN_VOCAB, 0, kz_vocab_malware_result, NULL, 0, 0},
    {"analysis_sco_refs", KZ_P_REF_LIST, 0, any_sco, NULL, 0, 0},
    {"sample_ref", KZ_P_REF, 0, analysis_sample, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void malware_analysis_check(kz_vctx *c, const json_t *obj)
{
    if (!json_object_get(obj, "result") && !json_object_get(obj, "analysis_sco_refs"))
        kz_v_error(c, "a malware-analysis needs 'result' or 'analysis_sco_refs'");
    /* Not a MUST in 4.12, but an analysis that ends before it starts is a data error. */
    kz_time a, b;
    if (kz_get_time(obj, "analysis_started", &a) && kz_get_time(obj, "analysis_ended", &b) &&
        kz_time_cmp(&b, &a) < 0)
        kz_v_warn_at(c, "analysis_ended", "'analysis_ended' is earlier than 'analysis_started'");
}

/* ---- note (4.13, 2.1 only) -------------------------------------------------------------- */

static const kz_prop_rule note_props[] = {
    {"abstract", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"content", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"authors", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"object_refs", KZ_P_REF_LIST, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- observed-data (4.14) --------------------------------------------------------------- */

/* 4.14: "Multiple objects not related to each other via cyber observable Relationships MUST
 * NOT be contained within the same Observed Data instance." Within a container the only
 * relationships are the _ref/_refs properties (at any depth, e.g. inside extensions), so the
 * objects must form one connected graph over them. Union-find over the container's keys. */
typedef struct {
    json_t *index; /* key -> position, so that resolving a ref is one hash lookup */
    const char **keys;
    size_t *parent;
    size_t n;
} od_graph;

static size_t od_find(od_graph *g, size_t i)
{
    while (g->parent[i] != i)
        i = g->parent[i] = g->parent[g->parent[i]];
    return i;
}

static void od_link(od_graph *g, size_t from, const json_t *target)
{
    const char *t = json_string_value(target);
    const json_t *pos = t ? json_object_get(g->index, t) : NULL;
    if (pos)
        g->parent[od_find(g, from)] = od_find(g, (size_t)json_integer_value(pos));
}

static void od_scan(od_graph *g, size_t from, const json_t *v, int depth)
{
    if (depth > 16)
        return;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) od_scan(g, from, e, depth + 1);
        return;
    }
    if (!json_is_object(v))
        return;
    const char *key;
    const json_t *m;
    json_object_foreach((json_t *)v, key, m)
    {
        size_t kl = strlen(key);
        if (kl > 4 && strcmp(key + kl - 4, "_ref") == 0) {
            od_link(g, from, m);
        } else if (kl > 5 && strcmp(key + kl - 5, "_refs") == 0 && json_is_array(m)) {
            size_t i;
            const json_t *e;
            json_array_foreach(m, i, e) od_link(g, from, e);
        } else {
            od_scan(g, from, m, depth + 1);
        }
    }
}

static void observable_connected(kz_vctx *c, const json_t *objects)
{
    size_t n = json_object_size(objects);
    if (n < 2)
        return;
    od_graph g = {json_object(), calloc(n, sizeof(char *)), calloc(n, sizeof(size_t)), n};
    size_t i = 0;
    const char *key;
    const json_t *sco;
    bool oom = !g.index || !g.keys || !g.parent;
    json_object_foreach((json_t *)objects, key, sco)
    {
        if (oom)
            break;
        g.keys[i] = key;
        g.parent[i] = i;
        oom = json_object_set_new(g.index, key, json_integer((json_int_t)i)) != 0;
        i++;
    }
    if (oom) {
        /* Out of memory: skip the check rather than report a problem that is not there. */
        json_decref(g.index);
        free(g.keys);
        free(g.parent);
        return;
    }
    for (i = 0; i < n; i++)
        od_scan(&g, i, json_object_get(objects, g.keys[i]), 0);
    for (i = 1; i < n; i++)
        if (od_find(&g, i) != od_find(&g, 0)) {
            kz_v_error(c,
                       "objects '%s' and '%s' are not related through _ref properties; "
                       "unrelated observables belong in separate observed-data objects",
                       g.keys[0], g.keys[i]);
            break;
        }
    json_decref(g.index);
    free(g.keys);
    free(g.parent);
}

/* The observable container (2.13): a non-empty dictionary of SCOs whose _ref properties name
 * other keys of the same dictionary. */
static void observable_container(kz_vctx *c, const json_t *objects)
{
    if (json_object_size(objects) == 0) {
        kz_v_error(c, "'objects' must contain at least one object");
        return;
    }
    const char *key;
    const json_t *sco;
    json_object_foreach((json_t *)objects, key, sco)
    {
        kz_ptr_push_key(&c->ptr, key);
        if (json_is_object(sco))
            kz_check_embedded_sco(c, sco, objects);
        else
            kz_v_error(c, "each entry of 'objects' must be a cyber observable object");
        kz_ptr_pop(&c->ptr);
    }
    observable_connected(c, objects);
}

static const kz_prop_rule observed_data_props[] = {
    {"first_observed", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"last_observed", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"number_observed", KZ_P_INTEGER, KZ_F_REQUIRED | KZ_F_RANGE, NULL, NULL, 1, 999999999},
    /* Required in 2.0; in 2.1 allowed but deprecated in favour of object_refs. */
    {"objects", KZ_P_OBJECT, KZ_F_REQUIRED | KZ_F_ONLY_20, NULL, observable_container, 0, 0},
    {"objects", KZ_P_OBJECT, KZ_F_ONLY_21 | KZ_F_DEPRECATED, NULL, observable_container, 0, 0},
    {"object_refs", KZ_P_REF_LIST, KZ_F_ONLY_21, sco_or_sro, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void observed_data_check(kz_vctx *c, const json_t *obj)
{
    time_order(c, obj, "first_observed", "last_observed", false);
    if (c->ver != KZ_STIX_21)
        return;
    const json_t *objects = json_object_get(obj, "objects");
    const json_t *refs = json_object_get(obj, "object_refs");
    if (objects && refs)
        kz_v_error_at(c, "object_refs", "'objects' and 'object_refs' must not both be present");
    else if (!objects && !refs)
        kz_v_error(c, "an observed-data needs 'object_refs' (or the deprecated 'objects')");
    /* 4.14: object_refs "MUST contain at least one SCO reference". */
    if (!json_is_array(refs) || json_array_size(refs) == 0)
        return;
    size_t i;
    const json_t *r;
    json_array_foreach(refs, i, r)
    {
        const char *s = json_string_value(r);
        const char *sep = s ? strstr(s, "--") : NULL;
        if (!sep)
            return; /* malformed: already reported, and we cannot tell */
        char type[256];
        size_t n = (size_t)(sep - s) < sizeof type ? (size_t)(sep - s) : sizeof type - 1;
        memcpy(type, s, n);
        type[n] = '\0';
        kz_stix_category cat = kz_stix_type_category(type, c->ver);
        if (cat == KZ_STIX_SCO || cat == KZ_STIX_CUSTOM)
            return;
    }
    kz_v_error_at(c, "object_refs", "'object_refs' must contain at least one SCO reference");
}

/* ---- opinion (4.15, 2.1 only) ----------------------------------------------------------- */

static const kz_prop_rule opinion_props[] = {
    {"explanation", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"authors", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"opinion", KZ_P_ENUM, KZ_F_REQUIRED, kz_vocab_opinion_enum, NULL, 0, 0},
    {"object_refs", KZ_P_REF_LIST, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

/* ---- report (4.16) ---------------------------------------------------------------------- */

static const kz_prop_rule report_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"report_types", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21, kz_vocab_report_type, NULL, 0, 0},
    {"published", KZ_P_TIMESTAMP, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"object_refs", KZ_P_REF_LIST, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void report_check(kz_vctx *c, const json_t *obj)
{
    labels_20(c, obj, kz_vocab_report_label_20);
}

/* ---- threat-actor (4.17) ---------------------------------------------------------------- */

static const kz_prop_rule threat_actor_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"threat_actor_types", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21, kz_vocab_threat_actor_type, NULL, 0,
     0},
    {"aliases", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"first_seen", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"last_seen", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"roles", KZ_P_OPEN_VOCAB_LIST, 0, kz_vocab_threat_actor_role, NULL, 0, 0},
    {"goals", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"sophistication", KZ_P_OPEN_VOCAB, 0, kz_vocab_threat_actor_sophistication, NULL, 0, 0},
    {"resource_level", KZ_P_OPEN_VOCAB, 0, kz_vocab_attack_resource_level, NULL, 0, 0},
    {"primary_motivation", KZ_P_OPEN_VOCAB, 0, kz_vocab_attack_motivation, NULL, 0, 0},
    {"secondary_motivations", KZ_P_OPEN_VOCAB_LIST, 0, kz_vocab_attack_motivation, NULL, 0, 0},
    {"personal_motivations", KZ_P_OPEN_VOCAB_LIST, 0, kz_vocab_attack_motivation, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void threat_actor_check(kz_vctx *c, const json_t *obj)
{
    labels_20(c, obj, kz_vocab_threat_actor_label_20);
    if (c->ver == KZ_STIX_21)
        seen_window(c, obj);
}

/* ---- tool (4.18) ------------------------------------------------------------------------ */

static const kz_prop_rule tool_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"tool_types", KZ_P_OPEN_VOCAB_LIST, KZ_F_ONLY_21, kz_vocab_tool_type, NULL, 0, 0},
    {"aliases", KZ_P_STRING_LIST, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"kill_chain_phases", KZ_P_KILL_CHAIN_LIST, 0, NULL, NULL, 0, 0},
    {"tool_version", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void tool_check(kz_vctx *c, const json_t *obj)
{
    labels_20(c, obj, kz_vocab_tool_label_20);
}

/* ---- vulnerability (4.19) --------------------------------------------------------------- */

static const kz_prop_rule vulnerability_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"description", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {NULL, 0, 0, NULL, NULL, 0, 0},
};

static void vulnerability_check(kz_vctx *c, const json_t *obj)
{
    catalogue_refs(c, obj, "cve", cve_id, "CVE-YYYY-NNNN");
}

/* ---- the table -------------------------------------------------------------------------- */

const kz_type_rules kz_sdo_rules[] = {
    {"attack-pattern", KZ_STIX_SDO, 0, attack_pattern_props, attack_pattern_check},
    {"campaign", KZ_STIX_SDO, 0, campaign_props, seen_window},
    {"course-of-action", KZ_STIX_SDO, 0, course_of_action_props, NULL},
    {"grouping", KZ_STIX_SDO, KZ_F_ONLY_21, grouping_props, grouping_check},
    {"identity", KZ_STIX_SDO, 0, identity_props, NULL},
    {"incident", KZ_STIX_SDO, KZ_F_ONLY_21, incident_props, NULL},
    {"indicator", KZ_STIX_SDO, 0, indicator_props, indicator_check},
    {"infrastructure", KZ_STIX_SDO, KZ_F_ONLY_21, infrastructure_props, seen_window},
    {"intrusion-set", KZ_STIX_SDO, 0, intrusion_set_props, seen_window},
    {"location", KZ_STIX_SDO, KZ_F_ONLY_21, location_props, location_check},
    {"malware", KZ_STIX_SDO, 0, malware_props, malware_check},
    {"malware-analysis", KZ_STIX_SDO, KZ_F_ONLY_21, malware_analysis_props, malware_analysis_check},
    {"note", KZ_STIX_SDO, KZ_F_ONLY_21, note_props, NULL},
    {"observed-data", KZ_STIX_SDO, 0, observed_data_props, observed_data_check},
    {"opinion", KZ_STIX_SDO, KZ_F_ONLY_21, opinion_props, NULL},
    {"report", KZ_STIX_SDO, 0, report_props, report_check},
    {"threat-actor", KZ_STIX_SDO, 0, threat_actor_props, threat_actor_check},
    {"tool", KZ_STIX_SDO, 0, tool_props, tool_check},
    {"vulnerability", KZ_STIX_SDO, 0, vulnerability_props, vulnerability_check},
    {NULL, 0, 0, NULL, NULL},
};
