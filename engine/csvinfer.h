/*
 * csvinfer.h — the one public header of libcsvinfer.
 *
 * csvinfer reads every row of CSV files and infers, for each column, its type,
 * nullability and the facts a CREATE TABLE needs (integer range, decimal
 * precision/scale, date format, text length).  The CLI (engine/cli/) uses only
 * this header.
 *
 * Shape of the API (in the style of zstd.h):
 *   - an opaque engine made and freed in pairs (csvi_engine_create / _free;
 *     free accepts NULL);
 *   - options in a plain struct filled with defaults by csvi_options_init();
 *   - errors as enum csvi_status with csvi_strerror();
 *   - results as plain structs owned by the engine, valid until it is freed.
 * The value-level functions at the end (csvi_value_type, csvi_infer_values)
 * run the same inference core on an in-memory list of fields; tests and tools
 * use them to check the type rules without writing files.
 */
#ifndef CSVINFER_H
#define CSVINFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSVI_VERSION_STRING "0.1.0"
#define CSVI_JSON_VERSION 1

/* ---- status codes ------------------------------------------------------ */
enum csvi_status {
    CSVI_OK = 0,
    CSVI_ERR_NOMEM,      /* allocation failed */
    CSVI_ERR_USAGE,      /* bad option value */
    CSVI_ERR_IO,         /* a file could not be opened or read */
    CSVI_ERR_OUTPUT,     /* output could not be written */
    CSVI_ERR_DATA,       /* a file had errors in its data (see its errors[]) */
    CSVI_ERR_INTERRUPTED, /* the run was interrupted */
    CSVI_ERR_UNSUPPORTED, /* asked for something this machine cannot do (--io uring) */
    CSVI_ERR_BAD_VERDICT  /* csvinfer merge: an input is not a mergeable verdict */
};
const char *csvi_strerror(enum csvi_status st);

/* ---- types (DESIGN.md §2), most specific first ------------------------- */
enum csvi_type {
    CSVI_TYPE_NULL = 0,
    CSVI_TYPE_BOOLEAN,
    CSVI_TYPE_INTEGER,
    CSVI_TYPE_DECIMAL,
    CSVI_TYPE_DOUBLE,
    CSVI_TYPE_DATE,
    CSVI_TYPE_TIMESTAMP,
    CSVI_TYPE_TIMESTAMPTZ,
    CSVI_TYPE_TIME,
    CSVI_TYPE_UUID,
    CSVI_TYPE_TEXT,
    CSVI_TYPE_COUNT
};
/* "null", "boolean", "integer", ... as in the JSON output. */
const char *csvi_type_name(enum csvi_type t);

/* ---- options ------------------------------------------------------------ */
#define CSVI_AUTO (-1) /* for delimiter / quote / header: sniff it */

enum csvi_io_mode { CSVI_IO_AUTO = 0, CSVI_IO_URING, CSVI_IO_PREAD };

/* The largest max_record: 1 GiB, PostgreSQL's limit for a field and for
 * COPY's line buffer (a longer record cannot be loaded anyway). */
#define CSVI_MAX_RECORD_LIMIT ((size_t)1 << 30)

/* The most columns inferred: a file whose first record has more fields gets
 * a record_too_long error and is not read (its column states would take
 * ~1 KB a column: a line of 3 million commas took 2.5 GB). */
#define CSVI_MAX_COLUMNS 100000

