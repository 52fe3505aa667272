/*
 * cache.c — the shared in-memory table of the verdict cache, in front of the
 * on-disk store (store.c).
 *
 * DESIGN
 *   The table is split into STRIPES by key; each stripe is an open-addressing
 *   table with its own mutex, so threads looking up different slices rarely
 *   meet, and no lock is held while a value is read from disk.  An entry is
 *   STORED (its record's offset in the store file opened at cache_open, or
 *   appended to since), MEM (put in this run, waiting for cache_flush, value
 *   in memory) or GONE (found damaged, or written to a store file that was
 *   replaced meanwhile: a miss).  Values put in this run leave memory once
 *   flushed, so memory holds only the index (about 48 bytes per value) and
 *   one batch.
 *   Least-recently-used bookkeeping: every record carries the time of the run
 *   that wrote it; the first hit on an older value in a run appends a touch
 *   record.  Compaction (store.c) orders values by their last use.
 *
 * SHARED STATE (owner, lock)
 *   stripe[i].v, .n, .cap   any thread; stripe[i].mu
 *   pend, pend_len, vals    any thread adds (cache_put, touches); cache_flush
 *                           takes the batch out; pend_mu
 *   rfd                     atomic: set at open, or by the first flush if no
 *                           store existed (entries point into it only after)
 *   stats counters          atomics
 *   store_broken            atomic: a write failed; later flushes drop batches
 *   dirfd, lockfd, max_store, now, load_*   set by cache_open, read-only after
 */
#define _GNU_SOURCE
#include "store.h"
#include "../io/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STRIPES 64

enum { E_EMPTY = 0, E_STORED, E_MEM, E_GONE };

struct entry {
    struct cache_key key;
    uint64_t off;        /* STORED: the record's offset in the store */
    uint8_t *mem;        /* MEM: the value (owned) */
    uint32_t len;
    uint8_t state;
    bool touched;        /* a touch record was queued (or it was written) this run */
};

struct stripe {
    pthread_mutex_t mu;
    struct entry *v;     /* [cap], cap a power of two; guarded by mu */
    size_t cap, n;
};

struct pend_val {        /* a value record in the waiting batch */
    struct cache_key key;
    size_t at;           /* its offset in the batch */
};

struct cache {
    int dirfd, lockfd;
    atomic_int rfd;
    dev_t rdev;
    ino_t rino;
    uint64_t max_store;
    int64_t now;
    uint64_t load_size, load_live, load_damaged;
    bool load_foreign;
    struct stripe stripe[STRIPES];
    pthread_mutex_t pend_mu;
    uint8_t *pend;
    size_t pend_len, pend_cap;
    struct pend_val *vals;
    size_t n_vals, cap_vals;
    atomic_uint_fast64_t hits, misses, puts, loaded, damaged;
    atomic_bool store_broken;
};

static struct stripe *stripe_of(struct cache *c, struct cache_key k)
{
    return &c->stripe[(k.hi >> 58) & (STRIPES - 1)];
}

/* The entry for k in s (an EMPTY one where it would go).  Caller holds s->mu. */
static struct entry *slot(struct stripe *s, struct cache_key k)
{
    size_t m = s->cap - 1, i = (size_t)k.lo & m;
    while (s->v[i].state != E_EMPTY) {
        if (s->v[i].key.lo == k.lo && s->v[i].key.hi == k.hi)
            return &s->v[i];
        i = (i + 1) & m;
    }
    return &s->v[i];
}

/* Room for one more entry.  Caller holds s->mu. */
static bool stripe_reserve(struct stripe *s)
{
    if (2 * (s->n + 1) <= s->cap)
        return true;
    size_t ncap = s->cap ? s->cap * 2 : 64;
    struct entry *nv = calloc(ncap, sizeof *nv), *old = s->v;
    if (!nv)
        return false;
    size_t ocap = s->cap;
    s->v = nv;
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].state != E_EMPTY)
            *slot(s, old[i].key) = old[i];
    free(old);
    return true;
}

/* ---- open: load the store's index ----------------------------------------- */

struct load_ctx {
    struct cache *c;
    bool nomem;
};

static void load_rec(void *ctx, const struct store_rec *r, const uint8_t *value)
{
    (void)value;
    struct load_ctx *l = ctx;
    struct cache *c = l->c;
    if (r->type != STORE_VALUE || l->nomem)
        return;
    struct stripe *s = stripe_of(c, r->key);
    if (!stripe_reserve(s)) {
        l->nomem = true;
        return;
    }
    struct entry *e = slot(s, r->key);
    if (e->state != E_EMPTY)
        return; /* the same value written twice: the first serves */
    *e = (struct entry){.key = r->key, .off = r->off, .len = r->len, .state = E_STORED};
    s->n++;
    c->load_live += store_rec_size(r->len);
    atomic_fetch_add(&c->loaded, 1);
}


