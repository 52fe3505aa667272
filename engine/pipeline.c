/*
 * pipeline.c — the parallel engine: reader/splitter -> worker pool -> merger.
 *
 * DESIGN
 *   The splitter (the calling thread) reads each regular file through the
 *   reader backend (io/: io_uring or pread) in blocks of BLOCK bytes into
 *   buffers of the pool, one raw chunk [k*C, (k+1)*C) per buffer, counting
 *   quote and newline bytes of each block as it arrives (still in cache).
 *   The quote parity at (k+1)*C tells where the first record start at or
 *   after it is; the bytes before it are copied to the end of chunk k, which
 *   is then a slice of whole records, dispatched to the workers with its
 *   file, sequence number and first physical line.  A run of small files has
 *   its reads in flight together.
 *   Workers run slice_infer (and, for a file of one slice, file_plan_init)
 *   and give the buffer back to the pool: the pool bounds memory and makes
 *   the splitter wait when workers fall behind (backpressure).
 *   The merger thread takes finished slices in any order and folds them
 *   strictly in dispatch order (a reorder window), so the result never
 *   depends on scheduling: files come out in input order, errors in line
 *   order, byte for byte what the sequential engine (infer_file.c) gives.
 *
 * SHARED STATE (owner, lock)
 *   work, done, pool      tqueues: each guarded by its own mutex.
 *   inflight              tsem: slices dispatched and not yet merged (bounds
 *                         the merger's reorder window).
 *   pipe_file.plan        written by the splitter before its first slice is
 *                         pushed, or by the worker of the file's only slice
 *                         before that slice reaches the merger; read-only
 *                         for everyone after (ordering: the queues' mutexes).
 *   pipe_file.merge, .res the merger, once the file's first slice is merged;
 *                         before that only the splitter writes res (bom,
 *                         bytes, open errors).  Read by the caller after the
 *                         threads are joined.
 *   pipeline.failed       atomic: out of memory anywhere.
 */
#include "internal.h"
#include "digest.h"
#include "pipeline_cache.h"
#include "threading.h"
#include "../io/decompress.h"
#include "../io/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (256u * 1024u)   /* unit of reading: stays in L2 while counted */
#define SMALL_BATCH 8          /* small files with reads in flight together */
#define CACHE_BATCH (4u << 20) /* cache records written to the store together */
#define WORK_UNIT (1u << 20)   /* a slice is inferred in units of about this size, so a
                                  worker's bytes are still in cache (4 MiB at most in
                                  flight per worker instead of 8 MiB cold) */
_Static_assert(BLOCK == DIGEST_BLOCK, "the digest's leaves are the blocks read");

struct pbuf {
    uint8_t *data;
    size_t cap;
    atomic_int refs;        /* jobs still reading it; the last one gives it back */
    /* the raw chunk it was read with: counts before it, and per BLOCK (splitter only) */
    uint64_t q0, nl0;
    uint64_t *bq, *bn;
    size_t nb;              /* blocks counted (0: none, the buffer is not cut in units) */
    XXH128_hash_t *bh;      /* per BLOCK read: its XXH3-128 (cache keys; NULL: no cache) */
    size_t nbh;             /* blocks hashed */
};

struct pipe_file {
    struct csvi_file_result *res;
    uint64_t size;
    struct stat st0;          /* at open: changed-under-the-reader check (splitter) */
    char *changed;            /* how it changed while read: written by the splitter before
                                 the file's last job is pushed; the merger reports it */
    struct content_digest dg; /* splitter only: the digest being made (dg.root NULL: none) */
    /* --trust-mtime: the whole-file record, made by the merger from the file's units */
    bool trust_record;        /* set by the splitter before the file's first job */
    struct cache_key trust_key;
    struct codec_buf trust_head, trust_units; /* merger */
    size_t trust_n;           /* units appended (merger) */
    bool trust_failed;        /* a unit failed: record nothing (merger) */
    char digest[42];          /* the final digest, written like `changed` ("" : none) */
    /* a gzip/zstd file: its decompressed stream is cut like a plain file's bytes */
    struct decomp *dc;        /* splitter only (NULL: plain) */
    bool pipe;                /* standard input or a FIFO: a stream of unknown size */
    uint8_t head[4];          /* a pipe's first bytes, read to see if it is gzip/zstd */
    size_t head_n, head_pos;  /* (splitter) */
    int compression;          /* enum decomp_kind, set before the file's first job */
    ssize_t stream_err;       /* an error met after some bytes: the next read's (splitter) */
    uint64_t in_reported;     /* compressed bytes counted as progress so far (splitter) */
    uint64_t stream_bytes;    /* the CSV's bytes, written like `changed`; the merger
                                 makes them res->bytes */
    char *read_err;           /* a read that failed after the plan, written like `changed`;
                                 the merger reports it at the line after the last record */
    uint64_t units_pushed;    /* splitter: jobs of this file pushed so far */
    struct trust_append app;  /* --trust-append: the last slice's start, written like
                                 `changed`; the merger keeps it in the whole-file record */
    struct file_plan plan;
    struct file_merge merge;  /* merger thread only */
    double t0;
};

struct slice_job {
    struct pipe_file *file;
    uint64_t gseq;             /* dispatch order: the merger folds in this order */
    bool first, last;          /* the file's first / last job */
    bool slice_start;          /* the first job of a slice (a cache unit) */
    bool make_plan;            /* the worker makes the plan (file of one slice) */
    struct pbuf *buf;          /* owned by the job until the worker returns it */
    size_t start, len;         /* the slice: buf->data[start, start + len) */
    uint64_t first_line;
    bool eof, truncated, header_pending;
    bool hit;                  /* v came from the cache: no worker ran (len: the slice's bytes) */
    uint64_t progress;         /* file bytes this job accounts for (compressed ones for gzip/zstd) */
    struct slice_rec *rec;     /* a slice that missed the cache: the merger records it */
    int rc;
    struct slice_verdict v;
};

