/*
 * test_cli.c — end-to-end tests of the csvinfer binary (Criterion + jansson).
 *
 * For every case NAME in tests/data (NAME.csv or NAME.tsv, NAME.expected.json,
 * optional NAME.args with one argv element per line, optional NAME.exit) it runs
 *     csvinfer --format json [args] NAME.<ext>
 * with tests/data as the working directory, and compares the JSON on stdout with
 * NAME.expected.json after dropping "summary.seconds" and blanking every error
 * "message" in both (key order never matters: jansson compares objects as sets),
 * and the exit status with NAME.exit (0 if absent).  All cases run; every mismatch
 * is reported (both documents printed) before the test fails.
 * Also: a path that does not exist gives exit 1 and a "not_found" error, and
 * `-o FILE` writes the same JSON that stdout gets.
 *
 * Each run gets fresh XDG_CACHE_HOME / XDG_STATE_HOME folders, so the verdict
 * cache and the ledger start empty ("hits": 0) and the user's are not touched.
 * Built by CMake with CSVI_BIN_PATH (absolute path of the binary) and
 * CSVI_TEST_DATA_DIR (absolute path of tests/data) defined.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#define _GNU_SOURCE       /* asprintf */

#include <criterion/criterion.h>
#include <jansson.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CSVI_BIN_PATH
#error "CSVI_BIN_PATH must be defined: absolute path of the csvinfer binary"
#endif
#ifndef CSVI_TEST_DATA_DIR
#error "CSVI_TEST_DATA_DIR must be defined: absolute path of tests/data"
#endif

extern char **environ;

#define EXPECTED_SUFFIX ".expected.json"
#define MAX_EXTRA_ARGS 64

/* ---- small helpers -------------------------------------------------------- */

struct strlist {
    char **v;
    size_t n, cap;
};

static void strlist_push(struct strlist *l, char *s /* owned by the list */)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        cr_assert_not_null(l->v, "out of memory");
    }
    l->v[l->n++] = s;
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    cr_assert_not_null(d, "out of memory");
    return d;
}

static char *path_join(const char *dir, const char *name) /* caller frees */
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    cr_assert_not_null(p, "out of memory");
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Whole file into a NUL-terminated buffer; NULL if it cannot be read.  Caller frees. */
static char *read_file(const char *path, size_t *len /* OUT, may be NULL */)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf, "out of memory");
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf, "out of memory");
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- running the binary --------------------------------------------------- */

struct run_result {
    char *out;   /* stdout, NUL-terminated; caller frees */
    size_t len;
    int status;  /* exit status; 128 + signal number if killed */
    int signal;  /* signal that killed it, 0 if it exited */
};

/*
 * Run `csvinfer --format json ARGS...` in cwd with fresh cache and state
 * folders; capture stdout (stderr passes through, stdin is /dev/null).
 */
static void run_cli(const char *cwd, const char *const *args, size_t nargs,
                    struct run_result *r /* OUT */)
{
    char tmpl[] = "/tmp/csvi-test-XXXXXX";
    char *home = mkdtemp(tmpl);
    cr_assert_not_null(home, "mkdtemp: %s", strerror(errno));

    char cache_env[128], state_env[128];
    snprintf(cache_env, sizeof cache_env, "XDG_CACHE_HOME=%s/cache", home);
    snprintf(state_env, sizeof state_env, "XDG_STATE_HOME=%s/state", home);

    /* Build argv and envp before fork: the child only calls async-signal-safe functions. */
    const char **argv = calloc(nargs + 4, sizeof *argv);
    cr_assert_not_null(argv, "out of memory");
    size_t k = 0;
    argv[k++] = CSVI_BIN_PATH;
    argv[k++] = "--format";
    argv[k++] = "json";
    for (size_t i = 0; i < nargs; i++)
        argv[k++] = args[i];
    argv[k] = NULL;

    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 3, sizeof *envp);
    cr_assert_not_null(envp, "out of memory");
    size_t e = 0;
    for (size_t i = 0; i < nenv; i++) {
        if (strncmp(environ[i], "XDG_CACHE_HOME=", 15) == 0 ||
            strncmp(environ[i], "XDG_STATE_HOME=", 15) == 0)
            continue;
        envp[e++] = environ[i];
    }
    envp[e++] = cache_env;
    envp[e++] = state_env;
    envp[e] = NULL;

    int pfd[2];
    cr_assert_eq(pipe(pfd), 0, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(pfd[0]);
        if (chdir(cwd) != 0)
            _exit(126);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            close(devnull);
        }
        if (dup2(pfd[1], STDOUT_FILENO) < 0)
            _exit(126);
        close(pfd[1]);
        execve(CSVI_BIN_PATH, (char *const *)argv, envp);
        _exit(127);
    }
    close(pfd[1]);

    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf, "out of memory");
    for (;;) {
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf, "out of memory");
        }
        ssize_t got = read(pfd[0], buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(pfd[0]);
    buf[n] = '\0';

    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
        ;
    r->out = buf;
    r->len = n;
    if (WIFEXITED(wst)) {
        r->status = WEXITSTATUS(wst);
        r->signal = 0;
    } else {
        r->signal = WIFSIGNALED(wst) ? WTERMSIG(wst) : -1;
        r->status = 128 + (r->signal > 0 ? r->signal : 0);
    }

    rm_tree(home);
    free(argv);
    free(envp);
}

/* ---- JSON ------------------------------------------------------------------ */

/* Drop summary.seconds and blank every files[].errors[].message. */
static void normalize(json_t *doc)
{
    if (!json_is_object(doc))
        return;
    json_t *summary = json_object_get(doc, "summary");
    if (json_is_object(summary))
        json_object_del(summary, "seconds");
    json_t *files = json_object_get(doc, "files");
    size_t i, j;
    json_t *file, *err;
    json_array_foreach(files, i, file) {
        /* each run has a fresh ledger (fresh XDG_STATE_HOME), so there is never drift: the
         * empty fields go, and a drift that appears anyway makes the comparison fail */
        if (json_is_null(json_object_get(file, "drift_since")))
            json_object_del(file, "drift_since");
        json_t *drift = json_object_get(file, "drift");
        if (json_is_array(drift) && json_array_size(drift) == 0)
            json_object_del(file, "drift");
        json_t *errors = json_object_get(file, "errors");
        json_array_foreach(errors, j, err) {
            if (json_is_object(err) && json_object_get(err, "message"))
                json_object_set_new(err, "message", json_string(""));
        }
    }
}

static void dump(const char *label, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    fprintf(stderr, "---- %s ----\n%s\n", label, s ? s : "(cannot dump)");
    free(s);
}

/* Parse a run's stdout; NULL (and a message on stderr) if it is not JSON. */
static json_t *parse_output(const char *what, const struct run_result *r)
{
    json_error_t jerr;
    json_t *doc = json_loadb(r->out, r->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        fprintf(stderr, "%s: stdout is not JSON (line %d: %s); it was:\n%.4000s\n", what,
                jerr.line, jerr.text, r->out);
    return doc;
}

/* ---- the corpus ---------------------------------------------------------- */

/* Names of the entries of dir, sorted. */
static void list_dir(const char *dir, struct strlist *out /* OUT */)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s: %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        strlist_push(out, xstrdup(de->d_name));
    }
    closedir(d);
    qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

/*
 * The data file of case `name`: the one entry "name.EXT" whose EXT has no dot
 * and is not "args" or "exit".  NULL if there is none or more than one.
 */
static const char *find_data_file(const struct strlist *entries, const char *name)
{
    size_t ln = strlen(name);
    const char *found = NULL;
    for (size_t i = 0; i < entries->n; i++) {
        const char *e = entries->v[i];
        if (strncmp(e, name, ln) != 0 || e[ln] != '.')
            continue;
        const char *ext = e + ln + 1;
        if (*ext == '\0' || strchr(ext, '.') || strcmp(ext, "args") == 0 ||
            strcmp(ext, "exit") == 0)
            continue;
        if (found)
            return NULL;
        found = e;
    }
    return found;
}

/* NAME.args: one argv element per line; empty lines and a trailing CR are ignored. */
static void read_args(const char *dir, const char *name, struct strlist *args /* OUT */)
{
    char fname[512];
    snprintf(fname, sizeof fname, "%s.args", name);
    char *path = path_join(dir, fname);
    char *text = read_file(path, NULL);
    free(path);
    if (!text)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (l)
            strlist_push(args, xstrdup(line));
    }
    free(text);
}

/* NAME.exit: the expected exit status; 0 if the file is absent. */
static int read_exit(const char *dir, const char *name)
{
    char fname[512];
    snprintf(fname, sizeof fname, "%s.exit", name);
    char *path = path_join(dir, fname);
    char *text = read_file(path, NULL);
    free(path);
    if (!text)
        return 0;
    int v = atoi(text);
    free(text);
    return v;
}

