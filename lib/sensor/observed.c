/*
 * Sensor observed data: the STIX 2.1 observed-data and cyber-observable objects (SCOs) one
 * telemetry record stands for, attached to a sighting as the evidence of its first hit.
 *
 * The engine's own form of a record (kz_engine_record_to_json) is STIX 2.0 style: objects
 * embedded under keys "0", "1", ... with references by key. Here each becomes a stand-alone
 * 2.1 SCO with its deterministic id (kz_stix_sco_id), references are rewritten to those ids,
 * and the observed-data lists them in object_refs. Invariants: everything returned validates
 * as STIX 2.1 (properties a 2.1 object requires are added from the record: the protocols of
 * network-traffic, is_multipart of email-message; what cannot be made valid is left out:
 * custom x- objects, a network-traffic without addresses, an HTTP request extension without
 * its method or target, any SCO that does not validate); the same record always gives the same bytes, so a re-post is an
 * exact duplicate. Not done here: the observed-data's id, created/modified and creator (the
 * sightings table sets them per bucket).
 */
#include <kizuna/sensor.h>
#include <kizuna/stix.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static const char *transport(uint8_t p)
{
    switch (p) {
    case 1:
        return "icmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 58:
        return "ipv6-icmp";
    case 132:
        return "sctp";
    default:
        return NULL;
    }
}

/* protocols, lowest layer first as the spec recommends: ["ipv4", "udp", "dns"] */
static json_t *protocols(const kz_tel_record *r)
{
    json_t *a = json_array();
    uint8_t fam = r->src.family ? r->src.family : r->dst.family;
    if (fam)
        json_array_append_new(a, json_string(fam == 6 ? "ipv6" : "ipv4"));
    const char *app = r->kind == KZ_TEL_DNS    ? "dns"
                      : r->kind == KZ_TEL_HTTP ? "http"
                      : r->kind == KZ_TEL_TLS  ? "tls"
                      : r->kind == KZ_TEL_SMTP ? "smtp"
                                               : NULL;
    const char *t = transport(r->proto);
    if (!t && app && strcmp(app, "dns") != 0)
        t = "tcp"; /* Zeek's http and ssl logs do not say; these run over TCP */
    if (t)
        json_array_append_new(a, json_string(t));
    if (app)
        json_array_append_new(a, json_string(app));
    return a;
}

/* STIX 2.1 request_header values are lists of strings (a header may repeat); the engine's
 * record holds one string per header. */
static void header_lists(json_t *h)
{
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v)
    {
        if (json_is_string(v)) {
            json_t *l = json_array();
            json_array_append(l, v);
            json_object_set_new(h, k, l);
        }
    }
}

/* 2.1 writes the request method in lowercase ("get"); logs write it as sent ("GET") */
static void lower_method(json_t *hr)
{
    const char *m = json_string_value(json_object_get(hr, "request_method"));
    char buf[32];
    size_t n = m ? strlen(m) : 0;
    if (!m || n >= sizeof buf)
        return;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)(m[i] >= 'A' && m[i] <= 'Z' ? m[i] + 32 : m[i]);
    json_object_set_new(hr, "request_method", json_string(buf));
}

/* Rewrite the *_ref members of o (keys into the record's objects) to SCO ids; a reference to
 * an object that was left out is removed. (The record's only lists, resolves_to_refs and
 * to_refs, are taken out before: see kz_sensor_observed_objects.) */
static void rewrite_refs(json_t *o, json_t *ids)
{
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(o, tmp, k, v)
    {
        if (!ends_with(k, "_ref") || !json_is_string(v))
            continue;
        json_t *id = json_object_get(ids, json_string_value(v));
        if (id)
            json_object_set(o, k, id);
        else
            json_object_del(o, k);
    }
}

/* Whether o refers to other objects of the record (it is then written after them). */
static bool has_references(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (ends_with(k, "_ref"))
            return true;
    }
    return false;
}

