/*
 * kizuna sensor: point it at Zeek logs, Suricata EVE, pcap files or an interface, and every
 * indicator (from a file or pulled from a hub) is matched against every record; hits become
 * EVE-style alert lines and, per indicator and time bucket, STIX sightings posted to the hub
 * through a durable outbox (docs/SENSOR.md).
 *
 * Invariants: bad input is counted and reported at a bounded rate, never fatal; the record
 * path (decode -> map -> match) allocates nothing per record; alerts and sightings count the
 * same hits (each alert adds one to its sighting's count). Not done here: decoding (lib
 * telemetry), matching (lib engine), delivery (lib taxii).
 */
#include "cli.h"
#include "sensor_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t sensor_stop;
volatile bool sensor_stop_b;

void cmd_sensor_usage(void)
{
    printf(
        "usage: kizuna sensor [--config FILE] --input KIND:PATH ...\n"
        "                     (--indicators FILE ... | --hub URL --collection ID)\n"
        "                     [--alerts PATH|-|syslog] [--once] [options]\n\n"
        "Match network telemetry against STIX indicators; print alerts, post sightings.\n\n"
        "  --input KIND:PATH        zeek (TSV/JSON, .gz), eve, pcap (pcap/pcapng) or iface;\n"
        "                           repeat for many inputs\n"
        "  --indicators FILE        STIX bundle, array or JSON lines (repeatable)\n"
        "  --hub URL                TAXII API root (e.g. https://hub:8443/api/)\n"
        "  --collection ID          pull indicators from this collection (full, then\n"
        "                           incremental by added_after)\n"
        "  --state DIR              cursor, indicator set and sightings outbox\n"
        "                           (default ./kizuna-sensor-state)\n"
        "  --org IDENTITY-ID        the sensor's organisation (where_sighted_refs)\n"
        "  --sightings-collection ID  post sightings there (needs --hub and --org)\n"
        "  --bucket SECONDS         sighting aggregation bucket (default 3600)\n"
        "  --sighting-observed-data each sighting also carries an observed-data (and its\n"
        "                           SCOs) of the first record that hit in its bucket\n"
        "  --alerts PATH|-|syslog   where alerts go (default -: stdout)\n"
        "  --syslog-socket PATH     with --alerts syslog: the local syslog socket (default\n"
        "                           /dev/log); each alert is one RFC 3164 message, daemon.warning\n"
        "  --once                   read every input to its end and exit (default: follow\n"
        "                           like tail -F)\n"
        "  --sensor-name NAME       the `sensor` field of alerts (default: host name)\n"
        "  --poll SECONDS           follow mode: pull from the hub this often (default 60)\n"
        "  --flush SECONDS          follow mode: deliver sightings this often (default 30)\n"
        "  --max-reports N          malformed-input reports per input per second (default 10)\n"
        "  --user NAME              HTTP Basic; password in $KIZUNA_PASSWORD or --password-file\n"
        "  --password-file F, --token-file F (or $KIZUNA_TOKEN), --cacert PEM, --insecure\n"
        "  --clock records|wall     which time decides whether an indicator is valid\n"
        "                           (valid_from/valid_until): the records' own (default\n"
        "                           with --once: a retro-hunt over old logs) or now\n"
        "  --quiet                  no progress lines on stderr\n\n"
        "A config file holds one `key = value` per line with the long option names (no --);\n"
        "command-line options come after it. Exit: 0 done, 1 failure (no indicators, an input\n"
        "that cannot be read with --once), 2 usage.\n");
}

/* ---- the record path ------------------------------------------------------------------- */

#define RING 65536

typedef struct hit_ctx {
    sensor *s;
    const kz_tel_record *r;
    const kz_engine_record *er;
    int kind;
} hit_ctx;

/* The evidence of a bucket's first hit; NULL (a sighting without it) when the record holds
 * nothing STIX 2.1 can carry. */
static json_t *observed_of_hit(void *ctx)
{
    hit_ctx *h = ctx;
    char err[256];
    return kz_sensor_observed_objects(h->s->engine, h->er, h->r, err, sizeof err);
}

/* {"related":[{"input":..,"line"|"packet":..},..]} for the observations of a binding other
 * than the current one (those still in the ring). */
