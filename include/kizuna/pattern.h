/*
 * kizuna pattern: STIX 2.0/2.1 patterning — lexer, parser to an AST, semantic checks,
 * printer, inspector and the evaluator over observed-data.
 *
 * Ownership: kz_pattern_parse returns a kz_pattern that owns its whole AST (one arena);
 * free it with kz_pattern_free. A parsed pattern is immutable and may be evaluated from
 * several threads at once. Errors carry a 1-based line and column.
 */
#ifndef KIZUNA_PATTERN_H
#define KIZUNA_PATTERN_H

#include <kizuna/core.h>
#include <kizuna/json.h>

/* ---- AST -------------------------------------------------------------------------------- */

typedef enum {
    KZ_LIT_STRING,    /* 'text' — str/len hold the unescaped UTF-8 */
    KZ_LIT_INT,       /* i */
    KZ_LIT_FLOAT,     /* f */
    KZ_LIT_BOOL,      /* b */
    KZ_LIT_BINARY,    /* b'base64' — str/len hold the decoded bytes */
    KZ_LIT_HEX,       /* h'hex' — str/len hold the decoded bytes */
    KZ_LIT_TIMESTAMP, /* t'...' — t holds the instant, str the text between quotes */
    KZ_LIT_SET,       /* ( lit, lit, ... ) for IN — items/nitems */
} kz_lit_kind;

typedef struct kz_pat_lit {
    kz_lit_kind kind;
    const char *str; /* NUL-terminated; may contain NULs for binary/hex (use len) */
    size_t len;
    int64_t i;
    double f;
    bool b;
    kz_time t;
    struct kz_pat_lit *items;
    size_t nitems;
} kz_pat_lit;

typedef enum {
    KZ_STEP_KEY,   /* .name or .'quoted name' */
    KZ_STEP_INDEX, /* [n] */
    KZ_STEP_ANY,   /* [*] */
} kz_step_kind;

typedef struct kz_pat_step {
    kz_step_kind kind;
    const char *key; /* KZ_STEP_KEY */
    int64_t index;   /* KZ_STEP_INDEX */
} kz_pat_step;

/* type:step.step[...]: the first step is always a key (the property after ':'). */
typedef struct kz_pat_path {
    const char *object_type;
    kz_pat_step *steps;
    size_t nsteps;
} kz_pat_path;

typedef enum {
    KZ_CMP_EQ,
    KZ_CMP_NE,
    KZ_CMP_LT,
    KZ_CMP_GT,
    KZ_CMP_LE,
    KZ_CMP_GE,
    KZ_CMP_IN,
    KZ_CMP_LIKE,
    KZ_CMP_MATCHES,
    KZ_CMP_ISSUBSET,
    KZ_CMP_ISSUPERSET,
    KZ_CMP_EXISTS,
} kz_cmp_op;

/* The boolean expression inside one [ ... ]. */
typedef enum { KZ_CE_CMP, KZ_CE_AND, KZ_CE_OR } kz_ce_kind;

typedef struct kz_pat_cmp {
    kz_ce_kind kind;
    /* KZ_CE_CMP */
    kz_pat_path path;
    kz_cmp_op op;
    bool negated; /* NOT before the operator */
    kz_pat_lit lit; /* unused for EXISTS */
    int line, column; /* of the comparison's first token */
    /* KZ_CE_AND / KZ_CE_OR */
    struct kz_pat_cmp *left, *right;
} kz_pat_cmp;

typedef enum {
    KZ_OE_OBS,        /* [ cmp ] */
    KZ_OE_AND,
    KZ_OE_OR,
    KZ_OE_FOLLOWEDBY,
    KZ_OE_WITHIN,     /* child WITHIN seconds SECONDS */
    KZ_OE_REPEATS,    /* child REPEATS n TIMES */
    KZ_OE_STARTSTOP,  /* child START t STOP t */
} kz_oe_kind;

typedef struct kz_pat_obs {
    kz_oe_kind kind;
    kz_pat_cmp *cmp;                 /* KZ_OE_OBS */
    struct kz_pat_obs *left, *right; /* binary operators; qualifiers use left as the child */
    double within_seconds;           /* KZ_OE_WITHIN (integer or float literal) */
    int64_t repeats;                 /* KZ_OE_REPEATS */
    kz_time start, stop;             /* KZ_OE_STARTSTOP */
    const char *start_text, *stop_text;
    int line, column;
    /* Added by the parser (2.0/2.1 details the fields above cannot express): */
    bool parenthesized;     /* written inside ( ) in the source; the printer keeps those
                               parentheses under a qualifier, and the duplicate-qualifier rule
                               (2.1) does not look through them, as the reference validator */
    const char *time_error; /* KZ_OE_STARTSTOP, STIX 2.0 only: the first of the START and STOP
                               strings that is not a valid timestamp (its kz_time is then
                               meaningless), NULL when both are valid. 2.0 takes
                               plain strings there and the reference matcher rejects a bad one
                               at match time, so the evaluator must report a runtime error. */
} kz_pat_obs;

