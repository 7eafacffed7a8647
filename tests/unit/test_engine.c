/* Detection engine: loading (versions, validity, revocation, bad input), hits and their
 * context, compact records, and differential tests against the pattern evaluator over
 * randomised indicators and observations (single observations and streams). */
#include "engine/engine_int.h" /* ctx_cap: a small context table */
#include "kt.h"

#include <kizuna/engine.h>
#include <kizuna/json.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ---------------------------------------------------------------------------- */

#define NOW 1735689600000000ll /* 2025-01-01T00:00:00Z */

typedef struct hits {
    char ids[256][64];
    char fired[256][256];
    char pattern[256][256];
    char ctx[256][512];
    char name[256][64];
    size_t bind[256][16];
    size_t nbind[256];
    size_t n;
} hits;

static int on_hit(void *ctx, const kz_engine_hit *h)
{
    hits *x = ctx;
    if (x->n < 256) {
        snprintf(x->ids[x->n], sizeof x->ids[0], "%s", h->id);
        snprintf(x->fired[x->n], sizeof x->fired[0], "%s", h->fired ? h->fired : "");
        snprintf(x->pattern[x->n], sizeof x->pattern[0], "%s", h->pattern ? h->pattern : "");
        snprintf(x->ctx[x->n], sizeof x->ctx[0], "%s", h->context_json ? h->context_json : "");
        snprintf(x->name[x->n], sizeof x->name[0], "%s", h->name ? h->name : "");
        x->nbind[x->n] = h->nbinding < 16 ? h->nbinding : 16;
        for (size_t i = 0; i < x->nbind[x->n]; i++)
            x->bind[x->n][i] = h->binding[i];
        x->n++;
    }
    return 0;
}

/* Texts of the last hit, whole (the hits table keeps 256 bytes). */
static char *long_fired, *long_pattern;
static int on_hit_long(void *ctx, const kz_engine_hit *h)
{
    (void)ctx;
    free(long_fired);
    free(long_pattern);
    long_fired = strdup(h->fired);
    long_pattern = strdup(h->pattern);
    return 0;
}

/* A pattern string literal of s (quote and backslash escaped), built here independently of
 * the engine's own quoting. */
static void quote_literal(kz_buf *b, const char *s, size_t n)
{
    kz_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            kz_buf_putc(b, '\\');
        kz_buf_putc(b, s[i]);
    }
    kz_buf_putc(b, '\'');
}

static bool has(const hits *h, const char *id)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ids[i], id) == 0)
            return true;
    return false;
}

static long hit_index(const hits *h, const char *id)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ids[i], id) == 0)
            return (long)i;
    return -1;
}

/* Indicator n with pattern and modified time (text), extra members appended when given. */
static char *ind_mod(char *buf, size_t len, int n, const char *pattern, const char *modified,
                     const char *extra)
{
    json_t *p = json_string(pattern);
    char *q = json_dumps(p, JSON_ENCODE_ANY);
    snprintf(
        buf, len,
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-"
        "8000-%012d\","
        "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"%s\","
        "\"pattern\":%s,\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"%s%s}",
        n, modified, q, extra ? "," : "", extra ? extra : "");
    free(q);
    json_decref(p);
    return buf;
}

static char *ind(char *buf, size_t len, int n, const char *pattern, const char *extra)
{
    return ind_mod(buf, len, n, pattern, "2024-01-01T00:00:00Z", extra);
}

/* Indicator n with pattern, one JSON line appended to all. */
static void add_ind(kz_buf *all, int n, const char *pattern)
{
    char b[2048];
    kz_buf_puts(all, ind(b, sizeof b, n, pattern, NULL));
    kz_buf_putc(all, '\n');
}

static const char *idn(int n)
{
    static char b[8][64];
    static int k;
    char *s = b[k++ % 8];
    snprintf(s, 64, "indicator--00000000-0000-4000-8000-%012d", n);
    return s;
}

static kz_obs_set *obs_from(const char *text)
{
    kz_json_error je;
    json_t *d = kz_json_parse(text, strlen(text), &je);
    if (!d) {
        fprintf(stderr, "bad test JSON: %s\n", je.text);
        return NULL;
    }
    char err[256];
    kz_obs_set *s = kz_obs_set_from_json(d, 21, err, sizeof err);
    if (!s)
        fprintf(stderr, "obs: %s\n", err);
    json_decref(d);
    return s;
}

/* An observed-data set of one ipv4-addr object with value addr. */
static kz_obs_set *obs_ip4(const char *addr)
{
    char od[512];
    snprintf(od, sizeof od,
             "[{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-"
             "000000000001\",\"first_observed\":\"2025-01-01T00:00:00Z\",\"last_observed\":"
             "\"2025-01-01T00:00:00Z\",\"number_observed\":1,\"objects\":{\"0\":{\"type\":"
             "\"ipv4-addr\",\"value\":\"%s\"}}}]",
             addr);
    return obs_from(od);
}

static long load_text(kz_engine *e, const char *t, kz_diags *d)
{
    char err[256];
    return kz_engine_load(e, t, strlen(t), d, err, sizeof err);
}

static long match1(kz_engine *e, const kz_obs_set *s, size_t i, hits *h)
{
    memset(h, 0, sizeof *h);
    char err[256];
    const kz_engine_gen *g = kz_engine_acquire(e);
    long r = kz_engine_match_obs(g, s, i, on_hit, h, err, sizeof err);
    kz_engine_release(e, g);
    return r;
}

/* ---- basics ------------------------------------------------------------------------------ */

static void test_basic_hits_and_context(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    KT_CHECK(e != NULL);
    char a[2048], b[2048], c[2048], d[2048], f[2048], g[2048], h[2048], i[2048];
    char all[20000];
    snprintf(all, sizeof all, "[%s,%s,%s,%s,%s,%s,%s,%s]",
             ind(a, sizeof a, 1, "[ipv4-addr:value = '10.0.0.1']",
                 "\"name\":\"bad ip\",\"indicator_types\":[\"malicious-activity\"],\"confidence\":70,"
                 "\"created_by_ref\":\"identity--11111111-1111-4111-8111-111111111111\","
                 "\"object_marking_refs\":[\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"],"
                 "\"kill_chain_phases\":[{\"kill_chain_name\":\"lockheed-martin-cyber-kill-chain\",\"phase_name\":\"delivery\"}]"),
             ind(b, sizeof b, 2, "[ipv4-addr:value ISSUBSET '10.0.0.0/8']", NULL),
             ind(c, sizeof c, 3, "[domain-name:value = 'example.org' OR domain-name:value LIKE '%.example.org']", NULL),
             ind(d, sizeof d, 4, "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", NULL),
             ind(f, sizeof f, 5, "[ipv4-addr:value = '10.0.0.1' AND ipv4-addr:value != '1.1.1.1']", NULL),
             ind(g, sizeof g, 6, "[ipv4-addr:value = '10.0.0.1'] AND [domain-name:value = 'x.example.org']", NULL),
             ind(h, sizeof h, 7, "[ipv4-addr:value = ", NULL),
             ind(i, sizeof i, 8, "[url:value MATCHES '^http://(a+)+$']", NULL));
    kz_diags dg;
    kz_diags_init(&dg);
    long n = load_text(e, all, &dg);
    KT_CHECK_MSG(n == 6, "loaded %ld", n);
    KT_CHECK(dg.errors == 2);
    bool saw7 = false, saw8 = false;
    for (size_t k = 0; k < dg.n; k++) {
        if (dg.v[k].object_id && strcmp(dg.v[k].object_id, idn(7)) == 0)
            saw7 = strstr(dg.v[k].message, "1:") != NULL; /* the parser's line:col */
        if (dg.v[k].object_id && strcmp(dg.v[k].object_id, idn(8)) == 0)
            saw8 = strstr(dg.v[k].message, "catastrophic") != NULL;
    }
    KT_CHECK(saw7);
    KT_CHECK(saw8);
    kz_diags_free(&dg);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK(st.live == 6);
    KT_CHECK(st.simple == 4); /* equality, CIDR and "domain and subdomains" shapes */
    KT_CHECK(st.rejected == 2);

    kz_obs_set *s = obs_from(
        "[{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-000000000001\","
        "\"first_observed\":\"2025-01-01T00:00:00Z\",\"last_observed\":\"2025-01-01T00:00:00Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"10.0.0.1\"},"
        "\"1\":{\"type\":\"domain-name\",\"value\":\"www.example.org\"}}},"
        "{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-000000000002\","
        "\"first_observed\":\"2025-01-01T00:00:00Z\",\"last_observed\":\"2025-01-01T00:00:00Z\","
        "\"number_observed\":2,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"10.0.0.1\"},"
        "\"1\":{\"type\":\"domain-name\",\"value\":\"x.example.org\"},"
        "\"2\":{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f\"}}}},"
        "{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-000000000003\","
        "\"first_observed\":\"2025-01-01T00:00:00Z\",\"last_observed\":\"2025-01-01T00:00:00Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"192.168.0.1\"},"
        "\"1\":{\"type\":\"domain-name\",\"value\":\"example.org.evil\"}}}]");
    KT_CHECK(s != NULL);
    hits x;
    KT_CHECK(match1(e, s, 0, &x) == 4);
    KT_CHECK(has(&x, idn(1)) && has(&x, idn(2)) && has(&x, idn(3)) && has(&x, idn(5)));
    long k1 = hit_index(&x, idn(1));
    KT_CHECK(k1 >= 0 && strcmp(x.name[k1], "bad ip") == 0);
    KT_CHECK(k1 >= 0 && strcmp(x.fired[k1], "ipv4-addr:value = '10.0.0.1'") == 0);
    KT_CHECK(k1 >= 0 && strstr(x.ctx[k1], "\"confidence\":70") && strstr(x.ctx[k1], "delivery") &&
             strstr(x.ctx[k1], "identity--1111") && strstr(x.ctx[k1], "marking-definition--f88d"));
    long k2 = hit_index(&x, idn(2));
    KT_CHECK(k2 >= 0 && strcmp(x.fired[k2], "ipv4-addr:value ISSUBSET '10.0.0.0/8'") == 0);
    KT_CHECK(k2 >= 0 && strcmp(x.pattern[k2], "[ipv4-addr:value ISSUBSET '10.0.0.0/8']") == 0);
    KT_CHECK(strcmp(x.pattern[k1], "[ipv4-addr:value = '10.0.0.1']") == 0);
    /* the index answers shapes without the pattern's text: it is rebuilt exactly */
    long k3 = hit_index(&x, idn(3));
    KT_CHECK_MSG(k3 >= 0 && strcmp(x.fired[k3], "domain-name:value LIKE '%.example.org'") == 0,
                 "%s", k3 >= 0 ? x.fired[k3] : "-");
    KT_CHECK(k3 >= 0 &&
             strcmp(x.pattern[k3], "[domain-name:value = 'example.org' OR domain-name:value LIKE "
                                   "'%.example.org']") == 0);
    /* observation 2 has number_observed 2: the two-expression pattern matches it alone */
    KT_CHECK(match1(e, s, 1, &x) == 6);
    KT_CHECK(has(&x, idn(4)) && has(&x, idn(6)));
    KT_CHECK(match1(e, s, 2, &x) == 0);
    kz_obs_set_free(s);
    /* longest-prefix and all-prefix answers of the CIDR index */
    char c1[1024], c2[1024], c3[1024], more[4096];
    snprintf(more, sizeof more, "%s\n%s\n%s\n",
             ind(c1, sizeof c1, 20, "[ipv4-addr:value ISSUBSET '10.1.0.0/16']", NULL),
             ind(c2, sizeof c2, 21, "[ipv4-addr:value ISSUBSET '10.1.2.0/24']", NULL),
             ind(c3, sizeof c3, 22, "[ipv4-addr:value ISSUBSET '10.9.0.0/16']", NULL));
    KT_CHECK(load_text(e, more, NULL) == 3);
    const kz_engine_gen *gg = kz_engine_acquire(e);
    long pv = kz_engine_path(e, "ipv4-addr:value");
    int longest = 0;
    KT_CHECK(kz_engine_lookup_cidr(gg, (uint32_t)pv, "10.1.2.3", 8, &longest) == 3); /* /8 /16 /24 */
    KT_CHECK(longest == 24);
    KT_CHECK(kz_engine_lookup_cidr(gg, (uint32_t)pv, "10.1.9.9", 8, &longest) == 2 && longest == 16);
    KT_CHECK(kz_engine_lookup_cidr(gg, (uint32_t)pv, "11.0.0.1", 8, &longest) == 0 && longest == -1);
    KT_CHECK(kz_engine_lookup_exact(gg, (uint32_t)pv, "10.0.0.1", 8) == 1);
    kz_engine_release(e, gg);
    kz_engine_free(e);
}

/* An update whose id or expiry entries cannot be kept (memory runs out: tables_cap stands in
 * for it) fails whole, before it changes anything. Before, the expiry entry was dropped and
 * the indicator loaded (it never expired), and a removal's id could be forgotten while the
 * removal went through. */
static long lookup_ip(kz_engine *e, const char *v)
{
    const kz_engine_gen *g = kz_engine_acquire(e);
    long n = (long)kz_engine_lookup_exact(g, (uint32_t)kz_engine_path(e, "ipv4-addr:value"), v,
                                          strlen(v));
    kz_engine_release(e, g);
    return n;
}

static void test_update_tables_full(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    KT_CHECK(e != NULL);
    e->tables_cap = 2;
    kz_buf plain, until;
    kz_buf_init(&plain);
    kz_buf_init(&until);
    const char *ids[3];
    char idb[3][64];
    for (int i = 0; i < 3; i++) {
        char pat[64], one[1024];
        snprintf(pat, sizeof pat, "[ipv4-addr:value = '10.3.0.%d']", i);
        kz_buf_printf(&plain, "%s\n", ind(one, sizeof one, 400 + i, pat, NULL));
        snprintf(pat, sizeof pat, "[ipv4-addr:value = '10.4.0.%d']", i);
        kz_buf_printf(
            &until, "%s\n",
            ind(one, sizeof one, 500 + i, pat, "\"valid_until\":\"2030-01-01T00:00:00Z\""));
        snprintf(idb[i], sizeof idb[i], "%s", idn(400 + i));
        ids[i] = idb[i];
    }
    char err[256] = "";
    /* three expiry entries: no room, nothing loaded */
    KT_CHECK(kz_engine_load(e, until.data, until.len, NULL, err, sizeof err) == -1);
    KT_CHECK_MSG(strstr(err, "out of memory") != NULL, "%s", err);
    KT_CHECK(lookup_ip(e, "10.4.0.0") == 0 && lookup_ip(e, "10.4.0.2") == 0);
    /* no entries needed: loaded; then three removed ids: no room, all three stay */
    KT_CHECK(load_text(e, plain.data, NULL) == 3);
    KT_CHECK(kz_engine_remove(e, ids, 3, err, sizeof err) == -1);
    KT_CHECK(lookup_ip(e, "10.3.0.0") == 1 && lookup_ip(e, "10.3.0.2") == 1);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.base_records + st.delta_records == 3, "%zu + %zu records", st.base_records,
                 st.delta_records);
    /* with room: both go through, and the indicators with valid_until expire */
    e->tables_cap = SIZE_MAX;
    KT_CHECK(kz_engine_remove(e, ids, 3, err, sizeof err) == 3);
    KT_CHECK(lookup_ip(e, "10.3.0.0") == 0 && lookup_ip(e, "10.3.0.2") == 0);
    KT_CHECK(kz_engine_load(e, until.data, until.len, NULL, err, sizeof err) == 3);
    KT_CHECK(lookup_ip(e, "10.4.0.0") == 1 && lookup_ip(e, "10.4.0.2") == 1);
    KT_CHECK(kz_engine_advance(e, NOW + 10 * 366 * 86400 * 1000000ll, err, sizeof err) >= 0);
    KT_CHECK(lookup_ip(e, "10.4.0.0") == 0 && lookup_ip(e, "10.4.0.2") == 0);
    kz_buf_free(&plain);
    kz_buf_free(&until);
    kz_engine_free(e);
}

/* A full table of contexts refuses each indicator whose context it would have to add (counted,
 * with its id and a reason) and still loads those whose context it holds: a hit never shows an
 * empty context in place of the indicator's markings. (Before, the table's 16.7M-th context
 * and any after it read as "{}".) */
