/*
 * The rule tables of the 18 STIX Cyber-observable Objects (STIX 2.1 section 6) and of their
 * predefined extensions, with the STIX 2.0 differences (renamed and dropped properties,
 * properties required only in 2.0) marked by version flags.
 *
 * Each table lists only the type-specific properties: the common SCO properties (type, id,
 * spec_version, markings, defanged, extensions) belong to the walker. KZ_F_ID_CONTRIB marks the
 * "ID Contributing Properties" that scoid.c feeds into the deterministic id; a type whose
 * extensions contribute too (file, network-traffic) carries KZ_F_ID_EXTENSIONS.
 *
 * Value formats (addresses, domain names, URLs, CPE names) are checked only as far as the
 * specification makes them MUSTs, and not at all on objects marked "defanged": true, whose
 * values are deliberately broken. Nothing here resolves references: a _ref is checked for its
 * target type by the walker, not for the existence of the target.
 */
#include "rules.h"
#include "vocab_sco.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define END {NULL, 0, 0, NULL, NULL, 0, 0}
/* Integers that "MUST NOT be negative"; the upper bound is STIX's integer limit (2^53 - 1). */
#define NONNEG KZ_F_RANGE, NULL, NULL, 0, 9007199254740991.0

/* ---- reference target types ------------------------------------------------------------- */

static const char *const t_addr_or_name[] = {"ipv4-addr", "ipv6-addr", "domain-name", NULL};
static const char *const t_endpoint[] = {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name",
                                         NULL};
static const char *const t_email_addr[] = {"email-addr", NULL};
static const char *const t_artifact[] = {"artifact", NULL};
static const char *const t_artifact_or_file[] = {"artifact", "file", NULL};
static const char *const t_file[] = {"file", NULL};
static const char *const t_file_or_dir[] = {"file", "directory", NULL};
static const char *const t_directory[] = {"directory", NULL};
static const char *const t_mac[] = {"mac-addr", NULL};
static const char *const t_as[] = {"autonomous-system", NULL};
static const char *const t_traffic[] = {"network-traffic", NULL};
static const char *const t_user[] = {"user-account", NULL};
static const char *const t_process[] = {"process", NULL};

/* ---- helpers ---------------------------------------------------------------------------- */

/* Defanged values are broken on purpose (example[.]com): their format is not checked. */
static bool defanged(const kz_vctx *c)
{
    return c->obj && json_is_true(json_object_get(c->obj, "defanged"));
}

static bool prop_exists(const kz_prop_rule *p, kz_stix_version v)
{
    return !((p->flags & KZ_F_ONLY_21) && v == KZ_STIX_20) &&
           !((p->flags & KZ_F_ONLY_20) && v == KZ_STIX_21);
}

/* Does obj hold at least one property of the table (custom properties do not count)?
 * `except` names one property that does not count either (pe_type), or NULL. */
static bool has_table_prop(const json_t *obj, const kz_prop_rule *props, kz_stix_version v,
                           const char *except)
{
    for (const kz_prop_rule *p = props; p->name; p++)
        if (prop_exists(p, v) && (!except || strcmp(p->name, except) != 0) &&
            json_object_get(obj, p->name))
            return true;
    return false;
}

/* Sub-objects in lists (alternate data streams, PE sections, MIME parts, registry values)
 * get their own table; the element must be an object first. */
static bool want_object(kz_vctx *c, const json_t *v)
{
    if (json_is_object(v))
        return true;
    kz_v_error(c, "must be an object");
    return false;
}

static void need_one_of(kz_vctx *c, const json_t *obj, const kz_prop_rule *props,
                        const char *except, const char *what)
{
    if (!has_table_prop(obj, props, c->ver, except))
        kz_v_error(c, "%s must contain at least one of its own properties%s", what,
                   except ? " besides the required one" : "");
}

/* ---- value formats ---------------------------------------------------------------------- */

/* "N" with 0 <= N <= max, no sign, no leading zero. */
static bool parse_prefix(const char *s, int max)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 3)
        return false;
    for (const char *q = s; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    return strtol(s, NULL, 10) <= max; /* at most 3 digits: no overflow */
}

/* Address with an optional CIDR suffix, parsed with inet_pton (which rejects the ambiguous
 * octal-looking "010.0.0.1" forms for IPv4). */
static bool valid_cidr(const char *s, int af)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    unsigned char addr[16];
    if (inet_pton(af, buf, addr) != 1)
        return false;
    return !slash || parse_prefix(slash + 1, af == AF_INET ? 32 : 128);
}

static void check_ipv4_value(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    if (!defanged(c) && !valid_cidr(json_string_value(v), AF_INET))
        kz_v_error(c, "'%s' is not an IPv4 address or CIDR block (a.b.c.d or a.b.c.d/n)",
                   json_string_value(v));
}

static void check_ipv6_value(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    if (!defanged(c) && !valid_cidr(json_string_value(v), AF_INET6))
        kz_v_error(c, "'%s' is not an IPv6 address or CIDR block", json_string_value(v));
}

