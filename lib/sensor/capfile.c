/*
 * Sensor capture files read as a stream: pcap and pcapng split into packets from bytes that
 * arrive in pieces, so a capture that is still being written can be followed (`tail -F`).
 *
 * libpcap's offline reader treats a record cut by the end of the file as an error and cannot
 * resume after it; here a block that is not complete yet is simply left in the caller's
 * buffer until more bytes arrive. Invariants: a packet is handed on only when its whole
 * record (pcap) or block (pcapng) is present; the byte order, timestamp resolution and link
 * type come from the file's own headers (each pcapng section and interface block); records
 * that cannot be real (lengths past 64 MiB, a pcapng block length that is not a multiple of
 * 4 or disagrees with its trailer) make the stream corrupt, because nothing after them can be
 * trusted. Not done here: gzip'd captures, packet decoding (lib/telemetry), reading the file.
 */
#include <kizuna/sensor.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCK (64u << 20)
#define MAX_IFACES 256

typedef struct iface {
    int linktype;
    uint64_t units; /* timestamp ticks per second */
} iface;

struct kz_sensor_capfile {
    int format; /* 0: not known yet, 1: pcap, 2: pcapng */
    bool swap;
    bool corrupt;
    /* pcap */
    bool nano;
    int linktype;
    /* pcapng: the interfaces of the current section */
    iface ifs[MAX_IFACES];
    size_t nifs;
    uint64_t packets;
};

kz_sensor_capfile *kz_sensor_capfile_new(void)
{
    return calloc(1, sizeof(kz_sensor_capfile));
}

void kz_sensor_capfile_free(kz_sensor_capfile *c)
{
    free(c);
}

uint64_t kz_sensor_capfile_packets(const kz_sensor_capfile *c)
{
    return c->packets;
}

static uint32_t u32(const kz_sensor_capfile *c, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return c->swap ? __builtin_bswap32(v) : v;
}

static uint16_t u16(const kz_sensor_capfile *c, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return c->swap ? __builtin_bswap16(v) : v;
}

static int corrupt(kz_sensor_capfile *c, char *err, size_t errlen, const char *what)
{
    c->corrupt = true;
    if (err)
        snprintf(err, errlen, "%s", what);
    return -1;
}

/* ticks at `units` per second -> microseconds, without overflow for any real capture time */
static int64_t to_us(uint64_t ticks, uint64_t units)
{
    if (units == 1000000)
        return (int64_t)ticks;
    uint64_t sec = ticks / units, frac = ticks % units;
    long double us = (long double)frac * 1000000.0L / (long double)units;
    return (int64_t)(sec * 1000000u + (uint64_t)us);
}

static int pcap_header(kz_sensor_capfile *c, const uint8_t *b, char *err, size_t errlen)
{
    uint32_t m;
    memcpy(&m, b, 4);
    if (m == 0xa1b2c3d4u || m == 0xa1b23c4du) {
        c->swap = false;
    } else if (m == 0xd4c3b2a1u || m == 0x4d3cb2a1u) {
        c->swap = true;
        m = __builtin_bswap32(m);
    } else {
        return corrupt(c, err, errlen, "not a pcap or pcapng file");
    }
    c->nano = m == 0xa1b23c4du;
    c->linktype = (int)(u32(c, b + 20) & 0xffff); /* the upper bits carry FCS information */
    c->format = 1;
    return 0;
}

/* One pcap record at b (n bytes available): bytes used, 0 when incomplete, -1 when corrupt. */
static long pcap_record(kz_sensor_capfile *c, const uint8_t *b, size_t n, kz_sensor_capfile_fn fn,
                        void *ctx, char *err, size_t errlen)
{
    if (n < 16)
        return 0;
    uint32_t caplen = u32(c, b + 8), wirelen = u32(c, b + 12);
    if (caplen > MAX_BLOCK)
        return corrupt(c, err, errlen, "a packet record longer than 64 MiB");
    if (n < 16 + (size_t)caplen)
        return 0;
    uint64_t sec = u32(c, b), frac = u32(c, b + 4);
    int64_t ts = (int64_t)(sec * 1000000u + (c->nano ? frac / 1000 : frac));
    c->packets++;
    fn(ctx, c->linktype, b + 16, caplen, wirelen < caplen ? caplen : wirelen, ts);
    return 16 + (long)caplen;
}

