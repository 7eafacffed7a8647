/*
 * The engine's key hash (kz_e_hash): every index of the engine takes its slot, tag and filter
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
        uint64_t h = kz_e_hash(kb, kl);
        hi[h >> 52]++;
        mid[(h >> 8) & (NB - 1)]++;
        lo[h & (NB - 1)]++;
    }
    double xh = chi2(hi, NB, N), xm = chi2(mid, NB, N), xl = chi2(lo, NB, N);
    KT_CHECK_MSG(xh < 4600, "high bits: chi-square %.0f", xh);
    KT_CHECK_MSG(xm < 4600, "tag bits: chi-square %.0f", xm);
    KT_CHECK_MSG(xl < 4600, "low bits: chi-square %.0f", xl);
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
        {"structured_keys", test_structured_keys}, {"seed", test_seed})
