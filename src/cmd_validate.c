/*
 * kizuna validate: check STIX content against the specification.
 *
 * A FILE holds a bundle, a single object, a JSON array of objects (or bundles), or JSON lines.
 * Each problem is one line `FILE: OBJECT-ID: /json/pointer: message` (warnings say so);
 * a summary line follows. Exit 0 all valid, 1 any invalid, 2 unreadable input or bad usage.
 * Versions of one object (same id and modified) that differ are reported: STIX identifies a
 * version by (id, modified), so two different bodies under one key is a producer bug.
 */
#include "cli.h"

#include <errno.h>
#include <kizuna/stix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vstate {
    const char *file;
    bool strict;
    kz_stix_opts opts;
    size_t objects, valid, invalid, warnings;
    bool unreadable;
    json_t *type_counts; /* type → integer */
    json_t *versions;    /* "id modified" → first body seen */
    int line;            /* JSON lines: the current line, else 0 */
} vstate;

static void print_diag(vstate *s, const kz_diag *d, const char *fallback_id)
{
    const char *id = d->object_id ? d->object_id : fallback_id;
    const char *ptr = d->pointer[0] ? d->pointer : "(object)";
    bool warn = d->sev == KZ_SEV_WARNING;
    char where[64] = "";
    if (s->line)
        snprintf(where, sizeof where, ":%d", s->line);
    printf("%s%s: %s: %s: %s%s\n", s->file, where, id, ptr,
           warn ? (s->strict ? "warning (strict): " : "warning: ") : "", d->message);
}

