/*
 * test_sniff.c — dialect sniffing and header detection on small samples:
 * each delimiter (, ; tab |), quoted and unquoted, single-quote quoting,
 * with and without a header, CRLF, and user overrides; quoted fields over
 * several lines (more lines than records) and longer than the sample; wide files whose
 * first lines are longer than the 64 KiB sample (file_plan_init) and their
 * column names.
 */
#include "internal.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct classify_cfg *cfg(void)
{
    static const char *const toks[] = {"NULL", "null", "NA", "N/A", "\\N"};
    static const size_t lens[] = {4, 4, 2, 3, 2};
    static struct classify_cfg c;
    if (!c.n_null)
        classify_cfg_init(&c, toks, lens, 5, false, false);
    return &c;
}

static struct sniff_result sniff(const char *s, const struct csvi_options *o)
{
    struct csvi_options def;
    csvi_options_init(&def);
    struct sniff_result r;
    cr_assert_eq(sniff_dialect((const uint8_t *)s, strlen(s), true, o ? o : &def, cfg(), &r), 0);
    return r;
}

struct sniff_case {
    const char *name, *text;
    char delim, quote;
    bool header, crlf;
};

static const struct sniff_case cases[] = {
    {"comma header", "id,name,amount\n1,Ann,2.50\n2,Bob,3.75\n3,Cy,1.00\n", ',', '"', true, false},
    {"comma no header", "1,Ann,2.50\n2,Bob,3.75\n3,Cy,1.00\n", ',', '"', false, false},
    {"semicolon header", "id;name;amount\n1;Ann;2,50\n2;Bob;3,75\n", ';', '"', true, false},
    {"semicolon decimal commas, no header", "31.01.2024;12,50;3\n01.02.2024;7,25;4\n02.02.2024;1,00;5\n",
     ';', '"', false, false},
    {"tab header", "id\tcity\tpop\n1\tOslo\t700000\n2\tBergen\t285000\n", '\t', '"', true, false},
    {"tab with commas in text", "id\taddress\n1\t1 Main St, Springfield\n2\t9 Elm Rd, Shelbyville, IL\n",
     '\t', '"', true, false},
    {"pipe header", "a|b|c\n1|2|3\n4|5|6\n", '|', '"', true, false},
    {"pipe no header", "1|xa|2024-01-01\n2|yb|2024-01-02\n", '|', '"', false, false},
    {"quoted commas", "id,name\n1,\"Smith, John\"\n2,\"Doe, Jane\"\n3,\"Roe, R\"\n", ',', '"', true,
     false},
    {"quoted newline", "id,note\n1,\"line one\nline two\"\n2,plain\n", ',', '"', true, false},
    {"single quotes", "id,name\n1,'Smith, John'\n2,'Doe, Jane'\n3,'Roe, R'\n", ',', '\'', true, false},
    {"apostrophes are data", "id,name\n1,O'Brien\n2,D'Arcy\n3,Smith\n", ',', '"', true, false},
    /* read unquoted, each address makes three lines, most of two fields: more
     * consistent "records" than the file has, but the quotes are quoting */
    {"addresses over three lines",
     "id,address,amount\n1,\"12 Main St, Apt 4\nSpringfield, IL\n62704\",19.99\n"
     "2,\"9 Elm Rd\nShelbyville, IL\n62565\",5.00\n3,\"1 Oak Ave\nCapital City, IL\n62701\",1.50\n",
     ',', '"', true, false},
    {"inch marks are data", "id,size\n1,12\" pipe\n2,3\" bolt\n3,6\" nail\n4,1\" tack\n", ',', 0,
     true, false},
    /* one column whose quoted values hold the delimiter: read unquoted, every
     * value splits in two (consistent two-field "records"); quoted, one field */
    {"one column, quoted commas", "name\n\"Smith, John\"\n\"Doe, Jane\"\n\"Roe, R\"\n", ',', '"',
     true, false},
    {"one column, quoted semicolons", "addr\n\"1 Main St; Apt 2\"\n\"3 Elm; Unit 4\"\n", ';', '"',
     true, false},
    {"one column, single-quoted commas", "name\n'Smith, John'\n'Doe, Jane'\n'Roe, R'\n", ',', '\'',
     true, false},
    {"one column, quoted commas and semicolons", "\"a, b; c\"\n\"d, e; f\"\n\"g, h; i\"\n", ',',
     '"', true, false},
    /* ... but quotes that are not RFC 4180 quoting leave the split reading */
    {"one column read quoted, but the quotes are not quoting",
     "x\n\"a, b\" c\n\"d, e\" f\n\"g, h\" i\n", ',', 0, true, false},
    /* a file cut off inside a quoted field that holds the delimiter: quoted is
     * still the reading (the last record is an unterminated quote), not "no
     * quoting", which made every column text with quotes in its name */
    {"all quoted, cut inside a quoted comma",
     "\"id\",\"name\",\"n\"\n\"1\",\"Smith John\",\"5\"\n\"2\",\"Doe Jane\",\"6\"\n\"3\",\"Roe, R", ',', '"',
     true, false},
    {"quoted text, cut inside a quoted comma",
     "id,name,n\n1,\"Smith John\",5\n2,\"Doe Jane\",6\n3,\"Roe, R\n", ',', '"', true, false},
    {"crlf", "id,v\r\n1,2\r\n3,4\r\n", ',', '"', true, true},
    {"all text: first row is header", "city,country\nOslo,Norway\nLima,Peru\n", ',', '"', true,
     false},
    {"numeric names unlike data", "2023,2024\n1.5,2.5\n3.5,4.5\n", ',', '"', false, false},
    {"names over dates", "day,count\n2024-01-01,5\n2024-01-02,7\n", ',', '"', true, false},
    {"duplicate first row over text is data", "x,x\nab,cd\n", ',', '"', false, false},
    /* names that read as booleans are names over columns that are not boolean */
    {"header-only file with a boolean-looking name", "x,y\n", ',', '"', true, false},
    {"boolean-looking names over text", "question,yes,no\nfoo,bar,baz\n", ',', '"', true, false},
    {"boolean-looking name over integers", "id,y\n1,2\n3,4\n", ',', '"', true, false},
    {"booleans over booleans are data", "yes,no\ntrue,false\nno,yes\n", ',', '"', false, false},
    {"a name repeated over numbers is a header", "id,name,id\n1,a,2\n3,b,4\n", ',', '"', true,
     false},
    {"a repeated first row over text and numbers: numbers in it, data", "1,x,1\n2,y,3\n", ',', '"',
     false, false},
    {"single row of text", "a,b,c\n", ',', '"', true, false},
    {"single row of numbers", "1,2,3\n", ',', '"', false, false},
};

