/*
 * kizuna gen telemetry: the value index — every value any indicator names (exact values,
 * CIDRs, LIKE patterns) with the indicator that owns it.
 *
 * Background data avoids every indexed value, and a planted value is accepted only when no
 * other indicator owns it, which keeps the answer key exact. Keys are "i:" canonical address
 * text, "c:" masked network/length, "d:" lower-case domain, "s:" ".suffix" of a "%.suffix"
 * LIKE, "u:" URL as written, "h:" lower-case hash; other LIKE patterns are kept in a list and
 * matched one by one. An entry owned by two indicators is GEN_OWNER_MANY. Lookups cost one
 * hash probe per key, plus one per CIDR prefix length present and per dot of a domain.
 */
#include "gen_tel.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int merge_owner(int a, int b)
{
    if (a == GEN_OWNER_NONE)
        return b;
    if (b == GEN_OWNER_NONE || a == b)
        return a;
    return GEN_OWNER_MANY;
}

static void vx_put(gen_vindex *vx, const char *key, int owner)
{
    json_t *o = json_object_get(vx->exact, key);
    int prev = o ? (int)json_integer_value(o) : GEN_OWNER_NONE;
    json_object_set_new(vx->exact, key, json_integer(merge_owner(prev, owner)));
}

static int vx_get(const gen_vindex *vx, const char *key)
{
    json_t *o = json_object_get(vx->exact, key);
    return o ? (int)json_integer_value(o) : GEN_OWNER_NONE;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Parse "addr" or "addr/len" into family bytes; canonical text of the address into canon. */
int gen_parse_ip(const char *s, uint8_t b[16], bool *v6, int *plen, char *canon, size_t clen)
{
    char tmp[INET6_ADDRSTRLEN + 8];
    snprintf(tmp, sizeof tmp, "%s", s);
    char *slash = strchr(tmp, '/');
    *plen = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        long l = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || l < 0)
            return -1;
        *plen = (int)l;
    }
    memset(b, 0, 16);
    if (inet_pton(AF_INET, tmp, b) == 1) {
        *v6 = false;
        if (*plen > 32)
            return -1;
    } else if (inet_pton(AF_INET6, tmp, b) == 1) {
        *v6 = true;
        if (*plen > 128)
            return -1;
    } else {
        return -1;
    }
    if (canon)
        inet_ntop(*v6 ? AF_INET6 : AF_INET, b, canon, (socklen_t)clen);
    return 0;
}

void gen_prefix_mask(uint8_t b[16], int plen, int bits)
{
    for (int i = 0; i < bits / 8; i++) {
        int keep = plen - i * 8;
        b[i] = keep >= 8 ? b[i] : keep <= 0 ? 0 : (uint8_t)(b[i] & (0xff << (8 - keep)));
    }
}

static void cidr_key(const uint8_t b[16], bool v6, int plen, char *out, size_t len)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, b, a, sizeof a);
    snprintf(out, len, "c:%s/%d", a, plen);
}

int gen_vindex_owner(const gen_vindex *vx, char kind, const char *value)
{
    char key[640];
    int owner = GEN_OWNER_NONE;
    if (kind == 'i') {
        uint8_t b[16];
        bool v6;
        int plen;
        char canon[INET6_ADDRSTRLEN];
        if (gen_parse_ip(value, b, &v6, &plen, canon, sizeof canon) < 0)
            return GEN_OWNER_NONE;
        snprintf(key, sizeof key, "i:%s", canon);
        owner = vx_get(vx, key);
        int bits = v6 ? 128 : 32;
        const bool *lens = v6 ? vx->v6len : vx->v4len;
        for (int l = 0; l <= bits; l++) {
            if (!lens[l])
                continue;
            uint8_t m[16];
            memcpy(m, b, 16);
            gen_prefix_mask(m, l, bits);
            cidr_key(m, v6, l, key, sizeof key);
            owner = merge_owner(owner, vx_get(vx, key));
        }
        return owner;
    }
    char v[600];
    snprintf(v, sizeof v, "%s", value);
    if (kind != 'u')
        lower(v);
    snprintf(key, sizeof key, "%c:%s", kind, v);
    owner = vx_get(vx, key);
    if (kind == 'd')
        for (const char *p = v; p; p = strchr(p + 1, '.'))
            if (*p == '.') {
                snprintf(key, sizeof key, "s:%s", p);
                owner = merge_owner(owner, vx_get(vx, key));
            }
    size_t i;
    json_t *it;
    json_array_foreach(vx->likes, i, it)
    {
        const char *k = json_string_value(json_array_get(it, 0));
        const char *pat = json_string_value(json_array_get(it, 1));
        if (k && k[0] == kind && pat) {
            /* LIKE: % any run, _ one character; a small backtracking matcher. */
            const char *s = v, *p = pat, *star = NULL, *ss = NULL;
            while (*s) {
                if (*p == '%') {
                    star = p++;
                    ss = s;
                } else if (*p && (*p == '_' || *p == *s)) {
                    p++, s++;
                } else if (star) {
                    p = star + 1;
                    s = ++ss;
                } else {
                    break;
                }
            }
            while (*p == '%')
                p++;
            if (!*s && !*p)
                owner = merge_owner(owner, (int)json_integer_value(json_array_get(it, 2)));
        }
    }
    return owner;
}

