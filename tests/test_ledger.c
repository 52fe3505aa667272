/*
 * test_ledger.c — the run ledger, schema drift, history, --lock and the
 * progress line, end to end through the csvinfer binary (Criterion + jansson;
 * issue 5 "Tests", docs/ledger.md, docs/cron.md).
 *
 *   drift.*      one path, two runs, for each kind of change (a column added,
 *                removed, renamed, moved; a type changed or widened; a column
 *                made nullable or not null): the change is reported exactly
 *                once, in the JSON (files[].drift, drift_since), the table, on
 *                stderr and in the ledger (one drift event, right after its
 *                file_done; run_end "drift"); exit 3 with --fail-on-drift, 0
 *                without; a third run over the unchanged file reports nothing;
 *                --no-ledger reports no drift and leaves the ledger (and
 *                $XDG_STATE_HOME) untouched.  Also: a latin-1 header on an
 *                unchanged file is no drift; a path that is not UTF-8 still
 *                drifts; a run interrupted after a changed file finished does
 *                not swallow its drift.
 *   history.*    three schema versions listed in order with their drift; the
 *                history of a file renamed away, by its relative path.
 *   torn.*       half a JSON line at the end of the ledger (a crash): runs,
 *                drift and history read on, the new lines are whole.
 *   unwritable.* a ledger under a regular file, a directory in its place, or
 *                on a full disk (/dev/full): exit 4, a message naming the
 *                ledger, the output still written, in bounded time and memory.
 *   lock.*       a second run while a first holds --lock: exit 75 naming the
 *                lock and the holder's pid; with --lock-wait it waits for the
 *                first to end, then succeeds.
 *   progress.*   --progress auto prints nothing when stderr is not a terminal
 *                (always does), and prints the line ("files", "GB/s") under a
 *                pseudo-terminal; --progress never prints nothing there.  The
 *                runs last > 0.5 s (when the line first shows) by reading a
 *                stdin the test feeds slowly.
 *   signal.*     SIGTERM while csvinfer waits on stdin: exit 130, run_end
 *                "interrupted", nothing recorded as done.
 *
 * Each test has its own temporary directory (made by the .init fixture,
 * removed by .fini even when an assertion fails): runs start there with
 * --ledger FILE in it and --no-cache, and $XDG_STATE_HOME / $XDG_CACHE_HOME
 * point into it.  Memory a test takes is kept on a list freed by .fini, and
 * children still running then are killed.  Expected drift kinds and columns
 * are written by hand from docs/ledger.md.  Built by CMake with CSVI_BIN_PATH
 * (absolute path of the binary) defined.  tests/ledger-kill.sh covers
 * SIGKILL, signals at random moments and concurrent writers.
 */
#define _GNU_SOURCE /* vasprintf, posix_openpt, ptsname_r, wait4 */

#include <criterion/criterion.h>
#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CSVI_BIN_PATH
#error "CSVI_BIN_PATH must be defined: absolute path of the csvinfer binary"
#endif

extern char **environ;

/* ---- the test's directory, and what it holds until .fini -------------------- */

static struct {
    char *dir;     /* realpath of a mkdtemp'd directory; runs start there */
    char *ledger;  /* dir/ledger.jsonl */
    char *state;   /* dir/state: $XDG_STATE_HOME of the runs (never created by them) */
    char **envp;   /* environ with XDG_STATE_HOME / XDG_CACHE_HOME replaced */
    void **mem;    /* malloc'd blocks freed by .fini */
    size_t n_mem, cap_mem;
    json_t **json; /* references dropped by .fini */
    size_t n_json, cap_json;
    pid_t kids[16]; /* children spawned; those still running at .fini are killed */
    size_t n_kids;
} T;

static void *keep(void *p)
{
    cr_assert_not_null(p, "out of memory");
    if (T.n_mem == T.cap_mem) {
        T.cap_mem = T.cap_mem ? 2 * T.cap_mem : 64;
        T.mem = realloc(T.mem, T.cap_mem * sizeof *T.mem);
        cr_assert_not_null(T.mem, "out of memory");
    }
    return T.mem[T.n_mem++] = p;
}

static json_t *keep_json(json_t *j)
{
    if (!j)
        return NULL;
    if (T.n_json == T.cap_json) {
        T.cap_json = T.cap_json ? 2 * T.cap_json : 64;
        T.json = realloc(T.json, T.cap_json * sizeof *T.json);
        cr_assert_not_null(T.json, "out of memory");
    }
    return T.json[T.n_json++] = j;
}

/* printf into memory kept until .fini */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    int n = vasprintf(&s, f, ap);
    va_end(ap);
    cr_assert(n >= 0, "out of memory");
    return keep(s);
}

static char *tpath(const char *name) { return fmt("%s/%s", T.dir, name); }

static void setup(void)
{
    char tmpl[] = "/tmp/csvi-ledger-test-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    T.dir = keep(realpath(tmpl, NULL)); /* the ledger records real paths */
    T.ledger = tpath("ledger.jsonl");
    T.state = tpath("state");
    size_t n = 0;
    while (environ[n])
        n++;
    T.envp = keep(calloc(n + 3, sizeof *T.envp));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "XDG_STATE_HOME=", 15) != 0 &&
            strncmp(environ[i], "XDG_CACHE_HOME=", 15) != 0 &&
            strncmp(environ[i], "CSVINFER_LOG=", 13) != 0)
            T.envp[k++] = environ[i];
    T.envp[k++] = fmt("XDG_STATE_HOME=%s", T.state);
    T.envp[k++] = fmt("XDG_CACHE_HOME=%s/cache", T.dir);
    T.envp[k] = NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    for (size_t i = 0; i < T.n_kids; i++)
        if (waitpid(T.kids[i], NULL, WNOHANG) == 0) {
            kill(T.kids[i], SIGKILL);
            waitpid(T.kids[i], NULL, 0);
        }
    if (T.dir)
        nftw(T.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < T.n_json; i++)
        json_decref(T.json[i]);
    for (size_t i = 0; i < T.n_mem; i++)
        free(T.mem[i]);
    free(T.json);
    free(T.mem);
    memset(&T, 0, sizeof T);
}

#define LTEST(suite, name) Test(suite, name, .init = setup, .fini = teardown, .timeout = 60)

static void write_text(const char *path, const char *text, const char *mode)
{
    FILE *f = fopen(path, mode);
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* Whole file, NUL-terminated, kept until .fini; NULL if it cannot be read. */
static char *slurp(const char *path, size_t *len /* OUT, may be NULL */)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            buf = realloc(buf, cap *= 2);
            cr_assert_not_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return keep(buf);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A pipe whose write end (p[1]) is not inherited by children. */
static void test_pipe(int p[2])
{
    cr_assert_eq(pipe(p), 0, "pipe: %s", strerror(errno));
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
}

/* ---- running the binary --------------------------------------------------------- */

/* Start csvinfer with args (NULL-terminated, without argv[0]) in T.dir; its
 * stdin/stdout/stderr are the given fds (-1: /dev/null).  With tty (a
 * pseudo-terminal's slave path) the child gets a session of its own and the
 * terminal as stderr. */
static pid_t spawn(const char *const *args, int in_fd, int out_fd, int err_fd, const char *tty)
{
    size_t n = 0;
    while (args[n])
        n++;
    const char **argv = keep(calloc(n + 2, sizeof *argv));
    argv[0] = CSVI_BIN_PATH;
    memcpy(argv + 1, args, n * sizeof *argv);
    cr_assert_lt(T.n_kids, sizeof T.kids / sizeof T.kids[0], "too many children");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (chdir(T.dir) != 0 || devnull < 0)
            _exit(126);
        if (tty) {
            setsid();
            int fd = open(tty, O_RDWR); /* becomes the controlling terminal */
            if (fd < 0)
                _exit(126);
            err_fd = fd;
        }
        dup2(in_fd >= 0 ? in_fd : devnull, STDIN_FILENO);
        dup2(out_fd >= 0 ? out_fd : devnull, STDOUT_FILENO);
        dup2(err_fd >= 0 ? err_fd : devnull, STDERR_FILENO);
        execve(CSVI_BIN_PATH, (char *const *)argv, T.envp);
        _exit(127);
    }
    T.kids[T.n_kids++] = pid;
    return pid;
}

static int exit_code(int wst)
{
    return WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + (WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
}

/* Exit status of pid; 128 + N if killed by signal N. */
static int wait_exit(pid_t pid)
{
    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0)
        cr_assert_eq(errno, EINTR, "waitpid: %s", strerror(errno));
    return exit_code(wst);
}

struct run {
    int status;
    const char *out, *err; /* stdout and stderr, NUL-terminated */
    size_t out_len;
    json_t *json;          /* stdout parsed, or NULL */
};

