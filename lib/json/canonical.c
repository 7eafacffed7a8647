/*
 * RFC 8785 JSON Canonicalization Scheme (JCS) over jansson values.
 *
 * The canonical form is what SCO identifiers (UUIDv5) and stored object bytes are computed
 * from, so it must match every other JCS implementation byte for byte:
 *  - object members sorted by their names as arrays of UTF-16 code units (a character above
 *    U+FFFF sorts by its high surrogate, i.e. before U+E000..U+FFFF, not after);
 *  - numbers as ECMAScript Number.prototype.toString prints the IEEE double: the shortest
 *    digit string that reads back to the same double, plain notation for exponents -7 < e < 21,
 *    "1e+21" style beyond, "-0" as "0";
 *  - strings with only \" \\ \b \f \n \r \t and \u00xx (lowercase) escapes, everything else
 *    literal UTF-8.
 * Integers are JSON numbers too: within +-2^53 they print as decimal (the same text the double
 * would give); larger ones print as the double they round to, as any JCS producer would.
 * Not done here: rejecting duplicate keys (jansson objects cannot hold them) or validating
 * UTF-8 (kz_json_parse did that; bytes that are not UTF-8 are passed through).
 */
#include <kizuna/json.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper values cannot come from kz_json_parse; the bound protects the C stack from values
 * built in code. */
#define CANON_MAX_DEPTH 4096

/* ---- UTF-16 ordering of UTF-8 names ----------------------------------------------------- */

/* Decode one code point from s (NUL-terminated); advance *i. Invalid bytes decode as
 * themselves, which keeps the order total without failing. */
static unsigned decode_utf8(const unsigned char *s, size_t *i)
{
    unsigned c = s[*i];
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (c < 0x80 || !extra) {
        (*i)++;
        return c;
    }
    unsigned cp = c & (0x3fu >> extra);
    for (int k = 1; k <= extra; k++) {
        unsigned b = s[*i + (size_t)k];
        if ((b & 0xc0) != 0x80) {
            (*i)++;
            return c;
        }
        cp = (cp << 6) | (b & 0x3f);
    }
    *i += (size_t)extra + 1;
    return cp;
}

/* A cursor that yields UTF-16 code units from UTF-8 text. */
typedef struct {
    const unsigned char *s;
    size_t i;
    unsigned pending; /* low surrogate still to yield, or 0 */
} u16cur;

/* Next code unit, or -1 at the end. */
static long next_unit(u16cur *c)
{
    if (c->pending) {
        unsigned u = c->pending;
        c->pending = 0;
        return (long)u;
    }
    if (!c->s[c->i])
        return -1;
    unsigned cp = decode_utf8(c->s, &c->i);
    if (cp >= 0x10000) {
        cp -= 0x10000;
        c->pending = 0xdc00 + (cp & 0x3ff);
        return 0xd800L + (long)(cp >> 10);
    }
    return (long)cp;
}

static int cmp_utf16(const char *a, const char *b)
{
    u16cur x = {(const unsigned char *)a, 0, 0}, y = {(const unsigned char *)b, 0, 0};
    for (;;) {
        long ua = next_unit(&x), ub = next_unit(&y);
        if (ua != ub)
            return ua < ub ? -1 : 1;
        if (ua < 0)
            return 0;
    }
}

static int cmp_keys(const void *a, const void *b)
{
    return cmp_utf16(*(const char *const *)a, *(const char *const *)b);
}

/* ---- strings ---------------------------------------------------------------------------- */

int kz_json_put_string(kz_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    kz_buf_putc(out, '"');
    size_t run = 0; /* start of the pending literal run */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (ch) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (ch < 0x20) {
                u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0';
                u[4] = hex[ch >> 4], u[5] = hex[ch & 15], u[6] = 0;
                esc = u;
            }
        }
        if (esc) {
            kz_buf_append(out, s + run, i - run);
            kz_buf_puts(out, esc);
            run = i + 1;
        }
    }
    kz_buf_append(out, s + run, n - run);
    return kz_buf_putc(out, '"');
}

/* ---- numbers ---------------------------------------------------------------------------- */

