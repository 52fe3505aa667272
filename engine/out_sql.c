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
    /* PostgreSQL's reserved keywords and those that cannot be column names
     * (pg_get_keywords() categories R and T) */
    static const char *const reserved[] = {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
        "authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
        "column", "concurrently", "constraint", "create", "cross", "current_catalog",
        "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
        "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
        "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull",
        "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp",
        "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer",
        "overlaps", "placing", "primary", "references", "returning", "right", "select",
        "session_user", "similar", "some", "symmetric", "table", "tablesample", "then", "to",
        "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when",
        "where", "window", "with"};
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

/* Text inside a "--" comment: control characters (a newline in a file name)
 * would end the comment, so they become '?'. */
static void put_comment_text(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 ? '?' : *s, out);
}

#define PG_NAME_MAX 63 /* PostgreSQL truncates identifiers to 63 bytes */

/* Column names PostgreSQL accepts: at most 63 bytes (cut at a character
 * boundary), not a system column, distinct.  Renames are warned about. */
static char **column_names(const struct csvi_file_result *r, FILE *out)
{
    static const char *const system_cols[] = {"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid"};
    char **names = calloc(r->n_columns, sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < r->n_columns; i++) {
        const char *orig = r->columns[i].name;
        size_t len = strlen(orig);
        if (len > PG_NAME_MAX - 4) { /* room for a _NN suffix */
            len = PG_NAME_MAX - 4;
            while (len && ((unsigned char)orig[len] & 0xC0) == 0x80)
                len--;
        }
        char *s = malloc(PG_NAME_MAX + 1);
        if (!s)
            break;
        memcpy(s, orig, len);
        s[len] = '\0';
        for (size_t k = 0; k < sizeof system_cols / sizeof *system_cols; k++)
            if (strcmp(s, system_cols[k]) == 0)
                strcat(s, "_");
        size_t base = strlen(s);
        for (unsigned k = 2;; k++) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = names[j] && strcmp(names[j], s) == 0;
            if (!dup)
                break;
            snprintf(s + base, PG_NAME_MAX + 1 - base, "_%u", k);
        }
        if (strcmp(s, orig) != 0) {
            fputs("-- note: column ", out);
            put_comment_text(out, orig);
            fputs(" is named ", out);
            put_comment_text(out, s);
            fputs(" (PostgreSQL names: at most 63 bytes, no system column names)\n", out);
        }
        names[i] = s;
    }
    return names;
}

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
    char *s = strndup(base, PG_NAME_MAX - 4);
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

static void put_null_kinds(const csvi_engine *e, unsigned kinds, FILE *out)
{
    bool first = true;
    for (int k = 0; k <= 28; k++) {
        if (!((kinds >> k) & 1u))
            continue;
        const char *t = k == 0 ? "empty" : k == 1 ? "\"\"" : csvi_engine_null_token(e, (size_t)(k - 2));
        fputs(first ? "" : ", ", out);
        put_comment_text(out, t ? t : "?");
        first = false;
    }
}

/* The null spelling COPY should use (-1: the empty string, else the token's
 * kind bit), warning where the typed columns need more than COPY can do. */
static int pick_null(const csvi_engine *e, const struct csvi_file_result *r, FILE *out)
{
    unsigned typed = 0, all = 0;
    for (size_t i = 0; i < r->n_columns; i++) {
        all |= r->columns[i].null_kinds;
        if (r->columns[i].type != CSVI_TYPE_TEXT && r->columns[i].type != CSVI_TYPE_NULL)
            typed |= r->columns[i].null_kinds;
    }
    unsigned tokens = typed & CSVI_NULL_TOKEN_BITS;
    int pick = -1;
    if (tokens) {
        pick = __builtin_ctz(tokens);
        /* COPY maps one string to NULL (and, with FORCE_NULL, its quoted form) */
        if ((tokens & (tokens - 1)) || (typed & (CSVI_NULL_EMPTY | CSVI_NULL_QUOTED_EMPTY))) {
            fputs("-- warning: typed columns write nulls in more than one way (", out);
            put_null_kinds(e, typed & (CSVI_NULL_TOKEN_BITS | 3u), out);
            fputs("); COPY takes one NULL string: the others fail to load until rewritten\n", out);
        }
    } else if ((all & CSVI_NULL_TOKEN_BITS) && !(all & CSVI_NULL_EMPTY)) {
        pick = __builtin_ctz(all & CSVI_NULL_TOKEN_BITS); /* only text columns: keep them null */
    }
    if (typed & CSVI_NULL_TOKEN_PADDED)
        fputs("-- warning: a null token has spaces around it in a typed column; COPY matches "
              "NULL exactly and fails on it\n",
              out);
    return pick;
}

