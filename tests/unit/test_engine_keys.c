/*
 * The engine's key encoding (kz_e_key_str): canonical address texts and one-case digests are
 * stored as their bytes, everything else as text, and decoding a key gives its text back.
 * Which form a value takes changes no answer (indicators and probes share the function) but
 * does change the index's size: until this test, an IPv6 group shorter than four digits ended
 * the parse (':' was read as a digit), so nearly every IPv6 address was stored as text.
 */
#include "kt.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "engine/engine_int.h"

/* The kind kz_e_key_str gives s, and whether the key decodes to s. */
static int kind_of(const char *s, bool *round_trip)
{
    uint8_t kb[KZ_E_MAX_KEY + 32];
    size_t kl = kz_e_key_str(kb, 5, s, strlen(s));
    if (!kl)
        return -1;
    char back[2 * KZ_E_MAX_KEY + 64];
    size_t n = kz_e_key_text_to(kb, back);
    *round_trip = n == strlen(s) && memcmp(back, s, n) == 0;
    return kb[2];
}

static void test_key_kinds(void)
{
    static const struct {
        const char *s;
        int kind;
    } cases[] = {
        {"192.0.2.1", K_IP4},
        {"0.0.0.0", K_IP4},
        {"255.255.255.255", K_IP4},
        {"192.0.2.01", K_STR},          /* a leading zero: not inet_ntop's text */
        {"192.0.2.256", K_STR},
        {"2001:db8::1", K_IP6},
        {"2001:db8:5e:dd::3b0", K_IP6}, /* short groups */
        {"::", K_IP6},
        {"::1", K_IP6},
        {"fe80::", K_IP6},
        {"1:2:3:4:5:6:7:8", K_IP6},
        {"2001:DB8::1", K_STR},         /* uppercase */
        {"2001:0db8::1", K_STR},        /* a leading zero */
        {"2001:db8:0:0:0:0:0:1", K_STR}, /* zeros not compressed */
        {"2001:db8::g", K_STR},
        {"0123456789abcdef0123456789abcdef", K_HEXL},
        {"0123456789ABCDEF0123456789ABCDEF", K_HEXU},
        {"01234567890123456789", K_HEXL}, /* digits only */
        {"0123456789aBcdef0123456789abcdef", K_STR},
        {"0123456789abcdef0123456789abcde", K_STR}, /* odd length */
        {"example.org", K_STR},
        {"", K_STR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool rt = false;
        int k = kind_of(cases[i].s, &rt);
        KT_CHECK_MSG(k == cases[i].kind, "'%s': kind %d, want %d", cases[i].s, k, cases[i].kind);
        KT_CHECK_MSG(rt, "'%s' does not decode back", cases[i].s);
    }
}

/* IPv6 keys: every text the engine's formatter writes is taken as an address and decodes to
 * itself, and a text taken as an address always decodes to itself (so no two texts share a
 * key). The canonical form is checked while parsing, not by formatting again: random
 * addresses with runs of zero groups, and the same texts with one character changed. */
static void test_ip6_round_trip(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t taken = 0, bad = 0;
    static const char alpha[] = "0123456789abcdefA:";
    for (int it = 0; it < 200000; it++) {
        uint8_t a[16] = {0}, kb[KZ_E_MAX_KEY + 32];
        for (size_t k = 0; k < 8; k++) {
            kt_xorshift(&x);
            if (x % 3 == 0) { /* zero groups are common, so runs of them are */
                a[2 * k] = (uint8_t)(x >> 8 & (x & 4 ? 0x0f : 0xff));
                a[2 * k + 1] = (uint8_t)(x >> 16);
            }
        }
        char s[64];
        kz_e_key_raw(kb, 5, K_IP6, a, 16);
        size_t n = kz_e_key_text_to(kb, s);
        bool rt = false;
        bad += kind_of(s, &rt) != K_IP6 || !rt;
        kt_xorshift(&x);
        s[x % n] = alpha[(x >> 8) % (sizeof alpha - 1)];
        int k = kind_of(s, &rt);
        taken += k == K_IP6;
        bad += k == K_IP6 && !rt;
    }
    KT_CHECK_MSG(bad == 0, "%zu texts taken as addresses that do not decode to themselves", bad);
    KT_CHECK(taken > 1000); /* changed texts still canonical (a digit for a digit) are taken */
}

/* The engine's IPv6 text is inet_ntop's (RFC 5952: lowercase, no leading zeros, the first
 * longest run of two or more zero groups as "::") except that it never writes a dotted tail:
 * every one of the 256 patterns of zero groups, each with 40 fills of the other groups of 1
 * to 4 digits. inet_ntop's dotted forms (::ffff:a.b.c.d, ::a.b.c.d) are skipped. */
static void test_ip6_text_is_inet_ntop(void)
{
    uint64_t x = 77;
    size_t bad = 0, compared = 0;
    for (unsigned z = 0; z < 256; z++) {
        for (int fill = 0; fill < 40; fill++) {
            uint8_t a[16];
            for (size_t g = 0; g < 8; g++) {
                uint64_t r = kt_xorshift(&x);
                unsigned v = (unsigned)(r >> 8) & (0xffffu >> 4 * (r % 4)); /* 1 to 4 digits */
                v = z >> g & 1 ? 0 : v ? v : 1;
                a[2 * g] = (uint8_t)(v >> 8);
                a[2 * g + 1] = (uint8_t)v;
            }
            char want[INET6_ADDRSTRLEN], got[48];
            KT_CHECK(inet_ntop(AF_INET6, a, want, sizeof want) != NULL);
            if (strchr(want, '.'))
                continue;
            size_t n = kz_e_val_text_to(K_IP6, a, 16, got);
            compared++;
            if (n != strlen(want) || strcmp(got, want) != 0) {
                if (bad++ < 5)
                    fprintf(stderr, "zero groups %02x: '%s', inet_ntop '%s'\n", z, got, want);
            }
        }
    }
    KT_CHECK_MSG(bad == 0, "%zu of %zu addresses written unlike inet_ntop", bad, compared);
    KT_CHECK(compared > 10000);
}

/* Without a fixed seed, the first engine draws one at random: the hash of a key is no longer
 * its unseeded value (a 2^-64 chance of a false failure), and the seed cannot change after. */
static void test_random_seed(void)
{
    const char *k = "\x05\x00\x01\x0b\x00example.org";
    uint64_t before = kz_e_hash(k, 16);
    kz_engine *e = kz_engine_new(NULL);
    KT_CHECK(e != NULL);
    KT_CHECK(kz_e_hash(k, 16) != before);
    KT_CHECK(kz_engine_set_hash_seed(7) == -1);
    kz_engine_free(e);
}

/* Hex strings, near-hex strings and others of every length from 0 to 140 against the rule
 * written out here: 16 to 128 digits, an even count, one case -> their bytes (K_HEXL, or
 * K_HEXU with an upper-case letter), else the text. The decoder takes 16-digit blocks at a
 * time (SSE2) and the rest one pair at a time; a bad character is put anywhere, the bytes
 * of 0x80 and above and the neighbours of each range ('/', ':', '@', 'G', '`', 'g') too. */
static void test_hex_keys(void)
{
    static const char alpha[] = "0123456789abcdefABCDEF";
    static const char bad[] = {'/', ':', '@', 'G', '`', 'g', ' ', 'x', (char)0x80, (char)0xff, (char)0xc3};
    uint64_t rs = 42;
    size_t wrong = 0, hex = 0;
    for (int t = 0; t < 200000; t++) {
        size_t len = (size_t)(kt_xorshift(&rs) % 141);
        int mode = (int)(kt_xorshift(&rs) % 4); /* 0 lower, 1 upper, 2 mixed, 3 digits */
        char v[160];
        for (size_t i = 0; i < len; i++) {
            uint64_t r = kt_xorshift(&rs);
            v[i] = mode == 3 ? alpha[r % 10]
                 : mode == 0 ? alpha[r % 16]
                 : mode == 1 ? alpha[r % 16 < 10 ? r % 16 : r % 16 + 6]
                             : alpha[r % 22];
        }
        if (len && kt_xorshift(&rs) % 3 == 0) /* one bad character */
            v[kt_xorshift(&rs) % len] = bad[kt_xorshift(&rs) % sizeof bad];
        bool ok = len >= 16 && len % 2 == 0 && len <= 128, lower = false, upper = false;
        uint8_t want[64];
        for (size_t i = 0; ok && i < len; i++) {
            char c = v[i];
            int d = c >= '0' && c <= '9' ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
            lower |= c >= 'a' && c <= 'f';
            upper |= c >= 'A' && c <= 'F';
            ok = d >= 0;
            if (ok)
                want[i / 2] = (uint8_t)(i % 2 ? (want[i / 2] | d) : d << 4);
        }
        ok = ok && !(lower && upper);
        uint8_t got[KZ_E_MAX_KEY + 32], exp[KZ_E_MAX_KEY + 32];
        size_t gl = kz_e_key_str(got, 5, v, len);
        size_t el = ok ? kz_e_key_raw(exp, 5, upper ? K_HEXU : K_HEXL, want, len / 2)
                       : kz_e_key_raw(exp, 5, K_STR, v, len);
        hex += ok;
        if (gl != el || memcmp(got, exp, gl) != 0) {
            if (wrong++ < 5)
                fprintf(stderr, "hex key of %.*s (%zu): kind %d, want %d\n", (int)len, v, len,
                        gl ? got[2] : -1, exp[2]);
        }
    }
    fprintf(stderr, "hex keys: 200000 strings, %zu hex, %zu wrong\n", hex, wrong);
    KT_CHECK(wrong == 0);
    KT_CHECK(hex > 20000);
}

/* A string gets the K_IP4 key exactly when inet_ntop(inet_pton(s)) gives s back, with the
 * address's 4 bytes: over 300,000 strings of digits and dots (parts of 0 to 4 digits, with
 * and without leading zeros, above 255, a part too many or too few) and some other bytes. */
static void test_ip4_keys(void)
{
    static const char alpha[] = "0123456789.";
    uint64_t rs = 17;
    size_t wrong = 0, ip4 = 0;
    for (int t = 0; t < 300000; t++) {
        char v[40];
        size_t len = 0;
        if (t % 2) { /* a quad, its parts of 1 to 4 digits */
            int parts = kt_xorshift(&rs) % 4 ? 4 : 3 + 2 * (int)(kt_xorshift(&rs) % 2);
            for (int p = 0; p < parts && len < 30; p++) {
                if (p)
                    v[len++] = '.';
                if (kt_xorshift(&rs) % 16) { /* a number as inet_ntop writes it, up to 299 */
                    unsigned x = (unsigned)(kt_xorshift(&rs) % (kt_xorshift(&rs) % 2 ? 10 : 300));
                    len += (size_t)snprintf(v + len, sizeof v - len, "%u", x);
                } else { /* 1 to 4 digits, maybe a leading zero */
                    int nd = 1 + (int)(kt_xorshift(&rs) % 4);
                    for (int d = 0; d < nd; d++)
                        v[len++] = (char)('0' + kt_xorshift(&rs) % 10);
                }
            }
        } else {
            len = (size_t)(kt_xorshift(&rs) % 18);
            for (size_t i = 0; i < len; i++)
                v[i] = alpha[kt_xorshift(&rs) % (sizeof alpha - 1)];
        }
        /* now and then a byte that is not a digit or a dot: the neighbours of their ranges,
         * and a dot or digits with the high bit set (the parser classifies 8 bytes at once) */
        static const char other[] = "a:/ x-\xae\xb0\xb9";
        if (len && kt_xorshift(&rs) % 16 == 0)
            v[kt_xorshift(&rs) % len] = other[kt_xorshift(&rs) % (sizeof other - 1)];
        v[len] = 0;
        uint8_t a[4];
        char back[INET_ADDRSTRLEN];
        bool want = inet_pton(AF_INET, v, a) == 1 && inet_ntop(AF_INET, a, back, sizeof back) &&
                    strcmp(back, v) == 0;
        uint8_t kb[KZ_E_MAX_KEY + 32];
        size_t kl = kz_e_key_str(kb, 1, v, len);
        bool got = kl == 9 && kb[2] == K_IP4;
        ip4 += want;
        if (got != want || (got && memcmp(kb + 5, a, 4) != 0))
            wrong++;
    }
    KT_CHECK_MSG(wrong == 0, "%zu strings keyed wrong", wrong);
    KT_CHECK_MSG(ip4 > 30000, "only %zu canonical addresses drawn", ip4);
}

/* A string gets the K_IP6 key exactly when inet_pton(AF_INET6) takes it and the engine's
 * formatter gives it back from those 16 bytes: over 300,000 strings of hex digits and colons
 * (8 groups, or 1 to 8 and a "::", a group more or fewer now and then; groups of 0 to 5
 * digits, leading zeros and capitals now and then; ':', '::' or ':::' at either end and between
 * groups) and some other bytes and some other bytes. The
 * parser reads the text's shape from bit masks and each group from one 4-byte load, so
 * every length and every place of a group against the text's ends matter. */
static void test_ip6_keys(void)
{
    static const char alpha[] = "0123456789abcdef:";
    static const char other[] = "g:G/.A \x80\xba\xe1";
    uint64_t rs = 29;
    size_t wrong = 0, ip6 = 0;
    for (int t = 0; t < 300000; t++) {
        char v[64];
        size_t len = 0;
        if (t % 4) { /* groups and separators */
            uint64_t r = kt_xorshift(&rs);
            /* 8 groups, or 1 to 8 with a "::" before group gap (gap == groups: at the end) */
            int groups = r % 3 ? 8 : 1 + (int)(r >> 8 & 7);
            int gap = r % 3 ? -1 : (int)((r >> 16) % (uint64_t)(groups + 1));
            if (r >> 24 & 1) /* a group fewer or more */
                groups += r >> 25 & 1 ? 1 : -1;
            if (r % 17 == 0)
                v[len++] = ':';
            for (int g = 0; g <= groups && len < 50; g++) {
                uint64_t c = kt_xorshift(&rs);
                if (g == gap || c % 40 == 0) {
                    v[len++] = ':';
                    v[len++] = ':';
                    if (c % 400 == 0)
                        v[len++] = ':';
                } else if (g && g < groups) {
                    v[len++] = ':';
                }
                if (g == groups)
                    break;
                uint64_t d = kt_xorshift(&rs);
                int nd = d % 16 == 0 ? (int)((d >> 4) % 6) : 1 + (int)(d >> 4 & 3);
                if (d % 11 == 0) { /* a zero group */
                    v[len++] = '0';
                    continue;
                }
                for (int k = 0; k < nd && len < 50; k++) {
                    uint64_t x = kt_xorshift(&rs);
                    v[len++] = x % 97 == 0        ? 'A' + (char)(x % 6)
                               : k == 0 && x % 13 ? "123456789abcdef"[x % 15]
                                                  : alpha[x % 16];
                }
            }
            if (r % 19 == 0)
                v[len++] = ':';
        } else {
            len = (size_t)(kt_xorshift(&rs) % 44);
            for (size_t i = 0; i < len; i++)
                v[i] = alpha[kt_xorshift(&rs) % (sizeof alpha - 1)];
        }
        if (len && kt_xorshift(&rs) % 16 == 0)
            v[kt_xorshift(&rs) % len] = other[kt_xorshift(&rs) % (sizeof other - 1)];
        v[len] = 0;
        uint8_t a[16], kb[KZ_E_MAX_KEY + 32];
        char back[64];
        bool want = false;
        if (strlen(v) == len && inet_pton(AF_INET6, v, a) == 1) {
            kz_e_key_raw(kb, 1, K_IP6, a, 16);
            want = kz_e_key_text_to(kb, back) == len && memcmp(back, v, len) == 0;
        }
        size_t kl = kz_e_key_str(kb, 1, v, len);
        bool got = kl == 21 && kb[2] == K_IP6;
        ip6 += want;
        if (got != want || (got && memcmp(kb + 5, a, 16) != 0)) {
            if (wrong++ < 5)
                fprintf(stderr, "'%s': K_IP6 %d, want %d\n", v, got, want);
        }
    }
    fprintf(stderr, "ip6 keys: 300000 strings, %zu canonical, %zu wrong\n", ip6, wrong);
    KT_CHECK_MSG(wrong == 0, "%zu strings keyed wrong", wrong);
    KT_CHECK_MSG(ip6 > 30000, "only %zu canonical addresses drawn", ip6);
}

/* A lookup compares a candidate's stored value with the text it was given
 * (kz_e_val_text_eq): true for the value's own text, and false for every other text, here
 * each text changed in one character, one character short or long, or in the other case.
 * Values of every kind and length (addresses with runs of zero groups, digests of 1 to 64
 * bytes in either case, strings); the digests' text is also checked against printf's. */
static void test_text_eq(void)
{
    static const char alpha[] = "0123456789abcdefABCDEF.:xz";
    uint64_t rs = 31;
    size_t bad = 0, checked = 0;
    for (int t = 0; t < 60000; t++) {
        uint64_t r = kt_xorshift(&rs);
        static const int kinds[5] = {K_IP4, K_IP6, K_HEXL, K_HEXU, K_STR};
        int kind = kinds[r % 5];
        uint8_t v[64];
        size_t vl = kind == K_IP4 ? 4 : kind == K_IP6 ? 16 : 1 + (r >> 8) % 64;
        for (size_t i = 0; i < vl; i++) {
            uint64_t x = kt_xorshift(&rs);
            /* small numbers and zero groups are common, so short octets and runs are */
            v[i] = (uint8_t)(x % 3 == 0 ? 0 : x % 3 == 1 ? (x >> 8) % 12 : x >> 8);
            if (kind == K_STR)
                v[i] = (uint8_t)alpha[(x >> 16) % (sizeof alpha - 1)];
        }
        char text[2 * KZ_E_HEX_MAX + 2], other[2 * KZ_E_HEX_MAX + 2];
        size_t n = kz_e_val_text_to(kind, v, vl, text);
        if (kind == K_HEXL || kind == K_HEXU) {
            char want[2 * KZ_E_HEX_MAX + 1];
            for (size_t i = 0; i < vl; i++)
                snprintf(want + 2 * i, 3, kind == K_HEXU ? "%02X" : "%02x", v[i]);
            bad += n != 2 * vl || memcmp(text, want, n) != 0;
        }
        bad += !kz_e_val_text_eq(kind, v, vl, text, n);
        for (size_t i = 0; i < n; i++) { /* one character changed */
            memcpy(other, text, n);
            char c = alpha[kt_xorshift(&rs) % (sizeof alpha - 1)];
            if (c == other[i])
                continue;
            other[i] = c;
            bad += kz_e_val_text_eq(kind, v, vl, other, n);
            checked++;
        }
        memcpy(other, text, n);
        other[n] = alpha[kt_xorshift(&rs) % (sizeof alpha - 1)];
        bad += kz_e_val_text_eq(kind, v, vl, other, n + 1) +
               kz_e_val_text_eq(kind, v, vl, text, n - 1);
        for (size_t i = 0; i < n; i++) /* the other case, where it changes the text */
            other[i] = (char)(text[i] >= 'a' && text[i] <= 'f'   ? text[i] - 32
                              : text[i] >= 'A' && text[i] <= 'F' ? text[i] + 32
                                                                 : text[i]);
        if (memcmp(other, text, n) != 0)
            bad += kz_e_val_text_eq(kind, v, vl, other, n);
    }
    /* a value of a length its kind never has, and kinds that are not values */
    static const uint8_t five[5] = {1, 2, 3, 4, 5};
    bad +=
        kz_e_val_text_eq(K_IP4, five, 5, "1.2.3.4", 7) + kz_e_val_text_eq(K_IP6, five, 4, "::", 2);
    bad += kz_e_val_text_eq(K_INT, five, 5, "1", 1) + kz_e_val_text_eq(K_SUF, five, 1, "\x01", 1);
    KT_CHECK_MSG(bad == 0, "%zu comparisons wrong", bad);
    KT_CHECK(checked > 500000);
}

/* kz_e_popcount (the rank of a network in the CIDR index) against a count bit by bit, and
 * kz_e_copy (a key's bytes) for every length up to 80 at every offset of a buffer: it writes
 * exactly the n bytes. */
static void test_popcount_copy(void)
{
    uint64_t rs = 23;
    size_t bad = 0;
    for (int t = 0; t < 100000; t++) {
        uint64_t r1 = kt_xorshift(&rs), r2 = kt_xorshift(&rs); /* sparser words too */
        uint64_t x = t % 2 ? r1 : r1 & r2;
        unsigned n = 0;
        for (int b = 0; b < 64; b++)
            n += (unsigned)(x >> b & 1);
        bad += kz_e_popcount(x) != n;
    }
    bad += kz_e_popcount(0) != 0 || kz_e_popcount(~0ull) != 64;
    KT_CHECK_MSG(bad == 0, "%zu popcounts wrong", bad);
    uint8_t src[96], dst[96];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7 + 1);
    size_t wrong = 0;
    for (size_t n = 0; n <= 80; n++)
        for (size_t off = 0; off + n <= 16 + 80 && off < 16; off++) {
            memset(dst, 0xee, sizeof dst);
            kz_e_copy(dst + off, src, n);
            for (size_t i = 0; i < sizeof dst; i++)
                wrong += dst[i] != (i >= off && i < off + n ? src[i - off] : 0xee);
        }
    KT_CHECK_MSG(wrong == 0, "%zu bytes copied wrong", wrong);
}

KT_MAIN(KT(test_key_kinds), KT(test_ip6_round_trip), KT(test_ip6_text_is_inet_ntop),
        KT(test_random_seed), KT(test_hex_keys), KT(test_ip4_keys), KT(test_ip6_keys),
        KT(test_text_eq), KT(test_popcount_copy))