static json_t *related(sensor *s, int kind, const kz_engine_hit *hit)
{
    if (!hit->binding || hit->nbinding < 2 || !s->ring[kind])
        return NULL;
    json_t *arr = json_array(), *o = json_object();
    uint64_t cur = s->fed[kind] - 1;
    for (size_t i = 0; arr && i < hit->nbinding; i++) {
        uint64_t q = hit->binding[i];
        if (q == cur || q + RING <= cur || q > cur)
            continue;
        const struct seqpos *sp = &s->ring[kind][q % RING];
        const sensor_input *in = &s->in[sp->input];
        json_t *e = json_object();
        json_object_set_new(e, "input", json_string(in->path));
        json_object_set_new(e, kind >= KZ_TEL_IN_PCAP ? "packet" : "line",
                            json_integer((json_int_t)sp->pos));
        json_array_append_new(arr, e);
    }
    if (o && arr)
        json_object_set_new(o, "related", arr);
    else
        json_decref(arr);
    return o;
}

/* ---- --alerts syslog ------------------------------------------------------------------
 * Written to the local syslog socket directly rather than through syslog(3): the socket is an
 * option (a test or a container can point it anywhere), failures are counted instead of
 * silent, and a daemon that restarts is reconnected to. The message has the form syslog(3)
 * sends to /dev/log, which the local daemons (rsyslog, syslog-ng, journald) parse:
 * "<28>Mmm dd hh:mm:ss kizuna-sensor[PID]: ALERT-JSON" (facility daemon, severity warning;
 * the host name is added by the daemon). */

#define SYSLOG_PRI 28 /* LOG_DAEMON (3) * 8 + LOG_WARNING (4) */

static void syslog_close(sensor *s)
{
    if (s->syslog_fd >= 0)
        close(s->syslog_fd);
    s->syslog_fd = -1;
}

static int syslog_connect(sensor *s, char *err, size_t errlen)
{
    syslog_close(s);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(s->syslog_socket) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "the socket path is too long");
        return -1;
    }
    memcpy(sa.sun_path, s->syslog_socket, strlen(s->syslog_socket) + 1); /* length checked */
    int types[2] = {SOCK_DGRAM, SOCK_STREAM};
    for (int i = 0; i < 2; i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        /* a stalled daemon must not hold the record path for long */
        struct timeval tv = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            s->syslog_fd = fd;
            s->syslog_stream = types[i] == SOCK_STREAM;
            return 0;
        }
        int e = errno;
        close(fd);
        errno = e;
        if (e != EPROTOTYPE) /* a stream socket answers a datagram connect with EPROTOTYPE */
            break;
    }
    snprintf(err, errlen, "%s", strerror(errno));
    return -1;
}

static void syslog_send(sensor *s, const char *line, size_t len)
{
    kz_buf *b = &s->syslog_msg;
    kz_buf_reset(b);
    char head[96], ts[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
    int hn = snprintf(head, sizeof head, "<%d>%s kizuna-sensor[%ld]: ", SYSLOG_PRI, ts,
                      (long)getpid());
    /* the NUL ends a message on a stream socket; a datagram is its own end */
    if (kz_buf_append(b, head, (size_t)hn) < 0 || kz_buf_append(b, line, len) < 0 ||
        kz_buf_append(b, "", 1) < 0) {
        s->syslog_dropped++;
        return;
    }
    char err[128] = "";
    for (int attempt = 0; attempt < 2; attempt++) {
        if (s->syslog_fd < 0) {
            int64_t t = kz_time_now_us();
            if (t < s->syslog_retry_us)
                break;
            s->syslog_retry_us = t + 1000000; /* at most one attempt a second */
            if (syslog_connect(s, err, sizeof err) < 0)
                break;
        }
        size_t n = s->syslog_stream ? b->len : b->len - 1;
        if (send(s->syslog_fd, b->data, n, MSG_NOSIGNAL) == (ssize_t)n)
            return;
        snprintf(err, sizeof err, "%s", strerror(errno));
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EMSGSIZE)
            break; /* the daemon is stalled, or the alert is too big: reconnecting won't help */
        syslog_close(s); /* the daemon restarted: its socket is a new one */
        s->syslog_retry_us = 0;
    }
    s->syslog_dropped++;
    if (!s->syslog_warned && !s->quiet) {
        s->syslog_warned = true;
        fprintf(stderr, "kizuna sensor: cannot send alerts to syslog at %s%s%s; they are "
                        "dropped until it answers\n",
                s->syslog_socket, err[0] ? ": " : "", err);
    }
}

