/*
 * Sensor alerts: one hit on one telemetry record as one JSON line, with Suricata EVE `alert`
 * field names (timestamp, event_type, src_ip, src_port, dest_ip, dest_port, proto, alert{...})
 * so SIEM pipelines that read EVE take it, plus the indicator's context and the place in the
 * input (input + line or packet).
 *
 * Invariants: the output is one JSON object without a newline; record text that is not valid
 * UTF-8 is left out rather than emitted as invalid JSON. Alerts are rare next to records, so
 * the line is built with jansson for correct escaping, not on the per-record path.
 */
#include <kizuna/sensor.h>

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

static void set_str(json_t *o, const char *k, kz_tel_str s)
{
    if (!s.p)
        return;
    json_t *v = json_stringn(s.p, s.n);
    if (v)
        json_object_set_new(o, k, v);
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
static json_t *record_fields(const kz_tel_record *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set_str(o, "log", r->log);
    set_str(o, "uid", r->uid);
    set_str(o, "dns_query", r->dns_query);
    if (r->n_dns_answers) {
        json_t *a = json_array();
        for (unsigned i = 0; a && i < r->n_dns_answers && i < KZ_TEL_MAX_ANSWERS; i++) {
            json_t *v = json_stringn(r->dns_answers[i].p ? r->dns_answers[i].p : "",
                                     r->dns_answers[i].n);
            if (v)
                json_array_append_new(a, v);
        }
        if (a)
            json_object_set_new(o, "dns_answers", a);
    }
    set_str(o, "http_method", r->http_method);
    set_str(o, "http_host", r->http_host);
    set_str(o, "http_uri", r->http_uri);
    set_str(o, "http_user_agent", r->http_user_agent);
    set_str(o, "tls_sni", r->tls_sni);
    set_str(o, "ja3", r->ja3);
    set_str(o, "ja3s", r->ja3s);
    set_str(o, "ja4", r->ja4);
    set_str(o, "x509_subject", r->x509_subject);
    set_str(o, "x509_issuer", r->x509_issuer);
    set_str(o, "x509_serial", r->x509_serial);
    set_str(o, "file_name", r->file_name);
    set_str(o, "md5", r->file_md5);
    set_str(o, "sha1", r->file_sha1);
    set_str(o, "sha256", r->file_sha256);
    set_str(o, "mail_from", r->mail_from);
    set_str(o, "mail_subject", r->mail_subject);
    if (r->has_flow) {
        json_object_set_new(o, "bytes_toserver", json_integer((json_int_t)r->bytes_toserver));
        json_object_set_new(o, "bytes_toclient", json_integer((json_int_t)r->bytes_toclient));
        json_object_set_new(o, "pkts_toserver", json_integer((json_int_t)r->pkts_toserver));
        json_object_set_new(o, "pkts_toclient", json_integer((json_int_t)r->pkts_toclient));
    }
    return o;
}

int kz_sensor_alert_format(kz_buf *out, const kz_tel_record *r, const kz_engine_hit *hit,
                           const char *sensor, json_t *extra)
{
    char ts[40], ab[48], pb[8];
    json_t *ctx = hit->context_json ? json_loads(hit->context_json, 0, NULL) : NULL;
    json_t *a = json_object(), *al = json_object(), *md = json_object();
    int rc = -1;
    if (!a || !al || !md)
        goto done;
    kz_time_format(r->has_ts ? r->ts_us : kz_time_now_us(), 6, ts, sizeof ts);
    json_object_set_new(a, "timestamp", json_string(ts));
    json_object_set_new(a, "event_type", json_string("alert"));
    if (r->src.family && kz_tel_addr_format(&r->src, ab, sizeof ab))
        json_object_set_new(a, "src_ip", json_string(ab));
    if (r->has_ports)
        json_object_set_new(a, "src_port", json_integer(r->sport));
    if (r->dst.family && kz_tel_addr_format(&r->dst, ab, sizeof ab))
        json_object_set_new(a, "dest_ip", json_string(ab));
    if (r->has_ports)
        json_object_set_new(a, "dest_port", json_integer(r->dport));
    if (r->proto)
        json_object_set_new(a, "proto", json_string(proto_name(r->proto, pb, sizeof pb)));
    if (sensor)
        json_object_set_new(a, "sensor", json_string(sensor));
    json_object_set_new(a, "input_type", json_string(input_kind(r->input)));
    if (r->input_name)
        json_object_set_new(a, "input", json_string(r->input_name));
    json_object_set_new(a, r->input == KZ_TEL_IN_PCAP || r->input == KZ_TEL_IN_IFACE ? "packet"
                                                                                    : "line",
                        json_integer((json_int_t)r->pos));

    json_object_set_new(al, "action", json_string("allowed"));
    json_object_set_new(al, "signature", json_string(hit->name ? hit->name : hit->id));
    json_object_set_new(al, "signature_id", json_string(hit->id));
    json_t *types = ctx ? json_object_get(ctx, "indicator_types") : NULL;
    json_object_set_new(al, "category", types ? json_incref(types) : json_array());
    json_t *conf = ctx ? json_object_get(ctx, "confidence") : NULL;
    json_object_set_new(al, "severity",
                        json_integer(kz_sensor_severity(
                            json_is_integer(conf) ? (long)json_integer_value(conf) : 0,
                            json_is_integer(conf))));
    if (conf)
        json_object_set(md, "confidence", conf);
    json_t *v = ctx ? json_object_get(ctx, "created_by_ref") : NULL;
    if (v)
        json_object_set(md, "created_by_ref", v);
    v = ctx ? json_object_get(ctx, "object_marking_refs") : NULL;
    if (v)
        json_object_set(md, "markings", v);
    v = ctx ? json_object_get(ctx, "kill_chain_phases") : NULL;
    if (v)
        json_object_set(md, "kill_chain_phases", v);
    if (hit->fired)
        json_object_set_new(md, "matched", json_string(hit->fired));
    if (hit->pattern)
        json_object_set_new(md, "pattern", json_string(hit->pattern));
    json_object_set_new(al, "metadata", md);
    md = NULL;
    json_object_set_new(a, "alert", al);
    al = NULL;
    json_t *rf = record_fields(r);
    if (rf)
        json_object_set_new(a, "record", rf);
    if (json_is_object(extra))
        json_object_update(a, extra);
    char *s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        rc = kz_buf_puts(out, s);
        free(s);
    }
done:
    json_decref(ctx);
    json_decref(a);
    json_decref(al);
    json_decref(md);
    return rc;
}
