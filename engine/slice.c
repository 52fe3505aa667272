/*
 * slice.c — a worker's job: one slice (a run of whole records of one file)
 * -> its partial verdict: column states, rows, errors with their lines, and
 * what only the merger can decide (blank lines at the slice's edges, the
 * first NUL / invalid UTF-8 line).
 *
 * Everything here depends only on the slice's bytes, its first line and the
 * file plan, never on other slices: that is what makes the verdict the same
 * for any chunk size and any number of threads.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct slice_ctx {
    const struct file_plan *plan;
    struct slice_verdict *v;
    size_t len;                  /* the slice's length: a record ends before it or at it */
    bool any_cr;                 /* the slice holds a '\r' somewhere */
    uint64_t crlf_ends, quoted_cr; /* '\r' bytes accounted for: record ends, quoted fields */
    bool find_bare_cr;           /* second pass: look for the bare '\r' field by field */
    uint64_t eof_cr_line;        /* the file's last record ends in a '\r' with no '\n'
                                    after it: bare to COPY (kept apart from the others,
                                    which the second pass finds in line order) */
    bool header_pending;
    uint64_t blank, blank_line;  /* blank run since the last record */
    uint8_t *scratch;
    bool nomem;
    /* Runs of records of the right width are inferred a column at a time
     * (infer_fields), read in place from the index: the same column's values
     * one after the other keep its state in registers and its branches
     * predictable.  A column state does not depend on the order of values. */
    const uint8_t *buf;          /* the slice (field offsets are into it) */
    uint64_t *run_line;          /* [RUN_MAX]: the line of each record of a run */
    bool fast;                   /* the next record of the right width needs none
                                    of on_record's cases: a file started, no
                                    header, no blank lines waiting */
    struct scan_field *rec;      /* [rec_cap]: a record on_record gets */
    size_t rec_cap;
    uint32_t *one;               /* [2 * (one_cap + 1)]: on_record's record as a batch */
    size_t one_cap;
    struct template_slots **tpl; /* [ncols]: each column's value templates, or NULL */
};

/* A window's records: at most one per '\n' of its blocks. */
#define RUN_MAX (SCAN_INDEX_WINDOW * 64u)


static bool is_blank(const struct scan_field *f, size_t nf) { return nf == 1 && f[0].start == f[0].end; }

char *error_vformat(const char *fmt, va_list ap)
{
    char *s;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *error_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = error_vformat(fmt, ap);
    va_end(ap);
    return s;
}

/* Errors that end the reading of a file: the reason its last rows were not
 * read, listed even past CSVI_MAX_ERRORS other errors. */
bool csvi_error_ends_file(enum csvi_error_kind kind)
{
    return kind == CSVI_EK_UNTERMINATED_QUOTE || kind == CSVI_EK_RECORD_TOO_LONG ||
           kind == CSVI_EK_READ_FAILED || kind == CSVI_EK_FILE_CHANGED ||
           kind == CSVI_EK_CR_LINE_ENDS;
}

/* The last listed error that does not end the file, or -1. */
static ptrdiff_t last_evictable(const struct csvi_error *list, size_t n)
{
    for (ptrdiff_t i = (ptrdiff_t)n - 1; i >= 0; i--)
        if (!csvi_error_ends_file(list[i].kind))
            return i;
    return -1;
}

/* The list holds the errors that end the file and, of the others, the
 * first ones by line (all but as many as there are of the former): the
 * same list whatever order the errors come in, but for errors of one line
 * (they come in one order: a record lies in one slice). */
void error_list_add(struct csvi_error **list, size_t *n, uint64_t *total, uint64_t line,
                    enum csvi_error_kind kind, char *message)
{
    (*total)++;
    if (!message)
        return;
    if (*n == CSVI_MAX_ERRORS) {
        ptrdiff_t ev = last_evictable(*list, *n);
        if (ev < 0 || (!csvi_error_ends_file(kind) && line >= (*list)[ev].line)) {
            free(message);
            return;
        }
        free((*list)[ev].message);
        memmove(*list + ev, *list + ev + 1, (*n - (size_t)ev - 1) * sizeof **list);
        --*n;
    }
    if (!*list && !(*list = calloc(CSVI_MAX_ERRORS, sizeof **list))) {
        free(message);
        return;
    }
    size_t pos = *n;
    while (pos > 0 && (*list)[pos - 1].line > line)
        pos--;
    memmove(*list + pos + 1, *list + pos, (*n - pos) * sizeof **list);
    (*list)[pos] = (struct csvi_error){line, kind, message};
    (*n)++;
}

/* Would an error on this line be listed?  (Formatting is skipped if not.) */
static bool error_listed(const struct slice_verdict *v, uint64_t line, enum csvi_error_kind kind)
{
    if (v->n_errors < CSVI_MAX_ERRORS || csvi_error_ends_file(kind))
        return true;
    ptrdiff_t ev = last_evictable(v->errors, v->n_errors);
    return ev >= 0 && line < v->errors[ev].line;
}

#define SLICE_ERROR(v, line, kind, ...)                                                       \
    error_list_add(&(v)->errors, &(v)->n_errors, &(v)->error_total, line, kind,               \
                   error_listed(v, line, kind) ? error_format(__VA_ARGS__) : NULL)

/* A blank run followed by a record inside this slice: the file has started
 * (this slice saw a record before it), so it is an error, or null values of
 * a one-column file. */
