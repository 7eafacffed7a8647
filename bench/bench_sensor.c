/*
 * Sensor benchmark: the whole per-record path of `kizuna sensor` (decode -> map -> match
 * through the engine stream -> alert line and sighting for each hit) over Zeek TSV logs,
 * Suricata EVE and a pcap made by `kizuna gen telemetry`, with N synthetic indicators
 * (kz_engine_gen_indicator) plus the generated feed loaded. Inputs are held in memory, so the
 * figures leave out disk reads; Zeek/EVE lines are copied before each pass (the decoders
 * unescape in place), and that copy is counted.
 *
 *   kizuna gen indicators --count 1000 --seed 7 --out /tmp/b/ind.json
 *   kizuna gen telemetry --indicators /tmp/b/ind.json --out-dir /tmp/b/tel --records 20000 --hits 200
 *   bench_sensor 1000000 /tmp/b/ind.json /tmp/b/tel
 *
 * Rates are per core: work over the CPU time of this (single) thread, median of 5 passes;
 * wall-clock rates in brackets. KZ_BENCH_STAGE=decode|map|nostream stops the path early;
 * KZ_BENCH_ONLY=zeek|eve|pcap runs one input (both for profiling). Not a test: it checks nothing but that hits were found.
 * KZ_BENCH_BATCH=K (Zeek and EVE only) holds K records and feeds them through
 * kz_engine_stream_feed_batch, to compare the engine's batch pipeline with single feeds
 * (docs/SENSOR.md); the sensor itself feeds one record at a time.
 */
#include "bench_util.h"
#include <kizuna/engine.h>
#include <kizuna/sensor.h>
#include <kizuna/telemetry.h>

#include <malloc.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define RUNS 5

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    kz_buf b;
    kz_buf_init(&b);
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        kz_buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return kz_buf_take(&b);
}

/* ---- the sensor's record path ---------------------------------------------------------- */

typedef struct pipe_ctx {
    kz_engine *e;
    kz_sensor_map *map;
    kz_engine_stream *stream;
    kz_sensor_sightings *sight;
    kz_buf alert;
    const kz_tel_record *r;
    uint64_t records, hits;
    /* KZ_BENCH_BATCH=K: records are held (shallow copies: text inputs keep their strings in
     * the line) and fed K at a time */
    size_t batch, held;
    kz_tel_record *ring;
    kz_sensor_map **maps;
    kz_engine_record *ers;
    void **ctxs;
    long *res;
    struct bhit { struct pipe_ctx *p; size_t k; } *bh;
} pipe_ctx;

static int on_hit(void *ctx, const kz_engine_hit *h)
{
    pipe_ctx *p = ctx;
    kz_buf_reset(&p->alert);
    kz_sensor_alert_format(&p->alert, p->r, h, "bench", NULL);
    kz_sensor_sightings_add(p->sight, h->id, p->r->ts_us);
    p->hits++;
    return 0;
}

/* KZ_BENCH_STAGE=decode or map stops the path early, to show where the time goes */
static int stage = 2;

static int on_hit_b(void *ctx, const kz_engine_hit *h)
{
    struct bhit *b = ctx;
    b->p->r = &b->p->ring[b->k];
    return on_hit(b->p, h);
}

static void flush(pipe_ctx *p)
{
    if (!p->held)
        return;
    char err[128];
    kz_engine_stream_feed_batch(p->stream, p->ers, p->held, on_hit_b, p->ctxs, p->res, err,
                                sizeof err);
    p->held = 0;
}

static void on_record(void *ctx, const kz_tel_record *r)
{
    pipe_ctx *p = ctx;
    kz_engine_record er;
    p->records++;
    if (stage == 0)
        return;
    if (p->batch && stage == 2) {
        size_t k = p->held;
        p->ring[k] = *r;
        if (!kz_sensor_map_record(p->maps[k], &p->ring[k], 0, &p->ers[k]))
            return;
        if (++p->held == p->batch)
            flush(p);
        return;
    }
    if (!kz_sensor_map_record(p->map, r, 0, &er) || stage == 1)
        return;
    p->r = r;
    char err[128];
    if (stage == 3) {
        const kz_engine_gen *g = kz_engine_acquire(p->e);
        kz_engine_match_record(g, &er, on_hit, p, err, sizeof err);
        kz_engine_release(p->e, g);
        return;
    }
    kz_engine_stream_feed_record(p->stream, &er, on_hit, p, err, sizeof err);
}

