/*
 * test_state.c — the "state" field's codec (engine/verdict_state.c), checked
 * directly, without fuzzing but exhaustively where it is cheap:
 *
 * - base64: every length 0..200 round-trips; non-canonical text (a length
 *   not a multiple of 4, characters outside the alphabet, '=' anywhere but
 *   the end, padding bits set, whitespace, URL-safe letters) is refused;
 * - states round-trip: options (threshold, flags, null tokens), facts and
 *   column states give the same verdicts after decoding, strict and
 *   tolerant, with 0..5 columns;
 * - column_canonical leaves every verdict alone and makes the state of
 *   values independent of how they were split;
 * - every truncation and every single-bit flip of a state is refused (never
 *   a crash, never a silently different state); a wrong version is named as
 *   such even with a valid checksum; a column count that does not match the
 *   column states (one more, one less, huge), trailing bytes, a count above
 *   the rows and a malformed options block are refused even when the
 *   checksum is made right.
 */
#include "internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- base64 ---------------------------------------------------------------- */

Test(state, base64_round_trips)
{
    uint8_t in[200], back[200];
    char text[300];
    for (size_t n = 0; n <= sizeof in; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)rnd();
        base64_encode(in, n, text);
        size_t len = 4 * ((n + 2) / 3);
        long got = base64_decode(text, len, back);
        cr_assert_eq(got, (long)n, "length %zu", n);
        cr_assert_eq(memcmp(in, back, n), 0, "length %zu", n);
    }
    base64_encode((const uint8_t *)"foobar", 6, text);
    cr_assert_eq(memcmp(text, "Zm9vYmFy", 8), 0); /* RFC 4648's vectors */
    base64_encode((const uint8_t *)"fo", 2, text);
    cr_assert_eq(memcmp(text, "Zm8=", 4), 0);
}

Test(state, base64_refuses_what_is_not_canonical)
{
    static const char *const bad[] = {
        "Zm8",      /* not a multiple of 4 */
        "Zm9vY",    "Zm*v",     "Zm9 ",     "Zm9\n",    "Zm-v", "Zm_v", /* outside */
        "Zg=v",     "=Zm9",     "Z===",     "Zm==Zm8=", /* '=' not at the end */
        "Zh==",     "Zm9=",     /* padding bits set (canonical: Zg==, Zm8=) */
        "Zm8=\n",   "Zm8==",
    };
    uint8_t out[16];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(base64_decode(bad[i], strlen(bad[i]), out), -1, "accepted \"%s\"", bad[i]);
    cr_assert_eq(base64_decode("Zg==", 4, out), 1);
    cr_assert_eq(base64_decode("", 0, out), 0);
}

/* ---- states ---------------------------------------------------------------- */

static const char *const values[] = {"1", "-7", "40000", "2.5", "12345.678", "2024-01-02",
                                     "2024-01-02 10:00:00", "2024-01-02T10:00Z", "10:30",
                                     "true", "abc", "", "NA", "007", "1e5",
                                     "123e4567-e89b-12d3-a456-426614174000", "héllo",
                                     "03/04/2024", "13/04/2024", "04/13/2024 08:00"};
#define NVALUES (sizeof values / sizeof *values)

struct fixture {
    struct engine_cfg cfg;
    const char *tokens[3];
    size_t lens[3];
};

static void fixture_init(struct fixture *f, bool tolerant)
{
    memset(f, 0, sizeof *f);
    csvi_options_init(&f->cfg.opt);
    f->cfg.opt.threshold = tolerant ? 0.75 : 1.0;
    f->cfg.opt.dayfirst = tolerant;
    f->cfg.opt.keep_state = true;
    f->tokens[0] = "NA";
    f->tokens[1] = "NULL";
    f->tokens[2] = "-";
    for (int i = 0; i < 3; i++)
        f->lens[i] = strlen(f->tokens[i]);
    classify_cfg_init(&f->cfg.ccfg, f->tokens, f->lens, 3, false, false);
}

