/*
 * Sensor map: kz_tel_record -> kz_engine_record, the STIX objects a telemetry record carries.
 *
 * Invariants: every field written passes the engine's record check (one property per field,
 * no path a prefix of another, valid UTF-8), so a match never fails on a mapped record. The
 * output lives in the map (types, fields, a text arena sized for the largest record) and is
 * overwritten by the next call; nothing is allocated per record.
 *
 * DNS answers are objects of the observation that the query's domain-name lists in
 * resolves_to_refs, mail recipients email-addr objects listed in the message's to_refs (REF
 * fields on a _refs path are list items). Not done here: network-traffic:protocols, a list of
 * strings, which kz_engine_record cannot express (docs/SENSOR.md).
 */
#include <kizuna/sensor.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_NT_SRC,
    P_NT_DST,
    P_NT_SPORT,
    P_NT_DPORT,
    P_NT_UA,
    P_NT_HOST,
    P_NT_METHOD,
    P_NT_VALUE,
    P_IP4,
    P_IP6,
    P_DOMAIN,
    P_URL,
    P_MD5,
    P_SHA1,
    P_SHA256,
    P_FNAME,
    P_X_SUBJECT,
    P_X_ISSUER,
    P_X_SERIAL,
    P_X_SHA1,
    P_X_SHA256,
    P_EMAIL,
    P_EM_FROM,
    P_EM_SUBJECT,
    P_DOM_RESOLVES,
    P_EM_TO,
    P_JA3,
    P_JA3S,
    P_JA4,
    P_COUNT
};

static const char *const path_text[P_COUNT] = {
    "network-traffic:src_ref",
    "network-traffic:dst_ref",
    "network-traffic:src_port",
    "network-traffic:dst_port",
    "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
    "network-traffic:extensions.'http-request-ext'.request_header.'Host'",
    "network-traffic:extensions.'http-request-ext'.request_method",
    "network-traffic:extensions.'http-request-ext'.request_value",
    "ipv4-addr:value",
    "ipv6-addr:value",
    "domain-name:value",
    "url:value",
    "file:hashes.'MD5'",
    "file:hashes.'SHA-1'",
    "file:hashes.'SHA-256'",
    "file:name",
    "x509-certificate:subject",
    "x509-certificate:issuer",
    "x509-certificate:serial_number",
    "x509-certificate:hashes.'SHA-1'",
    "x509-certificate:hashes.'SHA-256'",
    "email-addr:value",
    "email-message:from_ref",
    "email-message:subject",
    "domain-name:resolves_to_refs",
    "email-message:to_refs",
    "x-kizuna-tls:ja3",
    "x-kizuna-tls:ja3s",
    "x-kizuna-tls:ja4",
};

/* Upper bounds: 3 objects for the 5-tuple, one per DNS answer and recipient, and a handful
 * for the typed fields; 64 is the engine's limit, so answers past it are left out. */
#define MAX_FIELDS 96
#define ARENA 256 /* formatted addresses, URL prefixes and fingerprints are small */

struct kz_sensor_map {
    uint32_t path[P_COUNT];
    const char *ptype[P_COUNT]; /* the engine's own type name of each path: no strcmp */
    const char *types[KZ_ENGINE_MAX_OBJECTS];
    kz_engine_field fields[MAX_FIELDS];
    size_t ntypes, nfields;
    char *url;         /* "http://" host uri, grown as needed */
    size_t url_cap;
    char arena[ARENA * 4];
    size_t arena_used;
    uint64_t dropped;
};

kz_sensor_map *kz_sensor_map_new(kz_engine *e, char *err, size_t errlen)
{
    kz_sensor_map *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < P_COUNT; i++) {
        long id = kz_engine_path(e, path_text[i]);
        if (id < 0) {
            snprintf(err, errlen, "the engine refused the path %s", path_text[i]);
            free(m);
            return NULL;
        }
        m->path[i] = (uint32_t)id;
        m->ptype[i] = kz_engine_path_type(e, (uint32_t)id);
    }
    return m;
}

