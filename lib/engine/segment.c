/*
 * Engine segments: an immutable index over a set of compact indicator records, built in one
 * pass from kz_esrc items and never modified afterwards (so readers need no locks).
 *
 * Layout (see engine_int.h for bytes per entry): records sorted by uuid (id lookups for
 * updates are binary searches, no id hash), postings grouped by key, an open-addressing
 * table of u32 slots pointing at the first posting of each distinct key, and one arena
 * holding every key and name. Offset 0 of the arena is reserved ("none").
 *
 * It does not decide liveness: a generation's dead bitmap hides replaced base records.
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

/* Large index arrays are read at random: with 4 KiB pages nearly every probe of a 10M set
 * also misses the TLB. Arrays of 4 MiB and more are 2 MiB-aligned and advised as huge pages
 * (transparent huge pages in "madvise" mode, Debian's default); elsewhere it is a no-op. */
static void *big_alloc(size_t n, bool zero)
{
    if (n < ((size_t)4 << 20))
        return zero ? calloc(1, n ? n : 1) : malloc(n ? n : 1);
    void *p = NULL;
    size_t rounded = (n + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
    if (posix_memalign(&p, (size_t)2 << 20, rounded) != 0)
        return NULL;
    madvise(p, rounded, MADV_HUGEPAGE);
    if (zero)
        memset(p, 0, rounded);
    return p;
}

#define SLOT_IDX_BITS 27u
#define SLOT_IDX_MASK ((1u << SLOT_IDX_BITS) - 1u)

typedef struct arena {
    uint8_t *p;
    size_t len, cap;
    bool bad;
} arena;

static uint32_t arena_put(arena *a, const void *d, size_t n)
{
    if (a->bad)
        return 0;
    if (a->len + n > UINT32_MAX) {
        a->bad = true;
        return 0;
    }
    if (a->len + n > a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 4096;
        while (nc < a->len + n)
            nc *= 2;
        uint8_t *q = realloc(a->p, nc);
        if (!q) {
            a->bad = true;
            return 0;
        }
        a->p = q;
        a->cap = nc;
    }
    uint32_t off = (uint32_t)a->len;
    memcpy(a->p + a->len, d, n);
    a->len += n;
    return off;
}

typedef struct skey {
    uint64_t hi, lo; /* the uuid as two big-endian words */
    const kz_esrc *src;
} skey;

static uint64_t be64(const uint8_t *u)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | u[i];
    return v;
}

static int cmp_skey(const void *a, const void *b)
{
    const skey *x = a, *y = b;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

typedef struct hp { /* laid out as kz_e_kv: h is the key, post the value */
    uint64_t h;
    uint64_t post;
} hp;

static int cmp_hp(const void *a, const void *b)
{
    const hp *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (x->post > y->post) - (x->post < y->post);
}

void kz_e_seg_free(kz_eseg *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncplx; i++)
        if (s->cplx[i] && --s->cplx[i]->refs == 0)
            kz_e_cplx_free(s->cplx[i]);
    free(s->cplx);
    free(s->recs);
    free(s->posts);
    free(s->slots);
    free(s->arena);
    free(s->pflags);
    kz_e_seg_free_re(s);
    if (s->c4f)
        for (size_t i = 0; i < 33 * s->npaths; i++)
            free(s->c4f[i]);
    free(s->c4f);
    free(s->c4);
    free(s->c6);
    free(s->tflags);
    free(s);
}

static void note_key(kz_eseg *s, const uint8_t *k)
{
    uint16_t p;
    memcpy(&p, k, 2);
    if (k[2] == K_TYPE) {
        if (p < s->ntypes)
            s->tflags[p] = 1;
        return;
    }
    if (p >= s->npaths)
        return;
    switch (k[2]) {
    case K_INT:
        s->pflags[p] |= PF_INT;
        break;
    case K_CIDR4:
        s->pflags[p] |= PF_CIDR4;
        s->c4[p] |= 1ull << k[5];
        break;
    case K_CIDR6:
        s->pflags[p] |= PF_CIDR6;
        s->c6[3 * p + k[5] / 64] |= 1ull << (k[5] % 64);
        break;
    case K_SUF:
        s->pflags[p] |= PF_SUF;
        break;
    case K_RE:
        s->pflags[p] |= PF_RE;
        break;
    default:
        s->pflags[p] |= PF_EXACT;
        break;
    }
}

