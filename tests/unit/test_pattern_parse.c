/*
 * Unit tests for the STIX pattern front end (lib/pattern: lexer, parser, semantic checks,
 * printer, inspector): the rules the conformance vectors do not cover — escapes, every
 * literal kind and its malformed forms, precedence (checked on the AST and via the printer),
 * error positions, bounds, 2.0/2.1 differences, qualifier rules, hash checks, paths.
 */
#include "kt.h"

#include <kizuna/pattern.h>
#include <stdlib.h>

static kz_pattern *parse_v(const char *s, int version)
{
    return kz_pattern_parse(s, version, NULL, NULL, NULL, 0);
}

#define OK(s) ok_at(__LINE__, (s), 21)
#define OK20(s) ok_at(__LINE__, (s), 20)
static bool ok_at(int at, const char *s, int version)
{
    int line = 0, col = 0;
    char msg[256] = "";
    kz_pattern *p = kz_pattern_parse(s, version, &line, &col, msg, sizeof msg);
    if (!p) {
        fprintf(stderr, "line %d: %s (v%d) rejected: %d:%d: %s\n", at, s, version, line, col,
                msg);
        kt_failed_checks++;
        return false;
    }
    kz_pattern_free(p);
    return true;
}

/* Expect an error at line:col whose message contains `what`. */
#define ERR(s, l, c, what) err_at(__LINE__, (s), 21, (l), (c), (what))
#define ERR20(s, l, c, what) err_at(__LINE__, (s), 20, (l), (c), (what))
static void err_at(int at, const char *s, int version, int eline, int ecol, const char *what)
{
    int line = 0, col = 0;
    char msg[256] = "";
    kz_pattern *p = kz_pattern_parse(s, version, &line, &col, msg, sizeof msg);
    if (p) {
        fprintf(stderr, "line %d: %s (v%d) accepted, expected an error\n", at, s, version);
        kt_failed_checks++;
        kz_pattern_free(p);
        return;
    }
    if (line != eline || col != ecol || !strstr(msg, what)) {
        fprintf(stderr, "line %d: %s (v%d): got %d:%d: %s; expected %d:%d: ...%s...\n", at, s,
                version, line, col, msg, eline, ecol, what);
        kt_failed_checks++;
    }
}

