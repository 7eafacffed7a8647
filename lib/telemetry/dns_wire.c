/*
 * DNS message decoding for the packet decoder (RFC 1035 wire format): the first question's
 * name and type, and the answer section's A/AAAA addresses and CNAME/NS/PTR/MX/DNAME names
 * as text.
 *
 * Invariants: every read is bounds-checked against the message; a compression pointer must
 * point strictly before the label that holds it, which makes loops impossible (and the jump
 * count is capped as well); names longer than 255 bytes are malformed. Output goes only into
 * the caller's scratch; when scratch runs out, further answers are dropped and counted.
 * Not done: other sections (authority, additional), TXT and other record types, EDNS.
 */
#include "pkt_internal.h"

#include <string.h>

#define MAX_JUMPS 32

typedef struct out {
    char *p;
    size_t used, cap;
} out;

/* Decode the name at *off into o (dotted text, no trailing dot); *off moves past it in the
 * message (not past pointer targets). Returns 0, or -1 with *why. */
static int name(const uint8_t *m, size_t n, size_t *off, out *o, kz_tel_str *res,
                kz_tel_reason *why)
{
    size_t pos = *off, start_used = o ? o->used : 0, total = 0;
    size_t limit = pos; /* a pointer must point before this */
    int jumps = 0;
    bool jumped = false;
    for (;;) {
        if (pos >= n)
            goto bad;
        uint8_t len = m[pos];
        if (len == 0) {
            pos++;
            break;
        }
        if ((len & 0xC0) == 0xC0) {
            if (pos + 1 >= n)
                goto bad;
            size_t target = (size_t)(len & 0x3F) << 8 | m[pos + 1];
            if (target >= limit || ++jumps > MAX_JUMPS) {
                *why = KZ_TEL_R_DNS_NAME_LOOP;
                return -1;
            }
            if (!jumped)
                *off = pos + 2;
            jumped = true;
            pos = target;
            limit = target;
            continue;
        }
        if (len & 0xC0)
            goto bad; /* 0x40/0x80: extended label types, obsolete */
        if (pos + 1 + len > n)
            goto bad;
        total += (size_t)len + 1;
        if (total > 255)
            goto bad;
        if (o) {
            size_t need = (o->used > start_used ? 1 : 0) + len;
            if (o->used + need + 1 > o->cap) {
                *why = KZ_TEL_R_COUNT; /* out of scratch: not the message's fault */
                return -1;
            }
            if (o->used > start_used)
                o->p[o->used++] = '.';
            memcpy(o->p + o->used, m + pos + 1, len);
            o->used += len;
        }
        pos += 1 + (size_t)len;
        if (!jumped)
            limit = pos;
    }
    if (!jumped)
        *off = pos;
    if (res && o)
        *res = (kz_tel_str){o->p + start_used, (uint32_t)(o->used - start_used)};
    return 0;
bad:
    *why = KZ_TEL_R_DNS_MALFORMED;
    return -1;
}

static void add_answer(kz_tel_record *r, kz_tel_str s)
{
    if (r->n_dns_answers < KZ_TEL_MAX_ANSWERS)
        r->dns_answers[r->n_dns_answers++] = s;
    else
        r->n_dropped++;
}

/* Remember a further name (another question, an UPDATE record's owner) once. */
static void add_extra(kz_tel_dns_extra *x, kz_tel_str s, uint16_t type)
{
    for (unsigned i = 0; i < x->n; i++)
        if (x->name[i].n == s.n && memcmp(x->name[i].p, s.p, s.n) == 0)
            return;
    if (x->n < KZ_TEL_DNS_EXTRA) {
        x->name[x->n] = s;
        x->type[x->n++] = type;
    }
}

