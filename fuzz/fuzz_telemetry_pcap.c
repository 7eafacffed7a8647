/*
 * libFuzzer target for the packet decoder: the first byte picks the link type (Ethernet,
 * Linux cooked, raw IP, loopback), then the input is cut into packets by 2-byte big-endian
 * lengths. Every packet must decode or be reported; every record string must be readable
 * (each byte is touched, so AddressSanitizer sees any stray pointer) and counts must stay
 * within their arrays. A small flow table makes eviction and expiry happen too.
 */
#include <kizuna/telemetry.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink_sum;

static void touch(kz_tel_str s)
{
    for (uint32_t i = 0; s.p && i < s.n; i++)
        sink_sum += (unsigned char)s.p[i];
}

static void on_rec(void *ctx, const kz_tel_record *r)
{
    (void)ctx;
    if (r->n_dns_answers > KZ_TEL_MAX_ANSWERS)
        abort();
    touch(r->dns_query);
    for (unsigned i = 0; i < r->n_dns_answers; i++)
        touch(r->dns_answers[i]);
    touch(r->http_method);
    touch(r->http_host);
    touch(r->http_uri);
    touch(r->http_user_agent);
    touch(r->http_referrer);
    touch(r->tls_sni);
    touch(r->ja3);
    touch(r->ja3_string);
    touch(r->ja3s);
    touch(r->ja4);
    touch(r->tls_version);
    if (r->ja3.p && r->ja3.n != 32)
        abort();
}

static void on_bad(void *ctx, const kz_tel_malformed *m)
{
    (void)ctx;
    if ((unsigned)m->reason >= KZ_TEL_R_COUNT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW, DLT_NULL};
    if (size < 1)
        return 0;
    int lt = links[data[0] & 3];
    kz_tel_sink s = {on_rec, on_bad, NULL};
    kz_tel_pcap_opts o = {.flow_table_size = 16, .flow_idle_s = 1};
    kz_tel_pcap *p = kz_tel_pcap_new("fuzz.pcap", &s, &o);
    size_t i = 1;
    int64_t ts = 0;
    while (p && i + 2 <= size) {
        size_t n = (size_t)data[i] << 8 | data[i + 1];
        i += 2;
        if (n > size - i)
            n = size - i;
        /* a copy of exactly n bytes, so reading past the packet is caught */
        uint8_t *pkt = malloc(n ? n : 1);
        if (!pkt)
            break;
        memcpy(pkt, data + i, n);
        kz_tel_pcap_packet(p, lt, pkt, (uint32_t)n, (uint32_t)n, ts);
        free(pkt);
        ts += 700000;
        i += n;
    }
    if (p)
        kz_tel_pcap_flush(p);
    kz_tel_pcap_free(p);
    return 0;
}
