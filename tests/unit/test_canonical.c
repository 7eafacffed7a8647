/* Unit tests for lib/json/canonical.c: RFC 8785 (JCS) serialisation, with the RFC's own
 * vectors (appendix B numbers, the section 3.2.3 sorting example, the 3.2.4 full example)
 * and edge cases of our own. */
#include "kt.h"

#include <kizuna/json.h>

#include <stdint.h>
#include <string.h>

/* Canonical text of a JSON document (parsed with kz_json_parse), or NULL. Caller frees. */
static char *canon_text(const char *json)
{
    kz_json_error err;
    json_t *v = kz_json_parse(json, strlen(json), &err);
    if (!v) {
        fprintf(stderr, "parse failed: %s\n", err.text);
        return NULL;
    }
    kz_buf b;
    kz_buf_init(&b);
    int rc = kz_json_canonical(v, &b);
    json_decref(v);
    if (rc != 0) {
        kz_buf_free(&b);
        return NULL;
    }
    return kz_buf_take(&b);
}

static char *canon_value(json_t *v)
{
    kz_buf b;
    kz_buf_init(&b);
    int rc = kz_json_canonical(v, &b);
    json_decref(v);
    if (rc != 0) {
        kz_buf_free(&b);
        return NULL;
    }
    return kz_buf_take(&b);
}

static void check_canon(const char *in, const char *want)
{
    char *got = canon_text(in);
    KT_CHECK_STR(got, want);
    free(got);
}

