/*
 * Sensor indicator store: the indicators a sensor pulled from a hub, kept on disk as JSON
 * lines (STATE/indicators.jsonl), appended by every pull, loaded at every start, and
 * compacted when it has grown well beyond the set it stands for.
 *
 * Invariants:
 *  - Loading the compacted file gives the engine exactly the state that loading the whole
 *    file gave: for every id, the version the engine would pick (the newest `modified`,
 *    else `created`, among the versions it accepts; the last line among equal ones) is
 *    kept, in the original order. Newer lines of that id that the engine refuses are dropped,
 *    except those with a valid_until: an engine whose clock passed it takes them as
 *    tombstones without compiling the pattern, so they may matter under another clock.
 *    Acceptance is decided by the engine itself (a scratch engine whose clock is 1970, so
 *    every pattern is compiled and nothing counts as expired), one candidate at a time.
 *  - Revoked and expired newest versions are kept (tombstones): an older version that
 *    arrives later (a re-post at the hub, a pull that is delivered again) is refused by the
 *    engine only because it knows the newer version's `modified`, and after a restart only
 *    this file tells it. One line per id at most, so they never make the file grow again.
 *  - Crash safety: the compacted file is written beside the old one (PATH.compact), fsync'd,
 *    renamed over it, and the directory fsync'd. A crash leaves the old or the new complete
 *    file; a leftover PATH.compact is removed when the store is opened. An unfinished last
 *    line (a crash while appending; the pull cursor never passed it) is cut when the store is
 *    opened (a whole object that only lacks its newline gets one), so later appends never
 *    glue a line to it. A file that is not JSON lines (its first line is not a whole object,
 *    or is a bundle: written by hand) is neither cut nor compacted.
 *  - Durability of appends: kz_sensor_store_sync (fflush + fsync) is the caller's point
 *    before it saves a pull cursor past what it appended: one fsync per page, not per line.
 *
 * Not done here: loading into the sensor's engine (the sensor's loader reads the file), and
 * any locking: one process, one thread owns a store.
 */
#include <kizuna/sensor.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a set of ids (64-bit hashes), to count the distinct ids of the file --------------- */

typedef struct idset {
    uint64_t *v; /* open addressing, 0 = empty */
    size_t n, cap;
} idset;

static uint64_t id_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static int idset_add(idset *s, uint64_t h)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        uint64_t *v = calloc(nc, sizeof *v);
        if (!v)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i]) {
                size_t j = s->v[i] & (nc - 1);
                while (v[j])
                    j = (j + 1) & (nc - 1);
                v[j] = s->v[i];
            }
        free(s->v);
        s->v = v;
        s->cap = nc;
    }
    size_t j = h & (s->cap - 1);
    while (s->v[j]) {
        if (s->v[j] == h)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->v[j] = h;
    s->n++;
    return 1;
}

/* ---- the top-level "id" of a JSON line, without parsing it ---------------------------- */

static const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* p at '"': just past the closing quote, or NULL. */
static const char *skip_str(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *e)
{
    if (p < e && *p == '"')
        return skip_str(p, e);
    size_t depth = 0;
    while (p < e) {
        char c = *p;
        if (c == '"') {
            if (!(p = skip_str(p, e)))
                return NULL;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return p;
            if (--depth == 0)
                return p + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            return p;
        }
        p++;
    }
    return depth ? NULL : p;
}

const char *kz_sensor_store_line_id(const char *line, size_t len, size_t *idlen)
{
    const char *p = line, *e = line + len;
    p = ws(p, e);
    if (p == e || *p != '{')
        return NULL;
    p = ws(p + 1, e);
    while (p < e && *p == '"') {
        const char *k = p + 1, *ke = skip_str(p, e);
        if (!ke)
            return NULL;
        p = ws(ke, e);
        if (p == e || *p != ':')
            return NULL;
        p = ws(p + 1, e);
        if (ke - k == 3 && memcmp(k, "id", 2) == 0 && p < e && *p == '"') {
            const char *v = p + 1, *ve = skip_str(p, e);
            if (!ve)
                return NULL;
            *idlen = (size_t)(ve - 1 - v);
            return v;
        }
        if (!(p = skip_value(p, e)))
            return NULL;
        p = ws(p, e);
        if (p == e || *p != ',')
            return NULL;
        p = ws(p + 1, e);
    }
    return NULL;
}

/* ---- the store ----------------------------------------------------------------------- */

