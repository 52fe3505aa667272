/*
 * column.c — the per-column state and its verdict algebra.
 *
 * A column_state summarises any set of values: counts per type, integer range,
 * decimal digits, the date formats still consistent, text lengths, and (in
 * tolerant mode) its values counted by type set and date formats, with the
 * first of each by line: the exceptions of any verdict (value_set).
 * column_join is associative and commutative with column_init as identity, so
 * slices of a file can be folded in any order and give the same verdict as
 * one pass (tests/test_column.c checks this on random partitions).
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void note_length(struct column_state *c, const uint8_t *value, size_t n);

struct example_list { /* a verdict's exceptions: the first values by line */
    uint32_t n;
    struct csvi_example ex[CSVI_MAX_EXAMPLES];
};

void column_init(struct column_state *c, bool tolerant)
{
    memset(c, 0, sizeof *c);
    c->imin = INT64_MAX;
    c->imax = INT64_MIN;
    c->fmts[0] = c->fmts[1] = c->fmts[2] = DF_ALL;
    c->and_types = ~0u;
    c->strict = !tolerant;
}

void column_free(struct column_state *c)
{
    free(c->vsets);
    c->vsets = NULL;
    c->n_vsets = c->cap_vsets = 0;
    free(c->exbuf);
    c->exbuf = NULL;
    c->exlen = c->excap = c->exdead = 0;
}

size_t column_heap_bytes(const struct column_state *c)
{
    return (size_t)c->cap_vsets * sizeof *c->vsets + c->excap;
}

bool column_set_example(struct column_state *c, struct value_set *s, uint64_t line, const char *v,
                        size_t n)
{
    if (s->n_ex == CSVI_MAX_EXAMPLES && line >= s->line[CSVI_MAX_EXAMPLES - 1])
        return true;
    const char *nul = memchr(v, 0, n);
    if (nul)
        n = (size_t)(nul - v);
    if (n > CSVI_EXAMPLE_BYTES)
        n = CSVI_EXAMPLE_BYTES;
    if (!c->exbuf || c->exlen + n > c->excap) { /* (allocated even for an empty value) */
        size_t cap = c->excap ? (size_t)c->excap * 2 : 256;
        if (cap < c->exlen + n || cap > UINT32_MAX)
            return false;
        char *b = realloc(c->exbuf, cap);
        if (!b)
            return false;
        c->exbuf = b;
        c->excap = (uint32_t)cap;
    }
    uint32_t pos = s->n_ex < CSVI_MAX_EXAMPLES ? s->n_ex : CSVI_MAX_EXAMPLES - 1;
    if (s->n_ex == CSVI_MAX_EXAMPLES)
        c->exdead += s->len[pos]; /* the last one drops out */
    while (pos > 0 && s->line[pos - 1] > line) {
        s->line[pos] = s->line[pos - 1];
        s->off[pos] = s->off[pos - 1];
        s->len[pos] = s->len[pos - 1];
        pos--;
    }
    memcpy(c->exbuf + c->exlen, v, n);
    s->line[pos] = line;
    s->off[pos] = c->exlen;
    s->len[pos] = (uint8_t)n;
    c->exlen += (uint32_t)n;
    if (s->n_ex < CSVI_MAX_EXAMPLES)
        s->n_ex++;
    return true;
}

/* Drop the example bytes no set uses any more (joins replace examples). */
static bool compact_examples(struct column_state *c)
{
    uint32_t live = c->exlen - c->exdead;
    char *b = malloc(live + 1);
    if (!b)
        return false;
    uint32_t at = 0;
    for (uint32_t i = 0; i < c->n_vsets; i++) {
        struct value_set *s = &c->vsets[i];
        for (int k = 0; k < s->n_ex; k++) {
            memcpy(b + at, c->exbuf + s->off[k], s->len[k]);
            s->off[k] = at;
            at += s->len[k];
        }
    }
    free(c->exbuf);
    c->exbuf = b;
    c->exlen = at; /* (= live) */
    c->excap = live + 1;
    c->exdead = 0;
    return true;
}

static inline bool vset_before(const struct value_set *v, uint32_t types, uint32_t fmts)
{
    return v->types < types || (v->types == types && v->fmts < fmts);
}