static void write_alert(sensor *s, const char *line, size_t len)
{
    if (!s->alerts) {
        syslog_send(s, line, len);
        return;
    }
    fwrite(line, 1, len, s->alerts);
    fputc('\n', s->alerts);
}

static int on_hit(void *ctx, const kz_engine_hit *hit)
{
    hit_ctx *h = ctx;
    sensor *s = h->s;
    kz_buf_reset(&s->line);
    json_t *extra = related(s, h->kind, hit);
    if (kz_sensor_alert_format(&s->line, h->r, hit, s->sensor_name, extra) == 0)
        write_alert(s, s->line.data, s->line.len);
    json_decref(extra);
    s->alerts_n++;
    if (s->sight)
        kz_sensor_sightings_add_observed(s->sight, hit->id,
                                         h->r->has_ts ? h->r->ts_us : kz_time_now_us(),
                                         s->observed ? observed_of_hit : NULL, h);
    return 0;
}

void sensor_on_record(void *ctx, const kz_tel_record *r)
{
    sensor_input *in = ctx;
    sensor *s = in->s;
    bool threaded = in->kind == KZ_TEL_IN_IFACE;
    if (threaded)
        pthread_mutex_lock(&s->lock);
    if (r->pos <= in->skip_until) { /* handled before a restart */
        if (threaded)
            pthread_mutex_unlock(&s->lock);
        return;
    }
    s->records++;
    /* a live capture is decoded by the packet decoder, which names its records pcap */
    kz_tel_record live;
    if (threaded && r->input != KZ_TEL_IN_IFACE) {
        live = *r;
        live.input = KZ_TEL_IN_IFACE;
        r = &live;
    }
    /* the first dated record sets the clock; later it only moves forward, by a minute at
     * least (advancing walks every pending indicator) */
    if (s->clock_records && (r->has_ts ? s->clock == 0 || r->ts_us > s->clock + 60000000
                                       : s->clock == 0)) {
        /* an undated first record (test baselines) can only be judged by the wall clock */
        int64_t t = r->has_ts ? r->ts_us : kz_time_now_us();
        char aerr[256];
        if (kz_engine_advance(s->engine, t, aerr, sizeof aerr) >= 0)
            s->clock = t;
    }
    kz_engine_record er;
    int64_t now = r->has_ts ? 0 : kz_time_now_us();
    if (kz_sensor_map_record(s->map, r, now, &er)) {
        hit_ctx h = {s, r, &er, (int)in->kind};
        char err[256];
        if (s->ring[in->kind])
            s->ring[in->kind][s->fed[in->kind] % RING] =
                (struct seqpos){(uint32_t)(in - s->in), r->pos};
        s->fed[in->kind]++;
        if (kz_engine_stream_feed_record(s->stream[in->kind], &er, on_hit, &h, err,
                                         sizeof err) < 0) {
            if (s->match_errors++ < 10)
                fprintf(stderr, "kizuna sensor: %s:%llu: cannot match: %s\n", in->path,
                        (unsigned long long)r->pos, err);
        }
    }
    if (r->has_ts && r->ts_us > s->max_ts)
        s->max_ts = r->ts_us;
    if (threaded)
        pthread_mutex_unlock(&s->lock);
}

static void report_malformed(sensor *s, sensor_input *in, const kz_tel_malformed *m);

void sensor_on_malformed(void *ctx, const kz_tel_malformed *m)
{
    sensor_input *in = ctx;
    sensor *s = in->s;
    bool threaded = in->kind == KZ_TEL_IN_IFACE; /* the capture thread reports here too */
    if (threaded)
        pthread_mutex_lock(&s->lock);
    report_malformed(s, in, m);
    if (threaded)
        pthread_mutex_unlock(&s->lock);
}

