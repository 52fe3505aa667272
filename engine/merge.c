/*
 * merge.c — the merger's job for one file: fold its slices' partial verdicts,
 * strictly in slice order, into the file's result.
 *
 * Column states are joined (a commutative monoid, so order would not matter
 * for them); what needs order is decided here: blank lines at slice edges
 * (between records they are an error, at the end of the file they are
 * nothing), the first NUL and the first invalid UTF-8 of the file, the error
 * list (first CSVI_MAX_ERRORS by line), and a fatal error that ends the file.
 * With keep_state, the final column states are also kept, canonical and
 * encoded (verdict_state.c), in the result: --group and csvinfer merge join
 * them across files.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int file_merge_init(struct file_merge *m, const struct file_plan *plan,
                    struct csvi_file_result *res)
{
    memset(m, 0, sizeof *m);
    m->plan = plan;
    m->res = res;
    if (plan->ncols) {
        m->cols = malloc(plan->ncols * sizeof *m->cols);
        if (!m->cols)
            return -ENOMEM;
        for (size_t i = 0; i < plan->ncols; i++)
            column_init(&m->cols[i], plan->cfg->opt.threshold < 1.0);
    }
    return 0;
}

static void add_error(struct file_merge *m, uint64_t line, enum csvi_error_kind kind, char *msg)
{
    struct csvi_file_result *r = m->res;
    error_list_add(&r->errors, &r->n_errors, &r->error_total, line, kind, msg);
}

/* A blank run followed by a record: null values of a one-column file once the
 * file has started, an error otherwise. */
static void resolve_blanks(struct file_merge *m)
{
    if (m->started && m->plan->ncols == 1) {
        m->cols[0].count += m->blank;
        m->cols[0].nulls += m->blank;
        m->cols[0].null_kinds |= CSVI_NULL_EMPTY; /* a blank line is an empty field */
        m->res->rows += m->blank;
    } else {
        add_error(m, m->blank_line, CSVI_EK_BLANK_LINE,
                  error_format("blank line%s between records (%llu); not counted as a record, "
                               "and a database load would reject it",
                               m->blank > 1 ? "s" : "", (unsigned long long)m->blank));
    }
    m->blank = 0;
}

/* For the first NUL or invalid UTF-8 error of a file that starts as UTF-16
 * or UTF-32 text does: what it is and how to convert it (its columns are
 * meaningless as read).  NULL for other files, and once said. */
static char *wide_message(struct file_merge *m)
{
    if (!m->plan->wide || m->wide_said)
        return NULL;
    m->wide_said = true;
    return error_format("the file looks %s-encoded (%s), not UTF-8 or latin-1: its columns as "
                        "read here are meaningless; convert it first, e.g. iconv -f %s -t UTF-8 "
                        "FILE > FILE.utf8.csv",
                        m->plan->wide->name, m->plan->wide->why, m->plan->wide->iconv);
}

