/* libFuzzer target for the Suricata EVE JSON decoder; the checks are in fuzz_tel_lines.h. */
#include "fuzz_tel_lines.h"

static int line(void *dec, char *l, size_t n) { return kz_tel_eve_line(dec, l, n); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kz_tel_sink s = {on_rec, on_bad, NULL};
    kz_tel_eve *d = kz_tel_eve_new("fuzz.eve", &s);
    fuzz_tel_lines(data, size, d, line);
    kz_tel_eve_free(d);
    return 0;
}
