/*
 * run.c — a run of the engine as cron sees it: the ledger events (run_start,
 * file_done, file_error, drift, run_end; docs/ledger.md), schema drift
 * against the last run, interruption by signals, and progress counters.
 *
 * The ledger file itself is ledger.c; drift.c compares schemas.  Events of
 * files are made where a file's result becomes final — the merger thread in
 * the pipeline, the calling thread otherwise — through run_file_finished.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "ledger.h"
#include "ledger_basis.h"

#include <errno.h>
#include <pthread.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FORMAT_LEDGER 1 /* "v" of every event */

static volatile sig_atomic_t interrupted_flag;

void csvi_interrupt(void) { interrupted_flag = 1; }
bool csvi_interrupted(void) { return interrupted_flag != 0; }

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ISO 8601 UTC with milliseconds: "2026-11-28T10:50:00.123Z". */
static void iso_time(char out[32], const struct timespec *ts)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts->tv_nsec / 1000000);
}

static void iso_now(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    iso_time(out, &ts);
}

char *utf8_sanitize(const char *s)
{
    size_t n = strlen(s);
    char *fixed = malloc(3 * n + 1), *w = fixed;
    if (!fixed)
        return NULL;
    size_t i = 0;
    while (i < n) {
        size_t ok = utf8_first_invalid((const uint8_t *)s + i, n - i);
        memcpy(w, s + i, ok);
        w += ok;
        i += ok;
        if (i < n) {
            memcpy(w, "\xEF\xBF\xBD", 3);
            w += 3;
            i++;
        }
    }
    *w = '\0';
    return fixed;
}

/* A JSON string of s (utf8_sanitize'd: JSON and jansson hold only Unicode). */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    char *fixed = utf8_sanitize(s);
    json_t *j = fixed ? json_string(fixed) : NULL;
    free(fixed);
    return j ? j : json_null();
}

static json_t *event_new(const csvi_engine *e, const char *kind)
{
    char t[32];
    iso_now(t);
    return json_pack("{s:s, s:i, s:s, s:s}", "event", kind, "v", FORMAT_LEDGER, "run", e->run_id,
                     "time", t);
}

/* The ledger's default place: $XDG_STATE_HOME/csvinfer/ledger.jsonl, else
 * ~/.local/state/csvinfer/ledger.jsonl (malloc'd; NULL if neither is known). */
char *run_default_ledger_path(void)
{
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char *p = NULL;
    if (x && x[0] == '/') {
        if (asprintf(&p, "%s/csvinfer/ledger.jsonl", x) < 0)
            p = NULL;
    } else if (home && home[0]) {
        if (asprintf(&p, "%s/.local/state/csvinfer/ledger.jsonl", home) < 0)
            p = NULL;
    }
    return p;
}

/* The key a file is known by across runs: its absolute path. */
/* realpath(path), with the real path of the directory kept from the last
 * call: a walk's files come directory by directory, and realpath stats
 * every component of every path.  A name that is a symlink (or . or ..) is
 * resolved whole, as realpath does.  (One cache for the process, under a
 * mutex: the merger calls this per file, the splitter now and then.) */
static pthread_mutex_t path_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static char *path_cache_dir, *path_cache_real; /* guarded by path_cache_mu */

static char *real_path_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    struct stat sb;
    if (!slash || slash == path || !base[0] || !strcmp(base, ".") || !strcmp(base, "..") ||
        lstat(path, &sb) != 0 || S_ISLNK(sb.st_mode))
        return realpath(path, NULL);
    size_t dl = (size_t)(slash - path);
    char *abs = NULL;
    pthread_mutex_lock(&path_cache_mu);
    if (!path_cache_dir || strlen(path_cache_dir) != dl || memcmp(path_cache_dir, path, dl) != 0) {
        free(path_cache_dir);
        free(path_cache_real);
        path_cache_dir = strndup(path, dl);
        path_cache_real = path_cache_dir ? realpath(path_cache_dir, NULL) : NULL;
        if (!path_cache_real) {
            free(path_cache_dir);
            path_cache_dir = NULL;
        }
    }
    bool hit = path_cache_real != NULL;
    if (hit && asprintf(&abs, "%s%s%s", path_cache_real, strcmp(path_cache_real, "/") ? "/" : "",
                        base) < 0)
        abs = NULL;
    pthread_mutex_unlock(&path_cache_mu);
    return hit ? abs : realpath(path, NULL);
}

