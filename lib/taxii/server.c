/*
 * taxii/server: routing and the read endpoints of TAXII 2.1 over lib/store and lib/policy.
 *
 * Order of checks for every request: authentication (401 with a challenge), Accept (406),
 * the path (404; paths end in '/'), the method (405), the caller's rights on the collection,
 * then the filters (400). Rights follow section 5: a collection the caller has no right on
 * does not exist for them (404); one they may write but not read gives 403 on reads, and the
 * reverse on writes; DELETE needs both.
 *
 * Pages are written straight from the stored bytes into the response (no re-serialisation),
 * in date_added order, with more/next and the X-TAXII-Date-Added-First/Last values. Does not:
 * speak HTTP, log, or validate STIX (ingest.c asks lib/stix).
 */
#include "taxii_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kz_taxii_server *kz_taxii_server_new(kz_store *store, const kz_taxii_config *cfg)
{
    kz_taxii_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->store = store;
    srv->cfg = *cfg;
    if (!srv->cfg.title)
        srv->cfg.title = "kizuna TAXII 2.1 hub";
    if (srv->cfg.max_content_length == 0)
        srv->cfg.max_content_length = 16u << 20;
    if (srv->cfg.page_size == 0)
        srv->cfg.page_size = 1000;
    if (srv->cfg.status_retention_us <= 0)
        srv->cfg.status_retention_us = 7LL * 24 * 3600 * 1000000;
    srv->cache = kz_policy_cache_new(4096, 60LL * 1000000);
    if (!srv->cache) {
        free(srv);
        return NULL;
    }
    pthread_mutex_init(&srv->prune_mu, NULL);
    return srv;
}

void kz_taxii_server_free(kz_taxii_server *srv)
{
    if (!srv)
        return;
    kz_policy_cache_free(srv->cache);
    pthread_mutex_destroy(&srv->prune_mu);
    free(srv);
}

void kz_taxii_response_free(kz_taxii_response *res)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
}

void kz_taxii_srv_body(kz_taxii_response *res, int status, char *body)
{
    free(res->body);
    res->status = body ? status : 500;
    res->body = body;
    res->body_len = body ? strlen(body) : 0;
}

void kz_taxii_srv_error(kz_taxii_response *res, int status, const char *title,
                        const char *description)
{
    kz_taxii_srv_body(res, status, kz_taxii_error_json(status, title, description));
    res->status = status;
    res->date_first[0] = res->date_last[0] = 0;
}

void kz_taxii_srv_jstr(kz_buf *b, const char *s)
{
    kz_buf_putc(b, '"');
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        kz_buf_append(b, run, (size_t)(s - run));
        if (c == '"' || c == '\\') {
            kz_buf_putc(b, '\\');
            kz_buf_putc(b, (char)c);
        } else {
            kz_buf_printf(b, "\\u%04x", c);
        }
        run = s + 1;
    }
    kz_buf_append(b, run, (size_t)(s - run));
    kz_buf_putc(b, '"');
}

static void set_json(kz_taxii_response *res, int status, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!s)
        kz_taxii_srv_error(res, 500, "Internal error", "out of memory");
    else
        kz_taxii_srv_body(res, status, s);
}

static void store_error(kz_taxii_response *res, const char *err)
{
    (void)err; /* store messages may name files; the client gets a generic text */
    kz_taxii_srv_error(res, 500, "Internal error", "the store failed; see the hub's log");
}

/* ---- discovery, api root, collections --------------------------------------------------- */

static int add_root(void *ctx, const kz_store_root *r)
{
    json_t *arr = ctx;
    char url[600];
    snprintf(url, sizeof url, "/%s/", r->name);
    json_array_append_new(arr, json_string(url));
    return 0;
}

static void discovery(kz_taxii_server *srv, kz_taxii_response *res)
{
    json_t *o = json_object(), *roots = json_array();
    char err[256];
    if (kz_store_root_each(srv->store, add_root, roots, err, sizeof err) < 0) {
        json_decref(o);
        json_decref(roots);
        store_error(res, err);
        return;
    }
    json_object_set_new(o, "title", json_string(srv->cfg.title));
    if (srv->cfg.description)
        json_object_set_new(o, "description", json_string(srv->cfg.description));
    if (srv->cfg.contact)
        json_object_set_new(o, "contact", json_string(srv->cfg.contact));
    if (json_array_size(roots) > 0) {
        const char *def = json_string_value(json_array_get(roots, 0));
        char want[600];
        if (srv->cfg.default_root) {
            snprintf(want, sizeof want, "/%s/", srv->cfg.default_root);
            for (size_t i = 0; i < json_array_size(roots); i++)
                if (strcmp(json_string_value(json_array_get(roots, i)), want) == 0)
                    def = want;
        }
        json_object_set_new(o, "default", json_string(def));
        json_object_set_new(o, "api_roots", roots);
    } else {
        json_decref(roots);
    }
    set_json(res, 200, o);
}

