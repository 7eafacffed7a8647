/*
 * Strict RFC 8259 parser that builds jansson values, written because json_loadb reads its
 * input one byte at a time through a function pointer and was 90% of the parse+validate time
 * (docs/JSON.md has the figures).
 *
 * It accepts exactly what json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) accepts and
 * builds json_equal values; tests/unit/test_json_parse.c and fuzz/fuzz_json_parse.c check
 * that against jansson itself. Invariants:
 *  - every string handed to jansson is valid UTF-8 without NUL bytes, so the *_nocheck
 *    constructors are safe;
 *  - no recursion: open containers live on an explicit stack bounded by KZ_JSON_MAX_DEPTH,
 *    so no input can exhaust the C stack;
 *  - nothing is read outside buf[0..len); the input need not be NUL-terminated.
 * Speed comes from scanning string bodies 16 (SSE2) or 8 (SWAR) bytes at a time, handing
 * escape-free strings to jansson straight from the input, and detecting duplicate keys from
 * the object size after insertion instead of a separate lookup.
 * Not done here: comments, NaN/Infinity, a byte-order mark, \u0000 (jansson's JSON_ALLOW_NUL)
 * or integers outside int64 (an error, as in jansson, not a silent real).
 */
#include "parse_internal.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef const unsigned char *cursor;

/* A growable byte buffer for strings that need unescaping. */
typedef struct {
    char *p;
    size_t len, cap;
} scratch;

typedef struct {
    cursor buf, end;
    kz_json_error *err;
    scratch key, val; /* decoded object key and decoded string value, kept apart because a
                         key must survive until its value is parsed */
} parser;

/* ---- errors ----------------------------------------------------------------------------- */

/* Errors are rare, so the line and column are found by counting newlines only then. */
static void fail(parser *ps, cursor at, const char *fmt, ...) KZ_PRINTF(3, 4);
static void fail(parser *ps, cursor at, const char *fmt, ...)
{
    kz_json_error *e = ps->err;
    if (!e)
        return;
    long line = 1;
    cursor ls = ps->buf, q = ps->buf;
    while ((q = memchr(q, '\n', (size_t)(at - q))) != NULL) {
        line++;
        ls = ++q;
    }
    size_t col = (size_t)(at - ls) + 1;
    e->line = line > INT_MAX ? INT_MAX : (int)line;
    e->column = col > INT_MAX ? INT_MAX : (int)col;
    e->position = (size_t)(at - ps->buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
}

/* "expected X": says what was found instead, the end of input included. */
static void fail_expect(parser *ps, cursor at, const char *what)
{
    if (at >= ps->end)
        fail(ps, at, "unexpected end of input: expected %s", what);
    else if (*at >= 0x21 && *at < 0x7f)
        fail(ps, at, "expected %s, found '%c'", what, *at);
    else
        fail(ps, at, "expected %s, found byte 0x%02x", what, *at);
}

/* ---- scanning --------------------------------------------------------------------------- */

static inline bool is_ws(unsigned c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
static inline bool is_digit(unsigned c)
{
    return c - '0' < 10;
}

static inline cursor skip_ws(cursor p, cursor end)
{
    if (p<end && * p> ' ')
        return p;
    while (p < end) {
#if defined(__SSE2__)
        /* Indented documents have long runs of spaces after each newline. */
        if (*p == ' ' && end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
            if (m == 0xffff) {
                p += 16;
                continue;
            }
            p += __builtin_ctz(~m);
            continue;
        }
#endif
        if (!is_ws(*p))
            break;
        p++;
    }
    return p;
}

/* First byte in [p, end) that ends a plain run inside a string: '"', '\\', a control
 * character (< 0x20) or a non-ASCII byte (>= 0x80, to be validated); end if none. */
static inline cursor string_stop(cursor p, cursor end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so one test catches both ranges. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                 _mm_cmplt_epi8(x, space));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz(bits);
        p += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
        uint64_t hit = (v & highs) | ((v - ones * 0x20) & ~v & highs) | ((q - ones) & ~q & highs) |
                       ((b - ones) & ~b & highs);
        if (hit)
            break; /* the byte loop below finds which one, on any byte order */
        p += 8;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80)
        p++;
    return p;
}

