/*
 * verdict_merge.c — `csvinfer merge`: verdicts written by separate runs
 * (one per machine over disjoint shards) become the results one run over
 * all their files would have made (docs/scaling.md).
 *
 * A verdict is csvi_write_json's document, or csvi_write_ndjson's lines,
 * written with mergeable: every file object carries "state" (verdict_state.c).
 * Each file object becomes a result again — path, sizes, dialect, errors,
 * cache and drift from its fields, columns from its state — and is then
 * written back with json_render_file and compared with the object it came
 * from: a field changed by hand, a state that is not this file's, or a
 * verdict of another version is refused, naming the verdict and the file.
 * The first state read sets the engine's inference options (so --group and
 * the SQL output see the null tokens, threshold, ... the shards used); every
 * later state must carry the same options block.  csvi_engine_merge_finish
 * sorts the files as a directory walk would (io/walk.c: names bytewise,
 * subdirectories where they sort) and refuses a path found in two verdicts.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- bookkeeping ------------------------------------------------------- */

void merge_clear(csvi_engine *e)
{
    free(e->merge_opts);
    e->merge_opts = NULL;
    for (uint32_t i = 0; i < e->merge_n_src; i++)
        free(e->merge_names[i]);
    free(e->merge_names);
    e->merge_names = NULL;
    e->merge_n_src = 0;
    free(e->merge_src);
    e->merge_src = NULL;
}

bool csvi_engine_merged_tables(const csvi_engine *e) { return e->merge_tables; }

/* A new empty result from verdict src; NULL if out of memory. */
static struct csvi_file_result *append_result(csvi_engine *e, uint32_t src)
{
    if (e->n_files == e->cap_files) {
        size_t cap = e->cap_files ? 2 * e->cap_files : 64;
        struct csvi_file_result *f = realloc(e->files, cap * sizeof *f);
        if (!f)
            return NULL;
        e->files = f;
        uint8_t *rep = realloc(e->reported, cap);
        if (!rep)
            return NULL;
        memset(rep + e->cap_files, 1, cap - e->cap_files); /* never run_file_finished */
        e->reported = rep;
        uint32_t *ms = realloc(e->merge_src, cap * sizeof *ms);
        if (!ms)
            return NULL;
        e->merge_src = ms;
        e->cap_files = cap;
    }
    if (!e->merge_src) { /* results made by a run before: not from a verdict */
        if (!(e->merge_src = calloc(e->cap_files, sizeof *e->merge_src)))
            return NULL;
        for (size_t i = 0; i < e->n_files; i++)
            e->merge_src[i] = UINT32_MAX;
    }
    struct csvi_file_result *r = &e->files[e->n_files];
    memset(r, 0, sizeof *r);
    e->merge_src[e->n_files++] = src;
    return r;
}

/* Make the engine's inference options those of a state's block. */
static int adopt_options(csvi_engine *e, const struct file_state *fs, uint32_t src)
{
    const struct state_options *o = &fs->o;
    char **toks = calloc(o->n_null + 1, sizeof *toks);
    size_t *lens = calloc(o->n_null + 1, sizeof *lens);
    uint8_t *block = malloc(fs->opts_len ? fs->opts_len : 1);
    if (!toks || !lens || !block)
        goto nomem;
    for (size_t i = 0; i < o->n_null; i++) {
        if (!(toks[i] = strdup(o->null_tokens[i])))
            goto nomem;
        lens[i] = strlen(toks[i]);
    }
    memcpy(block, fs->opts, fs->opts_len);
    if (e->null_tokens)
        for (size_t i = 0; e->null_tokens[i]; i++)
            free(e->null_tokens[i]);
    free(e->null_tokens);
    free(e->null_lens);
    e->null_tokens = toks;
    e->null_lens = lens;
    struct csvi_options *opt = &e->cfg.opt;
    opt->threshold = o->threshold;
    opt->dayfirst = o->dayfirst;
    opt->quoted_empty_is_text = o->quoted_empty_is_text;
    opt->no_trim = o->no_trim;
    opt->delimiter = o->delimiter;
    opt->quote = o->quote;
    opt->header = o->header;
    opt->sample_rows = o->sample_rows;
    opt->max_record = (size_t)o->max_record;
    classify_cfg_init(&e->cfg.ccfg, (const char *const *)toks, lens, o->n_null,
                      o->quoted_empty_is_text, o->no_trim);
    free(e->merge_opts);
    e->merge_opts = block;
    e->merge_opts_len = fs->opts_len;
    e->merge_opts_src = src;
    return 0;
nomem:
    if (toks)
        for (size_t i = 0; i < o->n_null; i++)
            free(toks[i]);
    free(toks);
    free(lens);
    free(block);
    return -ENOMEM;
}

