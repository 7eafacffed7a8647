/*
 * The jansson layer: strict parsing with positions, and reading inputs that hold one
 * document or JSON lines.
 *
 * Strictness is deliberate: duplicate keys are rejected (two readers of the same bytes must
 * not see different objects), invalid UTF-8 is rejected, and nesting is bounded (2048, as
 * jansson's JSON_PARSER_MAX_DEPTH) so hostile input cannot exhaust the stack. The parsing
 * itself is done by parse.c, which accepts what jansson's json_loadb accepts with those
 * rules, several times faster; the values are jansson's.
 */
#include <kizuna/json.h>

#include "parse_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *kz_json_parse(const char *buf, size_t len, kz_json_error *err)
{
    return kz_json_parse_strict(buf, len, err);
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

int kz_json_each_document(const char *buf, size_t len, kz_json_doc_fn on_doc, kz_json_err_fn on_err,
                          void *ctx)
{
    kz_json_error je;
    /* First, the whole input as one document. */
    json_t *v = kz_json_parse_strict(buf, len, &je);
    if (v) {
        int r = on_doc(ctx, v, 1);
        json_decref(v);
        return r;
    }
    /* Not one document. If the first line parses on its own, the input is JSON lines;
     * otherwise report the whole-document error, whose position is the useful one. */
    const char *nl = memchr(buf, '\n', len);
    bool jsonl = false;
    if (nl && nl < buf + len - 1) {
        size_t first = (size_t)(nl - buf);
        json_t *t = kz_json_parse_strict(buf, first, NULL);
        if (t) {
            jsonl = true;
            json_decref(t);
        }
    }
    if (!jsonl) {
        if (blank(buf, len)) {
            kz_json_error e = {1, 1, 0, "empty input: no JSON document"};
            return on_err ? on_err(ctx, &e) : -1;
        }
        return on_err ? on_err(ctx, &je) : -1;
    }
    size_t off = 0;
    int line = 1;
    while (off < len) {
        const char *start = buf + off;
        const char *end = memchr(start, '\n', len - off);
        size_t n = end ? (size_t)(end - start) : len - off;
        if (!blank(start, n)) {
            json_t *d = kz_json_parse_strict(start, n, &je);
            int r;
            if (d) {
                r = on_doc(ctx, d, line);
                json_decref(d);
            } else {
                /* The line was parsed alone: its column is right, its line and offset are
                 * relative to the line's start. */
                je.line = line;
                je.position += off;
                r = on_err ? on_err(ctx, &je) : 0;
            }
            if (r)
                return r;
        }
        off += n + 1;
        line++;
    }
    return 0;
}

char *kz_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        goto fail;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                goto fail;
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                goto fail;
            break;
        }
    }
    buf[n] = '\0';
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
fail:;
    int e = errno;
    free(buf);
    if (f != stdin)
        fclose(f);
    errno = e ? e : EIO;
    return NULL;
}

typedef struct append_ctx {
    json_t *into;
    kz_json_err_fn on_err;
    void *ctx;
    long errors;
} append_ctx;

static int append_doc(void *ctx, json_t *doc, int line)
{
    append_ctx *a = ctx;
    (void)line;
    if (json_is_array(doc))
        json_array_extend(a->into, doc);
    else
        json_array_append(a->into, doc);
    return 0;
}

static int append_err(void *ctx, const kz_json_error *e)
{
    append_ctx *a = ctx;
    a->errors++;
    return a->on_err ? a->on_err(a->ctx, e) : 0;
}

long kz_json_append_file(const char *path, json_t *into, kz_json_err_fn on_err, void *ctx)
{
    size_t len;
    char *buf = kz_read_file(path, &len);
    if (!buf)
        return -1;
    append_ctx a = {into, on_err, ctx, 0};
    kz_json_each_document(buf, len, append_doc, append_err, &a);
    free(buf);
    return a.errors;
}
