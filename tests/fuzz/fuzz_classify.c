/*
 * fuzz_classify.c — libFuzzer target for value classification (classify.c,
 * datetime.c) and the value-level public API (csvi_value_type).
 *
 * Input: byte 0 holds flags (bit 0: the field was quoted; bit 1:
 * quoted_empty_is_text; bit 2: no_trim), the rest is one field's content.
 * classify_field runs with a classify_cfg from classify_cfg_init and the
 * default null tokens (NULL null NA N/A \N).  Invariants (abort() if broken):
 *   - TEXT is set unless the result is exactly the NULL bit;
 *   - INTEGER implies DECIMAL and DOUBLE; DATE implies TIMESTAMP and
 *     TIMESTAMPTZ; TIMESTAMP implies TIMESTAMPTZ;
 *   - date_fmts is nonzero (and within DF_ALL) when DATE/TIMESTAMP/TIMESTAMPTZ is set;
 *   - null_bits is nonzero exactly for a null, with known bits only, and
 *     classify_null_bits gives the same bits (internal.h: "the null
 *     decisions of classify_field alone");
 *   - csvi_value_type on the raw bytes returns a valid type, and, for a
 *     field without '"' (so no unquoting) classified unquoted with default
 *     options, the most specific type of classify_field's set (a one-value
 *     column's verdict).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const NULLS[] = {"NULL", "null", "NA", "N/A", "\\N"};
static const size_t NULL_LENS[] = {4, 4, 2, 3, 2};

static void fail(const char *what, uint32_t types)
{
    fprintf(stderr, "fuzz_classify: %s (types 0x%x)\n", what, (unsigned)types);
    abort();
}

static void check_class(const struct field_class *fc)
{
    uint32_t t = fc->types;
    const uint32_t NUL = CSVI_BIT(CSVI_TYPE_NULL), TXT = CSVI_BIT(CSVI_TYPE_TEXT);
    if (t & ~((1u << CSVI_TYPE_COUNT) - 1u))
        fail("bits outside the types", t);
    if (t != NUL && !(t & TXT))
        fail("TEXT not set and the result is not exactly NULL", t);
    if ((t & NUL) && t != NUL)
        fail("NULL together with other types", t);
    if ((t & CSVI_BIT(CSVI_TYPE_INTEGER)) &&
        (t & (CSVI_BIT(CSVI_TYPE_DECIMAL) | CSVI_BIT(CSVI_TYPE_DOUBLE))) !=
            (CSVI_BIT(CSVI_TYPE_DECIMAL) | CSVI_BIT(CSVI_TYPE_DOUBLE)))
        fail("INTEGER without DECIMAL and DOUBLE", t);
    if ((t & CSVI_BIT(CSVI_TYPE_DECIMAL)) && !(t & CSVI_BIT(CSVI_TYPE_DOUBLE)))
        fail("DECIMAL without DOUBLE", t);
    if ((t & CSVI_BIT(CSVI_TYPE_DATE)) &&
        (t & (CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ))) !=
            (CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ)))
        fail("DATE without TIMESTAMP and TIMESTAMPTZ", t);
    if ((t & CSVI_BIT(CSVI_TYPE_TIMESTAMP)) && !(t & CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ)))
        fail("TIMESTAMP without TIMESTAMPTZ", t);
    if ((t & (CSVI_BIT(CSVI_TYPE_DATE) | CSVI_BIT(CSVI_TYPE_TIMESTAMP) |
              CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ))) &&
        (fc->date_fmts == 0 || (fc->date_fmts & ~DF_ALL)))
        fail("date/timestamp type with no (or an unknown) date format", t);
    if ((t & CSVI_BIT(CSVI_TYPE_DECIMAL)) &&
        (unsigned)fc->int_digits + fc->scale > CSVI_NUMERIC_MAX_PRECISION)
        fail("DECIMAL with more than 38 digits", t);
}

/* The verdict of a column holding this one value (column_verdict). */
static enum csvi_type expected_type(const struct field_class *fc)
{
    if (fc->types == CSVI_BIT(CSVI_TYPE_NULL))
        return CSVI_TYPE_NULL;
    for (int t = CSVI_TYPE_BOOLEAN; t < CSVI_TYPE_TEXT; t++)
        if (fc->types & CSVI_BIT(t))
            return (enum csvi_type)t;
    return CSVI_TYPE_TEXT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    size_t n = size - 1;
    /* own allocation of exactly n bytes: ASan catches reads past the field */
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    memcpy(p, data + 1, n);
    bool quoted = flags & 1, qe_text = (flags >> 1) & 1, no_trim = (flags >> 2) & 1;

    struct classify_cfg cfg;
    classify_cfg_init(&cfg, NULLS, NULL_LENS, 5, qe_text, no_trim);
    struct field_class fc;
    classify_field(p, n, quoted, &cfg, &fc);
    check_class(&fc);
    bool is_null = fc.types == CSVI_BIT(CSVI_TYPE_NULL);
    if (is_null != (fc.null_bits != 0))
        fail("null_bits set on a non-null, or a null without null_bits", fc.types);
    if (fc.null_bits & ~(CSVI_NULL_EMPTY | CSVI_NULL_QUOTED_EMPTY | CSVI_NULL_TOKEN_BITS |
                         CSVI_NULL_TOKEN_PADDED | CSVI_NULL_TOKEN_QUOTED))
        fail("unknown null_bits", fc.null_bits);
    if (classify_null_bits(p, n, quoted, &cfg) != fc.null_bits)
        fail("classify_null_bits disagrees with classify_field", fc.types);

    /* the public value-level API on the raw bytes (quotes parsed as in a file) */
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.quoted_empty_is_text = qe_text;
    opt.no_trim = no_trim;
    enum csvi_type vt = csvi_value_type((const char *)p, n, &opt);
    if ((unsigned)vt >= CSVI_TYPE_COUNT)
        fail("csvi_value_type returned no type", (uint32_t)vt);
    if (!quoted && !memchr(p, '"', n)) {
        struct field_class fc0;
        classify_field(p, n, false, &cfg, &fc0);
        if (vt != expected_type(&fc0)) {
            fprintf(stderr, "fuzz_classify: csvi_value_type %s, classify_field says %s\n",
                    csvi_type_name(vt), csvi_type_name(expected_type(&fc0)));
            fail("csvi_value_type differs from the one-value verdict", fc0.types);
        }
    }
    free(p);
    return 0;
}
