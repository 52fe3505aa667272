/*
 * test_column.c — the verdict algebra: column_join is a commutative monoid.
 *
 * For random columns drawn from value pools of every type, the verdict of
 * the whole column must equal the verdict of any random partition of it,
 * each part summarised on its own and the parts joined in a random order
 * and grouping — in strict and in tolerant mode.  This is what lets slices
 * be processed by any thread in any order.
 */
#include "internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const pool_int[] = {"0", "1", "-5", "42", "32767", "-32769", "2147483648",
                                       "9223372036854775807", "-9223372036854775808", "7"};
static const char *const pool_dec[] = {"1.5", "-0.25", ".5", "3.", "12345.678", "0.001",
                                       "9223372036854775808"};
static const char *const pool_dbl[] = {"1e5", "NaN", "-Inf", "2.5E-3"};
static const char *const pool_date[] = {"2024-01-02", "2024-02-29", "1999-12-31", "03/04/2024",
                                        "13/01/2024", "04/13/2024"};
static const char *const pool_ts[] = {"2024-01-02 10:00:00", "2024-01-02T10:00", "2024-01-02 10:00:00.5",
                                      "2024-01-02T10:00:00Z", "2024-01-02 10:00+02:00"};
static const char *const pool_misc[] = {"true", "no", "Y", "10:30", "23:59:59.9",
                                        "123e4567-e89b-12d3-a456-426614174000", "hello", "007",
                                        "héllo wörld", "", "NA", "NULL", "  "};

struct pool {
    const char *const *v;
    size_t n;
};
#define POOL(a) {a, sizeof a / sizeof *a}
static const struct pool pools[] = {POOL(pool_int), POOL(pool_dec), POOL(pool_dbl),
                                    POOL(pool_date), POOL(pool_ts), POOL(pool_misc)};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const struct classify_cfg *cfg(void)
{
    static const char *const toks[] = {"NULL", "null", "NA", "N/A", "\\N"};
    static const size_t lens[] = {4, 4, 2, 3, 2};
    static struct classify_cfg c;
    if (!c.n_null)
        classify_cfg_init(&c, toks, lens, 5, false, false);
    return &c;
}

/* A random column: mostly from one or two pools, so every verdict type shows up. */
static size_t random_column(const char **vals, size_t cap)
{
    size_t n = 1 + rnd() % cap;
    const struct pool *a = &pools[rnd() % 6], *b = &pools[rnd() % 6];
    unsigned mix = (unsigned)(rnd() % 4); /* 0: pure a; else some of b */
    for (size_t i = 0; i < n; i++) {
        const struct pool *p = (mix && rnd() % 8 == 0) ? b : a;
        vals[i] = p->v[rnd() % p->n];
    }
    return n;
}

static void add_value(struct column_state *c, const char *v, uint64_t line)
{
    struct field_class fc;
    classify_field((const uint8_t *)v, strlen(v), false, cfg(), &fc);
    column_add(c, &fc, (const uint8_t *)v, strlen(v), line);
}

static void expect_same_verdict(const struct column_state *a, const struct column_state *b,
                                double threshold, bool dayfirst, int iter)
{
    struct csvi_column va = {0}, vb = {0};
    column_verdict(a, threshold, dayfirst, &va);
    column_verdict(b, threshold, dayfirst, &vb);
    cr_assert_eq(va.type, vb.type, "iter %d: type %s vs %s", iter, csvi_type_name(va.type),
                 csvi_type_name(vb.type));
    cr_assert_eq(va.count, vb.count, "iter %d", iter);
    cr_assert_eq(va.null_count, vb.null_count, "iter %d", iter);
    cr_assert_eq(va.min, vb.min, "iter %d", iter);
    cr_assert_eq(va.max, vb.max, "iter %d", iter);
    cr_assert_eq(va.precision, vb.precision, "iter %d", iter);
    cr_assert_eq(va.scale, vb.scale, "iter %d", iter);
    cr_assert_str_eq(va.format, vb.format, "iter %d", iter);
    cr_assert_eq(va.max_length, vb.max_length, "iter %d", iter);
    cr_assert_eq(va.max_bytes, vb.max_bytes, "iter %d", iter);
    cr_assert_eq(va.exception_count, vb.exception_count, "iter %d", iter);
    cr_assert_eq(va.n_examples, vb.n_examples, "iter %d", iter);
    for (size_t i = 0; i < va.n_examples; i++) {
        cr_assert_eq(va.examples[i].line, vb.examples[i].line, "iter %d", iter);
        cr_assert_str_eq(va.examples[i].value, vb.examples[i].value, "iter %d", iter);
    }
}

