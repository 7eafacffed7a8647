/*
 * kizuna hub: the TAXII 2.1 server. This file only moves bytes between libmicrohttpd and
 * lib/taxii (which owns the protocol), sets the limits and the TLS, and logs one line per
 * request to stderr: method, path, status, bytes, milliseconds, account. It never logs a
 * header, a query string or a body, so no credential can reach the log.
 *
 * Safe by default: HTTPS (TLS 1.2 and 1.3 only) with the configured certificate, or one made
 * on first start; plain HTTP only with --plain-http and only on a loopback address. The body
 * is bounded by max_content_length (413 before reading when Content-Length says so) and by
 * body_timeout, headers by max_header_size, connections by count, per address and by idle
 * time; requests are served
 * by a pool of event-driven threads so a slow client only holds its own connection.
 */
#include "cli.h"
#include "hub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <kizuna/json.h>
#include <kizuna/store.h>
#include <kizuna/taxii.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cmd_hub_usage(void)
{
    printf("usage: kizuna hub --data DIR [--listen ADDR:PORT] [--config FILE] [--plain-http] "
           "[-n]\n\n"
           "Serve the TAXII 2.1 API from the store in DIR (created when absent).\n\n"
           "  --data DIR         data directory (SQLite database, generated certificate)\n"
           "  --listen ADDR:PORT address to listen on (default 127.0.0.1:8443; port 0 picks one)\n"
           "  --config FILE      configuration file (see docs/HUB.md)\n"
           "  --plain-http       serve HTTP without TLS; refused unless ADDR is loopback\n"
           "  -n                 check the configuration and exit\n\n"
           "HTTPS uses tls_cert/tls_key from the configuration; without them a self-signed\n"
           "certificate is generated into DIR on first start. Logs go to stderr.\n"
           "Exit status: 0 stopped by a signal or -n passed, 1 runtime failure, 2 bad usage.\n");
}

typedef struct hub {
    kz_taxii_server *srv;
    kz_hub_config cfg;
} hub;

typedef struct conn_state {
    kz_buf body;
    bool too_big;
    bool responded;
    int64_t started;
} conn_state;

typedef struct params {
    kz_taxii_param v[64];
    size_t n;
    bool overflow;
} params;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    params *p = cls;
    if (p->n == sizeof p->v / sizeof p->v[0]) {
        p->overflow = true;
        return MHD_NO;
    }
    p->v[p->n].key = key;
    p->v[p->n].value = value ? value : "";
    p->n++;
    return MHD_YES;
}

static void log_line(const char *method, const char *url, int status, size_t bytes, int64_t started,
                     const char *account)
{
    double ms = (double)(kz_time_now_us() - started) / 1000.0;
    char safe[256];
    size_t k = 0;
    /* the path is client-chosen: keep it printable and short */
    for (const char *p = url; *p && k + 1 < sizeof safe; p++)
        safe[k++] = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?';
    safe[k] = 0;
    fprintf(stderr, "%s %s %d %zu %.1fms %s\n", method, safe, status, bytes, ms,
            account && *account ? account : "-");
}

static enum MHD_Result respond(struct MHD_Connection *c, const char *method, const char *url,
                               kz_taxii_response *res, int64_t started)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (void *)"",
                                        res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(res->body);
        return MHD_NO;
    }
    size_t bytes = res->body_len;
    res->body = NULL;
    MHD_add_response_header(r, "Content-Type", KZ_TAXII_MEDIA_TYPE);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (res->date_first[0])
        MHD_add_response_header(r, "X-TAXII-Date-Added-First", res->date_first);
    if (res->date_last[0])
        MHD_add_response_header(r, "X-TAXII-Date-Added-Last", res->date_last);
    if (res->challenge) {
        MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"kizuna\", charset=\"UTF-8\"");
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"kizuna\"");
    }
    if (res->allow)
        MHD_add_response_header(r, "Allow", res->allow);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)res->status, r);
    MHD_destroy_response(r);
    log_line(method, url, res->status, bytes, started, res->account);
    return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *c, const char *method, const char *url,
                                  int status, const char *title, const char *desc, int64_t started)
{
    kz_taxii_response res;
    memset(&res, 0, sizeof res);
    res.status = status;
    res.body = kz_taxii_error_json(status, title, desc);
    res.body_len = res.body ? strlen(res.body) : 0;
    return respond(c, method, url, &res, started);
}

