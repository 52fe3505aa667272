/*
 * test_walk.c — slice_infer's record walk over the structural index
 * (engine/scan_index.c, slice_walk in engine/slice.c) against the reference
 * it replaced: scan_buffer delivering each record to on_record
 * (slice_set_walk(false)).  The two must give the same partial verdict,
 * byte for byte as the cache stores it (codec_put_unit: rows, columns with
 * their facts, errors with lines and messages, blank lines at the edges,
 * the first NUL / bad UTF-8 / bare CR / "\." / CRLF / LF lines, bytes and
 * lines consumed), on:
 *   - byte soup from the structural alphabet (delimiters, quotes, CR, LF,
 *     backslash, dot, NUL, UTF-8 and a stray 0xFF), short and across the
 *     walk's 16 KiB windows;
 *   - CSV-like records: right and wrong widths, blank lines, CRLF and LF,
 *     quoted fields holding delimiters, quotes, CR and LF, "\." lines,
 *     values of every shape the column loops take, fields of kilobytes;
 * with plans of 0..6 columns, ',' or ';', quote '"' or none, strict and
 * tolerant thresholds, with and without a header pending, eof or not,
 * truncated or not, any first line; under each mask kernel the CPU has (the
 * index follows it: scalar, POPCNT/BMI, AVX-512).
 * And the index itself: the AVX-512 one (when the CPU has it) and the
 * scalar one give the same arrays, window by window, on the same inputs.
 */
#include "internal.h"
#include "verdict_codec.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const void *s, size_t n)
{
    if (!n)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static void soup(struct buf *b, size_t n, uint8_t delim)
{
    static const char alpha[] = "aa11 .\\\"\"\n\n\r,;";
    uint64_t dense = 20 + rnd() % 75; /* up to 19 % .. 94 % delimiters: blocks of 64 field ends */
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd() % 100;
        uint8_t c = r < 2    ? 0
                    : r < 4  ? 0xFF
                    : r < 8  ? 0xC3
                    : r < 12 ? 0xA9
                    : r < dense ? delim
                             : (uint8_t)alpha[rnd() % (sizeof alpha - 1)];
        put(b, &c, 1);
    }
}

static const char *const values[] = {
    "1", "42", "-7", "32767", "9223372036854775808", "1.5", "-0.25", "99999.99", "1e5",
    "2.5E-3", "2024-01-02", "2024-02-30", "2024-01-02 10:00:00", "2024-01-02T23:59:59",
    "123e4567-e89b-12d3-a456-426614174000", "true", "no", "hello", "h\xC3\xA9llo", "NULL",
    "", " x ", "\\.", "a\rb", "z"};

static void value(struct buf *b, uint8_t delim, uint8_t quote)
{
    uint64_t r = rnd() % 100;
    if (r < 2) { /* a long field */
        size_t n = 1000 + rnd() % 20000;
        for (size_t i = 0; i < n; i++)
            put(b, i % 7 ? "x" : "1", 1);
        return;
    }
    const char *v = values[rnd() % (sizeof values / sizeof *values)];
    if (quote && r < 30) {
        put(b, &quote, 1);
        puts_(b, v);
        uint64_t k = rnd() % 10;
        if (k == 0)
            put(b, &delim, 1);
        else if (k == 1)
            puts_(b, "\n");
        else if (k == 2)
            puts_(b, "\r\n");
        else if (k == 3)
            put(b, &quote, 1), put(b, &quote, 1);
        put(b, &quote, 1);
    } else {
        puts_(b, v);
    }
}

static void records(struct buf *b, size_t nrec, size_t ncols, uint8_t delim, uint8_t quote)
{
    bool crlf = rnd() % 3 == 0;
    for (size_t r = 0; r < nrec; r++) {
        uint64_t k = rnd() % 100;
        if (k < 3) { /* a blank line */
            puts_(b, crlf && rnd() % 2 ? "\r\n" : "\n");
            continue;
        }
        if (k < 4) {
            puts_(b, "\\.\n");
            continue;
        }
        size_t nf = k < 8 ? 1 + rnd() % (ncols + 2) : (ncols ? ncols : 1);
        for (size_t i = 0; i < nf; i++) {
            if (i)
                put(b, &delim, 1);
            value(b, delim, quote);
        }
        puts_(b, crlf || rnd() % 50 == 0 ? "\r\n" : "\n");
    }
    if (rnd() % 3 == 0 && b->n) /* no line end after the last record */
        b->n--;
}

