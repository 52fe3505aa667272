/*
 * plan.c — what a file's slices share, fixed from its first bytes before any
 * slice is inferred: the dialect (sniffed or given), whether the first record
 * is a header, the number of columns and their names.
 *
 * Names: the header's values trimmed; a missing one becomes column_N (its
 * 1-based position), a repeated one name_2, name_3 ...  Checked against the
 * names before it through a hash set, so 100,000 columns cost 100,000
 * look-ups, not 5 billion comparisons.
 *
 * The sniffer's sample is the first CSVI_SNIFF_BYTES of the file, extended to
 * the end of its third line when those bytes hold fewer than three (a file of
 * 100,000 columns has a header line of ~1 MB: without it the sniffer sees no
 * whole record and cannot find the header), and on to the end of a record
 * quoted with '"' that it ends inside (a multi-line text of megabytes in the
 * first rows: the same).  It depends only on the file's
 * bytes and --max-record, so every path (sequential, pipeline, any chunk size)
 * sniffs the same sample.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_SNIFF_LINES 3                    /* line ends the sample should hold */
#define PLAN_SNIFF_MAX (16u * 1024u * 1024u) /* how far it is extended for them */

/* ---- a set of the names given so far (open addressing, indexes) ---------- */

struct name_set {
    size_t *slot; /* [mask + 1], index + 1 into names, 0: empty */
    size_t mask;
    char *const *names;
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211u;
    return h;
}

static int name_set_init(struct name_set *ns, char *const *names, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    ns->slot = calloc(cap, sizeof *ns->slot);
    ns->mask = cap - 1;
    ns->names = names;
    return ns->slot ? 0 : -ENOMEM;
}

static bool name_set_has(const struct name_set *ns, const char *s)
{
    for (size_t i = name_hash(s) & ns->mask; ns->slot[i]; i = (i + 1) & ns->mask)
        if (strcmp(ns->names[ns->slot[i] - 1], s) == 0)
            return true;
    return false;
}

/* Add names[idx] (not in the set yet; the set holds at most half its slots). */
static void name_set_add(struct name_set *ns, size_t idx)
{
    size_t i = name_hash(ns->names[idx]) & ns->mask;
    while (ns->slot[i])
        i = (i + 1) & ns->mask;
    ns->slot[i] = idx + 1;
}

struct first_record {
    const struct file_plan *plan;
    char **names;
    size_t ncols, too_wide;
    size_t bytes; /* the record's, from its first field's start to its last's end */
    uint64_t line;
    bool found, nomem;
    uint8_t *scratch;
};

static char *make_name(const uint8_t *v, size_t len, size_t pos)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    char tmp[32];
    if (len == 0) {
        len = (size_t)snprintf(tmp, sizeof tmp, "column_%zu", pos + 1);
        v = (const uint8_t *)tmp;
    }
    char *s = malloc(3 * len + 24); /* a NUL may take 3 bytes; room for a _N suffix */
    if (s) { /* a NUL byte would end the name: U+FFFD, as JSON shows bytes it cannot */
        size_t k = 0;
        for (size_t i = 0; i < len; i++) {
            if (v[i]) {
                s[k++] = (char)v[i];
            } else {
                memcpy(s + k, "\xEF\xBF\xBD", 3);
                k += 3;
            }
        }
        s[k] = '\0';
    }
    return s;
}

