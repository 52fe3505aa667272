/*
 * verdict_codec.c — partial verdicts to bytes and back, for the cache.
 *
 * A cached value is what the merger would otherwise get from the workers for
 * one slice: its work units' slice_verdicts in order (and, for a file read
 * as one slice, the file plan the worker made first).  Line numbers are
 * stored relative to the slice's first line, so the same bytes give the same
 * value wherever they sit in a file.  Integers are LEB128 varints (signed
 * ones zigzag).  The decoder checks every length and count against the plan
 * and gives up on anything inconsistent: a cached value is never trusted
 * further than it checks out (the store's checksums catch damage; this
 * catches a value from another build or a hash collision as well as it can).
 */
#include "internal.h"
#include "verdict_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ------------------------------------------------------------ */

static void put_bytes(struct codec_buf *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t ncap = b->cap ? b->cap : 1024;
        while (ncap < b->len + n)
            ncap *= 2;
        uint8_t *nd = realloc(b->data, ncap);
        if (!nd) {
            b->failed = true;
            return;
        }
        b->data = nd;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u(struct codec_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    put_bytes(b, tmp, n);
}

static void put_i(struct codec_buf *b, int64_t v)
{
    put_u(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* A line relative to the slice's first line (0 stays 0: "none"). */
static void put_line(struct codec_buf *b, uint64_t line, uint64_t first)
{
    put_u(b, line ? line - first + 1 : 0);
}

static void put_str(struct codec_buf *b, const char *s, size_t n)
{
    put_u(b, n);
    put_bytes(b, s, n);
}

static void put_column(struct codec_buf *b, const struct column_state *c, uint64_t first)
{
    put_u(b, c->count);
    put_u(b, c->nulls);
    put_u(b, c->null_kinds);
    for (int t = 0; t < CSVI_TYPE_COUNT; t++)
        put_u(b, c->fit[t]);
    put_u(b, c->run_types);
    put_u(b, c->run_count);
    put_i(b, c->imin);
    put_i(b, c->imax);
    put_u(b, c->dec_int_digits);
    put_u(b, c->dec_scale);
    for (int i = 0; i < 3; i++)
        put_u(b, c->fmts[i]);
    put_u(b, c->tflags_time);
    put_u(b, c->tflags_ts);
    put_u(b, c->max_bytes);
    put_u(b, c->max_chars);
    put_u(b, c->and_types);
    put_u(b, !c->strict);
    if (c->strict)
        return;
    put_u(b, c->n_vsets);
    for (uint32_t i = 0; i < c->n_vsets; i++) {
        const struct value_set *s = &c->vsets[i];
        put_u(b, s->types);
        put_u(b, s->fmts);
        put_u(b, s->tflags);
        put_u(b, s->count);
        put_u(b, s->n_ex);
        for (int k = 0; k < s->n_ex; k++) {
            put_line(b, s->line[k], first);
            put_str(b, column_example(c, s, k), s->len[k]);
        }
    }
}

void codec_put_unit(struct codec_buf *b, const struct slice_verdict *v, uint64_t unit_line,
                    uint64_t first)
{
    put_line(b, unit_line, first);
    put_u(b, v->rows);
    put_u(b, v->ncols);
    put_u(b, (uint64_t)v->has_record | (uint64_t)v->header_taken << 1 | (uint64_t)v->stop << 2);
    put_u(b, v->lead_blank);
    put_line(b, v->lead_blank_line, first);
    put_u(b, v->tail_blank);
    put_line(b, v->tail_blank_line, first);
    put_line(b, v->nul_line, first);
    put_line(b, v->utf8_line, first);
    put_line(b, v->bare_cr_line, first);
    put_line(b, v->eod_line, first);
    put_line(b, v->crlf_line, first);
    put_line(b, v->lf_line, first);
    put_u(b, v->consumed);
    put_u(b, v->lines);
    put_u(b, v->error_total);
    put_u(b, v->n_errors);
    for (size_t i = 0; i < v->n_errors; i++) {
        const struct csvi_error *e = &v->errors[i];
        put_line(b, e->line, first);
        put_u(b, (uint64_t)e->kind);
        put_str(b, e->message ? e->message : "", e->message ? strlen(e->message) : 0);
    }
    for (size_t i = 0; i < v->ncols; i++)
        put_column(b, &v->cols[i], first);
}

void codec_put_plan(struct codec_buf *b, const struct file_plan *plan,
                    const struct csvi_file_result *res)
{
    put_u(b, plan->delim);
    put_u(b, plan->quote);
    put_u(b, plan->header);
    put_u(b, res->dialect.crlf);
    put_u(b, plan->ncols);
    for (size_t i = 0; i < plan->ncols; i++)
        put_str(b, plan->names[i], strlen(plan->names[i]));
}

/* ---- reading ------------------------------------------------------------ */

static bool get_u(struct codec_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->len)
            return r->bad = true, false;
        uint8_t byte = r->data[r->pos++];
        if (shift == 63 && byte > 1)
            return r->bad = true, false;
        x |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *v = x;
            return true;
        }
    }
    return r->bad = true, false;
}