static void partition_check(bool tolerant, double threshold)
{
    enum { MAXV = 300, MAXPARTS = 12 };
    const char *vals[MAXV];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = random_column(vals, MAXV);
        struct column_state whole;
        column_init(&whole, tolerant);
        for (size_t i = 0; i < n; i++)
            add_value(&whole, vals[i], i + 1);

        /* random partition: each value goes to a random part (not contiguous) */
        size_t k = 1 + rnd() % MAXPARTS;
        struct column_state parts[MAXPARTS];
        for (size_t p = 0; p < k; p++)
            column_init(&parts[p], tolerant);
        for (size_t i = 0; i < n; i++)
            add_value(&parts[rnd() % k], vals[i], i + 1);

        /* join in random order and grouping: repeatedly merge two random parts */
        size_t live = k;
        while (live > 1) {
            size_t i = rnd() % live, j = rnd() % (live - 1);
            if (j >= i)
                j++;
            cr_assert(column_join(&parts[i], &parts[j]), "iter %d: out of memory", iter);
            column_free(&parts[j]);
            parts[j] = parts[live - 1];
            live--;
        }
        expect_same_verdict(&whole, &parts[0], threshold, iter % 2, iter);
        column_free(&parts[0]);
        column_free(&whole);
    }
}

Test(column, join_of_random_partition_equals_whole_strict) { partition_check(false, 1.0); }

Test(column, join_of_random_partition_equals_whole_tolerant) { partition_check(true, 0.8); }

Test(column, identity_and_commutativity)
{
    const char *vals[200];
    for (int iter = 0; iter < 500; iter++) {
        size_t n = random_column(vals, 200);
        struct column_state a, b, id, ab, ba;
        column_init(&a, true);
        column_init(&b, true);
        column_init(&id, true);
        for (size_t i = 0; i < n; i++)
            add_value((i % 3) ? &a : &b, vals[i], i + 1);
        column_init(&ab, true);
        column_join(&ab, &a);
        column_join(&ab, &b);
        column_init(&ba, true);
        column_join(&ba, &b);
        column_join(&ba, &a);
        expect_same_verdict(&ab, &ba, 0.7, false, iter);
        struct column_state a2;
        column_init(&a2, true);
        column_join(&a2, &a);
        column_join(&a2, &id);
        expect_same_verdict(&a, &a2, 0.7, false, iter);
        column_free(&a);
        column_free(&b);
        column_free(&id);
        column_free(&ab);
        column_free(&ba);
        column_free(&a2);
    }
}

/* The short paths of slice.c's column loops (classify_expected,
 * classify_plain_int, classify_plain_decimal) must say what classify_field
 * says whenever they accept a value: random strings near every shape they
 * know (integers at the int64 limits, decimals near 38 digits, ISO dates
 * and timestamps with each byte changed, uuids, booleans), with null tokens
 * that look like numbers in one of the two configurations. */
static void random_near_shape(char *s, size_t *n)
{
    static const char *const seeds[] = {
        "0", "-0", "+7", "42", "9223372036854775807", "-9223372036854775808",
        "12345678", "-87654321", "100000000", "+999999999999999", "1234567890123456",
        "-0.123456789012", "12345678901.5", "7.473e+00", "6.02214076E+23", "877e+21",
        "1.5e-300", "0.5E3", "1.e5", ".5e1", "1.2e-56789", "-9e280", "00e1", "1e",
        "2.5e+3x", "1.2e-00005", "12.e-00001", "2000-02-29", "1900-02-29", "2024-04-31",
        "2024-00-10", "2024-10-00", "2024-1-010",
        "9223372036854775808", "12345678901234567890", "007", "1.5", "-0.25", ".5", "3.",
        "00.5", "12345678901234567890123456789.012345678", "1e5", "-3.3110e-107",
        "2024-02-29", "2023-02-29", "2024-13-01", "2024-01-02 10:00:00", "2024-01-02T24:00:00",
        "2024-01-02 24:00:01", "2024-01-02 10:60:00", "0001-01-01", "0000-01-01",
        "1999-12-31 23:59:59", "2024-02-29 00:00:00", "2023-02-29T12:00:00", "2024-01-02 20:00:00",
        "0000-01-01 00:00:00", "2024-01-02 25:00:00", "2024-01-02T19:59:59", "2024-12-31 23:59:60",
        "123e4567-e89b-12d3-a456-426614174000", "true", "FALSE", "y", "no", "-1", "NA", "-",
        "+", ".", "1234-56-78", " 42", "42 "};
    const char *b = seeds[rnd() % (sizeof seeds / sizeof *seeds)];
    *n = strlen(b);
    memcpy(s, b, *n);
    static const char alpha[] = "0123456789-+.:eET xN/ \t9";
    int k = (int)(rnd() % 3);
    for (int j = 0; j < k && *n; j++) {
        size_t at = rnd() % *n;
        switch (rnd() % 3) {
        case 0: s[at] = alpha[rnd() % (sizeof alpha - 1)]; break;
        case 1: if (*n < 60) { memmove(s + at + 1, s + at, *n - at); s[at] = alpha[rnd() % (sizeof alpha - 1)]; (*n)++; } break;
        default: memmove(s + at, s + at + 1, *n - at - 1); (*n)--; break;
        }
    }
}

