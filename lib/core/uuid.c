/*
 * UUIDs: parsing, formatting, version 4 (random, libsodium) and version 5 (SHA-1 name-based,
 * GnuTLS's digest) as STIX needs them for object ids and deterministic SCO ids.
 */
#include <kizuna/core.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The value of hex digit c, with *bad set when c is not one; without a branch, since the
 * digits of a random UUID are letters or decimal digits at random: the branchy version
 * mispredicted about half of them, and took 5% of loading ten million indicators. */
static inline unsigned hexval_nb(unsigned char c, unsigned *bad)
{
    unsigned d = (unsigned)c - '0', l = ((unsigned)c | 0x20) - 'a';
    unsigned isd = d < 10, isl = l < 6;
    *bad |= !(isd | isl);
    return isd ? d : l + 10;
}

int kz_uuid_parse(const char *s, kz_uuid *u)
{
    /* the length first: every character is read, not only up to the first bad one */
    if (strnlen(s, 37) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return -1;
    /* where each byte's two digits start: the iterations are independent */
    static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    unsigned bad = 0;
    for (int k = 0; k < 16; k++) {
        unsigned hi = hexval_nb((unsigned char)s[at[k]], &bad);
        u->b[k] = (uint8_t)(hi << 4 | hexval_nb((unsigned char)s[at[k] + 1], &bad));
    }
    return bad ? -1 : 0;
}

void kz_uuid_format(const kz_uuid *u, char *out)
{
    char d[32];
    kz_hex_format(u->b, 16, d, false);
    memcpy(out, d, 8);
    out[8] = '-';
    memcpy(out + 9, d + 8, 4);
    out[13] = '-';
    memcpy(out + 14, d + 12, 4);
    out[18] = '-';
    memcpy(out + 19, d + 16, 4);
    out[23] = '-';
    memcpy(out + 24, d + 20, 12);
    out[36] = '\0';
}

int kz_uuid_version(const kz_uuid *u)
{
    return u->b[6] >> 4;
}

bool kz_uuid_rfc4122_variant(const kz_uuid *u)
{
    return (u->b[8] & 0xc0) == 0x80;
}

void kz_uuid_v4(kz_uuid *u)
{
    randombytes_buf(u->b, 16);
    u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x40);
    u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80);
}

int kz_uuid_v5(const kz_uuid *ns, const void *name, size_t len, kz_uuid *out)
{
    uint8_t digest[20];
    gnutls_hash_hd_t h;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA1) < 0)
        return -1;
    gnutls_hash(h, ns->b, 16);
    gnutls_hash(h, name, len);
    gnutls_hash_deinit(h, digest);
    memcpy(out->b, digest, 16);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
    return 0;
}

int kz_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}
