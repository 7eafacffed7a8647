/* Unit tests for the TAXII client (lib/taxii/client*.c) and outbox delivery (outbox.c)
 * against a scripted HTTP server on 127.0.0.1 in a thread: answers the real hub never gives
 * (5xx, wrong media types, pending statuses, paging without `next`, 413/422 on envelopes)
 * and the retry, error and origin rules. The real hub is exercised by
 * tests/cli/taxii_client.sh. Nothing but 127.0.0.1 is ever contacted. */
#include "kt.h"
#include "kt_net.h"

#include <arpa/inet.h>
#include <kizuna/taxii_client.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the scripted server ---------------------------------------------------------------- */

typedef struct answer {
    int status;
    const char *ctype; /* NULL: the TAXII media type */
    const char *headers;
    char *body; /* malloc'd */
} answer;

/* Decides the answer to one request. */
typedef void (*handler_fn)(const char *method, const char *target, const char *body, answer *a);

static struct {
    int fd, port;
    pthread_t th;
    handler_fn handler;
    int requests;
    char last_target[4096];
    char last_auth[512];
    char last_accept[256];
    char last_ctype[256];
    char last_agent[128];
    char targets[64][512];
} srv;

static void header_value(const char *req, const char *name, char *out, size_t n)
{
    out[0] = 0;
    size_t nl = strlen(name);
    for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= n)
                len = n - 1;
            memcpy(out, v, len);
            out[len] = 0;
            return;
        }
    }
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            return NULL;
        static char req[1 << 22];
        size_t len = 0;
        char *end = NULL;
        while (len < sizeof req - 1) {
            ssize_t r = read(c, req + len, sizeof req - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            req[len] = 0;
            end = strstr(req, "\r\n\r\n");
            if (end) {
                char cl[32];
                header_value(req, "Content-Length", cl, sizeof cl);
                size_t want = (size_t)(end + 4 - req) + (size_t)atol(cl);
                if (len >= want)
                    break;
            }
        }
        if (!end) {
            close(c);
            continue;
        }
        *end = 0;
        char method[16] = "", target[4096] = "";
        sscanf(req, "%15s %4095s", method, target);
        snprintf(srv.last_target, sizeof srv.last_target, "%s", target);
        if (srv.requests < 64)
            snprintf(srv.targets[srv.requests], sizeof srv.targets[0], "%s %.400s", method, target);
        header_value(req, "Authorization", srv.last_auth, sizeof srv.last_auth);
        header_value(req, "Accept", srv.last_accept, sizeof srv.last_accept);
        header_value(req, "Content-Type", srv.last_ctype, sizeof srv.last_ctype);
        header_value(req, "User-Agent", srv.last_agent, sizeof srv.last_agent);
        srv.requests++;
        answer a = {500, NULL, NULL, NULL};
        if (srv.handler)
            srv.handler(method, target, end + 4, &a);
        const char *body = a.body ? a.body : "";
        char head[1024];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                          "Connection: close\r\n\r\n",
                          a.status, a.ctype ? a.ctype : KZ_TAXII_MEDIA_TYPE, strlen(body),
                          a.headers ? a.headers : "");
        if (write(c, head, (size_t)hn) < 0 || write(c, body, strlen(body)) < 0)
            fprintf(stderr, "fake server: write failed\n");
        free(a.body);
        close(c);
    }
}

static void srv_start(void)
{
    if (srv.fd > 0)
        return;
    srv.fd = kt_listen_loopback(&srv.port);
    pthread_create(&srv.th, NULL, serve, NULL);
}

static void srv_reset(handler_fn h)
{
    srv_start();
    srv.handler = h;
    srv.requests = 0;
}

static char base[64];

static kz_taxii_client *client(const kz_taxii_client_opts *o)
{
    snprintf(base, sizeof base, "http://127.0.0.1:%d/api/", srv.port);
    kz_taxii_error e;
    kz_taxii_client *c = kz_taxii_client_new(base, o, &e);
    KT_CHECK_MSG(c != NULL, "%s", e.message);
    return c;
}

static char *sdup(const char *s)
{
    return strdup(s);
}

/* ---- handle and URL rules --------------------------------------------------------------- */