typedef struct kz_pattern kz_pattern;

/* Parse and check a pattern. version is 20 or 21 (EXISTS is 2.1 only; 2.0 differences).
 * On failure returns NULL and fills line, column (1-based) and msg. */
kz_pattern *kz_pattern_parse(const char *text, int version, int *line, int *column, char *msg,
                             size_t msglen);
/* Options for kz_pattern_parse_ex. */
enum {
    /* Accept the same qualifier type twice on one observation expression ("[a] REPEATS 2 TIMES
     * REPEATS 3 TIMES"). The spec forbids it and so does kz_pattern_parse (like the OASIS
     * validator), but the OASIS matcher evaluates such patterns; this flag reproduces that. */
    KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS = 1u << 0,
};
/* kz_pattern_parse with options (0 = kz_pattern_parse). */
kz_pattern *kz_pattern_parse_ex(const char *text, int version, unsigned flags, int *line,
                                int *column, char *msg, size_t msglen);
void kz_pattern_free(kz_pattern *p);
const kz_pat_obs *kz_pattern_root(const kz_pattern *p);
int kz_pattern_version(const kz_pattern *p);

/* ---- limits ----------------------------------------------------------------------------- */

/* Longest pattern text accepted (bytes); longer input is rejected with an error at 1:1. */
#define KZ_PATTERN_MAX_LEN (4 * 1024 * 1024)
/* Deepest nesting of brackets and parentheses; deeper input fails with "nesting too deep". */
#define KZ_PATTERN_MAX_NESTING 256
/* Deepest AST (kz_pat_obs and kz_pat_cmp levels together) that the parser ever returns, so
 * a consumer may recurse over the tree. Chains of AND or OR are built balanced, so a chain of
 * a million comparisons is about 20 levels; FOLLOWEDBY chains and qualifiers add one each. */
#define KZ_PATTERN_MAX_DEPTH 1024

/* ---- printer and inspector -------------------------------------------------------------- */

/* Append the canonical text of a pattern: single spaces around operators, '=' and '!=' for
 * '=='/'<>', parentheses only where precedence needs them (and kept around a qualified
 * group), literals in canonical form (lowercase hex, canonical base64, shortest round-trip
 * numbers; timestamps as written). Parsing the output gives a pattern that prints the same.
 * Returns 0, or -1 when out of memory (out->oom). */
int kz_pattern_print(const kz_pattern *p, kz_buf *out);
/* Same, for one comparison expression (what is inside [ ]) and for one literal. */
int kz_pattern_print_cmp(const kz_pat_cmp *c, kz_buf *out);
int kz_pattern_print_lit(const kz_pat_lit *lit, kz_buf *out);
/* Canonical name of an operator ("=", "!=", "IN", "ISSUPERSET", ...) and of a literal kind
 * ("string", "int", "float", "bool", "binary", "hex", "timestamp", "set"). */
const char *kz_pattern_op_name(kz_cmp_op op);
const char *kz_pattern_lit_kind_name(kz_lit_kind k);

/* Describe a pattern as JSON (new reference; NULL when out of memory):
 *   {"stix_version": "2.1",
 *    "comparisons": [{"type": "file", "path": ["hashes", "SHA-256"], "operator": "NOT =",
 *                     "value": <JSON>, "kind": "string", "text": "'...'"}, ...],
 *    "qualifiers": ["REPEATS 5 TIMES", "START t'...' STOP t'...'", "WITHIN 5 SECONDS"],
 *    "observation_ops": ["AND", "FOLLOWEDBY", "OR"]}
 * comparisons are in pattern order; a path component is a string (key), an integer (index)
 * or "*"; EXISTS has no value. value is a JSON string for string, timestamp (as written),
 * binary (canonical base64) and hex (lowercase) literals, a number or boolean otherwise, and
 * an array of values for IN sets. qualifiers and observation_ops are sorted and distinct. */
json_t *kz_pattern_inspect(const kz_pattern *p);

#endif