/* RFC 8785 appendix B: IEEE 754 bit patterns and their serialisations. */
static void test_appendix_b_numbers(void)
{
    static const struct {
        uint64_t bits;
        const char *want;
    } v[] = {
        {0x0000000000000000ULL, "0"},
        {0x8000000000000000ULL, "0"},
        {0x0000000000000001ULL, "5e-324"},
        {0x8000000000000001ULL, "-5e-324"},
        {0x7fefffffffffffffULL, "1.7976931348623157e+308"},
        {0xffefffffffffffffULL, "-1.7976931348623157e+308"},
        {0x4340000000000000ULL, "9007199254740992"},
        {0xc340000000000000ULL, "-9007199254740992"},
        {0x4430000000000000ULL, "295147905179352830000"},
        {0x44b52d02c7e14af5ULL, "9.999999999999997e+22"},
        {0x44b52d02c7e14af6ULL, "1e+23"},
        {0x44b52d02c7e14af7ULL, "1.0000000000000001e+23"},
        {0x444b1ae4d6e2ef4eULL, "999999999999999700000"},
        {0x444b1ae4d6e2ef4fULL, "999999999999999900000"},
        {0x444b1ae4d6e2ef50ULL, "1e+21"},
        {0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7"},
        {0x3eb0c6f7a0b5ed8dULL, "0.000001"},
        {0x41b3de4355555553ULL, "333333333.3333332"},
        {0x41b3de4355555554ULL, "333333333.33333325"},
        {0x41b3de4355555555ULL, "333333333.3333333"},
        {0x41b3de4355555556ULL, "333333333.3333334"},
        {0x41b3de4355555557ULL, "333333333.33333343"},
        {0xbecbf647612f3696ULL, "-0.0000033333333333333333"},
        {0x43143ff3c1cb0959ULL, "1424953923781206.2"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        double d;
        memcpy(&d, &v[i].bits, sizeof d);
        char *got = canon_value(json_real(d));
        KT_CHECK_MSG(got && strcmp(got, v[i].want) == 0, "%016llx: got %s, want %s",
                     (unsigned long long)v[i].bits, got ? got : "(null)", v[i].want);
        free(got);
    }
}

/* Exponent boundaries of Number::toString and plain decimal reals. */
static void test_number_forms(void)
{
    check_canon("[1.0, 4.50, 0.1, 100, 1e20, 1e21, 1.5e21, 1e-6, 1e-7, 1.25e-7, 2e-3, -0.0]",
                "[1,4.5,0.1,100,100000000000000000000,1e+21,1.5e+21,0.000001,1e-7,1.25e-7,"
                "0.002,0]");
    check_canon("[1.2345678901234568e20, 0.000001234, 12.5e-1]",
                "[123456789012345680000,0.000001234,1.25]");
}

/* Integers: decimal within 2^53; beyond, the double they round to (as JCS producers do). */
static void test_integers(void)
{
    check_canon("[0, -1, 42, 9007199254740991, -9007199254740992]",
                "[0,-1,42,9007199254740991,-9007199254740992]");
    char *got = canon_value(json_integer(9007199254740993LL));
    KT_CHECK_STR(got, "9007199254740992");
    free(got);
    got = canon_value(json_integer(INT64_MAX));
    KT_CHECK_STR(got, "9223372036854776000");
    free(got);
}

/* RFC 8785 section 3.2.4: the whole transformation. */
static void test_rfc_example(void)
{
    check_canon("{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, "
                "0.000000000000000000000000001],\n"
                "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
                "  \"literals\": [null, true, false]\n}",
                "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
                "1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

/* RFC 8785 section 3.2.3: members sorted by UTF-16 code units, so U+1F600 (surrogates
 * D83D DE00) sorts before U+FB33 although its code point is larger. */
static void test_rfc_sorting(void)
{
    char *got = canon_text("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\","
                           " \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\", \"1\": \"One\","
                           " \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": "
                           "\"Control\", \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}");
    KT_CHECK(got != NULL);
    if (!got)
        return;
    const char *order[] = {"Carriage Return", "One", "Control", "Latin Small Letter O",
                           "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet"};
    const char *prev = got;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *at = strstr(got, order[i]);
        KT_CHECK_MSG(at && at >= prev, "'%s' out of order in %s", order[i], got);
        if (at)
            prev = at;
    }
    free(got);
}

static void test_key_order_edges(void)
{
    /* U+E000 vs U+10000: code point order says E000 first, UTF-16 order says 10000 first. */
    check_canon("{\"\\ue000\":1,\"\\ud800\\udc00\":2}",
                "{\"\xf0\x90\x80\x80\":2,\"\xee\x80\x80\":1}");
    /* A prefix sorts first; uppercase before lowercase; no locale collation. */
    check_canon("{\"b\":1,\"aa\":2,\"a\":3,\"B\":4,\"_\":5}",
                "{\"B\":4,\"_\":5,\"a\":3,\"aa\":2,\"b\":1}");
    check_canon("{\"z\":{\"y\":[{\"b\":1,\"a\":2}],\"x\":{}},\"e\":[]}",
                "{\"e\":[],\"z\":{\"x\":{},\"y\":[{\"a\":2,\"b\":1}]}}");
}

static void test_string_escapes(void)
{
    /* Every control character: the short escapes where JSON has them, \u00xx otherwise.
     * (kz_json_parse refuses \u0000, so NUL is checked on a value built in code below.) */
    char in[32 * 8 + 8], want[32 * 8 + 8];
    size_t o = 0, w = 0;
    in[o++] = '"';
    want[w++] = '"';
    for (int ch = 1; ch < 0x20; ch++) {
        o += (size_t)snprintf(in + o, sizeof in - o, "\\u%04X", ch);
        const char *shortesc = ch == 8 ? "\\b" : ch == 9 ? "\\t" : ch == 10 ? "\\n"
                             : ch == 12 ? "\\f" : ch == 13 ? "\\r" : NULL;
        if (shortesc)
            w += (size_t)snprintf(want + w, sizeof want - w, "%s", shortesc);
        else
            w += (size_t)snprintf(want + w, sizeof want - w, "\\u%04x", ch);
    }
    in[o++] = '"', in[o] = 0;
    want[w++] = '"', want[w] = 0;
    check_canon(in, want);
    /* DEL, '/', U+2028 and non-ASCII stay literal; quote and backslash are escaped. */
    check_canon("\"\\u007f\\/\\u2028\\u00e9\\\"\\\\\"",
                "\"\x7f/\xe2\x80\xa8\xc3\xa9\\\"\\\\\"");
    char *got = canon_value(json_stringn("a\0b", 3));
    KT_CHECK_STR(got, "\"a\\u0000b\"");
    free(got);
}

static void test_literals_and_empty(void)
{
    check_canon("{}", "{}");
    check_canon("[]", "[]");
    check_canon("[null,true,false,\"\"]", "[null,true,false,\"\"]");
    check_canon(" { \"a\" : [ 1 , { } ] } ", "{\"a\":[1,{}]}");
}

static void test_appends_and_errors(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_puts(&b, "x=");
    json_t *v = json_pack("{s:i}", "k", 1);
    KT_CHECK(kz_json_canonical(v, &b) == 0);
    KT_CHECK_STR(b.data, "x={\"k\":1}");
    json_decref(v);
    KT_CHECK(kz_json_canonical(NULL, &b) < 0);
    /* A value nested deeper than any parsed document can be is refused, not recursed into. */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < 5000; i++) {
        json_t *inner = json_array();
        json_array_append_new(cur, inner);
        cur = inner;
    }
    kz_buf_reset(&b);
    KT_CHECK(kz_json_canonical(deep, &b) < 0);
    json_decref(deep);
    kz_buf_free(&b);
}

KT_MAIN(KT(test_appendix_b_numbers), KT(test_number_forms), KT(test_integers),
        KT(test_rfc_example), KT(test_rfc_sorting), KT(test_key_order_edges),
        KT(test_string_escapes), KT(test_literals_and_empty), KT(test_appends_and_errors))