static void resolve_inner_blanks(struct slice_ctx *c)
{
    struct slice_verdict *v = c->v;
    if (c->plan->ncols == 1) {
        struct field_class nul = {.types = CSVI_BIT(CSVI_TYPE_NULL), .null_bits = CSVI_NULL_EMPTY};
        for (uint64_t i = 0; i < c->blank; i++)
            column_add(&v->cols[0], &nul, NULL, 0, c->blank_line + i);
        v->rows += c->blank;
    } else {
        SLICE_ERROR(v, c->blank_line, CSVI_EK_BLANK_LINE,
                    "blank line%s between records (%llu); not counted as a record, and a "
                    "database load would reject it",
                    c->blank > 1 ? "s" : "", (unsigned long long)c->blank);
    }
    c->blank = 0;
}

/* The '\r' bytes in the quoted fields of a record (they are not bare). */
static uint64_t quoted_field_crs(const uint8_t *buf, const struct scan_field *f, size_t nf)
{
    uint64_t n = 0;
    for (size_t i = 0; i < nf; i++)
        if (f[i].nquotes)
            n += split_count_byte(buf + f[i].start, f[i].end - f[i].start, '\r');
    return n;
}

/* What COPY would reject in this record: line ends, bare CRs, "\." lines. */
static inline __attribute__((always_inline)) void copy_checks(struct slice_ctx *c, const uint8_t *buf, const struct scan_field *f,
                        size_t nf, uint64_t line)
{
    struct slice_verdict *v = c->v;
    size_t end = f[nf - 1].end;
    if (end < c->len) { /* the record has a line end: CRLF if the scanner cut a '\r' */
        bool crlf = buf[end] == '\r';
        uint64_t *first = crlf ? &v->crlf_line : &v->lf_line;
        if (!*first)
            *first = line;
        c->crlf_ends += crlf;
        if (crlf && end + 1 == c->len && !f[nf - 1].nquotes && !c->eof_cr_line)
            c->eof_cr_line = line; /* the input ends after it: a bare '\r' to COPY */
    }
    if (nf == 1 && f[0].end - f[0].start == 2 && f[0].nquotes == 0 && buf[f[0].start] == '\\' &&
        buf[f[0].start + 1] == '.' && !v->eod_line)
        v->eod_line = line;
    if (!c->any_cr)
        return;
    /* a '\r' is bare unless it ends the record or sits in a quoted field: count
     * those here; only if the slice holds more '\r' does a second pass look */
    c->quoted_cr += quoted_field_crs(buf, f, nf);
    for (size_t i = 0; c->find_bare_cr && !v->bare_cr_line && i < nf; i++)
        if (!f[i].nquotes && memchr(buf + f[i].start, '\r', f[i].end - f[i].start))
            v->bare_cr_line = line;
}

static bool bare_cr_cb(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                       uint64_t line)
{
    struct slice_ctx *c = ctx;
    copy_checks(c, buf, f, nf, line);
    return !c->v->bare_cr_line;
}

/* What the column loops below share. */
struct field_src {
    const uint8_t *buf;
    uint8_t quote;
    uint8_t *scratch;
    const struct classify_cfg *cc;
    const uint32_t *pos, *qcum; /* the records (struct field_batch) */
    size_t stride;       /* entries between two values of a column */
    size_t len;          /* bytes of buf */
};

/* Field k of the records (k: record * stride + column); strip: the column
 * whose final '\r' is dropped. */
static inline __attribute__((always_inline)) struct scan_field
src_field(const struct field_src *s, size_t k, bool strip)
{
    const uint32_t *p = s->pos + k, *q = s->qcum + k;
    size_t a = (uint32_t)(p[-1] + 1u), e = p[0];
    if (strip && e > a && s->buf[e - 1] == '\r')
        e--;
    return (struct scan_field){a, e, q[0] - q[-1]};
}

static inline const uint8_t *src_value(const struct field_src *s, size_t k, bool strip,
                                       size_t *len, bool *quoted)
{
    struct scan_field f = src_field(s, k, strip);
    return field_content(s->buf, &f, s->quote, s->scratch, len, quoted);
}

/* The longest of a run of ASCII values (bytes = chars). */
static inline void column_note_len(struct column_state *col, uint64_t len)
{
    col->max_bytes = len > col->max_bytes ? len : col->max_bytes;
    col->max_chars = len > col->max_chars ? len : col->max_chars;
}

/* A value as the column loops below take it, from the slice without a copy:
 * unquoted, or quoted once around all of it ("...", two quotes).  false for
 * anything else (a doubled quote inside): the general path copies it out.
 * (No write to scratch here, so the loops keep the slice in registers.)
 * *wide: 16 bytes can be read at *p (the 16-byte classifiers' condition). */
static inline __attribute__((always_inline)) bool
run_value(const struct field_src *s, size_t k, bool strip, const uint8_t **p, size_t *n,
          bool *wide)
{
    struct scan_field f = src_field(s, k, strip);
    size_t a = f.start, e = f.end;
    uint32_t nq = f.nquotes;
    if (nq) {
        if (nq != 2 || e - a < 2 || s->buf[a] != s->quote || s->buf[e - 1] != s->quote)
            return false;
        a++, e--;
    }
    *p = s->buf + a;
    *n = e - a;
    *wide = a + 16 <= s->len;
    return true;
}

/* Value templates a column's loops learned in this slice (value_template.c):
 * two per value length 1..16, the last learned first, all of one kind (a
 * loop of another kind starts them afresh).  They are dropped for the slice
 * when they do not pay: after 4 tries to learn one, unless values hit them
 * 16 times as often (a column of ever new shapes then costs one test a
 * value). */
struct template_slots {
    struct value_template t[17][2];
    uint64_t valid;          /* bit 2n + i: t[n][i] learned */
    uint32_t learned, hits;  /* tries to learn; values that matched */
    bool off;                /* dropped */
    enum value_template_kind kind;
};

/* The slots for a loop of this kind (those of another kind are forgotten). */
static inline void slots_use(struct template_slots *ts, enum value_template_kind kind)
{
    if (ts->kind != kind) {
        ts->kind = kind;
        ts->valid = 0;
    }
}

