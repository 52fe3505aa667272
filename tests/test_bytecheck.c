/*
 * test_bytecheck.c — the one pass over a slice's bytes (engine/bytecheck.c,
 * the AVX2 kernel in engine/utf8_avx2.c) and how slice_infer uses it.
 *
 * - Both kernels equal the definition — the first offset that is not UTF-8
 *   by the table of well-formed sequences (written here, apart from the
 *   engine's decoder), memchr for the first NUL, memchr for a '\r' — on
 *   random text with CR, NUL and bad bytes planted at random places, near the
 *   64-byte blocks and in the last bytes, at every length 0..300 and every
 *   alignment, and on long inputs.
 * - slice_infer reports the line of the first NUL and of the first invalid
 *   UTF-8 of the records it used ([0, consumed), not the unfinished record
 *   after them), in CRLF data too, and still finds a bare CR: by hand, and
 *   on random CSV against references written here.
 */
#include "internal.h"

#include <criterion/criterion.h>
#include "utf8_encode.h"
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 20240917;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* First offset of p[0, n) that does not start a well-formed UTF-8 sequence
 * (Unicode 15, table 3-7), or n. */
static size_t naive_first_invalid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t len;
        uint8_t lo2 = 0x80, hi2 = 0xBF; /* the second byte's range */
        if (c <= 0x7F) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c == 0xE0) {
            len = 3, lo2 = 0xA0;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            len = 3;
        } else if (c == 0xED) {
            len = 3, hi2 = 0x9F;
        } else if (c == 0xF0) {
            len = 4, lo2 = 0x90;
        } else if (c >= 0xF1 && c <= 0xF3) {
            len = 4;
        } else if (c == 0xF4) {
            len = 4, hi2 = 0x8F;
        } else {
            return i;
        }
        if (i + len > n || p[i + 1] < lo2 || p[i + 1] > hi2)
            return i;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF)
                return i;
        i += len;
    }
    return n;
}

static void definition(const uint8_t *p, size_t n, struct bytecheck *d)
{
    const uint8_t *z = n ? memchr(p, 0, n) : NULL;
    d->bad_utf8 = naive_first_invalid(p, n);
    d->first_nul = z ? (size_t)(z - p) : n;
    d->any_cr = n && memchr(p, '\r', n);
}

/* A character of text: ASCII letters and CSV punctuation (never NUL or
 * '\r': those are planted), or 2-4 bytes near the edges of their ranges. */
static size_t put_char(uint8_t *o)
{
    static const uint32_t edges[] = {0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000,
                                     0x10FFFF, 0xE9, 0x20AC, 0x1F600, 0xFFFD};
    static const char ascii[] = "abcxyz019 ,;\"'\n\t.-\x7f\x01";
    uint32_t cp;
    if (rnd() % 3) {
        o[0] = (uint8_t)ascii[rnd() % (sizeof ascii - 1)];
        return 1;
    }
    cp = (rnd() & 1) ? edges[rnd() % (sizeof edges / sizeof edges[0])]
                     : 0x80 + (uint32_t)(rnd() % (0x110000 - 0x80));
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xE9;
    return utf8_encode(cp, o);
}

/* Where to plant a byte in [0, n): anywhere, in the last 3 bytes, or within
 * 2 of a 64-byte block edge. */
static size_t pick_pos(size_t n)
{
    switch (rnd() % 3) {
    case 0:
        return rnd() % n;
    case 1:
        return n - 1 - rnd() % (n < 3 ? n : 3);
    default: {
        size_t edge = 64 * (rnd() % (n / 64 + 1)) + rnd() % 5;
        return edge >= 2 && edge - 2 < n ? edge - 2 : rnd() % n;
    }
    }
}

