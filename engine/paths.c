/*
 * paths.c — csvi_engine_infer_path: a PATH (file, directory, "-") becomes
 * one result per file, in order (a directory's files sorted, io/walk.c).
 *
 * Regular files go through the parallel pipeline (pipeline.c), which holds
 * the verdict cache (cache/, opened here on first use); standard input,
 * FIFOs, --sample-rows, and --threads 1 with --no-cache use the sequential
 * engine (infer_file.c), which the pipeline is tested against.  The read backend is chosen here, once: io_uring, or
 * pread where the ring cannot be set up (--io auto says so under
 * CSVINFER_LOG=debug).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "digest.h"
#include "../cache/cache.h"
#include "../io/decompress.h"
#include "../io/stoppable.h"
#include "../io/reader.h"
#include "../io/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RING_DEPTH 64

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Append a result for path; returns its index, or -1 (out of memory).
 * Indices stay valid; pointers only until the next append. */
static long new_result(csvi_engine *e, const char *path)
{
    if (e->n_files == e->cap_files) {
        size_t cap = e->cap_files ? e->cap_files * 2 : 16;
        struct csvi_file_result *f = realloc(e->files, cap * sizeof *f);
        if (!f)
            return -1;
        e->files = f;
        uint8_t *rep = realloc(e->reported, cap);
        if (!rep)
            return -1;
        memset(rep + e->cap_files, 0, cap - e->cap_files);
        e->reported = rep;
        e->cap_files = cap;
    }
    struct csvi_file_result *r = &e->files[e->n_files];
    memset(r, 0, sizeof *r);
    if (!(r->path = strdup(path)))
        return -1;
    return (long)e->n_files++;
}

static enum csvi_error_kind kind_of_errno(int err)
{
    return err == ENOENT || err == ENOTDIR ? CSVI_EK_NOT_FOUND : CSVI_EK_OPEN_FAILED;
}

/* The sequential engine on one path that is not a directory. */
/* gzip or zstd, by the file's first bytes (regular files only). */
static enum decomp_kind compression_of(int fd)
{
    uint8_t magic[4];
    ssize_t k = pread(fd, magic, sizeof magic, 0);
    return k > 0 ? decomp_detect(magic, (size_t)k) : DECOMP_NONE;
}

