/*
 * ledger_basis.c — the drift basis read from the ledger: for each path its
 * last file_done, for each --group table its last table_done, from runs that
 * ended (docs/ledger.md).  Lines are kept raw and parsed only when a file
 * of the run needs its basis (basis_event).
 *
 * A ledger holds every run's events, so reading it whole grows with its
 * history (10,000 files a night: ~11 MB a run).  The basis is therefore
 * also kept in a snapshot beside it, LEDGER.basis: a header naming the
 * ledger (device, inode), how many of its bytes the snapshot covers and a
 * hash of the 4 KiB before that point, then the basis lines (and "P" and the
 * line for events of runs that had not ended: dropped a week after the run
 * began, when it was surely killed).  A run loads the snapshot if
 * it still fits the ledger and reads only the ledger's bytes after it; at
 * its end it reads the events appended since (its own, and any concurrent
 * run's) and writes a new snapshot (a temporary file renamed over the old).
 * A snapshot that does not fit (a rotated, truncated or rewritten ledger) or
 * does not parse is ignored: the ledger is read whole, as before.
 */
#define _GNU_SOURCE
#include "ledger_basis.h"
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* Reading the ledger for drift: the basis of a path is its last file_done
 * from a run that ended and whose output reached the user (run_end status
 * ok, errors or drift).  A run interrupted, failed or killed (no run_end)
 * showed nobody its drift, so its schemas do not count: the next complete
 * run reports the change. */
#define remember ledger_basis /* the state built while reading: struct ledger_basis */

/* Keep the raw line of a file_done / table_done (key: its path, or \x01 and
 * its table) among its run's events: parsed only when a file of this run
 * needs it (basis_event), since a ledger holds every run's events. */
static void remember_line_of(struct remember *m, const char *run, const char *key,
                             const char *line, size_t n)
{
    json_t *files = json_object_get(m->pending, run);
    if (!files) {
        files = json_object();
        json_object_set_new(m->pending, run, files);
    }
    json_object_set_new(files, key, json_stringn(line, n)); /* later events replace earlier ones */
}

/* A file_done line as file_done_event writes it: its run and path without a
 * full parse (the bulk of a ledger).  False if the line is of another shape
 * (then it is parsed whole). */
static bool quick_file_done(const char *line, size_t n, char **run, char **path)
{
    static const char head[] = "{\"event\":\"file_done\",\"v\":";
    const char *end = line + n;
    if (n < sizeof head + 40 || memcmp(line, head, sizeof head - 1) != 0 || end[-1] != '}' ||
        end[-2] != ']')
        return false; /* (whole lines end with the schema array) */
    const char *p = memmem(line, n, ",\"run\":\"", 8);
    if (!p)
        return false;
    p += 8;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q || memchr(p, '\\', (size_t)(q - p)))
        return false;
    const char *k = memmem(q, (size_t)(end - q), ",\"path\":\"", 9);
    if (!k)
        return false;
    const char *s = k + 8, *e = s + 1; /* the path's JSON string: to its closing quote */
    while (e < end && *e != '"')
        e += *e == '\\' ? 2 : 1;
    if (e >= end)
        return false;
    json_error_t jerr;
    json_t *js = json_loadb(s, (size_t)(e + 1 - s), JSON_DECODE_ANY, &jerr);
    bool ok = json_is_string(js);
    if (ok) {
        *run = strndup(p, (size_t)(q - p));
        *path = strdup(json_string_value(js));
        ok = *run && *path;
        if (!ok) {
            free(*run);
            free(*path);
        }
    }
    json_decref(js);
    return ok;
}

static void remember_schema(struct remember *m, json_t *ev, const char *line, size_t n)
{
    const char *kind = json_string_value(json_object_get(ev, "event"));
    const char *run = json_string_value(json_object_get(ev, "run"));
    if (!kind || !run)
        return;
    if (strcmp(kind, "file_done") == 0) {
        const char *path = json_string_value(json_object_get(ev, "path"));
        if (!path || !json_is_array(json_object_get(ev, "schema")))
            return;
        remember_line_of(m, run, path, line, n);
    } else if (strcmp(kind, "table_done") == 0) {
        const char *table = json_string_value(json_object_get(ev, "table"));
        if (!table || !json_is_array(json_object_get(ev, "schema")))
            return;
        char *k = NULL;
        if (asprintf(&k, "\x01%s", table) > 0) /* apart from paths, which never start so */
            remember_line_of(m, run, k, line, n);
        free(k);
    } else if (strcmp(kind, "run_end") == 0) {
        const char *status = json_string_value(json_object_get(ev, "status"));
        json_t *files = json_object_get(m->pending, run);
        if (files && status &&
            (!strcmp(status, "ok") || !strcmp(status, "errors") || !strcmp(status, "drift"))) {
            const char *k;
            json_t *v;
            json_object_foreach(files, k, v) {
                if (k[0] == '\x01')
                    json_object_set(m->tables, k + 1, v);
                else
                    json_object_set(m->last, k, v);
            }
        }
        json_object_del(m->pending, run);
    }
}

