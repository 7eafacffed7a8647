/*
 * Value comparison for the pattern evaluator: one prepared comparison (operator, literal,
 * compiled regular expressions) against one value selected by an object path.
 *
 * The semantics are the OASIS reference matcher's (see docs/PATTERN-EVAL.md), which the
 * conformance vectors pin down:
 *   - =, != and IN compare code points exactly (no normalisation); LIKE and MATCHES
 *     NFC-normalise the value and the pattern. LIKE is anchored; MATCHES searches.
 *     Regexes are PCRE2 with UTF+UCP (Python's str `re` is Unicode-aware) and no DOTALL.
 *   - ints and floats compare numerically; booleans only equal booleans and never order.
 *   - binary values (properties ending _bin/_hex, and b''/h'' literals) equal and order
 *     against strings whose code points are all < 256, byte by byte; against a string with
 *     a larger code point a comparison is false.
 *   - a t'' literal reads a string value as a timestamp; a malformed one is a runtime error.
 *   - any other type pairing is false; NOT (and !=) negate after that, so `!=` of
 *     mismatched types is true.
 * It does not select values (eval.c walks object paths) and keeps no state between calls
 * beyond the caller's scratch.
 */
#include "eval_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- helpers ---------------------------------------------------------------------------- */

/* Convert UTF-8 text to bytes when every code point is < 256 (the spec's string→binary
 * conversion). out must hold len bytes. Returns false when not convertible. */
static bool to_latin1(const char *s, size_t len, uint8_t *out, size_t *outlen)
{
    size_t o = 0, i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0 || cp < 0 || cp > 255)
            return false;
        out[o++] = (uint8_t)cp;
        i += (size_t)n;
    }
    *outlen = o;
    return true;
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return (al > bl) - (al < bl);
}

/* A string and binary data, compared as the string's latin-1 bytes. *ok false when the
 * string has a code point >= 256. Returns the order of (str vs bin), or of (bin vs str)
 * when bin_first. */
static int str_bin_cmp(const char *str, size_t slen, const char *bin, size_t blen, bool *ok)
{
    uint8_t stackbuf[256];
    uint8_t *buf = slen <= sizeof stackbuf ? stackbuf : malloc(slen);
    size_t n = 0;
    if (!buf) {
        *ok = false;
        return 0;
    }
    *ok = to_latin1(str, slen, buf, &n);
    int c = *ok ? bytes_cmp(buf, n, bin, blen) : 0;
    if (buf != stackbuf)
        free(buf);
    return c;
}

static bool lit_is_bytes(const kz_pat_lit *l)
{
    return l->kind == KZ_LIT_BINARY || l->kind == KZ_LIT_HEX;
}

static int read_ts(const kz_val *v, kz_time *t, char *err, size_t errlen)
{
    char why[128];
    if (kz_time_parse(v->s, t, why, sizeof why) < 0) {
        kz_eval_seterr(err, errlen, "invalid timestamp in data: '%s'", v->s);
        return -1;
    }
    return 0;
}

/* Order of value v against literal l: sets *c (<0, 0, >0 meaning v <=> l) and returns 1, or
 * returns 0 when the pair is not comparable, -1 on a runtime error. */