/* ---- one file object ---------------------------------------------------- */

struct loader {
    csvi_engine *e;
    uint32_t src;
    char *why;          /* the first problem, malloc'd */
    bool nomem;
};

static bool fail(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct loader *L, const char *fmt, ...)
{
    if (L->why || L->nomem)
        return false;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&L->why, fmt, ap) < 0) {
        L->why = NULL;
        L->nomem = true;
    }
    va_end(ap);
    return false;
}

static bool get_u64(json_t *o, const char *key, uint64_t *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return false;
    *v = (uint64_t)json_integer_value(x);
    return true;
}

static char *dup_string(struct loader *L, json_t *x)
{
    char *s = strdup(json_string_value(x));
    if (!s)
        L->nomem = true;
    return s;
}

static bool one_char(json_t *x, char *c)
{
    if (!json_is_string(x) || json_string_length(x) != 1)
        return false;
    *c = json_string_value(x)[0];
    return true;
}

static bool load_dialect(struct loader *L, json_t *d, struct csvi_file_result *r)
{
    if (json_is_null(d))
        return true;
    json_t *q = json_object_get(d, "quote"), *nl = json_object_get(d, "newline");
    json_t *enc = json_object_get(d, "encoding"), *comp = json_object_get(d, "compression");
    struct csvi_dialect *dl = &r->dialect;
    if (!json_is_object(d) || !one_char(json_object_get(d, "delimiter"), &dl->delimiter) ||
        !(json_is_null(q) || one_char(q, &dl->quote)) ||
        !json_is_boolean(json_object_get(d, "header")) ||
        !json_is_boolean(json_object_get(d, "bom")) || !json_is_string(nl) ||
        !json_is_string(enc))
        return fail(L, "\"dialect\" is not as csvinfer writes it");
    dl->header = json_is_true(json_object_get(d, "header"));
    dl->bom = json_is_true(json_object_get(d, "bom"));
    dl->crlf = strcmp(json_string_value(nl), "\r\n") == 0;
    const char *en = json_string_value(enc);
    dl->encoding = !strcmp(en, "latin-1") ? CSVI_ENC_LATIN1
                   : !strcmp(en, "binary") ? CSVI_ENC_BINARY
                                           : CSVI_ENC_UTF8;
    if (comp) {
        const char *c = json_string_value(comp);
        r->compression = !c ? NULL : !strcmp(c, "gzip") ? "gzip" : !strcmp(c, "zstd") ? "zstd" : NULL;
        if (!r->compression)
            return fail(L, "\"dialect.compression\" is neither gzip nor zstd");
    }
    r->has_dialect = true;
    return true; /* anything else odd shows in the comparison at the end */
}