static void check_mac_value(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    const char *s = json_string_value(v);
    bool ok = strlen(s) == 17;
    for (int i = 0; ok && i < 17; i++)
        ok = i % 3 == 2 ? s[i] == ':'
                        : (isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f'));
    if (!defanged(c) && !ok)
        kz_v_error(c, "'%s' is not a MAC-48 address in lowercase colon form (00:00:ab:cd:ef:01)",
                   s);
}

/* RFC 1034 shape: labels of 1-63 octets, at most 253 in all, no characters that cannot occur
 * in a host name. U-labels (RFC 5890) pass as UTF-8; underscores pass because service names
 * (_dmarc.example.com) are real domain names. */
static void check_domain_value(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    if (defanged(c))
        return;
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n && s[n - 1] == '.')
        n--; /* a fully qualified name's final dot */
    if (n == 0 || n > 253) {
        kz_v_error(c, "a domain name must be 1 to 253 characters");
        return;
    }
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = i < n ? (unsigned char)s[i] : '.';
        if (ch == '.') {
            if (label == 0 || label > 63) {
                kz_v_error(c, "'%s' has an empty label or a label longer than 63 octets", s);
                return;
            }
            if (s[i - label] == '-' || s[i - 1] == '-')
                kz_v_warn(c, "'%s' has a label that starts or ends with '-'", s);
            label = 0;
            continue;
        }
        if (ch < 0x80 && !isalnum(ch) && ch != '-' && ch != '_') {
            kz_v_error(c, "'%s' contains '%c', which cannot occur in a domain name", s, ch);
            return;
        }
        label++;
    }
}

static void check_email_value(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    if (defanged(c))
        return;
    const char *s = json_string_value(v);
    const char *at = strrchr(s, '@');
    if (!at || at == s || !at[1])
        kz_v_error(c, "'%s' is not an addr-spec (local-part@domain)", s);
    else if (strpbrk(s, "<>"))
        kz_v_error(c, "'%s' must be the bare address, without a display name or angle brackets",
                   s);
}

/* RFC 3986: a scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )) and ':', and no characters
 * a URI cannot contain unencoded (spaces, controls, quotes, angle brackets). */
static bool valid_url(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return false;
    const char *q = s + 1;
    while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.')
        q++;
    if (*q != ':')
        return false;
    for (; *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '"' || *q == '<' || *q == '>')
            return false;
    return true;
}

static void check_url_value(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    if (!defanged(c) && !valid_url(json_string_value(v)))
        kz_v_error(c, "'%s' is not a URL (RFC 3986: scheme ':' ..., no spaces)",
                   json_string_value(v));
}

/* "MUST be fully expanded": HKEY_LOCAL_MACHINE, not HKLM. */
static void check_registry_key(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    static const char *const abbrev[] = {"HKLM", "HKCU", "HKCR", "HKU", "HKCC", NULL};
    const char *s = json_string_value(v);
    for (int i = 0; abbrev[i]; i++) {
        size_t n = strlen(abbrev[i]);
        if (strncasecmp(s, abbrev[i], n) == 0 && (s[n] == '\\' || s[n] == 0)) {
            kz_v_error(c, "the hive must be written in full (e.g. HKEY_LOCAL_MACHINE, not %s)",
                       abbrev[i]);
            return;
        }
    }
}

/* CPE 2.3 formatted string: "cpe:2.3:" and 13 colon-separated components in all. */
static void check_cpe(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    const char *s = json_string_value(v);
    int parts = 1;
    for (const char *q = s; *q; q++) {
        if (*q == '\\' && q[1])
            q++;
        else if (*q == ':')
            parts++;
    }
    if (strncmp(s, "cpe:2.3:", 8) != 0 || parts != 13)
        kz_v_error(c, "'%s' is not a CPE 2.3 name (cpe:2.3:part:vendor:product:... with 13 "
                      "components)",
                   s);
}

/* RFC 5646 shape: subtags of 1-8 letters or digits joined by '-', the first one alphabetic
 * (2-8 letters, or the "i"/"x" prefixes). */
static bool valid_lang_tag(const char *s)
{
    size_t first = strcspn(s, "-");
    if (first == 0 || first > 8)
        return false;
    for (size_t i = 0; i < first; i++)
        if (!isalpha((unsigned char)s[i]))
            return false;
    if (first == 1 && tolower((unsigned char)s[0]) != 'i' && tolower((unsigned char)s[0]) != 'x')
        return false;
    size_t len = 0;
    for (const char *q = s + first; *q; q++) {
        if (*q == '-') {
            if (q != s + first && len == 0)
                return false;
            len = 0;
            if (!q[1])
                return false;
        } else if (isalnum((unsigned char)*q) && ++len <= 8) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

static void check_languages(kz_vctx *c, const json_t *v)
{
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (json_is_string(e) && !valid_lang_tag(json_string_value(e))) {
            kz_ptr_push_index(&c->ptr, i);
            kz_v_error(c, "'%s' is not an RFC 5646 language tag", json_string_value(e));
            kz_ptr_pop(&c->ptr);
        }
    }
}

static void check_mime_type(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    const char *s = json_string_value(v);
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strchr(s, ' '))
        kz_v_warn(c, "'%s' does not look like an IANA media type (type/subtype)", s);
}

/* windows-pebinary-ext time_date_stamp "MUST be precise to the second". */
static void check_whole_seconds(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    kz_time t;
    if (kz_time_parse(json_string_value(v), &t, NULL, 0) == 0 && t.frac_digits > 0)
        kz_v_error(c, "must be precise to the second (no fractional seconds)");
}

