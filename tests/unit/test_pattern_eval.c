/* Unit tests for the pattern evaluator (lib/pattern/eval*.c, observation.c, compare.c):
 * the rules the conformance vectors leave open — IPv6 CIDR, NFC only for LIKE/MATCHES,
 * list indexing, references and the same-root rule, REPEATS distinctness with
 * number_observed, WITHIN/START/STOP boundaries, FOLLOWEDBY order, runtime errors, the
 * single-observation API, and a large observation set that must not explode. */
#include "kt.h"

#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Parse a JSON text of observations and a pattern; return 1/0/-1, or -2 when the pattern
 * does not parse / -3 when the data do not load. ids gets the binding's ids, comma-joined. */
static int run(int version, const char *pattern, const char *json, char *ids, size_t idslen)
{
    int line, col;
    char msg[256];
    kz_pattern *p = kz_pattern_parse(pattern, version, &line, &col, msg, sizeof msg);
    if (!p) {
        fprintf(stderr, "  parse failed: %s: %d:%d: %s\n", pattern, line, col, msg);
        return -2;
    }
    kz_json_error je;
    json_t *docs = kz_json_parse(json, strlen(json), &je);
    if (!docs) {
        fprintf(stderr, "  bad test JSON: %s\n", je.text);
        kz_pattern_free(p);
        return -3;
    }
    char err[256] = "";
    kz_obs_set *s = kz_obs_set_from_json(docs, version, err, sizeof err);
    json_decref(docs);
    if (!s) {
        kz_pattern_free(p);
        return -3;
    }
    size_t *b = NULL, nb = 0;
    int r = kz_pattern_match(p, s, &b, &nb, err, sizeof err);
    if (ids && idslen) {
        ids[0] = 0;
        for (size_t i = 0; i < nb; i++) {
            const char *id = kz_obs_set_id(s, b[i]);
            size_t used = strlen(ids);
            snprintf(ids + used, idslen - used, "%s%s", i ? "," : "", id ? id : "?");
        }
    }
    if (r < 0)
        KT_CHECK_MSG(err[0] != 0, "runtime error without a reason: %s", pattern);
    free(b);
    kz_obs_set_free(s);
    kz_pattern_free(p);
    return r;
}

/* A 2.0 observed-data with one embedded object, at second `sec` past 2020-01-01T00:00:00Z. */
static void od20(kz_buf *b, const char *id, int sec, int last_sec, int count, const char *obj)
{
    char first[40], last[40];
    kz_time_format((int64_t)(1577836800 + sec) * 1000000, 0, first, sizeof first);
    kz_time_format((int64_t)(1577836800 + last_sec) * 1000000, 0, last, sizeof last);
    kz_buf_printf(b,
                  "%s{\"type\":\"observed-data\",\"id\":\"%s\",\"first_observed\":\"%s\","
                  "\"last_observed\":\"%s\",\"number_observed\":%d,\"objects\":{\"0\":%s}}",
                  b->len > 1 ? "," : "", id, first, last, count, obj);
}

static void test_ipv6_and_ipv4_cidr(void)
{
    const char *d = "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
                    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
                    "\"objects\":{\"0\":{\"type\":\"ipv6-addr\",\"value\":\"2001:db8::1\"},"
                    "\"1\":{\"type\":\"ipv6-addr\",\"value\":\"2001:db8:aa00::/40\"},"
                    "\"2\":{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.7\"}}}]";
    KT_CHECK(run(20, "[ipv6-addr:value ISSUBSET '2001:db8::/32']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[ipv6-addr:value ISSUBSET '2001:db9::/32']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[ipv6-addr:value ISSUPERSET '2001:db8:aa12::5']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[ipv6-addr:value ISSUPERSET '2001:db8:ab00::/40']", d, NULL, 0) == 0);
    /* a v4 address is never inside a v6 network: false, so the NOT form holds */
    KT_CHECK(run(20, "[ipv4-addr:value ISSUBSET '::/0']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[ipv4-addr:value NOT ISSUBSET '::/0']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[ipv4-addr:value ISSUBSET '198.51.100.7']", d, NULL, 0) == 1);
    /* an unparsable literal cannot be evaluated */
    KT_CHECK(run(20, "[ipv4-addr:value ISSUBSET 'not-an-ip']", d, NULL, 0) == -1);
}

