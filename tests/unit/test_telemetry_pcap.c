/*
 * Unit tests for lib/telemetry's packet decoder: hand-built packets for every link type
 * (Ethernet, 802.1Q, QinQ, Linux cooked, raw IP, loopback), IPv4 options and fragments,
 * IPv6 extension headers and fragments, truncated and malformed headers, DNS with name
 * compression and pointer loops, HTTP request heads, TLS ClientHello (SNI, JA3, JA4 against
 * the JA4 specification's worked example) and ServerHello (JA3S), QUIC look-alikes, the
 * flow table (counts,
 * idle expiry, bounded size), pcap files through libpcap, and live-interface failure.
 * Real data from ../shared: every trace decodes with no malformed packet and as many packets
 * as the index lists; the SNI, JA3, DNS names and HTTP hosts the index lists are found
 * (QUIC ones included, which needs the Initial packets decrypted), and so are the names,
 * SNIs and hosts in the paired Zeek logs.
 */
#include "kt.h"

#include <dirent.h>
#include <stddef.h>
#include <strings.h>
#include <gnutls/crypto.h>
#include <kizuna/telemetry.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a sink that keeps copies of the fields the tests look at ------------------------ */

#include "tel_collect.h"

/* ---- packet builders --------------------------------------------------------------- */

typedef struct pk {
    uint8_t b[4096];
    size_t n;
} pk;

static void put(pk *p, const void *d, size_t n)
{
    memcpy(p->b + p->n, d, n);
    p->n += n;
}
static void p8(pk *p, unsigned v)
{
    p->b[p->n++] = (uint8_t)v;
}
static void p16(pk *p, unsigned v)
{
    p8(p, v >> 8);
    p8(p, v & 255);
}
static void p24(pk *p, unsigned v)
{
    p8(p, v >> 16);
    p16(p, v & 0xffff);
}
static void set16(pk *p, size_t at, unsigned v)
{
    p->b[at] = (uint8_t)(v >> 8);
    p->b[at + 1] = (uint8_t)v;
}
static void set24(pk *p, size_t at, unsigned v)
{
    p->b[at] = (uint8_t)(v >> 16);
    set16(p, at + 1, v & 0xffff);
}

