/*
 * kizuna taxii client, the TAXII resources: discovery, API roots, collections, objects
 * (every page, through `next`), POST of an envelope and the status that answers it, and the
 * incremental pull that keeps its cursor on disk.
 *
 * Invariants: an object is handed to the caller once per page read, in the server's order;
 * the pull cursor only moves forward and only after a page has been fully accepted. Not
 * here: HTTP details (client.c), the cursor file format (client_cursor.c).
 */
#include "client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_t *kz_taxii_discover(kz_taxii_client *c, const char *url)
{
    char *u = kz_tc_url(c, url, (const char *)NULL);
    if (!u)
        return NULL;
    kz_tc_resp r = {0};
    json_t *doc = kz_tc_get_json(c, u, &r);
    kz_tc_resp_free(&r);
    free(u);
    return doc;
}

json_t *kz_taxii_api_root(kz_taxii_client *c, const char *root)
{
    return kz_taxii_discover(c, root);
}

json_t *kz_taxii_collections(kz_taxii_client *c, const char *root)
{
    char *u = kz_tc_url(c, root, "collections", (const char *)NULL);
    if (!u)
        return NULL;
    kz_tc_resp r = {0};
    json_t *doc = kz_tc_get_json(c, u, &r);
    kz_tc_resp_free(&r);
    free(u);
    return doc;
}

json_t *kz_taxii_collection(kz_taxii_client *c, const char *root, const char *collection)
{
    char *u = kz_tc_url(c, root, "collections", collection, (const char *)NULL);
    if (!u)
        return NULL;
    kz_tc_resp r = {0};
    json_t *doc = kz_tc_get_json(c, u, &r);
    kz_tc_resp_free(&r);
    free(u);
    return doc;
}

/* ---- objects ---------------------------------------------------------------------------- */

typedef struct pager {
    kz_taxii_client *c;
    const char *root, *collection, *state_dir, *name;
    const kz_taxii_get_filter *f;
    kz_taxii_object_fn fn;
    kz_taxii_page_fn page_done;
    void *ctx;
} pager;

