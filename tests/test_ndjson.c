/*
 * test_ndjson.c — --format ndjson (docs/cli.md "NDJSON"): one line per file,
 * each the JSON format's file object, written as soon as that file is done.
 *
 * - Over the whole tests/data corpus (with and without a ledger, with and
 *   without --mergeable) every line parses alone and equals the "files"
 *   entry of --format json for its path; the paths are the same.
 * - With a FIFO as the second PATH (a file that is slow to come), the first
 *   file's line can be read from stdout — and from -o FILE, written in place
 *   — while csvinfer still waits for the FIFO; the run then ends normally.
 * - --group: the file lines, then one {"table": ...} line per table, equal to
 *   the JSON format's "tables" entries.
 * - SIGTERM while waiting: exit 130, and the lines of the files finished stay.
 */
#include "csvi_run.h"

#include <signal.h>
#include <time.h>

#ifndef CSVI_TEST_DATA_DIR
#error "CSVI_TEST_DATA_DIR must be defined: absolute path of tests/data"
#endif

/* Split NDJSON text into parsed lines (a JSON array of them). */
static json_t *parse_lines(const char *s, size_t n)
{
    json_t *lines = json_array();
    size_t i = 0, lineno = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        cr_assert_not_null(nl, "the last line is not ended: %.200s", s + i);
        lineno++;
        char what[64];
        snprintf(what, sizeof what, "line %zu", lineno);
        json_t *obj = rt_parse(what, s + i, (size_t)(nl - (s + i)));
        cr_assert(json_is_object(obj), "line %zu is not an object", lineno);
        json_array_append_new(lines, obj);
        i = (size_t)(nl - s) + 1;
    }
    return lines;
}

/* Every line equals the JSON document's file object of its path. */
static void expect_lines_equal_files(const char *label, json_t *lines, json_t *doc)
{
    json_t *files = json_object_get(doc, "files");
    cr_assert_eq(json_array_size(lines), json_array_size(files), "%s: %zu lines, %zu files", label,
                 json_array_size(lines), json_array_size(files));
    size_t i;
    json_t *line;
    json_array_foreach(lines, i, line) {
        const char *path = json_string_value(json_object_get(line, "path"));
        cr_assert_not_null(path, "%s: line %zu has no path", label, i + 1);
        json_t *f = rt_find(files, "path", path);
        cr_assert_not_null(f, "%s: %s is not in the JSON", label, path);
        if (!json_equal(line, f)) {
            rt_dump("ndjson line", line);
            rt_dump("json file", f);
            cr_assert(false, "%s: the line of %s differs from its JSON object", label, path);
        }
    }
}

Test(ndjson, lines_equal_the_json_file_objects)
{
    /* always --no-cache: files of equal bytes hit each other's slices within a
     * run, as timing has it, so "cache.hits" would differ between two runs */
    static const char *const variants[][3] = {
        {"--no-ledger", "--no-cache", NULL},
        {"--no-ledger", "--mergeable", "--no-cache"}, /* with the state */
        {"--no-cache", NULL, NULL},                   /* a ledger: the drift fields */
        {"--threads", "1", "--no-cache"},             /* the sequential engine */
    };
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        const char *args[12];
        size_t n = 0;
        args[n++] = "--format";
        args[n++] = "json";
        for (int k = 0; k < 3 && variants[v][k]; k++)
            args[n++] = variants[v][k];
        if (v == 3)
            args[n++] = "--no-ledger";
        args[n++] = ".";
        args[n] = NULL;
        struct rt_run rj, rn;
        char *h1 = rt_tmpdir(), *h2 = rt_tmpdir(); /* fresh ledgers: no drift between them */
        rt_run(CSVI_TEST_DATA_DIR, h1, args, &rj);
        args[1] = "ndjson";
        rt_run(CSVI_TEST_DATA_DIR, h2, args, &rn);
        rt_rm_tree(h1);
        rt_rm_tree(h2);
        free(h1);
        free(h2);
        cr_assert_eq(rj.status, rn.status, "exit %d (json) vs %d (ndjson)", rj.status, rn.status);
        json_t *doc = rt_parse("json", rj.out, rj.out_len);
        json_t *lines = parse_lines(rn.out, rn.out_len);
        cr_assert_geq(json_array_size(lines), 30, "the corpus has more files");
        expect_lines_equal_files(variants[v][0], lines, doc);
        if (v == 1) {
            json_t *first = json_array_get(lines, 0);
            cr_assert(json_is_string(json_object_get(first, "state")), "--mergeable: a state");
        } else {
            cr_assert_null(json_object_get(json_array_get(lines, 0), "state"));
        }
        json_decref(doc);
        json_decref(lines);
        rt_run_free(&rj);
        rt_run_free(&rn);
    }
}

