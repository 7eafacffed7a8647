/*
 * kizuna engine: many STIX indicators compiled into indexes that answer "which indicators
 * does this observation hit?" (docs/ENGINE.md).
 *
 * Model. An engine holds the live indicator set as an immutable *generation*: a large base
 * segment plus a small delta segment (each an index over compact indicator records) and a
 * bitmap of base records that were replaced, revoked, removed or expired. Every update
 * (load, remove, advancing the clock) builds the next generation beside the current one and
 * publishes it with one atomic pointer store; when the delta grows past a fraction of the
 * base, base and delta are merged into a new base.
 *
 * Answers. kz_engine_match_* report, for one observation, exactly the indicators whose
 * pattern the evaluator (<kizuna/pattern_match.h>, kz_matcher_match) finds matched by the set
 * that holds that observation alone. Indexes only select candidates; every candidate is
 * confirmed by the evaluator, except where the index hit is itself a proof (single string
 * equalities, "domain and subdomains", a lone ISSUBSET, OR-branches of error-free patterns:
 * docs/ENGINE.md, "Confirmation"). Patterns that need
 * several observations are answered over a stream by kz_engine_stream.
 *
 * Ownership: kz_engine_new's result is freed with kz_engine_free (after every reader has
 * released its snapshot and every stream is freed). Strings in a kz_engine_hit are borrowed
 * and valid only during the callback.
 *
 * Thread-safety: any number of threads may call kz_engine_acquire / kz_engine_match_* /
 * kz_engine_release concurrently with one another and with updates; readers never take a
 * lock and never wait. Updates (kz_engine_load, kz_engine_remove, kz_engine_advance) are
 * serialised by an internal mutex; an update only waits for readers that are inside
 * kz_engine_acquire itself (a few instructions), never for snapshots: a retired generation
 * is freed by the first later update (or kz_engine_free) that finds it released, so a thread
 * may update while holding a snapshot. A kz_engine_stream belongs to one thread at a time.
 *
 * Errors: functions return 0 (or a count) on success and -1 on failure with a reason in
 * err/errlen; per-indicator problems while loading go to a kz_diags list with the
 * indicator's id and never stop the load.
 */
#ifndef KIZUNA_ENGINE_H
#define KIZUNA_ENGINE_H

#include <kizuna/core.h>
#include <kizuna/json.h>
#include <kizuna/pattern_match.h>

typedef struct kz_engine kz_engine;
typedef struct kz_engine_gen kz_engine_gen; /* a published generation (a reader's snapshot) */

typedef struct kz_engine_opts {
    int64_t now_us;          /* instant for valid_from / valid_until; 0 = wall clock */
    size_t max_comparisons;  /* refuse patterns with more comparisons (0 = 1000) */
    size_t max_pattern_len;  /* refuse longer pattern text (0 = 64 KiB) */
    /* Updates build a new delta segment (cost: the delta's size) and fold it into the base
     * when it grows: in the update itself when the base is not larger than the delta (a
     * first load) or in the foreground mode, else in a background thread, so no update
     * waits for a large base to be rebuilt (kz_engine_settle). */
    size_t merge_ratio;      /* foreground: merge when delta*ratio > base (0 = 8) */
    size_t merge_min;        /* merge when the delta has at least this many records (0 = 65536) */
    bool merge_foreground;   /* merge in the updating thread, as soon as the rule above says */
} kz_engine_opts;

/* Totals of the live generation and of the loads so far. */
typedef struct kz_engine_stats {
    size_t live;          /* indicators that can hit now */
    size_t simple;        /* of which answered by the index alone: [p = 'x'],
                             [p = 'x' OR p LIKE '%.x'], [p ISSUBSET 'net'] */
    size_t confirmed;     /* of which need the evaluator on a candidate */
    size_t multi;         /* of which need several observations (expressions or REPEATS) */
    size_t type_scan;     /* of which are candidates by object type only (no better index) */
    size_t index_keys;    /* keys in the hash index (exact values, CIDR prefixes, suffixes) */
    size_t pending;       /* loaded but valid_from is in the future */
    size_t seen;          /* indicator objects read by every load */
    size_t rejected;      /* invalid or refused patterns, bad ids/timestamps */
    size_t other_types;   /* pattern_type other than stix: stored (counted), not evaluated */
    size_t revoked;       /* revoked versions seen */
    size_t expired;       /* valid_until in the past */
    size_t superseded;    /* older versions ignored or replaced */
    size_t index_bytes;   /* heap bytes of the live generation's segments */
    size_t base_records;  /* records of the base segment (dead ones included) */
    size_t delta_records; /* records of the delta segment */
    size_t generation;    /* number of generations published */
    size_t merges;        /* base merges published (foreground and background) */
    size_t merges_discarded; /* background merges thrown away (out of memory; base replaced) */
    bool merging;         /* a background merge is running */
} kz_engine_stats;

