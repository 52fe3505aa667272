/*
 * fuzz_sniff.c — libFuzzer target for the dialect sniffer and header
 * detection (sniff.c, with the scanner and classifier under it).
 *
 * Input: the whole input is the sample (the start of a file, BOM removed).
 * sniff_dialect runs with default options and the default null tokens, once
 * with eof true and once with eof false.  Checked (abort() if broken): it
 * succeeds (0), the delimiter is one of , ; tab |, the quote one of " ' or
 * none, and crlf is what the first line end says.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const NULLS[] = {"NULL", "null", "NA", "N/A", "\\N"};
static const size_t NULL_LENS[] = {4, 4, 2, 3, 2};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_sniff: %s\n", what);
    abort();
}

static void sniff_once(const uint8_t *p, size_t n, bool eof, const struct csvi_options *opt,
                       const struct classify_cfg *cfg)
{
    struct sniff_result r;
    memset(&r, 0xAA, sizeof r);
    if (sniff_dialect(p, n, eof, opt, cfg, &r) != 0)
        fail("sniff_dialect failed (out of memory?)");
    if (!memchr(",;\t|", r.delim, 4) || r.delim == 0)
        fail("delimiter not one of , ; tab |");
    if (r.quote != '"' && r.quote != '\'' && r.quote != 0)
        fail("quote not one of \" ' none");
    const uint8_t *nl = memchr(p, '\n', n);
    bool crlf = nl && nl > p && nl[-1] == '\r';
    if (r.crlf != crlf)
        fail("crlf does not match the first line end");
    if (n == 0 && r.header)
        fail("header in an empty sample");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* own allocation of exactly size bytes: ASan catches reads past the sample */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        abort();
    memcpy(p, data, size);
    struct csvi_options opt;
    csvi_options_init(&opt);
    struct classify_cfg cfg;
    classify_cfg_init(&cfg, NULLS, NULL_LENS, 5, opt.quoted_empty_is_text, opt.no_trim);
    sniff_once(p, size, true, &opt, &cfg);
    sniff_once(p, size, false, &opt, &cfg);
    free(p);
    return 0;
}
