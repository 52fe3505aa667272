/*
 * engine.c — the engine handle: options, paths -> per-file results, and the
 * small public helpers (names of types, statuses, error kinds; SQL types).
 *
 * The engine owns every result it produced until csvi_engine_free.  A path
 * is a file, a directory (walked by io/walk.c, sorted), or "-" for stdin.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "../cache/cache.h"
#include "../io/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const default_nulls[] = {"NULL", "null", "NA", "N/A", "\\N"};
static const char *const default_include[] = {"*.csv", "*.tsv", "*.txt", "*.psv", "*.gz", "*.zst"};


const char *csvi_strerror(enum csvi_status st)
{
    switch (st) {
    case CSVI_OK: return "success";
    case CSVI_ERR_NOMEM: return "out of memory";
    case CSVI_ERR_USAGE: return "invalid option";
    case CSVI_ERR_IO: return "file could not be read";
    case CSVI_ERR_OUTPUT: return "output could not be written";
    case CSVI_ERR_DATA: return "some files had errors";
    case CSVI_ERR_INTERRUPTED: return "interrupted";
    case CSVI_ERR_UNSUPPORTED: return "io_uring is not available here (old kernel or seccomp); use --io auto or --io pread";
    case CSVI_ERR_BAD_VERDICT: return "not a verdict csvinfer merge can read";
    }
    return "unknown status";
}

const char *csvi_type_name(enum csvi_type t)
{
    static const char *const names[CSVI_TYPE_COUNT] = {
        "null", "boolean", "integer", "decimal", "double", "date",
        "timestamp", "timestamptz", "time", "uuid", "text"};
    return (unsigned)t < CSVI_TYPE_COUNT ? names[t] : "?";
}

const char *csvi_encoding_name(enum csvi_encoding e)
{
    return e == CSVI_ENC_UTF8 ? "utf-8" : e == CSVI_ENC_LATIN1 ? "latin-1" : "binary";
}

const char *csvi_error_kind_name(enum csvi_error_kind k)
{
    static const char *const names[CSVI_EK_COUNT] = {
        "not_found",   "open_failed",   "read_failed", "not_regular",     "walk_failed",
        "ragged_row",  "unterminated_quote", "invalid_utf8", "nul_byte", "record_too_long",
        "blank_line", "file_changed", "cr_line_ends"};
    return (unsigned)k < CSVI_EK_COUNT ? names[k] : "?";
}

const char *csvi_sql_type(const struct csvi_column *c, char *buf, size_t cap)
{
    switch (c->type) {
    case CSVI_TYPE_BOOLEAN: snprintf(buf, cap, "BOOLEAN"); break;
    case CSVI_TYPE_INTEGER:
        if (c->min >= -32768 && c->max <= 32767)
            snprintf(buf, cap, "SMALLINT");
        else if (c->min >= INT32_MIN && c->max <= INT32_MAX)
            snprintf(buf, cap, "INTEGER");
        else
            snprintf(buf, cap, "BIGINT");
        break;
    case CSVI_TYPE_DECIMAL: snprintf(buf, cap, "NUMERIC(%u,%u)", c->precision, c->scale); break;
    case CSVI_TYPE_DOUBLE: snprintf(buf, cap, "DOUBLE PRECISION"); break;
    case CSVI_TYPE_DATE: snprintf(buf, cap, "DATE"); break;
    case CSVI_TYPE_TIMESTAMP: snprintf(buf, cap, "TIMESTAMP"); break;
    case CSVI_TYPE_TIMESTAMPTZ: snprintf(buf, cap, "TIMESTAMPTZ"); break;
    case CSVI_TYPE_TIME: snprintf(buf, cap, "TIME"); break;
    case CSVI_TYPE_UUID: snprintf(buf, cap, "UUID"); break;
    default: snprintf(buf, cap, "TEXT"); break;
    }
    return buf;
}

void csvi_options_init(struct csvi_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->delimiter = CSVI_AUTO;
    opt->quote = CSVI_AUTO;
    opt->header = CSVI_AUTO;
    opt->threshold = 1.0;
    opt->chunk_size = 8u << 20;
    opt->max_record = 64u << 20;
    opt->io = CSVI_IO_AUTO;
    opt->cache_size = (uint64_t)1 << 30;
    opt->ledger_batch_events = 64;
    opt->ledger_batch_ms = 1000;
}

/* ---- results ----------------------------------------------------------- */

