/*
 * kizuna gen indicators: a STIX 2.1 indicator set with realistic, varied patterns.
 *
 * Invariants: the output depends only on the options (seed included); every value comes from
 * a reserved range — IPv4 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737) then 198.18.128.0/17
 * and 198.19.0.0/16 (RFC 2544) and 100.64.0.0/10 (RFC 6598) when a large set exhausts them,
 * IPv6 2001:db8::/32 (RFC 3849),
 * names under .example, .test and .invalid (RFC 2606). Values are unique within a set while a
 * pool lasts (names embed the indicator's index), and exact IPv4 values never fall inside a
 * generated CIDR, so a planted hit on one indicator does not fire another. 192.0.2.0/24 and
 * 198.18.0.0/17 are left to the telemetry generator's clients and benign servers.
 * It does not check its output with the validator; the CLI test does that.
 */
#include "gen.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <kizuna/core.h>
#include <stdlib.h>
#include <string.h>

const char *const gen_kind_names[GEN_K_COUNT] = {"ipv4", "ipv6", "cidr", "domain", "url", "hash"};

static const char *const words_a[] = {"secure",  "login",   "account", "update", "verify",
                                      "cloud",   "mail",    "portal",  "office", "drive",
                                      "billing", "support", "auth",    "sync",   "cdn",
                                      "docs",    "wallet",  "invoice", "track",  "pay"};
static const char *const words_b[] = {"check",  "service",  "center", "online", "access",
                                      "notice", "helpdesk", "share",  "files",  "gateway",
                                      "status", "review",   "alert",  "team",   "desk",
                                      "hub",    "zone",     "link",   "box",    "net"};
static const char *const tlds[] = {"example", "test", "invalid"};
static const char *const url_paths[] = {"/gate.php",        "/wp-content/plugins/%s/%s.php",
                                        "/download/%s.exe", "/admin/%s/login.php",
                                        "/invoice/%s.zip",  "/api/v1/%s",
                                        "/%s/update.bin",   "/images/%s.jpg.scr",
                                        "/panel/%s.php"};
static const char *const malware[] = {"Emotet", "QakBot",  "AgentTesla",    "Formbook",
                                      "IcedID", "RedLine", "Cobalt Strike", "AsyncRAT",
                                      "Lumma",  "Remcos"};
static const char *const tlp2[] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* TLP:CLEAR */
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* TLP:GREEN */
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* TLP:AMBER */
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", /* TLP:AMBER+STRICT */
};
typedef struct {
    const char *chain, *phase;
} kc_phase;
static const kc_phase phases[] = {{"mitre-attack", "command-and-control"},
                                  {"mitre-attack", "initial-access"},
                                  {"mitre-attack", "exfiltration"},
                                  {"mitre-attack", "execution"},
                                  {"lockheed-martin-cyber-kill-chain", "delivery"},
                                  {"lockheed-martin-cyber-kill-chain", "command-and-control"},
                                  {"lockheed-martin-cyber-kill-chain", "installation"},
                                  {"lockheed-martin-cyber-kill-chain", "actions-on-objectives"}};

/* Exact IPv4 pool: 198.51.100.1-254, then 198.18.128.0/17 (RFC 2544), then 100.64.0.0/10
 * (RFC 6598 shared address space, no one's public address) for sets of millions. A stride
 * coprime to each pool's size walks it as a seed-dependent permutation, so values are
 * distinct until 4.2 million are used (then they repeat, as real feeds do). */
#define V4_POOL_A 254u
#define V4_POOL_B ((uint64_t)128 * 256)
#define V4_POOL_C ((uint64_t)1 << 22)
static void ipv4_value(uint64_t i, uint64_t off, char *out, size_t len)
{
    if (i < V4_POOL_A) {
        snprintf(out, len, "198.51.100.%u", (unsigned)((i * 37u + off) % V4_POOL_A + 1));
    } else if (i < V4_POOL_A + V4_POOL_B) {
        uint64_t b = (i * 7919u + off) % V4_POOL_B; /* 7919: odd, so coprime to 2^15 */
        unsigned hi = 128u + (unsigned)(b / 256u), lo = (unsigned)(b % 256u);
        snprintf(out, len, "198.18.%u.%u", hi, lo);
    } else {
        uint64_t c = (i * 7919u + off) % V4_POOL_C;
        if (c == 0 || c == V4_POOL_C - 1) /* the /10's network and broadcast addresses */
            c = 1;
        snprintf(out, len, "100.%u.%u.%u", 64u + (unsigned)(c >> 16), (unsigned)((c >> 8) & 255),
                 (unsigned)(c & 255));
    }
}