kz_eseg *kz_e_seg_build(kz_engine *e, const kz_esrc *src, size_t n, char *err, size_t errlen)
{
    kz_eseg *s = calloc(1, sizeof *s);
    const kz_esrc **ord = malloc((n ? n : 1) * sizeof *ord);
    arena a = {0};
    hp *hps = NULL;
    size_t capposts = 0;
    if (!s || !ord)
        goto oom;
    s->npaths = atomic_load(&e->npaths);
    s->pflags = calloc(s->npaths + 1, 1);
    s->c4 = calloc(s->npaths + 1, sizeof(uint64_t));
    s->c6 = calloc(3 * (s->npaths + 1), sizeof(uint64_t));
    s->ntypes = atomic_load(&e->ntypes);
    s->tflags = calloc(s->ntypes + 1, 1);
    s->recs = big_alloc(n * sizeof *s->recs, false);
    if (!s->pflags || !s->c4 || !s->c6 || !s->recs || !s->tflags)
        goto oom;
    {
        /* by uuid: radix on the first 8 bytes, then runs with equal prefixes by the rest */
        kz_e_kv *kv = malloc((n ? n : 1) * sizeof *kv);
        if (!kv)
            goto oom;
        for (size_t i = 0; i < n; i++)
            kv[i] = (kz_e_kv){be64(src[i].uuid), i};
        if (kz_e_radix_sort(kv, n) < 0) {
            free(kv);
            goto oom;
        }
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && kv[j].k == kv[i].k)
                j++;
            if (j - i > 1) {
                skey *sk = malloc((j - i) * sizeof *sk);
                if (!sk) {
                    free(kv);
                    goto oom;
                }
                for (size_t q = i; q < j; q++)
                    sk[q - i] = (skey){kv[q].k, be64(src[kv[q].v].uuid + 8), &src[kv[q].v]};
                qsort(sk, j - i, sizeof *sk, cmp_skey);
                for (size_t q = i; q < j; q++)
                    kv[q].v = (uint64_t)(sk[q - i].src - src);
                free(sk);
            }
            i = j;
        }
        for (size_t i = 0; i < n; i++)
            ord[i] = &src[kv[i].v];
        free(kv);
    }
    uint8_t zero = 0;
    arena_put(&a, &zero, 1);
    size_t ncplx = 0, nsuf = 0;
    for (size_t i = 0; i < n; i++) {
        ncplx += ord[i]->cplx != NULL;
        nsuf += ord[i]->key && ord[i]->shape == SHAPE_EQ_OR_SUF;
    }
    s->cplx = calloc(ncplx ? ncplx : 1, sizeof *s->cplx);
    capposts = n + nsuf + ncplx * 4 + 16;
    s->posts = malloc(capposts * sizeof *s->posts);
    if (!s->cplx || !s->posts)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const kz_esrc *x = ord[i];
        kz_erec *r = &s->recs[i];
        memcpy(r->uuid, x->uuid, 16);
        r->modified = x->modified;
        r->ctx = x->ctx;
        r->name = 0;
        if (x->name) {
            uint16_t nl = (uint16_t)(x->namelen > 65535 ? 65535 : x->namelen);
            r->name = arena_put(&a, &nl, 2);
            arena_put(&a, x->name, nl);
        }
        r->key = r->cplx = UINT32_MAX;
        if (x->key) {
            r->key = arena_put(&a, x->key, kz_e_key_len(x->key));
            r->cplx = KZ_E_SHAPE_BASE + (uint32_t)x->shape;
            if (s->nposts + 2 > capposts) {
                capposts *= 2;
                kz_epost *q = realloc(s->posts, capposts * sizeof *q);
                if (!q)
                    goto oom;
                s->posts = q;
            }
            uint32_t aux = x->shape == SHAPE_CIDR ? KZ_E_AUX_S_CIDR : KZ_E_AUX_S_EXACT;
            s->posts[s->nposts++] = (kz_epost){r->key, (uint32_t)i, aux | KZ_E_PROOF};
            note_key(s, x->key);
            if (x->shape == SHAPE_EQ_OR_SUF) {
                /* the suffix key ".x" of the value x */
                char vb[2 * KZ_E_MAX_KEY + 64];
                vb[0] = '.';
                size_t vn = kz_e_key_text_to(x->key, vb + 1);
                uint8_t kb[KZ_E_MAX_KEY + 32];
                uint16_t p;
                memcpy(&p, x->key, 2);
                size_t kl = kz_e_key_raw(kb, p, K_SUF, vb, vn + 1);
                s->posts[s->nposts++] =
                    (kz_epost){arena_put(&a, kb, kl), (uint32_t)i, KZ_E_AUX_S_SUFFIX | KZ_E_PROOF};
                note_key(s, kb);
            }
            s->nsimple++;
        } else {
            kz_ecplx *c = x->cplx;
            r->cplx = (uint32_t)s->ncplx;
            s->cplx[s->ncplx++] = c;
            c->refs++;
            if (c->multi)
                s->nmulti++;
            bool only_type = true;
            for (size_t o = 0; o < c->keys_len;) {
                uint32_t aux, kl;
                memcpy(&aux, c->keys + o, 4);
                memcpy(&kl, c->keys + o + 4, 4);
                const uint8_t *k = c->keys + o + 8;
                o += 8 + kl;
                only_type = only_type && k[2] == K_TYPE;
                if (s->nposts == capposts) {
                    capposts *= 2;
                    kz_epost *q = realloc(s->posts, capposts * sizeof *q);
                    if (!q)
                        goto oom;
                    s->posts = q;
                }
                s->posts[s->nposts++] = (kz_epost){arena_put(&a, k, kl), (uint32_t)i, aux};
                note_key(s, k);
            }
            s->ntype += only_type;
        }
        if (a.bad)
            goto oom;
    }
    s->nrecs = n;
    s->arena = a.p;
    if (a.len >= ((size_t)4 << 20)) { /* move the arena to huge pages, trimmed to size */
        uint8_t *h = big_alloc(a.len, false);
        if (h) {
            memcpy(h, a.p, a.len);
            free(a.p);
            s->arena = h;
        }
    }
    s->arena_len = a.len;
    a.p = NULL;
    if (s->nposts >= SLOT_IDX_MASK) {
        if (err && errlen)
            snprintf(err, errlen, "segment too large (%zu postings)", s->nposts);
        kz_e_seg_free(s);
        free(ord);
        return NULL;
    }
    /* group postings by key: sort by (hash, original order) then merge equal keys */
    hps = malloc((s->nposts ? s->nposts : 1) * sizeof *hps);
    if (!hps)
        goto oom;
    for (size_t i = 0; i < s->nposts; i++) {
        const uint8_t *k = s->arena + s->posts[i].key;
        hps[i].h = kz_e_hash(k, kz_e_key_len(k));
        hps[i].post = (uint32_t)i;
    }
    /* by hash, stable (so postings keep their order within a hash) */
    _Static_assert(sizeof(hp) == sizeof(kz_e_kv), "hp must be laid out as kz_e_kv");
    if (kz_e_radix_sort((kz_e_kv *)(void *)hps, s->nposts) != 0)
        qsort(hps, s->nposts, sizeof *hps, cmp_hp);
    kz_epost *np = big_alloc(s->nposts * sizeof *np, false);
    if (!np)
        goto oom;
    /* within one hash, distinct keys are rare: gather each key's postings together */
    size_t out = 0, ngroups = 0;
    uint64_t *gh = malloc((s->nposts ? s->nposts : 1) * sizeof *gh); /* group head hashes */
    uint32_t *gi = malloc((s->nposts ? s->nposts : 1) * sizeof *gi);
    if (!gh || !gi) {
        free(np);
        free(gh);
        free(gi);
        goto oom;
    }
    for (size_t i = 0; i < s->nposts;) {
        size_t j = i;
        while (j < s->nposts && hps[j].h == hps[i].h)
            j++;
        for (size_t k = i; k < j; k++) {
            if (hps[k].post == UINT32_MAX)
                continue;
            uint32_t kpost = (uint32_t)hps[k].post;
            const uint8_t *kk = s->arena + s->posts[kpost].key;
            size_t kl = kz_e_key_len(kk);
            gh[ngroups] = hps[i].h;
            gi[ngroups++] = (uint32_t)out;
            for (size_t m = k; m < j; m++) {
                if (hps[m].post == UINT32_MAX)
                    continue;
                const uint8_t *mk = s->arena + s->posts[hps[m].post].key;
                if (m == k || (kz_e_key_len(mk) == kl && memcmp(mk, kk, kl) == 0)) {
                    np[out] = s->posts[hps[m].post];
                    np[out].key = s->posts[kpost].key;
                    out++;
                    hps[m].post = UINT32_MAX;
                }
            }
        }
        i = j;
    }
    free(s->posts);
    s->posts = np;
    free(hps);
    hps = NULL;
    size_t ns = 16;
    while (ns * 7 < ngroups * 10)
        ns *= 2;
    s->nslots = ns;
    s->slots = big_alloc(ns * sizeof *s->slots, true);
    if (!s->slots) {
        free(gh);
        free(gi);
        goto oom;
    }
    for (size_t g = 0; g < ngroups; g++) {
        size_t at = gh[g] & (ns - 1);
        while (s->slots[at])
            at = (at + 1) & (ns - 1);
        s->slots[at] = (gi[g] + 1) | (uint32_t)(gh[g] >> 59) << SLOT_IDX_BITS;
    }
    free(gh);
    free(gi);
    if (kz_e_seg_build_re(s) < 0)
        goto oom;
    /* IPv4 CIDR filters */
    bool any4 = false;
    for (size_t p = 0; p < s->npaths; p++)
        any4 = any4 || s->c4[p];
    if (any4) {
        s->c4f = calloc(33 * s->npaths, sizeof *s->c4f);
        if (!s->c4f)
            goto oom;
        for (size_t p = 0; p < s->npaths; p++)
            for (int L = 0; L <= 32; L++)
                if ((s->c4[p] >> L) & 1) {
                    size_t bits = (size_t)1 << (L < 24 ? L : 24);
                    s->c4f[33 * p + (size_t)L] = calloc((bits + 63) / 64, 8);
                    if (!s->c4f[33 * p + (size_t)L])
                        goto oom;
                    s->bytes += (bits + 63) / 64 * 8;
                }
        for (size_t i = 0; i < s->nposts; i++) {
            const uint8_t *k = s->arena + s->posts[i].key;
            if (k[2] != K_CIDR4)
                continue;
            uint16_t p;
            memcpy(&p, k, 2);
            int L = k[5];
            uint32_t na = (uint32_t)k[6] << 24 | (uint32_t)k[7] << 16 | (uint32_t)k[8] << 8 | k[9];
            int sh = L < 24 ? L : 24;
            size_t idx = sh ? na >> (32 - sh) : 0;
            s->c4f[33 * p + (size_t)L][idx / 64] |= 1ull << (idx % 64);
        }
    }
    s->bytes += sizeof *s + s->nrecs * sizeof *s->recs + s->nposts * sizeof *s->posts +
               s->nslots * 4 + s->arena_len + s->ncplx * sizeof(void *) + s->npaths * 33;
    free(ord);
    return s;
