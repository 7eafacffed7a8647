/*
 * The memo of values without candidates.
 *
 * Telemetry repeats itself: a network's own hosts are in every connection, its resolvers and
 * popular names in every other query. Most values hit nothing, and probing one costs a key,
 * a hash, a filter word and slots that miss the cache, a test per CIDR length and, for a
 * name, one probe per dot. A stream's memo remembers the field values (path, bytes) whose
 * probes gave no candidate at all, so a value seen again costs a hash and a compare.
 *
 * Invariants that make it exact:
 *  - an entry keeps the whole value and is only taken on byte equality (no hash-only answer:
 *    a wrong "nothing" would be a missed detection); longer values are not kept;
 *  - what probe_string gives for (path, value) depends on nothing else but the generation:
 *    the record's other fields only decide whether a CIDR candidate proves itself, and an
 *    entry holds no candidates;
 *  - the index changes only by a new generation (adds, removals, expiry, merges all publish
 *    one), and a generation other than the memo's forgets every entry (an epoch).
 *
 * Direct-mapped, one cache line per entry, 1024 entries (64 KiB, so that it stays in the
 * core's cache; 4096 found more values but cost as much as they saved): a value that misses
 * costs a hash and one line more than it did without the memo. It pays where the index's
 * filter and slots are out of cache (Zeek at 10M: 1.52-1.57 -> 1.61-1.62 M lines/s, about
 * 40% of the generated telemetry's values found in it; even at 1M).
 */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

enum { MEMO_BITS = 10, MEMO_VAL = 54 };

typedef struct memo_ent {
    uint32_t epoch; /* 0: empty */
    uint32_t path;
    uint16_t len;
    char v[MEMO_VAL];
} memo_ent;

struct kz_ememo {
    memo_ent *ents;
    uint64_t gen; /* the generation the entries are of */
    uint32_t epoch;
};

kz_ememo *kz_e_memo_new(void)
{
    kz_ememo *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ents = aligned_alloc(64, sizeof(memo_ent) << MEMO_BITS);
    if (!m->ents) {
        free(m);
        return NULL;
    }
    memset(m->ents, 0, sizeof(memo_ent) << MEMO_BITS);
    m->epoch = 1;
    return m;
}

void kz_e_memo_free(kz_ememo *m)
{
    if (!m)
        return;
    free(m->ents);
    free(m);
}

void kz_e_memo_gen(kz_ememo *m, const kz_engine_gen *g)
{
    if (m->gen == g->number)
        return;
    m->gen = g->number;
    if (++m->epoch == 0) { /* wrapped: entries of epoch 1 may be four billion generations old */
        memset(m->ents, 0, sizeof(memo_ent) << MEMO_BITS);
        m->epoch = 1;
    }
}

void *kz_e_memo_find(kz_ememo *m, uint32_t path, const char *s, size_t len, bool *none)
{
    *none = false;
    if (len > MEMO_VAL)
        return NULL;
    uint64_t h = kz_e_hash(s, len) ^ ((uint64_t)path * 0x9e3779b97f4a7c15ull);
    memo_ent *x = &m->ents[h >> (64 - MEMO_BITS)];
    if (x->epoch == m->epoch && x->path == path && x->len == len && memcmp(x->v, s, len) == 0) {
        *none = true;
    }
    return x;
}

void kz_e_memo_put(kz_ememo *m, void *slot, uint32_t path, const char *s, size_t len)
{
    memo_ent *x = slot;
    x->epoch = m->epoch;
    x->path = path;
    x->len = (uint16_t)len;
    memcpy(x->v, s, len);
}
