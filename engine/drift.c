/*
 * drift.c — a file's schema against the last one the ledger recorded for
 * its path: which columns were added, removed, renamed or reordered, which
 * types widened or changed, which columns became nullable or not null, and
 * of a date or timestamp column whose type stayed, whether the date part of
 * its format changed (%Y-%m-%d -> %d/%m/%Y): a load given the old format (a
 * DateStyle, a DATEFORMAT) fails on the new data or swaps day and month.
 * Only evidence counts: a format changed when no date format fits both
 * nights' values (ambiguous dates fit several), and a column with no value
 * tonight has no type to compare (nor, with no row, a nullability).
 * The time part (seconds, fraction, T or space) is not compared: it varies
 * from night to night with the data, and loaders read any of them.  Nor is
 * the SQL type of a type that stayed (SMALLINT -> INTEGER, NUMERIC(5,2) ->
 * NUMERIC(6,2)): a night of smaller values narrows it and the next widens it
 * again, so comparing it with the last night alone is noise.
 *
 * The old schema is the "schema" array of a file_done event (jansson):
 * [{"name": "id", "type": "integer", "nullable": false, "sql_type": "SMALLINT",
 * "format": ... (date/time types, since 2026-11-29)}, ...].  A field an
 * older ledger line lacks is not compared.
 * Matching is by name; a column whose name is new, at a position where an
 * old name vanished, with the same type, is a rename rather than an
 * add + remove.  Reordering is reported once, when the columns both schemas
 * share appear in another order.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *csvi_drift_kind_name(enum csvi_drift_kind k)
{
    static const char *const names[CSVI_DRIFT_COUNT] = {
        "column_added", "column_removed", "column_renamed", "columns_reordered",
        "type_widened", "type_changed",   "now_nullable",   "now_not_null",
        "format_changed"};
    return (unsigned)k < CSVI_DRIFT_COUNT ? names[k] : "?";
}

static int type_of(const char *name)
{
    for (int t = 0; t < CSVI_TYPE_COUNT; t++)
        if (strcmp(csvi_type_name((enum csvi_type)t), name) == 0)
            return t;
    return -1;
}

/* Does a column of type `from` widen to `to` (values of the old type all fit
 * the new one, and the SQL type only grows)? */
static bool widens(int from, int to)
{
    if (from == CSVI_TYPE_NULL)
        return true;
    switch (from) {
    case CSVI_TYPE_INTEGER: return to == CSVI_TYPE_DECIMAL || to == CSVI_TYPE_DOUBLE;
    case CSVI_TYPE_DECIMAL: return to == CSVI_TYPE_DOUBLE;
    case CSVI_TYPE_DATE: return to == CSVI_TYPE_TIMESTAMP || to == CSVI_TYPE_TIMESTAMPTZ;
    case CSVI_TYPE_TIMESTAMP: return to == CSVI_TYPE_TIMESTAMPTZ;
    default: return false;
    }
}

struct old_col {
    const char *name;
    int type;
    bool nullable;
    const char *format;    /* NULL: not recorded */
    const json_t *formats; /* the date formats its values fit, where several did, or NULL */
};

static bool add(struct csvi_file_result *r, size_t *cap, enum csvi_drift_kind kind,
                const char *column, char *detail)
{
    if (r->n_drift == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct csvi_drift *nd = realloc(r->drift, ncap * sizeof *nd);
        if (!nd) {
            free(detail);
            return false;
        }
        r->drift = nd;
        *cap = ncap;
    }
    r->drift[r->n_drift++] = (struct csvi_drift){kind, strdup(column), detail};
    return true;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = error_vformat(f, ap);
    va_end(ap);
    return s;
}

static long find_old(const struct old_col *o, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(o[i].name, name) == 0)
            return (long)i;
    return -1;
}

static long find_new(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (long)i;
    return -1;
}

/* The length of a date or timestamp format's date part ("%Y-%m-%d" of
 * "%Y-%m-%d %H:%M:%S"). */
static size_t date_part(const char *f)
{
    const char *h = strstr(f, "%H");
    return h && h > f ? (size_t)(h - f) - 1 : strlen(f);
}

/* The date format bit of s[0, n) (a date part), or 0. */
static unsigned date_format_bit(const char *s, size_t n)
{
    for (int f = 0; f < DF_COUNT; f++) {
        const char *d = date_format_string((enum date_format)f);
        if (strlen(d) == n && memcmp(d, s, n) == 0)
            return 1u << f;
    }
    return 0;
}

/* The date formats the old column's values fit: its "formats" where several
 * did, else its format's date part (0: not known). */
static unsigned old_date_formats(const struct old_col *o)
{
    unsigned set = 0;
    size_t i;
    const json_t *f;
    json_array_foreach(o->formats, i, f) {
        const char *s = json_string_value(f);
        set |= s ? date_format_bit(s, strlen(s)) : 0;
    }
    return set ? set : date_format_bit(o->format, date_part(o->format));
}

/* A column kept (the same name, or renamed with the same type): its date
 * format and its nullability.  The format changed only when no format fits
 * both nights' values: a night of ambiguous dates (02/01/2024, which both
 * %d/%m/%Y and %m/%d/%Y fit) is no evidence against the old one.  A column
 * with no value at all (a header-only file) says nothing of nullability. */
