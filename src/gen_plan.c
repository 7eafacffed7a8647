/*
 * kizuna gen telemetry: read an indicator set and decide what to plant for each indicator.
 *
 * Every comparison value of every indicator goes into one index (gen_vindex.c) with its
 * owner, so background data avoids all of them and a planted value is accepted only when no
 * other indicator would fire on it: the answer key stays exact. The file is scanned twice,
 * one object at a time (index, then plan). An indicator is "plantable" when
 * its pattern reduces to observations of kinds the telemetry can carry — an address (with an
 * optional destination port), a domain, an http:// URL or a file hash — through AND, OR,
 * FOLLOWEDBY, WITHIN and small REPEATS. Everything else (MATCHES, NOT, START/STOP, other
 * object types) is indexed for avoidance but not planted.
 */
#include "gen_tel.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <kizuna/pattern.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

bool gen_url_split(const char *url, char *host, size_t hl, unsigned *port, char *path, size_t pl)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7, *e = h + strcspn(h, "/?#"), *colon = memchr(h, ':', (size_t)(e - h));
    if (e == h || (size_t)(e - h) >= hl)
        return false;
    *port = 80;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (end != e || v <= 0 || v > 65535)
            return false;
        *port = (unsigned)v;
    } else {
        colon = e;
    }
    snprintf(host, hl, "%.*s", (int)(colon - h), h);
    snprintf(path, pl, "%s%s", *e == '/' ? "" : "/", e);
    return host[0] != '\0' && host[0] != '[';
}

/* ---- planning ------------------------------------------------------------------- */

static bool dns_name_ok(const char *s)
{
    size_t label = 0, n = 0;
    for (; *s; s++, n++) {
        if (*s == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > 63) {
            return false;
        }
    }
    return n > 0 && n <= 253 && label > 0;
}