/* Run csvinfer ARGS in T.dir to the end; stdout and stderr captured. */
static struct run run_args(const char *const *args)
{
    char *op = tpath(".stdout"), *ep = tpath(".stderr");
    int ofd = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int efd = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(ofd >= 0 && efd >= 0, "cannot create %s: %s", op, strerror(errno));
    pid_t pid = spawn(args, -1, ofd, efd, NULL);
    close(ofd);
    close(efd);
    struct run r = {wait_exit(pid), NULL, NULL, 0, NULL};
    r.out = slurp(op, &r.out_len);
    r.err = slurp(ep, NULL);
    cr_assert(r.out && r.err);
    r.json = keep_json(json_loadb(r.out, r.out_len, 0, NULL));
    unlink(op);
    unlink(ep);
    T.n_kids--; /* reaped */
    return r;
}

#define RUN(...) run_args((const char *const[]){__VA_ARGS__, NULL})
/* a run over one file with the test's ledger, no cache, JSON output */
#define INFER(...) RUN("--format", "json", "--ledger", T.ledger, "--no-cache", __VA_ARGS__)

/* ---- reading the ledger back ---------------------------------------------------- */

struct ledger_lines {
    json_t *events;   /* every line that parses as a JSON object with "event", in order */
    size_t lines;     /* lines, the last one counted even without a newline */
    size_t bad;       /* lines that do not */
    long first_bad;   /* 1-based line of the first of them, 0 if none */
    bool ends_newline;
};

/* Parse path from byte offset `from` (the start of a line) to its end. */
static struct ledger_lines ledger_load(const char *path, off_t from)
{
    size_t len;
    char *text = slurp(path, &len);
    cr_assert_not_null(text, "cannot read the ledger %s", path);
    cr_assert((size_t)from <= len);
    struct ledger_lines ll = {keep_json(json_array()), 0, 0, 0, len == 0 || text[len - 1] == '\n'};
    for (char *p = text + from; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        ll.lines++;
        json_t *ev = json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(ev) && json_is_string(json_object_get(ev, "event"))) {
            json_array_append(ll.events, ev);
        } else {
            ll.bad++;
            if (!ll.first_bad)
                ll.first_bad = (long)ll.lines;
        }
        json_decref(ev);
        p += n + 1;
    }
    return ll;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool jstr_is(const json_t *o, const char *key, const char *want)
{
    const char *s = jstr(o, key);
    return s && strcmp(s, want) == 0;
}

/* The events of kind (and of path, if not NULL), in order. */
static json_t *events_of(const json_t *events, const char *kind, const char *path)
{
    json_t *out = keep_json(json_array()), *ev;
    size_t i;
    json_array_foreach(events, i, ev) {
        if (jstr_is(ev, "event", kind) && (!path || jstr_is(ev, "path", path)))
            json_array_append(out, ev);
    }
    return out;
}

static size_t count_events(const json_t *events, const char *kind, const char *path)
{
    return json_array_size(events_of(events, kind, path));
}

/* The files[0] object of a run's JSON output (asserts there is one). */
static json_t *out_file0(const struct run *r)
{
    cr_assert_not_null(r->json, "stdout is not JSON (exit %d): %.2000s\nstderr: %s", r->status,
                       r->out, r->err);
    json_t *f = json_array_get(json_object_get(r->json, "files"), 0);
    cr_assert_not_null(f, "no files[0] in the output: %.2000s", r->out);
    return f;
}

/* ---- drift ---------------------------------------------------------------------- */

/* The drift list of a run's output must be exactly [{kind, column, detail}];
 * kind NULL: it must be empty. */
static void expect_drift_list(const struct run *r, const char *what, const char *kind,
                              const char *column)
{
    json_t *d = json_object_get(out_file0(r), "drift");
    if (!kind) {
        cr_expect(json_is_array(d) && json_array_size(d) == 0,
                  "%s: expected an empty drift list, got %s", what, r->out);
        return;
    }
    cr_assert(json_is_array(d) && json_array_size(d) == 1,
              "%s: expected one drift entry (%s %s), got: %s", what, kind, column, r->out);
    json_t *c = json_array_get(d, 0);
    cr_expect(jstr_is(c, "kind", kind), "%s: drift kind %s, expected %s", what, jstr(c, "kind"),
              kind);
    cr_expect(jstr_is(c, "column", column), "%s: drift column %s, expected %s", what,
              jstr(c, "column"), column);
    cr_expect(json_is_string(json_object_get(c, "detail")), "%s: no drift detail", what);
}

/*
 * One scenario: `before`, then `after`, as the content of f.csv.
 *   ledger A: run 1 (no drift); --no-ledger --fail-on-drift over `after`: exit 0,
 *             no drift but a warning that it cannot fire, A and $XDG_STATE_HOME
 *             untouched; run 2 --fail-on-drift:
 *             exit 3, the drift once in the JSON, on stderr and in the ledger; run 3
 *             --fail-on-drift over the unchanged file: exit 0, nothing.
 *   ledger B: the same two runs without --fail-on-drift: exit 0, drift reported.
 *   ledger C: a copy of B after its run 1: run 2 as a table shows a DRIFT line.
 */
static void drift_case(const char *before, const char *after, const char *kind,
                       const char *column)
{
    char *csv = tpath("f.csv"), *ledger_b = tpath("ledger-b.jsonl");
    char *ledger_c = tpath("ledger-c.jsonl");

    write_text(csv, before, "w");
    struct run r = INFER("--fail-on-drift", "f.csv");
    cr_assert_eq(r.status, 0, "run 1: exit %d: %s", r.status, r.err);
    expect_drift_list(&r, "run 1", NULL, NULL);
    cr_expect(json_is_null(json_object_get(out_file0(&r), "drift_since")), "run 1: drift_since");
    r = RUN("--format", "json", "--ledger", ledger_b, "--no-cache", "f.csv");
    cr_assert_eq(r.status, 0, "run 1 (ledger B): exit %d: %s", r.status, r.err);
    write_text(ledger_c, slurp(ledger_b, NULL), "w");

    struct ledger_lines ll = ledger_load(T.ledger, 0);
    json_t *dones = events_of(ll.events, "file_done", csv);
    cr_assert_eq(json_array_size(dones), 1, "run 1 wrote %zu file_done events for %s",
                 json_array_size(dones), csv);
    const char *since = jstr(json_array_get(dones, 0), "time");
    cr_assert_not_null(since);

    write_text(csv, after, "w");

    /* --no-ledger: no drift, nothing written anywhere */
    off_t size_a = file_size(T.ledger);
    r = INFER("--no-ledger", "--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 0, "--no-ledger: exit %d, expected 0: %s", r.status, r.err);
    json_t *d = json_object_get(out_file0(&r), "drift");
    cr_expect(!d || json_is_null(d) || json_array_size(d) == 0, "--no-ledger reported drift: %s",
              r.out);
    cr_expect(strstr(r.err, "schema drift") == NULL, "--no-ledger: drift on stderr: %s", r.err);
    cr_expect(strstr(r.err, "warning: --fail-on-drift compares with the ledger") != NULL,
              "--no-ledger --fail-on-drift: no warning that it cannot fire: %s", r.err);
    cr_expect_eq(file_size(T.ledger), size_a, "--no-ledger wrote to the ledger");
    cr_expect_neq(access(T.state, F_OK), 0, "--no-ledger created %s", T.state);

    /* run 2, --fail-on-drift: exit 3 and the drift, once, everywhere */
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 3, "run 2 --fail-on-drift: exit %d, expected 3: %s", r.status, r.err);
    expect_drift_list(&r, "run 2", kind, column);
    cr_expect(jstr_is(out_file0(&r), "drift_since", since),
              "run 2: drift_since %s is not the time of run 1's file_done (%s)",
              jstr(out_file0(&r), "drift_since"), since);
    char *line = fmt("schema drift since %s: %s %s:", since, kind, column);
    cr_expect(strstr(r.err, line) != NULL, "run 2: stderr lacks \"%s\": %s", line, r.err);

    ll = ledger_load(T.ledger, 0);
    cr_expect_eq(ll.bad, 0, "a ledger line does not parse (line %ld)", ll.first_bad);
    json_t *drifts = events_of(ll.events, "drift", csv);
    cr_assert_eq(json_array_size(drifts), 1, "%zu drift events in the ledger, expected 1",
                 json_array_size(drifts));
    json_t *dev = json_array_get(drifts, 0);
    json_t *changes = json_object_get(dev, "changes");
    cr_assert_eq(json_array_size(changes), 1, "the drift event has %zu changes, expected 1",
                 json_array_size(changes));
    cr_expect(jstr_is(json_array_get(changes, 0), "kind", kind), "ledger drift kind");
    cr_expect(jstr_is(json_array_get(changes, 0), "column", column), "ledger drift column");
    cr_expect(jstr_is(dev, "since", since), "ledger drift since");
    /* right after its file_done, same run; run_end says "drift", exit 3 */
    size_t i;
    json_t *ev, *prev = NULL, *run_end = NULL;
    json_array_foreach(ll.events, i, ev) {
        if (ev == dev)
            cr_expect(prev && jstr_is(prev, "event", "file_done") &&
                          json_equal(json_object_get(prev, "run"), json_object_get(dev, "run")),
                      "the drift event does not follow its file_done");
        if (jstr_is(ev, "event", "run_end") &&
            json_equal(json_object_get(ev, "run"), json_object_get(dev, "run")))
            run_end = ev;
        prev = ev;
    }
    cr_assert_not_null(run_end, "run 2 has no run_end");
    cr_expect(jstr_is(run_end, "status", "drift"), "run 2's run_end status");
    cr_expect_eq(json_integer_value(json_object_get(run_end, "exit")), 3, "run 2's run_end exit");
    cr_expect_eq(json_integer_value(json_object_get(run_end, "files_drifted")), 1,
                 "run 2's run_end files_drifted");

    /* without --fail-on-drift: reported, exit 0 */
    r = RUN("--format", "json", "--ledger", ledger_b, "--no-cache", "f.csv");
    cr_expect_eq(r.status, 0, "run 2 without --fail-on-drift: exit %d, expected 0: %s", r.status,
                 r.err);
    expect_drift_list(&r, "run 2 (ledger B)", kind, column);

    /* the table shows it too */
    r = RUN("--format", "table", "--ledger", ledger_c, "--no-cache", "f.csv");
    cr_expect(strstr(r.out, "DRIFT since ") && strstr(r.out, fmt(": %s %s:", kind, column)),
              "the table has no \"DRIFT since ...: %s %s:\" line: %s", kind, column, r.out);

    /* run 3, nothing changed: nothing reported, even with --fail-on-drift */
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 0, "run 3 (unchanged): exit %d, expected 0: %s", r.status, r.err);
    expect_drift_list(&r, "run 3", NULL, NULL);
    cr_expect(strstr(r.err, "drift") == NULL, "run 3: stderr mentions drift: %s", r.err);
    ll = ledger_load(T.ledger, 0);
    cr_expect_eq(count_events(ll.events, "drift", NULL), 1, "run 3 recorded drift");
    cr_expect_eq(count_events(ll.events, "file_done", csv), 3, "file_done events");
    cr_expect_eq(count_events(ll.events, "run_start", NULL), 3, "run_start events");
    cr_expect_eq(count_events(ll.events, "run_end", NULL), 3, "run_end events");
}

