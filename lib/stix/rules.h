/*
 * Internal: the rule tables that define the STIX object model, and the walker's context.
 *
 * Each STIX type is a kz_type_rules: a table of kz_prop_rule (name, value kind, flags,
 * vocabulary or allowed reference types) plus an optional function for the rules that span
 * several properties (created <= modified, valid_from <= valid_until, ...). validate.c walks an
 * object against its table; the tables live in sdo.c, sro.c, meta.c and sco.c, vocabularies in
 * vocab.c. Anything not in a table is a custom property and is checked only for its name.
 */
#ifndef KZ_STIX_RULES_H
#define KZ_STIX_RULES_H

#include <kizuna/stix.h>

/* The state of one validation walk. */
typedef struct kz_vctx {
    kz_diags *d;
    const char *id;      /* the object's id, for messages (may be NULL) */
    kz_ptr ptr;          /* where we are inside the object */
    kz_stix_version ver; /* the version the object is being checked against */
    const kz_stix_opts *opts;
    const json_t *obj; /* the object being validated */
    size_t errors;     /* errors added by this walk */
    /* STIX 2.0 observed-data: the `objects` dictionary the SCO lives in. When set, _ref
     * values are keys of this dictionary instead of identifiers. */
    const json_t *scope;
    bool has_toplevel_ext; /* an extension-definition is used: unknown top-level names are
                              extension properties, not x_-prefixed custom ones */
} kz_vctx;

void kz_v_error(kz_vctx *c, const char *fmt, ...) KZ_PRINTF(2, 3);
void kz_v_warn(kz_vctx *c, const char *fmt, ...) KZ_PRINTF(2, 3);
/* The same with the pointer extended by one key, for cross-property rules. */
void kz_v_error_at(kz_vctx *c, const char *key, const char *fmt, ...) KZ_PRINTF(3, 4);
void kz_v_warn_at(kz_vctx *c, const char *key, const char *fmt, ...) KZ_PRINTF(3, 4);

typedef enum {
    KZ_P_STRING,         /* any JSON string */
    KZ_P_STRING_LIST,    /* non-empty list of strings */
    KZ_P_INTEGER,        /* JSON integer; range from min/max when KZ_F_RANGE */
    KZ_P_FLOAT,          /* JSON number */
    KZ_P_BOOLEAN,
    KZ_P_TIMESTAMP,      /* RFC 3339, 'Z' */
    KZ_P_REF,            /* identifier; values = allowed types (NULL = any) */
    KZ_P_REF_LIST,       /* non-empty list of identifiers; values = allowed types */
    KZ_P_OPEN_VOCAB,     /* string; values = suggested values (unknown → warning) */
    KZ_P_OPEN_VOCAB_LIST,
    KZ_P_ENUM,           /* string; values = the only allowed values (unknown → error) */
    KZ_P_ENUM_LIST,
    KZ_P_HASHES,         /* hashes dictionary: known algorithms checked */
    KZ_P_DICT,           /* JSON object with at least one key, keys checked per spec */
    KZ_P_KILL_CHAIN_LIST,
    KZ_P_EXTREF_LIST,    /* external references */
    KZ_P_GRANULAR_LIST,  /* granular markings (selectors resolved against the object) */
    KZ_P_EXTENSIONS,     /* extensions dictionary */
    KZ_P_BINARY,         /* base64 */
    KZ_P_HEX,            /* hex string */
    KZ_P_OBJECT,         /* any JSON object: give a check function */
    KZ_P_LIST,           /* any JSON list: give a check function for each element */
    KZ_P_ANY,            /* anything: give a check function */
} kz_prop_kind;

enum {
    KZ_F_REQUIRED = 1u << 0,   /* required in every version where the property exists */
    KZ_F_REQ_21 = 1u << 1,     /* required in 2.1 only */
    KZ_F_REQ_20 = 1u << 2,     /* required in 2.0 only */
    KZ_F_ONLY_21 = 1u << 3,    /* defined in 2.1 only (in 2.0 it is a custom property) */
    KZ_F_ONLY_20 = 1u << 4,    /* defined in 2.0 only */
    KZ_F_RANGE = 1u << 5,      /* integer/float within [min, max] */
    KZ_F_NONEMPTY = 1u << 6,   /* string must not be empty */
    KZ_F_DEPRECATED = 1u << 7, /* allowed but deprecated → warning */
    KZ_F_ID_CONTRIB = 1u << 8, /* contributes to the deterministic SCO id */
};

