/*
 * pipeline_internal.h — what the parallel pipeline's files share: its
 * buffers, files, jobs and the pipeline itself (pipeline.c: the splitter,
 * workers and merger), the reading layer (pipeline_read.c: reads in flight,
 * counting and hashing blocks as they land, streams) and --trust-append
 * (pipeline_append.c).  Not part of the engine's interface.
 */
#ifndef CSVI_PIPELINE_INTERNAL_H
#define CSVI_PIPELINE_INTERNAL_H

#include "internal.h"
#include "digest.h"
#include "pipeline_cache.h"
#include "threading.h"
#include "../io/decompress.h"
#include "../io/stoppable.h"
#include "../io/reader.h"

#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>

#define BLOCK (256u * 1024u)   /* unit of reading: stays in L2 while counted */
#define SMALL_BATCH 8          /* small files with reads in flight together */
#define VERDICT_CAP (4u << 20) /* bytes of verdicts waiting to be merged before workers wait */
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
    size_t vbytes;             /* slice_verdict_bytes(&v), counted in pipeline.verdict_bytes */
};

/* One read of a batch. */
struct read_req {
    int fd;
    uint8_t *dst;
    size_t len;
    uint64_t off;
    int32_t res; /* OUT: bytes read, or -errno */
};

/* pipeline_helper.c: a thread copying the cached half of each chunk's blocks. */
#define HELPER_LEFT INT32_MIN /* a read_req's res: not copied, the splitter reads it */
#define HELPER_PROBE 8        /* after a chunk with a block left, chunks read alone */
struct read_helper {
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* the job, guarded by mu */
    struct read_req *r;
    size_t n;
    void (*done)(void *ctx, const struct read_req *req);
    void *ctx;
    bool has_job, quit;
    unsigned skip;             /* splitter only: chunks still to read without the helper */
    double cpu_ms;             /* the helper's CPU time, written as it exits (read after the join) */
};

struct pipeline {
    const struct engine_cfg *cfg;
    struct reader *rd;
    struct read_helper helper; /* started when there are two workers or more */
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
    /* CPU time per thread (CSVINFER_LOG=debug): each written by its own thread as it
     * exits and read after the joins; the splitter's counts from pipeline_start */
    atomic_uint worker_ids;
    double *worker_cpu_ms, merger_cpu_ms, splitter_cpu_ms;
    /* Verdicts inferred and not yet merged hold heap memory — a wide file's
     * tolerant value sets take megabytes a unit, and the merger is then the
     * slowest stage — so past verdict_cap bytes a worker waits before its next
     * job, unless that job is the one the merger needs next (it always runs:
     * no deadlock).  verdict_bytes: workers add, the merger subtracts;
     * merge_next: the merger's next gseq; mem_mu/mem_cv: the wait, mem_waiters
     * counted under mem_mu (read without it by the merger, seq_cst). */
    atomic_size_t verdict_bytes;
    atomic_uint_fast64_t merge_next;
    size_t verdict_cap;
    pthread_mutex_t mem_mu;
    pthread_cond_t mem_cv;
    atomic_uint mem_waiters;
};


/* --trust-append: a grown file's record, to go on from its old last slice. */
struct resume {
    struct trust_append app;
    uint64_t old_size;
    struct slice_verdict *units; /* the record's units before the last slice (moved) */
    uint64_t *lines;
};

/* ---- pipeline_read.c ---- */

/* Do the reads r[0, n), as many in flight as the ring takes, completions
 * reaped in batches; done(ctx, req) runs as each lands, while its bytes are
 * still in cache.  Returns 0, or the ring's own -errno (after draining what
 * was in flight, so no read outlives its buffer). */
int pipe_read_batch(struct reader *rd, struct read_req *r, size_t n,
                    void (*done)(void *ctx, const struct read_req *req), void *ctx);
/* Read file bytes [off, off + len) into dst, counting quotes and newlines
 * (per block into blocks, if not NULL; from the chunk's count record when
 * the cache has it), hashing blocks for the cache; a gzip/zstd file or a
 * pipe: the next len bytes of its stream.  Returns the bytes read or -errno. */
ssize_t pipe_read_counted(struct pipeline *p, struct pipe_file *f, int fd, uint8_t *dst,
                          size_t len, uint64_t off, uint8_t quote, uint64_t *quotes,
                          uint64_t *newlines, struct pbuf *blocks);
/* What a failed read says: a corrupt archive names what is wrong. */
const char *pipe_read_error_text(const struct pipe_file *f, int err);
/* A read that failed before the file had a plan (the splitter owns res then). */
void pipe_file_read_error(struct pipe_file *f, int err);
/* After its last read: did the file change since it was opened?  (f->changed) */
void pipe_check_changed(struct pipe_file *f, int fd, const char *path);

/* ---- pipeline_helper.c ---- */

/* Start the helper thread.  0, or -errno (no helper: the splitter reads alone). */
int read_helper_start(struct read_helper *h);
/* Give it the reads r[0, n): it copies each block that is wholly in the page
 * cache (preadv2 RWF_NOWAIT) and calls done(ctx, req) for it on its thread;
 * any other gets res = HELPER_LEFT. */
void read_helper_post(struct read_helper *h, struct read_req *r, size_t n,
                      void (*done)(void *ctx, const struct read_req *req), void *ctx);
/* Wait until the posted reads are done. */
void read_helper_wait(struct read_helper *h);
void read_helper_stop(struct read_helper *h); /* accepts one never started */

/* ---- pipeline_append.c (--trust-append) ---- */

/* Is the file's tail as it was: its old last app.tail_len bytes before old_size? */
bool pipe_tail_unchanged(int fd, const struct resume *rs);
/* The record of this file as the ledger's last complete run saw it, if the
 * file only grew since: 1 and rs filled, 0 if none fits, -ENOMEM. */
int pipe_resume_lookup(struct pipeline *p, struct pipe_file *f, struct resume *rs);
void pipe_resume_free(struct resume *rs);

#endif