void kz_sensor_map_free(kz_sensor_map *m)
{
    if (!m)
        return;
    free(m->url);
    free(m);
}

uint64_t kz_sensor_map_dropped(const kz_sensor_map *m)
{
    return m->dropped;
}

/* An object of the type of path `path`. */
static int add_obj(kz_sensor_map *m, int path)
{
    if (m->ntypes >= KZ_ENGINE_MAX_OBJECTS)
        return -1;
    m->types[m->ntypes] = m->ptype[path];
    return (int)m->ntypes++;
}

/* A string field whose text is known to be valid UTF-8 (checked, or made here). */
static void add_ok_str(kz_sensor_map *m, int obj, int path, const char *s, size_t n)
{
    if (obj < 0 || m->nfields >= MAX_FIELDS)
        return;
    kz_engine_field *f = &m->fields[m->nfields++];
    f->obj = (uint16_t)obj;
    f->kind = KZ_EF_STR;
    f->path = m->path[path];
    f->s = s;
    f->len = (uint32_t)n;
    f->i = 0;
}

static void add_str(kz_sensor_map *m, int obj, int path, const char *s, size_t n)
{
    if (obj < 0 || m->nfields >= MAX_FIELDS)
        return;
    if (!kz_utf8_valid(s, n)) {
        m->dropped++;
        return;
    }
    add_ok_str(m, obj, path, s, n);
}

static void add_int(kz_sensor_map *m, int obj, int path, int kind, int64_t v)
{
    if (obj < 0 || m->nfields >= MAX_FIELDS)
        return;
    kz_engine_field *f = &m->fields[m->nfields++];
    f->obj = (uint16_t)obj;
    f->kind = (uint16_t)kind;
    f->path = m->path[path];
    f->s = NULL;
    f->len = 0;
    f->i = v;
}

/* An object holding one string value; -1 when the value was unusable or the record is full. */
static int value_obj(kz_sensor_map *m, int path, const char *s, size_t n)
{
    if (!kz_utf8_valid(s, n)) {
        m->dropped++;
        return -1;
    }
    int o = add_obj(m, path);
    add_ok_str(m, o, path, s, n);
    return o;
}

static char *arena(kz_sensor_map *m, size_t n)
{
    if (m->arena_used + n > sizeof m->arena)
        return NULL;
    char *p = m->arena + m->arena_used;
    m->arena_used += n;
    return p;
}

static int addr_obj(kz_sensor_map *m, const kz_tel_addr *a)
{
    if (a->family != 4 && a->family != 6)
        return -1;
    const char *buf = a->text.p; /* the log's own text, when it is the canonical one */
    size_t n = a->text.n;
    if (!n) {
        char *t = arena(m, 48); /* as before: KZ_TEL_ADDR_TEXT_MAX, rounded */
        if (!t)
            return -1;
        n = kz_tel_addr_text(a, t); /* ASCII: no UTF-8 check needed */
        buf = t;
    }
    int o = add_obj(m, a->family == 4 ? P_IP4 : P_IP6);
    add_ok_str(m, o, a->family == 4 ? P_IP4 : P_IP6, buf, n);
    return o;
}

static bool present(kz_tel_str s)
{
    return s.p && s.n;
}

/* A DNS answer or a host: an address when it parses as one, else a name. */
static int name_or_addr(kz_sensor_map *m, kz_tel_str s)
{
    kz_tel_addr a;
    if (kz_tel_addr_parse(s.p, s.n, &a) == 0)
        return addr_obj(m, &a);
    return value_obj(m, P_DOMAIN, s.p, s.n);
}