static void test_context_table_full(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    KT_CHECK(e != NULL);
    e->ctx_cap = 3; /* "{}" and two more */
    static const char *const extra[6] = {
        "\"confidence\":10",
        "\"confidence\":20",
        "\"confidence\":30", /* a third: refused */
        "\"confidence\":10", /* held: loaded */
        NULL,                /* "{}": loaded */
        "\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"]",
    };
    static const bool want_hit[6] = {true, true, false, true, true, false};
    kz_buf all;
    kz_buf_init(&all);
    for (int i = 0; i < 6; i++) {
        char pat[64], one[1024];
        snprintf(pat, sizeof pat, "[ipv4-addr:value = '10.2.0.%d']", i);
        kz_buf_printf(&all, "%s\n", ind(one, sizeof one, 300 + i, pat, extra[i]));
    }
    kz_diags dg;
    kz_diags_init(&dg);
    KT_CHECK(load_text(e, all.data, &dg) == 4);
    KT_CHECK(dg.errors == 2);
    for (size_t k = 0; k < dg.n; k++)
        KT_CHECK_MSG(strstr(dg.v[k].message, "context") && dg.v[k].object_id &&
                         (strcmp(dg.v[k].object_id, idn(302)) == 0 ||
                          strcmp(dg.v[k].object_id, idn(305)) == 0),
                     "%s: %s", dg.v[k].object_id ? dg.v[k].object_id : "-", dg.v[k].message);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK(st.rejected == 2);
    for (int i = 0; i < 6; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "10.2.0.%d", i);
        kz_obs_set *s = obs_ip4(addr);
        hits x;
        long n = s ? match1(e, s, 0, &x) : -1;
        KT_CHECK_MSG(n == (want_hit[i] ? 1 : 0), "10.2.0.%d: %ld hits", i, n);
        if (n == 1 && i != 4)
            KT_CHECK_MSG(strstr(x.ctx[0], i == 1 ? "\"confidence\":20" : "\"confidence\":10"),
                         "10.2.0.%d: context %s", i, x.ctx[0]);
        if (n == 1 && i == 4)
            KT_CHECK(strcmp(x.ctx[0], "{}") == 0);
        kz_obs_set_free(s);
    }
    kz_diags_free(&dg);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* Contexts interleaved in a load: each hit carries its own indicator's context, whether that
 * context was the last one seen, one of the recent ones the engine keeps, or one pushed out
 * of them (12 contexts, the engine keeps 8). Contexts 2j and 2j + 1 differ only in whether
 * created_by_ref is there at all. */
static void test_context_interleaved(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    KT_CHECK(e != NULL);
    enum { N = 90 };
    static char all[N * 700 + 16];
    size_t len = 0;
    int kof[N];
    all[len++] = '[';
    for (int i = 0; i < N; i++) {
        int k = (i * 7 + i / 13) % 12;
        kof[i] = k;
        char pat[64], extra[256], one[1024];
        snprintf(pat, sizeof pat, "[ipv4-addr:value = '10.1.0.%d']", i);
        snprintf(extra, sizeof extra, "\"confidence\":%d%s", 10 + k / 2,
                 k % 2 ? ""
                       : ",\"created_by_ref\":\"identity--11111111-1111-4111-8111-111111111111\"");
        ind(one, sizeof one, 100 + i, pat, extra);
        len += (size_t)snprintf(all + len, sizeof all - len, "%s%s", i ? "," : "", one);
    }
    snprintf(all + len, sizeof all - len, "]");
    KT_CHECK(load_text(e, all, NULL) == N);
    size_t wrong = 0;
    for (int i = 0; i < N; i++) {
        char addr[32], want[32];
        snprintf(addr, sizeof addr, "10.1.0.%d", i);
        kz_obs_set *s = obs_ip4(addr);
        hits x;
        if (!s || match1(e, s, 0, &x) != 1) {
            wrong++;
        } else {
            snprintf(want, sizeof want, "\"confidence\":%d", 10 + kof[i] / 2);
            bool by = strstr(x.ctx[0], "identity--1111") != NULL;
            wrong += !strstr(x.ctx[0], want) || by != (kof[i] % 2 == 0);
        }
        kz_obs_set_free(s);
    }
    KT_CHECK_MSG(wrong == 0, "%zu hits with another indicator's context", wrong);
    kz_engine_free(e);
}

static void test_versions_validity(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    char a[2048], all[8192];
    kz_obs_set *s = obs_from(
        "[{\"type\":\"observed-data\",\"first_observed\":\"2025-01-01T00:00:00Z\","
        "\"last_observed\":\"2025-01-01T00:00:00Z\",\"number_observed\":1,"
        "\"objects\":{\"0\":{\"type\":\"ipv4-addr\",\"value\":\"1.2.3.4\"}}}]");
    hits x;
    /* v1 hits; v2 (newer) changes the value; an older v0 arriving later is ignored */
    load_text(e, ind(a, sizeof a, 1, "[ipv4-addr:value = '1.2.3.4']", NULL), NULL);
    KT_CHECK(match1(e, s, 0, &x) == 1);
    snprintf(all, sizeof all, "%s",
             ind(a, sizeof a, 1, "[ipv4-addr:value = '9.9.9.9']", NULL));
    char *m = strstr(all, "\"modified\":\"2024-01-01");
    memcpy(m + 12, "2024-06", 7);
    load_text(e, all, NULL);
    KT_CHECK(match1(e, s, 0, &x) == 0);
    snprintf(all, sizeof all, "%s", ind(a, sizeof a, 1, "[ipv4-addr:value = '1.2.3.4']", NULL));
    m = strstr(all, "\"modified\":\"2024-01-01");
    memcpy(m + 12, "2023-01", 7);
    load_text(e, all, NULL);
    KT_CHECK(match1(e, s, 0, &x) == 0);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK(st.superseded == 1);
    /* revocation by a newer version */
    load_text(e, ind(a, sizeof a, 2, "[ipv4-addr:value = '1.2.3.4']", NULL), NULL);
    KT_CHECK(match1(e, s, 0, &x) == 1);
    snprintf(all, sizeof all, "%s", ind(a, sizeof a, 2, "[ipv4-addr:value = '1.2.3.4']", "\"revoked\":true"));
    m = strstr(all, "\"modified\":\"2024-01-01");
    memcpy(m + 12, "2024-02", 7);
    load_text(e, all, NULL);
    KT_CHECK(match1(e, s, 0, &x) == 0);
    /* validity window: future valid_from becomes live on advance; valid_until expires */
    snprintf(all, sizeof all, "%s",
             ind(a, sizeof a, 3, "[ipv4-addr:value = '1.2.3.4']", "\"valid_until\":\"2025-03-01T00:00:00Z\""));
    m = strstr(all, "\"valid_from\":\"2024-01-01");
    memcpy(m + 14, "2025-02", 7);
    load_text(e, all, NULL);
    kz_engine_get_stats(e, &st);
    KT_CHECK(st.pending == 1);
    KT_CHECK(match1(e, s, 0, &x) == 0);
    char err[128];
    KT_CHECK(kz_engine_advance(e, NOW + 40ll * 86400 * 1000000, err, sizeof err) == 1);
    KT_CHECK(match1(e, s, 0, &x) == 1 && has(&x, idn(3)));
    KT_CHECK(kz_engine_advance(e, NOW + 70ll * 86400 * 1000000, err, sizeof err) == 1);
    KT_CHECK(match1(e, s, 0, &x) == 0);
    /* remove; non-STIX pattern types are counted */
    load_text(e, ind(a, sizeof a, 4, "[ipv4-addr:value = '1.2.3.4']", NULL), NULL);
    KT_CHECK(match1(e, s, 0, &x) == 1);
    const char *ids[] = {idn(4)};
    KT_CHECK(kz_engine_remove(e, ids, 1, err, sizeof err) == 1);
    KT_CHECK(match1(e, s, 0, &x) == 0);
    load_text(e,
              "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-8000-000000000009\","
              "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-01T00:00:00Z\","
              "\"pattern\":\"alert tcp any any\",\"pattern_type\":\"snort\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
              NULL);
    kz_engine_get_stats(e, &st);
    KT_CHECK(st.other_types == 1);
    KT_CHECK(st.live == 1); /* only indicator 1, at its newest version */
    kz_obs_set_free(s);
    kz_engine_free(e);
}

static void test_bad_input(void)
{
    kz_engine_opts o = {.now_us = NOW, .max_comparisons = 100, .max_pattern_len = 1 << 20};
    kz_engine *e = kz_engine_new(&o);
    kz_buf big;
    kz_buf_init(&big);
    kz_buf_puts(&big, "[");
    for (int i = 0; i < 10000; i++)
        kz_buf_printf(&big, "%sipv4-addr:value = '10.0.%d.%d'", i ? " OR " : "", i / 256, i % 256);
    kz_buf_puts(&big, "]");
    char *a = malloc(big.len + 1024);
    ind(a, big.len + 1024, 1, big.data, NULL);
    kz_buf text;
    kz_buf_init(&text);
    kz_buf_printf(&text, "%s\n{not json\n", a);
    char b[1024];
    kz_buf_printf(&text, "%s\n", ind(b, sizeof b, 2, "[ipv4-addr:value = '10.0.0.1']", NULL));
    kz_buf_puts(&text, "{\"type\":\"indicator\",\"id\":\"indicator--nope\",\"pattern\":\"[a:b = 1]\"}\n");
    kz_diags dg;
    kz_diags_init(&dg);
    long n = load_text(e, text.data, &dg);
    KT_CHECK(n == 1);
    bool limit = false;
    for (size_t k = 0; k < dg.n; k++)
        limit |= strstr(dg.v[k].message, "comparisons") != NULL;
    KT_CHECK(limit);
    KT_CHECK(dg.errors == 3);
    kz_diags_free(&dg);
    kz_buf_free(&big);
    kz_buf_free(&text);
    free(a);
    kz_engine_free(e);
}

/* ---- compact records ------------------------------------------------------------------------ */

static void test_records(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    char a[1024], b[1024], c[1024], d[1024], all[8192];
    snprintf(all, sizeof all, "%s\n%s\n%s\n%s\n",
             ind(a, sizeof a, 1, "[network-traffic:dst_port = 443 AND network-traffic:dst_ref.value = '10.0.0.1']", NULL),
             ind(b, sizeof b, 2, "[x-ja3:value = 'e7d705a3286e19ea42f587b344ee6865']", NULL),
             ind(c, sizeof c, 3, "[domain-name:value LIKE '%.example.org']", NULL),
             ind(d, sizeof d, 4, "[ipv4-addr:value = '10.0.0.1']", NULL));
    KT_CHECK(load_text(e, all, NULL) == 4);
    long pip = kz_engine_path(e, "ipv4-addr:value"), pport = kz_engine_path(e, "network-traffic:dst_port"),
         pref = kz_engine_path(e, "network-traffic:dst_ref"), pja3 = kz_engine_path(e, "x-ja3:value"),
         pdom = kz_engine_path(e, "domain-name:value");
    KT_CHECK(pip >= 0 && pport >= 0 && pref >= 0 && pja3 >= 0 && pdom >= 0);
    KT_CHECK(kz_engine_path(e, "not a path") < 0);
    const char *types[] = {"network-traffic", "ipv4-addr", "x-ja3", "domain-name"};
    kz_engine_field f[] = {
        {0, KZ_EF_INT, (uint32_t)pport, NULL, 0, 443},
        {0, KZ_EF_REF, (uint32_t)pref, NULL, 0, 1},
        {1, KZ_EF_STR, (uint32_t)pip, "10.0.0.1", 8, 0},
        {2, KZ_EF_STR, (uint32_t)pja3, "e7d705a3286e19ea42f587b344ee6865", 32, 0},
        {3, KZ_EF_STR, (uint32_t)pdom, "a.b.example.org", 15, 0},
    };
    kz_engine_record r = {NOW, NOW, 1, types, 4, f, 5};
    hits x = {0};
    char err[256];
    const kz_engine_gen *g = kz_engine_acquire(e);
    long n = kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err);
    KT_CHECK_MSG(n == 4, "%ld %s", n, err);
    KT_CHECK(has(&x, idn(1)) && has(&x, idn(2)) && has(&x, idn(3)) && has(&x, idn(4)));
    /* the port differs: the AND fails in the evaluator */
    f[0].i = 80;
    memset(&x, 0, sizeof x);
    KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 3);
    KT_CHECK(!has(&x, idn(1)));
    /* invalid records */
    kz_engine_field bad[] = {{1, KZ_EF_STR, (uint32_t)pdom, "x", 1, 0}};
    kz_engine_record rb = {NOW, NOW, 1, types, 4, bad, 1};
    KT_CHECK(kz_engine_match_record(g, &rb, on_hit, &x, err, sizeof err) == -1);
    KT_CHECK_MSG(strstr(err, "path domain-name:value on an object of type ipv4-addr"), "%s", err);
    long pdeep = kz_engine_path(e, "network-traffic:dst_ref.value"); /* walks a reference */
    kz_engine_field deep[] = {{0, KZ_EF_STR, (uint32_t)pdeep, "10.0.0.1", 8, 0}};
    kz_engine_record rdeep = {NOW, NOW, 1, types, 4, deep, 1};
    KT_CHECK(kz_engine_match_record(g, &rdeep, on_hit, &x, err, sizeof err) == -1);
    KT_CHECK_MSG(strstr(err, "cannot be set by a record"), "%s", err);
    kz_engine_field deep2[] = {{1, KZ_EF_STR, (uint32_t)pdeep, "10.0.0.1", 8, 0}};
    kz_engine_record rdeep2 = {NOW, NOW, 1, types, 4, deep2, 1};
    KT_CHECK(kz_engine_match_record(g, &rdeep2, on_hit, &x, err, sizeof err) == -1);
    KT_CHECK_MSG(strstr(err, "on an object of type ipv4-addr"), "%s", err);
    kz_engine_field dup[] = {{1, KZ_EF_STR, (uint32_t)pip, "1", 1, 0}, {1, KZ_EF_STR, (uint32_t)pip, "2", 1, 0}};
    kz_engine_record rd = {NOW, NOW, 1, types, 4, dup, 2};
    KT_CHECK(kz_engine_match_record(g, &rd, on_hit, &x, err, sizeof err) == -1);
    /* a path below another's value, and two distinct properties side by side */
    long pext = kz_engine_path(e, "network-traffic:extensions"),
         pmeth = kz_engine_path(e, "network-traffic:extensions.'http-request-ext'.request_method"),
         pval = kz_engine_path(e, "network-traffic:extensions.'http-request-ext'.request_value");
    KT_CHECK(pext >= 0 && pmeth >= 0 && pval >= 0);
    kz_engine_field pre[] = {{0, KZ_EF_STR, (uint32_t)pmeth, "GET", 3, 0}, {0, KZ_EF_STR, (uint32_t)pext, "x", 1, 0}};
    kz_engine_record rp = {NOW, NOW, 1, types, 4, pre, 2};
    KT_CHECK(kz_engine_match_record(g, &rp, on_hit, &x, err, sizeof err) == -1);
    kz_engine_field side[] = {{0, KZ_EF_STR, (uint32_t)pmeth, "GET", 3, 0}, {0, KZ_EF_STR, (uint32_t)pval, "/", 1, 0}};
    kz_engine_record rs2 = {NOW, NOW, 1, types, 4, side, 2};
    KT_CHECK(kz_engine_match_record(g, &rs2, on_hit, &x, err, sizeof err) >= 0);
    /* beyond the first step: a two-step prefix overlaps, a two-step sibling does not */
    long phttp = kz_engine_path(e, "network-traffic:extensions.'http-request-ext'"),
         pother = kz_engine_path(e, "network-traffic:extensions.'x-other-ext'");
    KT_CHECK(phttp >= 0 && pother >= 0);
    kz_engine_field pre2[] = {{0, KZ_EF_STR, (uint32_t)phttp, "x", 1, 0}, {0, KZ_EF_STR, (uint32_t)pval, "/", 1, 0}};
    kz_engine_record rp2 = {NOW, NOW, 1, types, 4, pre2, 2};
    KT_CHECK(kz_engine_match_record(g, &rp2, on_hit, &x, err, sizeof err) == -1);
    KT_CHECK_MSG(strstr(err, "fields 0 and 1 overlap"), "%s", err);
    kz_engine_field sib[] = {{0, KZ_EF_STR, (uint32_t)pother, "x", 1, 0}, {0, KZ_EF_STR, (uint32_t)pval, "/", 1, 0}};
    kz_engine_record rsib = {NOW, NOW, 1, types, 4, sib, 2};
    KT_CHECK_MSG(kz_engine_match_record(g, &rsib, on_hit, &x, err, sizeof err) >= 0, "%s", err);
    kz_engine_field nu[] = {{1, KZ_EF_STR, (uint32_t)pip, "\xff", 1, 0}};
    kz_engine_record rn = {NOW, NOW, 1, types, 4, nu, 1};
    KT_CHECK(kz_engine_match_record(g, &rn, on_hit, &x, err, sizeof err) == -1);
    /* a candidate whose confirmation raises a runtime error (an unparseable address under
     * ISSUBSET) is no hit, and counted */
    char e5[1024];
    /* updating while holding a snapshot: the old generation stays valid until released */
    load_text(e, ind(e5, sizeof e5, 5, "[ipv4-addr:value = '10.0.0.1' AND ipv4-addr:value ISSUBSET '10.0.0.0/8']", NULL), NULL);
    memset(&x, 0, sizeof x);
    KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 3); /* old set */
    kz_engine_release(e, g);
    g = kz_engine_acquire(e);
    const char *t2[] = {"ipv4-addr", "ipv4-addr"};
    kz_engine_field f2[] = {{0, KZ_EF_STR, (uint32_t)pip, "10.0.0.1", 8, 0}, {1, KZ_EF_STR, (uint32_t)pip, "bad", 3, 0}};
    kz_engine_record r2 = {NOW, NOW, 1, t2, 2, f2, 2};
    memset(&x, 0, sizeof x);
    size_t before = kz_engine_match_errors(e);
    KT_CHECK(kz_engine_match_record(g, &r2, on_hit, &x, err, sizeof err) >= 0);
    KT_CHECK(has(&x, idn(4)) && !has(&x, idn(5)));
    KT_CHECK(kz_engine_match_errors(e) == before + 1);
    f2[1].s = "10.0.0.2";
    f2[1].len = 8;
    memset(&x, 0, sizeof x);
    KT_CHECK(kz_engine_match_record(g, &r2, on_hit, &x, err, sizeof err) >= 0);
    KT_CHECK(has(&x, idn(5)));
    /* the JSON form */
    json_t *j = kz_engine_record_to_json(e, &r, err, sizeof err);
    KT_CHECK(j && json_integer_value(json_object_get(json_object_get(json_object_get(j, "objects"), "0"), "dst_port")) == 80);
    json_decref(j);
    kz_engine_release(e, g);
    kz_engine_free(e);
}

