/*
 * kizuna taxii outbox: a durable queue of STIX objects (a sensor's sightings) on their way
 * to a TAXII collection, in one SQLite file (WAL, synchronous=FULL).
 *
 * Tables: queue(seq, id, version, json) in arrival order with (id, version) unique, and
 * dead(seq, id, version, json, reason, at) for what the server refused.
 *
 * Invariants: enqueue returns only after its transaction is durable; a row leaves the queue
 * only in the same transaction that records the server's verdict on it (delete for a
 * success, move to dead for a refusal), and only after that verdict was received. So a crash
 * at any point loses nothing and at worst posts an object twice, which a TAXII server takes
 * as the same version (see taxii_client.h on stable ids). Rows are keyed by the version the
 * server files the object under (kz_taxii_object_version), which is also how its status
 * names them; a verdict that cannot be tied to a row, and a row a complete status leaves
 * out, are reported to the caller (counted, and through the notify callback), never
 * dropped in silence. Not here: the HTTP exchange (client*.c); retrying on a timer (the
 * caller decides when to flush).
 */
#include "client_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kz_taxii_outbox {
    sqlite3 *db;
    char *path;
};

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS queue(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL, version TEXT NOT NULL, json TEXT NOT NULL, enqueued INTEGER NOT NULL,"
    " UNIQUE(id, version));"
    "CREATE TABLE IF NOT EXISTS dead(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    " version TEXT NOT NULL, json TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);";

static void db_err(kz_taxii_outbox *ob, kz_taxii_error *err, const char *what)
{
    kz_tc_seterr(err, KZ_TAXII_E_STATE, 0, "outbox %s: %s: %s", ob->path, what,
                 sqlite3_errmsg(ob->db));
}

kz_taxii_outbox *kz_taxii_outbox_open(const char *path, kz_taxii_error *err)
{
    kz_taxii_outbox *ob = calloc(1, sizeof *ob);
    if (!ob || !path || !(ob->path = strdup(path))) {
        free(ob);
        kz_tc_seterr(err, path ? KZ_TAXII_E_NOMEM : KZ_TAXII_E_USAGE, 0,
                     path ? "out of memory" : "no outbox path");
        return NULL;
    }
    int rc = sqlite3_open_v2(
        path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(ob->db, 10000);
        rc = sqlite3_exec(ob->db, SCHEMA, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        if (ob->db)
            db_err(ob, err, "cannot open");
        else
            kz_tc_seterr(err, KZ_TAXII_E_NOMEM, 0, "out of memory");
        kz_taxii_outbox_close(ob);
        return NULL;
    }
    return ob;
}

void kz_taxii_outbox_close(kz_taxii_outbox *ob)
{
    if (!ob)
        return;
    sqlite3_close(ob->db);
    free(ob->path);
    free(ob);
}

int kz_taxii_outbox_enqueue(kz_taxii_outbox *ob, json_t *objects, kz_taxii_error *err)
{
    size_t n = json_is_array(objects) ? json_array_size(objects) : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_is_array(objects) ? json_array_get(objects, i) : objects;
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")) ||
            !json_is_string(json_object_get(o, "type"))) {
            kz_tc_seterr(err, KZ_TAXII_E_USAGE, 0,
                         "item %zu is not a STIX object with a string id and type; nothing "
                         "was queued",
                         i);
            return -1;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(ob, err, "begin");
        return -1;
    }
    int rc = sqlite3_prepare_v2(ob->db,
                                "INSERT INTO queue(id, version, json, enqueued) VALUES(?,?,?,?)"
                                " ON CONFLICT(id, version) DO UPDATE SET json = excluded.json",
                                -1, &st, NULL);
    int64_t now = kz_time_now_us();
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        json_t *o = json_is_array(objects) ? json_array_get(objects, i) : objects;
        char *js = json_dumps(o, JSON_COMPACT);
        if (!js) {
            rc = SQLITE_NOMEM;
            break;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, json_string_value(json_object_get(o, "id")), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kz_taxii_object_version(o), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, js, -1, free);
        sqlite3_bind_int64(st, 4, now);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        db_err(ob, err, "enqueue");
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(ob, err, "commit");
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int count_rows(kz_taxii_outbox *ob, const char *sql, size_t *out, kz_taxii_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ob->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        db_err(ob, err, "count");
        sqlite3_finalize(st);
        return -1;
    }
    *out = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int kz_taxii_outbox_count(kz_taxii_outbox *ob, size_t *pending, size_t *dead, kz_taxii_error *err)
{
    size_t p = 0, d = 0;
    if (count_rows(ob, "SELECT count(*) FROM queue", &p, err) < 0 ||
        count_rows(ob, "SELECT count(*) FROM dead", &d, err) < 0)
        return -1;
    if (pending)
        *pending = p;
    if (dead)
        *dead = d;
    return 0;
}

/* ---- flush ------------------------------------------------------------------------------ */

typedef enum { ROW_WAIT, ROW_DONE, ROW_DEAD } row_fate;

typedef struct row {
    int64_t seq;
    char *id, *version, *json, *reason;
    row_fate fate;
    bool versionless; /* neither modified nor created: the server picks its version */
    bool mentioned;   /* some status entry named it (pendings included) */
} row;

static void rows_free(row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].id);
        free(rows[i].version);
        free(rows[i].json);
        free(rows[i].reason);
    }
    free(rows);
}

