/*
 * kizuna sensor: the reusable parts of `kizuna sensor` (docs/SENSOR.md).
 *
 *  - the map: one decoded telemetry record (kz_tel_record) becomes one compact engine
 *    observation (kz_engine_record) carrying the STIX objects the record describes, without
 *    building JSON;
 *  - alerts: one hit on one record becomes one JSON line shaped like Suricata's EVE `alert`;
 *  - sightings: hits aggregated per indicator and time bucket into STIX sightings whose id and
 *    modified depend only on (indicator, bucket, organisation, sensor), so a re-post is an
 *    exact duplicate; optionally with the observed-data (and SCOs) of a bucket's first hit;
 *  - capture files read as a stream: pcap/pcapng split into packets from bytes that arrive in
 *    pieces, for following a capture that is being written;
 *  - the indicator store: the JSON lines file of pulled indicators, with a crash-safe
 *    compaction to the version of each id the engine uses.
 *
 * Ownership: a map's output record and its strings live in the map until the next
 * kz_sensor_map_record call. json_t results are new references.
 * Thread-safety: one map / one sightings table per thread. Errors: -1 / NULL with err.
 */
#ifndef KIZUNA_SENSOR_H
#define KIZUNA_SENSOR_H

#include <kizuna/core.h>
#include <kizuna/engine.h>
#include <kizuna/json.h>
#include <kizuna/telemetry.h>

/* ---- map ------------------------------------------------------------------------------- */

typedef struct kz_sensor_map kz_sensor_map;

/* Interns every path the map uses in e (paths are per engine). NULL with err on failure. */
kz_sensor_map *kz_sensor_map_new(kz_engine *e, char *err, size_t errlen);
void kz_sensor_map_free(kz_sensor_map *m);
/* Fill out with the observation r stands for. now_us is used when r has no time. Returns the
 * number of objects (0: nothing an indicator could name; out is then empty). Text that is not
 * valid UTF-8 is left out (counted by kz_sensor_map_dropped). */
size_t kz_sensor_map_record(kz_sensor_map *m, const kz_tel_record *r, int64_t now_us,
                            kz_engine_record *out);
uint64_t kz_sensor_map_dropped(const kz_sensor_map *m);

/* ---- alerts ---------------------------------------------------------------------------- */

/* Severity 1 (high) .. 3 (low) from a STIX confidence (absent: 2). */
int kz_sensor_severity(long confidence, bool has_confidence);

/* Append one alert line (JSON, no newline) for hit on r to out. sensor names this sensor;
 * extra (borrowed, may be NULL) is an object whose members are added at the top level (the
 * sensor puts the other observations of a multi-observation hit there). Returns 0 or -1. */
int kz_sensor_alert_format(kz_buf *out, const kz_tel_record *r, const kz_engine_hit *hit,
                           const char *sensor, json_t *extra);

/* ---- sightings ------------------------------------------------------------------------- */

typedef struct kz_sensor_sightings kz_sensor_sightings;

/* org: the identity id of the sensor's organisation (where_sighted_refs, created_by_ref);
 * sensor: this sensor's name (part of the id, so two sensors of one organisation never
 * produce the same sighting id for different counts); bucket_s: bucket length (>= 1 s). */
kz_sensor_sightings *kz_sensor_sightings_new(const char *org, const char *sensor,
                                             int64_t bucket_s);
void kz_sensor_sightings_free(kz_sensor_sightings *s);
/* Count one hit of indicator_id at ts_us. A hit older than the buckets already closed is
 * counted in the earliest bucket still open, so a closed sighting is never rebuilt with other
 * content. Returns 0 or -1 (out of memory). */
int kz_sensor_sightings_add(kz_sensor_sightings *s, const char *indicator_id, int64_t ts_us);
/* Like kz_sensor_sightings_add; when this hit opens a bucket, obs(ctx) is called once and
 * the array it returns (new reference, as kz_sensor_observed_objects makes: an observed-data
 * without id, created, modified and creator, then its SCOs; NULL: none) is kept as the
 * bucket's evidence. Its sighting then names that observed-data in observed_data_refs. */
typedef json_t *(*kz_sensor_obs_fn)(void *ctx);
int kz_sensor_sightings_add_observed(kz_sensor_sightings *s, const char *indicator_id,
                                     int64_t ts_us, kz_sensor_obs_fn obs, void *ctx);
/* Close the buckets that end at or before until_us (INT64_MAX: all) and return them as a JSON
 * array of sightings, sorted by id (possibly empty), or NULL when out of memory. Buckets with
 * evidence put their SCOs (each id once) and observed-data objects before the sightings:
 * the observed-data id is UUIDv5(namespace, sighting id), its created = modified = the
 * sighting's, created_by_ref the org, so a re-post is an exact duplicate too. */
json_t *kz_sensor_sightings_close(kz_sensor_sightings *s, int64_t until_us);
/* Buckets open now, and hits counted so far. */
size_t kz_sensor_sightings_open(const kz_sensor_sightings *s);
uint64_t kz_sensor_sightings_hits(const kz_sensor_sightings *s);
/* The deterministic sighting id: UUIDv5 over indicator id, bucket start (microseconds), org
 * and sensor name; out needs 48 bytes. Returns 0 or -1. */
