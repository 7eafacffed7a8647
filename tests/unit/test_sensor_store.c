/*
 * Unit tests of the sensor's indicator store (lib/sensor/store.c): the top-level id scan,
 * counting and the torn-tail cut at open, compaction to one line per id that loads into the
 * same engine state (newest versions live, revoked and expired ones kept as tombstones that
 * refuse an older version arriving later, a refused newest version not hiding the older one
 * the engine uses), and a crash simulated at every stage of a compaction.
 */
#include "kt.h"

#include <kizuna/engine.h>
#include <kizuna/sensor.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* One indicator line: id number k, a version, [domain-name:value = 'dom'], extra members. */
static void ind(kz_buf *b, int k, const char *modified, const char *dom, const char *extra)
{
    kz_buf_printf(b,
                  "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                  "\"id\":\"indicator--00000000-0000-4000-8000-%012d\","
                  "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"%s\","
                  "\"pattern\":\"[domain-name:value = '%s']\",\"pattern_type\":\"stix\","
                  "\"valid_from\":\"2020-01-01T00:00:00Z\"%s%s}\n",
                  k, modified, dom, extra && *extra ? "," : "", extra ? extra : "");
}

/* The engine a fresh sensor builds from a file (wall clock). */
static kz_engine *load(const char *path)
{
    size_t n;
    char *t = slurp(path, &n);
    kz_engine *e = kz_engine_new(NULL);
    char err[256];
    KT_CHECK(t && e && kz_engine_load(e, t, n, NULL, err, sizeof err) >= 0);
    free(t);
    return e;
}

static size_t hits(kz_engine *e, const char *dom)
{
    long p = kz_engine_path(e, "domain-name:value");
    const kz_engine_gen *g = kz_engine_acquire(e);
    size_t n = kz_engine_lookup_exact(g, (uint32_t)p, dom, strlen(dom));
    kz_engine_release(e, g);
    return n;
}

/* ---- the id scan ------------------------------------------------------------------------ */

