/*
 * kizuna gen observations: a session as a STIX 2.1 observed-data bundle (one JSON line), for
 * the pattern evaluator's tests and benchmarks.
 *
 * Each bundle holds one observed-data (first_observed, last_observed, number_observed 1,
 * object_refs) and the SCOs it refers to, with the spec's deterministic SCO ids (UUIDv5 of
 * the ID-contributing properties, computed by kz_stix_sco_id). The observed-data id comes from
 * the seeded PRNG, so the output stays reproducible. Only the values a pattern can test are
 * written: addresses and ports, domain names with resolves_to_refs, URLs, file hashes.
 */
#include "gen_tel.h"

#include <arpa/inet.h>
#include <kizuna/core.h>
#include <kizuna/stix.h>
#include <stdlib.h>
#include <string.h>

/* Add an SCO to objects and refs (unless an equal SCO is already there); returns its id. */
static const char *add_sco(json_t *objects, json_t *refs, json_t *sco)
{
    char id[300];
    json_object_set_new(sco, "spec_version", json_string("2.1"));
    if (kz_stix_sco_id(sco, id, sizeof id) < 0) {
        json_decref(sco);
        return NULL;
    }
    size_t i;
    json_t *it;
    json_array_foreach(objects, i, it)
    {
        const char *have = json_string_value(json_object_get(it, "id"));
        if (have && strcmp(have, id) == 0) {
            json_decref(sco);
            return have;
        }
    }
    /* id first, as STIX producers print it */
    json_t *o = json_pack("{s:s, s:s}", "type", json_string_value(json_object_get(sco, "type")),
                          "spec_version", "2.1");
    json_object_set_new(o, "id", json_string(id));
    const char *k;
    json_t *v;
    json_object_foreach(sco, k, v) if (strcmp(k, "type") != 0 && strcmp(k, "spec_version") != 0)
        json_object_set(o, k, v);
    json_decref(sco);
    json_array_append_new(objects, o);
    json_array_append_new(refs, json_string(id));
    return json_string_value(json_object_get(o, "id"));
}

static json_t *addr_sco(bool v6, const uint8_t *b)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, b, a, sizeof a);
    return json_pack("{s:s, s:s}", "type", v6 ? "ipv6-addr" : "ipv4-addr", "value", a);
}

int gen_obs_write(FILE *f, const gen_sess *s, int64_t t0, int64_t t1, gen_rng *r, char *od_id)
{
    json_t *objects = json_array(), *refs = json_array();
    char uuid[37], t0s[40], t1s[40], bid[60];
    gen_rng_uuid4(r, uuid);
    snprintf(od_id, 60, "observed-data--%s", uuid);
    gen_rng_uuid4(r, uuid);
    snprintf(bid, sizeof bid, "bundle--%s", uuid);
    kz_time_format(t0, 3, t0s, sizeof t0s);
    kz_time_format(t1 > t0 ? t1 : t0, 3, t1s, sizeof t1s);

    const char *src = add_sco(objects, refs, addr_sco(s->fl.v6, s->fl.cli));
    const char *dst = add_sco(objects, refs, addr_sco(s->fl.v6, s->fl.srv));
    if (src && dst) {
        json_t *nt = json_pack("{s:s, s:s, s:s, s:i, s:i, s:[s]}", "type", "network-traffic",
                               "src_ref", src, "dst_ref", dst, "src_port", s->fl.cport, "dst_port",
                               s->fl.sport, "protocols", s->fl.proto == 6 ? "tcp" : "udp");
        add_sco(objects, refs, nt);
    }
    if (s->kind == S_DNS) {
        const char *ans = add_sco(objects, refs, addr_sco(s->aaaa, s->ans));
        if (ans)
            add_sco(objects, refs,
                    json_pack("{s:s, s:s, s:[s]}", "type", "domain-name", "value", s->domain,
                              "resolves_to_refs", ans));
    } else if (s->kind == S_HTTP || s->kind == S_FILE) {
        char url[800];
        if (s->fl.sport == 80)
            snprintf(url, sizeof url, "http://%s%s", s->domain, s->uri);
        else
            snprintf(url, sizeof url, "http://%s:%u%s", s->domain, s->fl.sport, s->uri);
        add_sco(objects, refs, json_pack("{s:s, s:s}", "type", "domain-name", "value", s->domain));
        add_sco(objects, refs, json_pack("{s:s, s:s}", "type", "url", "value", url));
        if (s->kind == S_FILE) {
            const char *name = strrchr(s->uri, '/');
            add_sco(objects, refs,
                    json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:I, s:s}", "type", "file", "hashes",
                              "MD5", s->md5, "SHA-1", s->sha1, "SHA-256", s->sha256, "name",
                              name && name[1] ? name + 1 : "download.bin", "size",
                              (json_int_t)s->body_len, "mime_type", s->mime));
        }
    } else if (s->kind == S_TLS) {
        add_sco(objects, refs, json_pack("{s:s, s:s}", "type", "domain-name", "value", s->domain));
    }
    json_t *od = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:O}", "type", "observed-data",
                           "spec_version", "2.1", "id", od_id, "created", t1s, "modified", t1s,
                           "first_observed", t0s, "last_observed", t1s, "number_observed", 1,
                           "object_refs", refs);
    json_array_insert_new(objects, 0, od);
    json_t *b = json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects", objects);
    json_decref(refs);
    char *txt = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    int rc = txt && fprintf(f, "%s\n", txt) > 0 ? 0 : -1;
    free(txt);
    return rc;
}
