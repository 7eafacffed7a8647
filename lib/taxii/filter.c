/*
 * taxii/filter: the URL filters of TAXII 2.1 section 3.4 and the `next` cursor.
 *
 * Every malformed parameter is a 400 with a message naming it: a repeated parameter, an empty
 * value or list item, a limit that is not a positive integer, an added_after or version that
 * is not a STIX timestamp, `all` mixed with other versions, a repeated version keyword or
 * instant, a `next` that does not decode or that belongs to another query. Parameters that do
 * not apply to an endpoint (and unknown match fields) are ignored, as the spec allows.
 *
 * The cursor is "<date_added hex>.<query hash hex>": stateless, so nothing expires on the
 * server, and date_added is unique hub-wide so "after this date_added" is an exact position.
 * The hash covers the scope and every parameter but next and limit (clients may change the
 * page size while paging), so a cursor replayed with another filter is refused.
 */
#include <kizuna/taxii.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kz_taxii_filter_free(kz_taxii_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nids; i++)
        free(f->ids[i]);
    for (size_t i = 0; i < f->ntypes; i++)
        free(f->types[i]);
    for (size_t i = 0; i < f->nspec; i++)
        free(f->spec[i]);
    free(f->ids);
    free(f->types);
    free(f->spec);
    free(f->v_times);
    memset(f, 0, sizeof *f);
}

static int bad(char *err, size_t errlen, const char *fmt, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, what);
    return -1;
}

/* Split a comma-separated list into owned strings; empty items are malformed. */
static int split(const char *key, const char *v, char ***out, size_t *n, char *err, size_t errlen)
{
    size_t cap = 1;
    for (const char *p = v; *p; p++)
        cap += *p == ',';
    if (cap > KZ_TAXII_MAX_VALUES)
        return bad(err, errlen, "%s: too many values", key);
    char **list = calloc(cap, sizeof *list);
    if (!list)
        return bad(err, errlen, "%s: out of memory", key);
    size_t k = 0;
    const char *p = v;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len > 512) {
            for (size_t i = 0; i < k; i++)
                free(list[i]);
            free(list);
            return bad(err, errlen, "%s: empty or oversized value in the list", key);
        }
        list[k] = strndup(p, len);
        if (!list[k]) {
            for (size_t i = 0; i < k; i++)
                free(list[i]);
            free(list);
            return bad(err, errlen, "%s: out of memory", key);
        }
        k++;
        if (!c)
            break;
        p = c + 1;
    }
    *out = list;
    *n = k;
    return 0;
}