static bool root_exists(kz_taxii_server *srv, const char *root, kz_taxii_response *res,
                        kz_store_root *out)
{
    char err[256];
    kz_store_root r;
    int rc = kz_store_root_get(srv->store, root, &r, err, sizeof err);
    if (rc < 0) {
        store_error(res, err);
        return false;
    }
    if (rc == 1) {
        kz_taxii_srv_error(res, 404, "Not found", "no such API root");
        return false;
    }
    if (out)
        *out = r;
    else
        kz_store_root_free(&r);
    return true;
}

static void api_root(kz_taxii_server *srv, const char *root, kz_taxii_response *res)
{
    kz_store_root r;
    if (!root_exists(srv, root, res, &r))
        return;
    json_t *o = json_object(), *v = json_array();
    json_object_set_new(o, "title", json_string(r.title));
    if (r.description)
        json_object_set_new(o, "description", json_string(r.description));
    json_array_append_new(v, json_string(KZ_TAXII_MEDIA_TYPE));
    json_object_set_new(o, "versions", v);
    json_object_set_new(o, "max_content_length",
                        json_integer((json_int_t)srv->cfg.max_content_length));
    kz_store_root_free(&r);
    set_json(res, 200, o);
}

static json_t *collection_json(const kz_store_collection *c, bool r, bool w)
{
    json_t *o = json_object(), *mt = json_array();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "title", json_string(c->title));
    if (c->description)
        json_object_set_new(o, "description", json_string(c->description));
    if (c->alias)
        json_object_set_new(o, "alias", json_string(c->alias));
    json_object_set_new(o, "can_read", json_boolean(r));
    json_object_set_new(o, "can_write", json_boolean(w));
    json_array_append_new(mt, json_string("application/stix+json;version=2.1"));
    json_array_append_new(mt, json_string("application/stix+json;version=2.0"));
    json_object_set_new(o, "media_types", mt);
    return o;
}

typedef struct {
    kz_taxii_server *srv;
    const kz_principal *who;
    json_t *list;
    int failed;
} coll_ctx;

static int add_collection(void *ctx, const kz_store_collection *c)
{
    coll_ctx *cc = ctx;
    bool r, w;
    char err[256];
    if (kz_policy_access(cc->srv->store, cc->who, c->key, &r, &w, err, sizeof err) < 0) {
        cc->failed = 1;
        return 1;
    }
    if (r || w) /* collections the caller has no right on are not advertised */
        json_array_append_new(cc->list, collection_json(c, r, w));
    return 0;
}

static void collections(kz_taxii_server *srv, const kz_principal *who, const char *root,
                        kz_taxii_response *res)
{
    if (!root_exists(srv, root, res, NULL))
        return;
    coll_ctx cc = {srv, who, json_array(), 0};
    char err[256];
    if (kz_store_collection_each(srv->store, root, add_collection, &cc, err, sizeof err) < 0 ||
        cc.failed) {
        json_decref(cc.list);
        store_error(res, err);
        return;
    }
    json_t *o = json_object();
    if (json_array_size(cc.list))
        json_object_set_new(o, "collections", cc.list);
    else
        json_decref(cc.list);
    set_json(res, 200, o);
}

/* Find a collection the caller has some right on; otherwise answer 404 and return false. */
static bool find_collection(kz_taxii_server *srv, const kz_principal *who, const char *root,
                            const char *cid, kz_store_collection *c, bool *r, bool *w,
                            kz_taxii_response *res)
{
    char err[256];
    int rc = kz_store_collection_get(srv->store, root, cid, c, err, sizeof err);
    if (rc < 0) {
        store_error(res, err);
        return false;
    }
    if (rc == 0 && kz_policy_access(srv->store, who, c->key, r, w, err, sizeof err) < 0) {
        kz_store_collection_free(c);
        store_error(res, err);
        return false;
    }
    if (rc == 1 || (!*r && !*w)) {
        if (rc == 0)
            kz_store_collection_free(c);
        kz_taxii_srv_error(res, 404, "Not found",
                           "no such API root or collection, or no access to it");
        return false;
    }
    return true;
}

/* ---- pages ------------------------------------------------------------------------------ */

