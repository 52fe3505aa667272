/*
 * ledger.c — the run ledger's file: batched appends and reading back.
 *
 * DESIGN
 *   Events are JSON objects made with jansson, kept as lines in a batch and
 *   written with one write(2) and one fdatasync(2) per batch, under an
 *   exclusive flock(2) on the ledger, opened O_APPEND: concurrent runs
 *   interleave whole batches only.  A crash (SIGKILL, power) can leave a torn
 *   last line; the next writer ends it with a newline before its own batch,
 *   and readers skip every line that does not parse.
 *
 * SHARED STATE (owner, lock)
 *   batch, n_events, first_ms   any thread adds (ledger_add); flushes take it
 *                               out; mu.  The write itself runs outside mu.
 *   fd, err                     fd set at open; err written by flushes under
 *                               wmu (one flush at a time keeps batch order).
 */
#define _GNU_SOURCE
#include "ledger.h"
#include "../io/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ledger {
    int fd;
    unsigned batch_events, batch_ms;
    pthread_mutex_t mu;   /* guards batch, len, cap, n_events, first_ms */
    char *batch;
    size_t len, cap;
    unsigned n_events;
    uint64_t first_ms;    /* when the oldest waiting event was added */
    pthread_mutex_t wmu;  /* one flush at a time; guards err */
    int err;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}


int ledger_open(const char *path, bool make_parents, unsigned batch_events, unsigned batch_ms,
                struct ledger **out, char **why)
{
    *out = NULL;
    *why = NULL;
    /* the default place's directories are made; a --ledger path's are not (a
     * typo made a fresh ledger somewhere new: no drift, and no word of it) */
    int rc = make_parents ? fs_mkdir_p(path, true) : 0;
    int fd = rc ? -1 : open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct stat sb;
    char first = '{';
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) {
        close(fd); /* a device, FIFO...: not a ledger (and never read one forever) */
        fd = -1;
        rc = -EINVAL;
    } else if (fd >= 0 && sb.st_size > 0 && (pread(fd, &first, 1, 0) != 1 || first != '{')) {
        close(fd); /* a CSV file named by mistake: never append events to it */
        fd = -1;
        rc = -EILSEQ;
    }
    if (fd < 0) {
        rc = rc ? rc : -errno;
        if (rc == -EINVAL) {
            if (asprintf(why, "the ledger %s is not a regular file", path) < 0)
                *why = NULL;
            return rc;
        }
        if (rc == -EILSEQ) {
            if (asprintf(why, "%s is not a ledger (its first line is no JSON event); name a new "
                              "file or an existing ledger", path) < 0)
                *why = NULL;
            return rc;
        }
        if (rc == -ENOENT && !make_parents) {
            if (asprintf(why, "cannot create the ledger %s: its directory does not exist", path) < 0)
                *why = NULL;
            return rc;
        }
        if (asprintf(why, "cannot open the ledger %s: %s", path, strerror(-rc)) < 0)
            *why = NULL;
        return rc;
    }
    struct ledger *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return -ENOMEM;
    }
    l->fd = fd;
    l->batch_events = batch_events ? batch_events : 1;
    l->batch_ms = batch_ms;
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->wmu, NULL);
    *out = l;
    return 0;
}


int ledger_flush(struct ledger *l)
{
    pthread_mutex_lock(&l->wmu);
    pthread_mutex_lock(&l->mu);
    char *batch = l->batch;
    size_t len = l->len;
    l->batch = NULL;
    l->len = l->cap = 0;
    l->n_events = 0;
    pthread_mutex_unlock(&l->mu);
    int rc = 0;
    if (len) {
        while (flock(l->fd, LOCK_EX) != 0)
            if (errno != EINTR) {
                rc = -errno;
                break;
            }
        if (rc == 0) {
            /* a torn last line (a writer killed mid-write): end it first */
            struct stat sb;
            char last = '\n';
            if (fstat(l->fd, &sb) == 0 && sb.st_size > 0 &&
                pread(l->fd, &last, 1, sb.st_size - 1) != 1)
                last = '\n';
            if (last != '\n')
                rc = fs_write_all(l->fd, "\n", 1);
            if (rc == 0)
                rc = fs_write_all(l->fd, batch, len);
            if (rc == 0 && fdatasync(l->fd) != 0)
                rc = -errno;
            flock(l->fd, LOCK_UN);
        }
    }
    if (rc && !l->err)
        l->err = rc;
    pthread_mutex_unlock(&l->wmu);
    free(batch);
    return rc;
}

