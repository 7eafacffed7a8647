/*
 * Address text shared by the engine (index keys) and the telemetry decoders: IPv4 dotted
 * decimal exactly as inet_ntop(AF_INET) writes it, by hand because it runs for every key
 * printed and every address decoded. IPv6 is not here: the engine and the decoders need two
 * different canonical forms (see lib/engine/keys.c and lib/telemetry/common.c).
 */
#include <kizuna/core.h>

#include <string.h>

size_t kz_ip4_format(const uint8_t a[4], char *out)
{
    /* each number as three digits and its dot in one 32-bit word, shifted past its leading
     * zeros and stored whole: no branch on the number of digits (addresses vary, so such
     * branches mispredict) and no byte stores read back as a word. The store is four bytes
     * whatever the length, which stays within out's 16 bytes */
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t v = a[i];
        uint32_t skip = (uint32_t)(v < 100) + (uint32_t)(v < 10);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        uint32_t w = ('0' + v / 100) | ('0' + v / 10 % 10) << 8 | ('0' + v % 10) << 16 |
                     (uint32_t)'.' << 24;
        w >>= 8 * skip;
        memcpy(out + k, &w, 4);
#else
        char d[4] = {(char)('0' + v / 100), (char)('0' + v / 10 % 10), (char)('0' + v % 10), '.'};
        memcpy(out + k, d + skip, 4 - skip);
#endif
        k += 4 - skip;
    }
    out[--k] = 0;
    return k;
}
