/*
 * Index keys of the detection engine: the injective string→key encoding (binary forms for
 * canonical IP addresses and hex digests, so that the common values cost their byte size),
 * the hash, and the CIDR parsing the evaluator uses (same rules as lib/pattern/compare.c, so
 * that a probe built from a value selects every literal the evaluator would accept).
 *
 * Invariant: kz_e_key_str maps distinct strings of one path to distinct keys and equal
 * strings to equal keys; binary forms are used only when decoding gives the string back.
 */
#include "engine_int.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Multiply-fold: the 128-bit product of a and b, its halves xored. One multiplication mixes
 * 16 bytes, where a 64-bit multiply-xorshift round mixes 8 in a longer dependency chain. */
static inline uint64_t fold(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t rd32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* The process's hash seed. Indicators come from other organisations and telemetry from the
 * network watched: with a hash everyone can compute, a crafted set of indicators could pile
 * up in one run of slots and crafted traffic could probe it, each probe walking thousands
 * of slots (matching stalled). A seed drawn at random when the first engine starts makes
 * the layout unpredictable; kz_engine_set_hash_seed fixes it to reproduce one. */
static uint64_t hash_seed;
static bool hash_seed_fixed, hash_seed_used;
static pthread_once_t hash_seed_once = PTHREAD_ONCE_INIT;

static void hash_seed_draw(void)
{
    if (!hash_seed_fixed)
        randombytes_buf(&hash_seed, sizeof hash_seed);
    hash_seed_used = true;
}

void kz_e_hash_seed_init(void)
{
    pthread_once(&hash_seed_once, hash_seed_draw);
}

int kz_engine_set_hash_seed(uint64_t seed)
{
    if (hash_seed_used)
        return -1; /* an engine exists: its indexes were built with the seed in use */
    hash_seed = seed;
    hash_seed_fixed = true;
    return 0;
}

/* The hash's constants (odd, 32 of 64 bits set): K1 enters every fold, K0 and K2 the seed. */
#define HASH_K0 0xa0761d6478bd642full
#define HASH_K1 0xe7037ed1a0b428dbull
#define HASH_K2 0x8ebc6af09c88c6e3ull

/* The last step of every hash: the first and last words of what is left (the two overlapping
 * loads a and b) folded with the seed and the length. */
static inline uint64_t hash_last(uint64_t a, uint64_t b, size_t n, uint64_t seed)
{
    return fold(HASH_K1 ^ n, fold(a ^ HASH_K1, b ^ seed) ^ seed);
}

/* Keys are short (an address key is 9 bytes, a domain's 20 to 40): up to 16 bytes are two
 * overlapping loads and two folds, longer ones a fold per 16 bytes first. Every byte reaches
 * the result, and the length too (keys of one prefix differ in it). */
static inline uint64_t hash_from(const uint8_t *s, size_t n, uint64_t seed)
{
    uint64_t a, b;
    if (n <= 16) {
        if (n >= 8) {
            a = rd64(s);
            b = rd64(s + n - 8);
        } else if (n >= 4) {
            a = rd32(s);
            b = rd32(s + n - 4);
        } else if (n) {
            a = (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = n;
        while (i > 16) {
            /* xored in: a zero product keeps the state */
            seed ^= fold(rd64(s) ^ HASH_K1, rd64(s + 8) ^ seed);
            s += 16;
            i -= 16;
        }
        a = rd64(s + i - 16);
        b = rd64(s + i - 8);
    }
    return hash_last(a, b, n, seed);
}

static inline uint64_t hash_seed_of(size_t n)
{
    return HASH_K0 ^ hash_seed ^ ((uint64_t)n * HASH_K2);
}

uint64_t kz_e_hash(const void *p, size_t n)
{
    return hash_from(p, n, hash_seed_of(n));
}

/* The seed of a key's hash: the header's fields (path, kind, length) times an odd constant. */
static inline uint64_t khash_seed(uint32_t path, unsigned kind, size_t n)
{
    uint64_t hdr = (uint64_t)(uint16_t)path | (uint64_t)kind << 16 | (uint64_t)n << 24;
    return hash_seed_of(n) ^ hdr * 0x589965cc75374cc3ull;
}

/* The hash of a value key (K_STR, or a binary form) from the value's text, which for a binary
 * form is the one text that decodes to it: so a lookup hashes the text it was given, with no
 * parsing, and parses or formats only to compare a candidate (kz_e_val_text_eq). The header
 * enters the seed times an odd constant, and the seed goes through every fold
 * (test_header_avalanche: each path and kind bit flips each output bit about half the time);
 * the value kinds share K_STR's. */
static inline uint64_t khash_text(uint32_t path, const uint8_t *t, size_t n)
{
    return hash_from(t, n, khash_seed(path, K_STR, n));
}

uint64_t kz_e_khash_text(uint32_t path, const char *t, size_t n)
{
    return khash_text(path, (const uint8_t *)t, n);
}

/* Whether kind is a binary form of a value's text, and n a length that form has. */
static inline bool binary_value(unsigned kind, size_t n)
{
    return (kind == K_IP4 && n == 4) || (kind == K_IP6 && n == 16) ||
           ((kind == K_HEXL || kind == K_HEXU) && n <= KZ_E_HEX_MAX);
}

/* The hash of a key from its header's fields and value, not from its bytes, so that an encoder
 * hashes a value before (or without) writing the key, and the same on either byte order. A
 * binary form is hashed as its text. */
static uint64_t khash(uint32_t path, unsigned kind, const uint8_t *d, size_t n)
{
    if (binary_value(kind, n)) {
        char t[2 * KZ_E_HEX_MAX + 1];
        size_t tn = kz_e_val_text_to((int)kind, d, n, t);
        return khash_text(path, (const uint8_t *)t, tn);
    }
    return hash_from(d, n, khash_seed(path, kind, n));
}

uint64_t kz_e_khash_raw(uint32_t path, int kind, const void *d, size_t n)
{
    return khash(path, (unsigned)kind, d, n);
}

uint64_t kz_e_khash(const uint8_t *k, size_t kl)
{
    uint16_t p;
    memcpy(&p, k, 2);
    return khash(p, k[2], k + 5, kl - 5);
}

size_t kz_e_key_raw(uint8_t *buf, uint32_t id, int kind, const void *data, size_t len)
{
    if (len > KZ_E_MAX_KEY + 17)
        return 0;
    uint16_t p = (uint16_t)id, l = (uint16_t)len;
    memcpy(buf, &p, 2);
    buf[2] = (uint8_t)kind;
    memcpy(buf + 3, &l, 2);
    kz_e_copy(buf + 5, data, len);
    return 5 + len;
}

size_t kz_e_key_len(const uint8_t *k)
{
    uint16_t l;
    memcpy(&l, k + 3, 2);
    return 5 + (size_t)l;
}

/* Hex digits: HX_DIGIT | value, with HX_LOWER for a-f and HX_UPPER for A-F; 0 for anything
 * else. One lookup both validates and classifies a character, so a digest decodes without a
 * branch per character. */
enum { HX_DIGIT = 0x40, HX_LOWER = 0x10, HX_UPPER = 0x20 };
#define HXL(v) (HX_DIGIT | HX_LOWER | (v))
#define HXU(v) (HX_DIGIT | HX_UPPER | (v))
static const uint8_t hexd[256] = {
    ['0'] = HX_DIGIT | 0, ['1'] = HX_DIGIT | 1, ['2'] = HX_DIGIT | 2, ['3'] = HX_DIGIT | 3,
    ['4'] = HX_DIGIT | 4, ['5'] = HX_DIGIT | 5, ['6'] = HX_DIGIT | 6, ['7'] = HX_DIGIT | 7,
    ['8'] = HX_DIGIT | 8, ['9'] = HX_DIGIT | 9, ['a'] = HXL(10),      ['b'] = HXL(11),
    ['c'] = HXL(12),      ['d'] = HXL(13),      ['e'] = HXL(14),      ['f'] = HXL(15),
    ['A'] = HXU(10),      ['B'] = HXU(11),      ['C'] = HXU(12),      ['D'] = HXU(13),
    ['E'] = HXU(14),      ['F'] = HXU(15),
};
#undef HXL
#undef HXU

static bool is_hex_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Dotted quad of decimal numbers 0..255 without leading zeros: exactly the strings
 * inet_ntop(AF_INET) produces, so text and 4 bytes are in one-to-one correspondence. *a is
 * the address in network order. (A branch-free parse of each part's three possible digits
 * from a zero-padded copy ran more instructions than this loop and was slower; so did, on
 * 2026-11-26, one that classified all the bytes at once in two words (SWAR) and found the
 * dots from their bits, 20.1 against 21.7 M/s present lookups at 100k, and one that read a
 * word per part and found its end by a zero-byte test, 19.1-19.8 against 22.9: each part's
 * load waits for the previous part's length.) */
static bool ip4_canonical(const char *s, size_t len, uint32_t *a)
{
    size_t i = 0;
    uint32_t addr = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t st = i;
        unsigned v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - st < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == st || v > 255 || (s[st] == '0' && i - st > 1))
            return false;
        addr = addr << 8 | v;
    }
    *a = htonl(addr);
    return i == len;
}

/* 4 bytes at p, the first lowest; v as 8 bytes at p, the lowest first. */
static inline uint32_t le32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    return w;
}
static inline void put_le64(char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}
/* v as 8 big-endian bytes at p, in one store. */
static inline void put_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* The first longest run of two or more set bits of an 8-bit v (bit i: group i of an address is
 * zero): its start in bits 0-3, its length in bits 4-7 (0: no such run). Compile-time constants:
 * RUN_K is the starts of runs of k or more, and the longest run is the last k with one. */
#define RUN_2(v) ((v) & (v) >> 1)
#define RUN_3(v) (RUN_2(v) & (v) >> 2)
#define RUN_4(v) (RUN_3(v) & (v) >> 3)
#define RUN_5(v) (RUN_4(v) & (v) >> 4)
#define RUN_6(v) (RUN_5(v) & (v) >> 5)
#define RUN_7(v) (RUN_6(v) & (v) >> 6)
#define RUN_8(v) (RUN_7(v) & (v) >> 7)
#define RUN_LAST(v)                                                                                \
    (RUN_8(v)   ? RUN_8(v)                                                                         \
     : RUN_7(v) ? RUN_7(v)                                                                         \
     : RUN_6(v) ? RUN_6(v)                                                                         \
     : RUN_5(v) ? RUN_5(v)                                                                         \
     : RUN_4(v) ? RUN_4(v)                                                                         \
     : RUN_3(v) ? RUN_3(v)                                                                         \
                : RUN_2(v))
#define CTZ8(x)                                                                                    \
    ((x)&1 ? 0 : (x)&2 ? 1 : (x)&4 ? 2 : (x)&8 ? 3 : (x)&16 ? 4 : (x)&32 ? 5 : (x)&64 ? 6 : 7)
#define RUN_LEN(v)                                                                                 \
    (RUN_2(v) ? 2 + !!RUN_3(v) + !!RUN_4(v) + !!RUN_5(v) + !!RUN_6(v) + !!RUN_7(v) + !!RUN_8(v) : 0)
#define RUN_OF(v) ((uint8_t)(RUN_LEN(v) << 4 | (RUN_2(v) ? CTZ8(RUN_LAST(v)) : 0)))
#define RUN_OF4(v) RUN_OF(v), RUN_OF((v) + 1), RUN_OF((v) + 2), RUN_OF((v) + 3)
#define RUN_OF16(v) RUN_OF4(v), RUN_OF4((v) + 4), RUN_OF4((v) + 8), RUN_OF4((v) + 12)
#define RUN_OF64(v) RUN_OF16(v), RUN_OF16((v) + 16), RUN_OF16((v) + 32), RUN_OF16((v) + 48)
static const uint8_t ip6_runs[256] = {RUN_OF64(0), RUN_OF64(64), RUN_OF64(128), RUN_OF64(192)};
#undef RUN_OF64
#undef RUN_OF16
#undef RUN_OF4
#undef RUN_OF
#undef RUN_LEN
#undef CTZ8
#undef RUN_LAST
#undef RUN_8
#undef RUN_7
#undef RUN_6
#undef RUN_5
#undef RUN_4
#undef RUN_3
#undef RUN_2

/* The digits a group of 4 hex digits is written with, by which of them are '0' (bit j: digit j,
 * the first lowest): 4 less its leading zeros, at least 1. Nibble q of this word. */
#define IP6_DIGITS 0x1434243414342434ull

/* The engine's own canonical IPv6 text (lowercase hex, no leading zeros, the first longest
 * run of two or more zero groups as "::", never a dotted tail). Any fixed formatter makes
 * text↔bytes one-to-one on its image, which is all the key encoding needs. It is what a
 * lookup of an address compares a candidate by (kz_e_val_text_eq), so it takes no branch on
 * the address: the 32 digits at once (kz_hex_format), which of them are '0' and which groups
 * are zero from SSE2 compares, the run from a table of the 256 zero-group masks, then each
 * group written as one 8-byte word (its last 1 to 4 digits and a ':'), or a ':' or nothing
 * inside the run, by conditional moves. The loop it replaced branched on the groups and the
 * run: 305 instructions an address and a mispredicted branch in every one, this 211
 * (callgrind, the benchmark's addresses).
 * out needs 48 bytes (a group's word is stored whole) and gets a NUL. */
static size_t ip6_text(const uint8_t a[16], char out[48])
{
    char hx[32];
    kz_hex_format(a, 16, hx, false);
    unsigned z = 0, zm = 0;
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)a), zero = _mm_setzero_si128();
    __m128i zg = _mm_cmpeq_epi16(v, zero);
    z = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(zg, zg)) & 0xffu;
    __m128i c0 = _mm_set1_epi8('0');
    zm = (unsigned)_mm_movemask_epi8(
             _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)hx), c0)) |
         (unsigned)_mm_movemask_epi8(
             _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(hx + 16)), c0))
             << 16;
