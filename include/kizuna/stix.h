/*
 * kizuna stix: the STIX 2.1 (and 2.0) object model.
 *
 * Validation is rule-by-rule against the specification: every problem becomes a kz_diag with
 * the object's id, a JSON pointer and a message. Objects stay jansson values: the model is the
 * set of rules, not a struct per type, so unknown and custom properties survive a round trip
 * untouched. Thread-safety: all functions are reentrant; the type tables are const.
 */
#ifndef KIZUNA_STIX_H
#define KIZUNA_STIX_H

#include <kizuna/core.h>
#include <kizuna/json.h>

typedef enum {
    KZ_STIX_AUTO = 0, /* decide per object: spec_version, else 2.0 */
    KZ_STIX_20 = 20,
    KZ_STIX_21 = 21,
} kz_stix_version;

typedef enum {
    KZ_STIX_SDO,
    KZ_STIX_SRO,
    KZ_STIX_SCO,
    KZ_STIX_META, /* marking-definition, extension-definition, language-content */
    KZ_STIX_BUNDLE,
    KZ_STIX_CUSTOM, /* a type this version of the spec does not define */
} kz_stix_category;

typedef struct kz_stix_opts {
    kz_stix_version version; /* KZ_STIX_AUTO unless forced by the caller */
    bool check_sco_ids;      /* recompute deterministic SCO ids; mismatch is a warning */
    bool interop;            /* also apply the STIX 2.1 Interoperability profile (interop.c) */
} kz_stix_opts;

/* The version an object claims: its spec_version ("2.1" → 21, "2.0" → 20) or, without one,
 * 2.0 for non-SCO objects (STIX 2.0 had no spec_version on objects). SCOs inside a 2.1
 * bundle without spec_version are 2.1 (they may omit it). */
kz_stix_version kz_stix_object_version(const json_t *obj, kz_stix_version context);

/* Validate one STIX object (not a bundle) and append every problem to d.
 * Returns the number of errors found for this object (warnings not counted). */
size_t kz_stix_validate_object(const json_t *obj, const kz_stix_opts *opts, kz_diags *d);

/* Validate a bundle's own properties only (type, id, spec_version, that objects is a list),
 * for callers that walk the objects themselves. Returns the number of errors. */
size_t kz_stix_validate_bundle_envelope(const json_t *bundle, const kz_stix_opts *opts,
                                        kz_diags *d);

/* Validate a bundle's own properties and each object in it. */
size_t kz_stix_validate_bundle(const json_t *bundle, const kz_stix_opts *opts, kz_diags *d);

/* Category of a type name in a version (KZ_STIX_CUSTOM when unknown). */
kz_stix_category kz_stix_type_category(const char *type, kz_stix_version v);

/* Check "type--UUID" form; writes a reason into err on failure. */
bool kz_stix_id_valid(const char *id, const char *expected_type, char *err, size_t errlen);

/* Deterministic SCO identifier (UUIDv5 over the canonical JSON of the type's ID-contributing
 * properties; UUIDv4 when the object has none of them). out needs 300 bytes.
 * Returns 0, 1 when the object had no contributing properties (a random id was made), or -1
 * when the type is not an SCO. */
int kz_stix_sco_id(const json_t *sco, char *out, size_t outlen);

/* Hash values (hashes.c). The form problem of `value` (len bytes) for hash algorithm `algo`
 * as the vocabulary names it ("SHA-256"): a static message, or NULL when the value is well
 * formed or the algorithm has no fixed form (custom algorithms). */
const char *kz_stix_hash_problem(const char *algo, const char *value, size_t len);
/* The vocabulary name of an algorithm written loosely ("sha256", "SHA-256" → "SHA-256"), as
 * patterns may write it; NULL when it is not a known algorithm. */
const char *kz_stix_hash_algorithm(const char *written);

/* TLP markings (1.0 and 2.0): known marking-definition ids and their levels. */
typedef enum {
    KZ_TLP_NONE = 0,
    KZ_TLP_CLEAR,       /* 2.0 CLEAR, 1.0 WHITE */
    KZ_TLP_GREEN,
    KZ_TLP_AMBER,
    KZ_TLP_AMBER_STRICT,
    KZ_TLP_RED,
} kz_tlp_level;

typedef struct kz_tlp_marking {
    const char *id;
    const char *name; /* e.g. "TLP:AMBER+STRICT" */
    kz_tlp_level level;
    int tlp_version; /* 1 or 2 */
} kz_tlp_marking;

/* The marking for an id, or NULL when the id is not a standard TLP marking. */
const kz_tlp_marking *kz_tlp_lookup(const char *id);
/* All nine standard markings; *n receives the count. */
const kz_tlp_marking *kz_tlp_all(size_t *n);

/* Serialise an object: compact JSON with properties in input order (round trip), or the
 * RFC 8785 canonical form when canonical is true. Returns a malloc'd string or NULL. */
char *kz_stix_serialize(const json_t *obj, bool canonical);

#endif
