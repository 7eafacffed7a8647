/*
 * Deterministic identifiers of STIX Cyber-observable Objects (STIX 2.1 sections 2.9 and 3.4).
 *
 * The id is type "--" UUIDv5(namespace 00abedb4-aa42-466c-9c01-fed23315a9b7, name), where the
 * name is the RFC 8785 canonical JSON of an object holding only the type's ID Contributing
 * Properties that are present (sco.c marks them). Values go in as they are: a _ref contributes
 * the referenced id string, lists and sub-objects (registry values, extensions) contribute
 * whole. From "hashes" only one entry contributes: MD5, else SHA-1, else SHA-256, else
 * SHA-512 (the specification's order of preference), else the first entry as written -- the
 * same choice as the OASIS python-stix2 library, so ids agree with that producer.
 * With no contributing property present (and always for process) the id is a random UUIDv4.
 * Not here: validating the object; an invalid SCO still gets the id its properties imply.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

static const char *const sco_namespace = "00abedb4-aa42-466c-9c01-fed23315a9b7";

static const kz_type_rules *find_sco(const char *type)
{
    for (const kz_type_rules *r = kz_sco_rules; r->type; r++)
        if (strcmp(r->type, type) == 0)
            return r;
    return NULL;
}

/* A new one-entry hashes object, or NULL when there is no entry to choose. */
static json_t *one_hash(const json_t *hashes)
{
    static const char *const preferred[] = {"MD5", "SHA-1", "SHA-256", "SHA-512", NULL};
    const char *key = NULL;
    for (int i = 0; preferred[i] && !key; i++)
        if (json_object_get(hashes, preferred[i]))
            key = preferred[i];
    if (!key) {
        void *it = json_object_iter((json_t *)hashes);
        if (!it)
            return NULL;
        key = json_object_iter_key(it);
    }
    json_t *h = json_object();
    if (h && json_object_set(h, key, json_object_get(hashes, key)) != 0) {
        json_decref(h);
        return NULL;
    }
    return h;
}

/* Add obj[key] to name when present; hashes are cut down to one entry. */
static int contribute(json_t *name, const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (strcmp(key, "hashes") == 0 && json_is_object(v)) {
        json_t *h = one_hash(v);
        return h ? json_object_set_new(name, key, h) : 0;
    }
    return json_object_set(name, key, v);
}

int kz_stix_sco_id(const json_t *sco, char *out, size_t outlen)
{
    const char *type = json_string_value(json_object_get(sco, "type"));
    const kz_type_rules *r = type ? find_sco(type) : NULL;
    if (!r || !out)
        return -1;
    json_t *name = json_object();
    if (!name)
        return -1;
    int rc = 0;
    for (const kz_prop_rule *p = r->props; p->name && rc == 0; p++)
        if ((p->flags & KZ_F_ID_CONTRIB) && !(p->flags & KZ_F_ONLY_20))
            rc = contribute(name, sco, p->name);
    if (rc == 0 && (r->flags & KZ_F_ID_EXTENSIONS))
        rc = contribute(name, sco, "extensions");
    kz_uuid u;
    int result = 0;
    if (rc != 0) {
        result = -1;
    } else if (json_object_size(name) == 0) {
        kz_uuid_v4(&u);
        result = 1;
    } else {
        kz_buf b;
        kz_buf_init(&b);
        kz_uuid ns;
        if (kz_json_canonical(name, &b) != 0 || kz_uuid_parse(sco_namespace, &ns) != 0 ||
            kz_uuid_v5(&ns, b.data, b.len, &u) != 0)
            result = -1;
        kz_buf_free(&b);
    }
    json_decref(name);
    if (result < 0)
        return -1;
    char text[37];
    kz_uuid_format(&u, text);
    int n = snprintf(out, outlen, "%s--%s", type, text);
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    return result;
}
