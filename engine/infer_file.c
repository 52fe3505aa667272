/*
 * infer_file.c — the sequential engine: one file read through one buffer on
 * the calling thread.  It is the reference the parallel pipeline is tested
 * against, and the path for --sample-rows and for standard input and FIFOs
 * with --threads 1 --no-cache (a pipe's first bytes say if it is gzip/zstd).
 *
 * It runs the same steps as the pipeline — file_plan_init on the first
 * bytes, slice_infer on each run of whole records, file_merge_slice in
 * order — only its slices end wherever the buffer does.
 *
 * Memory: one buffer of READ_UNIT bytes that grows only while a single
 * record does not fit (up to max_record + 1), one scratch buffer of the same
 * size, and the column states: nothing grows with the file.
 */
#include "internal.h"
#include "digest.h"
#include "../io/decompress.h"
#include "../io/stoppable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_UNIT (256u * 1024u) /* small enough to stay in L2 while scanned */

/* Where the bytes come from: the fd itself, or a gzip/zstd stream on it. */
struct source {
    int fd;
    struct decomp *dc;         /* NULL: plain */
    struct content_digest *dg; /* plain bytes read are digested (NULL: not) */
    ssize_t err;               /* an error met after some bytes: given by the next fill */
    uint8_t head[4];           /* a plain pipe's first bytes, read to see what it is */
    size_t head_n, head_pos;
    bool pipe;                 /* a pipe/FIFO/stdin: reads a stop signal ends (stoppable.h) */
};

static ssize_t source_read(struct source *src, uint8_t *buf, size_t n)
{
    if (src->dc)
        return decomp_read(src->dc, buf, n);
    if (src->head_pos < src->head_n) {
        size_t k = src->head_n - src->head_pos < n ? src->head_n - src->head_pos : n;
        memcpy(buf, src->head + src->head_pos, k);
        src->head_pos += k;
        return (ssize_t)k;
    }
    ssize_t k = src->pipe ? read_stoppable(src->fd, buf, n, csvi_interrupted) : read(src->fd, buf, n);
    if (k < 0 && !src->pipe)
        k = -errno;
    if (k > 0 && src->dg)
        digest_update(src->dg, buf, (size_t)k);
    return k;
}

/* The message of a failed read (a corrupt archive says what is wrong). */
static const char *read_error(const struct source *src, ssize_t err)
{
    if (src->dc && err == -EBADMSG && decomp_error(src->dc)[0])
        return decomp_error(src->dc);
    return strerror((int)-err);
}

/* read() until the buffer has `want` bytes or the input ends.  An error
 * after some bytes came is kept for the next call, so the bytes before it
 * are inferred whatever the buffer size (the pipeline does the same). */
static ssize_t fill(struct source *src, uint8_t *buf, size_t have, size_t want, bool *eof,
                    uint64_t *total)
{
    size_t had = have;
    if (src->err) {
        ssize_t e = src->err;
        src->err = 0;
        return e;
    }
    while (have < want && !*eof) {
        if (csvi_interrupted()) { /* stop reading; the caller marks the file */
            *eof = true;
            break;
        }
        ssize_t k = source_read(src, buf + have, want - have);
        if (k < 0) {
            if (k == -EINTR && !csvi_interrupted())
                continue;
            if (k == -EINTR) { /* SIGINT/SIGTERM: treat as the end of input */
                *eof = true;
                break;
            }
            if (have > had) {
                src->err = k;
                break;
            }
            return k;
        }
        if (k == 0)
            *eof = true;
        have += (size_t)k;
        *total += (uint64_t)k;
    }
    return (ssize_t)have;
}

struct seq_state {
    uint8_t *buf;
    size_t cap;
    struct slice_work w; /* slice_infer's buffers, kept from read to read */
};

/* Double the buffer, up to max_record + 2 (a CRLF record of max_record bytes).
 * Returns 1 if it is already past that: the record in it is too long. */
static int grow(struct seq_state *s, size_t max_record)
{
    if (s->cap > max_record + 2)
        return 1;
    size_t ncap = s->cap * 2 > max_record + 3 ? max_record + 3 : s->cap * 2;
    uint8_t *nb = realloc(s->buf, ncap);
    if (!nb)
        return -ENOMEM;
    s->buf = nb;
    if (!slice_work_scratch(&s->w, ncap))
        return -ENOMEM;
    s->cap = ncap;
    return 0;
}