/* cache_open failed: say why, free everything, *out = NULL. */
static int fail(int err, char **why, const char *what, const char *dir, struct cache **out)
{
    if (why && asprintf(why, "%s %s: %s", what, dir, strerror(-err)) < 0)
        *why = NULL;
    struct cache *c = *out;
    if (c->lockfd >= 0)
        close(c->lockfd);
    if (c->dirfd >= 0)
        close(c->dirfd);
    c->lockfd = c->dirfd = -1; /* cache_close then touches no file */
    cache_close(c, NULL);
    *out = NULL;
    return err;
}

int cache_open(const char *dir, uint64_t max_store, struct cache **out, char **why)
{
    *out = NULL;
    if (why)
        *why = NULL;
    struct cache *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->dirfd = c->lockfd = -1;
    atomic_init(&c->rfd, -1);
    c->max_store = max_store;
    c->now = (int64_t)time(NULL);
    pthread_mutex_init(&c->pend_mu, NULL);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->stripe[i].mu, NULL);
    *out = c;
    if (!dir)
        return 0;
    int rc = fs_mkdir_p(dir, false);
    if (rc)
        return fail(rc, why, "cannot create the cache directory", dir, out);
    c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dirfd < 0)
        return fail(-errno, why, "cannot open the cache directory", dir, out);
    c->lockfd = openat(c->dirfd, STORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (c->lockfd < 0)
        return fail(-errno, why, "cannot open the lock file of the cache directory", dir, out);
    if (flock(c->lockfd, LOCK_SH) != 0)
        return fail(-errno, why, "cannot lock the cache directory", dir, out);
    int rfd = openat(c->dirfd, STORE_FILE, O_RDONLY | O_CLOEXEC);
    if (rfd < 0 && errno != ENOENT) {
        rc = -errno;
        flock(c->lockfd, LOCK_UN);
        return fail(rc, why, "cannot read the cache store in", dir, out);
    }
    if (rfd >= 0) {
        struct stat sb;
        if (fstat(rfd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            close(rfd);
            flock(c->lockfd, LOCK_UN);
            return fail(-EISDIR, why, "the cache store is not a regular file in", dir, out);
        }
        c->rdev = sb.st_dev;
        c->rino = sb.st_ino;
        struct load_ctx l = {c, false};
        rc = store_read_fd(rfd, load_rec, &l, &c->load_damaged, &c->load_foreign, &c->load_size);
        if (rc == 0 && l.nomem)
            rc = -ENOMEM;
        atomic_store(&c->rfd, rfd);
        atomic_store(&c->damaged, c->load_damaged);
    }
    flock(c->lockfd, LOCK_UN);
    if (rc)
        return fail(rc, why, "cannot read the cache store in", dir, out);
    return 0;
}

/* ---- lookups and inserts ------------------------------------------------------ */

/* Queue a record (value NULL: a touch) into the batch. */
static int pend_add(struct cache *c, uint8_t type, struct cache_key key, const void *value,
                    uint32_t len)
{
    size_t sz = (size_t)store_rec_size(len);
    int rc = 0;
    pthread_mutex_lock(&c->pend_mu);
    if (c->pend_len + sz > c->pend_cap) {
        size_t ncap = c->pend_cap ? c->pend_cap : 64 * 1024;
        while (ncap < c->pend_len + sz)
            ncap *= 2;
        uint8_t *np = realloc(c->pend, ncap);
        if (!np) {
            rc = -ENOMEM;
            goto out;
        }
        c->pend = np;
        c->pend_cap = ncap;
    }
    if (type == STORE_VALUE) {
        if (c->n_vals == c->cap_vals) {
            size_t ncap = c->cap_vals ? c->cap_vals * 2 : 64;
            struct pend_val *nv = realloc(c->vals, ncap * sizeof *nv);
            if (!nv) {
                rc = -ENOMEM;
                goto out;
            }
            c->vals = nv;
            c->cap_vals = ncap;
        }
        c->vals[c->n_vals++] = (struct pend_val){key, c->pend_len};
    }
    store_encode(c->pend + c->pend_len, type, key, c->now, value, len);
    c->pend_len += sz;
out:
    pthread_mutex_unlock(&c->pend_mu);
    return rc;
}

int cache_get(struct cache *c, struct cache_key key, uint8_t **val, size_t *len)
{
    struct stripe *s = stripe_of(c, key);
    pthread_mutex_lock(&s->mu);
    struct entry *e = s->cap ? slot(s, key) : NULL;
    uint8_t state = e ? e->state : E_EMPTY;
    uint64_t off = e ? e->off : 0;
    uint32_t n = e ? e->len : 0;
    bool touch = false;
    int rc = 0;
    uint8_t *out = NULL;
    if (state == E_MEM) {
        out = malloc(n ? n : 1);
        if (out)
            memcpy(out, e->mem, n);
        else
            rc = -ENOMEM;
    } else if (state == E_STORED && !e->touched) {
        e->touched = touch = true;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc)
        return rc;
    if (state == E_STORED) { /* read it back, outside every lock, and check it again */
        size_t sz = (size_t)store_rec_size(n);
        uint8_t *rec = malloc(sz);
        if (!rec)
            return -ENOMEM;
        int rfd = atomic_load(&c->rfd);
        if (pread(rfd, rec, sz, (off_t)off) != (ssize_t)sz || !store_check(rec, sz, key, n)) {
            free(rec);
            atomic_fetch_add(&c->damaged, sz);
            pthread_mutex_lock(&s->mu);
            e = slot(s, key);
            if (e->state == E_STORED && e->off == off)
                e->state = E_GONE;
            pthread_mutex_unlock(&s->mu);
            atomic_fetch_add(&c->misses, 1);
            return 0;
        }
        memmove(rec, rec + STORE_REC_HEAD, n);
        out = rec;
        if (touch && c->dirfd >= 0)
            pend_add(c, STORE_TOUCH, key, NULL, 0); /* out of memory: only the LRU order suffers */
    }
    if (!out) {
        atomic_fetch_add(&c->misses, 1);
        return 0;
    }
    atomic_fetch_add(&c->hits, 1);
    *val = out;
    *len = n;
    return 1;
}

int cache_put(struct cache *c, struct cache_key key, const void *val, size_t len)
{
    if (len > CACHE_MAX_VALUE)
        return 0;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, val, len);
    struct stripe *s = stripe_of(c, key);
    pthread_mutex_lock(&s->mu);
    if (!stripe_reserve(s)) {
        pthread_mutex_unlock(&s->mu);
        free(copy);
        return -ENOMEM;
    }
    struct entry *e = slot(s, key);
    bool fresh = e->state == E_EMPTY || e->state == E_GONE;
    if (fresh) {
        if (e->state == E_EMPTY)
            s->n++;
        *e = (struct entry){.key = key, .mem = copy, .len = (uint32_t)len, .state = E_MEM,
                            .touched = true};
        copy = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    free(copy);
    if (!fresh)
        return 0;
    atomic_fetch_add(&c->puts, 1);
    if (c->dirfd < 0)
        return 0;
    return pend_add(c, STORE_VALUE, key, val, (uint32_t)len);
}

size_t cache_pending(struct cache *c)
{
    pthread_mutex_lock(&c->pend_mu);
    size_t n = c->pend_len;
    pthread_mutex_unlock(&c->pend_mu);
    return n;
}

/* ---- flush and close ----------------------------------------------------------- */


/* Append batch to the store under the exclusive lock.  *at: the file offset
 * of batch[0]; *same: the file is the one rfd reads. */
static int append_batch(struct cache *c, const uint8_t *batch, size_t n, uint64_t *at, bool *same)
{
    *same = false;
    if (flock(c->lockfd, LOCK_EX) != 0)
        return -errno;
    int rc = 0;
    int fd = openat(c->dirfd, STORE_FILE, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = -errno;
        goto out;
    }
    uint8_t head[STORE_HEADER_LEN];
    if (sb.st_size > 0 && (sb.st_size < STORE_HEADER_LEN ||
                           pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
                           memcmp(head, STORE_HEADER, STORE_HEADER_LEN) != 0)) {
        /* not ours (or a torn header): replace it by an empty store first */
        uint64_t size;
        close(fd);
        rc = store_compact(c->dirfd, c->lockfd, c->max_store, true, &size);
        fd = rc ? -1 : openat(c->dirfd, STORE_FILE, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (rc || fd < 0 || fstat(fd, &sb) != 0) {
            rc = rc ? rc : -errno;
            goto out;
        }
    }
    if (sb.st_size == 0) {
        rc = fs_write_all(fd, (const uint8_t *)STORE_HEADER, STORE_HEADER_LEN);
        sb.st_size = STORE_HEADER_LEN;
    }
    *at = (uint64_t)sb.st_size;
    if (rc == 0)
        rc = fs_write_all(fd, batch, n);
    if (rc == 0 && atomic_load(&c->rfd) < 0) { /* no store at open: read this one from now on */
        int rfd = openat(c->dirfd, STORE_FILE, O_RDONLY | O_CLOEXEC);
        struct stat rb;
        if (rfd >= 0 && fstat(rfd, &rb) == 0) {
            c->rdev = rb.st_dev;
            c->rino = rb.st_ino;
            atomic_store(&c->rfd, rfd);
        } else if (rfd >= 0) {
            close(rfd);
        }
    }
    *same = rc == 0 && atomic_load(&c->rfd) >= 0 && sb.st_dev == c->rdev && sb.st_ino == c->rino;
out:
    if (fd >= 0)
        close(fd);
    flock(c->lockfd, LOCK_UN);
    return rc;
}

int cache_flush(struct cache *c)
{
    pthread_mutex_lock(&c->pend_mu);
    uint8_t *batch = c->pend;
    size_t n = c->pend_len;
    struct pend_val *vals = c->vals;
    size_t nv = c->n_vals;
    c->pend = NULL;
    c->pend_len = c->pend_cap = 0;
    c->vals = NULL;
    c->n_vals = c->cap_vals = 0;
    pthread_mutex_unlock(&c->pend_mu);
    int rc = 0;
    uint64_t at = 0;
    bool same = false;
    if (n && c->dirfd >= 0 && !atomic_load(&c->store_broken)) {
        rc = append_batch(c, batch, n, &at, &same);
        if (rc)
            atomic_store(&c->store_broken, true);
    }
    /* the values leave memory: they now live in the store (or are given up) */
    for (size_t i = 0; i < nv; i++) {
        struct stripe *s = stripe_of(c, vals[i].key);
        pthread_mutex_lock(&s->mu);
        struct entry *e = slot(s, vals[i].key);
        if (e->state == E_MEM) {
            free(e->mem);
            e->mem = NULL;
            e->state = same ? E_STORED : E_GONE;
            e->off = at + vals[i].at;
        }
        pthread_mutex_unlock(&s->mu);
    }
    free(batch);
    free(vals);
    return rc;
}

void cache_get_stats(struct cache *c, struct cache_stats *out)
{
    memset(out, 0, sizeof *out);
    out->hits = atomic_load(&c->hits);
    out->misses = atomic_load(&c->misses);
    out->puts = atomic_load(&c->puts);
    out->loaded = atomic_load(&c->loaded);
    out->damaged_bytes = atomic_load(&c->damaged);
    out->foreign = c->load_foreign;
}

void cache_close(struct cache *c, struct cache_stats *stats)
{
    if (!c)
        return;
    cache_flush(c);
    if (stats)
        cache_get_stats(c, stats);
    if (c->dirfd >= 0 && c->lockfd >= 0 && !atomic_load(&c->store_broken)) {
        /* rewrite only when this run saw a reason (compaction re-checks) */
        struct stat sb;
        uint64_t size = 0;
        bool have = fstatat(c->dirfd, STORE_FILE, &sb, 0) == 0;
        size = have ? (uint64_t)sb.st_size : 0;
        bool reason = atomic_load(&c->damaged) || c->load_foreign || size > c->max_store ||
                      (size > (1u << 20) && c->load_live < c->load_size / 2);
        if (reason && flock(c->lockfd, LOCK_EX) == 0) {
            bool done = store_compact(c->dirfd, c->lockfd, c->max_store, false, &size) == 0;
            flock(c->lockfd, LOCK_UN);
            if (stats)
                stats->compacted = done && reason;
        }
        if (stats)
            stats->store_bytes = size;
    }
    for (int i = 0; i < STRIPES; i++) {
        struct stripe *s = &c->stripe[i];
        for (size_t k = 0; k < s->cap; k++)
            free(s->v[k].mem);
        free(s->v);
        pthread_mutex_destroy(&s->mu);
    }
    pthread_mutex_destroy(&c->pend_mu);
    free(c->pend);
    free(c->vals);
    int rfd = atomic_load(&c->rfd);
    if (rfd >= 0)
        close(rfd);
    if (c->lockfd >= 0)
        close(c->lockfd);
    if (c->dirfd >= 0)
        close(c->dirfd);
    free(c);
}
