/*
 * hub_conf: the hub's configuration file and its first-start certificate.
 *
 * Grammar (docs/HUB.md): one `key = value` per line ('=' optional), '#' starts a comment,
 * blank lines ignored, values run to the end of the line (trimmed). Unknown keys and bad
 * numbers are errors with file:line, so a typo never silently weakens a limit.
 * The certificate is generated with GnuTLS: ECDSA P-256, SHA-256, one year, subjectAltName
 * for the listen host and localhost; the key file is created 0600 before anything is written.
 */
#include "hub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <kizuna/core.h>
#include <kizuna/stix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kz_hub_config_defaults(kz_hub_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8443");
    snprintf(c->title, sizeof c->title, "kizuna TAXII 2.1 hub");
    c->max_content_length = 16u << 20;
    c->page_size = 1000;
    c->max_connections = 1024;
    c->max_connections_per_ip = 256;
    c->connection_timeout = 30;
    c->body_timeout = 120;
    c->threads = 8;
    c->max_header_size = 64u << 10;
    c->status_retention_hours = 168;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static int num(const char *v, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int kz_hub_config_load(const char *path, kz_hub_config *c, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        char *k = s;
        size_t kl = strcspn(k, " \t=");
        char *v = k + kl;
        if (*v)
            *v++ = 0;
        v = trim(v);
        if (*v == '=')
            v = trim(v + 1);
        unsigned long long x = 0;
        struct {
            const char *key;
            char *dst;
            size_t len;
        } strs[] = {
            {"listen", c->listen, sizeof c->listen},
            {"tls_cert", c->tls_cert, sizeof c->tls_cert},
            {"tls_key", c->tls_key, sizeof c->tls_key},
            {"title", c->title, sizeof c->title},
            {"description", c->description, sizeof c->description},
            {"contact", c->contact, sizeof c->contact},
            {"default_root", c->default_root, sizeof c->default_root},
        };
        bool done = false;
        for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
            if (strcmp(k, strs[i].key) == 0) {
                if (strlen(v) >= strs[i].len) {
                    snprintf(err, errlen, "%s:%d: %s: value too long", path, lineno, k);
                    rc = -1;
                } else {
                    snprintf(strs[i].dst, strs[i].len, "%s", v);
                }
                done = true;
            }
        if (done)
            continue;
        if (strcmp(k, "tlp_ceiling") == 0) {
            static const struct {
                const char *name;
                int level;
            } levels[] = {{"none", 0},
                          {"clear", KZ_TLP_CLEAR},
                          {"green", KZ_TLP_GREEN},
                          {"amber", KZ_TLP_AMBER},
                          {"amber+strict", KZ_TLP_AMBER_STRICT}};
            rc = -1;
            for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
                if (strcmp(v, levels[i].name) == 0) {
                    c->tlp_ceiling = levels[i].level;
                    rc = 0;
                }
            if (rc < 0)
                snprintf(err, errlen,
                         "%s:%d: tlp_ceiling: expected none, clear, green, amber or amber+strict",
                         path, lineno);
            continue;
        }
#define NUMKEY(name, lo, hi, field)                                                                \
    if (strcmp(k, name) == 0) {                                                                    \
        if (num(v, lo, hi, &x) < 0) {                                                              \
            snprintf(err, errlen, "%s:%d: %s: expected an integer in %llu..%llu", path, lineno, k, \
                     (unsigned long long)(lo), (unsigned long long)(hi));                          \
            rc = -1;                                                                               \
        } else {                                                                                   \
            c->field = (__typeof__(c->field))x;                                                    \
        }                                                                                          \
        continue;                                                                                  \
    }
        NUMKEY("max_content_length", 1024, 1ULL << 32, max_content_length)
        NUMKEY("page_size", 1, 100000, page_size)
        NUMKEY("max_connections", 1, 100000, max_connections)
        NUMKEY("max_connections_per_ip", 0, 100000, max_connections_per_ip)
        NUMKEY("connection_timeout", 1, 3600, connection_timeout)
        NUMKEY("body_timeout", 1, 3600, body_timeout)
        NUMKEY("threads", 1, 256, threads)
        NUMKEY("max_header_size", 4096, 1u << 20, max_header_size)
        NUMKEY("status_retention_hours", 24, 24 * 365, status_retention_hours)
#undef NUMKEY
        snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, k);
        rc = -1;
    }
    fclose(f);
    return rc;
}

static int write_file(const char *path, const gnutls_datum_t *d, mode_t mode, char *err,
                      size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < d->size) {
        ssize_t w = write(fd, d->data + off, d->size - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

#define GT(call)                                                                                   \
    do {                                                                                           \
        int gr_ = (call);                                                                          \
        if (gr_ < 0) {                                                                             \
            snprintf(err, errlen, "%s: %s", #call, gnutls_strerror(gr_));                          \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

int kz_hub_make_cert(const char *host, const char *cert_path, const char *key_path, char *err,
                     size_t errlen)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t kpem = {NULL, 0}, cpem = {NULL, 0};
    int rc = -1;
    GT(gnutls_x509_privkey_init(&key));
    GT(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
    GT(gnutls_x509_crt_init(&crt));
    GT(gnutls_x509_crt_set_version(crt, 3));
    unsigned char serial[16];
    kz_uuid u;
    kz_uuid_v4(&u);
    memcpy(serial, u.b, sizeof serial);
    serial[0] &= 0x7f; /* positive */
    GT(gnutls_x509_crt_set_serial(crt, serial, sizeof serial));
    time_t now = time(NULL);
    GT(gnutls_x509_crt_set_activation_time(crt, now - 3600));
    GT(gnutls_x509_crt_set_expiration_time(crt, now + 365L * 24 * 3600));
    GT(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
                                     (unsigned)strlen(host)));
    unsigned char ip[16];
    if (inet_pton(AF_INET, host, ip) == 1)
        GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
                                                GNUTLS_FSAN_APPEND));
    else if (inet_pton(AF_INET6, host, ip) == 1)
        GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
                                                GNUTLS_FSAN_APPEND));
    else
        GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
                                                (unsigned)strlen(host), GNUTLS_FSAN_APPEND));
    GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                            GNUTLS_FSAN_APPEND));
    GT(gnutls_x509_crt_set_key(crt, key));
    GT(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
    GT(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
    GT(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
    GT(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0));
    GT(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem));
    GT(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem));
    if (write_file(key_path, &kpem, 0600, err, errlen) < 0)
        goto out;
    if (write_file(cert_path, &cpem, 0644, err, errlen) < 0) {
        unlink(key_path);
        goto out;
    }
    rc = 0;
out:
    if (kpem.data) {
        gnutls_memset(kpem.data, 0, kpem.size);
        gnutls_free(kpem.data);
    }
    gnutls_free(cpem.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return rc;
}
