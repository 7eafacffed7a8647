/*
 * kizuna json: the jansson layer. Strict loading (duplicate keys rejected, positions in
 * errors), reading files that hold one document or JSON lines, and RFC 8785 canonical form.
 *
 * Values are jansson's json_t; the caller owns what a function returns (json_decref).
 */
#ifndef KIZUNA_JSON_H
#define KIZUNA_JSON_H

#include <jansson.h>
#include <kizuna/core.h>

/* Where and why a document failed to parse. line and column are 1-based. */
typedef struct kz_json_error {
    int line, column;
    size_t position; /* byte offset */
    char text[256];
} kz_json_error;

/* Parse exactly one JSON value from buf. Duplicate object keys, invalid UTF-8, nesting deeper
 * than jansson's bound (2048) and trailing garbage are errors. Returns a new reference or NULL
 * with err filled. */
json_t *kz_json_parse(const char *buf, size_t len, kz_json_error *err);

/* Callback for kz_json_each_document: one top-level document and the 1-based line it starts
 * on. Return 0 to continue, non-zero to stop (that value is returned by the reader). */
typedef int (*kz_json_doc_fn)(void *ctx, json_t *doc, int line);
/* Callback for a document that failed to parse; the reader continues with the next line when
 * the input is JSON lines. */
typedef int (*kz_json_err_fn)(void *ctx, const kz_json_error *err);

/* Read an input that holds either one JSON document (possibly spread over many lines) or
 * JSON lines (one document per line, blank lines ignored). Each document is passed to on_doc,
 * which borrows it. Returns 0, or the first non-zero callback result. */
int kz_json_each_document(const char *buf, size_t len, kz_json_doc_fn on_doc, kz_json_err_fn on_err,
                          void *ctx);

/* Read a file ("-" is stdin) that holds one document, JSON lines, or arrays of documents, and
 * append every document to the array `into`, a top-level array contributing its elements.
 * Each parse error is passed to on_err (JSON lines go on with the next line). Returns the
 * number of parse errors, or -1 with errno set when the file cannot be read. */
long kz_json_append_file(const char *path, json_t *into, kz_json_err_fn on_err, void *ctx);

/* Append the RFC 8785 (JCS) canonical serialisation of v to out: keys sorted by UTF-16 code
 * units, no whitespace, ECMAScript number formatting, minimal string escaping.
 * Returns 0, or -1 for a value that has no canonical form (NaN/Inf) or on out of memory. */
int kz_json_canonical(const json_t *v, kz_buf *out);

/* Append s[0..n) as a JSON string literal, escaped as the canonical form escapes it (the
 * caller checks that s is UTF-8). Returns 0, or -1 on out of memory. */
int kz_json_put_string(kz_buf *out, const char *s, size_t n);

/* Read a whole file ("-" is stdin) into memory. Returns a malloc'd buffer (NUL-terminated)
 * and its length, or NULL with errno set. */
char *kz_read_file(const char *path, size_t *len);

#endif
