/*
 * Unit tests for the strict JSON parser (lib/json/parse.c behind kz_json_parse): a
 * differential test against jansson's json_loadb with the flags kz_json_parse used to pass
 * (the reference for what is accepted and what value results), on real files, generated
 * documents and mutated inputs; then the error positions and messages, which are our own.
 *
 * Known difference, a jansson bug we do not copy: json_loadb ignores one NUL byte right after
 * a number or a literal ("[1\0]" and "true\0" are accepted), because its lexer marks an
 * empty look-ahead buffer with a NUL and so loses an ungot NUL. We reject any NUL byte outside
 * a string, as RFC 8259 requires; differ() checks that such inputs are the only
 * disagreements (without those bytes we must accept the same value). Messages and positions
 * differ too (jansson counts columns in characters and points after the token; we point at
 * the offending byte), so only acceptance and values are compared with jansson.
 */
#define _XOPEN_SOURCE 700
#include "kt.h"

#include <unistd.h>

#include <errno.h>

#include <ftw.h>
#include <kizuna/json.h>
#include <stdint.h>

#include "json/parse_internal.h"

#define JFLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

static int disagreements, nul_quirks;

/* The input as jansson reads it: a NUL byte right after a digit or a letter (the end of a
 * number or literal; inside a string it is an error for both) is skipped. */
static char *without_swallowed_nuls(const char *buf, size_t len, size_t *n)
{
    char *t = malloc(len + 1);
    *n = 0;
    for (size_t i = 0; t && i < len; i++) {
        unsigned char prev = i ? (unsigned char)buf[i - 1] : 0;
        bool alnum = (prev >= '0' && prev <= '9') || ((prev | 0x20) >= 'a' && (prev | 0x20) <= 'z');
        if (!(buf[i] == '\0' && alnum))
            t[(*n)++] = buf[i];
    }
    return t;
}

/* Parse with both; 0 when they agree on acceptance and (if accepted) on the value. */
static int differ(const char *buf, size_t len, const char *label)
{
    json_error_t je;
    kz_json_error ke;
    json_t *a = json_loadb(buf, len, JFLAGS, &je);
    json_t *b = kz_json_parse(buf, len, &ke);
    int bad = 0;
    if (a && !b && memchr(buf, '\0', len)) {
        /* The jansson NUL bug (see the top of the file): we must accept the same value once
         * the bytes jansson skipped are gone, and reject the original for its NUL byte. */
        size_t n;
        char *t = without_swallowed_nuls(buf, len, &n);
        json_t *c = t ? kz_json_parse(t, n, NULL) : NULL;
        if (c && json_equal(a, c) && ke.position < len && buf[ke.position] == '\0') {
            nul_quirks++;
            json_decref(c);
            free(t);
            json_decref(a);
            return 0;
        }
        json_decref(c);
        free(t);
    }
    if (!a != !b) {
        fprintf(stderr, "disagreement on %s (%zu bytes): jansson %s%s, kizuna %s%s\n", label, len,
                a ? "accepts" : "rejects: ", a ? "" : je.text,
                b ? "accepts" : "rejects: ", b ? "" : ke.text);
        if (len < 200)
            fprintf(stderr, "  input: %.*s\n", (int)len, buf);
        bad = 1;
    } else if (a && !json_equal(a, b)) {
        fprintf(stderr, "different values for %s\n", label);
        bad = 1;
    }
    json_decref(a);
    json_decref(b);
    disagreements += bad;
    return bad;
}

/* ---- (a) every JSON file we can find ---------------------------------------------------- */

static int files_seen, files_rejected;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    size_t n = strlen(path);
    if (flag != FTW_F || n < 5 || strcmp(path + n - 5, ".json") != 0)
        return 0;
    size_t len;
    char *buf = kz_read_file(path, &len);
    KT_CHECK_MSG(buf != NULL, "cannot read %s", path);
    if (!buf)
        return 0;
    json_t *a = json_loadb(buf, len, JFLAGS, NULL);
    files_rejected += !a;
    json_decref(a);
    KT_CHECK_MSG(differ(buf, len, path) == 0, "%s", path);
    free(buf);
    files_seen++;
    return 0;
}