LTEST(drift, column_added)
{
    drift_case("id,name\n1,a\n2,b\n", "id,name,score\n1,a,5\n2,b,7\n", "column_added", "score");
}

LTEST(drift, column_removed)
{
    drift_case("id,name,score\n1,a,5\n2,b,7\n", "id,name\n1,a\n2,b\n", "column_removed", "score");
}

LTEST(drift, column_renamed_same_position_and_type)
{
    drift_case("id,name,score\n1,a,5\n2,b,7\n", "id,label,score\n1,a,5\n2,b,7\n",
               "column_renamed", "label");
}

LTEST(drift, columns_reordered)
{
    /* id moves from first to last; the others keep their order */
    drift_case("id,name,score\n1,a,5\n2,b,7\n", "name,score,id\na,5,1\nb,7,2\n",
               "columns_reordered", "id");
}

LTEST(drift, type_changed_integer_to_text)
{
    drift_case("id,code\n1,10\n2,20\n", "id,code\n1,10\n2,x9\n", "type_changed", "code");
}

LTEST(drift, type_widened_integer_to_decimal)
{
    drift_case("id,code\n1,10\n2,20\n", "id,code\n1,10\n2,20.5\n", "type_widened", "code");
}

LTEST(drift, now_nullable)
{
    drift_case("id,code\n1,10\n2,20\n", "id,code\n1,10\n2,\n", "now_nullable", "code");
}

LTEST(drift, now_not_null)
{
    drift_case("id,code\n1,10\n2,\n", "id,code\n1,10\n2,20\n", "now_not_null", "code");
}

/* The same type, another date format: a load told the old one (DateStyle,
 * DATEFORMAT) fails or swaps day and month. */
LTEST(drift, format_changed_iso_to_month_first)
{
    drift_case("id,d\n1,2024-01-02\n2,2024-01-03\n", "id,d\n1,01/02/2024\n2,01/13/2024\n",
               "format_changed", "d");
}

/* Only the date part counts: seconds, a fraction, T or space vary with the
 * data from night to night and loaders read them all; nor does the SQL type
 * of a type that stayed (a night of smaller values narrows it).  A renamed
 * column is still compared. */
LTEST(drift, time_part_and_sql_width_are_no_drift_a_renamed_column_is_compared)
{
    char *csv = tpath("f.csv");
    write_text(csv, "id,t\n1,2024-01-02 10:00\n2,2024-01-03 11:00\n", "w");
    struct run r = INFER("--fail-on-drift", "f.csv");
    cr_assert_eq(r.status, 0, "run 1: exit %d: %s", r.status, r.err);
    write_text(csv, "id,t\n40000,2024-01-02T10:00:00.5\n2,2024-01-03T11:00:01\n", "w");
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 0, "run 2: exit %d: %s", r.status, r.out);
    expect_drift_list(&r, "run 2", NULL, NULL);
    write_text(csv, "id,when\n1,02/01/2024 10:00\n2,03/01/2024 11:00\n", "w");
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 3, "run 3: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "column_renamed when:") != NULL, "run 3: no rename: %s", r.err);
    cr_expect(strstr(r.err, "format_changed when: %Y-%m-%d -> %m/%d/%Y") != NULL,
              "run 3: no format change of the renamed column: %s", r.err);
}

/* nights: one text a night into f.csv, each run with --fail-on-drift; want[i]:
 * the drift kinds of night i in order, "" for none (stderr checked too). */
static void nights(const char *const *texts, const char *const *want, size_t n)
{
    char *csv = tpath("f.csv");
    for (size_t i = 0; i < n; i++) {
        write_text(csv, texts[i], "w");
        struct run r = INFER("--fail-on-drift", "f.csv");
        json_t *doc = keep_json(json_loadb(r.out, r.out_len, 0, NULL));
        json_t *drift = json_object_get(json_array_get(json_object_get(doc, "files"), 0), "drift");
        char got[256] = "";
        size_t k;
        json_t *d;
        json_array_foreach(drift, k, d) {
            const char *kind = json_string_value(json_object_get(d, "kind"));
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? " " : "",
                     kind ? kind : "?");
        }
        cr_expect_str_eq(got, want[i], "night %zu (%s): drift \"%s\", expected \"%s\"", i + 1,
                         texts[i], got, want[i]);
        cr_expect_eq(r.status, want[i][0] ? 3 : 0, "night %zu: exit %d: %s", i + 1, r.status,
                     r.err);
    }
}

/* A night that has no evidence against the last schema is no drift: dates that
 * fit both day-first and month-first (02/01/2024) do not change a day-first
 * column's format; the next unambiguous night is compared with what fits. */
LTEST(drift, ambiguous_dates_are_no_format_change)
{
    nights((const char *const[]){"id,day\n1,13/01/2024\n", "id,day\n1,02/01/2024\n",
                                 "id,day\n1,14/01/2024\n", "id,day\n1,01/13/2024\n"},
           (const char *const[]){"", "", "", "format_changed"}, 4);
}

/* A header-only night (no rows: not an error) has no types and no nulls to
 * compare; the ledger keeps the last types, so a change across it is seen. */
LTEST(drift, a_header_only_night_is_no_drift_and_keeps_the_types)
{
    nights((const char *const[]){"id,day,amount\n1,2024-01-01,5\n", "id,day,amount\n",
                                 "id,day,amount\n2,2024-01-02,6\n",
                                 "id,day,amount\n3,2024-01-03,x\n"},
           (const char *const[]){"", "", "", "type_changed"}, 4);
}

/* A column empty one night: its nulls are news (a NOT NULL load fails), its
 * type is not (integer -> null was type_changed, and null -> integer the
 * next night type_widened); a change of type across the empty night is seen. */
LTEST(drift, an_empty_column_night_changes_nullability_not_type)
{
    nights((const char *const[]){"id,v\n1,5\n2,6\n", "id,v\n1,\n2,\n", "id,v\n1,7\n2,\n",
                                 "id,v\n1,\n2,\n", "id,v\n1,abc\n2,\n"},
           (const char *const[]){"", "now_nullable", "", "", "type_changed"}, 5);
}

/* docs/ledger.md's rotation: keep the file_done and run_end events (the jq
 * recipe), and drift is still detected against them. */
LTEST(drift, a_ledger_rotated_as_documented_still_detects_drift)
{
    char *csv = tpath("f.csv");
    write_text(csv, "id,amount\n1,2\n", "w");
    cr_assert_eq(INFER("f.csv").status, 0);
    cr_assert_eq(INFER("f.csv").status, 0);
    struct ledger_lines ll = ledger_load(T.ledger, 0);
    FILE *f = fopen(T.ledger, "w");
    cr_assert_not_null(f);
    size_t i, kept = 0;
    json_t *ev;
    json_array_foreach(ll.events, i, ev) {
        if (!jstr_is(ev, "event", "file_done") && !jstr_is(ev, "event", "run_end"))
            continue;
        char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fprintf(f, "%s\n", line);
        free(line);
        kept++;
    }
    fclose(f);
    cr_assert_eq(kept, 4, "two file_done and two run_end kept: %zu", kept);
    write_text(csv, "id,amount\n1,2.5\n", "w");
    struct run r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 3, "after the rotation: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "type_widened amount: integer -> decimal") != NULL, "%s", r.err);
}

