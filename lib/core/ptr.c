/*
 * kz_ptr: the RFC 6901 JSON pointer of the value being checked, built while walking.
 *
 * Fixed-size on purpose: validators push and pop on every property, and a pointer only feeds
 * error messages, so an over-long path is elided ("/...") instead of allocating.
 */
#include <kizuna/core.h>

#include <stdio.h>
#include <string.h>

void kz_ptr_init(kz_ptr *p)
{
    p->len = 0;
    p->depth = 0;
    p->s[0] = '\0';
}

static void mark(kz_ptr *p)
{
    if (p->depth < (int)(sizeof p->marks / sizeof p->marks[0]))
        p->marks[p->depth] = p->len;
    p->depth++;
}

static void put(kz_ptr *p, const char *s, size_t n)
{
    if (p->len + n + 5 >= KZ_PTR_MAX) {
        if (p->len + 5 < KZ_PTR_MAX && (p->len < 4 || strcmp(p->s + p->len - 4, "/...") != 0)) {
            memcpy(p->s + p->len, "/...", 4);
            p->len += 4;
            p->s[p->len] = '\0';
        }
        return;
    }
    memcpy(p->s + p->len, s, n);
    p->len += n;
    p->s[p->len] = '\0';
}

void kz_ptr_push_key(kz_ptr *p, const char *key)
{
    mark(p);
    put(p, "/", 1);
    for (const char *c = key; *c; c++) {
        if (*c == '~')
            put(p, "~0", 2);
        else if (*c == '/')
            put(p, "~1", 2);
        else
            put(p, c, 1);
    }
}

void kz_ptr_push_index(kz_ptr *p, size_t i)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "/%zu", i);
    mark(p);
    put(p, tmp, (size_t)n);
}

void kz_ptr_pop(kz_ptr *p)
{
    if (p->depth == 0)
        return;
    p->depth--;
    if (p->depth < (int)(sizeof p->marks / sizeof p->marks[0])) {
        p->len = p->marks[p->depth];
        p->s[p->len] = '\0';
    }
}
