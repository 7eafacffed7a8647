/*
 * kizuna store: the hub's persistent state behind one interface (SQLite today, PostgreSQL
 * later). Object versions with their index columns, collections and API roots, status
 * resources, organisations, accounts, tokens and grants. No SQL leaves this module.
 *
 * Invariants the interface promises:
 *  - every stored object version has a date_added (microseconds since the epoch) that is
 *    unique and strictly increasing across the whole hub, even for versions added in the same
 *    request or the same microsecond (ties are bumped by one microsecond);
 *  - a successful kz_store_put_objects has been made durable (fsync'd) before it returns;
 *  - a page read is one index range scan in date_added order starting after a cursor (or,
 *    with an id list, one index probe per id and a sort of the versions found).
 *
 * Ownership: strings in callback rows are borrowed and valid only during the callback;
 * structures filled by *_get functions own their strings (free with the matching *_free).
 * Thread-safety: one kz_store may be used from many threads at once; it keeps a pool of
 * database connections and serialises writers. Errors: -1 with a message in err (if given);
 * "not found" is reported as 1 where the function says so.
 */
#ifndef KIZUNA_STORE_H
#define KIZUNA_STORE_H

#include <kizuna/core.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kz_store kz_store;

/* Open (creating when absent) the database in directory dir (created with mode 0700 when
 * missing). Returns 0 or -1 with err filled. */
int kz_store_open(const char *dir, kz_store **out, char *err, size_t errlen);
void kz_store_close(kz_store *s);

/* ---- API roots and collections ---------------------------------------------------------- */

typedef struct kz_store_root {
    char *name; /* the path segment: the root is served at /NAME/ */
    char *title;
    char *description; /* may be NULL */
} kz_store_root;

typedef struct kz_store_collection {
    int64_t key; /* internal key, stable for the life of the collection */
    char *id;    /* UUID text */
    char *root;
    char *alias; /* may be NULL */
    char *title;
    char *description; /* may be NULL */
} kz_store_collection;

void kz_store_root_free(kz_store_root *r);
void kz_store_collection_free(kz_store_collection *c);

/* Add a root (no error if it exists with the same name: its title is kept). */
int kz_store_root_add(kz_store *s, const char *name, const char *title, const char *description,
                      char *err, size_t errlen);
typedef int (*kz_store_root_fn)(void *ctx, const kz_store_root *r);
int kz_store_root_each(kz_store *s, kz_store_root_fn fn, void *ctx, char *err, size_t errlen);
/* 0 found, 1 not found, -1 error. */
int kz_store_root_get(kz_store *s, const char *name, kz_store_root *out, char *err, size_t errlen);

/* id may be NULL (a random UUID is made; it is written back into id_out, 37 bytes). */
int kz_store_collection_add(kz_store *s, const char *root, const char *id, const char *alias,
                            const char *title, const char *description, char id_out[37], char *err,
                            size_t errlen);
typedef int (*kz_store_collection_fn)(void *ctx, const kz_store_collection *c);
/* Collections of a root (all roots when root is NULL), in a stable order (creation). */
int kz_store_collection_each(kz_store *s, const char *root, kz_store_collection_fn fn, void *ctx,
                             char *err, size_t errlen);
/* Look a collection up by id or alias within a root. 0 found, 1 not found, -1 error. */
int kz_store_collection_get(kz_store *s, const char *root, const char *id_or_alias,
                            kz_store_collection *out, char *err, size_t errlen);

/* ---- object versions -------------------------------------------------------------------- */

/* One version to store. The caller extracts the index columns (see lib/taxii). */
typedef struct kz_store_object {
    const char *id;
    const char *type;
    const char *spec_version; /* "2.1", "2.0" */
    const char *version;      /* modified (else created, else a constant) as written */
    int64_t version_us;       /* the same instant, for exact matching */
    const char *creator;      /* org name of the account that added it; may be NULL */
    const char *markings;     /* JSON array text of object_marking_refs; may be NULL */
    int tlp;                  /* highest TLP level among the markings (kz_tlp_level), 0 none */
    const char *json;         /* the serialised object */
    size_t json_len;
} kz_store_object;

typedef enum {
    KZ_STORE_ADDED = 0,     /* a new version was stored */
    KZ_STORE_DUPLICATE = 1, /* the same bytes were already stored: success, nothing written */
    KZ_STORE_CONFLICT = 2,  /* a different object with the same id and version is stored */
} kz_store_put_result;

/* Store n versions into a collection in one durable transaction. results[i] receives the
 * outcome for objs[i]; date_added[i] (may be NULL) the date_added given (0 when not added).
 * Returns 0 (every result set) or -1 (nothing stored). */
int kz_store_put_objects(kz_store *s, int64_t coll, const kz_store_object *objs, size_t n,
                         kz_store_put_result *results, int64_t *date_added, char *err,
                         size_t errlen);