struct csvi_options {
    int delimiter;              /* CSVI_AUTO, or the byte */
    int quote;                  /* CSVI_AUTO, 0 for none, or the byte */
    int header;                 /* CSVI_AUTO, 0 (no header) or 1 */
    const char *const *null_tokens; /* NULL: the default list; else replaces it.
                                       Copied by csvi_engine_create. */
    size_t n_null_tokens;
    bool quoted_empty_is_text;  /* "" is an empty string, not null */
    bool dayfirst;              /* ambiguous dates resolve day-first */
    bool no_trim;               /* spaces/tabs around a value make it text */
    double threshold;           /* 1.0 = strict; < 1.0 = tolerant */
    uint64_t sample_rows;       /* 0 = every row (the default) */
    size_t chunk_size;          /* read unit, bytes (default 8 MiB) */
    size_t max_record;          /* longest record accepted (default 64 MiB, at most
                                   CSVI_MAX_RECORD_LIMIT) */
    unsigned threads;           /* 0 = online cores */
    enum csvi_io_mode io;
    const char *const *include; /* directory walk globs; NULL = defaults */
    size_t n_include;
    const char *const *exclude;
    size_t n_exclude;
    /* the verdict cache (docs/cache.md): on unless no_cache */
    bool no_cache;
    const char *cache_dir;      /* NULL: $XDG_CACHE_HOME/csvinfer, else ~/.cache/csvinfer */
    uint64_t cache_size;        /* bound of the store on disk, bytes (default 1 GiB) */
    bool trust_mtime;           /* a file whose device, inode, size and mtime match a cached
                                   record is not read at all (risk: docs/cache.md) */
    bool trust_append;          /* (implies trust_mtime) a file that only grew since the last
                                   complete run (same device and inode, larger, its old last
                                   64 KiB unchanged) is read from its old last slice on; needs
                                   the ledger (risk: docs/cache.md) */
    /* the run ledger (docs/ledger.md): written by csvi_engine_begin_run/end_run */
    bool no_ledger;
    const char *ledger_path;    /* NULL: $XDG_STATE_HOME/csvinfer/ledger.jsonl, else
                                   ~/.local/state/csvinfer/ledger.jsonl */
    const char *stdin_name;     /* NULL: standard input is "-" in the ledger; else it is
                                   "stdin:NAME" (one drift identity per feed) */
    unsigned ledger_batch_events; /* events per write + fdatasync (default 64) */
    unsigned ledger_batch_ms;     /* ... or this old (default 1000) */
    /* grouping and sharded runs (docs/scaling.md) */
    bool keep_state;            /* keep each file's column states (csvi_file_result.state),
                                   for csvi_engine_group; a few bytes per column and file */
    bool mergeable;             /* JSON and NDJSON carry each file's "state", which
                                   csvi_engine_merge_verdict reads (implies keep_state) */
};
/* Fill *opt with the defaults of DESIGN.md §4. */
void csvi_options_init(struct csvi_options *opt /* OUT */);

/* ---- results ------------------------------------------------------------ */
enum csvi_encoding { CSVI_ENC_UTF8 = 0, CSVI_ENC_LATIN1, CSVI_ENC_BINARY };
const char *csvi_encoding_name(enum csvi_encoding e); /* "utf-8", ... */

struct csvi_dialect {
    char delimiter;
    char quote;        /* 0 = none */
    bool header;
    bool crlf;         /* records end with \r\n */
    bool bom;          /* a UTF-8 BOM was stripped */
    enum csvi_encoding encoding;
};

enum csvi_error_kind {
    CSVI_EK_NOT_FOUND = 0,   /* path does not exist */
    CSVI_EK_OPEN_FAILED,     /* permission denied and the like */
    CSVI_EK_READ_FAILED,     /* read error while reading */
    CSVI_EK_NOT_REGULAR,     /* FIFO, device, socket: skipped */
    CSVI_EK_WALK_FAILED,     /* directory could not be read, symlink loop */
    CSVI_EK_RAGGED_ROW,      /* record with the wrong number of fields */
    CSVI_EK_UNTERMINATED_QUOTE,
    CSVI_EK_INVALID_UTF8,
    CSVI_EK_NUL_BYTE,
    CSVI_EK_RECORD_TOO_LONG, /* record longer than max_record */
    CSVI_EK_BLANK_LINE,      /* blank line between records */
    CSVI_EK_FILE_CHANGED,    /* truncated, grown or replaced while it was read */
    CSVI_EK_CR_LINE_ENDS,    /* lines end with a lone CR (classic Mac OS): not read */
    CSVI_EK_COUNT
};
const char *csvi_error_kind_name(enum csvi_error_kind k); /* "ragged_row", ... */
/* Does an error of this kind end the reading of its file (unterminated
 * quote, record too long, read failed, file changed)?  Such errors are
 * listed even after CSVI_MAX_ERRORS others. */
