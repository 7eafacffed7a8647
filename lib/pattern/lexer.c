/*
 * STIX patterning lexer: turns the pattern text into tokens on demand, one at a time, so that
 * the parser reports the first problem in reading order.
 *
 * It follows the token rules of the OASIS STIXPattern.g4 grammar: case-sensitive keywords,
 * identifiers with and without hyphens, signed integers and floats without exponents, 'text'
 * strings whose only escapes are \' and \\, h'hex' (even digit count), b'base64' (padded
 * groups of four) and t'timestamp' (strict RFC 3339 via kz_time_parse); whitespace includes
 * the Unicode WSpace characters; C-style block comments and // line comments are skipped.
 * Columns count code points, so they equal ANTLR's 0-based columns plus one.
 *
 * It does not decide what may follow what (the parser does), and never allocates outside the
 * pattern's arena.
 */
#include "parse_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    lex_kind kind;
} keywords[] = {
    {"AND", LEX_AND},         {"OR", LEX_OR},           {"NOT", LEX_NOT},
    {"FOLLOWEDBY", LEX_FOLLOWEDBY}, {"LIKE", LEX_LIKE}, {"MATCHES", LEX_MATCHES},
    {"ISSUBSET", LEX_ISSUBSET}, {"ISSUPERSET", LEX_ISSUPERSET}, {"EXISTS", LEX_EXISTS},
    {"LAST", LEX_LAST},       {"IN", LEX_IN},           {"START", LEX_START},
    {"STOP", LEX_STOP},       {"SECONDS", LEX_SECONDS}, {"WITHIN", LEX_WITHIN},
    {"REPEATS", LEX_REPEATS}, {"TIMES", LEX_TIMES},
};

void lex_init(lex_state *lx, const char *src, size_t len, parse_arena *arena)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->line = 1;
    lx->column = 1;
    lx->arena = arena;
}

static int peekc(const lex_state *lx, size_t off)
{
    return lx->pos + off < lx->len ? (unsigned char)lx->src[lx->pos + off] : -1;
}

/* Advance n bytes, keeping line and column (code points: continuation bytes don't count). */
static void adv(lex_state *lx, size_t n)
{
    while (n-- && lx->pos < lx->len) {
        unsigned char c = (unsigned char)lx->src[lx->pos++];
        if (c == '\n') {
            lx->line++;
            lx->column = 1;
        } else if ((c & 0xC0) != 0x80) {
            lx->column++;
        }
    }
}

/* Length of the Unicode whitespace sequence at pos (0 if none). ANTLR's WS set. */
static size_t ws_len(const lex_state *lx)
{
    int c = peekc(lx, 0);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x0B || c == 0x0C)
        return 1;
    int c1 = peekc(lx, 1), c2 = peekc(lx, 2);
    if (c == 0xC2 && (c1 == 0x85 || c1 == 0xA0))
        return 2;
    if (c == 0xE1 && c1 == 0x9A && c2 == 0x80)
        return 3;
    if (c == 0xE2 && c1 == 0x80 && ((c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 ||
                                    c2 == 0xAF))
        return 3;
    if (c == 0xE2 && c1 == 0x81 && c2 == 0x9F)
        return 3;
    if (c == 0xE3 && c1 == 0x80 && c2 == 0x80)
        return 3;
    return 0;
}

static void set_err(lex_state *lx, lex_token *tok, int line, int col, const char *fmt, ...)
    KZ_PRINTF(5, 6);
static void set_err(lex_state *lx, lex_token *tok, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err, sizeof lx->err, fmt, ap);
    va_end(ap);
    lx->err_line = line;
    lx->err_column = col;
    tok->kind = LEX_ERROR;
}

/* Skip whitespace and comments. Returns false (with tok set to LEX_ERROR) on an unterminated
 * block comment. */
