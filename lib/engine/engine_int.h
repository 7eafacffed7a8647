/*
 * Internal to the detection engine (lib/engine): registries, index keys, segments and
 * generations. Nothing here is part of <kizuna/engine.h>.
 *
 * Index key encoding (in a segment's key arena, unaligned):
 *   u16 path-or-type id | u8 kind | u16 length | bytes
 * kinds: K_STR (raw string bytes), K_IP4 / K_IP6 (the 4/16 bytes of a string that is the
 * canonical text of an address: inet_ntop(inet_pton(s)) == s), K_HEXL / K_HEXU (the bytes of
 * an even-length all-lowercase / all-uppercase hex string of >= 16 digits), K_INT (int64),
 * K_CIDR4 / K_CIDR6 (u8 prefix + masked address), K_SUF (an ASCII domain suffix starting
 * with '.'), K_TYPE (no bytes; the id is an object type id: "an object of this type").
 * The string→key map is injective per path (each string has exactly one encoding and the
 * kinds are distinct), so two strings are byte-equal iff their keys are equal: what lets
 * single string equalities be answered without the evaluator.
 */
#ifndef KZ_ENGINE_INT_H
#define KZ_ENGINE_INT_H

#include <kizuna/engine.h>
#include <kizuna/pattern.h>
#include <kizuna/pattern_match.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pattern/eval_internal.h" /* read-only use of a loaded observation's objects */

#define KZ_E_MAX_PATHS 4096u
#define KZ_E_MAX_TYPES 4096u
#define KZ_E_MAX_KEY 4096u /* longer values are not indexed (type scan) */
#define KZ_E_HEX_MAX 64u   /* the longest digest a binary form holds: 128 hex digits */
#define KZ_E_CTX_CHUNK 4096u
#define KZ_E_CTX_CHUNKS 4096u
#define KZ_E_CTX_KEYS 6

/* Posting aux bit: a hit on this key proves the pattern matches (no evaluator needed); for
 * suffix keys only when the value is ASCII without a newline (match.c checks). */
#define KZ_E_PROOF 0x80000000u
#define KZ_E_AUX_TYPE 0x7fffffffu   /* aux of a type key: no comparison */
/* aux of the keys of indicators answered by the index alone (always with KZ_E_PROOF, which
 * a probe clears when the value does not prove the comparison) */
#define KZ_E_AUX_S_EXACT 0x7ffffff0u
#define KZ_E_AUX_S_SUFFIX 0x7ffffff1u
#define KZ_E_AUX_S_CIDR 0x7ffffff2u
/* kz_emeta.shape of an index-answered indicator */
enum {
    SHAPE_EQ = 0,        /* [p = 'x'] */
    SHAPE_EQ_OR_SUF = 1, /* [p = 'x' OR p LIKE '%.x'] (domain and its subdomains) */
    SHAPE_CIDR = 2,      /* [p ISSUBSET 'net'] */
};

/* K_RE: a LIKE/MATCHES comparison's regex (u8 0 LIKE / 1 MATCHES, then the regex over the
 * NFC value, as compare.c builds it), never probed by value: a segment compiles the K_RE keys
 * of each path into one Hyperscan database (prefilter mode: it may match more, never less). */
enum { K_STR = 1, K_IP4, K_IP6, K_HEXL, K_HEXU, K_INT, K_CIDR4, K_CIDR6, K_SUF, K_TYPE, K_RE };

/* Per-path flags: which kinds of keys a segment/generation holds for the path. */
enum { PF_EXACT = 1, PF_INT = 2, PF_CIDR4 = 4, PF_CIDR6 = 8, PF_SUF = 16, PF_RE = 32, PF_CX = 64 };

/* A registered object path: the type and its key steps. simple = every step is a key and
 * none ends in _ref, _refs, _hex or _bin, so the value is reached by plain lookups. */
typedef struct kz_epath {
    uint32_t type;
    bool simple;
    /* ref1: a one-hop reference path T:x_ref.a.b (steps[0] ends in _ref, the rest are plain
     * keys): indexed like a simple path, its value read on the referenced object. Never a
     * proof (the reference walk can raise errors): always confirmed by the evaluator. */
    bool ref1;
    /* rec_ok: a record field may set it (only key steps, not "type", no reference before
     * the last step); ref_last: one step ending in _ref (a record REF field's path);
     * refs_last: the last step ends in _refs (REF fields on it are the items of a list) */
    bool rec_ok, ref_last, refs_last;
    size_t nsteps;
    /* key steps (NULL for index steps), interned in the engine: one copy per name, so two
     * steps are equal exactly when their pointers are (matching compares them per record) */
    const char **steps;
    char *text; /* "type:step.'quoted'" */
    size_t tlen; /* its length (a hit's report writes it once or twice) */
} kz_epath;

/* What evaluating a complex pattern needs: built on first use (4 KiB of AST and 4 KiB of
 * matcher each, so never for the millions of indicators that are never candidates). */
typedef struct kz_eprep {
    kz_pattern *pat;
    kz_matcher *m;
    char **fired; /* per comparison (pre-order): canonical text */
    size_t ncmp;
} kz_eprep;

/* A non-simple pattern, shared (refcounted) between segments. The count is atomic because a
 * background merge (engine.c) builds a segment, taking references, while the writer builds
 * and frees others. */
typedef struct kz_ecplx {
    char *text;
    int version;
    size_t nleaves;
    bool multi;        /* needs several observations: several expressions or REPEATS */
    int64_t within_ns; /* root WITHIN, else 0 */
    uint8_t *keys;     /* candidate keys: (u32 aux, u32 len, key) items */
    size_t keys_len;
    _Atomic(kz_eprep *) prep; /* set once by the first reader that needs it (CAS) */
    atomic_size_t refs; /* segments holding it */
} kz_ecplx;

/* The prepared form of c, building it if needed (thread-safe). NULL when out of memory. */
const kz_eprep *kz_e_prep(const kz_ecplx *c);

/* What records of a segment share, dictionary-encoded (bulk feeds repeat the same context,
 * path and kind over thousands of indicators): a record's entry holds its index. The modified
 * time is not in it: most feeds give each indicator its own, which made a meta per indicator
 * (16 bytes, and an index of 3 or 4 bytes at 10M). An entry whose modified time is the
 * segment's mod0 (own_mod 0) stores none; another stores it after its value (kz_e_seg_entry),
 * where no probe reads. */
typedef struct kz_emeta {
    uint32_t ctx;
    uint16_t path;   /* simple: the key's path id; complex: UINT16_MAX */
    uint8_t kind;    /* simple: the key's kind; complex: 0 */
    uint8_t shape;   /* simple: SHAPE_*; complex: KZ_E_COMPLEX */
    uint8_t own_mod; /* 1: the entry holds its modified time (kz_eseg.mod0 otherwise) */
    uint8_t zero[3]; /* no padding: metas are hashed and compared as bytes */
} kz_emeta;
#define KZ_E_COMPLEX 0xffu