static void test_regex_index(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    char a[1024], b[1024], c[1024], d[1024], all[8192];
    snprintf(all, sizeof all, "%s\n%s\n%s\n%s\n",
             ind(a, sizeof a, 1, "[url:value MATCHES '^https?://[^/]*\\\\.evil\\\\.net/']", NULL),
             ind(b, sizeof b, 2, "[url:value LIKE 'http://%/wp-admin/%']", NULL),
             ind(c, sizeof c, 3, "[url:value MATCHES '(a)\\\\1b']", NULL), /* backreference: prefilter */
             ind(d, sizeof d, 4, "[url:value NOT LIKE 'x%']", NULL));
    KT_CHECK(load_text(e, all, NULL) == 4);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.type_scan == 1, "type_scan %zu", st.type_scan); /* only the NOT */
    long pu = kz_engine_path(e, "url:value");
    const char *types[] = {"url"};
    const char *vals[] = {"http://a.evil.net/x", "http://site/wp-admin/index.php", "zzaabzz", "x"};
    int want[4][4] = {{1, 0, 0, 1}, {0, 1, 0, 1}, {0, 0, 1, 1}, {0, 0, 0, 0}};
    const kz_engine_gen *g = kz_engine_acquire(e);
    for (int k = 0; k < 4; k++) {
        kz_engine_field f = {0, KZ_EF_STR, (uint32_t)pu, vals[k], (uint32_t)strlen(vals[k]), 0};
        kz_engine_record r = {NOW, NOW, 1, types, 1, &f, 1};
        hits x = {0};
        char err[128];
        KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) >= 0);
        for (int i = 0; i < 4; i++)
            KT_CHECK_MSG(has(&x, idn(i + 1)) == (want[k][i] == 1), "value %s indicator %d", vals[k], i + 1);
    }
    kz_engine_release(e, g);
    kz_engine_free(e);
}

/* Reference paths are indexed on the referenced object's value: an address AND a port is
 * keyed on the address, so port-443 traffic to other addresses selects no candidate. */
static void test_ref_index(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    kz_buf all;
    kz_buf_init(&all);
    char a[1024], pat[256];
    for (int i = 1; i <= 50; i++) {
        snprintf(pat, sizeof pat,
                 "[network-traffic:dst_ref.value = '198.51.100.%d' AND network-traffic:dst_port = 443]", i);
        kz_buf_printf(&all, "%s\n", ind(a, sizeof a, i, pat, NULL));
    }
    kz_buf_printf(&all, "%s\n",
                  ind(a, sizeof a, 51,
                      "[network-traffic:dst_port = 443 AND network-traffic:src_ref.value ISSUBSET '203.0.113.0/24']",
                      NULL));
    KT_CHECK(load_text(e, all.data, NULL) == 51);
    kz_buf_free(&all);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.type_scan == 0, "type_scan %zu", st.type_scan);
    long pport = kz_engine_path(e, "network-traffic:dst_port"), pdst = kz_engine_path(e, "network-traffic:dst_ref"),
         psrc = kz_engine_path(e, "network-traffic:src_ref"), pip = kz_engine_path(e, "ipv4-addr:value");
    KT_CHECK(pport >= 0 && pdst >= 0 && psrc >= 0 && pip >= 0);
    const char *types[] = {"network-traffic", "ipv4-addr", "ipv4-addr"};
    kz_engine_field f[] = {
        {0, KZ_EF_INT, (uint32_t)pport, NULL, 0, 443},
        {0, KZ_EF_REF, (uint32_t)pdst, NULL, 0, 1},
        {0, KZ_EF_REF, (uint32_t)psrc, NULL, 0, 2},
        {1, KZ_EF_STR, (uint32_t)pip, "192.0.2.9", 9, 0},
        {2, KZ_EF_STR, (uint32_t)pip, "192.0.2.10", 10, 0},
    };
    kz_engine_record r = {NOW, NOW, 1, types, 3, f, 5};
    const kz_engine_gen *g = kz_engine_acquire(e);
    hits x = {0};
    char err[256];
    size_t c0 = kz_engine_candidates(e);
    for (int k = 0; k < 100; k++)
        KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 0);
    KT_CHECK_MSG(kz_engine_candidates(e) == c0, "port-443 records to other addresses: %zu candidates",
                 kz_engine_candidates(e) - c0);
    /* the keyed address: one candidate, confirmed; the port still counts */
    f[3].s = "198.51.100.7";
    f[3].len = 12;
    memset(&x, 0, sizeof x);
    KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 1 && has(&x, idn(7)));
    KT_CHECK(kz_engine_candidates(e) == c0 + 1);
    f[0].i = 80;
    KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 0);
    /* the source address in the CIDR */
    f[0].i = 443;
    f[4].s = "203.0.113.77";
    f[4].len = 12;
    memset(&x, 0, sizeof x);
    KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 2 && has(&x, idn(51)));
    /* the same through JSON observations */
    kz_obs_set *s = obs_from(
        "[{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-000000000001\","
        "\"first_observed\":\"2025-01-01T00:00:00Z\",\"last_observed\":\"2025-01-01T00:00:00Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"network-traffic\",\"dst_port\":443,"
        "\"dst_ref\":\"1\",\"src_ref\":\"2\"},\"1\":{\"type\":\"ipv4-addr\",\"value\":\"192.0.2.9\"},"
        "\"2\":{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\"}}},"
        "{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-000000000002\","
        "\"first_observed\":\"2025-01-01T00:00:00Z\",\"last_observed\":\"2025-01-01T00:00:00Z\","
        "\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"network-traffic\",\"dst_port\":443,"
        "\"dst_ref\":\"1\",\"src_ref\":\"2\"},\"1\":{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\"},"
        "\"2\":{\"type\":\"ipv4-addr\",\"value\":\"203.0.113.1\"}}}]");
    KT_CHECK(s != NULL);
    if (s) {
        c0 = kz_engine_candidates(e);
        KT_CHECK(match1(e, s, 0, &x) == 0);
        KT_CHECK(kz_engine_candidates(e) == c0); /* 198.51.100.3 is the source, not the destination */
        KT_CHECK(match1(e, s, 1, &x) == 2 && has(&x, idn(3)) && has(&x, idn(51)));
        KT_CHECK(kz_engine_candidates(e) == c0 + 2);
        kz_obs_set_free(s);
    }
    kz_engine_release(e, g);
    kz_engine_free(e);
}

/* ---- differential: random indicators and observations ------------------------------------ */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

static const char *IPS[] = {"10.0.0.1", "10.0.0.2", "10.1.2.3", "192.168.1.1", "010.0.0.1", "10.0.0.0/24"};
static const char *NETS[] = {"10.0.0.0/8", "10.0.0.0/24", "192.168.0.0/16", "10.0.0.1/32", "0.0.0.0/0", "10.0.0.2"};
static const char *DOMS[] = {"example.org", "a.example.org", "b.a.example.org", "evil.net", "EXAMPLE.org",
                             "x.evil.net\\n", "ex\\u00e9mple.org", "example.org.evil", "a\\nb.evil.net",
                             "a.evil.net\\n\\n", "x.exe\\u0301mple.org"};
static const char *DOMRAW[] = {"example.org", "a.example.org", "b.a.example.org", "evil.net", "EXAMPLE.org",
                               "x.evil.net\n", "ex\u00e9mple.org", "example.org.evil", "a\nb.evil.net",
                               "a.evil.net\n\n", "x.exe\u0301mple.org"};
static const char *DOMLIT[] = {"example.org", "a.example.org", "evil.net", "EXAMPLE.org", "exémple.org",
                               "example.org.evil"};
static const char *HASHES[] = {"abcdef0123456789abcdef0123456789", "ABCDEF0123456789ABCDEF0123456789",
                               "0123456789012345", "AbCdef0123456789"};

static void rand_cmp(kz_buf *b)
{
    int k = (int)rnd(15);
    const char *neg = rnd(8) == 0 ? "NOT " : "";
    switch (k) {
    case 0:
    case 1:
        kz_buf_printf(b, "ipv4-addr:value %s= '%s'", neg, IPS[rnd(6)]);
        break;
    case 2:
        kz_buf_printf(b, "ipv4-addr:value %sISSUBSET '%s'", neg, NETS[rnd(6)]);
        break;
    case 3:
        kz_buf_printf(b, "domain-name:value %s= '%s'", neg, DOMLIT[rnd(6)]);
        break;
    case 4:
        kz_buf_printf(b, "domain-name:value %sLIKE '%%.%s'", neg, DOMLIT[rnd(6)]);
        break;
    case 5: {
        /* Hyperscan prefilter vs PCRE2: anchors, $ before a final newline, classes, case,
         * Unicode, a backreference (prefilter mode), LIKE wildcards */
        static const char *const res[] = {
            "domain-name:value %sMATCHES 'example\\\\.org$'",
            "domain-name:value %sMATCHES '^[a-z]+\\\\.evil'",
            "domain-name:value %sMATCHES '(?i)^example'",
            "domain-name:value %sMATCHES '^\\\\w+\\\\.\\\\w+$'",
            "domain-name:value %sMATCHES '(.)\\\\1'",
            "domain-name:value %sMATCHES 'x\\\\.e.*mple'",
            "domain-name:value %sLIKE 'ex%%'",
            "domain-name:value %sLIKE '%%evil%%'",
            "domain-name:value %sLIKE '_.example.org'",
            "domain-name:value %sLIKE 'ex_mple.org'",
            "domain-name:value %sLIKE '%%.evil.net%%'",
        };
        kz_buf_printf(b, res[rnd(11)], neg);
        break;
    }
    case 6:
        kz_buf_printf(b, "file:hashes.MD5 %s= '%s'", neg, HASHES[rnd(4)]);
        break;
    case 7:
        kz_buf_printf(b, "network-traffic:dst_port %s%s %d", neg, rnd(2) ? "=" : (rnd(2) ? "<" : ">="),
                      rnd(2) ? 443 : 80);
        break;
    case 8:
        kz_buf_printf(b, "network-traffic:dst_port %sIN (80, 443, 8080)", neg);
        break;
    case 9:
        kz_buf_printf(b, "domain-name:value %sIN ('evil.net', 'example.org')", neg);
        break;
    case 10:
        kz_buf_printf(b, "ipv4-addr:value != '%s'", IPS[rnd(6)]);
        break;
    case 11:
        kz_buf_printf(b, "network-traffic:dst_ref.value = '%s'", IPS[rnd(4)]);
        break;
    case 12: /* reference paths: CIDR, NOT, IN, a dangling or non-address target */
        kz_buf_printf(b, "network-traffic:%s_ref.value %sISSUBSET '%s'", rnd(2) ? "src" : "dst", neg,
                      NETS[rnd(6)]);
        break;
    case 13:
        if (rnd(2))
            kz_buf_printf(b, "network-traffic:src_ref.value %s= '%s'", neg, IPS[rnd(6)]);
        else
            kz_buf_printf(b, "network-traffic:dst_ref.value %sIN ('%s', 'evil.net')", neg, IPS[rnd(6)]);
        break;
    case 14: /* the sensor's shape: address AND port */
        kz_buf_printf(b, "(network-traffic:%s_ref.value = '%s' AND network-traffic:dst_port = 443)",
                      rnd(2) ? "src" : "dst", IPS[rnd(4)]);
        break;
    default:
        kz_buf_printf(b, "file:name %s= 'a.exe'", neg);
        break;
    }
}

static void rand_expr(kz_buf *b, int depth)
{
    if (depth > 0 && rnd(3) == 0) {
        kz_buf_putc(b, '(');
        rand_expr(b, depth - 1);
        kz_buf_puts(b, rnd(2) ? " AND " : " OR ");
        rand_expr(b, depth - 1);
        kz_buf_putc(b, ')');
        return;
    }
    rand_cmp(b);
}

static void rand_obs_expr(kz_buf *b, bool multi)
{
    kz_buf_putc(b, '[');
    rand_expr(b, 2);
    kz_buf_putc(b, ']');
    if (multi && rnd(2)) {
        static const char *ops[] = {" AND ", " OR ", " FOLLOWEDBY "};
        kz_buf_puts(b, ops[rnd(3)]);
        kz_buf_putc(b, '[');
        rand_expr(b, 1);
        kz_buf_putc(b, ']');
    }
}

static void rand_pattern(kz_buf *b, bool multi)
{
    kz_buf_reset(b);
    if (!multi && rnd(5) == 0) { /* the shapes the index answers alone */
        const char *x = DOMLIT[rnd(6)];
        switch (rnd(3)) {
        case 0:
            kz_buf_printf(b, "[domain-name:value = '%s' OR domain-name:value LIKE '%%.%s']", x, x);
            break;
        case 1:
            kz_buf_printf(b, "[domain-name:value LIKE '%%.%s' OR domain-name:value = '%s']", x, x);
            break;
        default:
            kz_buf_printf(b, "[ipv4-addr:value ISSUBSET '%s']", NETS[rnd(6)]);
            break;
        }
        return;
    }
    int q = (int)rnd(multi ? 6 : 8);
    bool wrap = q < 3;
    if (wrap)
        kz_buf_putc(b, '(');
    rand_obs_expr(b, multi);
    if (wrap) {
        kz_buf_putc(b, ')');
        if (q == 0)
            kz_buf_printf(b, " WITHIN %d SECONDS", 1 + (int)rnd(120));
        else if (q == 1)
            kz_buf_printf(b, " REPEATS %d TIMES", 1 + (int)rnd(3));
        else
            kz_buf_puts(b, " START t'2025-01-01T00:00:00Z' STOP t'2025-01-01T00:10:00Z'");
    }
}

/* The same observation as a compact record (paths registered in the engine). */
typedef struct recb {
    const char *types[8];
    kz_engine_field f[16];
    size_t nt, nf;
    long pip, pdom, pname, pmd5, pport, pref, psrc;
} recb;