/* Length (2..4) of the well-formed UTF-8 sequence at p (whose first byte is >= 0x80), or 0.
 * Well-formed per Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF. */
static inline int utf8_len(cursor p, cursor end)
{
    unsigned c = p[0];
    ptrdiff_t avail = end - p;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0)
        return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c < 0xf0) {
        if (avail < 3 || (p[2] & 0xc0) != 0x80)
            return 0;
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return p[1] >= lo && p[1] <= hi ? 3 : 0;
    }
    if (c < 0xf5) {
        if (avail < 4 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= lo && p[1] <= hi ? 4 : 0;
    }
    return 0;
}

/* Says why utf8_len refused p; only called on the error path. */
static void fail_utf8(parser *ps, cursor p)
{
    unsigned c = p[0];
    int need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    const char *why = "truncated sequence";
    if (c < 0xc0)
        why = "unexpected continuation byte";
    else if (c < 0xc2)
        why = "overlong encoding";
    else if (c >= 0xf5)
        why = "byte never used in UTF-8";
    else {
        for (int i = 1; i < need; i++)
            if (p + i >= ps->end || (p[i] & 0xc0) != 0x80)
                goto out;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xf0 && p[1] < 0x90))
            why = "overlong encoding";
        else if (c == 0xed)
            why = "encoded surrogate (U+D800..U+DFFF)";
        else
            why = "code point above U+10FFFF";
    }
out:
    fail(ps, p, "invalid UTF-8 in string: %s at byte 0x%02x", why, c);
}

static bool scratch_put(scratch *s, const void *src, size_t n)
{
    if (n == 0)
        return true;
    if (s->cap - s->len < n) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap - s->len < n) {
            if (cap > SIZE_MAX / 2)
                return false;
            cap *= 2;
        }
        char *np = realloc(s->p, cap);
        if (!np)
            return false;
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, src, n); // NOLINT(clang-analyzer-core.NonNullParamChecker): cap > 0 ⇒ p set
    s->len += n;
    return true;
}

static int hex4(cursor p, cursor end)
{
    if (end - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (is_digit(c))
            d = c - '0';
        else if ((c | 0x20) - 'a' < 6)
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | (int)d;
    }
    return v;
}

/* Decode the escape at p (p[0] == '\\') onto s; returns the byte after it, or NULL. */
static cursor unescape(parser *ps, cursor p, scratch *s)
{
    cursor end = ps->end;
    if (end - p < 2) {
        fail(ps, end, "unexpected end of input in a string escape");
        return NULL;
    }
    char c;
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
        c = (char)p[1];
        break;
    case 'b':
        c = '\b';
        break;
    case 'f':
        c = '\f';
        break;
    case 'n':
        c = '\n';
        break;
    case 'r':
        c = '\r';
        break;
    case 't':
        c = '\t';
        break;
    case 'u': {
        int cp = hex4(p + 2, end);
        if (cp < 0) {
            fail(ps, p, "invalid \\u escape: expected 4 hexadecimal digits");
            return NULL;
        }
        cursor next = p + 6;
        if (cp == 0) {
            fail(ps, p, "\\u0000 is not allowed in strings");
            return NULL;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail(ps, p, "lone surrogate \\u%04X: a low surrogate without a high one before it",
                 (unsigned)cp);
            return NULL;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int lo =
                end - next >= 6 && next[0] == '\\' && next[1] == 'u' ? hex4(next + 2, end) : -1;
            if (lo < 0xdc00 || lo > 0xdfff) {
                fail(ps, p,
                     "lone surrogate \\u%04X: expected a low surrogate \\uDC00..\\uDFFF "
                     "after it",
                     (unsigned)cp);
                return NULL;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            next += 6;
        }
        unsigned char u[4];
        size_t n;
        if (cp < 0x80) {
            u[0] = (unsigned char)cp;
            n = 1;
        } else if (cp < 0x800) {
            u[0] = (unsigned char)(0xc0 | cp >> 6);
            u[1] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            u[0] = (unsigned char)(0xe0 | cp >> 12);
            u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
            u[2] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            u[0] = (unsigned char)(0xf0 | cp >> 18);
            u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
            u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
            u[3] = (unsigned char)(0x80 | (cp & 0x3f));
            n = 4;
        }
        if (!scratch_put(s, u, n)) {
            fail(ps, p, "out of memory");
            return NULL;
        }
        return next;
    }
    default:
        if (p[1] >= 0x21 && p[1] < 0x7f)
            fail(ps, p, "invalid escape '\\%c' in string", p[1]);
        else
            fail(ps, p, "invalid escape in string: '\\' followed by byte 0x%02x", p[1]);
        return NULL;
    }
    if (!scratch_put(s, &c, 1)) {
        fail(ps, p, "out of memory");
        return NULL;
    }
    return p + 2;
}

