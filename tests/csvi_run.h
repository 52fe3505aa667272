/*
 * csvi_run.h — helpers shared by the binary-driven tests of --format ndjson,
 * --group and `csvinfer merge` (tests/test_ndjson.c, test_group.c,
 * test_merge.c): run the csvinfer binary with stdout and stderr captured,
 * or start it and read its stdout as it comes; make temporary trees of
 * files; parse and compare JSON.  Header-only (static functions): each test
 * is one translation unit.
 *
 * Every run gets XDG_CACHE_HOME / XDG_STATE_HOME inside the test's own
 * temporary directory, so neither the user's cache nor ledger is touched.
 * Built with CSVI_BIN_PATH (absolute path of the binary) defined.
 */
#ifndef CSVI_TEST_RUN_H
#define CSVI_TEST_RUN_H

#define _GNU_SOURCE /* mkdtemp, nftw, asprintf, pipe2 */

#include <criterion/criterion.h>
#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CSVI_BIN_PATH
#error "CSVI_BIN_PATH must be defined: absolute path of the csvinfer binary"
#endif

extern char **environ;

/* Each test uses some of these helpers. */
#define RT_FN static __attribute__((unused))

/* ---- files ------------------------------------------------------------- */

RT_FN int rt_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

RT_FN void rt_rm_tree(const char *dir) { nftw(dir, rt_rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* A fresh temporary directory (caller frees, and removes it with rt_rm_tree). */
RT_FN char *rt_tmpdir(void)
{
    char *t = strdup("/tmp/csvi-test-XXXXXX");
    cr_assert_not_null(t);
    cr_assert_not_null(mkdtemp(t), "mkdtemp: %s", strerror(errno));
    return t;
}

RT_FN char *rt_path(const char *dir, const char *rel) /* caller frees */
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, rel) >= 0);
    return p;
}

/* Write n bytes to dir/rel, making the directories on the way. */
RT_FN void rt_write(const char *dir, const char *rel, const void *data, size_t n)
{
    char *p = rt_path(dir, rel);
    for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "cannot write %s: %s", p, strerror(errno));
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    free(p);
}

RT_FN void rt_write_text(const char *dir, const char *rel, const char *text)
{
    rt_write(dir, rel, text, strlen(text));
}

/* The whole file (NUL-terminated; caller frees), or NULL. */
RT_FN char *rt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? 2 * cap : 65536;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (!got)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* ---- running the binary -------------------------------------------------- */

struct rt_run {
    char *out, *err; /* NUL-terminated; rt_run_free frees */
    size_t out_len, err_len;
    int status;      /* exit status; 128 + signal if killed */
};

RT_FN void rt_run_free(struct rt_run *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* argv of the child: the binary, then args (NULL-terminated).  envp: ours
 * with XDG_CACHE_HOME and XDG_STATE_HOME under home. */
struct rt_child {
    const char **argv;
    char **envp;
    char *cache_env, *state_env;
};

RT_FN void rt_child_make(struct rt_child *c, const char *home, const char *const *args)
{
    size_t na = 0;
    while (args[na])
        na++;
    c->argv = calloc(na + 2, sizeof *c->argv);
    cr_assert_not_null(c->argv);
    c->argv[0] = CSVI_BIN_PATH;
    for (size_t i = 0; i < na; i++)
        c->argv[i + 1] = args[i];
    size_t ne = 0;
    while (environ[ne])
        ne++;
    c->envp = calloc(ne + 3, sizeof *c->envp);
    cr_assert_not_null(c->envp);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "XDG_CACHE_HOME=", 15) && strncmp(environ[i], "XDG_STATE_HOME=", 15))
            c->envp[k++] = environ[i];
    cr_assert(asprintf(&c->cache_env, "XDG_CACHE_HOME=%s/.xdg-cache", home) >= 0);
    cr_assert(asprintf(&c->state_env, "XDG_STATE_HOME=%s/.xdg-state", home) >= 0);
    c->envp[k++] = c->cache_env;
    c->envp[k++] = c->state_env;
    c->envp[k] = NULL;
}

RT_FN void rt_child_free(struct rt_child *c)
{
    free(c->argv);
    free(c->envp);
    free(c->cache_env);
    free(c->state_env);
}