kz_engine *kz_engine_new(const kz_engine_opts *opts);
/* The engine's index hash is seeded at random once per process, when the first engine is
 * made, so that neither indicators nor traffic can be crafted to collide in it. To reproduce
 * one layout (debugging, benchmarks), fix the seed before the first kz_engine_new, from one
 * thread; -1 once an engine has been made (its indexes use the seed in force). */
int kz_engine_set_hash_seed(uint64_t seed);
void kz_engine_free(kz_engine *e); /* waits for a background merge first */
/* Waits until the background merge running now (if any) has published its generation or
 * been discarded. Not from inside a transaction (kz_engine_txn_begin holds the lock the
 * merge needs to publish). */
void kz_engine_settle(kz_engine *e);

/* Load indicators from text holding one bundle, one array of objects, one object, or JSON
 * lines (kz_json_each_document); non-indicator objects are skipped. Newer versions (by
 * `modified`) replace older ones of the same id; a revoked newest version removes the id.
 * Per-indicator problems go to diags (may be NULL) with the id. Publishes one generation.
 * Returns the number of indicators added or replaced, or -1 (out of memory) with err. */
long kz_engine_load(kz_engine *e, const char *text, size_t len, kz_diags *diags, char *err,
                    size_t errlen);
/* The same for an already-parsed document (borrowed). */
long kz_engine_load_json(kz_engine *e, const json_t *doc, kz_diags *diags, char *err,
                         size_t errlen);
/* Bulk loading: a transaction holds the update lock, accumulates indicators from many
 * kz_engine_txn_load calls (compiled as they come) and publishes them as one generation on
 * commit — what a 10M-indicator load needs to avoid repeated merges. Other updates wait;
 * readers do not. commit frees the transaction and returns what kz_engine_load would. */
typedef struct kz_engine_txn kz_engine_txn;
kz_engine_txn *kz_engine_txn_begin(kz_engine *e);
long kz_engine_txn_load(kz_engine_txn *t, const char *text, size_t len, kz_diags *diags);
long kz_engine_txn_commit(kz_engine_txn *t, char *err, size_t errlen);

/* Remove indicators by id (as a revocation would). Returns how many were live, or -1. */
long kz_engine_remove(kz_engine *e, const char *const *ids, size_t n, char *err,
                      size_t errlen);
/* Move the engine's clock: indicators whose valid_until <= now stop hitting, pending ones
 * whose valid_from <= now start. Returns the number of changes, or -1. */
long kz_engine_advance(kz_engine *e, int64_t now_us, char *err, size_t errlen);
void kz_engine_get_stats(kz_engine *e, kz_engine_stats *st);
/* Candidates whose confirmation by the evaluator raised a runtime error (no hit), so far. */
size_t kz_engine_match_errors(const kz_engine *e);
/* Candidates the index selected so far (one per observation and indicator, proven or not),
 * over kz_engine_match_* and streams: what measures an index's selectivity. */
size_t kz_engine_candidates(const kz_engine *e);

/* ---- reading ------------------------------------------------------------------------------
 * A snapshot pins one generation: matches through it see a consistent indicator set even
 * while updates publish newer ones. Acquire/release are wait-free for readers. */
const kz_engine_gen *kz_engine_acquire(kz_engine *e);
void kz_engine_release(kz_engine *e, const kz_engine_gen *g);

/* One hit. All pointers are borrowed for the duration of the callback. */
typedef struct kz_engine_hit {
    const char *id;            /* "indicator--<uuid>" */
    const char *name;          /* NULL when absent */
    const char *context_json;  /* {"indicator_types":[...],"confidence":n,"created_by_ref":..,
                                  "object_marking_refs":[..],"kill_chain_phases":[..]} with
                                  the members the indicator has ("{}" when none) */
    const char *fired;         /* the comparison whose index key selected the indicator, in
                                  canonical pattern syntax, or "[object type]" for a candidate
                                  chosen by object type */
    const char *pattern;       /* the pattern text */
    size_t observation;        /* index of the observation in the batch / obs set */
    const size_t *binding;     /* stream hits: sequence numbers of the observations that
                                  completed the pattern (ascending); else NULL */
    size_t nbinding;
} kz_engine_hit;

