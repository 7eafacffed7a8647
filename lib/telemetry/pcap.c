/*
 * Packet decoder: link layer (Ethernet with 802.1Q/802.1ad VLAN tags, Linux cooked v1/v2,
 * raw IP, BSD loopback), IPv4 and IPv6 (extension headers walked), TCP and UDP, then DNS
 * (UDP 53, mDNS 5353, LLMNR 5355, and TCP 53), HTTP/1.x request heads, TLS hellos (over
 * TCP, and inside QUIC client Initials), and a
 * flow table; packets come from pcap/pcapng files or a live interface through libpcap.
 *
 * Invariants: every header is checked against the captured length before it is read; a
 * packet that fails is counted by reason and reported with its number, and decoding goes
 * on with the next one. Records point into the packet or the decoder's scratch and live
 * only during the callback. IP fragments are counted and not reassembled: a first fragment
 * is decoded as far as it goes, later ones carry no ports and are skipped. TCP is not
 * reassembled either, with one exception: a ClientHello longer than its segment is joined
 * with the following in-order segments (bounded slots), since fingerprints need all of it.
 * Live capture reads without blocking and waits in its own poll() on the capture socket
 * and a wake pipe, so that *stop is seen on a quiet interface and kz_tel_pcap_live_stop
 * ends a capture from another thread at once.
 * Not done: tunnels (GRE, VXLAN, Teredo), TCP stream reassembly, QUIC beyond the client's
 * Initial packets.
 */
#include "pkt_internal.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCRATCH 8192

/* What the lower layers found, kept out of rec so that flow records emitted mid-packet
 * cannot clobber it. */
typedef struct pkt {
    kz_tel_flowkey k;
    const uint8_t *payload;
    size_t plen;
    int64_t ts_us;
    uint32_t tcp_seq;
    bool first_frag_only; /* a first fragment: the payload is incomplete */
} pkt;

/* A TLS ClientHello that did not fit in its first TCP segment (large hellos, such as
 * those with post-quantum key shares, take two): the bytes so far, waiting for the next
 * in-order segment of the same direction. A handful of slots, reused oldest first. */
#define TLS_PEND_SLOTS 16
#define TLS_PEND_MAX (5 + 16384)
typedef struct tls_pend {
    bool used;
    pkt first; /* tuple and time of the first segment */
    uint64_t pktno;
    uint32_t next_seq;
    size_t have, need;
    uint8_t buf[TLS_PEND_MAX];
} tls_pend;

struct kz_tel_pcap {
    char *name;
    kz_tel_sink sink;
    kz_tel_stats st;
    kz_tel_record rec;
    kz_tel_pcap_opts opts;
    kz_tel_flowtab flows;
    uint64_t pktno;
    kz_tel_input in_kind; /* KZ_TEL_IN_PCAP, or KZ_TEL_IN_IFACE while capturing live */
    char scratch[SCRATCH];
    /* QUIC: a ClientHello may span the Initials of several datagrams (Chromium's does), so
     * the CRYPTO data of the latest connection waits here until it is complete, or until
     * another connection or the end of input comes (then what is known is emitted). */
    tls_pend pend[TLS_PEND_SLOTS];
    kz_tel_quic_crypto qnew, qcur;
    pkt qpkt;            /* the 5-tuple and time of qcur's first packet */
    uint64_t qpktno;
    bool qpending;
    /* live capture: the open handle and a pipe whose write wakes the wait for packets
     * (kz_tel_pcap_live_stop); live_mu orders the stop against the open and the close */
    kz_tel_tls_cache tls_cache;
    pthread_mutex_t live_mu;
    pcap_t *live;
    int wake[2];
    atomic_bool live_stop;
};


static void quic_emit(kz_tel_pcap *p);
static void tls_pend_emit(kz_tel_pcap *p, tls_pend *t);

static void fill_tuple(kz_tel_record *r, const kz_tel_flowkey *k)
{
    size_t al = k->family == 6 ? 16 : 4;
    r->src.family = r->dst.family = k->family;
    memcpy(r->src.b, k->src, al);
    memcpy(r->dst.b, k->dst, al);
    r->sport = k->sport;
    r->dport = k->dport;
    r->has_ports = k->proto == 6 || k->proto == 17;
    r->proto = k->proto;
}