/* Scan the string whose opening quote is at p. On success returns the byte after the closing
 * quote and sets *out and *n to its value: a slice of the input when it has no escapes, else the
 * decoded text in s. NULL on error. */
static cursor scan_string(parser *ps, cursor p, scratch *s, const char **out, size_t *n)
{
    cursor end = ps->end, run = ++p;
    bool decoded = false;
    for (;;) {
        p = string_stop(p, end);
        if (p == end) {
            fail(ps, p, "unexpected end of input in a string");
            return NULL;
        }
        unsigned c = *p;
        if (c == '"')
            break;
        if (c >= 0x80) {
            int k = utf8_len(p, end);
            if (!k) {
                fail_utf8(ps, p);
                return NULL;
            }
            p += k;
            continue;
        }
        if (c < 0x20) {
            fail(ps, p, "control character 0x%02x in string (it must be escaped)", c);
            return NULL;
        }
        if (!decoded) {
            s->len = 0;
            decoded = true;
        }
        if (!scratch_put(s, run, (size_t)(p - run))) {
            fail(ps, p, "out of memory");
            return NULL;
        }
        if (!(p = unescape(ps, p, s)))
            return NULL;
        run = p;
    }
    if (decoded) {
        if (!scratch_put(s, run, (size_t)(p - run))) {
            fail(ps, p, "out of memory");
            return NULL;
        }
        *out = s->p;
        *n = s->len;
    } else {
        *out = (const char *)run;
        *n = (size_t)(p - run);
    }
    return p + 1;
}

/* ---- numbers ---------------------------------------------------------------------------- */

/* Exact powers of ten for the fast path: with a mantissa below 2^53 and |exponent| <= 22,
 * one IEEE multiplication or division is correctly rounded, as strtod would be. */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtod on a NUL-terminated copy, with '.' swapped for the locale's decimal point as jansson
 * does, so a program that calls setlocale() parses the same numbers. */
static bool slow_strtod(cursor start, size_t n, double *out)
{
    char local[64], *t = n < sizeof local ? local : malloc(n + 1);
    if (!t)
        return false;
    memcpy(t, start, n);
    t[n] = '\0';
    const char *point = localeconv()->decimal_point;
    if (point && point[0] && point[0] != '.' && !point[1]) {
        char *dot = memchr(t, '.', n);
        if (dot)
            *dot = point[0];
    }
    errno = 0;
    char *stop;
    double d = strtod(t, &stop);
    bool ok = !(errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) && stop == t + n;
    if (t != local)
        free(t);
    *out = d;
    return ok;
}

