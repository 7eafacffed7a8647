/* Unit tests for lib/core: diagnostics, buffers, JSON pointers, timestamps, UUIDs. */
#include "kt.h"

#include <kizuna/core.h>

#include <arpa/inet.h>
#include <utf8proc.h>

static void test_time_parse_valid(void)
{
    kz_time t;
    KT_CHECK(kz_time_parse("1970-01-01T00:00:00Z", &t, NULL, 0) == 0 && t.us == 0);
    KT_CHECK(kz_time_parse("2016-04-06T20:03:48.123Z", &t, NULL, 0) == 0);
    KT_CHECK(t.us == 1459973028123000LL && t.frac_digits == 3);
    KT_CHECK(kz_time_parse("2016-04-06T20:03:48.123456789Z", &t, NULL, 0) == 0);
    KT_CHECK(t.us == 1459973028123456LL && t.nanos_extra == 789 && t.frac_digits == 9);
    KT_CHECK(kz_time_parse("2000-02-29T23:59:60Z", &t, NULL, 0) == 0);
    KT_CHECK(kz_time_parse("1969-12-31T23:59:59.5Z", &t, NULL, 0) == 0 && t.us == -500000);
}

static void test_time_parse_invalid(void)
{
    kz_time t;
    char err[128];
    const char *bad[] = {"2016-04-06t20:03:48Z", "2016-04-06T20:03:48z",
                         "2016-04-06T20:03:48+00:00", "2016-04-06T20:03Z", "2016/04/06T20:03:48Z",
                         "2016-02-30T00:00:00Z", "2015-02-29T00:00:00Z", "2016-13-01T00:00:00Z",
                         "2016-04-06T24:00:00Z", "2016-04-06T20:03:48.Z", "2016-04-06T20:03:48",
                         "", "2016-04-06T20:03:48ZZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        KT_CHECK_MSG(kz_time_parse(bad[i], &t, err, sizeof err) < 0, "%s accepted", bad[i]);
        KT_CHECK_MSG(err[0] != 0, "%s: no reason", bad[i]);
    }
}

static void test_time_order_and_format(void)
{
    kz_time a, b;
    kz_time_parse("2016-04-06T20:03:48.1Z", &a, NULL, 0);
    kz_time_parse("2016-04-06T20:03:48.100000001Z", &b, NULL, 0);
    KT_CHECK(kz_time_cmp(&a, &b) < 0 && kz_time_cmp(&b, &a) > 0 && kz_time_cmp(&a, &a) == 0);
    char buf[40];
    kz_time_format(1459973028123000LL, 3, buf, sizeof buf);
    KT_CHECK_STR(buf, "2016-04-06T20:03:48.123Z");
    kz_time_format(1459973028123456LL, 6, buf, sizeof buf);
    KT_CHECK_STR(buf, "2016-04-06T20:03:48.123456Z");
    kz_time_format(0, 0, buf, sizeof buf);
    KT_CHECK_STR(buf, "1970-01-01T00:00:00Z");
}

static void test_days_from_civil(void)
{
    KT_CHECK(kz_days_from_civil(1970, 1, 1) == 0);
    KT_CHECK(kz_days_from_civil(1969, 12, 31) == -1);
    KT_CHECK(kz_days_from_civil(2000, 3, 1) == 11017); /* after a century leap day */
    KT_CHECK(kz_days_from_civil(2100, 3, 1) - kz_days_from_civil(2100, 2, 28) == 1);
    KT_CHECK(kz_days_from_civil(1600, 1, 1) == -135140);
}