static bool first_record_cb(void *ctx, const uint8_t *buf, const struct scan_field *f,
                            size_t nf, uint64_t line)
{
    struct first_record *fr = ctx;
    if (nf == 1 && f[0].start == f[0].end)
        return true; /* blank line */
    fr->found = true;
    fr->line = line;
    fr->bytes = f[nf - 1].end - f[0].start;
    if (nf > CSVI_MAX_COLUMNS) { /* no names: the file is not read */
        fr->too_wide = nf;
        return false;
    }
    fr->ncols = nf;
    fr->names = calloc(nf, sizeof *fr->names);
    struct name_set ns;
    if (!fr->names || name_set_init(&ns, fr->names, nf)) {
        fr->nomem = true;
        return false;
    }
    /* scratch for unquoting: no field is longer than the record */
    if (fr->plan->header && !(fr->scratch = malloc(f[nf - 1].end - f[0].start + 1))) {
        free(ns.slot);
        fr->nomem = true;
        return false;
    }
    for (size_t i = 0; i < nf; i++) {
        size_t len = 0;
        const uint8_t *v = NULL;
        if (fr->plan->header) {
            bool quoted;
            v = field_content(buf, &f[i], fr->plan->quote, fr->scratch, &len, &quoted);
        }
        char *s = make_name(v, len, i);
        if (!s) {
            fr->nomem = true;
            break;
        }
        size_t base = strlen(s);
        for (unsigned k = 2; name_set_has(&ns, s); k++) /* distinct from every name before it */
            snprintf(s + base, 24, "_%u", k);
        fr->names[i] = s;
        name_set_add(&ns, i);
    }
    free(ns.slot);
    return false;
}

/* Bytes of buf[0, len) the sniffer reads: CSVI_SNIFF_BYTES, or up to the end
 * of line PLAN_SNIFF_LINES when those hold fewer line ends, then to the end of
 * the '"'-quoted record it ends inside, if it does (at most
 * PLAN_SNIFF_MAX, or --max-record if that is less: the callers stop reading
 * there).  *more: the wanted bytes are not all in buf yet, or buf holds no
 * line end (and !eof): read more before sniffing. */
static size_t sniff_sample_len(const uint8_t *buf, size_t len, bool eof, size_t max_record,
                               bool *more)
{
    size_t limit = max_record < PLAN_SNIFF_MAX ? max_record : PLAN_SNIFF_MAX;
    if (limit < CSVI_SNIFF_BYTES)
        limit = CSVI_SNIFF_BYTES;
    size_t want = limit, pos = 0, end = len < limit ? len : limit;
    for (unsigned k = 0; k < PLAN_SNIFF_LINES; k++) {
        const uint8_t *nl = pos < end ? memchr(buf + pos, '\n', end - pos) : NULL;
        if (!nl)
            break; /* fewer line ends than that before the limit: sniff up to it */
        pos = (size_t)(nl - buf) + 1;
        if (k + 1 == PLAN_SNIFF_LINES)
            want = pos < CSVI_SNIFF_BYTES ? CSVI_SNIFF_BYTES : pos;
    }
    /* A sample that ends inside a field quoted with '"' (an odd count of
     * them before its end) runs on to that record's end: a quoted text of
     * many lines or longer than CSVI_SNIFF_BYTES in the first records would
     * otherwise leave the sniffer no whole record after the header to tell
     * a header by.  ('"' only: the quote is what is being sniffed, and
     * RFC 4180's is the one long multi-line fields come in.) */
    if (want <= len) {
        uint64_t quotes, nls;
        split_count(buf, want, '"', &quotes, &nls);
        if (quotes & 1u) {
            size_t stop = len < limit ? len : limit;
            size_t r = want < stop ? split_next_record(buf + want, stop - want, '"', true) : SIZE_MAX;
            if (r != SIZE_MAX) {
                want += r;
            } else if (!eof && len < limit) {
                *more = true; /* that record's end is not read yet */
                return len;
            } else {
                want = stop; /* longer than the limit, or the input's end */
            }
        }
    }
    /* no line end at all: the first record is not whole yet, and sniffing
     * again each time the caller reads more would cost more than memchr */
    *more = !eof && (len < want || (pos == 0 && !memchr(buf + end, '\n', len - end)));
    return len < want ? len : want;
}

/* Does the file start as UTF-16 or UTF-32 text does?  Its look, or NULL.
 * A byte order mark says so; without one, text that is mostly ASCII has a
 * NUL in every other byte of its first 512 (Excel's "Unicode Text" export is
 * UTF-16LE with a mark). */
