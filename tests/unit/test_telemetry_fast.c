/*
 * The fast paths of the telemetry decoders give what the plain ones gave: hand-written
 * address formatting against inet_ntop, the JSON scanner's incremental path hashing
 * against the dotted path text (keys with dots, empty keys), the partial record reset
 * (arrays beyond their counts stay empty), and the ClientHello fingerprint cache against
 * an uncached decode and an independent MD5, and the one-pass IPv4 and epoch parsers against
 * the plain loops they replaced.
 */
#include "kt.h"

#include <kizuna/telemetry.h>
#include <telemetry/tel_internal.h>

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <pcap/pcap.h>

/* ---- addresses ------------------------------------------------------------------------- */

static void check_addr(int family, const uint8_t *b)
{
    kz_tel_addr a = {0};
    a.family = (uint8_t)family;
    memcpy(a.b, b, family == 4 ? 4 : 16);
    char want[64], got[64], fmt[64];
    KT_CHECK(inet_ntop(family == 4 ? AF_INET : AF_INET6, b, want, sizeof want) != NULL);
    size_t n = kz_tel_addr_text(&a, got);
    KT_CHECK_MSG(n == strlen(want) && strcmp(got, want) == 0, "%s != inet_ntop %s", got, want);
    KT_CHECK_MSG(strcmp(kz_tel_addr_format(&a, fmt, sizeof fmt), want) == 0, "%s", fmt);
    char ip[64];
    KT_CHECK(kz_tel_ip_text(family, b, ip) == n && strcmp(ip, want) == 0);
    /* the parse keeps the text only when it is this canonical one (the sensor maps it as is) */
    kz_tel_addr p;
    KT_CHECK(kz_tel_addr_parse(want, n, &p) == 0 && p.family == family &&
             memcmp(p.b, b, family == 4 ? 4 : 16) == 0);
    KT_CHECK_MSG(family == 4 ? p.text.p == want && p.text.n == n : p.text.n == 0, "%s", want);
    if (family == 4 && b[3] < 100) { /* the last number with a leading zero: same address */
        char z[64];
        const char *dot = strrchr(want, '.');
        int k = snprintf(z, sizeof z, "%.*s.0%u", (int)(dot - want), want, b[3]);
        KT_CHECK(kz_tel_addr_parse(z, (size_t)k, &p) == 0 && memcmp(p.b, b, 4) == 0);
        KT_CHECK_MSG(p.text.n == 0 && p.text.p == NULL, "%s kept as canonical", z);
    }
}

static void test_addr_text_equals_inet_ntop(void)
{
    static const char *const v6[] = {
        "::", "::1", "1::", "::ffff:1.2.3.4", "::1.2.3.4", "::ffff:0:1.2.3.4", "1:0:0:1:0:0:0:1",
        "1:0:0:0:1:0:0:1", "0:0:1:0:0:0:0:0", "1:2:3:4:5:6:7:8", "1:0:2:0:3:0:4:0",
        "2001:db8::ff00:42:8329", "fe80::1", "::ffff:0.0.0.0", "::0.0.0.1", "0:0:0:0:0:1:0:0",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1:0:0:0:0:0:0:0", "0:0:0:0:0:0:0:2"};
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
        uint8_t b[16];
        KT_CHECK(inet_pton(AF_INET6, v6[i], b) == 1);
        check_addr(6, b);
    }
    static const uint8_t v4[][4] = {{0, 0, 0, 0}, {255, 255, 255, 255}, {10, 0, 100, 9},
                                    {192, 0, 2, 1}, {1, 20, 199, 250}};
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++)
        check_addr(4, v4[i]);
    /* random addresses, with zero words and small words common (that is where the
     * compression and the IPv4 forms lie) */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        uint8_t b[16];
        for (int w = 0; w < 8; w++) {
            kt_xorshift(&x);
            unsigned kind = (unsigned)(x & 7), v = (unsigned)(x >> 16);
            if (kind < 4)
                v = 0;
            else if (kind == 4)
                v = v & 0xf;
            else if (kind == 5)
                v = 0xffff;
            b[(size_t)2 * w] = (uint8_t)(v >> 8);
            b[(size_t)2 * w + 1] = (uint8_t)v;
        }
        check_addr(6, b);
        check_addr(4, b + 3);
    }
    /* too small a buffer: nothing, as inet_ntop */
    kz_tel_addr a = {4, {192, 168, 100, 200}, {NULL, 0}};
    char small[8] = "x";
    KT_CHECK(kz_tel_addr_format(&a, small, sizeof small)[0] == 0);
}