/* Random text of n bytes into b (room: n + 4), with what is planted. */
static void make_input(uint8_t *b, size_t n)
{
    size_t k = 0;
    while (k < n)
        k += put_char(b + k); /* may cut the last character short: one kind of bad input */
    if (!n)
        return;
    static const uint8_t bad[][4] = {
        {0xC0, 0x80}, {0xC1, 0xBF}, {0xE0, 0x80, 0x80}, {0xE0, 0x9F, 0xBF}, {0xED, 0xA0, 0x80},
        {0xED, 0xBF, 0xBF}, {0xF0, 0x80, 0x80, 0x80}, {0xF0, 0x8F, 0xBF, 0xBF},
        {0xF4, 0x90, 0x80, 0x80}, {0xF5, 0x80, 0x80, 0x80}, {0xFF}, {0x80}, {0xBF}, {0xC3},
        {0xE2, 0x82}, {0xF0, 0x9F, 0x98}};
    static const size_t bad_len[] = {2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 1, 1, 1, 1, 2, 3};
    int crs = (int)(rnd() % 4), nuls = (int)(rnd() % 3), bads = (int)(rnd() % 3);
    if (rnd() % 2)
        crs = 0;
    if (rnd() % 2)
        nuls = 0;
    if (rnd() % 2)
        bads = 0;
    for (int j = 0; j < crs; j++)
        b[pick_pos(n)] = '\r';
    for (int j = 0; j < nuls; j++)
        b[pick_pos(n)] = 0;
    for (int j = 0; j < bads; j++) {
        size_t w = rnd() % (sizeof bad_len / sizeof *bad_len), at = pick_pos(n);
        for (size_t q = 0; q < bad_len[w] && at + q < n; q++) /* cut at the end: also bad */
            b[at + q] = bad[w][q];
    }
}

static void expect_same(const struct bytecheck *got, const struct bytecheck *want,
                        const char *kernel, size_t n, size_t align)
{
    cr_assert(got->bad_utf8 == want->bad_utf8 && got->first_nul == want->first_nul &&
                  got->any_cr == want->any_cr,
              "%s, n %zu, alignment %zu: utf8 %zu (want %zu), nul %zu (want %zu), cr %d "
              "(want %d)",
              kernel, n, align, got->bad_utf8, want->bad_utf8, got->first_nul, want->first_nul,
              got->any_cr, want->any_cr);
}

/* Check b[0, n) placed at offset align of an allocation that ends right after
 * it (ASan sees any read past the end). */
static void check_at(const uint8_t *b, size_t n, size_t align)
{
    uint8_t *mem = malloc(align + n + 1);
    cr_assert_not_null(mem);
    uint8_t *p = mem + align;
    memcpy(p, b, n);
    struct bytecheck want, got;
    definition(p, n, &want);
    bytecheck_scalar(p, n, &got);
    expect_same(&got, &want, "scalar", n, align);
    if (split_have_avx2()) {
        memset(&got, 0x55, sizeof got);
        bytecheck_avx2(p, n, &got);
        expect_same(&got, &want, "avx2", n, align);
    }
    if (split_have_avx512bw()) {
        memset(&got, 0x55, sizeof got);
        bytecheck_avx512(p, n, &got);
        expect_same(&got, &want, "avx512", n, align);
    }
    free(mem);
}

Test(bytecheck, kernels_equal_the_definition_at_every_length_and_alignment)
{
    uint8_t b[300 + 4];
    for (int round = 0; round < 3; round++)
        for (size_t n = 0; n <= 300; n++)
            for (size_t align = 0; align < 64; align++) {
                make_input(b, n);
                check_at(b, n, align);
            }
}

Test(bytecheck, kernels_equal_the_definition_on_long_inputs)
{
    enum { MAXN = 300000 };
    uint8_t *b = malloc(MAXN + 4);
    cr_assert_not_null(b);
    for (int round = 0; round < 300; round++) {
        size_t n = 301 + rnd() % (round < 250 ? 5000 : MAXN - 301);
        make_input(b, n);
        if (rnd() % 4 == 0) { /* plain ASCII but for one thing late in it */
            for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)("abc,\n9"[i % 6]);
            b[pick_pos(n)] = (uint8_t[]){0, '\r', 0xC3, 0xFF}[rnd() % 4];
        }
        check_at(b, n, rnd() % 64);
    }
    free(b);
}

/* ---- slice_infer ------------------------------------------------------- */

static struct file_plan plan3(void)
{
    static const char *const toks[] = {"NULL"};
    static const size_t lens[] = {4};
    static struct engine_cfg ec;
    csvi_options_init(&ec.opt);
    classify_cfg_init(&ec.ccfg, toks, lens, 1, false, false);
    return (struct file_plan){.cfg = &ec, .delim = ',', .quote = '"', .ncols = 3};
}

static struct slice_verdict infer(const char *text, size_t len, bool eof)
{
    struct file_plan plan = plan3();
    struct slice_work w = {0};
    uint8_t *buf = malloc(len + 1);
    cr_assert(buf && slice_work_scratch(&w, len + 1));
    memcpy(buf, text, len);
    struct slice_verdict v;
    cr_assert_eq(slice_infer(&plan, buf, len, eof, false, 1, false, &w, &v), 0);
    free(buf);
    slice_work_free(&w);
    return v;
}