/* Canonical printout (static buffer, or "<error>"). */
static const char *printed_v(const char *s, int version)
{
    static char out[4096];
    kz_pattern *p = parse_v(s, version);
    if (!p)
        return "<error>";
    kz_buf b;
    kz_buf_init(&b);
    kz_pattern_print(p, &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    kz_buf_free(&b);
    kz_pattern_free(p);
    return out;
}
static const char *printed(const char *s) { return printed_v(s, 21); }

/* The literal of the first comparison of a single-[ ] pattern. */
static kz_pattern *first_cmp(const char *s, const kz_pat_cmp **c)
{
    kz_pattern *p = parse_v(s, 21);
    *c = NULL;
    if (!p)
        return NULL;
    const kz_pat_cmp *n = kz_pattern_root(p)->cmp;
    while (n && n->kind != KZ_CE_CMP)
        n = n->left;
    *c = n;
    return p;
}

static void test_string_escapes(void)
{
    const kz_pat_cmp *c;
    kz_pattern *p = first_cmp("[a:b = 'it\\'s a \\\\ path']", &c);
    KT_CHECK(p && c && c->lit.kind == KZ_LIT_STRING);
    if (c) {
        KT_CHECK_STR(c->lit.str, "it's a \\ path");
        KT_CHECK(c->lit.len == 13);
    }
    kz_pattern_free(p);
    KT_CHECK_STR(printed("[a:b = 'it\\'s a \\\\ path']"), "[a:b = 'it\\'s a \\\\ path']");
    ERR("[a:b = 'a\\nb']", 1, 10, "invalid escape");
    ERR("[a:b = 'a\\\"b']", 1, 10, "only \\' and \\\\");
    ERR("[a:b = 'abc]", 1, 8, "unterminated string");
    /* a string may span lines; the line count continues inside it */
    ERR("[a:b = 'x\ny' AND c:d = ]", 2, 14, "expected a literal after '='");
    OK("[a:b = '']");
    OK("[a:b = 'ünïcödé ✓']");
}

static void test_numbers(void)
{
    const kz_pat_cmp *c;
    kz_pattern *p = first_cmp("[a:b = -42]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_INT && c->lit.i == -42);
    kz_pattern_free(p);
    p = first_cmp("[a:b = +7]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_INT && c->lit.i == 7);
    kz_pattern_free(p);
    p = first_cmp("[a:b = -9223372036854775808]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_INT && c->lit.i == INT64_MIN);
    kz_pattern_free(p);
    p = first_cmp("[a:b > .5]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_FLOAT && c->lit.f == 0.5);
    kz_pattern_free(p);
    p = first_cmp("[a:b < -12.25]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_FLOAT && c->lit.f == -12.25);
    kz_pattern_free(p);
    ERR("[a:b = 9223372036854775808]", 1, 8, "out of range");
    ERR("[a:b = 007]", 1, 8, "leading zero");
    ERR("[a:b = - 5]", 1, 8, "expected a literal");
    ERR("[a:b = 1e5]", 1, 9, "expected ']'");
    /* printing: floats keep a point, never an exponent, shortest exact digits */
    KT_CHECK_STR(printed("[a:b = 7.0]"), "[a:b = 7.0]");
    KT_CHECK_STR(printed("[a:b = 0.000125]"), "[a:b = 0.000125]");
    KT_CHECK_STR(printed("[a:b = 100000000000000000000.0]"), "[a:b = 100000000000000000000.0]");
    KT_CHECK_STR(printed("[a:b = -0.1]"), "[a:b = -0.1]");
    KT_CHECK_STR(printed("[a:b = +3]"), "[a:b = 3]");
}

static void test_binary_hex_bool(void)
{
    const kz_pat_cmp *c;
    kz_pattern *p = first_cmp("[a:b_bin = b'YWxpY2U=']", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_BINARY && c->lit.len == 5 &&
             memcmp(c->lit.str, "alice", 5) == 0);
    kz_pattern_free(p);
    p = first_cmp("[a:b_bin = b'AQIDBA==']", &c);
    KT_CHECK(c && c->lit.len == 4 && memcmp(c->lit.str, "\x01\x02\x03\x04", 4) == 0);
    kz_pattern_free(p);
    /* line feeds inside base64 are ignored (spec 9.2) */
    p = first_cmp("[a:b_bin = b'YWxp\nY2U=']", &c);
    KT_CHECK(c && c->lit.len == 5 && memcmp(c->lit.str, "alice", 5) == 0);
    kz_pattern_free(p);
    ERR("[a:b = b'']", 1, 8, "non-zero multiple of 4");
    ERR("[a:b = b'YWx']", 1, 8, "multiple of 4");
    ERR("[a:b = b'Y*==']", 1, 8, "unexpected '*'");
    ERR("[a:b = b'Y=x=']", 1, 8, "invalid base64");
    p = first_cmp("[a:b_hex = h'00FFa0']", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_HEX && c->lit.len == 3 &&
             memcmp(c->lit.str, "\x00\xff\xa0", 3) == 0);
    kz_pattern_free(p);
    OK("[a:b = h'']");
    ERR("[a:b = h'abc']", 1, 8, "odd number");
    ERR("[a:b = h'zz']", 1, 8, "not a hex digit");
    KT_CHECK_STR(printed("[a:b = h'00FFa0' OR a:c = b'YWxp\nY2U=']"),
                 "[a:b = h'00ffa0' OR a:c = b'YWxpY2U=']");
    p = first_cmp("[a:b = true]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_BOOL && c->lit.b);
    kz_pattern_free(p);
    p = first_cmp("[a:b != false]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_BOOL && !c->lit.b && c->op == KZ_CMP_NE);
    kz_pattern_free(p);
    ERR("[a:b = TRUE]", 1, 8, "expected a literal");
}

static void test_timestamps(void)
{
    const kz_pat_cmp *c;
    kz_pattern *p = first_cmp("[a:b = t'2016-04-06T20:03:48.123Z']", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_TIMESTAMP && c->lit.t.us == 1459973028123000LL);
    if (c)
        KT_CHECK_STR(c->lit.str, "2016-04-06T20:03:48.123Z");
    kz_pattern_free(p);
    KT_CHECK_STR(printed("[a:b >= t'2016-04-06T20:03:48.1230Z']"),
                 "[a:b >= t'2016-04-06T20:03:48.1230Z']");
    const char *bad[] = {"t'2016-04-06t20:03:48Z'", "t'2016-04-06T20:03:48z'",
                         "t'2016-04-06T20:03Z'",    "t'2016/04/06T20:03:48Z'",
                         "t'2016-02-30T00:00:00Z'", "t'2016-04-06T20:03:48+01:00'",
                         "t''"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char pat[128];
        snprintf(pat, sizeof pat, "[a:b = %s]", bad[i]);
        err_at(__LINE__, pat, 21, 1, 8, "invalid timestamp literal");
    }
}

static void test_literal_per_operator(void)
{
    OK("[a:b LIKE 'x%'] AND [a:b MATCHES '^x'] AND [a:b ISSUBSET '10.0.0.0/8'] AND "
       "[a:b NOT ISSUPERSET '10.0.0.1']");
    ERR("[a:b LIKE 5]", 1, 11, "expected a string literal after LIKE");
    ERR("[a:b MATCHES h'00']", 1, 14, "string literal after MATCHES");
    ERR("[a:b ISSUBSET t'2016-04-06T20:03:48Z']", 1, 15, "string literal after ISSUBSET");
    ERR("[a:b < true]", 1, 8, "booleans have no order");
    OK("[a:b < 'm' AND a:c >= h'ff' AND a:d <= b'AQ==' AND a:e > t'2016-04-06T20:03:48Z']");
    ERR("[a:b = null]", 1, 8, "'null' is not a STIX literal");
    ERR("[a:b IN (1, null)]", 1, 13, "'null' is not a STIX literal");
    ERR("[a:b IN 1]", 1, 9, "'(' to open the set");
    ERR("[a:b IN (1 2)]", 1, 12, "',' or ')'");
    /* sets: empty and mixed types parse (mixed sets are a match-time error) */
    const kz_pat_cmp *c;
    kz_pattern *p = first_cmp("[a:b NOT IN ('x', 2, true)]", &c);
    KT_CHECK(c && c->op == KZ_CMP_IN && c->negated && c->lit.kind == KZ_LIT_SET &&
             c->lit.nitems == 3 && c->lit.items[1].kind == KZ_LIT_INT && c->lit.items[2].b);
    kz_pattern_free(p);
    p = first_cmp("[a:b IN ()]", &c);
    KT_CHECK(c && c->lit.kind == KZ_LIT_SET && c->lit.nitems == 0);
    kz_pattern_free(p);
    KT_CHECK_STR(printed("[a:b IN('x',2,true)]"), "[a:b IN ('x', 2, true)]");
    /* operator spellings */
    KT_CHECK_STR(printed("[a:b == 1 AND a:c <> 2 AND a:d NOT != 3]"),
                 "[a:b = 1 AND a:c != 2 AND a:d NOT != 3]");
    ERR("[a:b =! 1]", 1, 7, "expected a literal");
    ERR("[a:b ~ 1]", 1, 6, "comparison operator");
    ERR("[a:b NOT 1]", 1, 10, "comparison operator after NOT");
}

static void test_exists_versions(void)
{
    const kz_pat_cmp *c;
    kz_pattern *p = first_cmp("[EXISTS windows-registry-key:values]", &c);
    KT_CHECK(c && c->op == KZ_CMP_EXISTS && strcmp(c->path.object_type,
                                                   "windows-registry-key") == 0);
    kz_pattern_free(p);
    KT_CHECK_STR(printed("[EXISTS a:b.c AND a:d = 1]"), "[EXISTS a:b.c AND a:d = 1]");
    ERR20("[EXISTS a:b]", 1, 2, "EXISTS is not part of STIX 2.0");
    ERR("[NOT EXISTS a:b]", 1, 2, "object path");
    /* START/STOP: 2.1 takes t'' timestamps, 2.0 plain strings */
    OK("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'");
    ERR("[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2017-01-01T00:00:00Z'", 1, 17,
        "timestamp literal t'...' after START");
    OK20("[a:b = 1] START '2016-01-01T00:00:00Z' STOP '2017-01-01T00:00:00Z'");
    ERR20("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'", 1, 17,
          "STIX 2.0");
    ERR("[a:b = 1] START t'2016-01-01T00:00:00Z'", 1, 40, "'STOP'");
    /* 2.0: a bad START string is kept for the matcher to report at run time */
    kz_pattern *q = parse_v("[a:b = 1] START '2016-01-01t00:00:00Z' STOP '2017-01-01T00:00:00Z'",
                            20);
    KT_CHECK(q && kz_pattern_root(q)->kind == KZ_OE_STARTSTOP &&
             kz_pattern_root(q)->time_error != NULL);
    KT_CHECK(q && kz_pattern_version(q) == 20);
    kz_pattern_free(q);
    q = parse_v("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00.5Z'", 21);
    const kz_pat_obs *r = q ? kz_pattern_root(q) : NULL;
    KT_CHECK(r && r->kind == KZ_OE_STARTSTOP && r->time_error == NULL &&
             r->start.us == 1451606400000000LL && r->stop.us == 1483228800500000LL);
    if (r)
        KT_CHECK_STR(r->stop_text, "2017-01-01T00:00:00.5Z");
    kz_pattern_free(q);
    /* START == STOP parses (it matches nothing; the reference agrees) */
    OK("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z'");
    KT_CHECK(kz_pattern_parse("[a:b = 1]", 22, NULL, NULL, NULL, 0) == NULL);
}

static void test_precedence(void)
{
    /* comparison level: AND binds tighter than OR */
    kz_pattern *p = parse_v("[a:b = 1 OR a:c = 2 AND a:d = 3]", 21);
    const kz_pat_cmp *c = p ? kz_pattern_root(p)->cmp : NULL;
    KT_CHECK(c && c->kind == KZ_CE_OR && c->left->kind == KZ_CE_CMP &&
             c->right->kind == KZ_CE_AND);
    kz_pattern_free(p);
    KT_CHECK_STR(printed("[(a:b = 1 OR a:c = 2) AND a:d = 3]"),
                 "[(a:b = 1 OR a:c = 2) AND a:d = 3]");
    KT_CHECK_STR(printed("[((a:b = 1) AND (a:c = 2)) OR a:d = 3]"),
                 "[a:b = 1 AND a:c = 2 OR a:d = 3]");
    /* observation level: AND > OR > FOLLOWEDBY */
    p = parse_v("[a:x = 1] FOLLOWEDBY [b:x = 1] OR [c:x = 1] AND [d:x = 1]", 21);
    const kz_pat_obs *o = p ? kz_pattern_root(p) : NULL;
    KT_CHECK(o && o->kind == KZ_OE_FOLLOWEDBY && o->right->kind == KZ_OE_OR &&
             o->right->right->kind == KZ_OE_AND);
    kz_pattern_free(p);
    /* FOLLOWEDBY is left-associative */
    p = parse_v("[a:x = 1] FOLLOWEDBY [b:x = 1] FOLLOWEDBY [c:x = 1]", 21);
    o = p ? kz_pattern_root(p) : NULL;
    KT_CHECK(o && o->kind == KZ_OE_FOLLOWEDBY && o->left->kind == KZ_OE_FOLLOWEDBY &&
             o->right->kind == KZ_OE_OBS);
    kz_pattern_free(p);
    KT_CHECK_STR(printed("[a:x = 1] FOLLOWEDBY ([b:x = 1] FOLLOWEDBY [c:x = 1])"),
                 "[a:x = 1] FOLLOWEDBY ([b:x = 1] FOLLOWEDBY [c:x = 1])");
    KT_CHECK_STR(printed("([a:x = 1] FOLLOWEDBY [b:x = 1]) FOLLOWEDBY [c:x = 1]"),
                 "[a:x = 1] FOLLOWEDBY [b:x = 1] FOLLOWEDBY [c:x = 1]");
    KT_CHECK_STR(printed("([a:x = 1] OR [b:x = 1]) AND [c:x = 1]"),
                 "([a:x = 1] OR [b:x = 1]) AND [c:x = 1]");
    /* a qualifier applies to the nearest observation expression (spec 9.5.2) */
    p = parse_v("[b:x = 1] FOLLOWEDBY [c:x = 1] REPEATS 5 TIMES", 21);
    o = p ? kz_pattern_root(p) : NULL;
    KT_CHECK(o && o->kind == KZ_OE_FOLLOWEDBY && o->right->kind == KZ_OE_REPEATS &&
             o->right->repeats == 5 && o->right->left->kind == KZ_OE_OBS);
    kz_pattern_free(p);
    KT_CHECK_STR(printed("([b:x = 1] FOLLOWEDBY [c:x = 1]) REPEATS 5 TIMES"),
                 "([b:x = 1] FOLLOWEDBY [c:x = 1]) REPEATS 5 TIMES");
    KT_CHECK_STR(printed("[a:b = 1]  REPEATS 5 TIMES   WITHIN 1800.0 SECONDS"),
                 "[a:b = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS");
    /* a chain of one operator is a balanced tree: shallow even when long */
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    for (int i = 0; i < 20000; i++)
        kz_buf_printf(&b, "%sipv4-addr:value = '10.0.%d.%d'", i ? " OR " : "", i / 256, i % 256);
    kz_buf_putc(&b, ']');
    p = parse_v(b.data, 21);
    KT_CHECK(p != NULL);
    int depth = 0;
    for (c = p ? kz_pattern_root(p)->cmp : NULL; c && c->kind == KZ_CE_OR; c = c->left)
        depth++;
    KT_CHECK(depth > 10 && depth < 20);
    kz_buf out;
    kz_buf_init(&out);
    KT_CHECK(p && kz_pattern_print(p, &out) == 0 && strcmp(out.data, b.data) == 0);
    kz_buf_free(&out);
    kz_pattern_free(p);
    kz_buf_free(&b);
}

static void test_error_positions(void)
{
    ERR("", 1, 1, "expected '[' or '('");
    ERR("   ", 1, 4, "found end of pattern");
    ERR("[a:b = 1", 1, 9, "expected ']' after comparison");
    ERR("([a:b = 1]", 1, 11, "expected ')' after observation expression");
    ERR("[a:b = 1]\nAND\n  [c:d = ]", 3, 10, "expected a literal after '='");
    ERR("[a:b = 1] [c:d = 2]", 1, 11, "expected AND, OR, FOLLOWEDBY, a qualifier or end");
    ERR("[a:b = 1] and [c:d = 2]", 1, 11, "keywords are uppercase: AND");
    ERR("[a:b = 'é' AND c:d = ]", 1, 22, "expected a literal");
    ERR("[a:b = 1 OR ]", 1, 13, "object path");
    ERR("[a: = 1]", 1, 5, "property name after ':'");
    ERR("[a:b. = 1]", 1, 7, "property name after '.'");
    ERR("[a:b[x] = 1]", 1, 6, "list index");
    ERR("[a:b[1 = 1]", 1, 8, "']' after the list index");
    ERR("[a:b = 1] WITHIN 5 MINUTES", 1, 20, "'SECONDS'");
    ERR("[a:b = 1] REPEATS 2.5 TIMES", 1, 19, "positive integer after REPEATS");
    ERR("[a:b = 1] REPEATS -2 TIMES", 1, 19, "positive integer");
    ERR("[a:b = 1] WITHIN -1 SECONDS", 1, 18, "positive number of seconds");
    ERR("[a:b = 1] REPEATS 2", 1, 20, "'TIMES'");
    ERR("[a:b = 1] /* never closed", 1, 11, "unterminated");
    ERR("[a:b = 'x\xff']", 1, 10, "invalid UTF-8");
    ERR("[a:b = 1] ?", 1, 11, "found '?'");
    /* error message mentions what it found */
    int line, col;
    char msg[256];
    KT_CHECK(kz_pattern_parse("[a:b = ]", 21, &line, &col, msg, sizeof msg) == NULL);
    KT_CHECK_STR(msg, "expected a literal after '=', found ']'");
    /* a short message buffer is truncated, never overrun */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    KT_CHECK(kz_pattern_parse("[a:b = ]", 21, NULL, NULL, tiny, sizeof tiny) == NULL);
    KT_CHECK(strlen(tiny) == 7);
    KT_CHECK(kz_pattern_parse(NULL, 21, &line, &col, msg, sizeof msg) == NULL);
}

static void test_whitespace_comments(void)
{
    OK("[a:b /* comment */ = 1] // trailing comment");
    OK("\t[ a:b\r\n=\v1 ]\f");
    OK("[a:b\xe3\x80\x80=\xc2\xa0" "1]"); /* U+3000, U+00A0 */
    KT_CHECK_STR(printed("  [a:b=1]AND[c:d='x']  "), "[a:b = 1] AND [c:d = 'x']");
}

static void test_nesting_bound(void)
{
    char *s = malloc(4096);
    /* 200 levels of parentheses are fine, 300 are refused with a message, not a crash */
    for (int levels = 200; levels <= 300; levels += 100) {
        size_t n = 0;
        for (int i = 0; i < levels; i++)
            s[n++] = '(';
        memcpy(s + n, "[a:b = 1]", 9);
        n += 9;
        for (int i = 0; i < levels; i++)
            s[n++] = ')';
        s[n] = '\0';
        int line, col;
        char msg[256] = "";
        kz_pattern *p = kz_pattern_parse(s, 21, &line, &col, msg, sizeof msg);
        if (levels == 200)
            KT_CHECK_MSG(p != NULL, "%s", msg);
        else
            KT_CHECK(!p && strstr(msg, "nesting too deep") && line == 1 && col == 257);
        kz_pattern_free(p);
    }
    /* the same inside a comparison */
    size_t n = 0;
    s[n++] = '[';
    for (int i = 0; i < 400; i++)
        s[n++] = '(';
    s[n] = '\0';
    ERR(s, 1, 257, "nesting too deep");
    free(s);
    /* qualifier chains count towards the AST depth bound (2.0 allows repeats of one type) */
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_puts(&b, "[a:b = 1]");
    for (int i = 0; i < KZ_PATTERN_MAX_DEPTH + 10; i++)
        kz_buf_puts(&b, " REPEATS 2 TIMES");
    int line, col;
    char msg[256] = "";
    KT_CHECK(kz_pattern_parse(b.data, 20, &line, &col, msg, sizeof msg) == NULL &&
             strstr(msg, "nesting too deep"));
    kz_buf_free(&b);
    /* length bound */
    size_t big = (size_t)KZ_PATTERN_MAX_LEN + 16;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    KT_CHECK(kz_pattern_parse(huge, 21, &line, &col, msg, sizeof msg) == NULL && line == 1 &&
             col == 1 && strstr(msg, "longer than"));
    free(huge);
}

static void test_qualifiers(void)
{
    kz_pattern *p = parse_v("[a:b = 1] WITHIN 0 SECONDS", 21); /* a match-time error */
    KT_CHECK(p && kz_pattern_root(p)->kind == KZ_OE_WITHIN &&
             kz_pattern_root(p)->within_seconds == 0.0);
    kz_pattern_free(p);
    p = parse_v("[a:b = 1] WITHIN 2.5 SECONDS", 21);
    KT_CHECK(p && kz_pattern_root(p)->within_seconds == 2.5);
    kz_pattern_free(p);
    KT_CHECK_STR(printed("[a:b = 1] WITHIN 2.50 SECONDS"), "[a:b = 1] WITHIN 2.5 SECONDS");
    ERR("[a:b = 1] REPEATS 0 TIMES", 1, 11, "REPEATS needs a positive integer");
    /* one qualifier of each type on an observation expression (2.1) */
    ERR("[a:b = 1] WITHIN 1 SECONDS REPEATS 2 TIMES WITHIN 3 SECONDS", 1, 44,
        "duplicate WITHIN qualifier");
    ERR("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z' REPEATS 2 "
        "TIMES START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
        1, 86, "duplicate START/STOP qualifier");
    ERR("[x:y = 1] AND [a:b = 1] REPEATS 1 TIMES REPEATS 2 TIMES", 1, 41, "duplicate REPEATS");
    OK("[a:b = 1] WITHIN 1 SECONDS REPEATS 2 TIMES START t'2016-01-01T00:00:00Z' STOP "
       "t'2017-01-01T00:00:00Z'");
    /* through parentheses the reference does not compare (and neither do we) */
    OK("([a:b = 1] WITHIN 1 SECONDS) WITHIN 2 SECONDS");
    KT_CHECK_STR(printed("([a:b = 1] WITHIN 1 SECONDS) WITHIN 2 SECONDS"),
                 "([a:b = 1] WITHIN 1 SECONDS) WITHIN 2 SECONDS");
    KT_CHECK_STR(printed("(([a:b = 1])) WITHIN 1 SECONDS WITHIN 2 SECONDS"),
                 "([a:b = 1]) WITHIN 1 SECONDS WITHIN 2 SECONDS");
    OK20("[a:b = 1] WITHIN 1 SECONDS WITHIN 2 SECONDS");
    p = kz_pattern_parse_ex("[a:b = 1] REPEATS 1 TIMES REPEATS 2 TIMES", 21,
                            KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS, NULL, NULL, NULL, 0);
    KT_CHECK(p && kz_pattern_root(p)->repeats == 2 && kz_pattern_root(p)->left->repeats == 1);
    kz_pattern_free(p);
    /* keywords are case-sensitive */
    ERR("[a:b = 1] WITHIN 1 seconds", 1, 20, "'SECONDS'");
    ERR("[a:b = 1] Within 1 SECONDS", 1, 11, "expected AND, OR");
}

static void test_hashes(void)
{
    OK("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']");
    ERR("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879']", 1, 2, "not a valid MD5 hash");
    ERR("[file:hashes.MD5 = 'zead3f77f6cda6ec00f57d76c9a6879f']", 1, 2, "MD5");
    OK("[file:hashes.'SHA-1' = '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12']");
    ERR("[file:hashes.'SHA-1' = '2fd4e1c67a2d28fced849ee1bb76e7391b93eb1']", 1, 2, "SHA-1");
    ERR("[a:b = 1 AND file:hashes.sha256 != 'abc']", 1, 14, "SHA-256");
    OK("[file:hashes.'SHA-512' = '" /* 128 hex */
       "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
       "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']");
    OK("[file:hashes.'SHA3-256' = "
       "'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a']");
    ERR("[file:hashes.'SHA3-512' = 'a7ffc6f8']", 1, 2, "SHA3-512");
    OK("[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']");
    ERR("[file:hashes.SSDEEP = 'not valid!']", 1, 2, "SSDEEP");
    OK("[file:hashes.TLSH = "
       "'8D4195AA21D2C0D5E58D1B7DB42AD6F1BBA8E6A8A0D1F1E42AA6F4F5A0AC1AE3E7E4A3']");
    ERR("[file:hashes.TLSH = 'abcd']", 1, 2, "TLSH");
    /* IN sets are checked item by item; other operators and custom algorithms are not */
    ERR("[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f', 'x')]", 1, 2, "'x'");
    OK("[file:hashes.MD5 LIKE 'cead%']");
    OK("[file:hashes.'x-custom' = 'anything']");
    OK("[artifact:hashes[*] = 'short']");
    OK("[file:x_hashes.MD5 = 'short']");
    /* unknown object types and properties are custom, hence allowed */
    OK("[x-usb-device:usbdrive.serial_number = '5758']");
}

static void test_paths(void)
{
    kz_pattern *p =
        parse_v("[file:extensions.'windows-pebinary-ext'.sections[*].entropy[0][-1] > 7.0]", 21);
    const kz_pat_cmp *c = p ? kz_pattern_root(p)->cmp : NULL;
    KT_CHECK(c && c->path.nsteps == 7);
    if (c && c->path.nsteps == 7) {
        KT_CHECK_STR(c->path.object_type, "file");
        KT_CHECK(c->path.steps[0].kind == KZ_STEP_KEY &&
                 strcmp(c->path.steps[0].key, "extensions") == 0);
        KT_CHECK_STR(c->path.steps[1].key, "windows-pebinary-ext");
        KT_CHECK(c->path.steps[3].kind == KZ_STEP_ANY);
        KT_CHECK_STR(c->path.steps[4].key, "entropy");
        KT_CHECK(c->path.steps[5].kind == KZ_STEP_INDEX && c->path.steps[5].index == 0);
        KT_CHECK(c->path.steps[6].kind == KZ_STEP_INDEX && c->path.steps[6].index == -1);
        KT_CHECK(c->line == 1 && c->column == 2);
    }
    kz_pattern_free(p);
    OK("[some-type:'has-hyphen' = 1]");
    ERR("[some-type:needs-quotes = 1]", 1, 12, "quote it as 'needs-quotes'");
    ERR("[a:b.c-d = 1]", 1, 6, "contains '-'");
    ERR("[file.size = 1]", 1, 6, "':' after the object type");
    ERR("[a:AND = 1]", 1, 4, "property name");
    OK("[X_Custom_Type:_under_score = 1]");
    /* keys that need quotes are printed quoted; plain ones bare */
    KT_CHECK_STR(printed("[a:'plain'.'a b'.'AND'.''.'it\\'s'[*] = 1]"),
                 "[a:plain.'a b'.'AND'.''.'it\\'s'[*] = 1]");
}

static void test_inspect_json(void)
{
    kz_pattern *p = parse_v("[a:b = b'AQID' AND a:c != h'0A0b' AND a:d IN (1, 2.5, 'x') AND "
                            "a:e < t'2016-01-01T00:00:00Z' AND EXISTS a:f[0]] AND "
                            "[a:g = true] FOLLOWEDBY [a:h = 1] REPEATS 2 TIMES OR [a:i = 1] "
                            "WITHIN 1.5 SECONDS",
                            21);
    KT_CHECK(p != NULL);
    json_t *j = p ? kz_pattern_inspect(p) : NULL;
    KT_CHECK(j != NULL);
    if (j) {
        json_t *cm = json_object_get(j, "comparisons");
        KT_CHECK(json_array_size(cm) == 8);
        json_t *c0 = json_array_get(cm, 0);
        KT_CHECK_STR(json_string_value(json_object_get(c0, "kind")), "binary");
        KT_CHECK_STR(json_string_value(json_object_get(c0, "value")), "AQID");
        json_t *c1 = json_array_get(cm, 1);
        KT_CHECK_STR(json_string_value(json_object_get(c1, "value")), "0a0b");
        KT_CHECK_STR(json_string_value(json_object_get(c1, "operator")), "!=");
        json_t *c2 = json_array_get(cm, 2);
        KT_CHECK_STR(json_string_value(json_object_get(c2, "kind")), "set");
        KT_CHECK(json_array_size(json_object_get(c2, "value")) == 3 &&
                 json_real_value(json_array_get(json_object_get(c2, "value"), 1)) == 2.5);
        KT_CHECK_STR(json_string_value(json_object_get(c2, "text")), "(1, 2.5, 'x')");
        json_t *c3 = json_array_get(cm, 3);
        KT_CHECK_STR(json_string_value(json_object_get(c3, "value")), "2016-01-01T00:00:00Z");
        json_t *c4 = json_array_get(cm, 4);
        KT_CHECK_STR(json_string_value(json_object_get(c4, "operator")), "EXISTS");
        KT_CHECK(json_object_get(c4, "value") == NULL);
        KT_CHECK(json_integer_value(json_array_get(json_object_get(c4, "path"), 1)) == 0);
        KT_CHECK(json_is_true(json_object_get(json_array_get(cm, 5), "value")));
        json_t *q = json_object_get(j, "qualifiers");
        KT_CHECK(json_array_size(q) == 2);
        KT_CHECK_STR(json_string_value(json_array_get(q, 0)), "REPEATS 2 TIMES");
        KT_CHECK_STR(json_string_value(json_array_get(q, 1)), "WITHIN 1.5 SECONDS");
        json_t *ops = json_object_get(j, "observation_ops");
        KT_CHECK(json_array_size(ops) == 3);
        KT_CHECK_STR(json_string_value(json_array_get(ops, 0)), "AND");
        KT_CHECK_STR(json_string_value(json_array_get(ops, 1)), "FOLLOWEDBY");
        KT_CHECK_STR(json_string_value(json_array_get(ops, 2)), "OR");
    }
    json_decref(j);
    kz_pattern_free(p);
    KT_CHECK(kz_pattern_inspect(NULL) == NULL);
    kz_pattern_free(NULL);
    KT_CHECK(kz_pattern_root(NULL) == NULL && kz_pattern_version(NULL) == 0);
}

KT_MAIN(KT(test_string_escapes), KT(test_numbers), KT(test_binary_hex_bool), KT(test_timestamps),
        KT(test_literal_per_operator), KT(test_exists_versions), KT(test_precedence),
        KT(test_error_positions), KT(test_whitespace_comments), KT(test_nesting_bound),
        KT(test_qualifiers), KT(test_hashes), KT(test_paths), KT(test_inspect_json))