/* Add the values idx[0, n) of column col to state c, on lines from line. */
static void add_values(const struct fixture *f, struct column_state *c, const int *idx, size_t n,
                       uint64_t line)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = values[idx[i]];
        struct field_class fc;
        classify_field((const uint8_t *)v, strlen(v), false, &f->cfg.ccfg, &fc);
        if (column_settled(c)) {
            uint32_t nb = fc.types == CSVI_BIT(CSVI_TYPE_NULL) ? fc.null_bits : 0;
            column_add_settled(c, nb, (const uint8_t *)v, strlen(v));
        } else {
            column_add(c, &fc, (const uint8_t *)v, strlen(v), line + i);
        }
    }
}

static void expect_same_verdict(const struct column_state *a, const struct column_state *b,
                                const struct fixture *f, const char *what)
{
    struct csvi_column va, vb;
    memset(&va, 0, sizeof va);
    memset(&vb, 0, sizeof vb);
    column_verdict(a, f->cfg.opt.threshold, f->cfg.opt.dayfirst, &va);
    column_verdict(b, f->cfg.opt.threshold, f->cfg.opt.dayfirst, &vb);
    cr_assert_eq(memcmp(&va, &vb, sizeof va), 0, "%s: verdicts differ (types %s / %s)", what,
                 csvi_type_name(va.type), csvi_type_name(vb.type));
}

/* A random state of ncols columns (canonical), and the result it belongs to. */
static void random_state(const struct fixture *f, size_t ncols, struct column_state *cols,
                         struct csvi_file_result *r)
{
    memset(r, 0, sizeof *r);
    r->rows = 1 + rnd() % 60;
    r->trailing_blank_lines = rnd() % 3;
    r->copy_bare_cr_line = rnd() % 2 ? 1 + rnd() % 100 : 0;
    r->copy_eod_line = rnd() % 2 ? 1 + rnd() % 100 : 0;
    r->copy_mixed_eol_line = rnd() % 2 ? 1 + rnd() % 100 : 0;
    for (size_t c = 0; c < ncols; c++) {
        column_init(&cols[c], f->cfg.opt.threshold < 1.0);
        int idx[64];
        size_t n = (size_t)(rnd() % (r->rows + 1));
        int base = (int)(rnd() % NVALUES);
        for (size_t i = 0; i < n; i++)
            idx[i] = rnd() % 4 ? base : (int)(rnd() % NVALUES);
        add_values(f, &cols[c], idx, n, 2);
        column_canonical(&cols[c]);
    }
}

static void free_cols(struct column_state *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        column_free(&cols[i]);
}

Test(state, round_trips)
{
    for (int tolerant = 0; tolerant < 2; tolerant++) {
        struct fixture f;
        fixture_init(&f, tolerant);
        for (int round = 0; round < 300; round++) {
            size_t ncols = (size_t)(rnd() % 6);
            struct column_state cols[6];
            struct csvi_file_result r;
            random_state(&f, ncols, cols, &r);
            cr_assert_eq(state_encode(&f.cfg, &r, cols, ncols), 0);
            /* strict states keep version 1's bytes; tolerant ones carry date sets */
            cr_assert_eq(r.state[0], tolerant ? 2 : 1);
            struct file_state fs;
            const char *why = NULL;
            int rc = state_decode(r.state, r.state_len, &fs, &why);
            cr_assert_eq(rc, 0, "round %d: %s", round, why);
            cr_assert_eq(fs.ncols, ncols);
            cr_assert_eq(fs.rows, r.rows);
            cr_assert_eq(fs.trailing_blank_lines, r.trailing_blank_lines);
            cr_assert_eq(fs.copy_bare_cr_line, r.copy_bare_cr_line);
            cr_assert_eq(fs.copy_eod_line, r.copy_eod_line);
            cr_assert_eq(fs.copy_mixed_eol_line, r.copy_mixed_eol_line);
            cr_assert_eq(fs.o.threshold, f.cfg.opt.threshold);
            cr_assert_eq(fs.o.dayfirst, f.cfg.opt.dayfirst);
            cr_assert_eq(fs.o.n_null, 3);
            cr_assert_str_eq(fs.o.null_tokens[2], "-");
            cr_assert_eq(fs.o.delimiter, CSVI_AUTO);
            for (size_t c = 0; c < ncols; c++)
                expect_same_verdict(&cols[c], &fs.cols[c], &f, "decoded");
            /* encoding the decoded states gives the same bytes */
            struct csvi_file_result r2 = r;
            r2.state = NULL;
            cr_assert_eq(state_encode(&f.cfg, &r2, fs.cols, fs.ncols), 0);
            cr_assert_eq(r2.state_len, r.state_len);
            cr_assert_eq(memcmp(r2.state, r.state, r.state_len), 0, "round %d: not stable", round);
            free(r2.state);
            state_free(&fs);
            free(r.state);
            free_cols(cols, ncols);
        }
    }
}

