/*
 * kizuna gen telemetry: writing one session to every output that would see it — the five
 * Zeek TSV logs, Suricata EVE lines, the pcap frames — and its answer-key entries.
 *
 * The frames are written first, so that conn.log and EVE flow counters (packets, bytes) are
 * those of the frames actually in traffic.pcap; times inside a session only grow, and a
 * session ends before the next begins, so every output stays in time order. Line and packet
 * numbers in the key are the counters of the lines and frames just written. Nothing here
 * draws a value that an indicator could name: those are chosen (and checked) with the
 * session in gen_telemetry.c.
 */
#include "gen_tel.h"

#include <arpa/inet.h>
#include <kizuna/core.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small helpers ---------------------------------------------------------------- */

void gen_ip_text(const gen_flow *fl, bool srv, char *out, size_t len)
{
    inet_ntop(fl->v6 ? AF_INET6 : AF_INET, srv ? fl->srv : fl->cli, out, (socklen_t)len);
}

static void zeek_ts(int64_t us, char *out, size_t len)
{
    snprintf(out, len, "%lld.%06lld", (long long)(us / 1000000), (long long)(us % 1000000));
}

static void eve_ts(int64_t us, char *out, size_t len)
{
    char b[40];
    kz_time_format(us, 6, b, sizeof b); /* 2026-01-15T09:00:00.000000Z */
    size_t n = strlen(b);
    if (n && b[n - 1] == 'Z')
        b[n - 1] = '\0';
    snprintf(out, len, "%s+0000", b);
}

static void rand_id(gen_rng *r, char lead, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    out[0] = lead;
    for (int i = 1; i < 18; i++)
        out[i] = a[gen_rng_below(r, 62)];
    out[18] = '\0';
}

static int key_entry(gen_tel *T, const gen_sess *s, const char *file, uint64_t where, bool packet,
                     const char *field, int64_t us, const char *od_id)
{
    const gen_part *pt = &T->set.v[s->ind].parts[s->part];
    char ts[40];
    kz_time_format(us, 6, ts, sizeof ts);
    json_t *m = json_array();
    if (pt->kind == GP_URL && !od_id) {
        json_array_append_new(m, json_string(s->domain));
        json_array_append_new(m, json_string(s->uri));
    } else {
        json_array_append_new(m, json_string(pt->value));
    }
    json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:o}", "hit",
                          (json_int_t)s->hit, "indicator_id", T->set.v[s->ind].id, "part",
                          (json_int_t)s->part, "parts", (json_int_t)T->set.v[s->ind].nparts, "path",
                          pt->path, "value", pt->value, "file", file, packet ? "packet" : "line",
                          (json_int_t)where, "field", field, "time", ts, "match", m);
    if (o && od_id)
        json_object_set_new(o, "observed_data_id", json_string(od_id));
    char *txt = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!txt)
        return -1;
    fprintf(T->key.f, "%s\n", txt);
    free(txt);
    T->key.line++;
    T->st->key_entries++;
    return 0;
}

static void zeek_header(outf *o, const char *path, const char *fields, const char *types,
                        int64_t us)
{
    char open[40];
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(open, sizeof open, "%Y-%m-%d-%H-%M-%S", &tm);
    fprintf(o->f,
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            "#path\t%s\n#open\t%s\n#fields\t%s\n#types\t%s\n",
            path, open, fields, types);
    o->line = 8;
}

static void zeek_close(outf *o, int64_t us)
{
    char c[40];
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(c, sizeof c, "%Y-%m-%d-%H-%M-%S", &tm);
    fprintf(o->f, "#close\t%s\n", c);
}

static uint64_t eve_write(gen_tel *T, json_t *ev)
{
    char *txt = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);
    if (!txt)
        return 0;
    fprintf(T->eve.f, "%s\n", txt);
    free(txt);
    return ++T->eve.line;
}

