/*
 * test_classify.c — the type rules of docs/types.md, checked through the
 * value-level API (csvi_value_type, csvi_infer_values, csvi_sql_type).
 *
 * Every expected value here was written by hand from docs/types.md and
 * DESIGN.md §2, never taken from a run of the implementation.
 *   - classify/single_values: one raw CSV field (quote char '"') -> its type;
 *   - options tests: --no-trim, --quoted-empty-is-text, --null, --dayfirst;
 *   - column tests: whole-column verdicts (widening, precision/scale, ranges,
 *     formats, lengths, nulls) and tolerant mode (--threshold).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "csvinfer.h"

/* Short names for the table. */
#define NUL CSVI_TYPE_NULL
#define BOO CSVI_TYPE_BOOLEAN
#define INT CSVI_TYPE_INTEGER
#define DEC CSVI_TYPE_DECIMAL
#define DBL CSVI_TYPE_DOUBLE
#define DAT CSVI_TYPE_DATE
#define TS  CSVI_TYPE_TIMESTAMP
#define TSZ CSVI_TYPE_TIMESTAMPTZ
#define TIM CSVI_TYPE_TIME
#define UID CSVI_TYPE_UUID
#define TXT CSVI_TYPE_TEXT

#define UUID_A "123e4567-e89b-12d3-a456-426614174000"

struct case_row {
    const char *field; /* raw field as it appears in the file */
    enum csvi_type want;
};

/* A type name that is never NULL, for messages. */
static const char *tn(enum csvi_type t)
{
    const char *s = csvi_type_name(t);
    return s ? s : "(null name)";
}

/* Field text made printable for a failure message. */
static const char *esc(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    buf[o++] = '[';
    for (; *s && o + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\t') { buf[o++] = '\\'; buf[o++] = 't'; }
        else if (c == '\n') { buf[o++] = '\\'; buf[o++] = 'n'; }
        else if (c == '\r') { buf[o++] = '\\'; buf[o++] = 'r'; }
        else if (c < 0x20) o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else buf[o++] = (char)c;
    }
    buf[o++] = ']';
    buf[o] = '\0';
    return buf;
}

/* Check one field's type under opt (NULL = defaults). */
static void expect_type(const char *field, enum csvi_type want, const struct csvi_options *opt,
                        const char *what)
{
    char b[256];
    enum csvi_type got = csvi_value_type(field, strlen(field), opt);
    cr_expect(got == want, "%s: field %s: expected %s, got %s", what, esc(field, b, sizeof b),
              tn(want), tn(got));
}

