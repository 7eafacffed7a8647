/*
 * Synthetic indicators for benchmarks and tests: a deterministic function of (seed, i), so a
 * benchmark can regenerate the value that hits indicator i without storing it. The mix is
 * the issue's: 40% addresses (3/4 IPv4), 5% CIDRs, 30% domains (a third "domain and its
 * subdomains"), 15% URLs, 10% hashes (SHA-256 and MD5). Not cryptographic; not for ids that
 * must be unpredictable.
 */
#include "engine_int.h"

#include <stdio.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void label(kz_buf *b, uint64_t r, int n)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < n; i++) {
        kz_buf_putc(b, al[r % 36]);
        r /= 36;
        if (!r)
            r = mix((uint64_t)i + 77);
    }
}

static void hexs(kz_buf *b, uint64_t r, int n)
{
    for (int i = 0; i < n; i++) {
        if (i % 16 == 0)
            r = mix(r + (uint64_t)i);
        kz_buf_putc(b, "0123456789abcdef"[r & 15]);
        r >>= 4;
    }
}

int kz_engine_gen_indicator(uint64_t seed, uint64_t i, kz_buf *out, kz_buf *value,
                            const char **kind)
{
    static const char *const tlds[] = {"com", "net", "org", "info", "io", "ru", "cn", "xyz"};
    uint64_t r = mix(seed * 0x100000001b3ull ^ mix(i));
    uint64_t r2 = mix(r), r3 = mix(r2);
    unsigned cls = (unsigned)(i % 100);
    kz_buf v, pat;
    kz_buf_init(&v);
    kz_buf_init(&pat);
    const char *k;
    if (cls < 30) {
        k = "ipv4";
        kz_buf_printf(&v, "%u.%u.%u.%u", (unsigned)(r >> 8 & 223) + 1, (unsigned)(r >> 16 & 255),
                      (unsigned)(r >> 24 & 255), (unsigned)(r >> 32 & 255));
        kz_buf_printf(&pat, "[ipv4-addr:value = '%s']", v.data);
    } else if (cls < 40) {
        k = "ipv6";
        kz_buf_printf(&v, "2001:db8:%x:%x:%x:%x:%x:%x", (unsigned)(r & 0xffff),
                      (unsigned)(r >> 16 & 0xffff), (unsigned)(r >> 32 & 0xffff),
                      (unsigned)(r >> 48 & 0xffff) | 1, (unsigned)(r2 & 0xffff) | 1,
                      (unsigned)(r2 >> 16 & 0xffff) | 1);
        kz_buf_printf(&pat, "[ipv6-addr:value = '%s']", v.data);
    } else if (cls < 45) {
        k = "cidr";
        unsigned pre = 16 + (unsigned)(r2 % 13); /* /16 .. /28 */
        uint32_t a = (uint32_t)(r >> 8) | 0x01000000u;
        uint32_t net = a & (pre ? ~0u << (32 - pre) : 0);
        kz_buf_printf(&v, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
        kz_buf_printf(&pat, "[ipv4-addr:value ISSUBSET '%u.%u.%u.%u/%u']", net >> 24,
                      net >> 16 & 255, net >> 8 & 255, net & 255, pre);
    } else if (cls < 75) {
        kz_buf dom;
        kz_buf_init(&dom);
        label(&dom, r2, 6 + (int)(r % 8));
        kz_buf_putc(&dom, '.');
        kz_buf_puts(&dom, tlds[r3 % 8]);
        if (cls < 55) {
            k = "suffix";
            kz_buf_puts(&v, "www.");
            kz_buf_puts(&v, dom.data);
            kz_buf_printf(&pat, "[domain-name:value = '%s' OR domain-name:value LIKE '%%.%s']",
                          dom.data, dom.data);
        } else {
            k = "domain";
            kz_buf_puts(&v, dom.data);
            kz_buf_printf(&pat, "[domain-name:value = '%s']", dom.data);
        }
        kz_buf_free(&dom);
    } else if (cls < 90) {
        k = "url";
        kz_buf_puts(&v, "http://");
        label(&v, r2, 8);
        kz_buf_printf(&v, ".%s/", tlds[r3 % 8]);
        label(&v, r3, 10);
        kz_buf_puts(&v, ".php?id=");
        label(&v, r, 6);
        kz_buf_printf(&pat, "[url:value = '%s']", v.data);
    } else if (cls < 97) {
        k = "sha256";
        hexs(&v, r2, 64);
        kz_buf_printf(&pat, "[file:hashes.'SHA-256' = '%s']", v.data);
    } else {
        k = "md5";
        hexs(&v, r2, 32);
        kz_buf_printf(&pat, "[file:hashes.MD5 = '%s']", v.data);
    }
    kz_uuid u;
    uint64_t a = mix(r3 ^ i), b = mix(a);
    memcpy(u.b, &a, 8);
    memcpy(u.b + 8, &b, 8);
    u.b[6] = (uint8_t)((u.b[6] & 0x0f) | 0x40);
    u.b[8] = (uint8_t)((u.b[8] & 0x3f) | 0x80);
    char us[37];
    kz_uuid_format(&u, us);
    kz_buf_reset(out);
    kz_buf_printf(out,
                  "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
                  "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
                  "\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"",
                  us);
    for (size_t j = 0; j < pat.len; j++) {
        if (pat.data[j] == '"' || pat.data[j] == '\\')
            kz_buf_putc(out, '\\');
        kz_buf_putc(out, pat.data[j]);
    }
    kz_buf_puts(out, "\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\","
                     "\"confidence\":80,\"created_by_ref\":"
                     "\"identity--5e1a3f4c-8a7b-4c6d-9e0f-1a2b3c4d5e6f\",\"object_marking_refs\":"
                     "[\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"]}");
    if (value) {
        kz_buf_reset(value);
        kz_buf_puts(value, v.data);
    }
    if (kind)
        *kind = k;
    bool oom = v.oom || pat.oom || out->oom;
    kz_buf_free(&v);
    kz_buf_free(&pat);
    return oom ? -1 : 0;
}
