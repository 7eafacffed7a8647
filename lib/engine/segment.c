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
 * also misses the TLB. Arrays of 1 MiB and more are 2 MiB-aligned and advised as huge pages
 * (transparent huge pages in "madvise" mode, Debian's default); elsewhere it is a no-op. */
static void *big_alloc(size_t n, bool zero)
{
    void *p = NULL;
    if (n < ((size_t)1 << 20)) { /* 128-byte aligned: a simple bucket is a pair of lines */
        if (posix_memalign(&p, 128, n ? n : 1) != 0)
            return NULL;
        if (zero)
            memset(p, 0, n);
        return p;
    }
    size_t rounded = (n + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
    if (posix_memalign(&p, (size_t)2 << 20, rounded) != 0)
        return NULL;
    madvise(p, rounded, MADV_HUGEPAGE);
    if (zero)
        memset(p, 0, rounded);
    return p;
}

typedef struct arena {
    uint8_t *p;
    size_t len, cap;
    bool bad;
} arena;

/* Offsets into an arena are u32 and stay below 2^31. */
#define KZ_E_ARENA_MAX 0x7fffffffu

/* LEB128 of v into b (at most 10 bytes; 5 for a u32); its length. */
static size_t put_uvar(uint8_t *b, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        b[n++] = (uint8_t)(v | 0x80);
    b[n++] = (uint8_t)v;
    return n;
}

/* The widest difference of two modified times in a segment: 2^60 us, 36,000 years (a
 * STIX timestamp's year has four digits, so parsed times are far within it). */
#define KZ_E_MOD_SPAN ((int64_t)1 << 60)

/* A modified time's difference d from the segment's mod0 (kz_emeta.own_mod) into b (at most
 * 10 bytes); its length. Whole milliseconds (what STIX timestamps mostly are) take a bit
 * less: about 5 bytes for a year apart. The difference wraps like the unsigned subtraction
 * it is, and adding it back gives the time exactly. */
static size_t put_mod(uint8_t *b, int64_t d)
{
    bool ms = d % 1000 == 0;
    int64_t q = ms ? d / 1000 : d;
    uint64_t sign = 0 - ((uint64_t)q >> 63); /* all ones for a negative q (zigzag) */
    return put_uvar(b, ((uint64_t)q << 1 ^ sign) << 1 | (ms ? 0u : 1u));
}

/* The difference put_mod wrote at p (*d); what follows it. */
static const uint8_t *get_mod(const uint8_t *p, int64_t *d)
{
    uint64_t v = 0;
    for (unsigned sh = 0; sh < 64; sh += 7) {
        uint8_t c = *p++;
        v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80))
            break;
    }
    bool ms = !(v & 1);
    uint64_t z = v >> 1;
    int64_t q = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    *d = ms ? q * 1000 : q;
    return p;
}

static uint32_t arena_put(arena *a, const void *d, size_t n)
{
    if (a->bad)
        return 0;
    if (!n) /* nothing to copy: an empty arena has no buffer yet */
        return (uint32_t)a->len;
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
        kz_e_advise_huge(q, nc); /* the new pages too, and the mapping kept whole */
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
    free(s->uuids);
    free(s->rsamp);
    free(s->meta);
    free(s->names);
    free(s->sslots);
    free(s->sfilt);
    free(s->sfoff);
    free(s->posts);
    free(s->slots);
    free(s->arena);
    free(s->pflags);
    free(s->skinds);
    free(s->svlen);
    kz_e_seg_free_re(s);
    if (s->c4any)
        for (size_t i = 0; i < s->npaths; i++)
            free(s->c4any[i]);
    free(s->c4any);
    free(s->c4anyb);
    free(s->c4n);
    if (s->c4f)
        for (size_t i = 0; i < 33 * s->npaths; i++)
            free(s->c4f[i]);
    free(s->c4f);
    if (s->c4s)
        for (size_t i = 0; i < 25 * s->npaths; i++) {
            free(s->c4s[i].bits);
            free(s->c4s[i].rank);
            free(s->c4s[i].recs);
            free(s->c4s[i].dups);
        }
    free(s->c4s);
    free(s->c4);
    free(s->c6);
    free(s->tflags);
    free(s);
}

