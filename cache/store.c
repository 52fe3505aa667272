/*
 * store.c — the cache's record log on disk: encoding and checking records,
 * reading a store back (skipping damage, never trusting it), and compaction
 * (a new file with the most recently used values, renamed over the old).
 * Format: store.h.  Locking: the caller holds DIR/lock (flock) — shared to
 * read, exclusive to append or compact.
 */
#define _GNU_SOURCE
#include "store.h"
#include "../io/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void store_encode(uint8_t *dst, uint8_t type, struct cache_key key, int64_t time,
                  const void *value, uint32_t len)
{
    put32(dst, STORE_MAGIC);
    dst[4] = type;
    dst[5] = dst[6] = dst[7] = 0;
    put32(dst + 8, len);
    put32(dst + 12, 0);
    put64(dst + 16, (uint64_t)time);
    put64(dst + 24, key.lo);
    put64(dst + 32, key.hi);
    if (len)
        memcpy(dst + STORE_REC_HEAD, value, len);
    put64(dst + STORE_REC_HEAD + len, XXH64(dst, STORE_REC_HEAD + (size_t)len, STORE_SEED));
}

/* Is a whole record at p (n bytes available)?  Returns its size, 0 if it is
 * damaged, or -1 if more bytes are needed to tell. */
static int64_t record_at(const uint8_t *p, size_t n, struct store_rec *r)
{
    if (n < STORE_REC_HEAD)
        return -1;
    uint32_t len = get32(p + 8);
    if (get32(p) != STORE_MAGIC || (p[4] != STORE_VALUE && p[4] != STORE_TOUCH) || p[5] || p[6] ||
        p[7] || get32(p + 12) || len > CACHE_MAX_VALUE || (p[4] == STORE_TOUCH && len))
        return 0;
    uint64_t size = store_rec_size(len);
    if (n < size)
        return -1;
    if (XXH64(p, STORE_REC_HEAD + (size_t)len, STORE_SEED) != get64(p + STORE_REC_HEAD + len))
        return 0;
    r->type = p[4];
    r->len = len;
    r->time = (int64_t)get64(p + 16);
    r->key.lo = get64(p + 24);
    r->key.hi = get64(p + 32);
    return (int64_t)size;
}

bool store_check(const uint8_t *rec, size_t n, struct cache_key key, uint32_t len)
{
    struct store_rec r;
    int64_t size = record_at(rec, n, &r);
    return size > 0 && (uint64_t)size == n && r.type == STORE_VALUE && r.len == len &&
           r.key.lo == key.lo && r.key.hi == key.hi;
}

size_t store_parse(const uint8_t *buf, size_t n, uint64_t base, bool at_eof, store_rec_fn fn,
                   void *ctx, uint64_t *damaged)
{
    static const uint8_t magic[4] = {0x43, 0x56, 0x52, 0x31}; /* STORE_MAGIC, little-endian */
    size_t pos = 0;
    while (pos < n) {
        struct store_rec r;
        int64_t size = record_at(buf + pos, n - pos, &r);
        if (size > 0) {
            r.off = base + pos;
            fn(ctx, &r, buf + pos + STORE_REC_HEAD);
            pos += (size_t)size;
            continue;
        }
        if (size < 0 && !at_eof)
            return pos; /* not whole yet: the caller reads on */
        /* damage (or a torn record at the end): resync at the next magic */
        const uint8_t *m = memmem(buf + pos + 1, n - pos - 1, magic, sizeof magic);
        size_t next = m ? (size_t)(m - buf) : n;
        if (!m && !at_eof) { /* the magic may straddle the end: keep 3 bytes */
            next = n - pos > 4 ? n - 3 : pos + 1;
            *damaged += next - pos;
            return next;
        }
        *damaged += next - pos;
        pos = next;
    }
    return pos;
}

int store_read_fd(int fd, store_rec_fn fn, void *ctx, uint64_t *damaged, bool *foreign,
                  uint64_t *size)
{
    struct stat sb;
    *foreign = false;
    *size = 0;
    if (fstat(fd, &sb) != 0)
        return -errno;
    uint64_t fsize = (uint64_t)sb.st_size;
    *size = fsize;
    if (fsize == 0)
        return 0;
    uint8_t head[STORE_HEADER_LEN];
    if (fsize < STORE_HEADER_LEN || pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        memcmp(head, STORE_HEADER, STORE_HEADER_LEN) != 0) {
        *foreign = true;
        return 0;
    }
    size_t cap = 4u << 20, have = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    uint64_t base = STORE_HEADER_LEN, off = STORE_HEADER_LEN; /* base: file offset of buf[0] */
    int rc = 0;
    for (;;) {
        if (have == cap) { /* one record larger than the buffer: grow (bounded) */
            size_t ncap = cap * 2;
            uint8_t *nb = ncap <= 2 * (size_t)store_rec_size(CACHE_MAX_VALUE) ? realloc(buf, ncap) : NULL;
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t got = pread(fd, buf + have, cap - have, (off_t)off);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        have += (size_t)got;
        off += (uint64_t)got;
        bool eof = got == 0 || off >= fsize;
        size_t used = store_parse(buf, have, base, eof, fn, ctx, damaged);
        memmove(buf, buf + used, have - used);
        have -= used;
        base += used;
        if (eof && have == 0)
            break;
        if (eof) { /* store_parse consumes everything at eof; be safe */
            *damaged += have;
            break;
        }
    }
    free(buf);
    return rc;
}

/* ---- compaction ---------------------------------------------------------- */

struct live {               /* a value in the old file, with its last use */
    struct cache_key key;
    uint64_t off;
    uint32_t len;
    int64_t time;           /* the newest time of its records */
    uint64_t last;          /* offset of its newest record (value or touch): the file is
                               written in order of use, so this orders by recency */
};

struct index {
    struct live *v;         /* open addressing on key.lo */
    size_t cap, n;
    uint64_t live_bytes;
    bool nomem;
};

static struct live *index_slot(struct index *ix, struct cache_key k)
{
    size_t m = ix->cap - 1, i = (size_t)(k.lo ^ (k.hi >> 7)) & m;
    while (ix->v[i].len || ix->v[i].off) {
        if (ix->v[i].key.lo == k.lo && ix->v[i].key.hi == k.hi)
            return &ix->v[i];
        i = (i + 1) & m;
    }
    return &ix->v[i];
}

static bool index_grow(struct index *ix)
{
    size_t ncap = ix->cap ? ix->cap * 2 : 1024;
    struct live *nv = calloc(ncap, sizeof *nv), *old = ix->v;
    if (!nv)
        return false;
    size_t ocap = ix->cap;
    ix->v = nv;
    ix->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].off)
            *index_slot(ix, old[i].key) = old[i];
    free(old);
    return true;
}

