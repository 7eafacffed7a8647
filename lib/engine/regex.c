/*
 * LIKE and MATCHES in Hyperscan: one database per object path per segment, used as a
 * candidate prefilter (HS_FLAG_PREFILTER: Hyperscan may report more matches than PCRE2,
 * never fewer), so the evaluator's PCRE2 confirmation keeps the answers exact. The regexes
 * are the ones compare.c runs (LIKE turned into an anchored regex, both over the NFC value,
 * UTF-8 with Unicode properties, no DOTALL); a comparison Hyperscan refuses even as a
 * prefilter is indexed by object type instead (compile.c), and a database that fails to
 * build makes all its postings candidates whenever the path has a value.
 *
 * It does not evaluate: scanning happens in match.c.
 */
#include "engine_int.h"

#include <hs.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define HS_FLAGS (HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | HS_FLAG_PREFILTER)

char *kz_e_regex_of(bool like, const char *lit)
{
    char *n = (char *)utf8proc_NFC((const utf8proc_uint8_t *)lit);
    if (!n || !like)
        return n;
    /* as compare.c's like_to_regex: % → .*, _ → ., alphanumerics as is, the rest \x{..} */
    kz_buf b;
    kz_buf_init(&b);
    kz_buf_putc(&b, '^');
    size_t i = 0, len = strlen(n);
    bool ok = true;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)n + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) {
            ok = false;
            break;
        }
        i += (size_t)k;
        if (cp == '%')
            kz_buf_puts(&b, ".*");
        else if (cp == '_')
            kz_buf_putc(&b, '.');
        else if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            kz_buf_putc(&b, (char)cp);
        else
            kz_buf_printf(&b, "\\x{%x}", (unsigned)cp);
    }
    kz_buf_putc(&b, '$');
    free(n);
    if (!ok || b.oom) {
        kz_buf_free(&b);
        return NULL;
    }
    return kz_buf_take(&b);
}

typedef struct re_cache {
    char **re;
    bool *ok;
    size_t n;
} re_cache;

#define RE_CACHE_MAX 4096

/* Unicode classes (\\w \\d \\s \\b \\p and their negations) make a UCP Hyperscan compile take
 * hundreds of milliseconds each; such regexes stay with the object-type index so that a load
 * cannot be stalled by them. */
static bool unicode_classes(const char *re)
{
    for (const char *p = re; *p; p++)
        if (*p == '\\' && p[1]) {
            if (strchr("wWdDsSbBpPX", p[1]))
                return true;
            p++;
        } else if (*p == '[' && p[1] == '[' && p[2] == ':') {
            return true;
        }
    return false;
}

bool kz_e_regex_ok(kz_engine *e, const char *re)
{
    if (unicode_classes(re))
        return false;
    re_cache *c = e->re_cache;
    if (!c && (c = e->re_cache = calloc(1, sizeof *c)) != NULL) {
        c->re = calloc(RE_CACHE_MAX, sizeof *c->re);
        c->ok = calloc(RE_CACHE_MAX, sizeof *c->ok);
        if (!c->re || !c->ok) {
            free(c->re);
            free(c->ok);
            free(c);
            c = e->re_cache = NULL;
        }
    }
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(c->re[i], re) == 0)
            return c->ok[i];
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    bool ok = hs_compile(re, HS_FLAGS, HS_MODE_BLOCK, NULL, &db, &ce) == HS_SUCCESS;
    hs_free_compile_error(ce);
    hs_free_database(db);
    if (c && c->n < RE_CACHE_MAX && (c->re[c->n] = strdup(re)) != NULL)
        c->ok[c->n++] = ok;
    return ok;
}

void kz_e_regex_cache_free(kz_engine *e)
{
    re_cache *c = e->re_cache;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->re[i]);
    free(c->re);
    free(c->ok);
    free(c);
    e->re_cache = NULL;
}

void kz_e_seg_free_re(kz_eseg *s)
{
    for (size_t i = 0; i < s->nre; i++) {
        hs_free_database(s->re[i].db);
        free(s->re[i].post);
    }
    free(s->re);
    s->re = NULL;
    s->nre = 0;
}

int kz_e_seg_build_re(kz_eseg *s)
{
    size_t total = 0;
    for (size_t i = 0; i < s->nposts; i++)
        total += s->arena[s->posts[i].key + 2] == K_RE;
    if (!total)
        return 0;
    /* group by path: a small number of paths, so a scan per path is fine */
    for (size_t i = 0; i < s->nposts; i++) {
        const uint8_t *k = s->arena + s->posts[i].key;
        if (k[2] != K_RE)
            continue;
        uint16_t p;
        memcpy(&p, k, 2);
        bool seen = false;
        for (size_t r = 0; r < s->nre && !seen; r++)
            seen = s->re[r].path == p;
        if (seen)
            continue;
        kz_ere *nv = realloc(s->re, (s->nre + 1) * sizeof *nv);
        if (!nv)
            return -1;
        s->re = nv;
        kz_ere *re = &s->re[s->nre++];
        memset(re, 0, sizeof *re);
        re->path = p;
        size_t cnt = 0;
        for (size_t j = i; j < s->nposts; j++) {
            const uint8_t *kj = s->arena + s->posts[j].key;
            uint16_t pj;
            memcpy(&pj, kj, 2);
            cnt += kj[2] == K_RE && pj == p;
        }
        re->post = malloc(cnt * sizeof *re->post);
        char **exprs = calloc(cnt, sizeof *exprs);
        unsigned *flags = malloc(cnt * sizeof *flags), *ids = malloc(cnt * sizeof *ids);
        bool ok = re->post && exprs && flags && ids;
        for (size_t j = i; ok && j < s->nposts; j++) {
            const uint8_t *kj = s->arena + s->posts[j].key;
            uint16_t pj;
            memcpy(&pj, kj, 2);
            if (kj[2] != K_RE || pj != p)
                continue;
            size_t len = kz_e_key_len(kj) - 6; /* after the op byte */
            char *x = malloc(len + 1);
            if (!x) {
                ok = false;
                break;
            }
            memcpy(x, kj + 6, len);
            x[len] = 0;
            exprs[re->n] = x;
            flags[re->n] = HS_FLAGS;
            ids[re->n] = (unsigned)re->n;
            re->post[re->n++] = (uint32_t)j;
        }
        hs_database_t *db = NULL;
        hs_compile_error_t *ce = NULL;
        if (ok && hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)re->n, HS_MODE_BLOCK,
                                   NULL, &db, &ce) == HS_SUCCESS)
            re->db = db;
        else
            re->all = true; /* every posting of the path becomes a candidate */
        hs_free_compile_error(ce);
        for (size_t j = 0; exprs && j < re->n; j++)
            free(exprs[j]);
        free(exprs);
        free(flags);
        free(ids);
        if (!ok)
            return -1; /* out of memory: a partial list would lose candidates */
        s->pflags[p] |= PF_RE;
    }
    return 0;
}