static void eth(pk *p, unsigned ethertype)
{
    static const uint8_t mac[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    put(p, mac, 12);
    p16(p, ethertype);
}

/* IPv4 header for a payload of plen bytes; frag = offset in 8-byte units, mf = more. */
static void ip4(pk *p, uint8_t proto, const uint8_t src[4], const uint8_t dst[4], size_t plen,
                unsigned frag, bool mf)
{
    p8(p, 0x45);
    p8(p, 0);
    p16(p, (unsigned)(20 + plen));
    p16(p, 0x1234);
    p16(p, (mf ? 0x2000 : 0) | frag);
    p8(p, 64);
    p8(p, proto);
    p16(p, 0);
    put(p, src, 4);
    put(p, dst, 4);
}

static void ip6(pk *p, uint8_t nh, const uint8_t src[16], const uint8_t dst[16], size_t plen)
{
    p8(p, 0x60);
    p8(p, 0);
    p16(p, 0);
    p16(p, (unsigned)plen);
    p8(p, nh);
    p8(p, 64);
    put(p, src, 16);
    put(p, dst, 16);
}

static void udp(pk *p, unsigned sport, unsigned dport, const pk *payload)
{
    p16(p, sport);
    p16(p, dport);
    p16(p, (unsigned)(8 + payload->n));
    p16(p, 0);
    put(p, payload->b, payload->n);
}

static uint32_t next_seq = 1;

static void tcp(pk *p, unsigned sport, unsigned dport, const void *payload, size_t n)
{
    p16(p, sport);
    p16(p, dport);
    p16(p, next_seq >> 16);
    p16(p, next_seq & 0xffff);
    p16(p, 0);
    p16(p, 0); /* ack */
    p8(p, 5 << 4);
    p8(p, 0x18);
    p16(p, 65535);
    p16(p, 0);
    p16(p, 0);
    put(p, payload, n);
}

static const uint8_t A1[4] = {10, 0, 0, 1}, A2[4] = {192, 0, 2, 53};
static const uint8_t B1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t B2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static void name(pk *p, const char *dotted)
{
    const char *s = dotted;
    while (*s) {
        const char *e = strchr(s, '.');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        p8(p, (unsigned)l);
        put(p, s, l);
        s += l;
        if (*s == '.')
            s++;
    }
    p8(p, 0);
}

/* A response for www.example.com: CNAME to cdn.example.com (compressed against the
 * question), A 192.0.2.7, AAAA 2001:db8::7, MX 10 mail.example.com. */
static void dns_response(pk *m)
{
    p16(m, 0xbeef);
    p16(m, 0x8180);
    p16(m, 1);
    p16(m, 4);
    p16(m, 0);
    p16(m, 0);
    name(m, "www.example.com"); /* at offset 12; "example.com" at 16 */
    p16(m, 1);
    p16(m, 1);
    /* CNAME */
    p16(m, 0xc00c);
    p16(m, 5);
    p16(m, 1);
    p16(m, 0);
    p16(m, 60);
    size_t rdl = m->n;
    p16(m, 0);
    size_t cdn = m->n;
    p8(m, 3);
    put(m, "cdn", 3);
    p16(m, 0xc010);
    set16(m, rdl, (unsigned)(m->n - cdn));
    /* A for cdn.example.com */
    p16(m, 0xc000 | (unsigned)cdn);
    p16(m, 1);
    p16(m, 1);
    p16(m, 0);
    p16(m, 60);
    p16(m, 4);
    put(m, "\xc0\x00\x02\x07", 4);
    /* AAAA */
    p16(m, 0xc000 | (unsigned)cdn);
    p16(m, 28);
    p16(m, 1);
    p16(m, 0);
    p16(m, 60);
    p16(m, 16);
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
    put(m, v6, 16);
    /* MX */
    p16(m, 0xc010);
    p16(m, 15);
    p16(m, 1);
    p16(m, 0);
    p16(m, 60);
    p16(m, 2 + 7);
    p16(m, 10);
    p8(m, 4);
    put(m, "mail", 4);
    p16(m, 0xc010);
}

static void dns_query(pk *m, const char *q, unsigned qtype)
{
    p16(m, 0x1111);
    p16(m, 0x0100);
    p16(m, 1);
    p16(m, 0);
    p16(m, 0);
    p16(m, 0);
    name(m, q);
    p16(m, qtype);
    p16(m, 1);
}

static kz_tel_pcap *newp(coll *c, const kz_tel_pcap_opts *o)
{
    kz_tel_sink s = sink_of(c);
    return kz_tel_pcap_new("test", &s, o);
}

static void test_dns_link_types(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    pk m = {0}, u = {0}, f = {0};
    dns_response(&m);
    udp(&u, 53, 40000, &m);
    /* 1: Ethernet IPv4 */
    eth(&f, 0x0800);
    ip4(&f, 17, A2, A1, u.n, 0, false);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 1700000000000001LL);
    /* 2: 802.1Q, 3: QinQ */
    for (int tags = 1; tags <= 2; tags++) {
        f.n = 0;
        put(&f, "\0\1\2\3\4\5\6\7\10\11\12\13", 12);
        if (tags == 2) {
            p16(&f, 0x88a8);
            p16(&f, 100);
        }
        p16(&f, 0x8100);
        p16(&f, 200);
        p16(&f, 0x0800);
        ip4(&f, 17, A2, A1, u.n, 0, false);
        put(&f, u.b, u.n);
        kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 1700000000000002LL);
    }
    /* 4: Linux cooked */
    f.n = 0;
    p16(&f, 0);
    p16(&f, 1);
    p16(&f, 6);
    put(&f, "\0\1\2\3\4\5\0\0", 8);
    p16(&f, 0x0800);
    ip4(&f, 17, A2, A1, u.n, 0, false);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_LINUX_SLL, f.b, (uint32_t)f.n, (uint32_t)f.n, 3);
    /* 5: raw IPv6 with hop-by-hop and destination options before UDP */
    f.n = 0;
    ip6(&f, 0, B2, B1, 16 + u.n);
    p8(&f, 60);
    p8(&f, 0);
    put(&f, "\1\4\0\0\0\0", 6); /* PadN */
    p8(&f, 17);
    p8(&f, 0);
    put(&f, "\1\4\0\0\0\0", 6);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, 4);
    /* 6: BSD loopback, IPv4 */
    f.n = 0;
    put(&f, "\2\0\0\0", 4);
    ip4(&f, 17, A2, A1, u.n, 0, false);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_NULL, f.b, (uint32_t)f.n, (uint32_t)f.n, 5);
    /* 7: a query over mDNS */
    pk q = {0}, uq = {0};
    dns_query(&q, "printer.local", 12);
    udp(&uq, 5353, 5353, &q);
    f.n = 0;
    eth(&f, 0x0800);
    ip4(&f, 17, A1, A2, uq.n, 0, false);
    put(&f, uq.b, uq.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 6);

    KT_CHECK(c.n == 7 && c.nbad == 0);
    for (size_t i = 0; i < 6 && i < c.n; i++) {
        const trec *t = &c.v[i];
        KT_CHECK_MSG(t->kind == KZ_TEL_DNS && t->resp && !strcmp(t->q, "www.example.com") &&
                         t->qtype == 1 && t->pos == i + 1,
                     "packet %zu", i + 1);
        KT_CHECK_MSG(!strcmp(t->ans, "cdn.example.com|192.0.2.7|2001:db8::7|mail.example.com"),
                     "packet %zu: %s", i + 1, t->ans);
        KT_CHECK(t->sport == 53 && t->dport == 40000 && t->proto == 17);
        KT_CHECK(!strcmp(t->src, i == 4 ? "2001:db8::2" : "192.0.2.53"));
    }
    if (c.n == 7) {
        KT_CHECK(c.v[0].ts == 1700000000000001LL && c.v[0].has_ts);
        KT_CHECK(!c.v[6].resp && !strcmp(c.v[6].q, "printer.local") && c.v[6].qtype == 12);
    }
    kz_tel_pcap_free(p);
    coll_free(&c);
}

static void send_udp_dns(kz_tel_pcap *p, const pk *m, int64_t ts);

/* 20 A records and a TXT: 16 answers kept, 4 counted as dropped, the TXT ignored; three
 * questions, one of them a repeat, give two records. */
static void test_dns_many(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    pk m = {0};
    p16(&m, 7);
    p16(&m, 0x8180);
    p16(&m, 3);
    p16(&m, 21);
    p16(&m, 0);
    p16(&m, 0);
    name(&m, "many.example");
    p16(&m, 1);
    p16(&m, 1);
    name(&m, "second.example");
    p16(&m, 28);
    p16(&m, 1);
    p16(&m, 0xc00c); /* a third question, the same name as the first: reported once */
    p16(&m, 1);
    p16(&m, 1);
    p16(&m, 0xc00c);
    p16(&m, 16);
    p16(&m, 1);
    p16(&m, 0);
    p16(&m, 60);
    p16(&m, 4);
    put(&m, "\3abc", 4);
    for (unsigned i = 0; i < 20; i++) {
        p16(&m, 0xc00c);
        p16(&m, 1);
        p16(&m, 1);
        p16(&m, 0);
        p16(&m, 60);
        p16(&m, 4);
        p8(&m, 198);
        p8(&m, 51);
        p8(&m, 100);
        p8(&m, i);
    }
    send_udp_dns(p, &m, 1);
    KT_CHECK(c.n == 2 && c.nbad == 0);
    if (c.n == 2) {
        KT_CHECK(c.v[0].nans == 16 && c.v[0].dropped == 4 && !strcmp(c.v[0].q, "many.example"));
        KT_CHECK(strncmp(c.v[0].ans, "198.51.100.0|198.51.100.1|", 26) == 0);
        KT_CHECK(!strcmp(c.v[1].q, "second.example") && c.v[1].qtype == 28 && c.v[1].resp &&
                 c.v[1].nans == 0);
    }
    kz_tel_pcap_free(p);
    coll_free(&c);
}

