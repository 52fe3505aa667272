/*
 * test_pipeline.c — differential test of the parallel pipeline against the
 * sequential engine (Criterion + jansson).
 *
 * It generates a few hundred random CSV files (deterministic PRNG, in a
 * mkdtemp directory under /tmp): random delimiters, quoting (doubled quotes,
 * delimiters and CR/LF inside quoted fields), LF/CRLF, nulls, values of every
 * type, ragged rows, blank lines, missing final newline, headers, long fields,
 * invalid UTF-8, NUL bytes, unterminated quotes, BOMs, empty files; 0 bytes to
 * ~2 MB.  For each file it runs the sequential reference
 *     csvinfer --format json --threads 1 FILE
 * and compares it with a few runs of
 *     csvinfer --format json --threads T --chunk-size S --io B FILE
 * (random T in 2..4, S from a list of tiny to huge sizes, B pread or uring),
 * plus, for files with long fields, the same pair with --max-record 5000; for
 * some files, the same pair with the generator's dialect given (--delimiter,
 * --quote, --header: slicing checked apart from sniffing) or with extra type
 * options (--threshold, --dayfirst, ...); and at the end three runs over the
 * whole directory (many files per run, small files read together).  Sizes
 * are capped per run so a file is cut into at most MAX_CHUNKS_PER_RUN
 * chunks.  The JSON documents must be equal as JSON values after
 * dropping "seconds" (summary and per file) and the per-file "cache" object
 * (its slice count depends on the chunk size); the exit statuses must be
 * equal too.  Every mismatch is reported (the arguments, both documents, the
 * CSV kept as /tmp/csvi-diff-fail-N.csv) before the test fails.  The uring
 * runs are skipped, with a note, where `--io uring` exits 2 saying io_uring
 * is not available.  Every run gets --no-cache --no-ledger and private
 * XDG_CACHE_HOME / XDG_STATE_HOME folders, so no verdict can be reused.
 *
 * Environment (optional): CSVI_PIPELINE_SEED (PRNG seed), CSVI_PIPELINE_FILES
 * (number of files, default 320), CSVI_PIPELINE_KEEP=1 (keep the directory).
 * Built with CSVI_BIN_PATH (absolute path of the csvinfer binary) defined.
 */
#define _GNU_SOURCE /* mkdtemp, nftw, vasprintf, pipe2 */

#include <criterion/criterion.h>
#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
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

#define DEFAULT_SEED 0x5eed1234c0ffee01ull
#define DEFAULT_FILES 320
#define COMBOS_PER_FILE 4
#define MAX_CHUNKS_PER_RUN 20000 /* tiny chunk sizes on big files would be too slow */
#define RUN_TIMEOUT_MS 60000     /* a run taking longer is killed and reported */
#define MAX_COLS 14
#define MAX_ARGS 40
#define MAX_RECORD_ARG "5000"
#define DIR_COMBOS 3          /* pipeline runs over the whole directory */
#define DIR_REPORT_FILES 8    /* differing files detailed per directory run */

static const size_t CHUNK_SIZES[] = {
    1, 2, 3, 5, 7, 13, 64, 100, 255, 1000, 4096, 8191, 65536, 100003, 1u << 20, 16u << 20,
};
#define N_CHUNK_SIZES (sizeof CHUNK_SIZES / sizeof CHUNK_SIZES[0])
static const char *const CHUNK_ARGS[N_CHUNK_SIZES] = {
    "1", "2", "3", "5", "7", "13", "64", "100", "255", "1000", "4096", "8191", "65536",
    "100003", "1M", "16M",
};
_Static_assert(N_CHUNK_SIZES == 16, "check_directory picks sizes by index");
static const char *const BACKENDS[2] = {"pread", "uring"};
static const char *const THREAD_ARGS[5] = {"0", "1", "2", "3", "4"};

/* ---- deterministic PRNG (splitmix64) ------------------------------------- */

/* Two streams: file contents (reseeded per file from the seed and the file's
 * number, so a file does not depend on the runs chosen before it) and the
 * choice of runs. */
static uint64_t rng_state, pick_state;

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd(void) { return splitmix(&rng_state); }

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static uint64_t pick_below(uint64_t n) { return n ? splitmix(&pick_state) % n : 0; }

static int64_t rnd_range(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)rnd_below((uint64_t)(hi - lo) + 1);
}

static double rnd_unit(void) { return (double)(rnd() >> 11) * 0x1.0p-53; }

static bool chance(double p) { return rnd_unit() < p; }

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a) ((a)[rnd_below(NELEM(a))])

/* ---- growable byte buffer -------------------------------------------------- */

struct buf {
    char *p;
    size_t n, cap;
};

static void b_reserve(struct buf *b, size_t extra)
{
    if (b->n + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    cr_assert_not_null(p, "out of memory");
    b->p = p;
    b->cap = cap;
}

static void b_put(struct buf *b, const void *s, size_t n)
{
    b_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void b_puts(struct buf *b, const char *s) { b_put(b, s, strlen(s)); }

static void b_putc(struct buf *b, char c) { b_put(b, &c, 1); }

__attribute__((format(printf, 2, 3))) static void b_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0, "out of memory");
    b_put(b, s, (size_t)n);
    free(s);
}

