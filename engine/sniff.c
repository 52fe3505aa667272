/*
 * sniff.c — dialect sniffing and header detection (DESIGN.md §3, §2).
 *
 * Delimiter and quote: every candidate (',' ';' tab '|' x '"' '\'' none) is
 * parsed over the sample; the winner gives the most records with one
 * consistent field count larger than one.  Ties go to the candidate whose
 * fields more often have a type other than text (a semicolon file with
 * decimal commas splits into numbers on ';' and into junk on ','), then to
 * the order above.  A quote the sample uses as quoting (every field holding
 * it quoted as RFC 4180 says, some of them around a delimiter or a line
 * end) beats reading the same delimiter without quotes, whatever the count
 * says: unquoted, multi-line fields look like many consistent short lines.
 * So does a quote that reads every record as one quoted field (a one-column
 * file whose values hold the delimiter) against the readings that split
 * them.  Candidates tied at the record cap are counted again over the same
 * bytes (a quote that is data joins lines into fewer records there).
 * Header: see header_detect below and docs/types.md.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define SNIFF_MAX_RECORDS 400 /* records scored per candidate */
#define HEADER_MAX_RECORDS 100 /* records classified for the header decision */

struct sample_stats {
    const struct classify_cfg *cfg;
    uint8_t quote;
    bool classify;         /* also compute the typed share (tie-breaks only) */
    size_t counts[SNIFF_MAX_RECORDS];
    size_t n;
    uint8_t delim;
    bool check_quoting;    /* is the quote used as quoting? (only asked when it matters) */
    bool unclean;          /* a field holds the quote other than as RFC 4180 quoting */
    bool needed;           /* a quoted field holds the delimiter or a line end */
    uint64_t typed, cells; /* fields with a type other than text / non-empty fields */
    uint8_t *scratch;
};

static bool is_blank(const struct scan_field *f, size_t nf) { return nf == 1 && f[0].start == f[0].end; }

/* A field with quote bytes: quoted as RFC 4180 says (the quote first and
 * last, inside only doubled), or not; and if so, whether the quoting matters
 * (it holds the delimiter or a line end, which no quoting would cut). */
static void note_quoting(struct sample_stats *st, const uint8_t *p, size_t n)
{
    uint8_t q = st->quote;
    if (n < 2 || p[0] != q || p[n - 1] != q) {
        st->unclean = true;
        return;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        if (p[i] == q) {
            if (i + 2 >= n || p[i + 1] != q) {
                st->unclean = true;
                return;
            }
            i++;
        } else if (p[i] == st->delim || p[i] == '\n' || p[i] == '\r') {
            st->needed = true;
        }
    }
}

/* The sample's unfinished last record (the sample ends before it does):
 * quoting as note_quoting sees it, and if it stops inside a quoted field
 * that already holds a line end, that field needs its quotes — a quoted
 * text longer than the sample is no reason to read the file unquoted. */
static void note_tail(struct sample_stats *st, const uint8_t *p, size_t n)
{
    uint8_t q = st->quote;
    bool inq = false, field_start = true, special = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (inq) {
            if (c == q) {
                if (i + 1 < n && p[i + 1] == q) {
                    i++;
                    continue;
                }
                inq = false;
                if (i + 1 < n && p[i + 1] != st->delim && p[i + 1] != '\n' && p[i + 1] != '\r') {
                    st->unclean = true;
                    return;
                }
            } else if (c == st->delim || c == '\n' || c == '\r') {
                special = true;
            }
            continue;
        }
        if (c == q && !field_start) {
            st->unclean = true;
            return;
        }
        inq = c == q;
        field_start = c == st->delim || c == '\n';
    }
    if (inq && special)
        st->needed = true;
}

static bool stats_cb(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                     uint64_t line)
{
    (void)line;
    struct sample_stats *st = ctx;
    if (is_blank(f, nf))
        return true;
    st->counts[st->n++] = nf;
    for (size_t i = 0; st->check_quoting && !st->unclean && i < nf; i++)
        if (f[i].nquotes)
            note_quoting(st, buf + f[i].start, f[i].end - f[i].start);
    for (size_t i = 0; st->classify && i < nf; i++) {
        size_t len;
        bool quoted;
        const uint8_t *v = field_content(buf, &f[i], st->quote, st->scratch, &len, &quoted);
        struct field_class fc;
        classify_field(v, len, quoted, st->cfg, &fc);
        if (fc.types == CSVI_BIT(CSVI_TYPE_NULL))
            continue;
        st->cells++;
        st->typed += fc.types != CSVI_BIT(CSVI_TYPE_TEXT);
    }
    return st->n < SNIFF_MAX_RECORDS && !(st->check_quoting && st->unclean);
}

