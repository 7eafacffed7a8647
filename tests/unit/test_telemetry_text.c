/*
 * Unit tests for lib/telemetry's text decoders: Zeek TSV and JSON logs (headers, escapes,
 * sets, unset/empty values, malformed rows, gzip) and Suricata EVE JSON (every event type
 * the decoder reads, DNS v2 and v3, malformed lines). Real data from ../shared: every Zeek
 * baseline log decodes with no malformed row and as many records as its index says, and
 * every complete EVE example agrees field by field with what jansson reads from it.
 */
#include "kt.h"

#include <dirent.h>
#include <jansson.h>
#include <kizuna/telemetry.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- a sink that keeps copies of the fields the tests look at ------------------------ */

#include "tel_collect.h"

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/telemetry/%s", kt_data_dir, name);
}

static int zeek_file(const char *path, coll *c, const kz_tel_stats **st_out,
                     kz_tel_zeek **keep)
{
    kz_tel_sink s = sink_of(c);
    kz_tel_zeek *z = kz_tel_zeek_new(path, &s);
    char err[256] = "";
    int rc = kz_tel_zeek_file(z, path, err, sizeof err);
    KT_CHECK_MSG(rc == 0, "%s: %s", path, err);
    if (st_out)
        *st_out = kz_tel_zeek_stats(z);
    if (keep)
        *keep = z;
    else
        kz_tel_zeek_free(z);
    return rc;
}

/* ---- Zeek TSV ---------------------------------------------------------------------- */

static void test_zeek_dns_tsv(void)
{
    char p[512];
    path_of(p, sizeof p, "dns.log");
    coll c = {0};
    const kz_tel_stats *st;
    kz_tel_zeek *z;
    zeek_file(p, &c, &st, &z);
    KT_CHECK(c.n == 6);
    const trec *t = find_pos(&c, 9);
    KT_CHECK(t && t->kind == KZ_TEL_DNS);
    if (t) {
        KT_CHECK_STR(t->log, "dns");
        KT_CHECK(t->has_ts && t->ts == 1300475167096535LL);
        KT_CHECK_STR(t->src, "141.142.220.202");
        KT_CHECK_STR(t->dst, "224.0.0.251");
        KT_CHECK(t->sport == 5353 && t->dport == 5353 && t->proto == 17);
        KT_CHECK_STR(t->q, "evil.example.com");
        KT_CHECK(t->qtype == 1 && t->nans == 3);
        KT_CHECK_STR(t->ans, "192.0.2.1|www.example.net|2001:db8::1");
        KT_CHECK_STR(t->uid, "CXWv6p3arKYeMETxOg");
    }
    t = find_pos(&c, 10); /* \x09 escape, unset answers */
    KT_CHECK(t && strcmp(t->q, "tab\tname.example") == 0 && t->nans == 0 && t->qtype == 28);
    KT_CHECK(t && t->ts == 1300475168500000LL);
    t = find_pos(&c, 11); /* (empty) set */
    KT_CHECK(t && t->nans == 0 && strcmp(t->q, "empty.example") == 0);
    KT_CHECK(bad_at(&c, 12, KZ_TEL_R_ZEEK_FIELD_COUNT) && !find_pos(&c, 12));
    t = find_pos(&c, 13); /* bad address: reported, row kept without it */
    KT_CHECK(bad_at(&c, 13, KZ_TEL_R_BAD_ADDR) && t && t->src[0] == 0);
    KT_CHECK(t && strcmp(t->q, "badaddr.example") == 0);
    t = find_pos(&c, 14);
    KT_CHECK(bad_at(&c, 14, KZ_TEL_R_BAD_TIME) && t && !t->has_ts);
    t = find_pos(&c, 15); /* placeholder time, zone index, escaped set separator */
    KT_CHECK(t && !t->has_ts && strcmp(t->src, "fe80::1") == 0);
    KT_CHECK(t && strcmp(t->ans, "a,b.local|c.local") == 0);
    KT_CHECK(c.nbad == 3);
    KT_CHECK(st->malformed_total == 3 && st->records == 6);
    KT_CHECK(st->malformed[KZ_TEL_R_ZEEK_FIELD_COUNT] == 1);
    KT_CHECK_STR(kz_tel_reason_name(KZ_TEL_R_ZEEK_FIELD_COUNT), "zeek_field_count");
    kz_tel_zeek_free(z);
    coll_free(&c);
}

