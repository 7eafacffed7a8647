/*
 * QUIC Initial packets (RFC 9000/9001, and QUIC v2 of RFC 9369): removes the header
 * protection and the AEAD of a client's Initial packets, whose keys come from the
 * connection id in the clear, and gathers the CRYPTO frames so that the TLS ClientHello
 * inside can be fingerprinted like one over TCP (SNI, JA3, JA4 with the 'q' prefix).
 *
 * Invariants: every length and varint is checked against the datagram; CRYPTO data is
 * kept only within a fixed buffer and only the bytes contiguous from offset 0 are handed
 * on, so a hello spread over several datagrams yields what the first one holds (flagged
 * partial, no fingerprint). Keys are derived with GnuTLS per Initial packet: QUIC Initials
 * are a few per connection, so this costs nothing on the bulk of traffic.
 * Not done: server Initials, Handshake and 1-RTT packets (their keys are not on the wire).
 */
#include "pkt_internal.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu

static int varint(const uint8_t *d, size_t n, size_t *off, uint64_t *v)
{
    if (*off >= n)
        return -1;
    size_t len = (size_t)1 << (d[*off] >> 6);
    if (*off + len > n)
        return -1;
    uint64_t x = d[*off] & 0x3f;
    for (size_t i = 1; i < len; i++)
        x = x << 8 | d[*off + i];
    *off += len;
    *v = x;
    return 0;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
static int expand_label(const uint8_t *secret, const char *label, uint8_t *out, size_t len)
{
    uint8_t info[64];
    size_t ll = strlen(label);
    info[0] = 0;
    info[1] = (uint8_t)len;
    info[2] = (uint8_t)(6 + ll);
    memcpy(info + 3, "tls13 ", 6);
    memcpy(info + 9, label, ll);
    info[9 + ll] = 0;
    gnutls_datum_t k = {(unsigned char *)secret, 32}, i = {info, (unsigned)(10 + ll)};
    return gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &k, &i, out, len);
}

typedef struct keys {
    uint8_t key[16], iv[12], hp[16];
} keys;

static int client_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, keys *k)
{
    uint8_t initial[32], client[32];
    gnutls_datum_t ikm = {(unsigned char *)dcid, (unsigned)dcid_len};
    gnutls_datum_t salt = {(unsigned char *)(version == QUIC_V2 ? salt_v2 : salt_v1), 20};
    if (gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt, initial) != 0)
        return -1;
    if (expand_label(initial, "client in", client, 32) != 0)
        return -1;
    bool v2 = version == QUIC_V2;
    if (expand_label(client, v2 ? "quicv2 key" : "quic key", k->key, 16) != 0 ||
        expand_label(client, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) != 0 ||
        expand_label(client, v2 ? "quicv2 hp" : "quic hp", k->hp, 16) != 0)
        return -1;
    return 0;
}

/* AES-ECB of one block, as CBC with a zero IV: what header protection needs. */
static int aes_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    uint8_t zero[16] = {0};
    gnutls_datum_t k = {(unsigned char *)key, 16}, iv = {zero, 16};
    gnutls_cipher_hd_t h;
    if (gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_128_CBC, &k, &iv) != 0)
        return -1;
    int rc = gnutls_cipher_encrypt2(h, in, 16, out, 16);
    gnutls_cipher_deinit(h);
    return rc;
}

/* Add the CRYPTO frames of a decrypted payload to buf/filled. */
static void frames(const uint8_t *d, size_t n, uint8_t *buf, uint8_t *filled, size_t cap)
{
    size_t off = 0;
    while (off < n) {
        uint64_t type, a, b, c;
        if (varint(d, n, &off, &type))
            return;
        switch (type) {
        case 0x00: /* PADDING */
        case 0x01: /* PING */
            break;
        case 0x02:
        case 0x03: { /* ACK */
            uint64_t count;
            if (varint(d, n, &off, &a) || varint(d, n, &off, &b) || varint(d, n, &off, &count) ||
                varint(d, n, &off, &c))
                return;
            for (uint64_t i = 0; i < count; i++)
                if (varint(d, n, &off, &a) || varint(d, n, &off, &b))
                    return;
            if (type == 0x03)
                for (int i = 0; i < 3; i++)
                    if (varint(d, n, &off, &a))
                        return;
            break;
        }
        case 0x06: { /* CRYPTO */
            if (varint(d, n, &off, &a) || varint(d, n, &off, &b) || b > n - off)
                return;
            if (a < cap) {
                size_t len = (size_t)(b < cap - a ? b : cap - a);
                memcpy(buf + a, d + off, len);
                memset(filled + a, 1, len);
            }
            off += (size_t)b;
            break;
        }
        case 0x1c: /* CONNECTION_CLOSE */
            if (varint(d, n, &off, &a) || varint(d, n, &off, &b) || varint(d, n, &off, &c) ||
                c > n - off)
                return;
            off += (size_t)c;
            break;
        default:
            return; /* not allowed in Initial packets: stop reading */
        }
    }
}

