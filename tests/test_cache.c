/*
 * test_cache.c — end-to-end tests of the verdict cache (DESIGN.md §1 "The
 * cache", issue 4 "Tests") through the csvinfer binary (Criterion + jansson).
 *
 * Every test works in its own mkdtemp sandbox under /tmp: CSV files it
 * generates (deterministic PRNG), its own cache directory, always passed as
 * --cache DIR, and private XDG_CACHE_HOME / XDG_STATE_HOME.  The rule checked
 * after every cached run: the cache never changes a verdict.  The JSON of the
 * run without per-file "seconds" and "cache" and without "summary.seconds"
 * equals, as a JSON value, the JSON of `--no-cache --threads 1` (the
 * sequential engine) with the same other options, and so does the exit
 * status; a run killed by a signal fails the test.
 *
 *   hit_after_first_run          a multi-slice file and a directory of small files
 *   hits_never_exceed_slices     a file whose last slice is empty
 *   changed_option_misses        verdict options miss; threads and io do not
 *   changed_byte_misses_its_slice   inside a slice, across a boundary, moving one
 *   append_reuses_old_slices     log-style growth, with and without a final newline
 *   damaged_store_flipped_bytes  every header and record field, random multi-byte
 *   damaged_store_truncated      at every offset of a small store
 *   foreign_store                random bytes, empty, header only, ..., a directory
 *   concurrent_runs              two processes on one cache dir, many rounds
 *   eviction_keeps_bound         --cache-size: the store never ends a run over it
 *   eviction_is_lru              the most recently used values survive compaction
 *   differential                 random files x chunk sizes x threads
 *
 * The store (DIR/verdicts.csvc) is read with the constants of cache/store.h
 * and a parser of our own (XXH64 inlined from xxhash.h), so this runner needs
 * no library.
 *
 * Time: every run is timed; the loops of many runs size themselves to a
 * budget from the mean run time, so a sanitizer build runs fewer trials (the
 * count is printed).  Environment: CSVI_CACHE_TEST_SCALE=F multiplies the
 * budgets (e.g. 20 for every trial under ASan), CSVI_CACHE_TEST_KEEP=1 keeps
 * the sandboxes.  Built with CSVI_BIN_PATH (the csvinfer binary) defined.
 */
#define _GNU_SOURCE /* mkdtemp, nftw, vasprintf */

#include <criterion/criterion.h>
#include <jansson.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../cache/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CSVI_BIN_PATH
#error "CSVI_BIN_PATH must be defined: absolute path of the csvinfer binary"
#endif

extern char **environ;

#define RUN_TIMEOUT_S 300 /* a run still going after this is killed (SIGALRM) */
#define MAX_ARGS 200
#define CHUNK "16k"       /* slices of the multi-slice files */
#define CHUNK_BYTES 16384u

/* ---- small helpers ---------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    cr_assert_not_null(d, "out of memory");
    return d;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) /* caller frees */
{
    va_list ap;
    va_start(ap, fmt);
    char *s;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    cr_assert_geq(n, 0, "out of memory");
    return s;
}

struct buf {
    char *p;   /* NUL-terminated; owned */
    size_t n, cap;
};

static void buf_add(struct buf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        cr_assert_not_null(b->p, "out of memory");
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_puts(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    cr_assert_geq(n, 0, "out of memory");
    buf_add(b, s, (size_t)n);
    free(s);
}

static void buf_free(struct buf *b)
{
    free(b->p);
    *b = (struct buf){0};
}

/* splitmix64: deterministic, seeded per test */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(struct rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }
static bool rng_pct(struct rng *r, unsigned pct) { return rng_below(r, 100) < pct; }

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(p, 1, n, f), n, "cannot write %s", path);
    cr_assert_eq(fclose(f), 0, "cannot write %s: %s", path, strerror(errno));
}

/* The whole file, NUL-terminated (caller frees); NULL if it cannot be read. */
static uint8_t *slurp(const char *path, size_t *len /* OUT */)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *len = 0;
    if (fd < 0)
        return NULL;
    struct buf b = {0};
    char tmp[65536];
    ssize_t got;
    while ((got = read(fd, tmp, sizeof tmp)) > 0)
        buf_add(&b, tmp, (size_t)got);
    close(fd);
    if (got < 0) {
        buf_free(&b);
        return NULL;
    }
    if (!b.p)
        buf_add(&b, "", 0);
    *len = b.n;
    return (uint8_t *)b.p;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *p = slurp(from, &n);
    cr_assert_not_null(p, "cannot read %s", from);
    write_file(to, p, n);
    free(p);
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the sandbox and running the binary ------------------------------------ */

struct sandbox {
    char root[64];          /* the mkdtemp directory */
    char *cache;            /* root/cache: the --cache DIR */
    char *data;             /* root/data: generated CSV files */
    char *env_cache, *env_state; /* "XDG_CACHE_HOME=root/xdg/cache", ... */
    unsigned seq;           /* runs started: names their output files */
};

static double g_run_ms;     /* time of the runs of this test process */
static unsigned g_runs;

static void sandbox_open(struct sandbox *sb)
{
    memset(sb, 0, sizeof *sb);
    strcpy(sb->root, "/tmp/csvi-cache-test-XXXXXX");
    cr_assert_not_null(mkdtemp(sb->root), "mkdtemp: %s", strerror(errno));
    sb->cache = xasprintf("%s/cache", sb->root);
    sb->data = xasprintf("%s/data", sb->root);
    char *xdg = xasprintf("%s/xdg", sb->root);
    cr_assert_eq(mkdir(sb->data, 0700), 0, "mkdir %s: %s", sb->data, strerror(errno));
    cr_assert_eq(mkdir(xdg, 0700), 0, "mkdir %s: %s", xdg, strerror(errno));
    sb->env_cache = xasprintf("XDG_CACHE_HOME=%s/cache", xdg);
    sb->env_state = xasprintf("XDG_STATE_HOME=%s/state", xdg);
    free(xdg);
}

static void sandbox_close(struct sandbox *sb)
{
    if (getenv("CSVI_CACHE_TEST_KEEP"))
        fprintf(stderr, "note: kept %s\n", sb->root);
    else
        rm_tree(sb->root);
    free(sb->cache);
    free(sb->data);
    free(sb->env_cache);
    free(sb->env_state);
}

/* sandbox-relative path (caller frees) */
static char *data_path(const struct sandbox *sb, const char *name)
{
    return xasprintf("%s/%s", sb->data, name);
}

struct args {
    char *v[MAX_ARGS]; /* owned */
    size_t n;
};

static void args_add(struct args *a, const char *s)
{
    cr_assert_lt(a->n, (size_t)MAX_ARGS, "too many arguments");
    a->v[a->n++] = xstrdup(s);
}

static void args_addva(struct args *a, va_list ap) /* NULL-terminated strings */
{
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL)
        args_add(a, s);
}

static void args_addl(struct args *a, ...) /* NULL-terminated strings */
{
    va_list ap;
    va_start(ap, a);
    args_addva(a, ap);
    va_end(ap);
}

static void args_cat(struct args *a, const struct args *b)
{
    for (size_t i = 0; i < b->n; i++)
        args_add(a, b->v[i]);
}

static void args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

struct run {
    char *out, *err;  /* stdout, stderr; owned */
    size_t out_len;
    int status;       /* exit status; 128 + signal if killed */
    int sig;          /* the signal that killed it, else 0 */
    json_t *doc;      /* stdout parsed, or NULL */
    char *cmd;        /* the command line, for messages; owned */
};

struct job {
    pid_t pid;
    char *out_path, *err_path, *cmd;
    double t0;
};

/* Start `csvinfer --format json --no-ledger ARGS` with stdout and stderr in
 * files of the sandbox, stdin /dev/null, the sandbox's XDG folders. */
static void job_start(struct sandbox *sb, const struct args *a, struct job *j)
{
    unsigned id = sb->seq++;
    j->out_path = xasprintf("%s/run-%u.out", sb->root, id);
    j->err_path = xasprintf("%s/run-%u.err", sb->root, id);
    const char *argv[MAX_ARGS + 8];
    size_t k = 0;
    argv[k++] = CSVI_BIN_PATH;
    argv[k++] = "--format";
    argv[k++] = "json";
    argv[k++] = "--no-ledger";
    struct buf cmd = {0};
    buf_puts(&cmd, "csvinfer --format json --no-ledger");
    for (size_t i = 0; i < a->n; i++) {
        argv[k++] = a->v[i];
        buf_printf(&cmd, " %s", a->v[i]);
    }
    argv[k] = NULL;
    j->cmd = cmd.p;

    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 3, sizeof *envp);
    cr_assert_not_null(envp, "out of memory");
    size_t e = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "XDG_CACHE_HOME=", 15) != 0 &&
            strncmp(environ[i], "XDG_STATE_HOME=", 15) != 0)
            envp[e++] = environ[i];
    envp[e++] = sb->env_cache;
    envp[e++] = sb->env_state;
    envp[e] = NULL;

    int ofd = open(j->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int efd = open(j->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert(ofd >= 0 && efd >= 0, "cannot create run output files: %s", strerror(errno));
    fflush(NULL);
    j->t0 = now_ms();
    j->pid = fork();
    cr_assert_neq(j->pid, -1, "fork: %s", strerror(errno));
    if (j->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(ofd, STDOUT_FILENO) < 0 ||
            dup2(efd, STDERR_FILENO) < 0)
            _exit(126);
        alarm(RUN_TIMEOUT_S); /* kept across execve: a hang ends as SIGALRM */
        execve(CSVI_BIN_PATH, (char *const *)argv, envp);
        _exit(127);
    }
    close(ofd);
    close(efd);
    free(envp);
}