/* One indicator of a segment: 16 bytes by record (its uuid), its entry in the arena, and, when
 * simple, its keys' entries in the simple index. Entries are in the arena in record order,
 * from offset 1 (names and complex keys follow them):
 *  - simple: [meta index, LEB128][value length, 1 or 2 bytes, absent for a kind of one length
 *    (kz_e_kind_vlen)][value] (kz_e_sval)[modified];
 *  - complex: [meta index, LEB128][index into the segment's cplx array, LEB128][modified];
 *  - [modified], only when the meta's own_mod is 1: the difference from mod0 as LEB128 of
 *    (zigzag(d / 1000) << 1) when d is whole milliseconds, else (zigzag(d) << 1 | 1).
 * A simple entry's arena offset is its ref, which the simple index holds beside each key (the
 * line after its lanes'): a probe reads it there, and no array of refs by record is kept (4
 * bytes per indicator). The CIDR rank index keeps its records' refs too, and a candidate
 * carries the ref it was found with (kz_ecand). What needs the entry of a record r without
 * one (a candidate of the complex index, a merge, a removal's count, an update) finds it from
 * the offset of every KZ_E_RSAMP-th record's entry (rsamp), skipping at most KZ_E_RSAMP - 1
 * entries (kz_e_seg_ref). Names live in a sparse side table. */
typedef struct kz_euuid {
    uint8_t b[16];
} kz_euuid;
#define KZ_E_RSAMP 16u

/* A posting of a complex pattern's key: 12 bytes. key = arena offset of a full-format key
 * (entries of one key share the offset and are adjacent), rec = record index, aux =
 * comparison number (pre-order) that produced it. */
typedef struct kz_epost {
    uint32_t key;
    uint32_t rec;
    uint32_t aux;
} kz_epost;

/* An immutable segment. Two hash indexes:
 *  - simple: the keys of index-answered indicators (two for "domain and its subdomains": the
 *    value and its suffix), in buckets of two cache lines (kz_e_sbucket, below): an entry is
 *    a u32 lane on the first (record and tag) and its ref on the second. Keys are placed in
 *    order of home bucket (the high 32 bits of the hash scaled to nsbuckets), in the home or,
 *    when it is full, in the next bucket with room; nsbtotal >= nsbuckets + 1 buckets are
 *    allocated, the last one empty. Twelve keys per bucket of 15 entries on average. An entry
 *    leads to the record and to its value in the arena. In front of it, a filter of 6 bits
 *    per key (three bits of one 64-bit word per key, about 1 in 14 false positives; a region
 *    per path): an eighth of the lanes' size, so it stays in cache where they do not, and a
 *    probe of an absent key (most of the suffix keys a name makes) is answered there instead
 *    of by a miss on its bucket. The record pipeline reads it one stage before the bucket; the
 *    exact-lookup batch does not (a present value would pay its word: see
 *    kz_engine_lookup_exact_batch).
 *  - complex: keys of patterns that need the evaluator, as postings grouped by key, and
 *    power-of-two u32 slots = (first posting + 1) | 5-bit tag << 27.
 * Bytes per simple indicator: uuid 16 + entry 10.7 + filter 0.75 + value + 1 to 3 (meta and
 * length) + 0.25 (rsamp). */
typedef struct kz_eseg {
    kz_euuid *uuids; /* sorted */
    uint32_t *rsamp; /* the arena offset of record i * KZ_E_RSAMP's entry */
    size_t nrecs;
    kz_emeta *meta;
    size_t nmeta;
    int64_t mod0;    /* the modified time of the entries whose meta has own_mod 0 */
    uint32_t *names; /* pairs (record, arena offset of u16 len + bytes), sorted by record */
    size_t nnames;
    uint32_t *sslots; /* simple index: nsbtotal buckets of KZ_E_SST u32 (kz_e_sbucket) */
    size_t nsbuckets, nsbtotal, nskeys; /* home buckets, buckets, keys */
    uint64_t *sfilt; /* the simple keys' filter: nsfilt words, a region per path */
    uint64_t nsfilt;
    uint32_t *sfoff; /* npaths + 1: path p's filter words are [sfoff[p], sfoff[p + 1]) */
    unsigned sbits;  /* bits of a simple entry holding the record */
    uint32_t smask;
    kz_epost *posts; /* complex index */
    size_t nposts;
    uint32_t *slots;
    size_t nslots; /* power of two */
    uint8_t *arena;
    size_t arena_len;
    kz_ecplx **cplx;
    size_t ncplx;
    uint8_t *pflags; /* per path id (npaths at build); PF_CX: the complex index has keys */
    uint16_t *skinds;  /* per path id: bit 1 << kind for each key kind in the simple hash
                          table, so a probe of a path this segment has no such keys on costs
                          no filter word and no bucket (a sparse path's probe would miss like
                          a dense one's) */
    uint16_t *svlen;   /* per path id: how the value of a text of n bytes is stored, from its
                          key kinds (kz_e_svlen) */
    uint64_t *c4, *c6; /* per path: CIDR prefix lengths present (c4: bit L; c6: 3 words) */
    size_t npaths;
    uint8_t *tflags; /* per type id: 1 when a type key exists */
    size_t ntypes;
    struct kz_ere *re; /* per path with K_RE keys: a Hyperscan database */
    size_t nre;
    uint64_t **c4f;  /* per (path, prefix length L <= 24) with IPv4 CIDR keys in the hash
                        tables (complex patterns' keys, and index-answered networks longer than
                        /24): a bitmap over the top L bits of the network, so a probe of a
                        length with no nearby network costs one bit test, not a hash miss.
                        Lengths above 24 share the bitmap of 24. */
    struct kz_ec4s *c4s; /* per (path, L <= 24), npaths * 25: the index-answered IPv4 networks
                            (NULL when there are none) */
    uint32_t *c4n;    /* per path: its IPv4 network keys (counted by note_key) */
    uint64_t **c4any; /* per path with IPv4 networks (else NULL): a bitmap over the top
                         c4anyb[p] bits of an address (10 to 20, about 16 bits per network),
                         set where some network of the path, of any length and in any index,
                         lies or reaches. A clear bit answers "no network contains it" for
                         every prefix length at once: most addresses, in one cached bit test
                         instead of one or two per length present */
    uint8_t *c4anyb;
    size_t nsimple, nmulti, ntype;
    size_t bytes;
    size_t refs; /* generations holding it (writer only) */
} kz_eseg;

/* The index-answered IPv4 networks of one (path, prefix length L <= 24), without hashing: a
 * bitmap over the top L bits (bit set = some indicator's network), a rank directory (set bits
 * before each 512-bit block, so the rank of a bit costs one cache line of popcounts) and per
 * network in order its entry: its record and that record's ref (so that a hit's report does
 * not walk to it: kz_ecand), or KZ_E_C4S_DUP | offset of [count, (record, ref) pairs...] in
 * dups, and a word unused. A probe of an address is one bit test per length present and,
 * when set, two reads. */
typedef struct kz_ec4s {
    uint64_t *bits;
    uint32_t *rank;
    uint32_t *recs; /* two words per network */
    uint32_t *dups;
    size_t nnet;
} kz_ec4s;
#define KZ_E_C4S_DUP 0x80000000u

/* A prefetch of the line at p that the compiler keeps. GCC 12 at -O3 deleted the batch
 * lookups' loops that prefetch every candidate's ref and value (their bodies only load and
 * prefetch, and the loops end, so it found nothing they do), while a loop of the same form
 * elsewhere survived: whether it is kept depends on the code around it. Each deleted
 * prefetch became a full miss in the count stage. */
static inline void kz_e_prefetch(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetcht0 (%0)" : : "r"(p));
#else
    __builtin_prefetch(p);
    __asm__ volatile("" : : "r"(p) : "memory");
#endif
}