/* Run one case; report every problem with cr_expect; true if it passed. */
static bool run_case(const struct strlist *entries, const char *name)
{
    const char *dir = CSVI_TEST_DATA_DIR;
    const char *data = find_data_file(entries, name);
    cr_expect_not_null(data, "%s: no single data file %s.<ext> next to %s" EXPECTED_SUFFIX,
                       name, name, name);
    if (!data)
        return false;

    char fname[512];
    snprintf(fname, sizeof fname, "%s" EXPECTED_SUFFIX, name);
    char *exp_path = path_join(dir, fname);
    json_error_t jerr;
    json_t *expected = json_load_file(exp_path, JSON_REJECT_DUPLICATES, &jerr);
    cr_expect_not_null(expected, "%s: cannot parse %s: line %d: %s", name, exp_path, jerr.line,
                       jerr.text);
    free(exp_path);
    if (!expected)
        return false;

    struct strlist args = {0};
    read_args(dir, name, &args);
    cr_expect(args.n < MAX_EXTRA_ARGS, "%s: too many arguments in %s.args", name, name);
    const char *argv[MAX_EXTRA_ARGS + 1];
    size_t n = 0;
    for (; n < args.n && n < MAX_EXTRA_ARGS; n++)
        argv[n] = args.v[n];
    argv[n++] = data;

    struct run_result r;
    run_cli(dir, argv, n, &r);
    int want_exit = read_exit(dir, name);
    bool ok = true;

    if (r.signal != 0) {
        cr_expect(false, "%s: csvinfer was killed by signal %d", name, r.signal);
        ok = false;
    } else if (r.status != want_exit) {
        cr_expect(false, "%s: exit status %d, expected %d", name, r.status, want_exit);
        ok = false;
    }

    json_t *actual = parse_output(name, &r);
    if (!actual) {
        cr_expect(false, "%s: output is not JSON", name);
        ok = false;
    } else {
        normalize(actual);
        normalize(expected);
        if (!json_equal(actual, expected)) {
            fprintf(stderr, "==== %s: JSON differs ====\n", name);
            dump("expected", expected);
            dump("actual", actual);
            cr_expect(false, "%s: JSON output differs from %s" EXPECTED_SUFFIX, name, name);
            ok = false;
        }
        json_decref(actual);
    }
    json_decref(expected);
    free(r.out);
    strlist_free(&args);
    return ok;
}

Test(cli, corpus, .timeout = 300)
{
    struct strlist entries = {0};
    list_dir(CSVI_TEST_DATA_DIR, &entries);

    size_t cases = 0, failed = 0;
    for (size_t i = 0; i < entries.n; i++) {
        const char *e = entries.v[i];
        if (!ends_with(e, EXPECTED_SUFFIX))
            continue;
        size_t ln = strlen(e) - strlen(EXPECTED_SUFFIX);
        char name[256];
        cr_assert_lt(ln, sizeof name, "case name too long: %s", e);
        memcpy(name, e, ln);
        name[ln] = '\0';
        cases++;
        if (!run_case(&entries, name))
            failed++;
    }
    if (failed)
        fprintf(stderr, "corpus: %zu of %zu cases failed\n", failed, cases);
    cr_expect_gt(cases, 0, "no *" EXPECTED_SUFFIX " found in " CSVI_TEST_DATA_DIR);
    strlist_free(&entries);
}

/* ---- other CLI behaviour ---------------------------------------------------- */

Test(cli, missing_path_is_not_found, .timeout = 60)
{
    const char *argv[] = {"no-such-file.csv"};
    struct run_result r;
    run_cli(CSVI_TEST_DATA_DIR, argv, 1, &r);
    cr_expect_eq(r.status, 1, "exit status %d for a missing path, expected 1", r.status);

    json_t *doc = parse_output("missing path", &r);
    cr_assert_not_null(doc, "no JSON for a missing path");
    bool found = false;
    size_t i, j;
    json_t *file, *err;
    json_array_foreach(json_object_get(doc, "files"), i, file) {
        json_array_foreach(json_object_get(file, "errors"), j, err) {
            const char *kind = json_string_value(json_object_get(err, "kind"));
            if (kind && strcmp(kind, "not_found") == 0)
                found = true;
        }
    }
    if (!found)
        dump("actual", doc);
    cr_expect(found, "no error of kind \"not_found\" for a missing path");
    json_decref(doc);
    free(r.out);
}

/* --max-record is at most 1 GiB (PostgreSQL's limit for a field and a COPY
 * line; the engine's per-record offsets are 32 bits): more is a usage error. */
Test(cli, max_record_above_1g_is_a_usage_error, .timeout = 60)
{
    const char *big[] = {"--max-record", "2G", "crlf.csv"};
    struct run_result r;
    run_cli(CSVI_TEST_DATA_DIR, big, 3, &r);
    cr_expect_eq(r.status, 2, "exit status %d for --max-record 2G, expected 2 (usage)", r.status);
    free(r.out);
    const char *ok[] = {"--max-record", "1G", "crlf.csv"};
    run_cli(CSVI_TEST_DATA_DIR, ok, 3, &r);
    cr_expect_eq(r.status, 0, "exit status %d for --max-record 1G, expected 0", r.status);
    free(r.out);
    /* so is --chunk-size (a pool of chunks is allocated: 100G ran out of memory) */
    const char *chunk[] = {"--chunk-size", "100G", "crlf.csv"};
    run_cli(CSVI_TEST_DATA_DIR, chunk, 3, &r);
    cr_expect_eq(r.status, 2, "exit status %d for --chunk-size 100G, expected 2 (usage)", r.status);
    free(r.out);
}

Test(cli, output_file_gets_the_same_json, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-out-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *out_path = path_join(dir, "out.json");

    const char *with_o[] = {"-o", out_path, "types.csv"};
    struct run_result r1;
    run_cli(CSVI_TEST_DATA_DIR, with_o, 3, &r1);
    cr_expect_eq(r1.status, 0, "exit status %d with -o, expected 0", r1.status);

    json_error_t jerr;
    json_t *from_file = json_load_file(out_path, JSON_REJECT_DUPLICATES, &jerr);
    cr_expect_not_null(from_file, "-o %s: no JSON in the file (line %d: %s)", out_path, jerr.line,
                       jerr.text);

    const char *plain[] = {"types.csv"};
    struct run_result r2;
    run_cli(CSVI_TEST_DATA_DIR, plain, 1, &r2);
    json_t *from_stdout = parse_output("types.csv on stdout", &r2);
    cr_expect_not_null(from_stdout, "no JSON on stdout");

    if (from_file && from_stdout) {
        normalize(from_file);
        normalize(from_stdout);
        if (!json_equal(from_file, from_stdout)) {
            dump("written with -o", from_file);
            dump("printed on stdout", from_stdout);
            cr_expect(false, "-o FILE does not hold the JSON printed on stdout");
        }
    }
    json_decref(from_file);
    json_decref(from_stdout);
    free(r1.out);
    free(r2.out);
    free(out_path);
    rm_tree(dir);
}

/* -o onto a symlink writes the file it points to and keeps the link (the
 * temporary was renamed over the link); an existing output keeps its mode. */
Test(cli, output_through_a_symlink_keeps_the_link_and_the_mode, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-link-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *real = path_join(dir, "real.json"), *link = path_join(dir, "link.json");
    FILE *f = fopen(real, "w");
    cr_assert_not_null(f);
    fputs("old\n", f);
    fclose(f);
    cr_assert_eq(chmod(real, 0600), 0);
    cr_assert_eq(symlink("real.json", link), 0);
    const char *args[] = {"-o", link, "types.csv"};
    struct run_result r;
    run_cli(CSVI_TEST_DATA_DIR, args, 3, &r);
    cr_expect_eq(r.status, 0, "exit status %d", r.status);
    struct stat lb, rb;
    cr_assert_eq(lstat(link, &lb), 0);
    cr_expect(S_ISLNK(lb.st_mode), "the symlink was replaced by a regular file");
    cr_assert_eq(stat(real, &rb), 0);
    cr_expect_eq(rb.st_mode & 0777, 0600, "mode %o, expected 600", (unsigned)(rb.st_mode & 0777));
    json_error_t jerr;
    json_t *doc = json_load_file(real, 0, &jerr);
    cr_expect_not_null(doc, "the link's target does not hold the output: %s", jerr.text);
    json_decref(doc);
    free(r.out);
    free(real);
    free(link);
    rm_tree(dir);
}

/* -o onto something that is not a regular file (a FIFO here, /dev/null in real
 * use) must write into it, never rename a temporary file over it: an earlier
 * build replaced /dev/null with a regular file when run as root. */
