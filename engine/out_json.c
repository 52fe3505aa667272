/*
 * out_json.c — the JSON output of DESIGN.md §4 (field names are a contract),
 * and NDJSON: the same file objects, one per line (docs/cli.md).
 *
 * Strings are escaped per RFC 8259; bytes that are not valid UTF-8 (a latin-1
 * header name, say) become U+FFFD so the document is always valid JSON.
 * With mergeable, each file object also carries "state" (verdict_state.c);
 * when grouped, the document a "tables" list.
 */
#define _GNU_SOURCE /* open_memstream */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void json_put_string(FILE *out, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    fputc('"', out);
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t plain = i; /* a run that needs no escape: one write (fputc locks the stream) */
        while (plain < n && p[plain] >= 0x20 && p[plain] < 0x7f && p[plain] != '"' &&
               p[plain] != '\\')
            plain++;
        if (plain > i) {
            fwrite(p + i, 1, plain - i, out);
            i = plain;
            continue;
        }
        if (c >= 0x80) {
            size_t bad = utf8_first_invalid(p + i, n - i);
            if (bad == 0) {
                fputs("\xEF\xBF\xBD", out);
                i++;
                continue;
            }
            /* copy the valid multi-byte run up to the next ASCII or invalid byte */
            size_t k = i;
            while (k < i + bad && p[k] >= 0x80)
                k++;
            fwrite(p + i, 1, k - i, out);
            i = k;
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
        i++;
    }
    fputc('"', out);
}

static void put_cstr(FILE *out, const char *s) { json_put_string(out, s, strlen(s)); }

/* ,"drift_since": ..., "drift": [{"kind", "column", "detail"}, ...] of a file or table. */
static void put_drift(FILE *out, const char *since, const struct csvi_drift *d, size_t n)
{
    fputs(",\n     \"drift_since\": ", out);
    if (since)
        put_cstr(out, since);
    else
        fputs("null", out);
    fputs(",\n     \"drift\": [", out);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n        " : "\n        ", out);
        fprintf(out, "{\"kind\": \"%s\", \"column\": ", csvi_drift_kind_name(d[i].kind));
        put_cstr(out, d[i].column ? d[i].column : "");
        fputs(", \"detail\": ", out);
        put_cstr(out, d[i].detail ? d[i].detail : "");
        fputc('}', out);
    }
    fputs(n ? "\n     ]" : "]", out);
}

static void put_char_string(FILE *out, char c)
{
    if (!c) {
        fputs("null", out);
        return;
    }
    json_put_string(out, &c, 1);
}

static void put_column(FILE *out, const struct csvi_column *c, bool tolerant)
{
    char sql[48];
    fputs("        {\"name\": ", out);
    put_cstr(out, c->name);
    fprintf(out, ", \"type\": \"%s\", \"sql_type\": \"%s\", \"nullable\": %s, \"null_count\": %llu, "
                 "\"count\": %llu",
            csvi_type_name(c->type), csvi_sql_type(c, sql, sizeof sql),
            c->nullable ? "true" : "false", (unsigned long long)c->null_count,
            (unsigned long long)c->count);
    switch (c->type) {
    case CSVI_TYPE_INTEGER:
        fprintf(out, ", \"min\": %lld, \"max\": %lld", (long long)c->min, (long long)c->max);
        break;
    case CSVI_TYPE_DECIMAL:
        fprintf(out, ", \"precision\": %u, \"scale\": %u", c->precision, c->scale);
        break;
    case CSVI_TYPE_DATE:
    case CSVI_TYPE_TIME:
    case CSVI_TYPE_TIMESTAMP:
    case CSVI_TYPE_TIMESTAMPTZ:
        fputs(", \"format\": ", out);
        put_cstr(out, c->format);
        break;
    case CSVI_TYPE_TEXT:
        fprintf(out, ", \"max_length\": %llu, \"max_bytes\": %llu",
                (unsigned long long)c->max_length, (unsigned long long)c->max_bytes);
        break;
    default: break;
    }
    if (tolerant && c->exception_count) {
        fprintf(out, ", \"exceptions\": {\"count\": %llu, ", (unsigned long long)c->exception_count);
        if (c->type == CSVI_TYPE_DATE || c->type == CSVI_TYPE_TIMESTAMP ||
            c->type == CSVI_TYPE_TIMESTAMPTZ)
            fprintf(out, "\"other_format\": %llu, ", (unsigned long long)c->other_format_count);
        if (c->type == CSVI_TYPE_DATE || c->type == CSVI_TYPE_TIMESTAMP)
            fprintf(out, "\"wider\": %llu, ", (unsigned long long)c->wider_count);
        fputs("\"first\": [", out);
        for (size_t i = 0; i < c->n_examples; i++) {
            fprintf(out, "%s{\"line\": %llu, \"value\": ", i ? ", " : "",
                    (unsigned long long)c->examples[i].line);
            put_cstr(out, c->examples[i].value);
            fputc('}', out);
        }
        fputs("]}", out);
    }
    fputc('}', out);
}

