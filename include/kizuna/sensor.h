/*
 * kizuna sensor: the reusable parts of `kizuna sensor` (docs/SENSOR.md).
 *
 *  - the map: one decoded telemetry record (kz_tel_record) becomes one compact engine
 *    observation (kz_engine_record) carrying the STIX objects the record describes, without
 *    building JSON;
 *  - alerts: one hit on one record becomes one JSON line shaped like Suricata's EVE `alert`;
 *  - sightings: hits aggregated per indicator and time bucket into STIX sightings whose id and
 *    modified depend only on (indicator, bucket, organisation, sensor), so a re-post is an
 *    exact duplicate.
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
/* Close the buckets that end at or before until_us (INT64_MAX: all) and return them as a JSON
 * array of sightings, sorted by id (possibly empty), or NULL when out of memory. */
json_t *kz_sensor_sightings_close(kz_sensor_sightings *s, int64_t until_us);
/* Buckets open now, and hits counted so far. */
size_t kz_sensor_sightings_open(const kz_sensor_sightings *s);
uint64_t kz_sensor_sightings_hits(const kz_sensor_sightings *s);
/* The deterministic sighting id: UUIDv5 over indicator id, bucket start (microseconds), org
 * and sensor name; out needs 48 bytes. Returns 0 or -1. */
int kz_sensor_sighting_id(const char *indicator_id, int64_t bucket_start_us, const char *org,
                          const char *sensor, char *out);

#endif
