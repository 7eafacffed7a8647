/*
 * Matching one observation: derive probe keys from its values, collect the candidate
 * indicators of both segments (skipping dead base records), answer simple indicators from
 * the index and confirm every other candidate with the evaluator over the set that holds
 * this observation alone.
 *
 * Probes mirror the evaluator's value selection: for a JSON observation, the objects of the
 * observation (kz_obs objs, the same the evaluator iterates) and, per object type, the plain
 * paths that have keys; for a record, its fields. A simple indicator [T:p = 's'] hits iff
 * some object of type T has a string at p that is byte-equal to s (compare.c: code point
 * comparison of valid UTF-8 is byte comparison; non-strings are never equal to a string
 * literal; a plain path is reached by key lookups only), which is exactly the exact-key
 * probe (keys.c: the encoding is injective). Everything else is confirmed.
 *
 * It does not keep state between observations (stream.c does).
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <hs.h>
#include <utf8proc.h>

/* The batch pipeline's windows (below: kz_e_pipe); the probes read what they answered. */
enum { PF_MAX = 192, PF_KEYS = 2048 };

/* One probe in flight, a small state machine: each stage after the first reads what the
 * previous one prefetched and prefetches the next dependent line.
 * PW_FILT: fw is its filter word (prefetched) → PW_DONE with at = SIZE_MAX when the filter
 * says the key is absent (most keys of traffic), else PW_KEY: it is its walk from its home
 * bucket (its lanes prefetched) → PW_REF: at is its first candidate record (the bucket's refs
 * prefetched), and it where the walk goes on after it (its next bucket prefetched when the
 * walk reads it); or PW_DONE with at = SIZE_MAX when the walk found none → PW_DONE: ref is
 * the candidate's entry (its value and uuid prefetched). The match goes on from there instead
 * of walking the buckets again (pf_take). The refs' line is asked for only when a lane's tag
 * matches: asked for with the lanes, for every key the filter lets through, it cost 5-10% of
 * the suffix and mixed observations at 10M (suffix 5.22 / 5.23 M/s with the refs by record,
 * 4.09 / 4.49 so, 5.11 / 5.06 this way; two runs each, alternated).
 * An IPv4 address becomes in stage 1 one entry per prefix length L present (path, vp = L):
 * PW_CBITS (the bitmap word prefetched; bitmaps of up to 2^18 bits are not, they stay in
 * cache, and the entry is found at once) → PW_CENT: p is the network's entry (kept to the end: the
 * match takes its records from it), its record's uuid and value prefetched → PW_DONE, or
 * PW_CDUP: at is the offset of its list [count, (record, ref) pairs...] → PW_DONE. */
enum { PW_FILT, PW_KEY, PW_REF, PW_CBITS, PW_CENT, PW_CDUP, PW_DONE };
typedef struct pfent {
    size_t at;
    const uint32_t *p;
    uint32_t ref;       /* set by PW_REF: the first candidate's entry */
    kz_e_sit it;        /* a key's walk (after PW_KEY: on from its first candidate, at) */
    const uint64_t *fw; /* PW_FILT: the key's filter word, and its bits in fm */
    uint64_t fm;
    uint32_t addr;
    uint16_t path;
    uint16_t koff, klen; /* a key's bytes in the window's keys */
    uint8_t kind, vp;
    uint8_t field, key; /* key: PK_KEY or PK_NET, an answer of field `field` taken later */
} pfent;

enum { PK_NONE, PK_KEY, PK_NET }; /* pfent.key: prefetch only, a simple key, a network */

/* The window of one record. done has bit j when every probe of the base's simple index that
 * probe_string would make for field j (its exact key, its suffix keys) is an entry with its
 * key here: the match then takes their answers (pf_take) instead of building, hashing and
 * probing the keys a second time. */
typedef struct pfwin {
    size_t m, kn;
    uint64_t done;
    uint64_t nets; /* bit j: field j's networks in the rank indexes are all entries here */
    uint64_t has4; /* bit j: field j parsed as an IPv4 address or network: a4[j]/vp4[j] */
    uint32_t a4[64];
    uint8_t vp4[64];
    pfent e[PF_MAX];
    uint8_t keys[PF_KEYS];
} pfwin;

static bool pf_done(const pfwin *w, size_t j)
{
    return w && j < 64 && (w->done >> j & 1);
}

static void push(kz_ecands *c, uint32_t seg, uint32_t rec, uint32_t aux, uint32_t ref)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        kz_ecand *v = realloc(c->v, nc * sizeof *v);
        if (!v) {
            c->oom = true;
            return;
        }
        c->v = v;
        c->cap = nc;
    }
    c->v[c->n++] = (kz_ecand){seg, rec, aux, ref};
}

static bool is_dead(const kz_engine_gen *g, uint32_t r)
{
    return g->dead && (g->dead[r / 64] >> (r % 64)) & 1;
}

/* The index-answered records of segment sg whose key is k (hash h). */
static void probe_simple(const kz_engine_gen *g, unsigned sg, const uint8_t *k, size_t kl,
                         uint64_t h, kz_ecands *c, uint32_t keep)
{
    const kz_eseg *s = sg ? g->delta : g->base;
    if (!s || !s->nsbuckets)
        return;
    uint32_t aux = k[2] == K_SUF                        ? KZ_E_AUX_S_SUFFIX
                   : k[2] == K_CIDR4 || k[2] == K_CIDR6 ? KZ_E_AUX_S_CIDR
                                                        : KZ_E_AUX_S_EXACT;
    aux = (aux | KZ_E_PROOF) & keep;
    if (!kz_e_smaybe(s, k, h))
        return;
    kz_e_sit it;
    kz_e_sbegin(s, h, &it);
    kz_e_sprefetch(s, it.b);
    for (uint32_t r; (r = kz_e_snext(s, &it)) != UINT32_MAX;) {
        uint32_t ref = kz_e_sit_ref(s, &it);
        if ((sg || !is_dead(g, r)) && kz_e_simple_eq(s, ref, k, kl))
            push(c, sg, r, aux, ref);
    }
}

/* proof: whether a KZ_E_PROOF posting found by this probe keeps its proof. segs: bit 0
 * base, bit 1 delta, SEG_NO_BASE_SIMPLE: not the base's simple index (its answers were taken
 * from the pipeline). */
enum { SEG_NO_BASE_SIMPLE = 4 };
static void probe_sh(const kz_engine_gen *g, const uint8_t *k, size_t kl, uint64_t h,
                     kz_ecands *c, bool proof, unsigned segs)
{
    uint32_t keep = proof ? ~0u : ~KZ_E_PROOF;
    uint16_t path;
    memcpy(&path, k, 2);
    for (unsigned sg = 0; sg < 2; sg++) {
        const kz_eseg *s = sg ? g->delta : g->base;
        if (!s || !(segs & (1u << sg)))
            continue;
        if (sg || !(segs & SEG_NO_BASE_SIMPLE))
            probe_simple(g, sg, k, kl, h, c, keep);
        if (!s->nposts || (k[2] != K_TYPE && (path >= s->npaths || !(s->pflags[path] & PF_CX))))
            continue;
        size_t lo, hi;
        kz_e_seg_lookup(s, k, kl, h, &lo, &hi);
        for (size_t i = lo; i < hi; i++) {
            const kz_epost *p = &s->posts[i];
            if (!sg && is_dead(g, p->rec))
                continue;
            push(c, sg, p->rec, p->aux & keep, KZ_E_NOREF);
        }
    }
}

/* probe_sh of a key written just before: its hash read from it (a key whose hash the writer
 * has at hand goes to probe_sh: see kz_e_key_hstr). */
static void probe_s(const kz_engine_gen *g, const uint8_t *k, size_t kl, kz_ecands *c, bool proof,
                    unsigned segs)
{
    probe_sh(g, k, kl, kz_e_khash(k, kl), c, proof, segs);
}

static void probe_p(const kz_engine_gen *g, const uint8_t *k, size_t kl, kz_ecands *c, bool proof)
{
    probe_s(g, k, kl, c, proof, 3);
}

/* IPv4 value against the CIDR keys of path p, per segment and prefix length present: the
 * index-answered networks up to /24 through the rank index (a bit test, then the records);
 * the others (complex patterns' keys, longer networks) through a filter bit test and a hash
 * probe only when the bit is set. */
static void probe_cidr4(const kz_engine_gen *g, uint32_t p, const uint8_t a[4], int vp,
                        kz_ecands *c, uint8_t *kb, bool proof, const pfwin *w, size_t j)
{
    uint32_t addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    uint32_t aux = (KZ_E_AUX_S_CIDR | KZ_E_PROOF) & (proof ? ~0u : ~KZ_E_PROOF);
    /* w: the base's rank-index answers for field j are the window's network entries */
    for (size_t i = 0; w && i < w->m; i++) {
        const pfent *x = &w->e[i];
        if (x->key != PK_NET || x->field != j || !x->p)
            continue;
        uint32_t nr;
        const uint32_t *rs;
        kz_e_c4s_recs(&g->base->c4s[25 * (size_t)x->path + x->vp], x->p, &rs, &nr);
        for (uint32_t k = 0; k < nr; k++)
            if (!is_dead(g, rs[(size_t)2 * k]))
                push(c, 0, rs[(size_t)2 * k], aux, rs[(size_t)2 * k + 1]);
    }
    for (unsigned sg = 0; sg < 2; sg++) {
        const kz_eseg *s = sg ? g->delta : g->base;
        if (!s || p >= s->npaths || !s->c4[p] || !kz_e_c4any(s, p, addr))
            continue;
        uint64_t lens = s->c4[p] & (vp >= 63 ? ~0ull : (2ull << vp) - 1); /* lengths <= vp */
        for (; lens; lens &= lens - 1) {
            int L = __builtin_ctzll(lens);
            uint32_t top = L ? addr >> (32 - L) : 0;
            const kz_ec4s *cs = s->c4s && L <= 24 ? &s->c4s[25 * (size_t)p + (size_t)L] : NULL;
            uint32_t nr;
            const uint32_t *rs;
            if (cs && cs->bits && !(w && !sg) && kz_e_c4s_find(cs, top, &rs, &nr))
                for (uint32_t k = 0; k < nr; k++)
                    if (sg || !is_dead(g, rs[(size_t)2 * k]))
                        push(c, sg, rs[(size_t)2 * k], aux, rs[(size_t)2 * k + 1]);
            int sh = L < 24 ? L : 24;
            size_t idx = sh ? addr >> (32 - sh) : 0;
            const uint64_t *f = s->c4f ? s->c4f[33 * (size_t)p + (size_t)sh] : NULL;
            if (!f || !((f[idx / 64] >> (idx % 64)) & 1))
                continue;
            uint8_t m[5];
            m[0] = (uint8_t)L;
            memcpy(m + 1, a, 4);
            kz_e_mask(m + 1, 4, L);
            probe_s(g, kb, kz_e_key_raw(kb, p, K_CIDR4, m, 5), c, proof, 1u << sg);
        }
    }
}