static void b_insert(struct buf *b, size_t at, const void *s, size_t n)
{
    b_reserve(b, n);
    memmove(b->p + at + n, b->p + at, b->n - at);
    memcpy(b->p + at, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void b_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---- value generators ------------------------------------------------------ */

enum gen {
    G_INT, G_BIGINT, G_DECIMAL, G_DOUBLE, G_DATE, G_DATE_AMBIG, G_TIMESTAMP, G_TIMESTAMPTZ,
    G_TIME, G_UUID, G_BOOL, G_TEXT, G_UTF8, G_MIXED, G_NULLS, G_COUNT
};

static const char *const GEN_NAMES[G_COUNT] = {
    "int", "bigint", "decimal", "double", "date", "date-ambig", "timestamp", "timestamptz",
    "time", "uuid", "bool", "text", "utf8", "mixed", "nulls",
};

struct colspec {
    enum gen gen;
    int style;            /* flavour of the generator, fixed per column */
    double null_rate;
    double noise;         /* chance a value comes from another generator */
    uint64_t resolve_row; /* G_DATE_AMBIG: from this row on, days above 12 may appear */
};

static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const MONTHS_FULL[] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};
static const char *const WORDS[] = {
    "alpha", "beta", "gamma", "delta", "red", "green", "blue", "Paris", "O'Brien", "x",
    "hello world", "n/a", "Null", "na", "-", "12abc", "1,000", "on", "off", "TRUE1",
    "lorem", "ipsum", "dolor", "sit", "amet", "2024-13-01", "10:61", "e5", "0x1F", "#",
};
static const char *const UTF8_WORDS[] = {
    "café", "naïve", "日本語テキスト", "Ελληνικά", "😀 emoji", "Zürich", "Ångström",
    "—dash—", "Ωmega", "Straße", "中文", "ñandú", "한국어", "עברית", "€100",
};

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static void gen_digits(struct buf *b, int n)
{
    b_putc(b, (char)('1' + rnd_below(9)));
    for (int i = 1; i < n; i++)
        b_putc(b, (char)('0' + rnd_below(10)));
}

static void gen_int(struct buf *b, int style)
{
    switch (style % 4) {
    case 0: b_printf(b, "%d", (int)rnd_range(0, 100)); break;
    case 1: b_printf(b, "%d", (int)rnd_range(-40000, 40000)); break;
    case 2: b_printf(b, "%" PRId64, rnd_range(-3000000000ll, 3000000000ll)); break;
    default:
        if (chance(0.03))
            b_puts(b, PICK(((const char *const[]){"+5", "-0", "0", "+0", "007", "-", "1 000"})));
        else
            b_printf(b, "%" PRId64, rnd_range(-1000000, 1000000));
        break;
    }
}

static void gen_bigint(struct buf *b)
{
    static const char *const edges[] = {
        "9223372036854775807",  "-9223372036854775808", "9223372036854775808",
        "-9223372036854775809", "18446744073709551615", "99999999999999999999999",
        "123456789012345678901234567890123456789", "1"};
    if (chance(0.3)) {
        b_puts(b, PICK(edges));
        return;
    }
    if (chance(0.5))
        b_putc(b, '-');
    gen_digits(b, (int)rnd_range(10, 26));
}

static void gen_decimal(struct buf *b, int style)
{
    int scale = style % 6 + 1;
    if (chance(0.3))
        b_putc(b, '-');
    int form = (int)rnd_below(20);
    if (form == 0) { /* .5 */
        b_putc(b, '.');
        for (int i = 0; i < scale; i++)
            b_putc(b, (char)('0' + rnd_below(10)));
        return;
    }
    if (form == 1) { /* an integer in a decimal column */
        b_printf(b, "%d", (int)rnd_range(0, 99999));
        return;
    }
    if (form == 2 && style >= 6) { /* long precision */
        gen_digits(b, (int)rnd_range(20, 40));
        b_putc(b, '.');
        b_putc(b, (char)('0' + rnd_below(10)));
        return;
    }
    b_printf(b, "%d.", (int)rnd_range(0, style >= 3 ? 9999999 : 999));
    int sc = form == 3 ? (int)rnd_below((uint64_t)scale + 1) : scale;
    for (int i = 0; i < sc; i++)
        b_putc(b, (char)('0' + rnd_below(10)));
}

static void gen_double(struct buf *b)
{
    switch (rnd_below(12)) {
    case 0:
        b_puts(b, PICK(((const char *const[]){"NaN", "inf", "-Infinity", "+inf", "nan"})));
        break;
    case 1: b_puts(b, PICK(((const char *const[]){"1e400", "1e-400", "1e", "1e+", "2e308"}))); break;
    case 2: b_printf(b, "%.3E", (rnd_unit() - 0.5) * 1e30); break;
    case 3: b_printf(b, "%d", (int)rnd_range(-500, 500)); break;
    case 4: b_printf(b, ".%de%d", (int)rnd_range(1, 99), (int)rnd_range(-20, 20)); break;
    default: {
        double m = (rnd_unit() - 0.5) * 20.0;
        b_printf(b, "%.*fe%d", (int)rnd_range(0, 12), m, (int)rnd_range(-300, 300));
        break;
    }
    }
}

/* Date formats of docs/types.md; the numeric day/month ones are 2..6. */
#define N_DATE_STYLES 14

static void put_date(struct buf *b, int style, int y, int m, int d)
{
    switch (style) {
    case 0: b_printf(b, "%04d-%02d-%02d", y, m, d); break;
    case 1: b_printf(b, "%04d/%02d/%02d", y, m, d); break;
    case 2: b_printf(b, "%02d/%02d/%04d", m, d, y); break;
    case 3: b_printf(b, "%02d/%02d/%04d", d, m, y); break;
    case 4: b_printf(b, "%d-%d-%04d", m, d, y); break;
    case 5: b_printf(b, "%02d-%02d-%04d", d, m, y); break;
    case 6: b_printf(b, "%02d.%02d.%04d", d, m, y); break;
    case 7: b_printf(b, "%s %d %04d", MONTHS[m - 1], d, y); break;
    case 8: b_printf(b, "%d %s %04d", d, MONTHS[m - 1], y); break;
    case 9: b_printf(b, "%s %02d, %04d", MONTHS[m - 1], d, y); break;
    case 10: b_printf(b, "%s %d %04d", MONTHS_FULL[m - 1], d, y); break;
    case 11: b_printf(b, "%d %s %04d", d, MONTHS_FULL[m - 1], y); break;
    case 12: b_printf(b, "%02d-%s-%04d", d, MONTHS[m - 1], y); break;
    default: b_printf(b, "%04d-%d-%d", y, m, d); break;
    }
}

static void gen_date(struct buf *b, int style, bool small_days)
{
    if (chance(0.01)) { /* not a real date */
        b_puts(b, PICK(((const char *const[]){"2023-02-29", "2024-04-31", "31/02/2024", "0000-01-01"})));
        return;
    }
    int y = chance(0.02) ? (int)PICK(((const int[]){1, 9999, 1900, 2000})) : (int)rnd_range(1950, 2035);
    int m = (int)rnd_range(1, 12);
    int d = small_days ? (int)rnd_range(1, 12) : (int)rnd_range(1, days_in_month(y, m));
    put_date(b, style, y, m, d);
}

static void gen_time(struct buf *b, int style)
{
    int h = (int)rnd_range(0, 23), mi = (int)rnd_range(0, 59), s = (int)rnd_range(0, 59);
    if (chance(0.01)) {
        b_puts(b, PICK(((const char *const[]){"24:00", "24:00:00", "9:30", "25:00", "12:60"})));
        return;
    }
    switch (style % 4) {
    case 0: b_printf(b, "%02d:%02d", h, mi); break;
    case 1: b_printf(b, "%02d:%02d:%02d", h, mi, s); break;
    case 2: b_printf(b, "%02d:%02d:%02d.%0*d", h, mi, s, 3, (int)rnd_range(0, 999)); break;
    default: b_printf(b, "%d:%02d:%02d.%06d", h, mi, s, (int)rnd_range(0, 999999)); break;
    }
}

static void gen_timestamp(struct buf *b, int style, bool tz)
{
    gen_date(b, (style / 4) % 4, false);
    b_putc(b, style % 2 ? 'T' : ' ');
    gen_time(b, (style / 2) % 4);
    if (tz && chance(0.95))
        b_puts(b, PICK(((const char *const[]){"Z", "+02", "+0530", "-08:00", "+00:00"})));
}

static void gen_uuid(struct buf *b, int style)
{
    static const char hex[] = "0123456789abcdef0123456789ABCDEF";
    bool upper = style % 3 == 1;
    bool braces = chance(0.002);
    if (braces)
        b_putc(b, '{');
    static const int groups[] = {8, 4, 4, 4, 12};
    for (int g = 0; g < 5; g++) {
        if (g)
            b_putc(b, '-');
        for (int i = 0; i < groups[g]; i++)
            b_putc(b, hex[rnd_below(16) + (upper || (style % 3 == 2 && chance(0.5)) ? 16 : 0)]);
    }
    if (braces)
        b_putc(b, '}');
}

static void gen_bool(struct buf *b, int style)
{
    static const char *const styles[][2] = {
        {"true", "false"}, {"TRUE", "FALSE"}, {"yes", "no"}, {"t", "f"},
        {"Y", "N"},        {"1", "0"},        {"True", "false"},
    };
    b_puts(b, styles[style % (int)NELEM(styles)][rnd_below(2)]);
}

struct gen_ctx {
    char delim;
    double special_rate; /* text: delimiter, quote, CR/LF inside */
};

static void gen_text(struct buf *b, const struct gen_ctx *g, bool utf8)
{
    int words = (int)rnd_range(1, 4);
    for (int i = 0; i < words; i++) {
        if (i)
            b_putc(b, ' ');
        b_puts(b, utf8 && chance(0.6) ? PICK(UTF8_WORDS) : PICK(WORDS));
        if (g->special_rate > 0 && chance(g->special_rate)) {
            switch (rnd_below(6)) {
            case 0: b_putc(b, g->delim); break;
            case 1: b_puts(b, "\"quoted\""); break;
            case 2: b_putc(b, '\n'); break;
            case 3: b_puts(b, "\r\n"); break;
            case 4: b_putc(b, '\r'); break;
            default: b_putc(b, '"'); break;
            }
        }
    }
}

static void gen_value(struct buf *b, enum gen gen, int style, const struct gen_ctx *g,
                      bool small_days)
{
    switch (gen) {
    case G_INT: gen_int(b, style); break;
    case G_BIGINT: gen_bigint(b); break;
    case G_DECIMAL: gen_decimal(b, style); break;
    case G_DOUBLE: gen_double(b); break;
    case G_DATE: gen_date(b, style % N_DATE_STYLES, false); break;
    case G_DATE_AMBIG: gen_date(b, 2 + style % 5, small_days); break;
    case G_TIMESTAMP: gen_timestamp(b, style, false); break;
    case G_TIMESTAMPTZ: gen_timestamp(b, style, true); break;
    case G_TIME: gen_time(b, style); break;
    case G_UUID: gen_uuid(b, style); break;
    case G_BOOL: gen_bool(b, style); break;
    case G_TEXT: gen_text(b, g, false); break;
    case G_UTF8: gen_text(b, g, true); break;
    case G_NULLS: break;
    case G_MIXED:
    default: gen_value(b, (enum gen)rnd_below(G_MIXED), (int)rnd_below(64), g, false); break;
    }
}

/* ---- file generator --------------------------------------------------------- */

enum event { EV_RAGGED, EV_BLANK, EV_BADUTF8, EV_NUL, EV_LONG, EV_WIDEN };

struct ev {
    size_t at;
    enum event kind;
};

struct filespec {
    char delim;
    int quote_mode;      /* 0 never, 1 when needed, 2 some fields, 3 every field */
    double quote_rate;   /* quote_mode 2 */
    int nl_mode;         /* 0 LF, 1 CRLF, 2 mixed */
    bool header;
    size_t ncols;
    struct colspec cols[MAX_COLS];
    struct gen_ctx g;
    double stray_quote_rate; /* a quote in the middle of an unquoted field */
    double pad_rate;         /* spaces around a value */
    double ragged_rate;      /* "many errors" files */
    double quoted_null_rate;
};

struct fileinfo {
    char path[512];
    size_t size;
    bool has_long;
    char desc[512];
    const char *extra[6]; /* extra options shared by a reference/pipeline pair */
    size_t n_extra;
    const char *dialect[5]; /* the generator's dialect, given explicitly (no sniffing) */
    size_t n_dialect;
    bool is_dir;            /* the whole directory (nothing to keep) */
};

static int cmp_ev(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

static void put_newline(struct buf *out, const struct filespec *fs)
{
    bool crlf = fs->nl_mode == 1 || (fs->nl_mode == 2 && chance(0.5));
    b_puts(out, crlf ? "\r\n" : "\n");
}

/* One field: quoted as the file's quoting says (always when it has to be and
 * quoting is on); without quoting, the characters that would need it are
 * replaced, except in "chaos" files (stray_quote_rate > 0). */
static void put_field(struct buf *out, const struct filespec *fs, struct buf *v, bool force_quote)
{
    bool need = false;
    for (size_t i = 0; i < v->n && !need; i++) {
        char c = v->p[i];
        need = c == fs->delim || c == '"' || c == '\n' || c == '\r';
    }
    bool quote = force_quote || fs->quote_mode == 3 || (need && fs->quote_mode != 0) ||
                 (fs->quote_mode == 2 && chance(fs->quote_rate));
    if (quote) {
        b_putc(out, '"');
        for (size_t i = 0; i < v->n; i++) {
            if (v->p[i] == '"')
                b_putc(out, '"');
            b_putc(out, v->p[i]);
        }
        b_putc(out, '"');
        return;
    }
    if (need && fs->stray_quote_rate == 0) {
        for (size_t i = 0; i < v->n; i++) {
            char c = v->p[i];
            if (c == fs->delim || c == '"' || c == '\n' || c == '\r')
                v->p[i] = '_';
        }
    }
    if (fs->stray_quote_rate > 0 && v->n && chance(fs->stray_quote_rate))
        b_insert(v, rnd_below(v->n + 1), "\"", 1);
    b_put(out, v->p, v->n);
}

static void gen_null(struct buf *v, const struct filespec *fs, bool *force_quote)
{
    static const char *const tokens[] = {"", "", "", "NA", "NULL", "null", "N/A", "\\N"};
    if (chance(fs->quoted_null_rate)) {
        *force_quote = true;
        if (chance(0.7))
            return; /* "" */
    }
    b_puts(v, PICK(tokens));
}

static void gen_long(struct buf *v, const struct filespec *fs)
{
    size_t len = (size_t)rnd_range(10 * 1024, 200 * 1024);
    bool wild = fs->quote_mode != 0 && chance(0.6);
    b_reserve(v, len + 16);
    while (v->n < len) {
        uint64_t r = rnd_below(100);
        if (wild && r == 0)
            b_putc(v, '\n');
        else if (wild && r == 1)
            b_putc(v, fs->delim);
        else if (wild && r == 2)
            b_puts(v, "\"\"");
        else if (wild && r == 3)
            b_puts(v, "\r\n");
        else if (r < 15)
            b_putc(v, ' ');
        else if (r == 99 && chance(0.3))
            b_puts(v, "é");
        else
            b_putc(v, (char)('a' + rnd_below(26)));
    }
}

static void gen_row(struct buf *out, const struct filespec *fs, uint64_t row, size_t nfields,
                    bool bad_utf8, bool nul, bool long_field, bool widen, struct buf *v)
{
    size_t special_col = rnd_below(nfields);
    for (size_t c = 0; c < nfields; c++) {
        if (c)
            b_putc(out, fs->delim);
        v->n = 0;
        bool force_quote = false;
        const struct colspec *cs = &fs->cols[c < fs->ncols ? c : fs->ncols - 1];
        bool special = c == special_col;
        if (special && long_field) {
            gen_long(v, fs);
        } else if (special && widen) {
            gen_value(v, (enum gen)rnd_below(G_MIXED), (int)rnd_below(64), &fs->g, false);
        } else if (cs->gen == G_NULLS || chance(cs->null_rate)) {
            gen_null(v, fs, &force_quote);
        } else if (cs->noise > 0 && chance(cs->noise)) {
            gen_value(v, (enum gen)rnd_below(G_MIXED), (int)rnd_below(64), &fs->g, false);
        } else {
            gen_value(v, cs->gen, cs->style, &fs->g, row < cs->resolve_row);
        }
        if (special && bad_utf8) {
            static const char *const bad[] = {"\xff", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80",
                                              "\xc0\xaf", "\xf8\x88\x80\x80\x80", "caf\xe9",
                                              "\x80", "\xf0\x9f\x98"};
            const char *s = PICK(bad);
            b_insert(v, rnd_below(v->n + 1), s, strlen(s));
        }
        if (special && nul)
            b_insert(v, rnd_below(v->n + 1), "\0", 1);
        if (!force_quote && v->n && fs->pad_rate > 0 && chance(fs->pad_rate)) {
            b_insert(v, 0, " ", 1);
            b_puts(v, chance(0.5) ? " " : "");
        }
        put_field(out, fs, v, force_quote);
    }
    put_newline(out, fs);
}

static void gen_header(struct buf *out, const struct filespec *fs, struct buf *v)
{
    static const char *const names[] = {
        "id",    "name", "amount", "price", "created_at", "date", "flag", "uuid",  "note",
        "city",  "value", "x",     "Größe", "",           " padded ", "name", "ID", "2024",
    };
    for (size_t c = 0; c < fs->ncols; c++) {
        if (c)
            b_putc(out, fs->delim);
        v->n = 0;
        if (chance(0.5))
            b_printf(v, "%s_%zu", GEN_NAMES[fs->cols[c].gen], c);
        else
            b_puts(v, PICK(names));
        put_field(out, fs, v, fs->quote_mode >= 2 && chance(0.3));
    }
    put_newline(out, fs);
}

static size_t pick_target_size(void)
{
    double r = rnd_unit();
    if (r < 0.50)
        return (size_t)rnd_range(1, 2048);
    if (r < 0.76)
        return (size_t)rnd_range(2048, 32 * 1024);
    if (r < 0.88)
        return (size_t)rnd_range(32 * 1024, 200 * 1024);
    return (size_t)rnd_range(200 * 1024, 2 * 1024 * 1024);
}

static void spec_columns(struct filespec *fs)
{
    fs->ncols = chance(0.08) ? 1 : (size_t)rnd_range(2, MAX_COLS);
    for (size_t c = 0; c < fs->ncols; c++) {
        struct colspec *cs = &fs->cols[c];
        cs->gen = (enum gen)rnd_below(G_COUNT);
        if (cs->gen == G_NULLS && chance(0.6))
            cs->gen = G_INT;
        cs->style = (int)rnd_below(64);
        double r = rnd_unit();
        cs->null_rate = r < 0.5 ? 0.0 : r < 0.8 ? 0.05 : r < 0.95 ? 0.3 : 0.9;
        cs->noise = chance(0.1) ? (chance(0.5) ? 0.001 : 0.02) : 0.0;
        cs->resolve_row = UINT64_MAX;
        if (cs->gen == G_DATE_AMBIG && chance(0.6))
            cs->resolve_row = rnd_below(chance(0.5) ? 50 : 20000);
    }
}

/* Write file number idx into dir; fill *fi. */
static void gen_file(const char *dir, uint64_t seed, unsigned idx, struct fileinfo *fi)
{
    rng_state = seed ^ (0x632be59bd9b4e019ull * (idx + 1));
    (void)rnd();
    memset(fi, 0, sizeof *fi);
    snprintf(fi->path, sizeof fi->path, "%s/f%04u.csv", dir, idx);
    struct buf out = {0}, v = {0};
    struct buf desc = {0};

    double kind = rnd_unit();
    if (kind < 0.02) { /* empty file */
        b_puts(&desc, "empty");
    } else if (kind < 0.03) { /* BOM only, or BOM + newline */
        b_puts(&out, chance(0.5) ? "\xEF\xBB\xBF" : "\xEF\xBB\xBF\n");
        b_puts(&desc, "bom-only");
    } else if (kind < 0.04) { /* blank lines only */
        int n = (int)rnd_range(1, 5);
        for (int i = 0; i < n; i++)
            b_puts(&out, chance(0.5) ? "\n" : "\r\n");
        b_puts(&desc, "blank-lines-only");
    } else {
        struct filespec fs;
        memset(&fs, 0, sizeof fs);
        fs.delim = PICK(((const char[]){',', ';', '\t', '|'}));
        fs.quote_mode = (int)rnd_below(4);
        fs.quote_rate = rnd_unit() * 0.6;
        fs.nl_mode = chance(0.05) ? 2 : chance(0.4) ? 1 : 0;
        fs.header = chance(0.55);
        spec_columns(&fs);
        fs.g.delim = fs.delim;
        fs.g.special_rate = fs.quote_mode ? (chance(0.5) ? 0.05 : 0.0) : 0.0;
        fs.stray_quote_rate = chance(0.03) ? 0.01 : 0.0;
        fs.pad_rate = chance(0.1) ? 0.05 : 0.0;
        fs.ragged_rate = chance(0.03) ? 0.08 : 0.0;
        fs.quoted_null_rate = chance(0.2) ? 0.3 : 0.0;
        bool header_only = chance(0.02);
        size_t target = header_only ? 0 : pick_target_size();
        size_t exact = 0;
        if (!header_only && chance(0.06)) {
            static const size_t sizes[] = {4095, 4096, 4097, 8191, 65535, 65536, 65537, 100003,
                                           262144, 1048575, 1048576, 1048577};
            exact = PICK(sizes);
            target = exact;
        }
        bool bom = chance(0.05);

        struct ev evs[16];
        size_t nev = 0;
#define ADD_EVENTS(p, lo, hi, k)                                                               \
    do {                                                                                       \
        if (target && chance(p)) {                                                             \
            int cnt = (int)rnd_range(lo, hi);                                                  \
            for (int e_ = 0; e_ < cnt && nev < NELEM(evs); e_++)                               \
                evs[nev++] = (struct ev){rnd_below(target), k};                                \
        }                                                                                      \
    } while (0)
        ADD_EVENTS(0.15, 1, 3, EV_RAGGED);
        ADD_EVENTS(0.12, 1, 3, EV_BLANK);
        ADD_EVENTS(0.06, 1, 2, EV_BADUTF8);
        ADD_EVENTS(0.05, 1, 1, EV_NUL);
        ADD_EVENTS(0.09, 1, 2, EV_LONG);
        ADD_EVENTS(0.30, 1, 3, EV_WIDEN);
#undef ADD_EVENTS
        qsort(evs, nev, sizeof *evs, cmp_ev);

        b_printf(&desc, "delim=%s quote_mode=%d nl=%s header=%d cols=%zu target=%zu",
                 fs.delim == '\t' ? "tab" : (char[]){fs.delim, 0}, fs.quote_mode,
                 fs.nl_mode == 0 ? "lf" : fs.nl_mode == 1 ? "crlf" : "mixed", fs.header, fs.ncols,
                 target);
        b_puts(&desc, " types=");
        for (size_t c = 0; c < fs.ncols; c++)
            b_printf(&desc, "%s%s", c ? "," : "", GEN_NAMES[fs.cols[c].gen]);
        static const char *const ev_names[] = {"ragged", "blank", "bad-utf8", "nul", "long", "widen"};
        for (size_t e = 0; e < nev; e++)
            b_printf(&desc, " %s@%zu", ev_names[evs[e].kind], evs[e].at);
        if (fs.stray_quote_rate > 0)
            b_puts(&desc, " stray-quotes");
        if (fs.ragged_rate > 0)
            b_puts(&desc, " many-ragged");
        if (bom)
            b_puts(&desc, " bom");

        if (bom)
            b_puts(&out, "\xEF\xBB\xBF");
        if (chance(0.02)) {
            put_newline(&out, &fs);
            b_puts(&desc, " leading-blank");
        }
        if (fs.header || header_only)
            gen_header(&out, &fs, &v);
        size_t next_ev = 0;
        uint64_t row = 0;
        bool pend_bad = false, pend_nul = false, pend_long = false, pend_widen = false;
        while (out.n < target) {
            while (next_ev < nev && evs[next_ev].at <= out.n) {
                switch (evs[next_ev].kind) {
                case EV_RAGGED: {
                    size_t nf = fs.ncols + (size_t)rnd_range(1, 3);
                    if (fs.ncols > 1 && chance(0.5))
                        nf = (size_t)rnd_range(1, (int64_t)fs.ncols - 1);
                    gen_row(&out, &fs, row++, nf, false, false, false, false, &v);
                    break;
                }
                case EV_BLANK: {
                    int n = (int)rnd_range(1, 3);
                    for (int i = 0; i < n; i++)
                        put_newline(&out, &fs);
                    break;
                }
                case EV_BADUTF8: pend_bad = true; break;
                case EV_NUL: pend_nul = true; break;
                case EV_LONG:
                    pend_long = true;
                    fi->has_long = true;
                    break;
                case EV_WIDEN: pend_widen = true; break;
                }
                next_ev++;
            }
            size_t nf = fs.ncols;
            if (fs.ragged_rate > 0 && chance(fs.ragged_rate))
                nf = fs.ncols + 1;
            gen_row(&out, &fs, row++, nf, pend_bad, pend_nul, pend_long, pend_widen, &v);
            pend_bad = pend_nul = pend_long = pend_widen = false;
        }
        if (exact) {
            if (out.n > exact)
                out.n = exact;
            b_printf(&desc, " exact=%zu", exact);
        } else {
            double end = rnd_unit();
            if (end < 0.15) {
                int n = (int)rnd_range(1, 3);
                for (int i = 0; i < n; i++)
                    put_newline(&out, &fs);
                b_puts(&desc, " trailing-blank");
            } else if (end < 0.45 && out.n > 0 && out.p[out.n - 1] == '\n') {
                out.n -= out.n > 1 && out.p[out.n - 2] == '\r' ? 2 : 1;
                b_puts(&desc, " no-final-newline");
            } else if (end < 0.50) {
                b_puts(&out, chance(0.5) ? "\"unterminated" : "1,\"open\nfield, still open");
                b_puts(&desc, " unterminated-quote");
            }
        }
        if (header_only)
            b_puts(&desc, " header-only");
        if (chance(0.5)) { /* a pair with the dialect given: isolates slicing from sniffing */
            static const char *const delim_args[] = {",", ";", "tab", "|"};
            fi->dialect[fi->n_dialect++] = "--delimiter";
            fi->dialect[fi->n_dialect++] =
                delim_args[fs.delim == ',' ? 0 : fs.delim == ';' ? 1 : fs.delim == '\t' ? 2 : 3];
            fi->dialect[fi->n_dialect++] = "--quote";
            fi->dialect[fi->n_dialect++] = "\"";
            fi->dialect[fi->n_dialect++] = fs.header || header_only ? "--header" : "--no-header";
        }
        if (chance(0.25)) { /* a pair with type options */
            static const char *const opts[][2] = {
                {"--threshold", "0.9"}, {"--threshold", "0.5"}, {"--dayfirst", NULL},
                {"--quoted-empty-is-text", NULL}, {"--no-trim", NULL}, {"--header", NULL},
                {"--no-header", NULL}, {"--quote", "none"}, {"--null", "NA"},
                {"--threshold", "0.99"},
            };
            int n = (int)rnd_range(1, 2);
            for (int i = 0; i < n; i++) {
                const char *const *o = opts[rnd_below(NELEM(opts))];
                fi->extra[fi->n_extra++] = o[0];
                if (o[1])
                    fi->extra[fi->n_extra++] = o[1];
            }
        }
    }
    FILE *f = fopen(fi->path, "wb");
    cr_assert_not_null(f, "cannot create %s: %s", fi->path, strerror(errno));
    cr_assert_eq(fwrite(out.p ? out.p : "", 1, out.n, f), out.n, "cannot write %s", fi->path);
    cr_assert_eq(fclose(f), 0, "cannot write %s", fi->path);
    fi->size = out.n;
    snprintf(fi->desc, sizeof fi->desc, "%s", desc.p ? desc.p : "");
    b_free(&out);
    b_free(&v);
    b_free(&desc);
}

/* ---- running the binary --------------------------------------------------- */

static char xdg_cache_env[600], xdg_state_env[600];
static char **child_env;

static void make_child_env(const char *dir)
{
    snprintf(xdg_cache_env, sizeof xdg_cache_env, "XDG_CACHE_HOME=%s/xdg-cache", dir);
    snprintf(xdg_state_env, sizeof xdg_state_env, "XDG_STATE_HOME=%s/xdg-state", dir);
    size_t n = 0;
    while (environ[n])
        n++;
    child_env = calloc(n + 3, sizeof *child_env);
    cr_assert_not_null(child_env, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "XDG_CACHE_HOME=", 15) == 0 ||
            strncmp(environ[i], "XDG_STATE_HOME=", 15) == 0 ||
            strncmp(environ[i], "CSVINFER_", 9) == 0)
            continue;
        child_env[k++] = environ[i];
    }
    child_env[k++] = xdg_cache_env;
    child_env[k++] = xdg_state_env;
    child_env[k] = NULL;
}

