/*
 * The standard TLP marking definitions: the four TLP 1.0 objects of STIX 2.1 section 7.2.1.4
 * (also in STIX 2.0, without spec_version and name) and the five TLP 2.0 objects published
 * by OASIS with the TLP 2.0 extension-definition (cti-stix-common-objects, tlp-2.0).
 *
 * Invariant: these nine ids are the only TLP markings there are. The spec says "Other
 * instances of tlp-marking MUST NOT be used or created", so meta.c compares any object that
 * carries one of these ids against the content built here, member by member.
 * Not here: deciding what a level allows (that is the policy module's job).
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

const char kz_tlp2_extension_id[] = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

static const kz_tlp_marking tlp_markings[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", KZ_TLP_CLEAR, 1},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", KZ_TLP_GREEN, 1},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", KZ_TLP_AMBER, 1},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", KZ_TLP_RED, 1},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", KZ_TLP_CLEAR, 2},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", KZ_TLP_GREEN, 2},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", KZ_TLP_AMBER, 2},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT",
     KZ_TLP_AMBER_STRICT, 2},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", KZ_TLP_RED, 2},
};

#define TLP_COUNT (sizeof tlp_markings / sizeof tlp_markings[0])

const kz_tlp_marking *kz_tlp_lookup(const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < TLP_COUNT; i++)
        if (strcmp(tlp_markings[i].id, id) == 0)
            return &tlp_markings[i];
    return NULL;
}

const kz_tlp_marking *kz_tlp_all(size_t *n)
{
    if (n)
        *n = TLP_COUNT;
    return tlp_markings;
}

/* The level word as the marking object spells it: "white" in TLP 1.0, "clear" in 2.0. */
static const char *level_word(const kz_tlp_marking *m)
{
    switch (m->level) {
    case KZ_TLP_CLEAR:
        return m->tlp_version == 1 ? "white" : "clear";
    case KZ_TLP_GREEN:
        return "green";
    case KZ_TLP_AMBER:
        return "amber";
    case KZ_TLP_AMBER_STRICT:
        return "amber+strict";
    case KZ_TLP_RED:
        return "red";
    case KZ_TLP_NONE:
        break;
    }
    return "";
}

json_t *kz_tlp_standard_object(const char *id, kz_stix_version v)
{
    const kz_tlp_marking *m = kz_tlp_lookup(id);
    if (!m || (m->tlp_version == 2 && v == KZ_STIX_20))
        return NULL;
    json_error_t err;
    if (m->tlp_version == 1 && v == KZ_STIX_20)
        return json_pack_ex(&err, 0, "{s:s, s:s, s:s, s:s, s:{s:s}}", "type", "marking-definition",
                            "id", m->id, "created", "2017-01-20T00:00:00.000Z", "definition_type",
                            "tlp", "definition", "tlp", level_word(m));
    if (m->tlp_version == 1)
        return json_pack_ex(&err, 0, "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "type",
                            "marking-definition", "spec_version", "2.1", "id", m->id, "created",
                            "2017-01-20T00:00:00.000Z", "definition_type", "tlp", "name", m->name,
                            "definition", "tlp", level_word(m));
    return json_pack_ex(&err, 0, "{s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s}}}", "type",
                        "marking-definition", "spec_version", "2.1", "id", m->id, "created",
                        "2022-10-01T00:00:00.000Z", "name", m->name, "extensions",
                        kz_tlp2_extension_id, "extension_type", "property-extension", "tlp_2_0",
                        level_word(m));
}