struct kz_sensor_store {
    char *path, *tmp;
    FILE *f; /* append handle */
    idset ids;
    uint64_t lines;
    uint64_t compacted; /* lines left by the last compaction */
    bool not_jsonl;     /* not the sensor's JSON lines: never cut or compacted */
};

static void seterr(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

static int fsync_dir(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    char *slash = strrchr(d, '/');
    if (slash == d)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    else
        strcpy(d, ".");
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    free(d);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* JSON lines, as the sensor writes them: the first line is a whole object, not a bundle.
 * Anything else (a bundle spread over lines, put there by hand) is neither cut nor compacted:
 * its lines are not documents. */
static bool first_line_ok(const char *p, size_t n)
{
    kz_json_error je;
    json_t *j = kz_json_parse(p, n, &je);
    const char *t = json_string_value(json_object_get(j, "type"));
    bool ok = json_is_object(j) && !(t && strcmp(t, "bundle") == 0);
    json_decref(j);
    return ok;
}

/* Cut an unfinished last line (or end a whole one); count lines and ids. */
static int scan(kz_sensor_store *st, char *err, size_t errlen)
{
    int fd = open(st->path, O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
        seterr(err, errlen, "cannot open", st->path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    off_t off = 0, good = 0; /* good: end of the last complete line */
    int rc = 0;
    while (buf) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            seterr(err, errlen, "cannot read", st->path);
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl)
                break;
            size_t ll = (size_t)(nl - (buf + start)), idl;
            const char *id = kz_sensor_store_line_id(buf + start, ll, &idl);
            if (id && idset_add(&st->ids, id_hash(id, idl)) < 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            if (st->lines == 0 && !first_line_ok(buf + start, ll))
                st->not_jsonl = true;
            st->lines++;
            start += ll + 1;
            good = off + (off_t)start;
        }
        if (rc < 0)
            break;
        memmove(buf, buf + start, len - start);
        off += (off_t)start;
        len -= start;
        if (len == cap) { /* a very long line: grow */
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                snprintf(err, errlen, "out of memory");
                rc = -1; /* and never cut what was not read */
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0 && len > 0 && !st->not_jsonl) {
        kz_json_error je;
        json_t *j = kz_json_parse(buf, len, &je);
        if (j) {
            /* a whole object without its newline (written by hand): end the line */
            if (st->lines == 0 && !first_line_ok(buf, len))
                st->not_jsonl = true;
            size_t idl;
            const char *id = kz_sensor_store_line_id(buf, len, &idl);
            if (id && idset_add(&st->ids, id_hash(id, idl)) < 0)
                rc = -1;
            st->lines++;
            if (rc < 0) {
                snprintf(err, errlen, "out of memory");
            } else if (pwrite(fd, "\n", 1, off + (off_t)len) != 1 || fsync(fd) < 0) {
                seterr(err, errlen, "cannot end the last line of", st->path);
                rc = -1;
            }
        } else if (ftruncate(fd, good) < 0 || fsync(fd) < 0) {
            /* a torn tail: never covered by a cursor, it is pulled again */
            seterr(err, errlen, "cannot cut the unfinished last line of", st->path);
            rc = -1;
        }
        json_decref(j);
    }
    free(buf);
    close(fd);
    return rc;
}

kz_sensor_store *kz_sensor_store_open(const char *path, char *err, size_t errlen)
{
    kz_sensor_store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path)) || !(st->tmp = malloc(strlen(path) + 9))) {
        snprintf(err, errlen, "out of memory");
        kz_sensor_store_close(st);
        return NULL;
    }
    sprintf(st->tmp, "%s.compact", path);
    /* an unfinished compaction: the old file is whole, the rename never happened */
    if (unlink(st->tmp) < 0 && errno != ENOENT) {
        seterr(err, errlen, "cannot remove", st->tmp);
        kz_sensor_store_close(st);
        return NULL;
    }
    if (scan(st, err, errlen) < 0) {
        kz_sensor_store_close(st);
        return NULL;
    }
    if (!(st->f = fopen(path, "a"))) {
        seterr(err, errlen, "cannot write", path);
        kz_sensor_store_close(st);
        return NULL;
    }
    st->compacted = 0; /* unknown: only the ids count */
    return st;
}

void kz_sensor_store_close(kz_sensor_store *st)
{
    if (!st)
        return;
    if (st->f)
        fclose(st->f);
    free(st->ids.v);
    free(st->path);
    free(st->tmp);
    free(st);
}