/* ------------------------------------------------------------------------ */
/* The table: one row per field.                                             */
/* ------------------------------------------------------------------------ */
static const struct case_row cases[] = {
    /* --- Nulls: default list, exact and case-sensitive, after trimming --- */
    {"", NUL}, {"NULL", NUL}, {"null", NUL}, {"NA", NUL}, {"N/A", NUL}, {"\\N", NUL},
    {" NULL ", NUL}, {"\tNA\t", NUL}, {"  N/A", NUL}, {"\\N ", NUL},
    /* quoted empty is null by default; a quoted null token is a null (Decision) */
    {"\"\"", NUL}, {"\"NULL\"", NUL}, {"\"null\"", NUL}, {"\"NA\"", NUL},
    {"\"N/A\"", NUL}, {"\"\\N\"", NUL}, {"\" NA \"", NUL},
    /* not in the list (case matters) */
    {"Null", TXT}, {"nULL", TXT}, {"NULLS", TXT}, {"na", TXT}, {"Na", TXT}, {"nA", TXT},
    {"n/a", TXT}, {"N/a", TXT}, {"nil", TXT}, {"NIL", TXT}, {"None", TXT}, {"none", TXT},
    {"\\n", TXT}, {"\\", TXT}, {"#N/A", TXT}, {"N/A/", TXT}, {"NULL NULL", TXT},
    {"\"Null\"", TXT}, {"\"na\"", TXT},

    /* --- Whitespace-only values are text, not null (Decision) --- */
    {" ", TXT}, {"   ", TXT}, {"\t", TXT}, {" \t ", TXT}, {"\" \"", TXT}, {"\"   \"", TXT},
    {"\"\t\"", TXT},

    /* --- Trimming: spaces/tabs around a value are ignored --- */
    {" 42 ", INT}, {"\t7\t", INT}, {"42 ", INT}, {"  -3  ", INT}, {" 3.14 ", DEC},
    {" 1e5 ", DBL}, {" NaN ", DBL}, {" true ", BOO}, {"\tno", BOO}, {" 2024-03-15 ", DAT},
    {" 10:30 ", TIM}, {" 2024-03-15 10:30 ", TS}, {" 2024-03-15T10:30:00Z ", TSZ},
    {"\" 42 \"", INT}, {"\"\t7 \"", INT},
    {"4 2", TXT}, {"- 1", TXT}, {"+ 1", TXT},

    /* --- boolean: true/false t/f yes/no y/n, any case --- */
    {"true", BOO}, {"false", BOO}, {"TRUE", BOO}, {"FALSE", BOO}, {"True", BOO},
    {"False", BOO}, {"tRuE", BOO}, {"fAlSe", BOO}, {"t", BOO}, {"f", BOO}, {"T", BOO},
    {"F", BOO}, {"yes", BOO}, {"no", BOO}, {"YES", BOO}, {"NO", BOO}, {"Yes", BOO},
    {"No", BOO}, {"yEs", BOO}, {"nO", BOO}, {"y", BOO}, {"n", BOO}, {"Y", BOO}, {"N", BOO},
    {"\"true\"", BOO}, {"\"Y\"", BOO},
    /* on/off and near misses are text; 0/1 are integers */
    {"on", TXT}, {"off", TXT}, {"ON", TXT}, {"OFF", TXT}, {"On", TXT}, {"Off", TXT},
    {"tru", TXT}, {"fals", TXT}, {"truee", TXT}, {"yess", TXT}, {"ye", TXT}, {"tr", TXT},
    {"true1", TXT}, {"t f", TXT}, {"ja", TXT}, {"oui", TXT}, {"0", INT}, {"1", INT},

    /* --- integer: optional sign, digits, int64, no leading zero --- */
    {"-0", INT}, {"+0", INT}, {"-1", INT}, {"+1", INT}, {"42", INT}, {"+42", INT},
    {"-42", INT}, {"10", INT}, {"100", INT}, {"1000000", INT}, {"2147483647", INT},
    {"2147483648", INT}, {"-2147483649", INT}, {"20240315", INT}, {"2024", INT},
    {"9223372036854775807", INT}, {"-9223372036854775808", INT},
    {"+9223372036854775807", INT}, {"\"123\"", INT}, {"\"+1\"", INT},
    /* leading zeros are codes */
    {"00", TXT}, {"000", TXT}, {"007", TXT}, {"00501", TXT}, {"01", TXT}, {"0123", TXT},
    {"-007", TXT}, {"+007", TXT}, {"-00", TXT}, {"+00", TXT}, {"-01", TXT}, {"\"007\"", TXT},
    /* not numbers */
    {"-", TXT}, {"+", TXT}, {"--1", TXT}, {"++1", TXT}, {"+-1", TXT}, {"-+1", TXT},
    {"1-", TXT}, {"1+", TXT}, {"1 000", TXT}, {"1,000", TXT}, {"1_000", TXT},
    {"0x1F", TXT}, {"1a", TXT}, {"a1", TXT}, {"1L", TXT}, {"$5", TXT}, {"5%", TXT},
    {"\"-\"", TXT},
    /* past int64: decimal, never wraps; past 38 digits: double */
    {"9223372036854775808", DEC}, {"-9223372036854775809", DEC},
    {"+9223372036854775808", DEC}, {"10000000000000000000", DEC},
    {"18446744073709551616", DEC},
    {"99999999999999999999999999999999999999", DEC},         /* 38 digits */
    {"-99999999999999999999999999999999999999", DEC},        /* 38 digits */
    {"100000000000000000000000000000000000000", DBL},        /* 39 digits */
    {"-100000000000000000000000000000000000000", DBL},       /* 39 digits */
    {"123456789012345678901234567890123456789", DBL},        /* 39 digits */
    {"1234567890123456789012345678901234567890123", DBL},    /* 43 digits */

    /* --- decimal: sign, digits, point, digits, >= 1 digit --- */
    {"0.5", DEC}, {"-0.5", DEC}, {"+0.5", DEC}, {".5", DEC}, {"-.5", DEC}, {"+.5", DEC},
    {"3.", DEC}, {"-3.", DEC}, {"+3.", DEC}, {"0.", DEC}, {"-0.", DEC}, {"0.0", DEC},
    {"-0.0", DEC}, {"0.001", DEC}, {"-12.50", DEC}, {"1.50", DEC}, {"3.14159", DEC},
    {"123.456", DEC}, {"100.0", DEC}, {"10.01", DEC}, {"12.30", DEC}, {"\"1.5\"", DEC},
    {"9223372036854775808.5", DEC}, {"12345678901234567890123456789.5", DEC},
    {"1234567890123456789012345678901234567.8", DEC},        /* p 38 */
    {"0.12345678901234567890123456789012345678", DEC},       /* p 38, s 38 */
    {"1234567890123456789012345678901234567.89", DBL},       /* p 39 */
    {"0.123456789012345678901234567890123456789", DBL},      /* p 39, s 39 */
    /* malformed */
    {".", TXT}, {"-.", TXT}, {"+.", TXT}, {"00.5", TXT}, {"01.5", TXT}, {"-01.5", TXT},
    {"00.", TXT}, {"00.0", TXT}, {"1.2.3", TXT}, {"1..2", TXT}, {"1.-2", TXT}, {".5.", TXT},
    {"1. 5", TXT}, {"1 .5", TXT}, {".-5", TXT}, {"1.5-", TXT}, {"1,5", TXT}, {"1.5f", TXT},

    /* --- double: exponent forms --- */
    {"1e5", DBL}, {"1E5", DBL}, {"1e+5", DBL}, {"1e-5", DBL}, {"-1e5", DBL}, {"+1e5", DBL},
    {"-2.5E-3", DBL}, {".5e1", DBL}, {"5.e3", DBL}, {"1.5e10", DBL}, {"0e0", DBL},
    {"0.0e0", DBL}, {"-0e0", DBL}, {"1e05", DBL}, {"-0.5e-3", DBL}, {"1e308", DBL},
    {"1.7976931348623157e308", DBL}, {"2.2250738585072014e-308", DBL}, {"\"1e5\"", DBL},
    /* NaN / Inf / Infinity, optional sign, any case: doubles, not nulls */
    {"NaN", DBL}, {"nan", DBL}, {"NAN", DBL}, {"-NaN", DBL}, {"+nan", DBL}, {"Inf", DBL},
    {"inf", DBL}, {"INF", DBL}, {"-Inf", DBL}, {"+inf", DBL}, {"-INF", DBL},
    {"Infinity", DBL}, {"infinity", DBL}, {"INFINITY", DBL}, {"-Infinity", DBL},
    {"+Infinity", DBL}, {"iNfInItY", DBL}, {"\"NaN\"", DBL},
    /* malformed or out of double range (Decision) */
    {"1e", TXT}, {"e5", TXT}, {"E5", TXT}, {"e", TXT}, {"1e+", TXT}, {"1e-", TXT},
    {"1e5.5", TXT}, {"1e5e5", TXT}, {"1ee5", TXT}, {"1.2e3.4", TXT}, {".e5", TXT},
    {"-e5", TXT}, {"00e5", TXT}, {"01e5", TXT}, {"01.5e2", TXT}, {"-01e2", TXT},
    {"1e400", TXT}, {"-1e400", TXT}, {"1E400", TXT}, {"1e-400", TXT}, {"1e309", TXT},
    {"123e4567", TXT}, {"NaNa", TXT}, {"nan1", TXT}, {"Infinit", TXT}, {"infinite", TXT},
    {"+-inf", TXT}, {"in f", TXT},

    /* --- date: the 15 formats --- */
    /* %Y-%m-%d */
    {"2024-03-15", DAT}, {"2024-3-5", DAT}, {"2024-03-5", DAT}, {"2024-3-15", DAT},
    {"2024-01-01", DAT}, {"2024-12-31", DAT}, {"0001-01-01", DAT}, {"9999-12-31", DAT},
    {"\"2024-03-15\"", DAT},
    /* leap years */
    {"2024-02-29", DAT}, {"2000-02-29", DAT}, {"2023-02-29", TXT}, {"1900-02-29", TXT},
    {"2100-02-29", TXT}, {"2024-02-30", TXT},
    /* invalid days/months/years */
    {"2024-04-31", TXT}, {"2024-06-31", TXT}, {"2024-09-31", TXT}, {"2024-11-31", TXT},
    {"2024-01-32", TXT}, {"2024-13-01", TXT}, {"2024-00-10", TXT}, {"2024-01-00", TXT},
    {"0000-01-01", TXT}, {"24-03-15", TXT}, {"2024-001-01", TXT}, {"12024-01-01", TXT},
    {"2024-03", TXT}, {"2024-0315", TXT}, {"2024 03 15", TXT}, {"2024.03.15", TXT},
    {"2024-03-15-", TXT},
    /* %Y/%m/%d */
    {"2024/03/15", DAT}, {"2024/3/5", DAT}, {"2024/02/30", TXT},
    /* %m/%d/%Y and %d/%m/%Y */
    {"03/15/2024", DAT}, {"3/15/2024", DAT}, {"3/5/2024", DAT}, {"15/03/2024", DAT},
    {"13/01/2024", DAT}, {"31/12/2024", DAT}, {"03/04/2024", DAT}, {"12/12/2024", DAT},
    {"02/29/2024", DAT}, {"29/02/2024", DAT}, {"02/29/2023", TXT}, {"13/13/2024", TXT},
    {"00/10/2024", TXT}, {"02/30/2024", TXT}, {"30/02/2024", TXT}, {"31/04/2024", TXT},
    {"03/15/24", TXT}, {"15/03/24", TXT}, {"01/01/0000", TXT},
    /* %m-%d-%Y and %d-%m-%Y */
    {"03-15-2024", DAT}, {"3-5-2024", DAT}, {"15-03-2024", DAT}, {"31-01-2024", DAT},
    {"31-04-2024", TXT}, {"13-13-2024", TXT},
    /* %m.%d.%Y and %d.%m.%Y */
    {"03.15.2024", DAT}, {"15.03.2024", DAT}, {"1.2.2024", DAT}, {"31.12.2024", DAT},
    {"32.01.2024", TXT}, {"13.13.2024", TXT},
    /* %b %d %Y, %d %b %Y, %b %d, %Y */
    {"Mar 15 2024", DAT}, {"mar 15 2024", DAT}, {"MAR 15 2024", DAT}, {"15 Mar 2024", DAT},
    {"15 mAR 2024", DAT}, {"Mar 15, 2024", DAT}, {"MAR 15, 2024", DAT},
    {"10 Jan 2024", DAT}, {"10 Feb 2024", DAT}, {"10 Apr 2024", DAT}, {"10 May 2024", DAT},
    {"10 Jun 2024", DAT}, {"10 Jul 2024", DAT}, {"10 Aug 2024", DAT}, {"10 Sep 2024", DAT},
    {"10 Oct 2024", DAT}, {"10 Nov 2024", DAT}, {"10 Dec 2024", DAT},
    /* %B %d %Y, %B %d, %Y, %d %B %Y */
    {"March 15 2024", DAT}, {"MARCH 15 2024", DAT}, {"march 15 2024", DAT},
    {"March 15, 2024", DAT}, {"march 15, 2024", DAT}, {"15 March 2024", DAT},
    {"15 MARCH 2024", DAT}, {"January 10, 2024", DAT}, {"February 10, 2024", DAT},
    {"April 10, 2024", DAT}, {"June 10, 2024", DAT}, {"July 10, 2024", DAT},
    {"August 10, 2024", DAT}, {"September 10, 2024", DAT}, {"October 10, 2024", DAT},
    {"November 10, 2024", DAT}, {"December 10, 2024", DAT},
    /* May is both %b and %B */
    {"May 15 2024", DAT}, {"May 15, 2024", DAT}, {"15 May 2024", DAT}, {"15-May-2024", DAT},
    /* %d-%b-%Y */
    {"15-Mar-2024", DAT}, {"15-MAR-2024", DAT}, {"15-mar-2024", DAT},
    /* month-name dates that are not dates */
    {"Feb 29 2024", DAT}, {"29 Feb 2024", DAT}, {"Feb 29 2023", TXT}, {"Feb 30 2024", TXT},
    {"Mar 32 2024", TXT}, {"Apr 31 2024", TXT}, {"31 Apr 2024", TXT}, {"Foo 15 2024", TXT},
    {"Sept 15 2024", TXT}, {"Ma 15 2024", TXT}, {"Marc 15 2024", TXT},
    {"15-March-2024", TXT}, {"Mar 15 24", TXT}, {"15-Mar-24", TXT}, {"15 Mar, 2024", TXT},
    {"Tue Mar 15 2024", TXT}, {"Mar 15 0000", TXT},

    /* --- time: hh:mm[:ss[.f...]], hour 0-23 or 24:00[:00] --- */
    {"9:30", TIM}, {"09:30", TIM}, {"0:00", TIM}, {"00:00", TIM}, {"1:05", TIM},
    {"23:59", TIM}, {"23:59:59", TIM}, {"00:00:00", TIM}, {"7:05:09", TIM},
    {"23:59:59.123456", TIM}, {"12:30:00.1", TIM}, {"12:30:00.1234567890", TIM},
    {"24:00", TIM}, {"24:00:00", TIM}, {"\"10:30\"", TIM},
    {"24:00:01", TXT}, {"24:01", TXT}, {"24:00:00.5", TXT}, {"25:00", TXT},
    {"12:60", TXT}, {"12:5", TXT}, {"12:05:60", TXT}, {"12:05:5", TXT}, {"123:00", TXT},
    {"012:30", TXT}, {"12:30.5", TXT}, {"-1:00", TXT}, {"9:30 AM", TXT}, {"1:2:3", TXT},
    {"1:2", TXT}, {"12:", TXT}, {":30", TXT}, {"12:30:00:00", TXT}, {"12h30", TXT},
    {"12:30:00Z", TXT}, {"10:30+02", TXT},

    /* --- timestamp: date, 'T' or one space, time --- */
    {"2024-03-15T10:30", TS}, {"2024-03-15 10:30", TS}, {"2024-03-15T10:30:00", TS},
    {"2024-03-15 10:30:00", TS}, {"2024-03-15T10:30:00.5", TS},
    {"2024-03-15 10:30:00.123456", TS}, {"2024-03-15T23:59:59.999999999", TS},
    {"2024-03-15T9:30", TS}, {"2024-3-5 10:30", TS}, {"2024-03-15T24:00", TS},
    {"2024-02-29 12:00", TS},
    /* with each other date format */
    {"2024/03/15 10:30:00", TS}, {"2024/03/15T10:30", TS},
    {"03/15/2024 10:30:00.123456", TS}, {"3/5/2024 9:30", TS}, {"15/03/2024 10:30", TS},
    {"03-15-2024 10:30", TS}, {"15-03-2024 10:30:00", TS}, {"03.15.2024 10:30", TS},
    {"15.03.2024 10:30:00", TS}, {"Mar 15 2024 10:30", TS}, {"15 Mar 2024 10:30:00", TS},
    {"Mar 15, 2024 10:30", TS}, {"March 15 2024 10:30", TS},
    {"March 15, 2024 10:30:00", TS}, {"15 March 2024 10:30", TS},
    {"15-Mar-2024 10:30:00", TS},
    /* not timestamps */
    {"15-Mar-2024T10:30:00", TXT}, /* PostgreSQL rejects the T after this form */
    {"15-mar-2024T10:30:00Z", TXT},
    {"2024-03-15  10:30", TXT}, {"2024-03-15T", TXT}, {"2024-03-15T10", TXT},
    {"2024-03-15 10", TXT}, {"2024-03-15T25:00", TXT}, {"2024-03-15T10:60", TXT},
    {"2024-03-15T10:5", TXT}, {"2024-03-15T24:00:01", TXT}, {"2024-02-30T10:00", TXT},
    {"2023-02-29 10:00", TXT}, {"2024-03-15_10:30", TXT}, {"2024-03-15T10:30 AM", TXT},
    {"10:30 2024-03-15", TXT},

    /* --- timestamptz: Z, +hh, +hhmm, +hh:mm --- */
    {"2024-03-15T10:30:00Z", TSZ}, {"2024-03-15T10:30Z", TSZ}, {"2024-03-15 10:30:00Z", TSZ},
    {"2024-03-15T10:30:00+02", TSZ}, {"2024-03-15T10:30:00-08", TSZ},
    {"2024-03-15T10:30:00+0530", TSZ}, {"2024-03-15T10:30:00-0800", TSZ},
    {"2024-03-15T10:30:00+05:30", TSZ}, {"2024-03-15T10:30:00-08:00", TSZ},
    {"2024-03-15 10:30:00.123456+02:00", TSZ}, {"2024-03-15T10:30:00.5Z", TSZ},
    {"2024-03-15T10:30+02", TSZ}, {"2024-3-5T9:30Z", TSZ}, {"2024/03/15 10:30:00Z", TSZ},
    {"03/15/2024 10:30:00-05:00", TSZ}, {"15.03.2024 10:30+01:00", TSZ},
    {"Mar 15 2024 10:30:00Z", TSZ}, {"15-Mar-2024 10:30+0100", TSZ},
    {"\"2024-03-15T10:30:00Z\"", TSZ},
    /* malformed zones; a zone needs a time */
    {"2024-03-15T10:30:00+2", TXT}, {"2024-03-15T10:30:00+123", TXT},
    {"2024-03-15T10:30:00+02:0", TXT}, {"2024-03-15T10:30:00+", TXT},
    {"2024-03-15T10:30:00ZZ", TXT}, {"2024-03-15T10:30:00Z+02", TXT}, {"2024-03-15Z", TXT},

    /* --- uuid: 8-4-4-4-12 hex, any case --- */
    {UUID_A, UID}, {"123E4567-E89B-12D3-A456-426614174000", UID},
    {"123e4567-E89B-12d3-A456-426614174000", UID},
    {"00000000-0000-0000-0000-000000000000", UID},
    {"ffffffff-ffff-ffff-ffff-ffffffffffff", UID},
    {"12345678-1234-1234-1234-123456789012", UID}, {"\"" UUID_A "\"", UID},
    {"{" UUID_A "}", TXT},                                   /* braces */
    {"123e4567e89b-12d3-a456-426614174000", TXT},            /* missing hyphen */
    {"123e4567-e89b12d3-a456-426614174000", TXT},
    {"123e4567e89b12d3a456426614174000", TXT},               /* no hyphens */
    {"123e456-e89b-12d3-a456-4426614174000", TXT},           /* 7-4-4-4-13 */
    {"123e45678-e89b-12d3-a456-426614174000", TXT},          /* 9 */
    {"123e4567-e89b-12d3-a456-42661417400", TXT},            /* 11 */
    {"123e4567-e89b-12d3-a456-4266141740000", TXT},          /* 13 */
    {"123e4567-e89-12d3-a456-426614174000", TXT},            /* 3 */
    {"123g4567-e89b-12d3-a456-426614174000", TXT},           /* non-hex */
    {"123e4567-e89b-12d3-a456-42661417400z", TXT},
    {UUID_A "-", TXT}, {"urn:uuid:" UUID_A, TXT},
    /* padded UUIDs are text (Decision: uuid input does not skip white space) */
    {" " UUID_A " ", TXT}, {UUID_A " ", TXT}, {" " UUID_A, TXT}, {"\t" UUID_A "\t", TXT},
    {"\" " UUID_A " \"", TXT},

    /* --- quotes inside fields: read as COPY ... CSV does --- */
    {"\"a\"\"b\"", TXT},      /* a"b */
    {"\"1\"\"2\"", TXT},      /* 1"2 */
    {"\"\"\"\"", TXT},        /* "   */
    {"\"1\"\"\"", TXT},       /* 1"  */
    {"\"a\"", TXT},
    {"12\"3\"", INT},         /* 123 */
    {"\"12\"3", INT},         /* 123 */
    {"1\"2\"3", INT},         /* 123 */
    {"1\"\"", INT},           /* 1   */
    {"\"0\"7", TXT},          /* 07  */
    {"\"1\n2\"", TXT},        /* embedded newline */

    /* --- plain text --- */
    {"abc", TXT}, {"hello world", TXT}, {"h\xc3\xa9llo", TXT}, {"1/2", TXT}, {"-1-", TXT},
    {"true false", TXT}, {"1 2", TXT}, {"A-1", TXT},
};

