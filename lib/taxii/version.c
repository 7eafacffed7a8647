/*
 * taxii/version: the version a TAXII 2.1 server files a STIX object under, shared by the
 * hub (ingest.c: storage and the status resource) and the client (outbox.c: queue keys and
 * matching the status back to queued objects).
 *
 * TAXII 2.1 (status resource and manifest, `version`): the STIX `modified`; for an object
 * without it, its `created`; for one with neither (an SCO), "a value for the version that is
 * consistent to the server". kizuna's value is KZ_TAXII_UNVERSIONED. Invariant: the hub names
 * every verdict on an object (success or failure, valid or not) by this same function, so a
 * client keyed on it matches each verdict. Not here: checking that the value is a timestamp
 * (the hub refuses objects whose `modified` or `created` is not one).
 */
#include <kizuna/taxii_client.h>

const char *kz_taxii_object_version(const json_t *obj)
{
    const char *v = json_string_value(json_object_get(obj, "modified"));
    if (!v)
        v = json_string_value(json_object_get(obj, "created"));
    return v ? v : KZ_TAXII_UNVERSIONED;
}

bool kz_taxii_object_versioned(const json_t *obj)
{
    return json_is_string(json_object_get(obj, "modified")) ||
           json_is_string(json_object_get(obj, "created"));
}