/* Advice that the malloc'd array at p, of n bytes (8 MiB or more), be backed by huge pages:
 * applied to every page it spans, from the one it starts in, not only to its 2 MiB-aligned
 * middle. glibc serves such an array from a mapping of its own, which realloc grows with
 * mremap; advice on part of the mapping splits it in two or three, and mremap, which needs
 * one, failed (EFAULT), so every doubling of a 10M load's gigabyte of operations was a fresh
 * mapping, a full copy and a fault on each new page: 46% of the load's page faults. The
 * pages outside the 2 MiB-aligned middle stay small either way. */
static inline void kz_e_advise_huge(void *p, size_t n)
{
    if (n < ((size_t)8 << 20))
        return;
    /* the system's page (4 KiB on x86-64, up to 64 KiB on arm64): madvise wants it aligned */
    long ps = sysconf(_SC_PAGESIZE);
    const size_t page = ps > 0 ? (size_t)ps : 4096, head = (uintptr_t)p & (page - 1);
    madvise((char *)p - head, (head + n + page - 1) & ~(page - 1), MADV_HUGEPAGE);
}

/* The set bits of x. Without -mpopcnt (a build for any x86-64) __builtin_popcountll is a
 * call into libgcc, 1.3% of the mixed-record benchmark's time; this is a dozen
 * instructions inline. */
