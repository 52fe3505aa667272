/*
 * pipeline_read.c — the pipeline's reading layer, on the splitter thread:
 * a chunk's reads in flight together through the reader backend (io_uring
 * or pread), each 256 KiB block counted (quotes, newlines) and hashed (the
 * cache keys, the digest) as it lands, while it is still in L2; a chunk's
 * counts taken from its cached count record when an unchanged file is read
 * again; gzip/zstd files and pipes read as streams of unknown size (an
 * error met after some bytes is given to the next read, so what is read
 * before it never depends on the chunk size); and the check that a file
 * did not change while it was read.
 */
#include "pipeline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* Do the reads r[0, n), as many in flight as the ring takes, completions
 * reaped in batches; done(ctx, req) runs as each lands, while its bytes are
 * still in cache.  Returns 0, or the ring's own -errno (after draining what
 * was in flight, so no read outlives its buffer). */
int pipe_read_batch(struct reader *rd, struct read_req *r, size_t n,
                    void (*done)(void *ctx, const struct read_req *req), void *ctx)
{
    size_t queued = 0, finished = 0;
    int err = 0;
    while (finished < queued || (queued < n && !err)) {
        while (!err && queued < n && rd->pending < rd->depth) {
            int rc = rd->ops->queue_read(rd, r[queued].fd, r[queued].dst, r[queued].len,
                                           r[queued].off, queued);
            if (rc)
                err = rc;
            else
                queued++;
        }
        int rc = rd->ops->submit(rd);
        if (rc && !err)
            err = rc;
        if (finished == queued)
            break;
        struct reader_cqe cqe[16];
        int k = rd->ops->reap(rd, cqe, 16, true);
        if (k < 0)
            return k;
        for (int i = 0; i < k; i++, finished++) {
            struct read_req *q = &r[cqe[i].tag];
            q->res = cqe[i].res;
            if (done)
                done(ctx, q);
        }
    }
    return err;
}

struct count_ctx {
    bool defer;            /* hash only: the counts come from the chunk's record */
    uint8_t quote;
    uint64_t quotes, newlines;
    const uint8_t *base;   /* the chunk's first byte, for the block index */
    uint64_t *bq, *bn;     /* per block, or NULL */
    XXH128_hash_t *bh;     /* per block: XXH3-128 for the cache key, or NULL */
};

static void count_block(void *ctx, const struct read_req *q)
{
    struct count_ctx *c = ctx;
    if (q->res <= 0)
        return;
    size_t k = (size_t)(q->dst - c->base) / BLOCK;
    if (c->bh) /* hashed here, while the block is hot, in whatever order blocks land */
        c->bh[k] = XXH3_128bits(q->dst, (size_t)q->res);
    if (c->defer)
        return;
    uint64_t nq, nl;
    split_count(q->dst, (size_t)q->res, c->quote, &nq, &nl);
    c->quotes += nq;
    c->newlines += nl;
    if (c->bq) {
        c->bq[k] = nq;
        c->bn[k] = nl;
    }
}

/* A chunk of the main loop read with the cache on (its blocks hashed): its
 * per-block counts from the cache's count record if it was deferred (and the
 * record is there), else counted now; a chunk counted as it landed looks its
 * record up too.  A hit makes the next chunk deferred, a miss stores the
 * record: a re-run of an unchanged file hashes its chunks and counts none. */
static void chunk_counts(struct pipeline *p, struct count_ctx *c, const uint8_t *dst, size_t got,
                         struct pbuf *b)
{
    size_t nbh = (got + BLOCK - 1) / BLOCK;
    struct cache_key key = pcache_counts_key(b->bh, nbh, got, c->quote);
    int hit = pcache_counts_get(&p->pc, key, nbh, b->bq, b->bn) == 1;
    if (c->defer && !hit) /* guessed wrong: count now, from L3 rather than L2 */
        for (size_t k = 0; k < nbh; k++)
            split_count(dst + k * BLOCK, got - k * BLOCK < BLOCK ? got - k * BLOCK : BLOCK,
                        c->quote, &b->bq[k], &b->bn[k]);
    if (c->defer) {
        c->quotes = c->newlines = 0;
        for (size_t k = 0; k < nbh; k++) {
            c->quotes += b->bq[k];
            c->newlines += b->bn[k];
        }
    }
    if (!hit)
        pcache_counts_put(&p->pc, key, nbh, b->bq, b->bn);
    p->counts_hit = hit;
}