Test(bytecheck, slice_lines_of_nul_and_bad_utf8_after_crs)
{
    /* CRLF records; a NUL on line 3, latin-1 on line 4 */
    static const char t1[] = "a,b,c\r\n1,x,y\r\n2,x\0z,y\r\n3,Z\374rich,y\r\n4,x,y\r\n";
    struct slice_verdict v = infer(t1, sizeof t1 - 1, true);
    cr_expect_eq(v.consumed, sizeof t1 - 1);
    cr_expect_eq(v.nul_line, 3);
    cr_expect_eq(v.utf8_line, 4);
    cr_expect_eq(v.crlf_line, 1);
    cr_expect_eq(v.bare_cr_line, 0);
    slice_verdict_free(&v);

    /* a bare CR inside an unquoted field (line 3) after quoted CRs (line 2):
     * found only if the slice is known to hold a '\r' */
    static const char t2[] = "a,b,c\n1,\"x\ry\",z\n2,x\ry,z\n3,x,y\n";
    v = infer(t2, sizeof t2 - 1, true);
    cr_expect_eq(v.bare_cr_line, 3);
    cr_expect_eq(v.nul_line, 0);
    cr_expect_eq(v.utf8_line, 0);
    slice_verdict_free(&v);

    /* a lead byte right before the record's '\r\n': invalid on its line */
    static const char t3[] = "a,b,c\r\n1,x,y\xC3\r\n2,\xA9,y\r\n";
    v = infer(t3, sizeof t3 - 1, true);
    cr_expect_eq(v.utf8_line, 2);
    slice_verdict_free(&v);
}

Test(bytecheck, slice_ignores_bytes_after_the_records_used)
{
    /* not the end of the file: the unfinished record after the last '\n' is
     * not the slice's (the next slice reads it again) */
    static const char t1[] = "a,b,c\r\n1,x,y\r\n2,x\0z\377,\xE2\x82";
    struct slice_verdict v = infer(t1, sizeof t1 - 1, false);
    cr_expect_eq(v.consumed, 14);
    cr_expect_eq(v.nul_line, 0);
    cr_expect_eq(v.utf8_line, 0);
    slice_verdict_free(&v);

    /* a sequence cut by the end of the records used (its lead byte before the
     * last '\n' counts; one that starts after it does not) */
    static const char t2[] = "a,b,c\n1,x,\xE2\x82\n\xAC,y";
    v = infer(t2, sizeof t2 - 1, false);
    cr_expect_eq(v.consumed, 13);
    cr_expect_eq(v.utf8_line, 2);
    slice_verdict_free(&v);
    static const char t3[] = "a,b,c\n1,x,y\n\xE2\x82\xAC";
    v = infer(t3, sizeof t3 - 2, false);
    cr_expect_eq(v.consumed, 12);
    cr_expect_eq(v.utf8_line, 0);
    slice_verdict_free(&v);

    /* the end of the file inside a quoted field: that record is not used */
    static const char t4[] = "a,b,c\r\n1,x,y\r\n2,\"x\r\n\0\377";
    v = infer(t4, sizeof t4 - 1, true);
    cr_expect_eq(v.consumed, 14);
    cr_expect_eq(v.nul_line, 0);
    cr_expect_eq(v.utf8_line, 0);
    cr_expect(v.stop);
    slice_verdict_free(&v);
}

/* Line of the first record in t[0, used) with a bare '\r' as slice_infer
 * defines it: in a field without any quote byte (a field with one counts as
 * quoted, as COPY reads it), not the '\r' of a CRLF record end; 0 if none.
 * A quote toggles quoting, only a '\n' outside quotes ends a record, or the
 * end of the input (final: eof and every byte used) the last one — whose
 * bare '\r' COPY rejects too (it was missed before 2026-11-28). */
