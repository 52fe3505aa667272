/*
 * fuzz_walk.c — libFuzzer target for slice_infer's walk over the structural
 * index (scan_index.c, slice_walk in slice.c) against scan_buffer +
 * on_record, the path it replaced and the reference (slice_set_walk).
 *
 * Input: byte 0 picks the plan and the call, the rest is the slice.  Both
 * paths infer it, under the mask kernel the byte picks (scalar, AVX2,
 * AVX-512 where the CPU has them: the index follows the kernel); their
 * return codes and partial verdicts as the cache encodes them
 * (codec_put_unit: rows, columns, errors with lines and messages, edge blank
 * lines, first NUL / bad UTF-8 / bare CR / "\." / CRLF / LF lines, bytes and
 * lines used) must be identical — abort() otherwise.  tests/test_walk.c does
 * the same on random inputs.
 *
 * Byte 0: bits 0-2 columns (0-6, 7: 1); bit 3 delimiter ';' (else ','); bit 4
 * no quote (else '"'); bit 5 tolerant (threshold 0.9); bit 6 max_record 40
 * (else 64 MiB); bit 7 header pending.  The rest of the input's length
 * picks eof (even) and truncated (length % 3 == 1, not eof); the first line
 * is 1 + length; the kernel is length % 3.
 */
#include "internal.h"
#include "verdict_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_walk: %s\n", what);
    abort();
}

static int infer(const struct file_plan *plan, const uint8_t *p, size_t n, bool eof,
                 bool truncated, bool header, bool walk, struct codec_buf *out)
{
    struct slice_work w = {0};
    if (!slice_work_scratch(&w, n + 1))
        fail("out of memory");
    struct slice_verdict v;
    slice_set_walk(walk);
    int rc = slice_infer(plan, p, n, eof, truncated, 1 + n, header, &w, &v);
    slice_set_walk(true);
    memset(out, 0, sizeof *out);
    if (rc == 0) {
        codec_put_unit(out, &v, 1 + n, 1 + n);
        slice_verdict_free(&v);
    }
    slice_work_free(&w);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t b = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    static const char *const toks[] = {"NULL", "", "NA"};
    static const size_t lens[] = {4, 0, 2};
    struct engine_cfg ec;
    memset(&ec, 0, sizeof ec);
    csvi_options_init(&ec.opt);
    ec.opt.threshold = (b & 0x20) ? 0.9 : 1.0;
    ec.opt.max_record = (b & 0x40) ? 40 : 64u << 20;
    classify_cfg_init(&ec.ccfg, toks, lens, 3, false, false);
    struct file_plan plan = {.cfg = &ec,
                             .delim = (b & 0x08) ? ';' : ',',
                             .quote = (b & 0x10) ? 0 : '"',
                             .ncols = (b & 7) == 7 ? 1 : (b & 7)};
    bool header = b & 0x80, eof = n % 2 == 0, truncated = !eof && n % 3 == 1;
    split_masks_fn kernels[3] = {split_masks_scalar, split_masks_scalar, split_masks_scalar};
    if (split_have_avx2())
        kernels[1] = split_masks_avx2;
    if (split_have_avx512bw())
        kernels[2] = split_masks_avx512;
    split_set_kernel(kernels[n % 3]);
    /* exactly the bytes: a read past them is ASan's */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        fail("out of memory");
    if (n)
        memcpy(copy, p, n);
    struct codec_buf w, s;
    int rw = infer(&plan, copy, n, eof, truncated, header, true, &w);
    int rs = infer(&plan, copy, n, eof, truncated, header, false, &s);
    if (rw != rs)
        fail("return codes differ");
    if (w.failed || s.failed)
        fail("out of memory encoding");
    if (w.len != s.len || (w.len && memcmp(w.data, s.data, w.len)))
        fail("the walk's verdict differs from scan_buffer + on_record's");
    free(w.data);
    free(s.data);
    free(copy);
    return 0;
}