Test(column, short_paths_agree_with_classify_field)
{
    static const char *const toks2[] = {"0", "-1", "NA", "1e5"};
    static const size_t lens2[] = {1, 2, 2, 3};
    struct classify_cfg numeric_nulls;
    classify_cfg_init(&numeric_nulls, toks2, lens2, 4, false, false);
    const struct classify_cfg *cfgs[2] = {cfg(), &numeric_nulls};
    const uint32_t T = CSVI_BIT(CSVI_TYPE_TEXT);
    const uint32_t expects[] = {
        CSVI_INT_CHAIN, CSVI_DEC_CHAIN, CSVI_BIT(CSVI_TYPE_DOUBLE) | T,
        CSVI_BIT(CSVI_TYPE_DATE) | CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | T,
        CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | T,
        CSVI_BIT(CSVI_TYPE_UUID) | T, CSVI_BIT(CSVI_TYPE_BOOLEAN) | T, T, 0};
    char s[64];
    int doubles16 = 0, timestamps19 = 0;
    for (int round = 0; round < 300000; round++) {
        size_t n;
        random_near_shape(s, &n);
        const struct classify_cfg *cc = cfgs[round & 1];
        const uint8_t *p = (const uint8_t *)s;
        struct field_class ref;
        classify_field(p, n, false, cc, &ref);
        for (size_t e = 0; e < sizeof expects / sizeof *expects; e++) {
            struct field_class fc;
            if (!classify_expected(expects[e], p, n, cc, &fc))
                continue;
            cr_assert_eq(fc.types, ref.types, "'%.*s' expect %x: %x, classify_field %x", (int)n,
                         s, expects[e], fc.types, ref.types);
            uint32_t t = fc.types;
            if (t & CSVI_BIT(CSVI_TYPE_INTEGER))
                cr_assert_eq(fc.ival, ref.ival, "'%.*s': ival", (int)n, s);
            if (t & CSVI_BIT(CSVI_TYPE_DECIMAL))
                cr_assert(fc.int_digits == ref.int_digits && fc.scale == ref.scale,
                          "'%.*s': digits", (int)n, s);
            if (t & CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ))
                cr_assert(fc.date_fmts == ref.date_fmts && fc.time_flags == ref.time_flags,
                          "'%.*s': formats", (int)n, s);
        }
        int64_t iv;
        uint32_t d, sc;
        if (classify_plain_int(p, n, cc, &iv, &d)) {
            cr_assert_eq(ref.types, CSVI_INT_CHAIN, "'%.*s' plain int: %x", (int)n, s, ref.types);
            cr_assert(iv == ref.ival && d == ref.int_digits && ref.scale == 0, "'%.*s'", (int)n, s);
        }
        bool dec = classify_plain_decimal(p, n, cc, &d, &sc);
        if (dec) {
            cr_assert_eq(ref.types, CSVI_DEC_CHAIN, "'%.*s' plain decimal: %x", (int)n, s,
                         ref.types);
            cr_assert(d == ref.int_digits && sc == ref.scale, "'%.*s'", (int)n, s);
        }
        /* the 16-byte version reads past the value: fill it with digits and points */
        static const char after[] = "0123456789.-+ ,";
        for (size_t k = n; k < sizeof s; k++)
            s[k] = after[rnd() % (sizeof after - 1)];
        int64_t ivp, iv16 = 99;
        uint32_t dp, d16 = 99, sc16 = 99;
        bool plain_int = classify_plain_int(p, n, cc, &ivp, &dp);
        cr_assert_eq(classify_plain_int16(p, n, cc, &iv16, &d16), plain_int,
                     "'%.*s' (then '%.*s'): int16 says %d", (int)n, s, (int)(16 - n % 16), s + n,
                     !plain_int);
        if (plain_int)
            cr_assert(iv16 == ivp && d16 == dp, "'%.*s': int16 %lld,%u against %lld,%u", (int)n,
                      s, (long long)iv16, d16, (long long)ivp, dp);
        struct field_class dfc;
        bool iso_date = n == 10 &&
                        classify_expected(CSVI_BIT(CSVI_TYPE_DATE) | CSVI_BIT(CSVI_TYPE_TIMESTAMP) |
                                              CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) |
                                              CSVI_BIT(CSVI_TYPE_TEXT),
                                          p, n, cc, &dfc) &&
                        dfc.types == ref.types && ref.date_fmts == CSVI_BIT(DF_YMD_DASH) &&
                        (ref.types & CSVI_BIT(CSVI_TYPE_DATE));
        cr_assert_eq(classify_iso_date16(p, n, cc), iso_date, "'%.*s' (then '%.*s'): date16 %d",
                     (int)n, s, 6, s + n, !iso_date);
        uint8_t tf19 = 0xEE;
        bool iso_ts = n == 19 &&
                      classify_expected(CSVI_BIT(CSVI_TYPE_TIMESTAMP) |
                                            CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | CSVI_BIT(CSVI_TYPE_TEXT),
                                        p, n, cc, &dfc) &&
                      dfc.types == ref.types && ref.date_fmts == CSVI_BIT(DF_YMD_DASH) &&
                      ref.types == (CSVI_BIT(CSVI_TYPE_TIMESTAMP) |
                                    CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | CSVI_BIT(CSVI_TYPE_TEXT));
        cr_assert_eq(classify_iso_ts19(p, n, cc, &tf19), iso_ts, "'%.*s': ts19 %d", (int)n, s,
                     !iso_ts);
        if (iso_ts) {
            cr_assert_eq(tf19, ref.time_flags, "'%.*s': ts19 time flags", (int)n, s);
            timestamps19++;
        }
        if (classify_plain_double16(p, n, cc)) {
            cr_assert_eq(ref.types, CSVI_BIT(CSVI_TYPE_DOUBLE) | CSVI_BIT(CSVI_TYPE_TEXT),
                         "'%.*s' (then '%.*s'): double16 says double, classify_field %x", (int)n,
                         s, (int)(16 - n % 16), s + n, ref.types);
            doubles16++;
        }
        d16 = 99;
        cr_assert_eq(classify_plain_decimal16(p, n, cc, &d16, &sc16), dec,
                     "'%.*s' (then '%.*s'): decimal16 says %d", (int)n, s, (int)(16 - n % 16),
                     s + n, !dec);
        if (dec)
            cr_assert(d16 == d && sc16 == sc, "'%.*s': decimal16 %u,%u against %u,%u", (int)n,
                      s, d16, sc16, d, sc);
    }
    cr_assert(doubles16 > 10000, "double16 took only %d values", doubles16);
    cr_assert(timestamps19 > 5000, "ts19 took only %d values", timestamps19);
}