static uint64_t bare_cr_line(const char *t, size_t used, bool final)
{
    uint64_t line = 1;
    size_t i = 0;
    while (i < used) {
        uint64_t rec_line = line;
        bool inq = false, quoted = false, bare = false;
        size_t start = i, start0 = i; /* of the field, of the record */
        for (;; i++) {
            if (i == used && (!final || inq || i == start0))
                return 0; /* a record without its '\n', not the input's last */
            char ch = i == used ? '\n' : t[i]; /* the last record ends at the end */
            if (ch == '"') {
                inq = !inq;
                quoted = true;
                continue;
            }
            if (ch == '\n' && i < used)
                line++; /* physical lines: quoted '\n' too */
            if ((ch != ',' && ch != '\n') || inq)
                continue;
            size_t end = i;
            if (ch == '\n' && i < used && end > start && t[end - 1] == '\r')
                end--; /* CRLF: the record's end, no bare CR (at the input's end, with
                          no '\n' after it, it is bare: COPY rejects it) */
            if (!quoted && memchr(t + start, '\r', end - start))
                bare = true;
            start = i + 1;
            quoted = false;
            if (ch == '\n') {
                i++;
                break;
            }
        }
        if (bare)
            return rec_line;
    }
    return 0;
}

/* Random CSV (LF and CRLF ends, quoted fields with CR and LF, NUL, bad bytes),
 * cut at a random place, at the end of the file or not: the lines reported
 * are those of the first NUL, invalid byte and bare '\r' in [0, consumed). */
Test(bytecheck, slice_lines_agree_with_the_records_used)
{
    enum { CAP = 20000 };
    char *t = malloc(CAP + 512); /* a row is at most 3 * (2 + 8 * 4 + 1) + 1 bytes */
    cr_assert_not_null(t);
    int bare_seen = 0;
    for (int round = 0; round < 3000; round++) {
        size_t n = 0, rows = 1 + rnd() % 200;
        bool crlf = rnd() % 2;
        for (size_t r = 0; r < rows && n < CAP; r++) {
            for (int c = 0; c < 3; c++) {
                bool quoted = rnd() % 5 == 0;
                if (quoted)
                    t[n++] = '"';
                size_t len = rnd() % 8;
                for (size_t k = 0; k < len; k++) {
                    uint64_t x = rnd() % 400;
                    uint8_t ch = (uint8_t)('a' + x % 26);
                    if (x == 0)
                        ch = 0;
                    else if (x == 1)
                        ch = 0xFF;
                    else if (x == 2)
                        ch = '\r';
                    else if (x < 8) {
                        n += put_char((uint8_t *)t + n);
                        continue;
                    } else if (x == 8 && quoted)
                        ch = '\n';
                    else if (x == 9)
                        ch = 0xC3; /* a lead byte, its continuation perhaps missing */
                    t[n++] = (char)ch;
                }
                if (quoted)
                    t[n++] = '"';
                t[n++] = c < 2 ? ',' : '\n';
                if (c == 2 && crlf) {
                    t[n - 1] = '\r';
                    t[n++] = '\n';
                }
            }
        }
        size_t len = rnd() % 3 ? n : rnd() % (n + 1);
        bool eof = rnd() % 2;
        struct slice_verdict v = infer(t, len, eof);
        size_t used = v.consumed;
        cr_assert(used <= len);
        cr_assert(used == 0 || used == len || t[used - 1] == '\n',
                  "round %d: consumed %zu is no record end", round, used);
        const uint8_t *u = (const uint8_t *)t;
        const uint8_t *z = used ? memchr(u, 0, used) : NULL;
        size_t bad = naive_first_invalid(u, used);
        uint64_t want_nul = 0, want_utf8 = 0;
        if (z) {
            want_nul = 1;
            for (const uint8_t *q = u; q < z; q++)
                want_nul += *q == '\n';
        }
        if (bad < used) {
            want_utf8 = 1;
            for (size_t q = 0; q < bad; q++)
                want_utf8 += u[q] == '\n';
        }
        cr_assert_eq(v.nul_line, want_nul, "round %d (len %zu, consumed %zu, eof %d): nul line "
                     "%llu, want %llu", round, len, used, eof,
                     (unsigned long long)v.nul_line, (unsigned long long)want_nul);
        cr_assert_eq(v.utf8_line, want_utf8, "round %d (len %zu, consumed %zu, eof %d): utf8 "
                     "line %llu, want %llu", round, len, used, eof,
                     (unsigned long long)v.utf8_line, (unsigned long long)want_utf8);
        uint64_t want_cr = bare_cr_line(t, used, eof && used == len);
        cr_assert_eq(v.bare_cr_line, want_cr, "round %d (len %zu, consumed %zu, eof %d): bare CR "
                     "line %llu, want %llu", round, len, used, eof,
                     (unsigned long long)v.bare_cr_line, (unsigned long long)want_cr);
        bare_seen += want_cr != 0;
        slice_verdict_free(&v);
    }
    cr_assert_gt(bare_seen, 100, "too few inputs with a bare CR (%d)", bare_seen);
    free(t);
}