#else
    for (unsigned i = 0; i < 32; i++)
        zm |= (unsigned)(hx[i] == '0') << i;
    for (unsigned i = 0; i < 8; i++)
        z |= (unsigned)((zm >> 4 * i & 15) == 15) << i;
#endif
    unsigned run = ip6_runs[z], best = run & 15, blen = run >> 4;
    unsigned first = 1 + (best == 0); /* the run's characters: "::" at the start, else ':' */
    size_t o = 0;
    for (size_t i = 0; i < 8; i++) {
        unsigned nd = (unsigned)(IP6_DIGITS >> 4 * (zm >> 4 * i & 15)) & 15;
        uint32_t g = le32(hx + 4 * i);
        uint64_t w = (uint64_t)(g >> 8 * (4 - nd)) | (uint64_t)':' << 8 * nd;
        size_t adv = nd + 1;
        bool in = i - best < blen; /* unsigned: false before the run */
        w = in ? 0x3a3a : w;
        adv = in ? (i == best ? first : 0) : adv;
        put_le64(out + o, w);
        o += adv;
    }
    /* every group's ':' follows it; the last is dropped, unless the run ends the address */
    o = o - 1 + (blen && best + blen == 8);
    out[o] = 0;
    return o;
}
#undef IP6_DIGITS