/* slice_text_run decides two shapes of a settled text column's values from
 * the raw field (plain unquoted values, quoted values no longer than the
 * longest so far): random raw fields near both shapes and their edges
 * (quotes, "" pairs, spaces and tabs at either end, null tokens bare,
 * padded and quoted, empty and quoted-empty values, UTF-8, lengths around
 * max_chars) must leave the state column_add_settled gives value by value. */
static size_t random_raw_field(char *s, uint32_t *nquotes)
{
    static const char *const parts[] = {"\"", "\"\"", " ", "\t", "NA", "NULL", "null", "N/A",
                                        "\\N", "x", "hello", "é", "wörld", "7", "-", ",",
                                        "\"NA\"", "\"\"\"\"", "ab\"c", "\xE2\x82\xAC"};
    size_t n = 0, k = rnd() % 6;
    if (rnd() % 2)
        s[n++] = '"';
    for (size_t i = 0; i < k; i++) {
        const char *p = parts[rnd() % (sizeof parts / sizeof *parts)];
        size_t l = strlen(p);
        if (n + l + 1 > 60)
            break;
        memcpy(s + n, p, l);
        n += l;
    }
    if (rnd() % 2)
        s[n++] = '"';
    uint32_t q = 0;
    for (size_t i = 0; i < n; i++)
        q += s[i] == '"';
    *nquotes = q;
    return n;
}