static void index_rec(void *ctx, const struct store_rec *r, const uint8_t *value)
{
    (void)value;
    struct index *ix = ctx;
    if (ix->nomem)
        return;
    if (2 * (ix->n + 1) > ix->cap && !index_grow(ix)) {
        ix->nomem = true;
        return;
    }
    struct live *s = index_slot(ix, r->key);
    if (s->off) { /* known: a later use, or the same value written again */
        if (r->time > s->time)
            s->time = r->time;
        s->last = r->off;
        return;
    }
    if (r->type == STORE_TOUCH)
        return; /* a touch of a value no longer here */
    *s = (struct live){r->key, r->off, r->len, r->time, r->off};
    ix->n++;
    ix->live_bytes += store_rec_size(r->len);
}

/* Most recently used first: by the offset of the newest record (appends
 * and compaction both keep the file in order of use; times are whole
 * seconds and would tie within a second). */
static int by_recency(const void *a, const void *b)
{
    const struct live *x = a, *y = b;
    return x->last > y->last ? -1 : x->last < y->last;
}


/* Copy the chosen values of old into a new file at tmp; returns its size. */
static int write_compacted(int dirfd, const char *tmp, int old, struct live *keep, size_t n,
                           uint64_t *size)
{
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = fs_write_all(fd, (const uint8_t *)STORE_HEADER, STORE_HEADER_LEN);
    uint64_t total = STORE_HEADER_LEN;
    uint8_t *rec = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t sz = (size_t)store_rec_size(keep[i].len);
        if (sz > cap) {
            uint8_t *nr = realloc(rec, sz);
            if (!nr) {
                rc = -ENOMEM;
                break;
            }
            rec = nr;
            cap = sz;
        }
        if (pread(old, rec, sz, (off_t)keep[i].off) != (ssize_t)sz ||
            !store_check(rec, sz, keep[i].key, keep[i].len))
            continue; /* changed since it was indexed: leave it out */
        store_encode(rec, STORE_VALUE, keep[i].key, keep[i].time, rec + STORE_REC_HEAD, keep[i].len);
        rc = fs_write_all(fd, rec, sz);
        total += sz;
    }
    free(rec);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    *size = total;
    return rc;
}

int store_compact(int dirfd, int lockfd, uint64_t max_store, bool force, uint64_t *size)
{
    (void)lockfd; /* held exclusively by the caller */
    int old = openat(dirfd, STORE_FILE, O_RDONLY | O_CLOEXEC);
    if (old < 0 && errno != ENOENT)
        return -errno;
    struct index ix = {0};
    uint64_t damaged = 0, fsize = 0;
    bool foreign = false;
    int rc = old >= 0 ? store_read_fd(old, index_rec, &ix, &damaged, &foreign, &fsize) : 0;
    *size = fsize;
    if (rc == 0 && ix.nomem)
        rc = -ENOMEM;
    bool over = fsize > max_store;
    bool garbage = fsize > (1u << 20) && ix.live_bytes < (fsize - STORE_HEADER_LEN) / 2;
    if (rc || old < 0 || !(force || over || damaged || foreign || garbage)) {
        free(ix.v);
        if (old >= 0)
            close(old);
        return rc;
    }
    struct live *keep = malloc((ix.n ? ix.n : 1) * sizeof *keep);
    size_t n = 0;
    if (!keep) {
        rc = -ENOMEM;
    } else {
        for (size_t i = 0; i < ix.cap; i++)
            if (ix.v[i].off)
                keep[n++] = ix.v[i];
        qsort(keep, n, sizeof *keep, by_recency);
        uint64_t bound = over ? max_store / 4 * 3 : max_store, total = STORE_HEADER_LEN;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) /* most recent first, while they fit */
            if (total + store_rec_size(keep[i].len) <= bound) {
                total += store_rec_size(keep[i].len);
                keep[k++] = keep[i];
            }
        /* written least recent first, so the new file is in order of use too */
        for (size_t i = 0; i < k / 2; i++) {
            struct live t = keep[i];
            keep[i] = keep[k - 1 - i];
            keep[k - 1 - i] = t;
        }
        char tmp[64];
        snprintf(tmp, sizeof tmp, STORE_FILE ".%ld.tmp", (long)getpid());
        rc = write_compacted(dirfd, tmp, old, keep, k, size);
        if (rc == 0 && renameat(dirfd, tmp, dirfd, STORE_FILE) != 0)
            rc = -errno;
        if (rc)
            unlinkat(dirfd, tmp, 0);
        else
            fsync(dirfd);
    }
    free(keep);
    free(ix.v);
    close(old);
    return rc;
}