static void probe(const kz_engine_gen *g, const uint8_t *k, size_t kl, kz_ecands *c)
{
    probe_p(g, k, kl, c, true);
}

static void probe_suffixes(const kz_engine_gen *g, uint32_t p, const char *s, size_t len,
                           kz_ecands *c, uint8_t *kb, bool proof, unsigned segs)
{
    /* LIKE '%.x' is the regex ^.*\.x$ (no DOTALL, LF newlines) over the NFC value w: it holds
     * iff w, or w without one final newline, ends with ".x" at position j and w[0, j) has no
     * newline ('.' matches any other code point). So a suffix hit at j proves the LIKE when
     * the first newline is not before j. */
    const char *nl = memchr(s, '\n', len);
    size_t first_nl = nl ? (size_t)(nl - s) : len;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = len;
        if (pass == 1) { /* '$' also matches before a final newline */
            if (!len || s[len - 1] != '\n')
                break;
            n = len - 1;
        }
        for (size_t j = 0; j < n; j++)
            if (s[j] == '.' && n - j <= KZ_E_MAX_KEY)
                probe_sh(g, kb, kz_e_key_raw(kb, p, K_SUF, s + j, n - j),
                         kz_e_khash_raw(p, K_SUF, s + j, n - j), c, proof && first_nl >= j, segs);
    }
}

typedef struct hsctx {
    const kz_engine_gen *g;
    const kz_ere *re;
    unsigned seg;
    kz_ecands *c;
} hsctx;

static int on_re(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                 void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    hsctx *h = ctx;
    const kz_eseg *s = h->seg ? h->g->delta : h->g->base;
    const kz_epost *p = &s->posts[h->re->post[id]];
    if (!h->seg && h->g->dead && (h->g->dead[p->rec / 64] >> (p->rec % 64)) & 1)
        return 0;
    if (h->c->n == h->c->cap) {
        size_t nc = h->c->cap ? h->c->cap * 2 : 32;
        kz_ecand *v = realloc(h->c->v, nc * sizeof *v);
        if (!v) {
            h->c->oom = true;
            return 1;
        }
        h->c->v = v;
        h->c->cap = nc;
    }
    h->c->v[h->c->n++] = (kz_ecand){h->seg, p->rec, p->aux & ~KZ_E_PROOF, KZ_E_NOREF};
    return 0;
}

/* The regex subject of a value, as compare.c: ASCII as is, else NFC of the text up to a NUL.
 * *own is set when the result must be freed. NULL when not UTF-8 (no LIKE/MATCHES holds). */
static const char *regex_subject(const char *s, size_t len, size_t *outlen, char **own)
{
    *own = NULL;
    size_t i = 0;
    while (i < len && (unsigned char)s[i] < 0x80)
        i++;
    if (i == len) {
        *outlen = len;
        return s;
    }
    char *t = malloc(len + 1);
    if (!t)
        return NULL;
    memcpy(t, s, len);
    t[len] = 0;
    char *nf = (char *)utf8proc_NFC((const utf8proc_uint8_t *)t);
    free(t);
    if (!nf)
        return NULL;
    *own = nf;
    *outlen = strlen(nf);
    return nf;
}

static void probe_regex(const kz_engine_gen *g, uint32_t p, const char *s, size_t len,
                        kz_ecands *c)
{
    char *own;
    size_t wl;
    const char *w = regex_subject(s, len, &wl, &own);
    if (!w)
        return;
    for (unsigned sg = 0; sg < 2; sg++) {
        const kz_eseg *seg = sg ? g->delta : g->base;
        if (!seg)
            continue;
        for (size_t r = 0; r < seg->nre; r++) {
            const kz_ere *re = &seg->re[r];
            if (re->path != p)
                continue;
            hsctx h = {g, re, sg, c};
            if (re->all || !re->db) {
                for (size_t k = 0; k < re->n; k++)
                    on_re((unsigned)k, 0, 0, 0, &h);
                continue;
            }
            hs_scratch_t *scr = c->hs_scratch;
            if (hs_alloc_scratch(re->db, &scr) != HS_SUCCESS) {
                c->oom = true;
                continue;
            }
            c->hs_scratch = scr;
            if (hs_scan(re->db, w, (unsigned)wl, 0, scr, on_re, &h) == HS_SCAN_TERMINATED && c->oom)
                break;
        }
    }
    free(own);
}

void kz_e_cands_free(kz_ecands *c)
{
    free(c->v);
    kz_e_memo_free(c->memo);
    c->memo = NULL;
    kz_e_shapes_free(c->shapes);
    c->shapes = NULL;
    if (c->hs_scratch)
        hs_free_scratch(c->hs_scratch);
    c->v = NULL;
    c->hs_scratch = NULL;
    c->n = c->cap = 0;
}

static bool rec_others_cidr(const kz_engine_record *r, uint32_t p, size_t self);

/* Whether ISSUBSET on path p cannot raise a runtime error in the observation: every string
 * it has at p (on objects of p's type) parses as an address or CIDR. 1 or 0; or -1 for
 * record r's field self, whose other fields on p are parsed only when a network was found
 * (rarely: the proof is then taken back from those candidates). Only read when the value
 * itself parses, so a caller may leave it out of the test. */
typedef struct cproof {
    int known;
    const kz_engine_record *r;
    size_t self;
} cproof;

static void probe_string(const kz_engine_gen *g, uint32_t p, const char *s, size_t len,
                         kz_ecands *c, cproof cp, const pfwin *w, size_t j)
{
    bool base_done = pf_done(w, j);
    if (p >= g->npaths)
        return;
    uint8_t f = g->pflags[p];
    if (!f)
        return;
    /* base_done: the base's simple answers of the exact and suffix keys came from the
     * pipeline (pf_take); what is left of those probes is the delta and the base's postings
     * of complex patterns on p */
    const kz_eseg *b = g->base;
    bool rest = !base_done || g->delta || (b && p < b->npaths && (b->pflags[p] & PF_CX));
    unsigned segs = base_done ? 3u | SEG_NO_BASE_SIMPLE : 3u;
    uint8_t kb[KZ_E_MAX_KEY + 32];
    bool ip4 = false; /* kb holds the value's K_IP4 key: a plain address, parsed once */
    bool had4 = w && j < 64 && (w->has4 >> j & 1); /* parsed by the pipeline */
    if ((f & PF_EXACT) && (rest || ((f & (PF_CIDR4 | PF_CIDR6)) && !had4))) {
        uint64_t h;
        size_t kl = kz_e_key_hstr(kb, p, s, len, &h);
        if (kl && rest)
            probe_sh(g, kb, kl, h, c, true, segs);
        ip4 = kl && kb[2] == K_IP4;
    }
    if (f & (PF_CIDR4 | PF_CIDR6)) {
        size_t c0 = c->n;
        bool cidr_proof = cp.known != 0;
        int fam = 0, vp = 0;
        uint8_t a[16];
        bool ok;
        if (had4) {
            memcpy(a, &w->a4[j], 4);
            fam = 4;
            vp = w->vp4[j];
            ok = true;
        } else if (ip4) { /* kz_e_parse_cidr would give the same: family 4, prefix 32 */
            memcpy(a, kb + 5, 4);
            fam = 4;
            vp = 32;
            ok = true;
        } else {
            ok = kz_e_parse_cidr(s, len, &fam, a, &vp);
        }
        if (ok && fam == 4) {
            probe_cidr4(g, p, a, vp, c, kb, cidr_proof,
                        w && j < 64 && (w->nets >> j & 1) ? w : NULL, j);
        } else if (ok && fam == 6) {
            const uint64_t *mask = fam == 4 ? &g->c4[p] : &g->c6[3 * (size_t)p];
            int nb = fam == 4 ? 4 : 16;
            for (int L = 0; L <= vp; L++) {
                if (!((mask[L / 64] >> (L % 64)) & 1))
                    continue;
                uint8_t m[17];
                m[0] = (uint8_t)L;
                memcpy(m + 1, a, (size_t)nb);
                kz_e_mask(m + 1, nb, L);
                probe_p(g, kb, kz_e_key_raw(kb, p, fam == 4 ? K_CIDR4 : K_CIDR6, m, 1 + (size_t)nb),
                        c, cidr_proof);
            }
        }
        if (cp.known < 0 && c->n > c0 && !rec_others_cidr(cp.r, p, cp.self))
            for (size_t k = c0; k < c->n; k++)
                c->v[k].aux &= ~KZ_E_PROOF;
    }
    if ((f & PF_RE) && len < UINT32_MAX)
        probe_regex(g, p, s, len, c);
    if ((f & PF_SUF) && rest) {
        size_t i = 0;
        while (i < len && (unsigned char)s[i] < 0x80)
            i++;
        if (i == len) { /* ASCII (NUL included, as compare.c) is its own NFC */
            probe_suffixes(g, p, s, len, c, kb, true, segs);
        } else {
            /* LIKE normalises the value to NFC first (of the text up to a NUL, as
             * compare.c does with the NUL-terminated value) */
            char *t = malloc(len + 1);
            if (t) {
                memcpy(t, s, len);
                t[len] = 0;
                char *nf = (char *)utf8proc_NFC((const utf8proc_uint8_t *)t);
                if (nf)
                    probe_suffixes(g, p, nf, strlen(nf), c, kb, true, 3);
                else /* not UTF-8: the evaluator's LIKE is false; probing is harmless */
                    probe_suffixes(g, p, s, len, c, kb, false, 3);
                free(nf);
                free(t);
            } else {
                c->oom = true;
            }
        }
    }
}

