/*
 * lib/sensor: the map from telemetry records to engine observations (checked through the
 * engine's own JSON form and by matching real indicators on every mapped path), alert lines,
 * and sighting aggregation (deterministic ids, buckets, the watermark).
 */
#include "kt.h"

#include <kizuna/sensor.h>

#include <stdint.h>
#include <string.h>

static kz_tel_str S(const char *s)
{
    return (kz_tel_str){s, (uint32_t)strlen(s)};
}

static const char *IND_FMT =
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
    "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
    "\"name\":\"n%s\",\"confidence\":%d,\"indicator_types\":[\"malicious-activity\"],"
    "\"pattern\":\"%s\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"}\n";

/* One indicator per mapped path; uuid suffix i identifies it in hits. */
static const char *const PATTERNS[] = {
    "[ipv4-addr:value = '198.51.100.7']",
    "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
    "[network-traffic:src_port = 51000]",
    "[domain-name:value = 'evil.test']",
    "[url:value = 'http://evil.test/gate.php?id=1']",
    "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'BadBot/1.0']",
    "[file:hashes.'SHA-256' = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']",
    "[file:hashes.'MD5' = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']",
    "[file:name = 'invoice.exe']",
    "[x509-certificate:subject = 'CN=evil.test']",
    "[x509-certificate:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']",
    "[x-kizuna-tls:ja3 = 'e7d705a3286e19ea42f587b344ee6865']",
    "[x-kizuna-tls:ja4 = 't13d1516h2_8daaf6152771_02713d6af862']",
    "[email-message:from_ref.value = 'boss@evil.test']",
    "[email-addr:value = 'victim@corp.test']",
    "[email-message:subject = 'Invoice due']",
    "[ipv6-addr:value = '2001:db8:bad::1']",
    "[domain-name:value = 'answer.evil.test']",
};
#define NPAT (sizeof PATTERNS / sizeof PATTERNS[0])

static kz_engine *engine_with_patterns(void)
{
    kz_engine *e = kz_engine_new(NULL);
    kz_buf b;
    kz_buf_init(&b);
    for (size_t i = 0; i < NPAT; i++) {
        char id[64], esc[512];
        size_t k = 0;
        for (const char *p = PATTERNS[i]; *p && k + 2 < sizeof esc; p++)
            esc[k++] = *p; /* no '"' or '\\' in the patterns: nothing to escape */
        esc[k] = 0;
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012zu", i);
        kz_buf_printf(&b, IND_FMT, id, id, (int)(i * 7 % 101), esc);
    }
    char err[256];
    kz_diags d;
    kz_diags_init(&d);
    long n = kz_engine_load(e, b.data, b.len, &d, err, sizeof err);
    KT_CHECK_MSG(n == (long)NPAT, "loaded %ld of %zu", n, NPAT);
    kz_diags_free(&d);
    kz_buf_free(&b);
    return e;
}

typedef struct hits {
    bool hit[NPAT];
    int n;
} hits;

static int on_hit(void *ctx, const kz_engine_hit *h)
{
    hits *H = ctx;
    size_t i = (size_t)strtoul(h->id + strlen("indicator--00000000-0000-4000-8000-"), NULL, 10);
    if (i < NPAT)
        H->hit[i] = true;
    H->n++;
    return 0;
}

static hits match(kz_engine *e, kz_sensor_map *m, const kz_tel_record *r)
{
    hits H = {0};
    kz_engine_record er;
    kz_sensor_map_record(m, r, 1700000000000000, &er);
    const kz_engine_gen *g = kz_engine_acquire(e);
    char err[256] = "";
    long n = kz_engine_match_record(g, &er, on_hit, &H, err, sizeof err);
    KT_CHECK_MSG(n >= 0, "match failed: %s", err);
    kz_engine_release(e, g);
    return H;
}

