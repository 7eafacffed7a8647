/* Internal: checks for STIX's structured value types (values.c), shared by the walker and
 * the type tables. Each reports at the context's current pointer. */
#ifndef KZ_STIX_VALUES_H
#define KZ_STIX_VALUES_H

#include "rules.h"

void kz_check_timestamp(kz_vctx *c, const json_t *v);
void kz_check_hashes(kz_vctx *c, const json_t *v);
void kz_check_dict(kz_vctx *c, const json_t *v);
void kz_check_kill_chain_phases(kz_vctx *c, const json_t *v);
void kz_check_external_references(kz_vctx *c, const json_t *v);
void kz_check_granular_markings(kz_vctx *c, const json_t *v);
void kz_check_extensions(kz_vctx *c, const json_t *v);
void kz_check_custom_property_name(kz_vctx *c, const char *name, const json_t *v);
void kz_check_props_multi(kz_vctx *c, const json_t *obj, const kz_prop_rule *const *tables,
                          size_t ntables, bool allow_custom);
bool kz_is_base64(const char *s);
bool kz_is_hex(const char *s);

#endif
