/* Unit tests for lib/policy: Argon2id passwords, tokens, authentication of Basic and Bearer
 * headers (with and without the cache), and access decisions through grants. */
#include "kt.h"

#include <kizuna/policy.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_passwords(void)
{
    char h[KZ_POLICY_PWHASH_LEN];
    KT_CHECK(kz_policy_hash_password("s3cret", 6, h) == 0);
    KT_CHECK(strncmp(h, "$argon2id$", 10) == 0);
    KT_CHECK(strstr(h, "s3cret") == NULL);
    KT_CHECK(kz_policy_verify_password(h, "s3cret", 6));
    KT_CHECK(!kz_policy_verify_password(h, "s3creT", 6));
    KT_CHECK(!kz_policy_verify_password(h, "s3cre", 5));
    KT_CHECK(!kz_policy_verify_password(NULL, "x", 1));
    char h2[KZ_POLICY_PWHASH_LEN];
    kz_policy_hash_password("s3cret", 6, h2);
    KT_CHECK(strcmp(h, h2) != 0); /* salted */
}

static void test_tokens(void)
{
    char a[KZ_POLICY_TOKEN_LEN], b[KZ_POLICY_TOKEN_LEN];
    kz_policy_token_new(a);
    kz_policy_token_new(b);
    KT_CHECK(strncmp(a, "kzt_", 4) == 0 && strlen(a) == 47);
    KT_CHECK(strcmp(a, b) != 0);
    uint8_t ha[32], ha2[32], hb[32];
    kz_policy_token_hash(a, strlen(a), ha);
    kz_policy_token_hash(a, strlen(a), ha2);
    kz_policy_token_hash(b, strlen(b), hb);
    KT_CHECK(memcmp(ha, ha2, 32) == 0 && memcmp(ha, hb, 32) != 0);
}

static void test_authenticate(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/kz-policy-XXXXXX");
    if (!mkdtemp(dir))
        KT_SKIP("no temporary directory");
    kz_store *s = NULL;
    char err[256], h[KZ_POLICY_PWHASH_LEN], tok[KZ_POLICY_TOKEN_LEN], cid[37];
    KT_CHECK(kz_store_open(dir, &s, err, sizeof err) == 0);
    if (!s)
        return;
    kz_store_org_add(s, "acme", "identity--1", err, sizeof err);
    kz_policy_hash_password("pw", 2, h);
    kz_store_account_add(s, "alice", "acme", h, err, sizeof err);
    kz_policy_token_new(tok);
    uint8_t th[32];
    kz_policy_token_hash(tok, strlen(tok), th);
    kz_store_token_add(s, "alice", "t", th, err, sizeof err);
    kz_principal p;
    KT_CHECK(kz_policy_authenticate(s, NULL, "Basic YWxpY2U6cHc=", &p, err, sizeof err) == 0);
    KT_CHECK_STR(p.name, "alice");
    KT_CHECK_STR(p.org, "acme");
    KT_CHECK(kz_policy_authenticate(s, NULL, "basic   YWxpY2U6cHc=", &p, err, sizeof err) == 0);
    KT_CHECK(kz_policy_authenticate(s, NULL, "Basic YWxpY2U6cHg=", &p, err, sizeof err) == 1);
    KT_CHECK(kz_policy_authenticate(s, NULL, "Basic YWxpY2U=", &p, err, sizeof err) == 1);
    KT_CHECK(kz_policy_authenticate(s, NULL, "Basic ***", &p, err, sizeof err) == 1);
    KT_CHECK(kz_policy_authenticate(s, NULL, "Digest x", &p, err, sizeof err) == 1);
    KT_CHECK(kz_policy_authenticate(s, NULL, NULL, &p, err, sizeof err) == 1);
    char bearer[80];
    snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    KT_CHECK(kz_policy_authenticate(s, NULL, bearer, &p, err, sizeof err) == 0);
    KT_CHECK_STR(p.name, "alice");
    KT_CHECK(kz_policy_authenticate(s, NULL, "Bearer kzt_x", &p, err, sizeof err) == 1);
    snprintf(bearer, sizeof bearer, "Token %s", tok); /* taxii2-client's TokenAuth */
    KT_CHECK(kz_policy_authenticate(s, NULL, bearer, &p, err, sizeof err) == 0);
    snprintf(bearer, sizeof bearer, "Bearer %s", tok);

    /* the cache answers without the store; a zero ttl never serves stale answers */
    kz_policy_cache *c = kz_policy_cache_new(16, 60000000);
    kz_policy_cache *c0 = kz_policy_cache_new(16, 0);
    KT_CHECK(kz_policy_authenticate(s, c, "Basic YWxpY2U6cHc=", &p, err, sizeof err) == 0);
    KT_CHECK(kz_policy_authenticate(s, c0, "Basic YWxpY2U6cHc=", &p, err, sizeof err) == 0);
    KT_CHECK(kz_policy_authenticate(s, c, "Basic YWxpY2U6cHg=", &p, err, sizeof err) == 1);
    kz_store_account_del(s, "alice", err, sizeof err);
    KT_CHECK(kz_policy_authenticate(s, c, "Basic YWxpY2U6cHc=", &p, err, sizeof err) == 0);
    KT_CHECK(kz_policy_authenticate(s, c0, "Basic YWxpY2U6cHc=", &p, err, sizeof err) == 1);
    KT_CHECK(kz_policy_authenticate(s, NULL, bearer, &p, err, sizeof err) == 1);
    kz_policy_cache_free(c);
    kz_policy_cache_free(c0);

    /* decisions */
    kz_policy_hash_password("pw", 2, h);
    kz_store_account_add(s, "bob", "acme", h, err, sizeof err);
    KT_CHECK(kz_policy_authenticate(s, NULL, "Basic Ym9iOnB3", &p, err, sizeof err) == 0);
    kz_store_collection_add(s, "api", NULL, "c", "C", NULL, cid, err, sizeof err);
    kz_store_collection coll;
    kz_store_collection_get(s, "api", "c", &coll, err, sizeof err);
    bool r = true, w = true;
    KT_CHECK(kz_policy_access(s, &p, coll.key, &r, &w, err, sizeof err) == 0 && !r && !w);
    kz_store_grant(s, "c", true, "acme", true, false, false, err, sizeof err);
    KT_CHECK(kz_policy_access(s, &p, coll.key, &r, &w, err, sizeof err) == 0 && r && !w);
    kz_store_collection_free(&coll);
    kz_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    KT_CHECK(system(cmd) == 0);
}