static enum csvi_status infer_sequential(csvi_engine *e, struct csvi_file_result *r)
{
    double t0 = now_seconds();
    enum csvi_status st = CSVI_OK;
    bool is_stdin = strcmp(r->path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open_stoppable(r->path, csvi_interrupted);
    struct stat sb = {0};
    if (fd == -EINTR) {
        r->interrupted = true; /* SIGINT/SIGTERM while a FIFO waited for its writer */
    } else if (fd < 0) {
        int err = -fd;
        result_add_error(r, 0, kind_of_errno(err), "cannot open: %s", strerror(err));
    } else if (fstat(fd, &sb) == 0 && (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ||
                                       S_ISSOCK(sb.st_mode) || S_ISDIR(sb.st_mode))) {
        result_add_error(r, 0, CSVI_EK_NOT_REGULAR,
                         "not a regular file, FIFO or standard input; skipped");
    } else {
        bool regular = !is_stdin && S_ISREG(sb.st_mode);
        if (!is_stdin)
            posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        struct content_digest dg; /* for the ledger: only a file read whole gets one */
        bool digest = regular && e->ledger && digest_init(&dg) == 0;
        st = infer_fd(&e->cfg, fd, regular ? (int)compression_of(fd) : INFER_FD_DETECT,
                      digest ? &dg : NULL, r);
        if (digest)
            digest_free(&dg);
        if (csvi_interrupted())
            r->interrupted = true;
        struct stat now, named;
        if (regular && !r->interrupted && fstat(fd, &now) == 0) { /* changed under the reader? */
            char what[128] = "";
            if (stat(r->path, &named) != 0 || named.st_ino != sb.st_ino || named.st_dev != sb.st_dev)
                snprintf(what, sizeof what, "the path now names another file");
            else if (now.st_size != sb.st_size)
                snprintf(what, sizeof what, "its size went from %lld to %lld bytes",
                         (long long)sb.st_size, (long long)now.st_size);
            else if (now.st_mtim.tv_sec != sb.st_mtim.tv_sec || now.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
                snprintf(what, sizeof what, "it was modified while its size stayed the same");
            if (what[0])
                result_add_error(r, 0, CSVI_EK_FILE_CHANGED,
                                 "the file changed while it was read (%s); this verdict may not "
                                 "match its content: run again once the file is complete",
                                 what);
        }
    }
    if (fd >= 0 && !is_stdin)
        close(fd);
    r->seconds = now_seconds() - t0;
    return st;
}

static void log_component(const char *component, const char *msg, const char *detail)
{
    const char *lv = getenv("CSVINFER_LOG");
    if (lv && strcmp(lv, "debug") == 0)
        fprintf(stderr, "level=debug component=%s msg=\"%s\" detail=\"%s\"\n", component, msg,
                detail);
}
static void log_debug(const char *msg, const char *detail) { log_component("io", msg, detail); }

/* The read backend, made once.  NULL with *st set if --io uring cannot be had. */
static struct reader *engine_reader(csvi_engine *e, enum csvi_status *st)
{
    if (e->rd_tried) {
        if (!e->rd)
            *st = CSVI_ERR_UNSUPPORTED;
        return e->rd;
    }
    e->rd_tried = true;
    enum csvi_io_mode mode = e->cfg.opt.io;
    int rc = -ENOSYS;
    if (mode != CSVI_IO_PREAD) {
        rc = reader_uring_create(RING_DEPTH, &e->rd);
        if (rc && mode == CSVI_IO_URING) {
            *st = CSVI_ERR_UNSUPPORTED;
            return NULL;
        }
        if (rc)
            log_debug("io_uring unavailable, reading with pread", strerror(-rc));
        else
            log_debug("reading with io_uring", "");
    }
    if (rc && reader_pread_create(RING_DEPTH, &e->rd)) {
        *st = CSVI_ERR_NOMEM;
        return NULL;
    }
    return e->rd;
}

struct walk_ctx {
    csvi_engine *e;
    size_t *files;     /* indices of results to infer */
    size_t n, cap;
    bool nomem;
};

static bool on_walk(void *ctx, const char *path, enum walk_kind kind, int err)
{
    struct walk_ctx *w = ctx;
    long idx = new_result(w->e, path);
    if (idx < 0) {
        w->nomem = true;
        return false;
    }
    struct csvi_file_result *r = &w->e->files[idx];
    switch (kind) {
    case WALK_FILE:
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 64;
            size_t *nf = realloc(w->files, cap * sizeof *nf);
            if (!nf) {
                w->nomem = true;
                return false;
            }
            w->files = nf;
            w->cap = cap;
        }
        w->files[w->n++] = (size_t)idx;
        break;
    case WALK_NOT_REGULAR:
        result_add_error(r, 0, CSVI_EK_NOT_REGULAR, "not a regular file; skipped");
        break;
    case WALK_LOOP:
        result_add_error(r, 0, CSVI_EK_WALK_FAILED,
                         "symlink loop: this directory is already being walked; not followed");
        break;
    case WALK_ERROR: {
        struct stat lb;
        char target[512];
        ssize_t n = err == -ENOENT && lstat(path, &lb) == 0 && S_ISLNK(lb.st_mode)
                        ? readlink(path, target, sizeof target - 1)
                        : -1;
        if (n >= 0) { /* say what it is, not "cannot walk" */
            target[n] = '\0';
            result_add_error(r, 0, CSVI_EK_NOT_FOUND,
                             "broken symlink: it points to %s, which does not exist; skipped",
                             target);
        } else {
            result_add_error(r, 0, CSVI_EK_WALK_FAILED, "cannot walk: %s", strerror(-err));
        }
        break;
    }
    }
    return true;
}

/* The sequential engine: --sample-rows (it stops early), or one thread
 * without the cache (the cache lives in the pipeline, which then runs one
 * worker). */
static bool sequential_mode(const csvi_engine *e)
{
    return e->cfg.opt.sample_rows != 0 || (e->cfg.opt.threads <= 1 && e->cfg.opt.no_cache);
}

/* The default cache directory: $XDG_CACHE_HOME/csvinfer, else
 * ~/.cache/csvinfer (malloc'd), or NULL if neither is known. */
static char *default_cache_dir(void)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *dir = NULL;
    if (x && x[0] == '/') {
        if (asprintf(&dir, "%s/csvinfer", x) < 0)
            dir = NULL;
    } else if (home && home[0]) {
        if (asprintf(&dir, "%s/.cache/csvinfer", home) < 0)
            dir = NULL;
    }
    return dir;
}