struct run_result {
    char *out; /* stdout (and stderr if asked), NUL-terminated; caller frees */
    size_t len;
    int status;    /* exit status; 128 + signal if killed */
    int signal;    /* 0 if it exited */
    bool timed_out;
    double seconds;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run `csvinfer ARGS...`: stdin /dev/null, stdout captured, stderr to
 * /dev/null (or captured with stdout when with_stderr). */
static void run_csvi(const char *const *args, size_t nargs, bool with_stderr,
                     struct run_result *r /* OUT */)
{
    const char *argv[MAX_ARGS + 2];
    cr_assert_leq(nargs, MAX_ARGS, "too many arguments");
    argv[0] = CSVI_BIN_PATH;
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = args[i];
    argv[nargs + 1] = NULL;

    memset(r, 0, sizeof *r);
    double t0 = now_seconds();
    int pfd[2];
    cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull < 0)
            _exit(126);
        dup2(devnull, STDIN_FILENO);
        if (dup2(pfd[1], STDOUT_FILENO) < 0)
            _exit(126);
        dup2(with_stderr ? pfd[1] : devnull, STDERR_FILENO);
        execve(CSVI_BIN_PATH, (char *const *)argv, child_env);
        _exit(127);
    }
    close(pfd[1]);

    size_t cap = 16384, n = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf, "out of memory");
    double deadline = t0 + RUN_TIMEOUT_MS / 1000.0;
    for (;;) {
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf, "out of memory");
        }
        double left = deadline - now_seconds();
        if (left <= 0) {
            kill(pid, SIGKILL);
            r->timed_out = true;
            break;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            continue; /* the deadline check above kills it */
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
    } else {
        r->signal = WIFSIGNALED(wst) ? WTERMSIG(wst) : -1;
        r->status = 128 + (r->signal > 0 ? r->signal : 0);
    }
    r->seconds = now_seconds() - t0;
}