static void check_protocols(kz_vctx *c, const json_t *v)
{
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *s = json_string_value(e);
        for (const char *q = s; q && *q; q++) {
            if (isupper((unsigned char)*q)) {
                kz_ptr_push_index(&c->ptr, i);
                kz_v_warn(c, "protocol names should be lowercase, as in the IANA registry");
                kz_ptr_pop(&c->ptr);
                break;
            }
        }
    }
}

static void check_lowercase(kz_vctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return; /* the kind's own check reported it */
    for (const char *q = json_string_value(v); *q; q++)
        if (isupper((unsigned char)*q)) {
            kz_v_warn(c, "should be lowercase");
            return;
        }
}

static void check_one_byte_hex(kz_vctx *c, const json_t *v)
{
    if (json_is_string(v) && json_string_length(v) != 2)
        kz_v_warn(c, "an ICMP type or code is one byte (two hex digits)");
}

static void check_entropy(kz_vctx *c, const json_t *v)
{
    double x = json_number_value(v);
    if (x < 0 || x > 8)
        kz_v_warn(c, "Shannon entropy over bytes lies between 0 and 8 (got %g)", x);
}

/* ---- dictionary value types ------------------------------------------------------------- */

enum dict_values { DV_STRING, DV_INT, DV_INT_OR_STRING, DV_STRING_LIST };

static void check_dict_values(kz_vctx *c, const json_t *v, enum dict_values want)
{
    static const char *const what[] = {"a string", "an integer", "an integer or a string",
                                       "a list of strings"};
    if (!json_is_object(v))
        return; /* the kind's own check reported it */
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        bool ok;
        switch (want) {
        case DV_STRING: ok = json_is_string(val); break;
        case DV_INT: ok = json_is_integer(val); break;
        case DV_INT_OR_STRING: ok = json_is_integer(val) || json_is_string(val); break;
        default: {
            ok = json_is_array(val) && json_array_size(val) > 0;
            size_t i;
            const json_t *e;
            json_array_foreach(val, i, e) ok = ok && json_is_string(e);
        }
        }
        if (!ok)
            kz_v_error_at(c, key, "each value of this dictionary must be %s", what[want]);
    }
}

static void dv_string(kz_vctx *c, const json_t *v) { check_dict_values(c, v, DV_STRING); }
static void dv_int(kz_vctx *c, const json_t *v) { check_dict_values(c, v, DV_INT); }
static void dv_int_or_string(kz_vctx *c, const json_t *v)
{
    check_dict_values(c, v, DV_INT_OR_STRING);
}
static void dv_string_list(kz_vctx *c, const json_t *v) { check_dict_values(c, v, DV_STRING_LIST); }

/* additional_header_fields: each value "MUST always be a list of type string". The
 * specification's own complex email example and the OASIS schema also use single strings, so
 * a string is only a warning; anything else is an error. Header fields that have their own
 * property must not be repeated here. */
static void check_header_fields(kz_vctx *c, const json_t *v)
{
    static const char *const own[] = {"date",   "received", "content-type", "from", "sender",
                                      "to",     "cc",       "bcc",          "subject", NULL};
    if (!json_is_object(v))
        return;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        char low[32];
        size_t n = strlen(key);
        if (n < sizeof low) {
            for (size_t i = 0; i <= n; i++)
                low[i] = (char)tolower((unsigned char)key[i]);
            if (kz_str_in(low, own))
                kz_v_warn_at(c, key, "the '%s' header has its own property on email-message",
                             key);
        }
        if (json_is_string(val)) {
            kz_v_warn_at(c, key, "header values should be a list of strings");
            continue;
        }
        bool ok = json_is_array(val) && json_array_size(val) > 0;
        size_t i;
        const json_t *e;
        json_array_foreach(val, i, e) ok = ok && json_is_string(e);
        if (!ok)
            kz_v_error_at(c, key, "a header value must be a list of strings");
    }
}

/* ---- artifact --------------------------------------------------------------------------- */