struct value_set *column_value_set(struct column_state *c, uint32_t types, uint32_t fmts)
{
    uint32_t i = c->n_vsets; /* where it goes: after the last, in a decoder's order */
    if (i && !vset_before(&c->vsets[i - 1], types, fmts)) {
        i = 0;
        while (vset_before(&c->vsets[i], types, fmts))
            i++;
        if (c->vsets[i].types == types && c->vsets[i].fmts == fmts)
            return &c->vsets[i];
    }
    if (c->n_vsets == c->cap_vsets) {
        uint32_t cap = c->cap_vsets + c->cap_vsets / 2 + 2; /* 2, 5, 9, 15, ...: a few sets */
        struct value_set *v = realloc(c->vsets, cap * sizeof *v);
        if (!v)
            return NULL;
        c->vsets = v;
        c->cap_vsets = cap;
    }
    memmove(&c->vsets[i + 1], &c->vsets[i], (c->n_vsets - i) * sizeof *c->vsets);
    c->n_vsets++;
    memset(&c->vsets[i], 0, sizeof c->vsets[i]);
    c->vsets[i].types = types;
    c->vsets[i].fmts = fmts;
    return &c->vsets[i];
}

/* Insert (line, value) into a list kept sorted by line, first few only. */
static void examples_insert(struct example_list *l, uint64_t line, const char *v, size_t n)
{
    if (l->n == CSVI_MAX_EXAMPLES && line >= l->ex[CSVI_MAX_EXAMPLES - 1].line)
        return;
    uint32_t pos = l->n < CSVI_MAX_EXAMPLES ? l->n : CSVI_MAX_EXAMPLES - 1;
    while (pos > 0 && l->ex[pos - 1].line > line) {
        l->ex[pos] = l->ex[pos - 1];
        pos--;
    }
    if (n > CSVI_EXAMPLE_BYTES)
        n = CSVI_EXAMPLE_BYTES;
    l->ex[pos].line = line;
    memcpy(l->ex[pos].value, v, n);
    memset(l->ex[pos].value + n, 0, sizeof l->ex[pos].value - n); /* the same bytes whatever
                                                                     was there (verdicts compare) */
    if (l->n < CSVI_MAX_EXAMPLES)
        l->n++;
}

/* Tolerant mode: count the value in its value set, and keep it if it is
 * one of the set's first by line. */
static void note_value_set(struct column_state *c, const struct field_class *fc,
                           const uint8_t *v, size_t n, uint64_t line)
{
    /* (date_fmts and time_flags are set for date-like values only) */
    bool datelike = fc->types & CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ);
    uint32_t fmts = datelike ? fc->date_fmts : 0;
    struct value_set *s = c->last_vset < c->n_vsets ? &c->vsets[c->last_vset] : NULL;
    if (!s || s->types != fc->types || s->fmts != fmts) {
        s = column_value_set(c, fc->types, fmts);
        if (!s) {
            c->nomem = true;
            return;
        }
        c->last_vset = (uint32_t)(s - c->vsets);
    }
    s->count++;
    if (datelike)
        s->tflags |= fc->time_flags;
    if (!column_set_example(c, s, line, (const char *)v, n))
        c->nomem = true;
}

/* The facts a value of type set t adds: integer range, decimal shape,
 * date/timestamp formats and time flags (column_add, column_add_run). */
static inline void note_facts(struct column_state *c, uint32_t t, const struct field_class *fc)
{
    if (t & CSVI_BIT(CSVI_TYPE_INTEGER)) {
        if (fc->ival < c->imin)
            c->imin = fc->ival;
        if (fc->ival > c->imax)
            c->imax = fc->ival;
    }
    if (t & CSVI_BIT(CSVI_TYPE_DECIMAL)) {
        if (fc->int_digits > c->dec_int_digits)
            c->dec_int_digits = fc->int_digits;
        if (fc->scale > c->dec_scale)
            c->dec_scale = fc->scale;
    }
    if (t & CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ)) {
        if (t & CSVI_BIT(CSVI_TYPE_DATE))
            c->fmts[0] &= fc->date_fmts;
        if (t & CSVI_BIT(CSVI_TYPE_TIMESTAMP))
            c->fmts[1] &= fc->date_fmts;
        c->fmts[2] &= fc->date_fmts;
        c->tflags_ts |= fc->time_flags;
    }
}