static void test_nfc_like_not_equal(void)
{
    /* value is NFD: e + COMBINING ACUTE; the literal is NFC é */
    const char *d = "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
                    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
                    "\"objects\":{\"0\":{\"type\":\"file\",\"name\":\"cafe\\u0301.txt\"}}}]";
    KT_CHECK(run(20, "[file:name LIKE 'caf\xc3\xa9%']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[file:name MATCHES '^caf\xc3\xa9\\\\.txt$']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[file:name = 'caf\xc3\xa9.txt']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[file:name != 'caf\xc3\xa9.txt']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[file:name IN ('caf\xc3\xa9.txt')]", d, NULL, 0) == 0);
    /* LIKE is anchored, MATCHES searches; _ is exactly one code point */
    KT_CHECK(run(20, "[file:name LIKE 'caf']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[file:name MATCHES 'f\xc3\xa9']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[file:name LIKE 'caf_.txt']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[file:name LIKE 'caf__.txt']", d, NULL, 0) == 0);
    /* regex metacharacters in LIKE are literal */
    KT_CHECK(run(20, "[file:name LIKE 'caf_(txt']", d, NULL, 0) == 0);
}

static void test_lists_any_and_index(void)
{
    const char *d = "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
                    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
                    "\"objects\":{\"0\":{\"type\":\"network-traffic\",\"protocols\":[\"ipv4\","
                    "\"tcp\",\"http\"],\"ports\":[80,443]}}}]";
    KT_CHECK(run(20, "[network-traffic:protocols[*] = 'tcp']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[network-traffic:protocols[*] = 'udp']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[network-traffic:protocols[0] = 'ipv4']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[network-traffic:protocols[1] = 'ipv4']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[network-traffic:protocols[7] = 'ipv4']", d, NULL, 0) == 0);
    /* out of range: the path selects nothing, so even NOT/!= are false */
    KT_CHECK(run(20, "[network-traffic:protocols[7] != 'ipv4']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[network-traffic:missing NOT = 'x']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[network-traffic:ports[*] > 400]", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[network-traffic:ports[*] > 500]", d, NULL, 0) == 0);
    /* any element: one element passing NOT is enough */
    KT_CHECK(run(20, "[network-traffic:protocols[*] NOT = 'tcp']", d, NULL, 0) == 1);
}

static void test_refs_and_same_root(void)
{
    /* spec 9.5: src and dst on different network-traffic objects must not match together */
    const char *d =
        "[{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "{\"type\":\"observed-data\",\"id\":\"observed-data--1\","
        "\"first_observed\":\"2019-10-20T00:12:01Z\",\"last_observed\":\"2019-10-20T00:51:02Z\","
        "\"number_observed\":1,\"object_refs\":[\"network-traffic--a\",\"ipv4-addr--1\","
        "\"network-traffic--b\",\"ipv4-addr--2\"]},"
        "{\"type\":\"network-traffic\",\"id\":\"network-traffic--a\",\"src_ref\":\"ipv4-addr--1\"},"
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--1\",\"value\":\"203.0.113.10\"},"
        "{\"type\":\"network-traffic\",\"id\":\"network-traffic--b\",\"dst_ref\":\"ipv4-addr--2\","
        "\"src_ref\":\"ipv4-addr--3\"},"
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--2\",\"value\":\"198.51.100.58\"},"
        "{\"type\":\"ipv4-addr\",\"id\":\"ipv4-addr--3\",\"value\":\"192.0.2.99\"}]}]";
    char ids[256];
    KT_CHECK(run(21, "[network-traffic:src_ref.value = '203.0.113.10']", d, ids, sizeof ids) == 1);
    KT_CHECK_STR(ids, "observed-data--1");
    KT_CHECK(run(21,
                 "[network-traffic:src_ref.value = '203.0.113.10' AND "
                 "network-traffic:dst_ref.value = '198.51.100.58']",
                 d, NULL, 0) == 0);
    KT_CHECK(run(21,
                 "[network-traffic:src_ref.value = '203.0.113.10' OR "
                 "network-traffic:dst_ref.value = '198.51.100.58']",
                 d, NULL, 0) == 1);
    /* ipv4-addr--3 is in the bundle but not in object_refs: not followed (spec 9.7.4) */
    KT_CHECK(run(21, "[network-traffic:src_ref.value = '192.0.2.99']", d, NULL, 0) == 0);
    KT_CHECK(run(21, "[ipv4-addr:value = '192.0.2.99']", d, NULL, 0) == 0);
    /* a _ref whose value is not a string cannot be dereferenced */
    const char *bad = "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
                      "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
                      "\"objects\":{\"0\":{\"type\":\"email-message\",\"from_ref\":5}}}]";
    KT_CHECK(run(20, "[email-message:from_ref.value = 'a@b']", bad, NULL, 0) == -1);
}

static void test_repeats_distinct(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    od20(&b, "observed-data--a", 0, 0, 1, "{\"type\":\"x\",\"v\":1}");
    od20(&b, "observed-data--b", 10, 10, 1, "{\"type\":\"x\",\"v\":1}");
    kz_buf_putc(&b, ']');
    char ids[256];
    KT_CHECK(run(20, "[x:v = 1] REPEATS 2 TIMES", b.data, ids, sizeof ids) == 1);
    KT_CHECK_STR(ids, "observed-data--a,observed-data--b");
    KT_CHECK(run(20, "[x:v = 1] REPEATS 3 TIMES", b.data, NULL, 0) == 0);
    KT_CHECK(run(20, "[x:v = 1] AND [x:v = 1] AND [x:v = 1]", b.data, NULL, 0) == 0);
    /* number_observed 3 offers three distinct observations */
    kz_buf_reset(&b);
    kz_buf_putc(&b, '[');
    od20(&b, "observed-data--c", 0, 0, 3, "{\"type\":\"x\",\"v\":1}");
    kz_buf_putc(&b, ']');
    KT_CHECK(run(20, "[x:v = 1] REPEATS 3 TIMES", b.data, ids, sizeof ids) == 1);
    KT_CHECK_STR(ids, "observed-data--c");
    KT_CHECK(run(20, "[x:v = 1] REPEATS 4 TIMES", b.data, NULL, 0) == 0);
    kz_buf_free(&b);
}

static void test_within_boundaries(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    od20(&b, "observed-data--a", 0, 0, 1, "{\"type\":\"x\",\"v\":1}");
    od20(&b, "observed-data--b", 5, 5, 1, "{\"type\":\"x\",\"v\":2}");
    kz_buf_putc(&b, ']');
    /* the reference counts a gap exactly equal to the window as within it */
    KT_CHECK(run(20, "([x:v = 1] AND [x:v = 2]) WITHIN 5 SECONDS", b.data, NULL, 0) == 1);
    KT_CHECK(run(20, "([x:v = 1] AND [x:v = 2]) WITHIN 4.999 SECONDS", b.data, NULL, 0) == 0);
    KT_CHECK(run(20, "([x:v = 1] AND [x:v = 2]) WITHIN 0 SECONDS", b.data, NULL, 0) == -1);
    /* intervals: [0,4] and [9,9] are within 5 s (4 + 5 >= 9) but not within 4.5 s */
    kz_buf_reset(&b);
    kz_buf_putc(&b, '[');
    od20(&b, "observed-data--a", 0, 4, 1, "{\"type\":\"x\",\"v\":1}");
    od20(&b, "observed-data--b", 9, 9, 1, "{\"type\":\"x\",\"v\":2}");
    kz_buf_putc(&b, ']');
    KT_CHECK(run(20, "([x:v = 1] AND [x:v = 2]) WITHIN 5 SECONDS", b.data, NULL, 0) == 1);
    KT_CHECK(run(20, "([x:v = 1] AND [x:v = 2]) WITHIN 4.5 SECONDS", b.data, NULL, 0) == 0);
    kz_buf_free(&b);
}

static void test_start_stop(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    od20(&b, "observed-data--a", 60, 60, 1, "{\"type\":\"x\",\"v\":1}"); /* 00:01:00 */
    kz_buf_putc(&b, ']');
    const char *in = "[x:v = 1] START t'2020-01-01T00:01:00Z' STOP t'2020-01-01T00:02:00Z'";
    const char *at_stop = "[x:v = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:01:00Z'";
    const char *after = "[x:v = 1] START t'2020-01-01T00:01:01Z' STOP t'2020-01-01T00:02:00Z'";
    const char *empty = "[x:v = 1] START t'2020-01-01T00:01:00Z' STOP t'2020-01-01T00:01:00Z'";
    KT_CHECK(run(21, in, b.data, NULL, 0) == 1);      /* start is inclusive */
    KT_CHECK(run(21, at_stop, b.data, NULL, 0) == 0); /* stop is exclusive */
    KT_CHECK(run(21, after, b.data, NULL, 0) == 0);
    KT_CHECK(run(21, empty, b.data, NULL, 0) == 0);
    kz_buf_free(&b);
}

static void test_followedby_order(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    od20(&b, "observed-data--late", 10, 10, 1, "{\"type\":\"x\",\"v\":1}");
    od20(&b, "observed-data--early", 5, 5, 1, "{\"type\":\"x\",\"v\":2}");
    od20(&b, "observed-data--same", 10, 10, 1, "{\"type\":\"x\",\"v\":3}");
    kz_buf_putc(&b, ']');
    char ids[256];
    KT_CHECK(run(20, "[x:v = 1] FOLLOWEDBY [x:v = 2]", b.data, NULL, 0) == 0);
    KT_CHECK(run(20, "[x:v = 2] FOLLOWEDBY [x:v = 1]", b.data, ids, sizeof ids) == 1);
    KT_CHECK_STR(ids, "observed-data--late,observed-data--early");
    /* equal timestamps satisfy FOLLOWEDBY (>=) */
    KT_CHECK(run(20, "[x:v = 1] FOLLOWEDBY [x:v = 3]", b.data, NULL, 0) == 1);
    KT_CHECK(run(20, "[x:v = 3] FOLLOWEDBY [x:v = 1]", b.data, NULL, 0) == 1);
    /* distinct observations: one observation cannot follow itself */
    KT_CHECK(run(20, "[x:v = 2] FOLLOWEDBY [x:v = 2]", b.data, NULL, 0) == 0);
    kz_buf_free(&b);
}

static void test_runtime_errors(void)
{
    const char *d =
        "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
        "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
        "\"objects\":{\"0\":{\"type\":\"x\",\"s\":\"hello\",\"t\":\"2020-01-01T00:00:00Z\","
        "\"payload_bin\":\"not base64!\"}}}]";
    KT_CHECK(run(20, "[x:s MATCHES '(unclosed']", d, NULL, 0) == -1);
    KT_CHECK(run(20, "[x:s = t'2020-01-01T00:00:00Z']", d, NULL, 0) == -1);
    KT_CHECK(run(20, "[x:t = t'2020-01-01T00:00:00Z']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[x:s IN (1, 'a')]", d, NULL, 0) == -1);
    KT_CHECK(run(20, "[x:payload_bin = 'a']", d, NULL, 0) == -1);
    /* a missing path is false, not an error, even next to a type mismatch */
    KT_CHECK(run(20, "[x:nothing = t'2020-01-01T00:00:00Z']", d, NULL, 0) == 0);
    /* malformed data timestamps cannot be evaluated */
    const char *bad = "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01t00:00:00Z\","
                      "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
                      "\"objects\":{}}]";
    KT_CHECK(run(20, "[x:s = 'a']", bad, NULL, 0) == -3);
    const char *zero = "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
                       "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":0,"
                       "\"objects\":{}}]";
    KT_CHECK(run(20, "[x:s = 'a']", zero, NULL, 0) == -3);
    /* objects without a type are not objects: an observation may end up empty */
    const char *untyped =
        "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
        "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
        "\"objects\":{\"0\":{\"s\":\"a\"}}}]";
    KT_CHECK(run(20, "[x:s = 'a']", untyped, NULL, 0) == 0);
}

static void test_binary_and_types(void)
{
    const char *d = "[{\"type\":\"observed-data\",\"first_observed\":\"2020-01-01T00:00:00Z\","
                    "\"last_observed\":\"2020-01-01T00:00:00Z\",\"number_observed\":1,"
                    "\"objects\":{\"0\":{\"type\":\"artifact\",\"payload_bin\":"
                    "\"dGhpcyBpcyBhIHRlc3Q=\",\"n\":3,\"f\":2.5,\"ok\":true,\"nul\":null}}}]";
    /* spec 9.6.4's example */
    KT_CHECK(run(20, "[artifact:payload_bin = 'dGhpcyBpcyBhIHRlc3Q=']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[artifact:payload_bin = 'this is a test']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[artifact:payload_bin = h'7468697320697320612074657374']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[artifact:payload_bin > h'74']", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[artifact:n = 3.0]", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[artifact:f > 2]", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[artifact:ok = true]", d, NULL, 0) == 1);
    /* booleans are not numbers: true is not 1 */
    KT_CHECK(run(20, "[artifact:ok = 1]", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[artifact:ok != 1]", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[artifact:n IN (true, false)]", d, NULL, 0) == 0);
    /* null is a present value of no comparable type: = false, != true */
    KT_CHECK(run(20, "[artifact:nul = 'x']", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[artifact:nul != 'x']", d, NULL, 0) == 1);
}

static void test_single_observation_api(void)
{
    int line, col;
    char msg[256], err[256];
    kz_pattern *p = kz_pattern_parse("[x:v = 1] FOLLOWEDBY [y:w > 2 AND y:w < 9]", 20, &line, &col,
                                     msg, sizeof msg);
    KT_CHECK(p != NULL);
    if (!p)
        return;
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    od20(&b, "observed-data--a", 0, 0, 1, "{\"type\":\"x\",\"v\":1}");
    od20(&b, "observed-data--b", 5, 5, 1, "{\"type\":\"y\",\"w\":5}");
    od20(&b, "observed-data--c", 5, 5, 1, "{\"type\":\"y\",\"w\":10}");
    kz_buf_putc(&b, ']');
    kz_json_error je;
    json_t *docs = kz_json_parse(b.data, b.len, &je);
    kz_obs_set *s = kz_obs_set_from_json(docs, 20, err, sizeof err);
    json_decref(docs);
    kz_matcher *m = kz_matcher_new(p, err, sizeof err);
    KT_CHECK(s && m);
    if (s && m) {
        KT_CHECK(kz_obs_set_count(s) == 3);
        KT_CHECK(kz_matcher_leaf_count(m) == 2);
        KT_CHECK(kz_matcher_leaf(m, 0)->kind == KZ_OE_OBS);
        KT_CHECK(kz_matcher_match_observation(m, 0, s, 0, err, sizeof err) == 1);
        KT_CHECK(kz_matcher_match_observation(m, 0, s, 1, err, sizeof err) == 0);
        KT_CHECK(kz_matcher_match_observation(m, 1, s, 1, err, sizeof err) == 1);
        KT_CHECK(kz_matcher_match_observation(m, 1, s, 2, err, sizeof err) == 0);
        KT_CHECK(kz_matcher_match_observation(m, 2, s, 0, err, sizeof err) == -1);
        size_t *bind = NULL, nb = 0;
        KT_CHECK(kz_matcher_match(m, s, &bind, &nb, err, sizeof err) == 1);
        KT_CHECK(nb == 2 && bind && bind[0] == 0 && bind[1] == 1);
        free(bind);
    }
    kz_matcher_free(m);
    kz_obs_set_free(s);
    kz_pattern_free(p);
    kz_buf_free(&b);
}

/* An observation whose interval spans centuries must still be found when a window starts
 * near its end (the candidate index cuts by the longest interval; here that length does not
 * fit the nanosecond arithmetic). */
static void test_long_interval(void)
{
    const char *d = "[{\"type\":\"observed-data\",\"first_observed\":\"1002-10-11T21:45:07Z\","
                    "\"last_observed\":\"2004-10-11T21:45:07Z\",\"number_observed\":1,"
                    "\"objects\":{\"0\":{\"type\":\"x\",\"v\":1}}},"
                    "{\"type\":\"observed-data\",\"first_observed\":\"2004-10-11T21:45:08Z\","
                    "\"last_observed\":\"2004-10-11T21:45:08Z\",\"number_observed\":1,"
                    "\"objects\":{\"0\":{\"type\":\"x\",\"v\":2}}}]";
    KT_CHECK(run(20, "([x:v = 1] AND [x:v = 2]) WITHIN 5 SECONDS", d, NULL, 0) == 1);
    KT_CHECK(run(20, "[x:v = 2] FOLLOWEDBY [x:v = 1]", d, NULL, 0) == 0);
    KT_CHECK(run(20, "[x:v = 1] FOLLOWEDBY [x:v = 2]", d, NULL, 0) == 1);
}

/* REPEATS over FOLLOWEDBY: ten disjoint (earlier, later) pairs exist only if the copies
 * share the observation with number_observed 5 and pair the long interval correctly; the
 * search must find them (a fuzzer found an earlier version giving up). */
static void test_repeats_of_followedby(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    char id[64], obj[64];
    int ages[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19};
    for (int i = 0; i < 16; i++) {
        snprintf(id, sizeof id, "observed-data--%d", i);
        snprintf(obj, sizeof obj, "{\"type\":\"person\",\"age\":%d}", ages[i]);
        int t = i < 12 ? i : i + 4;
        od20(&b, id, t, ages[i] == 16 ? t + 4 : t, ages[i] == 4 ? 5 : 1, obj);
    }
    kz_buf_putc(&b, ']');
    KT_CHECK(run(20, "([person:age < 20] FOLLOWEDBY [person:age > 5]) REPEATS 10 TIMES", b.data,
                 NULL, 0) == 1);
    KT_CHECK(run(20, "([person:age < 20] FOLLOWEDBY [person:age > 5]) REPEATS 11 TIMES", b.data,
                 NULL, 0) == 0);
    /* 20 lefts at 0, 10, ...; 19 rights each 5 s after a left, plus one right before all:
     * only 19 pairs, which a loose search would learn after trying every anchor order */
    kz_buf_reset(&b);
    kz_buf_putc(&b, '[');
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "observed-data--l%d", i);
        od20(&b, id, 100 + 10 * i, 100 + 10 * i, 1, "{\"type\":\"p\",\"k\":\"L\"}");
        snprintf(id, sizeof id, "observed-data--r%d", i);
        int t = i < 19 ? 105 + 10 * i : 0;
        od20(&b, id, t, t, 1, "{\"type\":\"p\",\"k\":\"R\"}");
    }
    kz_buf_putc(&b, ']');
    clock_t t0 = clock();
    KT_CHECK(run(20, "([p:k = 'L'] FOLLOWEDBY [p:k = 'R']) REPEATS 20 TIMES", b.data, NULL, 0) ==
             0);
    KT_CHECK(run(20, "([p:k = 'L'] FOLLOWEDBY [p:k = 'R']) REPEATS 19 TIMES", b.data, NULL, 0) ==
             1);
    KT_CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
    kz_buf_free(&b);
}

/* One matcher and one observation set shared by several threads (documented as safe):
 * every thread must get the same answers as a single-threaded run. */
typedef struct shared_run {
    const kz_matcher *m;
    const kz_obs_set *s;
    int ok;
} shared_run;

static void *thread_body(void *arg)
{
    shared_run *r = arg;
    char err[256];
    r->ok = 1;
    for (int i = 0; i < 30; i++) {
        size_t *b = NULL, nb = 0;
        if (kz_matcher_match(r->m, r->s, &b, &nb, err, sizeof err) != 1 || nb != 2)
            r->ok = 0;
        free(b);
        for (size_t o = 0; o < kz_obs_set_count(r->s); o++)
            if (kz_matcher_match_observation(r->m, 0, r->s, o, err, sizeof err) != (o % 2 == 0))
                r->ok = 0;
    }
    return NULL;
}

static void test_concurrent_matching(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    char id[64];
    for (int i = 0; i < 60; i++) {
        snprintf(id, sizeof id, "observed-data--%d", i);
        od20(&b, id, i, i, 1,
             i % 2 ? "{\"type\":\"d\",\"value\":\"b\u00e9.example\"}"
                   : "{\"type\":\"d\",\"value\":\"a\u00e9.example\"}");
    }
    kz_buf_putc(&b, ']');
    int line, col;
    char msg[256], err[256];
    kz_pattern *p = kz_pattern_parse(
        "([d:value MATCHES '^a\u00e9'] FOLLOWEDBY [d:value LIKE 'b%']) WITHIN 2 SECONDS", 21, &line,
        &col, msg, sizeof msg);
    kz_json_error je;
    json_t *docs = kz_json_parse(b.data, b.len, &je);
    kz_obs_set *s = docs ? kz_obs_set_from_json(docs, 21, err, sizeof err) : NULL;
    json_decref(docs);
    kz_matcher *m = p ? kz_matcher_new(p, err, sizeof err) : NULL;
    KT_CHECK(p && s && m);
    if (p && s && m) {
        pthread_t th[4];
        shared_run runs[4];
        for (int i = 0; i < 4; i++) {
            runs[i].m = m;
            runs[i].s = s;
            runs[i].ok = 0;
            KT_CHECK(pthread_create(&th[i], NULL, thread_body, &runs[i]) == 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            KT_CHECK_MSG(runs[i].ok, "thread %d saw a different result", i);
        }
    }
    kz_matcher_free(m);
    kz_obs_set_free(s);
    kz_pattern_free(p);
    kz_buf_free(&b);
}

/* 400 observations one second apart, all matching: the reference's cross products explode
 * here; the search must answer each pattern in well under a second. */
static void test_no_combinatorial_explosion(void)
{
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '[');
    char id[64];
    for (int i = 0; i < 400; i++) {
        snprintf(id, sizeof id, "observed-data--%d", i);
        od20(&b, id, i, i, 1, i % 2 ? "{\"type\":\"p\",\"age\":7}" : "{\"type\":\"p\",\"age\":3}");
    }
    kz_buf_putc(&b, ']');
    struct {
        const char *pattern;
        int want;
    } cases[] = {
        {"[p:age < 20] REPEATS 10 TIMES WITHIN 9 SECONDS", 1},
        {"[p:age < 20] REPEATS 10 TIMES WITHIN 8 SECONDS", 0},
        {"[p:age < 20] REPEATS 200 TIMES WITHIN 198 SECONDS", 0},
        {"[p:age < 20] REPEATS 401 TIMES", 0},
        {"[p:age < 20] REPEATS 400 TIMES", 1},
        {"([p:age < 5] FOLLOWEDBY [p:age > 5]) REPEATS 10 TIMES", 1},
        {"([p:age < 5] FOLLOWEDBY [p:age > 5]) REPEATS 201 TIMES", 0},
        {"([p:age < 5] AND [p:age > 5]) WITHIN 1 SECONDS REPEATS 20 TIMES", 1},
        {"[p:age < 20] AND [p:age < 20] AND [p:age < 20] AND [p:age < 20] AND [p:age < 20] AND "
         "[p:age < 20] AND [p:age < 20] AND [p:age < 20] AND [p:age < 20] AND [p:age < 20]",
         1},
        {"([p:age = 3] OR [p:age = 99]) REPEATS 201 TIMES", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clock_t t0 = clock();
        int r = run(20, cases[i].pattern, b.data, NULL, 0);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        KT_CHECK_MSG(r == cases[i].want, "%s: got %d", cases[i].pattern, r);
        KT_CHECK_MSG(secs < 0.5, "%s took %.3f s", cases[i].pattern, secs);
    }
    kz_buf_free(&b);
}

KT_MAIN(KT(test_ipv6_and_ipv4_cidr), KT(test_nfc_like_not_equal), KT(test_lists_any_and_index),
        KT(test_refs_and_same_root), KT(test_repeats_distinct), KT(test_within_boundaries),
        KT(test_start_stop), KT(test_followedby_order), KT(test_runtime_errors),
        KT(test_binary_and_types), KT(test_single_observation_api), KT(test_long_interval),
        KT(test_repeats_of_followedby), KT(test_concurrent_matching),
        KT(test_no_combinatorial_explosion))