static void send_udp_dns(kz_tel_pcap *p, const pk *m, int64_t ts)
{
    pk u = {0}, f = {0};
    udp(&u, 53, 40000, m);
    eth(&f, 0x0800);
    ip4(&f, 17, A2, A1, u.n, 0, false);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, ts);
}

static void test_dns_malformed(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    /* 1: a name pointer to itself */
    pk m = {0};
    p16(&m, 1);
    p16(&m, 0x8180);
    p16(&m, 1);
    p16(&m, 0);
    p16(&m, 0);
    p16(&m, 0);
    p16(&m, 0xc00c);
    p16(&m, 1);
    p16(&m, 1);
    send_udp_dns(p, &m, 1);
    /* 2: two pointers pointing at each other (the second one forward) */
    m.n = 0;
    dns_query(&m, "a.example", 1);
    m.b[2] |= 0x80;
    m.b[7] = 1; /* one answer */
    size_t at = m.n;
    p16(&m, 0xc000 | (unsigned)(at + 2));
    p16(&m, 0xc000 | (unsigned)at);
    p16(&m, 1);
    send_udp_dns(p, &m, 2);
    /* 3: a label running past the end */
    m.n = 0;
    dns_query(&m, "b.example", 1);
    m.b[12] = 60;
    send_udp_dns(p, &m, 3);
    /* 4: an answer whose rdata runs past the end */
    m.n = 0;
    dns_response(&m);
    m.n -= 5;
    send_udp_dns(p, &m, 4);
    /* 5: shorter than a header */
    m.n = 0;
    p16(&m, 1);
    send_udp_dns(p, &m, 5);
    /* 6: a name longer than 255 bytes */
    m.n = 0;
    p16(&m, 1);
    p16(&m, 0x0100);
    p16(&m, 1);
    p16(&m, 0);
    p16(&m, 0);
    p16(&m, 0);
    for (int i = 0; i < 5; i++) {
        p8(&m, 60);
        for (int k = 0; k < 60; k++)
            p8(&m, 'a');
    }
    p8(&m, 0);
    p16(&m, 1);
    p16(&m, 1);
    send_udp_dns(p, &m, 6);
    KT_CHECK(c.n == 0 && c.nbad == 6);
    KT_CHECK(bad_at(&c, 1, KZ_TEL_R_DNS_NAME_LOOP) && bad_at(&c, 2, KZ_TEL_R_DNS_NAME_LOOP));
    for (uint64_t i = 3; i <= 6; i++)
        KT_CHECK_MSG(bad_at(&c, i, KZ_TEL_R_DNS_MALFORMED), "packet %llu",
                     (unsigned long long)i);
    const kz_tel_stats *st = kz_tel_pcap_stats(p);
    KT_CHECK(st->units == 6 && st->malformed[KZ_TEL_R_DNS_NAME_LOOP] == 2 &&
             st->malformed_total == 6);
    kz_tel_pcap_free(p);
    coll_free(&c);
}

static void test_truncated_and_bad_headers(void)
{
    coll c = {0};
    kz_tel_pcap *p = newp(&c, NULL);
    pk f = {0}, m = {0}, u = {0};
    dns_query(&m, "trunc.example", 1);
    udp(&u, 40000, 53, &m);
    eth(&f, 0x0800);
    ip4(&f, 17, A1, A2, u.n, 0, false);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, 10, (uint32_t)f.n, 1);      /* Ethernet cut */
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, 14 + 12, (uint32_t)f.n, 2); /* IPv4 cut */
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, 14 + 20 + 4, (uint32_t)f.n, 3); /* UDP cut */
    pk g = f;
    g.b[14] = 0x75; /* version 7 */
    kz_tel_pcap_packet(p, DLT_EN10MB, g.b, (uint32_t)g.n, (uint32_t)g.n, 4);
    g = f;
    g.b[14] = 0x43; /* header length 12 */
    kz_tel_pcap_packet(p, DLT_EN10MB, g.b, (uint32_t)g.n, (uint32_t)g.n, 5);
    kz_tel_pcap_packet(p, 147 /* DLT_USER0 */, f.b, (uint32_t)f.n, (uint32_t)f.n, 6);
    pk t = {0}, h = {0};
    tcp(&t, 1, 2, "", 0);
    eth(&h, 0x0800);
    ip4(&h, 6, A1, A2, t.n, 0, false);
    put(&h, t.b, t.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, h.b, (uint32_t)h.n - 8, (uint32_t)h.n, 7); /* TCP cut */
    g = f;
    g.n = 14 + 30;
    kz_tel_pcap_packet(p, DLT_EN10MB, g.b, 14 + 10, 14 + 10, 8); /* IPv6 short via raw */
    pk v6 = {0};
    ip6(&v6, 17, B1, B2, 0);
    kz_tel_pcap_packet(p, DLT_RAW, v6.b, 30, 30, 9);
    /* ARP: not IP, skipped without complaint */
    pk arp = {0};
    eth(&arp, 0x0806);
    put(&arp, "\0\1\10\0\6\4\0\1", 8);
    kz_tel_pcap_packet(p, DLT_EN10MB, arp.b, (uint32_t)arp.n, (uint32_t)arp.n, 10);
    kz_tel_pcap_flush(p);
    const kz_tel_stats *st = kz_tel_pcap_stats(p);
    KT_CHECK(bad_at(&c, 1, KZ_TEL_R_PKT_TRUNCATED) && bad_at(&c, 2, KZ_TEL_R_PKT_TRUNCATED));
    KT_CHECK(bad_at(&c, 3, KZ_TEL_R_PKT_TRUNCATED) && bad_at(&c, 4, KZ_TEL_R_PKT_BAD_IP));
    KT_CHECK(bad_at(&c, 5, KZ_TEL_R_PKT_BAD_IP) && bad_at(&c, 6, KZ_TEL_R_PKT_UNSUPPORTED_LINK));
    KT_CHECK(bad_at(&c, 7, KZ_TEL_R_PKT_TRUNCATED) && bad_at(&c, 8, KZ_TEL_R_PKT_TRUNCATED));
    KT_CHECK(bad_at(&c, 9, KZ_TEL_R_PKT_TRUNCATED));
    KT_CHECK(st->units == 10 && st->malformed_total == 9 && st->non_ip == 1);
    for (size_t i = 0; i < c.n; i++)
        KT_CHECK(c.v[i].kind == KZ_TEL_CONN); /* nothing but flows came out */
    kz_tel_pcap_free(p);
    coll_free(&c);
}