int kz_sensor_store_append(kz_sensor_store *st, const json_t *obj)
{
    if (!st->f)
        return -1;
    char *txt = json_dumps(obj, JSON_COMPACT);
    if (!txt)
        return -1;
    size_t n = strlen(txt);
    bool ok = fwrite(txt, 1, n, st->f) == n && fputc('\n', st->f) != EOF;
    if (ok) {
        st->lines++;
        const char *id = json_string_value(json_object_get(obj, "id"));
        if (id && idset_add(&st->ids, id_hash(id, strlen(id))) < 0)
            ok = false;
    }
    free(txt);
    return ok ? 0 : -1;
}

int kz_sensor_store_sync(kz_sensor_store *st, char *err, size_t errlen)
{
    if (!st->f || fflush(st->f) != 0 || fsync(fileno(st->f)) != 0) {
        seterr(err, errlen, "cannot write", st->path);
        return -1;
    }
    return 0;
}

uint64_t kz_sensor_store_lines(const kz_sensor_store *st) { return st->lines; }
size_t kz_sensor_store_ids(const kz_sensor_store *st) { return st->ids.n; }

bool kz_sensor_store_should_compact(const kz_sensor_store *st, uint64_t min_lines)
{
    uint64_t live = st->ids.n > st->compacted ? st->ids.n : st->compacted;
    return st->f && !st->not_jsonl && st->lines >= min_lines && st->lines > 2 * live;
}

/* ---- compaction ------------------------------------------------------------------------ */

enum { L_DROP = 0, L_KEEP = 1, L_VERSIONED = 2 };

typedef struct line {
    uint8_t uuid[16];
    int64_t modified;
    uint64_t off;
    uint32_t len;
    uint8_t kind;     /* L_DROP, L_KEEP (kept whatever happens), L_VERSIONED */
    uint8_t keep;     /* decided: written to the new file */
    uint8_t has_until; /* carries valid_until: may be a tombstone under another clock */
} line;

static int cmp_line(const void *a, const void *b)
{
    const line *x = *(line *const *)a, *y = *(line *const *)b;
    int c = memcmp(x->uuid, y->uuid, 16);
    if (c)
        return c;
    if (x->modified != y->modified)
        return x->modified < y->modified ? -1 : 1;
    return (x->off > y->off) - (x->off < y->off);
}

/* What one line is to the engine (engine.c: take_doc / take_indicator before compiling). */
static void classify(line *l, const char *text, size_t len)
{
    l->kind = L_DROP;
    kz_json_error je;
    json_t *j = kz_json_parse(text, len, &je);
    if (!j)
        return; /* the engine cannot read it either */
    const char *t = json_string_value(json_object_get(j, "type"));
    if (json_is_array(j) || (t && strcmp(t, "bundle") == 0)) {
        l->kind = L_KEEP; /* never written by the sensor; kept whole rather than judged */
    } else if (t && strcmp(t, "indicator") == 0) {
        static const char pre[] = "indicator--";
        const char *id = json_string_value(json_object_get(j, "id"));
        kz_uuid u;
        json_t *m = json_object_get(j, "modified");
        if (!m)
            m = json_object_get(j, "created");
        kz_time tm;
        if (id && strncmp(id, pre, sizeof pre - 1) == 0 && strlen(id) == sizeof pre - 1 + 36 &&
            kz_uuid_parse(id + sizeof pre - 1, &u) == 0 && json_is_string(m) &&
            kz_time_parse(json_string_value(m), &tm, NULL, 0) == 0) {
            memcpy(l->uuid, u.b, 16);
            l->modified = tm.us;
            l->kind = L_VERSIONED;
            l->has_until = json_object_get(j, "valid_until") != NULL;
        }
    }
    json_decref(j);
}

