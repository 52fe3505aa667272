/*
 * store.h — the cache's on-disk format (private to cache/).
 *
 * DIR/verdicts.csvc: a 16-byte header "csvinfer-cache1\n", then records:
 *   0  u32  magic STORE_MAGIC
 *   4  u8   type: STORE_VALUE ('V', a value) or STORE_TOUCH ('T', key used)
 *   5  u8[3] zero
 *   8  u32  value length (0 for a touch)
 *  12  u32  zero
 *  16  i64  time (seconds since the epoch) of the run that wrote it
 *  24  u64  key.lo   32 u64 key.hi
 *  40  value bytes
 *  40+len  u64 XXH64 of bytes [0, 40+len)
 * all little-endian.  A record whose checksum, magic or fields do not hold is
 * damage: the reader skips to the next magic.  A torn record at the end (a
 * crash while appending) is damage too.
 */
#ifndef CSVI_CACHE_STORE_H
#define CSVI_CACHE_STORE_H

#include "cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_FILE "verdicts.csvc"
#define STORE_LOCK "lock"
#define STORE_HEADER "csvinfer-cache1\n"
#define STORE_HEADER_LEN 16
#define STORE_MAGIC 0x31525643u /* "CVR1" */
#define STORE_VALUE 'V'
#define STORE_TOUCH 'T'
#define STORE_REC_HEAD 40
#define STORE_REC_TAIL 8
#define STORE_SEED 0x63737669u

struct store_rec {
    uint8_t type;
    struct cache_key key;
    int64_t time;
    uint64_t off;       /* of the record in the file */
    uint32_t len;       /* of the value */
};

static inline uint64_t store_rec_size(uint32_t len) { return STORE_REC_HEAD + (uint64_t)len + STORE_REC_TAIL; }

/* Called for each whole, valid record; value points at its len bytes. */
typedef void (*store_rec_fn)(void *ctx, const struct store_rec *r, const uint8_t *value);

/* Parse records from buf[0, n), which holds the file from offset base (a
 * record start, or damage).  Stops before a record that is not whole unless
 * at_eof (then the rest is damage).  Adds skipped bytes to *damaged.
 * Returns the bytes consumed (the next call starts there). */
size_t store_parse(const uint8_t *buf, size_t n, uint64_t base, bool at_eof, store_rec_fn fn,
                   void *ctx, uint64_t *damaged);

/* Read the whole store file fd (from its start) through a bounded buffer,
 * calling fn per record.  *foreign: the header is not ours (nothing read).
 * Returns 0 or -errno. */
int store_read_fd(int fd, store_rec_fn fn, void *ctx, uint64_t *damaged, bool *foreign,
                  uint64_t *size /* OUT: bytes in the file */);

/* Encode a record into dst (store_rec_size(len) bytes). */
void store_encode(uint8_t *dst, uint8_t type, struct cache_key key, int64_t time,
                  const void *value, uint32_t len);

/* Check a record read back from the file: 1 valid (type/len/key match). */
bool store_check(const uint8_t *rec, size_t n, struct cache_key key, uint32_t len);

/* Rewrite DIR/verdicts.csvc keeping the most recently used values within
 * max_store bytes (3/4 of it when over), under the exclusive lock (lockfd).
 * Does nothing unless the file is over its bound, damaged, foreign, or more
 * than half garbage — or force.  Returns 0 or -errno; *size the new size. */
int store_compact(int dirfd, int lockfd, uint64_t max_store, bool force, uint64_t *size);

#endif