static inline unsigned kz_e_popcount(uint64_t x)
{
#if defined(__POPCNT__)
    return (unsigned)__builtin_popcountll(x);
#else
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* Whether some IPv4 network of path p in s may contain address addr (kz_eseg.c4any). */
static inline bool kz_e_c4any(const struct kz_eseg *s, uint32_t p, uint32_t addr)
{
    if (!s->c4any || p >= s->npaths || !s->c4any[p])
        return true; /* no summary: the lengths present decide */
    uint32_t i = addr >> (32 - s->c4anyb[p]);
    return s->c4any[p][i >> 6] >> (i & 63) & 1;
}

/* The entry of network idx (top L bits) in c, or NULL when no indicator has it. */
static inline const uint32_t *kz_e_c4s_entry(const kz_ec4s *c, uint32_t idx)
{
    uint64_t w = c->bits[idx >> 6], bit = 1ull << (idx & 63);
    if (!(w & bit))
        return NULL;
    uint32_t r = c->rank[idx >> 9];
    for (size_t k = (size_t)(idx >> 9) << 3; k < (idx >> 6); k++)
        r += kz_e_popcount(c->bits[k]);
    r += kz_e_popcount(w & (bit - 1));
    return &c->recs[2 * (size_t)r];
}

/* The records of a network whose entry is ent: *n (record, ref) pairs at *out. */
static inline void kz_e_c4s_recs(const kz_ec4s *c, const uint32_t *ent, const uint32_t **out,
                                 uint32_t *n)
{
    if (*ent & KZ_E_C4S_DUP) {
        const uint32_t *d = c->dups + (*ent & ~KZ_E_C4S_DUP); /* [count, pairs...] */
        *n = d[0];
        *out = d + 1;
    } else {
        *out = ent;
        *n = 1;
    }
}

/* The records of network idx (top L bits) in c: *n (record, ref) pairs at *out. */
static inline bool kz_e_c4s_find(const kz_ec4s *c, uint32_t idx, const uint32_t **out, uint32_t *n)
{
    const uint32_t *ent = kz_e_c4s_entry(c, idx);
    if (ent)
        kz_e_c4s_recs(c, ent, out, n);
    return ent != NULL;
}

#define KZ_E_SLOT_BITS 27u
#define KZ_E_SLOT_MASK ((1u << KZ_E_SLOT_BITS) - 1u)

/* The one length a value of kind k has, or 0 when its length varies: 5 bits per kind in one
 * constant (no table to load), K_IP4 4, K_IP6 16, K_INT 8, K_CIDR4 5 and K_CIDR6 17 (the
 * prefix length and the network). A simple entry of such a kind stores no length byte: 0.4 of
 * a byte per indicator in a mix where addresses are 40%. */
#define KZ_E_KIND_VLEN                                                                             \
    ((uint64_t)4 << (5 * K_IP4) | (uint64_t)16 << (5 * K_IP6) | (uint64_t)8 << (5 * K_INT) |       \
     (uint64_t)5 << (5 * K_CIDR4) | (uint64_t)17 << (5 * K_CIDR6))
static inline unsigned kz_e_kind_vlen(unsigned kind)
{
    _Static_assert(5 * (K_RE + 1) <= 64, "5 bits per kind in 64");
    return kind <= K_RE ? (unsigned)(KZ_E_KIND_VLEN >> (5 * kind)) & 31u : 0;
}

/* The value of a simple entry of the given kind whose meta index ends at a: its length (*len)
 * and bytes. */
static inline const uint8_t *kz_e_sval(const uint8_t *a, unsigned kind, size_t *len)
{
    unsigned f = kz_e_kind_vlen(kind);
    if (f) {
        *len = f;
        return a;
    }
    if (a[0] < 0x80) {
        *len = a[0];
        return a + 1;
    }
    *len = (size_t)(a[0] & 0x7f) << 8 | a[1];
    return a + 2;
}

/* Where the last byte of the simple entry at a would be for a value of vl bytes: its header
 * (meta index, LEB128, and the length above) is at most 4 bytes while a segment has fewer than
 * 16,384 metas. For prefetches only: past that, one may miss the entry's last line. */
static inline const uint8_t *kz_e_sentry_last(const uint8_t *a, size_t vl)
{
    return a + 3 + vl;
}

/* A LEB128 number at a (at most 5 bytes); returns what follows it. */
static inline const uint8_t *kz_e_uvar(const uint8_t *a, uint32_t *v)
{
    uint32_t x = 0;
    unsigned sh = 0;
    while ((*a & 0x80) && sh < 28) {
        x |= (uint32_t)(*a++ & 0x7f) << sh;
        sh += 7;
    }
    *v = x | (uint32_t)(*a++ & 0x7f) << sh;
    return a;
}

/* The home bucket of hash h in the simple index. */
static inline size_t kz_e_spos(const kz_eseg *s, uint64_t h)
{
    return (size_t)(((h >> 32) * (uint64_t)s->nsbuckets) >> 32);
}
/* The filter bits of hash h in its word: three, from low bits the tag does not use. */
static inline uint64_t kz_e_sfbits(uint64_t h)
{
    return 1ull << (h & 63) | 1ull << (h >> 20 & 63) | 1ull << (h >> 26 & 63);
}

/* Whether the simple hash table of s may hold key k: it has keys of k's kind on k's path. */
static inline bool kz_e_shas(const kz_eseg *s, const uint8_t *k)
{
    uint16_t p;
    memcpy(&p, k, 2);
    return p < s->npaths && (s->skinds[p] >> k[2] & 1);
}

/* The filter word of a key of hash h on path p: kz_e_sfat is its index in the path's region
 * (sfoff), for a path that has keys. The few keys of a sparse path (a reference path, x509
 * fields, user agents) have a few words that stay cached instead of sharing the misses of
 * the dense ones. In the region the word comes from the hash's high bits (the bits in it
 * from low ones: kz_e_sfbits). A path without keys has an empty region: its word is a
 * constant zero, which no key's bits match. */
static inline size_t kz_e_sfat(const kz_eseg *s, uint32_t p, uint64_t h)
{
    uint32_t o = s->sfoff[p], nw = s->sfoff[p + 1] - o; /* nw > 0: p has keys */
    return o + (size_t)(((h >> 32) * nw) >> 32);
}

static inline const uint64_t *kz_e_sfword(const kz_eseg *s, uint32_t p, uint64_t h)
{
    static const uint64_t none = 0;
    if (p >= s->npaths || s->sfoff[p] == s->sfoff[p + 1])
        return &none;
    return &s->sfilt[kz_e_sfat(s, p, h)];
}

/* Whether filter word w lets a key of hash h through. */
static inline bool kz_e_sfpass(const uint64_t *w, uint64_t h)
{
    uint64_t m = kz_e_sfbits(h);
    return (*w & m) == m;
}

/* Whether the filter lets a key of hash h on path p through (a segment without a filter lets
 * every key through). */
static inline bool kz_e_sfilt_pass(const kz_eseg *s, uint32_t p, uint64_t h)
{
    return !s->sfilt || kz_e_sfpass(kz_e_sfword(s, p, h), h);
}
/* Whether the simple index may hold key k of hash h (false: it holds none): keys of its kind
 * on its path (kz_e_shas), and the filter lets it through. */
static inline bool kz_e_smaybe(const kz_eseg *s, const uint8_t *k, uint64_t h)
{
    uint16_t p;
    memcpy(&p, k, 2);
    return kz_e_shas(s, k) && kz_e_sfilt_pass(s, p, h);
}

/* The simple index is an array of buckets of KZ_E_SST u32, two cache lines each: KZ_E_SB lanes,
 * then the lanes' refs (the arena offsets of their records' entries; the first is unused).
 * Lane 0 is the bucket's header: its count of entries (0 to KZ_E_SB - 1), how many of them,
 * first, are keys of earlier homes (fore), and KZ_E_SB_MORE; lanes 1 to count hold its entries,
 * (record + 1) in the low sbits bits and a hash tag in the rest (8 bits at ten million
 * records, 12 at a million). A key's home is a bucket; keys are placed in order of home, each
 * in its home or, when that is full, in the first bucket after it with room, so a bucket holds
 * the keys spilled from earlier homes (its fore entries), then its own. KZ_E_SB_MORE on bucket
 * b: some key of a home up to b is in a later bucket. So the keys of home h are its own entries
 * and, when h has KZ_E_SB_MORE, the fore entries of h + 1, and on while a bucket is all fore
 * entries and has KZ_E_SB_MORE: a present key reads one bucket unless its home spilled.
 * Why the refs are in the bucket: a present value's lookup reads the lines it needs at random,
 * and at ten million indicators each is a miss. With the refs in an array by record it read
 * three (bucket, ref, value) and found 18 M/s; with them on the line after the lanes it reads
 * two and the adjacent line (the refs' line is asked for only when a lane's tag matches), and
 * finds 20. Lane at = bucket * KZ_E_SST + lane names an entry; its ref is at + KZ_E_SB. */
#define KZ_E_SB 16u
#define KZ_E_SST 32u /* u32 per bucket: the lanes and their refs */
#define KZ_E_SB_COUNT 0x0fu
#define KZ_E_SB_MORE 0x10u
#define KZ_E_SB_FORE 5u /* the shift of the fore count */
static inline unsigned kz_e_sb_count(uint32_t head)
{
    return head & KZ_E_SB_COUNT;
}
static inline unsigned kz_e_sb_fore(uint32_t head)
{
    return head >> KZ_E_SB_FORE & KZ_E_SB_COUNT;
}
/* Whether a walk that read the fore entries of a bucket of header head goes on to the next. */
static inline bool kz_e_sb_on(uint32_t head)
{
    return kz_e_sb_fore(head) == KZ_E_SB - 1 && (head & KZ_E_SB_MORE);
}

static inline uint32_t kz_e_stag(const kz_eseg *s, uint64_t h)
{
    return (uint32_t)(h >> 8) & (UINT32_MAX >> s->sbits);
}

/* Iteration over the records a simple key may be at (tags match; kz_e_simple_eq decides). */
typedef struct kz_e_sit {
    size_t b;           /* the bucket read */
    unsigned lane, end; /* its next lane and the end of those to read; end 0: b is the home,
                           not entered yet */
    bool more;          /* the walk goes on past b */
    uint32_t tag;
} kz_e_sit;

static inline void kz_e_sbegin(const kz_eseg *s, uint64_t h, kz_e_sit *it)
{
    it->b = kz_e_spos(s, h);
    it->lane = it->end = 0;
    it->more = false;
    it->tag = kz_e_stag(s, h);
}

/* A walk that goes on at bucket b, past its home (b's fore entries). */
static inline void kz_e_sfrom(const kz_eseg *s, size_t b, uint32_t tag, kz_e_sit *it)
{
    uint32_t head = s->sslots[b * KZ_E_SST];
    it->b = b;
    it->lane = 1;
    it->end = 1 + kz_e_sb_fore(head);
    it->more = kz_e_sb_on(head);
    it->tag = tag;
}

/* The record of the entry in lane at (an entry holds record + 1). */
static inline uint32_t kz_e_srec(const kz_eseg *s, size_t at)
{
    return (s->sslots[at] & s->smask) - 1;
}

/* The ref of the entry in lane at. */
static inline uint32_t kz_e_sref(const kz_eseg *s, size_t at)
{
    return s->sslots[at + KZ_E_SB];
}

/* The next candidate record, or UINT32_MAX when there are no more; its ref is then
 * kz_e_sit_ref. */
static inline uint32_t kz_e_snext(const kz_eseg *s, kz_e_sit *it)
{
    if (!it->end) { /* the home bucket: its own entries */
        uint32_t head = s->sslots[it->b * KZ_E_SST];
        it->lane = 1 + kz_e_sb_fore(head);
        it->end = 1 + kz_e_sb_count(head);
        it->more = (head & KZ_E_SB_MORE) != 0;
    }
    for (;;) {
        const uint32_t *bk = &s->sslots[it->b * KZ_E_SST];
        while (it->lane < it->end) {
            uint32_t v = bk[it->lane++];
            if (v >> s->sbits == it->tag)
                return (v & s->smask) - 1;
        }
        if (!it->more)
            return UINT32_MAX;
        kz_e_sfrom(s, it->b + 1, it->tag, it);
    }
}

/* The ref of the candidate kz_e_snext returned last. */
static inline uint32_t kz_e_sit_ref(const kz_eseg *s, const kz_e_sit *it)
{
    return kz_e_sref(s, it->b * KZ_E_SST + it->lane - 1);
}

/* The candidates of a walk in bucket b (bit i: lane i), with no branch: the bucket's own
 * entries when it is the walk's home (home true), else its fore entries; and in *more whether
 * the walk goes on past b. Every lane's tag is compared (SSE2 on x86-64: four compares packed
 * to one movemask; GCC and Clang vector extensions elsewhere), and the header says which lanes
 * are the walk's. */
static inline unsigned kz_e_sbucket(const kz_eseg *s, size_t b, bool home, uint32_t tag, bool *more)
{
    _Static_assert(KZ_E_SB == 16, "four vectors of four lanes");
    const uint32_t *a = &s->sslots[b * KZ_E_SST];
#if defined(__SSE2__)
    /* the four compares packed to one byte per lane, and one movemask */
    const __m128i *v = (const __m128i *)(const void *)a; /* 64-byte aligned */
    __m128i t = _mm_set1_epi32((int)tag), sh = _mm_cvtsi32_si128((int)s->sbits);
    __m128i c0 = _mm_cmpeq_epi32(_mm_srl_epi32(_mm_load_si128(v), sh), t);
    __m128i c1 = _mm_cmpeq_epi32(_mm_srl_epi32(_mm_load_si128(v + 1), sh), t);
    __m128i c2 = _mm_cmpeq_epi32(_mm_srl_epi32(_mm_load_si128(v + 2), sh), t);
    __m128i c3 = _mm_cmpeq_epi32(_mm_srl_epi32(_mm_load_si128(v + 3), sh), t);
    unsigned m = (unsigned)_mm_movemask_epi8(
        _mm_packs_epi16(_mm_packs_epi32(c0, c1), _mm_packs_epi32(c2, c3)));
#else
    typedef uint32_t v4u __attribute__((vector_size(16)));
    v4u v0, v1, v2, v3, bit = {1, 2, 4, 8}, t = {tag, tag, tag, tag};
    memcpy(&v0, a, 16);
    memcpy(&v1, a + 4, 16);
    memcpy(&v2, a + 8, 16);
    memcpy(&v3, a + 12, 16);
    v4u mm = ((v4u)((v0 >> s->sbits) == t) & bit) | ((v4u)((v1 >> s->sbits) == t) & (bit << 4)) |
             ((v4u)((v2 >> s->sbits) == t) & (bit << 8)) |
             ((v4u)((v3 >> s->sbits) == t) & (bit << 12));
    unsigned m = mm[0] | mm[1] | mm[2] | mm[3];
#endif
    unsigned head = a[0];
    unsigned fore = 2u << kz_e_sb_fore(head); /* the bit past the fore lanes */
    *more = home ? (head & KZ_E_SB_MORE) != 0 : kz_e_sb_on(head);
    return m & (home ? (2u << kz_e_sb_count(head)) - fore : fore - 2u);
}

/* Prefetch of bucket b's lanes (one line: the buckets are 128-byte aligned). */
static inline void kz_e_sprefetch(const kz_eseg *s, size_t b)
{
    __builtin_prefetch(&s->sslots[b * KZ_E_SST]);
}
/* Prefetch of bucket b's refs (the line after its lanes). */
static inline void kz_e_sprefetch_refs(const kz_eseg *s, size_t b)
{
    __builtin_prefetch(&s->sslots[b * KZ_E_SST + KZ_E_SB]);
}

struct kz_engine_gen {
    kz_eseg *base, *delta;
    uint64_t *dead; /* bitmap over base->recs */
    size_t ndead;
    /* union of both segments' path info, sized npaths */
    uint8_t *pflags;
    uint16_t *skinds; /* the key kinds of each path's simple keys (kz_e_key_hstr_of) */
    uint64_t *c4, *c6;
    size_t npaths;
    uint8_t *tflags; /* per type id: some segment has a type key for it */
    bool any_tkeys;  /* some type has */
    bool any_ref1;   /* some indexed path is a reference path (kz_epath.ref1) */
    uint32_t *tp_start; /* per type id: [tp_start[t], tp_start[t+1]) into tp_paths */
    uint32_t *tp_paths;
    size_t ntypes;
    kz_engine *eng;
    uint64_t number;
    atomic_size_t refs; /* readers holding it */
    struct kz_engine_gen *retired_next; /* writer side: retired, waiting for refs == 0 */
};

/* Writer-side memory of ids that are not live: pending (valid_from in future) or gone
 * (revoked/removed/expired, with the modified of the version that ended them). */
typedef struct kz_eid {
    uint8_t uuid[16];
    int64_t modified;
    int state; /* 1 pending, 2 gone */
    int64_t valid_from;
    json_t *obj; /* pending: the indicator */
} kz_eid;

typedef struct kz_eexp {
    int64_t until;
    int64_t modified;
    uint8_t uuid[16];
} kz_eexp;

/* What the record check reads of a path (kz_engine.recp): its type's name (types[]) when a
 * record field may set it, else NULL; and for the overlap test of two fields of one object,
 * which reads the path itself only for two paths of one first step and different lengths,
 * the number of steps, the first step (interned), and whether REF fields on the path are the
 * items of a list (its last step ends in _refs). */
typedef struct kz_erecpath {
    const char *tname;
    const char *step0;
    uint32_t nsteps;
    bool list;
} kz_erecpath;

/* The background merge (engine.c): a thread folds the delta of generation snap (and the
 * base's live records) into a new base while updates go on; the ids those updates change
 * are logged, and the thread publishes the new base with, of the delta at that moment, only
 * the records of logged ids, and the others' base records dead. */
typedef struct kz_emerge {
    pthread_t th;
    bool joinable;          /* th has not been joined */
    bool running;           /* building: changes are logged */
    bool stale;             /* the base changed meanwhile, or the log lost an id: discard */
    kz_engine_gen *snap;    /* the generation merged (held by a reader's reference) */
    uint8_t (*log)[16];     /* ids changed since snap */
    size_t nlog, caplog;
} kz_emerge;

/* A context met recently: its members (copies, NULL where absent) and its interned id. A feed
 * names a few creators, markings and kill chains, interleaved: with only the last context
 * kept, indicators alternating between three creators loaded at half the speed (0.85 ->
 * 1.60 s for 300k), each building, serialising and interning its context again. */
enum { KZ_E_CTX_SEEN = 8 };
typedef struct kz_ectx_seen {
    json_t *m[KZ_E_CTX_KEYS];
    uint32_t id;
    bool valid;
} kz_ectx_seen;

struct kz_engine {
    kz_engine_opts opts;
    int64_t now;
    pthread_mutex_t wlock, reglock;
    _Atomic(kz_engine_gen *) cur;
    atomic_uint_fast64_t epoch;
    atomic_uint_fast64_t readers[2];
    kz_epath *paths[KZ_E_MAX_PATHS];
    /* per path, what validating a record reads, in one entry instead of through the path */
    kz_erecpath recp[KZ_E_MAX_PATHS];
    atomic_uint npaths;
    char **stepnames; /* the interned step names of paths: a set of capstepnames slots
                         (NULL: empty) holding nstepnames (under reglock) */
    size_t nstepnames, capstepnames;
    atomic_uint pslots[2 * KZ_E_MAX_PATHS]; /* path text hash → id + 1 */
    atomic_uint tslots[2 * KZ_E_MAX_TYPES];
    char *types[KZ_E_MAX_TYPES];
    atomic_uint ntypes;
    char **ctx[KZ_E_CTX_CHUNKS]; /* interned context JSON texts; id 0 = "{}" */
    atomic_uint nctx;
    unsigned ctx_cap; /* contexts the table takes (fewer than it could in a test) */
    void *ctx_map; /* writer-side dedupe */
    kz_eid *ids;   /* writer-side, sorted by uuid */
    size_t nids, capids;
    kz_eexp *exp; /* writer-side, unsorted */
    size_t nexp, capexp;
    size_t tables_cap; /* entries ids and exp may grow to (fewer in a test: memory runs out) */
    kz_engine_stats st;
    kz_engine_gen *retired; /* writer side: unpublished generations still held by readers */
    atomic_size_t match_errors;
    atomic_size_t candidates; /* kz_engine_candidates */
    void *re_cache; /* writer side: regexes already checked with Hyperscan (regex.c) */
    kz_ectx_seen ctx_seen[KZ_E_CTX_SEEN]; /* writer side: recent contexts (context_of) */
    unsigned ctx_hit, ctx_next;           /* the last one found; the next one replaced */
    kz_emerge mg; /* under wlock */
};

/* n bytes from s to d (short: a key or a value) in fixed-size moves, the last overlapping
 * the one before. GCC expands a memcpy of a size it can bound, and a byte loop, into "rep
 * movs", whose start-up cost more than the rest of a key's encoding. */
static inline void kz_e_copy(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16) {
            memcpy(d + i, s + i, 16);
            __asm__("" : "+r"(i)); /* opaque: GCC made the loop a memcpy again */
        }
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n) { /* 1 to 3 bytes: first, middle, last */
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* Whether the n bytes at a and b are the same, reading no byte past either's end. memcmp's
 * masked vector load of a short value reads the line after it too (glibc's AVX-512 memcmp
 * below 32 bytes): a value ending near a line's end cost a miss on a line it does not use. */
static inline bool kz_e_same(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t x0, x1, y0, y1;
#if defined(__SSE2__)
    /* 16 to 64 bytes (an IPv6 text, a URL, a digest's 32 or 64 digits) without a branch on the
     * length: four blocks of 16 at 0, 16, 32 and 48, each moved back to end within the bytes.
     * The tests of n > 32 and n >= 16 were a mispredicted branch in five exact lookups of a mix
     * of kinds (callgrind's branch simulation). */
    if (n - 16 <= 48) {
        __m128i eq = _mm_set1_epi8(-1);
        for (size_t j = 0; j < 4; j++) {
            size_t o = 16 * j < n - 16 ? 16 * j : n - 16;
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(a + o));
            __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + o));
            eq = _mm_and_si128(eq, _mm_cmpeq_epi8(x, y));
        }
        return _mm_movemask_epi8(eq) == 0xffff;
    }