/* Does a template match p[0, n) (16 bytes readable)? */
static inline __attribute__((always_inline)) bool slots_find(const struct template_slots *ts,
                                                             const uint8_t *p, size_t n)
{
    if (n > 16 || ts->off)
        return false;
    uint64_t v = ts->valid >> (2 * n);
    return ((v & 1) && value_template_match(&ts->t[n][0], p)) ||
           ((v & 2) && value_template_match(&ts->t[n][1], p));
}

static void slots_learn(struct template_slots *ts, const uint8_t *p, size_t n,
                        enum value_template_kind kind, const struct classify_cfg *cc)
{
    if (n == 0 || n > 16 || ts->off)
        return;
    if (ts->learned >= 4 && ts->hits < 16 * ts->learned) {
        ts->off = true;
        return;
    }
    struct value_template t;
    ts->learned++; /* (tries: one that fails costs as much) */
    if (!value_template_learn(&t, p, n, kind, cc))
        return;
    if ((ts->valid >> (2 * n)) & 1) {
        ts->t[n][1] = ts->t[n][0];
        ts->valid |= 2ull << (2 * n);
    }
    ts->t[n][0] = t;
    ts->valid |= 1ull << (2 * n);
}

/* An integer column (strict) takes values while they are plain integers:
 * its facts are kept in registers.  Returns the first record not taken. */
static inline __attribute__((always_inline)) size_t int_column_run(struct column_state *col, const struct field_src *s,
                             size_t fk, bool strip, size_t r, size_t nrec)
{
    int64_t imin = col->imin, imax = col->imax;
    uint32_t digits = col->dec_int_digits;
    uint64_t max_len = 0, k = 0; /* ASCII values: as many chars as bytes */
    for (fk += r * s->stride; r < nrec; r++, fk += s->stride) {
        size_t len;
        bool wide;
        const uint8_t *p;
        int64_t v;
        uint32_t d;
        if (!run_value(s, fk, strip, &p, &len, &wide) ||
            !(wide ? classify_plain_int16(p, len, s->cc, &v, &d)
                   : classify_plain_int(p, len, s->cc, &v, &d)))
            break;
        imin = v < imin ? v : imin;
        imax = v > imax ? v : imax;
        digits = d > digits ? d : digits;
        max_len = len > max_len ? len : max_len;
        k++;
    }
    col->count += k;
    col->run_count += k;
    col->imin = imin;
    col->imax = imax;
    col->dec_int_digits = digits;
    column_note_len(col, max_len);
    return r;
}

/* The same for a decimal column and plain decimals. */
static inline __attribute__((always_inline)) size_t
decimal_column_run(struct column_state *col, const struct field_src *s, size_t fk, bool strip,
                   size_t r, size_t nrec)
{
    uint32_t digits = col->dec_int_digits, scale = col->dec_scale;
    uint64_t max_len = 0, k = 0; /* ASCII values: as many chars as bytes */
    for (fk += r * s->stride; r < nrec; r++, fk += s->stride) {
        size_t len;
        bool wide;
        const uint8_t *p;
        uint32_t d, sc;
        if (!run_value(s, fk, strip, &p, &len, &wide) ||
            !(wide ? classify_plain_decimal16(p, len, s->cc, &d, &sc)
                   : classify_plain_decimal(p, len, s->cc, &d, &sc)))
            break;
        digits = d > digits ? d : digits;
        scale = sc > scale ? sc : scale;
        max_len = len > max_len ? len : max_len;
        k++;
    }
    col->count += k;
    col->run_count += k;
    col->dec_int_digits = digits;
    col->dec_scale = scale;
    column_note_len(col, max_len);
    return r;
}

/* Any other column (strict) whose values keep the type set of its last one
 * (classify_expected's shapes: doubles, ISO dates and timestamps, uuids,
 * booleans).  Returns the first record not taken. */
static inline __attribute__((always_inline)) size_t shape_column_run(struct column_state *col, const struct field_src *s,
                               size_t fk, bool strip, size_t r, size_t nrec)
{
    uint32_t expect = col->run_types;
    for (fk += r * s->stride; r < nrec; r++, fk += s->stride) {
        size_t len;
        bool quoted;
        const uint8_t *p = src_value(s, fk, strip, &len, &quoted);
        struct field_class cl;
        if (!classify_expected(expect, p, len, s->cc, &cl) || cl.types != expect)
            break;
        column_add_run(col, &cl, len);
    }
    return r;
}

/* A settled text column (column_settled): a value changes only the counts,
 * and the lengths when it is longer than any before; the facts are kept in
 * registers.  Two shapes are decided from the raw field, without its content:
 * an unquoted value whose first byte is above ' ' and starts no null token
 * (trimmed or not, it starts with that byte: not a null), and a quoted value
 * that starts with a quote and a byte of that kind (its content starts with
 * that byte, so it is no null) and is no longer than max_chars (its content,
 * shorter still, changes no length).  Anything else goes through
 * field_content and classify_null_bits, as column_add_settled would. */