static void job_finish(struct job *j, struct run *r /* OUT */)
{
    int wst = 0;
    while (waitpid(j->pid, &wst, 0) < 0 && errno == EINTR)
        ;
    g_run_ms += now_ms() - j->t0;
    g_runs++;
    memset(r, 0, sizeof *r);
    size_t elen;
    r->out = (char *)slurp(j->out_path, &r->out_len);
    r->err = (char *)slurp(j->err_path, &elen);
    cr_assert(r->out && r->err, "cannot read the output of %s", j->cmd);
    unlink(j->out_path);
    unlink(j->err_path);
    free(j->out_path);
    free(j->err_path);
    r->cmd = j->cmd;
    if (WIFEXITED(wst)) {
        r->status = WEXITSTATUS(wst);
    } else {
        r->sig = WIFSIGNALED(wst) ? WTERMSIG(wst) : -1;
        r->status = 128 + (r->sig > 0 ? r->sig : 0);
    }
    json_error_t jerr;
    r->doc = json_loadb(r->out, r->out_len, JSON_REJECT_DUPLICATES, &jerr);
}

static void run_args(struct sandbox *sb, const struct args *a, struct run *r /* OUT */)
{
    struct job j;
    job_start(sb, a, &j);
    job_finish(&j, r);
}

/* run csvinfer with the NULL-terminated argument strings */
static void runv(struct sandbox *sb, struct run *r /* OUT */, ...)
{
    struct args a = {0};
    va_list ap;
    va_start(ap, r);
    args_addva(&a, ap);
    va_end(ap);
    run_args(sb, &a, r);
    args_free(&a);
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
    free(r->cmd);
    json_decref(r->doc);
    memset(r, 0, sizeof *r);
}

/* ---- budgets ------------------------------------------------------------------ */

static double mean_run_ms(void) { return g_runs ? g_run_ms / g_runs : 20.0; }

static double scale_env(void)
{
    const char *s = getenv("CSVI_CACHE_TEST_SCALE");
    double v = s ? strtod(s, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

/* How many of `wanted` trials of `runs_each` runs fit in budget_ms (times
 * CSVI_CACHE_TEST_SCALE), from the mean run time so far; at least `least`. */
static size_t trials(const char *what, size_t wanted, double budget_ms, unsigned runs_each,
                     size_t least)
{
    double fit = budget_ms * scale_env() / (mean_run_ms() * runs_each);
    size_t n = fit >= (double)wanted ? wanted : (size_t)fit;
    if (n < least)
        n = least < wanted ? least : wanted;
    if (n < wanted)
        fprintf(stderr, "note: %s: %zu of %zu trials (runs take %.1f ms; "
                        "CSVI_CACHE_TEST_SCALE raises the budget)\n",
                what, n, wanted, mean_run_ms());
    return n;
}

/* ---- JSON ---------------------------------------------------------------------- */

/* A deep copy of doc without what may differ between runs (caller decrefs). */
static json_t *verdict_of(const json_t *doc)
{
    json_t *d = json_deep_copy(doc);
    json_t *summary = json_object_get(d, "summary");
    if (json_is_object(summary))
        json_object_del(summary, "seconds");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(d, "files"), i, f) {
        if (json_is_object(f)) {
            json_object_del(f, "seconds");
            json_object_del(f, "cache");
        }
    }
    return d;
}

static void dump_run(const char *label, const struct run *r)
{
    json_t *v = r->doc ? verdict_of(r->doc) : NULL;
    char *s = v ? json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    fprintf(stderr, "---- %s: %s (exit %d)\n%.6000s\n---- stderr:\n%.1500s\n", label, r->cmd,
            r->status, s ? s : r->out, r->err);
    free(s);
    json_decref(v);
}

/* got must give ref's verdict and exit status (what: names the case). */
static void expect_same(const struct run *got, const struct run *ref, const char *what)
{
    cr_assert_eq(ref->sig, 0, "%s: the reference run was killed by signal %d: %s\n%.2000s", what,
                 ref->sig, ref->cmd, ref->err);
    cr_assert_not_null(ref->doc, "%s: the reference run printed no JSON: %s\n%.2000s", what,
                       ref->cmd, ref->err);
    cr_assert_eq(got->sig, 0, "%s: csvinfer was killed by signal %d: %s\nstderr: %.3000s", what,
                 got->sig, got->cmd, got->err);
    cr_assert_not_null(got->doc, "%s: stdout is not JSON: %s\nstdout: %.1000s\nstderr: %.3000s",
                       what, got->cmd, got->out, got->err);
    json_t *a = verdict_of(got->doc), *b = verdict_of(ref->doc);
    bool same = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    if (!same || got->status != ref->status) {
        dump_run("cached run", got);
        dump_run("--no-cache reference", ref);
    }
    cr_assert_eq(got->status, ref->status, "%s: exit status %d, the --no-cache run gave %d (%s)",
                 what, got->status, ref->status, got->cmd);
    cr_assert(same, "%s: the verdict differs from the --no-cache one (both printed above): %s",
              what, got->cmd);
}

struct counts {
    long slices, hits;
};

/* The "cache" object of file i of a run. */
static struct counts file_counts(const struct run *r, size_t i, const char *what)
{
    json_t *f = json_array_get(json_object_get(r->doc, "files"), i);
    json_t *c = json_object_get(f, "cache");
    json_t *s = json_object_get(c, "slices"), *h = json_object_get(c, "hits");
    cr_assert(json_is_integer(s) && json_is_integer(h),
              "%s: file %zu has no \"cache\": {\"slices\", \"hits\"} object (%s)", what, i, r->cmd);
    return (struct counts){(long)json_integer_value(s), (long)json_integer_value(h)};
}

/* The cache objects of all files of a run, summed. */
static struct counts counts_of(const struct run *r, const char *what)
{
    cr_assert_not_null(r->doc, "%s: no JSON from %s\n%.2000s", what, r->cmd, r->err);
    struct counts t = {0, 0};
    size_t n = json_array_size(json_object_get(r->doc, "files"));
    for (size_t i = 0; i < n; i++) {
        struct counts c = file_counts(r, i, what);
        t.slices += c.slices;
        t.hits += c.hits;
    }
    return t;
}

/* ---- the store, read with cache/store.h's format ------------------------------- */

struct srec {
    uint64_t off, size;
    uint8_t type;
};

struct store_scan {
    bool exists, foreign;
    uint64_t size, damaged;  /* bytes of the file; bytes in no valid record */
    size_t values, touches;
    struct srec *rec;        /* valid records in file order; owned */
    size_t n;
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* Size of the valid record at p (n bytes there), else 0. */
static uint64_t record_ok(const uint8_t *p, size_t n)
{
    if (n < STORE_REC_HEAD)
        return 0;
    uint32_t len = le32(p + 8);
    if (le32(p) != STORE_MAGIC || (p[4] != STORE_VALUE && p[4] != STORE_TOUCH) || p[5] || p[6] ||
        p[7] || le32(p + 12) || len > CACHE_MAX_VALUE || (p[4] == STORE_TOUCH && len))
        return 0;
    uint64_t size = STORE_REC_HEAD + (uint64_t)len + STORE_REC_TAIL;
    if (n < size || XXH64(p, STORE_REC_HEAD + (size_t)len, STORE_SEED) != le64(p + STORE_REC_HEAD + len))
        return 0;
    return size;
}

static void store_scan(const char *cache_dir, struct store_scan *s /* OUT */)
{
    memset(s, 0, sizeof *s);
    char *path = xasprintf("%s/%s", cache_dir, STORE_FILE);
    size_t n;
    uint8_t *p = slurp(path, &n);
    free(path);
    if (!p)
        return;
    s->exists = true;
    s->size = n;
    if (n > 0 && (n < STORE_HEADER_LEN || memcmp(p, STORE_HEADER, STORE_HEADER_LEN) != 0)) {
        s->foreign = true;
        free(p);
        return;
    }
    size_t cap = 0;
    for (size_t pos = n ? STORE_HEADER_LEN : 0; pos < n;) {
        uint64_t size = record_ok(p + pos, n - pos);
        if (!size) {
            s->damaged++;
            pos++;
            continue;
        }
        if (s->n == cap) {
            cap = cap ? 2 * cap : 64;
            s->rec = realloc(s->rec, cap * sizeof *s->rec);
            cr_assert_not_null(s->rec, "out of memory");
        }
        s->rec[s->n++] = (struct srec){pos, size, p[pos + 4]};
        if (p[pos + 4] == STORE_VALUE)
            s->values++;
        else
            s->touches++;
        pos += size;
    }
    free(p);
}

static void store_scan_free(struct store_scan *s) { free(s->rec); }

/* The store must be ours and undamaged (what: names the case). */
static void expect_store_clean(const char *cache_dir, const char *what)
{
    struct store_scan s;
    store_scan(cache_dir, &s);
    cr_assert(s.exists, "%s: no store %s/%s", what, cache_dir, STORE_FILE);
    cr_assert(!s.foreign, "%s: the store does not start with the header", what);
    cr_assert_eq(s.damaged, 0, "%s: %llu damaged bytes in the store (%llu bytes, %zu records)",
                 what, (unsigned long long)s.damaged, (unsigned long long)s.size, s.n);
    store_scan_free(&s);
}

/* ---- generated CSV --------------------------------------------------------------- */

struct offsets {
    size_t *v;   /* owned */
    size_t n, cap;
};

static void offsets_push(struct offsets *o, size_t x)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 1024;
        o->v = realloc(o->v, o->cap * sizeof *o->v);
        cr_assert_not_null(o->v, "out of memory");
    }
    o->v[o->n++] = x;
}

/*
 * The mixed table: columns chosen so that every verdict option changes its
 * verdict.  id: unquoted integer from 1 (a record's first byte is a digit
 * 1-9); name: quoted text, sometimes with "" or (multiline) a newline; price:
 * decimal or empty; day: m/d/Y with day and month <= 12 (ambiguous:
 * --dayfirst changes the format); code: integer or X (--null X); pad: " 42 "
 * (--no-trim); most: integer, 1 in 25 a word (--threshold 0.9); qe: "" or an
 * integer (--quoted-empty-is-text); flag: boolean.
 */
static void mixed_header(struct buf *b) { buf_puts(b, "id,name,price,day,code,pad,most,qe,flag\n"); }

