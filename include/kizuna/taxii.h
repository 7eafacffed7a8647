/*
 * kizuna taxii: TAXII 2.1 protocol logic with no HTTP library in it. A request (method, path,
 * decoded query parameters, the three headers that matter and the body) goes in; a response
 * (status, body, the X-TAXII-Date-Added-* values, whether to challenge) comes out. The HTTP
 * server (src/cmd_hub.c) only moves bytes.
 *
 * Pieces usable on their own: media-type negotiation (Accept / Content-Type), filter parsing
 * and validation (added_after, limit, next, match[id|type|version|spec_version]), the
 * stateless `next` cursor, and TAXII error objects.
 *
 * Ownership: responses own their body (free with kz_taxii_response_free). Thread-safety: a
 * kz_taxii_server may handle requests from many threads at once. The library never logs:
 * the response says which account made the request so the caller can.
 */
#ifndef KIZUNA_TAXII_H
#define KIZUNA_TAXII_H

#include <kizuna/policy.h>
#include <kizuna/store.h>

#define KZ_TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"

/* ---- content negotiation ---------------------------------------------------------------- */

/* Whether an Accept header admits application/taxii+json (no version, or version=2.1), with
 * q > 0. NULL or empty is not acceptable: TAXII requires a TAXII media range. */
bool kz_taxii_accept_ok(const char *accept);
/* Whether a request Content-Type is application/taxii+json (no version or 2.1). */
bool kz_taxii_content_type_ok(const char *content_type);

/* ---- errors ----------------------------------------------------------------------------- */

/* A TAXII error object {"title", "description", "http_status"} as a malloc'd JSON string. */
char *kz_taxii_error_json(int http_status, const char *title, const char *description);

/* ---- filters and cursors ---------------------------------------------------------------- */

typedef struct kz_taxii_param {
    const char *key;
    const char *value;
} kz_taxii_param;

/* Which endpoint a filter is for: decides which parameters apply. */
typedef enum {
    KZ_TAXII_EP_OBJECTS,  /* objects/ and manifest/: every filter */
    KZ_TAXII_EP_OBJECT,   /* objects/{id}/: added_after, limit, next, version, spec_version */
    KZ_TAXII_EP_VERSIONS, /* objects/{id}/versions/: added_after, limit, next, spec_version */
    KZ_TAXII_EP_DELETE,   /* DELETE objects/{id}/: version, spec_version (default all) */
} kz_taxii_endpoint;

#define KZ_TAXII_MAX_VALUES 1000 /* values in one match[] list */

typedef struct kz_taxii_filter {
    int64_t after; /* max(added_after, cursor); 0 when neither */
    size_t limit;  /* min(client limit, page cap) */
    char **ids, **types, **spec;
    size_t nids, ntypes, nspec;
    bool v_all, v_first, v_last;
    int64_t *v_times;
    size_t nv_times;
    uint8_t qhash[8]; /* binds a cursor to the query it came from */
} kz_taxii_filter;

/* Parse and validate the query parameters of one request. scope names what the query is
 * about (collection id and object id) so that a cursor cannot be replayed elsewhere.
 * Returns 0, or -1 with a message for an HTTP 400 in err. */
int kz_taxii_filter_parse(const kz_taxii_param *params, size_t n, kz_taxii_endpoint ep,
                          size_t page_cap, const char *scope, kz_taxii_filter *f, char *err,
                          size_t errlen);
void kz_taxii_filter_free(kz_taxii_filter *f);
/* The store query for a parsed filter. Borrowing: q points into f. */
void kz_taxii_filter_query(const kz_taxii_filter *f, int64_t coll, kz_store_query *q);
/* The `next` value that continues after date_added under f's query. out needs 40 bytes. */
void kz_taxii_cursor(const kz_taxii_filter *f, int64_t date_added, char out[40]);

/* ---- the server ------------------------------------------------------------------------- */

typedef struct kz_taxii_config {
    const char *title;        /* discovery title */
    const char *description;  /* may be NULL */
    const char *contact;      /* may be NULL */
    const char *default_root; /* may be NULL: the first root */
    size_t max_content_length;
    size_t page_size; /* server cap on objects per page */
    int64_t status_retention_us;
    /* Sharing rule: versions whose TLP marking is above this level (kz_tlp_level) are served
     * only to the organisation that added them; 0 = no ceiling (collection grants decide). */
    int tlp_ceiling;
} kz_taxii_config;

typedef struct kz_taxii_server kz_taxii_server;

/* Borrowing: store and the strings in cfg must outlive the server. */
kz_taxii_server *kz_taxii_server_new(kz_store *store, const kz_taxii_config *cfg);
void kz_taxii_server_free(kz_taxii_server *srv);

typedef struct kz_taxii_request {
    const char *method;
    const char *path; /* decoded path, no query */
    const kz_taxii_param *params;
    size_t nparams;
    const char *accept, *content_type, *authorization; /* NULL when absent */
    const char *body;
    size_t body_len;
    /* Preflight: decide from the headers alone, before any body is read. Every check that
     * needs no body runs (authentication first); a request that passes gets status 0,
     * "send the body", so an unauthenticated client can never make the server buffer one. */
    bool headers_only;
} kz_taxii_request;

typedef struct kz_taxii_response {
    int status; /* 0 only after a passed preflight */
    char *body; /* malloc'd; may be NULL (no body) */
    size_t body_len;
    char date_first[40], date_last[40]; /* X-TAXII-Date-Added-*; empty when not set */
    bool challenge;                     /* send WWW-Authenticate */
    const char *allow;                  /* Allow header for 405, else NULL */
    char account[128];                  /* authenticated account name, for the log */
} kz_taxii_response;

void kz_taxii_handle(kz_taxii_server *srv, const kz_taxii_request *req, kz_taxii_response *res);
void kz_taxii_response_free(kz_taxii_response *res);

#endif
