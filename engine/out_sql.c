/*
 * out_sql.c — --format sql: per file a CREATE TABLE from the verdict and the
 * statement that loads the file with its detected dialect (PostgreSQL and
 * DuckDB COPY; the sqlite3 shell's .import).  What a loader cannot do with
 * the file as it is (several null spellings, ragged rows, NUL bytes,
 * day-first and month-first dates in one file) is said in "-- warning:"
 * comments before the statement, so a script can tell.
 *
 * SQLite: the output is a script for the sqlite3 shell (>= 3.32): CREATE
 * TABLE with type affinities, .import (csv mode, the file's delimiter, the
 * header skipped), then one UPDATE for what .import leaves as text that the
 * verdict reads otherwise: null spellings become NULL, booleans 1/0,
 * infinities +-9e999.  Identifiers follow SQLite's keyword list and its
 * case-insensitive names; dot-command arguments use the shell's "..." with
 * backslash escapes.  docs/sql-sqlite.md says what .import cannot do.
 *
 * Grouped (--group): one CREATE TABLE per table, then per file its warnings
 * and the statement loading it into that table — with a column list where
 * the file lacks some of the table's columns (SQLite: through a staging
 * table, as .import fills columns by position).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* SQLite's keywords (sqlite3_keyword_name(), 3.40): quoted as identifiers */
static const char *const sqlite_keywords[] = {
    "abort", "action", "add", "after", "all", "alter", "always", "analyze", "and", "as",
    "asc", "attach", "autoincrement", "before", "begin", "between", "by", "cascade", "case",
    "cast", "check", "collate", "column", "commit", "conflict", "constraint", "create",
    "cross", "current", "current_date", "current_time", "current_timestamp", "database",
    "default", "deferrable", "deferred", "delete", "desc", "detach", "distinct", "do", "drop",
    "each", "else", "end", "escape", "except", "exclude", "exclusive", "exists", "explain",
    "fail", "filter", "first", "following", "for", "foreign", "from", "full", "generated",
    "glob", "group", "groups", "having", "if", "ignore", "immediate", "in", "index",
    "indexed", "initially", "inner", "insert", "instead", "intersect", "into", "is", "isnull",
    "join", "key", "last", "left", "like", "limit", "match", "materialized", "natural", "no",
    "not", "nothing", "notnull", "null", "nulls", "of", "offset", "on", "or", "order",
    "others", "outer", "over", "partition", "plan", "pragma", "preceding", "primary", "query",
    "raise", "range", "recursive", "references", "regexp", "reindex", "release", "rename",
    "replace", "restrict", "returning", "right", "rollback", "row", "rows", "savepoint",
    "select", "set", "table", "temp", "temporary", "then", "ties", "to", "transaction",
    "trigger", "unbounded", "union", "unique", "update", "using", "vacuum", "values", "view",
    "virtual", "when", "where", "window", "with", "without"};

static bool is_plain_identifier(const char *s, enum csvi_sql_dialect d)
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
    if (d == CSVI_SQL_SQLITE) {
        for (size_t i = 0; i < sizeof sqlite_keywords / sizeof *sqlite_keywords; i++)
            if (strcmp(s, sqlite_keywords[i]) == 0)
                return false;
        return true;
    }
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(s, reserved[i]) == 0)
            return false;
    return strlen(s) < 64;
}

static void put_ident(FILE *out, const char *s, enum csvi_sql_dialect d)
{
    if (is_plain_identifier(s, d)) {
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

/* A SQLite string literal: no escapes but '' (a newline may stand as it is). */
static void put_sqlite_literal(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', out);
        fputc(*s, out);
    }
    fputc('\'', out);
}

/* The inside of a sqlite3 shell dot-command argument in "...", where the
 * shell resolves backslash escapes ('...' takes none, so cannot hold a '). */
static void put_shell_escaped(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\%03o", c); /* octal: the shell's widest escape */
        else
            fputc(c, out);
    }
}

static void put_shell_arg(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    put_shell_escaped(out, s, n);
    fputc('"', out);
}

/* The command that decompresses r (a gzip or zstd file). */
static const char *decompressor(const struct csvi_file_result *r)
{
    return strcmp(r->compression, "zstd") ? "gzip" : "zstd";
}

/* Where a loader reads r's data from: its absolute path, "/dev/stdin" for
 * standard input ("-"), and for a gzip/zstd file *program, the /bin/sh
 * command that prints its CSV ("gzip -dc < '/path'"), else NULL.  Caller
 * frees both. */
static char *data_source(const struct csvi_file_result *r, char **program)
{
    *program = NULL;
    if (strcmp(r->path, "-") == 0)
        return strdup("/dev/stdin");
    char *path = realpath(r->path, NULL);
    if (!path && !(path = strdup(r->path)))
        return NULL;
    if (r->compression) { /* the path in '...', each ' as '\'' */
        size_t n = strlen(path), q = 0;
        for (size_t i = 0; i < n; i++)
            q += path[i] == '\'';
        char *cmd = malloc(strlen(r->compression) + n + 3 * q + 16);
        if (cmd) {
            char *o = cmd + sprintf(cmd, "%s -dc < '", decompressor(r));
            for (size_t i = 0; i < n; i++)
                o = path[i] == '\'' ? stpcpy(o, "'\\''") : (*o = path[i], o + 1);
            strcpy(o, "'");
        }
        *program = cmd;
    }
    return path;
}