void ledger_add_line(struct ledger *l, const char *line, size_t n)
{
    bool flush = false;
    pthread_mutex_lock(&l->mu);
    if (l->len + n + 1 > l->cap) {
        size_t ncap = l->cap ? l->cap : 4096;
        while (ncap < l->len + n + 1)
            ncap *= 2;
        char *nb = realloc(l->batch, ncap);
        if (nb) {
            l->batch = nb;
            l->cap = ncap;
        }
    }
    if (l->len + n + 1 <= l->cap) {
        memcpy(l->batch + l->len, line, n);
        l->batch[l->len + n] = '\n';
        l->len += n + 1;
        uint64_t t = now_ms();
        if (l->n_events++ == 0)
            l->first_ms = t;
        flush = l->n_events >= l->batch_events || t - l->first_ms >= l->batch_ms;
    }
    pthread_mutex_unlock(&l->mu);
    if (flush)
        ledger_flush(l);
}

void ledger_add(struct ledger *l, json_t *event)
{
    if (!l || !event) {
        json_decref(event);
        return;
    }
    char *line = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(event);
    if (line)
        ledger_add_line(l, line, strlen(line));
    free(line);
}

int ledger_close(struct ledger *l)
{
    if (!l)
        return 0;
    ledger_flush(l);
    int err = l->err;
    close(l->fd);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->wmu);
    free(l->batch);
    free(l);
    return err;
}

#define LEDGER_MAX_LINE (64u << 20) /* longer lines (no event is) are skipped unread */

int ledger_read_lines(const char *path, uint64_t from,
                      bool (*fn)(void *ctx, const char *line, size_t n), void *ctx,
                      uint64_t *skipped, uint64_t *end)
{
    *skipped = 0;
    if (end)
        *end = from;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return -EINVAL; /* /dev/zero is endless: only regular files are ledgers */
    }
    /* a shared lock: never read a batch half-written */
    while (flock(fd, LOCK_SH) != 0 && errno == EINTR)
        ;
    size_t cap = 1u << 20, have = 0; /* buf[0, have): bytes of lines not yet whole */
    char *buf = malloc(cap);
    bool overlong = false;           /* inside a line past LEDGER_MAX_LINE: skip to its end */
    uint64_t off = from;             /* the file offset of buf[0] */
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0) {
        if (have == cap) { /* one line fills the buffer */
            char *nb = cap < LEDGER_MAX_LINE ? realloc(buf, cap * 2) : NULL;
            if (nb) {
                buf = nb;
                cap *= 2;
            } else {
                overlong = true;
                off += have;
                have = 0;
            }
        }
        ssize_t k = pread(fd, buf + have, cap - have, (off_t)(off + have));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -errno;
            break;
        }
        if (k == 0)
            break;
        size_t n = have + (size_t)k, at = 0;
        const char *nl;
        while ((nl = memchr(buf + at, '\n', n - at)) != NULL) {
            size_t len = (size_t)(nl - (buf + at));
            if (overlong)
                (*skipped)++;
            else if (len && !fn(ctx, buf + at, len))
                (*skipped)++;
            overlong = false;
            at += len + 1;
            if (end)
                *end = off + at;
        }
        memmove(buf, buf + at, n - at);
        have = n - at;
        off += at;
    }
    if (rc == 0 && (have || overlong)) /* a torn last line */
        (*skipped)++;
    free(buf);
    flock(fd, LOCK_UN);
    close(fd);
    return rc;
}

struct event_reader {
    void (*fn)(void *ctx, json_t *event);
    void *ctx;
};

static bool read_event(void *ctx, const char *line, size_t n)
{
    struct event_reader *r = ctx;
    json_error_t jerr;
    json_t *ev = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    bool ok = ev && json_is_object(ev) && json_is_string(json_object_get(ev, "event"));
    if (ok)
        r->fn(r->ctx, ev);
    json_decref(ev);
    return ok;
}

int ledger_read(const char *path, void (*fn)(void *ctx, json_t *event), void *ctx,
                uint64_t *skipped)
{
    struct event_reader r = {fn, ctx};
    return ledger_read_lines(path, 0, read_event, &r, skipped, NULL);
}