/* Rewrite an IPv6 address (with an optional /len) in RFC 5952 form, as inet_ntop gives it, so
 * that a matcher comparing text sees the same string a decoder produces. */
static void ipv6_canonical(char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN + 8], *slash = strchr(s, '/');
    struct in6_addr a;
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET6, s, &a) == 1 && inet_ntop(AF_INET6, &a, tmp, INET6_ADDRSTRLEN)) {
        if (slash)
            snprintf(tmp + strlen(tmp), sizeof tmp - strlen(tmp), "/%s", slash + 1);
        snprintf(s, len, "%s", tmp);
    } else if (slash) {
        *slash = '/';
    }
}

/* CIDRs: the eight /27s of 203.0.113.0/24, then the /24s of 198.19.0.0/16, then IPv6 /64s;
 * none overlaps another or an exact value. */
static void cidr_value(uint64_t i, gen_rng *r, char *out, size_t len, bool *v6)
{
    *v6 = false;
    if (i < 8) {
        snprintf(out, len, "203.0.113.%u/27", (unsigned)(i * 32));
    } else if (i < 8 + 256) {
        snprintf(out, len, "198.19.%u.0/24", (unsigned)(i - 8));
    } else {
        *v6 = true;
        snprintf(out, len, "2001:db8:dead:%x::/64", (unsigned)((i - 264) & 0xffff));
        if (i - 264 > 0xffff)
            snprintf(out, len, "2001:db8:%x:%x::/64", 0xe000u + (unsigned)((i - 264) >> 16),
                     (unsigned)((i - 264) & 0xffff));
        ipv6_canonical(out, len);
    }
    (void)r;
}

static void ipv6_value(uint64_t i, gen_rng *r, char *out, size_t len)
{
    unsigned a = gen_rng_below(r, 0xffff) + 1;
    snprintf(out, len, "2001:db8:bad:%x::%x:%x", (unsigned)((i >> 16) & 0xffff),
             (unsigned)(i & 0xffff), a);
    ipv6_canonical(out, len);
}

static void domain_value(const char *tag, uint64_t i, gen_rng *r, char *out, size_t len)
{
    char b36[16];
    gen_base36(i, b36, sizeof b36);
    /* One draw per statement: argument evaluation order differs between compilers. */
    const char *a = GEN_PICK(r, words_a);
    const char *b = GEN_PICK(r, words_b);
    const char *tld = GEN_PICK(r, tlds);
    snprintf(out, len, "%s-%s-%s%s.%s", a, b, tag, b36, tld);
}

static void url_value(const char *host, gen_rng *r, char *out, size_t len)
{
    char path[80], id[9];
    const char *fmt = GEN_PICK(r, url_paths);
    const char *w = GEN_PICK(r, words_b);
    snprintf(path, sizeof path, fmt, w, w);
    gen_rng_hex(r, id, 8);
    if (strcmp(fmt, "/gate.php") == 0)
        snprintf(out, len, "http://%s%s?id=%s", host, path, id);
    else
        snprintf(out, len, "http://%s%s", host, path);
}

typedef struct ind_text {
    char pattern[1024];
    char name[512];
    char desc[512];
    const char *type;
} ind_text;

