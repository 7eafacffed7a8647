/* Detection engine under live updates: one thread matches continuously while another adds,
 * replaces, removes and expires indicators (each update publishes a new generation; the
 * merge of delta into base happens too). The matching thread must always see the indicator
 * that never changes, see a changing indicator either at its old or its new value (never
 * both, never neither within one snapshot), and never crash (run under ASan). */
#include "kt.h"

#include <kizuna/engine.h>
#include <kizuna/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1735689600000000ll

static kz_engine *E;
static atomic_int stop;
static atomic_long matched, bad;

static void indicator(kz_buf *b, int n, int modified_day, const char *value, const char *extra)
{
    kz_buf_printf(b,
                  "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-8000-%012d\","
                  "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-01-%02dT00:00:00Z\","
                  "\"pattern\":\"[ipv4-addr:value = '%s']\",\"pattern_type\":\"stix\","
                  "\"valid_from\":\"2024-01-01T00:00:00Z\"%s}\n",
                  n, modified_day, value, extra ? extra : "");
}

typedef struct cnt {
    int fixed, flip;
} cnt;

static int on_hit(void *ctx, const kz_engine_hit *h)
{
    cnt *c = ctx;
    if (strcmp(h->id, "indicator--00000000-0000-4000-8000-000000000001") == 0)
        c->fixed++;
    if (strcmp(h->id, "indicator--00000000-0000-4000-8000-000000000002") == 0)
        c->flip++;
    return 0;
}

static void *reader(void *arg)
{
    (void)arg;
    const char *types[] = {"ipv4-addr", "ipv4-addr"};
    long pv = kz_engine_path(E, "ipv4-addr:value");
    kz_engine_field f[] = {{0, KZ_EF_STR, (uint32_t)pv, "1.1.1.1", 7, 0},
                           {1, KZ_EF_STR, (uint32_t)pv, "2.2.2.2", 7, 0}};
    kz_engine_field f2[] = {{0, KZ_EF_STR, (uint32_t)pv, "1.1.1.1", 7, 0},
                            {1, KZ_EF_STR, (uint32_t)pv, "3.3.3.3", 7, 0}};
    kz_engine_record r[2] = {{NOW, NOW, 1, types, 2, f, 2}, {NOW, NOW, 1, types, 2, f2, 2}};
    while (!atomic_load(&stop)) {
        const kz_engine_gen *g = kz_engine_acquire(E);
        cnt c[2] = {{0, 0}, {0, 0}};
        char err[128];
        kz_engine_match_record(g, &r[0], on_hit, &c[0], err, sizeof err);
        kz_engine_match_record(g, &r[1], on_hit, &c[1], err, sizeof err);
        kz_engine_release(E, g);
        /* indicator 2 is at 2.2.2.2 or 3.3.3.3: exactly one record sees it */
        if (c[0].fixed != 1 || c[1].fixed != 1 || c[0].flip + c[1].flip != 1)
            atomic_fetch_add(&bad, 1);
        atomic_fetch_add(&matched, 1);
    }
    return NULL;
}

static void test_update_during_matching(void)
{
    kz_engine_opts o = {.now_us = NOW, .merge_min = 200, .merge_ratio = 2};
    E = kz_engine_new(&o);
    kz_buf b;
    kz_buf_init(&b);
    indicator(&b, 1, 1, "1.1.1.1", NULL);
    indicator(&b, 2, 1, "2.2.2.2", NULL);
    char err[256];
    KT_CHECK(kz_engine_load(E, b.data, b.len, NULL, err, sizeof err) == 2);
    pthread_t th;
    pthread_create(&th, NULL, reader, NULL);
    for (int round = 0; round < 120; round++) {
        kz_buf_reset(&b);
        /* add a batch, remove part of the previous one, let some expire */
        for (int k = 0; k < 40; k++) {
            char v[32];
            snprintf(v, sizeof v, "10.%d.%d.%d", round, k / 256, k % 256);
            indicator(&b, 1000 + round * 40 + k, 1, v,
                      k % 5 == 0 ? ",\"valid_until\":\"2025-01-01T00:00:30Z\"" : NULL);
        }
        /* after 30 s of engine time the valid_until ones are already expired at load */
        KT_CHECK(kz_engine_load(E, b.data, b.len, NULL, err, sizeof err) == (round <= 30 ? 40 : 32));
        if (round > 0) {
            const char *ids[20];
            char idb[20][64];
            for (int k = 0; k < 20; k++) {
                snprintf(idb[k], sizeof idb[k], "indicator--00000000-0000-4000-8000-%012d",
                         1000 + (round - 1) * 40 + 1 + k);
                ids[k] = idb[k];
            }
            KT_CHECK(kz_engine_remove(E, ids, 20, err, sizeof err) >= 0);
        }
        kz_engine_advance(E, NOW + round * 1000000ll, err, sizeof err);
    }
    /* the flipping indicator: versions on successive "seconds" of modified */
    for (int k = 0; k < 200; k++) {
        kz_buf_reset(&b);
        kz_buf_printf(&b,
                      "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-8000-000000000002\","
                      "\"created\":\"2024-01-01T00:00:00Z\",\"modified\":\"2024-02-01T00:%02d:%02dZ\","
                      "\"pattern\":\"[ipv4-addr:value = '%s']\",\"pattern_type\":\"stix\","
                      "\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                      k / 60, k % 60, k % 2 ? "2.2.2.2" : "3.3.3.3");
        KT_CHECK(kz_engine_load(E, b.data, b.len, NULL, err, sizeof err) == 1);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    kz_engine_stats st;
    kz_engine_get_stats(E, &st);
    fprintf(stderr, "matched %ld snapshots, %zu generations, %zu live\n", atomic_load(&matched),
            st.generation, st.live);
    KT_CHECK(atomic_load(&bad) == 0);
    KT_CHECK(atomic_load(&matched) > 0);
    KT_CHECK(st.generation > 300);
    /* 120 rounds x 40 added, 119 x 20 removed, 1 in 5 expired (never removed ones too) */
    KT_CHECK(st.live < 2 + 120 * 40 && st.live > 2);
    kz_buf_free(&b);
    kz_engine_free(E);
}

KT_MAIN(KT(test_update_during_matching))
