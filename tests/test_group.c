/*
 * test_group.c — --group (docs/cli.md "Grouped tables"): files whose headers
 * agree form one table whose verdict is the join of theirs.
 *
 * - Files with equal headers: one table, and its columns equal the verdict
 *   of one file holding all their rows (random typed data, strict and
 *   tolerant mode) — the monoid across files as across slices.
 * - Headers that agree up to added/left-out columns: one table; a column a
 *   file lacks is nullable, with that file's rows counted as nulls.
 * - Types widen across files (integer + decimal, date + timestamp, integer
 *   ranges, anything + text), a file of nulls only leaves the type.
 * - Different headers: different tables; --group=exact splits headers that
 *   differ at all; header-less files group by column count; empty files are
 *   in no table.  Table names come from the common part of the file names,
 *   else the directory.
 * - SQL: one CREATE TABLE per table and a COPY per file into it (with a
 *   column list for a file lacking columns); the sqlite script loads into
 *   the sqlite3 shell with the right rows and NULLs (skipped without
 *   sqlite3).  The table format shows the tables.
 */
#include "csvi_run.h"

#include <stdint.h>

static json_t *run_json(const char *dir, const char *const *args)
{
    struct rt_run r;
    rt_run(dir, dir, args, &r);
    cr_assert_lt(r.status, 2, "exit %d: %s", r.status, r.err);
    json_t *doc = rt_parse("output", r.out, r.out_len);
    rt_run_free(&r);
    return doc;
}

static json_t *group_json(const char *dir, const char *mode, const char *path)
{
    const char *args[] = {"--format", "json", "--no-ledger", "--no-cache", mode, path, NULL};
    return run_json(dir, args);
}

static json_t *table_named(json_t *doc, const char *name)
{
    json_t *t = rt_find(json_object_get(doc, "tables"), "name", name);
    if (!t)
        rt_dump("document", doc);
    cr_assert_not_null(t, "no table %s", name);
    return t;
}

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }
static long long num(json_t *o, const char *key) { return json_integer_value(json_object_get(o, key)); }
static bool flag(json_t *o, const char *key) { return json_is_true(json_object_get(o, key)); }

Test(group, equal_and_agreeing_headers_form_one_table)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "in/sales_2024_01.csv", "id,amount,day\n1,10,2024-01-02\n2,20,2024-01-03\n");
    rt_write_text(dir, "in/sales_2024_02.csv", "id,amount,day\n3,2.5,2024-02-01\n");
    rt_write_text(dir, "in/sales_2024_03.csv",
                  "id,amount,day,note\n4,40000,2024-03-01 10:00:00,late\n5,,2024-03-02,\n");
    rt_write_text(dir, "in/sales_2024_04.csv", "id,day\n6,2024-04-01\n"); /* no amount */
    rt_write_text(dir, "in/people.csv", "name,born\nann,1990-01-02\n");
    rt_write_text(dir, "in/zero.csv", "");
    json_t *doc = group_json(dir, "--group", "in");
    json_t *tables = json_object_get(doc, "tables");
    cr_assert_eq(json_array_size(tables), 2, "two tables");
    json_t *t = table_named(doc, "sales"); /* sales_2024_0: digits and separators go */
    json_t *files = json_object_get(t, "files");
    cr_assert_eq(json_array_size(files), 4);
    for (int i = 0; i < 4; i++) { /* in the order of the run */
        char want[64];
        snprintf(want, sizeof want, "in/sales_2024_0%d.csv", i + 1);
        cr_assert_str_eq(json_string_value(json_array_get(files, (size_t)i)), want);
    }
    cr_assert_eq(num(t, "rows"), 6);
    json_t *cols = json_object_get(t, "columns");
    cr_assert_eq(json_array_size(cols), 4, "the longest header: id, amount, day, note");
    const char *order[] = {"id", "amount", "day", "note"};
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(str(json_array_get(cols, (size_t)i), "name"), order[i]);
    json_t *id = rt_column(t, "id");
    cr_assert_str_eq(str(id, "type"), "integer");
    cr_assert_eq(num(id, "min"), 1);
    cr_assert_eq(num(id, "max"), 6);
    cr_assert(!flag(id, "nullable"));
    cr_assert_eq(num(id, "count"), 6);
    json_t *amount = rt_column(t, "amount"); /* integer + decimal; 5 has a null; 04 lacks it */
    cr_assert_str_eq(str(amount, "type"), "decimal");
    cr_assert_str_eq(str(amount, "sql_type"), "NUMERIC(6,1)");
    cr_assert(flag(amount, "nullable"));
    cr_assert_eq(num(amount, "null_count"), 2, "one empty value + one row of the file without it");
    cr_assert_eq(num(amount, "count"), 6);
    json_t *day = rt_column(t, "day"); /* date + timestamp */
    cr_assert_str_eq(str(day, "type"), "timestamp");
    cr_assert(!flag(day, "nullable"));
    json_t *note = rt_column(t, "note"); /* only in 03 */
    cr_assert_str_eq(str(note, "type"), "text");
    cr_assert(flag(note, "nullable"));
    cr_assert_eq(num(note, "null_count"), 5, "1 empty + 4 rows of files without it");
    json_t *people = table_named(doc, "people");
    cr_assert_eq(json_array_size(json_object_get(people, "files")), 1);
    /* the empty file is in no table, and the files list is unchanged */
    cr_assert_eq(json_array_size(json_object_get(doc, "files")), 6);
    json_decref(doc);
    rt_rm_tree(dir);
    free(dir);
}

