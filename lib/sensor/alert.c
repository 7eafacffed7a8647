/*
 * Sensor alerts: one hit on one telemetry record as one JSON line, with Suricata EVE `alert`
 * field names (timestamp, event_type, src_ip, src_port, dest_ip, dest_port, proto, alert{...})
 * so SIEM pipelines that read EVE take it, plus the indicator's context and the place in the
 * input (input + line or packet).
 *
 * Invariants: the output is one JSON object without a newline; record text that is not valid
 * UTF-8 is left out rather than emitted as invalid JSON. The line is written directly, not
 * built as a jansson tree and dumped: under attack every record may alert, and the tree, its
 * dump and the parse of the indicator's context were 60% of the sensor's time when a quarter
 * of the records hit. The context (the engine's canonical JSON) is copied value by value.
 */
#include <kizuna/json.h>
#include <kizuna/sensor.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kz_sensor_severity(long confidence, bool has_confidence)
{
    if (!has_confidence)
        return 2;
    if (confidence >= 70)
        return 1;
    if (confidence >= 30)
        return 2;
    return 3;
}

/* ---- a compact JSON writer over kz_json_put_string and kz_json_canonical ---------------- */

typedef struct jw {
    kz_buf *b;
    bool first; /* no member written yet in the current object */
} jw;

static void jw_key(jw *w, const char *k)
{
    if (!w->first)
        kz_buf_putc(w->b, ',');
    w->first = false;
    kz_json_put_string(w->b, k, strlen(k));
    kz_buf_putc(w->b, ':');
}

/* A member with string value s (n bytes); left out when s is absent or not UTF-8. */
static void jw_mstr(jw *w, const char *k, const char *s, size_t n)
{
    if (!s || !kz_utf8_valid(s, n))
        return;
    jw_key(w, k);
    kz_json_put_string(w->b, s, n);
}

static void jw_mint(jw *w, const char *k, int64_t v)
{
    char t[24];
    jw_key(w, k);
    kz_buf_append(w->b, t, (size_t)snprintf(t, sizeof t, "%" PRId64, v));
}

/* ---- the indicator's context: the engine's canonical JSON, trusted ---------------------- */

/* The text of member `name` of the top-level object in ctx (valid compact JSON the engine
 * wrote: "name":value pairs, no whitespace), or NULL. */
static const char *ctx_member(const char *ctx, const char *name, size_t *len)
{
    if (!ctx || *ctx != '{')
        return NULL;
    size_t nl = strlen(name);
    const char *p = ctx + 1;
    while (*p == '"') {
        /* the key */
        const char *k = ++p;
        while (*p && *p != '"')
            p += *p == '\\' && p[1] ? 2 : 1;
        if (!*p)
            return NULL;
        bool match = (size_t)(p - k) == nl && memcmp(k, name, nl) == 0;
        p++;
        if (*p != ':')
            return NULL;
        const char *v = ++p;
        /* the value's extent */
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                for (p++; *p && *p != '"'; p += *p == '\\' && p[1] ? 2 : 1)
                    ;
                if (!*p)
                    return NULL;
                continue;
            }
            if (*p == '[' || *p == '{')
                depth++;
            else if ((*p == ']' || *p == '}') && depth)
                depth--;
            else if ((*p == ',' || *p == '}') && !depth)
                break;
        }
        if (!*p)
            return NULL;
        if (match) {
            *len = (size_t)(p - v);
            return v;
        }
        if (*p == '}')
            return NULL;
        p++; /* the comma */
    }
    return NULL;
}

/* A member whose value is the text of context member `name`, when present. */
static const char *jw_mctx(jw *w, const char *k, const char *ctx, const char *name)
{
    size_t n;
    const char *v = ctx_member(ctx, name, &n);
    if (v) {
        jw_key(w, k);
        kz_buf_append(w->b, v, n);
    }
    return v;
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
    switch (p) {
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 58: return "IPv6-ICMP";
    case 132: return "SCTP";
    default: snprintf(buf, len, "%u", (unsigned)p); return buf;
    }
}

static const char *input_kind(kz_tel_input k)
{
    switch (k) {
    case KZ_TEL_IN_ZEEK: return "zeek";
    case KZ_TEL_IN_EVE: return "eve";
    case KZ_TEL_IN_PCAP: return "pcap";
    case KZ_TEL_IN_IFACE: return "iface";
    }
    return "unknown";
}

/* The record's key fields, by what it describes. */
static void record_fields(kz_buf *b, const kz_tel_record *r)
{
    jw w = {b, true};
    kz_buf_putc(b, '{');
#define STR(k, f) jw_mstr(&w, k, r->f.p, r->f.n)
    STR("log", log);
    STR("uid", uid);
    STR("dns_query", dns_query);
    if (r->n_dns_answers) {
        jw_key(&w, "dns_answers");
        kz_buf_putc(b, '[');
        bool first = true;
        for (unsigned i = 0; i < r->n_dns_answers && i < KZ_TEL_MAX_ANSWERS; i++) {
            const kz_tel_str *a = &r->dns_answers[i];
            if (a->p && !kz_utf8_valid(a->p, a->n))
                continue;
            if (!first)
                kz_buf_putc(b, ',');
            first = false;
            kz_json_put_string(b, a->p ? a->p : "", a->p ? a->n : 0);
        }
        kz_buf_putc(b, ']');
    }
    STR("http_method", http_method);
    STR("http_host", http_host);
    STR("http_uri", http_uri);
    STR("http_user_agent", http_user_agent);
    STR("tls_sni", tls_sni);
    STR("ja3", ja3);
    STR("ja3s", ja3s);
    STR("ja4", ja4);
    STR("x509_subject", x509_subject);
    STR("x509_issuer", x509_issuer);
    STR("x509_serial", x509_serial);
    STR("file_name", file_name);
    STR("md5", file_md5);
    STR("sha1", file_sha1);
    STR("sha256", file_sha256);
    STR("mail_from", mail_from);
    STR("mail_subject", mail_subject);
#undef STR
    if (r->has_flow) {
        jw_mint(&w, "bytes_toserver", (int64_t)r->bytes_toserver);
        jw_mint(&w, "bytes_toclient", (int64_t)r->bytes_toclient);
        jw_mint(&w, "pkts_toserver", (int64_t)r->pkts_toserver);
        jw_mint(&w, "pkts_toclient", (int64_t)r->pkts_toclient);
    }
    kz_buf_putc(b, '}');
}

