/*
 * pipeline.c — the parallel engine: reader/splitter -> worker pool -> merger.
 * (Its structures: pipeline_internal.h; the reading layer: pipeline_read.c;
 * --trust-append's lookup: pipeline_append.c; cache keys: pipeline_cache.c.)
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
 *   its reads in flight together.  With two workers or more a read helper
 *   thread (pipeline_helper.c) reads the odd blocks of each chunk alongside.
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
 *   pipe_file.changed, .read_err, .digest, .stream_bytes, .app: written by
 *                         the splitter before the file's last job is pushed,
 *                         read by the merger when it merges that job.
 *   pipeline.failed       atomic: out of memory anywhere.
 */
#include "pipeline_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- workers ----------------------------------------------------------- */

/* Wait while the verdicts waiting to be merged exceed verdict_cap, unless
 * gseq is the job the merger needs next. */
static void wait_for_verdict_room(struct pipeline *p, uint64_t gseq)
{
    if (atomic_load(&p->verdict_bytes) <= p->verdict_cap || gseq == atomic_load(&p->merge_next))
        return;
    pthread_mutex_lock(&p->mem_mu);
    atomic_fetch_add(&p->mem_waiters, 1);
    while (atomic_load(&p->verdict_bytes) > p->verdict_cap && gseq != atomic_load(&p->merge_next))
        pthread_cond_wait(&p->mem_cv, &p->mem_mu);
    atomic_fetch_sub(&p->mem_waiters, 1);
    pthread_mutex_unlock(&p->mem_mu);
}

/* The merger: verdict bytes merged (freed) and the next gseq it needs; wakes
 * waiting workers. */
static void verdict_room_made(struct pipeline *p, size_t freed, uint64_t next)
{
    atomic_fetch_sub(&p->verdict_bytes, freed);
    atomic_store(&p->merge_next, next);
    if (atomic_load(&p->mem_waiters)) {
        pthread_mutex_lock(&p->mem_mu);
        pthread_cond_broadcast(&p->mem_cv);
        pthread_mutex_unlock(&p->mem_mu);
    }
}

