/*
 * test_sql_script.c — what csvinfer's SQL script holds beside the schema
 * (docs/cli.md "SQL"), where a mistake fails or silently changes a load:
 *
 * - identifiers made from file and column names: PostgreSQL keeps 63 bytes
 *   of a name, so csvinfer cuts longer ones (leaving room for a _NN suffix)
 *   at a character boundary — cut inside one, the script is not UTF-8 and
 *   psql rejects it (with ON_ERROR_STOP, every load after it too);
 * - nulls COPY cannot map: it takes one NULL string, so a text column whose
 *   nulls are written another way than the typed columns' loads them as
 *   strings; the script says so in a note.
 *
 * scripts/pg-test.sh loads such scripts in a real server.
 */
#include "csvi_run.h"

/* The name in the script's first `CREATE TABLE NAME (` or `CREATE TABLE "NAME" (`
 * (a copy; caller frees). */
static char *created_table(const char *sql)
{
    const char *at = strstr(sql, "CREATE TABLE ");
    cr_assert_not_null(at, "no CREATE TABLE in:\n%s", sql);
    at += strlen("CREATE TABLE ");
    bool quoted = *at == '"';
    at += quoted;
    const char *end = quoted ? strchr(at, '"') : strstr(at, " (");
    cr_assert_not_null(end);
    return strndup(at, (size_t)(end - at));
}

/* Is s[0, n) valid UTF-8 (no cut or stray byte)? */
static bool utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = p[i] < 0x80 ? 1 : (p[i] & 0xE0) == 0xC0 ? 2 : (p[i] & 0xF0) == 0xE0 ? 3
                 : (p[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

static char *repeat(const char *unit, size_t times)
{
    size_t u = strlen(unit);
    char *s = malloc(u * times + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * u, unit, u);
    s[u * times] = '\0';
    return s;
}

Test(sql_script, a_long_file_name_is_cut_before_a_character_not_inside_it, .timeout = 60)
{
    char *dir = rt_tmpdir();
    char *a58 = repeat("a", 58), *b58 = repeat("b", 58);
    char name[128], text[256];
    snprintf(name, sizeof name, "%s\xc3\xa9.csv", a58); /* 58 + 2 bytes: the cut (59) falls in é */
    snprintf(text, sizeof text, "id,%s\xc3\xa9\n1,x\n", b58);
    rt_write_text(dir, name, text);
    static const char *const dialects[] = {"postgres", "duckdb"};
    for (size_t d = 0; d < 2; d++) {
        struct rt_run r;
        rt_runv(dir, dir, &r, "--format", "sql", "--sql-dialect", dialects[d], "--no-cache",
                "--no-ledger", name, NULL);
        cr_assert_eq(r.status, 0, "%s: %s", dialects[d], r.err);
        cr_expect(utf8_ok(r.out, r.out_len), "%s: the script is not UTF-8:\n%s", dialects[d], r.out);
        char *t = created_table(r.out);
        cr_expect_str_eq(t, a58, "%s: table name", dialects[d]);
        char col[80];
        snprintf(col, sizeof col, " %s %s NOT NULL\n", b58, d ? "VARCHAR" : "TEXT");
        cr_expect_not_null(strstr(r.out, col), "%s: the column, cut before é:\n%s", dialects[d], r.out);
        free(t);
        rt_run_free(&r);
    }
    free(a58);
    free(b58);
    rt_rm_tree(dir);
    free(dir);
}

Test(sql_script, a_long_group_table_name_is_cut_before_a_character, .timeout = 60)
{
    char *dir = rt_tmpdir();
    char *u35 = repeat("\xc3\xbc", 35); /* ü × 35: 70 bytes */
    char n1[128], n2[128];
    snprintf(n1, sizeof n1, "%s_01.csv", u35);
    snprintf(n2, sizeof n2, "%s_02.csv", u35);
    rt_write_text(dir, n1, "id,v\n1,a\n");
    rt_write_text(dir, n2, "id,v\n2,b\n");
    struct rt_run r;
    rt_runv(dir, dir, &r, "--group", "--format", "sql", "--no-cache", "--no-ledger", ".", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(utf8_ok(r.out, r.out_len), "the script is not UTF-8:\n%s", r.out);
    char *t = created_table(r.out);
    cr_expect_leq(strlen(t), 59, "%zu bytes: %s", strlen(t), t);
    cr_expect_gt(strlen(t), 50, "cut too short: %s", t);
    cr_expect(utf8_ok(t, strlen(t)) && strncmp(t, u35, strlen(t)) == 0, "table %s", t);
    free(t);
    rt_run_free(&r);
    free(u35);
    rt_rm_tree(dir);
    free(dir);
}

Test(sql_script, text_nulls_written_another_way_get_a_note, .timeout = 60)
{
    char *dir = rt_tmpdir();
    /* n (typed) writes NULL; t writes the empty field, u the token NA */
    rt_write_text(dir, "a.csv", "id,n,t,u\n1,5,a,x\n2,NULL,,x\n3,7,c,NA\n");
    /* one spelling everywhere: no note */
    rt_write_text(dir, "b.csv", "id,n,t\n1,5,a\n2,,\n3,7,c\n");
    struct rt_run r;
    rt_runv(dir, dir, &r, "--format", "sql", "--no-cache", "--no-ledger", "a.csv", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "-- note: text columns t, u have nulls written empty, NA; "
                                     "COPY takes one NULL string, here 'NULL', so they load as "
                                     "strings ('' or the token itself), not as NULL\n"),
                       "%s", r.out);
    cr_expect_not_null(strstr(r.out, "NULL 'NULL'"), "%s", r.out);
    rt_run_free(&r);
    rt_runv(dir, dir, &r, "--format", "sql", "--no-cache", "--no-ledger", "b.csv", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_null(strstr(r.out, "-- note: text column"), "%s", r.out);
    rt_run_free(&r);
    rt_rm_tree(dir);
    free(dir);
}
