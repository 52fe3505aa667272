/*
 * scan.c — the structural scanner: bytes -> records of field spans.
 *
 * Works 64 bytes at a time as in simdcsv: a mask kernel (scalar here, AVX2 in
 * scan_avx2.c, chosen once at run time) marks quote, delimiter and newline
 * bytes; the prefix-XOR of the quote mask marks the bytes inside quotes; the
 * delimiters and newlines outside quotes end fields.  A quote anywhere toggles
 * the quoted state, which is exactly how PostgreSQL's COPY ... CSV reads a
 * line, so record boundaries agree with what a database load will see.
 * The buffer handed in must start at a record start (quote state: outside).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_BATCH 64 /* blocks of 64 bytes per kernel call: 4 KiB */

static split_masks_fn scan_kernel; /* set once (first use) or by tests */

void split_set_kernel(split_masks_fn fn) { scan_kernel = fn; }

/* Chosen by split_select_kernels before any thread starts (csvi_engine_create);
 * single-threaded callers (tests) get it chosen on first use. */
static split_masks_fn kernel_get(void)
{
    if (!scan_kernel)
        scan_kernel = split_have_avx512bw() ? split_masks_avx512
                      : split_have_avx2()   ? split_masks_avx2
                                            : split_masks_scalar;
    return scan_kernel;
}

split_masks_fn split_masks_kernel(void) { return kernel_get(); }

void split_select_kernels(void)
{
    kernel_get();
    utf8_select_kernel();
    bytecheck_select_kernel();
    uint64_t q, n;
    split_count((const uint8_t *)"", 0, '"', &q, &n); /* picks the counting kernel */
}

void split_masks_scalar(const uint8_t *p, size_t nblocks, uint8_t quote, uint8_t delim,
                        uint64_t *qm, uint64_t *dm, uint64_t *nm)
{
    for (size_t b = 0; b < nblocks; b++, p += 64) {
        uint64_t q = 0, d = 0, n = 0;
        for (unsigned i = 0; i < 64; i++) {
            uint8_t c = p[i];
            q |= (uint64_t)(c == quote) << i;
            d |= (uint64_t)(c == delim) << i;
            n |= (uint64_t)(c == '\n') << i;
        }
        qm[b] = quote ? q : 0;
        dm[b] = d;
        nm[b] = n;
    }
}


int scanner_init(struct scanner *s, uint8_t delim, uint8_t quote)
{
    s->delim = delim;
    s->quote = quote;
    s->cap = 64;
    s->fields = malloc(s->cap * sizeof *s->fields);
    return s->fields ? 0 : -ENOMEM;
}

void scanner_free(struct scanner *s)
{
    free(s->fields);
    s->fields = NULL;
    s->cap = 0;
}

/* Room for `more` fields after the first nf (a block of 64 bytes ends at
 * most 64), so the per-field store needs no check. */
static int reserve_fields(struct scanner *s, size_t nf, size_t more)
{
    if (nf + more <= s->cap)
        return 0;
    size_t cap = s->cap * 2;
    while (cap < nf + more)
        cap *= 2;
    struct scan_field *f = realloc(s->fields, cap * sizeof *f);
    if (!f)
        return -ENOMEM;
    s->fields = f;
    s->cap = cap;
    return 0;
}

static int push_field(struct scanner *s, size_t *nf, size_t start, size_t end, uint32_t nq)
{
    if (reserve_fields(s, *nf, 1))
        return -ENOMEM;
    s->fields[(*nf)++] = (struct scan_field){start, end, nq};
    return 0;
}

/* The scan itself, inlined twice below: once for any x86-64 and once with
 * POPCNT/BMI (every AVX2 CPU has them).  Without -mpopcnt the compiler turns
 * __builtin_popcountll into a call to libgcc's __popcountdi2 per quoted field. */