Test(cli, output_to_a_fifo_writes_into_it_and_keeps_it, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-fifo-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *fifo = path_join(dir, "out.fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t reader = fork();
    cr_assert_neq(reader, -1);
    if (reader == 0) { /* read the FIFO to its end and send the bytes back */
        close(pipefd[0]);
        int fd = open(fifo, O_RDONLY);
        char b[4096];
        ssize_t k;
        while (fd >= 0 && (k = read(fd, b, sizeof b)) > 0)
            if (write(pipefd[1], b, (size_t)k) != k)
                _exit(1);
        _exit(0);
    }
    close(pipefd[1]);
    const char *args[] = {"-o", fifo, "types.csv"};
    struct run_result r;
    run_cli(CSVI_TEST_DATA_DIR, args, 3, &r);
    cr_expect_eq(r.status, 0, "exit status %d with -o FIFO, expected 0", r.status);
    char got[65536];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof got - 1 && (k = read(pipefd[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)k;
    got[n] = '\0';
    close(pipefd[0]);
    waitpid(reader, NULL, 0);
    struct stat sb;
    cr_expect_eq(lstat(fifo, &sb), 0);
    cr_expect(S_ISFIFO(sb.st_mode), "-o FIFO replaced the FIFO with another kind of file");
    json_error_t jerr;
    json_t *doc = json_loads(got, 0, &jerr);
    cr_expect_not_null(doc, "the FIFO did not receive the JSON (%zu bytes read)", n);
    json_decref(doc);
    free(r.out);
    free(fifo);
    rm_tree(dir);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char *p = path_join(dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "create %s: %s", p, strerror(errno));
    fputs(text, f);
    fclose(f);
    free(p);
}

/* A directory: files in sorted order (subdirectories where they sort), the
 * default globs, --exclude, a FIFO skipped with a note, a symlink loop
 * reported and not followed; the same with one thread and with two. */
Test(cli, directory_walk_order_globs_fifo_and_loop, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-walk-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *sub = path_join(dir, "sub");
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_text(dir, "b.csv", "x,y\n1,2\n");
    write_text(dir, "a.csv", "x,y\n3,4\n");
    write_text(dir, "z_excluded.csv", "x,y\n5,6\n");
    write_text(sub, "c.tsv", "p\tq\n7\t8\n");
    write_text(sub, "skip.dat", "not,matched\n1,2\n");
    write_text(dir, "D.CSV", "x,y\n0,1\n"); /* Windows/SAP exports: globs ignore case */
    write_text(sub, "E.Tsv", "p\tq\n9\t9\n");
    write_text(dir, "Z_UPPER.CSV", "x,y\n5,6\n"); /* --exclude z_* ignores case too */
    char *fifo = path_join(dir, "fifo.csv");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    char *loop = path_join(sub, "loop");
    cr_assert_eq(symlink("..", loop), 0);

    static const char *const expect_path[] = {"tree/D.CSV",     "tree/a.csv",     "tree/b.csv",
                                              "tree/fifo.csv",  "tree/sub/E.Tsv", "tree/sub/c.tsv",
                                              "tree/sub/loop"};
    static const char *const expect_kind[] = {NULL, NULL, NULL, "not_regular", NULL, NULL,
                                              "walk_failed"};
    json_t *first = NULL;
    for (int threads = 1; threads <= 2; threads++) {
        char targ[8];
        snprintf(targ, sizeof targ, "%d", threads);
        const char *args[] = {"--threads", targ, "--exclude", "z_*", "tree"};
        /* "tree" is a symlink to the temp dir, made in a private cwd */
        char ctmpl[] = "/tmp/csvi-walkcwd-XXXXXX";
        char *cwd = mkdtemp(ctmpl);
        char *tl = path_join(cwd, "tree");
        cr_assert_eq(symlink(dir, tl), 0);
        struct run_result r;
        run_cli(cwd, args, 5, &r);
        cr_expect_eq(r.status, 1, "exit %d with a FIFO and a loop in the tree, expected 1", r.status);
        json_t *doc = parse_output("directory walk", &r);
        cr_assert_not_null(doc);
        json_t *files = json_object_get(doc, "files");
        cr_assert_eq(json_array_size(files), 7, "%zu files listed, expected 7",
                     json_array_size(files));
        for (size_t i = 0; i < 7; i++) {
            json_t *f = json_array_get(files, i);
            const char *path = json_string_value(json_object_get(f, "path"));
            cr_expect_str_eq(path, expect_path[i], "file %zu", i);
            json_t *errs = json_object_get(f, "errors");
            if (expect_kind[i]) {
                cr_expect_eq(json_array_size(errs), 1, "%s: one error", path);
                cr_expect_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "kind")),
                                 expect_kind[i], "%s", path);
            } else {
                cr_expect_eq(json_array_size(errs), 0, "%s: no error", path);
                cr_expect_eq(json_integer_value(json_object_get(f, "rows")), 1, "%s: rows", path);
            }
        }
        normalize(doc);
        json_t *fs = json_object_get(doc, "files");
        for (size_t i = 0; i < json_array_size(fs); i++)
            json_object_del(json_array_get(fs, i), "cache");
        if (!first)
            first = doc;
        else {
            cr_expect(json_equal(first, doc), "--threads 2 differs from --threads 1 on a directory");
            json_decref(doc);
        }
        free(r.out);
        unlink(tl);
        free(tl);
        rmdir(cwd);
    }
    json_decref(first);
    unlink(loop);
    unlink(fifo);
    free(loop);
    free(fifo);
    free(sub);
    rm_tree(dir);
}

/* --include replaces the default globs (several allowed) and --exclude takes
 * files out; both still hold while the files are read (the engine keeps its
 * own copies: the CLI's arrays are freed after the engine is made — reading
 * them afterwards crashed every --include run over a directory). */
Test(cli, include_and_exclude_globs_pick_the_files, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-globs-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *sub = path_join(dir, "sub");
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_text(dir, "a.csv", "x,y\n3,4\n");
    write_text(dir, "b.csv", "x,y\n1,2\n");
    write_text(dir, "z_b.dat", "x,y\n5,6\n");
    write_text(sub, "c.tsv", "p\tq\n7\t8\n");
    write_text(sub, "d.dat", "not,matched\n1,2\n");
    /* hidden entries: skipped by `*` patterns, as a shell skips them (a
     * macOS AppleDouble file is binary: read, it would make the run exit 1) */
    write_text(dir, "._b.dat", "\x05\x16\x07\xff\xfe\x01\n");
    char *git = path_join(dir, ".git");
    cr_assert_eq(mkdir(git, 0700), 0);
    char *empty = path_join(dir, "empty"); /* (its walk once sorted a NULL array: UBSan) */
    cr_assert_eq(mkdir(empty, 0700), 0);
    free(empty);
    write_text(git, "e.dat", "x,y\n9,9\n");
    static const char *const expect[] = {"b.csv", "sub/d.dat"};
    for (int threads = 1; threads <= 2; threads++) {
        char targ[8];
        snprintf(targ, sizeof targ, "%d", threads);
        const char *args[] = {"--threads", targ, "--include", "*.dat", "--include", "b*",
                              "--exclude", "z_*", dir};
        struct run_result r;
        run_cli(dir, args, 9, &r);
        cr_expect_eq(r.status, 0, "exit %d (%d threads)", r.status, threads);
        json_t *doc = parse_output("--include/--exclude", &r);
        cr_assert_not_null(doc);
        json_t *files = json_object_get(doc, "files");
        cr_assert_eq(json_array_size(files), 2, "%zu files listed, expected 2 (%d threads)",
                     json_array_size(files), threads);
        for (size_t i = 0; i < 2; i++) {
            char *want = path_join(dir, expect[i]);
            cr_expect_str_eq(json_string_value(json_object_get(json_array_get(files, i), "path")),
                             want, "file %zu (%d threads)", i, threads);
            free(want);
        }
        json_decref(doc);
        free(r.out);
    }
    /* a pattern's own leading '.' matches them; a hidden directory is still
     * not entered (name it to read it) */
    const char *args[] = {"--include", ".*.dat", dir};
    struct run_result r;
    run_cli(dir, args, 3, &r);
    json_t *doc = parse_output("--include .*.dat", &r);
    cr_assert_not_null(doc);
    json_t *files = json_object_get(doc, "files");
    cr_assert_eq(json_array_size(files), 1, "%zu files listed, expected ._b.dat alone",
                 json_array_size(files));
    char *want = path_join(dir, "._b.dat");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "path")), want);
    free(want);
    json_decref(doc);
    free(r.out);
    const char *args2[] = {"--include", "*.dat", git};
    run_cli(dir, args2, 3, &r);
    cr_expect_eq(r.status, 0, "a hidden directory named on the command line: exit %d", r.status);
    doc = parse_output("a hidden directory named", &r);
    cr_assert_not_null(doc);
    cr_expect_eq(json_array_size(json_object_get(doc, "files")), 1);
    json_decref(doc);
    free(r.out);
    free(git);
    free(sub);
    rm_tree(dir);
}

/* Header names a loader can use: a latin-1 file's names decoded as latin-1
 * (not U+FFFD), a NUL byte in a name U+FFFD (it used to end the name, or
 * leave it empty: an invalid SQL identifier); distinct names stay distinct. */
Test(cli, header_names_of_latin1_and_nul_bytes, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-names-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    static const struct {
        const char *text;
        size_t len;
        const char *names[3];
    } cases[] = {
        {"caf\xe9,b\n1,2\n", 11, {"caf\xc3\xa9", "b", NULL}},
        {"id,\0name,na\0me\n1,2,3\n", 21, {"id", "\xEF\xBF\xBDname", "na\xEF\xBF\xBDme"}},
        {"\0,\0\n1,2\n", 8, {"\xEF\xBF\xBD", "\xEF\xBF\xBD_2", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *path = path_join(dir, "h.csv");
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(cases[i].text, 1, cases[i].len, f), cases[i].len);
        fclose(f);
        free(path);
        const char *args[] = {"--header", "h.csv"};
        struct run_result r;
        run_cli(dir, args, 2, &r);
        json_t *doc = parse_output("header names", &r);
        cr_assert_not_null(doc);
        json_t *cols = json_object_get(json_array_get(json_object_get(doc, "files"), 0), "columns");
        for (size_t k = 0; k < 3 && cases[i].names[k]; k++)
            cr_expect_str_eq(json_string_value(json_object_get(json_array_get(cols, k), "name")),
                             cases[i].names[k], "case %zu, column %zu", i, k + 1);
        json_decref(doc);
        free(r.out);
    }
    rm_tree(dir);
}

/* csvinfer --sample-rows n FILE in dir: rows and the type of column col. */
static void expect_sample(const char *dir, const char *file, const char *n, long long rows,
                          size_t col, const char *type)
{
    const char *args[] = {"--sample-rows", n, file};
    struct run_result r;
    run_cli(dir, args, 3, &r);
    cr_expect(r.status == 0 || r.status == 1, "%s --sample-rows %s: exit %d", file, n, r.status);
    json_t *doc = parse_output("--sample-rows", &r);
    cr_assert_not_null(doc);
    json_t *f = json_array_get(json_object_get(doc, "files"), 0);
    cr_expect_eq(json_integer_value(json_object_get(f, "rows")), rows,
                 "%s --sample-rows %s: %lld rows, expected %lld", file, n,
                 json_integer_value(json_object_get(f, "rows")), rows);
    json_t *c = json_array_get(json_object_get(f, "columns"), col);
    cr_expect_str_eq(json_string_value(json_object_get(c, "type")), type,
                     "%s --sample-rows %s: column %zu", file, n, col + 1);
    json_decref(doc);
    free(r.out);
}

/* --sample-rows N reads the first N data rows, not whatever the read
 * buffer held: 100,000 rows whose column v turns from integers to text at
 * row 50,001 (far inside the first 256 KiB), with a quoted two-line field
 * in the first rows; and a file read whole by the first read (its end seen
 * at once), with a ragged row and a blank line among the rows. */
Test(cli, sample_rows_reads_exactly_n_rows, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-sample-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *path = path_join(dir, "s.csv");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("id,v,note\n", f);
    for (int i = 1; i <= 100000; i++) {
        if (i <= 50000)
            fprintf(f, "%d,%d,%s\n", i, i * 7, i == 2 ? "\"two\nlines\"" : "n");
        else
            fprintf(f, "%d,x%d,n\n", i, i);
    }
    fclose(f);
    free(path);
    expect_sample(dir, "s.csv", "1", 1, 1, "integer");
    expect_sample(dir, "s.csv", "2", 2, 1, "integer");
    expect_sample(dir, "s.csv", "3", 3, 1, "integer");
    expect_sample(dir, "s.csv", "50000", 50000, 1, "integer");
    expect_sample(dir, "s.csv", "50001", 50001, 1, "text");
    expect_sample(dir, "s.csv", "0", 100000, 1, "text");
    expect_sample(dir, "s.csv", "200000", 100000, 1, "text");
    write_text(dir, "small.csv", "a,b\n1,2\n3\n\n4,5\n6,x\n");
    expect_sample(dir, "small.csv", "1", 1, 1, "integer");
    expect_sample(dir, "small.csv", "2", 2, 1, "integer");
    expect_sample(dir, "small.csv", "3", 3, 1, "integer");
    expect_sample(dir, "small.csv", "4", 4, 1, "text");
    expect_sample(dir, "small.csv", "5", 4, 1, "text");
    rm_tree(dir);
}

/* Flags that make no sense alone are usage errors that say what to add:
 * --delimiter '"' while '"' may still be the quote, --lock-wait without
 * --lock; '"' as the delimiter works with another quote. */
Test(cli, incomplete_flag_combinations_are_usage_errors, .timeout = 60)
{
    struct run_result r;
    const char *dq[] = {"--delimiter", "\"", "crlf.csv"};
    run_cli(CSVI_TEST_DATA_DIR, dq, 3, &r);
    cr_expect_eq(r.status, 2, "--delimiter '\"' alone: exit %d, expected 2", r.status);
    free(r.out);
    const char *lw[] = {"--lock-wait", "crlf.csv"};
    run_cli(CSVI_TEST_DATA_DIR, lw, 2, &r);
    cr_expect_eq(r.status, 2, "--lock-wait without --lock: exit %d, expected 2", r.status);
    free(r.out);

    char tmpl[] = "/tmp/csvi-dq-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    write_text(dir, "dq.csv", "a\"b\n1\"x\n2\"y\n");
    const char *ok[] = {"--delimiter", "\"", "--quote", "none", "dq.csv"};
    run_cli(dir, ok, 5, &r);
    cr_expect_eq(r.status, 0, "--delimiter '\"' --quote none: exit %d", r.status);
    json_t *doc = parse_output("--delimiter '\"'", &r);
    cr_assert_not_null(doc);
    json_t *file = json_array_get(json_object_get(doc, "files"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(file, "dialect"),
                                                       "delimiter")),
                     "\"");
    cr_expect_eq(json_array_size(json_object_get(file, "columns")), 2);
    cr_expect_eq(json_integer_value(json_object_get(file, "rows")), 2);
    json_decref(doc);
    free(r.out);
    rm_tree(dir);
}