/* probe_string, unless memo knows that (p, s) gives no candidate; remembered when it gives
 * none. */
static void probe_string_memo(const kz_engine_gen *g, uint32_t p, const char *s, size_t len,
                              kz_ecands *c, kz_ememo *memo, cproof cp, const pfwin *w, size_t j)
{
    if (p >= g->npaths || !g->pflags[p])
        return;
    void *slot = NULL;
    if (memo) {
        bool none;
        slot = kz_e_memo_find(memo, p, s, len, &none);
        if (none)
            return;
    }
    size_t n0 = c->n;
    probe_string(g, p, s, len, c, cp, w, j);
    if (slot && c->n == n0 && !c->oom)
        kz_e_memo_put(memo, slot, p, s, len);
}

static void probe_int(const kz_engine_gen *g, uint32_t p, int64_t i, kz_ecands *c)
{
    if (p >= g->npaths || !(g->pflags[p] & PF_INT))
        return;
    uint8_t kb[32];
    probe(g, kb, kz_e_key_raw(kb, p, K_INT, &i, 8), c);
}

static void probe_json(const kz_engine_gen *g, uint32_t p, const json_t *v, kz_ecands *c,
                       bool cidr_proof)
{
    if (json_is_string(v)) {
        probe_string(g, p, json_string_value(v), json_string_length(v), c,
                     (cproof){cidr_proof, NULL, 0}, NULL, 0);
    } else if (json_is_integer(v)) {
        probe_int(g, p, json_integer_value(v), c);
    } else if (json_is_real(v)) {
        double f = json_real_value(v);
        if (f >= -9007199254740992.0 && f <= 9007199254740992.0 && f == (double)(int64_t)f)
            probe_int(g, p, (int64_t)f, c);
    }
}

static void probe_type(const kz_engine_gen *g, long tid, kz_ecands *c)
{
    if (tid < 0 || (size_t)tid >= g->ntypes || !g->tflags[tid])
        return;
    uint8_t kb[16];
    probe(g, kb, kz_e_key_raw(kb, (uint32_t)tid, K_TYPE, NULL, 0), c);
}

static int cmp_cand(const void *a, const void *b)
{
    const kz_ecand *x = a, *y = b;
    if (x->seg != y->seg)
        return x->seg < y->seg ? -1 : 1;
    if (x->rec != y->rec)
        return x->rec < y->rec ? -1 : 1;
    return (x->aux > y->aux) - (x->aux < y->aux);
}

/* The candidates in cmp_cand's order: most observations have one to a few, which an
 * insertion sort orders in fewer instructions than qsort takes to call its comparator. */
