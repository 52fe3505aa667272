/*
 * fuzz_merge.c — libFuzzer target for `csvinfer merge`'s reader: whatever a
 * shard's verdict holds (JSON or NDJSON, damaged, hand-edited, a "state"
 * that decodes to nonsense), reading it must not crash, hang or leak; what
 * it accepts is merged, grouped into tables and written as JSON and SQL,
 * as the command does.  The input is split at its first 0xFF byte (if
 * any) into two shards merged in turn.
 */
#define _GNU_SOURCE
#include "csvinfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void merge_one(csvi_engine *e, const uint8_t *d, size_t n, enum csvi_status *st)
{
    if (*st != CSVI_OK)
        return;
    FILE *in = fmemopen(n ? (void *)d : (void *)"", n ? n : 1, "r");
    if (!in)
        abort();
    char *why = NULL;
    *st = csvi_engine_merge_verdict(e, "fuzz", in, &why);
    free(why);
    fclose(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.mergeable = true;
    opt.no_cache = opt.no_ledger = true;
    enum csvi_status st;
    csvi_engine *e = csvi_engine_create(&opt, &st);
    if (!e)
        abort();
    const uint8_t *cut = memchr(d, 0xFF, n);
    size_t first = cut ? (size_t)(cut - d) : n;
    merge_one(e, d, first, &st);
    if (cut)
        merge_one(e, cut + 1, n - first - 1, &st);
    char *why = NULL;
    if (st == CSVI_OK)
        st = csvi_engine_merge_finish(e, &why);
    free(why);
    if (st == CSVI_OK && csvi_engine_merged_tables(e))
        st = csvi_engine_group(e, CSVI_GROUP_HEADER);
    if (st == CSVI_OK) {
        FILE *null = fopen("/dev/null", "w");
        if (!null)
            abort();
        csvi_write_json(e, null);
        csvi_write_sql(e, null, CSVI_SQL_POSTGRES);
        fclose(null);
    }
    csvi_engine_free(e);
    return 0;
}
