/*
 * kizuna taxii: a TAXII 2.1 client for operators and tests, over lib/taxii's client: discover
 * a server, list collections, read objects (one page, every page, or incrementally with a
 * cursor kept in a state directory), post objects and wait for their status, and drive a
 * durable outbox (queue, flush, inspect).
 *
 * Credentials never come from the command line (where ps and shell history would show
 * them): a password from KIZUNA_PASSWORD or --password-file, a token from KIZUNA_TOKEN or
 * --token-file. Objects go to stdout as JSON lines; summaries and errors go to stderr.
 */
#include "cli.h"

#include <kizuna/taxii_client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_taxii_usage(void)
{
    printf(
        "usage: kizuna taxii ACTION [options]\n\n"
        "  discover URL                              the discovery resource (URL = .../taxii2/)\n"
        "  collections URL                           the collections of the API root URL\n"
        "  get URL --collection ID [filters] [--limit N] [--all | --state DIR]\n"
        "                                            objects as JSON lines (one page, or every\n"
        "                                            page with --all; --state DIR pulls only\n"
        "                                            what was added since the last pull)\n"
        "  post URL --collection ID [--batch N] FILE objects of FILE (bundle, array, object or\n"
        "                                            JSON lines; '-' is stdin) in envelopes of\n"
        "                                            at most N (500); waits for each status\n"
        "  outbox add --outbox DB FILE               queue objects durably\n"
        "  outbox flush URL --collection ID --outbox DB [--batch N]\n"
        "                                            deliver what is queued\n"
        "  outbox status --outbox DB                 objects waiting and dead-lettered\n"
        "  outbox dead --outbox DB                   the refused objects with the reasons\n\n"
        "filters: --added-after T  --match-type T[,T]  --match-id ID[,ID]\n"
        "         --match-version last|first|all|T  --match-spec-version V\n\n"
        "credentials: --user NAME with the password in $KIZUNA_PASSWORD or --password-file F\n"
        "             (first line), or a token in $KIZUNA_TOKEN or --token-file F.\n"
        "TLS:         --cacert FILE (e.g. the hub's hub-cert.pem), --insecure (no verification)\n"
        "other:       --timeout SECONDS (120), --retries N (3, GET only), --wait SECONDS (60,\n"
        "             status polling), --max-pages N\n\n"
        "Exit status: 0 done, 1 failed (network, HTTP error, files), 2 bad usage,\n"
        "3 done but some objects were refused, are still pending / queued, or a status did\n"
        "not account for every object posted.\n");
}

typedef struct topts {
    const char *collection, *added_after, *match_type, *match_id, *match_version, *match_spec;
    const char *user, *password_file, *token_file, *cacert, *state, *outbox;
    const char *limit, *batch, *timeout, *retries, *wait, *max_pages;
    bool all, insecure;
    const char *pos[4];
    int npos;
} topts;

static int parse(int argc, char **argv, topts *o)
{
    memset(o, 0, sizeof *o);
    struct {
        const char *name;
        const char **dst;
    } named[] = {
        {"--collection", &o->collection},
        {"--added-after", &o->added_after},
        {"--match-type", &o->match_type},
        {"--match-id", &o->match_id},
        {"--match-version", &o->match_version},
        {"--match-spec-version", &o->match_spec},
        {"--user", &o->user},
        {"--password-file", &o->password_file},
        {"--token-file", &o->token_file},
        {"--cacert", &o->cacert},
        {"--state", &o->state},
        {"--outbox", &o->outbox},
        {"--limit", &o->limit},
        {"--batch", &o->batch},
        {"--timeout", &o->timeout},
        {"--retries", &o->retries},
        {"--wait", &o->wait},
        {"--max-pages", &o->max_pages},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--all") == 0) {
            o->all = true;
            continue;
        }
        if (strcmp(a, "--insecure") == 0) {
            o->insecure = true;
            continue;
        }
        if (strcmp(a, "--password") == 0 || strcmp(a, "--token") == 0) {
            fprintf(stderr,
                    "kizuna taxii: %s is not accepted on the command line (visible to every "
                    "user); use $KIZUNA_%s or %s-file\n",
                    a, strcmp(a, "--token") == 0 ? "TOKEN" : "PASSWORD", a);
            return -1;
        }
        bool hit = false;
        for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
            if (strcmp(a, named[k].name) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "kizuna taxii: %s needs a value\n", a);
                    return -1;
                }
                *named[k].dst = argv[++i];
                hit = true;
                break;
            }
        if (hit)
            continue;
        if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr, "kizuna taxii: unknown option %s\n", a);
            return -1;
        }
        if (o->npos >= 4) {
            fprintf(stderr, "kizuna taxii: too many arguments\n");
            return -1;
        }
        o->pos[o->npos++] = a;
    }
    return 0;
}

