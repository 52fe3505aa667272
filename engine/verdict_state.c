/*
 * verdict_state.c — a file's mergeable state: what `csvinfer merge` and
 * --group need to join files' verdicts exactly, carried in the JSON "state"
 * field (base64).
 *
 * The final verdict of a column cannot be joined (integer [1, 9] and
 * integer [10, 99] could be; "decimal(3,1)" and a column of dates cannot be
 * told apart from what it hides), so the state is the column_state monoid
 * element itself — made canonical first (column_canonical), so the same
 * bytes give the same state whatever slicing, thread count or cache hits
 * made it.  Layout (integers are verdict_codec varints):
 *
 *   version (1)
 *   options block: length, then threshold (IEEE bits), flags (dayfirst,
 *     quoted_empty_is_text, no_trim), delimiter / quote / header (+1; 0 is
 *     "sniffed"), sample_rows, max_record, the null tokens in use — every
 *     option that changes a verdict; merge refuses states whose blocks differ
 *   trailing blank lines, COPY's bare-CR, \. and mixed-line-end lines (the
 *     SQL output needs them; the JSON does not carry them)
 *   column count, then one verdict_codec unit (codec_put_unit) holding the
 *     file's rows and column states, lines relative to line 1
 *   XXH3-64 of everything before, 8 bytes little-endian
 *
 * The decoder checks the version first (so a later layout is named as
 * such), then the checksum, then every field through verdict_codec's
 * checked reader.  Nothing in a state is trusted further than that.
 */
#include "internal.h"
#include "verdict_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* 1: strict states, and tolerant ones before their date sets; 2: a
 * tolerant state (its columns carry date sets).  A strict state is still
 * written as version 1, the same bytes as before. */
#define STATE_VERSION_STRICT 1
#define STATE_VERSION_TOLERANT 2
#define STATE_SUM_BYTES 8

/* ---- canonical column states ------------------------------------------ */

void column_canonical(struct column_state *c)
{
    for (int t = 0; t < CSVI_TYPE_COUNT; t++)
        c->fit[t] = column_fit(c, t);
    c->run_types = 0;
    c->run_count = 0;
    if (column_settled(c)) {
        /* Strict, and some value fits text alone: the verdict is text whatever
         * else is joined in, and only counts and lengths are used.  Values
         * after the column settled were not classified, so the typed facts
         * depend on where slices began: reset them. */
        uint64_t nonnull = c->count - c->nulls;
        for (int t = 0; t < CSVI_TYPE_COUNT; t++)
            c->fit[t] = 0;
        c->fit[CSVI_TYPE_TEXT] = nonnull;
        c->imin = INT64_MAX;
        c->imax = INT64_MIN;
        c->dec_int_digits = c->dec_scale = 0;
        c->fmts[0] = c->fmts[1] = c->fmts[2] = DF_ALL;
        c->tflags_time = c->tflags_ts = 0;
    }
}

/* ---- base64 ------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const uint8_t *p, size_t n, char *out)
{
    size_t i = 0, o = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = '=';
    }
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long base64_decode(const char *s, size_t len, uint8_t *out)
{
    if (len % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64_value(s[i + k])) < 0)
                return -1; /* a character outside the alphabet, or data after '=' */
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* canonical: the bits a padded group leaves over must be zero */
        if ((pad == 1 && (x & 0xFF)) || (pad == 2 && (x & 0xFFFF)))
            return -1;
        out[o++] = (uint8_t)(x >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(x >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)x;
    }
    return (long)o;
}

/* ---- encoding ----------------------------------------------------------- */

