/*
 * kizuna gen telemetry: the run — which indicators are planted where, and the sessions
 * themselves (a DNS lookup, an HTTP request, a file download, a TLS connection or a plain TCP
 * connection, with every address, name, URL and hash they carry). gen_emit.c writes each
 * session to the outputs.
 *
 * Invariants: every value in a background session is checked against the indicators' value
 * index and re-drawn if any indicator names it; a planted session may only carry values of
 * its own indicator, so the answer key is exact. Planted sessions are interleaved at seeded
 * positions; the parts of one multi-observation hit are adjacent, well inside any WITHIN of
 * 2 s or more. Background sessions are made on the fly: memory does not grow with
 * --records. In observation mode (`gen observations`) each session becomes one observed-data
 * bundle instead (gen_obs.c).
 */
#include "gen_tel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <kizuna/core.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const svc_words[] = {"www",   "cdn",     "api",    "static", "img",  "mail",
                                        "login", "updates", "assets", "media",  "docs", "status"};
static const char *const org_words[] = {
    "riverside", "bluefin",    "maplewood", "harbor",     "summit",    "greenfield", "lakeside",
    "ironwood",  "silverline", "northgate", "brightpath", "oakridge",  "cedarbank",  "stonebridge",
    "redwood",   "clearwater", "hillcrest", "fairview",   "westbrook", "kingsley"};
static const char *const bg_tlds[] = {"example", "example", "example", "test"};
static const char *const bg_paths[] = {"/",
                                       "/index.html",
                                       "/favicon.ico",
                                       "/images/logo.png",
                                       "/css/site.css",
                                       "/api/v2/status",
                                       "/updates/manifest.json",
                                       "/news/latest",
                                       "/search?q=weather",
                                       "/products/list?page=2"};
static const char *const uas[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Microsoft-Delivery-Optimization/10.0",
    "curl/8.8.0",
    "Debian APT-HTTP/1.3 (2.7.14)"};
typedef struct {
    const char *ext, *mime;
} ftype;
static const ftype ftypes[] = {{"exe", "application/x-dosexec"},
                               {"zip", "application/zip"},
                               {"pdf", "application/pdf"},
                               {"msi", "application/x-msi"}};

static int owner_of(gen_tel *T, char kind, const char *v)
{
    return gen_vindex_owner(&T->set.vx, kind, v);
}

/* ---- sessions ---------------------------------------------------------------------- */

static void client_addr(gen_tel *T, gen_flow *fl)
{
    if (fl->v6) {
        uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0xc1, 0x1e};
        uint16_t h = (uint16_t)(0x1000 + gen_rng_below(&T->r, 200));
        b[14] = (uint8_t)(h >> 8), b[15] = (uint8_t)h;
        memcpy(fl->cli, b, 16);
    } else {
        uint8_t b[4] = {192, 0, 2, (uint8_t)(10 + gen_rng_below(&T->r, 240))};
        memcpy(fl->cli, b, 4);
    }
    uint8_t m[6] = {0x02, 0x00, 0x5e, 0x10, fl->cli[fl->v6 ? 14 : 2], fl->cli[fl->v6 ? 15 : 3]};
    memcpy(fl->cmac, m, 6);
    static const uint8_t gw[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
    memcpy(fl->smac, gw, 6);
}

static void server_addr(gen_tel *T, bool v6, uint8_t *b)
{
    memset(b, 0, 16);
    if (v6) {
        uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8,
                         0x00, 0x5e, 0x00, (uint8_t)gen_rng_below(&T->r, 256)};
        uint16_t h = (uint16_t)(1 + gen_rng_below(&T->r, 0xfff));
        a[14] = (uint8_t)(h >> 8), a[15] = (uint8_t)h;
        memcpy(b, a, 16);
    } else {
        b[0] = 198, b[1] = 18, b[2] = (uint8_t)gen_rng_below(&T->r, 128);
        b[3] = (uint8_t)(1 + gen_rng_below(&T->r, 254));
    }
}

