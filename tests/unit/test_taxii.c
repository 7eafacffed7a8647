/* Unit tests for lib/taxii: media-type negotiation, error objects, filter parsing and
 * validation, the stateless cursor, and the request handler in-process (no HTTP). */
#include "kt.h"

#include <jansson.h>
#include <kizuna/policy.h>
#include <kizuna/taxii.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_accept(void)
{
    KT_CHECK(kz_taxii_accept_ok("application/taxii+json;version=2.1"));
    KT_CHECK(kz_taxii_accept_ok("application/taxii+json"));
    KT_CHECK(kz_taxii_accept_ok("Application/TAXII+JSON; Version=\"2.1\""));
    KT_CHECK(kz_taxii_accept_ok("application/json, application/taxii+json;version=2.1;q=0.3"));
    KT_CHECK(kz_taxii_accept_ok("application/taxii+json;version=2.1,"
                                "application/stix+json;version=2.1"));
    KT_CHECK(!kz_taxii_accept_ok(NULL));
    KT_CHECK(!kz_taxii_accept_ok(""));
    KT_CHECK(!kz_taxii_accept_ok("*/*"));
    KT_CHECK(!kz_taxii_accept_ok("application/json"));
    KT_CHECK(!kz_taxii_accept_ok("application/taxii+json;version=2.0"));
    KT_CHECK(!kz_taxii_accept_ok("application/taxii+json;version=2.1;q=0"));
    KT_CHECK(!kz_taxii_accept_ok("application/taxii+jsonx"));
    KT_CHECK(kz_taxii_content_type_ok("application/taxii+json;version=2.1"));
    KT_CHECK(kz_taxii_content_type_ok("application/taxii+json; charset=utf-8"));
    KT_CHECK(!kz_taxii_content_type_ok("application/json"));
    KT_CHECK(!kz_taxii_content_type_ok("application/taxii+json;version=2.0"));
    KT_CHECK(!kz_taxii_content_type_ok("application/taxii+json;q=1"));
    KT_CHECK(!kz_taxii_content_type_ok(NULL));
}

static void test_error_json(void)
{
    char *s = kz_taxii_error_json(404, "Not found", "no such thing");
    json_t *v = json_loads(s, 0, NULL);
    KT_CHECK(v != NULL);
    KT_CHECK_STR(json_string_value(json_object_get(v, "http_status")), "404");
    KT_CHECK_STR(json_string_value(json_object_get(v, "title")), "Not found");
    json_decref(v);
    free(s);
}

#define P(k, v)                                                                                    \
    {                                                                                              \
        k, v                                                                                       \
    }

static void test_filter_valid(void)
{
    kz_taxii_param ps[] = {P("added_after", "2020-01-01T00:00:00.5Z"),
                           P("limit", "20"),
                           P("match[id]", "a,b"),
                           P("match[type]", "indicator"),
                           P("match[version]", "first,2020-01-01T00:00:00Z,last"),
                           P("match[spec_version]", "2.0,2.1"),
                           P("match[other]", "x")};
    kz_taxii_filter f;
    char err[256];
    KT_CHECK_MSG(
        kz_taxii_filter_parse(ps, 7, KZ_TAXII_EP_OBJECTS, 1000, "c", &f, err, sizeof err) == 0,
        "%s", err);
    KT_CHECK(f.after == 1577836800500000LL);
    KT_CHECK(f.limit == 20);
    KT_CHECK(f.nids == 2 && strcmp(f.ids[1], "b") == 0);
    KT_CHECK(f.ntypes == 1 && f.nspec == 2);
    KT_CHECK(f.v_first && f.v_last && !f.v_all && f.nv_times == 1 &&
             f.v_times[0] == 1577836800000000LL);
    kz_store_query q;
    kz_taxii_filter_query(&f, 9, &q);
    KT_CHECK(q.coll == 9 && q.limit == 20 && q.nids == 2 && q.v_first);
    kz_taxii_filter_free(&f);
    kz_taxii_param big[] = {P("limit", "5000")};
    KT_CHECK(kz_taxii_filter_parse(big, 1, KZ_TAXII_EP_OBJECTS, 1000, "c", &f, err, sizeof err) ==
             0);
    KT_CHECK(f.limit == 1000); /* capped, not refused */
    kz_taxii_filter_free(&f);
    KT_CHECK(kz_taxii_filter_parse(NULL, 0, KZ_TAXII_EP_DELETE, 1000, "o", &f, err, sizeof err) ==
             0);
    KT_CHECK(f.v_all); /* DELETE without version removes every version */
    kz_taxii_filter_free(&f);
    /* match[id] does not apply to the object endpoint: ignored */
    kz_taxii_param oid[] = {P("match[id]", "x"), P("match[version]", "all")};
    KT_CHECK(kz_taxii_filter_parse(oid, 2, KZ_TAXII_EP_OBJECT, 1000, "o", &f, err, sizeof err) ==
             0);
    KT_CHECK(f.nids == 0 && f.v_all);
    kz_taxii_filter_free(&f);
}