static void count_type(vstate *s, const json_t *obj)
{
    const char *t = json_string_value(json_object_get(obj, "type"));
    if (!t)
        t = "(no type)";
    json_t *n = json_object_get(s->type_counts, t);
    json_object_set_new(s->type_counts, t, json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* Versions: the same (id, modified) twice must carry the same body. */
static void check_version(vstate *s, const json_t *obj, kz_diags *d)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *mod = json_string_value(json_object_get(obj, "modified"));
    if (!id || !mod)
        return;
    char key[600];
    snprintf(key, sizeof key, "%s %s", id, mod);
    json_t *prev = json_object_get(s->versions, key);
    if (!prev) {
        json_object_set(s->versions, key, (json_t *)obj);
        return;
    }
    if (json_equal(prev, (json_t *)obj))
        kz_diags_add(d, KZ_SEV_WARNING, id, "/modified",
                     "this version (modified %s) appears more than once", mod);
    else
        kz_diags_add(d, KZ_SEV_ERROR, id, "/modified",
                     "two different objects share id and modified %s: a new version needs a "
                     "new modified timestamp",
                     mod);
}

static void validate_one(vstate *s, const json_t *obj, const char *fallback_id,
                         kz_stix_version context)
{
    kz_diags d;
    kz_diags_init(&d);
    kz_stix_opts o = s->opts;
    if (o.version == KZ_STIX_AUTO && json_is_object(obj))
        o.version = kz_stix_object_version(obj, context);
    kz_stix_validate_object(obj, &o, &d);
    if (json_is_object(obj))
        check_version(s, obj, &d);
    for (size_t i = 0; i < d.n; i++)
        print_diag(s, &d.v[i], fallback_id);
    s->objects++;
    s->warnings += d.warnings;
    if (d.errors || (s->strict && d.warnings))
        s->invalid++;
    else
        s->valid++;
    count_type(s, obj);
    kz_diags_free(&d);
}

static void validate_bundle(vstate *s, const json_t *b, const char *where)
{
    /* The bundle's own properties, then each object with its index as the fallback id (the
     * library's kz_stix_validate_bundle would not say which object lacks an id). */
    kz_diags d;
    kz_diags_init(&d);
    kz_stix_opts o = s->opts;
    json_t *objs = json_object_get(b, "objects");
    kz_stix_validate_bundle_envelope(b, &o, &d);
    for (size_t i = 0; i < d.n; i++)
        print_diag(s, &d.v[i], where);
    if (d.errors || (s->strict && d.warnings))
        s->invalid++; /* a broken bundle envelope makes the input invalid */
    s->warnings += d.warnings;
    kz_diags_free(&d);
    const char *sv = json_string_value(json_object_get(b, "spec_version"));
    kz_stix_version ctx = sv && strcmp(sv, "2.0") == 0 ? KZ_STIX_20 : KZ_STIX_21;
    if (ctx == KZ_STIX_20 && s->opts.version == KZ_STIX_AUTO)
        s->opts.version = KZ_STIX_20;
    size_t i;
    json_t *o2;
    if (json_is_array(objs)) {
        json_array_foreach(objs, i, o2)
        {
            char fb[64];
            snprintf(fb, sizeof fb, "%s/objects/%zu", where, i);
            validate_one(s, o2, fb, ctx);
        }
    }
    s->opts.version = o.version;
}

static void validate_doc(vstate *s, const json_t *doc, const char *where)
{
    if (json_is_object(doc)) {
        const char *t = json_string_value(json_object_get(doc, "type"));
        if (t && strcmp(t, "bundle") == 0)
            validate_bundle(s, doc, where);
        else
            validate_one(s, doc, where, KZ_STIX_21);
        return;
    }
    if (json_is_array(doc)) {
        size_t i;
        json_t *e;
        if (json_array_size(doc) == 0) {
            printf("%s: %s: (document): warning: empty list, no objects\n", s->file, where);
            s->warnings++;
        }
        json_array_foreach(doc, i, e)
        {
            char fb[64];
            snprintf(fb, sizeof fb, "%s[%zu]", where, i);
            if (json_is_object(e)) {
                const char *t = json_string_value(json_object_get(e, "type"));
                if (t && strcmp(t, "bundle") == 0) {
                    validate_bundle(s, e, fb);
                    continue;
                }
            }
            validate_one(s, e, fb, KZ_STIX_21);
        }
        return;
    }
    printf("%s: %s: (document): expected a STIX object, a bundle or a list of objects\n", s->file,
           where);
    s->invalid++;
}

static int on_doc(void *ctx, json_t *doc, int line)
{
    vstate *s = ctx;
    s->line = line > 1 || s->line ? line : 0;
    validate_doc(s, doc, "(input)");
    return 0;
}

static int on_err(void *ctx, const kz_json_error *e)
{
    vstate *s = ctx;
    printf("%s:%d:%d: invalid JSON: %s\n", s->file, e->line, e->column, e->text);
    s->unreadable = true;
    return 0;
}

void cmd_validate_usage(void)
{
    printf("usage: kizuna validate [--strict] [--interop] [--stix-version 2.0|2.1] [--no-sco-ids]\n"
           "                       FILE...\n"
           "\n"
           "Check STIX objects against the STIX 2.1 (or 2.0) specification. A FILE ('-' for\n"
           "stdin) holds a bundle, a single object, a JSON array of objects, or JSON lines.\n"
           "\n"
           "Each problem is printed as  FILE: OBJECT-ID: /json/pointer: message\n"
           "(warnings are marked 'warning:'), then one summary line.\n"
           "\n"
           "  --strict             treat warnings as errors\n"
           "  --stix-version V     check every object as STIX V (default: each object's\n"
           "                       spec_version; objects without one are STIX 2.0)\n"
           "  --interop            also apply the STIX 2.1 Interoperability profile (creator,\n"
           "                       names and types required; at most one TLP marking)\n"
           "  --no-sco-ids         do not recompute deterministic SCO identifiers\n"
           "\n"
           "exit status: 0 every object valid, 1 any object invalid, 2 unreadable input or\n"
           "bad usage.\n");
}

int cmd_validate(int argc, char **argv)
{
    vstate s;
    memset(&s, 0, sizeof s);
    s.opts.version = KZ_STIX_AUTO;
    s.opts.check_sco_ids = true;
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        if (strcmp(a, "--strict") == 0) {
            s.strict = true;
        } else if (strcmp(a, "--interop") == 0) {
            s.opts.interop = true;
        } else if (strcmp(a, "--no-sco-ids") == 0) {
            s.opts.check_sco_ids = false;
        } else if (strcmp(a, "--stix-version") == 0 || strncmp(a, "--stix-version=", 15) == 0) {
            const char *v = a[14] == '=' ? a + 15 : (first + 1 < argc ? argv[++first] : NULL);
            if (v && strcmp(v, "2.1") == 0)
                s.opts.version = KZ_STIX_21;
            else if (v && strcmp(v, "2.0") == 0)
                s.opts.version = KZ_STIX_20;
            else {
                fprintf(stderr, "kizuna validate: --stix-version takes 2.0 or 2.1\n");
                return 2;
            }
        } else if (strcmp(a, "--") == 0) {
            first++;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "kizuna validate: unknown option '%s' (see --help)\n", a);
            return 2;
        } else {
            break;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "kizuna validate: no FILE given (use '-' for stdin; see --help)\n");
        return 2;
    }
    s.type_counts = json_object();
    for (int i = first; i < argc; i++) {
        s.file = argv[i];
        s.line = 0;
        s.versions = json_object();
        size_t len;
        char *buf = kz_read_file(argv[i], &len);
        if (!buf) {
            printf("%s: cannot read: %s\n", argv[i], strerror(errno));
            s.unreadable = true;
        } else {
            kz_json_each_document(buf, len, on_doc, on_err, &s);
            free(buf);
        }
        json_decref(s.versions);
    }
    printf("summary: %zu object%s (", s.objects, s.objects == 1 ? "" : "s");
    const char *k;
    json_t *v;
    int n = 0;
    json_object_foreach(s.type_counts, k, v)
    {
        printf("%s%s %lld", n++ ? ", " : "", k, (long long)json_integer_value(v));
    }
    printf("%s), %zu valid, %zu invalid, %zu warning%s\n", n ? "" : "none", s.valid, s.invalid,
           s.warnings, s.warnings == 1 ? "" : "s");
    json_decref(s.type_counts);
    if (s.unreadable)
        return 2;
    return s.invalid ? 1 : 0;
}
