/*
 * Suricata EVE JSON decoder: one JSON object per line, event_type selects the record kind.
 * Reads DNS in both the v2 form (top-level rrname/rrtype/rdata, type query/answer) and the
 * v3 form (queries[], answers[], grouped{}), http, tls and quic (sni, ja3/ja3s {hash,string},
 * ja4, certificate fields), fileinfo hashes, flow and netflow counters, smtp and email, and
 * alert (with whatever protocol objects the alert carries).
 *
 * Invariants: the line is scanned once by the path scanner, never turned into a DOM; strings
 * are unescaped in place, so the record points into the caller's line. A line that is not a
 * JSON object, or has no event_type, is reported and produces no record.
 */
#include "tel_internal.h"

#include <stdlib.h>
#include <string.h>

struct kz_tel_eve {
    char *name;
    kz_tel_sink sink;
    kz_tel_stats st;
    kz_tel_record rec;
    uint64_t lineno;
    kz_tel_jmap jmap;
    int err_reason;
    char err_path[96]; /* copied: the scanner's path buffer moves on */
};

static const kz_tel_jmap_entry eve_fields[] = {
    {"timestamp", KZ_F_TS},
    {"flow_id", KZ_F_UID},
    {"src_ip", KZ_F_SRC},
    {"src_port", KZ_F_SPORT},
    {"dest_ip", KZ_F_DST},
    {"dest_port", KZ_F_DPORT},
    {"proto", KZ_F_PROTO},
    {"event_type", KZ_F_LOG},
    /* DNS v2 (7.0) */
    {"dns.type", KZ_F_DNS_DIR},
    {"dns.rrname", KZ_F_DNS_QUERY},
    {"dns.rrtype", KZ_F_DNS_QTYPE},
    {"dns.rdata", KZ_F_DNS_ANSWER},
    {"dns.answers.rdata", KZ_F_DNS_ANSWER},
    /* DNS v3 (8.0); "grouped" holds arrays named by record type, all answers */
    {"dns.grouped", KZ_F_DNS_ANSWER + KZ_TEL_JMAP_SUBTREE},
    {"dns.answer.grouped", KZ_F_DNS_ANSWER + KZ_TEL_JMAP_SUBTREE},
    {"dns.queries.rrname", KZ_F_DNS_QUERY},
    {"dns.queries.rrtype", KZ_F_DNS_QTYPE},
    /* DNS inside 7.0 alerts */
    {"dns.query.rrname", KZ_F_DNS_QUERY},
    {"dns.query.rrtype", KZ_F_DNS_QTYPE},
    {"dns.answer.rrname", KZ_F_DNS_QUERY},
    {"dns.answer.rrtype", KZ_F_DNS_QTYPE},
    {"dns.answer.type", KZ_F_DNS_DIR},
    {"dns.answer.answers.rdata", KZ_F_DNS_ANSWER},
    /* HTTP */
    {"http.hostname", KZ_F_HTTP_HOST},
    {"http.url", KZ_F_HTTP_URI},
    {"http.http_method", KZ_F_HTTP_METHOD},
    {"http.http_user_agent", KZ_F_HTTP_UA},
    {"http.http_refer", KZ_F_HTTP_REFERRER},
    /* TLS */
    {"tls.sni", KZ_F_TLS_SNI},
    {"tls.version", KZ_F_TLS_VERSION},
    {"tls.subject", KZ_F_X509_SUBJECT},
    {"tls.issuerdn", KZ_F_X509_ISSUER},
    {"tls.serial", KZ_F_X509_SERIAL},
    {"tls.fingerprint", KZ_F_X509_FP},
    {"tls.ja3.hash", KZ_F_JA3},
    {"tls.ja3.string", KZ_F_JA3_STRING},
    {"tls.ja3s.hash", KZ_F_JA3S},
    {"tls.ja3s.string", KZ_F_JA3S_STRING},
    {"tls.ja4", KZ_F_JA4},
    /* QUIC */
    {"quic.sni", KZ_F_TLS_SNI},
    {"quic.version", KZ_F_TLS_VERSION},
    {"quic.ja3.hash", KZ_F_JA3},
    {"quic.ja3.string", KZ_F_JA3_STRING},
    {"quic.ja3s.hash", KZ_F_JA3S},
    {"quic.ja3s.string", KZ_F_JA3S_STRING},
    {"quic.ja4", KZ_F_JA4},
    /* files */
    {"fileinfo.filename", KZ_F_FILE_NAME},
    {"fileinfo.md5", KZ_F_MD5},
    {"fileinfo.sha1", KZ_F_SHA1},
    {"fileinfo.sha256", KZ_F_SHA256},
    {"files.filename", KZ_F_FILE_NAME},
    {"files.md5", KZ_F_MD5},
    {"files.sha1", KZ_F_SHA1},
    {"files.sha256", KZ_F_SHA256},
    /* flows */
    {"flow.pkts_toserver", KZ_F_PKTS_TS},
    {"flow.pkts_toclient", KZ_F_PKTS_TC},
    {"flow.bytes_toserver", KZ_F_BYTES_TS},
    {"flow.bytes_toclient", KZ_F_BYTES_TC},
    {"netflow.pkts", KZ_F_PKTS_TS},
    {"netflow.bytes", KZ_F_BYTES_TS},
    {"netflow.age", KZ_F_DURATION},
    /* mail */
    {"smtp.mail_from", KZ_F_MAIL_FROM},
    {"smtp.rcpt_to", KZ_F_MAIL_TO},
    {"email.from", KZ_F_MAIL_FROM},
    {"email.to", KZ_F_MAIL_TO},
    {"email.subject", KZ_F_MAIL_SUBJECT},
    /* alert */
    {"alert.signature", KZ_F_SIGNATURE},
    {"alert.signature_id", KZ_F_SIGNATURE_ID},
    {"alert.category", KZ_F_CATEGORY},
};

