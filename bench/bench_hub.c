/*
 * bench_hub: throughput and latency of a running `kizuna hub` over HTTP (libcurl).
 *
 *   bench_hub URL USER:PASSWORD COLLECTION [N [CLIENTS [SECONDS]]]
 *
 * 1. ingest: N small indicators POSTed as 1,000-object envelopes by 4 writers -> objects/s;
 * 2. read: one client pages through the whole collection with limit=1000 and `next`
 *    -> objects/s, and the median page time of the first and of the last tenth of the pages
 *    (a page's cost must not depend on its position);
 * 3. concurrent: CLIENTS clients fetch pages at random positions (added_after) for SECONDS
 *    -> pages/s, objects/s, p50/p99 latency.
 * Prints medians and the machine (uname, CPUs). Run it through bench/bench_hub.sh, which
 * starts a hub on loopback. Talks only to URL.
 */
#include "bench_util.h"
#include <curl/curl.h>
#include <kizuna/core.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *base, *userpwd, *coll;
static long total_n;

typedef struct {
    kz_buf body;
    char last[64];
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    kz_buf_append(&r->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = sz * n;
    static const char h[] = "X-TAXII-Date-Added-Last:";
    if (len > sizeof h && strncasecmp(p, h, sizeof h - 1) == 0) {
        size_t k = 0;
        for (size_t i = sizeof h - 1; i < len && k + 1 < sizeof r->last; i++)
            if (p[i] != ' ' && p[i] != '\r' && p[i] != '\n')
                r->last[k++] = p[i];
        r->last[k] = 0;
    }
    return len;
}

static CURL *client(struct curl_slist **hdrs)
{
    CURL *c = curl_easy_init();
    *hdrs = curl_slist_append(NULL, "Accept: application/taxii+json;version=2.1");
    *hdrs = curl_slist_append(*hdrs, "Content-Type: application/taxii+json;version=2.1");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); /* loopback bench with a self-signed cert */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    return c;
}

static long request(CURL *c, const char *url, const char *post, size_t postlen, reply *r)
{
    kz_buf_reset(&r->body);
    r->last[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)postlen);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        return -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* ---- ingest ----------------------------------------------------------------------------- */

static long next_batch;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int failures;

static void *writer(void *arg)
{
    (void)arg;
    struct curl_slist *h;
    CURL *c = client(&h);
    reply r;
    kz_buf_init(&r.body);
    kz_buf env;
    kz_buf_init(&env);
    char url[512];
    snprintf(url, sizeof url, "%s/api/collections/%s/objects/", base, coll);
    for (;;) {
        pthread_mutex_lock(&mu);
        long b = next_batch++;
        pthread_mutex_unlock(&mu);
        if (b * 1000 >= total_n)
            break;
        kz_buf_reset(&env);
        kz_buf_puts(&env, "{\"objects\":[");
        for (long i = b * 1000; i < (b + 1) * 1000 && i < total_n; i++)
            kz_buf_printf(&env,
                          "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                          "\"id\":\"indicator--%08lx-0000-4000-8000-%012lx\","
                          "\"created\":\"2020-01-01T00:00:00.000Z\","
                          "\"modified\":\"2020-01-01T00:00:00.000Z\","
                          "\"pattern\":\"[ipv4-addr:value = '10.%ld.%ld.%ld']\","
                          "\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\"}",
                          i % 1000 ? "," : "", (unsigned long)(i >> 20), (unsigned long)i,
                          (i >> 16) & 255, (i >> 8) & 255, i & 255);
        kz_buf_puts(&env, "]}");
        if (request(c, url, env.data, env.len, &r) != 202) {
            pthread_mutex_lock(&mu);
            failures++;
            pthread_mutex_unlock(&mu);
        }
    }
    kz_buf_free(&env);
    kz_buf_free(&r.body);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return NULL;
}

/* ---- reads ------------------------------------------------------------------------------ */

static char (*positions)[64];
static size_t npositions;
static volatile int stop_flag;

typedef struct {
    double *lat;
    size_t n, cap;
    long objects;
    unsigned seed;
} rstats;

static long count_objects(const char *body)
{
    /* every stored object starts with {"created": in canonical form; count "\"type\":" */
    long n = 0;
    for (const char *p = body; (p = strstr(p, "\"type\":\"indicator\"")); p++)
        n++;
    return n;
}