/* Read from fd until a whole first line is there (or timeout_ms); returns it
 * (caller frees) or NULL. */
static char *read_first_line(int fd, int timeout_ms)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (buf && memchr(buf, '\n', n))
            return buf;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= timeout_ms)
            break;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, (int)(timeout_ms - ms)) <= 0)
            continue;
        char chunk[4096];
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got <= 0)
            break;
        rt_append(&buf, &n, &cap, chunk, (size_t)got);
    }
    free(buf);
    return NULL;
}

/* The first line of a growing file once it is a file object, waiting up to
 * timeout_ms. */
static char *file_first_line(const char *path, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        char *s = rt_read(path, NULL);
        if (s && s[0] == '{' && strchr(s, '\n'))
            return s;
        free(s);
        usleep(20000);
    }
    return NULL;
}

static const char first_csv[] = "id,name,when\n1,a,2024-01-02\n2,b,2024-01-03\n";
static const char fifo_csv[] = "x,y\n1.5,t\n2,f\n";

/* Feed the FIFO (opening it unblocks csvinfer's open). */
static void feed_fifo(const char *fifo)
{
    int fd = open(fifo, O_WRONLY);
    cr_assert_geq(fd, 0, "open %s: %s", fifo, strerror(errno));
    cr_assert_eq(write(fd, fifo_csv, strlen(fifo_csv)), (ssize_t)strlen(fifo_csv));
    close(fd);
}

Test(ndjson, first_line_comes_before_the_run_ends)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "first.csv", first_csv);
    char *fifo = rt_path(dir, "slow.csv");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *args[] = {"--format", "ndjson", "--no-ledger", "--no-cache", "first.csv",
                          "slow.csv", NULL};
    int fd;
    pid_t pid = rt_spawn(dir, dir, args, &fd, NULL);
    char *line = read_first_line(fd, 20000);
    cr_assert_not_null(line, "no line while the second file was still to come");
    /* csvinfer is still running: it waits for the FIFO's writer */
    cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "csvinfer ended before the FIFO was fed");
    char *nl = strchr(line, '\n');
    json_t *obj = rt_parse("first line", line, (size_t)(nl - line));
    cr_assert_str_eq(json_string_value(json_object_get(obj, "path")), "first.csv");
    cr_assert_eq(json_integer_value(json_object_get(obj, "rows")), 2);
    json_decref(obj);
    feed_fifo(fifo);
    /* the rest: the FIFO's line */
    char *rest = NULL;
    size_t n = 0, cap = 0;
    rt_append(&rest, &n, &cap, nl + 1, strlen(nl + 1));
    char chunk[4096];
    ssize_t got;
    while ((got = read(fd, chunk, sizeof chunk)) > 0)
        rt_append(&rest, &n, &cap, chunk, (size_t)got);
    close(fd);
    cr_assert_eq(rt_wait(pid), 0);
    json_t *lines = parse_lines(rest, n);
    cr_assert_eq(json_array_size(lines), 1);
    json_t *second = json_array_get(lines, 0);
    cr_assert_str_eq(json_string_value(json_object_get(second, "path")), "slow.csv");
    cr_assert_str_eq(json_string_value(json_object_get(rt_column(second, "x"), "type")), "decimal");
    json_decref(lines);
    free(rest);
    free(line);
    free(fifo);
    rt_rm_tree(dir);
    free(dir);
}