static void test_zeek_conn_and_others(void)
{
    char p[512];
    path_of(p, sizeof p, "conn.log");
    coll c = {0};
    zeek_file(p, &c, NULL, NULL);
    KT_CHECK(c.n == 2 && c.nbad == 0);
    if (c.n == 2) {
        KT_CHECK(c.v[0].kind == KZ_TEL_CONN && c.v[0].has_flow);
        KT_CHECK(c.v[0].bts == 1200 && c.v[0].btc == 34000 && c.v[0].pts == 12 &&
                 c.v[0].ptc == 30 && c.v[0].dur == 2500000);
        KT_CHECK_STR(c.v[1].src, "2001:db8::10");
        KT_CHECK(c.v[1].btc == 0 && c.v[1].proto == 17);
    }
    coll_free(&c);

    path_of(p, sizeof p, "mixed.log");
    zeek_file(p, &c, NULL, NULL);
    KT_CHECK(c.n == 8 && c.nbad == 0);
    const char *logs[] = {"http", "ssl", "x509", "files", "smtp", "notice", "weird", "ja4ssl"};
    for (size_t i = 0; i < 8 && i < c.n; i++)
        KT_CHECK_STR(c.v[i].log, logs[i]);
    if (c.n >= 8) {
        const trec *t = &c.v[0];
        KT_CHECK(t->kind == KZ_TEL_HTTP && !strcmp(t->host, "bad.example.org") &&
                 !strcmp(t->uri, "/x/payload.exe") && !strcmp(t->method, "GET") &&
                 !strcmp(t->ref, "http://ref.example/") &&
                 !strcmp(t->ua, "Mozilla/5.0 (kizuna test)"));
        t = &c.v[1];
        KT_CHECK(t->kind == KZ_TEL_TLS && !strcmp(t->sni, "tls.example.org") &&
                 !strcmp(t->ja3, "e7d705a3286e19ea42f587b344ee6865") &&
                 !strcmp(t->ja3s, "f4febc55ea12b31ae17cfb7e614afda8") &&
                 !strcmp(t->subj, "CN=tls.example.org") && !strcmp(t->iss, "CN=Test CA") &&
                 !strcmp(t->ver, "TLSv12"));
        t = &c.v[2];
        KT_CHECK(t->kind == KZ_TEL_X509 && !strcmp(t->subj, "CN=x509.example,O=Kizuna") &&
                 !strcmp(t->serial, "0A1B2C") && !strcmp(t->fp, "d2f0e4b6c3a1"));
        t = &c.v[3];
        KT_CHECK(t->kind == KZ_TEL_FILE && !strcmp(t->fname, "payload.exe") &&
                 !strcmp(t->md5, "44d88612fea8a8f36de82e1278abb02f") &&
                 !strcmp(t->sha1, "3395856ce81f2b7382dee72602f798b642f14140") &&
                 !strcmp(t->sha256,
                         "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"));
        KT_CHECK(!strcmp(t->src, "198.51.100.5") && !strcmp(t->dst, "10.1.1.1"));
        t = &c.v[4];
        KT_CHECK(t->kind == KZ_TEL_SMTP && !strcmp(t->mfrom, "<phish@bad.example>") &&
                 !strcmp(t->mto, "a@corp.example|b@corp.example|a@corp.example") &&
                 !strcmp(t->msubj, "Invoice - urgent") && t->subj[0] == 0);
        t = &c.v[5];
        KT_CHECK(t->kind == KZ_TEL_ALERT && !strcmp(t->sig, "SSH::Password_Guessing") &&
                 !strcmp(t->cat, "10.1.1.4 appears to be guessing"));
        t = &c.v[6];
        KT_CHECK(t->kind == KZ_TEL_ALERT && !strcmp(t->sig, "bad_TCP_checksum"));
        t = &c.v[7]; /* unknown log: generic fields by name */
        KT_CHECK(t->kind == KZ_TEL_OTHER && !strcmp(t->sni, "generic.example") &&
                 !strcmp(t->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1"));
    }
    coll_free(&c);

    path_of(p, sizeof p, "noheader.log");
    zeek_file(p, &c, NULL, NULL);
    KT_CHECK(c.n == 0 && c.nbad == 1 && bad_at(&c, 1, KZ_TEL_R_ZEEK_NO_HEADER));
    coll_free(&c);
}

static void test_zeek_json(void)
{
    char p[512];
    path_of(p, sizeof p, "dns.json.log");
    coll c = {0};
    zeek_file(p, &c, NULL, NULL);
    KT_CHECK(c.n == 3);
    const trec *t = find_pos(&c, 1);
    KT_CHECK(t && t->kind == KZ_TEL_DNS && !strcmp(t->log, "dns")); /* from the file name */
    KT_CHECK(t && !strcmp(t->q, "json.example.com") && !strcmp(t->ans, "192.0.2.10|alias.example.com"));
    KT_CHECK(t && t->ts == 1700000010500000LL && t->sport == 5353 && t->proto == 17);
    t = find_pos(&c, 2); /* _path wins, ISO time, JSON escapes */
    KT_CHECK(t && t->kind == KZ_TEL_HTTP && !strcmp(t->host, "json-http.example"));
    KT_CHECK(t && !strcmp(t->uri, "/up\xc3\xa9load") && !strcmp(t->ua, "curl/8.0 \"quoted\""));
    KT_CHECK(t && t->ts == 1700000010500000LL);
    KT_CHECK(bad_at(&c, 3, KZ_TEL_R_JSON_SYNTAX) && bad_at(&c, 4, KZ_TEL_R_JSON_SYNTAX));
    KT_CHECK(bad_at(&c, 5, KZ_TEL_R_BAD_ADDR) && find_pos(&c, 5));
    KT_CHECK(c.nbad == 3);
    coll_free(&c);
}

/* The same log gzip'd decodes to the same records; the .gz is made here, not committed. */
static void test_zeek_gzip(void)
{
    char p[512], gz[] = "/tmp/kz-tel-XXXXXX";
    path_of(p, sizeof p, "dns.log");
    int fd = mkstemp(gz);
    KT_CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    FILE *in = fopen(p, "rb");
    gzFile out = gzopen(gz, "wb");
    KT_CHECK(in && out);
    char buf[4096];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        gzwrite(out, buf, (unsigned)n);
    if (in)
        fclose(in);
    if (out)
        gzclose(out);
    coll a = {0}, b = {0};
    zeek_file(p, &a, NULL, NULL);
    kz_tel_sink s = sink_of(&b);
    kz_tel_zeek *z = kz_tel_zeek_new("dns.log.gz", &s);
    char err[256];
    KT_CHECK(kz_tel_zeek_file(z, gz, err, sizeof err) == 0);
    kz_tel_zeek_free(z);
    KT_CHECK(a.n == b.n && a.n > 0 && a.nbad == b.nbad);
    for (size_t i = 0; i < a.n && i < b.n; i++) {
        KT_CHECK(!strcmp(a.v[i].q, b.v[i].q) && !strcmp(a.v[i].ans, b.v[i].ans));
        KT_CHECK(a.v[i].pos == b.v[i].pos && a.v[i].ts == b.v[i].ts);
    }
    /* a corrupt gzip stream is an error, not garbage records */
    FILE *f = fopen(gz, "r+b");
    if (f) {
        fseek(f, 20, SEEK_SET);
        fwrite("\xff\xff\xff\xff\xff\xff\xff\xff", 1, 8, f);
        fclose(f);
    }
    coll d = {0};
    s = sink_of(&d);
    z = kz_tel_zeek_new("corrupt.log.gz", &s);
    err[0] = 0;
    KT_CHECK(kz_tel_zeek_file(z, gz, err, sizeof err) < 0 && err[0]);
    kz_tel_zeek_free(z);
    unlink(gz);
    z = kz_tel_zeek_new("missing.log", &s);
    KT_CHECK(kz_tel_zeek_file(z, "/nonexistent/kz/missing.log", err, sizeof err) < 0);
    kz_tel_zeek_free(z);
    coll_free(&a);
    coll_free(&b);
    coll_free(&d);
}

static int line_count_fn(void *dec, char *line, size_t len)
{
    (void)line;
    size_t *v = dec;
    v[0]++;
    v[1] += len;
    return 0;
}

static void long_fn(void *dec, uint64_t line)
{
    size_t *v = dec;
    v[2]++;
    v[3] = (size_t)line;
}

static void test_read_lines_bounds(void)
{
    char path[] = "/tmp/kz-tel-lines-XXXXXX";
    int fd = mkstemp(path);
    KT_CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    fputs("short\r\n", f);
    for (int i = 0; i < 5000; i++)
        fputc('x', f);
    fputs("\nafter\nlast-without-newline", f);
    fclose(f);
    size_t v[4] = {0};
    char err[128];
    KT_CHECK(kz_tel_read_lines(path, 1000, line_count_fn, v, long_fn, err, sizeof err) == 0);
    KT_CHECK(v[0] == 3 && v[1] == 5 + 5 + 20); /* \r dropped */
    KT_CHECK(v[2] == 1 && v[3] == 2);          /* the long one is line 2 */
    unlink(path);
}

/* Every Zeek baseline log: no malformed row, as many records as the index's data rows. */
static void test_zeek_shared_logs(void)
{
    char dir[512], idx[600];
    snprintf(dir, sizeof dir, "%s/data/zeek-logs", kt_shared_dir);
    snprintf(idx, sizeof idx, "%s/index.md", dir);
    FILE *f = fopen(idx, "r");
    if (!f)
        KT_SKIP("%s absent: shared Zeek logs not available", idx);
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256];
        unsigned rows;
        if (sscanf(line, "| `%255[^`]` | %u |", name, &rows) != 2)
            continue;
        size_t nl = strlen(name);
        if (nl < 4 || strcmp(name + nl - 4, ".log") != 0)
            continue;
        char p[800];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        coll c = {0};
        const kz_tel_stats *st;
        kz_tel_zeek *z;
        zeek_file(p, &c, &st, &z);
        KT_CHECK_MSG(st->malformed_total == 0, "%s: %llu malformed", name,
                     (unsigned long long)st->malformed_total);
        KT_CHECK_MSG(c.n == rows, "%s: %zu records, index says %u", name, c.n, rows);
        /* the kind follows #path, and the 5-tuple is there whenever the log has id.* */
        for (size_t i = 0; i < c.n; i++) {
            const char *lp = strstr(name, "__");
            KT_CHECK_MSG(lp && strncmp(lp + 2, c.v[i].log, strlen(c.v[i].log)) == 0,
                         "%s: log %s", name, c.v[i].log);
        }
        kz_tel_zeek_free(z);
        coll_free(&c);
        checked++;
    }
    fclose(f);
    /* and nothing on disk escaped the index */
    DIR *d = opendir(dir);
    int on_disk = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".log") == 0)
            on_disk++;
    }
    if (d)
        closedir(d);
    KT_CHECK_MSG(checked == on_disk && checked >= 60, "%d logs in the index, %d on disk",
                 checked, on_disk);
}

