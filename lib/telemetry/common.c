/*
 * Telemetry common pieces: reason names, reporting of malformed units, parsers for the
 * numbers, times, addresses and names the log formats carry, and the one field setter that
 * Zeek and EVE share so that a column means the same thing in every format.
 *
 * Invariant: parsers read exactly n bytes and never need NUL termination, so they can run on
 * slices of the decoder's line buffer. Nothing here allocates.
 */
#include "tel_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const reason_names[KZ_TEL_R_COUNT] = {
    [KZ_TEL_R_LINE_TOO_LONG] = "line_too_long",
    [KZ_TEL_R_ZEEK_NO_HEADER] = "zeek_no_header",
    [KZ_TEL_R_ZEEK_BAD_HEADER] = "zeek_bad_header",
    [KZ_TEL_R_ZEEK_FIELD_COUNT] = "zeek_field_count",
    [KZ_TEL_R_BAD_TIME] = "bad_time",
    [KZ_TEL_R_BAD_ADDR] = "bad_addr",
    [KZ_TEL_R_BAD_PORT] = "bad_port",
    [KZ_TEL_R_BAD_NUMBER] = "bad_number",
    [KZ_TEL_R_JSON_SYNTAX] = "json_syntax",
    [KZ_TEL_R_JSON_TOO_DEEP] = "json_too_deep",
    [KZ_TEL_R_EVE_NO_EVENT_TYPE] = "eve_no_event_type",
    [KZ_TEL_R_PKT_TRUNCATED] = "pkt_truncated",
    [KZ_TEL_R_PKT_BAD_IP] = "pkt_bad_ip",
    [KZ_TEL_R_PKT_UNSUPPORTED_LINK] = "pkt_unsupported_link",
    [KZ_TEL_R_DNS_MALFORMED] = "dns_malformed",
    [KZ_TEL_R_DNS_NAME_LOOP] = "dns_name_loop",
    [KZ_TEL_R_TLS_MALFORMED] = "tls_malformed",
    [KZ_TEL_R_IO] = "io",
};

const char *kz_tel_reason_name(kz_tel_reason r)
{
    return (unsigned)r < KZ_TEL_R_COUNT ? reason_names[r] : "unknown";
}

void kz_tel_report(const kz_tel_sink *sink, kz_tel_stats *st, const char *input, uint64_t pos,
                   kz_tel_reason r, const char *fmt, ...)
{
    st->malformed[r]++;
    st->malformed_total++;
    if (!sink || !sink->malformed)
        return;
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is just above
    va_end(ap);
    kz_tel_malformed m = {input, pos, r, detail};
    sink->malformed(sink->ctx, &m);
}

/* The answer and recipient arrays are half of the record and are nearly always empty: they
 * hold entries only below their counts (a decoder that lowers a count clears the entries
 * first), so only those are cleared, and the rest of the record in three stretches. */
/* Zero n bytes through the C library's memset. With n known at compile time gcc writes a
 * memset of a few hundred bytes inline as `rep stos`, which starts slowly on the machines
 * measured (it made the reset three times slower); hiding n keeps the library call. */
static void zero(char *p, size_t n)
{
#if defined(__GNUC__)
    __asm__("" : "+r"(n));
#endif
    memset(p, 0, n);
}

void kz_tel_record_reset(kz_tel_record *r)
{
    size_t na = r->n_dns_answers < KZ_TEL_MAX_ANSWERS ? r->n_dns_answers : KZ_TEL_MAX_ANSWERS;
    size_t nm = r->n_mail_to < KZ_TEL_MAX_RCPT ? r->n_mail_to : KZ_TEL_MAX_RCPT;
    char *b = (char *)r;
    size_t a0 = offsetof(kz_tel_record, dns_answers), a1 = a0 + sizeof r->dns_answers;
    size_t m0 = offsetof(kz_tel_record, mail_to), m1 = m0 + sizeof r->mail_to;
    zero((char *)r->dns_answers, na * sizeof r->dns_answers[0]);
    zero((char *)r->mail_to, nm * sizeof r->mail_to[0]);
    zero(b, a0);
    zero(b + a1, m0 - a1);
    zero(b + m1, sizeof *r - m1);
}

bool kz_tel_str_eq(kz_tel_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.n == n && memcmp(s.p, lit, n) == 0;
}