static void pipe_reset(pipe_ctx *p)
{
    kz_engine_stream_free(p->stream);
    p->stream = kz_engine_stream_new(p->e, NULL);
    if (p->sight)
        json_decref(kz_sensor_sightings_close(p->sight, INT64_MAX));
    kz_sensor_sightings_free(p->sight);
    p->sight = kz_sensor_sightings_new("identity--00000000-0000-4000-8000-000000000001", "bench",
                                       3600);
    p->records = p->hits = 0;
}

/* ---- text inputs ----------------------------------------------------------------------- */

typedef struct text {
    char *data, *work;
    size_t len;
    uint64_t lines;
} text;

static void bench_text(const char *what, text *files, size_t nfiles, bool eve, pipe_ctx *p)
{
    kz_tel_sink sink = {on_record, NULL, p};
    double rate[RUNS], wrate[RUNS], mb[RUNS];
    uint64_t lines = 0, bytes = 0;
    for (size_t f = 0; f < nfiles; f++) {
        lines += files[f].lines;
        bytes += files[f].len;
    }
    uint64_t recs = 0, hits = 0;
    for (int r = 0; r < RUNS; r++) {
        pipe_reset(p);
        double c = 0, w = 0;
        uint64_t done = 0, donebytes = 0;
        /* repeat the files until the pass is long enough to time */
        while (c < 0.4 || done < 200000) {
            for (size_t f = 0; f < nfiles; f++)
                memcpy(files[f].work, files[f].data, files[f].len);
            bench_perf(1);
            double c0 = bench_thread_cpu_s(), w0 = bench_wall_s();
            for (size_t f = 0; f < nfiles; f++) {
                kz_tel_zeek *z = eve ? NULL : kz_tel_zeek_new("bench", &sink);
                kz_tel_eve *e = eve ? kz_tel_eve_new("bench", &sink) : NULL;
                char *s = files[f].work, *end = s + files[f].len;
                while (s < end) {
                    char *nl = memchr(s, '\n', (size_t)(end - s));
                    size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
                    if (eve)
                        kz_tel_eve_line(e, s, n);
                    else
                        kz_tel_zeek_line(z, s, n);
                    s += n + 1;
                }
                flush(p);
                kz_tel_zeek_free(z);
                kz_tel_eve_free(e);
            }
            c += bench_thread_cpu_s() - c0;
            w += bench_wall_s() - w0;
            bench_perf(0);
            done += lines;
            donebytes += bytes;
        }
        rate[r] = (double)done / c;
        wrate[r] = (double)done / w;
        mb[r] = (double)donebytes / c / 1e6;
        recs = p->records;
        hits = p->hits;
    }
    double med = bench_median(rate, RUNS) / 1e6; /* sorts rate: its last is the best pass */
    printf("%-9s %6.2f M lines/s per core [%5.2f M wall] (best pass %.2f), %6.0f MB/s; last "
           "pass %llu records, %llu hits\n",
           what, med, bench_median(wrate, RUNS) / 1e6, rate[RUNS - 1] / 1e6,
           bench_median(mb, RUNS),
           (unsigned long long)recs, (unsigned long long)hits);
}

static int load_text(text *t, const char *path)
{
    t->data = slurp(path, &t->len);
    if (!t->data)
        return -1;
    t->work = malloc(t->len + 1);
    for (size_t i = 0; i < t->len; i++)
        t->lines += t->data[i] == '\n';
    return t->work ? 0 : -1;
}

/* ---- packets --------------------------------------------------------------------------- */

typedef struct pkt {
    const uint8_t *data;
    uint32_t caplen, wirelen;
    int64_t ts;
} pkt;

