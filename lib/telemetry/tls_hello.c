/*
 * TLS hello fingerprints: from a ClientHello the SNI, the JA3 string and its MD5
 * (Salesforce JA3: version,ciphers,extensions,groups,point formats, decimal, GREASE removed)
 * and JA4 (FoxIO JA4 spec: technical_details/JA4.md); from a ServerHello the JA3S string
 * (version,cipher,extensions) and its MD5.
 *
 * Invariants: every length is checked against the bytes present; a message cut short
 * (a hello split over TCP segments) still yields the SNI when it was in the part seen, but
 * no fingerprint, since a fingerprint of part of the list would be a wrong one. All output
 * text is written into the caller's scratch. Hashes come from GnuTLS (already linked).
 * With a cache (the packet decoder has one), a hello whose fingerprint inputs were seen
 * recently gets the stored text and hashes; the inputs are compared in full, so the result
 * is the same as without the cache.
 */
#include "pkt_internal.h"

#include <gnutls/crypto.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 512

typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    bool cut; /* ran past the end of the bytes present */
} rd;

static bool need(rd *r, size_t k)
{
    if (r->off + k > r->n) {
        r->cut = true;
        return false;
    }
    return true;
}

static unsigned u8(rd *r)
{
    return r->p[r->off++];
}

static unsigned u16(rd *r)
{
    unsigned v = (unsigned)r->p[r->off] << 8 | r->p[r->off + 1];
    r->off += 2;
    return v;
}

static bool grease(unsigned v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool full;
} sbuf;