static void test_files_match_jansson(void)
{
    const char *dirs[] = {"conformance", "data/attack"};
    char path[4096];
    int found = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", kt_shared_dir, dirs[i]);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        found++;
        nftw(path, visit, 16, FTW_PHYS);
    }
    if (!found)
        KT_SKIP("neither %s/conformance nor %s/data/attack is present", kt_shared_dir,
                kt_shared_dir);
    fprintf(stderr, "  %d files compared with jansson (%d rejected by both)\n", files_seen,
            files_rejected);
    KT_CHECK(files_seen > 0);
}

/* ---- (b) generated valid documents ------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1du;
}
static unsigned pick(unsigned n)
{
    return (unsigned)(next_rand() % n);
}

static void gen_ws(kz_buf *b)
{
    static const char ws[] = " \t\n\r";
    while (pick(4) == 0)
        kz_buf_putc(b, ws[pick(4)]);
}

static void gen_string(kz_buf *b, unsigned salt)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         " ",
                                         "~",
                                         "\\\"",
                                         "\\\\",
                                         "\\/",
                                         "\\b",
                                         "\\f",
                                         "\\n",
                                         "\\r",
                                         "\\t",
                                         "\\u00e9",
                                         "\\u20AC",
                                         "\\ud83d\\ude00",
                                         "\\uDBFF\\uDFFF",
                                         "\\u001f",
                                         "\\u0001",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "\xef\xbf\xbf",
                                         "\xf4\x8f\xbf\xbf",
                                         "\xed\x9f\xbf",
                                         "\xee\x80\x80",
                                         "\xc2\x80",
                                         "\xdf\xbf",
                                         "\xe0\xa0\x80",
                                         "'",
                                         "\x7f"};
    kz_buf_putc(b, '"');
    unsigned n = pick(12);
    if (pick(50) == 0)
        n = 200 + pick(300); /* long strings take the 16-byte scanning path */
    for (unsigned i = 0; i < n; i++)
        kz_buf_puts(b, pieces[pick(sizeof pieces / sizeof pieces[0])]);
    if (salt)
        kz_buf_printf(b, "#%u", salt); /* makes keys unique within an object */
    kz_buf_putc(b, '"');
}

static void gen_number(kz_buf *b)
{
    static const char *const edge[] = {"-0",
                                       "0",
                                       "1e308",
                                       "1.5e-300",
                                       "9223372036854775807",
                                       "-9223372036854775808",
                                       "-0.0",
                                       "0e0",
                                       "0E+0",
                                       "1E-0",
                                       "4.9e-324",
                                       "2.2250738585072014e-308",
                                       "1e-400",
                                       "1.7976931348623157e308",
                                       "9007199254740993.0",
                                       "1234567890123456789012345678.9",
                                       "0.1",
                                       "-1.25E+2",
                                       "100000000000000000000000e-3",
                                       "3.141592653589793238"};
    switch (pick(4)) {
    case 0:
        kz_buf_puts(b, edge[pick(sizeof edge / sizeof edge[0])]);
        break;
    case 1: {
        /* One draw per statement: argument evaluation order is unspecified. */
        const char *sign = pick(2) ? "-" : "";
        unsigned shift = 1 + pick(63);
        kz_buf_printf(b, "%s%llu", sign, (unsigned long long)(next_rand() >> shift));
        break;
    }
    default: {
        /* Decimals and exponents around the strtod fast path's edges. */
        unsigned long long m = next_rand() >> pick(64);
        int e = (int)pick(61) - 30;
        if (m == 0)
            m = 1;
        char digits[32];
        int nd = snprintf(digits, sizeof digits, "%llu", m);
        int point = nd > 1 ? 1 + (int)pick((unsigned)nd - 1) : 0;
        kz_buf_puts(b, pick(2) ? "-" : "");
        if (point) {
            kz_buf_append(b, digits, (size_t)point);
            kz_buf_putc(b, '.');
            kz_buf_puts(b, digits + point);
        } else {
            kz_buf_puts(b, digits);
        }
        if (pick(3)) {
            char letter = pick(2) ? 'e' : 'E';
            const char *plus = e >= 0 && pick(2) ? "+" : "";
            kz_buf_printf(b, "%c%s%d", letter, plus, e);
        }
        break;
    }
    }
}

