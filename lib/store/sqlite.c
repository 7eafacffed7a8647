/*
 * store/sqlite: the SQLite backend of include/kizuna/store.h.
 *
 * One database file (DIR/kizuna.db) in WAL mode with synchronous=FULL: a commit returns only
 * after the WAL is fsync'd, so whatever a caller acknowledged survives kill -9 or power loss.
 * Object versions live in one table whose INTEGER PRIMARY KEY *is* date_added: the rowid is
 * unique and ordered by construction, and an index on (coll) — which SQLite extends with the
 * rowid — turns every page read into one range scan from the cursor (never OFFSET). A partial
 * index on the latest versions serves the default match[version]=last without touching older
 * versions. Writers are serialised by a mutex; readers take pooled connections and never wait
 * for writers (WAL). This file does not validate STIX or decide permissions.
 */
#include "sqlite_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS roots(name TEXT PRIMARY KEY, title TEXT NOT NULL,"
    " description TEXT);"
    "CREATE TABLE IF NOT EXISTS collections(key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " root TEXT NOT NULL, alias TEXT, title TEXT NOT NULL, description TEXT,"
    " created_us INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS collections_alias ON collections(root, alias)"
    " WHERE alias IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS objects(date_added INTEGER PRIMARY KEY, coll INTEGER NOT NULL,"
    " id TEXT NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL, version TEXT NOT NULL,"
    " version_us INTEGER NOT NULL, is_first INTEGER NOT NULL, is_last INTEGER NOT NULL,"
    " creator TEXT, markings TEXT, tlp INTEGER NOT NULL DEFAULT 0, json BLOB NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS objects_version ON objects(coll, id, version_us);"
    "CREATE INDEX IF NOT EXISTS objects_page ON objects(coll);"
    "CREATE INDEX IF NOT EXISTS objects_last ON objects(coll) WHERE is_last = 1;"
    "CREATE TABLE IF NOT EXISTS status(id TEXT PRIMARY KEY, root TEXT NOT NULL,"
    " owner INTEGER NOT NULL, created_us INTEGER NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS status_age ON status(created_us);"
    "CREATE TABLE IF NOT EXISTS orgs(key INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " identity TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS accounts(key INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " org INTEGER NOT NULL, pwhash TEXT NOT NULL,"
    " created_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens(key INTEGER PRIMARY KEY, account INTEGER NOT NULL,"
    " label TEXT NOT NULL, hash BLOB NOT NULL UNIQUE, created_us INTEGER NOT NULL,"
    " UNIQUE(account, label));"
    "CREATE TABLE IF NOT EXISTS grants(coll INTEGER NOT NULL, to_org INTEGER NOT NULL,"
    " principal INTEGER NOT NULL, can_read INTEGER NOT NULL, can_write INTEGER NOT NULL,"
    " PRIMARY KEY(coll, to_org, principal));";

int kz_sq_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    return -1;
}

int kz_sq_failmsg(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

static int open_conn(kz_store *s, sqlite3 **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, s->path);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 15000);
    /* FULL: the WAL is fsync'd at every commit, the durability a 202 promises. */
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     " PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "configuring the database");
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

sqlite3 *kz_sq_acquire(kz_store *s, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->mu);
    kz_sq_conn *c = s->idle;
    if (c)
        s->idle = c->next;
    pthread_mutex_unlock(&s->mu);
    if (c) {
        sqlite3 *db = c->db;
        free(c);
        return db;
    }
    sqlite3 *db = NULL;
    if (open_conn(s, &db, err, errlen) < 0)
        return NULL;
    return db;
}

void kz_sq_release(kz_store *s, sqlite3 *db)
{
    if (!db)
        return;
    kz_sq_conn *c = malloc(sizeof *c);
    if (!c) {
        sqlite3_close(db);
        return;
    }
    c->db = db;
    pthread_mutex_lock(&s->mu);
    c->next = s->idle;
    s->idle = c;
    pthread_mutex_unlock(&s->mu);
}

int kz_store_open(const char *dir, kz_store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    kz_store *s = calloc(1, sizeof *s);
    if (!s)
        return kz_sq_failmsg(err, errlen, "out of memory");
    size_t n = strlen(dir) + 16;
    s->path = malloc(n);
    if (!s->path) {
        free(s);
        return kz_sq_failmsg(err, errlen, "out of memory");
    }
    snprintf(s->path, n, "%s/kizuna.db", dir);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db) {
        kz_store_close(s);
        return -1;
    }
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "creating the schema");
        sqlite3_close(db);
        kz_store_close(s);
        return -1;
    }
    kz_sq_release(s, db);
    *out = s;
    return 0;
}

void kz_store_close(kz_store *s)
{
    if (!s)
        return;
    while (s->idle) {
        kz_sq_conn *c = s->idle;
        s->idle = c->next;
        sqlite3_close(c->db);
        free(c);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->wmu);
    free(s->path);
    free(s);
}

char *kz_sq_dup(const unsigned char *t)
{
    if (!t)
        return NULL;
    return strdup((const char *)t);
}

int kz_sq_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return kz_sq_fail(db, err, errlen, sql);
    return 0;
}

int kz_sq_begin_write(kz_store *s, sqlite3 *db, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->wmu);
    if (kz_sq_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0) {
        pthread_mutex_unlock(&s->wmu);
        return -1;
    }
    return 0;
}

int kz_sq_end_write(kz_store *s, sqlite3 *db, bool commit, char *err, size_t errlen)
{
    int rc = 0;
    if (commit) {
        rc = kz_sq_exec(db, "COMMIT", err, errlen);
        if (rc < 0)
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* Run one statement that changes rows, with text/NULL parameters. Returns the number of
 * changed rows or -1. */
int kz_sq_run(kz_store *s, const char *sql, char *err, size_t errlen, int nparams, ...)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing");
        goto out;
    }
    va_list ap;
    va_start(ap, nparams);
    for (int i = 0; i < nparams; i++) {
        const char *v = va_arg(ap, const char *);
        if (v)
            sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, i + 1);
    }
    va_end(ap);
    pthread_mutex_lock(&s->wmu);
    int step = sqlite3_step(st);
    pthread_mutex_unlock(&s->wmu);
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        kz_sq_fail(db, err, errlen, "writing");
        goto out;
    }
    rc = sqlite3_changes(db);
out:
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}
