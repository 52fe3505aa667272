/*
 * pipeline_cache.h — how the pipeline uses the verdict cache (cache/): the
 * keys the splitter makes for slices and small files, the values the merger
 * records for slices that missed, and the decoding of a hit into the work
 * units' verdicts.  The key of a slice covers its bytes (as the XXH3-128
 * hashes of the raw blocks it was read from, made while they were hot, plus
 * the bytes borrowed from the next chunk), the file plan, its position flags
 * and a digest of every option that changes a verdict (docs/cache.md).
 */
#ifndef CSVI_PIPELINE_CACHE_H
#define CSVI_PIPELINE_CACHE_H

#include "internal.h"
#include "verdict_codec.h"
#include "../cache/cache.h"

#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
/* XXH3 with the widest SIMD this CPU has, chosen by libxxhash at run time
 * (Debian's build is SSE2-only otherwise: ~6 GB/s against ~17 with AVX2 here).
 * It renames XXH3_128bits and XXH3_128bits_update to the dispatching ones. */
#include <xxh_x86dispatch.h>
#endif

struct pipe_cache {
    struct cache *cache;    /* NULL: the cache is off (everything below unused) */
    uint8_t digest[16];     /* the options' digest: read-only */
    XXH3_state_t *st;       /* the slice being keyed: splitter only */
    uint64_t nblocks;       /* block hashes fed into st */
};

/* A slice that missed: the merger appends its units' verdicts and stores
 * the value once the slice's last unit is merged.  Owned by the merger from
 * the slice's first merged unit (the splitter makes it; the jobs carry it). */
struct slice_rec {
    struct cache_key key;
    uint64_t first_line;    /* the slice's first line (unit lines are relative) */
    size_t units, merged;   /* jobs of the slice; merged so far (merger) */
    bool with_plan;         /* a whole small file: the value starts with the plan */
    bool failed;            /* a unit failed, or the value outgrew the data: store nothing */
    uint64_t bytes;         /* the slice's bytes: a value larger than half of them (a very
                               wide file) is not worth storing, and is not accumulated */
    struct codec_buf buf;   /* merger */
};

/* Whether a cached value of len bytes for data of `bytes` bytes is worth
 * keeping: reading it back must be much cheaper than inferring again. */
static inline bool pcache_worth(size_t len, uint64_t bytes) { return len <= 4096 + bytes / 2; }

int pcache_init(struct pipe_cache *pc, struct cache *cache, const struct engine_cfg *cfg);
void pcache_free(struct pipe_cache *pc);

/* Keying a slice of a big file: begin (the plan is known, start is the
 * slice's offset in its first raw chunk), the hashes of every raw block the
 * slice was read from in order, then end with the bytes taken from the next
 * chunk and the slice's flags. */
void pcache_slice_begin(struct pipe_cache *pc, const struct file_plan *plan, size_t start);
void pcache_slice_blocks(struct pipe_cache *pc, const XXH128_hash_t *bh, size_t n);
struct cache_key pcache_slice_end(struct pipe_cache *pc, const uint8_t *prefix, size_t n,
                                  bool first, bool eof, bool truncated);
/* The key of a whole small file (the plan is part of its value). */
struct cache_key pcache_file_key(const struct pipe_cache *pc, const uint8_t *data, size_t len);

/* The merger: add unit v (first line unit_line) of rec's slice; stores the
 * value after the last unit and frees rec (returns true then). */
bool pcache_record_unit(struct pipe_cache *pc, struct slice_rec *rec,
                        const struct file_plan *plan, const struct csvi_file_result *res,
                        const struct slice_verdict *v, uint64_t unit_line, bool unit_failed);

/* --trust-mtime: the key of a file by its identity (device, inode, size,
 * mtime to the nanosecond) and the options; its value is the whole file's
 * record: BOM, digest, plan and every work unit's verdict (lines from 1). */
struct cache_key pcache_trust_key(const struct pipe_cache *pc, uint64_t dev, uint64_t ino,
                                  uint64_t size, int64_t mtime_sec, int64_t mtime_nsec);
/* The record's head, made when the file's first unit is merged (the plan is
 * whole then); units are appended with codec_put_unit(first line 1). */
void pcache_trust_head(struct codec_buf *head, bool bom, int compression /* enum decomp_kind */,
                       const char *digest, const struct file_plan *plan,
                       const struct csvi_file_result *res);
/* --trust-append: where a file's last slice began, so that a run that finds
 * the file grown (and its old tail unchanged) reads it from there on. */
struct trust_append {
    bool set;
    uint64_t chunk;          /* the --chunk-size that cut the slices */
    uint64_t off, line;      /* the last slice's first byte and first line */
    uint64_t units;          /* work units before it */
    uint64_t tail_len;       /* the file's last tail_len bytes hash to tail */
    XXH128_hash_t tail;
};
/* Put the format, the CSV's byte count (decompressed, for gzip/zstd), the
 * append point (app->set false: none), head, n_units and units under key
 * (the merger, at the file's end). */
void pcache_trust_put(struct pipe_cache *pc, struct cache_key key, uint64_t bytes,
                      const struct trust_append *app, const struct codec_buf *head,
                      size_t n_units, const struct codec_buf *units);
/* Decode a trusted file's record: BOM, compression, bytes and digest into res, the plan, and the
 * units (as pcache_decode).  0, -EINVAL (use it as a miss) or -ENOMEM. */
int pcache_trust_decode(const uint8_t *val, size_t len, struct file_plan *plan,
                        struct csvi_file_result *res, struct slice_verdict **units,
                        uint64_t **lines, size_t *n, struct trust_append *app /* OUT */);

/* A hit: decode val into the plan (with_plan: a small file's; else the
 * plan must already be set) and *n unit verdicts with their first lines
 * (malloc'd arrays, freed by the caller; each verdict by slice_verdict_free).
 * Returns 0, or -EINVAL for a value that does not check out (use it as a
 * miss), or -ENOMEM. */
int pcache_decode(const uint8_t *val, size_t len, bool with_plan, struct file_plan *plan,
                  struct csvi_file_result *res, uint64_t first_line,
                  struct slice_verdict **units /* OUT */, uint64_t **lines /* OUT */,
                  size_t *n /* OUT */);

/* ---- chunk counts: a re-run's splitter skips counting ----------------------
 * A raw chunk's per-block quote and newline counts (what split_count gives)
 * depend only on its bytes and the quote byte, so they are cached under the
 * chunk's block hashes: an unchanged chunk is hashed, not counted. */
struct cache_key pcache_counts_key(const XXH128_hash_t *bh, size_t nblocks, size_t len,
                                   uint8_t quote);
/* Look the counts up: 1 and bq[0, nblocks), bn[0, nblocks) filled on a hit
 * whose value checks out, else 0 (-ENOMEM: out of memory). */
int pcache_counts_get(struct pipe_cache *pc, struct cache_key key, size_t nblocks, uint64_t *bq,
                      uint64_t *bn);
void pcache_counts_put(struct pipe_cache *pc, struct cache_key key, size_t nblocks,
                       const uint64_t *bq, const uint64_t *bn);

#endif
