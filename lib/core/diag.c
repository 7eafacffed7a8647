/*
 * Diagnostics: the error values of the library.
 *
 * The library never prints; it appends kz_diag entries that name the object, the JSON pointer
 * inside it and a message a person can act on, and lets the program decide how to show them.
 * Invariant: errors + warnings == n.
 */
#include <kizuna/core.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kz_diags_init(kz_diags *d) { memset(d, 0, sizeof *d); }

void kz_diags_clear(kz_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].object_id);
        free(d->v[i].pointer);
        free(d->v[i].message);
    }
    d->n = d->errors = d->warnings = 0;
}

void kz_diags_free(kz_diags *d)
{
    kz_diags_clear(d);
    free(d->v);
    memset(d, 0, sizeof *d);
}

int kz_diags_addv(kz_diags *d, kz_severity sev, const char *object_id, const char *pointer,
                  const char *fmt, va_list ap)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        kz_diag *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return -1;
        d->v = v;
        d->cap = cap;
    }
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): callers va_start
    kz_diag *e = &d->v[d->n];
    e->sev = sev;
    e->object_id = object_id ? strdup(object_id) : NULL;
    e->pointer = strdup(pointer ? pointer : "");
    e->message = strdup(msg);
    if ((object_id && !e->object_id) || !e->pointer || !e->message) {
        free(e->object_id);
        free(e->pointer);
        free(e->message);
        return -1;
    }
    d->n++;
    if (sev == KZ_SEV_ERROR)
        d->errors++;
    else
        d->warnings++;
    return 0;
}

int kz_diags_add(kz_diags *d, kz_severity sev, const char *object_id, const char *pointer,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = kz_diags_addv(d, sev, object_id, pointer, fmt, ap);
    va_end(ap);
    return r;
}