Test(sniff, table_of_samples)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct sniff_case *c = &cases[i];
        struct sniff_result r = sniff(c->text, NULL);
        cr_expect_eq(r.delim, (uint8_t)c->delim, "%s: delimiter '%c', expected '%c'", c->name,
                     r.delim, c->delim);
        cr_expect_eq(r.quote, (uint8_t)c->quote, "%s: quote '%c', expected '%c'", c->name,
                     r.quote ? r.quote : '0', c->quote ? c->quote : '0');
        cr_expect_eq(r.header, c->header, "%s: header %d, expected %d", c->name, r.header,
                     c->header);
        cr_expect_eq(r.crlf, c->crlf, "%s: crlf %d", c->name, r.crlf);
    }
}

/* A sample that ends inside a quoted field already holding line ends (a
 * text longer than the sample, early in the file): the quote is quoting,
 * though the sample has just two whole records and, unquoted, a hundred
 * lines of two fields. */
Test(sniff, quoted_text_longer_than_the_sample)
{
    char s[8192];
    size_t n = (size_t)snprintf(s, sizeof s, "id,note,amount\n1,plain,1.5\n2,\"");
    for (int k = 0; k < 100; k++)
        n += (size_t)snprintf(s + n, sizeof s - n, "line %d, with \"\"quotes\"\"\n", k);
    struct csvi_options def;
    csvi_options_init(&def);
    struct sniff_result r;
    cr_assert_eq(sniff_dialect((const uint8_t *)s, n, false, &def, cfg(), &r), 0);
    cr_expect_eq(r.delim, ',');
    cr_expect_eq(r.quote, '"', "quote '%c'", r.quote ? r.quote : '0');
    cr_expect(r.header);
    /* the same tail with a stray quote in mid-field is not quoting: unquoted wins */
    n = (size_t)snprintf(s, sizeof s, "id,note,amount\n1,plain,1.5\n2,\"");
    for (int k = 0; k < 100; k++)
        n += (size_t)snprintf(s + n, sizeof s - n, "line %d, 12\" long\n", k);
    cr_assert_eq(sniff_dialect((const uint8_t *)s, n, false, &def, cfg(), &r), 0);
    cr_expect_eq(r.quote, 0, "quote '%c'", r.quote ? r.quote : '0');
}