/* ssl.log's first cert_chain_fps entry is the certificate x509.log describes. */
static void test_zeek_ssl_x509_pairs(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data/zeek-logs", kt_shared_dir);
    DIR *d = opendir(dir);
    if (!d)
        KT_SKIP("%s absent: shared Zeek logs not available", dir);
    struct dirent *de;
    int pairs = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 10 || strcmp(de->d_name + l - 9, "__ssl.log") != 0)
            continue;
        char sp[1024], xp[1024];
        snprintf(sp, sizeof sp, "%s/%s", dir, de->d_name);
        snprintf(xp, sizeof xp, "%s/%.*s__x509.log", dir, (int)(l - 9), de->d_name);
        if (access(xp, R_OK) != 0)
            continue;
        coll ssl = {0}, x = {0};
        zeek_file(sp, &ssl, NULL, NULL);
        zeek_file(xp, &x, NULL, NULL);
        int seen_fp = 0;
        for (size_t i = 0; i < ssl.n; i++) {
            if (!ssl.v[i].fp[0])
                continue;
            seen_fp++;
            bool found = false;
            for (size_t k = 0; k < x.n; k++)
                found |= strcmp(x.v[k].fp, ssl.v[i].fp) == 0 && x.v[k].kind == KZ_TEL_X509;
            KT_CHECK_MSG(found, "%s: %s not in the x509.log", de->d_name, ssl.v[i].fp);
        }
        KT_CHECK_MSG(seen_fp > 0, "%s: no certificate fingerprint", de->d_name);
        coll_free(&ssl);
        coll_free(&x);
        pairs++;
    }
    closedir(d);
    KT_CHECK(pairs >= 3);
}