static void *worker_main(void *arg)
{
    struct pipeline *p = arg;
    struct slice_work w = {0}; /* kept from slice to slice */
    struct slice_job *j;
    while ((j = tqueue_pop(&p->work)) != NULL) {
        wait_for_verdict_room(p, j->gseq);
        const uint8_t *data = j->buf->data + j->start;
        j->rc = slice_work_scratch(&w, j->len + 1) ? 0 : -ENOMEM;
        if (j->rc == 0 && j->make_plan) {
            int rc = file_plan_init(&j->file->plan, p->cfg, data, j->len, j->eof, j->file->res);
            j->rc = rc < 0 ? rc : 0;
        }
        memset(&j->v, 0, sizeof j->v);
        if (j->rc == 0)
            j->rc = slice_infer(&j->file->plan, data, j->len, j->eof, j->truncated, j->first_line,
                                j->header_pending && j->file->plan.header, &w, &j->v);
        if (atomic_fetch_sub(&j->buf->refs, 1) == 1)
            tqueue_push(&p->pool, j->buf);
        j->buf = NULL;
        j->vbytes = slice_verdict_bytes(&j->v);
        atomic_fetch_add(&p->verdict_bytes, j->vbytes);
        tqueue_push(&p->done, j);
    }
    slice_work_free(&w);
    unsigned me = atomic_fetch_add(&p->worker_ids, 1);
    if (p->worker_cpu_ms && me < p->nworkers)
        p->worker_cpu_ms[me] = thread_cpu_ms(); /* (own slot; read after pthread_join) */
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
    if (file_merge_slice(&f->merge, &j->v))
        atomic_store(&p->failed, true);
    if (j->last) {
        memcpy(f->res->digest, f->digest, sizeof f->digest);
        if (f->compression || f->pipe)
            f->res->bytes = f->stream_bytes;
        if (f->read_err) { /* as the sequential engine: after the records read whole */
            result_add_error(f->res, end_line, CSVI_EK_READ_FAILED, "%s", f->read_err);
            free(f->read_err);
            f->read_err = NULL;
        }
        bool whole = !f->changed && !f->res->interrupted && file_plan_cacheable(&f->plan);
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
            size_t freed = j->vbytes;
            slice_verdict_free(&j->v);
            free(j);
            tsem_post(&p->inflight);
            verdict_room_made(p, freed, ++next); /* (next only wakes workers here) */
            continue;
        }
        window[j->gseq % p->window] = j;
        size_t freed = 0;
        while ((j = window[next % p->window]) != NULL && j->gseq == next) {
            window[next % p->window] = NULL;
            next++;
            freed += j->vbytes;
            merge_one(p, j);
            free(j);
            tsem_post(&p->inflight);
        }
        if (freed || atomic_load(&p->merge_next) != next)
            verdict_room_made(p, freed, next);
        if (p->pc.cache && cache_pending(p->pc.cache) >= CACHE_BATCH)
            cache_flush(p->pc.cache); /* batched appends, off the workers' path */
    }
    free(window);
    p->merger_cpu_ms = thread_cpu_ms(); /* (read after pthread_join) */
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
        /* the first record start after m is at: after any later boundary
         * (all before at, inside the same record) it is at again, so a
         * record reaching the end leaves no cut to find (searching again
         * from each boundary rescanned the rest of a record longer than a
         * unit once a unit: quadratic) */
        if (at >= end)
            break;
        if (at <= cuts[n - 1])
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
    bool failed = false; /* a read failed: the records read whole are the verdict */
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
        got = pipe_tail_unchanged(fd, rs)
                  ? pipe_read_counted(p, f, fd, cur->data, want, cur_off, quote, &q, &nl, cur)
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
    got = pipe_read_counted(p, f, fd, cur->data, C, 0, 0, &q, &nl, NULL);
    if (got < 0) {
        pipe_file_read_error(f, (int)got);
        tqueue_push(&p->pool, cur);
        if (f->dc || f->pipe)
            f->res->bytes = 0; /* no CSV came out of it */
        return 0;
    }
    cur_len = (size_t)got;
    cur_start = 0;
    raw_end = (uint64_t)got;
    bool bom_checked = false, plan_failed = false;
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
        /* read as much again as there is (whole chunks: raw_end stays at a
         * chunk edge), up to what passes --max-record: each try rescans the
         * bytes read, so a sample or first record of many chunks costs a
         * few passes, not one a chunk */
        size_t step = cur_len > C ? cur_len / C * C : C;
        size_t room = opt->max_record + 3 > cur_len ? opt->max_record + 3 - cur_len : 0;
        if (step > room)
            step = room > C ? (room + C - 1) / C * C : C;
        size_t want = S - raw_end < step ? (size_t)(S - raw_end) : step;
        if (pbuf_reserve(cur, cur_len + want))
            return -ENOMEM;
        got = pipe_read_counted(p, f, fd, cur->data + cur_len, want, raw_end, 0, &q, &nl, NULL);
        if (got < 0 && cur_len > cur_start) { /* damaged before the sample was whole (a small
            archive): what was read is the sample, the records read whole the verdict, the
            error after them (as sequentially) */
            f->read_err = error_format("read failed: %s", pipe_read_error_text(f, (int)got));
            plan_failed = true;
            S = raw_end;
            continue;
        }
        if (got < 0) { /* no plan yet: an error of the file, no verdict (as sequentially) */
            pipe_file_read_error(f, (int)got);
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
    if (f->plan.cr_only) { /* not read: the plan put the error in the result */
        tqueue_push(&p->pool, cur);
        if (f->dc || f->pipe)
            f->res->bytes = 0; /* (how far it got depends on the chunk size: not said) */
        f->res->seconds = now_seconds() - f->t0;
        return 0;
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

    failed = plan_failed;
split:;
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
                pipe_check_changed(f, fd, f->res->path);
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
        got = pipe_read_counted(p, f, fd, nxt->data, want, raw_end, quote, &q, &nl, nxt);
        if (got <= 0) { /* a read error, the end of a stream, or the file shrank under us */
            if (got < 0) {
                f->read_err = error_format("read failed: %s", pipe_read_error_text(f, (int)got));
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
    if (f->pipe)
        decomp_set_stop(f->dc, csvi_interrupted);
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
    f->head_n = pipe_head_read(fd, f->head, sizeof f->head);
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
    int rc = pipe_read_batch(p->rd, r, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        struct pipe_file *f = fs[i];
        if (rc || r[i].res < 0) {
            pipe_file_read_error(f, rc ? rc : r[i].res);
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
        pipe_check_changed(f, fds[i], f->res->path);
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
    atomic_init(&p->worker_ids, 0);
    atomic_init(&p->verdict_bytes, 0);
    atomic_init(&p->merge_next, 0);
    atomic_init(&p->mem_waiters, 0);
    pthread_mutex_init(&p->mem_mu, NULL);
    pthread_cond_init(&p->mem_cv, NULL);
    p->splitter_cpu_ms = thread_cpu_ms();
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
    p->verdict_cap = VERDICT_CAP;
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
    /* a second reading thread where there are cores for two workers: if it
     * cannot be had, the splitter reads alone, as before */
    if (p->nworkers >= 2)
        (void)read_helper_start(&p->helper);
    p->workers = calloc(p->nworkers, sizeof *p->workers);
    p->worker_cpu_ms = calloc(p->nworkers, sizeof *p->worker_cpu_ms); /* NULL: not logged */
    if (!p->workers)
        return -ENOMEM;
    for (unsigned i = 0; i < p->nworkers; i++, p->started++)
        if (thread_start(&p->workers[i], worker_main, p))
            return -EAGAIN;
    if (thread_start(&p->merger, merger_main, p))
        return -EAGAIN;
    p->merger_started = true;
    return 0;
}

/* CSVINFER_LOG=debug: the CPU time of each of the pipeline's threads, one line
 * (docs/performance.md: where a run's CPU goes beyond the sequential engine's). */
static void log_thread_cpu(const struct pipeline *p)
{
    const char *lv = getenv("CSVINFER_LOG");
    if (!lv || strcmp(lv, "debug") != 0 || !p->merger_started || !p->worker_cpu_ms)
        return;
    char workers[256] = "";
    size_t n = 0;
    for (unsigned i = 0; i < p->started && n < sizeof workers; i++)
        n += (size_t)snprintf(workers + n, sizeof workers - n, "%s%.1f", i ? "," : "",
                              p->worker_cpu_ms[i]);
    fprintf(stderr,
            "level=debug component=pipeline msg=\"thread cpu\" splitter_ms=%.1f helper_ms=%.1f "
            "workers_ms=%s merger_ms=%.1f\n",
            thread_cpu_ms() - p->splitter_cpu_ms, p->helper.cpu_ms, workers, p->merger_cpu_ms);
}

static void pipeline_stop(struct pipeline *p)
{
    /* also after a failed pipeline_start: only what was made is joined */
    read_helper_stop(&p->helper);
    tqueue_close(&p->work);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
    tqueue_close(&p->done);
    if (p->merger_started)
        pthread_join(p->merger, NULL);
    log_thread_cpu(p);
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
    free(p->worker_cpu_ms);
    tqueue_destroy(&p->work);
    tqueue_destroy(&p->done);
    tqueue_destroy(&p->pool);
    tsem_destroy(&p->inflight);
    pthread_cond_destroy(&p->mem_cv);
    pthread_mutex_destroy(&p->mem_mu);
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
                int fd = is_stdin ? STDIN_FILENO : open_stoppable(items[i].path, csvi_interrupted);
                i++;
                if (fd == -EINTR) {
                    f->res->interrupted = true; /* a signal while the FIFO waited for a writer */
                    f->res->seconds = now_seconds() - f->t0;
                    continue;
                }
                if (fd < 0) {
                    result_add_error(f->res, 0, fd == -ENOENT ? CSVI_EK_NOT_FOUND : CSVI_EK_OPEN_FAILED,
                                     "cannot open: %s", strerror(-fd));
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
                int r1 = p.trust_append && f->size > p.chunk ? pipe_resume_lookup(&p, f, &rs) : 0;
                if (r1 == 1) { /* --trust-append: it grew; read on from its old last slice */
                    if (k) /* file order: the small ones before it go first */
                        rc = split_small_files(&p, batch, bfds, k);
                    for (size_t m = 0; m < k; m++)
                        close(bfds[m]);
                    k = 0;
                    r1 = rc ? rc : split_big_file(&p, f, fd, &rs);
                    pipe_resume_free(&rs);
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
