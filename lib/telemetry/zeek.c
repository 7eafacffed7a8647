/*
 * Zeek log decoder: ASCII (TSV) logs described by their own #separator/#fields/#types
 * headers, and JSON logs (one object per line). Columns are mapped once per header to field
 * ids, never by position, so any log with well-known column names (id.orig_h, query, host,
 * server_name, md5, mailfrom, ...) yields what it carries; the #path picks the record kind.
 *
 * Invariants: values are unescaped (\xHH) in place in the caller's line, so every record
 * string points into that line; a row whose column count differs from #fields is rejected
 * as a whole (its values may be shifted); a value that does not parse (time, address, port,
 * count) is reported and left unset while the rest of the row is still emitted.
 * Not done: the #open/#close times, and type checking beyond the set/vector split.
 */
#include "tel_internal.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAX_COLS 512

struct kz_tel_zeek {
    char *name;
    kz_tel_sink sink;
    kz_tel_stats st;
    kz_tel_record rec;
    uint64_t lineno;

    char sep, set_sep;
    char empty[32], unset[32];
    size_t empty_n, unset_n;
    char path[64];
    size_t path_n;
    char file_log[64]; /* log name from the input name, for JSON lines without _path */
    size_t file_log_n;

    bool have_fields;
    uint16_t ncols;
    uint8_t colmap[MAX_COLS];
    bool multi[MAX_COLS];
    char *names;              /* the #fields line, NUL-split, for error messages */
    uint16_t name_off[MAX_COLS];

    kz_tel_jmap jmap;
    int err_reason; /* first field error in the current row, -1 none */
    char err_field[96]; /* copied: the JSON scanner's path buffer moves on */
};

static const kz_tel_jmap_entry zeek_fields[] = {
    {"ts", KZ_F_TS},
    {"uid", KZ_F_UID},
    {"id.orig_h", KZ_F_SRC},
    {"id.orig_p", KZ_F_SPORT},
    {"id.resp_h", KZ_F_DST},
    {"id.resp_p", KZ_F_DPORT},
    {"proto", KZ_F_PROTO},
    {"_path", KZ_F_LOG},
    {"query", KZ_F_DNS_QUERY},
    {"qtype", KZ_F_DNS_QTYPE},
    {"answers", KZ_F_DNS_ANSWER},
    {"method", KZ_F_HTTP_METHOD},
    {"host", KZ_F_HTTP_HOST},
    {"uri", KZ_F_HTTP_URI},
    {"user_agent", KZ_F_HTTP_UA},
    {"referrer", KZ_F_HTTP_REFERRER},
    {"server_name", KZ_F_TLS_SNI},
    {"version", KZ_F_TLS_VERSION},
    {"ja3", KZ_F_JA3},
    {"ja3s", KZ_F_JA3S},
    {"ja4", KZ_F_JA4},
    {"subject", KZ_F_SUBJECT},
    {"issuer", KZ_F_X509_ISSUER},
    {"certificate.subject", KZ_F_X509_SUBJECT},
    {"certificate.issuer", KZ_F_X509_ISSUER},
    {"certificate.serial", KZ_F_X509_SERIAL},
    {"fingerprint", KZ_F_X509_FP},
    {"cert_chain_fps", KZ_F_X509_FP}, /* ssl.log: the first is the server's certificate */
    {"filename", KZ_F_FILE_NAME},
    {"md5", KZ_F_MD5},
    {"sha1", KZ_F_SHA1},
    {"sha256", KZ_F_SHA256},
    {"mime_type", KZ_F_MIME},
    {"mailfrom", KZ_F_MAIL_FROM},
    {"from", KZ_F_MAIL_FROM},
    {"rcptto", KZ_F_MAIL_TO},
    {"to", KZ_F_MAIL_TO},
    {"orig_bytes", KZ_F_BYTES_TS},
    {"resp_bytes", KZ_F_BYTES_TC},
    {"orig_pkts", KZ_F_PKTS_TS},
    {"resp_pkts", KZ_F_PKTS_TC},
    {"duration", KZ_F_DURATION},
    {"note", KZ_F_SIGNATURE},
    {"name", KZ_F_SIGNATURE},
    {"msg", KZ_F_CATEGORY},
    {"tx_hosts", KZ_F_TX_HOST},
    {"rx_hosts", KZ_F_RX_HOST},
    {"src", KZ_F_TX_HOST},
    {"dst", KZ_F_RX_HOST},
};