typedef enum { PAGE_OBJECTS, PAGE_MANIFEST, PAGE_VERSIONS } page_kind;

typedef struct {
    page_kind kind;
    kz_buf out;
    size_t count;
    int64_t first, last;
} page_ctx;

static void fmt_time(int64_t us, char out[40])
{
    kz_time_format(us, 6, out, 40);
}

static int page_row(void *ctx, const kz_store_row *r)
{
    page_ctx *pc = ctx;
    if (pc->count++)
        kz_buf_putc(&pc->out, ',');
    else
        pc->first = r->date_added;
    pc->last = r->date_added;
    switch (pc->kind) {
    case PAGE_OBJECTS:
        kz_buf_append(&pc->out, r->json, r->json_len);
        break;
    case PAGE_MANIFEST: {
        char da[40];
        fmt_time(r->date_added, da);
        kz_buf_puts(&pc->out, "{\"id\":");
        kz_taxii_srv_jstr(&pc->out, r->id);
        kz_buf_printf(&pc->out, ",\"date_added\":\"%s\",\"version\":", da);
        kz_taxii_srv_jstr(&pc->out, r->version);
        kz_buf_printf(&pc->out, ",\"media_type\":\"application/stix+json;version=%s\"}",
                      strcmp(r->spec_version, "2.0") == 0 ? "2.0" : "2.1");
        break;
    }
    case PAGE_VERSIONS:
        kz_taxii_srv_jstr(&pc->out, r->version);
        break;
    }
    return pc->out.oom ? -1 : 0;
}

static void page(kz_taxii_server *srv, const kz_principal *who, const kz_taxii_request *req,
                 kz_taxii_response *res, const kz_store_collection *c, kz_taxii_endpoint ep,
                 const char *oid, page_kind kind)
{
    char scope[700], err[512];
    snprintf(scope, sizeof scope, "%s/%s/%d", c->id, oid ? oid : "", (int)kind);
    kz_taxii_filter f;
    if (kz_taxii_filter_parse(req->params, req->nparams, ep, srv->cfg.page_size, scope, &f, err,
                              sizeof err) < 0) {
        kz_taxii_srv_error(res, 400, "Bad filter", err);
        return;
    }
    kz_store_query q;
    kz_taxii_filter_query(&f, c->key, &q);
    q.max_tlp = srv->cfg.tlp_ceiling;
    q.viewer_org = who->org;
    const char *one[1] = {oid};
    if (oid) {
        q.ids = one;
        q.nids = 1;
        q.types = NULL;
        q.ntypes = 0;
    }
    page_ctx pc = {.kind = kind};
    kz_buf_init(&pc.out);
    kz_buf_puts(&pc.out, kind == PAGE_VERSIONS ? "{\"versions\":[" : "{\"objects\":[");
    bool more = false;
    int rc =
        kz_store_page(srv->store, &q, kind == PAGE_OBJECTS, page_row, &pc, &more, err, sizeof err);
    if (rc == 0 && pc.count == 0 && oid && f.after == 0) {
        int ex = kz_store_object_exists(srv->store, c->key, oid, err, sizeof err);
        if (ex == 0) {
            kz_buf_free(&pc.out);
            kz_taxii_filter_free(&f);
            kz_taxii_srv_error(res, 404, "Not found", "no such object in this collection");
            return;
        }
        rc = ex < 0 ? -1 : 0;
    }
    if (rc != 0 || pc.out.oom) {
        kz_buf_free(&pc.out);
        kz_taxii_filter_free(&f);
        store_error(res, err);
        return;
    }
    if (pc.count == 0) {
        kz_buf_reset(&pc.out);
        kz_buf_putc(&pc.out, '{');
        /* The headers are required on every 200 of these endpoints; with nothing to return,
         * both name the position the query started from, so a client polling with
         * added_after = X-TAXII-Date-Added-Last stays where it was. */
        fmt_time(f.after, res->date_first);
        fmt_time(f.after, res->date_last);
    } else {
        kz_buf_putc(&pc.out, ']');
        fmt_time(pc.first, res->date_first);
        fmt_time(pc.last, res->date_last);
    }
    if (more) {
        kz_buf_puts(&pc.out, pc.count ? ",\"more\":true" : "\"more\":true");
        /* The spec defines `next` on the envelope only; manifests and versions get it too
         * (a custom property with an allowed name) because clients such as taxii2-client
         * page manifests with it. added_after = X-TAXII-Date-Added-Last works as well,
         * exactly, since date_added is unique. */
        if (pc.count) {
            char cur[40];
            kz_taxii_cursor(&f, pc.last, cur);
            kz_buf_printf(&pc.out, ",\"next\":\"%s\"", cur);
        }
    }
    kz_buf_putc(&pc.out, '}');
    kz_taxii_filter_free(&f);
    if (pc.out.oom) {
        kz_buf_free(&pc.out);
        kz_taxii_srv_error(res, 500, "Internal error", "out of memory");
        return;
    }
    res->status = 200;
    res->body_len = pc.out.len;
    res->body = kz_buf_take(&pc.out);
}

