/*
 * Hash values: the one place that knows each hash algorithm's written form, used by object
 * validation (a `hashes` dictionary) and by the pattern checker (a comparison under
 * `hashes.'ALGO'`). The table covers the 2.1 hash-algorithm-ov and the 2.0 hash vocabulary.
 * Algorithms not in the table (custom ones) have no fixed form and are never rejected.
 */
#include <kizuna/stix.h>

#include <ctype.h>
#include <string.h>

typedef struct {
    const char *name;  /* as the vocabulary writes it */
    const char *loose; /* uppercase without '-', how patterns may also write it */
    size_t hexlen[6];  /* accepted hex digest lengths (0 ends); none: special form */
    const char *msg;
} hash_form;

static const hash_form forms[] = {
    {"MD5", "MD5", {32}, "an MD5 hash must be 32 hex digits"},
    {"MD6", "MD6", {32, 40, 56, 64, 96, 128}, "an MD6 hash must be 32-128 hex digits"},
    {"RIPEMD-160", "RIPEMD160", {40}, "a RIPEMD-160 hash must be 40 hex digits"},
    {"SHA-1", "SHA1", {40}, "a SHA-1 hash must be 40 hex digits"},
    {"SHA-224", "SHA224", {56}, "a SHA-224 hash must be 56 hex digits"},
    {"SHA-256", "SHA256", {64}, "a SHA-256 hash must be 64 hex digits"},
    {"SHA-384", "SHA384", {96}, "a SHA-384 hash must be 96 hex digits"},
    {"SHA-512", "SHA512", {128}, "a SHA-512 hash must be 128 hex digits"},
    {"SHA3-224", "SHA3224", {56}, "a SHA3-224 hash must be 56 hex digits"},
    {"SHA3-256", "SHA3256", {64}, "a SHA3-256 hash must be 64 hex digits"},
    {"SHA3-384", "SHA3384", {96}, "a SHA3-384 hash must be 96 hex digits"},
    {"SHA3-512", "SHA3512", {128}, "a SHA3-512 hash must be 128 hex digits"},
    {"WHIRLPOOL", "WHIRLPOOL", {128}, "a WHIRLPOOL hash must be 128 hex digits"},
    {"SSDEEP", "SSDEEP", {0}, NULL},
    {"TLSH", "TLSH", {0}, NULL},
};

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static const hash_form *find(const char *name)
{
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (strcmp(forms[i].name, name) == 0)
            return &forms[i];
    return NULL;
}

const char *kz_stix_hash_algorithm(const char *written)
{
    char norm[32];
    size_t j = 0;
    for (const char *k = written; *k; k++) {
        if (*k == '-')
            continue;
        if (j + 1 >= sizeof norm)
            return NULL;
        norm[j++] = (char)toupper((unsigned char)*k);
    }
    norm[j] = '\0';
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (strcmp(forms[i].loose, norm) == 0)
            return forms[i].name;
    return NULL;
}

const char *kz_stix_hash_problem(const char *algo, const char *value, size_t len)
{
    const hash_form *f = find(algo);
    if (!f)
        return NULL;
    if (strcmp(f->name, "SSDEEP") == 0) {
        if (len < 1 || len > 128)
            return "an SSDEEP hash must be 1 to 128 characters";
        for (size_t i = 0; i < len; i++)
            if (!isalnum((unsigned char)value[i]) && (!value[i] || !strchr("/+:.", value[i])))
                return "an SSDEEP hash may only hold a-z A-Z 0-9 / + : .";
        return NULL;
    }
    if (strcmp(f->name, "TLSH") == 0) {
        if ((len == 70 && all_hex(value, 70)) ||
            (len == 72 && value[0] == 'T' && value[1] == '1' && all_hex(value + 2, 70)))
            return NULL;
        return "a TLSH hash must be 70 hex digits (or 72 with the 'T1' prefix)";
    }
    for (int i = 0; i < 6 && f->hexlen[i]; i++)
        if (len == f->hexlen[i] && all_hex(value, len))
            return NULL;
    return f->msg;
}