static void encode(const struct slice_verdict *v, struct codec_buf *out)
{
    memset(out, 0, sizeof *out);
    codec_put_unit(out, v, 1, 1);
    cr_assert(!out->failed);
}

/* w: kept from round to round, as a worker keeps it from slice to slice
 * (other lengths, delimiters, quotes and kernels each time). */
static void compare(const struct file_plan *plan, const struct buf *b, int round,
                    struct slice_work *w)
{
    bool eof = rnd() % 4 != 0, truncated = !eof && rnd() % 4 == 0, header = rnd() % 3 == 0;
    uint64_t first = 1 + rnd() % 1000000;
    uint8_t *data = malloc(b->n + 1); /* exactly the bytes: reads past them are caught by ASan */
    cr_assert(data && slice_work_scratch(w, b->n + 1));
    if (b->n)
        memcpy(data, b->p, b->n);
    struct slice_verdict vw, vs;
    slice_set_walk(true);
    int rw = slice_infer(plan, data, b->n, eof, truncated, first, header, w, &vw);
    slice_set_walk(false);
    int rs = slice_infer(plan, data, b->n, eof, truncated, first, header, w, &vs);
    slice_set_walk(true);
    cr_assert_eq(rw, 0);
    cr_assert_eq(rs, 0);
    struct codec_buf ew, es;
    encode(&vw, &ew);
    encode(&vs, &es);
    if (ew.len != es.len || memcmp(ew.data, es.data, ew.len)) {
        FILE *f = fopen("/tmp/test_walk_failure.csv", "wb");
        if (f) {
            fwrite(b->p, 1, b->n, f);
            fclose(f);
        }
    }
    cr_assert(ew.len == es.len && !memcmp(ew.data, es.data, ew.len),
              "round %d: walk and scan_buffer differ (%zu bytes, %zu columns, delim '%c', "
              "quote %d, eof %d, truncated %d, header %d; rows %llu/%llu, consumed %zu/%zu, "
              "errors %zu/%zu; input in /tmp/test_walk_failure.csv)",
              round, b->n, plan->ncols, plan->delim, plan->quote, eof, truncated, header,
              (unsigned long long)vw.rows, (unsigned long long)vs.rows, vw.consumed,
              vs.consumed, vw.n_errors, vs.n_errors);
    free(ew.data);
    free(es.data);
    slice_verdict_free(&vw);
    slice_verdict_free(&vs);
    free(data);
}

static struct file_plan random_plan(struct engine_cfg *ec)
{
    static const char *const toks[] = {"NULL", "", "NA"};
    static const size_t lens[] = {4, 0, 2};
    csvi_options_init(&ec->opt);
    ec->opt.threshold = rnd() % 4 == 0 ? 0.9 : 1.0;
    ec->opt.max_record = rnd() % 4 == 0 ? 1 + rnd() % 200 : 64u << 20;
    classify_cfg_init(&ec->ccfg, toks, lens, 3, false, false);
    return (struct file_plan){.cfg = ec,
                              .delim = rnd() % 4 == 0 ? ';' : ',',
                              .quote = rnd() % 5 == 0 ? 0 : '"',
                              .ncols = rnd() % 7};
}

/* The mask kernels this CPU runs; round r uses kernels[r % n]. */
static split_masks_fn kernels[3];
static size_t n_kernels;

static void pick_kernels(void)
{
    n_kernels = 0;
    kernels[n_kernels++] = split_masks_scalar;
    if (split_have_avx2())
        kernels[n_kernels++] = split_masks_avx2;
    if (split_have_avx512bw())
        kernels[n_kernels++] = split_masks_avx512;
}