static const kz_prop_rule artifact_props[] = {
    {"mime_type", KZ_P_STRING, 0, NULL, check_mime_type, 0, 0},
    {"payload_bin", KZ_P_BINARY, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"url", KZ_P_STRING, 0, NULL, check_url_value, 0, 0},
    {"hashes", KZ_P_HASHES, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"encryption_algorithm", KZ_P_ENUM, KZ_F_ONLY_21, kz_vocab_encryption_algorithm_enum, NULL,
     0, 0},
    {"decryption_key", KZ_P_STRING, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    END,
};

static void artifact_check(kz_vctx *c, const json_t *o)
{
    bool bin = json_object_get(o, "payload_bin"), url = json_object_get(o, "url");
    if (!bin && !url)
        kz_v_error(c, "an artifact must have payload_bin or url");
    if (bin && url)
        kz_v_error_at(c, "url", "url must not be present together with payload_bin");
    if (url && !json_object_get(o, "hashes"))
        kz_v_error_at(c, "hashes", "hashes is required when url is present");
    if (c->ver == KZ_STIX_21 && json_object_get(o, "decryption_key") &&
        !json_object_get(o, "encryption_algorithm"))
        kz_v_error_at(c, "decryption_key",
                      "decryption_key must not be present without encryption_algorithm");
}

/* ---- autonomous-system, directory, domain-name, email-addr ------------------------------ */

static const kz_prop_rule as_props[] = {
    {"number", KZ_P_INTEGER, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"rir", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    END,
};

static const kz_prop_rule directory_props[] = {
    {"path", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"path_enc", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"ctime", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"mtime", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"atime", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"created", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"modified", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"accessed", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"contains_refs", KZ_P_REF_LIST, 0, t_file_or_dir, NULL, 0, 0},
    END,
};

static const kz_prop_rule domain_props[] = {
    {"value", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, check_domain_value, 0, 0},
    {"resolves_to_refs", KZ_P_REF_LIST, 0, t_addr_or_name, NULL, 0, 0},
    END,
};

static const kz_prop_rule email_addr_props[] = {
    {"value", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, check_email_value, 0, 0},
    {"display_name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"belongs_to_ref", KZ_P_REF, 0, t_user, NULL, 0, 0},
    END,
};

/* ---- email-message ---------------------------------------------------------------------- */

static const kz_prop_rule mime_part_props[] = {
    {"body", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"body_raw_ref", KZ_P_REF, 0, t_artifact_or_file, NULL, 0, 0},
    {"content_type", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"content_disposition", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    END,
};

static void check_mime_part(kz_vctx *c, const json_t *e)
{
    if (!want_object(c, e))
        return;
    kz_check_props(c, e, mime_part_props, true);
    if (!json_object_get(e, "body") && !json_object_get(e, "body_raw_ref"))
        kz_v_error(c, "a MIME part must have body or body_raw_ref");
}

static const kz_prop_rule email_message_props[] = {
    {"is_multipart", KZ_P_BOOLEAN, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"date", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"content_type", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"from_ref", KZ_P_REF, KZ_F_ID_CONTRIB, t_email_addr, NULL, 0, 0},
    {"sender_ref", KZ_P_REF, 0, t_email_addr, NULL, 0, 0},
    {"to_refs", KZ_P_REF_LIST, 0, t_email_addr, NULL, 0, 0},
    {"cc_refs", KZ_P_REF_LIST, 0, t_email_addr, NULL, 0, 0},
    {"bcc_refs", KZ_P_REF_LIST, 0, t_email_addr, NULL, 0, 0},
    {"message_id", KZ_P_STRING, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"subject", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"received_lines", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"additional_header_fields", KZ_P_DICT, 0, NULL, check_header_fields, 0, 0},
    {"body", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"body_multipart", KZ_P_LIST, 0, NULL, check_mime_part, 0, 0},
    {"raw_email_ref", KZ_P_REF, 0, t_artifact, NULL, 0, 0},
    END,
};

static void email_message_check(kz_vctx *c, const json_t *o)
{
    const json_t *mp = json_object_get(o, "is_multipart");
    if (json_is_true(mp) && json_object_get(o, "body"))
        kz_v_error_at(c, "body", "body must not be used when is_multipart is true "
                                 "(use body_multipart)");
    if (json_is_false(mp) && json_object_get(o, "body_multipart"))
        kz_v_error_at(c, "body_multipart",
                      "body_multipart must not be used when is_multipart is false");
}

/* ---- file and its extensions ------------------------------------------------------------ */

static const kz_prop_rule file_props[] = {
    {"hashes", KZ_P_HASHES, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"size", KZ_P_INTEGER, NONNEG},
    {"name", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"name_enc", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"magic_number_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"mime_type", KZ_P_STRING, 0, NULL, check_mime_type, 0, 0},
    {"ctime", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"mtime", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"atime", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"created", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"modified", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"accessed", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"parent_directory_ref", KZ_P_REF, KZ_F_ID_CONTRIB, t_directory, NULL, 0, 0},
    {"contains_refs", KZ_P_REF_LIST, 0, NULL, NULL, 0, 0},
    {"content_ref", KZ_P_REF, 0, t_artifact, NULL, 0, 0},
    {"is_encrypted", KZ_P_BOOLEAN, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"encryption_algorithm", KZ_P_OPEN_VOCAB, KZ_F_ONLY_20, kz_vocab_encryption_algorithm_20,
     NULL, 0, 0},
    {"decryption_key", KZ_P_STRING, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    END,
};

static void file_check(kz_vctx *c, const json_t *o)
{
    if (!json_object_get(o, "hashes") && !json_object_get(o, "name"))
        kz_v_error(c, "a file must have hashes or name");
    if (c->ver == KZ_STIX_20 && !json_is_true(json_object_get(o, "is_encrypted"))) {
        if (json_object_get(o, "encryption_algorithm"))
            kz_v_error_at(c, "encryption_algorithm",
                          "encryption_algorithm requires is_encrypted to be true");
        if (json_object_get(o, "decryption_key"))
            kz_v_error_at(c, "decryption_key", "decryption_key requires is_encrypted to be true");
    }
}

static const kz_prop_rule archive_ext_props[] = {
    {"contains_refs", KZ_P_REF_LIST, KZ_F_REQUIRED, t_file_or_dir, NULL, 0, 0},
    {"comment", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"version", KZ_P_STRING, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    END,
};

static const kz_prop_rule ads_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"hashes", KZ_P_HASHES, 0, NULL, NULL, 0, 0},
    {"size", KZ_P_INTEGER, NONNEG},
    END,
};

static void check_ads(kz_vctx *c, const json_t *e)
{
    if (want_object(c, e))
        kz_check_props(c, e, ads_props, true);
}

static const kz_prop_rule ntfs_ext_props[] = {
    {"sid", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"alternate_data_streams", KZ_P_LIST, 0, NULL, check_ads, 0, 0},
    END,
};

static void ntfs_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, ntfs_ext_props, NULL, "ntfs-ext");
}

static const kz_prop_rule pdf_ext_props[] = {
    {"version", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"is_optimized", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"document_info_dict", KZ_P_DICT, 0, NULL, dv_string, 0, 0},
    {"pdfid0", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"pdfid1", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    END,
};

static void pdf_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, pdf_ext_props, NULL, "pdf-ext");
}

static const kz_prop_rule raster_ext_props[] = {
    {"image_height", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"image_width", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"bits_per_pixel", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"image_compression_algorithm", KZ_P_STRING, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"exif_tags", KZ_P_DICT, 0, NULL, dv_int_or_string, 0, 0},
    END,
};

static void raster_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, raster_ext_props, NULL, "raster-image-ext");
}