oom:
    if (err && errlen)
        snprintf(err, errlen, "out of memory building an index segment");
    free(hps);
    free(a.p);
    free(ord);
    kz_e_seg_free(s);
    return NULL;
}

void kz_e_seg_lookup(const kz_eseg *s, const uint8_t *k, size_t klen, size_t *lo, size_t *hi)
{
    *lo = *hi = 0;
    if (!s || !s->nslots)
        return;
    uint64_t h = kz_e_hash(k, klen);
    uint32_t tag = (uint32_t)(h >> 59);
    size_t at = h & (s->nslots - 1);
    for (;;) {
        uint32_t v = s->slots[at];
        if (!v)
            return;
        if (v >> SLOT_IDX_BITS == tag) {
            size_t ei = (v & SLOT_IDX_MASK) - 1;
            uint32_t ko = s->posts[ei].key;
            const uint8_t *kk = s->arena + ko;
            if (kz_e_key_len(kk) == klen && memcmp(kk, k, klen) == 0) {
                size_t j = ei + 1;
                while (j < s->nposts && s->posts[j].key == ko)
                    j++;
                *lo = ei;
                *hi = j;
                return;
            }
        }
        at = (at + 1) & (s->nslots - 1);
    }
}

long kz_e_seg_find(const kz_eseg *s, const uint8_t uuid[16])
{
    if (!s)
        return -1;
    size_t a = 0, z = s->nrecs;
    while (a < z) {
        size_t m = (a + z) / 2;
        int c = memcmp(s->recs[m].uuid, uuid, 16);
        if (c == 0)
            return (long)m;
        if (c < 0)
            a = m + 1;
        else
            z = m;
    }
    return -1;
}

void kz_e_seg_src(const kz_eseg *s, size_t r, kz_esrc *src)
{
    const kz_erec *x = &s->recs[r];
    memcpy(src->uuid, x->uuid, 16);
    src->modified = x->modified;
    src->ctx = x->ctx;
    src->name = NULL;
    src->namelen = 0;
    if (x->name) {
        uint16_t nl;
        memcpy(&nl, s->arena + x->name, 2);
        src->name = (const char *)s->arena + x->name + 2;
        src->namelen = nl;
    }
    src->key = x->key != UINT32_MAX ? s->arena + x->key : NULL;
    src->shape = x->cplx >= KZ_E_SHAPE_BASE ? (int)(x->cplx - KZ_E_SHAPE_BASE) : -1;
    src->cplx = x->cplx < KZ_E_SHAPE_BASE ? s->cplx[x->cplx] : NULL;
}