/* One draw per statement: argument evaluation order differs between compilers, and the
 * output must not. */
static void bg_domain(gen_tel *T, char *out, size_t len)
{
    unsigned n = gen_rng_below(&T->r, 4);
    const char *org = GEN_PICK(&T->r, org_words);
    const char *svc = GEN_PICK(&T->r, svc_words);
    const char *tld = GEN_PICK(&T->r, bg_tlds);
    if (n == 0)
        snprintf(out, len, "%s.%s%u.%s", svc, org, 1 + gen_rng_below(&T->r, 40), tld);
    else
        snprintf(out, len, "%s.%s.%s", svc, org, tld);
}

static void fill_body(gen_tel *T, gen_sess *s)
{
    s->body_len = 200 + gen_rng_below(&T->r, 1000);
    gen_rng_bytes(&T->r, s->body, s->body_len);
    if (strcmp(s->mime, "application/x-dosexec") == 0)
        memcpy(s->body, "MZ\x90\0", 4);
    else if (strcmp(s->mime, "application/zip") == 0)
        memcpy(s->body, "PK\x03\x04", 4);
    else if (strcmp(s->mime, "application/pdf") == 0)
        memcpy(s->body, "%PDF-1.7\n", 9);
    gen_digest_hex(GNUTLS_DIG_MD5, s->body, s->body_len, s->md5);
    gen_digest_hex(GNUTLS_DIG_SHA1, s->body, s->body_len, s->sha1);
    gen_digest_hex(GNUTLS_DIG_SHA256, s->body, s->body_len, s->sha256);
}

/* Everything random about a session of a given kind. */
static void fill_random(gen_tel *T, gen_sess *s, int kind, bool v6)
{
    gen_flow *fl = &s->fl;
    memset(fl, 0, sizeof *fl);
    s->kind = kind;
    fl->v6 = v6;
    fl->proto = kind == S_DNS ? 17 : 6;
    client_addr(T, fl);
    fl->cport = (uint16_t)(49152 + gen_rng_below(&T->r, 16383));
    if (gen_rng_below(&T->r, 20) == 0) /* one in twenty sessions from a tagged trunk */
        fl->vlan = (uint16_t)(10 * (1 + gen_rng_below(&T->r, 5)));
    server_addr(T, v6, fl->srv);
    s->domain[0] = s->uri[0] = '\0';
    s->ua = GEN_PICK(&T->r, uas);
    s->mime = "text/html";
    s->body_len = 0;
    s->md5[0] = s->sha1[0] = s->sha256[0] = '\0';
    s->eve_v3 = gen_rng_below(&T->r, 2) == 0;
    switch (kind) {
    case S_DNS:
        fl->sport = 53;
        memset(fl->srv, 0, 16);
        if (v6) {
            static const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xc1, 0x1e, 0, 0,
                                           0,    0,    0,    0,    0,    0,    0, 0x53};
            memcpy(fl->srv, r6, 16);
        } else {
            static const uint8_t r4[4] = {192, 0, 2, 53};
            memcpy(fl->srv, r4, 4);
        }
        bg_domain(T, s->domain, sizeof s->domain);
        s->aaaa = gen_rng_below(&T->r, 7) == 0;
        server_addr(T, s->aaaa, s->ans);
        s->ttl = 60u * (1 + gen_rng_below(&T->r, 60));
        s->txid = (uint16_t)gen_rng_below(&T->r, 65536);
        break;
    case S_HTTP:
    case S_FILE:
        fl->sport = gen_rng_below(&T->r, 10) == 0 ? 8080 : 80;
        bg_domain(T, s->domain, sizeof s->domain);
        if (kind == S_FILE) {
            const ftype *ft = &GEN_PICK(&T->r, ftypes);
            const char *org = GEN_PICK(&T->r, org_words);
            snprintf(s->uri, sizeof s->uri, "/downloads/%s-setup-%u.%s", org,
                     1 + gen_rng_below(&T->r, 30), ft->ext);
            s->mime = ft->mime;
            fill_body(T, s);
        } else {
            snprintf(s->uri, sizeof s->uri, "%s", GEN_PICK(&T->r, bg_paths));
            s->body_len = 100 + gen_rng_below(&T->r, 900);
            memset(s->body, 'x', s->body_len);
            memcpy(s->body, "<!doctype html><title>ok</title>", 32);
        }
        break;
    case S_TLS:
        fl->sport = 443;
        bg_domain(T, s->domain, sizeof s->domain);
        s->tls_profile = (int)gen_rng_below(&T->r, GEN_TLS_PROFILES);
        s->tls13 = gen_rng_below(&T->r, 3) != 0;
        break;
    default:
        /* Opaque payloads: ports no dissector claims, so the pcap has no malformed frames. */
        fl->sport = (uint16_t)(30000 + gen_rng_below(&T->r, 1000));
        break;
    }
}