int kz_tel_parse_u64(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 20)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return -1;
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* Seconds with an optional fraction ("12.5", "1300475167.096535") to microseconds. */
/* An optional ".digits" at s[*i]: the fraction in microseconds (digits past the sixth are
 * read and dropped); -1 for a '.' without digits. */
static int parse_fraction(const char *s, size_t n, size_t *i, int64_t *frac)
{
    /* on locals: a store through *i or *frac may alias the text, which the loop would then
     * read again after every digit */
    static const int64_t scale[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    size_t k = *i;
    int64_t f = 0;
    int digits = 0;
    if (k < n && s[k] == '.') {
        size_t fs = ++k;
        for (; k < n; k++) {
            unsigned d = (unsigned)(unsigned char)s[k] - '0';
            if (d > 9)
                break;
            if (digits < 6) { /* microseconds: further digits are dropped */
                f = f * 10 + d;
                digits++;
            }
        }
        if (k == fs)
            return -1;
    }
    *frac = f * scale[digits];
    *i = k;
    return 0;
}

static int parse_seconds(const char *s, size_t n, int64_t *us)
{
    size_t i = 0;
    bool neg = false;
    if (n && s[0] == '-') {
        neg = true;
        i = 1;
    }
    size_t int_start = i;
    int64_t sec = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            break;
        if (sec > 100000000000LL)
            return -1; /* no time a log writes, and the microseconds would overflow */
        sec = sec * 10 + d;
    }
    if (i == int_start)
        return -1;
    int64_t frac;
    if (parse_fraction(s, n, &i, &frac) < 0)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E'))
        return -1; /* exponent notation: not what Zeek or EVE write */
    if (i != n)
        return -1;
    int64_t v = sec * 1000000 + frac;
    *us = neg ? -v : v;
    return 0;
}

int kz_tel_parse_epoch(const char *s, size_t n, int64_t *us)
{
    if (n == 0 || (n == 1 && s[0] == '-') || s[0] == 'X')
        return 0;
    return parse_seconds(s, n, us) == 0 ? 1 : -1;
}