kz_tel_zeek *kz_tel_zeek_new(const char *input_name, const kz_tel_sink *sink)
{
    kz_tel_zeek *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->name = strdup(input_name ? input_name : "zeek");
    if (!z->name) {
        free(z);
        return NULL;
    }
    if (sink)
        z->sink = *sink;
    z->sep = '\t';
    z->set_sep = ',';
    memcpy(z->empty, "(empty)", 8);
    z->empty_n = 7;
    z->unset[0] = '-';
    z->unset_n = 1;
    const char *base = strrchr(z->name, '/');
    base = base ? base + 1 : z->name;
    /* Zeek's rotated names ("dns.12:00:00-13:00:00.log") and the test baselines
     * ("opt.basic__dns.log") both keep the log name before the first dot after any "__" */
    const char *u = strstr(base, "__");
    if (u)
        base = u + 2;
    size_t n = strcspn(base, ".");
    if (n >= sizeof z->file_log)
        n = sizeof z->file_log - 1;
    memcpy(z->file_log, base, n);
    z->file_log_n = n;
    kz_tel_jmap_init(&z->jmap, zeek_fields, sizeof zeek_fields / sizeof zeek_fields[0]);
    return z;
}

void kz_tel_zeek_free(kz_tel_zeek *z)
{
    if (!z)
        return;
    free(z->names);
    free(z->name);
    free(z);
}

const kz_tel_stats *kz_tel_zeek_stats(const kz_tel_zeek *z)
{
    return &z->st;
}

/* Decode Zeek's \xHH escapes (and a doubled backslash) in place; returns the new length. */
static size_t unescape(char *v, size_t n)
{
    if (!memchr(v, '\\', n))
        return n;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 3 < n && v[i + 1] == 'x') {
            int hi = v[i + 2], lo = v[i + 3];
            int h = (hi >= '0' && hi <= '9') ? hi - '0'
                    : (hi >= 'a' && hi <= 'f') ? hi - 'a' + 10
                    : (hi >= 'A' && hi <= 'F') ? hi - 'A' + 10 : -1;
            int l = (lo >= '0' && lo <= '9') ? lo - '0'
                    : (lo >= 'a' && lo <= 'f') ? lo - 'a' + 10
                    : (lo >= 'A' && lo <= 'F') ? lo - 'A' + 10 : -1;
            if (h >= 0 && l >= 0) {
                v[o++] = (char)(h << 4 | l);
                i += 3;
                continue;
            }
        } else if (v[i] == '\\' && i + 1 < n && v[i + 1] == '\\') {
            v[o++] = '\\';
            i++;
            continue;
        }
        v[o++] = v[i];
    }
    return o;
}

/* Header value after the keyword and one separator (or a space for #separator). */
static void copy_value(char *dst, size_t cap, size_t *dn, const char *v, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
    *dn = n;
}