#endif
    if (n > 32)
        return memcmp(a, b, n) == 0; /* its loads stay within the bytes at this length */
    if (n >= 16) {
        uint64_t x2, x3, y2, y3;
        memcpy(&x0, a, 8), memcpy(&x1, a + 8, 8);
        memcpy(&x2, a + n - 16, 8), memcpy(&x3, a + n - 8, 8);
        memcpy(&y0, b, 8), memcpy(&y1, b + 8, 8);
        memcpy(&y2, b + n - 16, 8), memcpy(&y3, b + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1) | (x2 ^ y2) | (x3 ^ y3)) == 0;
    }
    if (n >= 8) {
        memcpy(&x0, a, 8), memcpy(&x1, a + n - 8, 8);
        memcpy(&y0, b, 8), memcpy(&y1, b + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4) {
        uint32_t u0, u1, v0, v1;
        memcpy(&u0, a, 4), memcpy(&u1, a + n - 4, 4);
        memcpy(&v0, b, 4), memcpy(&v1, b + n - 4, 4);
        return ((u0 ^ v0) | (u1 ^ v1)) == 0;
    }
    /* 0 to 3 bytes: first, middle, last */
    return !n || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* ---- keys.c ---- */
uint64_t kz_e_hash(const void *p, size_t n);
/* The hash of a key (what every index is addressed by): of its header's fields and its
 * value's bytes, so that kz_e_key_hstr can give it while encoding. kl >= 5: a key, never
 * kz_e_key_raw's 0 for a value too long (its value length would wrap). */
uint64_t kz_e_khash(const uint8_t *k, size_t kl);
/* kz_e_khash of the key kz_e_key_raw(buf, path, kind, d, n) would write. */
uint64_t kz_e_khash_raw(uint32_t path, int kind, const void *d, size_t n);
/* kz_e_khash of the key of a value whose text is t, whatever its kind (a binary form is hashed
 * as its text): a lookup of a value needs no key. */
uint64_t kz_e_khash_text(uint32_t path, const char *t, size_t n);
/* Whether a stored value (kind, v, vl) is the value whose text is t (n bytes): K_STR bytes
 * equal, a binary form's text equal (false for any other kind). */
bool kz_e_val_text_eq(int kind, const uint8_t *v, size_t vl, const char *t, size_t n);
/* Draws the process's hash seed once (kz_engine_new), unless kz_engine_set_hash_seed fixed it;
 * no index may be built before. */
void kz_e_hash_seed_init(void);
/* Encode a string value for path into buf (>= KZ_E_MAX_KEY + 24 bytes); returns length or 0
 * when the value is too long to index. */
size_t kz_e_key_str(uint8_t *buf, uint32_t path, const char *s, size_t len);
/* kz_e_key_str, and the key's hash into *h (= kz_e_khash of the key, without reading it
 * back: see keys.c). */
size_t kz_e_key_hstr(uint8_t *buf, uint32_t path, const char *s, size_t len, uint64_t *h);
/* The kinds a string value's key may have (kz_e_key_str picks one), and the digests'. */
#define KZ_E_KINDS_HEX (1u << K_HEXL | 1u << K_HEXU)
#define KZ_E_KINDS_VALUE (1u << K_STR | 1u << K_IP4 | 1u << K_IP6 | KZ_E_KINDS_HEX)
/* kz_e_key_hstr for a lookup in indexes that hold only keys of the given kinds (bits 1 << K_*,
 * a path's skinds): the tests for the other kinds are skipped. The key is the value's when its
 * kind is among them; else it is one no index holds (so the lookup finds nothing, as it
 * should). Only for probes (the record pipeline's): a key to store or report comes from
 * kz_e_key_hstr. A domain or URL path then skips the address and digest tests (exact lookups,
 * when they still encoded: absent values at 10M 24.94 / 25.36 / 25.83 -> 26.09 / 26.54 /
 * 26.57 M/s, three pairs); exact lookups now encode nothing (kz_e_khash_text). */
size_t kz_e_key_hstr_of(uint8_t *buf, uint32_t path, const char *s, size_t len, uint64_t *h,
                        unsigned kinds);
size_t kz_e_key_raw(uint8_t *buf, uint32_t id, int kind, const void *data, size_t len);
size_t kz_e_key_len(const uint8_t *k);
/* Parse "addr" or "addr/prefix" exactly as the evaluator does. */
bool kz_e_parse_cidr(const char *s, size_t len, int *family, uint8_t addr[16], int *prefix);
void kz_e_mask(uint8_t *addr, int nbytes, int prefix);
/* Text of a simple key's value (decodes K_IP4/6 and hex) into out (>= 2 * KZ_E_MAX_KEY + 1
 * bytes); returns the length. */
size_t kz_e_key_text_to(const uint8_t *k, char *out);
/* The same for a value of n bytes of the given kind (a record's value where it is stored). */
size_t kz_e_val_text_to(int kind, const uint8_t *d, size_t n, char *out);
/* Quote a string as a pattern literal. */
void kz_e_quote(kz_buf *b, const char *s, size_t len);

/* ---- registry (engine.c) ---- */
long kz_e_type_id(kz_engine *e, const char *type, bool add);
long kz_e_path_from_ast(kz_engine *e, const kz_pat_path *p, bool add);
const char *kz_e_ctx_text(const kz_engine *e, uint32_t id);
/* The id of context text, interned if new; KZ_E_CTX_FULL when it is new and the table holds
 * ctx_cap contexts already, KZ_E_CTX_OOM when out of memory. */
#define KZ_E_CTX_FULL (UINT32_MAX - 1)
#define KZ_E_CTX_OOM UINT32_MAX
uint32_t kz_e_ctx_intern(kz_engine *e, const char *text);
void kz_e_registry_free(kz_engine *e);

/* ---- regex.c ---- */
/* One path's regex keys: Hyperscan database over them (NULL and all = true when it could not
 * be built: then every posting is a candidate whenever the path has a value). */
typedef struct kz_ere {
    uint32_t path;
    void *db;
    uint32_t *post; /* Hyperscan id → posting index */
    size_t n;
    bool all;
} kz_ere;
/* The regex (NUL-terminated, malloc'd) that compare.c runs for LIKE/MATCHES literal lit
 * (NFC first); NULL when out of memory or the literal is not UTF-8. */
char *kz_e_regex_of(bool like, const char *lit);
/* Whether Hyperscan accepts the regex (prefilter mode, UTF-8, UCP); answers are cached in
 * the engine (a Hyperscan compile costs about a millisecond). */
bool kz_e_regex_ok(kz_engine *e, const char *re);
void kz_e_regex_cache_free(kz_engine *e);
int kz_e_seg_build_re(kz_eseg *s);
void kz_e_seg_free_re(kz_eseg *s);

/* ---- sort.c ---- */
typedef struct kz_e_kv {
    uint64_t k, v;
} kz_e_kv;
/* Stable sort by k. Returns 0, or -1 when out of memory (v unchanged). */
int kz_e_radix_sort(kz_e_kv *v, size_t n);

/* ---- segment.c ---- */
/* What compiles into a segment: one indicator. */
typedef struct kz_esrc {
    uint8_t uuid[16];
    int64_t modified;
    uint32_t ctx;
    const char *name;
    size_t namelen;
    /* simple */
    const uint8_t *key; /* encoded key (NULL for complex): the value, or the CIDR */
    int shape;
    /* complex */
    kz_ecplx *cplx;
    /* a record of another segment (kz_e_seg_src): its key is read from there */
    const struct kz_eseg *from;
    uint32_t from_rec;
    uint32_t from_ref; /* the arena offset of its entry there */
} kz_esrc;

kz_eseg *kz_e_seg_build(kz_engine *e, const kz_esrc *src, size_t n, char *err, size_t errlen);
void kz_e_seg_free(kz_eseg *s);

/* The suffix test of kz_e_simple_eq for a value stored in binary form (an address, a hex
 * string): compares its text. */
bool kz_e_simple_suffix_eq(uint16_t path, int kind, const uint8_t *v, size_t vl,
                           const uint8_t *k, size_t kl);
/* Whether the simple record whose entry is at ref (kz_e_sit_ref) in s has key k (full format;
 * a K_SUF key also matches the suffix of a SHAPE_EQ_OR_SUF record). Inline: it is the inner
 * step of every probe. */
static inline bool kz_e_simple_eq(const kz_eseg *s, uint32_t ref, const uint8_t *k, size_t kl)
{
    uint32_t mi;
    const uint8_t *a = kz_e_uvar(s->arena + ref, &mi);
    const kz_emeta *m = &s->meta[mi];
    uint16_t p;
    memcpy(&p, k, 2);
    if (m->path != p)
        return false;
    size_t vl;
    const uint8_t *v = kz_e_sval(a, m->kind, &vl);
    if (k[2] == m->kind)
        return kl == 5 + vl && kz_e_same(k + 5, v, vl);
    if (k[2] != K_SUF || m->shape != SHAPE_EQ_OR_SUF || kl < 6 || k[5] != '.')
        return false;
    if (m->kind == K_STR)
        return kl == 6 + vl && kz_e_same(k + 6, v, vl);
    return kz_e_simple_suffix_eq(p, m->kind, v, vl, k, kl);
}
/* The rule of kz_eseg.svlen for a path whose simple keys are of the given kinds: a shift in
 * the low byte and a constant in the high one, so that a text of n bytes (n <= KZ_E_MAX_KEY)
 * is stored in (n >> shift) + constant bytes: the binary form's length when the kinds are all
 * of one binary kind, else the text's. */
static inline uint16_t kz_e_svlen_rule(unsigned kinds)
{
    if (kinds == 1u << K_IP4)
        return 4u << 8 | 13u; /* 4096 >> 13 = 0 */
    if (kinds == 1u << K_IP6)
        return 16u << 8 | 13u;
    if (kinds && !(kinds & ~(unsigned)KZ_E_KINDS_HEX))
        return 1u;
    return 0;
}
/* The length a value of text length n on path p of s is stored with (a prefetch's guess: the
 * text is not checked), with no branch: a chain of kind tests here was a mispredicted branch in
 * four lookups of a mix of kinds, and 18 instructions. */
static inline uint32_t kz_e_svlen(const kz_eseg *s, uint32_t p, uint32_t n)
{
    uint32_t r = s->svlen[p];
    return (n >> (r & 0xff)) + (r >> 8);
}
/* Whether s's simple index holds values (keys of a value kind) of path p. */
static inline bool kz_e_shas_value(const kz_eseg *s, uint32_t p)
{
    return p < s->npaths && (s->skinds[p] & KZ_E_KINDS_VALUE);
}
/* kz_e_smaybe for a value of path p whose text hashes to h (kz_e_khash_text). */
static inline bool kz_e_smaybe_value(const kz_eseg *s, uint32_t p, uint64_t h)
{
    return kz_e_shas_value(s, p) && kz_e_sfilt_pass(s, p, h);
}
/* Whether the simple record whose entry is at ref in s is the value of path p whose text is t
 * (n bytes): what kz_e_simple_eq answers for that value's key, without the key (an exact
 * lookup hashes the text and decodes nothing; a binary form is formatted to compare). */
static inline bool kz_e_simple_eq_text(const kz_eseg *s, uint32_t ref, uint32_t p, const char *t,
                                       size_t n)
{
    uint32_t mi;
    const uint8_t *a = kz_e_uvar(s->arena + ref, &mi);
    const kz_emeta *m = &s->meta[mi];
    if (m->path != p)
        return false;
    size_t vl;
    const uint8_t *v = kz_e_sval(a, m->kind, &vl);
    if (m->kind == K_STR) /* kz_e_val_text_eq's first case, here without the call */
        return n == vl && kz_e_same(v, (const uint8_t *)t, n);
    return kz_e_val_text_eq(m->kind, v, vl, t, n);
}
/* The arena offset of record r's entry: from its sample's, past at most KZ_E_RSAMP - 1
 * entries. For what is not a probe (a probe has the ref from the index). */
uint32_t kz_e_seg_ref(const kz_eseg *s, size_t r);
/* The meta of the entry at ref and, when it is simple, its value (*v, *vl); *v is NULL and
 * *cplx (when not NULL) its complex index for a complex one. */
const kz_emeta *kz_e_seg_entry(const kz_eseg *s, uint32_t ref, const uint8_t **v, size_t *vl,
                               uint32_t *cplx);
/* The offset of the entry after the one at ref (record r + 1's after record r's). */
uint32_t kz_e_seg_next_ref(const kz_eseg *s, uint32_t ref);
/* Record r's complex entry, or NULL when it is simple (_at: the record whose entry is at
 * ref). */
kz_ecplx *kz_e_seg_cplx(const kz_eseg *s, size_t r);
kz_ecplx *kz_e_seg_cplx_at(const kz_eseg *s, uint32_t ref);
int64_t kz_e_seg_modified(const kz_eseg *s, size_t r);
/* Record r's name (NULL when none). */
const char *kz_e_seg_name(const kz_eseg *s, size_t r, size_t *len);
/* [*lo, *hi) postings of complex key k (of hash h = kz_e_khash(k, klen)), or lo == hi. */
void kz_e_seg_lookup(const kz_eseg *s, const uint8_t *k, size_t klen, uint64_t h, size_t *lo,
                     size_t *hi);
/* Record index of uuid, or -1. */
long kz_e_seg_find(const kz_eseg *s, const uint8_t uuid[16]);
/* Fill src from record r of s (borrowing s's storage); _at: r's entry is at ref (a loop over
 * the records in order has it from kz_e_seg_next_ref, with no walk). */
void kz_e_seg_src(const kz_eseg *s, size_t r, kz_esrc *src);
void kz_e_seg_src_at(const kz_eseg *s, size_t r, uint32_t ref, kz_esrc *src);
void kz_e_cplx_free(kz_ecplx *c);

/* ---- compile.c ---- */
/* Classify and compile one pattern: on success either *key is set (simple; written into
 * keybuf) or *cplx is a new complex entry. Returns 0 or -1 with reason. */
int kz_e_compile(kz_engine *e, const char *pattern, int version, uint8_t *keybuf,
                 size_t *keylen, int *shape, kz_ecplx **cplx, char *why, size_t whylen);
/* Index keys of a complex pattern (a disjunction: the pattern is a candidate only if one
 * hits): appended to out as (u32 aux, u32 len, key bytes) items; aux KZ_E_AUX_TYPE for a type
 * key. kz_e_compile stores them in the entry. */
int kz_e_cplx_keys(kz_engine *e, const kz_pat_obs *root, kz_buf *out);

/* ---- match.c ---- */
/* The observation being matched: a kz_obs_set entry or a compact record (whose JSON form is
 * built on first need). */
typedef struct kz_eview {
    const kz_obs_set *s;
    size_t i;
    const kz_engine_record *r;
    json_t *rjson;      /* record: the observed-data, built lazily */
    kz_obs_set *rset;   /* record: a one-entry set over rjson */
    kz_obs_set one;     /* JSON: a one-entry view of s (shares s's storage) */
    const struct pfwin *pw; /* record in a batch: its pipeline window, or NULL */
    bool built, failed;
} kz_eview;

/* A candidate record. ref: its entry's arena offset, which a probe of the simple index has at
 * hand (the bucket holds it), or KZ_E_NOREF until kz_e_cand_ref walks to it: a report needs
 * the entry, and a walk per hit cost the full matcher more than half its rate (exact
 * observations at 10M 3.1 -> 1.2 M/s). */
typedef struct kz_ecand {
    uint32_t seg; /* 0 base, 1 delta */
    uint32_t rec;
    uint32_t aux;
    uint32_t ref;
} kz_ecand;
#define KZ_E_NOREF UINT32_MAX

/* memo.c: a stream's memo of field values whose probes gave no candidate (see there). */
typedef struct kz_ememo kz_ememo;
kz_ememo *kz_e_memo_new(void);
void kz_e_memo_free(kz_ememo *m);
/* Before a record's probes under g (another generation forgets every entry). */
void kz_e_memo_gen(kz_ememo *m, const kz_engine_gen *g);
/* Whether (path, s) is known to give no candidate (*none), and the entry to remember it in
 * with kz_e_memo_put if its probes give none (NULL: a value too long to keep). */
void *kz_e_memo_find(kz_ememo *m, uint32_t path, const char *s, size_t len, bool *none);
void kz_e_memo_put(kz_ememo *m, void *slot, uint32_t path, const char *s, size_t len);

typedef struct kz_ecands {
    kz_ecand *v;
    size_t n, cap;
    bool oom;
    void *hs_scratch; /* Hyperscan scratch, allocated on the first regex probe */
    kz_ememo *memo;   /* a stream's (kept with the set), or NULL */
    struct kz_eshapes *shapes; /* a stream's record shapes that passed the check, or NULL */
    size_t ncand;              /* candidates collected since the last kz_e_cands_count */
} kz_ecands;

void kz_e_cands_free(kz_ecands *c);
/* Adds the candidates c collected to the engine's count (kz_engine_candidates). A batch adds
 * them once at its end: the count is one line that every matching thread writes, and an add
 * per record moved it between their cores at each record. (On one thread, the suffix and mixed
 * benchmarks at 10M showed no difference either way.) */
void kz_e_cands_count(kz_engine *e, kz_ecands *c);

/* Candidates of an observation (sorted by (seg, rec), one per indicator). -1 on a bad record
 * (err filled) or OOM. */
int kz_e_collect(const kz_engine_gen *g, kz_eview *v, kz_ecands *out, char *err, size_t errlen);
/* The batch pipeline over records r[0..n): begin, then kz_e_pipe_at(p, k) before matching
 * record k (it prefetches for the records ahead), end. NULL (no prefetching, still correct)
 * for fewer records than it has stages, or when out of memory; all accept NULL. */
typedef struct kz_e_pipe kz_e_pipe;
kz_e_pipe *kz_e_pipe_begin(const kz_engine_gen *g, const kz_engine_record *r, size_t n);
void kz_e_pipe_at(kz_e_pipe *p, size_t k);
/* Record k's window, for kz_eview.pw while record k is matched (NULL without a pipeline). */
const struct pfwin *kz_e_pipe_win(const kz_e_pipe *p, size_t k);
void kz_e_pipe_end(kz_e_pipe *p);
/* The one-observation set of a view (NULL when a record cannot be converted). */
const kz_obs_set *kz_e_view_set(const kz_engine_gen *g, kz_eview *v, size_t *index);
void kz_e_view_clear(kz_eview *v);
const uint8_t *kz_e_cand_uuid(const kz_engine_gen *g, const kz_ecand *c);
/* Candidate c's entry (kz_ecand.ref, found and kept when not known) and its complex pattern
 * (NULL for a simple record). */
uint32_t kz_e_cand_ref(const kz_engine_gen *g, kz_ecand *c);
const kz_ecplx *kz_e_cand_cplx(const kz_engine_gen *g, kz_ecand *c);
/* Build and deliver a hit. */
int kz_e_emit(const kz_engine_gen *g, kz_ecand *c, size_t obs, const size_t *binding,
              size_t nbinding, kz_engine_hit_fn fn, void *ctx);
/* record.c */
/* The record check's memo of shapes that passed (a stream's; see record.c), or NULL. */
typedef struct kz_eshapes kz_eshapes;
kz_eshapes *kz_e_shapes_new(void);
void kz_e_shapes_free(kz_eshapes *s);
/* How many records checked with s got the whole check (their shape was not remembered). */
size_t kz_e_shapes_whole(const kz_eshapes *s);
int kz_e_record_check(const kz_engine *e, const kz_engine_record *r, kz_eshapes *shapes,
                      char *err, size_t errlen);
#endif