static bool number(const char *s, const char *what, long min, long max, long *out)
{
    if (!s)
        return true;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        fprintf(stderr, "kizuna taxii: %s must be a number from %ld to %ld\n", what, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* First line of a file, without the newline; malloc'd. */
static char *first_line(const char *path)
{
    size_t n;
    char *s = kz_read_file(path, &n);
    if (!s) {
        fprintf(stderr, "kizuna taxii: cannot read %s\n", path);
        return NULL;
    }
    s[strcspn(s, "\r\n")] = 0;
    return s;
}

static void wipe(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

static kz_taxii_client *make_client(const topts *o, const char *url)
{
    kz_taxii_client_opts co = {0};
    char *secret = NULL;
    const char *env = NULL;
    long v;
    if (o->user) {
        co.user = o->user;
        if (o->password_file)
            secret = first_line(o->password_file);
        else if ((env = getenv("KIZUNA_PASSWORD")) != NULL)
            secret = strdup(env);
        else
            fprintf(stderr, "kizuna taxii: --user needs $KIZUNA_PASSWORD or --password-file\n");
        if (!secret)
            return NULL;
        co.password = secret;
    } else if (o->token_file || (env = getenv("KIZUNA_TOKEN")) != NULL) {
        secret = o->token_file ? first_line(o->token_file) : strdup(env);
        if (!secret)
            return NULL;
        co.token = secret;
    } else if (o->password_file) {
        fprintf(stderr, "kizuna taxii: --password-file needs --user\n");
        return NULL;
    }
    co.cacert = o->cacert;
    co.insecure = o->insecure;
    if (o->timeout) {
        if (!number(o->timeout, "--timeout", 1, 86400, &v)) {
            wipe(secret);
            return NULL;
        }
        co.timeout_ms = v * 1000;
    }
    if (o->retries) {
        if (!number(o->retries, "--retries", 0, 100, &v)) {
            wipe(secret);
            return NULL;
        }
        co.retries = v == 0 ? -1 : (int)v;
    }
    kz_taxii_error err;
    kz_taxii_client *c = kz_taxii_client_new(url, &co, &err);
    wipe(secret);
    if (!c)
        fprintf(stderr, "kizuna taxii: %s\n", err.message);
    return c;
}

static int fail(kz_taxii_client *c)
{
    fprintf(stderr, "kizuna taxii: %s\n", kz_taxii_client_error(c)->message);
    return 1;
}

static int print_json(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    return s ? 0 : 1;
}

static int do_resource(const topts *o, bool collections)
{
    if (o->npos != 2) {
        fprintf(stderr, "kizuna taxii: %s needs one URL\n", o->pos[0]);
        return 2;
    }
    kz_taxii_client *c = make_client(o, o->pos[1]);
    if (!c)
        return 2;
    json_t *doc = collections ? kz_taxii_collections(c, NULL) : kz_taxii_discover(c, NULL);
    int rc = doc ? print_json(doc) : fail(c);
    json_decref(doc);
    kz_taxii_client_free(c);
    return rc;
}

static int print_object(void *ctx, json_t *obj)
{
    (void)ctx;
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        return 1;
    int bad = puts(s) < 0;
    free(s);
    return bad;
}

static int do_get(const topts *o)
{
    long v;
    if (o->npos != 2 || !o->collection) {
        fprintf(stderr, "kizuna taxii: get needs an API root URL and --collection\n");
        return 2;
    }
    kz_taxii_get_filter f = {.added_after = o->added_after,
                             .match_type = o->match_type,
                             .match_id = o->match_id,
                             .match_version = o->match_version,
                             .match_spec_version = o->match_spec,
                             .max_pages = o->all || o->state ? 0 : 1};
    if (o->limit) {
        if (!number(o->limit, "--limit", 1, 1000000, &v))
            return 2;
        f.limit = (size_t)v;
    }
    if (o->max_pages) {
        if (!number(o->max_pages, "--max-pages", 1, 100000000, &v))
            return 2;
        f.max_pages = (size_t)v;
    }
    kz_taxii_client *c = make_client(o, o->pos[1]);
    if (!c)
        return 2;
    kz_taxii_page_result res;
    int rc = o->state ? kz_taxii_pull(c, NULL, o->collection, &f, o->state, NULL, print_object,
                                      NULL, NULL, &res)
                      : kz_taxii_get_objects(c, NULL, o->collection, &f, print_object, NULL, &res);
    fflush(stdout);
    fprintf(stderr, "%zu objects in %zu pages; more: %s%s%s; date_added_last: %s\n", res.objects,
            res.pages, res.more ? "yes" : "no", res.next[0] ? "; next: " : "", res.next,
            res.date_added_last[0] ? res.date_added_last : "-");
    int status = rc < 0 ? fail(c) : 0;
    kz_taxii_client_free(c);
    return status;
}

/* ---- reading objects from a file -------------------------------------------------------- */

typedef struct collect {
    json_t *objs;
    int errors;
    const char *path;
} collect;

static int on_doc(void *ctx, json_t *doc, int line)
{
    collect *c = ctx;
    json_t *list = NULL;
    if (json_is_array(doc))
        list = doc;
    else if (json_is_object(doc) && json_is_array(json_object_get(doc, "objects")))
        list = json_object_get(doc, "objects"); /* a bundle or a TAXII envelope */
    if (list)
        return json_array_extend(c->objs, list) < 0;
    if (json_is_object(doc))
        return json_array_append(c->objs, doc) < 0;
    fprintf(stderr, "%s:%d: not a STIX object, bundle or list\n", c->path, line);
    c->errors++;
    return 0;
}

static int on_err(void *ctx, const kz_json_error *e)
{
    collect *c = ctx;
    fprintf(stderr, "%s:%d:%d: %s\n", c->path, e->line, e->column, e->text);
    c->errors++;
    return 0;
}

static json_t *read_objects(const char *path)
{
    size_t len;
    char *buf = kz_read_file(path, &len);
    if (!buf) {
        fprintf(stderr, "kizuna taxii: cannot read %s\n", path);
        return NULL;
    }
    collect c = {json_array(), 0, path};
    int rc = kz_json_each_document(buf, len, on_doc, on_err, &c);
    free(buf);
    if (rc || c.errors) {
        json_decref(c.objs);
        return NULL;
    }
    return c.objs;
}

static void print_failures(json_t *doc)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(doc, "failures"), i, d)
    {
        fprintf(stderr, "refused: %s %s: %s\n", json_string_value(json_object_get(d, "id")),
                json_string_value(json_object_get(d, "version")),
                json_string_value(json_object_get(d, "message")));
    }
}

static int do_post(const topts *o)
{
    long batch = 500, wait = 60;
    if (o->npos != 3 || !o->collection) {
        fprintf(stderr, "kizuna taxii: post needs an API root URL, --collection and a FILE\n");
        return 2;
    }
    if (!number(o->batch, "--batch", 1, 100000, &batch) ||
        !number(o->wait, "--wait", 1, 86400, &wait))
        return 2;
    json_t *objs = read_objects(o->pos[2]);
    if (!objs)
        return 2;
    kz_taxii_client *c = make_client(o, o->pos[1]);
    if (!c) {
        json_decref(objs);
        return 2;
    }
    size_t n = json_array_size(objs), ok = 0, bad = 0, pending = 0, envelopes = 0, lost = 0;
    bool doubt = false; /* a status that did not match its envelope */
    int status = 0;
    for (size_t at = 0; at < n; at += (size_t)batch) {
        json_t *part = json_array();
        for (size_t k = at; k < n && k < at + (size_t)batch; k++)
            json_array_append(part, json_array_get(objs, k));
        size_t sent = json_array_size(part);
        kz_taxii_status st;
        int rc = kz_taxii_add_objects(c, NULL, o->collection, part, wait * 1000, &st);
        json_decref(part);
        if (rc < 0) {
            kz_taxii_status_free(&st);
            status = fail(c);
            break;
        }
        envelopes++;
        print_failures(st.doc);
        /* a status that does not account for every object sent leaves them in doubt: said,
         * and the exit status is 3, as for a refusal. Counts beyond the envelope (a broken or
         * hostile server) are not believed at all: the whole envelope is in doubt. */
        bool sane = st.success <= sent && st.failure <= sent - st.success &&
                    st.pending <= sent - st.success - st.failure;
        size_t told = sane ? st.success + st.failure + st.pending : 0;
        if (sane) {
            ok += st.success;
            bad += st.failure;
            pending += st.pending;
        }
        if (!sane || told != sent || st.total != sent) {
            fprintf(stderr,
                    "kizuna taxii: the status of envelope %zu (%s) accounts for %zu of the %zu "
                    "objects sent (%s)\n",
                    envelopes, st.id, told, sent,
                    sane ? "its counts fall short or its total differs"
                         : "its counts exceed the envelope and are ignored");
            lost += sent - told;
            doubt = true;
        }
        kz_taxii_status_free(&st);
    }
    printf("posted %zu objects in %zu envelopes: %zu succeeded, %zu refused, %zu pending",
           ok + bad + pending + lost, envelopes, ok, bad, pending);
    if (lost)
        printf(", %zu not accounted for by the status", lost);
    printf("\n");
    json_decref(objs);
    kz_taxii_client_free(c);
    return status ? status : (bad || pending || doubt) ? 3 : 0;
}

/* ---- the outbox ------------------------------------------------------------------------- */

static int print_dead(void *ctx, const char *id, const char *version, const char *reason,
                      const char *js)
{
    (void)ctx;
    json_t *o = json_loads(js, 0, NULL);
    json_t *rec = json_pack("{s:s,s:s,s:s,s:o*}", "id", id, "version", version, "reason", reason,
                            "object", o);
    int r = rec ? print_object(NULL, rec) : 1;
    json_decref(rec);
    return r;
}

/* Each refusal, unmatched status entry and unconfirmed object of a flush, on stderr, in the
 * form `post` uses for refusals. */
static void on_flush_event(void *ctx, kz_taxii_flush_event ev, const char *id,
                           const char *version, const char *message)
{
    (void)ctx;
    const char *what = ev == KZ_TAXII_FLUSH_REFUSED     ? "refused"
                       : ev == KZ_TAXII_FLUSH_UNMATCHED ? "unmatched status entry"
                                                        : "unconfirmed";
    fprintf(stderr, "%s: %s %s: %s\n", what, id[0] ? id : "(no id)",
            version[0] ? version : "(no version)", message ? message : "");
}

static int do_outbox(const topts *o)
{
    const char *act = o->npos > 1 ? o->pos[1] : "";
    if (!o->outbox) {
        fprintf(stderr, "kizuna taxii: outbox %s needs --outbox DB\n", act);
        return 2;
    }
    bool add = strcmp(act, "add") == 0, flush = strcmp(act, "flush") == 0;
    bool stat = strcmp(act, "status") == 0, dead = strcmp(act, "dead") == 0;
    if (!(add || flush || stat || dead) || ((add || flush) && o->npos != 3) ||
        ((stat || dead) && o->npos != 2) || (flush && !o->collection)) {
        fprintf(stderr, "kizuna taxii: usage: outbox add --outbox DB FILE | outbox flush URL "
                        "--collection ID --outbox DB | outbox status|dead --outbox DB\n");
        return 2;
    }
    long batch = 500, wait = 60;
    if (!number(o->batch, "--batch", 1, 100000, &batch) ||
        !number(o->wait, "--wait", 1, 86400, &wait))
        return 2;
    json_t *objs = add ? read_objects(o->pos[2]) : NULL;
    if (add && !objs)
        return 2;
    kz_taxii_client *c = flush ? make_client(o, o->pos[2]) : NULL;
    if (flush && !c)
        return 2;
    kz_taxii_error err = {0};
    int status = 0;
    kz_taxii_outbox *ob = kz_taxii_outbox_open(o->outbox, &err);
    if (!ob) {
        fprintf(stderr, "kizuna taxii: %s\n", err.message);
        status = 1;
    } else if (add) {
        if (kz_taxii_outbox_enqueue(ob, objs, &err) < 0) {
            fprintf(stderr, "kizuna taxii: %s\n", err.message);
            status = 1;
        } else {
            printf("queued %zu objects\n", json_array_size(objs));
        }
    } else if (flush) {
        kz_taxii_flush_opts fo = {.batch = (size_t)batch,
                                  .wait_ms = wait * 1000,
                                  .notify = on_flush_event};
        kz_taxii_flush_report rep;
        int rc = kz_taxii_outbox_flush(ob, c, NULL, o->collection, &fo, &rep, &err);
        printf("delivered %zu, refused %zu, waiting %zu (%zu envelopes)\n", rep.delivered,
               rep.rejected, rep.remaining, rep.envelopes);
        if (rep.unmatched || rep.unconfirmed)
            printf("status entries matching no queued object %zu, objects the status did not "
                   "mention %zu\n",
                   rep.unmatched, rep.unconfirmed);
        if (rc < 0) {
            fprintf(stderr, "kizuna taxii: %s\n", err.message);
            status = 1;
        } else if (rep.rejected || rep.remaining || rep.unmatched) {
            status = 3;
        }
    } else if (stat) {
        size_t p, d;
        if (kz_taxii_outbox_count(ob, &p, &d, &err) < 0) {
            fprintf(stderr, "kizuna taxii: %s\n", err.message);
            status = 1;
        } else {
            printf("waiting\t%zu\ndead\t%zu\n", p, d);
        }
    } else {
        int drc = kz_taxii_outbox_dead_each(ob, print_dead, NULL, &err);
        if (drc != 0) {
            fprintf(stderr, "kizuna taxii: %s\n", err.message);
            status = 1;
        }
    }
    kz_taxii_outbox_close(ob);
    kz_taxii_client_free(c);
    json_decref(objs);
    return status;
}

int cmd_taxii(int argc, char **argv)
{
    topts o;
    if (parse(argc, argv, &o) < 0)
        return 2;
    const char *act = o.npos ? o.pos[0] : "";
    if (strcmp(act, "discover") == 0)
        return do_resource(&o, false);
    if (strcmp(act, "collections") == 0)
        return do_resource(&o, true);
    if (strcmp(act, "get") == 0)
        return do_get(&o);
    if (strcmp(act, "post") == 0)
        return do_post(&o);
    if (strcmp(act, "outbox") == 0)
        return do_outbox(&o);
    fprintf(stderr, "kizuna taxii: unknown action '%s' (see kizuna taxii --help)\n", act);
    return 2;
}