static void test_line_id(void)
{
    struct {
        const char *line, *id;
    } cases[] = {
        {"{\"type\":\"indicator\",\"id\":\"indicator--x\"}", "indicator--x"},
        {" { \"a\" : {\"id\":\"nested\"}, \"b\":[1,{\"id\":\"n2\"},\"]\"], \"id\" : \"top\" }", "top"},
        {"{\"s\":\"quote \\\" and } and \\\\\",\"id\":\"esc\"}", "esc"},
        {"{\"n\":12.5e3,\"t\":true,\"z\":null,\"id\":\"after-scalars\"}", "after-scalars"},
        {"{\"a\":{\"id\":\"only-nested\"}}", NULL},
        {"[{\"id\":\"in-array\"}]", NULL},
        {"{\"id\":7}", NULL},
        {"{\"id\":\"unterminated", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 0;
        const char *id = kz_sensor_store_line_id(cases[i].line, strlen(cases[i].line), &n);
        if (!cases[i].id) {
            KT_CHECK_MSG(id == NULL, "case %zu", i);
        } else {
            KT_CHECK_MSG(id && n == strlen(cases[i].id) && memcmp(id, cases[i].id, n) == 0,
                         "case %zu: %.*s", i, id ? (int)n : 6, id ? id : "(null)");
        }
    }
}

/* ---- opening: counts, the torn tail -------------------------------------------------------- */

static void test_open_counts_and_torn_tail(void)
{
    char p[512], err[256] = "";
    path_in(p, sizeof p, "open.jsonl");
    kz_buf b;
    kz_buf_init(&b);
    ind(&b, 1, "2021-01-01T00:00:00.000Z", "a1.example", NULL);
    ind(&b, 1, "2022-01-01T00:00:00.000Z", "a2.example", NULL);
    ind(&b, 2, "2021-01-01T00:00:00.000Z", "b1.example", NULL);
    size_t whole = b.len;
    kz_buf_puts(&b, "{\"type\":\"indicator\",\"id\":\"indicator--torn"); /* a crash mid-line */
    spit(p, b.data);
    kz_sensor_store *st = kz_sensor_store_open(p, err, sizeof err);
    KT_CHECK_MSG(st != NULL, "%s", err);
    if (!st)
        return;
    KT_CHECK(kz_sensor_store_lines(st) == 3);
    KT_CHECK(kz_sensor_store_ids(st) == 2);
    struct stat sb;
    KT_CHECK(stat(p, &sb) == 0 && (size_t)sb.st_size == whole); /* the torn tail is cut */
    /* appends after the cut start a line of their own */
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator", "spec_version",
                          "2.1", "id", "indicator--00000000-0000-4000-8000-000000000003",
                          "created", "2020-01-01T00:00:00.000Z", "modified",
                          "2021-01-01T00:00:00.000Z", "pattern",
                          "[domain-name:value = 'c1.example']", "valid_from",
                          "2020-01-01T00:00:00Z");
    KT_CHECK(kz_sensor_store_append(st, o) == 0);
    KT_CHECK(kz_sensor_store_append(st, o) == 0);
    json_decref(o);
    KT_CHECK(kz_sensor_store_sync(st, err, sizeof err) == 0);
    KT_CHECK(kz_sensor_store_lines(st) == 5 && kz_sensor_store_ids(st) == 3);
    KT_CHECK(!kz_sensor_store_should_compact(st, 1)); /* 5 lines, 3 ids: not twice */
    kz_sensor_store_close(st);
    st = kz_sensor_store_open(p, err, sizeof err);
    KT_CHECK(st && kz_sensor_store_lines(st) == 5 && kz_sensor_store_ids(st) == 3);
    kz_sensor_store_close(st);
    kz_engine *e = load(p);
    KT_CHECK(hits(e, "a2.example") == 1 && hits(e, "a1.example") == 0);
    KT_CHECK(hits(e, "b1.example") == 1 && hits(e, "c1.example") == 1);
    kz_engine_free(e);
    kz_buf_free(&b);
}

/* A last object that only lacks its newline is ended, not cut; a file that is not JSON lines
 * (a bundle spread over lines) is neither cut nor compacted. */
static void test_open_whole_tail_and_not_jsonl(void)
{
    char p[512], err[256] = "";
    path_in(p, sizeof p, "whole-tail.jsonl");
    kz_buf b;
    kz_buf_init(&b);
    ind(&b, 1, "2021-01-01T00:00:00.000Z", "a1.example", NULL);
    ind(&b, 2, "2021-01-01T00:00:00.000Z", "b1.example", NULL);
    b.data[--b.len] = 0; /* no newline at the end */
    spit(p, b.data);
    kz_sensor_store *st = kz_sensor_store_open(p, err, sizeof err);
    KT_CHECK(st && kz_sensor_store_lines(st) == 2 && kz_sensor_store_ids(st) == 2);
    kz_sensor_store_close(st);
    char *t = slurp(p, NULL);
    KT_CHECK(t && strlen(t) == b.len + 1 && t[b.len] == '\n');
    free(t);

    path_in(p, sizeof p, "bundle.json");
    const char *bundle =
        "{\n  \"type\": \"bundle\",\n  \"id\": \"bundle--00000000-0000-4000-8000-000000000001\",\n"
        "  \"objects\": [\n    {\"type\": \"indicator\"}\n  ]\n}";
    spit(p, bundle);
    st = kz_sensor_store_open(p, err, sizeof err);
    KT_CHECK(st != NULL);
    KT_CHECK(st && !kz_sensor_store_should_compact(st, 1));
    KT_CHECK(st && kz_sensor_store_compact(st, NULL, NULL, NULL, NULL, err, sizeof err) < 0);
    kz_sensor_store_close(st);
    t = slurp(p, NULL);
    KT_CHECK(t && strcmp(t, bundle) == 0); /* untouched */
    free(t);
    kz_buf_free(&b);
}

/* ---- compaction ------------------------------------------------------------------------ */