/* Host without a ":port" suffix (an IPv6 literal keeps its brackets off). */
static kz_tel_str host_only(kz_tel_str h)
{
    if (h.n && h.p[0] == '[') {
        const char *e = memchr(h.p, ']', h.n);
        if (e)
            return (kz_tel_str){h.p + 1, (uint32_t)(e - h.p - 1)};
        return h;
    }
    const char *c = memchr(h.p, ':', h.n);
    if (c && !memchr(c + 1, ':', h.n - (size_t)(c + 1 - h.p)))
        h.n = (uint32_t)(c - h.p);
    return h;
}

static void map_url(kz_sensor_map *m, const kz_tel_record *r, int nt)
{
    kz_tel_str uri = r->http_uri, host = r->http_host;
    if (present(host)) {
        kz_tel_str h = host_only(host);
        if (h.n)
            name_or_addr(m, h);
        add_str(m, nt, P_NT_HOST, host.p, host.n);
    }
    if (present(r->http_method))
        add_str(m, nt, P_NT_METHOD, r->http_method.p, r->http_method.n);
    if (!present(uri))
        return;
    add_str(m, nt, P_NT_VALUE, uri.p, uri.n);
    if (uri.n > 7 && (memcmp(uri.p, "http://", 7) == 0 || memcmp(uri.p, "https://", 8) == 0)) {
        value_obj(m, P_URL, uri.p, uri.n);
        return;
    }
    if (!present(host))
        return;
    size_t need = 7 + host.n + uri.n + (uri.p[0] == '/' ? 0 : 1);
    if (need > m->url_cap) {
        char *u = realloc(m->url, need);
        if (!u)
            return;
        m->url = u;
        m->url_cap = need;
    }
    size_t k = 0;
    memcpy(m->url, "http://", 7);
    k = 7;
    memcpy(m->url + k, host.p, host.n);
    k += host.n;
    if (uri.p[0] != '/')
        m->url[k++] = '/';
    memcpy(m->url + k, uri.p, uri.n);
    k += uri.n;
    value_obj(m, P_URL, m->url, k);
}

