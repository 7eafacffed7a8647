/*
 * store/objects: object versions in the SQLite backend — durable batch insert with hub-wide
 * strictly increasing date_added, page reads by one range scan, deletion.
 *
 * Invariants: date_added = max(clock, last + 1) under the writer lock, the last value kept in
 * meta so it never goes backwards across restarts, deletes or clock steps; is_first/is_last
 * are exact for every (collection, id) after each transaction (they make match[version]
 * first/last a plain column test instead of a per-object aggregate at read time).
 * Does not: parse or validate STIX (the caller gives the index columns).
 */
#include "sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t read_last(sqlite3 *db)
{
    int64_t last = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT max(coalesce((SELECT v FROM meta WHERE k='date_added'),0),"
                           " coalesce((SELECT max(date_added) FROM objects),0))",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        last = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return last;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int kz_store_put_objects(kz_store *s, int64_t coll, const kz_store_object *objs, size_t n,
                         kz_store_put_result *results, int64_t *date_added, char *err,
                         size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *sel = NULL, *ins = NULL, *upd = NULL, *meta = NULL;
    int rc = -1;
    if (kz_sq_begin_write(s, db, err, errlen) < 0) {
        kz_sq_release(s, db);
        return -1;
    }
    /* One probe answers both "is this exact version stored?" and the id's version range,
     * which decides is_first/is_last. */
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT json FROM objects WHERE coll=?1 AND id=?2 AND"
                           " version_us=?3), min(version_us), max(version_us), count(*)"
                           " FROM objects WHERE coll=?1 AND id=?2",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO objects(date_added, coll, id, type, spec_version,"
                           " version, version_us, is_first, is_last, creator, markings, json, tlp)"
                           " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE objects SET is_first = (version_us = ?3),"
                           " is_last = (version_us = ?4) WHERE coll=?1 AND id=?2",
                           -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(k, v) VALUES('date_added', ?1)", -1,
                           &meta, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing the insert");
        goto done;
    }
    int64_t last = read_last(db);
    for (size_t i = 0; i < n; i++) {
        const kz_store_object *o = &objs[i];
        if (date_added)
            date_added[i] = 0;
        sqlite3_reset(sel);
        sqlite3_bind_int64(sel, 1, coll);
        sqlite3_bind_text(sel, 2, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 3, o->version_us);
        if (sqlite3_step(sel) != SQLITE_ROW) {
            kz_sq_fail(db, err, errlen, "reading");
            goto done;
        }
        if (sqlite3_column_type(sel, 0) != SQLITE_NULL) {
            const void *b = sqlite3_column_blob(sel, 0);
            size_t bl = (size_t)sqlite3_column_bytes(sel, 0);
            results[i] = (bl == o->json_len && (bl == 0 || memcmp(b, o->json, bl) == 0))
                             ? KZ_STORE_DUPLICATE
                             : KZ_STORE_CONFLICT;
            continue;
        }
        int64_t cnt = sqlite3_column_int64(sel, 3);
        int64_t mn = sqlite3_column_int64(sel, 1), mx = sqlite3_column_int64(sel, 2);
        int64_t nmn = o->version_us, nmx = o->version_us;
        if (cnt > 0) {
            nmn = mn < nmn ? mn : nmn;
            nmx = mx > nmx ? mx : nmx;
        }
        int64_t now = kz_time_now_us();
        int64_t da = now > last ? now : last + 1;
        last = da;
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, da);
        sqlite3_bind_int64(ins, 2, coll);
        sqlite3_bind_text(ins, 3, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, o->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, o->spec_version, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 6, o->version, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 7, o->version_us);
        sqlite3_bind_int(ins, 8, o->version_us == nmn);
        sqlite3_bind_int(ins, 9, o->version_us == nmx);
        bind_text_or_null(ins, 10, o->creator);
        bind_text_or_null(ins, 11, o->markings);
        sqlite3_bind_int(ins, 13, o->tlp);
        sqlite3_bind_blob(ins, 12, o->json, (int)o->json_len, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            kz_sq_fail(db, err, errlen, "inserting");
            goto done;
        }
        if (cnt > 0 && (nmn != mn || nmx != mx)) {
            sqlite3_reset(upd);
            sqlite3_bind_int64(upd, 1, coll);
            sqlite3_bind_text(upd, 2, o->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(upd, 3, nmn);
            sqlite3_bind_int64(upd, 4, nmx);
            if (sqlite3_step(upd) != SQLITE_DONE) {
                kz_sq_fail(db, err, errlen, "updating");
                goto done;
            }
        }
        results[i] = KZ_STORE_ADDED;
        if (date_added)
            date_added[i] = da;
    }
    sqlite3_bind_int64(meta, 1, last);
    if (sqlite3_step(meta) != SQLITE_DONE) {
        kz_sq_fail(db, err, errlen, "updating meta");
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    sqlite3_finalize(meta);
    if (kz_sq_end_write(s, db, rc == 0, err, errlen) < 0)
        rc = -1;
    kz_sq_release(s, db);
    return rc;
}

/* Append " AND col IN (?,?,...)" for n values. */
static void in_list(kz_buf *b, const char *col, size_t n)
{
    if (n == 0)
        return;
    kz_buf_printf(b, " AND %s IN (", col);
    for (size_t i = 0; i < n; i++)
        kz_buf_puts(b, i ? ",?" : "?");
    kz_buf_putc(b, ')');
}

static void version_clause(kz_buf *b, const kz_store_query *q)
{
    if (q->v_all)
        return;
    if (!q->v_first && !q->v_last && q->nv_times == 0) {
        kz_buf_puts(b, " AND is_last = 1");
        return;
    }
    kz_buf_puts(b, " AND (0");
    if (q->v_first)
        kz_buf_puts(b, " OR is_first = 1");
    if (q->v_last)
        kz_buf_puts(b, " OR is_last = 1");
    if (q->nv_times) {
        kz_buf_puts(b, " OR version_us IN (");
        for (size_t i = 0; i < q->nv_times; i++)
            kz_buf_puts(b, i ? ",?" : "?");
        kz_buf_putc(b, ')');
    }
    kz_buf_putc(b, ')');
}

static int bind_lists(sqlite3_stmt *st, int i, const kz_store_query *q, bool with_ids)
{
    if (with_ids)
        for (size_t k = 0; k < q->nids; k++)
            sqlite3_bind_text(st, i++, q->ids[k], -1, SQLITE_STATIC);
    for (size_t k = 0; k < q->ntypes; k++)
        sqlite3_bind_text(st, i++, q->types[k], -1, SQLITE_STATIC);
    for (size_t k = 0; k < q->nspec; k++)
        sqlite3_bind_text(st, i++, q->spec_versions[k], -1, SQLITE_STATIC);
    if (!q->v_all)
        for (size_t k = 0; k < q->nv_times; k++)
            sqlite3_bind_int64(st, i++, q->v_times[k]);
    return i;
}

int kz_store_page(kz_store *s, const kz_store_query *q, bool want_json, kz_store_row_fn fn,
                  void *ctx, bool *more, char *err, size_t errlen)
{
    *more = false;
    if (q->limit == 0)
        return kz_sq_failmsg(err, errlen, "page limit must be positive");
    kz_buf sql;
    kz_buf_init(&sql);
    /* With match[id] (and for one object's endpoints) probe the (coll, id) index and sort the
     * few versions found, instead of scanning the whole collection in date_added order. */
    kz_buf_printf(&sql,
                  "SELECT date_added, id, version, spec_version%s FROM objects%s"
                  " WHERE coll = ? AND date_added > ?",
                  want_json ? ", json" : "", q->nids ? " INDEXED BY objects_version" : "");
    in_list(&sql, "id", q->nids);
    in_list(&sql, "type", q->ntypes);
    in_list(&sql, "spec_version", q->nspec);
    version_clause(&sql, q);
    if (q->max_tlp > 0)
        kz_buf_puts(&sql, " AND (tlp <= ? OR creator = ?)");
    kz_buf_puts(&sql, " ORDER BY date_added LIMIT ?");
    if (sql.oom) {
        kz_buf_free(&sql);
        return kz_sq_failmsg(err, errlen, "out of memory");
    }
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db) {
        kz_buf_free(&sql);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing the page query");
        goto out;
    }
    sqlite3_bind_int64(st, 1, q->coll);
    sqlite3_bind_int64(st, 2, q->after);
    int i = bind_lists(st, 3, q, true);
    if (q->max_tlp > 0) {
        sqlite3_bind_int(st, i++, q->max_tlp);
        sqlite3_bind_text(st, i++, q->viewer_org ? q->viewer_org : "", -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, i, (sqlite3_int64)q->limit + 1);
    size_t got = 0;
    rc = 0;
    for (;;) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = kz_sq_fail(db, err, errlen, "reading a page");
            break;
        }
        if (got == q->limit) {
            *more = true;
            break;
        }
        got++;
        kz_store_row r = {
            .date_added = sqlite3_column_int64(st, 0),
            .id = (const char *)sqlite3_column_text(st, 1),
            .version = (const char *)sqlite3_column_text(st, 2),
            .spec_version = (const char *)sqlite3_column_text(st, 3),
        };
        if (want_json) {
            r.json = sqlite3_column_blob(st, 4);
            r.json_len = (size_t)sqlite3_column_bytes(st, 4);
        }
        int c = fn(ctx, &r);
        if (c) {
            rc = c;
            break;
        }
    }
out:
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    kz_buf_free(&sql);
    return rc;
}

int kz_store_object_exists(kz_store *s, int64_t coll, const char *id, char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM objects WHERE coll=?1 AND id=?2 LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing");
    } else {
        sqlite3_bind_int64(st, 1, coll);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        rc = step == SQLITE_ROW    ? 1
             : step == SQLITE_DONE ? 0
                                   : kz_sq_fail(db, err, errlen, "reading");
    }
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}