char *run_path_key(const char *path)
{
    if (strcmp(path, "-") == 0)
        return strdup("-");
    char *abs = real_path_of(path);
    if (!abs && strncmp(path, "stdin:", 6) == 0) /* a feed named by --stdin-name (history) */
        return strdup(path);
    if (!abs) { /* gone (renamed, deleted): its directory's real path and its name */
        const char *slash = strrchr(path, '/');
        char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
        char *rdir = dir ? realpath(dir, NULL) : NULL;
        const char *base = slash ? slash + 1 : path;
        if (!rdir || asprintf(&abs, "%s%s%s", rdir, strcmp(rdir, "/") ? "/" : "", base) < 0)
            abs = NULL;
        free(dir);
        free(rdir);
    }
    char *key = utf8_sanitize(abs ? abs : path); /* as the ledger stores it */
    free(abs);
    return key;
}

bool run_previous_identity(csvi_engine *e, const char *path, uint64_t *size, int64_t *mtime_ns)
{
    if (!e || !e->last_schemas)
        return false;
    char *key = run_path_key(path);
    json_t *prev = basis_event(e->last_schemas, key);
    free(key);
    json_t *sz = json_object_get(prev, "size"), *mt = json_object_get(prev, "mtime_ns");
    bool ok = json_is_integer(sz) && json_is_integer(mt) && json_integer_value(sz) >= 0 &&
              json_integer_value(mt) >= 0;
    if (ok) {
        *size = (uint64_t)json_integer_value(sz);
        *mtime_ns = (int64_t)json_integer_value(mt);
    }
    json_decref(prev);
    return ok;
}

enum csvi_status csvi_engine_begin_run(csvi_engine *e, int argc, char *const *argv)
{
    e->run_begun = true;
    e->run_t0 = wall_now();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->run_id, sizeof e->run_id, "%lx-%lx-%x", (long)ts.tv_sec, (long)ts.tv_nsec,
             (unsigned)getpid());
    if (e->cfg.opt.no_ledger)
        return CSVI_OK;
    bool default_place = !e->ledger_path;
    if (!e->ledger_path && !(e->ledger_path = run_default_ledger_path())) {
        e->ledger_warning = strdup("no ledger path ($XDG_STATE_HOME and $HOME are unset); "
                                   "use --ledger FILE or --no-ledger");
        return CSVI_ERR_OUTPUT;
    }
    uint64_t skipped = 0;
    e->basis = calloc(1, sizeof *e->basis);
    int rc = e->basis ? basis_load(e->basis, e->ledger_path, &skipped) : -ENOMEM;
    if (e->basis) { /* runs with no run_end (killed, or still running) are no basis */
        e->last_schemas = e->basis->last;
        e->last_tables = e->basis->tables;
    }
    char *why = NULL;
    if (rc == 0)
        rc = ledger_open(e->ledger_path, default_place, e->cfg.opt.ledger_batch_events,
                         e->cfg.opt.ledger_batch_ms, &e->ledger, &why);
    else if (asprintf(&why, rc == -EINVAL ? "the ledger %s is not a regular file%s"
                                          : "cannot read the ledger %s: %s",
                      e->ledger_path, rc == -EINVAL ? "" : strerror(-rc)) < 0)
        why = NULL;
    if (rc) {
        e->ledger_warning = why ? why : strdup("cannot use the ledger");
        if (e->basis)
            basis_free(e->basis);
        free(e->basis);
        e->basis = NULL;
        e->last_schemas = NULL;
        e->last_tables = NULL;
        return rc == -ENOMEM ? CSVI_ERR_NOMEM : CSVI_ERR_OUTPUT;
    }
    json_t *ev = event_new(e, "run_start");
    json_t *args = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(args, jstr(argv[i]));
    char host[HOST_NAME_MAX + 1] = "";
    gethostname(host, sizeof host);
    host[HOST_NAME_MAX] = '\0';
    char *cwd = getcwd(NULL, 0);
    json_object_set_new(ev, "version", json_string(CSVI_VERSION_STRING));
    json_object_set_new(ev, "args", args);
    json_object_set_new(ev, "host", jstr(host));
    json_object_set_new(ev, "cwd", jstr(cwd));
    json_object_set_new(ev, "pid", json_integer(getpid()));
    if (skipped)
        json_object_set_new(ev, "ledger_lines_skipped", json_integer((json_int_t)skipped));
    free(cwd);
    ledger_add(e->ledger, ev);
    ledger_flush(e->ledger); /* a run is on record before it reads anything */
    return CSVI_OK;
}