static void make_one(int kind, uint64_t idx, uint64_t off, gen_rng *r, ind_text *t)
{
    char v[200], v2[100];
    const char *fam = GEN_PICK(r, malware);
    t->type = "malicious-activity";
    switch (kind) {
    case GEN_K_IPV4:
        ipv4_value(idx, off, v, sizeof v);
        if (gen_rng_below(r, 8) == 0) {
            unsigned port = (unsigned[]){443, 8443, 4444, 2083}[gen_rng_below(r, 4)];
            snprintf(t->pattern, sizeof t->pattern,
                     "[network-traffic:dst_ref.value = '%s' AND network-traffic:dst_port = %u]", v,
                     port);
            snprintf(t->name, sizeof t->name, "%s C2 endpoint %s:%u", fam, v, port);
        } else {
            snprintf(t->pattern, sizeof t->pattern, "[ipv4-addr:value = '%s']", v);
            snprintf(t->name, sizeof t->name, "%s infrastructure %s", fam, v);
        }
        snprintf(t->desc, sizeof t->desc, "Address observed serving %s command and control.", fam);
        break;
    case GEN_K_IPV6:
        ipv6_value(idx, r, v, sizeof v);
        snprintf(t->pattern, sizeof t->pattern, "[ipv6-addr:value = '%s']", v);
        snprintf(t->name, sizeof t->name, "%s infrastructure %s", fam, v);
        snprintf(t->desc, sizeof t->desc, "IPv6 address used by %s operators.", fam);
        break;
    case GEN_K_CIDR: {
        bool v6;
        cidr_value(idx, r, v, sizeof v, &v6);
        snprintf(t->pattern, sizeof t->pattern, "[%s:value ISSUBSET '%s']",
                 v6 ? "ipv6-addr" : "ipv4-addr", v);
        snprintf(t->name, sizeof t->name, "Bulletproof hosting range %s", v);
        snprintf(t->desc, sizeof t->desc, "Network block hosting %s panels and scanners.", fam);
        t->type = "anomalous-activity";
        break;
    }
    case GEN_K_DOMAIN:
        domain_value("d", idx, r, v, sizeof v);
        if (gen_rng_below(r, 3) == 0)
            snprintf(t->pattern, sizeof t->pattern,
                     "[domain-name:value = '%s' OR domain-name:value LIKE '%%.%s']", v, v);
        else
            snprintf(t->pattern, sizeof t->pattern, "[domain-name:value = '%s']", v);
        snprintf(t->name, sizeof t->name, "Phishing domain %s", v);
        snprintf(t->desc, sizeof t->desc, "Credential phishing domain delivering %s.", fam);
        break;
    case GEN_K_URL: {
        bool seq = gen_rng_below(r, 10) == 0; /* one in ten: lookup FOLLOWEDBY download */
        domain_value(seq ? "f" : "u", idx, r, v2, sizeof v2);
        url_value(v2, r, v, sizeof v);
        if (seq) {
            unsigned within = 60u * (1u + gen_rng_below(r, 10));
            snprintf(t->pattern, sizeof t->pattern,
                     "[domain-name:value = '%s'] FOLLOWEDBY [url:value = '%s'] WITHIN %u SECONDS",
                     v2, v, within);
            snprintf(t->name, sizeof t->name, "%s lookup then download from %s", fam, v2);
        } else {
            snprintf(t->pattern, sizeof t->pattern, "[url:value = '%s']", v);
            snprintf(t->name, sizeof t->name, "%s download URL on %s", fam, v2);
        }
        snprintf(t->desc, sizeof t->desc, "URL serving the %s loader.", fam);
        break;
    }
    default: { /* GEN_K_HASH */
        unsigned a = gen_rng_below(r, 10);
        const char *alg = a < 7 ? "SHA-256" : a < 9 ? "MD5" : "SHA-1";
        size_t n = a < 7 ? 64 : a < 9 ? 32 : 40;
        gen_rng_hex(r, v, n);
        snprintf(t->pattern, sizeof t->pattern, "[file:hashes.'%s' = '%s']", alg, v);
        snprintf(t->name, sizeof t->name, "%s sample (%s)", fam, alg);
        snprintf(t->desc, sizeof t->desc, "File hash of a %s payload.", fam);
        break;
    }
    }
}

static int dump_line(FILE *out, json_t *o, const char *sep)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    if (!s)
        return -1;
    int rc = fprintf(out, "%s%s", s, sep) < 0 ? -1 : 0;
    free(s);
    return rc;
}

