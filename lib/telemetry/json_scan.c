/*
 * A JSON scanner for the log formats: walks one object and hands the scalars whose dotted
 * key path ("dns.answers.rdata") is in a field map to a callback, without building a tree.
 * Strings are unescaped in place (an escape is never shorter than what it stands for), so
 * the callback gets a slice of the caller's buffer.
 *
 * Why not jansson: a DOM per line costs an allocation per value, and the decoders need a
 * dozen fields out of a record. The map also knows the prefixes of its paths, so whole
 * subtrees that lead nowhere (tcp flags, rule metadata, headers) are skipped with memchr
 * instead of being parsed (docs/TELEMETRY.md has the figures).
 * Invariants: never reads past s + n; nesting is bounded (32) so hostile input cannot
 * exhaust the stack; paths longer than the path buffer are treated as unmapped. Strictness:
 * the parts that are read are checked as RFC 8259 says, except that raw control characters
 * inside strings are let through; skipped parts are only checked for ended strings and
 * balanced brackets. UTF-8 is not validated.
 */
#include "tel_internal.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAX_DEPTH 32
#define PATH_MAX_LEN 192

typedef struct scan {
    char *s, *end, *p;
    const kz_tel_jmap *m;
    kz_tel_json_fn fn;
    void *ctx;
    char path[PATH_MAX_LEN];
    size_t plen;
    uint64_t phash; /* kz_tel_jmap_hash of path[0..plen) */
    int err; /* 0, -1 syntax, -2 too deep */
} scan;

static void ws(scan *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int hex4(const char *p, const char *end, unsigned *v)
{
    if (end - p < 4)
        return -1;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        x = x << 4 | (unsigned)h;
    }
    *v = x;
    return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* The first '"' or '\\' in [p, end), or end. Strings are short and usually free of
 * escapes: one pass looking for both beats a memchr for the quote and another for a
 * backslash. */
static char *quote_or_bs(char *p, char *end)
{
#if defined(__SSE2__)
    const __m128i qq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, qq), _mm_cmpeq_epi8(v, bs)));
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* c->p just after an opening quote: find the closing one (a backslash escapes the byte
 * after it, so a quote preceded by an odd run of backslashes is escaped). Sets *q to it and
 * *esc when a backslash occurs. */
static int string_end(scan *c, char **q, bool *esc)
{
    char *p = c->p;
    bool e = false;
    for (;;) {
        p = quote_or_bs(p, c->end);
        if (p >= c->end)
            return -1;
        if (*p == '"') {
            *q = p;
            *esc = e;
            return 0;
        }
        e = true;
        if (c->end - p < 2)
            return -1;
        p += 2;
    }
}

/* Decode the escapes of [start, q) in place; returns the new end, or NULL when invalid. */
static char *unescape(char *start, char *q)
{
    char *i = start, *o = start;
    while (i < q) {
        if (*i != '\\') {
            *o++ = *i++;
            continue;
        }
        if (q - i < 2)
            return NULL;
        char e = i[1];
        i += 2;
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp;
            if (hex4(i, q, &cp))
                return NULL;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (q - i >= 6 && i[0] == '\\' && i[1] == 'u' && hex4(i + 2, q, &lo) == 0 &&
                    lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else {
                    cp = 0xFFFD; /* lone surrogate: keep going, mark the damage */
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            o = put_utf8(o, cp);
            break;
        }
        default:
            return NULL;
        }
    }
    return o;
}

/* At the opening quote: the string's text, unescaped in place when needed. */
static int string(scan *c, char **out, size_t *outn)
{
    c->p++;
    char *q;
    bool esc;
    if (string_end(c, &q, &esc))
        return -1;
    char *start = c->p;
    char *e = esc ? unescape(start, q) : q;
    if (!e)
        return -1;
    *out = start;
    *outn = (size_t)(e - start);
    c->p = q + 1;
    return 0;
}

static int number(scan *c, char **st, size_t *n)
{
    char *b = c->p;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p >= c->end)
        return -1;
    if (*c->p == '0') {
        c->p++;
    } else if (*c->p >= '1' && *c->p <= '9') {
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    } else {
        return -1;
    }
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        char *fs = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == fs)
            return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        char *es = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == es)
            return -1;
    }
    *st = b;
    *n = (size_t)(c->p - b);
    return 0;
}