/* The canonical IPv6 texts (ip6_text's image), parsed: groups of lowercase hex without a
 * leading zero, and "::" exactly where ip6_text puts it (the first longest run of two or
 * more zero groups), or none when there is no such run. Checked while parsing: formatting
 * the address again to compare made an IPv6 key cost 40 ns. */
static bool ip6_canonical(const char *s, size_t len, uint8_t a[16])
{
    uint16_t g[8];
    int ng = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < len) {
        unsigned v = 0;
        size_t st = i;
        while (i < len && i - st < 4 && (hexd[(unsigned char)s[i]] & (HX_DIGIT | HX_UPPER)) == HX_DIGIT)
            v = v << 4 | (hexd[(unsigned char)s[i++]] & 15u);
        if (i == st || ng == 8 || (s[st] == '0' && i - st > 1))
            return false;
        g[ng++] = (uint16_t)v;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = ng;
            i++;
        } else if (i == len) {
            return false;
        }
    }
    if (gap < 0 ? ng != 8 : ng > 6) /* "::" stands for two zero groups or more */
        return false;
    uint16_t w[8] = {0};
    for (int k = 0, o = 0; k < ng; k++, o++) {
        if (k == gap)
            o += 8 - ng;
        w[o] = g[k];
    }
    /* the first longest run of two or more zero groups must be the gap */
    int best = -1, bestlen = 1;
    for (int k = 0; k < 8;) {
        int j = k;
        while (j < 8 && !w[j])
            j++;
        if (j - k > bestlen) {
            best = k;
            bestlen = j - k;
        }
        k = j > k ? j : k + 1;
    }
    if (best != (gap < 0 ? -1 : gap) || (gap >= 0 && bestlen != 8 - ng))
        return false;
    /* two stores, which the hash's two loads can be forwarded from */
    put_be64(a, (uint64_t)w[0] << 48 | (uint64_t)w[1] << 32 | (uint64_t)w[2] << 16 | w[3]);
    put_be64(a + 8, (uint64_t)w[4] << 48 | (uint64_t)w[5] << 32 | (uint64_t)w[6] << 16 | w[7]);
    return true;
}

