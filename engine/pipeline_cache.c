/*
 * pipeline_cache.c — keys, values and hits of the verdict cache for the
 * pipeline (see pipeline_cache.h, docs/cache.md).
 */
#include "pipeline_cache.h"
#include "digest.h"
#include "../io/decompress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PCACHE_FORMAT 4u /* bump when a verdict's meaning or encoding changes (2: errors
                            that end a file are listed past CSVI_MAX_ERRORS; 3: tolerant
                            columns keep their date sets; 4: a first record or a last open
                            quote longer than --max-record, a file cut inside a quoted
                            delimiter, read alike by every engine) */

static void feed(XXH3_state_t *st, const void *p, size_t n) { XXH3_128bits_update(st, p, n); }
static void feed_u64(XXH3_state_t *st, uint64_t v) { feed(st, &v, sizeof v); }

int pcache_init(struct pipe_cache *pc, struct cache *cache, const struct engine_cfg *cfg)
{
    memset(pc, 0, sizeof *pc);
    pc->cache = cache;
    if (!cache)
        return 0;
    pc->st = XXH3_createState();
    if (!pc->st)
        return -ENOMEM;
    /* everything that changes what the inference of given bytes gives */
    const struct csvi_options *o = &cfg->opt;
    const struct classify_cfg *cc = &cfg->ccfg;
    XXH3_128bits_reset(pc->st);
    feed(pc->st, "csvinfer verdict", 16);
    feed_u64(pc->st, PCACHE_FORMAT);
    feed_u64(pc->st, CSVI_MAX_ERRORS);
    feed_u64(pc->st, CSVI_MAX_EXAMPLES);
    feed_u64(pc->st, CSVI_EXAMPLE_BYTES);
    feed_u64(pc->st, CSVI_SNIFF_BYTES);
    feed_u64(pc->st, (uint64_t)(int64_t)o->delimiter);
    feed_u64(pc->st, (uint64_t)(int64_t)o->quote);
    feed_u64(pc->st, (uint64_t)(int64_t)o->header);
    feed_u64(pc->st, cc->n_null);
    for (size_t i = 0; i < cc->n_null; i++) {
        feed_u64(pc->st, cc->null_lens[i]);
        feed(pc->st, cc->null_tokens[i], cc->null_lens[i]);
    }
    feed_u64(pc->st, (uint64_t)o->quoted_empty_is_text << 2 | (uint64_t)o->dayfirst << 1 |
                         (uint64_t)o->no_trim);
    uint64_t th;
    memcpy(&th, &o->threshold, sizeof th);
    feed_u64(pc->st, th);
    feed_u64(pc->st, o->max_record);
    XXH128_canonical_t d;
    XXH128_canonicalFromHash(&d, XXH3_128bits_digest(pc->st));
    memcpy(pc->digest, d.digest, sizeof pc->digest);
    return 0;
}

void pcache_free(struct pipe_cache *pc)
{
    if (pc->st)
        XXH3_freeState(pc->st);
    pc->st = NULL;
}

static struct cache_key to_key(XXH128_hash_t h) { return (struct cache_key){h.low64, h.high64}; }

void pcache_slice_begin(struct pipe_cache *pc, const struct file_plan *plan, size_t start)
{
    XXH3_128bits_reset(pc->st);
    feed(pc->st, pc->digest, sizeof pc->digest);
    feed(pc->st, "S", 1);
    feed_u64(pc->st, (uint64_t)plan->delim | (uint64_t)plan->quote << 8 |
                         (uint64_t)plan->header << 16);
    feed_u64(pc->st, plan->ncols);
    feed_u64(pc->st, start);
    pc->nblocks = 0;
}

void pcache_slice_blocks(struct pipe_cache *pc, const XXH128_hash_t *bh, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, bh[i]);
        feed(pc->st, c.digest, sizeof c.digest);
    }
    pc->nblocks += n;
}

struct cache_key pcache_slice_end(struct pipe_cache *pc, const uint8_t *prefix, size_t n,
                                  bool first, bool eof, bool truncated)
{
    if (n)
        feed(pc->st, prefix, n);
    /* a fixed trailer makes the stream unambiguous read from its end */
    feed_u64(pc->st, n);
    feed_u64(pc->st, pc->nblocks);
    feed_u64(pc->st, (uint64_t)first | (uint64_t)eof << 1 | (uint64_t)truncated << 2);
    return to_key(XXH3_128bits_digest(pc->st));
}

struct cache_key pcache_file_key(const struct pipe_cache *pc, const uint8_t *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    uint8_t buf[16 + 1 + 16 + 8];
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(buf, pc->digest, 16);
    buf[16] = 'F';
    memcpy(buf + 17, c.digest, 16);
    uint64_t n = len;
    memcpy(buf + 33, &n, 8);
    return to_key(XXH3_128bits(buf, sizeof buf));
}