static void test_new_refuses_bad_urls(void)
{
    kz_taxii_error e;
    const char *bad[] = {"ftp://127.0.0.1/",
                         "127.0.0.1:8443",
                         "http://",
                         "http:///x",
                         "https://alice:pw@127.0.0.1/",
                         "file:///etc/passwd"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.kind = KZ_TAXII_OK;
        KT_CHECK_MSG(kz_taxii_client_new(bad[i], NULL, &e) == NULL, "%s", bad[i]);
        KT_CHECK(e.kind == KZ_TAXII_E_USAGE);
    }
    /* The error message never repeats a password given in options. */
    kz_taxii_client_opts o = {.user = "alice"};
    KT_CHECK(kz_taxii_client_new("http://127.0.0.1/", &o, &e) == NULL);
    kz_taxii_client_opts o2 = {.user = "alice", .password = "pw", .token = "t"};
    KT_CHECK(kz_taxii_client_new("http://127.0.0.1/", &o2, &e) == NULL);
    KT_CHECK(e.kind == KZ_TAXII_E_USAGE);
    KT_CHECK(kz_taxii_client_new(NULL, NULL, NULL) == NULL);
}

static void h_discovery(const char *m, const char *t, const char *b, answer *a)
{
    (void)m, (void)b;
    a->status = 200;
    if (strcmp(t, "/taxii2/") == 0)
        a->body = sdup("{\"title\":\"fake\",\"api_roots\":[\"/api/\"],\"default\":\"/api/\"}");
    else if (strcmp(t, "/api/collections/") == 0)
        a->body = sdup("{\"collections\":[{\"id\":\"c1\",\"title\":\"one\"}]}");
    else if (strcmp(t, "/api/collections/a%20b%2Fc/") == 0)
        a->body = sdup("{\"id\":\"a b/c\"}");
    else
        a->status = 404, a->body = sdup("{\"title\":\"Not found\",\"http_status\":404}");
}

static void test_discovery_headers_and_origin(void)
{
    srv_reset(h_discovery);
    kz_taxii_client_opts o = {.user = "alice", .password = "s3cret"};
    kz_taxii_client *c = client(&o);
    if (!c)
        return;
    json_t *d = kz_taxii_discover(c, "/taxii2/");
    KT_CHECK(d && strcmp(json_string_value(json_object_get(d, "title")), "fake") == 0);
    json_decref(d);
    KT_CHECK_STR(srv.last_accept, KZ_TAXII_MEDIA_TYPE);
    KT_CHECK_STR(srv.last_auth, "Basic YWxpY2U6czNjcmV0");
    KT_CHECK_STR(srv.last_agent, "kizuna/0.1");
    json_t *cs = kz_taxii_collections(c, NULL);
    KT_CHECK(cs && json_array_size(json_object_get(cs, "collections")) == 1);
    KT_CHECK_STR(srv.last_target, "/api/collections/");
    json_decref(cs);
    /* Ids and aliases are escaped as one path segment. */
    json_t *one = kz_taxii_collection(c, "/api/", "a b/c");
    KT_CHECK(one != NULL);
    json_decref(one);
    /* Credentials only go to the base origin: another host or port is refused unsent. */
    int before = srv.requests;
    char other[64];
    snprintf(other, sizeof other, "http://127.0.0.1:%d/api/", srv.port + 1);
    KT_CHECK(kz_taxii_api_root(c, other) == NULL);
    KT_CHECK(kz_taxii_client_error(c)->kind == KZ_TAXII_E_USAGE);
    KT_CHECK(kz_taxii_api_root(c, "https://127.0.0.1/api/") == NULL);
    KT_CHECK(srv.requests == before);
    /* A 404 names the status and the error object's title. */
    KT_CHECK(kz_taxii_collection(c, NULL, "nope") == NULL);
    const kz_taxii_error *e = kz_taxii_client_error(c);
    KT_CHECK(e->kind == KZ_TAXII_E_HTTP && e->http_status == 404);
    KT_CHECK_STR(e->title, "Not found");
    KT_CHECK(strstr(e->message, "HTTP 404") && strstr(e->message, "Not found"));
    KT_CHECK(!kz_taxii_error_transient(e));
    kz_taxii_client_free(c);
    /* A token is sent as a Bearer credential. */
    kz_taxii_client_opts t = {.token = "tok123"};
    c = client(&t);
    json_decref(kz_taxii_discover(c, "/taxii2/"));
    KT_CHECK_STR(srv.last_auth, "Bearer tok123");
    kz_taxii_client_free(c);
}

/* ---- errors and retries ----------------------------------------------------------------- */