static void sputs(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* Decimal and hex by hand: snprintf was most of the cost of a ClientHello. */
static void sdec(sbuf *b, unsigned v)
{
    char t[8];
    size_t k = sizeof t;
    do {
        t[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sputs(b, t + k, sizeof t - k);
}

static void slist(sbuf *b, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sputs(b, "-", 1);
        sdec(b, v[i]);
    }
}

static const char hexd[] = "0123456789abcdef";

/* Hash text with algo and write the first hexlen hex digits into dst (NUL-terminated). */
static int hash_hex(gnutls_digest_algorithm_t algo, const char *text, size_t n, char *dst,
                    size_t hexlen)
{
    unsigned char d[32];
    if (gnutls_hash_fast(algo, text, n, d) != 0)
        return -1;
    for (size_t i = 0; i < hexlen / 2; i++) {
        dst[2 * i] = hexd[d[i] >> 4];
        dst[2 * i + 1] = hexd[d[i] & 15];
    }
    dst[hexlen] = 0;
    return 0;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void hex4list(sbuf *b, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char t[5] = {',', hexd[v[i] >> 12], hexd[v[i] >> 8 & 15], hexd[v[i] >> 4 & 15],
                     hexd[v[i] & 15]};
        sputs(b, i ? t : t + 1, i ? 5 : 4);
    }
}

/* Lists are short (tens of entries): insertion sort beats qsort's call per comparison. */
static void sort_u16(uint16_t *v, size_t n)
{
    if (n > 64) {
        qsort(v, n, sizeof v[0], cmp_u16);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint16_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static bool alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The lists come last: only the part before them is cleared per hello (the lists are
 * written before they are read, up to their counts). */
typedef struct hello {
    unsigned version;
    size_t nc, ne, ng, ns, npf;
    unsigned best_sv; /* highest supported_versions entry, 0 when absent */
    const uint8_t *alpn;
    size_t alpn_n;
    bool has_alpn, has_sni;
    uint16_t ciphers[MAX_LIST], exts[MAX_LIST], groups[MAX_LIST], sigalgs[MAX_LIST];
    uint8_t pf[MAX_LIST];
} hello;

static const char *ja4_version(unsigned v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
    }
}

static int ja4(const hello *h, bool quic, char *out, char *tmp, size_t tmpcap)
{
    char a[16];
    size_t nc = h->nc > 99 ? 99 : h->nc, ne = h->ne > 99 ? 99 : h->ne;
    char alpn[3] = "00";
    if (h->has_alpn && h->alpn_n > 0) {
        uint8_t f = h->alpn[0], l = h->alpn[h->alpn_n - 1];
        if (alnum(f) && alnum(l)) {
            alpn[0] = (char)f;
            alpn[1] = (char)l;
        } else {
            alpn[0] = hexd[f >> 4];
            alpn[1] = hexd[l & 15];
        }
    }
    const char *ver = ja4_version(h->best_sv ? h->best_sv : h->version);
    a[0] = quic ? 'q' : 't';
    a[1] = ver[0];
    a[2] = ver[1];
    a[3] = h->has_sni ? 'd' : 'i';
    a[4] = (char)('0' + nc / 10);
    a[5] = (char)('0' + nc % 10);
    a[6] = (char)('0' + ne / 10);
    a[7] = (char)('0' + ne % 10);
    a[8] = alpn[0];
    a[9] = alpn[1];
    uint16_t sorted[MAX_LIST];
    sbuf b = {tmp, 0, tmpcap, false};
    char bh[13] = "000000000000", ch[13] = "000000000000";
    if (h->nc) {
        memcpy(sorted, h->ciphers, h->nc * sizeof sorted[0]);
        sort_u16(sorted, h->nc);
        hex4list(&b, sorted, h->nc);
        if (b.full || hash_hex(GNUTLS_DIG_SHA256, b.p, b.len, bh, 12))
            return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < h->ne; i++)
        if (h->exts[i] != 0x0000 && h->exts[i] != 0x0010)
            sorted[k++] = h->exts[i];
    if (k) {
        sort_u16(sorted, k);
        b.len = 0;
        hex4list(&b, sorted, k);
        if (h->ns) {
            sputs(&b, "_", 1);
            hex4list(&b, h->sigalgs, h->ns);
        }
        if (b.full || hash_hex(GNUTLS_DIG_SHA256, b.p, b.len, ch, 12))
            return -1;
    }
    /* "a_b_c": 10 + 1 + 12 + 1 + 12 characters */
    memcpy(out, a, 10);
    out[10] = '_';
    memcpy(out + 11, bh, 12);
    out[23] = '_';
    memcpy(out + 24, ch, 12);
    out[36] = 0;
    return 0;
}

static void add(uint16_t *v, size_t *n, unsigned x, bool *over)
{
    if (*n < MAX_LIST)
        v[(*n)++] = (uint16_t)x;
    else
        *over = true;
}

/* Extensions block of a ClientHello. */
static void client_exts(rd *r, hello *h, kz_tel_record *rec, bool *over)
{
    if (!need(r, 2))
        return;
    size_t total = u16(r);
    size_t end = r->off + total;
    if (end > r->n) {
        r->cut = true;
        end = r->n;
    }
    while (r->off + 4 <= end) {
        unsigned type = u16(r), len = u16(r);
        size_t body = r->off;
        if (body + len > end) {
            r->cut = true;
            if (!grease(type))
                add(h->exts, &h->ne, type, over);
            break;
        }
        r->off += len;
        if (grease(type))
            continue;
        add(h->exts, &h->ne, type, over);
        rd e = {r->p, body + len, body, false};
        if (type == 0x0000) {
            h->has_sni = true;
            if (need(&e, 2)) {
                size_t lend = u16(&e) + e.off;
                while (e.off + 3 <= lend && e.off + 3 <= e.n) {
                    unsigned nt = u8(&e), nl = u16(&e);
                    if (e.off + nl > e.n)
                        break;
                    if (nt == 0 && !rec->tls_sni.p)
                        rec->tls_sni = (kz_tel_str){(const char *)e.p + e.off, nl};
                    e.off += nl;
                }
            }
        } else if (type == 0x000a && need(&e, 2)) {
            size_t l = u16(&e);
            for (size_t i = 0; i + 1 < l && need(&e, 2); i += 2) {
                unsigned g = u16(&e);
                if (!grease(g))
                    add(h->groups, &h->ng, g, over);
            }
        } else if (type == 0x000b && need(&e, 1)) {
            size_t l = u8(&e);
            for (size_t i = 0; i < l && need(&e, 1); i++)
                if (h->npf < MAX_LIST)
                    h->pf[h->npf++] = (uint8_t)u8(&e);
        } else if (type == 0x000d && need(&e, 2)) {
            size_t l = u16(&e);
            for (size_t i = 0; i + 1 < l && need(&e, 2); i += 2) {
                unsigned s = u16(&e);
                if (!grease(s))
                    add(h->sigalgs, &h->ns, s, over);
            }
        } else if (type == 0x0010 && need(&e, 2)) {
            h->has_alpn = true;
            u16(&e);
            if (need(&e, 1)) {
                size_t l = u8(&e);
                if (need(&e, l)) {
                    h->alpn = e.p + e.off;
                    h->alpn_n = l;
                }
            }
        } else if (type == 0x002b && need(&e, 1)) {
            size_t l = u8(&e);
            for (size_t i = 0; i + 1 < l && need(&e, 2); i += 2) {
                unsigned v = u16(&e);
                if (!grease(v) && v > h->best_sv)
                    h->best_sv = v;
            }
        }
    }
}

/* ---- the cache of fingerprints (pkt_internal.h) ---------------------------------------- */

typedef struct keyb {
    uint8_t *p;
    size_t n;
    bool over;
} keyb;

static void kput(keyb *k, const void *v, size_t n)
{
    if (k->n + n > KZ_TEL_TLS_KEY_MAX) {
        k->over = true;
        return;
    }
    memcpy(k->p + k->n, v, n);
    k->n += n;
}

static void kput16(keyb *k, size_t v)
{
    uint16_t x = (uint16_t)v;
    kput(k, &x, 2);
}

/* Every input of a ClientHello's JA3 and JA4, or of a ServerHello's JA3S; 0 when too long
 * to keep. */
static size_t hello_key(const hello *h, int type, bool quic, unsigned cipher, uint8_t *out)
{
    keyb k = {out, 0, false};
    uint8_t hd[8] = {(uint8_t)type, quic, h->has_sni, h->has_alpn, h->alpn_n > 0,
                     h->alpn_n ? h->alpn[0] : 0, h->alpn_n ? h->alpn[h->alpn_n - 1] : 0, 0};
    kput(&k, hd, sizeof hd);
    kput16(&k, h->version);
    kput16(&k, h->best_sv);
    kput16(&k, cipher);
    kput16(&k, h->nc);
    kput16(&k, h->ne);
    kput16(&k, h->ng);
    kput16(&k, h->ns);
    kput16(&k, h->npf);
    kput(&k, h->ciphers, h->nc * 2);
    kput(&k, h->exts, h->ne * 2);
    kput(&k, h->groups, h->ng * 2);
    kput(&k, h->sigalgs, h->ns * 2);
    kput(&k, h->pf, h->npf);
    return k.over ? 0 : k.n;
}

static uint32_t key_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 0xff51afd7ed558ccdull;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The entry for key: *hit when it holds key's fingerprints. */
static kz_tel_tls_memo *memo_find(kz_tel_tls_cache *c, const uint8_t *key, size_t kl,
                                  size_t scratch_len, uint32_t *hash, bool *hit)
{
    *hash = key_hash(key, kl);
    kz_tel_tls_memo *m = &c->e[*hash % KZ_TEL_TLS_CACHE];
    *hit = m->used && m->hash == *hash && m->klen == kl && m->scratch_len == scratch_len &&
           memcmp(m->key, key, kl) == 0;
    return m;
}

static void memo_store(kz_tel_tls_memo *m, uint32_t hash, const uint8_t *key, size_t kl,
                       size_t scratch_len, kz_tel_str str, kz_tel_str md5, kz_tel_str j4)
{
    if (str.n > KZ_TEL_TLS_STR_MAX || (j4.p && j4.n != sizeof m->ja4)) {
        m->used = false;
        return;
    }
    m->used = true;
    m->hash = hash;
    m->klen = (uint16_t)kl;
    m->scratch_len = scratch_len;
    memcpy(m->key, key, kl);
    m->slen = (uint16_t)str.n;
    memcpy(m->str, str.p, str.n);
    m->has_md5 = md5.p != NULL;
    if (md5.p)
        memcpy(m->md5, md5.p, 32);
    m->has_ja4 = j4.p != NULL;
    if (j4.p)
        memcpy(m->ja4, j4.p, sizeof m->ja4);
}

/* Lay a cached entry out in scratch as the computation does: the text, NUL, the MD5, NUL,
 * then (ClientHello) the JA4 and NUL. */
static void memo_apply(const kz_tel_tls_memo *m, char *scratch, kz_tel_str *str,
                       kz_tel_str *md5, kz_tel_str *j4)
{
    memcpy(scratch, m->str, m->slen);
    scratch[m->slen] = 0;
    *str = (kz_tel_str){scratch, m->slen};
    char *h = scratch + m->slen + 1;
    if (m->has_md5) {
        memcpy(h, m->md5, 32);
        h[32] = 0;
        *md5 = (kz_tel_str){h, 32};
    }
    if (j4 && m->has_ja4) {
        char *j = h + 33;
        memcpy(j, m->ja4, sizeof m->ja4);
        j[sizeof m->ja4] = 0;
        *j4 = (kz_tel_str){j, (uint32_t)sizeof m->ja4};
    }
}

int kz_tel_tls_hello(const uint8_t *hs, size_t len, bool quic, kz_tel_record *rec,
                     char *scratch, size_t scratch_len, bool *partial)
{
    return kz_tel_tls_hello_c(hs, len, quic, rec, scratch, scratch_len, partial, NULL);
}

int kz_tel_tls_hello_c(const uint8_t *hs, size_t len, bool quic, kz_tel_record *rec,
                       char *scratch, size_t scratch_len, bool *partial, kz_tel_tls_cache *cache)
{
    *partial = false;
    if (len < 4)
        return -1;
    unsigned type = hs[0];
    size_t mlen = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
    if (type != 1 && type != 2)
        return 0;
    size_t avail = len - 4;
    bool cut = false;
    if (mlen > avail)
        cut = true;
    else
        avail = mlen;
    rd r = {hs + 4, avail, 0, false};
    hello hbuf;
    hello *h = &hbuf;
    memset(h, 0, offsetof(hello, ciphers));
    int rc = -1;
    bool over = false;
    if (!need(&r, 2 + 32 + 1))
        goto out;
    h->version = u16(&r);
    r.off += 32;
    size_t sid = u8(&r);
    if (sid > 32 || !need(&r, sid))
        goto out;
    r.off += sid;
    sbuf b = {scratch, 0, scratch_len, false};
    if (type == 1) {
        if (!need(&r, 2))
            goto out;
        size_t cl = u16(&r);
        if (cl % 2)
            goto out;
        for (size_t i = 0; i < cl; i += 2) {
            if (!need(&r, 2))
                break;
            unsigned c = u16(&r);
            if (!grease(c))
                add(h->ciphers, &h->nc, c, &over);
        }
        if (!r.cut && need(&r, 1)) {
            size_t comp = u8(&r);
            if (need(&r, comp)) {
                r.off += comp;
                if (r.off < r.n)
                    client_exts(&r, h, rec, &over);
            }
        }
        rc = 1;
        if (r.cut || cut || over) {
            *partial = r.cut || cut;
            if (over && !*partial)
                rc = -1;
            goto out;
        }
        rec->tls_version = (kz_tel_str){ja4_version(h->best_sv ? h->best_sv : h->version), 2};
        uint8_t key[KZ_TEL_TLS_KEY_MAX];
        size_t kl = cache ? hello_key(h, 1, quic, 0, key) : 0;
        kz_tel_tls_memo *memo = NULL;
        uint32_t kh = 0;
        if (kl) {
            bool hit;
            memo = memo_find(cache, key, kl, scratch_len, &kh, &hit);
            if (hit) {
                memo_apply(memo, scratch, &rec->ja3_string, &rec->ja3, &rec->ja4);
                goto out;
            }
        }
        sdec(&b, h->version);
        sputs(&b, ",", 1);
        slist(&b, h->ciphers, h->nc);
        sputs(&b, ",", 1);
        slist(&b, h->exts, h->ne);
        sputs(&b, ",", 1);
        slist(&b, h->groups, h->ng);
        sputs(&b, ",", 1);
        for (size_t i = 0; i < h->npf; i++) {
            if (i)
                sputs(&b, "-", 1);
            sdec(&b, h->pf[i]);
        }
        if (b.full || scratch_len - b.len < 33 + 64 + 1 + 1024) {
            rc = -1;
            goto out;
        }
        rec->ja3_string = (kz_tel_str){b.p, (uint32_t)b.len};
        char *md5 = b.p + b.len + 1;
        if (hash_hex(GNUTLS_DIG_MD5, b.p, b.len, md5, 32) == 0)
            rec->ja3 = (kz_tel_str){md5, 32};
        char *j4 = md5 + 33;
        if (ja4(h, quic, j4, j4 + 64, scratch_len - (size_t)(j4 + 64 - scratch)) == 0)
            rec->ja4 = (kz_tel_str){j4, (uint32_t)strlen(j4)};
        if (memo)
            memo_store(memo, kh, key, kl, scratch_len, rec->ja3_string, rec->ja3, rec->ja4);
    } else {
        if (!need(&r, 3))
            goto out;
        unsigned cipher = u16(&r);
        r.off += 1; /* compression method */
        if (r.off + 2 <= r.n) {
            size_t total = u16(&r);
            size_t end = r.off + total;
            if (end > r.n) {
                r.cut = true;
                end = r.n;
            }
            while (r.off + 4 <= end) {
                unsigned t = u16(&r), l = u16(&r);
                if (r.off + l > end) {
                    r.cut = true;
                    break;
                }
                if (t == 0x002b && l == 2) {
                    unsigned v = (unsigned)r.p[r.off] << 8 | r.p[r.off + 1];
                    rec->tls_version = (kz_tel_str){ja4_version(v), 2};
                }
                r.off += l;
                if (!grease(t))
                    add(h->exts, &h->ne, t, &over);
            }
        }
        rc = 2;
        if (r.cut || cut || over) {
            *partial = r.cut || cut;
            goto out;
        }
        if (!rec->tls_version.p)
            rec->tls_version = (kz_tel_str){ja4_version(h->version), 2};
        uint8_t key[KZ_TEL_TLS_KEY_MAX];
        size_t kl = cache ? hello_key(h, 2, false, cipher, key) : 0;
        kz_tel_tls_memo *memo = NULL;
        uint32_t kh = 0;
        if (kl) {
            bool hit;
            memo = memo_find(cache, key, kl, scratch_len, &kh, &hit);
            if (hit) {
                memo_apply(memo, scratch, &rec->ja3s_string, &rec->ja3s, NULL);
                goto out;
            }
        }
        sdec(&b, h->version);
        sputs(&b, ",", 1);
        sdec(&b, cipher);
        sputs(&b, ",", 1);
        slist(&b, h->exts, h->ne);
        if (b.full || scratch_len - b.len < 34) {
            rc = -1;
            goto out;
        }
        rec->ja3s_string = (kz_tel_str){b.p, (uint32_t)b.len};
        char *md5 = b.p + b.len + 1;
        if (hash_hex(GNUTLS_DIG_MD5, b.p, b.len, md5, 32) == 0)
            rec->ja3s = (kz_tel_str){md5, 32};
        if (memo)
            memo_store(memo, kh, key, kl, scratch_len, rec->ja3s_string, rec->ja3s,
                       (kz_tel_str){0});
    }
out:
    return rc;
}
