/*
 * kizuna sensor and the hub: the indicator pull (full first, then incremental by the cursor
 * the TAXII client keeps in the state directory), the indicator set on disk, and sightings
 * through the durable outbox.
 *
 * Invariants: a pulled indicator is appended to state/indicators.jsonl (and flushed to the
 * kernel) before the client saves the cursor past its page, so a restart without the hub loads
 * everything the cursor claims; duplicates in the file are harmless (the engine keeps the
 * newest version of an id). Sightings are enqueued (durable) before any delivery attempt, and
 * only the outbox removes them, after the hub listed them as stored. Not done: compaction of
 * indicators.jsonl (it grows with every version pulled).
 */
#include "sensor_int.h"

#include <errno.h>
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
        char path[4096];
        path_join(path, sizeof path, s->state_dir, "indicators.jsonl");
        s->indfile = fopen(path, "a");
        if (!s->indfile) {
            fprintf(stderr, "kizuna sensor: cannot write %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

void sensor_hub_close(sensor *s)
{
    if (s->indfile)
        fclose(s->indfile);
    s->indfile = NULL;
    kz_taxii_outbox_close(s->outbox);
    s->outbox = NULL;
    kz_taxii_client_free(s->client);
    s->client = NULL;
}

static long load_text(sensor *s, const char *text, size_t len)
{
    kz_diags d;
    kz_diags_init(&d);
    char err[256];
    long n = kz_engine_load(s->engine, text, len, &d, err, sizeof err);
    if (n < 0)
        fprintf(stderr, "kizuna sensor: loading indicators: %s\n", err);
    kz_diags_free(&d);
    return n;
}

long sensor_hub_load_disk(sensor *s)
{
    char path[4096];
    path_join(path, sizeof path, s->state_dir, "indicators.jsonl");
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    kz_buf b;
    kz_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (kz_buf_append(&b, chunk, n) < 0)
            break;
    fclose(f);
    /* a crash may leave a torn last line: load up to the last newline */
    size_t len = b.len;
    while (len && b.data[len - 1] != '\n')
        len--;
    long r = len ? load_text(s, b.data, len) : 0;
    kz_buf_free(&b);
    return r;
}

typedef struct pull_ctx {
    sensor *s;
    json_t *batch;
    bool write_failed;
} pull_ctx;

static int on_object(void *ctx, json_t *obj)
{
    pull_ctx *p = ctx;
    char *txt = json_dumps(obj, JSON_COMPACT);
    if (!txt)
        return 1;
    bool ok = fputs(txt, p->s->indfile) >= 0 && fputc('\n', p->s->indfile) != EOF;
    free(txt);
    /* the client saves the cursor after this page: the line must be in the kernel first */
    if (!ok || fflush(p->s->indfile) != 0) {
        p->write_failed = true;
        return 1;
    }
    json_array_append(p->batch, obj);
    return 0;
}

long sensor_hub_pull(sensor *s)
{
    if (!s->client || !s->collection)
        return 0;
    pull_ctx p = {s, json_array(), false};
    if (!p.batch)
        return -1;
    kz_taxii_get_filter f = {0};
    f.match_type = "indicator";
    f.limit = 1000;
    char name[200];
    safe_name(name, sizeof name, "pull-", s->collection);
    kz_taxii_page_result res;
    int rc = kz_taxii_pull(s->client, NULL, s->collection, &f, s->state_dir, name, on_object, &p,
                           &res);
    if (s->indfile)
        fsync(fileno(s->indfile));
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
    if (rc < 0) {
        const kz_taxii_error *e = kz_taxii_client_error(s->client);
        fprintf(stderr, "kizuna sensor: pull from %s failed: %s%s\n", s->hub,
                p.write_failed ? "cannot write the indicator set; " : "", e->message);
        return -1;
    }
    if (!s->quiet && res.objects)
        fprintf(stderr, "kizuna sensor: pulled %zu indicator objects (%zu pages)\n", res.objects,
                res.pages);
    return loaded;
}

int sensor_outbox_flush(sensor *s, bool final)
{
    if (!s->outbox || !s->client)
        return 0;
    kz_taxii_flush_opts fo = {0};
    fo.wait_ms = 10000;
    kz_taxii_flush_report rep = {0};
    kz_taxii_error err;
    int rc = kz_taxii_outbox_flush(s->outbox, s->client, NULL, s->sightings_collection, &fo,
                                   &rep, &err);
    if (rc < 0)
        fprintf(stderr,
                "kizuna sensor: sightings not delivered (%s); %zu stay queued in %s for the "
                "next run\n",
                err.message, rep.remaining, s->state_dir);
    else if (!s->quiet && (rep.delivered || rep.rejected || final))
        fprintf(stderr,
                "kizuna sensor: sightings delivered %zu, rejected %zu, still queued %zu\n",
                rep.delivered, rep.rejected, rep.remaining);
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
