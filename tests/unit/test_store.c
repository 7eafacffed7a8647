/* Unit tests for lib/store (SQLite backend): catalog tables, object versions with strictly
 * increasing date_added, page reads and filters, first/last maintenance, deletes, status,
 * accounts, tokens and grants, persistence across reopen. */
#include "kt.h"

#include <kizuna/store.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static kz_store *fresh(void)
{
    snprintf(dir, sizeof dir, "/tmp/kz-store-XXXXXX");
    if (!mkdtemp(dir))
        return NULL;
    kz_store *s = NULL;
    char err[256];
    if (kz_store_open(dir, &s, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return s;
}

static void cleanup(kz_store *s)
{
    kz_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static kz_store_object obj(const char *id, const char *version, int64_t vus, const char *json)
{
    kz_store_object o = {.id = id,
                         .type = "indicator",
                         .spec_version = "2.1",
                         .version = version,
                         .version_us = vus,
                         .creator = "acme",
                         .json = json,
                         .json_len = strlen(json)};
    return o;
}

typedef struct {
    int64_t da[64];
    char ver[64][40];
    char id[64][80];
    size_t n;
} rows;

static int collect(void *ctx, const kz_store_row *r)
{
    rows *rs = ctx;
    if (rs->n < 64) {
        rs->da[rs->n] = r->date_added;
        snprintf(rs->ver[rs->n], 40, "%s", r->version);
        snprintf(rs->id[rs->n], 80, "%s", r->id);
        rs->n++;
    }
    return 0;
}

static size_t page(kz_store *s, kz_store_query *q, rows *rs, bool *more)
{
    char err[256];
    memset(rs, 0, sizeof *rs);
    int rc = kz_store_page(s, q, true, collect, rs, more, err, sizeof err);
    KT_CHECK_MSG(rc == 0, "%s", err);
    return rs->n;
}

static void test_catalog(void)
{
    kz_store *s = fresh();
    KT_CHECK(s != NULL);
    if (!s)
        return;
    char err[256], id[37];
    KT_CHECK(kz_store_collection_add(s, "api", NULL, "one", "One", NULL, id, err, sizeof err) == 0);
    KT_CHECK(strlen(id) == 36);
    KT_CHECK(kz_store_collection_add(s, "api", NULL, "one", "Again", NULL, NULL, err, sizeof err) <
             0);
    KT_CHECK(strstr(err, "already exists") != NULL);
    KT_CHECK(kz_store_collection_add(s, "api", "not-a-uuid", NULL, "x", NULL, NULL, err,
                                     sizeof err) < 0);
    KT_CHECK(kz_store_collection_add(s, "api", NULL, "a/b", "x", NULL, NULL, err, sizeof err) < 0);
    KT_CHECK(kz_store_collection_add(s, "taxii2", NULL, NULL, "x", NULL, NULL, err, sizeof err) <
             0);
    KT_CHECK(kz_store_root_add(s, "..", "x", NULL, err, sizeof err) < 0);
    KT_CHECK(kz_store_root_add(s, "a b", "x", NULL, err, sizeof err) < 0);
    KT_CHECK(kz_store_root_add(s, "trust-group.1", "x", NULL, err, sizeof err) == 0);
    KT_CHECK(kz_store_collection_add(s, "other", "6f0b2b5e-5f43-4d0f-8d0c-7f6c6a0b9e11", "one",
                                     "Same alias, other root", "d", NULL, err, sizeof err) == 0);
    kz_store_collection c;
    KT_CHECK(kz_store_collection_get(s, "api", "one", &c, err, sizeof err) == 0);
    KT_CHECK_STR(c.id, id);
    KT_CHECK_STR(c.title, "One");
    KT_CHECK(c.description == NULL);
    kz_store_collection_free(&c);
    KT_CHECK(kz_store_collection_get(s, "api", id, &c, err, sizeof err) == 0);
    kz_store_collection_free(&c);
    KT_CHECK(kz_store_collection_get(s, "nope", id, &c, err, sizeof err) == 1);
    kz_store_root r;
    KT_CHECK(kz_store_root_get(s, "other", &r, err, sizeof err) == 0);
    KT_CHECK_STR(r.name, "other");
    kz_store_root_free(&r);
    KT_CHECK(kz_store_root_get(s, "missing", &r, err, sizeof err) == 1);
    cleanup(s);
}

static void test_objects_and_paging(void)
{
    kz_store *s = fresh();
    if (!s)
        return;
    char err[256], cid[37];
    kz_store_collection_add(s, "api", NULL, NULL, "C", NULL, cid, err, sizeof err);
    kz_store_collection c;
    kz_store_collection_get(s, "api", cid, &c, err, sizeof err);
    kz_store_object batch[5] = {
        obj("indicator--a", "2020-01-01T00:00:00Z", 100, "{\"a\":1}"),
        obj("indicator--a", "2019-01-01T00:00:00Z", 50, "{\"a\":0}"),
        obj("indicator--b", "2020-01-01T00:00:00Z", 100, "{\"b\":1}"),
        obj("indicator--a", "2021-01-01T00:00:00Z", 200, "{\"a\":2}"),
        obj("indicator--b", "2020-01-01T00:00:00Z", 100, "{\"b\":1}"), /* duplicate */
    };
    batch[2].type = "malware";
    batch[2].spec_version = "2.0";
    kz_store_put_result res[5];
    int64_t da[5];
    KT_CHECK(kz_store_put_objects(s, c.key, batch, 5, res, da, err, sizeof err) == 0);
    KT_CHECK(res[0] == KZ_STORE_ADDED && res[3] == KZ_STORE_ADDED);
    KT_CHECK(res[4] == KZ_STORE_DUPLICATE && da[4] == 0);
    KT_CHECK(da[0] < da[1] && da[1] < da[2] && da[2] < da[3]);
    kz_store_object conflict = obj("indicator--a", "2020-01-01T00:00:00Z", 100, "{\"a\":9}");
    KT_CHECK(kz_store_put_objects(s, c.key, &conflict, 1, res, da, err, sizeof err) == 0);
    KT_CHECK(res[0] == KZ_STORE_CONFLICT);
    int64_t n = 0;
    KT_CHECK(kz_store_count(s, c.key, &n, err, sizeof err) == 0 && n == 4);

    rows rs;
    bool more;
    kz_store_query q = {.coll = c.key, .limit = 10};
    KT_CHECK(page(s, &q, &rs, &more) == 2 && !more); /* last versions: b, a@200 */
    KT_CHECK_STR(rs.id[0], "indicator--b");
    KT_CHECK_STR(rs.ver[1], "2021-01-01T00:00:00Z");
    q.v_all = true;
    KT_CHECK(page(s, &q, &rs, &more) == 4);
    KT_CHECK(rs.da[0] < rs.da[1] && rs.da[1] < rs.da[2] && rs.da[2] < rs.da[3]);
    q.limit = 3;
    KT_CHECK(page(s, &q, &rs, &more) == 3 && more);
    q.after = rs.da[2];
    KT_CHECK(page(s, &q, &rs, &more) == 1 && !more);
    q.after = 0;
    q.limit = 10;
    q.v_all = false;
    q.v_first = true;
    const char *ida[] = {"indicator--a"};
    q.ids = ida;
    q.nids = 1;
    KT_CHECK(page(s, &q, &rs, &more) == 1);
    KT_CHECK_STR(rs.ver[0], "2019-01-01T00:00:00Z");
    q.v_last = true;
    KT_CHECK(page(s, &q, &rs, &more) == 2);
    int64_t t[] = {100};
    q.v_first = q.v_last = false;
    q.v_times = t;
    q.nv_times = 1;
    KT_CHECK(page(s, &q, &rs, &more) == 1);
    KT_CHECK_STR(rs.ver[0], "2020-01-01T00:00:00Z");
    q.nv_times = 0;
    q.nids = 0;
    const char *types[] = {"malware"}, *spec[] = {"2.0"}, *spec21[] = {"2.1"};
    q.types = types;
    q.ntypes = 1;
    KT_CHECK(page(s, &q, &rs, &more) == 1);
    q.ntypes = 0;
    q.spec_versions = spec;
    q.nspec = 1;
    KT_CHECK(page(s, &q, &rs, &more) == 1 && strcmp(rs.id[0], "indicator--b") == 0);
    q.spec_versions = spec21;
    KT_CHECK(page(s, &q, &rs, &more) == 1 && strcmp(rs.id[0], "indicator--a") == 0);

    /* delete the last version of a: the previous one becomes last */
    kz_store_query dq = {.v_last = true};
    size_t deleted = 0;
    KT_CHECK(kz_store_delete_object(s, c.key, "indicator--a", &dq, &deleted, err, sizeof err) == 0);
    KT_CHECK(deleted == 1);
    kz_store_query lq = {.coll = c.key, .limit = 10, .ids = ida, .nids = 1};
    KT_CHECK(page(s, &lq, &rs, &more) == 1);
    KT_CHECK_STR(rs.ver[0], "2020-01-01T00:00:00Z");
    dq.v_last = false;
    dq.v_all = true;
    KT_CHECK(kz_store_delete_object(s, c.key, "indicator--a", &dq, &deleted, err, sizeof err) == 0);
    KT_CHECK(deleted == 2);
    KT_CHECK(kz_store_object_exists(s, c.key, "indicator--a", err, sizeof err) == 0);
    KT_CHECK(kz_store_object_exists(s, c.key, "indicator--b", err, sizeof err) == 1);

    /* date_added keeps increasing after reopen, even past deleted rows */
    int64_t before = rs.da[0];
    kz_store_object later = obj("indicator--c", "2020-01-01T00:00:00Z", 100, "{}");
    kz_store_close(s);
    KT_CHECK(kz_store_open(dir, &s, err, sizeof err) == 0);
    KT_CHECK(kz_store_put_objects(s, c.key, &later, 1, res, da, err, sizeof err) == 0);
    KT_CHECK(da[0] > before);
    /* sharing rule: above the ceiling only the creator organisation sees a version */
    kz_store_object red = obj("indicator--r", "2020-01-01T00:00:00Z", 100, "{\"r\":1}");
    red.tlp = 5;
    KT_CHECK(kz_store_put_objects(s, c.key, &red, 1, res, da, err, sizeof err) == 0);
    const char *idr[] = {"indicator--r"};
    kz_store_query tq = {
        .coll = c.key, .limit = 10, .ids = idr, .nids = 1, .max_tlp = 4, .viewer_org = "other"};
    KT_CHECK(page(s, &tq, &rs, &more) == 0);
    tq.viewer_org = "acme";
    KT_CHECK(page(s, &tq, &rs, &more) == 1);
    tq.viewer_org = "other";
    tq.max_tlp = 5;
    KT_CHECK(page(s, &tq, &rs, &more) == 1);
    tq.max_tlp = 0;
    KT_CHECK(page(s, &tq, &rs, &more) == 1);
    kz_store_query zero = {.coll = c.key, .limit = 0};
    KT_CHECK(kz_store_page(s, &zero, false, collect, &rs, &more, err, sizeof err) < 0);
    kz_store_collection_free(&c);
    cleanup(s);
}

static void test_status(void)
{
    kz_store *s = fresh();
    if (!s)
        return;
    char err[256], *json = NULL;
    int64_t owner = 0;
    KT_CHECK(kz_store_status_put(s, "s1", "api", 7, 1000, "{\"id\":\"s1\"}", err, sizeof err) == 0);
    KT_CHECK(kz_store_status_get(s, "s1", "api", &json, &owner, err, sizeof err) == 0);
    KT_CHECK_STR(json, "{\"id\":\"s1\"}");
    KT_CHECK(owner == 7);
    free(json);
    KT_CHECK(kz_store_status_get(s, "s1", "other", &json, &owner, err, sizeof err) == 1);
    KT_CHECK(kz_store_status_prune(s, 999, err, sizeof err) == 0);
    KT_CHECK(kz_store_status_get(s, "s1", "api", &json, &owner, err, sizeof err) == 0);
    free(json);
    KT_CHECK(kz_store_status_prune(s, 1001, err, sizeof err) == 0);
    KT_CHECK(kz_store_status_get(s, "s1", "api", &json, &owner, err, sizeof err) == 1);
    cleanup(s);
}

static void test_accounts_grants(void)
{
    kz_store *s = fresh();
    if (!s)
        return;
    char err[256], cid[37];
    KT_CHECK(kz_store_org_add(s, "acme", "identity--1", err, sizeof err) == 0);
    KT_CHECK(kz_store_org_add(s, "acme", "identity--2", err, sizeof err) < 0);
    KT_CHECK(kz_store_org_add(s, "other", "identity--3", err, sizeof err) == 0);
    KT_CHECK(kz_store_account_add(s, "alice", "acme", "$hash", err, sizeof err) == 0);
    KT_CHECK(kz_store_account_add(s, "alice", "acme", "$hash", err, sizeof err) < 0);
    KT_CHECK(kz_store_account_add(s, "bob", "nope", "$hash", err, sizeof err) < 0);
    KT_CHECK(strstr(err, "nope") != NULL);
    KT_CHECK(kz_store_account_add(s, "bob", "other", "$hash", err, sizeof err) == 0);
    kz_store_account a;
    KT_CHECK(kz_store_account_get(s, "alice", &a, err, sizeof err) == 0);
    KT_CHECK_STR(a.org, "acme");
    KT_CHECK_STR(a.pwhash, "$hash");
    int64_t akey = a.key;
    kz_store_account_free(&a);
    uint8_t h[32] = {1, 2, 3};
    int64_t who = 0;
    KT_CHECK(kz_store_token_add(s, "alice", "ci", h, err, sizeof err) == 0);
    KT_CHECK(kz_store_token_add(s, "alice", "ci", h, err, sizeof err) < 0);
    KT_CHECK(kz_store_token_add(s, "ghost", "ci", h, err, sizeof err) < 0);
    KT_CHECK(kz_store_token_lookup(s, h, &who, err, sizeof err) == 0 && who == akey);
    KT_CHECK(kz_store_token_revoke(s, "alice", "ci", err, sizeof err) == 0);
    KT_CHECK(kz_store_token_lookup(s, h, &who, err, sizeof err) == 1);
    KT_CHECK(kz_store_token_revoke(s, "alice", "ci", err, sizeof err) == 1);

    kz_store_collection_add(s, "api", NULL, "c", "C", NULL, cid, err, sizeof err);
    kz_store_collection c;
    kz_store_collection_get(s, "api", cid, &c, err, sizeof err);
    bool r = true, w = true;
    KT_CHECK(kz_store_access(s, akey, c.key, &r, &w, err, sizeof err) == 0 && !r && !w);
    KT_CHECK(kz_store_grant(s, "c", false, "alice", true, false, false, err, sizeof err) == 0);
    KT_CHECK(kz_store_access(s, akey, c.key, &r, &w, err, sizeof err) == 0 && r && !w);
    KT_CHECK(kz_store_grant(s, "c", true, "acme", false, true, false, err, sizeof err) == 0);
    KT_CHECK(kz_store_access(s, akey, c.key, &r, &w, err, sizeof err) == 0 && r && w);
    KT_CHECK(kz_store_grant(s, cid, false, "alice", true, false, true, err, sizeof err) == 0);
    KT_CHECK(kz_store_access(s, akey, c.key, &r, &w, err, sizeof err) == 0 && !r && w);
    KT_CHECK(kz_store_grant(s, "c", false, "ghost", true, false, false, err, sizeof err) < 0);
    KT_CHECK(kz_store_grant(s, "nope", false, "alice", true, false, false, err, sizeof err) < 0);
    KT_CHECK(kz_store_account_del(s, "alice", err, sizeof err) == 0);
    KT_CHECK(kz_store_account_del(s, "alice", err, sizeof err) == 1);
    KT_CHECK(kz_store_account_get(s, "alice", &a, err, sizeof err) == 1);
    kz_store_collection_free(&c);
    cleanup(s);
}

static void test_open_errors(void)
{
    kz_store *s = NULL;
    char err[256] = "";
    KT_CHECK(kz_store_open("/proc/version/nope", &s, err, sizeof err) < 0);
    KT_CHECK(s == NULL && err[0] != 0);
}

KT_MAIN(KT(test_catalog), KT(test_objects_and_paging), KT(test_status), KT(test_accounts_grants),
        KT(test_open_errors))
