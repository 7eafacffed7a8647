/*
 * Internal interface between the packet decoder and its application-layer parsers
 * (DNS messages, HTTP request heads, the flow table). Not part of the public API.
 */
#ifndef KZ_TEL_PKT_INTERNAL_H
#define KZ_TEL_PKT_INTERNAL_H

#include "tel_internal.h"

/* Names a DNS message is about beyond the first question: further questions, and the
 * records an UPDATE changes. The packet decoder emits one more record for each. */
#define KZ_TEL_DNS_EXTRA 8
typedef struct kz_tel_dns_extra {
    unsigned n;
    kz_tel_str name[KZ_TEL_DNS_EXTRA];
    uint16_t type[KZ_TEL_DNS_EXTRA];
} kz_tel_dns_extra;

/* Decode a DNS message into r (first question's name and type, or the first answer's owner
 * when there is no question; answers as text) and extra, with names and formatted
 * addresses written into scratch. 0 ok; -1 malformed with *why set. */
int kz_tel_dns_message(const uint8_t *m, size_t n, kz_tel_record *r, kz_tel_dns_extra *extra,
                       char *scratch, size_t cap, kz_tel_reason *why);

/* Fingerprints of recent hellos: the same client software sends the same lists again and
 * again, so the JA3/JA3S text and its MD5 and the JA4 are kept, keyed by every input they
 * are made from (compared in full, never by hash alone), and copied on a repeat instead of
 * being formatted and hashed again. */
#define KZ_TEL_TLS_CACHE 16
#define KZ_TEL_TLS_KEY_MAX 768
#define KZ_TEL_TLS_STR_MAX 1024
typedef struct kz_tel_tls_memo {
    bool used, has_md5, has_ja4;
    uint32_t hash;
    uint16_t klen, slen;
    size_t scratch_len; /* outcomes may depend on the room in scratch */
    uint8_t key[KZ_TEL_TLS_KEY_MAX];
    char str[KZ_TEL_TLS_STR_MAX];
    char md5[32];
    char ja4[36];
} kz_tel_tls_memo;
typedef struct kz_tel_tls_cache {
    kz_tel_tls_memo e[KZ_TEL_TLS_CACHE];
} kz_tel_tls_cache;

/* kz_tel_tls_hello with a cache (NULL: none); the result is the same either way. */
int kz_tel_tls_hello_c(const uint8_t *hs, size_t len, bool quic, kz_tel_record *r,
                       char *scratch, size_t scratch_len, bool *partial, kz_tel_tls_cache *c);

/* If payload starts with an HTTP/1.x request line, fill method, URI, Host, User-Agent and
 * Referer (pointing into payload) and return 1; else 0. */
int kz_tel_http_request(const uint8_t *p, size_t n, kz_tel_record *r);

/* CRYPTO data gathered from a client's QUIC Initial packets (one connection, named by the
 * destination connection id of its first Initial). */
#define KZ_TEL_QUIC_CRYPTO_MAX 4096
typedef struct kz_tel_quic_crypto {
    bool any;
    uint8_t dcid[20];
    size_t dcid_len;
    uint8_t buf[KZ_TEL_QUIC_CRYPTO_MAX];
    uint8_t filled[KZ_TEL_QUIC_CRYPTO_MAX]; /* 1 where buf holds data */
} kz_tel_quic_crypto;

/* Decrypt the client QUIC Initial packets (v1 or v2) in a UDP payload into *out. 1 when at
 * least one did; 0 when the payload holds none. */
int kz_tel_quic_initial(const uint8_t *d, size_t n, kz_tel_quic_crypto *out);
/* How many bytes are known from offset 0. */
size_t kz_tel_quic_contiguous(const kz_tel_quic_crypto *c);

/* ---- flow table ---------------------------------------------------------------------- */

typedef struct kz_tel_flowkey {
    uint8_t family, proto;
    uint16_t sport, dport;
    uint8_t src[16], dst[16];
} kz_tel_flowkey;

typedef struct kz_tel_flow {
    kz_tel_flowkey k; /* as first seen: src is the originator */
    int64_t first_us, last_us;
    uint64_t first_pkt;
    uint64_t pkts[2], bytes[2]; /* [0] originator to responder, [1] the reverse */
    int32_t hnext, lprev, lnext; /* hash chain, LRU list (head = most recent) */
    bool used;
} kz_tel_flow;

typedef void (*kz_tel_flow_emit)(void *ctx, const kz_tel_flow *f);

typedef struct kz_tel_flowtab {
    kz_tel_flow *v;
    int32_t *bucket;
    uint32_t cap, nbuckets, n;
    int32_t free_head, lru_head, lru_tail;
    int64_t idle_us;
    uint64_t evicted;
    kz_tel_flow_emit emit;
    void *ctx;
} kz_tel_flowtab;

int kz_tel_flowtab_init(kz_tel_flowtab *t, uint32_t cap, int64_t idle_us, kz_tel_flow_emit emit,
                        void *ctx);
void kz_tel_flowtab_free(kz_tel_flowtab *t);
/* Count one packet; emits (and frees) idle flows first and the oldest flow when full. */
void kz_tel_flowtab_packet(kz_tel_flowtab *t, const kz_tel_flowkey *k, uint32_t bytes,
                           int64_t ts_us, uint64_t pktno);
/* Emit and remove every flow. */
void kz_tel_flowtab_flush(kz_tel_flowtab *t);

#endif
