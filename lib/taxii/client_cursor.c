/*
 * kizuna taxii client, the pull cursor on disk: one small file per cursor name in a state
 * directory, holding the last X-TAXII-Date-Added-Last seen and a newline.
 *
 * Invariant: the file always holds a complete value, old or new, whatever the moment of a
 * crash: a new value is written to a temporary file, fsync'd, renamed over the old one, and
 * the directory is fsync'd so the rename itself is durable. Not here: deciding when to
 * save (client_api.c saves after each page the caller fully accepted).
 */
#include "client_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool good_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 128 || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static int path_of(const char *dir, const char *name, const char *suffix, char *out, size_t outlen,
                   kz_taxii_error *err)
{
    if (!dir || !*dir || !good_name(name)) {
        kz_tc_seterr(err, KZ_TAXII_E_USAGE, 0,
                     "cursor name '%s' must be 1..128 characters of [A-Za-z0-9._-], not "
                     "starting with '.', in a state directory",
                     name ? name : "(null)");
        return -1;
    }
    int n = snprintf(out, outlen, "%s/cursor-%s%s", dir, name, suffix);
    if (n < 0 || (size_t)n >= outlen) {
        kz_tc_seterr(err, KZ_TAXII_E_USAGE, 0, "state directory path too long");
        return -1;
    }
    return 0;
}

int kz_taxii_cursor_load(const char *state_dir, const char *name, char *out, size_t outlen,
                         kz_taxii_error *err)
{
    char path[4096];
    if (path_of(state_dir, name, "", path, sizeof path, err) < 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        kz_tc_seterr(err, KZ_TAXII_E_STATE, 0, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t n = ok ? strcspn(line, "\r\n") : 0;
    line[n] = 0;
    kz_time t;
    if (!ok || n >= 200 || n >= outlen || kz_time_parse(line, &t, NULL, 0) < 0) {
        kz_tc_seterr(err, KZ_TAXII_E_STATE, 0,
                     "%s: not a cursor (one RFC 3339 timestamp expected); delete it to pull "
                     "everything again",
                     path);
        return -1;
    }
    memcpy(out, line, n + 1);
    return 1;
}

int kz_taxii_cursor_save(const char *state_dir, const char *name, const char *value,
                         kz_taxii_error *err)
{
    char path[4096], tmp[4200];
    if (path_of(state_dir, name, "", path, sizeof path, err) < 0)
        return -1;
    kz_time t;
    if (!value || strlen(value) > 200 || kz_time_parse(value, &t, NULL, 0) < 0) {
        kz_tc_seterr(err, KZ_TAXII_E_USAGE, 0, "cursor value '%s' is not a timestamp",
                     value ? value : "(null)");
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        kz_tc_seterr(err, KZ_TAXII_E_STATE, 0, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s\n", value);
    ssize_t w = write(fd, buf, (size_t)n);
    int saved = errno;
    if (w != n || fsync(fd) < 0) {
        saved = w < 0 || w == n ? errno : EIO;
        close(fd);
        unlink(tmp);
        kz_tc_seterr(err, KZ_TAXII_E_STATE, 0, "%s: %s", tmp, strerror(saved));
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        saved = errno;
        unlink(tmp);
        kz_tc_seterr(err, KZ_TAXII_E_STATE, 0, "%s: %s", path, strerror(saved));
        return -1;
    }
    int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        saved = errno;
        if (dfd >= 0)
            close(dfd);
        kz_tc_seterr(err, KZ_TAXII_E_STATE, 0, "%s: %s", state_dir, strerror(saved));
        return -1;
    }
    close(dfd);
    return 0;
}