#if defined(__SSE2__)
/* The leading 16-digit blocks of a hex string, decoded into b 8 bytes per block, their
 * letters' cases into *cls (HX_LOWER, HX_UPPER); returns the characters decoded (the scalar
 * loop takes the rest, and any block holding a non-hex character). A digest of 64 digits
 * took about 400 instructions in the scalar loop, 4 blocks here take about 80. */
static size_t hex16_blocks(const char *s, size_t len, uint8_t *b, unsigned *cls)
{
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* signed compares: bytes of 0x80 and above are negative, in no range */
        __m128i dig = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
                                    _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
        __m128i low = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('a' - 1)),
                                    _mm_cmplt_epi8(c, _mm_set1_epi8('f' + 1)));
        __m128i up = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('A' - 1)),
                                   _mm_cmplt_epi8(c, _mm_set1_epi8('F' + 1)));
        __m128i let = _mm_or_si128(low, up);
        if (_mm_movemask_epi8(_mm_or_si128(dig, let)) != 0xffff)
            break;
        *cls |= (_mm_movemask_epi8(low) ? HX_LOWER : 0u) | (_mm_movemask_epi8(up) ? HX_UPPER : 0u);
        /* the nibble: the low 4 bits, plus 9 for a letter ('a' and 'A' end in 1) */
        __m128i v = _mm_add_epi8(_mm_and_si128(c, _mm_set1_epi8(0x0f)),
                                 _mm_and_si128(let, _mm_set1_epi8(9)));
        /* pairs: the even byte is the high nibble, the odd one the low */
        __m128i hi = _mm_and_si128(v, _mm_set1_epi16(0x00ff));
        __m128i lo = _mm_srli_epi16(v, 8);
        __m128i pair = _mm_or_si128(_mm_slli_epi16(hi, 4), lo);
        _mm_storel_epi64((__m128i *)(void *)(b + i / 2), _mm_packus_epi16(pair, pair));
    }
    return i;
}
#else
static size_t hex16_blocks(const char *s, size_t len, uint8_t *b, unsigned *cls)
{
    (void)s, (void)len, (void)b, (void)cls;
    return 0;
}
#endif

