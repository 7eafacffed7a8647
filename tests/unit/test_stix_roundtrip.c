/*
 * Round trip: parse → serialise → parse gives the same JSON value (same properties and
 * values, custom ones included, timestamps byte-identical), both for the ordinary compact form
 * and for the RFC 8785 canonical form; the canonical form is stable (serialising it again
 * gives the same bytes) and independent of the input's key order.
 */
#include "kt.h"

#include <kizuna/stix.h>
#include <sys/stat.h>

static int roundtrip_object(const json_t *o)
{
    int fails = 0;
    for (int canonical = 0; canonical < 2; canonical++) {
        char *s = kz_stix_serialize(o, canonical);
        if (!s)
            return 1;
        kz_json_error je;
        json_t *back = kz_json_parse(s, strlen(s), &je);
        if (!back || !json_equal(back, (json_t *)o)) {
            fprintf(stderr, "round trip (%s) changed %s\n", canonical ? "canonical" : "compact",
                    json_string_value(json_object_get(o, "id")));
            fails++;
        } else if (canonical) {
            char *again = kz_stix_serialize(back, true);
            if (!again || strcmp(again, s) != 0)
                fails++;
            free(again);
        }
        json_decref(back);
        free(s);
    }
    return fails;
}

static void test_custom_content_and_precision_kept(void)
{
    const char *in =
        "{\"type\":\"x-mitre-tactic\",\"id\":\"x-mitre-tactic--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
        "\"created\":\"2016-04-06T20:03:48.123456Z\",\"modified\":\"2016-04-06T20:03:48.1Z\","
        "\"x_mitre_shortname\":\"initial-access\",\"x_score\":0.1,\"x_big\":9007199254740993,"
        "\"x_nested\":{\"b\":[1,2,{\"\\u00e9\":null}],\"a\":true},\"name\":\"\\ud83d\\ude00\"}";
    json_t *o = kz_json_parse(in, strlen(in), NULL);
    KT_CHECK(o != NULL);
    char *s = kz_stix_serialize(o, false);
    KT_CHECK(strstr(s, "\"2016-04-06T20:03:48.123456Z\"") && strstr(s, "\"2016-04-06T20:03:48.1Z\""));
    KT_CHECK(strstr(s, "9007199254740993") != NULL); /* int64 kept exactly, not via double */
    /* Property order is kept in the compact form. */
    KT_CHECK(strstr(s, "\"type\"") < strstr(s, "\"id\"") && strstr(s, "\"x_nested\"") < strstr(s, "\"name\""));
    free(s);
    s = kz_stix_serialize(o, true);
    KT_CHECK(strncmp(s, "{\"created\":", 11) == 0); /* canonical: sorted keys */
    KT_CHECK(strstr(s, "\"x_nested\":{\"a\":true,\"b\":[1,2,{\"\xc3\xa9\":null}]}") != NULL);
    free(s);
    /* Integers beyond 2^53 have no exact canonical form (RFC 8785 numbers are doubles), so
     * the full round trip is checked without that one property. */
    json_object_del(o, "x_big");
    KT_CHECK(roundtrip_object(o) == 0);
    json_decref(o);
}

static void test_canonical_independent_of_key_order(void)
{
    const char *a = "{\"b\":1,\"a\":[\"x\",{\"d\":2,\"c\":3}]}";
    const char *b = "{\"a\":[\"x\",{\"c\":3,\"d\":2}],\"b\":1}";
    json_t *ja = kz_json_parse(a, strlen(a), NULL), *jb = kz_json_parse(b, strlen(b), NULL);
    char *sa = kz_stix_serialize(ja, true), *sb = kz_stix_serialize(jb, true);
    KT_CHECK_STR(sa, sb);
    KT_CHECK_STR(sa, "{\"a\":[\"x\",{\"c\":3,\"d\":2}],\"b\":1}");
    free(sa);
    free(sb);
    json_decref(ja);
    json_decref(jb);
}

static void test_attack_roundtrip(void)
{
    static const char *files[] = {"ics-attack-18.1.json", "mobile-attack-17.1.json"};
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/data/attack", kt_shared_dir);
    if (stat(path, &st) != 0)
        KT_SKIP("%s is absent: ATT&CK round trip not checked", path);
    size_t n = 0;
    for (int f = 0; f < 2; f++) {
        snprintf(path, sizeof path, "%s/data/attack/%s", kt_shared_dir, files[f]);
        size_t len;
        char *buf = kz_read_file(path, &len);
        KT_CHECK(buf != NULL);
        json_t *doc = buf ? kz_json_parse(buf, len, NULL) : NULL;
        free(buf);
        KT_CHECK(doc != NULL);
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(doc, "objects"), i, o)
        {
            KT_CHECK(roundtrip_object(o) == 0);
            n++;
        }
        KT_CHECK(roundtrip_object(doc) == 0);
        json_decref(doc);
    }
    KT_CHECK(n == 1826 + 2148);
}

KT_MAIN(KT(test_custom_content_and_precision_kept), KT(test_canonical_independent_of_key_order),
        KT(test_attack_roundtrip))