static void sort_cands(kz_ecand *v, size_t n)
{
    if (n > 16) {
        qsort(v, n, sizeof *v, cmp_cand);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        kz_ecand x = v[i];
        size_t j = i;
        for (; j > 0 && cmp_cand(&v[j - 1], &x) > 0; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

static const json_t *walk_plain(const kz_epath *ep, const json_t *cur)
{
    for (size_t s = 0; s < ep->nsteps && cur; s++)
        cur = json_is_object(cur) ? json_object_get(cur, ep->steps[s]) : NULL;
    return cur;
}

/* Reference paths T:x_ref.tail of a JSON object: as eval.c walks them, x_ref must be a
 * string naming an object of the observation (kz_obs_resolve), whose tail is then read by
 * plain lookups. */
static void probe_json_ref(const kz_engine_gen *g, const kz_obs *o, uint32_t p,
                           const json_t *obj, kz_ecands *c)
{
    const kz_epath *ep = g->eng->paths[p];
    const json_t *r = json_object_get(obj, ep->steps[0]);
    const json_t *cur = json_is_string(r) ? kz_obs_resolve(o, json_string_value(r)) : NULL;
    for (size_t s = 1; s < ep->nsteps && cur; s++)
        cur = json_is_object(cur) ? json_object_get(cur, ep->steps[s]) : NULL;
    if (cur)
        probe_json(g, p, cur, c, false);
}

/* The object a record field on a one-step _ref path refers to, or -1: the JSON form writes
 * a REF as the decimal key of the target, and a STR field with such a key refers too. */
static long rec_ref_target(const kz_engine_record *r, const kz_engine_field *f)
{
    if (f->kind == KZ_EF_REF)
        return (long)f->i;
    if (f->kind != KZ_EF_STR || !f->s || !f->len || f->len > 3 || (f->s[0] == '0' && f->len > 1))
        return -1;
    long t = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (f->s[i] < '0' || f->s[i] > '9')
            return -1;
        t = t * 10 + (f->s[i] - '0');
    }
    return (size_t)t < r->ntypes ? t : -1;
}

/* Reference paths of a record: for a field on T:x_ref referring to object t, every indexed
 * path T:x_ref.tail takes the value of t's field at tail (if any): fn(ctx, path, field). */
typedef void (*ref_fn)(void *ctx, uint32_t p, const kz_engine_field *tf);

static void rec_refs_each(const kz_engine_gen *g, const kz_engine_record *r, ref_fn fn, void *ctx)
{
    if (!g->any_ref1)
        return; /* fn is called only for indexed reference paths: none (twice per record) */
    const kz_engine *e = g->eng;
    /* the pipeline calls this ahead of validation: paths are checked here too */
    unsigned np = atomic_load_explicit(&e->npaths, memory_order_acquire);
    for (size_t j = 0; j < r->nfields; j++) {
        const kz_engine_field *f = &r->fields[j];
        if (f->path >= np)
            continue;
        const kz_epath *q = e->paths[f->path];
        if (!q->ref_last || q->type >= g->ntypes ||
            g->tp_start[q->type] == g->tp_start[q->type + 1])
            continue;
        long t = rec_ref_target(r, f);
        if (t < 0)
            continue;
        for (uint32_t k = g->tp_start[q->type]; k < g->tp_start[q->type + 1]; k++) {
            uint32_t p = g->tp_paths[k];
            const kz_epath *ep = e->paths[p];
            if (!ep->ref1 || ep->steps[0] != q->steps[0])
                continue;
            for (size_t h = 0; h < r->nfields; h++) {
                const kz_engine_field *tf = &r->fields[h];
                if (tf->path >= np)
                    continue;
                const kz_epath *tp = e->paths[tf->path];
                if (tf->obj != (uint64_t)t || tp->nsteps + 1 != ep->nsteps)
                    continue;
                size_t s = 0;
                while (s < tp->nsteps && tp->steps[s] == ep->steps[s + 1])
                    s++;
                if (s < tp->nsteps)
                    continue;
                fn(ctx, p, tf);
                break; /* fields of one object never overlap (record.c) */
            }
        }
    }
}

typedef struct refprobe {
    const kz_engine_gen *g;
    kz_ecands *c;
    kz_ememo *memo;
} refprobe;

static void ref_probe(void *ctx, uint32_t p, const kz_engine_field *tf)
{
    refprobe *x = ctx;
    if (tf->kind == KZ_EF_STR)
        probe_string_memo(x->g, p, tf->s, tf->len, x->c, x->memo, (cproof){0, NULL, 0}, NULL, 0);
    else if (tf->kind == KZ_EF_INT)
        probe_int(x->g, p, tf->i, x->c);
}

static void probe_rec_refs(const kz_engine_gen *g, const kz_engine_record *r, kz_ecands *c,
                           kz_ememo *memo)
{
    refprobe x = {g, c, memo};
    rec_refs_each(g, r, ref_probe, &x);
}

static bool parses(const char *s, size_t len)
{
    int fam, vp;
    uint8_t a[16];
    return kz_e_parse_cidr(s, len, &fam, a, &vp);
}

/* Whether every string value at plain path p, over the objects of p's type, parses as an
 * address (what ISSUBSET's runtime check needs). */
static bool json_all_cidr(const kz_engine *e, const kz_obs *o, uint32_t p)
{
    const kz_epath *ep = e->paths[p];
    const char *t = e->types[ep->type];
    for (size_t j = 0; j < o->nobjs; j++) {
        const char *ot = json_string_value(json_object_get(o->objs[j].obj, "type"));
        if (!ot || strcmp(ot, t) != 0)
            continue;
        const json_t *v = walk_plain(ep, o->objs[j].obj);
        if (json_is_string(v) && !parses(json_string_value(v), json_string_length(v)))
            return false;
    }
    return true;
}

/* Whether the string fields of r at path p other than field self all parse as addresses:
 * probe_string probes networks only for a value that parses, so with self's own parse this
 * is rec's whole answer, without parsing self twice (usually no other field is on p). */
static bool rec_others_cidr(const kz_engine_record *r, uint32_t p, size_t self)
{
    for (size_t j = 0; j < r->nfields; j++) {
        const kz_engine_field *f = &r->fields[j];
        if (j != self && f->path == p && f->kind == KZ_EF_STR && !parses(f->s, f->len))
            return false;
    }
    return true;
}

static void pf_take(const kz_engine_gen *g, const struct pfwin *w, kz_ecands *c);

int kz_e_collect(const kz_engine_gen *g, kz_eview *v, kz_ecands *out, char *err, size_t errlen)
{
    kz_engine *e = g->eng;
    out->n = 0;
    out->oom = false; /* a set reused across observations: a failure was reported already */
    if (!g->base && !g->delta)
        return 0;
    if (v->s) {
        const kz_obs *o = &v->s->obs[v->i];
        long last_tid = -2;
        for (size_t j = 0; j < o->nobjs; j++) {
            const json_t *obj = o->objs[j].obj;
            const char *t = json_string_value(json_object_get(obj, "type"));
            long tid = kz_e_type_id(e, t, false);
            if (tid != last_tid) /* objs are grouped by type */
                probe_type(g, tid, out);
            last_tid = tid;
            if (tid < 0 || (size_t)tid >= g->ntypes)
                continue;
            for (uint32_t k = g->tp_start[tid]; k < g->tp_start[tid + 1]; k++) {
                uint32_t p = g->tp_paths[k];
                const kz_epath *ep = e->paths[p];
                if (ep->ref1) {
                    probe_json_ref(g, o, p, obj, out);
                    continue;
                }
                const json_t *cur = walk_plain(ep, obj);
                if (cur)
                    probe_json(g, p, cur, out,
                               (g->pflags[p] & (PF_CIDR4 | PF_CIDR6)) && json_all_cidr(e, o, p));
            }
        }
    } else {
        const kz_engine_record *r = v->r;
        if (kz_e_record_check(e, r, out->shapes, err, errlen) < 0)
            return -1;
        for (size_t j = 0; j < r->ntypes && g->any_tkeys; j++) {
            bool dup = false;
            for (size_t k = 0; k < j && !dup; k++)
                dup = strcmp(r->types[k], r->types[j]) == 0;
            if (!dup)
                probe_type(g, kz_e_type_id(e, r->types[j], false), out);
        }
        if (v->pw)
            pf_take(g, v->pw, out);
        kz_ememo *memo = v->pw ? NULL : out->memo; /* a pipeline's answers are not kept */
        if (memo)
            kz_e_memo_gen(memo, g);
        for (size_t j = 0; j < r->nfields; j++) {
            const kz_engine_field *f = &r->fields[j];
            if (f->kind == KZ_EF_STR)
                probe_string_memo(g, f->path, f->s, f->len, out, memo, (cproof){-1, r, j}, v->pw,
                                  j);
            else if (f->kind == KZ_EF_INT)
                probe_int(g, f->path, f->i, out);
        }
        probe_rec_refs(g, r, out, memo);
    }
    if (out->oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (out->n > 1) {
        sort_cands(out->v, out->n);
        size_t u = 0;
        for (size_t i = 0; i < out->n; i++) {
            if (!u || out->v[u - 1].seg != out->v[i].seg || out->v[u - 1].rec != out->v[i].rec) {
                out->v[u++] = out->v[i];
                continue;
            }
            if (!(out->v[u - 1].aux & KZ_E_PROOF) && (out->v[i].aux & KZ_E_PROOF))
                out->v[u - 1].aux = out->v[i].aux; /* report the comparison that proves it */
            if (out->v[u - 1].ref == KZ_E_NOREF)
                out->v[u - 1].ref = out->v[i].ref;
        }
        out->n = u;
    }
    out->ncand += out->n;
    return 0;
}

void kz_e_cands_count(kz_engine *e, kz_ecands *c)
{
    if (c->ncand)
        atomic_fetch_add_explicit(&e->candidates, c->ncand, memory_order_relaxed);
    c->ncand = 0;
}

const kz_obs_set *kz_e_view_set(const kz_engine_gen *g, kz_eview *v, size_t *index)
{
    *index = 0;
    if (v->s) {
        if (!v->built) {
            v->one = *v->s;
            v->one.obs = &v->s->obs[v->i];
            v->one.nobs = 1;
            v->built = true;
        }
        return &v->one;
    }
    if (v->failed)
        return NULL;
    if (!v->rset) {
        char err[256];
        v->rjson = kz_engine_record_to_json(g->eng, v->r, err, sizeof err);
        json_t *arr = v->rjson ? json_array() : NULL;
        if (arr && json_array_append(arr, v->rjson) == 0)
            v->rset = kz_obs_set_from_json(arr, 21, err, sizeof err);
        json_decref(arr);
        if (!v->rset) {
            v->failed = true;
            return NULL;
        }
    }
    return v->rset;
}

void kz_e_view_clear(kz_eview *v)
{
    kz_obs_set_free(v->rset);
    json_decref(v->rjson);
    v->rset = NULL;
    v->rjson = NULL;
    v->built = v->failed = false;
}

const uint8_t *kz_e_cand_uuid(const kz_engine_gen *g, const kz_ecand *c)
{
    return (c->seg ? g->delta : g->base)->uuids[c->rec].b;
}

uint32_t kz_e_cand_ref(const kz_engine_gen *g, kz_ecand *c)
{
    if (c->ref == KZ_E_NOREF)
        c->ref = kz_e_seg_ref(c->seg ? g->delta : g->base, c->rec);
    return c->ref;
}

const kz_ecplx *kz_e_cand_cplx(const kz_engine_gen *g, kz_ecand *c)
{
    return kz_e_seg_cplx_at(c->seg ? g->delta : g->base, kz_e_cand_ref(g, c));
}

/* Whether v has a byte a pattern literal escapes (a quote or a backslash). Most values have
 * none: a loop without a branch, which the compiler vectorises. */
static bool needs_escape(const char *v, size_t n)
{
    unsigned esc = 0;
    for (size_t i = 0; i < n; i++)
        esc |= (unsigned)(v[i] == '\'') | (unsigned)(v[i] == '\\');
    return esc != 0;
}

/* v as a pattern literal, with a "%." prefix (LIKE '%.v') when suffix; esc: needs_escape(v)
 * (a hit's report writes its value two or three times, and tests it once). */
static size_t put_quoted(char *o, const char *v, size_t n, bool suffix, bool esc)
{
    size_t k = 0;
    o[k++] = '\'';
    if (suffix) {
        o[k++] = '%';
        o[k++] = '.';
    }
    if (!esc) {
        memcpy(o + k, v, n);
        k += n;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (v[i] == '\'' || v[i] == '\\')
                o[k++] = '\\';
            o[k++] = v[i];
        }
    }
    o[k++] = '\'';
    return k;
}

/* The comparison that fired and the canonical pattern of an index-answered indicator whose
 * value (of the given kind) is v, vl on path p. They go into the caller's buffers f (flen)
 * and pt (plen) when they fit, which they do for every value of ordinary length (this runs
 * for every hit, without allocation or printf), else into one heap block *heap that the
 * caller frees. false when out of memory. */
static bool simple_text(const kz_engine_gen *g, uint16_t p, int kind, const uint8_t *v, size_t vl,
                        int shape, bool suffix, char *f, size_t flen, char *pt, size_t plen,
                        const char **fo, const char **po, char **heap)
{
    *heap = NULL;
    const char *path = g->eng->paths[p]->text;
    size_t n = g->eng->paths[p]->tlen;
    char vb[2 * KZ_E_MAX_KEY + 64];
    size_t vn;
    if (shape == SHAPE_CIDR && (kind == K_CIDR4 || kind == K_CIDR6) && vl) { /* net/L */
        vn = kz_e_val_text_to(kind == K_CIDR4 ? K_IP4 : K_IP6, v + 1, kind == K_CIDR4 ? 4 : 16, vb);
        unsigned L = v[0];
        vb[vn++] = '/';
        if (L >= 100)
            vb[vn++] = (char)('0' + L / 100);
        if (L >= 10)
            vb[vn++] = (char)('0' + L / 10 % 10);
        vb[vn++] = (char)('0' + L % 10);
    } else {
        vn = kz_e_val_text_to(kind, v, vl, vb);
    }
    /* the text of an address, a network or a digest has nothing to escape */
    bool bin = kind == K_IP4 || kind == K_IP6 || kind == K_HEXL || kind == K_HEXU ||
               kind == K_CIDR4 || kind == K_CIDR6;
    bool esc = !bin && needs_escape(vb, vn);
    size_t qn = 2 * vn + 4; /* quoted (each byte may be escaped), with "%." */
    size_t nf = n + 10 + qn + 1, np = 2 * n + 12 + 2 * qn + 3;
    if (nf > flen || np > plen) {
        if (!(*heap = malloc(nf + np)))
            return false;
        f = *heap;
        pt = *heap + nf;
    }
    /* fired */
    size_t o = 0;
    memcpy(f, path, n);
    o = n;
    static const char op_in[] = " ISSUBSET ", op_like[] = " LIKE ", op_eq[] = " = ";
    static const struct {
        const char *t;
        size_t n;
    } ops[] = {{op_in, sizeof op_in - 1}, {op_like, sizeof op_like - 1}, {op_eq, sizeof op_eq - 1}};
    int oi = shape == SHAPE_CIDR ? 0 : suffix ? 1 : 2;
    memcpy(f + o, ops[oi].t, ops[oi].n);
    o += ops[oi].n;
    o += put_quoted(f + o, vb, vn, suffix, esc);
    f[o] = 0;
    /* pattern */
    size_t q = 0;
    pt[q++] = '[';
    if (shape == SHAPE_EQ_OR_SUF) {
        memcpy(pt + q, path, n);
        q += n;
        memcpy(pt + q, " = ", 3);
        q += 3;
        q += put_quoted(pt + q, vb, vn, false, esc);
        memcpy(pt + q, " OR ", 4);
        q += 4;
        memcpy(pt + q, path, n);
        q += n;
        memcpy(pt + q, " LIKE ", 6);
        q += 6;
        q += put_quoted(pt + q, vb, vn, true, esc);
    } else {
        memcpy(pt + q, f, o);
        q += o;
    }
    pt[q++] = ']';
    pt[q] = 0;
    *fo = f;
    *po = pt;
    return true;
}

int kz_e_emit(const kz_engine_gen *g, kz_ecand *c, size_t obs, const size_t *binding,
              size_t nbinding, kz_engine_hit_fn fn, void *ctx)
{
    if (!fn)
        return 0;
    const kz_eseg *s = c->seg ? g->delta : g->base;
    const uint8_t *uuid = s->uuids[c->rec].b;
    char id[64], name[65536 + 1];
    name[0] = 0;
    kz_uuid u;
    memcpy(u.b, uuid, 16);
    memcpy(id, "indicator--", 12); /* its NUL is overwritten by the uuid */
    kz_uuid_format(&u, id + 11);
    kz_engine_hit h = {0};
    h.id = id;
    size_t nl;
    const char *nm = kz_e_seg_name(s, c->rec, &nl);
    if (nm) {
        memcpy(name, nm, nl);
        name[nl] = 0;
        h.name = name;
    }
    const uint8_t *v;
    size_t vl;
    uint32_t ci = 0;
    const kz_emeta *m = kz_e_seg_entry(s, kz_e_cand_ref(g, c), &v, &vl, &ci);
    h.context_json = kz_e_ctx_text(g->eng, m->ctx);
    h.observation = obs;
    h.binding = binding;
    h.nbinding = nbinding;
    char sf[800], sp[1600], *heap = NULL;
    if (v) {
        if (!simple_text(g, m->path, m->kind, v, vl, m->shape,
                         (c->aux & ~KZ_E_PROOF) == KZ_E_AUX_S_SUFFIX, sf, sizeof sf, sp, sizeof sp,
                         &h.fired, &h.pattern, &heap))
            return -1;
    } else {
        const kz_ecplx *x = s->cplx[ci];
        const kz_eprep *pp = kz_e_prep(x);
        uint32_t k = c->aux & ~KZ_E_PROOF;
        h.fired = pp && k < pp->ncmp ? pp->fired[k] : "[object type]";
        h.pattern = x->text;
    }
    int rc = fn(ctx, &h);
    free(heap);
    return rc;
}

/* Answer the candidates of one observation; returns hits or the callback's stop value. */
static long answer(const kz_engine_gen *g, kz_eview *v, kz_ecands *c, size_t obs,
                   kz_engine_hit_fn fn, void *ctx, long *hits)
{
    for (size_t i = 0; i < c->n; i++) {
        const kz_ecplx *x = kz_e_cand_cplx(g, &c->v[i]);
        if (!x && !(c->v[i].aux & KZ_E_PROOF))
            continue; /* index-answered shape whose key did not prove it */
        if (x && !(c->v[i].aux & KZ_E_PROOF)) {
            size_t idx;
            const kz_obs_set *set = kz_e_view_set(g, v, &idx);
            char err[256];
            const kz_eprep *pp = kz_e_prep(x);
            int r = set && pp ? kz_matcher_match(pp->m, set, NULL, NULL, err, sizeof err) : -1;
            if (r < 0)
                atomic_fetch_add(&g->eng->match_errors, 1);
            if (r != 1)
                continue;
        }
        (*hits)++;
        int rc = kz_e_emit(g, &c->v[i], obs, NULL, 0, fn, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

long kz_engine_match_obs(const kz_engine_gen *g, const kz_obs_set *s, size_t i,
                         kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen)
{
    if (!g || !s || i >= kz_obs_set_count(s)) {
        snprintf(err, errlen, "no generation or observation out of range");
        return -1;
    }
    kz_eview v = {0};
    v.s = s;
    v.i = i;
    kz_ecands c = {0};
    long hits = 0;
    long rc = kz_e_collect(g, &v, &c, err, errlen);
    if (rc == 0)
        rc = answer(g, &v, &c, i, fn, ctx, &hits);
    kz_e_cands_count(g->eng, &c);
    kz_e_cands_free(&c);
    kz_e_view_clear(&v);
    return rc ? rc : hits;
}

/* Software pipeline over records (kz_e_pipe), one record per window: the exact and suffix
 * keys of its string fields go through bucket, record and value in dependent steps, each a
 * likely cache miss on a large base; an IPv4 address goes through rank words, network entry,
 * record (or list) and value. Five windows are in flight, one per stage: while record i is
 * matched, record i + 1 is in stage 4, i + 2 in stage 3 and so on, so each step's miss
 * overlaps a record's work instead of stalling it. The match then takes the answers the
 * window holds (pf_take, probe_cidr4) instead of probing again. One record per window keeps
 * the prefetches spread (bursts of a hundred overflowed the core's miss queue). */

/* A new entry for key k of hash h (the caller checked room): its filter word prefetched, or
 * without a filter its home bucket. */
static pfent *pf_entry(const kz_eseg *b, pfwin *w, const uint8_t *k, uint64_t h, uint8_t key)
{
    pfent *x = &w->e[w->m++];
    kz_e_sbegin(b, h, &x->it);
    x->at = SIZE_MAX; /* PW_KEY sets it */
    x->key = key;
    if (b->sfilt) {
        uint16_t p;
        memcpy(&p, k, 2);
        x->fw = kz_e_sfword(b, p, h);
        x->fm = kz_e_sfbits(h);
        x->kind = PW_FILT;
        __builtin_prefetch(x->fw);
    } else {
        x->kind = PW_KEY;
        kz_e_sprefetch(b, x->it.b);
    }
    return x;
}

/* A simple-index probe of key kb of field j; false when the window has no room for it. */
static bool pf_key(const kz_eseg *b, pfwin *w, const uint8_t *kb, size_t kl, uint64_t h, size_t j)
{
    if (!kz_e_shas(b, kb))
        return true; /* the base's answer is none: nothing to take */
    if (w->m >= PF_MAX || kl > PF_KEYS - w->kn)
        return false;
    pfent *x = pf_entry(b, w, kb, h, PK_KEY);
    x->field = (uint8_t)j;
    x->koff = (uint16_t)w->kn;
    x->klen = (uint16_t)kl;
    kz_e_copy(w->keys + w->kn, kb, kl);
    w->kn += kl;
    return true;
}

/* A probe through a reference path (T:x_ref.tail, the value of the object referred to): only
 * its bucket, record and value are prefetched; the match probes it as before (those probes
 * are few, and their answers would need the reference's bookkeeping to be taken). */
typedef struct refpre {
    const kz_engine_gen *g;
    const kz_eseg *b;
    pfwin *w;
} refpre;

static void ref_prefetch(void *ctx, uint32_t p, const kz_engine_field *tf)
{
    refpre *x = ctx;
    if (tf->kind != KZ_EF_STR || !tf->s || tf->len > 256 || x->w->m >= PF_MAX ||
        p >= x->g->npaths || !(x->g->pflags[p] & PF_EXACT))
        return;
    uint8_t kb[KZ_E_MAX_KEY + 32];
    uint64_t h;
    size_t kl = kz_e_key_hstr(kb, p, tf->s, tf->len, &h);
    if (!kl || !kz_e_shas(x->b, kb))
        return;
    pf_entry(x->b, x->w, kb, h, PK_NONE);
}

/* The positions of the dots of v (at most cap, else SIZE_MAX with *plain unset) and whether
 * v is plain: ASCII (its own NFC) without a newline, so that probe_suffixes probes it with
 * proof at every dot and in one pass. 16 bytes at a time with SSE2, the last block
 * overlapping the one before (a name of 16 bytes or more has no byte loop): the two byte
 * loops it replaced, over every name of every record, were 5% of the mixed-record
 * benchmark's instructions. */
static size_t dots_plain(const char *v, size_t len, uint32_t *pos, size_t cap, bool *plain)
{
    size_t nd = 0;
    bool pl = true;
#if defined(__SSE2__)
    if (len >= 16) {
        for (size_t i = 0; i < len; i += 16) {
            size_t at = i + 16 <= len ? i : len - 16;
            unsigned seen = (unsigned)(i - at); /* leading bytes of an overlapping block */
            __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(v + at));
            unsigned bad = (unsigned)(_mm_movemask_epi8(c) |
                                      _mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('\n'))));
            unsigned dm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('.')));
            pl = pl && !(bad >> seen);
            for (dm = dm >> seen << seen; dm; dm &= dm - 1) {
                if (nd == cap)
                    return SIZE_MAX;
                pos[nd++] = (uint32_t)(at + (unsigned)__builtin_ctz(dm));
            }
        }
        *plain = pl;
        return nd;
    }
#endif
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        pl = pl && ch < 0x80 && ch != '\n';
        if (ch == '.') {
            if (nd == cap)
                return SIZE_MAX;
            pos[nd++] = (uint32_t)i;
        }
    }
    *plain = pl;
    return nd;
}