static const struct wide_encoding *detect_wide(const uint8_t *p, size_t n)
{
    static const struct {
        const char *bom;
        size_t len;
        struct wide_encoding w;
    } marks[] = {
        {"\xFF\xFE\0\0", 4, {"UTF-32LE", "it starts with the byte order mark FF FE 00 00", "UTF-32"}},
        {"\0\0\xFE\xFF", 4, {"UTF-32BE", "it starts with the byte order mark 00 00 FE FF", "UTF-32"}},
        {"\xFF\xFE", 2, {"UTF-16LE", "it starts with the byte order mark FF FE", "UTF-16"}},
        {"\xFE\xFF", 2, {"UTF-16BE", "it starts with the byte order mark FE FF", "UTF-16"}},
    };
    static const struct wide_encoding le = {"UTF-16LE", "every other byte of its start is NUL",
                                            "UTF-16LE"},
                                      be = {"UTF-16BE", "every other byte of its start is NUL",
                                            "UTF-16BE"};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
        if (n >= marks[i].len && !memcmp(p, marks[i].bom, marks[i].len))
            return &marks[i].w;
    size_t m = (n < 512 ? n : 512) & ~(size_t)1, pairs = m / 2, even = 0, odd = 0;
    if (pairs < 4)
        return NULL;
    for (size_t i = 0; i < m; i += 2) {
        even += p[i] == 0;
        odd += p[i + 1] == 0;
    }
    if (odd * 10 >= pairs * 9 && even * 10 <= pairs)
        return &le;
    if (even * 10 >= pairs * 9 && odd * 10 <= pairs)
        return &be;
    return NULL;
}

/* Do the lines end with a lone CR (classic Mac OS, Excel for Mac's "CSV
 * (Macintosh)")?  Read as LF/CRLF CSV — where a lone CR is data — such a
 * file is one record of all its lines: a small one got a verdict of one row
 * of text with exit 0, a large one a record_too_long at 64 MiB.
 *
 * In the first CSVI_SNIFF_BYTES (or all of a shorter input), outside quoted
 * fields: no LF without a CR before it, and more lone CRs (with more after
 * them) than CRLFs (Excel puts an LF in a cell that holds a line break, but
 * inside quotes; a last line may end in CRLF).  A field is quoted when its first byte is the quote; the
 * delimiter is not known yet, so a field starts after ',' ';' '\t' '|' (or
 * --delimiter), a CR or an LF: a quote inside a field (`screen size (")`)
 * is data.  A NUL byte says binary, not CSV: not this.  quote: the --quote
 * byte (0: none), or '"'. */
static bool cr_line_ends(const uint8_t *p, size_t n, bool eof, int quote, int delim)
{
    if (!eof && n < CSVI_SNIFF_BYTES)
        return false; /* not enough to tell yet (the sample is asked for anyway) */
    size_t m = n < CSVI_SNIFF_BYTES ? n : CSVI_SNIFF_BYTES, lone_crs = 0, crlfs = 0;
    bool inq = false, field_start = true;
    for (size_t i = 0; i < m; i++) {
        uint8_t c = p[i];
        if (c == 0)
            return false;
        if (inq) {
            if (c == (uint8_t)quote) {
                if (i + 1 < m && p[i + 1] == (uint8_t)quote)
                    i++; /* "" inside quotes */
                else
                    inq = false;
            }
            continue;
        }
        if (quote && c == (uint8_t)quote && field_start) {
            inq = true;
            field_start = false;
            continue;
        }
        if (c == '\n' && (i == 0 || p[i - 1] != '\r'))
            return false; /* an LF line end */
        crlfs += c == '\n';
        lone_crs += c == '\r' && i + 1 < m && p[i + 1] != '\n';
        field_start = c == '\r' || c == '\n' ||
                      (delim != CSVI_AUTO ? c == (uint8_t)delim
                                          : c == ',' || c == ';' || c == '\t' || c == '|');
    }
    return lone_crs > crlfs;
}