static void *reader(void *arg)
{
    rstats *st = arg;
    struct curl_slist *h;
    CURL *c = client(&h);
    reply r;
    kz_buf_init(&r.body);
    char url[700];
    while (!stop_flag) {
        size_t k = (size_t)rand_r(&st->seed) % npositions;
        snprintf(url, sizeof url, "%s/api/collections/%s/objects/?limit=1000%s%s", base, coll,
                 k ? "&added_after=" : "", k ? positions[k - 1] : "");
        int64_t t0 = kz_time_now_us();
        long code = request(c, url, NULL, 0, &r);
        double ms = (double)(kz_time_now_us() - t0) / 1000.0;
        if (code != 200)
            continue;
        if (st->n == st->cap) {
            st->cap = st->cap ? 2 * st->cap : 1024;
            st->lat = realloc(st->lat, st->cap * sizeof *st->lat);
        }
        st->lat[st->n++] = ms;
        st->objects += count_objects(r.body.data);
    }
    kz_buf_free(&r.body);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_hub URL USER:PASSWORD COLLECTION [N [CLIENTS [SECONDS]]]\n");
        return 2;
    }
    base = argv[1];
    userpwd = argv[2];
    coll = argv[3];
    total_n = argc > 4 ? atol(argv[4]) : 1000000;
    int clients = argc > 5 ? atoi(argv[5]) : 64;
    int seconds = argc > 6 ? atoi(argv[6]) : 10;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bench_machine();

    int64_t t0 = kz_time_now_us();
    pthread_t w[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&w[i], NULL, writer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(w[i], NULL);
    double secs = (double)(kz_time_now_us() - t0) / 1e6;
    printf("ingest: %ld objects in %.2f s = %.0f objects/s (1000-object envelopes, 4 writers, "
           "%d failed requests)\n",
           total_n, secs, (double)total_n / secs, failures);

    struct curl_slist *h;
    CURL *c = client(&h);
    reply r;
    kz_buf_init(&r.body);
    size_t cap = (size_t)(total_n / 1000 + 16);
    positions = calloc(cap, sizeof *positions);
    double *page_ms = calloc(cap, sizeof *page_ms);
    char url[700], next[64] = "";
    long seen = 0;
    t0 = kz_time_now_us();
    for (;;) {
        snprintf(url, sizeof url, "%s/api/collections/%s/objects/?limit=1000%s%s", base, coll,
                 next[0] ? "&next=" : "", next);
        int64_t p0 = kz_time_now_us();
        if (request(c, url, NULL, 0, &r) != 200) {
            fprintf(stderr, "bench_hub: page read failed\n");
            return 1;
        }
        if (npositions < cap) {
            page_ms[npositions] = (double)(kz_time_now_us() - p0) / 1000.0;
            snprintf(positions[npositions++], 64, "%s", r.last);
        }
        seen += count_objects(r.body.data);
        const char *nx = strstr(r.body.data, "\"next\":\"");
        if (!nx)
            break;
        nx += 8;
        size_t k = 0;
        while (nx[k] && nx[k] != '"' && k + 1 < sizeof next) {
            next[k] = nx[k];
            k++;
        }
        next[k] = 0;
    }
    secs = (double)(kz_time_now_us() - t0) / 1e6;
    size_t tenth = npositions / 10 ? npositions / 10 : 1;
    double *head = malloc(tenth * sizeof *head), *tail = malloc(tenth * sizeof *tail);
    memcpy(head, page_ms, tenth * sizeof *head);
    memcpy(tail, page_ms + npositions - tenth, tenth * sizeof *tail);
    printf("read: %ld objects in %zu pages in %.2f s = %.0f objects/s (1 client); median page "
           "%.2f ms in the first tenth, %.2f ms in the last tenth\n",
           seen, npositions, secs, (double)seen / secs, bench_percentile(head, tenth, 0.5),
           bench_percentile(tail, tenth, 0.5));

    pthread_t *rt = calloc((size_t)clients, sizeof *rt);
    rstats *rs = calloc((size_t)clients, sizeof *rs);
    for (int i = 0; i < clients; i++) {
        rs[i].seed = (unsigned)i * 7919u + 1;
        pthread_create(&rt[i], NULL, reader, &rs[i]);
    }
    sleep((unsigned)seconds);
    stop_flag = 1;
    size_t nlat = 0;
    long objs = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(rt[i], NULL);
        nlat += rs[i].n;
        objs += rs[i].objects;
    }
    double *all = malloc((nlat ? nlat : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, rs[i].lat, rs[i].n * sizeof *all);
        k += rs[i].n;
        free(rs[i].lat);
    }
    printf("concurrent: %d clients, %d s: %.0f pages/s, %.0f objects/s, page latency p50 %.2f "
           "ms, p99 %.2f ms\n",
           clients, seconds, (double)nlat / seconds, (double)objs / seconds,
           bench_percentile(all, nlat, 0.5), bench_percentile(all, nlat, 0.99));
    free(all);
    free(rs);
    free(rt);
    free(head);
    free(tail);
    free(page_ms);
    free(positions);
    kz_buf_free(&r.body);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    curl_global_cleanup();
    return failures ? 1 : 0;
}