/* A gzip/zstd file, or a pipe (f->pipe: read from fd): up to len (decompressed)
 * bytes into dst, fewer only at the
 * end of the stream, on an interrupt, or before an error (which the next call
 * returns, so the bytes before it are inferred whatever the chunk size, as
 * the sequential engine does).  Returns the bytes or -errno. */
static ssize_t read_stream(struct pipe_file *f, int fd, uint8_t *dst, size_t len)
{
    if (f->stream_err) {
        ssize_t e = f->stream_err;
        f->stream_err = 0;
        return e;
    }
    size_t have = 0;
    while (have < len && f->head_pos < f->head_n) /* a pipe's first bytes, read already */
        dst[have++] = f->head[f->head_pos++];
    while (have < len && !csvi_interrupted()) { /* (a signal ends a pipe's input) */
        ssize_t k;
        if (f->dc)
            k = decomp_read(f->dc, dst + have, len - have);
        else
            k = read_stoppable(fd, dst + have, len - have, csvi_interrupted);
        if (k == -EINTR || k == 0) /* an interrupt: the splitter's loop sees it */
            break;
        if (k < 0) {
            if (!have)
                return k;
            f->stream_err = k;
            break;
        }
        have += (size_t)k;
    }
    return (ssize_t)have;
}

/* The reads r[0, n) of one chunk, counted and hashed into c as they land:
 * with the helper thread, it copies the odd blocks that are in the page
 * cache while this thread reads the even ones, then this thread reads what
 * the helper left (pipeline_helper.c says why).  Each thread sums its own
 * counts; the per-block arrays are written at each block's own index.
 * Returns 0 or the first backend error (each read's result is in r[].res). */
static int read_blocks(struct pipeline *p, struct read_req *r, size_t n, struct count_ctx *c)
{
    struct read_helper *h = &p->helper;
    if (!h->started || n < 2 || (h->skip && h->skip--))
        return pipe_read_batch(p->rd, r, n, count_block, c);
    size_t nodd = n / 2, neven = n - nodd;
    struct read_req *even = malloc(n * (sizeof *even + sizeof(size_t)));
    if (!even)
        return pipe_read_batch(p->rd, r, n, count_block, c);
    struct read_req *odd = even + neven;
    size_t *at = (size_t *)(even + n);
    for (size_t i = 0; i < n; i++)
        (i % 2 ? odd : even)[i / 2] = r[i];
    struct count_ctx c2 = *c;
    c2.quotes = c2.newlines = 0;
    read_helper_post(h, odd, nodd, count_block, &c2);
    int rc = pipe_read_batch(p->rd, even, neven, count_block, c);
    read_helper_wait(h);
    size_t nleft = 0;
    for (size_t i = 0; i < n; i++) {
        r[i].res = (i % 2 ? odd : even)[i / 2].res;
        if (r[i].res == HELPER_LEFT)
            at[nleft++] = i;
    }
    c->quotes += c2.quotes;
    c->newlines += c2.newlines;
    if (nleft) { /* not cached: read here, and the next chunks without the helper */
        h->skip = HELPER_PROBE;
        for (size_t k = 0; k < nleft; k++) {
            even[k] = r[at[k]];
            even[k].res = 0;
        }
        int rc2 = rc ? 0 : pipe_read_batch(p->rd, even, nleft, count_block, c);
        for (size_t k = 0; k < nleft; k++)
            r[at[k]].res = rc ? 0 : even[k].res;
        rc = rc ? rc : rc2;
    }
    free(even);
    return rc;
}

/* Read file bytes [off, off + len) into dst in blocks of BLOCK bytes in
 * flight together, counting quotes and newlines of each block as it lands
 * (a gzip/zstd file: the next len bytes of its stream, counted per block
 * alike; off is then where they start in it).  Returns the bytes read
 * (short at end of file) or -errno. */