static void mixed_rows(struct buf *b, struct rng *r, size_t target, long *id, bool multiline,
                       struct offsets *starts /* may be NULL */)
{
    static const char *const words[] = {"alpha", "beta", "gamma", "delta", "eps", "zeta"};
    while (b->n < target) {
        if (starts)
            offsets_push(starts, b->n);
        buf_printf(b, "%ld,\"%s %u%s", ++*id, words[rng_below(r, 6)], (unsigned)rng_below(r, 1000),
                   rng_pct(r, 5) ? " said \"\"hi\"\"" : "");
        if (multiline && rng_pct(r, 3))
            buf_puts(b, "\nsecond line");
        buf_puts(b, "\",");
        if (rng_pct(r, 90))
            buf_printf(b, "%u.%02u", (unsigned)rng_below(r, 10000), (unsigned)rng_below(r, 100));
        buf_printf(b, ",%02u/%02u/20%02u,", 1 + (unsigned)rng_below(r, 12),
                   1 + (unsigned)rng_below(r, 12), (unsigned)rng_below(r, 30));
        if (rng_pct(r, 10))
            buf_puts(b, "X");
        else
            buf_printf(b, "%u", (unsigned)rng_below(r, 500));
        buf_printf(b, ", %u ,", (unsigned)rng_below(r, 100));
        if (rng_pct(r, 4))
            buf_puts(b, words[rng_below(r, 6)]);
        else
            buf_printf(b, "%u", (unsigned)rng_below(r, 100000));
        if (rng_pct(r, 20))
            buf_puts(b, ",\"\"");
        else
            buf_printf(b, ",%u", (unsigned)rng_below(r, 50));
        buf_puts(b, rng_pct(r, 50) ? ",true\n" : ",false\n");
    }
}

/* A mixed file of about `size` bytes (header included). */
static void gen_mixed(struct buf *b, uint64_t seed, size_t size, bool multiline,
                      struct offsets *starts)
{
    struct rng r = {seed};
    long id = 0;
    mixed_header(b);
    mixed_rows(b, &r, size, &id, multiline, starts);
}

/* One field of a random file: of `kind`, maybe null, quoted, long. */
static void random_field(struct buf *b, struct rng *r, unsigned kind, char delim, const char *nl,
                         unsigned p_null, unsigned p_quote, unsigned p_long, unsigned p_qnl)
{
    struct buf v = {0};
    if (rng_pct(r, p_null)) {
        static const char *const nulls[] = {"", "", "NA", "NULL", "\\N", "null"};
        buf_puts(&v, nulls[rng_below(r, 6)]);
    } else if (rng_pct(r, p_long)) {
        size_t n = 200 + rng_below(r, 3000);
        for (size_t i = 0; i < n; i++)
            buf_add(&v, &"abcdefghij klmnop"[rng_below(r, 17)], 1);
    } else {
        switch (kind % 8) {
        case 0: buf_printf(&v, "%ld", (long)rng_below(r, 2000000) - 1000000); break;
        case 1: buf_printf(&v, "%ld.%u", (long)rng_below(r, 20000) - 10000, (unsigned)rng_below(r, 1000)); break;
        case 2: buf_printf(&v, "20%02u-%02u-%02u", (unsigned)rng_below(r, 30), 1 + (unsigned)rng_below(r, 12),
                           1 + (unsigned)rng_below(r, 28)); break;
        case 3: buf_puts(&v, rng_pct(r, 50) ? "true" : "False"); break;
        case 4: buf_printf(&v, "w%u", (unsigned)rng_below(r, 100000)); break;
        case 5: buf_printf(&v, "2021-03-%02u %02u:%02u:%02u.%u", 1 + (unsigned)rng_below(r, 28),
                           (unsigned)rng_below(r, 24), (unsigned)rng_below(r, 60),
                           (unsigned)rng_below(r, 60), (unsigned)rng_below(r, 1000)); break;
        case 6: buf_printf(&v, "%08x-%04x-%04x-%04x-%012llx", (unsigned)rng_next(r),
                           (unsigned)rng_below(r, 65536), (unsigned)rng_below(r, 65536),
                           (unsigned)rng_below(r, 65536),
                           (unsigned long long)(rng_next(r) & 0xffffffffffffull)); break;
        default: buf_printf(&v, rng_pct(r, 50) ? "%u" : "x%u", (unsigned)rng_below(r, 100)); break;
        }
    }
    bool quote = rng_pct(r, p_quote);
    if (quote && rng_pct(r, 30)) { /* structure inside quotes */
        switch (rng_below(r, 3)) {
        case 0: buf_add(&v, &delim, 1); break;
        case 1: buf_puts(&v, "\""); break;
        default: if (rng_pct(r, p_qnl * 10)) buf_puts(&v, nl); break;
        }
    }
    if (quote || memchr(v.p ? v.p : "", delim, v.n)) {
        buf_puts(b, "\"");
        for (size_t i = 0; i < v.n; i++)
            buf_add(b, v.p[i] == '"' ? "\"\"" : &v.p[i], v.p[i] == '"' ? 2 : 1);
        buf_puts(b, "\"");
    } else if (v.n) {
        buf_add(b, v.p, v.n);
    }
    buf_free(&v);
}

/* A random CSV of about `target` bytes: delimiter, CRLF, header, quoting
 * (with quoted delimiters, quotes, newlines), ragged rows, empty fields,
 * long fields, blank lines, no final newline, an unterminated quote. */
static void gen_random(struct buf *b, struct rng *r, size_t target)
{
    static const char delims[] = {',', ';', '\t', '|'};
    char d = delims[rng_below(r, 4)];
    const char *nl = rng_pct(r, 30) ? "\r\n" : "\n";
    unsigned ncols = 1 + (unsigned)rng_below(r, 8), kinds[8];
    for (unsigned c = 0; c < ncols; c++)
        kinds[c] = (unsigned)rng_below(r, 8);
    unsigned p_null = (unsigned)rng_below(r, 25), p_quote = (unsigned)rng_below(r, 40);
    unsigned p_ragged = rng_pct(r, 30) ? 1 + (unsigned)rng_below(r, 3) : 0;
    unsigned p_long = rng_pct(r, 20) ? 1 + (unsigned)rng_below(r, 3) : 0;
    unsigned p_qnl = rng_pct(r, 50) ? (unsigned)rng_below(r, 10) : 0;
    if (rng_pct(r, 60)) {
        for (unsigned c = 0; c < ncols; c++)
            buf_printf(b, "%s%scol%u", c ? (char[]){d, 0} : "", rng_pct(r, 10) ? "\"" : "", c);
        buf_puts(b, nl);
        /* (a header field opened with a quote and never closed is part of the test) */
    }
    while (b->n < target) {
        unsigned n = ncols;
        if (rng_pct(r, p_ragged))
            n = rng_pct(r, 50) ? n + 1 : (n > 1 ? n - 1 : 2);
        for (unsigned c = 0; c < n; c++) {
            if (c)
                buf_add(b, &d, 1);
            random_field(b, r, kinds[c % ncols], d, nl, p_null, p_quote, p_long, p_qnl);
        }
        buf_puts(b, rng_pct(r, 2) ? (nl[0] == '\r' ? "\n" : "\r\n") : nl);
        if (rng_pct(r, 1))
            buf_puts(b, nl); /* a blank line */
    }
    if (b->n && rng_pct(r, 10)) /* no final newline */
        b->n -= b->p[b->n - 1] == '\n' ? (b->n > 1 && b->p[b->n - 2] == '\r' ? 2 : 1) : 0;
    if (rng_pct(r, 3))
        buf_puts(b, "\"never closed, a b c");
    if (b->p)
        b->p[b->n] = '\0';
}

/* A small file of ncols columns of mixed kinds and nrows rows, its header
 * names tagged (wide files for the eviction tests). */
static void gen_wide(struct buf *b, struct rng *r, unsigned ncols, unsigned nrows, unsigned tag)
{
    for (unsigned c = 0; c < ncols; c++)
        buf_printf(b, "%sc%u_%u", c ? "," : "", c, tag);
    buf_puts(b, "\n");
    for (unsigned i = 0; i < nrows; i++) {
        for (unsigned c = 0; c < ncols; c++) {
            if (c)
                buf_puts(b, ",");
            random_field(b, r, c, ',', "\n", 5, 0, 0, 0);
        }
        buf_puts(b, "\n");
    }
}

/* The --stats line "cache: H of S slices found" of a run. */
static void expect_stats_line(const struct run *r, struct counts c, const char *what)
{
    const char *p = strstr(r->err, "csvinfer: cache: ");
    unsigned long h = 0, s = 0;
    cr_assert(p && sscanf(p, "csvinfer: cache: %lu of %lu slices found", &h, &s) == 2,
              "%s: no \"cache: H of S slices found\" line on stderr with --stats:\n%.2000s", what,
              r->err);
    cr_assert(h == (unsigned long)c.hits && s == (unsigned long)c.slices,
              "%s: --stats says %lu of %lu slices, the JSON %ld of %ld", what, h, s, c.hits,
              c.slices);
}

/* ---- 1. a second run finds every slice --------------------------------------------- */