static unsigned char ascii_lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Equal but for ASCII case: SQLite's rule for names (it folds ASCII only). */
static bool same_name_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
            return false;
    return *a == *b;
}

static bool same_name(const char *a, const char *b, enum csvi_sql_dialect d)
{
    return d == CSVI_SQL_SQLITE ? same_name_nocase(a, b) : strcmp(a, b) == 0;
}

/* Is s UTF-8?  A script is: PostgreSQL rejects a statement (and the comment
 * before it) that holds a byte of another encoding, so one file name in
 * latin-1 made a whole script fail under ON_ERROR_STOP. */
static bool is_utf8(const char *s)
{
    size_t n = strlen(s);
    return utf8_first_invalid((const uint8_t *)s, n) == n;
}

/* Text inside a "--" comment: control characters (a newline in a file name)
 * would end the comment, so they become '?'; bytes that are not UTF-8 are
 * written \xNN. */
static void put_comment_text(FILE *out, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        size_t ok = i + utf8_first_invalid(p + i, n - i);
        for (; i < ok; i++)
            fputc(p[i] < 0x20 ? '?' : p[i], out);
        if (i < n)
            fprintf(out, "\\x%02x", p[i++]);
    }
}

#define PG_NAME_MAX 63 /* PostgreSQL truncates identifiers to 63 bytes */

/* The length of s cut to at most max bytes at a UTF-8 character boundary (a
 * name cut inside a character is not UTF-8: PostgreSQL rejects the script). */
static size_t utf8_cut_len(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return len;
    len = max;
    while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return len;
}

/* Column names the database accepts, renames said in "-- note:" lines.
 * PostgreSQL: at most 63 bytes (cut at a character boundary), not a system
 * column, distinct.  SQLite: distinct ignoring ASCII case (it has no length
 * limit, and a column may shadow rowid).  Returns an array of n_columns
 * strings, or NULL if memory ran out; the caller frees each and the array. */