/* One long-header packet at d[0..n): decrypt it if it is a client Initial we can read.
 * Returns the packet's length (to find coalesced packets), or 0 to stop. */
static size_t initial(const uint8_t *d, size_t n, kz_tel_quic_crypto *out)
{
    if (n < 7 || (d[0] & 0xc0) != 0xc0)
        return 0;
    uint32_t version = (uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4];
    if (version != QUIC_V1 && version != QUIC_V2)
        return 0;
    unsigned type = (d[0] >> 4) & 3;
    bool is_initial = version == QUIC_V1 ? type == 0 : type == 1;
    size_t off = 5;
    size_t dcid_len = d[off++];
    if (dcid_len > 20 || off + dcid_len + 1 > n)
        return 0;
    const uint8_t *dcid = d + off;
    off += dcid_len;
    size_t scid_len = d[off++];
    if (scid_len > 20 || off + scid_len > n)
        return 0;
    off += scid_len;
    uint64_t token = 0, length;
    if (is_initial && (varint(d, n, &off, &token) || token > n - off))
        return 0;
    off += (size_t)token;
    if (varint(d, n, &off, &length) || length > n - off || length < 20)
        return 0;
    size_t pn_off = off, total = off + (size_t)length;
    if (!is_initial)
        return total;
    keys k;
    uint8_t mask[16], hdr[128];
    if (pn_off + 4 > sizeof hdr)
        return total;
    if (client_keys(version, dcid, dcid_len, &k) || aes_block(k.hp, d + pn_off + 4, mask))
        return total;
    memcpy(hdr, d, pn_off + 4);
    hdr[0] ^= mask[0] & 0x0f;
    size_t pn_len = (size_t)(hdr[0] & 3) + 1;
    uint64_t pn = 0;
    for (size_t i = 0; i < pn_len; i++) {
        hdr[pn_off + i] ^= mask[1 + i];
        pn = pn << 8 | hdr[pn_off + i];
    }
    uint8_t nonce[12];
    memcpy(nonce, k.iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    size_t ct_off = pn_off + pn_len, ct_len = total - ct_off;
    uint8_t plain[2048];
    if (ct_len < 16 || ct_len > sizeof plain)
        return total;
    size_t plain_len = sizeof plain;
    gnutls_datum_t key = {k.key, 16};
    gnutls_aead_cipher_hd_t h;
    if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_128_GCM, &key) != 0)
        return total;
    int rc = gnutls_aead_cipher_decrypt(h, nonce, 12, hdr, ct_off, 16, d + ct_off, ct_len, plain,
                                        &plain_len);
    gnutls_aead_cipher_deinit(h);
    if (rc != 0)
        return total; /* a server Initial, or not QUIC after all */
    if (!out->any) {
        out->any = true;
        memcpy(out->dcid, dcid, dcid_len);
        out->dcid_len = dcid_len;
    }
    frames(plain, plain_len, out->buf, out->filled, sizeof out->buf);
    return total;
}

int kz_tel_quic_initial(const uint8_t *d, size_t n, kz_tel_quic_crypto *out)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    while (off < n) {
        size_t used = initial(d + off, n - off, out);
        if (used == 0)
            break;
        off += used;
    }
    return out->any ? 1 : 0;
}

size_t kz_tel_quic_contiguous(const kz_tel_quic_crypto *c)
{
    size_t i = 0;
    while (i < sizeof c->filled && c->filled[i])
        i++;
    return i;
}
