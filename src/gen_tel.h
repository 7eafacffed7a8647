/* kizuna gen telemetry: internals shared by gen_telemetry.c, gen_plan.c and gen_wire.c. */
#ifndef KZ_GEN_TEL_H
#define KZ_GEN_TEL_H

#include "gen.h"

#include <jansson.h>
#include <kizuna/pattern.h>

/* ---- the indicators' values (gen_plan.c) ---------------------------------------------- */

enum { GP_IP, GP_DOMAIN, GP_URL, GP_HASH };

/* One observation to plant: a value of one kind, and for addresses an optional port.
 * 32 bytes plus the value; path and algo point to static strings. */
typedef struct gen_part {
    int kind;
    unsigned port;    /* GP_IP: destination port the pattern requires, 0 = any */
    const char *path; /* the STIX object path that should fire, e.g. "domain-name:value" */
    const char *algo; /* GP_HASH: "MD5", "SHA-1" or "SHA-256" */
    char *value;      /* owned */
} gen_part;

#define GEN_MAX_PARTS 8
/* A plantable indicator (the others are only indexed, never stored). */
typedef struct gen_ind {
    char *id;        /* owned */
    long ord;        /* position among all indicators in the file: the owner in the index */
    gen_part *parts; /* owned, nparts of them, in the order to plant */
    size_t nparts;
} gen_ind;

/* Every value any indicator names (exact values, CIDRs, LIKE patterns) with the indicator
 * that owns it, so that background data can avoid all of them and a planted value can be
 * checked to fire its own indicator only. */
typedef struct gen_vindex {
    json_t *exact; /* "i:ip" "d:domain" "u:url" "h:hash" "s:.suffix" "c:net/len" -> owner */
    json_t *likes; /* array of [kind char, LIKE pattern, owner] not of the "%.suffix" form */
    bool v4len[33], v6len[129];
} gen_vindex;

#define GEN_OWNER_NONE (-1)
#define GEN_OWNER_MANY (-2)

typedef struct gen_indset {
    gen_ind *v; /* the plantable indicators, in file order */
    size_t n;
    size_t total; /* indicators in the file */
    gen_vindex vx;
} gen_indset;

/* Load indicators from a file and work out, per indicator, what to plant. The file is
 * scanned twice (index every value, then plan with the whole index known), one object at a
 * time, so memory holds the file's bytes and the index, never a DOM of the whole set.
 * 0, or -1 with a message in err. */
int gen_plan_load(const char *path, gen_rng *r, gen_indset *set, char *err, size_t errlen);
void gen_plan_free(gen_indset *set);
/* Owner of a value: kind is 'i' (address text), 'd' (domain), 'u' (url), 'h' (hash). */
int gen_vindex_owner(const gen_vindex *vx, char kind, const char *value);
/* Index every value of a parsed pattern's tree, owned by indicator `owner` (gen_vindex.c). */
void gen_vindex_add(gen_vindex *vx, const kz_pat_obs *o, int owner);
/* What a comparison's path is: 'i' address, 'I' source address (avoided, not planted), 'p'
 * destination port, 'd' domain, 'u' URL, 'h' file hash, 0 anything else; *path gets its
 * static text, *algo the hash algorithm when the logs carry it (MD5, SHA-1, SHA-256). */
char gen_path_kind(const kz_pat_path *pa, const char **path, const char **algo);
/* "addr" or "addr/len" into 16 bytes (IPv4 in the first 4); canonical text into canon when
 * given; *plen -1 without a length. 0, or -1 when not an address. */
int gen_parse_ip(const char *s, uint8_t b[16], bool *v6, int *plen, char *canon, size_t clen);
/* Clear the bits past plen of an address of `bits` bits. */
void gen_prefix_mask(uint8_t b[16], int plen, int bits);

/* http://host[:port]/path → parts (path "/" when absent); false for anything else. */
bool gen_url_split(const char *url, char *host, size_t hl, unsigned *port, char *path, size_t pl);

/* ---- packets (gen_wire.c) ------------------------------------------------------------- */

typedef struct gen_flow {
    bool v6;
    uint8_t proto; /* 6 or 17 */
    uint8_t cli[16], srv[16];
    uint16_t cport, sport;
    uint8_t cmac[6], smac[6];
    uint16_t vlan; /* 802.1Q VLAN id, 0 = untagged */
} gen_flow;

