/*
 * kizuna sensor and the hub: the indicator pull (full first, then incremental by the cursor
 * kept in the state directory), the indicator set on disk, and sightings through the durable
 * outbox.
 *
 * Invariants: a pulled page's indicators are appended to state/indicators.jsonl and fsync'd
 * (one fsync per page) before the cursor is saved past that page, so a restart without the
 * hub, even after a power loss, loads everything the cursor claims; duplicates in the file
 * are harmless (the engine keeps the newest version of an id). The file is compacted (lib/
 * sensor/store.c: one line per id, tombstones kept, written beside and renamed over) after a
 * pull once it holds more than twice as many lines as ids. Sightings are enqueued (durable)
 * before any delivery attempt, and only the outbox removes them, after the hub listed them as
 * stored. What the hub refuses is dead-lettered by the outbox and said on stderr with the
 * hub's reason (the first FLUSH_SHOWN per flush, then a count), as are status entries the
 * outbox could not match.
 * Test hooks (environment): KIZUNA_SENSOR_COMPACT_MIN (lines before compaction is
 * considered, default 1024) and KIZUNA_SENSOR_COMPACT_CRASH (1..3: SIGKILL at that point of a
 * compaction, kz_sensor_compact_hook stages).
 */
#include "sensor_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *first_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[4096];
    char *r = NULL;
    if (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = 0;
        r = strdup(buf);
    }
    fclose(f);
    return r;
}

static void path_join(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* A cursor / outbox name from a collection id: [A-Za-z0-9._-] only. */
static void safe_name(char *out, size_t n, const char *prefix, const char *coll)
{
    size_t k = (size_t)snprintf(out, n, "%s", prefix);
    for (const char *p = coll; *p && k + 1 < n && k < 120; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out[k++] = ok ? c : '_';
    }
    out[k] = 0;
}

int sensor_hub_open(sensor *s)
{
    if (!s->hub)
        return 0;
    kz_taxii_client_opts co = {0};
    char *secret = NULL;
    if (s->user) {
        if (s->password_file)
            secret = first_line(s->password_file);
        else if (getenv("KIZUNA_PASSWORD"))
            secret = strdup(getenv("KIZUNA_PASSWORD"));
        if (!secret) {
            fprintf(stderr, "kizuna sensor: --user needs $KIZUNA_PASSWORD or --password-file\n");
            return -1;
        }
        co.user = s->user;
        co.password = secret;
    } else if (s->token_file || getenv("KIZUNA_TOKEN")) {
        secret = s->token_file ? first_line(s->token_file) : strdup(getenv("KIZUNA_TOKEN"));
        if (!secret) {
            fprintf(stderr, "kizuna sensor: cannot read the token file %s\n", s->token_file);
            return -1;
        }
        co.token = secret;
    }
    co.cacert = s->cacert;
    co.insecure = s->insecure;
    co.connect_timeout_ms = 3000;
    co.timeout_ms = 60000;
    co.retries = -1; /* the sensor retries on its own schedule; never stall the record path */
    kz_taxii_error err;
    s->client = kz_taxii_client_new(s->hub, &co, &err);
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    if (!s->client) {
        fprintf(stderr, "kizuna sensor: %s\n", err.message);
        return -1;
    }
    if (mkdir(s->state_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "kizuna sensor: cannot create the state directory %s: %s\n",
                s->state_dir, strerror(errno));
        return -1;
    }
    if (s->sightings_collection && s->org) {
        char name[200], path[4096];
        safe_name(name, sizeof name, "outbox-", s->sightings_collection);
        strncat(name, ".sqlite", sizeof name - strlen(name) - 1);
        path_join(path, sizeof path, s->state_dir, name);
        s->outbox = kz_taxii_outbox_open(path, &err);
        if (!s->outbox) {
            fprintf(stderr, "kizuna sensor: outbox %s: %s\n", path, err.message);
            return -1;
        }
    }
    if (s->collection) {
        char path[4096], e[512] = "";
        path_join(path, sizeof path, s->state_dir, "indicators.jsonl");
        s->store = kz_sensor_store_open(path, e, sizeof e);
        if (!s->store) {
            fprintf(stderr, "kizuna sensor: the indicator set on disk: %s\n", e);
            return -1;
        }
    }
    return 0;
}

void sensor_hub_close(sensor *s)
{
    kz_sensor_store_close(s->store);
    s->store = NULL;
    kz_taxii_outbox_close(s->outbox);
    s->outbox = NULL;
    kz_taxii_client_free(s->client);
    s->client = NULL;
}

#define LOAD_CHUNK (16u << 20)

/* JSON lines when the first line is a whole object that is not a bundle. */
static bool looks_jsonl(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == n || p[i] != '{')
        return false;
    const char *nl = memchr(p + i, '\n', n - i);
    if (!nl)
        return false;
    size_t e = (size_t)(nl - p);
    while (e > i && (p[e - 1] == ' ' || p[e - 1] == '\r' || p[e - 1] == '\t'))
        e--;
    if (e == i || p[e - 1] != '}')
        return false;
    json_t *j = json_loadb(p + i, e - i, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "type"));
    bool ok = j && (!t || strcmp(t, "bundle") != 0);
    json_decref(j);
    return ok;
}