/* A column with no values tonight (type null: empty, or every value null)
 * says nothing of its type: the schema recorded keeps the one the last
 * schema had (and, with no value at all, its nullability), so the next night
 * is compared with that — not with null, which any type "widens" from.
 * Returns the last schema's column of that name when it had a type. */
static json_t *carried_column(const json_t *old_schema, const struct csvi_column *c)
{
    if (c->type != CSVI_TYPE_NULL || !old_schema)
        return NULL;
    char *name = utf8_sanitize(c->name); /* as the ledger holds names */
    json_t *found = NULL, *oc;
    size_t i;
    json_array_foreach(old_schema, i, oc) {
        const char *on = json_string_value(json_object_get(oc, "name"));
        const char *ot = json_string_value(json_object_get(oc, "type"));
        if (name && on && ot && strcmp(on, name) == 0 && strcmp(ot, "null") != 0) {
            found = oc;
            break;
        }
    }
    free(name);
    return found;
}

/* The date formats the values fit, where more than one does (ambiguous
 * dates): drift compares them with the next night's (docs/ledger.md). */
static json_t *formats_json(unsigned fmts)
{
    json_t *a = json_array();
    for (int f = 0; f < DF_COUNT; f++)
        if (fmts & (1u << f))
            json_array_append_new(a, json_string(date_format_string((enum date_format)f)));
    return a;
}

static json_t *schema_json_of(const struct csvi_column *cols, size_t n, const json_t *old_schema)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct csvi_column *c = &cols[i];
        json_t *oc = carried_column(old_schema, c), *col;
        if (oc) {
            col = json_deep_copy(oc);
            json_object_set_new(col, "name", jstr(c->name));
            if (c->count > 0) /* nulls seen: that much is tonight's fact */
                json_object_set_new(col, "nullable", json_true());
            json_array_append_new(a, col);
            continue;
        }
        char sql[64];
        col = json_pack("{s:o, s:s, s:b, s:s}", "name", jstr(c->name), "type",
                        csvi_type_name(c->type), "nullable", c->nullable, "sql_type",
                        csvi_sql_type(c, sql, sizeof sql));
        if (col && c->format[0]) /* date, time, timestamp(tz): drift compares it */
            json_object_set_new(col, "format", json_string(c->format));
        if (col && __builtin_popcount(c->date_formats) > 1)
            json_object_set_new(col, "formats", formats_json(c->date_formats));
        json_array_append_new(a, col);
    }
    return a;
}

/* CSVINFER_LOG=info|debug: one key=value line per file on stderr. */
static void log_file(const struct csvi_file_result *r)
{
    const char *lv = getenv("CSVINFER_LOG");
    if (!lv || (strcmp(lv, "info") != 0 && strcmp(lv, "debug") != 0))
        return;
    unsigned counts[CSVI_TYPE_COUNT] = {0};
    for (size_t i = 0; i < r->n_columns; i++)
        counts[r->columns[i].type]++;
    char types[256] = "";
    size_t n = 0;
    for (int t = 0; t < CSVI_TYPE_COUNT && n < sizeof types; t++)
        if (counts[t])
            n += (size_t)snprintf(types + n, sizeof types - n, "%s%s:%u", n ? "," : "",
                                  csvi_type_name((enum csvi_type)t), counts[t]);
    /* one fprintf: stdio locks the stream, so lines from threads do not mix */
    fprintf(stderr,
            "level=info component=file path=\"%s\" status=%s rows=%llu bytes=%llu columns=%zu "
            "types=%s errors=%llu duration_ms=%.1f cache_slices=%llu cache_hits=%llu drift=%zu\n",
            r->path, r->interrupted ? "interrupted" : r->has_dialect ? "done" : "unreadable",
            (unsigned long long)r->rows, (unsigned long long)r->bytes, r->n_columns,
            types[0] ? types : "-", (unsigned long long)r->error_total, r->seconds * 1000.0,
            (unsigned long long)r->cache_slices, (unsigned long long)r->cache_hits, r->n_drift);
}