static bool skip_space(lex_state *lx, lex_token *tok)
{
    for (;;) {
        size_t n = ws_len(lx);
        if (n) {
            adv(lx, n);
            continue;
        }
        if (peekc(lx, 0) == '/' && peekc(lx, 1) == '*') {
            int line = lx->line, col = lx->column;
            adv(lx, 2);
            while (lx->pos < lx->len && !(peekc(lx, 0) == '*' && peekc(lx, 1) == '/'))
                adv(lx, 1);
            if (lx->pos >= lx->len) {
                tok->start = lx->src + lx->pos;
                tok->line = line;
                tok->column = col;
                set_err(lx, tok, line, col, "unterminated /* comment");
                return false;
            }
            adv(lx, 2);
            continue;
        }
        if (peekc(lx, 0) == '/' && peekc(lx, 1) == '/') {
            while (lx->pos < lx->len && peekc(lx, 0) != '\n' && peekc(lx, 0) != '\r')
                adv(lx, 1);
            continue;
        }
        return true;
    }
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Scan a quoted body starting at the opening quote; the only escapes are \' and \\. On
 * success the raw span (between the quotes, escapes still in it) is [*body, *body+*blen) and
 * the unescaped text is written to the arena. */
static bool scan_quoted(lex_state *lx, lex_token *tok, char **out, size_t *outlen)
{
    int qline = lx->line, qcol = lx->column;
    adv(lx, 1); /* opening quote */
    size_t start = lx->pos;
    size_t esc = 0;
    for (;;) {
        int c = peekc(lx, 0);
        if (c < 0) {
            set_err(lx, tok, qline, qcol, "unterminated string literal (missing closing ')");
            return false;
        }
        if (c == '\'')
            break;
        if (c == '\\') {
            int n = peekc(lx, 1);
            if (n != '\'' && n != '\\') {
                set_err(lx, tok, lx->line, lx->column,
                        "invalid escape in string literal: only \\' and \\\\ are allowed");
                return false;
            }
            esc++;
            adv(lx, 2);
            continue;
        }
        adv(lx, 1);
    }
    size_t rawlen = lx->pos - start;
    adv(lx, 1); /* closing quote */
    char *s = parse_arena_alloc(lx->arena, rawlen - esc + 1);
    if (!s) {
        set_err(lx, tok, qline, qcol, "out of memory");
        return false;
    }
    size_t j = 0;
    for (size_t i = start; i < start + rawlen; i++) {
        if (lx->src[i] == '\\')
            i++;
        s[j++] = lx->src[i];
    }
    s[j] = '\0';
    *out = s;
    *outlen = j;
    return true;
}

static void lex_hex(lex_state *lx, lex_token *tok)
{
    int line = lx->line, col = lx->column;
    adv(lx, 1); /* 'h' */
    char *raw;
    size_t rawlen;
    if (!scan_quoted(lx, tok, &raw, &rawlen))
        return;
    if (rawlen % 2) {
        set_err(lx, tok, line, col, "invalid hex literal: odd number of hex digits");
        return;
    }
    for (size_t i = 0; i < rawlen; i += 2) {
        int hi = hexval((unsigned char)raw[i]), lo = hexval((unsigned char)raw[i + 1]);
        if (hi < 0 || lo < 0) {
            set_err(lx, tok, line, col, "invalid hex literal: '%c' is not a hex digit",
                    hi < 0 ? raw[i] : raw[i + 1]);
            return;
        }
        raw[i / 2] = (char)(hi << 4 | lo); /* decode in place: output never overtakes input */
    }
    raw[rawlen / 2] = '\0';
    tok->kind = LEX_HEX;
    tok->str = raw;
    tok->slen = rawlen / 2;
}

/* Base64 per RFC 4648 with padding, as the grammar's BinaryLiteral (at least one group).
 * Line feeds inside are ignored, as section 9.2 of the spec requires. */
static void lex_binary(lex_state *lx, lex_token *tok)
{
    int line = lx->line, col = lx->column;
    adv(lx, 1); /* 'b' */
    char *raw;
    size_t rawlen;
    if (!scan_quoted(lx, tok, &raw, &rawlen))
        return;
    size_t n = 0; /* significant characters, compacted in place */
    for (size_t i = 0; i < rawlen; i++) {
        char c = raw[i];
        if (c == '\n' || c == '\r')
            continue;
        raw[n++] = c;
    }
    if (n == 0 || n % 4) {
        set_err(lx, tok, line, col,
                "invalid base64 in binary literal: length must be a non-zero multiple of 4");
        return;
    }
    size_t pad = 0;
    if (raw[n - 1] == '=')
        pad = raw[n - 2] == '=' ? 2 : 1;
    size_t outlen = n / 4 * 3 - pad;
    char *out = parse_arena_alloc(lx->arena, outlen + 1);
    if (!out) {
        set_err(lx, tok, line, col, "out of memory");
        return;
    }
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n - pad; i++) {
        int v = b64val((unsigned char)raw[i]);
        if (v < 0) {
            set_err(lx, tok, line, col, "invalid base64 in binary literal: unexpected '%c'",
                    raw[i]);
            return;
        }
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xFF);
        }
    }
    out[outlen] = '\0';
    tok->kind = LEX_BINARY;
    tok->str = out;
    tok->slen = outlen;
}