/* Fingerprints come as hex with or without colons; STIX hashes want plain hex. */
static void map_fingerprint(kz_sensor_map *m, int x, kz_tel_str fp)
{
    char *buf = arena(m, 65);
    if (!buf)
        return;
    size_t k = 0;
    for (uint32_t i = 0; i < fp.n && k < 65; i++) {
        char c = fp.p[i];
        if (c == ':')
            continue;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return;
        buf[k++] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    if (k == 40)
        add_ok_str(m, x, P_X_SHA1, buf, k);
    else if (k == 64)
        add_ok_str(m, x, P_X_SHA256, buf, k);
}

size_t kz_sensor_map_record(kz_sensor_map *m, const kz_tel_record *r, int64_t now_us,
                            kz_engine_record *out)
{
    m->ntypes = m->nfields = m->arena_used = 0;
    int nt = -1;
    bool tuple = r->src.family || r->dst.family || r->has_ports;
    if (tuple || present(r->http_user_agent) || present(r->http_uri)) {
        nt = add_obj(m, P_NT_SRC);
        if (r->src.family)
            add_int(m, nt, P_NT_SRC, KZ_EF_REF, addr_obj(m, &r->src));
        if (r->dst.family)
            add_int(m, nt, P_NT_DST, KZ_EF_REF, addr_obj(m, &r->dst));
        /* a failed address object would leave a dangling ref: drop such fields */
        for (size_t i = 0; i < m->nfields;) {
            if (m->fields[i].kind == KZ_EF_REF && m->fields[i].i < 0)
                m->fields[i] = m->fields[--m->nfields];
            else
                i++;
        }
        if (r->has_ports) {
            add_int(m, nt, P_NT_SPORT, KZ_EF_INT, r->sport);
            add_int(m, nt, P_NT_DPORT, KZ_EF_INT, r->dport);
        }
        if (present(r->http_user_agent))
            add_str(m, nt, P_NT_UA, r->http_user_agent.p, r->http_user_agent.n);
    }
    int q = present(r->dns_query) ? value_obj(m, P_DOMAIN, r->dns_query.p, r->dns_query.n)
                                  : -1;
    for (unsigned i = 0; i < r->n_dns_answers && i < KZ_TEL_MAX_ANSWERS; i++)
        if (present(r->dns_answers[i])) {
            int a = name_or_addr(m, r->dns_answers[i]);
            if (q >= 0 && a >= 0)
                add_int(m, q, P_DOM_RESOLVES, KZ_EF_REF, a);
        }
    if (present(r->http_host) || present(r->http_uri))
        map_url(m, r, nt);
    if (present(r->tls_sni))
        value_obj(m, P_DOMAIN, r->tls_sni.p, r->tls_sni.n);
    if (present(r->ja3) || present(r->ja3s) || present(r->ja4)) {
        int t = add_obj(m, P_JA3);
        if (present(r->ja3))
            add_str(m, t, P_JA3, r->ja3.p, r->ja3.n);
        if (present(r->ja3s))
            add_str(m, t, P_JA3S, r->ja3s.p, r->ja3s.n);
        if (present(r->ja4))
            add_str(m, t, P_JA4, r->ja4.p, r->ja4.n);
    }
    if (present(r->x509_subject) || present(r->x509_issuer) || present(r->x509_serial) ||
        present(r->x509_fingerprint)) {
        int x = add_obj(m, P_X_SUBJECT);
        if (present(r->x509_subject))
            add_str(m, x, P_X_SUBJECT, r->x509_subject.p, r->x509_subject.n);
        if (present(r->x509_issuer))
            add_str(m, x, P_X_ISSUER, r->x509_issuer.p, r->x509_issuer.n);
        if (present(r->x509_serial))
            add_str(m, x, P_X_SERIAL, r->x509_serial.p, r->x509_serial.n);
        if (present(r->x509_fingerprint))
            map_fingerprint(m, x, r->x509_fingerprint);
    }
    if (present(r->file_md5) || present(r->file_sha1) || present(r->file_sha256) ||
        present(r->file_name)) {
        int f = add_obj(m, P_MD5);
        if (present(r->file_md5))
            add_str(m, f, P_MD5, r->file_md5.p, r->file_md5.n);
        if (present(r->file_sha1))
            add_str(m, f, P_SHA1, r->file_sha1.p, r->file_sha1.n);
        if (present(r->file_sha256))
            add_str(m, f, P_SHA256, r->file_sha256.p, r->file_sha256.n);
        if (present(r->file_name))
            add_str(m, f, P_FNAME, r->file_name.p, r->file_name.n);
    }
    if (present(r->mail_from) || present(r->mail_subject) || r->n_mail_to) {
        int em = add_obj(m, P_EM_FROM);
        if (present(r->mail_from)) {
            int a = value_obj(m, P_EMAIL, r->mail_from.p, r->mail_from.n);
            if (a >= 0)
                add_int(m, em, P_EM_FROM, KZ_EF_REF, a);
        }
        if (present(r->mail_subject))
            add_str(m, em, P_EM_SUBJECT, r->mail_subject.p, r->mail_subject.n);
        for (unsigned i = 0; i < r->n_mail_to && i < KZ_TEL_MAX_RCPT; i++)
            if (present(r->mail_to[i])) {
                int a = value_obj(m, P_EMAIL, r->mail_to[i].p, r->mail_to[i].n);
                if (a >= 0)
                    add_int(m, em, P_EM_TO, KZ_EF_REF, a);
            }
    }
    int64_t t = r->has_ts ? r->ts_us : now_us;
    out->first_us = t;
    out->last_us = t + (r->has_flow && r->duration_us > 0 ? r->duration_us : 0);
    out->number_observed = 1;
    out->types = m->types;
    out->ntypes = m->ntypes;
    out->fields = m->fields;
    out->nfields = m->nfields;
    return m->ntypes;
}
