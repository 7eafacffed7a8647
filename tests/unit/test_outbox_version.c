/* Unit tests for how the outbox (lib/taxii/outbox.c) ties a status resource's per-object
 * verdicts back to queued objects that have no `modified`: SCOs (neither modified nor
 * created, so their version is whatever the server chose) and marking-definitions (created
 * only), against a scripted TAXII server on 127.0.0.1 in a thread. Covers refusals named
 * under another server's version for SCOs (dead-lettered and reported), status entries that
 * name nothing sent (reported), and objects a complete status leaves out (kept, reported).
 * The real hub's side is tests/cli/outbox_versionless.sh. Only 127.0.0.1 is contacted. */
#include "kt.h"
#include "kt_net.h"

#include <arpa/inet.h>
#include <kizuna/taxii_client.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- a scripted server: answers each POST with status_for(envelope) ---------------------- */

typedef char *(*status_fn)(json_t *objects);

static struct {
    int fd, port;
    pthread_t th;
    status_fn fn;
    int posts;
} srv;

static void *serve(void *arg)
{
    (void)arg;
    static char req[1 << 20];
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            return NULL;
        size_t len = 0;
        char *end = NULL;
        long want = -1;
        while (len < sizeof req - 1) {
            ssize_t r = read(c, req + len, sizeof req - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            req[len] = 0;
            if (!end && (end = strstr(req, "\r\n\r\n"))) {
                /* spelt as libcurl writes it */
                const char *cl = strstr(req, "\r\nContent-Length:");
                want = (long)(end + 4 - req) + (cl ? atol(cl + 17) : 0);
            }
            if (end && (long)len >= want)
                break;
        }
        char *body = NULL;
        int status = 500;
        if (end && strncmp(req, "POST ", 5) == 0) {
            srv.posts++;
            json_t *env = json_loads(end + 4, 0, NULL);
            body = srv.fn ? srv.fn(json_object_get(env, "objects")) : NULL;
            json_decref(env);
            status = body ? 202 : 500;
        }
        const char *b = body ? body : "{\"title\":\"no\"}";
        char head[512];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: " KZ_TAXII_MEDIA_TYPE
                          "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                          status, strlen(b));
        if (write(c, head, (size_t)hn) < 0 || write(c, b, strlen(b)) < 0)
            fprintf(stderr, "scripted server: write failed\n");
        free(body);
        close(c);
    }
}

static kz_taxii_client *start(status_fn fn)
{
    if (srv.fd <= 0) {
        srv.fd = kt_listen_loopback(&srv.port);
        pthread_create(&srv.th, NULL, serve, NULL);
    }
    srv.fn = fn;
    srv.posts = 0;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/api/", srv.port);
    kz_taxii_error e;
    kz_taxii_client *c = kz_taxii_client_new(base, NULL, &e);
    KT_CHECK_MSG(c != NULL, "%s", e.message);
    return c;
}

/* A complete status with the given successes and failures (json_t arrays, stolen). */
static char *status(size_t total, json_t *succ, json_t *fail)
{
    json_t *st = json_pack("{s:s,s:s,s:I,s:I,s:o,s:I,s:o,s:I}", "id", "s1", "status", "complete",
                           "total_count", (json_int_t)total, "success_count",
                           (json_int_t)json_array_size(succ), "successes", succ, "failure_count",
                           (json_int_t)json_array_size(fail), "failures", fail, "pending_count",
                           (json_int_t)0);
    char *s = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    return s;
}

static const char *ob_path(void)
{
    static char p[80];
    return kt_tmp_db(p, sizeof p, "outbox-version");
}

static void rm_outbox(void)
{
    kt_rm_db(ob_path());
}

/* What the flush reported through notify. */
static struct {
    int refused, unmatched, unconfirmed;
    char last_refused[512];
    char log[4096];
} ev;

static void on_event(void *ctx, kz_taxii_flush_event e, const char *id, const char *version,
                     const char *message)
{
    KT_CHECK(ctx == &ev && id && version && message && message[0]);
    if (e == KZ_TAXII_FLUSH_REFUSED) {
        ev.refused++;
        snprintf(ev.last_refused, sizeof ev.last_refused, "%s %s %s", id, version, message);
    } else if (e == KZ_TAXII_FLUSH_UNMATCHED) {
        ev.unmatched++;
    } else {
        ev.unconfirmed++;
    }
    size_t n = strlen(ev.log);
    snprintf(ev.log + n, sizeof ev.log - n, "%d %s %s|", (int)e, id, version);
}

static json_t *sco(const char *type, int i, const char *value)
{
    char id[80];
    snprintf(id, sizeof id, "%s--00000000-0000-4000-8000-%012d", type, i);
    return json_pack("{s:s,s:s,s:s,s:s}", "type", type, "spec_version", "2.1", "id", id, "value",
                     value);
}

static json_t *versioned(int i, const char *created, const char *modified)
{
    char id[80];
    snprintf(id, sizeof id, "marking-definition--00000000-0000-4000-8000-%012d", i);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "type", "marking-definition", "spec_version", "2.1",
                          "id", id, "created", created);
    if (modified)
        json_object_set_new(o, "modified", json_string(modified));
    return o;
}

