/*
 * Conformance: every example in ../shared/conformance/stix2-json-schemas/examples and the
 * MITRE ATT&CK bundles in ../shared/data/attack validate without errors (their x-mitre-*
 * custom objects and properties pass as custom content); the project's own samples too.
 * Skips with a message when ../shared is absent.
 */
#include "kt.h"

#include <kizuna/stix.h>
#include <sys/stat.h>

static size_t validate_file(const char *path, size_t *nobjects, size_t *warnings)
{
    size_t len;
    char *buf = kz_read_file(path, &len);
    if (!buf) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    kz_json_error je;
    json_t *doc = kz_json_parse(buf, len, &je);
    free(buf);
    if (!doc) {
        fprintf(stderr, "%s:%d:%d: %s\n", path, je.line, je.column, je.text);
        return 1;
    }
    kz_diags d;
    kz_diags_init(&d);
    kz_stix_opts o = {.version = KZ_STIX_AUTO, .check_sco_ids = true};
    size_t errors;
    const char *t = json_string_value(json_object_get(doc, "type"));
    if (t && strcmp(t, "bundle") == 0) {
        errors = kz_stix_validate_bundle(doc, &o, &d);
        *nobjects += json_array_size(json_object_get(doc, "objects"));
    } else {
        errors = kz_stix_validate_object(doc, &o, &d);
        *nobjects += 1;
    }
    for (size_t i = 0; i < d.n; i++)
        if (d.v[i].sev == KZ_SEV_ERROR)
            fprintf(stderr, "%s: %s: %s: %s\n", path, d.v[i].object_id ? d.v[i].object_id : "-",
                    d.v[i].pointer, d.v[i].message);
    *warnings += d.warnings;
    kz_diags_free(&d);
    json_decref(doc);
    return errors;
}

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void test_schema_examples_validate(void)
{
    static const char *files[] = {
        "indicator-for-c2-ip-address.json",     "indicator-to-campaign-relationship.json",
        "indicators-for-C2-with-COA.json",      "infrastructure.json",
        "interop-objectmarking-test.json",      "malicious-email-indicator-with-attachment.json",
        "threat-reports/apt1.json",             "threat-reports/poisonivy.json",
    };
    char path[1024];
    snprintf(path, sizeof path, "%s/conformance/stix2-json-schemas/examples", kt_shared_dir);
    if (!exists(path))
        KT_SKIP("%s is absent: schema examples not checked", path);
    size_t objs = 0, warns = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/conformance/stix2-json-schemas/examples/%s",
                 kt_shared_dir, files[i]);
        KT_CHECK_MSG(validate_file(path, &objs, &warns) == 0, "%s has errors", files[i]);
    }
    KT_CHECK(objs == 1 + 3 + 8 + 10 + 1 + 6 + 76 + 155);
    fprintf(stderr, "schema examples: %zu objects, %zu warnings\n", objs, warns);
}

static void test_attack_bundles_validate(void)
{
    static const char *files[] = {"ics-attack-18.1.json", "mobile-attack-17.1.json"};
    char path[1024];
    snprintf(path, sizeof path, "%s/data/attack", kt_shared_dir);
    if (!exists(path))
        KT_SKIP("%s is absent: ATT&CK bundles not checked", path);
    size_t objs = 0, warns = 0;
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/data/attack/%s", kt_shared_dir, files[i]);
        KT_CHECK_MSG(validate_file(path, &objs, &warns) == 0, "%s has errors", files[i]);
    }
    KT_CHECK(objs == 1826 + 2148);
    fprintf(stderr, "ATT&CK: %zu objects, %zu warnings\n", objs, warns);
}

KT_MAIN(KT(test_schema_examples_validate), KT(test_attack_bundles_validate))