static void emit_flow(void *ctx, const kz_tel_flow *f)
{
    kz_tel_pcap *p = ctx;
    kz_tel_record *r = &p->rec;
    kz_tel_record_reset(r);
    r->input = p->in_kind;
    r->input_name = p->name;
    r->pos = f->first_pkt;
    r->kind = KZ_TEL_CONN;
    r->log = (kz_tel_str){"flow", 4};
    r->ts_us = f->first_us;
    r->has_ts = true;
    fill_tuple(r, &f->k);
    r->has_flow = true;
    r->pkts_toserver = f->pkts[0];
    r->pkts_toclient = f->pkts[1];
    r->bytes_toserver = f->bytes[0];
    r->bytes_toclient = f->bytes[1];
    r->duration_us = f->last_us - f->first_us;
    p->st.records++;
    if (p->sink.record)
        p->sink.record(p->sink.ctx, r);
}

kz_tel_pcap *kz_tel_pcap_new(const char *input_name, const kz_tel_sink *sink,
                             const kz_tel_pcap_opts *opts)
{
    kz_tel_pcap *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->name = strdup(input_name ? input_name : "pcap");
    if (!p->name) {
        free(p);
        return NULL;
    }
    if (sink)
        p->sink = *sink;
    pthread_mutex_init(&p->live_mu, NULL);
    p->wake[0] = p->wake[1] = -1;
    atomic_init(&p->live_stop, false);
    p->in_kind = KZ_TEL_IN_PCAP;
    if (opts)
        p->opts = *opts;
    if (!p->opts.flow_table_size)
        p->opts.flow_table_size = 65536;
    if (!p->opts.flow_idle_s)
        p->opts.flow_idle_s = 60;
    if (!p->opts.no_flows &&
        kz_tel_flowtab_init(&p->flows, p->opts.flow_table_size,
                            (int64_t)p->opts.flow_idle_s * 1000000, emit_flow, p) != 0) {
        free(p->name);
        free(p);
        return NULL;
    }
    return p;
}

void kz_tel_pcap_free(kz_tel_pcap *p)
{
    if (!p)
        return;
    kz_tel_flowtab_free(&p->flows);
    pthread_mutex_destroy(&p->live_mu);
    free(p->name);
    free(p);
}

const kz_tel_stats *kz_tel_pcap_stats(const kz_tel_pcap *p)
{
    return &p->st;
}

void kz_tel_pcap_flush(kz_tel_pcap *p)
{
    for (int i = 0; i < TLS_PEND_SLOTS; i++)
        if (p->pend[i].used)
            tls_pend_emit(p, &p->pend[i]);
    if (p->qpending)
        quic_emit(p);
    kz_tel_flowtab_flush(&p->flows);
    p->st.flows_evicted = p->flows.evicted;
}

static void bad(kz_tel_pcap *p, kz_tel_reason r, const char *what)
{
    kz_tel_report(&p->sink, &p->st, p->name, p->pktno, r, "%s", what);
}

static kz_tel_record *app_record(kz_tel_pcap *p, const pkt *k, const char *log, kz_tel_kind kind)
{
    kz_tel_record *r = &p->rec;
    kz_tel_record_reset(r);
    r->input = p->in_kind;
    r->input_name = p->name;
    r->pos = p->pktno;
    r->kind = kind;
    r->log = (kz_tel_str){log, (uint32_t)strlen(log)};
    r->ts_us = k->ts_us;
    r->has_ts = true;
    fill_tuple(r, &k->k);
    return r;
}

static void emit_rec(kz_tel_pcap *p)
{
    p->st.records++;
    if (p->sink.record)
        p->sink.record(p->sink.ctx, &p->rec);
}

static bool dns_port(uint16_t port)
{
    return port == 53 || port == 5353 || port == 5355;
}