static const kz_prop_rule pe_optional_header_props[] = {
    {"magic_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"major_linker_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"minor_linker_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"size_of_code", KZ_P_INTEGER, NONNEG},
    {"size_of_initialized_data", KZ_P_INTEGER, NONNEG},
    {"size_of_uninitialized_data", KZ_P_INTEGER, NONNEG},
    {"address_of_entry_point", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"base_of_code", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"base_of_data", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"image_base", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"section_alignment", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"file_alignment", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"major_os_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"minor_os_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"major_image_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"minor_image_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"major_subsystem_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"minor_subsystem_version", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"win32_version_value_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"size_of_image", KZ_P_INTEGER, NONNEG},
    {"size_of_headers", KZ_P_INTEGER, NONNEG},
    {"checksum_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"subsystem_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"dll_characteristics_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"size_of_stack_reserve", KZ_P_INTEGER, NONNEG},
    {"size_of_stack_commit", KZ_P_INTEGER, NONNEG},
    {"size_of_heap_reserve", KZ_P_INTEGER, NONNEG},
    {"size_of_heap_commit", KZ_P_INTEGER, NONNEG},
    {"loader_flags_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"number_of_rva_and_sizes", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"hashes", KZ_P_HASHES, 0, NULL, NULL, 0, 0},
    END,
};

static void check_pe_optional_header(kz_vctx *c, const json_t *v)
{
    kz_check_props(c, v, pe_optional_header_props, true);
    need_one_of(c, v, pe_optional_header_props, NULL, "optional_header");
}

static const kz_prop_rule pe_section_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"size", KZ_P_INTEGER, NONNEG},
    {"entropy", KZ_P_FLOAT, 0, NULL, check_entropy, 0, 0},
    {"hashes", KZ_P_HASHES, 0, NULL, NULL, 0, 0},
    END,
};

static void check_pe_section(kz_vctx *c, const json_t *e)
{
    if (want_object(c, e))
        kz_check_props(c, e, pe_section_props, true);
}

static const kz_prop_rule pebinary_ext_props[] = {
    {"pe_type", KZ_P_OPEN_VOCAB, KZ_F_REQUIRED, kz_vocab_windows_pebinary_type, NULL, 0, 0},
    {"imphash", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"machine_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"number_of_sections", KZ_P_INTEGER, NONNEG},
    {"time_date_stamp", KZ_P_TIMESTAMP, 0, NULL, check_whole_seconds, 0, 0},
    {"pointer_to_symbol_table_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"number_of_symbols", KZ_P_INTEGER, NONNEG},
    {"size_of_optional_header", KZ_P_INTEGER, NONNEG},
    {"characteristics_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"file_header_hashes", KZ_P_HASHES, 0, NULL, NULL, 0, 0},
    {"optional_header", KZ_P_OBJECT, 0, NULL, check_pe_optional_header, 0, 0},
    {"sections", KZ_P_LIST, 0, NULL, check_pe_section, 0, 0},
    END,
};

static void pebinary_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, pebinary_ext_props, "pe_type", "windows-pebinary-ext");
}

/* ---- ipv4-addr, ipv6-addr, mac-addr, mutex ---------------------------------------------- */

static const kz_prop_rule ipv4_props[] = {
    {"value", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, check_ipv4_value, 0, 0},
    {"resolves_to_refs", KZ_P_REF_LIST, 0, t_mac, NULL, 0, 0},
    {"belongs_to_refs", KZ_P_REF_LIST, 0, t_as, NULL, 0, 0},
    END,
};

static const kz_prop_rule ipv6_props[] = {
    {"value", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, check_ipv6_value, 0, 0},
    {"resolves_to_refs", KZ_P_REF_LIST, 0, t_mac, NULL, 0, 0},
    {"belongs_to_refs", KZ_P_REF_LIST, 0, t_as, NULL, 0, 0},
    END,
};

static const kz_prop_rule mac_props[] = {
    {"value", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, check_mac_value, 0, 0},
    END,
};

static const kz_prop_rule mutex_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    END,
};

/* ---- network-traffic and its extensions ------------------------------------------------- */

static const kz_prop_rule traffic_props[] = {
    {"start", KZ_P_TIMESTAMP, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"end", KZ_P_TIMESTAMP, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"is_active", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"src_ref", KZ_P_REF, KZ_F_ID_CONTRIB, t_endpoint, NULL, 0, 0},
    {"dst_ref", KZ_P_REF, KZ_F_ID_CONTRIB, t_endpoint, NULL, 0, 0},
    {"src_port", KZ_P_INTEGER, KZ_F_RANGE | KZ_F_ID_CONTRIB, NULL, NULL, 0, 65535},
    {"dst_port", KZ_P_INTEGER, KZ_F_RANGE | KZ_F_ID_CONTRIB, NULL, NULL, 0, 65535},
    {"protocols", KZ_P_STRING_LIST, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, check_protocols, 0,
     0},
    {"src_byte_count", KZ_P_INTEGER, NONNEG},
    {"dst_byte_count", KZ_P_INTEGER, NONNEG},
    {"src_packets", KZ_P_INTEGER, NONNEG},
    {"dst_packets", KZ_P_INTEGER, NONNEG},
    {"ipfix", KZ_P_DICT, 0, NULL, dv_int_or_string, 0, 0},
    {"src_payload_ref", KZ_P_REF, 0, t_artifact, NULL, 0, 0},
    {"dst_payload_ref", KZ_P_REF, 0, t_artifact, NULL, 0, 0},
    {"encapsulates_refs", KZ_P_REF_LIST, 0, t_traffic, NULL, 0, 0},
    {"encapsulated_by_ref", KZ_P_REF, 0, t_traffic, NULL, 0, 0},
    END,
};

static void traffic_check(kz_vctx *c, const json_t *o)
{
    if (!json_object_get(o, "src_ref") && !json_object_get(o, "dst_ref"))
        kz_v_error(c, "network-traffic must have src_ref or dst_ref");
    if (json_is_true(json_object_get(o, "is_active")) && json_object_get(o, "end"))
        kz_v_error_at(c, "end", "end must not be present while is_active is true");
    kz_time start, end;
    if (kz_get_time(o, "start", &start) && kz_get_time(o, "end", &end) &&
        kz_time_cmp(&end, &start) < 0)
        kz_v_error_at(c, "end", "end must not be earlier than start");
}

static const kz_prop_rule http_ext_props[] = {
    {"request_method", KZ_P_STRING, KZ_F_REQUIRED, NULL, check_lowercase, 0, 0},
    {"request_value", KZ_P_STRING, KZ_F_REQUIRED, NULL, NULL, 0, 0},
    {"request_version", KZ_P_STRING, 0, NULL, check_lowercase, 0, 0},
    {"request_header", KZ_P_DICT, 0, NULL, dv_string_list, 0, 0},
    {"message_body_length", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"message_body_data_ref", KZ_P_REF, 0, t_artifact, NULL, 0, 0},
    END,
};

static const kz_prop_rule icmp_ext_props[] = {
    {"icmp_type_hex", KZ_P_HEX, KZ_F_REQUIRED, NULL, check_one_byte_hex, 0, 0},
    {"icmp_code_hex", KZ_P_HEX, KZ_F_REQUIRED, NULL, check_one_byte_hex, 0, 0},
    END,
};

static const kz_prop_rule socket_ext_props[] = {
    {"address_family", KZ_P_ENUM, KZ_F_REQUIRED, kz_vocab_socket_address_family_enum, NULL, 0,
     0},
    {"is_blocking", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"is_listening", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"protocol_family", KZ_P_STRING, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"options", KZ_P_DICT, 0, NULL, dv_int, 0, 0},
    {"socket_type", KZ_P_ENUM, 0, kz_vocab_socket_type_enum, NULL, 0, 0},
    {"socket_descriptor", KZ_P_INTEGER, NONNEG},
    {"socket_handle", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    END,
};

static const kz_prop_rule tcp_ext_props[] = {
    {"src_flags_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    {"dst_flags_hex", KZ_P_HEX, 0, NULL, NULL, 0, 0},
    END,
};

static void tcp_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, tcp_ext_props, NULL, "tcp-ext");
}

/* ---- process and its extensions --------------------------------------------------------- */

static const kz_prop_rule process_props[] = {
    {"is_hidden", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"pid", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"created_time", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"cwd", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"command_line", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"environment_variables", KZ_P_DICT, 0, NULL, dv_string, 0, 0},
    {"opened_connection_refs", KZ_P_REF_LIST, 0, t_traffic, NULL, 0, 0},
    {"creator_user_ref", KZ_P_REF, 0, t_user, NULL, 0, 0},
    {"image_ref", KZ_P_REF, KZ_F_ONLY_21, t_file, NULL, 0, 0},
    {"parent_ref", KZ_P_REF, 0, t_process, NULL, 0, 0},
    {"child_refs", KZ_P_REF_LIST, 0, t_process, NULL, 0, 0},
    {"name", KZ_P_STRING, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"created", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"arguments", KZ_P_STRING_LIST, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"binary_ref", KZ_P_REF, KZ_F_ONLY_20, t_file, NULL, 0, 0},
    END,
};

static void process_check(kz_vctx *c, const json_t *o)
{
    if (!json_object_get(o, "extensions") && !has_table_prop(o, process_props, c->ver, NULL))
        kz_v_error(c, "a process must have at least one property besides the common ones");
}

static const kz_prop_rule win_process_ext_props[] = {
    {"aslr_enabled", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"dep_enabled", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"priority", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"owner_sid", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    /* The 2.1 text says windows_title; 2.0, the OASIS schema and the libraries say
     * window_title. Both are accepted. */
    {"window_title", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"windows_title", KZ_P_STRING, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"startup_info", KZ_P_DICT, 0, NULL, NULL, 0, 0},
    {"integrity_level", KZ_P_ENUM, KZ_F_ONLY_21, kz_vocab_windows_integrity_level_enum, NULL, 0,
     0},
    END,
};

static void win_process_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, win_process_ext_props, NULL, "windows-process-ext");
    const json_t *p = json_object_get(e, "priority");
    if (json_is_string(p)) {
        const char *s = json_string_value(p);
        size_t n = strlen(s);
        if (n < 6 || strcmp(s + n - 6, "_CLASS") != 0)
            kz_v_warn_at(c, "priority", "a Windows priority class should end in _CLASS");
    }
}