int file_merge_slice(struct file_merge *m, struct slice_verdict *v)
{
    if (m->stopped || (m->plan->ncols && !m->cols)) {
        slice_verdict_free(v);
        return 0;
    }
    if (v->lead_blank) {
        if (!m->blank)
            m->blank_line = v->lead_blank_line;
        m->blank += v->lead_blank;
    }
    if (v->has_record) {
        if (m->blank)
            resolve_blanks(m);
        m->started = true;
        m->blank = v->tail_blank;
        m->blank_line = v->tail_blank_line;
    }
    m->res->rows += v->rows;
    int rc = 0;
    for (size_t i = 0; i < m->plan->ncols && v->cols; i++)
        if (!column_join(&m->cols[i], &v->cols[i]))
            rc = -ENOMEM;
    for (size_t i = 0; i < v->n_errors; i++) {
        add_error(m, v->errors[i].line, v->errors[i].kind, v->errors[i].message);
        v->errors[i].message = NULL; /* moved */
    }
    m->res->error_total += v->error_total - v->n_errors;
    if (v->nul_line && !m->nul_seen) {
        m->nul_seen = true;
        char *wide = wide_message(m);
        add_error(m, v->nul_line, CSVI_EK_NUL_BYTE,
                  wide ? wide
                       : error_format("NUL byte (0x00) in the data; fields holding it are text "
                                      "and the encoding is reported as binary"));
    }
    if (v->utf8_line && !m->utf8_seen) {
        m->utf8_seen = true;
        char *wide = wide_message(m);
        add_error(m, v->utf8_line, CSVI_EK_INVALID_UTF8,
                  wide ? wide
                       : error_format("bytes that are not valid UTF-8; the file is not UTF-8 "
                                      "(reported as latin-1): convert it or load it with that "
                                      "encoding"));
    }
    if (!m->bare_cr_line)
        m->bare_cr_line = v->bare_cr_line;
    if (!m->eod_line)
        m->eod_line = v->eod_line;
    if (!m->crlf_line)
        m->crlf_line = v->crlf_line;
    if (!m->lf_line)
        m->lf_line = v->lf_line;
    if (v->stop)
        m->stopped = true;
    slice_verdict_free(v);
    return rc;
}

/* A latin-1 file's header name in UTF-8 (each byte from 0x80 two bytes), in
 * place; left as it is when out of memory (JSON shows U+FFFD then). */
void name_latin1_to_utf8(char **name)
{
    const uint8_t *p = (const uint8_t *)*name;
    size_t n = strlen(*name), high = 0;
    for (size_t i = 0; i < n; i++)
        high += p[i] >= 0x80;
    char *u = high ? malloc(n + high + 1) : NULL;
    if (!u)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            u[k++] = (char)p[i];
        } else {
            u[k++] = (char)(0xC0 | p[i] >> 6);
            u[k++] = (char)(0x80 | (p[i] & 0x3F));
        }
    }
    u[k] = '\0';
    free(*name);
    *name = u;
}

void file_merge_finish(struct file_merge *m, struct file_plan *plan)
{
    struct csvi_file_result *r = m->res;
    const struct csvi_options *opt = &plan->cfg->opt;
    if (m->started && !m->stopped)
        r->trailing_blank_lines = m->blank;
    r->copy_bare_cr_line = m->bare_cr_line;
    r->copy_eod_line = m->eod_line;
    if (m->crlf_line && m->lf_line) /* COPY takes the first record's line end for all */
        r->copy_mixed_eol_line = m->crlf_line > m->lf_line ? m->crlf_line : m->lf_line;
    r->dialect.encoding = m->nul_seen ? CSVI_ENC_BINARY
                          : m->utf8_seen ? CSVI_ENC_LATIN1
                                         : CSVI_ENC_UTF8;
    if (plan->ncols) {
        r->columns = calloc(plan->ncols, sizeof *r->columns);
        if (r->columns) {
            r->n_columns = plan->ncols;
            for (size_t i = 0; i < plan->ncols; i++) {
                if (r->dialect.encoding == CSVI_ENC_LATIN1 && plan->names[i])
                    name_latin1_to_utf8(&plan->names[i]);
                r->columns[i].name = plan->names[i];
                plan->names[i] = NULL;
                column_verdict(&m->cols[i], opt->threshold, opt->dayfirst, &r->columns[i]);
            }
        }
    }
    if (opt->keep_state) { /* for --group and csvinfer merge: the states, canonical */
        for (size_t i = 0; i < plan->ncols && m->cols; i++)
            column_canonical(&m->cols[i]);
        if (state_encode(plan->cfg, r, m->cols, m->cols ? plan->ncols : 0)) {
            free(r->state); /* out of memory: no state; --group and merge say so */
            r->state = NULL;
            r->state_len = 0;
        }
    }
    file_merge_abort(m);
}

void file_merge_abort(struct file_merge *m)
{
    if (m->cols)
        for (size_t i = 0; i < m->plan->ncols; i++)
            column_free(&m->cols[i]);
    free(m->cols);
    m->cols = NULL;
}