void column_add(struct column_state *c, const struct field_class *fc, const uint8_t *value,
                size_t n, uint64_t line)
{
    c->count++;
    uint32_t t = fc->types;
    if (t == CSVI_BIT(CSVI_TYPE_NULL)) {
        c->nulls++;
        c->null_kinds |= fc->null_bits;
        return;
    }
    c->and_types &= t;
    if (t == c->run_types) { /* most values of a column share one type set */
        c->run_count++;
    } else {
        for (uint32_t m = c->run_types; m; m &= m - 1)
            c->fit[__builtin_ctz(m)] += c->run_count;
        c->run_types = t;
        c->run_count = 1;
    }
    note_facts(c, t, fc);
    if (t & CSVI_BIT(CSVI_TYPE_TIME))
        c->tflags_time |= fc->time_flags;
    note_length(c, value, n);
    if (!c->strict)
        note_value_set(c, fc, value, n, line);
}

void column_add_run(struct column_state *c, const struct field_class *fc, size_t n)
{
    /* as column_add: and_types already holds run_types, no value sets (strict),
     * and an ASCII value has as many characters as bytes */
    uint32_t t = fc->types;
    c->count++;
    c->run_count++;
    note_facts(c, t, fc);
    if (n > c->max_bytes)
        c->max_bytes = n;
    if (n > c->max_chars)
        c->max_chars = n;
}

uint64_t column_fit(const struct column_state *c, int t)
{
    return c->fit[t] + ((c->run_types >> t) & 1u ? c->run_count : 0);
}

static void note_length(struct column_state *c, const uint8_t *value, size_t n)
{
    if (n > c->max_bytes)
        c->max_bytes = n;
    if (n > c->max_chars) { /* chars <= bytes: count only when it can grow */
        uint64_t ch = utf8_char_count(value, n);
        if (ch > c->max_chars)
            c->max_chars = ch;
    }
}

void column_add_settled(struct column_state *c, uint32_t null_bits, const uint8_t *value, size_t n)
{
    c->count++;
    if (null_bits) {
        c->nulls++;
        c->null_kinds |= null_bits;
    } else {
        note_length(c, value, n);
    }
}

bool column_join(struct column_state *a, const struct column_state *b)
{
    a->nomem |= b->nomem;
    a->and_types &= b->and_types;
    a->count += b->count;
    a->nulls += b->nulls;
    a->null_kinds |= b->null_kinds;
    for (int t = 0; t < CSVI_TYPE_COUNT; t++)
        a->fit[t] += column_fit(b, t);
    if (b->imin < a->imin)
        a->imin = b->imin;
    if (b->imax > a->imax)
        a->imax = b->imax;
    if (b->dec_int_digits > a->dec_int_digits)
        a->dec_int_digits = b->dec_int_digits;
    if (b->dec_scale > a->dec_scale)
        a->dec_scale = b->dec_scale;
    for (int k = 0; k < 3; k++)
        a->fmts[k] &= b->fmts[k];
    a->tflags_time |= b->tflags_time;
    a->tflags_ts |= b->tflags_ts;
    if (b->max_bytes > a->max_bytes)
        a->max_bytes = b->max_bytes;
    if (b->max_chars > a->max_chars)
        a->max_chars = b->max_chars;
    for (uint32_t i = 0; i < b->n_vsets; i++) {
        const struct value_set *bs = &b->vsets[i];
        struct value_set *as = column_value_set(a, bs->types, bs->fmts);
        if (!as)
            return false;
        as->count += bs->count;
        as->tflags |= bs->tflags;
        for (int k = 0; k < bs->n_ex; k++)
            if (!column_set_example(a, as, bs->line[k], column_example(b, bs, k), bs->len[k]))
                return false;
    }
    if (a->exdead > 4096 && a->exdead > a->exlen / 2 && !compact_examples(a))
        return false;
    return true;
}

/* The date format to report from a set of possible ones: where the order
 * of day and month is open, month first (day first with --dayfirst) — in
 * tolerant mode also across separators (a tie of 13/04/2024 and 04-13-2024
 * values) — then the first in enum order (ISO first). */