static inline __attribute__((always_inline)) size_t
text_run(struct column_state *col, const uint8_t *buf, const struct field_batch *b, size_t column,
         size_t r, size_t nrec, uint8_t quote, const struct classify_cfg *cc, uint8_t *scratch,
         const bool strip)
{
    uint64_t nulls = col->nulls, max_bytes = col->max_bytes, max_chars = col->max_chars;
    uint32_t kinds = col->null_kinds;
    const uint8_t *first = cc->null_first;
    const size_t stride = b->stride;
    struct field_src s = {.buf = buf, .pos = b->pos, .qcum = b->qcum};
    col->count += nrec - r;
    for (size_t k = r * stride + column; r < nrec; r++, k += stride) {
        const struct scan_field fv = src_field(&s, k, strip);
        size_t a = fv.start;
        const uint8_t *p = buf + a;
        size_t n = fv.end - a;
        uint32_t nquotes = fv.nquotes;
        if (nquotes == 0) {
            if (n && p[0] > ' ' && !first[p[0]]) { /* trimmed, it still starts with p[0] */
                if (n > max_chars) { /* max_chars <= max_bytes */
                    max_bytes = n > max_bytes ? n : max_bytes;
                    uint64_t ch = utf8_char_count(p, n);
                    max_chars = ch > max_chars ? ch : max_chars;
                }
                continue;
            }
        } else if (n <= max_chars && n >= 2 && p[0] == quote && p[1] != quote && p[1] > ' ' &&
                   !first[p[1]]) {
            continue;
        }
        size_t len;
        bool quoted;
        struct scan_field f = {a, a + n, nquotes}; /* (in memory only on this path) */
        const uint8_t *v = field_content(buf, &f, quote, scratch, &len, &quoted);
        uint32_t nb = classify_null_bits(v, len, quoted, cc);
        if (nb) {
            nulls++;
            kinds |= nb;
        } else if (len > max_chars) {
            max_bytes = len > max_bytes ? len : max_bytes;
            uint64_t ch = utf8_char_count(v, len);
            max_chars = ch > max_chars ? ch : max_chars;
        }
    }
    col->nulls = nulls;
    col->null_kinds = kinds;
    col->max_bytes = max_bytes;
    col->max_chars = max_chars;
    return r;
}

size_t slice_text_run(struct column_state *col, const uint8_t *buf, const struct field_batch *b,
                      size_t column, size_t r, size_t nrec, uint8_t quote,
                      const struct classify_cfg *cc, uint8_t *scratch)
{
    return column == b->strip_col ? text_run(col, buf, b, column, r, nrec, quote, cc, scratch, true)
                                  : text_run(col, buf, b, column, r, nrec, quote, cc, scratch, false);
}

#define SHAPE_DOUBLE (CSVI_BIT(CSVI_TYPE_DOUBLE) | CSVI_BIT(CSVI_TYPE_TEXT))
#define SHAPE_DATE                                                                           \
    (CSVI_BIT(CSVI_TYPE_DATE) | CSVI_BIT(CSVI_TYPE_TIMESTAMP) |                                \
     CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | CSVI_BIT(CSVI_TYPE_TEXT))
#define SHAPE_TIMESTAMP                                                                      \
    (CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | CSVI_BIT(CSVI_TYPE_TEXT))
#define SHAPE_UUID (CSVI_BIT(CSVI_TYPE_UUID) | CSVI_BIT(CSVI_TYPE_TEXT))
#define SHAPE_BOOLEAN (CSVI_BIT(CSVI_TYPE_BOOLEAN) | CSVI_BIT(CSVI_TYPE_TEXT))

/* shape_column_run for one type set known when compiled (expect: a
 * constant, so classify_expected keeps only its branch and the column's
 * facts stay in registers): the date and timestamp formats are AND-ed, the
 * time flags OR-ed over the run and folded in once, as column_add_run would
 * per value (an AND with all ones and an OR with 0 change nothing, so an
 * empty run is no special case). */
static inline __attribute__((always_inline)) size_t
shape_run_const(struct column_state *col, const struct field_src *s, size_t fk, bool strip,
                size_t r, size_t nrec, const uint32_t expect, struct template_slots *ts)
{
    uint32_t fmts = ~0u;
    uint8_t tflags = 0;
    uint64_t max_len = 0, k = 0; /* ASCII values: as many chars as bytes */
    const bool learn = expect == SHAPE_DOUBLE || expect == SHAPE_BOOLEAN;
    if (learn)
        slots_use(ts, expect == SHAPE_DOUBLE ? VT_DOUBLE : VT_LITERAL);
    for (fk += r * s->stride; r < nrec; r++, fk += s->stride) {
        size_t len;
        bool wide;
        const uint8_t *p;
        struct field_class cl;
        if (!run_value(s, fk, strip, &p, &len, &wide))
            break;
        if (learn && wide && slots_find(ts, p, len))
            ts->hits++; /* the shape of a double or boolean seen before: nothing else to note */
        else if (expect == SHAPE_DOUBLE && wide && classify_plain_double16(p, len, s->cc))
            slots_learn(ts, p, len, VT_DOUBLE, s->cc); /* the same type set, nothing to note */
        else if (expect == SHAPE_DATE && wide && classify_iso_date16(p, len, s->cc))
            cl.date_fmts = CSVI_BIT(DF_YMD_DASH), cl.time_flags = 0;
        else if (expect == SHAPE_TIMESTAMP && classify_iso_ts19(p, len, s->cc, &cl.time_flags))
            cl.date_fmts = CSVI_BIT(DF_YMD_DASH);
        else if (!classify_expected(expect, p, len, s->cc, &cl) || cl.types != expect)
            break;
        else if (expect == SHAPE_BOOLEAN && wide)
            slots_learn(ts, p, len, VT_LITERAL, s->cc);
        if (expect & CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ)) {
            fmts &= cl.date_fmts;
            tflags |= cl.time_flags;
        }
        max_len = len > max_len ? len : max_len;
        k++;
    }
    col->count += k;
    col->run_count += k;
    if (expect & CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ)) {
        if (expect & CSVI_BIT(CSVI_TYPE_DATE))
            col->fmts[0] &= fmts;
        if (expect & CSVI_BIT(CSVI_TYPE_TIMESTAMP))
            col->fmts[1] &= fmts;
        col->fmts[2] &= fmts;
        col->tflags_ts |= tflags;
    }
    column_note_len(col, max_len);
    return r;
}


