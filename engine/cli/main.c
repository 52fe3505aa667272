/*
 * main.c — the csvinfer command line.  A thin layer on the public header:
 * parse flags into struct csvi_options, run each PATH, write the chosen
 * format, print errors as path:line on stderr, exit with DESIGN.md §4's
 * statuses.  Every flag is described in docs/cli.md.
 */
#define _GNU_SOURCE
#include "csvinfer.h"
#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_FILE_ERRORS = 1, EXIT_USAGE = 2, EXIT_DRIFT = 3, EXIT_OUTPUT = 4, EXIT_LOCKED = 75,
       EXIT_INTERRUPTED = 130 };
#define STDERR_ERRORS_PER_FILE 10

enum out_format { FMT_AUTO, FMT_TABLE, FMT_JSON, FMT_SQL, FMT_FRICTIONLESS, FMT_NDJSON };

enum {
    OPT_FORMAT = 256, OPT_THREADS, OPT_CHUNK, OPT_MAXREC, OPT_IO, OPT_DELIM, OPT_QUOTE,
    OPT_HEADER, OPT_NOHEADER, OPT_NULL, OPT_QEMPTY, OPT_DAYFIRST, OPT_NOTRIM, OPT_THRESHOLD,
    OPT_SAMPLE, OPT_INCLUDE, OPT_EXCLUDE, OPT_STATS, OPT_NOCACHE, OPT_NOLEDGER, OPT_VERSION,
    OPT_HELP, OPT_UNBUILT, OPT_SQLDIALECT, OPT_CACHE, OPT_CACHESIZE, OPT_LEDGER,
    OPT_FAILDRIFT, OPT_PROGRESS, OPT_LOCK, OPT_LOCKWAIT, OPT_LEDGERBATCH, OPT_LEDGERMS,
    OPT_TRUSTMTIME,
    OPT_TRUSTAPPEND,
    OPT_GROUP, OPT_MERGEABLE, OPT_STDINNAME
};

static const struct option long_opts[] = {
    {"format", required_argument, 0, OPT_FORMAT},
    {"output", required_argument, 0, 'o'},
    {"threads", required_argument, 0, OPT_THREADS},
    {"chunk-size", required_argument, 0, OPT_CHUNK},
    {"max-record", required_argument, 0, OPT_MAXREC},
    {"io", required_argument, 0, OPT_IO},
    {"delimiter", required_argument, 0, OPT_DELIM},
    {"quote", required_argument, 0, OPT_QUOTE},
    {"header", no_argument, 0, OPT_HEADER},
    {"no-header", no_argument, 0, OPT_NOHEADER},
    {"null", required_argument, 0, OPT_NULL},
    {"quoted-empty-is-text", no_argument, 0, OPT_QEMPTY},
    {"dayfirst", no_argument, 0, OPT_DAYFIRST},
    {"no-trim", no_argument, 0, OPT_NOTRIM},
    {"threshold", required_argument, 0, OPT_THRESHOLD},
    {"sample-rows", required_argument, 0, OPT_SAMPLE},
    {"include", required_argument, 0, OPT_INCLUDE},
    {"exclude", required_argument, 0, OPT_EXCLUDE},
    {"stats", no_argument, 0, OPT_STATS},
    {"quiet", no_argument, 0, 'q'},
    {"no-cache", no_argument, 0, OPT_NOCACHE},
    {"no-ledger", no_argument, 0, OPT_NOLEDGER},
    {"cache", required_argument, 0, OPT_CACHE},
    {"cache-size", required_argument, 0, OPT_CACHESIZE},
    {"trust-mtime", no_argument, 0, OPT_TRUSTMTIME},
    {"trust-append", no_argument, 0, OPT_TRUSTAPPEND},
    {"ledger", required_argument, 0, OPT_LEDGER},
    {"ledger-batch", required_argument, 0, OPT_LEDGERBATCH},
    {"ledger-interval", required_argument, 0, OPT_LEDGERMS},
    {"fail-on-drift", no_argument, 0, OPT_FAILDRIFT},
    {"lock", required_argument, 0, OPT_LOCK},
    {"lock-wait", no_argument, 0, OPT_LOCKWAIT},
    {"group", optional_argument, 0, OPT_GROUP},
    {"mergeable", no_argument, 0, OPT_MERGEABLE},
    {"stdin-name", required_argument, 0, OPT_STDINNAME},
    {"sql-dialect", required_argument, 0, OPT_SQLDIALECT},
    {"progress", required_argument, 0, OPT_PROGRESS},
    {"version", no_argument, 0, OPT_VERSION},
    {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

static void usage(FILE *f)
{
    fputs("usage: csvinfer [OPTIONS] PATH...\n"
          "Infer the type, nullability and SQL shape of every column of CSV files,\n"
          "reading every row.  PATH: a file, a directory (recursive), or - for stdin.\n"
          "\n"
          "  --format table|json|ndjson|sql|frictionless\n"
          "                          output (default: table on a terminal, else json); ndjson:\n"
          "                          a line per file as soon as it is done\n"
          "  --sql-dialect postgres|duckdb|sqlite   for --format sql (default postgres)\n"
          "  -o, --output FILE       write the output to FILE (atomically) instead of stdout\n"
          "  --delimiter C           field delimiter (default: sniffed among , ; tab |)\n"
          "  --quote C|none          quote character (default: sniffed among \" ')\n"
          "  --header, --no-header   the first row is / is not a header (default: detected)\n"
          "  --null TOKEN            a null token; repeatable; replaces the default list\n"
          "                          (NULL null NA N/A \\N); the empty field is always null\n"
          "  --quoted-empty-is-text  \"\" is an empty string, not a null\n"
          "  --dayfirst              ambiguous dates (03/04/2024) are day-first\n"
          "  --no-trim               spaces/tabs around a value make it text\n"
          "  --threshold F           tolerant mode: type that at least F (0<F<=1) of values fit\n"
          "  --sample-rows N         read only the first N rows (0 = all, the default)\n"
          "  --max-record BYTES      longest record accepted (default 64M)\n"
          "  --chunk-size BYTES      slice size (default 8M)\n"
          "  --threads N             worker threads (default, or 0: online cores)\n"
          "  --io auto|uring|pread   read backend (default auto: io_uring, else pread)\n"
          "  --cache DIR             verdict cache directory (default $XDG_CACHE_HOME/csvinfer,\n"
          "                          else ~/.cache/csvinfer): unchanged slices are not re-read\n"
          "  --cache-size BYTES      bound of the cache on disk (default 1G)\n"
          "  --no-cache              neither use nor write the cache\n"
          "  --trust-mtime           skip reading files whose device, inode, size and mtime\n"
          "                          match the cache (fast; trusts mtime: docs/cache.md)\n"
          "  --trust-append          --trust-mtime, and a file that only grew since the last run\n"
          "                          is read from its old last slice on (trusts that the old\n"
          "                          bytes were not rewritten: docs/cache.md; needs the ledger)\n"
          "  --ledger FILE           the run ledger (default $XDG_STATE_HOME/csvinfer/ledger.jsonl,\n"
          "                          else ~/.local/state/csvinfer/ledger.jsonl)\n"
          "  --no-ledger             write no ledger (and report no drift)\n"
          "  --stdin-name NAME       standard input is \"stdin:NAME\" in the ledger (one drift\n"
          "                          history per feed; default \"-\")\n"
          "  --ledger-batch N        ledger events per write+fdatasync (default 64)\n"
          "  --ledger-interval MS    ... or after this many milliseconds (default 1000)\n"
          "  --fail-on-drift         exit 3 if a file's schema changed since the last run\n"
          "  --lock FILE             exit 75 if another run holds FILE (cron overlap)\n"
          "  --lock-wait             with --lock: wait for the other run instead\n"
          "  --progress auto|always|never  progress line on stderr (auto: on a terminal)\n"
          "  --include GLOB          directory walk: file names to read (repeatable;\n"
          "                          default *.csv *.tsv *.txt *.psv *.gz *.zst)\n"
          "  --exclude GLOB          directory walk: names or paths to skip (repeatable)\n"
          "  --group[=exact]         files whose headers agree form one table (exact: the\n"
          "                          same names in the same order); tables in the output\n"
          "  --mergeable             JSON/NDJSON carry each file's \"state\" for csvinfer merge\n"
          "  --stats                 print a summary on stderr\n"
          "  -q, --quiet             do not print data errors on stderr\n"
          "  --version, --help\n"
          "\n"
          "       csvinfer history [--ledger FILE] [--format table|json] PATH\n"
          "       csvinfer merge [--format json|ndjson|table|sql|frictionless] [--group[=exact]]\n"
          "                      [-o FILE] VERDICT.json...   (docs/scaling.md)\n"
          "\n"
          "exit status: 0 all files read cleanly; 1 some file had errors; 2 usage error;\n"
          "3 drift with --fail-on-drift; 4 output or ledger could not be written;\n"
          "75 --lock held by another run; 130 interrupted.  See docs/cli.md.\n",
          f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "csvinfer: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'csvinfer --help'.\n");
    return EXIT_USAGE;
}

/* "64M", "256k", "1G", "1000" -> bytes; false if malformed. */
static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return false;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if ((*end == 'i' || *end == 'I') && shift)
        end++;
    if ((*end == 'b' || *end == 'B'))
        end++;
    if (*end || v == 0 || v > (SIZE_MAX >> shift))
        return false;
    *out = (size_t)(v << shift);
    return true;
}

/* A one-character argument: "," ";" "|" "\t" "tab" ... */
static int parse_char(const char *s)
{
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0)
        return '\t';
    if (strlen(s) == 1 && s[0] != '\n' && s[0] != '\r')
        return (unsigned char)s[0];
    return -1;
}