static const kz_prop_rule win_service_ext_props[] = {
    {"service_name", KZ_P_STRING, KZ_F_REQ_20, NULL, NULL, 0, 0},
    {"descriptions", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"display_name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"group_name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"start_type", KZ_P_ENUM, 0, kz_vocab_windows_service_start_type_enum, NULL, 0, 0},
    {"service_dll_refs", KZ_P_REF_LIST, 0, t_file, NULL, 0, 0},
    {"service_type", KZ_P_ENUM, 0, kz_vocab_windows_service_type_enum, NULL, 0, 0},
    {"service_status", KZ_P_ENUM, 0, kz_vocab_windows_service_status_enum, NULL, 0, 0},
    END,
};

static void win_service_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, win_service_ext_props, NULL, "windows-service-ext");
}

/* ---- software, url ---------------------------------------------------------------------- */

static const kz_prop_rule software_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"cpe", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, check_cpe, 0, 0},
    {"swid", KZ_P_STRING, KZ_F_ONLY_21 | KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"languages", KZ_P_STRING_LIST, 0, NULL, check_languages, 0, 0},
    {"vendor", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"version", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    END,
};

static const kz_prop_rule url_props[] = {
    {"value", KZ_P_STRING, KZ_F_REQUIRED | KZ_F_ID_CONTRIB, NULL, check_url_value, 0, 0},
    END,
};