static bool printable_value(const char *s)
{
    size_t n = 0;
    for (; *s; s++, n++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return false;
    return n > 0 && n < 250;
}

/* A concrete string for a LIKE pattern: a leading % becomes "www", others "x", _ "a". */
static void like_instance(const char *pat, char *out, size_t len)
{
    size_t k = 0;
    for (const char *p = pat; *p && k + 4 < len; p++) {
        if (*p == '%') {
            const char *w = p == pat ? "www" : "x";
            k += (size_t)snprintf(out + k, len - k, "%s", w);
        } else {
            out[k++] = *p == '_' ? 'a' : *p;
        }
    }
    out[k] = '\0';
}

static bool pick_in_cidr(const char *cidr, gen_rng *r, char *out, size_t len)
{
    uint8_t b[16];
    bool v6;
    int plen;
    if (gen_parse_ip(cidr, b, &v6, &plen, NULL, 0) < 0)
        return false;
    int bits = v6 ? 128 : 32;
    if (plen < 0)
        plen = bits;
    gen_prefix_mask(b, plen, bits);
    uint8_t rnd[16];
    gen_rng_bytes(r, rnd, 16);
    for (int i = 0; i < bits / 8; i++) {
        int fixed = plen - i * 8;
        uint8_t keep = fixed >= 8 ? 0xff : fixed <= 0 ? 0 : (uint8_t)(0xff << (8 - fixed));
        b[i] = (uint8_t)((b[i] & keep) | (rnd[i] & ~keep));
    }
    if (!v6 && plen < 31) { /* not the network or broadcast address */
        uint8_t last = b[3];
        uint8_t hostmask = plen >= 24 ? (uint8_t)(0xff >> (plen - 24)) : 0xff;
        if ((last & hostmask) == 0 || (last & hostmask) == hostmask)
            b[3] = (uint8_t)((last & ~hostmask) | 1);
    }
    inet_ntop(v6 ? AF_INET6 : AF_INET, b, out, (socklen_t)len);
    return true;
}

static const char *lit_string(const kz_pat_lit *l)
{
    if (l->kind == KZ_LIT_STRING)
        return l->str;
    if (l->kind == KZ_LIT_SET && l->nitems && l->items[0].kind == KZ_LIT_STRING)
        return l->items[0].str;
    return NULL;
}

/* A part while planning: the value in a fixed buffer until the plan is known to work. */
typedef struct tpart {
    int kind;
    unsigned port;
    const char *path, *algo;
    char value[300];
} tpart;

typedef struct tplan {
    tpart parts[GEN_MAX_PARTS];
    size_t nparts;
} tplan;

/* Fill one part from the comparison expression inside [ ]; false if it cannot be planted. */
static bool plan_cmp(const kz_pat_cmp *c, gen_rng *r, tpart *p)
{
    if (c->kind == KZ_CE_OR) {
        tpart save = *p;
        if (plan_cmp(c->left, r, p))
            return true;
        *p = save;
        return plan_cmp(c->right, r, p);
    }
    if (c->kind == KZ_CE_AND)
        return plan_cmp(c->left, r, p) && plan_cmp(c->right, r, p);
    if (c->negated)
        return false;
    const char *path, *algo;
    char k = gen_path_kind(&c->path, &path, &algo);
    if (k == 'p') {
        if (c->op != KZ_CMP_EQ || c->lit.kind != KZ_LIT_INT || c->lit.i <= 0 || c->lit.i > 65535)
            return false;
        if ((p->kind != GP_IP && p->value[0]) || (p->port && p->port != (unsigned)c->lit.i))
            return false;
        p->kind = GP_IP;
        p->port = (unsigned)c->lit.i;
        return true;
    }
    const char *s = lit_string(&c->lit);
    if (!k || k == 'I' || !s || !path)
        return false;
    char v[300];
    if ((c->op == KZ_CMP_EQ || c->op == KZ_CMP_IN) && printable_value(s))
        snprintf(v, sizeof v, "%s", s);
    else if (c->op == KZ_CMP_LIKE && (k == 'd' || k == 'u') && printable_value(s))
        like_instance(s, v, sizeof v);
    else if (c->op == KZ_CMP_ISSUBSET && k == 'i' && pick_in_cidr(s, r, v, sizeof v))
        ;
    else
        return false;
    int kind = k == 'i' ? GP_IP : k == 'd' ? GP_DOMAIN : k == 'u' ? GP_URL : GP_HASH;
    if (p->value[0]) /* two values in one observation: not something one record carries */
        return false;
    if (p->port && kind != GP_IP)
        return false;
    if (kind == GP_IP) {
        uint8_t b[16];
        bool v6;
        int plen;
        char canon[INET6_ADDRSTRLEN];
        if (gen_parse_ip(v, b, &v6, &plen, canon, sizeof canon) < 0 || plen >= 0)
            return false;
        snprintf(v, sizeof v, "%s", canon);
    } else if (kind == GP_DOMAIN) {
        /* planted as written: a matcher that compares exactly still fires */
        if (strchr(v, '/') || strchr(v, ':') || !dns_name_ok(v))
            return false;
    } else if (kind == GP_URL) {
        char host[256], upath[300];
        unsigned port;
        if (!gen_url_split(v, host, sizeof host, &port, upath, sizeof upath) || !dns_name_ok(host))
            return false;
    } else {
        size_t want = strcmp(algo, "MD5") == 0 ? 32 : strcmp(algo, "SHA-1") == 0 ? 40 : 64;
        bool ok = strlen(v) == want;
        for (const char *q = v; ok && *q; q++)
            ok = isxdigit((unsigned char)*q);
        if (!ok)
            return false;
        p->algo = algo;
    }
    p->kind = kind;
    p->path = path;
    snprintf(p->value, sizeof p->value, "%s", v);
    return true;
}

static bool plan_obs(const kz_pat_obs *o, gen_rng *r, tplan *pl)
{
    switch (o->kind) {
    case KZ_OE_OBS: {
        if (pl->nparts >= GEN_MAX_PARTS)
            return false;
        tpart *p = &pl->parts[pl->nparts];
        memset(p, 0, sizeof *p);
        if (!plan_cmp(o->cmp, r, p) || !p->value[0])
            return false;
        pl->nparts++;
        return true;
    }
    case KZ_OE_AND:
    case KZ_OE_FOLLOWEDBY:
        return plan_obs(o->left, r, pl) && plan_obs(o->right, r, pl);
    case KZ_OE_OR: {
        size_t n = pl->nparts;
        if (plan_obs(o->left, r, pl))
            return true;
        pl->nparts = n;
        return plan_obs(o->right, r, pl);
    }
    case KZ_OE_WITHIN: /* planted parts are adjacent sessions, well under a second apart */
        return o->within_seconds >= 2 && plan_obs(o->left, r, pl);
    case KZ_OE_REPEATS: {
        if (o->repeats < 1 || o->repeats > 4)
            return false;
        for (int64_t i = 0; i < o->repeats; i++)
            if (!plan_obs(o->left, r, pl))
                return false;
        return true;
    }
    default:
        return false;
    }
}

/* Every planted value (and a URL's host) must fire this indicator and no other. */
static bool plan_owned(const gen_vindex *vx, const tplan *pl, long ord)
{
    for (size_t k = 0; k < pl->nparts; k++) {
        const tpart *p = &pl->parts[k];
        char kc = p->kind == GP_IP       ? 'i'
                  : p->kind == GP_DOMAIN ? 'd'
                  : p->kind == GP_URL    ? 'u'
                                         : 'h';
        int own = gen_vindex_owner(vx, kc, p->value);
        if (own != (int)ord && own != GEN_OWNER_NONE)
            return false;
        char host[256], upath[300];
        unsigned port;
        if (kc == 'u' && gen_url_split(p->value, host, sizeof host, &port, upath, sizeof upath)) {
            own = gen_vindex_owner(vx, 'd', host);
            if (own != (int)ord && own != GEN_OWNER_NONE)
                return false;
        }
    }
    return true;
}

/* ---- loading ------------------------------------------------------------------------ */

/* Past one JSON value starting at p (after leading white space), or NULL if malformed. Only
 * the structure is checked here; each object is then parsed by jansson on its own. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;
    p = skip_ws(p, end);
    if (p >= end)
        return NULL;
    do {
        if (p >= end)
            return NULL;
        char c = *p;
        if (c == '"') {
            /* memchr to the next quote; it ends the string unless an odd run of
             * backslashes escapes it */
            for (p++;;) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                if (!q)
                    return NULL;
                size_t bs = 0;
                while (q - bs > p && q[-1 - (ptrdiff_t)bs] == '\\')
                    bs++;
                p = q + 1;
                if (bs % 2 == 0)
                    break;
            }
        } else if (c == '{' || c == '[') {
            if (++depth > 512)
                return NULL;
            p++;
        } else if (c == '}' || c == ']') {
            if (--depth < 0)
                return NULL;
            p++;
        } else if (depth == 0) {
            /* a scalar at top level: up to the next delimiter */
            while (p < end && !strchr(",]} \t\r\n", *p))
                p++;
        } else {
            p++;
        }
    } while (depth > 0);
    return p;
}