Test(state, canonical_states_do_not_depend_on_the_split)
{
    for (int tolerant = 0; tolerant < 2; tolerant++) {
        struct fixture f;
        fixture_init(&f, tolerant);
        for (int round = 0; round < 500; round++) {
            int idx[80];
            size_t n = 1 + (size_t)(rnd() % 80);
            int base = (int)(rnd() % NVALUES);
            for (size_t i = 0; i < n; i++)
                idx[i] = rnd() % 3 ? base : (int)(rnd() % NVALUES);
            struct column_state whole, acc;
            column_init(&whole, tolerant);
            add_values(&f, &whole, idx, n, 1);
            column_init(&acc, tolerant);
            for (size_t at = 0; at < n;) { /* random parts, joined in order */
                size_t k = 1 + (size_t)(rnd() % (n - at));
                struct column_state part;
                column_init(&part, tolerant);
                add_values(&f, &part, idx + at, k, 1 + at);
                column_join(&acc, &part);
                column_free(&part);
                at += k;
            }
            expect_same_verdict(&whole, &acc, &f, "before");
            struct column_state w2 = whole;
            column_canonical(&whole);
            column_canonical(&acc);
            expect_same_verdict(&whole, &acc, &f, "canonical");
            expect_same_verdict(&whole, &w2, &f, "canonical vs not");
            struct csvi_file_result a, b;
            memset(&a, 0, sizeof a);
            memset(&b, 0, sizeof b);
            a.rows = b.rows = n;
            cr_assert_eq(state_encode(&f.cfg, &a, &whole, 1), 0);
            cr_assert_eq(state_encode(&f.cfg, &b, &acc, 1), 0);
            cr_assert(a.state_len == b.state_len && !memcmp(a.state, b.state, a.state_len),
                      "round %d: the states differ", round);
            free(a.state);
            free(b.state);
            column_free(&whole);
            column_free(&acc);
        }
    }
}

/* ---- refusals -------------------------------------------------------------- */