/* ---- JSON ------------------------------------------------------------------ */

/* Drop "seconds" (summary and per file) and the per-file "cache" object. */
static void strip(json_t *doc)
{
    if (!json_is_object(doc))
        return;
    json_t *summary = json_object_get(doc, "summary");
    if (json_is_object(summary))
        json_object_del(summary, "seconds");
    size_t i;
    json_t *file;
    json_array_foreach(json_object_get(doc, "files"), i, file) {
        if (!json_is_object(file))
            continue;
        json_object_del(file, "seconds");
        json_object_del(file, "cache");
    }
}

static json_t *parse_json(const struct run_result *r, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(r->out, r->len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        snprintf(why, whylen, "line %d col %d: %s", jerr.line, jerr.column, jerr.text);
    else
        strip(doc);
    return doc;
}

static void dump_doc(const char *label, const json_t *doc, const struct run_result *r)
{
    if (doc) {
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        fprintf(stderr, "---- %s ----\n%s\n", label, s ? s : "(cannot dump)");
        free(s);
    } else {
        fprintf(stderr, "---- %s (not JSON; raw stdout, %zu bytes) ----\n%.*s\n", label, r->len,
                (int)(r->len > 8000 ? 8000 : r->len), r->out);
    }
}

/* Print the paths where a and b differ (at most *budget of them). */
static void print_diff(const json_t *a, const json_t *b, const char *path, int *budget)
{
    if (*budget <= 0 || json_equal(a, b))
        return;
    char sub[512];
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *va;
        json_object_foreach((json_t *)a, k, va) {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            json_t *vb = json_object_get(b, k);
            if (!vb) {
                if ((*budget)-- > 0)
                    fprintf(stderr, "  %s: only in the reference\n", sub);
            } else {
                print_diff(va, vb, sub, budget);
            }
        }
        json_object_foreach((json_t *)b, k, va) {
            if (!json_object_get(a, k) && (*budget)-- > 0)
                fprintf(stderr, "  %s.%s: only in the pipeline run\n", path, k);
        }
        return;
    }
    if (json_is_array(a) && json_is_array(b)) {
        size_t na = json_array_size(a), nb = json_array_size(b);
        if (na != nb && (*budget)-- > 0)
            fprintf(stderr, "  %s: %zu elements vs %zu\n", path, na, nb);
        for (size_t i = 0; i < na && i < nb; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            print_diff(json_array_get(a, i), json_array_get(b, i), sub, budget);
        }
        return;
    }
    char *sa = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
    char *sb = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
    (*budget)--;
    fprintf(stderr, "  %s: %.300s (reference) vs %.300s (pipeline)\n", path, sa ? sa : "?",
            sb ? sb : "?");
    free(sa);
    free(sb);
}

