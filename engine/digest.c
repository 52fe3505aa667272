/*
 * digest.c — the content digest (see digest.h): XXH3-128 (libxxhash) of the
 * 256 KiB blocks' XXH3-128 hashes and the size.
 */
#include "digest.h"
#if defined(__x86_64__) || defined(__i386__)
#include <xxh_x86dispatch.h> /* the widest SIMD this CPU has (see pipeline_cache.h) */
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>

int digest_init(struct content_digest *d)
{
    memset(d, 0, sizeof *d);
    d->root = XXH3_createState();
    d->leaf = XXH3_createState();
    if (!d->root || !d->leaf) {
        digest_free(d);
        return -ENOMEM;
    }
    XXH3_128bits_reset(d->root);
    XXH3_128bits_reset(d->leaf);
    return 0;
}

void digest_free(struct content_digest *d)
{
    if (d->root)
        XXH3_freeState(d->root);
    if (d->leaf)
        XXH3_freeState(d->leaf);
    d->root = d->leaf = NULL;
}

void digest_block(struct content_digest *d, XXH128_hash_t h, size_t len)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    XXH3_128bits_update(d->root, c.digest, sizeof c.digest);
    d->total += len;
}

void digest_update(struct content_digest *d, const uint8_t *p, size_t n)
{
    while (n) {
        size_t take = DIGEST_BLOCK - d->in_leaf < n ? DIGEST_BLOCK - d->in_leaf : n;
        XXH3_128bits_update(d->leaf, p, take);
        d->in_leaf += take;
        p += take;
        n -= take;
        if (d->in_leaf == DIGEST_BLOCK) {
            digest_block(d, XXH3_128bits_digest(d->leaf), DIGEST_BLOCK);
            XXH3_128bits_reset(d->leaf);
            d->in_leaf = 0;
        }
    }
}

void digest_final(struct content_digest *d, char *out)
{
    if (d->in_leaf) { /* the last, short block */
        digest_block(d, XXH3_128bits_digest(d->leaf), d->in_leaf);
        d->in_leaf = 0;
    }
    uint8_t size[8];
    for (int i = 0; i < 8; i++)
        size[i] = (uint8_t)(d->total >> (8 * i));
    XXH3_128bits_update(d->root, size, sizeof size);
    XXH128_hash_t h = XXH3_128bits_digest(d->root);
    snprintf(out, 42, "xxh3-128:%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}