Test(cache, hit_after_first_run)
{
    struct sandbox sb;
    sandbox_open(&sb);
    struct buf b = {0};
    gen_mixed(&b, 1, 200 * 1024, true, NULL);
    char *big = data_path(&sb, "big.csv");
    write_file(big, b.p, b.n);
    buf_free(&b);

    struct run ref, r1, r2;
    runv(&sb, &ref, "--no-cache", "--threads", "1", big, NULL);
    runv(&sb, &r1, "--cache", sb.cache, "--chunk-size", CHUNK, "--stats", big, NULL);
    runv(&sb, &r2, "--cache", sb.cache, "--chunk-size", CHUNK, "--stats", big, NULL);
    expect_same(&r1, &ref, "big.csv, first cached run");
    expect_same(&r2, &ref, "big.csv, second cached run");
    struct counts c1 = counts_of(&r1, "big.csv run 1"), c2 = counts_of(&r2, "big.csv run 2");
    cr_assert_geq(c1.slices, 8, "big.csv: 200 KB in 16 KiB chunks should be >= 8 slices, got %ld",
                  c1.slices);
    cr_assert_eq(c1.hits, 0, "big.csv: a first run into an empty cache hit %ld slices", c1.hits);
    cr_assert_eq(c2.slices, c1.slices, "big.csv: the same bytes gave %ld then %ld slices",
                 c1.slices, c2.slices);
    cr_assert_eq(c2.hits, c2.slices, "big.csv: second run hit %ld of %ld slices", c2.hits,
                 c2.slices);
    expect_stats_line(&r1, c1, "big.csv run 1");
    expect_stats_line(&r2, c2, "big.csv run 2");
    expect_store_clean(sb.cache, "after two runs over big.csv");
    run_free(&ref);
    run_free(&r1);
    run_free(&r2);

    /* a directory of many small files: one whole-file slice each */
    char *dir = data_path(&sb, "many");
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s", dir);
    const long nsmall = 60;
    for (long i = 0; i < nsmall; i++) {
        struct rng r = {1000 + (uint64_t)i};
        gen_random(&b, &r, 200 + rng_below(&r, 6000));
        char *p = xasprintf("%s/f%03ld.csv", dir, i);
        write_file(p, b.p ? b.p : "", b.n);
        free(p);
        buf_free(&b);
    }
    runv(&sb, &ref, "--no-cache", "--threads", "1", dir, NULL);
    runv(&sb, &r1, "--cache", sb.cache, "--stats", dir, NULL);
    runv(&sb, &r2, "--cache", sb.cache, "--stats", dir, NULL);
    expect_same(&r1, &ref, "many/, first cached run");
    expect_same(&r2, &ref, "many/, second cached run");
    c1 = counts_of(&r1, "many/ run 1");
    c2 = counts_of(&r2, "many/ run 2");
    cr_assert_eq(c1.slices, nsmall, "many/: %ld small files gave %ld slices", nsmall, c1.slices);
    cr_assert_eq(c1.hits, 0, "many/: first run hit %ld", c1.hits);
    for (size_t i = 0; i < (size_t)nsmall; i++) {
        struct counts c = file_counts(&r2, i, "many/ run 2");
        cr_assert(c.slices == 1 && c.hits == 1, "many/ file %zu: second run slices %ld hits %ld", i,
                  c.slices, c.hits);
    }
    expect_stats_line(&r2, c2, "many/ run 2");
    run_free(&ref);
    run_free(&r1);
    run_free(&r2);
    free(dir);
    free(big);
    sandbox_close(&sb);
}

/*
 * A file whose last chunk holds only the end of a record that started
 * before it: the slice before takes all of it (its one newline is its last
 * byte) and the last slice is empty.  Each of the file's slices is counted
 * once in "slices", and "hits" can never be more than that.
 */
Test(cache, hits_never_exceed_slices)
{
    struct sandbox sb;
    sandbox_open(&sb);
    struct buf b = {0};
    buf_puts(&b, "id,v\n");
    for (int i = 1; i < 9000; i++)
        buf_printf(&b, "%d,%d\n", i, i * 7);
    buf_puts(&b, "9000,");
    for (int i = 0; i < 300; i++)
        buf_puts(&b, "x");
    buf_puts(&b, "\n");
    char *path = data_path(&sb, "long-last-record.csv");
    write_file(path, b.p, b.n);
    struct run ref, r1, r2;
    runv(&sb, &ref, "--no-cache", "--threads", "1", path, NULL);
    runv(&sb, &r1, "--cache", sb.cache, "--chunk-size", "100", path, NULL);
    runv(&sb, &r2, "--cache", sb.cache, "--chunk-size", "100", path, NULL);
    expect_same(&r1, &ref, "a last record longer than a chunk, first run");
    expect_same(&r2, &ref, "a last record longer than a chunk, second run");
    struct counts c1 = counts_of(&r1, "first run"), c2 = counts_of(&r2, "second run");
    cr_assert_eq(c2.slices, c1.slices, "the same bytes gave %ld then %ld slices", c1.slices,
                 c2.slices);
    cr_assert_eq(c2.hits, c2.slices,
                 "%zu-byte file, --chunk-size 100: the second run reports \"hits\": %ld of "
                 "\"slices\": %ld (%s)", b.n, c2.hits, c2.slices, r2.cmd);
    run_free(&ref);
    run_free(&r1);
    run_free(&r2);
    buf_free(&b);
    free(path);
    sandbox_close(&sb);
}

/* ---- 2. options: what changes a verdict misses, what does not hits --------------------- */

struct option_case {
    const char *a[5];  /* the option's arguments, NULL-terminated */
    bool changes;      /* it changes these files' verdicts: must miss */
};

static const struct option_case VERDICT_OPTIONS[] = {
    {{"--null", "X", NULL}, true},
    {{"--null", "NULL", "--null", "X", NULL}, true},
    {{"--dayfirst", NULL}, true},
    {{"--no-trim", NULL}, true},
    {{"--threshold", "0.9", NULL}, true},
    {{"--quoted-empty-is-text", NULL}, true},
    {{"--delimiter", ";", NULL}, true},
    {{"--no-header", NULL}, true},
    {{"--quote", "'", NULL}, true},
    /* the sniffed values given explicitly: the same verdict, hit or miss */
    {{"--delimiter", ",", NULL}, false},
    {{"--header", NULL}, false},
};

static const char *const NEUTRAL_OPTIONS[][3] = {
    {"--threads", "1", NULL}, {"--threads", "2", NULL}, {"--threads", "3", NULL},
    {"--io", "pread", NULL},  {"--io", "uring", NULL},
};

static char *opt_name(const char *const *a)
{
    struct buf b = {0};
    for (size_t i = 0; a[i]; i++)
        buf_printf(&b, "%s%s", i ? " " : "", a[i]);
    return b.p;
}

Test(cache, changed_option_misses)
{
    struct sandbox sb;
    sandbox_open(&sb);
    struct args files = {0};
    struct buf b = {0};
    gen_mixed(&b, 2, 120 * 1024, false, NULL);
    char *p = data_path(&sb, "big.csv");
    write_file(p, b.p, b.n);
    args_add(&files, p);
    free(p);
    buf_free(&b);
    for (unsigned i = 0; i < 3; i++) {
        gen_mixed(&b, 20 + i, 1500 + 1000 * i, false, NULL);
        p = xasprintf("%s/small%u.csv", sb.data, i);
        write_file(p, b.p, b.n);
        args_add(&files, p);
        free(p);
        buf_free(&b);
    }
    struct args a = {0};
    struct run ref, warm, r;
    args_addl(&a, "--no-cache", "--threads", "1", NULL);
    args_cat(&a, &files);
    run_args(&sb, &a, &ref);
    args_free(&a);
    args_addl(&a, "--cache", sb.cache, "--chunk-size", CHUNK, NULL);
    args_cat(&a, &files);
    run_args(&sb, &a, &warm);
    args_free(&a);
    expect_same(&warm, &ref, "default options, first cached run");
    struct counts cw = counts_of(&warm, "default options");
    cr_assert_eq(cw.hits, 0, "first run hit %ld", cw.hits);

    for (size_t k = 0; k < sizeof VERDICT_OPTIONS / sizeof VERDICT_OPTIONS[0]; k++) {
        const struct option_case *oc = &VERDICT_OPTIONS[k];
        char *name = opt_name(oc->a);
        struct run oref, r2;
        args_addl(&a, "--no-cache", "--threads", "1", NULL);
        for (size_t i = 0; oc->a[i]; i++)
            args_add(&a, oc->a[i]);
        args_cat(&a, &files);
        run_args(&sb, &a, &oref);
        args_free(&a);
        if (oc->changes) { /* else this case proves nothing: the data must feel the option */
            json_t *x = verdict_of(oref.doc), *y = verdict_of(ref.doc);
            cr_assert(!json_equal(x, y), "%s: the test data should give another verdict with it",
                      name);
            json_decref(x);
            json_decref(y);
        }
        args_addl(&a, "--cache", sb.cache, "--chunk-size", CHUNK, NULL);
        for (size_t i = 0; oc->a[i]; i++)
            args_add(&a, oc->a[i]);
        args_cat(&a, &files);
        run_args(&sb, &a, &r);
        run_args(&sb, &a, &r2);
        args_free(&a);
        char *what = xasprintf("%s, warm cache of the default options", name);
        expect_same(&r, &oref, what);
        free(what);
        what = xasprintf("%s, second run with it", name);
        expect_same(&r2, &oref, what);
        free(what);
        struct counts c = counts_of(&r, name), c2 = counts_of(&r2, name);
        if (oc->changes)
            cr_assert_eq(c.hits, 0, "%s: hit %ld of %ld slices cached under the default options",
                         name, c.hits, c.slices);
        cr_assert_eq(c2.hits, c2.slices, "%s: its own second run hit %ld of %ld", name, c2.hits,
                     c2.slices);
        run_free(&oref);
        run_free(&r);
        run_free(&r2);
        free(name);
    }

    /* the default options still hit after all that; threads and io are not in the key */
    for (size_t k = 0; k < sizeof NEUTRAL_OPTIONS / sizeof NEUTRAL_OPTIONS[0]; k++) {
        char *name = opt_name(NEUTRAL_OPTIONS[k]);
        args_addl(&a, "--cache", sb.cache, "--chunk-size", CHUNK, NULL);
        for (size_t i = 0; NEUTRAL_OPTIONS[k][i]; i++)
            args_add(&a, NEUTRAL_OPTIONS[k][i]);
        args_cat(&a, &files);
        run_args(&sb, &a, &r);
        args_free(&a);
        if (strcmp(name, "--io uring") == 0 && r.status == 2 && strstr(r.err, "io_uring")) {
            fprintf(stderr, "note: io_uring is not available here; --io uring not checked\n");
            run_free(&r);
            free(name);
            continue;
        }
        expect_same(&r, &ref, name);
        struct counts c = counts_of(&r, name);
        cr_assert_eq(c.slices, cw.slices, "%s: %ld slices, the default run had %ld", name, c.slices,
                     cw.slices);
        cr_assert_eq(c.hits, c.slices, "%s: hit %ld of %ld (threads and io must not change keys)",
                     name, c.hits, c.slices);
        run_free(&r);
        free(name);
    }
    expect_store_clean(sb.cache, "after the option runs");
    run_free(&ref);
    run_free(&warm);
    args_free(&files);
    sandbox_close(&sb);
}