/* s as shown on stderr: control bytes escaped (\\n, \\t, \\xNN), so a file
 * named "a\\nb.csv" keeps its message on one line (cron.md: one line each) and
 * an escape sequence in a name or a header never reaches the terminal.  The
 * buffer is the calling thread's, valid until its next call with `slot`. */
static const char *printable(const char *s, int slot)
{
    static _Thread_local char buf[2][4 * 4096 + 8];
    const unsigned char *p = (const unsigned char *)s;
    bool plain = true;
    for (size_t i = 0; p[i] && plain; i++)
        plain = p[i] >= 0x20 && p[i] != 0x7F;
    if (plain)
        return s;
    char *b = buf[slot & 1];
    size_t k = 0, cap = sizeof buf[0] - 5;
    for (size_t i = 0; p[i] && k < cap; i++) {
        if (p[i] == '\n')
            k += (size_t)snprintf(b + k, 5, "\\n");
        else if (p[i] == '\t')
            k += (size_t)snprintf(b + k, 5, "\\t");
        else if (p[i] < 0x20 || p[i] == 0x7F)
            k += (size_t)snprintf(b + k, 5, "\\x%02X", p[i]);
        else
            b[k++] = (char)p[i];
    }
    b[k] = '\0';
    return b;
}

static void print_error(const struct csvi_file_result *r, const struct csvi_error *er)
{
    if (er->line)
        fprintf(stderr, "csvinfer: %s:%llu: %s: %s\n", printable(r->path, 0),
                (unsigned long long)er->line, csvi_error_kind_name(er->kind),
                printable(er->message, 1));
    else
        fprintf(stderr, "csvinfer: %s: %s: %s\n", printable(r->path, 0),
                csvi_error_kind_name(er->kind), printable(er->message, 1));
}

/* A title line above the header (SAP and report exports: "Sales report
 * 2024", a blank line, then the header) makes line 1 the first record of a
 * one-column file and every row below it ragged.  The line the ragged rows
 * start at, when that is what r looks like; else 0.  What it takes: one
 * column; every error listed a ragged row, a blank line, or a fact of the
 * bytes (invalid UTF-8, NUL: a latin-1 SAP export); the ragged rows listed
 * all of one width (*width), the first within the first 20 lines, at least
 * 3 of them and twice the rows above it (a footer under a column of values
 * is not a title), and 90 % of the rows from it on. */
static uint64_t title_above_header(const struct csvi_file_result *r, unsigned *width)
{
    if (!r->has_dialect || r->n_columns != 1 || r->rows < 3 || !r->n_errors)
        return 0;
    uint64_t first = 0, not_rows = 0;
    *width = 0;
    for (size_t k = 0; k < r->n_errors; k++) {
        const struct csvi_error *er = &r->errors[k];
        unsigned found;
        if (er->kind == CSVI_EK_BLANK_LINE || er->kind == CSVI_EK_INVALID_UTF8 ||
            er->kind == CSVI_EK_NUL_BYTE) {
            not_rows++;
            continue;
        }
        if (er->kind != CSVI_EK_RAGGED_ROW || !er->message ||
            sscanf(er->message, "expected 1 field, found %u", &found) != 1 ||
            (*width && found != *width))
            return 0;
        *width = found;
        if (!first)
            first = er->line;
    }
    uint64_t ragged = r->error_total - not_rows; /* (the unlisted ones are counted as ragged) */
    /* rows above it, at most (line 1 is one when it was not read as the header) */
    uint64_t above = first ? first - (r->dialect.header ? 2 : 1) : 0;
    if (!first || first > 20 || ragged < 3 || ragged < 2 * above)
        return 0;
    uint64_t below = r->rows > above ? r->rows - above : 0;
    return ragged * 10 >= below * 9 ? first : 0;
}