static json_t *eve_base(const gen_sess *s, int64_t us, uint64_t flow_id, uint64_t pcap_cnt,
                        const char *type)
{
    char ts[48], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    eve_ts(us, ts, sizeof ts);
    gen_ip_text(&s->fl, false, src, sizeof src);
    gen_ip_text(&s->fl, true, dst, sizeof dst);
    json_t *e = json_pack("{s:s, s:I}", "timestamp", ts, "flow_id", (json_int_t)flow_id);
    if (pcap_cnt)
        json_object_set_new(e, "pcap_cnt", json_integer((json_int_t)pcap_cnt));
    json_object_set_new(e, "event_type", json_string(type));
    json_object_set_new(e, "src_ip", json_string(src));
    json_object_set_new(e, "src_port", json_integer(s->fl.cport));
    json_object_set_new(e, "dest_ip", json_string(dst));
    json_object_set_new(e, "dest_port", json_integer(s->fl.sport));
    json_object_set_new(e, "proto", json_string(s->fl.proto == 6 ? "TCP" : "UDP"));
    if (s->fl.vlan)
        json_object_set_new(e, "vlan", json_pack("[i]", s->fl.vlan));
    json_object_set_new(e, "pkt_src", json_string("wire/pcap"));
    return e;
}

/* What a session put on the wire, for the logs' counters. */
typedef struct wire {
    uint64_t first_pkt, req_pkt, resp_pkt;
    uint64_t opkts, rpkts, oip, rip, obytes, rbytes;
    int64_t end;
    gen_tls_fp fp;
} wire;

static void tcp_session(gen_tel *T, const gen_sess *s, int64_t t0, const uint8_t *req, size_t rlen,
                        const uint8_t *resp, size_t plen, int64_t rtt, wire *w)
{
    uint32_t ci = (uint32_t)gen_rng_next(&T->r), si = (uint32_t)gen_rng_next(&T->r);
    const gen_flow *fl = &s->fl;
    int64_t t = t0;
    w->first_pkt = gen_pcap_packet(&T->pcap, fl, t, true, TCP_SYN, ci, 0, NULL, 0, &w->oip);
    gen_pcap_packet(&T->pcap, fl, t += rtt, false, TCP_SYN | TCP_ACK, si, ci + 1, NULL, 0, &w->rip);
    gen_pcap_packet(&T->pcap, fl, t += 150, true, TCP_ACK, ci + 1, si + 1, NULL, 0, &w->oip);
    w->req_pkt = gen_pcap_packet(&T->pcap, fl, t += 200, true, TCP_PSH | TCP_ACK, ci + 1, si + 1,
                                 req, rlen, &w->oip);
    w->resp_pkt = gen_pcap_packet(&T->pcap, fl, t += rtt, false, TCP_PSH | TCP_ACK, si + 1,
                                  ci + 1 + (uint32_t)rlen, resp, plen, &w->rip);
    uint32_t c2 = ci + 1 + (uint32_t)rlen, s2 = si + 1 + (uint32_t)plen;
    gen_pcap_packet(&T->pcap, fl, t += 5000, true, TCP_FIN | TCP_ACK, c2, s2, NULL, 0, &w->oip);
    gen_pcap_packet(&T->pcap, fl, t += rtt, false, TCP_FIN | TCP_ACK, s2, c2 + 1, NULL, 0, &w->rip);
    gen_pcap_packet(&T->pcap, fl, t += 100, true, TCP_ACK, c2 + 1, s2 + 1, NULL, 0, &w->oip);
    w->opkts = 5, w->rpkts = 3, w->obytes = rlen, w->rbytes = plen;
    w->end = t;
}

static void conn_line(gen_tel *T, const gen_sess *s, const char *uid, int64_t t0, const wire *w,
                      const char *service)
{
    char ts[32], dur[32], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    zeek_ts(t0, ts, sizeof ts);
    int64_t d = w->end - t0;
    snprintf(dur, sizeof dur, "%lld.%06lld", (long long)(d / 1000000), (long long)(d % 1000000));
    gen_ip_text(&s->fl, false, a, sizeof a);
    gen_ip_text(&s->fl, true, b, sizeof b);
    bool tcp = s->fl.proto == 6;
    fprintf(
        T->conn.f,
        "%s\t%s\t%s\t%u\t%s\t%u\t%s\t%s\t%s\t%llu\t%llu\tSF\tT\tF\t0\t%s\t%llu\t%llu\t%llu\t%llu"
        "\t-\t%u\n",
        ts, uid, a, s->fl.cport, b, s->fl.sport, tcp ? "tcp" : "udp", service, dur,
        (unsigned long long)w->obytes, (unsigned long long)w->rbytes, tcp ? "ShADadFf" : "Dd",
        (unsigned long long)w->opkts, (unsigned long long)w->oip, (unsigned long long)w->rpkts,
        (unsigned long long)w->rip, s->fl.proto);
    T->conn.line++;
}

