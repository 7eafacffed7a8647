/*
 * The engine's hashes (kz_e_hash, and kz_e_khash of index keys): every index of the engine takes its slot, tag and filter
 * bits from it, so weak mixing shows up as long probe chains and useless filters, not as wrong
 * answers. These checks make that measurable: each input bit flips about half of the output
 * bits (every output bit about half the time), and structured keys (consecutive addresses,
 * numbered names) spread evenly over the bits the indexes use.
 */
#include "kt.h"

#include "engine/engine_int.h"

#include <stdint.h>

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Strict avalanche: over random keys of every length 1..72, flipping one input bit flips
 * each output bit with probability near 1/2, and about 32 bits in all. */
static void test_avalanche(void)
{
    uint64_t rs = 7;
    static unsigned flips[64];
    unsigned long trials = 0, total = 0;
    for (size_t len = 1; len <= 72; len++) {
        for (int rep = 0; rep < 24; rep++) {
            uint8_t k[72];
            for (size_t i = 0; i < len; i++)
                k[i] = (uint8_t)rng_next(&rs);
            uint64_t h = kz_e_hash(k, len);
            for (size_t bit = 0; bit < 8 * len; bit++) {
                k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                uint64_t d = h ^ kz_e_hash(k, len);
                k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                for (int o = 0; o < 64; o++)
                    flips[o] += (unsigned)(d >> o & 1);
                total += (unsigned long)__builtin_popcountll(d);
                trials++;
            }
        }
    }
    double mean = (double)total / (double)trials;
    KT_CHECK_MSG(mean > 31.0 && mean < 33.0, "mean flipped bits %.2f", mean);
    for (int o = 0; o < 64; o++) {
        double p = (double)flips[o] / (double)trials;
        KT_CHECK_MSG(p > 0.47 && p < 0.53, "output bit %d flips with p = %.3f", o, p);
    }
}

/* Keys that differ only in length (a prefix and the key) or in one trailing zero byte do not
 * collide. */
static void test_lengths(void)
{
    uint8_t z[64] = {0};
    for (size_t a = 0; a < 64; a++)
        for (size_t b = a + 1; b <= 64; b++)
            KT_CHECK_MSG(kz_e_hash(z, a) != kz_e_hash(z, b), "zero keys of %zu and %zu bytes", a,
                         b);
}

/* Long keys whose 16-byte blocks are the same but in another order (a URL's path segments,
 * say) do not collide: the blocks are mixed in sequence, not summed. */
static void test_block_order(void)
{
    uint64_t rs = 11;
    int same = 0;
    for (int rep = 0; rep < 1000; rep++) {
        uint8_t k[64], t[64];
        size_t len = 33 + (size_t)(rng_next(&rs) % 31);
        for (size_t i = 0; i < len; i++)
            k[i] = (uint8_t)rng_next(&rs);
        memcpy(t, k, len);
        memcpy(t, k + 16, 16);
        memcpy(t + 16, k, 16);
        same += kz_e_hash(k, len) == kz_e_hash(t, len);
    }
    KT_CHECK_MSG(same == 0, "%d of 1000 swapped keys collide", same);
}

/* The chi-square of counts over nb buckets, against an even spread. */
static double chi2(const unsigned *c, size_t nb, size_t n)
{
    double e = (double)n / (double)nb, x = 0;
    for (size_t i = 0; i < nb; i++)
        x += ((double)c[i] - e) * ((double)c[i] - e) / e;
    return x;
}

/* Structured keys spread over the bits the indexes take: the high 32 (slot position, filter
 * word), bits 8.. (tags) and the low bits (filter bits). With 2^12 buckets the chi-square of
 * an even spread is 4095 +- 90; 4600 is more than five deviations. */