bool pcache_record_unit(struct pipe_cache *pc, struct slice_rec *rec,
                        const struct file_plan *plan, const struct csvi_file_result *res,
                        const struct slice_verdict *v, uint64_t unit_line, bool unit_failed)
{
    if (rec->merged == 0 && rec->with_plan && !file_plan_cacheable(plan))
        rec->failed = true;
    if (rec->merged == 0) {
        codec_put_varint(&rec->buf, PCACHE_FORMAT);
        codec_put_varint(&rec->buf, rec->with_plan);
        if (rec->with_plan)
            codec_put_plan(&rec->buf, plan, res);
        codec_put_varint(&rec->buf, rec->units);
    }
    if (unit_failed)
        rec->failed = true;
    else if (!rec->failed)
        codec_put_unit(&rec->buf, v, unit_line, rec->first_line);
    if (!rec->failed && !pcache_worth(rec->buf.len, rec->bytes)) {
        rec->failed = true; /* wider than it is long: memory for nothing */
        free(rec->buf.data);
        rec->buf = (struct codec_buf){0};
    }
    if (++rec->merged < rec->units)
        return false;
    if (!rec->failed && !rec->buf.failed)
        cache_put(pc->cache, rec->key, rec->buf.data, rec->buf.len); /* no memory: not cached */
    free(rec->buf.data);
    free(rec);
    return true;
}

int pcache_decode(const uint8_t *val, size_t len, bool with_plan, struct file_plan *plan,
                  struct csvi_file_result *res, uint64_t first_line,
                  struct slice_verdict **units, uint64_t **lines, size_t *n)
{
    struct codec_reader r = {val, len, 0, false};
    uint64_t fmt, wp, nu;
    *units = NULL;
    *lines = NULL;
    *n = 0;
    if (!codec_get_varint(&r, UINT64_MAX, &fmt) || fmt != PCACHE_FORMAT ||
        !codec_get_varint(&r, 1, &wp) || wp != (uint64_t)with_plan)
        return -EINVAL;
    if (with_plan) {
        int rc = codec_get_plan(&r, plan, res);
        if (rc)
            return rc;
    }
    if (!codec_get_varint(&r, len - r.pos, &nu) || nu == 0) /* a unit takes a byte at least */
        return -EINVAL;
    struct slice_verdict *u = calloc((size_t)nu, sizeof *u);
    uint64_t *l = calloc((size_t)nu, sizeof *l);
    int rc = u && l ? 0 : -ENOMEM;
    size_t got = 0;
    for (; rc == 0 && got < nu; got++)
        if ((rc = codec_get_unit(&r, plan, first_line, &u[got], &l[got])) != 0)
            break;
    if (rc == 0 && r.pos != r.len)
        rc = -EINVAL; /* trailing bytes: not what we wrote */
    if (rc) {
        for (size_t i = 0; u && i < got; i++)
            slice_verdict_free(&u[i]);
        free(u);
        free(l);
        return rc;
    }
    *units = u;
    *lines = l;
    *n = (size_t)nu;
    return 0;
}

/* ---- --trust-mtime: whole-file records ----------------------------------- */

#define TRUST_FORMAT 3u /* 2: the compression and the CSV's byte count; 3: the append point */

struct cache_key pcache_trust_key(const struct pipe_cache *pc, uint64_t dev, uint64_t ino,
                                  uint64_t size, int64_t mtime_sec, int64_t mtime_nsec)
{
    uint64_t id[5] = {dev, ino, size, (uint64_t)mtime_sec, (uint64_t)mtime_nsec};
    uint8_t buf[16 + 1 + sizeof id];
    memcpy(buf, pc->digest, 16);
    buf[16] = 'M';
    memcpy(buf + 17, id, sizeof id);
    return to_key(XXH3_128bits(buf, sizeof buf));
}

void pcache_trust_head(struct codec_buf *head, bool bom, int compression, const char *digest,
                       const struct file_plan *plan, const struct csvi_file_result *res)
{
    codec_put_varint(head, bom);
    codec_put_varint(head, (uint64_t)compression);
    size_t dn = strlen(digest);
    codec_put_varint(head, dn);
    for (size_t i = 0; i < dn; i++)
        codec_put_varint(head, (uint8_t)digest[i]);
    codec_put_varint(head, PCACHE_FORMAT);
    codec_put_varint(head, 1); /* with the plan */
    codec_put_plan(head, plan, res);
}

void pcache_trust_put(struct pipe_cache *pc, struct cache_key key, uint64_t bytes,
                      const struct trust_append *app, const struct codec_buf *head,
                      size_t n_units, const struct codec_buf *units)
{
    struct codec_buf all = {0};
    if (head->len && !head->failed && !units->failed) {
        struct codec_buf pre = {0}, count = {0};
        codec_put_varint(&pre, TRUST_FORMAT);
        codec_put_varint(&pre, bytes);
        codec_put_varint(&pre, app->set);
        if (app->set) {
            uint64_t f[] = {app->chunk, app->off, app->line, app->units, app->tail_len,
                            app->tail.low64, app->tail.high64};
            for (size_t i = 0; i < sizeof f / sizeof *f; i++)
                codec_put_varint(&pre, f[i]);
        }
        codec_put_varint(&count, n_units);
        size_t n = pre.len + head->len + count.len + units->len;
        all.data = malloc(n ? n : 1);
        if (all.data && !count.failed && !pre.failed) {
            uint8_t *w = all.data;
            memcpy(w, pre.data, pre.len);
            memcpy(w += pre.len, head->data, head->len);
            memcpy(w += head->len, count.data, count.len);
            memcpy(w + count.len, units->data, units->len);
            cache_put(pc->cache, key, all.data, n); /* no memory: not cached */
        }
        free(pre.data);
        free(count.data);
    }
    free(all.data);
}

