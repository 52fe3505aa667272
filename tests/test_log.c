/*
 * test_log.c — CSVINFER_LOG (docs/cli.md "Logging"): the lines on stderr that
 * cron users grep and that performance work reads.
 *
 * - info: one `component=file` line per file, with its path, status, rows and
 *   column types; nothing on stderr without the variable.
 * - debug: the pipeline's `thread cpu` line — the CPU milliseconds of the
 *   splitter, the read helper, each worker and the merger — once per run of
 *   the parallel engine, with one number per worker; the sequential engine
 *   (--threads 1 --no-cache) has no such line.
 */
#include "csvi_run.h"

/* A file of several 64 KiB chunks (so the splitter, the helper and both
 * workers all get work) in dir/name. */
static void write_numbers(const char *dir, const char *name, int rows)
{
    char *path = rt_path(dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("id,amount,day\n", f);
    for (int i = 1; i <= rows; i++)
        fprintf(f, "%d,%d.%02d,2024-01-%02d\n", i, i % 997, i % 100, i % 28 + 1);
    fclose(f);
    free(path);
}

/* The stderr line holding `needle` (a copy, caller frees), or NULL. */
static char *line_with(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    if (!at)
        return NULL;
    const char *start = at;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(at, '\n');
    return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* The value of key=... in a line, as a number (-1 if missing). */
static double field(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *at = strstr(line, pat);
    return at ? strtod(at + strlen(pat), NULL) : -1;
}

Test(log, info_is_one_line_per_file_and_nothing_without_it, .timeout = 60)
{
    char *dir = rt_tmpdir();
    write_numbers(dir, "a.csv", 50);
    write_numbers(dir, "b.csv", 7);
    struct rt_run r;
    unsetenv("CSVINFER_LOG");
    rt_runv(dir, dir, &r, "--format", "json", "a.csv", "b.csv", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(r.err_len, 0, "stderr without CSVINFER_LOG: %s", r.err);
    rt_run_free(&r);

    setenv("CSVINFER_LOG", "info", 1);
    rt_runv(dir, dir, &r, "--format", "json", "a.csv", "b.csv", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *a = line_with(r.err, "path=\"a.csv\"");
    char *b = line_with(r.err, "path=\"b.csv\"");
    cr_assert_not_null(a, "no line for a.csv in: %s", r.err);
    cr_assert_not_null(b, "no line for b.csv in: %s", r.err);
    cr_expect(strstr(a, "level=info component=file ") == a, "%s", a);
    cr_expect_eq(field(a, "rows"), 50, "%s", a);
    cr_expect_eq(field(b, "rows"), 7, "%s", b);
    cr_expect_not_null(strstr(a, " status=done "), "%s", a);
    cr_expect_not_null(strstr(a, " types=integer:1,decimal:1,date:1 "), "%s", a);
    cr_expect_null(strstr(r.err, "level=debug"), "debug lines under info: %s", r.err);
    free(a);
    free(b);
    rt_run_free(&r);
    unsetenv("CSVINFER_LOG");
    rt_rm_tree(dir);
    free(dir);
}

Test(log, debug_gives_the_cpu_of_each_pipeline_thread, .timeout = 60)
{
    char *dir = rt_tmpdir();
    write_numbers(dir, "big.csv", 40000); /* ~0.8 MB: 13 chunks of 64 KiB */
    setenv("CSVINFER_LOG", "debug", 1);
    struct rt_run r;
    rt_runv(dir, dir, &r, "--threads", "2", "--chunk-size", "64K", "--no-cache", "--format",
            "json", "big.csv", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *line = line_with(r.err, "msg=\"thread cpu\"");
    cr_assert_not_null(line, "no thread cpu line in: %s", r.err);
    cr_expect(strstr(line, "level=debug component=pipeline ") == line, "%s", line);
    cr_expect_geq(field(line, "splitter_ms"), 0, "%s", line);
    cr_expect_geq(field(line, "helper_ms"), 0, "%s", line);
    cr_expect_geq(field(line, "merger_ms"), 0, "%s", line);
    const char *w = strstr(line, " workers_ms=");
    cr_assert_not_null(w, "%s", line);
    char *end;
    double w1 = strtod(w + 12, &end);
    cr_assert_eq(*end, ',', "two workers, two numbers: %s", line);
    double w2 = strtod(end + 1, &end);
    cr_expect(*end == ' ', "two workers, two numbers: %s", line);
    /* the workers inferred 1 MB: their time is measured, not left at zero */
    cr_expect_gt(w1 + w2, 0, "%s", line);
    const char *once = strstr(r.err, "msg=\"thread cpu\"");
    cr_expect_null(strstr(once + 1, "msg=\"thread cpu\""), "one line a run: %s", r.err);
    free(line);
    rt_run_free(&r);

    /* the sequential engine has no pipeline threads to report */
    rt_runv(dir, dir, &r, "--threads", "1", "--no-cache", "--format", "json", "big.csv", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_null(strstr(r.err, "msg=\"thread cpu\""), "%s", r.err);
    rt_run_free(&r);
    unsetenv("CSVINFER_LOG");
    rt_rm_tree(dir);
    free(dir);
}