Test(classify, single_values)
{
    size_t n = sizeof cases / sizeof cases[0];
    cr_assert_geq(n, 350, "table too small: %zu rows", n);
    for (size_t i = 0; i < n; i++) {
        char b[256];
        enum csvi_type got = csvi_value_type(cases[i].field, strlen(cases[i].field), NULL);
        cr_expect(got == cases[i].want, "row %zu: field %s: expected %s, got %s", i,
                  esc(cases[i].field, b, sizeof b), tn(cases[i].want), tn(got));
    }
}

/* ------------------------------------------------------------------------ */
/* Column helpers                                                            */
/* ------------------------------------------------------------------------ */
#define MAXF 128

static void infer(struct csvi_column *col, const struct csvi_options *opt, size_t n,
                  const char *const *f)
{
    size_t lens[MAXF];
    cr_assert_leq(n, MAXF);
    for (size_t i = 0; i < n; i++) lens[i] = strlen(f[i]);
    memset(col, 0, sizeof *col);
    enum csvi_status st = csvi_infer_values(f, lens, n, opt, col);
    cr_assert_eq(st, CSVI_OK, "csvi_infer_values failed: %d", (int)st);
}

#define INFER(col, opt, ...)                                             \
    do {                                                                 \
        const char *const f_[] = {__VA_ARGS__};                          \
        infer((col), (opt), sizeof f_ / sizeof f_[0], f_);               \
    } while (0)