Test(column, settled_text_run_agrees_with_column_add_settled)
{
    static const char *const toks2[] = {"\"", " x", "\xC3\xA9", "-"};
    static const size_t lens2[] = {1, 2, 2, 1};
    struct classify_cfg odd, qe, nt;
    classify_cfg_init(&odd, toks2, lens2, 4, false, false);
    static const char *const toks[] = {"NULL", "null", "NA", "N/A", "\\N"};
    static const size_t lens[] = {4, 4, 2, 3, 2};
    classify_cfg_init(&qe, toks, lens, 5, true, false);
    classify_cfg_init(&nt, toks, lens, 5, false, true);
    const struct classify_cfg *cfgs[4] = {cfg(), &odd, &qe, &nt};
    enum { NF = 40 };
    uint8_t buf[NF * 64], scratch[64];
    struct scan_field f[NF];
    for (int round = 0; round < 40000; round++) {
        const struct classify_cfg *cc = cfgs[round & 3];
        size_t at = 0, nf = 1 + rnd() % NF;
        for (size_t i = 0; i < nf; i++) {
            uint32_t nq;
            size_t n = random_raw_field((char *)buf + at, &nq);
            f[i] = (struct scan_field){at, at + n, nq};
            at += n;
            buf[at++] = ','; /* what follows a field in a slice */
        }
        struct column_state a, b;
        column_init(&a, false);
        column_init(&b, false);
        a.max_bytes = b.max_bytes = rnd() % 12; /* start from a longest value */
        a.max_chars = b.max_chars = a.max_bytes - rnd() % (a.max_bytes + 1);
        size_t r0 = rnd() % 3 < 2 ? 0 : rnd() % nf;
        /* as slice_infer reads them from its index: field ends (a ',' after
         * each field, so the next starts one past it; the entry before the
         * first is UINT32_MAX), quote bytes before each */
        uint32_t pos[NF + 1], qcum[NF + 1];
        pos[0] = UINT32_MAX;
        qcum[0] = 0;
        for (size_t i = 0; i < nf; i++) {
            pos[i + 1] = (uint32_t)f[i].end;
            qcum[i + 1] = qcum[i] + f[i].nquotes;
        }
        struct field_batch fb = {pos + 1, qcum + 1, 1, SIZE_MAX};
        cr_assert_eq(slice_text_run(&a, buf, &fb, 0, r0, nf, '"', cc, scratch), nf);
        for (size_t i = r0; i < nf; i++) {
            size_t len;
            bool quoted;
            const uint8_t *v = field_content(buf, &f[i], '"', scratch, &len, &quoted);
            column_add_settled(&b, classify_null_bits(v, len, quoted, cc), v, len);
        }
        cr_assert(a.count == b.count && a.nulls == b.nulls && a.null_kinds == b.null_kinds &&
                      a.max_bytes == b.max_bytes && a.max_chars == b.max_chars,
                  "round %d (cfg %d): count %llu/%llu nulls %llu/%llu kinds %x/%x bytes "
                  "%llu/%llu chars %llu/%llu",
                  round, round & 3, (unsigned long long)a.count, (unsigned long long)b.count,
                  (unsigned long long)a.nulls, (unsigned long long)b.nulls, a.null_kinds,
                  b.null_kinds, (unsigned long long)a.max_bytes, (unsigned long long)b.max_bytes,
                  (unsigned long long)a.max_chars, (unsigned long long)b.max_chars);
    }
}

/* slice_infer's column loops (integer, decimal, the shapes of
 * classify_expected with their facts in registers, settled text) against
 * classify_field + column_add value by value (column_add_settled once the
 * column is settled, as the engine does): random columns that keep one
 * shape for long runs (so the loops run) and break it now and then with
 * values near every shape, a few rows to a few batches. */