static void test_filter_invalid(void)
{
    const kz_taxii_param bad[][2] = {
        {P("limit", "0"), P("x", "y")},
        {P("limit", "-3"), P("x", "y")},
        {P("limit", "12a"), P("x", "y")},
        {P("limit", "+5"), P("x", "y")},
        {P("added_after", "2020-01-01"), P("x", "y")},
        {P("match[version]", "all,first"), P("x", "y")},
        {P("match[version]", "first,first"), P("x", "y")},
        {P("match[version]", "2020-01-01T00:00:00Z,2020-01-01T00:00:00.000Z"), P("x", "y")},
        {P("match[version]", "newest"), P("x", "y")},
        {P("match[type]", ""), P("x", "y")},
        {P("match[id]", "a,"), P("x", "y")},
        {P("next", "zz"), P("x", "y")},
        {P("limit", "1"), P("limit", "2")},
        {P("match[type]", "a"), P("match[type]", "b")},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kz_taxii_filter f;
        char err[256] = "";
        KT_CHECK_MSG(kz_taxii_filter_parse(bad[i], 2, KZ_TAXII_EP_OBJECTS, 100, "c", &f, err,
                                           sizeof err) < 0,
                     "case %zu accepted", i);
        KT_CHECK_MSG(err[0] != 0, "case %zu: no message", i);
    }
}

static void test_cursor(void)
{
    kz_taxii_param ps[] = {P("match[type]", "indicator"), P("limit", "10")};
    kz_taxii_filter f, g;
    char err[256], cur[40];
    KT_CHECK(kz_taxii_filter_parse(ps, 2, KZ_TAXII_EP_OBJECTS, 100, "c", &f, err, sizeof err) == 0);
    kz_taxii_cursor(&f, 123456789, cur);
    kz_taxii_filter_free(&f);
    /* same query, other limit, reordered: accepted and positioned after the cursor */
    kz_taxii_param again[] = {P("next", cur), P("limit", "3"), P("match[type]", "indicator")};
    KT_CHECK_MSG(
        kz_taxii_filter_parse(again, 3, KZ_TAXII_EP_OBJECTS, 100, "c", &g, err, sizeof err) == 0,
        "%s", err);
    KT_CHECK(g.after == 123456789 && g.limit == 3);
    kz_taxii_filter_free(&g);
    /* another filter or another collection: refused */
    kz_taxii_param other[] = {P("next", cur), P("match[type]", "malware")};
    KT_CHECK(kz_taxii_filter_parse(other, 2, KZ_TAXII_EP_OBJECTS, 100, "c", &g, err, sizeof err) <
             0);
    KT_CHECK(strstr(err, "another query") != NULL);
    KT_CHECK(kz_taxii_filter_parse(again, 3, KZ_TAXII_EP_OBJECTS, 100, "d", &g, err, sizeof err) <
             0);
    /* added_after belongs to the query: adding one to a cursor's query is refused */
    kz_taxii_param both[] = {P("next", cur), P("match[type]", "indicator"),
                             P("added_after", "2030-01-01T00:00:00Z")};
    kz_taxii_filter h;
    KT_CHECK(kz_taxii_filter_parse(both, 3, KZ_TAXII_EP_OBJECTS, 100, "c", &h, err, sizeof err) <
             0);
}

/* ---- the handler in-process ------------------------------------------------------------ */

static char dir[64];