#define EXPECT_TYPE(col, t)                                                             \
    cr_expect((col).type == (t), "column type: expected %s, got %s", tn(t), tn((col).type))

#define EXPECT_SQL(col, s)                                                              \
    do {                                                                                \
        char sb_[64];                                                                   \
        cr_expect_str_eq(csvi_sql_type(&(col), sb_, sizeof sb_), (s), "sql type: expected %s, got %s", \
                         (s), sb_);                                                     \
    } while (0)

#define EXPECT_FORMAT(col, s)                                                           \
    cr_expect_str_eq((col).format, (s), "format: expected %s, got %s", (s), (col).format)

#define EXPECT_NUM(col, p, s)                                                           \
    do {                                                                                \
        cr_expect_eq((col).precision, (unsigned)(p), "precision: expected %u, got %u",  \
                     (unsigned)(p), (col).precision);                                   \
        cr_expect_eq((col).scale, (unsigned)(s), "scale: expected %u, got %u",          \
                     (unsigned)(s), (col).scale);                                       \
    } while (0)

#define EXPECT_RANGE(col, lo, hi)                                                       \
    do {                                                                                \
        cr_expect_eq((col).min, (int64_t)(lo), "min: expected %lld, got %lld",          \
                     (long long)(lo), (long long)(col).min);                            \
        cr_expect_eq((col).max, (int64_t)(hi), "max: expected %lld, got %lld",          \
                     (long long)(hi), (long long)(col).max);                            \
    } while (0)

#define EXPECT_NULLS(col, nullable_, nulls, cnt)                                        \
    do {                                                                                \
        cr_expect_eq((col).nullable, (bool)(nullable_), "nullable: expected %d", (int)(nullable_)); \
        cr_expect_eq((col).null_count, (uint64_t)(nulls), "null_count: expected %llu, got %llu", \
                     (unsigned long long)(nulls), (unsigned long long)(col).null_count);  \
        cr_expect_eq((col).count, (uint64_t)(cnt), "count: expected %llu, got %llu",    \
                     (unsigned long long)(cnt), (unsigned long long)(col).count);       \
    } while (0)

#define EXPECT_LEN(col, chars, bytes)                                                   \
    do {                                                                                \
        cr_expect_eq((col).max_length, (uint64_t)(chars), "max_length: expected %llu, got %llu", \
                     (unsigned long long)(chars), (unsigned long long)(col).max_length); \
        cr_expect_eq((col).max_bytes, (uint64_t)(bytes), "max_bytes: expected %llu, got %llu", \
                     (unsigned long long)(bytes), (unsigned long long)(col).max_bytes);  \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */
Test(options, defaults)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    cr_expect(opt.threshold == 1.0, "default threshold is strict");
    cr_expect(!opt.no_trim);
    cr_expect(!opt.quoted_empty_is_text);
    cr_expect(!opt.dayfirst);
    cr_expect(opt.null_tokens == NULL);
    /* defaults given explicitly behave as NULL options */
    expect_type(" 42 ", INT, &opt, "defaults"); expect_type("\"\"", NUL, &opt, "defaults");
    expect_type("NA", NUL, &opt, "defaults");
}

Test(options, no_trim)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.no_trim = true;
    expect_type(" 42 ", TXT, &opt, "no_trim"); expect_type("42", INT, &opt, "no_trim");
    expect_type("42 ", TXT, &opt, "no_trim"); expect_type("\t7\t", TXT, &opt, "no_trim");
    expect_type("\t7", TXT, &opt, "no_trim"); expect_type(" true", TXT, &opt, "no_trim");
    expect_type("true", BOO, &opt, "no_trim"); expect_type(" 2024-03-15", TXT, &opt, "no_trim");
    expect_type("2024-03-15 10:30", TS, &opt, "no_trim"); /* inner space is the separator */
    expect_type("3.5", DEC, &opt, "no_trim");
    expect_type("\" 42 \"", TXT, &opt, "no_trim");        /* content has spaces */
    expect_type("\"42\"", INT, &opt, "no_trim"); expect_type("", NUL, &opt, "no_trim");
    expect_type("NULL", NUL, &opt, "no_trim");

    struct csvi_column col;
    INFER(&col, &opt, "1", " 2"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);
}

Test(options, quoted_empty_is_text)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.quoted_empty_is_text = true;
    expect_type("\"\"", TXT, &opt, "quoted_empty_is_text");
    expect_type("", NUL, &opt, "quoted_empty_is_text");
    expect_type("NULL", NUL, &opt, "quoted_empty_is_text");
    expect_type("\"NA\"", NUL, &opt, "quoted_empty_is_text");
    expect_type("5", INT, &opt, "quoted_empty_is_text");

    struct csvi_column col;
    INFER(&col, &opt, "\"\"", "\"\""); EXPECT_TYPE(col, TXT); EXPECT_NULLS(col, false, 0, 2);
    EXPECT_LEN(col, 0, 0); csvi_column_clear(&col);

    INFER(&col, &opt, "\"\"", "5"); EXPECT_TYPE(col, TXT); EXPECT_NULLS(col, false, 0, 2);
    EXPECT_LEN(col, 1, 1); csvi_column_clear(&col);

    /* without the option the quoted empty is a null */
    INFER(&col, NULL, "\"\"", "5"); EXPECT_TYPE(col, INT); EXPECT_NULLS(col, true, 1, 2);
    csvi_column_clear(&col);
}

Test(options, custom_null_tokens)
{
    static const char *const toks[] = {"-"};
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.null_tokens = toks;
    opt.n_null_tokens = 1;
    expect_type("-", NUL, &opt, "null {-}");
    expect_type(" - ", NUL, &opt, "null {-}");
    expect_type("\"-\"", NUL, &opt, "null {-}");
    expect_type("", NUL, &opt, "null {-}");          /* empty unquoted: always null */
    expect_type("NULL", TXT, &opt, "null {-}");      /* list replaced */
    expect_type("NA", TXT, &opt, "null {-}");
    expect_type("N/A", TXT, &opt, "null {-}");
    expect_type("\\N", TXT, &opt, "null {-}");
    expect_type("null", TXT, &opt, "null {-}");
    expect_type("-1", INT, &opt, "null {-}");
    expect_type("--", TXT, &opt, "null {-}");

    struct csvi_column col;
    INFER(&col, &opt, "-", "5", "", "-"); EXPECT_TYPE(col, INT); EXPECT_NULLS(col, true, 3, 4);
    csvi_column_clear(&col);

    INFER(&col, &opt, "NULL", "5"); EXPECT_TYPE(col, TXT); EXPECT_NULLS(col, false, 0, 2);
    csvi_column_clear(&col);

    static const char *const toks2[] = {"-", "missing"};
    opt.null_tokens = toks2;
    opt.n_null_tokens = 2;
    expect_type("missing", NUL, &opt, "null {-,missing}");
    expect_type("Missing", TXT, &opt, "null {-,missing}");
    expect_type("-", NUL, &opt, "null {-,missing}");
}