static void delete_object(kz_taxii_server *srv, const kz_taxii_request *req, kz_taxii_response *res,
                          const kz_store_collection *c, const char *oid)
{
    char err[512];
    kz_taxii_filter f;
    if (kz_taxii_filter_parse(req->params, req->nparams, KZ_TAXII_EP_DELETE, srv->cfg.page_size,
                              oid, &f, err, sizeof err) < 0) {
        kz_taxii_srv_error(res, 400, "Bad filter", err);
        return;
    }
    kz_store_query q;
    kz_taxii_filter_query(&f, c->key, &q);
    int ex = kz_store_object_exists(srv->store, c->key, oid, err, sizeof err);
    size_t n = 0;
    if (ex == 1 && kz_store_delete_object(srv->store, c->key, oid, &q, &n, err, sizeof err) < 0)
        ex = -1;
    kz_taxii_filter_free(&f);
    if (ex < 0) {
        store_error(res, err);
        return;
    }
    if (ex == 0) {
        kz_taxii_srv_error(res, 404, "Not found", "no such object in this collection");
        return;
    }
    kz_taxii_srv_body(res, 200, NULL);
    res->status = 200;
}

static void status_get(kz_taxii_server *srv, const kz_principal *who, const char *root,
                       const char *sid, kz_taxii_response *res)
{
    char err[256];
    char *json = NULL;
    int64_t owner = 0;
    int rc = kz_store_status_get(srv->store, sid, root, &json, &owner, err, sizeof err);
    if (rc < 0) {
        store_error(res, err);
        return;
    }
    bool mine = false;
    if (rc == 0) {
        kz_store_account a;
        mine = owner == who->account;
        if (!mine && kz_store_account_get_key(srv->store, owner, &a, err, sizeof err) == 0) {
            mine = strcmp(a.org, who->org) == 0; /* colleagues may follow each other's work */
            kz_store_account_free(&a);
        }
    }
    if (!mine) {
        free(json);
        kz_taxii_srv_error(res, 404, "Not found", "no such status resource");
        return;
    }
    kz_taxii_srv_body(res, 200, json);
}

/* ---- routing ---------------------------------------------------------------------------- */

#define MAX_SEGS 8

static int split_path(const char *path, char *buf, size_t buflen, char *segs[MAX_SEGS])
{
    size_t len = strlen(path);
    if (len == 0 || path[0] != '/' || path[len - 1] != '/' || len >= buflen)
        return -1;
    memcpy(buf, path + 1, len); /* includes the NUL */
    int n = 0;
    char *p = buf;
    while (*p) {
        char *slash = strchr(p, '/');
        if (!slash || slash == p || n == MAX_SEGS)
            return -1;
        *slash = 0;
        segs[n++] = p;
        p = slash + 1;
    }
    return n;
}

/* A preflight that passed: the caller may read the body and ask again. */
static void proceed(kz_taxii_response *res)
{
    kz_taxii_srv_body(res, 0, NULL);
    res->status = 0;
}