static void note_key(kz_eseg *s, const uint8_t *k, bool complex)
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
    if (complex)
        s->pflags[p] |= PF_CX;
    switch (k[2]) {
    case K_INT:
        s->pflags[p] |= PF_INT;
        break;
    case K_CIDR4:
        s->pflags[p] |= PF_CIDR4;
        s->c4[p] |= 1ull << k[5];
        s->c4n[p]++;
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

/* Build-time dictionary of meta entries: open addressing over indexes into s->meta. */
typedef struct metamap {
    uint32_t *slots; /* index + 1 */
    size_t n, cap;
} metamap;

static uint64_t meta_hash(const kz_emeta *m)
{
    return kz_e_hash(m, sizeof *m);
}

static long meta_intern(kz_eseg *s, metamap *mm, size_t *capmeta, const kz_emeta *m)
{
    if ((mm->n + 1) * 10 > mm->cap * 7) {
        size_t nc = mm->cap ? mm->cap * 2 : 64;
        uint32_t *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < mm->cap; i++)
            if (mm->slots[i]) {
                size_t at = meta_hash(&s->meta[mm->slots[i] - 1]) & (nc - 1);
                while (ns[at])
                    at = (at + 1) & (nc - 1);
                ns[at] = mm->slots[i];
            }
        free(mm->slots);
        mm->slots = ns;
        mm->cap = nc;
    }
    size_t at = meta_hash(m) & (mm->cap - 1);
    while (mm->slots[at]) {
        if (memcmp(&s->meta[mm->slots[at] - 1], m, sizeof *m) == 0)
            return (long)mm->slots[at] - 1;
        at = (at + 1) & (mm->cap - 1);
    }
    if (s->nmeta == *capmeta) {
        size_t nc = *capmeta ? *capmeta * 2 : 16;
        kz_emeta *v = realloc(s->meta, nc * sizeof *v);
        if (!v)
            return -1;
        s->meta = v;
        *capmeta = nc;
    }
    s->meta[s->nmeta] = *m;
    mm->slots[at] = (uint32_t)++s->nmeta;
    mm->n++;
    return (long)s->nmeta - 1;
}

static size_t entry_key(const kz_eseg *s, uint32_t ref, uint8_t *buf);

/* The full-format key of src into kb (when simple); its length, 0 for complex. */
static size_t src_key(const kz_esrc *x, uint8_t *kb)
{
    if (x->from)
        return x->shape >= 0 ? entry_key(x->from, x->from_ref, kb) : 0;
    if (!x->key)
        return 0;
    size_t kl = kz_e_key_len(x->key);
    memcpy(kb, x->key, kl);
    return kl;
}