/* ---- 3. a changed byte misses only the slices whose bytes changed ------------------------ */

/*
 * Slices are made of bytes: the boundary after chunk m is the first record
 * start B at or after m * 16 KiB (the first slice also covers the sniffer's
 * 64 KiB sample).  The bytes [m*16K, B) belong to the slice before B.
 *   (a) one digit changed in a record starting in the middle of chunk m:
 *       only the slice holding chunk m changes: hits == slices - 1.
 *   (b) a letter or digit changed in [m*16K, B): the slice ending at B
 *       changes; the one starting at B reads its chunk's raw blocks, which
 *       hold those bytes too (pipeline_cache.h: the key covers the raw
 *       blocks a slice was read from), so it may miss as well: slices - 2 or
 *       slices - 1 (the design's "slice bytes" alone would give - 1).
 *   (c) a byte outside quotes in [m*16K, B - 1) made a newline: the boundary
 *       moves to just after it, both neighbours' bytes change: slices - 2.
 */
static size_t first_at_or_after(const struct offsets *o, size_t x)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i] >= x)
            return i;
    return o->n;
}

/* Quote parity from a record start to pos: true when pos is inside quotes. */
static bool inside_quotes(const char *p, size_t from, size_t pos)
{
    bool in = false;
    for (size_t i = from; i < pos; i++)
        in ^= p[i] == '"';
    return in;
}

static void change_case(struct sandbox *sb, const char *path, const struct buf *orig,
                        size_t pos, char to, long lo, long hi, const char *what)
{
    struct buf m = {0};
    buf_add(&m, orig->p, orig->n);
    cr_assert_neq(m.p[pos], to, "%s: no change at %zu", what, pos);
    m.p[pos] = to;
    write_file(path, m.p, m.n);
    struct run ref, r, r2;
    runv(sb, &ref, "--no-cache", "--threads", "1", path, NULL);
    runv(sb, &r, "--cache", sb->cache, "--chunk-size", CHUNK, path, NULL);
    runv(sb, &r2, "--cache", sb->cache, "--chunk-size", CHUNK, path, NULL);
    char *w = xasprintf("%s (byte %zu: 0x%02x -> 0x%02x)", what, pos, (unsigned char)orig->p[pos],
                        (unsigned char)to);
    expect_same(&r, &ref, w);
    expect_same(&r2, &ref, w);
    struct counts c = counts_of(&r, w), c2 = counts_of(&r2, w);
    cr_assert(c.hits >= c.slices - hi && c.hits <= c.slices - lo,
              "%s: hit %ld of %ld slices; expected slices - %ld .. slices - %ld", w, c.hits,
              c.slices, hi, lo);
    cr_assert_eq(c2.hits, c2.slices, "%s: the run after hit %ld of %ld", w, c2.hits, c2.slices);
    free(w);
    run_free(&ref);
    run_free(&r);
    run_free(&r2);
    write_file(path, orig->p, orig->n); /* back to the original bytes */
    buf_free(&m);
}

Test(cache, changed_byte_misses_its_slice)
{
    struct sandbox sb;
    sandbox_open(&sb);
    struct buf b = {0};
    struct offsets starts = {0};
    gen_mixed(&b, 3, 220 * 1024, true, &starts);
    char *path = data_path(&sb, "f.csv");
    write_file(path, b.p, b.n);
    struct run ref, warm;
    runv(&sb, &ref, "--no-cache", "--threads", "1", path, NULL);
    runv(&sb, &warm, "--cache", sb.cache, "--chunk-size", CHUNK, path, NULL);
    expect_same(&warm, &ref, "f.csv warm-up");
    struct counts cw = counts_of(&warm, "f.csv warm-up");
    cr_assert_geq(cw.slices, 8, "f.csv: expected >= 8 slices, got %ld", cw.slices);
    run_free(&ref);
    run_free(&warm);

    /* chunks 6..11 (96 KiB..192 KiB): past the 64 KiB sample, inside the file */
    unsigned cases_b = 0, cases_c = 0;
    for (size_t m = 6; m <= 11; m++) {
        size_t mid = m * CHUNK_BYTES + CHUNK_BYTES / 2;
        size_t i = first_at_or_after(&starts, mid);
        cr_assert_lt(i, starts.n, "no record after %zu", mid);
        size_t pos = starts.v[i]; /* the id's first digit, 1-9 */
        cr_assert(pos < (m + 1) * CHUNK_BYTES - 1024, "record %zu at %zu is not mid-chunk", i, pos);
        char *what = xasprintf("(a) a digit in the middle of chunk %zu", m);
        change_case(&sb, path, &b, pos, b.p[pos] == '9' ? '1' : (char)(b.p[pos] + 1), 1, 1, what);
        free(what);

        size_t lo = m * CHUNK_BYTES, bi = first_at_or_after(&starts, lo);
        size_t bound = bi < starts.n ? starts.v[bi] : b.n;
        size_t alnum = SIZE_MAX, outside = SIZE_MAX;
        for (size_t q = lo; q + 1 < bound; q++) {
            char ch = b.p[q];
            bool an = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'y');
            if (an && alnum == SIZE_MAX)
                alnum = q;
            if (an && outside == SIZE_MAX && !inside_quotes(b.p, starts.v[bi - 1], q))
                outside = q;
        }
        if (alnum != SIZE_MAX) {
            what = xasprintf("(b) a byte of chunk %zu before its first record start %zu", m, bound);
            change_case(&sb, path, &b, alnum, (char)(b.p[alnum] == '9' ? '1' : b.p[alnum] + 1), 1,
                        2, what);
            free(what);
            cases_b++;
        }
        if (outside != SIZE_MAX) {
            what = xasprintf("(c) a newline moving the boundary %zu of chunk %zu", bound, m);
            change_case(&sb, path, &b, outside, '\n', 2, 2, what);
            free(what);
            cases_c++;
        }
    }
    cr_assert(cases_b >= 3 && cases_c >= 3, "the data gave only %u cases (b) and %u cases (c)",
              cases_b, cases_c);
    free(starts.v);
    buf_free(&b);
    free(path);
    sandbox_close(&sb);
}

/* ---- 4. an appended file reuses its old slices ------------------------------------------ */

static void append_case(struct sandbox *sb, const char *name, bool final_newline, uint64_t seed)
{
    struct rng r = {seed};
    struct buf b = {0};
    long id = 0;
    mixed_header(&b);
    mixed_rows(&b, &r, 150 * 1024, &id, true, NULL);
    if (!final_newline)
        b.p[--b.n] = '\0';
    char *path = data_path(sb, name);
    long old_slices = -1;
    for (int step = 0; step < 4; step++) {
        if (step) { /* grow by 1-25 KB, as a log does */
            size_t old = b.n;
            if (!final_newline)
                buf_puts(&b, "7\n"); /* the last record goes on: its flag becomes true7/false7 */
            mixed_rows(&b, &r, old + 1024 + rng_below(&r, 24 * 1024), &id, true, NULL);
            if (!final_newline)
                b.p[--b.n] = '\0';
        }
        write_file(path, b.p, b.n);
        struct run ref, run;
        runv(sb, &ref, "--no-cache", "--threads", "1", path, NULL);
        runv(sb, &run, "--cache", sb->cache, "--chunk-size", CHUNK, path, NULL);
        char *what = xasprintf("%s after %d appends (%zu bytes)", name, step, b.n);
        expect_same(&run, &ref, what);
        struct counts c = counts_of(&run, what);
        if (step == 0)
            cr_assert_eq(c.hits, 0, "%s: first run hit %ld", what, c.hits);
        else
            cr_assert(c.hits >= old_slices - 1 && c.hits <= old_slices,
                      "%s: hit %ld; the %ld slices before the old end but the last must hit", what,
                      c.hits, old_slices);
        old_slices = c.slices;
        free(what);
        run_free(&ref);
        run_free(&run);
    }
    buf_free(&b);
    free(path);
}

Test(cache, append_reuses_old_slices)
{
    struct sandbox sb;
    sandbox_open(&sb);
    append_case(&sb, "log.csv", true, 4);
    append_case(&sb, "open-ended.csv", false, 5);
    sandbox_close(&sb);
}

/* ---- 5. damage: flipped bytes, truncation, foreign files ----------------------------------- */

/*
 * Two small files (one with a ragged row: exit status 1), run twice: a store
 * of a header, two values and two touches.  For each damage of it, a run
 * must give the --no-cache verdict and exit status; it must hit exactly the
 * values whose records are untouched (none when the header is hit); it must
 * leave a clean store (the close rewrites a damaged one); and the run after
 * it must hit everything.
 */
struct damage_fixture {
    struct sandbox sb;
    char *files[2];
    struct run ref;
    uint8_t *good;         /* the healthy store */
    size_t good_len;
    struct store_scan scan; /* of the healthy store */
    char *store;           /* its path */
};

