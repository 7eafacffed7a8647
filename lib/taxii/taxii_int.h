/* Internal to lib/taxii: the server structure and the response helpers shared by the router
 * (server.c) and the Add Objects handler (ingest.c). */
#ifndef KZ_TAXII_INT_H
#define KZ_TAXII_INT_H

#include <kizuna/taxii.h>
#include <pthread.h>

struct kz_taxii_server {
    kz_store *store;
    kz_taxii_config cfg;
    kz_policy_cache *cache;
    pthread_mutex_t prune_mu;
    int64_t last_prune;
};

void kz_taxii_srv_error(kz_taxii_response *res, int status, const char *title,
                        const char *description);
/* Take ownership of a malloc'd JSON body. */
void kz_taxii_srv_body(kz_taxii_response *res, int status, char *body);
/* Append s as a JSON string literal. */
void kz_taxii_srv_jstr(kz_buf *b, const char *s);

void kz_taxii_srv_add_objects(kz_taxii_server *srv, const kz_principal *who,
                              const kz_store_collection *coll, const kz_taxii_request *req,
                              kz_taxii_response *res);

#endif