typedef struct gen_pcap {
    FILE *f;
    uint64_t packets;
} gen_pcap;

/* Write the classic libpcap global header (microsecond, Ethernet). */
int gen_pcap_begin(gen_pcap *p, FILE *f);
/* One frame from client (to_server) or server; returns the packet number (1-based) and adds
 * the IP datagram length to *ip_bytes. */
uint64_t gen_pcap_packet(gen_pcap *p, const gen_flow *fl, int64_t us, bool to_server,
                         uint8_t tcp_flags, uint32_t seq, uint32_t ack, const uint8_t *payload,
                         size_t len, uint64_t *ip_bytes);

enum { TCP_FIN = 1, TCP_SYN = 2, TCP_RST = 4, TCP_PSH = 8, TCP_ACK = 16 };

/* A DNS query or response (one A/AAAA answer) for qname; 0 when the name cannot be encoded. */
size_t gen_dns_message(uint8_t *out, size_t cap, uint16_t id, const char *qname, bool aaaa,
                       const uint8_t *answer, uint32_t ttl);

typedef struct gen_tls_fp {
    char ja3[512], ja3_hash[33], ja4[40];
    char ja3s[128], ja3s_hash[33];
} gen_tls_fp;

/* TLS ClientHello with SNI from one of a few browser-like profiles; fills ja3/ja4. */
size_t gen_tls_client_hello(uint8_t *out, size_t cap, gen_rng *r, int profile, const char *sni,
                            gen_tls_fp *fp);
/* ServerHello answering it (TLS 1.3 when tls13); fills ja3s. */
size_t gen_tls_server_hello(uint8_t *out, size_t cap, gen_rng *r, bool tls13, gen_tls_fp *fp);
#define GEN_TLS_PROFILES 3

/* ---- sessions (gen_telemetry.c), written as observed-data by gen_obs.c --------------- */

/* One session: what a sensor would see of one DNS lookup, HTTP request, file download, TLS
 * connection or plain TCP connection. */
enum { S_DNS, S_HTTP, S_TLS, S_FILE, S_CONN };

typedef struct gen_sess {
    int kind;
    gen_flow fl;
    char domain[256]; /* DNS query, HTTP host, TLS SNI */
    char uri[400];
    uint8_t ans[16];
    bool aaaa;
    uint32_t ttl;
    uint16_t txid;
    const char *ua;
    const char *mime;
    uint8_t body[1200];
    size_t body_len;
    char md5[33], sha1[41], sha256[65];
    int tls_profile;
    bool tls13;
    bool eve_v3;
    /* planted: */
    long hit;    /* -1 background */
    size_t ind;  /* indicator index */
    size_t part; /* part index */
} gen_sess;

/* One observed-data bundle (a JSON line) for a session seen from t0 to t1; the
 * observed-data id goes to od_id (60 bytes). Returns 0, or -1 when out of memory or the write
 * failed. */
int gen_obs_write(FILE *f, const gen_sess *s, int64_t t0, int64_t t1, gen_rng *r, char *od_id);

/* ---- one run (gen_telemetry.c drives it, gen_emit.c writes the outputs) -------------- */

typedef struct outf {
    FILE *f;
    const char *name;
    uint64_t line;
} outf;

typedef struct planted {
    uint64_t pos; /* emitted before background session pos */
    long hit;
    size_t ind, part;
} planted;

typedef struct gen_tel {
    const gen_tel_opts *o;
    gen_rng r;
    gen_indset set;
    outf conn, dns, http, ssl, files, eve, key, obs;
    gen_pcap pcap;
    int64_t now;
    gen_tel_stats *st;
    char *err;
    size_t errlen;
} gen_tel;

/* The Zeek headers (at start) and #close lines (at end) of the five logs. */
void gen_emit_begin(gen_tel *T);
void gen_emit_end(gen_tel *T);
/* Write one session to every output (or as observed-data in observation mode), with its
 * answer-key entries when planted. 0; 1 when the session cannot be encoded (skipped); -1 when
 * a write failed. */
int gen_emit(gen_tel *T, const gen_sess *s);
/* Address text of the client (srv false) or server end of a flow. */
void gen_ip_text(const gen_flow *fl, bool srv, char *out, size_t len);

/* Lowercase hex digest of data (alg one of GNUTLS_DIG_*) into out. */
void gen_digest_hex(int alg, const void *data, size_t len, char *out);

#endif
