/* kizuna sensor (src side): shared state of cmd_sensor.c, sensor_io.c and sensor_hub.c. */
#ifndef KZ_SENSOR_INT_H
#define KZ_SENSOR_INT_H

#include <kizuna/engine.h>
#include <kizuna/sensor.h>
#include <kizuna/taxii_client.h>
#include <kizuna/telemetry.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#define SENSOR_MAX_INPUTS 64

typedef struct sensor sensor;

/* One input: a decoder plus, for text files, a tail reader. */
typedef struct sensor_input {
    kz_tel_input kind;
    char *path;
    sensor *s;
    kz_tel_sink sink;
    kz_tel_zeek *zeek;
    kz_tel_eve *eve;
    kz_tel_pcap *pcap;
    kz_sensor_capfile *capf; /* a followed capture: packets split from the bytes as they come */
    /* tail state (plain text files, and captures in follow mode) */
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off;
    char *buf;
    size_t len, cap;
    bool skipping;   /* inside a line longer than the limit; a capture: corrupt, ignored
                        until the path names a new file or the file shrinks */
    bool done;       /* --once: read to the end (or failed) */
    bool failed;
    bool missing_reported;
    uint64_t lines;  /* lines, or packets of a capture */
    uint64_t skip_until; /* restart in follow mode: lines already handled, decoded (for the
                            Zeek headers) but not matched again */
    /* malformed reports to stderr, bounded per second */
    long rate_sec;
    unsigned rate_n;
    uint64_t rate_suppressed;
    uint64_t long_lines;
    pthread_t thread; /* iface */
    bool has_thread;
    struct pcap *live; /* iface: opened by the main thread, which also wakes and closes it */
} sensor_input;

struct sensor {
    /* options */
    const char *sensor_name;
    const char *alerts_path;
    const char *state_dir;
    const char *org;
    const char *hub, *collection, *sightings_collection;
    const char *cacert;
    bool insecure;
    const char *user, *password_file, *token_file;
    long bucket_s;
    long poll_s, flush_s;
    bool once, quiet;
    bool observed; /* --sighting-observed-data: each sighting carries its first hit's record */
    bool state_given; /* --state on the command line: follow mode keeps read positions */
    bool clock_records; /* validity windows follow record time (retro-hunts), not the wall */
    int64_t clock;      /* the engine's clock, last advanced to */
    int clock_set;      /* --clock: 0 default, 1 records, 2 wall */
    int max_reports; /* malformed reports per input per second */

    kz_engine *engine;
    kz_sensor_map *map;
    kz_engine_stream *stream[5]; /* per input kind: a pattern spans one source family */
    /* where each observation fed to a stream came from, by sequence number modulo the ring:
     * the other observations of a multi-observation hit are named in its alert */
    struct seqpos {
        uint32_t input;
        uint64_t pos;
    } *ring[5];
    uint64_t fed[5];
    FILE *alerts;
    bool alerts_is_stdout;
    /* --alerts syslog: our own AF_UNIX client of the local syslog socket */
    const char *syslog_socket;
    int syslog_fd;
    bool syslog_stream;       /* the socket is SOCK_STREAM: messages end in NUL */
    int64_t syslog_retry_us;  /* no reconnect attempt before this (wall clock) */
    uint64_t syslog_dropped;  /* alerts that reached no syslog */
    bool syslog_warned;
    kz_buf syslog_msg;
    kz_sensor_sightings *sight;
    kz_taxii_client *client;
    kz_taxii_outbox *outbox;
    FILE *indfile; /* state/indicators.jsonl, appended by pulls */
    kz_sensor_store *store; /* state/indicators.jsonl, appended by pulls, compacted */
    pthread_mutex_t lock; /* the record path, when iface threads run */
    kz_buf line;

    sensor_input in[SENSOR_MAX_INPUTS];
    size_t nin;

    /* counters */
    uint64_t records, alerts_n, match_errors, malformed;
    int64_t max_ts;
    int64_t last_record_wall;
};

extern volatile sig_atomic_t sensor_stop;
extern volatile bool sensor_stop_b;

/* sensor_io.c */
int sensor_input_open(sensor *s, sensor_input *in, char *err, size_t errlen);
/* Read what is available; returns bytes consumed (0: nothing new), -1 on a hard error. */
long sensor_input_poll(sensor_input *in);
void sensor_input_close(sensor_input *in);
/* A clean stop: what a followed capture's decoder still holds (flows, pending handshakes)
 * becomes records now. */
void sensor_input_finish(sensor_input *in);
const kz_tel_stats *sensor_input_stats(const sensor_input *in);
int sensor_iface_start(sensor_input *in, char *err, size_t errlen);
void sensor_iface_join(sensor_input *in);
/* Follow mode: remember how far each text input was handled (STATE/positions), and resume
 * there after a restart when the path still names the same file. */
int sensor_positions_save(sensor *s);
/* The earliest time of the first dated record of every file input (read ahead, nothing is
 * matched); false when none has one. */
bool sensor_first_record_time(sensor *s, int64_t *ts);
void sensor_positions_load(sensor *s);

/* cmd_sensor.c */
void sensor_on_record(void *ctx, const kz_tel_record *r);
void sensor_on_malformed(void *ctx, const kz_tel_malformed *m);

/* sensor_hub.c */
int sensor_hub_open(sensor *s);
/* Load an indicator file (bundle, array, object or JSON lines) in one engine transaction.
 * JSON lines are parsed a chunk at a time, so memory holds the compiled indicators and one
 * chunk, not the whole file's DOM. torn_tail: ignore an unfinished last line (a crash while
 * appending). Returns indicators added or -1 (message printed). */
long sensor_load_indicators(sensor *s, const char *path, bool torn_tail);
/* Load the indicator set kept on disk; returns indicators loaded or -1. */
long sensor_hub_load_disk(sensor *s);
/* Pull what the hub added since the cursor; returns indicators added or -1 (hub down). */
long sensor_hub_pull(sensor *s);
/* Close buckets up to until_us and queue them; then try to deliver. */
int sensor_sightings_emit(sensor *s, int64_t until_us);
int sensor_outbox_flush(sensor *s, bool final);
void sensor_hub_close(sensor *s);

#endif