/* Largest-remainder apportionment so the mix is exact, then a seeded shuffle. */
static unsigned char *plan_kinds(const gen_ind_opts *o, gen_rng *r)
{
    unsigned char *k = malloc(o->count ? o->count : 1);
    if (!k)
        return NULL;
    uint64_t wsum = 0, given = 0, cnt[GEN_K_COUNT];
    for (int i = 0; i < GEN_K_COUNT; i++)
        wsum += o->mix[i];
    for (int i = 0; i < GEN_K_COUNT; i++) {
        cnt[i] = o->count * o->mix[i] / wsum;
        given += cnt[i];
    }
    for (int i = 0; given < o->count; i = (i + 1) % GEN_K_COUNT)
        if (o->mix[i]) {
            cnt[i]++;
            given++;
        }
    uint64_t p = 0;
    for (int i = 0; i < GEN_K_COUNT; i++)
        for (uint64_t j = 0; j < cnt[i]; j++)
            k[p++] = (unsigned char)i;
    for (uint64_t i = o->count; i > 1; i--) {
        uint64_t j = gen_rng_next(r) % i;
        unsigned char t = k[i - 1];
        k[i - 1] = k[j];
        k[j] = t;
    }
    return k;
}

int gen_indicators_write(const gen_ind_opts *o, FILE *out, char *err, size_t errlen)
{
    gen_rng r;
    gen_rng_seed(&r, o->seed);
    unsigned char *kinds = plan_kinds(o, &r);
    if (!kinds) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Base time: a fixed instant, so only the seed changes the output. */
    const int64_t base = 1759276800LL * 1000000; /* 2025-10-01T00:00:00Z */
    char ident[64], uuid[37], ts[32], bundle[64];
    gen_rng_uuid4(&r, uuid);
    snprintf(ident, sizeof ident, "identity--%s", uuid);
    gen_rng_uuid4(&r, uuid);
    snprintf(bundle, sizeof bundle, "bundle--%s", uuid);
    gen_fmt_stix_time(base, ts, sizeof ts);
    uint64_t v4off = gen_rng_next(&r);

    int rc = 0;
    json_t *id = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}", "type", "identity",
                           "spec_version", "2.1", "id", ident, "created", ts, "modified", ts,
                           "name", "Kizuna Generated Feed", "identity_class", "organization",
                           "sectors", "technology", "object_marking_refs", tlp2[0]);
    if (!o->jsonl && fprintf(out, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[\n", bundle) < 0)
        rc = -1;
    if (!id || dump_line(out, id, o->count ? (o->jsonl ? "\n" : ",\n") : "\n") < 0)
        rc = -1;
    json_decref(id);

    uint64_t per_kind[GEN_K_COUNT] = {0};
    for (uint64_t i = 0; i < o->count && rc == 0; i++) {
        ind_text t;
        int kind = kinds[i];
        make_one(kind, per_kind[kind]++, v4off, &r, &t);
        int64_t created = base + (int64_t)gen_rng_below(&r, 90u * 86400u) * 1000000;
        created += (int64_t)gen_rng_below(&r, 1000) * 1000;
        char cts[32], vuntil[32];
        gen_fmt_stix_time(created, cts, sizeof cts);
        gen_rng_uuid4(&r, uuid);
        char iid[64];
        snprintf(iid, sizeof iid, "indicator--%s", uuid);
        const kc_phase *ph = &GEN_PICK(&r, phases);
        int confidence = (int)(50 + gen_rng_below(&r, 51));
        const char *tlp = tlp2[gen_rng_below(&r, 4)];
        json_t *ind =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:s, s:s, s:i, "
                      "s:[{s:s, s:s}], s:[s]}",
                      "type", "indicator", "spec_version", "2.1", "id", iid, "created_by_ref",
                      ident, "created", cts, "modified", cts, "name", t.name, "description", t.desc,
                      "indicator_types", t.type, "pattern", t.pattern, "pattern_type", "stix",
                      "pattern_version", "2.1", "valid_from", cts, "confidence", confidence,
                      "kill_chain_phases", "kill_chain_name", ph->chain, "phase_name", ph->phase,
                      "object_marking_refs", tlp);
        if (ind && gen_rng_below(&r, 4) == 0) {
            gen_fmt_stix_time(created + (int64_t)(180 + gen_rng_below(&r, 185)) * 86400 * 1000000,
                              vuntil, sizeof vuntil);
            json_object_set_new(ind, "valid_until", json_string(vuntil));
        }
        bool last = i + 1 == o->count;
        if (!ind || dump_line(out, ind, o->jsonl || last ? "\n" : ",\n") < 0)
            rc = -1;
        json_decref(ind);
    }
    if (rc == 0 && !o->jsonl && fprintf(out, "]}\n") < 0)
        rc = -1;
    free(kinds);
    if (rc < 0)
        snprintf(err, errlen, "write failed or out of memory");
    return rc;
}
