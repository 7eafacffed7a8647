/*
 * libFuzzer target for the Suricata EVE JSON decoder: any input,
 * split into lines, must decode or be reported without crashing, and every string of every
 * record must lie inside the line it came from (the decoder promises no copies). A string
 * outside its line aborts, so the fuzzer reports it.
 */
#include <kizuna/telemetry.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lo, *hi;

static void in_line(kz_tel_str s)
{
    if (s.p && (s.p < lo || s.p + s.n > hi))
        abort();
}

static void on_rec(void *ctx, const kz_tel_record *r)
{
    (void)ctx;
    const kz_tel_str *all[] = {&r->uid, &r->dns_query, &r->http_method, &r->http_host,
                               &r->http_uri, &r->http_user_agent, &r->http_referrer,
                               &r->tls_sni, &r->ja3, &r->ja4, &r->x509_subject,
                               &r->x509_issuer, &r->file_md5, &r->file_name, &r->mail_from,
                               &r->mail_subject, &r->alert_signature};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        in_line(*all[i]);
    if (r->n_dns_answers > KZ_TEL_MAX_ANSWERS || r->n_mail_to > KZ_TEL_MAX_RCPT)
        abort();
    for (unsigned i = 0; i < r->n_dns_answers; i++)
        in_line(r->dns_answers[i]);
    for (unsigned i = 0; i < r->n_mail_to; i++)
        in_line(r->mail_to[i]);
}

static void on_bad(void *ctx, const kz_tel_malformed *m)
{
    (void)ctx;
    if (!m->detail || (unsigned)m->reason >= KZ_TEL_R_COUNT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    kz_tel_sink s = {on_rec, on_bad, NULL};
    kz_tel_eve *z = kz_tel_eve_new("fuzz.eve", &s);
    size_t i = 0;
    while (z && i <= size) {
        char *nl = memchr(buf + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (buf + i)) : size - i;
        lo = buf + i;
        hi = buf + i + n;
        kz_tel_eve_line(z, buf + i, n);
        i += n + 1;
    }
    kz_tel_eve_free(z);
    free(buf);
    return 0;
}
