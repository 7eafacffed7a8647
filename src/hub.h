/* The pieces of `kizuna hub` that are not HTTP: the configuration file and the self-signed
 * certificate made on first start. Used only by src/cmd_hub.c. */
#ifndef KZ_HUB_H
#define KZ_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kz_hub_config {
    char listen[256];
    char tls_cert[1024], tls_key[1024];
    char title[256], description[1024], contact[256], default_root[128];
    size_t max_content_length; /* bytes of a request body */
    size_t page_size;          /* objects per page, at most */
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned connection_timeout; /* seconds of inactivity */
    unsigned body_timeout;       /* seconds a request body may take to arrive */
    unsigned threads;
    size_t max_header_size; /* bytes of request line + headers */
    unsigned status_retention_hours;
    int tlp_ceiling; /* kz_tlp_level; 0 = none */
} kz_hub_config;

void kz_hub_config_defaults(kz_hub_config *c);
/* Read `key = value` lines (# comments). Returns 0, or -1 with "file:line: reason" in err. */
int kz_hub_config_load(const char *path, kz_hub_config *c, char *err, size_t errlen);

/* Make a self-signed ECDSA P-256 certificate for host (a name or an IP) valid one year and
 * write cert_path and key_path (mode 0600). Returns 0 or -1 with err. */
int kz_hub_make_cert(const char *host, const char *cert_path, const char *key_path, char *err,
                     size_t errlen);

#endif
