/* kizuna gen: shared pieces of the generator (src/cmd_gen.c, src/gen_*.c).
 *
 * Everything the generator writes comes from one seeded PRNG (xoshiro256**), never from the
 * clock or libsodium, so a seed reproduces the output byte for byte. Addresses and names come
 * only from reserved ranges (RFC 5737, RFC 3849, RFC 2544 benchmarking, RFC 2606/6761
 * domains) so generated data never names a real party. */
#ifndef KZ_GEN_H
#define KZ_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct gen_rng {
    uint64_t s[4];
} gen_rng;

void gen_rng_seed(gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t gen_rng_below(gen_rng *r, uint32_t n);
/* nhex lowercase hexadecimal digits and a NUL into out (out holds nhex + 1). */
void gen_rng_hex(gen_rng *r, char *out, size_t nhex);
/* A version 4 UUID from the PRNG (out holds 37). */
void gen_rng_uuid4(gen_rng *r, char *out);
void gen_rng_bytes(gen_rng *r, uint8_t *out, size_t n);

#define GEN_PICK(r, arr) ((arr)[gen_rng_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* Index i in base 36 (lowercase), for names that stay unique however many are made. */
void gen_base36(uint64_t i, char *out, size_t len);

/* RFC 3339 with microseconds, "Z" (STIX) — buf holds 32. */
void gen_fmt_stix_time(int64_t us, char *buf, size_t len);

/* ---- indicators --------------------------------------------------------------------- */

enum { GEN_K_IPV4, GEN_K_IPV6, GEN_K_CIDR, GEN_K_DOMAIN, GEN_K_URL, GEN_K_HASH, GEN_K_COUNT };
extern const char *const gen_kind_names[GEN_K_COUNT];

typedef struct gen_ind_opts {
    uint64_t count;
    uint64_t seed;
    unsigned mix[GEN_K_COUNT]; /* weights */
    bool jsonl;
} gen_ind_opts;

/* Write the identity and count indicators to out. Returns 0, or -1 with a message in err. */
int gen_indicators_write(const gen_ind_opts *o, FILE *out, char *err, size_t errlen);

/* ---- telemetry ---------------------------------------------------------------------- */

typedef struct gen_tel_opts {
    const char *indicators; /* path of a STIX bundle, array or JSON lines */
    const char *out_dir;
    uint64_t records; /* background sessions */
    uint64_t hits;    /* planted hits */
    uint64_t seed;
    int64_t start_us;
    bool observations; /* write observations.jsonl (observed-data bundles) instead */
} gen_tel_opts;

/* Summary for the caller to print. */
typedef struct gen_tel_stats {
    size_t indicators, plantable, planted, key_entries, sessions, packets;
} gen_tel_stats;

/* Returns 0; 2 on unreadable input or unwritable output, with a message in err. */
int gen_telemetry_run(const gen_tel_opts *o, gen_tel_stats *st, char *err, size_t errlen);

#endif
