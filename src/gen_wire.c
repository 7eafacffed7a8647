/*
 * kizuna gen telemetry: frames on the wire — the classic libpcap file format, Ethernet,
 * IPv4/IPv6, UDP/TCP with correct checksums, DNS messages and TLS hellos (with the JA3/JA4
 * fingerprints computed from the bytes actually written, so a decoder can cross-check).
 *
 * A session may carry an 802.1Q tag (fl->vlan), as trunk captures do.
 * Invariant: every frame is complete (incl_len == orig_len, no truncation) and fits in
 * 2048 bytes; callers keep payloads under 1400 bytes. Byte order of the pcap headers is
 * little-endian with magic a1b2c3d4 (microsecond timestamps). No pcapng, no fragments.
 */
#include "gen_tel.h"

#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int gen_pcap_begin(gen_pcap *p, FILE *f)
{
    uint8_t h[24];
    le32(h, 0xa1b2c3d4u);
    h[4] = 2, h[5] = 0, h[6] = 4, h[7] = 0; /* version 2.4, little-endian 16-bit fields */
    le32(h + 8, 0);                         /* thiszone */
    le32(h + 12, 0);                        /* sigfigs */
    le32(h + 16, 262144);                   /* snaplen */
    le32(h + 20, 1);                        /* LINKTYPE_ETHERNET */
    p->f = f;
    p->packets = 0;
    return fwrite(h, 1, sizeof h, f) == sizeof h ? 0 : -1;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)(p[n - 1] << 8);
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

uint64_t gen_pcap_packet(gen_pcap *p, const gen_flow *fl, int64_t us, bool to_server,
                         uint8_t tcp_flags, uint32_t seq, uint32_t ack, const uint8_t *payload,
                         size_t len, uint64_t *ip_bytes)
{
    uint8_t fr[2048];
    const uint8_t *src = to_server ? fl->cli : fl->srv, *dst = to_server ? fl->srv : fl->cli;
    uint16_t sp = to_server ? fl->cport : fl->sport, dp = to_server ? fl->sport : fl->cport;
    size_t l4h = fl->proto == 6 ? 20 : 8, iph = fl->v6 ? 40 : 20;
    size_t eth = fl->vlan ? 18 : 14;
    if (len > sizeof fr - eth - iph - l4h)
        len = sizeof fr - eth - iph - l4h;
    size_t l4len = l4h + len;
    memcpy(fr, to_server ? fl->smac : fl->cmac, 6);
    memcpy(fr + 6, to_server ? fl->cmac : fl->smac, 6);
    if (fl->vlan) {
        put16(fr + 12, 0x8100);
        put16(fr + 14, (uint16_t)(fl->vlan & 0x0fff));
    }
    put16(fr + eth - 2, fl->v6 ? 0x86dd : 0x0800);
    uint8_t *ip = fr + eth, *l4 = ip + iph;
    memset(ip, 0, iph + l4h);
    uint32_t ps; /* pseudo-header sum */
    if (fl->v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)l4len);
        ip[6] = fl->proto;
        ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        ps = sum16(ip + 8, 32, 0) + (uint32_t)l4len + fl->proto;
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(20 + l4len));
        put16(ip + 4, (uint16_t)(p->packets * 7 + 1)); /* identification: varies, deterministic */
        put16(ip + 6, 0x4000);                         /* don't fragment */
        ip[8] = to_server ? 64 : 56;
        ip[9] = fl->proto;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
        ps = sum16(ip + 12, 8, 0) + (uint32_t)l4len + fl->proto;
    }
    put16(l4, sp);
    put16(l4 + 2, dp);
    if (fl->proto == 6) {
        put32(l4 + 4, seq);
        put32(l4 + 8, (tcp_flags & TCP_ACK) ? ack : 0);
        l4[12] = 5 << 4;
        l4[13] = tcp_flags;
        put16(l4 + 14, to_server ? 64240 : 65160);
    } else {
        put16(l4 + 4, (uint16_t)l4len);
    }
    if (len)
        memcpy(l4 + l4h, payload, len);
    uint16_t ck = fold(sum16(l4, l4len, ps));
    if (fl->proto == 17 && ck == 0)
        ck = 0xffff; /* RFC 768: a computed zero is sent as all ones */
    put16(l4 + (fl->proto == 6 ? 16 : 6), ck);
    size_t flen = eth + iph + l4len;
    uint8_t rh[16];
    le32(rh, (uint32_t)(us / 1000000));
    le32(rh + 4, (uint32_t)(us % 1000000));
    le32(rh + 8, (uint32_t)flen);
    le32(rh + 12, (uint32_t)flen);
    fwrite(rh, 1, sizeof rh, p->f);
    fwrite(fr, 1, flen, p->f);
    if (ip_bytes)
        *ip_bytes += iph + l4len;
    return ++p->packets;
}