static int read_at(int fd, char *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Every line of the file with its offset (a torn tail is not a line). */
static int read_lines(int fd, line **out, size_t *nout, char *err, size_t errlen)
{
    size_t cap = 1 << 16, len = 0, n = 0, ncap = 0;
    char *buf = malloc(cap);
    line *v = NULL;
    uint64_t off = 0;
    int rc = 0;
    if (lseek(fd, 0, SEEK_SET) < 0)
        rc = -1;
    while (buf && rc == 0) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        size_t start = 0;
        char *nl;
        while ((nl = memchr(buf + start, '\n', len - start))) {
            size_t ll = (size_t)(nl - (buf + start));
            if (ll > UINT32_MAX - 1) {
                rc = -1;
                break;
            }
            if (n == ncap) {
                ncap = ncap ? ncap * 2 : 1024;
                line *nv = realloc(v, ncap * sizeof *v);
                if (!nv) {
                    free(buf);
                    buf = NULL;
                    break;
                }
                v = nv;
            }
            line *l = &v[n++];
            memset(l, 0, sizeof *l);
            l->off = off + start;
            l->len = (uint32_t)ll;
            classify(l, buf + start, ll);
            start += ll + 1;
        }
        if (!buf)
            break;
        memmove(buf, buf + start, len - start);
        off += start;
        len -= start;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf && rc == 0) {
        snprintf(err, errlen, "out of memory");
        rc = -2;
    }
    free(buf);
    if (rc == -1)
        snprintf(err, errlen, "cannot read the indicator store: %s", strerror(errno));
    if (rc < 0) {
        free(v);
        return -1;
    }
    *out = v;
    *nout = n;
    return 0;
}

#define CHECK_BATCH 4096

/* Decide which versioned lines to keep: per id, from the newest line down to the first one
 * the engine accepts. cand[g] is the index (into sorted) of group g's current candidate. */
static int decide(int fd, line **sorted, size_t nv, const kz_engine_opts *eo, char *err,
                  size_t errlen)
{
    size_t ng = 0;
    size_t *cand = malloc((nv + 1) * sizeof *cand), *first = malloc((nv + 1) * sizeof *first);
    if (!cand || !first) {
        free(cand);
        free(first);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nv; i++) {
        if (i + 1 == nv || memcmp(sorted[i]->uuid, sorted[i + 1]->uuid, 16) != 0) {
            cand[ng] = i;
            ng++;
        }
    }
    for (size_t g = 0; g < ng; g++) { /* first line of each group */
        size_t i = cand[g];
        while (i > 0 && memcmp(sorted[i - 1]->uuid, sorted[i]->uuid, 16) == 0)
            i--;
        first[g] = i;
    }
    kz_engine_opts o = eo ? *eo : (kz_engine_opts){0};
    o.now_us = 1; /* every pattern is compiled; nothing is expired */
    char *text = NULL;
    size_t tcap = 0;
    int rc = 0;
    size_t open = ng; /* groups still undecided: [0, open) after compaction of the list */
    size_t *todo = malloc((ng + 1) * sizeof *todo);
    if (!todo) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    for (size_t g = 0; todo && g < ng; g++)
        todo[g] = g;
    while (rc == 0 && open) {
        size_t still = 0;
        for (size_t b = 0; b < open && rc == 0; b += CHECK_BATCH) {
            /* a fresh scratch engine per batch: memory stays bounded */
            kz_engine *e = kz_engine_new(&o);
            kz_engine_txn *t = e ? kz_engine_txn_begin(e) : NULL;
            if (!t) {
                kz_engine_free(e);
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            size_t end = b + CHECK_BATCH < open ? b + CHECK_BATCH : open;
            for (size_t k = b; k < end; k++) {
                size_t g = todo[k];
                line *l = sorted[cand[g]];
                if ((size_t)l->len + 1 > tcap) {
                    char *nt = realloc(text, (size_t)l->len + 1);
                    if (!nt) {
                        snprintf(err, errlen, "out of memory");
                        rc = -1;
                        break;
                    }
                    text = nt;
                    tcap = (size_t)l->len + 1;
                }
                if (read_at(fd, text, l->len, l->off) < 0) {
                    snprintf(err, errlen, "cannot read the indicator store: %s",
                             strerror(errno));
                    rc = -1;
                    break;
                }
                long acc = kz_engine_txn_load(t, text, l->len, NULL);
                if (acc < 0) {
                    snprintf(err, errlen, "out of memory");
                    rc = -1;
                    break;
                }
                if (acc > 0) {
                    l->keep = 1;
                    continue;
                }
                /* refused whatever the clock: dropped; with valid_until it might be an
                 * expired tombstone to an engine whose clock passed it: kept */
                l->keep = l->has_until;
                if (cand[g] > first[g]) {
                    cand[g]--;
                    todo[still++] = g;
                }
            }
            char cerr[128];
            kz_engine_txn_commit(t, cerr, sizeof cerr);
            kz_engine_free(e);
        }
        open = still;
    }
    free(text);
    free(todo);
    free(cand);
    free(first);
    return rc;
}

static int copy_kept(kz_sensor_store *st, int fd, line *v, size_t n, uint64_t *written,
                     kz_sensor_compact_hook hook, void *hctx, char *err, size_t errlen)
{
    int out = open(st->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0) {
        seterr(err, errlen, "cannot create", st->tmp);
        return -1;
    }
    FILE *f = fdopen(out, "w");
    if (!f) {
        close(out);
        seterr(err, errlen, "cannot create", st->tmp);
        return -1;
    }
    uint64_t total = 0, w = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].keep;
    char *buf = NULL;
    size_t cap = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (!v[i].keep)
            continue;
        size_t need = (size_t)v[i].len + 1;
        if (need > cap) {
            char *nb = realloc(buf, need);
            if (!nb) {
                ok = false;
                errno = ENOMEM;
                break;
            }
            buf = nb;
            cap = need;
        }
        ok = read_at(fd, buf, need, v[i].off) == 0 && fwrite(buf, 1, need, f) == need;
        w++;
        if (ok && hook && w == (total + 1) / 2) {
            fflush(f);
            if (hook(hctx, KZ_SENSOR_COMPACT_HALF_WRITTEN)) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "compaction stopped by the hook");
                return -2;
            }
        }
    }
    free(buf);
    if (!ok || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        seterr(err, errlen, "cannot write", st->tmp);
        fclose(f);
        unlink(st->tmp);
        return -1;
    }
    if (fclose(f) != 0) {
        seterr(err, errlen, "cannot write", st->tmp);
        unlink(st->tmp);
        return -1;
    }
    *written = w;
    return 0;
}