#define NID 40
/* ids 0..NID-1 in three versions; ids 0..7 revoked last; ids 8..11 expired last; garbage. */
static void build_history(kz_buf *b)
{
    static const char *ver[3] = {"2021-01-01T00:00:00.000Z", "2022-01-01T00:00:00.000Z",
                                 "2023-01-01T00:00:00.000Z"};
    char dom[64];
    for (int v = 0; v < 3; v++)
        for (int k = 0; k < NID; k++) {
            snprintf(dom, sizeof dom, "v%d-i%d.example", v + 1, k);
            ind(b, k, ver[v], dom, NULL);
        }
    for (int k = 0; k < 8; k++) {
        snprintf(dom, sizeof dom, "v3-i%d.example", k);
        ind(b, k, "2024-01-01T00:00:00.000Z", dom, "\"revoked\":true");
    }
    for (int k = 8; k < 12; k++) {
        snprintf(dom, sizeof dom, "v3-i%d.example", k);
        ind(b, k, "2024-01-01T00:00:00.000Z", dom, "\"valid_until\":\"2020-06-01T00:00:00Z\"");
    }
    kz_buf_puts(b, "not json at all\n");
    kz_buf_puts(b, "{\"type\":\"identity\",\"id\":\"identity--00000000-0000-4000-8000-"
                   "000000000001\",\"name\":\"x\"}\n");
}

/* The alerts a loaded file gives: the newest version of live ids only. */
static void check_state(kz_engine *e, const char *what)
{
    char dom[64];
    int bad = 0;
    for (int k = 0; k < NID; k++)
        for (int v = 1; v <= 3; v++) {
            snprintf(dom, sizeof dom, "v%d-i%d.example", v, k);
            size_t want = v == 3 && k >= 12;
            if (hits(e, dom) != want) {
                bad++;
                fprintf(stderr, "%s: %s hits %zu, want %zu\n", what, dom, hits(e, dom), want);
            }
        }
    KT_CHECK_MSG(bad == 0, "%s", what);
}