static int parse_versions(const char *v, kz_taxii_filter *f, char *err, size_t errlen)
{
    char **items = NULL;
    size_t n = 0;
    if (split("match[version]", v, &items, &n, err, errlen) < 0)
        return -1;
    int rc = 0;
    f->v_times = calloc(n, sizeof *f->v_times);
    if (!f->v_times) {
        rc = bad(err, errlen, "%s: out of memory", "match[version]");
        goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *it = items[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(items[j], it) == 0)
                rc = bad(err, errlen, "match[version]: '%s' is given more than once", it);
        if (rc)
            break;
        if (strcmp(it, "all") == 0) {
            if (n > 1)
                rc = bad(err, errlen, "match[version]: '%s' cannot be combined with others", "all");
            f->v_all = true;
        } else if (strcmp(it, "first") == 0) {
            f->v_first = true;
        } else if (strcmp(it, "last") == 0) {
            f->v_last = true;
        } else {
            kz_time t;
            char why[128];
            if (kz_time_parse(it, &t, why, sizeof why) < 0) {
                rc = bad(err, errlen, "match[version]: '%s' is not all, first, last or a timestamp",
                         it);
                break;
            }
            for (size_t j = 0; j < f->nv_times; j++)
                if (f->v_times[j] == t.us)
                    rc = bad(err, errlen, "match[version]: '%s' is given more than once", it);
            f->v_times[f->nv_times++] = t.us;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return rc;
}

static int cmp_param(const void *a, const void *b)
{
    const kz_taxii_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static void query_hash(const kz_taxii_param *params, size_t n, kz_taxii_endpoint ep,
                       const char *scope, uint8_t out[8])
{
    /* Sorted so that parameter order does not change the hash. */
    kz_taxii_param *sorted = NULL;
    size_t k = 0;
    if (n) {
        sorted = malloc(n * sizeof *sorted);
        if (sorted)
            for (size_t i = 0; i < n; i++)
                if (strcmp(params[i].key, "next") != 0 && strcmp(params[i].key, "limit") != 0)
                    sorted[k++] = params[i];
        if (sorted)
            qsort(sorted, k, sizeof *sorted, cmp_param);
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 8);
    uint8_t e = (uint8_t)ep;
    crypto_generichash_update(&st, &e, 1);
    crypto_generichash_update(&st, (const unsigned char *)scope, strlen(scope) + 1);
    for (size_t i = 0; i < k; i++) {
        crypto_generichash_update(&st, (const unsigned char *)sorted[i].key,
                                  strlen(sorted[i].key) + 1);
        crypto_generichash_update(&st, (const unsigned char *)sorted[i].value,
                                  strlen(sorted[i].value) + 1);
    }
    crypto_generichash_final(&st, out, 8);
    free(sorted);
}

void kz_taxii_cursor(const kz_taxii_filter *f, int64_t date_added, char out[40])
{
    char h[17];
    sodium_bin2hex(h, sizeof h, f->qhash, 8);
    snprintf(out, 40, "%llx.%s", (unsigned long long)date_added, h);
}

static int parse_cursor(const char *v, const kz_taxii_filter *f, int64_t *after, char *err,
                        size_t errlen)
{
    const char *dot = strchr(v, '.');
    if (!dot || dot == v || dot - v > 16 || strlen(dot + 1) != 16)
        return bad(err, errlen, "next: '%s' is not a cursor this server issued", v);
    uint8_t h[8];
    if (sodium_hex2bin(h, sizeof h, dot + 1, 16, NULL, NULL, NULL) != 0)
        return bad(err, errlen, "next: '%s' is not a cursor this server issued", v);
    if (sodium_memcmp(h, f->qhash, 8) != 0)
        return bad(err, errlen, "next: '%s' belongs to another query (repeat the original filters)",
                   v);
    char *end = NULL;
    errno = 0;
    unsigned long long da = strtoull(v, &end, 16);
    if (end != dot || errno || da > (unsigned long long)INT64_MAX)
        return bad(err, errlen, "next: '%s' is not a cursor this server issued", v);
    *after = (int64_t)da;
    return 0;
}

static bool applies(kz_taxii_endpoint ep, const char *key)
{
    bool paging =
        strcmp(key, "added_after") == 0 || strcmp(key, "limit") == 0 || strcmp(key, "next") == 0;
    switch (ep) {
    case KZ_TAXII_EP_OBJECTS:
        return true;
    case KZ_TAXII_EP_OBJECT:
        return paging || strcmp(key, "match[version]") == 0 ||
               strcmp(key, "match[spec_version]") == 0;
    case KZ_TAXII_EP_VERSIONS:
        return paging || strcmp(key, "match[spec_version]") == 0;
    case KZ_TAXII_EP_DELETE:
        return strcmp(key, "match[version]") == 0 || strcmp(key, "match[spec_version]") == 0;
    }
    return false;
}

static const char *const known[] = {"added_after",        "limit",       "next",
                                    "match[id]",          "match[type]", "match[version]",
                                    "match[spec_version]"};

int kz_taxii_filter_parse(const kz_taxii_param *params, size_t n, kz_taxii_endpoint ep,
                          size_t page_cap, const char *scope, kz_taxii_filter *f, char *err,
                          size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->limit = page_cap ? page_cap : 1;
    /* Each parameter at most once (section 3.4), whatever the endpoint. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (strcmp(params[i].key, known[k]) == 0)
                for (size_t j = 0; j < i; j++)
                    if (strcmp(params[j].key, known[k]) == 0)
                        return bad(err, errlen, "%s: the parameter is given more than once",
                                   known[k]);
    query_hash(params, n, ep, scope ? scope : "", f->qhash);
    const char *next = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *k = params[i].key, *v = params[i].value ? params[i].value : "";
        if (!applies(ep, k))
            continue;
        int rc = 0;
        if (strcmp(k, "added_after") == 0) {
            kz_time t;
            char why[128];
            if (kz_time_parse(v, &t, why, sizeof why) < 0)
                rc = bad(err, errlen, "added_after: '%s' is not a timestamp", v);
            else if (t.us > f->after)
                f->after = t.us;
        } else if (strcmp(k, "limit") == 0) {
            char *end = NULL;
            errno = 0;
            long long l = strtoll(v, &end, 10);
            /* a positive number too large for long long is still a limit above the cap:
             * capped like any other (strtoll gives LLONG_MAX), not an error */
            if (!*v || *end || (errno && !(errno == ERANGE && l > 0)) || l <= 0 ||
                v[0] == '+' || v[0] == ' ')
                rc = bad(err, errlen, "limit: '%s' is not a positive integer", v);
            else if ((unsigned long long)l < f->limit)
                f->limit = (size_t)l;
        } else if (strcmp(k, "next") == 0) {
            next = v;
        } else if (strcmp(k, "match[id]") == 0) {
            rc = split(k, v, &f->ids, &f->nids, err, errlen);
        } else if (strcmp(k, "match[type]") == 0) {
            rc = split(k, v, &f->types, &f->ntypes, err, errlen);
        } else if (strcmp(k, "match[spec_version]") == 0) {
            rc = split(k, v, &f->spec, &f->nspec, err, errlen);
        } else if (strcmp(k, "match[version]") == 0) {
            rc = parse_versions(v, f, err, errlen);
        }
        if (rc < 0) {
            kz_taxii_filter_free(f);
            return -1;
        }
    }
    if (next) {
        int64_t after = 0;
        if (parse_cursor(next, f, &after, err, errlen) < 0) {
            kz_taxii_filter_free(f);
            return -1;
        }
        if (after > f->after)
            f->after = after;
    }
    if (ep == KZ_TAXII_EP_DELETE && !f->v_first && !f->v_last && !f->nv_times)
        f->v_all = true; /* DELETE without match[version] removes the object */
    if (ep == KZ_TAXII_EP_VERSIONS)
        f->v_all = true;
    return 0;
}

void kz_taxii_filter_query(const kz_taxii_filter *f, int64_t coll, kz_store_query *q)
{
    memset(q, 0, sizeof *q);
    q->coll = coll;
    q->after = f->after;
    q->limit = f->limit;
    q->ids = (const char *const *)f->ids;
    q->nids = f->nids;
    q->types = (const char *const *)f->types;
    q->ntypes = f->ntypes;
    q->spec_versions = (const char *const *)f->spec;
    q->nspec = f->nspec;
    q->v_all = f->v_all;
    q->v_first = f->v_first;
    q->v_last = f->v_last;
    q->v_times = f->v_times;
    q->nv_times = f->nv_times;
}