json_t *kz_sensor_observed_objects(const kz_engine *e, const kz_engine_record *er,
                                   const kz_tel_record *r, char *err, size_t errlen)
{
    json_t *od = kz_engine_record_to_json(e, er, err, errlen);
    if (!od)
        return NULL;
    json_t *objs = json_object_get(od, "objects");
    json_t *ids = json_object(), *out = json_array(), *refs = json_array();
    bool ok = objs && ids && out && refs;
    /* two passes: objects without references first, so every reference has its id */
    for (int pass = 0; ok && pass < 2; pass++) {
        for (size_t j = 0; ok && j < er->ntypes; j++) {
            char key[24];
            snprintf(key, sizeof key, "%zu", j);
            json_t *o = json_object_get(objs, key);
            const char *type = json_string_value(json_object_get(o, "type"));
            if (!o || !type || kz_stix_type_category(type, KZ_STIX_21) != KZ_STIX_SCO)
                continue; /* custom types (x-kizuna-tls) are not valid 2.1 objects */
            /* The lists the record links answers and recipients with stay out of the
             * evidence: an SCO's id depends only on its identifying properties (a domain
             * name's value), so a domain posted once with one set of answers and once with
             * another would be two contents under one id, and the hub refuses the second. The
             * answers and recipients are still objects of the observed-data. */
            json_object_del(o, "resolves_to_refs");
            json_object_del(o, "to_refs");
            if (has_references(o) != (pass == 1))
                continue;
            if (strcmp(type, "network-traffic") == 0) {
                rewrite_refs(o, ids);
                if (!json_object_get(o, "src_ref") && !json_object_get(o, "dst_ref"))
                    continue; /* 2.1 wants at least one end */
                json_object_set_new(o, "protocols", protocols(r));
                json_t *ext = json_object_get(o, "extensions");
                json_t *hr = json_object_get(ext, "http-request-ext");
                if (hr && (!json_object_get(hr, "request_method") ||
                           !json_object_get(hr, "request_value")))
                    json_object_del(ext, "http-request-ext");
                else if (hr) {
                    header_lists(json_object_get(hr, "request_header"));
                    lower_method(hr);
                }
                if (ext && json_object_size(ext) == 0)
                    json_object_del(o, "extensions");
            } else if (strcmp(type, "email-message") == 0) {
                rewrite_refs(o, ids);
                json_object_set_new(o, "is_multipart", json_false());
            }
            json_object_set_new(o, "spec_version", json_string("2.1"));
            char id[300];
            if (kz_stix_sco_id(o, id, sizeof id) < 0)
                continue;
            json_object_set_new(o, "id", json_string(id));
            /* a value the record holds may still not be a valid SCO (a DNS TXT answer is
             * not a domain name): left out, so the hub never refuses the evidence and the
             * references to it are dropped with it */
            kz_diags d;
            kz_diags_init(&d);
            kz_stix_opts vo = {.version = KZ_STIX_21, .check_sco_ids = false, .interop = false};
            size_t nerr = kz_stix_validate_object(o, &vo, &d);
            kz_diags_free(&d);
            if (nerr)
                continue;
            json_object_set_new(ids, key, json_string(id));
            bool seen = false; /* the same value twice in one record is one object */
            size_t i;
            json_t *x;
            json_array_foreach(refs, i, x) seen |= strcmp(json_string_value(x), id) == 0;
            if (!seen) {
                ok = json_array_append(out, o) == 0 &&
                     json_array_append_new(refs, json_string(id)) == 0;
            }
        }
    }
    json_t *res = NULL;
    if (ok && json_array_size(refs)) {
        res = json_object();
        ok = res != NULL;
        if (res) {
            json_object_set_new(res, "type", json_string("observed-data"));
            json_object_set_new(res, "spec_version", json_string("2.1"));
            json_object_set(res, "first_observed", json_object_get(od, "first_observed"));
            json_object_set(res, "last_observed", json_object_get(od, "last_observed"));
            json_object_set(res, "number_observed", json_object_get(od, "number_observed"));
            json_object_set(res, "object_refs", refs);
            ok = json_array_insert_new(out, 0, res) == 0;
        }
    } else if (ok) {
        snprintf(err, errlen, "the record carries no STIX 2.1 object");
    }
    if (!ok && !res)
        snprintf(err, errlen, "out of memory");
    json_decref(ids);
    json_decref(refs);
    json_decref(od);
    if (!ok || !res) {
        json_decref(out);
        return NULL;
    }
    return out;
}