/* The length of the first `records` records of p[0, n) (which starts at a
 * record start), or n if it holds fewer whole ones.  Blank lines count as
 * records here, so a sample may take a few rounds to reach its rows. */
static size_t sample_cut(const uint8_t *p, size_t n, uint8_t quote, uint64_t records)
{
    size_t at = 0;
    for (uint64_t k = 0; k < records && at < n; k++) {
        size_t r = split_next_record(p + at, n - at, quote, false);
        if (r == SIZE_MAX)
            return n;
        at += r;
    }
    return at;
}

/* Line of the first record after leading blank lines (for an error about it). */
static uint64_t first_record_line(const uint8_t *p, size_t n)
{
    uint64_t line = 1;
    for (size_t i = 0; i < n && (p[i] == '\n' || p[i] == '\r'); i++)
        line += p[i] == '\n';
    return line;
}

size_t pipe_head_read(int fd, uint8_t *head, size_t cap)
{
    size_t n = 0;
    while (n < cap && !csvi_interrupted()) {
        ssize_t k = read_stoppable(fd, head + n, cap - n, csvi_interrupted);
        if (k <= 0)
            break; /* the end, an interrupt, or an error the next read meets again */
        n += (size_t)k;
    }
    return n;
}

enum csvi_status infer_fd(const struct engine_cfg *cfg, int fd, int compression,
                          struct content_digest *dg, struct csvi_file_result *res)
{
    const struct csvi_options *opt = &cfg->opt;
    struct source src = {fd, NULL, compression == DECOMP_NONE ? dg : NULL, 0, {0}, 0, 0,
                         compression == INFER_FD_DETECT};
    if (compression == INFER_FD_DETECT) {
        src.head_n = pipe_head_read(fd, src.head, sizeof src.head);
        compression = (int)decomp_detect(src.head, src.head_n);
        if (compression != DECOMP_NONE) {
            if (decomp_open_prefixed(fd, (enum decomp_kind)compression, src.head, src.head_n,
                                     &src.dc))
                return CSVI_ERR_NOMEM;
            decomp_set_stop(src.dc, csvi_interrupted); /* a pipe */
            src.head_n = 0; /* the decoder has them */
        }
    } else if (compression != DECOMP_NONE &&
               decomp_open(fd, (enum decomp_kind)compression, &src.dc)) {
        return CSVI_ERR_NOMEM;
    }
    res->compression = decomp_name((enum decomp_kind)compression);
    /* Records longer than max_record are caught by slice_infer when they fit
     * in the buffer, and by the buffer filling up once it is past max_record. */
    struct seq_state s = {.cap = READ_UNIT};
    struct file_plan plan = {0};
    struct file_merge m = {0};
    bool merging = false;
    enum csvi_status st = CSVI_OK;
    s.buf = malloc(s.cap);
    if (!s.buf || !slice_work_scratch(&s.w, s.cap)) {
        st = CSVI_ERR_NOMEM;
        goto out;
    }
    bool eof = false;
    uint64_t total = 0;
    ssize_t got = fill(&src, s.buf, 0, s.cap, &eof, &total);
    if (got < 0) {
        result_add_error(res, 0, CSVI_EK_READ_FAILED, "read failed: %s", read_error(&src, got));
        goto out;
    }
    size_t have = (size_t)got, off = 0;
    if (have >= 3 && memcmp(s.buf, "\xEF\xBB\xBF", 3) == 0) {
        res->dialect.bom = true;
        off = 3;
    }