static void test_fragments(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    pk m = {0}, u = {0}, f = {0};
    dns_response(&m);
    udp(&u, 53, 40000, &m);
    /* first fragment: 24 bytes of the UDP datagram, MF set */
    eth(&f, 0x0800);
    ip4(&f, 17, A2, A1, 24, 0, true);
    put(&f, u.b, 24);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 1);
    /* the rest */
    f.n = 0;
    eth(&f, 0x0800);
    ip4(&f, 17, A2, A1, u.n - 24, 3, false);
    put(&f, u.b + 24, u.n - 24);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 2);
    /* IPv6: fragment header, later fragment */
    f.n = 0;
    ip6(&f, 44, B1, B2, 8 + 16);
    p8(&f, 17);
    p8(&f, 0);
    p16(&f, (100 << 3) | 0);
    put(&f, "\0\0\0\1", 4);
    put(&f, "0123456789abcdef", 16);
    kz_tel_pcap_packet(p, DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, 3);
    const kz_tel_stats *st = kz_tel_pcap_stats(p);
    KT_CHECK(c.n == 0 && c.nbad == 0);
    KT_CHECK(st->ip_fragments == 3 && st->malformed_total == 0);
    kz_tel_pcap_free(p);
    coll_free(&c);
}

static void tcp_packet(kz_tel_pcap *p, const uint8_t src[4], unsigned sport,
                       const uint8_t dst[4], unsigned dport, const void *pl, size_t n,
                       int64_t ts)
{
    pk t = {0}, f = {0};
    tcp(&t, sport, dport, pl, n);
    eth(&f, 0x0800);
    ip4(&f, 6, src, dst, t.n, 0, false);
    put(&f, t.b, t.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, ts);
}

static void test_http(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    const char *req = "POST /upload/a%20b.php?x=1 HTTP/1.1\r\nhost: evil.example:8080\r\n"
                      "User-Agent:  Mozilla/5.0 (X11)  \r\nReferer: http://r.example/\r\n"
                      "Content-Length: 3\r\n\r\nabc";
    tcp_packet(p, A1, 40000, A2, 8080, req, strlen(req), 1);
    const char *cut = "GET /only-the-line";
    tcp_packet(p, A1, 40001, A2, 80, cut, strlen(cut), 2);
    const char *notreq = "GETX / HTTP/1.1\r\n\r\n";
    tcp_packet(p, A1, 40002, A2, 80, notreq, strlen(notreq), 3);
    const char *resp = "HTTP/1.1 200 OK\r\n\r\n";
    tcp_packet(p, A2, 80, A1, 40002, resp, strlen(resp), 4);
    KT_CHECK(c.n == 2 && c.nbad == 0);
    if (c.n == 2) {
        const trec *t = &c.v[0];
        KT_CHECK(t->kind == KZ_TEL_HTTP && !strcmp(t->method, "POST") &&
                 !strcmp(t->uri, "/upload/a%20b.php?x=1") && !strcmp(t->host, "evil.example:8080") &&
                 !strcmp(t->ua, "Mozilla/5.0 (X11)") && !strcmp(t->ref, "http://r.example/"));
        KT_CHECK(t->dport == 8080 && t->proto == 6 && t->pos == 1);
        KT_CHECK(!strcmp(c.v[1].uri, "/only-the-line") && c.v[1].host[0] == 0);
    }
    kz_tel_pcap_free(p);
    coll_free(&c);
}

/* The JA4 specification's worked example (technical_details/JA4.md): 15 ciphers, 16
 * extensions, ALPN h2, signature algorithms in a given order, plus GREASE everywhere. */
static const unsigned spec_ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
                                        0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
                                        0x009d, 0x002f, 0x0035};
static const unsigned spec_exts[] = {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
                                     0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b,
                                     0xff01, 0x000b, 0x000a, 0x0015};
static const unsigned spec_sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
                                        0x0805, 0x0501, 0x0806, 0x0601};