static void test_compact_one_line_per_id(void)
{
    char p[512], err[256] = "";
    path_in(p, sizeof p, "hist.jsonl");
    kz_buf b;
    kz_buf_init(&b);
    build_history(&b);
    spit(p, b.data);
    kz_engine *before = load(p);
    check_state(before, "whole file");
    kz_engine_free(before);

    kz_sensor_store *st = kz_sensor_store_open(p, err, sizeof err);
    KT_CHECK_MSG(st != NULL, "%s", err);
    if (!st)
        return;
    KT_CHECK(kz_sensor_store_lines(st) == 3 * NID + 12 + 2);
    KT_CHECK(kz_sensor_store_ids(st) == NID + 1); /* the identity has an id too */
    KT_CHECK(!kz_sensor_store_should_compact(st, 1000)); /* below the minimum size */
    KT_CHECK(kz_sensor_store_should_compact(st, 10));
    kz_sensor_compact_stats cs;
    KT_CHECK_MSG(kz_sensor_store_compact(st, NULL, NULL, NULL, &cs, err, sizeof err) == 0, "%s",
                 err);
    KT_CHECK(cs.lines_in == 3 * NID + 12 + 2 && cs.lines_out == NID);
    KT_CHECK(kz_sensor_store_lines(st) == NID);
    KT_CHECK(!kz_sensor_store_should_compact(st, 10));
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.compact", p);
    KT_CHECK(access(tmp, F_OK) != 0);

    /* one line per id, each the newest version, revoked and expired ones included */
    char *t = slurp(p, NULL);
    KT_CHECK(t && count_lines(t) == NID);
    for (int k = 0; t && k < NID; k++) {
        char id[80];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d\"", k);
        const char *at = strstr(t, id);
        KT_CHECK_MSG(at && !strstr(at + 1, id), "id %d once", k);
        const char *eol = at ? strchr(at, '\n') : NULL;
        const char *want = k < 12 ? "2024-01-01" : "2023-01-01";
        const char *m = at ? strstr(at, "\"modified\":\"") : NULL;
        KT_CHECK_MSG(m && m < eol && strncmp(m + 12, want, 10) == 0, "id %d newest", k);
        if (k < 8)
            KT_CHECK_MSG(strstr(at, "\"revoked\":true") < eol, "id %d tombstone", k);
    }
    free(t);
    kz_engine *after = load(p);
    check_state(after, "compacted file");
    kz_engine_free(after);

    /* an older version arriving later (a re-post at the hub) resurrects nothing: neither a
     * revoked id, nor an expired one, nor a live one, after a restart from the file */
    json_t *old[3];
    int ks[3] = {3, 9, 20};
    for (int i = 0; i < 3; i++) {
        char id[80], dom[64], pat[100];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", ks[i]);
        snprintf(dom, sizeof dom, "old-i%d.example", ks[i]);
        snprintf(pat, sizeof pat, "[domain-name:value = '%s']", dom);
        old[i] = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator",
                           "spec_version", "2.1", "id", id, "created",
                           "2020-01-01T00:00:00.000Z", "modified", "2022-06-01T00:00:00.000Z",
                           "pattern", pat, "pattern_type", "stix", "valid_from",
                           "2020-01-01T00:00:00Z");
        KT_CHECK(kz_sensor_store_append(st, old[i]) == 0);
        json_decref(old[i]);
    }
    KT_CHECK(kz_sensor_store_sync(st, err, sizeof err) == 0);
    kz_sensor_store_close(st);
    kz_engine *later = load(p);
    check_state(later, "compacted file + older versions");
    KT_CHECK(hits(later, "old-i3.example") == 0 && hits(later, "old-i9.example") == 0 &&
             hits(later, "old-i20.example") == 0);
    kz_engine_free(later);
    /* and compacting again drops those older lines */
    st = kz_sensor_store_open(p, err, sizeof err);
    KT_CHECK(st && kz_sensor_store_compact(st, NULL, NULL, NULL, &cs, err, sizeof err) == 0 &&
             cs.lines_out == NID);
    kz_sensor_store_close(st);
    kz_buf_free(&b);
}

/* A newest version the engine refuses does not hide the older one it uses; equal versions
 * resolve as the loader does (the last line). */
static void test_compact_refused_and_ties(void)
{
    char p[512], err[256] = "";
    path_in(p, sizeof p, "refused.jsonl");
    kz_buf b;
    kz_buf_init(&b);
    ind(&b, 1, "2021-01-01T00:00:00.000Z", "a1.example", NULL);
    ind(&b, 1, "2022-01-01T00:00:00.000Z", "a2.example' AND", NULL); /* invalid pattern */
    ind(&b, 2, "2021-01-01T00:00:00.000Z", "b1.example", NULL);
    /* refused pattern, but expired: to an engine at the wall clock it is a tombstone */
    ind(&b, 2, "2022-01-01T00:00:00.000Z", "b2.example' AND",
        "\"valid_until\":\"2020-06-01T00:00:00Z\"");
    ind(&b, 3, "2021-01-01T00:00:00.000Z", "c1.example", NULL);
    ind(&b, 3, "2021-01-01T00:00:00.000Z", "c2.example", NULL); /* same version: last wins */
    ind(&b, 4, "2021-01-01T00:00:00.000Z", "d1.example' AND", NULL); /* never valid */
    spit(p, b.data);
    kz_engine *e0 = load(p);
    KT_CHECK(hits(e0, "a1.example") == 1 && hits(e0, "b1.example") == 0);
    KT_CHECK(hits(e0, "c2.example") == 1 && hits(e0, "c1.example") == 0);
    kz_engine_free(e0);
    kz_sensor_store *st = kz_sensor_store_open(p, err, sizeof err);
    kz_sensor_compact_stats cs;
    KT_CHECK_MSG(st && kz_sensor_store_compact(st, NULL, NULL, NULL, &cs, err, sizeof err) == 0,
                 "%s", err);
    kz_sensor_store_close(st);
    /* a1, b1 + its expired refused successor, c2 */
    KT_CHECK(cs.lines_in == 7 && cs.lines_out == 4);
    char *t = slurp(p, NULL);
    KT_CHECK(t && strstr(t, "a1.example") && !strstr(t, "a2.example"));
    KT_CHECK(t && strstr(t, "b1.example") && strstr(t, "b2.example"));
    KT_CHECK(t && strstr(t, "c2.example") && !strstr(t, "c1.example") && !strstr(t, "d1"));
    free(t);
    kz_engine *e1 = load(p);
    KT_CHECK(hits(e1, "a1.example") == 1 && hits(e1, "b1.example") == 0);
    KT_CHECK(hits(e1, "c2.example") == 1 && hits(e1, "c1.example") == 0);
    kz_engine_free(e1);
    kz_buf_free(&b);
}

