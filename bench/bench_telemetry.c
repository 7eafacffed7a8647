/*
 * Benchmark: telemetry decoder throughput on generated inputs, one core.
 *   Zeek TSV  : lines/s over a conn/dns/http/ssl/files mix (targets: 2M lines/s/core)
 *   Zeek JSON : lines/s over the same records as JSON
 *   EVE JSON  : events/s over a dns(v2+v3)/http/tls/flow/fileinfo/alert mix (1M/s/core)
 *   pcap      : Gbit/s of wire bytes from a pcap file through libpcap, with flows, DNS,
 *               HTTP and TLS hellos decoded (5 Gbit/s/core)
 * Each figure is the median of 5 runs, measured both on in-memory lines (decoder alone) and
 * through the file reader (read + split + decode) where it applies. The input files go to
 * $TMPDIR (default /tmp) and are removed at the end. Prints the machine and peak RSS.
 * Usage: bench_telemetry [LINES]   (default 1000000; pcap uses LINES/4 packets)
 */
#include "bench_util.h"
#include <jansson.h>
#include <kizuna/telemetry.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t seen, strbytes;

/* What a sensor would at least do: look at the fields. */
static void on_rec(void *ctx, const kz_tel_record *r)
{
    (void)ctx;
    seen++;
    strbytes += r->dns_query.n + r->http_host.n + r->tls_sni.n + r->ja3.n;
}

static uint64_t bad;
static char first_bad[256];

static void on_bad(void *ctx, const kz_tel_malformed *m)
{
    (void)ctx;
    if (!bad++)
        snprintf(first_bad, sizeof first_bad, "%s:%llu %s %s", m->input_name,
                 (unsigned long long)m->pos, kz_tel_reason_name(m->reason), m->detail);
}

static const kz_tel_sink sink = {on_rec, on_bad, NULL};

typedef struct text {
    char *buf;
    size_t len, lines;
} text;