/* --sample-rows reads a file's first rows: its schema is not the file's, so
 * it is neither compared with the ledger nor recorded (it reported drift, and
 * the next full run drift back on the same bytes). */
LTEST(drift, a_sampled_run_is_neither_compared_nor_recorded)
{
    write_text(tpath("f.csv"), "id,amount\n1,5\n2,6.5\n", "w");
    cr_assert_eq(INFER("f.csv").status, 0);
    struct run r = INFER("--sample-rows", "1", "--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 0, "sampled: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "--sample-rows") != NULL, "no warning that it cannot exit 3: %s", r.err);
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 0, "full run after a sampled one: exit %d: %s", r.status, r.err);
    struct ledger_lines ll = ledger_load(T.ledger, 0);
    cr_expect_eq(count_events(ll.events, "file_done", NULL), 2, "the sampled run recorded a schema");
    cr_expect_eq(count_events(ll.events, "drift", NULL), 0);
}

/* csvinfer --fail-on-drift reading `text` from standard input, named `name`
 * (--stdin-name; NULL: none); its exit status. */
static int stdin_feed(const char *name, const char *text)
{
    char *in = tpath("feed.csv");
    write_text(in, text, "w");
    char *cmd = fmt("'%s' --format json --ledger '%s' --no-cache --fail-on-drift %s%s%s - "
                    "<'%s' >/dev/null 2>&1",
                    CSVI_BIN_PATH, T.ledger, name ? "--stdin-name '" : "", name ? name : "",
                    name ? "'" : "", in);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Standard input is one identity, "-": two feeds piped into one ledger were
 * compared with each other every night.  --stdin-name gives each its own. */
LTEST(drift, stdin_feeds_named_apart_do_not_drift_against_each_other)
{
    cr_expect_eq(stdin_feed("orders", "a,b\n1,2\n"), 0);
    cr_expect_eq(stdin_feed("customers", "x,y,z\nq,w,e\n"), 0, "another feed drifted");
    cr_expect_eq(stdin_feed("orders", "a,b\n1,2.5\n"), 3, "the same feed's change unseen");
    cr_expect_eq(stdin_feed(NULL, "a,b\n1,2\n"), 0);
    cr_expect_eq(stdin_feed(NULL, "x,y,z\nq,w,e\n"), 3, "unnamed stdin is one identity");
    struct run r = RUN("history", "--ledger", T.ledger, "stdin:orders");
    cr_expect_eq(r.status, 0, "history of a named feed: %s", r.err);
    cr_expect(strstr(r.out, "stdin:orders: 2 schema versions") != NULL, "%s", r.out);
}

/* The detail of columns_reordered must not state the opposite of what
 * happened: id used to come before name and score and now comes after them. */
LTEST(drift, reordered_detail_tells_the_direction)
{
    char *csv = tpath("f.csv");
    write_text(csv, "id,name,score\n1,a,5\n2,b,7\n", "w");
    cr_assert_eq(INFER("f.csv").status, 0);
    write_text(csv, "name,score,id\na,5,1\nb,7,2\n", "w");
    struct run r = INFER("f.csv");
    const char *detail = jstr(json_array_get(json_object_get(out_file0(&r), "drift"), 0), "detail");
    cr_assert_not_null(detail, "no drift detail: %s", r.out);
    cr_expect(strstr(detail, "before columns it used to follow") == NULL,
              "columns_reordered detail says \"%s\", but \"id\" moved from column 1 to column 3: "
              "it now comes after the columns it used to precede",
              detail);
}

/* A header that is not UTF-8 (latin-1 "caf\xe9"; the ledger keeps names as
 * JSON, U+FFFD for the byte): an unchanged file must not drift. */
LTEST(drift, latin1_header_unchanged_is_no_drift)
{
    write_text(tpath("f.csv"), "id,caf\xe9\n1,a\n2,b\n", "w");
    struct run r = INFER("f.csv");
    int first = r.status; /* 1: the invalid_utf8 data error */
    cr_assert(first == 0 || first == 1, "run 1: exit %d: %s", r.status, r.err);
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, first, "run 2 over the same bytes: exit %d, run 1 had %d: %s", r.status,
                 first, r.err);
    expect_drift_list(&r, "run 2 over the same latin-1 file", NULL, NULL);
}

/* A path that is not UTF-8 ("n\xe9.csv"): its changes are still drift, and
 * history finds it. */
LTEST(drift, non_utf8_path_still_drifts)
{
    char *csv = tpath("n\xe9.csv");
    write_text(csv, "id,name\n1,a\n2,b\n", "w");
    struct run r = INFER("n\xe9.csv");
    cr_assert_eq(r.status, 0, "run 1: exit %d: %s", r.status, r.err);
    write_text(csv, "id,name,score\n1,a,5\n2,b,7\n", "w");
    r = INFER("--fail-on-drift", "n\xe9.csv");
    cr_expect_eq(r.status, 3, "a column added to n\\xe9.csv: exit %d, expected 3: %s", r.status,
                 r.err);
    cr_expect_eq(json_array_size(json_object_get(out_file0(&r), "drift")), 1,
                 "a column added to n\\xe9.csv: drift %s", r.out);
    r = RUN("history", "--ledger", T.ledger, "--format", "json", "n\xe9.csv");
    cr_expect_eq(r.status, 0, "history of n\\xe9.csv: exit %d: %s", r.status, r.err);
    cr_expect_eq(json_array_size(json_object_get(r.json, "versions")), 2,
                 "history of n\\xe9.csv: %s", r.out);
}

/* A run interrupted after a changed file finished (it then waits on stdin)
 * prints nothing and exits 130; the change must not be lost: the next
 * complete run still reports it, and exits 3 with --fail-on-drift. */
LTEST(drift, an_interrupted_run_does_not_swallow_drift)
{
    char *csv = tpath("f.csv");
    write_text(csv, "id,name\n1,a\n2,b\n", "w");
    struct run r = INFER("f.csv");
    cr_assert_eq(r.status, 0, "run 1: exit %d: %s", r.status, r.err);
    write_text(csv, "id,name,score\n1,a,5\n2,b,7\n", "w");

    int p[2];
    test_pipe(p);
    off_t before = file_size(T.ledger);
    pid_t pid = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger,
                                            "--ledger-batch", "1", "--no-cache", "--fail-on-drift",
                                            "f.csv", "-", NULL},
                      p[0], -1, -1, NULL);
    close(p[0]);
    /* f.csv is done (its events are in the ledger) while the run waits on stdin */
    bool done = false;
    for (int i = 0; i < 500 && !done; i++) {
        done = count_events(ledger_load(T.ledger, before).events, "file_done", csv) == 1;
        if (!done)
            sleep_ms(10);
    }
    cr_assert(done, "the run never finished f.csv");
    kill(pid, SIGTERM);
    cr_expect_eq(wait_exit(pid), 130, "the interrupted run's exit");
    close(p[1]);
    /* its run_end counts the file it finished, not the stream it stopped in */
    struct ledger_lines ll = ledger_load(T.ledger, before);
    size_t i;
    json_t *ev, *end = NULL;
    json_array_foreach(ll.events, i, ev)
        if (jstr_is(ev, "event", "run_end"))
            end = ev;
    cr_assert_not_null(end, "no run_end");
    cr_expect(jstr_is(end, "status", "interrupted"));
    cr_expect_eq(json_integer_value(json_object_get(end, "files")), 1, "run_end files");
    cr_expect_eq(json_integer_value(json_object_get(end, "errors")), 0, "run_end errors");
    cr_expect_eq(json_integer_value(json_object_get(end, "rows")), 2, "run_end rows");

    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 3,
                 "the run after an interrupted one: exit %d, expected 3 (column_added score was "
                 "never reported: the interrupted run printed no output and exited 130)",
                 r.status);
    expect_drift_list(&r, "the run after an interrupted one", "column_added", "score");
}

/* SIGTERM while a FIFO waits for its writer: the run stops (exit 130) and
 * the FIFO is not a bad file — no file_error "cannot open: Interrupted
 * system call", no unreadable file in run_end — with either engine. */