static void ext_body(pk *e, unsigned type, const char *sni)
{
    size_t at;
    switch (type) {
    case 0x0000:
        p16(e, (unsigned)(3 + strlen(sni)));
        p8(e, 0);
        p16(e, (unsigned)strlen(sni));
        put(e, sni, strlen(sni));
        break;
    case 0x000a:
        p16(e, 8);
        p16(e, 0x3a3a); /* GREASE */
        p16(e, 29);
        p16(e, 23);
        p16(e, 24);
        break;
    case 0x000b:
        p8(e, 1);
        p8(e, 0);
        break;
    case 0x000d:
        p16(e, 2 * 8);
        for (int i = 0; i < 8; i++)
            p16(e, spec_sigalgs[i]);
        break;
    case 0x0010:
        at = e->n;
        p16(e, 0);
        p8(e, 2);
        put(e, "h2", 2);
        p8(e, 8);
        put(e, "http/1.1", 8);
        set16(e, at, (unsigned)(e->n - at - 2));
        break;
    case 0x002b:
        p8(e, 6);
        p16(e, 0x7a7a);
        p16(e, 0x0304);
        p16(e, 0x0303);
        break;
    default:
        break;
    }
}

/* TLS record + ClientHello, as the first bytes of a TCP payload. */
static void client_hello(pk *h, const char *sni)
{
    p8(h, 0x16);
    p16(h, 0x0301);
    size_t rl = h->n;
    p16(h, 0);
    p8(h, 1);
    size_t hl = h->n;
    p24(h, 0);
    p16(h, 0x0303);
    for (int i = 0; i < 32; i++)
        p8(h, (unsigned)i);
    p8(h, 0);
    p16(h, 2 * 16);
    p16(h, 0x0a0a); /* GREASE */
    for (int i = 0; i < 15; i++)
        p16(h, spec_ciphers[i]);
    p8(h, 1);
    p8(h, 0);
    size_t el = h->n;
    p16(h, 0);
    p16(h, 0xdada); /* GREASE extension, empty */
    p16(h, 0);
    for (int i = 0; i < 16; i++) {
        p16(h, spec_exts[i]);
        size_t lat = h->n;
        p16(h, 0);
        ext_body(h, spec_exts[i], sni);
        set16(h, lat, (unsigned)(h->n - lat - 2));
    }
    set16(h, el, (unsigned)(h->n - el - 2));
    set24(h, hl, (unsigned)(h->n - hl - 3));
    set16(h, rl, (unsigned)(h->n - rl - 2));
}

static void server_hello(pk *h)
{
    p8(h, 0x16);
    p16(h, 0x0303);
    size_t rl = h->n;
    p16(h, 0);
    p8(h, 2);
    size_t hl = h->n;
    p24(h, 0);
    p16(h, 0x0303);
    for (int i = 0; i < 32; i++)
        p8(h, (unsigned)i);
    p8(h, 0);
    p16(h, 0x1301);
    p8(h, 0);
    p16(h, 14);
    p16(h, 0x002b);
    p16(h, 2);
    p16(h, 0x0304);
    p16(h, 0x0033);
    p16(h, 4);
    p16(h, 29);
    p16(h, 0);
    set24(h, hl, (unsigned)(h->n - hl - 3));
    set16(h, rl, (unsigned)(h->n - rl - 2));
}