static void compare_kept(struct csvi_file_result *r, size_t *cap, const char *name,
                         const struct old_col *o, const struct csvi_column *c)
{
    bool dated = c->type == CSVI_TYPE_DATE || c->type == CSVI_TYPE_TIMESTAMP ||
                 c->type == CSVI_TYPE_TIMESTAMPTZ;
    if (dated && o->type == (int)c->type && o->format && c->format[0]) {
        size_t a = date_part(o->format), b = date_part(c->format);
        unsigned was = old_date_formats(o);
        bool changed = was && c->date_formats ? !(was & c->date_formats)
                                              : a != b || memcmp(o->format, c->format, a) != 0;
        if (changed)
            add(r, cap, CSVI_DRIFT_FORMAT_CHANGED, name,
                fmt("%.*s -> %.*s", (int)a, o->format, (int)b, c->format));
    }
    if (c->count == 0)
        return;
    if (o->nullable != c->nullable)
        add(r, cap, c->nullable ? CSVI_DRIFT_NOW_NULLABLE : CSVI_DRIFT_NOW_NOT_NULL, name,
            fmt("%llu null%s now", (unsigned long long)c->null_count,
                c->null_count == 1 ? "" : "s"));
}

void drift_compare(struct csvi_file_result *r, const json_t *old_schema)
{
    size_t n_old = json_array_size(old_schema), cap = 0;
    struct old_col *o = calloc(n_old ? n_old : 1, sizeof *o);
    if (!o)
        return;
    for (size_t i = 0; i < n_old; i++) {
        json_t *c = json_array_get(old_schema, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *type = json_string_value(json_object_get(c, "type"));
        o[i] = (struct old_col){name ? name : "", type ? type_of(type) : -1,
                                json_is_true(json_object_get(c, "nullable")),
                                json_string_value(json_object_get(c, "format")),
                                json_object_get(c, "formats")};
    }
    /* the new names as the ledger holds them (bytes that are not UTF-8 as U+FFFD),
     * so a latin-1 header compares equal to itself from the last run */
    size_t nn = r->n_columns;
    char **names = calloc(nn + 1, sizeof *names);
    bool *renamed_new = calloc(nn + 1, sizeof *renamed_new);
    bool *renamed_old = calloc(n_old + 1, sizeof *renamed_old);
    if (!names || !renamed_new || !renamed_old)
        goto out;
    for (size_t i = 0; i < nn; i++)
        if (!(names[i] = utf8_sanitize(r->columns[i].name)))
            goto out;
    for (size_t i = 0; i < nn && i < n_old; i++) {
        const struct csvi_column *c = &r->columns[i];
        if (find_old(o, n_old, names[i]) < 0 && find_new(names, nn, o[i].name) < 0 &&
            o[i].type == (int)c->type) {
            renamed_new[i] = renamed_old[i] = true;
            add(r, &cap, CSVI_DRIFT_COLUMN_RENAMED, names[i],
                fmt("was \"%s\" (column %zu)", o[i].name, i + 1));
            compare_kept(r, &cap, names[i], &o[i], c);
        }
    }
    for (size_t i = 0; i < nn; i++) {
        const struct csvi_column *c = &r->columns[i];
        long j = find_old(o, n_old, names[i]);
        if (renamed_new[i])
            continue;
        if (j < 0) {
            add(r, &cap, CSVI_DRIFT_COLUMN_ADDED, names[i],
                fmt("column %zu, %s", i + 1, csvi_type_name(c->type)));
            continue;
        }
        int from = o[j].type, to = (int)c->type;
        /* no value tonight (empty, or all null): no evidence of a type; the
         * ledger keeps the last type for it (run.c carried_column) */
        if (from != to && to != CSVI_TYPE_NULL)
            add(r, &cap, widens(from, to) ? CSVI_DRIFT_TYPE_WIDENED : CSVI_DRIFT_TYPE_CHANGED,
                names[i],
                fmt("%s -> %s", from >= 0 ? csvi_type_name((enum csvi_type)from) : "?",
                    csvi_type_name(c->type)));
        compare_kept(r, &cap, names[i], &o[j], c);
    }
    for (size_t j = 0; j < n_old; j++)
        if (!renamed_old[j] && find_new(names, nn, o[j].name) < 0)
            add(r, &cap, CSVI_DRIFT_COLUMN_REMOVED, o[j].name, fmt("was column %zu", j + 1));
    /* order of the columns both have: the first that now follows a column it
     * used to precede */
    long last = -1;
    size_t last_i = 0;
    for (size_t i = 0; i < nn; i++) {
        long j = renamed_new[i] ? (long)i : find_old(o, n_old, names[i]);
        if (j < 0)
            continue;
        if (j < last) {
            add(r, &cap, CSVI_DRIFT_COLUMNS_REORDERED, names[i],
                fmt("\"%s\" now comes after \"%s\"; it used to come before it", names[i],
                    names[last_i]));
            break;
        }
        last = j;
        last_i = i;
    }
out:
    for (size_t i = 0; names && i < nn; i++)
        free(names[i]);
    free(names);
    free(renamed_new);
    free(renamed_old);
    free(o);
}

void drift_clear(struct csvi_file_result *r)
{
    for (size_t i = 0; i < r->n_drift; i++) {
        free(r->drift[i].column);
        free(r->drift[i].detail);
    }
    free(r->drift);
    free(r->drift_since);
    r->drift = NULL;
    r->drift_since = NULL;
    r->n_drift = 0;
}