static int load_rows(kz_taxii_outbox *ob, int64_t after, int64_t upto, size_t limit, row **out,
                     size_t *n, kz_taxii_error *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(ob->db,
                           "SELECT seq, id, version, json FROM queue WHERE seq > ? AND seq <= ?"
                           " ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK) {
        db_err(ob, err, "read");
        return -1;
    }
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, upto);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    row *rows = calloc(limit, sizeof *rows);
    int rc = rows ? SQLITE_ROW : SQLITE_NOMEM;
    size_t k = 0;
    while (rows && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        row *r = &rows[k++];
        r->seq = sqlite3_column_int64(st, 0);
        r->id = strdup((const char *)sqlite3_column_text(st, 1));
        r->version = strdup((const char *)sqlite3_column_text(st, 2));
        r->json = strdup((const char *)sqlite3_column_text(st, 3));
        if (!r->id || !r->version || !r->json) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        rows_free(rows, k);
        kz_tc_seterr(err, KZ_TAXII_E_STATE, 0, "outbox %s: cannot read the queue", ob->path);
        return -1;
    }
    *out = rows;
    *n = k;
    return 0;
}

static bool same_version(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    kz_time ta, tb; /* a server may write the version with another precision */
    return kz_time_parse(a, &ta, NULL, 0) == 0 && kz_time_parse(b, &tb, NULL, 0) == 0 &&
           kz_time_cmp(&ta, &tb) == 0;
}

static void notify(const kz_taxii_flush_opts *o, kz_taxii_flush_event ev, const char *id,
                   const char *version, const char *message)
{
    if (o && o->notify)
        o->notify(o->notify_ctx, ev, id ? id : "", version ? version : "", message);
}

/* The waiting row a status entry names: same id and version (as instants); failing that,
 * the only waiting row with that id when its version is the server's choice (no modified
 * or created) or the entry gives none. NULL when no row fits. */
static row *match_row(row *rows, size_t n, const char *id, const char *v)
{
    row *only = NULL;
    size_t same_id = 0;
    for (size_t k = 0; k < n; k++) {
        if (rows[k].fate != ROW_WAIT || strcmp(rows[k].id, id) != 0)
            continue;
        if (v && *v && same_version(rows[k].version, v))
            return &rows[k];
        same_id++;
        only = &rows[k];
    }
    if (same_id == 1 && (only->versionless || !v || !*v))
        return only;
    return NULL;
}

/* Apply one status list (successes, failures, pendings) to the rows: fate ROW_DONE or
 * ROW_DEAD, or ROW_WAIT for pendings (only marked as mentioned). Entries that name no
 * waiting row are counted and reported. */