/* ---- address and time parsers ---------------------------------------------------------- */

/* The parsers as they were (a digit loop per number): the one-pass ones must agree with them
 * on every text, valid or not. */
static int ref_ip4(const char *s, size_t n, uint8_t out[4], bool *canon)
{
    size_t i = 0;
    bool lead0 = false;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
        size_t st = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - st < 4)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == st || i - st > 3 || v > 255)
            return -1;
        lead0 |= i - st > 1 && s[st] == '0';
        out[part] = (uint8_t)v;
    }
    *canon = !lead0;
    return i == n ? 0 : -1;
}

static int ref_epoch(const char *s, size_t n, int64_t *us)
{
    if (n == 0 || (n == 1 && s[0] == '-') || s[0] == 'X')
        return 0;
    size_t i = s[0] == '-', st = i;
    int64_t sec = 0, frac = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (sec > 100000000000LL)
            return -1;
        sec = sec * 10 + (s[i] - '0');
    }
    if (i == st)
        return -1;
    int digits = 0;
    if (i < n && s[i] == '.') {
        size_t fs = ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (digits < 6) {
                frac = frac * 10 + (s[i] - '0');
                digits++;
            }
        if (i == fs)
            return -1;
    }
    for (; digits < 6; digits++)
        frac *= 10;
    if (i != n)
        return -1;
    *us = s[0] == '-' ? -(sec * 1000000 + frac) : sec * 1000000 + frac;
    return 1;
}

static void test_parsers_against_reference(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    static const char ipchars[] = "0123456789012345..a:";
    static const char tchars[] = "01234567890123456789.-eX ";
    size_t bad = 0, valid4 = 0, canon4 = 0, valid_t = 0;
    for (int iter = 0; iter < 400000; iter++) {
        char b[32];
        size_t n;
        uint64_t r = kt_xorshift(&x);
        if (iter & 1) { /* near an address: one formatted, then maybe one byte changed */
            n = (size_t)snprintf(b, sizeof b, r & 1 ? "%u.%u.%u.%u" : "%u.%02u.%u.%03u",
                                 (unsigned)(r >> 8) % 300, (unsigned)(r >> 17) % 256,
                                 (unsigned)(r >> 26) % 256, (unsigned)(r >> 35) % 260);
            if (r >> 45 & 1)
                b[(r >> 46) % n] = ipchars[(r >> 52) % (sizeof ipchars - 1)];
        } else {
            n = 1 + r % 16;
            for (size_t i = 0; i < n; i++)
                b[i] = ipchars[kt_xorshift(&x) % (sizeof ipchars - 1)];
        }
        b[n] = 0;
        uint8_t want[4];
        bool wcanon = false;
        int w = n >= 7 && n <= 15 ? ref_ip4(b, n, want, &wcanon) : -1;
        kz_tel_addr a;
        int g = kz_tel_addr_parse(b, n, &a);
        if (w == 0) {
            valid4++;
            canon4 += wcanon;
            struct in_addr ia;
            KT_CHECK_MSG(wcanon == (inet_pton(AF_INET, b, &ia) == 1), "%s", b);
        }
        if (w == 0 ? !(g == 0 && a.family == 4 && memcmp(a.b, want, 4) == 0 &&
                       (wcanon ? a.text.p == b && a.text.n == n : a.text.n == 0))
                   : g == 0 && a.family == 4) {
            if (bad++ < 5)
                fprintf(stderr, "address '%s': reference %d, parsed %d\n", b, w, g);
        }
        /* times: Zeek's epoch form, the same with one byte changed, or noise */
        r = kt_xorshift(&x);
        if (r & 1) {
            n = (size_t)snprintf(b, sizeof b, "%s%llu.%0*llu", r >> 1 & 1 ? "-" : "",
                                 (unsigned long long)(r >> 8) % 2000000000000ull,
                                 (int)(1 + (r >> 50) % 9),
                                 (unsigned long long)(r >> 20) % 1000000000ull);
            if (r >> 60 & 1)
                b[(r >> 61) % n] = tchars[(r >> 40) % (sizeof tchars - 1)];
        } else {
            n = r % 20;
            for (size_t i = 0; i < n; i++)
                b[i] = tchars[kt_xorshift(&x) % (sizeof tchars - 1)];
        }
        b[n] = 0;
        int64_t wu = 0, gu = 0;
        w = ref_epoch(b, n, &wu);
        g = kz_tel_parse_epoch(b, n, &gu);
        valid_t += w == 1;
        if (w != g || (w == 1 && wu != gu)) {
            if (bad++ < 5)
                fprintf(stderr, "time '%s': reference %d %lld, parsed %d %lld\n", b, w,
                        (long long)wu, g, (long long)gu);
        }
    }
    KT_CHECK_MSG(bad == 0, "%zu texts parsed differently", bad);
    /* the inputs reach every case */
    KT_CHECK_MSG(valid4 > 50000 && canon4 > 20000 && valid4 - canon4 > 20000 && valid_t > 50000,
                 "%zu addresses (%zu canonical), %zu times", valid4, canon4, valid_t);
}