static void test_map_matches_every_path(void)
{
    kz_engine *e = engine_with_patterns();
    char err[256];
    kz_sensor_map *m = kz_sensor_map_new(e, err, sizeof err);
    KT_CHECK_MSG(m != NULL, "%s", err);
    if (!m) {
        kz_engine_free(e);
        return;
    }
    kz_tel_record r;

    /* a connection to an indicator address on 443, from port 51000 */
    memset(&r, 0, sizeof r);
    r.has_ts = true;
    r.ts_us = 1700000000000000;
    kz_tel_addr_parse("192.0.2.1", 9, &r.src);
    kz_tel_addr_parse("198.51.100.7", 12, &r.dst);
    r.has_ports = true;
    r.sport = 51000;
    r.dport = 443;
    hits H = match(e, m, &r);
    KT_CHECK(H.hit[0] && H.hit[1] && H.hit[2] && H.n == 3);
    r.dport = 80; /* the AND no longer holds */
    H = match(e, m, &r);
    KT_CHECK(H.hit[0] && !H.hit[1] && H.hit[2] && H.n == 2);
    /* a log's text with leading zeros is mapped as the canonical address, and still hits */
    kz_tel_addr_parse("198.051.100.007", 15, &r.dst);
    KT_CHECK(r.dst.text.n == 0);
    H = match(e, m, &r);
    KT_CHECK(H.hit[0] && !H.hit[1] && H.hit[2] && H.n == 2);
    kz_engine_record ez;
    kz_sensor_map_record(m, &r, 0, &ez);
    int canon = 0;
    for (size_t i = 0; i < ez.nfields; i++)
        canon += ez.fields[i].kind == KZ_EF_STR && ez.fields[i].len == 12 &&
                 memcmp(ez.fields[i].s, "198.51.100.7", 12) == 0;
    KT_CHECK(canon == 1);

    /* DNS: the query and an answer name and address */
    memset(&r, 0, sizeof r);
    r.dns_query = S("evil.test");
    r.n_dns_answers = 3;
    r.dns_answers[0] = S("answer.evil.test");
    r.dns_answers[1] = S("2001:db8:bad::1");
    r.dns_answers[2] = S("198.51.100.7");
    H = match(e, m, &r);
    KT_CHECK(H.hit[3] && H.hit[17] && H.hit[16] && H.hit[0] && H.n == 4);

    /* HTTP: URL from host + uri, the host as a name, the user agent */
    memset(&r, 0, sizeof r);
    r.http_method = S("GET");
    r.http_host = S("evil.test:80");
    r.http_uri = S("/gate.php?id=1");
    r.http_user_agent = S("BadBot/1.0");
    H = match(e, m, &r);
    KT_CHECK(!H.hit[4]); /* the port is part of the URL then */
    r.http_host = S("evil.test");
    H = match(e, m, &r);
    KT_CHECK(H.hit[3] && H.hit[4] && H.hit[5] && H.n == 3);
    r.http_uri = S("http://evil.test/gate.php?id=1"); /* proxy form: the URI is the URL */
    H = match(e, m, &r);
    KT_CHECK(H.hit[4]);

    /* files, certificates, TLS fingerprints, mail */
    memset(&r, 0, sizeof r);
    r.file_sha256 = S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    r.file_md5 = S("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    r.file_name = S("invoice.exe");
    H = match(e, m, &r);
    KT_CHECK(H.hit[6] && H.hit[7] && H.hit[8] && H.n == 3);
    memset(&r, 0, sizeof r);
    r.x509_subject = S("CN=evil.test");
    r.x509_fingerprint = S("01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67");
    r.tls_sni = S("evil.test");
    r.ja3 = S("e7d705a3286e19ea42f587b344ee6865");
    r.ja4 = S("t13d1516h2_8daaf6152771_02713d6af862");
    H = match(e, m, &r);
    KT_CHECK(H.hit[9] && H.hit[10] && H.hit[11] && H.hit[12] && H.hit[3] && H.n == 5);
    memset(&r, 0, sizeof r);
    r.mail_from = S("boss@evil.test");
    r.mail_subject = S("Invoice due");
    r.n_mail_to = 2;
    r.mail_to[0] = S("a@corp.test");
    r.mail_to[1] = S("victim@corp.test");
    H = match(e, m, &r);
    KT_CHECK(H.hit[13] && H.hit[14] && H.hit[15] && H.n == 3);

    /* invalid UTF-8 is left out, counted, and never makes the match fail */
    memset(&r, 0, sizeof r);
    r.dns_query = (kz_tel_str){"ev\xffil.test", 10};
    r.http_user_agent = S("BadBot/1.0");
    uint64_t before = kz_sensor_map_dropped(m);
    H = match(e, m, &r);
    KT_CHECK(H.hit[5] && H.n == 1);
    KT_CHECK(kz_sensor_map_dropped(m) == before + 1);

    /* the JSON the record stands for: types and references as STIX writes them */
    memset(&r, 0, sizeof r);
    kz_tel_addr_parse("192.0.2.1", 9, &r.src);
    kz_tel_addr_parse("2001:db8::2", 11, &r.dst);
    r.has_ports = true;
    r.sport = 1;
    r.dport = 53;
    r.has_ts = true;
    r.ts_us = 1700000000000000;
    r.dns_query = S("x.test");
    kz_engine_record er;
    KT_CHECK(kz_sensor_map_record(m, &r, 0, &er) == 4);
    json_t *od = kz_engine_record_to_json(e, &er, err, sizeof err);
    KT_CHECK_MSG(od != NULL, "%s", err);
    if (od) {
        json_t *objs = json_object_get(od, "objects");
        json_t *nt = json_object_get(objs, "0");
        KT_CHECK_STR(json_string_value(json_object_get(nt, "type")), "network-traffic");
        const char *dref = json_string_value(json_object_get(nt, "dst_ref"));
        json_t *dst = dref ? json_object_get(objs, dref) : NULL;
        KT_CHECK_STR(json_string_value(json_object_get(dst, "type")), "ipv6-addr");
        KT_CHECK_STR(json_string_value(json_object_get(dst, "value")), "2001:db8::2");
        KT_CHECK(json_integer_value(json_object_get(nt, "dst_port")) == 53);
        KT_CHECK_STR(json_string_value(json_object_get(od, "first_observed")),
                     "2023-11-14T22:13:20.000000Z");
        json_decref(od);
    }
    memset(&r, 0, sizeof r);
    KT_CHECK(kz_sensor_map_record(m, &r, 0, &er) == 0 && er.nfields == 0);
    kz_sensor_map_free(m);
    kz_engine_free(e);
}

typedef struct alert_ctx {
    kz_buf *b;
    const kz_tel_record *r;
} alert_ctx;

static int fmt_hit(void *ctx, const kz_engine_hit *h)
{
    alert_ctx *a = ctx;
    json_t *extra = json_pack("{s:[{s:s,s:i}]}", "related", "input", "x.log", "line", 3);
    KT_CHECK(kz_sensor_alert_format(a->b, a->r, h, "edge-1", extra) == 0);
    json_decref(extra);
    return 0;
}

static void test_alert_format(void)
{
    KT_CHECK(kz_sensor_severity(90, true) == 1);
    KT_CHECK(kz_sensor_severity(50, true) == 2);
    KT_CHECK(kz_sensor_severity(10, true) == 3);
    KT_CHECK(kz_sensor_severity(0, false) == 2);

    kz_engine *e = engine_with_patterns();
    char err[256];
    kz_sensor_map *m = kz_sensor_map_new(e, err, sizeof err);
    kz_tel_record r;
    memset(&r, 0, sizeof r);
    r.input = KZ_TEL_IN_ZEEK;
    r.input_name = "dns.log";
    r.pos = 42;
    r.log = S("dns");
    r.has_ts = true;
    r.ts_us = 1700000000123456;
    kz_tel_addr_parse("192.0.2.1", 9, &r.src);
    kz_tel_addr_parse("192.0.2.53", 10, &r.dst);
    r.has_ports = true;
    r.sport = 5353;
    r.dport = 53;
    r.proto = 17;
    r.dns_query = S("evil.test");
    kz_engine_record er;
    kz_sensor_map_record(m, &r, 0, &er);
    kz_buf b;
    kz_buf_init(&b);
    alert_ctx a = {&b, &r};
    const kz_engine_gen *g = kz_engine_acquire(e);
    KT_CHECK(kz_engine_match_record(g, &er, fmt_hit, &a, err, sizeof err) == 1);
    kz_engine_release(e, g);
    json_error_t je;
    json_t *j = b.data ? json_loads(b.data, 0, &je) : NULL;
    KT_CHECK_MSG(j != NULL, "alert is JSON: %s", b.data ? b.data : "(none)");
    KT_CHECK(b.data && !strchr(b.data, '\n'));
    if (j) {
        KT_CHECK_STR(json_string_value(json_object_get(j, "event_type")), "alert");
        KT_CHECK_STR(json_string_value(json_object_get(j, "timestamp")),
                     "2023-11-14T22:13:20.123456Z");
        KT_CHECK_STR(json_string_value(json_object_get(j, "src_ip")), "192.0.2.1");
        KT_CHECK_STR(json_string_value(json_object_get(j, "dest_ip")), "192.0.2.53");
        KT_CHECK(json_integer_value(json_object_get(j, "dest_port")) == 53);
        KT_CHECK_STR(json_string_value(json_object_get(j, "proto")), "UDP");
        KT_CHECK_STR(json_string_value(json_object_get(j, "sensor")), "edge-1");
        KT_CHECK_STR(json_string_value(json_object_get(j, "input")), "dns.log");
        KT_CHECK(json_integer_value(json_object_get(j, "line")) == 42);
        json_t *al = json_object_get(j, "alert");
        KT_CHECK_STR(json_string_value(json_object_get(al, "signature_id")),
                     "indicator--00000000-0000-4000-8000-000000000003");
        KT_CHECK_STR(json_string_value(json_object_get(al, "signature")),
                     "n00000000-0000-4000-8000-000000000003");
        KT_CHECK_STR(json_string_value(json_array_get(json_object_get(al, "category"), 0)),
                     "malicious-activity");
        json_t *md = json_object_get(al, "metadata");
        KT_CHECK(json_integer_value(json_object_get(md, "confidence")) == 21);
        KT_CHECK(json_integer_value(json_object_get(al, "severity")) == 3);
        KT_CHECK(strstr(json_string_value(json_object_get(md, "matched")), "evil.test") != NULL);
        KT_CHECK_STR(json_string_value(json_object_get(json_object_get(j, "record"),
                                                       "dns_query")),
                     "evil.test");
        KT_CHECK(json_array_size(json_object_get(j, "related")) == 1);
        json_decref(j);
    }
    kz_buf_free(&b);
    kz_sensor_map_free(m);
    kz_engine_free(e);
}

static json_t *close_all(kz_sensor_sightings *s)
{
    return kz_sensor_sightings_close(s, INT64_MAX);
}

static void test_sightings(void)
{
    const char *org = "identity--11111111-1111-4111-8111-111111111111";
    const char *i1 = "indicator--00000000-0000-4000-8000-000000000001";
    const char *i2 = "indicator--00000000-0000-4000-8000-000000000002";
    const int64_t H = 3600LL * 1000000, T0 = 1700000000LL * 1000000 / H * H;
    KT_CHECK(kz_sensor_sightings_new(org, "s", 0) == NULL);

    char *dump[2] = {NULL, NULL};
    for (int run = 0; run < 2; run++) {
        kz_sensor_sightings *s = kz_sensor_sightings_new(org, "edge-1", 3600);
        KT_CHECK(s != NULL);
        if (!s)
            return;
        kz_sensor_sightings_add(s, i1, T0 + 10);
        kz_sensor_sightings_add(s, i1, T0 + 5);
        kz_sensor_sightings_add(s, i2, T0 + 7);
        kz_sensor_sightings_add(s, i1, T0 + H + 1); /* next bucket */
        KT_CHECK(kz_sensor_sightings_open(s) == 3 && kz_sensor_sightings_hits(s) == 4);
        json_t *a = kz_sensor_sightings_close(s, T0 + H); /* closes the first bucket */
        KT_CHECK(json_array_size(a) == 2 && kz_sensor_sightings_open(s) == 1);
        size_t idx;
        json_t *v;
        json_array_foreach(a, idx, v) {
            KT_CHECK_STR(json_string_value(json_object_get(v, "type")), "sighting");
            KT_CHECK_STR(json_string_value(json_object_get(v, "created_by_ref")), org);
            KT_CHECK_STR(json_string_value(json_array_get(json_object_get(v, "where_sighted_refs"),
                                                          0)),
                         org);
            KT_CHECK_STR(json_string_value(json_object_get(v, "modified")),
                         "2023-11-14T23:00:00.000Z");
            const char *of = json_string_value(json_object_get(v, "sighting_of_ref"));
            json_int_t c = json_integer_value(json_object_get(v, "count"));
            KT_CHECK(of && ((strcmp(of, i1) == 0 && c == 2) || (strcmp(of, i2) == 0 && c == 1)));
            if (of && strcmp(of, i1) == 0) {
                KT_CHECK_STR(json_string_value(json_object_get(v, "first_seen")),
                             "2023-11-14T22:00:00.000005Z");
                KT_CHECK_STR(json_string_value(json_object_get(v, "last_seen")),
                             "2023-11-14T22:00:00.000010Z");
                char id[48];
                KT_CHECK(kz_sensor_sighting_id(i1, T0, org, "edge-1", id) == 0);
                KT_CHECK_STR(json_string_value(json_object_get(v, "id")), id);
            }
        }
        /* a late hit for a closed bucket lands in the earliest open one, never reopens it */
        kz_sensor_sightings_add(s, i2, T0 + 100);
        json_t *b = close_all(s);
        KT_CHECK(json_array_size(b) == 2);
        json_array_foreach(b, idx, v) {
            KT_CHECK_STR(json_string_value(json_object_get(v, "modified")),
                         "2023-11-15T00:00:00.000Z");
        }
        /* after closing everything, a hit of the same hour opens a later bucket */
        kz_sensor_sightings_add(s, i1, T0 + H + 2);
        json_t *c = close_all(s);
        KT_CHECK(json_array_size(c) == 1);
        KT_CHECK_STR(json_string_value(json_object_get(json_array_get(c, 0), "modified")),
                     "2023-11-15T01:00:00.000Z");
        json_array_extend(a, b);
        dump[run] = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        json_decref(b);
        json_decref(c);
        kz_sensor_sightings_free(s);
    }
    KT_CHECK(dump[0] && dump[1] && strcmp(dump[0], dump[1]) == 0); /* deterministic */
    free(dump[0]);
    free(dump[1]);

    char a[48], b[48], c[48];
    KT_CHECK(kz_sensor_sighting_id(i1, T0, org, "edge-1", a) == 0);
    KT_CHECK(kz_sensor_sighting_id(i1, T0, org, "edge-2", b) == 0);
    KT_CHECK(kz_sensor_sighting_id(i1, T0 + H, org, "edge-1", c) == 0);
    KT_CHECK(strncmp(a, "sighting--", 10) == 0 && strlen(a) == 46);
    KT_CHECK(strcmp(a, b) != 0 && strcmp(a, c) != 0);
    kz_uuid u;
    KT_CHECK(kz_uuid_parse(a + 10, &u) == 0 && kz_uuid_version(&u) == 5);
}

/* ---- alert lines against the jansson tree they replaced ----------------------------------- */

/* The alert as it was built before the line was written directly: a jansson tree, dumped. */
static void ref_set_str(json_t *o, const char *k, kz_tel_str v)
{
    json_t *x = v.p ? json_stringn(v.p, v.n) : NULL;
    if (x)
        json_object_set_new(o, k, x);
}

static char *ref_alert(const kz_tel_record *r, const kz_engine_hit *hit, const char *sensor,
                       json_t *extra)
{
    char ts[40], ab[48];
    json_t *ctx = hit->context_json ? json_loads(hit->context_json, 0, NULL) : NULL;
    json_t *a = json_object(), *al = json_object(), *md = json_object(), *o = json_object();
    kz_time_format(r->ts_us, 6, ts, sizeof ts);
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
        json_object_set_new(a, "proto", json_string(r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : "47"));
    if (sensor)
        json_object_set_new(a, "sensor", json_string(sensor));
    json_object_set_new(a, "input_type", json_string("zeek"));
    json_object_set_new(a, "input", json_string(r->input_name));
    json_object_set_new(a, "line", json_integer((json_int_t)r->pos));
    json_object_set_new(al, "action", json_string("allowed"));
    json_object_set_new(al, "signature", json_string(hit->name ? hit->name : hit->id));
    json_object_set_new(al, "signature_id", json_string(hit->id));
    json_t *types = ctx ? json_object_get(ctx, "indicator_types") : NULL;
    json_object_set_new(al, "category", types ? json_incref(types) : json_array());
    json_t *conf = ctx ? json_object_get(ctx, "confidence") : NULL;
    json_object_set_new(al, "severity", json_integer(kz_sensor_severity(
                                            json_is_integer(conf) ? (long)json_integer_value(conf) : 0,
                                            json_is_integer(conf))));
    if (conf)
        json_object_set(md, "confidence", conf);
    static const char *const from[] = {"created_by_ref", "object_marking_refs", "kill_chain_phases"};
    static const char *const to[] = {"created_by_ref", "markings", "kill_chain_phases"};
    for (int i = 0; i < 3; i++) {
        json_t *v = ctx ? json_object_get(ctx, from[i]) : NULL;
        if (v)
            json_object_set(md, to[i], v);
    }
    if (hit->fired)
        json_object_set_new(md, "matched", json_string(hit->fired));
    if (hit->pattern)
        json_object_set_new(md, "pattern", json_string(hit->pattern));
    json_object_set_new(al, "metadata", md);
    json_object_set_new(a, "alert", al);
    ref_set_str(o, "log", r->log);
    ref_set_str(o, "uid", r->uid);
    ref_set_str(o, "dns_query", r->dns_query);
    if (r->n_dns_answers) {
        json_t *ar = json_array();
        for (unsigned i = 0; i < r->n_dns_answers; i++) {
            json_t *v = json_stringn(r->dns_answers[i].p ? r->dns_answers[i].p : "", r->dns_answers[i].n);
            if (v)
                json_array_append_new(ar, v);
        }
        json_object_set_new(o, "dns_answers", ar);
    }
    ref_set_str(o, "http_host", r->http_host);
    ref_set_str(o, "http_uri", r->http_uri);
    ref_set_str(o, "http_user_agent", r->http_user_agent);
    if (r->has_flow) {
        json_object_set_new(o, "bytes_toserver", json_integer((json_int_t)r->bytes_toserver));
        json_object_set_new(o, "bytes_toclient", json_integer((json_int_t)r->bytes_toclient));
        json_object_set_new(o, "pkts_toserver", json_integer((json_int_t)r->pkts_toserver));
        json_object_set_new(o, "pkts_toclient", json_integer((json_int_t)r->pkts_toclient));
    }
    json_object_set_new(a, "record", o);
    if (json_is_object(extra))
        json_object_update(a, extra);
    char *out = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(a);
    json_decref(ctx);
    return out;
}

static uint64_t arng = 88172645463325252ull;
static unsigned arnd(unsigned n)
{
    return (unsigned)(kt_xorshift(&arng) % n);
}

/* A string of n bytes: ASCII, quotes, backslashes, control bytes, UTF-8 and, when bad, bytes
 * that are not UTF-8 (an alert leaves such a value out). */
static size_t rand_text(char *o, size_t cap, bool bad)
{
    static const char *const parts[] = {"a", "Z", "9", ".", "/", "\"", "\\", "\n", "\t", "\x01",
                                        "\x1f", "\x7f", "é", "€", "😀", " ", "'", "<"};
    size_t n = 0, k = arnd(12);
    for (size_t i = 0; i < k; i++) {
        const char *p = parts[arnd(sizeof parts / sizeof *parts)];
        size_t l = strlen(p);
        if (n + l < cap) {
            memcpy(o + n, p, l);
            n += l;
        }
    }
    if (bad && n + 2 < cap) {
        static const char *const badb[] = {"\xc3", "\xff", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"};
        const char *p = badb[arnd(5)];
        size_t l = strlen(p);
        if (n + l < cap) {
            size_t at = n ? arnd((unsigned)n) : 0;
            memmove(o + at + l, o + at, n - at);
            memcpy(o + at, p, l);
            n += l;
        }
    }
    return n;
}

static void test_alert_against_tree(void)
{
    size_t compared = 0, left_out = 0;
    for (int t = 0; t < 3000; t++) {
        char txt[12][96];
        size_t tl[12];
        for (int i = 0; i < 12; i++)
            tl[i] = rand_text(txt[i], sizeof txt[i], arnd(6) == 0);
        kz_tel_record r;
        memset(&r, 0, sizeof r);
        r.input = KZ_TEL_IN_ZEEK;
        r.input_name = "conn.log";
        r.pos = arnd(100000);
        r.has_ts = true;
        r.ts_us = 1700000000000000ll + arnd(1000000000);
        if (arnd(4))
            kz_tel_addr_parse("192.0.2.1", 9, &r.src);
        if (arnd(4))
            kz_tel_addr_parse("2001:db8::7", 11, &r.dst);
        r.has_ports = arnd(2);
        r.sport = (uint16_t)arnd(65536);
        r.dport = (uint16_t)arnd(65536);
        r.proto = arnd(3) == 0 ? 0 : arnd(2) ? 6 : 17;
        r.log = (kz_tel_str){txt[0], tl[0]};
        if (arnd(2))
            r.uid = (kz_tel_str){txt[1], tl[1]};
        r.dns_query = (kz_tel_str){txt[2], tl[2]};
        r.n_dns_answers = (uint8_t)arnd(4);
        for (unsigned i = 0; i < r.n_dns_answers; i++)
            r.dns_answers[i] = (kz_tel_str){txt[3 + i], tl[3 + i]};
        if (arnd(2))
            r.http_host = (kz_tel_str){txt[7], tl[7]};
        r.http_uri = (kz_tel_str){txt[8], tl[8]};
        r.http_user_agent = (kz_tel_str){txt[9], tl[9]};
        r.has_flow = arnd(2);
        r.bytes_toserver = arng >> 20;
        r.pkts_toclient = arnd(1000);
        /* the context as the engine writes it: canonical JSON */
        json_t *c = json_object();
        if (arnd(3)) {
            json_t *ty = json_array();
            for (unsigned i = arnd(3); i; i--)
                json_array_append_new(ty, json_stringn(txt[10], strlen(txt[10]) ? 1 : 0));
            json_array_append_new(ty, json_string("malicious-activity"));
            json_object_set_new(c, "indicator_types", ty);
        }
        if (arnd(3))
            json_object_set_new(c, "confidence", json_integer(arnd(101)));
        if (arnd(2))
            json_object_set_new(c, "created_by_ref", json_string("identity--0b4c3f4e-5f9b-4f39-9a9c-5b1b1b1b1b1b"));
        if (arnd(2)) {
            json_t *k = json_object();
            json_object_set_new(k, "kill_chain_name", json_string("lockheed-martin-cyber-kill-chain"));
            json_object_set_new(k, "phase_name", json_string("c2\n\"x\""));
            json_t *ka = json_array();
            json_array_append_new(ka, k);
            json_object_set_new(c, "kill_chain_phases", ka);
        }
        if (arnd(2)) {
            json_t *m = json_array();
            json_array_append_new(m, json_string("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"));
            json_object_set_new(c, "object_marking_refs", m);
        }
        kz_buf cb;
        kz_buf_init(&cb);
        KT_CHECK(kz_json_canonical(c, &cb) == 0);
        json_decref(c);
        char name[96];
        size_t nl = rand_text(name, sizeof name - 1, false);
        name[nl] = 0;
        kz_engine_hit h = {0};
        h.id = "indicator--00000000-0000-4000-8000-000000000003";
        h.name = arnd(3) ? name : NULL;
        h.context_json = arnd(8) ? cb.data : NULL;
        h.fired = arnd(4) ? "domain-name:value = 'a\\'b'" : NULL;
        h.pattern = "[domain-name:value = 'a\\'b']";
        json_t *extra = NULL;
        if (arnd(2)) {
            extra = json_object();
            json_t *rel = json_array();
            json_array_append_new(rel, json_integer(arnd(10)));
            json_array_append_new(rel, json_string("line\t2"));
            json_object_set_new(extra, "related", rel);
        }
        kz_buf got;
        kz_buf_init(&got);
        KT_CHECK(kz_sensor_alert_format(&got, &r, &h, arnd(2) ? "edge-1" : NULL, extra) == 0);
        char *want = ref_alert(&r, &h, NULL, extra);
        /* the reference was given the same sensor as the line: redo it when one was used */
        json_t *gj = got.data ? json_loads(got.data, 0, NULL) : NULL;
        if (gj && json_object_get(gj, "sensor")) {
            free(want);
            want = ref_alert(&r, &h, "edge-1", extra);
        }
        json_t *wj = want ? json_loads(want, 0, NULL) : NULL;
        /* equal values, and members in the same order (dumps of both parses) */
        char *gd = gj ? json_dumps(gj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        char *wd = wj ? json_dumps(wj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        bool same = gd && wd && strcmp(gd, wd) == 0;
        KT_CHECK_MSG(same, "case %d:\n got  %s\n want %s", t, got.data ? got.data : "(none)",
                     want ? want : "(none)");
        KT_CHECK(got.data && !strchr(got.data, '\n'));
        compared += same;
        left_out += strlen(gd ? gd : "") < got.len; /* escapes of the context differ only */
        free(gd);
        free(wd);
        free(want);
        json_decref(gj);
        json_decref(wj);
        json_decref(extra);
        kz_buf_free(&got);
        kz_buf_free(&cb);
        if (!same)
            break;
    }
    (void)left_out;
    KT_CHECK(compared == 3000);
}

KT_MAIN(KT(test_map_matches_every_path), KT(test_alert_format), KT(test_alert_against_tree), KT(test_sightings))