/* --sql-dialect duckdb: its COPY takes one DATEFORMAT and reads only ISO
 * timestamps by itself, so date columns of another format and other
 * timestamps are warned about (they failed to load without a word). */
Test(cli, duckdb_sql_warns_about_formats_its_copy_cannot_read, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-duck-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    write_text(dir, "two.csv",
               "a,b,c,t,u\n2024-01-15,15.01.2024,2024-02-01,13/04/2024 10:00,2024-01-01 10:00:00\n"
               "2024-01-16,16.01.2024,2024-02-02,14/04/2024 11:30,2024-01-02T11:00:00\n");
    const char *duck[] = {"--format", "sql", "--sql-dialect", "duckdb", "two.csv"};
    struct run_result r;
    run_cli(dir, duck, 5, &r);
    cr_expect_eq(r.status, 0, "exit %d", r.status);
    cr_expect(strstr(r.out, "DATEFORMAT '%Y-%m-%d'") != NULL, "no DATEFORMAT: %s", r.out);
    cr_expect(strstr(r.out, "-- warning: column b: DuckDB's COPY takes one DATEFORMAT") != NULL,
              "no warning for column b (%%d.%%m.%%Y): %s", r.out);
    cr_expect(strstr(r.out, "-- warning: column t: DuckDB's COPY reads timestamps") != NULL,
              "no warning for column t (%%d/%%m/%%Y %%H:%%M): %s", r.out);
    cr_expect(strstr(r.out, "column a:") == NULL && strstr(r.out, "column c:") == NULL &&
                  strstr(r.out, "column u:") == NULL,
              "a warning for a column DuckDB reads: %s", r.out);
    free(r.out);
    const char *pg[] = {"--format", "sql", "two.csv"};
    run_cli(dir, pg, 3, &r);
    cr_expect(strstr(r.out, "DuckDB") == NULL, "DuckDB warnings in PostgreSQL SQL: %s", r.out);
    free(r.out);
    rm_tree(dir);
}

/* Inside a big slice the splitter cuts work units at record starts after each
 * 1 MiB mark, from the quote parity of the blocks it counted while reading.
 * A 6 MB file dense with quoted newlines, delimiters and doubled quotes, with
 * chunks of 2-5 MiB (so several units per slice), must give the one-thread
 * verdict. */
Test(cli, work_units_inside_big_slices_keep_the_verdict, .timeout = 120)
{
    char tmpl[] = "/tmp/csvi-units-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    char *path = path_join(dir, "big.csv");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    uint64_t x = 88172645463325252ull;
    fputs("id,note,amount,day\n", f);
    for (int i = 1; ftell(f) < 6 * 1024 * 1024; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        switch (x % 4) {
        case 0: fprintf(f, "%d,\"line one\nline \"\"two\"\", and three\",%d.%02d,2024-01-%02d\n", i,
                        (int)(x % 1000), (int)(x % 100), (int)(x % 28) + 1); break;
        case 1: fprintf(f, "%d,plain,%d,2024-02-%02d\n", i, (int)(x % 50000), (int)(x % 28) + 1); break;
        case 2: fprintf(f, "%d,\"a,b\r\nc\",,2024-03-01\n", i); break;
        default: fprintf(f, "%d,\"\",-%d.5,\n", i, (int)(x % 9)); break;
        }
    }
    fclose(f);
    const char *one[] = {"--threads", "1", "big.csv"};
    struct run_result r1;
    run_cli(dir, one, 3, &r1);
    json_t *ref = parse_output("one thread", &r1);
    cr_assert_not_null(ref);
    normalize(ref);
    json_object_del(json_array_get(json_object_get(ref, "files"), 0), "cache");
    static const char *const chunks[] = {"2M", "3M", "4M", "5M"};
    for (size_t c = 0; c < 4; c++) {
        const char *args[] = {"--threads", c % 2 ? "3" : "2", "--chunk-size", chunks[c],
                              "--io", c % 2 ? "pread" : "auto", "big.csv"};
        struct run_result r;
        run_cli(dir, args, 7, &r);
        json_t *doc = parse_output("work units", &r);
        cr_assert_not_null(doc);
        normalize(doc);
        json_t *file = json_array_get(json_object_get(doc, "files"), 0);
        json_int_t slices = json_integer_value(json_object_get(json_object_get(file, "cache"), "slices"));
        json_object_del(file, "cache");
        cr_expect(json_equal(ref, doc), "--chunk-size %s differs from one thread", chunks[c]);
        cr_expect_gt(slices, 1, "--chunk-size %s: %lld slices", chunks[c], (long long)slices);
        json_decref(doc);
        free(r.out);
    }
    json_decref(ref);
    free(r1.out);
    free(path);
    rm_tree(dir);
}

/* --format frictionless: a Table Schema per file with the spec's required
 * members and types, matching the JSON verdict column by column. */
Test(cli, frictionless_table_schema, .timeout = 60)
{
    static const char *const allowed[] = {"string", "number", "integer", "boolean", "date",
                                          "time", "datetime", "any"};
    const char *fr[] = {"--format", "frictionless", "types.csv", "nulls.csv"};
    struct run_result r;
    run_cli(CSVI_TEST_DATA_DIR, fr, 4, &r);
    json_t *doc = parse_output("frictionless", &r);
    cr_assert_not_null(doc);
    cr_assert(json_is_array(doc) && json_array_size(doc) == 2, "a list of two schemas");
    const char *js[] = {"types.csv", "nulls.csv"};
    struct run_result rj;
    run_cli(CSVI_TEST_DATA_DIR, js, 2, &rj);
    json_t *verdict = parse_output("json", &rj);
    cr_assert_not_null(verdict);
    for (size_t i = 0; i < 2; i++) {
        json_t *entry = json_array_get(doc, i);
        json_t *schema = json_object_get(entry, "schema");
        json_t *fields = json_object_get(schema, "fields");
        json_t *cols = json_object_get(json_array_get(json_object_get(verdict, "files"), i), "columns");
        cr_assert(json_is_string(json_object_get(entry, "path")));
        cr_assert(json_is_array(fields) && json_array_size(fields) == json_array_size(cols),
                  "one field per column");
        json_t *mv = json_object_get(schema, "missingValues");
        cr_assert(json_is_array(mv) && json_array_size(mv) >= 1);
        for (size_t k = 0; k < json_array_size(mv); k++)
            cr_expect(json_is_string(json_array_get(mv, k)), "missingValues are strings");
        for (size_t k = 0; k < json_array_size(fields); k++) {
            json_t *fld = json_array_get(fields, k), *col = json_array_get(cols, k);
            const char *type = json_string_value(json_object_get(fld, "type"));
            cr_assert_not_null(type, "field %zu has a type", k);
            bool ok = false;
            for (size_t a = 0; a < sizeof allowed / sizeof *allowed; a++)
                ok |= strcmp(type, allowed[a]) == 0;
            cr_expect(ok, "field type %s is a Table Schema type", type);
            cr_expect_str_eq(json_string_value(json_object_get(fld, "name")),
                             json_string_value(json_object_get(col, "name")));
            cr_expect(json_is_string(json_object_get(fld, "format")));
            json_t *req = json_object_get(json_object_get(fld, "constraints"), "required");
            cr_expect(json_is_boolean(req));
            cr_expect_eq(json_is_true(req), json_is_false(json_object_get(col, "nullable")),
                         "required = not nullable");
            const char *ct = json_string_value(json_object_get(col, "type"));
            const char *want = !strcmp(ct, "integer") ? "integer"
                               : !strcmp(ct, "decimal") || !strcmp(ct, "double") ? "number"
                               : !strcmp(ct, "timestamp") || !strcmp(ct, "timestamptz") ? "datetime"
                               : !strcmp(ct, "uuid") || !strcmp(ct, "text") ? "string"
                               : !strcmp(ct, "null") ? "any"
                                                     : ct;
            cr_expect_str_eq(type, want, "column %s (%s)",
                             json_string_value(json_object_get(col, "name")), ct);
            if (!strcmp(type, "boolean")) { /* every spelling csvinfer takes, in any case */
                static const char *const yes[] = {"true", "tRuE", "TRUE", "t", "T", "yEs", "Y"},
                                         *const no[] = {"false", "fAlSe", "F", "nO", "NO", "n"};
                json_t *tv = json_object_get(fld, "trueValues"), *fv = json_object_get(fld, "falseValues");
                cr_expect_eq(json_array_size(tv), 28, "trueValues: %zu", json_array_size(tv));
                cr_expect_eq(json_array_size(fv), 40, "falseValues: %zu", json_array_size(fv));
                for (size_t a = 0; a < sizeof yes / sizeof *yes; a++) {
                    bool found = false;
                    for (size_t b = 0; b < json_array_size(tv); b++)
                        found |= !strcmp(json_string_value(json_array_get(tv, b)), yes[a]);
                    cr_expect(found, "trueValues lacks %s", yes[a]);
                }
                for (size_t a = 0; a < sizeof no / sizeof *no; a++) {
                    bool found = false;
                    for (size_t b = 0; b < json_array_size(fv); b++)
                        found |= !strcmp(json_string_value(json_array_get(fv, b)), no[a]);
                    cr_expect(found, "falseValues lacks %s", no[a]);
                }
            }
        }
    }
    json_decref(doc);
    json_decref(verdict);
    free(r.out);
    free(rj.out);
}

