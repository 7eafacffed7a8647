/* Internal to lib/store: the SQLite handle, its connection pool and small helpers shared by
 * the files of the SQLite backend. Nothing here is part of the public interface. */
#ifndef KZ_STORE_SQLITE_INT_H
#define KZ_STORE_SQLITE_INT_H

#include <kizuna/store.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>

typedef struct kz_sq_conn {
    sqlite3 *db;
    struct kz_sq_conn *next;
} kz_sq_conn;

struct kz_store {
    char *path;
    pthread_mutex_t mu; /* guards idle */
    kz_sq_conn *idle;
    pthread_mutex_t wmu; /* one writer at a time inside this process */
};

int kz_sq_fail(sqlite3 *db, char *err, size_t errlen, const char *what);
int kz_sq_failmsg(char *err, size_t errlen, const char *msg);
sqlite3 *kz_sq_acquire(kz_store *s, char *err, size_t errlen);
void kz_sq_release(kz_store *s, sqlite3 *db);
char *kz_sq_dup(const unsigned char *t);
int kz_sq_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
int kz_sq_begin_write(kz_store *s, sqlite3 *db, char *err, size_t errlen);
int kz_sq_end_write(kz_store *s, sqlite3 *db, bool commit, char *err, size_t errlen);
int kz_sq_run(kz_store *s, const char *sql, char *err, size_t errlen, int nparams, ...);

#endif