static void dns(kz_tel_pcap *p, const pkt *k, const uint8_t *m, size_t n)
{
    kz_tel_record *r = app_record(p, k, "dns", KZ_TEL_DNS);
    kz_tel_reason why = KZ_TEL_R_DNS_MALFORMED;
    kz_tel_dns_extra x;
    if (kz_tel_dns_message(m, n, r, &x, p->scratch, sizeof p->scratch, &why) != 0) {
        if (k->first_frag_only)
            return; /* the rest is in later fragments; not the message's fault */
        bad(p, why, why == KZ_TEL_R_DNS_NAME_LOOP ? "DNS name pointer loop" : "DNS message");
        return;
    }
    emit_rec(p);
    /* one record per further name, so that each is matched on its own; the answers stay
     * with the first */
    bool resp = r->dns_response;
    for (unsigned i = 0; i < x.n; i++) {
        r = app_record(p, k, "dns", KZ_TEL_DNS);
        r->dns_query = x.name[i];
        r->dns_qtype = x.type[i];
        r->dns_response = resp;
        emit_rec(p);
    }
}

static void tls(kz_tel_pcap *p, const pkt *k, const uint8_t *d, size_t n);

/* Emit what a pending hello has (all of it, or up to a gap or the end of input). */
static void tls_pend_emit(kz_tel_pcap *p, tls_pend *t)
{
    t->used = false;
    uint64_t saved = p->pktno;
    p->pktno = t->pktno;
    tls(p, &t->first, t->buf, t->have);
    p->pktno = saved;
}

/* A ClientHello record longer than its segment: keep it for the next segments. */
static void tls_pend_start(kz_tel_pcap *p, const pkt *k, const uint8_t *d, size_t n, size_t need)
{
    tls_pend *t = NULL;
    for (int i = 0; i < TLS_PEND_SLOTS && !t; i++)
        if (!p->pend[i].used)
            t = &p->pend[i];
    if (!t) { /* all busy: the oldest gives way with what it has */
        t = &p->pend[0];
        for (int i = 1; i < TLS_PEND_SLOTS; i++)
            if (p->pend[i].pktno < t->pktno)
                t = &p->pend[i];
        tls_pend_emit(p, t);
    }
    t->used = true;
    t->first = *k;
    t->first.payload = NULL;
    t->pktno = p->pktno;
    t->need = need;
    t->have = n < need ? n : need;
    memcpy(t->buf, d, t->have);
    t->next_seq = k->tcp_seq + (uint32_t)n;
}

/* A segment of a connection with a pending hello? 1 when it was taken. */
static int tls_pend_more(kz_tel_pcap *p, const pkt *k, const uint8_t *d, size_t n)
{
    for (int i = 0; i < TLS_PEND_SLOTS; i++) {
        tls_pend *t = &p->pend[i];
        if (!t->used || memcmp(&t->first.k, &k->k, sizeof k->k) != 0)
            continue;
        if (k->tcp_seq != t->next_seq) {
            if ((int32_t)(k->tcp_seq - t->next_seq) < 0)
                return 1; /* a retransmission of what we have */
            tls_pend_emit(p, t); /* a gap: give up on the rest */
            return 0;
        }
        size_t take = n < t->need - t->have ? n : t->need - t->have;
        memcpy(t->buf + t->have, d, take);
        t->have += take;
        t->next_seq += (uint32_t)n;
        if (t->have == t->need)
            tls_pend_emit(p, t);
        return 1;
    }
    return 0;
}

static void tls(kz_tel_pcap *p, const pkt *k, const uint8_t *d, size_t n)
{
    /* one TLS record header, then the first handshake message in it */
    if (n < 9 || d[0] != 0x16 || d[1] != 3 || d[5] > 2 || d[5] == 0)
        return;
    size_t need = 5 + ((size_t)d[3] << 8 | d[4]);
    if (d[5] == 1 && n < need && need <= TLS_PEND_MAX && k->k.proto == 6 &&
        k->payload != NULL) {
        tls_pend_start(p, k, d, n, need);
        return;
    }
    kz_tel_record *r = app_record(p, k, "tls", KZ_TEL_TLS);
    size_t rl = (size_t)d[3] << 8 | d[4];
    size_t avail = n - 5 < rl ? n - 5 : rl;
    bool partial = false;
    int rc = kz_tel_tls_hello_c(d + 5, avail, false, r, p->scratch, sizeof p->scratch,
                                &partial, &p->tls_cache);
    if (rc < 0) {
        bad(p, KZ_TEL_R_TLS_MALFORMED, "TLS hello");
        return;
    }
    if (rc == 0)
        return;
    if (partial)
        p->st.tls_partial++;
    if (rc == 1 || r->ja3s.p)
        emit_rec(p);
}

