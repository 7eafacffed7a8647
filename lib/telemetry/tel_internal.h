/*
 * Internal helpers shared by the telemetry decoders: reporting, number/time parsing, the
 * JSON path scanner and the field setter common to Zeek and EVE. Not part of the public API.
 */
#ifndef KZ_TEL_INTERNAL_H
#define KZ_TEL_INTERNAL_H

#include <kizuna/core.h>
#include <kizuna/telemetry.h>

#include <string.h>

/* Count a malformed unit and tell the sink. */
void kz_tel_report(const kz_tel_sink *sink, kz_tel_stats *st, const char *input, uint64_t pos,
                   kz_tel_reason r, const char *fmt, ...) KZ_PRINTF(6, 7);

void kz_tel_record_reset(kz_tel_record *r);

/* "1300475167.096535" (Zeek epoch): 1 parsed, 0 placeholder ("XXXX..." or "-"), -1 bad. */
int kz_tel_parse_epoch(const char *s, size_t n, int64_t *us);
/* RFC 3339 / ISO 8601 with Z, +hhmm or +hh:mm (EVE, Zeek JSON ISO timestamps): 1 or -1. */
int kz_tel_parse_iso(const char *s, size_t n, int64_t *us);
/* Unsigned decimal; -1 when empty, not all digits or overflowing. */
int kz_tel_parse_u64(const char *s, size_t n, uint64_t *v);
/* "tcp", "UDP", "IPv6-ICMP", "6"... to an IP protocol number; 0 when unknown. */
uint8_t kz_tel_proto_from_name(const char *s, size_t n);
/* DNS type mnemonic ("A", "AAAA", ...) or decimal to its number; 0 when unknown. */
uint16_t kz_tel_dns_type_from_name(const char *s, size_t n);

/* ---- JSON scanning ------------------------------------------------------------------- */

/* Scalars reported by the scanner: strings are unescaped in place. */
enum { KZ_TEL_J_STR = 's', KZ_TEL_J_NUM = 'n', KZ_TEL_J_TRUE = 't', KZ_TEL_J_FALSE = 'f',
       KZ_TEL_J_NULL = 'z' };

/* A static map from dotted key path ("dns.answers.rdata"; array levels add nothing) to a
 * field id, built once per decoder. It also knows every proper prefix of a mapped path, so
 * the scanner descends only into objects that lead somewhere and skips the rest fast. */
typedef struct kz_tel_jmap_entry {
    const char *path;
    int id; /* >= 1; add KZ_TEL_JMAP_SUBTREE to give every scalar below an object this id */
} kz_tel_jmap_entry;

#define KZ_TEL_JMAP_SUBTREE 0x4000
#define KZ_TEL_JMAP_SLOTS 1024
typedef struct kz_tel_jmap {
    const char *key[KZ_TEL_JMAP_SLOTS]; /* NULL: empty slot */
    uint32_t hash[KZ_TEL_JMAP_SLOTS];   /* high half of kz_tel_jmap_hash: most misses end here */
    uint8_t len[KZ_TEL_JMAP_SLOTS];
    int16_t id[KZ_TEL_JMAP_SLOTS];    /* 0 for a pure prefix */
    bool prefix[KZ_TEL_JMAP_SLOTS];   /* some mapped path continues below this one */
} kz_tel_jmap;

void kz_tel_jmap_init(kz_tel_jmap *m, const kz_tel_jmap_entry *e, size_t n);
/* Field id for path, 0 when not mapped; *prefix (may be NULL) tells whether mapped paths
 * continue below it. */
int kz_tel_jmap_get(const kz_tel_jmap *m, const char *path, size_t n, bool *prefix);

/* The path hash, built one dot-separated component at a time, eight bytes per multiply:
 * the hash of "a.b" is the hash of "a" continued over "b", so the scanner hashes only each
 * new key, never the whole path again. A key that itself holds dots ("a.b" as one key) is
 * split the same way, so it hashes as the dotted path text it makes, as before. */
#define KZ_TEL_JMAP_HASH0 0x243f6a8885a308d3ull
#define KZ_TEL_JMAP_K 0x9e3779b97f4a7c15ull
/* avail: bytes readable from s (>= n); with 8 of them past the last whole word, the tail is
 * read as one masked word instead of byte by byte. */