static int flaky_left;
static void h_flaky(const char *m, const char *t, const char *b, answer *a)
{
    (void)m, (void)t, (void)b;
    if (flaky_left-- > 0) {
        a->status = 503;
        a->body = sdup("{\"title\":\"Busy\",\"description\":\"try later\",\"http_status\":503}");
        return;
    }
    a->status = 200;
    a->body = sdup("{\"title\":\"ok\"}");
}

static void test_retries_idempotent_only(void)
{
    srv_reset(h_flaky);
    kz_taxii_client_opts o = {.retries = 3, .retry_base_ms = 5};
    kz_taxii_client *c = client(&o);
    if (!c)
        return;
    flaky_left = 2;
    json_t *d = kz_taxii_discover(c, NULL);
    KT_CHECK(d != NULL);
    json_decref(d);
    KT_CHECK(srv.requests == 3);
    KT_CHECK(kz_taxii_client_requests(c) == 3);
    /* Out of retries: the last error is reported with the server's words. */
    srv.requests = 0;
    flaky_left = 10;
    KT_CHECK(kz_taxii_discover(c, NULL) == NULL);
    KT_CHECK(srv.requests == 4);
    const kz_taxii_error *e = kz_taxii_client_error(c);
    KT_CHECK(e->kind == KZ_TAXII_E_HTTP && e->http_status == 503 && kz_taxii_error_transient(e));
    KT_CHECK(strstr(e->message, "Busy: try later") != NULL);
    /* A POST is sent once. */
    srv.requests = 0;
    flaky_left = 10;
    kz_taxii_status st;
    json_t *objs = json_array();
    KT_CHECK(kz_taxii_add_objects(c, NULL, "c1", objs, 1000, &st) < 0);
    kz_taxii_status_free(&st);
    json_decref(objs);
    KT_CHECK(srv.requests == 1);
    kz_taxii_client_free(c);
}

static void test_connection_refused(void)
{
    /* A port nobody listens on: bind one, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sa.sin_port));
    kz_taxii_client_opts o = {.retries = 2, .retry_base_ms = 5};
    kz_taxii_error err;
    kz_taxii_client *c = kz_taxii_client_new(url, &o, &err);
    if (!c)
        return;
    KT_CHECK(kz_taxii_discover(c, "/taxii2/") == NULL);
    const kz_taxii_error *e = kz_taxii_client_error(c);
    KT_CHECK(e->kind == KZ_TAXII_E_NETWORK && e->http_status == 0);
    KT_CHECK(kz_taxii_client_requests(c) == 3);
    KT_CHECK(strstr(e->message, "/taxii2/") != NULL);
    kz_taxii_client_free(c);
}

static void h_wrong_type(const char *m, const char *t, const char *b, answer *a)
{
    (void)m, (void)b;
    a->status = 200;
    if (strstr(t, "html")) {
        a->ctype = "text/html";
        a->body = sdup("<html>login</html>");
    } else if (strstr(t, "notjson")) {
        a->body = sdup("{\"title\":");
    } else {
        a->status = 401;
        a->ctype = "application/json";
        a->body = sdup("not json at all");
    }
}

static void test_protocol_errors(void)
{
    srv_reset(h_wrong_type);
    kz_taxii_client *c = client(NULL);
    if (!c)
        return;
    KT_CHECK(kz_taxii_discover(c, "/html/") == NULL);
    KT_CHECK(kz_taxii_client_error(c)->kind == KZ_TAXII_E_PROTOCOL);
    KT_CHECK(strstr(kz_taxii_client_error(c)->message, "text/html") != NULL);
    KT_CHECK(kz_taxii_discover(c, "/notjson/") == NULL);
    KT_CHECK(kz_taxii_client_error(c)->kind == KZ_TAXII_E_PROTOCOL);
    /* An error without a TAXII error object still says the status. */
    KT_CHECK(kz_taxii_discover(c, "/other/") == NULL);
    KT_CHECK(kz_taxii_client_error(c)->http_status == 401);
    KT_CHECK(strstr(kz_taxii_client_error(c)->message, "HTTP 401") != NULL);
    kz_taxii_client_free(c);
    /* A body over the limit is refused, not truncated. */
    kz_taxii_client_opts o = {.max_response = 8};
    c = client(&o);
    KT_CHECK(kz_taxii_discover(c, "/html/") == NULL);
    KT_CHECK(kz_taxii_client_error(c)->kind == KZ_TAXII_E_PROTOCOL);
    kz_taxii_client_free(c);
}