static char **column_names(const struct csvi_file_result *r, FILE *out, enum csvi_sql_dialect d)
{
    static const char *const system_cols[] = {"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid"};
    bool sqlite = d == CSVI_SQL_SQLITE;
    char **names = calloc(r->n_columns ? r->n_columns : 1, sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < r->n_columns; i++) {
        const char *orig = r->columns[i].name;
        /* PostgreSQL: room for a _NN suffix */
        size_t len = sqlite ? strlen(orig) : utf8_cut_len(orig, PG_NAME_MAX - 4);
        size_t cap = sqlite ? len + 16 : PG_NAME_MAX + 1;
        char *s = malloc(cap);
        if (!s) {
            for (size_t j = 0; j < i; j++)
                free(names[j]);
            free(names);
            return NULL;
        }
        memcpy(s, orig, len);
        s[len] = '\0';
        for (size_t k = 0; !sqlite && k < sizeof system_cols / sizeof *system_cols; k++)
            if (strcmp(s, system_cols[k]) == 0)
                strcat(s, "_");
        size_t base = strlen(s);
        for (unsigned k = 2;; k++) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = same_name(names[j], s, d);
            if (!dup)
                break;
            snprintf(s + base, cap - base, "_%u", k);
        }
        if (strcmp(s, orig) != 0) {
            fputs("-- note: column ", out);
            put_comment_text(out, orig);
            fputs(" is named ", out);
            put_comment_text(out, s);
            fputs(sqlite ? " (SQLite names: distinct ignoring case)\n"
                         : " (PostgreSQL names: at most 63 bytes, no system column names)\n",
                  out);
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

/* Table name from the file name: the base name without its extensions
 * (group.c's table_base_name), cut to fit PostgreSQL's identifier length at
 * a character boundary. */
static char *table_name(const char *path)
{
    char *s = table_base_name(path);
    if (s)
        s[utf8_cut_len(s, PG_NAME_MAX - 4)] = '\0';
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
    /* text columns load a null of another spelling as a string, without an error */
    unsigned as_null = pick >= 0 ? (1u << pick) : CSVI_NULL_EMPTY | CSVI_NULL_QUOTED_EMPTY;
    const unsigned kinds = CSVI_NULL_EMPTY | CSVI_NULL_QUOTED_EMPTY | CSVI_NULL_TOKEN_BITS;
    unsigned spellings = 0;
    size_t n_text = 0;
    for (int pass = 0; pass < 2; pass++) /* count, then name them */
        for (size_t i = 0, k = 0; i < r->n_columns; i++) {
            const struct csvi_column *c = &r->columns[i];
            unsigned other = c->null_kinds & kinds & ~as_null;
            if ((c->type != CSVI_TYPE_TEXT && c->type != CSVI_TYPE_NULL) || !other)
                continue;
            if (pass == 0) {
                n_text++;
                spellings |= other;
                continue;
            }
            fputs(k++ ? ", " : n_text == 1 ? "-- note: text column " : "-- note: text columns ", out);
            put_comment_text(out, c->name);
        }
    if (n_text) {
        fputs(n_text == 1 ? " has nulls written " : " have nulls written ", out);
        put_null_kinds(e, spellings, out);
        fputs("; COPY takes one NULL string, here '", out);
        const char *tok = pick >= 0 ? csvi_engine_null_token(e, (size_t)(pick - 2)) : "";
        put_comment_text(out, tok ? tok : "?");
        fputs("', so they load as strings ('' or the token itself), not as NULL\n", out);
    }
    return pick;
}

/* The sqlite3 shell's .import of the file into the table created before it.
 * --csv means comma; any other delimiter goes through .mode csv and
 * .separator (csv mode's reader with that column separator; the row
 * separator stays \n, and a \r before it is dropped as with --csv), and
 * .mode list afterwards gives the shell back its default output mode. */
static void put_sqlite_import(const struct csvi_file_result *r, FILE *out, const char *table)
{
    const struct csvi_dialect *dl = &r->dialect;
    char *program, *abs = data_source(r, &program);
    const char *path = abs ? abs : r->path;
    if (dl->delimiter == ',') {
        fputs(".import --csv", out);
    } else {
        fputs(".mode csv\n.separator ", out);
        put_shell_arg(out, &dl->delimiter, 1);
        fputs("\n.import", out);
    }
    if (dl->header)
        fputs(" --skip 1", out);
    /* .import "|cmd" reads what cmd prints (a gzip/zstd file's CSV): a path
     * must not look so */
    if (program) {
        fputs(" \"|", out);
        put_shell_escaped(out, program, strlen(program));
    } else {
        fputs(path[0] == '|' ? " \"./" : " \"", out);
        put_shell_escaped(out, path, strlen(path));
    }
    fputs("\" ", out);
    put_shell_arg(out, table, strlen(table)); /* the shell quotes the name itself */
    fputc('\n', out);
    if (dl->delimiter != ',')
        fputs(".mode list\n", out);
    free(program);
    free(abs);
}

/* The SQL list of a column's null spellings: '' for the empty field (quoted
 * or not: .import reads both as ''), then each token the column used. */
static void put_sqlite_null_list(const csvi_engine *e, bool empty, unsigned tokens, FILE *out)
{
    bool first = true;
    if (empty) {
        fputs("''", out);
        first = false;
    }
    const char *t;
    for (size_t i = 0; tokens && (t = csvi_engine_null_token(e, i)) != NULL; i++) {
        unsigned bit = 1u << (i + 2 < 28 ? i + 2 : 28); /* tokens past the 27th share bit 28 */
        if (!(tokens & bit))
            continue;
        fputs(first ? "" : ", ", out);
        put_sqlite_literal(out, t);
        first = false;
    }
}

/* " WHEN lower(trim(col)) IN (...) THEN v": a value with spaces or tabs
 * around it, in any case, as the classifier reads it */
static void put_sqlite_when(FILE *out, const char *name, const char *in_then)
{
    fputs(" WHEN lower(trim(", out);
    put_ident(out, name, CSVI_SQL_SQLITE);
    fprintf(out, ", char(32, 9))) IN %s", in_then);
}

/* After .import: what it leaves as text that the verdict reads otherwise.
 * An empty field and a null token are text to .import ('' and 'NA'): each
 * column's null spellings become NULL.  A boolean becomes 1 or 0, an
 * infinity +-9e999 (SQLite's infinity); a NaN stays text (SQLite has no
 * NaN: it stores one as NULL).  Anything else (tolerant mode's exceptions)
 * is left as it is.  One UPDATE for all such columns, none if no column
 * needs it. */
static void put_sqlite_fixups(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                              const char *table, char *const *names)
{
    bool any = false;
    for (size_t i = 0; i < r->n_columns; i++) {
        const struct csvi_column *c = &r->columns[i];
        bool empty = c->null_kinds & (CSVI_NULL_EMPTY | CSVI_NULL_QUOTED_EMPTY);
        unsigned tokens = c->null_kinds & CSVI_NULL_TOKEN_BITS;
        bool boolean = c->type == CSVI_TYPE_BOOLEAN, dbl = c->type == CSVI_TYPE_DOUBLE;
        if (!empty && !tokens && !boolean && !dbl)
            continue;
        if (!any) {
            fputs("UPDATE ", out);
            put_ident(out, table, CSVI_SQL_SQLITE);
            fputs(" SET\n    ", out);
        } else {
            fputs(",\n    ", out);
        }
        any = true;
        put_ident(out, names[i], CSVI_SQL_SQLITE);
        fputs(" = CASE", out);
        if (empty || tokens) {
            fputs(" WHEN ", out);
            put_ident(out, names[i], CSVI_SQL_SQLITE);
            fputs(" IN (", out);
            put_sqlite_null_list(e, empty, tokens, out);
            fputc(')', out);
            if (tokens && (c->null_kinds & CSVI_NULL_TOKEN_PADDED)) {
                fputs(" OR trim(", out);
                put_ident(out, names[i], CSVI_SQL_SQLITE);
                fputs(", char(32, 9)) IN (", out);
                put_sqlite_null_list(e, false, tokens, out);
                fputc(')', out);
            }
            fputs(" THEN NULL", out);
        }
        if (boolean) {
            put_sqlite_when(out, names[i], "('true', 't', 'yes', 'y') THEN 1");
            put_sqlite_when(out, names[i], "('false', 'f', 'no', 'n') THEN 0");
        }
        if (dbl) {
            put_sqlite_when(out, names[i], "('inf', '+inf', 'infinity', '+infinity') THEN 9e999");
            put_sqlite_when(out, names[i], "('-inf', '-infinity') THEN -9e999");
        }
        fputs(" ELSE ", out);
        put_ident(out, names[i], CSVI_SQL_SQLITE);
        fputs(" END", out);
    }
    if (any)
        fputs(";\n", out);
}

static void put_copy(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                     enum csvi_sql_dialect d, const char *table, char *const *names,
                     int null_kind, bool column_list)
{
    const struct csvi_dialect *dl = &r->dialect;
    char *program, *abs = data_source(r, &program);
    const char *path = abs ? abs : r->path;
    const char *tok = null_kind >= 2 ? csvi_engine_null_token(e, (size_t)(null_kind - 2)) : "";
    if (!tok)
        tok = "";
    fputs("COPY ", out);
    put_ident(out, table, d);
    for (size_t i = 0; column_list && i < r->n_columns; i++) { /* the file's, of the table's */
        fputs(i ? ", " : " (", out);
        put_ident(out, names[i], d);
        if (i + 1 == r->n_columns)
            fputc(')', out);
    }
    fputs(" FROM ", out);
    if (d == CSVI_SQL_POSTGRES && strcmp(r->path, "-") == 0) {
        fputs("STDIN", out);
    } else if (d == CSVI_SQL_POSTGRES && program) {
        fputs("PROGRAM ", out);
        put_literal(out, program, strlen(program));
    } else {
        put_literal(out, path, strlen(path));
    }
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
            put_ident(out, names[i], d);
            any = true;
        }
        if (any)
            fputc(')', out);
        /* not UTF-8: Windows' code page 1252 (latin-1 but for 0x80-0x9F, where
         * it has the euro sign and typographic quotes, latin-1 C1 controls) */
        fprintf(out, ", ENCODING '%s'", dl->encoding == CSVI_ENC_LATIN1 ? "WIN1252" : "UTF8");
    } else {
        if (r->compression) /* (DuckDB's own guess goes by the file name) */
            fprintf(out, ", COMPRESSION '%s'", r->compression);
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
    free(program);
    free(abs);
}

/* DuckDB reads a timestamp as ISO 8601 (date, then ' ' or 'T', then
 * hours, minutes and seconds) unless told a TIMESTAMPFORMAT. */
static bool duckdb_reads_timestamp(const char *fmt)
{
    return !strncmp(fmt, "%Y-%m-%d", 8) && (fmt[8] == ' ' || fmt[8] == 'T') &&
           !strncmp(fmt + 9, "%H:%M:%S", 8);
}

/* What DuckDB's COPY cannot read as put_copy writes it: one DATEFORMAT is
 * given (the first date column's), so date columns of another format fail;
 * timestamps it does not read by itself fail too.  Both loads succeed as
 * VARCHAR with a strptime cast, which the warning says. */
static void put_duckdb_warnings(const struct csvi_file_result *r, FILE *out)
{
    const struct csvi_column *first_date = NULL;
    for (size_t i = 0; i < r->n_columns; i++) {
        const struct csvi_column *c = &r->columns[i];
        bool date = c->type == CSVI_TYPE_DATE;
        bool ts = c->type == CSVI_TYPE_TIMESTAMP || c->type == CSVI_TYPE_TIMESTAMPTZ;
        if (date && !first_date) {
            first_date = c;
            continue;
        }
        if (date && strcmp(c->format, first_date->format) != 0) {
            fputs("-- warning: column ", out);
            put_comment_text(out, c->name);
            fputs(": DuckDB's COPY takes one DATEFORMAT (", out);
            put_comment_text(out, first_date->format);
            fputs(", column ", out);
            put_comment_text(out, first_date->name);
            fputs("), this column's dates are ", out);
            put_comment_text(out, c->format);
            fputs(" and fail to load: load it as VARCHAR and cast with strptime\n", out);
        } else if (ts && !duckdb_reads_timestamp(c->format)) {
            fputs("-- warning: column ", out);
            put_comment_text(out, c->name);
            fputs(": DuckDB's COPY reads timestamps as YYYY-MM-DD HH:MM:SS; this column's are ",
                  out);
            put_comment_text(out, c->format);
            fputs(" and fail to load: load it as VARCHAR and cast with strptime\n", out);
        }
    }
}

/* What sqlite3's .import cannot do with the file as it is, beyond what every
 * dialect is told (errors, NUL bytes): -- warning: lines. */
static void put_sqlite_warnings(const csvi_engine *e, const struct csvi_file_result *r, FILE *out)
{
    const struct csvi_dialect *dl = &r->dialect;
    if (dl->quote && dl->quote != '"')
        fprintf(out, "-- warning: the file quotes with %c; .import knows only \" as a quote, so "
                     "quoted fields keep their quotes and split at delimiters inside them\n",
                dl->quote);
    if (dl->encoding == CSVI_ENC_LATIN1)
        fputs("-- warning: the file is latin-1; .import stores its bytes as they are, which "
              "SQLite's text functions take for UTF-8: convert it first (iconv -f latin1 -t "
              "utf-8)\n",
              out);
    if (r->n_columns > 2000)
        fprintf(out,
                "-- warning: %zu columns; a SQLite table has at most 2000 (SQLITE_MAX_COLUMN)\n",
                r->n_columns);
    if (e->cfg.opt.quoted_empty_is_text) {
        for (size_t i = 0; i < r->n_columns; i++) {
            const struct csvi_column *c = &r->columns[i];
            if (c->type != CSVI_TYPE_TEXT || !(c->null_kinds & CSVI_NULL_EMPTY))
                continue;
            fputs("-- warning: column ", out);
            put_comment_text(out, c->name);
            fputs(": an empty field is a null and \"\" an empty string "
                  "(--quoted-empty-is-text), but .import reads both as '': both load as NULL\n",
                  out);
        }
    }
}

/* CREATE TABLE of the columns (SQL names given); NOT NULL where a column
 * held no null (not_null false: never, as for a staging table). */
static void put_create(FILE *out, const char *table, const struct csvi_column *cols, size_t n,
                       char *const *names, enum csvi_sql_dialect d, bool not_null)
{
    char sql[48];
    fputs("CREATE TABLE ", out);
    put_ident(out, table, d);
    fputs(" (\n", out);
    for (size_t i = 0; i < n; i++) {
        const struct csvi_column *c = &cols[i];
        fputs("    ", out);
        put_ident(out, names[i], d);
        fprintf(out, " %s%s%s\n", sql_type(c, d, sql, sizeof sql),
                c->nullable || !not_null ? "" : " NOT NULL", i + 1 < n ? "," : "");
    }
    fputs(");\n", out);
}

/* PostgreSQL / DuckDB: the COPY that loads r (names: the SQL names of r's
 * columns; column_list: name them, the table having more), with the
 * DateStyle its date columns need (order: ORDER_* bits of its columns). */
static void put_load(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                     enum csvi_sql_dialect d, const char *table, char *const *names, int order,
                     bool column_list)
{
    int null_kind = pick_null(e, r, out);
    /* the DateStyle the server has by default is not known: say which order */
    const char *style = d != CSVI_SQL_POSTGRES ? NULL
                        : (order & ORDER_DMY)  ? "ISO, DMY"
                        : (order & ORDER_MDY)  ? "ISO, MDY"
                                               : NULL;
    if (!is_utf8(r->path)) { /* the statement could not be sent: said, and left commented */
        fputs("-- warning: the file's path is not UTF-8 (its other bytes shown as \\xNN), and a "
              "SQL script cannot name it: rename the file (e.g. convmv -f latin1 -t utf8 "
              "--notest FILE) and run csvinfer again; the COPY, commented out:\n-- ",
              out);
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (mem) {
            put_copy(e, r, mem, d, table, names, null_kind, column_list);
            fclose(mem);
            if (len && buf[len - 1] == '\n')
                buf[len - 1] = '\0';
            put_comment_text(out, buf);
            fputc('\n', out);
        }
        free(buf);
        return;
    }
    if (style)
        fprintf(out, "SET datestyle = '%s';\n", style);
    put_copy(e, r, out, d, table, names, null_kind, column_list);
    if (style)
        fputs("RESET datestyle;\n", out);
}

/* What a loader cannot do with the file as it is: errors, blank lines at
 * the end, NUL bytes, what COPY rejects, a BOM, too many columns. */
static void put_file_warnings(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                              enum csvi_sql_dialect d)
{
    bool sqlite = d == CSVI_SQL_SQLITE;
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
        fprintf(out, "-- warning: the file ends with %llu blank line%s, which %s reads as %s\n",
                (unsigned long long)r->trailing_blank_lines,
                r->trailing_blank_lines == 1 ? "" : "s", sqlite ? ".import" : "COPY",
                r->n_columns == 1 ? "extra rows of NULL"
                : sqlite          ? "extra rows with missing columns"
                                  : "rows with missing columns and rejects");
    if (r->dialect.encoding == CSVI_ENC_BINARY)
        fputs("-- warning: the file holds NUL bytes, which no SQL text type can store\n", out);
    /* sqlite3's csv reader keeps a bare CR as data, drops the CR of every
     * CRLF and knows no \. line: these are COPY's alone */
    if (r->copy_bare_cr_line && !sqlite)
        fprintf(out, "-- warning: line %llu has a carriage return inside an unquoted field, "
                     "which COPY rejects\n",
                (unsigned long long)r->copy_bare_cr_line);
    if (r->copy_mixed_eol_line && !sqlite)
        fprintf(out, "-- warning: line %llu ends differently (CRLF / LF) from the first record; "
                     "COPY rejects mixed line ends\n",
                (unsigned long long)r->copy_mixed_eol_line);
    if (r->copy_eod_line && !sqlite)
        fprintf(out, "-- warning: line %llu holds only \\. which COPY takes as the end of the "
                     "data: the rows after it are not loaded\n",
                (unsigned long long)r->copy_eod_line);
    if (r->dialect.bom && !r->dialect.header && !sqlite) /* .import skips a BOM */
        fputs("-- warning: a UTF-8 byte order mark starts the file; COPY keeps it as part of "
              "the first value\n",
              out);
    if (strcmp(r->path, "-") == 0)
        fprintf(out, "-- warning: the data was read from standard input; the load reads %s "
                     "and needs the same data there again%s\n",
                d == CSVI_SQL_POSTGRES ? "STDIN" : "/dev/stdin",
                d == CSVI_SQL_POSTGRES ? " (psql -c 'COPY ... FROM STDIN ...' < FILE)" : "");
    else if (r->compression && d == CSVI_SQL_POSTGRES)
        fprintf(out, "-- note: COPY FROM PROGRAM runs %s on the database server (a superuser or "
                     "pg_execute_server_program); psql's \\copy ... FROM PROGRAM runs it here\n",
                decompressor(r));
    if (d == CSVI_SQL_POSTGRES && r->dialect.encoding == CSVI_ENC_LATIN1)
        fputs("-- note: the file is not UTF-8; it is read as WIN1252 (latin-1 with the euro sign "
              "and typographic quotes in bytes 0x80-0x9F, as Windows writes them); for ISO "
              "latin-1 proper use ENCODING 'LATIN1'. If the load fails on byte 0x81, 0x8D, "
              "0x8F, 0x90 or 0x9D (not in WIN1252), the file is in a DOS code page: convert it "
              "first (iconv -f CP850 -t UTF-8)\n",
              out);
    if (d == CSVI_SQL_POSTGRES && r->n_columns > 1600)
        fprintf(out, "-- warning: %zu columns; a PostgreSQL table has at most 1600\n",
                r->n_columns);
    if (sqlite)
        put_sqlite_warnings(e, r, out);
    if (d == CSVI_SQL_DUCKDB)
        put_duckdb_warnings(r, out);
}

/* Tolerant mode: column c's exceptions, for a file (with the line of the
 * first) or a table (its files have the lines), and what the load does with
 * them.  Checked against PostgreSQL (scripts/pg-test.sh tolerant_check): a
 * timestamp in a DATE column loads with its time cut off, a zone in a
 * TIMESTAMP column is dropped, a date written another way is read by the
 * server's DateStyle (it may load, day and month swapped); anything else fails
 * the load or is read PostgreSQL's own way (007 as 7 in an integer column, 1
 * as true), so the warning says both. */
static void put_exception_warning(const struct csvi_column *c, FILE *out, enum csvi_sql_dialect d,
                                  bool table)
{
    char sql[48];
    uint64_t n = c->exception_count, other = c->other_format_count, wider = c->wider_count;
    uint64_t rest = n - (other + wider <= n ? other + wider : n);
    bool sqlite = d == CSVI_SQL_SQLITE, pg = d == CSVI_SQL_POSTGRES;
    fputs("-- warning: column ", out);
    put_comment_text(out, c->name);
    fprintf(out, ": %llu value%s%s %s not fit %s", (unsigned long long)n, n == 1 ? "" : "s",
            table ? " of the table's files" : "", n == 1 ? "does" : "do",
            sqlite ? csvi_type_name(c->type) : sql_type(c, d, sql, sizeof sql));
    if (other)
        fprintf(out, " %s", c->format);
    if (!table && c->n_examples)
        fprintf(out, " (tolerant mode, first at line %llu)",
                (unsigned long long)c->examples[0].line);
    else
        fputs(" (tolerant mode)", out);
    if (sqlite) {
        fputs("; SQLite keeps them as text in that column\n", out);
        return;
    }
    if (!pg) {
        fprintf(out, "; the load fails on %s, or DuckDB reads %s its own way: check %s\n",
                n == 1 ? "it" : "them", n == 1 ? "it" : "them", n == 1 ? "it" : "them");
        return;
    }
    const char *sep = ": ";
    if (wider) {
        bool date = c->type == CSVI_TYPE_DATE;
        if (wider == n)
            fprintf(out, "%s%s %s, which PostgreSQL loads with %s %s (%s keeps %s)", sep,
                    n == 1 ? "it has" : "they have", date ? "a time" : "a time zone",
                    n == 1 ? "its" : "their", date ? "time cut off" : "zone dropped",
                    date ? "TIMESTAMP" : "TIMESTAMPTZ", date ? "it" : "the zone");
        else
            fprintf(out, "%s%llu %s %s, which PostgreSQL loads with %s %s (%s keeps %s)",
                    sep, (unsigned long long)wider, wider == 1 ? "has" : "have",
                    date ? "a time" : "a time zone", wider == 1 ? "its" : "their",
                    date ? "time cut off" : "zone dropped", date ? "TIMESTAMP" : "TIMESTAMPTZ",
                    date ? "it" : "the zone");
        sep = "; ";
    }
    if (other) {
        if (other == n)
            fprintf(out, "%s%s written another way, which PostgreSQL reads by its DateStyle: %s "
                         "load with day and month swapped, or fail",
                    sep, n == 1 ? "a date" : "dates", n == 1 ? "it may" : "they may");
        else
            fprintf(out, "%s%llu %s written another way, which PostgreSQL reads by its "
                         "DateStyle: %s load with day and month swapped, or fail",
                    sep, (unsigned long long)other, other == 1 ? "is a date" : "are dates",
                    other == 1 ? "it may" : "they may");
        sep = "; ";
    }
    if (rest) {
        const char *it = rest == 1 ? "it" : "them";
        if (rest == n)
            fprintf(out, "%sthe load fails on %s, or PostgreSQL reads %s its own way (007 as 7, "
                         "1 as true): check %s",
                    sep, it, it, it);
        else
            fprintf(out, "%sthe load fails on the other %llu, or PostgreSQL reads %s its own "
                         "way (007 as 7, 1 as true): check %s",
                    sep, (unsigned long long)rest, it, it);
    }
    fputc('\n', out);
}

/* Tolerant mode, a table's columns: values of its files that do not fit the
 * table's type (their lines are in each file's "exceptions"). */
static void put_table_exception_warnings(const struct csvi_table *t, FILE *out,
                                         enum csvi_sql_dialect d)
{
    for (size_t i = 0; i < t->n_columns; i++)
        if (t->columns[i].exception_count)
            put_exception_warning(&t->columns[i], out, d, true);
}

static void put_file(const csvi_engine *e, const struct csvi_file_result *r, FILE *out,
                     enum csvi_sql_dialect d, const char *table)
{
    bool sqlite = d == CSVI_SQL_SQLITE;
    fputs("-- csvinfer: ", out);
    put_comment_text(out, r->path);
    fprintf(out, ": %llu row%s\n", (unsigned long long)r->rows, r->rows == 1 ? "" : "s");
    if (!r->has_dialect || r->n_columns == 0) {
        fputs("-- warning: no columns (the file is empty or could not be read); nothing to "
              "create\n\n",
              out);
        return;
    }
    put_file_warnings(e, r, out, d);
    for (size_t i = 0; i < r->n_columns; i++)
        if (r->columns[i].exception_count)
            put_exception_warning(&r->columns[i], out, d, false);
    int order = 0;
    for (size_t i = 0; i < r->n_columns; i++)
        order |= column_date_order(&r->columns[i]);
    if (order == (ORDER_MDY | ORDER_DMY) && !sqlite) /* SQLite keeps dates as written */
        fputs("-- warning: both day-first and month-first date columns: one COPY reads them "
              "with one DateStyle\n",
              out);
    char **names = column_names(r, out, d);
    if (!names)
        return;
    put_create(out, table, r->columns, r->n_columns, names, d, true);
    if (sqlite) {
        put_sqlite_import(r, out, table);
        put_sqlite_fixups(e, r, out, table, names);
    } else {
        put_load(e, r, out, d, table, names, order, false);
    }
    fputc('\n', out);
    for (size_t i = 0; i < r->n_columns; i++)
        free(names[i]);
    free(names);
}

/* ---- --group ------------------------------------------------------------ */

/* One file of a table: its warnings and the statement loading it.  The
 * file's columns are seen with the table's verdicts (type, format: what the
 * table holds) and the file's own null spellings; tnames are the table's
 * SQL column names. */
static void put_group_file(const csvi_engine *e, const struct csvi_file_result *r,
                           const struct csvi_table *t, char *const *tnames, FILE *out,
                           enum csvi_sql_dialect d, const char *table)
{
    fputs("-- csvinfer: ", out);
    put_comment_text(out, r->path);
    fprintf(out, ": %llu row%s, %zu of the table's %zu columns\n", (unsigned long long)r->rows,
            r->rows == 1 ? "" : "s", r->n_columns, t->n_columns);
    put_file_warnings(e, r, out, d);
    struct csvi_column *vc = calloc(r->n_columns, sizeof *vc);
    char **names = calloc(r->n_columns, sizeof *names); /* borrowed from tnames */
    if (!vc || !names) {
        free(vc);
        free(names);
        return;
    }
    size_t j = 0; /* the file's names are a subsequence of the table's */
    for (size_t k = 0; k < r->n_columns; k++) {
        while (j + 1 < t->n_columns && strcmp(t->columns[j].name, r->columns[k].name) != 0)
            j++;
        vc[k] = t->columns[j];
        vc[k].name = r->columns[k].name;
        vc[k].null_kinds = r->columns[k].null_kinds;
        names[k] = tnames[j++];
    }
    struct csvi_file_result view = *r;
    view.columns = vc;
    bool partial = r->n_columns != t->n_columns;
    int order = 0;
    for (size_t k = 0; k < r->n_columns; k++)
        order |= column_date_order(&vc[k]);
    if (d == CSVI_SQL_SQLITE) {
        if (!partial) {
            put_sqlite_import(&view, out, table);
        } else { /* .import fills columns by position: stage the file's columns */
            char *stage = NULL;
            if (asprintf(&stage, "%s_csvinfer_load", table) >= 0) {
                put_create(out, stage, vc, r->n_columns, names, d, false);
                put_sqlite_import(&view, out, stage);
                fputs("INSERT INTO ", out);
                put_ident(out, table, d);
                for (size_t k = 0; k < r->n_columns; k++) {
                    fputs(k ? ", " : " (", out);
                    put_ident(out, names[k], d);
                }
                fputs(") SELECT ", out);
                for (size_t k = 0; k < r->n_columns; k++) {
                    fputs(k ? ", " : "", out);
                    put_ident(out, names[k], d);
                }
                fputs(" FROM ", out);
                put_ident(out, stage, d);
                fputs(";\nDROP TABLE ", out);
                put_ident(out, stage, d);
                fputs(";\n", out);
                free(stage);
            }
        }
    } else {
        if (order == (ORDER_MDY | ORDER_DMY))
            fputs("-- warning: both day-first and month-first date columns: one COPY reads them "
                  "with one DateStyle\n",
                  out);
        put_load(e, &view, out, d, table, names, order, partial);
    }
    free(names);
    free(vc);
}

/* A table: CREATE TABLE from the joined verdict, then each file's load. */
static void put_table(const csvi_engine *e, const struct csvi_table *t, FILE *out,
                      enum csvi_sql_dialect d, const char *table)
{
    fputs("-- csvinfer: table ", out);
    put_comment_text(out, t->name);
    fprintf(out, ": %zu file%s, %llu row%s (--group)\n", t->n_files, t->n_files == 1 ? "" : "s",
            (unsigned long long)t->rows, t->rows == 1 ? "" : "s");
    put_table_exception_warnings(t, out, d);
    struct csvi_file_result tv; /* the table as a result, for the column helpers */
    memset(&tv, 0, sizeof tv);
    tv.columns = t->columns;
    tv.n_columns = t->n_columns;
    char **names = column_names(&tv, out, d);
    if (!names)
        return;
    put_create(out, table, t->columns, t->n_columns, names, d, true);
    for (size_t i = 0; i < t->n_files; i++)
        put_group_file(e, csvi_engine_file(e, t->files[i]), t, names, out, d, table);
    if (d == CSVI_SQL_SQLITE)
        put_sqlite_fixups(e, &tv, out, table, names);
    fputc('\n', out);
    for (size_t i = 0; i < t->n_columns; i++)
        free(names[i]);
    free(names);
}

/* SQL table names: each base made distinct from the ones before it (and not
 * sqlite_*, which SQLite keeps for itself).  NULL entries: out of memory. */
static char **sql_table_names(char *const *bases, size_t n, enum csvi_sql_dialect d)
{
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char *base = bases[i] ? strndup(bases[i], utf8_cut_len(bases[i], PG_NAME_MAX - 4)) : NULL;
        if (base && d == CSVI_SQL_SQLITE && strncasecmp(base, "sqlite_", 7) == 0) {
            char *b = NULL;
            if (asprintf(&b, "csv_%s", base) < 0)
                b = NULL;
            free(base);
            base = b;
        }
        char *t = base ? strdup(base) : NULL;
        for (unsigned k = 2; t; k++) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = names[j] && same_name(names[j], t, d);
            if (!dup)
                break;
            free(t);
            if (asprintf(&t, "%s_%u", base, k) < 0)
                t = NULL;
        }
        free(base);
        names[i] = t;
    }
    return names;
}