/* What a page read selects. All lists are ORed within themselves and ANDed together. */
typedef struct kz_store_query {
    int64_t coll;
    int64_t after; /* only versions with date_added > after (0: from the start) */
    size_t limit;  /* at most this many rows (must be > 0) */
    const char *const *ids;
    size_t nids;
    const char *const *types;
    size_t ntypes;
    const char *const *spec_versions;
    size_t nspec;
    /* version selection: all, or any of first / last / exact instants; none set means last */
    bool v_all, v_first, v_last;
    const int64_t *v_times;
    size_t nv_times;
    /* sharing rule: when max_tlp > 0, versions marked above max_tlp are returned only to
     * viewer_org, the organisation that added them */
    int max_tlp;
    const char *viewer_org;
} kz_store_query;

typedef struct kz_store_row {
    int64_t date_added;
    const char *id;
    const char *version;
    const char *spec_version;
    const char *json; /* NULL unless asked for */
    size_t json_len;
} kz_store_row;

/* Return non-zero from the callback to stop (that value is returned). */
typedef int (*kz_store_row_fn)(void *ctx, const kz_store_row *r);

/* Read one page: rows in date_added order; *more tells whether another matching row exists
 * after the last one given. */
int kz_store_page(kz_store *s, const kz_store_query *q, bool want_json, kz_store_row_fn fn,
                  void *ctx, bool *more, char *err, size_t errlen);

/* Whether any version of an object is stored in a collection: 1 yes, 0 no, -1 error. */
int kz_store_object_exists(kz_store *s, int64_t coll, const char *id, char *err, size_t errlen);

/* Delete the versions of one object that q's version and spec_version selection picks (q's
 * coll, after and limit are ignored; ids/types ignored). *deleted receives the count. */
int kz_store_delete_object(kz_store *s, int64_t coll, const char *id, const kz_store_query *q,
                           size_t *deleted, char *err, size_t errlen);

/* Total number of stored versions in a collection (for tests and the bench). */
int kz_store_count(kz_store *s, int64_t coll, int64_t *count, char *err, size_t errlen);

/* ---- status resources ------------------------------------------------------------------- */

/* owner: the account key that made the request; only its organisation may read it back. */
int kz_store_status_put(kz_store *s, const char *id, const char *root, int64_t owner,
                        int64_t created_us, const char *json, char *err, size_t errlen);
/* 0 found (*json malloc'd, *owner set), 1 not found, -1 error. */
int kz_store_status_get(kz_store *s, const char *id, const char *root, char **json, int64_t *owner,
                        char *err, size_t errlen);
/* Remove status resources created before `before_us`. */
int kz_store_status_prune(kz_store *s, int64_t before_us, char *err, size_t errlen);

/* ---- organisations, accounts, tokens, grants -------------------------------------------- */

typedef struct kz_store_account {
    int64_t key;
    char *name;
    char *org;    /* organisation name */
    char *pwhash; /* Argon2id string (crypto_pwhash_str form) */
} kz_store_account;
void kz_store_account_free(kz_store_account *a);

/* identity: the STIX identity id of the organisation. */
int kz_store_org_add(kz_store *s, const char *name, const char *identity, char *err, size_t errlen);
typedef int (*kz_store_org_fn)(void *ctx, const char *name, const char *identity);
int kz_store_org_each(kz_store *s, kz_store_org_fn fn, void *ctx, char *err, size_t errlen);

int kz_store_account_add(kz_store *s, const char *name, const char *org, const char *pwhash,
                         char *err, size_t errlen);
/* 0 deleted, 1 not found, -1 error. Also drops the account's tokens and grants. */
int kz_store_account_del(kz_store *s, const char *name, char *err, size_t errlen);
int kz_store_account_get(kz_store *s, const char *name, kz_store_account *out, char *err,
                         size_t errlen);
int kz_store_account_get_key(kz_store *s, int64_t key, kz_store_account *out, char *err,
                             size_t errlen);
typedef int (*kz_store_account_fn)(void *ctx, const kz_store_account *a);
int kz_store_account_each(kz_store *s, kz_store_account_fn fn, void *ctx, char *err, size_t errlen);

/* Tokens are stored only as a hash (32 bytes). label names the token for revocation. */
int kz_store_token_add(kz_store *s, const char *account, const char *label, const uint8_t hash[32],
                       char *err, size_t errlen);
/* 0 revoked, 1 not found, -1 error. */
int kz_store_token_revoke(kz_store *s, const char *account, const char *label, char *err,
                          size_t errlen);
/* 0 found (*account_key set), 1 unknown or revoked, -1 error. */
int kz_store_token_lookup(kz_store *s, const uint8_t hash[32], int64_t *account_key, char *err,
                          size_t errlen);

/* Grant or revoke read and/or write on a collection to an account ("user") or to every
 * account of an organisation ("org"). Revoking clears only the named rights. */
int kz_store_grant(kz_store *s, const char *collection_id, bool to_org, const char *name, bool read,
                   bool write, bool revoke, char *err, size_t errlen);
/* The rights an account has on a collection, through its own grants or its organisation's. */
int kz_store_access(kz_store *s, int64_t account_key, int64_t coll, bool *can_read, bool *can_write,
                    char *err, size_t errlen);

#endif