/* "state": the result's, or one made now for a result that has none. */
static void put_state(FILE *out, const struct engine_cfg *cfg, const struct csvi_file_result *r)
{
    uint8_t *made = NULL;
    const uint8_t *p = r->state;
    size_t n = r->state_len;
    if (!p && state_encode_bytes(cfg, r, NULL, 0, &made, &n) == 0)
        p = made;
    char *b = p ? malloc(4 * ((n + 2) / 3) + 1) : NULL;
    fputs(",\n     \"state\": ", out);
    if (b) {
        base64_encode(p, n, b);
        b[4 * ((n + 2) / 3)] = '\0';
        fprintf(out, "\"%s\"", b);
    } else {
        fputs("null", out); /* out of memory: merge refuses it, naming the file */
    }
    free(b);
    free(made);
}

static void put_file(FILE *out, const struct csvi_file_result *r, bool tolerant, bool drift,
                     const struct engine_cfg *state_cfg)
{
    fputs("    {\"path\": ", out);
    put_cstr(out, r->path);
    fprintf(out, ", \"bytes\": %llu, \"rows\": %llu,\n", (unsigned long long)r->bytes,
            (unsigned long long)r->rows);
    fputs("     \"dialect\": ", out);
    if (r->has_dialect) {
        const struct csvi_dialect *d = &r->dialect;
        fputs("{\"delimiter\": ", out);
        put_char_string(out, d->delimiter);
        fputs(", \"quote\": ", out);
        put_char_string(out, d->quote);
        fprintf(out, ", \"header\": %s, \"newline\": \"%s\", \"encoding\": \"%s\", \"bom\": %s",
                d->header ? "true" : "false", d->crlf ? "\\r\\n" : "\\n",
                csvi_encoding_name(d->encoding), d->bom ? "true" : "false");
        if (r->compression) /* only for compressed files: the field is new */
            fprintf(out, ", \"compression\": \"%s\"", r->compression);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputs(",\n     \"columns\": [", out);
    for (size_t i = 0; i < r->n_columns; i++) {
        fputs(i ? ",\n" : "\n", out);
        put_column(out, &r->columns[i], tolerant);
    }
    fputs(r->n_columns ? "\n     ],\n" : "],\n", out);
    fputs("     \"errors\": [", out);
    for (size_t i = 0; i < r->n_errors; i++) {
        const struct csvi_error *e = &r->errors[i];
        fputs(i ? ",\n        " : "\n        ", out);
        if (e->line)
            fprintf(out, "{\"line\": %llu, ", (unsigned long long)e->line);
        else
            fputs("{\"line\": null, ", out);
        fprintf(out, "\"kind\": \"%s\", \"message\": ", csvi_error_kind_name(e->kind));
        put_cstr(out, e->message);
        fputc('}', out);
    }
    fputs(r->n_errors ? "\n     ],\n" : "],\n", out);
    if (r->error_total > r->n_errors)
        fprintf(out, "     \"errors_not_listed\": %llu,\n",
                (unsigned long long)(r->error_total - r->n_errors));
    fprintf(out, "     \"cache\": {\"slices\": %llu, \"hits\": %llu}",
            (unsigned long long)r->cache_slices, (unsigned long long)r->cache_hits);
    if (drift) /* with a ledger: changes since the last run recorded for this path */
        put_drift(out, r->drift_since, r->drift, r->n_drift);
    if (state_cfg)
        put_state(out, state_cfg, r);
    fputc('}', out);
}

/* Copy JSON written with newlines and indentation onto one line: a raw
 * newline only ever stands between tokens (strings escape theirs), so it
 * goes, with the spaces after it. */
static void put_one_line(FILE *out, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] == ' ') /* the indentation of the first line */
        i++;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t k = nl ? (size_t)(nl - s) : n;
        fwrite(s + i, 1, k - i, out);
        i = k;
        while (i < n && (s[i] == '\n' || s[i] == ' '))
            i++;
    }
}

int json_render_file(const struct engine_cfg *state_cfg, const struct csvi_file_result *r,
                     bool drift, char **buf, size_t *len)
{
    char *pretty = NULL, *line = NULL;
    size_t np = 0, nl = 0;
    FILE *f = open_memstream(&pretty, &np);
    if (!f)
        return -ENOMEM;
    put_file(f, r, true, drift, state_cfg);
    bool bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(pretty);
        return -ENOMEM;
    }
    FILE *g = open_memstream(&line, &nl);
    if (!g) {
        free(pretty);
        return -ENOMEM;
    }
    put_one_line(g, pretty, np);
    bad = ferror(g);
    free(pretty);
    if (fclose(g) != 0 || bad) {
        free(line);
        return -ENOMEM;
    }
    *buf = line;
    *len = nl;
    return 0;
}