/* Order srcs by uuid: radix on the first 8 bytes, then runs with equal prefixes by the rest. */
static int order_by_uuid(const kz_esrc *src, size_t n, const kz_esrc **ord)
{
    /* a first load arrives sorted (the writer applies operations in uuid order): check in
     * one pass before paying for a sort and its buffers */
    size_t k = 1;
    while (k < n && memcmp(src[k - 1].uuid, src[k].uuid, 16) < 0)
        k++;
    if (k >= n) {
        for (size_t i = 0; i < n; i++)
            ord[i] = &src[i];
        return 0;
    }
    kz_e_kv *kv = malloc((n ? n : 1) * sizeof *kv);
    if (!kv)
        return -1;
    for (size_t i = 0; i < n; i++)
        kv[i] = (kz_e_kv){be64(src[i].uuid), i};
    if (kz_e_radix_sort(kv, n) < 0) {
        free(kv);
        return -1;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && kv[j].k == kv[i].k)
            j++;
        if (j - i > 1) {
            skey *sk = malloc((j - i) * sizeof *sk);
            if (!sk) {
                free(kv);
                return -1;
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
    return 0;
}

/* Group the complex postings by key into the power-of-two table. */
static int build_complex_index(kz_eseg *s)
{
    hp *hps = malloc((s->nposts ? s->nposts : 1) * sizeof *hps);
    if (!hps)
        return -1;
    for (size_t i = 0; i < s->nposts; i++) {
        const uint8_t *k = s->arena + s->posts[i].key;
        hps[i].h = kz_e_khash(k, kz_e_key_len(k));
        hps[i].post = (uint32_t)i;
    }
    /* by hash, stable (so postings keep their order within a hash) */
    _Static_assert(sizeof(hp) == sizeof(kz_e_kv), "hp must be laid out as kz_e_kv");
    if (kz_e_radix_sort((kz_e_kv *)(void *)hps, s->nposts) != 0)
        qsort(hps, s->nposts, sizeof *hps, cmp_hp);
    kz_epost *np = malloc((s->nposts ? s->nposts : 1) * sizeof *np);
    uint64_t *gh = malloc((s->nposts ? s->nposts : 1) * sizeof *gh); /* group head hashes */
    uint32_t *gi = malloc((s->nposts ? s->nposts : 1) * sizeof *gi);
    if (!np || !gh || !gi) {
        free(np);
        free(gh);
        free(gi);
        free(hps);
        return -1;
    }
    /* within one hash, distinct keys are rare: gather each key's postings together */
    size_t out = 0, ngroups = 0;
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
    free(hps);
    free(s->posts);
    s->posts = np;
    size_t ns = 16;
    while (ns * 7 < ngroups * 10)
        ns *= 2;
    s->nslots = ns;
    s->slots = calloc(ns, sizeof *s->slots);
    if (!s->slots) {
        free(gh);
        free(gi);
        return -1;
    }
    for (size_t g = 0; g < ngroups; g++) {
        size_t at = gh[g] & (ns - 1);
        while (s->slots[at])
            at = (at + 1) & (ns - 1);
        s->slots[at] = (gi[g] + 1) | (uint32_t)(gh[g] >> 59) << KZ_E_SLOT_BITS;
    }
    free(gh);
    free(gi);
    return 0;
}

/* The filter of the simple keys (kz_e_smaybe), from (hash, path << 32 | record) pairs: a
 * region per path, 6 bits per key (about 1 false positive in 14; at 4 bits, 1 in 6, the slot
 * misses of the false positives cost the sensor 3% more than the 0.25 byte per key saves), 8
 * for a path of fewer than 4096 keys (its region is small enough to stay cached anyway). */
static int build_simple_filter(kz_eseg *s, const kz_e_kv *sh, size_t n)
{
    uint32_t *cnt = calloc(s->npaths + 1, sizeof *cnt);
    s->sfoff = malloc((s->npaths + 1) * sizeof *s->sfoff);
    if (!cnt || !s->sfoff) {
        free(cnt);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t p = sh[i].v >> 32;
        cnt[p < s->npaths ? p : s->npaths]++; /* a path past npaths is never probed */
    }
    uint64_t words = 0;
    for (size_t p = 0; p < s->npaths; p++) {
        s->sfoff[p] = (uint32_t)words;
        if (cnt[p])
            words += (cnt[p] < 4096 ? cnt[p] / 8 : cnt[p] * 3 / 32) + 1;
    }
    s->sfoff[s->npaths] = (uint32_t)words;
    free(cnt);
    s->nsfilt = words;
    s->sfilt = big_alloc((words ? words : 1) * 8, true);
    if (!s->sfilt)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = sh[i].k;
        uint64_t p = sh[i].v >> 32;
        if (p >= s->npaths)
            continue;
        s->sfilt[kz_e_sfat(s, (uint32_t)p, h)] |= kz_e_sfbits(h);
    }
    return 0;
}

/* Placement of the simple keys, in order of home: each in its home bucket, unless the
 * previous key went to a bucket at or past that home (spilled there from an earlier home):
 * then beside it, or in the next bucket when that one is full. */
typedef struct placer {
    size_t b;     /* the bucket of the last key placed */
    unsigned c;   /* its lane (1 to KZ_E_SB - 1); 0 before the first key */
    bool spilled; /* it went past a full bucket b - 1 */
    bool fore;    /* its home is before b */
} placer;

static void place(placer *p, size_t home)
{
    p->spilled = false;
    if (!p->c || home > p->b) {
        p->b = home;
        p->c = 0;
    } else if (p->c == KZ_E_SB - 1) {
        p->b++;
        p->c = 0;
        p->spilled = true;
    }
    p->c++;
    p->fore = home < p->b;
}

/* The simple table from (hash, path << 32 | record) pairs: sorted by (home, tag), then
 * placed in one sequential pass. A bucket of 15 entries gets 12 keys on average (load 0.8,
 * 5.3 bytes per key), so that few homes spill into the next bucket. */
static int build_simple_index(kz_eseg *s, kz_e_kv *sh, size_t n, const uint32_t *refs)
{
    size_t nb = n / 12 + 1;
    s->nsbuckets = nb;
    s->nskeys = n;
    s->sbits = 1;
    while (s->sbits < 27 && ((uint64_t)1 << s->sbits) <= s->nrecs + 1)
        s->sbits++;
    s->smask = (uint32_t)(((uint64_t)1 << s->sbits) - 1);
    if (build_simple_filter(s, sh, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        sh[i].k = (uint64_t)kz_e_spos(s, sh[i].k) << 32 | kz_e_stag(s, sh[i].k);
    if (kz_e_radix_sort(sh, n) < 0)
        return -1;
    placer pl = {0};
    for (size_t i = 0; i < n; i++)
        place(&pl, (size_t)(sh[i].k >> 32));
    /* one empty bucket past the last used: a walk stops there */
    s->nsbtotal = (pl.b + 1 > nb ? pl.b + 1 : nb) + 1;
    s->sslots = big_alloc(s->nsbtotal * KZ_E_SST * sizeof *s->sslots, true);
    if (!s->sslots)
        return -1;
    pl = (placer){0};
    for (size_t i = 0; i < n; i++) {
        place(&pl, (size_t)(sh[i].k >> 32));
        uint32_t *bk = &s->sslots[pl.b * KZ_E_SST], rec = (uint32_t)sh[i].v;
        if (pl.spilled)
            bk[-(ptrdiff_t)KZ_E_SST] |= KZ_E_SB_MORE;
        bk[pl.c] = (rec + 1) | (uint32_t)sh[i].k << s->sbits;
        bk[KZ_E_SB + pl.c] = refs[rec];
        bk[0] += 1 + (pl.fore ? 1u << KZ_E_SB_FORE : 0);
    }
    return 0;
}

/* The summaries of the IPv4 networks per path (kz_eseg.c4any): about 16 bits per network,
 * from 2^10 to 2^20 bits (128 KiB, for 65,536 networks and more). */
static int c4any_alloc(kz_eseg *s)
{
    s->c4any = calloc(s->npaths + 1, sizeof *s->c4any);
    s->c4anyb = calloc(s->npaths + 1, 1);
    if (!s->c4any || !s->c4anyb)
        return -1;
    for (size_t p = 0; p < s->npaths; p++) {
        if (!s->c4n[p])
            continue;
        unsigned b = 10;
        while (b < 20 && ((uint64_t)1 << b) < 16 * (uint64_t)s->c4n[p])
            b++;
        size_t nb = ((size_t)1 << b) / 8;
        if (!(s->c4any[p] = calloc(1, nb)))
            return -1;
        s->c4anyb[p] = (uint8_t)b;
        s->bytes += nb;
    }
    return 0;
}

/* Network na/L of path p in the summary: the block of its top b bits, or every block it
 * covers when it is shorter than b. */
static void c4any_mark(kz_eseg *s, uint16_t p, int L, uint32_t na)
{
    uint64_t *bits = s->c4any[p];
    unsigned b = s->c4anyb[p];
    if (!bits)
        return;
    if ((unsigned)L >= b) {
        uint32_t i = na >> (32 - b);
        bits[i >> 6] |= 1ull << (i & 63);
        return;
    }
    /* n blocks from first, both multiples of n (a power of two): whole words when n >= 64,
     * so a feed of very short networks costs a word per 64 blocks, not a bit each */
    uint32_t first = (L ? na >> (32 - L) : 0) << (b - (unsigned)L), n = 1u << (b - (unsigned)L);
    if (n >= 64) {
        memset(&bits[first >> 6], 0xff, (size_t)(n >> 6) * sizeof *bits);
        return;
    }
    bits[first >> 6] |= (~0ull >> (64 - n)) << (first & 63);
}

/* The rank indexes of the index-answered IPv4 networks up to /24, from (path | L | top bits,
 * record) pairs. */
static int build_c4s(kz_eseg *s, kz_e_kv *cid, size_t n)
{
    if (!n)
        return 0;
    if (kz_e_radix_sort(cid, n) < 0)
        return -1;
    s->c4s = calloc(25 * s->npaths, sizeof *s->c4s);
    if (!s->c4s)
        return -1;
    for (size_t i = 0; i < n;) {
        uint64_t pl = cid[i].k >> 32;
        size_t j = i;
        while (j < n && cid[j].k >> 32 == pl)
            j++;
        size_t p = (size_t)(pl >> 8);
        unsigned L = (unsigned)(pl & 0xff);
        if (p >= s->npaths || L > 24) {
            i = j;
            continue;
        }
        kz_ec4s *c = &s->c4s[25 * p + L];
        size_t nbits = (size_t)1 << L, nwords = (nbits + 63) / 64, nblk = (nbits + 511) / 512;
        size_t nnet = 0, ndup = 0;
        for (size_t q = i; q < j;) {
            size_t r = q + 1;
            while (r < j && cid[r].k == cid[q].k)
                r++;
            nnet++;
            if (r - q > 1)
                ndup += 1 + 2 * (r - q);
            q = r;
        }
        c->bits = big_alloc(nwords * 8, true);
        c->rank = malloc(nblk * sizeof *c->rank);
        c->recs = malloc(2 * nnet * sizeof *c->recs);
        c->dups = ndup ? malloc(ndup * sizeof *c->dups) : NULL;
        if (!c->bits || !c->rank || !c->recs || (ndup && !c->dups))
            return -1;
        c->nnet = nnet;
        size_t net = 0, d = 0;
        for (size_t q = i; q < j;) {
            size_t r = q + 1;
            while (r < j && cid[r].k == cid[q].k)
                r++;
            uint32_t top = (uint32_t)(cid[q].k & 0xffffffffu);
            c->bits[top >> 6] |= 1ull << (top & 63);
            uint32_t *ent = &c->recs[2 * net++];
            if (r - q == 1) {
                ent[0] = (uint32_t)cid[q].v;
                ent[1] = (uint32_t)(cid[q].v >> 32);
            } else {
                ent[0] = KZ_E_C4S_DUP | (uint32_t)d;
                ent[1] = 0;
                c->dups[d++] = (uint32_t)(r - q);
                for (size_t t = q; t < r; t++) {
                    c->dups[d++] = (uint32_t)cid[t].v;
                    c->dups[d++] = (uint32_t)(cid[t].v >> 32);
                }
            }
            q = r;
        }
        uint32_t before = 0;
        for (size_t b = 0; b < nblk; b++) {
            c->rank[b] = before;
            for (size_t w = b * 8; w < b * 8 + 8 && w < nwords; w++)
                before += kz_e_popcount(c->bits[w]);
        }
        s->bytes += nwords * 8 + nblk * 4 + nnet * 8 + ndup * 4;
        i = j;
    }
    return 0;
}

kz_eseg *kz_e_seg_build(kz_engine *e, const kz_esrc *src, size_t n, char *err, size_t errlen)
{
    kz_eseg *s = calloc(1, sizeof *s);
    const kz_esrc **ord = malloc((n ? n : 1) * sizeof *ord); // NOLINT(bugprone-sizeof-expression)
    arena a = {0}, tail = {0}; /* tail: names and complex keys, after the records' entries */
    uint32_t *refs = NULL;     /* by record while the simple index is built */
    metamap mm = {0};
    kz_e_kv *sh = NULL, *cid = NULL; /* cid grows on demand: most sets have few networks */
    size_t ncid = 0, capcid = 0;
    size_t nsh = 0, capsh = 0, capposts = 0, capmeta = 0, capnames = 0;
    if (!s || !ord)
        goto oom;
    if (n >= KZ_E_SLOT_MASK) {
        if (err && errlen)
            snprintf(err, errlen, "segment too large (%zu indicators)", n);
        free(ord);
        kz_e_seg_free(s);
        return NULL;
    }
    s->npaths = atomic_load(&e->npaths);
    s->pflags = calloc(s->npaths + 1, 1);
    s->skinds = calloc(s->npaths + 1, sizeof *s->skinds);
    s->c4n = calloc(s->npaths + 1, sizeof *s->c4n);
    s->c4 = calloc(s->npaths + 1, sizeof(uint64_t));
    s->c6 = calloc(3 * (s->npaths + 1), sizeof(uint64_t));
    s->ntypes = atomic_load(&e->ntypes);
    s->tflags = calloc(s->ntypes + 1, 1);
    s->uuids = big_alloc(n * sizeof *s->uuids, false);
    s->rsamp = malloc((n / KZ_E_RSAMP + 1) * sizeof *s->rsamp);
    refs = big_alloc((n ? n : 1) * sizeof *refs, false);
    if (!s->pflags || !s->skinds || !s->c4n || !s->c4 || !s->c6 || !s->uuids || !s->rsamp ||
        !refs || !s->tflags || order_by_uuid(src, n, ord) < 0)
        goto oom;
    s->mod0 = n ? ord[0]->modified : 0; /* a bulk feed's common time, when it has one */
    /* most keys are short (an address, a domain, a digest): reserve for 28 bytes per record
     * up front, advised as huge pages before first touch, so a large build neither copies a
     * growing arena nor moves it afterwards (the tail is trimmed in place at the end) */
    a.cap = n * 28 + 4096;
    a.p = malloc(a.cap);
    if (!a.p)
        goto oom;
    kz_e_advise_huge(a.p, a.cap);
    uint8_t zero = 0;
    arena_put(&a, &zero, 1);
    size_t ncplx = 0, nsuf = 0;
    for (size_t i = 0; i < n; i++) {
        bool simple = ord[i]->from ? ord[i]->shape >= 0 : ord[i]->key != NULL;
        ncplx += !simple;
        nsuf += simple && ord[i]->shape == SHAPE_EQ_OR_SUF;
    }
    s->cplx = calloc(ncplx ? ncplx : 1, sizeof *s->cplx); // NOLINT(bugprone-sizeof-expression)
    capsh = n - ncplx + nsuf + 1;
    sh = malloc(capsh * sizeof *sh);
    capposts = ncplx * 4 + 16;
    s->posts = malloc(capposts * sizeof *s->posts);
    if (!s->cplx || !s->posts || !sh)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (i + 16 < n)
            __builtin_prefetch(ord[i + 16]);
        if (i + 8 < n && ord[i + 8]->key) /* sources are in uuid order, their keys are not */
            __builtin_prefetch(ord[i + 8]->key);
        const kz_esrc *x = ord[i];
        uint32_t *ref = &refs[i];
        if (i % KZ_E_RSAMP == 0)
            s->rsamp[i / KZ_E_RSAMP] = (uint32_t)a.len;
        memcpy(s->uuids[i].b, x->uuid, 16);
        if (x->name) {
            if (s->nnames + 2 > capnames) {
                size_t nc = capnames ? capnames * 2 : 64;
                uint32_t *v = realloc(s->names, nc * sizeof *v);
                if (!v)
                    goto oom;
                s->names = v;
                capnames = nc;
            }
            uint16_t nl = (uint16_t)(x->namelen > 65535 ? 65535 : x->namelen);
            s->names[s->nnames++] = (uint32_t)i;
            s->names[s->nnames++] = arena_put(&tail, &nl, 2);
            arena_put(&tail, x->name, nl);
        }
        uint8_t kb[KZ_E_MAX_KEY + 32];
        size_t kl = src_key(x, kb);
        kz_emeta m;
        memset(&m, 0, sizeof m); /* hashed and compared as bytes: padding too */
        m.own_mod = x->modified != s->mod0;
        int64_t dmod = (int64_t)((uint64_t)x->modified - (uint64_t)s->mod0);
        if (dmod > KZ_E_MOD_SPAN || dmod < -KZ_E_MOD_SPAN) { /* put_mod keeps 61 bits */
            if (err && errlen)
                snprintf(err, errlen, "modified times too far apart (%lld and %lld us)",
                         (long long)s->mod0, (long long)x->modified);
            goto fail;
        }
        uint8_t mb[10];
        size_t mn = m.own_mod ? put_mod(mb, dmod) : 0;
        m.ctx = x->ctx;
        uint16_t p = 0;
        if (kl) {
            memcpy(&p, kb, 2);
            m.path = p;
            m.kind = kb[2];
            m.shape = (uint8_t)x->shape;
        } else {
            m.path = UINT16_MAX;
            m.shape = KZ_E_COMPLEX;
        }
        long mi = meta_intern(s, &mm, &capmeta, &m);
        if (mi < 0)
            goto oom;
        uint8_t vb[16];
        size_t vn = put_uvar(vb, (uint32_t)mi);
        if (kl) {
            size_t vl = kl - 5, f = kz_e_kind_vlen(kb[2]);
            if (f && vl != f) { /* keys.c makes every key of such a kind that long */
                if (err && errlen)
                    snprintf(err, errlen, "key of kind %u with %zu bytes of value", kb[2], vl);
                goto fail;
            }
            if (!f && vl < 0x80) {
                vb[vn++] = (uint8_t)vl;
            } else if (!f) {
                vb[vn++] = (uint8_t)(0x80 | vl >> 8);
                vb[vn++] = (uint8_t)vl;
            }
            *ref = arena_put(&a, vb, vn);
            arena_put(&a, kb + 5, vl);
            arena_put(&a, mb, mn);
            if (kb[2] == K_CIDR4 && kb[5] <= 24 && x->shape == SHAPE_CIDR) {
                /* into the rank index, not the hash table: path | L | top L bits */
                uint32_t na = (uint32_t)kb[6] << 24 | (uint32_t)kb[7] << 16 |
                              (uint32_t)kb[8] << 8 | kb[9];
                uint64_t top = kb[5] ? na >> (32 - kb[5]) : 0;
                if (ncid == capcid) {
                    size_t nc = capcid ? capcid * 2 : 1024;
                    kz_e_kv *v = realloc(cid, nc * sizeof *v);
                    if (!v)
                        goto oom;
                    cid = v;
                    capcid = nc;
                }
                cid[ncid++] = (kz_e_kv){(uint64_t)p << 40 | (uint64_t)kb[5] << 32 | top,
                                        (uint64_t)*ref << 32 | i};
            } else {
                sh[nsh++] = (kz_e_kv){kz_e_khash(kb, kl), (uint64_t)p << 32 | i};
                if (p < s->npaths)
                    s->skinds[p] |= (uint16_t)(1u << kb[2]);
            }
            note_key(s, kb, false);
            if (x->shape == SHAPE_EQ_OR_SUF) {
                /* the suffix key ".x" of the value x: a second slot for the same record */
                char tb[2 * KZ_E_MAX_KEY + 64];
                tb[0] = '.';
                size_t tn = kz_e_key_text_to(kb, tb + 1);
                uint8_t sb[KZ_E_MAX_KEY + 32];
                size_t sl = kz_e_key_raw(sb, p, K_SUF, tb, tn + 1);
                if (sl) {
                    sh[nsh++] = (kz_e_kv){kz_e_khash(sb, sl), (uint64_t)p << 32 | i};
                    if (p < s->npaths)
                        s->skinds[p] |= 1u << K_SUF;
                    note_key(s, sb, false);
                }
            }
            s->nsimple++;
        } else {
            kz_ecplx *c = x->cplx;
            vn += put_uvar(vb + vn, (uint32_t)s->ncplx);
            *ref = arena_put(&a, vb, vn);
            arena_put(&a, mb, mn);
            s->cplx[s->ncplx++] = c;
            c->refs++;
            if (c->multi)
                s->nmulti++;
            bool only_type = true;
            for (size_t o = 0; o < c->keys_len;) {
                uint32_t aux, ckl;
                memcpy(&aux, c->keys + o, 4);
                memcpy(&ckl, c->keys + o + 4, 4);
                const uint8_t *k = c->keys + o + 8;
                o += 8 + ckl;
                only_type = only_type && k[2] == K_TYPE;
                if (s->nposts == capposts) {
                    capposts *= 2;
                    kz_epost *q = realloc(s->posts, capposts * sizeof *q);
                    if (!q)
                        goto oom;
                    s->posts = q;
                }
                s->posts[s->nposts++] = (kz_epost){arena_put(&tail, k, ckl), (uint32_t)i, aux};
                note_key(s, k, true);
            }
            s->ntype += only_type;
        }
        if (a.bad || tail.bad)
            goto oom;
    }
    free(mm.slots);
    mm.slots = NULL;
    s->nrecs = n;
    /* the names and complex keys after the entries: their offsets move by the entries' size */
    uint32_t base = (uint32_t)a.len;
    bool big = a.len + tail.len > KZ_E_ARENA_MAX;
    if (!big && tail.len) {
        arena_put(&a, tail.p, tail.len);
        for (size_t i = 1; i < s->nnames; i += 2)
            s->names[i] += base;
        for (size_t i = 0; i < s->nposts; i++)
            s->posts[i].key += base;
    }
    free(tail.p);
    tail.p = NULL;
    if (big) {
        if (err && errlen)
            snprintf(err, errlen, "segment too large (over 2 GB of values)");
        goto fail;
    }
    if (a.bad)
        goto oom;
    s->arena = a.p;
    if (a.len && a.len < a.cap) {
        uint8_t *h = realloc(a.p, a.len); /* trim the slack (in place for a large block) */
        if (h)
            s->arena = h;
    }
    s->arena_len = a.len;
    a.p = NULL;
    if (s->nposts >= KZ_E_SLOT_MASK) {
        if (err && errlen)
            snprintf(err, errlen, "segment too large (%zu postings)", s->nposts);
        free(sh);
        free(cid);
        free(ord);
        kz_e_seg_free(s);
        return NULL;
    }
    if (build_complex_index(s) < 0 || build_simple_index(s, sh, nsh, refs) < 0)
        goto oom;
    free(refs);
    refs = NULL;
    if (!(s->svlen = malloc((s->npaths + 1) * sizeof *s->svlen)))
        goto oom;
    for (size_t p = 0; p <= s->npaths; p++)
        s->svlen[p] = kz_e_svlen_rule(s->skinds[p]);
    free(sh);
    sh = NULL;
    if (kz_e_seg_build_re(s) < 0)
        goto oom;
    if (build_c4s(s, cid, ncid) < 0)
        goto oom;
    free(cid);
    cid = NULL;
    /* IPv4 CIDR filters of the networks in the hash tables */
    bool any4 = false;
    for (size_t p = 0; p < s->npaths; p++)
        any4 = any4 || s->c4[p];
    if (any4) {
        s->c4f = calloc(33 * s->npaths, sizeof *s->c4f);
        if (!s->c4f || c4any_alloc(s) < 0)
            goto oom;
        uint8_t kb[KZ_E_MAX_KEY + 32];
        uint32_t ref = s->nrecs ? s->rsamp[0] : 0; /* the records' entries, in order */
        for (size_t i = 0; i < s->nposts + s->nrecs; i++) {
            const uint8_t *k;
            bool ranked = false; /* in the rank index: no filter bit */
            if (i < s->nposts) {
                k = s->arena + s->posts[i].key;
            } else {
                const uint8_t *v;
                size_t vl;
                const kz_emeta *m = kz_e_seg_entry(s, ref, &v, &vl, NULL);
                ref = kz_e_seg_next_ref(s, ref);
                if (!v || m->shape != SHAPE_CIDR || !kz_e_key_raw(kb, m->path, m->kind, v, vl))
                    continue;
                ranked = kb[2] == K_CIDR4 && kb[5] <= 24;
                k = kb;
            }
            if (k[2] != K_CIDR4)
                continue;
            uint16_t p;
            memcpy(&p, k, 2);
            int L = k[5];
            uint32_t na = (uint32_t)k[6] << 24 | (uint32_t)k[7] << 16 | (uint32_t)k[8] << 8 | k[9];
            if (p >= s->npaths)
                continue;
            c4any_mark(s, p, L, na);
            if (ranked)
                continue;
            int shf = L < 24 ? L : 24;
            size_t idx = shf ? na >> (32 - shf) : 0;
            size_t fi = 33 * (size_t)p + (size_t)shf;
            if (!s->c4f[fi]) {
                size_t nb = (((size_t)1 << shf) + 63) / 64 * 8;
                if (!(s->c4f[fi] = big_alloc(nb, true)))
                    goto oom;
                s->bytes += nb;
            }
            s->c4f[fi][idx / 64] |= 1ull << (idx % 64);
        }
    }
    s->bytes += sizeof *s + s->nrecs * sizeof *s->uuids + (s->nrecs / KZ_E_RSAMP + 1) * 4 +
                s->nmeta * sizeof *s->meta + s->nnames * 4 + s->nsbtotal * KZ_E_SST * 4 +
                s->nsfilt * 8 + s->nposts * sizeof *s->posts + s->nslots * 4 + s->arena_len +
                s->ncplx * sizeof(void *) + s->npaths * 37;
    free(ord);
    return s;
oom:
    if (err && errlen)
        snprintf(err, errlen, "out of memory building an index segment");
fail:
    free(sh);
    free(cid);
    free(mm.slots);
    free(a.p);
    free(tail.p);
    free(refs);
    free(ord);
    kz_e_seg_free(s);
    return NULL;
}

void kz_e_seg_lookup(const kz_eseg *s, const uint8_t *k, size_t klen, uint64_t h, size_t *lo,
                     size_t *hi)
{
    *lo = *hi = 0;
    if (!s || !s->nslots || !s->nposts)
        return;
    uint32_t tag = (uint32_t)(h >> 59);
    size_t at = h & (s->nslots - 1);
    for (;;) {
        uint32_t v = s->slots[at];
        if (!v)
            return;
        if (v >> KZ_E_SLOT_BITS == tag) {
            size_t ei = (v & KZ_E_SLOT_MASK) - 1;
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

bool kz_e_simple_suffix_eq(uint16_t path, int kind, const uint8_t *v, size_t vl,
                           const uint8_t *k, size_t kl)
{
    uint8_t kb[KZ_E_MAX_KEY + 32];
    char tb[2 * KZ_E_MAX_KEY + 64];
    if (!kz_e_key_raw(kb, path, kind, v, vl))
        return false;
    size_t tn = kz_e_key_text_to(kb, tb);
    return kl == 6 + tn && memcmp(k + 6, tb, tn) == 0;
}

/* The entry at ref: its meta, its value (*v NULL for a complex one) or pattern index (*ci),
 * and where what follows them begins (its modified time, when its meta has own_mod). */
static const kz_emeta *entry_at(const kz_eseg *s, uint32_t ref, const uint8_t **v, size_t *vl,
                                uint32_t *ci, const uint8_t **end)
{
    uint32_t mi;
    const uint8_t *a = kz_e_uvar(s->arena + ref, &mi);
    const kz_emeta *m = &s->meta[mi];
    *ci = 0;
    if (m->shape == KZ_E_COMPLEX) {
        *v = NULL;
        *vl = 0;
        *end = kz_e_uvar(a, ci);
    } else {
        *v = kz_e_sval(a, m->kind, vl);
        *end = *v + *vl;
    }
    return m;
}

const kz_emeta *kz_e_seg_entry(const kz_eseg *s, uint32_t ref, const uint8_t **v, size_t *vl,
                               uint32_t *cplx)
{
    uint32_t ci;
    const uint8_t *end;
    const kz_emeta *m = entry_at(s, ref, v, vl, &ci, &end);
    if (cplx)
        *cplx = ci;
    return m;
}

/* The modified time of the entry at ref, and (*next) the offset of the entry after it. */
static int64_t entry_modified(const kz_eseg *s, uint32_t ref, uint32_t *next)
{
    const uint8_t *v, *end;
    size_t vl;
    uint32_t ci;
    int64_t d = 0;
    if (entry_at(s, ref, &v, &vl, &ci, &end)->own_mod)
        end = get_mod(end, &d);
    *next = (uint32_t)(end - s->arena);
    return (int64_t)((uint64_t)s->mod0 + (uint64_t)d);
}

uint32_t kz_e_seg_next_ref(const kz_eseg *s, uint32_t ref)
{
    uint32_t next;
    entry_modified(s, ref, &next);
    return next;
}

uint32_t kz_e_seg_ref(const kz_eseg *s, size_t r)
{
    uint32_t ref = s->rsamp[r / KZ_E_RSAMP];
    for (size_t k = r % KZ_E_RSAMP; k; k--)
        ref = kz_e_seg_next_ref(s, ref);
    return ref;
}

/* The key of the simple entry at ref (0 for a complex one). */
static size_t entry_key(const kz_eseg *s, uint32_t ref, uint8_t *buf)
{
    const uint8_t *v;
    size_t vl;
    const kz_emeta *m = kz_e_seg_entry(s, ref, &v, &vl, NULL);
    return v ? kz_e_key_raw(buf, m->path, m->kind, v, vl) : 0;
}

kz_ecplx *kz_e_seg_cplx_at(const kz_eseg *s, uint32_t ref)
{
    const uint8_t *v;
    size_t vl;
    uint32_t ci = 0;
    const kz_emeta *m = kz_e_seg_entry(s, ref, &v, &vl, &ci);
    return m->shape == KZ_E_COMPLEX ? s->cplx[ci] : NULL;
}

kz_ecplx *kz_e_seg_cplx(const kz_eseg *s, size_t r)
{
    return kz_e_seg_cplx_at(s, kz_e_seg_ref(s, r));
}

int64_t kz_e_seg_modified(const kz_eseg *s, size_t r)
{
    uint32_t next;
    return entry_modified(s, kz_e_seg_ref(s, r), &next);
}

const char *kz_e_seg_name(const kz_eseg *s, size_t r, size_t *len)
{
    size_t a = 0, z = s->nnames / 2;
    while (a < z) {
        size_t m = (a + z) / 2;
        if (s->names[2 * m] == r) {
            uint16_t nl;
            memcpy(&nl, s->arena + s->names[2 * m + 1], 2);
            *len = nl;
            return (const char *)s->arena + s->names[2 * m + 1] + 2;
        }
        if (s->names[2 * m] < r)
            a = m + 1;
        else
            z = m;
    }
    *len = 0;
    return NULL;
}

long kz_e_seg_find(const kz_eseg *s, const uint8_t uuid[16])
{
    if (!s)
        return -1;
    size_t a = 0, z = s->nrecs;
    while (a < z) {
        size_t m = (a + z) / 2;
        int c = memcmp(s->uuids[m].b, uuid, 16);
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
    kz_e_seg_src_at(s, r, kz_e_seg_ref(s, r), src);
}

void kz_e_seg_src_at(const kz_eseg *s, size_t r, uint32_t ref, kz_esrc *src)
{
    const uint8_t *v;
    size_t vl;
    uint32_t ci = 0;
    const kz_emeta *m = kz_e_seg_entry(s, ref, &v, &vl, &ci);
    memcpy(src->uuid, s->uuids[r].b, 16);
    uint32_t next;
    src->modified = entry_modified(s, ref, &next);
    src->ctx = m->ctx;
    src->name = kz_e_seg_name(s, r, &src->namelen);
    src->key = NULL;
    src->shape = m->shape == KZ_E_COMPLEX ? -1 : m->shape;
    src->cplx = m->shape == KZ_E_COMPLEX ? s->cplx[ci] : NULL;
    src->from = s;
    src->from_rec = (uint32_t)r;
    src->from_ref = ref;
}
