/*
 * kz_buf: a growable NUL-terminated byte string.
 *
 * Out-of-memory is sticky (b->oom) so that a long sequence of appends can be checked once at
 * the end; the content is never left unterminated.
 */
#include <kizuna/core.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kz_buf_init(kz_buf *b) { memset(b, 0, sizeof *b); }

void kz_buf_free(kz_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void kz_buf_reset(kz_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data)
        b->data[0] = '\0';
}

static int grow(kz_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

int kz_buf_append(kz_buf *b, const void *p, size_t n)
{
    if (grow(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int kz_buf_puts(kz_buf *b, const char *s) { return kz_buf_append(b, s, strlen(s)); }

int kz_buf_putc(kz_buf *b, char c) { return kz_buf_append(b, &c, 1); }

int kz_buf_printf(kz_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *kz_buf_take(kz_buf *b)
{
    if (!b->data && (grow(b, 0) < 0 || !b->data))
        return NULL;
    if (b->len == 0)
        b->data[0] = '\0';
    char *d = b->data;
    memset(b, 0, sizeof *b);
    return d;
}
