/*
 * test_scan.c — the structural scanner and field unquoting.
 *
 * - Round trip: random records (fields with delimiters, quotes, CR, LF,
 *   empty fields) written by a reference RFC 4180 quoting routine, with LF or
 *   CRLF record ends and sometimes no final newline, are scanned back — in one
 *   buffer and streamed through small buffers the way infer_file reads — and
 *   must give the same fields and the right physical line of every record.
 * - The AVX2 mask kernel equals the scalar reference on random bytes at
 *   every alignment.
 * - Malformed input: an unterminated quote at end of input.
 */
#include "internal.h"

#include <criterion/criterion.h>
#include "utf8_encode.h"
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 12345;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct buf {
    uint8_t *p;
    size_t n, cap;
};
static void put(struct buf *b, const void *s, size_t n)
{
    if (n == 0)
        return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void putc_(struct buf *b, uint8_t c) { put(b, &c, 1); }

/* The expected records: fields as strings (content), plus each record's line. */
struct record {
    size_t nf;
    char **f;
    size_t *len;
    uint64_t line;
};

static void random_field(struct buf *content, uint8_t delim)
{
    static const char alphabet[] = "abcXYZ019 .-";
    size_t n = rnd() % 4 == 0 ? 0 : rnd() % 12;
    if (rnd() % 50 == 0)
        n = 200 + rnd() % 3000; /* a long field */
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)(rnd() % 20);
        uint8_t c = r == 0 ? delim : r == 1 ? '"' : r == 2 ? '\n' : r == 3 ? '\r'
                                                 : (uint8_t)alphabet[rnd() % (sizeof alphabet - 1)];
        putc_(content, c);
    }
}

/* Reference writer: quote when needed (or at random), double inner quotes. */
static void write_field(struct buf *out, const uint8_t *s, size_t n, uint8_t delim)
{
    bool need = rnd() % 5 == 0;
    for (size_t i = 0; i < n; i++)
        need |= s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!need) {
        put(out, s, n);
        return;
    }
    putc_(out, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putc_(out, '"');
        putc_(out, s[i]);
    }
    putc_(out, '"');
}

static size_t make_file(struct buf *out, struct record *recs, size_t maxrec, uint8_t delim,
                        bool *final_newline)
{
    size_t nrec = 1 + rnd() % maxrec;
    bool crlf = rnd() % 2;
    uint64_t line = 1;
    for (size_t r = 0; r < nrec; r++) {
        size_t nf = 1 + rnd() % 6;
        recs[r].nf = nf;
        recs[r].f = calloc(nf, sizeof(char *));
        recs[r].len = calloc(nf, sizeof(size_t));
        recs[r].line = line;
        for (size_t i = 0; i < nf; i++) {
            struct buf c = {0};
            random_field(&c, delim);
            if (nf == 1 && c.n == 0)
                putc_(&c, 'x'); /* a lone empty field would be a blank line */
            recs[r].f[i] = (char *)c.p;
            recs[r].len[i] = c.n;
            size_t before = out->n;
            write_field(out, c.p, c.n, delim);
            for (size_t k = before; k < out->n; k++)
                line += out->p[k] == '\n';
            if (i + 1 < nf)
                putc_(out, delim);
        }
        bool last = r + 1 == nrec;
        *final_newline = !last || rnd() % 2;
        if (*final_newline) {
            if (crlf)
                putc_(out, '\r');
            putc_(out, '\n');
            line++;
        }
    }
    return nrec;
}

struct check_ctx {
    struct record *recs;
    size_t nrec, seen;
    uint8_t *scratch;
    int iter;
};