/* ---- the differential run ---------------------------------------------------- */

struct stats {
    size_t files, bytes, runs, pairs, mismatches, bad_refs, kept;
    size_t by_chunk[N_CHUNK_SIZES], by_backend[2], by_threads[5];
    size_t max_record_pairs, max_record_too_long, extra_pairs, dialect_pairs, dir_pairs;
    size_t kinds_seen[16];
    size_t types_seen[16];
    size_t bom, crlf, header, delims[4];
};

static const char *const KIND_NAMES[] = {"ragged_row", "unterminated_quote", "invalid_utf8",
                                         "nul_byte", "record_too_long", "blank_line"};
static const char *const TYPE_NAMES[] = {"null", "boolean", "integer", "decimal", "double",
                                         "date", "timestamp", "timestamptz", "time", "uuid",
                                         "text"};

static void count_coverage(struct stats *st, const json_t *doc)
{
    const json_t *file = json_array_get(json_object_get(doc, "files"), 0);
    if (!file)
        return;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(file, "errors"), i, x) {
        const char *k = json_string_value(json_object_get(x, "kind"));
        for (size_t j = 0; k && j < NELEM(KIND_NAMES); j++)
            if (strcmp(k, KIND_NAMES[j]) == 0)
                st->kinds_seen[j]++;
    }
    json_array_foreach(json_object_get(file, "columns"), i, x) {
        const char *t = json_string_value(json_object_get(x, "type"));
        for (size_t j = 0; t && j < NELEM(TYPE_NAMES); j++)
            if (strcmp(t, TYPE_NAMES[j]) == 0)
                st->types_seen[j]++;
    }
    const json_t *d = json_object_get(file, "dialect");
    if (json_is_object(d)) {
        st->bom += json_is_true(json_object_get(d, "bom"));
        st->header += json_is_true(json_object_get(d, "header"));
        const char *nl = json_string_value(json_object_get(d, "newline"));
        st->crlf += nl && strcmp(nl, "\r\n") == 0;
        const char *dl = json_string_value(json_object_get(d, "delimiter"));
        static const char ds[] = ",;\t|";
        for (int j = 0; dl && j < 4; j++)
            st->delims[j] += dl[0] == ds[j] && dl[1] == 0;
    }
}