Test(options, dayfirst)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.dayfirst = true;
    /* the type of a single value does not change */
    expect_type("03/04/2024", DAT, &opt, "dayfirst");
    expect_type("13/01/2024", DAT, &opt, "dayfirst");
    expect_type("01/13/2024", DAT, &opt, "dayfirst");
    expect_type("2024-03-15", DAT, &opt, "dayfirst");
    expect_type("03/04/2024 10:00", TS, &opt, "dayfirst");
    expect_type("13/13/2024", TXT, &opt, "dayfirst");

    struct csvi_column col;
    INFER(&col, &opt, "03/04/2024", "05/06/2024"); EXPECT_TYPE(col, DAT);
    EXPECT_FORMAT(col, "%d/%m/%Y"); csvi_column_clear(&col);

    /* one value settles the order: dayfirst cannot override it */
    INFER(&col, &opt, "03/04/2024", "01/13/2024"); EXPECT_TYPE(col, DAT);
    EXPECT_FORMAT(col, "%m/%d/%Y"); csvi_column_clear(&col);

    INFER(&col, &opt, "03-04-2024"); EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%d-%m-%Y");
    csvi_column_clear(&col);

    INFER(&col, &opt, "03.04.2024 10:00"); EXPECT_TYPE(col, TS);
    EXPECT_FORMAT(col, "%d.%m.%Y %H:%M"); csvi_column_clear(&col);
}

/* ------------------------------------------------------------------------ */
/* Columns                                                                   */
/* ------------------------------------------------------------------------ */
Test(column, zero_one_is_integer)
{
    struct csvi_column col;
    INFER(&col, NULL, "0", "1", "1", "0"); EXPECT_TYPE(col, INT); EXPECT_RANGE(col, 0, 1);
    EXPECT_NULLS(col, false, 0, 4); EXPECT_SQL(col, "SMALLINT"); csvi_column_clear(&col);
}

Test(column, boolean)
{
    struct csvi_column col;
    INFER(&col, NULL, "true", "no", "Y", "F"); EXPECT_TYPE(col, BOO); EXPECT_SQL(col, "BOOLEAN");
    csvi_column_clear(&col);

    INFER(&col, NULL, "1", "true"); EXPECT_TYPE(col, TXT); EXPECT_SQL(col, "TEXT");
    csvi_column_clear(&col);
}

Test(column, integer_ranges)
{
    struct csvi_column col;
    INFER(&col, NULL, "1", "32767"); EXPECT_TYPE(col, INT); EXPECT_RANGE(col, 1, 32767);
    EXPECT_SQL(col, "SMALLINT"); csvi_column_clear(&col);

    INFER(&col, NULL, "-32768", "32767"); EXPECT_RANGE(col, -32768, 32767);
    EXPECT_SQL(col, "SMALLINT"); csvi_column_clear(&col);

    INFER(&col, NULL, "1", "32768"); EXPECT_SQL(col, "INTEGER"); csvi_column_clear(&col);

    INFER(&col, NULL, "-32769", "1"); EXPECT_TYPE(col, INT); EXPECT_RANGE(col, -32769, 1);
    EXPECT_SQL(col, "INTEGER"); csvi_column_clear(&col);

    INFER(&col, NULL, "-2147483648", "2147483647");
    EXPECT_RANGE(col, INT64_C(-2147483648), INT64_C(2147483647)); EXPECT_SQL(col, "INTEGER");
    csvi_column_clear(&col);

    INFER(&col, NULL, "2147483648"); EXPECT_TYPE(col, INT);
    EXPECT_RANGE(col, INT64_C(2147483648), INT64_C(2147483648)); EXPECT_SQL(col, "BIGINT");
    csvi_column_clear(&col);

    INFER(&col, NULL, "-2147483649", "0"); EXPECT_SQL(col, "BIGINT"); csvi_column_clear(&col);

    INFER(&col, NULL, "-9223372036854775808", "9223372036854775807", "-0", "+5");
    EXPECT_TYPE(col, INT); EXPECT_RANGE(col, INT64_MIN, INT64_MAX); EXPECT_SQL(col, "BIGINT");
    csvi_column_clear(&col);

    /* leading zeros make the column text */
    INFER(&col, NULL, "1", "00501"); EXPECT_TYPE(col, TXT); EXPECT_LEN(col, 5, 5);
    csvi_column_clear(&col);
}

Test(column, past_int64)
{
    struct csvi_column col;
    INFER(&col, NULL, "9223372036854775808"); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 19, 0);
    EXPECT_SQL(col, "NUMERIC(19,0)"); csvi_column_clear(&col);

    INFER(&col, NULL, "1", "-9223372036854775809"); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 19, 0);
    EXPECT_SQL(col, "NUMERIC(19,0)"); csvi_column_clear(&col);

    INFER(&col, NULL, "5", "123456789012345678901234567890123456789"); EXPECT_TYPE(col, DBL);
    EXPECT_SQL(col, "DOUBLE PRECISION"); csvi_column_clear(&col);
}

Test(column, decimal_precision_scale)
{
    struct csvi_column col;
    INFER(&col, NULL, "1", "2.5"); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 2, 1);
    EXPECT_SQL(col, "NUMERIC(2,1)"); csvi_column_clear(&col);

    INFER(&col, NULL, "123.4", "0.25", "-7"); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 5, 2);
    EXPECT_SQL(col, "NUMERIC(5,2)"); csvi_column_clear(&col);

    /* 12.50 needs 2 integer digits + scale 2 (see report: types.md's
     * example says NUMERIC(3,2), which cannot hold 12.50) */
    INFER(&col, NULL, "7", "-12.50"); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 4, 2);
    EXPECT_SQL(col, "NUMERIC(4,2)"); csvi_column_clear(&col);

    INFER(&col, NULL, "1.50"); EXPECT_NUM(col, 3, 2); csvi_column_clear(&col);

    INFER(&col, NULL, "12345", "0.5"); EXPECT_NUM(col, 6, 1); csvi_column_clear(&col);

    /* a lone leading 0 does not count */
    INFER(&col, NULL, "-0.5", ".25"); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 2, 2);
    csvi_column_clear(&col);

    INFER(&col, NULL, "0.0"); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 1, 1); csvi_column_clear(&col);

    /* "3." has scale 0; precision at least 1 */
    INFER(&col, NULL, "3."); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 1, 0); csvi_column_clear(&col);

    INFER(&col, NULL, "0."); EXPECT_TYPE(col, DEC); EXPECT_NUM(col, 1, 0); csvi_column_clear(&col);

    /* each value fits NUMERIC(38), together they need 29 + 12 = 41 digits */
    INFER(&col, NULL, "12345678901234567890123456789.5", "0.123456789012"); EXPECT_TYPE(col, DBL);
    EXPECT_SQL(col, "DOUBLE PRECISION"); csvi_column_clear(&col);

    /* exactly 38 together is still decimal: 26 + 12 */
    INFER(&col, NULL, "12345678901234567890123456.5", "0.123456789012"); EXPECT_TYPE(col, DEC);
    EXPECT_NUM(col, 38, 12); EXPECT_SQL(col, "NUMERIC(38,12)"); csvi_column_clear(&col);
}

Test(column, double_widening)
{
    struct csvi_column col;
    INFER(&col, NULL, "1", "2.5", "1e3"); EXPECT_TYPE(col, DBL);
    EXPECT_SQL(col, "DOUBLE PRECISION"); csvi_column_clear(&col);

    INFER(&col, NULL, "NaN", "1.5", "-Inf"); EXPECT_TYPE(col, DBL); csvi_column_clear(&col);

    INFER(&col, NULL, "1", "1e400"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);
}

Test(column, mixed_is_text)
{
    struct csvi_column col;
    INFER(&col, NULL, "2024-01-02", "10:00"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);

    INFER(&col, NULL, "1", "10:00"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);

    INFER(&col, NULL, "1", UUID_A); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);

    INFER(&col, NULL, "true", "2024-01-02"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);

    INFER(&col, NULL, "1.5", "10:00"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);
}