/* The shortest digit string of d (> 0, finite) that reads back as d, into dig without
 * trailing zeros, its length into *k; returns ECMAScript's n: d = 0.DIGITS * 10^n. printf's
 * %e rounds correctly, so the first precision that round-trips gives the nearest such digits,
 * which is the choice Number::toString makes. */
static int shortest_digits(double d, char *dig, int *k)
{
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d || p == 17)
            break;
    }
    /* tmp is "D[.DDD]e[+-]XX" (the decimal point may be a locale's; skip any non-digit). */
    int nd = 0;
    const char *q = tmp;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            dig[nd++] = *q;
    int exp10 = (int)strtol(q + 1, NULL, 10); /* printf's own exponent: always well-formed */
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    dig[nd] = 0;
    *k = nd;
    return exp10 + 1;
}

static int put_double(kz_buf *out, double d)
{
    if (!isfinite(d))
        return -1;
    if (d == 0)
        return kz_buf_putc(out, '0'); /* also -0 */
    char s[64], dig[24];
    size_t o = 0;
    if (d < 0) {
        s[o++] = '-';
        d = -d;
    }
    int k, n = shortest_digits(d, dig, &k);
    if (k <= n && n <= 21) {
        memcpy(s + o, dig, (size_t)k), o += (size_t)k;
        for (int i = 0; i < n - k; i++)
            s[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(s + o, dig, (size_t)n), o += (size_t)n;
        s[o++] = '.';
        memcpy(s + o, dig + n, (size_t)(k - n)), o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        s[o++] = '0', s[o++] = '.';
        for (int i = 0; i < -n; i++)
            s[o++] = '0';
        memcpy(s + o, dig, (size_t)k), o += (size_t)k;
    } else {
        s[o++] = dig[0];
        if (k > 1) {
            s[o++] = '.';
            memcpy(s + o, dig + 1, (size_t)(k - 1)), o += (size_t)(k - 1);
        }
        o += (size_t)snprintf(s + o, sizeof s - o, "e%c%d", n - 1 < 0 ? '-' : '+',
                              abs(n - 1));
    }
    return kz_buf_append(out, s, o);
}

static int put_integer(kz_buf *out, json_int_t i)
{
    const json_int_t lim = (json_int_t)1 << 53;
    if (i >= -lim && i <= lim)
        return kz_buf_printf(out, "%lld", (long long)i);
    return put_double(out, (double)i);
}

/* ---- values ----------------------------------------------------------------------------- */

static int put_value(const json_t *v, kz_buf *out, int depth);

static int put_object(const json_t *v, kz_buf *out, int depth)
{
    size_t n = json_object_size(v);
    if (n == 0)
        return kz_buf_puts(out, "{}");
    const char **keys = malloc(n * sizeof *keys);
    if (!keys)
        return -1;
    size_t i = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        if (i < n)
            keys[i++] = key;
    }
    qsort(keys, i, sizeof *keys, cmp_keys);
    int rc = kz_buf_putc(out, '{');
    for (size_t j = 0; j < i && rc == 0; j++) {
        if (j)
            kz_buf_putc(out, ',');
        kz_json_put_string(out, keys[j], strlen(keys[j]));
        kz_buf_putc(out, ':');
        rc = put_value(json_object_get(v, keys[j]), out, depth + 1);
    }
    free(keys);
    if (rc)
        return rc;
    return kz_buf_putc(out, '}');
}

static int put_value(const json_t *v, kz_buf *out, int depth)
{
    if (!v || depth > CANON_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return put_object(v, out, depth);
    case JSON_ARRAY: {
        int rc = kz_buf_putc(out, '[');
        for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
            if (i)
                kz_buf_putc(out, ',');
            rc = put_value(json_array_get(v, i), out, depth + 1);
        }
        return rc ? rc : kz_buf_putc(out, ']');
    }
    case JSON_STRING: return kz_json_put_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return put_integer(out, json_integer_value(v));
    case JSON_REAL: return put_double(out, json_real_value(v));
    case JSON_TRUE: return kz_buf_puts(out, "true");
    case JSON_FALSE: return kz_buf_puts(out, "false");
    case JSON_NULL: return kz_buf_puts(out, "null");
    }
    return -1;
}

int kz_json_canonical(const json_t *v, kz_buf *out)
{
    int rc = put_value(v, out, 0);
    if (out->oom)
        return -1;
    return rc ? -1 : 0;
}