/* Excel's "sep=;" first line, read as the header: its delimiter, or 0.  It
 * splits into "sep=" and an empty name (column_2) when ';' is the
 * delimiter, and is one name "sep=;" in a one-column file. */
static char excel_sep_line(const struct csvi_file_result *r)
{
    if (!r->has_dialect || !r->dialect.header || !r->n_columns || !r->columns[0].name)
        return 0;
    const char *n0 = r->columns[0].name;
    if (r->n_columns == 2 && !strcmp(n0, "sep=") && r->columns[1].name &&
        !strcmp(r->columns[1].name, "column_2"))
        return r->dialect.delimiter;
    if (r->n_columns == 1 && strlen(n0) == 5 && !strncmp(n0, "sep=", 4))
        return n0[4];
    return 0;
}

/* "tail -n +LINE FILE > FILE.csv", on the decompressed bytes of a gzip/zstd
 * file ("gzip -dc FILE | tail -n +LINE > FILE.csv"). */
static void drop_lines_command(const struct csvi_file_result *r, uint64_t line, char *buf,
                               size_t cap)
{
    if (r->compression)
        snprintf(buf, cap, "%s -dc FILE | tail -n +%llu > FILE.csv", r->compression,
                 (unsigned long long)line);
    else
        snprintf(buf, cap, "tail -n +%llu FILE > FILE.csv", (unsigned long long)line);
}

/* Each file's first errors, and the error that ended its reading if it
 * comes later (why its last rows are missing); then a hint when the file
 * looks like it has a title or Excel's sep= line above its header. */
static void print_errors(const csvi_engine *e, size_t from, bool quiet)
{
    if (quiet)
        return;
    for (size_t i = from; i < csvi_engine_file_count(e); i++) {
        const struct csvi_file_result *r = csvi_engine_file(e, i);
        size_t shown = r->n_errors < STDERR_ERRORS_PER_FILE ? r->n_errors : STDERR_ERRORS_PER_FILE;
        for (size_t k = 0; k < shown; k++)
            print_error(r, &r->errors[k]);
        const struct csvi_error *last = r->n_errors ? &r->errors[r->n_errors - 1] : NULL;
        bool ends = last && r->n_errors > shown && csvi_error_ends_file(last->kind);
        if (r->error_total > shown + ends)
            fprintf(stderr, "csvinfer: %s: %llu more errors (see the output's errors list)\n",
                    printable(r->path, 0), (unsigned long long)(r->error_total - shown - ends));
        if (ends)
            print_error(r, last);
        unsigned width;
        uint64_t at = title_above_header(r, &width);
        char sep = excel_sep_line(r);
        char drop[64]; /* the command that keeps the lines from the header on */
        drop_lines_command(r, sep ? 2 : at, drop, sizeof drop);
        if (sep)
            fprintf(stderr,
                    "csvinfer: %s: hint: line 1 is Excel's \"sep=%c\" directive, not a header: "
                    "remove it (%s) and run again; loaders read it as data too\n",
                    printable(r->path, 0), sep, drop);
        else if (at)
            fprintf(stderr,
                    "csvinfer: %s: hint: line 1 has 1 field and the rows from line %llu on have "
                    "%u: if the lines above line %llu are a title or notes above the real "
                    "header, remove them (%s) and run again\n",
                    printable(r->path, 0), (unsigned long long)at, width, (unsigned long long)at,
                    drop);
    }
}

/* Record run_end with the status about to be returned; 4 if the ledger
 * could not be written (said on stderr). */
static int finish_run(csvi_engine *e, int code)
{
    if (csvi_engine_end_run(e, code) != CSVI_OK && csvi_engine_ledger_path(e) &&
        csvi_engine_ledger_warning(e)) {
        fprintf(stderr, "csvinfer: %s\n", csvi_engine_ledger_warning(e));
        return EXIT_OUTPUT;
    }
    return code;
}

/* Say each file's drift on stderr (a cron mail shows it); true if any. */
static bool print_drift(const csvi_engine *e, bool quiet)
{
    bool any = false;
    for (size_t i = 0; i < csvi_engine_file_count(e); i++) {
        const struct csvi_file_result *r = csvi_engine_file(e, i);
        for (size_t k = 0; k < r->n_drift; k++) {
            any = true;
            if (!quiet)
                fprintf(stderr, "csvinfer: %s: schema drift since %s: %s %s: %s\n",
                        printable(r->path, 0), r->drift_since ? r->drift_since : "the last run",
                        csvi_drift_kind_name(r->drift[k].kind), printable(r->drift[k].column, 1),
                        r->drift[k].detail);
        }
    }
    return any;
}

/* Say each --group table's drift on stderr; true if any. */
static bool print_table_drift(const csvi_engine *e, bool quiet)
{
    bool any = false;
    for (size_t i = 0; i < csvi_engine_table_count(e); i++) {
        const struct csvi_table *t = csvi_engine_table(e, i);
        for (size_t k = 0; k < t->n_drift; k++) {
            any = true;
            if (!quiet)
                fprintf(stderr, "csvinfer: table %s: schema drift since %s: %s %s: %s\n",
                        t->name, t->drift_since ? t->drift_since : "the last run",
                        csvi_drift_kind_name(t->drift[k].kind), t->drift[k].column,
                        t->drift[k].detail);
        }
    }
    return any;
}