static void header(kz_tel_zeek *z, char *line, size_t len)
{
    if (len >= 11 && memcmp(line, "#separator ", 11) == 0) {
        char *v = line + 11;
        size_t n = unescape(v, len - 11);
        if (n != 1) {
            kz_tel_report(&z->sink, &z->st, z->name, z->lineno, KZ_TEL_R_ZEEK_BAD_HEADER,
                          "#separator must be one character");
            return;
        }
        z->sep = v[0];
        return;
    }
    char *tab = memchr(line, z->sep, len);
    if (!tab)
        return; /* "#close ..." style or a comment: nothing to learn */
    size_t kn = (size_t)(tab - line);
    char *v = tab + 1;
    size_t vn = len - kn - 1;
    if (kn == 14 && memcmp(line, "#set_separator", 14) == 0) {
        vn = unescape(v, vn);
        if (vn != 1) {
            kz_tel_report(&z->sink, &z->st, z->name, z->lineno, KZ_TEL_R_ZEEK_BAD_HEADER,
                          "#set_separator must be one character");
            return;
        }
        z->set_sep = v[0];
    } else if (kn == 12 && memcmp(line, "#empty_field", 12) == 0) {
        copy_value(z->empty, sizeof z->empty, &z->empty_n, v, unescape(v, vn));
    } else if (kn == 12 && memcmp(line, "#unset_field", 12) == 0) {
        copy_value(z->unset, sizeof z->unset, &z->unset_n, v, unescape(v, vn));
    } else if (kn == 5 && memcmp(line, "#path", 5) == 0) {
        copy_value(z->path, sizeof z->path, &z->path_n, v, unescape(v, vn));
    } else if (kn == 7 && memcmp(line, "#fields", 7) == 0) {
        free(z->names);
        z->names = malloc(vn + 1);
        z->have_fields = false;
        if (!z->names)
            return;
        memcpy(z->names, v, vn);
        z->names[vn] = 0;
        uint16_t c = 0;
        size_t i = 0;
        for (;;) {
            if (c == MAX_COLS) {
                kz_tel_report(&z->sink, &z->st, z->name, z->lineno, KZ_TEL_R_ZEEK_BAD_HEADER,
                              "more than %d columns", MAX_COLS);
                return;
            }
            char *s = z->names + i;
            char *e = memchr(s, z->sep, vn - i);
            size_t n = e ? (size_t)(e - s) : vn - i;
            s[n] = 0;
            z->name_off[c] = (uint16_t)(i > 65535 ? 65535 : i);
            z->colmap[c] = (uint8_t)kz_tel_jmap_get(&z->jmap, s, n, NULL);
            z->multi[c] = z->colmap[c] == KZ_F_DNS_ANSWER || z->colmap[c] == KZ_F_MAIL_TO ||
                          z->colmap[c] == KZ_F_TX_HOST || z->colmap[c] == KZ_F_RX_HOST;
            c++;
            if (!e)
                break;
            i += n + 1;
        }
        z->ncols = c;
        z->have_fields = true;
    } else if (kn == 6 && memcmp(line, "#types", 6) == 0 && z->have_fields) {
        uint16_t c = 0;
        size_t i = 0;
        while (c < z->ncols) {
            char *s = v + i;
            char *e = memchr(s, z->sep, vn - i);
            size_t n = e ? (size_t)(e - s) : vn - i;
            z->multi[c] = (n > 4 && memcmp(s, "set[", 4) == 0) ||
                          (n > 7 && memcmp(s, "vector[", 7) == 0);
            c++;
            if (!e)
                break;
            i += n + 1;
        }
        if (c != z->ncols)
            kz_tel_report(&z->sink, &z->st, z->name, z->lineno, KZ_TEL_R_ZEEK_BAD_HEADER,
                          "#types has %u columns, #fields %u", c, z->ncols);
    }
}

static void note_error(kz_tel_zeek *z, int reason, const char *field, size_t fn)
{
    if (reason >= 0 && z->err_reason < 0) {
        z->err_reason = reason;
        size_t n = fn < sizeof z->err_field - 1 ? fn : sizeof z->err_field - 1;
        memcpy(z->err_field, field, n);
        z->err_field[n] = 0;
    }
}

/* Settle what depends on the log name, count, and hand the record to the sink. */
static void finish(kz_tel_zeek *z)
{
    kz_tel_record *r = &z->rec;
    if (!r->log.p) {
        if (z->path_n)
            r->log = (kz_tel_str){z->path, (uint32_t)z->path_n};
        else
            r->log = (kz_tel_str){z->file_log, (uint32_t)z->file_log_n};
    }
    r->kind = kz_tel_kind_from_log(r->log.p, r->log.n);
    if (r->kind == KZ_TEL_SMTP && r->x509_subject.p) {
        r->mail_subject = r->x509_subject;
        r->x509_subject = (kz_tel_str){0};
    }
    if (r->kind != KZ_TEL_TLS)
        r->tls_version = (kz_tel_str){0};
    if (r->kind != KZ_TEL_ALERT) {
        r->alert_signature = (kz_tel_str){0};
        r->alert_category = (kz_tel_str){0};
    }
    if (r->kind != KZ_TEL_SMTP && r->kind != KZ_TEL_OTHER) {
        r->mail_from = (kz_tel_str){0}; /* "from"/"to" mean mail only in mail logs */
        memset(r->mail_to, 0, r->n_mail_to * sizeof r->mail_to[0]); /* see record_reset */
        r->n_mail_to = 0;
    }
    if (z->err_reason >= 0)
        kz_tel_report(&z->sink, &z->st, z->name, z->lineno, (kz_tel_reason)z->err_reason,
                      "%s: unusable value", z->err_field);
    z->st.records++;
    if (z->sink.record)
        z->sink.record(z->sink.ctx, r);
}

static void json_cb(void *ctx, int id, int type, char *v, size_t vn, const char *path, size_t pn)
{
    kz_tel_zeek *z = ctx;
    if (type == KZ_TEL_J_STR || type == KZ_TEL_J_NUM)
        note_error(z, kz_tel_set_field(&z->rec, id, v, vn), path, pn);
}

static void json_line(kz_tel_zeek *z, char *line, size_t len)
{
    size_t at = 0;
    int rc = kz_tel_json_walk(line, len, &z->jmap, json_cb, z, &at);
    if (rc) {
        kz_tel_report(&z->sink, &z->st, z->name, z->lineno,
                      rc == -2 ? KZ_TEL_R_JSON_TOO_DEEP : KZ_TEL_R_JSON_SYNTAX,
                      "invalid JSON at byte %zu", at);
        return;
    }
    finish(z);
}

