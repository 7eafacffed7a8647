/*
 * Flow table for the packet decoder: packets and bytes per 5-tuple in both directions,
 * bounded in size, with idle expiry in packet time.
 *
 * Layout: a fixed array of cap entries (about 112 bytes each: 65536 flows = 7 MB) allocated
 * once, a power-of-two bucket array of int32 chain heads, and an LRU list threaded through
 * the entries by index. Lookups hash the endpoints symmetrically so both directions of a
 * connection meet in one entry. Invariants: the LRU head is the most recently seen flow, so
 * expiry only looks at the tail; when the table is full the tail is emitted and reused, so
 * memory never grows. Packet time going backwards (merged captures) never expires a flow
 * early: a packet older than a flow's last packet expires nothing, and a flow's last time
 * only moves forward (such flows may then leave a little late, at the latest at flush).
 */
#include "pkt_internal.h"

#include <stdlib.h>
#include <string.h>

int kz_tel_flowtab_init(kz_tel_flowtab *t, uint32_t cap, int64_t idle_us, kz_tel_flow_emit emit,
                        void *ctx)
{
    memset(t, 0, sizeof *t);
    if (cap < 16)
        cap = 16;
    uint32_t nb = 16;
    while (nb < cap && nb < (1u << 30))
        nb <<= 1;
    t->v = calloc(cap, sizeof *t->v);
    t->bucket = malloc(nb * sizeof *t->bucket);
    if (!t->v || !t->bucket) {
        free(t->v);
        free(t->bucket);
        t->v = NULL;
        t->bucket = NULL;
        return -1;
    }
    for (uint32_t i = 0; i < nb; i++)
        t->bucket[i] = -1;
    for (uint32_t i = 0; i < cap; i++)
        t->v[i].hnext = i + 1 < cap ? (int32_t)(i + 1) : -1;
    t->cap = cap;
    t->nbuckets = nb;
    t->free_head = 0;
    t->lru_head = t->lru_tail = -1;
    t->idle_us = idle_us;
    t->emit = emit;
    t->ctx = ctx;
    return 0;
}

void kz_tel_flowtab_free(kz_tel_flowtab *t)
{
    free(t->v);
    free(t->bucket);
    memset(t, 0, sizeof *t);
}

/* One endpoint (address and port), four bytes per multiply: a byte-at-a-time hash was a
 * chain of up to 32 dependent multiplies per packet. */
static uint32_t mix(const uint8_t *p, size_t n, uint16_t port)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ port;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
    }
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The same value for both directions of a connection. */
static uint32_t khash(const kz_tel_flowkey *k)
{
    size_t al = k->family == 6 ? 16 : 4;
    uint32_t a = mix(k->src, al, k->sport);
    uint32_t b = mix(k->dst, al, k->dport);
    uint32_t h = (a ^ b) + (a + b) * 31u + k->proto;
    return h ^ (h >> 15);
}

/* 0: same direction, 1: reverse, -1: different flow. */
static int kmatch(const kz_tel_flowkey *f, const kz_tel_flowkey *k)
{
    if (f->family != k->family || f->proto != k->proto)
        return -1;
    size_t al = k->family == 6 ? 16 : 4;
    if (f->sport == k->sport && f->dport == k->dport && memcmp(f->src, k->src, al) == 0 &&
        memcmp(f->dst, k->dst, al) == 0)
        return 0;
    if (f->sport == k->dport && f->dport == k->sport && memcmp(f->src, k->dst, al) == 0 &&
        memcmp(f->dst, k->src, al) == 0)
        return 1;
    return -1;
}

static void lru_unlink(kz_tel_flowtab *t, int32_t i)
{
    kz_tel_flow *f = &t->v[i];
    if (f->lprev >= 0)
        t->v[f->lprev].lnext = f->lnext;
    else
        t->lru_head = f->lnext;
    if (f->lnext >= 0)
        t->v[f->lnext].lprev = f->lprev;
    else
        t->lru_tail = f->lprev;
}

static void lru_push(kz_tel_flowtab *t, int32_t i)
{
    kz_tel_flow *f = &t->v[i];
    f->lprev = -1;
    f->lnext = t->lru_head;
    if (t->lru_head >= 0)
        t->v[t->lru_head].lprev = i;
    t->lru_head = i;
    if (t->lru_tail < 0)
        t->lru_tail = i;
}

/* Emit entry i and return it to the free list. */
static void retire(kz_tel_flowtab *t, int32_t i)
{
    kz_tel_flow *f = &t->v[i];
    if (t->emit)
        t->emit(t->ctx, f);
    uint32_t b = khash(&f->k) & (t->nbuckets - 1);
    int32_t *pp = &t->bucket[b];
    while (*pp >= 0 && *pp != i)
        pp = &t->v[*pp].hnext;
    if (*pp == i)
        *pp = f->hnext;
    lru_unlink(t, i);
    f->used = false;
    f->hnext = t->free_head;
    t->free_head = i;
    t->n--;
}

void kz_tel_flowtab_packet(kz_tel_flowtab *t, const kz_tel_flowkey *k, uint32_t bytes,
                           int64_t ts_us, uint64_t pktno)
{
    if (!t->v)
        return;
    /* idle flows, oldest first, in packet time */
    while (t->lru_tail >= 0 && t->v[t->lru_tail].last_us + t->idle_us < ts_us)
        retire(t, t->lru_tail);
    uint32_t b = khash(k) & (t->nbuckets - 1);
    for (int32_t i = t->bucket[b]; i >= 0; i = t->v[i].hnext) {
        int dir = kmatch(&t->v[i].k, k);
        if (dir < 0)
            continue;
        kz_tel_flow *f = &t->v[i];
        f->pkts[dir]++;
        f->bytes[dir] += bytes;
        if (ts_us > f->last_us)
            f->last_us = ts_us;
        if (t->lru_head != i) {
            lru_unlink(t, i);
            lru_push(t, i);
        }
        return;
    }
    if (t->free_head < 0) {
        t->evicted++;
        retire(t, t->lru_tail);
    }
    int32_t i = t->free_head;
    kz_tel_flow *f = &t->v[i];
    t->free_head = f->hnext;
    /* every field set here (lprev/lnext by lru_push): no memset, which gcc writes as a
     * slow `rep stos` */
    f->k = *k;
    f->first_us = f->last_us = ts_us;
    f->first_pkt = pktno;
    f->pkts[0] = 1;
    f->pkts[1] = 0;
    f->bytes[0] = bytes;
    f->bytes[1] = 0;
    f->used = true;
    f->hnext = t->bucket[b];
    t->bucket[b] = i;
    lru_push(t, i);
    t->n++;
}

void kz_tel_flowtab_flush(kz_tel_flowtab *t)
{
    if (!t->v)
        return;
    /* oldest first, so records come out in the order the flows went quiet */
    while (t->lru_tail >= 0)
        retire(t, t->lru_tail);
}