static int dead_n;
static char dead_versions[512];
static int on_dead(void *ctx, const char *id, const char *v, const char *reason, const char *js)
{
    (void)ctx;
    dead_n++;
    KT_CHECK(strstr(js, id) != NULL && reason && strstr(reason, "hub says"));
    size_t n = strlen(dead_versions);
    snprintf(dead_versions + n, sizeof dead_versions - n, "%s|", v);
    return 0;
}

/* ---- the version key ------------------------------------------------------------------- */

static void test_object_version(void)
{
    json_t *s = sco("ipv4-addr", 1, "198.51.100.1");
    json_t *m = versioned(2, "2021-01-01T00:00:00.000Z", NULL);
    json_t *v = versioned(3, "2021-01-01T00:00:00.000Z", "2022-02-02T00:00:00.000Z");
    KT_CHECK_STR(kz_taxii_object_version(s), KZ_TAXII_UNVERSIONED);
    KT_CHECK_STR(kz_taxii_object_version(m), "2021-01-01T00:00:00.000Z");
    KT_CHECK_STR(kz_taxii_object_version(v), "2022-02-02T00:00:00.000Z");
    KT_CHECK(!kz_taxii_object_versioned(s) && kz_taxii_object_versioned(m) &&
             kz_taxii_object_versioned(v));
    /* A non-string modified does not count: the hub files it by created, so must we. */
    json_object_set_new(m, "modified", json_integer(5));
    KT_CHECK_STR(kz_taxii_object_version(m), "2021-01-01T00:00:00.000Z");
    json_decref(s);
    json_decref(m);
    json_decref(v);
}

/* ---- refusals named under another server's version for versionless objects -------------- */

/* Like a server whose "consistent value" for SCOs is not kizuna's: every SCO whose value
 * starts with "bad" fails under version "" (first), without a version (second), or under
 * the server's own timestamp (others); good SCOs succeed under that timestamp; versioned
 * objects are named by their own version, a marking-definition by its created. */
static char *h_other_server(json_t *objs)
{
    json_t *succ = json_array(), *fail = json_array();
    size_t i;
    json_t *o;
    int bad = 0;
    json_array_foreach(objs, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *value = json_string_value(json_object_get(o, "value"));
        json_t *d = json_pack("{s:s}", "id", id);
        if (kz_taxii_object_versioned(o))
            json_object_set_new(d, "version", json_string(kz_taxii_object_version(o)));
        else if (!(value && strncmp(value, "bad", 3) == 0 && bad == 1))
            json_object_set_new(d, "version",
                                json_string(value && strncmp(value, "bad", 3) == 0 && bad == 0
                                                ? ""
                                                : "2000-01-01T00:00:00Z"));
        if ((value && strncmp(value, "bad", 3) == 0) ||
            strstr(id, "marking-definition--00000000-0000-4000-8000-000000000021")) {
            bad += value != NULL;
            json_object_set_new(d, "message", json_string("the hub says: invalid value"));
            json_array_append_new(fail, d);
        } else {
            json_array_append_new(succ, d);
        }
    }
    return status(json_array_size(objs), succ, fail);
}

static void test_versionless_refusals_are_dead_lettered(void)
{
    rm_outbox();
    kz_taxii_client *c = start(h_other_server);
    kz_taxii_error e;
    kz_taxii_outbox *ob = kz_taxii_outbox_open(ob_path(), &e);
    if (!c || !ob)
        return;
    json_t *arr = json_array();
    json_array_append_new(arr, sco("domain-name", 1, "ok.example"));
    json_array_append_new(arr, sco("domain-name", 2, "bad name"));
    json_array_append_new(arr, sco("ipv4-addr", 3, "bad-address"));
    json_array_append_new(arr, sco("ipv4-addr", 4, "198.51.100.4"));
    json_array_append_new(arr, sco("domain-name", 5, "bad_too example"));
    json_array_append_new(arr, versioned(20, "2021-01-01T00:00:00.000Z", NULL));
    json_array_append_new(arr, versioned(21, "2021-01-01T00:00:00.000Z", NULL));
    KT_CHECK(kz_taxii_outbox_enqueue(ob, arr, &e) == 0);
    json_decref(arr);
    memset(&ev, 0, sizeof ev);
    kz_taxii_flush_opts fo = {.batch = 4, .notify = on_event, .notify_ctx = &ev};
    kz_taxii_flush_report rep;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK_MSG(rep.delivered == 3 && rep.rejected == 4 && rep.remaining == 0 &&
                     rep.unmatched == 0 && rep.unconfirmed == 0 && rep.envelopes == 2,
                 "delivered %zu rejected %zu remaining %zu unmatched %zu unconfirmed %zu",
                 rep.delivered, rep.rejected, rep.remaining, rep.unmatched, rep.unconfirmed);
    KT_CHECK_MSG(ev.refused == 4 && ev.unmatched == 0 && ev.unconfirmed == 0, "%s", ev.log);
    KT_CHECK(strstr(ev.last_refused, "the hub says: invalid value") != NULL);
    size_t p = 9, d = 9;
    KT_CHECK(kz_taxii_outbox_count(ob, &p, &d, &e) == 0 && p == 0 && d == 4);
    /* The dead letters keep the version they were queued under (kizuna's key). */
    dead_n = 0;
    dead_versions[0] = 0;
    KT_CHECK(kz_taxii_outbox_dead_each(ob, on_dead, NULL, &e) == 0 && dead_n == 4);
    KT_CHECK_STR(dead_versions, KZ_TAXII_UNVERSIONED
                 "|" KZ_TAXII_UNVERSIONED "|" KZ_TAXII_UNVERSIONED "|2021-01-01T00:00:00.000Z|");
    /* Nothing left: a second flush sends nothing. */
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    KT_CHECK(rep.envelopes == 0 && srv.posts == 2);
    kz_taxii_outbox_close(ob);
    kz_taxii_client_free(c);
    rm_outbox();
}