static bool check_cb(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                     uint64_t line)
{
    struct check_ctx *c = ctx;
    cr_assert_lt(c->seen, c->nrec, "iter %d: more records than written", c->iter);
    struct record *r = &c->recs[c->seen];
    cr_assert_eq(nf, r->nf, "iter %d record %zu: %zu fields, expected %zu", c->iter, c->seen, nf,
                 r->nf);
    cr_assert_eq(line, r->line, "iter %d record %zu: line %llu, expected %llu", c->iter, c->seen,
                 (unsigned long long)line, (unsigned long long)r->line);
    for (size_t i = 0; i < nf; i++) {
        size_t len;
        bool quoted;
        const uint8_t *v = field_content(buf, &f[i], '"', c->scratch, &len, &quoted);
        cr_assert_eq(len, r->len[i], "iter %d record %zu field %zu: length %zu, expected %zu",
                     c->iter, c->seen, i, len, r->len[i]);
        cr_assert(len == 0 || memcmp(v, r->f[i], len) == 0, "iter %d record %zu field %zu differs", c->iter,
                  c->seen, i);
    }
    c->seen++;
    return true;
}

static void free_records(struct record *recs, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < recs[r].nf; i++)
            free(recs[r].f[i]);
        free(recs[r].f);
        free(recs[r].len);
    }
}

/* Feed the input through a buffer of `unit` bytes as infer_file does. */
static void scan_streamed(struct scanner *sc, const struct buf *in, size_t unit,
                          struct check_ctx *cc)
{
    size_t pos = 0, have = 0, cap = unit;
    uint8_t *b = malloc(cap);
    uint64_t line = 1;
    for (;;) {
        size_t take = cap - have < in->n - pos ? cap - have : in->n - pos;
        memcpy(b + have, in->p + pos, take);
        pos += take;
        have += take;
        bool eof = pos == in->n;
        struct scan_result r;
        cr_assert_eq(scan_buffer(sc, b, have, eof, line, check_cb, cc, &r), 0);
        line += r.lines;
        if (eof) {
            cr_assert(!r.unterminated, "iter %d: unexpected unterminated quote", cc->iter);
            break;
        }
        memmove(b, b + r.consumed, have - r.consumed);
        have -= r.consumed;
        if (have == cap) {
            cap *= 2;
            b = realloc(b, cap);
        }
    }
    free(b);
}

static void round_trip(split_masks_fn kernel)
{
    split_set_kernel(kernel);
    enum { MAXREC = 60 };
    struct record recs[MAXREC];
    static const uint8_t delims[] = {',', ';', '\t', '|'};
    for (int iter = 0; iter < 600; iter++) {
        uint8_t delim = delims[iter % 4];
        struct buf in = {0};
        bool fin;
        size_t n = make_file(&in, recs, MAXREC, delim, &fin);
        struct scanner sc;
        cr_assert_eq(scanner_init(&sc, delim, '"'), 0);
        uint8_t *scratch = malloc(in.n + 1);
        struct check_ctx cc = {recs, n, 0, scratch, iter};
        struct scan_result r;
        cr_assert_eq(scan_buffer(&sc, in.p, in.n, true, 1, check_cb, &cc, &r), 0);
        cr_assert_eq(cc.seen, n, "iter %d: %zu records, expected %zu", iter, cc.seen, n);
        cr_assert_eq(r.consumed, in.n);
        size_t units[] = {1, 7, 64, 65, 1000};
        cc.seen = 0;
        scan_streamed(&sc, &in, units[iter % 5], &cc);
        cr_assert_eq(cc.seen, n, "iter %d streamed: %zu records, expected %zu", iter, cc.seen, n);
        scanner_free(&sc);
        free(scratch);
        free(in.p);
        free_records(recs, n);
    }
    split_set_kernel(NULL);
}

Test(scan, round_trip_scalar) { round_trip(split_masks_scalar); }

Test(scan, round_trip_avx2)
{
    if (!split_have_avx2())
        cr_skip_test("no AVX2 on this CPU");
    round_trip(split_masks_avx2);
}