/* Whether a ':' is among the first five bytes, as in every canonical IPv6 text (its groups
 * have at most four digits). */
static inline bool colon5(const char *s, size_t len)
{
    bool c = false;
    for (size_t i = 0; i < len && i < 5; i++)
        c |= s[i] == ':';
    return c;
}

/* The key of a string (see kz_e_key_str) and, when h is set, its hash, taken from the string
 * (a binary form's hash is its text's: khash_text) instead of read back from buf: a load of
 * the key's first word spans the header's and the value's stores, which the store buffer
 * cannot forward, and stalled until they were written (the most costly instructions of a
 * lookup at 100k indicators). Inline in both entry points, so kz_e_key_str carries no
 * hashing. */
static inline size_t key_enc(uint8_t *buf, uint32_t path, const char *s, size_t len, uint64_t *h,
                             unsigned kinds)
{
    if (len > KZ_E_MAX_KEY)
        return 0;
    if (h) /* whatever the kind: a binary form's text is s (see khash_text) */
        *h = khash_text(path, (const uint8_t *)s, len);
    const uint8_t *d = (const uint8_t *)s;
    size_t n = len;
    int kind = K_STR;
    uint32_t a4;
    uint8_t a[KZ_E_HEX_MAX]; /* an IPv6 address, or a digest's bytes */
    if ((kinds >> K_IP4 & 1) && len >= 7 && len <= 15 && ip4_canonical(s, len, &a4))
        return kz_e_key_raw(buf, path, K_IP4, &a4, 4);
    if ((kinds >> K_IP6 & 1) && len >= 2 && len <= 39 &&
        is_hex_char((unsigned char)s[0]) + (s[0] == ':') && colon5(s, len) &&
        ip6_canonical(s, len, a))
        return kz_e_key_raw(buf, path, K_IP6, a, 16);
    if ((kinds & KZ_E_KINDS_HEX) && len >= 16 && len % 2 == 0 && len <= 2 * (size_t)KZ_E_HEX_MAX &&
        is_hex_char((unsigned char)s[0]) && is_hex_char((unsigned char)s[len - 1])) {
        /* one-case hex of >= 16 digits (the ends first: most names and URLs fail there,
         * without the call that decodes a block) */
        unsigned cls = 0;
        size_t i = hex16_blocks(s, len, a, &cls);
        for (; i < len; i += 2) {
            unsigned hi = hexd[(unsigned char)s[i]], lo = hexd[(unsigned char)s[i + 1]];
            if (!(hi & lo & HX_DIGIT))
                break;
            cls |= hi | lo;
            a[i / 2] = (uint8_t)((hi & 15) << 4 | (lo & 15));
        }
        /* digits-only strings count as lowercase; a mixed-case string stays text */
        if (i == len && (cls & (HX_LOWER | HX_UPPER)) != (HX_LOWER | HX_UPPER)) {
            d = a;
            n = len / 2;
            kind = cls & HX_UPPER ? K_HEXU : K_HEXL;
        }
    }
    return kz_e_key_raw(buf, path, kind, d, n);
}