LTEST(drift, a_signal_while_a_fifo_waits_is_not_a_file_error)
{
    char *fifo = tpath("ff.csv");
    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
    static const char *const modes[][2] = {{"--threads", "2"}, {"--threads", "1"}};
    for (size_t m = 0; m < 2; m++) {
        off_t before = file_size(T.ledger) < 0 ? 0 : file_size(T.ledger);
        pid_t pid = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger,
                                                "--ledger-batch", "1", "--no-cache",
                                                modes[m][0], modes[m][1], fifo, NULL},
                          -1, -1, -1, NULL);
        bool started = false; /* run_start is written before the FIFO is opened */
        for (int i = 0; i < 500 && !started; i++) {
            started = access(T.ledger, F_OK) == 0 &&
                      count_events(ledger_load(T.ledger, before).events, "run_start", NULL) == 1;
            if (!started)
                sleep_ms(10);
        }
        cr_assert(started, "the run never started");
        sleep_ms(200); /* now blocked in open() of the FIFO */
        kill(pid, SIGTERM);
        cr_expect_eq(wait_exit(pid), 130, "%s %s: exit", modes[m][0], modes[m][1]);
        json_t *events = ledger_load(T.ledger, before).events;
        cr_expect_eq(count_events(events, "file_error", NULL), 0,
                     "%s %s: a file_error for the FIFO", modes[m][0], modes[m][1]);
        json_t *end = json_array_get(events_of(events, "run_end", NULL), 0);
        cr_assert_not_null(end, "%s %s: no run_end", modes[m][0], modes[m][1]);
        cr_expect_eq(json_integer_value(json_object_get(end, "files_unreadable")), 0,
                     "%s %s: files_unreadable", modes[m][0], modes[m][1]);
        cr_expect(jstr_is(end, "status", "interrupted"), "%s %s: status", modes[m][0],
                  modes[m][1]);
    }
}

/* Options that cannot work without the cache or the ledger say so on stderr
 * (the run goes on, reading every file). */
LTEST(drift, trust_options_without_cache_or_ledger_warn)
{
    write_text(tpath("f.csv"), "id\n1\n", "w");
    struct run r = INFER("--trust-mtime", "f.csv"); /* INFER has --no-cache */
    cr_expect_eq(r.status, 0, "--trust-mtime --no-cache: exit %d", r.status);
    cr_expect(strstr(r.err, "warning: --trust-mtime looks files up in the cache") != NULL,
              "--trust-mtime --no-cache: no warning: %s", r.err);
    r = INFER("--trust-append", "f.csv");
    cr_expect(strstr(r.err, "warning: --trust-append needs the ledger and the cache") != NULL,
              "--trust-append --no-cache: no warning: %s", r.err);
    cr_expect(strstr(r.err, "--trust-mtime looks") == NULL, "two warnings for one flag: %s",
              r.err);
}

/* ---- history -------------------------------------------------------------------- */

static void expect_names(const json_t *schema, const char *const *names, const char *what)
{
    size_t n = 0;
    while (names[n])
        n++;
    cr_expect_eq(json_array_size(schema), n, "%s: %zu columns, expected %zu", what,
                 json_array_size(schema), n);
    for (size_t i = 0; i < n && i < json_array_size(schema); i++)
        cr_expect(jstr_is(json_array_get(schema, i), "name", names[i]), "%s: column %zu is not %s",
                  what, i + 1, names[i]);
}

#define HISTORY(file) RUN("history", "--ledger", T.ledger, "--format", "json", (file))

LTEST(history, three_versions_in_order_with_their_drift)
{
    char *csv = tpath("f.csv");
    const char *const versions[] = {
        "id,name\n1,a\n2,b\n",         /* v1 */
        "id,name,x\n1,a,3\n2,b,4\n",   /* v2: x added (integer) */
        "id,name,x\n1,a,3.5\n2,b,4\n", /* v3: x widened to decimal */
        "id,name,x\n1,a,3.5\n2,b,4\n", /* v3 again: no new version */
    };
    for (size_t i = 0; i < 4; i++) {
        write_text(csv, versions[i], "w");
        struct run r = INFER("f.csv");
        cr_assert_eq(r.status, 0, "run %zu: exit %d: %s", i + 1, r.status, r.err);
        sleep_ms(5); /* distinct millisecond times */
    }

    struct run r = HISTORY("f.csv");
    cr_assert_eq(r.status, 0, "history: exit %d: %s", r.status, r.err);
    cr_assert_not_null(r.json, "history --format json is not JSON: %s", r.out);
    cr_expect(jstr_is(r.json, "path", csv), "history path %s, expected %s", jstr(r.json, "path"),
              csv);
    json_t *v = json_object_get(r.json, "versions");
    cr_assert_eq(json_array_size(v), 3, "%zu versions, expected 3: %s", json_array_size(v), r.out);
    json_t *v1 = json_array_get(v, 0), *v2 = json_array_get(v, 1), *v3 = json_array_get(v, 2);
    for (size_t i = 0; i < 3; i++)
        cr_expect_eq(json_integer_value(json_object_get(json_array_get(v, i), "version")),
                     (json_int_t)i + 1, "version numbers");
    expect_names(json_object_get(v1, "schema"), (const char *const[]){"id", "name", NULL}, "v1");
    expect_names(json_object_get(v2, "schema"), (const char *const[]){"id", "name", "x", NULL}, "v2");
    expect_names(json_object_get(v3, "schema"), (const char *const[]){"id", "name", "x", NULL}, "v3");
    cr_expect(jstr_is(json_array_get(json_object_get(v2, "schema"), 2), "type", "integer"), "v2 x");
    cr_expect(jstr_is(json_array_get(json_object_get(v3, "schema"), 2), "type", "decimal"), "v3 x");
    /* in order of time; the last version seen twice */
    cr_expect(strcmp(jstr(v1, "first_seen"), jstr(v2, "first_seen")) < 0, "v1 before v2");
    cr_expect(strcmp(jstr(v2, "first_seen"), jstr(v3, "first_seen")) < 0, "v2 before v3");
    cr_expect(strcmp(jstr(v3, "first_seen"), jstr(v3, "last_seen")) < 0, "v3 seen twice");
    cr_expect_eq(json_integer_value(json_object_get(v1, "runs")), 1);
    cr_expect_eq(json_integer_value(json_object_get(v2, "runs")), 1);
    cr_expect_eq(json_integer_value(json_object_get(v3, "runs")), 2);
    /* the drift that led to each version */
    json_t *d1 = json_object_get(v1, "drift"), *d2 = json_object_get(v2, "drift"),
           *d3 = json_object_get(v3, "drift");
    cr_expect(json_is_array(d1) && json_array_size(d1) == 0, "v1 has drift: %s", r.out);
    cr_assert(json_array_size(d2) == 1 && json_array_size(d3) == 1, "v2/v3 drift: %s", r.out);
    cr_expect(jstr_is(json_array_get(d2, 0), "kind", "column_added"), "v2 drift: %s", r.out);
    cr_expect(jstr_is(json_array_get(d2, 0), "column", "x"), "v2 drift: %s", r.out);
    cr_expect(jstr_is(json_array_get(d3, 0), "kind", "type_widened"), "v3 drift: %s", r.out);
    cr_expect(jstr_is(json_array_get(d3, 0), "column", "x"), "v3 drift: %s", r.out);

    /* the table says the same; an absolute path finds the same file */
    r = RUN("history", "--ledger", T.ledger, csv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "3 schema versions") != NULL, "history table: %s", r.out);
    cr_expect(strstr(r.out, "column_added") && strstr(r.out, "type_widened"), "history table: %s",
              r.out);

    /* a path the ledger never saw: exit 1 and a message */
    write_text(tpath("other.csv"), "a\n1\n", "w");
    r = HISTORY("other.csv");
    cr_expect_eq(r.status, 1, "history of an unknown path: exit %d", r.status);
    cr_expect(strstr(r.err, "other.csv") != NULL, "history: %s", r.err);
}

/* The history of a file that has since been renamed away (a rotated input),
 * asked for by the relative path it was read under. */
/* history over a ledger that does not exist says so (not "no run over"),
 * exit 1; over an existing ledger without the file, the other message. */
LTEST(history, a_missing_ledger_is_named)
{
    char *missing = tpath("no-such-ledger.jsonl");
    struct run r = RUN("history", "--ledger", missing, "f.csv");
    cr_expect_eq(r.status, 1, "exit %d", r.status);
    cr_expect(strstr(r.err, "no ledger at") != NULL && strstr(r.err, missing) != NULL,
              "stderr does not name the missing ledger: %s", r.err);
    write_text(tpath("f.csv"), "id\n1\n", "w");
    r = INFER("f.csv");
    r = RUN("history", "--ledger", T.ledger, "other.csv");
    cr_expect_eq(r.status, 1, "exit %d", r.status);
    cr_expect(strstr(r.err, "the ledger has no run over other.csv") != NULL, "stderr: %s", r.err);
    cr_expect_eq(r.out_len, 0, "a table of no versions on stdout: %s", r.out);
}

LTEST(history, a_file_no_longer_there_by_relative_path)
{
    char *csv = tpath("f.csv");
    write_text(csv, "id,name\n1,a\n2,b\n", "w");
    struct run r = INFER("f.csv");
    cr_assert_eq(r.status, 0, "run: exit %d: %s", r.status, r.err);
    cr_assert_eq(rename(csv, tpath("f.csv.1")), 0);
    r = HISTORY(csv); /* by its absolute path */
    cr_expect_eq(r.status, 0, "history %s (renamed away): exit %d: %s", csv, r.status, r.err);
    r = HISTORY("f.csv");
    cr_expect_eq(r.status, 0, "history f.csv (renamed away) from its directory: exit %d: %s",
                 r.status, r.err);
    cr_expect_eq(json_array_size(json_object_get(r.json, "versions")), 1, "history: %s", r.out);
}