static bool load_errors(struct loader *L, json_t *obj, struct csvi_file_result *r)
{
    json_t *errs = json_object_get(obj, "errors");
    if (!json_is_array(errs) || json_array_size(errs) > CSVI_MAX_ERRORS)
        return fail(L, "\"errors\" is not a list of at most %d errors", CSVI_MAX_ERRORS);
    size_t n = json_array_size(errs);
    if (n && !(r->errors = calloc(n, sizeof *r->errors)))
        return L->nomem = true, false;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(errs, i), *line = json_object_get(x, "line");
        json_t *kind = json_object_get(x, "kind"), *msg = json_object_get(x, "message");
        if (!json_is_object(x) || !(json_is_null(line) || json_is_integer(line)) ||
            !json_is_string(kind) || !json_is_string(msg))
            return fail(L, "errors[%zu] is not {\"line\", \"kind\", \"message\"}", i);
        int k = 0;
        while (k < CSVI_EK_COUNT && strcmp(csvi_error_kind_name((enum csvi_error_kind)k),
                                           json_string_value(kind)) != 0)
            k++;
        if (k == CSVI_EK_COUNT)
            return fail(L, "errors[%zu]: unknown kind \"%s\"", i, json_string_value(kind));
        struct csvi_error *er = &r->errors[i];
        er->line = json_is_integer(line) && json_integer_value(line) > 0
                       ? (uint64_t)json_integer_value(line)
                       : 0;
        er->kind = (enum csvi_error_kind)k;
        if (!(er->message = dup_string(L, msg)))
            return false;
        r->n_errors++;
    }
    uint64_t more = 0;
    if (json_object_get(obj, "errors_not_listed") && !get_u64(obj, "errors_not_listed", &more))
        return fail(L, "\"errors_not_listed\" is not a count");
    r->error_total = r->n_errors + more;
    return true;
}

static bool load_drift(struct loader *L, json_t *obj, struct csvi_file_result *r)
{
    json_t *d = json_object_get(obj, "drift"), *since = json_object_get(obj, "drift_since");
    if (!d)
        return true;
    L->e->merge_drift = true;
    if (!json_is_array(d) || !(json_is_null(since) || json_is_string(since)))
        return fail(L, "\"drift\" is not as csvinfer writes it");
    if (json_is_string(since) && !(r->drift_since = dup_string(L, since)))
        return false;
    size_t n = json_array_size(d);
    if (n && !(r->drift = calloc(n, sizeof *r->drift)))
        return L->nomem = true, false;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(d, i), *kind = json_object_get(x, "kind");
        json_t *col = json_object_get(x, "column"), *det = json_object_get(x, "detail");
        if (!json_is_string(kind) || !json_is_string(col) || !json_is_string(det))
            return fail(L, "drift[%zu] is not {\"kind\", \"column\", \"detail\"}", i);
        int k = 0;
        while (k < CSVI_DRIFT_COUNT && strcmp(csvi_drift_kind_name((enum csvi_drift_kind)k),
                                              json_string_value(kind)) != 0)
            k++;
        if (k == CSVI_DRIFT_COUNT)
            return fail(L, "drift[%zu]: unknown kind \"%s\"", i, json_string_value(kind));
        struct csvi_drift *dr = &r->drift[r->n_drift++];
        dr->kind = (enum csvi_drift_kind)k;
        if (!(dr->column = dup_string(L, col)) || !(dr->detail = dup_string(L, det)))
            return false;
    }
    return true;
}

/* The state's columns, named by the object's, into r. */
static bool load_columns(struct loader *L, json_t *obj, const struct file_state *fs,
                         struct csvi_file_result *r)
{
    json_t *cols = json_object_get(obj, "columns");
    if (!json_is_array(cols))
        return fail(L, "\"columns\" is not a list");
    if (json_array_size(cols) != fs->ncols)
        return fail(L, "the state holds %zu columns, the file object %zu: they are not of one "
                       "run",
                    fs->ncols, json_array_size(cols));
    if (fs->ncols && !(r->columns = calloc(fs->ncols, sizeof *r->columns)))
        return L->nomem = true, false;
    for (size_t i = 0; i < fs->ncols; i++) {
        json_t *name = json_object_get(json_array_get(cols, i), "name");
        if (!json_is_string(name))
            return fail(L, "columns[%zu] has no \"name\"", i);
        if (!(r->columns[i].name = dup_string(L, name)))
            return false;
        r->n_columns++;
        column_verdict(&fs->cols[i], fs->o.threshold, fs->o.dayfirst, &r->columns[i]);
    }
    return true;
}

/* The first key whose value differs between a and b (both objects). */
static const char *first_difference(json_t *a, json_t *b)
{
    const char *key;
    json_t *v;
    json_object_foreach(a, key, v) {
        if (!json_equal(v, json_object_get(b, key)))
            return key;
    }
    json_object_foreach(b, key, v) {
        if (!json_object_get(a, key))
            return key;
    }
    return "?";
}