static void bench_pcap(const char *path, pipe_ctx *p)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, eb);
    if (!pc) {
        printf("pcap: %s\n", eb);
        return;
    }
    int dlt = pcap_datalink(pc);
    pkt *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t wire = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            v = realloc(v, cap * sizeof *v);
        }
        uint8_t *copy = malloc(h->caplen);
        memcpy(copy, d, h->caplen);
        v[n++] = (pkt){copy, h->caplen, h->len,
                       (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec};
        wire += h->len;
    }
    pcap_close(pc);
    size_t batch = p->batch;
    p->batch = 0; /* a packet's strings are in the decoder's scratch: no record is held */
    kz_tel_sink sink = {on_record, NULL, p};
    double gbit[RUNS], wgbit[RUNS], pps[RUNS];
    uint64_t recs = 0, hits = 0;
    for (int r = 0; r < RUNS; r++) {
        pipe_reset(p);
        double c = 0, w = 0;
        uint64_t done = 0, bits = 0;
        while (c < 0.4 || done < 200000) {
            kz_tel_pcap *dec = kz_tel_pcap_new("bench", &sink, NULL);
            bench_perf(1);
            double c0 = bench_thread_cpu_s(), w0 = bench_wall_s();
            for (size_t i = 0; i < n; i++)
                kz_tel_pcap_packet(dec, dlt, v[i].data, v[i].caplen, v[i].wirelen, v[i].ts);
            kz_tel_pcap_flush(dec);
            c += bench_thread_cpu_s() - c0;
            w += bench_wall_s() - w0;
            bench_perf(0);
            kz_tel_pcap_free(dec);
            done += n;
            bits += wire * 8;
        }
        gbit[r] = (double)bits / c / 1e9;
        wgbit[r] = (double)bits / w / 1e9;
        pps[r] = (double)done / c;
        recs = p->records;
        hits = p->hits;
    }
    double med = bench_median(gbit, RUNS); /* sorts gbit: its last is the best pass */
    printf("pcap      %6.2f Gbit/s per core [%5.2f wall] (best pass %.2f), %5.2f M packets/s "
           "(mean %.0f bytes per packet); last pass %llu records, %llu hits\n",
           med, bench_median(wgbit, RUNS), gbit[RUNS - 1], bench_median(pps, RUNS) / 1e6,
           n ? (double)wire / (double)n : 0.0, (unsigned long long)recs,
           (unsigned long long)hits);
    for (size_t i = 0; i < n; i++)
        free((void *)v[i].data);
    free(v);
    p->batch = batch;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_sensor N_INDICATORS FEED.json TELEMETRY_DIR "
                        "(see the comment at the top of bench/bench_sensor.c)\n");
        return 2;
    }
    size_t N = (size_t)strtoull(argv[1], NULL, 10);
    const char *sg = getenv("KZ_BENCH_STAGE");
    if (sg && strcmp(sg, "decode") == 0)
        stage = 0;
    else if (sg && strcmp(sg, "map") == 0)
        stage = 1;
    else if (sg && strcmp(sg, "nostream") == 0)
        stage = 3;
    const char *feed = argv[2], *dir = argv[3];
    bench_machine();
    kz_engine_opts o = {0};
    kz_time t0;
    kz_time_parse("2026-01-15T12:00:00Z", &t0, NULL, 0); /* gen telemetry's default start */
    o.now_us = t0.us;
    bench_hash_seed();
    kz_engine *e = kz_engine_new(&o);
    malloc_trim(0);
    size_t rss0 = bench_rss_bytes();
    double c0 = bench_thread_cpu_s(), w0 = bench_wall_s();
    kz_engine_txn *t = kz_engine_txn_begin(e);
    kz_buf chunk, one;
    kz_buf_init(&chunk);
    kz_buf_init(&one);
    for (size_t i = 0; i < N;) {
        kz_buf_reset(&chunk);
        for (size_t k = 0; k < 20000 && i < N; k++, i++) {
            kz_engine_gen_indicator(99, i, &one, NULL, NULL);
            kz_buf_append(&chunk, one.data, one.len);
            kz_buf_putc(&chunk, '\n');
        }
        kz_engine_txn_load(t, chunk.data, chunk.len, NULL);
    }
    size_t flen = 0;
    char *ftext = slurp(feed, &flen);
    if (ftext)
        kz_engine_txn_load(t, ftext, flen, NULL);
    free(ftext);
    char err[256];
    long added = kz_engine_txn_commit(t, err, sizeof err);
    kz_buf_free(&chunk);
    kz_buf_free(&one);
    malloc_trim(0);
    size_t rss1 = bench_rss_bytes();
    kz_engine_stats st;
    kz_engine_get_stats(e, &st);
    printf("indicators: %zu synthetic + the feed %s: %ld loaded, %zu live, in %.1f s CPU "
           "(%.1f s wall); engine resident memory %.0f MB\n",
           N, feed, added, st.live, bench_thread_cpu_s() - c0, bench_wall_s() - w0,
           (double)(rss1 - rss0) / 1e6);

    pipe_ctx p = {0};
    p.e = e;
    p.map = kz_sensor_map_new(e, err, sizeof err);
    kz_buf_init(&p.alert);
    const char *bs = getenv("KZ_BENCH_BATCH");
    p.batch = bs ? strtoul(bs, NULL, 10) : 0;
    if (p.batch > 4096) {
        fprintf(stderr, "KZ_BENCH_BATCH: at most 4096 records, not %s\n", bs);
        return 2;
    }
    if (p.batch) {
        p.ring = calloc(p.batch, sizeof *p.ring);
        p.maps = calloc(p.batch, sizeof *p.maps);
        p.ers = calloc(p.batch, sizeof *p.ers);
        p.ctxs = calloc(p.batch, sizeof *p.ctxs);
        p.res = calloc(p.batch, sizeof *p.res);
        p.bh = calloc(p.batch, sizeof *p.bh);
        if (!p.ring || !p.maps || !p.ers || !p.ctxs || !p.res || !p.bh) {
            fprintf(stderr, "KZ_BENCH_BATCH: out of memory\n");
            return 1;
        }
        for (size_t k = 0; k < p.batch; k++) {
            p.maps[k] = kz_sensor_map_new(e, err, sizeof err);
            if (!p.maps[k]) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            p.bh[k] = (struct bhit){&p, k};
            p.ctxs[k] = &p.bh[k];
        }
    }
    if (!p.map) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    static const char *const zeek[] = {"conn", "dns", "http", "ssl", "files"};
    text z[5] = {{0}}, ev = {0};
    char path[4096];
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s.log", dir, zeek[i]);
        if (load_text(&z[i], path) < 0) {
            fprintf(stderr, "cannot read %s\n", path);
            return 1;
        }
    }
    snprintf(path, sizeof path, "%s/eve.json", dir);
    if (load_text(&ev, path) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    printf("engine: %zu simple, %zu confirmed, %zu multi-observation, %zu by object type only\n",
           st.simple, st.confirmed, st.multi, st.type_scan);
    printf("median of %d passes, one thread, %s\n", RUNS,
           stage == 0   ? "decode only (KZ_BENCH_STAGE=decode)"
           : stage == 1 ? "decode -> map (KZ_BENCH_STAGE=map)"
           : stage == 3 ? "decode -> map -> kz_engine_match_record (no stream) -> alert"
                        : "decode -> map -> match -> alert/sighting");
    /* KZ_BENCH_ONLY=zeek, eve or pcap runs one input (for profiling) */
    const char *only = getenv("KZ_BENCH_ONLY");
    if (!only || strcmp(only, "zeek") == 0)
        bench_text("zeek-tsv", z, 5, false, &p);
    if (!only || strcmp(only, "eve") == 0)
        bench_text("eve", &ev, 1, true, &p);
    snprintf(path, sizeof path, "%s/traffic.pcap", dir);
    if (!only || strcmp(only, "pcap") == 0)
        bench_pcap(path, &p);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.0f MB (engine + inputs held in memory); now %.0f MB\n",
           (double)ru.ru_maxrss / 1024, (double)bench_rss_bytes() / 1e6);
    for (int i = 0; i < 5; i++) {
        free(z[i].data);
        free(z[i].work);
    }
    free(ev.data);
    free(ev.work);
    kz_engine_stream_free(p.stream);
    json_decref(kz_sensor_sightings_close(p.sight, INT64_MAX));
    kz_sensor_sightings_free(p.sight);
    kz_sensor_map_free(p.map);
    for (size_t k = 0; k < p.batch; k++)
        kz_sensor_map_free(p.maps[k]);
    free(p.maps);
    free(p.ring);
    free(p.ers);
    free(p.ctxs);
    free(p.res);
    free(p.bh);
    kz_buf_free(&p.alert);
    kz_engine_free(e);
    return 0;
}