/* ---- paging ----------------------------------------------------------------------------- */

/* Ten objects, three per page; pages by `next` unless the target asks for no-next mode, in
 * which case only added_after moves (TAXII makes next optional). */
static void h_pages(const char *m, const char *t, const char *b, answer *a)
{
    (void)m, (void)b;
    int start = 0;
    const char *p;
    bool nonext = strstr(t, "/nn/") != NULL;
    if ((p = strstr(t, "next=")))
        start = atoi(p + 5);
    else if ((p = strstr(t, "added_after=2026-01-01T00%3A00%3A")))
        start = atoi(p + 33);
    kz_buf out;
    kz_buf_init(&out);
    kz_buf_puts(&out, "{\"objects\":[");
    int end = start + 3 > 10 ? 10 : start + 3;
    for (int i = start; i < end; i++)
        kz_buf_printf(&out, "%s{\"id\":\"x--%d\"}", i > start ? "," : "", i);
    kz_buf_printf(&out, "],\"more\":%s", end < 10 ? "true" : "false");
    if (end < 10 && !nonext)
        kz_buf_printf(&out, ",\"next\":\"%d\"", end);
    kz_buf_puts(&out, "}");
    a->status = 200;
    a->body = kz_buf_take(&out);
    static char h[200];
    snprintf(h, sizeof h,
             "X-TAXII-Date-Added-First: 2026-01-01T00:00:%02dZ\r\n"
             "X-TAXII-Date-Added-Last: 2026-01-01T00:00:%02dZ\r\n",
             start, end);
    a->headers = h;
}

static int seen[16];
static int stop_at = -1;
static int on_obj(void *ctx, json_t *o)
{
    (void)ctx;
    int i = atoi(json_string_value(json_object_get(o, "id")) + 3);
    if (i == stop_at)
        return 1;
    if (i >= 0 && i < 16)
        seen[i]++;
    return 0;
}

static void test_paging(void)
{
    srv_reset(h_pages);
    kz_taxii_client *c = client(NULL);
    if (!c)
        return;
    memset(seen, 0, sizeof seen);
    kz_taxii_page_result r;
    kz_taxii_get_filter f = {.limit = 3, .match_type = "indicator,sighting"};
    KT_CHECK(kz_taxii_get_objects(c, NULL, "c1", &f, on_obj, NULL, &r) == 0);
    KT_CHECK(r.objects == 10 && r.pages == 4 && !r.more && r.next[0] == 0);
    KT_CHECK_STR(r.date_added_first, "2026-01-01T00:00:00Z");
    KT_CHECK_STR(r.date_added_last, "2026-01-01T00:00:10Z");
    for (int i = 0; i < 10; i++)
        KT_CHECK_MSG(seen[i] == 1, "object %d seen %d times", i, seen[i]);
    KT_CHECK(strstr(srv.last_target, "limit=3") && strstr(srv.last_target, "next=9") &&
             strstr(srv.last_target, "match[type]=indicator%2Csighting"));
    /* One page at a time, resuming with next. */
    f.max_pages = 1;
    KT_CHECK(kz_taxii_get_objects(c, NULL, "c1", &f, on_obj, NULL, &r) == 0);
    KT_CHECK(r.pages == 1 && r.objects == 3 && r.more);
    KT_CHECK_STR(r.next, "3");
    f.next = "6";
    KT_CHECK(kz_taxii_get_objects(c, NULL, "c1", &f, on_obj, NULL, &r) == 0);
    KT_CHECK(r.objects == 3 && strstr(srv.last_target, "next=6"));
    /* A server without next is followed by added_after. */
    memset(seen, 0, sizeof seen);
    kz_taxii_get_filter g = {0};
    KT_CHECK(kz_taxii_get_objects(c, "/nn/", "c1", &g, on_obj, NULL, &r) == 0);
    KT_CHECK(r.objects == 10 && r.pages == 4);
    for (int i = 0; i < 10; i++)
        KT_CHECK(seen[i] == 1);
    /* The callback stops the walk. */
    stop_at = 4;
    KT_CHECK(kz_taxii_get_objects(c, NULL, "c1", &g, on_obj, NULL, &r) < 0);
    KT_CHECK(kz_taxii_client_error(c)->kind == KZ_TAXII_E_CALLBACK && r.objects == 4);
    stop_at = -1;
    KT_CHECK(kz_taxii_get_objects(c, NULL, "", &g, on_obj, NULL, &r) < 0);
    kz_taxii_client_free(c);
}