static void tappend(text *t, size_t *cap, const char *s, size_t n)
{
    if (t->len + n + 1 > *cap) {
        *cap = (*cap + n + 1) * 2;
        t->buf = realloc(t->buf, *cap);
        if (!t->buf)
            exit(1);
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static const char *zeek_header =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
    "#path\t%s\n#fields\t%s\n#types\t%s\n";

static void gen_zeek(text *t, size_t lines, bool json)
{
    size_t cap = 0;
    char l[1024];
    /* Zeek writes one log per file; the mix is one file with the header changing every
     * 1000 rows, which costs the same per row. */
    const char *kinds[] = {"conn", "dns", "http", "ssl", "files"};
    for (size_t i = 0; i < lines; i++) {
        unsigned k = (unsigned)(i / 1000 % 5);
        unsigned a = (unsigned)i * 2654435761u;
        int n = 0;
        if (!json && i % 1000 == 0) {
            const char *f = "", *ty = "";
            switch (k) {
            case 0:
                f = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
                    "duration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\t"
                    "missed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes"
                    "\ttunnel_parents";
                ty = "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount"
                     "\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\t"
                     "set[string]";
                break;
            case 1:
                f = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt"
                    "\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC"
                    "\tRD\tRA\tZ\tanswers\tTTLs\trejected";
                ty = "time\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount"
                     "\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\t"
                     "vector[string]\tvector[interval]\tbool";
                break;
            case 2:
                f = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod"
                    "\thost\turi\treferrer\tversion\tuser_agent\trequest_body_len\t"
                    "response_body_len\tstatus_code\tstatus_msg";
                ty = "time\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\t"
                     "string\tstring\tstring\tcount\tcount\tcount\tstring";
                break;
            case 3:
                f = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\t"
                    "curve\tserver_name\tresumed\testablished\tja3\tja3s";
                ty = "time\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\t"
                     "bool\tbool\tstring\tstring";
                break;
            default:
                f = "ts\tfuid\ttx_hosts\trx_hosts\tsource\tmime_type\tfilename\tmd5\tsha1\t"
                    "sha256";
                ty = "time\tstring\tset[addr]\tset[addr]\tstring\tstring\tstring\tstring\t"
                     "string\tstring";
                break;
            }
            n = snprintf(l, sizeof l, zeek_header, kinds[k], f, ty);
            tappend(t, &cap, l, (size_t)n);
        }
        unsigned o1 = a >> 24, o2 = a >> 16 & 255, o3 = a >> 8 & 255;
        double ts = 1700000000.0 + (double)i / 1000.0;
        switch (k) {
        case 0:
            n = json ? snprintf(l, sizeof l,
                                "{\"_path\":\"conn\",\"ts\":%.6f,\"uid\":\"C%08x\",\"id.orig_h\":"
                                "\"10.%u.%u.%u\",\"id.orig_p\":%u,\"id.resp_h\":\"198.51.%u.%u\","
                                "\"id.resp_p\":443,\"proto\":\"tcp\",\"service\":\"ssl\","
                                "\"duration\":1.25,\"orig_bytes\":%u,\"resp_bytes\":%u,"
                                "\"conn_state\":\"SF\",\"missed_bytes\":0,\"history\":"
                                "\"ShADadFf\",\"orig_pkts\":12,\"orig_ip_bytes\":1800,"
                                "\"resp_pkts\":30,\"resp_ip_bytes\":36000}\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, o2, o3, a % 5000,
                                a % 90000)
                     : snprintf(l, sizeof l,
                                "%.6f\tC%08x\t10.%u.%u.%u\t%u\t198.51.%u.%u\t443\ttcp\tssl\t"
                                "1.250000\t%u\t%u\tSF\tT\tF\t0\tShADadFf\t12\t1800\t30\t36000"
                                "\t-\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, o2, o3, a % 5000,
                                a % 90000);
            break;
        case 1:
            n = json ? snprintf(l, sizeof l,
                                "{\"_path\":\"dns\",\"ts\":%.6f,\"uid\":\"C%08x\",\"id.orig_h\":"
                                "\"10.%u.%u.%u\",\"id.orig_p\":%u,\"id.resp_h\":\"10.0.0.53\","
                                "\"id.resp_p\":53,\"proto\":\"udp\",\"trans_id\":%u,\"rtt\":"
                                "0.01,\"query\":\"host%u.example%u.com\",\"qclass\":1,"
                                "\"qclass_name\":\"C_INTERNET\",\"qtype\":1,\"qtype_name\":\"A\","
                                "\"rcode\":0,\"rcode_name\":\"NOERROR\",\"AA\":false,\"TC\":false,"
                                "\"RD\":true,\"RA\":true,\"Z\":0,\"answers\":[\"192.0.2.%u\"],"
                                "\"TTLs\":[60.0],\"rejected\":false}\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, a & 65535, a % 100000,
                                o1, o3)
                     : snprintf(l, sizeof l,
                                "%.6f\tC%08x\t10.%u.%u.%u\t%u\t10.0.0.53\t53\tudp\t%u\t0.010000"
                                "\thost%u.example%u.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF"
                                "\tT\tT\t0\t192.0.2.%u\t60.000000\tF\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, a & 65535, a % 100000,
                                o1, o3);
            break;
        case 2:
            n = json ? snprintf(l, sizeof l,
                                "{\"_path\":\"http\",\"ts\":%.6f,\"uid\":\"C%08x\",\"id.orig_h\":"
                                "\"10.%u.%u.%u\",\"id.orig_p\":%u,\"id.resp_h\":\"203.0.113.%u\","
                                "\"id.resp_p\":80,\"trans_depth\":1,\"method\":\"GET\",\"host\":"
                                "\"www%u.example.org\",\"uri\":\"/path/%u/index.html?q=%u\","
                                "\"version\":\"1.1\",\"user_agent\":\"Mozilla/5.0 (Windows NT "
                                "10.0; Win64; x64) AppleWebKit/537.36\",\"request_body_len\":0,"
                                "\"response_body_len\":%u,\"status_code\":200,\"status_msg\":"
                                "\"OK\"}\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, o3, a % 1000, a, a, a % 9999)
                     : snprintf(l, sizeof l,
                                "%.6f\tC%08x\t10.%u.%u.%u\t%u\t203.0.113.%u\t80\t1\tGET\t"
                                "www%u.example.org\t/path/%u/index.html?q=%u\t-\t1.1\tMozilla/5.0"
                                " (Windows NT 10.0; Win64; x64) AppleWebKit/537.36\t0\t%u\t200\t"
                                "OK\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, o3, a % 1000, a, a, a % 9999);
            break;
        case 3:
            n = json ? snprintf(l, sizeof l,
                                "{\"_path\":\"ssl\",\"ts\":%.6f,\"uid\":\"C%08x\",\"id.orig_h\":"
                                "\"10.%u.%u.%u\",\"id.orig_p\":%u,\"id.resp_h\":\"203.0.113.%u\","
                                "\"id.resp_p\":443,\"version\":\"TLSv13\",\"cipher\":"
                                "\"TLS_AES_128_GCM_SHA256\",\"curve\":\"x25519\",\"server_name\":"
                                "\"api%u.example.net\",\"resumed\":false,\"established\":true,"
                                "\"ja3\":\"%08x%08x%08x%08x\",\"ja3s\":\"f4febc55ea12b31ae17cfb7e614afda8\"}\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, o3, a % 5000, a, a, a, a)
                     : snprintf(l, sizeof l,
                                "%.6f\tC%08x\t10.%u.%u.%u\t%u\t203.0.113.%u\t443\tTLSv13\t"
                                "TLS_AES_128_GCM_SHA256\tx25519\tapi%u.example.net\tF\tT\t"
                                "%08x%08x%08x%08x\tf4febc55ea12b31ae17cfb7e614afda8\n",
                                ts, a, o1, o2, o3, 1024 + a % 60000, o3, a % 5000, a, a, a, a);
            break;
        default:
            n = json ? snprintf(l, sizeof l,
                                "{\"_path\":\"files\",\"ts\":%.6f,\"fuid\":\"F%08x\",\"tx_hosts\":"
                                "[\"203.0.113.%u\"],\"rx_hosts\":[\"10.%u.%u.%u\"],\"source\":"
                                "\"HTTP\",\"mime_type\":\"application/x-dosexec\",\"filename\":"
                                "\"f%u.exe\",\"md5\":\"%08x%08x%08x%08x\",\"sha1\":"
                                "\"%08x%08x%08x%08x%08x\",\"sha256\":\"%08x%08x%08x%08x%08x%08x%08x"
                                "%08x\"}\n",
                                ts, a, o3, o1, o2, o3, a % 1000, a, a, a, a, a, a, a, a, a, a, a,
                                a, a, a, a, a, a)
                     : snprintf(l, sizeof l,
                                "%.6f\tF%08x\t203.0.113.%u\t10.%u.%u.%u\tHTTP\t"
                                "application/x-dosexec\tf%u.exe\t%08x%08x%08x%08x\t"
                                "%08x%08x%08x%08x%08x\t%08x%08x%08x%08x%08x%08x%08x%08x\n",
                                ts, a, o3, o1, o2, o3, a % 1000, a, a, a, a, a, a, a, a, a, a, a,
                                a, a, a, a, a, a);
            break;
        }
        tappend(t, &cap, l, (size_t)n);
        t->lines++;
    }
    t->buf[t->len] = 0;
}

static void gen_eve(text *t, size_t lines)
{
    size_t cap = 0;
    char l[2048];
    for (size_t i = 0; i < lines; i++) {
        unsigned a = (unsigned)i * 2654435761u;
        unsigned o1 = a >> 24, o2 = a >> 16 & 255, o3 = a >> 8 & 255;
        char head[256];
        snprintf(head, sizeof head,
                 "{\"timestamp\":\"2024-03-01T12:%02u:%02u.%06u+0000\",\"flow_id\":%u%06u,"
                 "\"in_iface\":\"eth0\",\"src_ip\":\"10.%u.%u.%u\",\"src_port\":%u,",
                 (unsigned)(i / 60000 % 60), (unsigned)(i / 1000 % 60), (unsigned)(i % 1000000),
                 1 + a % 4000000000u, (unsigned)i % 1000000, o1, o2, o3, 1024 + a % 60000);
        int n = 0;
        switch (i % 8) {
        case 0:
            n = snprintf(l, sizeof l,
                         "%s\"dest_ip\":\"10.0.0.53\",\"dest_port\":53,\"proto\":\"UDP\","
                         "\"event_type\":\"dns\",\"dns\":{\"version\":3,\"type\":\"request\","
                         "\"tx_id\":0,\"id\":%u,\"flags\":\"100\",\"rd\":true,\"opcode\":0,"
                         "\"rcode\":\"NOERROR\",\"queries\":[{\"rrname\":\"host%u.example%u.com\","
                         "\"rrtype\":\"A\"}]}}\n",
                         head, a & 65535, a % 100000, o1);
            break;
        case 1:
            n = snprintf(l, sizeof l,
                         "%s\"dest_ip\":\"10.0.0.53\",\"dest_port\":53,\"proto\":\"UDP\","
                         "\"event_type\":\"dns\",\"dns\":{\"version\":2,\"type\":\"answer\","
                         "\"id\":%u,\"flags\":\"8180\",\"qr\":true,\"rd\":true,\"ra\":true,"
                         "\"rrname\":\"host%u.example%u.com\",\"rrtype\":\"A\",\"rcode\":"
                         "\"NOERROR\",\"answers\":[{\"rrname\":\"host%u.example%u.com\","
                         "\"rrtype\":\"CNAME\",\"ttl\":300,\"rdata\":\"cdn%u.example.net\"},"
                         "{\"rrname\":\"cdn%u.example.net\",\"rrtype\":\"A\",\"ttl\":60,"
                         "\"rdata\":\"192.0.2.%u\"}]}}\n",
                         head, a & 65535, a % 100000, o1, a % 100000, o1, o2, o2, o3);
            break;
        case 2:
        case 3:
            n = snprintf(l, sizeof l,
                         "%s\"dest_ip\":\"203.0.113.%u\",\"dest_port\":80,\"proto\":\"TCP\","
                         "\"tx_id\":0,\"event_type\":\"http\",\"http\":{\"hostname\":"
                         "\"www%u.example.org\",\"url\":\"/path/%u/index.html?q=%u\","
                         "\"http_user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                         "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\","
                         "\"http_content_type\":\"text/html\",\"http_refer\":"
                         "\"http://www%u.example.org/\",\"http_method\":\"GET\",\"protocol\":"
                         "\"HTTP/1.1\",\"status\":200,\"length\":%u}}\n",
                         head, o3, a % 1000, a, a, a % 1000, a % 99999);
            break;
        case 4:
            n = snprintf(l, sizeof l,
                         "%s\"dest_ip\":\"203.0.113.%u\",\"dest_port\":443,\"proto\":\"TCP\","
                         "\"event_type\":\"tls\",\"tls\":{\"subject\":\"CN=api%u.example.net\","
                         "\"issuerdn\":\"C=US, O=Let's Encrypt, CN=R3\",\"serial\":"
                         "\"04:A3:%02X:%02X\",\"fingerprint\":\"%08x%08x%08x%08x%08x\",\"sni\":"
                         "\"api%u.example.net\",\"version\":\"TLS 1.3\",\"notbefore\":"
                         "\"2024-01-01T00:00:00\",\"notafter\":\"2024-04-01T00:00:00\","
                         "\"ja3\":{\"hash\":\"%08x%08x%08x%08x\",\"string\":\"771,4865-4866-"
                         "4867-49195-49199,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513,"
                         "29-23-24,0\"},\"ja3s\":{\"hash\":\"f4febc55ea12b31ae17cfb7e614afda8\","
                         "\"string\":\"771,4865,43-51\"},\"ja4\":\"t13d1516h2_8daaf6152771_"
                         "e5627efa2ab1\"}}\n",
                         head, o3, a % 5000, o1, o2, a, a, a, a, a, a % 5000, a, a, a, a);
            break;
        case 5:
            n = snprintf(l, sizeof l,
                         "%s\"dest_ip\":\"203.0.113.%u\",\"dest_port\":443,\"proto\":\"TCP\","
                         "\"event_type\":\"flow\",\"app_proto\":\"tls\",\"flow\":{"
                         "\"pkts_toserver\":%u,\"pkts_toclient\":%u,\"bytes_toserver\":%u,"
                         "\"bytes_toclient\":%u,\"start\":\"2024-03-01T12:00:00.000000+0000\","
                         "\"end\":\"2024-03-01T12:00:02.000000+0000\",\"age\":2,\"state\":"
                         "\"closed\",\"reason\":\"timeout\",\"alerted\":false},\"tcp\":{"
                         "\"tcp_flags\":\"1b\",\"tcp_flags_ts\":\"1b\",\"tcp_flags_tc\":\"1b\","
                         "\"syn\":true,\"fin\":true,\"psh\":true,\"ack\":true,\"state\":"
                         "\"closed\"}}\n",
                         head, o3, a % 100, a % 100, a % 10000, a % 100000);
            break;
        case 6:
            n = snprintf(l, sizeof l,
                         "%s\"dest_ip\":\"203.0.113.%u\",\"dest_port\":80,\"proto\":\"TCP\","
                         "\"event_type\":\"fileinfo\",\"http\":{\"hostname\":"
                         "\"dl%u.example.org\",\"url\":\"/f%u.exe\",\"http_method\":\"GET\"},"
                         "\"app_proto\":\"http\",\"fileinfo\":{\"filename\":\"/f%u.exe\","
                         "\"magic\":\"PE32 executable (GUI) Intel 80386, for MS Windows\","
                         "\"gaps\":false,\"state\":\"CLOSED\",\"md5\":\"%08x%08x%08x%08x\","
                         "\"sha1\":\"%08x%08x%08x%08x%08x\",\"sha256\":"
                         "\"%08x%08x%08x%08x%08x%08x%08x%08x\",\"stored\":false,\"size\":%u,"
                         "\"tx_id\":0}}\n",
                         head, o3, a % 1000, a % 1000, a % 1000, a, a, a, a, a, a, a, a, a, a,
                         a, a, a, a, a, a, a, a % 100000);
            break;
        default:
            n = snprintf(l, sizeof l,
                         "%s\"dest_ip\":\"203.0.113.%u\",\"dest_port\":80,\"proto\":\"TCP\","
                         "\"event_type\":\"alert\",\"tx_id\":0,\"alert\":{\"action\":"
                         "\"allowed\",\"gid\":1,\"signature_id\":%u,\"rev\":3,\"signature\":"
                         "\"ET MALWARE Example Checkin %u\",\"category\":\"A Network Trojan was "
                         "detected\",\"severity\":1,\"metadata\":{\"attack_target\":[\"Client_"
                         "Endpoint\"],\"created_at\":[\"2024_01_01\"]}},\"http\":{\"hostname\":"
                         "\"c2-%u.example\",\"url\":\"/gate.php\",\"http_method\":\"POST\"},"
                         "\"app_proto\":\"http\",\"flow\":{\"pkts_toserver\":4,\"pkts_toclient\""
                         ":3,\"bytes_toserver\":600,\"bytes_toclient\":400,\"start\":"
                         "\"2024-03-01T12:00:00.000000+0000\"}}\n",
                         head, o3, 2000000 + a % 100000, a % 1000, a % 1000);
            break;
        }
        tappend(t, &cap, l, (size_t)n);
        t->lines++;
    }
    t->buf[t->len] = 0;
}

typedef int (*line_fn)(void *dec, char *line, size_t len);

/* Feed the in-memory text line by line. Decoders unescape in place, so each run gets a
 * fresh copy, made by the caller before the clocks start. */
static double run_lines(const text *t, char *work, void *dec, line_fn fn)
{
    double t0 = bench_process_cpu_s();
    char *p = work, *end = work + t->len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        fn(dec, p, n);
        p += n + 1;
    }
    return bench_process_cpu_s() - t0;
}

static int zl(void *d, char *l, size_t n)
{
    return kz_tel_zeek_line(d, l, n);
}
static int el(void *d, char *l, size_t n)
{
    return kz_tel_eve_line(d, l, n);
}

static void write_file(const char *path, const text *t)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(t->buf, 1, t->len, f) != t->len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void bench_text(const char *label, const text *t, bool eve, const char *path)
{
    double mem[5], file[5], wall[5];
    uint64_t rec = 0;
    bad = 0;
    char *work = malloc(t->len + 1);
    if (!work)
        exit(1);
    for (int r = 0; r < 5; r++) {
        seen = 0;
        memcpy(work, t->buf, t->len);
        double w0 = bench_wall_s();
        if (eve) {
            kz_tel_eve *e = kz_tel_eve_new("bench", &sink);
            mem[r] = run_lines(t, work, e, el);
            kz_tel_eve_free(e);
        } else {
            kz_tel_zeek *z = kz_tel_zeek_new("bench", &sink);
            mem[r] = run_lines(t, work, z, zl);
            kz_tel_zeek_free(z);
        }
        rec = seen;
        wall[r] = bench_wall_s() - w0;
        double t0 = bench_process_cpu_s();
        char err[256];
        if (eve) {
            kz_tel_eve *e = kz_tel_eve_new(path, &sink);
            kz_tel_eve_file(e, path, err, sizeof err);
            kz_tel_eve_free(e);
        } else {
            kz_tel_zeek *z = kz_tel_zeek_new(path, &sink);
            kz_tel_zeek_file(z, path, err, sizeof err);
            kz_tel_zeek_free(z);
        }
        file[r] = bench_process_cpu_s() - t0;
    }
    free(work);
    double m = bench_median(mem, 5), f = bench_median(file, 5), w = bench_median(wall, 5);
    printf("%-10s %9zu lines %6.1f MB  decode %5.2f M lines/s (%4.0f MB/s, wall %5.2f)   "
           "file %5.2f M lines/s   records %llu, malformed %llu\n",
           label, t->lines, (double)t->len / 1e6, (double)t->lines / m / 1e6,
           (double)t->len / m / 1e6, (double)t->lines / w / 1e6, (double)t->lines / f / 1e6,
           (unsigned long long)rec, (unsigned long long)bad / 10);
    if (bad)
        printf("           first malformed: %s\n", first_bad);
}

/* The alternative the EVE decoder avoids: a jansson DOM per line, then the same handful of
 * fields read from it (event_type, addresses, ports, and the dns/http/tls names). */
static void bench_jansson(const text *t)
{
    double v[5];
    for (int r = 0; r < 5; r++) {
        uint64_t got = 0;
        double t0 = bench_process_cpu_s();
        const char *p = t->buf, *end = t->buf + t->len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            json_error_t je;
            json_t *j = json_loadb(p, n, 0, &je);
            if (j) {
                const char *keys[] = {"event_type", "src_ip", "dest_ip", "timestamp"};
                for (int k = 0; k < 4; k++)
                    got += json_string_value(json_object_get(j, keys[k])) != NULL;
                got += json_integer_value(json_object_get(j, "src_port")) > 0;
                json_t *h = json_object_get(j, "http");
                got += json_string_value(json_object_get(h, "hostname")) != NULL;
                json_t *tl = json_object_get(j, "tls");
                got += json_string_value(json_object_get(tl, "sni")) != NULL;
                json_t *d = json_object_get(j, "dns");
                got += json_string_value(json_object_get(d, "rrname")) != NULL;
                json_decref(j);
            }
            p += n + 1;
        }
        v[r] = bench_process_cpu_s() - t0;
        strbytes += got;
    }
    double m = bench_median(v, 5);
    printf("%-10s %9zu lines %6.1f MB  jansson DOM per line, for comparison: %5.2f M lines/s\n",
           "eve-dom", t->lines, (double)t->len / 1e6, (double)t->lines / m / 1e6);
}

/* ---- pcap ------------------------------------------------------------------------------ */

static size_t frame(uint8_t *b, unsigned i, unsigned kind)
{
    static const uint8_t eth[14] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0};
    memcpy(b, eth, 14);
    uint8_t *ip = b + 14;
    unsigned flow = i % 5000;
    bool udp = kind == 1;
    size_t pl = 0;
    uint8_t *l4 = ip + 20, *pay = l4 + (udp ? 8 : 20);
    if (kind == 1) { /* DNS query */
        static const uint8_t q[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'h', 'o', 's',
                                    't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm',
                                    0, 0, 1, 0, 1};
        memcpy(pay, q, sizeof q);
        pl = sizeof q;
    } else if (kind == 2) { /* HTTP request head */
        pl = (size_t)sprintf((char *)pay,
                             "GET /path/%u/index.html HTTP/1.1\r\nHost: www%u.example.org\r\n"
                             "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: */*\r\n\r\n",
                             i, flow);
    } else { /* bulk data: what most bytes on a link are */
        pl = 1448;
        memset(pay, (int)(i & 255), pl);
    }
    size_t l4len = (udp ? 8 : 20) + pl;
    ip[0] = 0x45;
    ip[1] = 0;
    ip[2] = (uint8_t)((20 + l4len) >> 8);
    ip[3] = (uint8_t)(20 + l4len);
    ip[4] = ip[5] = ip[6] = ip[7] = 0;
    ip[8] = 64;
    ip[9] = udp ? 17 : 6;
    ip[10] = ip[11] = 0;
    uint8_t src[4] = {10, 1, (uint8_t)(flow >> 8), (uint8_t)flow}, dst[4] = {203, 0, 113, 7};
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    unsigned sport = 20000 + flow, dport = udp ? 53 : (kind == 2 ? 80 : 443);
    l4[0] = (uint8_t)(sport >> 8);
    l4[1] = (uint8_t)sport;
    l4[2] = (uint8_t)(dport >> 8);
    l4[3] = (uint8_t)dport;
    if (udp) {
        l4[4] = (uint8_t)(l4len >> 8);
        l4[5] = (uint8_t)l4len;
        l4[6] = l4[7] = 0;
    } else {
        memset(l4 + 4, 0, 16);
        l4[12] = 5 << 4;
        l4[13] = 0x18;
    }
    return 14 + 20 + l4len;
}

static void bench_pcap(size_t packets, const char *path)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    if (!d) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    uint8_t b[2048];
    uint64_t wire = 0;
    for (size_t i = 0; i < packets; i++) {
        /* 1 in 64 a DNS query, 1 in 64 an HTTP request head, the rest 1500-byte segments */
        unsigned kind = i % 64 == 0 ? 1 : i % 64 == 1 ? 2 : 0;
        size_t n = frame(b, (unsigned)i, kind);
        struct pcap_pkthdr h = {.ts = {1700000000 + (long)(i / 100000), (long)(i % 100000) * 10},
                                .caplen = (bpf_u_int32)n, .len = (bpf_u_int32)n};
        pcap_dump((u_char *)d, &h, b);
        wire += n;
    }
    pcap_dump_close(d);
    pcap_close(dead);
    double v[5], wl[5];
    uint64_t rec = 0;
    for (int r = 0; r < 5; r++) {
        seen = 0;
        kz_tel_pcap *p = kz_tel_pcap_new(path, &sink, NULL);
        char err[256];
        double t0 = bench_process_cpu_s(), w0 = bench_wall_s();
        kz_tel_pcap_file(p, path, err, sizeof err);
        v[r] = bench_process_cpu_s() - t0;
        wl[r] = bench_wall_s() - w0;
        rec = seen;
        kz_tel_pcap_free(p);
    }
    double m = bench_median(v, 5), w = bench_median(wl, 5);
    printf("%-10s %9zu pkts  %6.1f MB  file   %5.2f Gbit/s (%4.2f M pkt/s, wall %5.2f Gbit/s)"
           "   records %llu\n",
           "pcap", packets, (double)wire / 1e6, (double)wire * 8 / m / 1e9,
           (double)packets / m / 1e6, (double)wire * 8 / w / 1e9, (unsigned long long)rec);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    if (n < 1000)
        n = 1000;
    bench_machine();
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char zp[512], jp[512], ep[512], pp[512];
    snprintf(zp, sizeof zp, "%s/kz-bench-%d-conn.log", tmp, (int)getpid());
    snprintf(jp, sizeof jp, "%s/kz-bench-%d-json.log", tmp, (int)getpid());
    snprintf(ep, sizeof ep, "%s/kz-bench-%d-eve.json", tmp, (int)getpid());
    snprintf(pp, sizeof pp, "%s/kz-bench-%d.pcap", tmp, (int)getpid());
    text z = {0}, j = {0}, e = {0};
    gen_zeek(&z, n, false);
    gen_zeek(&j, n, true);
    gen_eve(&e, n);
    write_file(zp, &z);
    write_file(jp, &j);
    write_file(ep, &e);
    printf("median of 5 runs, one thread, CPU time (wall time in brackets)\n");
    bench_text("zeek-tsv", &z, false, zp);
    bench_text("zeek-json", &j, false, jp);
    bench_text("eve", &e, true, ep);
    bench_jansson(&e);
    bench_pcap(n / 4, pp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MB (includes the generated inputs held in memory)\n",
           (double)ru.ru_maxrss / 1024);
    unlink(zp);
    unlink(jp);
    unlink(ep);
    unlink(pp);
    free(z.buf);
    free(j.buf);
    free(e.buf);
    return 0;
}