static void test_structured_keys(void)
{
    enum { NB = 4096, N = 1 << 20 };
    static unsigned hi[NB], mid[NB], lo[NB];
    memset(hi, 0, sizeof hi);
    memset(mid, 0, sizeof mid);
    memset(lo, 0, sizeof lo);
    for (uint32_t i = 0; i < N; i++) {
        uint8_t kb[KZ_E_MAX_KEY + 32];
        char text[64];
        size_t kl;
        if (i % 2) { /* consecutive addresses, as a feed's ranges give */
            uint32_t a = 0x0a000000u + i;
            int n = snprintf(text, sizeof text, "%u.%u.%u.%u", a >> 24, a >> 16 & 255,
                             a >> 8 & 255, a & 255);
            kl = kz_e_key_str(kb, 3, text, (size_t)n);
        } else { /* numbered names */
            int n = snprintf(text, sizeof text, "host%u.example.org", i);
            kl = kz_e_key_str(kb, 7, text, (size_t)n);
        }
        uint64_t h = kz_e_khash(kb, kl);
        hi[h >> 52]++;
        mid[(h >> 8) & (NB - 1)]++;
        lo[h & (NB - 1)]++;
    }
    double xh = chi2(hi, NB, N), xm = chi2(mid, NB, N), xl = chi2(lo, NB, N);
    KT_CHECK_MSG(xh < 4600, "high bits: chi-square %.0f", xh);
    KT_CHECK_MSG(xm < 4600, "tag bits: chi-square %.0f", xm);
    KT_CHECK_MSG(xl < 4600, "low bits: chi-square %.0f", xl);
}

/* A key's hash depends on its path and kind as on its value: one value on two paths, or as
 * two kinds, lands in unrelated slots. Flipping any bit of the path or the kind flips each
 * output bit about half the time. */
static void test_header_avalanche(void)
{
    uint64_t rs = 5;
    static unsigned flips[64];
    unsigned long trials = 0;
    for (int rep = 0; rep < 4000; rep++) {
        uint8_t v[40];
        size_t n = (size_t)(rng_next(&rs) % sizeof v);
        for (size_t i = 0; i < n; i++)
            v[i] = (uint8_t)rng_next(&rs);
        uint32_t path = (uint32_t)(rng_next(&rs) % 4096);
        int kind = 1 + (int)(rng_next(&rs) % 11);
        uint64_t h = kz_e_khash_raw(path, kind, v, n);
        for (int bit = 0; bit < 24; bit++) {
            uint64_t d = bit < 16 ? h ^ kz_e_khash_raw(path ^ (1u << bit), kind, v, n)
                                  : h ^ kz_e_khash_raw(path, kind ^ (1 << (bit - 16)), v, n);
            for (int o = 0; o < 64; o++)
                flips[o] += (unsigned)(d >> o & 1);
            trials++;
        }
    }
    for (int o = 0; o < 64; o++) {
        double p = (double)flips[o] / (double)trials;
        KT_CHECK_MSG(p > 0.47 && p < 0.53, "output bit %d flips with p = %.3f", o, p);
    }
}

/* The hash kz_e_key_hstr gives while encoding is the hash of the key it writes (what the
 * index was built with: a probe that disagreed would miss its own indicator), for values of
 * every kind: canonical and other addresses, digests in either case and mixed, names, and
 * random bytes; and it writes the key kz_e_key_str writes. */
