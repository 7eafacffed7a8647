/*
 * store/catalog: the small tables of the SQLite backend — API roots, collections, status
 * resources, organisations, accounts, tokens and grants.
 *
 * Invariants: names (roots, orgs, accounts) and collection ids are unique; an alias is unique
 * within its root; tokens are kept only as 32-byte hashes. These tables are tiny next to
 * objects, so simple statements prepared per call are fine. Does not hash passwords or decide
 * permissions beyond reading grants (lib/policy does).
 */
#include "sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kz_store_root_free(kz_store_root *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->title);
    free(r->description);
    memset(r, 0, sizeof *r);
}

void kz_store_collection_free(kz_store_collection *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->root);
    free(c->alias);
    free(c->title);
    free(c->description);
    memset(c, 0, sizeof *c);
}

void kz_store_account_free(kz_store_account *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->org);
    free(a->pwhash);
    memset(a, 0, sizeof *a);
}

/* A prepared read with text parameters; the caller steps and finalises. */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, char *err, size_t errlen, int n, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing");
        return NULL;
    }
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *v = va_arg(ap, const char *);
        if (v)
            sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, i + 1);
    }
    va_end(ap);
    return st;
}

static int is_constraint(const char *err)
{
    return err && strstr(err, "UNIQUE") != NULL;
}

/* ---- roots ------------------------------------------------------------------------------ */