int pcache_trust_decode(const uint8_t *val, size_t len, struct file_plan *plan,
                        struct csvi_file_result *res, struct slice_verdict **units,
                        uint64_t **lines, size_t *n, struct trust_append *app)
{
    struct codec_reader r = {val, len, 0, false};
    uint64_t fmt, bytes, has_app, bom, comp, dn;
    memset(app, 0, sizeof *app);
    if (!codec_get_varint(&r, UINT64_MAX, &fmt) || fmt != TRUST_FORMAT ||
        !codec_get_varint(&r, UINT64_MAX, &bytes) || !codec_get_varint(&r, 1, &has_app))
        return -EINVAL;
    if (has_app) {
        uint64_t f[7];
        for (size_t i = 0; i < 7; i++)
            if (!codec_get_varint(&r, UINT64_MAX, &f[i]))
                return -EINVAL;
        *app = (struct trust_append){true, f[0], f[1], f[2], f[3], f[4], {f[5], f[6]}};
        if (app->chunk == 0 || app->off == 0 || app->off > bytes || app->line == 0 ||
            app->tail_len == 0 || app->tail_len > bytes)
            return -EINVAL;
    }
    if (!codec_get_varint(&r, 1, &bom) ||
        !codec_get_varint(&r, DECOMP_ZSTD, &comp) ||
        !codec_get_varint(&r, sizeof res->digest - 1, &dn))
        return -EINVAL;
    char digest[sizeof res->digest] = "";
    for (uint64_t i = 0; i < dn; i++) {
        uint64_t c;
        if (!codec_get_varint(&r, 0x7e, &c) || c < 0x20)
            return -EINVAL;
        digest[i] = (char)c;
    }
    int rc = pcache_decode(val + r.pos, len - r.pos, true, plan, res, 1, units, lines, n);
    if (rc == 0) {
        res->dialect.bom = bom;
        res->bytes = bytes;
        res->compression = decomp_name((enum decomp_kind)comp);
        memcpy(res->digest, digest, sizeof digest);
    }
    return rc;
}

/* ---- chunk counts ------------------------------------------------------- */

#define COUNTS_FORMAT 1u

struct cache_key pcache_counts_key(const XXH128_hash_t *bh, size_t nblocks, size_t len,
                                   uint8_t quote)
{
    uint8_t small[2 + 24 + 16 * 64];
    size_t n = 2 + 24 + 16 * nblocks;
    uint8_t *buf = n <= sizeof small ? small : malloc(n);
    if (!buf) /* out of memory: a key no record has (a miss) */
        return (struct cache_key){0, 0};
    buf[0] = 'K';
    buf[1] = quote;
    uint64_t meta[3] = {COUNTS_FORMAT, nblocks, len};
    memcpy(buf + 2, meta, sizeof meta);
    for (size_t i = 0; i < nblocks; i++) {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, bh[i]);
        memcpy(buf + 26 + 16 * i, c.digest, 16);
    }
    struct cache_key key = to_key(XXH3_128bits(buf, n));
    if (buf != small)
        free(buf);
    return key;
}

int pcache_counts_get(struct pipe_cache *pc, struct cache_key key, size_t nblocks, uint64_t *bq,
                      uint64_t *bn)
{
    uint8_t *val;
    size_t len;
    int rc = cache_get(pc->cache, key, &val, &len);
    if (rc != 1)
        return rc < 0 ? rc : 0;
    struct codec_reader r = {val, len, 0, false};
    uint64_t n;
    bool ok = codec_get_varint(&r, UINT64_MAX, &n) && n == nblocks;
    for (size_t i = 0; ok && i < nblocks; i++) /* a block's counts are at most its bytes */
        ok = codec_get_varint(&r, DIGEST_BLOCK, &bq[i]) && codec_get_varint(&r, DIGEST_BLOCK, &bn[i]);
    ok = ok && r.pos == len;
    free(val);
    return ok ? 1 : 0;
}

void pcache_counts_put(struct pipe_cache *pc, struct cache_key key, size_t nblocks,
                       const uint64_t *bq, const uint64_t *bn)
{
    struct codec_buf b = {0};
    codec_put_varint(&b, nblocks);
    for (size_t i = 0; i < nblocks; i++) {
        codec_put_varint(&b, bq[i]);
        codec_put_varint(&b, bn[i]);
    }
    if (!b.failed)
        cache_put(pc->cache, key, b.data, b.len); /* no memory: not cached */
    free(b.data);
}