static void flow_event(gen_tel *T, const gen_sess *s, uint64_t flow_id, int64_t t0, const wire *w,
                       const char *app, uint64_t *line)
{
    char st[48], en[48];
    eve_ts(t0, st, sizeof st);
    eve_ts(w->end, en, sizeof en);
    json_t *e = eve_base(s, w->end, flow_id, 0, "flow");
    if (app)
        json_object_set_new(e, "app_proto", json_string(app));
    json_object_set_new(
        e, "flow",
        json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:s, s:s, s:b}", "pkts_toserver",
                  (json_int_t)w->opkts, "pkts_toclient", (json_int_t)w->rpkts, "bytes_toserver",
                  (json_int_t)w->oip + 14 * (json_int_t)w->opkts, "bytes_toclient",
                  (json_int_t)w->rip + 14 * (json_int_t)w->rpkts, "start", st, "end", en, "age",
                  (json_int_t)((w->end - t0) / 1000000), "state",
                  s->fl.proto == 6 ? "closed" : "established", "reason", "timeout", "alerted", 0));
    if (s->fl.proto == 6)
        json_object_set_new(e, "tcp",
                            json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:s}", "tcp_flags", "1b",
                                      "tcp_flags_ts", "1b", "tcp_flags_tc", "1b", "syn", 1, "fin",
                                      1, "psh", 1, "ack", 1, "state", "closed"));
    *line = eve_write(T, e);
}

static int planted_here(const gen_sess *s)
{
    return s->hit >= 0;
}

static int emit_dns(gen_tel *T, const gen_sess *s, int64_t t0, const char *uid, uint64_t flow_id)
{
    uint8_t q[600], r[600];
    size_t ql = gen_dns_message(q, sizeof q, s->txid, s->domain, s->aaaa, NULL, 0);
    size_t rl = gen_dns_message(r, sizeof r, s->txid, s->domain, s->aaaa, s->ans, s->ttl);
    if (!ql || !rl)
        return 1;
    wire w = {0};
    int64_t rtt = 2000 + gen_rng_below(&T->r, 40000);
    w.req_pkt = w.first_pkt = gen_pcap_packet(&T->pcap, &s->fl, t0, true, 0, 0, 0, q, ql, &w.oip);
    w.resp_pkt = gen_pcap_packet(&T->pcap, &s->fl, t0 + rtt, false, 0, 0, 0, r, rl, &w.rip);
    w.opkts = w.rpkts = 1, w.obytes = ql, w.rbytes = rl, w.end = t0 + rtt;
    conn_line(T, s, uid, t0, &w, "dns");

    char ts[32], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ans[INET6_ADDRSTRLEN];
    zeek_ts(t0, ts, sizeof ts);
    gen_ip_text(&s->fl, false, a, sizeof a);
    gen_ip_text(&s->fl, true, b, sizeof b);
    inet_ntop(s->aaaa ? AF_INET6 : AF_INET, s->ans, ans, sizeof ans);
    fprintf(T->dns.f,
            "%s\t%s\t%s\t%u\t%s\t%u\tudp\t%u\t0.%06lld\t%s\t1\tC_INTERNET\t%u\t%s\t0\tNOERROR\tF\tF"
            "\tT\tT\t0\t%s\t%u.000000\tF\t0\tquery\n",
            ts, uid, a, s->fl.cport, b, s->fl.sport, s->txid, (long long)rtt, s->domain,
            s->aaaa ? 28u : 1u, s->aaaa ? "AAAA" : "A", ans, s->ttl);
    T->dns.line++;

    const char *rrtype = s->aaaa ? "AAAA" : "A";
    json_t *ans_arr = json_pack("[{s:s, s:s, s:i, s:s}]", "rrname", s->domain, "rrtype", rrtype,
                                "ttl", (int)s->ttl, "rdata", ans);
    json_t *qe = eve_base(s, t0, flow_id, w.req_pkt, "dns");
    json_t *re = eve_base(s, t0 + rtt, flow_id, w.resp_pkt, "dns");
    if (s->eve_v3) {
        json_object_set_new(qe, "dns",
                            json_pack("{s:i, s:s, s:i, s:i, s:s, s:b, s:i, s:s, s:[{s:s, s:s}]}",
                                      "version", 3, "type", "request", "tx_id", 0, "id", s->txid,
                                      "flags", "100", "rd", 1, "opcode", 0, "rcode", "NOERROR",
                                      "queries", "rrname", s->domain, "rrtype", rrtype));
        json_object_set_new(
            re, "dns",
            json_pack("{s:i, s:s, s:i, s:i, s:s, s:b, s:b, s:b, s:i, s:s, s:[{s:s, s:s}], s:o}",
                      "version", 3, "type", "response", "tx_id", 0, "id", s->txid, "flags", "8180",
                      "qr", 1, "rd", 1, "ra", 1, "opcode", 0, "rcode", "NOERROR", "queries",
                      "rrname", s->domain, "rrtype", rrtype, "answers", ans_arr));
    } else {
        json_object_set_new(qe, "dns",
                            json_pack("{s:i, s:s, s:i, s:s, s:s, s:i, s:i}", "version", 2, "type",
                                      "query", "id", s->txid, "rrname", s->domain, "rrtype", rrtype,
                                      "tx_id", 0, "opcode", 0));
        json_object_set_new(
            re, "dns",
            json_pack("{s:i, s:s, s:i, s:s, s:b, s:b, s:b, s:i, s:s, s:s, s:s, s:o}", "version", 2,
                      "type", "answer", "id", s->txid, "flags", "8180", "qr", 1, "rd", 1, "ra", 1,
                      "opcode", 0, "rrname", s->domain, "rrtype", rrtype, "rcode", "NOERROR",
                      "answers", ans_arr));
    }
    json_object_set_new(qe, "app_proto", json_string("dns"));
    json_object_set_new(re, "app_proto", json_string("dns"));
    uint64_t ql_line = eve_write(T, qe), rl_line = eve_write(T, re), fline;
    flow_event(T, s, flow_id, t0, &w, "dns", &fline);
    if (planted_here(s)) {
        const char *f = s->eve_v3 ? "dns.queries[0].rrname" : "dns.rrname";
        key_entry(T, s, "dns.log", T->dns.line, false, "query", t0, NULL);
        key_entry(T, s, "eve.json", ql_line, false, f, t0, NULL);
        key_entry(T, s, "eve.json", rl_line, false, f, t0 + rtt, NULL);
        key_entry(T, s, "traffic.pcap", w.req_pkt, true, "dns.qry.name", t0, NULL);
        key_entry(T, s, "traffic.pcap", w.resp_pkt, true, "dns.qry.name", t0 + rtt, NULL);
    }
    T->now = w.end;
    return 0;
}