/* Return non-zero to stop matching (that value is returned). */
typedef int (*kz_engine_hit_fn)(void *ctx, const kz_engine_hit *hit);

/* Match observed-data entry i of s (kz_obs_set_from_json). Returns the number of hits, the
 * callback's non-zero value, or -1 with err. Evaluator runtime errors on a candidate count as
 * no hit (kz_engine_match_errors counts them). */
long kz_engine_match_obs(const kz_engine_gen *g, const kz_obs_set *s, size_t i,
                         kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen);

/* ---- compact observation records -----------------------------------------------------------
 * What a sensor fills without JSON. An observation holds up to KZ_ENGINE_MAX_OBJECTS objects
 * (each just a type) and fields: (object, path id, value). Path ids come from
 * kz_engine_path; they are stable for the engine's life. The record means the observed-data
 * whose embedded objects "0".."n-1" carry exactly these fields (a path a.b makes a nested
 * dictionary; a REF field's value is the key of the target object), and the engine answers as
 * if given that JSON. REF fields on a path whose last step ends in _refs
 * (domain-name:resolves_to_refs, email-message:to_refs...) are the items of that list, in
 * field order. A record is invalid (-1) when a field's object is out of range, the path's
 * object type differs from the object's, two fields set the same property (list items
 * aside), or one field's path is a prefix of another's. */
#define KZ_ENGINE_MAX_OBJECTS 64
typedef enum { KZ_EF_STR, KZ_EF_INT, KZ_EF_REF } kz_engine_field_kind;

typedef struct kz_engine_field {
    uint16_t obj;  /* index into the record's object types */
    uint16_t kind; /* kz_engine_field_kind */
    uint32_t path; /* kz_engine_path() */
    const char *s; /* KZ_EF_STR: UTF-8 bytes (need not be NUL-terminated) */
    uint32_t len;
    int64_t i;     /* KZ_EF_INT value, or KZ_EF_REF target object index */
} kz_engine_field;

typedef struct kz_engine_record {
    int64_t first_us, last_us; /* first_observed / last_observed */
    uint32_t number_observed;  /* 0 is read as 1 */
    const char *const *types;  /* object types, ntypes <= KZ_ENGINE_MAX_OBJECTS */
    size_t ntypes;
    const kz_engine_field *fields;
    size_t nfields;
} kz_engine_record;

/* Intern an object path written as in patterns without the brackets, e.g.
 * "ipv4-addr:value", "file:hashes.'SHA-256'", "network-traffic:src_ref". Returns its id
 * (>= 0) or -1 for a path that does not parse or when the registry (4096 paths) is full. */
long kz_engine_path(kz_engine *e, const char *path);

/* The object type of path id (its text before ':'), as the engine's own string: records whose
 * types[] hold these very pointers are validated without comparing type names. NULL for an
 * unknown id. Stable for the engine's life. */
const char *kz_engine_path_type(kz_engine *e, uint32_t path);

/* Match one record; batch: n records, hit->observation is the index in the batch (the
 * batch prefetches the index slots of every field before probing). Returns hits or -1. */
long kz_engine_match_record(const kz_engine_gen *g, const kz_engine_record *r,
                            kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen);
long kz_engine_match_batch(const kz_engine_gen *g, const kz_engine_record *r, size_t n,
                           kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen);
/* The exact-value index alone (what an Intel-framework style lookup needs): the number of
 * live indicators that the value proves by itself — [T:path = 'value'] and the equality half
 * of [T:path = 'value' OR T:path LIKE '%.value']. The batch form prefetches in a window:
 * counts[i] for (paths[i], vals[i], lens[i]). */
size_t kz_engine_lookup_exact(const kz_engine_gen *g, uint32_t path, const char *val,
                              size_t len);
void kz_engine_lookup_exact_batch(const kz_engine_gen *g, const uint32_t *paths,
                                  const char *const *vals, const uint32_t *lens, size_t n,
                                  uint32_t *counts);
/* The CIDR index alone: the number of live [T:path ISSUBSET 'net'] indicators whose network
 * contains the address (or CIDR) value — the all-prefix answer — and in *longest (may be
 * NULL) the longest such prefix length, -1 when none: the longest-prefix answer. 0 when the
 * value is not an address. */
