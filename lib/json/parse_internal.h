/*
 * Internal interface of the strict JSON parser (lib/json/parse.c), shared by the json module
 * and its tests. Not part of the public API: callers use kz_json_parse in <kizuna/json.h>.
 */
#ifndef KZ_JSON_PARSE_INTERNAL_H
#define KZ_JSON_PARSE_INTERNAL_H

#include <kizuna/json.h>

/* Deepest nesting accepted, counted as jansson does: the top-level value is at depth 1 and
 * every value inside a container is one deeper than the container, scalars included. */
#define KZ_JSON_MAX_DEPTH 2048

/* Parse exactly one RFC 8259 value from buf[0..len) into jansson values. Same contract as
 * kz_json_parse: a new reference, or NULL with err (if not NULL) filled with the 1-based line
 * and byte column of the offending byte, its byte offset and a message. */
json_t *kz_json_parse_strict(const char *buf, size_t len, kz_json_error *err);

#endif