Test(group, widening_and_narrow_files)
{
    char *dir = rt_tmpdir();
    /* same header everywhere: each column's files differ in type */
    rt_write_text(dir, "t/a.csv", "small,wide,txt,onlynull,flag,ts\n1,1,1,,true,2024-01-02T10:00:00\n");
    rt_write_text(dir, "t/b.csv",
                  "small,wide,txt,onlynull,flag,ts\n-2,3000000000,x,,false,2024-01-02T10:00:00Z\n");
    rt_write_text(dir, "t/c.csv", "small,wide,txt,onlynull,flag,ts\n3,7,2,,,2024-01-03T11:00:00+02:00\n");
    json_t *doc = group_json(dir, "--group", "t");
    cr_assert_eq(json_array_size(json_object_get(doc, "tables")), 1);
    json_t *t = json_array_get(json_object_get(doc, "tables"), 0);
    cr_assert_str_eq(str(t, "name"), "t", "no common name part: the directory");
    cr_assert_str_eq(str(rt_column(t, "small"), "sql_type"), "SMALLINT");
    cr_assert_str_eq(str(rt_column(t, "wide"), "sql_type"), "BIGINT");
    cr_assert_str_eq(str(rt_column(t, "txt"), "type"), "text");
    cr_assert_str_eq(str(rt_column(t, "onlynull"), "type"), "null");
    cr_assert(flag(rt_column(t, "onlynull"), "nullable"));
    cr_assert_str_eq(str(rt_column(t, "flag"), "type"), "boolean");
    cr_assert(flag(rt_column(t, "flag"), "nullable"));
    cr_assert_str_eq(str(rt_column(t, "ts"), "type"), "timestamptz");
    json_decref(doc);
    rt_rm_tree(dir);
    free(dir);
}

/* ---- the table is the verdict of all its rows in one file --------------- */

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const pool[][8] = {
    {"1", "-7", "32767", "40000", "0", "12", "", "NA"},                          /* integers */
    {"1.5", "-0.25", "3", "123456.789", ".5", "", "7", "2"},                     /* decimals */
    {"2024-01-02", "1999-12-31", "2024-02-29", "", "2020-06-30", "2001-01-01", "2024-01-02 10:00", "1970-01-01"},
    {"03/04/2024", "12/01/2023", "01/02/2003", "", "04/05/2006", "07/08/2009", "11/12/2013", "13/01/2024"},
    {"abc", "12", "x y", "", "é", "7", "NULL", "z"},                              /* text */
    {"true", "f", "yes", "N", "", "T", "no", "1"},                                /* bool, or not */
};
#define NCOLS 6