/* ---- a torn last line ------------------------------------------------------------- */

LTEST(torn, half_a_line_at_the_end_is_skipped_and_ended)
{
    char *csv = tpath("f.csv");
    write_text(csv, "id,name\n1,a\n2,b\n", "w");
    struct run r = INFER("f.csv");
    cr_assert_eq(r.status, 0, "run 1: %s", r.err);
    /* a crash in the middle of a line */
    write_text(T.ledger, fmt("{\"event\":\"file_done\",\"v\":1,\"run\":\"x\",\"path\":\"%s\",\"sch", csv),
               "a");
    off_t torn_end = file_size(T.ledger);

    r = HISTORY("f.csv");
    cr_expect_eq(r.status, 0, "history over a torn ledger: exit %d: %s", r.status, r.err);
    cr_expect_eq(json_array_size(json_object_get(r.json, "versions")), 1, "history: %s", r.out);

    /* the next run finds the last schema before the torn line, reports the
     * drift, and ends the torn line before its own events */
    write_text(csv, "id,name,score\n1,a,5\n2,b,7\n", "w");
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 3, "run 2: exit %d, expected 3 (drift): %s", r.status, r.err);
    expect_drift_list(&r, "run 2 after a torn line", "column_added", "score");

    struct ledger_lines ll = ledger_load(T.ledger, 0);
    cr_expect(ll.ends_newline, "the ledger does not end with a newline");
    cr_expect_eq(ll.bad, 1, "%zu unparsable lines, expected just the torn one", ll.bad);
    ll = ledger_load(T.ledger, torn_end); /* the new run's bytes: "\n" ending the torn line, events */
    cr_expect_eq(ll.bad, 1, "new lines: %zu unparsable; only the first (empty) should be", ll.bad);
    cr_expect_eq(ll.first_bad, 1, "the first new line should only end the torn one");
    cr_expect_eq(count_events(ll.events, "run_start", NULL), 1);
    cr_expect_eq(count_events(ll.events, "file_done", csv), 1);
    cr_expect_eq(count_events(ll.events, "drift", csv), 1);
    cr_expect_eq(count_events(ll.events, "run_end", NULL), 1);
    json_t *start = json_array_get(events_of(ll.events, "run_start", NULL), 0);
    cr_expect_eq(json_integer_value(json_object_get(start, "ledger_lines_skipped")), 1,
                 "run_start should count the torn line it skipped");

    r = HISTORY("f.csv");
    cr_expect_eq(r.status, 0);
    cr_expect_eq(json_array_size(json_object_get(r.json, "versions")), 2, "history: %s", r.out);
    r = INFER("--fail-on-drift", "f.csv");
    cr_expect_eq(r.status, 0, "run 3 (unchanged): exit %d: %s", r.status, r.err);
    expect_drift_list(&r, "run 3", NULL, NULL);
}

/* ---- a ledger that cannot be written ---------------------------------------------- */

static void unwritable_case(const char *ledger, const char *what)
{
    char *out = tpath("out.json");
    write_text(tpath("f.csv"), "id,name\n1,a\n2,b\n", "w");
    write_text(tpath("blocker"), "a regular file\n", "w"); /* the parent of "blocker/..." */
    cr_assert_eq(mkdir(tpath("dir.jsonl"), 0700), 0);     /* a directory in a ledger's place */
    struct run r = RUN("--format", "json", "--ledger", ledger, "--no-cache", "-o", out, "f.csv");
    cr_expect_eq(r.status, 4, "%s: exit %d, expected 4: %s", what, r.status, r.err);
    cr_expect(strstr(r.err, ledger) != NULL, "%s: stderr does not name the ledger %s: %s", what,
              ledger, r.err);
    size_t len;
    char *text = slurp(out, &len);
    cr_assert_not_null(text, "%s: the output %s was not written", what, out);
    json_t *doc = keep_json(json_loadb(text, len, 0, NULL));
    cr_expect_not_null(doc, "%s: the output is not JSON: %s", what, text);
    json_t *f0 = json_array_get(json_object_get(doc, "files"), 0);
    cr_expect_eq(json_integer_value(json_object_get(f0, "rows")), 2, "%s: output: %s", what, text);
}

LTEST(unwritable, ledger_under_a_regular_file)
{
    unwritable_case(tpath("blocker/ledger.jsonl"), "a ledger whose parent is a regular file");
}

LTEST(unwritable, ledger_deeper_under_a_regular_file)
{
    unwritable_case(tpath("blocker/sub/ledger.jsonl"), "a ledger two levels under a regular file");
}

LTEST(unwritable, directory_in_the_ledgers_place)
{
    unwritable_case(tpath("dir.jsonl"), "a directory in the ledger's place");
}

/* VmRSS of a running process in KiB (0 if unknown). */
static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    long kib = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Exit status of pid if it ends within ms and stays under max_kib of RSS;
 * its peak RSS in *peak_kib.  Otherwise it is killed (SIGKILL) and -1
 * returned: a hang or a runaway must not outlive the test or eat the machine. */
static int wait_exit_bounded(pid_t pid, long ms, long max_kib, long *peak_kib /* OUT */)
{
    *peak_kib = 0;
    for (long waited = 0;; waited += 10) {
        int wst = 0;
        struct rusage ru;
        pid_t w = wait4(pid, &wst, WNOHANG, &ru);
        if (w == pid) {
            if (ru.ru_maxrss > *peak_kib)
                *peak_kib = ru.ru_maxrss;
            return exit_code(wst);
        }
        cr_assert(w == 0 || errno == EINTR, "waitpid: %s", strerror(errno));
        long rss = rss_kib(pid);
        if (rss > *peak_kib)
            *peak_kib = rss;
        if (waited >= ms || rss > max_kib) {
            kill(pid, SIGKILL);
            wait_exit(pid);
            return -1;
        }
        sleep_ms(10);
    }
}

/* A full disk: /dev/full, where every write fails with ENOSPC (and a read
 * gives zero bytes without end).  The run must end with exit 4, a message
 * naming the ledger and its output written, in bounded time and memory: it
 * is killed past 10 s or 256 MiB of RSS (a run over this file takes a few MiB). */
LTEST(unwritable, ledger_on_a_full_disk)
{
    if (access("/dev/full", W_OK) != 0)
        cr_skip_test("no writable /dev/full");
    char *out = tpath("out.json"), *errp = tpath("stderr");
    write_text(tpath("f.csv"), "id,name\n1,a\n2,b\n", "w");
    int efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(efd >= 0);
    pid_t pid = spawn((const char *const[]){"--format", "json", "--ledger", "/dev/full",
                                            "--no-cache", "--threads", "1", "-o", out, "f.csv",
                                            NULL},
                      -1, -1, efd, NULL);
    close(efd);
    long peak = 0;
    int status = wait_exit_bounded(pid, 10000, 256 * 1024, &peak);
    char *err = slurp(errp, NULL);
    cr_assert_neq(status, -1,
                  "--ledger /dev/full: killed after reaching %ld KiB of RSS (or 10 s): it reads "
                  "the device as one ledger line without end; stderr \"%s\"",
                  peak, err);
    cr_expect_eq(status, 4, "ledger on /dev/full: exit %d, expected 4: %s", status, err);
    cr_expect(strstr(err, "/dev/full") != NULL, "the message does not name the ledger: %s", err);
    char *text = slurp(out, NULL);
    cr_expect(text && strstr(text, "\"rows\": 2"), "the output was not written: %s",
              text ? text : "(none)");
}

/* ---- --lock ----------------------------------------------------------------------- */

/* Start a run that holds --lock `lock` while it reads stdin (a pipe the test
 * keeps open); returns its pid, *feed is the pipe's write end.  Waits until
 * the lock file holds the run's pid (written once it has the lock). */
static pid_t start_lock_holder(const char *lock, int *feed /* OUT */)
{
    int p[2];
    test_pipe(p);
    pid_t pid = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger, "--no-cache",
                                            "--lock", lock, "-", NULL},
                      p[0], -1, -1, NULL);
    close(p[0]);
    *feed = p[1];
    char *want = fmt("%ld\n", (long)pid);
    for (int i = 0; i < 500; i++) {
        char *text = slurp(lock, NULL);
        if (text && strcmp(text, want) == 0)
            return pid;
        sleep_ms(10);
    }
    cr_assert_fail("the first run never took the lock %s", lock);
    return -1;
}

LTEST(lock, a_second_run_exits_75_naming_the_lock)
{
    char *lock = tpath("job.lock");
    write_text(tpath("f.csv"), "id,name\n1,a\n2,b\n", "w");
    int feed;
    pid_t first = start_lock_holder(lock, &feed);

    struct run r = INFER("--lock", lock, "f.csv");
    cr_expect_eq(r.status, 75, "second run: exit %d, expected 75: %s", r.status, r.err);
    cr_expect(strstr(r.err, lock) != NULL, "the message does not name the lock %s: %s", lock,
              r.err);
    cr_expect(strstr(r.err, fmt("%ld", (long)first)) != NULL,
              "the message does not name the holder's pid %ld: %s", (long)first, r.err);
    cr_expect_eq(r.out_len, 0, "a refused run wrote output: %s", r.out);

    cr_assert(write(feed, "id\n1\n", 5) == 5);
    close(feed);
    cr_expect_eq(wait_exit(first), 0, "the first run failed");
    r = INFER("--lock", lock, "f.csv"); /* the lock is free again */
    cr_expect_eq(r.status, 0, "a run after the first ended: exit %d: %s", r.status, r.err);
}

