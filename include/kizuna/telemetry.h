/*
 * kizuna telemetry: decoders for network telemetry (Zeek TSV and JSON logs, Suricata EVE JSON,
 * pcap/pcapng files and live interfaces) into one compact record, kz_tel_record.
 *
 * Model: a decoder is fed lines (text formats) or packets (pcap) and calls the sink's record
 * callback once per record it recognises. The record's strings (kz_tel_str) point into the
 * decoder's own line buffer or a per-decoder scratch area: they are valid only during the
 * callback, are not NUL-terminated, and cost no allocation. Copy what you keep.
 *
 * Bad input: a malformed line or packet never stops a decoder. It is counted by reason in the
 * decoder's kz_tel_stats and reported through the sink's malformed callback (input name, line
 * or packet number, reason, a short detail). The library never prints.
 *
 * Ownership: *_new returns a decoder to free with the matching *_free; names passed to *_new
 * are copied. Thread-safety: a decoder is used by one thread at a time; decoders share no
 * state, so one per thread runs in parallel. Errors: functions returning int give 0 on
 * success and -1 on failure with a message in err (when err is not NULL).
 */
#ifndef KIZUNA_TELEMETRY_H
#define KIZUNA_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A byte range inside the decoder's buffer: p == NULL means absent; n may be 0 (present but
 * empty). Not NUL-terminated. */
typedef struct kz_tel_str {
    const char *p;
    uint32_t n;
} kz_tel_str;

typedef enum kz_tel_input {
    KZ_TEL_IN_ZEEK = 1, /* Zeek TSV or JSON log (a file may hold either; auto-detected) */
    KZ_TEL_IN_EVE,      /* Suricata EVE JSON lines */
    KZ_TEL_IN_PCAP,     /* pcap / pcapng file */
    KZ_TEL_IN_IFACE     /* live interface */
} kz_tel_input;

/* What a record describes: drives which fields are set. */
typedef enum kz_tel_kind {
    KZ_TEL_OTHER = 0, /* a log we only read generic fields from */
    KZ_TEL_CONN,      /* Zeek conn, EVE flow/netflow, pcap flow: byte and packet counts */
    KZ_TEL_DNS,
    KZ_TEL_HTTP,
    KZ_TEL_TLS, /* Zeek ssl, EVE tls and quic, pcap ClientHello/ServerHello */
    KZ_TEL_X509,
    KZ_TEL_FILE, /* Zeek files, EVE fileinfo */
    KZ_TEL_SMTP, /* Zeek smtp, EVE smtp and email */
    KZ_TEL_ALERT /* Zeek notice and weird, EVE alert */
} kz_tel_kind;

/* An IP address in network byte order. family 0: absent; 4: b[0..3]; 6: b[0..15]. */
typedef struct kz_tel_addr {
    uint8_t family;
    uint8_t b[16];
    /* the text it was parsed from when that is exactly its canonical text (an IPv4 address
     * without leading zeros, as logs write them), so that the sensor need not format it
     * again; empty otherwise (IPv6, packets) */
    kz_tel_str text;
} kz_tel_addr;

#define KZ_TEL_MAX_ANSWERS 16 /* further DNS answers are dropped (counted in n_dropped) */
#define KZ_TEL_MAX_RCPT 16    /* further mail recipients are dropped */

/*
 * One decoded record. About 1.1 KB, reused by the decoder for every record (zeroed fields
 * between records): nothing here is allocated per record.
 */
typedef struct kz_tel_record { // NOLINT(clang-analyzer-optin.performance.Padding): grouped by meaning; one per decoder
    /* where it came from */
    kz_tel_input input;
    const char *input_name; /* as given to *_new */
    uint64_t pos;           /* 1-based line number, or 1-based packet number */
    kz_tel_kind kind;
    kz_tel_str log; /* Zeek #path / _path, EVE event_type, or the pcap analyser ("dns", ...) */

    int64_t ts_us; /* microseconds since the epoch; valid when has_ts */
    bool has_ts;

    /* 5-tuple, originator first (Zeek orig/resp, EVE src/dest as logged) */
    kz_tel_addr src, dst;
    uint16_t sport, dport;
    bool has_ports;
    uint8_t proto;  /* IP protocol number (6 TCP, 17 UDP, 1 ICMP, ...); 0 unknown */
    kz_tel_str uid; /* Zeek uid, EVE flow_id */

    /* DNS: answers are text, addresses in their usual notation and names */
    kz_tel_str dns_query;
    uint16_t dns_qtype; /* 0 when unknown */
    bool dns_response;  /* the record carries an answer section (possibly empty) */
    uint8_t n_dns_answers;
    kz_tel_str dns_answers[KZ_TEL_MAX_ANSWERS];

    /* HTTP */
    kz_tel_str http_method, http_host, http_uri, http_user_agent, http_referrer;

    /* TLS / QUIC: ja3/ja3s are the MD5 hex; *_string the JA3 text they hash */
    kz_tel_str tls_sni, tls_version, ja3, ja3_string, ja3s, ja3s_string, ja4;

    /* X.509 */
    kz_tel_str x509_subject, x509_issuer, x509_serial, x509_fingerprint;

    /* files */
    kz_tel_str file_name, file_md5, file_sha1, file_sha256, file_mime;

    /* mail */
    kz_tel_str mail_from, mail_subject;
    uint8_t n_mail_to;
    kz_tel_str mail_to[KZ_TEL_MAX_RCPT];

    /* flow counters, originator (to server) and responder (to client) sides */
    bool has_flow;
    uint64_t bytes_toserver, bytes_toclient, pkts_toserver, pkts_toclient;
    int64_t duration_us;

    /* alert (EVE), notice note / weird name (Zeek) */
    kz_tel_str alert_signature, alert_category;
    uint64_t alert_signature_id;

    uint32_t n_dropped; /* list entries beyond the fixed arrays */
} kz_tel_record;