static int check_value(gen_tel *T, char kind, const char *v, int allowed)
{
    int own = owner_of(T, kind, v);
    return own == GEN_OWNER_NONE || (allowed >= 0 && own == allowed) ? 0 : -1;
}

/* Every value of a session: none may belong to an indicator other than `allowed`. */
static int session_clean(gen_tel *T, const gen_sess *s, int allowed)
{
    char a[INET6_ADDRSTRLEN], url[800];
    gen_ip_text(&s->fl, false, a, sizeof a);
    if (check_value(T, 'i', a, allowed) < 0)
        return -1;
    gen_ip_text(&s->fl, true, a, sizeof a);
    if (check_value(T, 'i', a, allowed) < 0)
        return -1;
    if (s->kind == S_DNS) {
        inet_ntop(s->aaaa ? AF_INET6 : AF_INET, s->ans, a, sizeof a);
        if (check_value(T, 'i', a, allowed) < 0)
            return -1;
    }
    if (s->domain[0] && check_value(T, 'd', s->domain, allowed) < 0)
        return -1;
    if (s->kind == S_HTTP || s->kind == S_FILE) {
        if (s->fl.sport == 80)
            snprintf(url, sizeof url, "http://%s%s", s->domain, s->uri);
        else
            snprintf(url, sizeof url, "http://%s:%u%s", s->domain, s->fl.sport, s->uri);
        if (check_value(T, 'u', url, allowed) < 0)
            return -1;
    }
    if (s->kind == S_FILE &&
        (check_value(T, 'h', s->md5, allowed) < 0 || check_value(T, 'h', s->sha1, allowed) < 0 ||
         check_value(T, 'h', s->sha256, allowed) < 0))
        return -1;
    return 0;
}

static int make_background(gen_tel *T, gen_sess *s)
{
    unsigned k = gen_rng_below(&T->r, 100);
    int kind = k < 35 ? S_DNS : k < 60 ? S_TLS : k < 75 ? S_HTTP : k < 80 ? S_FILE : S_CONN;
    bool v6 = gen_rng_below(&T->r, 10) == 0;
    s->hit = -1;
    for (int tries = 0; tries < 64; tries++) {
        fill_random(T, s, kind, v6);
        if (session_clean(T, s, -1) == 0)
            return 0;
    }
    snprintf(T->err, T->errlen,
             "cannot make background traffic that no indicator matches (the indicators "
             "cover too much of the reserved ranges this generator uses)");
    return -1;
}