/* The answers of the simple-index probes of window w's done fields (what probe_simple gives
 * for the base with each of their keys), in one pass over the window. */
static void pf_take(const kz_engine_gen *g, const pfwin *w, kz_ecands *c)
{
    const kz_eseg *b = g->base;
    for (size_t i = 0; i < w->m; i++) {
        const pfent *x = &w->e[i];
        if (x->key != PK_KEY || !(w->done >> x->field & 1))
            continue;
        if (x->at == SIZE_MAX)
            continue; /* the filter or the bucket walk found no candidate */
        const uint8_t *k = w->keys + x->koff;
        uint32_t aux = (k[2] == K_SUF ? KZ_E_AUX_S_SUFFIX : KZ_E_AUX_S_EXACT) | KZ_E_PROOF;
        kz_e_sit it = x->it; /* on from the first candidate, at */
        /* its entry: the three steps take every entry to PW_DONE, but one left at PW_REF
         * reads it here rather than use a ref never set */
        uint32_t ref = x->kind == PW_REF ? kz_e_sit_ref(b, &it) : x->ref;
        for (uint32_t r = (uint32_t)x->at;;) {
            if (!is_dead(g, r) && kz_e_simple_eq(b, ref, k, x->klen))
                push(c, 0, r, aux, ref);
            if ((r = kz_e_snext(b, &it)) == UINT32_MAX)
                break;
            ref = kz_e_sit_ref(b, &it);
        }
    }
}