/* A mask kernel against the scalar one on random bytes at every alignment. */
static void kernel_equals_scalar(split_masks_fn kernel)
{
    enum { N = 64 * 9 };
    uint8_t raw[N + 64];
    static const uint8_t pick[] = {',', '"', '\n', '\r', 'a', 0, 0xff, ';', '\'', '|', '\t'};
    for (int iter = 0; iter < 200; iter++) {
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = rnd() % 3 ? pick[rnd() % sizeof pick] : (uint8_t)rnd();
        for (size_t align = 0; align < 64; align++) {
            uint64_t q1[8], d1[8], n1[8], q2[8], d2[8], n2[8];
            uint8_t quote = (iter % 3 == 0) ? 0 : pick[rnd() % 2] == '"' ? '"' : '\'';
            uint8_t delim = pick[(iter + align) % 4 == 0 ? 7 : 0];
            split_masks_scalar(raw + align, 8, quote, delim, q1, d1, n1);
            kernel(raw + align, 8, quote, delim, q2, d2, n2);
            for (int b = 0; b < 8; b++) {
                cr_assert_eq(q1[b], q2[b], "quote mask, alignment %zu block %d", align, b);
                cr_assert_eq(d1[b], d2[b], "delimiter mask, alignment %zu block %d", align, b);
                cr_assert_eq(n1[b], n2[b], "newline mask, alignment %zu block %d", align, b);
            }
        }
    }
}

Test(scan, avx2_kernel_equals_scalar_at_every_alignment)
{
    if (!split_have_avx2())
        cr_skip_test("no AVX2 on this CPU");
    kernel_equals_scalar(split_masks_avx2);
}

Test(scan, avx512_kernel_equals_scalar_at_every_alignment)
{
    if (!split_have_avx512bw())
        cr_skip_test("no AVX-512BW on this CPU");
    kernel_equals_scalar(split_masks_avx512);
}

Test(scan, round_trip_avx512)
{
    if (!split_have_avx512bw())
        cr_skip_test("no AVX-512BW on this CPU");
    round_trip(split_masks_avx512);
}

struct count_ctx {
    size_t records;
    uint64_t last_line;
};
static bool count_cb(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                     uint64_t line)
{
    (void)buf;
    (void)f;
    (void)nf;
    struct count_ctx *c = ctx;
    c->records++;
    c->last_line = line;
    return true;
}

Test(scan, unterminated_quote_at_eof)
{
    static const char in[] = "a,b\n1,\"x\ny\"\n2,\"never closed\nmore\n";
    struct scanner sc;
    scanner_init(&sc, ',', '"');
    struct count_ctx c = {0};
    struct scan_result r;
    cr_assert_eq(scan_buffer(&sc, (const uint8_t *)in, strlen(in), true, 1, count_cb, &c, &r), 0);
    cr_assert_eq(c.records, 2);
    cr_assert_eq(c.last_line, 2);
    cr_assert(r.unterminated);
    cr_assert_eq(r.lines, 3, "the unfinished record starts on line 1 + %llu",
                 (unsigned long long)r.lines);
    scanner_free(&sc);
}