/* A column's value failed: remember it by the column's name (looked up only then). */
static void col_error(kz_tel_zeek *z, int reason, unsigned col)
{
    if (reason >= 0 && z->err_reason < 0) {
        const char *fname = z->names + z->name_off[col];
        note_error(z, reason, fname, strlen(fname));
    }
}

/* esc: the line holds a backslash somewhere (most lines hold none, and then no value needs
 * unescaping). */
static void tsv_value(kz_tel_zeek *z, unsigned col, char *v, size_t n, bool esc)
{
    int id = z->colmap[col];
    if ((n == z->unset_n && memcmp(v, z->unset, n) == 0) ||
        (n == z->empty_n && memcmp(v, z->empty, n) == 0))
        return;
    if (!z->multi[col]) {
        if (esc)
            n = unescape(v, n);
        col_error(z, kz_tel_set_field(&z->rec, id, v, n), col);
        return;
    }
    for (;;) {
        char *e = memchr(v, z->set_sep, n);
        size_t k = e ? (size_t)(e - v) : n;
        size_t u = esc ? unescape(v, k) : k;
        col_error(z, kz_tel_set_field(&z->rec, id, v, u), col);
        if (!e)
            break;
        n -= k + 1;
        v = e + 1;
    }
}

/* Bit i set when s[i] == c, for the first n <= 64 bytes of s. Values are short (a dozen
 * bytes), so a memchr call per column cost more than the search; this finds every
 * separator of 64 bytes at once. */
static uint64_t byte_mask64(const char *s, size_t n, char c)
{
    uint64_t m = 0;
    size_t i = 0;
#if defined(__SSE2__)
    __m128i k = _mm_set1_epi8(c);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k)) << i;
    }
#endif
    for (; i < n; i++)
        m |= (uint64_t)(s[i] == c) << i;
    return m;
}

int kz_tel_zeek_line(kz_tel_zeek *z, char *line, size_t len)
{
    z->lineno++;
    z->st.units++;
    z->st.bytes += len + 1;
    if (len == 0)
        return 0;
    if (line[0] == '#') {
        header(z, line, len);
        return 0;
    }
    kz_tel_record_reset(&z->rec);
    z->rec.input = KZ_TEL_IN_ZEEK;
    z->rec.input_name = z->name;
    z->rec.pos = z->lineno;
    z->err_reason = -1;
    if (line[0] == '{' || line[0] == '[') {
        json_line(z, line, len);
        return 0;
    }
    if (!z->have_fields) {
        kz_tel_report(&z->sink, &z->st, z->name, z->lineno, KZ_TEL_R_ZEEK_NO_HEADER,
                      "data row before any #fields header");
        return 0;
    }
    unsigned col = 0;
    bool esc = memchr(line, '\\', len) != NULL;
    size_t start = 0;
    for (size_t base = 0; base < len; base += 64) {
        size_t bn = len - base < 64 ? len - base : 64;
        uint64_t m = byte_mask64(line + base, bn, z->sep);
        while (m) {
            size_t at = base + (size_t)__builtin_ctzll(m);
            m &= m - 1;
            if (col < z->ncols && z->colmap[col])
                tsv_value(z, col, line + start, at - start, esc);
            col++;
            start = at + 1;
        }
    }
    if (col < z->ncols && z->colmap[col])
        tsv_value(z, col, line + start, len - start, esc);
    col++;
    if (col != z->ncols) {
        kz_tel_report(&z->sink, &z->st, z->name, z->lineno, KZ_TEL_R_ZEEK_FIELD_COUNT,
                      "%u columns, #fields has %u", col, z->ncols);
        return 0;
    }
    finish(z);
    return 0;
}

static int zeek_line_fn(void *dec, char *line, size_t len)
{
    return kz_tel_zeek_line(dec, line, len);
}

static void zeek_long(void *dec, uint64_t line)
{
    kz_tel_zeek *z = dec;
    z->lineno = line;
    z->st.units++;
    kz_tel_report(&z->sink, &z->st, z->name, line, KZ_TEL_R_LINE_TOO_LONG, "line too long");
}

int kz_tel_zeek_file(kz_tel_zeek *z, const char *path, char *err, size_t errlen)
{
    return kz_tel_read_lines(path, 0, zeek_line_fn, z, zeek_long, err, errlen);
}