/* Stage 1 of an IPv4 address: one entry per prefix length present up to vp (the longer
 * networks are in the hash tables: their /24 filter word is prefetched). */
static bool pf_cidr4(const kz_eseg *b, pfwin *w, uint16_t path, uint32_t addr, int vp, size_t j)
{
    if (!kz_e_c4any(b, path, addr))
        return true; /* no network of the path contains it */
    uint64_t lens = b->c4[path] & (vp >= 24 ? (2ull << 24) - 1 : (2ull << vp) - 1);
    for (; lens; lens &= lens - 1) {
        int L = __builtin_ctzll(lens);
        const kz_ec4s *cs = &b->c4s[25 * (size_t)path + (size_t)L];
        if (!cs->bits)
            continue;
        if (w->m >= PF_MAX)
            return false;
        uint32_t top = L ? addr >> (32 - L) : 0;
        pfent *x = &w->e[w->m];
        x->key = PK_NET;
        x->field = (uint8_t)j;
        x->addr = addr;
        x->vp = (uint8_t)L;
        x->path = path;
        if (L <= 18) { /* cached bitmap: the entry now */
            x->p = kz_e_c4s_entry(cs, top);
            if (!x->p)
                continue;
            __builtin_prefetch(x->p);
            x->kind = PW_CENT;
        } else {
            /* the bit only: its rank word is read when it is set, which at these lengths
             * is rare (the generated 10M set has about 38,500 networks per length, so a
             * random address is in one of /19../24 about 14% of the time): six rank lines
             * asked for every address cost more than the rare read that waits (mixed
             * records at 10M 1.83 / 1.86 -> 1.92 / 1.91 M/s, two pairs) */
            __builtin_prefetch(&cs->bits[top >> 6]);
            x->p = NULL;
            x->kind = PW_CBITS;
        }
        w->m++;
    }
    for (int L = 19; b->c4f && L <= vp && L <= 24; L++) {
        const uint64_t *cf = b->c4f[33 * (size_t)path + (size_t)L];
        if (cf)
            __builtin_prefetch(&cf[(addr >> (32 - L)) / 64]);
    }
    return true;
}

/* Stage 1 of string field j (value f): its simple keys, its parsed address, its networks. */
static void pf_field(const kz_engine_gen *g, const kz_eseg *b, pfwin *w, size_t j,
                     const kz_engine_field *f)
{
    uint8_t kb[KZ_E_MAX_KEY + 32];
    uint8_t fl = g->pflags[f->path];
    bool ok = true; /* every probe of the field is here */
    bool ip4 = false; /* a plain address, parsed once: a4 */
    uint8_t a4[4];
    if (fl & PF_EXACT) {
        uint64_t h;
        /* only the kinds of key the path holds (kz_e_key_hstr_of: the same keys answer; an
         * address on a path without address keys is parsed below instead):
         * suffix and mixed records at 100k 527.4 -> 520.0 M instructions */
        size_t kl = kz_e_key_hstr_of(kb, f->path, f->s, f->len, &h, g->skinds[f->path]);
        if (kl)
            ok = pf_key(b, w, kb, kl, h, j);
        if ((ip4 = kl && kb[2] == K_IP4))
            memcpy(a4, kb + 5, 4);
    }
    /* the suffix keys (none in the base: nothing to probe) */
    if ((fl & PF_SUF) && f->path < b->npaths && (b->pflags[f->path] & PF_SUF)) {
        uint32_t dot[64];
        bool plain;
        size_t nd = dots_plain(f->s, f->len, dot, 64, &plain);
        if (nd == SIZE_MAX) { /* more than 64 labels (the window could not hold their keys */
            nd = 0;           /* anyway): the name is left to probe_string */
            plain = false;
        }
        ok = ok && plain;
        for (size_t d = 0; d < nd; d++) {
            size_t q = dot[d];
            ok = pf_key(b, w, kb, kz_e_key_raw(kb, f->path, K_SUF, f->s + q, f->len - q),
                        kz_e_khash_raw(f->path, K_SUF, f->s + q, f->len - q), j) &&
                 ok;
        }
    }
    if (ok && (fl & (PF_EXACT | PF_SUF)))
        w->done |= 1ull << j;
    /* the networks of every prefix length */
    if (!(fl & PF_CIDR4) || !b->c4s || f->path >= b->npaths || !b->c4[f->path])
        return;
    int fam = 4, vp = 32;
    uint8_t a[16];
    if (ip4)
        memcpy(a, a4, 4);
    else if (!kz_e_parse_cidr(f->s, f->len, &fam, a, &vp) || fam != 4)
        return;
    memcpy(&w->a4[j], a, 4); /* what probe_string would parse */
    w->vp4[j] = (uint8_t)vp;
    w->has4 |= 1ull << j;
    uint32_t addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    if (pf_cidr4(b, w, (uint16_t)f->path, addr, vp, j))
        w->nets |= 1ull << j;
}

/* Stage 1 of record r: the keys, hashes and home buckets of its probes (prefetched), its
 * addresses' networks, the probes of its reference paths. */
static void pf_stage1(const kz_engine_gen *g, const kz_engine_record *r, pfwin *w)
{
    const kz_eseg *b = g->base;
    w->m = w->kn = 0;
    w->done = w->nets = w->has4 = 0;
    if (!b || !b->nsbuckets || (r->nfields && !r->fields))
        return; /* no index; or malformed: validation refuses it before any probe */
    __builtin_prefetch(r->types); /* validation reads them first */
    /* fields past the 64th (a done bit each) are left to the plain probes */
    for (size_t j = 0; j < r->nfields && j < 64; j++) {
        const kz_engine_field *f = &r->fields[j];
        if (f->kind == KZ_EF_STR && f->s && f->path < g->npaths && f->len <= 256)
            pf_field(g, b, w, j, f);
    }
    refpre x = {g, b, w};
    rec_refs_each(g, r, ref_prefetch, &x);
}

/* Stages 2 to 4: one dependent step of every entry of the window. */
static void pf_step(const kz_engine_gen *g, pfwin *w)
{
    const kz_eseg *b = g->base;
    for (size_t i = 0; i < w->m; i++) {
        pfent *x = &w->e[i];
        switch (x->kind) {
        case PW_FILT: /* most keys of traffic are absent: the filter ends them, no bucket read */
            if ((*x->fw & x->fm) != x->fm) {
                x->at = SIZE_MAX;
                x->kind = PW_DONE;
            } else {
                x->kind = PW_KEY;
                kz_e_sprefetch(b, x->it.b);
            }
            break;
        case PW_KEY: { /* the first candidate in the home bucket: most probes end there */
            uint32_t ri = kz_e_snext(b, &x->it);
            x->kind = PW_DONE;
            if (ri == UINT32_MAX) {
                x->at = SIZE_MAX;
                break;
            }
            x->at = ri;
            x->kind = PW_REF;
            kz_e_sprefetch_refs(b, x->it.b);
            if (x->it.more) { /* the rest of the walk (pf_take) reads the next bucket */
                kz_e_sprefetch(b, x->it.b + 1);
                kz_e_sprefetch_refs(b, x->it.b + 1);
            }
            break;
        }
        case PW_REF: {
            x->kind = PW_DONE;
            x->ref = kz_e_sit_ref(b, &x->it);
            __builtin_prefetch(&b->uuids[x->at]); /* a hit reports it: beside the value */
            const uint8_t *a = b->arena + x->ref;
            __builtin_prefetch(a);
            /* the line where a value of the key's length would end (a URL or a digest crosses
             * into the next): the same line for most short values, where a fixed a + 48 asked
             * for a line that is never read about half the time, and this pipeline's prefetches
             * queue behind a full miss queue at 10M (suffix 3.53 / 4.07 / 4.82 / 3.87 -> 4.56 /
             * 4.65 / 4.97 / 4.75 M/s, mixed 1.34 / 1.59 / 1.61 / 1.55 -> 1.50 / 1.70 / 1.71 /
             * 1.55, four pairs on a noisy host) */
            __builtin_prefetch(x->key == PK_KEY ? kz_e_sentry_last(a, x->klen - 5u) : a + 48);
            break;
        }
        case PW_CBITS: {
            const kz_ec4s *cs = &b->c4s[25 * (size_t)x->path + x->vp];
            x->p = kz_e_c4s_entry(cs, x->addr >> (32 - x->vp));
            x->kind = x->p ? PW_CENT : PW_DONE;
            if (x->p)
                __builtin_prefetch(x->p);
            break;
        }
        case PW_CENT: {
            const uint32_t *e = x->p; /* (record, ref), or the offset of a list of them */
            if (*e & KZ_E_C4S_DUP) {
                const kz_ec4s *cs = &b->c4s[25 * (size_t)x->path + x->vp];
                x->at = *e & ~KZ_E_C4S_DUP;
                x->kind = PW_CDUP;
                __builtin_prefetch(&cs->dups[x->at]);
            } else { /* a hit reports its uuid and its entry */
                x->kind = PW_DONE;
                x->at = e[0];
                __builtin_prefetch(&b->uuids[e[0]]);
                __builtin_prefetch(b->arena + e[1]);
            }
            break;
        }
        case PW_CDUP: { /* the first few records of a network several indicators name */
            const kz_ec4s *cs = &b->c4s[25 * (size_t)x->path + x->vp];
            const uint32_t *d = cs->dups + x->at; /* [count, (record, ref) pairs...] */
            uint32_t nd = d[0] < 4 ? d[0] : 4;
            for (size_t k = 0; k < nd; k++) {
                __builtin_prefetch(&b->uuids[d[1 + 2 * k]]);
                __builtin_prefetch(b->arena + d[2 + 2 * k]);
            }
            x->kind = PW_DONE;
            break;
        }
        default:
            x->kind = PW_DONE;
            break;
        }
    }
}