static void rb_str(recb *r, size_t obj, long path, const char *v)
{
    r->f[r->nf++] = (kz_engine_field){(uint16_t)obj, KZ_EF_STR, (uint32_t)path, v, (uint32_t)strlen(v), 0};
}

/* One observed-data (embedded objects) as JSON text; time t seconds after NOW. */
static void rand_observation(kz_buf *b, int t, int idx, recb *rb)
{
    rb->nt = rb->nf = 0;
    kz_buf_printf(b,
                  "{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-%012d\","
                  "\"first_observed\":\"2025-01-01T00:%02d:%02dZ\",\"last_observed\":\"2025-01-01T00:%02d:%02dZ\","
                  "\"number_observed\":%d,\"objects\":{",
                  idx, t / 60 % 60, t % 60, t / 60 % 60, t % 60, rnd(4) == 0 ? 2 : 1);
    int n = 1 + (int)rnd(3);
    for (int i = 0; i < n; i++) {
        if (i)
            kz_buf_putc(b, ',');
        uint32_t k;
        switch (rnd(5)) {
        case 0:
            k = rnd(6);
            kz_buf_printf(b, "\"%d\":{\"type\":\"ipv4-addr\",\"value\":\"%s\"}", i, IPS[k]);
            rb->types[rb->nt++] = "ipv4-addr";
            rb_str(rb, (size_t)i, rb->pip, IPS[k]);
            break;
        case 1:
            k = rnd(11);
            kz_buf_printf(b, "\"%d\":{\"type\":\"domain-name\",\"value\":\"%s\"}", i, DOMS[k]);
            rb->types[rb->nt++] = "domain-name";
            rb_str(rb, (size_t)i, rb->pdom, DOMRAW[k]);
            break;
        case 2:
            k = rnd(4);
            kz_buf_printf(b, "\"%d\":{\"type\":\"file\",\"name\":\"a.exe\",\"hashes\":{\"MD5\":\"%s\"}}", i,
                          HASHES[k]);
            rb->types[rb->nt++] = "file";
            rb_str(rb, (size_t)i, rb->pname, "a.exe");
            rb_str(rb, (size_t)i, rb->pmd5, HASHES[k]);
            break;
        case 3: {
            k = rnd(3) == 0 ? 2 : rnd(2);
            /* src_ref: none, a REF, or a string key (resolving, or dangling) */
            uint32_t sk = rnd(4);
            int st = (i + 2) % n;
            kz_buf_printf(b, "\"%d\":{\"type\":\"network-traffic\",\"dst_port\":%s,\"dst_ref\":\"%d\"", i,
                          k == 2 ? "443.0" : (k ? "443" : "80"), (i + 1) % n);
            if (sk == 1 || sk == 2)
                kz_buf_printf(b, ",\"src_ref\":\"%d\"", st);
            else if (sk == 3)
                kz_buf_puts(b, ",\"src_ref\":\"9\"");
            kz_buf_putc(b, '}');
            rb->types[rb->nt++] = "network-traffic";
            rb->f[rb->nf++] = (kz_engine_field){(uint16_t)i, KZ_EF_INT, (uint32_t)rb->pport, NULL, 0, k ? 443 : 80};
            rb->f[rb->nf++] = (kz_engine_field){(uint16_t)i, KZ_EF_REF, (uint32_t)rb->pref, NULL, 0, (i + 1) % n};
            if (sk == 1)
                rb->f[rb->nf++] = (kz_engine_field){(uint16_t)i, KZ_EF_REF, (uint32_t)rb->psrc, NULL, 0, st};
            else if (sk == 2)
                rb_str(rb, (size_t)i, rb->psrc, st == 0 ? "0" : st == 1 ? "1" : "2");
            else if (sk == 3)
                rb_str(rb, (size_t)i, rb->psrc, "9");
            break;
        }
        default:
            k = rnd(4);
            kz_buf_printf(b, "\"%d\":{\"type\":\"ipv4-addr\",\"value\":\"%s\"}", i, IPS[k]);
            rb->types[rb->nt++] = "ipv4-addr";
            rb_str(rb, (size_t)i, rb->pip, IPS[k]);
            break;
        }
    }
    kz_buf_puts(b, "}}");
}

static size_t positives; /* evaluator matches seen by the differential tests */
static size_t batch_compared; /* runs where the batch/single comparison saw hits */

typedef struct hitlog {
    kz_buf *b;
    int k;
} hitlog;

/* One line per hit: record, id, fired comparison, binding. */
static int on_hit_log(void *ctx, const kz_engine_hit *h)
{
    hitlog *l = ctx;
    kz_buf_printf(l->b, "%d %s %s [", l->k, h->id, h->fired ? h->fired : "");
    for (size_t i = 0; i < h->nbinding; i++)
        kz_buf_printf(l->b, "%zu ", h->binding[i]);
    kz_buf_puts(l->b, "]\n");
    return 0;
}

typedef struct dcase {
    char text[1024];
    int version;
    kz_pattern *p;
} dcase;

/* The segments the indicators of a differential run live in: the base and the delta answer
 * through different code (the base's simple index, rank indexes and the batch pipeline's
 * probes; the delta's), so every run picks one of three layouts. */
enum { IN_DELTA, IN_BASE, IN_BOTH };

static void run_differential(uint64_t seed, int nind, int nobs, bool multi, size_t *compared)
{
    rng_state = seed;
    int layout = (int)(seed % 3);
    /* merge_min 1: the first load becomes the base; merge_ratio 1: a second load of an eighth
     * stays a delta (it would merge once larger than the live base). In the foreground, so
     * that no background merge folds the delta into the base while the run matches. */
    kz_engine_opts o = {.now_us = NOW, .merge_min = layout == IN_DELTA ? 0 : 1,
                        .merge_ratio = layout == IN_DELTA ? 0 : 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    dcase *dc = calloc((size_t)nind, sizeof *dc);
    kz_buf pat, all, all2, one;
    kz_buf_init(&pat);
    kz_buf_init(&all);
    kz_buf_init(&all2);
    kz_buf_init(&one);
    kz_buf_puts(&all, "[");
    kz_buf_puts(&all2, "[");
    int nfirst = layout == IN_BOTH ? nind - nind / 9 : nind;
    for (int i = 0; i < nind; i++) {
        rand_pattern(&pat, multi);
        snprintf(dc[i].text, sizeof dc[i].text, "%s", pat.data);
        int l, c;
        char msg[128];
        dc[i].p = kz_pattern_parse(pat.data, 21, &l, &c, msg, sizeof msg);
        char buf[2048];
        kz_buf *to = i < nfirst ? &all : &all2;
        kz_buf_printf(to, "%s%s", i && i != nfirst ? "," : "", ind(buf, sizeof buf, i + 1, pat.data, NULL));
    }
    kz_buf_puts(&all, "]");
    kz_buf_puts(&all2, "]");
    load_text(e, all.data, NULL);
    if (nfirst < nind)
        load_text(e, all2.data, NULL);
    kz_engine_stats es;
    kz_engine_get_stats(e, &es);
    KT_CHECK_MSG(layout == IN_DELTA ? es.base_records == 0
                 : layout == IN_BASE ? es.delta_records == 0
                                     : es.base_records && es.delta_records,
                 "seed %llu: layout %d, base %zu, delta %zu", (unsigned long long)seed, layout,
                 es.base_records, es.delta_records);
    /* observations */
    kz_buf obsall;
    kz_buf_init(&obsall);
    kz_buf_puts(&obsall, "[");
    kz_obs_set **single = calloc((size_t)nobs, sizeof *single);
    recb *rbs = calloc((size_t)nobs, sizeof *rbs);
    int t = 0;
    for (int k = 0; k < nobs; k++) {
        kz_buf_reset(&one);
        t += (int)rnd(40);
        recb *rb = &rbs[k];
        rb->pip = kz_engine_path(e, "ipv4-addr:value");
        rb->pdom = kz_engine_path(e, "domain-name:value");
        rb->pname = kz_engine_path(e, "file:name");
        rb->pmd5 = kz_engine_path(e, "file:hashes.MD5");
        rb->pport = kz_engine_path(e, "network-traffic:dst_port");
        rb->pref = kz_engine_path(e, "network-traffic:dst_ref");
        rb->psrc = kz_engine_path(e, "network-traffic:src_ref");
        rand_observation(&one, t, k, rb);
        kz_buf_printf(&obsall, "%s%s", k ? "," : "", one.data);
        kz_buf tmp;
        kz_buf_init(&tmp);
        kz_buf_printf(&tmp, "[%s]", one.data);
        single[k] = obs_from(tmp.data);
        kz_buf_free(&tmp);
    }
    kz_buf_puts(&obsall, "]");
    kz_obs_set *s = obs_from(obsall.data);
    KT_CHECK(s != NULL);
    /* single observations */
    for (int k = 0; s && k < nobs; k++) {
        hits x;
        KT_CHECK(match1(e, s, (size_t)k, &x) >= 0);
        for (int i = 0; i < nind; i++) {
            if (!dc[i].p)
                continue;
            char err[256];
            int want = kz_pattern_match(dc[i].p, single[k], NULL, NULL, err, sizeof err);
            bool got = has(&x, idn(i + 1));
            positives += want == 1;
            (*compared)++; /* a runtime error in the evaluator is no hit for the engine */
            KT_CHECK_MSG(got == (want == 1), "pattern %s obs %d: engine %d evaluator %d", dc[i].text, k,
                         got, want);
        }
    }
    /* compact records: hits equal the evaluator's over the record's JSON form */
    for (int k = 0; k < nobs; k++) {
        recb *rb = &rbs[k];
        kz_engine_record r = {NOW + k * 1000000ll, NOW + k * 1000000ll, 1, rb->types, rb->nt, rb->f, rb->nf};
        char err[256];
        json_t *od = kz_engine_record_to_json(e, &r, err, sizeof err);
        KT_CHECK_MSG(od != NULL, "%s", err);
        if (!od)
            continue;
        json_t *arr = json_array();
        json_array_append_new(arr, od);
        kz_obs_set *rs = kz_obs_set_from_json(arr, 21, err, sizeof err);
        json_decref(arr);
        hits x = {0};
        const kz_engine_gen *g = kz_engine_acquire(e);
        KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) >= 0);
        kz_engine_release(e, g);
        for (int i = 0; rs && i < nind; i++) {
            if (!dc[i].p)
                continue;
            int want = kz_pattern_match(dc[i].p, rs, NULL, NULL, err, sizeof err);
            bool got = has(&x, idn(i + 1));
            (*compared)++;
            KT_CHECK_MSG(got == (want == 1), "record: pattern %s obs %d: engine %d evaluator %d",
                         dc[i].text, k, got, want);
        }
        kz_obs_set_free(rs);
    }
    /* the stream fed record by record and the same stream fed in one batch: the same hits,
     * bindings and fired comparisons, record by record */
    {
        kz_engine_stream_opts so = {.max_per_indicator = 1000, .max_age_us = 1000000000000ll};
        kz_engine_stream *sa = kz_engine_stream_new(e, &so), *sb = kz_engine_stream_new(e, &so);
        kz_engine_record *rr = calloc((size_t)nobs, sizeof *rr);
        hitlog *logs = calloc((size_t)nobs, sizeof *logs);
        void **ctxs = calloc((size_t)nobs, sizeof *ctxs);
        long *res = calloc((size_t)nobs, sizeof *res);
        kz_buf la, lb;
        kz_buf_init(&la);
        kz_buf_init(&lb);
        char err[256];
        for (int k = 0; k < nobs; k++) {
            rr[k] = (kz_engine_record){NOW + k * 1000000ll, NOW + k * 1000000ll, 1, rbs[k].types,
                                       rbs[k].nt, rbs[k].f, rbs[k].nf};
            logs[k] = (hitlog){&lb, k};
            ctxs[k] = &logs[k];
            hitlog single_log = {&la, k};
            KT_CHECK(kz_engine_stream_feed_record(sa, &rr[k], on_hit_log, &single_log, err, sizeof err) >= 0);
        }
        long tb = kz_engine_stream_feed_batch(sb, rr, (size_t)nobs, on_hit_log, ctxs, res, err,
                                              sizeof err);
        KT_CHECK_MSG(tb >= 0, "%s", err);
        for (int k = 0; k < nobs; k++)
            KT_CHECK(res[k] >= 0);
        KT_CHECK_MSG(la.len == lb.len && (!la.len || memcmp(la.data, lb.data, la.len) == 0),
                     "batch and single feeds differ (%zu / %zu bytes of hits)", la.len, lb.len);
        batch_compared += la.len > 0;
        kz_buf_free(&la);
        kz_buf_free(&lb);
        free(rr);
        free(logs);
        free(ctxs);
        free(res);
        kz_engine_stream_free(sa);
        kz_engine_stream_free(sb);
    }
    free(rbs);
    /* streams: the first hit of every indicator comes at the first prefix the evaluator matches */
    if (s && multi) {
        kz_engine_stream_opts so = {.max_per_indicator = 1000, .max_age_us = 1000000000000ll};
        kz_engine_stream *st = kz_engine_stream_new(e, &so);
        long *first = malloc((size_t)nind * sizeof *first);
        for (int i = 0; i < nind; i++)
            first[i] = -1;
        for (int k = 0; k < nobs; k++) {
            hits x = {0};
            char err[256];
            KT_CHECK(kz_engine_stream_feed_obs(st, s, (size_t)k, on_hit, &x, err, sizeof err) >= 0);
            for (int i = 0; i < nind; i++)
                if (first[i] < 0 && has(&x, idn(i + 1)))
                    first[i] = k;
        }
        for (int i = 0; i < nind; i++) {
            if (!dc[i].p)
                continue;
            long want = -1;
            bool err_seen = false;
            for (int k = 0; k < nobs && want < 0 && !err_seen; k++) {
                kz_buf pre;
                kz_buf_init(&pre);
                kz_buf_puts(&pre, "[");
                json_t *arr = json_array();
                for (int j = 0; j <= k; j++)
                    json_array_append(arr, (json_t *)kz_obs_set_sdo(s, (size_t)j));
                char err[256];
                kz_obs_set *ps = kz_obs_set_from_json(arr, 21, err, sizeof err);
                json_decref(arr);
                kz_buf_free(&pre);
                int r = ps ? kz_pattern_match(dc[i].p, ps, NULL, NULL, err, sizeof err) : -1;
                kz_obs_set_free(ps);
                if (r < 0)
                    err_seen = true;
                else if (r == 1)
                    want = k;
            }
            if (err_seen)
                continue;
            (*compared)++;
            KT_CHECK_MSG(first[i] == want, "stream: pattern %s: engine first hit %ld, evaluator %ld",
                         dc[i].text, first[i], want);
        }
        free(first);
        kz_engine_stream_free(st);
    }
    for (int k = 0; k < nobs; k++)
        kz_obs_set_free(single[k]);
    free(single);
    kz_obs_set_free(s);
    for (int i = 0; i < nind; i++)
        kz_pattern_free(dc[i].p);
    free(dc);
    kz_buf_free(&pat);
    kz_buf_free(&all);
    kz_buf_free(&all2);
    kz_buf_free(&one);
    kz_buf_free(&obsall);
    kz_engine_free(e);
}

static void test_differential_single(void)
{
    size_t compared = 0;
    positives = 0;
    for (uint64_t seed = 1; seed <= 6; seed++)
        run_differential(seed, 150, 40, false, &compared);
    fprintf(stderr, "single: %zu comparisons, %zu matches, %zu batch runs with hits\n", compared,
            positives, batch_compared);
    KT_CHECK(batch_compared >= 3);
    KT_CHECK(compared > 10000);
    KT_CHECK(positives > 500);
}

static void test_differential_stream(void)
{
    size_t compared = 0;
    for (uint64_t seed = 100; seed <= 103; seed++)
        run_differential(seed, 60, 14, true, &compared);
    KT_CHECK(compared > 1000);
}

/* ---- the CIDR indexes against brute force ------------------------------------------------ */

typedef struct net4 {
    uint32_t net;
    int len;
    bool live;
} net4;

static bool net_has(const net4 *n, uint32_t a)
{
    return n->len == 0 || (a >> (32 - n->len)) == (n->net >> (32 - n->len));
}