static void apply_status(row *rows, size_t n, json_t *list, const char *name, row_fate fate,
                         const kz_taxii_flush_opts *o, kz_taxii_flush_report *rep)
{
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        const char *id = json_string_value(json_object_get(d, "id"));
        const char *v = json_string_value(json_object_get(d, "version"));
        const char *msg = json_string_value(json_object_get(d, "message"));
        row *r = id ? match_row(rows, n, id, v) : NULL;
        if (!r) {
            char why[1200];
            snprintf(why, sizeof why,
                     "the status lists it in %s%s%s, but no object of the "
                     "envelope waits with this id and version",
                     name, msg ? ": " : "", msg ? msg : "");
            rep->unmatched++;
            notify(o, KZ_TAXII_FLUSH_UNMATCHED, id, v, why);
            continue;
        }
        r->mentioned = true;
        if (fate == ROW_WAIT)
            continue;
        r->fate = fate;
        if (fate == ROW_DEAD)
            r->reason = strdup(msg && *msg ? msg : "refused by the server (no reason given)");
    }
}

/* Record the verdicts of one envelope in one transaction. */
static int settle(kz_taxii_outbox *ob, row *rows, size_t n, const kz_taxii_flush_opts *o,
                  kz_taxii_flush_report *rep, kz_taxii_error *err)
{
    sqlite3_stmt *del = NULL, *ins = NULL;
    if (sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(ob, err, "begin");
        return -1;
    }
    int rc = sqlite3_prepare_v2(ob->db, "DELETE FROM queue WHERE seq = ?", -1, &del, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(ob->db,
                                "INSERT INTO dead(id, version, json, reason, at)"
                                " VALUES(?,?,?,?,?)",
                                -1, &ins, NULL);
    int64_t now = kz_time_now_us();
    size_t done = 0, dead = 0;
    for (size_t k = 0; k < n && rc == SQLITE_OK; k++) {
        if (rows[k].fate == ROW_WAIT)
            continue;
        if (rows[k].fate == ROW_DEAD) {
            sqlite3_reset(ins);
            sqlite3_bind_text(ins, 1, rows[k].id, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 2, rows[k].version, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, rows[k].json, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 4, rows[k].reason ? rows[k].reason : "refused", -1,
                              SQLITE_STATIC);
            sqlite3_bind_int64(ins, 5, now);
            if (sqlite3_step(ins) != SQLITE_DONE) {
                rc = SQLITE_ERROR;
                break;
            }
            dead++;
        } else {
            done++;
        }
        sqlite3_reset(del);
        sqlite3_bind_int64(del, 1, rows[k].seq);
        if (sqlite3_step(del) != SQLITE_DONE)
            rc = SQLITE_ERROR;
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    if (rc != SQLITE_OK || sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(ob, err, "recording the hub's answer");
        sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    rep->delivered += done;
    rep->rejected += dead;
    for (size_t k = 0; k < n; k++)
        if (rows[k].fate == ROW_DEAD)
            notify(o, KZ_TAXII_FLUSH_REFUSED, rows[k].id, rows[k].version,
                   rows[k].reason ? rows[k].reason : "refused");
    return 0;
}

/* An envelope refused as a whole, for a reason that may be one object's fault. */
static bool envelope_refused(const kz_taxii_error *e)
{
    return e->kind == KZ_TAXII_E_HTTP &&
           (e->http_status == 400 || e->http_status == 413 || e->http_status == 422);
}

int kz_taxii_outbox_flush(kz_taxii_outbox *ob, kz_taxii_client *c, const char *root,
                          const char *collection, const kz_taxii_flush_opts *opts,
                          kz_taxii_flush_report *rep, kz_taxii_error *err)
{
    kz_taxii_flush_report local;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    size_t batch = opts && opts->batch ? opts->batch : 500;
    long wait_ms = opts ? opts->wait_ms : 0;
    int64_t after = 0, isolate_until = 0;
    size_t cur = batch;
    int result = 0;
    /* Only what was queued when the flush started: producers that keep enqueuing cannot
     * keep a flush from returning. */
    size_t upto = 0;
    if (count_rows(ob, "SELECT coalesce(max(seq), 0) FROM queue", &upto, err) < 0)
        return -1;
    for (;;) {
        row *rows;
        size_t n;
        size_t want = after < isolate_until ? 1 : cur;
        if (load_rows(ob, after, (int64_t)upto, want, &rows, &n, err) < 0) {
            result = -1;
            break;
        }
        if (n == 0) {
            free(rows);
            break;
        }
        json_t *arr = json_array();
        for (size_t k = 0; k < n && arr; k++) {
            json_t *o = json_loads(rows[k].json, 0, NULL);
            if (!o) {
                rows[k].fate = ROW_DEAD;
                rows[k].reason = strdup("the queued JSON cannot be read back");
                continue;
            }
            rows[k].versionless = !kz_taxii_object_versioned(o);
            json_array_append_new(arr, o);
        }
        kz_taxii_status st;
        int rc = arr ? kz_taxii_add_objects(c, root, collection, arr, wait_ms, &st) : -1;
        json_decref(arr);
        if (!arr) {
            kz_tc_seterr(err, KZ_TAXII_E_NOMEM, 0, "out of memory");
            rows_free(rows, n);
            result = -1;
            break;
        }
        rep->envelopes++;
        const kz_taxii_error *ce = kz_taxii_client_error(c);
        if (rc == 0) {
            json_t *succ = json_object_get(st.doc, "successes");
            bool complete = strcmp(st.status, "complete") == 0;
            apply_status(rows, n, succ, "successes", ROW_DONE, opts, rep);
            apply_status(rows, n, json_object_get(st.doc, "failures"), "failures", ROW_DEAD, opts,
                         rep);
            apply_status(rows, n, json_object_get(st.doc, "pendings"), "pendings", ROW_WAIT, opts,
                         rep);
            /* TAXII makes the per-object lists optional: a complete status whose counts say
             * every object of this envelope succeeded is enough without them. */
            if (json_array_size(succ) == 0 && complete && st.total == n && st.success == n)
                for (size_t k = 0; k < n; k++)
                    if (rows[k].fate == ROW_WAIT)
                        rows[k].fate = ROW_DONE;
            /* A finished request that says nothing about an object: its fate is unknown, so
             * it stays queued (the next flush asks again), and the caller hears of it. */
            for (size_t k = 0; complete && k < n; k++)
                if (rows[k].fate == ROW_WAIT) {
                    rep->unconfirmed++;
                    notify(opts, KZ_TAXII_FLUSH_UNCONFIRMED, rows[k].id, rows[k].version,
                           rows[k].mentioned ? "the complete status lists it only as pending; "
                                               "it stays queued"
                                             : "the complete status does not mention it; it "
                                               "stays queued");
                }
        } else if (envelope_refused(ce) && n > 1) {
            /* Find the culprit: a too-large envelope is halved; a refused one is resent one
             * object at a time up to its last row. */
            if (ce->http_status == 413)
                cur = n / 2;
            else
                isolate_until = rows[n - 1].seq;
            kz_taxii_status_free(&st);
            rows_free(rows, n);
            continue;
        } else if (envelope_refused(ce)) {
            rows[0].fate = ROW_DEAD;
            free(rows[0].reason);
            rows[0].reason = strdup(ce->message);
        }
        kz_taxii_status_free(&st);
        if (rc < 0 && !envelope_refused(ce)) {
            if (err)
                *err = *ce;
            rows_free(rows, n);
            result = -1;
            break;
        }
        if (settle(ob, rows, n, opts, rep, err) < 0) {
            rows_free(rows, n);
            result = -1;
            break;
        }
        after = rows[n - 1].seq;
        rows_free(rows, n);
    }
    size_t left = 0;
    if (count_rows(ob, "SELECT count(*) FROM queue", &left, result < 0 ? NULL : err) < 0 &&
        result == 0)
        result = -1;
    rep->remaining = left;
    return result;
}

int kz_taxii_outbox_dead_each(kz_taxii_outbox *ob, kz_taxii_dead_fn fn, void *ctx,
                              kz_taxii_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ob->db, "SELECT id, version, reason, json FROM dead ORDER BY seq", -1,
                           &st, NULL) != SQLITE_OK) {
        db_err(ob, err, "read dead letters");
        return -1;
    }
    int rc = SQLITE_DONE, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        r = fn(ctx, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
               (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    if (r == 0 && rc != SQLITE_DONE) {
        db_err(ob, err, "read dead letters");
        return -1;
    }
    return r;
}