LTEST(lock, lock_wait_waits_for_the_first_run)
{
    char *lock = tpath("job.lock"), *out = tpath("out.json");
    write_text(tpath("f.csv"), "id,name\n1,a\n2,b\n", "w");
    int feed;
    pid_t first = start_lock_holder(lock, &feed);

    pid_t second = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger,
                                               "--no-cache", "--lock", lock, "--lock-wait", "-o",
                                               out, "f.csv", NULL},
                         -1, -1, -1, NULL);
    sleep_ms(400);
    cr_expect_eq(waitpid(second, NULL, WNOHANG), 0,
                 "--lock-wait: the second run did not wait for the first");
    cr_expect_neq(access(out, F_OK), 0, "--lock-wait: the second run wrote output while waiting");

    cr_assert(write(feed, "id\n1\n", 5) == 5);
    close(feed);
    cr_expect_eq(wait_exit(first), 0, "the first run failed");
    cr_expect_eq(wait_exit(second), 0, "--lock-wait: the second run failed after waiting");
    size_t len;
    char *text = slurp(out, &len);
    cr_assert_not_null(text, "--lock-wait: no output");
    json_t *doc = keep_json(json_loadb(text, len, 0, NULL));
    cr_expect_eq(json_integer_value(json_object_get(
                     json_array_get(json_object_get(doc, "files"), 0), "rows")),
                 2, "--lock-wait output: %s", text);

    /* both runs recorded; the waiting one's run_start after the first's run_end */
    struct ledger_lines ll = ledger_load(T.ledger, 0);
    cr_expect_eq(ll.bad, 0);
    cr_expect_eq(count_events(ll.events, "run_start", NULL), 2);
    cr_expect_eq(count_events(ll.events, "run_end", NULL), 2);
    size_t i, end1 = SIZE_MAX, start2 = SIZE_MAX;
    json_t *ev;
    json_array_foreach(ll.events, i, ev) {
        if (jstr_is(ev, "event", "run_start") &&
            json_integer_value(json_object_get(ev, "pid")) == second)
            start2 = i;
        if (jstr_is(ev, "event", "run_end") && end1 == SIZE_MAX)
            end1 = i;
    }
    cr_expect(end1 != SIZE_MAX && start2 != SIZE_MAX && end1 < start2,
              "the waiting run started (event %zu) before the first ended (event %zu)", start2,
              end1);
}

/* csvinfer writes its pid into the lock file: a file that holds data, an input
 * or the ledger is refused and left as it was (it was overwritten; on the
 * ledger the run then waited on its own flock forever). */
LTEST(lock, a_lock_file_that_holds_data_or_is_the_ledger_is_refused_unchanged)
{
    char *csv = tpath("f.csv"), *other = tpath("other.csv");
    write_text(csv, "id,name\n1,a\n2,b\n", "w");
    write_text(other, "x,y\n3,4\n", "w");
    struct run r = INFER("--lock", other, "f.csv");
    cr_expect_eq(r.status, 2, "a lock holding data: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "holds data") && strstr(r.err, "not changed"), "%s", r.err);
    cr_expect_str_eq(slurp(other, NULL), "x,y\n3,4\n", "the file was changed");
    cr_expect_eq(r.out_len, 0, "a refused run wrote output: %s", r.out);

    r = INFER("--lock", csv, csv);
    cr_expect_eq(r.status, 2, "the input as the lock: exit %d: %s", r.status, r.err);
    cr_expect_str_eq(slurp(csv, NULL), "id,name\n1,a\n2,b\n", "the input was changed");

    r = INFER("f.csv"); /* makes the ledger */
    cr_assert_eq(r.status, 0, "%s", r.err);
    size_t n0, n1;
    char *before = slurp(T.ledger, &n0);
    r = INFER("--lock", T.ledger, "f.csv");
    cr_expect_eq(r.status, 2, "the ledger as the lock: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "csvinfer's own files"), "%s", r.err);
    char *after = slurp(T.ledger, &n1);
    cr_expect(n0 == n1 && memcmp(before, after, n0) == 0, "the ledger was changed");

    char *empty = tpath("empty.lock"); /* an empty file, or one holding a pid, is a lock */
    write_text(empty, "", "w");
    r = INFER("--lock", empty, "f.csv");
    cr_expect_eq(r.status, 0, "an empty lock file: exit %d: %s", r.status, r.err);
    r = INFER("--lock", empty, "f.csv");
    cr_expect_eq(r.status, 0, "a lock file holding a pid: exit %d: %s", r.status, r.err);
}

/* A stop signal while --lock-wait waits: exit 130 with a message (it was
 * the default action: 143 and nothing said). */
LTEST(lock, a_stop_signal_while_waiting_for_the_lock_exits_130)
{
    char *lock = tpath("job.lock"), *errp = tpath("err.txt");
    write_text(tpath("f.csv"), "id,name\n1,a\n", "w");
    int feed;
    pid_t first = start_lock_holder(lock, &feed);
    int efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert(efd >= 0);
    pid_t second = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger,
                                               "--no-cache", "--lock", lock, "--lock-wait",
                                               "f.csv", NULL},
                         -1, -1, efd, NULL);
    close(efd);
    sleep_ms(300);
    cr_expect_eq(waitpid(second, NULL, WNOHANG), 0, "the second run did not wait");
    kill(second, SIGTERM);
    cr_expect_eq(wait_exit(second), 130, "SIGTERM while waiting for the lock");
    char *err = slurp(errp, NULL);
    cr_expect(err && strstr(err, "interrupted while waiting for the lock"), "stderr: %s", err);
    cr_assert(write(feed, "id\n1\n", 5) == 5);
    close(feed);
    cr_expect_eq(wait_exit(first), 0, "the first run failed");
}

/* --ledger names a file: its directory is not made (a typo made a fresh
 * ledger elsewhere, so drift was never reported, without a word), and a file
 * that is not a ledger (a CSV named by mistake) is never appended to. */