/* Networks of every length 0..32 (the rank index takes up to /24, the hash tables the rest),
 * duplicates among them, then removals (dead base records) and additions (a delta): the
 * all-prefix count and the longest prefix of kz_engine_lookup_cidr must equal a scan. */
static int on_hit_count(void *ctx, const kz_engine_hit *h)
{
    ((size_t *)ctx)[h->observation]++;
    return 0;
}

static void test_cidr_brute_force(void)
{
    /* merge_min 1: the first load becomes the base, so removals are dead base records and
     * the 40 additions of round 2 a delta (40 * 8 < 480 live) */
    kz_engine_opts o = {.now_us = NOW, .merge_min = 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    long p = kz_engine_path(e, "ipv4-addr:value");
    KT_CHECK(e != NULL && p >= 0);
    enum { NN = 600 };
    static net4 nets[NN];
    rng_state = 77;
    kz_buf all;
    kz_buf_init(&all);
    for (int i = 0; i < NN; i++) {
        int len = i < 66 ? i % 33 : (int)rnd(33);
        /* a few /8s and /16s of 10.x, so that addresses fall into several nested networks */
        uint32_t a = i % 7 == 0 ? 0x0a000000u | rnd(1u << 20) : (rnd(1u << 16) << 16 | rnd(1u << 16));
        if (i % 11 == 0 && i > 0)
            a = nets[i - 1].net, len = nets[i - 1].len; /* a duplicate network */
        uint32_t m = len ? ~0u << (32 - len) : 0;
        nets[i] = (net4){a & m, len, true};
        char pat[96];
        snprintf(pat, sizeof pat, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%d']", a >> 24 & 255,
                 a >> 16 & 255, a >> 8 & 255, a & 255, len);
        add_ind(&all, 5000 + i, pat);
    }
    KT_CHECK(load_text(e, all.data, NULL) == NN);
    for (int round = 0; round < 3; round++) {
        if (round == 1) { /* remove every fifth: dead records of the base */
            const char *ids[NN];
            char idb[NN][64];
            size_t nr = 0;
            for (int i = 0; i < NN; i += 5) {
                snprintf(idb[nr], sizeof idb[0], "%s", idn(5000 + i));
                ids[nr] = idb[nr];
                nr++;
                nets[i].live = false;
            }
            char err[256];
            KT_CHECK(kz_engine_remove(e, ids, nr, err, sizeof err) == (long)nr);
        } else if (round == 2) { /* a few additions land in the delta */
            kz_buf_reset(&all);
            for (int i = 0; i < 40; i++) {
                int k = NN - 40 + i;
                int len = (int)rnd(33);
                uint32_t a = 0x0a000000u | rnd(1u << 24);
                uint32_t m = len ? ~0u << (32 - len) : 0;
                nets[k] = (net4){a & m, len, true};
                char pat[96], b[2048];
                snprintf(pat, sizeof pat, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%d']",
                         a >> 24 & 255, a >> 16 & 255, a >> 8 & 255, a & 255, len);
                kz_buf_puts(&all, ind(b, sizeof b, 5000 + k, pat,
                                      "\"description\":\"v2\""));
                kz_buf_putc(&all, '\n');
            }
            /* a newer version replaces each: same ids, later modified */
            char *t = all.data;
            for (char *q = strstr(t, "\"modified\":\"2024-01-01T00:00:00Z\""); q;
                 q = strstr(q + 1, "\"modified\":\"2024-01-01T00:00:00Z\""))
                memcpy(q + 12, "2024-06-01T00:00:00Z", 20);
            KT_CHECK(load_text(e, all.data, NULL) == 40);
        }
        const kz_engine_gen *g = kz_engine_acquire(e);
        size_t bad = 0;
        /* the same addresses as records, matched in one batch (the pipeline's network
         * entries answer the base's rank indexes there) */
        enum { NT = 3000 };
        static char vs[NT][32];
        static size_t wants[NT], gots[NT];
        static kz_engine_field rf[NT];
        static kz_engine_record rr[NT];
        static const char *rt[] = {"ipv4-addr"};
        for (int t = 0; t < NT; t++) {
            uint32_t a = t % 3 == 0 ? 0x0a000000u | rnd(1u << 24)
                         : t % 3 == 1 ? nets[rnd(NN)].net | rnd(256)
                                      : (rnd(1u << 16) << 16 | rnd(1u << 16));
            /* one in seven observes a network a/ql: inside the networks of up to ql bits */
            int ql = t % 7 == 6 ? (int)rnd(33) : 32;
            if (ql < 32)
                a &= ql ? ~0u << (32 - ql) : 0;
            size_t want = 0;
            int wl = -1;
            for (int i = 0; i < NN; i++)
                if (nets[i].live && nets[i].len <= ql && net_has(&nets[i], a)) {
                    want++;
                    wl = nets[i].len > wl ? nets[i].len : wl;
                }
            char *v = vs[t];
            int vn = snprintf(v, sizeof vs[t], "%u.%u.%u.%u", a >> 24 & 255, a >> 16 & 255,
                              a >> 8 & 255, a & 255);
            if (ql < 32)
                snprintf(v + vn, sizeof vs[t] - (size_t)vn, "/%d", ql);
            wants[t] = want;
            rf[t] = (kz_engine_field){0, KZ_EF_STR, (uint32_t)p, v, (uint32_t)strlen(v), 0};
            rr[t] = (kz_engine_record){NOW, NOW, 1, rt, 1, &rf[t], 1};
            int longest;
            size_t got = kz_engine_lookup_cidr(g, (uint32_t)p, v, strlen(v), &longest);
            if (got != want || longest != wl) {
                if (bad++ < 5)
                    fprintf(stderr, "round %d %s: %zu/%d, want %zu/%d\n", round, v, got, longest,
                            want, wl);
            }
        }
        memset(gots, 0, sizeof gots);
        char err[256];
        KT_CHECK(kz_engine_match_batch(g, rr, NT, on_hit_count, gots, err, sizeof err) >= 0);
        kz_engine_release(e, g);
        for (int t = 0; t < NT; t++)
            if (gots[t] != wants[t] && bad++ < 5)
                fprintf(stderr, "round %d batch %s: %zu, want %zu\n", round, vs[t], gots[t], wants[t]);
        KT_CHECK_MSG(bad == 0, "round %d: %zu addresses differ", round, bad);
    }
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* ---- lists of references in records ----------------------------------------------------- */

/* REF fields on a _refs path are list items: the record means resolves_to_refs ["1", "2"],
 * patterns over [*] of it match as on that JSON, and a singular _ref still takes one field. */
static void test_record_ref_lists(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    char a[1024], b[1024], c[1024], all[4096];
    snprintf(all, sizeof all, "%s\n%s\n%s\n",
             ind(a, sizeof a, 1, "[domain-name:resolves_to_refs[*].value = '192.0.2.7']", NULL),
             ind(b, sizeof b, 2, "[domain-name:resolves_to_refs[*].value = '198.51.100.1']", NULL),
             ind(c, sizeof c, 3, "[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[1].value = '192.0.2.7']", NULL));
    KT_CHECK(load_text(e, all, NULL) == 3);
    long pdom = kz_engine_path(e, "domain-name:value"), pres = kz_engine_path(e, "domain-name:resolves_to_refs"),
         pip = kz_engine_path(e, "ipv4-addr:value"), pdst = kz_engine_path(e, "network-traffic:dst_ref");
    KT_CHECK(pdom >= 0 && pres >= 0 && pip >= 0 && pdst >= 0);
    const char *types[] = {"domain-name", "ipv4-addr", "ipv4-addr", "network-traffic"};
    kz_engine_field f[] = {
        {0, KZ_EF_STR, (uint32_t)pdom, "a.example", 9, 0},
        {0, KZ_EF_REF, (uint32_t)pres, NULL, 0, 1},
        {0, KZ_EF_REF, (uint32_t)pres, NULL, 0, 2},
        {1, KZ_EF_STR, (uint32_t)pip, "203.0.113.9", 11, 0},
        {2, KZ_EF_STR, (uint32_t)pip, "192.0.2.7", 9, 0},
        {3, KZ_EF_REF, (uint32_t)pdst, NULL, 0, 1},
    };
    kz_engine_record r = {NOW, NOW, 1, types, 4, f, 6};
    char err[256];
    json_t *j = kz_engine_record_to_json(e, &r, err, sizeof err);
    json_t *l = json_object_get(json_object_get(json_object_get(j, "objects"), "0"), "resolves_to_refs");
    KT_CHECK_MSG(json_is_array(l) && json_array_size(l) == 2 &&
                     strcmp(json_string_value(json_array_get(l, 0)), "1") == 0 &&
                     strcmp(json_string_value(json_array_get(l, 1)), "2") == 0,
                 "%s", err);
    json_decref(j);
    hits x = {0};
    const kz_engine_gen *g = kz_engine_acquire(e);
    long n = kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err);
    KT_CHECK_MSG(n == 2 && has(&x, idn(1)) && has(&x, idn(3)) && !has(&x, idn(2)), "%ld %s", n, err);
    /* the second answer gone: [*] no longer holds, [1] has no item */
    r.nfields = 5;
    f[2] = f[5];
    f[2].obj = 3;
    memset(&x, 0, sizeof x);
    KT_CHECK(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 0);
    /* two REF fields on a singular _ref still overlap */
    kz_engine_field dup[] = {{3, KZ_EF_REF, (uint32_t)pdst, NULL, 0, 1}, {3, KZ_EF_REF, (uint32_t)pdst, NULL, 0, 2}};
    kz_engine_record rd = {NOW, NOW, 1, types, 4, dup, 2};
    KT_CHECK(kz_engine_match_record(g, &rd, on_hit, &x, err, sizeof err) == -1);
    /* and so they do with another object's fields between them (the test starts at the
     * object's first field, not at the previous one) */
    kz_engine_field dupi[] = {{2, KZ_EF_STR, (uint32_t)pip, "192.0.2.7", 9, 0},
                              {3, KZ_EF_REF, (uint32_t)pdst, NULL, 0, 1},
                              {1, KZ_EF_STR, (uint32_t)pip, "203.0.113.9", 11, 0},
                              {0, KZ_EF_STR, (uint32_t)pdom, "a.example", 9, 0},
                              {3, KZ_EF_REF, (uint32_t)pdst, NULL, 0, 2}};
    kz_engine_record rdi = {NOW, NOW, 1, types, 4, dupi, 5};
    KT_CHECK(kz_engine_match_record(g, &rdi, on_hit, &x, err, sizeof err) == -1 &&
             strstr(err, "fields 1 and 4 overlap") != NULL);
    rdi.nfields = 4; /* without the second reference it is a valid record */
    KT_CHECK_MSG(kz_engine_match_record(g, &rdi, on_hit, &x, err, sizeof err) >= 0, "%s", err);
    /* a list item and a string on the same _refs property are not a list */
    kz_engine_field mix[] = {{0, KZ_EF_REF, (uint32_t)pres, NULL, 0, 1}, {0, KZ_EF_STR, (uint32_t)pres, "x", 1, 0}};
    kz_engine_record rm = {NOW, NOW, 1, types, 4, mix, 2};
    KT_CHECK(kz_engine_match_record(g, &rm, on_hit, &x, err, sizeof err) == -1);
    kz_engine_release(e, g);
    kz_engine_free(e);
}

/* Two shapes in turn are both remembered, wherever their hashes fall: every pair of 24 shapes
 * (1 to 24 items of a reference list), each pair in a memo of its own, gets the whole check
 * twice over six records. With one entry per hash value, a pair on one entry (1 in 8 of the
 * pairs) evicted each other and every record got the whole check. */
static void test_record_shapes_two(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    long p = kz_engine_path(e, "domain-name:resolves_to_refs");
    long ip = kz_engine_path(e, "ipv4-addr:value");
    KT_CHECK(p >= 0 && ip >= 0);
    const char *types[] = {kz_engine_path_type(e, (uint32_t)p),
                           kz_engine_path_type(e, (uint32_t)ip)};
    kz_engine_field items[24];
    for (size_t i = 0; i < 24; i++)
        items[i] = (kz_engine_field){0, KZ_EF_REF, (uint32_t)p, NULL, 0, 1};
    size_t bad = 0;
    char err[256];
    for (size_t a = 1; a <= 24; a++)
        for (size_t b = a + 1; b <= 24; b++) {
            kz_eshapes *m = kz_e_shapes_new();
            KT_CHECK(m != NULL);
            if (!m)
                continue;
            for (int k = 0; k < 6; k++) {
                kz_engine_record r = {NOW, NOW, 1, types, 2, items, k % 2 ? b : a};
                bad += kz_e_record_check(e, &r, m, err, sizeof err) != 0;
            }
            bad += kz_e_shapes_whole(m) != 2;
            kz_e_shapes_free(m);
        }
    KT_CHECK(bad == 0);
    kz_engine_free(e);
}

/* A stream remembers the record shapes that passed the check (record.c). Records drawn from
 * a few types (the engine's own names) and paths, with objects, kinds, values and reference targets sometimes wrong,
 * so that shapes repeat, differ by one field, and share memo slots: a stream takes or refuses
 * each exactly as the check without the memo does (kz_engine_record_to_json), with the same
 * message. */
static void test_record_shapes_memo(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    char a[1024];
    KT_CHECK(load_text(e, ind(a, sizeof a, 1, "[ipv4-addr:value = '10.0.0.1']", NULL), NULL) == 1);
    static const char *const pnames[] = {
        "network-traffic:src_ref", "network-traffic:dst_ref", "network-traffic:src_port",
        "network-traffic:extensions", "network-traffic:extensions.'http-request-ext'.request_method",
        "network-traffic:extensions.'http-request-ext'", "ipv4-addr:value", "domain-name:value",
        "domain-name:resolves_to_refs", "url:value"};
    enum { NP = sizeof pnames / sizeof pnames[0] };
    uint32_t pid[NP];
    for (size_t i = 0; i < NP; i++) {
        long id = kz_engine_path(e, pnames[i]);
        KT_CHECK(id >= 0);
        pid[i] = (uint32_t)id;
    }
    /* the engine's own type names, as the sensor's map gives them: the memo keeps only
     * shapes whose types are those */
    const char *tnames[] = {kz_engine_path_type(e, pid[0]), kz_engine_path_type(e, pid[6]),
                            kz_engine_path_type(e, pid[7]), kz_engine_path_type(e, pid[9])};
    KT_CHECK(tnames[0] && tnames[1] && tnames[2] && tnames[3]);
    kz_engine_stream *st = kz_engine_stream_new(e, NULL);
    hits x = {0};
    char err[256];
    /* a caller's type name whose buffer later holds another name, at the same address: the
     * record with the second name must be refused, though its pointers are the same */
    char tbuf[32] = "ipv4-addr";
    const char *ct[] = {tbuf};
    kz_engine_field cf[] = {{0, KZ_EF_STR, pid[6], "10.0.0.1", 8, 0}};
    kz_engine_record cr = {NOW, NOW, 1, ct, 1, cf, 1};
    KT_CHECK_MSG(kz_engine_stream_feed_record(st, &cr, on_hit, &x, err, sizeof err) >= 0, "%s", err);
    snprintf(tbuf, sizeof tbuf, "domain-name");
    KT_CHECK(kz_engine_stream_feed_record(st, &cr, on_hit, &x, err, sizeof err) == -1 &&
             strstr(err, "on an object of type domain-name") != NULL);
    /* two items of a list pass; the same shape but for one item's kind does not */
    const char *lt[] = {tnames[2], tnames[1], tnames[1]};
    kz_engine_field items[] = {{0, KZ_EF_REF, pid[8], NULL, 0, 1}, {0, KZ_EF_REF, pid[8], NULL, 0, 2}};
    kz_engine_record lr = {NOW, NOW, 1, lt, 3, items, 2};
    KT_CHECK_MSG(kz_engine_stream_feed_record(st, &lr, on_hit, &x, err, sizeof err) >= 0, "%s", err);
    items[1] = (kz_engine_field){0, KZ_EF_STR, pid[8], "2", 1, 0};
    KT_CHECK(kz_engine_stream_feed_record(st, &lr, on_hit, &x, err, sizeof err) == -1 &&
             strstr(err, "overlap") != NULL);
    /* the same records also go, 32 at a time, through a stream's batch (which lends it the
     * stream's memo) and kz_engine_match_batch (which keeps one for the batch) */
    kz_engine_stream *st2 = kz_engine_stream_new(e, NULL);
    enum { B = 32 };
    static const char *bt[B][4];
    static kz_engine_field bf[B][8];
    kz_engine_record rs[B];
    bool wants[B];
    char msgs[B][256];
    long res[B];
    void *ctxs[B];
    for (size_t k = 0; k < B; k++)
        ctxs[k] = &x;
    uint64_t rnd = 42;
    size_t ok = 0, refused = 0, bad = 0;
    for (int iter = 0; iter < 60000; iter++) {
        /* a shape from a small pool (by a seed of few bits), values drawn each time */
        uint64_t shape = kt_xorshift(&rnd) % 24, v = kt_xorshift(&rnd);
        uint64_t sr = shape * 0x9e3779b97f4a7c15ull + 1;
        const char **types = bt[iter % B];
        size_t nt = 1 + kt_xorshift(&sr) % 4;
        for (size_t i = 0; i < nt; i++)
            types[i] = tnames[(i + kt_xorshift(&sr) % 3) % 4];
        kz_engine_field *f = bf[iter % B];
        size_t nf = 1 + kt_xorshift(&sr) % 6;
        /* mostly a path of the object's type and the kind it takes (REF on _ref and _refs),
         * sometimes any path or kind */
        static const uint8_t ptype[NP] = {0, 0, 0, 0, 0, 0, 1, 2, 2, 3};
        for (size_t j = 0; j < nf; j++) {
            uint64_t q = kt_xorshift(&sr);
            uint16_t obj = (uint16_t)(q % nt);
            size_t pi = (q >> 8) % NP;
            for (int t = 0; t < 8 && (q >> 20 & 7) && strcmp(tnames[ptype[pi]], types[obj]) != 0; t++)
                pi = (pi + 1) % NP;
            bool ref = pi <= 1 || pi == 8;
            uint16_t kind = (q >> 24 & 7) ? (ref ? KZ_EF_REF : KZ_EF_STR) : (uint16_t)((q >> 28) % 3);
            f[j] = (kz_engine_field){obj, kind, pid[pi], NULL, 0, 0};
            if (f[j].kind == KZ_EF_STR) {
                int w = (int)(v >> (4 * j) & 15);
                f[j].s = w == 0 ? "ev\xffil" : w == 1 ? "a\xc3" : "10.0.0.1";
                f[j].len = w == 0 ? 6 : w == 1 ? 2 : 8;
            } else if (f[j].kind == KZ_EF_REF) {
                int w = (int)(v >> (4 * j + 32) & 15); /* mostly in range */
                f[j].i = w == 0 ? -1 : w == 1 ? (int64_t)nt : (int64_t)(w % nt);
            } else {
                f[j].i = 443;
            }
        }
        /* half the time one change to the shape: a type, or one field's object, kind or
         * path (the memo then holds the shape it came from) */
        uint64_t m = kt_xorshift(&rnd);
        if (m & 1) {
            size_t j = (m >> 8) % nf;
            switch ((m >> 1) % 4) {
            case 0:
                types[(m >> 16) % nt] = tnames[(m >> 24) % 4];
                break;
            case 1:
                f[j].obj = (uint16_t)((m >> 16) % nt);
                break;
            case 2:
                f[j].kind = (uint16_t)((m >> 16) % 3);
                f[j].s = "x";
                f[j].len = 1;
                f[j].i = 0;
                break;
            default:
                f[j].path = pid[(m >> 16) % NP];
                break;
            }
        }
        kz_engine_record r = {NOW, NOW, 1, types, nt, f, nf};
        char e1[256] = "", e2[256] = "";
        long n = kz_engine_stream_feed_record(st, &r, on_hit, &x, e1, sizeof e1);
        json_t *j = kz_engine_record_to_json(e, &r, e2, sizeof e2);
        bool want = j != NULL;
        json_decref(j);
        if ((n >= 0) != want || (!want && strcmp(e1, e2) != 0)) {
            if (bad++ < 5)
                fprintf(stderr, "record %d: stream %ld '%s', check '%s'\n", iter, n, e1, e2);
        }
        ok += want;
        refused += !want;
        size_t k = (size_t)iter % B;
        rs[k] = r;
        wants[k] = want;
        snprintf(msgs[k], sizeof msgs[k], "%s", e2);
        if (k + 1 < B)
            continue;
        long t = kz_engine_stream_feed_batch(st2, rs, B, on_hit, ctxs, res, e1, sizeof e1);
        size_t first = B;
        for (size_t q = 0; q < B; q++) {
            if ((res[q] >= 0) != wants[q] && bad++ < 5)
                fprintf(stderr, "record %d: stream batch %ld, check %d\n", iter, res[q], wants[q]);
            if (!wants[q] && first == B)
                first = q;
        }
        KT_CHECK(t >= 0);
        const kz_engine_gen *g = kz_engine_acquire(e);
        t = kz_engine_match_batch(g, rs, B, on_hit, &x, e1, sizeof e1);
        kz_engine_release(e, g);
        if (first == B ? t < 0 : t != -1 || strcmp(e1, msgs[first]) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "batch to %d: match_batch %ld '%s', check '%s'\n", iter, t, e1,
                        first == B ? "" : msgs[first]);
        }
    }
    KT_CHECK_MSG(bad == 0, "%zu records judged differently", bad);
    KT_CHECK_MSG(ok > 3000 && refused > 3000, "%zu taken, %zu refused: both must be common", ok,
                 refused);
    kz_engine_stream_free(st);
    kz_engine_stream_free(st2);
    kz_engine_free(e);
}