bool csvi_error_ends_file(enum csvi_error_kind k);

struct csvi_error {
    uint64_t line;           /* 1-based physical line; 0 = not about a line */
    enum csvi_error_kind kind;
    char *message;           /* owned by the result */
};

#define CSVI_MAX_EXAMPLES 5  /* exceptions listed per column */
#define CSVI_EXAMPLE_BYTES 64 /* longest value kept in an example */

struct csvi_example {
    uint64_t line;
    char value[CSVI_EXAMPLE_BYTES + 1]; /* NUL-terminated, possibly cut */
};

#define CSVI_NULL_EMPTY 0x1u         /* the empty field */
#define CSVI_NULL_QUOTED_EMPTY 0x2u  /* a quoted empty field "" */
#define CSVI_NULL_TOKEN_PADDED (1u << 29) /* a null token with spaces around it */
#define CSVI_NULL_TOKEN_QUOTED (1u << 30) /* a null token in quotes ("NA") */
#define CSVI_NULL_TOKEN_BITS 0x1FFFFFFCu  /* bits 2..28: which tokens */

struct csvi_column {
    char *name;                /* owned by the result */
    enum csvi_type type;
    bool nullable;
    uint64_t count;            /* values in the column (nulls included) */
    uint64_t null_count;
    unsigned null_kinds;       /* how nulls were written: CSVI_NULL_* bits, and bit
                                  2+i for the i-th null token (csvi_engine_null_token;
                                  tokens past the 27th share bit 28) */
    int64_t min, max;          /* integer columns */
    unsigned precision, scale; /* decimal columns */
    char format[40];           /* date/time/timestamp(tz): strftime style */
    unsigned date_formats;     /* date/timestamp(tz): every date format the values fit
                                  (tolerant: the counted ones), one bit each; more than
                                  one when the dates are ambiguous (02/01/2024) and
                                  format names the one picked.  Drift compares sets. */
    uint64_t max_length;       /* text: longest value, in characters */
    uint64_t max_bytes;        /* text: longest value, in bytes */
    /* tolerant mode (threshold < 1): values that do not fit the type */
    uint64_t exception_count;
    uint64_t other_format_count; /* of those, date/timestamp(tz) values of the type
                                    written in another date format */
    uint64_t wider_count;      /* of those, values of a wider type of the column's family
                                  (timestamps in a date column, timestamps with a zone in a
                                  timestamp one): PostgreSQL loads them with the time or
                                  the zone dropped */
    size_t n_examples;
    struct csvi_example examples[CSVI_MAX_EXAMPLES];
};

/* A change of a file's schema since the last run recorded in the ledger. */
enum csvi_drift_kind {
    CSVI_DRIFT_COLUMN_ADDED = 0,
    CSVI_DRIFT_COLUMN_REMOVED,
    CSVI_DRIFT_COLUMN_RENAMED,   /* same position and type, another name */
    CSVI_DRIFT_COLUMNS_REORDERED,
    CSVI_DRIFT_TYPE_WIDENED,     /* integer -> decimal -> double, date -> timestamp(tz), null -> any */
    CSVI_DRIFT_TYPE_CHANGED,
    CSVI_DRIFT_NOW_NULLABLE,
    CSVI_DRIFT_NOW_NOT_NULL,
    CSVI_DRIFT_FORMAT_CHANGED,   /* same date/timestamp type, another date format */
    CSVI_DRIFT_COUNT
};
const char *csvi_drift_kind_name(enum csvi_drift_kind k); /* "column_added", ... */