static inline __attribute__((always_inline)) int
scan_body(struct scanner *s, split_masks_fn kernel, const uint8_t *buf, size_t len, bool eof,
          uint64_t first_line, scan_record_fn fn, void *ctx, struct scan_result *res)
{
    uint64_t qm[SCAN_BATCH], dm[SCAN_BATCH], nm[SCAN_BATCH];
    uint8_t pad[64];
    size_t nf = 0, rec_f0 = 0; /* next field; the record's first */
    size_t field_start = 0, rec_start = 0;
    uint64_t rec_line = first_line; /* physical line of rec_start */
    uint64_t inq_carry = 0;         /* all ones: inside quotes at block start */
    uint32_t q_carry = 0;           /* quotes of the current field, earlier blocks */
    uint64_t qnl_carry = 0;         /* quoted '\n' of the current record, earlier blocks */
    size_t nblocks = (len + 63) / 64;
    memset(res, 0, sizeof *res);

    for (size_t b0 = 0; b0 < nblocks; b0 += SCAN_BATCH) {
        size_t nb = nblocks - b0 < SCAN_BATCH ? nblocks - b0 : SCAN_BATCH;
        size_t base0 = b0 * 64;
        size_t full = (len - base0) / 64 < nb ? (len - base0) / 64 : nb;
        kernel(buf + base0, full, s->quote, s->delim, qm, dm, nm);
        if (full < nb) { /* the last, partial block: zero padding matches nothing */
            memset(pad, 0, sizeof pad);
            memcpy(pad, buf + base0 + full * 64, len - base0 - full * 64);
            kernel(pad, 1, s->quote, s->delim, qm + full, dm + full, nm + full);
        }
        for (size_t bi = 0; bi < nb; bi++) {
            size_t base = base0 + bi * 64;
            uint64_t q = qm[bi];
            uint64_t inq = (q ? prefix_xor(q) : 0) ^ inq_carry; /* most blocks: no quote */
            inq_carry = (uint64_t)((int64_t)inq >> 63);
            uint64_t st = (dm[bi] | nm[bi]) & ~inq;
            /* Quotes and quoted newlines are rare: count them only where present,
             * so the common block costs no population count at all. */
            uint64_t qrem = q;
            uint64_t qnl = nm[bi] & inq;
            if (st && reserve_fields(s, nf, 64))
                return -ENOMEM;
            struct scan_field *fields = s->fields;
            if (!q) { /* the common block: no quote, so no count to keep but the carry */
                uint64_t nl = nm[bi] & st; /* record ends (st excludes quoted bytes) */
                for (;;) {
                    /* the delimiters before the next record end: fields alone */
                    uint64_t before = nl ? (nl & (0 - nl)) - 1 : ~0ull;
                    uint64_t dl = st & before;
                    st &= ~before;
                    while (dl) {
                        size_t pos = base + (unsigned)__builtin_ctzll(dl);
                        dl &= dl - 1;
                        fields[nf++] = (struct scan_field){field_start, pos, q_carry};
                        q_carry = 0;
                        field_start = pos + 1;
                    }
                    if (!nl)
                        break;
                    size_t pos = base + (unsigned)__builtin_ctzll(nl);
                    nl &= nl - 1;
                    st &= st - 1; /* its lowest bit is this newline */
                    size_t end = pos;
                    if (end > field_start && buf[end - 1] == '\r')
                        end--;
                    fields[nf++] = (struct scan_field){field_start, end, q_carry};
                    q_carry = 0;
                    field_start = pos + 1;
                    uint64_t next_line = rec_line + 1 + qnl_carry;
                    qnl_carry = 0;
                    bool go_on = fn(ctx, buf, fields + rec_f0, nf - rec_f0, rec_line);
                    nf = rec_f0 = 0;
                    rec_start = pos + 1;
                    rec_line = next_line;
                    if (!go_on) {
                        res->consumed = rec_start;
                        res->lines = rec_line - first_line;
                        res->stopped = true;
                        return 0;
                    }
                }
                if (qnl) /* a block inside a quoted field: its newlines are quoted */
                    qnl_carry += (uint64_t)__builtin_popcountll(qnl);
                continue;
            }
            while (st) {
                unsigned bit = (unsigned)__builtin_ctzll(st);
                st &= st - 1;
                size_t pos = base + bit;
                uint64_t below = (1ull << bit) - 1;
                uint32_t nq = q_carry;
                if (qrem) {
                    nq += (uint32_t)__builtin_popcountll(qrem & below);
                    qrem &= ~below;
                }
                q_carry = 0;
                bool is_nl = (nm[bi] >> bit) & 1;
                size_t end = pos;
                if (is_nl && end > field_start && buf[end - 1] == '\r')
                    end--;
                fields[nf++] = (struct scan_field){field_start, end, nq};
                field_start = pos + 1;
                if (!is_nl)
                    continue;
                uint64_t next_line = rec_line + 1 + qnl_carry;
                qnl_carry = 0;
                if (qnl) {
                    next_line += (uint64_t)__builtin_popcountll(qnl & below);
                    qnl &= ~below;
                }
                bool go_on = fn(ctx, buf, fields + rec_f0, nf - rec_f0, rec_line);
                nf = rec_f0 = 0;
                rec_start = pos + 1;
                rec_line = next_line;
                if (!go_on) {
                    res->consumed = rec_start;
                    res->lines = rec_line - first_line;
                    res->stopped = true;
                    return 0;
                }
            }
            if (qrem)
                q_carry += (uint32_t)__builtin_popcountll(qrem);
            if (qnl)
                qnl_carry += (uint64_t)__builtin_popcountll(qnl);
        }
    }
    res->consumed = rec_start;
    res->lines = rec_line - first_line;
    if (!eof || rec_start >= len)
        return 0;
    /* the last record, without a newline after it: any '\n' in it is quoted */
    uint64_t tail_nl = split_count_newlines(buf + rec_start, len - rec_start);
    if (inq_carry) { /* eof inside quotes: the record never ended */
        res->unterminated = true;
        return 0;
    }
    size_t end = len;
    if (end > field_start && buf[end - 1] == '\r')
        end--;
    if (push_field(s, &nf, field_start, end, q_carry))
        return -ENOMEM;
    res->stopped = !fn(ctx, buf, s->fields + rec_f0, nf - rec_f0, rec_line);
    res->consumed = len;
    res->lines = rec_line - first_line + tail_nl;
    return 0;
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt,bmi"))) static int
scan_buffer_popcnt(struct scanner *s, split_masks_fn kernel, const uint8_t *buf, size_t len,
                   bool eof, uint64_t first_line, scan_record_fn fn, void *ctx,
                   struct scan_result *res)
{
    return scan_body(s, kernel, buf, len, eof, first_line, fn, ctx, res);
}
#endif

static int scan_buffer_base(struct scanner *s, split_masks_fn kernel, const uint8_t *buf,
                            size_t len, bool eof, uint64_t first_line, scan_record_fn fn,
                            void *ctx, struct scan_result *res)
{
    return scan_body(s, kernel, buf, len, eof, first_line, fn, ctx, res);
}

int scan_buffer(struct scanner *s, const uint8_t *buf, size_t len, bool eof, uint64_t first_line,
                scan_record_fn fn, void *ctx, struct scan_result *res)
{
    split_masks_fn kernel = kernel_get();
#if defined(__x86_64__) || defined(__i386__)
    if (kernel == split_masks_avx2 || kernel == split_masks_avx512) /* both imply POPCNT, BMI1 */
        return scan_buffer_popcnt(s, kernel, buf, len, eof, first_line, fn, ctx, res);
#endif
    return scan_buffer_base(s, kernel, buf, len, eof, first_line, fn, ctx, res);
}

const uint8_t *field_content(const uint8_t *buf, const struct scan_field *f, uint8_t quote,
                             uint8_t *scratch, size_t *len, bool *quoted)
{
    const uint8_t *p = buf + f->start;
    size_t n = f->end - f->start;
    if (f->nquotes == 0) {
        *quoted = false;
        *len = n;
        return p;
    }
    *quoted = true;
    if (f->nquotes == 2 && n >= 2 && p[0] == quote && p[n - 1] == quote) {
        *len = n - 2;
        return p + 1;
    }
    /* General case, as COPY: a quote toggles quoting; inside, "" is one ". */
    size_t o = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != quote) {
            scratch[o++] = p[i];
        } else if (in && i + 1 < n && p[i + 1] == quote) {
            scratch[o++] = quote;
            i++;
        } else {
            in = !in;
        }
    }
    *len = o;
    return scratch;
}