/* ---- POST, status and the outbox --------------------------------------------------------- */

static int posts, status_gets;
/* 0 complete, 1 pending then complete, 2 413 above 4 objects, 3 422 if bad, 4 no successes list */
static int mode;

/* A status resource for the posted envelope: each object succeeds unless its id contains
 * "bad", which fails with a message. */
static void h_post(const char *m, const char *t, const char *b, answer *a)
{
    if (strcmp(m, "GET") == 0 && strstr(t, "/status/")) {
        status_gets++;
        a->status = 200;
        a->body =
            sdup("{\"id\":\"s1\",\"status\":\"complete\",\"total_count\":1,\"success_count\":1,"
                 "\"successes\":[{\"id\":\"x--1\",\"version\":\"2026-01-01T00:00:00Z\"}],"
                 "\"failure_count\":0,\"pending_count\":0}");
        return;
    }
    posts++;
    json_t *env = json_loads(b, 0, NULL);
    json_t *objs = json_object_get(env, "objects");
    size_t n = json_array_size(objs);
    if (mode == 2 && n > 4) {
        a->status = 413;
        a->body = sdup("{\"title\":\"Too large\",\"http_status\":413}");
        json_decref(env);
        return;
    }
    json_t *succ = json_array(), *fail = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *v = json_string_value(json_object_get(o, "modified"));
        if (mode == 3 && strstr(id, "bad")) {
            a->status = 422;
            a->body = sdup("{\"title\":\"Unprocessable\",\"description\":\"broken object\"}");
            json_decref(succ);
            json_decref(fail);
            json_decref(env);
            return;
        }
        /* Versions echoed with another precision still match. */
        json_t *d =
            json_pack("{s:s,s:s}", "id", id, "version",
                      strcmp(v, "2026-01-01T00:00:00Z") == 0 ? "2026-01-01T00:00:00.000Z" : v);
        if (strstr(id, "bad")) {
            json_object_set_new(d, "message", json_string("/pattern: broken"));
            json_array_append_new(fail, d);
        } else {
            json_array_append_new(succ, d);
        }
    }
    json_int_t nsucc = (json_int_t)json_array_size(succ);
    if (mode == 4) { /* counts only: the lists are optional in TAXII */
        json_decref(succ);
        succ = json_array();
    }
    json_t *st =
        json_pack("{s:s,s:s,s:I,s:I,s:o,s:I,s:o,s:I}", "id", "s1", "status",
                  mode == 1 ? "pending" : "complete", "total_count", (json_int_t)n, "success_count",
                  nsucc, "successes", succ, "failure_count", (json_int_t)json_array_size(fail),
                  "failures", fail, "pending_count", (json_int_t)0);
    a->status = 202;
    a->body = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    json_decref(env);
}

static void test_post_and_pending_status(void)
{
    srv_reset(h_post);
    kz_taxii_client *c = client(NULL);
    if (!c)
        return;
    posts = status_gets = 0;
    mode = 1;
    json_t *objs =
        json_pack("[{s:s,s:s,s:s}]", "type", "x", "id", "x--1", "modified", "2026-01-01T00:00:00Z");
    kz_taxii_status st;
    KT_CHECK(kz_taxii_add_objects(c, NULL, "c1", objs, 5000, &st) == 0);
    KT_CHECK(posts == 1 && status_gets >= 1);
    KT_CHECK_STR(st.status, "complete");
    KT_CHECK(st.total == 1 && st.success == 1 && st.doc);
    KT_CHECK_STR(srv.last_ctype, "");
    KT_CHECK(strstr(srv.targets[0], "POST /api/collections/c1/objects/") != NULL);
    kz_taxii_status_free(&st);
    mode = 0;
    KT_CHECK(kz_taxii_add_objects(c, NULL, "c1", objs, 5000, &st) == 0);
    KT_CHECK_STR(srv.last_ctype, KZ_TAXII_MEDIA_TYPE);
    kz_taxii_status_free(&st);
    json_decref(objs);
    kz_taxii_client_free(c);
}