/* ---- EVE ------------------------------------------------------------------------------ */

static void test_eve_fixture(void)
{
    char p[512];
    path_of(p, sizeof p, "eve.json");
    coll c = {0};
    kz_tel_sink s = sink_of(&c);
    kz_tel_eve *e = kz_tel_eve_new(p, &s);
    char err[256];
    KT_CHECK(kz_tel_eve_file(e, p, err, sizeof err) == 0);
    const kz_tel_stats *st = kz_tel_eve_stats(e);
    KT_CHECK(c.n == 14);
    const trec *t = find_pos(&c, 1);
    KT_CHECK(t && t->kind == KZ_TEL_DNS && !t->resp && !strcmp(t->q, "v2.example.com"));
    KT_CHECK(t && t->ts == 1709290800123456LL && t->qtype == 1 && t->proto == 17);
    KT_CHECK(t && !strcmp(t->uid, "1234567890123") && !strcmp(t->src, "10.3.3.3"));
    t = find_pos(&c, 2);
    KT_CHECK(t && t->resp && !strcmp(t->ans, "cdn.example.net|192.0.2.80"));
    t = find_pos(&c, 3);
    KT_CHECK(t && !t->resp && !strcmp(t->q, "v3.example.org") && t->qtype == 28);
    t = find_pos(&c, 4);
    KT_CHECK(t && t->resp && !strcmp(t->ans, "2001:db8::80"));
    t = find_pos(&c, 5);
    KT_CHECK(t && t->resp && !strcmp(t->ans, "192.0.2.1|192.0.2.2|alias.grouped.example"));
    t = find_pos(&c, 6);
    KT_CHECK(t && t->kind == KZ_TEL_HTTP && !strcmp(t->host, "www.bad.example") &&
             !strcmp(t->uri, "/gate.php?id=1") && !strcmp(t->method, "POST") &&
             !strcmp(t->ua, "Mozilla/4.0 (compatible; MSIE 6.0)") &&
             !strcmp(t->ref, "http://www.bad.example/") && t->proto == 6);
    t = find_pos(&c, 7);
    KT_CHECK(t && t->kind == KZ_TEL_TLS && !strcmp(t->sni, "tls.bad.example") &&
             !strcmp(t->ja3, "e7d705a3286e19ea42f587b344ee6865") &&
             !strcmp(t->ja3s, "f4febc55ea12b31ae17cfb7e614afda8") &&
             !strcmp(t->ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1") &&
             !strcmp(t->subj, "CN=tls.bad.example") && !strcmp(t->iss, "CN=Bad CA") &&
             !strcmp(t->serial, "00:DE:AD:BE:EF") && !strcmp(t->fp, "aa:bb:cc:dd"));
    t = find_pos(&c, 8);
    KT_CHECK(t && t->kind == KZ_TEL_TLS && !strcmp(t->log, "quic") &&
             !strcmp(t->sni, "quic.bad.example") &&
             !strcmp(t->ja3, "324f8c50e267adba4b5dd06c964faf67") &&
             !strcmp(t->ja4, "q13d0310h3_55b375c5d22e_cd85d2d88918"));
    t = find_pos(&c, 9);
    KT_CHECK(t && t->kind == KZ_TEL_FILE && !strcmp(t->fname, "/a.exe") &&
             !strcmp(t->md5, "44d88612fea8a8f36de82e1278abb02f") && t->sha256[0] &&
             t->sha1[0] && !strcmp(t->host, "files.bad.example"));
    t = find_pos(&c, 10);
    KT_CHECK(t && t->kind == KZ_TEL_CONN && t->pts == 12 && t->ptc == 30 && t->bts == 1200 &&
             t->btc == 34000);
    t = find_pos(&c, 11);
    KT_CHECK(t && t->kind == KZ_TEL_CONN && t->pts == 7 && t->bts == 700 && t->dur == 3000000);
    t = find_pos(&c, 12);
    KT_CHECK(t && t->kind == KZ_TEL_SMTP && !strcmp(t->mfrom, "<phish@bad.example>") &&
             t->nto == 3 && !strcmp(t->msubj, "Invoice \xe2\x80\x93 urgent"));
    t = find_pos(&c, 13);
    KT_CHECK(t && t->kind == KZ_TEL_ALERT && t->sigid == 2018358 &&
             !strcmp(t->sig, "ET HUNTING \"quoted\" \\ backslash") &&
             !strcmp(t->cat, "Potentially Bad Traffic") && !strcmp(t->host, "alert.bad.example"));
    KT_CHECK(bad_at(&c, 14, KZ_TEL_R_JSON_SYNTAX) && !find_pos(&c, 14));
    KT_CHECK(bad_at(&c, 15, KZ_TEL_R_EVE_NO_EVENT_TYPE) && !find_pos(&c, 15));
    KT_CHECK(bad_at(&c, 16, KZ_TEL_R_JSON_SYNTAX));
    t = find_pos(&c, 17); /* a bad timestamp is reported, the record kept without it */
    KT_CHECK(bad_at(&c, 17, KZ_TEL_R_BAD_TIME) && t && !t->has_ts &&
             !strcmp(t->host, "badfields.example"));
    KT_CHECK(bad_at(&c, 19, KZ_TEL_R_JSON_TOO_DEEP));
    KT_CHECK(c.nbad == 5 && st->malformed_total == 5 && st->units == 19 && st->records == 14);
    kz_tel_eve_free(e);
    coll_free(&c);
}

/* Read a JSON file (pretty-printed) and turn it into one compact line with jansson. */
static char *compact_file(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (v && b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jint(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (v && b)
        v = json_object_get(v, b);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Compare one decoded record with what jansson reads from the same text. */
static void agree(const trec *t, json_t *j, const char *what)
{
    const char *s;
    if ((s = jstr(j, "event_type", NULL)))
        KT_CHECK_MSG(!strcmp(t->log, s), "%s: event_type %s vs %s", what, t->log, s);
    if ((s = jstr(j, "src_ip", NULL))) {
        kz_tel_addr a;
        char b[64];
        KT_CHECK(kz_tel_addr_parse(s, strlen(s), &a) == 0);
        KT_CHECK_MSG(!strcmp(t->src, kz_tel_addr_format(&a, b, sizeof b)), "%s: src", what);
    }
    long long v;
    if ((v = jint(j, "dest_port", NULL)) >= 0)
        KT_CHECK_MSG(t->dport == (unsigned)v, "%s: dest_port", what);
    if ((s = jstr(j, "http", "hostname")))
        KT_CHECK_MSG(!strcmp(t->host, s), "%s: hostname %s vs %s", what, t->host, s);
    if ((s = jstr(j, "http", "url")))
        KT_CHECK_MSG(!strcmp(t->uri, s), "%s: url", what);
    if ((s = jstr(j, "http", "http_user_agent")))
        KT_CHECK_MSG(!strcmp(t->ua, s), "%s: ua", what);
    if ((s = jstr(j, "alert", "signature")))
        KT_CHECK_MSG(!strcmp(t->sig, s), "%s: signature", what);
    if ((v = jint(j, "alert", "signature_id")) >= 0)
        KT_CHECK_MSG(t->sigid == (uint64_t)v, "%s: signature_id", what);
    if ((v = jint(j, "flow", "bytes_toserver")) >= 0)
        KT_CHECK_MSG(t->bts == (uint64_t)v, "%s: bytes_toserver", what);
    if ((v = jint(j, "flow", "pkts_toclient")) >= 0)
        KT_CHECK_MSG(t->ptc == (uint64_t)v, "%s: pkts_toclient", what);
    if ((s = jstr(j, "fileinfo", "filename")))
        KT_CHECK_MSG(!strcmp(t->fname, s), "%s: filename", what);
    json_t *dns = json_object_get(j, "dns");
    if (dns) {
        const char *q = jstr(dns, "rrname", NULL);
        json_t *qs = json_object_get(dns, "queries");
        if (!q && json_is_array(qs))
            q = jstr(json_array_get(qs, 0), "rrname", NULL);
        json_t *q7 = json_object_get(dns, "query");
        if (!q && json_is_array(q7))
            q = jstr(json_array_get(q7, 0), "rrname", NULL);
        json_t *a7 = json_object_get(dns, "answer");
        if (!q && a7)
            q = jstr(a7, "rrname", NULL);
        if (q)
            KT_CHECK_MSG(!strcmp(t->q, q), "%s: dns query %s vs %s", what, t->q, q);
        json_t *ans = json_object_get(dns, "answers");
        if (!ans && a7)
            ans = json_object_get(a7, "answers");
        size_t na = 0;
        for (size_t i = 0; json_is_array(ans) && i < json_array_size(ans); i++)
            if (jstr(json_array_get(ans, i), "rdata", NULL))
                na++;
        KT_CHECK_MSG(t->nans == na, "%s: %u answers, jansson %zu", what, t->nans, na);
    }
}

static void test_eve_shared_examples(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/data/eve/examples/eve-examples.jsonl", kt_shared_dir);
    if (access(p, R_OK) != 0)
        KT_SKIP("%s absent: shared EVE examples not available", p);
    coll c = {0};
    kz_tel_sink s = sink_of(&c);
    kz_tel_eve *e = kz_tel_eve_new(p, &s);
    char err[256];
    KT_CHECK(kz_tel_eve_file(e, p, err, sizeof err) == 0);
    KT_CHECK(kz_tel_eve_stats(e)->malformed_total == 0);
    KT_CHECK(c.n == 9);
    FILE *f = fopen(p, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t i = 0;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        KT_CHECK(j != NULL);
        if (j && i < c.n)
            agree(&c.v[i], j, "eve-examples.jsonl");
        json_decref(j);
        i++;
    }
    free(line);
    if (f)
        fclose(f);
    kz_tel_eve_free(e);
    coll_free(&c);

    /* each example record, compacted to one line (DNS v2/v3 and alert variants) */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data/eve/examples/records", kt_shared_dir);
    DIR *d = opendir(dir);
    KT_CHECK(d != NULL);
    struct dirent *de;
    int nrec = 0;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        char fp[1024];
        snprintf(fp, sizeof fp, "%s/%s", dir, de->d_name);
        char *text = compact_file(fp);
        KT_CHECK_MSG(text != NULL, "%s", fp);
        if (!text)
            continue;
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        coll r = {0};
        s = sink_of(&r);
        e = kz_tel_eve_new(de->d_name, &s);
        kz_tel_eve_line(e, text, strlen(text));
        KT_CHECK_MSG(r.n == 1 && r.nbad == 0, "%s: %zu records %zu malformed", de->d_name,
                     r.n, r.nbad);
        if (r.n == 1 && j)
            agree(&r.v[0], j, de->d_name);
        if (strstr(de->d_name, "dns-response") && r.n == 1)
            KT_CHECK_MSG(r.v[0].resp, "%s: not seen as a response", de->d_name);
        if (strstr(de->d_name, "dns-request") && r.n == 1)
            KT_CHECK_MSG(!r.v[0].resp, "%s: seen as a response", de->d_name);
        kz_tel_eve_free(e);
        json_decref(j);
        free(text);
        coll_free(&r);
        nrec++;
    }
    if (d)
        closedir(d);
    KT_CHECK(nrec >= 10);
}

KT_MAIN(KT(test_zeek_dns_tsv), KT(test_zeek_conn_and_others), KT(test_zeek_json),
        KT(test_zeek_gzip), KT(test_read_lines_bounds), KT(test_zeek_shared_logs),
        KT(test_zeek_ssl_x509_pairs),
        KT(test_eve_fixture), KT(test_eve_shared_examples))