static const char *const shape_pools[][6] = {
    {"0", "42", "-7", "32767", "9223372036854775807", "+15"},
    {"1.5", "-0.25", ".5", "3.", "99999.99", "-9.9999"},
    {"1e5", "2.5E-3", "-3.3e-107", "NaN", "6.02E+23", "1.0e0"},
    {"2024-01-02", "2024-02-29", "1999-12-31", "0001-01-01", "03/04/2024", "2000-02-29"},
    {"2024-01-02 10:00:00", "2024-01-02T23:59:59", "1999-12-31 24:00:00", "2024/02/29 00:00:00",
     "2023-06-15 12:30", "2024-01-02T10:00:00"},
    {"123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000",
     "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "aBcDeF01-2345-6789-abcd-ef0123456789",
     "15780b2e-0c2e-4716-a104-d9866d113a7e", "d9f4b354-ec38-44d4-b521-5f43ed431a77"},
    {"true", "false", "T", "no", "YES", "n"},
    {"hello", "héllo", "a b", "x", "zürich street", "NA"},
};

static void column_state_eq(const struct column_state *a, const struct column_state *b,
                            int round, size_t col)
{
    for (int t = 0; t < CSVI_TYPE_COUNT; t++)
        cr_assert_eq(a->fit[t], b->fit[t], "round %d col %zu: fit[%d] %llu/%llu", round, col, t,
                     (unsigned long long)a->fit[t], (unsigned long long)b->fit[t]);
    cr_assert(a->count == b->count && a->nulls == b->nulls && a->null_kinds == b->null_kinds &&
                  a->and_types == b->and_types && a->imin == b->imin && a->imax == b->imax &&
                  a->dec_int_digits == b->dec_int_digits && a->dec_scale == b->dec_scale &&
                  a->fmts[0] == b->fmts[0] && a->fmts[1] == b->fmts[1] &&
                  a->fmts[2] == b->fmts[2] && a->tflags_time == b->tflags_time &&
                  a->tflags_ts == b->tflags_ts && a->max_bytes == b->max_bytes &&
                  a->max_chars == b->max_chars,
              "round %d col %zu: states differ (count %llu/%llu, and %x/%x, fmts %x/%x, "
              "tflags %x/%x, bytes %llu/%llu, chars %llu/%llu)",
              round, col, (unsigned long long)a->count, (unsigned long long)b->count,
              a->and_types, b->and_types, a->fmts[1], b->fmts[1], a->tflags_ts, b->tflags_ts,
              (unsigned long long)a->max_bytes, (unsigned long long)b->max_bytes,
              (unsigned long long)a->max_chars, (unsigned long long)b->max_chars);
}

Test(column, slice_loops_agree_with_column_add)
{
    enum { NC = 5, MAXR = 700 };
    static struct engine_cfg ec;
    csvi_options_init(&ec.opt);
    static char text[NC * MAXR * 64];
    struct slice_work w = {0}; /* kept from round to round, as a worker keeps it */
    cr_assert(slice_work_scratch(&w, sizeof text));
    for (int round = 0; round < 1500; round++) {
        ec.ccfg = *cfg();
        size_t ncols = 1 + rnd() % NC, rows = 1 + rnd() % MAXR;
        struct file_plan plan = {.cfg = &ec, .delim = ',', .quote = '"', .ncols = ncols};
        size_t home[NC];
        unsigned breaks[NC];
        struct column_state ref[NC];
        for (size_t c = 0; c < ncols; c++) {
            home[c] = rnd() % (sizeof shape_pools / sizeof *shape_pools);
            breaks[c] = 4 + (unsigned)(rnd() % 400); /* one value in `breaks` is off-shape */
            column_init(&ref[c], false);
        }
        size_t at = 0;
        for (size_t r = 0; r < rows; r++) {
            for (size_t c = 0; c < ncols; c++) {
                char v[64];
                size_t n;
                if (rnd() % breaks[c] == 0) {
                    random_near_shape(v, &n);
                } else {
                    const char *s = shape_pools[home[c]][rnd() % 6];
                    n = strlen(s);
                    memcpy(v, s, n);
                }
                if (n == 0 && ncols == 1) /* a blank line, not a value: not this test's */
                    v[n++] = 'x';
                const uint8_t *p = (const uint8_t *)v;
                if (column_settled(&ref[c])) {
                    column_add_settled(&ref[c], classify_null_bits(p, n, false, &ec.ccfg), p, n);
                } else {
                    struct field_class fc;
                    classify_field(p, n, false, &ec.ccfg, &fc);
                    column_add(&ref[c], &fc, p, n, r + 1);
                }
                memcpy(text + at, v, n);
                at += n;
                text[at++] = c + 1 < ncols ? ',' : '\n';
            }
        }
        struct slice_verdict sv;
        cr_assert_eq(slice_infer(&plan, (const uint8_t *)text, at, true, false, 1, false, &w, &sv),
                     0);
        cr_assert_eq(sv.rows, rows);
        for (size_t c = 0; c < ncols; c++) {
            struct column_state got = sv.cols[c];
            column_canonical(&got);
            column_canonical(&ref[c]);
            column_state_eq(&got, &ref[c], round, c);
        }
        slice_verdict_free(&sv);
    }
    slice_work_free(&w);
}

