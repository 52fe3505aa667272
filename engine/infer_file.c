/*
 * infer_file.c — one file, start to end, single-threaded: read it through a
 * fixed buffer, sniff its dialect, scan its records, classify every field,
 * and turn every problem into an error with its physical line.
 *
 * Memory: one buffer of READ_UNIT bytes that grows only while a single
 * record does not fit (up to max_record), one scratch buffer of the same
 * size, and one column_state per column: nothing grows with the file.
 * Decisions about bad input are in docs/types.md and docs/cli.md.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_UNIT (256u * 1024u) /* small enough to stay in L2 while scanned */
#define SNIFF_BYTES (64u * 1024u)

struct file_ctx {
    const struct engine_cfg *cfg;
    struct csvi_file_result *res;
    uint8_t quote;
    bool header;          /* the first record is the header */
    bool started;         /* the first record has been seen */
    size_t ncols;
    struct column_state *cols;
    uint64_t blank_run, blank_line; /* blank lines not yet known to be trailing */
    uint8_t *scratch;     /* >= the longest field: unquoting */
    bool nomem;
};

static bool is_blank(const struct scan_field *f, size_t nf) { return nf == 1 && f[0].start == f[0].end; }

static bool start_columns(struct file_ctx *fc, const uint8_t *buf, const struct scan_field *f,
                          size_t nf)
{
    struct csvi_file_result *res = fc->res;
    bool tolerant = fc->cfg->opt.threshold < 1.0;
    fc->ncols = nf;
    fc->cols = calloc(nf, sizeof *fc->cols);
    res->columns = calloc(nf, sizeof *res->columns);
    if (!fc->cols || !res->columns)
        return false;
    res->n_columns = nf;
    for (size_t i = 0; i < nf; i++)
        column_init(&fc->cols[i], tolerant);
    /* names: the header's (trimmed), column_N where missing, name_2 for repeats */
    for (size_t i = 0; i < nf; i++) {
        char tmp[32];
        const char *name = NULL;
        size_t len = 0;
        if (fc->header) {
            bool quoted;
            const uint8_t *v = field_content(buf, &f[i], fc->quote, fc->scratch, &len, &quoted);
            while (len && (*v == ' ' || *v == '\t')) {
                v++;
                len--;
            }
            while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            name = (const char *)v;
        }
        if (len == 0) {
            len = (size_t)snprintf(tmp, sizeof tmp, "column_%zu", i + 1);
            name = tmp;
        }
        char *s = malloc(len + 24);
        if (!s)
            return false;
        memcpy(s, name, len);
        s[len] = '\0';
        for (unsigned k = 2;; k++) { /* make it distinct from the names before */
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(res->columns[j].name, s) == 0;
            if (!dup)
                break;
            snprintf(s + len, 24, "_%u", k);
        }
        res->columns[i].name = s;
    }
    return true;
}

/* Blank lines seen before a record: between records they are an error (or
 * null values of a one-column file); at the end of the file they are dropped. */
static void flush_blanks(struct file_ctx *fc)
{
    if (!fc->blank_run)
        return;
    if (fc->started && fc->ncols == 1) {
        struct field_class nul = {.types = CSVI_BIT(CSVI_TYPE_NULL)};
        for (uint64_t i = 0; i < fc->blank_run; i++)
            column_add(&fc->cols[0], &nul, NULL, 0, fc->blank_line + i);
        fc->res->rows += fc->blank_run;
    } else {
        result_add_error(fc->res, fc->blank_line, CSVI_EK_BLANK_LINE,
                         "blank line%s between records (%llu); not counted as a record, "
                         "and a database load would reject it",
                         fc->blank_run > 1 ? "s" : "", (unsigned long long)fc->blank_run);
    }
    fc->blank_run = 0;
}

static bool on_record(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                      uint64_t line)
{
    struct file_ctx *fc = ctx;
    if (is_blank(f, nf)) {
        if (fc->blank_run++ == 0)
            fc->blank_line = line;
        return true;
    }
    flush_blanks(fc);
    if (!fc->started) {
        fc->started = true;
        if (!start_columns(fc, buf, f, nf)) {
            fc->nomem = true;
            return false;
        }
        if (fc->header)
            return true;
    }
    struct csvi_file_result *res = fc->res;
    res->rows++;
    if (nf != fc->ncols) {
        result_add_error(res, line, CSVI_EK_RAGGED_ROW,
                         "expected %zu fields, found %zu; row not used for types", fc->ncols, nf);
    } else {
        const struct classify_cfg *cc = &fc->cfg->ccfg;
        for (size_t i = 0; i < nf; i++) {
            size_t len;
            bool quoted;
            const uint8_t *v = field_content(buf, &f[i], fc->quote, fc->scratch, &len, &quoted);
            struct field_class cl;
            classify_field(v, len, quoted, cc, &cl);
            column_add(&fc->cols[i], &cl, v, len, line);
        }
    }
    uint64_t limit = fc->cfg->opt.sample_rows;
    return !(limit && res->rows >= limit);
}