/* ---- DNS ---------------------------------------------------------------------------- */

static size_t put_name(uint8_t *out, size_t cap, const char *name)
{
    size_t n = 0, total = strlen(name);
    if (total == 0 || total > 253)
        return 0;
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        if (l == 0 || l > 63 || n + l + 2 > cap)
            return 0;
        out[n++] = (uint8_t)l;
        memcpy(out + n, s, l);
        n += l;
        s += l;
        if (*s == '.')
            s++;
    }
    out[n++] = 0;
    return n;
}

size_t gen_dns_message(uint8_t *out, size_t cap, uint16_t id, const char *qname, bool aaaa,
                       const uint8_t *answer, uint32_t ttl)
{
    if (cap < 12 + 260 + 4 + 28)
        return 0;
    memset(out, 0, 12);
    put16(out, id);
    put16(out + 2, answer ? 0x8180 : 0x0100); /* RD; response adds QR and RA */
    put16(out + 4, 1);
    put16(out + 6, answer ? 1 : 0);
    size_t n = 12, q = put_name(out + 12, cap - 12 - 32, qname);
    if (!q)
        return 0;
    n += q;
    put16(out + n, aaaa ? 28 : 1);
    put16(out + n + 2, 1);
    n += 4;
    if (answer) {
        put16(out + n, 0xc00c); /* pointer to the question's name */
        put16(out + n + 2, aaaa ? 28 : 1);
        put16(out + n + 4, 1);
        put32(out + n + 6, ttl);
        put16(out + n + 10, aaaa ? 16 : 4);
        memcpy(out + n + 12, answer, aaaa ? 16 : 4);
        n += 12 + (aaaa ? 16 : 4);
    }
    return n;
}

/* ---- TLS ---------------------------------------------------------------------------- */