void csvi_engine_on_file(csvi_engine *e, csvi_file_fn fn, void *ctx)
{
    e->on_file = fn;
    e->on_file_ctx = ctx;
}

static void tell_caller(csvi_engine *e, const struct csvi_file_result *r)
{
    log_file(r);
    if (!e->on_file || r->interrupted)
        return;
    pthread_mutex_lock(&e->on_file_mu);
    e->on_file(e->on_file_ctx, r);
    pthread_mutex_unlock(&e->on_file_mu);
}

/* The file_done event, one per file: written with the output's JSON escaper
 * rather than built with jansson (which cost ~240,000 instructions a file,
 * 45 µs, on the merger thread: the small-files budget).  Bytes of names that
 * are not UTF-8 become U+FFFD exactly as utf8_sanitize makes them. */
/* The file_done line (malloc'd, *len bytes, no newline), or NULL. */
static char *file_done_line(csvi_engine *e, const struct csvi_file_result *r, const char *key,
                            const char *mtime, long long mtime_ns /* < 0: unknown */,
                            const json_t *old_schema /* carried_column, or NULL */, size_t *len)
{
    char *line = NULL;
    *len = 0;
    FILE *m = open_memstream(&line, len);
    if (!m)
        return NULL;
    char t[32];
    iso_now(t);
    fprintf(m, "{\"event\":\"file_done\",\"v\":%d,\"run\":\"%s\",\"time\":\"%s\",\"path\":",
            FORMAT_LEDGER, e->run_id, t);
    json_put_string(m, key, strlen(key));
    fprintf(m, ",\"size\":%llu,\"mtime\":", (unsigned long long)r->bytes);
    if (mtime[0])
        fprintf(m, "\"%s\"", mtime);
    else
        fputs("null", m);
    if (mtime_ns >= 0) /* exact, for --trust-append's lookup of the file's last record */
        fprintf(m, ",\"mtime_ns\":%lld", mtime_ns);
    fputs(",\"digest\":", m);
    if (r->digest[0])
        fprintf(m, "\"%s\"", r->digest);
    else
        fputs("null", m);
    fprintf(m,
            ",\"rows\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"cache\":{\"slices\":%llu,"
            "\"hits\":%llu},\"schema\":[",
            (unsigned long long)r->rows, (unsigned long long)r->error_total, r->seconds,
            (unsigned long long)r->cache_slices, (unsigned long long)r->cache_hits);
    for (size_t i = 0; i < r->n_columns; i++) {
        const struct csvi_column *c = &r->columns[i];
        char sql[64];
        fputs(i ? ",{\"name\":" : "{\"name\":", m);
        json_put_string(m, c->name, strlen(c->name));
        json_t *oc = carried_column(old_schema, c); /* (rare: jansson is fine here) */
        if (oc) {
            json_t *rest = json_deep_copy(oc);
            json_object_del(rest, "name");
            if (c->count > 0)
                json_object_set_new(rest, "nullable", json_true());
            char *text = json_dumps(rest, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (text && text[0] == '{' && text[1] != '}') /* its fields after the name */
                fprintf(m, ",%.*s", (int)strlen(text + 1) - 1, text + 1);
            free(text);
            json_decref(rest);
            fputc('}', m);
            continue;
        }
        fprintf(m, ",\"type\":\"%s\",\"nullable\":%s,\"sql_type\":\"%s\"",
                csvi_type_name(c->type), c->nullable ? "true" : "false",
                csvi_sql_type(c, sql, sizeof sql));
        if (c->format[0]) { /* date, time, timestamp(tz): drift compares it (as schema_json_of) */
            fputs(",\"format\":", m);
            json_put_string(m, c->format, strlen(c->format));
        }
        if (__builtin_popcount(c->date_formats) > 1) { /* (rare: jansson is fine here) */
            json_t *fj = formats_json(c->date_formats);
            char *text = json_dumps(fj, JSON_COMPACT);
            if (text)
                fprintf(m, ",\"formats\":%s", text);
            free(text);
            json_decref(fj);
        }
        fputc('}', m);
    }
    fputs("]}", m);
    if (fclose(m) != 0) {
        free(line);
        return NULL;
    }
    return line;
}

/* From `,"schema":[` to the end: the schema as file_done_line writes it. */
static const char *schema_text(const char *line, size_t n)
{
    return memmem(line, n, ",\"schema\":[", 11); /* (quotes inside names are escaped) */
}

/* Drift of r against the basis line kept for its path.  When the old line's
 * schema text is the new one's byte for byte (the common case, every night)
 * nothing changed: only its time is needed, read without parsing it. */
static void drift_against(csvi_engine *e, struct csvi_file_result *r, const char *key,
                          const char *line, size_t len)
{
    json_t *raw = json_object_get(e->last_schemas, key);
    if (!json_is_string(raw))
        return;
    const char *old = json_string_value(raw);
    size_t on = json_string_length(raw);
    const char *os = schema_text(old, on), *ns = line ? schema_text(line, len) : NULL;
    const char *t = memmem(old, on, ",\"time\":\"", 9), *te = t ? memchr(t + 9, '"', on - (size_t)(t + 9 - old)) : NULL;
    if (os && ns && t && te && on - (size_t)(os - old) == len - (size_t)(ns - line) &&
        memcmp(os, ns, len - (size_t)(ns - line)) == 0) {
        r->drift_since = strndup(t + 9, (size_t)(te - (t + 9)));
        return;
    }
    json_t *prev = basis_event(e->last_schemas, key);
    if (prev) {
        drift_compare(r, json_object_get(prev, "schema"));
        const char *when = json_string_value(json_object_get(prev, "time"));
        if (when)
            r->drift_since = strdup(when);
    }
    json_decref(prev);
}

void run_file_finished(csvi_engine *e, struct csvi_file_result *r)
{
    size_t idx = (size_t)(r - e->files);
    if (idx >= e->n_files || e->reported[idx])
        return;
    e->reported[idx] = 1;
    atomic_fetch_add(&e->files_done, 1);
    /* --sample-rows reads the first rows only: its schema is no fact about the
     * file, so it is neither compared nor recorded (a sampled run recorded
     * drift, and the next full run drift back on the same bytes) */
    if (!e->ledger || r->interrupted || e->cfg.opt.sample_rows) {
        tell_caller(e, r);
        return;
    }
    /* standard input: "-", or the feed's name (--stdin-name) */
    char *key = strcmp(r->path, "-") == 0 && e->stdin_key ? strdup(e->stdin_key)
                                                           : run_path_key(r->path);
    if (!key)
        return;
    const struct csvi_error *why = r->n_errors ? &r->errors[0] : NULL;
    bool changed = false; /* read while it changed: its schema is no fact to compare with */
    for (size_t i = 0; i < r->n_errors && !changed; i++)
        if (r->errors[i].kind == CSVI_EK_FILE_CHANGED)
            why = &r->errors[i], changed = true;
    if (!r->has_dialect || changed) { /* could not be read at all, or not as one file */
        json_t *ev = event_new(e, "file_error");
        json_object_set_new(ev, "path", jstr(key));
        if (why) {
            json_object_set_new(ev, "kind", json_string(csvi_error_kind_name(why->kind)));
            json_object_set_new(ev, "message", jstr(why->message));
        }
        ledger_add(e->ledger, ev);
        free(key);
        tell_caller(e, r);
        return;
    }
    struct stat sb;
    char mtime[32] = "";
    long long mtime_ns = -1;
    if (strcmp(r->path, "-") != 0 && stat(r->path, &sb) == 0) {
        iso_time(mtime, &sb.st_mtim);
        mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    }
    size_t len;
    bool empty_column = false; /* a column with no values keeps the last schema's type */
    for (size_t i = 0; i < r->n_columns && !empty_column; i++)
        empty_column = r->columns[i].type == CSVI_TYPE_NULL;
    json_t *prev = empty_column && e->last_schemas ? basis_event(e->last_schemas, key) : NULL;
    char *line = file_done_line(e, r, key, mtime, mtime_ns, json_object_get(prev, "schema"), &len);
    json_decref(prev);
    drift_against(e, r, key, line, len);
    if (line)
        ledger_add_line(e->ledger, line, len);
    free(line);
    if (r->n_drift) {
        json_t *d = event_new(e, "drift");
        json_t *changes = json_array();
        for (size_t i = 0; i < r->n_drift; i++)
            json_array_append_new(changes, json_pack("{s:s, s:o, s:o}", "kind",
                                                     csvi_drift_kind_name(r->drift[i].kind),
                                                     "column", jstr(r->drift[i].column),
                                                     "detail", jstr(r->drift[i].detail)));
        json_object_set_new(d, "path", jstr(key));
        json_object_set_new(d, "since", r->drift_since ? json_string(r->drift_since) : json_null());
        json_object_set_new(d, "changes", changes);
        ledger_add(e->ledger, d);
    }
    free(key);
    tell_caller(e, r); /* after drift: the caller sees it */
}

/* The key a table is known by across runs: its name in the real directory
 * of its first file (table names come from file names, which repeat across
 * directories). */
static char *table_key(const csvi_engine *e, const struct csvi_table *t)
{
    const char *first = t->n_files ? e->files[t->files[0]].path : ".";
    char *abs = run_path_key(first), *key = NULL;
    char *slash = abs ? strrchr(abs, '/') : NULL;
    if (slash)
        *slash = '\0';
    char *name = utf8_sanitize(t->name);
    if (abs && name && asprintf(&key, "%s/%s", slash ? abs : ".", name) < 0)
        key = NULL;
    free(abs);
    free(name);
    return key;
}

void run_tables_finished(csvi_engine *e)
{
    if (!e->ledger || !e->last_tables || e->cfg.opt.sample_rows) /* (as run_file_finished) */
        return;
    for (size_t i = 0; i < e->n_tables; i++) {
        struct csvi_table *t = &e->tables[i];
        char *key = table_key(e, t);
        if (!key)
            continue;
        json_t *prev = basis_event(e->last_tables, key);
        if (prev) { /* drift.c works on a result: lend it the table's columns */
            struct csvi_file_result tmp = {.n_columns = t->n_columns, .columns = t->columns};
            drift_compare(&tmp, json_object_get(prev, "schema"));
            t->n_drift = tmp.n_drift;
            t->drift = tmp.drift;
            const char *when = json_string_value(json_object_get(prev, "time"));
            t->drift_since = when ? strdup(when) : NULL;
        }
        json_t *ev = event_new(e, "table_done");
        json_object_set_new(ev, "table", jstr(key));
        json_object_set_new(ev, "name", jstr(t->name));
        json_object_set_new(ev, "files", json_integer((json_int_t)t->n_files));
        json_object_set_new(ev, "rows", json_integer((json_int_t)t->rows));
        json_object_set_new(ev, "schema",
                            schema_json_of(t->columns, t->n_columns, json_object_get(prev, "schema")));
        json_decref(prev);
        ledger_add(e->ledger, ev);
        if (t->n_drift) {
            json_t *d = event_new(e, "drift");
            json_t *changes = json_array();
            for (size_t k = 0; k < t->n_drift; k++)
                json_array_append_new(changes, json_pack("{s:s, s:o, s:o}", "kind",
                                                         csvi_drift_kind_name(t->drift[k].kind),
                                                         "column", jstr(t->drift[k].column),
                                                         "detail", jstr(t->drift[k].detail)));
            json_object_set_new(d, "table", jstr(key));
            json_object_set_new(d, "since", t->drift_since ? json_string(t->drift_since) : json_null());
            json_object_set_new(d, "changes", changes);
            ledger_add(e->ledger, d);
        }
        free(key);
    }
}

enum csvi_status csvi_engine_end_run(csvi_engine *e, int exit_status)
{
    if (!e->ledger)
        return e->ledger_warning ? CSVI_ERR_OUTPUT : CSVI_OK;
    uint64_t files = 0, errors = 0, bytes = 0, rows = 0, drifted = 0, failed = 0;
    for (size_t i = 0; i < e->n_files; i++) {
        const struct csvi_file_result *r = &e->files[i];
        /* the files finished (those with a file_done or file_error event): an
         * interrupted run counted the files it never reached, and the one it
         * stopped in as an error */
        if (!e->reported[i] || r->interrupted)
            continue;
        files++;
        bytes += r->bytes;
        rows += r->rows;
        errors += r->error_total;
        drifted += r->n_drift > 0;
        failed += !r->has_dialect && !r->interrupted; /* (one a signal stopped was not read) */
    }
    const char *status = exit_status == 0 ? "ok"
                         : exit_status == 1 ? "errors"
                         : exit_status == 3 ? "drift"
                         : exit_status == 130 ? "interrupted"
                                              : "failed";
    json_t *ev = event_new(e, "run_end");
    json_object_set_new(ev, "status", json_string(status));
    json_object_set_new(ev, "exit", json_integer(exit_status));
    json_object_set_new(ev, "files", json_integer((json_int_t)files));
    json_object_set_new(ev, "files_unreadable", json_integer((json_int_t)failed));
    json_object_set_new(ev, "files_drifted", json_integer((json_int_t)drifted));
    uint64_t tables_drifted = 0;
    for (size_t i = 0; i < e->n_tables; i++)
        tables_drifted += e->tables[i].n_drift > 0;
    if (e->n_tables)
        json_object_set_new(ev, "tables_drifted", json_integer((json_int_t)tables_drifted));
    json_object_set_new(ev, "errors", json_integer((json_int_t)errors));
    json_object_set_new(ev, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(ev, "rows", json_integer((json_int_t)rows));
    json_object_set_new(ev, "seconds", json_real(wall_now() - e->run_t0));
    ledger_add(e->ledger, ev);
    int rc = ledger_close(e->ledger);
    e->ledger = NULL;
    if (rc == 0 && e->basis) /* the next run reads the snapshot, not the whole history */
        basis_save(e->basis, e->ledger_path); /* (adds this run's events to the maps) */
    if (rc) {
        free(e->ledger_warning);
        if (asprintf(&e->ledger_warning, "cannot write the ledger %s: %s", e->ledger_path,
                     strerror(-rc)) < 0)
            e->ledger_warning = NULL;
        return CSVI_ERR_OUTPUT;
    }
    return CSVI_OK;
}

const char *csvi_engine_ledger_warning(const csvi_engine *e) { return e->ledger_warning; }
const char *csvi_engine_ledger_path(const csvi_engine *e)
{
    return e->cfg.opt.no_ledger ? NULL : e->ledger_path;
}

void csvi_engine_progress(const csvi_engine *e, struct csvi_progress *out)
{
    csvi_engine *m = (csvi_engine *)e; /* atomics only */
    out->files_done = atomic_load(&m->files_done);
    out->files_total = atomic_load(&m->files_total);
    out->bytes_done = atomic_load(&m->bytes_done);
    out->bytes_total = atomic_load(&m->bytes_total);
}

/* Free what the run holds (engine free). */
void run_free(csvi_engine *e)
{
    if (e->ledger)
        ledger_close(e->ledger);
    if (e->basis)
        basis_free(e->basis);
    free(e->basis);
    free(e->ledger_path);
    free(e->ledger_warning);
    free(e->stdin_key);
    free(e->reported);
}
