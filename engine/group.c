/*
 * group.c — --group: files whose headers agree form one table, whose
 * verdict is the join of theirs (docs/cli.md "Grouped tables").
 *
 * Headers agree (CSVI_GROUP_HEADER) when the column names of one are an
 * ordered subsequence of the other's: columns were added or dropped, none
 * renamed or moved.  A group's header is the longest of its files'; every
 * file's names are a subsequence of it.  Files are taken in result order;
 * each joins the first group it agrees with, and then groups that have come
 * to agree are merged (the earlier absorbs the later) until none do, so the
 * grouping depends only on the ordered list of headers — the same for one
 * run and for a merge of shards.  CSVI_GROUP_EXACT asks for equal names.
 * Files without a header (names column_1..N) group only with header-less
 * files of as many columns.  Files with no columns (empty, unreadable)
 * belong to no table.
 *
 * A table column is the column_join of its files' states (verdict_state.c);
 * a file without that column adds its rows as nulls, so the column is
 * nullable.  Exception examples name lines of several files, so tables
 * list only the count.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* *s (malloc'd, or NULL) in UTF-8: a name of a file or directory that is not
 * is read as latin-1 (caf\xe9 -> café), so a SQL script naming it stays UTF-8. */
static void utf8_name(char **s)
{
    size_t n = *s ? strlen(*s) : 0;
    if (*s && utf8_first_invalid((const uint8_t *)*s, n) != n)
        name_latin1_to_utf8(s);
}

char *table_base_name(const char *path)
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
    utf8_name(&s);
    return s;
}

/* ---- headers ----------------------------------------------------------- */

struct header {
    bool has_header;
    size_t n;
    const struct csvi_column *cols; /* names: cols[i].name */
};

static struct header header_of(const struct csvi_file_result *r)
{
    return (struct header){r->dialect.header, r->n_columns, r->columns};
}

static bool names_equal(const struct header *a, const struct header *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->cols[i].name, b->cols[i].name) != 0)
            return false;
    return true;
}

/* Is a's name list an ordered subsequence of b's?  (Names within a header
 * are distinct, so the greedy match is the only one.) */
static bool subsequence(const struct header *a, const struct header *b)
{
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (j < b->n && strcmp(a->cols[i].name, b->cols[j].name) != 0)
            j++;
        if (j == b->n)
            return false;
        j++;
    }
    return true;
}

static bool agree(const struct header *a, const struct header *b, enum csvi_group_mode mode)
{
    if (a->has_header != b->has_header)
        return false;
    if (mode == CSVI_GROUP_EXACT || !a->has_header)
        return names_equal(a, b);
    return subsequence(a, b) || subsequence(b, a);
}

/* ---- grouping ---------------------------------------------------------- */

struct group {
    struct header h;  /* the longest header of its files */
    size_t *files, n, cap;
    bool dead;        /* merged into an earlier group */
};

static int group_add(struct group *g, size_t file)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 8;
        size_t *f = realloc(g->files, cap * sizeof *f);
        if (!f)
            return -ENOMEM;
        g->files = f;
        g->cap = cap;
    }
    g->files[g->n++] = file;
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* b into a (a is the earlier group); the files stay in result order. */
static int group_absorb(struct group *a, struct group *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (group_add(a, b->files[i]))
            return -ENOMEM;
    qsort(a->files, a->n, sizeof *a->files, cmp_size);
    if (b->h.n > a->h.n)
        a->h = b->h;
    b->dead = true;
    return 0;
}

/* ---- names --------------------------------------------------------------- */