static void md5_hex(const char *s, char out[33])
{
    unsigned char d[16];
    gnutls_hash_fast(GNUTLS_DIG_MD5, s, strlen(s), d);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_tls_hello(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    pk h = {0};
    client_hello(&h, "ja4.example");
    tcp_packet(p, A1, 50000, A2, 443, h.b, h.n, 1);
    pk s = {0};
    server_hello(&s);
    tcp_packet(p, A2, 443, A1, 50000, s.b, s.n, 2);
    /* the same hello cut after the SNI extension: SNI yes, fingerprints no */
    size_t cut = 5 + 4 + 2 + 32 + 1 + 2 + 32 + 2 + 2 + 4 + 4 + 4 + 5 + strlen("ja4.example") + 6;
    tcp_packet(p, A1, 50001, A2, 443, h.b, cut, 3);
    /* a hello whose session id length is impossible */
    pk bad = h;
    bad.b[5 + 4 + 2 + 32] = 200;
    tcp_packet(p, A1, 50002, A2, 443, bad.b, bad.n, 4);
    /* the cut hello waits for the rest of its connection, which never comes */
    KT_CHECK_MSG(c.n == 2, "%zu records, %zu malformed", c.n, c.nbad);
    kz_tel_pcap_flush(p);
    KT_CHECK(c.n == 3);
    const char *ja3s =
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
        "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0";
    char want[33];
    md5_hex(ja3s, want);
    if (c.n >= 1) {
        const trec *t = &c.v[0];
        KT_CHECK(t->kind == KZ_TEL_TLS && !strcmp(t->sni, "ja4.example"));
        KT_CHECK_STR(t->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
        KT_CHECK_STR(t->ja3, want);
        KT_CHECK_STR(t->ver, "13");
    }
    if (c.n >= 2) {
        md5_hex("771,4865,43-51", want);
        KT_CHECK_STR(c.v[1].ja3s, want);
        KT_CHECK(c.v[1].ja3[0] == 0 && !strcmp(c.v[1].ver, "13"));
    }
    if (c.n >= 3)
        KT_CHECK(!strcmp(c.v[2].sni, "ja4.example") && c.v[2].ja3[0] == 0 && c.v[2].ja4[0] == 0);
    const kz_tel_stats *st = kz_tel_pcap_stats(p);
    KT_CHECK(st->tls_partial == 1 && bad_at(&c, 4, KZ_TEL_R_TLS_MALFORMED) && c.nbad == 1);

    /* through the public helper: without extensions JA4's c part is zeros; QUIC prefix */
    kz_tel_record r;
    memset(&r, 0, sizeof r);
    char scratch[8192];
    bool partial;
    pk m = {0};
    p8(&m, 1);
    p24(&m, 2 + 32 + 1 + 4 + 2);
    p16(&m, 0x0301);
    for (int i = 0; i < 32; i++)
        p8(&m, 0);
    p8(&m, 0);
    p16(&m, 2);
    p16(&m, 0x002f);
    p8(&m, 1);
    p8(&m, 0);
    KT_CHECK(kz_tel_tls_hello(m.b, m.n, true, &r, scratch, sizeof scratch, &partial) == 1);
    KT_CHECK(!partial);
    char j4[64];
    snprintf(j4, sizeof j4, "%.*s", (int)r.ja4.n, r.ja4.p);
    KT_CHECK(strncmp(j4, "q10i010000_", 11) == 0 && strcmp(j4 + 23, "_000000000000") == 0);
    KT_CHECK(kz_tel_str_eq(r.ja3_string, "769,47,,,"));
    KT_CHECK(kz_tel_tls_hello(m.b, 3, false, &r, scratch, sizeof scratch, &partial) < 0);
    m.b[0] = 11; /* Certificate: not a hello */
    KT_CHECK(kz_tel_tls_hello(m.b, m.n, false, &r, scratch, sizeof scratch, &partial) == 0);
    kz_tel_pcap_free(p);
    coll_free(&c);
}

/* UDP datagrams that look like QUIC long headers but are not: nothing comes out, nothing
 * is reported (they could be any protocol). */
static void test_quic_lookalikes(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    pk m = {0};
    p8(&m, 0xc3);
    put(&m, "\0\0\0\1", 4); /* version 1 */
    p8(&m, 8);
    put(&m, "\1\2\3\4\5\6\7\10", 8);
    p8(&m, 0);
    p8(&m, 0);                /* no token */
    p16(&m, 0x4000 | 1150);   /* length */
    while (m.n < 1200)
        p8(&m, (unsigned)(m.n * 7));
    pk u = {0}, f = {0};
    udp(&u, 50000, 443, &m);
    eth(&f, 0x0800);
    ip4(&f, 17, A1, A2, u.n, 0, false);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 1);
    m.b[8] = 200; /* a connection id longer than QUIC allows */
    u.n = 0;
    udp(&u, 50000, 443, &m);
    f.n = 0;
    eth(&f, 0x0800);
    ip4(&f, 17, A1, A2, u.n, 0, false);
    put(&f, u.b, u.n);
    kz_tel_pcap_packet(p, DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, 2);
    kz_tel_pcap_flush(p);
    KT_CHECK(c.n == 0 && c.nbad == 0);
    kz_tel_pcap_free(p);
    coll_free(&c);
}

/* A hello split over TCP segments (as large post-quantum hellos are) is joined by
 * sequence number; a retransmission is ignored; a gap ends it with what is known. */
static void test_tls_hello_segments(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.no_flows = true};
    kz_tel_pcap *p = newp(&c, &o);
    pk h = {0};
    client_hello(&h, "split.example");
    size_t cut = 150; /* after the SNI extension */
    next_seq = 1000;
    tcp_packet(p, A1, 51000, A2, 443, h.b, cut, 1);
    KT_CHECK(c.n == 0);
    tcp_packet(p, A1, 51000, A2, 443, h.b, cut, 2); /* retransmission */
    next_seq = 1000 + (uint32_t)cut;
    tcp_packet(p, A2, 443, A1, 51000, "x", 1, 3); /* the other direction: not it */
    tcp_packet(p, A1, 51000, A2, 443, h.b + cut, h.n - cut, 4);
    KT_CHECK(c.n == 1);
    if (c.n == 1) {
        KT_CHECK_STR(c.v[0].sni, "split.example");
        KT_CHECK_STR(c.v[0].ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
        KT_CHECK(c.v[0].pos == 1 && c.v[0].ja3[0] != 0);
    }
    /* the second connection loses its middle segment */
    next_seq = 5000;
    tcp_packet(p, A1, 51001, A2, 443, h.b, cut, 5);
    next_seq = 5000 + (uint32_t)cut + 50;
    tcp_packet(p, A1, 51001, A2, 443, h.b + cut + 50, h.n - cut - 50, 6);
    KT_CHECK(c.n == 2);
    if (c.n == 2)
        KT_CHECK_MSG(!strcmp(c.v[1].sni, "split.example") && c.v[1].ja3[0] == 0 &&
                         c.v[1].pos == 5,
                     "sni %s ja3 %s pos %llu", c.v[1].sni, c.v[1].ja3,
                     (unsigned long long)c.v[1].pos);
    KT_CHECK(kz_tel_pcap_stats(p)->tls_partial == 1 && c.nbad == 0);
    next_seq = 1;
    kz_tel_pcap_free(p);
    coll_free(&c);
}

static size_t count_kind(const coll *c, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->v[i].kind == kind;
    return n;
}

static void test_flows(void)
{
    coll c = {0};
    kz_tel_pcap_opts o = {.flow_table_size = 16, .flow_idle_s = 60};
    kz_tel_pcap *p = newp(&c, &o);
    /* one connection: 3 packets out, 2 back */
    for (int i = 0; i < 5; i++) {
        bool out = i % 2 == 0;
        tcp_packet(p, out ? A1 : A2, out ? 40000 : 443, out ? A2 : A1, out ? 443 : 40000, "xx",
                   2, 1000000 + i * 1000);
    }
    KT_CHECK(count_kind(&c, KZ_TEL_CONN) == 0);
    /* two minutes later another flow: the first has gone idle and comes out */
    tcp_packet(p, A1, 40001, A2, 443, "", 0, 121000000);
    KT_CHECK(count_kind(&c, KZ_TEL_CONN) == 1);
    if (c.n == 1) {
        const trec *t = &c.v[0];
        KT_CHECK(!strcmp(t->src, "10.0.0.1") && t->sport == 40000 && t->dport == 443);
        KT_CHECK(t->pts == 3 && t->ptc == 2 && t->pos == 1 && t->ts == 1000000 &&
                 t->dur == 4000 && t->has_flow);
        KT_CHECK(t->bts == 3 * (14 + 20 + 20 + 2) && t->btc == 2 * (14 + 20 + 20 + 2));
    }
    /* 20 more flows in a 16-entry table: the oldest are emitted early, none is lost */
    for (unsigned i = 0; i < 20; i++)
        tcp_packet(p, A1, 41000 + i, A2, 80, "", 0, 121000001 + i);
    const kz_tel_stats *st = kz_tel_pcap_stats(p);
    size_t before = count_kind(&c, KZ_TEL_CONN);
    KT_CHECK(before == 1 + 5);
    kz_tel_pcap_flush(p);
    KT_CHECK(count_kind(&c, KZ_TEL_CONN) == 1 + 1 + 20);
    KT_CHECK(st->flows_evicted == 5);
    kz_tel_pcap_free(p);
    coll_free(&c);
}

/* pcap files through libpcap: a written file decodes like the packets did; a file cut in
 * the middle of a record is reported and what came before is kept. */
static void test_pcap_file_and_live(void)
{
    char path[] = "/tmp/kz-tel-pcap-XXXXXX";
    int fd = mkstemp(path);
    KT_CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *dm = pcap_dump_open(dead, path);
    KT_CHECK(dm != NULL);
    pk m = {0}, u = {0}, f = {0};
    dns_response(&m);
    udp(&u, 53, 40000, &m);
    eth(&f, 0x0800);
    ip4(&f, 17, A2, A1, u.n, 0, false);
    put(&f, u.b, u.n);
    for (int i = 0; i < 3 && dm; i++) {
        struct pcap_pkthdr hd = {.ts = {1700000000 + i, 250000}, .caplen = (bpf_u_int32)f.n,
                                 .len = (bpf_u_int32)f.n};
        pcap_dump((u_char *)dm, &hd, f.b);
    }
    if (dm)
        pcap_dump_close(dm);
    pcap_close(dead);
    coll c = {0};
    kz_tel_pcap *p = newp(&c, NULL);
    char err[256] = "";
    KT_CHECK(kz_tel_pcap_file(p, path, err, sizeof err) == 0);
    KT_CHECK(count_kind(&c, KZ_TEL_DNS) == 3 && count_kind(&c, KZ_TEL_CONN) == 1 && c.nbad == 0);
    KT_CHECK(c.n > 1 && c.v[1].ts == 1700000001250000LL && c.v[1].pos == 2);
    kz_tel_pcap_free(p);
    coll_free(&c);
    /* cut the last record in half */
    struct stat sb;
    stat(path, &sb);
    KT_CHECK(truncate(path, sb.st_size - 20) == 0);
    p = newp(&c, NULL);
    KT_CHECK(kz_tel_pcap_file(p, path, err, sizeof err) == 0);
    KT_CHECK(count_kind(&c, KZ_TEL_DNS) == 2 && c.nbad == 1 && bad_at(&c, 3, KZ_TEL_R_IO));
    kz_tel_pcap_free(p);
    coll_free(&c);
    unlink(path);
    p = newp(&c, NULL);
    err[0] = 0;
    KT_CHECK(kz_tel_pcap_file(p, "/nonexistent/kz.pcap", err, sizeof err) < 0 && err[0]);
    err[0] = 0;
    volatile bool stop = false;
    KT_CHECK(kz_tel_pcap_live(p, "kz-no-such-if0", &stop, 1, err, sizeof err) < 0 && err[0]);
    kz_tel_pcap_free(p);
    coll_free(&c);
}

/* ---- real traces ---------------------------------------------------------------------- */

static bool has(const coll *c, size_t off, const char *v, bool nocase)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *f = (const char *)&c->v[i] + off;
        if (nocase ? strcasecmp(f, v) == 0 : strcmp(f, v) == 0)
            return true;
    }
    return false;
}

