/*
 * policy: credentials and access decisions for the hub.
 *
 * Passwords are Argon2id strings from libsodium (salt and limits inside the string); tokens
 * are 32 random bytes shown once and stored as their BLAKE2b-256 hash, which is enough for a
 * secret of full entropy and lets a lookup be one index probe. Decisions default to deny: no
 * grant row means neither read nor write. This file never logs and never keeps a credential:
 * the authentication cache keys on a keyed hash of the header.
 */
#include <kizuna/policy.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kz_policy_hash_password(const char *pw, size_t len, char out[KZ_POLICY_PWHASH_LEN])
{
    return crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0
               ? 0
               : -1;
}

bool kz_policy_verify_password(const char *hash, const char *pw, size_t len)
{
    return hash && crypto_pwhash_str_verify(hash, pw, len) == 0;
}

void kz_policy_token_new(char out[KZ_POLICY_TOKEN_LEN])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, "kzt_", 4);
    sodium_bin2base64(out + 4, KZ_POLICY_TOKEN_LEN - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void kz_policy_token_hash(const char *token, size_t len, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, len, NULL, 0);
}

/* ---- cache ------------------------------------------------------------------------------ */

typedef struct slot {
    uint8_t key[32];
    int64_t expires;
    kz_principal who;
} slot;

struct kz_policy_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned hashing, max_hashing; /* Argon2id verifications running / allowed at once */
    uint8_t hkey[crypto_generichash_KEYBYTES];
    size_t n;
    int64_t ttl;
    slot *slots;
};

kz_policy_cache *kz_policy_cache_new(size_t slots, int64_t ttl_us)
{
    if (slots == 0)
        slots = 1;
    kz_policy_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->slots = calloc(slots, sizeof *c->slots);
    if (!c->slots) {
        free(c);
        return NULL;
    }
    c->n = slots;
    c->ttl = ttl_us;
    randombytes_buf(c->hkey, sizeof c->hkey);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->max_hashing = 2;
    return c;
}

void kz_policy_cache_free(kz_policy_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    sodium_memzero(c->slots, c->n * sizeof *c->slots);
    free(c->slots);
    free(c);
}

static size_t slot_of(const kz_policy_cache *c, const uint8_t key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)(h % c->n);
}

static bool cache_get(kz_policy_cache *c, const uint8_t key[32], kz_principal *out)
{
    bool hit = false;
    int64_t now = kz_time_now_us();
    pthread_mutex_lock(&c->mu);
    slot *sl = &c->slots[slot_of(c, key)];
    if (sl->expires > now && sodium_memcmp(sl->key, key, 32) == 0) {
        *out = sl->who;
        hit = true;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

static void cache_put(kz_policy_cache *c, const uint8_t key[32], const kz_principal *who)
{
    pthread_mutex_lock(&c->mu);
    slot *sl = &c->slots[slot_of(c, key)];
    memcpy(sl->key, key, 32);
    sl->who = *who;
    sl->expires = kz_time_now_us() + c->ttl;
    pthread_mutex_unlock(&c->mu);
}

/* Each Argon2id verification takes 64 MiB and tens of milliseconds by design: a flood of
 * wrong passwords must queue here rather than take every thread and all memory. */
static void hashing_enter(kz_policy_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    while (c->hashing >= c->max_hashing)
        pthread_cond_wait(&c->cv, &c->mu);
    c->hashing++;
    pthread_mutex_unlock(&c->mu);
}

static void hashing_leave(kz_policy_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->hashing--;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* ---- authentication --------------------------------------------------------------------- */

static int principal_from(const kz_store_account *a, kz_principal *out)
{
    memset(out, 0, sizeof *out);
    out->account = a->key;
    snprintf(out->name, sizeof out->name, "%s", a->name);
    snprintf(out->org, sizeof out->org, "%s", a->org ? a->org : "");
    return 0;
}

static bool prefix_ci(const char *s, const char *p)
{
    for (; *p; s++, p++)
        if (!*s || (*s | 0x20) != (*p | 0x20))
            return false;
    return true;
}

static int auth_basic(kz_store *s, kz_policy_cache *cache, const char *b64, kz_principal *out,
                      char *err, size_t errlen)
{
    size_t blen = strlen(b64);
    if (blen > 4096)
        return 1;
    unsigned char *raw = malloc(blen + 1);
    if (!raw)
        return -1;
    size_t rawlen = 0;
    if (sodium_base642bin(raw, blen, b64, blen, NULL, &rawlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(raw);
        return 1;
    }
    raw[rawlen] = 0;
    char *colon = memchr(raw, ':', rawlen);
    if (!colon || memchr(raw, 0, rawlen)) {
        sodium_memzero(raw, rawlen);
        free(raw);
        return 1;
    }
    *colon = 0;
    const char *pw = colon + 1;
    size_t pwlen = rawlen - (size_t)(colon + 1 - (char *)raw);
    kz_store_account a;
    int rc = kz_store_account_get(s, (const char *)raw, &a, err, errlen);
    if (rc == 0) {
        hashing_enter(cache);
        bool ok = kz_policy_verify_password(a.pwhash, pw, pwlen);
        hashing_leave(cache);
        rc = ok ? principal_from(&a, out) : 1;
        kz_store_account_free(&a);
    }
    sodium_memzero(raw, rawlen);
    free(raw);
    return rc;
}

static int auth_bearer(kz_store *s, const char *tok, kz_principal *out, char *err, size_t errlen)
{
    uint8_t h[32];
    kz_policy_token_hash(tok, strlen(tok), h);
    int64_t key = 0;
    int rc = kz_store_token_lookup(s, h, &key, err, errlen);
    if (rc != 0)
        return rc;
    kz_store_account a;
    rc = kz_store_account_get_key(s, key, &a, err, errlen);
    if (rc == 0) {
        principal_from(&a, out);
        kz_store_account_free(&a);
    }
    return rc;
}

int kz_policy_authenticate(kz_store *s, kz_policy_cache *cache, const char *authorization,
                           kz_principal *out, char *err, size_t errlen)
{
    if (!authorization)
        return 1;
    uint8_t key[32];
    if (cache) {
        crypto_generichash(key, sizeof key, (const unsigned char *)authorization,
                           strlen(authorization), cache->hkey, sizeof cache->hkey);
        if (cache_get(cache, key, out))
            return 0;
    }
    const char *v = authorization;
    int rc = 1;
    if (prefix_ci(v, "basic ")) {
        v += 6;
        while (*v == ' ')
            v++;
        rc = auth_basic(s, cache, v, out, err, errlen);
    } else if (prefix_ci(v, "bearer ") || prefix_ci(v, "token ")) {
        /* "Token" is what taxii2-client's TokenAuth sends */
        v += prefix_ci(v, "token ") ? 6 : 7;
        while (*v == ' ')
            v++;
        rc = auth_bearer(s, v, out, err, errlen);
    }
    if (rc == 0 && cache)
        cache_put(cache, key, out);
    return rc;
}

int kz_policy_access(kz_store *s, const kz_principal *p, int64_t coll, bool *can_read,
                     bool *can_write, char *err, size_t errlen)
{
    return kz_store_access(s, p->account, coll, can_read, can_write, err, errlen);
}
