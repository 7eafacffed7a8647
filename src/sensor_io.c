/*
 * kizuna sensor inputs: text logs read like `tail -F` (many at once, across rotation and
 * truncation), gzip'd logs and pcap files read once, live interfaces in their own thread.
 *
 * Invariants: a line is handed to its decoder only once it is complete (ends in '\n'), so a
 * writer caught mid-line is never decoded half; when the path names a new file (other inode)
 * or the file shrank, what was complete in the old one has been read, and a fresh decoder
 * starts at line 1 of the new one (Zeek headers differ between files). Lines longer than
 * 1 MiB are skipped and counted. A capture file in follow mode goes the same way, with a
 * packet in place of a line: a packet is decoded once its whole record has arrived
 * (kz_sensor_capfile), and the decoder of the old file is flushed (its flows become records)
 * before the new file starts at packet 1. With --once a capture is read whole by libpcap.
 * Not done: gzip'd captures are not read.
 */
#include "sensor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE (1u << 20)
#define CHUNK (1u << 18)

static void new_decoder(sensor_input *in)
{
    if (in->kind == KZ_TEL_IN_PCAP) {
        kz_tel_pcap_free(in->pcap);
        kz_sensor_capfile_free(in->capf);
        in->pcap = kz_tel_pcap_new(in->path, &in->sink, NULL);
        in->capf = kz_sensor_capfile_new();
        return;
    }
    kz_tel_zeek_free(in->zeek);
    kz_tel_eve_free(in->eve);
    in->zeek = NULL;
    in->eve = NULL;
    if (in->kind == KZ_TEL_IN_ZEEK)
        in->zeek = kz_tel_zeek_new(in->path, &in->sink);
    else if (in->kind == KZ_TEL_IN_EVE)
        in->eve = kz_tel_eve_new(in->path, &in->sink);
}

const kz_tel_stats *sensor_input_stats(const sensor_input *in)
{
    if (in->zeek)
        return kz_tel_zeek_stats(in->zeek);
    if (in->eve)
        return kz_tel_eve_stats(in->eve);
    if (in->pcap)
        return kz_tel_pcap_stats(in->pcap);
    return NULL;
}

static bool is_gzip(int fd)
{
    unsigned char m[2];
    ssize_t n = pread(fd, m, 2, 0);
    return n == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

static void report_io(sensor_input *in, const char *msg)
{
    kz_tel_malformed m = {in->path, 0, KZ_TEL_R_IO, msg};
    sensor_on_malformed(in, &m);
}

/* Open the file the path names now (tail -F: it may not exist yet). */
static int tail_open(sensor_input *in)
{
    int fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    in->fd = fd;
    in->dev = st.st_dev;
    in->ino = st.st_ino;
    in->off = 0;
    in->len = 0;
    in->lines = 0;
    in->skip_until = 0;
    in->skipping = false;
    new_decoder(in);
    return 0;
}

int sensor_input_open(sensor *s, sensor_input *in, char *err, size_t errlen)
{
    in->s = s;
    in->fd = -1;
    in->sink.record = sensor_on_record;
    in->sink.malformed = sensor_on_malformed;
    in->sink.ctx = in;
    if (in->kind == KZ_TEL_IN_IFACE || (in->kind == KZ_TEL_IN_PCAP && s->once)) {
        in->pcap = kz_tel_pcap_new(in->path, &in->sink, NULL);
        if (!in->pcap) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    new_decoder(in);
    if (!in->zeek && !in->eve && !(in->pcap && in->capf)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (tail_open(in) < 0 && (s->once || errno != ENOENT)) {
        snprintf(err, errlen, "cannot open %s: %s", in->path, strerror(errno));
        return -1;
    }
    return 0;
}

void sensor_input_close(sensor_input *in)
{
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    kz_tel_zeek_free(in->zeek);
    kz_tel_eve_free(in->eve);
    kz_tel_pcap_free(in->pcap);
    kz_sensor_capfile_free(in->capf);
    in->zeek = NULL;
    in->eve = NULL;
    in->pcap = NULL;
    in->capf = NULL;
    free(in->buf);
    in->buf = NULL;
    free(in->path);
    in->path = NULL;
}

static void feed_line(sensor_input *in, char *line, size_t n)
{
    if (n && line[n - 1] == '\r')
        n--;
    in->lines++;
    if (in->zeek)
        kz_tel_zeek_line(in->zeek, line, n);
    else
        kz_tel_eve_line(in->eve, line, n);
}

/* Split buf into lines; keep the incomplete tail. */
static void drain(sensor_input *in)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(in->buf + start, '\n', in->len - start);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (in->buf + start));
        if (in->skipping) {
            in->skipping = false;
        } else {
            feed_line(in, in->buf + start, n);
        }
        start += n + 1;
    }
    memmove(in->buf, in->buf + start, in->len - start);
    in->len -= start;
    if (in->len > MAX_LINE) {
        /* the decoders' own line numbers do not see a skipped line: report ours */
        char msg[64];
        snprintf(msg, sizeof msg, "line %llu longer than %u bytes, skipped",
                 (unsigned long long)in->lines + 1, MAX_LINE);
        in->long_lines++;
        if (!in->skipping) {
            kz_tel_malformed m = {in->path, in->lines + 1, KZ_TEL_R_LINE_TOO_LONG, msg};
            sensor_on_malformed(in, &m);
            in->lines++;
        }
        in->skipping = true;
        in->len = 0;
    }
}