static void report_malformed(sensor *s, sensor_input *in, const kz_tel_malformed *m)
{
    if (m->pos && m->pos <= in->skip_until)
        return;
    s->malformed++;
    if (s->quiet)
        return;
    long now = (long)time(NULL);
    if (now != in->rate_sec) {
        if (in->rate_suppressed)
            fprintf(stderr, "kizuna sensor: %s: %llu more malformed reports suppressed\n",
                    m->input_name ? m->input_name : in->path,
                    (unsigned long long)in->rate_suppressed);
        in->rate_sec = now;
        in->rate_n = 0;
        in->rate_suppressed = 0;
    }
    if (in->rate_n >= (unsigned)s->max_reports) {
        in->rate_suppressed++;
        return;
    }
    in->rate_n++;
    fprintf(stderr, "kizuna sensor: %s:%s%llu: malformed (%s): %s\n",
            m->input_name ? m->input_name : in->path,
            in->kind == KZ_TEL_IN_PCAP || in->kind == KZ_TEL_IN_IFACE ? "packet " : "",
            (unsigned long long)m->pos, kz_tel_reason_name(m->reason),
            m->detail ? m->detail : "");
}

/* ---- options --------------------------------------------------------------------------- */

typedef struct opts {
    char *owned[512]; /* config values the options point into, freed at exit */
    size_t nowned;
    const char *inputs[SENSOR_MAX_INPUTS];
    size_t ninputs;
    const char *indicators[64];
    size_t nind;
} opts;

static bool num_arg(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* One option; returns the number of argv entries used (1 or 2), or -1 on a usage error. */
static int one_opt(sensor *s, opts *o, const char *a, const char *v)
{
    static const char *const with_value[] = {
        "--input", "--indicators", "--hub", "--collection", "--state", "--org",
        "--sightings-collection", "--bucket", "--alerts", "--sensor-name", "--poll", "--flush",
        "--max-reports", "--clock", "--user", "--password-file", "--token-file", "--cacert",
        "--syslog-socket", NULL};
    bool needs = false;
    for (size_t i = 0; with_value[i]; i++)
        if (strcmp(a, with_value[i]) == 0)
            needs = true;
    if (needs && !v) {
        fprintf(stderr, "kizuna sensor: %s needs a value\n", a);
        return -1;
    }
    long n;
    if (strcmp(a, "--once") == 0)
        s->once = true;
    else if (strcmp(a, "--insecure") == 0)
        s->insecure = true;
    else if (strcmp(a, "--quiet") == 0)
        s->quiet = true;
    else if (strcmp(a, "--sighting-observed-data") == 0)
        s->observed = true;
    else if (strcmp(a, "--password") == 0 || strcmp(a, "--token") == 0) {
        fprintf(stderr, "kizuna sensor: secrets are never taken on the command line (ps shows "
                        "them); use $KIZUNA_PASSWORD/$KIZUNA_TOKEN or --password-file/"
                        "--token-file\n");
        return -1;
    } else if (!needs) {
        fprintf(stderr, "kizuna sensor: unknown option %s\n", a);
        return -1;
    } else if (strcmp(a, "--input") == 0) {
        if (o->ninputs == SENSOR_MAX_INPUTS) {
            fprintf(stderr, "kizuna sensor: at most %d inputs\n", SENSOR_MAX_INPUTS);
            return -1;
        }
        o->inputs[o->ninputs++] = v;
    } else if (strcmp(a, "--indicators") == 0) {
        if (o->nind == 64) {
            fprintf(stderr, "kizuna sensor: at most 64 indicator files\n");
            return -1;
        }
        o->indicators[o->nind++] = v;
    } else if (strcmp(a, "--hub") == 0) {
        s->hub = v;
    } else if (strcmp(a, "--clock") == 0) {
        if (strcmp(v, "records") != 0 && strcmp(v, "wall") != 0) {
            fprintf(stderr, "kizuna sensor: --clock is records or wall, not '%s'\n", v);
            return -1;
        }
        s->clock_set = v[0] == 'r' ? 1 : 2;
    } else if (strcmp(a, "--collection") == 0)
        s->collection = v;
    else if (strcmp(a, "--state") == 0) {
        s->state_dir = v;
        s->state_given = true;
    } else if (strcmp(a, "--org") == 0)
        s->org = v;
    else if (strcmp(a, "--sightings-collection") == 0)
        s->sightings_collection = v;
    else if (strcmp(a, "--alerts") == 0)
        s->alerts_path = v;
    else if (strcmp(a, "--syslog-socket") == 0)
        s->syslog_socket = v;
    else if (strcmp(a, "--sensor-name") == 0)
        s->sensor_name = v;
    else if (strcmp(a, "--user") == 0)
        s->user = v;
    else if (strcmp(a, "--password-file") == 0)
        s->password_file = v;
    else if (strcmp(a, "--token-file") == 0)
        s->token_file = v;
    else if (strcmp(a, "--cacert") == 0)
        s->cacert = v;
    else if (strcmp(a, "--bucket") == 0 || strcmp(a, "--poll") == 0 ||
             strcmp(a, "--flush") == 0 || strcmp(a, "--max-reports") == 0) {
        if (!num_arg(v, strcmp(a, "--max-reports") == 0 ? 0 : 1, 86400L * 7, &n)) {
            fprintf(stderr, "kizuna sensor: %s wants a number, not '%s'\n", a, v);
            return -1;
        }
        if (a[2] == 'b')
            s->bucket_s = n;
        else if (a[2] == 'p')
            s->poll_s = n;
        else if (a[2] == 'f')
            s->flush_s = n;
        else
            s->max_reports = (int)n;
    }
    return needs ? 2 : 1;
}

/* Config lines become options; their values are kept in o->owned until the command ends. */
static int read_config(sensor *s, opts *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "kizuna sensor: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int ln = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        ln++;
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "#\r\n")] = 0;
        if (!*p)
            continue;
        char *k = p;
        size_t kl = strcspn(k, " \t=");
        char *v = k + kl;
        bool has_v = *v != 0;
        *v = 0;
        if (has_v) {
            v++;
            v += strspn(v, " \t=");
            size_t vl = strlen(v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                v[--vl] = 0;
        }
        char *opt = malloc(kl + 3);
        char *val = has_v && *v ? strdup(v) : NULL;
        if (!opt) {
            free(val);
            rc = -1;
            break;
        }
        snprintf(opt, kl + 3, "--%s", k);
        bool flag = strcmp(opt, "--once") == 0 || strcmp(opt, "--insecure") == 0 ||
                    strcmp(opt, "--quiet") == 0 || strcmp(opt, "--sighting-observed-data") == 0;
        if (flag && val && (strcmp(val, "false") == 0 || strcmp(val, "no") == 0 ||
                            strcmp(val, "0") == 0)) {
            free(opt);
            free(val);
            continue;
        }
        if (rc == 0 && one_opt(s, o, opt, flag ? NULL : val) < 0) {
            fprintf(stderr, "kizuna sensor: %s:%d: bad setting\n", path, ln);
            rc = -1;
        }
        free(opt);
        if (val && !flag && rc == 0 && o->nowned == sizeof o->owned / sizeof o->owned[0]) {
            fprintf(stderr, "kizuna sensor: %s: too many settings\n", path);
            rc = -1;
        }
        if (flag || rc < 0)
            free(val);
        else if (val)
            o->owned[o->nowned++] = val;
    }
    fclose(f);
    return rc;
}