/* ---- a crash at every stage ------------------------------------------------------------- */

static int stop_at;
static int hook(void *ctx, int stage)
{
    (void)ctx;
    return stage == stop_at;
}

static void test_compact_crash_stages(void)
{
    kz_buf b;
    kz_buf_init(&b);
    build_history(&b);
    for (stop_at = KZ_SENSOR_COMPACT_HALF_WRITTEN; stop_at <= KZ_SENSOR_COMPACT_RENAMED;
         stop_at++) {
        char p[512], tmp[600], err[256] = "";
        snprintf(p, sizeof p, "%s/crash%d.jsonl", dir, stop_at);
        snprintf(tmp, sizeof tmp, "%s.compact", p);
        spit(p, b.data);
        kz_sensor_store *st = kz_sensor_store_open(p, err, sizeof err);
        KT_CHECK(st != NULL);
        if (!st)
            continue;
        KT_CHECK(kz_sensor_store_compact(st, NULL, hook, NULL, NULL, err, sizeof err) < 0);
        kz_sensor_store_close(st);
        size_t n = 0;
        char *t = slurp(p, &n);
        if (stop_at < KZ_SENSOR_COMPACT_RENAMED) {
            /* the old file untouched, the new one beside it */
            KT_CHECK_MSG(t && n == b.len && memcmp(t, b.data, n) == 0, "stage %d", stop_at);
            KT_CHECK_MSG(access(tmp, F_OK) == 0, "stage %d leaves %s", stop_at, tmp);
        } else {
            KT_CHECK(t && count_lines(t) == NID && access(tmp, F_OK) != 0);
        }
        free(t);
        kz_engine *e = load(p);
        check_state(e, "after a crash");
        kz_engine_free(e);
        /* the restart removes the leftover and can compact */
        st = kz_sensor_store_open(p, err, sizeof err);
        KT_CHECK(st && access(tmp, F_OK) != 0);
        kz_sensor_compact_stats cs;
        KT_CHECK(st && kz_sensor_store_compact(st, NULL, NULL, NULL, &cs, err, sizeof err) == 0 &&
                 cs.lines_out == NID);
        kz_sensor_store_close(st);
        e = load(p);
        check_state(e, "after a crash and a compaction");
        kz_engine_free(e);
    }
    kz_buf_free(&b);
}

static void test_errors(void)
{
    char err[256] = "";
    kz_sensor_store *st = kz_sensor_store_open("/nonexistent-dir/x/indicators.jsonl", err,
                                               sizeof err);
    KT_CHECK(st == NULL && strstr(err, "nonexistent"));
}

static void test_zz_cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    KT_CHECK(system(cmd) == 0);
}

static void setup(void) __attribute__((constructor));
static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/kz-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        abort();
}

KT_MAIN(KT(test_line_id), KT(test_open_counts_and_torn_tail),
        KT(test_open_whole_tail_and_not_jsonl), KT(test_compact_one_line_per_id),
        KT(test_compact_refused_and_ties), KT(test_compact_crash_stages), KT(test_errors),
        KT(test_zz_cleanup))