/* Emit the ClientHello gathered in qcur: full when complete, else what is known. */
static void quic_emit(kz_tel_pcap *p)
{
    p->qpending = false;
    size_t have = kz_tel_quic_contiguous(&p->qcur);
    if (have < 4)
        return;
    uint64_t saved = p->pktno;
    p->pktno = p->qpktno;
    kz_tel_record *r = app_record(p, &p->qpkt, "quic", KZ_TEL_TLS);
    bool partial = false;
    int rc = kz_tel_tls_hello_c(p->qcur.buf, have, true, r, p->scratch, sizeof p->scratch,
                                &partial, &p->tls_cache);
    if (rc < 0)
        bad(p, KZ_TEL_R_TLS_MALFORMED, "QUIC ClientHello");
    else if (rc == 1) {
        if (partial)
            p->st.tls_partial++;
        emit_rec(p);
    }
    p->pktno = saved;
}

/* A datagram that may hold client Initials. */
static void quic(kz_tel_pcap *p, const pkt *k, const uint8_t *d, size_t n)
{
    if (!kz_tel_quic_initial(d, n, &p->qnew))
        return;
    bool same = p->qcur.any && p->qcur.dcid_len == p->qnew.dcid_len &&
                memcmp(p->qcur.dcid, p->qnew.dcid, p->qnew.dcid_len) == 0;
    if (!same) {
        if (p->qpending)
            quic_emit(p);
        memset(&p->qcur, 0, sizeof p->qcur);
        p->qcur.any = true;
        memcpy(p->qcur.dcid, p->qnew.dcid, p->qnew.dcid_len);
        p->qcur.dcid_len = p->qnew.dcid_len;
        p->qpkt = *k;
        p->qpktno = p->pktno;
        p->qpending = true;
    } else if (!p->qpending) {
        return; /* already emitted: a retransmission */
    }
    for (size_t i = 0; i < sizeof p->qnew.buf; i++)
        if (p->qnew.filled[i]) {
            p->qcur.buf[i] = p->qnew.buf[i];
            p->qcur.filled[i] = 1;
        }
    size_t have = kz_tel_quic_contiguous(&p->qcur);
    if (have >= 4) {
        size_t need = 4 + ((size_t)p->qcur.buf[1] << 16 | (size_t)p->qcur.buf[2] << 8 |
                           p->qcur.buf[3]);
        if (have >= need || have == sizeof p->qcur.buf)
            quic_emit(p);
    }
}

static void transport(kz_tel_pcap *p, pkt *k, uint8_t proto, const uint8_t *d, size_t n,
                      uint32_t wirelen, bool later_frag)
{
    k->k.proto = proto;
    if (later_frag) {
        p->st.ip_fragments++;
        return;
    }
    const uint8_t *pl = NULL;
    size_t pn = 0;
    if (proto == 6) {
        if (n < 20) {
            if (!k->first_frag_only)
                bad(p, KZ_TEL_R_PKT_TRUNCATED, "TCP header");
            return;
        }
        size_t off = (size_t)(d[12] >> 4) * 4;
        if (off < 20 || off > n) {
            if (off < 20 || !k->first_frag_only)
                bad(p, off < 20 ? KZ_TEL_R_PKT_BAD_IP : KZ_TEL_R_PKT_TRUNCATED, "TCP header");
            return;
        }
        k->k.sport = (uint16_t)(d[0] << 8 | d[1]);
        k->k.dport = (uint16_t)(d[2] << 8 | d[3]);
        k->tcp_seq = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
        pl = d + off;
        pn = n - off;
        k->payload = pl;
    } else if (proto == 17) {
        if (n < 8) {
            if (!k->first_frag_only)
                bad(p, KZ_TEL_R_PKT_TRUNCATED, "UDP header");
            return;
        }
        k->k.sport = (uint16_t)(d[0] << 8 | d[1]);
        k->k.dport = (uint16_t)(d[2] << 8 | d[3]);
        size_t ul = (size_t)d[4] << 8 | d[5];
        pl = d + 8;
        pn = n - 8;
        if (ul >= 8 && ul - 8 < pn)
            pn = ul - 8;
    }
    if (!p->opts.no_flows)
        kz_tel_flowtab_packet(&p->flows, &k->k, wirelen, k->ts_us, p->pktno);
    if (!pl || pn == 0)
        return;
    if (proto == 17 && (dns_port(k->k.sport) || dns_port(k->k.dport))) {
        dns(p, k, pl, pn);
    } else if (proto == 17 && pn >= 1200 && (pl[0] & 0xc0) == 0xc0) {
        /* client Initials are padded to at least 1200 bytes (RFC 9000 14.1) */
        quic(p, k, pl, pn);
    } else if (proto == 6) {
        if (tls_pend_more(p, k, pl, pn))
            return;
        if (pl[0] == 0x16)
            tls(p, k, pl, pn);
        else if (kz_tel_http_request(pl, pn, app_record(p, k, "http", KZ_TEL_HTTP)))
            emit_rec(p);
        else if ((k->k.sport == 53 || k->k.dport == 53) && pn > 2) {
            size_t ml = (size_t)pl[0] << 8 | pl[1];
            if (ml <= pn - 2)
                dns(p, k, pl + 2, ml);
        }
    }
}