/* Classify and add nrec records of plan->ncols fields each (fields:
 * [record][column]), a column at a time.  A column whose last values were
 * plain integers or decimals takes the next ones in a loop of its own
 * (strict mode: column_add_run's conditions); a column settled as text needs
 * only null checks and lengths; anything else goes value by value. */
/* Column i's template slots for this slice (allocated zeroed on first use;
 * if that fails, *local, made empty). */
static struct template_slots *slots_of(struct slice_ctx *c, size_t i, struct template_slots *local)
{
    if (c->tpl && !c->tpl[i])
        c->tpl[i] = calloc(1, sizeof *c->tpl[i]);
    if (c->tpl && c->tpl[i])
        return c->tpl[i];
    local->valid = 0;
    local->learned = local->hits = 0;
    local->off = false;
    local->kind = VT_LITERAL;
    return local;
}

/* Column i of infer_fields; strip: it is b->strip_col (a constant where
 * inlined, so the loops drop the check of a final '\r' everywhere else). */
static inline __attribute__((always_inline)) void
infer_column(struct slice_ctx *c, const struct field_src *sp, const struct field_batch *b,
             size_t i, const uint64_t *lines, size_t nrec, const bool strip)
{
    const struct field_src s = *sp;
    struct column_state *col = &c->v->cols[i];
    struct template_slots local; /* if the column's could not be allocated */
    const size_t f0 = i;
    size_t r = 0;
    while (r < nrec) {
        size_t len;
        bool quoted;
        if (column_settled(col)) { /* already text: only nulls and lengths matter */
            text_run(col, s.buf, b, i, r, nrec, s.quote, s.cc, s.scratch, strip);
            break;
        }
        uint32_t expect = col->run_types;
        if (col->strict) {
            if (expect == CSVI_INT_CHAIN)
                r = int_column_run(col, &s, f0, strip, r, nrec);
            else if (expect == CSVI_DEC_CHAIN)
                r = decimal_column_run(col, &s, f0, strip, r, nrec);
            else if (expect == SHAPE_DATE)
                r = shape_run_const(col, &s, f0, strip, r, nrec, SHAPE_DATE, NULL);
            else if (expect == SHAPE_TIMESTAMP)
                r = shape_run_const(col, &s, f0, strip, r, nrec, SHAPE_TIMESTAMP, NULL);
            else if (expect == SHAPE_UUID)
                r = shape_run_const(col, &s, f0, strip, r, nrec, SHAPE_UUID, NULL);
            else if (expect == SHAPE_BOOLEAN)
                r = shape_run_const(col, &s, f0, strip, r, nrec, SHAPE_BOOLEAN, slots_of(c, i, &local));
            else if (expect == SHAPE_DOUBLE)
                r = shape_run_const(col, &s, f0, strip, r, nrec, SHAPE_DOUBLE, slots_of(c, i, &local));
            else if (expect)
                r = shape_column_run(col, &s, f0, strip, r, nrec);
            if (r == nrec)
                break;
        }
        /* one value the general way */
        const uint8_t *p = src_value(&s, f0 + r * s.stride, strip, &len, &quoted);
        struct field_class cl;
        if (classify_expected(expect, p, len, s.cc, &cl)) {
            if (cl.types == expect && col->strict) {
                column_add_run(col, &cl, len);
                r++;
                continue;
            }
        } else {
            classify_field(p, len, quoted, s.cc, &cl);
        }
        column_add(col, &cl, p, len, lines[r]);
        r++;
    }
}

__attribute__((flatten)) static void infer_fields(struct slice_ctx *c,
                                                  const struct field_batch *b,
                                                  const uint64_t *lines, size_t nrec)
{
    const struct file_plan *plan = c->plan;
    const struct field_src s = {.buf = c->buf, .quote = plan->quote, .scratch = c->scratch,
                                .cc = &plan->cfg->ccfg, .pos = b->pos, .qcum = b->qcum,
                                .stride = b->stride, .len = c->len};
    for (size_t i = 0; i < plan->ncols; i++) {
        if (i == b->strip_col)
            infer_column(c, &s, b, i, lines, nrec, true);
        else
            infer_column(c, &s, b, i, lines, nrec, false);
    }
}

/* Infer one record of the file's width (fields f[nf]) at once.  Its offsets
 * are made relative to its start (32 bits: a record is no longer than
 * --max-record, at most 1 GiB). */
static void infer_record(struct slice_ctx *c, const struct scan_field *f, size_t nf, uint64_t line)
{
    if (nf > c->one_cap) {
        uint32_t *one = realloc(c->one, 2 * (nf + 1) * sizeof *one);
        if (!one) {
            c->nomem = true;
            return;
        }
        c->one = one;
        c->one_cap = nf;
    }
    uint32_t *pos = c->one, *qcum = c->one + nf + 1;
    size_t at = f[0].start;
    pos[0] = UINT32_MAX; /* + 1: 0, the record's start */
    qcum[0] = 0;
    for (size_t i = 0; i < nf; i++) {
        pos[i + 1] = (uint32_t)(f[i].end - at);
        qcum[i + 1] = qcum[i] + f[i].nquotes;
    }
    struct field_batch b = {pos + 1, qcum + 1, nf, SIZE_MAX};
    const uint8_t *buf = c->buf;
    size_t len = c->len;
    c->buf += at;
    c->len -= at;
    infer_fields(c, &b, &line, 1);
    c->buf = buf;
    c->len = len;
}

