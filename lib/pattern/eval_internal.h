/*
 * Internal to the pattern evaluator (observation.c, compare.c, eval.c, eval_search.c):
 * the loaded observation set, prepared comparisons and the instants used for temporal
 * reasoning. Nothing here is part of <kizuna/pattern_match.h>.
 */
#ifndef KZ_PATTERN_EVAL_INTERNAL_H
#define KZ_PATTERN_EVAL_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <kizuna/pattern_match.h>
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- instants ----------------------------------------------------------------------------
 * Seconds since the epoch plus nanoseconds (0..999999999). kz_time's microseconds would do
 * for ordering, but WITHIN adds fractional durations and the data reach back to year 1000,
 * outside an int64 of nanoseconds; a pair keeps both exact. */
typedef struct kz_evt {
    int64_t s;
    int32_t ns;
} kz_evt;

kz_evt kz_evt_from_time(const kz_time *t);
int kz_evt_cmp(const kz_evt *a, const kz_evt *b);
/* a + dur_ns (dur_ns >= 0). */
kz_evt kz_evt_add_ns(kz_evt a, int64_t dur_ns);
/* a - b in nanoseconds, saturated to INT64_MAX; requires a >= b. */
int64_t kz_evt_diff_ns(const kz_evt *a, const kz_evt *b);

/* ---- observations ------------------------------------------------------------------------ */

typedef struct kz_obs_obj {
    json_t *obj;     /* borrowed from the set's documents */
    const char *key; /* the id (2.1) or the objects-dictionary key (2.0) */
    uint32_t type_id;
    uint32_t pos; /* position in the observation's input order: the tie-break of the type sort */
} kz_obs_obj;

typedef struct kz_obs {
    json_t *sdo;
    const char *id;
    kz_evt first, last;
    int64_t count;    /* number_observed, >= 1 */
    kz_obs_obj *objs; /* sorted by type_id, input order within a type */
    uint32_t *by_key; /* indices into objs, sorted by key: reference resolution */
    size_t nobjs;
} kz_obs;

struct kz_obs_set {
    json_t *docs; /* owned reference: keeps every borrowed pointer alive */
    int version;
    kz_obs *obs;
    size_t nobs;
    const char **types; /* sorted, unique; index = type_id */
    size_t ntypes;
};

/* Type id of a type name, or UINT32_MAX when no object of the set has that type. */
uint32_t kz_obs_type_id(const kz_obs_set *s, const char *type);
/* The object that key refers to within observation o, or NULL. */
json_t *kz_obs_resolve(const kz_obs *o, const char *key);
/* [*lo, *hi) = the objects of o with the given type id. */
void kz_obs_type_range(const kz_obs *o, uint32_t type_id, size_t *lo, size_t *hi);

/* ---- values and comparisons -------------------------------------------------------------- */

typedef enum { KZ_V_STR, KZ_V_INT, KZ_V_FLOAT, KZ_V_BOOL, KZ_V_BYTES, KZ_V_OTHER } kz_vkind;

/* One value selected by an object path. Strings and bytes point into JSON or a scratch
 * buffer owned by the caller. */
typedef struct kz_val {
    kz_vkind k;
    const char *s;
    size_t len;
    int64_t i;
    double f;
    bool b;
} kz_val;

/* A comparison prepared once per matcher: compiled regexes, parsed CIDR literal. */
typedef struct kz_ecmp {
    const kz_pat_cmp *cmp;
    pcre2_code *re_text; /* LIKE / MATCHES over strings (UTF, UCP) */
    pcre2_code *re_bin;  /* over binary values; NULL when the pattern has a code point >= 256 */
    bool set_of_ts;      /* IN with timestamp items: string values are read as timestamps */
    int cidr_family;     /* ISSUBSET / ISSUPERSET literal: 4 or 6 */
    uint8_t cidr_addr[16];
    int cidr_prefix;
} kz_ecmp;

/* Prepare c (a KZ_CE_CMP node). Returns 0, or -1 with err filled. */
int kz_ecmp_prepare(kz_ecmp *e, const kz_pat_cmp *c, char *err, size_t errlen);
void kz_ecmp_clear(kz_ecmp *e);

/* Per-call scratch for comparisons: regex match data, created on first use (NULL until a
 * regex runs); the caller frees it with pcre2_match_data_free. */
typedef struct kz_cmp_scratch {
    pcre2_match_data *md;
} kz_cmp_scratch;

/* Test one value: 1 passes (NOT already applied), 0 fails, -1 runtime error. */
int kz_ecmp_test(const kz_ecmp *e, const kz_val *v, kz_cmp_scratch *sc, char *err, size_t errlen);

/* ---- the prepared matcher ------------------------------------------------------------------ */

typedef struct kz_leaf {
    const kz_pat_obs *node;
    size_t first_cmp, ncmp; /* prepared comparisons of this leaf, pre-order */
    const char **types;     /* distinct object types named, borrowed from the AST */
    size_t ntypes;
} kz_leaf;

/* Per-node facts for the search, indexed by the node's pre-order number. */
typedef struct kz_enode {
    const kz_pat_obs *node;
    int left, right; /* node numbers of the operands/child, -1 when none */
    int leaf;        /* KZ_OE_OBS: leaf index */
    size_t *leaves;  /* leaves below this node */
    size_t nleaves;
    uint64_t mandatory; /* leaf instances every binding needs (saturating) */
    int64_t within_ns;  /* KZ_OE_WITHIN, saturated */
    kz_evt start, stop; /* KZ_OE_STARTSTOP */
} kz_enode;

struct kz_matcher {
    const kz_pattern *pattern;
    kz_ecmp *cmps;
    size_t ncmps;
    kz_leaf *leaves;
    size_t nleaves;
    kz_enode *nodes;
    size_t nnodes;
};

/* The search over observations (eval_search.c). cand[leaf] lists, for every leaf, the
 * observation indices whose expression matched. Returns 1/0/-1 like kz_matcher_match. */
int kz_eval_search(const kz_matcher *m, const kz_obs_set *s, size_t *const *cand,
                   const size_t *ncand, size_t **binding, size_t *nbinding, char *err,
                   size_t errlen);

void kz_eval_seterr(char *err, size_t errlen, const char *fmt, ...) KZ_PRINTF(3, 4);

#endif
