/*
 * out_table.c — the human-readable table: one block per file with a line of
 * facts (rows, size, dialect), aligned columns (name, type, SQL type, nulls,
 * details), then the file's errors as path:line lines.  Grouped (--group):
 * one block per table (its files, then its columns), then the files in no
 * table, and every file's errors.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void human_bytes(uint64_t b, char *buf, size_t cap)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static const char *delim_name(char d, char *buf, size_t cap)
{
    if (d == '\t')
        return "tab";
    snprintf(buf, cap, "'%c'", d);
    return buf;
}

static void details(const struct csvi_column *c, char *buf, size_t cap)
{
    switch (c->type) {
    case CSVI_TYPE_INTEGER:
        snprintf(buf, cap, "min %lld, max %lld", (long long)c->min, (long long)c->max);
        break;
    case CSVI_TYPE_DECIMAL: snprintf(buf, cap, "precision %u, scale %u", c->precision, c->scale); break;
    case CSVI_TYPE_DATE:
    case CSVI_TYPE_TIME:
    case CSVI_TYPE_TIMESTAMP:
    case CSVI_TYPE_TIMESTAMPTZ: snprintf(buf, cap, "format %s", c->format); break;
    case CSVI_TYPE_TEXT: snprintf(buf, cap, "max length %llu", (unsigned long long)c->max_length); break;
    case CSVI_TYPE_NULL: snprintf(buf, cap, "no values"); break;
    default: buf[0] = '\0'; break;
    }
    if (c->exception_count) {
        size_t k = strlen(buf);
        k += (size_t)snprintf(buf + k, cap - k, "%s%llu exception%s", k ? "; " : "",
                              (unsigned long long)c->exception_count,
                              c->exception_count == 1 ? "" : "s");
        if (k < cap && c->other_format_count)
            k += (size_t)snprintf(buf + k, cap - k, " (%llu in another date format)",
                                  (unsigned long long)c->other_format_count);
        if (k < cap && c->wider_count)
            k += (size_t)snprintf(buf + k, cap - k, " (%llu %s)",
                                  (unsigned long long)c->wider_count,
                                  c->type == CSVI_TYPE_DATE ? "with a time" : "with a zone");
        if (k < cap && c->n_examples) /* (a table's: lines belong to its files) */
            snprintf(buf + k, cap - k, ", first at line %llu",
                     (unsigned long long)c->examples[0].line);
    }
}

static void put_columns(FILE *out, const struct csvi_column *cols, size_t n)
{
    if (!n)
        return;
    size_t wname = 6;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(cols[i].name);
        if (l > wname)
            wname = l > 40 ? 40 : l;
    }
    fprintf(out, "  %-*s  %-11s  %-16s  %10s  %s\n", (int)wname, "column", "type", "sql type",
            "nulls", "details");
    for (size_t i = 0; i < n; i++) {
        const struct csvi_column *c = &cols[i];
        char sql[48], det[160];
        details(c, det, sizeof det);
        fprintf(out, "  %-*.*s  %-11s  %-16s  %10llu  %s\n", (int)wname, (int)wname, c->name,
                csvi_type_name(c->type), csvi_sql_type(c, sql, sizeof sql),
                (unsigned long long)c->null_count, det);
    }
}

static void put_errors(FILE *out, const struct csvi_file_result *r)
{
    for (size_t i = 0; i < r->n_errors; i++) {
        const struct csvi_error *e = &r->errors[i];
        if (e->line)
            fprintf(out, "  error %s:%llu: %s: %s\n", r->path, (unsigned long long)e->line,
                    csvi_error_kind_name(e->kind), e->message);
        else
            fprintf(out, "  error %s: %s: %s\n", r->path, csvi_error_kind_name(e->kind), e->message);
    }
    if (r->error_total > r->n_errors)
        fprintf(out, "  ... and %llu more errors\n", (unsigned long long)(r->error_total - r->n_errors));
}