/* Parse the number at p (p[0] is '-' or a digit). Returns the byte after it, or NULL. */
static cursor parse_number(parser *ps, cursor p, json_t **out)
{
    cursor end = ps->end, start = p;
    bool neg = *p == '-';
    if (neg)
        p++;
    cursor digits = p;
    if (p < end && *p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            fail(ps, p - 1, "leading zeros are not allowed in numbers");
            return NULL;
        }
    } else if (p < end && is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        fail_expect(ps, p, "a digit after '-'");
        return NULL;
    }
    cursor int_end = p, frac = NULL;
    if (p < end && *p == '.') {
        frac = ++p;
        if (p == end || !is_digit(*p)) {
            fail_expect(ps, p, "a digit after the decimal point");
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    cursor frac_end = p, exp = NULL;
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        exp = p;
        if (p == end || !is_digit(*p)) {
            fail_expect(ps, p, "a digit in the exponent");
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }

    if (!frac && !exp) {
        /* int64 like jansson's strtoll: anything outside is an error, not a real. */
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, u = 0;
        for (cursor q = digits; q < int_end; q++) {
            unsigned d = *q - '0';
            if (u > (limit - d) / 10) {
                fail(ps, start, neg ? "too big negative integer" : "too big integer");
                return NULL;
            }
            u = u * 10 + d;
        }
        json_int_t v = !neg ? (json_int_t)u : u > (uint64_t)INT64_MAX ? INT64_MIN : -(json_int_t)u;
        if (!(*out = json_integer(v)))
            fail(ps, start, "out of memory");
        return *out ? p : NULL;
    }

    double d = 0;
    bool fast = false;
#if FLT_EVAL_METHOD == 0
    size_t nint = (size_t)(int_end - digits), nfrac = frac ? (size_t)(frac_end - frac) : 0;
    if (nint + nfrac <= 19 && (!exp || p - exp <= 4)) {
        uint64_t m = 0;
        for (cursor q = digits; q < int_end; q++)
            m = m * 10 + (unsigned)(*q - '0');
        for (cursor q = frac; q && q < frac_end; q++)
            m = m * 10 + (unsigned)(*q - '0');
        long e = 0;
        if (exp) {
            for (cursor q = exp; q < p; q++)
                e = e * 10 + (*q - '0');
            if (exp[-1] == '-')
                e = -e;
        }
        e -= (long)nfrac;
        if (m <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
            d = e >= 0 ? (double)m * pow10_exact[e] : (double)m / pow10_exact[-e];
            fast = true;
        }
    }
#endif
    if (!fast && !slow_strtod(start, (size_t)(p - start), &d)) {
        fail(ps, start, "real number overflow");
        return NULL;
    }
    if (fast && neg)
        d = -d;
    if (!(*out = json_real(d)))
        fail(ps, start, "out of memory");
    return *out ? p : NULL;
}

/* ---- the parser ------------------------------------------------------------------------- */

/* Add v (a new reference, consumed even on failure) to the innermost open container, or make
 * it the root. Duplicate keys show as an object that did not grow: jansson replaces the
 * value of an existing key, and the whole parse is abandoned right after. */
static bool attach(parser *ps, json_t **stack, size_t depth, json_t **root, json_t *v,
                   const char *key, size_t keylen, cursor keypos, cursor at)
{
    if (!v) {
        fail(ps, at, "out of memory");
        return false;
    }
    if (depth == 0) {
        *root = v;
        return true;
    }
    json_t *top = stack[depth - 1];
    if (json_is_array(top)) {
        if (json_array_append_new(top, v) == 0)
            return true;
        fail(ps, at, "out of memory");
        return false;
    }
    size_t before = json_object_size(top);
    if (json_object_setn_new_nocheck(top, key, keylen, v) != 0) {
        fail(ps, at, "out of memory");
        return false;
    }
    if (json_object_size(top) != before)
        return true;
    /* Show at most 64 bytes of the key, cut on a UTF-8 boundary. */
    int shown = (int)(keylen > 64 ? 64 : keylen);
    while (shown > 0 && (size_t)shown < keylen && ((unsigned char)key[shown] & 0xc0) == 0x80)
        shown--;
    fail(ps, keypos, "duplicate object key '%.*s'%s", shown, key,
         (size_t)shown < keylen ? "..." : "");
    return false;
}

json_t *kz_json_parse_strict(const char *buf, size_t len, kz_json_error *err)
{
    if (!buf) {
        if (len) {
            parser none = {(cursor) "", (cursor) "", err, {0}, {0}};
            fail(&none, none.buf, "no input buffer");
            return NULL;
        }
        buf = "";
    }
    parser ps = {(cursor)buf, (cursor)buf + len, err, {0}, {0}};
    cursor p = ps.buf, end = ps.end;
    json_t *local[64], **stack = local, *root = NULL;
    size_t depth = 0, cap = sizeof local / sizeof local[0];
    const char *key = NULL;
    size_t keylen = 0;
    cursor keypos = NULL;
    bool ok = false;

    p = skip_ws(p, end);
    for (;;) {
        /* A value is expected at p. */
        if (depth >= KZ_JSON_MAX_DEPTH) {
            fail(&ps, p, "maximum parsing depth reached (%d levels)", KZ_JSON_MAX_DEPTH);
            goto out;
        }
        json_t *v;
        const char *s;
        size_t n;
        cursor at = p;
        switch (p < end ? *p : 0) {
        case '"':
            if (!(p = scan_string(&ps, p, &ps.val, &s, &n)))
                goto out;
            v = json_stringn_nocheck(s, n);
            break;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
            if (!(p = parse_number(&ps, p, &v)))
                goto out;
            break;
        case 't':
            if (end - p < 4 || memcmp(p, "true", 4) != 0)
                goto bad_value;
            v = json_true();
            p += 4;
            break;
        case 'f':
            if (end - p < 5 || memcmp(p, "false", 5) != 0)
                goto bad_value;
            v = json_false();
            p += 5;
            break;
        case 'n':
            if (end - p < 4 || memcmp(p, "null", 4) != 0)
                goto bad_value;
            v = json_null();
            p += 4;
            break;
        case '{':
        case '[': {
            bool is_obj = *p == '{';
            v = is_obj ? json_object() : json_array();
            if (!attach(&ps, stack, depth, &root, v, key, keylen, keypos, at))
                goto out;
            if (depth == cap) {
                size_t ncap = cap * 2 > KZ_JSON_MAX_DEPTH ? KZ_JSON_MAX_DEPTH : cap * 2;
                json_t **ns = malloc(ncap * sizeof *ns); // NOLINT(bugprone-sizeof-expression)
                if (!ns) {
                    fail(&ps, at, "out of memory");
                    goto out;
                }
                memcpy(ns, stack, depth * sizeof *ns); // NOLINT(bugprone-sizeof-expression)
                if (stack != local)
                    free(stack);
                stack = ns;
                cap = ncap;
            }
            stack[depth++] = v;
            p = skip_ws(p + 1, end);
            if (p < end && *p == (is_obj ? '}' : ']')) {
                depth--;
                p++;
                goto after_value;
            }
            if (is_obj)
                goto member;
            continue;
        }
        default:
        bad_value:
            fail_expect(&ps, p, "a JSON value");
            goto out;
        }
        if (!attach(&ps, stack, depth, &root, v, key, keylen, keypos, at))
            goto out;

    after_value:
        /* A value just ended; what may follow depends on the innermost container. */
        if (depth == 0)
            break;
        p = skip_ws(p, end);
        if (json_is_array(stack[depth - 1])) {
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == ']') {
                depth--;
                p++;
                goto after_value;
            }
            fail_expect(&ps, p, "',' or ']' after an array element");
            goto out;
        }
        if (p < end && *p == '}') {
            depth--;
            p++;
            goto after_value;
        }
        if (p >= end || *p != ',') {
            fail_expect(&ps, p, "',' or '}' after an object member");
            goto out;
        }
        p = skip_ws(p + 1, end);
        if (p >= end || *p != '"') {
            fail_expect(&ps, p, "a string key after ','");
            goto out;
        }

    member:
        /* An object member starts at p: a key, ':' and then its value. */
        if (p >= end || *p != '"') {
            fail_expect(&ps, p, "a string key or '}'");
            goto out;
        }
        keypos = p;
        if (!(p = scan_string(&ps, p, &ps.key, &key, &keylen)))
            goto out;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') {
            fail_expect(&ps, p, "':' after an object key");
            goto out;
        }
        p = skip_ws(p + 1, end);
    }

    p = skip_ws(p, end);
    if (p < end) {
        fail_expect(&ps, p, "end of input after the JSON value");
        goto out;
    }
    ok = true;
out:
    if (stack != local)
        free(stack);
    free(ps.key.p);
    free(ps.val.p);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}