static void on_packet(void *ctx, int linktype, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen, int64_t ts_us)
{
    sensor_input *in = ctx;
    in->lines++;
    kz_tel_pcap_packet(in->pcap, linktype, data, caplen, wirelen, ts_us);
}

/* A followed capture: decode every packet whose record is complete; keep the rest. */
static void drain_capture(sensor_input *in)
{
    if (in->skipping || !in->capf || !in->pcap) {
        in->len = 0;
        return;
    }
    char err[128];
    long used = kz_sensor_capfile_feed(in->capf, (const uint8_t *)in->buf, in->len, on_packet, in,
                                       err, sizeof err);
    if (used < 0) {
        /* nothing after a corrupt record can be trusted: wait for a new file */
        kz_tel_malformed m = {in->path, in->lines + 1, KZ_TEL_R_IO, err};
        sensor_on_malformed(in, &m);
        in->skipping = true;
        in->len = 0;
        return;
    }
    memmove(in->buf, in->buf + used, in->len - (size_t)used);
    in->len -= (size_t)used;
}

/* The file at hand is finished (rotated away, truncated, or the sensor stops). */
static void end_file(sensor_input *in)
{
    if (in->kind == KZ_TEL_IN_PCAP) {
        if (in->len && !in->skipping) {
            kz_tel_malformed m = {in->path, in->lines + 1, KZ_TEL_R_IO,
                                  "the capture ends in the middle of a packet"};
            sensor_on_malformed(in, &m);
        }
        if (in->pcap)
            kz_tel_pcap_flush(in->pcap);
    } else if (in->len && !in->skipping) {
        feed_line(in, in->buf, in->len); /* the writer's last line, without its newline */
    }
    in->len = 0;
}

void sensor_input_finish(sensor_input *in)
{
    if (in->kind == KZ_TEL_IN_PCAP && in->capf && in->pcap)
        kz_tel_pcap_flush(in->pcap);
}

static long read_available(sensor_input *in)
{
    long total = 0;
    for (;;) {
        if (in->cap - in->len < CHUNK) {
            size_t nc = in->cap ? in->cap * 2 : CHUNK * 2;
            while (nc - in->len < CHUNK)
                nc *= 2;
            char *nb = realloc(in->buf, nc);
            if (!nb)
                return total;
            in->buf = nb;
            in->cap = nc;
        }
        ssize_t n = read(in->fd, in->buf + in->len, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                report_io(in, strerror(errno));
            break;
        }
        in->len += (size_t)n;
        in->off += n;
        total += n;
        if (in->kind == KZ_TEL_IN_PCAP)
            drain_capture(in);
        else
            drain(in);
        if (sensor_stop)
            break;
    }
    return total;
}

