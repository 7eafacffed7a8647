/*
 * kizuna gen: the deterministic PRNG and small formatting helpers every generator shares.
 *
 * xoshiro256** seeded through splitmix64: fast, good enough statistically, and identical on
 * every platform, which is what "same seed, same bytes" needs. Not for anything secret: the
 * UUIDs it makes are well-formed version 4 identifiers but predictable by design.
 */
#include "gen.h"

#include <kizuna/core.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void gen_rng_seed(gen_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t gen_rng_next(gen_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t gen_rng_below(gen_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift; the tiny bias is irrelevant for test data. */
    return (uint32_t)(((gen_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

void gen_rng_bytes(gen_rng *r, uint8_t *out, size_t n)
{
    while (n) {
        uint64_t v = gen_rng_next(r);
        size_t k = n < 8 ? n : 8;
        memcpy(out, &v, k);
        out += k;
        n -= k;
    }
}

void gen_rng_hex(gen_rng *r, char *out, size_t nhex)
{
    static const char hx[] = "0123456789abcdef";
    uint64_t v = 0;
    for (size_t i = 0; i < nhex; i++) {
        if (i % 16 == 0)
            v = gen_rng_next(r);
        out[i] = hx[v & 15];
        v >>= 4;
    }
    out[nhex] = '\0';
}

void gen_rng_uuid4(gen_rng *r, char *out)
{
    kz_uuid u;
    gen_rng_bytes(r, u.b, 16);
    u.b[6] = (uint8_t)((u.b[6] & 0x0f) | 0x40);
    u.b[8] = (uint8_t)((u.b[8] & 0x3f) | 0x80);
    kz_uuid_format(&u, out);
}

void gen_base36(uint64_t i, char *out, size_t len)
{
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36];
        i /= 36;
    } while (i && n < sizeof tmp);
    size_t k = 0;
    while (n && k + 1 < len)
        out[k++] = tmp[--n];
    out[k] = '\0';
}

void gen_fmt_stix_time(int64_t us, char *buf, size_t len)
{
    kz_time_format(us, 3, buf, len);
}