static int page_loop(const pager *p, kz_taxii_page_result *out)
{
    kz_taxii_client *c = p->c;
    const kz_taxii_get_filter *f = p->f;
    memset(out, 0, sizeof *out);
    char limit[32] = "";
    if (f->limit)
        snprintf(limit, sizeof limit, "%zu", f->limit);
    char after[64] = "", next[512] = "";
    if (f->added_after) {
        if (strlen(f->added_after) >= sizeof after) {
            kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_USAGE, 0, "added_after is too long");
            return -1;
        }
        snprintf(after, sizeof after, "%s", f->added_after);
    }
    if (f->next && !p->state_dir) {
        if (strlen(f->next) >= sizeof next) {
            kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_USAGE, 0, "the next cursor is too long");
            return -1;
        }
        snprintf(next, sizeof next, "%s", f->next);
    }
    for (;;) {
        char *u =
            kz_tc_url(c, p->root, "collections", p->collection, "objects", (const char *)NULL);
        /* With a cursor, added_after stays as first given: the server re-checks that the
         * cursor belongs to the same query. */
        u = kz_tc_query(c, u, "added_after", after[0] ? after : NULL, "limit",
                        limit[0] ? limit : NULL, "next", next[0] ? next : NULL, "match[type]",
                        f->match_type, "match[id]", f->match_id, "match[version]", f->match_version,
                        "match[spec_version]", f->match_spec_version, (const char *)NULL);
        if (!u)
            return -1;
        kz_tc_resp r = {0};
        json_t *doc = kz_tc_get_json(c, u, &r);
        if (!doc) {
            kz_tc_resp_free(&r);
            free(u);
            return -1;
        }
        json_t *objs = json_object_get(doc, "objects");
        json_t *more = json_object_get(doc, "more");
        json_t *nx = json_object_get(doc, "next");
        if ((objs && !json_is_array(objs)) || (more && !json_is_boolean(more)) ||
            (nx && !json_is_string(nx))) {
            kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_PROTOCOL, (int)r.status,
                         "GET %s: not a TAXII envelope (objects, more, next)", u);
            json_decref(doc);
            kz_tc_resp_free(&r);
            free(u);
            return -1;
        }
        free(u);
        out->pages++;
        if (out->pages == 1)
            snprintf(out->date_added_first, sizeof out->date_added_first, "%s", r.date_first);
        size_t n = json_array_size(objs);
        int stop = 0;
        for (size_t i = 0; i < n && !stop; i++) {
            stop = p->fn ? p->fn(p->ctx, json_array_get(objs, i)) : 0;
            if (!stop)
                out->objects++;
        }
        if (stop) {
            kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_CALLBACK, 0,
                         "stopped by the caller after %zu objects", out->objects);
            json_decref(doc);
            kz_tc_resp_free(&r);
            return -1;
        }
        if (r.date_last[0] && (n > 0 || !out->date_added_last[0]))
            snprintf(out->date_added_last, sizeof out->date_added_last, "%s", r.date_last);
        out->more = json_is_true(more);
        const char *ns = json_string_value(nx);
        if (out->more && ns && *ns) {
            if (strlen(ns) >= sizeof out->next) {
                kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_PROTOCOL, 0,
                             "the server's next cursor is longer than %zu bytes",
                             sizeof out->next - 1);
                json_decref(doc);
                kz_tc_resp_free(&r);
                return -1;
            }
            snprintf(out->next, sizeof out->next, "%s", ns);
        } else {
            out->next[0] = 0;
        }
        json_decref(doc);
        kz_tc_resp_free(&r);
        if (p->state_dir && out->date_added_last[0] && n > 0) {
            if (p->page_done && p->page_done(p->ctx) != 0) {
                kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_CALLBACK, 0,
                             "stopped by the caller after %zu objects", out->objects);
                return -1;
            }
            kz_taxii_error e;
            if (kz_taxii_cursor_save(p->state_dir, p->name, out->date_added_last, &e) < 0) {
                *kz_tc_err(c) = e;
                return -1;
            }
        }
        if (!out->more || (f->max_pages && out->pages >= f->max_pages))
            return 0;
        if (out->next[0]) {
            if (strcmp(out->next, next) == 0 && n == 0) {
                kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_PROTOCOL, 0,
                             "the server says more but returns the same next and no objects");
                return -1;
            }
            snprintf(next, sizeof next, "%s", out->next);
        } else if (n > 0 && out->date_added_last[0] && strcmp(after, out->date_added_last)) {
            /* Servers without `next` (TAXII makes it optional) page by added_after. */
            snprintf(after, sizeof after, "%s", out->date_added_last);
            next[0] = 0;
        } else {
            kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_PROTOCOL, 0,
                         "the server says more but gives neither next nor a later "
                         "X-TAXII-Date-Added-Last");
            return -1;
        }
    }
}

int kz_taxii_get_objects(kz_taxii_client *c, const char *root, const char *collection,
                         const kz_taxii_get_filter *f, kz_taxii_object_fn fn, void *ctx,
                         kz_taxii_page_result *out)
{
    kz_taxii_get_filter none = {0};
    kz_taxii_page_result local;
    if (!collection || !*collection) {
        kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_USAGE, 0, "no collection given");
        return -1;
    }
    pager p = {c, root, collection, NULL, NULL, f ? f : &none, fn, NULL, ctx};
    return page_loop(&p, out ? out : &local);
}

int kz_taxii_pull(kz_taxii_client *c, const char *root, const char *collection,
                  const kz_taxii_get_filter *f, const char *state_dir, const char *name,
                  kz_taxii_object_fn fn, kz_taxii_page_fn page_done, void *ctx,
                  kz_taxii_page_result *out)
{
    kz_taxii_get_filter g = {0};
    kz_taxii_page_result local;
    if (f)
        g = *f;
    g.next = NULL;
    if (!name)
        name = collection;
    if (!collection || !*collection || !state_dir) {
        kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_USAGE, 0,
                     "a pull needs a collection and a state"
                     " directory");
        return -1;
    }
    char saved[64];
    kz_taxii_error e;
    int found = kz_taxii_cursor_load(state_dir, name, saved, sizeof saved, &e);
    if (found < 0) {
        *kz_tc_err(c) = e;
        return -1;
    }
    if (found)
        g.added_after = saved;
    pager p = {c, root, collection, state_dir, name, &g, fn, page_done, ctx};
    return page_loop(&p, out ? out : &local);
}

