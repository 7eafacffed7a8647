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
    /* nearly every value is ASCII */
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
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