static enum csvi_status write_grouped(const csvi_engine *e, FILE *out, enum csvi_sql_dialect d)
{
    size_t n = csvi_engine_file_count(e);
    char **bases = calloc(e->n_tables ? e->n_tables : 1, sizeof *bases);
    bool *in_table = calloc(n ? n : 1, sizeof *in_table);
    if (!bases || !in_table) {
        free(bases);
        free(in_table);
        return CSVI_ERR_NOMEM;
    }
    for (size_t i = 0; i < e->n_tables; i++)
        bases[i] = e->tables[i].name;
    char **names = sql_table_names(bases, e->n_tables, d);
    free(bases);
    if (!names) {
        free(in_table);
        return CSVI_ERR_NOMEM;
    }
    for (size_t i = 0; i < e->n_tables; i++) {
        put_table(e, &e->tables[i], out, d, names[i] ? names[i] : "csvinfer_table");
        for (size_t k = 0; k < e->tables[i].n_files; k++)
            in_table[e->tables[i].files[k]] = true;
    }
    for (size_t i = 0; i < n; i++) /* empty or unreadable files: said as comments */
        if (!in_table[i])
            put_file(e, csvi_engine_file(e, i), out, d, "csvinfer_table");
    for (size_t i = 0; i < e->n_tables; i++)
        free(names[i]);
    free(names);
    free(in_table);
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}

enum csvi_status csvi_write_sql(const csvi_engine *e, FILE *out, enum csvi_sql_dialect d)
{
    if (e->grouped)
        return write_grouped(e, out, d);
    size_t n = csvi_engine_file_count(e);
    char **bases = calloc(n ? n : 1, sizeof *bases);
    if (!bases)
        return CSVI_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        bases[i] = table_name(csvi_engine_file(e, i)->path);
    char **names = sql_table_names(bases, n, d);
    for (size_t i = 0; i < n; i++)
        free(bases[i]);
    free(bases);
    if (!names)
        return CSVI_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        put_file(e, csvi_engine_file(e, i), out, d, names[i] ? names[i] : "csvinfer_table");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}