static long poll_text(sensor_input *in)
{
    if (in->fd < 0) {
        if (tail_open(in) < 0)
            return 0;
    }
    if (in->kind != KZ_TEL_IN_PCAP && is_gzip(in->fd)) {
        /* compressed logs are archives: read once, whole, through zlib */
        if (in->done)
            return 0;
        char err[256];
        int rc = in->zeek ? kz_tel_zeek_file(in->zeek, in->path, err, sizeof err)
                          : kz_tel_eve_file(in->eve, in->path, err, sizeof err);
        if (rc < 0) {
            report_io(in, err);
            in->failed = true;
        }
        in->done = true;
        return 1;
    }
    long got = read_available(in);
    if (in->s->once) {
        if (in->len) /* the last line had no newline: it is complete at end of file */
            feed_line(in, in->buf, in->len);
        in->len = 0;
        in->done = true;
        return got;
    }
    /* tail -F: a new file at the path, or this one truncated */
    struct stat st;
    if (stat(in->path, &st) == 0) {
        if (st.st_ino != in->ino || st.st_dev != in->dev) {
            got += read_available(in); /* what the writer added before rotating */
            end_file(in);
            close(in->fd);
            in->fd = -1;
            if (tail_open(in) == 0)
                got += read_available(in) + 1;
        } else if (st.st_size < in->off) {
            in->len = 0; /* a partial record of the old content is not the new file's */
            end_file(in);
            in->skipping = false;
            lseek(in->fd, 0, SEEK_SET);
            in->off = 0;
            in->len = 0;
            in->lines = 0;
            in->skip_until = 0;
            new_decoder(in);
            got += read_available(in) + 1;
        }
    }
    return got;
}

long sensor_input_poll(sensor_input *in)
{
    if (in->kind == KZ_TEL_IN_IFACE)
        return 0;
    if (in->kind == KZ_TEL_IN_PCAP && in->s->once) {
        if (in->done)
            return 0;
        char err[256];
        if (kz_tel_pcap_file(in->pcap, in->path, err, sizeof err) < 0) {
            report_io(in, err);
            in->failed = true;
        }
        in->done = true;
        return 1;
    }
    return poll_text(in);
}

/* The capture loop of an interface, in its own thread. The handle is opened and closed by
 * the main thread: it can then wake this thread at a stop (pcap_breakloop), which a read
 * timeout alone does not do on Linux when no packet arrives (TPACKET_V3 only times out on
 * a block that holds a packet). */
static void *iface_main(void *arg)
{
    sensor_input *in = arg;
    pcap_t *h = in->live;
    int lt = pcap_datalink(h);
    while (!sensor_stop_b) {
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int r = pcap_next_ex(h, &hdr, &data);
        if (r == 1) {
            in->lines++;
            kz_tel_pcap_packet(in->pcap, lt, data, hdr->caplen, hdr->len,
                               (int64_t)hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec);
        } else if (r == PCAP_ERROR_BREAK) {
            break;
        } else if (r < 0) {
            report_io(in, pcap_geterr(h));
            in->failed = true;
            break;
        }
    }
    kz_tel_pcap_flush(in->pcap);
    in->done = true;
    return NULL;
}

int sensor_iface_start(sensor_input *in, char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE];
    eb[0] = 0;
    pcap_t *h = pcap_create(in->path, eb);
    if (!h) {
        snprintf(err, errlen, "cannot capture on %s: %s", in->path, eb);
        return -1;
    }
    pcap_set_snaplen(h, 65535);
    pcap_set_promisc(h, 1);
    pcap_set_timeout(h, 200);
    int a = pcap_activate(h);
    if (a < 0) {
        snprintf(err, errlen, "cannot capture on %s: %s", in->path,
                 a == PCAP_ERROR ? pcap_geterr(h) : pcap_statustostr(a));
        pcap_close(h);
        return -1;
    }
    in->live = h;
    int rc = pthread_create(&in->thread, NULL, iface_main, in);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start a capture thread: %s", strerror(rc));
        pcap_close(h);
        in->live = NULL;
        return -1;
    }
    in->has_thread = true;
    return 0;
}