/* Hand one request to lib/taxii; a query with more parameters than we keep is a 400. */
static void run(hub *h, struct MHD_Connection *c, const char *url, const char *method,
                const conn_state *st, bool headers_only, kz_taxii_response *res)
{
    params p = {.n = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &p);
    if (p.overflow) {
        memset(res, 0, sizeof *res);
        res->status = 400;
        res->body = kz_taxii_error_json(400, "Bad request", "too many query parameters");
        res->body_len = res->body ? strlen(res->body) : 0;
        return;
    }
    kz_taxii_request req = {
        .method = method,
        .path = url,
        .params = p.v,
        .nparams = p.n,
        .accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"),
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
        .body = headers_only ? NULL : st->body.data,
        .body_len = headers_only ? 0 : st->body.len,
        .headers_only = headers_only,
    };
    kz_taxii_handle(h->srv, &req, res);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    (void)version;
    hub *h = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        kz_buf_init(&st->body);
        st->started = kz_time_now_us();
        *con_cls = st;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
        if ((cl && strtoull(cl, NULL, 10) > 0) || te) {
            /* A body is coming: run every check the headers allow before reading it, so an
             * unauthenticated or unauthorised client can never make the hub buffer a body. */
            kz_taxii_response pre;
            run(h, c, url, method, st, true, &pre);
            if (pre.status != 0) {
                st->responded = true;
                return respond(c, method, url, &pre, st->started);
            }
            kz_taxii_response_free(&pre);
        }
        if (cl && strtoull(cl, NULL, 10) > h->cfg.max_content_length) {
            st->responded = true;
            return send_error(c, method, url, 413, "Request entity too large",
                              "the body exceeds max_content_length of the API root", st->started);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* Idle time is bounded by MHD; this bounds a body trickled in just fast enough to
         * never be idle. MHD cannot answer in mid-upload, so the connection is closed. */
        if (kz_time_now_us() - st->started > (int64_t)h->cfg.body_timeout * 1000000) {
            log_line(method, url, 408, 0, st->started, "-");
            return MHD_NO;
        }
        if (!st->too_big && st->body.len + *upload_data_size > h->cfg.max_content_length)
            st->too_big = true; /* chunked bodies: keep draining, answer 413 at the end */
        if (!st->too_big)
            kz_buf_append(&st->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->responded)
        return MHD_YES;
    st->responded = true;
    if (st->too_big)
        return send_error(c, method, url, 413, "Request entity too large",
                          "the body exceeds max_content_length of the API root", st->started);
    if (st->body.oom)
        return send_error(c, method, url, 500, "Internal error", "out of memory", st->started);
    kz_taxii_response res;
    run(h, c, url, method, st, false, &res);
    return respond(c, method, url, &res, st->started);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_state *st = *con_cls;
    if (st) {
        kz_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = 0;
    fprintf(stderr, "kizuna hub: http: %s\n", line);
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, char host[64], bool *loopback)
{
    memset(ss, 0, sizeof *ss);
    const char *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -1;
        hl = (size_t)(rb - s - 1);
        if (hl >= 64)
            return -1;
        memcpy(host, s + 1, hl);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - s);
        if (hl >= 64)
            return -1;
        memcpy(host, s, hl);
    }
    host[hl] = 0;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return -1;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return 0;
    }
    return -1;
}

