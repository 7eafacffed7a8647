/*
 * taxii/media: content negotiation (TAXII 2.1 section 1.6.8 and 3.1) and error objects.
 *
 * A request is acceptable when its Accept header lists application/taxii+json with no version
 * or version=2.1 (and no q=0); wildcards are not enough, since the spec requires every request
 * to carry a TAXII media range. A POST body must be labelled application/taxii+json (version
 * absent or 2.1); a charset parameter is tolerated. Parameter names and media types compare
 * case-insensitively as RFC 7231 says; values are compared exactly after trimming quotes.
 */
#include <kizuna/taxii.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *trim_end(const char *b, const char *e)
{
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return e;
}

static bool eq_ci(const char *b, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(e - b) == n && strncasecmp(b, lit, n) == 0;
}

/* One media range [b, e): type/subtype followed by ;param=value pairs. */
static bool range_ok(const char *b, const char *e, bool allow_q)
{
    b = skip_ws(b, e);
    if (b >= e)
        return false;
    const char *semi = memchr(b, ';', (size_t)(e - b));
    const char *te = trim_end(b, semi ? semi : e);
    if (!eq_ci(b, te, "application/taxii+json"))
        return false;
    const char *p = semi;
    while (p && p < e) {
        p = skip_ws(p + 1, e);
        if (p >= e)
            break;
        const char *next = memchr(p, ';', (size_t)(e - p));
        const char *pe = trim_end(p, next ? next : e);
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (!eq)
            return false;
        const char *ne = trim_end(p, eq);
        const char *v = skip_ws(eq + 1, pe), *ve = pe;
        if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        if (eq_ci(p, ne, "version")) {
            if (!((size_t)(ve - v) == 3 && memcmp(v, "2.1", 3) == 0))
                return false;
        } else if (eq_ci(p, ne, "q")) {
            if (!allow_q)
                return false;
            double q = strtod(v, NULL);
            if (q <= 0)
                return false;
        }
        /* other parameters (charset) carry no meaning for JSON and are tolerated */
        p = next;
    }
    return true;
}

bool kz_taxii_accept_ok(const char *accept)
{
    if (!accept)
        return false;
    const char *p = accept, *end = accept + strlen(accept);
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        if (range_ok(p, e, true))
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

bool kz_taxii_content_type_ok(const char *ct)
{
    if (!ct || strchr(ct, ','))
        return false;
    return range_ok(ct, ct + strlen(ct), false);
}

char *kz_taxii_error_json(int http_status, const char *title, const char *description)
{
    char st[16];
    snprintf(st, sizeof st, "%d", http_status);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "title", json_string(title ? title : "Error"));
    if (description)
        json_object_set_new(o, "description", json_string(description));
    json_object_set_new(o, "http_status", json_string(st));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
