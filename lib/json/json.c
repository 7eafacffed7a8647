/*
 * The jansson layer: strict parsing with positions, and reading inputs that hold one
 * document or JSON lines.
 *
 * Strictness is deliberate: duplicate keys are rejected (two readers of the same bytes must
 * not see different objects), invalid UTF-8 is rejected by jansson, and nesting is bounded by
 * jansson's JSON_PARSER_MAX_DEPTH (2048) so hostile input cannot exhaust the stack.
 */
#include <kizuna/json.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(kz_json_error *err, const json_error_t *je)
{
    if (!err)
        return;
    err->line = je->line;
    err->column = je->column;
    err->position = (size_t)je->position;
    snprintf(err->text, sizeof err->text, "%s", je->text);
}

json_t *kz_json_parse(const char *buf, size_t len, kz_json_error *err)
{
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!v)
        set_err(err, &je);
    return v;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

int kz_json_each_document(const char *buf, size_t len, kz_json_doc_fn on_doc,
                          kz_json_err_fn on_err, void *ctx)
{
    json_error_t je;
    /* First, the whole input as one document. */
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
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
        json_error_t je1;
        size_t first = (size_t)(nl - buf);
        json_t *t = json_loadb(buf, first, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je1);
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
        kz_json_error e;
        set_err(&e, &je);
        return on_err ? on_err(ctx, &e) : -1;
    }
    size_t off = 0;
    int line = 1;
    while (off < len) {
        const char *start = buf + off;
        const char *end = memchr(start, '\n', len - off);
        size_t n = end ? (size_t)(end - start) : len - off;
        if (!blank(start, n)) {
            json_t *d = json_loadb(start, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
            int r;
            if (d) {
                r = on_doc(ctx, d, line);
                json_decref(d);
            } else {
                kz_json_error e;
                set_err(&e, &je);
                e.line = line;
                e.position += off;
                r = on_err ? on_err(ctx, &e) : 0;
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