/* Root names and aliases are path segments: keep them to an unambiguous, URL-safe alphabet. */
static bool segment_ok(const char *v)
{
    if (!v || !*v || strlen(v) > 100 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
        return false;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

int kz_store_root_add(kz_store *s, const char *name, const char *title, const char *description,
                      char *err, size_t errlen)
{
    if (!segment_ok(name) || strcmp(name, "taxii2") == 0)
        return kz_sq_failmsg(err, errlen,
                             "an API root name is 1-100 letters, digits, '-', '_' or '.' and not "
                             "'taxii2' (the discovery path)");
    return kz_sq_run(s, "INSERT OR IGNORE INTO roots(name, title, description) VALUES(?,?,?)", err,
                     errlen, 3, name, title, description) < 0
               ? -1
               : 0;
}

static void fill_root(sqlite3_stmt *st, kz_store_root *r)
{
    r->name = kz_sq_dup(sqlite3_column_text(st, 0));
    r->title = kz_sq_dup(sqlite3_column_text(st, 1));
    r->description = kz_sq_dup(sqlite3_column_text(st, 2));
}

int kz_store_root_each(kz_store *s, kz_store_root_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    int rc = -1;
    sqlite3_stmt *st =
        prep(db, "SELECT name, title, description FROM roots ORDER BY name", err, errlen, 0);
    if (st) {
        rc = 0;
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            kz_store_root r = {0};
            fill_root(st, &r);
            rc = fn(ctx, &r);
            kz_store_root_free(&r);
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

int kz_store_root_get(kz_store *s, const char *name, kz_store_root *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    int rc = -1;
    sqlite3_stmt *st =
        prep(db, "SELECT name, title, description FROM roots WHERE name=?", err, errlen, 1, name);
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            fill_root(st, out);
            rc = 0;
        } else {
            rc = step == SQLITE_DONE ? 1 : kz_sq_fail(db, err, errlen, "reading roots");
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

/* ---- collections ------------------------------------------------------------------------ */

int kz_store_collection_add(kz_store *s, const char *root, const char *id, const char *alias,
                            const char *title, const char *description, char id_out[37], char *err,
                            size_t errlen)
{
    char idbuf[37];
    kz_uuid u;
    if (alias && !segment_ok(alias))
        return kz_sq_failmsg(err, errlen,
                             "an alias is 1-100 letters, digits, '-', '_' or '.' (it is a path "
                             "segment)");
    if (id) {
        if (kz_uuid_parse(id, &u) < 0)
            return kz_sq_failmsg(err, errlen, "a collection id must be a UUID");
    } else {
        kz_uuid_v4(&u);
    }
    kz_uuid_format(&u, idbuf);
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)kz_time_now_us());
    if (kz_store_root_add(s, root, root, NULL, err, errlen) < 0)
        return -1;
    int rc = kz_sq_run(s,
                       "INSERT INTO collections(id, root, alias, title, description, created_us)"
                       " VALUES(?,?,?,?,?,CAST(? AS INTEGER))",
                       err, errlen, 6, idbuf, root, alias, title, description, now);
    if (rc < 0) {
        if (is_constraint(err))
            snprintf(err, errlen, "a collection with this id or alias already exists");
        return -1;
    }
    if (id_out)
        memcpy(id_out, idbuf, 37);
    return 0;
}

static void fill_coll(sqlite3_stmt *st, kz_store_collection *c)
{
    c->key = sqlite3_column_int64(st, 0);
    c->id = kz_sq_dup(sqlite3_column_text(st, 1));
    c->root = kz_sq_dup(sqlite3_column_text(st, 2));
    c->alias = kz_sq_dup(sqlite3_column_text(st, 3));
    c->title = kz_sq_dup(sqlite3_column_text(st, 4));
    c->description = kz_sq_dup(sqlite3_column_text(st, 5));
}

int kz_store_collection_each(kz_store *s, const char *root, kz_store_collection_fn fn, void *ctx,
                             char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    int rc = -1;
    sqlite3_stmt *st = prep(db,
                            "SELECT key, id, root, alias, title, description FROM collections"
                            " WHERE ?1 IS NULL OR root = ?1 ORDER BY key",
                            err, errlen, 1, root);
    if (st) {
        rc = 0;
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            kz_store_collection c = {0};
            fill_coll(st, &c);
            rc = fn(ctx, &c);
            kz_store_collection_free(&c);
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

int kz_store_collection_get(kz_store *s, const char *root, const char *id_or_alias,
                            kz_store_collection *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    int rc = -1;
    sqlite3_stmt *st = prep(db,
                            "SELECT key, id, root, alias, title, description FROM collections"
                            " WHERE root = ?1 AND (id = ?2 OR alias = ?2) ORDER BY id = ?2 DESC"
                            " LIMIT 1",
                            err, errlen, 2, root, id_or_alias);
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            fill_coll(st, out);
            rc = 0;
        } else {
            rc = step == SQLITE_DONE ? 1 : kz_sq_fail(db, err, errlen, "reading collections");
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

/* ---- status ----------------------------------------------------------------------------- */

int kz_store_status_put(kz_store *s, const char *id, const char *root, int64_t owner,
                        int64_t created_us, const char *json, char *err, size_t errlen)
{
    char t[32], o[32];
    snprintf(t, sizeof t, "%lld", (long long)created_us);
    snprintf(o, sizeof o, "%lld", (long long)owner);
    return kz_sq_run(s,
                     "INSERT OR REPLACE INTO status(id, root, owner, created_us, json)"
                     " VALUES(?,?,CAST(? AS INTEGER),CAST(? AS INTEGER),?)",
                     err, errlen, 5, id, root, o, t, json) < 0
               ? -1
               : 0;
}

int kz_store_status_get(kz_store *s, const char *id, const char *root, char **json, int64_t *owner,
                        char *err, size_t errlen)
{
    *json = NULL;
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    int rc = -1;
    sqlite3_stmt *st =
        prep(db, "SELECT json, owner FROM status WHERE id=? AND root=?", err, errlen, 2, id, root);
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *json = kz_sq_dup(sqlite3_column_text(st, 0));
            if (owner)
                *owner = sqlite3_column_int64(st, 1);
            rc = *json ? 0 : kz_sq_failmsg(err, errlen, "out of memory");
        } else {
            rc = step == SQLITE_DONE ? 1 : kz_sq_fail(db, err, errlen, "reading status");
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

int kz_store_status_prune(kz_store *s, int64_t before_us, char *err, size_t errlen)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", (long long)before_us);
    return kz_sq_run(s, "DELETE FROM status WHERE created_us < CAST(? AS INTEGER)", err, errlen, 1,
                     t) < 0
               ? -1
               : 0;
}

/* ---- organisations and accounts --------------------------------------------------------- */

int kz_store_org_add(kz_store *s, const char *name, const char *identity, char *err, size_t errlen)
{
    if (kz_sq_run(s, "INSERT INTO orgs(name, identity) VALUES(?,?)", err, errlen, 2, name,
                  identity) < 0) {
        if (is_constraint(err))
            snprintf(err, errlen, "organisation '%s' already exists", name);
        return -1;
    }
    return 0;
}

int kz_store_org_each(kz_store *s, kz_store_org_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    int rc = -1;
    sqlite3_stmt *st = prep(db, "SELECT name, identity FROM orgs ORDER BY name", err, errlen, 0);
    if (st) {
        rc = 0;
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
            rc = fn(ctx, (const char *)sqlite3_column_text(st, 0),
                    (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

int kz_store_account_add(kz_store *s, const char *name, const char *org, const char *pwhash,
                         char *err, size_t errlen)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)kz_time_now_us());
    int rc = kz_sq_run(s,
                       "INSERT INTO accounts(name, org, pwhash, created_us)"
                       " SELECT ?1, key, ?3, CAST(?4 AS INTEGER) FROM orgs WHERE name = ?2",
                       err, errlen, 4, name, org, pwhash, now);
    if (rc < 0) {
        if (is_constraint(err))
            snprintf(err, errlen, "account '%s' already exists", name);
        return -1;
    }
    if (rc == 0) {
        if (err && errlen)
            snprintf(err, errlen, "no organisation named '%s'", org);
        return -1;
    }
    return 0;
}

int kz_store_account_del(kz_store *s, const char *name, char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    if (kz_sq_begin_write(s, db, err, errlen) < 0) {
        kz_sq_release(s, db);
        return -1;
    }
    int rc = -1;
    sqlite3_stmt *st = prep(db, "SELECT key FROM accounts WHERE name=?", err, errlen, 1, name);
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            rc = 1;
        } else if (step == SQLITE_ROW) {
            char q[256];
            long long key = sqlite3_column_int64(st, 0);
            snprintf(q, sizeof q,
                     "DELETE FROM tokens WHERE account=%lld;"
                     " DELETE FROM grants WHERE to_org=0 AND principal=%lld;"
                     " DELETE FROM accounts WHERE key=%lld;",
                     key, key, key);
            rc = kz_sq_exec(db, q, err, errlen);
        } else {
            kz_sq_fail(db, err, errlen, "reading accounts");
        }
    }
    sqlite3_finalize(st);
    if (kz_sq_end_write(s, db, rc == 0, err, errlen) < 0)
        rc = -1;
    kz_sq_release(s, db);
    return rc;
}

static const char *const account_cols =
    "SELECT a.key, a.name, o.name, a.pwhash FROM accounts a JOIN orgs o ON o.key = a.org";

static void fill_account(sqlite3_stmt *st, kz_store_account *a)
{
    a->key = sqlite3_column_int64(st, 0);
    a->name = kz_sq_dup(sqlite3_column_text(st, 1));
    a->org = kz_sq_dup(sqlite3_column_text(st, 2));
    a->pwhash = kz_sq_dup(sqlite3_column_text(st, 3));
}

static int account_get(kz_store *s, const char *where, const char *param, kz_store_account *out,
                       char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    char sql[256];
    snprintf(sql, sizeof sql, "%s WHERE %s", account_cols, where);
    int rc = -1;
    sqlite3_stmt *st = prep(db, sql, err, errlen, 1, param);
    if (st) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            fill_account(st, out);
            rc = out->name && out->pwhash ? 0 : kz_sq_failmsg(err, errlen, "out of memory");
        } else {
            rc = step == SQLITE_DONE ? 1 : kz_sq_fail(db, err, errlen, "reading accounts");
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

int kz_store_account_get(kz_store *s, const char *name, kz_store_account *out, char *err,
                         size_t errlen)
{
    return account_get(s, "a.name = ?", name, out, err, errlen);
}

int kz_store_account_get_key(kz_store *s, int64_t key, kz_store_account *out, char *err,
                             size_t errlen)
{
    char k[32];
    snprintf(k, sizeof k, "%lld", (long long)key);
    return account_get(s, "a.key = CAST(? AS INTEGER)", k, out, err, errlen);
}

int kz_store_account_each(kz_store *s, kz_store_account_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    char sql[256];
    snprintf(sql, sizeof sql, "%s ORDER BY a.name", account_cols);
    int rc = -1;
    sqlite3_stmt *st = prep(db, sql, err, errlen, 0);
    if (st) {
        rc = 0;
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            kz_store_account a = {0};
            fill_account(st, &a);
            rc = fn(ctx, &a);
            kz_store_account_free(&a);
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

/* ---- tokens ----------------------------------------------------------------------------- */

int kz_store_token_add(kz_store *s, const char *account, const char *label, const uint8_t hash[32],
                       char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    int rc = -1;
    sqlite3_stmt *st = prep(db,
                            "INSERT INTO tokens(account, label, hash, created_us)"
                            " SELECT key, ?2, ?3, ?4 FROM accounts WHERE name = ?1",
                            err, errlen, 2, account, label);
    if (st) {
        sqlite3_bind_blob(st, 3, hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, kz_time_now_us());
        pthread_mutex_lock(&s->wmu);
        int step = sqlite3_step(st);
        pthread_mutex_unlock(&s->wmu);
        if (step != SQLITE_DONE) {
            kz_sq_fail(db, err, errlen, "adding the token");
            if (is_constraint(err))
                snprintf(err, errlen, "account '%s' already has a token labelled '%s'", account,
                         label);
        } else if (sqlite3_changes(db) == 0) {
            kz_sq_failmsg(err, errlen, "no such account");
        } else {
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

int kz_store_token_revoke(kz_store *s, const char *account, const char *label, char *err,
                          size_t errlen)
{
    int rc = kz_sq_run(s,
                       "DELETE FROM tokens WHERE label = ?2 AND account ="
                       " (SELECT key FROM accounts WHERE name = ?1)",
                       err, errlen, 2, account, label);
    return rc < 0 ? -1 : rc == 0 ? 1 : 0;
}

int kz_store_token_lookup(kz_store *s, const uint8_t hash[32], int64_t *account_key, char *err,
                          size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT account FROM tokens WHERE hash = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing");
    } else {
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *account_key = sqlite3_column_int64(st, 0);
            rc = 0;
        } else {
            rc = step == SQLITE_DONE ? 1 : kz_sq_fail(db, err, errlen, "reading tokens");
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

/* ---- grants ----------------------------------------------------------------------------- */

int kz_store_grant(kz_store *s, const char *collection_id, bool to_org, const char *name, bool read,
                   bool write, bool revoke, char *err, size_t errlen)
{
    const char *principal = to_org ? "(SELECT key FROM orgs WHERE name = ?2)"
                                   : "(SELECT key FROM accounts WHERE name = ?2)";
    char sql[1024];
    int rc;
    if (!revoke) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO grants(coll, to_org, principal, can_read, can_write)"
                 " SELECT c.key, %d, %s, %d, %d FROM collections c"
                 " WHERE (c.id = ?1 OR c.alias = ?1) AND %s IS NOT NULL"
                 " ON CONFLICT(coll, to_org, principal) DO UPDATE SET"
                 " can_read = can_read OR excluded.can_read,"
                 " can_write = can_write OR excluded.can_write",
                 to_org ? 1 : 0, principal, read ? 1 : 0, write ? 1 : 0, principal);
    } else {
        snprintf(sql, sizeof sql,
                 "UPDATE grants SET can_read = can_read AND NOT %d,"
                 " can_write = can_write AND NOT %d"
                 " WHERE to_org = %d AND principal = %s AND coll IN"
                 " (SELECT key FROM collections WHERE id = ?1 OR alias = ?1)",
                 read ? 1 : 0, write ? 1 : 0, to_org ? 1 : 0, principal);
    }
    rc = kz_sq_run(s, sql, err, errlen, 2, collection_id, name);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (err && errlen)
            snprintf(err, errlen, "no such collection, %s or grant",
                     to_org ? "organisation" : "account");
        return -1;
    }
    return 0;
}

int kz_store_access(kz_store *s, int64_t account_key, int64_t coll, bool *can_read, bool *can_write,
                    char *err, size_t errlen)
{
    *can_read = *can_write = false;
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT max(can_read), max(can_write) FROM grants WHERE coll = ?2 AND"
                           " ((to_org = 0 AND principal = ?1) OR"
                           "  (to_org = 1 AND principal = (SELECT org FROM accounts"
                           "                               WHERE key = ?1)))",
                           -1, &st, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing");
    } else {
        sqlite3_bind_int64(st, 1, account_key);
        sqlite3_bind_int64(st, 2, coll);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *can_read = sqlite3_column_int(st, 0) != 0;
            *can_write = sqlite3_column_int(st, 1) != 0;
            rc = 0;
        } else {
            kz_sq_fail(db, err, errlen, "reading grants");
        }
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}
