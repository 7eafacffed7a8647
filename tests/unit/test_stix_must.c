/*
 * One invalid object per MUST rule of the specification, as data: every file in
 * tests/data/must/ (and its subfolders listed below) holds
 *   {"rule": NAME, "version": "2.0"|"2.1" (optional), "interop": true (optional: apply the
 *    interoperability profile), "expect": {"pointer", "severity",
 *    "contains"}, "object": {...}}
 * and the validator must report a diagnostic of that severity at exactly that JSON pointer
 * whose message contains the given text. For "error" rules the object must be invalid; for
 * "warning" rules it must have no error at all (an open-vocabulary miss is not an error).
 */
#include "kt.h"

#include <dirent.h>
#include <kizuna/stix.h>

static int check_case(const char *path)
{
    size_t len;
    char *buf = kz_read_file(path, &len);
    if (!buf)
        return fprintf(stderr, "%s: cannot read\n", path), 1;
    kz_json_error je;
    json_t *c = kz_json_parse(buf, len, &je);
    free(buf);
    if (!c)
        return fprintf(stderr, "%s:%d:%d: %s\n", path, je.line, je.column, je.text), 1;
    const char *rule = json_string_value(json_object_get(c, "rule"));
    json_t *exp = json_object_get(c, "expect");
    const char *ptr = json_string_value(json_object_get(exp, "pointer"));
    const char *sev = json_string_value(json_object_get(exp, "severity"));
    const char *contains = json_string_value(json_object_get(exp, "contains"));
    const char *ver = json_string_value(json_object_get(c, "version"));
    json_t *obj = json_object_get(c, "object");
    int fail = 0;
    if (!rule || !ptr || !sev || !contains || !obj) {
        fprintf(stderr, "%s: malformed test case\n", path);
        json_decref(c);
        return 1;
    }
    kz_stix_opts o = {.version = KZ_STIX_AUTO, .check_sco_ids = true};
    if (ver)
        o.version = strcmp(ver, "2.0") == 0 ? KZ_STIX_20 : KZ_STIX_21;
    o.interop = json_is_true(json_object_get(c, "interop"));
    kz_diags d;
    kz_diags_init(&d);
    const char *t = json_string_value(json_object_get(obj, "type"));
    if (t && strcmp(t, "bundle") == 0)
        kz_stix_validate_bundle(obj, &o, &d);
    else
        kz_stix_validate_object(obj, &o, &d);
    bool want_err = strcmp(sev, "error") == 0;
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        if (strcmp(d.v[i].pointer, ptr) == 0 && strstr(d.v[i].message, contains) &&
            (d.v[i].sev == KZ_SEV_ERROR) == want_err)
            found = true;
    if (!found) {
        fprintf(stderr, "%s: rule %s: no %s at %s containing \"%s\"; got:\n", path, rule, sev,
                ptr, contains);
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "    %s %s: %s\n", d.v[i].sev == KZ_SEV_ERROR ? "error" : "warning",
                    d.v[i].pointer, d.v[i].message);
        fail = 1;
    }
    if (!want_err && d.errors) {
        fprintf(stderr, "%s: rule %s expects only a warning but got %zu errors\n", path, rule,
                d.errors);
        fail = 1;
    }
    kz_diags_free(&d);
    json_decref(c);
    return fail;
}

static void run_dir(const char *sub, int min_cases)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", kt_data_dir, sub);
    DIR *dp = opendir(dir);
    if (!dp)
        KT_SKIP("%s: no such folder", dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dp))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        KT_CHECK_MSG(check_case(path) == 0, "%s", de->d_name);
        n++;
    }
    closedir(dp);
    fprintf(stderr, "%s: %d cases\n", sub, n);
    KT_CHECK(n >= min_cases);
}

static void test_must_rules_common(void) { run_dir("must", 40); }

KT_MAIN(KT(test_must_rules_common))