LTEST(ledger, a_ledger_path_in_a_missing_directory_or_not_a_ledger_is_refused)
{
    write_text(tpath("f.csv"), "id,name\n1,a\n", "w");
    char *missing = tpath("nonexistent/l.jsonl");
    struct run r = RUN("--format", "json", "--ledger", missing, "--no-cache", "f.csv");
    cr_expect_eq(r.status, 4, "a ledger in a missing directory: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "directory does not exist") != NULL, "%s", r.err);
    cr_expect_neq(access(tpath("nonexistent"), F_OK), 0, "the directory was made");
    char *data = tpath("data.csv");
    write_text(data, "x,y\n1,2\n", "w");
    r = RUN("--format", "json", "--ledger", data, "--no-cache", "f.csv");
    cr_expect_eq(r.status, 4, "a CSV as the ledger: exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "is not a ledger") != NULL, "%s", r.err);
    cr_expect_str_eq(slurp(data, NULL), "x,y\n1,2\n", "the CSV was written to");
}

/* ---- closed standard descriptors ------------------------------------------------ */

/* csvinfer run by sh with some of fds 0-2 closed (redir: e.g. ">&-"); exit status. */
static int run_closed(const char *args, const char *redir)
{
    char *cmd = fmt("cd '%s' && timeout 20 '%s' --ledger '%s' --no-cache %s %s", T.dir,
                    CSVI_BIN_PATH, T.ledger, args, redir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A closed stdout, stderr or stdin: the ledger opened on fd 1 got the JSON output,
 * on fd 2 the error lines; the io_uring ring on fd 0 made `-` wait forever. */
LTEST(ledger, closed_standard_descriptors_never_reach_the_ledger)
{
    write_text(tpath("f.csv"), "id,name\n1,a\n2,b\n", "w");
    write_text(tpath("ragged.csv"), "id,name\n1,a,x\n2,b\n", "w");
    cr_expect_eq(run_closed("f.csv", ">&-"), 2, "stdout closed, no -o: a usage error");
    cr_expect_eq(run_closed("-o out.json f.csv", ">&-"), 0, "stdout closed, -o given");
    cr_expect_eq(run_closed("ragged.csv", "2>&- >/dev/null"), 1, "stderr closed");
    cr_expect_eq(run_closed("-", "<&- >/dev/null"), 0, "stdin closed: `-` is empty, no hang");
    struct ledger_lines ll = ledger_load(T.ledger, 0);
    cr_expect_eq(ll.bad, 0, "lines of the ledger that are not events: %zu", (size_t)ll.bad);
    cr_expect_eq(count_events(ll.events, "run_end", NULL), 3, "three runs recorded");
}

/* ---- progress ------------------------------------------------------------------- */

#define SLOW_CSV "id,name,amount\n1,a,1.5\n2,b,2.5\n3,c,\n"
#define SLOW_MS 1000 /* > 0.5 s, when the progress line first shows */

/* Append what fd has to read now to *buf (kept), without waiting more than ms. */
static void take_output(int fd, char **buf, size_t *n, size_t *cap, int ms)
{
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, ms) <= 0)
            return;
        if (*n + 1024 >= *cap) {
            *cap = *cap ? 2 * *cap : 8192;
            *buf = realloc(*buf, *cap);
            cr_assert_not_null(*buf);
        }
        ssize_t got = read(fd, *buf + *n, 1023);
        if (got <= 0) /* EIO from a pty master: the terminal's other side is closed */
            return;
        *n += (size_t)got;
        (*buf)[*n] = '\0';
    }
}

/* Feed SLOW_CSV to fd in ten pieces over SLOW_MS, then close it; meanwhile
 * collect what the pty master (if >= 0) shows.  Returns that (kept). */
static char *feed_slowly(int fd, int master)
{
    char *shown = NULL;
    size_t n = 0, cap = 0;
    const char *p = SLOW_CSV;
    size_t left = strlen(p);
    for (int step = 0; step < 10; step++) {
        size_t k = step == 9 ? left : left / 4;
        cr_assert(write(fd, p, k) == (ssize_t)k);
        p += k;
        left -= k;
        sleep_ms(SLOW_MS / 10);
        if (master >= 0)
            take_output(master, &shown, &n, &cap, 0);
    }
    close(fd);
    return keep(shown ? shown : strdup(""));
}

/* A run over stdin fed for SLOW_MS with `--progress mode`, its stderr a new
 * pseudo-terminal: returns what the terminal showed, *status the exit status. */
static char *run_on_pty(const char *mode, int *status /* OUT */)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert(master >= 0, "posix_openpt: %s", strerror(errno));
    cr_assert(grantpt(master) == 0 && unlockpt(master) == 0, "grantpt/unlockpt: %s",
              strerror(errno));
    char slave[128];
    cr_assert_eq(ptsname_r(master, slave, sizeof slave), 0);
    fcntl(master, F_SETFD, FD_CLOEXEC);
    int p[2];
    test_pipe(p);
    pid_t pid = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger, "--no-cache",
                                            "--progress", mode, "-o", tpath("out.json"), "-",
                                            NULL},
                      p[0], -1, -1, slave);
    close(p[0]);
    char *shown = feed_slowly(p[1], master);
    *status = wait_exit(pid);
    size_t n = strlen(shown), cap = n + 1;
    char *rest = malloc(cap);
    cr_assert_not_null(rest);
    memcpy(rest, shown, cap);
    take_output(master, &rest, &n, &cap, 500);
    close(master);
    return keep(rest);
}

LTEST(progress, auto_prints_nothing_without_a_terminal)
{
    char *errp = tpath("stderr");
    for (int always = 0; always < 2; always++) {
        int efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        cr_assert(efd >= 0);
        int p[2];
        test_pipe(p);
        pid_t pid = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger,
                                                "--no-cache", "--progress",
                                                always ? "always" : "auto", "-o",
                                                tpath("out.json"), "-", NULL},
                          p[0], -1, efd, NULL);
        close(p[0]);
        close(efd);
        feed_slowly(p[1], -1);
        cr_expect_eq(wait_exit(pid), 0);
        char *err = slurp(errp, NULL);
        if (!always)
            cr_expect_str_empty(err, "--progress auto, stderr a file: it got \"%s\"", err);
        else
            cr_expect(strstr(err, "files") && strstr(err, "GB/s"),
                      "--progress always, stderr a file: no progress line in \"%s\"", err);
    }
}

LTEST(progress, auto_shows_the_line_on_a_terminal_never_does_not)
{
    int status;
    char *shown = run_on_pty("auto", &status);
    cr_expect_eq(status, 0, "--progress auto on a pty: exit %d: %s", status, shown);
    cr_expect(strstr(shown, "files") && strstr(shown, "GB/s"),
              "--progress auto on a terminal: no progress line in \"%s\"", shown);
    shown = run_on_pty("never", &status);
    cr_expect_eq(status, 0, "--progress never on a pty: exit %d: %s", status, shown);
    cr_expect_str_empty(shown, "--progress never on a terminal printed \"%s\"", shown);
}

/* ---- signals -------------------------------------------------------------------- */

LTEST(signal, sigterm_while_reading_stdin_records_interrupted)
{
    int p[2];
    test_pipe(p);
    char *errp = tpath("stderr");
    int efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(efd >= 0);
    pid_t pid = spawn((const char *const[]){"--format", "json", "--ledger", T.ledger, "--no-cache",
                                            "-", NULL},
                      p[0], -1, efd, NULL);
    close(p[0]);
    close(efd);
    cr_assert(write(p[1], "id,name\n1,a\n", 12) == 12);
    /* wait for run_start (written at once), then stop it */
    for (int i = 0; i < 500 && file_size(T.ledger) <= 0; i++)
        sleep_ms(10);
    sleep_ms(100);
    kill(pid, SIGTERM);
    int status = wait_exit(pid);
    close(p[1]);
    cr_expect_eq(status, 130, "SIGTERM: exit %d, expected 130: %s", status, slurp(errp, NULL));
    struct ledger_lines ll = ledger_load(T.ledger, 0);
    cr_expect_eq(ll.bad, 0);
    json_t *last = json_array_get(ll.events, json_array_size(ll.events) - 1);
    cr_assert_not_null(last, "the ledger is empty");
    cr_expect(jstr_is(last, "event", "run_end"), "the last event is %s", jstr(last, "event"));
    cr_expect(jstr_is(last, "status", "interrupted"), "run_end status %s", jstr(last, "status"));
    cr_expect_eq(json_integer_value(json_object_get(last, "exit")), 130);
    cr_expect_eq(count_events(ll.events, "file_done", NULL), 0,
                 "a file cut by the signal was recorded as done");
}

/* --group: a table's schema is compared with the last table_done of the same
 * table (its name in its files' directory) from a complete run: a new file
 * with an extra column and a decimal widens the table, reported once in the
 * JSON's tables[].drift, on stderr and as a ledger drift event, exit 3 with
 * --fail-on-drift; the next run reports nothing. */
static json_t *table0(const struct run *r)
{
    return json_array_get(json_object_get(r->json, "tables"), 0);
}

static bool table_drift_has(const struct run *r, const char *kind, const char *column)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(table0(r), "drift"), i, d) {
        if (jstr_is(d, "kind", kind) && jstr_is(d, "column", column))
            return true;
    }
    return false;
}

LTEST(drift, a_grouped_table_drifts_once)
{
    cr_assert_eq(mkdir(tpath("in"), 0700), 0);
    write_text(tpath("in/sales_2024_01.csv"), "id,amount\n1,2\n2,3\n", "w");
    write_text(tpath("in/sales_2024_02.csv"), "id,amount\n3,4\n", "w");
    struct run r = INFER("--group", "--fail-on-drift", "in");
    cr_assert_eq(r.status, 0, "run 1: exit %d: %s", r.status, r.err);
    cr_assert_not_null(table0(&r), "run 1: no table");
    cr_expect_eq(json_array_size(json_object_get(table0(&r), "drift")), 0, "run 1: drift");

    write_text(tpath("in/sales_2024_03.csv"), "id,amount,coupon\n5,6.5,x\n", "w");
    r = INFER("--group", "--fail-on-drift", "in");
    cr_expect_eq(r.status, 3, "run 2: exit %d, expected 3: %s", r.status, r.err);
    cr_expect(table_drift_has(&r, "column_added", "coupon"), "run 2: no column_added coupon");
    cr_expect(table_drift_has(&r, "type_widened", "amount"), "run 2: no type_widened amount");
    cr_expect(strstr(r.err, "table sales: schema drift") != NULL, "run 2: stderr: %s", r.err);
    size_t n = 0;
    char *text = slurp(T.ledger, &n);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "\"event\":\"table_done\"") != NULL, "no table_done in the ledger");
    cr_expect(strstr(text, "\"kind\":\"column_added\",\"column\":\"coupon\"") != NULL,
              "no drift event for the table in the ledger");

    r = INFER("--group", "--fail-on-drift", "in");
    cr_expect_eq(r.status, 0, "run 3: exit %d (drift is reported once): %s", r.status, r.err);
    cr_expect_eq(json_array_size(json_object_get(table0(&r), "drift")), 0, "run 3: drift again");

    /* history of the table: DIR/NAME */
    r = RUN("history", "--ledger", T.ledger, "--format", "json", "in/sales");
    cr_assert_eq(r.status, 0, "history in/sales: exit %d: %s", r.status, r.err);
    json_t *v = json_object_get(r.json, "versions");
    cr_expect_eq(json_array_size(v), 2, "history in/sales: %zu versions, expected 2",
                 json_array_size(v));
    cr_expect_gt(json_array_size(json_object_get(json_array_get(v, 1), "drift")), 0,
                 "history in/sales: version 2 without its drift");
}