/* ---- records --------------------------------------------------------------------------- */

#define MAXR 16
typedef struct got {
    int n;
    char q[MAXR][64], log[MAXR][16]; /* copied: the line is gone after the callback */
    bool has_q[MAXR];
    bool has_src[MAXR];
    unsigned nans[MAXR], nto[MAXR];
    bool arrays_clean[MAXR]; /* entries past the counts are all empty */
    char ja3[MAXR][40], ja3str[MAXR][1100], ja4[MAXR][40];
} got;

static void on_rec(void *ctx, const kz_tel_record *r)
{
    got *g = ctx;
    if (g->n >= MAXR)
        return;
    int i = g->n++;
    g->has_q[i] = r->dns_query.p != NULL;
    snprintf(g->q[i], sizeof g->q[i], "%.*s", (int)r->dns_query.n,
             r->dns_query.p ? r->dns_query.p : "");
    snprintf(g->log[i], sizeof g->log[i], "%.*s", (int)r->log.n, r->log.p ? r->log.p : "");
    g->has_src[i] = r->src.family != 0;
    g->nans[i] = r->n_dns_answers;
    g->nto[i] = r->n_mail_to;
    bool clean = true;
    for (unsigned k = r->n_dns_answers; k < KZ_TEL_MAX_ANSWERS; k++)
        clean = clean && !r->dns_answers[k].p && !r->dns_answers[k].n;
    for (unsigned k = r->n_mail_to; k < KZ_TEL_MAX_RCPT; k++)
        clean = clean && !r->mail_to[k].p && !r->mail_to[k].n;
    g->arrays_clean[i] = clean;
    snprintf(g->ja3[i], sizeof g->ja3[i], "%.*s", (int)r->ja3.n, r->ja3.p ? r->ja3.p : "");
    snprintf(g->ja3str[i], sizeof g->ja3str[i], "%.*s", (int)r->ja3_string.n,
             r->ja3_string.p ? r->ja3_string.p : "");
    snprintf(g->ja4[i], sizeof g->ja4[i], "%.*s", (int)r->ja4.n, r->ja4.p ? r->ja4.p : "");
}

static void eve(kz_tel_eve *e, const char *text)
{
    char buf[512];
    size_t n = strlen(text);
    memcpy(buf, text, n + 1);
    kz_tel_eve_line(e, buf, n);
}

static void test_json_keys_with_dots_and_empty_keys(void)
{
    got g = {0};
    kz_tel_sink sink = {on_rec, NULL, &g};
    kz_tel_eve *e = kz_tel_eve_new("t", &sink);
    eve(e, "{\"event_type\":\"dns\",\"dns\":{\"rrname\":\"nested.test\"}}");
    eve(e, "{\"event_type\":\"dns\",\"dns.rrname\":\"flat.test\"}");
    eve(e, "{\"event_type\":\"dns\",\"dns\":{\"queries.rrname\":\"half.test\"}}");
    /* the empty path leads to no mapped path, so this object is skipped: no event_type */
    eve(e, "{\"\":{\"event_type\":\"http\"},\"src_ip\":\"192.0.2.1\"}");
    /* but it does below a key: "dns..rrname" names nothing */
    eve(e, "{\"event_type\":\"dns\",\"dns\":{\"\":{\"rrname\":\"no.test\"}}}");
    /* escapes in keys are decoded before they are looked up */
    eve(e, "{\"event_type\":\"dns\",\"dns\":{\"rr\\u006eame\":\"esc.test\"}}");
    KT_CHECK(g.n == 5);
    KT_CHECK_STR(g.q[0], "nested.test");
    KT_CHECK_STR(g.q[1], "flat.test");
    KT_CHECK_STR(g.q[2], "half.test");
    KT_CHECK(strcmp(g.log[3], "dns") == 0 && !g.has_q[3]);
    KT_CHECK_STR(g.q[4], "esc.test");
    KT_CHECK(kz_tel_eve_stats(e)->malformed[KZ_TEL_R_EVE_NO_EVENT_TYPE] == 1);
    kz_tel_eve_free(e);
}