static void append(char **buf, size_t *n, size_t *cap, const char *s)
{
    rt_append(buf, n, cap, s, strlen(s));
}

/* Random rows of NCOLS columns; pools are skewed so columns often keep a type. */
static void random_rows(char **buf, size_t *n, size_t *cap, int rows, int skew)
{
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < NCOLS; c++) {
            int k = (int)(rnd() % 8);
            if ((int)(rnd() % 100) < skew)
                k %= 3; /* mostly the first, typed values */
            append(buf, n, cap, c ? "," : "");
            append(buf, n, cap, pool[c][k]);
        }
        append(buf, n, cap, "\n");
    }
}

/* Columns of a table and of a file: equal but for tables' empty examples. */
static void expect_same_columns(json_t *table, json_t *file, int round)
{
    json_t *tc = json_object_get(table, "columns"), *fc = json_object_get(file, "columns");
    cr_assert_eq(json_array_size(tc), json_array_size(fc));
    for (size_t i = 0; i < json_array_size(tc); i++) {
        json_t *a = json_deep_copy(json_array_get(tc, i)), *b = json_deep_copy(json_array_get(fc, i));
        json_t *ea = json_object_get(a, "exceptions"), *eb = json_object_get(b, "exceptions");
        if (ea && eb) { /* a table lists no example lines: they belong to several files */
            cr_assert_eq(json_array_size(json_object_get(ea, "first")), 0);
            json_object_del(ea, "first");
            json_object_del(eb, "first");
        }
        if (!json_equal(a, b)) {
            rt_dump("table column", a);
            rt_dump("one-file column", b);
            cr_assert(false, "round %d: column %zu differs", round, i);
        }
        json_decref(a);
        json_decref(b);
    }
}

Test(group, table_equals_one_file_of_all_rows, .timeout = 120)
{
    char *dir = rt_tmpdir();
    const char *header = "i,d,date,dmy,t,b\n";
    for (int round = 0; round < 24; round++) {
        bool tolerant = round % 3 == 2;
        char sub[32];
        snprintf(sub, sizeof sub, "r%02d", round);
        char *all = NULL;
        size_t an = 0, acap = 0;
        append(&all, &an, &acap, header);
        int nfiles = 2 + (int)(rnd() % 5);
        for (int f = 0; f < nfiles; f++) {
            char *buf = NULL;
            size_t n = 0, cap = 0;
            append(&buf, &n, &cap, header);
            size_t start = n;
            random_rows(&buf, &n, &cap, 1 + (int)(rnd() % 30), round % 2 ? 95 : 60);
            append(&all, &an, &acap, buf + start);
            char rel[64];
            snprintf(rel, sizeof rel, "%s/part-%d.csv", sub, f);
            rt_write(dir, rel, buf, n);
            free(buf);
        }
        char rel[64];
        snprintf(rel, sizeof rel, "%s-all.csv", sub);
        rt_write(dir, rel, all, an);
        free(all);
        const char *args[] = {"--format", "json", "--no-ledger", "--no-cache", "--group", "--header",
                              tolerant ? "--threshold" : sub, tolerant ? "0.8" : rel,
                              tolerant ? sub : NULL, tolerant ? rel : NULL, NULL};
        json_t *doc = run_json(dir, args);
        json_t *tables = json_object_get(doc, "tables");
        json_t *files = json_object_get(doc, "files");
        json_t *whole = json_array_get(files, json_array_size(files) - 1);
        cr_assert_str_eq(str(whole, "path"), rel);
        /* the parts form one table with the all-rows file (same header) */
        cr_assert_eq(json_array_size(tables), 1, "round %d: one table", round);
        json_t *t = json_array_get(tables, 0);
        cr_assert_eq(json_array_size(json_object_get(t, "files")), (size_t)nfiles + 1);
        /* the table counts the all-rows file too: compare with twice its rows */
        cr_assert_eq(num(t, "rows"), 2 * num(whole, "rows"));
        json_decref(doc);
        /* without the all-rows file the table must be exactly its verdict */
        const char *args2[] = {"--format", "json", "--no-ledger", "--no-cache", "--group", "--header",
                               tolerant ? "--threshold" : sub, tolerant ? "0.8" : NULL,
                               tolerant ? sub : NULL, NULL};
        const char *args3[] = {"--format", "json", "--no-ledger", "--no-cache", "--header",
                               tolerant ? "--threshold" : rel, tolerant ? "0.8" : NULL,
                               tolerant ? rel : NULL, NULL};
        json_t *parts = run_json(dir, args2), *one = run_json(dir, args3);
        json_t *pt = json_array_get(json_object_get(parts, "tables"), 0);
        json_t *of = json_array_get(json_object_get(one, "files"), 0);
        cr_assert_eq(num(pt, "rows"), num(of, "rows"));
        expect_same_columns(pt, of, round);
        json_decref(parts);
        json_decref(one);
    }
    rt_rm_tree(dir);
    free(dir);
}