static enum date_format pick_date_format(uint32_t fmts, bool dayfirst)
{
    const uint32_t mdy = CSVI_BIT(DF_MDY_SLASH) | CSVI_BIT(DF_MDY_DASH) | CSVI_BIT(DF_MDY_DOT);
    const uint32_t dmy = CSVI_BIT(DF_DMY_SLASH) | CSVI_BIT(DF_DMY_DASH) | CSVI_BIT(DF_DMY_DOT);
    uint32_t drop = dayfirst ? mdy : dmy;
    if (fmts & ~drop)
        fmts &= ~drop;
    return (enum date_format)__builtin_ctz(fmts);
}

static void time_format(char *buf, size_t cap, uint8_t tf)
{
    snprintf(buf, cap, "%%H:%%M%s%s%s", (tf & TF_SECONDS) ? ":%S" : "",
             (tf & TF_FRACTION) ? ".%f" : "", (tf & TF_ZONE) ? "%z" : "");
}

/* Is type t possible for the column, given its facts?  (The date kinds:
 * whether they keep a format, in column_verdict.) */
static bool type_viable(const struct column_state *c, int t)
{
    return t != CSVI_TYPE_DECIMAL || c->dec_int_digits + c->dec_scale <= CSVI_NUMERIC_MAX_PRECISION;
}

/* Date kind (0 date, 1 timestamp, 2 timestamptz) of type t, or -1. */
static int date_kind(int t)
{
    return t == CSVI_TYPE_DATE ? 0 : t == CSVI_TYPE_TIMESTAMP ? 1 : t == CSVI_TYPE_TIMESTAMPTZ ? 2 : -1;
}

/* Tolerant mode: of the values fitting date type t (DATE, TIMESTAMP or
 * TIMESTAMPTZ: a date fits all three, a timestamp the two last), the formats
 * the most of them fit (*fmts; 0 if none) and how many that is; *all: the
 * values fitting t in any format. */
static uint64_t date_best(const struct column_state *c, int t, uint32_t *fmts, uint64_t *all)
{
    uint64_t n[DF_COUNT] = {0}, best = 0;
    *all = 0;
    for (uint32_t i = 0; i < c->n_vsets; i++) {
        const struct value_set *s = &c->vsets[i];
        if (!(s->types & CSVI_BIT(t)))
            continue;
        *all += s->count;
        for (uint32_t m = s->fmts & DF_ALL; m; m &= m - 1)
            n[__builtin_ctz(m)] += s->count;
    }
    *fmts = 0;
    for (int f = 0; f < DF_COUNT; f++) {
        if (n[f] > best) {
            best = n[f];
            *fmts = 0;
        }
        if (n[f] == best && best)
            *fmts |= CSVI_BIT(f);
    }
    return best;
}

/* Tolerant mode: the time flags (OR) of the values fitting date type t in
 * format f. */
static uint8_t date_fit_tflags(const struct column_state *c, int t, enum date_format f)
{
    uint8_t tf = 0;
    for (uint32_t i = 0; i < c->n_vsets; i++)
        if ((c->vsets[i].types & CSVI_BIT(t)) && (c->vsets[i].fmts & CSVI_BIT(f)))
            tf |= c->vsets[i].tflags;
    return tf;
}

/* Tolerant mode: the first values by line that do not fit type t — or, f
 * >= 0, a date type in format f (values of t in other formats too). */
static void exception_examples(const struct column_state *c, int t, int f,
                               struct example_list *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < c->n_vsets; i++) {
        const struct value_set *s = &c->vsets[i];
        if ((s->types & CSVI_BIT(t)) && (f < 0 || (s->fmts & CSVI_BIT(f))))
            continue;
        for (int k = 0; k < s->n_ex; k++)
            examples_insert(out, s->line[k], column_example(c, s, k), s->len[k]);
    }
}

/* Tolerant mode: the values (by their sets) that do not fit type t in any
 * format but a wider type of its family does — a timestamp in a date column,
 * a timestamp with a zone in a timestamp one. */
static uint64_t wider_count(const struct column_state *c, int t)
{
    uint32_t wider = t == CSVI_TYPE_DATE ? CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ)
                     : t == CSVI_TYPE_TIMESTAMP ? CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ)
                                                : 0;
    uint64_t n = 0;
    for (uint32_t i = 0; wider && i < c->n_vsets; i++)
        if (!(c->vsets[i].types & CSVI_BIT(t)) && (c->vsets[i].types & wider))
            n += c->vsets[i].count;
    return n;
}