static bool on_record(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                      uint64_t line)
{
    struct slice_ctx *c = ctx;
    struct slice_verdict *v = c->v;
    const struct file_plan *plan = c->plan;
    copy_checks(c, buf, f, nf, line);
    if (is_blank(f, nf)) {
        if (c->blank++ == 0)
            c->blank_line = line;
        return true;
    }
    if ((uint64_t)(f[nf - 1].end - f[0].start) > plan->cfg->opt.max_record) {
        SLICE_ERROR(v, line, CSVI_EK_RECORD_TOO_LONG,
                    "record longer than --max-record (%zu bytes); rest of the file not read "
                    "(raise --max-record, or check the quoting)",
                    plan->cfg->opt.max_record);
        v->stop = true;
        return false;
    }
    if (!v->has_record) {
        v->has_record = true;
        v->lead_blank = c->blank;
        v->lead_blank_line = c->blank_line;
        c->blank = 0;
    } else if (c->blank) {
        resolve_inner_blanks(c);
    }
    if (c->header_pending) {
        c->header_pending = false;
        v->header_taken = true;
        return true;
    }
    v->rows++;
    if (nf != plan->ncols) {
        SLICE_ERROR(v, line, CSVI_EK_RAGGED_ROW,
                    "expected %zu field%s, found %zu; row not used for types", plan->ncols,
                    plan->ncols == 1 ? "" : "s", nf);
    } else {
        infer_record(c, f, nf, line);
    }
    return true;
}

/* The fields of a record from the index: field ends pos[f0..e] (pos[e] its
 * newline, or the buffer's end); cr: its last field ends in a '\r' the
 * record end drops (as scan_buffer does). */
static void index_fields(const struct scan_index *ix, size_t f0, size_t e, bool cr,
                         struct scan_field *out)
{
    const uint32_t *pos = ix->pos + f0, *qcum = ix->qcum + f0; /* [-1]: before the record */
    for (ptrdiff_t j = 0; j <= (ptrdiff_t)(e - f0); j++, out++)
        *out = (struct scan_field){(uint32_t)(pos[j - 1] + 1u), /* UINT32_MAX + 1: 0 */
                                   pos[j], qcum[j] - qcum[j - 1]};
    out[-1].end -= cr;
}

/* The record of field ends pos[f0..e] as spans in c->rec; NULL: no memory. */
static const struct scan_field *rec_fields(struct slice_ctx *c, const struct scan_index *ix,
                                           size_t f0, size_t e, bool cr)
{
    size_t nf = e - f0 + 1;
    if (nf > c->rec_cap) {
        size_t cap = c->rec_cap ? c->rec_cap : 64;
        while (cap < nf)
            cap *= 2;
        struct scan_field *r = realloc(c->rec, cap * sizeof *r);
        if (!r)
            return NULL;
        c->rec = r;
        c->rec_cap = cap;
    }
    index_fields(ix, f0, e, cr, c->rec);
    return c->rec;
}

/* Hand a record on_record (nf fields: field ends pos[f0..e]). */
static int walk_slow(struct slice_ctx *c, const struct scan_index *ix, size_t f0, size_t e,
                     bool cr, uint64_t line, bool *go_on)
{
    const struct scan_field *f = rec_fields(c, ix, f0, e, cr);
    if (!f)
        return -ENOMEM;
    *go_on = on_record(c, c->buf, f, e - f0 + 1, line);
    c->fast = c->v->has_record && !c->header_pending && !c->blank;
    return 0;
}

/* Infer a run of n records of the file's width from the index, in place:
 * their fields from index f0 on. */
static void infer_run(struct slice_ctx *c, const struct scan_index *ix, size_t f0, size_t n)
{
    if (!n)
        return;
    size_t ncols = c->plan->ncols;
    struct field_batch b = {ix->pos + f0, ix->qcum + f0, ncols, c->any_cr ? ncols - 1 : SIZE_MAX};
    infer_fields(c, &b, c->run_line, n);
    c->v->rows += n;
}

/* scan_buffer + on_record, the same records with the same lines, for a
 * slice of less than 4 GiB: the index (scan_index.c) a window at a time,
 * each record looked at once.  Records of the file's width that need none of
 * on_record's cases (the usual ones) make runs, inferred from the index in
 * place; what on_record would do for each is done here in a few
 * instructions.  Any other record goes to on_record. */