long sensor_load_indicators(sensor *s, const char *path, bool torn_tail)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (torn_tail && errno == ENOENT)
            return 0;
        fprintf(stderr, "kizuna sensor: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    kz_buf b;
    kz_buf_init(&b);
    kz_diags d;
    kz_diags_init(&d);
    kz_engine_txn *t = kz_engine_txn_begin(s->engine);
    char *chunk = malloc(1 << 16);
    int mode = 0; /* 0 undecided, 1 JSON lines (chunked), 2 one document (whole) */
    size_t limit = LOAD_CHUNK;
    const char *ev = getenv("KIZUNA_SENSOR_LOAD_CHUNK"); /* tests: force several chunks */
    if (ev && atol(ev) > 0)
        limit = (size_t)atol(ev);
    bool bad = !t || !chunk, eof = false;
    while (!bad && !eof) {
        size_t n = fread(chunk, 1, 1 << 16, f);
        if (n == 0) {
            eof = true;
            bad = ferror(f) != 0;
        } else if (kz_buf_append(&b, chunk, n) < 0) {
            bad = true;
        }
        if (bad || (!eof && b.len < limit))
            continue;
        if (mode == 0)
            mode = looks_jsonl(b.data ? b.data : "", b.len) ? 1 : 2;
        if (mode != 1 && !eof)
            continue;
        size_t cut = b.len;
        if (mode == 1)
            while (cut && b.data[cut - 1] != '\n')
                cut--;
        if (eof && !(mode == 1 && torn_tail))
            cut = b.len;
        if (cut && kz_engine_txn_load(t, b.data, cut, &d) < 0)
            bad = true;
        if (cut) {
            memmove(b.data, b.data + cut, b.len - cut);
            b.len -= cut;
        }
    }
    fclose(f);
    free(chunk);
    kz_buf_free(&b);
    kz_diags_free(&d);
    char err[256] = "out of memory";
    long c = t ? kz_engine_txn_commit(t, err, sizeof err) : -1;
    if (bad || c < 0) {
        fprintf(stderr, "kizuna sensor: loading %s: %s\n", path, bad ? "read error" : err);
        return -1;
    }
    return c;
}

long sensor_hub_load_disk(sensor *s)
{
    char path[4096];
    path_join(path, sizeof path, s->state_dir, "indicators.jsonl");
    /* a crash may leave a torn last line: it is pulled again (the cursor never passed it) */
    return sensor_load_indicators(s, path, true);
}

typedef struct pull_ctx {
    sensor *s;
    json_t *batch;
    bool write_failed;
    char sync_err[256]; /* why a page could not be made durable */
} pull_ctx;

static int on_object(void *ctx, json_t *obj)
{
    pull_ctx *p = ctx;
    /* buffered; the page's end syncs it before the cursor moves past it */
    if (kz_sensor_store_append(p->s->store, obj) < 0) {
        p->write_failed = true;
        return 1;
    }
    json_array_append(p->batch, obj);
    return 0;
}

/* A page's end: its lines reach the disk (one fsync) before the client saves the cursor past
 * them, so a power loss costs at most the page being read. */
static int on_page(void *ctx)
{
    pull_ctx *p = ctx;
    return kz_sensor_store_sync(p->s->store, p->sync_err, sizeof p->sync_err) < 0;
}

static int compact_hook(void *ctx, int stage)
{
    const char *ev = getenv("KIZUNA_SENSOR_COMPACT_CRASH"); /* tests: a crash right here */
    (void)ctx;
    if (ev && atoi(ev) == stage)
        raise(SIGKILL);
    return 0;
}

/* After a pull: rewrite the set on disk once it is mostly old versions. A failure keeps the
 * old file, which stays correct. */
static void maybe_compact(sensor *s)
{
    uint64_t min = 1024;
    const char *ev = getenv("KIZUNA_SENSOR_COMPACT_MIN");
    if (ev && atol(ev) > 0)
        min = (uint64_t)atol(ev);
    /* after a failure (a full disk), try again only once the file has grown */
    static uint64_t failed_at;
    if (!s->store || !kz_sensor_store_should_compact(s->store, min) ||
        kz_sensor_store_lines(s->store) == failed_at)
        return;
    kz_sensor_compact_stats cs;
    char err[512];
    if (kz_sensor_store_compact(s->store, NULL, compact_hook, NULL, &cs, err, sizeof err) < 0) {
        failed_at = kz_sensor_store_lines(s->store);
        fprintf(stderr, "kizuna sensor: compacting the indicator set on disk failed (the "
                        "old file stays in use): %s\n", err);
        return;
    }
    if (!s->quiet)
        fprintf(stderr,
                "kizuna sensor: compacted the indicator set on disk: %llu lines to %llu "
                "(%zu ids)\n",
                (unsigned long long)cs.lines_in, (unsigned long long)cs.lines_out,
                kz_sensor_store_ids(s->store));
}

