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

KT_MAIN(KT(test_map_matches_every_path), KT(test_alert_format), KT(test_sightings))