static void test_reset_leaves_arrays_clean(void)
{
    got g = {0};
    kz_tel_sink sink = {on_rec, NULL, &g};
    kz_tel_eve *e = kz_tel_eve_new("t", &sink);
    eve(e, "{\"event_type\":\"dns\",\"dns\":{\"type\":\"answer\",\"rrname\":\"a.test\","
           "\"answers\":[{\"rdata\":\"192.0.2.1\"},{\"rdata\":\"192.0.2.2\"},"
           "{\"rdata\":\"b.test\"}]}}");
    eve(e, "{\"event_type\":\"email\",\"email\":{\"from\":\"a@x.test\","
           "\"to\":[\"b@x.test\",\"c@x.test\"]}}");
    eve(e, "{\"event_type\":\"flow\",\"src_ip\":\"192.0.2.9\"}");
    KT_CHECK(g.n == 3 && g.nans[0] == 3 && g.nto[1] == 2 && g.nans[2] == 0 && g.nto[2] == 0);
    for (int i = 0; i < g.n; i++)
        KT_CHECK_MSG(g.arrays_clean[i], "record %d", i);
    kz_tel_eve_free(e);
    /* Zeek drops "to" outside mail logs: the entries go with the count */
    got z = {0};
    kz_tel_sink zs = {on_rec, NULL, &z};
    kz_tel_zeek *d = kz_tel_zeek_new("conn.log", &zs);
    const char *lines[] = {"#separator \\x09", "#set_separator\t,", "#path\tconn",
                           "#fields\tts\tto\tquery", "#types\ttime\tset[string]\tstring",
                           "1.5\ta@x.test,b@x.test\tq.test", "2.5\t-\t-"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char buf[256];
        size_t n = strlen(lines[i]);
        memcpy(buf, lines[i], n + 1);
        kz_tel_zeek_line(d, buf, n);
    }
    KT_CHECK(z.n == 2 && z.nto[0] == 0 && z.nto[1] == 0);
    KT_CHECK_STR(z.q[0], "q.test");
    for (int i = 0; i < z.n; i++)
        KT_CHECK_MSG(z.arrays_clean[i], "zeek record %d", i);
    kz_tel_zeek_free(d);
}

/* ---- ClientHello fingerprints through the cache ---------------------------------------- */

typedef struct bytes {
    uint8_t b[2048];
    size_t n;
} bytes;

static void put8(bytes *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}
static void put16(bytes *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v & 255);
}
static void set16(bytes *b, size_t at, size_t v)
{
    b->b[at] = (uint8_t)(v >> 8);
    b->b[at + 1] = (uint8_t)v;
}

/* A ClientHello handshake message (type byte first) with SNI, groups, point formats,
 * signature algorithms, ALPN and supported_versions; variant changes the cipher list. */
static void client_hello(bytes *h, int variant)
{
    h->n = 0;
    put8(h, 1);
    put8(h, 0);
    size_t len_at = h->n;
    put16(h, 0);
    put16(h, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(h, (unsigned)(i * 7 + variant));
    put8(h, 0);
    static const unsigned ciphers[] = {0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x009c};
    put16(h, (unsigned)(2 * (sizeof ciphers / sizeof ciphers[0] - (size_t)variant)));
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0] - (size_t)variant; i++)
        put16(h, ciphers[i]);
    put8(h, 1);
    put8(h, 0);
    size_t ext_at = h->n;
    put16(h, 0);
    /* SNI */
    const char *sni = "cache.kizuna.test";
    size_t sl = strlen(sni);
    put16(h, 0x0000);
    put16(h, (unsigned)(sl + 5));
    put16(h, (unsigned)(sl + 3));
    put8(h, 0);
    put16(h, (unsigned)sl);
    memcpy(h->b + h->n, sni, sl);
    h->n += sl;
    /* supported_groups, with GREASE */
    put16(h, 0x000a);
    put16(h, 8);
    put16(h, 6);
    put16(h, 0x2a2a);
    put16(h, 0x001d);
    put16(h, 0x0017);
    /* ec_point_formats */
    put16(h, 0x000b);
    put16(h, 2);
    put8(h, 1);
    put8(h, 0);
    /* signature_algorithms */
    put16(h, 0x000d);
    put16(h, 8);
    put16(h, 6);
    put16(h, 0x0403);
    put16(h, 0x0804);
    put16(h, 0x0401);
    /* ALPN h2 */
    put16(h, 0x0010);
    put16(h, 5);
    put16(h, 3);
    put8(h, 2);
    put8(h, 'h');
    put8(h, '2');
    /* supported_versions */
    put16(h, 0x002b);
    put16(h, 5);
    put8(h, 4);
    put16(h, 0x0304);
    put16(h, 0x0303);
    set16(h, ext_at, h->n - ext_at - 2);
    set16(h, len_at, h->n - 4);
}