/* Append n bytes as they are (verdict_codec exports only its varint writer). */
static void put_raw(struct codec_buf *b, const void *p, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_str(struct codec_buf *b, const char *s)
{
    size_t n = strlen(s);
    codec_put_varint(b, n);
    put_raw(b, s, n);
}

static uint64_t auto_plus1(int v) { return v == CSVI_AUTO ? 0 : (uint64_t)v + 1; }

static void put_options(struct codec_buf *b, const struct engine_cfg *cfg)
{
    const struct csvi_options *o = &cfg->opt;
    uint64_t bits;
    memcpy(&bits, &o->threshold, sizeof bits);
    codec_put_varint(b, bits);
    codec_put_varint(b, (uint64_t)o->dayfirst | (uint64_t)o->quoted_empty_is_text << 1 |
                            (uint64_t)o->no_trim << 2);
    codec_put_varint(b, auto_plus1(o->delimiter));
    codec_put_varint(b, auto_plus1(o->quote));
    codec_put_varint(b, auto_plus1(o->header));
    codec_put_varint(b, o->sample_rows);
    codec_put_varint(b, o->max_record);
    codec_put_varint(b, cfg->ccfg.n_null);
    for (size_t i = 0; i < cfg->ccfg.n_null; i++)
        put_str(b, cfg->ccfg.null_tokens[i]);
}

int state_encode_bytes(const struct engine_cfg *cfg, const struct csvi_file_result *r,
                       const struct column_state *cols, size_t ncols, uint8_t **out, size_t *len)
{
    struct codec_buf opts = {0}, b = {0};
    put_options(&opts, cfg);
    codec_put_varint(&b, cfg->opt.threshold < 1.0 ? STATE_VERSION_TOLERANT : STATE_VERSION_STRICT);
    codec_put_varint(&b, opts.len);
    put_raw(&b, opts.data, opts.len);
    codec_put_varint(&b, r->trailing_blank_lines);
    codec_put_varint(&b, r->copy_bare_cr_line);
    codec_put_varint(&b, r->copy_eod_line);
    codec_put_varint(&b, r->copy_mixed_eol_line);
    codec_put_varint(&b, ncols);
    struct slice_verdict v;
    memset(&v, 0, sizeof v);
    v.rows = r->rows;
    v.ncols = ncols;
    v.cols = (struct column_state *)cols; /* read only */
    codec_put_unit(&b, &v, 0, 1);
    free(opts.data);
    if (opts.failed || b.failed) {
        free(b.data);
        return -ENOMEM;
    }
    uint8_t sum[STATE_SUM_BYTES];
    uint64_t h = XXH3_64bits(b.data, b.len);
    for (int i = 0; i < STATE_SUM_BYTES; i++)
        sum[i] = (uint8_t)(h >> (8 * i));
    put_raw(&b, sum, sizeof sum);
    if (b.failed) {
        free(b.data);
        return -ENOMEM;
    }
    uint8_t *fit = realloc(b.data, b.len); /* kept per file: no slack */
    *out = fit ? fit : b.data;
    *len = b.len;
    return 0;
}

int state_encode(const struct engine_cfg *cfg, struct csvi_file_result *r,
                 const struct column_state *cols, size_t ncols)
{
    uint8_t *p;
    size_t n;
    if (state_encode_bytes(cfg, r, cols, ncols, &p, &n))
        return -ENOMEM;
    free(r->state);
    r->state = p;
    r->state_len = n;
    return 0;
}

/* ---- decoding ----------------------------------------------------------- */

static bool get_str(struct codec_reader *rd, char **out)
{
    uint64_t n;
    if (!codec_get_varint(rd, rd->len - rd->pos, &n) || n > rd->len - rd->pos)
        return rd->bad = true, false;
    const uint8_t *s = rd->data + rd->pos;
    if (memchr(s, 0, (size_t)n))
        return rd->bad = true, false;
    if (!(*out = malloc((size_t)n + 1)))
        return false;
    memcpy(*out, s, (size_t)n);
    (*out)[n] = '\0';
    rd->pos += (size_t)n;
    return true;
}

static bool get_auto(struct codec_reader *rd, uint64_t max, int *v)
{
    uint64_t x;
    if (!codec_get_varint(rd, max + 1, &x))
        return false;
    *v = x ? (int)(x - 1) : CSVI_AUTO;
    return true;
}

/* The options block; -EINVAL, -ENOMEM or 0. */
static int get_options(const uint8_t *p, size_t n, struct state_options *o)
{
    struct codec_reader rd = {p, n, 0, false};
    uint64_t bits, flags, nn;
    memset(o, 0, sizeof *o);
    if (!codec_get_varint(&rd, UINT64_MAX, &bits) || !codec_get_varint(&rd, 7, &flags) ||
        !get_auto(&rd, 255, &o->delimiter) || !get_auto(&rd, 255, &o->quote) ||
        !get_auto(&rd, 1, &o->header) || !codec_get_varint(&rd, UINT64_MAX, &o->sample_rows) ||
        !codec_get_varint(&rd, UINT64_MAX, &o->max_record) ||
        !codec_get_varint(&rd, n - rd.pos, &nn))
        return -EINVAL;
    memcpy(&o->threshold, &bits, sizeof bits);
    if (!(o->threshold > 0.0 && o->threshold <= 1.0))
        return -EINVAL;
    o->dayfirst = flags & 1;
    o->quoted_empty_is_text = flags & 2;
    o->no_trim = flags & 4;
    if (nn && !(o->null_tokens = calloc((size_t)nn, sizeof *o->null_tokens)))
        return -ENOMEM;
    for (size_t i = 0; i < nn; i++) {
        if (!get_str(&rd, &o->null_tokens[i]))
            return rd.bad ? -EINVAL : -ENOMEM;
        o->n_null++;
        if (!o->null_tokens[i][0])
            return -EINVAL; /* "" is always null, never a token */
    }
    return rd.pos == n ? 0 : -EINVAL;
}

void state_free(struct file_state *fs)
{
    for (size_t i = 0; i < fs->o.n_null; i++)
        free(fs->o.null_tokens[i]);
    free(fs->o.null_tokens);
    for (size_t i = 0; i < fs->ncols && fs->cols; i++)
        column_free(&fs->cols[i]);
    free(fs->cols);
    memset(fs, 0, sizeof *fs);
}

int state_decode(const uint8_t *p, size_t n, struct file_state *fs, const char **why)
{
    memset(fs, 0, sizeof *fs);
    struct codec_reader rd = {p, n, 0, false};
    uint64_t version, olen, ncols;
    *why = "truncated";
    if (!codec_get_varint(&rd, UINT64_MAX, &version))
        return -EINVAL;
    if (version != STATE_VERSION_STRICT && version != STATE_VERSION_TOLERANT) {
        *why = "a state version this csvinfer does not read (it reads versions 1 and 2)";
        return -EINVAL;
    }
    if (n < rd.pos + STATE_SUM_BYTES)
        return -EINVAL;
    uint64_t h = XXH3_64bits(p, n - STATE_SUM_BYTES), stored = 0;
    for (int i = 0; i < STATE_SUM_BYTES; i++)
        stored |= (uint64_t)p[n - STATE_SUM_BYTES + i] << (8 * i);
    if (h != stored) {
        *why = "checksum mismatch: the state was changed or damaged";
        return -EINVAL;
    }
    rd.len = n - STATE_SUM_BYTES;
    *why = "malformed";
    if (!codec_get_varint(&rd, rd.len - rd.pos, &olen))
        return -EINVAL;
    fs->opts = p + rd.pos;
    fs->opts_len = (size_t)olen;
    rd.pos += (size_t)olen;
    int rc = get_options(fs->opts, fs->opts_len, &fs->o);
    if (rc) {
        *why = "malformed options";
        state_free(fs);
        return rc;
    }
    if ((version == STATE_VERSION_TOLERANT) != (fs->o.threshold < 1.0)) {
        *why = version == STATE_VERSION_STRICT
                   ? "a tolerant-mode (--threshold) state of an older csvinfer, without the "
                     "date formats this one needs: run csvinfer --mergeable on that file again"
                   : "malformed: a version 2 state of strict mode";
        state_free(fs);
        return -EINVAL;
    }
    if (!codec_get_varint(&rd, UINT64_MAX, &fs->trailing_blank_lines) ||
        !codec_get_varint(&rd, UINT64_MAX, &fs->copy_bare_cr_line) ||
        !codec_get_varint(&rd, UINT64_MAX, &fs->copy_eod_line) ||
        !codec_get_varint(&rd, UINT64_MAX, &fs->copy_mixed_eol_line) ||
        !codec_get_varint(&rd, rd.len - rd.pos, &ncols)) { /* a column takes > 1 byte */
        state_free(fs);
        return -EINVAL;
    }
    /* the unit's column states, checked by verdict_codec against this plan */
    struct engine_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.opt.threshold = fs->o.threshold;
    struct file_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.cfg = &cfg;
    plan.ncols = (size_t)ncols;
    struct slice_verdict v;
    uint64_t unit_line;
    rc = codec_get_unit(&rd, &plan, 1, &v, &unit_line);
    if (rc) {
        *why = "malformed column states";
        state_free(fs);
        return rc;
    }
    bool clean = unit_line == 0 && !v.has_record && !v.header_taken && !v.stop &&
                 !v.n_errors && !v.error_total && !v.lead_blank && !v.tail_blank &&
                 !v.consumed && !v.lines && rd.pos == rd.len;
    for (size_t i = 0; clean && i < v.ncols; i++)
        clean = v.cols[i].count <= v.rows && !v.cols[i].run_types && !v.cols[i].run_count;
    if (!clean) {
        *why = "malformed column states";
        slice_verdict_free(&v);
        state_free(fs);
        return -EINVAL;
    }
    fs->rows = v.rows;
    fs->ncols = v.ncols;
    fs->cols = v.cols; /* moved */
    v.cols = NULL;
    v.ncols = 0;
    slice_verdict_free(&v);
    return 0;
}
