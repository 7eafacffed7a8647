/*
 * taxii/ingest: the Add Objects endpoint (TAXII 2.1 section 5.5).
 *
 * The envelope is parsed strictly (duplicate keys rejected); every object is validated with
 * lib/stix; valid ones are stored in one durable transaction in their canonical (RFC 8785)
 * serialisation, invalid ones are listed in the status resource's failures with the first
 * error's JSON pointer and message. Re-sending an object already stored byte for byte is a
 * success (the spec says a duplicate must not be an error); the same id and version with other
 * content is a failure. The status resource is complete when the 202 leaves, and is stored
 * for later GETs only after the objects are durable, so a 202 never promises what a crash can
 * take back. Every verdict, success or failure, names the object by its id and by the version
 * it is (or would be) filed under (kz_taxii_object_version: modified, else created, else the
 * fixed SCO version), decided before validation, so that a client can match a refusal of an
 * SCO or a marking-definition back to what it sent.
 */
#include "taxii_int.h"

#include <jansson.h>
#include <kizuna/json.h>
#include <kizuna/stix.h>
#include <kizuna/taxii_client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
    const char *id;
    const char *version;
    char *message; /* failure reason (malloc'd) or NULL */
    int slot;      /* index into the stored batch, -1 when not stored */
} item;

static const char *str_prop(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static char *first_error(const kz_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].sev == KZ_SEV_ERROR) {
            size_t n = strlen(d->v[i].pointer) + strlen(d->v[i].message) + 4;
            char *m = malloc(n);
            if (m)
                snprintf(m, n, "%s%s%s", d->v[i].pointer, d->v[i].pointer[0] ? ": " : "",
                         d->v[i].message);
            return m;
        }
    return strdup("invalid object");
}

static json_t *detail(const item *it, const char *message)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(it->id ? it->id : ""));
    json_object_set_new(o, "version", json_string(it->version ? it->version : ""));
    if (message)
        json_object_set_new(o, "message", json_string(message));
    return o;
}