/* Why a line or packet was rejected (or partly decoded). */
typedef enum kz_tel_reason {
    KZ_TEL_R_LINE_TOO_LONG = 0,
    KZ_TEL_R_ZEEK_NO_HEADER,   /* data row before any #fields header */
    KZ_TEL_R_ZEEK_BAD_HEADER,  /* #separator/#fields/#types unusable */
    KZ_TEL_R_ZEEK_FIELD_COUNT, /* row column count differs from #fields */
    KZ_TEL_R_BAD_TIME,
    KZ_TEL_R_BAD_ADDR,
    KZ_TEL_R_BAD_PORT,
    KZ_TEL_R_BAD_NUMBER,
    KZ_TEL_R_JSON_SYNTAX,
    KZ_TEL_R_JSON_TOO_DEEP,
    KZ_TEL_R_EVE_NO_EVENT_TYPE,
    KZ_TEL_R_PKT_TRUNCATED,    /* a header extends past the captured bytes */
    KZ_TEL_R_PKT_BAD_IP,       /* bad version, header length or total length */
    KZ_TEL_R_PKT_UNSUPPORTED_LINK,
    KZ_TEL_R_DNS_MALFORMED,
    KZ_TEL_R_DNS_NAME_LOOP,    /* compression pointers that do not move strictly backwards */
    KZ_TEL_R_TLS_MALFORMED,
    KZ_TEL_R_IO,               /* read or decompression error */
    KZ_TEL_R_COUNT
} kz_tel_reason;

/* A stable short name for a reason ("zeek_field_count", ...), for logs and counters. */
const char *kz_tel_reason_name(kz_tel_reason r);

typedef struct kz_tel_malformed {
    const char *input_name;
    uint64_t pos; /* line or packet number, 0 when not tied to one */
    kz_tel_reason reason;
    const char *detail; /* short NUL-terminated text, valid during the callback */
} kz_tel_malformed;

/* Where records go. record may be NULL (count only); malformed may be NULL. */
typedef struct kz_tel_sink {
    void (*record)(void *ctx, const kz_tel_record *r);
    void (*malformed)(void *ctx, const kz_tel_malformed *m);
    void *ctx;
} kz_tel_sink;

typedef struct kz_tel_stats {
    uint64_t units;   /* lines or packets seen */
    uint64_t records; /* records emitted */
    uint64_t bytes;   /* input bytes (line bytes, or packet wire lengths) */
    uint64_t malformed[KZ_TEL_R_COUNT];
    uint64_t malformed_total;
    /* pcap only: informational counters, not errors */
    uint64_t ip_fragments;   /* non-first fragments are counted and not reassembled */
    uint64_t tls_partial;    /* ClientHello split across segments: decoded up to the cut */
    uint64_t flows_evicted;  /* flows ended because the table was full */
    uint64_t non_ip;         /* ARP, STP, ...: skipped */
} kz_tel_stats;

/* ---- line-oriented input shared by the text decoders --------------------------------- */

/* Called per line without its newline; the line is writable (decoders unescape in place). */
typedef int (*kz_tel_line_fn)(void *dec, char *line, size_t len);

/* Read a plain or gzip-compressed file (zlib detects which) line by line into fn. Lines
 * longer than max_line (0: 1 MiB) are skipped and reported through on_long (may be NULL)
 * as their line number. Returns 0 at end of file, -1 on an open/read error (err set). */
int kz_tel_read_lines(const char *path, size_t max_line, kz_tel_line_fn fn, void *dec,
                      void (*on_long)(void *dec, uint64_t line), char *err, size_t errlen);

/* ---- Zeek logs (TSV with headers, or JSON one object per line) ------------------------ */

typedef struct kz_tel_zeek kz_tel_zeek;

/* input_name names the input in reports (e.g. the path). For JSON logs without a _path
 * field the log name is taken from the input name's base name up to the first dot
 * ("dns.log.gz" -> "dns"). Returns NULL when out of memory. */
kz_tel_zeek *kz_tel_zeek_new(const char *input_name, const kz_tel_sink *sink);
void kz_tel_zeek_free(kz_tel_zeek *z);
/* Feed one line (no newline). Header lines update the decoder; data lines emit a record or
 * a malformed report. Always returns 0 (bad lines are counted, not fatal). */