static int order(const kz_pat_lit *l, const kz_val *v, int *c, char *err, size_t errlen)
{
    bool ok = true;
    switch (l->kind) {
    case KZ_LIT_TIMESTAMP: {
        if (v->k != KZ_V_STR)
            return 0;
        kz_time t;
        if (read_ts(v, &t, err, errlen) < 0)
            return -1;
        *c = kz_time_cmp(&t, &l->t);
        return 1;
    }
    case KZ_LIT_INT:
        if (v->k == KZ_V_INT)
            *c = (v->i > l->i) - (v->i < l->i);
        else if (v->k == KZ_V_FLOAT)
            *c = (v->f > (double)l->i) - (v->f < (double)l->i);
        else
            return 0;
        return 1;
    case KZ_LIT_FLOAT: {
        if (v->k != KZ_V_INT && v->k != KZ_V_FLOAT)
            return 0;
        double x = v->k == KZ_V_INT ? (double)v->i : v->f;
        *c = (x > l->f) - (x < l->f);
        return 1;
    }
    case KZ_LIT_STRING:
        if (v->k == KZ_V_STR) {
            *c = bytes_cmp(v->s, v->len, l->str, l->len); /* UTF-8 order = code point order */
            return 1;
        }
        if (v->k == KZ_V_BYTES) {
            *c = -str_bin_cmp(l->str, l->len, v->s, v->len, &ok);
            return ok ? 1 : 0;
        }
        return 0;
    case KZ_LIT_BINARY:
    case KZ_LIT_HEX:
        if (v->k == KZ_V_BYTES) {
            *c = bytes_cmp(v->s, v->len, l->str, l->len);
            return 1;
        }
        if (v->k == KZ_V_STR) {
            *c = str_bin_cmp(v->s, v->len, l->str, l->len, &ok);
            return ok ? 1 : 0;
        }
        return 0;
    case KZ_LIT_BOOL:
    case KZ_LIT_SET:
        return 0;
    }
    return 0;
}

/* Equality of v and l: 1, 0, or -1 on a runtime error. in_set drops the string/binary
 * crossover, as the reference's `value in set` does. */
static int equal(const kz_pat_lit *l, const kz_val *v, bool in_set, char *err, size_t errlen)
{
    if (l->kind == KZ_LIT_BOOL)
        return v->k == KZ_V_BOOL && v->b == l->b;
    if (in_set &&
        ((l->kind == KZ_LIT_STRING && v->k == KZ_V_BYTES) || (lit_is_bytes(l) && v->k == KZ_V_STR)))
        return 0;
    int c = 0;
    int r = order(l, v, &c, err, errlen);
    if (r < 0)
        return -1;
    return r == 1 && c == 0;
}

/* ---- regular expressions ---------------------------------------------------------------- */

static pcre2_code *compile_re(const char *pat, size_t len, bool utf, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc) {
        kz_eval_seterr(err, errlen, "out of memory");
        return NULL;
    }
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pat, len, utf ? PCRE2_UTF | PCRE2_UCP : 0, &ec, &off, cc);
    pcre2_compile_context_free(cc);
    if (re)
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional speed-up; interpreted otherwise */
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        kz_eval_seterr(err, errlen, "invalid regular expression at offset %zu: %s", (size_t)off,
                       (const char *)msg);
    }
    return re;
}

/* LIKE → an anchored regex: % is .*, _ is ., everything else literal. Literals are written
 * as \x{...} unless ASCII alphanumeric, which keeps any byte out of regex syntax. */
static bool like_to_regex(const char *like, size_t len, bool utf, kz_buf *out)
{
    kz_buf_putc(out, '^');
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)like + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0)
            return false;
        i += (size_t)n;
        if (!utf && cp > 255)
            return false;
        if (cp == '%')
            kz_buf_puts(out, ".*");
        else if (cp == '_')
            kz_buf_putc(out, '.');
        else if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            kz_buf_putc(out, (char)cp);
        else
            kz_buf_printf(out, "\\x{%x}", (unsigned)cp);
    }
    kz_buf_putc(out, '$');
    return !out->oom;
}