static bool remember_line(void *ctx, const char *line, size_t n)
{
    struct remember *m = ctx;
    char *run, *path;
    if (quick_file_done(line, n, &run, &path)) {
        remember_line_of(m, run, path, line, n);
        free(run);
        free(path);
        return true;
    }
    json_error_t jerr;
    json_t *ev = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    bool ok = ev && json_is_object(ev) && json_is_string(json_object_get(ev, "event"));
    if (ok)
        remember_schema(m, ev, line, n);
    json_decref(ev);
    return ok;
}

/* The basis event (file_done or table_done) kept under key, parsed (a new
 * reference), or NULL.  Thread-safe: the map is read-only during a run. */
json_t *basis_event(json_t *map, const char *key)
{
    json_t *raw = key ? json_object_get(map, key) : NULL;
    if (!json_is_string(raw))
        return NULL;
    json_error_t jerr;
    json_t *ev = json_loadb(json_string_value(raw), json_string_length(raw), 0, &jerr);
    if (!json_is_object(ev) || !json_is_array(json_object_get(ev, "schema"))) {
        json_decref(ev);
        return NULL;
    }
    return ev;
}


/* ---- the snapshot --------------------------------------------------------- */

#define BASIS_FORMAT 1
#define CHECK_SPAN 4096
#define PENDING_KEEP (7ull * 86400) /* seconds a run may go without its run_end */

static char *snapshot_path(const char *ledger)
{
    char *p = NULL;
    return asprintf(&p, "%s.basis", ledger) < 0 ? NULL : p;
}

/* XXH64 of the ledger's bytes [covered - CHECK_SPAN, covered). */
static bool ledger_check(int fd, uint64_t covered, uint64_t *out)
{
    uint8_t buf[CHECK_SPAN];
    size_t n = covered < CHECK_SPAN ? (size_t)covered : CHECK_SPAN;
    if (pread(fd, buf, n, (off_t)(covered - n)) != (ssize_t)n)
        return false;
    *out = XXH64(buf, n, 0);
    return true;
}

/* A snapshot line into the basis: "P" + a line of a run not ended, or a
 * basis line (file_done / table_done of an ended run). */
static bool load_line(void *ctx, const char *line, size_t n)
{
    struct ledger_basis *b = ctx;
    if (line[0] == 'P')
        return n > 1 && remember_line(ctx, line + 1, n - 1);
    char *run, *path;
    if (quick_file_done(line, n, &run, &path)) {
        json_object_set_new(b->last, path, json_stringn(line, n));
        free(run);
        free(path);
        return true;
    }
    json_error_t jerr;
    json_t *ev = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    const char *kind = json_string_value(json_object_get(ev, "event"));
    const char *path_ = json_string_value(json_object_get(ev, "path"));
    const char *table = json_string_value(json_object_get(ev, "table"));
    bool ok = kind && json_is_array(json_object_get(ev, "schema"));
    if (ok && !strcmp(kind, "file_done") && path_)
        json_object_set_new(b->last, path_, json_stringn(line, n));
    else if (ok && !strcmp(kind, "table_done") && table)
        json_object_set_new(b->tables, table, json_stringn(line, n));
    else
        ok = false;
    json_decref(ev);
    return ok;
}

