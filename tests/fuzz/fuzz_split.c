/*
 * fuzz_split.c — libFuzzer target for the structural scanner and the
 * splitter's helpers (scan.c, scan_avx2.c, split.c).
 *
 * Input: byte 0 picks the dialect and scan parameters, the rest is the
 * buffer.  scan_buffer runs with the scalar mask kernel and (when the CPU
 * has it) the AVX2 one; every record delivered (line, fields with start,
 * end, nquotes) and the scan_result must be identical — abort() otherwise.
 * Also checked: the documented invariants of the scan (field spans inside
 * the buffer and contiguous within a record, record lines and
 * scan_result.lines equal to the '\n' count before them, consumed <= len),
 * split_count scalar == AVX2 == a naive count, and split_next_record
 * returning SIZE_MAX or an offset <= len just past a '\n' outside quotes.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Delimiters the CLI accepts (never NUL, never '"') and quote choices; a
 * delimiter never equals a quote here (that dialect makes no sense). */
static const uint8_t DELIMS[] = {',', ';', '\t', '|', ' ', ':', '#', 'a'};
static const uint8_t QUOTES[] = {'"', '\'', 0, '"'};

struct rec_log {
    uint64_t *v; /* flattened: line, nfields, then start, end, nquotes per field */
    size_t n, cap;
    size_t records;
    size_t stop_after; /* return false after this many records (SIZE_MAX: never) */
    const uint8_t *buf;
    size_t len;
    uint8_t quote;
};

static void log_push(struct rec_log *l, uint64_t x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            abort();
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_split: %s\n", what);
    abort();
}

static bool on_record(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                      uint64_t line)
{
    struct rec_log *l = ctx;
    if (buf != l->buf)
        fail("callback got another buffer");
    if (nf == 0)
        fail("record with no field");
    log_push(l, line);
    log_push(l, nf);
    for (size_t i = 0; i < nf; i++) {
        if (f[i].start > f[i].end || f[i].end > l->len)
            fail("field span outside the buffer");
        if (i + 1 < nf && f[i + 1].start != f[i].end + 1)
            fail("fields of a record not separated by one delimiter");
        /* nquotes: quote bytes in [start, end) (the '\r' trim only removes a '\r') */
        if (l->quote != '\r') {
            uint32_t nq = 0;
            for (size_t k = f[i].start; k < f[i].end; k++)
                nq += l->quote && buf[k] == l->quote;
            if (nq != f[i].nquotes)
                fail("nquotes differs from the quote bytes in the field");
        }
        log_push(l, f[i].start);
        log_push(l, f[i].end);
        log_push(l, f[i].nquotes);
    }
    l->records++;
    return l->records < l->stop_after;
}

/* '\n' bytes before each offset of the current input: nl_before[i] = '\n' in buf[0, i) */
static uint64_t *nl_before;

static uint64_t nl_upto(size_t n) { return nl_before[n]; }

static void run_scan(split_masks_fn kernel, uint8_t delim, uint8_t quote, const uint8_t *buf,
                     size_t len, bool eof, uint64_t first_line, size_t stop_after,
                     struct rec_log *l, struct scan_result *res)
{
    struct scanner s;
    if (scanner_init(&s, delim, quote))
        abort();
    memset(l, 0, sizeof *l);
    l->stop_after = stop_after;
    l->buf = buf;
    l->len = len;
    l->quote = quote;
    split_set_kernel(kernel);
    if (scan_buffer(&s, buf, len, eof, first_line, on_record, l, res))
        abort(); /* -ENOMEM */
    scanner_free(&s);

    /* invariants of the result (internal.h) */
    if (res->consumed > len)
        fail("consumed > len");
    /* lines: '\n' bytes in [0, consumed), quoted ones in a last record
     * delivered at eof included (internal.h; found by this target, fixed in
     * scan.c by 6450fca) */
    if (res->lines != nl_upto(res->consumed))
        fail("scan_result.lines is not the '\\n' count of [0, consumed)");
    if (res->unterminated && (!eof || !quote))
        fail("unterminated without eof or without quoting");
    /* each record's line: first_line + the '\n' bytes before its first field */
    for (size_t i = 0; i < l->n;) {
        uint64_t line = l->v[i], nf = l->v[i + 1];
        uint64_t start = l->v[i + 2];
        if (line != first_line + nl_upto(start))
            fail("record line is not first_line + newlines before it");
        i += 2 + 3 * nf;
    }
}

