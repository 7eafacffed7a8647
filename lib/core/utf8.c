/*
 * UTF-8 validation, shared by everything that takes text from outside (telemetry values,
 * record fields, alert lines): one definition of "valid", utf8proc's.
 */
#include <kizuna/core.h>

#include <string.h>
#include <utf8proc.h>

bool kz_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    /* nearly every value is ASCII: 8 bytes at a time, the last 8 overlapping the others (a
     * value of 8 bytes or more has no byte loop) */
    uint64_t w;
    if (n >= 8) {
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
        }
        if (i + 8 > n) {
            memcpy(&w, s + n - 8, 8);
            if (!(w & 0x8080808080808080ull))
                return true;
        }
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        if (!((a | b) & 0x80808080u))
            return true;
    }
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0)
            return false;
        i += (size_t)k;
    }
    return true;
}