static void join_args(char *dst, size_t cap, const char *const *args, size_t n)
{
    size_t k = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(dst + k, cap - k, "%s%s", i ? " " : "", args[i]);
}

/* Copy the CSV to /tmp/csvi-diff-fail-N.csv (once per file); returns N. */
static size_t keep_csv(struct stats *st, const struct fileinfo *fi, size_t *kept_as)
{
    if (*kept_as || fi->is_dir)
        return *kept_as;
    size_t n = ++st->kept;
    char dst[128];
    snprintf(dst, sizeof dst, "/tmp/csvi-diff-fail-%zu.csv", n);
    FILE *in = fopen(fi->path, "rb"), *out = fopen(dst, "wb");
    if (in && out) {
        char b[65536];
        size_t got;
        while ((got = fread(b, 1, sizeof b, in)) > 0)
            fwrite(b, 1, got, out);
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    fprintf(stderr, "  kept as %s\n", dst);
    *kept_as = n;
    return n;
}

struct ref {
    struct run_result r;
    json_t *doc;
    char args[1024];
};

/* Run the reference for args (which end with the file path). */
static bool run_ref(struct stats *st, const struct fileinfo *fi, const char *const *args,
                    size_t n, struct ref *ref, size_t *kept_as)
{
    run_csvi(args, n, false, &ref->r);
    st->runs++;
    join_args(ref->args, sizeof ref->args, args, n);
    char why[256] = "";
    ref->doc = ref->r.timed_out || ref->r.signal ? NULL : parse_json(&ref->r, why, sizeof why);
    if (!ref->doc) {
        st->bad_refs++;
        fprintf(stderr, "==== reference run failed: %s ====\n  file: %s (%zu bytes; %s)\n  "
                        "status %d%s; %s\n",
                ref->args, fi->path, fi->size, fi->desc, ref->r.status,
                ref->r.timed_out ? " (timed out)" : "", why);
        dump_doc("reference", NULL, &ref->r);
        keep_csv(st, fi, kept_as);
        cr_expect(false, "reference run `%s` gave no JSON (status %d)", ref->args, ref->r.status);
        return false;
    }
    return true;
}

/* Run one pipeline variant and compare it with the reference. */
static void run_variant(struct stats *st, const struct fileinfo *fi, const struct ref *ref,
                        const char *const *args, size_t n, size_t *kept_as)
{
    struct run_result r;
    run_csvi(args, n, false, &r);
    st->runs++;
    st->pairs++;
    char why[256] = "";
    json_t *doc = r.timed_out || r.signal ? NULL : parse_json(&r, why, sizeof why);
    bool same = doc && json_equal(doc, ref->doc) && r.status == ref->r.status;
    if (!same) {
        st->mismatches++;
        char a[1024];
        join_args(a, sizeof a, args, n);
        fprintf(stderr, "==== MISMATCH #%zu ====\n  file: %s (%zu bytes; %s)\n"
                        "  reference: %s  -> status %d\n  pipeline:  %s  -> status %d%s%s%s\n",
                st->mismatches, fi->path, fi->size, fi->desc, ref->args, ref->r.status, a,
                r.status, r.timed_out ? " (TIMED OUT)" : "",
                r.signal ? " (killed by a signal)" : "", doc ? "" : " (no JSON)");
        if (!doc && !r.timed_out && !r.signal)
            fprintf(stderr, "  pipeline output is not JSON: %s\n", why);
        if (doc) {
            int budget = 40;
            fprintf(stderr, "  differences:\n");
            print_diff(ref->doc, doc, "", &budget);
        }
        keep_csv(st, fi, kept_as);
        dump_doc("reference", ref->doc, &ref->r);
        dump_doc("pipeline", doc, &r);
        cr_expect(false, "%s: `%s` differs from `%s` (kept as /tmp/csvi-diff-fail-%zu.csv)",
                  fi->path, a, ref->args, *kept_as);
    }
    json_decref(doc);
    free(r.out);
}

struct combo {
    unsigned threads;
    size_t chunk; /* index into CHUNK_SIZES */
    int backend;
};

static bool chunk_allowed(size_t idx, size_t file_size)
{
    return file_size / CHUNK_SIZES[idx] <= MAX_CHUNKS_PER_RUN;
}

static struct combo pick_combo(size_t file_size, bool uring_ok, const struct combo *avoid,
                               size_t n_avoid)
{
    struct combo c = {2, 0, 0};
    for (int attempt = 0; attempt < 20; attempt++) {
        c.threads = 2 + (unsigned)pick_below(3);
        do
            c.chunk = pick_below(N_CHUNK_SIZES);
        while (!chunk_allowed(c.chunk, file_size));
        c.backend = uring_ok ? (int)pick_below(2) : 0;
        bool dup = false;
        for (size_t i = 0; i < n_avoid; i++)
            dup |= avoid[i].threads == c.threads && avoid[i].chunk == c.chunk &&
                   avoid[i].backend == c.backend;
        if (!dup)
            break;
    }
    return c;
}

/* Common arguments, then the variant's, then extra, then the path. */
static size_t build_args(const char **args, const struct combo *c, bool sequential,
                         const char *const *extra, size_t n_extra, const char *path)
{
    size_t n = 0;
    args[n++] = "--format";
    args[n++] = "json";
    args[n++] = "--no-cache";
    args[n++] = "--no-ledger";
    args[n++] = "--threads";
    if (sequential) {
        args[n++] = "1";
    } else {
        args[n++] = THREAD_ARGS[c->threads];
        args[n++] = "--chunk-size";
        args[n++] = CHUNK_ARGS[c->chunk];
        args[n++] = "--io";
        args[n++] = BACKENDS[c->backend];
    }
    for (size_t i = 0; i < n_extra; i++)
        args[n++] = extra[i];
    args[n++] = path;
    return n;
}

static void count_combo(struct stats *st, const struct combo *c)
{
    st->by_chunk[c->chunk]++;
    st->by_backend[c->backend]++;
    st->by_threads[c->threads]++;
}

/* One reference/pipeline pair set for a file. */
static void check_file(struct stats *st, const struct fileinfo *fi, bool uring_ok,
                       size_t *kept_as_p)
{
    size_t kept_as = *kept_as_p;
    const char *args[MAX_ARGS];
    struct ref ref;
    size_t n = build_args(args, NULL, true, NULL, 0, fi->path);
    if (run_ref(st, fi, args, n, &ref, &kept_as)) {
        count_coverage(st, ref.doc);
        struct combo used[COMBOS_PER_FILE];
        for (size_t k = 0; k < COMBOS_PER_FILE; k++) {
            used[k] = pick_combo(fi->size, uring_ok, used, k);
            count_combo(st, &used[k]);
            n = build_args(args, &used[k], false, NULL, 0, fi->path);
            run_variant(st, fi, &ref, args, n, &kept_as);
        }
    }
    json_decref(ref.doc);
    free(ref.r.out);

    if (fi->has_long) { /* record_too_long must agree */
        static const char *const mr[] = {"--max-record", MAX_RECORD_ARG};
        n = build_args(args, NULL, true, mr, 2, fi->path);
        if (run_ref(st, fi, args, n, &ref, &kept_as)) {
            const json_t *file = json_array_get(json_object_get(ref.doc, "files"), 0);
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(file, "errors"), i, e) {
                const char *k = json_string_value(json_object_get(e, "kind"));
                if (k && strcmp(k, "record_too_long") == 0) {
                    st->max_record_too_long++;
                    break;
                }
            }
            struct combo c = pick_combo(fi->size, uring_ok, NULL, 0);
            count_combo(st, &c);
            n = build_args(args, &c, false, mr, 2, fi->path);
            run_variant(st, fi, &ref, args, n, &kept_as);
            st->max_record_pairs++;
        }
        json_decref(ref.doc);
        free(ref.r.out);
    }

    /* the same comparison with the dialect given, then under other type options */
    for (int pass = 0; pass < 2; pass++) {
        const char *const *extra = pass ? fi->extra : fi->dialect;
        size_t n_extra = pass ? fi->n_extra : fi->n_dialect;
        if (!n_extra)
            continue;
        n = build_args(args, NULL, true, extra, n_extra, fi->path);
        if (run_ref(st, fi, args, n, &ref, &kept_as)) {
            struct combo c = pick_combo(fi->size, uring_ok, NULL, 0);
            count_combo(st, &c);
            n = build_args(args, &c, false, extra, n_extra, fi->path);
            run_variant(st, fi, &ref, args, n, &kept_as);
            if (pass)
                st->extra_pairs++;
            else
                st->dialect_pairs++;
        }
        json_decref(ref.doc);
        free(ref.r.out);
    }
    *kept_as_p = kept_as;
}