size_t kz_e_key_str(uint8_t *buf, uint32_t path, const char *s, size_t len)
{
    return key_enc(buf, path, s, len, NULL, KZ_E_KINDS_VALUE);
}

size_t kz_e_key_hstr(uint8_t *buf, uint32_t path, const char *s, size_t len, uint64_t *h)
{
    return key_enc(buf, path, s, len, h, KZ_E_KINDS_VALUE);
}

/* Why skipping the tests of absent kinds keeps the answers: the kinds are disjoint (an IPv4
 * text has dots and no colon, an IPv6 one a colon, a digest neither), so a test that passes
 * gives the value's own kind; and when the value's kind was skipped, the key made instead
 * (K_STR, of the value's bytes) is one the full encoder never makes, so no index holds it. */
size_t kz_e_key_hstr_of(uint8_t *buf, uint32_t path, const char *s, size_t len, uint64_t *h,
                        unsigned kinds)
{
    return key_enc(buf, path, s, len, h, kinds);
}

size_t kz_e_key_text_to(const uint8_t *k, char *out)
{
    return kz_e_val_text_to(k[2], k + 5, kz_e_key_len(k) - 5, out);
}

size_t kz_e_val_text_to(int kind, const uint8_t *d, size_t n, char *out)
{
    switch (kind) {
    case K_IP4:
        return kz_ip4_format(d, out);
    case K_IP6: {
        char b[48];
        size_t n6 = ip6_text(d, b);
        memcpy(out, b, n6 + 1);
        return n6;
    }
    case K_HEXL:
    case K_HEXU:
        kz_hex_format(d, n, out, kind == K_HEXU);
        out[2 * n] = 0;
        return 2 * n;
    default:
        memcpy(out, d, n);
        out[n] = 0;
        return n;
    }
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Each octet's text and a dot in a word's low bytes (the first character lowest), and the
 * length of that in bits 32 and up: a table of compile-time constants. */
#define OCT_TXT(v)                                                                                 \
    ((uint64_t)((('0' + (v) / 100) | ('0' + (v) / 10 % 10) << 8 | ('0' + (v) % 10) << 16 |         \
                 '.' << 24) >>                                                                     \
                (8 * (((v) < 100) + ((v) < 10)))) |                                                \
     (uint64_t)(2 + ((v) >= 10) + ((v) >= 100)) << 32)
#define OCT_TXT4(v) OCT_TXT(v), OCT_TXT((v) + 1), OCT_TXT((v) + 2), OCT_TXT((v) + 3)
#define OCT_TXT16(v) OCT_TXT4(v), OCT_TXT4((v) + 4), OCT_TXT4((v) + 8), OCT_TXT4((v) + 12)
#define OCT_TXT64(v) OCT_TXT16(v), OCT_TXT16((v) + 16), OCT_TXT16((v) + 32), OCT_TXT16((v) + 48)
static const uint64_t oct_txt[256] = {OCT_TXT64(0), OCT_TXT64(64), OCT_TXT64(128), OCT_TXT64(192)};
#undef OCT_TXT
#undef OCT_TXT4
#undef OCT_TXT16
#undef OCT_TXT64

/* Whether t (n bytes) is the text of address a: the text built in two 64-bit registers from
 * the table (the first two octets' text and dots, then the last two's), compared with t's bytes
 * loaded into two others, with no store and no load of what was stored. Formatting into memory
 * and comparing cost about 150 instructions; one 128-bit register built with a shift per
 * octet about 90 (a 128-bit shift is several instructions), this about 50 (callgrind). */
static bool ip4_text_eq(const uint8_t a[4], const char *t, size_t n)
{
    uint64_t e0 = oct_txt[a[0]], e1 = oct_txt[a[1]], e2 = oct_txt[a[2]], e3 = oct_txt[a[3]];
    unsigned l0 = (unsigned)(e0 >> 32), l2 = (unsigned)(e2 >> 32);
    unsigned h = l0 + (unsigned)(e1 >> 32);        /* the first half's bytes: 4 to 8 */
    unsigned rest = l2 + (unsigned)(e3 >> 32) - 1; /* the second's, less the last dot */
    if (h + rest != n)
        return false;
    uint64_t x = (uint32_t)e0 | (uint64_t)(uint32_t)e1 << 8 * l0;
    uint64_t y = (uint32_t)e2 | (uint64_t)(uint32_t)e3 << 8 * l2;
    const uint8_t *u = (const uint8_t *)t;
    uint64_t first, second; /* t's first h bytes, and its last rest bytes (3 to 7), lowest first */
    if (n >= 8) {
        first = rd64(u);
        second = rd64(u + n - 8) >> 8 * (8 - rest);
    } else { /* 7: every octet one digit */
        first = rd32(u);
        second = rd32(u + 3) >> 8;
    }
    uint64_t hmask = ~0ull >> (64 - 8 * h), rmask = ~0ull >> (64 - 8 * rest);
    return (((x ^ first) & hmask) | ((y ^ second) & rmask)) == 0;
}
#else
static bool ip4_text_eq(const uint8_t a[4], const char *t, size_t n)
{
    char b[16];
    return n <= 15 && kz_ip4_format(a, b) == n &&
           kz_e_same((const uint8_t *)b, (const uint8_t *)t, n);
}
#endif

bool kz_e_val_text_eq(int kind, const uint8_t *v, size_t vl, const char *t, size_t n)
{
    switch (kind) {
    case K_STR:
        return n == vl && kz_e_same(v, (const uint8_t *)t, n);
    case K_IP4:
        return vl == 4 && ip4_text_eq(v, t, n);
    case K_IP6: {
        char b[48];
        return vl == 16 && n <= 39 && ip6_text(v, b) == n &&
               kz_e_same((const uint8_t *)b, (const uint8_t *)t, n);
    }
    case K_HEXL:
    case K_HEXU: {
        char b[2 * KZ_E_HEX_MAX];
        if (vl > KZ_E_HEX_MAX || n != 2 * vl)
            return false;
        kz_hex_format(v, vl, b, kind == K_HEXU);
        return kz_e_same((const uint8_t *)b, (const uint8_t *)t, n);
    }
    default:
        return false;
    }
}

void kz_e_quote(kz_buf *b, const char *s, size_t len)
{
    kz_buf_putc(b, '\'');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            kz_buf_putc(b, '\\');
        kz_buf_putc(b, s[i]);
    }
    kz_buf_putc(b, '\'');
}