/* Run csvinfer ARGS (a shell word list) with --format json, no cache and no
 * ledger; its stdout parsed, its stderr in *err (caller frees). */
static json_t *run_with_stderr(const char *dir, const char *args, char **err, int *status)
{
    char *out_path = path_join(dir, "run.out"), *err_path = path_join(dir, "run.err");
    char *cmd;
    cr_assert(asprintf(&cmd, "'%s' --format json --no-cache --no-ledger %s >'%s' 2>'%s'",
                       CSVI_BIN_PATH, args, out_path, err_path) > 0);
    int rc = system(cmd);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
    *err = read_file(err_path, NULL);
    char *out = read_file(out_path, NULL);
    json_error_t je;
    json_t *doc = out ? json_loads(out, 0, &je) : NULL;
    cr_assert_not_null(doc, "%s: stdout is not JSON: %.2000s", cmd, out ? out : "(none)");
    free(out);
    free(cmd);
    free(out_path);
    free(err_path);
    return doc;
}

/* stderr of `csvinfer ARGS` run with env (e.g. "CSVINFER_LOG=INFO" or ""). */
static char *stderr_of(const char *dir, const char *env, const char *args)
{
    char *err_path = path_join(dir, "noop.err"), *cmd;
    cr_assert(asprintf(&cmd, "%s '%s' --no-cache --no-ledger %s >/dev/null 2>'%s'", env,
                       CSVI_BIN_PATH, args, err_path) > 0);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
    char *err = read_file(err_path, NULL);
    free(cmd);
    free(err_path);
    return err ? err : strdup("");
}

/* Flags that do nothing with the rest of the command line are said on
 * stderr (they were ignored without a word): --sql-dialect without
 * --format sql, --mergeable with a format that has no state, an unknown
 * CSVINFER_LOG level. */
Test(cli, flags_that_do_nothing_here_are_warned_about, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-noop-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    write_text(dir, "f.csv", "a\n1\n");
    char *csv = path_join(dir, "f.csv"), *args;
    cr_assert(asprintf(&args, "--sql-dialect duckdb '%s'", csv) > 0);
    char *err = stderr_of(dir, "", args);
    cr_expect(strstr(err, "--sql-dialect is used by --format sql only"), "%s", err);
    free(err);
    free(args);
    cr_assert(asprintf(&args, "--format sql --sql-dialect duckdb '%s'", csv) > 0);
    err = stderr_of(dir, "", args);
    cr_expect(!strstr(err, "warning"), "with --format sql: %s", err);
    free(err);
    free(args);
    cr_assert(asprintf(&args, "--mergeable --format table '%s'", csv) > 0);
    err = stderr_of(dir, "CSVINFER_LOG=INFO", args);
    cr_expect(strstr(err, "--mergeable adds a \"state\" to the json and ndjson formats only"),
              "%s", err);
    cr_expect(strstr(err, "CSVINFER_LOG=INFO is not a level"), "%s", err);
    free(err);
    free(args);
    free(csv);
    rm_tree(dir);
}

/* A broken symlink met in a walk says what it is and where it points
 * (it was "walk_failed: cannot walk: No such file or directory"). */
Test(cli, a_broken_symlink_in_a_walk_is_named_as_such, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-dang-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    char *link = path_join(dir, "b.csv");
    write_text(dir, "a.csv", "x\n1\n");
    cr_assert_eq(symlink("gone.csv", link), 0);
    char *args, *err;
    int status;
    cr_assert(asprintf(&args, "'%s'", dir) > 0);
    json_t *doc = run_with_stderr(dir, args, &err, &status);
    cr_expect_eq(status, 1, "exit %d", status);
    cr_expect(err && strstr(err, "/b.csv: not_found: broken symlink: it points to gone.csv, "
                                 "which does not exist; skipped") != NULL, "stderr: %s", err);
    json_t *files = json_object_get(doc, "files");
    cr_expect_eq(json_array_size(files), 2);
    json_decref(doc);
    free(err);
    free(args);
    free(link);
    rm_tree(dir);
}

/* A first record longer than --max-record, and an open quote longer than it
 * at the end of the file: the same verdict whatever held them (a buffer
 * of the sequential engine, a small file's one slice, chunks smaller than the
 * record): no dialect for the first; record_too_long, not unterminated_quote,
 * for the second.  Both depended on --chunk-size. */
Test(cli, records_longer_than_max_record_give_one_verdict_at_any_chunk_size, .timeout = 120)
{
    char tmpl[] = "/tmp/csvi-long-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    char *a = path_join(dir, "first.csv"), *b = path_join(dir, "open.csv");
    FILE *f = fopen(a, "w");
    cr_assert_not_null(f);
    fputs("a,", f);
    for (int i = 0; i < 150000; i++)
        fputc('h', f);
    fputs("\n1,2\n", f);
    fclose(f);
    f = fopen(b, "w");
    cr_assert_not_null(f);
    fputs("a,b\n1,\"", f);
    for (int i = 0; i < 100000; i++)
        fputc('h', f);
    fclose(f);
    static const char *const modes[] = {"--threads 1", "--chunk-size 8M", "--chunk-size 16K",
                                        "--chunk-size 100K --threads 3"};
    for (int k = 0; k < 2; k++) {
        json_t *ref = NULL;
        for (size_t m = 0; m < 4; m++) {
            char *args, *err;
            int status;
            cr_assert(asprintf(&args, "--max-record 64K %s '%s'", modes[m], k ? b : a) > 0);
            json_t *doc = run_with_stderr(dir, args, &err, &status);
            cr_expect_eq(status, 1, "%s: exit %d", args, status);
            json_t *file = json_array_get(json_object_get(doc, "files"), 0);
            json_object_del(file, "cache");
            json_t *e0 = json_array_get(json_object_get(file, "errors"), 0);
            cr_expect_str_eq(json_string_value(json_object_get(e0, "kind")), "record_too_long",
                             "%s", args);
            if (k == 0)
                cr_expect(json_is_null(json_object_get(file, "dialect")), "%s: a dialect", args);
            if (!ref)
                ref = json_incref(file);
            else
                cr_expect(json_equal(ref, file), "%s differs from --threads 1", args);
            json_decref(doc);
            free(err);
            free(args);
        }
        json_decref(ref);
    }
    free(a);
    free(b);
    rm_tree(dir);
}

/* A file name with a newline or an escape byte: its stderr line stays one
 * line (cron.md) and no escape sequence reaches the terminal. */
Test(cli, control_bytes_in_a_file_name_are_escaped_on_stderr, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-ctl-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    write_text(dir, "a\nb.csv", "x,y\n1,2,3\n");
    write_text(dir, "e\x1b[31mred.csv", "x,y\n1,2,3\n");
    char *args, *err;
    int status;
    cr_assert(asprintf(&args, "'%s'", dir) > 0);
    json_t *doc = run_with_stderr(dir, args, &err, &status);
    cr_expect_eq(status, 1, "exit %d", status);
    cr_expect(err && strstr(err, "/a\\nb.csv:2: ragged_row: ") != NULL, "stderr: %s", err);
    cr_expect(err && strstr(err, "/e\\x1B[31mred.csv:2: ragged_row: ") != NULL, "stderr: %s", err);
    cr_expect(err && !strchr(err, '\x1b'), "an escape byte reached stderr: %s", err);
    json_decref(doc);
    free(err);
    free(args);
    rm_tree(dir);
}

/* A file whose reading an error ends (an unterminated quote, a record
 * longer than --max-record) after more than CSVI_MAX_ERRORS other errors:
 * that error is still listed, last, and printed on stderr after the count
 * of the others, whatever the slices (chunk sizes, threads): it is why the
 * file's last lines have no rows. */