static void gen_value(kz_buf *b, int depth)
{
    unsigned k = pick(depth > 5 ? 6 : 8);
    gen_ws(b);
    switch (k) {
    case 0:
    case 1:
        gen_string(b, 0);
        break;
    case 2:
    case 3:
        gen_number(b);
        break;
    case 4:
        kz_buf_puts(b, "true");
        break;
    case 5:
        kz_buf_puts(b, pick(2) ? "false" : "null");
        break;
    case 6: {
        unsigned n = pick(6);
        kz_buf_putc(b, '[');
        gen_ws(b);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                kz_buf_putc(b, ',');
            gen_value(b, depth + 1);
        }
        kz_buf_putc(b, ']');
        break;
    }
    default: {
        unsigned n = pick(6);
        kz_buf_putc(b, '{');
        gen_ws(b);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                kz_buf_putc(b, ',');
            gen_ws(b);
            gen_string(b, i + 1);
            gen_ws(b);
            kz_buf_putc(b, ':');
            gen_value(b, depth + 1);
        }
        kz_buf_putc(b, '}');
        break;
    }
    }
    gen_ws(b);
}

static void test_generated_documents_match_jansson(void)
{
    int before = disagreements, accepted = 0;
    kz_buf b;
    kz_buf_init(&b);
    for (int i = 0; i < 4000; i++) {
        kz_buf_reset(&b);
        gen_value(&b, i % 3 == 0 ? 6 : 0);
        char label[32];
        snprintf(label, sizeof label, "generated #%d", i);
        differ(b.data, b.len, label);
        kz_json_error e;
        json_t *v = kz_json_parse(b.data, b.len, &e);
        KT_CHECK_MSG(v != NULL, "generated #%d rejected: %d:%d: %s", i, e.line, e.column, e.text);
        accepted += v != NULL;
        json_decref(v);
    }
    kz_buf_free(&b);
    fprintf(stderr, "  4000 generated documents, %d accepted by kizuna\n", accepted);
    KT_CHECK(disagreements == before);
}

/* ---- (c) mutated and truncated inputs --------------------------------------------------- */

static void mutate(kz_buf *b)
{
    static const char special[] = "\"{}[],:\\0 -.eE+tfnu\x80\xbf\xc0\xc2\xe0\xed\xf0\xf4\xff\x01"
                                  "\0";
    if (b->len == 0)
        return;
    size_t at = next_rand() % b->len;
    switch (pick(5)) {
    case 0: /* random byte */
        b->data[at] = (char)pick(256);
        break;
    case 1: /* a byte that matters to the grammar */
        b->data[at] = special[pick(sizeof special - 1)];
        break;
    case 2: /* truncation */
        b->len = at;
        break;
    case 3: /* deletion */
        memmove(b->data + at, b->data + at + 1, b->len - at - 1);
        b->len--;
        break;
    default: /* duplication of a slice, which can repeat keys */
        if (b->len < 4096) {
            char copy[4096];
            size_t n = 1 + next_rand() % (b->len - at);
            memcpy(copy, b->data + at, n);
            kz_buf_append(b, copy, n);
        }
        break;
    }
}

static void test_mutated_inputs_agree_with_jansson(void)
{
    static const char *const seeds[] = {
        "{\"a\": [1, 2.5, -0, true, false, null], \"b\": {\"c\": \"d\\u00e9\\n\"}, \"e\": \"\"}",
        "[\"\xe2\x82\xac\", \"\\ud83d\\ude00\", 1e10, -12.5E-3, {\"k\": {}}, []]",
        "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"labels\":[\"x\",\"y\"],\"n\":9}",
        "\"plain string\"",
        "123456789",
        "-1.5e+300",
        "[[[[[[]]]]]]",
        "{\"a\":{\"a\":{\"a\":1}}}"};
    int before = disagreements, rejected = 0, total = 0;
    kz_buf b;
    kz_buf_init(&b);
    for (int i = 0; i < 6000; i++) {
        kz_buf_reset(&b);
        if (i % 2)
            kz_buf_puts(&b, seeds[pick(sizeof seeds / sizeof seeds[0])]);
        else
            gen_value(&b, 3);
        int rounds = 1 + (int)pick(3);
        for (int r = 0; r < rounds; r++)
            mutate(&b);
        char label[32];
        snprintf(label, sizeof label, "mutation #%d", i);
        differ(b.data ? b.data : "", b.len, label);
        json_t *v = json_loadb(b.data ? b.data : "", b.len, JFLAGS, NULL);
        rejected += !v;
        total++;
        json_decref(v);
    }
    kz_buf_free(&b);
    fprintf(stderr,
            "  %d mutated inputs, %d rejected by jansson, %d disagreements, %d jansson NUL "
            "bug cases\n",
            total, rejected, disagreements - before, nul_quirks);
    KT_CHECK(disagreements == before);
    KT_CHECK(rejected > total / 4); /* the mutations must actually produce invalid input */
}