/* The number of the generated file behind a path ("/.../f0042.csv"), or -1. */
static long file_number(const char *path)
{
    const char *b = path ? strrchr(path, '/') : NULL;
    unsigned n;
    return b && sscanf(b, "/f%u.csv", &n) == 1 ? (long)n : -1;
}

/* All files in one run: the directory walk, several files per run, small
 * files read together.  Compared file entry by file entry, then the summary. */
static void check_directory(struct stats *st, const char *dir, const struct fileinfo *fis,
                            size_t *kept, unsigned nfiles, size_t total, bool uring_ok)
{
    struct fileinfo dfi;
    memset(&dfi, 0, sizeof dfi);
    snprintf(dfi.path, sizeof dfi.path, "%s", dir);
    snprintf(dfi.desc, sizeof dfi.desc, "directory of %u files", nfiles);
    dfi.size = total;
    dfi.is_dir = true;
    const char *args[MAX_ARGS];
    struct ref ref;
    size_t dummy = 0;
    size_t n = build_args(args, NULL, true, NULL, 0, dir);
    if (!run_ref(st, &dfi, args, n, &ref, &dummy)) {
        free(ref.r.out);
        return;
    }
    json_t *ref_files = json_object_get(ref.doc, "files");
    cr_expect_eq(json_array_size(ref_files), nfiles, "the walk of %s found %zu files, not %u", dir,
                 json_array_size(ref_files), nfiles);
    struct combo used[DIR_COMBOS];
    for (size_t k = 0; k < DIR_COMBOS; k++) {
        used[k] = pick_combo(total, uring_ok, used, k);
        /* one run where most files are one slice (read in batches), one where
         * many are cut into slices, one at random */
        if (k < 2) {
            static const size_t big[] = {14, 15}, mid[] = {10, 11, 12}; /* 1M 16M; 4096 8191 65536 */
            used[k].chunk = k == 0 ? big[pick_below(2)] : mid[pick_below(3)];
            if (!chunk_allowed(used[k].chunk, total))
                used[k].chunk = 15;
        }
        count_combo(st, &used[k]);
        n = build_args(args, &used[k], false, NULL, 0, dir);
        char a[1024];
        join_args(a, sizeof a, args, n);
        fprintf(stderr, "directory run: %s\n", a);
        struct run_result r;
        run_csvi(args, n, false, &r);
        st->runs++;
        st->pairs++;
        st->dir_pairs++;
        char why[256] = "";
        json_t *doc = r.timed_out || r.signal ? NULL : parse_json(&r, why, sizeof why);
        if (doc && json_equal(doc, ref.doc) && r.status == ref.r.status) {
            json_decref(doc);
            free(r.out);
            continue;
        }
        st->mismatches++;
        fprintf(stderr, "==== MISMATCH #%zu (directory run) ====\n  reference: %s  -> status %d\n"
                        "  pipeline:  %s  -> status %d%s%s%s\n",
                st->mismatches, ref.args, ref.r.status, a, r.status,
                r.timed_out ? " (TIMED OUT)" : "", r.signal ? " (killed by a signal)" : "",
                doc ? "" : " (no JSON)");
        size_t differing = 0;
        if (doc) {
            json_t *files = json_object_get(doc, "files");
            if (json_array_size(files) != json_array_size(ref_files))
                fprintf(stderr, "  %zu file entries vs %zu\n", json_array_size(ref_files),
                        json_array_size(files));
            for (size_t i = 0; i < json_array_size(files) && i < json_array_size(ref_files); i++) {
                json_t *fa = json_array_get(ref_files, i), *fb = json_array_get(files, i);
                if (json_equal(fa, fb))
                    continue;
                if (differing++ >= DIR_REPORT_FILES)
                    continue;
                const char *path = json_string_value(json_object_get(fa, "path"));
                long num = file_number(path);
                const struct fileinfo *fi = num >= 0 && num < (long)nfiles ? &fis[num] : NULL;
                fprintf(stderr, "  -- file entry %zu: %s (%s)\n", i, path ? path : "?",
                        fi ? fi->desc : "?");
                int budget = 20;
                print_diff(fa, fb, "", &budget);
                if (fi)
                    keep_csv(st, fi, &kept[num]);
                dump_doc("reference entry", fa, NULL);
                dump_doc("pipeline entry", fb, NULL);
            }
            if (differing > DIR_REPORT_FILES)
                fprintf(stderr, "  ... and %zu more differing file entries\n",
                        differing - DIR_REPORT_FILES);
            int budget = 10;
            print_diff(json_object_get(ref.doc, "summary"), json_object_get(doc, "summary"),
                       ".summary", &budget);
        } else {
            dump_doc("pipeline", NULL, &r);
        }
        cr_expect(false, "directory run `%s` differs from `%s` (%zu file entries differ)", a,
                  ref.args, differing);
        json_decref(doc);
        free(r.out);
    }
    json_decref(ref.doc);
    free(ref.r.out);
}