Test(group, exact_mode_headerless_files_and_names)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "x/orders/2024-01.csv", "id,total\n1,2\n");
    rt_write_text(dir, "x/orders/2024-02.csv", "id,total,tax\n2,3,0.5\n");
    rt_write_text(dir, "x/raw/a.txt", "1,2,3\n4,5,6\n");
    rt_write_text(dir, "x/raw/b.txt", "7,8,9\n");
    rt_write_text(dir, "x/raw/c.txt", "7,8\n");
    json_t *doc = group_json(dir, "--group", "x/orders");
    cr_assert_eq(json_array_size(json_object_get(doc, "tables")), 1);
    cr_assert_str_eq(str(json_array_get(json_object_get(doc, "tables"), 0), "name"), "orders",
                     "date-named files: the directory's name");
    json_decref(doc);
    doc = group_json(dir, "--group=exact", "x/orders");
    json_t *tables = json_object_get(doc, "tables");
    cr_assert_eq(json_array_size(tables), 2, "exact: the added column splits");
    cr_assert_str_eq(str(json_array_get(tables, 0), "name"), "2024-01");
    cr_assert_str_eq(str(json_array_get(tables, 1), "name"), "2024-02");
    json_decref(doc);
    /* header-less files: by column count, never with a file that has a header */
    const char *args[] = {"--format", "json", "--no-ledger", "--no-cache", "--no-header", "--group",
                          "x/raw", NULL};
    doc = run_json(dir, args);
    tables = json_object_get(doc, "tables");
    cr_assert_eq(json_array_size(tables), 2);
    json_t *three = json_array_get(tables, 0);
    cr_assert_eq(json_array_size(json_object_get(three, "files")), 2);
    cr_assert_eq(num(three, "rows"), 3);
    cr_assert_eq(json_array_size(json_object_get(three, "columns")), 3);
    cr_assert_str_eq(str(json_array_get(tables, 1), "name"), "c");
    json_decref(doc);
    /* two groups wanting one name get _2 */
    rt_write_text(dir, "y/a/part-1.csv", "k\n1\n");
    rt_write_text(dir, "y/b/part-1.csv", "m,n\n1,2\n");
    doc = group_json(dir, "--group", "y");
    tables = json_object_get(doc, "tables");
    cr_assert_eq(json_array_size(tables), 2);
    cr_assert_str_eq(str(json_array_get(tables, 0), "name"), "part-1");
    cr_assert_str_eq(str(json_array_get(tables, 1), "name"), "part-1_2");
    json_decref(doc);
    rt_rm_tree(dir);
    free(dir);
}