/* Most frequent field count (the larger on a tie) and how many records have it. */
static void modal_count(const size_t *counts, size_t n, size_t *mode, size_t *freq)
{
    size_t vals[SNIFF_MAX_RECORDS], freqs[SNIFF_MAX_RECORDS], nv = 0;
    for (size_t i = 0; i < n; i++) { /* few distinct counts: a linear table */
        size_t k = 0;
        while (k < nv && vals[k] != counts[i])
            k++;
        if (k == nv) {
            vals[nv] = counts[i];
            freqs[nv++] = 0;
        }
        freqs[k]++;
    }
    *mode = 0;
    *freq = 0;
    for (size_t k = 0; k < nv; k++)
        if (freqs[k] > *freq || (freqs[k] == *freq && vals[k] > *mode)) {
            *freq = freqs[k];
            *mode = vals[k];
        }
}

struct candidate_score {
    uint8_t delim, quote;
    bool quoting;      /* the quote is used as quoting: every field holding it is
                          quoted cleanly, and some quoted field needs it */
    size_t consistent; /* records with the modal field count (0 if that count is 1) */
    bool one_field;    /* every record is one field (a one-column file, read so) */
    bool capped;       /* the scan stopped at SNIFF_MAX_RECORDS records */
    size_t consumed;   /* bytes of the records scanned */
    size_t fields;
    double typed;      /* share of non-empty fields with a type other than text */
};

/* Parse the sample as out's dialect: its counts (and with classify, the
 * typed share) into out; or with check_quoting only out->quoting, the scan
 * stopping at the first field that is not quoted cleanly. */
static int score_candidate(const uint8_t *sample, size_t n, bool eof, bool classify,
                           bool check_quoting, const struct classify_cfg *cfg,
                           struct candidate_score *out)
{
    struct sample_stats *st = calloc(1, sizeof *st);
    struct scanner sc;
    if (!st || scanner_init(&sc, out->delim, out->quote)) {
        free(st);
        return -1;
    }
    st->cfg = cfg;
    st->quote = out->quote;
    st->delim = out->delim;
    st->classify = classify;
    st->check_quoting = check_quoting && out->quote;
    st->scratch = classify ? malloc(n + 1) : NULL;
    struct scan_result r;
    int rc = (!classify || st->scratch) ? scan_buffer(&sc, sample, n, eof, 1, stats_cb, st, &r) : -1;
    if (rc == 0 && st->check_quoting && !r.stopped && r.consumed < n)
        note_tail(st, sample + r.consumed, n - r.consumed);
    if (rc == 0 && check_quoting) { /* (a second look: the counts are kept as they were) */
        out->quoting = st->check_quoting && st->needed && !st->unclean;
    } else if (rc == 0) {
        size_t mode, freq;
        modal_count(st->counts, st->n, &mode, &freq);
        out->consistent = mode > 1 ? freq : 0;
        out->one_field = st->n > 0 && mode == 1 && freq == st->n;
        out->capped = st->n == SNIFF_MAX_RECORDS;
        out->consumed = r.consumed;
        out->fields = mode;
        out->typed = st->cells ? (double)st->typed / (double)st->cells : 0.0;
    }
    scanner_free(&sc);
    free(st->scratch);
    free(st);
    return rc;
}

/* ---- header detection --------------------------------------------------- */

struct header_ctx {
    const struct classify_cfg *cfg;
    uint8_t quote;
    size_t ncols;
    size_t records;
    struct field_class *first;   /* [ncols] class of each first-row value */
    char **first_vals;           /* [ncols] trimmed first-row values */
    struct column_state *cols;   /* [ncols] the rows below */
    uint8_t *scratch;
    bool nomem, too_wide;
};

static char *trimmed_copy(const uint8_t *v, size_t n)
{
    while (n && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, v, n);
        s[n] = '\0';
    }
    return s;
}