static int decode_trace(const char *path, coll *c, kz_tel_stats *st)
{
    kz_tel_sink s = sink_of(c);
    kz_tel_pcap *p = kz_tel_pcap_new(path, &s, NULL);
    char err[256] = "";
    int rc = kz_tel_pcap_file(p, path, err, sizeof err);
    KT_CHECK_MSG(rc == 0, "%s: %s", path, err);
    *st = *kz_tel_pcap_stats(p);
    kz_tel_pcap_free(p);
    return rc;
}

/* Check each `value` after "Label: " in an index line against the decoded records. */
static void check_list(const char *file, const char *line, const char *label, const coll *c,
                       size_t off, bool nocase)
{
    const char *s = strstr(line, label);
    if (!s)
        return;
    s += strlen(label);
    const char *end = strchr(s, ';');
    if (!end)
        end = s + strlen(s);
    while (s < end) {
        const char *a = strchr(s, '`');
        if (!a || a >= end)
            break;
        const char *b = strchr(a + 1, '`');
        if (!b)
            break;
        char v[256];
        snprintf(v, sizeof v, "%.*s", (int)(b - a - 1), a + 1);
        KT_CHECK_MSG(has(c, off, v, nocase), "%s: %s %s not decoded", file, label, v);
        s = b + 1;
    }
}