Test(ndjson, output_file_is_written_in_place_as_it_grows)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "first.csv", first_csv);
    char *fifo = rt_path(dir, "slow.csv");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    char *out = rt_path(dir, "out.ndjson");
    rt_write_text(dir, "out.ndjson", "old content that must go\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n");
    const char *args[] = {"--format", "ndjson", "--no-ledger", "--no-cache", "-o", "out.ndjson",
                          "first.csv", "slow.csv", NULL};
    int fd;
    pid_t pid = rt_spawn(dir, dir, args, &fd, NULL);
    char *text = file_first_line(out, 20000);
    cr_assert_not_null(text, "-o: no line in the file while the second file was to come");
    cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "csvinfer ended before the FIFO was fed");
    cr_assert(strncmp(text, "{\"path\": \"first.csv\"", 20) == 0, "the file: %.200s", text);
    free(text);
    feed_fifo(fifo);
    cr_assert_eq(rt_wait(pid), 0);
    close(fd);
    size_t n;
    text = rt_read(out, &n);
    json_t *lines = parse_lines(text, n);
    cr_assert_eq(json_array_size(lines), 2, "two lines, the old content gone: %s", text);
    json_decref(lines);
    free(text);
    /* nothing else was left beside it (no temporary) */
    char *listing = NULL;
    cr_assert(asprintf(&listing, "ls %s | grep -c tmp > /dev/null", dir) >= 0);
    cr_assert_neq(system(listing), 0, "a temporary file was left in %s", dir);
    free(listing);
    free(out);
    free(fifo);
    rt_rm_tree(dir);
    free(dir);
}

Test(ndjson, sigterm_keeps_the_finished_lines)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "first.csv", first_csv);
    char *fifo = rt_path(dir, "slow.csv");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *args[] = {"--format", "ndjson", "--no-cache", "-o", "out.ndjson", "first.csv",
                          "slow.csv", NULL};
    int fd;
    pid_t pid = rt_spawn(dir, dir, args, &fd, NULL);
    char *out = rt_path(dir, "out.ndjson");
    char *text = file_first_line(out, 20000);
    cr_assert_not_null(text);
    free(text);
    kill(pid, SIGTERM);
    /* the open of the FIFO may not see the signal: a writer that closes at once
     * lets the read end, and the run sees the interruption */
    int wfd = open(fifo, O_WRONLY | O_NONBLOCK);
    if (wfd >= 0)
        close(wfd);
    int st = rt_wait(pid);
    close(fd);
    cr_assert_eq(st, 130, "exit %d", st);
    size_t n;
    text = rt_read(out, &n);
    json_t *lines = parse_lines(text, n);
    cr_assert_geq(json_array_size(lines), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(lines, 0), "path")),
                     "first.csv");
    json_decref(lines);
    free(text);
    free(out);
    free(fifo);
    rt_rm_tree(dir);
    free(dir);
}

Test(ndjson, group_adds_table_lines_at_the_end)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "d/sales_01.csv", "id,amount\n1,2\n2,3\n");
    rt_write_text(dir, "d/sales_02.csv", "id,amount,note\n3,4.5,x\n");
    rt_write_text(dir, "d/people.csv", "name,born\nann,1990-01-02\n");
    struct rt_run rj, rn;
    rt_runv(dir, dir, &rj, "--format", "json", "--no-ledger", "--no-cache", "--group", "d", NULL);
    rt_runv(dir, dir, &rn, "--format", "ndjson", "--no-ledger", "--no-cache", "--group", "d", NULL);
    cr_assert_eq(rj.status, 0);
    cr_assert_eq(rn.status, 0);
    json_t *doc = rt_parse("json", rj.out, rj.out_len);
    json_t *lines = parse_lines(rn.out, rn.out_len);
    json_t *files = json_object_get(doc, "files"), *tables = json_object_get(doc, "tables");
    cr_assert_eq(json_array_size(tables), 2);
    cr_assert_eq(json_array_size(lines), json_array_size(files) + json_array_size(tables));
    for (size_t i = 0; i < json_array_size(lines); i++) {
        json_t *line = json_array_get(lines, i);
        if (i < json_array_size(files)) {
            cr_assert(json_equal(line, json_array_get(files, i)), "file line %zu", i + 1);
        } else {
            json_t *t = json_object_get(line, "table");
            cr_assert(json_is_object(t), "line %zu: a table line", i + 1);
            cr_assert(json_equal(t, json_array_get(tables, i - json_array_size(files))),
                      "table line %zu", i + 1);
        }
    }
    json_decref(doc);
    json_decref(lines);
    rt_run_free(&rj);
    rt_run_free(&rn);
    rt_rm_tree(dir);
    free(dir);
}