int kz_sensor_store_compact(kz_sensor_store *st, const kz_engine_opts *eo,
                            kz_sensor_compact_hook hook, void *hctx,
                            kz_sensor_compact_stats *stats, char *err, size_t errlen)
{
    kz_sensor_compact_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!st->f || st->not_jsonl) {
        snprintf(err, errlen, st->f ? "the indicator store is not JSON lines"
                                    : "the indicator store is closed");
        return -1;
    }
    if (kz_sensor_store_sync(st, err, errlen) < 0)
        return -1;
    int fd = open(st->path, O_RDONLY);
    if (fd < 0) {
        seterr(err, errlen, "cannot read", st->path);
        return -1;
    }
    line *v = NULL;
    size_t n = 0;
    if (read_lines(fd, &v, &n, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    line **sorted = malloc((n + 1) * sizeof *sorted);
    if (!sorted) {
        free(v);
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == L_KEEP)
            v[i].keep = 1;
        else if (v[i].kind == L_VERSIONED)
            sorted[nv++] = &v[i];
    }
    qsort(sorted, nv, sizeof *sorted, cmp_line);
    int rc = decide(fd, sorted, nv, eo, err, errlen);
    free(sorted);
    uint64_t written = 0;
    if (rc == 0)
        rc = copy_kept(st, fd, v, n, &written, hook, hctx, err, errlen);
    close(fd);
    if (rc == 0) {
        stats->lines_in = n;
        stats->lines_out = written;
        for (size_t i = 0; i < n; i++)
            stats->dropped += !v[i].keep;
    }
    free(v);
    if (rc < 0)
        return -1;
    if (hook && hook(hctx, KZ_SENSOR_COMPACT_SYNCED)) {
        snprintf(err, errlen, "compaction stopped by the hook");
        return -1;
    }
    if (rename(st->tmp, st->path) < 0) {
        seterr(err, errlen, "cannot rename the compacted store over", st->path);
        unlink(st->tmp);
        return -1;
    }
    /* from here the new file is the store: the old append handle names the old inode */
    fclose(st->f);
    st->f = NULL;
    if (hook && hook(hctx, KZ_SENSOR_COMPACT_RENAMED)) {
        snprintf(err, errlen, "compaction stopped by the hook");
        return -1;
    }
    st->lines = written;
    st->compacted = written;
    int drc = fsync_dir(st->path);
    int derr = errno;
    if (!(st->f = fopen(st->path, "a"))) {
        seterr(err, errlen, "cannot write", st->path);
        return -1;
    }
    if (drc < 0) { /* the new file is the store all the same; only its name may not last */
        errno = derr;
        seterr(err, errlen, "cannot sync the directory of", st->path);
        return -1;
    }
    return 0;
}