static bool trailing_junk(char c)
{
    return (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ' ';
}

/* The last component of the deepest directory all paths lie under, or NULL
 * (no directory in common, or only "." / ".."). */
static char *common_dir_name(const csvi_engine *e, const struct group *g)
{
    const char *first = e->files[g->files[0]].path;
    size_t len = strlen(first);
    for (size_t i = 1; i < g->n; i++) {
        const char *p = e->files[g->files[i]].path;
        size_t k = 0;
        while (k < len && p[k] == first[k])
            k++;
        len = k;
    }
    while (len && first[len - 1] != '/') /* back to a '/' every path has there */
        len--;
    if (len)
        len--; /* first[0, len): the directory */
    size_t start = len;
    while (start > 0 && first[start - 1] != '/')
        start--;
    if (len == start)
        return NULL;
    char *name = strndup(first + start, len - start);
    if (name && (!strcmp(name, ".") || !strcmp(name, ".."))) {
        free(name);
        return NULL;
    }
    return name;
}

/* A table's name: one file's base name; for several, the start their base
 * names share without trailing digits and separators (sales_2024_01,
 * sales_2024_02 -> sales); if nothing is left, the directory they share;
 * else the first file's base name. */
static char *table_name_of(const csvi_engine *e, const struct group *g)
{
    char *first = table_base_name(e->files[g->files[0]].path);
    if (!first || g->n == 1)
        return first;
    size_t len = strlen(first);
    for (size_t i = 1; i < g->n && len; i++) {
        char *b = table_base_name(e->files[g->files[i]].path);
        if (!b) {
            free(first);
            return NULL;
        }
        size_t k = 0;
        while (k < len && b[k] == first[k])
            k++;
        len = k;
        free(b);
    }
    while (len && ((unsigned char)first[len] & 0xC0) == 0x80) /* whole UTF-8 characters */
        len--;
    while (len && trailing_junk(first[len - 1]))
        len--;
    if (len) {
        first[len] = '\0';
        return first;
    }
    char *dir = common_dir_name(e, g);
    if (dir) {
        free(first);
        utf8_name(&dir);
        return dir;
    }
    return first;
}

/* ---- tables ------------------------------------------------------------ */

static void table_free(struct csvi_table *t)
{
    for (size_t i = 0; i < t->n_drift; i++) {
        free(t->drift[i].column);
        free(t->drift[i].detail);
    }
    free(t->drift);
    free(t->drift_since);
    free(t->name);
    free(t->files);
    for (size_t i = 0; i < t->n_columns; i++)
        free(t->columns[i].name);
    free(t->columns);
}

void group_clear(csvi_engine *e)
{
    for (size_t i = 0; i < e->n_tables; i++)
        table_free(&e->tables[i]);
    free(e->tables);
    e->tables = NULL;
    e->n_tables = 0;
    e->grouped = false;
}

/* Join the group's files into table t (files and name already set). */
static int table_join(const csvi_engine *e, const struct group *g, struct csvi_table *t)
{
    bool tolerant = e->cfg.opt.threshold < 1.0;
    struct column_state *acc = calloc(g->h.n ? g->h.n : 1, sizeof *acc);
    if (!acc)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < g->h.n; i++)
        column_init(&acc[i], tolerant);
    for (size_t f = 0; rc == 0 && f < g->n; f++) {
        const struct csvi_file_result *r = &e->files[g->files[f]];
        struct file_state fs;
        const char *why;
        rc = state_decode(r->state, r->state_len, &fs, &why);
        if (rc)
            break;
        if (fs.ncols != r->n_columns) {
            state_free(&fs);
            rc = -EINVAL;
            break;
        }
        t->rows += r->rows;
        size_t k = 0; /* the file's columns, matched in order to the table's */
        for (size_t j = 0; j < g->h.n; j++) {
            if (k < r->n_columns && strcmp(r->columns[k].name, g->h.cols[j].name) == 0) {
                if (!column_join(&acc[j], &fs.cols[k++]))
                    rc = -ENOMEM;
            } else { /* the file lacks this column: its rows are nulls here */
                acc[j].count += r->rows;
                acc[j].nulls += r->rows;
            }
        }
        state_free(&fs);
    }
    if (rc == 0 && !(t->columns = calloc(g->h.n ? g->h.n : 1, sizeof *t->columns)))
        rc = -ENOMEM;
    for (size_t j = 0; rc == 0 && j < g->h.n; j++) {
        if (!(t->columns[j].name = strdup(g->h.cols[j].name))) {
            rc = -ENOMEM;
            break;
        }
        t->n_columns++;
        column_verdict(&acc[j], e->cfg.opt.threshold, e->cfg.opt.dayfirst, &t->columns[j]);
        t->columns[j].n_examples = 0; /* their lines belong to several files */
    }
    for (size_t i = 0; i < g->h.n; i++)
        column_free(&acc[i]);
    free(acc);
    return rc;
}