Test(scan, copy_style_quotes_inside_fields)
{
    struct scan_field f;
    uint8_t scratch[32];
    size_t len;
    bool quoted;
    const char *cases[][2] = {
        {"\"a\"\"b\"", "a\"b"}, {"12\"3\"", "123"}, {"\"\"", ""}, {"\"x,y\"", "x,y"},
        {"ab", "ab"},           {"\"a\"b", "ab"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const uint8_t *p = (const uint8_t *)cases[i][0];
        size_t n = strlen(cases[i][0]);
        uint32_t nq = 0;
        for (size_t k = 0; k < n; k++)
            nq += p[k] == '"';
        f = (struct scan_field){0, n, nq};
        const uint8_t *v = field_content(p, &f, '"', scratch, &len, &quoted);
        cr_assert_eq(len, strlen(cases[i][1]), "case %s", cases[i][0]);
        cr_assert(memcmp(v, cases[i][1], len) == 0, "case %s", cases[i][0]);
    }
}

/* The vector counters this CPU can run (the AVX-512 one's last 1..63 bytes
 * go under a load mask, the AVX2 one's through a byte loop). */
typedef void (*count_fn)(const uint8_t *, size_t, uint8_t, uint64_t *, uint64_t *);
static size_t vector_counters(count_fn *fns, const char **names)
{
    size_t n = 0;
    if (split_have_avx2()) {
        fns[n] = split_count_avx2;
        names[n++] = "avx2";
    }
    if (split_have_avx512bw()) {
        fns[n] = split_count_avx512;
        names[n++] = "avx512";
    }
    return n;
}

Test(scan, vector_counters_equal_scalar_at_every_alignment_and_length)
{
    count_fn fns[2];
    const char *names[2];
    size_t nk = vector_counters(fns, names);
    if (!nk)
        cr_skip_test("no AVX2 on this CPU");
    uint8_t raw[700];
    static const uint8_t pick[] = {',', '"', '\n', '\r', 'a', 0, 0xff, '\''};
    for (int iter = 0; iter < 50; iter++) {
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = pick[rnd() % sizeof pick];
        for (size_t align = 0; align < 64; align++)
            for (size_t len = 0; len + align <= sizeof raw; len += 1 + rnd() % 37) {
                uint8_t quote = iter % 3 == 0 ? 0 : iter % 3 == 1 ? '"' : '\'';
                uint64_t q1, n1, q2, n2;
                split_count_scalar(raw + align, len, quote, &q1, &n1);
                for (size_t k = 0; k < nk; k++) {
                    fns[k](raw + align, len, quote, &q2, &n2);
                    cr_assert_eq(q1, q2, "%s quotes, alignment %zu length %zu", names[k], align, len);
                    cr_assert_eq(n1, n2, "%s newlines, alignment %zu length %zu", names[k], align,
                                 len);
                }
            }
    }
}

/* split_next_record (64 bytes at a time) against the byte loop it replaced,
 * on random quotes, newlines and other bytes at every alignment, lengths
 * across several 64-byte blocks and batches of them, both starting states;
 * half the buffers have their quotes and newlines rare (long searches). */
Test(scan, next_record_equals_the_byte_loop)
{
    enum { N = 9000 };
    uint8_t *raw = malloc(N + 64);
    cr_assert_not_null(raw);
    static const uint8_t pick[] = {'"', '\n', '\'', 'a', ',', '\r', 0xC3};
    for (int iter = 0; iter < 60; iter++) {
        unsigned rare = iter % 2 ? 400 : 4;
        for (size_t i = 0; i < N + 64; i++)
            raw[i] = rnd() % rare == 0 ? pick[rnd() % 3] : pick[3 + rnd() % 4];
        uint8_t quote = iter % 3 == 0 ? '\'' : '"';
        for (size_t align = 0; align < 64; align += 1 + rnd() % 5)
            for (size_t len = 0; len <= N; len += 1 + rnd() % (len < 300 ? 7 : 600))
                for (int in = 0; in < 2; in++) {
                    size_t want = split_next_record_scalar(raw + align, len, quote, in);
                    size_t got = split_next_record(raw + align, len, quote, in);
                    cr_assert_eq(got, want, "alignment %zu length %zu inside %d: %zu, byte loop %zu",
                                 align, len, in, got, want);
                }
    }
    free(raw);
}

Test(scan, next_record_start_honours_the_quote_state)
{
    const uint8_t *s = (const uint8_t *)"ab\"c\nd\"\nxy\n";
    cr_assert_eq(split_next_record(s, 11, '"', false), 8, "outside: the newline after the quoted one");
    cr_assert_eq(split_next_record(s, 11, '"', true), 5, "inside: the quote at 2 closes, so line 1 ends");
    cr_assert_eq(split_next_record(s, 11, 0, false), 5);
    cr_assert_eq(split_next_record(s, 4, '"', false), SIZE_MAX);
}

/* The vector counters sum their byte lanes every 127 (AVX2) or 255
 * (AVX-512) steps of 64 bytes: buffers made only of the counted bytes (every
 * lane at its maximum) and long random ones cross that boundary many times. */
Test(scan, vector_counters_equal_scalar_on_long_dense_buffers)
{
    count_fn fns[2];
    const char *names[2];
    size_t nk = vector_counters(fns, names);
    if (!nk)
        cr_skip_test("no AVX2 on this CPU");
    size_t cap = 300000;
    uint8_t *raw = malloc(cap);
    cr_assert_not_null(raw);
    static const uint8_t fills[] = {'"', '\n', '\'', 'x'};
    for (int mode = 0; mode < 5; mode++) {
        for (size_t i = 0; i < cap; i++)
            raw[i] = mode < 4 ? fills[mode] : (rnd() % 2 ? '"' : '\n');
        for (size_t len = 8000; len < cap; len = len * 3 / 2 + 17) {
            uint64_t q1, n1, q2, n2;
            split_count_scalar(raw + 1, len, '"', &q1, &n1);
            for (size_t k = 0; k < nk; k++) {
                fns[k](raw + 1, len, '"', &q2, &n2);
                cr_assert_eq(q1, q2, "%s quotes, mode %d length %zu", names[k], mode, len);
                cr_assert_eq(n1, n2, "%s newlines, mode %d length %zu", names[k], mode, len);
            }
        }
    }
    free(raw);
}

/* The AVX2 UTF-8 validator (utf8_avx2.c) gives the offset of the scalar
 * reference on random text: mostly valid UTF-8 of every length (1-4 bytes,
 * near the edges of each range: overlongs, surrogates, past U+10FFFF) with,
 * sometimes, one corrupted byte or a sequence cut short, at every length and
 * alignment around the 64-byte blocks, and at the very end. */
static size_t put_utf8_char(uint8_t *o)
{
    static const uint32_t edges[] = {0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF,
                                     0x10000, 0x10FFFF, 0xE9, 0x20AC, 0x1F600};
    uint32_t cp = (rnd() & 3) ? edges[rnd() % (sizeof edges / sizeof edges[0])]
                              : (uint32_t)(rnd() % 0x110000);
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 'x';
    if ((rnd() & 1) == 0)
        cp = 'a' + (uint32_t)(rnd() % 26);
    return utf8_encode(cp, o);
}

Test(scan, avx2_utf8_validator_equals_scalar)
{
    if (!split_have_avx2())
        cr_skip_test("no AVX2 on this CPU");
    uint8_t *b = malloc(600);
    for (int round = 0; round < 200000; round++) {
        size_t target = rnd() % 300, n = 0;
        while (n < target)
            n += put_utf8_char(b + n);
        int kind = (int)(rnd() % 4);
        if (n && kind == 1) /* one byte anything */
            b[rnd() % n] = (uint8_t)rnd();
        else if (n && kind == 2) /* a byte from the interesting ones */
            b[rnd() % n] = (uint8_t[]){0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xE0, 0xED, 0xEF, 0xF0,
                                       0xF4, 0xF5, 0xFF, 0xA0, 0x90, 0x8F}[rnd() % 15];
        else if (n && kind == 3) /* cut short at a random place */
            n = rnd() % n;
        uint8_t *p = malloc(n ? n : 1); /* exact size: ASan sees any read past it */
        memcpy(p, b, n);
        size_t want = utf8_first_invalid_scalar(p, n), got = utf8_first_invalid_avx2(p, n);
        cr_assert_eq(got, want, "round %d, n %zu: avx2 %zu, scalar %zu", round, n, got, want);
        free(p);
    }
    free(b);
}