size_t kz_engine_lookup_cidr(const kz_engine_gen *g, uint32_t path, const char *val, size_t len,
                             int *longest);
/* The observed-data JSON a record stands for (the observed-data object with its embedded
 * objects), new reference or NULL with err. */
json_t *kz_engine_record_to_json(const kz_engine *e, const kz_engine_record *r, char *err,
                                 size_t errlen);

/* ---- streams of observations (multi-observation patterns) -----------------------------------
 * A stream keeps, per indicator with several observation expressions, the recent
 * observations that matched one of its expressions, and reports a hit when the evaluator
 * finds the buffered observations (in arrival order, each numbered by its sequence number)
 * matching the whole pattern; the observations of that binding are then consumed. Memory is
 * bounded: at most max_per_indicator buffered observations per indicator (oldest dropped),
 * max_total across the stream, and observations whose last_observed is older than
 * max_age_us before the newest first_observed seen are expired (a WITHIN d qualifier on the
 * whole pattern lowers the age to d). Single-expression indicators are reported at once, as
 * kz_engine_match_* do. A stream belongs to one thread at a time, and a hit callback must
 * not feed the stream that called it. */
typedef struct kz_engine_stream kz_engine_stream;
typedef struct kz_engine_stream_opts {
    size_t max_per_indicator; /* 0 = 64 */
    size_t max_total;         /* 0 = 1,000,000 */
    int64_t max_age_us;       /* 0 = 24 hours */
    bool no_within_expiry;    /* keep max_age for WITHIN patterns too: needed when
                                 observations may arrive out of first_observed order */
} kz_engine_stream_opts;

kz_engine_stream *kz_engine_stream_new(kz_engine *e, const kz_engine_stream_opts *o);
void kz_engine_stream_free(kz_engine_stream *st);
/* Between feeds a stream keeps the generation it matched with while that is still the
 * engine's current one (no reference counting per record). An idle stream would so keep an
 * old generation's memory after an update until its next feed: call this when its input goes
 * quiet (the next feed takes the current generation again). */
void kz_engine_stream_rest(kz_engine_stream *st);
/* Feed observed-data entry i of s (its sequence number is the count fed so far). Hits of
 * every pattern completed by it go to fn (binding set for multi-observation patterns).
 * Returns the number of hits or -1. */
long kz_engine_stream_feed_obs(kz_engine_stream *st, const kz_obs_set *s, size_t i,
                               kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen);
long kz_engine_stream_feed_record(kz_engine_stream *st, const kz_engine_record *r,
                                  kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen);
/* Feed n records in order, exactly as n calls of kz_engine_stream_feed_record would (same
 * hits, same stream state, same observation sequence numbers), but through the engine's batch
 * pipeline (the cache misses of the records ahead overlap the work on the current one). Hits
 * of record k go to fn with ctxs[k]. res[k] receives record k's hit count, or -1 when the
 * engine refuses the record (err then holds the first such message). Returns the total number
 * of hits, or -1 when matching failed (memory): records after the failing one are not fed and
 * get res[k] = -2. fn must return 0 (stopping in the middle of a batch is not supported). */
long kz_engine_stream_feed_batch(kz_engine_stream *st, const kz_engine_record *r, size_t n,
                                 kz_engine_hit_fn fn, void *const *ctxs, long *res,
                                 char *err, size_t errlen);
/* Observations buffered now (all indicators) and dropped by a bound or expiry so far. */
size_t kz_engine_stream_buffered(const kz_engine_stream *st);
size_t kz_engine_stream_dropped(const kz_engine_stream *st);

/* ---- synthetic indicator sets (benchmarks and tests) ---------------------------------------
 * Deterministic indicator i of a realistic mix: 40% IPv4/IPv6 addresses, 5% CIDRs,
 * 30% domains (a third of them "domain and subdomains"), 15% URLs, 10% file hashes.
 * Writes one STIX 2.1 indicator as JSON text into out (reset first). value (may be NULL)
 * receives the observable value that hits it, kind its class ("ipv4", "ipv6", "cidr",
 * "domain", "suffix", "url", "sha256", "md5"). */
int kz_engine_gen_indicator(uint64_t seed, uint64_t i, kz_buf *out, kz_buf *value,
                            const char **kind);

#endif
