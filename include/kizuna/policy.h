/*
 * kizuna policy: who may do what on the hub. Organisations, accounts that belong to one,
 * Argon2id password hashes (libsodium crypto_pwhash_str), API tokens (random, stored only as
 * a BLAKE2b hash), authentication of an HTTP Authorization header, and the decision "may
 * account A read / write collection C" from per-collection grants (to the account or to its
 * organisation).
 *
 * Ownership: the cache is created and freed by the caller. Thread-safety: every function may
 * be called from many threads; the cache has its own lock. Errors: -1 with err filled;
 * authentication failure is 1, not an error. Credentials are never copied into err.
 */
#ifndef KIZUNA_POLICY_H
#define KIZUNA_POLICY_H

#include <kizuna/store.h>

/* Argon2id string form is at most 128 bytes (crypto_pwhash_STRBYTES). */
#define KZ_POLICY_PWHASH_LEN 128
/* "kzt_" + 43 base64url characters + NUL. */
#define KZ_POLICY_TOKEN_LEN 48

/* Hash a password with Argon2id (interactive limits). Returns 0 or -1 (out of memory). */
int kz_policy_hash_password(const char *pw, size_t len, char out[KZ_POLICY_PWHASH_LEN]);
/* Constant-time verification of a password against a stored hash. */
bool kz_policy_verify_password(const char *hash, const char *pw, size_t len);

/* A new random API token (256 bits of entropy). */
void kz_policy_token_new(char out[KZ_POLICY_TOKEN_LEN]);
/* The stored form of a token. */
void kz_policy_token_hash(const char *token, size_t len, uint8_t out[32]);

/* An authenticated caller. */
typedef struct kz_principal {
    int64_t account;
    char name[128];
    char org[128];
} kz_principal;

/* A bounded cache of recent successful authentications, so that Argon2id (tens of ms and
 * 64 MiB by design) runs once per credential per ttl rather than on every request. Keys are
 * keyed BLAKE2b hashes of the whole Authorization header under a per-process random key, so
 * the cache holds no credential. A deleted account or revoked token stays usable at most
 * ttl_us after the change. The cache also caps concurrent Argon2id verifications at two, so
 * that a flood of wrong passwords queues instead of exhausting threads and memory. */
typedef struct kz_policy_cache kz_policy_cache;
kz_policy_cache *kz_policy_cache_new(size_t slots, int64_t ttl_us);
void kz_policy_cache_free(kz_policy_cache *c);

/* Authenticate an Authorization header value ("Basic ...", or "Bearer TOKEN" / "Token TOKEN"
 * for API tokens); cache may be
 * NULL. Returns 0 (out filled), 1 when missing, malformed or wrong, -1 on a store error. */
int kz_policy_authenticate(kz_store *s, kz_policy_cache *cache, const char *authorization,
                           kz_principal *out, char *err, size_t errlen);

/* The rights of a principal on a collection (by store key). */
int kz_policy_access(kz_store *s, const kz_principal *p, int64_t coll, bool *can_read,
                     bool *can_write, char *err, size_t errlen);

#endif