/* Is the result written back the object it came from? */
static bool check_written_back(struct loader *L, json_t *obj, const struct csvi_file_result *r)
{
    char *line;
    size_t n;
    if (json_render_file(&L->e->cfg, r, json_object_get(obj, "drift") != NULL, &line, &n))
        return L->nomem = true, false;
    json_error_t jerr;
    json_t *back = json_loadb(line, n, 0, &jerr);
    free(line);
    if (!back)
        return L->nomem = true, false;
    bool same = json_equal(back, obj);
    if (!same) {
        const char *key = first_difference(obj, back);
        fail(L, "\"%s\" does not agree with the file's state (changed by hand, or not written by "
                "this csvinfer version)",
             key);
    }
    json_decref(back);
    return same;
}

static bool load_file(struct loader *L, json_t *obj)
{
    csvi_engine *e = L->e;
    json_t *path = json_object_get(obj, "path"), *state = json_object_get(obj, "state");
    if (!json_is_object(obj) || !json_is_string(path))
        return fail(L, "not a file object (no \"path\")");
    if (!state)
        return fail(L, "no \"state\": the verdict was written without --mergeable (run the "
                       "shard again with --mergeable)");
    if (!json_is_string(state))
        return fail(L, "\"state\" is not a string");
    size_t slen = json_string_length(state);
    uint8_t *bytes = malloc(3 * (slen / 4) + 1);
    if (!bytes)
        return L->nomem = true, false;
    long n = base64_decode(json_string_value(state), slen, bytes);
    if (n < 0) {
        free(bytes);
        return fail(L, "\"state\" is not base64");
    }
    struct file_state fs;
    const char *why;
    int rc = state_decode(bytes, (size_t)n, &fs, &why);
    if (rc) {
        free(bytes);
        if (rc == -ENOMEM)
            return L->nomem = true, false;
        return fail(L, "\"state\": %s", why);
    }
    bool ok = true;
    if (!e->merge_opts) {
        if (adopt_options(e, &fs, L->src))
            ok = !(L->nomem = true);
    } else if (fs.opts_len != e->merge_opts_len || memcmp(fs.opts, e->merge_opts, fs.opts_len)) {
        ok = fail(L, "inferred with other options than %s (--threshold, --null, --dayfirst, "
                     "--quoted-empty-is-text, --no-trim, --delimiter, --quote, --header, "
                     "--sample-rows and --max-record must be the same for every shard)",
                  e->merge_names[e->merge_opts_src]);
    }
    struct csvi_file_result *r = ok ? append_result(e, L->src) : NULL;
    if (ok && !r)
        ok = !(L->nomem = true);
    if (ok) {
        r->state = bytes; /* the bytes as decoded: written back as they came */
        r->state_len = (size_t)n;
        bytes = NULL;
        r->rows = fs.rows;
        r->trailing_blank_lines = fs.trailing_blank_lines;
        r->copy_bare_cr_line = fs.copy_bare_cr_line;
        r->copy_eod_line = fs.copy_eod_line;
        r->copy_mixed_eol_line = fs.copy_mixed_eol_line;
        json_t *cache = json_object_get(obj, "cache");
        uint64_t rows;
        if (!(r->path = dup_string(L, path)))
            ok = false;
        else if (!get_u64(obj, "bytes", &r->bytes) || !get_u64(obj, "rows", &rows))
            ok = fail(L, "\"bytes\" or \"rows\" is not a count");
        else if (rows != fs.rows)
            ok = fail(L, "\"rows\" is %llu, its state says %llu", (unsigned long long)rows,
                      (unsigned long long)fs.rows);
        else if (!json_is_object(cache) || !get_u64(cache, "slices", &r->cache_slices) ||
                 !get_u64(cache, "hits", &r->cache_hits))
            ok = fail(L, "\"cache\" is not {\"slices\", \"hits\"}");
        ok = ok && load_dialect(L, json_object_get(obj, "dialect"), r) && load_errors(L, obj, r) &&
             load_drift(L, obj, r) && load_columns(L, obj, &fs, r) &&
             check_written_back(L, obj, r);
    }
    free(bytes);
    state_free(&fs);
    return ok;
}