struct pipeline {
    const struct engine_cfg *cfg;
    struct reader *rd;
    size_t chunk;
    struct tqueue work, done, pool;
    struct tsem inflight;
    size_t window;             /* max slices in flight */
    unsigned nworkers;
    size_t batch;              /* small files read together (< pool size) */
    size_t max_blocks;         /* BLOCKs in a chunk */
    pthread_t *workers, merger;
    unsigned started;          /* workers created (pipeline_stop joins only those) */
    bool merger_started;
    uint64_t next_gseq;        /* splitter only */
    struct pipe_cache pc;      /* pc.st: splitter only; the cache itself is thread-safe */
    csvi_engine *eng;          /* run_file_finished and progress (thread-safe) */
    bool digest_on;            /* content digests for the ledger */
    bool trust;                /* --trust-mtime (with the cache) */
    bool trust_append;         /* --trust-append (with the cache and the ledger) */
    bool digest_big;           /* ... of files of several chunks too: their blocks are the
                                  digest's 256 KiB leaves (chunk size a multiple of it) */
    bool counts_hit;           /* splitter: the last chunk's counts came from the cache, so
                                  the next one is only hashed as it lands (a re-run) */
    atomic_bool failed;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- workers ----------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct pipeline *p = arg;
    uint8_t *scratch = NULL;
    size_t scap = 0;
    struct slice_job *j;
    while ((j = tqueue_pop(&p->work)) != NULL) {
        const uint8_t *data = j->buf->data + j->start;
        j->rc = 0;
        if (j->len + 1 > scap) {
            uint8_t *ns = realloc(scratch, j->len + 1);
            if (ns) {
                scratch = ns;
                scap = j->len + 1;
            } else {
                j->rc = -ENOMEM;
            }
        }
        if (j->rc == 0 && j->make_plan) {
            int rc = file_plan_init(&j->file->plan, p->cfg, data, j->len, j->eof, j->file->res);
            j->rc = rc < 0 ? rc : 0;
        }
        memset(&j->v, 0, sizeof j->v);
        if (j->rc == 0)
            j->rc = slice_infer(&j->file->plan, data, j->len, j->eof, j->truncated, j->first_line,
                                j->header_pending && j->file->plan.header, scratch, &j->v);
        if (atomic_fetch_sub(&j->buf->refs, 1) == 1)
            tqueue_push(&p->pool, j->buf);
        j->buf = NULL;
        tqueue_push(&p->done, j);
    }
    free(scratch);
    return NULL;
}

/* ---- merger ------------------------------------------------------------ */

static void merge_one(struct pipeline *p, struct slice_job *j)
{
    struct pipe_file *f = j->file;
    if (j->rc)
        atomic_store(&p->failed, true);
    if (j->first && file_merge_init(&f->merge, &f->plan, f->res))
        atomic_store(&p->failed, true);
    if (j->len && j->slice_start)
        f->res->cache_slices++;
    if (j->hit && j->slice_start && j->len) { /* counted as cache_slices is: empty ones aside */
        f->res->cache_hits++;
        f->res->cache_hit_bytes += j->len;
    }
    run_bytes_done(p->eng, j->progress);
    if (j->rec) /* a slice that missed: its value goes to the cache (before v is consumed) */
        pcache_record_unit(&p->pc, j->rec, &f->plan, f->res, &j->v, j->first_line, j->rc != 0);
    if (f->trust_record) { /* --trust-mtime: the whole file's units, in order */
        if (j->first)
            pcache_trust_head(&f->trust_head, f->res->dialect.bom, f->compression, f->digest,
                              &f->plan, f->res);
        if (j->rc)
            f->trust_failed = true;
        else if (!f->trust_failed)
            codec_put_unit(&f->trust_units, &j->v, j->first_line, 1);
        f->trust_n++;
        if (!f->trust_failed && !pcache_worth(f->trust_units.len, f->size)) {
            f->trust_failed = true; /* a very wide file: not worth keeping whole */
            free(f->trust_units.data);
            f->trust_units = (struct codec_buf){0};
        }
    }
    uint64_t end_line = j->first_line + j->v.lines; /* after the last record inferred */
    file_merge_slice(&f->merge, &j->v);
    if (j->last) {
        memcpy(f->res->digest, f->digest, sizeof f->digest);
        if (f->compression || f->pipe)
            f->res->bytes = f->stream_bytes;
        if (f->read_err) { /* as the sequential engine: after the records read whole */
            result_add_error(f->res, end_line, CSVI_EK_READ_FAILED, "%s", f->read_err);
            free(f->read_err);
            f->read_err = NULL;
        }
        bool whole = !f->changed && !f->res->interrupted;
        for (size_t i = 0; i < f->res->n_errors; i++) /* a file read whole, as it is */
            whole &= f->res->errors[i].kind != CSVI_EK_READ_FAILED;
        if (f->trust_record && whole && !f->trust_failed)
            pcache_trust_put(&p->pc, f->trust_key, f->res->bytes, &f->app, &f->trust_head,
                             f->trust_n, &f->trust_units);
        if (f->changed) {
            result_add_error(f->res, 0, CSVI_EK_FILE_CHANGED, "%s", f->changed);
            free(f->changed);
            f->changed = NULL;
        }
        file_merge_finish(&f->merge, &f->plan);
        file_plan_free(&f->plan);
        f->res->seconds = now_seconds() - f->t0;
        run_file_finished(p->eng, f->res); /* ledger events, drift: as each file is done */
    }
}

static void *merger_main(void *arg)
{
    struct pipeline *p = arg;
    struct slice_job **window = calloc(p->window, sizeof *window);
    uint64_t next = 0;
    struct slice_job *j;
    if (!window)
        atomic_store(&p->failed, true);
    while ((j = tqueue_pop(&p->done)) != NULL) {
        if (!window) { /* out of memory: drain, dropping results */
            slice_verdict_free(&j->v);
            free(j);
            tsem_post(&p->inflight);
            continue;
        }
        window[j->gseq % p->window] = j;
        while ((j = window[next % p->window]) != NULL && j->gseq == next) {
            window[next % p->window] = NULL;
            next++;
            merge_one(p, j);
            free(j);
            tsem_post(&p->inflight);
        }
        if (p->pc.cache && cache_pending(p->pc.cache) >= CACHE_BATCH)
            cache_flush(p->pc.cache); /* batched appends, off the workers' path */
    }
    free(window);
    return NULL;
}

/* ---- splitter ------------------------------------------------------------ */

/* The buffer given back last: a re-run whose slices hit cycles through two
 * or three buffers instead of faulting in the whole pool. */
static struct pbuf *pool_get(struct pipeline *p) { return tqueue_pop_newest(&p->pool); }

