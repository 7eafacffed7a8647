/*
 * Internal: the STIX vocabularies and enumerations used by SDOs, SROs and meta objects
 * (section 10 of STIX 2.1, plus the STIX 2.0 label vocabularies). Each is a NULL-terminated
 * array for kz_prop_rule.values. Open vocabularies (-ov) only suggest values; enumerations
 * (-enum) are the only allowed values. SCO vocabularies live elsewhere (vocab_sco.c).
 */
#ifndef KZ_STIX_VOCAB_H
#define KZ_STIX_VOCAB_H

/* attack-motivation-ov */
extern const char *const kz_vocab_attack_motivation[];
/* attack-resource-level-ov */
extern const char *const kz_vocab_attack_resource_level[];
/* extension-type-enum */
extern const char *const kz_vocab_extension_type_enum[];
/* grouping-context-ov */
extern const char *const kz_vocab_grouping_context[];
/* identity-class-ov */
extern const char *const kz_vocab_identity_class[];
/* implementation-language-ov */
extern const char *const kz_vocab_implementation_language[];
/* indicator-type-ov */
extern const char *const kz_vocab_indicator_type[];
/* industry-sector-ov */
extern const char *const kz_vocab_industry_sector[];
/* infrastructure-type-ov */
extern const char *const kz_vocab_infrastructure_type[];
/* malware-capabilities-ov */
extern const char *const kz_vocab_malware_capabilities[];
/* malware-result-ov */
extern const char *const kz_vocab_malware_result[];
/* malware-type-ov */
extern const char *const kz_vocab_malware_type[];
/* opinion-enum */
extern const char *const kz_vocab_opinion_enum[];
/* pattern-type-ov */
extern const char *const kz_vocab_pattern_type[];
/* processor-architecture-ov */
extern const char *const kz_vocab_processor_architecture[];
/* region-ov */
extern const char *const kz_vocab_region[];
/* report-type-ov */
extern const char *const kz_vocab_report_type[];
/* threat-actor-type-ov */
extern const char *const kz_vocab_threat_actor_type[];
/* threat-actor-role-ov */
extern const char *const kz_vocab_threat_actor_role[];
/* threat-actor-sophistication-ov */
extern const char *const kz_vocab_threat_actor_sophistication[];
/* tool-type-ov */
extern const char *const kz_vocab_tool_type[];
/* indicator-label-ov (STIX 2.0) */
extern const char *const kz_vocab_indicator_label_20[];
/* malware-label-ov (STIX 2.0) */
extern const char *const kz_vocab_malware_label_20[];
/* report-label-ov (STIX 2.0) */
extern const char *const kz_vocab_report_label_20[];
/* threat-actor-label-ov (STIX 2.0) */
extern const char *const kz_vocab_threat_actor_label_20[];
/* tool-label-ov (STIX 2.0) */
extern const char *const kz_vocab_tool_label_20[];
/* identity-class-ov (STIX 2.0: no "system") */
extern const char *const kz_vocab_identity_class_20[];
/* marking definition types defined by the specification (7.2.1) */
extern const char *const kz_vocab_marking_definition_type[];
/* TLP 1.0 levels of the legacy "tlp" marking object (7.2.1.4) */
extern const char *const kz_vocab_tlp_level[];

#endif