typedef struct kz_prop_rule {
    const char *name;
    kz_prop_kind kind;
    unsigned flags;
    const char *const *values; /* vocabulary/enum values, or allowed ref types; NULL-terminated */
    /* Extra check on the value (after the kind's own checks), or the whole check for
     * KZ_P_OBJECT/KZ_P_ANY, or the per-element check for KZ_P_LIST. The context's pointer
     * already points at the value. */
    void (*check)(kz_vctx *c, const json_t *value);
    double min, max;
} kz_prop_rule;

typedef struct kz_type_rules {
    const char *type;
    kz_stix_category cat;
    unsigned flags;            /* KZ_F_ONLY_21: the type does not exist in 2.0 */
    const kz_prop_rule *props; /* terminated by an entry with name == NULL */
    /* Rules across properties, run after the per-property checks. */
    void (*check)(kz_vctx *c, const json_t *obj);
} kz_type_rules;

/* Tables defined in sdo.c, sro.c, meta.c, sco.c; each terminated by type == NULL. */
extern const kz_type_rules kz_sdo_rules[];
extern const kz_type_rules kz_sro_rules[];
extern const kz_type_rules kz_meta_rules[];
extern const kz_type_rules kz_sco_rules[];

/* Predefined SCO extensions (sco.c): the extension name, the SCO type it belongs to and
 * its property table. Terminated by name == NULL. */
typedef struct kz_ext_rules {
    const char *name;
    const char *sco_type;
    const kz_prop_rule *props;
    void (*check)(kz_vctx *c, const json_t *ext);
} kz_ext_rules;
extern const kz_ext_rules kz_sco_ext_rules[];

/* Find the rules for a type, or NULL. */
const kz_type_rules *kz_rules_find(const char *type);

/* Check `obj` (a JSON object) against a property table: required properties present, each
 * known property by kind, and every other key as a custom property name. Used for objects
 * and for extension bodies and sub-objects (kill-chain phases, alternate data streams...). */
void kz_check_props(kz_vctx *c, const json_t *obj, const kz_prop_rule *props,
                    bool allow_custom);

/* Helpers for check functions. */
bool kz_str_in(const char *s, const char *const *list);
/* True when the value is a valid identifier whose type is in `types` (NULL = any);
 * reports the problem at the current pointer otherwise. */
bool kz_check_ref(kz_vctx *c, const json_t *v, const char *const *types);
/* Parse a timestamp property of obj; false (no message) when absent or invalid. */
bool kz_get_time(const json_t *obj, const char *key, kz_time *t);
/* Check the pattern of an indicator (pattern_type "stix"); position-bearing message. */
void kz_check_stix_pattern(kz_vctx *c, const json_t *pattern, kz_stix_version v);

/* The STIX 2.1 Interoperability profile's extra requirements (interop.c). */
void kz_check_interop(kz_vctx *c, const json_t *obj);

/* Validate one SCO embedded in an observed-data `objects` dictionary (STIX 2.0 form, or the
 * deprecated 2.1 form): the pointer must already point at the SCO; refs resolve in `scope`. */
void kz_check_embedded_sco(kz_vctx *c, const json_t *sco, const json_t *scope);

/* ---- added by the SDO/SRO/meta tables (tlp.c) ---- */

/* The TLP 2.0 extension-definition that the five TLP 2.0 marking definitions use. */
extern const char kz_tlp2_extension_id[];
/* The standard marking-definition object for a TLP id, as version v writes it (the TLP 1.0
 * objects of STIX 2.0 have no spec_version and no name). Returns a new reference, or NULL
 * when id is not a standard TLP marking in that version (TLP 2.0 markings need 2.1). */
json_t *kz_tlp_standard_object(const char *id, kz_stix_version v);

/* (sco.c, scoid.c) Flag in kz_type_rules.flags of an SCO: its "extensions" property is one
 * of its ID Contributing Properties (file, network-traffic). Prop-level KZ_F_ID_CONTRIB marks
 * the others; "extensions" itself is a common property, so it has no entry in the table. */
enum { KZ_F_ID_EXTENSIONS = 1u << 9 };

#endif
