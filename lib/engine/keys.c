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

/* v as 8 big-endian bytes at p, in one store. */
static inline void put_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* The engine's own canonical IPv6 text (lowercase hex, no leading zeros, the first longest
 * run of two or more zero groups as "::", never a dotted tail). Any fixed formatter makes
 * text↔bytes one-to-one on its image, which is all the key encoding needs. It is what a
 * lookup of an address compares a candidate by (kz_e_val_text_eq), so it has no branch per
 * digit: the 32 digits at once (kz_hex_format), then each group's last 1 to 4 of them moved
 * in one 4-byte copy (a loop of a digit at a time ran about 500 instructions per address).
 * out needs 40 bytes and gets a NUL. */
static size_t ip6_format(const uint8_t a[16], char *out)
{
    char hx[36]; /* and 4 more: a group's copy reads 4 bytes from its first digit */
    kz_hex_format(a, 16, hx, false);
    memset(hx + 32, 0, 4);
    unsigned z = 0; /* bit i: group i is zero */
    unsigned nd[8]; /* its digits: 1 to 4 */
    for (size_t i = 0; i < 8; i++) {
        uint32_t v = (uint32_t)a[2 * i] << 8 | a[2 * i + 1];
        z |= (unsigned)!v << i;
        nd[i] = (31u - (unsigned)__builtin_clz(v | 1)) / 4 + 1;
    }
    size_t best = 8, bestlen = 1; /* the first longest run of two or more */
    for (unsigned r = z; r;) {
        unsigned st = (unsigned)__builtin_ctz(r), len = (unsigned)__builtin_ctz(~(r >> st));
        if (len > bestlen) {
            best = st;
            bestlen = len;
        }
        r &= ~0u << (st + len); /* st + len <= 8 */
    }
    size_t o = 0;
    for (size_t i = 0; i < 8; i++) {
        if (i == best) {
            out[o++] = ':';
            out[o++] = ':';
            i += bestlen - 1;
            continue;
        }
        if (i && i != best + bestlen)
            out[o++] = ':';
        memcpy(out + o, hx + 4 * i + 4 - nd[i], 4); /* 4 bytes whatever nd: within out's 40 */
        o += nd[i];
    }
    out[o] = 0;
    return o;
}

/* The canonical IPv6 texts (ip6_format's image), parsed: groups of lowercase hex without a
 * leading zero, and "::" exactly where ip6_format puts it (the first longest run of two or
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
    case K_IP6:
        return ip6_format(d, out);
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

/* Whether t (n bytes) is the text of address a: the text built in a 128-bit register from
 * the table, compared with t's bytes loaded into another, with no store and no load of what
 * was stored (formatting into memory and comparing cost about 150 instructions, this about
 * 40). */
static bool ip4_text_eq(const uint8_t a[4], const char *t, size_t n)
{
    if (n < 7 || n > 15)
        return false;
    unsigned __int128 x = 0;
    unsigned sh = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t e = oct_txt[a[i]];
        x |= (unsigned __int128)(uint32_t)e << sh;
        sh += 8 * (unsigned)(e >> 32);
    }
    if (sh / 8 - 1 != n) /* the text ends before the last dot */
        return false;
    const uint8_t *u = (const uint8_t *)t;
    uint64_t lo, hi;
    if (n >= 8) { /* bytes 8 to n - 1: the top ones of the word ending at n */
        lo = rd64(u);
        hi = rd64(u + n - 8) >> (8 * (15 - n)) >> 8;
    } else { /* 7: bytes 0 to 3, and 3 to 6 */
        lo = rd32(u) | rd32(u + 3) << 24;
        hi = 0;
    }
    unsigned __int128 mask = ((unsigned __int128)1 << (8 * n)) - 1;
    return ((x ^ (lo | (unsigned __int128)hi << 64)) & mask) == 0;
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
        char b[40];
        return vl == 16 && n <= 39 && ip6_format(v, b) == n &&
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