Test(column, dates)
{
    struct csvi_column col;
    INFER(&col, NULL, "2024-3-5", "2024-03-15", "2024-02-29"); EXPECT_TYPE(col, DAT);
    EXPECT_FORMAT(col, "%Y-%m-%d"); EXPECT_SQL(col, "DATE"); csvi_column_clear(&col);

    /* ambiguous: month-first by default */
    INFER(&col, NULL, "03/04/2024", "05/06/2024"); EXPECT_TYPE(col, DAT);
    EXPECT_FORMAT(col, "%m/%d/%Y"); csvi_column_clear(&col);

    /* one day above 12 settles the order, without --dayfirst */
    INFER(&col, NULL, "03/04/2024", "13/01/2024"); EXPECT_TYPE(col, DAT);
    EXPECT_FORMAT(col, "%d/%m/%Y"); csvi_column_clear(&col);

    /* no common format */
    INFER(&col, NULL, "2024-01-02", "01/02/2024"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);

    /* day > 12 in both positions: no order fits every value */
    INFER(&col, NULL, "13/01/2024", "01/13/2024"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);

    INFER(&col, NULL, "2024-01-02", "2023-02-29"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);

    INFER(&col, NULL, "2024/03/15"); EXPECT_FORMAT(col, "%Y/%m/%d"); csvi_column_clear(&col);

    INFER(&col, NULL, "03-04-2024"); EXPECT_FORMAT(col, "%m-%d-%Y"); csvi_column_clear(&col);

    INFER(&col, NULL, "03.04.2024", "13.04.2024"); EXPECT_FORMAT(col, "%d.%m.%Y");
    csvi_column_clear(&col);

    INFER(&col, NULL, "Mar 15 2024", "APR 10 2024"); EXPECT_TYPE(col, DAT);
    EXPECT_FORMAT(col, "%b %d %Y"); csvi_column_clear(&col);

    INFER(&col, NULL, "15 Mar 2024"); EXPECT_FORMAT(col, "%d %b %Y"); csvi_column_clear(&col);

    INFER(&col, NULL, "Mar 15, 2024"); EXPECT_FORMAT(col, "%b %d, %Y"); csvi_column_clear(&col);

    /* March is only %B; May is both: the column is %B */
    INFER(&col, NULL, "March 15, 2024", "May 10, 2024"); EXPECT_TYPE(col, DAT);
    EXPECT_FORMAT(col, "%B %d, %Y"); csvi_column_clear(&col);

    INFER(&col, NULL, "March 15 2024"); EXPECT_FORMAT(col, "%B %d %Y"); csvi_column_clear(&col);

    INFER(&col, NULL, "15 march 2024"); EXPECT_FORMAT(col, "%d %B %Y"); csvi_column_clear(&col);

    INFER(&col, NULL, "15-Mar-2024", "01-apr-2024"); EXPECT_FORMAT(col, "%d-%b-%Y");
    csvi_column_clear(&col);

    /* %b and %B cannot be mixed in one column */
    INFER(&col, NULL, "Mar 15 2024", "March 15 2024"); EXPECT_TYPE(col, TXT);
    csvi_column_clear(&col);
}

Test(column, times)
{
    struct csvi_column col;
    INFER(&col, NULL, "9:30", "10:15:00"); EXPECT_TYPE(col, TIM); EXPECT_FORMAT(col, "%H:%M:%S");
    EXPECT_SQL(col, "TIME"); csvi_column_clear(&col);

    INFER(&col, NULL, "9:30", "10:15", "24:00"); EXPECT_TYPE(col, TIM); EXPECT_FORMAT(col, "%H:%M");
    csvi_column_clear(&col);

    INFER(&col, NULL, "10:00", "10:00:00.25", "11:00:00"); EXPECT_TYPE(col, TIM);
    EXPECT_FORMAT(col, "%H:%M:%S.%f"); csvi_column_clear(&col);
}

Test(column, timestamps)
{
    struct csvi_column col;
    /* date widens into timestamp */
    INFER(&col, NULL, "2024-01-02", "2024-01-02 10:00"); EXPECT_TYPE(col, TS);
    EXPECT_FORMAT(col, "%Y-%m-%d %H:%M"); EXPECT_SQL(col, "TIMESTAMP"); csvi_column_clear(&col);

    /* one zoned value makes the column timestamptz */
    INFER(&col, NULL, "2024-01-02T10:00", "2024-01-02T10:00Z"); EXPECT_TYPE(col, TSZ);
    EXPECT_FORMAT(col, "%Y-%m-%dT%H:%M%z"); EXPECT_SQL(col, "TIMESTAMPTZ"); csvi_column_clear(&col);

    INFER(&col, NULL, "2024-01-02", "2024-01-02T10:00:00+02"); EXPECT_TYPE(col, TSZ);
    csvi_column_clear(&col);

    INFER(&col, NULL, "2024-03-15T10:30:00.5"); EXPECT_TYPE(col, TS);
    EXPECT_FORMAT(col, "%Y-%m-%dT%H:%M:%S.%f"); csvi_column_clear(&col);

    INFER(&col, NULL, "2024-03-15 10:30:00", "2024-03-15 10:30:00.25");
    EXPECT_FORMAT(col, "%Y-%m-%d %H:%M:%S.%f"); csvi_column_clear(&col);

    INFER(&col, NULL, "2024-03-15 10:30:00+02:00"); EXPECT_TYPE(col, TSZ);
    EXPECT_FORMAT(col, "%Y-%m-%d %H:%M:%S%z"); EXPECT_SQL(col, "TIMESTAMPTZ");
    csvi_column_clear(&col);

    INFER(&col, NULL, "2024-03-15T10:30:00.123456Z"); EXPECT_FORMAT(col, "%Y-%m-%dT%H:%M:%S.%f%z");
    csvi_column_clear(&col);

    INFER(&col, NULL, "03/04/2024 10:00"); EXPECT_TYPE(col, TS);
    EXPECT_FORMAT(col, "%m/%d/%Y %H:%M"); csvi_column_clear(&col);

    INFER(&col, NULL, "2024/03/15 10:30:00"); EXPECT_FORMAT(col, "%Y/%m/%d %H:%M:%S");
    csvi_column_clear(&col);

    /* a time alone does not widen into a timestamp */
    INFER(&col, NULL, "2024-01-02 10:00", "10:00"); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);
}

Test(column, uuid)
{
    struct csvi_column col;
    INFER(&col, NULL, UUID_A, "00000000-0000-0000-0000-000000000000",
          "123E4567-E89B-12D3-A456-426614174000");
    EXPECT_TYPE(col, UID); EXPECT_SQL(col, "UUID"); csvi_column_clear(&col);

    INFER(&col, NULL, UUID_A, " " UUID_A); EXPECT_TYPE(col, TXT); csvi_column_clear(&col);
}

Test(column, text_lengths)
{
    struct csvi_column col;
    INFER(&col, NULL, "h\xc3\xa9llo", "ab"); EXPECT_TYPE(col, TXT); EXPECT_LEN(col, 5, 6);
    EXPECT_SQL(col, "TEXT"); csvi_column_clear(&col);

    /* quoted: outer quotes removed, doubled quotes counted once */
    INFER(&col, NULL, "\"a\"\"b\"", "x"); EXPECT_TYPE(col, TXT); EXPECT_LEN(col, 3, 3);
    csvi_column_clear(&col);

    /* 4-byte and 3-byte characters */
    INFER(&col, NULL, "\xf0\x9f\x98\x80z", "\xe2\x82\xac\xe2\x82\xac"); EXPECT_TYPE(col, TXT);
    EXPECT_LEN(col, 2, 6); csvi_column_clear(&col);
}

Test(column, nulls)
{
    struct csvi_column col;
    INFER(&col, NULL, "", "NA", "5"); EXPECT_TYPE(col, INT); EXPECT_NULLS(col, true, 2, 3);
    EXPECT_RANGE(col, 5, 5); csvi_column_clear(&col);

    INFER(&col, NULL, "", "NULL"); EXPECT_TYPE(col, NUL); EXPECT_NULLS(col, true, 2, 2);
    EXPECT_SQL(col, "TEXT"); csvi_column_clear(&col);

    INFER(&col, NULL, "1", "2"); EXPECT_NULLS(col, false, 0, 2); csvi_column_clear(&col);

    /* NaN is not a null */
    INFER(&col, NULL, "NaN", "1"); EXPECT_TYPE(col, DBL); EXPECT_NULLS(col, false, 0, 2);
    csvi_column_clear(&col);

    /* whitespace-only is text, not null */
    INFER(&col, NULL, "1", "   "); EXPECT_TYPE(col, TXT); EXPECT_NULLS(col, false, 0, 2);
    csvi_column_clear(&col);

    /* no value at all: null type, nullable */
    static const char *const none[] = {""};
    size_t zero_len[] = {0};
    memset(&col, 0, sizeof col);
    cr_assert_eq(csvi_infer_values(none, zero_len, 0, NULL, &col), CSVI_OK);
    EXPECT_TYPE(col, NUL); EXPECT_NULLS(col, true, 0, 0); EXPECT_SQL(col, "TEXT");
    csvi_column_clear(&col);
}

/* ------------------------------------------------------------------------ */
/* Tolerant mode                                                             */
/* ------------------------------------------------------------------------ */
/* 100 fields on lines 1..100: "n/a" on lines 10,20,30,40,50, else the line
 * number as an integer. */