static int make_planted(gen_tel *T, gen_sess *s, const planted *p)
{
    const gen_part *pt = &T->set.v[p->ind].parts[p->part];
    int kind = pt->kind == GP_IP       ? S_CONN
               : pt->kind == GP_DOMAIN ? S_DNS
               : pt->kind == GP_URL    ? S_HTTP
                                       : S_FILE;
    /* A name is looked up, or (one in three) only seen as the SNI of a TLS connection. The
     * parts of a multi-observation hit stay DNS lookups, so each sits in a log that readers
     * taking files in the usual order (dns before http) see before the next part. */
    if (kind == S_DNS && T->set.v[p->ind].nparts == 1 && gen_rng_below(&T->r, 3) == 0)
        kind = S_TLS;
    bool v6 = pt->kind == GP_IP && strchr(pt->value, ':');
    for (int tries = 0; tries < 64; tries++) {
        fill_random(T, s, kind, v6);
        s->hit = p->hit;
        s->ind = p->ind;
        s->part = p->part;
        if (pt->kind == GP_IP) {
            inet_pton(v6 ? AF_INET6 : AF_INET, pt->value, s->fl.srv);
            if (pt->port)
                s->fl.sport = (uint16_t)pt->port;
            else if (gen_rng_below(&T->r, 2))
                s->fl.sport = (uint16_t)(unsigned[]){443, 4444, 8443}[gen_rng_below(&T->r, 3)];
        } else if (pt->kind == GP_DOMAIN) {
            snprintf(s->domain, sizeof s->domain, "%.250s", pt->value);
        } else if (pt->kind == GP_URL) {
            unsigned port;
            gen_url_split(pt->value, s->domain, sizeof s->domain, &port, s->uri, sizeof s->uri);
            s->fl.sport = (uint16_t)port;
        } else {
            bool md5 = strcmp(pt->algo, "MD5") == 0, sha1 = strcmp(pt->algo, "SHA-1") == 0;
            char *dst = md5 ? s->md5 : sha1 ? s->sha1 : s->sha256;
            snprintf(dst,
                     md5    ? sizeof s->md5
                     : sha1 ? sizeof s->sha1
                            : sizeof s->sha256,
                     "%s", pt->value);
        }
        if (session_clean(T, s, (int)T->set.v[p->ind].ord) == 0)
            return 0;
    }
    return 1; /* could not make it clean: skipped */
}

/* ---- the run ------------------------------------------------------------------------ */

static int cmp_planted(const void *a, const void *b)
{
    const planted *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    if (x->hit != y->hit)
        return x->hit < y->hit ? -1 : 1;
    return x->part < y->part ? -1 : x->part > y->part;
}

