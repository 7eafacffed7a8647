/*
 * Shared by the line-oriented telemetry fuzz targets (Zeek, EVE): the input, split into
 * lines, must decode or be reported without crashing, and every string of every record must
 * lie inside the line it came from (the decoders promise no copies). A string outside its
 * line aborts, so the fuzzer reports it. Each target supplies only its decoder.
 */
#ifndef FUZZ_TEL_LINES_H
#define FUZZ_TEL_LINES_H

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

/* Feed data line by line to `line(dec, ...)`; dec comes from the target's constructor. */
static void fuzz_tel_lines(const uint8_t *data, size_t size, void *dec,
                           int (*line)(void *dec, char *line, size_t len))
{
    char *buf = malloc(size + 1);
    if (!buf)
        return;
    memcpy(buf, data, size);
    buf[size] = 0;
    size_t i = 0;
    while (dec && i <= size) {
        char *nl = memchr(buf + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (buf + i)) : size - i;
        lo = buf + i;
        hi = buf + i + n;
        line(dec, buf + i, n);
        i += n + 1;
    }
    free(buf);
}

#endif
