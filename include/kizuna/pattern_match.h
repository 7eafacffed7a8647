/*
 * kizuna pattern matching: evaluate a parsed STIX pattern (<kizuna/pattern.h>) against
 * observed-data, following the OASIS reference matcher's semantics (docs/PATTERN-EVAL.md).
 *
 * Two objects:
 *   - kz_obs_set: the observations, loaded once from JSON. STIX 2.1 observed-data with
 *     object_refs into the SCOs of the same bundle, the 2.1 form with embedded `objects`,
 *     and STIX 2.0 observed-data (embedded `objects` keyed "0", "1", ...). References are
 *     indexed and objects grouped by type at load time so that many patterns are cheap.
 *   - kz_matcher: a pattern prepared for evaluation (regular expressions compiled, qualifiers
 *     checked). kz_pattern_match is the one-shot convenience over both.
 *
 * An observed-data with number_observed n counts as n observations (the reference does so):
 * it can satisfy up to n distinct observation expressions of one binding.
 *
 * Ownership: every *_new / *_from_json result is owned by the caller and freed with the
 * matching *_free. A kz_obs_set keeps its own reference to the JSON it was built from; a
 * kz_matcher borrows its kz_pattern, which must outlive it.
 *
 * Thread-safety: a kz_obs_set and a kz_matcher are immutable once built. Any number of
 * threads may evaluate the same matcher over the same observation set at the same time;
 * each call keeps its state on its own. Building and freeing need exclusive access.
 *
 * Errors: functions that can fail write a human-readable reason into err (errlen bytes,
 * may be NULL/0). Matching returns 1 (match), 0 (no match) or -1 (runtime error: e.g. a
 * malformed timestamp in the data, an invalid regular expression, WITHIN 0 SECONDS, a
 * non-homogeneous IN set, or the search budget exhausted).
 */
#ifndef KIZUNA_PATTERN_MATCH_H
#define KIZUNA_PATTERN_MATCH_H

#include <kizuna/json.h>
#include <kizuna/pattern.h>

typedef struct kz_obs_set kz_obs_set;
typedef struct kz_matcher kz_matcher;

/* Load observations from docs, a JSON array whose elements are bundles and/or loose
 * objects, in input order. Every observed-data (inside a bundle or loose) becomes one entry,
 * in order. A 2.1 observed-data's object_refs resolve against the objects of its own bundle;
 * a loose one's against the loose (non-bundle) objects of docs. stix_version is 20 or 21
 * (either shape of observed-data is accepted with both). Returns NULL with err filled when
 * an observed-data has a missing or malformed first_observed/last_observed/number_observed,
 * or when out of memory. docs itself is not modified; the set holds a reference to it. */
kz_obs_set *kz_obs_set_from_json(const json_t *docs, int stix_version, char *err, size_t errlen);
void kz_obs_set_free(kz_obs_set *s);
/* Number of observed-data entries (not counting number_observed multiplicity). */
size_t kz_obs_set_count(const kz_obs_set *s);
/* The observed-data object of entry i (borrowed), and its "id" (NULL when absent). */
const json_t *kz_obs_set_sdo(const kz_obs_set *s, size_t i);
const char *kz_obs_set_id(const kz_obs_set *s, size_t i);

/* Prepare a pattern for evaluation. Returns NULL with err filled on a runtime error that
 * does not depend on data (invalid regex, WITHIN <= 0, REPEATS < 1, bad START/STOP
 * timestamp, non-homogeneous IN set, invalid ISSUBSET/ISSUPERSET address) or OOM. */
kz_matcher *kz_matcher_new(const kz_pattern *p, char *err, size_t errlen);
void kz_matcher_free(kz_matcher *m);

/* Find one binding of the whole pattern. On 1, *binding (when binding is not NULL) is a
 * malloc'd array of *nbinding distinct indices into s, ascending: the observed-data of one
 * binding; free it with free(). On 0 or -1, *binding is NULL and *nbinding 0. */
int kz_matcher_match(const kz_matcher *m, const kz_obs_set *s, size_t **binding, size_t *nbinding,
                     char *err, size_t errlen);

/* The observation expressions ([ ... ]) of the pattern, in source order. */
size_t kz_matcher_leaf_count(const kz_matcher *m);
const kz_pat_obs *kz_matcher_leaf(const kz_matcher *m, size_t leaf);
/* Evaluate one observation expression against observed-data entry obs of s, ignoring
 * operators and qualifiers: 1 when some object of the observation satisfies the bracketed
 * comparison expression, 0 when none does, -1 on a runtime error. Cost: proportional to the
 * objects of the types the expression names; nothing is allocated unless a value needs
 * decoding (binary properties, NFC normalisation) or a regular expression runs. */
int kz_matcher_match_observation(const kz_matcher *m, size_t leaf, const kz_obs_set *s, size_t obs,
                                 char *err, size_t errlen);

/* kz_matcher_new + kz_matcher_match + kz_matcher_free. */
int kz_pattern_match(const kz_pattern *p, const kz_obs_set *s, size_t **binding, size_t *nbinding,
                     char *err, size_t errlen);

#endif