int kz_sensor_sighting_id(const char *indicator_id, int64_t bucket_start_us, const char *org,
                          const char *sensor, char *out);

/* ---- observed data --------------------------------------------------------------------- */

/* The STIX 2.1 objects of one hit record (er as kz_sensor_map_record made it from r): an
 * array whose first element is an observed-data (type, spec_version, first/last_observed,
 * number_observed, object_refs; no id, created, modified) and the rest its SCOs, with
 * deterministic ids and references rewritten to them. Custom types and what STIX 2.1 could
 * not accept are left out. NULL with err when nothing is left or out of memory. */
json_t *kz_sensor_observed_objects(const kz_engine *e, const kz_engine_record *er,
                                   const kz_tel_record *r, char *err, size_t errlen);

/* ---- capture files read as a stream (following a capture being written) ---------------- */

typedef struct kz_sensor_capfile kz_sensor_capfile;
/* One packet: linktype as in the file (LINKTYPE_ value), ts_us 0 when the block has none. */
typedef void (*kz_sensor_capfile_fn)(void *ctx, int linktype, const uint8_t *data,
                                     uint32_t caplen, uint32_t wirelen, int64_t ts_us);

/* A reader for one pcap or pcapng file, from its first byte. NULL when out of memory. */
kz_sensor_capfile *kz_sensor_capfile_new(void);
void kz_sensor_capfile_free(kz_sensor_capfile *c);
/* Hand every complete packet in buf[0..len) to fn and return the bytes used (the caller keeps
 * the rest and calls again with it and what arrived since). -1 with err when the stream is
 * not a capture or is corrupt; every later call fails too. */
long kz_sensor_capfile_feed(kz_sensor_capfile *c, const uint8_t *buf, size_t len,
                            kz_sensor_capfile_fn fn, void *ctx, char *err, size_t errlen);
/* Packets handed on so far. */
uint64_t kz_sensor_capfile_packets(const kz_sensor_capfile *c);

/* ---- the indicator store on disk (a sensor's pulled indicators) ------------------------ */

/* The JSON lines file a sensor appends pulled indicators to (STATE/indicators.jsonl), with
 * its compaction (lib/sensor/store.c). One owner (thread) per store. */
typedef struct kz_sensor_store kz_sensor_store;

/* Open (create) the store at path for appending: removes a leftover PATH.compact (a
 * compaction that did not finish; the file at path is whole), cuts an unfinished last line
 * (a crash while appending; a whole object without its newline gets one), and counts the
 * lines and distinct ids. A file that is not JSON lines (first line not a whole object, or a
 * bundle) is left as it is and never compacted. NULL with err. */
kz_sensor_store *kz_sensor_store_open(const char *path, char *err, size_t errlen);
void kz_sensor_store_close(kz_sensor_store *st);
/* Append one object as a line (buffered: not durable before kz_sensor_store_sync). */
int kz_sensor_store_append(kz_sensor_store *st, const json_t *obj);
/* fflush + fsync: what was appended survives a power loss. 0 or -1 with err. */
int kz_sensor_store_sync(kz_sensor_store *st, char *err, size_t errlen);
/* Lines in the file, and distinct ids among them (counted by hash). */
uint64_t kz_sensor_store_lines(const kz_sensor_store *st);
size_t kz_sensor_store_ids(const kz_sensor_store *st);
/* Whether the file has grown well beyond its set: at least min_lines lines and more than
 * twice as many as distinct ids (and as the last compaction left). */
bool kz_sensor_store_should_compact(const kz_sensor_store *st, uint64_t min_lines);

typedef struct kz_sensor_compact_stats {
    uint64_t lines_in, lines_out, dropped;
} kz_sensor_compact_stats;
/* Points a compaction passes, for tests that simulate a crash there. */
enum {
    KZ_SENSOR_COMPACT_HALF_WRITTEN = 1, /* half the new file written (and flushed) */
    KZ_SENSOR_COMPACT_SYNCED = 2,       /* the new file complete and fsync'd, not renamed */
    KZ_SENSOR_COMPACT_RENAMED = 3       /* renamed over the old one, directory not fsync'd */
};
/* Non-zero: stop right there as a crash would (nothing cleaned up; the store must then be
 * closed and opened again). */
typedef int (*kz_sensor_compact_hook)(void *ctx, int stage);
/* Rewrite the file so that it holds, per id, the version the engine picks when loading it
 * (revoked and expired ones included: they refuse older versions that come later), and
 * nothing the engine would not use; loading it gives the same engine state as before.
 * eo: the options of the engines that load the file (its clock is ignored). Crash-safe:
 * written beside, fsync'd, renamed over, directory fsync'd. 0, or -1 with err (the old file
 * is then still the store, unless the hook stopped it). hook may be NULL. */
int kz_sensor_store_compact(kz_sensor_store *st, const kz_engine_opts *eo,
                            kz_sensor_compact_hook hook, void *hctx,
                            kz_sensor_compact_stats *stats, char *err, size_t errlen);
/* The top-level "id" member of a JSON object written on one line, found without parsing the
 * line (a pointer into line, *idlen bytes, escapes left as written), or NULL. */
const char *kz_sensor_store_line_id(const char *line, size_t len, size_t *idlen);

#endif