/* Make room for `need` bytes in b, keeping its content. */
static int pbuf_reserve(struct pbuf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap;
    while (cap < need)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return -ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

/* The file bytes a job of len bytes accounts for in the progress line: len,
 * or for gzip/zstd the compressed bytes consumed since the file's last job. */
static uint64_t progress_of(struct pipe_file *f, size_t len)
{
    if (!f->dc || f->pipe)
        return len;
    uint64_t in = decomp_in_bytes(f->dc), d = in - f->in_reported;
    f->in_reported = in;
    return d;
}

/* Push the verdicts of a cache hit straight to the merger, as the work
 * units the slice was inferred in when it was stored (units[] are moved).
 * whole: a --trust-mtime hit, the file's own size its progress. */
static int dispatch_hit(struct pipeline *p, struct pipe_file *f, struct slice_verdict *units,
                        const uint64_t *lines, size_t n, size_t bytes, bool first, bool last,
                        bool whole)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct slice_job *j = rc ? NULL : calloc(1, sizeof *j);
        if (!j) {
            rc = -ENOMEM;
            slice_verdict_free(&units[i]);
            continue;
        }
        *j = (struct slice_job){.file = f, .first = first && i == 0, .last = last && i + 1 == n,
                                .slice_start = i == 0, .len = i == 0 ? bytes : 0,
                                .first_line = lines[i], .hit = true, .v = units[i]};
        j->progress = whole ? (i == 0 ? f->size : 0) : progress_of(f, j->len);
        f->units_pushed++;
        tsem_wait(&p->inflight);
        j->gseq = p->next_gseq++;
        tqueue_push(&p->done, j);
    }
    return rc;
}

/* Look a slice up in the cache; on a hit dispatch its verdicts and return
 * 1 (a value that does not decode is a miss: 0).  with_plan: a whole small
 * file, whose plan comes from the value too. */
static int try_hit(struct pipeline *p, struct pipe_file *f, struct cache_key key, bool with_plan,
                   uint64_t line, size_t bytes, bool first, bool last)
{
    uint8_t *val;
    size_t len;
    int rc = cache_get(p->pc.cache, key, &val, &len);
    if (rc != 1)
        return rc < 0 ? rc : 0;
    struct slice_verdict *units;
    uint64_t *lines;
    size_t n;
    if (with_plan)
        f->plan.cfg = p->cfg;
    rc = pcache_decode(val, len, with_plan, &f->plan, f->res, line, &units, &lines, &n);
    free(val);
    if (rc)
        return rc == -EINVAL ? 0 : rc;
    rc = dispatch_hit(p, f, units, lines, n, bytes, first, last, false);
    free(units);
    free(lines);
    return rc ? rc : 1;
}

/* A record of a slice that missed, for the merger to fill (NULL if out of memory). */
static struct slice_rec *new_rec(struct cache_key key, uint64_t line, size_t units, bool with_plan,
                                 uint64_t bytes)
{
    struct slice_rec *r = calloc(1, sizeof *r);
    if (r)
        *r = (struct slice_rec){.key = key, .first_line = line, .units = units,
                                .with_plan = with_plan, .bytes = bytes};
    return r;
}

static int dispatch(struct pipeline *p, struct pipe_file *f, struct pbuf *b, size_t start,
                    size_t len, uint64_t line, bool first, bool last, bool eof, bool truncated,
                    bool make_plan)
{
    struct slice_rec *rec = NULL;
    if (p->pc.cache && len && make_plan) { /* a whole small file: keyed by all its bytes */
        struct cache_key key = pcache_file_key(&p->pc, b->data, start + len);
        int hit = try_hit(p, f, key, true, line, len, first, last);
        if (hit < 0)
            return hit;
        if (hit) {
            tqueue_push(&p->pool, b);
            return 0;
        }
        rec = new_rec(key, line, 1, true, start + len);
    }
    struct slice_job *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    *j = (struct slice_job){.file = f, .first = first, .last = last, .slice_start = true,
                            .make_plan = make_plan, .buf = b, .start = start, .len = len,
                            .first_line = line, .eof = eof, .truncated = truncated,
                            .header_pending = first, .rec = rec};
    j->progress = progress_of(f, len);
    f->units_pushed++;
    atomic_store(&b->refs, 1);
    tsem_wait(&p->inflight);
    j->gseq = p->next_gseq++;
    tqueue_push(&p->work, j);
    return 0;
}

/* Dispatch the slice b->data[start, end) (first physical line `line`) as work
 * units cut at the first record start at or after each WORK_UNIT mark of the
 * buffer's counted raw chunk.  The quote state at a mark comes from the block
 * counts taken while reading; a record start is always outside quotes.  The
 * units' verdicts join to the slice's (the verdict is a monoid), so this only
 * changes which bytes are in cache, never the output. */
static int dispatch_units(struct pipeline *p, struct pipe_file *f, struct pbuf *b, size_t start,
                          size_t end, uint64_t line, bool first, bool last, bool eof,
                          bool truncated, const struct cache_key *key /* NULL: no cache */)
{
    if (key) {
        int hit = try_hit(p, f, *key, false, line, end - start, first, last);
        if (hit < 0)
            return hit;
        if (hit) {
            tqueue_push(&p->pool, b);
            return 0;
        }
    }
    size_t cuts[4096 + 2];
    uint64_t lines[4096 + 2];
    size_t n = 0;
    cuts[n] = start;
    lines[n++] = line;
    uint8_t quote = f->plan.quote;
    /* a unit's verdict holds ~200 bytes a column: for very wide files units grow
     * with the width (512 bytes of data a column), so the verdicts in flight stay
     * a fraction of the data (100,000 columns: one unit per slice) */
    size_t unit = WORK_UNIT;
    if (f->plan.ncols > unit / 512)
        unit = f->plan.ncols * 512;
    size_t per = (unit + BLOCK - 1) / BLOCK;
    uint64_t q = b->q0, nl = b->nl0;
    for (size_t blk = 0; blk + per <= b->nb && n < 4096; blk += per) {
        for (size_t k = blk; k < blk + per; k++) {
            q += b->bq[k];
            nl += b->bn[k];
        }
        size_t m = (blk + per) * BLOCK;
        if (m <= cuts[n - 1] || m >= end)
            continue;
        bool inside = q & 1u;
        size_t at;
        if (!inside && b->data[m - 1] == '\n')
            at = m;
        else {
            size_t r = split_next_record(b->data + m, end - m, quote, inside);
            if (r == SIZE_MAX)
                break;
            at = m + r;
        }
        if (at <= cuts[n - 1] || at >= end)
            continue;
        cuts[n] = at;
        lines[n++] = 1 + nl + split_count_newlines(b->data + m, at - m);
    }
    cuts[n] = end;
    struct slice_rec *rec = key ? new_rec(*key, line, n, false, end - start) : NULL;
    atomic_store(&b->refs, (int)n);
    for (size_t i = 0; i < n; i++) {
        struct slice_job *j = calloc(1, sizeof *j);
        if (!j)
            return -ENOMEM; /* (the buffer's other units keep it alive) */
        bool unit_first = first && i == 0, unit_last = last && i + 1 == n;
        *j = (struct slice_job){.file = f, .first = unit_first, .last = unit_last,
                                .slice_start = i == 0, .buf = b, .start = cuts[i],
                                .len = cuts[i + 1] - cuts[i], .first_line = lines[i],
                                .eof = eof && i + 1 == n, .truncated = truncated && i + 1 == n,
                                .header_pending = unit_first, .rec = rec};
        j->progress = progress_of(f, j->len);
        f->units_pushed++;
        tsem_wait(&p->inflight);
        j->gseq = p->next_gseq++;
        tqueue_push(&p->work, j);
    }
    return 0;
}