/* ---- user-account ----------------------------------------------------------------------- */

static const kz_prop_rule user_account_props[] = {
    {"user_id", KZ_P_STRING, KZ_F_REQ_20 | KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"credential", KZ_P_STRING, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"account_login", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"account_type", KZ_P_OPEN_VOCAB, KZ_F_ID_CONTRIB, kz_vocab_account_type, NULL, 0, 0},
    {"display_name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"is_service_account", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"is_privileged", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"can_escalate_privs", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"is_disabled", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"account_created", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"account_expires", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"credential_last_changed", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"password_last_changed", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"account_first_login", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"account_last_login", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    END,
};

static void user_account_check(kz_vctx *c, const json_t *o)
{
    if (!json_object_get(o, "extensions") &&
        !has_table_prop(o, user_account_props, c->ver, NULL))
        kz_v_error(c, "a user-account must have at least one of its own properties");
}

static const kz_prop_rule unix_account_ext_props[] = {
    {"gid", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"groups", KZ_P_STRING_LIST, 0, NULL, NULL, 0, 0},
    {"home_dir", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"shell", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    END,
};

static void unix_account_check(kz_vctx *c, const json_t *e)
{
    need_one_of(c, e, unix_account_ext_props, NULL, "unix-account-ext");
}

/* ---- windows-registry-key --------------------------------------------------------------- */

static const kz_prop_rule registry_value_props[] = {
    {"name", KZ_P_STRING, KZ_F_REQ_20, NULL, NULL, 0, 0},
    {"data", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"data_type", KZ_P_ENUM, 0, kz_vocab_windows_registry_datatype_enum, NULL, 0, 0},
    END,
};

static void check_registry_value(kz_vctx *c, const json_t *e)
{
    if (!want_object(c, e))
        return;
    kz_check_props(c, e, registry_value_props, true);
    need_one_of(c, e, registry_value_props, NULL, "a registry value");
}

static const kz_prop_rule registry_key_props[] = {
    {"key", KZ_P_STRING, KZ_F_REQ_20 | KZ_F_ID_CONTRIB, NULL, check_registry_key, 0, 0},
    {"values", KZ_P_LIST, KZ_F_ID_CONTRIB, NULL, check_registry_value, 0, 0},
    {"modified_time", KZ_P_TIMESTAMP, KZ_F_ONLY_21, NULL, NULL, 0, 0},
    {"modified", KZ_P_TIMESTAMP, KZ_F_ONLY_20, NULL, NULL, 0, 0},
    {"creator_user_ref", KZ_P_REF, 0, t_user, NULL, 0, 0},
    {"number_of_subkeys", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    END,
};

static void registry_key_check(kz_vctx *c, const json_t *o)
{
    if (!has_table_prop(o, registry_key_props, c->ver, NULL))
        kz_v_error(c, "a windows-registry-key must have at least one of its own properties");
}

/* ---- x509-certificate ------------------------------------------------------------------- */

static const kz_prop_rule x509_v3_props[] = {
    {"basic_constraints", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"name_constraints", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"policy_constraints", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"key_usage", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"extended_key_usage", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"subject_key_identifier", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"authority_key_identifier", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"subject_alternative_name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"issuer_alternative_name", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"subject_directory_attributes", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"crl_distribution_points", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"inhibit_any_policy", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"private_key_usage_period_not_before", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"private_key_usage_period_not_after", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"certificate_policies", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"policy_mappings", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    END,
};

static void check_x509_v3(kz_vctx *c, const json_t *v)
{
    kz_check_props(c, v, x509_v3_props, true);
    need_one_of(c, v, x509_v3_props, NULL, "x509_v3_extensions");
}

static const kz_prop_rule x509_props[] = {
    {"is_self_signed", KZ_P_BOOLEAN, 0, NULL, NULL, 0, 0},
    {"hashes", KZ_P_HASHES, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"version", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"serial_number", KZ_P_STRING, KZ_F_ID_CONTRIB, NULL, NULL, 0, 0},
    {"signature_algorithm", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"issuer", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"validity_not_before", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"validity_not_after", KZ_P_TIMESTAMP, 0, NULL, NULL, 0, 0},
    {"subject", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"subject_public_key_algorithm", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"subject_public_key_modulus", KZ_P_STRING, 0, NULL, NULL, 0, 0},
    {"subject_public_key_exponent", KZ_P_INTEGER, 0, NULL, NULL, 0, 0},
    {"x509_v3_extensions", KZ_P_OBJECT, 0, NULL, check_x509_v3, 0, 0},
    END,
};

static void x509_check(kz_vctx *c, const json_t *o)
{
    if (!has_table_prop(o, x509_props, c->ver, NULL))
        kz_v_error(c, "an x509-certificate must have at least one of its own properties");
    kz_time a, b;
    if (kz_get_time(o, "validity_not_before", &a) && kz_get_time(o, "validity_not_after", &b) &&
        kz_time_cmp(&b, &a) < 0)
        kz_v_warn_at(c, "validity_not_after", "validity ends before it begins");
}

/* ---- the tables ------------------------------------------------------------------------- */

const kz_type_rules kz_sco_rules[] = {
    {"artifact", KZ_STIX_SCO, 0, artifact_props, artifact_check},
    {"autonomous-system", KZ_STIX_SCO, 0, as_props, NULL},
    {"directory", KZ_STIX_SCO, 0, directory_props, NULL},
    {"domain-name", KZ_STIX_SCO, 0, domain_props, NULL},
    {"email-addr", KZ_STIX_SCO, 0, email_addr_props, NULL},
    {"email-message", KZ_STIX_SCO, 0, email_message_props, email_message_check},
    {"file", KZ_STIX_SCO, KZ_F_ID_EXTENSIONS, file_props, file_check},
    {"ipv4-addr", KZ_STIX_SCO, 0, ipv4_props, NULL},
    {"ipv6-addr", KZ_STIX_SCO, 0, ipv6_props, NULL},
    {"mac-addr", KZ_STIX_SCO, 0, mac_props, NULL},
    {"mutex", KZ_STIX_SCO, 0, mutex_props, NULL},
    {"network-traffic", KZ_STIX_SCO, KZ_F_ID_EXTENSIONS, traffic_props, traffic_check},
    {"process", KZ_STIX_SCO, 0, process_props, process_check},
    {"software", KZ_STIX_SCO, 0, software_props, NULL},
    {"url", KZ_STIX_SCO, 0, url_props, NULL},
    {"user-account", KZ_STIX_SCO, 0, user_account_props, user_account_check},
    {"windows-registry-key", KZ_STIX_SCO, 0, registry_key_props, registry_key_check},
    {"x509-certificate", KZ_STIX_SCO, 0, x509_props, x509_check},
    {NULL, 0, 0, NULL, NULL},
};

const kz_ext_rules kz_sco_ext_rules[] = {
    {"archive-ext", "file", archive_ext_props, NULL},
    {"ntfs-ext", "file", ntfs_ext_props, ntfs_check},
    {"pdf-ext", "file", pdf_ext_props, pdf_check},
    {"raster-image-ext", "file", raster_ext_props, raster_check},
    {"windows-pebinary-ext", "file", pebinary_ext_props, pebinary_check},
    {"http-request-ext", "network-traffic", http_ext_props, NULL},
    {"icmp-ext", "network-traffic", icmp_ext_props, NULL},
    {"socket-ext", "network-traffic", socket_ext_props, NULL},
    {"tcp-ext", "network-traffic", tcp_ext_props, tcp_check},
    {"windows-process-ext", "process", win_process_ext_props, win_process_check},
    {"windows-service-ext", "process", win_service_ext_props, win_service_check},
    {"unix-account-ext", "user-account", unix_account_ext_props, unix_account_check},
    {NULL, NULL, NULL, NULL},
};