/* Each invalid class on its own, so that a regression names the rule it broke. */
static void test_invalid_classes_agree_with_jansson(void)
{
    static const char *const cases[] = {"",
                                        " ",
                                        "{",
                                        "[",
                                        "]",
                                        "}",
                                        "{\"a\"}",
                                        "{\"a\":}",
                                        "{\"a\" 1}",
                                        "{,}",
                                        "[,]",
                                        "[1,]",
                                        "{\"a\":1,}",
                                        "[1 2]",
                                        "01",
                                        "-",
                                        "-a",
                                        "+1",
                                        ".5",
                                        "1.",
                                        "1.e5",
                                        "1e",
                                        "1e+",
                                        "0x10",
                                        "NaN",
                                        "Infinity",
                                        "-Infinity",
                                        "tru",
                                        "truee",
                                        "nul",
                                        "True",
                                        "'a'",
                                        "\"a",
                                        "\"\\x\"",
                                        "\"\\u12\"",
                                        "\"\\u12G4\"",
                                        "\"\\ud800\"",
                                        "\"\\udc00\"",
                                        "\"\\ud800\\u0041\"",
                                        "\"\\ud800\\\"",
                                        "\"\\u0000\"",
                                        "{\"\\u0000\":1}",
                                        "\"\t\"",
                                        "\"\n\"",
                                        "\"\x01\"",
                                        "\"\xc0\xaf\"",
                                        "\"\xc1\xbf\"",
                                        "\"\xe0\x80\xaf\"",
                                        "\"\xed\xa0\x80\"",
                                        "\"\xf4\x90\x80\x80\"",
                                        "\"\xf8\x88\x80\x80\x80\"",
                                        "\"\x80\"",
                                        "\"\xe2\x82\"",
                                        "\"\xe2\x82",
                                        "\xef\xbb\xbf{}",
                                        "{}x",
                                        "{} {}",
                                        "[] ,",
                                        "9223372036854775808",
                                        "-9223372036854775809",
                                        "1e400",
                                        "-1e400",
                                        "{\"a\":1,\"a\":2}",
                                        "{\"a\":1,\"b\":{\"a\":1},\"a\":[]}",
                                        "[1]\x00",
                                        "{\"a\":1 \"b\":2}",
                                        "/* c */ 1",
                                        "1 // c"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* "[1]\x00" is the one case whose NUL byte is part of the input. */
        size_t len = strlen(cases[i]) + (strcmp(cases[i], "[1]") == 0);
        KT_CHECK_MSG(differ(cases[i], len, cases[i]) == 0, "case %zu", i);
        kz_json_error e;
        json_t *v = kz_json_parse(cases[i], len, &e);
        KT_CHECK_MSG(v == NULL, "accepted: %s", cases[i]);
        json_decref(v);
    }
    /* The jansson NUL bug: jansson accepts these, we reject them at the NUL byte. */
    static const struct {
        const char *in;
        size_t len;
    } nul[] = {{"2\0", 2}, {"[1\0]", 4}, {"[true\0]", 7}, {"{\"a\":null\0}", 11}};
    int quirks = nul_quirks;
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
        kz_json_error e;
        json_t *v = kz_json_parse(nul[i].in, nul[i].len, &e);
        KT_CHECK_MSG(v == NULL && e.position < nul[i].len && nul[i].in[e.position] == '\0' &&
                         strstr(e.text, "byte 0x00") != NULL,
                     "NUL case %zu: %s", i, v ? "accepted" : e.text);
        json_decref(v);
        KT_CHECK(differ(nul[i].in, nul[i].len, "NUL after a token") == 0);
    }
    fprintf(stderr, "  jansson accepted %d of 4 inputs with a NUL byte after a token\n",
            nul_quirks - quirks);
    /* Valid inputs near the same edges. */
    static const char *const valid[] = {"0",
                                        "-0",
                                        "[]",
                                        "{}",
                                        " \t\r\n1\n",
                                        "\"\"",
                                        "1E+2",
                                        "\"\\ud800\\udc00\"",
                                        "\"\\u0080\"",
                                        "\"\x7f\"",
                                        "\"\xf4\x8f\xbf\xbf\"",
                                        "9223372036854775807",
                                        "-9223372036854775808",
                                        "1e-400",
                                        "[true,false,null]"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        KT_CHECK_MSG(differ(valid[i], strlen(valid[i]), valid[i]) == 0, "valid case %zu", i);
        json_t *v = kz_json_parse(valid[i], strlen(valid[i]), NULL);
        KT_CHECK_MSG(v != NULL, "rejected: %s", valid[i]);
        json_decref(v);
    }
}