bool kz_e_parse_cidr(const char *s, size_t len, int *family, uint8_t addr[16], int *prefix)
{
    char buf[64];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (alen == 0 || alen >= sizeof buf || memchr(s, 0, len))
        return false;
    memcpy(buf, s, alen);
    buf[alen] = 0;
    memset(addr, 0, 16);
    int max;
    /* ip4_canonical accepts exactly what inet_pton(AF_INET) does (four decimal parts of at
     * most 255 without leading zeros), without its call and copy */
    uint32_t a4;
    bool canon = ip4_canonical(buf, alen, &a4);
    if (canon)
        memcpy(addr, &a4, 4);
    if (canon || inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = 6;
        max = 128;
    } else {
        return false;
    }
    *prefix = max;
    if (slash) {
        const char *p = slash + 1, *end = s + len;
        int v = 0;
        if (p == end || end - p > 3)
            return false;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return false;
            v = v * 10 + (*p - '0');
        }
        if (v > max)
            return false;
        *prefix = v;
    }
    return true;
}

void kz_e_mask(uint8_t *addr, int nbytes, int prefix)
{
    for (int i = 0; i < nbytes; i++) {
        int bits = prefix - i * 8;
        if (bits >= 8)
            continue;
        addr[i] = bits <= 0 ? 0 : (uint8_t)(addr[i] & (0xff << (8 - bits)));
    }
}