static void ipv4(kz_tel_pcap *p, pkt *k, const uint8_t *d, size_t n, uint32_t wirelen)
{
    if (n < 20) {
        bad(p, KZ_TEL_R_PKT_TRUNCATED, "IPv4 header");
        return;
    }
    size_t hl = (size_t)(d[0] & 15) * 4;
    size_t tl = (size_t)d[2] << 8 | d[3];
    if ((d[0] >> 4) != 4 || hl < 20 || tl < hl) {
        bad(p, KZ_TEL_R_PKT_BAD_IP, "IPv4 header");
        return;
    }
    if (hl > n) {
        bad(p, KZ_TEL_R_PKT_TRUNCATED, "IPv4 options");
        return;
    }
    if (tl < n)
        n = tl; /* Ethernet padding */
    unsigned frag = (unsigned)(d[6] & 0x1f) << 8 | d[7];
    bool mf = d[6] & 0x20;
    k->k.family = 4;
    memcpy(k->k.src, d + 12, 4);
    memcpy(k->k.dst, d + 16, 4);
    k->first_frag_only = frag == 0 && mf;
    if (k->first_frag_only)
        p->st.ip_fragments++;
    transport(p, k, d[9], d + hl, n - hl, wirelen, frag != 0);
}

static void ipv6(kz_tel_pcap *p, pkt *k, const uint8_t *d, size_t n, uint32_t wirelen)
{
    if (n < 40) {
        bad(p, KZ_TEL_R_PKT_TRUNCATED, "IPv6 header");
        return;
    }
    if ((d[0] >> 4) != 6) {
        bad(p, KZ_TEL_R_PKT_BAD_IP, "IPv6 version");
        return;
    }
    size_t plen = (size_t)d[4] << 8 | d[5];
    if (plen + 40 < n && plen != 0)
        n = plen + 40;
    k->k.family = 6;
    memcpy(k->k.src, d + 8, 16);
    memcpy(k->k.dst, d + 24, 16);
    uint8_t nh = d[6];
    size_t off = 40;
    bool later = false;
    for (int i = 0; i < 10; i++) {
        if (nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 135) {
            if (off + 8 > n) {
                bad(p, KZ_TEL_R_PKT_TRUNCATED, "IPv6 extension header");
                return;
            }
            size_t el = nh == 51 ? ((size_t)d[off + 1] + 2) * 4 : ((size_t)d[off + 1] + 1) * 8;
            nh = d[off];
            off += el;
            if (off > n) {
                bad(p, KZ_TEL_R_PKT_TRUNCATED, "IPv6 extension header");
                return;
            }
        } else if (nh == 44) {
            if (off + 8 > n) {
                bad(p, KZ_TEL_R_PKT_TRUNCATED, "IPv6 fragment header");
                return;
            }
            unsigned fo = ((unsigned)d[off + 2] << 8 | d[off + 3]) >> 3;
            bool mf = d[off + 3] & 1;
            nh = d[off];
            off += 8;
            later = fo != 0;
            k->first_frag_only = fo == 0 && mf;
            if (k->first_frag_only)
                p->st.ip_fragments++;
        } else {
            break;
        }
    }
    transport(p, k, nh, d + off, n - off, wirelen, later);
}