/* Every .pcap/.pcapng under dir, index or not: decodes with no malformed packet. */
static int walk_traces(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(p, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            n += walk_traces(p);
            continue;
        }
        size_t l = strlen(de->d_name);
        if (!(l > 5 && strcmp(de->d_name + l - 5, ".pcap") == 0) &&
            !(l > 7 && strcmp(de->d_name + l - 7, ".pcapng") == 0))
            continue;
        coll c = {0};
        kz_tel_stats st;
        decode_trace(p, &c, &st);
        KT_CHECK_MSG(st.malformed_total == 0 && st.units > 0, "%s: %llu malformed of %llu", p,
                     (unsigned long long)st.malformed_total, (unsigned long long)st.units);
        KT_CHECK_MSG(st.records == c.n && c.n > 0, "%s: %zu records", p, c.n);
        coll_free(&c);
        n++;
    }
    closedir(d);
    return n;
}

static void test_shared_traces(void)
{
    char dir[512], idx[600];
    snprintf(dir, sizeof dir, "%s/data/pcap", kt_shared_dir);
    snprintf(idx, sizeof idx, "%s/index.md", dir);
    FILE *f = fopen(idx, "r");
    if (!f)
        KT_SKIP("%s absent: shared pcap traces not available", idx);
    char line[4096], cur[256] = "";
    int traces = 0, lists = 0;
    coll c = {0};
    while (fgets(line, sizeof line, f)) {
        char name[256];
        unsigned packets;
        if (sscanf(line, "| `%255[^`]` | %*[^|] | %u |", name, &packets) == 2) {
            char p[800];
            snprintf(p, sizeof p, "%s/%s", dir, name);
            coll t = {0};
            kz_tel_stats st;
            decode_trace(p, &t, &st);
            KT_CHECK_MSG(st.units == packets, "%s: %llu packets, index says %u", name,
                         (unsigned long long)st.units, packets);
            KT_CHECK_MSG(st.malformed_total == 0, "%s: %llu malformed", name,
                         (unsigned long long)st.malformed_total);
            coll_free(&t);
            traces++;
            continue;
        }
        if (sscanf(line, "- **`%255[^`]`**", name) == 1) {
            snprintf(cur, sizeof cur, "%s", name);
            coll_free(&c);
            char p[800];
            snprintf(p, sizeof p, "%s/%s", dir, cur);
            kz_tel_stats st;
            decode_trace(p, &c, &st);
            continue;
        }
        /* the observables line under a description (for QUIC the hello is inside the
         * client's encrypted Initial packets, so this checks their decryption too) */
        if (cur[0] && strstr(line, "IPs: ")) {
            check_list(cur, line, "SNI: ", &c, offsetof(trec, sni), false);
            check_list(cur, line, "JA3: ", &c, offsetof(trec, ja3), false);
            check_list(cur, line, "HTTP hosts: ", &c, offsetof(trec, host), false);
            check_list(cur, line, "DNS queries: ", &c, offsetof(trec, q), true);
            lists++;
        }
    }
    fclose(f);
    coll_free(&c);
    int all = walk_traces(dir);
    KT_CHECK_MSG(traces == all && all >= 70, "%d traces in the index tables, %d on disk",
                 traces, all);
    KT_CHECK(lists >= 60);
}

/* Zeek's own logs for the same traces: their DNS names, SNIs and HTTP hosts are found. */
static void test_shared_zeek_pairs(void)
{
    char zdir[512], idx[600];
    snprintf(zdir, sizeof zdir, "%s/data/zeek-logs", kt_shared_dir);
    snprintf(idx, sizeof idx, "%s/index.md", zdir);
    FILE *f = fopen(idx, "r");
    if (!f)
        KT_SKIP("%s absent: shared Zeek logs not available", idx);
    char line[1024];
    int pairs = 0;
    while (fgets(line, sizeof line, f)) {
        char log[256], trace[256];
        if (sscanf(line, "| `%255[^`]` | %*u | %*[^|] | `%255[^`]` ✔", log, trace) != 2)
            continue;
        size_t field;
        bool nocase = false;
        if (strstr(log, "__dns.log")) {
            field = offsetof(trec, q);
            nocase = true;
        } else if (strstr(log, "__ssl.log")) {
            field = offsetof(trec, sni);
        } else if (strstr(log, "__http.log")) {
            field = offsetof(trec, host);
        } else {
            continue;
        }
        char lp[800], tp[800];
        snprintf(lp, sizeof lp, "%s/%s", zdir, log);
        snprintf(tp, sizeof tp, "%s/data/pcap/%s", kt_shared_dir, trace);
        coll zl = {0}, pc = {0};
        kz_tel_sink s = sink_of(&zl);
        kz_tel_zeek *z = kz_tel_zeek_new(lp, &s);
        char err[256];
        KT_CHECK(kz_tel_zeek_file(z, lp, err, sizeof err) == 0);
        kz_tel_zeek_free(z);
        kz_tel_stats st;
        decode_trace(tp, &pc, &st);
        for (size_t i = 0; i < zl.n; i++) {
            const char *v = (const char *)&zl.v[i] + field;
            if (!v[0] || zl.v[i].dport == 137)
                continue; /* NetBIOS names (Zeek reads NBNS as DNS): not decoded here */
            /* Zeek logs the DNS name it saw; an http.log host from a request after the
             * first one in a segment is beyond the decoder (no reassembly) */
            KT_CHECK_MSG(has(&pc, field, v, nocase), "%s: %s not in %s", log, v, trace);
        }
        coll_free(&zl);
        coll_free(&pc);
        pairs++;
    }
    fclose(f);
    KT_CHECK(pairs >= 20);
}

KT_MAIN(KT(test_dns_link_types), KT(test_dns_many), KT(test_dns_malformed), KT(test_truncated_and_bad_headers),
        KT(test_fragments), KT(test_http), KT(test_tls_hello), KT(test_tls_hello_segments),
        KT(test_quic_lookalikes),
        KT(test_flows),
        KT(test_pcap_file_and_live), KT(test_shared_traces), KT(test_shared_zeek_pairs))