static int emit_http(gen_tel *T, const gen_sess *s, int64_t t0, const char *uid, uint64_t flow_id)
{
    char req[1200], hdr[300], host[300];
    if (s->fl.sport == 80)
        snprintf(host, sizeof host, "%s", s->domain);
    else
        snprintf(host, sizeof host, "%s:%u", s->domain, s->fl.sport);
    int rl = snprintf(req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                      "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
                      s->uri, host, s->ua);
    if (rl < 0 || (size_t)rl >= sizeof req)
        return 1;
    int hl = snprintf(hdr, sizeof hdr,
                      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      s->mime, s->body_len);
    uint8_t resp[1600];
    memcpy(resp, hdr, (size_t)hl);
    memcpy(resp + hl, s->body, s->body_len);
    wire w = {0};
    int64_t rtt = 8000 + gen_rng_below(&T->r, 60000);
    tcp_session(T, s, t0, (const uint8_t *)req, (size_t)rl, resp, (size_t)hl + s->body_len, rtt,
                &w);
    conn_line(T, s, uid, t0, &w, "http");
    char ts[32], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], fuid[20] = "-";
    int64_t treq = t0 + rtt + 350;
    zeek_ts(treq, ts, sizeof ts);
    gen_ip_text(&s->fl, false, a, sizeof a);
    gen_ip_text(&s->fl, true, b, sizeof b);
    if (s->kind == S_FILE)
        rand_id(&T->r, 'F', fuid);
    fprintf(T->http.f,
            "%s\t%s\t%s\t%u\t%s\t%u\t1\tGET\t%s\t%s\t-\t1.1\t%s\t-\t0\t%zu\t200\tOK\t-\t-\t(empty)"
            "\t-\t-\t-\t-\t-\t-\t%s\t-\t%s\n",
            ts, uid, a, s->fl.cport, b, s->fl.sport, s->domain, s->uri, s->ua, s->body_len, fuid,
            s->kind == S_FILE ? s->mime : "text/html");
    T->http.line++;
    json_t *hx =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "hostname", s->domain, "url", s->uri,
                  "http_user_agent", s->ua, "http_content_type", s->mime, "http_method", "GET",
                  "protocol", "HTTP/1.1", "status", 200, "length", (int)s->body_len);
    if (s->fl.sport != 80)
        json_object_set_new(hx, "http_port", json_integer(s->fl.sport));
    json_t *he = eve_base(s, treq, flow_id, w.req_pkt, "http");
    json_object_set_new(he, "tx_id", json_integer(0));
    json_object_set(he, "http", hx);
    json_object_set_new(he, "app_proto", json_string("http"));
    uint64_t hline = eve_write(T, he), fline = 0;
    if (s->kind == S_FILE) {
        zeek_ts(treq + rtt, ts, sizeof ts);
        fprintf(T->files.f,
                "%s\t%s\t%s\t%s\t%u\t%s\t%u\tHTTP\t0\tMD5,SHA1,SHA256\t%s\t-\t0.%06lld\tF\tF\t%zu"
                "\t%zu\t0\t0\tF\t-\t%s\t%s\t%s\t-\t-\t-\n",
                ts, fuid, uid, a, s->fl.cport, b, s->fl.sport, s->mime, (long long)(rtt / 4),
                s->body_len, s->body_len, s->md5, s->sha1, s->sha256);
        T->files.line++;
        json_t *fe = eve_base(s, treq + rtt, flow_id, w.resp_pkt, "fileinfo");
        json_object_set_new(fe, "http", hx);
        hx = NULL;
        json_object_set_new(fe, "app_proto", json_string("http"));
        json_object_set_new(fe, "fileinfo",
                            json_pack("{s:s, s:b, s:s, s:s, s:s, s:s, s:b, s:i, s:i}", "filename",
                                      s->uri, "gaps", 0, "state", "CLOSED", "md5", s->md5, "sha1",
                                      s->sha1, "sha256", s->sha256, "stored", 0, "size",
                                      (int)s->body_len, "tx_id", 0));
        fline = eve_write(T, fe);
    }
    json_decref(hx);
    if (s->hit < 0 && strncmp(s->ua, "curl/", 5) == 0) { /* the rule Suricata would fire */
        json_t *al = eve_base(s, treq, flow_id, w.req_pkt, "alert");
        json_object_set_new(al, "tx_id", json_integer(0));
        json_object_set_new(al, "alert",
                            json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:i}", "action", "allowed",
                                      "gid", 1, "signature_id", 2013028, "rev", 7, "signature",
                                      "ET POLICY curl User-Agent Outbound", "category",
                                      "Attempted Information Leak", "severity", 2));
        json_object_set_new(al, "app_proto", json_string("http"));
        eve_write(T, al);
    }
    uint64_t flline;
    flow_event(T, s, flow_id, t0, &w, "http", &flline);
    if (planted_here(s)) {
        const gen_part *pt = &T->set.v[s->ind].parts[s->part];
        if (pt->kind == GP_URL) {
            key_entry(T, s, "http.log", T->http.line, false, "host+uri", treq, NULL);
            key_entry(T, s, "eve.json", hline, false, "http.hostname+http.url", treq, NULL);
            key_entry(T, s, "traffic.pcap", w.req_pkt, true, "http.host+http.request.uri", treq,
                      NULL);
        } else {
            const char *f = strcmp(pt->algo, "MD5") == 0     ? "md5"
                            : strcmp(pt->algo, "SHA-1") == 0 ? "sha1"
                                                             : "sha256";
            char ef[32];
            snprintf(ef, sizeof ef, "fileinfo.%s", f);
            key_entry(T, s, "files.log", T->files.line, false, f, treq + rtt, NULL);
            key_entry(T, s, "eve.json", fline, false, ef, treq + rtt, NULL);
        }
    }
    T->now = w.end;
    return 0;
}