void result_add_error(struct csvi_file_result *res, uint64_t line, enum csvi_error_kind kind,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = error_vformat(fmt, ap);
    va_end(ap);
    error_list_add(&res->errors, &res->n_errors, &res->error_total, line, kind, msg);
}

void result_clear(struct csvi_file_result *res)
{
    free(res->path);
    for (size_t i = 0; i < res->n_columns; i++)
        free(res->columns[i].name);
    free(res->columns);
    for (size_t i = 0; i < res->n_errors; i++)
        free(res->errors[i].message);
    free(res->errors);
    drift_clear(res);
    free(res->state);
    memset(res, 0, sizeof *res);
}

/* ---- the engine ------------------------------------------------------- */

/* A NULL-terminated copy of the n globs at *globs (strings too), made the
 * options' array: -ENOMEM or 0.  NULL stays NULL. */
static int copy_globs(const char *const **globs, size_t n, char ***owned)
{
    if (!*globs)
        return 0;
    char **c = calloc(n + 1, sizeof *c);
    if (!c)
        return -ENOMEM;
    *owned = c;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = strdup((*globs)[i])))
            return -ENOMEM;
    *globs = (const char *const *)c;
    return 0;
}

static void free_globs(char **g)
{
    if (g)
        for (size_t i = 0; g[i]; i++)
            free(g[i]);
    free(g);
}

csvi_engine *csvi_engine_create(const struct csvi_options *opt, enum csvi_status *st)
{
    split_select_kernels(); /* once, before any worker thread reads the choice */
    csvi_engine *e = calloc(1, sizeof *e);
    if (!e)
        goto nomem;
    pthread_mutex_init(&e->on_file_mu, NULL);
    if (opt)
        e->cfg.opt = *opt;
    else
        csvi_options_init(&e->cfg.opt);
    struct csvi_options *o = &e->cfg.opt;
    bool bad_delim = o->delimiter != CSVI_AUTO &&
                     (o->delimiter <= 0 || o->delimiter > 255 || o->delimiter == '\n' ||
                      o->delimiter == '\r' || o->delimiter == o->quote);
    bool bad_quote = o->quote != CSVI_AUTO &&
                     (o->quote < 0 || o->quote > 255 || o->quote == '\n' || o->quote == '\r');
    if (o->threshold <= 0.0 || o->threshold > 1.0 || o->max_record < 1 || o->max_record > CSVI_MAX_RECORD_LIMIT || o->chunk_size < 1 ||
        bad_delim || bad_quote) {
        free(e);
        if (st)
            *st = CSVI_ERR_USAGE;
        return NULL;
    }
    const char *const *toks = o->null_tokens ? o->null_tokens : default_nulls;
    size_t nt = o->null_tokens ? o->n_null_tokens : sizeof default_nulls / sizeof *default_nulls;
    e->null_tokens = calloc(nt + 1, sizeof *e->null_tokens);
    e->null_lens = calloc(nt + 1, sizeof *e->null_lens);
    if (!e->null_tokens || !e->null_lens)
        goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < nt; i++) {
        if (!toks[i][0])
            continue; /* the empty field is always null */
        if (!(e->null_tokens[k] = strdup(toks[i])))
            goto nomem;
        e->null_lens[k++] = strlen(toks[i]);
    }
    o->null_tokens = NULL; /* the caller's array may go away */
    if (o->cache_dir && !(e->cache_dir = strdup(o->cache_dir)))
        goto nomem;
    o->cache_dir = NULL;
    if (o->ledger_path && !(e->ledger_path = strdup(o->ledger_path)))
        goto nomem;
    o->ledger_path = NULL;
    if (o->stdin_name && asprintf(&e->stdin_key, "stdin:%s", o->stdin_name) < 0) {
        e->stdin_key = NULL;
        goto nomem;
    }
    o->stdin_name = NULL;
    classify_cfg_init(&e->cfg.ccfg, (const char *const *)e->null_tokens, e->null_lens, k,
                      o->quoted_empty_is_text, o->no_trim);
    if (o->mergeable)
        o->keep_state = true;
    if (o->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->threads = n > 0 ? (unsigned)n : 1;
    }
    if (!o->include) {
        o->include = default_include;
        o->n_include = sizeof default_include / sizeof *default_include;
    }
    /* the caller's glob arrays may go away after this call, as its null tokens */
    if (copy_globs(&o->include, o->n_include, &e->include) ||
        copy_globs(&o->exclude, o->n_exclude, &e->exclude))
        goto nomem;
    if (st)
        *st = CSVI_OK;
    return e;