int kz_store_delete_object(kz_store *s, int64_t coll, const char *id, const kz_store_query *q,
                           size_t *deleted, char *err, size_t errlen)
{
    *deleted = 0;
    kz_buf sql;
    kz_buf_init(&sql);
    kz_buf_puts(&sql, "DELETE FROM objects WHERE coll = ? AND id = ?");
    kz_store_query qq = *q;
    qq.nids = 0;
    qq.ntypes = 0;
    in_list(&sql, "spec_version", qq.nspec);
    version_clause(&sql, &qq);
    if (sql.oom) {
        kz_buf_free(&sql);
        return kz_sq_failmsg(err, errlen, "out of memory");
    }
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db) {
        kz_buf_free(&sql);
        return -1;
    }
    int rc = -1;
    sqlite3_stmt *st = NULL, *mm = NULL, *upd = NULL;
    if (kz_sq_begin_write(s, db, err, errlen) < 0) {
        kz_sq_release(s, db);
        kz_buf_free(&sql);
        return -1;
    }
    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT min(version_us), max(version_us), count(*) FROM objects"
                           " WHERE coll=?1 AND id=?2",
                           -1, &mm, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE objects SET is_first = (version_us = ?3),"
                           " is_last = (version_us = ?4) WHERE coll=?1 AND id=?2",
                           -1, &upd, NULL) != SQLITE_OK) {
        kz_sq_fail(db, err, errlen, "preparing the delete");
        goto done;
    }
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    bind_lists(st, 3, &qq, false);
    if (sqlite3_step(st) != SQLITE_DONE) {
        kz_sq_fail(db, err, errlen, "deleting");
        goto done;
    }
    *deleted = (size_t)sqlite3_changes(db);
    sqlite3_bind_int64(mm, 1, coll);
    sqlite3_bind_text(mm, 2, id, -1, SQLITE_STATIC);
    if (sqlite3_step(mm) != SQLITE_ROW) {
        kz_sq_fail(db, err, errlen, "reading");
        goto done;
    }
    if (sqlite3_column_int64(mm, 2) > 0) {
        sqlite3_bind_int64(upd, 1, coll);
        sqlite3_bind_text(upd, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 3, sqlite3_column_int64(mm, 0));
        sqlite3_bind_int64(upd, 4, sqlite3_column_int64(mm, 1));
        if (sqlite3_step(upd) != SQLITE_DONE) {
            kz_sq_fail(db, err, errlen, "updating");
            goto done;
        }
    }
    rc = 0;
done:
    sqlite3_finalize(st);
    sqlite3_finalize(mm);
    sqlite3_finalize(upd);
    if (kz_sq_end_write(s, db, rc == 0, err, errlen) < 0)
        rc = -1;
    kz_sq_release(s, db);
    kz_buf_free(&sql);
    return rc;
}

int kz_store_count(kz_store *s, int64_t coll, int64_t *count, char *err, size_t errlen)
{
    sqlite3 *db = kz_sq_acquire(s, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM objects WHERE coll=?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, coll);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *count = sqlite3_column_int64(st, 0);
            rc = 0;
        }
    }
    if (rc < 0)
        kz_sq_fail(db, err, errlen, "counting");
    sqlite3_finalize(st);
    kz_sq_release(s, db);
    return rc;
}