static int emit_tls(gen_tel *T, const gen_sess *s, int64_t t0, const char *uid, uint64_t flow_id)
{
    uint8_t ch[1500], sh[300];
    wire w = {0};
    size_t cl = gen_tls_client_hello(ch, sizeof ch, &T->r, s->tls_profile, s->domain, &w.fp);
    size_t sl = gen_tls_server_hello(sh, sizeof sh, &T->r, s->tls13, &w.fp);
    if (!cl || !sl)
        return 1;
    int64_t rtt = 8000 + gen_rng_below(&T->r, 60000);
    tcp_session(T, s, t0, ch, cl, sh, sl, rtt, &w);
    conn_line(T, s, uid, t0, &w, "ssl");
    char ts[32], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], fp[65], serial[33];
    zeek_ts(t0 + rtt + 350, ts, sizeof ts);
    gen_ip_text(&s->fl, false, a, sizeof a);
    gen_ip_text(&s->fl, true, b, sizeof b);
    gen_rng_hex(&T->r, fp, 64);
    gen_rng_hex(&T->r, serial, 32);
    fprintf(T->ssl.f,
            "%s\t%s\t%s\t%u\t%s\t%u\t%s\t%s\tx25519\t%s\tF\t-\th2\tT\t%s\t%s\t(empty)\t%s\n", ts,
            uid, a, s->fl.cport, b, s->fl.sport, s->tls13 ? "TLSv13" : "TLSv12",
            s->tls13 ? "TLS_AES_128_GCM_SHA256" : "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            s->domain, s->tls13 ? "CsiI" : "CsxknGIi", s->tls13 ? "-" : fp, s->tls13 ? "-" : "T");
    T->ssl.line++;
    json_t *te = eve_base(s, t0 + rtt + 350, flow_id, w.req_pkt, "tls");
    json_t *tls = json_object();
    if (!s->tls13) {
        char subj[300], colon_fp[60];
        snprintf(subj, sizeof subj, "CN=%s", s->domain);
        for (int i = 0; i < 20; i++)
            snprintf(colon_fp + (size_t)3 * i, 4, i < 19 ? "%.2s:" : "%.2s", fp + (size_t)2 * i);
        json_object_set_new(tls, "subject", json_string(subj));
        json_object_set_new(tls, "issuerdn",
                            json_string("C=ZZ, O=Kizuna Test PKI, CN=Kizuna Test Issuing CA 1"));
        json_object_set_new(tls, "serial", json_string(serial));
        json_object_set_new(tls, "fingerprint", json_string(colon_fp));
    }
    json_object_set_new(tls, "sni", json_string(s->domain));
    json_object_set_new(tls, "version", json_string(s->tls13 ? "TLS 1.3" : "TLS 1.2"));
    if (!s->tls13) {
        json_object_set_new(tls, "notbefore", json_string("2025-11-01T00:00:00"));
        json_object_set_new(tls, "notafter", json_string("2026-11-01T00:00:00"));
    }
    json_object_set_new(tls, "ja3",
                        json_pack("{s:s, s:s}", "hash", w.fp.ja3_hash, "string", w.fp.ja3));
    json_object_set_new(tls, "ja3s",
                        json_pack("{s:s, s:s}", "hash", w.fp.ja3s_hash, "string", w.fp.ja3s));
    json_object_set_new(tls, "ja4", json_string(w.fp.ja4));
    json_object_set_new(te, "tls", tls);
    json_object_set_new(te, "app_proto", json_string("tls"));
    uint64_t tline = eve_write(T, te);
    uint64_t fline;
    flow_event(T, s, flow_id, t0, &w, "tls", &fline);
    if (planted_here(s)) {
        int64_t th = t0 + rtt + 350;
        key_entry(T, s, "ssl.log", T->ssl.line, false, "server_name", th, NULL);
        key_entry(T, s, "eve.json", tline, false, "tls.sni", th, NULL);
        key_entry(T, s, "traffic.pcap", w.req_pkt, true, "tls.handshake.extensions_server_name", th,
                  NULL);
    }
    T->now = w.end;
    return 0;
}