void kz_taxii_srv_add_objects(kz_taxii_server *srv, const kz_principal *who,
                              const kz_store_collection *coll, const kz_taxii_request *req,
                              kz_taxii_response *res)
{
    int64_t started = kz_time_now_us();
    kz_json_error jerr;
    json_t *env = kz_json_parse(req->body ? req->body : "", req->body_len, &jerr);
    if (!env) {
        char msg[400];
        snprintf(msg, sizeof msg, "the body is not JSON: %d:%d: %s", jerr.line, jerr.column,
                 jerr.text);
        kz_taxii_srv_error(res, 400, "Bad request", msg);
        return;
    }
    json_t *objs = json_object_get(env, "objects");
    if (!json_is_object(env) || (objs && !json_is_array(objs))) {
        json_decref(env);
        kz_taxii_srv_error(res, 422, "Unprocessable entity",
                           "the body must be a TAXII envelope with an \"objects\" list");
        return;
    }
    size_t n = objs ? json_array_size(objs) : 0;
    item *items = calloc(n ? n : 1, sizeof *items);
    kz_store_object *batch = calloc(n ? n : 1, sizeof *batch);
    kz_store_put_result *results = calloc(n ? n : 1, sizeof *results);
    char **owned = calloc(n ? 2 * n : 1, sizeof *owned); /* serialisations and markings */
    if (!items || !batch || !results || !owned) {
        free(items);
        free(batch);
        free(results);
        free(owned);
        json_decref(env);
        kz_taxii_srv_error(res, 500, "Internal error", "out of memory");
        return;
    }
    size_t nb = 0, nowned = 0;
    kz_diags d;
    kz_diags_init(&d);
    kz_stix_opts opts = {.version = KZ_STIX_AUTO, .check_sco_ids = false};
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(objs, i);
        item *it = &items[i];
        it->slot = -1;
        if (!json_is_object(o)) {
            it->message = strdup("not a STIX object (not a JSON object)");
            continue;
        }
        it->id = str_prop(o, "id");
        /* TAXII 2.1 status `version`: modified, else created, else a value consistent to
         * the server; SCOs get one fixed version (section 3.4.1), also when refused. */
        it->version = kz_taxii_object_version(o);
        kz_diags_clear(&d);
        if (kz_stix_validate_object(o, &opts, &d) > 0 || !it->id || !str_prop(o, "type")) {
            it->message = d.errors ? first_error(&d) : strdup("missing id or type");
            continue;
        }
        kz_time t;
        if (kz_time_parse(it->version, &t, NULL, 0) < 0) {
            it->message = strdup(str_prop(o, "modified") ? "/modified: not a timestamp"
                                                         : "/created: not a timestamp");
            continue;
        }
        char *ser = kz_stix_serialize(o, true);
        if (!ser) {
            it->message = strdup("cannot be serialised");
            continue;
        }
        owned[nowned++] = ser;
        json_t *mk = json_object_get(o, "object_marking_refs");
        char *marks = mk ? json_dumps(mk, JSON_COMPACT) : NULL;
        int tlp = 0; /* the strictest TLP marking decides who may read the version */
        for (size_t k = 0; k < json_array_size(mk); k++) {
            const kz_tlp_marking *m = kz_tlp_lookup(json_string_value(json_array_get(mk, k)));
            if (m && (int)m->level > tlp)
                tlp = (int)m->level;
        }
        if (marks)
            owned[nowned++] = marks;
        kz_store_object *so = &batch[nb];
        so->id = it->id;
        so->type = str_prop(o, "type");
        so->spec_version = kz_stix_object_version(o, KZ_STIX_21) == KZ_STIX_20 ? "2.0" : "2.1";
        so->version = it->version;
        so->version_us = t.us;
        so->creator = who->org;
        so->markings = marks;
        so->tlp = tlp;
        so->json = ser;
        so->json_len = strlen(ser);
        it->slot = (int)nb++;
    }
    kz_diags_free(&d);
    char err[512];
    int rc =
        nb ? kz_store_put_objects(srv->store, coll->key, batch, nb, results, NULL, err, sizeof err)
           : 0;
    if (rc < 0) {
        kz_taxii_srv_error(res, 500, "Internal error",
                           "the objects could not be stored; nothing was added");
    } else {
        kz_uuid u;
        char sid[37], ts[40];
        kz_uuid_v4(&u);
        kz_uuid_format(&u, sid);
        kz_time_format(started, 6, ts, sizeof ts);
        json_t *st = json_object(), *succ = json_array(), *fail = json_array();
        for (size_t i = 0; i < n; i++) {
            item *it = &items[i];
            if (it->slot >= 0 && results[it->slot] == KZ_STORE_CONFLICT)
                json_array_append_new(fail, detail(it, "another object with this id and"
                                                       " version is already stored"));
            else if (it->slot >= 0)
                json_array_append_new(succ, detail(it, NULL));
            else
                json_array_append_new(fail, detail(it, it->message));
        }
        json_object_set_new(st, "id", json_string(sid));
        json_object_set_new(st, "status", json_string("complete"));
        json_object_set_new(st, "request_timestamp", json_string(ts));
        json_object_set_new(st, "total_count", json_integer((json_int_t)n));
        json_object_set_new(st, "success_count", json_integer((json_int_t)json_array_size(succ)));
        json_object_set_new(st, "successes", succ);
        json_object_set_new(st, "failure_count", json_integer((json_int_t)json_array_size(fail)));
        json_object_set_new(st, "failures", fail);
        json_object_set_new(st, "pending_count", json_integer(0));
        char *body = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(st);
        if (!body || kz_store_status_put(srv->store, sid, coll->root, who->account, started, body,
                                         err, sizeof err) < 0) {
            /* The objects are stored; only the status could not be kept for later GETs. */
            if (!body)
                kz_taxii_srv_error(res, 500, "Internal error", "out of memory");
            else
                kz_taxii_srv_body(res, 202, body);
        } else {
            kz_taxii_srv_body(res, 202, body);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(items[i].message);
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    free(owned);
    free(items);
    free(batch);
    free(results);
    json_decref(env);
}