int kz_tel_dns_message(const uint8_t *m, size_t n, kz_tel_record *r, kz_tel_dns_extra *extra,
                       char *scratch, size_t cap, kz_tel_reason *why)
{
    extra->n = 0;
    if (n < 12) {
        *why = KZ_TEL_R_DNS_MALFORMED;
        return -1;
    }
    out o = {scratch, 0, cap};
    bool qr = m[2] & 0x80;
    unsigned opcode = (m[2] >> 3) & 15;
    unsigned qd = (unsigned)m[4] << 8 | m[5], an = (unsigned)m[6] << 8 | m[7];
    unsigned ns = (unsigned)m[8] << 8 | m[9];
    size_t off = 12;
    r->dns_response = qr;
    for (unsigned i = 0; i < qd; i++) {
        kz_tel_str q;
        bool keep = i <= KZ_TEL_DNS_EXTRA;
        if (keep && o.used)
            o.used++; /* keep names apart */
        size_t at = off;
        if (name(m, n, &off, keep ? &o : NULL, &q, why)) {
            if (*why != KZ_TEL_R_COUNT)
                return -1;
            keep = false; /* out of scratch: skip the name */
            off = at;
            if (name(m, n, &off, NULL, NULL, why))
                return -1;
        }
        if (off + 4 > n) {
            *why = KZ_TEL_R_DNS_MALFORMED;
            return -1;
        }
        uint16_t qt = (uint16_t)(m[off] << 8 | m[off + 1]);
        if (i == 0 && keep) {
            r->dns_query = q;
            r->dns_qtype = qt;
        } else if (keep && !(q.n == r->dns_query.n && r->dns_query.p &&
                             memcmp(q.p, r->dns_query.p, q.n) == 0)) {
            add_extra(extra, q, qt);
        }
        off += 4;
    }
    /* UPDATE (RFC 2136): the names being changed are the owners in the prerequisite and
     * update sections; they are what the message is about */
    bool update = opcode == 5;
    unsigned rrs = update ? an + ns : (qr ? an : 0);
    for (unsigned i = 0; i < rrs; i++) {
        kz_tel_str owner = {0};
        bool want_owner = update || (i == 0 && qd == 0);
        if (want_owner && o.used)
            o.used++;
        size_t at = off;
        if (name(m, n, &off, want_owner ? &o : NULL, &owner, why)) {
            if (*why != KZ_TEL_R_COUNT)
                return -1;
            want_owner = false;
            off = at;
            if (name(m, n, &off, NULL, NULL, why))
                return -1;
        }
        if (off + 10 > n) {
            *why = KZ_TEL_R_DNS_MALFORMED;
            return -1;
        }
        uint16_t type = (uint16_t)(m[off] << 8 | m[off + 1]);
        size_t rdlen = (size_t)m[off + 8] << 8 | m[off + 9];
        off += 10;
        if (off + rdlen > n) {
            *why = KZ_TEL_R_DNS_MALFORMED;
            return -1;
        }
        if (want_owner && owner.p) {
            if (update)
                add_extra(extra, owner, type);
            else if (!r->dns_query.p) { /* mDNS answers carry no question */
                r->dns_query = owner;
                r->dns_qtype = type;
            }
        }
        size_t rd = off;
        off += rdlen;
        if (update || rdlen == 0)
            continue; /* UPDATE records are changes, not answers */
        bool addr = (type == 1 && rdlen == 4) || (type == 28 && rdlen == 16);
        bool named = type == 5 || type == 2 || type == 12 || type == 39 || type == 15;
        if (!addr && !named)
            continue; /* TXT, SOA, ...: not kept */
        if (r->n_dns_answers >= KZ_TEL_MAX_ANSWERS) {
            r->n_dropped++; /* no room in the record: do not spend scratch on it */
            continue;
        }
        if (addr) {
            if (o.used + 48 > o.cap) {
                r->n_dropped++;
                continue;
            }
            if (o.used)
                o.used++;
            char *dst = o.p + o.used;
            size_t l = kz_tel_ip_text(type == 1 ? 4 : 6, m + rd, dst);
            o.used += l;
            add_answer(r, (kz_tel_str){dst, (uint32_t)l});
        } else {
            size_t noff = type == 15 ? rd + 2 : rd;
            if (noff >= off) {
                *why = KZ_TEL_R_DNS_MALFORMED;
                return -1;
            }
            kz_tel_str s;
            if (o.used)
                o.used++;
            if (name(m, off, &noff, &o, &s, why)) {
                if (*why == KZ_TEL_R_COUNT) {
                    r->n_dropped++;
                    continue;
                }
                return -1;
            }
            add_answer(r, s);
        }
    }
    return 0;
}