    /* the plan needs the whole first record */
    ssize_t damaged = 0; /* a read failed before the sample was whole (a small damaged
                            archive): the bytes before it are the sample, the records
                            read whole the verdict, the error after them */
    for (;;) {
        int rc = file_plan_init(&plan, cfg, s.buf + off, have - off, eof || damaged, res);
        if (rc < 0) {
            st = CSVI_ERR_NOMEM;
            goto out;
        }
        if (rc == 0)
            break;
        if (have == s.cap) {
            int g = grow(&s, opt->max_record);
            if (g < 0) {
                st = CSVI_ERR_NOMEM;
                goto out;
            }
            if (g > 0) {
                result_add_error(res, first_record_line(s.buf + off, have - off),
                                 CSVI_EK_RECORD_TOO_LONG,
                                 "record longer than --max-record (%zu bytes); rest of the file "
                                 "not read (raise --max-record, or check the quoting)",
                                 opt->max_record);
                goto out;
            }
        }
        if (damaged) /* (the plan said "read more" though told the input ended) */
            break;
        got = fill(&src, s.buf, have, s.cap, &eof, &total);
        if (got < 0 && have > off) {
            damaged = got;
            continue;
        }
        if (got < 0) {
            result_add_error(res, 0, CSVI_EK_READ_FAILED, "read failed: %s", read_error(&src, got));
            goto out;
        }
        have = (size_t)got;
    }
    if (file_merge_init(&m, &plan, res)) {
        st = CSVI_ERR_NOMEM;
        goto out;
    }
    merging = true;

    uint64_t line = 1;
    bool header_pending = plan.header;
    bool truncated = false;
    for (;;) {
        struct slice_verdict v;
        size_t len = have - off;
        bool end = eof;
        if (opt->sample_rows && !truncated) { /* a sample: the records it still needs, no more */
            /* a one-column file's blank lines are rows (nulls) once a record
             * follows them: a sample that has them stops before that record */
            uint64_t pending = plan.ncols == 1 ? m.blank : 0;
            if (res->rows + pending >= opt->sample_rows)
                break;
            size_t cut = sample_cut(s.buf + off, len, plan.quote,
                                    opt->sample_rows - res->rows - pending +
                                        (header_pending ? 1 : 0));
            if (cut < len) {
                len = cut;
                end = false;
            }
        }
        if (slice_infer(&plan, s.buf + off, len, end, truncated, line, header_pending,
                        &s.w, &v)) {
            slice_verdict_free(&v);
            st = CSVI_ERR_NOMEM;
            goto out;
        }
        size_t consumed = v.consumed;
        line += v.lines;
        header_pending &= !v.header_taken;
        bool stop = v.stop;
        if (file_merge_slice(&m, &v)) {
            st = CSVI_ERR_NOMEM;
            goto out;
        }
        off += consumed;
        /* at the end of the input, stop once all is inferred — or nothing more
         * was (a sample's cut leaves records, read on while they go) */
        if (stop || (eof && (off >= have || consumed == 0)) || truncated || m.stopped)
            break;
        if (damaged) { /* the records read whole are in; the cut one is not used */
            result_add_error(res, line, CSVI_EK_READ_FAILED, "read failed: %s",
                             read_error(&src, damaged));
            break;
        }
        if (opt->sample_rows && res->rows >= opt->sample_rows)
            break;
        /* keep the unfinished record, make room, read on */
        memmove(s.buf, s.buf + off, have - off);
        have -= off;
        off = 0;
        if (have == s.cap) {
            int g = grow(&s, opt->max_record);
            if (g < 0) {
                st = CSVI_ERR_NOMEM;
                goto out;
            }
            truncated = g > 0; /* one record fills max_record + 1 bytes */
            if (truncated)
                continue;
        }
        got = fill(&src, s.buf, have, s.cap, &eof, &total);
        if (got < 0) {
            result_add_error(res, line, CSVI_EK_READ_FAILED, "read failed: %s",
                             read_error(&src, got));
            break;
        }
        have = (size_t)got;
    }
out:
    if (merging)
        file_merge_finish(&m, &plan);
    bool cr_only = plan.cr_only;
    file_plan_free(&plan);
    struct stat sb; /* a file whose reading stopped early still has its size */
    bool regular = !src.dc && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    res->bytes = cr_only && (src.pipe || src.dc) ? 0 /* a stream not read: how far it got is
                                                         not said (as the pipeline) */
                 : regular && (uint64_t)sb.st_size > total ? (uint64_t)sb.st_size
                                                           : total; /* compressed: the CSV in it */
    if (src.dg && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == total &&
        src.dg->total + src.dg->in_leaf == total)
        digest_final(src.dg, res->digest); /* read to its end: the digest is the file's */
    decomp_close(src.dc);
    res->cache_slices = res->bytes ? 1 : 0; /* one slice per file on this path */
    slice_work_free(&s.w);
    free(s.buf);
    return st;
}