/* Skip a container without looking inside strings' contents or checking commas: strings
 * must end and brackets must balance. */
static int skip_container(scan *c, int depth)
{
    char stack[MAX_DEPTH + 1];
    int top = 0;
    for (;;) {
        if (c->p >= c->end)
            return -1;
        char ch = *c->p;
        if (ch == '"') {
            c->p++;
            char *q;
            bool esc;
            if (string_end(c, &q, &esc))
                return -1;
            c->p = q + 1;
            continue;
        }
        c->p++;
        if (ch == '{' || ch == '[') {
            if (depth + top >= MAX_DEPTH) {
                c->err = -2;
                return -1;
            }
            stack[top++] = ch == '{' ? '}' : ']';
        } else if (ch == '}' || ch == ']') {
            if (top == 0 || stack[top - 1] != ch)
                return -1;
            if (--top == 0)
                return 0;
        }
    }
}

static int value(scan *c, int depth, int id, bool descend);

static int object(scan *c, int depth, int inherit)
{
    c->p++; /* '{' */
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    size_t saved = c->plen;
    uint64_t saved_hash = c->phash;
    for (;;) {
        ws(c);
        if (c->p >= c->end || *c->p != '"')
            return -1;
        char *k;
        size_t kn;
        if (string(c, &k, &kn))
            return -1;
        int id = inherit;
        bool pfx = inherit != 0;
        size_t need = saved + (saved ? 1 : 0) + kn;
        if (need < PATH_MAX_LEN) {
            c->plen = saved;
            if (saved)
                c->path[c->plen++] = '.';
            memcpy(c->path + c->plen, k, kn);
            c->plen += kn;
            /* an empty path text is continued without a dot, as the text is */
            c->phash = kz_tel_jmap_hash_in(saved ? saved_hash : KZ_TEL_JMAP_HASH0, k, kn,
                                           (size_t)(c->end - k));
            if (!inherit)
                id = kz_tel_jmap_get_h(c->m, c->path, c->plen, c->phash, &pfx);
        } else if (!inherit) {
            id = 0;
            pfx = false;
        }
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return -1;
        c->p++;
        ws(c);
        if (value(c, depth + 1, id, pfx))
            return -1;
        c->plen = saved;
        c->phash = saved_hash;
        ws(c);
        if (c->p >= c->end)
            return -1;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == '}') {
            c->p++;
            return 0;
        }
        return -1;
    }
}

static int array(scan *c, int depth, int id, bool descend)
{
    c->p++; /* '[' */
    ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 0;
    }
    for (;;) {
        ws(c);
        if (value(c, depth + 1, id, descend))
            return -1;
        ws(c);
        if (c->p >= c->end)
            return -1;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == ']') {
            c->p++;
            return 0;
        }
        return -1;
    }
}

static int literal(scan *c, const char *lit, int type, int id)
{
    size_t l = strlen(lit);
    if ((size_t)(c->end - c->p) < l || memcmp(c->p, lit, l) != 0)
        return -1;
    if (id > 0)
        c->fn(c->ctx, id & ~KZ_TEL_JMAP_SUBTREE, type, c->p, l, c->path, c->plen);
    c->p += l;
    return 0;
}

/* id > 0: the value (or the scalars of an array) is wanted; descend: objects below lead to
 * wanted paths. Anything else is skipped. */