void gen_digest_hex(int alg, const void *data, size_t len, char *out)
{
    uint8_t d[64];
    size_t n = gnutls_hash_get_len((gnutls_digest_algorithm_t)alg);
    if (n == 0 || n > sizeof d ||
        gnutls_hash_fast((gnutls_digest_algorithm_t)alg, data, len, d) < 0) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

typedef struct tls_profile {
    const uint16_t *ciphers;
    size_t nciphers;
    const uint16_t *exts;
    size_t nexts;
} tls_profile;

static const uint16_t ciph_ff[] = {0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9,
                                   0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013,
                                   0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
static const uint16_t ext_ff[] = {0, 23, 65281, 10, 11, 35, 16, 5, 51, 43, 13, 45};
static const uint16_t ciph_ch[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                   0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
static const uint16_t ext_ch[] = {0, 23, 65281, 10, 11, 35, 16, 5, 13, 18, 51, 45, 43, 27};
static const uint16_t ciph_cu[] = {0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f,
                                   0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e};
static const uint16_t ext_cu[] = {0, 11, 10, 35, 16, 22, 23, 13, 43, 45, 51};
static const tls_profile profiles[GEN_TLS_PROFILES] = {
    {ciph_ff, sizeof ciph_ff / 2, ext_ff, sizeof ext_ff / 2},
    {ciph_ch, sizeof ciph_ch / 2, ext_ch, sizeof ext_ch / 2},
    {ciph_cu, sizeof ciph_cu / 2, ext_cu, sizeof ext_cu / 2},
};
static const uint16_t groups[] = {29, 23, 24};
static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Append one extension's body; returns its length. */
static size_t ext_body(uint8_t *o, uint16_t type, const char *sni, gen_rng *r)
{
    size_t n = 0;
    switch (type) {
    case 0: {
        size_t l = strlen(sni);
        put16(o, (uint16_t)(l + 3));
        o[2] = 0;
        put16(o + 3, (uint16_t)l);
        memcpy(o + 5, sni, l);
        n = 5 + l;
        break;
    }
    case 10:
        put16(o, sizeof groups);
        for (size_t i = 0; i < 3; i++)
            put16(o + 2 + 2 * i, groups[i]);
        n = 2 + sizeof groups;
        break;
    case 11:
        o[0] = 1, o[1] = 0;
        n = 2;
        break;
    case 13:
        put16(o, sizeof sigalgs);
        for (size_t i = 0; i < 8; i++)
            put16(o + 2 + 2 * i, sigalgs[i]);
        n = 2 + sizeof sigalgs;
        break;
    case 16:
        put16(o, 12);
        o[2] = 2, memcpy(o + 3, "h2", 2);
        o[5] = 8, memcpy(o + 6, "http/1.1", 8);
        n = 14;
        break;
    case 5:
        o[0] = 1, put16(o + 1, 0), put16(o + 3, 0);
        n = 5;
        break;
    case 27:
        o[0] = 2, put16(o + 1, 2); /* compress_certificate: brotli */
        n = 3;
        break;
    case 43:
        o[0] = 4, put16(o + 1, 0x0304), put16(o + 3, 0x0303);
        n = 5;
        break;
    case 45:
        o[0] = 1, o[1] = 1;
        n = 2;
        break;
    case 51:
        put16(o, 36);
        put16(o + 2, 29);
        put16(o + 4, 32);
        gen_rng_bytes(r, o + 6, 32);
        n = 38;
        break;
    case 65281:
        o[0] = 0;
        n = 1;
        break;
    default: /* 18 (SCT), 22 (encrypt_then_mac), 23 (ems), 35 (empty ticket): empty bodies */
        break;
    }
    return n;
}

static void list_text(char *out, size_t cap, const uint16_t *v, size_t n, bool hex, const char *sep)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = hex ? snprintf(out + k, cap - k, "%s%04x", i ? sep : "", v[i])
                    : snprintf(out + k, cap - k, "%s%u", i ? sep : "", v[i]);
        if (w < 0 || (size_t)w >= cap - k)
            break;
        k += (size_t)w;
    }
}

size_t gen_tls_client_hello(uint8_t *out, size_t cap, gen_rng *r, int profile, const char *sni,
                            gen_tls_fp *fp)
{
    const tls_profile *pr = &profiles[profile % GEN_TLS_PROFILES];
    if (cap < 1024 || strlen(sni) > 253)
        return 0;
    uint8_t *h = out + 5; /* after the record header */
    size_t n = 4;         /* after the handshake header */
    put16(h + n, 0x0303), n += 2;
    gen_rng_bytes(r, h + n, 32), n += 32;
    h[n++] = 32;
    gen_rng_bytes(r, h + n, 32), n += 32;
    put16(h + n, (uint16_t)(2 * pr->nciphers)), n += 2;
    for (size_t i = 0; i < pr->nciphers; i++)
        put16(h + n, pr->ciphers[i]), n += 2;
    h[n++] = 1, h[n++] = 0;
    size_t extlen_at = n;
    n += 2;
    for (size_t i = 0; i < pr->nexts; i++) {
        put16(h + n, pr->exts[i]);
        size_t b = ext_body(h + n + 4, pr->exts[i], sni, r);
        put16(h + n + 2, (uint16_t)b);
        n += 4 + b;
    }
    put16(h + extlen_at, (uint16_t)(n - extlen_at - 2));
    h[0] = 1;
    h[1] = 0, put16(h + 2, (uint16_t)(n - 4));
    out[0] = 0x16, put16(out + 1, 0x0301), put16(out + 3, (uint16_t)n);

    char c[160], e[160], g[32];
    list_text(c, sizeof c, pr->ciphers, pr->nciphers, false, "-");
    list_text(e, sizeof e, pr->exts, pr->nexts, false, "-");
    list_text(g, sizeof g, groups, 3, false, "-");
    snprintf(fp->ja3, sizeof fp->ja3, "771,%s,%s,%s,0", c, e, g);
    gen_digest_hex(GNUTLS_DIG_MD5, fp->ja3, strlen(fp->ja3), fp->ja3_hash);

    /* JA4 (FoxIO): sorted cipher list, sorted extensions without SNI and ALPN, then the
     * signature algorithms in the order sent; each part hashed with SHA-256, 12 hex digits. */
    uint16_t sc[32], se[32] = {0};
    size_t nse = 0;
    memcpy(sc, pr->ciphers, 2 * pr->nciphers);
    qsort(sc, pr->nciphers, 2, cmp_u16);
    for (size_t i = 0; i < pr->nexts; i++)
        if (pr->exts[i] != 0 && pr->exts[i] != 16)
            se[nse++] = pr->exts[i];
    qsort(se, nse, 2, cmp_u16);
    char ct[256], et[400], sa[64], ch[65], eh[65];
    list_text(ct, sizeof ct, sc, pr->nciphers, true, ",");
    list_text(et, sizeof et, se, nse, true, ",");
    list_text(sa, sizeof sa, sigalgs, 8, true, ",");
    bool has_sig = false;
    for (size_t i = 0; i < pr->nexts; i++)
        has_sig |= pr->exts[i] == 13;
    if (has_sig)
        snprintf(et + strlen(et), sizeof et - strlen(et), "_%s", sa);
    gen_digest_hex(GNUTLS_DIG_SHA256, ct, strlen(ct), ch);
    gen_digest_hex(GNUTLS_DIG_SHA256, et, strlen(et), eh);
    snprintf(fp->ja4, sizeof fp->ja4, "t13d%02zu%02zuh2_%.12s_%.12s", pr->nciphers, pr->nexts, ch,
             eh);
    return 5 + n;
}

size_t gen_tls_server_hello(uint8_t *out, size_t cap, gen_rng *r, bool tls13, gen_tls_fp *fp)
{
    if (cap < 256)
        return 0;
    uint8_t *h = out + 5;
    size_t n = 4;
    uint16_t cipher = tls13 ? 0x1301 : 0xc02f;
    put16(h + n, 0x0303), n += 2;
    gen_rng_bytes(r, h + n, 32), n += 32;
    h[n++] = 32;
    gen_rng_bytes(r, h + n, 32), n += 32;
    put16(h + n, cipher), n += 2;
    h[n++] = 0;
    size_t extlen_at = n;
    n += 2;
    if (tls13) {
        put16(h + n, 51), put16(h + n + 2, 36), put16(h + n + 4, 29), put16(h + n + 6, 32);
        gen_rng_bytes(r, h + n + 8, 32);
        n += 40;
        put16(h + n, 43), put16(h + n + 2, 2), put16(h + n + 4, 0x0304);
        n += 6;
        snprintf(fp->ja3s, sizeof fp->ja3s, "771,%u,51-43", cipher);
    } else {
        put16(h + n, 65281), put16(h + n + 2, 1), h[n + 4] = 0;
        n += 5;
        put16(h + n, 11), put16(h + n + 2, 2), h[n + 4] = 1, h[n + 5] = 0;
        n += 6;
        put16(h + n, 23), put16(h + n + 2, 0);
        n += 4;
        snprintf(fp->ja3s, sizeof fp->ja3s, "771,%u,65281-11-23", cipher);
    }
    put16(h + extlen_at, (uint16_t)(n - extlen_at - 2));
    h[0] = 2;
    h[1] = 0, put16(h + 2, (uint16_t)(n - 4));
    out[0] = 0x16, put16(out + 1, 0x0303), put16(out + 3, (uint16_t)n);
    gen_digest_hex(GNUTLS_DIG_MD5, fp->ja3s, strlen(fp->ja3s), fp->ja3s_hash);
    return 5 + n;
}