long sensor_hub_pull(sensor *s)
{
    if (!s->client || !s->collection || !s->store)
        return 0;
    pull_ctx p = {s, json_array(), false, ""};
    if (!p.batch)
        return -1;
    char name[200];
    safe_name(name, sizeof name, "pull-", s->collection);
    kz_taxii_get_filter f = {0};
    f.match_type = "indicator";
    f.limit = 1000;
    kz_taxii_page_result res;
    memset(&res, 0, sizeof res); /* a pull that fails before its first page fills nothing */
    int rc = kz_taxii_pull(s->client, NULL, s->collection, &f, s->state_dir, name, on_object,
                           on_page, &p, &res);
    size_t objects = res.objects, pages = res.pages;
    long loaded = 0;
    if (json_array_size(p.batch)) {
        kz_diags d;
        kz_diags_init(&d);
        char err[256];
        loaded = kz_engine_load_json(s->engine, p.batch, &d, err, sizeof err);
        if (loaded < 0)
            fprintf(stderr, "kizuna sensor: loading pulled indicators: %s\n", err);
        kz_diags_free(&d);
    }
    json_decref(p.batch);
    /* also when the hub is down: a set that grew in earlier runs is compacted at start */
    maybe_compact(s);
    if (rc < 0) {
        fprintf(stderr, "kizuna sensor: pull from %s failed: %s%s\n", s->hub,
                p.write_failed ? "cannot write the indicator set; " : "",
                p.sync_err[0] ? p.sync_err : kz_taxii_client_error(s->client)->message);
        return -1;
    }
    if (!s->quiet && objects)
        fprintf(stderr, "kizuna sensor: pulled %zu indicator objects (%zu pages)\n", objects,
                pages);
    return loaded;
}

#define FLUSH_SHOWN 20

typedef struct flush_ctx {
    size_t shown, hidden;
} flush_ctx;

static void on_flush_event(void *ctx, kz_taxii_flush_event ev, const char *id,
                           const char *version, const char *message)
{
    flush_ctx *f = ctx;
    if (f->shown >= FLUSH_SHOWN) {
        f->hidden++;
        return;
    }
    f->shown++;
    if (ev == KZ_TAXII_FLUSH_REFUSED)
        fprintf(stderr, "kizuna sensor: the hub refused %s (version %s): %s\n", id, version,
                message);
    else if (ev == KZ_TAXII_FLUSH_UNMATCHED)
        fprintf(stderr, "kizuna sensor: the hub's status names %s (version %s), which was not "
                "sent: %s\n", id[0] ? id : "(no id)", version[0] ? version : "(none)", message);
    else
        fprintf(stderr, "kizuna sensor: no verdict from the hub on %s (version %s): %s\n", id,
                version, message);
}

int sensor_outbox_flush(sensor *s, bool final)
{
    if (!s->outbox || !s->client)
        return 0;
    flush_ctx fc = {0, 0};
    kz_taxii_flush_opts fo = {.wait_ms = 10000, .notify = on_flush_event, .notify_ctx = &fc};
    kz_taxii_flush_report rep = {0};
    kz_taxii_error err;
    int rc = kz_taxii_outbox_flush(s->outbox, s->client, NULL, s->sightings_collection, &fo,
                                   &rep, &err);
    if (fc.hidden)
        fprintf(stderr, "kizuna sensor: ... and %zu more such reports\n", fc.hidden);
    if (rep.rejected) {
        char name[200];
        safe_name(name, sizeof name, "outbox-", s->sightings_collection);
        fprintf(stderr,
                "kizuna sensor: %zu objects refused by the hub are kept as dead letters: "
                "kizuna taxii outbox dead --outbox %s/%s.sqlite\n",
                rep.rejected, s->state_dir, name);
    }
    if (rc < 0)
        fprintf(stderr,
                "kizuna sensor: sightings not delivered (%s); %zu stay queued in %s for the "
                "next run\n",
                err.message, rep.remaining, s->state_dir);
    else if (!s->quiet && (rep.delivered || rep.rejected || rep.unmatched || rep.unconfirmed ||
                           final))
        fprintf(stderr,
                "kizuna sensor: sightings delivered %zu, rejected %zu, still queued %zu%s\n",
                rep.delivered, rep.rejected, rep.remaining,
                rep.unmatched || rep.unconfirmed ? " (the hub's status did not account for "
                                                   "every object: see above)"
                                                 : "");
    return rc;
}

int sensor_sightings_emit(sensor *s, int64_t until_us)
{
    if (!s->sight)
        return 0;
    json_t *arr = kz_sensor_sightings_close(s->sight, until_us);
    if (!arr)
        return -1;
    int rc = 0;
    if (json_array_size(arr) && s->outbox) {
        kz_taxii_error err;
        if (kz_taxii_outbox_enqueue(s->outbox, arr, &err) < 0) {
            fprintf(stderr, "kizuna sensor: cannot queue %zu sightings: %s\n",
                    json_array_size(arr), err.message);
            rc = -1;
        }
    }
    json_decref(arr);
    return rc;
}
