/*
 * HTTP/1.x request heads seen in one TCP segment: the request line (method, URI) and the
 * Host, User-Agent and Referer headers, on any port.
 *
 * Invariants: only payloads that start with a known method followed by a space count, so
 * binary protocols are not mistaken for HTTP; everything points into the payload; headers
 * past the end of the segment are simply not seen (no reassembly).
 */
#include "pkt_internal.h"

#include <string.h>

static const struct {
    const char *m;
    uint8_t n;
} methods[] = {{"GET", 3},     {"POST", 4},     {"HEAD", 4},     {"PUT", 3},
               {"DELETE", 6},  {"OPTIONS", 7},  {"CONNECT", 7},  {"TRACE", 5},
               {"PATCH", 5},   {"PROPFIND", 8}, {"PROPPATCH", 9}, {"MKCOL", 5},
               {"COPY", 4},    {"MOVE", 4},     {"LOCK", 4},     {"UNLOCK", 6}};

static bool hname(const uint8_t *p, size_t n, const char *name)
{
    size_t l = strlen(name);
    if (n != l)
        return false;
    for (size_t i = 0; i < l; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        if (c != (uint8_t)name[i])
            return false;
    }
    return true;
}

static kz_tel_str trim(const uint8_t *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (kz_tel_str){(const char *)p, (uint32_t)n};
}

int kz_tel_http_request(const uint8_t *p, size_t n, kz_tel_record *r)
{
    if (n < 5 || p[0] < 'A' || p[0] > 'Z')
        return 0;
    size_t ml = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (n > methods[i].n && p[methods[i].n] == ' ' &&
            memcmp(p, methods[i].m, methods[i].n) == 0) {
            ml = methods[i].n;
            break;
        }
    if (!ml)
        return 0;
    r->http_method = (kz_tel_str){(const char *)p, (uint32_t)ml};
    const uint8_t *end = p + n;
    const uint8_t *u = p + ml + 1;
    const uint8_t *eol = memchr(u, '\n', (size_t)(end - u));
    const uint8_t *le = eol ? eol : end;
    if (le > u && le[-1] == '\r')
        le--;
    /* the URI runs to the last space before " HTTP/x.y" (URIs from broken clients may hold
     * spaces; methods.pcap has some) */
    const uint8_t *ue = le;
    for (const uint8_t *q = le; q > u; q--)
        if (q[-1] == ' ' && (size_t)(le - q) >= 5 && memcmp(q, "HTTP/", 5) == 0) {
            ue = q - 1;
            break;
        }
    r->http_uri = (kz_tel_str){(const char *)u, (uint32_t)(ue - u)};
    const uint8_t *h = eol ? eol + 1 : end;
    while (h < end) {
        const uint8_t *e = memchr(h, '\n', (size_t)(end - h));
        const uint8_t *l = e ? e : end;
        size_t ln = (size_t)(l - h);
        if (ln && h[ln - 1] == '\r')
            ln--;
        if (ln == 0)
            break; /* end of the head */
        const uint8_t *colon = memchr(h, ':', ln);
        if (colon) {
            size_t nn = (size_t)(colon - h);
            kz_tel_str v = trim(colon + 1, ln - nn - 1);
            if (hname(h, nn, "host"))
                r->http_host = v;
            else if (hname(h, nn, "user-agent"))
                r->http_user_agent = v;
            else if (hname(h, nn, "referer"))
                r->http_referrer = v;
        }
        if (!e)
            break;
        h = e + 1;
    }
    return 1;
}