/* A varint that must be at most max. */
static bool get_max(struct codec_reader *r, uint64_t max, uint64_t *v)
{
    if (!get_u(r, v))
        return false;
    if (*v > max)
        return r->bad = true, false;
    return true;
}

static bool get_i(struct codec_reader *r, int64_t *v)
{
    uint64_t z;
    if (!get_u(r, &z))
        return false;
    *v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    return true;
}

static bool get_line(struct codec_reader *r, uint64_t first, uint64_t *line)
{
    uint64_t rel;
    if (!get_u(r, &rel))
        return false;
    if (rel > UINT64_MAX - first)
        return r->bad = true, false;
    *line = rel ? rel + first - 1 : 0;
    return true;
}

/* A string of at most max bytes: a pointer into the data, not terminated. */
static bool get_str(struct codec_reader *r, size_t max, const uint8_t **s, size_t *n)
{
    uint64_t len;
    if (!get_max(r, max, &len) || len > r->len - r->pos)
        return r->bad = true, false;
    *s = r->data + r->pos;
    *n = (size_t)len;
    r->pos += (size_t)len;
    return true;
}

static bool get_u32(struct codec_reader *r, uint32_t *v)
{
    uint64_t x;
    if (!get_max(r, UINT32_MAX, &x))
        return false;
    *v = (uint32_t)x;
    return true;
}

static bool get_column(struct codec_reader *r, struct column_state *c, uint64_t first,
                       bool tolerant)
{
    uint64_t x;
    bool ok = get_u(r, &c->count) && get_u(r, &c->nulls) && get_u32(r, &c->null_kinds);
    for (int t = 0; ok && t < CSVI_TYPE_COUNT; t++)
        ok = get_u(r, &c->fit[t]);
    ok = ok && get_u32(r, &c->run_types) && get_u(r, &c->run_count) && get_i(r, &c->imin) &&
         get_i(r, &c->imax) && get_u32(r, &c->dec_int_digits) && get_u32(r, &c->dec_scale);
    for (int i = 0; ok && i < 3; i++)
        ok = get_max(r, DF_ALL, &x) && ((c->fmts[i] = (uint32_t)x), true);
    ok = ok && get_max(r, 0xFF, &x) && ((c->tflags_time = (uint8_t)x), true);
    ok = ok && get_max(r, 0xFF, &x) && ((c->tflags_ts = (uint8_t)x), true);
    ok = ok && get_u(r, &c->max_bytes) && get_u(r, &c->max_chars) && get_u32(r, &c->and_types);
    ok = ok && get_max(r, 1, &x);
    if (!ok || (x != 0) != tolerant || c->nulls > c->count)
        return r->bad = true, false;
    if (!tolerant)
        return true;
    /* the value sets: in (types, fmts) order, none twice, date formats on
     * date-like ones only, each value in one: their counts within the
     * column's non-null values */
    uint64_t n_sets, sum = 0;
    if (!get_max(r, r->len - r->pos, &n_sets))
        return false;
    const uint64_t all_types = (1u << CSVI_TYPE_COUNT) - 1;
    for (uint64_t i = 0; i < n_sets; i++) {
        uint64_t types, fmts, tflags, count;
        if (!get_max(r, all_types, &types) || !get_max(r, DF_ALL, &fmts) ||
            !get_max(r, 0xFF, &tflags) || !get_u(r, &count))
            return false;
        bool datelike = types & CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ);
        const struct value_set *last = c->n_vsets ? &c->vsets[c->n_vsets - 1] : NULL;
        if (types == 0 || (types & CSVI_BIT(CSVI_TYPE_NULL)) || datelike != (fmts != 0) ||
            count > c->count - c->nulls - sum ||
            (last && !(last->types < types || (last->types == types && last->fmts < fmts))))
            return r->bad = true, false;
        sum += count;
        struct value_set *s = column_value_set(c, (uint32_t)types, (uint32_t)fmts);
        if (!s)
            return c->nomem = true, false;
        s->count = count;
        s->tflags = (uint8_t)tflags;
        uint64_t n_ex;
        if (!get_max(r, CSVI_MAX_EXAMPLES, &n_ex))
            return false;
        for (uint64_t k = 0; k < n_ex; k++) {
            uint64_t line;
            const uint8_t *v;
            size_t n;
            if (!get_line(r, first, &line) || !get_str(r, CSVI_EXAMPLE_BYTES, &v, &n))
                return false;
            if (!column_set_example(c, s, line, (const char *)v, n))
                return c->nomem = true, false;
        }
    }
    return true;
}

