/*
 * digest.h — the content digest of a file recorded in the ledger
 * (docs/ledger.md): XXH3-128 over the canonical XXH3-128 of each 256 KiB
 * block of the file in order (the last one short), then the file's size as
 * 8 little-endian bytes.  A tree of one level, so the pipeline can reuse the
 * block hashes it makes for the cache while each block is hot, and the
 * sequential engine can make the same digest from bytes in any split.
 */
#ifndef CSVI_DIGEST_H
#define CSVI_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#define DIGEST_BLOCK (256u * 1024u)

struct content_digest {
    XXH3_state_t *root, *leaf; /* leaf: only for digest_update */
    size_t in_leaf;            /* bytes in the open leaf */
    uint64_t total;            /* bytes digested */
};

int digest_init(struct content_digest *d);   /* 0 or -ENOMEM */
void digest_free(struct content_digest *d);
/* One whole block (or the file's last, short one) whose XXH3-128 is h. */
void digest_block(struct content_digest *d, XXH128_hash_t h, size_t len);
/* Bytes, in any split (not mixed with digest_block). */
void digest_update(struct content_digest *d, const uint8_t *p, size_t n);
/* "xxh3-128:" and 32 hex digits into out (at least 42 bytes). */
void digest_final(struct content_digest *d, char *out);

#endif