static void ip_by_version(kz_tel_pcap *p, pkt *k, const uint8_t *d, size_t n, uint32_t wl)
{
    if (n < 1) {
        bad(p, KZ_TEL_R_PKT_TRUNCATED, "IP header");
        return;
    }
    if ((d[0] >> 4) == 4)
        ipv4(p, k, d, n, wl);
    else if ((d[0] >> 4) == 6)
        ipv6(p, k, d, n, wl);
    else
        bad(p, KZ_TEL_R_PKT_BAD_IP, "IP version");
}

static void ethertype(kz_tel_pcap *p, pkt *k, unsigned et, const uint8_t *d, size_t n,
                      uint32_t wl)
{
    for (int tags = 0; (et == 0x8100 || et == 0x88a8 || et == 0x9100) && tags < 4; tags++) {
        if (n < 4) {
            bad(p, KZ_TEL_R_PKT_TRUNCATED, "VLAN tag");
            return;
        }
        et = (unsigned)d[2] << 8 | d[3];
        d += 4;
        n -= 4;
    }
    if (et == 0x0800)
        ipv4(p, k, d, n, wl);
    else if (et == 0x86dd)
        ipv6(p, k, d, n, wl);
    else
        p->st.non_ip++;
}

void kz_tel_pcap_packet(kz_tel_pcap *p, int linktype, const uint8_t *d, uint32_t caplen,
                        uint32_t wirelen, int64_t ts_us)
{
    p->pktno++;
    p->st.units++;
    p->st.bytes += wirelen;
    pkt k;
    memset(&k, 0, sizeof k);
    k.ts_us = ts_us;
    size_t n = caplen;
    switch (linktype) {
    case DLT_EN10MB:
        if (n < 14) {
            bad(p, KZ_TEL_R_PKT_TRUNCATED, "Ethernet header");
            return;
        }
        ethertype(p, &k, (unsigned)d[12] << 8 | d[13], d + 14, n - 14, wirelen);
        return;
    case DLT_LINUX_SLL:
        if (n < 16) {
            bad(p, KZ_TEL_R_PKT_TRUNCATED, "Linux cooked header");
            return;
        }
        ethertype(p, &k, (unsigned)d[14] << 8 | d[15], d + 16, n - 16, wirelen);
        return;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        if (n < 20) {
            bad(p, KZ_TEL_R_PKT_TRUNCATED, "Linux cooked v2 header");
            return;
        }
        ethertype(p, &k, (unsigned)d[0] << 8 | d[1], d + 20, n - 20, wirelen);
        return;
#endif
    case DLT_RAW:
    case 101: /* LINKTYPE_RAW as stored in files */
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        ip_by_version(p, &k, d, n, wirelen);
        return;
    case DLT_NULL:
    case DLT_LOOP:
        /* 4-byte address family, host order for NULL, network order for LOOP; AF_INET is
         * 2 everywhere, and the IP version nibble settles IPv6's many values */
        if (n < 5) {
            bad(p, KZ_TEL_R_PKT_TRUNCATED, "loopback header");
            return;
        }
        ip_by_version(p, &k, d + 4, n - 4, wirelen);
        return;
    default:
        bad(p, KZ_TEL_R_PKT_UNSUPPORTED_LINK, "unsupported link type");
        return;
    }
}

/* A live handle is non-blocking: wait here for packets, a stop (the wake pipe), or 200 ms,
 * whichever comes first. libpcap's own blocking read waits in poll() with no end while no
 * packet arrives on Linux, whatever the timeout, so *stop would never be looked at. */
static void live_wait(kz_tel_pcap *p, pcap_t *h)
{
    struct pollfd fds[2] = {{.fd = pcap_get_selectable_fd(h), .events = POLLIN},
                            {.fd = p->wake[0], .events = POLLIN}};
    int ms = 200;
    const struct timeval *req = pcap_get_required_select_timeout(h);
    if (req && req->tv_sec == 0 && req->tv_usec / 1000 < ms)
        ms = (int)(req->tv_usec / 1000) + 1;
    if (fds[0].fd < 0) { /* no selectable descriptor: sleep in small steps */
        (void)poll(&fds[1], 1, 20);
        return;
    }
    (void)poll(fds, 2, ms);
}

