/*
 * Internal to lib/pattern's front end (lexer, parser, semantic checks, printer, inspector):
 * the per-pattern arena, the concrete kz_pattern, the token type and the error record.
 * Nothing here is part of the public contract in <kizuna/pattern.h>.
 */
#ifndef KZ_PATTERN_PARSE_INTERNAL_H
#define KZ_PATTERN_PARSE_INTERNAL_H

#include <kizuna/pattern.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arena ------------------------------------------------------------------------------ */

/* A bump allocator made of chained blocks. Every node and string of one kz_pattern lives in
 * one arena, so freeing a pattern is one walk over its blocks and a failed parse leaks
 * nothing. Allocations are 16-byte aligned (enough for int64_t and double). */
typedef struct parse_arena_block parse_arena_block;
typedef struct parse_arena {
    parse_arena_block *head;
    size_t used, cap; /* within head */
    bool oom;
} parse_arena;

void parse_arena_init(parse_arena *a);
void parse_arena_free(parse_arena *a);
/* Zero-filled memory, or NULL (and a->oom set) when out of memory. */
void *parse_arena_alloc(parse_arena *a, size_t n);
/* Copy n bytes and append a NUL. */
char *parse_arena_strndup(parse_arena *a, const char *s, size_t n);

struct kz_pattern {
    parse_arena arena;
    kz_pat_obs *root;
    int version;
    unsigned flags; /* KZ_PATTERN_* options */
};

/* ---- errors ----------------------------------------------------------------------------- */

typedef struct parse_error {
    bool set;
    int line, column;
    char msg[256];
} parse_error;

void parse_error_set(parse_error *e, int line, int column, const char *fmt, ...) KZ_PRINTF(4, 5);

/* ---- tokens ----------------------------------------------------------------------------- */

typedef enum {
    LEX_EOF,
    LEX_ERROR,   /* malformed token; lex_state.err holds the reason */
    LEX_INVALID, /* a character the grammar has no use for ('?', '/', a lone '-', ...) */
    LEX_LBRACK,
    LEX_RBRACK,
    LEX_LPAREN,
    LEX_RPAREN,
    LEX_COLON,
    LEX_DOT,
    LEX_COMMA,
    LEX_ASTERISK,
    LEX_EQ,
    LEX_NEQ,
    LEX_LT,
    LEX_LE,
    LEX_GT,
    LEX_GE,
    LEX_IDENT,        /* [a-zA-Z_][a-zA-Z0-9_]* that is not a keyword */
    LEX_IDENT_HYPHEN, /* [a-zA-Z_][a-zA-Z0-9_-]* with at least one '-' */
    LEX_STRING,
    LEX_INT,
    LEX_FLOAT,
    LEX_BOOL,
    LEX_BINARY,
    LEX_HEX,
    LEX_TIMESTAMP,
    /* keywords (case-sensitive, as in the STIX grammar) */
    LEX_AND,
    LEX_OR,
    LEX_NOT,
    LEX_FOLLOWEDBY,
    LEX_LIKE,
    LEX_MATCHES,
    LEX_ISSUBSET,
    LEX_ISSUPERSET,
    LEX_EXISTS,
    LEX_LAST,
    LEX_IN,
    LEX_START,
    LEX_STOP,
    LEX_SECONDS,
    LEX_WITHIN,
    LEX_REPEATS,
    LEX_TIMES,
} lex_kind;

typedef struct lex_token {
    lex_kind kind;
    const char *start; /* into the source text */
    size_t len;
    int line, column; /* 1-based; columns count code points, as ANTLR does (+1) */
    bool negative;    /* LEX_INT / LEX_FLOAT written with a leading '-' */
    /* decoded values (LEX_STRING, LEX_BINARY, LEX_HEX, LEX_TIMESTAMP: into the arena) */
    char *str;
    size_t slen;
    int64_t i;
    double f;
    bool b;
    kz_time t;
} lex_token;

typedef struct lex_state {
    const char *src;
    size_t len, pos;
    int line, column;
    parse_arena *arena;
    char err[200]; /* for LEX_ERROR */
    int err_line, err_column;
} lex_state;

void lex_init(lex_state *lx, const char *src, size_t len, parse_arena *arena);
/* Scan the next token. Never fails hard: malformed input gives LEX_ERROR or LEX_INVALID. */
void lex_next(lex_state *lx, lex_token *tok);

/* ---- front-end passes ------------------------------------------------------------------- */

/* Parser: fills p->root or e. */
int parse_pattern(kz_pattern *p, const char *text, size_t len, parse_error *e);
/* Semantic checks over a parsed AST (hash values, duplicate qualifiers, REPEATS >= 1). */
int parse_semantic_check(const kz_pattern *p, parse_error *e);

/* Formatting helpers shared by the printer and the inspector. */
int parse_format_float(double f, kz_buf *out);
int parse_format_seconds(double f, kz_buf *out);
int parse_print_string(const char *s, size_t len, kz_buf *out);

#endif