static bool header_cb(void *ctx, const uint8_t *buf, const struct scan_field *f, size_t nf,
                      uint64_t line)
{
    struct header_ctx *h = ctx;
    if (is_blank(f, nf))
        return true;
    if (h->records == 0 && nf > CSVI_MAX_COLUMNS) { /* not read (plan.c): no header */
        h->too_wide = true;
        return false;
    }
    if (h->records == 0) {
        h->ncols = nf;
        h->first = calloc(nf, sizeof *h->first);
        h->first_vals = calloc(nf, sizeof *h->first_vals);
        h->cols = calloc(nf, sizeof *h->cols);
        if (!h->first || !h->first_vals || !h->cols) {
            h->nomem = true;
            return false;
        }
        for (size_t i = 0; i < nf; i++)
            column_init(&h->cols[i], false);
    }
    for (size_t i = 0; i < nf && i < h->ncols; i++) {
        size_t len;
        bool quoted;
        const uint8_t *v = field_content(buf, &f[i], h->quote, h->scratch, &len, &quoted);
        struct field_class fc;
        classify_field(v, len, quoted, h->cfg, &fc);
        if (h->records == 0) {
            h->first[i] = fc;
            h->first_vals[i] = trimmed_copy(v, len);
            if (!h->first_vals[i]) {
                h->nomem = true;
                return false;
            }
        } else if (nf == h->ncols) {
            column_add(&h->cols[i], &fc, v, len, line);
        }
    }
    h->records++;
    return h->records < HEADER_MAX_RECORDS;
}

struct first_val {
    const char *s;
    size_t col;
};

static int cmp_first_vals(const void *a, const void *b)
{
    const struct first_val *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->col > y->col) - (x->col < y->col);
}

/* A first-row value that is not null and equals a non-empty value before it.
 * Sorted, so that 100,000 columns do not take 5 billion comparisons. */
static int header_repeats(const struct header_ctx *h, bool *repeats /* OUT */)
{
    struct first_val *v = malloc((h->ncols ? h->ncols : 1) * sizeof *v);
    size_t n = 0;
    if (!v)
        return -1;
    for (size_t i = 0; i < h->ncols; i++)
        if (h->first_vals[i][0])
            v[n++] = (struct first_val){h->first_vals[i], i};
    qsort(v, n, sizeof *v, cmp_first_vals);
    *repeats = false;
    for (size_t k = 1; k < n && !*repeats; k++) /* a run of equal values: all but its first */
        *repeats = strcmp(v[k].s, v[k - 1].s) == 0 &&
                   h->first[v[k].col].types != CSVI_BIT(CSVI_TYPE_NULL);
    free(v);
    return 0;
}

/* Header (DESIGN.md §2) if the first row is all text while some column below
 * is not (a name may repeat: "id,name,id" over integers, as SQL joins
 * export), or its names are distinct and either all text (every column
 * text) or some column whose data below has a non-text type has a name that
 * does not fit it ("id" over integers). A repeated value over text only is
 * data ("x,x" over text).  A boolean-looking name ("x,y", "question,yes,no")
 * counts as text over a column that is not boolean (or has no value: a
 * header-only file). */
static bool header_decide(const struct header_ctx *h, bool repeats)
{
    bool any = false, all_text = true, unlike = false, typed_below = false;
    for (size_t i = 0; i < h->ncols; i++) {
        if (h->first[i].types == CSVI_BIT(CSVI_TYPE_NULL))
            continue;
        any = true;
        struct csvi_column v = {0};
        column_verdict(&h->cols[i], 1.0, false, &v);
        /* a name that reads as a boolean ("y", "yes", "no", "t") is a name
         * unless the column below holds booleans (0 and 1 are integers) */
        uint32_t numeric = CSVI_BIT(CSVI_TYPE_INTEGER) | CSVI_BIT(CSVI_TYPE_DECIMAL) |
                           CSVI_BIT(CSVI_TYPE_DOUBLE);
        bool boolean_name = (h->first[i].types & CSVI_BIT(CSVI_TYPE_BOOLEAN)) &&
                            !(h->first[i].types & numeric) && v.type != CSVI_TYPE_BOOLEAN;
        if (h->first[i].types != CSVI_BIT(CSVI_TYPE_TEXT) && !boolean_name)
            all_text = false;
        if (v.type != CSVI_TYPE_TEXT && v.type != CSVI_TYPE_NULL) {
            typed_below = true;
            if (!(h->first[i].types & CSVI_BIT(v.type)))
                unlike = true;
        }
    }
    if (repeats)
        return any && all_text && typed_below;
    return any && (all_text || unlike);
}

