/*
 * kt: the unit-test harness. Header-only: each test file defines test functions, lists them
 * in KT_MAIN, and gets argv[1] (the shared data folder) and argv[2] (tests/data) through
 * kt_shared_dir / kt_data_dir. A failed check prints file:line and the expression and marks
 * the test failed; the run continues so that one report shows every broken contract.
 * Exit status: 0 all passed, 1 any failed, 77 every test skipped (CTest SKIP_RETURN_CODE).
 */
#ifndef KT_H
#define KT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

static int kt_failed_checks;
static int kt_skipped;
static const char *kt_shared_dir = "../shared";
static const char *kt_data_dir = "tests/data";

#define KT_CHECK(cond)                                                                       \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            kt_failed_checks++;                                                              \
        }                                                                                    \
    } while (0)

#define KT_CHECK_MSG(cond, ...)                                                              \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
            kt_failed_checks++;                                                              \
        }                                                                                    \
    } while (0)

#define KT_CHECK_STR(a, b)                                                                   \
    do {                                                                                     \
        const char *kt_a = (a), *kt_b = (b);                                                 \
        if (!kt_a || !kt_b || strcmp(kt_a, kt_b) != 0) {                                     \
            fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,   \
                    #b, kt_a ? kt_a : "(null)", kt_b ? kt_b : "(null)");                     \
            kt_failed_checks++;                                                              \
        }                                                                                    \
    } while (0)

/* Mark the current test skipped (e.g. ../shared is absent) and return from it. */
#define KT_SKIP(...)                                                                         \
    do {                                                                                     \
        fprintf(stderr, "SKIP: ");                                                           \
        fprintf(stderr, __VA_ARGS__);                                                        \
        fputc('\n', stderr);                                                                 \
        kt_skipped++;                                                                        \
        return;                                                                              \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} kt_test;

static inline int kt_run(int argc, char **argv, const kt_test *tests, size_t n)
{
    if (argc > 1)
        kt_shared_dir = argv[1];
    if (argc > 2)
        kt_data_dir = argv[2];
    const char *only = getenv("KT_ONLY");
    int failed = 0, ran = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (only && !strstr(tests[i].name, only))
            continue;
        int before = kt_failed_checks, sk = kt_skipped;
        tests[i].fn();
        ran++;
        if (kt_failed_checks != before) {
            failed++;
            fprintf(stderr, "FAIL %s\n", tests[i].name);
        } else if (kt_skipped != sk) {
            skipped++;
            fprintf(stderr, "skip %s\n", tests[i].name);
        } else {
            fprintf(stderr, "ok   %s\n", tests[i].name);
        }
    }
    fprintf(stderr, "%d passed, %d failed, %d skipped\n", ran - failed - skipped, failed,
            skipped);
    if (failed)
        return 1;
    return ran > 0 && skipped == ran ? 77 : 0;
}

#define KT_MAIN(...)                                                                         \
    int main(int argc, char **argv)                                                          \
    {                                                                                        \
        static const kt_test kt_tests[] = {__VA_ARGS__};                                     \
        return kt_run(argc, argv, kt_tests, sizeof kt_tests / sizeof kt_tests[0]);           \
    }
#define KT(fn) {#fn, fn}

/* A per-process path for a scratch SQLite database ("/tmp/kz-STEM-PID.db"), and its removal
 * with the WAL files beside it. */
static inline const char *kt_tmp_db(char *buf, size_t n, const char *stem)
{
    snprintf(buf, n, "/tmp/kz-%s-%ld.db", stem, (long)getpid());
    return buf;
}

static inline void kt_rm_db(const char *path)
{
    char p[512];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* xorshift64: a reproducible stream for randomised tests (state must not be 0). */
static inline uint64_t kt_xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

#endif