static int emit_conn(gen_tel *T, const gen_sess *s, int64_t t0, const char *uid, uint64_t flow_id)
{
    uint8_t req[700], resp[1200];
    size_t rl = 60 + gen_rng_below(&T->r, 600), pl = 40 + gen_rng_below(&T->r, 1100);
    gen_rng_bytes(&T->r, req, rl);
    gen_rng_bytes(&T->r, resp, pl);
    wire w = {0};
    int64_t rtt = 10000 + gen_rng_below(&T->r, 120000);
    tcp_session(T, s, t0, req, rl, resp, pl, rtt, &w);
    conn_line(T, s, uid, t0, &w, "-");
    uint64_t fline;
    flow_event(T, s, flow_id, t0, &w, NULL, &fline);
    if (planted_here(s)) {
        key_entry(T, s, "conn.log", T->conn.line, false, "id.resp_h", t0, NULL);
        key_entry(T, s, "eve.json", fline, false, "dest_ip", t0, NULL);
        key_entry(T, s, "traffic.pcap", w.first_pkt, true, "ip.dst", t0, NULL);
    }
    T->now = w.end;
    return 0;
}

/* Observation mode: the session as one observed-data bundle; no packets, no logs. */
static int emit_obs(gen_tel *T, const gen_sess *s)
{
    int64_t t0 = T->now + 1000 + gen_rng_below(&T->r, 60000);
    int64_t t1 = t0 + 2000 + gen_rng_below(&T->r, 300000);
    char od[60];
    T->st->sessions++;
    if (gen_obs_write(T->obs.f, s, t0, t1, &T->r, od) < 0)
        return -1;
    T->obs.line++;
    T->now = t1;
    if (s->hit >= 0) {
        const gen_part *pt = &T->set.v[s->ind].parts[s->part];
        key_entry(T, s, "observations.jsonl", T->obs.line, false, pt->path, t0, od);
    }
    return 0;
}

