/*
 * Internal: the vocabularies and enumerations used by STIX Cyber-observable Objects and their
 * predefined extensions (STIX 2.1 section 10, and the STIX 2.0 hash vocabulary). Each is a
 * NULL-terminated array for kz_prop_rule.values. Open vocabularies (-ov) only suggest values;
 * enumerations (-enum) are the only allowed values. SDO vocabularies live in vocab.h.
 */
#ifndef KZ_STIX_VOCAB_SCO_H
#define KZ_STIX_VOCAB_SCO_H

/* account-type-ov */
extern const char *const kz_vocab_account_type[];
/* encryption-algorithm-enum (2.1, artifact) */
extern const char *const kz_vocab_encryption_algorithm_enum[];
/* encryption-algorithm-ov (2.0, file) */
extern const char *const kz_vocab_encryption_algorithm_20[];
/* hash-algorithm-ov, 2.1 and 2.0 spellings */
extern const char *const kz_vocab_hash_algorithm[];
extern const char *const kz_vocab_hash_algorithm_20[];
/* network-socket-address-family-enum */
extern const char *const kz_vocab_socket_address_family_enum[];
/* network-socket-type-enum */
extern const char *const kz_vocab_socket_type_enum[];
/* windows-integrity-level-enum */
extern const char *const kz_vocab_windows_integrity_level_enum[];
/* windows-pebinary-type-ov */
extern const char *const kz_vocab_windows_pebinary_type[];
/* windows-registry-datatype-enum */
extern const char *const kz_vocab_windows_registry_datatype_enum[];
/* windows-service-start-type-enum */
extern const char *const kz_vocab_windows_service_start_type_enum[];
/* windows-service-type-enum */
extern const char *const kz_vocab_windows_service_type_enum[];
/* windows-service-status-enum */
extern const char *const kz_vocab_windows_service_status_enum[];
/* The 18 SCO type names of STIX 2.1 (the same 18 exist in 2.0). */
extern const char *const kz_vocab_sco_types[];

#endif
