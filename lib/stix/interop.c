/*
 * The STIX 2.1 Interoperability profile (the OASIS interop schemas in
 * cti-stix2-json-schemas/interop/): stricter requirements on top of the specification, for
 * communities that promise each other more than the spec does — every SDO/SRO names its
 * creator, an indicator has a name and types, and at most one TLP marking applies.
 *
 * Two property names in the published interop schemas are misspelt
 * ("architecture_exectuion_envs", "capabiliites") and one has a stray colon
 * ("external_references:"); a schema validator would therefore demand properties no producer
 * writes. This profile requires the properties the schemas evidently mean.
 */
#include "rules.h"

#include <string.h>

typedef struct {
    const char *type;
    const char *required[9];
} interop_rule;

static const interop_rule rules[] = {
    {"attack-pattern", {"external_references", "kill_chain_phases", NULL}},
    {"campaign", {NULL}},
    {"course-of-action", {NULL}},
    {"grouping", {NULL}},
    {"indicator", {"name", "indicator_types", NULL}},
    {"infrastructure", {"infrastructure_types", NULL}},
    {"intrusion-set", {"resource_level", "primary_motivation", NULL}},
    {"location", {"region", NULL}},
    {"malware-analysis",
     {"version", "submitted", "analysis_started", "analysis_ended", "result", NULL}},
    {"malware",
     {"name", "malware_types", "first_seen", "last_seen", "architecture_execution_envs",
      "implementation_languages", "capabilities", NULL}},
    {"note", {NULL}},
    {"observed-data", {"object_refs", NULL}},
    {"opinion", {NULL}},
    {"relationship", {NULL}},
    {"report", {"report_types", NULL}},
    {"sighting", {"first_seen", "last_seen", "count", NULL}},
    {"threat-actor",
     {"threat_actor_types", "roles", "sophistication", "resource_level", "primary_motivation",
      NULL}},
    {"tool", {"tool_types", NULL}},
    {"vulnerability", {"external_references", NULL}},
};

void kz_check_interop(kz_vctx *c, const json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (!type)
        return;
    const interop_rule *r = NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].type, type) == 0)
            r = &rules[i];
    if (r) {
        if (!json_object_get(obj, "created_by_ref"))
            kz_v_error_at(c, "created_by_ref", "interop profile: created_by_ref is required");
        for (int i = 0; r->required[i]; i++)
            if (!json_object_get(obj, r->required[i]))
                kz_v_error_at(c, r->required[i], "interop profile: %s is required on %s",
                              r->required[i], type);
    }
    const json_t *refs = json_object_get(obj, "object_marking_refs");
    size_t i, tlp = 0;
    const json_t *m;
    json_array_foreach(refs, i, m)
    {
        if (json_is_string(m) && kz_tlp_lookup(json_string_value(m)))
            tlp++;
    }
    if (tlp > 1)
        kz_v_error_at(c, "object_marking_refs",
                      "interop profile: at most one TLP marking may apply to an object (%zu "
                      "found)",
                      tlp);
}