static void lex_timestamp(lex_state *lx, lex_token *tok)
{
    int line = lx->line, col = lx->column;
    adv(lx, 1); /* 't' */
    char *raw;
    size_t rawlen;
    if (!scan_quoted(lx, tok, &raw, &rawlen))
        return;
    char why[128] = "";
    if (strlen(raw) != rawlen || kz_time_parse(raw, &tok->t, why, sizeof why) < 0) {
        set_err(lx, tok, line, col, "invalid timestamp literal t'%.40s': %s", raw,
                why[0] ? why : "not a STIX timestamp");
        return;
    }
    tok->kind = LEX_TIMESTAMP;
    tok->str = raw;
    tok->slen = rawlen;
}

/* [+-]? digits [. digits] | [+-]? . digits. No exponents (the grammar has none). */
static void lex_number(lex_state *lx, lex_token *tok)
{
    size_t p = lx->pos;
    const char *s = lx->src;
    bool neg = false;
    if (s[p] == '+' || s[p] == '-') {
        neg = s[p] == '-';
        p++;
    }
    size_t ds = p;
    while (p < lx->len && is_digit((unsigned char)s[p]))
        p++;
    size_t nint = p - ds;
    bool is_float = false;
    if (p + 1 < lx->len && s[p] == '.' && is_digit((unsigned char)s[p + 1])) {
        is_float = true;
        p++;
        while (p < lx->len && is_digit((unsigned char)s[p]))
            p++;
    }
    size_t n = p - lx->pos; /* the caller saw a digit (or .digit) after any sign */
    tok->negative = neg;
    if (!is_float && nint > 1 && s[ds] == '0') {
        set_err(lx, tok, lx->line, lx->column, "integer literal with a leading zero");
        adv(lx, n);
        return;
    }
    char small[64];
    char *buf = n < sizeof small ? small : parse_arena_strndup(lx->arena, s + lx->pos, n);
    if (!buf) {
        set_err(lx, tok, lx->line, lx->column, "out of memory");
        return;
    }
    if (buf == small) {
        memcpy(small, s + lx->pos, n);
        small[n] = '\0';
    }
    errno = 0;
    if (is_float) {
        tok->kind = LEX_FLOAT;
        tok->f = strtod(buf, NULL);
        if (!isfinite(tok->f)) {
            set_err(lx, tok, lx->line, lx->column, "float literal out of range");
            adv(lx, n);
            return;
        }
    } else {
        tok->kind = LEX_INT;
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            set_err(lx, tok, lx->line, lx->column,
                    "integer literal out of range (64-bit signed integers only)");
            adv(lx, n);
            return;
        }
        tok->i = v;
    }
    tok->len = n;
    adv(lx, n);
}