Test(walk, byte_soup_equals_scan_buffer)
{
    pick_kernels();
    struct slice_work w = {0};
    for (int round = 0; round < 3000; round++) {
        split_set_kernel(kernels[round % n_kernels]);
        struct engine_cfg ec;
        struct file_plan plan = random_plan(&ec);
        struct buf b = {0};
        size_t n = round % 50 == 0 ? 16000 + rnd() % 60000 : rnd() % 400;
        soup(&b, n, plan.delim);
        compare(&plan, &b, round, &w);
        free(b.p);
    }
    slice_work_free(&w);
}

Test(walk, records_equal_scan_buffer)
{
    pick_kernels();
    struct slice_work w = {0};
    for (int round = 0; round < 1500; round++) {
        split_set_kernel(kernels[round % n_kernels]);
        struct engine_cfg ec;
        struct file_plan plan = random_plan(&ec);
        struct buf b = {0};
        size_t nrec = round % 20 == 0 ? 2000 + rnd() % 3000 : rnd() % 60;
        records(&b, nrec, plan.ncols, plan.delim, plan.quote);
        compare(&plan, &b, round, &w);
        free(b.p);
    }
    slice_work_free(&w);
}

/* One index's arrays after each window, as a byte string to compare. */
static void index_all(const uint8_t *p, size_t n, uint8_t delim, uint8_t quote,
                      struct buf *out)
{
    struct scan_index ix;
    cr_assert_eq(scan_index_init(&ix, delim, quote, n), 0);
    size_t nblocks = (n + 63) / 64;
    for (unsigned w = 0; ix.block < nblocks; w++) {
        cr_assert_eq(scan_index_more(&ix, p, n), 0);
        put(out, &ix.np, sizeof ix.np);
        put(out, &ix.ne, sizeof ix.ne);
        put(out, &ix.nqn, sizeof ix.nqn);
        put(out, &ix.quotes, sizeof ix.quotes);
        put(out, &ix.inq, sizeof ix.inq);
        put(out, ix.pos - 1, (ix.np + 1) * sizeof *ix.pos);
        put(out, ix.qcum - 1, (ix.np + 1) * sizeof *ix.qcum);
        put(out, ix.ends, ix.ne * sizeof *ix.ends);
        put(out, ix.qnl, ix.nqn * sizeof *ix.qnl);
        /* the walk drops what it used: here, every other window, all records */
        if (ix.ne && w % 2)
            scan_index_drop(&ix, ix.ne, ix.nqn);
    }
    scan_index_free(&ix);
}

Test(walk, avx512_index_equals_scalar)
{
    if (!split_have_avx512bw() || !scan_index_have_avx512()) {
        cr_log_warn("no AVX-512 (VBMI2) here: only the portable index runs");
        return;
    }
    for (int round = 0; round < 2000; round++) {
        uint8_t delim = rnd() % 4 == 0 ? ';' : ',', quote = rnd() % 5 == 0 ? 0 : '"';
        struct buf in = {0}, a = {0}, b = {0};
        if (rnd() % 2)
            soup(&in, round % 40 == 0 ? 20000 + rnd() % 50000 : rnd() % 300, delim);
        else
            records(&in, round % 40 == 0 ? 3000 : rnd() % 30, 1 + rnd() % 40, delim, quote);
        uint8_t *data = malloc(in.n + 1); /* exactly the bytes, for ASan */
        cr_assert(data);
        if (in.n)
            memcpy(data, in.p, in.n);
        split_set_kernel(split_masks_scalar);
        index_all(data, in.n, delim, quote, &a);
        split_set_kernel(split_masks_avx512);
        index_all(data, in.n, delim, quote, &b);
        cr_assert(a.n == b.n && (a.n == 0 || !memcmp(a.p, b.p, a.n)),
                  "round %d: the AVX-512 index differs from the scalar one (%zu bytes in)",
                  round, in.n);
        free(data);
        free(in.p);
        free(a.p);
        free(b.p);
    }
}
