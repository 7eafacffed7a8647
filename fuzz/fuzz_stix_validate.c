/*
 * Fuzz target: the JSON-to-STIX path. Arbitrary bytes are read as one document or JSON
 * lines; every object, bundle or list found is validated, and valid-looking objects are
 * serialised both ways. Must never crash, leak or trip a sanitizer.
 */
#include <kizuna/stix.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void validate_any(const json_t *doc)
{
    kz_diags d;
    kz_diags_init(&d);
    kz_stix_opts o = {.version = KZ_STIX_AUTO, .check_sco_ids = true};
    if (json_is_array(doc)) {
        size_t i;
        json_t *e;
        json_array_foreach(doc, i, e) validate_any(e);
    } else if (json_is_object(doc)) {
        const char *t = json_string_value(json_object_get(doc, "type"));
        if (t && strcmp(t, "bundle") == 0)
            kz_stix_validate_bundle(doc, &o, &d);
        else
            kz_stix_validate_object(doc, &o, &d);
        char *s = kz_stix_serialize(doc, false);
        free(s);
        s = kz_stix_serialize(doc, true);
        free(s);
    }
    kz_diags_free(&d);
}

static int on_doc(void *ctx, json_t *doc, int line)
{
    (void)ctx;
    (void)line;
    validate_any(doc);
    return 0;
}

static int on_err(void *ctx, const kz_json_error *e)
{
    (void)ctx;
    (void)e;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kz_json_each_document((const char *)data, size, on_doc, on_err, NULL);
    return 0;
}
