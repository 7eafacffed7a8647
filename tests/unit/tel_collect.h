/*
 * Test helper shared by the telemetry decoder tests: a sink that copies every record's
 * fields into a growable list (trec) and every malformed report into a bounded list, so a
 * test can decode first and assert afterwards.
 */
#ifndef TEL_COLLECT_H
#define TEL_COLLECT_H

#include <kizuna/telemetry.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct trec {
    char log[24], src[48], dst[48], uid[40], q[256], ans[512], host[128], uri[256], method[16],
        ua[160], ref[160], sni[128], ver[24], ja3[40], ja3s[40], ja4[48], subj[160], iss[160],
        serial[64], fp[128], md5[40], sha1[48], sha256[72], fname[128], mfrom[128], mto[256],
        msubj[128], sig[128], cat[128];
    int kind;
    uint64_t pos, sigid, bts, btc, pts, ptc;
    int64_t ts, dur;
    bool has_ts, has_flow, resp;
    unsigned sport, dport, proto, qtype, nans, nto, dropped;
} trec;

typedef struct coll {
    trec *v;
    size_t n, cap;
    size_t nbad;
    kz_tel_reason bad[64];
    uint64_t badpos[64];
} coll;

static inline void cp(char *dst, size_t cap, kz_tel_str s)
{
    size_t n = s.p ? (s.n < cap - 1 ? s.n : cap - 1) : 0;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = 0;
}

static inline void join(char *dst, size_t cap, const kz_tel_str *v, unsigned n)
{
    dst[0] = 0;
    size_t used = 0;
    for (unsigned i = 0; i < n; i++) {
        int k = snprintf(dst + used, cap - used, "%s%.*s", i ? "|" : "", (int)v[i].n, v[i].p);
        if (k < 0 || (size_t)k >= cap - used)
            break;
        used += (size_t)k;
    }
}

#define CP(f, s) cp(t->f, sizeof t->f, s)
static inline void on_rec(void *ctx, const kz_tel_record *r)
{
    coll *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
    }
    trec *t = &c->v[c->n++];
    memset(t, 0, sizeof *t);
    CP(log, r->log);
    CP(uid, r->uid);
    CP(q, r->dns_query);
    CP(host, r->http_host);
    CP(uri, r->http_uri);
    CP(method, r->http_method);
    CP(ua, r->http_user_agent);
    CP(ref, r->http_referrer);
    CP(sni, r->tls_sni);
    CP(ver, r->tls_version);
    CP(ja3, r->ja3);
    CP(ja3s, r->ja3s);
    CP(ja4, r->ja4);
    CP(subj, r->x509_subject);
    CP(iss, r->x509_issuer);
    CP(serial, r->x509_serial);
    CP(fp, r->x509_fingerprint);
    CP(md5, r->file_md5);
    CP(sha1, r->file_sha1);
    CP(sha256, r->file_sha256);
    CP(fname, r->file_name);
    CP(mfrom, r->mail_from);
    CP(msubj, r->mail_subject);
    CP(sig, r->alert_signature);
    CP(cat, r->alert_category);
    join(t->ans, sizeof t->ans, r->dns_answers, r->n_dns_answers);
    join(t->mto, sizeof t->mto, r->mail_to, r->n_mail_to);
    kz_tel_addr_format(&r->src, t->src, sizeof t->src);
    kz_tel_addr_format(&r->dst, t->dst, sizeof t->dst);
    t->kind = r->kind;
    t->pos = r->pos;
    t->ts = r->ts_us;
    t->has_ts = r->has_ts;
    t->sport = r->sport;
    t->dport = r->dport;
    t->proto = r->proto;
    t->qtype = r->dns_qtype;
    t->resp = r->dns_response;
    t->nans = r->n_dns_answers;
    t->nto = r->n_mail_to;
    t->dropped = r->n_dropped;
    t->has_flow = r->has_flow;
    t->bts = r->bytes_toserver;
    t->btc = r->bytes_toclient;
    t->pts = r->pkts_toserver;
    t->ptc = r->pkts_toclient;
    t->dur = r->duration_us;
    t->sigid = r->alert_signature_id;
}

static inline void on_bad(void *ctx, const kz_tel_malformed *m)
{
    coll *c = ctx;
    if (c->nbad < 64) {
        c->bad[c->nbad] = m->reason;
        c->badpos[c->nbad] = m->pos;
    }
    c->nbad++;
    KT_CHECK(m->detail && m->detail[0] && m->input_name && m->input_name[0]);
}

static inline void coll_free(coll *c)
{
    free(c->v);
    memset(c, 0, sizeof *c);
}

static inline kz_tel_sink sink_of(coll *c)
{
    kz_tel_sink s = {on_rec, on_bad, c};
    return s;
}

static inline bool bad_at(const coll *c, uint64_t pos, kz_tel_reason r)
{
    for (size_t i = 0; i < c->nbad && i < 64; i++)
        if (c->badpos[i] == pos && c->bad[i] == r)
            return true;
    return false;
}

static inline const trec *find_pos(const coll *c, uint64_t pos)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].pos == pos)
            return &c->v[i];
    return NULL;
}

#endif