static bool method_is(const kz_taxii_request *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

static void maybe_prune(kz_taxii_server *srv)
{
    int64_t now = kz_time_now_us();
    if (pthread_mutex_trylock(&srv->prune_mu) != 0)
        return;
    if (now - srv->last_prune > 3600LL * 1000000) {
        char err[256];
        srv->last_prune = now;
        kz_store_status_prune(srv->store, now - srv->cfg.status_retention_us, err, sizeof err);
    }
    pthread_mutex_unlock(&srv->prune_mu);
}

static void route(kz_taxii_server *srv, const kz_principal *who, const kz_taxii_request *req,
                  kz_taxii_response *res)
{
    char buf[2048];
    char *s[MAX_SEGS];
    int n = split_path(req->path, buf, sizeof buf, s);
    if (n <= 0) {
        kz_taxii_srv_error(res, 404, "Not found", "no such endpoint (TAXII paths end with '/')");
        return;
    }
    bool get = method_is(req, "GET");
    if (n == 1 && strcmp(s[0], "taxii2") == 0) {
        if (!get) {
            res->allow = "GET";
            kz_taxii_srv_error(res, 405, "Method not allowed", "use GET");
            return;
        }
        discovery(srv, res);
        return;
    }
    const char *root = s[0];
    if (n == 1 || (n == 2 && strcmp(s[1], "collections") == 0) ||
        (n == 3 && strcmp(s[1], "status") == 0)) {
        if (!get) {
            res->allow = "GET";
            kz_taxii_srv_error(res, 405, "Method not allowed", "use GET");
            return;
        }
        if (n == 1)
            api_root(srv, root, res);
        else if (n == 2)
            collections(srv, who, root, res);
        else if (root_exists(srv, root, res, NULL))
            status_get(srv, who, root, s[2], res);
        return;
    }
    bool known = n >= 3 && n <= 6 && strcmp(s[1], "collections") == 0;
    if (known && n == 4)
        known = strcmp(s[3], "manifest") == 0 || strcmp(s[3], "objects") == 0;
    if (known && n >= 5)
        known = strcmp(s[3], "objects") == 0 && (n == 5 || strcmp(s[5], "versions") == 0);
    if (!known) {
        kz_taxii_srv_error(res, 404, "Not found", "no such endpoint");
        return;
    }
    /* allowed methods per endpoint, checked before the collection so 405 leaks nothing */
    const char *allow = n == 3 || n == 6 || (n == 4 && strcmp(s[3], "manifest") == 0) ? "GET"
                        : n == 4                                                      ? "GET, POST"
                                 : "GET, DELETE";
    bool allowed = get || (method_is(req, "POST") && strstr(allow, "POST")) ||
                   (method_is(req, "DELETE") && strstr(allow, "DELETE"));
    if (!allowed) {
        res->allow = allow;
        kz_taxii_srv_error(res, 405, "Method not allowed", allow);
        return;
    }
    kz_store_collection c;
    bool r = false, w = false;
    if (!find_collection(srv, who, root, s[2], &c, &r, &w, res))
        return;
    if (n == 3) {
        if (req->headers_only)
            proceed(res);
        else
            set_json(res, 200, collection_json(&c, r, w));
    } else if (method_is(req, "POST")) {
        if (!w)
            kz_taxii_srv_error(res, 403, "Forbidden", "you may not write to this collection");
        else if (!kz_taxii_content_type_ok(req->content_type))
            kz_taxii_srv_error(res, 415, "Unsupported media type",
                               "POST a body of type " KZ_TAXII_MEDIA_TYPE);
        else if (req->headers_only)
            proceed(res);
        else
            kz_taxii_srv_add_objects(srv, who, &c, req, res);
    } else if (method_is(req, "DELETE")) {
        if (!r || !w)
            kz_taxii_srv_error(res, 403, "Forbidden", "deleting needs both read and write access");
        else if (req->headers_only)
            proceed(res);
        else
            delete_object(srv, req, res, &c, s[4]);
    } else if (!r) {
        kz_taxii_srv_error(res, 403, "Forbidden", "you may not read this collection");
    } else if (req->headers_only) {
        proceed(res);
    } else if (n == 4) {
        bool manifest = strcmp(s[3], "manifest") == 0;
        page(srv, who, req, res, &c, KZ_TAXII_EP_OBJECTS, NULL,
             manifest ? PAGE_MANIFEST : PAGE_OBJECTS);
    } else if (n == 5) {
        page(srv, who, req, res, &c, KZ_TAXII_EP_OBJECT, s[4], PAGE_OBJECTS);
    } else {
        page(srv, who, req, res, &c, KZ_TAXII_EP_VERSIONS, s[4], PAGE_VERSIONS);
    }
    kz_store_collection_free(&c);
}

void kz_taxii_handle(kz_taxii_server *srv, const kz_taxii_request *req, kz_taxii_response *res)
{
    memset(res, 0, sizeof *res);
    res->status = 500;
    maybe_prune(srv);
    kz_principal who;
    char err[256];
    int rc =
        kz_policy_authenticate(srv->store, srv->cache, req->authorization, &who, err, sizeof err);
    if (rc < 0) {
        store_error(res, err);
        return;
    }
    if (rc == 1) {
        res->challenge = true;
        kz_taxii_srv_error(res, 401, "Unauthorized",
                           "authenticate with HTTP Basic or a bearer token");
        return;
    }
    snprintf(res->account, sizeof res->account, "%s", who.name);
    if (!kz_taxii_accept_ok(req->accept)) {
        kz_taxii_srv_error(res, 406, "Not acceptable", "send Accept: " KZ_TAXII_MEDIA_TYPE);
        return;
    }
    route(srv, &who, req, res);
}