void sensor_iface_join(sensor_input *in)
{
    if (in->has_thread) {
        pcap_breakloop(in->live); /* wakes a read blocked without traffic */
        pthread_join(in->thread, NULL);
    }
    in->has_thread = false;
    if (in->live)
        pcap_close(in->live);
    in->live = NULL;
}

/* STATE/positions: one line per text input, "dev ino lines path", replaced atomically. */
int sensor_positions_save(sensor *s)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/positions", s->state_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (mkdir(s->state_dir, 0700) < 0 && errno != EEXIST)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < s->nin; i++) {
        const sensor_input *in = &s->in[i];
        if (in->fd < 0 || in->kind == KZ_TEL_IN_IFACE || strchr(in->path, '\n'))
            continue;
        fprintf(f, "%llu\t%llu\t%llu\t%s\n", (unsigned long long)in->dev,
                (unsigned long long)in->ino, (unsigned long long)in->lines, in->path);
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

void sensor_positions_load(sensor *s)
{
    char path[4096], line[4400];
    snprintf(path, sizeof path, "%s/positions", s->state_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long long dev, ino, lines;
        int n = 0;
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "%llu\t%llu\t%llu\t%n", &dev, &ino, &lines, &n) != 3 || !n)
            continue;
        for (size_t i = 0; i < s->nin; i++) {
            sensor_input *in = &s->in[i];
            if (in->fd >= 0 && strcmp(in->path, line + n) == 0 && (unsigned long long)in->dev == dev &&
                (unsigned long long)in->ino == ino)
                in->skip_until = lines;
        }
    }
    fclose(f);
}

/* ---- the first record time (the records clock starts there) ---------------------------- */

typedef struct first_ts {
    int64_t ts;
    bool found;
} first_ts;

static void on_first(void *ctx, const kz_tel_record *r)
{
    first_ts *f = ctx;
    if (r->has_ts && !f->found) {
        f->ts = r->ts_us;
        f->found = true;
    }
}

/* Decode lines from the start of a (possibly gzip'd) text file until a dated record; at most
 * 10,000 lines, so an undated file costs little. */
static bool text_first(const sensor_input *in, int64_t *ts)
{
    gzFile g = gzopen(in->path, "rb");
    if (!g)
        return false;
    first_ts f = {0, false};
    kz_tel_sink sink = {on_first, NULL, &f};
    kz_tel_zeek *z = in->kind == KZ_TEL_IN_ZEEK ? kz_tel_zeek_new(in->path, &sink) : NULL;
    kz_tel_eve *e = in->kind == KZ_TEL_IN_EVE ? kz_tel_eve_new(in->path, &sink) : NULL;
    char *line = malloc(MAX_LINE);
    for (int n = 0; line && (z || e) && !f.found && n < 10000 && gzgets(g, line, MAX_LINE); n++) {
        size_t len = strcspn(line, "\r\n");
        if (z)
            kz_tel_zeek_line(z, line, len);
        else
            kz_tel_eve_line(e, line, len);
    }
    free(line);
    kz_tel_zeek_free(z);
    kz_tel_eve_free(e);
    gzclose(g);
    *ts = f.ts;
    return f.found;
}

/* The first packet's time of a capture file. */
static bool pcap_first(const sensor_input *in, int64_t *ts)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(in->path, eb);
    if (!p)
        return false;
    struct pcap_pkthdr *h;
    const u_char *d;
    bool ok = pcap_next_ex(p, &h, &d) == 1;
    if (ok)
        *ts = (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec;
    pcap_close(p);
    return ok;
}

bool sensor_first_record_time(sensor *s, int64_t *ts)
{
    bool any = false;
    for (size_t i = 0; i < s->nin; i++) {
        const sensor_input *in = &s->in[i];
        int64_t t = 0;
        bool ok = in->kind == KZ_TEL_IN_PCAP                             ? pcap_first(in, &t)
                  : in->kind == KZ_TEL_IN_ZEEK || in->kind == KZ_TEL_IN_EVE ? text_first(in, &t)
                                                                         : false;
        if (ok && (!any || t < *ts)) {
            *ts = t;
            any = true;
        }
    }
    return any;
}