/* ---- a verdict ---------------------------------------------------------- */

static bool load_document(struct loader *L, json_t *root, const char *name)
{
    json_t *v = json_object_get(root, "version"), *files = json_object_get(root, "files");
    if (!json_is_integer(v) || json_integer_value(v) != CSVI_JSON_VERSION)
        return fail(L, "%s: JSON version %s; this csvinfer reads version %d", name,
                    json_is_integer(v) ? "other than 1" : "missing", CSVI_JSON_VERSION);
    if (!json_is_array(files))
        return fail(L, "%s: \"files\" is not a list", name);
    for (size_t i = 0; i < json_array_size(files); i++) {
        json_t *f = json_array_get(files, i);
        if (!load_file(L, f)) {
            if (L->why) { /* say where */
                json_t *p = json_object_get(f, "path");
                char *w = NULL;
                if (asprintf(&w, "%s: files[%zu]%s%s%s: %s", name, i, p ? " (" : "",
                             json_is_string(p) ? json_string_value(p) : "", p ? ")" : "",
                             L->why) >= 0) {
                    free(L->why);
                    L->why = w;
                }
            }
            return false;
        }
    }
    if (json_object_get(root, "tables"))
        L->e->merge_tables = true;
    json_t *sum = json_object_get(json_object_get(root, "summary"), "seconds");
    if (json_is_number(sum))
        L->e->seconds += json_number_value(sum);
    return true;
}

/* NDJSON: a file object per line (and {"table": ...} lines, recomputed). */
static bool load_lines(struct loader *L, const char *buf, size_t n, const char *name)
{
    size_t line = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - buf) : n;
        line++;
        size_t k = i;
        while (k < end && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r'))
            k++;
        if (k < end) {
            json_error_t jerr;
            json_t *obj = json_loadb(buf + i, end - i, JSON_REJECT_DUPLICATES, &jerr);
            if (!obj)
                return fail(L, "%s: line %zu: not JSON: %s", name, line, jerr.text);
            bool ok = true;
            if (json_object_get(obj, "table") && !json_object_get(obj, "path"))
                L->e->merge_tables = true;
            else if (!load_file(L, obj) && L->why) {
                json_t *p = json_object_get(obj, "path");
                char *w = NULL;
                if (asprintf(&w, "%s: line %zu%s%s%s: %s", name, line, p ? " (" : "",
                             json_is_string(p) ? json_string_value(p) : "", p ? ")" : "",
                             L->why) >= 0) {
                    free(L->why);
                    L->why = w;
                }
                ok = false;
            } else if (L->nomem) {
                ok = false;
            }
            json_decref(obj);
            if (!ok)
                return false;
        }
        i = end + 1;
    }
    return true;
}