static int value(scan *c, int depth, int id, bool descend)
{
    if (depth > MAX_DEPTH) {
        c->err = -2;
        return -1;
    }
    if (c->p >= c->end)
        return -1;
    switch (*c->p) {
    case '{':
        if (id & KZ_TEL_JMAP_SUBTREE)
            return object(c, depth, id);
        if (descend)
            return object(c, depth, 0);
        return skip_container(c, depth);
    case '[':
        if (id > 0 || descend)
            return array(c, depth, id, descend);
        return skip_container(c, depth);
    case '"': {
        if (id <= 0) {
            c->p++;
            char *q;
            bool esc;
            if (string_end(c, &q, &esc))
                return -1;
            c->p = q + 1;
            return 0;
        }
        char *v;
        size_t vn;
        if (string(c, &v, &vn))
            return -1;
        c->fn(c->ctx, id & ~KZ_TEL_JMAP_SUBTREE, KZ_TEL_J_STR, v, vn, c->path, c->plen);
        return 0;
    }
    case 't':
        return literal(c, "true", KZ_TEL_J_TRUE, id);
    case 'f':
        return literal(c, "false", KZ_TEL_J_FALSE, id);
    case 'n':
        return literal(c, "null", KZ_TEL_J_NULL, id);
    default: {
        char *v;
        size_t vn;
        if (number(c, &v, &vn))
            return -1;
        if (id > 0)
            c->fn(c->ctx, id & ~KZ_TEL_JMAP_SUBTREE, KZ_TEL_J_NUM, v, vn, c->path, c->plen);
        return 0;
    }
    }
}

int kz_tel_json_walk(char *s, size_t n, const kz_tel_jmap *m, kz_tel_json_fn fn, void *ctx,
                     size_t *errpos)
{
    scan c; /* field by field: an initialiser would clear the path buffer on every line */
    c.s = c.p = s;
    c.end = s + n;
    c.m = m;
    c.fn = fn;
    c.ctx = ctx;
    c.plen = 0;
    c.phash = KZ_TEL_JMAP_HASH0;
    c.err = 0;
    ws(&c);
    if (c.p >= c.end || *c.p != '{' || object(&c, 1, 0)) {
        if (errpos)
            *errpos = (size_t)(c.p - s);
        return c.err ? c.err : -1;
    }
    ws(&c);
    if (c.p != c.end) {
        if (errpos)
            *errpos = (size_t)(c.p - s);
        return -1;
    }
    return 0;
}

static int slot_of(const kz_tel_jmap *m, const char *path, size_t n, uint64_t hash64)
{
    uint32_t hash = (uint32_t)(hash64 >> 32);
    uint32_t h = hash & (KZ_TEL_JMAP_SLOTS - 1);
    while (m->key[h]) {
        if (m->hash[h] == hash && m->len[h] == n && memcmp(m->key[h], path, n) == 0)
            return (int)h;
        h = (h + 1) & (KZ_TEL_JMAP_SLOTS - 1);
    }
    return -(int)h - 1; /* free slot */
}

void kz_tel_jmap_init(kz_tel_jmap *m, const kz_tel_jmap_entry *e, size_t n)
{
    memset(m, 0, sizeof *m);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(e[i].path);
        if (l > 255)
            continue;
        /* the path itself, then each proper prefix ending before a dot */
        for (size_t cut = l + 1; cut-- > 0;) {
            if (cut != l && e[i].path[cut] != '.')
                continue;
            if (used + 1 >= KZ_TEL_JMAP_SLOTS / 2)
                return; /* keep the table at most half full */
            uint64_t hash = kz_tel_jmap_hash(KZ_TEL_JMAP_HASH0, e[i].path, cut);
            int s = slot_of(m, e[i].path, cut, hash);
            if (s < 0) {
                s = -s - 1;
                m->key[s] = e[i].path;
                m->hash[s] = (uint32_t)(hash >> 32);
                m->len[s] = (uint8_t)cut;
                used++;
            }
            if (cut == l)
                m->id[s] = (int16_t)e[i].id;
            else
                m->prefix[s] = true;
        }
    }
}

int kz_tel_jmap_get_h(const kz_tel_jmap *m, const char *path, size_t n, uint64_t hash,
                      bool *prefix)
{
    int s = n <= 255 ? slot_of(m, path, n, hash) : -1;
    if (s < 0) {
        if (prefix)
            *prefix = false;
        return 0;
    }
    if (prefix)
        *prefix = m->prefix[s];
    return m->id[s];
}

int kz_tel_jmap_get(const kz_tel_jmap *m, const char *path, size_t n, bool *prefix)
{
    return kz_tel_jmap_get_h(m, path, n, kz_tel_jmap_hash(KZ_TEL_JMAP_HASH0, path, n), prefix);
}