static bool same_file(const struct stat *a, const char *path)
{
    struct stat b;
    return path && stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

bool csvi_engine_owns_path(const csvi_engine *e, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    char *ledger = e->ledger_path ? strdup(e->ledger_path) : run_default_ledger_path();
    char *basis = NULL;
    if (ledger && asprintf(&basis, "%s.basis", ledger) < 0)
        basis = NULL;
    bool owns = same_file(&st, ledger) || same_file(&st, basis);
    free(ledger);
    free(basis);
    /* a file in the cache directory: its lock and store */
    char *cache = e->cache_dir ? strdup(e->cache_dir) : default_cache_dir();
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
    if (dir && !owns) {
        if (slash)
            slash[slash == dir] = '\0'; /* "/x" -> "/" */
        struct stat ds;
        owns = stat(slash ? dir : ".", &ds) == 0 && same_file(&ds, cache);
    }
    free(dir);
    free(cache);
    return owns;
}

/* The engine's cache, opened on first use: NULL with --no-cache.  A
 * directory that cannot be used leaves an in-memory cache and a warning. */
static struct cache *engine_cache(csvi_engine *e)
{
    if (e->cfg.opt.no_cache || e->cache_tried)
        return e->cache;
    e->cache_tried = true;
    if (!e->cache_dir)
        e->cache_dir = default_cache_dir();
    char *why = NULL;
    int rc = -ENOENT;
    if (e->cache_dir)
        rc = cache_open(e->cache_dir, e->cfg.opt.cache_size, &e->cache, &why);
    if (rc) {
        if (asprintf(&e->cache_warning, "%s; this run keeps its cache in memory only",
                     why ? why : "no cache directory ($XDG_CACHE_HOME and $HOME are unset)") < 0)
            e->cache_warning = NULL;
        free(why);
        free(e->cache_dir);
        e->cache_dir = NULL;
        cache_open(NULL, 0, &e->cache, NULL);
    }
    log_component("cache", e->cache_dir ? e->cache_dir : "in memory only",
                  e->cache_warning ? e->cache_warning : "");
    return e->cache;
}

void csvi_engine_cache_stats(const csvi_engine *e, struct csvi_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    out->enabled = !e->cfg.opt.no_cache;
    out->dir = e->cache_dir;
    out->warning = e->cache_warning;
    if (!e->cache)
        return;
    struct cache_stats cs;
    cache_get_stats(e->cache, &cs);
    out->lookups = cs.hits + cs.misses;
    out->hits = cs.hits;
    out->values_loaded = cs.loaded;
    out->values_added = cs.puts;
    out->damaged_bytes = cs.damaged_bytes;
}

/* Infer the results at indices files[0, n): all but the FIFOs/stdin through
 * the pipeline (or all sequentially). */
static enum csvi_status infer_files(csvi_engine *e, const size_t *files, size_t n)
{
    enum csvi_status st = CSVI_OK;
    uint64_t total = 0; /* for the progress line */
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(e->files[files[i]].path, &sb) == 0 && S_ISREG(sb.st_mode))
            total += (uint64_t)sb.st_size;
    }
    atomic_fetch_add(&e->bytes_total, total);
    if (sequential_mode(e)) {
        for (size_t i = 0; i < n && st == CSVI_OK && !csvi_interrupted(); i++) {
            st = infer_sequential(e, &e->files[files[i]]);
            run_bytes_done(e, e->files[files[i]].bytes);
            run_file_finished(e, &e->files[files[i]]);
        }
        return st;
    }
    /* the pipeline reads gzip/zstd files too (their first bytes say so) */
    struct reader *rd = n ? engine_reader(e, &st) : NULL;
    struct pipeline_item *items = rd ? calloc(n, sizeof *items) : NULL;
    if (rd && !items)
        st = CSVI_ERR_NOMEM;
    for (size_t i = 0; items && i < n; i++)
        items[i] = (struct pipeline_item){e->files[files[i]].path, &e->files[files[i]], false};
    if (items)
        st = pipeline_run(&e->cfg, rd, engine_cache(e), e, items, n);
    free(items);
    return st;
}