/* classify_number decides the range of a double with an exponent without
 * strtod where its decimal exponent is surely inside (exponent_in_range):
 * mantissas with leading zeros (or all zeros) and exponents around both
 * edges (overflow past 1.8e308, underflow to zero below 4.9e-324) must give
 * double exactly when strtod reads a finite value without underflow to 0. */
Test(column, double_exponent_range_agrees_with_strtod)
{
    char s[64];
    int doubles = 0, texts = 0;
    for (int round = 0; round < 200000; round++) {
        size_t n = 0;
        if (rnd() % 4 == 0)
            s[n++] = rnd() % 2 ? '-' : '+';
        size_t il = rnd() % 4, fl = rnd() % 5;
        bool point = fl || rnd() % 2;
        if (il + fl == 0)
            il = 1;
        if (il && rnd() % 3 == 0) /* "0.000ddd": the leading digit in the fraction */
            il = 1, s[n++] = '0';
        else /* no leading zero (a code, never a number) */
            for (size_t k = 0; k < il; k++)
                s[n++] = (char)(k ? '0' + rnd() % 10 : '1' + rnd() % 9);
        if (point)
            s[n++] = '.';
        for (size_t k = 0; k < fl; k++)
            s[n++] = (char)(rnd() % 2 ? '0' : '0' + rnd() % 10);
        s[n++] = rnd() % 2 ? 'e' : 'E';
        bool neg = rnd() % 2;
        if (neg || rnd() % 2)
            s[n++] = neg ? '-' : '+';
        n += (size_t)sprintf(s + n, "%d", (int)(rnd() % 2 ? 270 + rnd() % 70 : rnd() % 400));
        s[n] = '\0';
        errno = 0;
        double v = strtod(s, NULL);
        bool ok = !(errno == ERANGE && (v == 0.0 || isinf(v))) && !isinf(v);
        struct field_class fc;
        classify_field((const uint8_t *)s, n, false, cfg(), &fc);
        bool dbl = fc.types == (CSVI_BIT(CSVI_TYPE_DOUBLE) | CSVI_BIT(CSVI_TYPE_TEXT));
        cr_assert_eq(dbl, ok, "'%s': classify_field %x, strtod %g (errno %d)", s, fc.types, v,
                     errno);
        cr_assert(dbl || fc.types == CSVI_BIT(CSVI_TYPE_TEXT), "'%s': %x", s, fc.types);
        doubles += dbl;
        texts += !dbl;
    }
    cr_assert(doubles > 1000 && texts > 1000, "both outcomes: %d doubles, %d texts", doubles, texts);
}

/* The column loops' value templates (value_template.c): learned from a value
 * the exact check accepts, a template may take only values that check
 * accepts.  Random doubles near every edge of the check (signs, leading
 * zeros, integer parts of 0 to 4 digits, points or none, exponents of one to
 * four digits, 'e' and 'E'), then values of the same length made from them
 * byte by byte with digits, signs, points, 'e' and anything else; with null
 * tokens that start with a digit or a sign too.  Literal templates (the
 * booleans') take the same bytes only. */
static size_t random_double(char *s)
{
    size_t n = 0;
    uint64_t k = rnd() % 8;
    if (k == 0)
        s[n++] = '-';
    else if (k == 1)
        s[n++] = '+';
    size_t il = rnd() % 5, fl = rnd() % 5;
    for (size_t i = 0; i < il; i++)
        s[n++] = (char)(i == 0 && rnd() % 3 == 0 ? '0' : '0' + rnd() % 10);
    if (rnd() % 2)
        s[n++] = '.';
    for (size_t i = 0; i < fl; i++)
        s[n++] = (char)('0' + rnd() % 10);
    s[n++] = rnd() % 2 ? 'e' : 'E';
    if (rnd() % 2)
        s[n++] = rnd() % 2 ? '-' : '+';
    size_t el = 1 + rnd() % 4;
    for (size_t i = 0; i < el; i++)
        s[n++] = (char)('0' + rnd() % 10);
    return n;
}