nomem:
    csvi_engine_free(e);
    if (st)
        *st = CSVI_ERR_NOMEM;
    return NULL;
}

void csvi_engine_free(csvi_engine *e)
{
    if (!e)
        return;
    reader_destroy(e->rd);
    cache_close(e->cache, NULL); /* writes what is waiting, compacts if needed */
    run_free(e);
    group_clear(e);
    merge_clear(e);
    pthread_mutex_destroy(&e->on_file_mu);
    free(e->cache_dir);
    free(e->cache_warning);
    for (size_t i = 0; i < e->n_files; i++)
        result_clear(&e->files[i]);
    free(e->files);
    if (e->null_tokens)
        for (size_t i = 0; e->null_tokens[i]; i++)
            free(e->null_tokens[i]);
    free(e->null_tokens);
    free(e->null_lens);
    free_globs(e->include);
    free_globs(e->exclude);
    free(e);
}

size_t csvi_engine_file_count(const csvi_engine *e) { return e->n_files; }

const char *csvi_engine_null_token(const csvi_engine *e, size_t i)
{
    return i < e->cfg.ccfg.n_null ? e->cfg.ccfg.null_tokens[i] : NULL;
}
const struct csvi_file_result *csvi_engine_file(const csvi_engine *e, size_t i)
{
    return i < e->n_files ? &e->files[i] : NULL;
}
double csvi_engine_seconds(const csvi_engine *e) { return e->seconds; }

/* ---- value-level inference ----------------------------------------------- */

enum csvi_status csvi_infer_values(const char *const *fields, const size_t *lens, size_t n,
                                   const struct csvi_options *opt, struct csvi_column *out)
{
    enum csvi_status st;
    csvi_engine *e = csvi_engine_create(opt, &st);
    if (!e)
        return st;
    struct column_state c;
    column_init(&c, e->cfg.opt.threshold < 1.0);
    size_t scratch_cap = 0;
    for (size_t i = 0; i < n; i++)
        if (lens[i] > scratch_cap)
            scratch_cap = lens[i];
    uint8_t *scratch = malloc(scratch_cap + 1);
    if (!scratch) {
        column_free(&c);
        csvi_engine_free(e);
        return CSVI_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)fields[i];
        uint32_t nq = 0;
        for (size_t k = 0; k < lens[i]; k++)
            nq += p[k] == '"';
        struct scan_field f = {0, lens[i], nq};
        size_t len;
        bool quoted;
        const uint8_t *v = field_content(p, &f, '"', scratch, &len, &quoted);
        struct field_class fc;
        classify_field(v, len, quoted, &e->cfg.ccfg, &fc);
        column_add(&c, &fc, v, len, i + 1);
    }
    bool nomem = c.nomem; /* (tolerant mode: a value set not stored) */
    memset(out, 0, sizeof *out);
    if (!nomem)
        column_verdict(&c, e->cfg.opt.threshold, e->cfg.opt.dayfirst, out);
    free(scratch);
    column_free(&c);
    csvi_engine_free(e);
    return nomem ? CSVI_ERR_NOMEM : CSVI_OK;
}

void csvi_column_clear(struct csvi_column *c)
{
    free(c->name);
    c->name = NULL;
}

enum csvi_type csvi_value_type(const char *field, size_t len, const struct csvi_options *opt)
{
    struct csvi_column c;
    if (csvi_infer_values(&field, &len, 1, opt, &c) != CSVI_OK)
        return CSVI_TYPE_TEXT;
    csvi_column_clear(&c);
    return c.type;
}