static json_t *obj(const char *kind, int i)
{
    char id[64];
    snprintf(id, sizeof id, "x--%s%d", kind, i);
    return json_pack("{s:s,s:s,s:s,s:s}", "type", "x", "id", id, "modified", "2026-01-01T00:00:00Z",
                     "created", "2026-01-01T00:00:00Z");
}

static const char *ob_path(void)
{
    static char p[80];
    return kt_tmp_db(p, sizeof p, "tc-outbox");
}

static void rm_outbox(void)
{
    kt_rm_db(ob_path());
}

static int dead_seen;
static int on_dead(void *ctx, const char *id, const char *v, const char *reason, const char *js)
{
    (void)ctx, (void)v;
    dead_seen++;
    KT_CHECK(strstr(id, "bad") != NULL);
    KT_CHECK(reason && reason[0]);
    KT_CHECK(strstr(js, id) != NULL);
    return 0;
}

static void test_outbox_flush_verdicts(void)
{
    rm_outbox();
    srv_reset(h_post);
    kz_taxii_client *c = client(NULL);
    kz_taxii_error e;
    kz_taxii_outbox *ob = kz_taxii_outbox_open(ob_path(), &e);
    if (!c || !ob)
        return;
    json_t *arr = json_array();
    for (int i = 0; i < 10; i++)
        json_array_append_new(arr, obj(i == 3 || i == 7 ? "bad" : "ok", i));
    KT_CHECK(kz_taxii_outbox_enqueue(ob, arr, &e) == 0);
    json_decref(arr);
    /* Successes leave, failures go to the dead letters with the server's message. */
    mode = 0;
    posts = 0;
    kz_taxii_flush_opts fo = {.batch = 4};
    kz_taxii_flush_report rep;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK_MSG(rep.delivered == 8 && rep.rejected == 2 && rep.remaining == 0 &&
                     rep.envelopes == 3 && posts == 3,
                 "%zu %zu %zu %zu", rep.delivered, rep.rejected, rep.remaining, rep.envelopes);
    dead_seen = 0;
    KT_CHECK(kz_taxii_outbox_dead_each(ob, on_dead, NULL, &e) == 0 && dead_seen == 2);
    /* A pending status keeps everything queued. */
    json_t *one = obj("ok", 50);
    KT_CHECK(kz_taxii_outbox_enqueue(ob, one, &e) == 0);
    json_decref(one);
    mode = 1;
    kz_taxii_flush_opts quick = {.batch = 4, .wait_ms = 1};
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &quick, &rep, &e) == 0);
    KT_CHECK(rep.delivered == 0 && rep.remaining == 1);
    mode = 0;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK(rep.delivered == 1 && rep.remaining == 0);
    /* A status with counts but no successes list: all succeeded only if the counts say so. */
    json_t *two = json_array();
    json_array_append_new(two, obj("ok", 60));
    json_array_append_new(two, obj("ok", 61));
    KT_CHECK(kz_taxii_outbox_enqueue(ob, two, &e) == 0);
    json_decref(two);
    mode = 4;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK(rep.delivered == 2 && rep.remaining == 0);
    json_t *mixed = json_array();
    json_array_append_new(mixed, obj("ok", 62));
    json_array_append_new(mixed, obj("bad", 63));
    KT_CHECK(kz_taxii_outbox_enqueue(ob, mixed, &e) == 0);
    json_decref(mixed);
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK(rep.delivered == 0 && rep.rejected == 1 && rep.remaining == 1);
    mode = 0;
    kz_taxii_outbox_close(ob);
    kz_taxii_client_free(c);
    rm_outbox();
}