/* Start the binary in cwd (stdin /dev/null); *out_fd / *err_fd: its stdout
 * and stderr (NULL: stderr passes through). */
RT_FN pid_t rt_spawn(const char *cwd, const char *home, const char *const *args, int *out_fd,
                      int *err_fd)
{
    struct rt_child c;
    rt_child_make(&c, home, args);
    int po[2], pe[2] = {-1, -1};
    cr_assert_eq(pipe2(po, O_CLOEXEC), 0);
    if (err_fd)
        cr_assert_eq(pipe2(pe, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* a failed assertion ends the test's process: the child goes with it
         * (else it could wait on a FIFO forever) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1 || chdir(cwd) != 0)
            _exit(126);
        int dn = open("/dev/null", O_RDONLY);
        if (dn >= 0)
            dup2(dn, STDIN_FILENO);
        dup2(po[1], STDOUT_FILENO);
        if (err_fd)
            dup2(pe[1], STDERR_FILENO);
        execve(CSVI_BIN_PATH, (char *const *)c.argv, c.envp);
        _exit(127);
    }
    close(po[1]);
    if (err_fd)
        close(pe[1]);
    *out_fd = po[0];
    if (err_fd)
        *err_fd = pe[0];
    rt_child_free(&c);
    return pid;
}

RT_FN int rt_wait(pid_t pid)
{
    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + (WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
}

RT_FN void rt_append(char **buf, size_t *n, size_t *cap, const char *p, size_t k)
{
    if (*n + k + 1 > *cap) {
        while (*n + k + 1 > *cap)
            *cap = *cap ? 2 * *cap : 65536;
        *buf = realloc(*buf, *cap);
        cr_assert_not_null(*buf);
    }
    memcpy(*buf + *n, p, k);
    *n += k;
    (*buf)[*n] = '\0';
}

/* Run the binary in cwd to its end; stdout and stderr captured. */
RT_FN void rt_run(const char *cwd, const char *home, const char *const *args, struct rt_run *r)
{
    int fo, fe;
    pid_t pid = rt_spawn(cwd, home, args, &fo, &fe);
    size_t co = 0, ce = 0;
    memset(r, 0, sizeof *r);
    rt_append(&r->out, &r->out_len, &co, "", 0);
    rt_append(&r->err, &r->err_len, &ce, "", 0);
    struct pollfd pf[2] = {{fo, POLLIN, 0}, {fe, POLLIN, 0}};
    int open_fds = 2;
    char chunk[65536];
    while (open_fds) {
        if (poll(pf, 2, -1) < 0) {
            cr_assert_eq(errno, EINTR);
            continue;
        }
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = read(pf[i].fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 0)
                rt_append(&r->out, &r->out_len, &co, chunk, (size_t)got);
            else
                rt_append(&r->err, &r->err_len, &ce, chunk, (size_t)got);
        }
    }
    r->status = rt_wait(pid);
}

/* rt_run with the arguments as a list of strings ending in NULL. */
RT_FN void rt_runv(const char *cwd, const char *home, struct rt_run *r, ...)
{
    const char *args[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        cr_assert_lt(n, 63);
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    rt_run(cwd, home, args, r);
}

/* ---- JSON ---------------------------------------------------------------- */

RT_FN json_t *rt_parse(const char *what, const char *s, size_t n)
{
    json_error_t jerr;
    json_t *doc = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(doc, "%s: not JSON (line %d: %s):\n%.3000s", what, jerr.line, jerr.text, s);
    return doc;
}

/* Drop what differs between equal runs: summary.seconds. */
RT_FN void rt_drop_timing(json_t *doc)
{
    json_object_del(json_object_get(doc, "summary"), "seconds");
}

RT_FN void rt_dump(const char *label, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    fprintf(stderr, "---- %s ----\n%.20000s\n", label, s ? s : "(cannot dump)");
    free(s);
}

/* The object of array arr whose key equals the string val, or NULL. */
RT_FN json_t *rt_find(json_t *arr, const char *key, const char *val)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        const char *s = json_string_value(json_object_get(x, key));
        if (s && strcmp(s, val) == 0)
            return x;
    }
    return NULL;
}

/* Column `name` of a file or table object. */
RT_FN json_t *rt_column(json_t *obj, const char *name)
{
    return rt_find(json_object_get(obj, "columns"), "name", name);
}

#endif
