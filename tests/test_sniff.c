/*
 * test_sniff.c — dialect sniffing and header detection on small samples:
 * each delimiter (, ; tab |), quoted and unquoted, single-quote quoting,
 * with and without a header, CRLF, and user overrides.
 */
#include "internal.h"

#include <criterion/criterion.h>
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
    {"crlf", "id,v\r\n1,2\r\n3,4\r\n", ',', '"', true, true},
    {"all text: first row is header", "city,country\nOslo,Norway\nLima,Peru\n", ',', '"', true,
     false},
    {"numeric names unlike data", "2023,2024\n1.5,2.5\n3.5,4.5\n", ',', '"', false, false},
    {"names over dates", "day,count\n2024-01-01,5\n2024-01-02,7\n", ',', '"', true, false},
    {"duplicate first row is data", "x,x\ny,z\n", ',', '"', false, false},
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