typedef struct scan_ctx {
    const char *base, *path;
    int pass; /* 1: index every value; 2: plan */
    gen_rng *r;
    gen_indset *set;
    long ord;
    size_t cap;
    char *err;
    size_t errlen;
} scan_ctx;

static int scan_fail(scan_ctx *c, const char *at, const char *what)
{
    size_t line = 1;
    for (const char *q = c->base; q < at; q++)
        line += *q == '\n';
    snprintf(c->err, c->errlen, "%s:%zu: not JSON: %s", c->path, line, what);
    return -1;
}

static int take_indicator(scan_ctx *c, json_t *o)
{
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *pt = json_string_value(json_object_get(o, "pattern_type"));
    const char *pat = json_string_value(json_object_get(o, "pattern"));
    const char *sv = json_string_value(json_object_get(o, "spec_version"));
    long ord = c->ord++;
    if (!pat || (pt && strcmp(pt, "stix") != 0))
        return 0;
    int line, col;
    char msg[200];
    kz_pattern *kp =
        kz_pattern_parse(pat, sv && strcmp(sv, "2.0") == 0 ? 20 : 21, &line, &col, msg, sizeof msg);
    if (!kp)
        return 0;
    if (c->pass == 1) {
        gen_vindex_add(&c->set->vx, kz_pattern_root(kp), (int)ord);
        kz_pattern_free(kp);
        return 0;
    }
    tplan pl;
    bool ok = false;
    for (int attempt = 0; attempt < 4 && !ok; attempt++) {
        pl.nparts = 0;
        ok = plan_obs(kz_pattern_root(kp), c->r, &pl) && plan_owned(&c->set->vx, &pl, ord);
    }
    kz_pattern_free(kp);
    if (!ok)
        return 0;
    gen_indset *set = c->set;
    if (set->n == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 256;
        gen_ind *nv = realloc(set->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        set->v = nv;
        c->cap = ncap;
    }
    gen_ind *ind = &set->v[set->n];
    ind->id = strdup(id ? id : "(no id)");
    ind->ord = ord;
    ind->nparts = pl.nparts;
    ind->parts = calloc(pl.nparts, sizeof *ind->parts);
    if (!ind->id || !ind->parts) {
        free(ind->id);
        free(ind->parts);
        return -1;
    }
    set->n++;
    for (size_t k = 0; k < pl.nparts; k++) {
        gen_part *d = &ind->parts[k];
        d->kind = pl.parts[k].kind;
        d->port = pl.parts[k].port;
        d->path = pl.parts[k].path;
        d->algo = pl.parts[k].algo;
        d->value = strdup(pl.parts[k].value);
        if (!d->value)
            return -1;
    }
    return 0;
}

/* The members of a bundle's "objects" array, each scanned once and handed on. */
static int scan_array(scan_ctx *c, const char *p, const char *end, const char **out);
static int scan_object(scan_ctx *c, const char *p, const char *end, const char **out);

static int scan_array(scan_ctx *c, const char *p, const char *end, const char **out)
{
    const char *q = skip_ws(p + 1, end);
    while (q < end && *q != ']') {
        const char *e = end; /* set by the scanners on success */
        if (*q == '{') {
            if (scan_object(c, q, end, &e) < 0)
                return -1;
        } else if (!(e = skip_value(q, end))) {
            return scan_fail(c, q, "bad array element");
        }
        q = skip_ws(e, end);
        if (q < end && *q == ',')
            q = skip_ws(q + 1, end);
        else if (q < end && *q != ']')
            return scan_fail(c, q, "expected ',' or ']'");
    }
    if (q >= end)
        return scan_fail(c, p, "unterminated array");
    *out = q + 1;
    return 0;
}

/* One object from p: a bundle is opened (its "objects" handed to scan_array), an indicator
 * parsed by jansson and taken, anything else skipped. *out is set past the object. */
static int scan_object(scan_ctx *c, const char *p, const char *end, const char **out)
{
    const char *objs = NULL, *type = NULL;
    bool bundle = false, objs_done = false;
    const char *q = skip_ws(p + 1, end);
    while (q < end && *q != '}') {
        const char *kend = skip_value(q, end);
        if (!kend || *q != '"')
            return scan_fail(c, q, "expected a member name");
        const char *v = skip_ws(kend, end);
        if (v >= end || *v != ':')
            return scan_fail(c, v, "expected ':'");
        v = skip_ws(v + 1, end);
        bool is_objs = kend - q == 9 && memcmp(q, "\"objects\"", 9) == 0 && v < end && *v == '[';
        const char *vend;
        if (is_objs && bundle) { /* "type" came first, as usual: stream the members */
            if (scan_array(c, v, end, &vend) < 0)
                return -1;
            objs_done = true;
        } else if (!(vend = skip_value(v, end))) {
            return scan_fail(c, v, "bad value");
        }
        if (is_objs)
            objs = v;
        if (kend - q == 6 && memcmp(q, "\"type\"", 6) == 0) {
            type = v;
            bundle = strncmp(v, "\"bundle\"", 8) == 0;
        }
        q = skip_ws(vend, end);
        if (q < end && *q == ',')
            q = skip_ws(q + 1, end);
        else if (q < end && *q != '}')
            return scan_fail(c, q, "expected ',' or '}'");
    }
    if (q >= end)
        return scan_fail(c, p, "unterminated object");
    *out = q + 1;
    if (bundle) {
        const char *e = end; /* set by the scanners on success */
        return objs && !objs_done ? scan_array(c, objs, end, &e) : 0;
    }
    if (!type || strncmp(type, "\"indicator\"", 11) != 0)
        return 0;
    json_error_t je;
    json_t *o = json_loadb(p, (size_t)(*out - p), 0, &je);
    if (!o)
        return scan_fail(c, p, je.text);
    int rc = take_indicator(c, o);
    json_decref(o);
    if (rc < 0)
        snprintf(c->err, c->errlen, "out of memory");
    return rc;
}

/* A file: one object, a bundle, an array of objects or bundles, or JSON lines. */
static int scan_file(scan_ctx *c, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    c->ord = 0;
    for (p = skip_ws(p, end); p < end; p = skip_ws(p, end)) {
        const char *e = end; /* set by the scanners on success */
        if (*p == '{') {
            if (scan_object(c, p, end, &e) < 0)
                return -1;
        } else if (*p == '[') {
            if (scan_array(c, p, end, &e) < 0)
                return -1;
        } else {
            return scan_fail(c, p, "expected an object, a bundle or an array");
        }
        p = e;
    }
    return 0;
}

int gen_plan_load(const char *path, gen_rng *r, gen_indset *set, char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "cannot read %s: not a regular file", path);
        close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && map == MAP_FAILED) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    set->vx.exact = json_object();
    set->vx.likes = json_array();
    scan_ctx c = {
        .base = map, .path = path, .pass = 1, .r = r, .set = set, .err = err, .errlen = errlen};
    int rc = set->vx.exact && set->vx.likes ? 0 : -1;
    if (rc == 0)
        rc = scan_file(&c, map, len);
    set->total = (size_t)c.ord;
    if (rc == 0) {
        c.pass = 2;
        rc = scan_file(&c, map, len);
    }
    if (map)
        munmap(map, len);
    if (rc < 0 && !err[0])
        snprintf(err, errlen, "out of memory");
    return rc;
}

void gen_plan_free(gen_indset *set)
{
    for (size_t i = 0; i < set->n; i++) {
        for (size_t k = 0; k < set->v[i].nparts; k++)
            free(set->v[i].parts[k].value);
        free(set->v[i].parts);
        free(set->v[i].id);
    }
    free(set->v);
    json_decref(set->vx.exact);
    json_decref(set->vx.likes);
    memset(set, 0, sizeof *set);
}