static int digits_at(const char *s, size_t n, size_t at, size_t count, unsigned *v)
{
    if (at + count > n)
        return -1;
    unsigned x = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned d = (unsigned char)s[at + i] - '0';
        if (d > 9)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

int kz_tel_parse_iso(const char *s, size_t n, int64_t *us)
{
    unsigned Y, M, D, h, mi, sec;
    if (digits_at(s, n, 0, 4, &Y) || n < 19 || s[4] != '-' || digits_at(s, n, 5, 2, &M) ||
        s[7] != '-' || digits_at(s, n, 8, 2, &D) || (s[10] != 'T' && s[10] != ' ') ||
        digits_at(s, n, 11, 2, &h) || s[13] != ':' || digits_at(s, n, 14, 2, &mi) || s[16] != ':' ||
        digits_at(s, n, 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    size_t i = 19;
    int64_t frac;
    if (parse_fraction(s, n, &i, &frac) < 0)
        return -1;
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        unsigned oh, om;
        if (digits_at(s, n, i + 1, 2, &oh))
            return -1;
        i += 3;
        if (i < n && s[i] == ':')
            i++;
        if (digits_at(s, n, i, 2, &om))
            return -1;
        i += 2;
        off = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return -1; /* a time without zone is ambiguous */
    }
    if (i != n)
        return -1;
    int64_t days = kz_days_from_civil(Y, M, D);
    int64_t t = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - off;
    *us = t * 1000000 + frac;
    return 1;
}

/* Dotted quad of 1-3 digit numbers up to 255. *canon: no number has a leading zero, so the text
 * is the address's canonical text. One pass, digits unrolled: it runs for every address of
 * every log line. */
static int parse_ipv4(const char *s, size_t n, uint8_t out[4], bool *canon)
{
    const char *e = s + n;
    bool lead0 = false;
    for (int part = 0;; part++) {
        if (s == e)
            return -1;
        unsigned v = (unsigned)(unsigned char)*s++ - '0';
        if (v > 9)
            return -1;
        unsigned d;
        if (s < e && (d = (unsigned)(unsigned char)*s - '0') <= 9) {
            lead0 |= v == 0;
            v = v * 10 + d;
            s++;
            if (s < e && (d = (unsigned)(unsigned char)*s - '0') <= 9) {
                v = v * 10 + d;
                s++;
                if (v > 255)
                    return -1;
            }
        }
        out[part] = (uint8_t)v;
        if (part == 3)
            break;
        if (s == e || *s != '.')
            return -1;
        s++;
    }
    *canon = !lead0;
    return s == e ? 0 : -1;
}

int kz_tel_addr_parse(const char *s, size_t n, kz_tel_addr *a)
{
    bool canon;
    a->text = (kz_tel_str){NULL, 0};
    if (n >= 7 && n <= 15 && parse_ipv4(s, n, a->b, &canon) == 0) {
        a->family = 4;
        if (canon)
            a->text = (kz_tel_str){s, (uint32_t)n};
        return 0;
    }
    if (n < 2 || n > 45 || !memchr(s, ':', n))
        return -1;
    char tmp[64];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *pct = strchr(tmp, '%'); /* zone index (fe80::1%eth0): the address without it */
    if (pct)
        *pct = 0;
    if (inet_pton(AF_INET6, tmp, a->b) != 1)
        return -1;
    a->family = 6;
    return 0;
}

/* IPv6 exactly as glibc's inet_ntop writes it (RFC 5952 zero compression: the first longest
 * run of at least two zero words; "::a.b.c.d" and "::ffff:a.b.c.d" for the IPv4-compatible
 * and -mapped forms; lowercase hex without leading zeros). */
static size_t fmt_ip6(const uint8_t *b, char *out)
{
    static const char hx[] = "0123456789abcdef";
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)b[(size_t)2 * i] << 8 | b[(size_t)2 * i + 1];
    int best = -1, best_len = 0, cur = -1, cur_len = 0;
    for (int i = 0; i < 8; i++) {
        if (w[i] == 0) {
            if (cur < 0) {
                cur = i;
                cur_len = 1;
            } else {
                cur_len++;
            }
        } else if (cur >= 0) {
            if (best < 0 || cur_len > best_len) {
                best = cur;
                best_len = cur_len;
            }
            cur = -1;
        }
    }
    if (cur >= 0 && (best < 0 || cur_len > best_len)) {
        best = cur;
        best_len = cur_len;
    }
    if (best >= 0 && best_len < 2)
        best = -1;
    size_t k = 0;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                out[k++] = ':';
            continue;
        }
        if (i != 0)
            out[k++] = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return k + kz_ip4_format(b + 12, out + k);
        unsigned v = w[i];
        if (v >= 0x1000)
            out[k++] = hx[v >> 12];
        if (v >= 0x100)
            out[k++] = hx[v >> 8 & 15];
        if (v >= 0x10)
            out[k++] = hx[v >> 4 & 15];
        out[k++] = hx[v & 15];
    }
    if (best >= 0 && best + best_len == 8)
        out[k++] = ':';
    out[k] = 0;
    return k;
}

size_t kz_tel_addr_text(const kz_tel_addr *a, char *buf)
{
    if (a->family == 4)
        return kz_ip4_format(a->b, buf);
    if (a->family == 6)
        return fmt_ip6(a->b, buf);
    buf[0] = 0;
    return 0;
}

size_t kz_tel_ip_text(int family, const uint8_t *b, char *buf)
{
    return family == 4 ? kz_ip4_format(b, buf) : fmt_ip6(b, buf);
}

const char *kz_tel_addr_format(const kz_tel_addr *a, char *buf, size_t len)
{
    if (!len)
        return buf;
    char t[KZ_TEL_ADDR_TEXT_MAX];
    size_t n = kz_tel_addr_text(a, t);
    if (n < len) /* as inet_ntop: nothing written when it does not fit */
        memcpy(buf, t, n + 1);
    else
        buf[0] = 0;
    return buf;
}

static bool ieq(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (l != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return false;
    }
    return true;
}

uint8_t kz_tel_proto_from_name(const char *s, size_t n)
{
    uint64_t v;
    if (kz_tel_parse_u64(s, n, &v) == 0)
        return v <= 255 ? (uint8_t)v : 0;
    if (ieq(s, n, "tcp"))
        return 6;
    if (ieq(s, n, "udp"))
        return 17;
    if (ieq(s, n, "icmp"))
        return 1;
    if (ieq(s, n, "ipv6-icmp") || ieq(s, n, "icmpv6") || ieq(s, n, "icmp6"))
        return 58;
    if (ieq(s, n, "sctp"))
        return 132;
    if (ieq(s, n, "gre"))
        return 47;
    return 0;
}

