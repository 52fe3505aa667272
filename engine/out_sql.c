/*
 * out_sql.c — --format sql: per file a CREATE TABLE from the verdict and the
 * statement that loads the file with its detected dialect (PostgreSQL and
 * DuckDB COPY; the sqlite3 shell's .import).  What a loader cannot do with
 * the file as it is (several null spellings, ragged rows, NUL bytes,
 * day-first and month-first dates in one file) is said in "-- warning:"
 * comments before the statement, so a script can tell.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool is_plain_identifier(const char *s)
{
    static const char *const reserved[] = {
        "all", "and", "any", "array", "as", "asc", "both", "case", "cast", "check", "collate",
        "column", "constraint", "create", "current_date", "current_time", "current_timestamp",
        "current_user", "default", "desc", "distinct", "do", "else", "end", "except", "false",
        "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "index", "initially",
        "intersect", "into", "key", "lateral", "leading", "limit", "not", "null", "offset", "on",
        "only", "or", "order", "primary", "references", "returning", "select", "session_user",
        "some", "table", "then", "to", "trailing", "true", "union", "unique", "user", "using",
        "values", "when", "where", "window", "with"};
    if (!s[0] || !(islower((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return false;
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(s, reserved[i]) == 0)
            return false;
    return strlen(s) < 64;
}

static void put_ident(FILE *out, const char *s)
{
    if (is_plain_identifier(s)) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* A SQL string literal; E'' with escapes for control characters. */
static void put_literal(FILE *out, const char *s, size_t n)
{
    bool ctl = false;
    for (size_t i = 0; i < n; i++)
        ctl |= (unsigned char)s[i] < 0x20;
    fputs(ctl ? "E'" : "'", out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\'')
            fputs("''", out);
        else if (ctl && c == '\\')
            fputs("\\\\", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('\'', out);
}

static void put_cliteral(FILE *out, char c) { put_literal(out, &c, 1); }

static const char *sql_type(const struct csvi_column *c, enum csvi_sql_dialect d, char *buf,
                            size_t cap)
{
    if (d == CSVI_SQL_SQLITE) {
        switch (c->type) {
        case CSVI_TYPE_BOOLEAN:
        case CSVI_TYPE_INTEGER: return "INTEGER";
        case CSVI_TYPE_DECIMAL: return "NUMERIC";
        case CSVI_TYPE_DOUBLE: return "REAL";
        default: return "TEXT";
        }
    }
    if (d == CSVI_SQL_DUCKDB) {
        switch (c->type) {
        case CSVI_TYPE_DECIMAL: snprintf(buf, cap, "DECIMAL(%u,%u)", c->precision, c->scale); return buf;
        case CSVI_TYPE_DOUBLE: return "DOUBLE";
        case CSVI_TYPE_TEXT:
        case CSVI_TYPE_NULL: return "VARCHAR";
        default: break;
        }
    }
    return csvi_sql_type(c, buf, cap);
}

/* Table name from the file name: the base name without its extensions. */
static char *table_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(path, "-") == 0)
        base = "stdin";
    char *s = strdup(base);
    if (!s)
        return NULL;
    static const char *const ext[] = {".gz", ".zst", ".csv", ".tsv", ".txt", ".psv"};
    for (int again = 1; again;) {
        again = 0;
        size_t n = strlen(s);
        for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
            size_t k = strlen(ext[i]);
            if (n > k && strcasecmp(s + n - k, ext[i]) == 0) {
                s[n - k] = '\0';
                again = 1;
                break;
            }
        }
    }
    return s;
}

enum date_order { ORDER_NONE = 0, ORDER_MDY = 1, ORDER_DMY = 2 };

static enum date_order column_date_order(const struct csvi_column *c)
{
    if (c->type != CSVI_TYPE_DATE && c->type != CSVI_TYPE_TIMESTAMP &&
        c->type != CSVI_TYPE_TIMESTAMPTZ)
        return ORDER_NONE;
    if (strncmp(c->format, "%d/%m", 5) == 0 || strncmp(c->format, "%d-%m", 5) == 0 ||
        strncmp(c->format, "%d.%m", 5) == 0)
        return ORDER_DMY;
    if (strncmp(c->format, "%m/%d", 5) == 0 || strncmp(c->format, "%m-%d", 5) == 0 ||
        strncmp(c->format, "%m.%d", 5) == 0)
        return ORDER_MDY;
    return ORDER_NONE;
}

/* The null spelling COPY should use: the one the typed columns use. */
static int pick_null(const csvi_engine *e, const struct csvi_file_result *r, FILE *out)
{
    unsigned typed = 0, all = 0;
    for (size_t i = 0; i < r->n_columns; i++) {
        all |= r->columns[i].null_kinds;
        if (r->columns[i].type != CSVI_TYPE_TEXT && r->columns[i].type != CSVI_TYPE_NULL)
            typed |= r->columns[i].null_kinds;
    }
    unsigned tokens = typed & ~3u; /* the null tokens proper */
    int pick = -1;                 /* -1: the empty string */
    if (tokens) {
        pick = __builtin_ctz(tokens);
        if ((tokens & (tokens - 1)) || (typed & 1u)) {
            fputs("-- warning: typed columns write nulls in more than one way (", out);
            bool first = true;
            for (int k = 0; k < 32; k++) {
                if (!((typed >> k) & 1u))
                    continue;
                const char *t = k == 0 ? "empty" : k == 1 ? "\"\"" : csvi_engine_null_token(e, (size_t)(k - 2));
                fprintf(out, "%s%s", first ? "" : ", ", t ? t : "?");
                first = false;
            }
            fputs("); COPY takes one NULL string: the others fail to load until rewritten\n", out);
        }
    } else if ((all & ~3u) && !(all & 1u)) {
        pick = __builtin_ctz(all & ~3u); /* only text columns hold nulls: keep them null */
    }
    return pick;
}