static void compare_kernels(uint8_t delim, uint8_t quote, const uint8_t *buf, size_t len, bool eof,
                            uint64_t first_line, size_t stop_after)
{
    struct rec_log a, b;
    struct scan_result ra, rb;
    run_scan(split_masks_scalar, delim, quote, buf, len, eof, first_line, stop_after, &a, &ra);
    if (split_have_avx2()) {
        run_scan(split_masks_avx2, delim, quote, buf, len, eof, first_line, stop_after, &b, &rb);
        if (a.n != b.n || a.records != b.records ||
            (a.n && memcmp(a.v, b.v, a.n * sizeof *a.v) != 0))
            fail("records differ between the scalar and the AVX2 kernel");
        if (ra.consumed != rb.consumed || ra.lines != rb.lines || ra.stopped != rb.stopped ||
            ra.unterminated != rb.unterminated)
            fail("scan_result differs between the scalar and the AVX2 kernel");
        free(b.v);
    }
    free(a.v);
}

static void check_masks(const uint8_t *buf, size_t len, uint8_t quote, uint8_t delim)
{
    size_t nb = len / 64;
    if (!nb || !split_have_avx2())
        return;
    if (nb > 64)
        nb = 64;
    uint64_t q1[64], d1[64], n1[64], q2[64], d2[64], n2[64];
    split_masks_scalar(buf, nb, quote, delim, q1, d1, n1);
    split_masks_avx2(buf, nb, quote, delim, q2, d2, n2);
    if (memcmp(q1, q2, nb * 8) || memcmp(d1, d2, nb * 8) || memcmp(n1, n2, nb * 8))
        fail("split_masks_scalar and split_masks_avx2 differ");
}

static void check_count(const uint8_t *buf, size_t len, uint8_t quote)
{
    uint64_t q0 = 0, n0 = 0, q1, n1, q2, n2, q3, n3;
    for (size_t i = 0; i < len; i++) {
        q0 += quote && buf[i] == quote;
        n0 += buf[i] == '\n';
    }
    split_count_scalar(buf, len, quote, &q1, &n1);
    if (q1 != q0 || n1 != n0)
        fail("split_count_scalar differs from a naive count");
    if (split_have_avx2()) {
        split_count_avx2(buf, len, quote, &q2, &n2);
        if (q2 != q1 || n2 != n1)
            fail("split_count_avx2 differs from split_count_scalar");
    }
    split_count(buf, len, quote, &q3, &n3);
    if (q3 != q1 || n3 != n1)
        fail("split_count differs from split_count_scalar");
}

static void check_next_record(const uint8_t *buf, size_t len, uint8_t quote, bool inside)
{
    size_t r = split_next_record(buf, len, quote, inside);
    /* reference: first '\n' outside quotes */
    size_t want = SIZE_MAX;
    bool in = inside && quote;
    for (size_t i = 0; i < len; i++) {
        if (quote && buf[i] == quote) {
            in = !in;
        } else if (buf[i] == '\n' && !in) {
            want = i + 1;
            break;
        }
    }
    if (r != SIZE_MAX && (r > len || r == 0 || buf[r - 1] != '\n'))
        fail("split_next_record returned an offset not just past a newline in the buffer");
    if (r != want)
        fail("split_next_record differs from the reference");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    /* The buffer gets its own allocation of exactly len bytes, so ASan sees
     * any read past its end (data[0] is not a valid byte before it). */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, buf, len);
    nl_before = malloc((len + 1) * sizeof *nl_before);
    if (!nl_before)
        abort();
    nl_before[0] = 0;
    for (size_t i = 0; i < len; i++)
        nl_before[i + 1] = nl_before[i] + (copy[i] == '\n');

    uint8_t delim = DELIMS[ctl & 7];
    uint8_t quote = QUOTES[(ctl >> 3) & 3];
    bool eof = (ctl >> 5) & 1;
    uint64_t first_line = (ctl >> 6) & 1 ? 1 : 1000;
    /* stop early after the record number given by the last byte, sometimes */
    size_t stop_after = (ctl >> 7) & 1 && len ? (size_t)(copy[len - 1] & 7) + 1 : SIZE_MAX;

    compare_kernels(delim, quote, copy, len, eof, first_line, stop_after);
    /* the other eof setting, and the file's usual dialect, always */
    compare_kernels(delim, quote, copy, len, !eof, first_line, SIZE_MAX);
    if (delim != ',' || quote != '"')
        compare_kernels(',', '"', copy, len, true, 1, SIZE_MAX);

    check_masks(copy, len, quote, delim);
    check_count(copy, len, quote);
    check_count(copy, len, '"');
    check_next_record(copy, len, quote, false);
    check_next_record(copy, len, quote, true);
    check_next_record(copy, len, 0, false);
    free(nl_before);
    free(copy);
    return 0;
}