static char *nfc(const char *s)
{
    return (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
}

static int prepare_like(kz_ecmp *e, const char *pat, char *err, size_t errlen)
{
    kz_buf b;
    kz_buf_init(&b);
    if (!like_to_regex(pat, strlen(pat), true, &b)) {
        kz_buf_free(&b);
        kz_eval_seterr(err, errlen, "out of memory");
        return -1;
    }
    e->re_text = compile_re(b.data, b.len, true, err, errlen);
    kz_buf_reset(&b);
    if (e->re_text && like_to_regex(pat, strlen(pat), false, &b))
        e->re_bin = compile_re(b.data, b.len, false, err, errlen);
    kz_buf_free(&b);
    return e->re_text ? 0 : -1;
}

static int prepare_matches(kz_ecmp *e, const char *pat, char *err, size_t errlen)
{
    size_t len = strlen(pat);
    e->re_text = compile_re(pat, len, true, err, errlen);
    if (!e->re_text)
        return -1;
    uint8_t *bin = malloc(len ? len : 1);
    size_t blen = 0;
    if (!bin) {
        kz_eval_seterr(err, errlen, "out of memory");
        return -1;
    }
    if (to_latin1(pat, len, bin, &blen)) {
        e->re_bin = compile_re((const char *)bin, blen, false, err, errlen);
        if (!e->re_bin) {
            free(bin);
            return -1;
        }
    }
    free(bin);
    return 0;
}

/* ---- IP addresses ----------------------------------------------------------------------- */

/* "addr" or "addr/prefix", IPv4 or IPv6. A plain address is a /32 or /128. */
static bool parse_cidr(const char *s, int *family, uint8_t addr[16], int *prefix)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof buf)
        return false;
    memcpy(buf, s, alen);
    buf[alen] = 0;
    memset(addr, 0, 16);
    int max;
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = 6;
        max = 128;
    } else {
        return false;
    }
    *prefix = max;
    if (slash) {
        const char *p = slash + 1;
        int v = 0;
        if (!*p || strlen(p) > 3)
            return false;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return false;
            v = v * 10 + (*p - '0');
        }
        if (v > max)
            return false;
        *prefix = v;
    }
    return true;
}

/* Is (ia, ip) contained in (oa, op)? Same family assumed. */
static bool cidr_within(const uint8_t *ia, int ip, const uint8_t *oa, int op)
{
    if (op > ip)
        return false;
    int full = op / 8, rest = op % 8;
    if (memcmp(ia, oa, (size_t)full) != 0)
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((ia[full] & mask) != (oa[full] & mask))
            return false;
    }
    return true;
}

/* ---- prepare / test --------------------------------------------------------------------- */

static int lit_class(const kz_pat_lit *l)
{
    switch (l->kind) {
    case KZ_LIT_INT:
    case KZ_LIT_FLOAT:
        return 1;
    case KZ_LIT_BINARY:
    case KZ_LIT_HEX:
        return 2;
    default:
        return 3 + (int)l->kind;
    }
}

int kz_ecmp_prepare(kz_ecmp *e, const kz_pat_cmp *c, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->cmp = c;
    const kz_pat_lit *l = &c->lit;
    int rc = 0;
    switch (c->op) {
    case KZ_CMP_LIKE:
    case KZ_CMP_MATCHES: {
        if (l->kind != KZ_LIT_STRING) {
            kz_eval_seterr(err, errlen, "%d:%d: %s needs a string literal", c->line, c->column,
                           c->op == KZ_CMP_LIKE ? "LIKE" : "MATCHES");
            return -1;
        }
        char *pat = nfc(l->str);
        if (!pat) {
            kz_eval_seterr(err, errlen, "%d:%d: pattern text is not valid UTF-8", c->line,
                           c->column);
            return -1;
        }
        rc = c->op == KZ_CMP_LIKE ? prepare_like(e, pat, err, errlen)
                                  : prepare_matches(e, pat, err, errlen);
        free(pat);
        break;
    }
    case KZ_CMP_IN:
        if (l->kind != KZ_LIT_SET)
            break;
        for (size_t i = 1; i < l->nitems; i++)
            if (lit_class(&l->items[i]) != lit_class(&l->items[0])) {
                kz_eval_seterr(err, errlen, "%d:%d: IN set mixes literal types", c->line,
                               c->column);
                return -1;
            }
        e->set_of_ts = l->nitems && l->items[0].kind == KZ_LIT_TIMESTAMP;
        break;
    case KZ_CMP_ISSUBSET:
    case KZ_CMP_ISSUPERSET:
        if (l->kind != KZ_LIT_STRING ||
            !parse_cidr(l->str, &e->cidr_family, e->cidr_addr, &e->cidr_prefix)) {
            kz_eval_seterr(err, errlen, "%d:%d: '%s' is not an IP address or CIDR subnet", c->line,
                           c->column, l->str ? l->str : "");
            return -1;
        }
        break;
    default:
        break;
    }
    if (rc < 0) {
        kz_ecmp_clear(e);
        return -1;
    }
    return 0;
}

void kz_ecmp_clear(kz_ecmp *e)
{
    pcre2_code_free(e->re_text);
    pcre2_code_free(e->re_bin);
    e->re_text = e->re_bin = NULL;
}