static uint64_t count_newlines(const uint8_t *p, size_t n)
{
    uint64_t k = 0;
    for (const uint8_t *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        k++;
    return k;
}

/* Encoding checks over a region of whole records starting at line `line`. */
struct enc_state {
    bool invalid_utf8, nul;
};

static void check_encoding(struct enc_state *es, struct csvi_file_result *res, const uint8_t *p,
                           size_t n, uint64_t line)
{
    if (!es->nul) {
        const uint8_t *z = memchr(p, 0, n);
        if (z) {
            es->nul = true;
            result_add_error(res, line + count_newlines(p, (size_t)(z - p)), CSVI_EK_NUL_BYTE,
                             "NUL byte (0x00) in the data; fields holding it are text and "
                             "the encoding is reported as binary");
        }
    }
    if (!es->invalid_utf8) {
        size_t off = utf8_first_invalid(p, n);
        if (off < n) {
            es->invalid_utf8 = true;
            result_add_error(res, line + count_newlines(p, off), CSVI_EK_INVALID_UTF8,
                             "bytes that are not valid UTF-8 (0x%02x); the file is not UTF-8 "
                             "(reported as latin-1): convert it or load it with that encoding",
                             p[off]);
        }
    }
}

/* read() until the buffer has `want` bytes or the input ends. */
static ssize_t fill(int fd, uint8_t *buf, size_t have, size_t want, bool *eof, uint64_t *total)
{
    while (have < want && !*eof) {
        ssize_t k = read(fd, buf + have, want - have);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0)
            *eof = true;
        have += (size_t)k;
        *total += (uint64_t)k;
    }
    return (ssize_t)have;
}

enum csvi_status infer_fd(const struct engine_cfg *cfg, int fd, struct csvi_file_result *res)
{
    const struct csvi_options *opt = &cfg->opt;
    /* A buffer never larger than max_record + 1: then every record longer than
     * max_record, and only those, fills it without ending. */
    size_t cap = opt->max_record < READ_UNIT ? opt->max_record + 1 : READ_UNIT;
    uint8_t *buf = malloc(cap);
    struct file_ctx fc = {.cfg = cfg, .res = res, .scratch = malloc(cap)};
    struct scanner sc = {0};
    enum csvi_status st = CSVI_OK;
    if (!buf || !fc.scratch) {
        st = CSVI_ERR_NOMEM;
        goto out;
    }
    bool eof = false;
    uint64_t total = 0;
    ssize_t got = fill(fd, buf, 0, cap, &eof, &total);
    if (got < 0) {
        result_add_error(res, 0, CSVI_EK_READ_FAILED, "read failed: %s", strerror((int)-got));
        goto out;
    }
    size_t have = (size_t)got, off = 0;
    res->has_dialect = true;
    if (have >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        res->dialect.bom = true;
        off = 3;
    }
    struct sniff_result sn;
    size_t sample = have - off < SNIFF_BYTES ? have - off : SNIFF_BYTES;
    if (sniff_dialect(buf + off, sample, eof && sample == have - off, opt, &cfg->ccfg, &sn)) {
        st = CSVI_ERR_NOMEM;
        goto out;
    }
    res->dialect.delimiter = (char)sn.delim;
    res->dialect.quote = (char)sn.quote;
    res->dialect.header = sn.header;
    res->dialect.crlf = sn.crlf;
    fc.quote = sn.quote;
    fc.header = sn.header;
    if (scanner_init(&sc, sn.delim, sn.quote)) {
        st = CSVI_ERR_NOMEM;
        goto out;
    }

    struct enc_state es = {0};
    uint64_t line = 1;
    for (;;) {
        struct scan_result r;
        if (scan_buffer(&sc, buf + off, have - off, eof, line, on_record, &fc, &r) || fc.nomem) {
            st = CSVI_ERR_NOMEM;
            goto out;
        }
        check_encoding(&es, res, buf + off, r.consumed, line);
        line += r.lines;
        off += r.consumed;
        if (r.stopped)
            break;
        if (eof) {
            if (r.unterminated)
                result_add_error(res, line, CSVI_EK_UNTERMINATED_QUOTE,
                                 "quoted field opened here is never closed before the end of "
                                 "the file; the record is not used");
            break;
        }
        /* keep the unfinished record, make room, read on */
        memmove(buf, buf + off, have - off);
        have -= off;
        off = 0;
        if (have == cap) {
            if (cap > opt->max_record) {
                result_add_error(res, line, CSVI_EK_RECORD_TOO_LONG,
                                 "record longer than --max-record (%zu bytes); rest of the file "
                                 "not read (raise --max-record, or check the quoting)",
                                 opt->max_record);
                break;
            }
            size_t ncap = cap * 2 > opt->max_record + 1 ? opt->max_record + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap), *ns = nb ? realloc(fc.scratch, ncap) : NULL;
            if (nb)
                buf = nb;
            if (!nb || !ns) {
                st = CSVI_ERR_NOMEM;
                goto out;
            }
            fc.scratch = ns;
            cap = ncap;
        }
        got = fill(fd, buf, have, cap, &eof, &total);
        if (got < 0) {
            result_add_error(res, line, CSVI_EK_READ_FAILED, "read failed: %s",
                             strerror((int)-got));
            break;
        }
        have = (size_t)got;
    }
    if (!fc.started && fc.blank_run)
        fc.blank_run = 0; /* a file of blank lines: nothing at all */
    struct stat sb; /* a file whose reading stopped early still has its size */
    res->bytes = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > total
                     ? (uint64_t)sb.st_size
                     : total;
    res->dialect.encoding = es.nul ? CSVI_ENC_BINARY
                            : es.invalid_utf8 ? CSVI_ENC_LATIN1
                                              : CSVI_ENC_UTF8;
    for (size_t i = 0; i < fc.ncols; i++)
        column_verdict(&fc.cols[i], opt->threshold, opt->dayfirst, &res->columns[i]);
    res->cache_slices = total ? 1 : 0; /* one slice per file until the parallel splitter */
out:
    if (fc.cols)
        for (size_t i = 0; i < fc.ncols; i++)
            column_free(&fc.cols[i]);
    free(fc.cols);
    scanner_free(&sc);
    free(fc.scratch);
    free(buf);
    return st;
}
