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
    /* each number as three digits and its dot, copied from the first significant digit:
     * no branch on the number of digits (addresses vary, so such branches mispredict). The
     * copy is four bytes whatever the length, which stays within out's 16 bytes */
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        char d[7] = {(char)('0' + v / 100), (char)('0' + v / 10 % 10), (char)('0' + v % 10), '.'};
        size_t skip = (size_t)(v < 100) + (size_t)(v < 10);
        memcpy(out + k, d + skip, 4);
        k += 4 - skip;
    }
    out[--k] = 0;
    return k;
}