uint16_t kz_tel_dns_type_from_name(const char *s, size_t n)
{
    static const struct {
        const char *name;
        uint16_t v;
    } types[] = {{"a", 1},      {"ns", 2},   {"cname", 5},  {"soa", 6},     {"ptr", 12},
                 {"hinfo", 13}, {"mx", 15},  {"txt", 16},   {"aaaa", 28},   {"srv", 33},
                 {"naptr", 35}, {"ds", 43},  {"rrsig", 46}, {"dnskey", 48}, {"svcb", 64},
                 {"https", 65}, {"spf", 99}, {"any", 255},  {"*", 255},     {"caa", 257}};
    uint64_t v;
    if (kz_tel_parse_u64(s, n, &v) == 0)
        return v <= 65535 ? (uint16_t)v : 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (ieq(s, n, types[i].name))
            return types[i].v;
    return 0;
}

kz_tel_kind kz_tel_kind_from_log(const char *s, size_t n)
{
    static const struct {
        const char *name;
        kz_tel_kind k;
    } logs[] = {{"conn", KZ_TEL_CONN},  {"flow", KZ_TEL_CONN},     {"netflow", KZ_TEL_CONN},
                {"dns", KZ_TEL_DNS},    {"http", KZ_TEL_HTTP},     {"ssl", KZ_TEL_TLS},
                {"tls", KZ_TEL_TLS},    {"quic", KZ_TEL_TLS},      {"x509", KZ_TEL_X509},
                {"files", KZ_TEL_FILE}, {"fileinfo", KZ_TEL_FILE}, {"smtp", KZ_TEL_SMTP},
                {"email", KZ_TEL_SMTP}, {"notice", KZ_TEL_ALERT},  {"weird", KZ_TEL_ALERT},
                {"alert", KZ_TEL_ALERT}};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++)
        if (n == strlen(logs[i].name) && memcmp(s, logs[i].name, n) == 0)
            return logs[i].k;
    return KZ_TEL_OTHER;
}

static kz_tel_str mk(const char *v, size_t n)
{
    kz_tel_str s = {v, (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n)};
    return s;
}

static int set_u64(uint64_t *dst, const char *v, size_t n)
{
    uint64_t x;
    if (kz_tel_parse_u64(v, n, &x) != 0)
        return KZ_TEL_R_BAD_NUMBER;
    *dst = x;
    return -1;
}

