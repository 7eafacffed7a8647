/* Unit tests for the outbox's storage (lib/taxii/outbox.c) and the pull cursor file
 * (lib/taxii/client_cursor.c): durability across kill -9, all-or-nothing enqueue, replacement
 * of a waiting version, atomic cursor replacement and refusal of bad names or contents.
 * Delivery (flush) is tested against a scripted server in test_taxii_client.c and against a
 * real hub in tests/cli/taxii_client.sh. */
#include "kt.h"

#include <kizuna/taxii_client.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char p[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/kz-outbox-XXXXXX");
        if (!mkdtemp(tmpdir))
            tmpdir[0] = 0;
    }
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static json_t *sighting(int i, const char *modified)
{
    char id[80];
    snprintf(id, sizeof id, "sighting--00000000-0000-4000-8000-%012x", i);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i}", "type", "sighting", "spec_version", "2.1",
                     "id", id, "created", "2026-01-01T00:00:00.000Z", "modified", modified,
                     "sighting_of_ref", "indicator--00000000-0000-4000-8000-000000000001", "count",
                     i + 1);
}

static void count(kz_taxii_outbox *ob, size_t *p, size_t *d)
{
    kz_taxii_error e;
    *p = *d = 999999;
    KT_CHECK(kz_taxii_outbox_count(ob, p, d, &e) == 0);
}

static void test_enqueue_and_count(void)
{
    kz_taxii_error e;
    kz_taxii_outbox *ob = kz_taxii_outbox_open(tmp_path("a.db"), &e);
    KT_CHECK_MSG(ob != NULL, "%s", e.message);
    if (!ob)
        return;
    size_t p, d;
    count(ob, &p, &d);
    KT_CHECK(p == 0 && d == 0);
    json_t *arr = json_array();
    for (int i = 0; i < 10; i++)
        json_array_append_new(arr, sighting(i, "2026-01-01T00:00:00.000Z"));
    KT_CHECK(kz_taxii_outbox_enqueue(ob, arr, &e) == 0);
    count(ob, &p, &d);
    KT_CHECK(p == 10 && d == 0);
    /* The same id and version again replaces the waiting copy; a later modified is a new
     * version and waits beside it. */
    json_t *same = sighting(3, "2026-01-01T00:00:00.000Z");
    KT_CHECK(kz_taxii_outbox_enqueue(ob, same, &e) == 0);
    json_decref(same);
    count(ob, &p, &d);
    KT_CHECK(p == 10);
    json_t *newer = sighting(3, "2026-01-02T00:00:00.000Z");
    KT_CHECK(kz_taxii_outbox_enqueue(ob, newer, &e) == 0);
    json_decref(newer);
    count(ob, &p, &d);
    KT_CHECK(p == 11);
    /* One bad item refuses the whole call: nothing of it is queued. */
    json_t *mixed = json_array();
    json_array_append_new(mixed, sighting(100, "2026-01-01T00:00:00.000Z"));
    json_array_append_new(mixed, json_pack("{s:s}", "type", "sighting"));
    e.kind = KZ_TAXII_OK;
    KT_CHECK(kz_taxii_outbox_enqueue(ob, mixed, &e) < 0);
    KT_CHECK(e.kind == KZ_TAXII_E_USAGE && strstr(e.message, "item 1"));
    json_t *notobj = json_string("x");
    KT_CHECK(kz_taxii_outbox_enqueue(ob, notobj, &e) < 0);
    json_decref(notobj);
    json_decref(mixed);
    count(ob, &p, &d);
    KT_CHECK(p == 11);
    json_decref(arr);
    kz_taxii_outbox_close(ob);
    /* Reopening finds the same queue. */
    ob = kz_taxii_outbox_open(tmp_path("a.db"), &e);
    KT_CHECK(ob != NULL);
    if (ob) {
        count(ob, &p, &d);
        KT_CHECK(p == 11 && d == 0);
        kz_taxii_outbox_close(ob);
    }
}

static void test_open_errors(void)
{
    kz_taxii_error e;
    e.kind = KZ_TAXII_OK;
    KT_CHECK(kz_taxii_outbox_open("/nonexistent-dir-kz/x.db", &e) == NULL);
    KT_CHECK(e.kind == KZ_TAXII_E_STATE && strstr(e.message, "/nonexistent-dir-kz/x.db"));
    /* A file that is not SQLite is refused, not overwritten. */
    const char *junk = tmp_path("junk.db");
    FILE *f = fopen(junk, "w");
    if (f) {
        fputs("this is not a database, it is a very long line of text that SQLite reads\n", f);
        for (int i = 0; i < 100; i++)
            fputs("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", f);
        fclose(f);
    }
    KT_CHECK(kz_taxii_outbox_open(junk, &e) == NULL);
    KT_CHECK(e.kind == KZ_TAXII_E_STATE);
}