int codec_get_unit(struct codec_reader *r, const struct file_plan *plan, uint64_t first,
                   struct slice_verdict *v, uint64_t *unit_line)
{
    memset(v, 0, sizeof *v);
    uint64_t x, flags;
    if (!get_line(r, first, unit_line) || !get_u(r, &v->rows) || !get_u(r, &x) ||
        x != plan->ncols || !get_max(r, 7, &flags))
        return r->bad = true, -EINVAL;
    v->has_record = flags & 1;
    v->header_taken = flags & 2;
    v->stop = flags & 4;
    if (!get_u(r, &v->lead_blank) || !get_line(r, first, &v->lead_blank_line) ||
        !get_u(r, &v->tail_blank) || !get_line(r, first, &v->tail_blank_line) ||
        !get_line(r, first, &v->nul_line) || !get_line(r, first, &v->utf8_line) ||
        !get_line(r, first, &v->bare_cr_line) || !get_line(r, first, &v->eod_line) ||
        !get_line(r, first, &v->crlf_line) || !get_line(r, first, &v->lf_line) ||
        !get_max(r, SIZE_MAX, &x) || !get_u(r, &v->lines) || !get_u(r, &v->error_total))
        return r->bad = true, -EINVAL;
    v->consumed = (size_t)x;
    uint64_t nerr;
    if (!get_max(r, CSVI_MAX_ERRORS, &nerr) || nerr > v->error_total)
        return r->bad = true, -EINVAL;
    int rc = 0;
    if (nerr && !(v->errors = calloc(CSVI_MAX_ERRORS, sizeof *v->errors)))
        return -ENOMEM;
    for (uint64_t i = 0; i < nerr; i++) {
        struct csvi_error *e = &v->errors[i];
        uint64_t kind;
        const uint8_t *s;
        size_t n;
        if (!get_line(r, first, &e->line) || !get_max(r, CSVI_EK_COUNT - 1, &kind) ||
            !get_str(r, 4096, &s, &n) || (i && e->line < v->errors[i - 1].line)) {
            rc = -EINVAL;
            break;
        }
        e->kind = (enum csvi_error_kind)kind;
        if (!(e->message = malloc(n + 1))) {
            rc = -ENOMEM;
            break;
        }
        memcpy(e->message, s, n);
        e->message[n] = '\0';
        v->n_errors++;
    }
    bool tolerant = plan->cfg->opt.threshold < 1.0;
    if (rc == 0 && plan->ncols) {
        if (!(v->cols = calloc(plan->ncols, sizeof *v->cols)))
            rc = -ENOMEM;
        else
            v->ncols = plan->ncols;
        for (size_t i = 0; rc == 0 && i < plan->ncols; i++) {
            column_init(&v->cols[i], tolerant);
            if (!get_column(r, &v->cols[i], first, tolerant))
                rc = v->cols[i].nomem ? -ENOMEM : -EINVAL;
        }
    }
    if (rc) {
        if (rc == -EINVAL)
            r->bad = true;
        slice_verdict_free(v);
    }
    return rc;
}

int codec_get_plan(struct codec_reader *r, struct file_plan *plan, struct csvi_file_result *res)
{
    uint64_t delim, quote, header, crlf, ncols;
    if (!get_max(r, 255, &delim) || !get_max(r, 255, &quote) || !get_max(r, 1, &header) ||
        !get_max(r, 1, &crlf) || !get_max(r, r->len - r->pos, &ncols) || delim == '\n' ||
        delim == '\r' || delim == 0)
        return r->bad = true, -EINVAL;
    file_plan_free(plan);
    plan->delim = (uint8_t)delim;
    plan->quote = (uint8_t)quote;
    plan->header = header;
    if (ncols && !(plan->names = calloc((size_t)ncols, sizeof *plan->names)))
        return -ENOMEM;
    plan->ncols = (size_t)ncols;
    for (size_t i = 0; i < plan->ncols; i++) {
        const uint8_t *s;
        size_t n;
        if (!get_str(r, SIZE_MAX, &s, &n) || memchr(s, 0, n)) {
            file_plan_free(plan);
            return r->bad = true, -EINVAL;
        }
        if (!(plan->names[i] = malloc(n + 1))) {
            file_plan_free(plan);
            return -ENOMEM;
        }
        memcpy(plan->names[i], s, n);
        plan->names[i][n] = '\0';
    }
    res->has_dialect = true;
    res->dialect.delimiter = (char)plan->delim;
    res->dialect.quote = (char)plan->quote;
    res->dialect.header = plan->header;
    res->dialect.crlf = crlf;
    return 0;
}

void codec_put_varint(struct codec_buf *b, uint64_t v) { put_u(b, v); }

bool codec_get_varint(struct codec_reader *r, uint64_t max, uint64_t *v) { return get_max(r, max, v); }