/* A hit on an index-answered indicator whose value is longer than the emitter's stack
 * buffers (and full of characters to escape): the texts come from the heap, exactly. */
static void test_long_value_texts(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    kz_buf v, lit;
    kz_buf_init(&v);
    kz_buf_init(&lit);
    kz_buf_puts(&v, "http://x.example/");
    for (int i = 0; i < 300; i++)
        kz_buf_puts(&v, "a'\\");
    quote_literal(&lit, v.data, v.len);
    kz_buf pat;
    kz_buf_init(&pat);
    kz_buf_printf(&pat, "[url:value = %s]", lit.data);
    char b[8192];
    KT_CHECK(load_text(e, ind(b, sizeof b, 1, pat.data, NULL), NULL) == 1);
    long pu = kz_engine_path(e, "url:value");
    const char *types[] = {"url"};
    kz_engine_field f[] = {{0, KZ_EF_STR, (uint32_t)pu, v.data, (uint32_t)v.len, 0}};
    kz_engine_record r = {NOW, NOW, 1, types, 1, f, 1};
    hits x = {0};
    char err[256];
    const kz_engine_gen *g = kz_engine_acquire(e);
    KT_CHECK(kz_engine_match_record(g, &r, on_hit_long, &x, err, sizeof err) == 1);
    kz_engine_release(e, g);
    kz_buf want;
    kz_buf_init(&want);
    kz_buf_printf(&want, "url:value = %s", lit.data);
    KT_CHECK(long_fired && strcmp(long_fired, want.data) == 0);
    KT_CHECK(long_pattern && strcmp(long_pattern, pat.data) == 0);
    free(long_fired);
    free(long_pattern);
    long_fired = long_pattern = NULL;
    kz_buf_free(&want);
    kz_buf_free(&pat);
    kz_buf_free(&v);
    kz_buf_free(&lit);
    kz_engine_free(e);
}

/* ---- the batch pipeline's index answers, base and delta ------------------------------------ */

typedef struct kidlog {
    char ids[64][80]; /* "k indicator--..." */
    size_t n;
} kidlog;

static int on_hit_k(void *ctx, const kz_engine_hit *h)
{
    kidlog *l = ctx;
    if (l->n < 64)
        snprintf(l->ids[l->n++], sizeof l->ids[0], "%zu %s", h->observation, h->id);
    return 0;
}

static bool has_k(const kidlog *l, size_t k, int n)
{
    char want[80];
    snprintf(want, sizeof want, "%zu %s", k, idn(n));
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->ids[i], want) == 0)
            return true;
    return false;
}

/* A base of simple indicators (only simple ones on the address path, so the batch takes the
 * base's answers from its pipeline and probes nothing else there), one of them removed, and
 * a delta of three more:
 * records of a batch hit the base, the delta, and fall back to the plain probes for values
 * the pipeline leaves (a final newline, text that is not NFC, a field past the 64th). */