static void damage_setup(struct damage_fixture *fx)
{
    sandbox_open(&fx->sb);
    static const char *const text[2] = {
        "id,when,amount\n1,2024-01-02,3.5\n2,2024-01-03,\n3,2024-02-29,7\n",
        "name;n\nab;1\ncd;2;extra\nef;\n",
    };
    for (int i = 0; i < 2; i++) {
        fx->files[i] = xasprintf("%s/t%d.csv", fx->sb.data, i);
        write_file(fx->files[i], text[i], strlen(text[i]));
    }
    runv(&fx->sb, &fx->ref, "--no-cache", "--threads", "1", fx->files[0], fx->files[1], NULL);
    cr_assert_eq(fx->ref.status, 1, "t1.csv has a ragged row: exit 1 expected, got %d",
                 fx->ref.status);
    for (int k = 0; k < 2; k++) {
        struct run r;
        runv(&fx->sb, &r, "--cache", fx->sb.cache, fx->files[0], fx->files[1], NULL);
        expect_same(&r, &fx->ref, "warm-up");
        struct counts c = counts_of(&r, "warm-up");
        cr_assert(c.slices == 2 && c.hits == (k ? 2 : 0), "warm-up run %d: slices %ld hits %ld", k,
                  c.slices, c.hits);
        run_free(&r);
    }
    fx->store = xasprintf("%s/%s", fx->sb.cache, STORE_FILE);
    fx->good = slurp(fx->store, &fx->good_len);
    cr_assert_not_null(fx->good, "no store after the warm-up");
    store_scan(fx->sb.cache, &fx->scan);
    cr_assert(!fx->scan.foreign && fx->scan.damaged == 0 && fx->scan.values == 2,
              "the warm store: %zu values, %llu damaged bytes", fx->scan.values,
              (unsigned long long)fx->scan.damaged);
}

static void damage_teardown(struct damage_fixture *fx)
{
    run_free(&fx->ref);
    free(fx->good);
    free(fx->store);
    free(fx->files[0]);
    free(fx->files[1]);
    store_scan_free(&fx->scan);
    sandbox_close(&fx->sb);
}

/* Run over the damaged store now in place; expect_hits < 0: not checked. */
static void damage_check(struct damage_fixture *fx, long expect_hits, bool repairable,
                         const char *what)
{
    struct run r;
    runv(&fx->sb, &r, "--cache", fx->sb.cache, fx->files[0], fx->files[1], NULL);
    expect_same(&r, &fx->ref, what);
    struct counts c = counts_of(&r, what);
    if (expect_hits >= 0)
        cr_assert_eq(c.hits, expect_hits, "%s: hit %ld, expected the %ld intact values", what,
                     c.hits, expect_hits);
    run_free(&r);
    if (!repairable)
        return;
    char *w = xasprintf("%s, the store after the run", what);
    expect_store_clean(fx->sb.cache, w);
    free(w);
    runv(&fx->sb, &r, "--cache", fx->sb.cache, fx->files[0], fx->files[1], NULL);
    w = xasprintf("%s, the run after", what);
    expect_same(&r, &fx->ref, w);
    c = counts_of(&r, w);
    cr_assert_eq(c.hits, c.slices, "%s: hit %ld of %ld: the store was not usable again", w, c.hits,
                 c.slices);
    free(w);
    run_free(&r);
}

/* Values of the healthy store whose records do not hold any of the offsets. */
static long intact_values(const struct store_scan *s, const size_t *offs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (offs[k] < STORE_HEADER_LEN)
            return 0; /* a foreign header: nothing is read */
    long v = 0;
    for (size_t i = 0; i < s->n; i++) {
        bool hit = false;
        for (size_t k = 0; k < n; k++)
            hit |= offs[k] >= s->rec[i].off && offs[k] < s->rec[i].off + s->rec[i].size;
        v += s->rec[i].type == STORE_VALUE && !hit;
    }
    return v;
}

/* Where offset p of the healthy store is, for messages (static buffer). */
static const char *store_where(const struct store_scan *s, size_t p)
{
    static char w[96];
    if (p < STORE_HEADER_LEN) {
        snprintf(w, sizeof w, "header byte %zu", p);
        return w;
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct srec *r = &s->rec[i];
        if (p < r->off || p >= r->off + r->size)
            continue;
        size_t k = p - r->off;
        snprintf(w, sizeof w, "record %zu ('%c', %llu bytes) %s byte %zu", i, r->type,
                 (unsigned long long)r->size,
                 k < STORE_REC_HEAD ? "head" : k >= r->size - STORE_REC_TAIL ? "checksum" : "value",
                 k);
        return w;
    }
    snprintf(w, sizeof w, "outside every record");
    return w;
}

Test(cache, damaged_store_flipped_bytes)
{
    struct damage_fixture fx;
    damage_setup(&fx);
    /* every byte (one bit of it flipped); then random flips of several
     * bytes at once */
    size_t *pos = malloc(fx.good_len * sizeof *pos), npos = 0;
    cr_assert_not_null(pos, "out of memory");
    struct rng r = {6};
    for (size_t i = 0; i < STORE_HEADER_LEN; i++)
        pos[npos++] = i;
    for (size_t k = 0; k < fx.scan.n; k++) {
        const struct srec *s = &fx.scan.rec[k];
        for (size_t i = 0; i < s->size; i++)
            pos[npos++] = s->off + i;
    }
    uint8_t *bad = malloc(fx.good_len);
    cr_assert_not_null(bad, "out of memory");
    cr_assert_eq(npos, fx.good_len, "the healthy store has bytes outside its records");
    size_t n = trials("flipped bytes", npos, 9000, 2, 40);
    for (size_t t = 0; t < n; t++) {
        size_t p = pos[n == npos ? t : rng_below(&r, npos)];
        uint8_t x = (uint8_t)(1u << rng_below(&r, 8));
        memcpy(bad, fx.good, fx.good_len);
        bad[p] ^= x;
        write_file(fx.store, bad, fx.good_len);
        char *what = xasprintf("store of %zu bytes, %s (offset %zu) xor 0x%02x", fx.good_len,
                               store_where(&fx.scan, p), p, x);
        damage_check(&fx, intact_values(&fx.scan, &p, 1), true, what);
        free(what);
    }
    n = trials("multi-byte flips", 60, 2000, 2, 10);
    for (size_t t = 0; t < n; t++) {
        size_t offs[8], k = 2 + rng_below(&r, 7);
        memcpy(bad, fx.good, fx.good_len);
        struct buf desc = {0};
        for (size_t i = 0; i < k; i++) {
            offs[i] = rng_below(&r, fx.good_len);
            bad[offs[i]] ^= (uint8_t)(1 + rng_below(&r, 255));
            buf_printf(&desc, " %zu", offs[i]);
        }
        write_file(fx.store, bad, fx.good_len);
        char *what = xasprintf("store of %zu bytes, bytes at offsets%s changed", fx.good_len, desc.p);
        damage_check(&fx, intact_values(&fx.scan, offs, k), true, what);
        free(what);
        buf_free(&desc);
    }
    free(bad);
    free(pos);
    damage_teardown(&fx);
}

Test(cache, damaged_store_truncated)
{
    struct damage_fixture fx;
    damage_setup(&fx);
    size_t n = trials("truncation offsets", fx.good_len, 11000, 2, 60);
    /* every offset; with fewer trials: the header, each record's edges, a stride */
    size_t stride = n >= fx.good_len ? 1 : fx.good_len / (n / 2 + 1) + 1;
    for (size_t t = 0; t < fx.good_len; t++) {
        bool edge = t <= STORE_HEADER_LEN + 1;
        for (size_t i = 0; i < fx.scan.n && !edge; i++) {
            uint64_t a = fx.scan.rec[i].off, e = a + fx.scan.rec[i].size;
            edge = t + 1 >= a && t <= a + 9 ? true : t + 9 >= e && t <= e + 1;
        }
        if (!edge && t % stride != 0)
            continue;
        write_file(fx.store, fx.good, t);
        long expect = 0;
        for (size_t i = 0; t >= STORE_HEADER_LEN && i < fx.scan.n; i++)
            expect += fx.scan.rec[i].type == STORE_VALUE &&
                      fx.scan.rec[i].off + fx.scan.rec[i].size <= t;
        char *what = xasprintf("store of %zu bytes truncated to %zu", fx.good_len, t);
        damage_check(&fx, expect, true, what);
        free(what);
    }
    damage_teardown(&fx);
}

Test(cache, foreign_store)
{
    struct damage_fixture fx;
    damage_setup(&fx);
    struct rng r = {7};
    uint8_t noise[4096];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)rng_next(&r);
    struct buf b = {0};

    write_file(fx.store, noise, sizeof noise);
    damage_check(&fx, 0, true, "a store of 4 KiB of random bytes");
    write_file(fx.store, "", 0);
    damage_check(&fx, 0, true, "an empty store file");
    write_file(fx.store, STORE_HEADER, STORE_HEADER_LEN);
    damage_check(&fx, 0, true, "a store of the header only");
    write_file(fx.store, STORE_HEADER, 10);
    damage_check(&fx, 0, true, "a store of a torn header (10 bytes)");
    buf_add(&b, "csvinfer-cache2\n", STORE_HEADER_LEN);
    buf_add(&b, fx.good + STORE_HEADER_LEN, fx.good_len - STORE_HEADER_LEN);
    write_file(fx.store, b.p, b.n);
    damage_check(&fx, 0, true, "a store of another format version (csvinfer-cache2)");
    buf_free(&b);
    write_file(fx.store, fx.good + STORE_HEADER_LEN, fx.good_len - STORE_HEADER_LEN);
    damage_check(&fx, 0, true, "the records without the header");
    buf_add(&b, STORE_HEADER, STORE_HEADER_LEN);
    buf_add(&b, noise, sizeof noise);
    write_file(fx.store, b.p, b.n);
    damage_check(&fx, 0, true, "the header, then 4 KiB of random bytes");
    buf_free(&b);
    buf_add(&b, fx.good, fx.good_len);
    buf_add(&b, noise, 1000);
    buf_add(&b, fx.good + STORE_HEADER_LEN, fx.good_len - STORE_HEADER_LEN);
    write_file(fx.store, b.p, b.n);
    damage_check(&fx, 2, true, "random bytes between two copies of the records");
    buf_free(&b);
    /* not a file at all: the run must still be right (the store cannot be) */
    cr_assert_eq(unlink(fx.store), 0, "unlink %s", fx.store);
    cr_assert_eq(mkdir(fx.store, 0700), 0, "mkdir %s", fx.store);
    damage_check(&fx, -1, false, "a directory in place of the store");
    rmdir(fx.store);
    damage_check(&fx, 0, true, "no store file (after the directory)");
    damage_teardown(&fx);
}