struct csvi_drift {
    enum csvi_drift_kind kind;
    char *column;              /* owned by the result */
    char *detail;              /* "integer -> decimal", "was b, position 2"; owned */
};

struct csvi_file_result {
    char *path;
    uint64_t bytes;
    uint64_t rows;
    bool has_dialect;          /* false if the file could not be read at all */
    struct csvi_dialect dialect;
    size_t n_columns;
    struct csvi_column *columns;
    size_t n_errors;           /* errors listed (at most CSVI_MAX_ERRORS) */
    struct csvi_error *errors;
    uint64_t error_total;      /* errors found, listed or not */
    uint64_t cache_slices, cache_hits; /* slices read; of those, found in the cache */
    uint64_t cache_hit_bytes;  /* bytes of the slices found in the cache (not re-inferred) */
    uint64_t trailing_blank_lines; /* blank lines after the last record */
    /* lines PostgreSQL's COPY rejects though csvinfer reads them (0: none):
     * a carriage return in an unquoted field, a line of only \. (COPY's end of
     * data), and the first line whose ending differs from the first record's */
    uint64_t copy_bare_cr_line, copy_eod_line, copy_mixed_eol_line;
    double seconds;
    /* schema drift against the last run in the ledger (none without a ledger) */
    size_t n_drift;
    struct csvi_drift *drift;
    char *drift_since;         /* time of the run compared with (ISO 8601), or NULL */
    bool interrupted;          /* the run stopped (SIGINT/SIGTERM) before this file's end */
    const char *compression;   /* "gzip", "zstd" (bytes: the CSV it held), or NULL */
    char digest[42];           /* content digest "xxh3-128:..." when a ledger is written and
                                  the whole file was read (docs/ledger.md); "" otherwise */
    /* the file's final column states, encoded (the JSON "state", docs/scaling.md);
     * NULL unless keep_state.  Owned by the result. */
    unsigned char *state;
    size_t state_len;
};
#define CSVI_MAX_ERRORS 100

/* SQL type of a column for PostgreSQL ("BIGINT", "NUMERIC(10,2)", ...).
 * Writes into buf (always NUL-terminated) and returns buf. */
const char *csvi_sql_type(const struct csvi_column *c, char *buf, size_t cap);

/* ---- the engine --------------------------------------------------------- */
typedef struct csvi_engine csvi_engine;

/* Create an engine; opt may be NULL for defaults.  On failure returns NULL
 * and sets *st (if st is not NULL).  Free with csvi_engine_free. */
csvi_engine *csvi_engine_create(const struct csvi_options *opt, enum csvi_status *st /* OUT */);
void csvi_engine_free(csvi_engine *e); /* accepts NULL */

/* Infer a path: a file, a directory (walked recursively, sorted) or "-"
 * for standard input.  Results are appended in order.  Returns CSVI_OK, or
 * CSVI_ERR_DATA if some file had errors (its result says which), or
 * CSVI_ERR_NOMEM. */
enum csvi_status csvi_engine_infer_path(csvi_engine *e, const char *path);

size_t csvi_engine_file_count(const csvi_engine *e);
const struct csvi_file_result *csvi_engine_file(const csvi_engine *e, size_t i);
double csvi_engine_seconds(const csvi_engine *e); /* wall time of all runs */

/* The verdict cache of this engine, so far. */
struct csvi_cache_stats {
    bool enabled;             /* false with no_cache */
    const char *dir;          /* the cache directory; NULL: in memory only (see warning) */
    const char *warning;      /* why the directory could not be used, or NULL */
    uint64_t lookups, hits;   /* slices (and small files) looked up; found */
    uint64_t values_loaded;   /* values in the store when it was opened */
    uint64_t values_added;    /* values stored by this run */
    uint64_t damaged_bytes;   /* store bytes found damaged and skipped */
};
void csvi_engine_cache_stats(const csvi_engine *e, struct csvi_cache_stats *out /* OUT */);

