/*
 * libFuzzer target for the STIX pattern front end: any input must parse or fail cleanly;
 * whatever parses must print, the printout must parse again (same version and options) and
 * print identically, and the inspector must produce JSON. A broken round trip aborts, so the
 * fuzzer reports it as a crash. The first byte picks the version (2.0/2.1) and whether
 * duplicate qualifiers are allowed.
 */
#include <kizuna/pattern.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int version = data[0] & 1 ? 20 : 21;
    unsigned flags = data[0] & 2 ? KZ_PATTERN_ALLOW_DUPLICATE_QUALIFIERS : 0;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    int line, col;
    char msg[256];
    kz_pattern *p = kz_pattern_parse_ex(text, version, flags, &line, &col, msg, sizeof msg);
    if (!p) {
        if (line < 1 || col < 1 || msg[0] == '\0')
            abort(); /* every error has a position and a message */
        free(text);
        return 0;
    }
    kz_buf a, b;
    kz_buf_init(&a);
    kz_buf_init(&b);
    if (kz_pattern_print(p, &a) < 0)
        abort();
    kz_pattern *q = kz_pattern_parse_ex(a.data, version, flags, &line, &col, msg, sizeof msg);
    if (!q) {
        fprintf(stderr, "printout does not parse: %s\n%d:%d: %s\n", a.data, line, col, msg);
        abort();
    }
    if (kz_pattern_print(q, &b) < 0 || strcmp(a.data, b.data) != 0) {
        fprintf(stderr, "printout not stable:\n%s\n%s\n", a.data, b.data);
        abort();
    }
    json_t *j = kz_pattern_inspect(p);
    if (!j)
        abort();
    json_decref(j);
    kz_pattern_free(q);
    kz_pattern_free(p);
    kz_buf_free(&a);
    kz_buf_free(&b);
    free(text);
    return 0;
}