static void test_uuid(void)
{
    kz_uuid u, ns;
    char s[37];
    KT_CHECK(kz_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", &ns) == 0);
    kz_uuid_format(&ns, s);
    KT_CHECK_STR(s, "00abedb4-aa42-466c-9c01-fed23315a9b7");
    KT_CHECK(kz_uuid_parse("00ABEDB4-AA42-466C-9C01-FED23315A9B7", &u) == 0);
    KT_CHECK(memcmp(u.b, ns.b, 16) == 0);
    KT_CHECK(kz_uuid_parse("00abedb4aa42-466c-9c01-fed23315a9b7", &u) < 0);
    KT_CHECK(kz_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b", &u) < 0);
    KT_CHECK(kz_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b77", &u) < 0);
    KT_CHECK(kz_uuid_parse("g0abedb4-aa42-466c-9c01-fed23315a9b7", &u) < 0);
    kz_uuid_v4(&u);
    KT_CHECK(kz_uuid_version(&u) == 4 && kz_uuid_rfc4122_variant(&u));
    /* RFC 4122 appendix-style known answer: uuid5(NAMESPACE_DNS, "python.org"). */
    kz_uuid dns;
    kz_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8", &dns);
    KT_CHECK(kz_uuid_v5(&dns, "python.org", 10, &u) == 0);
    kz_uuid_format(&u, s);
    KT_CHECK_STR(s, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

/* kz_uuid_format against the format written out here (a digit per nibble, the hyphens at 8,
 * 13, 18 and 23): each byte position through every value, the others random, so that every
 * nibble value is seen in every digit position (0-9 and a-f differ in the formatter's
 * arithmetic), and the text parses back to the same bytes. */
static void test_uuid_format_bytes(void)
{
    static const char hx[] = "0123456789abcdef";
    size_t wrong = 0;
    for (int pos = 0; pos < 16; pos++)
        for (int v = 0; v < 256; v++) {
            kz_uuid u, back;
            kz_uuid_v4(&u);
            u.b[pos] = (uint8_t)v;
            char got[40], want[37];
            memset(got, 'x', sizeof got);
            kz_uuid_format(&u, got);
            for (int i = 0, o = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                    want[o++] = '-';
                want[o++] = hx[u.b[i] >> 4];
                want[o++] = hx[u.b[i] & 15];
            }
            want[36] = 0;
            wrong += memcmp(got, want, 37) != 0 || got[37] != 'x' ||
                     kz_uuid_parse(got, &back) != 0 || memcmp(back.b, u.b, 16) != 0;
        }
    KT_CHECK(wrong == 0);
}

/* kz_uuid_parse against the rule written out here (36 characters, hyphens at 8, 13, 18 and
 * 23, hex digits of either case elsewhere): a valid text with each position set to each byte
 * value from 1 to 255, and its prefixes of every length (each in a buffer of its own size, so
 * a read past the terminator is one the sanitizer build sees). */
static void test_uuid_parse_bytes(void)
{
    const char *good = "0a1B2c3D-4e5F-6789-aBcD-ef0123456789";
    size_t wrong = 0;
    for (int pos = 0; pos < 36; pos++)
        for (int c = 1; c < 256; c++) {
            char t[37];
            memcpy(t, good, 37);
            t[pos] = (char)c;
            bool hyph = pos == 8 || pos == 13 || pos == 18 || pos == 23;
            bool want =
                hyph ? c == '-'
                     : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            kz_uuid u;
            int r = kz_uuid_parse(t, &u);
            wrong += (r == 0) != want;
            if (r == 0 && !hyph) {
                int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
                int idx = pos - (pos > 8) - (pos > 13) - (pos > 18) - (pos > 23);
                wrong += (idx % 2 ? u.b[idx / 2] & 15 : u.b[idx / 2] >> 4) != v;
            }
        }
    for (size_t n = 0; n <= 36; n++) {
        char *t = malloc(n + 1);
        KT_CHECK(t != NULL);
        if (!t)
            continue;
        memcpy(t, good, n);
        t[n] = 0;
        kz_uuid u;
        wrong += (kz_uuid_parse(t, &u) == 0) != (n == 36);
        free(t);
    }
    KT_CHECK_MSG(wrong == 0, "%zu texts parsed wrong", wrong);
}

static void test_ptr(void)
{
    kz_ptr p;
    kz_ptr_init(&p);
    kz_ptr_push_key(&p, "external_references");
    kz_ptr_push_index(&p, 2);
    kz_ptr_push_key(&p, "a/b~c");
    KT_CHECK_STR(p.s, "/external_references/2/a~1b~0c");
    kz_ptr_pop(&p);
    KT_CHECK_STR(p.s, "/external_references/2");
    kz_ptr_pop(&p);
    kz_ptr_pop(&p);
    KT_CHECK_STR(p.s, "");
    kz_ptr_pop(&p); /* popping an empty pointer is harmless */
    KT_CHECK_STR(p.s, "");
    for (int i = 0; i < 500; i++)
        kz_ptr_push_key(&p, "deep");
    KT_CHECK(p.len < KZ_PTR_MAX);
    for (int i = 0; i < 500; i++)
        kz_ptr_pop(&p);
    KT_CHECK_STR(p.s, "");
}

static void test_diags_and_buf(void)
{
    kz_diags d;
    kz_diags_init(&d);
    KT_CHECK(kz_diags_add(&d, KZ_SEV_ERROR, "x--1", "/a", "bad %d", 7) == 0);
    KT_CHECK(kz_diags_add(&d, KZ_SEV_WARNING, NULL, NULL, "meh") == 0);
    KT_CHECK(d.n == 2 && d.errors == 1 && d.warnings == 1);
    KT_CHECK_STR(d.v[0].message, "bad 7");
    KT_CHECK_STR(d.v[1].pointer, "");
    KT_CHECK(d.v[1].object_id == NULL);
    kz_diags_free(&d);
    kz_buf b;
    kz_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        kz_buf_printf(&b, "%d,", i);
    KT_CHECK(b.len == 3890 && !b.oom);
    char *s = kz_buf_take(&b);
    KT_CHECK(strncmp(s, "0,1,2,", 6) == 0);
    free(s);
    kz_buf_init(&b);
    s = kz_buf_take(&b);
    KT_CHECK(s && s[0] == 0);
    free(s);
}

/* Reference: the definition kz_utf8_valid promises (utf8proc's decoder over every byte),
 * without its ASCII fast paths. */
static bool utf8_ref(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0)
            return false;
        i += (size_t)k;
    }
    return true;
}

/* The fast paths (8-byte words, an overlapping last word, two 4-byte words for 4..7 bytes)
 * against the reference: a non-ASCII byte, a valid sequence and a broken one at every
 * position of ASCII text of every length up to 40, and random byte strings. */
static void test_utf8_valid(void)
{
    static const char *const ins[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x80",
                                      "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xff"};
    char buf[64];
    int bad = 0;
    for (size_t n = 0; n <= 40; n++) {
        memset(buf, 'a', n);
        bad += kz_utf8_valid(buf, n) != true;
        for (size_t at = 0; at < n; at++)
            for (size_t k = 0; k < sizeof ins / sizeof ins[0]; k++) {
                size_t il = strlen(ins[k]);
                if (at + il > n)
                    continue;
                memset(buf, 'a', n);
                memcpy(buf + at, ins[k], il);
                bad += kz_utf8_valid(buf, n) != utf8_ref(buf, n);
            }
    }
    uint64_t r = 1;
    for (int rep = 0; rep < 20000; rep++) {
        size_t n = (size_t)(rep % 48);
        for (size_t i = 0; i < n; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            /* mostly ASCII, sometimes a high byte: both answers occur */
            buf[i] = (char)((r >> 59) == 0 ? (r >> 40) | 0x80 : 'a' + (r >> 40) % 26);
        }
        bad += kz_utf8_valid(buf, n) != utf8_ref(buf, n);
    }
    KT_CHECK_MSG(bad == 0, "%d answers differ from utf8proc's", bad);
    KT_CHECK(!kz_utf8_valid("abcdefg\xc3", 8));
    KT_CHECK(!kz_utf8_valid("abc\xc3", 4));
    KT_CHECK(kz_utf8_valid("abcdefgh\xc3\xa9", 10));
}

/* kz_ip4_format against inet_ntop: every value of each byte position, and random addresses;
 * the output stays within its 16 bytes. */
static void test_ip4_format(void)
{
    int bad = 0;
    uint64_t r = 3;
    for (int n = 0; n < 4 * 256 + 100000; n++) {
        uint8_t a[4];
        if (n < 4 * 256) {
            memset(a, 7, 4);
            a[n / 256] = (uint8_t)n;
        } else {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t x = (uint32_t)(r >> 32);
            memcpy(a, &x, 4);
        }
        char want[INET_ADDRSTRLEN], got[24];
        memset(got, 'X', sizeof got);
        inet_ntop(AF_INET, a, want, sizeof want);
        size_t k = kz_ip4_format(a, got);
        bad += k != strlen(want) || strcmp(got, want) != 0 || got[16] != 'X';
    }
    KT_CHECK_MSG(bad == 0, "%d addresses formatted unlike inet_ntop", bad);
}

KT_MAIN(KT(test_time_parse_valid), KT(test_time_parse_invalid), KT(test_time_order_and_format),
        KT(test_days_from_civil), KT(test_uuid), KT(test_uuid_format_bytes),
        KT(test_uuid_parse_bytes), KT(test_ptr), KT(test_diags_and_buf), KT(test_utf8_valid),
        KT(test_ip4_format))