/* Load the snapshot if it fits the ledger: true and b->covered set. */
static bool snapshot_load(struct ledger_basis *b, const char *ledger)
{
    char *sp = snapshot_path(ledger);
    int sfd = sp ? open(sp, O_RDONLY | O_CLOEXEC) : -1;
    int lfd = open(ledger, O_RDONLY | O_CLOEXEC);
    bool ok = false;
    char head[512];
    ssize_t k = sfd >= 0 ? pread(sfd, head, sizeof head - 1, 0) : -1;
    struct stat lsb;
    if (k > 0 && lfd >= 0 && fstat(lfd, &lsb) == 0) {
        head[k] = '\0';
        char *nl = strchr(head, '\n');
        json_error_t jerr;
        json_t *h = nl ? json_loadb(head, (size_t)(nl - head), 0, &jerr) : NULL;
        json_int_t fmt = json_integer_value(json_object_get(h, "csvinfer_basis"));
        json_int_t dev = json_integer_value(json_object_get(h, "dev"));
        json_int_t ino = json_integer_value(json_object_get(h, "ino"));
        json_int_t covered = json_integer_value(json_object_get(h, "covered"));
        const char *check = json_string_value(json_object_get(h, "check"));
        uint64_t now;
        char want[17];
        ok = fmt == BASIS_FORMAT && check && covered > 0 && dev == (json_int_t)lsb.st_dev &&
             ino == (json_int_t)lsb.st_ino && (uint64_t)covered <= (uint64_t)lsb.st_size &&
             ledger_check(lfd, (uint64_t)covered, &now);
        if (ok) {
            snprintf(want, sizeof want, "%016llx", (unsigned long long)now);
            ok = strcmp(want, check) == 0;
        }
        if (ok) {
            uint64_t skipped = 0;
            ok = ledger_read_lines(sp, (uint64_t)(nl + 1 - head), load_line, b, &skipped, NULL) == 0 &&
                 skipped == 0;
            b->covered = (uint64_t)covered;
        }
        json_decref(h);
    }
    if (sfd >= 0)
        close(sfd);
    if (lfd >= 0)
        close(lfd);
    free(sp);
    return ok;
}

static void clear(json_t *o)
{
    json_object_clear(o);
}

int basis_load(struct ledger_basis *b, const char *ledger, uint64_t *skipped)
{
    memset(b, 0, sizeof *b);
    b->last = json_object();
    b->tables = json_object();
    b->pending = json_object();
    if (!b->last || !b->tables || !b->pending)
        return -ENOMEM;
    *skipped = 0;
    if (!snapshot_load(b, ledger)) { /* read the ledger whole */
        clear(b->last);
        clear(b->tables);
        clear(b->pending);
        b->covered = 0;
    }
    return ledger_read_lines(ledger, b->covered, remember_line, b, skipped, &b->covered);
}

static void put_line(FILE *f, const char *prefix, json_t *raw)
{
    fputs(prefix, f);
    fwrite(json_string_value(raw), 1, json_string_length(raw), f);
    fputc('\n', f);
}

void basis_save(struct ledger_basis *b, const char *ledger)
{
    uint64_t skipped = 0, covered = b->covered;
    /* what was appended since the run began: its own events, and other runs' */
    if (ledger_read_lines(ledger, b->covered, remember_line, b, &skipped, &covered) != 0)
        return;
    int lfd = open(ledger, O_RDONLY | O_CLOEXEC);
    struct stat lsb;
    uint64_t check;
    bool ok = lfd >= 0 && fstat(lfd, &lsb) == 0 && covered > 0 && ledger_check(lfd, covered, &check);
    if (lfd >= 0)
        close(lfd);
    char *sp = snapshot_path(ledger), *tmp = NULL;
    if (!ok || !sp || asprintf(&tmp, "%s.tmp.%d", sp, (int)getpid()) < 0) {
        free(sp);
        return;
    }
    FILE *f = fopen(tmp, "we");
    if (f) {
        fprintf(f, "{\"csvinfer_basis\":%d,\"dev\":%lld,\"ino\":%lld,\"covered\":%llu,"
                   "\"check\":\"%016llx\"}\n",
                BASIS_FORMAT, (long long)lsb.st_dev, (long long)lsb.st_ino,
                (unsigned long long)covered, (unsigned long long)check);
        const char *k;
        json_t *v, *files;
        json_object_foreach(b->last, k, v)
            put_line(f, "", v);
        json_object_foreach(b->tables, k, v)
            put_line(f, "", v);
        time_t now = time(NULL);
        json_object_foreach(b->pending, k, files) {
            /* a run not ended a week after it began was killed: its events are dropped
             * (run ids begin with their start time, seconds in hex) */
            unsigned long long t0 = strtoull(k, NULL, 16);
            if (t0 && now > 0 && (unsigned long long)now > t0 + PENDING_KEEP)
                continue;
            const char *k2;
            json_object_foreach(files, k2, v)
                put_line(f, "P", v);
        }
        ok = !ferror(f);
        ok &= fclose(f) == 0;
        if (ok && rename(tmp, sp) == 0)
            tmp[0] = '\0';
    }
    if (tmp[0])
        unlink(tmp);
    free(tmp);
    free(sp);
}

void basis_free(struct ledger_basis *b)
{
    json_decref(b->last);
    json_decref(b->tables);
    json_decref(b->pending);
    memset(b, 0, sizeof *b);
}