int kz_tel_set_field(kz_tel_record *r, int id, const char *v, size_t n)
{
    switch (id) {
    case KZ_F_TS: {
        int64_t us;
        int rc =
            (n >= 19 && v[4] == '-') ? kz_tel_parse_iso(v, n, &us) : kz_tel_parse_epoch(v, n, &us);
        if (rc < 0)
            return KZ_TEL_R_BAD_TIME;
        if (rc > 0) {
            r->ts_us = us;
            r->has_ts = true;
        }
        return -1;
    }
    case KZ_F_UID:
        r->uid = mk(v, n);
        return -1;
    case KZ_F_SRC:
    case KZ_F_DST:
    case KZ_F_TX_HOST:
    case KZ_F_RX_HOST: {
        kz_tel_addr *a = (id == KZ_F_SRC || id == KZ_F_TX_HOST) ? &r->src : &r->dst;
        if ((id == KZ_F_TX_HOST || id == KZ_F_RX_HOST) && a->family)
            return -1; /* id.* columns win; only the first host of a set counts */
        if (kz_tel_addr_parse(v, n, a) != 0) {
            a->family = 0;
            return KZ_TEL_R_BAD_ADDR;
        }
        return -1;
    }
    case KZ_F_SPORT:
    case KZ_F_DPORT: {
        uint64_t p;
        if (kz_tel_parse_u64(v, n, &p) != 0 || p > 65535)
            return KZ_TEL_R_BAD_PORT;
        if (id == KZ_F_SPORT)
            r->sport = (uint16_t)p;
        else
            r->dport = (uint16_t)p;
        r->has_ports = true;
        return -1;
    }
    case KZ_F_PROTO:
        r->proto = kz_tel_proto_from_name(v, n);
        return -1;
    case KZ_F_LOG:
        r->log = mk(v, n);
        return -1;
    case KZ_F_DNS_QUERY:
        if (!r->dns_query.p)
            r->dns_query = mk(v, n);
        return -1;
    case KZ_F_DNS_QTYPE:
        if (!r->dns_qtype)
            r->dns_qtype = kz_tel_dns_type_from_name(v, n);
        return -1;
    case KZ_F_DNS_ANSWER:
        r->dns_response = true;
        if (r->n_dns_answers < KZ_TEL_MAX_ANSWERS)
            r->dns_answers[r->n_dns_answers++] = mk(v, n);
        else
            r->n_dropped++;
        return -1;
    case KZ_F_DNS_DIR:
        r->dns_response = ieq(v, n, "answer") || ieq(v, n, "response");
        return -1;
    case KZ_F_HTTP_METHOD:
        r->http_method = mk(v, n);
        return -1;
    case KZ_F_HTTP_HOST:
        r->http_host = mk(v, n);
        return -1;
    case KZ_F_HTTP_URI:
        r->http_uri = mk(v, n);
        return -1;
    case KZ_F_HTTP_UA:
        r->http_user_agent = mk(v, n);
        return -1;
    case KZ_F_HTTP_REFERRER:
        r->http_referrer = mk(v, n);
        return -1;
    case KZ_F_TLS_SNI:
        r->tls_sni = mk(v, n);
        return -1;
    case KZ_F_TLS_VERSION:
        r->tls_version = mk(v, n);
        return -1;
    case KZ_F_JA3:
        r->ja3 = mk(v, n);
        return -1;
    case KZ_F_JA3_STRING:
        r->ja3_string = mk(v, n);
        return -1;
    case KZ_F_JA3S:
        r->ja3s = mk(v, n);
        return -1;
    case KZ_F_JA3S_STRING:
        r->ja3s_string = mk(v, n);
        return -1;
    case KZ_F_JA4:
        r->ja4 = mk(v, n);
        return -1;
    case KZ_F_SUBJECT: /* resolved by the caller once the log name is known */
    case KZ_F_X509_SUBJECT:
        r->x509_subject = mk(v, n);
        return -1;
    case KZ_F_X509_ISSUER:
        r->x509_issuer = mk(v, n);
        return -1;
    case KZ_F_X509_SERIAL:
        r->x509_serial = mk(v, n);
        return -1;
    case KZ_F_X509_FP:
        if (!r->x509_fingerprint.p) /* a chain: keep the leaf */
            r->x509_fingerprint = mk(v, n);
        return -1;
    case KZ_F_FILE_NAME:
        r->file_name = mk(v, n);
        return -1;
    case KZ_F_MD5:
        r->file_md5 = mk(v, n);
        return -1;
    case KZ_F_SHA1:
        r->file_sha1 = mk(v, n);
        return -1;
    case KZ_F_SHA256:
        r->file_sha256 = mk(v, n);
        return -1;
    case KZ_F_MIME:
        r->file_mime = mk(v, n);
        return -1;
    case KZ_F_MAIL_FROM:
        if (!r->mail_from.p)
            r->mail_from = mk(v, n);
        return -1;
    case KZ_F_MAIL_TO:
        if (r->n_mail_to < KZ_TEL_MAX_RCPT)
            r->mail_to[r->n_mail_to++] = mk(v, n);
        else
            r->n_dropped++;
        return -1;
    case KZ_F_MAIL_SUBJECT:
        r->mail_subject = mk(v, n);
        return -1;
    case KZ_F_BYTES_TS:
        r->has_flow = true;
        return set_u64(&r->bytes_toserver, v, n);
    case KZ_F_BYTES_TC:
        r->has_flow = true;
        return set_u64(&r->bytes_toclient, v, n);
    case KZ_F_PKTS_TS:
        r->has_flow = true;
        return set_u64(&r->pkts_toserver, v, n);
    case KZ_F_PKTS_TC:
        r->has_flow = true;
        return set_u64(&r->pkts_toclient, v, n);
    case KZ_F_DURATION: {
        int64_t us;
        if (parse_seconds(v, n, &us) != 0)
            return KZ_TEL_R_BAD_NUMBER;
        r->duration_us = us;
        return -1;
    }
    case KZ_F_SIGNATURE:
        r->alert_signature = mk(v, n);
        return -1;
    case KZ_F_SIGNATURE_ID:
        return set_u64(&r->alert_signature_id, v, n);
    case KZ_F_CATEGORY:
        r->alert_category = mk(v, n);
        return -1;
    default:
        return -1;
    }
}