static void test_outbox_flush_refused_envelopes(void)
{
    rm_outbox();
    srv_reset(h_post);
    kz_taxii_client *c = client(NULL);
    kz_taxii_error e;
    kz_taxii_outbox *ob = kz_taxii_outbox_open(ob_path(), &e);
    if (!c || !ob)
        return;
    json_t *arr = json_array();
    for (int i = 0; i < 12; i++)
        json_array_append_new(arr, obj(i == 5 ? "bad" : "ok", i));
    kz_taxii_outbox_enqueue(ob, arr, &e);
    json_decref(arr);
    /* 413 above 4 objects: the envelope is halved until it fits. */
    mode = 2;
    kz_taxii_flush_opts fo = {.batch = 12};
    kz_taxii_flush_report rep;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK(rep.delivered == 11 && rep.rejected == 1 && rep.remaining == 0);
    /* 422 on the whole envelope: objects are resent one by one to find the culprit. */
    arr = json_array();
    for (int i = 20; i < 26; i++)
        json_array_append_new(arr, obj(i == 22 ? "bad" : "ok", i));
    kz_taxii_outbox_enqueue(ob, arr, &e);
    json_decref(arr);
    mode = 3;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK_MSG(rep.delivered == 5 && rep.rejected == 1 && rep.remaining == 0, "%zu %zu %zu",
                 rep.delivered, rep.rejected, rep.remaining);
    size_t p, d;
    kz_taxii_outbox_count(ob, &p, &d, &e);
    KT_CHECK(p == 0 && d == 2);
    /* A server error stops the flush and keeps the objects. */
    arr = json_array();
    json_array_append_new(arr, obj("ok", 90));
    kz_taxii_outbox_enqueue(ob, arr, &e);
    json_decref(arr);
    srv_reset(h_flaky);
    flaky_left = 100;
    e.kind = KZ_TAXII_OK;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) < 0);
    KT_CHECK(e.kind == KZ_TAXII_E_HTTP && e.http_status == 503 && rep.remaining == 1);
    KT_CHECK(srv.requests == 1); /* POST is not retried */
    kz_taxii_outbox_close(ob);
    kz_taxii_client_free(c);
    rm_outbox();
}

/* page_done: keeps keep_pages pages, refuses the next. */
static int pages_kept, keep_pages;
static int on_page(void *ctx)
{
    (void)ctx;
    return ++pages_kept > keep_pages;
}

static void test_pull_saves_cursor(void)
{
    char dir[] = "/tmp/kz-tc-state-XXXXXX";
    if (!mkdtemp(dir))
        return;
    srv_reset(h_pages);
    kz_taxii_client *c = client(NULL);
    if (!c)
        return;
    memset(seen, 0, sizeof seen);
    kz_taxii_page_result r;
    kz_taxii_get_filter f = {.limit = 3};
    /* Stop in the third page: the cursor stays at the end of the second. */
    stop_at = 7;
    KT_CHECK(kz_taxii_pull(c, "/nn/", "c1", &f, dir, "c1", on_obj, NULL, NULL, &r) < 0);
    stop_at = -1;
    char cur[64] = "";
    kz_taxii_error e;
    KT_CHECK(kz_taxii_cursor_load(dir, "c1", cur, sizeof cur, &e) == 1);
    KT_CHECK_STR(cur, "2026-01-01T00:00:06Z");
    /* The next pull starts from there and ends at the last object. */
    memset(seen, 0, sizeof seen);
    srv.requests = 0;
    KT_CHECK(kz_taxii_pull(c, "/nn/", "c1", &f, dir, "c1", on_obj, NULL, NULL, &r) == 0);
    KT_CHECK(r.objects == 4 && seen[6] == 1 && seen[9] == 1 && seen[5] == 0);
    KT_CHECK(strstr(srv.targets[0], "added_after=2026-01-01T00%3A00%3A06Z") != NULL);
    /* A page the caller cannot keep (page_done fails): the cursor stays before it. */
    KT_CHECK(kz_taxii_cursor_save(dir, "c2", "2026-01-01T00:00:03Z", &e) == 0);
    pages_kept = 0;
    keep_pages = 1;
    KT_CHECK(kz_taxii_pull(c, "/nn/", "c1", &f, dir, "c2", on_obj, on_page, NULL, &r) < 0);
    KT_CHECK(kz_taxii_client_error(c)->kind == KZ_TAXII_E_CALLBACK && pages_kept == 2);
    KT_CHECK(kz_taxii_cursor_load(dir, "c2", cur, sizeof cur, &e) == 1);
    KT_CHECK_STR(cur, "2026-01-01T00:00:06Z");
    KT_CHECK(kz_taxii_cursor_load(dir, "c1", cur, sizeof cur, &e) == 1);
    KT_CHECK_STR(cur, "2026-01-01T00:00:10Z");
    kz_taxii_client_free(c);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    KT_CHECK(system(cmd) == 0);
}

KT_MAIN(KT(test_new_refuses_bad_urls), KT(test_discovery_headers_and_origin),
        KT(test_retries_idempotent_only), KT(test_connection_refused), KT(test_protocol_errors),
        KT(test_paging), KT(test_post_and_pending_status), KT(test_outbox_flush_verdicts),
        KT(test_outbox_flush_refused_envelopes), KT(test_pull_saves_cursor))
