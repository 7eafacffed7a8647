/*
 * kizuna core: error values (diagnostics), growable strings, RFC 3339 timestamps and UUIDs.
 *
 * Ownership: every function that returns heap memory says so; free it with free() unless a
 * *_free function is named. Thread-safety: no globals; every object is owned by one thread at
 * a time. Errors: functions return 0 on success and -1 on failure, with the reason in a
 * kz_diags list or an error buffer passed by the caller.
 */
#ifndef KIZUNA_CORE_H
#define KIZUNA_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __GNUC__
#define KZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KZ_PRINTF(f, a)
#endif

/* ---- diagnostics ------------------------------------------------------------------------ */

typedef enum { KZ_SEV_ERROR = 0, KZ_SEV_WARNING = 1 } kz_severity;

/* One problem found in an input: which object (may be NULL when the input has no id yet),
 * where inside it as an RFC 6901 JSON pointer ("" is the object itself), and what is wrong. */
typedef struct kz_diag {
    kz_severity sev;
    char *object_id; /* owned; NULL when unknown */
    char *pointer;   /* owned; never NULL */
    char *message;   /* owned; never NULL */
} kz_diag;

/* A growable list of diagnostics. Zero-initialise or call kz_diags_init. */
typedef struct kz_diags {
    kz_diag *v;
    size_t n, cap;
    size_t errors, warnings;
} kz_diags;

void kz_diags_init(kz_diags *d);
void kz_diags_free(kz_diags *d);
/* Drop every entry but keep the buffer. */
void kz_diags_clear(kz_diags *d);
/* Append a diagnostic; copies id and pointer. Returns -1 only when out of memory. */
int kz_diags_add(kz_diags *d, kz_severity sev, const char *object_id, const char *pointer,
                 const char *fmt, ...) KZ_PRINTF(5, 6);
int kz_diags_addv(kz_diags *d, kz_severity sev, const char *object_id, const char *pointer,
                  const char *fmt, va_list ap) KZ_PRINTF(5, 0);

/* ---- growable string -------------------------------------------------------------------- */

typedef struct kz_buf {
    char *data; /* always NUL-terminated when len > 0 or after any append */
    size_t len, cap;
    bool oom; /* sticky: set when an append failed; the content is then truncated */
} kz_buf;

void kz_buf_init(kz_buf *b);
void kz_buf_free(kz_buf *b);
void kz_buf_reset(kz_buf *b);
int kz_buf_append(kz_buf *b, const void *p, size_t n);
int kz_buf_puts(kz_buf *b, const char *s);
int kz_buf_putc(kz_buf *b, char c);
int kz_buf_printf(kz_buf *b, const char *fmt, ...) KZ_PRINTF(2, 3);
/* Give up ownership of the NUL-terminated content (never NULL unless out of memory). */
char *kz_buf_take(kz_buf *b);

/* ---- JSON pointer builder --------------------------------------------------------------- */

/* A JSON pointer under construction while walking a document: push a key or an index,
 * pop back. Keys are escaped per RFC 6901 (~0, ~1). Bounded: deeper paths are elided with
 * "/..." rather than failing, since a pointer only serves error messages. */
#define KZ_PTR_MAX 1024
typedef struct kz_ptr {
    char s[KZ_PTR_MAX];
    size_t len;
    size_t marks[64];
    int depth;
} kz_ptr;

void kz_ptr_init(kz_ptr *p);
void kz_ptr_push_key(kz_ptr *p, const char *key);
void kz_ptr_push_index(kz_ptr *p, size_t i);
void kz_ptr_pop(kz_ptr *p);

/* ---- timestamps ------------------------------------------------------------------------- */

/* An instant: microseconds since 1970-01-01T00:00:00Z, plus the number of fractional digits
 * written in the source text so that a round trip keeps the precision as given. */
typedef struct kz_time {
    int64_t us;
    int frac_digits; /* 0..9 as written; digits past the 6th are kept in nanos_extra */
    int32_t nanos_extra; /* sub-microsecond part, for ordering exactness */
} kz_time;

/* Parse a STIX timestamp: RFC 3339 with a mandatory uppercase 'T' and 'Z' (no offsets),
 * optional fraction of any length. On failure writes a reason into err (if given). */
int kz_time_parse(const char *s, kz_time *t, char *err, size_t errlen);
/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12, d 1..31); the one
 * calendar computation behind every timestamp parser in the tree. */
int64_t kz_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Order two instants: <0, 0, >0. */
int kz_time_cmp(const kz_time *a, const kz_time *b);
/* Format as RFC 3339 UTC with `frac_digits` (0..6) digits: buf needs 32 bytes. */
void kz_time_format(int64_t us, int frac_digits, char *buf, size_t len);
/* Current wall-clock time in microseconds. */
int64_t kz_time_now_us(void);

/* ---- addresses -------------------------------------------------------------------------- */

/* IPv4 dotted decimal as inet_ntop(AF_INET) writes it; out needs 16 bytes. Returns the length. */
size_t kz_ip4_format(const uint8_t a[4], char *out);

/* ---- text ------------------------------------------------------------------------------- */

/* Whether s[0..n) is valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF; NUL bytes allowed). ASCII is checked eight bytes at a time. */
bool kz_utf8_valid(const char *s, size_t n);

/* ---- hexadecimal ------------------------------------------------------------------------ */

/* The 2 * n hex digits of the n bytes at b into out (no NUL), lowercase or uppercase. */
void kz_hex_format(const uint8_t *b, size_t n, char *out, bool upper);

/* ---- UUIDs ------------------------------------------------------------------------------ */

typedef struct kz_uuid {
    uint8_t b[16];
} kz_uuid;

/* Parse 8-4-4-4-12 hexadecimal (either case). Returns 0 or -1. */
int kz_uuid_parse(const char *s, kz_uuid *u);
/* Lowercase canonical text; out needs 37 bytes. */
void kz_uuid_format(const kz_uuid *u, char *out);
/* RFC 4122 version (high nibble of byte 6) and variant check. */
int kz_uuid_version(const kz_uuid *u);
bool kz_uuid_rfc4122_variant(const kz_uuid *u);
/* Random version 4 UUID (libsodium's CSPRNG). */
void kz_uuid_v4(kz_uuid *u);
/* Name-based version 5 UUID (SHA-1 over namespace || name). Returns 0, or -1 if hashing failed. */
int kz_uuid_v5(const kz_uuid *ns, const void *name, size_t len, kz_uuid *out);

/* Library initialisation: call once per process before threads start (libsodium). */
int kz_init(void);

#endif
