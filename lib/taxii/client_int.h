/* Shared between the TAXII client files (client*.c, outbox.c): the HTTP exchange and URL
 * building. Not a public interface. */
#ifndef KZ_TAXII_CLIENT_INT_H
#define KZ_TAXII_CLIENT_INT_H

#include <kizuna/taxii_client.h>

/* One HTTP answer. body is NUL-terminated once anything was received. */
typedef struct kz_tc_resp {
    kz_buf body;
    long status;
    char date_first[40], date_last[40];
    char ctype[160];
} kz_tc_resp;

void kz_tc_resp_free(kz_tc_resp *r);
void kz_tc_seterr(kz_taxii_error *e, kz_taxii_errkind kind, int http_status, const char *fmt, ...)
    KZ_PRINTF(4, 5);
kz_taxii_error *kz_tc_err(kz_taxii_client *c);

/* Send one request with the TAXII headers (GET retried per the client's options, POST
 * never). Returns 0 for a 2xx answer whose media type is TAXII, else -1 with the client's
 * error set (HTTP errors carry the TAXII error object's title and description). */
int kz_tc_request(kz_taxii_client *c, const char *method, const char *url, const char *body,
                  size_t len, kz_tc_resp *r);
/* kz_tc_request + parse the body as a JSON object. New reference or NULL. */
json_t *kz_tc_get_json(kz_taxii_client *c, const char *url, kz_tc_resp *r);

/* Absolute URL for `root` (absolute, '/'-path or relative to the base) with each of the
 * NULL-terminated path segments appended, percent-encoded, each followed by '/'. malloc'd,
 * or NULL with the client's error set (bad URL, other origin, out of memory). */
char *kz_tc_url(kz_taxii_client *c, const char *root, ...);
/* Append "?k=v&..." pairs (NULL-terminated, NULL values skipped) percent-encoded. Frees url
 * and returns a new string, or NULL (error set). */
char *kz_tc_query(kz_taxii_client *c, char *url, ...);

#endif