static void test_encoder_hash(void)
{
    static const char *fixed[] = {"10.0.0.1", "255.255.255.255", "0.0.0.0", "010.0.0.1",
                                  "1.2.3.4.5", "1.2.3", "256.1.1.1", "2001:db8::1", "::",
                                  "::1", "2001:DB8::1", "2001:db8:0:0:1:0:0:1", "fe80::",
                                  "d41d8cd98f00b204e9800998ecf8427e",
                                  "D41D8CD98F00B204E9800998ECF8427E",
                                  "d41d8cd98f00b204E9800998ecf8427e", "0123456789abcdef0123",
                                  "example.org", "", "a", "http://example.org/x?y=1"};
    uint64_t rs = 9;
    size_t kinds[16] = {0}, bad = 0, total = 0;
    for (size_t t = 0; t < 200000 + sizeof fixed / sizeof *fixed; t++) {
        char v[200];
        size_t len;
        if (t < sizeof fixed / sizeof *fixed) {
            len = strlen(fixed[t]);
            memcpy(v, fixed[t], len);
        } else {
            static const char alpha[] = "0123456789abcdefABCDEF.:x-/";
            int mode = (int)(rng_next(&rs) % 6); /* 2 lower, 3 upper hex, 5 mixed text */
            len = (size_t)(rng_next(&rs) % (mode == 4 ? 200 : 70));
            if (mode == 0) { /* a dotted quad, sometimes off the canonical form */
                unsigned a = (unsigned)rng_next(&rs);
                len = (size_t)snprintf(v, sizeof v, rng_next(&rs) % 8 ? "%u.%u.%u.%u" : "%u.%u.%u.0%u",
                                       a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
            } else if (mode == 1) { /* an IPv6 address */
                unsigned a = (unsigned)rng_next(&rs);
                len = (size_t)snprintf(v, sizeof v, rng_next(&rs) % 2 ? "2001:db8::%x:%x" : "%x::%x",
                                       a >> 16, a & 0xffff);
            } else {
                for (size_t i = 0; i < len; i++) {
                    uint64_t r = rng_next(&rs);
                    v[i] = mode == 4   ? (char)r
                           : mode == 2 ? alpha[r % 16]
                           : mode == 3 ? alpha[r % 16 < 10 ? r % 16 : r % 16 + 6]
                                       : alpha[r % (sizeof alpha - 1)];
                }
            }
        }
        uint32_t path = (uint32_t)(rng_next(&rs) % 64);
        uint8_t k1[KZ_E_MAX_KEY + 32], k2[KZ_E_MAX_KEY + 32];
        uint64_t h = 0;
        size_t l1 = kz_e_key_str(k1, path, v, len), l2 = kz_e_key_hstr(k2, path, v, len, &h);
        total++;
        if (l1 != l2 || !l1 || memcmp(k1, k2, l1) != 0 || h != kz_e_khash(k2, l2) ||
            h != kz_e_khash_raw(path, k2[2], k2 + 5, l2 - 5))
            bad++;
        else
            kinds[k2[2]]++;
    }
    KT_CHECK_MSG(bad == 0, "%zu of %zu values: hash or key differs", bad, total);
    /* every kind a string can take came up */
    KT_CHECK(kinds[K_IP4] > 1000 && kinds[K_IP6] > 1000 && kinds[K_HEXL] > 1000 &&
             kinds[K_HEXU] > 100 && kinds[K_STR] > 1000);
}

/* The seed changes every hash (a layout nobody can precompute), can be fixed to reproduce
 * one, and no longer once an engine exists. Runs last: it makes an engine. */
static void test_seed(void)
{
    const char *k = "\x05\x00\x01\x0b\x00example.org";
    KT_CHECK(kz_engine_set_hash_seed(1) == 0);
    uint64_t h1 = kz_e_hash(k, 16);
    KT_CHECK(kz_engine_set_hash_seed(2) == 0);
    uint64_t h2 = kz_e_hash(k, 16);
    KT_CHECK(h1 != h2);
    KT_CHECK(kz_engine_set_hash_seed(1) == 0);
    KT_CHECK(kz_e_hash(k, 16) == h1);
    kz_engine *e = kz_engine_new(NULL);
    KT_CHECK(e != NULL);
    KT_CHECK(kz_e_hash(k, 16) == h1); /* the fixed seed is kept */
    KT_CHECK(kz_engine_set_hash_seed(3) == -1);
    KT_CHECK(kz_e_hash(k, 16) == h1);
    kz_engine_free(e);
}

KT_MAIN({"avalanche", test_avalanche}, {"lengths", test_lengths}, {"block_order", test_block_order},
        {"structured_keys", test_structured_keys}, {"header_avalanche", test_header_avalanche},
        {"encoder_hash", test_encoder_hash}, {"seed", test_seed})