static void free_secret(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

int cmd_hub(int argc, char **argv)
{
    const char *data = NULL, *conf = NULL, *listen_arg = NULL;
    bool plain = false, check = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen_arg = argv[++i];
        else if (strcmp(argv[i], "--plain-http") == 0)
            plain = true;
        else if (strcmp(argv[i], "-n") == 0)
            check = true;
        else {
            fprintf(stderr, "kizuna hub: unexpected argument '%s' (see kizuna hub --help)\n",
                    argv[i]);
            return 2;
        }
    }
    if (!data) {
        fprintf(stderr, "kizuna hub: --data DIR is required\n");
        return 2;
    }
    hub h;
    kz_hub_config_defaults(&h.cfg);
    char err[1024];
    if (conf && kz_hub_config_load(conf, &h.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "kizuna hub: %s\n", err);
        return 2;
    }
    if (listen_arg)
        snprintf(h.cfg.listen, sizeof h.cfg.listen, "%s", listen_arg);
    struct sockaddr_storage addr;
    char host[64];
    bool loopback = false;
    if (parse_listen(h.cfg.listen, &addr, host, &loopback) < 0) {
        fprintf(stderr, "kizuna hub: --listen '%s': expected ADDR:PORT with a numeric address\n",
                h.cfg.listen);
        return 2;
    }
    if (plain && !loopback) {
        fprintf(stderr,
                "kizuna hub: refusing plain HTTP on %s: credentials and intelligence would cross "
                "the network in clear; use a loopback address or HTTPS\n",
                host);
        return 2;
    }
    if (check) {
        printf("kizuna hub: configuration OK\n");
        return 0;
    }
    kz_store *store = NULL;
    if (kz_store_open(data, &store, err, sizeof err) < 0) {
        fprintf(stderr, "kizuna hub: %s\n", err);
        return 1;
    }
    char *cert = NULL, *key = NULL;
    if (!plain) {
        char cp[1200], kp[1200];
        if (h.cfg.tls_cert[0] || h.cfg.tls_key[0]) {
            snprintf(cp, sizeof cp, "%s", h.cfg.tls_cert);
            snprintf(kp, sizeof kp, "%s", h.cfg.tls_key);
        } else {
            snprintf(cp, sizeof cp, "%s/hub-cert.pem", data);
            snprintf(kp, sizeof kp, "%s/hub-key.pem", data);
            if (!file_exists(cp) && !file_exists(kp)) {
                if (kz_hub_make_cert(host, cp, kp, err, sizeof err) < 0) {
                    fprintf(stderr, "kizuna hub: generating a certificate: %s\n", err);
                    kz_store_close(store);
                    return 1;
                }
                fprintf(stderr,
                        "kizuna hub: no certificate configured: generated a self-signed one for "
                        "%s in %s (clients must trust it explicitly; set tls_cert/tls_key for "
                        "production)\n",
                        host, cp);
            }
        }
        size_t n;
        cert = kz_read_file(cp, &n);
        key = kz_read_file(kp, &n);
        if (!cert || !key) {
            fprintf(stderr, "kizuna hub: cannot read %s: %s\n", cert ? kp : cp, strerror(errno));
            free(cert);
            free_secret(key);
            kz_store_close(store);
            return 1;
        }
    }
    kz_taxii_config tc = {
        .title = h.cfg.title,
        .description = h.cfg.description[0] ? h.cfg.description : NULL,
        .contact = h.cfg.contact[0] ? h.cfg.contact : NULL,
        .default_root = h.cfg.default_root[0] ? h.cfg.default_root : NULL,
        .max_content_length = h.cfg.max_content_length,
        .page_size = h.cfg.page_size,
        .status_retention_us = (int64_t)h.cfg.status_retention_hours * 3600 * 1000000,
        .tlp_ceiling = h.cfg.tlp_ceiling,
    };
    h.srv = kz_taxii_server_new(store, &tc);
    if (!h.srv) {
        fprintf(stderr, "kizuna hub: out of memory\n");
        free(cert);
        free_secret(key);
        kz_store_close(store);
        return 1;
    }
    /* Block the stop signals before MHD starts its threads, so only sigwait sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (!plain)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, &h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)h.cfg.threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)h.cfg.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)h.cfg.max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h.cfg.connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)h.cfg.max_header_size,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_ARRAY, plain ? no_opts : tls_opts,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "kizuna hub: cannot listen on %s (address in use or not local?)\n",
                h.cfg.listen);
        kz_taxii_server_free(h.srv);
        free(cert);
        free_secret(key);
        kz_store_close(store);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    fprintf(stderr, "kizuna hub: listening on %s://%s%s%s:%u/ (data %s, %u threads)\n",
            plain ? "http" : "https", addr.ss_family == AF_INET6 ? "[" : "", host,
            addr.ss_family == AF_INET6 ? "]" : "", port, data, h.cfg.threads);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "kizuna hub: stopping (signal %d)\n", sig);
    MHD_stop_daemon(d);
    kz_taxii_server_free(h.srv);
    free(cert);
    free_secret(key);
    kz_store_close(store);
    return 0;
}
