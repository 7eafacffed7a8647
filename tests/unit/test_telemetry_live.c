/*
 * Live capture (kz_tel_pcap_live) on the loopback interface: records come out while it
 * runs, and it stops on a quiet interface both through *stop (reads time out) and through
 * kz_tel_pcap_live_stop (the read is woken), also when the stop comes before the start.
 * Needs root or CAP_NET_RAW: every test skips when lo cannot be opened.
 * A capture that does not stop is itself a failure: the test stops it by force after a
 * deadline, so the test never hangs.
 */
#include "kt.h"

#include <kizuna/telemetry.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct live {
    kz_tel_pcap *p;
    volatile bool stop;
    uint64_t max;
    int rc;
    char err[256];
    atomic_bool done;
    atomic_int planted; /* DNS records naming the planted query */
} live;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_rec(void *ctx, const kz_tel_record *r)
{
    live *l = ctx;
    if (r->kind == KZ_TEL_DNS && r->input == KZ_TEL_IN_IFACE &&
        kz_tel_str_eq(r->dns_query, "live.kizuna.test"))
        atomic_fetch_add(&l->planted, 1);
}

static void *capture(void *arg)
{
    live *l = arg;
    l->rc = kz_tel_pcap_live(l->p, "lo", &l->stop, l->max, l->err, sizeof l->err);
    atomic_store(&l->done, true);
    return NULL;
}

/* Wait up to secs for the capture to end; false (after stopping it by force) if it did not. */
static bool wait_done(live *l, double secs)
{
    double t0 = now_s();
    while (!atomic_load(&l->done) && now_s() - t0 < secs)
        usleep(5000);
    if (atomic_load(&l->done))
        return true;
    l->stop = true;
    kz_tel_pcap_live_stop(l->p);
    while (!atomic_load(&l->done))
        usleep(5000);
    return false;
}

static bool can_capture(void)
{
    kz_tel_pcap *p = kz_tel_pcap_new("lo", NULL, NULL);
    volatile bool stop = false;
    char err[256];
    kz_tel_pcap_live_stop(p); /* returns at once when it can open lo at all */
    int rc = kz_tel_pcap_live(p, "lo", &stop, 0, err, sizeof err);
    kz_tel_pcap_free(p);
    if (rc < 0)
        fprintf(stderr, "lo: %s\n", err);
    return rc == 0;
}

static live *start(void)
{
    static const kz_tel_sink sink0 = {on_rec, NULL, NULL};
    live *l = calloc(1, sizeof *l);
    kz_tel_sink sink = sink0;
    sink.ctx = l;
    l->p = kz_tel_pcap_new("lo", &sink, NULL);
    return l;
}

static void finish(live *l)
{
    kz_tel_pcap_free(l->p);
    free(l);
}

/* A DNS query for live.kizuna.test to 127.0.0.1:53 (nothing needs to answer). */
static void send_query(void)
{
    static const unsigned char q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                      4, 'l', 'i', 'v', 'e', 6, 'k', 'i', 'z', 'u', 'n', 'a',
                                      4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)sendto(fd, q, sizeof q, 0, (struct sockaddr *)&a, sizeof a);
    close(fd);
}

static void test_records_then_stop_function(void)
{
    if (!can_capture())
        KT_SKIP("cannot capture on lo (needs root or CAP_NET_RAW)");
    live *l = start();
    pthread_t t;
    KT_CHECK(pthread_create(&t, NULL, capture, l) == 0);
    /* send until the capture reports the query (it may not be reading yet at first) */
    double t0 = now_s();
    while (atomic_load(&l->planted) == 0 && now_s() - t0 < 5) {
        send_query();
        usleep(50000);
    }
    KT_CHECK_MSG(atomic_load(&l->planted) > 0, "no DNS record from lo within 5 s");
    /* now quiet: the stop function must wake the read that waits for packets */
    usleep(300000);
    double s0 = now_s();
    kz_tel_pcap_live_stop(l->p);
    KT_CHECK_MSG(wait_done(l, 3), "kz_tel_pcap_live_stop did not stop the capture");
    KT_CHECK_MSG(now_s() - s0 < 3, "stopped after %.2f s", now_s() - s0);
    pthread_join(t, NULL);
    KT_CHECK(l->rc == 0);
    /* the stop is spent: another capture runs until its own end (max_packets here) */
    atomic_store(&l->done, false);
    atomic_store(&l->planted, 0);
    l->max = 1;
    KT_CHECK(pthread_create(&t, NULL, capture, l) == 0);
    t0 = now_s();
    while (!atomic_load(&l->done) && now_s() - t0 < 5) {
        send_query();
        usleep(50000);
    }
    KT_CHECK_MSG(wait_done(l, 1), "a second capture did not end after max_packets");
    pthread_join(t, NULL);
    KT_CHECK(l->rc == 0);
    KT_CHECK(kz_tel_pcap_stats(l->p)->units >= 1);
    finish(l);
}

static void test_stop_flag_on_quiet_interface(void)
{
    if (!can_capture())
        KT_SKIP("cannot capture on lo (needs root or CAP_NET_RAW)");
    live *l = start();
    pthread_t t;
    KT_CHECK(pthread_create(&t, NULL, capture, l) == 0);
    usleep(300000); /* the capture is now (most likely) in a read with no traffic */
    double s0 = now_s();
    l->stop = true; /* no stop function: the read must time out by itself */
    KT_CHECK_MSG(wait_done(l, 3), "*stop was not seen within 3 s on a quiet interface");
    KT_CHECK_MSG(now_s() - s0 < 3, "stopped after %.2f s", now_s() - s0);
    pthread_join(t, NULL);
    KT_CHECK(l->rc == 0);
    finish(l);
}

static void test_stop_before_start(void)
{
    if (!can_capture())
        KT_SKIP("cannot capture on lo (needs root or CAP_NET_RAW)");
    live *l = start();
    kz_tel_pcap_live_stop(l->p);
    pthread_t t;
    KT_CHECK(pthread_create(&t, NULL, capture, l) == 0);
    KT_CHECK_MSG(wait_done(l, 3), "a stop made before the start was lost");
    pthread_join(t, NULL);
    KT_CHECK(l->rc == 0);
    finish(l);
}

static void test_no_such_interface(void)
{
    kz_tel_pcap *p = kz_tel_pcap_new("x", NULL, NULL);
    volatile bool stop = false;
    char err[256] = "";
    KT_CHECK(kz_tel_pcap_live(p, "kz-no-such-if1", &stop, 1, err, sizeof err) < 0 && err[0]);
    kz_tel_pcap_live_stop(p); /* harmless without a capture */
    kz_tel_pcap_free(p);
}

KT_MAIN(KT(test_no_such_interface), KT(test_stop_before_start),
        KT(test_stop_flag_on_quiet_interface), KT(test_records_then_stop_function))