int gen_emit(gen_tel *T, const gen_sess *s)
{
    if (T->o->observations)
        return emit_obs(T, s);
    char uid[20];
    rand_id(&T->r, 'C', uid);
    uint64_t flow_id = gen_rng_next(&T->r) & 0x7ffffffffffffULL;
    int64_t t0 = T->now + 1000 + gen_rng_below(&T->r, 60000);
    T->st->sessions++;
    switch (s->kind) {
    case S_DNS:
        return emit_dns(T, s, t0, uid, flow_id);
    case S_HTTP:
    case S_FILE:
        return emit_http(T, s, t0, uid, flow_id);
    case S_TLS:
        return emit_tls(T, s, t0, uid, flow_id);
    default:
        return emit_conn(T, s, t0, uid, flow_id);
    }
}

void gen_emit_begin(gen_tel *T)
{
    zeek_header(&T->conn, "conn",
                "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration"
                "\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes"
                "\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes"
                "\ttunnel_parents\tip_proto",
                "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount"
                "\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount"
                "\tset[string]\tcount",
                T->now);
    zeek_header(&T->dns, "dns",
                "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt"
                "\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC"
                "\tRD\tRA\tZ\tanswers\tTTLs\trejected\topcode\topcode_name",
                "time\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount"
                "\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount"
                "\tvector[string]\tvector[interval]\tbool\tcount\tstring",
                T->now);
    zeek_header(&T->http, "http",
                "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost"
                "\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len"
                "\tresponse_body_len\tstatus_code\tstatus_msg\tinfo_code\tinfo_msg\ttags"
                "\tusername\tpassword\tproxied\torig_fuids\torig_filenames\torig_mime_types"
                "\tresp_fuids\tresp_filenames\tresp_mime_types",
                "time\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring"
                "\tstring\tstring\tstring\tcount\tcount\tcount\tstring\tcount\tstring"
                "\tset[enum]\tstring\tstring\tset[string]\tvector[string]\tvector[string]"
                "\tvector[string]\tvector[string]\tvector[string]\tvector[string]",
                T->now);
    zeek_header(&T->ssl, "ssl",
                "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve"
                "\tserver_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history"
                "\tcert_chain_fps\tclient_cert_chain_fps\tsni_matches_cert",
                "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool"
                "\tstring\tstring\tbool\tstring\tvector[string]\tvector[string]\tbool",
                T->now);
    zeek_header(&T->files, "files",
                "ts\tfuid\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tsource\tdepth"
                "\tanalyzers\tmime_type\tfilename\tduration\tlocal_orig\tis_orig\tseen_bytes"
                "\ttotal_bytes\tmissing_bytes\toverflow_bytes\ttimedout\tparent_fuid\tmd5"
                "\tsha1\tsha256\textracted\textracted_cutoff\textracted_size",
                "time\tstring\tstring\taddr\tport\taddr\tport\tstring\tcount\tset[string]"
                "\tstring\tstring\tinterval\tbool\tbool\tcount\tcount\tcount\tcount\tbool"
                "\tstring\tstring\tstring\tstring\tstring\tbool\tcount",
                T->now);
}

void gen_emit_end(gen_tel *T)
{
    zeek_close(&T->conn, T->now);
    zeek_close(&T->dns, T->now);
    zeek_close(&T->http, T->now);
    zeek_close(&T->ssl, T->now);
    zeek_close(&T->files, T->now);
}