/* ---- runs: the ledger, drift, interruption ---------------------------- */
/* Start a run: open the ledger (unless no_ledger), read the last schema of
 * every path from it, and record run_start with argv.  Without it, no
 * ledger is written and no drift is reported.  A ledger that cannot be
 * opened is CSVI_ERR_OUTPUT (csvi_engine_ledger_warning says why). */
enum csvi_status csvi_engine_begin_run(csvi_engine *e, int argc, char *const *argv);
/* End it: record run_end with the exit status about to be returned, and
 * flush.  CSVI_ERR_OUTPUT if the ledger could not be written. */
enum csvi_status csvi_engine_end_run(csvi_engine *e, int exit_status);
const char *csvi_engine_ledger_warning(const csvi_engine *e);
const char *csvi_engine_ledger_path(const csvi_engine *e); /* NULL: no ledger */
/* Whether path (an existing file) is one of the engine's own: its ledger or the
 * ledger's snapshot, or a file in its cache directory (default places
 * included).  csvinfer writes and flocks those itself: a --lock file must not be
 * one (its flock would wait on the run's own). */
bool csvi_engine_owns_path(const csvi_engine *e, const char *path);
/* Ask a run to stop (async-signal-safe: a signal handler may call it).
 * Files not finished are marked interrupted; the run returns
 * CSVI_ERR_INTERRUPTED. */
void csvi_interrupt(void);
bool csvi_interrupted(void);
/* Be told of each file as soon as its result is final (for output that
 * streams, e.g. NDJSON): fn runs once per file, on the thread that finished
 * it (the merger thread, or the caller's), one call at a time, in the order
 * files finish — input order within the pipeline, but compressed files,
 * stdin and files that could not be opened may come before or after it.
 * The result stays valid until the engine is freed. */
typedef void (*csvi_file_fn)(void *ctx, const struct csvi_file_result *r);
void csvi_engine_on_file(csvi_engine *e, csvi_file_fn fn, void *ctx);

/* ---- grouped tables (--group) ---------------------------------------- */
/* Files whose headers agree form one table (docs/cli.md "Grouped tables"):
 * CSVI_GROUP_HEADER: the column names of one are the other's with columns
 * added or left out (never renamed or reordered); CSVI_GROUP_EXACT: the same
 * names in the same order.  Files without a header group by column count. */
enum csvi_group_mode { CSVI_GROUP_NONE = 0, CSVI_GROUP_HEADER, CSVI_GROUP_EXACT };

struct csvi_table {
    char *name;                /* from the file names; distinct among the tables */
    size_t n_files;
    size_t *files;             /* indices of its files (csvi_engine_file), in order */
    uint64_t rows;             /* all its files' rows */
    size_t n_columns;
    struct csvi_column *columns; /* the join of its files' column states; a column a
                                    file lacks counts that file's rows as nulls */
    /* drift against the last complete run that recorded this table (its name in its
     * files' directory) in the ledger; none without a ledger */
    size_t n_drift;
    struct csvi_drift *drift;
    char *drift_since;
};
/* Group the results so far (needs keep_state); replaces earlier tables.
 * CSVI_ERR_USAGE if a result has columns but no state. */
enum csvi_status csvi_engine_group(csvi_engine *e, enum csvi_group_mode mode);
size_t csvi_engine_table_count(const csvi_engine *e); /* 0 unless grouped */
const struct csvi_table *csvi_engine_table(const csvi_engine *e, size_t i);

/* ---- csvinfer merge (docs/scaling.md) ---------------------------------- */
/* Add the files of one verdict — JSON (or NDJSON) written with mergeable —
 * to e, as one run over them would have made them: each file's columns come
 * from its "state", checked against the file object.  The first verdict
 * sets e's inference options (threshold, null tokens, ...); every later one
 * must carry the same.  name is used in messages only.  Returns CSVI_OK,
 * CSVI_ERR_NOMEM, or CSVI_ERR_BAD_VERDICT with *why (malloc'd, the caller
 * frees) saying what is wrong and where; e then holds no file of it. */