/* ---- 6. two processes on one cache directory at once --------------------------------------- */

/* Anything but the lock and the store left in the cache directory fails. */
static void expect_no_leftovers(const char *dir, const char *what)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: cannot open %s", what, dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        cr_assert(strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, STORE_FILE) == 0 ||
                      strcmp(n, STORE_LOCK) == 0,
                  "%s: %s left in the cache directory", what, n);
    }
    closedir(d);
}

Test(cache, concurrent_runs)
{
    struct sandbox sb;
    sandbox_open(&sb);
    struct buf b = {0};
    char *big1 = data_path(&sb, "big1.csv"), *big2 = data_path(&sb, "big2.csv");
    char *dir = data_path(&sb, "small");
    gen_mixed(&b, 7, 200 * 1024, true, NULL);
    write_file(big1, b.p, b.n);
    buf_free(&b);
    gen_mixed(&b, 8, 150 * 1024, false, NULL);
    write_file(big2, b.p, b.n);
    buf_free(&b);
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s", dir);
    for (unsigned i = 0; i < 8; i++) {
        struct rng r = {900 + i};
        if (i % 2)
            gen_random(&b, &r, 100 + rng_below(&r, 8000));
        else
            gen_mixed(&b, 900 + i, 500 + rng_below(&r, 8000), true, NULL);
        char *p = xasprintf("%s/s%u.csv", dir, i);
        write_file(p, b.p ? b.p : "", b.n);
        free(p);
        buf_free(&b);
    }
    struct args lists[4];
    memset(lists, 0, sizeof lists);
    args_addl(&lists[0], big1, NULL);
    args_addl(&lists[1], big2, NULL);
    args_addl(&lists[2], big1, big2, dir, NULL);
    args_addl(&lists[3], dir, big2, NULL);
    struct run refs[4];
    for (int i = 0; i < 4; i++) {
        struct args a = {0};
        args_addl(&a, "--no-cache", "--threads", "1", NULL);
        args_cat(&a, &lists[i]);
        run_args(&sb, &a, &refs[i]);
        args_free(&a);
    }
    /* the same file, different files, overlapping lists, the same list;
     * every third round with a bound that makes both closes compact */
    static const int pairs[4][2] = {{0, 0}, {0, 1}, {2, 3}, {2, 2}};
    size_t rounds = trials("concurrent rounds", 100, 7000, 2, 12);
    for (size_t round = 0; round < rounds; round++) {
        const int *pr = pairs[round % 4];
        bool tight = round % 3 == 2;
        struct job jobs[2];
        struct run runs[2];
        char threads[2][4];
        for (int k = 0; k < 2; k++) {
            struct args a = {0};
            snprintf(threads[k], sizeof threads[k], "%zu", 1 + (round + (size_t)k) % 3);
            args_addl(&a, "--cache", sb.cache, "--chunk-size", CHUNK, "--threads", threads[k], NULL);
            if (tight)
                args_addl(&a, "--cache-size", "8K", NULL);
            args_cat(&a, &lists[pr[k]]);
            job_start(&sb, &a, &jobs[k]);
            args_free(&a);
        }
        for (int k = 0; k < 2; k++)
            job_finish(&jobs[k], &runs[k]);
        for (int k = 0; k < 2; k++) {
            char *what = xasprintf("round %zu, process %c of two (list %d vs %d%s)", round, 'A' + k,
                                   pr[k], pr[1 - k], tight ? ", --cache-size 8K" : "");
            expect_same(&runs[k], &refs[pr[k]], what);
            free(what);
            run_free(&runs[k]);
        }
        char *what = xasprintf("after round %zu (lists %d and %d%s)", round, pr[0], pr[1],
                               tight ? ", --cache-size 8K" : "");
        expect_store_clean(sb.cache, what);
        expect_no_leftovers(sb.cache, what);
        free(what);
    }
    /* the store is usable: one run fills in what was evicted, the next hits everything */
    struct args a = {0};
    args_addl(&a, "--cache", sb.cache, "--chunk-size", CHUNK, NULL);
    args_cat(&a, &lists[2]);
    struct run r1, r2;
    run_args(&sb, &a, &r1);
    run_args(&sb, &a, &r2);
    args_free(&a);
    expect_same(&r1, &refs[2], "after the rounds");
    expect_same(&r2, &refs[2], "after the rounds, second run");
    struct counts c = counts_of(&r2, "after the rounds");
    cr_assert_eq(c.hits, c.slices, "after the rounds: the second run hit %ld of %ld", c.hits,
                 c.slices);
    expect_store_clean(sb.cache, "at the end");
    run_free(&r1);
    run_free(&r2);
    for (int i = 0; i < 4; i++) {
        run_free(&refs[i]);
        args_free(&lists[i]);
    }
    free(big1);
    free(big2);
    free(dir);
    sandbox_close(&sb);
}

/* ---- 7. eviction ------------------------------------------------------------------------------ */

/*
 * store.c's rule: at the end of a run, a store over --cache-size is
 * rewritten with the most recently used values (each record carries the
 * time of the run that wrote or touched it) while they fit in 3/4 of the
 * bound.  So after every run the store is <= the bound, and a store that
 * shrank (was compacted) is <= 3/4 of it.  Wide files of 40 columns give
 * values of about 2.3 KB; 6 files a batch, about 14 KB a batch.
 */
#define EVICT_BOUND 65536u
#define EVICT_BOUND_ARG "64K"
#define EVICT_BATCH 6

static void gen_wide_files(struct sandbox *sb, const char *prefix, unsigned n, uint64_t seed,
                           char **paths /* OUT: n paths, caller frees */)
{
    for (unsigned i = 0; i < n; i++) {
        struct rng r = {seed + i};
        struct buf b = {0};
        gen_wide(&b, &r, 40, 30, i);
        paths[i] = xasprintf("%s/%s%02u.csv", sb->data, prefix, i);
        write_file(paths[i], b.p, b.n);
        buf_free(&b);
    }
}

/* Run files [from, from + n) with the cache in dir under the bound. */
static void run_files(struct sandbox *sb, const char *dir, char **paths, unsigned from, unsigned n,
                      bool cached, struct run *r /* OUT */)
{
    struct args a = {0};
    if (cached)
        args_addl(&a, "--cache", dir, "--cache-size", EVICT_BOUND_ARG, NULL);
    else
        args_addl(&a, "--no-cache", "--threads", "1", NULL);
    for (unsigned i = from; i < from + n; i++)
        args_add(&a, paths[i]);
    run_args(sb, &a, r);
    args_free(&a);
}

static void expect_bound(const char *store, uint64_t before, const char *what)
{
    uint64_t after = file_size(store);
    cr_assert_leq(after, EVICT_BOUND, "%s: the store is %llu bytes, over --cache-size %u", what,
                  (unsigned long long)after, EVICT_BOUND);
    if (after < before)
        cr_assert_leq(after, EVICT_BOUND / 4 * 3,
                      "%s: compacted to %llu bytes, over 3/4 of --cache-size %u", what,
                      (unsigned long long)after, EVICT_BOUND);
}

Test(cache, eviction_keeps_bound)
{
    struct sandbox sb;
    sandbox_open(&sb);
    enum { NB = 8, N = NB * EVICT_BATCH, NU = 32 };
    char *paths[N], *more[NU];
    gen_wide_files(&sb, "w", N, 70000, paths);
    gen_wide_files(&sb, "u", NU, 80000, more);
    char *store = xasprintf("%s/%s", sb.cache, STORE_FILE);
    for (unsigned bt = 0; bt < NB; bt++) {
        struct run ref, r, again;
        run_files(&sb, NULL, paths, bt * EVICT_BATCH, EVICT_BATCH, false, &ref);
        uint64_t before = file_size(store);
        run_files(&sb, sb.cache, paths, bt * EVICT_BATCH, EVICT_BATCH, true, &r);
        char *what = xasprintf("batch %u (files w%02u..w%02u)", bt, bt * EVICT_BATCH,
                               bt * EVICT_BATCH + EVICT_BATCH - 1);
        expect_same(&r, &ref, what);
        expect_bound(store, before, what);
        expect_store_clean(sb.cache, what);
        before = file_size(store);
        run_files(&sb, sb.cache, paths, bt * EVICT_BATCH, EVICT_BATCH, true, &again);
        expect_same(&again, &ref, what);
        struct counts c = counts_of(&again, what);
        cr_assert_eq(c.hits, EVICT_BATCH, "%s: run again at once, it hit %ld of %d", what, c.hits,
                     EVICT_BATCH);
        expect_bound(store, before, what);
        free(what);
        run_free(&ref);
        run_free(&r);
        run_free(&again);
    }
    /* one run of new values worth more than the bound: the last ones stay */
    struct run ref, r, last;
    uint64_t before = file_size(store);
    run_files(&sb, NULL, more, 0, NU, false, &ref);
    run_files(&sb, sb.cache, more, 0, NU, true, &r);
    expect_same(&r, &ref, "one run of 32 new files (~75 KB of values)");
    expect_bound(store, before, "one run of 32 new files (~75 KB of values)");
    run_files(&sb, sb.cache, more, NU - 1, 1, true, &last);
    struct counts c = counts_of(&last, "the last of the 32 files");
    cr_assert_eq(c.hits, 1, "the last file of a run over the bound was evicted");
    run_free(&ref);
    run_free(&r);
    run_free(&last);
    for (unsigned i = 0; i < N; i++)
        free(paths[i]);
    for (unsigned i = 0; i < NU; i++)
        free(more[i]);
    free(store);
    sandbox_close(&sb);
}

/*
 * Least recently used out first, also when runs come faster than the
 * store's one-second clock: batches run one after the other; after each,
 * the most recent batches whose values fit in 3/4 of the bound must all
 * still hit (probed on a copy of the store, so probing uses nothing).  The
 * batches start at the top of a second so that they share one time stamp.
 */