static int run_re(const pcre2_code *re, const char *s, size_t len, kz_cmp_scratch *sc, char *err,
                  size_t errlen)
{
    if (!sc->md && !(sc->md = pcre2_match_data_create(1, NULL))) {
        kz_eval_seterr(err, errlen, "out of memory");
        return -1;
    }
    int r = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, sc->md, NULL);
    if (r >= 0)
        return 1;
    if (r == PCRE2_ERROR_NOMATCH)
        return 0;
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(r, msg, sizeof msg);
    kz_eval_seterr(err, errlen, "regular expression failed: %s", (const char *)msg);
    return -1;
}

static int regex_test(const kz_ecmp *e, const kz_val *v, kz_cmp_scratch *sc, char *err,
                      size_t errlen)
{
    if (v->k == KZ_V_BYTES)
        return e->re_bin ? run_re(e->re_bin, v->s, v->len, sc, err, errlen) : 0;
    if (v->k != KZ_V_STR)
        return 0;
    size_t i = 0;
    while (i < v->len && (unsigned char)v->s[i] < 0x80)
        i++;
    if (i == v->len) /* ASCII is already NFC */
        return run_re(e->re_text, v->s, v->len, sc, err, errlen);
    char *n = nfc(v->s);
    if (!n)
        return 0; /* not valid UTF-8: cannot be normalised, so cannot match */
    int r = run_re(e->re_text, n, strlen(n), sc, err, errlen);
    free(n);
    return r;
}

static int cidr_test(const kz_ecmp *e, const kz_val *v, char *err, size_t errlen)
{
    if (v->k != KZ_V_STR)
        return 0;
    int fam, prefix;
    uint8_t addr[16];
    if (!parse_cidr(v->s, &fam, addr, &prefix)) {
        kz_eval_seterr(err, errlen, "invalid IP address or CIDR subnet in data: '%s'", v->s);
        return -1;
    }
    if (fam != e->cidr_family)
        return 0;
    if (e->cmp->op == KZ_CMP_ISSUBSET)
        return cidr_within(addr, prefix, e->cidr_addr, e->cidr_prefix);
    return cidr_within(e->cidr_addr, e->cidr_prefix, addr, prefix);
}

int kz_ecmp_test(const kz_ecmp *e, const kz_val *v, kz_cmp_scratch *sc, char *err, size_t errlen)
{
    const kz_pat_cmp *c = e->cmp;
    const kz_pat_lit *l = &c->lit;
    int r = 0, ord = 0;
    switch (c->op) {
    case KZ_CMP_EQ:
    case KZ_CMP_NE:
        r = equal(l, v, false, err, errlen);
        if (r < 0)
            return -1;
        if (c->op == KZ_CMP_NE)
            r = !r;
        break;
    case KZ_CMP_LT:
    case KZ_CMP_GT:
    case KZ_CMP_LE:
    case KZ_CMP_GE:
        r = order(l, v, &ord, err, errlen);
        if (r < 0)
            return -1;
        if (r == 1)
            r = c->op == KZ_CMP_LT   ? ord < 0
                : c->op == KZ_CMP_GT ? ord > 0
                : c->op == KZ_CMP_LE ? ord <= 0
                                     : ord >= 0;
        break;
    case KZ_CMP_IN:
        if (e->set_of_ts && v->k == KZ_V_STR) {
            kz_time t;
            if (read_ts(v, &t, err, errlen) < 0)
                return -1;
        }
        for (size_t i = 0; i < l->nitems && !r; i++) {
            r = equal(&l->items[i], v, true, err, errlen);
            if (r < 0)
                return -1;
        }
        break;
    case KZ_CMP_LIKE:
    case KZ_CMP_MATCHES:
        r = regex_test(e, v, sc, err, errlen);
        if (r < 0)
            return -1;
        break;
    case KZ_CMP_ISSUBSET:
    case KZ_CMP_ISSUPERSET:
        r = cidr_test(e, v, err, errlen);
        if (r < 0)
            return -1;
        break;
    case KZ_CMP_EXISTS:
        r = 1;
        break;
    }
    return c->negated ? !r : r;
}