/* Standard input or a FIFO through the pipeline: read as a stream (gzip or
 * zstd seen by its first bytes), its slices inferred by the workers. */
static enum csvi_status infer_stream(csvi_engine *e, struct csvi_file_result *r)
{
    enum csvi_status st = CSVI_OK;
    struct reader *rd = engine_reader(e, &st);
    if (!rd)
        return st;
    struct pipeline_item item = {r->path, r, true};
    return pipeline_run(&e->cfg, rd, engine_cache(e), e, &item, 1);
}

enum csvi_status csvi_engine_infer_path(csvi_engine *e, const char *path)
{
    double t0 = now_seconds();
    size_t first = e->n_files;
    enum csvi_status st = CSVI_OK;
    struct stat sb;
    if (csvi_interrupted())
        return CSVI_ERR_INTERRUPTED;
    bool exists = strcmp(path, "-") != 0 && stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        struct walk_globs g = {e->cfg.opt.include, e->cfg.opt.n_include, e->cfg.opt.exclude,
                               e->cfg.opt.n_exclude};
        struct walk_ctx w = {e, NULL, 0, 0, false};
        if (walk_dir(path, &g, on_walk, &w) || w.nomem)
            st = CSVI_ERR_NOMEM;
        else {
            atomic_fetch_add(&e->files_total, e->n_files - first);
            st = infer_files(e, w.files, w.n);
        }
        free(w.files);
    } else {
        long idx = new_result(e, path);
        atomic_fetch_add(&e->files_total, 1);
        if (idx < 0)
            st = CSVI_ERR_NOMEM;
        else if (exists && S_ISREG(sb.st_mode))
            st = infer_files(e, (size_t[]){(size_t)idx}, 1);
        else if (!sequential_mode(e) && (strcmp(path, "-") == 0 || (exists && S_ISFIFO(sb.st_mode))))
            st = infer_stream(e, &e->files[idx]); /* stdin, a FIFO: the pipeline, as a stream */
        else /* a missing path, a device: the sequential engine says what it is */
            st = infer_sequential(e, &e->files[idx]);
    }
    e->seconds += now_seconds() - t0;
    /* results no engine finished: walk errors, files never opened, and (when
     * interrupted) files never started, which are marked so and not recorded */
    for (size_t i = first; i < e->n_files; i++) {
        if (e->reported[i])
            continue;
        if (csvi_interrupted() && !e->files[i].has_dialect && !e->files[i].n_errors)
            e->files[i].interrupted = true;
        run_file_finished(e, &e->files[i]);
    }
    if (st == CSVI_OK && csvi_interrupted())
        st = CSVI_ERR_INTERRUPTED;
    if (st != CSVI_OK)
        return st;
    for (size_t i = first; i < e->n_files; i++)
        if (e->files[i].error_total)
            return CSVI_ERR_DATA;
    return CSVI_OK;
}
