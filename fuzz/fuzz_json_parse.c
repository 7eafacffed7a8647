/*
 * Fuzz target: differential test of kz_json_parse (lib/json/parse.c) against jansson's
 * json_loadb with the flags kz_json_parse replaces (JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY). Traps when the two disagree on acceptance or on the value, or when a
 * rejection comes without a position inside the input and a message; must otherwise never
 * crash, leak or trip a sanitizer.
 *
 * One known disagreement is a jansson bug, not ours: json_loadb skips one NUL byte right
 * after a number or literal ("[1\0]" parses as [1]). Such an input passes when we reject it
 * at a NUL byte and accept the same value once those bytes are removed (see
 * tests/unit/test_json_parse.c).
 */
#include <kizuna/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool jansson_nul_bug(const char *buf, size_t size, const json_t *ref,
                            const kz_json_error *err)
{
    if (err->position >= size || buf[err->position] != '\0')
        return false;
    char *t = malloc(size);
    if (!t)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char prev = i ? (unsigned char)buf[i - 1] : 0;
        bool alnum = (prev >= '0' && prev <= '9') || ((prev | 0x20) >= 'a' && (prev | 0x20) <= 'z');
        if (!(buf[i] == '\0' && alnum))
            t[n++] = buf[i];
    }
    json_t *v = kz_json_parse(t, n, NULL);
    bool same = v && json_equal(v, ref);
    json_decref(v);
    free(t);
    return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = size ? (const char *)data : "";
    json_t *ref = json_loadb(buf, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    kz_json_error err;
    memset(&err, 0, sizeof err);
    json_t *got = kz_json_parse(buf, size, &err);
    if (ref && !got && jansson_nul_bug(buf, size, ref, &err)) {
        json_decref(ref);
        return 0;
    }
    if (!ref != !got)
        __builtin_trap();
    if (ref && !json_equal(ref, got))
        __builtin_trap();
    if (!got && (err.position > size || err.line < 1 || err.column < 1 || !err.text[0]))
        __builtin_trap();
    json_decref(ref);
    json_decref(got);
    return 0;
}