enum { PF_DEPTH = 5 }; /* windows in flight: one per stage */

struct kz_e_pipe {
    const kz_engine_gen *g;
    const kz_engine_record *r;
    size_t n;
    pfwin win[PF_DEPTH];
};

/* Runs stage s (1..4) on record i's window when the record exists: stage s works
 * PF_DEPTH - s records ahead. */
static void pf_stage(kz_e_pipe *p, int s, size_t i)
{
    if (i >= p->n)
        return;
    pfwin *w = &p->win[i % PF_DEPTH];
    if (s == 1)
        pf_stage1(p->g, p->r + i, w);
    else
        pf_step(p->g, w);
}

kz_e_pipe *kz_e_pipe_begin(const kz_engine_gen *g, const kz_engine_record *r, size_t n)
{
    /* a few records have nothing to overlap: their probes go straight to the index (a
     * window filled and used at once measured slower for a lone record: sensor, 1M and 10M) */
    if (!g || !r || n < PF_DEPTH)
        return NULL;
    kz_e_pipe *p = malloc(sizeof *p); /* 50 KiB: kept off the caller's stack */
    if (!p)
        return NULL;
    p->g = g;
    p->r = r;
    p->n = n;
    /* prime: window j has been through the stages it would have had by window 0's match */
    for (int s = 1; s < PF_DEPTH; s++)
        for (size_t j = 0; j + (size_t)s < PF_DEPTH; j++)
            pf_stage(p, s, j);
    return p;
}

/* The caller's own lines, ahead of stage 1: record i's fields array, and its string values
 * (read from the fields, which the step before asked for). A batch read from a log or built
 * by a sensor ahead of matching is not in cache, and stage 1 stalled on it: reading a
 * record's fields was 8% of the mixed-record benchmark at 10M. With the fields two records
 * ahead and the values one: mixed at 10M 1.71 / 1.72 -> 1.85 / 1.84 M/s, suffix 4.67 / 4.54
 * -> 4.83 / 4.66, and at 1M mixed 3.62 / 3.77 -> 3.91 / 3.91 (two pairs each). */
static void pf_input_fields(const kz_e_pipe *p, size_t i)
{
    if (i >= p->n || !p->r[i].fields)
        return;
    const kz_engine_field *f = p->r[i].fields;
    size_t nf = p->r[i].nfields < 64 ? p->r[i].nfields : 64;
    for (size_t o = 0; o < nf * sizeof *f; o += 64)
        __builtin_prefetch((const char *)f + o);
}

static void pf_input_values(const kz_e_pipe *p, size_t i)
{
    if (i >= p->n || !p->r[i].fields)
        return;
    const kz_engine_field *f = p->r[i].fields;
    size_t nf = p->r[i].nfields < 64 ? p->r[i].nfields : 64;
    for (size_t j = 0; j < nf; j++)
        if (f[j].kind == KZ_EF_STR && f[j].s)
            __builtin_prefetch(f[j].s);
}

void kz_e_pipe_at(kz_e_pipe *p, size_t k)
{
    if (!p)
        return;
    pf_input_fields(p, k + PF_DEPTH + 1);
    pf_input_values(p, k + PF_DEPTH);
    for (int s = 1; s < PF_DEPTH; s++)
        pf_stage(p, s, k + (size_t)(PF_DEPTH - s));
}

const struct pfwin *kz_e_pipe_win(const kz_e_pipe *p, size_t k)
{
    return p && k < p->n ? &p->win[k % PF_DEPTH] : NULL;
}

void kz_e_pipe_end(kz_e_pipe *p)
{
    free(p);
}

long kz_engine_match_batch(const kz_engine_gen *g, const kz_engine_record *r, size_t n,
                           kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen)
{
    if (!g || (!r && n)) {
        snprintf(err, errlen, "no generation or records");
        return -1;
    }
    kz_ecands c = {0};
    /* a batch's records are mostly of a few shapes: the check's memo of them pays for its
     * allocation after a few records (NULL: every record gets the whole check) */
    if (n >= 16)
        c.shapes = kz_e_shapes_new();
    long hits = 0, rc = 0;
    kz_e_pipe *pp = kz_e_pipe_begin(g, r, n); /* NULL (no prefetch) when out of memory */
    for (size_t k = 0; k < n && rc == 0; k++) {
        kz_e_pipe_at(pp, k);
        kz_eview v = {0};
        v.r = &r[k];
        v.pw = kz_e_pipe_win(pp, k);
        rc = kz_e_collect(g, &v, &c, err, errlen);
        if (rc == 0)
            rc = answer(g, &v, &c, k, fn, ctx, &hits);
        kz_e_view_clear(&v);
    }
    kz_e_pipe_end(pp);
    kz_e_cands_count(g->eng, &c);
    kz_e_cands_free(&c);
    return rc ? rc : hits;
}

long kz_engine_match_record(const kz_engine_gen *g, const kz_engine_record *r,
                            kz_engine_hit_fn fn, void *ctx, char *err, size_t errlen)
{
    return kz_engine_match_batch(g, r, 1, fn, ctx, err, errlen);
}

/* The live records of value t (n bytes) of path p among the rest of walk it over segment sg
 * (s). */
static size_t count_walk(const kz_engine_gen *g, unsigned sg, const kz_eseg *s, kz_e_sit *it,
                         uint32_t p, const char *t, size_t n)
{
    size_t c = 0;
    for (uint32_t r; (r = kz_e_snext(s, it)) != UINT32_MAX;)
        c += (sg || !is_dead(g, r)) && kz_e_simple_eq_text(s, kz_e_sit_ref(s, it), p, t, n);
    return c;
}

/* Index-answered [p = 'v'] records of segment sg with value t (hash h, kz_e_khash_text). */
static size_t count_simple(const kz_engine_gen *g, unsigned sg, uint32_t p, const char *t, size_t n,
                           uint64_t h)
{
    const kz_eseg *s = sg ? g->delta : g->base;
    if (!s || !s->nsbuckets || !kz_e_smaybe_value(s, p, h))
        return 0;
    kz_e_sit it;
    kz_e_sbegin(s, h, &it);
    kz_e_sprefetch(s, it.b);
    return count_walk(g, sg, s, &it, p, t, n);
}

/* A lookup hashes the value's text, whatever its kind, and decodes nothing: a candidate's
 * stored value is compared with the text (kz_e_simple_eq_text), formatted when it is a binary
 * form. The answers are those of the value's key (kz_e_key_str): the text of a key's value is
 * one to one with the key (keys.c), and the key of a text is the key whose value has that
 * text. */
size_t kz_engine_lookup_exact(const kz_engine_gen *g, uint32_t path, const char *val, size_t len)
{
    if (!g || path >= g->npaths || !(g->pflags[path] & PF_EXACT) || len > KZ_E_MAX_KEY)
        return 0;
    uint64_t h = kz_e_khash_text(path, val, len);
    return count_simple(g, 0, path, val, len, h) + count_simple(g, 1, path, val, len, h);
}

/* Lookups in a five-stage software pipeline: the hash (prefetch the home bucket's lanes), the
 * home bucket's candidates (prefetch the bucket's refs when there is one, and the next
 * bucket's lanes: without a branch, the home's line again when the walk ends there), their
 * values (prefetch them; the next bucket's candidates, its refs prefetched), the next
 * bucket's values, then the count. A present value reads two random lines, its bucket (lanes
 * and refs, adjacent) and its value: 18.2 -> 20.5 M/s at 10M with the refs beside the lanes
 * instead of in an array by record (a third random line). Each step
 * starts one lookup and moves each of the four before it, LW_DIST lookups apart, one stage on,
 * so the misses are issued a few per step rather than in bursts: windows of 16 lookups moved a
 * stage at a time measured 17.5 M/s at 100k and 10.3-10.9 at 10M, this 19.0 and 11.1 (single
 * runs). The distance is 7, in a ring of 64 entries (3 KiB: a lookup's entry holds its text's
 * address, not its key). A shorter one serves present values (fewer lines in flight, so
 * fewer leave L1 before the stage that reads them), a longer one absent values (a bucket
 * miss each, hidden the better the further ahead it is asked for). At 10M (present / absent
 * / 1% present M/s, runs alternated with each other): distance 5 17.56 / 31.39 / 27.25 and
 * 17.53 / 30.96 / 28.53; 6 17.53 / 34.38 / 28.22 and 17.58 / 33.67 / 30.57; 7 17.21 / 34.95 /
 * 32.04, 17.21 / 36.89 / 33.41, 17.24 / 36.06 / 32.52 and 16.23 / 36.22 / 32.57; 10 16.73 /
 * 38.63 / 35.13 and 16.53 / 38.60 / 34.44; 14 15.88 / 40.11 / 35.53 and 16.11 / 39.89 /
 * 35.84. 7 takes most of the present values' gain for about half the loss of the
 * traffic-like mix that 5 or 6 cost.
 * There is no filter stage: with the ordered slots it made absent values 1.7x faster at 10M
 * (14.5 -> 24.4 M/s) for 3% on present ones, but a present key reads one bucket line where it
 * read 1.44 slot lines, and without the filter's word present values at 10M went from
 * 13.88 to 16.00 / 16.13 M/s, absent ones from 43.9-45.9 to 36.0 / 36.7 (two pairs). What costs
 * most at 10M is a line the count reads that no stage prefetched: each is a full miss with the
 * pipeline stalled behind it. So every candidate's ref and value is prefetched by a stage (a
 * second candidate, another key with the same tag, is about 1 in 20), and the prefetch loops
 * are kept (kz_e_prefetch: GCC deleted them). */