static void tolerant_data(char buf[100][8], const char *f[100], size_t lens[100])
{
    for (int i = 0; i < 100; i++) {
        int line = i + 1;
        if (line % 10 == 0 && line <= 50) snprintf(buf[i], 8, "n/a");
        else snprintf(buf[i], 8, "%d", line);
        f[i] = buf[i];
        lens[i] = strlen(buf[i]);
    }
}

Test(tolerant, integers_with_exceptions)
{
    char buf[100][8];
    const char *f[100];
    size_t lens[100];
    tolerant_data(buf, f, lens);

    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = 0.9;
    struct csvi_column col;
    memset(&col, 0, sizeof col);
    cr_assert_eq(csvi_infer_values(f, lens, 100, &opt, &col), CSVI_OK);
    EXPECT_TYPE(col, INT); EXPECT_NULLS(col, false, 0, 100); EXPECT_RANGE(col, 1, 100);
    cr_expect_eq(col.exception_count, 5, "exception_count: got %llu",
                 (unsigned long long)col.exception_count);
    cr_assert_eq(col.n_examples, 5, "n_examples: got %zu", col.n_examples);
    for (size_t k = 0; k < 5; k++) {
        cr_expect_eq(col.examples[k].line, 10 * (k + 1), "examples[%zu].line: got %llu", k,
                     (unsigned long long)col.examples[k].line);
        cr_expect_str_eq(col.examples[k].value, "n/a", "examples[%zu].value: got %s", k,
                         col.examples[k].value);
    }
    csvi_column_clear(&col);

    /* 95% < 99%: not integer */
    opt.threshold = 0.99;
    memset(&col, 0, sizeof col);
    cr_assert_eq(csvi_infer_values(f, lens, 100, &opt, &col), CSVI_OK);
    EXPECT_TYPE(col, TXT); csvi_column_clear(&col);
}

Test(tolerant, strict_mode_same_data)
{
    char buf[100][8];
    const char *f[100];
    size_t lens[100];
    tolerant_data(buf, f, lens);

    struct csvi_column col;
    memset(&col, 0, sizeof col);
    cr_assert_eq(csvi_infer_values(f, lens, 100, NULL, &col), CSVI_OK);
    EXPECT_TYPE(col, TXT); EXPECT_NULLS(col, false, 0, 100); EXPECT_LEN(col, 3, 3);
    cr_expect_eq(col.exception_count, 0, "strict: exception_count %llu",
                 (unsigned long long)col.exception_count);
    cr_expect_eq(col.n_examples, 0, "strict: n_examples %zu", col.n_examples);
    csvi_column_clear(&col);
}

/* Expect exceptions count n and the examples (line, value) pairs given. */
static void expect_exceptions(const struct csvi_column *col, uint64_t n, size_t k,
                              const uint64_t *lines, const char *const *values)
{
    cr_expect_eq(col->exception_count, n, "exception_count: expected %llu, got %llu",
                 (unsigned long long)n, (unsigned long long)col->exception_count);
    cr_assert_eq(col->n_examples, k, "n_examples: expected %zu, got %zu", k, col->n_examples);
    for (size_t i = 0; i < k; i++) {
        cr_expect_eq(col->examples[i].line, lines[i], "examples[%zu].line: got %llu", i,
                     (unsigned long long)col->examples[i].line);
        cr_expect_str_eq(col->examples[i].value, values[i], "examples[%zu]: got %s", i,
                         col->examples[i].value);
    }
}

/* Values of a wider type of the family are exceptions counted apart
 * (wider_count): PostgreSQL loads a timestamp into a DATE column with its
 * time cut off, and a zone into a TIMESTAMP column dropped, so the SQL
 * warning must say so rather than "the load fails". */
Test(tolerant, values_of_a_wider_type_are_counted_apart)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = 0.8;
    struct csvi_column col;
    INFER(&col, &opt, "2024-01-01", "2024-01-02", "2024-01-03 18:30:00", "2024-01-04",
          "2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "n/a", "2024-01-10",
          "2024-01-11", "2024-01-12T08:00:00Z", "2024-01-13", "2024-01-14", "12/31/2020",
          "2024-01-16", "2024-01-17", "2024-01-18", "2024-01-19", "2024-01-20");
    EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%Y-%m-%d");
    expect_exceptions(&col, 4, 4, (const uint64_t[]){3, 9, 12, 15},
                      (const char *const[]){"2024-01-03 18:30:00", "n/a", "2024-01-12T08:00:00Z",
                                            "12/31/2020"});
    cr_expect_eq(col.wider_count, 2, "two timestamps: %llu", (unsigned long long)col.wider_count);
    cr_expect_eq(col.other_format_count, 1);
    csvi_column_clear(&col);

    INFER(&col, &opt, "2024-01-01 10:00:00", "2024-01-02 10:00:00", "2024-01-03 10:00:00",
          "2024-01-04 10:00:00", "2024-01-05 10:00:00+05", "2024-01-06 10:00:00",
          "2024-01-07 10:00:00", "2024-01-08 10:00:00", "2024-01-09 10:00:00", "x",
          "2024-01-11 10:00:00");
    EXPECT_TYPE(col, TS);
    cr_expect_eq(col.exception_count, 2);
    cr_expect_eq(col.wider_count, 1, "one zone: %llu", (unsigned long long)col.wider_count);
    csvi_column_clear(&col);

    /* an integer column has no such family member; nor has strict mode exceptions */
    INFER(&col, &opt, "1", "2", "3", "4", "5", "6", "7", "8", "9", "1.5");
    EXPECT_TYPE(col, INT);
    cr_expect_eq(col.exception_count, 1);
    cr_expect_eq(col.wider_count, 0);
    csvi_column_clear(&col);
    opt.threshold = 1.0;
    INFER(&col, &opt, "2024-01-01", "2024-01-02 10:00:00");
    EXPECT_TYPE(col, TS);
    cr_expect_eq(col.wider_count, 0);
    csvi_column_clear(&col);
}

/* A date in another format is an exception like a value of another type:
 * one US date among ISO ones left the column text (formats were AND-ed). */
Test(tolerant, a_date_in_another_format_is_an_exception)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = 0.9;
    struct csvi_column col;
    INFER(&col, &opt, "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
          "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09", "12/31/2020");
    EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%Y-%m-%d"); EXPECT_SQL(col, "DATE");
    expect_exceptions(&col, 1, 1, (const uint64_t[]){10}, (const char *const[]){"12/31/2020"});
    cr_expect_eq(col.other_format_count, 1);
    csvi_column_clear(&col);

    /* other formats and other types, listed together by line */
    INFER(&col, &opt, "2024-01-01", "n/a", "2024-01-03", "2024-01-04", "2024-01-05",
          "2024-01-06", "15.03.2024", "2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11",
          "2024-01-12", "2024-01-13", "2024-01-14", "2024-01-15", "2024-01-16", "2024-01-17",
          "2024-01-18", "2024-01-19", "2024-01-20");
    EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%Y-%m-%d");
    expect_exceptions(&col, 2, 2, (const uint64_t[]){2, 7},
                      (const char *const[]){"n/a", "15.03.2024"});
    cr_expect_eq(col.other_format_count, 1, "n/a is no date: 1 of 2 in another format");
    csvi_column_clear(&col);

    /* timestamps: the date part's format, the same way */
    INFER(&col, &opt, "2024-01-01 10:00:00", "2024-01-02 10:00:00", "2024-01-03 10:00:00",
          "2024-01-04 10:00:00", "2024-01-05 10:00:00", "2024-01-06 10:00:00",
          "2024-01-07 10:00:00", "2024-01-08 10:00:00", "2024-01-09 10:00:00",
          "12/31/2020 10:00:00");
    EXPECT_TYPE(col, TS); EXPECT_FORMAT(col, "%Y-%m-%d %H:%M:%S");
    expect_exceptions(&col, 1, 1, (const uint64_t[]){10},
                      (const char *const[]){"12/31/2020 10:00:00"});
    csvi_column_clear(&col);

    /* half and half: no format reaches 90%, text as before */
    INFER(&col, &opt, "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
          "01/06/2024", "01/07/2024", "01/08/2024", "01/09/2024", "01/10/2024");
    EXPECT_TYPE(col, TXT);
    csvi_column_clear(&col);

    /* the same in strict mode: text, no exceptions */
    INFER(&col, NULL, "2024-01-01", "2024-01-02", "12/31/2020");
    EXPECT_TYPE(col, TXT);
    csvi_column_clear(&col);
}