static int parse_input(sensor *s, const char *spec)
{
    const char *c = strchr(spec, ':');
    if (!c || c == spec || !c[1]) {
        fprintf(stderr, "kizuna sensor: --input wants KIND:PATH, not '%s'\n", spec);
        return -1;
    }
    size_t kl = (size_t)(c - spec);
    kz_tel_input kind;
    if (kl == 4 && memcmp(spec, "zeek", 4) == 0)
        kind = KZ_TEL_IN_ZEEK;
    else if (kl == 3 && memcmp(spec, "eve", 3) == 0)
        kind = KZ_TEL_IN_EVE;
    else if (kl == 4 && memcmp(spec, "pcap", 4) == 0)
        kind = KZ_TEL_IN_PCAP;
    else if (kl == 5 && memcmp(spec, "iface", 5) == 0)
        kind = KZ_TEL_IN_IFACE;
    else {
        fprintf(stderr, "kizuna sensor: unknown input kind in '%s' (zeek, eve, pcap, iface)\n",
                spec);
        return -1;
    }
    sensor_input *in = &s->in[s->nin];
    memset(in, 0, sizeof *in);
    in->kind = kind;
    in->fd = -1;
    in->path = strdup(c + 1);
    if (!in->path)
        return -1;
    s->nin++;
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    sensor_stop = 1;
    sensor_stop_b = true;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void summary(sensor *s)
{
    if (s->quiet)
        return;
    fprintf(stderr, "kizuna sensor: %llu records, %llu alerts, %llu malformed\n",
            (unsigned long long)s->records, (unsigned long long)s->alerts_n,
            (unsigned long long)s->malformed);
    if (s->syslog_dropped)
        fprintf(stderr, "kizuna sensor: %llu alerts could not be sent to syslog at %s\n",
                (unsigned long long)s->syslog_dropped, s->syslog_socket);
    for (size_t i = 0; i < s->nin; i++) {
        if (s->in[i].rate_suppressed)
            fprintf(stderr, "kizuna sensor: %s: %llu more malformed reports suppressed\n",
                    s->in[i].path, (unsigned long long)s->in[i].rate_suppressed);
        const kz_tel_stats *st = sensor_input_stats(&s->in[i]);
        if (!st)
            continue;
        fprintf(stderr, "  %s: %llu %s, %llu records, %llu malformed", s->in[i].path,
                (unsigned long long)st->units,
                s->in[i].kind >= KZ_TEL_IN_PCAP ? "packets" : "lines",
                (unsigned long long)st->records,
                (unsigned long long)st->malformed_total + (unsigned long long)s->in[i].long_lines);
        for (int r = 0; r < KZ_TEL_R_COUNT; r++)
            if (st->malformed[r])
                fprintf(stderr, " %s=%llu", kz_tel_reason_name((kz_tel_reason)r),
                        (unsigned long long)st->malformed[r]);
        fputc('\n', stderr);
    }
}

/* The command, with the config values it keeps in o->owned (freed by cmd_sensor on every
 * path out). */
static int sensor_main(opts *o, int argc, char **argv)
{
    static sensor S; /* large (inputs); one per process */
    sensor *s = &S;
    memset(s, 0, sizeof *s);
    s->bucket_s = 3600;
    s->poll_s = 60;
    s->flush_s = 30;
    s->max_reports = 10;
    s->alerts_path = "-";
    s->state_dir = "kizuna-sensor-state";
    s->syslog_fd = -1;
    kz_buf_init(&s->syslog_msg);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cmd_sensor_usage();
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kizuna sensor: --config needs a file\n");
                return 2;
            }
            if (read_config(s, o, argv[++i]) < 0)
                return 2;
        }
    }
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--config") == 0) {
            i += 2;
            continue;
        }
        int used = one_opt(s, o, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (used < 0)
            return 2;
        i += used;
    }
    if (!o->ninputs || (!o->nind && !(s->hub && s->collection))) {
        fprintf(stderr, "kizuna sensor: needs --input and (--indicators or --hub with "
                        "--collection); see 'kizuna sensor --help'\n");
        return 2;
    }
    if ((s->collection || s->sightings_collection) && !s->hub) {
        fprintf(stderr, "kizuna sensor: --collection and --sightings-collection need --hub\n");
        return 2;
    }
    if (s->sightings_collection && !s->org) {
        fprintf(stderr, "kizuna sensor: --sightings-collection needs --org IDENTITY-ID\n");
        return 2;
    }
    if (s->observed && !s->sightings_collection) {
        fprintf(stderr, "kizuna sensor: --sighting-observed-data goes with "
                        "--sightings-collection\n");
        return 2;
    }
    if (s->syslog_socket && strcmp(s->alerts_path, "syslog") != 0) {
        fprintf(stderr, "kizuna sensor: --syslog-socket goes with --alerts syslog\n");
        return 2;
    }
    if (s->org && strncmp(s->org, "identity--", 10) != 0) {
        fprintf(stderr, "kizuna sensor: --org wants an identity id (identity--UUID)\n");
        return 2;
    }
    for (size_t i = 0; i < o->ninputs; i++)
        if (parse_input(s, o->inputs[i]) < 0)
            return 2;

    static char host[256];
    if (!s->sensor_name) {
        if (gethostname(host, sizeof host - 1) < 0)
            strcpy(host, "kizuna-sensor");
        s->sensor_name = host;
    }
    int rc = 0;
    char err[256];
    kz_buf_init(&s->line);
    pthread_mutex_init(&s->lock, NULL);
    s->clock_records = s->clock_set ? s->clock_set == 1 : s->once;
    kz_engine_opts eo = {0};
    if (s->clock_records) {
        /* the engine's clock starts at the earliest first record, so indicators load already
         * judged (an indicator pending until the first record would keep its JSON and be
         * compiled on the first advance); records of that file are never older than it */
        int64_t t0;
        if (sensor_first_record_time(s, &t0)) {
            eo.now_us = t0 > 0 ? t0 : 1;
            s->clock = eo.now_us;
        } else {
            eo.now_us = 1; /* set by the first record, or by the wall clock if undated */
        }
    }
    s->engine = kz_engine_new(&eo);
    if (!s->engine || !(s->map = kz_sensor_map_new(s->engine, err, sizeof err))) {
        fprintf(stderr, "kizuna sensor: %s\n", s->engine ? err : "out of memory");
        rc = 1;
        goto out;
    }
    kz_engine_stream_opts so = {0};
    so.no_within_expiry = true; /* logs of one source family are read one file after another */
    for (int k = 1; k <= KZ_TEL_IN_IFACE; k++)
        if (!(s->stream[k] = kz_engine_stream_new(s->engine, &so)) ||
            !(s->ring[k] = calloc(RING, sizeof *s->ring[k]))) {
            fprintf(stderr, "kizuna sensor: out of memory\n");
            rc = 1;
            goto out;
        }
    if (strcmp(s->alerts_path, "-") == 0) {
        s->alerts = stdout;
        s->alerts_is_stdout = true;
    } else if (strcmp(s->alerts_path, "syslog") == 0) {
        if (!s->syslog_socket)
            s->syslog_socket = "/dev/log";
        /* like syslog(3), a missing daemon is not fatal: alerts are counted as dropped, and
         * the socket is tried again (at most once a second) */
        if (syslog_connect(s, err, sizeof err) < 0 && !s->quiet) {
            s->syslog_warned = true;
            fprintf(stderr, "kizuna sensor: cannot reach syslog at %s: %s; alerts are dropped "
                            "until it answers\n", s->syslog_socket, err);
        }
    } else if (!(s->alerts = fopen(s->alerts_path, "a"))) {
        fprintf(stderr, "kizuna sensor: cannot write %s: %s\n", s->alerts_path,
                strerror(errno));
        rc = 1;
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (sensor_hub_open(s) < 0) {
        rc = 1;
        goto out;
    }
    if (s->org && s->outbox)
        s->sight = kz_sensor_sightings_new(s->org, s->sensor_name, s->bucket_s);
    for (size_t i = 0; i < o->nind; i++)
        if (sensor_load_indicators(s, o->indicators[i], false) < 0) {
            rc = 1;
            goto out;
        }
    if (s->collection) {
        long d = sensor_hub_load_disk(s);
        if (d > 0 && !s->quiet)
            fprintf(stderr, "kizuna sensor: %ld indicators from the set kept in %s\n", d,
                    s->state_dir);
        if (sensor_hub_pull(s) < 0 && !s->quiet)
            fprintf(stderr, "kizuna sensor: the hub is unreachable; protecting with the set "
                            "on disk\n");
    }
    kz_engine_stats est;
    kz_engine_get_stats(s->engine, &est);
    if (!s->quiet && s->clock_records)
        fprintf(stderr,
                "kizuna sensor: %zu indicators loaded, %zu rejected (valid_from/valid_until "
                "judged at each record's own time)\n",
                est.live + est.pending, est.rejected);
    else if (!s->quiet)
        fprintf(stderr, "kizuna sensor: %zu indicators live, %zu not yet valid, %zu rejected\n",
                est.live, est.pending, est.rejected);
    if (est.live == 0 && est.pending == 0) {
        fprintf(stderr, "kizuna sensor: no indicator to match\n");
        rc = 1;
        goto out;
    }

    for (size_t i = 0; i < s->nin; i++) {
        if (sensor_input_open(s, &s->in[i], err, sizeof err) < 0 ||
            (s->in[i].kind == KZ_TEL_IN_IFACE && sensor_iface_start(&s->in[i], err, sizeof err) < 0)) {
            fprintf(stderr, "kizuna sensor: %s\n", err);
            s->in[i].failed = s->in[i].done = true;
            rc = 1;
        }
    }
    bool keep_positions = !s->once && (s->state_given || s->hub);
    if (keep_positions)
        sensor_positions_load(s);
    bool any_iface = false;
    for (size_t i = 0; i < s->nin; i++)
        any_iface |= s->in[i].kind == KZ_TEL_IN_IFACE && s->in[i].has_thread;

    int64_t last_pull = kz_time_now_us(), last_flush = last_pull, last_save = last_pull;
    if (!s->clock_records)
        s->clock = last_pull;
    s->last_record_wall = last_pull;
    while (!sensor_stop) {
        long got = 0;
        bool all_done = true;
        for (size_t i = 0; i < s->nin && !sensor_stop; i++) {
            sensor_input *in = &s->in[i];
            if (any_iface)
                pthread_mutex_lock(&s->lock);
            long g = sensor_input_poll(in);
            if (any_iface)
                pthread_mutex_unlock(&s->lock);
            if (g > 0)
                got += g;
            if (!in->done)
                all_done = false;
        }
        if (s->once && all_done && !any_iface)
            break;
        if (!got) { /* quiet: the streams let their generation go (memory after an update) */
            if (any_iface)
                pthread_mutex_lock(&s->lock);
            for (int k = 0; k < 5; k++)
                kz_engine_stream_rest(s->stream[k]);
            if (any_iface)
                pthread_mutex_unlock(&s->lock);
        }
        int64_t now = kz_time_now_us();
        if (got)
            s->last_record_wall = now;
        if (s->alerts && !s->once)
            fflush(s->alerts);
        if (any_iface)
            pthread_mutex_lock(&s->lock);
        /* a bucket closes one bucket after the newest record time passed its end, or when
         * every input has been quiet for a bucket's length */
        if (s->sight && kz_sensor_sightings_open(s->sight)) {
            if (now - s->last_record_wall > s->bucket_s * 1000000)
                sensor_sightings_emit(s, INT64_MAX);
            else if (s->max_ts)
                sensor_sightings_emit(s, s->max_ts - s->bucket_s * 1000000);
        }
        if (any_iface)
            pthread_mutex_unlock(&s->lock);
        if (!s->clock_records && now - s->clock >= 60000000) {
            kz_engine_advance(s->engine, now, err, sizeof err);
            s->clock = now;
        }
        if (!s->once && s->collection && now - last_pull >= s->poll_s * 1000000) {
            sensor_hub_pull(s);
            last_pull = now;
        }
        if (!s->once && s->outbox && now - last_flush >= s->flush_s * 1000000) {
            sensor_outbox_flush(s, false);
            last_flush = now;
        }
        /* a position is saved only while every hit before it is in a queued sighting: after
         * a crash the lines past it are matched again, so no count is lost */
        if (keep_positions && now - last_save >= 1000000 &&
            (!s->sight || kz_sensor_sightings_open(s->sight) == 0)) {
            if (sensor_positions_save(s) < 0 && !s->quiet)
                fprintf(stderr, "kizuna sensor: cannot save read positions in %s\n",
                        s->state_dir);
            last_save = now;
        }
        if (!got)
            nap_ms(200);
    }
    sensor_stop_b = true;
    for (size_t i = 0; i < s->nin; i++)
        sensor_iface_join(&s->in[i]);
    for (size_t i = 0; i < s->nin; i++)
        sensor_input_finish(&s->in[i]);
    for (size_t i = 0; i < s->nin; i++)
        if (s->in[i].failed && s->in[i].kind != KZ_TEL_IN_IFACE) {
            fprintf(stderr, "kizuna sensor: %s could not be read to its end\n", s->in[i].path);
            if (s->once)
                rc = 1;
        }
    if (s->alerts)
        fflush(s->alerts);
    if (s->sight) {
        sensor_sightings_emit(s, INT64_MAX);
        sensor_outbox_flush(s, true);
    }
    if (keep_positions)
        sensor_positions_save(s);
    summary(s);
out:
    for (size_t i = 0; i < s->nin; i++)
        sensor_input_close(&s->in[i]);
    sensor_hub_close(s);
    kz_sensor_sightings_free(s->sight);
    for (int k = 0; k < 5; k++) {
        kz_engine_stream_free(s->stream[k]);
        free(s->ring[k]);
    }
    kz_sensor_map_free(s->map);
    kz_engine_free(s->engine);
    kz_buf_free(&s->line);
    if (s->alerts && !s->alerts_is_stdout)
        fclose(s->alerts);
    syslog_close(s);
    kz_buf_free(&s->syslog_msg);
    pthread_mutex_destroy(&s->lock);
    return rc;
}

int cmd_sensor(int argc, char **argv)
{
    opts o = {0};
    int rc = sensor_main(&o, argc, argv);
    for (size_t i = 0; i < o.nowned; i++)
        free(o.owned[i]);
    return rc;
}