/* ---- values ----------------------------------------------------------------------------- */

static void test_values(void)
{
    const char *in = "[9223372036854775807, -9223372036854775808, -0, 1.5e-300, 0.1, 1e308, "
                     "\"\\u00e9\\ud83d\\ude00\", \"a\\/b\"]";
    json_t *v = kz_json_parse(in, strlen(in), NULL);
    KT_CHECK(v != NULL && json_array_size(v) == 8);
    if (!v)
        return;
    KT_CHECK(json_integer_value(json_array_get(v, 0)) == INT64_MAX);
    KT_CHECK(json_integer_value(json_array_get(v, 1)) == INT64_MIN);
    KT_CHECK(json_is_integer(json_array_get(v, 2)) &&
             json_integer_value(json_array_get(v, 2)) == 0);
    KT_CHECK(json_is_real(json_array_get(v, 3)) &&
             json_real_value(json_array_get(v, 3)) == 1.5e-300);
    KT_CHECK(json_real_value(json_array_get(v, 4)) == 0.1);
    KT_CHECK(json_real_value(json_array_get(v, 5)) == 1e308);
    KT_CHECK_STR(json_string_value(json_array_get(v, 6)), "\xc3\xa9\xf0\x9f\x98\x80");
    KT_CHECK_STR(json_string_value(json_array_get(v, 7)), "a/b");
    json_decref(v);

    /* The input need not be NUL-terminated: a slice in the middle of a buffer. */
    const char *s = "[1,2]{\"a\":\"b\"}[3]";
    v = kz_json_parse(s + 5, 9, NULL);
    KT_CHECK(json_is_object(v) && json_object_size(v) == 1);
    KT_CHECK_STR(json_string_value(json_object_get(v, "a")), "b");
    json_decref(v);
    v = kz_json_parse(s + 1, 1, NULL);
    KT_CHECK(json_integer_value(v) == 1);
    json_decref(v);
}

/* ---- (d) error positions and messages --------------------------------------------------- */

static void expect_error(const char *in, size_t len, int line, int col, const char *msg)
{
    kz_json_error e = {0, 0, 0, ""};
    json_t *v = kz_json_parse(in, len, &e);
    KT_CHECK_MSG(v == NULL, "accepted: %.*s", (int)(len > 60 ? 60 : len), in);
    json_decref(v);
    KT_CHECK_MSG(e.line == line && e.column == col, "%.40s: got %d:%d, want %d:%d (%s)", in, e.line,
                 e.column, line, col, e.text);
    KT_CHECK_MSG(strstr(e.text, msg) != NULL, "%.40s: message \"%s\" lacks \"%s\"", in, e.text,
                 msg);
    /* position is the byte offset of line:column */
    size_t pos = 0;
    for (int l = 1; l < line && pos < len; pos++)
        if (in[pos] == '\n')
            l++;
    KT_CHECK_MSG(e.position == pos + (size_t)col - 1, "%.40s: position %zu", in, e.position);
}
#define EXPECT_ERROR(in, line, col, msg) expect_error(in, sizeof in - 1, line, col, msg)