static int open_out(gen_tel *T, outf *o, const char *name, const char *mode)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", T->o->out_dir, name);
    o->name = name;
    o->line = 0;
    o->f = fopen(path, mode);
    if (!o->f) {
        snprintf(T->err, T->errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int close_out(gen_tel *T, outf *o)
{
    if (!o->f)
        return 0;
    int bad = ferror(o->f);
    if (fclose(o->f) != 0 || bad) {
        o->f = NULL;
        if (!T->err[0])
            snprintf(T->err, T->errlen, "write failed on %s/%s", T->o->out_dir, o->name);
        return -1;
    }
    o->f = NULL;
    return 0;
}

int gen_telemetry_run(const gen_tel_opts *o, gen_tel_stats *st, char *err, size_t errlen)
{
    gen_tel T_, *T = &T_;
    memset(T, 0, sizeof *T);
    memset(st, 0, sizeof *st);
    T->o = o;
    T->st = st;
    T->err = err;
    T->errlen = errlen;
    err[0] = '\0';
    gen_rng_seed(&T->r, o->seed);
    if (gen_plan_load(o->indicators, &T->r, &T->set, err, errlen) < 0) {
        gen_plan_free(&T->set);
        return 2;
    }
    st->indicators = T->set.total;

    struct stat sb;
    if (stat(o->out_dir, &sb) != 0) {
        if (mkdir(o->out_dir, 0777) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", o->out_dir, strerror(errno));
            gen_plan_free(&T->set);
            return 2;
        }
    } else if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", o->out_dir);
        gen_plan_free(&T->set);
        return 2;
    }

    /* Which indicators, which parts, where. */
    size_t np = 0;
    size_t *plantable = malloc((T->set.n ? T->set.n : 1) * sizeof *plantable);
    if (!plantable) {
        gen_plan_free(&T->set);
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    for (size_t i = 0; i < T->set.n; i++)
        plantable[np++] = i;
    st->plantable = np;
    for (size_t i = np; i > 1; i--) {
        size_t j = gen_rng_next(&T->r) % i, t = plantable[i - 1];
        plantable[i - 1] = plantable[j];
        plantable[j] = t;
    }
    size_t nplant = 0, cap = 0;
    planted *pl = NULL;
    for (uint64_t h = 0; np && h < o->hits; h++) {
        size_t ind = plantable[h % np];
        uint64_t pos = gen_rng_next(&T->r) % (o->records + 1);
        for (size_t k = 0; k < T->set.v[ind].nparts; k++) {
            if (nplant == cap) {
                size_t ncap = cap ? 2 * cap : 64;
                planted *n = realloc(pl, ncap * sizeof *pl);
                if (!n) {
                    free(pl);
                    free(plantable);
                    gen_plan_free(&T->set);
                    snprintf(err, errlen, "out of memory");
                    return 2;
                }
                pl = n;
                cap = ncap;
            }
            pl[nplant++] = (planted){pos, (long)h, ind, k};
        }
    }
    free(plantable);
    if (nplant)
        qsort(pl, nplant, sizeof *pl, cmp_planted);

    int rc = 0;
    if (o->observations) {
        if (open_out(T, &T->obs, "observations.jsonl", "w") < 0 ||
            open_out(T, &T->key, "expected-hits.jsonl", "w") < 0)
            rc = 2;
    } else if (open_out(T, &T->conn, "conn.log", "w") < 0 ||
               open_out(T, &T->dns, "dns.log", "w") < 0 ||
               open_out(T, &T->http, "http.log", "w") < 0 ||
               open_out(T, &T->ssl, "ssl.log", "w") < 0 ||
               open_out(T, &T->files, "files.log", "w") < 0 ||
               open_out(T, &T->eve, "eve.json", "w") < 0 ||
               open_out(T, &T->key, "expected-hits.jsonl", "w") < 0) {
        rc = 2;
    }
    FILE *pf = NULL;
    if (rc == 0 && !o->observations) {
        char path[4096];
        snprintf(path, sizeof path, "%s/traffic.pcap", o->out_dir);
        pf = fopen(path, "wb");
        if (!pf || gen_pcap_begin(&T->pcap, pf) < 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            rc = 2;
        }
    }
    T->now = o->start_us;
    if (rc == 0 && !o->observations)
        gen_emit_begin(T);
    long last_hit = -1;
    bool hit_ok = false;
    size_t pi = 0;
    for (uint64_t i = 0; rc == 0 && i <= o->records; i++) {
        while (rc == 0 && pi < nplant && pl[pi].pos == i) {
            /* All parts of one hit or none: a skipped first part skips the rest. */
            gen_sess s;
            if (pl[pi].hit != last_hit) {
                last_hit = pl[pi].hit;
                hit_ok = true;
            }
            if (hit_ok && make_planted(T, &s, &pl[pi]) == 0 && gen_emit(T, &s) == 0) {
                if (pl[pi].part + 1 == T->set.v[pl[pi].ind].nparts)
                    st->planted++;
            } else {
                hit_ok = false;
            }
            pi++;
        }
        if (i == o->records)
            break;
        gen_sess s;
        if (make_background(T, &s) < 0) {
            rc = 2;
            break;
        }
        gen_emit(T, &s);
    }
    if (rc == 0 && !o->observations)
        gen_emit_end(T);
    st->packets = T->pcap.packets;
    outf *all[] = {&T->conn, &T->dns, &T->http, &T->ssl, &T->files, &T->eve, &T->key, &T->obs};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (close_out(T, all[i]) < 0)
            rc = 2;
    if (pf && fclose(pf) != 0 && rc == 0) {
        snprintf(err, errlen, "write failed on %s/traffic.pcap", o->out_dir);
        rc = 2;
    }
    free(pl);
    gen_plan_free(&T->set);
    return rc;
}