static void put_copy(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                     enum csvi_sql_dialect d, const char *table, int null_kind)
{
    const struct csvi_dialect *dl = &r->dialect;
    char *abs = realpath(r->path, NULL);
    const char *path = abs ? abs : r->path;
    const char *tok = null_kind >= 2 ? csvi_engine_null_token(e, (size_t)(null_kind - 2)) : "";
    if (!tok)
        tok = "";
    if (d == CSVI_SQL_SQLITE) {
        fprintf(out, ".import --csv%s ", dl->header ? " --skip 1" : "");
        put_literal(out, path, strlen(path));
        fputc(' ', out);
        put_ident(out, table);
        fputc('\n', out);
        free(abs);
        return;
    }
    fputs("COPY ", out);
    put_ident(out, table);
    fputs(" FROM ", out);
    put_literal(out, path, strlen(path));
    fputs(d == CSVI_SQL_POSTGRES ? " WITH (" : " (", out);
    fprintf(out, "FORMAT csv, HEADER %s, DELIMITER ", dl->header ? "true" : "false");
    put_cliteral(out, dl->delimiter);
    fputs(", QUOTE ", out);
    put_cliteral(out, dl->quote ? dl->quote : '\x01');
    fputs(", NULL ", out);
    put_literal(out, tok, strlen(tok));
    if (d == CSVI_SQL_POSTGRES) {
        bool any = false;
        for (size_t i = 0; i < r->n_columns; i++) {
            if (!(r->columns[i].null_kinds & 2u) || null_kind >= 2)
                continue;
            fputs(any ? ", " : ", FORCE_NULL (", out);
            put_ident(out, r->columns[i].name);
            any = true;
        }
        if (any)
            fputc(')', out);
        fprintf(out, ", ENCODING '%s'", dl->encoding == CSVI_ENC_LATIN1 ? "LATIN1" : "UTF8");
    } else {
        for (size_t i = 0; i < r->n_columns; i++) { /* DuckDB takes the formats as they are */
            const struct csvi_column *c = &r->columns[i];
            if (c->type == CSVI_TYPE_DATE) {
                fputs(", DATEFORMAT ", out);
                put_literal(out, c->format, strlen(c->format));
                break;
            }
        }
    }
    fputs(");\n", out);
    free(abs);
}

static void put_file(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                     enum csvi_sql_dialect d, const char *table)
{
    fprintf(out, "-- csvinfer: %s: %llu rows\n", r->path, (unsigned long long)r->rows);
    if (!r->has_dialect || r->n_columns == 0) {
        fputs("-- warning: no columns (the file is empty or could not be read); nothing to "
              "create\n\n",
              out);
        return;
    }
    if (r->error_total) {
        const struct csvi_error *er = r->n_errors ? &r->errors[0] : NULL;
        fprintf(out, "-- warning: %llu error%s in this file", (unsigned long long)r->error_total,
                r->error_total == 1 ? "" : "s");
        if (er)
            fprintf(out, " (first: line %llu, %s)", (unsigned long long)er->line,
                    csvi_error_kind_name(er->kind));
        fputs("; the load fails or loses rows until they are fixed\n", out);
    }
    if (r->dialect.encoding == CSVI_ENC_BINARY)
        fputs("-- warning: the file holds NUL bytes, which no SQL text type can store\n", out);
    if (r->dialect.bom && !r->dialect.header)
        fputs("-- warning: a UTF-8 byte order mark starts the file; COPY keeps it as part of "
              "the first value\n",
              out);
    int order = 0;
    for (size_t i = 0; i < r->n_columns; i++)
        order |= column_date_order(&r->columns[i]);
    if (order == (ORDER_MDY | ORDER_DMY))
        fputs("-- warning: both day-first and month-first date columns: one COPY reads them "
              "with one DateStyle\n",
              out);
    fputs("CREATE TABLE ", out);
    put_ident(out, table);
    fputs(" (\n", out);
    for (size_t i = 0; i < r->n_columns; i++) {
        const struct csvi_column *c = &r->columns[i];
        char buf[48];
        fputs("    ", out);
        put_ident(out, c->name);
        fprintf(out, " %s%s%s\n", sql_type(c, d, buf, sizeof buf), c->nullable ? "" : " NOT NULL",
                i + 1 < r->n_columns ? "," : "");
    }
    fputs(");\n", out);
    int null_kind = pick_null(e, r, out);
    bool dmy = d == CSVI_SQL_POSTGRES && (order & ORDER_DMY);
    if (dmy)
        fputs("SET datestyle = 'ISO, DMY';\n", out);
    put_copy(e, r, out, d, table, null_kind);
    if (dmy)
        fputs("RESET datestyle;\n", out);
    fputc('\n', out);
}

enum csvi_status csvi_write_sql(const csvi_engine *e, FILE *out, enum csvi_sql_dialect d)
{
    size_t n = csvi_engine_file_count(e);
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return CSVI_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char *base = table_name(csvi_engine_file(e, i)->path);
        char *t = base ? strdup(base) : NULL;
        for (unsigned k = 2; t; k++) { /* one table per file: make the names distinct */
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = names[j] && strcmp(names[j], t) == 0;
            if (!dup)
                break;
            free(t);
            if (asprintf(&t, "%s_%u", base, k) < 0)
                t = NULL;
        }
        free(base);
        names[i] = t;
        put_file(e, csvi_engine_file(e, i), out, d, t ? t : "csvinfer_table");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}