void lex_next(lex_state *lx, lex_token *tok)
{
    memset(tok, 0, sizeof *tok);
    if (!skip_space(lx, tok))
        return;
    tok->start = lx->src + lx->pos;
    tok->line = lx->line;
    tok->column = lx->column;
    size_t begin = lx->pos;
    int c = peekc(lx, 0);
    if (c < 0) {
        tok->kind = LEX_EOF;
        return;
    }
    int c1 = peekc(lx, 1);
    if (c1 == '\'' && (c == 'h' || c == 'b' || c == 't')) {
        if (c == 'h')
            lex_hex(lx, tok);
        else if (c == 'b')
            lex_binary(lx, tok);
        else
            lex_timestamp(lx, tok);
        tok->len = lx->pos - begin;
        return;
    }
    if (is_ident_start(c)) {
        size_t p = lx->pos;
        while (p < lx->len && is_ident_char((unsigned char)lx->src[p]))
            p++;
        bool hyphen = false;
        while (p < lx->len && (is_ident_char((unsigned char)lx->src[p]) || lx->src[p] == '-')) {
            hyphen = hyphen || lx->src[p] == '-';
            p++;
        }
        size_t n = p - lx->pos;
        tok->kind = hyphen ? LEX_IDENT_HYPHEN : LEX_IDENT;
        if (!hyphen) {
            for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
                if (strlen(keywords[i].name) == n &&
                    memcmp(keywords[i].name, lx->src + lx->pos, n) == 0)
                    tok->kind = keywords[i].kind;
            if (n == 4 && memcmp(lx->src + lx->pos, "true", 4) == 0) {
                tok->kind = LEX_BOOL;
                tok->b = true;
            } else if (n == 5 && memcmp(lx->src + lx->pos, "false", 5) == 0) {
                tok->kind = LEX_BOOL;
                tok->b = false;
            }
        }
        tok->len = n;
        adv(lx, n);
        return;
    }
    if (is_digit(c) || (c == '.' && is_digit(c1)) ||
        ((c == '+' || c == '-') && (is_digit(c1) || (c1 == '.' && is_digit(peekc(lx, 2)))))) {
        lex_number(lx, tok);
        return;
    }
    if (c == '\'') {
        char *s;
        size_t n;
        if (scan_quoted(lx, tok, &s, &n)) {
            tok->kind = LEX_STRING;
            tok->str = s;
            tok->slen = n;
        }
        tok->len = lx->pos - begin;
        return;
    }
    lex_kind k = LEX_INVALID;
    size_t n = 1;
    switch (c) {
    case '[': k = LEX_LBRACK; break;
    case ']': k = LEX_RBRACK; break;
    case '(': k = LEX_LPAREN; break;
    case ')': k = LEX_RPAREN; break;
    case ':': k = LEX_COLON; break;
    case '.': k = LEX_DOT; break;
    case ',': k = LEX_COMMA; break;
    case '*': k = LEX_ASTERISK; break;
    case '=':
        k = LEX_EQ;
        n = c1 == '=' ? 2 : 1;
        break;
    case '!':
        if (c1 == '=') {
            k = LEX_NEQ;
            n = 2;
        }
        break;
    case '<':
        if (c1 == '>') {
            k = LEX_NEQ;
            n = 2;
        } else if (c1 == '=') {
            k = LEX_LE;
            n = 2;
        } else {
            k = LEX_LT;
        }
        break;
    case '>':
        k = c1 == '=' ? LEX_GE : LEX_GT;
        n = c1 == '=' ? 2 : 1;
        break;
    default:
        /* one whole code point, so the message shows a readable character */
        if (c >= 0xC0) {
            while (n < 4 && (peekc(lx, n) & 0xC0) == 0x80)
                n++;
        }
        break;
    }
    tok->kind = k;
    tok->len = n;
    adv(lx, n);
}