int kz_tel_zeek_line(kz_tel_zeek *z, char *line, size_t len);
/* Decode a whole file, plain or gzip'd. -1 only when the file cannot be read. */
int kz_tel_zeek_file(kz_tel_zeek *z, const char *path, char *err, size_t errlen);
const kz_tel_stats *kz_tel_zeek_stats(const kz_tel_zeek *z);

/* ---- Suricata EVE JSON --------------------------------------------------------------- */

typedef struct kz_tel_eve kz_tel_eve;

kz_tel_eve *kz_tel_eve_new(const char *input_name, const kz_tel_sink *sink);
void kz_tel_eve_free(kz_tel_eve *e);
int kz_tel_eve_line(kz_tel_eve *e, char *line, size_t len);
int kz_tel_eve_file(kz_tel_eve *e, const char *path, char *err, size_t errlen);
const kz_tel_stats *kz_tel_eve_stats(const kz_tel_eve *e);

/* ---- packets ------------------------------------------------------------------------- */

typedef struct kz_tel_pcap kz_tel_pcap;

typedef struct kz_tel_pcap_opts {
    uint32_t flow_table_size; /* most flows tracked at once (0: 65536); the least recently
                                 seen is emitted and evicted when full */
    uint32_t flow_idle_s;     /* flows idle this long in packet time are emitted (0: 60) */
    bool no_flows;            /* do not track flows (no KZ_TEL_CONN records) */
} kz_tel_pcap_opts;

/* A packet decoder independent of where packets come from. opts may be NULL. */
kz_tel_pcap *kz_tel_pcap_new(const char *input_name, const kz_tel_sink *sink,
                             const kz_tel_pcap_opts *opts);
void kz_tel_pcap_free(kz_tel_pcap *p);
/* Decode one captured packet: linktype is the pcap LINKTYPE_/DLT_ value, data/caplen the
 * captured bytes, wirelen the original length, ts_us the capture time. */
void kz_tel_pcap_packet(kz_tel_pcap *p, int linktype, const uint8_t *data, uint32_t caplen,
                        uint32_t wirelen, int64_t ts_us);
/* Emit every flow still in the table (end of input). */
void kz_tel_pcap_flush(kz_tel_pcap *p);
/* Read a pcap or pcapng file to the end, then flush. -1 when it cannot be opened/read. */
int kz_tel_pcap_file(kz_tel_pcap *p, const char *path, char *err, size_t errlen);
/* Capture from a live interface until *stop becomes true (stop may be NULL), max_packets
 * (0: no limit) have been seen, or kz_tel_pcap_live_stop is called; then flush. *stop is
 * looked at between reads, and a read waits at most about 200 ms even when no packet
 * arrives. -1 when the interface cannot be opened (no such device, no permission). */
int kz_tel_pcap_live(kz_tel_pcap *p, const char *iface, const volatile bool *stop,
                     uint64_t max_packets, char *err, size_t errlen);
/* Make kz_tel_pcap_live on p return as soon as it can: a read waiting for packets is woken
 * at once (pcap_breakloop). Safe from any thread, but not from a signal handler (set *stop
 * there). A stop that comes before the capture has started ends it as soon as it starts;
 * each stop ends one capture. */
void kz_tel_pcap_live_stop(kz_tel_pcap *p);
const kz_tel_stats *kz_tel_pcap_stats(const kz_tel_pcap *p);

/* ---- helpers the decoders use, public for the sensor and the tests -------------------- */

/* True when s equals the NUL-terminated lit. */
bool kz_tel_str_eq(kz_tel_str s, const char *lit);
/* Parse an IPv4 or IPv6 address in text form. Returns 0 or -1. */
int kz_tel_addr_parse(const char *s, size_t n, kz_tel_addr *a);
/* Format an address (buf of at least 46 bytes). */
const char *kz_tel_addr_format(const kz_tel_addr *a, char *buf, size_t len);
/* The same text as kz_tel_addr_format (inet_ntop's), without a size check: buf holds at
 * least KZ_TEL_ADDR_TEXT_MAX bytes. Returns the length (0 for family 0). */
#define KZ_TEL_ADDR_TEXT_MAX 46
size_t kz_tel_addr_text(const kz_tel_addr *a, char *buf);
/* The same for 4 (family 4) or 16 (family 6) address bytes. */
size_t kz_tel_ip_text(int family, const uint8_t *b, char *buf);

/*
 * TLS ClientHello / ServerHello fingerprints from a handshake message (starting at the
 * handshake type byte). Fills sni, ja3_string, ja3 (MD5 hex) and, for a ClientHello, ja4
 * (quic selects the 'q' prefix). Strings are written into scratch (at least 4096 bytes).
 * Returns 1 for a ClientHello, 2 for a ServerHello, 0 for another handshake type, -1 when
 * malformed; *partial is set when the message was cut short and decoded up to the cut.
 */
int kz_tel_tls_hello(const uint8_t *hs, size_t len, bool quic, kz_tel_record *r, char *scratch,
                     size_t scratch_len, bool *partial);

#endif
