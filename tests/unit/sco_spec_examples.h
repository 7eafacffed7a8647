/*
 * Test helper (header-only): the SCO examples of the STIX 2.1 specification, read at run time
 * from the shared copy of the spec (reference/stix-v2.1.md, section 6), so that the tests use
 * the normative text itself and nothing from it is copied into the repository.
 *
 * Every ```json block of section 6 is parsed; a few blocks in the spec are not valid JSON
 * because objects of a list lack the comma between them ("}\n  {"), which is repaired before
 * parsing. Each object whose type is one of the 18 SCO types is handed to a callback.
 */
#ifndef SCO_SPEC_EXAMPLES_H
#define SCO_SPEC_EXAMPLES_H

#include <kizuna/json.h>
#include <kizuna/stix.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef void (*sco_example_fn)(void *ctx, const json_t *sco);

static bool sco_example_is_sco_type(const char *t)
{
    static const char *const types[] = {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate", NULL};
    for (int i = 0; t && types[i]; i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

/* Insert the missing ',' between "}" and "{" separated only by white space. */
static char *sco_example_repair(const char *s, size_t n)
{
    char *out = malloc(2 * n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = s[i];
        if (s[i] == '}') {
            size_t j = i + 1;
            while (j < n && (s[j] == ' ' || s[j] == '\n' || s[j] == '\r' || s[j] == '\t'))
                j++;
            if (j < n && s[j] == '{')
                out[o++] = ',';
        }
    }
    out[o] = 0;
    return out;
}

/* Call fn for each SCO example of section 6. Returns the number of SCO objects seen, or -1
 * when the spec is not available. *blocks_failed counts blocks that would not parse. */
static int sco_examples_each(const char *shared_dir, sco_example_fn fn, void *ctx,
                             int *blocks_failed)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/stix-v2.1.md", shared_dir);
    size_t len;
    char *md = kz_read_file(path, &len);
    if (!md)
        return -1;
    const char *start = strstr(md, "\n# 6. STIX Cyber-observable Objects");
    const char *end = start ? strstr(start, "\n# 7. STIX Meta Objects") : NULL;
    int count = 0;
    *blocks_failed = 0;
    const char *p = start;
    while (p && end && (p = strstr(p, "\n```")) && p < end) {
        const char *lang = p + 4;
        const char *body = strchr(lang, '\n');
        if (!body || strncasecmp(lang, "json", 4) != 0) {
            p = body ? body : end;
            continue;
        }
        body++;
        const char *close = strstr(body, "\n```");
        if (!close || close > end)
            break;
        char *text = sco_example_repair(body, (size_t)(close - body));
        kz_json_error err;
        json_t *v = kz_json_parse(text, strlen(text), &err);
        free(text);
        if (!v) {
            (*blocks_failed)++;
        } else {
            size_t n = json_is_array(v) ? json_array_size(v) : 1;
            for (size_t i = 0; i < n; i++) {
                const json_t *o = json_is_array(v) ? json_array_get(v, i) : v;
                if (sco_example_is_sco_type(json_string_value(json_object_get(o, "type")))) {
                    count++;
                    fn(ctx, o);
                }
            }
            json_decref(v);
        }
        p = close + 4;
    }
    free(md);
    return count;
}

#endif
