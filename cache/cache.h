/*
 * cache.h — the verdict cache: opaque values under 128-bit keys, shared by
 * the threads of a run and kept on disk between runs.
 *
 * The cache knows nothing of CSV or verdicts (it includes nothing from
 * engine/): the engine makes the keys (XXH3-128 of a slice's bytes and of
 * everything else its verdict depends on) and serializes the values.
 *
 * Thread safety: cache_get and cache_put may be called from any threads at
 * once (the table is split into stripes, each with its own mutex); cache_open
 * and cache_close from one thread with no other call running.
 *
 * On disk (docs/cache.md): DIR/verdicts.csvc, an append-only log of records,
 * each with its own XXH64 checksum, and DIR/lock, the flock(2) that orders
 * writers.  A damaged, truncated or foreign store is skipped where damaged
 * and rewritten by the run's close; it is never trusted.
 */
#ifndef CSVI_CACHE_H
#define CSVI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache_key {
    uint64_t lo, hi;
};

struct cache_stats {
    uint64_t hits, misses;     /* cache_get answers in this run */
    uint64_t puts;             /* values added in this run */
    uint64_t loaded;           /* values found in the store at open */
    uint64_t damaged_bytes;    /* store bytes skipped as damaged (open and reads) */
    bool foreign;              /* the store file was not ours: ignored, replaced */
    bool compacted;            /* close rewrote the store */
    uint64_t store_bytes;      /* size of the store after close */
};

struct cache;

#define CACHE_MAX_VALUE (64u << 20) /* larger values are not cached */

/* Open the cache in dir (created if missing, mode 0700) with its store kept
 * under max_store bytes; dir NULL: in memory only, for this run.  Returns 0
 * and *out, or -errno with *why a message (malloc'd, caller frees). */
int cache_open(const char *dir, uint64_t max_store, struct cache **out /* OUT */,
               char **why /* OUT */);

/* Look key up.  Hit: returns 1, *val a malloc'd copy of the value (the
 * caller frees it) and *len its length.  Miss: 0.  Out of memory: -ENOMEM. */
int cache_get(struct cache *c, struct cache_key key, uint8_t **val /* OUT */,
              size_t *len /* OUT */);

/* Add a copy of val under key (kept if the key is already present); it is
 * written to the store by the next cache_flush.  Returns 0 or -ENOMEM. */
int cache_put(struct cache *c, struct cache_key key, const void *val, size_t len);

/* Bytes waiting for cache_flush. */
size_t cache_pending(struct cache *c);

/* Append what is waiting to the store: one write under the store's lock.
 * A store that cannot be written is given up for the run (returns -errno
 * once; the in-memory table keeps working). */
int cache_flush(struct cache *c);

void cache_get_stats(struct cache *c, struct cache_stats *out /* OUT */);

/* Flush, rewrite the store if it is over its bound, damaged, foreign or
 * mostly garbage (least recently used values out first), and free
 * everything.  Accepts NULL.  Fills *stats if not NULL. */
void cache_close(struct cache *c, struct cache_stats *stats /* OUT, may be NULL */);

#endif