static void put_file(FILE *out, const struct csvi_file_result *r)
{
    char size[32], dbuf[8], qbuf[4] = {0};
    human_bytes(r->bytes, size, sizeof size);
    fprintf(out, "%s: %llu row%s, %s", r->path, (unsigned long long)r->rows,
            r->rows == 1 ? "" : "s", size);
    if (r->has_dialect) {
        const struct csvi_dialect *d = &r->dialect;
        qbuf[0] = d->quote;
        fprintf(out, ", delimiter %s, quote %s, %s, %s%s%s", delim_name(d->delimiter, dbuf, sizeof dbuf),
                d->quote ? qbuf : "none",
                d->header ? "header" : "no header", csvi_encoding_name(d->encoding),
                d->crlf ? ", CRLF" : "", d->bom ? ", BOM" : "");
    }
    fputc('\n', out);
    put_columns(out, r->columns, r->n_columns);
    put_errors(out, r);
    for (size_t i = 0; i < r->n_drift; i++)
        fprintf(out, "  DRIFT since %s: %s %s: %s\n", r->drift_since ? r->drift_since : "the last run",
                csvi_drift_kind_name(r->drift[i].kind), r->drift[i].column, r->drift[i].detail);
}

/* --group: a block per table, then the files that are in none. */
static void put_tables(FILE *out, const csvi_engine *e)
{
    size_t n = csvi_engine_file_count(e);
    bool *in_table = calloc(n ? n : 1, sizeof *in_table);
    for (size_t t = 0; t < e->n_tables; t++) {
        const struct csvi_table *tb = &e->tables[t];
        if (t)
            fputc('\n', out);
        fprintf(out, "table %s: %zu file%s, %llu rows\n", tb->name, tb->n_files,
                tb->n_files == 1 ? "" : "s", (unsigned long long)tb->rows);
        for (size_t i = 0; i < tb->n_files; i++) {
            const struct csvi_file_result *r = csvi_engine_file(e, tb->files[i]);
            fprintf(out, "  file %s: %llu rows, %zu of %zu columns\n", r->path,
                    (unsigned long long)r->rows, r->n_columns, tb->n_columns);
            if (in_table)
                in_table[tb->files[i]] = true;
        }
        put_columns(out, tb->columns, tb->n_columns);
        for (size_t i = 0; i < tb->n_drift; i++)
            fprintf(out, "  DRIFT since %s: %s %s: %s\n",
                    tb->drift_since ? tb->drift_since : "the last run",
                    csvi_drift_kind_name(tb->drift[i].kind), tb->drift[i].column,
                    tb->drift[i].detail);
        for (size_t i = 0; i < tb->n_files; i++)
            put_errors(out, csvi_engine_file(e, tb->files[i]));
    }
    for (size_t i = 0; i < n; i++) {
        if (in_table && in_table[i])
            continue;
        const struct csvi_file_result *r = csvi_engine_file(e, i);
        fprintf(out, "\nin no table: %s: %llu rows, no columns%s\n", r->path,
                (unsigned long long)r->rows, r->has_dialect ? "" : " (not read)");
        put_errors(out, r);
    }
    free(in_table);
}

enum csvi_status csvi_write_table(const csvi_engine *e, FILE *out)
{
    uint64_t bytes = 0, rows = 0, errors = 0;
    size_t n = csvi_engine_file_count(e);
    for (size_t i = 0; i < n; i++) {
        const struct csvi_file_result *r = csvi_engine_file(e, i);
        if (!e->grouped) {
            if (i)
                fputc('\n', out);
            put_file(out, r);
        }
        bytes += r->bytes;
        rows += r->rows;
        errors += r->error_total;
    }
    if (e->grouped)
        put_tables(out, e);
    char size[32];
    human_bytes(bytes, size, sizeof size);
    fprintf(out, "\n%zu file%s", n, n == 1 ? "" : "s");
    if (e->grouped)
        fprintf(out, " in %zu table%s", e->n_tables, e->n_tables == 1 ? "" : "s");
    fprintf(out, ", %s, %llu row%s, %llu error%s, %.2f s\n", size, (unsigned long long)rows,
            rows == 1 ? "" : "s", (unsigned long long)errors, errors == 1 ? "" : "s",
            csvi_engine_seconds(e));
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}