/* ---- what each comparison means --------------------------------------------------- */

/* What a comparison's path is: 'i' address, 'I' source address (avoided, not planted), 'p'
 * destination port, 'd' domain, 'u' URL, 'h' file hash, 0 anything else. *path gets the
 * static text of the path, *algo the hash algorithm when it is one the logs carry. */
char gen_path_kind(const kz_pat_path *pa, const char **path, const char **algo)
{
    const char *t = pa->object_type;
    const char *k0 = pa->nsteps > 0 && pa->steps[0].kind == KZ_STEP_KEY ? pa->steps[0].key : "";
    const char *k1 = pa->nsteps > 1 && pa->steps[1].kind == KZ_STEP_KEY ? pa->steps[1].key : "";
    *path = NULL;
    *algo = NULL;
    if ((strcmp(t, "ipv4-addr") == 0 || strcmp(t, "ipv6-addr") == 0) && pa->nsteps == 1 &&
        strcmp(k0, "value") == 0) {
        *path = t[3] == '4' ? "ipv4-addr:value" : "ipv6-addr:value";
        return 'i';
    }
    if (strcmp(t, "network-traffic") == 0 && pa->nsteps == 2 &&
        (strcmp(k0, "dst_ref") == 0 || strcmp(k0, "src_ref") == 0) && strcmp(k1, "value") == 0) {
        *path = k0[0] == 'd' ? "network-traffic:dst_ref.value" : "network-traffic:src_ref.value";
        return k0[0] == 'd' ? 'i' : 'I';
    }
    if (strcmp(t, "network-traffic") == 0 && pa->nsteps == 1 && strcmp(k0, "dst_port") == 0)
        return 'p';
    if (strcmp(t, "domain-name") == 0 && pa->nsteps == 1 && strcmp(k0, "value") == 0) {
        *path = "domain-name:value";
        return 'd';
    }
    if (strcmp(t, "url") == 0 && pa->nsteps == 1 && strcmp(k0, "value") == 0) {
        *path = "url:value";
        return 'u';
    }
    if (strcmp(t, "file") == 0 && pa->nsteps == 2 && strcmp(k0, "hashes") == 0) {
        static const char *const algs[][2] = {{"MD5", "file:hashes.'MD5'"},
                                              {"SHA-1", "file:hashes.'SHA-1'"},
                                              {"SHA-256", "file:hashes.'SHA-256'"}};
        for (size_t i = 0; i < 3; i++)
            if (strcmp(k1, algs[i][0]) == 0) {
                *algo = algs[i][0];
                *path = algs[i][1];
            }
        return 'h';
    }
    return 0;
}

static void index_value(gen_vindex *vx, char kind, kz_cmp_op op, const char *s, int owner)
{
    char key[640];
    if (kind == 'I')
        kind = 'i';
    if (kind == 'i') {
        uint8_t b[16];
        bool v6;
        int plen;
        char canon[INET6_ADDRSTRLEN];
        if (gen_parse_ip(s, b, &v6, &plen, canon, sizeof canon) < 0)
            return;
        if (plen < 0 || plen == (v6 ? 128 : 32) || op != KZ_CMP_ISSUBSET) {
            snprintf(key, sizeof key, "i:%s", canon);
        } else {
            gen_prefix_mask(b, plen, v6 ? 128 : 32);
            cidr_key(b, v6, plen, key, sizeof key);
            (v6 ? vx->v6len : vx->v4len)[plen] = true;
        }
        vx_put(vx, key, owner);
        return;
    }
    char v[600];
    snprintf(v, sizeof v, "%s", s);
    if (kind != 'u')
        lower(v);
    if (op == KZ_CMP_LIKE) {
        if (kind == 'd' && v[0] == '%' && v[1] == '.' && !strpbrk(v + 1, "%_")) {
            snprintf(key, sizeof key, "s:%s", v + 1);
            vx_put(vx, key, owner);
        } else {
            json_array_append_new(vx->likes, json_pack("[s#,s,i]", &kind, (size_t)1, v, owner));
        }
        return;
    }
    snprintf(key, sizeof key, "%c:%s", kind, v);
    vx_put(vx, key, owner);
}

static void index_cmp(gen_vindex *vx, const kz_pat_cmp *c, int owner)
{
    if (c->kind != KZ_CE_CMP) {
        index_cmp(vx, c->left, owner);
        index_cmp(vx, c->right, owner);
        return;
    }
    const char *path, *algo;
    char k = gen_path_kind(&c->path, &path, &algo);
    if (!k || k == 'p')
        return;
    if (c->lit.kind == KZ_LIT_STRING)
        index_value(vx, k, c->op, c->lit.str, owner);
    else if (c->lit.kind == KZ_LIT_SET)
        for (size_t i = 0; i < c->lit.nitems; i++)
            if (c->lit.items[i].kind == KZ_LIT_STRING)
                index_value(vx, k, KZ_CMP_EQ, c->lit.items[i].str, owner);
}

void gen_vindex_add(gen_vindex *vx, const kz_pat_obs *o, int owner)
{
    if (!o)
        return;
    if (o->kind == KZ_OE_OBS)
        index_cmp(vx, o->cmp, owner);
    else {
        gen_vindex_add(vx, o->left, owner);
        gen_vindex_add(vx, o->right, owner);
    }
}