static void test_error_positions(void)
{
    EXPECT_ERROR("{\"a\": 1", 1, 8, "unexpected end of input");
    EXPECT_ERROR("{\"a\": 1", 1, 8, "expected ',' or '}' after an object member");
    EXPECT_ERROR("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3,
                 "expected ',' or '}' after an object member");
    EXPECT_ERROR("[1, 2\n 3]", 2, 2, "expected ',' or ']' after an array element");
    EXPECT_ERROR("{\"x\": 1, \"x\": 2}", 1, 10, "duplicate object key 'x'");
    EXPECT_ERROR("{\"a\": {\"b\": 1},\n \"a\": [1]}", 2, 2, "duplicate object key 'a'");
    EXPECT_ERROR("[\"ok\", \"\xc0\xaf\"]", 1, 9, "overlong");
    EXPECT_ERROR("\"\xe0\x80\xaf\"", 1, 2, "overlong");
    EXPECT_ERROR("\"ab\xed\xa0\x80\"", 1, 4, "surrogate");
    EXPECT_ERROR("\"\xe2\x82\"", 1, 2, "truncated");
    EXPECT_ERROR("\"\xe2\x82", 1, 2, "truncated");
    EXPECT_ERROR("\"\xf4\x90\x80\x80\"", 1, 2, "above U+10FFFF");
    EXPECT_ERROR("\"\x80\"", 1, 2, "continuation");
    EXPECT_ERROR("\"x\\uD800\"", 1, 3, "lone surrogate \\uD800");
    EXPECT_ERROR("\"x\\uD800\\u0041\"", 1, 3, "lone surrogate");
    EXPECT_ERROR("\"\\uDC00\"", 1, 2, "lone surrogate \\uDC00");
    EXPECT_ERROR("\"a\\u0000b\"", 1, 3, "\\u0000");
    EXPECT_ERROR("\"a\\q\"", 1, 3, "invalid escape '\\q'");
    EXPECT_ERROR("\"a\\u12x4\"", 1, 3, "4 hexadecimal digits");
    EXPECT_ERROR("\"a\tb\"", 1, 3, "control character 0x09");
    EXPECT_ERROR("01", 1, 1, "leading zeros");
    EXPECT_ERROR("[1, -012]", 1, 6, "leading zeros");
    EXPECT_ERROR("1.", 1, 3, "a digit after the decimal point");
    EXPECT_ERROR("-", 1, 2, "unexpected end of input");
    EXPECT_ERROR("[1e+]", 1, 5, "a digit in the exponent");
    EXPECT_ERROR("{} x", 1, 4, "expected end of input after the JSON value, found 'x'");
    EXPECT_ERROR("[1]\n]", 2, 1, "end of input after the JSON value");
    EXPECT_ERROR("", 1, 1, "unexpected end of input: expected a JSON value");
    EXPECT_ERROR("  \n ", 2, 2, "unexpected end of input");
    EXPECT_ERROR("[1, ]", 1, 5, "expected a JSON value, found ']'");
    EXPECT_ERROR("{\"a\" 1}", 1, 6, "expected ':' after an object key");
    EXPECT_ERROR("{1:2}", 1, 2, "expected a string key or '}'");
    EXPECT_ERROR("{\"a\":1,}", 1, 8, "expected a string key after ','");
    EXPECT_ERROR("\"abc", 1, 5, "unexpected end of input in a string");
    EXPECT_ERROR("[nul]", 1, 2, "expected a JSON value");
    EXPECT_ERROR("9223372036854775808", 1, 1, "too big integer");
    EXPECT_ERROR("[-9223372036854775809]", 1, 2, "too big negative integer");
    EXPECT_ERROR("[1, 1e400]", 1, 5, "real number overflow");
    EXPECT_ERROR("[\"\\", 1, 4, "unexpected end of input");
}

static void test_depth_bound(void)
{
    /* jansson's rule: the top-level value is at depth 1; a value deeper than 2048 fails. */
    size_t n = 3000;
    char *s = malloc(2 * n + 2);
    memset(s, '[', n);
    memset(s + n, ']', n);
    expect_error(s, 2 * n, 1, KZ_JSON_MAX_DEPTH + 1, "maximum parsing depth reached");
    KT_CHECK(differ(s, 2 * n, "3000 nested arrays") == 0);
    /* 2048 arrays, the innermost empty: accepted. With a scalar inside: rejected. */
    n = KZ_JSON_MAX_DEPTH;
    memset(s, '[', n);
    memset(s + n, ']', n);
    json_t *v = kz_json_parse(s, 2 * n, NULL);
    KT_CHECK(v != NULL);
    json_decref(v);
    KT_CHECK(differ(s, 2 * n, "2048 nested arrays") == 0);
    memset(s, '[', n);
    s[n] = '1';
    memset(s + n + 1, ']', n);
    expect_error(s, 2 * n + 1, 1, (int)n + 1, "maximum parsing depth reached");
    KT_CHECK(differ(s, 2 * n + 1, "2048 nested arrays around 1") == 0);
    s[0] = ' '; /* 2047 arrays around 1 */
    v = kz_json_parse(s, 2 * n, NULL);
    KT_CHECK(v != NULL);
    json_decref(v);
    KT_CHECK(differ(s, 2 * n, "2047 nested arrays around 1") == 0);
    free(s);
    /* Deep objects, and a deep truncated input: an error, never a crash. */
    kz_buf b;
    kz_buf_init(&b);
    for (int i = 0; i < 100000; i++)
        kz_buf_puts(&b, "{\"a\":");
    v = kz_json_parse(b.data, b.len, NULL);
    KT_CHECK(v == NULL);
    KT_CHECK(differ(b.data, b.len, "100000 nested objects, truncated") == 0);
    kz_buf_free(&b);
}