Test(column, value_templates_keep_the_verdict)
{
    static const char *const toks2[] = {"0", "-", "9999", "NULL"};
    static const size_t lens2[] = {1, 1, 4, 4};
    struct classify_cfg digits_null;
    classify_cfg_init(&digits_null, toks2, lens2, 4, false, false);
    const struct classify_cfg *cfgs[2] = {cfg(), &digits_null};
    static const char bytes[] = "0123456789000-+.eE.x ";
    size_t learned = 0, taken = 0;
    for (int round = 0; round < 200000; round++) {
        const struct classify_cfg *cc = cfgs[round & 1];
        char v[32], w[32];
        memset(v, 'x', sizeof v);
        size_t n = random_double(v);
        if (n > 16 || !classify_plain_double16((const uint8_t *)v, n, cc))
            continue;
        struct value_template t, lit;
        if (!value_template_learn(&t, (const uint8_t *)v, n, VT_DOUBLE, cc))
            continue;
        cr_assert(value_template_learn(&lit, (const uint8_t *)v, n, VT_LITERAL, cc));
        learned++;
        for (int j = 0; j < 40; j++) {
            memcpy(w, v, sizeof w);
            for (uint64_t c = rnd() % 4; c; c--)
                w[rnd() % n] = bytes[rnd() % (sizeof bytes - 1)];
            for (size_t i = n; i < 16; i++) /* past the value: anything */
                w[i] = (char)(rnd() % 256);
            if (value_template_match(&lit, (const uint8_t *)w))
                cr_assert(!memcmp(v, w, n), "literal template of %.*s took %.*s", (int)n, v,
                          (int)n, w);
            if (!value_template_match(&t, (const uint8_t *)w))
                continue;
            taken++;
            cr_assert(classify_plain_double16((const uint8_t *)w, n, cc),
                      "template of %.*s took %.*s, not a double to the check", (int)n, v, (int)n,
                      w);
        }
    }
    cr_assert(learned > 10000 && taken > 100000, "only %zu templates, %zu values taken", learned,
              taken);
}

/* The error list (error_list_add): whatever order errors of distinct lines
 * come in (slices merge in order, but a slice's own list is built as its
 * records come), it holds the errors that end the file and, of the others,
 * the first by line, CSVI_MAX_ERRORS in all; the total counts every one. */
Test(column, error_list_keeps_the_errors_that_end_a_file)
{
    enum { N = 400 };
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + rnd() % N, nfatal = rnd() % 3;
        uint64_t lines[N];
        bool fatal[N];
        for (size_t i = 0; i < n; i++) { /* distinct lines, the fatal ones among the last */
            lines[i] = 1 + i * 3 + rnd() % 3;
            fatal[i] = i + nfatal >= n;
        }
        size_t order[N];
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd() % i, t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        struct csvi_error *list = NULL;
        size_t nl = 0;
        uint64_t total = 0;
        for (size_t k = 0; k < n; k++) {
            size_t i = order[k];
            char *msg = malloc(2); /* (owned by the list) */
            cr_assert_not_null(msg);
            memcpy(msg, "e", 2);
            error_list_add(&list, &nl, &total, lines[i],
                           fatal[i] ? CSVI_EK_UNTERMINATED_QUOTE : CSVI_EK_RAGGED_ROW, msg);
        }
        cr_assert_eq(total, n);
        size_t nf = n < nfatal ? n : nfatal, others = n - nf;
        size_t keep = others < CSVI_MAX_ERRORS - nf ? others : CSVI_MAX_ERRORS - nf;
        cr_assert_eq(nl, keep + nf, "round %d: %zu listed of %zu (%zu ending the file)", round,
                     nl, n, nf);
        for (size_t k = 0; k < keep; k++) /* the first `keep` others, in line order */
            cr_assert_eq(list[k].line, lines[k], "round %d: entry %zu", round, k);
        for (size_t k = 0; k < nf; k++) {
            cr_assert_eq(list[keep + k].line, lines[n - nf + k], "round %d", round);
            cr_assert(csvi_error_ends_file(list[keep + k].kind));
        }
        for (size_t k = 0; k < nl; k++)
            free(list[k].message);
        free(list);
    }
}