static void test_batch_base_and_delta(void)
{
    kz_engine_opts o = {.now_us = NOW, .merge_min = 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    kz_buf all;
    kz_buf_init(&all);
    const char *base[] = {
        "[domain-name:value = 'evil.example']",
        "[domain-name:value = 'bad.example' OR domain-name:value LIKE '%.bad.example']",
        "[domain-name:value = 'wide.example' OR domain-name:value LIKE '%.wide.example']",
        "[ipv4-addr:value = '192.0.2.7']",
        "[domain-name:value = 'caf\u00e9.example' OR domain-name:value LIKE '%.caf\u00e9.example']",
        "[ipv4-addr:value = '192.0.2.8']",
    };
    for (int i = 0; i < 6; i++) {
        add_ind(&all, i + 1, base[i]);
    }
    for (int i = 0; i < 20; i++) { /* so that the three of the delta stay a delta (3 * 8 < 26) */
        char pat[64];
        snprintf(pat, sizeof pat, "[ipv4-addr:value = '198.51.100.%d']", i);
        add_ind(&all, 100 + i, pat);
    }
    KT_CHECK(load_text(e, all.data, NULL) == 26);
    kz_buf_reset(&all);
    add_ind(&all, 7, "[domain-name:value = 'new.example']");
    add_ind(&all, 8, "[domain-name:value LIKE '%.evil.example']");
    add_ind(&all, 9, "[ipv4-addr:value = '192.0.2.9']");
    KT_CHECK(load_text(e, all.data, NULL) == 3);
    const char *gone[] = {idn(6)};
    char err[256];
    KT_CHECK(kz_engine_remove(e, gone, 1, err, sizeof err) == 1);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.base_records == 26 && st.delta_records == 3, "base %zu delta %zu",
                 st.base_records, st.delta_records);
    long pd = kz_engine_path(e, "domain-name:value"), pi = kz_engine_path(e, "ipv4-addr:value");
    struct {
        const char *v;
        int want; /* indicator, 0 none */
    } cases[] = {
        {"evil.example", 1},             /* base exact */
        {"a.evil.example", 8},           /* delta suffix */
        {"x.y.bad.example", 2},          /* base suffix of an exact-or-suffix */
        {"new.example", 7},              /* delta exact */
        {"a.wide.example\n", 3},         /* '$' before a final newline: plain probes */
        {"www.cafe\u0301.example", 5},   /* LIKE on the NFC text: plain probes */
        {"wide.example", 3},             /* base exact of an exact-or-suffix */
        /* the pipeline finds a name's dots 16 bytes at a time, the last block overlapping
         * the one before: here the dot of ".bad.example" is in that block's new bytes */
        {"a1.a2.a3.a4.a5.a6.a7.a8.a9.b1.c23.bad.example", 2},
        /* more than 64 labels: the pipeline leaves the name to the plain probes */
        {"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.bad.example", 2},
        {"192.0.2.7", 4},                /* base address */
        {"192.0.2.8", 0},                /* removed */
        {"192.0.2.9", 9},                /* delta address (the base: simple only on the path) */
    };
    enum { NR = sizeof cases / sizeof cases[0] };
    const char *dt[] = {"domain-name"}, *it[] = {"ipv4-addr"};
    kz_engine_field f[NR];
    kz_engine_record r[NR + 1];
    for (size_t k = 0; k < NR; k++) {
        bool ip = k >= 9;
        f[k] = (kz_engine_field){0, KZ_EF_STR, (uint32_t)(ip ? pi : pd), cases[k].v,
                                 (uint32_t)strlen(cases[k].v), 0};
        r[k] = (kz_engine_record){NOW, NOW, 1, ip ? it : dt, 1, &f[k], 1};
    }
    /* record NR: a domain on field 4, 63 resolutions, another domain on field 68: past the
     * pipeline's 64 fields (and 68 = 4 modulo 64) */
    long pres = kz_engine_path(e, "domain-name:resolves_to_refs");
    KT_CHECK(pres >= 0);
    const char *many_t[] = {"domain-name", "ipv4-addr", "domain-name"};
    kz_engine_field many_f[69];
    for (int j = 0; j < 68; j++)
        many_f[j] = (kz_engine_field){0, KZ_EF_REF, (uint32_t)pres, NULL, 0, 1};
    many_f[4] = (kz_engine_field){0, KZ_EF_STR, (uint32_t)pd, "quiet.example", 13, 0};
    many_f[67] = (kz_engine_field){1, KZ_EF_STR, (uint32_t)pi, "203.0.113.1", 11, 0};
    many_f[68] = (kz_engine_field){2, KZ_EF_STR, (uint32_t)pd, "bad.example", 11, 0};
    r[NR] = (kz_engine_record){NOW, NOW, 1, many_t, 3, many_f, 69};
    kidlog l = {0};
    const kz_engine_gen *g = kz_engine_acquire(e);
    long n = kz_engine_match_batch(g, r, NR + 1, on_hit_k, &l, err, sizeof err);
    kz_engine_release(e, g);
    KT_CHECK_MSG(n == NR - 1 + 1, "%ld hits (%s)", n, err);
    for (size_t k = 0; k < NR; k++)
        KT_CHECK_MSG(cases[k].want ? has_k(&l, k, cases[k].want) : !has_k(&l, k, 6),
                     "record %zu (%s): no hit of indicator %d", k, cases[k].v, cases[k].want);
    KT_CHECK(has_k(&l, NR, 2));
    /* a malformed record among them (fields missing): the pipeline reads records ahead of
     * their validation, so it must not read this one; the batch stops there with the reason */
    r[2].fields = NULL;
    l.n = 0;
    g = kz_engine_acquire(e);
    n = kz_engine_match_batch(g, r, NR + 1, on_hit_k, &l, err, sizeof err);
    kz_engine_release(e, g);
    KT_CHECK_MSG(n == -1 && strstr(err, "malformed") && has_k(&l, 0, 1) && has_k(&l, 1, 8) &&
                     !has_k(&l, 3, 7),
                 "%ld (%s)", n, err);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* ---- exact lookups in batches against a model ----------------------------------------------- */

/* Values from a small pool (so several indicators share one), in the base, some removed
 * (dead base records), some added to the delta; every value, and absent ones, looked up in
 * batches of every length around the pipeline's windows, and one at a time: each count must
 * be the number of live indicators with that value. */
/* Networks shorter than the IPv4 summary's blocks mark every block they cover (a few bits of
 * one word, or whole words), so an address anywhere in them, the last one included, is
 * still found; addresses just outside are not. */
static void test_short_networks(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    kz_buf all;
    kz_buf_init(&all);
    add_ind(&all, 1, "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    add_ind(&all, 2, "[ipv4-addr:value ISSUBSET '96.0.0.0/3']");
    add_ind(&all, 3, "[ipv4-addr:value ISSUBSET '172.16.0.0/12']");
    KT_CHECK(load_text(e, all.data, NULL) == 3);
    long p = kz_engine_path(e, "ipv4-addr:value");
    const kz_engine_gen *g = kz_engine_acquire(e);
    static const struct {
        const char *a;
        size_t n;
    } cases[] = {
        {"10.0.0.0", 1},        {"10.255.255.255", 1}, {"10.128.7.1", 1},   {"9.255.255.255", 0},
        {"11.0.0.0", 0},        {"96.0.0.0", 1},       {"127.255.255.255", 1}, {"95.255.255.255", 0},
        {"128.0.0.0", 0},       {"172.16.0.0", 1},     {"172.31.255.255", 1}, {"172.32.0.0", 0},
        {"172.15.255.255", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = kz_engine_lookup_cidr(g, (uint32_t)p, cases[i].a, strlen(cases[i].a), NULL);
        KT_CHECK_MSG(n == cases[i].n, "%s: %zu networks, want %zu", cases[i].a, n, cases[i].n);
    }
    kz_engine_release(e, g);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* Step names are interned (reference paths compare them by pointer): a name seen before
 * thousands of others, whose set has grown and been rehashed many times since, is still the
 * same name, and a feed of many distinct paths loads in time linear in them. */
static void test_many_step_names(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    kz_buf all;
    kz_buf_init(&all);
    add_ind(&all, 1, "[ipv4-addr:value = '192.0.2.99']");
    KT_CHECK(load_text(e, all.data, NULL) == 1);
    kz_buf_reset(&all);
    for (int i = 0; i < 3000; i++) {
        char pat[128];
        snprintf(pat, sizeof pat, "[x-many:k%d.sub%d = 'v']", i, i);
        add_ind(&all, 100 + i, pat);
    }
    add_ind(&all, 2, "[network-traffic:dst_ref.value = '192.0.2.99']");
    KT_CHECK(load_text(e, all.data, NULL) == 3001);
    long pdst = kz_engine_path(e, "network-traffic:dst_ref"), pip = kz_engine_path(e, "ipv4-addr:value"),
         pk = kz_engine_path(e, "x-many:k2999.sub2999");
    KT_CHECK(pdst >= 0 && pip >= 0 && pk >= 0);
    const char *types[] = {"network-traffic", "ipv4-addr", "x-many"};
    kz_engine_field f[] = {
        {0, KZ_EF_REF, (uint32_t)pdst, NULL, 0, 1},
        {1, KZ_EF_STR, (uint32_t)pip, "192.0.2.99", 10, 0},
        {2, KZ_EF_STR, (uint32_t)pk, "v", 1, 0},
    };
    kz_engine_record r = {NOW, NOW, 1, types, 3, f, 3};
    hits x = {0};
    char err[256];
    const kz_engine_gen *g = kz_engine_acquire(e);
    KT_CHECK_MSG(kz_engine_match_record(g, &r, on_hit, &x, err, sizeof err) == 3, "%s", err);
    KT_CHECK(has(&x, idn(1)) && has(&x, idn(2)) && has(&x, idn(100 + 2999)));
    kz_engine_release(e, g);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* Digests are keyed as bytes only when their text is one-case hex: a value that differs from
 * an indicator's only in case is another string (the evaluator compares text), mixed case
 * included. */
static void test_hex_case(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    kz_buf all;
    kz_buf_init(&all);
    const char *lo = "0123456789abcdef0123456789abcdef", *up = "0123456789ABCDEF0123456789ABCDEF";
    const char *lo1 = "0123456789abcdef0123456789abcdef01234567";
    const char *up1 = "0123456789ABCDEF0123456789ABCDEF01234567";
    char pat[128];
    snprintf(pat, sizeof pat, "[file:hashes.MD5 = '%s']", lo);
    add_ind(&all, 1, pat);
    snprintf(pat, sizeof pat, "[file:hashes.'SHA-1' = '%s']", up1);
    add_ind(&all, 2, pat);
    KT_CHECK(load_text(e, all.data, NULL) == 2);
    long md5 = kz_engine_path(e, "file:hashes.MD5"), sha1 = kz_engine_path(e, "file:hashes.'SHA-1'");
    const kz_engine_gen *g = kz_engine_acquire(e);
    KT_CHECK(kz_engine_lookup_exact(g, (uint32_t)md5, lo, 32) == 1);
    KT_CHECK(kz_engine_lookup_exact(g, (uint32_t)md5, up, 32) == 0);
    KT_CHECK(kz_engine_lookup_exact(g, (uint32_t)md5, "0123456789abcdef0123456789ABCDEF", 32) == 0);
    KT_CHECK(kz_engine_lookup_exact(g, (uint32_t)md5, "0123456789aBcdef0123456789abcdef", 32) == 0);
    KT_CHECK(kz_engine_lookup_exact(g, (uint32_t)sha1, up1, 40) == 1);
    KT_CHECK(kz_engine_lookup_exact(g, (uint32_t)sha1, lo1, 40) == 0);
    const char *mixed1 = "0123456789ABCDEF0123456789ABCDEf01234567";
    KT_CHECK(kz_engine_lookup_exact(g, (uint32_t)sha1, mixed1, 40) == 0);
    kz_engine_release(e, g);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* A stream keeps its generation between feeds only while it is current: after every update
 * its next feed matches against the new indicators, and kz_engine_stream_rest lets the held
 * one go (ASan reports a generation never released). */
static void test_stream_follows_updates(void)
{
    kz_engine_opts o = {.now_us = NOW};
    kz_engine *e = kz_engine_new(&o);
    kz_buf all;
    kz_buf_init(&all);
    add_ind(&all, 1, "[ipv4-addr:value = '192.0.2.1']");
    KT_CHECK(load_text(e, all.data, NULL) == 1);
    long pi = kz_engine_path(e, "ipv4-addr:value");
    const char *it[] = {"ipv4-addr"};
    kz_engine_stream *st = kz_engine_stream_new(e, NULL);
    char err[256];
    /* the number of hits of one record with address a */
#define FEED(a)                                                                              \
    (kz_engine_stream_feed_record(                                                           \
        st,                                                                                  \
        &(kz_engine_record){NOW, NOW, 1, it, 1,                                              \
                            &(kz_engine_field){0, KZ_EF_STR, (uint32_t)pi, a,               \
                                               (uint32_t)strlen(a), 0},                     \
                            1},                                                              \
        on_hit, &(hits){0}, err, sizeof err))
    KT_CHECK(FEED("192.0.2.1") == 1);
    KT_CHECK(FEED("192.0.2.2") == 0);
    kz_buf_reset(&all);
    add_ind(&all, 2, "[ipv4-addr:value = '192.0.2.2']");
    KT_CHECK(load_text(e, all.data, NULL) == 1);
    KT_CHECK(FEED("192.0.2.2") == 1); /* the update is seen at the next feed */
    const char *gone[] = {idn(1)};
    KT_CHECK(kz_engine_remove(e, gone, 1, err, sizeof err) == 1);
    KT_CHECK(FEED("192.0.2.1") == 0);
    kz_engine_stream_rest(st);
    kz_engine_stream_rest(st); /* twice: nothing held */
    kz_engine_stream_rest(NULL);
    kz_buf_reset(&all);
    add_ind(&all, 3, "[ipv4-addr:value = '192.0.2.3']");
    KT_CHECK(load_text(e, all.data, NULL) == 1);
    KT_CHECK(FEED("192.0.2.3") == 1); /* after a rest, the current generation again */
    KT_CHECK(FEED("192.0.2.2") == 1);
#undef FEED
    kz_engine_stream_free(st);
    kz_buf_free(&all);
    kz_engine_free(e);
}

static void test_lookup_exact_batch(void)
{
    kz_engine_opts o = {.now_us = NOW, .merge_min = 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    enum { NV = 40, NI = 400 };
    char vals[NV + 10][64];
    for (int v = 0; v < NV + 10; v++) { /* the last ten are never loaded */
        switch (v % 4) {
        case 0: snprintf(vals[v], sizeof vals[v], "10.1.%d.%d", v / 7, v); break;
        case 1: snprintf(vals[v], sizeof vals[v], "host%d.example.org", v); break;
        case 2: snprintf(vals[v], sizeof vals[v], "2001:db8::%x", v + 1); break;
        default: snprintf(vals[v], sizeof vals[v], "%032x", v * 2654435761u); break;
        }
    }
    static const char *const paths[4] = {"ipv4-addr:value", "domain-name:value", "ipv6-addr:value",
                                         "file:hashes.MD5"};
    int live[NV + 10] = {0};
    int vof[NI];
    rng_state = 4242;
    kz_buf all;
    kz_buf_init(&all);
    char pat[160];
    for (int i = 0; i < NI; i++) {
        int v = (int)rnd(NV);
        vof[i] = v;
        snprintf(pat, sizeof pat, "[%s = '%s']", paths[v % 4], vals[v]);
        add_ind(&all, 1000 + i, pat);
        live[v]++;
    }
    KT_CHECK(load_text(e, all.data, NULL) == NI);
    const char *gone[NI / 10];
    char gb[NI / 10][64];
    for (int k = 0; k < NI / 10; k++) { /* every tenth: dead records of the base */
        snprintf(gb[k], sizeof gb[k], "%s", idn(1000 + 10 * k));
        gone[k] = gb[k];
        live[vof[10 * k]]--;
    }
    char err[256];
    KT_CHECK(kz_engine_remove(e, gone, NI / 10, err, sizeof err) == NI / 10);
    kz_buf_reset(&all);
    for (int i = 0; i < 20; i++) { /* a delta (20 * 8 < 360) */
        int v = (int)rnd(NV);
        snprintf(pat, sizeof pat, "[%s = '%s']", paths[v % 4], vals[v]);
        add_ind(&all, 5000 + i, pat);
        live[v]++;
    }
    KT_CHECK(load_text(e, all.data, NULL) == 20);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.base_records == NI && st.delta_records == 20, "base %zu delta %zu",
                 st.base_records, st.delta_records);
    enum { NQ = 200 };
    uint32_t qp[NQ], ql[NQ], cnt[NQ];
    const char *qv[NQ];
    int qwant[NQ];
    long pid[4];
    for (int k = 0; k < 4; k++)
        pid[k] = kz_engine_path(e, paths[k]);
    for (int q = 0; q < NQ; q++) {
        int v = q % 9 == 0 ? NV + (int)rnd(10) : (int)rnd(NV);
        /* one in eleven on another path than its own: no hit */
        int pk = q % 11 == 0 ? (v + 1) % 4 : v % 4;
        qp[q] = (uint32_t)pid[pk];
        qv[q] = vals[v];
        ql[q] = (uint32_t)strlen(vals[v]);
        qwant[q] = pk == v % 4 ? live[v] : 0;
    }
    const kz_engine_gen *g = kz_engine_acquire(e);
    size_t bad = 0, found = 0;
    for (size_t len = 1; len <= NQ; len += len < 40 ? 1 : 37) {
        memset(cnt, 0xff, sizeof cnt);
        kz_engine_lookup_exact_batch(g, qp, qv, ql, len, cnt);
        for (size_t q = 0; q < len; q++) {
            bad += cnt[q] != (uint32_t)qwant[q];
            found += cnt[q] > 0;
        }
    }
    for (int q = 0; q < NQ; q++)
        bad += kz_engine_lookup_exact(g, qp[q], qv[q], ql[q]) != (size_t)qwant[q];
    kz_engine_release(e, g);
    KT_CHECK_MSG(bad == 0, "%zu lookups differ from the model", bad);
    KT_CHECK(found > 1000);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* A lookup encodes its value only as the kinds of key its path holds (kz_e_key_hstr_of): the
 * kinds of both segments, so a value whose kind only the delta has on the path (an IPv6 text
 * on a domain path, an uppercase digest, a string on an address path) is still found, and a
 * value of a kind the path lacks is not. */
static void test_lookup_kinds_of_path(void)
{
    kz_engine_opts o = {.now_us = NOW, .merge_min = 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    static const char *const path[3] = {"domain-name:value", "file:hashes.MD5", "ipv4-addr:value"};
    /* 0-2 in the base, 3-5 in the delta, 6-7 never loaded */
    static const char *const val[8] = {"host.example.org",
                                       "192.0.2.1",
                                       "0123456789abcdef0123456789abcdef",
                                       "2001:db8::5",
                                       "0123456789ABCDEF0123456789ABCDEF",
                                       "not-an-address",
                                       "198.51.100.7",
                                       "fedcba9876543210fedcba9876543210"};
    static const int on[6] = {0, 0, 1, 0, 1, 2}; /* the path of each loaded value */
    kz_buf all;
    kz_buf_init(&all);
    char pat[160];
    for (int seg = 0; seg < 2; seg++) {
        kz_buf_reset(&all);
        for (int v = 3 * seg; v < 3 * seg + 3; v++) {
            snprintf(pat, sizeof pat, "[%s = '%s']", path[on[v]], val[v]);
            add_ind(&all, 100 + v, pat);
        }
        for (int k = 0; !seg && k < 40; k++) { /* a base large enough to keep a delta beside */
            snprintf(pat, sizeof pat, "[url:value = 'http://filler%d.example.net/']", k);
            add_ind(&all, 200 + k, pat);
        }
        KT_CHECK(load_text(e, all.data, NULL) == (seg ? 3 : 43));
    }
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.base_records == 43 && st.delta_records == 3, "base %zu delta %zu",
                 st.base_records, st.delta_records);
    enum { NQ = 3 * 8 };
    uint32_t qp[NQ], ql[NQ], cnt[NQ];
    const char *qv[NQ];
    size_t want[NQ];
    for (int p = 0; p < 3; p++)
        for (int v = 0; v < 8; v++) {
            int q = 8 * p + v;
            qp[q] = (uint32_t)kz_engine_path(e, path[p]);
            qv[q] = val[v];
            ql[q] = (uint32_t)strlen(val[v]);
            want[q] = v < 6 && on[v] == p;
        }
    const kz_engine_gen *g = kz_engine_acquire(e);
    kz_engine_lookup_exact_batch(g, qp, qv, ql, NQ, cnt);
    for (int q = 0; q < NQ; q++) {
        KT_CHECK_MSG(cnt[q] == want[q], "batch: %s on %s: %u, want %zu", qv[q], path[q / 8], cnt[q],
                     want[q]);
        size_t n1 = kz_engine_lookup_exact(g, qp[q], qv[q], ql[q]);
        KT_CHECK_MSG(n1 == want[q], "one: %s on %s: %zu, want %zu", qv[q], path[q / 8], n1,
                     want[q]);
    }
    kz_engine_release(e, g);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* A lookup hashes the text it is given and compares a candidate's stored form by its text,
 * where the matcher encodes the value as a key (binary for a canonical address or a one-case
 * digest): both answer alike for every text of an address or a digest, canonical or not
 * (leading zeros, uppercase, uncompressed, a dotted tail), on address paths and on paths of
 * any string, with the values in the base and in the delta. Each text is loaded once on each path,
 * so it is found exactly where it was loaded, never under another text of the same address. */
static void test_lookup_text_forms(void)
{
    static const char *const path[4] = {"ipv4-addr:value", "ipv6-addr:value", "file:name",
                                        "domain-name:value"};
    static const char *const form[] = {"10.0.0.1",
                                       "010.0.0.1",
                                       "10.0.0.01",
                                       "10.0.0.10",
                                       "0.0.0.0",
                                       "255.255.255.255",
                                       "2001:db8::1",
                                       "2001:DB8::1",
                                       "2001:db8:0:0:0:0:0:1",
                                       "2001:0db8::1",
                                       "::",
                                       "::1",
                                       "1::",
                                       "fe80::1:0:0:1",
                                       "fe80:0:0:1::1",
                                       "::ffff:1.2.3.4",
                                       "::ffff:102:304",
                                       "0123456789abcdef0123456789abcdef",
                                       "0123456789ABCDEF0123456789ABCDEF",
                                       "0123456789aBcdef0123456789abcdef",
                                       "01234567890123456789012345678901",
                                       "example.org"};
    enum { NF = sizeof form / sizeof *form, NQ = 4 * (NF + 1) };
    kz_engine_opts o = {.now_us = NOW, .merge_min = 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    kz_buf all;
    kz_buf_init(&all);
    char pat[160];
    for (int seg = 0; seg < 2; seg++) { /* even forms in the base, odd ones in the delta */
        kz_buf_reset(&all);
        for (int f = seg; f < NF; f += 2)
            for (int p = 0; p < 4; p++) {
                snprintf(pat, sizeof pat, "[%s = '%s']", path[p], form[f]);
                add_ind(&all, 100 + 4 * f + p, pat);
            }
        for (int k = 0; !seg && k < 400; k++) { /* a base large enough to keep a delta beside */
            snprintf(pat, sizeof pat, "[url:value = 'http://filler%d.example.net/']", k);
            add_ind(&all, 1000 + k, pat);
        }
        long want = 4 * ((NF + 1 - seg) / 2) + (seg ? 0 : 400);
        KT_CHECK(load_text(e, all.data, NULL) == want);
    }
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK(st.delta_records > 0);
    uint32_t qp[NQ], ql[NQ], cnt[NQ];
    const char *qv[NQ];
    const char *types[NQ];
    kz_engine_field fl[NQ];
    kz_engine_record rr[NQ];
    for (int q = 0; q < NQ; q++) {
        int p = q % 4, f = q / 4;
        qp[q] = (uint32_t)kz_engine_path(e, path[p]);
        qv[q] = f < NF ? form[f] : "10.0.0.2"; /* and one never loaded */
        ql[q] = (uint32_t)strlen(qv[q]);
        types[q] = kz_engine_path_type(e, qp[q]);
        fl[q] = (kz_engine_field){0, KZ_EF_STR, qp[q], qv[q], ql[q], 0};
        rr[q] = (kz_engine_record){NOW, NOW, 1, &types[q], 1, &fl[q], 1};
    }
    const kz_engine_gen *g = kz_engine_acquire(e);
    kz_engine_lookup_exact_batch(g, qp, qv, ql, NQ, cnt);
    size_t matched[NQ] = {0};
    char err[256];
    KT_CHECK(kz_engine_match_batch(g, rr, NQ, on_hit_count, matched, err, sizeof err) >= 0);
    for (int q = 0; q < NQ; q++) {
        size_t want = q / 4 < NF, one = kz_engine_lookup_exact(g, qp[q], qv[q], ql[q]);
        KT_CHECK_MSG(cnt[q] == want && one == want && matched[q] == want,
                     "'%s' on %s: batch %u, one %zu, matcher %zu, want %zu", qv[q], path[q % 4],
                     cnt[q], one, matched[q], want);
    }
    kz_engine_release(e, g);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* An index as full as a large one (buckets at load 0.8, one home in five spilling into the
 * next) and a few values that 4 to 53 indicators share: every loaded value is found as often
 * as it was loaded, by the batch (whose stages read the home bucket and the next, and leave
 * the rest of a longer walk to the count) and one at a time; values near them are not found. */
/* 4 to 53 copies of a value: runs that fill the home bucket, the next, and up to three more
 * (a simple bucket holds 15 entries), so that a walk goes on past buckets that hold only keys
 * of earlier homes. */
static int shared_copies(int d)
{
    return 4 + 7 * d;
}

static void test_lookup_exact_batch_dense(void)
{
    kz_engine_opts o = {.now_us = NOW, .merge_min = 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    enum { NI = 30000, NDUP = 8 };
    kz_buf all;
    kz_buf_init(&all);
    char pat[160];
    for (int i = 0; i < NI; i++) {
        if (i % 2)
            snprintf(pat, sizeof pat, "[ipv4-addr:value = '10.%d.%d.%d']", i >> 16, (i >> 8) & 255, i & 255);
        else
            snprintf(pat, sizeof pat, "[domain-name:value = 'h%d.example.org']", i);
        add_ind(&all, i, pat);
    }
    int nshared = 0;
    for (int d = 0; d < NDUP; d++)
        for (int c = 0; c < shared_copies(d); c++) { /* runs longer than the batch's windows */
            snprintf(pat, sizeof pat, "[domain-name:value = 'shared%d.example.net']", d);
            add_ind(&all, NI + nshared++, pat);
        }
    KT_CHECK(load_text(e, all.data, NULL) == NI + nshared);
    long p4 = kz_engine_path(e, "ipv4-addr:value"), pd = kz_engine_path(e, "domain-name:value");
    enum { NQ = 2 * NI + 2 * NDUP };
    uint32_t *qp = malloc(NQ * sizeof *qp), *ql = malloc(NQ * sizeof *ql), *cnt = malloc(NQ * sizeof *cnt);
    char (*qb)[48] = malloc(NQ * sizeof *qb);
    const char **qv = malloc(NQ * sizeof *qv);
    uint32_t *want = malloc(NQ * sizeof *want);
    KT_CHECK(qp && ql && cnt && qb && qv && want);
    if (!qp || !ql || !cnt || !qb || !qv || !want)
        goto out;
    for (int q = 0; q < NQ; q++) {
        int i = q / 2, absent = q % 2; /* each value, then one next to it that is not loaded */
        if (i < NI && i % 2) {
            snprintf(qb[q], sizeof qb[q], "%d.%d.%d.%d", absent ? 11 : 10, i >> 16, (i >> 8) & 255, i & 255);
            qp[q] = (uint32_t)p4;
        } else if (i < NI) {
            snprintf(qb[q], sizeof qb[q], "h%d.example.%s", i, absent ? "com" : "org");
            qp[q] = (uint32_t)pd;
        } else {
            snprintf(qb[q], sizeof qb[q], "shared%d.example.%s", i - NI, absent ? "org" : "net");
            qp[q] = (uint32_t)pd;
        }
        qv[q] = qb[q];
        ql[q] = (uint32_t)strlen(qb[q]);
        want[q] = absent ? 0 : i < NI ? 1 : (uint32_t)shared_copies(i - NI);
    }
    const kz_engine_gen *g = kz_engine_acquire(e);
    memset(cnt, 0xff, NQ * sizeof *cnt);
    kz_engine_lookup_exact_batch(g, qp, qv, ql, NQ, cnt);
    size_t bad = 0, bad1 = 0;
    for (int q = 0; q < NQ; q++) {
        if (cnt[q] != want[q] && bad++ < 5)
            fprintf(stderr, "batch: '%s' found %u times, want %u\n", qv[q], cnt[q], want[q]);
        bad1 += kz_engine_lookup_exact(g, qp[q], qv[q], ql[q]) != want[q];
    }
    kz_engine_release(e, g);
    KT_CHECK_MSG(bad == 0, "%zu of %d batch lookups wrong", bad, NQ);
    KT_CHECK_MSG(bad1 == 0, "%zu of %d single lookups wrong", bad1, NQ);
out:
    free(qp);
    free(ql);
    free(cnt);
    free(qb);
    free(qv);
    free(want);
    kz_buf_free(&all);
    kz_engine_free(e);
}

/* ---- records' entries ----------------------------------------------------------------------
 * A segment keeps no array of entries by record: a probe has a record's entry from the index,
 * and whatever else needs it (a hit found through the complex index, a merge, a removal's
 * count) walks to it from its sample (KZ_E_RSAMP records apart). Entries of a kind of one
 * length (addresses, networks) have no length byte. Every hit of a mixed set (every kind of
 * entry, complex ones between, names on some) must report its own indicator, name and pattern:
 * in the base, with dead records in it, after a merge, and in a delta. */

enum { ER_N = 9 * KZ_E_RSAMP + 5 };

static void er_pattern(int i, char *p, size_t n)
{
    int a = i / 250, b = i % 250;
    switch (i % 7) {
    case 0:
        snprintf(p, n, "[ipv4-addr:value = '10.%d.%d.1']", a, b);
        break;
    case 1:
        snprintf(p, n, "[ipv6-addr:value = '2001:db8::%x:%x']", a + 1, b + 1);
        break;
    case 2: /* the rank index */
        snprintf(p, n, "[ipv4-addr:value ISSUBSET '10.%d.%d.0/24']", 100 + a, b);
        break;
    case 3: /* the hash index */
        snprintf(p, n, "[ipv4-addr:value ISSUBSET '10.%d.%d.4/30']", 150 + a, b);
        break;
    case 4:
        snprintf(p, n, "[domain-name:value = 'n%d.example.com']", i);
        break;
    case 5:
        snprintf(p, n, "[file:hashes.'SHA-256' = '%064x']", i);
        break;
    default: /* complex: the evaluator confirms it */
        snprintf(p, n, "[ipv4-addr:value = '10.%d.%d.9' AND ipv4-addr:value != '1.1.1.1']", 200 + a,
                 b);
        break;
    }
}

/* An observed-data set that only indicator i's pattern matches. */
static kz_obs_set *er_obs(int i)
{
    int a = i / 250, b = i % 250;
    char o[256], od[768];
    switch (i % 7) {
    case 0:
    case 2:
    case 3:
    case 6: {
        int net = i % 7 == 0 ? a : i % 7 == 2 ? 100 + a : i % 7 == 3 ? 150 + a : 200 + a;
        int host = i % 7 == 0 ? 1 : i % 7 == 2 ? 77 : i % 7 == 3 ? 6 : 9;
        snprintf(o, sizeof o, "{\"type\":\"ipv4-addr\",\"value\":\"10.%d.%d.%d\"}", net, b, host);
        break;
    }
    case 1:
        snprintf(o, sizeof o, "{\"type\":\"ipv6-addr\",\"value\":\"2001:db8::%x:%x\"}", a + 1,
                 b + 1);
        break;
    case 4:
        snprintf(o, sizeof o, "{\"type\":\"domain-name\",\"value\":\"n%d.example.com\"}", i);
        break;
    default:
        snprintf(o, sizeof o, "{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"%064x\"}}", i);
        break;
    }
    snprintf(od, sizeof od,
             "[{\"type\":\"observed-data\",\"id\":\"observed-data--00000000-0000-4000-8000-"
             "000000000001\",\"first_observed\":\"2025-01-01T00:00:00Z\",\"last_observed\":"
             "\"2025-01-01T00:00:00Z\",\"number_observed\":1,\"objects\":{\"0\":%s}}]",
             o);
    return obs_from(od);
}

#define ER_T0 1717200000000000ll /* 2024-06-01T00:00:00Z: indicator 0's modified time */

/* Indicator i's modified time (us): a segment stores a time other than its first record's as
 * a difference after the entry, so these differ from indicator 0's by whole seconds, whole
 * milliseconds before it, microseconds and days after it, and some are the same. */
static int64_t er_modified(int i)
{
    switch (i % 5) {
    case 0:
        return ER_T0;
    case 1:
        return ER_T0 + 1000000ll * i;
    case 2:
        return ER_T0 - 129600000000ll + 250000ll * i; /* 1.5 days before, whole ms */
    case 3:
        return ER_T0 + 123457ll * i;
    default:
        return ER_T0 + 86400000000ll * (i % 180);
    }
}

/* Indicator n with pattern and modified time mod (us), name when given. */
static void er_ind(kz_buf *all, int n, const char *pattern, int64_t mod, const char *name)
{
    char b[2048], ts[64], x[256];
    time_t sec = (time_t)(mod / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%06lldZ", (long long)(mod % 1000000));
    snprintf(x, sizeof x, "\"name\":\"%s\"", name ? name : "");
    kz_buf_puts(all, ind_mod(b, sizeof b, n, pattern, ts, name ? x : NULL));
}

/* Indicators lo..hi-1 with names on every third, one JSON array. */
static void er_load(kz_engine *e, int lo, int hi)
{
    kz_buf all = {0};
    kz_buf_putc(&all, '[');
    for (int i = lo; i < hi; i++) {
        char p[256], x[64];
        er_pattern(i, p, sizeof p);
        snprintf(x, sizeof x, "name %d", i);
        er_ind(&all, i, p, er_modified(i), i % 3 == 0 ? x : NULL);
        kz_buf_putc(&all, i + 1 < hi ? ',' : ']');
    }
    char err[256];
    long n = kz_engine_load(e, all.data, all.len, NULL, err, sizeof err);
    KT_CHECK_MSG(n == hi - lo, "loaded %ld of %d: %s", n, hi - lo, err);
    kz_buf_free(&all);
}

/* Every indicator lo..hi-1 hits its observation alone, with its own name and pattern (gone:
 * the removed ones, which hit nothing); the count of wrong answers. */
static size_t er_check(kz_engine *e, int lo, int hi, const bool *gone, const char *where)
{
    size_t bad = 0;
    for (int i = lo; i < hi; i++) {
        kz_obs_set *s = er_obs(i);
        hits h;
        h.n = 0; /* match1 clears the rest */
        long r = s ? match1(e, s, 0, &h) : -1;
        char p[256], nm[64];
        er_pattern(i, p, sizeof p);
        snprintf(nm, sizeof nm, "name %d", i);
        bool ok = gone && gone[i] ? r == 0 && h.n == 0
                                  : r == 1 && h.n == 1 && strcmp(h.ids[0], idn(i)) == 0 &&
                                        strcmp(h.pattern[0], p) == 0 && h.fired[0][0] &&
                                        strcmp(h.name[0], i % 3 == 0 ? nm : "") == 0;
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s: indicator %d: %ld hits, first %s '%s' name '%s'\n", where, i, r,
                    h.n ? h.ids[0] : "-", h.n ? h.pattern[0] : "", h.n ? h.name[0] : "");
        kz_obs_set_free(s);
    }
    /* each live record's modified time, read back from its entry in whichever segment */
    const kz_engine_gen *g = kz_engine_acquire(e);
    for (int i = lo; i < hi; i++) {
        kz_uuid u;
        if (kz_uuid_parse(idn(i) + 11, &u) != 0) {
            bad++;
            continue;
        }
        long rb = kz_e_seg_find(g->base, u.b), rd = kz_e_seg_find(g->delta, u.b);
        bool dead = rb >= 0 && g->dead && (g->dead[rb / 64] >> (rb % 64) & 1);
        int64_t got = rd >= 0            ? kz_e_seg_modified(g->delta, (size_t)rd)
                      : rb >= 0 && !dead ? kz_e_seg_modified(g->base, (size_t)rb)
                                         : INT64_MIN;
        bool ok = gone && gone[i] ? got == INT64_MIN : got == er_modified(i);
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s: indicator %d: modified %lld, want %lld\n", where, i,
                    (long long)got, (long long)er_modified(i));
    }
    kz_engine_release(e, g);
    return bad;
}

static void test_entries_by_record(void)
{
    /* merge_min 1: each load becomes (or merges into) the base */
    kz_engine_opts o = {.now_us = NOW, .merge_min = 1, .merge_foreground = true};
    kz_engine *e = kz_engine_new(&o);
    KT_CHECK(e != NULL);
    bool gone[ER_N + 40] = {false};
    er_load(e, 0, ER_N);
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.base_records == ER_N && st.delta_records == 0, "base %zu, delta %zu",
                 st.base_records, st.delta_records);
    size_t bad = er_check(e, 0, ER_N, gone, "base");
    KT_CHECK_MSG(bad == 0, "base: %zu wrong", bad);
    /* every fifth removed: dead records of the base, counted by kind from their entries */
    const char *ids[ER_N];
    size_t nr = 0, nrc = 0;
    for (int i = 0; i < ER_N; i += 5) {
        ids[nr++] = idn(i);
        gone[i] = true;
        nrc += i % 7 == 6;
        char err[256];
        KT_CHECK(kz_engine_remove(e, &ids[nr - 1], 1, err, sizeof err) == 1);
    }
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.live == ER_N - nr && st.base_records == ER_N, "live %zu", st.live);
    size_t ncplx = 0;
    for (int i = 0; i < ER_N; i++)
        ncplx += i % 7 == 6;
    KT_CHECK_MSG(st.confirmed == ncplx - nrc, "confirmed %zu, want %zu", st.confirmed, ncplx - nrc);
    bad = er_check(e, 0, ER_N, gone, "dead");
    KT_CHECK_MSG(bad == 0, "with dead records: %zu wrong", bad);
    /* a merge: the live records are copied into a new base, in order */
    er_load(e, ER_N, ER_N + 40);
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.merges >= 1 && st.base_records == ER_N + 40 - nr && st.delta_records == 0,
                 "merges %zu, base %zu, delta %zu", st.merges, st.base_records, st.delta_records);
    bad = er_check(e, 0, ER_N + 40, gone, "merged");
    KT_CHECK_MSG(bad == 0, "merged: %zu wrong", bad);
    kz_engine_free(e);
    /* the same set in a delta (never merged) */
    kz_engine_opts od = {.now_us = NOW, .merge_min = 1000000};
    e = kz_engine_new(&od);
    er_load(e, 0, ER_N);
    kz_engine_get_stats(e, &st);
    KT_CHECK_MSG(st.delta_records == ER_N, "delta %zu", st.delta_records);
    bad = er_check(e, 0, ER_N, NULL, "delta");
    KT_CHECK_MSG(bad == 0, "delta: %zu wrong", bad);
    kz_engine_free(e);
}

KT_MAIN(KT(test_entries_by_record), KT(test_short_networks), KT(test_many_step_names),
        KT(test_hex_case), KT(test_stream_follows_updates), KT(test_lookup_exact_batch),
        KT(test_lookup_kinds_of_path), KT(test_lookup_text_forms),
        KT(test_lookup_exact_batch_dense), KT(test_batch_base_and_delta), KT(test_long_value_texts),
        KT(test_record_ref_lists), KT(test_record_shapes_memo), KT(test_record_shapes_two),
        KT(test_cidr_brute_force), KT(test_basic_hits_and_context), KT(test_context_interleaved),
        KT(test_context_table_full), KT(test_update_tables_full), KT(test_versions_validity),
        KT(test_bad_input), KT(test_records), KT(test_regex_index), KT(test_ref_index),
        KT(test_differential_single), KT(test_differential_stream))