enum csvi_status csvi_engine_merge_verdict(csvi_engine *e, const char *name, FILE *in,
                                           char **why /* OUT */);
/* After the last verdict: order the files as one run over all of them would
 * (paths sorted as a directory walk sorts them).  CSVI_ERR_BAD_VERDICT (and
 * *why) if two verdicts hold the same path: shards must be disjoint. */
enum csvi_status csvi_engine_merge_finish(csvi_engine *e, char **why /* OUT */);
/* True if a verdict merged held "tables" (merge them with csvi_engine_group). */
bool csvi_engine_merged_tables(const csvi_engine *e);

/* Progress of the running engine, for a progress line (any thread). */
struct csvi_progress {
    uint64_t files_done, files_total, bytes_done, bytes_total;
};
void csvi_engine_progress(const csvi_engine *e, struct csvi_progress *out /* OUT */);

/* `csvinfer history PATH`: the schema versions the ledger recorded for a
 * file (its absolute path), oldest first, with when each was first and last
 * seen and the drift reported; as text or JSON.  ledger_path NULL: the
 * default.  CSVI_ERR_IO if the ledger cannot be read; *found: whether the
 * ledger knows the file. */
enum csvi_status csvi_write_history(const char *ledger_path, const char *file_path, bool json,
                                    FILE *out, bool *found /* OUT */);

/* The i-th null token in use (the default list or --null), NULL past the end. */
const char *csvi_engine_null_token(const csvi_engine *e, size_t i);

/* Output of all results so far.  Return CSVI_ERR_OUTPUT if writing failed. */
enum csvi_status csvi_write_json(const csvi_engine *e, FILE *out);
enum csvi_status csvi_write_table(const csvi_engine *e, FILE *out);

/* NDJSON: one line per file, the JSON format's "files" entry, and (when
 * grouped) one {"table": ...} line per table, the "tables" entry.  _file
 * writes one file's line and flushes (for csvi_engine_on_file); _tables
 * the table lines; csvi_write_ndjson all lines of all results. */
enum csvi_status csvi_write_ndjson_file(const csvi_engine *e, const struct csvi_file_result *r,
                                        FILE *out);
enum csvi_status csvi_write_ndjson_tables(const csvi_engine *e, FILE *out);
enum csvi_status csvi_write_ndjson(const csvi_engine *e, FILE *out);

/* A Frictionless Table Schema per file: [{"path", "schema"}, ...]. */
enum csvi_status csvi_write_frictionless(const csvi_engine *e, FILE *out);

enum csvi_sql_dialect { CSVI_SQL_POSTGRES = 0, CSVI_SQL_DUCKDB, CSVI_SQL_SQLITE };
/* One CREATE TABLE per file, and the statement that loads it (PostgreSQL and
 * DuckDB COPY, the sqlite3 shell's .import), with warnings as SQL comments. */
enum csvi_status csvi_write_sql(const csvi_engine *e, FILE *out, enum csvi_sql_dialect d);

/* ---- value-level inference (tests, tools) ------------------------------- */
/* Infer one column from n raw CSV fields, as they appear in a file with the
 * quote character '"' (so "\"123\"" is the quoted field 123).  Field i is
 * taken to be on line i + 1.  opt may be NULL for defaults.  *out is owned by
 * the caller; free its name with csvi_column_clear. */
enum csvi_status csvi_infer_values(const char *const *fields, const size_t *lens, size_t n,
                                   const struct csvi_options *opt,
                                   struct csvi_column *out /* OUT */);
void csvi_column_clear(struct csvi_column *c);

/* The type a column holding just this one raw field would get. */
enum csvi_type csvi_value_type(const char *field, size_t len, const struct csvi_options *opt);

#ifdef __cplusplus
}
#endif
#endif /* CSVINFER_H */