static void put_copy(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                     enum csvi_sql_dialect d, const char *table, char *const *names,
                     int null_kind)
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
        unsigned quoted_form = null_kind >= 2 ? CSVI_NULL_TOKEN_QUOTED : CSVI_NULL_QUOTED_EMPTY;
        for (size_t i = 0; i < r->n_columns; i++) {
            if (!(r->columns[i].null_kinds & quoted_form))
                continue;
            fputs(any ? ", " : ", FORCE_NULL (", out);
            put_ident(out, names[i]);
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
    fputs("-- csvinfer: ", out);
    put_comment_text(out, r->path);
    fprintf(out, ": %llu rows\n", (unsigned long long)r->rows);
    if (!r->has_dialect || r->n_columns == 0) {
        fputs("-- warning: no columns (the file is empty or could not be read); nothing to "
              "create\n\n",
              out);
        return;
    }
    /* invalid UTF-8 in a latin-1 file is what ENCODING 'LATIN1' is for */
    uint64_t blocking = r->error_total;
    const struct csvi_error *first = NULL;
    for (size_t i = 0; i < r->n_errors; i++) {
        if (r->errors[i].kind == CSVI_EK_INVALID_UTF8 && r->dialect.encoding == CSVI_ENC_LATIN1)
            blocking--;
        else if (!first)
            first = &r->errors[i];
    }
    if (blocking) {
        fprintf(out, "-- warning: %llu error%s in this file", (unsigned long long)blocking,
                blocking == 1 ? "" : "s");
        if (first)
            fprintf(out, " (first: line %llu, %s)", (unsigned long long)first->line,
                    csvi_error_kind_name(first->kind));
        fputs("; the load fails or loses rows until they are fixed\n", out);
    }
    if (r->trailing_blank_lines)
        fprintf(out, "-- warning: the file ends with %llu blank line%s, which COPY reads as %s\n",
                (unsigned long long)r->trailing_blank_lines,
                r->trailing_blank_lines == 1 ? "" : "s",
                r->n_columns == 1 ? "extra rows of NULL" : "rows with missing columns and rejects");
    if (r->dialect.encoding == CSVI_ENC_BINARY)
        fputs("-- warning: the file holds NUL bytes, which no SQL text type can store\n", out);
    if (r->copy_bare_cr_line)
        fprintf(out, "-- warning: line %llu has a carriage return inside an unquoted field, "
                     "which COPY rejects\n",
                (unsigned long long)r->copy_bare_cr_line);
    if (r->copy_mixed_eol_line)
        fprintf(out, "-- warning: line %llu ends differently (CRLF / LF) from the first record; "
                     "COPY rejects mixed line ends\n",
                (unsigned long long)r->copy_mixed_eol_line);
    if (r->copy_eod_line)
        fprintf(out, "-- warning: line %llu holds only \\. which COPY takes as the end of the "
                     "data: the rows after it are not loaded\n",
                (unsigned long long)r->copy_eod_line);
    if (r->dialect.bom && !r->dialect.header)
        fputs("-- warning: a UTF-8 byte order mark starts the file; COPY keeps it as part of "
              "the first value\n",
              out);
    if (d == CSVI_SQL_POSTGRES && r->n_columns > 1600)
        fprintf(out, "-- warning: %zu columns; a PostgreSQL table has at most 1600\n",
                r->n_columns);
    char sql[48];
    for (size_t i = 0; i < r->n_columns; i++) {
        const struct csvi_column *c = &r->columns[i];
        if (c->exception_count) {
            fputs("-- warning: column ", out);
            put_comment_text(out, c->name);
            fprintf(out, ": %llu value%s not fit %s (tolerant mode, first at line %llu); the "
                         "load fails on them\n",
                    (unsigned long long)c->exception_count,
                    c->exception_count == 1 ? " does" : "s do",
                    sql_type(c, d, sql, sizeof sql),
                    (unsigned long long)(c->n_examples ? c->examples[0].line : 0));
        }
    }
    int order = 0;
    for (size_t i = 0; i < r->n_columns; i++)
        order |= column_date_order(&r->columns[i]);
    if (order == (ORDER_MDY | ORDER_DMY))
        fputs("-- warning: both day-first and month-first date columns: one COPY reads them "
              "with one DateStyle\n",
              out);
    char **names = column_names(r, out);
    if (!names)
        return;
    fputs("CREATE TABLE ", out);
    put_ident(out, table);
    fputs(" (\n", out);
    for (size_t i = 0; i < r->n_columns; i++) {
        const struct csvi_column *c = &r->columns[i];
        fputs("    ", out);
        put_ident(out, names[i]);
        fprintf(out, " %s%s%s\n", sql_type(c, d, sql, sizeof sql), c->nullable ? "" : " NOT NULL",
                i + 1 < r->n_columns ? "," : "");
    }
    fputs(");\n", out);
    int null_kind = pick_null(e, r, out);
    /* the DateStyle the server has by default is not known: say which order */
    const char *style = d != CSVI_SQL_POSTGRES       ? NULL
                        : (order & ORDER_DMY)        ? "ISO, DMY"
                        : (order & ORDER_MDY)        ? "ISO, MDY"
                                                     : NULL;
    if (style)
        fprintf(out, "SET datestyle = '%s';\n", style);
    put_copy(e, r, out, d, table, names, null_kind);
    if (style)
        fputs("RESET datestyle;\n", out);
    fputc('\n', out);
    for (size_t i = 0; i < r->n_columns; i++)
        free(names[i]);
    free(names);
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