void column_verdict(const struct column_state *c, double threshold, bool dayfirst,
                    struct csvi_column *out)
{
    char *name = out->name;
    memset(out, 0, sizeof *out);
    out->name = name;
    out->count = c->count;
    out->null_count = c->nulls;
    out->null_kinds = c->null_kinds;
    out->nullable = c->nulls > 0 || c->count == 0;
    uint64_t nonnull = c->count - c->nulls;
    if (nonnull == 0) {
        out->type = CSVI_TYPE_NULL;
        return;
    }
    bool tolerant = threshold < 1.0;
    uint64_t need = nonnull;
    if (tolerant) {
        double x = ceil(threshold * (double)nonnull);
        need = x < 1.0 ? 1 : (uint64_t)x;
    }
    /* The date formats of each kind: strict, those every value fits (the
     * AND); tolerant, those the most values fit (a value in another format
     * is an exception, as a value of another type is). */
    uint32_t dfmts[3] = {c->fmts[0], c->fmts[1], c->fmts[2]};
    uint64_t dfit[3], dall[3];
    bool by_sets = tolerant && !c->strict;
    static const int date_types[3] = {CSVI_TYPE_DATE, CSVI_TYPE_TIMESTAMP, CSVI_TYPE_TIMESTAMPTZ};
    for (int k = 0; by_sets && k < 3; k++)
        dfit[k] = date_best(c, date_types[k], &dfmts[k], &dall[k]);
    out->type = CSVI_TYPE_TEXT;
    uint64_t fit = column_fit(c, CSVI_TYPE_TEXT);
    for (int t = CSVI_TYPE_BOOLEAN; t < CSVI_TYPE_TEXT; t++) {
        int k = date_kind(t);
        uint64_t n = by_sets && k >= 0 ? dfit[k] : column_fit(c, t);
        bool viable = k >= 0 ? dfmts[k] != 0 : type_viable(c, t);
        if (n >= need && viable) {
            out->type = (enum csvi_type)t;
            fit = n;
            break;
        }
    }
    switch (out->type) {
    case CSVI_TYPE_INTEGER:
        out->min = c->imin;
        out->max = c->imax;
        break;
    case CSVI_TYPE_DECIMAL:
        out->scale = c->dec_scale;
        out->precision = c->dec_int_digits + c->dec_scale;
        if (out->precision == 0)
            out->precision = 1;
        break;
    case CSVI_TYPE_DATE:
        snprintf(out->format, sizeof out->format, "%s",
                 date_format_string(pick_date_format(dfmts[0], dayfirst)));
        out->date_formats = dfmts[0];
        break;
    case CSVI_TYPE_TIMESTAMP:
    case CSVI_TYPE_TIMESTAMPTZ: {
        int k = out->type == CSVI_TYPE_TIMESTAMP ? 1 : 2;
        out->date_formats = dfmts[k];
        char tbuf[24];
        uint8_t tf = by_sets ? date_fit_tflags(c, out->type, pick_date_format(dfmts[k], dayfirst))
                             : c->tflags_ts;
        if (out->type == CSVI_TYPE_TIMESTAMP)
            tf &= (uint8_t)~TF_ZONE;
        time_format(tbuf, sizeof tbuf, tf);
        char sep = ((tf & TF_SEP_T) && !(tf & TF_SEP_SPACE)) ? 'T' : ' ';
        snprintf(out->format, sizeof out->format, "%s%c%s",
                 date_format_string(pick_date_format(dfmts[k], dayfirst)), sep, tbuf);
        break;
    }
    case CSVI_TYPE_TIME:
        time_format(out->format, sizeof out->format, c->tflags_time);
        break;
    case CSVI_TYPE_TEXT:
        out->max_length = c->max_chars;
        out->max_bytes = c->max_bytes;
        break;
    default: break;
    }
    if (tolerant) {
        out->exception_count = nonnull > fit ? nonnull - fit : 0;
        if (by_sets && out->type != CSVI_TYPE_TEXT) {
            struct example_list l;
            int k = date_kind(out->type), f = -1;
            if (k >= 0) {
                f = (int)pick_date_format(dfmts[k], dayfirst);
                out->other_format_count = dall[k] - dfit[k];
                out->wider_count = wider_count(c, out->type);
            }
            exception_examples(c, out->type, f, &l);
            out->n_examples = l.n;
            memcpy(out->examples, l.ex, l.n * sizeof l.ex[0]);
        }
    }
}