enum csvi_status csvi_engine_group(csvi_engine *e, enum csvi_group_mode mode)
{
    group_clear(e);
    if (mode == CSVI_GROUP_NONE)
        return CSVI_OK;
    for (size_t i = 0; i < e->n_files; i++)
        if (e->files[i].n_columns && !e->files[i].state)
            return CSVI_ERR_USAGE; /* made without keep_state (or out of memory) */
    struct group *gs = calloc(e->n_files ? e->n_files : 1, sizeof *gs);
    if (!gs)
        return CSVI_ERR_NOMEM;
    size_t ng = 0;
    enum csvi_status st = CSVI_OK;
    for (size_t i = 0; i < e->n_files && st == CSVI_OK; i++) {
        const struct csvi_file_result *r = &e->files[i];
        if (!r->has_dialect || !r->n_columns)
            continue;
        struct header h = header_of(r);
        size_t g = 0;
        while (g < ng && !agree(&gs[g].h, &h, mode))
            g++;
        if (g == ng)
            gs[ng++].h = h;
        if (group_add(&gs[g], i))
            st = CSVI_ERR_NOMEM;
        else if (h.n > gs[g].h.n)
            gs[g].h = h;
    }
    /* a group's header grows as files join: merge groups that now agree */
    for (bool again = true; again && st == CSVI_OK;) {
        again = false;
        for (size_t a = 0; a < ng && !again && st == CSVI_OK; a++)
            for (size_t b = a + 1; b < ng && !again; b++)
                if (!gs[a].dead && !gs[b].dead && agree(&gs[a].h, &gs[b].h, mode)) {
                    if (group_absorb(&gs[a], &gs[b]))
                        st = CSVI_ERR_NOMEM;
                    again = true;
                }
    }
    size_t live = 0;
    for (size_t g = 0; g < ng; g++)
        live += !gs[g].dead;
    if (st == CSVI_OK && live && !(e->tables = calloc(live, sizeof *e->tables)))
        st = CSVI_ERR_NOMEM;
    for (size_t g = 0; g < ng && st == CSVI_OK; g++) {
        if (gs[g].dead)
            continue;
        struct csvi_table *t = &e->tables[e->n_tables++];
        char *base = table_name_of(e, &gs[g]);
        char *name = base ? strdup(base) : NULL;
        for (unsigned k = 2; name; k++) { /* distinct among the tables */
            bool dup = false;
            for (size_t j = 0; j + 1 < e->n_tables && !dup; j++)
                dup = strcmp(e->tables[j].name, name) == 0;
            if (!dup)
                break;
            free(name);
            if (asprintf(&name, "%s_%u", base, k) < 0)
                name = NULL;
        }
        free(base);
        if (!(t->name = name)) {
            st = CSVI_ERR_NOMEM;
            break;
        }
        int rc = table_join(e, &gs[g], t);
        if (rc)
            st = rc == -ENOMEM ? CSVI_ERR_NOMEM : CSVI_ERR_USAGE;
        t->files = gs[g].files; /* moved */
        t->n_files = gs[g].n;
        gs[g].files = NULL;
    }
    for (size_t g = 0; g < ng; g++)
        free(gs[g].files);
    free(gs);
    if (st != CSVI_OK) {
        group_clear(e);
        return st;
    }
    e->grouped = true;
    run_tables_finished(e); /* drift against the ledger, table_done events */
    return CSVI_OK;
}

size_t csvi_engine_table_count(const csvi_engine *e) { return e->grouped ? e->n_tables : 0; }

const struct csvi_table *csvi_engine_table(const csvi_engine *e, size_t i)
{
    return e->grouped && i < e->n_tables ? &e->tables[i] : NULL;
}
