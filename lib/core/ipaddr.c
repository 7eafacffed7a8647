/*
 * Address text shared by the engine (index keys) and the telemetry decoders: IPv4 dotted
 * decimal exactly as inet_ntop(AF_INET) writes it, by hand because it runs for every key
 * printed and every address decoded. IPv6 is not here: the engine and the decoders need two
 * different canonical forms (see lib/engine/keys.c and lib/telemetry/common.c).
 */
#include <kizuna/core.h>

size_t kz_ip4_format(const uint8_t a[4], char *out)
{
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            out[k++] = (char)('0' + v / 100);
        if (v >= 10)
            out[k++] = (char)('0' + v / 10 % 10);
        out[k++] = (char)('0' + v % 10);
        out[k++] = '.';
    }
    out[--k] = 0;
    return k;
}