/* One read of a batch. */
struct read_req {
    int fd;
    uint8_t *dst;
    size_t len;
    uint64_t off;
    int32_t res; /* OUT: bytes read, or -errno */
};

/* Do the reads r[0, n), as many in flight as the ring takes, completions
 * reaped in batches; done(ctx, req) runs as each lands, while its bytes are
 * still in cache.  Returns 0, or the ring's own -errno (after draining what
 * was in flight, so no read outlives its buffer). */
static int read_batch(struct pipeline *p, struct read_req *r, size_t n,
                      void (*done)(void *ctx, const struct read_req *req), void *ctx)
{
    size_t queued = 0, finished = 0;
    int err = 0;
    while (finished < queued || (queued < n && !err)) {
        while (!err && queued < n && p->rd->pending < p->rd->depth) {
            int rc = p->rd->ops->queue_read(p->rd, r[queued].fd, r[queued].dst, r[queued].len,
                                           r[queued].off, queued);
            if (rc)
                err = rc;
            else
                queued++;
        }
        int rc = p->rd->ops->submit(p->rd);
        if (rc && !err)
            err = rc;
        if (finished == queued)
            break;
        struct reader_cqe cqe[16];
        int k = p->rd->ops->reap(p->rd, cqe, 16, true);
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
        else if ((k = read(fd, dst + have, len - have)) < 0)
            k = -errno;
        if (k == -EINTR && !csvi_interrupted())
            continue;
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

/* Read file bytes [off, off + len) into dst in blocks of BLOCK bytes in
 * flight together, counting quotes and newlines of each block as it lands
 * (a gzip/zstd file: the next len bytes of its stream, counted per block
 * alike; off is then where they start in it).  Returns the bytes read
 * (short at end of file) or -errno. */
static ssize_t read_counted(struct pipeline *p, struct pipe_file *f, int fd, uint8_t *dst,
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
    ssize_t got = read_batch(p, r, nblocks, count_block, &c);
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
static const char *read_error_text(const struct pipe_file *f, int err)
{
    if (f->dc && err == -EBADMSG && decomp_error(f->dc)[0])
        return decomp_error(f->dc);
    return strerror(-err);
}

/* A read that failed before the file had a plan (the splitter owns res then). */
static void file_read_error(struct pipe_file *f, int err)
{
    result_add_error(f->res, 0, CSVI_EK_READ_FAILED, "read failed: %s", read_error_text(f, err));
}

/* After its last read: did the file change since it was opened (size or
 * mtime of the open file, or the path now naming another file)?  If so the
 * bytes read are no snapshot of anything: say so (f->changed). */
static void check_changed(struct pipe_file *f, int fd, const char *path)
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

/* --trust-append: a grown file's record, to go on from its old last slice. */
struct resume {
    struct trust_append app;
    uint64_t old_size;
    struct slice_verdict *units; /* the record's units before the last slice (moved) */
    uint64_t *lines;
};

/* Is the file's tail as it was: its old last app->tail_len bytes before old_size? */
static bool tail_unchanged(int fd, const struct resume *rs)
{
    uint8_t *t = malloc(rs->app.tail_len);
    bool same = t && pread(fd, t, rs->app.tail_len, (off_t)(rs->old_size - rs->app.tail_len)) ==
                         (ssize_t)rs->app.tail_len;
    if (same) {
        XXH128_hash_t h = XXH3_128bits(t, rs->app.tail_len);
        same = h.low64 == rs->app.tail.low64 && h.high64 == rs->app.tail.high64;
    }
    free(t);
    return same;
}

/* A file of more than one chunk, or a gzip/zstd file (f->dc): make its
 * plan, then cut and dispatch.  A stream's size is known at its end only.
 * rs (--trust-append, a plain file that grew): the plan and the units
 * before the old last slice come from the record; read on from that slice's
 * chunk.  Returns 1 if rs does not fit the file after all (nothing was
 * dispatched: read it whole), else 0 or -errno. */
static int split_big_file(struct pipeline *p, struct pipe_file *f, int fd, struct resume *rs)
{
    const struct csvi_options *opt = &p->cfg->opt;
    const size_t C = p->chunk;
    uint64_t S = f->dc || f->pipe ? UINT64_MAX : f->size;
    if (!rs && p->digest_big && !f->dc && !f->pipe && digest_init(&f->dg) != 0)
        return -ENOMEM; /* (no digest for a compressed file, as sequentially, or a resumed one) */
    p->counts_hit = true; /* a guess: the first chunk after the plan's looks its record up */
    struct pbuf *cur = pool_get(p);
    uint64_t q_total = 0, nl_total = 0, q, nl;
    uint64_t cur_off = 0; /* cur->data[0] is the file's byte cur_off */
    uint64_t line = 1;
    bool first = true;
    struct pipe_cache *pc = p->pc.cache ? &p->pc : NULL;
    struct cache_key key;
    size_t cur_len, cur_start;
    uint64_t raw_end;
    ssize_t got;
    uint8_t quote = f->plan.quote;
    if (rs) { /* the old last slice's chunk, counted (quote parity 0 at a record start) */
        cur_off = rs->app.off / C * C;
        size_t want = S - cur_off < C ? (size_t)(S - cur_off) : C;
        cur_start = (size_t)(rs->app.off - cur_off);
        got = tail_unchanged(fd, rs)
                  ? read_counted(p, f, fd, cur->data, want, cur_off, quote, &q, &nl, cur)
                  : -1;
        uint64_t qp = 0, np = 0;
        if (got > (ssize_t)cur_start)
            split_count(cur->data, cur_start, quote, &qp, &np);
        if (got <= (ssize_t)cur_start || np > rs->app.line - 1) {
            tqueue_push(&p->pool, cur);
            return 1;
        }
        cur_len = (size_t)got;
        raw_end = cur_off + (uint64_t)got;
        cur->q0 = qp; /* only its parity is used: the quotes of [cur_off, off) */
        cur->nl0 = rs->app.line - 1 - np;
        q_total = cur->q0 + q;
        nl_total = cur->nl0 + nl;
        line = rs->app.line;
        first = false;
        if (pc) {
            pcache_slice_begin(pc, &f->plan, cur_start);
            pcache_slice_blocks(pc, cur->bh, cur->nbh);
        }
        int rc = dispatch_hit(p, f, rs->units, rs->lines, rs->app.units, (size_t)rs->app.off,
                              true, false, false);
        rs->app.units = 0; /* moved */
        if (rc)
            return rc;
        goto split;
    }
    /* The quote byte must be known to count quotes: the plan comes from the
     * first chunk, so count that chunk after sniffing. */
    got = read_counted(p, f, fd, cur->data, C, 0, 0, &q, &nl, NULL);
    if (got < 0) {
        file_read_error(f, (int)got);
        tqueue_push(&p->pool, cur);
        if (f->dc || f->pipe)
            f->res->bytes = 0; /* no CSV came out of it */
        return 0;
    }
    cur_len = (size_t)got;
    cur_start = 0;
    raw_end = (uint64_t)got;
    bool bom_checked = false;
    for (;;) { /* the plan needs the sniffer's whole sample and the whole first record */
        if (!bom_checked && (cur_len >= 3 || raw_end >= S)) {
            bom_checked = true;
            if (cur_len >= 3 && memcmp(cur->data, "\xEF\xBB\xBF", 3) == 0) {
                f->res->dialect.bom = true;
                cur_start = 3;
            }
        }
        bool sample_whole = raw_end >= S || cur_len - cur_start >= CSVI_SNIFF_BYTES;
        int rc = sample_whole ? file_plan_init(&f->plan, p->cfg, cur->data + cur_start,
                                               cur_len - cur_start, raw_end >= S, f->res)
                              : 1;
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (sample_whole && cur_len - cur_start > opt->max_record + 2) {
            uint64_t rline = 1;
            for (size_t i = cur_start; i < cur_len && (cur->data[i] == '\n' || cur->data[i] == '\r'); i++)
                rline += cur->data[i] == '\n';
            result_add_error(f->res, rline, CSVI_EK_RECORD_TOO_LONG,
                             "record longer than --max-record (%zu bytes); rest of the file not "
                             "read (raise --max-record, or check the quoting)",
                             opt->max_record);
            tqueue_push(&p->pool, cur);
            if (f->dc || f->pipe)
                f->res->bytes = raw_end;
            f->res->seconds = now_seconds() - f->t0;
            return 0;
        }
        size_t want = S - raw_end < C ? (size_t)(S - raw_end) : C;
        if (pbuf_reserve(cur, cur_len + want))
            return -ENOMEM;
        got = read_counted(p, f, fd, cur->data + cur_len, want, raw_end, 0, &q, &nl, NULL);
        if (got < 0) { /* no plan yet: an error of the file, no verdict (as sequentially) */
            file_read_error(f, (int)got);
            tqueue_push(&p->pool, cur);
            if (f->dc || f->pipe)
                f->res->bytes = raw_end;
            f->res->seconds = now_seconds() - f->t0;
            return 0;
        }
        if (got == 0) {
            S = raw_end; /* a stream's end, or a file that shrank: what was read is the file */
            continue;
        }
        cur_len += (size_t)got;
        raw_end += (uint64_t)got;
    }
    quote = f->plan.quote;
    if (pc)
        pcache_slice_begin(pc, &f->plan, cur_start);
    /* the first chunk was read before its quote was known: count it now, per block */
    q_total = nl_total = 0;
    cur->q0 = cur->nl0 = 0;
    cur->nb = cur_len / BLOCK < p->max_blocks ? cur_len / BLOCK : p->max_blocks;
    for (size_t k = 0; k * BLOCK < cur_len; k++) {
        size_t bl = cur_len - k * BLOCK < BLOCK ? cur_len - k * BLOCK : BLOCK;
        split_count(cur->data + k * BLOCK, bl, quote, &q, &nl);
        if (pc || f->dg.root) {
            XXH128_hash_t h = XXH3_128bits(cur->data + k * BLOCK, bl);
            if (pc)
                pcache_slice_blocks(pc, &h, 1);
            if (f->dg.root)
                digest_block(&f->dg, h, bl);
        }
        if (k < cur->nb) {
            cur->bq[k] = q;
            cur->bn[k] = nl;
        }
        q_total += q;
        nl_total += nl;
    }

split:;
    bool failed = false;  /* a read failed: the records read whole are the verdict */
    size_t absorbed = 0; /* bytes appended to cur without finding a record start */
    for (;;) {
        f->stream_bytes = raw_end; /* (read by the merger after the last job) */
        if (csvi_interrupted()) { /* SIGINT/SIGTERM: end the file here, marked, uncached */
            f->res->interrupted = true;
            return dispatch_units(p, f, cur, cur_start, cur_len, line, first, true, true, false,
                                  NULL);
        }
        if (raw_end >= S) {
            if (!f->pipe)
                check_changed(f, fd, f->res->path);
            if (f->dg.root && !failed)
                digest_final(&f->dg, f->digest);
            if (f->trust_record && !f->dc && !f->pipe && !first && !failed) { /* --trust-append */
                size_t tl = cur_len < 65536 ? cur_len : 65536;
                f->app = (struct trust_append){true, C, cur_off + cur_start, line, f->units_pushed,
                                               tl, XXH3_128bits(cur->data + cur_len - tl, tl)};
            }
            if (pc && !failed)
                key = pcache_slice_end(pc, NULL, 0, first, true, false);
            /* after a failed read the last record may be cut: not at the end of input */
            return dispatch_units(p, f, cur, cur_start, cur_len, line, first, true, !failed,
                                  false, pc && !failed ? &key : NULL);
        }
        struct pbuf *nxt = pool_get(p);
        size_t want = S - raw_end < C ? (size_t)(S - raw_end) : C;
        nxt->q0 = q_total;
        nxt->nl0 = nl_total;
        got = read_counted(p, f, fd, nxt->data, want, raw_end, quote, &q, &nl, nxt);
        if (got <= 0) { /* a read error, the end of a stream, or the file shrank under us */
            if (got < 0) {
                f->read_err = error_format("read failed: %s", read_error_text(f, (int)got));
                failed = true;
            }
            tqueue_push(&p->pool, nxt);
            S = raw_end;
            continue;
        }
        size_t nlen = (size_t)got;
        for (size_t k = 0; f->dg.root && k < nxt->nbh; k++)
            digest_block(&f->dg, nxt->bh[k], nlen - k * BLOCK < BLOCK ? nlen - k * BLOCK : BLOCK);
        bool inside = q_total & 1u;
        size_t b;
        if (!inside && cur_len > 0 && cur->data[cur_len - 1] == '\n')
            b = 0;
        else
            b = split_next_record(nxt->data, nlen, quote, inside);
        if (b != SIZE_MAX) {
            if (pbuf_reserve(cur, cur_len + b))
                return -ENOMEM;
            memcpy(cur->data + cur_len, nxt->data, b);
            uint64_t next_line = 1 + nl_total + split_count_newlines(nxt->data, b);
            if (pc)
                key = pcache_slice_end(pc, nxt->data, b, first, false, false);
            int rc = dispatch_units(p, f, cur, cur_start, cur_len + b, line, first, false, false,
                                    false, pc ? &key : NULL);
            if (rc)
                return rc;
            if (pc) { /* the next slice starts at b of this raw chunk */
                pcache_slice_begin(pc, &f->plan, b);
                pcache_slice_blocks(pc, nxt->bh, nxt->nbh);
            }
            first = false;
            line = next_line;
            cur = nxt;
            cur_off = raw_end;
            cur_start = b;
            cur_len = nlen;
            absorbed = 0;
        } else {
            if (pbuf_reserve(cur, cur_len + nlen))
                return -ENOMEM;
            memcpy(cur->data + cur_len, nxt->data, nlen);
            if (pc)
                pcache_slice_blocks(pc, nxt->bh, nxt->nbh);
            tqueue_push(&p->pool, nxt);
            cur_len += nlen;
            absorbed += nlen;
        }
        q_total += q;
        nl_total += nl;
        raw_end += nlen;
        if (absorbed > opt->max_record + 2) { /* one record past the limit: stop here */
            f->stream_bytes = raw_end;
            if (pc)
                key = pcache_slice_end(pc, NULL, 0, first, false, true);
            return dispatch_units(p, f, cur, cur_start, cur_len, line, first, true, false, true,
                                  pc ? &key : NULL);
        }
    }
}

/* A gzip/zstd file or pipe (kind): its stream through split_big_file; a
 * pipe's first n bytes, read to see what it is, are prefix. */
static int split_compressed(struct pipeline *p, struct pipe_file *f, int fd, enum decomp_kind kind,
                            const uint8_t *prefix, size_t n)
{
    /* (a file is read from its offset: 0, as the other reads are positioned) */
    if (decomp_open_prefixed(fd, kind, prefix, n, &f->dc))
        return -ENOMEM;
    f->compression = (int)kind;
    f->res->compression = decomp_name(kind);
    int rc = split_big_file(p, f, fd, NULL);
    decomp_close(f->dc);
    f->dc = NULL;
    return rc;
}

/* Standard input or a FIFO (f->pipe): its first bytes say whether it is
 * gzip/zstd (they are read, so the stream starts with them), then it is cut
 * like a file of unknown size. */
static int split_pipe(struct pipeline *p, struct pipe_file *f, int fd)
{
    f->pipe = true;
    while (f->head_n < sizeof f->head && !csvi_interrupted()) {
        ssize_t k = read(fd, f->head + f->head_n, sizeof f->head - f->head_n);
        if (k < 0 && errno == EINTR && !csvi_interrupted())
            continue;
        if (k <= 0)
            break; /* the end, an interrupt, or an error the next read meets again */
        f->head_n += (size_t)k;
    }
    enum decomp_kind kind = decomp_detect(f->head, f->head_n);
    if (kind == DECOMP_NONE)
        return split_big_file(p, f, fd, NULL);
    size_t n = f->head_n;
    f->head_n = 0; /* the decoder has them */
    return split_compressed(p, f, fd, kind, f->head, n);
}

/* Split one file of more than a chunk: a stream if its first bytes say gzip/zstd. */
static int split_file(struct pipeline *p, struct pipe_file *f, int fd)
{
    uint8_t magic[4];
    ssize_t k = pread(fd, magic, sizeof magic, 0);
    enum decomp_kind kind = k > 0 ? decomp_detect(magic, (size_t)k) : DECOMP_NONE;
    return kind != DECOMP_NONE ? split_compressed(p, f, fd, kind, NULL, 0)
                               : split_big_file(p, f, fd, NULL);
}

/* Files of at most one chunk, up to SMALL_BATCH of them with reads in
 * flight together; each becomes one slice whose worker makes its plan
 * (a gzip/zstd one, seen by its first bytes, goes through split_compressed). */
static int split_small_files(struct pipeline *p, struct pipe_file **fs, const int *fds, size_t n)
{
    struct pbuf *bufs[SMALL_BATCH];
    struct read_req r[SMALL_BATCH];
    for (size_t i = 0; i < n; i++) {
        bufs[i] = pool_get(p);
        r[i] = (struct read_req){fds[i], bufs[i]->data, (size_t)fs[i]->size, 0, 0};
    }
    int rc = read_batch(p, r, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        struct pipe_file *f = fs[i];
        if (rc || r[i].res < 0) {
            file_read_error(f, rc ? rc : r[i].res);
            tqueue_push(&p->pool, bufs[i]);
            continue;
        }
        size_t len = (size_t)r[i].res, start = 0;
        enum decomp_kind kind = decomp_detect(bufs[i]->data, len);
        if (kind != DECOMP_NONE) {
            tqueue_push(&p->pool, bufs[i]);
            int d = split_compressed(p, f, fds[i], kind, NULL, 0);
            if (d)
                rc = d; /* (the files after it still give their buffers back) */
            continue;
        }
        if (len >= 3 && memcmp(bufs[i]->data, "\xEF\xBB\xBF", 3) == 0) {
            f->res->dialect.bom = true;
            start = 3;
        }
        check_changed(f, fds[i], f->res->path);
        if (p->digest_on && digest_init(&f->dg) == 0) {
            digest_update(&f->dg, bufs[i]->data, len);
            digest_final(&f->dg, f->digest);
            digest_free(&f->dg);
        }
        int d = dispatch(p, f, bufs[i], start, len - start, 1, true, true, true, false, true);
        if (d)
            rc = d;
    }
    return rc;
}

static int pipeline_start(struct pipeline *p, const struct engine_cfg *cfg, struct reader *rd,
                          struct cache *cache, csvi_engine *e)
{
    const struct csvi_options *opt = &cfg->opt;
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->rd = rd;
    p->eng = e;
    p->digest_on = e && e->ledger;
    p->trust = cache && opt->trust_mtime;
    p->trust_append = p->trust && opt->trust_append && e;
    p->digest_big = p->digest_on && opt->chunk_size % BLOCK == 0;
    if (pcache_init(&p->pc, cache, cfg))
        return -ENOMEM;
    p->chunk = opt->chunk_size;
    p->max_blocks = (p->chunk + BLOCK - 1) / BLOCK;
    p->nworkers = opt->threads;
    size_t nbuf = 2 * (size_t)p->nworkers + 2; /* 64 MiB + 2 x threads x chunk budget */
    p->batch = nbuf - 2 < SMALL_BATCH ? nbuf - 2 : SMALL_BATCH;
    p->window = 4 * (size_t)p->nworkers + nbuf + 4;
    if (tqueue_init(&p->work, nbuf) || tqueue_init(&p->done, p->window) ||
        tqueue_init(&p->pool, nbuf))
        return -ENOMEM;
    tsem_init(&p->inflight, (long)p->window);
    for (size_t i = 0; i < nbuf; i++) {
        struct pbuf *b = malloc(sizeof *b);
        size_t cap = p->chunk + 4096;
        if (!b || !(b->data = malloc(cap))) {
            free(b);
            return -ENOMEM;
        }
        b->cap = cap;
        b->nb = 0;
        b->bq = calloc(p->max_blocks + 1, sizeof *b->bq);
        b->bn = calloc(p->max_blocks + 1, sizeof *b->bn);
        bool hash = cache || p->digest_big; /* block hashes: cache keys, digests */
        b->bh = hash ? calloc(p->max_blocks + 1, sizeof *b->bh) : NULL;
        b->nbh = 0;
        if (!b->bq || !b->bn || (hash && !b->bh)) {
            free(b->bq);
            free(b->bn);
            free(b->bh);
            free(b->data);
            free(b);
            return -ENOMEM;
        }
        atomic_init(&b->refs, 0);
        tqueue_push(&p->pool, b);
    }
    p->workers = calloc(p->nworkers, sizeof *p->workers);
    if (!p->workers)
        return -ENOMEM;
    for (unsigned i = 0; i < p->nworkers; i++, p->started++)
        if (pthread_create(&p->workers[i], NULL, worker_main, p))
            return -EAGAIN;
    if (pthread_create(&p->merger, NULL, merger_main, p))
        return -EAGAIN;
    p->merger_started = true;
    return 0;
}

static void pipeline_stop(struct pipeline *p)
{
    /* also after a failed pipeline_start: only what was made is joined */
    tqueue_close(&p->work);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
    tqueue_close(&p->done);
    if (p->merger_started)
        pthread_join(p->merger, NULL);
    struct pbuf *b;
    tqueue_close(&p->pool);
    while ((b = tqueue_pop(&p->pool)) != NULL) {
        free(b->data);
        free(b->bq);
        free(b->bn);
        free(b->bh);
        free(b);
    }
    pcache_free(&p->pc);
    if (p->pc.cache)
        cache_flush(p->pc.cache); /* what the merger had not written yet */
    free(p->workers);
    tqueue_destroy(&p->work);
    tqueue_destroy(&p->done);
    tqueue_destroy(&p->pool);
    tsem_destroy(&p->inflight);
}

/* --trust-append: the record of this file (same device and inode) as the
 * ledger's last complete run saw it, if the file only grew since: 1 and rs
 * filled (its plan in f->plan, bytes/compression/digest in f->res reset),
 * 0 if there is none that fits, -ENOMEM. */
static int resume_lookup(struct pipeline *p, struct pipe_file *f, struct resume *rs)
{
    memset(rs, 0, sizeof *rs);
    uint64_t old_size;
    int64_t mt;
    if (!run_previous_identity(p->eng, f->res->path, &old_size, &mt) || old_size >= f->size)
        return 0;
    struct cache_key key = pcache_trust_key(&p->pc, (uint64_t)f->st0.st_dev,
                                            (uint64_t)f->st0.st_ino, old_size,
                                            mt / 1000000000, mt % 1000000000);
    uint8_t *val;
    size_t vlen;
    if (cache_get(p->pc.cache, key, &val, &vlen) != 1)
        return 0;
    size_t nu;
    f->plan.cfg = p->cfg;
    int d = pcache_trust_decode(val, vlen, &f->plan, f->res, &rs->units, &rs->lines, &nu, &rs->app);
    free(val);
    if (d)
        return d == -ENOMEM ? d : 0;
    f->res->bytes = f->size; /* the record's are the old file's */
    f->res->digest[0] = '\0';
    bool fits = !f->res->compression && rs->app.set &&
                rs->app.chunk == p->chunk && rs->app.units <= nu && rs->app.off <= old_size &&
                rs->app.tail_len <= old_size;
    for (size_t u = fits ? rs->app.units : 0; u < nu; u++) /* the old last slice's: not used */
        slice_verdict_free(&rs->units[u]);
    rs->old_size = old_size;
    if (!fits) {
        rs->app.units = 0;
        free(rs->units);
        free(rs->lines);
        rs->units = NULL;
        rs->lines = NULL;
        file_plan_free(&f->plan);
        f->res->dialect.bom = false;
        f->res->has_dialect = false;
        return 0;
    }
    return 1;
}

static void resume_free(struct resume *rs)
{
    for (size_t u = 0; u < rs->app.units; u++) /* not dispatched */
        slice_verdict_free(&rs->units[u]);
    free(rs->units);
    free(rs->lines);
}

/* Open a file for the splitter: fd and size, or an error in its result. */
static int open_item(const struct pipeline_item *it, uint64_t *size, struct stat *st0)
{
    int fd = open(it->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        result_add_error(it->res, 0,
                         err == ENOENT || err == ENOTDIR ? CSVI_EK_NOT_FOUND : CSVI_EK_OPEN_FAILED,
                         "cannot open: %s", strerror(err));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        result_add_error(it->res, 0, CSVI_EK_NOT_REGULAR, "not a regular file; skipped");
        close(fd);
        return -1;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *size = (uint64_t)sb.st_size;
    *st0 = sb;
    return fd;
}

enum csvi_status pipeline_run(const struct engine_cfg *cfg, struct reader *rd, struct cache *cache,
                              csvi_engine *e, const struct pipeline_item *items, size_t n)
{
    struct pipeline p;
    struct pipe_file *files = calloc(n ? n : 1, sizeof *files);
    if (!files)
        return CSVI_ERR_NOMEM;
    int rc = pipeline_start(&p, cfg, rd, cache, e);
    size_t i = 0;
    while (i < n && rc == 0 && !csvi_interrupted()) {
        struct pipe_file *batch[SMALL_BATCH];
        int bfds[SMALL_BATCH];
        size_t k = 0;
        /* gather small files (one chunk or less) until a big one or the batch is full */
        while (i < n && k < p.batch && !csvi_interrupted()) {
            struct pipe_file *f = &files[i];
            f->res = items[i].res;
            f->t0 = now_seconds();
            if (items[i].stream) { /* stdin or a FIFO, after the small files before it */
                if (k)
                    rc = split_small_files(&p, batch, bfds, k);
                for (size_t m = 0; m < k; m++)
                    close(bfds[m]);
                k = 0;
                bool is_stdin = strcmp(items[i].path, "-") == 0;
                int fd = is_stdin ? STDIN_FILENO : open(items[i].path, O_RDONLY | O_CLOEXEC);
                i++;
                if (fd < 0) {
                    result_add_error(f->res, 0, errno == ENOENT ? CSVI_EK_NOT_FOUND : CSVI_EK_OPEN_FAILED,
                                     "cannot open: %s", strerror(errno));
                    f->res->seconds = now_seconds() - f->t0;
                    continue;
                }
                if (rc == 0)
                    rc = split_pipe(&p, f, fd);
                if (!is_stdin)
                    close(fd);
                if (rc)
                    break;
                continue;
            }
            int fd = open_item(&items[i], &f->size, &f->st0);
            i++;
            if (fd < 0) {
                f->res->seconds = now_seconds() - f->t0;
                continue;
            }
            f->res->bytes = f->size;
            if (p.trust) { /* --trust-mtime: a file seen as it is needs no reading */
                f->trust_key = pcache_trust_key(&p.pc, (uint64_t)f->st0.st_dev,
                                                (uint64_t)f->st0.st_ino, f->size,
                                                (int64_t)f->st0.st_mtim.tv_sec,
                                                (int64_t)f->st0.st_mtim.tv_nsec);
                uint8_t *val;
                size_t vlen;
                if (cache_get(p.pc.cache, f->trust_key, &val, &vlen) == 1) {
                    struct slice_verdict *units;
                    uint64_t *lines;
                    size_t nu;
                    f->plan.cfg = cfg;
                    struct trust_append app;
                    int d = pcache_trust_decode(val, vlen, &f->plan, f->res, &units, &lines, &nu,
                                                &app);
                    free(val);
                    if (d == 0) {
                        memcpy(f->digest, f->res->digest, sizeof f->digest); /* the merger sets it */
                        if (k) /* file order: the small ones before it go first */
                            rc = split_small_files(&p, batch, bfds, k);
                        for (size_t m = 0; m < k; m++)
                            close(bfds[m]);
                        k = 0;
                        if (rc == 0)
                            rc = dispatch_hit(&p, f, units, lines, nu, (size_t)f->res->bytes,
                                              true, true, true);
                        else
                            for (size_t u = 0; u < nu; u++)
                                slice_verdict_free(&units[u]);
                        free(units);
                        free(lines);
                        close(fd);
                        if (rc)
                            break;
                        continue;
                    }
                    if (d == -ENOMEM) {
                        close(fd);
                        rc = d;
                        break;
                    }
                }
                f->trust_record = true; /* read it, and record it whole */
                struct resume rs;
                int r1 = p.trust_append && f->size > p.chunk ? resume_lookup(&p, f, &rs) : 0;
                if (r1 == 1) { /* --trust-append: it grew; read on from its old last slice */
                    if (k) /* file order: the small ones before it go first */
                        rc = split_small_files(&p, batch, bfds, k);
                    for (size_t m = 0; m < k; m++)
                        close(bfds[m]);
                    k = 0;
                    r1 = rc ? rc : split_big_file(&p, f, fd, &rs);
                    resume_free(&rs);
                    if (r1 == 1) { /* it did not fit after all: read it whole */
                        file_plan_free(&f->plan);
                        f->res->dialect.bom = false;
                        f->res->has_dialect = false;
                        r1 = 0;
                    } else {
                        close(fd);
                        rc = r1;
                        if (rc)
                            break;
                        continue;
                    }
                }
                if (r1 < 0) {
                    close(fd);
                    rc = r1;
                    break;
                }
            }
            if (f->size == 0) { /* nothing to read: a job with no bytes */
                close(fd);
                if (p.digest_on && digest_init(&f->dg) == 0) {
                    digest_final(&f->dg, f->digest);
                    digest_free(&f->dg);
                }
                rc = dispatch(&p, f, pool_get(&p), 0, 0, 1, true, true, true, false, true);
                if (rc)
                    break;
                continue;
            }
            if (f->size <= p.chunk) {
                batch[k] = f;
                bfds[k++] = fd;
                continue;
            }
            if (k) /* keep file order: the small ones before it go first */
                rc = split_small_files(&p, batch, bfds, k);
            for (size_t m = 0; m < k; m++)
                close(bfds[m]);
            k = 0;
            if (rc == 0)
                rc = split_file(&p, f, fd);
            close(fd);
            if (rc)
                break;
        }
        if (k && rc == 0)
            rc = split_small_files(&p, batch, bfds, k);
        for (size_t m = 0; m < k; m++)
            close(bfds[m]);
    }
    pipeline_stop(&p);
    bool failed = rc != 0 || atomic_load(&p.failed);
    for (size_t m = 0; m < n; m++) {
        file_plan_free(&files[m].plan);
        free(files[m].changed); /* a file whose last job never reached the merger */
        free(files[m].trust_head.data);
        free(files[m].trust_units.data);
        digest_free(&files[m].dg);
    }
    free(files);
    return failed ? CSVI_ERR_NOMEM : CSVI_OK;
}