Test(cli, error_that_ends_a_file_is_listed_past_the_cap, .timeout = 120)
{
    char tmpl[] = "/tmp/csvi-cap-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    static const char *const kinds[] = {"unterminated_quote", "record_too_long"};
    for (int f = 0; f < 2; f++) {
        char *path = path_join(dir, f ? "long.csv" : "open.csv");
        FILE *fp = fopen(path, "w");
        cr_assert_not_null(fp);
        fputs("id,name,amount\n", fp);
        for (int i = 1; i <= 300; i++) /* lines 2..301, every other one ragged: 150 errors */
            fprintf(fp, i % 2 ? "%d,\"n, %d\",%d.5\n" : "%d,\"n\"\n", i, i, i);
        if (f == 0) {
            fputs("301,\"never closed,1.5\n", fp); /* line 302 */
        } else {
            fputs("301,\"", fp);
            for (int i = 0; i < 6000; i++)
                fputc('x', fp);
            fputs("\",1.5\n", fp);
        }
        for (int i = 302; i < 400; i++)
            fprintf(fp, "%d,\"m\",%d\n", i, i);
        fclose(fp);
        static const char *const runs[] = {"--threads 1", "--threads 1 --chunk-size 1000",
                                           "--threads 2 --chunk-size 1000",
                                           "--threads 2 --chunk-size 4096", "--threads 2"};
        for (size_t k = 0; k < sizeof runs / sizeof *runs; k++) {
            char *args, *err;
            int status;
            cr_assert(asprintf(&args, "%s%s '%s'", runs[k], f ? " --max-record 5000" : "",
                               path) > 0);
            json_t *doc = run_with_stderr(dir, args, &err, &status);
            json_t *file = json_array_get(json_object_get(doc, "files"), 0);
            json_t *errors = json_object_get(file, "errors");
            cr_expect_eq(status, 1, "%s: exit %d", args, status);
            cr_expect_eq(json_integer_value(json_object_get(file, "rows")), 300, "%s", args);
            cr_assert_eq(json_array_size(errors), 100, "%s: %zu errors listed", args,
                         json_array_size(errors));
            json_t *last = json_array_get(errors, 99);
            cr_expect_str_eq(json_string_value(json_object_get(last, "kind")), kinds[f],
                             "%s: the last error listed", args);
            cr_expect_eq(json_integer_value(json_object_get(last, "line")), 302, "%s", args);
            cr_expect_eq(json_integer_value(json_object_get(file, "errors_not_listed")), 51,
                         "%s", args); /* 150 ragged + 1, 100 listed */
            json_t *before = json_array_get(errors, 98); /* the first 99 ragged rows */
            cr_expect_eq(json_integer_value(json_object_get(before, "line")), 199, "%s", args);
            char want[64];
            snprintf(want, sizeof want, ":302: %s: ", kinds[f]);
            char *at = err ? strstr(err, want) : NULL;
            cr_expect_not_null(at, "%s: stderr lacks %s:\n%s", args, want, err ? err : "");
            cr_expect(at && strstr(err, "140 more errors") && strstr(err, "140 more errors") < at,
                      "%s: stderr should count the 140 errors not printed before the last: %s",
                      args, err ? err : "");
            json_decref(doc);
            free(err);
            free(args);
        }
        free(path);
    }
    rm_tree(dir);
}

/* UTF-16 and UTF-32 files (Excel's "Unicode Text" export is UTF-16LE with a
 * byte order mark): csvinfer reads UTF-8 or latin-1, so its first error on
 * such a file says what the file is and how to convert it, on both engines;
 * a file with a stray NUL keeps the plain NUL message. */
Test(cli, utf16_files_get_an_error_that_says_to_convert_them, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-utf16-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    static const struct {
        const char *name, *bom;
        size_t bom_len, unit;
        bool big;
        const char *says;
    } cases[] = {
        {"le-bom.txt", "\xFF\xFE", 2, 2, false, "UTF-16LE-encoded (it starts with the byte order mark FF FE), not UTF-8 or latin-1: its columns as read here are meaningless; convert it first, e.g. iconv -f UTF-16 -t UTF-8"},
        {"be-bom.csv", "\xFE\xFF", 2, 2, true, "UTF-16BE-encoded (it starts with the byte order mark FE FF)"},
        {"le.csv", "", 0, 2, false, "UTF-16LE-encoded (every other byte of its start is NUL), not UTF-8 or latin-1: its columns as read here are meaningless; convert it first, e.g. iconv -f UTF-16LE -t UTF-8"},
        {"be.csv", "", 0, 2, true, "UTF-16BE-encoded (every other byte of its start is NUL)"},
        {"le32-bom.csv", "\xFF\xFE\0\0", 4, 4, false, "UTF-32LE-encoded (it starts with the byte order mark FF FE 00 00), not UTF-8 or latin-1: its columns as read here are meaningless; convert it first, e.g. iconv -f UTF-32 -t UTF-8"},
    };
    static const char text[] = "id\tname\tamount\r\n1\tJose\t12.50\r\n2\tAnn\t3.10\r\n";
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char *path = path_join(dir, cases[c].name);
        FILE *fp = fopen(path, "wb");
        cr_assert_not_null(fp);
        fwrite(cases[c].bom, 1, cases[c].bom_len, fp);
        for (const char *t = text; *t; t++) /* ASCII: one code unit, zero-extended */
            for (size_t b = 0; b < cases[c].unit; b++)
                fputc((cases[c].big ? b == cases[c].unit - 1 : b == 0) ? *t : 0, fp);
        fclose(fp);
        for (int threads = 1; threads <= 2; threads++) {
            char *args, *err;
            int status;
            cr_assert(asprintf(&args, "--threads %d --chunk-size 16 '%s'", threads, path) > 0);
            json_t *doc = run_with_stderr(dir, args, &err, &status);
            cr_expect_eq(status, 1, "%s: exit %d", args, status);
            json_t *first = json_array_get(
                json_object_get(json_array_get(json_object_get(doc, "files"), 0), "errors"), 0);
            const char *msg = json_string_value(json_object_get(first, "message"));
            cr_expect(msg && strstr(msg, cases[c].says), "%s: first error: %s", args,
                      msg ? msg : "(none)");
            cr_expect_eq(json_integer_value(json_object_get(first, "line")), 1, "%s", args);
            cr_expect(err && strstr(err, cases[c].says), "%s: stderr: %s", args, err ? err : "");
            json_decref(doc);
            free(err);
            free(args);
        }
        free(path);
    }
    /* a UTF-8 file with one NUL byte: the plain message */
    char *path = path_join(dir, "nul.csv");
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    fwrite("a,b\n1,x\0y\n2,z\n", 1, 15, fp);
    fclose(fp);
    char *args, *err;
    int status;
    cr_assert(asprintf(&args, "'%s'", path) > 0);
    json_t *doc = run_with_stderr(dir, args, &err, &status);
    cr_expect(err && strstr(err, "nul.csv:2: nul_byte: NUL byte (0x00) in the data") &&
                  !strstr(err, "UTF-16"),
              "stderr: %s", err ? err : "");
    json_decref(doc);
    free(err);
    free(args);
    free(path);
    rm_tree(dir);
}

/* SQL for standard input: PostgreSQL's COPY reads STDIN (not a file named
 * "-"), DuckDB's /dev/stdin, and a warning says the data must come again. */
Test(cli, sql_for_standard_input_reads_stdin, .timeout = 60)
{
    static const struct {
        const char *dialect, *from;
    } cases[] = {{"postgres", " FROM STDIN WITH ("}, {"duckdb", " FROM '/dev/stdin' ("},
                 {"sqlite", "\"/dev/stdin\""}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *cmd;
        cr_assert(asprintf(&cmd,
                           "printf 'id,name\\n1,a\\n' | '%s' --no-cache --no-ledger --format sql "
                           "--sql-dialect %s -",
                           CSVI_BIN_PATH, cases[i].dialect) > 0);
        FILE *p = popen(cmd, "r");
        cr_assert_not_null(p);
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, p);
        buf[n] = '\0';
        cr_expect_eq(pclose(p), 0, "%s", cmd);
        cr_expect(strstr(buf, cases[i].from) != NULL, "%s: no%s in:\n%s", cases[i].dialect,
                  cases[i].from, buf);
        cr_expect(strstr(buf, "-- warning: the data was read from standard input") != NULL,
                  "%s: no warning in:\n%s", cases[i].dialect, buf);
        cr_expect(strstr(buf, "'-'") == NULL && strstr(buf, "\"-\"") == NULL,
                  "%s: reads a file named -:\n%s", cases[i].dialect, buf);
        free(cmd);
    }
}

/* A first record of more than CSVI_MAX_COLUMNS fields (a line of commas, a
 * binary file): one record_too_long error naming the count, the file not
 * read, and the run goes on with the next file (it took ~850 bytes a field:
 * 3 million fields ran out of memory and lost every file's output). */
Test(cli, too_many_columns_is_an_error_and_the_run_goes_on, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-wide-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *wide = path_join(dir, "a_wide.csv");
    FILE *fp = fopen(wide, "w");
    cr_assert_not_null(fp);
    for (int i = 0; i < 100001; i++) /* CSVI_MAX_COLUMNS + 1 */
        fputs(i ? ",7" : "7", fp);
    fputs("\n1,2\n", fp);
    fclose(fp);
    write_text(dir, "b.csv", "x,y\n1,2\n");
    for (int threads = 1; threads <= 2; threads++) {
        char *args, *err;
        int status;
        cr_assert(asprintf(&args, "--threads %d '%s'", threads, dir) > 0);
        json_t *doc = run_with_stderr(dir, args, &err, &status);
        cr_expect_eq(status, 1, "%s: exit %d", args, status);
        json_t *files = json_object_get(doc, "files");
        cr_assert_eq(json_array_size(files), 2);
        json_t *w = json_array_get(files, 0), *b = json_array_get(files, 1);
        json_t *errs = json_object_get(w, "errors");
        cr_expect_eq(json_array_size(errs), 1, "%s", args);
        json_t *e0 = json_array_get(errs, 0);
        cr_expect_str_eq(json_string_value(json_object_get(e0, "kind")), "record_too_long");
        cr_expect(strstr(json_string_value(json_object_get(e0, "message")), "100001 fields"),
                  "%s", json_string_value(json_object_get(e0, "message")));
        cr_expect_eq(json_integer_value(json_object_get(w, "rows")), 0);
        cr_expect_eq(json_array_size(json_object_get(w, "columns")), 0);
        cr_expect_eq(json_integer_value(json_object_get(b, "rows")), 1, "the next file is read");
        cr_expect_eq(json_array_size(json_object_get(b, "columns")), 2);
        json_decref(doc);
        free(err);
        free(args);
    }
    free(wide);
    rm_tree(dir);
}