/* ---- entries that match nothing, objects a complete status leaves out ------------------ */

/* Names the first object under a wrong id, never mentions the second, refuses the third
 * (a versioned object) under another version, and accepts the rest. */
static char *h_sloppy(json_t *objs)
{
    json_t *succ = json_array(), *fail = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *v = kz_taxii_object_version(o);
        if (i == 0)
            json_array_append_new(fail, json_pack("{s:s,s:s,s:s}", "id", "ipv4-addr--ffff",
                                                  "version", v, "message", "the hub says: no"));
        else if (i == 2)
            json_array_append_new(fail, json_pack("{s:s,s:s,s:s}", "id", id, "version",
                                                  "1999-09-09T09:09:09.000Z", "message",
                                                  "the hub says: old"));
        else if (i != 1)
            json_array_append_new(succ, json_pack("{s:s,s:s}", "id", id, "version", v));
    }
    return status(json_array_size(objs), succ, fail);
}

static void test_unmatched_and_unconfirmed_are_reported(void)
{
    rm_outbox();
    kz_taxii_client *c = start(h_sloppy);
    kz_taxii_error e;
    kz_taxii_outbox *ob = kz_taxii_outbox_open(ob_path(), &e);
    if (!c || !ob)
        return;
    json_t *arr = json_array();
    json_array_append_new(arr, sco("ipv4-addr", 1, "198.51.100.1"));
    json_array_append_new(arr, sco("ipv4-addr", 2, "198.51.100.2"));
    json_array_append_new(arr, versioned(3, "2021-01-01T00:00:00.000Z", "2022-01-01T00:00:00Z"));
    json_array_append_new(arr, sco("ipv4-addr", 4, "198.51.100.4"));
    KT_CHECK(kz_taxii_outbox_enqueue(ob, arr, &e) == 0);
    json_decref(arr);
    memset(&ev, 0, sizeof ev);
    kz_taxii_flush_opts fo = {.batch = 10, .notify = on_event, .notify_ctx = &ev};
    kz_taxii_flush_report rep;
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &fo, &rep, &e) == 0);
    /* One success; the stray entry and the wrong-version refusal are unmatched; the three
     * objects they leave without a verdict stay queued and are reported. */
    KT_CHECK_MSG(rep.delivered == 1 && rep.rejected == 0 && rep.remaining == 3 &&
                     rep.unmatched == 2 && rep.unconfirmed == 3,
                 "delivered %zu rejected %zu remaining %zu unmatched %zu unconfirmed %zu",
                 rep.delivered, rep.rejected, rep.remaining, rep.unmatched, rep.unconfirmed);
    KT_CHECK_MSG(ev.unmatched == 2 && ev.unconfirmed == 3 && ev.refused == 0, "%s", ev.log);
    KT_CHECK(strstr(ev.log, "1 ipv4-addr--ffff") != NULL);
    size_t p = 0, d = 9;
    KT_CHECK(kz_taxii_outbox_count(ob, &p, &d, &e) == 0 && p == 3 && d == 0);
    /* The next flush asks again and reports the same (nothing is guessed into the dead
     * letters); without a callback the counts still say it. */
    kz_taxii_flush_opts quiet = {.batch = 10};
    KT_CHECK(kz_taxii_outbox_flush(ob, c, NULL, "c1", &quiet, &rep, &e) == 0);
    KT_CHECK_MSG(rep.unmatched == 2 && rep.unconfirmed == 3 && rep.rejected == 0 &&
                     rep.remaining == 3 && srv.posts == 2,
                 "unmatched %zu unconfirmed %zu rejected %zu remaining %zu", rep.unmatched,
                 rep.unconfirmed, rep.rejected, rep.remaining);
    kz_taxii_outbox_close(ob);
    kz_taxii_client_free(c);
    rm_outbox();
}

KT_MAIN(KT(test_object_version), KT(test_versionless_refusals_are_dead_lettered),
        KT(test_unmatched_and_unconfirmed_are_reported))