/* Many threads verifying at once pass through the two-at-a-time gate without deadlock and
 * each gets its own answer. */
typedef struct {
    kz_store *s;
    kz_policy_cache *c;
    const char *hdr;
    int rc;
} auth_job;

static void *auth_thread(void *arg)
{
    auth_job *j = arg;
    kz_principal p;
    char err[256];
    j->rc = kz_policy_authenticate(j->s, j->c, j->hdr, &p, err, sizeof err);
    return NULL;
}

static void test_concurrent_verification(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/kz-policy-XXXXXX");
    if (!mkdtemp(dir))
        KT_SKIP("no temporary directory");
    kz_store *s = NULL;
    char err[256], h[KZ_POLICY_PWHASH_LEN];
    KT_CHECK(kz_store_open(dir, &s, err, sizeof err) == 0);
    if (!s)
        return;
    kz_store_org_add(s, "acme", "identity--1", err, sizeof err);
    kz_policy_hash_password("pw", 2, h);
    kz_store_account_add(s, "alice", "acme", h, err, sizeof err);
    kz_policy_cache *c = kz_policy_cache_new(16, 0); /* ttl 0: every call verifies */
    pthread_t t[6];
    auth_job jobs[6];
    for (int i = 0; i < 6; i++) {
        jobs[i] = (auth_job){s, c, i % 2 ? "Basic YWxpY2U6cHg=" : "Basic YWxpY2U6cHc=", -9};
        pthread_create(&t[i], NULL, auth_thread, &jobs[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        KT_CHECK_MSG(jobs[i].rc == (i % 2 ? 1 : 0), "thread %d got %d", i, jobs[i].rc);
    }
    kz_policy_cache_free(c);
    kz_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    KT_CHECK(system(cmd) == 0);
}

KT_MAIN(KT(test_passwords), KT(test_tokens), KT(test_authenticate),
        KT(test_concurrent_verification))