/* Lines that end with a lone CR (classic Mac OS; Excel for Mac's "CSV
 * (Macintosh)"): read as LF/CRLF CSV such a file is one record of all its
 * lines — a small one got one row of text and exit 0, a large one a
 * record_too_long at 64 MiB.  It gets a cr_line_ends error at line 1 that says
 * how to convert it, no dialect (unreadable: the ledger's file_error), exit 1,
 * on both engines, any chunk size, gzip'd, and on standard input.  Files
 * with LF or CRLF ends, a lone CR as data, a quoted CR, or one line ended
 * by a CR are read as before. */
Test(cli, cr_only_line_ends_are_an_error_that_says_to_convert, .timeout = 120)
{
    char tmpl[] = "/tmp/csvi-cr-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    /* ~200 KB: more than the sniffer's 64 KiB sample and many 4 KiB chunks */
    char *big = path_join(dir, "mac.csv"), *small = path_join(dir, "small.csv");
    FILE *fp = fopen(big, "wb");
    cr_assert_not_null(fp);
    fputs("id,name,amount,\"note\"\r", fp);
    for (int i = 0; i < 8000; i++)
        fprintf(fp, "%d,name %d,%d.%02d,\"a, b\"\r", i, i, i, i % 100);
    fclose(fp);
    fp = fopen(small, "wb");
    cr_assert_not_null(fp);
    fputs("id,name\r1,a\r2,b", fp);
    fclose(fp);
    char *cmd;
    cr_assert(asprintf(&cmd, "gzip -k '%s'", big) > 0);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    const char *const runs[] = {
        "--threads 1 '%s'", "--threads 2 '%s'", "--threads 2 --chunk-size 4K '%s'",
        "--threads 1 '%s.gz'", "--threads 2 --chunk-size 4K '%s.gz'", "--threads 2 - < '%s'",
        "--threads 1 - < '%s'",
    };
    for (size_t f = 0; f < 2; f++)
        for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
            if (f == 1 && strstr(runs[r], ".gz"))
                continue;
            char *args, *err;
            int status;
            cr_assert(asprintf(&args, runs[r], f ? small : big) > 0);
            json_t *doc = run_with_stderr(dir, args, &err, &status);
            json_t *file = json_array_get(json_object_get(doc, "files"), 0);
            json_t *errs = json_object_get(file, "errors");
            json_t *first = json_array_get(errs, 0);
            cr_expect_eq(status, 1, "%s: exit %d", args, status);
            cr_expect_eq(json_array_size(errs), 1, "%s: %zu errors", args, json_array_size(errs));
            cr_expect_str_eq(json_string_value(json_object_get(first, "kind")), "cr_line_ends",
                             "%s", args);
            cr_expect_eq(json_integer_value(json_object_get(first, "line")), 1, "%s", args);
            cr_expect(json_is_null(json_object_get(file, "dialect")), "%s: a dialect", args);
            cr_expect_eq(json_integer_value(json_object_get(file, "rows")), 0, "%s", args);
            cr_expect(err && strstr(err, ":1: cr_line_ends: its lines end with a lone CR") &&
                          strstr(err, strstr(args, ".gz") ? "gzip -dc FILE | tr '\\r' '\\n' > FILE.lf.csv"
                                                          : "tr '\\r' '\\n' < FILE > FILE.lf.csv"),
                      "%s: stderr: %s", args, err ? err : "");
            json_decref(doc);
            free(err);
            free(args);
        }
    /* CR-only all the same: an LF in a quoted cell (Excel's line break in a
     * cell), a quote inside a field of line 1 (an inch mark), a last line
     * ended by CRLF */
    static const char *const mac[] = {
        "id,name,comment\r1,a,ok\r2,b,\"line one\nline two\"\r3,c,ok\r",
        "model,screen size (\")\rA1,13\rA2,15\rA3,17\r",
        "id,name\r1,a\r2,b\r\n",
    };
    for (size_t i = 0; i < sizeof mac / sizeof *mac; i++) {
        fp = fopen(small, "wb");
        cr_assert_not_null(fp);
        fputs(mac[i], fp);
        fclose(fp);
        for (int threads = 1; threads <= 2; threads++) {
            char *args, *err;
            int status;
            cr_assert(asprintf(&args, "--threads %d '%s'", threads, small) > 0);
            json_t *doc = run_with_stderr(dir, args, &err, &status);
            cr_expect_eq(status, 1, "mac case %zu, %s: exit %d", i, args, status);
            cr_expect(err && strstr(err, ":1: cr_line_ends:"), "mac case %zu, %s: %s", i, args,
                      err);
            json_decref(doc);
            free(err);
            free(args);
        }
    }
    /* read as before: LF, CRLF, a lone CR as data in an LF file, a quoted CR
     * in a file without LF, one line ended by a CR, one LF line end before a
     * lone CR */
    static const struct {
        const char *text;
        long rows;
    } fine[] = {
        {"id,name\n1,a\n2,b\n", 2},
        {"id,name\r\n1,a\r\n2,b\r\n", 2},
        {"id,name\n1,a\rb\n2,c\n", 2},
        {"id,\"name\rx\"", 0},
        {"id,name\r", 0},
        {"note\nfoo\rbar", 1},
    };
    for (size_t i = 0; i < sizeof fine / sizeof *fine; i++) {
        fp = fopen(small, "wb");
        cr_assert_not_null(fp);
        fputs(fine[i].text, fp);
        fclose(fp);
        for (int threads = 1; threads <= 2; threads++) {
            char *args, *err;
            int status;
            cr_assert(asprintf(&args, "--threads %d '%s'", threads, small) > 0);
            json_t *doc = run_with_stderr(dir, args, &err, &status);
            json_t *file = json_array_get(json_object_get(doc, "files"), 0);
            cr_expect(!strstr(err ? err : "", "cr_line_ends"), "case %zu, %s: %s", i, args, err);
            cr_expect(json_is_object(json_object_get(file, "dialect")), "case %zu: no dialect", i);
            cr_expect_eq(json_integer_value(json_object_get(file, "rows")), fine[i].rows,
                         "case %zu, %s: rows", i, args);
            json_decref(doc);
            free(err);
            free(args);
        }
    }
    free(big);
    free(small);
    rm_tree(dir);
}

/* --cache DIR with --no-cache, --ledger FILE with --no-ledger: the run reads
 * every file and writes no ledger, as the "no" flags say, and a warning says
 * that the path given is not used (a cron line with both ran without a cache
 * or ledger and said nothing).  And the SQL's comment says "1 row". */
Test(cli, a_path_switched_off_by_its_no_flag_is_a_warning, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-noflag-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *csv = path_join(dir, "one.csv"), *cache = path_join(dir, "cache"),
         *ledger = path_join(dir, "ledger.jsonl");
    FILE *fp = fopen(csv, "w");
    cr_assert_not_null(fp);
    fputs("id,name\n1,a\n", fp);
    fclose(fp);
    char *args, *err;
    int status;
    cr_assert(asprintf(&args, "--cache '%s' --ledger '%s' '%s'", cache, ledger, csv) > 0);
    json_t *doc = run_with_stderr(dir, args, &err, &status); /* (with --no-cache --no-ledger) */
    cr_expect_eq(status, 0, "exit %d: %s", status, err);
    char *want_c, *want_l;
    cr_assert(asprintf(&want_c, "csvinfer: warning: --cache %s is not used: --no-cache is given too",
                       cache) > 0);
    cr_assert(asprintf(&want_l, "csvinfer: warning: --ledger %s is not written: --no-ledger is "
                                "given too", ledger) > 0);
    cr_expect(err && strstr(err, want_c), "stderr: %s", err);
    cr_expect(err && strstr(err, want_l), "stderr: %s", err);
    cr_expect_neq(access(cache, F_OK), 0, "the cache directory was made");
    cr_expect_neq(access(ledger, F_OK), 0, "the ledger was written");
    json_decref(doc);
    free(err);
    free(args);
    /* without the "no" flags: no warning */
    char *cmd, *out = path_join(dir, "sql.out"), *errp = path_join(dir, "sql.err");
    cr_assert(asprintf(&cmd, "'%s' --format sql --cache '%s' --ledger '%s' '%s' >'%s' 2>'%s'",
                       CSVI_BIN_PATH, cache, ledger, csv, out, errp) > 0);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
    char *e2 = read_file(errp, NULL), *sql = read_file(out, NULL);
    cr_expect(e2 && !strstr(e2, "warning"), "stderr: %s", e2);
    cr_expect(sql && strstr(sql, "one.csv: 1 row\n"), "SQL: %s", sql);
    free(e2);
    free(sql);
    free(cmd);
    free(out);
    free(errp);
    free(want_c);
    free(want_l);
    free(csv);
    free(cache);
    free(ledger);
    rm_tree(dir);
}

/* Bytes of s[0, n) that form UTF-8 from the start (lead and continuation
 * bytes; enough to catch a latin-1 byte). */
static size_t utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = p[i] < 0x80 ? 1 : (p[i] & 0xE0) == 0xC0 ? 2 : (p[i] & 0xF0) == 0xE0 ? 3
                                 : (p[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n)
            return i;
        for (size_t j = 1; j < k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return i;
        i += k;
    }
    return i;
}