ssize_t pipe_read_counted(struct pipeline *p, struct pipe_file *f, int fd, uint8_t *dst,
                            size_t len, uint64_t off, uint8_t quote, uint64_t *quotes,
                            uint64_t *newlines,
                            struct pbuf *blocks /* per-block counts into it, or NULL */)
{
    /* with the cache, a chunk's counts may come from its record (chunk_counts) */
    bool with_record = blocks && blocks->bh && p->pc.cache;
    if (f->dc || f->pipe) {
        struct count_ctx c = {with_record && p->counts_hit, quote, 0, 0, dst,
                              blocks ? blocks->bq : NULL, blocks ? blocks->bn : NULL,
                              blocks ? blocks->bh : NULL};
        ssize_t got = read_stream(f, fd, dst, len);
        for (size_t k = 0; got > 0 && k * BLOCK < (size_t)got; k++) {
            size_t bl = (size_t)got - k * BLOCK < BLOCK ? (size_t)got - k * BLOCK : BLOCK;
            count_block(&c, &(struct read_req){fd, dst + k * BLOCK, bl, off + k * BLOCK, (int32_t)bl});
        }
        if (with_record && got > 0)
            chunk_counts(p, &c, dst, (size_t)got, blocks);
        if (blocks) {
            blocks->nb = got > 0 ? (size_t)got / BLOCK : 0;
            blocks->nbh = got > 0 ? ((size_t)got + BLOCK - 1) / BLOCK : 0;
        }
        *quotes = c.quotes;
        *newlines = c.newlines;
        return got;
    }
    size_t nblocks = (len + BLOCK - 1) / BLOCK;
    struct read_req *r = calloc(nblocks ? nblocks : 1, sizeof *r);
    if (!r)
        return -ENOMEM;
    for (size_t b = 0; b < nblocks; b++)
        r[b] = (struct read_req){fd, dst + b * BLOCK, len - b * BLOCK < BLOCK ? len - b * BLOCK : BLOCK,
                                 off + b * BLOCK, 0};
    struct count_ctx c = {with_record && p->counts_hit, quote, 0, 0, dst,
                          blocks ? blocks->bq : NULL, blocks ? blocks->bn : NULL,
                          blocks && blocks->bh ? blocks->bh : NULL};
    ssize_t got = read_blocks(p, r, nblocks, &c);
    for (size_t b = 0; b < nblocks && got >= 0; b++)
        got = r[b].res < 0 ? r[b].res : got + r[b].res;
    free(r);
    if (with_record && got > 0)
        chunk_counts(p, &c, dst, (size_t)got, blocks);
    if (blocks) { /* whole blocks counted, the last one possibly short; all hashed */
        blocks->nb = got > 0 ? (size_t)got / BLOCK : 0;
        blocks->nbh = got > 0 ? ((size_t)got + BLOCK - 1) / BLOCK : 0;
    }
    *quotes = c.quotes;
    *newlines = c.newlines;
    return got;
}

/* What a failed read says: a corrupt archive names what is wrong. */
const char *pipe_read_error_text(const struct pipe_file *f, int err)
{
    if (f->dc && err == -EBADMSG && decomp_error(f->dc)[0])
        return decomp_error(f->dc);
    return strerror(-err);
}

/* A read that failed before the file had a plan (the splitter owns res then). */
void pipe_file_read_error(struct pipe_file *f, int err)
{
    result_add_error(f->res, 0, CSVI_EK_READ_FAILED, "read failed: %s", pipe_read_error_text(f, err));
}

/* After its last read: did the file change since it was opened (size or
 * mtime of the open file, or the path now naming another file)?  If so the
 * bytes read are no snapshot of anything: say so (f->changed). */
void pipe_check_changed(struct pipe_file *f, int fd, const char *path)
{
    struct stat now, named;
    const struct stat *a = &f->st0;
    if (fstat(fd, &now) != 0)
        return;
    bool replaced = stat(path, &named) != 0 || named.st_ino != a->st_ino || named.st_dev != a->st_dev;
    bool resized = now.st_size != a->st_size;
    bool touched = now.st_mtim.tv_sec != a->st_mtim.tv_sec || now.st_mtim.tv_nsec != a->st_mtim.tv_nsec;
    if (!replaced && !resized && !touched)
        return;
    char what[128];
    if (replaced)
        snprintf(what, sizeof what, "the path now names another file");
    else if (resized)
        snprintf(what, sizeof what, "its size went from %lld to %lld bytes", (long long)a->st_size,
                 (long long)now.st_size);
    else
        snprintf(what, sizeof what, "it was modified while its size stayed the same");
    f->changed = error_format("the file changed while it was read (%s); this verdict may not "
                              "match its content: run again once the file is complete",
                              what);
}