kz_tel_eve *kz_tel_eve_new(const char *input_name, const kz_tel_sink *sink)
{
    kz_tel_eve *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->name = strdup(input_name ? input_name : "eve");
    if (!e->name) {
        free(e);
        return NULL;
    }
    if (sink)
        e->sink = *sink;
    kz_tel_jmap_init(&e->jmap, eve_fields, sizeof eve_fields / sizeof eve_fields[0]);
    return e;
}

void kz_tel_eve_free(kz_tel_eve *e)
{
    if (!e)
        return;
    free(e->name);
    free(e);
}

const kz_tel_stats *kz_tel_eve_stats(const kz_tel_eve *e)
{
    return &e->st;
}

static void eve_cb(void *ctx, int id, int type, char *v, size_t vn, const char *path, size_t pn)
{
    kz_tel_eve *e = ctx;
    if (type != KZ_TEL_J_STR && type != KZ_TEL_J_NUM)
        return;
    int rc = kz_tel_set_field(&e->rec, id, v, vn);
    if (rc >= 0 && e->err_reason < 0) {
        e->err_reason = rc;
        size_t n = pn < sizeof e->err_path - 1 ? pn : sizeof e->err_path - 1;
        memcpy(e->err_path, path, n);
        e->err_path[n] = 0;
    }
}

int kz_tel_eve_line(kz_tel_eve *e, char *line, size_t len)
{
    e->lineno++;
    e->st.units++;
    e->st.bytes += len + 1;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return 0; /* blank line */
    kz_tel_record *r = &e->rec;
    kz_tel_record_reset(r);
    r->input = KZ_TEL_IN_EVE;
    r->input_name = e->name;
    r->pos = e->lineno;
    e->err_reason = -1;
    size_t at = 0;
    int rc = kz_tel_json_walk(line, len, &e->jmap, eve_cb, e, &at);
    if (rc) {
        kz_tel_report(&e->sink, &e->st, e->name, e->lineno,
                      rc == -2 ? KZ_TEL_R_JSON_TOO_DEEP : KZ_TEL_R_JSON_SYNTAX,
                      "invalid JSON at byte %zu", at);
        return 0;
    }
    if (!r->log.p || r->log.n == 0) {
        kz_tel_report(&e->sink, &e->st, e->name, e->lineno, KZ_TEL_R_EVE_NO_EVENT_TYPE,
                      "no event_type");
        return 0;
    }
    r->kind = kz_tel_kind_from_log(r->log.p, r->log.n);
    if (r->kind == KZ_TEL_DNS && r->n_dns_answers)
        r->dns_response = true;
    if (e->err_reason >= 0) {
        kz_tel_report(&e->sink, &e->st, e->name, e->lineno, (kz_tel_reason)e->err_reason,
                      "%s: unusable value", e->err_path);
    }
    e->st.records++;
    if (e->sink.record)
        e->sink.record(e->sink.ctx, r);
    return 0;
}

static int eve_line_fn(void *dec, char *line, size_t len)
{
    return kz_tel_eve_line(dec, line, len);
}

static void eve_long(void *dec, uint64_t line)
{
    kz_tel_eve *e = dec;
    e->lineno = line;
    e->st.units++;
    kz_tel_report(&e->sink, &e->st, e->name, line, KZ_TEL_R_LINE_TOO_LONG, "line too long");
}

int kz_tel_eve_file(kz_tel_eve *e, const char *path, char *err, size_t errlen)
{
    return kz_tel_read_lines(path, 0, eve_line_fn, e, eve_long, err, errlen);
}