/* A process killed with SIGKILL right after enqueue returned loses nothing. */
static void test_kill9_after_enqueue(void)
{
    const char *path = tmp_path("kill.db");
    int pfd[2];
    KT_CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        kz_taxii_error e;
        kz_taxii_outbox *ob = kz_taxii_outbox_open(path, &e);
        if (!ob)
            _exit(3);
        for (int b = 0; b < 20; b++) {
            json_t *arr = json_array();
            for (int i = 0; i < 50; i++)
                json_array_append_new(arr, sighting(b * 50 + i, "2026-01-01T00:00:00.000Z"));
            if (kz_taxii_outbox_enqueue(ob, arr, &e) < 0)
                _exit(4);
            json_decref(arr);
        }
        /* Tell the parent enqueue returned, then die without closing anything. */
        if (write(pfd[1], "k", 1) != 1)
            _exit(5);
        raise(SIGKILL);
        _exit(6);
    }
    close(pfd[1]);
    char ch = 0;
    KT_CHECK(read(pfd[0], &ch, 1) == 1 && ch == 'k');
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    KT_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    kz_taxii_error e;
    kz_taxii_outbox *ob = kz_taxii_outbox_open(path, &e);
    KT_CHECK(ob != NULL);
    if (ob) {
        size_t p, d;
        count(ob, &p, &d);
        KT_CHECK_MSG(p == 1000 && d == 0, "p=%zu d=%zu", p, d);
        kz_taxii_outbox_close(ob);
    }
}

static void test_cursor_roundtrip(void)
{
    kz_taxii_error e;
    char out[64] = "unchanged";
    tmp_path("x");
    KT_CHECK(kz_taxii_cursor_load(tmpdir, "coll-1", out, sizeof out, &e) == 0);
    KT_CHECK(kz_taxii_cursor_save(tmpdir, "coll-1", "2026-11-25T10:00:00.123456Z", &e) == 0);
    KT_CHECK(kz_taxii_cursor_load(tmpdir, "coll-1", out, sizeof out, &e) == 1);
    KT_CHECK_STR(out, "2026-11-25T10:00:00.123456Z");
    KT_CHECK(kz_taxii_cursor_save(tmpdir, "coll-1", "2026-11-25T11:00:00Z", &e) == 0);
    KT_CHECK(kz_taxii_cursor_load(tmpdir, "coll-1", out, sizeof out, &e) == 1);
    KT_CHECK_STR(out, "2026-11-25T11:00:00Z");
    /* No temporary file is left behind. */
    char tmpf[600];
    snprintf(tmpf, sizeof tmpf, "%s/cursor-coll-1.tmp.%ld", tmpdir, (long)getpid());
    KT_CHECK(access(tmpf, F_OK) != 0);
    struct stat sb;
    snprintf(tmpf, sizeof tmpf, "%s/cursor-coll-1", tmpdir);
    KT_CHECK(stat(tmpf, &sb) == 0 && (sb.st_mode & 077) == 0);
}

static void test_cursor_errors(void)
{
    kz_taxii_error e;
    char out[64];
    tmp_path("x");
    const char *bad_names[] = {"", "../etc", "a/b", ".hidden", "sp ace", NULL};
    for (int i = 0; i < 6; i++) {
        e.kind = KZ_TAXII_OK;
        KT_CHECK_MSG(kz_taxii_cursor_save(tmpdir, bad_names[i], "2026-01-01T00:00:00Z", &e) < 0,
                     "%s", bad_names[i] ? bad_names[i] : "NULL");
        KT_CHECK(e.kind == KZ_TAXII_E_USAGE);
        KT_CHECK(kz_taxii_cursor_load(tmpdir, bad_names[i], out, sizeof out, &e) < 0);
    }
    KT_CHECK(kz_taxii_cursor_save(tmpdir, "c2", "yesterday", &e) < 0);
    KT_CHECK(kz_taxii_cursor_save(tmpdir, "c2", NULL, &e) < 0);
    KT_CHECK(kz_taxii_cursor_save("/nonexistent-dir-kz", "c2", "2026-01-01T00:00:00Z", &e) < 0);
    KT_CHECK(e.kind == KZ_TAXII_E_STATE);
    /* A damaged file is an error naming the file, not a silent restart from zero. */
    char p[600];
    snprintf(p, sizeof p, "%s/cursor-c3", tmpdir);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("garbage\n", f);
        fclose(f);
    }
    KT_CHECK(kz_taxii_cursor_load(tmpdir, "c3", out, sizeof out, &e) < 0);
    KT_CHECK(e.kind == KZ_TAXII_E_STATE && strstr(e.message, "cursor-c3"));
    /* Too small an output buffer is refused rather than truncated. */
    KT_CHECK(kz_taxii_cursor_save(tmpdir, "c4", "2026-01-01T00:00:00.000000Z", &e) == 0);
    char tiny[8];
    KT_CHECK(kz_taxii_cursor_load(tmpdir, "c4", tiny, sizeof tiny, &e) < 0);
}

static void cleanup(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

static void test_zz_cleanup(void)
{
    cleanup();
}

KT_MAIN(KT(test_enqueue_and_count), KT(test_open_errors), KT(test_kill9_after_enqueue),
        KT(test_cursor_roundtrip), KT(test_cursor_errors), KT(test_zz_cleanup))