Test(sniff, overrides_win)
{
    struct csvi_options o;
    csvi_options_init(&o);
    o.delimiter = ';';
    o.header = 0;
    struct sniff_result r = sniff("a,b\n1,2\n", &o);
    cr_assert_eq(r.delim, ';');
    cr_assert_eq(r.header, false);
    csvi_options_init(&o);
    o.quote = 0;
    o.header = 1;
    r = sniff("1,\"x\n2,y\"\n", &o);
    cr_assert_eq(r.quote, 0);
    /* --quote C alone: C is not a delimiter candidate (COPY rejects a
     * delimiter equal to the quote) */
    static const char qs[] = {',', ';', '\t', '|'};
    for (size_t i = 0; i < sizeof qs; i++) {
        csvi_options_init(&o);
        o.quote = qs[i];
        char text[64];
        snprintf(text, sizeof text, "id%cname\n1%cab\n2%ccd\n", qs[i], qs[i], qs[i]);
        r = sniff(text, &o);
        cr_expect_neq(r.delim, (uint8_t)qs[i], "--quote '%c': the same delimiter", qs[i]);
        cr_expect_eq(r.quote, (uint8_t)qs[i]);
    }
    cr_assert_eq(r.header, true);
}

Test(sniff, one_column_file_defaults_to_comma)
{
    struct sniff_result r = sniff("value\n1\n2\n3\n", NULL);
    cr_assert_eq(r.delim, ',');
    cr_assert_eq(r.header, true);
}

Test(sniff, empty_sample)
{
    struct sniff_result r = sniff("", NULL);
    cr_assert_eq(r.delim, ',');
    cr_assert_eq(r.header, false);
}

/* ---- wide files: the first lines past the 64 KiB sample (file_plan_init) -- */

struct wide {
    char *text;
    size_t len, header_end; /* header_end: just past the header line */
};

/* ncols columns: header c1..cN (column `dup`, if not 0, repeats c1), then
 * `rows` rows of integers; the header alone is longer than 64 KiB. */
static struct wide make_wide(size_t ncols, size_t rows, size_t dup)
{
    struct wide w = {.text = malloc(ncols * 16 * (rows + 1) + 1)};
    cr_assert(w.text);
    char *p = w.text;
    for (size_t i = 1; i <= ncols; i++)
        p += sprintf(p, "%sc%zu", i > 1 ? "," : "", i == dup ? (size_t)1 : i);
    *p++ = '\n';
    w.header_end = (size_t)(p - w.text);
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 1; i <= ncols; i++)
            p += sprintf(p, "%s%zu", i > 1 ? "," : "", i + r);
        *p++ = '\n';
    }
    w.len = (size_t)(p - w.text);
    return w;
}