static void test_handler(void)
{
    snprintf(dir, sizeof dir, "/tmp/kz-taxii-XXXXXX");
    if (!mkdtemp(dir))
        KT_SKIP("cannot make a temporary directory");
    kz_store *s = NULL;
    char err[256], cid[37], hash[KZ_POLICY_PWHASH_LEN];
    KT_CHECK(kz_store_open(dir, &s, err, sizeof err) == 0);
    if (!s)
        return;
    kz_store_org_add(s, "acme", "identity--x", err, sizeof err);
    kz_policy_hash_password("pw", 2, hash);
    kz_store_account_add(s, "u", "acme", hash, err, sizeof err);
    kz_store_collection_add(s, "api", NULL, "c", "C", NULL, cid, err, sizeof err);
    kz_store_grant(s, "c", false, "u", true, true, false, err, sizeof err);
    kz_taxii_config cfg = {.page_size = 2};
    kz_taxii_server *srv = kz_taxii_server_new(s, &cfg);
    KT_CHECK(srv != NULL);
    kz_taxii_request rq = {.method = "GET", .path = "/taxii2/", .accept = KZ_TAXII_MEDIA_TYPE};
    kz_taxii_response res;
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 401 && res.challenge);
    kz_taxii_response_free(&res);
    rq.authorization = "Basic dTpwdw=="; /* u:pw */
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 200 && strstr(res.body, "\"/api/\"") != NULL);
    KT_CHECK_STR(res.account, "u");
    kz_taxii_response_free(&res);
    rq.accept = "application/json";
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 406);
    kz_taxii_response_free(&res);
    rq.accept = KZ_TAXII_MEDIA_TYPE;
    char path[128];
    snprintf(path, sizeof path, "/api/collections/c/objects/");
    rq.path = path;
    rq.method = "POST";
    rq.content_type = KZ_TAXII_MEDIA_TYPE;
    const char *body =
        "{\"objects\":[{\"type\":\"identity\",\"spec_version\":\"2.1\","
        "\"id\":\"identity--3f5d6c3a-2b1e-4a5f-9c1d-0e2f3a4b5c6d\","
        "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
        "\"name\":\"A\"},{\"type\":\"identity\",\"spec_version\":\"2.1\","
        "\"id\":\"identity--4f5d6c3a-2b1e-4a5f-9c1d-0e2f3a4b5c6d\","
        "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
        "\"name\":\"B\"},{\"type\":\"identity\",\"spec_version\":\"2.1\","
        "\"id\":\"identity--5f5d6c3a-2b1e-4a5f-9c1d-0e2f3a4b5c6d\","
        "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
        "\"name\":\"C\"}]}";
    rq.body = body;
    rq.body_len = strlen(body);
    rq.headers_only = true; /* preflight: everything but the body is checked */
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 0 && res.body == NULL);
    kz_taxii_response_free(&res);
    rq.content_type = "application/json";
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 415);
    kz_taxii_response_free(&res);
    rq.content_type = KZ_TAXII_MEDIA_TYPE;
    rq.authorization = NULL;
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 401);
    kz_taxii_response_free(&res);
    rq.authorization = "Basic dTpwdw==";
    rq.headers_only = false;
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK_MSG(res.status == 202 && strstr(res.body, "\"success_count\":3"), "%d %s", res.status,
                 res.body ? res.body : "");
    kz_taxii_response_free(&res);
    rq.method = "GET";
    rq.body = NULL;
    rq.body_len = 0;
    kz_taxii_handle(srv, &rq, &res); /* page size 2: two objects and a next */
    KT_CHECK(res.status == 200 && strstr(res.body, "\"more\":true") &&
             strstr(res.body, "\"next\":"));
    KT_CHECK(res.date_first[0] && res.date_last[0] && strcmp(res.date_first, res.date_last) < 0);
    kz_taxii_response_free(&res);
    rq.path = "/api/collections/c/objects";
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 404);
    kz_taxii_response_free(&res);
    rq.path = "/api/collections/c/manifest/";
    rq.method = "POST";
    kz_taxii_handle(srv, &rq, &res);
    KT_CHECK(res.status == 405 && res.allow && strcmp(res.allow, "GET") == 0);
    kz_taxii_response_free(&res);
    kz_taxii_server_free(srv);
    kz_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    KT_CHECK(system(cmd) == 0);
}

KT_MAIN(KT(test_accept), KT(test_error_json), KT(test_filter_valid), KT(test_filter_invalid),
        KT(test_cursor), KT(test_handler))