/* Ambiguous dates fit both orders: the order most values fit wins, and
 * --dayfirst breaks a tie as it does in strict mode. */
Test(tolerant, the_format_most_values_fit_wins)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = 0.8;
    struct csvi_column col;
    /* 7 ambiguous, 2 day-first only, 1 month-first only: day-first fits 9 */
    INFER(&col, &opt, "01/02/2024", "03/04/2024", "13/02/2024", "05/06/2024", "07/08/2024",
          "02/13/2024", "09/10/2024", "11/12/2024", "25/12/2024", "01/01/2024");
    EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%d/%m/%Y");
    expect_exceptions(&col, 1, 1, (const uint64_t[]){6}, (const char *const[]){"02/13/2024"});
    csvi_column_clear(&col);

    /* a tie (8 ambiguous, 1 of each order): month first, or day first with --dayfirst */
    const char *const tie[] = {"01/02/2024", "03/04/2024", "13/02/2024", "05/06/2024",
                               "07/08/2024", "02/13/2024", "09/10/2024", "11/12/2024",
                               "10/11/2024", "01/01/2024"};
    infer(&col, &opt, 10, tie);
    EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%m/%d/%Y");
    expect_exceptions(&col, 1, 1, (const uint64_t[]){3}, (const char *const[]){"13/02/2024"});
    csvi_column_clear(&col);
    opt.dayfirst = true;
    infer(&col, &opt, 10, tie);
    EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%d/%m/%Y");
    expect_exceptions(&col, 1, 1, (const uint64_t[]){6}, (const char *const[]){"02/13/2024"});
    csvi_column_clear(&col);
}

/* A tie between formats of two separators: the order rule still holds
 * (month first, day first with --dayfirst), not the enum's order. */
Test(tolerant, a_tie_across_separators_follows_the_order_rule)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = 0.5;
    struct csvi_column col;
    const char *const a[] = {"13/04/2024", "04-13-2024", "14/04/2024", "04-14-2024",
                             "15/04/2024", "04-15-2024"}; /* day-first '/', month-first '-' */
    const char *const b[] = {"04/13/2024", "13-04-2024", "04/14/2024", "14-04-2024",
                             "04/15/2024", "15-04-2024"}; /* month-first '/', day-first '-' */
    infer(&col, &opt, 6, a);
    EXPECT_TYPE(col, DAT); EXPECT_FORMAT(col, "%m-%d-%Y");
    cr_expect_eq(col.exception_count, 3);
    cr_expect_eq(col.other_format_count, 3);
    csvi_column_clear(&col);
    infer(&col, &opt, 6, b);
    EXPECT_FORMAT(col, "%m/%d/%Y"); csvi_column_clear(&col);
    opt.dayfirst = true;
    infer(&col, &opt, 6, a);
    EXPECT_FORMAT(col, "%d/%m/%Y"); csvi_column_clear(&col);
    infer(&col, &opt, 6, b);
    EXPECT_FORMAT(col, "%d-%m-%Y"); csvi_column_clear(&col);
    /* a tie of ISO and day-first: ISO, with or without --dayfirst */
    const char *const c[] = {"2024-04-13", "13/04/2024"};
    infer(&col, &opt, 2, c);
    EXPECT_FORMAT(col, "%Y-%m-%d"); csvi_column_clear(&col);
}

/* A timestamp column's time format comes from the values that fit its date
 * format, not from an exception's (a '.%f' and ' ' only it had). */
Test(tolerant, the_time_format_is_that_of_the_values_that_fit)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = 0.9;
    struct csvi_column col;
    INFER(&col, &opt, "2024-03-01T10:01", "2024-03-02T10:02", "2024-03-03T10:03",
          "2024-03-04T10:04", "2024-03-05T10:05", "2024-03-06T10:06", "2024-03-07T10:07",
          "2024-03-08T10:08", "2024-03-09T10:09", "03/15/2024 10:30:00.250");
    EXPECT_TYPE(col, TS); EXPECT_FORMAT(col, "%Y-%m-%dT%H:%M");
    expect_exceptions(&col, 1, 1, (const uint64_t[]){10},
                      (const char *const[]){"03/15/2024 10:30:00.250"});
    cr_expect_eq(col.other_format_count, 1);
    csvi_column_clear(&col);
    /* mostly timestamps, a few dates: the dates fit timestamp in their format */
    INFER(&col, &opt, "2024-03-01 10:00:00", "2024-03-02", "2024-03-03 10:00:00",
          "2024-03-04 10:00:00", "2024-03-05 10:00:00", "2024-03-06 10:00:00",
          "2024-03-07 10:00:00", "2024-03-08 10:00:00", "2024-03-09 10:00:00", "x");
    EXPECT_TYPE(col, TS); EXPECT_FORMAT(col, "%Y-%m-%d %H:%M:%S");
    expect_exceptions(&col, 1, 1, (const uint64_t[]){10}, (const char *const[]){"x"});
    cr_expect_eq(col.other_format_count, 0);
    csvi_column_clear(&col);
}

Test(tolerant, nulls_are_not_exceptions)
{
    /* 9 integers, 1 "x", 5 nulls: 9/10 of the non-null values fit integer
     * (9/15 would not reach 0.85 if nulls counted) */
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = 0.85;
    struct csvi_column col;
    INFER(&col, &opt, "1", "", "2", "NA", "3", "4", "", "5", "x", "6", "NULL", "7", "8", "\\N",
          "9");
    EXPECT_TYPE(col, INT); EXPECT_NULLS(col, true, 5, 15);
    cr_expect_eq(col.exception_count, 1);
    cr_assert_eq(col.n_examples, 1);
    cr_expect_eq(col.examples[0].line, 9);
    cr_expect_str_eq(col.examples[0].value, "x");
    csvi_column_clear(&col);
}

/* The uuid recogniser reads 8 bytes at a time: every position of a uuid,
 * set to every byte value, is a uuid exactly when a dash is at a dash
 * position and a hexadecimal digit (either case) at a digit position. */
Test(value, uuid_every_position_every_byte)
{
    const char *base = "123e4567-e89b-12d3-a456-426614174000";
    char v[37];
    for (int pos = 0; pos < 36; pos++) {
        for (int b = 1; b < 256; b++) {
            memcpy(v, base, 37);
            v[pos] = (char)b;
            bool dash_pos = pos == 8 || pos == 13 || pos == 18 || pos == 23;
            bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
            bool want = dash_pos ? b == '-' : hex;
            enum csvi_type t = csvi_value_type(v, 36, NULL);
            if (want)
                cr_assert_eq(t, CSVI_TYPE_UUID, "byte 0x%02x at %d: %s", b, pos,
                             csvi_type_name(t));
            else
                cr_assert_neq(t, CSVI_TYPE_UUID, "byte 0x%02x at %d should not make a uuid",
                              b, pos);
        }
    }
}

/* Booleans are compared a word at a time: every position of every boolean
 * word, set to every byte value (but blanks, which trimming removes, and the
 * quote, which unquoting removes: the value is a raw CSV field), is a
 * boolean exactly when it spells one of the words in any case. */
Test(value, boolean_every_position_every_byte)
{
    static const char *const words[] = {"true", "false", "yes", "no", "t", "f", "y", "n"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t n = strlen(words[w]);
        char v[8];
        for (size_t pos = 0; pos < n; pos++) {
            for (int b = 1; b < 256; b++) {
                if (b == ' ' || b == '\t' || b == '"')
                    continue; /* trimmed at the edges ("n\t" is "n"); a quote is removed */
                memcpy(v, words[w], n);
                v[pos] = (char)b;
                char low[8];
                for (size_t k = 0; k < n; k++)
                    low[k] = (v[k] >= 'A' && v[k] <= 'Z') ? (char)(v[k] + 32) : v[k];
                bool want = false; /* written out by hand: the words of docs/types.md */
                for (size_t k = 0; k < sizeof words / sizeof *words; k++)
                    want |= strlen(words[k]) == n && memcmp(low, words[k], n) == 0;
                enum csvi_type t = csvi_value_type(v, n, NULL);
                if (want)
                    cr_assert_eq(t, CSVI_TYPE_BOOLEAN, "%s, byte 0x%02x at %zu: %s", words[w], b,
                                 pos, csvi_type_name(t));
                else
                    cr_assert_neq(t, CSVI_TYPE_BOOLEAN, "%s, byte 0x%02x at %zu", words[w], b, pos);
            }
        }
    }
}