static int plan_wide(const struct wide *w, size_t len, bool eof, struct file_plan *plan)
{
    static struct engine_cfg ec;
    csvi_options_init(&ec.opt);
    ec.ccfg = *cfg();
    struct csvi_file_result res = {0};
    memset(plan, 0, sizeof *plan);
    return file_plan_init(plan, &ec, (const uint8_t *)w->text, len, eof, &res);
}

Test(sniff, wide_header_past_the_sample)
{
    struct wide w = make_wide(20000, 3, 0); /* header ~129 KB */
    cr_assert_gt(w.header_end, 64 * 1024);
    struct file_plan plan;
    /* the sample reaches to the third line end: not there yet, read more */
    cr_expect_eq(plan_wide(&w, w.header_end + 10, false, &plan), 1);
    file_plan_free(&plan);
    cr_assert_eq(plan_wide(&w, w.len, false, &plan), 0);
    cr_expect_eq(plan.delim, ',');
    cr_expect(plan.header, "a header line longer than 64 KiB is still detected");
    cr_assert_eq(plan.ncols, 20000);
    cr_expect_str_eq(plan.names[0], "c1");
    cr_expect_str_eq(plan.names[19999], "c20000");
    file_plan_free(&plan);
    free(w.text);
}

/* A repeated name in an all-text first row over numbers is still a header
 * (DESIGN.md §2: "first row all text while the columns below are not"); the
 * names are made distinct. */
Test(sniff, wide_repeated_name_over_numbers_is_a_header_with_distinct_names)
{
    struct wide w = make_wide(20000, 3, 15000); /* column 15000 is named c1 too */
    struct file_plan plan;
    cr_assert_eq(plan_wide(&w, w.len, true, &plan), 0);
    cr_expect(plan.header, "an all-text first row over numbers is a header, a name repeated");
    cr_assert_eq(plan.ncols, 20000);
    cr_expect_str_eq(plan.names[14999], "c1_2");
    file_plan_free(&plan);

    struct csvi_options o;
    csvi_options_init(&o);
    o.header = 1; /* --header: names made distinct */
    static struct engine_cfg ec;
    ec.opt = o;
    ec.ccfg = *cfg();
    struct csvi_file_result res = {0};
    memset(&plan, 0, sizeof plan);
    cr_assert_eq(file_plan_init(&plan, &ec, (const uint8_t *)w.text, w.len, true, &res), 0);
    cr_assert_eq(plan.ncols, 20000);
    cr_expect_str_eq(plan.names[0], "c1");
    cr_expect_str_eq(plan.names[14999], "c1_2");
    file_plan_free(&plan);
    free(w.text);
}

/* A quoted text of many lines in the first data row, longer than the 64 KiB
 * sample: the sample runs on to that record's end, so the sniffer sees a
 * whole data record after the header (before, the header went unseen: every
 * column text, the header counted as a row). */
Test(sniff, long_quoted_text_in_the_first_row)
{
    size_t cap = 400000;
    char *text = malloc(cap);
    cr_assert(text);
    char *p = text;
    p += sprintf(p, "id,note,n\n1,\"");
    for (int i = 0; i < 4000; i++) /* ~160 KB of lines, a comma and a quoted quote in each */
        p += sprintf(p, "line %d of the note, said \"\"so\"\"\n", i);
    p += sprintf(p, "end\",7\n");
    size_t first_end = (size_t)(p - text);
    for (int r = 2; r < 50; r++)
        p += sprintf(p, "%d,short,%d\n", r, r * 3);
    size_t len = (size_t)(p - text);
    cr_assert_gt(first_end, 2 * 64 * 1024);
    struct wide w = {.text = text, .len = len};
    struct file_plan plan;
    /* the 64 KiB sample ends inside the quoted text: read on to its end */
    cr_expect_eq(plan_wide(&w, 64 * 1024 + 100, false, &plan), 1);
    file_plan_free(&plan);
    cr_expect_eq(plan_wide(&w, first_end - 1, false, &plan), 1);
    file_plan_free(&plan);
    cr_assert_eq(plan_wide(&w, len, false, &plan), 0);
    cr_expect_eq(plan.delim, ',');
    cr_expect_eq(plan.quote, '"');
    cr_expect(plan.header, "the header is found past a first row longer than the sample");
    cr_assert_eq(plan.ncols, 3);
    cr_expect_str_eq(plan.names[1], "note");
    file_plan_free(&plan);
    free(text);
}