static int header_detect(const uint8_t *sample, size_t n, bool eof, uint8_t delim, uint8_t quote,
                         const struct classify_cfg *cfg, bool *header)
{
    struct header_ctx h = {.cfg = cfg, .quote = quote};
    struct scanner sc;
    if (scanner_init(&sc, delim, quote))
        return -1;
    h.scratch = malloc(n + 1);
    struct scan_result r;
    int rc = h.scratch ? scan_buffer(&sc, sample, n, eof, 1, header_cb, &h, &r) : -1;
    if (rc == 0 && h.nomem)
        rc = -1;
    bool repeats = false;
    if (rc == 0 && h.records > 0 && header_repeats(&h, &repeats))
        rc = -1;
    *header = rc == 0 && h.records > 0 && !h.too_wide && header_decide(&h, repeats);
    for (size_t i = 0; i < h.ncols; i++) {
        if (h.first_vals)
            free(h.first_vals[i]);
        if (h.cols)
            column_free(&h.cols[i]);
    }
    free(h.first);
    free(h.first_vals);
    free(h.cols);
    free(h.scratch);
    scanner_free(&sc);
    return rc;
}

int sniff_dialect(const uint8_t *sample, size_t n, bool eof, const struct csvi_options *opt,
                  const struct classify_cfg *cfg, struct sniff_result *out)
{
    static const uint8_t delims[] = {',', ';', '\t', '|'};
    static const uint8_t quotes[] = {'"', '\'', 0};
    out->delim = opt->delimiter != CSVI_AUTO ? (uint8_t)opt->delimiter : ',';
    out->quote = opt->quote != CSVI_AUTO ? (uint8_t)opt->quote : '"';
    if (opt->delimiter == CSVI_AUTO && out->delim == out->quote) /* --quote , */
        out->delim = ';';
    out->header = false;
    const uint8_t *nl = memchr(sample, '\n', n);
    out->crlf = nl && nl > sample && nl[-1] == '\r';
    if (n == 0)
        return 0;

    /* Candidates, in order of preference.  A delimiter absent from the sample
     * cannot give more than one field; a quote character absent from it
     * parses exactly as no quoting, which the first quote stands for. */
    struct candidate_score cand[sizeof delims * sizeof quotes];
    size_t nc = 0;
    bool dq = memchr(sample, '"', n) != NULL, sq = memchr(sample, '\'', n) != NULL;
    for (size_t di = 0; di < sizeof delims; di++) {
        uint8_t d = opt->delimiter != CSVI_AUTO ? (uint8_t)opt->delimiter : delims[di];
        if (opt->delimiter != CSVI_AUTO && di > 0)
            break;
        if (opt->delimiter == CSVI_AUTO && !memchr(sample, d, n))
            continue;
        if (opt->quote != CSVI_AUTO && d == (uint8_t)opt->quote)
            continue; /* --quote C: C is no delimiter (COPY wants them distinct) */
        if (opt->quote != CSVI_AUTO) {
            cand[nc++] = (struct candidate_score){.delim = d, .quote = (uint8_t)opt->quote};
            continue;
        }
        for (size_t qi = 0; qi < sizeof quotes; qi++) {
            uint8_t q = quotes[qi];
            if (q && !(q == '"' ? dq : sq))
                continue;
            if (!q && !dq)
                q = '"'; /* no quoting used: report the usual quote, which parses the same */
            cand[nc++] = (struct candidate_score){.delim = d, .quote = q};
        }
    }
    for (size_t i = 0; i < nc; i++)
        if (score_candidate(sample, n, eof, false, false, cfg, &cand[i]))
            return -1;
    /* Quoting used as quoting beats no quoting on the same delimiter: read
     * without quotes, a quoted field holding line ends makes more (short,
     * consistent-looking) lines than the file has records, and would win on
     * the count below (addresses over three lines, a long quoted text).  The
     * quoted fields are looked at only where no quoting counts more records
     * than every other candidate (it would win). */
    /* A one-column file whose quoted values hold the delimiter ("Smith,
     * John"): quoted, every record is one field, which counts nothing below;
     * read another way, the values split into consistent-looking fields.
     * When a quote reads every record as one field and is used as quoting,
     * the readings that split inside its fields lose: those without quotes,
     * and those whose quote is not quoting; with none left the file is that
     * one column. */
    size_t one_col = SIZE_MAX;
    for (size_t j = 0; j < nc && one_col == SIZE_MAX; j++) {
        if (!cand[j].quote || !cand[j].one_field)
            continue;
        if (score_candidate(sample, n, eof, false, true, cfg, &cand[j]))
            return -1;
        if (cand[j].quoting)
            one_col = j;
    }
    for (size_t i = 0; i < nc && one_col != SIZE_MAX; i++) {
        if (!cand[i].consistent)
            continue;
        if (cand[i].quote && score_candidate(sample, n, eof, false, true, cfg, &cand[i]))
            return -1;
        if (!cand[i].quote || !cand[i].quoting)
            cand[i].consistent = 0;
    }
    for (size_t i = 0; i < nc; i++) {
        bool leads = cand[i].quote == 0 && cand[i].consistent > 0; /* and alone */
        for (size_t k = 0; k < nc && leads; k++)
            leads = k == i || cand[k].consistent < cand[i].consistent;
        for (size_t j = 0; j < nc && leads; j++) {
            if (cand[j].delim != cand[i].delim || !cand[j].quote || !cand[j].consistent ||
                cand[j].consistent >= cand[i].consistent)
                continue;
            if (score_candidate(sample, n, eof, false, true, cfg, &cand[j]))
                return -1;
            if (cand[j].quoting)
                cand[i].consistent = 0;
        }
    }
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < nc; i++)
        if (cand[i].consistent > 0 && (best == SIZE_MAX || cand[i].consistent > cand[best].consistent))
            best = i;
    if (best != SIZE_MAX) {
        size_t ties = 0;
        for (size_t i = 0; i < nc; i++)
            ties += cand[i].consistent == cand[best].consistent;
        /* ties at the record cap are no ties: count again over the bytes the
         * shortest of them took for its records.  A quote that is data
         * (O'Brien, 12" pipe) joins lines into fewer records there, and would
         * otherwise win on the order of the candidates. */
        if (ties > 1 && cand[best].capped) {
            bool tied[sizeof delims * sizeof quotes];
            size_t common = SIZE_MAX, top = cand[best].consistent;
            for (size_t i = 0; i < nc; i++) {
                tied[i] = cand[i].consistent == top;
                if (tied[i] && cand[i].consumed < common)
                    common = cand[i].consumed;
            }
            best = SIZE_MAX;
            for (size_t i = 0; i < nc; i++) {
                if (!tied[i])
                    continue;
                if (score_candidate(sample, common, false, false, false, cfg, &cand[i]))
                    return -1;
                if (best == SIZE_MAX || cand[i].consistent > cand[best].consistent)
                    best = i;
            }
            ties = 0; /* (the others, below the tie, stay below these: zero them) */
            for (size_t i = 0; i < nc; i++) {
                if (!tied[i])
                    cand[i].consistent = 0;
                else
                    ties += cand[i].consistent == cand[best].consistent;
            }
        }
        /* ties on consistency: the candidate whose fields look more like data wins */
        if (ties > 1) {
            size_t top = SIZE_MAX;
            for (size_t i = 0; i < nc; i++) {
                if (cand[i].consistent != cand[best].consistent)
                    continue;
                if (score_candidate(sample, n, eof, true, false, cfg, &cand[i]))
                    return -1;
                if (top == SIZE_MAX || cand[i].typed > cand[top].typed + 1e-9)
                    top = i;
            }
            best = top;
        }
        out->delim = cand[best].delim;
        out->quote = cand[best].quote;
    } else if (one_col != SIZE_MAX) {
        out->delim = cand[one_col].delim;
        out->quote = cand[one_col].quote;
    }
    if (opt->header != CSVI_AUTO) {
        out->header = opt->header != 0;
        return 0;
    }
    return header_detect(sample, n, eof, out->delim, out->quote, cfg, &out->header);
}
