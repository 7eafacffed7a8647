/*
 * kizuna taxii client, the HTTP layer: one libcurl easy handle per client (so connections
 * are kept alive between pages), the TAXII headers on every request, errors that say what
 * was asked and what came back, and retries with exponential back-off for idempotent
 * requests (GET) on connection failures, 5xx, 408 and 429.
 *
 * Invariants: a request only ever goes to the base URL's origin (credentials cannot leak to
 * a URL taken from a response); redirects are not followed; bodies are bounded by
 * max_response. Not here: TAXII resources and paging (client_api.c), files (client_cursor.c,
 * outbox.c). POSTs are not retried: delivery guarantees belong to the outbox.
 */
#include "client_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct kz_taxii_client {
    CURL *h;
    char *base;   /* ends with '/' */
    char *origin; /* scheme://authority, no trailing '/' */
    char *user, *password, *bearer, *cacert, *agent;
    bool insecure;
    long connect_timeout_ms, timeout_ms, retry_base_ms;
    int retries;
    size_t max_response;
    size_t requests;
    kz_taxii_error err;
};

void kz_tc_seterr(kz_taxii_error *e, kz_taxii_errkind kind, int http_status, const char *fmt, ...)
{
    if (!e)
        return;
    e->kind = kind;
    e->http_status = http_status;
    e->title[0] = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

kz_taxii_error *kz_tc_err(kz_taxii_client *c)
{
    return &c->err;
}

const kz_taxii_error *kz_taxii_client_error(const kz_taxii_client *c)
{
    return &c->err;
}

size_t kz_taxii_client_requests(const kz_taxii_client *c)
{
    return c->requests;
}

bool kz_taxii_error_transient(const kz_taxii_error *e)
{
    if (e->kind == KZ_TAXII_E_NETWORK)
        return true;
    if (e->kind == KZ_TAXII_E_HTTP)
        return e->http_status >= 500 || e->http_status == 408 || e->http_status == 429;
    return false;
}

void kz_tc_resp_free(kz_tc_resp *r)
{
    kz_buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

/* Length of "scheme://authority" in url, or 0 when url is not an http(s) URL or carries
 * credentials (user:password@ would bypass the options and end up in logs). */
static size_t origin_len(const char *url)
{
    size_t s;
    if (strncasecmp(url, "http://", 7) == 0)
        s = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        s = 8;
    else
        return 0;
    size_t a = strcspn(url + s, "/?#");
    if (a == 0)
        return 0;
    if (memchr(url + s, '@', a))
        return 0;
    for (size_t i = s; i < s + a; i++)
        if (isspace((unsigned char)url[i]) || (unsigned char)url[i] < 0x20)
            return 0;
    return s + a;
}

static char *dupopt(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

kz_taxii_client *kz_taxii_client_new(const char *base_url, const kz_taxii_client_opts *opts,
                                     kz_taxii_error *err)
{
    kz_taxii_client_opts none = {0};
    if (!opts)
        opts = &none;
    size_t ol = base_url ? origin_len(base_url) : 0;
    if (!ol) {
        kz_tc_seterr(err, KZ_TAXII_E_USAGE, 0,
                     "'%s' is not an http:// or https:// URL with a host (credentials go in "
                     "the options, never in the URL)",
                     base_url ? base_url : "(null)");
        return NULL;
    }
    if ((opts->user != NULL) != (opts->password != NULL) || (opts->user && opts->token)) {
        kz_tc_seterr(err, KZ_TAXII_E_USAGE, 0, "give a user with a password, or a token, not both");
        return NULL;
    }
    kz_taxii_client *c = calloc(1, sizeof *c);
    if (!c) {
        kz_tc_seterr(err, KZ_TAXII_E_NOMEM, 0, "out of memory");
        return NULL;
    }
    bool oom = false;
    size_t bl = strcspn(base_url, "?#");
    c->base = malloc(bl + 2);
    c->origin = malloc(ol + 1);
    if (c->base && c->origin) {
        memcpy(c->base, base_url, bl);
        if (bl == ol || base_url[bl - 1] != '/')
            c->base[bl++] = '/';
        c->base[bl] = 0;
        memcpy(c->origin, base_url, ol);
        c->origin[ol] = 0;
    } else {
        oom = true;
    }
    c->user = dupopt(opts->user, &oom);
    c->password = dupopt(opts->password, &oom);
    c->cacert = dupopt(opts->cacert, &oom);
    c->agent = dupopt(opts->user_agent ? opts->user_agent : KZ_TAXII_USER_AGENT, &oom);
    if (opts->token) {
        size_t n = strlen(opts->token) + 32;
        c->bearer = malloc(n);
        if (c->bearer)
            snprintf(c->bearer, n, "Authorization: Bearer %s", opts->token);
        else
            oom = true;
    }
    c->insecure = opts->insecure;
    c->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 120000;
    c->retries = opts->retries < 0 ? 0 : opts->retries == 0 ? 3 : opts->retries;
    c->retry_base_ms = opts->retry_base_ms > 0 ? opts->retry_base_ms : 250;
    c->max_response = opts->max_response ? opts->max_response : (size_t)256 << 20;
    if (!oom)
        c->h = curl_easy_init();
    if (oom || !c->h) {
        kz_tc_seterr(err, KZ_TAXII_E_NOMEM, 0, "out of memory (or libcurl failed to start)");
        kz_taxii_client_free(c);
        return NULL;
    }
    return c;
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

void kz_taxii_client_free(kz_taxii_client *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    free(c->base);
    free(c->origin);
    free(c->user);
    wipe_free(c->password);
    wipe_free(c->bearer);
    free(c->cacert);
    free(c->agent);
    free(c);
}

/* ---- URLs ------------------------------------------------------------------------------- */

static bool same_origin(const kz_taxii_client *c, const char *url)
{
    size_t ol = origin_len(url);
    return ol && ol == strlen(c->origin) && strncasecmp(url, c->origin, ol) == 0;
}

char *kz_tc_url(kz_taxii_client *c, const char *root, ...)
{
    kz_buf b;
    kz_buf_init(&b);
    if (!root || !*root) {
        kz_buf_puts(&b, c->base);
    } else if (strncasecmp(root, "http://", 7) == 0 || strncasecmp(root, "https://", 8) == 0) {
        if (!same_origin(c, root)) {
            kz_tc_seterr(&c->err, KZ_TAXII_E_USAGE, 0,
                         "refusing %s: the client only talks to %s (credentials stay with "
                         "the server they were given for)",
                         root, c->origin);
            return NULL;
        }
        kz_buf_puts(&b, root);
    } else if (root[0] == '/') {
        kz_buf_puts(&b, c->origin);
        kz_buf_puts(&b, root);
    } else {
        kz_buf_puts(&b, c->base);
        kz_buf_puts(&b, root);
    }
    if (b.len == 0 || b.data[b.len - 1] != '/')
        kz_buf_putc(&b, '/');
    va_list ap;
    va_start(ap, root);
    const char *seg;
    while ((seg = va_arg(ap, const char *)) != NULL) {
        char *e = curl_easy_escape(c->h, seg, 0);
        if (!e) {
            b.oom = true;
            break;
        }
        /* Segments that are whole words of the API ("objects", "status") escape to
         * themselves; ids and aliases are the ones this protects. */
        kz_buf_puts(&b, e);
        kz_buf_putc(&b, '/');
        curl_free(e);
    }
    va_end(ap);
    if (b.oom) {
        kz_buf_free(&b);
        kz_tc_seterr(&c->err, KZ_TAXII_E_NOMEM, 0, "out of memory");
        return NULL;
    }
    return kz_buf_take(&b);
}

char *kz_tc_query(kz_taxii_client *c, char *url, ...)
{
    if (!url)
        return NULL;
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_puts(&b, url);
    free(url);
    bool first = strchr(b.data ? b.data : "", '?') == NULL;
    va_list ap;
    va_start(ap, url);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        if (!v)
            continue;
        char *e = curl_easy_escape(c->h, v, 0);
        if (!e) {
            b.oom = true;
            break;
        }
        /* Keys are fixed ASCII like match[type]; TAXII servers expect the brackets as is. */
        kz_buf_printf(&b, "%c%s=%s", first ? '?' : '&', k, e);
        first = false;
        curl_free(e);
    }
    va_end(ap);
    if (b.oom) {
        kz_buf_free(&b);
        kz_tc_seterr(&c->err, KZ_TAXII_E_NOMEM, 0, "out of memory");
        return NULL;
    }
    return kz_buf_take(&b);
}

/* ---- the exchange ----------------------------------------------------------------------- */

typedef struct xfer {
    kz_tc_resp *r;
    size_t max;
    bool too_big;
} xfer;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    if (x->r->body.len + len > x->max) {
        x->too_big = true;
        return 0;
    }
    if (kz_buf_append(&x->r->body, p, len) < 0)
        return 0;
    return len;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    static const struct {
        const char *name;
        size_t off, cap;
    } want[] = {
        {"x-taxii-date-added-first", offsetof(kz_tc_resp, date_first), 40},
        {"x-taxii-date-added-last", offsetof(kz_tc_resp, date_last), 40},
        {"content-type", offsetof(kz_tc_resp, ctype), 160},
    };
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): forget the previous one's headers. */
        x->r->date_first[0] = x->r->date_last[0] = x->r->ctype[0] = 0;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t nl = (size_t)(colon - p);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (nl == strlen(want[i].name) && strncasecmp(p, want[i].name, nl) == 0)
            copy_value((char *)x->r + want[i].off, want[i].cap, colon + 1, len - nl - 1);
    return len;
}

static kz_taxii_errkind curl_kind(CURLcode rc)
{
    switch (rc) {
    case CURLE_OUT_OF_MEMORY:
        return KZ_TAXII_E_NOMEM;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return KZ_TAXII_E_USAGE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
        return KZ_TAXII_E_TLS;
    default:
        return KZ_TAXII_E_NETWORK;
    }
}

static bool is_taxii_type(const char *ct)
{
    static const char mt[] = "application/taxii+json";
    if (strncasecmp(ct, mt, sizeof mt - 1) != 0)
        return false;
    char next = ct[sizeof mt - 1];
    return next == 0 || next == ';' || next == ' ';
}

/* The TAXII error object's title and description, when the body is one. */
static void http_error(kz_taxii_client *c, const char *method, const char *url, const kz_tc_resp *r)
{
    const char *title = NULL, *desc = NULL;
    json_t *doc = r->body.len ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    if (json_is_object(doc)) {
        title = json_string_value(json_object_get(doc, "title"));
        desc = json_string_value(json_object_get(doc, "description"));
    }
    const char *hint = "";
    if (r->status == 401)
        hint = " (check the user and password or token)";
    else if (r->status == 403)
        hint = " (the account lacks the right for this operation)";
    else if (r->status == 404)
        hint = " (no such resource, or the account has no right on it)";
    kz_tc_seterr(&c->err, KZ_TAXII_E_HTTP, (int)r->status, "%s %s: HTTP %ld%s%s%s%s%s", method, url,
                 r->status, title ? ": " : "", title ? title : "", desc ? ": " : "",
                 desc ? desc : "", hint);
    if (title)
        snprintf(c->err.title, sizeof c->err.title, "%s", title);
    json_decref(doc);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static CURLcode setup(kz_taxii_client *c, const char *method, const char *url, const char *body,
                      size_t len, struct curl_slist *hdr, xfer *x, char *ebuf)
{
    CURL *h = c->h;
    curl_easy_reset(h);
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, ebuf);
    SET(CURLOPT_HTTPHEADER, hdr);
    SET(CURLOPT_USERAGENT, c->agent);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->cacert)
        SET(CURLOPT_CAINFO, c->cacert);
    if (c->insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->user) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, c->user);
        SET(CURLOPT_PASSWORD, c->password);
    }
    if (strcmp(method, "POST") == 0) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDS, body ? body : "");
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "GET") != 0) {
        SET(CURLOPT_CUSTOMREQUEST, method);
    }