int file_plan_init(struct file_plan *plan, const struct engine_cfg *cfg, const uint8_t *buf,
                   size_t len, bool eof, struct csvi_file_result *res)
{
    file_plan_free(plan);
    memset(plan, 0, sizeof *plan);
    plan->cfg = cfg;
    plan->wide = detect_wide(buf, len);
    if (!plan->wide && cr_line_ends(buf, len, eof, cfg->opt.quote == CSVI_AUTO ? '"' : cfg->opt.quote,
                                    cfg->opt.delimiter)) {
        plan->cr_only = plan->refused = true;
        result_add_error(res, 1, CSVI_EK_CR_LINE_ENDS,
                         "its lines end with a lone CR (classic Mac OS line ends, as Excel for "
                         "Mac's \"CSV (Macintosh)\" writes); csvinfer reads LF or CRLF line ends, "
                         "where a lone CR is data, so the file is not read: convert it first, "
                         "e.g. %s",
                         !res->compression ? "tr '\\r' '\\n' < FILE > FILE.lf.csv"
                         : !strcmp(res->compression, "zstd")
                             ? "zstd -dc FILE | tr '\\r' '\\n' > FILE.lf.csv"
                             : "gzip -dc FILE | tr '\\r' '\\n' > FILE.lf.csv");
        return 0;
    }
    struct sniff_result sn;
    bool more;
    size_t sample = sniff_sample_len(buf, len, eof, cfg->opt.max_record, &more);
    if (more)
        return 1;
    if (sniff_dialect(buf, sample, eof && sample == len, &cfg->opt, &cfg->ccfg, &sn))
        return -ENOMEM;
    plan->delim = sn.delim;
    plan->quote = sn.quote;
    plan->header = sn.header;
    res->has_dialect = true;
    res->dialect.delimiter = (char)sn.delim;
    res->dialect.quote = (char)sn.quote;
    res->dialect.header = sn.header;
    res->dialect.crlf = sn.crlf;

    struct first_record fr = {.plan = plan};
    struct scanner sc;
    if (scanner_init(&sc, plan->delim, plan->quote))
        return -ENOMEM;
    struct scan_result r;
    int rc = scan_buffer(&sc, buf, len, eof, 1, first_record_cb, &fr, &r);
    scanner_free(&sc);
    free(fr.scratch);
    if (rc == 0 && fr.nomem)
        rc = -ENOMEM;
    plan->names = fr.names;
    plan->ncols = fr.names ? fr.ncols : 0;
    if (rc)
        return rc;
    if (fr.found && fr.bytes > cfg->opt.max_record + 2) {
        /* as when the record is not whole after --max-record bytes (the
         * pipeline's reads of a chunk size smaller than the file): no dialect,
         * no columns, whatever the buffer held it whole */
        file_plan_free(plan); /* (its names) */
        plan->refused = true;
        res->has_dialect = false;
        memset(&res->dialect, 0, sizeof res->dialect);
        result_add_error(res, fr.line, CSVI_EK_RECORD_TOO_LONG,
                         "record longer than --max-record (%zu bytes); rest of the file not "
                         "read (raise --max-record, or check the quoting)",
                         cfg->opt.max_record);
        return 0;
    }
    if (fr.too_wide) {
        plan->too_wide = fr.too_wide;
        plan->refused = true;
        result_add_error(res, fr.line, CSVI_EK_RECORD_TOO_LONG,
                         "the first record has %zu fields; csvinfer infers at most %d columns, "
                         "so the file is not read (is it CSV? is the delimiter '%s' right?)",
                         fr.too_wide, CSVI_MAX_COLUMNS,
                         plan->delim == '\t' ? "\\t" : (char[]){(char)plan->delim, 0});
    }
    return (!fr.found && !eof) ? 1 : 0;
}

void file_plan_free(struct file_plan *plan)
{
    if (plan->names)
        for (size_t i = 0; i < plan->ncols; i++)
            free(plan->names[i]);
    free(plan->names);
    plan->names = NULL;
    plan->ncols = 0;
}