/* Can this machine use --io uring?  False (with a note) if csvinfer exits 2
 * saying io_uring is not available. */
static bool probe_uring(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/probe.csv", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs("a,b\n1,2\n3,4\n", f);
    fclose(f);
    const char *args[] = {"--format", "json", "--threads", "2", "--io", "uring", path};
    struct run_result r;
    run_csvi(args, NELEM(args), true, &r);
    bool ok = r.status == 0;
    if (r.status == 2 && strstr(r.out, "io_uring is not available")) {
        fprintf(stderr, "note: io_uring is not available here (csvinfer --io uring exits 2); "
                        "the uring runs are skipped, pread only\n");
    } else if (!ok) {
        cr_expect(false, "`csvinfer --threads 2 --io uring` on a tiny file: status %d: %.2000s",
                  r.status, r.out);
    }
    free(r.out);
    remove(path);
    return ok;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

Test(pipeline, differential_against_sequential, .timeout = 900)
{
    double t0 = now_seconds();
    const char *s = getenv("CSVI_PIPELINE_SEED");
    uint64_t seed = s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
    s = getenv("CSVI_PIPELINE_FILES");
    unsigned nfiles = s && *s ? (unsigned)strtoul(s, NULL, 0) : DEFAULT_FILES;
    pick_state = ~seed;

    char tmpl[] = "/tmp/csvi-pipeline-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp: %s", strerror(errno));
    make_child_env(dir);
    fprintf(stderr, "pipeline differential: seed 0x%016" PRIx64 ", %u files in %s\n", seed,
            nfiles, dir);

    const char *keep = getenv("CSVI_PIPELINE_KEEP");
    bool keep_dir = keep && *keep == '1';
    bool uring_ok = probe_uring(dir);
    struct stats st;
    memset(&st, 0, sizeof st);
    struct fileinfo *fis = calloc(nfiles ? nfiles : 1, sizeof *fis);
    size_t *kept = calloc(nfiles ? nfiles : 1, sizeof *kept);
    cr_assert(fis && kept, "out of memory");
    for (unsigned i = 0; i < nfiles; i++) {
        gen_file(dir, seed, i, &fis[i]);
        st.files++;
        st.bytes += fis[i].size;
        check_file(&st, &fis[i], uring_ok, &kept[i]);
    }
    check_directory(&st, dir, fis, kept, nfiles, st.bytes, uring_ok);
    if (!keep_dir)
        for (unsigned i = 0; i < nfiles; i++)
            remove(fis[i].path);
    free(fis);
    free(kept);

    fprintf(stderr,
            "pipeline differential: %zu files, %.1f MB, %zu runs, %zu comparisons "
            "(%zu with --max-record " MAX_RECORD_ARG ", %zu with the dialect given, %zu with type "
            "options, %zu of the whole directory), %zu mismatches, "
            "%zu bad references, %.1f s\n",
            st.files, (double)st.bytes / 1e6, st.runs, st.pairs, st.max_record_pairs,
            st.dialect_pairs, st.extra_pairs, st.dir_pairs, st.mismatches, st.bad_refs, now_seconds() - t0);
    fprintf(stderr, "  chunk sizes:");
    for (size_t i = 0; i < N_CHUNK_SIZES; i++)
        fprintf(stderr, " %s:%zu", CHUNK_ARGS[i], st.by_chunk[i]);
    fprintf(stderr, "\n  backends: pread:%zu uring:%zu; threads: 2:%zu 3:%zu 4:%zu\n",
            st.by_backend[0], st.by_backend[1], st.by_threads[2], st.by_threads[3],
            st.by_threads[4]);
    fprintf(stderr, "  reference coverage: errors");
    for (size_t i = 0; i < NELEM(KIND_NAMES); i++)
        fprintf(stderr, " %s:%zu", KIND_NAMES[i], st.kinds_seen[i]);
    fprintf(stderr, " (record_too_long with --max-record: %zu of %zu files)\n    types",
            st.max_record_too_long, st.max_record_pairs);
    for (size_t i = 0; i < NELEM(TYPE_NAMES); i++)
        fprintf(stderr, " %s:%zu", TYPE_NAMES[i], st.types_seen[i]);
    fprintf(stderr, "\n    dialects: bom:%zu crlf:%zu header:%zu  ',':%zu ';':%zu tab:%zu '|':%zu\n",
            st.bom, st.crlf, st.header, st.delims[0], st.delims[1], st.delims[2], st.delims[3]);

    /* The run must have exercised what it claims to test. */
    if (nfiles >= 300) {
        for (size_t i = 0; i < N_CHUNK_SIZES; i++)
            cr_expect_geq(st.by_chunk[i], 20, "chunk size %s used only %zu times", CHUNK_ARGS[i],
                          st.by_chunk[i]);
        cr_expect_geq(st.by_backend[0], 100, "pread used only %zu times", st.by_backend[0]);
        if (uring_ok)
            cr_expect_geq(st.by_backend[1], 100, "uring used only %zu times", st.by_backend[1]);
        for (size_t i = 0; i < NELEM(KIND_NAMES); i++)
            if (strcmp(KIND_NAMES[i], "record_too_long") != 0)
                cr_expect_gt(st.kinds_seen[i], 0, "no reference run reported %s", KIND_NAMES[i]);
        cr_expect_gt(st.max_record_too_long, 0, "no --max-record " MAX_RECORD_ARG " run "
                                                "reported record_too_long");
    }
    cr_expect_eq(st.mismatches, 0, "%zu pipeline runs differ from the sequential engine "
                                   "(kept CSVs: /tmp/csvi-diff-fail-1..%zu.csv)",
                 st.mismatches, st.kept);

    if (!keep_dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(child_env);
    child_env = NULL;
}