#undef SET
    return rc;
}

int kz_tc_request(kz_taxii_client *c, const char *method, const char *url, const char *body,
                  size_t len, kz_tc_resp *r)
{
    bool idempotent = strcmp(method, "POST") != 0;
    if (!same_origin(c, url)) {
        kz_tc_seterr(&c->err, KZ_TAXII_E_USAGE, 0, "refusing %s: not on %s", url, c->origin);
        return -1;
    }
    struct curl_slist *hdr = NULL, *t;
    hdr = curl_slist_append(NULL, "Accept: " KZ_TAXII_MEDIA_TYPE);
    if (hdr && body && (t = curl_slist_append(hdr, "Content-Type: " KZ_TAXII_MEDIA_TYPE)))
        hdr = t;
    if (hdr && (t = curl_slist_append(hdr, "Expect:"))) /* no 100-continue round trip */
        hdr = t;
    if (hdr && c->bearer && (t = curl_slist_append(hdr, c->bearer)))
        hdr = t;
    if (!hdr) {
        kz_tc_seterr(&c->err, KZ_TAXII_E_NOMEM, 0, "out of memory");
        return -1;
    }
    int result = -1;
    long delay = c->retry_base_ms;
    for (int attempt = 0;; attempt++) {
        kz_tc_resp_free(r);
        kz_buf_init(&r->body);
        char ebuf[CURL_ERROR_SIZE] = "";
        xfer x = {r, c->max_response, false};
        CURLcode rc = setup(c, method, url, body, len, hdr, &x, ebuf);
        if (rc == CURLE_OK) {
            c->requests++;
            rc = curl_easy_perform(c->h);
        }
        if (rc != CURLE_OK) {
            if (x.too_big)
                kz_tc_seterr(&c->err, KZ_TAXII_E_PROTOCOL, 0,
                             "%s %s: the answer is larger than %zu bytes", method, url,
                             c->max_response);
            else
                kz_tc_seterr(&c->err, r->body.oom ? KZ_TAXII_E_NOMEM : curl_kind(rc), 0,
                             "%s %s: %s", method, url, ebuf[0] ? ebuf : curl_easy_strerror(rc));
        } else {
            curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &r->status);
            if (r->status >= 200 && r->status < 300) {
                if (r->body.len && !is_taxii_type(r->ctype)) {
                    kz_tc_seterr(&c->err, KZ_TAXII_E_PROTOCOL, (int)r->status,
                                 "%s %s: HTTP %ld with Content-Type '%s', not %s", method, url,
                                 r->status, r->ctype, KZ_TAXII_MEDIA_TYPE);
                } else {
                    c->err.kind = KZ_TAXII_OK;
                    c->err.http_status = (int)r->status;
                    c->err.title[0] = c->err.message[0] = 0;
                    result = 0;
                }
                break;
            }
            http_error(c, method, url, r);
        }
        if (!idempotent || attempt >= c->retries || !kz_taxii_error_transient(&c->err))
            break;
        /* Jitter (half to all of the delay) keeps sensors that lost the hub together from
         * retrying in step when it returns. */
        sleep_ms(delay / 2 + (long)randombytes_uniform((uint32_t)(delay / 2 + 1)));
        delay = delay * 2 > 10000 ? 10000 : delay * 2;
    }
    curl_slist_free_all(hdr);
    return result;
}

json_t *kz_tc_get_json(kz_taxii_client *c, const char *url, kz_tc_resp *r)
{
    if (kz_tc_request(c, "GET", url, NULL, 0, r) < 0)
        return NULL;
    json_error_t je;
    json_t *doc = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);
    if (!json_is_object(doc)) {
        kz_tc_seterr(&c->err, KZ_TAXII_E_PROTOCOL, (int)r->status,
                     "GET %s: the answer is not a JSON object%s%s", url, doc ? "" : ": ",
                     doc ? "" : je.text);
        json_decref(doc);
        return NULL;
    }
    return doc;
}