/* ---- kz_json_each_document -------------------------------------------------------------- */

typedef struct {
    int docs, errs, last_line, err_line, err_col;
    size_t err_pos;
    char err_text[256];
} seen;

static int on_doc(void *ctx, json_t *doc, int line)
{
    seen *s = ctx;
    s->docs += doc != NULL;
    s->last_line = line;
    return 0;
}

static int on_err(void *ctx, const kz_json_error *e)
{
    seen *s = ctx;
    if (!s->errs++) {
        s->err_line = e->line;
        s->err_col = e->column;
        s->err_pos = e->position;
        snprintf(s->err_text, sizeof s->err_text, "%s", e->text);
    }
    return 0;
}

static void test_each_document(void)
{
    seen s = {0};
    const char *one = "{\n  \"a\": [1,\n 2]\n}\n";
    KT_CHECK(kz_json_each_document(one, strlen(one), on_doc, on_err, &s) == 0);
    KT_CHECK(s.docs == 1 && s.errs == 0 && s.last_line == 1);

    memset(&s, 0, sizeof s);
    const char *lines = "{\"a\":1}\n\n[2]\n{\"b\": 1 \"c\"}\n\"x\"\n";
    KT_CHECK(kz_json_each_document(lines, strlen(lines), on_doc, on_err, &s) == 0);
    KT_CHECK(s.docs == 3 && s.errs == 1 && s.last_line == 5);
    KT_CHECK(s.err_line == 4 && s.err_col == 9);
    KT_CHECK(s.err_pos == (size_t)(strstr(lines, "\"c\"") - lines));
    KT_CHECK(strstr(s.err_text, "expected ',' or '}'") != NULL);

    memset(&s, 0, sizeof s);
    const char *broken = "{\"a\":\n  [1,\n  2\n";
    kz_json_each_document(broken, strlen(broken), on_doc, on_err, &s);
    KT_CHECK(s.docs == 0 && s.errs == 1 && s.err_line == 4 && s.err_col == 1);
    KT_CHECK(strstr(s.err_text, "unexpected end of input") != NULL);

    memset(&s, 0, sizeof s);
    kz_json_each_document(" \n\t", 3, on_doc, on_err, &s);
    KT_CHECK(s.docs == 0 && s.errs == 1 && strstr(s.err_text, "empty input") != NULL);
}

static int count_err(void *ctx, const kz_json_error *e)
{
    (void)e;
    ++*(int *)ctx;
    return 0;
}

/* kz_json_append_file: documents appended in order, a top-level array contributing its
 * elements, a bad JSON line reported and skipped, an unreadable file -1 with errno. */
static void test_append_file(void)
{
    char path[] = "/tmp/kz-append-XXXXXX";
    int fd = mkstemp(path);
    KT_CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"a\":1}\n[2,3]\nnot json\n\"four\"\n", f);
    fclose(f);
    json_t *into = json_array();
    int errs = 0;
    KT_CHECK(kz_json_append_file(path, into, count_err, &errs) == 1);
    KT_CHECK(errs == 1);
    KT_CHECK(json_array_size(into) == 4);
    KT_CHECK(json_is_object(json_array_get(into, 0)));
    KT_CHECK(json_integer_value(json_array_get(into, 2)) == 3);
    KT_CHECK_STR(json_string_value(json_array_get(into, 3)), "four");
    unlink(path);
    errno = 0;
    KT_CHECK(kz_json_append_file(path, into, NULL, NULL) == -1 && errno == ENOENT);
    KT_CHECK(json_array_size(into) == 4);
    json_decref(into);
}

KT_MAIN(KT(test_files_match_jansson), KT(test_generated_documents_match_jansson),
        KT(test_mutated_inputs_agree_with_jansson), KT(test_invalid_classes_agree_with_jansson),
        KT(test_values), KT(test_error_positions), KT(test_depth_bound), KT(test_each_document),
        KT(test_append_file))