enum csvi_status csvi_engine_merge_verdict(csvi_engine *e, const char *name, FILE *in, char **why)
{
    *why = NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? 2 * cap : 1 << 20;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return CSVI_ERR_NOMEM;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(in)) {
        free(buf);
        if (asprintf(why, "%s: cannot be read: %s", name, strerror(errno)) < 0)
            *why = NULL;
        return CSVI_ERR_BAD_VERDICT;
    }
    char **names = realloc(e->merge_names, (e->merge_n_src + 1) * sizeof *names);
    if (!names) {
        free(buf);
        return CSVI_ERR_NOMEM;
    }
    e->merge_names = names;
    if (!(names[e->merge_n_src] = strdup(name))) {
        free(buf);
        return CSVI_ERR_NOMEM;
    }
    struct loader L = {e, e->merge_n_src++, NULL, false};
    size_t first = e->n_files;
    bool had_opts = e->merge_opts != NULL;
    json_error_t jerr;
    json_t *root = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    bool ok;
    size_t blank = 0;
    while (blank < n && (buf[blank] == ' ' || buf[blank] == '\n' || buf[blank] == '\t' ||
                         buf[blank] == '\r'))
        blank++;
    bool file_line = root && json_is_object(root) &&
                     (json_object_get(root, "path") || json_object_get(root, "table"));
    if (root && json_is_object(root) && json_object_get(root, "files"))
        ok = load_document(&L, root, name);
    else if (file_line) /* NDJSON of one line */
        ok = load_lines(&L, buf, n, name);
    else if (root)
        ok = fail(&L, "%s: JSON, but not a csvinfer verdict (no \"files\")", name);
    else if (blank == n)
        ok = fail(&L, "%s: empty: no verdict (a shard that failed?)", name);
    else if (strstr(jerr.text, "end of file expected")) /* several values: NDJSON */
        ok = load_lines(&L, buf, n, name);
    else
        ok = fail(&L, "%s: not JSON: line %d: %s", name, jerr.line, jerr.text);
    json_decref(root);
    free(buf);
    if (ok && !L.nomem)
        return CSVI_OK;
    /* leave e as it was: no file of this verdict */
    for (size_t i = first; i < e->n_files; i++)
        result_clear(&e->files[i]);
    e->n_files = first;
    if (!had_opts && e->merge_opts) { /* options set by this verdict: the next sets them */
        free(e->merge_opts);
        e->merge_opts = NULL;
    }
    if (L.nomem) {
        free(L.why);
        return CSVI_ERR_NOMEM;
    }
    *why = L.why;
    return CSVI_ERR_BAD_VERDICT;
}

/* ---- order --------------------------------------------------------------- */

/* Paths in the order a directory walk gives: component by component, each
 * compared bytewise (a directory's files are sorted by name, and a
 * subdirectory is entered where its name sorts: "d/a/x" < "d/a.csv"). */
static int walk_cmp(const char *a, const char *b)
{
    for (;;) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        int c = memcmp(a, b, la < lb ? la : lb);
        if (c)
            return c;
        if (la != lb)
            return la < lb ? -1 : 1;
        a += la;
        b += lb;
        if (!*a || !*b)
            return (*a != 0) - (*b != 0);
        a++;
        b++;
    }
}

static const csvi_engine *sort_engine; /* qsort has no context argument */

static int cmp_index(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int c = walk_cmp(sort_engine->files[i].path, sort_engine->files[j].path);
    return c ? c : (i > j) - (i < j);
}

enum csvi_status csvi_engine_merge_finish(csvi_engine *e, char **why)
{
    *why = NULL;
    size_t n = e->n_files;
    if (n < 2)
        return CSVI_OK;
    size_t *order = malloc(n * sizeof *order);
    struct csvi_file_result *sorted = malloc(n * sizeof *sorted);
    uint32_t *src = malloc(n * sizeof *src);
    if (!order || !sorted || !src) {
        free(order);
        free(sorted);
        free(src);
        return CSVI_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_engine = e;
    qsort(order, n, sizeof *order, cmp_index);
    sort_engine = NULL;
    for (size_t k = 1; k < n; k++) {
        size_t a = order[k - 1], b = order[k];
        uint32_t sa = e->merge_src ? e->merge_src[a] : 0, sb = e->merge_src ? e->merge_src[b] : 0;
        if (sa != sb && strcmp(e->files[a].path, e->files[b].path) == 0) {
            const char *na = sa < e->merge_n_src ? e->merge_names[sa] : "this run";
            const char *nb = sb < e->merge_n_src ? e->merge_names[sb] : "this run";
            if (asprintf(why, "%s is in both %s and %s: the shards must be disjoint",
                         e->files[a].path, na, nb) < 0)
                *why = NULL;
            free(order);
            free(sorted);
            free(src);
            return CSVI_ERR_BAD_VERDICT;
        }
    }
    for (size_t k = 0; k < n; k++) {
        sorted[k] = e->files[order[k]];
        src[k] = e->merge_src ? e->merge_src[order[k]] : 0;
    }
    memcpy(e->files, sorted, n * sizeof *sorted);
    if (e->merge_src)
        memcpy(e->merge_src, src, n * sizeof *src);
    free(order);
    free(sorted);
    free(src);
    return CSVI_OK;
}