Test(group, groups_that_come_to_agree_are_merged)
{
    char *dir = rt_tmpdir();
    /* [a,b] and [a,c] disagree; [a,b,c] agrees with both: one table */
    rt_write_text(dir, "m/1.csv", "a,b\n1,2\n");
    rt_write_text(dir, "m/2.csv", "a,c\n3,4\n");
    rt_write_text(dir, "m/3.csv", "a,b,c\n5,6,7\n");
    rt_write_text(dir, "m/4.csv", "c,a\n8,9\n"); /* reordered: another table */
    json_t *doc = group_json(dir, "--group", "m");
    json_t *tables = json_object_get(doc, "tables");
    cr_assert_eq(json_array_size(tables), 2);
    json_t *t = json_array_get(tables, 0);
    cr_assert_eq(json_array_size(json_object_get(t, "files")), 3);
    cr_assert_eq(num(rt_column(t, "b"), "null_count"), 1);
    cr_assert_eq(num(rt_column(t, "c"), "null_count"), 1);
    cr_assert_eq(num(rt_column(t, "a"), "null_count"), 0);
    json_decref(doc);
    rt_rm_tree(dir);
    free(dir);
}

Test(group, sql_and_table_outputs)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "s/ev_1.csv", "id,kind,at\n1,a,2024-01-02\n2,,2024-01-03\n");
    rt_write_text(dir, "s/ev_2.csv", "id,at\n3,2024-01-04\n");
    rt_write_text(dir, "s/ev_3.csv", "id,kind,at,extra\n4,b,2024-01-05,9\n");
    struct rt_run r;
    rt_runv(dir, dir, &r, "--format", "sql", "--no-ledger", "--no-cache", "--group", "s", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    size_t creates = 0;
    for (const char *p = r.out; (p = strstr(p, "CREATE TABLE")) != NULL; p++)
        creates++;
    cr_assert_eq(creates, 1, "one CREATE TABLE for the table:\n%s", r.out);
    cr_assert_not_null(strstr(r.out, "CREATE TABLE ev (\n    id SMALLINT NOT NULL,\n    kind TEXT,\n"
                                     "    at DATE NOT NULL,\n    extra SMALLINT\n);"),
                       "%s", r.out);
    cr_assert_not_null(strstr(r.out, "COPY ev (id, kind, at) FROM '"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "COPY ev (id, at) FROM '"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "COPY ev FROM '"), "a file with all columns: %s", r.out);
    rt_run_free(&r);
    rt_runv(dir, dir, &r, "--format", "table", "--no-ledger", "--no-cache", "--group", "s", NULL);
    cr_assert_eq(r.status, 0);
    cr_assert_not_null(strstr(r.out, "table ev: 3 files, 4 rows"), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "3 files in 1 table"), "%s", r.out);
    rt_run_free(&r);
    /* SQLite: the script loads, into one table, with NULLs where a file lacked a column */
    if (system("command -v sqlite3 > /dev/null 2>&1") == 0) {
        rt_runv(dir, dir, &r, "--format", "sql", "--sql-dialect", "sqlite", "--no-ledger",
                "--no-cache", "--group", "-o", "load.sql", "s", NULL);
        cr_assert_eq(r.status, 0, "%s", r.err);
        rt_run_free(&r);
        char *cmd = NULL;
        cr_assert(asprintf(&cmd,
                           "cd %s && sqlite3 t.db < load.sql && sqlite3 t.db \"SELECT count(*), "
                           "count(kind), count(extra), sum(id) FROM ev\" > got.txt 2>&1",
                           dir) >= 0);
        cr_assert_eq(system(cmd), 0, "sqlite3 failed");
        free(cmd);
        char *p = rt_path(dir, "got.txt");
        char *got = rt_read(p, NULL);
        cr_assert_str_eq(got, "4|2|1|10\n");
        free(got);
        free(p);
    }
    rt_run_free(&r);
    rt_rm_tree(dir);
    free(dir);
}

Test(group, bad_mode_is_a_usage_error)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "a.csv", "x\n1\n");
    struct rt_run r;
    rt_runv(dir, dir, &r, "--group=fuzzy", "--no-ledger", "a.csv", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert_not_null(strstr(r.err, "--group"));
    rt_run_free(&r);
    rt_rm_tree(dir);
    free(dir);
}