static void on_signal(int sig)
{
    (void)sig;
    csvi_interrupt(); /* the engine stops reading; main flushes the ledger, exits 130 */
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked read returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Why path cannot be a --lock file (NULL: it can): csvinfer truncates a lock
 * file to write its pid, so it must hold nothing else — not an input, not the
 * ledger or the cache (whose own flocks would then wait on this one forever). */
static const char *lock_refusal(const char *path, int fd, const csvi_engine *e,
                                char *const *inputs, int n_inputs)
{
    struct stat st, in;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return "is not a regular file";
    if (csvi_engine_owns_path(e, path))
        return "is one of csvinfer's own files (its ledger or cache)";
    for (int i = 0; i < n_inputs; i++)
        if (stat(inputs[i], &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino)
            return "is an input of this run";
    if (st.st_size == 0)
        return NULL;
    char buf[32];
    ssize_t n = st.st_size < (off_t)sizeof buf ? pread(fd, buf, sizeof buf, 0) : -1;
    bool pid = n > 0;
    for (ssize_t i = 0; i < n && pid; i++)
        pid = (buf[i] >= '0' && buf[i] <= '9') || (buf[i] == '\n' && i == n - 1);
    return pid ? NULL : "holds data (a lock file of csvinfer's holds only a pid)";
}

/* Give up the lock file: close it and return the exit status code. */
static int lock_give_up(int *fd, int code)
{
    close(*fd);
    *fd = -1;
    return code;
}

/* --lock FILE: an exclusive flock held for the whole run (released at exit).
 * Returns 0 with *fd, or the exit status to return. */
static int take_lock(const char *path, bool wait, int *fd, const csvi_engine *e,
                     char *const *inputs, int n_inputs)
{
    bool created = true;
    *fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (*fd < 0 && errno == EEXIST) {
        created = false;
        *fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (*fd < 0) {
        int err = errno; /* (fprintf may change errno) */
        fprintf(stderr, "csvinfer: cannot open the lock file %s: %s\n", path, strerror(err));
        return err == EACCES || err == EPERM || err == EROFS ? EXIT_OUTPUT : EXIT_USAGE;
    }
    const char *why = lock_refusal(path, *fd, e, inputs, n_inputs);
    if (why) {
        fprintf(stderr,
                "csvinfer: --lock %s %s; it was not changed. Give the lock a file of its own, "
                "e.g. --lock /tmp/csvinfer-JOB.lock\n",
                path, why);
        if (created)
            unlink(path);
        return lock_give_up(fd, EXIT_USAGE);
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK || !wait) {
            char pid[32] = "";
            ssize_t n = pread(*fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            fprintf(stderr,
                    "csvinfer: another run holds the lock %s%s%s; not starting (use --lock-wait "
                    "to wait for it)\n",
                    path, pid[0] ? ", pid " : "", pid);
            return lock_give_up(fd, EXIT_LOCKED);
        }
        /* polled, not a blocking flock: a stop signal is seen within 50 ms however
         * it is delivered (under ThreadSanitizer the handler runs only at the next
         * intercepted call, so a blocking flock retried on EINTR never saw it) */
        while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK && errno != EINTR) {
                fprintf(stderr, "csvinfer: cannot lock %s: %s\n", path, strerror(errno));
                return lock_give_up(fd, EXIT_OUTPUT);
            }
            if (csvi_interrupted()) { /* SIGINT/SIGTERM while waiting */
                fprintf(stderr, "csvinfer: interrupted while waiting for the lock %s\n", path);
                return lock_give_up(fd, EXIT_INTERRUPTED);
            }
            nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        }
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(*fd, 0) == 0 && pwrite(*fd, pid, (size_t)n, 0) != n)
        (void)0; /* the pid is only a courtesy for the message above */
    return 0;
}

/* --group or --group=MODE; false if MODE is not one. */
static bool parse_group(const char *arg, enum csvi_group_mode *mode)
{
    if (!arg || !strcmp(arg, "header"))
        *mode = CSVI_GROUP_HEADER;
    else if (!strcmp(arg, "exact"))
        *mode = CSVI_GROUP_EXACT;
    else
        return false;
    return true;
}

/* Where the output goes.  A regular file (or one not there yet) is written
 * to FILE.tmp.PID and renamed at the end, so a reader never sees half a
 * document — except NDJSON (direct), which is written to FILE as it grows:
 * a stream is read while it is written.  A device or FIFO (-o /dev/null) is
 * written as it is.  Returns 0, or prints why and returns EXIT_OUTPUT. */
struct output {
    const char *path;  /* NULL or "-": standard output */
    FILE *f;
    char *tmp;         /* the temporary to rename, or NULL */
    char *target;      /* a symlink's target, where the temporary is renamed to (or NULL) */
    int err;           /* errno of the first failed write, close or rename; 0: none known */
};

/* -o FILE: written to a temporary beside it and renamed over it, so a reader
 * never sees half a document — beside the file a symlink points to, keeping
 * the link (the rename replaced the link by a regular file, the target kept
 * the old output), and with the old file's permission bits (not the umask's). */
static int output_open(struct output *o, const char *path, bool direct)
{
    o->path = path && strcmp(path, "-") != 0 ? path : NULL;
    o->f = stdout;
    o->tmp = o->target = NULL;
    o->err = 0;
    if (!o->path)
        return 0;
    struct stat sb, lb;
    if (lstat(o->path, &lb) == 0 && S_ISLNK(lb.st_mode))
        o->target = realpath(o->path, NULL); /* NULL if dangling: written through the link */
    const char *dest = o->target ? o->target : o->path;
    bool exists = stat(dest, &sb) == 0, regular = !exists || S_ISREG(sb.st_mode);
    if (regular && !direct && asprintf(&o->tmp, "%s.tmp.%ld", dest, (long)getpid()) < 0) {
        o->tmp = NULL;
        fprintf(stderr, "csvinfer: cannot write %s: out of memory\n", o->path);
        free(o->target);
        o->target = NULL;
        return EXIT_OUTPUT;
    }
    if (!(o->f = fopen(o->tmp ? o->tmp : dest, "w"))) {
        fprintf(stderr, "csvinfer: cannot write %s: %s\n", o->path, strerror(errno));
        free(o->tmp);
        free(o->target);
        o->tmp = o->target = NULL;
        return EXIT_OUTPUT;
    }
    if (o->tmp && exists)
        (void)fchmod(fileno(o->f), sb.st_mode & 07777);
    return 0;
}

/* Close (and rename into place) after writing with status st; returns the
 * status, CSVI_ERR_OUTPUT if closing or renaming failed (said on stderr). */
static enum csvi_status output_close(struct output *o, enum csvi_status st)
{
    if (st == CSVI_ERR_OUTPUT && !o->err)
        o->err = errno; /* the writer's last failure */
    if (o->f != stdout && fclose(o->f) != 0 && st == CSVI_OK) {
        st = CSVI_ERR_OUTPUT;
        o->err = errno;
    }
    if (o->tmp) {
        if (st == CSVI_OK && rename(o->tmp, o->target ? o->target : o->path) != 0) {
            st = CSVI_ERR_OUTPUT;
            o->err = errno;
        }
        if (st != CSVI_OK)
            unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
    }
    free(o->target);
    o->target = NULL;
    if (st != CSVI_OK)
        fprintf(stderr, "csvinfer: cannot write %s: %s\n", o->path ? o->path : "standard output",
                st == CSVI_ERR_OUTPUT && o->err ? strerror(o->err) : csvi_strerror(st));
    o->f = NULL;
    return st;
}

/* Write the whole output of e in fmt (NDJSON: all lines; a streaming run
 * writes its file lines as they come and only the table lines here). */
static enum csvi_status write_format(const csvi_engine *e, FILE *out, enum out_format fmt,
                                     enum csvi_sql_dialect sqld)
{
    switch (fmt) {
    case FMT_TABLE: return csvi_write_table(e, out);
    case FMT_SQL: return csvi_write_sql(e, out, sqld);
    case FMT_FRICTIONLESS: return csvi_write_frictionless(e, out);
    case FMT_NDJSON: return csvi_write_ndjson(e, out);
    default: return csvi_write_json(e, out);
    }
}

/* --format ndjson: each file's line as soon as it is final (the merger
 * thread, one call at a time; the main thread does not write out meanwhile). */
struct ndjson_stream {
    const csvi_engine *e;
    struct output *o;
    enum csvi_status st; /* the first failure */
};

static void ndjson_on_file(void *ctx, const struct csvi_file_result *r)
{
    struct ndjson_stream *ns = ctx;
    if (ns->st != CSVI_OK)
        return;
    errno = 0;
    ns->st = csvi_write_ndjson_file(ns->e, r, ns->o->f);
    if (ns->st != CSVI_OK)
        ns->o->err = errno;
}

/* csvinfer merge [--format F] [--sql-dialect D] [--group[=exact]] [-o FILE] [-q] VERDICT... */
static int merge_main(int argc, char **argv)
{
    static const struct option mopts[] = {
        {"format", required_argument, 0, 'f'},
        {"sql-dialect", required_argument, 0, 'd'},
        {"group", optional_argument, 0, 'g'},
        {"output", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    enum out_format fmt = FMT_JSON;
    enum csvi_sql_dialect sqld = CSVI_SQL_POSTGRES;
    enum csvi_group_mode group = CSVI_GROUP_NONE;
    const char *out_path = NULL;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", mopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "json"))
                fmt = FMT_JSON;
            else if (!strcmp(optarg, "ndjson"))
                fmt = FMT_NDJSON;
            else if (!strcmp(optarg, "table"))
                fmt = FMT_TABLE;
            else if (!strcmp(optarg, "sql"))
                fmt = FMT_SQL;
            else if (!strcmp(optarg, "frictionless"))
                fmt = FMT_FRICTIONLESS;
            else
                return usage_error("merge: --format wants json, ndjson, table, sql or "
                                   "frictionless, not '%s'",
                                   optarg);
            break;
        case 'd':
            if (!strcmp(optarg, "postgres") || !strcmp(optarg, "postgresql"))
                sqld = CSVI_SQL_POSTGRES;
            else if (!strcmp(optarg, "duckdb"))
                sqld = CSVI_SQL_DUCKDB;
            else if (!strcmp(optarg, "sqlite"))
                sqld = CSVI_SQL_SQLITE;
            else
                return usage_error("--sql-dialect wants postgres, duckdb or sqlite, not '%s'",
                                   optarg);
            break;
        case 'g':
            if (!parse_group(optarg, &group))
                return usage_error("--group wants nothing, =header or =exact, not '%s'", optarg);
            break;
        case 'o': out_path = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            puts("usage: csvinfer merge [--format json|ndjson|table|sql|frictionless]\n"
                 "                      [--sql-dialect D] [--group[=exact]] [-o FILE] VERDICT...\n"
                 "Join verdicts written by csvinfer --mergeable (JSON or NDJSON; - for stdin)\n"
                 "over disjoint sets of files into the verdict of one run over all of them.\n"
                 "See docs/scaling.md.");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return usage_error("merge wants at least one VERDICT file%s", "");
    struct csvi_options opt;
    csvi_options_init(&opt);
    opt.mergeable = true; /* a merged verdict can be merged again */
    opt.no_cache = opt.no_ledger = true;
    enum csvi_status st;
    csvi_engine *e = csvi_engine_create(&opt, &st);
    if (!e) {
        fprintf(stderr, "csvinfer: %s\n", csvi_strerror(st));
        return EXIT_OUTPUT;
    }
    char *why = NULL;
    for (int i = optind; i < argc && st == CSVI_OK; i++) {
        bool std_in = strcmp(argv[i], "-") == 0;
        FILE *in = std_in ? stdin : fopen(argv[i], "r");
        if (!in) {
            fprintf(stderr, "csvinfer: merge: %s: cannot open: %s\n", argv[i], strerror(errno));
            csvi_engine_free(e);
            return EXIT_USAGE;
        }
        st = csvi_engine_merge_verdict(e, std_in ? "(standard input)" : argv[i], in, &why);
        if (!std_in)
            fclose(in);
    }
    if (st == CSVI_OK)
        st = csvi_engine_merge_finish(e, &why);
    if (st == CSVI_OK && group != CSVI_GROUP_NONE)
        st = csvi_engine_group(e, group);
    if (st != CSVI_OK) {
        if (st == CSVI_ERR_BAD_VERDICT)
            fprintf(stderr, "csvinfer: merge: %s\n", why ? why : csvi_strerror(st));
        else
            fprintf(stderr, "csvinfer: merge: %s\n", csvi_strerror(st));
        free(why);
        csvi_engine_free(e);
        return st == CSVI_ERR_BAD_VERDICT ? EXIT_USAGE : EXIT_OUTPUT;
    }
    if (group == CSVI_GROUP_NONE && csvi_engine_merged_tables(e) && !quiet)
        fputs("csvinfer: merge: note: the verdicts hold tables (--group); merge --group joins "
              "them across the verdicts\n",
              stderr);
    int rc = 0;
    for (size_t i = 0; i < csvi_engine_file_count(e); i++)
        if (csvi_engine_file(e, i)->error_total)
            rc = EXIT_FILE_ERRORS; /* as one run over the files would exit */
    struct output o;
    if (output_open(&o, out_path, false)) {
        csvi_engine_free(e);
        return EXIT_OUTPUT;
    }
    if (output_close(&o, write_format(e, o.f, fmt, sqld)) != CSVI_OK)
        rc = EXIT_OUTPUT;
    csvi_engine_free(e);
    return rc;
}

/* csvinfer history [--ledger FILE] [--format table|json] PATH */
static int history_main(int argc, char **argv)
{
    static const struct option hopts[] = {
        {"ledger", required_argument, 0, 'l'},
        {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *ledger = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", hopts, NULL)) != -1) {
        switch (c) {
        case 'l': ledger = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") && strcmp(optarg, "table"))
                return usage_error("history: --format wants table or json, not '%s'", optarg);
            json = strcmp(optarg, "json") == 0;
            break;
        case 'h':
            puts("usage: csvinfer history [--ledger FILE] [--format table|json] PATH");
            return 0;
        default: return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return usage_error("history wants one PATH%s", "");
    bool found;
    /* a table of no versions is not printed: the error says why (JSON keeps its
     * empty list, for scripts) */
    char *text = NULL;
    size_t text_len = 0;
    FILE *to = json ? stdout : open_memstream(&text, &text_len);
    enum csvi_status st = to ? csvi_write_history(ledger, argv[optind], json, to, &found)
                             : CSVI_ERR_NOMEM;
    if (to && to != stdout) {
        fclose(to);
        if (st == CSVI_OK && found && fwrite(text, 1, text_len, stdout) != text_len)
            st = CSVI_ERR_OUTPUT;
        free(text);
    }
    if (st != CSVI_OK) {
        fprintf(stderr, "csvinfer: history: %s\n", csvi_strerror(st));
        return st == CSVI_ERR_OUTPUT ? EXIT_OUTPUT : EXIT_FILE_ERRORS;
    }
    if (!found && ledger && access(ledger, F_OK) != 0)
        fprintf(stderr, "csvinfer: history: no ledger at %s (%s): no run has written one there\n",
                ledger, strerror(errno));
    else if (!found)
        fprintf(stderr, "csvinfer: history: the ledger has no run over %s\n", argv[optind]);
    return found ? 0 : EXIT_FILE_ERRORS;
}

/* Standard input, output and error opened on /dev/null where the caller
 * closed them (`csvinfer ... >&-`): else the first file csvinfer opens takes
 * the number — the ledger became fd 1 and got the JSON output, or fd 2 and
 * got the error lines; the io_uring ring became fd 0 and a read of `-`
 * waited on it forever.  Returns a bit per descriptor that was closed. */
static unsigned reopen_closed_std_fds(void)
{
    unsigned closed = 0;
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            closed |= 1u << fd;
            int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (got >= 0 && got != fd) { /* (cannot happen: the lowest free number) */
                dup2(got, fd);
                close(got);
            }
        }
    return closed;
}

int main(int argc, char **argv)
{
    unsigned closed_fds = reopen_closed_std_fds();
    struct csvi_options opt;
    csvi_options_init(&opt);
    enum out_format fmt = FMT_AUTO;
    const char *out_path = NULL;
    bool stats = false, quiet = false, fail_on_drift = false, lock_wait = false;
    bool dialect_given = false;
    const char *lock_path = NULL;
    char progress_mode = 'a';
    if (argc > 1 && strcmp(argv[1], "history") == 0)
        return history_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return merge_main(argc - 1, argv + 1);
    enum csvi_group_mode group = CSVI_GROUP_NONE;
    enum csvi_sql_dialect sqld = CSVI_SQL_POSTGRES;
    const char **nulls = NULL, **incl = NULL, **excl = NULL;
    size_t n_nulls = 0, n_incl = 0, n_excl = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", long_opts, NULL)) != -1) {
        size_t sz;
        char *end;
        switch (c) {
        case OPT_FORMAT:
            if (strcmp(optarg, "table") == 0)
                fmt = FMT_TABLE;
            else if (strcmp(optarg, "json") == 0)
                fmt = FMT_JSON;
            else if (strcmp(optarg, "sql") == 0)
                fmt = FMT_SQL;
            else if (strcmp(optarg, "frictionless") == 0)
                fmt = FMT_FRICTIONLESS;
            else if (!strcmp(optarg, "ndjson"))
                fmt = FMT_NDJSON;
            else
                return usage_error("unknown --format '%s' (table, json, ndjson, sql, frictionless)",
                                   optarg);
            break;
        case 'o': out_path = optarg; break;
        case OPT_THREADS: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 1024)
                return usage_error("--threads wants a number 0..1024, not '%s'", optarg);
            opt.threads = (unsigned)v;
            break;
        }
        case OPT_CHUNK:
            /* (a pool of 2 x threads + 2 chunks is allocated: 100G ran out of memory and
             * blamed the first file) */
            if (!parse_size(optarg, &opt.chunk_size) || opt.chunk_size > CSVI_MAX_RECORD_LIMIT)
                return usage_error("--chunk-size wants a size from 1 to 1G, like 8M, not '%s'",
                                   optarg);
            break;
        case OPT_MAXREC:
            if (!parse_size(optarg, &sz) || sz > CSVI_MAX_RECORD_LIMIT)
                return usage_error("--max-record wants a size from 1 to 1G, like 64M, not '%s'",
                                   optarg);
            opt.max_record = sz;
            break;
        case OPT_IO:
            if (!strcmp(optarg, "auto"))
                opt.io = CSVI_IO_AUTO;
            else if (!strcmp(optarg, "uring"))
                opt.io = CSVI_IO_URING;
            else if (!strcmp(optarg, "pread"))
                opt.io = CSVI_IO_PREAD;
            else
                return usage_error("--io wants auto, uring or pread, not '%s'", optarg);
            break;
        case OPT_DELIM:
            if ((opt.delimiter = parse_char(optarg)) < 0 || opt.delimiter == 0)
                return usage_error("--delimiter wants one character (or 'tab'), not '%s'", optarg);
            break;
        case OPT_QUOTE:
            if (!strcmp(optarg, "none"))
                opt.quote = 0;
            else if ((opt.quote = parse_char(optarg)) < 0)
                return usage_error("--quote wants one character or 'none', not '%s'", optarg);
            break;
        case OPT_SQLDIALECT:
            dialect_given = true;
            if (!strcmp(optarg, "postgres") || !strcmp(optarg, "postgresql"))
                sqld = CSVI_SQL_POSTGRES;
            else if (!strcmp(optarg, "duckdb"))
                sqld = CSVI_SQL_DUCKDB;
            else if (!strcmp(optarg, "sqlite"))
                sqld = CSVI_SQL_SQLITE;
            else
                return usage_error("--sql-dialect wants postgres, duckdb or sqlite, not '%s'",
                                   optarg);
            break;
        case OPT_HEADER: opt.header = 1; break;
        case OPT_NOHEADER: opt.header = 0; break;
        case OPT_NULL:
        case OPT_INCLUDE:
        case OPT_EXCLUDE: {
            const char ***arr = c == OPT_NULL ? &nulls : c == OPT_INCLUDE ? &incl : &excl;
            size_t *n = c == OPT_NULL ? &n_nulls : c == OPT_INCLUDE ? &n_incl : &n_excl;
            const char **na = realloc(*arr, (*n + 1) * sizeof *na);
            if (!na) {
                fprintf(stderr, "csvinfer: out of memory\n");
                return EXIT_USAGE;
            }
            na[(*n)++] = optarg;
            *arr = na;
            break;
        }
        case OPT_QEMPTY: opt.quoted_empty_is_text = true; break;
        case OPT_DAYFIRST: opt.dayfirst = true; break;
        case OPT_NOTRIM: opt.no_trim = true; break;
        case OPT_THRESHOLD:
            opt.threshold = strtod(optarg, &end);
            if (*end || !(opt.threshold > 0.0 && opt.threshold <= 1.0))
                return usage_error("--threshold wants a fraction 0 < F <= 1, not '%s'", optarg);
            break;
        case OPT_SAMPLE: {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || optarg[0] == '-')
                return usage_error("--sample-rows wants a number (0 = all), not '%s'", optarg);
            opt.sample_rows = v;
            break;
        }
        case OPT_STATS: stats = true; break;
        case 'q': quiet = true; break;
        case OPT_NOCACHE: opt.no_cache = true; break;
        case OPT_TRUSTMTIME: opt.trust_mtime = true; break;
        case OPT_TRUSTAPPEND: opt.trust_mtime = opt.trust_append = true; break;
        case OPT_CACHE:
            if (!optarg[0])
                return usage_error("--cache wants a directory%s", "");
            opt.cache_dir = optarg;
            break;
        case OPT_CACHESIZE:
            if (!parse_size(optarg, &sz))
                return usage_error("--cache-size wants a size like 512M or 2G, not '%s'", optarg);
            opt.cache_size = sz;
            break;
        case OPT_NOLEDGER: opt.no_ledger = true; break;
        case OPT_LEDGER:
            if (!optarg[0])
                return usage_error("--ledger wants a file%s", "");
            opt.ledger_path = optarg;
            break;
        case OPT_LEDGERBATCH:
        case OPT_LEDGERMS: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < (c == OPT_LEDGERBATCH ? 1 : 0) || v > 1000000)
                return usage_error("--ledger-batch / --ledger-interval want a number, not '%s'",
                                   optarg);
            if (c == OPT_LEDGERBATCH)
                opt.ledger_batch_events = (unsigned)v;
            else
                opt.ledger_batch_ms = (unsigned)v;
            break;
        }
        case OPT_FAILDRIFT: fail_on_drift = true; break;
        case OPT_LOCK: lock_path = optarg; break;
        case OPT_LOCKWAIT: lock_wait = true; break;
        case OPT_PROGRESS:
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
                return usage_error("--progress wants auto, always or never, not '%s'", optarg);
            progress_mode = strcmp(optarg, "always") == 0 ? 'l' : optarg[0]; /* a, l, n */
            break;
        case OPT_UNBUILT:
            return usage_error("%s is not available in this version (see docs/cli.md)",
                               argv[optind - 1]);
        case OPT_GROUP:
            if (!parse_group(optarg, &group))
                return usage_error("--group wants nothing, =header or =exact, not '%s'", optarg);
            opt.keep_state = true;
            break;
        case OPT_MERGEABLE: opt.mergeable = true; break;
        case OPT_STDINNAME:
            if (!optarg[0] || strpbrk(optarg, "\n\r"))
                return usage_error("--stdin-name wants a name (one line), not '%s'", optarg);
            opt.stdin_name = optarg;
            break;
        case OPT_VERSION: printf("csvinfer %s\n", CSVI_VERSION_STRING); return 0;
        case 'h':
        case OPT_HELP: usage(stdout); return 0;
        default: /* getopt said which option; the whole help would flood a cron mail */
            fprintf(stderr, "Try 'csvinfer --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "csvinfer: no PATH given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if ((closed_fds & 2u) && !out_path)
        return usage_error("standard output is closed%s: give -o FILE for the output", "");
    if (opt.delimiter != CSVI_AUTO && opt.delimiter == opt.quote)
        return usage_error("--delimiter and --quote must differ (both '%s')",
                           (char[]){(char)opt.delimiter, 0});
    if (opt.delimiter == '"' && opt.quote == CSVI_AUTO) /* '"' is the usual quote */
        return usage_error("--delimiter '\"' needs --quote with another character (or "
                           "--quote none)%s",
                           "");
    if (lock_wait && !lock_path)
        return usage_error("--lock-wait waits for the lock of --lock FILE; give --lock too%s", "");
    if (nulls) {
        opt.null_tokens = nulls;
        opt.n_null_tokens = n_nulls;
    }
    if (incl) {
        opt.include = incl;
        opt.n_include = n_incl;
    }
    opt.exclude = excl;
    opt.n_exclude = n_excl;

    enum csvi_status st;
    csvi_engine *e = csvi_engine_create(&opt, &st);
    free(nulls);
    free(incl);
    if (!e) {
        fprintf(stderr, "csvinfer: %s\n", csvi_strerror(st));
        free(excl);
        return st == CSVI_ERR_USAGE ? EXIT_USAGE : EXIT_OUTPUT;
    }
    int lock_fd = -1;
    if (lock_path) { /* two cron runs of one job must not overlap */
        install_signals(); /* a stop signal ends a --lock-wait too (exit 130) */
        int lrc = take_lock(lock_path, lock_wait, &lock_fd, e, argv + optind, argc - optind);
        if (lrc) {
            csvi_engine_free(e);
            free(excl);
            return lrc;
        }
    }
    /* flags that do nothing with the rest of the line: said, not silently ignored */
    if (dialect_given && fmt != FMT_SQL && !quiet)
        fprintf(stderr, "csvinfer: warning: --sql-dialect is used by --format sql only\n");
    if (opt.mergeable && fmt != FMT_JSON && fmt != FMT_NDJSON && fmt != FMT_AUTO && !quiet)
        fprintf(stderr, "csvinfer: warning: --mergeable adds a \"state\" to the json and ndjson "
                        "formats only\n");
    const char *lv = getenv("CSVINFER_LOG");
    if (lv && lv[0] && strcmp(lv, "info") && strcmp(lv, "debug") && !quiet)
        fprintf(stderr, "csvinfer: warning: CSVINFER_LOG=%s is not a level (info or debug); "
                        "no log lines\n", printable(lv, 0));
    if (fail_on_drift && opt.sample_rows && !opt.no_ledger && !quiet)
        fprintf(stderr, "csvinfer: warning: --fail-on-drift with --sample-rows: a sample is no "
                        "file's schema, so it is not compared with the ledger (nor recorded); "
                        "this run cannot exit 3\n");
    if (fail_on_drift && opt.no_ledger && !quiet) /* a check that cannot fire, in a cron job */
        fprintf(stderr, "csvinfer: warning: --fail-on-drift compares with the ledger; with "
                        "--no-ledger no change is seen and this run cannot exit 3\n");
    if (opt.trust_mtime && !opt.trust_append && opt.no_cache && !quiet)
        fprintf(stderr, "csvinfer: warning: --trust-mtime looks files up in the cache; with "
                        "--no-cache every file is read\n");
    if (opt.trust_append && (opt.no_ledger || opt.no_cache) && !quiet)
        fprintf(stderr, "csvinfer: warning: --trust-append needs the ledger and the cache (it "
                        "finds a file's last run there); with %s, files that grew are read "
                        "whole\n",
                opt.no_ledger ? "--no-ledger" : "--no-cache");
    /* a path given and then switched off: the run does what the flag says, but
     * the user who set the path expected it used */
    if (opt.no_cache && opt.cache_dir && !quiet)
        fprintf(stderr, "csvinfer: warning: --cache %s is not used: --no-cache is given too\n",
                opt.cache_dir);
    if (opt.no_ledger && opt.ledger_path && !quiet)
        fprintf(stderr, "csvinfer: warning: --ledger %s is not written: --no-ledger is given too\n",
                opt.ledger_path);
    install_signals();
    bool ledger_failed = false;
    st = csvi_engine_begin_run(e, argc, argv);
    if (st != CSVI_OK) {
        ledger_failed = true;
        fprintf(stderr, "csvinfer: warning: ledger: %s; this run is not recorded and no drift "
                        "is reported (exit status 4 at the end)\n",
                csvi_engine_ledger_warning(e) ? csvi_engine_ledger_warning(e) : csvi_strerror(st));
    }
    /* NDJSON streams: its target is opened now and each file's line written
     * as soon as the file is done (docs/cli.md) */
    struct output o = {0};
    struct ndjson_stream ns = {e, &o, CSVI_OK};
    if (fmt == FMT_NDJSON) {
        if (output_open(&o, out_path, true)) {
            finish_run(e, EXIT_OUTPUT);
            csvi_engine_free(e);
            free(excl);
            return EXIT_OUTPUT;
        }
        csvi_engine_on_file(e, ndjson_on_file, &ns);
    }
    struct progress *prog = NULL;
    if (progress_mode == 'l' || (progress_mode == 'a' && isatty(STDERR_FILENO)))
        prog = progress_start(e);
    bool data_errors = false, interrupted = false;
    for (int i = optind; i < argc && !interrupted; i++) {
        size_t before = csvi_engine_file_count(e);
        st = csvi_engine_infer_path(e, argv[i]);
        interrupted = st == CSVI_ERR_INTERRUPTED || csvi_interrupted();
        if (prog && !quiet && csvi_engine_file_count(e) > before)
            fputs("\r\033[K", stderr); /* errors start on a clean line */
        print_errors(e, before, quiet || interrupted); /* a cut file's errors mean nothing */
        if (st == CSVI_ERR_UNSUPPORTED || st == CSVI_ERR_NOMEM) {
            progress_stop(prog);
            if (st == CSVI_ERR_UNSUPPORTED)
                fprintf(stderr, "csvinfer: %s\n", csvi_strerror(st));
            else
                fprintf(stderr, "csvinfer: %s: out of memory\n", argv[i]);
            int code = finish_run(e, st == CSVI_ERR_UNSUPPORTED ? EXIT_USAGE : EXIT_OUTPUT);
            csvi_engine_free(e);
            free(excl);
            return code;
        }
        data_errors |= st != CSVI_OK;
    }
    progress_stop(prog);
    if (interrupted) { /* SIGINT/SIGTERM: no verdict is printed; the ledger says so */
        print_drift(e, quiet); /* files finished before the signal recorded their new schema:
                                  say it now, or the next run would not see the change */
        int code = finish_run(e, EXIT_INTERRUPTED);
        if (fmt == FMT_NDJSON) /* the lines of the files done stay: each is whole */
            output_close(&o, ns.st);
        fprintf(stderr, "csvinfer: interrupted; %s%s\n",
                fmt == FMT_NDJSON ? "the NDJSON holds the files finished before"
                                  : "no output written",
                csvi_engine_ledger_path(e) && code == EXIT_INTERRUPTED
                    ? " (the ledger records the files finished and run_end \"interrupted\")"
                    : "");
        csvi_engine_free(e);
        free(excl);
        return code;
    }
    bool drift = print_drift(e, quiet);

    struct csvi_cache_stats cst;
    csvi_engine_cache_stats(e, &cst);
    if (cst.warning && !quiet)
        fprintf(stderr, "csvinfer: warning: cache: %s (use --cache DIR, or --no-cache)\n",
                cst.warning);
    int rc = fail_on_drift && drift ? EXIT_DRIFT : data_errors ? EXIT_FILE_ERRORS : 0;
    if (group != CSVI_GROUP_NONE && (st = csvi_engine_group(e, group)) != CSVI_OK) {
        fprintf(stderr, "csvinfer: --group: %s\n", csvi_strerror(st));
        rc = EXIT_OUTPUT;
    } else if (group != CSVI_GROUP_NONE && print_table_drift(e, quiet) && fail_on_drift &&
               rc != EXIT_OUTPUT) {
        rc = EXIT_DRIFT; /* a table's schema changed (the ledger's table_done) */
    }
    if (fmt == FMT_NDJSON) { /* the file lines are out: the table lines, if any */
        st = ns.st;
        if (st == CSVI_OK)
            st = csvi_write_ndjson_tables(e, o.f);
        if (output_close(&o, st) != CSVI_OK)
            rc = EXIT_OUTPUT;
    } else {
        if (output_open(&o, out_path, false)) {
            finish_run(e, EXIT_OUTPUT);
            csvi_engine_free(e);
            free(excl);
            return EXIT_OUTPUT;
        }
        if (fmt == FMT_AUTO)
            fmt = isatty(fileno(o.f)) ? FMT_TABLE : FMT_JSON;
        if (output_close(&o, write_format(e, o.f, fmt, sqld)) != CSVI_OK)
            rc = EXIT_OUTPUT;
    }
    if (stats) {
        uint64_t bytes = 0, rows = 0, errors = 0;
        size_t n = csvi_engine_file_count(e);
        for (size_t i = 0; i < n; i++) {
            bytes += csvi_engine_file(e, i)->bytes;
            rows += csvi_engine_file(e, i)->rows;
            errors += csvi_engine_file(e, i)->error_total;
        }
        double s = csvi_engine_seconds(e);
        fprintf(stderr, "csvinfer: %zu files, %llu bytes, %llu rows, %llu errors, %.3f s, %.1f MB/s\n",
                n, (unsigned long long)bytes, (unsigned long long)rows, (unsigned long long)errors,
                s, s > 0 ? (double)bytes / s / 1e6 : 0.0);
        uint64_t slices = 0, hits = 0, hit_bytes = 0;
        for (size_t i = 0; i < n; i++) {
            slices += csvi_engine_file(e, i)->cache_slices;
            hits += csvi_engine_file(e, i)->cache_hits;
            hit_bytes += csvi_engine_file(e, i)->cache_hit_bytes;
        }
        if (!cst.enabled)
            fprintf(stderr, "csvinfer: cache: off (--no-cache)\n");
        else
            fprintf(stderr,
                    "csvinfer: cache: %llu of %llu slices found (%.1f%%), %llu bytes not "
                    "re-inferred; %llu values stored by this run; %s\n",
                    (unsigned long long)hits, (unsigned long long)slices,
                    slices ? 100.0 * (double)hits / (double)slices : 0.0,
                    (unsigned long long)hit_bytes, (unsigned long long)cst.values_added,
                    cst.dir ? cst.dir : "in memory only");
    }
    rc = finish_run(e, rc);
    if (ledger_failed)
        rc = EXIT_OUTPUT;
    free(excl);
    csvi_engine_free(e);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}
