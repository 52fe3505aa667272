/*
 * fuzz_cache.c — libFuzzer target for the cache's readers: everything that
 * reads bytes a damaged or foreign cache directory could hold.
 *
 * Byte 0, bit 0 = 1: the store reader (cache/store.c).  The rest of the
 *   input is a store image after its header.  store_parse over the whole
 *   image (at_eof) and over the same bytes fed in windows of (byte0 >> 1) + 1
 *   bytes, as store_read_fd feeds a file, must report the same records and
 *   the same number of damaged bytes; every record reported must check out
 *   with store_check.
 * Byte 0, bit 0 = 0: the value decoder (engine/pipeline_cache.c).  Byte 1
 *   picks the plan (bits 0-2 columns, bit 3 tolerant, bit 4 value with
 *   plan, bit 5 a --trust-mtime whole-file record instead); the rest is a
 *   cached value.  pcache_decode (pcache_trust_decode) must accept it or say
 *   -EINVAL, never crash or leak; what it accepts is merged into a file
 *   result and turned into column verdicts, as the merger would.
 */
#include "internal.h"
#include "pipeline_cache.h"
#include "../cache/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rec_list {
    struct store_rec r[4096];
    size_t n;
    const uint8_t *base;
    size_t len;
};

static void collect(void *ctx, const struct store_rec *r, const uint8_t *value)
{
    struct rec_list *l = ctx;
    (void)value;
    if (l->n < 4096)
        l->r[l->n++] = *r;
}

static void fuzz_store(const uint8_t *d, size_t n, size_t window)
{
    static struct rec_list whole, pieces;
    memset(&whole, 0, sizeof whole);
    memset(&pieces, 0, sizeof pieces);
    uint64_t dw = 0, dp = 0;
    size_t used = store_parse(d, n, 0, true, collect, &whole, &dw);
    if (used != n)
        abort();
    /* windows, as store_read_fd: parse what is there, keep the rest, read on */
    size_t have_from = 0, have_to = 0;
    while (have_from < n) {
        have_to = have_to + window < n ? have_to + window : n;
        bool eof = have_to == n;
        size_t u = store_parse(d + have_from, have_to - have_from, have_from, eof, collect,
                               &pieces, &dp);
        have_from += u;
        if (eof && have_from != n)
            abort();
    }
    if (whole.n != pieces.n || dw != dp)
        abort();
    for (size_t i = 0; i < whole.n; i++) {
        const struct store_rec *a = &whole.r[i], *b = &pieces.r[i];
        if (a->off != b->off || a->type != b->type || a->len != b->len || a->key.lo != b->key.lo ||
            a->key.hi != b->key.hi || a->time != b->time)
            abort();
        if (a->type == STORE_VALUE &&
            !store_check(d + a->off, (size_t)store_rec_size(a->len), a->key, a->len))
            abort();
    }
}

static void fuzz_value(const uint8_t *d, size_t n)
{
    if (n < 1)
        return;
    uint8_t pick = d[0];
    d++;
    n--;
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.threshold = pick & 8 ? 0.9 : 1.0;
    struct engine_cfg cfg = {.opt = opt};
    classify_cfg_init(&cfg.ccfg, NULL, NULL, 0, false, false);
    struct file_plan plan = {.cfg = &cfg, .delim = ',', .quote = '"', .header = true};
    size_t ncols = pick & 7;
    bool trust = pick & 32;
    bool with_plan = (pick & 16) || trust;
    if (!with_plan && ncols) {
        plan.names = calloc(ncols, sizeof *plan.names);
        for (size_t i = 0; plan.names && i < ncols; i++)
            plan.names[i] = strdup("c");
        plan.ncols = plan.names ? ncols : 0;
    }
    struct csvi_file_result res = {0};
    struct slice_verdict *units;
    uint64_t *lines;
    size_t nu;
    struct trust_append app;
    int rc = trust ? pcache_trust_decode(d, n, &plan, &res, &units, &lines, &nu, &app)
                   : pcache_decode(d, n, with_plan, &plan, &res, 1000, &units, &lines, &nu);
    if (rc == 0) {
        struct file_merge m;
        if (file_merge_init(&m, &plan, &res) == 0) {
            for (size_t i = 0; i < nu; i++)
                file_merge_slice(&m, &units[i]);
            file_merge_finish(&m, &plan);
        } else {
            for (size_t i = 0; i < nu; i++)
                slice_verdict_free(&units[i]);
        }
        free(units);
        free(lines);
    } else if (rc != -EINVAL && rc != -ENOMEM) {
        abort();
    }
    file_plan_free(&plan);
    res.path = NULL;
    result_clear(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    if (d[0] & 1)
        fuzz_store(d + 1, n - 1, (size_t)(d[0] >> 1) + 1);
    else
        fuzz_value(d + 1, n - 1);
    return 0;
}