enum { LW_DIST = 7, LW_RING = 64 }; /* LW_RING > 4 * LW_DIST, a power of two */
_Static_assert(LW_RING > 4 * LW_DIST && (LW_RING & (LW_RING - 1)) == 0,
               "a step uses lookups t - 4 * LW_DIST .. t of the ring at once");
typedef struct lent {
    const char *t; /* the value's text */
    uint32_t n;    /* its length */
    uint32_t p;    /* its path */
    uint32_t vl;   /* the length its stored form would have (for the prefetch of its last line) */
    uint32_t tag;
    size_t home; /* its home bucket */
    uint32_t m;  /* the candidates of its home bucket and the next (bit i: lane home * 16 + i) */
    bool on;     /* the walk reads the next bucket (the home has KZ_E_SB_MORE) */
    bool more;   /* and goes on past it (the count walks the rest) */
    bool inb;    /* the base may hold the value (kz_e_shas_value) */
    bool ok;     /* a lookup: a path of exact values, a value not too long to be indexed */
    uint64_t h;
} lent;

/* The first stage. It and lw_recs are forced inline: GCC kept them as calls from the steady
 * loop and the filling one, about 20 instructions a lookup (absent values at 100k 51.8 -> 55.7
 * M/s inlined). */
static inline __attribute__((always_inline)) void lw_key(const kz_engine_gen *g, const kz_eseg *b,
                                                         lent *x, uint32_t path, const char *val,
                                                         uint32_t len)
{
    x->inb = false;
    x->m = 0;
    x->on = x->more = false;
    x->ok = path < g->npaths && (g->pflags[path] & PF_EXACT) && len <= KZ_E_MAX_KEY;
    if (!x->ok)
        return;
    x->t = val;
    x->n = len;
    x->p = path;
    x->h = kz_e_khash_text(path, val, len);
    x->inb = b && kz_e_shas_value(b, path);
    if (!x->inb)
        return;
    x->vl = kz_e_svlen(b, path, len);
    x->home = kz_e_spos(b, x->h);
    x->tag = kz_e_stag(b, x->h);
    kz_e_sprefetch(b, x->home);
}

/* The lane of candidate bit k (kz_e_sbucket's bit in the home bucket, 16 + bit in the next). */
static inline size_t lw_lane(const lent *x, unsigned k)
{
    return (x->home + (k >> 4)) * KZ_E_SST + (k & 15u);
}

/* The values of the candidates in m (bits from..from + 15), prefetched: the value's line and
 * the one where a value of the stored length ends (a URL, a digest or a long domain crosses
 * into it). The next line was asked for every value while the comparison was memcmp, whose
 * masked vector load reads it for a short value ending near a line's end (at 10M, 8.4-8.8 M/s
 * with the value's own lines only, 10.7-10.9 with the next line); kz_e_same reads only the
 * value's bytes, and asking for the line only where the value reaches it took present values
 * at 10M from 13.50 / 13.53 / 13.25 to 14.00 / 13.90 / 13.60 M/s (three pairs). */
static void lw_prefetch_values(const kz_eseg *b, const lent *x, unsigned from)
{
    for (unsigned m = (unsigned)(x->m >> from) & 0xffffu; m; m &= m - 1) {
        uint32_t ref = kz_e_sref(b, lw_lane(x, from + (unsigned)__builtin_ctz(m)));
        kz_e_prefetch(b->arena + ref);
        kz_e_prefetch(kz_e_sentry_last(b->arena + ref, x->vl));
    }
}

/* The home bucket: its refs prefetched when a lane's tag matches (an absent value, most of
 * traffic, reads the lanes' line alone), and the next bucket, which the walk reads
 * when the home has KZ_E_SB_MORE (about one home in five at load 0.8). The tests of that flag
 * were three mispredicted branches in five lookups (callgrind's branch simulation): the
 * prefetch here and lw_values take none (the home's line is prefetched again when the walk ends
 * there; no value of the next bucket is a loop of no turn), and present values at 100k went
 * from 16.96 / 16.92 to 17.77 / 17.58 M/s (two pairs). lw_refs keeps its branch: comparing the
 * home's line again instead ran 35 more instructions a lookup for no gain (19.61 / 19.64
 * against 19.93 / 19.78 M/s with the branch). */
static inline __attribute__((always_inline)) void lw_recs(const kz_eseg *b, lent *x)
{
    if (!b || !x->inb) /* inb implies b; said again for the analyzer */
        return;
    x->m = kz_e_sbucket(b, x->home, true, x->tag, &x->on);
    if (x->m)
        kz_e_sprefetch_refs(b, x->home);
    kz_e_sprefetch(b, x->home + x->on);
}

/* The home bucket's values; the next bucket's candidates, its refs prefetched, when the walk
 * goes on. */
static void lw_refs(const kz_eseg *b, lent *x)
{
    if (!b || !x->inb)
        return;
    lw_prefetch_values(b, x, 0);
    if (!x->on)
        return;
    x->m |= kz_e_sbucket(b, x->home + 1, false, x->tag, &x->more) << KZ_E_SB;
    if (x->m >> KZ_E_SB)
        kz_e_sprefetch_refs(b, x->home + 1);
}

/* The next bucket's values. */
static void lw_values(const kz_eseg *b, const lent *x)
{
    if (b && x->inb)
        lw_prefetch_values(b, x, KZ_E_SB);
}

/* The base's count: the candidates of the home bucket and the next, then the rest of the walk
 * when it goes on. */
static uint32_t lw_count(const kz_engine_gen *g, const kz_eseg *b, const lent *x)
{
    uint32_t n = 0;
    for (uint32_t m = x->m; m; m &= m - 1) {
        size_t at = lw_lane(x, (unsigned)__builtin_ctz(m));
        uint32_t r = kz_e_srec(b, at);
        n += !is_dead(g, r) && kz_e_simple_eq_text(b, kz_e_sref(b, at), x->p, x->t, x->n);
    }
    if (x->more) {
        kz_e_sit it;
        kz_e_sfrom(b, x->home + 2, x->tag, &it); /* the third bucket on */
        n += (uint32_t)count_walk(g, 0, b, &it, x->p, x->t, x->n);
    }
    return n;
}

void kz_engine_lookup_exact_batch(const kz_engine_gen *g, const uint32_t *paths,
                                  const char *const *vals, const uint32_t *lens, size_t n,
                                  uint32_t *counts)
{
    if (!g) {
        memset(counts, 0, n * sizeof *counts);
        return;
    }
    const kz_eseg *b = g->base && g->base->nsbuckets ? g->base : NULL;
    lent *ring = malloc(LW_RING * sizeof *ring);
    if (!ring) { /* no pipeline: one at a time */
        for (size_t i = 0; i < n; i++)
            counts[i] = (uint32_t)kz_engine_lookup_exact(g, paths[i], vals[i], lens[i]);
        return;
    }
#define LW_AT(i) (&ring[(i) % LW_RING])
    const size_t D = LW_DIST;
    /* at step t, lookup t starts and lookup t - s * D (D = LW_DIST) does stage s. Every stage
     * has a lookup from step 4 * D to step n - 1: those steps run without the tests of the
     * filling and draining ones (2% fewer instructions, yet present values at 10M went from
     * 11.68-11.88 to 13.05-13.30 M/s, three pairs, and at 100k from 15.5-15.9 to 17.0-17.5) */
    for (size_t t = 0; t < n + 4 * D; t++) {
        if (t >= 4 * D && t < n) {
            lw_key(g, b, LW_AT(t), paths[t], vals[t], lens[t]);
            lw_recs(b, LW_AT(t - D));
            lw_refs(b, LW_AT(t - 2 * D));
            lw_values(b, LW_AT(t - 3 * D));
        } else {
            if (t < n)
                lw_key(g, b, LW_AT(t), paths[t], vals[t], lens[t]);
            if (t >= D && t - D < n)
                lw_recs(b, LW_AT(t - D));
            if (t >= 2 * D && t - 2 * D < n)
                lw_refs(b, LW_AT(t - 2 * D));
            if (t >= 3 * D && t - 3 * D < n)
                lw_values(b, LW_AT(t - 3 * D));
            if (t < 4 * D)
                continue;
        }
        size_t i = t - 4 * D;
        const lent *x = LW_AT(i);
        counts[i] = 0;
        if (x->ok && b)
            counts[i] = lw_count(g, b, x);
        if (x->ok && g->delta)
            counts[i] += (uint32_t)count_simple(g, 1, x->p, x->t, x->n, x->h);
    }
#undef LW_AT
    free(ring);
}

size_t kz_engine_lookup_cidr(const kz_engine_gen *g, uint32_t path, const char *val, size_t len,
                             int *longest)
{
    if (longest)
        *longest = -1;
    if (!g || path >= g->npaths || !(g->pflags[path] & (PF_CIDR4 | PF_CIDR6)))
        return 0;
    kz_ecands c = {0};
    probe_string(g, path, val, len, &c, (cproof){1, NULL, 0}, NULL, 0);
    size_t n = 0;
    for (size_t i = 0; i < c.n; i++) {
        const kz_eseg *s = c.v[i].seg ? g->delta : g->base;
        if ((c.v[i].aux & ~KZ_E_PROOF) != KZ_E_AUX_S_CIDR)
            continue;
        const uint8_t *v;
        size_t vl;
        const kz_emeta *m = kz_e_seg_entry(s, kz_e_cand_ref(g, &c.v[i]), &v, &vl, NULL);
        if (m->shape != SHAPE_CIDR)
            continue;
        n++;
        int L = v && vl ? v[0] : -1; /* a network's value: [L][address] */
        if (longest && L > *longest)
            *longest = L;
    }
    kz_e_cands_free(&c);
    return n;
}