static int slice_walk(struct slice_ctx *c, struct scan_index *ix, size_t len, bool eof,
                      uint64_t first_line, struct scan_result *res)
{
    struct slice_verdict *v = c->v;
    const uint8_t *buf = c->buf;
    const size_t ncols = c->plan->ncols;
    const uint64_t max_record = c->plan->cfg->opt.max_record;
    const bool any_cr = c->any_cr;
    uint64_t rec_line = first_line;
    size_t nblocks = (len + 63) / 64;
    bool go_on = true;
    memset(res, 0, sizeof *res);
    while (ix->block < nblocks) {
        if (scan_index_more(ix, buf, len))
            return -ENOMEM;
        /* the window's arrays and what on_record may change, in locals: the
         * stores of the run would make the compiler reload them */
        const uint32_t *pos = ix->pos, *before = ix->pos - 1, *qcum = ix->qcum;
        const uint32_t *qbefore = ix->qcum - 1, *ends = ix->ends, *qnl = ix->qnl;
        const size_t ne = ix->ne, nqn = ix->nqn;
        uint64_t *run_line = c->run_line;
        bool fast = c->fast, lf_seen = v->lf_line != 0;
        size_t f0 = 0, qni = 0, k, run_f0 = 0, run_n = 0;
        for (k = 0; k < ne; k++) {
            size_t e = ends[k];
            uint32_t nl = pos[e];
            uint64_t line = rec_line++;
            while (__builtin_expect(qni < nqn, 0) && qnl[qni] < nl)
                qni++, rec_line++;
            uint32_t start = before[f0] + 1u;
            bool cr = false;
            if (any_cr) {
                uint32_t last = before[e] + 1u;
                cr = nl > last && buf[nl - 1] == '\r';
            }
            if (e - f0 + 1 == ncols && fast && nl - cr - start <= max_record &&
                (ncols > 1 || (nl - cr > start && /* one column: no blank, no "\." */
                               !(nl - cr - start == 2 && buf[start] == '\\' && buf[start + 1] == '.')))) {
                /* on_record's path for it: copy_checks, the run */
                if (any_cr) {
                    if (cr) {
                        c->crlf_ends++;
                        if (!v->crlf_line)
                            v->crlf_line = line;
                    } else if (!v->lf_line) {
                        v->lf_line = line;
                    }
                    if (qcum[e] != qbefore[f0]) { /* its quoted fields' '\r' are not bare */
                        const struct scan_field *f = rec_fields(c, ix, f0, e, cr);
                        if (!f)
                            return -ENOMEM;
                        c->quoted_cr += quoted_field_crs(buf, f, e - f0 + 1);
                    }
                } else if (!lf_seen) {
                    v->lf_line = line;
                    lf_seen = true;
                }
                if (!run_n)
                    run_f0 = f0;
                run_line[run_n++] = line;
            } else {
                infer_run(c, ix, run_f0, run_n);
                run_n = 0;
                if (walk_slow(c, ix, f0, e, cr, line, &go_on))
                    return -ENOMEM;
                if (!go_on) {
                    res->consumed = (size_t)nl + 1;
                    res->lines = rec_line - first_line;
                    res->stopped = true;
                    return 0;
                }
                fast = c->fast;
                lf_seen = v->lf_line != 0;
            }
            f0 = e + 1;
        }
        infer_run(c, ix, run_f0, run_n);
        scan_index_drop(ix, k, qni);
    }
    size_t rec_start = (uint32_t)(ix->pos[-1] + 1u);
    res->consumed = rec_start;
    res->lines = rec_line - first_line;
    if (!eof || rec_start >= len)
        return 0;
    /* the last record, without a newline after it: any '\n' in it is quoted */
    uint64_t tail_nl = split_count_newlines(buf + rec_start, len - rec_start);
    if (ix->inq) { /* eof inside quotes: the record never ended */
        res->unterminated = true;
        return 0;
    }
    size_t e = ix->np;
    ix->pos[e] = (uint32_t)len; /* its last field ends at the end (the arrays have slack) */
    ix->qcum[e] = ix->quotes;
    uint32_t last = ix->pos[(ptrdiff_t)e - 1] + 1u;
    bool cr = len > last && buf[len - 1] == '\r';
    if (walk_slow(c, ix, 0, e, cr, rec_line, &go_on))
        return -ENOMEM;
    res->stopped = !go_on;
    res->consumed = len;
    res->lines = rec_line - first_line + tail_nl;
    return 0;
}

static bool walk_off; /* tests: scan_buffer and on_record for every slice */

void slice_set_walk(bool on) { walk_off = !on; }

bool slice_work_scratch(struct slice_work *w, size_t n)
{
    if (n <= w->scratch_cap && w->scratch)
        return true;
    uint8_t *s = realloc(w->scratch, n ? n : 1);
    if (!s)
        return false;
    w->scratch = s;
    w->scratch_cap = n;
    return true;
}

void slice_work_free(struct slice_work *w)
{
    free(w->scratch);
    if (w->have_ix)
        scan_index_free(&w->ix);
    free(w->run_line);
    free(w->rec);
    free(w->one);
    memset(w, 0, sizeof *w);
}

/* What a slice leaves in w for the next: all but what a long record grew
 * far past the usual (a 64 MiB record of empty fields would keep 1 GiB). */
static void work_keep(struct slice_work *w, struct slice_ctx *c)
{
    w->rec = c->rec;
    w->rec_cap = c->rec_cap;
    w->one = c->one;
    w->one_cap = c->one_cap;
    if (w->rec_cap > 65536) {
        free(w->rec);
        w->rec = NULL;
        w->rec_cap = 0;
    }
    if (w->one_cap > 65536) {
        free(w->one);
        w->one = NULL;
        w->one_cap = 0;
    }
}