/* ---- POST and status -------------------------------------------------------------------- */

static size_t count_of(json_t *doc, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(doc, k));
    return v > 0 ? (size_t)v : 0;
}

/* Take a status resource into st (which owns doc afterwards). */
static int read_status(kz_taxii_client *c, json_t *doc, kz_taxii_status *st, const char *url)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *s = json_string_value(json_object_get(doc, "status"));
    if (!id || !s || !json_is_integer(json_object_get(doc, "total_count"))) {
        kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_PROTOCOL, 0,
                     "%s: the answer is not a TAXII status resource", url);
        json_decref(doc);
        return -1;
    }
    json_decref(st->doc);
    st->doc = doc;
    snprintf(st->id, sizeof st->id, "%s", id);
    snprintf(st->status, sizeof st->status, "%s", s);
    st->total = count_of(doc, "total_count");
    st->success = count_of(doc, "success_count");
    st->failure = count_of(doc, "failure_count");
    st->pending = count_of(doc, "pending_count");
    return 0;
}

int kz_taxii_get_status(kz_taxii_client *c, const char *root, const char *status_id,
                        kz_taxii_status *st)
{
    char *u = kz_tc_url(c, root, "status", status_id, (const char *)NULL);
    if (!u)
        return -1;
    kz_tc_resp r = {0};
    json_t *doc = kz_tc_get_json(c, u, &r);
    kz_tc_resp_free(&r);
    int rc = doc ? read_status(c, doc, st, u) : -1;
    free(u);
    return rc;
}

void kz_taxii_status_free(kz_taxii_status *st)
{
    if (!st)
        return;
    json_decref(st->doc);
    memset(st, 0, sizeof *st);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kz_taxii_add_objects(kz_taxii_client *c, const char *root, const char *collection,
                         json_t *objects, long wait_ms, kz_taxii_status *st)
{
    memset(st, 0, sizeof *st);
    if (!json_is_array(objects) || !collection || !*collection) {
        kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_USAGE, 0,
                     "adding objects needs a collection and a JSON array of objects");
        return -1;
    }
    char *u = kz_tc_url(c, root, "collections", collection, "objects", (const char *)NULL);
    if (!u)
        return -1;
    json_t *env = json_pack("{sO}", "objects", objects);
    char *body = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (!body) {
        free(u);
        kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_NOMEM, 0, "out of memory");
        return -1;
    }
    kz_tc_resp r = {0};
    int rc = kz_tc_request(c, "POST", u, body, strlen(body), &r);
    free(body);
    json_t *doc = NULL;
    if (rc == 0) {
        doc = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
        rc = json_is_object(doc) ? read_status(c, doc, st, u) : -1;
        if (!json_is_object(doc)) {
            json_decref(doc);
            kz_tc_seterr(kz_tc_err(c), KZ_TAXII_E_PROTOCOL, (int)r.status,
                         "POST %s: HTTP %ld without a status resource", u, r.status);
        }
    }
    kz_tc_resp_free(&r);
    free(u);
    if (rc < 0)
        return -1;
    /* TAXII lets a server answer `pending` and finish later; poll with a growing delay. */
    int64_t deadline = now_ms() + (wait_ms > 0 ? wait_ms : 60000);
    long delay = 100;
    while (strcmp(st->status, "complete") != 0 && now_ms() < deadline) {
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
        char sid[128];
        snprintf(sid, sizeof sid, "%s", st->id);
        if (kz_taxii_get_status(c, root, sid, st) < 0)
            return -1;
    }
    return 0;
}