static const struct engine_cfg *state_cfg_of(const csvi_engine *e)
{
    return e->cfg.opt.mergeable ? &e->cfg : NULL;
}

/* Drift fields: a run with a ledger, or a merge of such runs' verdicts. */
static bool has_drift(const csvi_engine *e) { return e->last_schemas != NULL || e->merge_drift; }

/* A table of --group: {"name", "files", "columns", "rows"}. */
static void put_table(FILE *out, const csvi_engine *e, const struct csvi_table *t)
{
    fputs("    {\"name\": ", out);
    put_cstr(out, t->name);
    fputs(",\n     \"files\": [", out);
    for (size_t i = 0; i < t->n_files; i++) {
        fputs(i ? ", " : "", out);
        put_cstr(out, csvi_engine_file(e, t->files[i])->path);
    }
    fputs("],\n     \"columns\": [", out);
    for (size_t i = 0; i < t->n_columns; i++) {
        fputs(i ? ",\n" : "\n", out);
        put_column(out, &t->columns[i], true);
    }
    fprintf(out, "%s],\n     \"rows\": %llu", t->n_columns ? "\n     " : "",
            (unsigned long long)t->rows);
    if (e->last_schemas) /* with a ledger: the table's drift since its last complete run */
        put_drift(out, t->drift_since, t->drift, t->n_drift);
    fputc('}', out);
}

enum csvi_status csvi_write_json(const csvi_engine *e, FILE *out)
{
    uint64_t bytes = 0, rows = 0, errors = 0;
    size_t n = csvi_engine_file_count(e);
    bool tolerant = false;
    /* tolerant mode shows on any column with exceptions */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < csvi_engine_file(e, i)->n_columns; j++)
            tolerant |= csvi_engine_file(e, i)->columns[j].exception_count > 0;
    fprintf(out, "{\"version\": %d,\n \"files\": [", CSVI_JSON_VERSION);
    for (size_t i = 0; i < n; i++) {
        const struct csvi_file_result *r = csvi_engine_file(e, i);
        fputs(i ? ",\n" : "\n", out);
        put_file(out, r, tolerant, has_drift(e), state_cfg_of(e));
        bytes += r->bytes;
        rows += r->rows;
        errors += r->error_total;
    }
    fputs(n ? "\n ]," : "],", out);
    if (e->grouped) {
        fputs("\n \"tables\": [", out);
        for (size_t i = 0; i < e->n_tables; i++) {
            fputs(i ? ",\n" : "\n", out);
            put_table(out, e, &e->tables[i]);
        }
        fputs(e->n_tables ? "\n ]," : "],", out);
    }
    fprintf(out, "\n \"summary\": {\"files\": %zu, \"bytes\": %llu, \"rows\": %llu, "
                 "\"errors\": %llu, \"seconds\": %.3f}}\n",
            n, (unsigned long long)bytes, (unsigned long long)rows,
            (unsigned long long)errors, csvi_engine_seconds(e));
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}

/* ---- NDJSON ---------------------------------------------------------------- */

enum csvi_status csvi_write_ndjson_file(const csvi_engine *e, const struct csvi_file_result *r,
                                        FILE *out)
{
    char *line;
    size_t n;
    if (json_render_file(state_cfg_of(e), r, has_drift(e), &line, &n))
        return CSVI_ERR_NOMEM;
    /* one write of the whole line where stdio can: a reader of a growing
     * file sees whole lines (a line longer than its buffer goes in parts) */
    line[n] = '\n'; /* open_memstream left room for its terminating NUL */
    fwrite(line, 1, n + 1, out);
    free(line);
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}

enum csvi_status csvi_write_ndjson_tables(const csvi_engine *e, FILE *out)
{
    for (size_t i = 0; e->grouped && i < e->n_tables; i++) {
        char *pretty = NULL;
        size_t np = 0;
        FILE *f = open_memstream(&pretty, &np);
        if (!f)
            return CSVI_ERR_NOMEM;
        put_table(f, e, &e->tables[i]);
        bool bad = ferror(f);
        if (fclose(f) != 0 || bad) {
            free(pretty);
            return CSVI_ERR_NOMEM;
        }
        fputs("{\"table\": ", out);
        put_one_line(out, pretty, np);
        fputs("}\n", out);
        free(pretty);
    }
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}

enum csvi_status csvi_write_ndjson(const csvi_engine *e, FILE *out)
{
    for (size_t i = 0; i < csvi_engine_file_count(e); i++) {
        enum csvi_status st = csvi_write_ndjson_file(e, csvi_engine_file(e, i), out);
        if (st != CSVI_OK)
            return st;
    }
    return csvi_write_ndjson_tables(e, out);
}