Test(sniff, repeated_names_get_suffixes_in_order)
{
    static struct engine_cfg ec;
    csvi_options_init(&ec.opt);
    ec.opt.header = 1;
    ec.ccfg = *cfg();
    const char *text = "a,a,a_2,,a,b\n1,2,3,4,5,6\n";
    struct csvi_file_result res = {0};
    struct file_plan plan = {0};
    cr_assert_eq(file_plan_init(&plan, &ec, (const uint8_t *)text, strlen(text), true, &res), 0);
    static const char *const want[] = {"a", "a_2", "a_2_2", "column_4", "a_3", "b"};
    cr_assert_eq(plan.ncols, 6);
    for (size_t i = 0; i < 6; i++)
        cr_expect_str_eq(plan.names[i], want[i], "name %zu", i);
    file_plan_free(&plan);
}

/* Quotes that are data in a sample of more records than the sniffer scores
 * (SNIFF_MAX_RECORDS): read with the quote, two stray quotes join the lines
 * between them into one record of a consistent-looking count, and both
 * readings reach the record cap.  Counted again over the same bytes, the
 * reading without quotes has more records: it wins (it used to lose on the
 * candidates' order: half the rows, exit 0).  Real quoting past the cap
 * still wins. */
Test(sniff, stray_quotes_past_the_record_cap_are_data)
{
    static char s[64 * 1024];
    struct csvi_options def;
    csvi_options_init(&def);
    struct sniff_result r;
    for (int every = 2; every <= 50; every += 48) { /* O'Brien on every 2nd / 50th line */
        size_t n = (size_t)snprintf(s, sizeof s, "id,name\n");
        for (int i = 1; i <= 3000; i++)
            n += (size_t)snprintf(s + n, sizeof s - n, "%d,%s\n", i,
                                  i % every ? "Smith" : "O'Brien");
        cr_assert_eq(sniff_dialect((const uint8_t *)s, n, false, &def, cfg(), &r), 0);
        cr_expect_eq(r.delim, ',');
        cr_expect_neq(r.quote, '\'', "O'Brien every %d lines: read with ' as the quote", every);
    }
    size_t n = (size_t)snprintf(s, sizeof s, "id,item,qty\n");
    for (int i = 1; i <= 3000; i++)
        n += (size_t)snprintf(s + n, sizeof s - n, "%d,12\" pipe,%d\n", i, i % 50 + 1);
    cr_assert_eq(sniff_dialect((const uint8_t *)s, n, false, &def, cfg(), &r), 0);
    cr_expect_eq(r.quote, 0, "inch marks on 3000 lines: quote '%c'", r.quote ? r.quote : '0');
    n = (size_t)snprintf(s, sizeof s, "id,name,amount\n");
    for (int i = 1; i <= 3000; i++)
        n += (size_t)snprintf(s + n, sizeof s - n, i % 3 ? "%d,\"Smith, J\",%d.5\n" : "%d,Doe,%d.5\n",
                              i, i);
    cr_assert_eq(sniff_dialect((const uint8_t *)s, n, false, &def, cfg(), &r), 0);
    cr_expect_eq(r.quote, '"', "quoted commas on 3000 lines: quote '%c'", r.quote ? r.quote : '0');
}