static void reseal(uint8_t *p, size_t n) /* a checksum that matches */
{
    uint64_t h = XXH3_64bits(p, n - 8);
    for (int i = 0; i < 8; i++)
        p[n - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void expect_refused(const uint8_t *p, size_t n, const char *want, const char *what)
{
    struct file_state fs;
    const char *why = NULL;
    int rc = state_decode(p, n, &fs, &why);
    if (rc == 0)
        state_free(&fs);
    cr_assert_eq(rc, -EINVAL, "%s: accepted", what);
    cr_assert_not_null(why);
    if (want)
        cr_assert_not_null(strstr(why, want), "%s: says \"%s\"", what, why);
}

/* Offset of the column count: version, options length + block, 4 facts. */
static size_t ncols_offset(const uint8_t *p)
{
    size_t at = 1, olen = 0;
    for (int shift = 0;; shift += 7) {
        olen |= (size_t)(p[at] & 0x7F) << shift;
        if (!(p[at++] & 0x80))
            break;
    }
    at += olen;
    for (int k = 0; k < 4; k++)
        while (p[at++] & 0x80)
            ;
    return at;
}

Test(state, damaged_states_are_refused)
{
    struct fixture f;
    fixture_init(&f, true);
    struct column_state cols[3];
    struct csvi_file_result r;
    random_state(&f, 3, cols, &r);
    cr_assert_eq(state_encode(&f.cfg, &r, cols, 3), 0);
    uint8_t *p = malloc(r.state_len + 16);
    for (size_t n = 0; n < r.state_len; n++) /* every truncation */
        expect_refused(r.state, n, NULL, "truncated");
    for (size_t i = 0; i < r.state_len; i++) /* every bit */
        for (int bit = 0; bit < 8; bit++) {
            memcpy(p, r.state, r.state_len);
            p[i] ^= (uint8_t)(1u << bit);
            expect_refused(p, r.state_len, NULL, "a bit flipped");
        }
    /* a version this build does not read, with a valid checksum */
    memcpy(p, r.state, r.state_len);
    cr_assert_eq(p[0], 2, "a tolerant state is version 2");
    p[0] = 3;
    reseal(p, r.state_len);
    expect_refused(p, r.state_len, "version", "version 3");
    /* a tolerant state of version 1 (before date sets): named as such */
    p[0] = 1;
    reseal(p, r.state_len);
    expect_refused(p, r.state_len, "older csvinfer", "tolerant version 1");
    /* column counts that do not match the column states, resealed */
    size_t at = ncols_offset(r.state);
    cr_assert_eq(r.state[at], 3);
    static const uint8_t wrong[] = {2, 4, 0, 0x7F};
    for (size_t k = 0; k < sizeof wrong; k++) {
        memcpy(p, r.state, r.state_len);
        p[at] = wrong[k];
        reseal(p, r.state_len);
        expect_refused(p, r.state_len, "column", "wrong column count");
    }
    /* a huge column count (a 10-byte varint) */
    memcpy(p, r.state, at);
    memset(p + at, 0xFF, 9);
    p[at + 9] = 0x01;
    memcpy(p + at + 10, r.state + at + 1, r.state_len - at - 1);
    size_t n2 = r.state_len + 9;
    reseal(p, n2);
    expect_refused(p, n2, NULL, "huge column count");
    /* trailing bytes before the checksum */
    memcpy(p, r.state, r.state_len - 8);
    p[r.state_len - 8] = 0;
    n2 = r.state_len + 1;
    reseal(p, n2);
    expect_refused(p, n2, "column", "trailing byte");
    /* a malformed options block: threshold 0 (its first varint is the bits) */
    memcpy(p, r.state, r.state_len);
    size_t olen_at = 1;
    while (p[olen_at] & 0x80)
        olen_at++;
    /* the IEEE bits of 0.75 take 9 varint bytes; make them 0 keeping the length */
    memset(p + olen_at + 1, 0x80, 8);
    p[olen_at + 9] = 0;
    reseal(p, r.state_len);
    expect_refused(p, r.state_len, "options", "threshold 0");
    free(p);
    free(r.state);
    free_cols(cols, 3);
}

Test(state, a_count_above_the_rows_is_refused)
{
    struct fixture f;
    fixture_init(&f, false);
    struct column_state c;
    column_init(&c, false);
    int idx[] = {0, 1, 2};
    add_values(&f, &c, idx, 3, 1);
    column_canonical(&c);
    struct csvi_file_result r;
    memset(&r, 0, sizeof r);
    r.rows = 2; /* fewer rows than the column has values */
    cr_assert_eq(state_encode(&f.cfg, &r, &c, 1), 0);
    expect_refused(r.state, r.state_len, "column", "count > rows");
    free(r.state);
    column_free(&c);
}