Test(cache, eviction_is_lru)
{
    struct sandbox sb;
    sandbox_open(&sb);
    enum { NB = 8, N = NB * EVICT_BATCH };
    char *paths[N];
    gen_wide_files(&sb, "w", N, 90000, paths);
    char *store = xasprintf("%s/%s", sb.cache, STORE_FILE);
    char *probe = xasprintf("%s/probe", sb.root);
    char *probe_store = xasprintf("%s/%s", probe, STORE_FILE);
    uint64_t bytes[NB];
    struct run refs[NB];
    for (unsigned bt = 0; bt < NB; bt++) { /* each batch's value bytes, alone in a store */
        rm_tree(probe);
        run_files(&sb, probe, paths, bt * EVICT_BATCH, EVICT_BATCH, true, &refs[bt]);
        bytes[bt] = file_size(probe_store) - STORE_HEADER_LEN;
        cr_assert_gt(bytes[bt], 0, "batch %u stored nothing", bt);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct timespec nap = {0, 1000000000L - ts.tv_nsec + 5000000L};
    if (nap.tv_nsec >= 1000000000L)
        nap.tv_nsec -= 999999999L;
    nanosleep(&nap, NULL);
    double t0 = now_ms();
    for (unsigned bt = 0; bt < NB; bt++) {
        struct run r;
        run_files(&sb, sb.cache, paths, bt * EVICT_BATCH, EVICT_BATCH, true, &r);
        char *what = xasprintf("batch %u", bt);
        expect_same(&r, &refs[bt], what);
        free(what);
        run_free(&r);
        uint64_t room = EVICT_BOUND / 4 * 3 - STORE_HEADER_LEN;
        for (unsigned q = bt + 1; q-- > 0 && bytes[q] <= room;) {
            room -= bytes[q];
            rm_tree(probe);
            cr_assert_eq(mkdir(probe, 0700), 0, "mkdir %s", probe);
            copy_file(store, probe_store);
            run_files(&sb, probe, paths, q * EVICT_BATCH, EVICT_BATCH, true, &r);
            what = xasprintf("after batch %u, batch %u", bt, q);
            expect_same(&r, &refs[q], what);
            struct counts c = counts_of(&r, what);
            cr_assert_eq(c.hits, EVICT_BATCH,
                         "%s: hit %ld of %d files.  Batches %u..%u (%llu bytes of values "
                         "from batch %u on) fit in 3/4 of --cache-size %u, yet batch %u lost "
                         "values to older ones (%.0f ms since the first batch: one clock "
                         "second?)",
                         what, c.hits, EVICT_BATCH, q, bt,
                         (unsigned long long)(EVICT_BOUND / 4 * 3 - STORE_HEADER_LEN - room), q,
                         EVICT_BOUND, q, now_ms() - t0);
            free(what);
            run_free(&r);
        }
    }
    for (unsigned bt = 0; bt < NB; bt++)
        run_free(&refs[bt]);
    for (unsigned i = 0; i < N; i++)
        free(paths[i]);
    free(store);
    free(probe);
    free(probe_store);
    sandbox_close(&sb);
}

/* ---- 8. differential: random files, chunk sizes, threads ------------------------------------ */

Test(cache, differential)
{
    struct sandbox sb;
    sandbox_open(&sb);
    struct rng r = {0xd1ffull};
    size_t n = trials("random files", 40, 12000, 3, 8);
    for (size_t i = 0; i < n; i++) {
        struct buf b = {0};
        size_t target = rng_pct(&r, 25)   ? rng_below(&r, 2048)
                        : rng_pct(&r, 35) ? 2048 + rng_below(&r, 18 * 1024)
                                          : 20 * 1024 + rng_below(&r, 180 * 1024);
        gen_random(&b, &r, target);
        char *path = xasprintf("%s/r%02zu.csv", sb.data, i);
        write_file(path, b.p ? b.p : "", b.n);
        size_t chunk = 1 + rng_below(&r, (uint64_t)1 << rng_below(&r, 17));
        if (chunk < b.n / 2000 + 1) /* at most ~2000 slices a run */
            chunk = b.n / 2000 + 1;
        char cs[24], t1[4], t2[4];
        snprintf(cs, sizeof cs, "%zu", chunk);
        snprintf(t1, sizeof t1, "%u", 1 + (unsigned)rng_below(&r, 3));
        snprintf(t2, sizeof t2, "%u", 1 + (unsigned)rng_below(&r, 3));
        struct run ref, r1, r2;
        runv(&sb, &ref, "--no-cache", "--threads", "1", path, NULL);
        runv(&sb, &r1, "--cache", sb.cache, "--chunk-size", cs, "--threads", t1, path, NULL);
        runv(&sb, &r2, "--cache", sb.cache, "--chunk-size", cs, "--threads", t2, path, NULL);
        char *what = xasprintf("r%02zu.csv (%zu bytes, --chunk-size %s, threads %s then %s)", i,
                               b.n, cs, t1, t2);
        expect_same(&r1, &ref, what);
        expect_same(&r2, &ref, what);
        /* a count that is off does not stop the verdict checks of the other files */
        struct counts c = counts_of(&r2, what);
        cr_expect_eq(c.hits, c.slices, "%s: the second run hit %ld of %ld slices", what, c.hits,
                     c.slices);
        free(what);
        run_free(&ref);
        run_free(&r1);
        run_free(&r2);
        free(path);
        buf_free(&b);
    }
    /* the whole directory in one run: small files read together */
    struct run ref, r1, r2;
    runv(&sb, &ref, "--no-cache", "--threads", "1", sb.data, NULL);
    runv(&sb, &r1, "--cache", sb.cache, "--chunk-size", "64k", "--threads", "2", sb.data, NULL);
    runv(&sb, &r2, "--cache", sb.cache, "--chunk-size", "64k", "--threads", "3", sb.data, NULL);
    expect_same(&r1, &ref, "the directory of random files, --chunk-size 64k");
    expect_same(&r2, &ref, "the directory of random files, --chunk-size 64k, again");
    struct counts c = counts_of(&r2, "the directory, again");
    cr_expect_eq(c.hits, c.slices, "the directory, again: hit %ld of %ld", c.hits, c.slices);
    expect_store_clean(sb.cache, "after the differential runs");
    run_free(&ref);
    run_free(&r1);
    run_free(&r2);
    sandbox_close(&sb);
}

/* --trust-mtime: a file whose device, inode, size and mtime match its record
 * is not read at all.  Shown by its one risk: content changed behind a
 * preserved mtime (same size) gives the old verdict with --trust-mtime —
 * proof nothing was read — and the right one without it (the slice keys are
 * bytes); a changed mtime is read again and gives the new verdict. */
Test(cache, trust_mtime_skips_unchanged_files_and_only_them)
{
    struct sandbox sb;
    sandbox_open(&sb);
    struct buf b = {0};
    gen_mixed(&b, 7, 120 * 1024, false, NULL);
    char *f = data_path(&sb, "t.csv");
    write_file(f, b.p, b.n);
    struct stat st0;
    cr_assert_eq(stat(f, &st0), 0);

    struct run ref, r1, r2, r3, r4;
    runv(&sb, &ref, "--no-cache", "--threads", "1", f, NULL);
    runv(&sb, &r1, "--cache", sb.cache, "--trust-mtime", "--chunk-size", CHUNK, f, NULL);
    runv(&sb, &r2, "--cache", sb.cache, "--trust-mtime", "--chunk-size", CHUNK, f, NULL);
    expect_same(&r1, &ref, "first --trust-mtime run");
    expect_same(&r2, &ref, "second --trust-mtime run (not read)");
    struct counts c2 = counts_of(&r2, "trusted run");
    cr_expect_eq(c2.hits, 1, "a trusted file counts as one slice found, got %ld", c2.hits);

    /* same size, one digit changed to a letter in the first data row, mtime put back */
    char *nl = memchr(b.p, '\n', b.n);
    cr_assert_not_null(nl);
    nl[1] = 'X'; /* the id column of row 1: integer -> text */
    write_file(f, b.p, b.n);
    struct timespec times[2] = {st0.st_atim, st0.st_mtim};
    cr_assert_eq(utimensat(AT_FDCWD, f, times, 0), 0, "utimensat: %s", strerror(errno));
    struct run changed_ref;
    runv(&sb, &changed_ref, "--no-cache", "--threads", "1", f, NULL);
    json_t *va = verdict_of(ref.doc), *vb = verdict_of(changed_ref.doc);
    cr_assert(!json_equal(va, vb), "the change must change the verdict, or this test shows nothing");
    json_decref(va);
    json_decref(vb);
    runv(&sb, &r3, "--cache", sb.cache, "--trust-mtime", "--chunk-size", CHUNK, f, NULL);
    expect_same(&r3, &ref, "--trust-mtime after a change behind a preserved mtime: the old "
                           "verdict (nothing was read)");
    runv(&sb, &r4, "--cache", sb.cache, "--chunk-size", CHUNK, f, NULL);
    expect_same(&r4, &changed_ref, "without --trust-mtime the same change is seen");
    run_free(&r3);
    run_free(&r4);

    /* a new mtime: read again, the new verdict, and trusted from then on */
    struct timespec later[2] = {{0, UTIME_OMIT}, {st0.st_mtim.tv_sec + 10, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, f, later, 0), 0);
    runv(&sb, &r3, "--cache", sb.cache, "--trust-mtime", "--chunk-size", CHUNK, f, NULL);
    runv(&sb, &r4, "--cache", sb.cache, "--trust-mtime", "--chunk-size", CHUNK, f, NULL);
    expect_same(&r3, &changed_ref, "--trust-mtime after the mtime changed");
    expect_same(&r4, &changed_ref, "--trust-mtime, trusted again");
    cr_expect_eq(counts_of(&r4, "trusted again").hits, 1);
    run_free(&ref);
    run_free(&changed_ref);
    run_free(&r1);
    run_free(&r2);
    run_free(&r3);
    run_free(&r4);
    buf_free(&b);
    free(f);
    sandbox_close(&sb);
}