static int run(kz_tel_pcap *p, pcap_t *h, const volatile bool *stop, uint64_t max, char *err,
               size_t errlen, bool live)
{
    int lt = pcap_datalink(h);
    uint64_t seen = 0;
    int rc = 0;
    for (;;) {
        if (stop && *stop)
            break;
        if (live && atomic_load(&p->live_stop))
            break;
        if (max && seen >= max)
            break;
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int r = pcap_next_ex(h, &hdr, &data);
        if (r == 1) {
            seen++;
            int64_t ts = (int64_t)hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
            kz_tel_pcap_packet(p, lt, data, hdr->caplen, hdr->len, ts);
        } else if (r == 0) {
            if (live)
                live_wait(p, h); /* nothing yet: wait a little, then look at *stop again */
        } else if (r == PCAP_ERROR_BREAK) {
            break;
        } else {
            /* a file cut short mid-record ends here; what came before is decoded */
            kz_tel_report(&p->sink, &p->st, p->name, p->pktno + 1, KZ_TEL_R_IO, "%s",
                          pcap_geterr(h));
            if (live) {
                if (err)
                    snprintf(err, errlen, "%s", pcap_geterr(h));
                rc = -1;
            }
            break;
        }
    }
    kz_tel_pcap_flush(p);
    return rc;
}

int kz_tel_pcap_file(kz_tel_pcap *p, const char *path, char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE];
    eb[0] = 0;
    pcap_t *h = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, eb);
    if (!h) {
        if (err)
            snprintf(err, errlen, "%s", eb);
        return -1;
    }
    int rc = run(p, h, NULL, 0, err, errlen, false);
    pcap_close(h);
    return rc;
}

int kz_tel_pcap_live(kz_tel_pcap *p, const char *iface, const volatile bool *stop,
                     uint64_t max_packets, char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE];
    eb[0] = 0;
    pcap_t *h = pcap_create(iface, eb);
    if (!h) {
        if (err)
            snprintf(err, errlen, "%s: %s", iface, eb);
        return -1;
    }
    pcap_set_snaplen(h, 65535);
    pcap_set_promisc(h, 1);
    pcap_set_timeout(h, 200); /* packets wait in the ring at most this long */
    int a = pcap_activate(h);
    if (a < 0) {
        if (err)
            snprintf(err, errlen, "%s: %s", iface,
                     a == PCAP_ERROR ? pcap_geterr(h) : pcap_statustostr(a));
        pcap_close(h);
        return -1;
    }
    /* non-blocking reads, and our own wait (live_wait) that a stop or 200 ms ends */
    if (pcap_setnonblock(h, 1, eb) != 0 || pipe(p->wake) != 0) {
        if (err)
            snprintf(err, errlen, "%s: %s", iface, eb[0] ? eb : "cannot make a wake pipe");
        pcap_close(h);
        return -1;
    }
    (void)fcntl(p->wake[0], F_SETFL, O_NONBLOCK);
    (void)fcntl(p->wake[1], F_SETFL, O_NONBLOCK);
    pthread_mutex_lock(&p->live_mu);
    p->live = h;
    pthread_mutex_unlock(&p->live_mu);
    p->in_kind = KZ_TEL_IN_IFACE;
    int rc = run(p, h, stop, max_packets, err, errlen, true);
    p->in_kind = KZ_TEL_IN_PCAP;
    pthread_mutex_lock(&p->live_mu);
    p->live = NULL;
    close(p->wake[0]);
    close(p->wake[1]);
    p->wake[0] = p->wake[1] = -1;
    pthread_mutex_unlock(&p->live_mu);
    atomic_store(&p->live_stop, false); /* the stop is spent: a later capture runs again */
    pcap_close(h);
    return rc;
}

void kz_tel_pcap_live_stop(kz_tel_pcap *p)
{
    atomic_store(&p->live_stop, true);
    pthread_mutex_lock(&p->live_mu);
    if (p->live) {
        char c = 1;
        ssize_t w = write(p->wake[1], &c, 1); /* full pipe: a wake is pending anyway */
        (void)w;
    }
    pthread_mutex_unlock(&p->live_mu);
}