/* Ethernet + IPv4 + TCP + one TLS record holding the handshake message. */
static void frame(bytes *f, const bytes *hs, unsigned sport)
{
    f->n = 0;
    for (int i = 0; i < 12; i++)
        put8(f, (unsigned)i + 1);
    put16(f, 0x0800);
    size_t ip = f->n;
    put8(f, 0x45);
    put8(f, 0);
    put16(f, 0);
    put16(f, 1);
    put16(f, 0x4000);
    put8(f, 64);
    put8(f, 6);
    put16(f, 0);
    put8(f, 192), put8(f, 0), put8(f, 2), put8(f, 10);
    put8(f, 198), put8(f, 51), put8(f, 100), put8(f, 20);
    put16(f, sport);
    put16(f, 443);
    put16(f, 0), put16(f, 1);
    put16(f, 0), put16(f, 0);
    put8(f, 0x50);
    put8(f, 0x18);
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
    put8(f, 0x16);
    put16(f, 0x0301);
    put16(f, (unsigned)hs->n);
    memcpy(f->b + f->n, hs->b, hs->n);
    f->n += hs->n;
    set16(f, ip + 2, f->n - ip);
}

static void md5_hex(const char *s, char out[33])
{
    unsigned char d[16];
    gnutls_hash_fast(GNUTLS_DIG_MD5, s, strlen(s), d);
    for (int i = 0; i < 16; i++)
        snprintf(out + (size_t)2 * i, 3, "%02x", d[i]);
}

static void test_hello_cache_same_fingerprints(void)
{
    got g = {0};
    kz_tel_sink sink = {on_rec, NULL, &g};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = kz_tel_pcap_new("t", &sink, &o);
    bytes hs[2], f;
    client_hello(&hs[0], 0);
    client_hello(&hs[1], 1); /* one cipher fewer: other fingerprints */
    /* A B A B A: the repeats come from the cache */
    int order[] = {0, 1, 0, 1, 0};
    for (int i = 0; i < 5; i++) {
        frame(&f, &hs[order[i]], 40000 + (unsigned)i);
        kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 1000000 + i);
    }
    KT_CHECK(g.n == 5);
    for (int v = 0; v < 2; v++) {
        /* the uncached decode of the same message */
        kz_tel_record r;
        memset(&r, 0, sizeof r);
        char scratch[8192];
        bool partial;
        KT_CHECK(kz_tel_tls_hello(hs[v].b, hs[v].n, false, &r, scratch, sizeof scratch,
                                  &partial) == 1);
        char j3[40], js[1100], j4[40], m[33];
        snprintf(j3, sizeof j3, "%.*s", (int)r.ja3.n, r.ja3.p);
        snprintf(js, sizeof js, "%.*s", (int)r.ja3_string.n, r.ja3_string.p);
        snprintf(j4, sizeof j4, "%.*s", (int)r.ja4.n, r.ja4.p);
        md5_hex(js, m);
        KT_CHECK_STR(j3, m);
        KT_CHECK(strlen(j4) == 36);
        for (int i = 0; i < g.n; i++) {
            if (order[i] != v)
                continue;
            KT_CHECK_STR(g.ja3[i], j3);
            KT_CHECK_STR(g.ja3str[i], js);
            KT_CHECK_STR(g.ja4[i], j4);
        }
    }
    KT_CHECK(strcmp(g.ja3[0], g.ja3[1]) != 0 && strcmp(g.ja4[0], g.ja4[1]) != 0);
    KT_CHECK_STR(g.ja3str[0], "771,4865-4866-4867-49195-49199-156,0-10-11-13-16-43,29-23,0");
    kz_tel_pcap_free(p);
}

KT_MAIN(KT(test_addr_text_equals_inet_ntop), KT(test_parsers_against_reference),
        KT(test_json_keys_with_dots_and_empty_keys),
        KT(test_reset_leaves_arrays_clean), KT(test_hello_cache_same_fingerprints))