static inline uint64_t kz_tel_jmap_piece(uint64_t h, const char *s, size_t n, size_t avail,
                                         uint64_t *dots)
{
    h = (h ^ (n + 0x100)) * KZ_TEL_JMAP_K;
    size_t i = 0;
    uint64_t d = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t x = w ^ 0x2e2e2e2e2e2e2e2eull; /* a zero byte where w has a '.' */
        d |= (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
        h = (h ^ w) * KZ_TEL_JMAP_K;
    }
    if (i < n) {
        uint64_t w = 0;
        if (i + 8 <= avail) {
            memcpy(&w, s + i, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            w &= ~0ull >> (8 * (8 - (n - i)));
#else
            w &= ~0ull << (8 * (8 - (n - i)));
            w = __builtin_bswap64(w); /* the same value as the byte loop below */
#endif
            /* masked-off bytes are 0, never '.' */
            uint64_t x = w ^ 0x2e2e2e2e2e2e2e2eull;
            d |= (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
        } else {
            for (size_t j = 0; i + j < n; j++) {
                d |= s[i + j] == '.';
                w |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
            }
        }
        h = (h ^ w) * KZ_TEL_JMAP_K;
    }
    *dots = d;
    return h;
}
/* h: the hash of the path so far, KZ_TEL_JMAP_HASH0 for none; avail as above. */
static inline uint64_t kz_tel_jmap_hash_in(uint64_t h, const char *s, size_t n, size_t avail)
{
    uint64_t dots;
    uint64_t r = kz_tel_jmap_piece(h, s, n, avail, &dots);
    if (!dots)
        return r;
    for (;;) {
        const char *e = memchr(s, '.', n);
        size_t k = e ? (size_t)(e - s) : n;
        h = kz_tel_jmap_piece(h, s, k, k, &dots);
        if (!e)
            return h;
        n -= k + 1;
        s = e + 1;
    }
}
static inline uint64_t kz_tel_jmap_hash(uint64_t h, const char *s, size_t n)
{
    return kz_tel_jmap_hash_in(h, s, n, n);
}
/* kz_tel_jmap_get for a path whose hash is known. */
int kz_tel_jmap_get_h(const kz_tel_jmap *m, const char *path, size_t n, uint64_t hash,
                      bool *prefix);

/* Called for each scalar whose path is mapped; strings are unescaped in place. path is the
 * full dotted path (for error messages). */
typedef void (*kz_tel_json_fn)(void *ctx, int id, int type, char *v, size_t vn,
                               const char *path, size_t path_len);

/* Walk one JSON object text, reporting the mapped scalars. Unmapped subtrees are skipped
 * checking only that strings end and brackets balance. 0 ok; -1 syntax error; -2 nesting
 * deeper than 32. *errpos receives the byte offset of a syntax error. */
int kz_tel_json_walk(char *s, size_t n, const kz_tel_jmap *m, kz_tel_json_fn fn, void *ctx,
                     size_t *errpos);

/* ---- field ids and setter shared by Zeek and EVE --------------------------------------- */

enum kz_tel_field {
    KZ_F_NONE = 0,
    KZ_F_TS,      /* epoch number or ISO text */
    KZ_F_UID,
    KZ_F_SRC,
    KZ_F_SPORT,
    KZ_F_DST,
    KZ_F_DPORT,
    KZ_F_PROTO,
    KZ_F_LOG,     /* _path / event_type */
    KZ_F_DNS_QUERY,
    KZ_F_DNS_QTYPE, /* numeric or mnemonic */
    KZ_F_DNS_ANSWER,
    KZ_F_DNS_DIR,   /* EVE dns.type: query/request or answer/response */
    KZ_F_HTTP_METHOD,
    KZ_F_HTTP_HOST,
    KZ_F_HTTP_URI,
    KZ_F_HTTP_UA,
    KZ_F_HTTP_REFERRER,
    KZ_F_TLS_SNI,
    KZ_F_TLS_VERSION,
    KZ_F_JA3,
    KZ_F_JA3_STRING,
    KZ_F_JA3S,
    KZ_F_JA3S_STRING,
    KZ_F_JA4,
    KZ_F_SUBJECT,   /* certificate subject, or mail subject in smtp logs */
    KZ_F_X509_SUBJECT,
    KZ_F_X509_ISSUER,
    KZ_F_X509_SERIAL,
    KZ_F_X509_FP,
    KZ_F_FILE_NAME,
    KZ_F_MD5,
    KZ_F_SHA1,
    KZ_F_SHA256,
    KZ_F_MIME,
    KZ_F_MAIL_FROM,
    KZ_F_MAIL_TO,
    KZ_F_MAIL_SUBJECT,
    KZ_F_BYTES_TS,
    KZ_F_BYTES_TC,
    KZ_F_PKTS_TS,
    KZ_F_PKTS_TC,
    KZ_F_DURATION, /* seconds with fraction */
    KZ_F_SIGNATURE,
    KZ_F_SIGNATURE_ID,
    KZ_F_CATEGORY,
    KZ_F_TX_HOST, /* files.log tx_hosts: the sender, used as src when no id.orig_h */
    KZ_F_RX_HOST,
    KZ_F_COUNT
};

/* Apply one value to the record. Returns -1, or the reason the value is unusable (the field
 * then stays unset). */
int kz_tel_set_field(kz_tel_record *r, int id, const char *v, size_t n);

/* Which kind a log / event name denotes. */
kz_tel_kind kz_tel_kind_from_log(const char *s, size_t n);

#endif