int slice_infer(const struct file_plan *plan, const uint8_t *buf, size_t len, bool eof,
                bool truncated, uint64_t first_line, bool header_pending, struct slice_work *w,
                struct slice_verdict *v)
{
    uint8_t *scratch = w->scratch;
    memset(v, 0, sizeof *v);
    if (plan->refused) { /* (the plan put the error in the result) */
        v->stop = true;
        v->consumed = len;
        return 0;
    }
    bool tolerant = plan->cfg->opt.threshold < 1.0;
    if (plan->ncols) {
        v->cols = malloc(plan->ncols * sizeof *v->cols);
        if (!v->cols)
            return -ENOMEM;
        v->ncols = plan->ncols;
        for (size_t i = 0; i < plan->ncols; i++)
            column_init(&v->cols[i], tolerant);
    }
    /* One pass over the bytes before the scan: whether any '\r' occurs (the
     * per-record checks need it), and the first NUL and invalid UTF-8 (read
     * after the scan, for the records used only: see the end). */
    struct bytecheck bc;
    bytecheck(buf, len, &bc);
    struct slice_ctx c = {.plan = plan, .v = v, .len = len, .any_cr = bc.any_cr,
                          .header_pending = header_pending, .scratch = scratch, .buf = buf,
                          .rec = w->rec, .rec_cap = w->rec_cap, .one = w->one,
                          .one_cap = w->one_cap};
    struct scanner sc;
    struct scan_result r;
    if (scanner_init(&sc, plan->delim, plan->quote))
        return -ENOMEM;
    int rc;
    if (plan->ncols)
        c.tpl = calloc(plan->ncols, sizeof *c.tpl); /* none: no templates kept */
    if (len < UINT32_MAX - 128 && !walk_off) { /* the index's offsets are 32 bits */
        size_t nrun = len < RUN_MAX ? len + 1 : RUN_MAX;
        if (nrun > w->run_cap) {
            uint64_t *rl = realloc(w->run_line, nrun * sizeof *rl);
            if (rl) {
                w->run_line = rl;
                w->run_cap = nrun;
            }
        }
        int ir = -ENOMEM;
        if (nrun <= w->run_cap)
            ir = w->have_ix ? scan_index_reinit(&w->ix, plan->delim, plan->quote, len)
                            : scan_index_init(&w->ix, plan->delim, plan->quote, len);
        w->have_ix = ir == 0;
        if (ir) {
            free(c.tpl);
            scanner_free(&sc);
            return -ENOMEM;
        }
        c.run_line = w->run_line;
        rc = slice_walk(&c, &w->ix, len, eof, first_line, &r);
    } else { /* (--chunk-size of 4 GiB or more) records one at a time */
        rc = scan_buffer(&sc, buf, len, eof, first_line, on_record, &c, &r);
    }
    for (size_t i = 0; tolerant && i < v->ncols; i++)
        c.nomem |= v->cols[i].nomem; /* a date set not stored (column_add) */
    if (rc == 0 && c.nomem)
        rc = -ENOMEM;
    work_keep(w, &c);
    if (c.tpl)
        for (size_t i = 0; i < plan->ncols; i++)
            free(c.tpl[i]);
    free(c.tpl);
    /* '\r' bytes of the records used, 64 at a time (split_count with '\r' as
     * its quote byte; split_count_byte's memchr per '\r' was a call per line
     * of a CRLF file) */
    uint64_t crs = 0, nls;
    if (rc == 0 && c.any_cr)
        split_count(buf, r.consumed, '\r', &crs, &nls);
    if (crs > c.crlf_ends + c.quoted_cr) {
        struct slice_ctx c2 = {.plan = plan, .v = v, .len = len, .any_cr = true, .find_bare_cr = true};
        struct scan_result r2;
        /* (the last record of the input, without its '\n', is looked at too) */
        rc = scan_buffer(&sc, buf, r.consumed, eof && r.consumed == len, first_line, bare_cr_cb,
                         &c2, &r2);
    }
    if (!v->bare_cr_line)
        v->bare_cr_line = c.eof_cr_line;
    scanner_free(&sc);
    if (rc)
        return rc;
    v->consumed = r.consumed;
    v->lines = r.lines;
    if (!v->has_record) {
        v->lead_blank = c.blank;
        v->lead_blank_line = c.blank_line;
    } else {
        v->tail_blank = c.blank;
        v->tail_blank_line = c.blank_line;
    }
    /* an open quote at the end of input: a record longer than --max-record is
     * that error whatever the buffer (the sequential engine stops reading at
     * max_record + 3 bytes of it; a slice may hold it whole) */
    bool too_long = eof && r.unterminated && len - r.consumed > plan->cfg->opt.max_record + 2;
    if (!v->stop && eof && r.unterminated && !too_long) {
        SLICE_ERROR(v, first_line + r.lines, CSVI_EK_UNTERMINATED_QUOTE,
                    "quoted field opened here is never closed before the end of the file; the "
                    "record is not used");
        v->stop = true;
    } else if (!v->stop && ((truncated && r.consumed < len) || too_long)) {
        SLICE_ERROR(v, first_line + r.lines, CSVI_EK_RECORD_TOO_LONG,
                    "record longer than --max-record (%zu bytes); rest of the file not read "
                    "(raise --max-record, or check the quoting)",
                    plan->cfg->opt.max_record);
        v->stop = true;
    }
    /* encoding: the first NUL and the first invalid UTF-8 of the records used,
     * [0, consumed), from the check of [0, len).  The first NUL of [0, len) is
     * that of [0, consumed) if it is below consumed; if not, there is none.
     * For UTF-8 the same holds because consumed is len or just past a '\n'
     * (a record end).  Both validations walk the same characters from 0 (the
     * AVX2 kernel returns what the scalar walk does).  A valid character that
     * starts before consumed also ends before it: its continuation bytes are
     * >= 0x80 and byte consumed - 1 is '\n'.  A lead byte before consumed
     * whose sequence would reach byte consumed - 1 is invalid where it starts
     * in both walks: the one over [0, len) meets the '\n', no continuation
     * byte; the one over [0, consumed) meets it too, or finds the sequence cut
     * short.  So the walks agree up to consumed: the same offset when it is
     * below consumed, and one at or past consumed exactly when [0, consumed)
     * is valid. */
    if (bc.first_nul < r.consumed)
        v->nul_line = first_line + split_count_newlines(buf, bc.first_nul);
    if (bc.bad_utf8 < r.consumed)
        v->utf8_line = first_line + split_count_newlines(buf, bc.bad_utf8);
    return 0;
}

size_t slice_verdict_bytes(const struct slice_verdict *v)
{
    size_t n = v->ncols * sizeof *v->cols + v->n_errors * sizeof *v->errors;
    for (size_t i = 0; v->cols && i < v->ncols; i++)
        n += column_heap_bytes(&v->cols[i]);
    for (size_t i = 0; i < v->n_errors; i++)
        n += v->errors[i].message ? strlen(v->errors[i].message) + 1 : 0;
    return n;
}

void slice_verdict_free(struct slice_verdict *v)
{
    if (v->cols)
        for (size_t i = 0; i < v->ncols; i++)
            column_free(&v->cols[i]);
    free(v->cols);
    v->cols = NULL;
    for (size_t i = 0; i < v->n_errors; i++)
        free(v->errors[i].message);
    free(v->errors);
    v->errors = NULL;
    v->n_errors = 0;
}