/* The alert's own top-level members, which extra's members may not repeat. */
static const char *const own_keys[] = {"timestamp", "event_type", "src_ip",  "src_port",
                                       "dest_ip",   "dest_port",  "proto",   "sensor",
                                       "input_type", "input",     "line",    "packet",
                                       "alert",     "record"};

int kz_sensor_alert_format(kz_buf *out, const kz_tel_record *r, const kz_engine_hit *hit,
                           const char *sensor, json_t *extra)
{
    char ts[40], ab[48], pb[8];
    size_t start = out->len;
    jw w = {out, true};
    kz_buf_putc(out, '{');
    kz_time_format(r->has_ts ? r->ts_us : kz_time_now_us(), 6, ts, sizeof ts);
    jw_mstr(&w, "timestamp", ts, strlen(ts));
    jw_mstr(&w, "event_type", "alert", 5);
    if (r->src.family && kz_tel_addr_format(&r->src, ab, sizeof ab))
        jw_mstr(&w, "src_ip", ab, strlen(ab));
    if (r->has_ports)
        jw_mint(&w, "src_port", r->sport);
    if (r->dst.family && kz_tel_addr_format(&r->dst, ab, sizeof ab))
        jw_mstr(&w, "dest_ip", ab, strlen(ab));
    if (r->has_ports)
        jw_mint(&w, "dest_port", r->dport);
    if (r->proto) {
        const char *pn = proto_name(r->proto, pb, sizeof pb);
        jw_mstr(&w, "proto", pn, strlen(pn));
    }
    if (sensor)
        jw_mstr(&w, "sensor", sensor, strlen(sensor));
    const char *ik = input_kind(r->input);
    jw_mstr(&w, "input_type", ik, strlen(ik));
    if (r->input_name)
        jw_mstr(&w, "input", r->input_name, strlen(r->input_name));
    jw_mint(&w, r->input == KZ_TEL_IN_PCAP || r->input == KZ_TEL_IN_IFACE ? "packet" : "line",
            (int64_t)r->pos);

    /* alert */
    const char *ctx = hit->context_json;
    jw_key(&w, "alert");
    jw a = {out, true};
    kz_buf_putc(out, '{');
    jw_mstr(&a, "action", "allowed", 7);
    const char *sig = hit->name ? hit->name : hit->id;
    jw_mstr(&a, "signature", sig, strlen(sig));
    jw_mstr(&a, "signature_id", hit->id, strlen(hit->id));
    if (!jw_mctx(&a, "category", ctx, "indicator_types")) {
        jw_key(&a, "category");
        kz_buf_puts(out, "[]");
    }
    size_t cl;
    const char *conf = ctx_member(ctx, "confidence", &cl);
    bool has_conf = conf && cl && (conf[0] == '-' || (conf[0] >= '0' && conf[0] <= '9')) &&
                    !memchr(conf, '.', cl) && !memchr(conf, 'e', cl) && !memchr(conf, 'E', cl);
    jw_mint(&a, "severity", kz_sensor_severity(has_conf ? strtol(conf, NULL, 10) : 0, has_conf));
    jw_key(&a, "metadata");
    jw md = {out, true};
    kz_buf_putc(out, '{');
    jw_mctx(&md, "confidence", ctx, "confidence");
    jw_mctx(&md, "created_by_ref", ctx, "created_by_ref");
    jw_mctx(&md, "markings", ctx, "object_marking_refs");
    jw_mctx(&md, "kill_chain_phases", ctx, "kill_chain_phases");
    if (hit->fired)
        jw_mstr(&md, "matched", hit->fired, strlen(hit->fired));
    if (hit->pattern)
        jw_mstr(&md, "pattern", hit->pattern, strlen(hit->pattern));
    kz_buf_puts(out, "}}");

    jw_key(&w, "record");
    record_fields(out, r);
    if (json_is_object(extra)) {
        const char *k;
        json_t *v;
        json_object_foreach(extra, k, v) {
            bool own = false;
            for (size_t i = 0; i < sizeof own_keys / sizeof *own_keys && !own; i++)
                own = strcmp(k, own_keys[i]) == 0;
            if (own || !kz_utf8_valid(k, strlen(k)))
                continue;
            size_t mark = out->len;
            jw_key(&w, k);
            if (kz_json_canonical(v, out) < 0 && !out->oom) { /* no JSON form: left out */
                out->len = mark;
                out->data[mark] = 0;
            }
        }
    }
    kz_buf_putc(out, '}');
    if (out->oom) {
        out->len = start;
        return -1;
    }
    return 0;
}