/* if_tsresol (option 9) of an interface description block body */
static uint64_t idb_units(const kz_sensor_capfile *c, const uint8_t *opt, size_t n)
{
    uint64_t units = 1000000;
    while (n >= 4) {
        uint16_t code = u16(c, opt), len = u16(c, opt + 2);
        size_t padded = ((size_t)len + 3) & ~(size_t)3;
        if (code == 0 || 4 + padded > n)
            break;
        if (code == 9 && len >= 1) {
            uint8_t v = opt[4];
            unsigned e = v & 0x7f;
            if (v & 0x80)
                units = e < 63 ? (uint64_t)1 << e : units;
            else if (e <= 19) {
                units = 1;
                for (unsigned i = 0; i < e; i++)
                    units *= 10;
            }
        }
        opt += 4 + padded;
        n -= 4 + padded;
    }
    return units ? units : 1000000;
}

static long pcapng_block(kz_sensor_capfile *c, const uint8_t *b, size_t n, kz_sensor_capfile_fn fn,
                         void *ctx, char *err, size_t errlen)
{
    if (n < 12)
        return 0;
    uint32_t type;
    memcpy(&type, b, 4); /* 0x0A0D0D0A reads the same in both byte orders */
    if (type == 0x0a0d0d0au) {
        uint32_t bom;
        memcpy(&bom, b + 8, 4);
        if (bom == 0x1a2b3c4du)
            c->swap = false;
        else if (bom == 0x4d3c2b1au)
            c->swap = true;
        else
            return corrupt(c, err, errlen, "pcapng section header with a bad byte-order magic");
        c->nifs = 0;
    }
    type = u32(c, b);
    uint32_t len = u32(c, b + 4);
    if (len < 12 || len % 4 || len > MAX_BLOCK)
        return corrupt(c, err, errlen, "a pcapng block with an impossible length");
    if (n < len)
        return 0;
    if (u32(c, b + len - 4) != len)
        return corrupt(c, err, errlen, "a pcapng block whose trailer disagrees with its length");
    const uint8_t *body = b + 8;
    size_t blen = len - 12;
    if (type == 1) { /* interface description */
        if (blen < 8)
            return corrupt(c, err, errlen, "a short pcapng interface block");
        if (c->nifs < MAX_IFACES)
            c->ifs[c->nifs++] = (iface){u16(c, body), idb_units(c, body + 8, blen - 8)};
    } else if (type == 6 || type == 2) { /* enhanced packet, obsolete packet */
        if (blen < 20)
            return corrupt(c, err, errlen, "a short pcapng packet block");
        uint32_t ifid = type == 6 ? u32(c, body) : u16(c, body);
        uint64_t ticks = (uint64_t)u32(c, body + 4) << 32 | u32(c, body + 8);
        uint32_t caplen = u32(c, body + 12), wirelen = u32(c, body + 16);
        if (caplen > blen - 20)
            return corrupt(c, err, errlen, "a pcapng packet longer than its block");
        if (ifid >= c->nifs)
            return corrupt(c, err, errlen, "a pcapng packet of an undeclared interface");
        c->packets++;
        fn(ctx, c->ifs[ifid].linktype, body + 20, caplen, wirelen < caplen ? caplen : wirelen,
           to_us(ticks, c->ifs[ifid].units));
    } else if (type == 3) { /* simple packet: interface 0, no time */
        if (blen < 4 || c->nifs == 0)
            return corrupt(c, err, errlen, "a pcapng simple packet without an interface");
        uint32_t wirelen = u32(c, body);
        uint32_t caplen = wirelen < blen - 4 ? wirelen : (uint32_t)(blen - 4);
        c->packets++;
        fn(ctx, c->ifs[0].linktype, body + 4, caplen, wirelen, 0);
    }
    return (long)len;
}

long kz_sensor_capfile_feed(kz_sensor_capfile *c, const uint8_t *buf, size_t len,
                            kz_sensor_capfile_fn fn, void *ctx, char *err, size_t errlen)
{
    if (c->corrupt)
        return corrupt(c, err, errlen, "the capture is corrupt");
    size_t used = 0;
    if (c->format == 0) {
        if (len < 4)
            return 0;
        uint32_t m;
        memcpy(&m, buf, 4);
        if (m == 0x0a0d0d0au) {
            c->format = 2;
        } else {
            if (len < 24)
                return 0;
            if (pcap_header(c, buf, err, errlen) < 0)
                return -1;
            used = 24;
        }
    }
    for (;;) {
        long n = c->format == 1
                     ? pcap_record(c, buf + used, len - used, fn, ctx, err, errlen)
                     : pcapng_block(c, buf + used, len - used, fn, ctx, err, errlen);
        if (n < 0)
            return -1;
        if (n == 0)
            return (long)used;
        used += (size_t)n;
    }
}