/* A file name that is not UTF-8 (caf\xe9.csv, latin-1): the SQL script stays
 * UTF-8 for every dialect — the comment shows the byte as \xe9, the table is
 * "café" — and PostgreSQL's and DuckDB's COPY, which cannot name the file, is
 * commented out under a warning (scripts/pg-test.sh runs such a script in a
 * real server); SQLite's .import opens the path as bytes and keeps it. */
Test(cli, sql_for_a_file_name_that_is_not_utf8_stays_utf8, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-name-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *csv = path_join(dir, "caf\xe9.csv");
    FILE *fp = fopen(csv, "w");
    cr_assert_not_null(fp);
    fputs("id,name\n1,a\n", fp);
    fclose(fp);
    static const char *const dialects[] = {"postgres", "duckdb", "sqlite"};
    for (size_t d = 0; d < 3; d++) {
        char *cmd, *out = path_join(dir, "sql.out");
        cr_assert(asprintf(&cmd, "'%s' --format sql --sql-dialect %s --no-cache --no-ledger '%s' >'%s'",
                           CSVI_BIN_PATH, dialects[d], csv, out) > 0);
        cr_expect_eq(system(cmd), 0, "%s", cmd);
        size_t n = 0;
        char *sql = read_file(out, &n);
        cr_assert_not_null(sql);
        bool sqlite = d == 2;
        /* everything but SQLite's .import line is UTF-8 */
        char *imp = strstr(sql, ".import");
        size_t checked = imp ? (size_t)(imp - sql) : n;
        cr_expect_eq(utf8_valid_prefix(sql, checked), checked, "%s: a byte that is not UTF-8:\n%s",
                     dialects[d], sql);
        cr_expect(strstr(sql, "-- csvinfer: ") && strstr(sql, "caf\\xe9.csv: 1 row\n"), "%s:\n%s",
                  dialects[d], sql);
        cr_expect(strstr(sql, "CREATE TABLE \"caf\xc3\xa9\" ("), "%s:\n%s", dialects[d], sql);
        if (!sqlite) {
            cr_expect(strstr(sql, "-- warning: the file's path is not UTF-8"), "%s:\n%s",
                      dialects[d], sql);
            cr_expect(strstr(sql, "\n-- COPY \"caf\xc3\xa9\" FROM '") && !strstr(sql, "\nCOPY"),
                      "%s: the COPY is not commented out:\n%s", dialects[d], sql);
        } else {
            cr_expect(imp && strstr(imp, "caf\xe9.csv\" \"caf\xc3\xa9\""), "sqlite:\n%s", sql);
        }
        free(sql);
        free(cmd);
        free(out);
    }
    free(csv);
    rm_tree(dir);
}

/* csv holding text, run with 1 and 2 threads: stderr has the hint want, or
 * (want NULL) no hint at all.  c numbers the case in messages. */
static void expect_hint(const char *dir, const char *csv, const char *text, const char *want,
                        size_t c)
{
    FILE *fp = fopen(csv, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
    for (int threads = 1; threads <= 2; threads++) {
        char *args, *err;
        int status;
        cr_assert(asprintf(&args, "--threads %d '%s'", threads, csv) > 0);
        json_t *doc = run_with_stderr(dir, args, &err, &status);
        if (want)
            cr_expect(err && strstr(err, want), "case %zu, %s: stderr: %s", c, args, err);
        else
            cr_expect(err && !strstr(err, "hint"), "case %zu, %s: stderr: %s", c, args, err);
        json_decref(doc);
        free(err);
        free(args);
    }
}

/* A title (and notes) above the header, as SAP and report exports write:
 * line 1 is read as the header of a one-column file and every row below is
 * ragged.  After the errors, stderr says which line the real header seems
 * to be on and how to drop the lines above it — on both engines; a
 * one-column file with a few values holding commas gets no such hint. */
Test(cli, a_title_above_the_header_gets_a_hint, .timeout = 60)
{
    char tmpl[] = "/tmp/csvi-title-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    static const struct {
        const char *text;
        int at; /* the line the hint names; 0: no hint */
    } cases[] = {
        {"Sales report 2024\nid,name,amount\n1,a,2.5\n2,b,3.5\n3,c,4\n", 2},
        {"Sales report 2024\nDate: 2024-11-29\n\nid;name;amount\n1;a;2,5\n2;b;3,5\n3;c;4\n"
         "4;d;5\n",
         4},
        {"name\nalice\nbob, jr\ncarol\ndave\nerin\n", 0},
        {"id,name\n1,a\n2,b,c\n3,d,e\n", 0},
        /* a year above the header: line 1 is a data row then, the hint the same */
        {"2024\nid,name,amount\n1,a,2.5\n2,b,3.5\n3,c,4\n", 2},
        /* a latin-1 title (its invalid_utf8 error is not a row) */
        {"Umsatz\xfc" "bersicht 2024\nid,name,amount\n1,a,2.5\n2,b,3.5\n3,c,4\n", 2},
        /* a footer under a column of values, short or long: no hint (tail would keep it) */
        {"email\na@x\nb@x\nc@x\nd@x\ne@x\nf@x\nExported by: jdoe, 2024-11-28\nRows: 6, "
         "filter: none\n",
         0},
        {"name\nalice\nbob\ncarl, jr\ndan, sr\n", 0},
        /* ragged rows of different widths: not one table under a title */
        {"Report\na,b\nc,d,e\nf,g\nh,i,j\n", 0},
    };
    char *csv = path_join(dir, "report.csv");
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char *want;
        cr_assert(asprintf(&want,
                           "report.csv: hint: line 1 has 1 field and the rows from line %d on "
                           "have 3: if the lines above line %d are a title or notes above the "
                           "real header, remove them (tail -n +%d FILE > FILE.csv)",
                           cases[c].at, cases[c].at, cases[c].at) > 0);
        expect_hint(dir, csv, cases[c].text, cases[c].at ? want : NULL, c);
        free(want);
    }
    /* Excel's "sep=;" line: the same kind of hint, also when no row is ragged
     * and in a one-column file; not for a header that only starts so */
    static const struct {
        const char *text;
        char sep; /* 0: no hint */
    } sep_files[] = {
        {"sep=;\r\nid;name;amount\r\n1;a;2,5\r\n", ';'},
        {"sep=,\nid,name\n1,a\n2,b\n", ','},
        {"sep=;\nname\nalice\nbob\n", ';'},
        {"sep=,other\n1,2\n", 0},
        {"sep=\n1\n2\n", 0},
    };
    for (size_t c = 0; c < sizeof sep_files / sizeof *sep_files; c++) {
        char *want;
        cr_assert(asprintf(&want,
                           "report.csv: hint: line 1 is Excel's \"sep=%c\" directive, not a "
                           "header: remove it (tail -n +2 FILE > FILE.csv)",
                           sep_files[c].sep) > 0);
        expect_hint(dir, csv, sep_files[c].text, sep_files[c].sep ? want : NULL, 100 + c);
        free(want);
    }
    free(csv);
    rm_tree(dir);
}

/* Files whose error comes from the first look at them (the plan), not from
 * their records: a first record of too many fields, CR-only line ends, a
 * UTF-16 look (the wording of its NUL error).  Their errors must be the
 * same on every run with the cache and with --trust-mtime as without a
 * cache: a small file's cached record keeps no plan errors, and a hit lost
 * them (a too-wide file's second run exited 0 with no error; fuzz_infer
 * found the UTF-32 wording lost). */
Test(cli, plan_errors_survive_the_cache, .timeout = 120)
{
    char tmpl[] = "/tmp/csvi-planerr-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    char *wide = path_join(dir, "wide.csv");
    FILE *fp = fopen(wide, "w");
    cr_assert_not_null(fp);
    for (int i = 0; i < 100001; i++)
        fputs(i ? ",7" : "7", fp);
    fputs("\n1,2\n", fp);
    fclose(fp);
    write_text(dir, "mac.csv", "id,name\r1,a\r2,b\r");
    char *u16 = path_join(dir, "u16.csv");
    fp = fopen(u16, "wb");
    cr_assert_not_null(fp);
    fwrite("\xFF\xFE", 1, 2, fp);
    for (const char *t = "id,name\r\n1,a\r\n"; *t; t++)
        fputc(*t, fp), fputc(0, fp);
    fclose(fp);
    static const char *const files[] = {"wide.csv", "mac.csv", "u16.csv"};
    static const char *const modes[] = {"--threads 2", "--threads 1", "--threads 2 --trust-mtime"};
    for (size_t f = 0; f < 3; f++)
        for (size_t m = 0; m < 3; m++) {
            char *cmd, *out = path_join(dir, "out.json"), *ref = NULL;
            for (int run = 0; run < 3; run++) { /* 0: --no-cache, the reference; 1, 2: cached */
                cr_assert(asprintf(&cmd,
                                   "cd '%s' && XDG_CACHE_HOME='%s/x%zu' XDG_STATE_HOME='%s/x%zu' "
                                   "'%s' --format json %s %s '%s' >'%s' 2>/dev/null",
                                   dir, dir, m, dir, m, CSVI_BIN_PATH, modes[m],
                                   run ? "" : "--no-cache", files[f], out) > 0);
                int rc = system(cmd);
                cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "%s: exit %d", cmd,
                          WEXITSTATUS(rc));
                json_error_t je;
                json_t *doc = json_load_file(out, 0, &je);
                cr_assert_not_null(doc, "%s: %s", cmd, je.text);
                json_t *errs = json_object_get(json_array_get(json_object_get(doc, "files"), 0),
                                               "errors");
                char *text = json_dumps(errs, JSON_COMPACT);
                cr_assert_not_null(text);
                if (!run)
                    ref = text;
                else {
                    cr_expect_str_eq(text, ref, "%s %s, cached run %d: errors differ", files[f],
                                     modes[m], run);
                    free(text);
                }
                json_decref(doc);
                free(cmd);
            }
            cr_expect(strstr(ref, f == 0 ? "record_too_long" : f == 1 ? "cr_line_ends" : "UTF-16LE"),
                      "%s: %s", files[f], ref);
            free(ref);
            free(out);
        }
    free(wide);
    free(u16);
    rm_tree(dir);
}
