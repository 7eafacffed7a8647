/*
 * Line reader for the text decoders: plain or gzip'd files through zlib's gzread (which
 * passes plain files through unchanged), split on '\n' with a trailing '\r' dropped.
 *
 * Invariants: memory is bounded by max_line (a longer line is skipped to its end and
 * reported, never buffered whole); the last line is delivered even without a newline.
 */
#include "tel_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK (256 * 1024)

int kz_tel_read_lines(const char *path, size_t max_line, kz_tel_line_fn fn, void *dec,
                      void (*on_long)(void *dec, uint64_t line), char *err, size_t errlen)
{
    if (max_line == 0)
        max_line = 1024 * 1024;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        if (err)
            snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return -1;
    }
    gzbuffer(f, CHUNK);
    size_t cap = max_line + CHUNK + 1;
    char *buf = malloc(cap);
    if (!buf) {
        gzclose(f);
        if (err)
            snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t have = 0;
    uint64_t lineno = 0;
    bool skipping = false; /* inside an over-long line: drop bytes up to its newline */
    int rc = 0;
    for (;;) {
        int got = gzread(f, buf + have, (unsigned)(cap - 1 - have));
        if (got < 0) {
            int zerr;
            const char *m = gzerror(f, &zerr);
            if (err)
                snprintf(err, errlen, "%s: %s", path, m ? m : "read error");
            rc = -1;
            break;
        }
        bool eof = got == 0;
        have += (size_t)got;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (!nl)
                break;
            size_t len = (size_t)(nl - (buf + start));
            if (skipping) {
                skipping = false; /* the tail of a line already reported */
            } else if (++lineno, len > max_line) {
                if (on_long)
                    on_long(dec, lineno);
            } else {
                if (len && buf[start + len - 1] == '\r')
                    len--;
                buf[start + len] = 0;
                fn(dec, buf + start, len);
            }
            start = (size_t)(nl - buf) + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (eof) {
            if (have && !skipping) {
                lineno++;
                if (have > max_line) {
                    if (on_long)
                        on_long(dec, lineno);
                } else {
                    if (buf[have - 1] == '\r')
                        have--;
                    buf[have] = 0;
                    fn(dec, buf, have);
                }
            }
            break;
        }
        if (have > max_line) {
            /* no newline within max_line bytes: report once, drop until the next newline */
            if (!skipping) {
                lineno++;
                if (on_long)
                    on_long(dec, lineno);
                skipping = true;
            }
            have = 0;
        }
    }
    free(buf);
    gzclose(f);
    return rc;
}
