/*
 * internal.h — declarations shared by the engine's modules, not part of the
 * public API.  The engine is layered:
 *   classify.c / datetime.c  one value  -> struct field_class (types it fits)
 *   column.c                 field_class -> struct column_state (a monoid: join)
 *   scan.c / scan_avx2.c     bytes       -> records of field spans
 *   sniff.c                  a sample    -> dialect and header
 *   infer_file.c             one file    -> struct csvi_file_result
 *   engine.c                 paths       -> results;  out_*.c  results -> text
 */
#ifndef CSVI_INTERNAL_H
#define CSVI_INTERNAL_H

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "csvinfer.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSVI_BIT(t) (1u << (t))
#define CSVI_NUMERIC_MAX_PRECISION 38
/* The type sets of an integer and of a decimal value (classify.c) */
#define CSVI_INT_CHAIN                                                                       \
    (CSVI_BIT(CSVI_TYPE_INTEGER) | CSVI_BIT(CSVI_TYPE_DECIMAL) | CSVI_BIT(CSVI_TYPE_DOUBLE) |   \
     CSVI_BIT(CSVI_TYPE_TEXT))
#define CSVI_DEC_CHAIN                                                                       \
    (CSVI_BIT(CSVI_TYPE_DECIMAL) | CSVI_BIT(CSVI_TYPE_DOUBLE) | CSVI_BIT(CSVI_TYPE_TEXT))

/* ---- one value ------------------------------------------------------- */

/* Date formats a value parses under; bit order is preference order. */
enum date_format {
    DF_YMD_DASH = 0, /* %Y-%m-%d */
    DF_YMD_SLASH,    /* %Y/%m/%d */
    DF_MDY_SLASH,    /* %m/%d/%Y */
    DF_DMY_SLASH,    /* %d/%m/%Y */
    DF_MDY_DASH,     /* %m-%d-%Y */
    DF_DMY_DASH,     /* %d-%m-%Y */
    DF_MDY_DOT,      /* %m.%d.%Y */
    DF_DMY_DOT,      /* %d.%m.%Y */
    DF_bDY,          /* %b %d %Y */
    DF_DbY,          /* %d %b %Y */
    DF_bD_Y,         /* %b %d, %Y */
    DF_BDY,          /* %B %d %Y */
    DF_BD_Y,         /* %B %d, %Y */
    DF_DBY,          /* %d %B %Y */
    DF_DbY_DASH,     /* %d-%b-%Y */
    DF_COUNT
};
#define DF_ALL ((1u << DF_COUNT) - 1u)
const char *date_format_string(enum date_format f);

/* Flags of the time part of a time / timestamp value (OR-ed over a column). */
enum {
    TF_SECONDS = 1u << 0,  /* :ss present */
    TF_FRACTION = 1u << 1, /* .f present */
    TF_SEP_T = 1u << 2,    /* date and time joined by 'T' */
    TF_SEP_SPACE = 1u << 3,/* ... by ' ' */
    TF_ZONE = 1u << 4      /* Z or +hh[:mm] */
};

/* What one value fits. */
struct field_class {
    uint32_t types;     /* CSVI_BIT(type) set; TEXT always set unless NULL */
    uint32_t date_fmts; /* date / timestamp(tz): formats of the date part */
    uint8_t time_flags; /* time / timestamp(tz): TF_* */
    uint8_t int_digits; /* decimal: significant digits before the point */
    uint8_t scale;      /* decimal: digits after the point */
    uint32_t null_bits; /* null: how it was written (csvi_column.null_kinds bits) */
    int64_t ival;       /* integer: the value */
};

/* Everything that changes how a value is classified. */
struct classify_cfg {
    const char *const *null_tokens; /* never contains "" (always null) */
    const size_t *null_lens;
    size_t n_null;
    bool quoted_empty_is_text;
    bool no_trim;
    /* quick reject for null tokens: first bytes and lengths (bit min(len,63)) */
    uint8_t null_first[256];
    uint64_t null_len_mask;
};
/* Fill *cfg; tokens and lens must outlive it. */
void classify_cfg_init(struct classify_cfg *cfg, const char *const *tokens, const size_t *lens,
                       size_t n, bool quoted_empty_is_text, bool no_trim);

/* Classify the content of a field (quotes already removed).  quoted: the
 * field had a quoted section (matters only for the empty value). */
void classify_field(const uint8_t *p, size_t n, bool quoted, const struct classify_cfg *cfg,
                    struct field_class *out /* OUT */);

/* classify_field for a value of the shape the column expects (`expect`: the
 * type set of its last values), checked by a short path: true and *out as
 * classify_field would set it, or false (then call classify_field).  Integer,
 * decimal and double columns, ISO dates and timestamps, uuids, booleans. */
bool classify_expected(uint32_t expect, const uint8_t *p, size_t n,
                       const struct classify_cfg *cfg, struct field_class *out /* OUT */);

/* Plain integers ([+-]digits, no leading zero, in int64) and decimals
 * ([+-]digits.digits, precision <= 38) that are not null tokens: true
 * exactly when classify_field gives the integer (decimal) type set, with the
 * value (ival) and significant integer digits (digits, int_digits) and the
 * scale it would give.  For the column loops of slice.c. */
bool classify_plain_int(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                        int64_t *ival /* OUT */, uint32_t *digits /* OUT */);
bool classify_plain_decimal(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                            uint32_t *int_digits /* OUT */, uint32_t *scale /* OUT */);

/* classify_plain_int / _decimal for a value with 16 readable bytes at p
 * (the bytes past n are read, never used): one SSE2 digit mask instead of
 * the digit loops where n <= 16 (integers: the value 8 digits at a time). */
/* true: p[0, n) (16 bytes readable) is a double written with an exponent,
 * [+-]digits[.digits](e|E)[+-]digits, that classify_field gives the double
 * type set without a range check (false: not decided; ask classify_expected). */
bool classify_plain_double16(const uint8_t *p, size_t n, const struct classify_cfg *cfg);
/* true exactly when classify_expected gives p[0, n) (16 bytes readable)
 * the date type set, an ISO "YYYY-MM-DD" (format DF_YMD_DASH, no time flags). */
bool classify_iso_date16(const uint8_t *p, size_t n, const struct classify_cfg *cfg);
/* true exactly when classify_expected gives p[0, n) the timestamp type set
 * as "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SS" (n = 19: format
 * DF_YMD_DASH, *time_flags as it gives them). */
bool classify_iso_ts19(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                       uint8_t *time_flags /* OUT */);
bool classify_plain_int16(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                          int64_t *ival /* OUT */, uint32_t *digits /* OUT */);
bool classify_plain_decimal16(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                              uint32_t *int_digits /* OUT */, uint32_t *scale /* OUT */);

/* A shape learned from one value (value_template.c): a value of the same
 * length whose every byte i is in [lo[i], hi[i]] gets the learned value's
 * verdict (bytes past the length: [0, 255]). */
struct value_template {
    uint8_t lo[16], hi[16];
};
enum value_template_kind {
    VT_LITERAL, /* the same bytes (any shape classify_expected accepts) */
    VT_DOUBLE   /* a value classify_plain_double16 accepts */
};
/* Learn from p[0, n), which the kind's check accepted; false: no template
 * (too long, an exponent of three digits, a first byte that may start a
 * null token). */
bool value_template_learn(struct value_template *t, const uint8_t *p, size_t n,
                          enum value_template_kind kind, const struct classify_cfg *cfg);
/* p[0, 16) readable: is every byte in its range? */
static inline bool value_template_match(const struct value_template *t, const uint8_t *p)
{
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i l = _mm_loadu_si128((const __m128i *)(const void *)t->lo);
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)t->hi);
    __m128i ok = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, l), v),
                               _mm_cmpeq_epi8(_mm_min_epu8(v, h), v));
    return _mm_movemask_epi8(ok) == 0xFFFF;
#else
    for (unsigned i = 0; i < 16; i++)
        if (p[i] < t->lo[i] || p[i] > t->hi[i])
            return false;
    return true;
#endif
}

/* The null decisions of classify_field alone: 0 if the content is not a
 * null, else its null_bits. */
uint32_t classify_null_bits(const uint8_t *p, size_t n, bool quoted, const struct classify_cfg *cfg);

/* Parsers used by classify.c (datetime.c).  Each returns the number of bytes
 * consumed, 0 if p does not start with one. */
size_t dt_parse_date(const uint8_t *p, size_t n, uint32_t *fmts /* OUT */);
size_t dt_parse_time(const uint8_t *p, size_t n, uint8_t *flags /* OUT */);
size_t dt_parse_zone(const uint8_t *p, size_t n);

/* Number of UTF-8 code points in p (bytes that are not continuation bytes). */
uint64_t utf8_char_count(const uint8_t *p, size_t n);
/* Offset of the first byte that is not part of valid UTF-8, or n.  The
 * AVX2 version (utf8_avx2.c) must equal the scalar one, the reference. */
size_t utf8_first_invalid(const uint8_t *p, size_t n);
size_t utf8_first_invalid_scalar(const uint8_t *p, size_t n);
size_t utf8_first_invalid_avx2(const uint8_t *p, size_t n);
/* utf8_first_invalid_scalar resumed at the last character start at or
 * before `from`, p[0, from) being valid UTF-8 but for, at most, a sequence
 * cut at its end (the SIMD kernels' answer once a block fails). */
size_t utf8_first_invalid_from(const uint8_t *p, size_t n, size_t from);
void utf8_select_kernel(void);

/* Length of the valid UTF-8 character at p[0] (a byte >= 0x80; n >= 1 bytes
 * readable), or 0 if it is not one: the decoding step of
 * utf8_first_invalid_scalar, shared with bytecheck_scalar. */
static inline size_t utf8_char_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t need;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (need >= n)
        return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return need + 1;
}

/* One pass over p[0, n) for what a slice must know of its bytes besides
 * their records (bytecheck.c; the AVX2 and AVX-512 kernels are in utf8_avx2.c and
 * utf8_avx512.c): */
struct bytecheck {
    size_t bad_utf8;  /* utf8_first_invalid(p, n): first byte not valid UTF-8, or n */
    size_t first_nul; /* first 0x00 byte, or n */
    bool any_cr;      /* a '\r' somewhere */
};
void bytecheck(const uint8_t *p, size_t n, struct bytecheck *out /* OUT */);
/* The portable version, the reference; the AVX2 one must give the same. */
void bytecheck_scalar(const uint8_t *p, size_t n, struct bytecheck *out /* OUT */);
void bytecheck_avx2(const uint8_t *p, size_t n, struct bytecheck *out /* OUT */);
void bytecheck_avx512(const uint8_t *p, size_t n, struct bytecheck *out /* OUT */);
/* Choose the kernel once, before threads start (split_select_kernels). */
void bytecheck_select_kernel(void);

/* ---- one column: the verdict monoid ------------------------------------ */

/* Tolerant mode: the non-null values of a column that share one type set
 * and, for date-like ones, one set of consistent date formats (date_fmts).
 * The first values by line of the sets whose types lack type t are the
 * values that do not fit t; of date kind k (0 date, 1 timestamp, 2
 * timestamptz) the verdict picks the format most values fit and counts the
 * others as exceptions.  Each value is in one set; a column has few. */
struct value_set {
    uint32_t types;
    uint32_t fmts;  /* date_fmts: 0 unless types has TIMESTAMPTZ */
    uint8_t tflags; /* OR of the time_flags of its values */
    uint8_t n_ex;   /* its first values by line: line[i], and len[i] bytes at */
    uint8_t len[CSVI_MAX_EXAMPLES]; /* off[i] in the column's exbuf */
    uint64_t count;
    uint64_t line[CSVI_MAX_EXAMPLES];
    uint32_t off[CSVI_MAX_EXAMPLES];
};

struct column_state {
    uint64_t count;                    /* values, nulls included */
    uint64_t nulls;
    uint32_t null_kinds;               /* OR of the null_bits of its nulls */
    uint64_t fit[CSVI_TYPE_COUNT];     /* non-null values fitting each type, but
                                          for the pending run below: use column_fit */
    uint32_t run_types;                /* type set of the last values ... */
    uint64_t run_count;                /* ... and how many in a row had it */
    int64_t imin, imax;                /* over values fitting integer */
    uint32_t dec_int_digits, dec_scale;/* max over values fitting decimal */
    uint32_t fmts[3];                  /* AND of date_fmts over values fitting
                                          date, timestamp, timestamptz */
    uint8_t tflags_time, tflags_ts;    /* OR of time_flags: time / timestamp(tz) */
    uint64_t max_bytes, max_chars;
    struct value_set *vsets;           /* tolerant: sorted by (types, fmts), no two alike */
    uint32_t n_vsets, cap_vsets;
    uint32_t last_vset;                /* where the last value went (a hint) */
    char *exbuf;                       /* the value sets' example bytes */
    uint32_t exlen, excap, exdead;     /* used, allocated, of them no longer used */
    bool nomem;                        /* a value set could not be stored (column_add) */
    uint32_t and_types;                /* AND of the type sets of non-null values */
    bool strict;                       /* strict mode: once and_types is text alone the
                                          column is text whatever follows, so values
                                          need only a null check (column_settled) */
};
/* Strict and already text: further values need only classify_is_null. */
static inline bool column_settled(const struct column_state *c)
{
    return c->strict && c->and_types == CSVI_BIT(CSVI_TYPE_TEXT);
}
/* Add a value to a settled column: only counts and lengths. */
void column_add_settled(struct column_state *c, uint32_t null_bits /* 0: not null */,
                        const uint8_t *value, size_t n);

void column_init(struct column_state *c, bool tolerant);
/* Non-null values of the column that fit type t. */
uint64_t column_fit(const struct column_state *c, int t);
void column_free(struct column_state *c);
/* Heap bytes c holds beyond the struct (value sets, example bytes). */
size_t column_heap_bytes(const struct column_state *c);
/* Add one classified value; value/n is its content (for length and examples). */
void column_add(struct column_state *c, const struct field_class *fc, const uint8_t *value,
                size_t n, uint64_t line);
/* column_add for the common case: fc->types is c->run_types (the type set
 * of the column's last value; c made by column_init, so and_types already
 * holds it), c is strict (keeps no value sets), the value is ASCII (any value
 * classify_expected accepts) of n bytes, and not a time (TIME). */
void column_add_run(struct column_state *c, const struct field_class *fc, size_t n);
/* a := join(a, b).  Associative and commutative; column_init is the identity.
 * false: out of memory (a is then incomplete). */
bool column_join(struct column_state *a, const struct column_state *b);
/* Tolerant mode: the column's value set (types, fmts), added empty in its
 * place if it has none yet.  NULL: out of memory. */
struct value_set *column_value_set(struct column_state *c, uint32_t types, uint32_t fmts);
/* Keep (line, value v of n bytes: up to its first NUL, at most
 * CSVI_EXAMPLE_BYTES) if it is one of set s's first by line; s is c's.
 * false: out of memory. */
bool column_set_example(struct column_state *c, struct value_set *s, uint64_t line, const char *v,
                        size_t n);
/* Example k of set s of column c. */
static inline const char *column_example(const struct column_state *c, const struct value_set *s,
                                         int k)
{
    return c->exbuf + s->off[k];
}
/* The final verdict (all fields of *out but name). */
void column_verdict(const struct column_state *c, double threshold, bool dayfirst,
                    struct csvi_column *out /* OUT */);

/* ---- the structural scanner ------------------------------------------- */

struct scan_field {
    size_t start, end;  /* byte offsets in the scanned buffer, end exclusive */
    uint32_t nquotes;   /* quote characters inside [start, end) */
};

/* Called once per complete record; return false to stop the scan. */
typedef bool (*scan_record_fn)(void *ctx, const uint8_t *buf, const struct scan_field *fields,
                               size_t nfields, uint64_t line);

struct scanner {
    uint8_t delim, quote;   /* quote 0: no quoting */
    struct scan_field *fields; /* owned; grows with the widest record */
    size_t cap;
};

struct scan_result {
    size_t consumed;        /* bytes up to the end of the last complete record */
    uint64_t lines;         /* '\n' bytes in [0, consumed) */
    bool stopped;           /* the callback returned false */
    bool unterminated;      /* eof inside a quoted field (record not delivered) */
};

int scanner_init(struct scanner *s, uint8_t delim, uint8_t quote);
void scanner_free(struct scanner *s);
/* Scan buf[0, len), which starts at a record start.  Delivers every complete
 * record; with eof, the bytes after the last newline are a last record.
 * first_line: the physical line of buf[0].  Returns -ENOMEM or 0. */
int scan_buffer(struct scanner *s, const uint8_t *buf, size_t len, bool eof, uint64_t first_line,
                scan_record_fn fn, void *ctx, struct scan_result *res /* OUT */);

/* Mask kernels: for nblocks blocks of 64 bytes at p, bit i of qm/dm/nm tells
 * whether byte i of the block is the quote, the delimiter, '\n'. */
typedef void (*split_masks_fn)(const uint8_t *p, size_t nblocks, uint8_t quote, uint8_t delim,
                               uint64_t *qm, uint64_t *dm, uint64_t *nm);
void split_masks_scalar(const uint8_t *p, size_t nblocks, uint8_t quote, uint8_t delim,
                        uint64_t *qm, uint64_t *dm, uint64_t *nm);
void split_masks_avx2(const uint8_t *p, size_t nblocks, uint8_t quote, uint8_t delim,
                      uint64_t *qm, uint64_t *dm, uint64_t *nm);
bool split_have_avx2(void);
void split_masks_avx512(const uint8_t *p, size_t nblocks, uint8_t quote, uint8_t delim,
                        uint64_t *qm, uint64_t *dm, uint64_t *nm);
bool split_have_avx512bw(void);
/* Choose the AVX-512, AVX2 or scalar kernels once, before threads start. */
void split_select_kernels(void);
/* Which kernel scan_buffer uses (tests force the scalar one). */
void split_set_kernel(split_masks_fn fn);

/* The splitter's helpers (split.c).  Count quote and '\n' bytes of p[0, n)
 * (quote 0: none counted); the AVX2 and AVX-512 versions must equal the
 * scalar one. */
void split_count(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes, uint64_t *newlines);
void split_count_scalar(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes,
                        uint64_t *newlines);
void split_count_avx2(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes,
                      uint64_t *newlines);
void split_count_avx512(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes,
                        uint64_t *newlines);
/* '\n' (or `byte`) bytes in p[0, n) (memchr: for short or rare stretches). */
uint64_t split_count_newlines(const uint8_t *p, size_t n);
uint64_t split_count_byte(const uint8_t *p, size_t n, uint8_t byte);
/* Offset just past the first '\n' outside quotes in p[0, n), the state at
 * p[0] being `inside` quotes or not; SIZE_MAX if there is none.  64 bytes at
 * a time with the scanner's mask kernel; the _scalar one is the reference. */
size_t split_next_record(const uint8_t *p, size_t n, uint8_t quote, bool inside);
size_t split_next_record_scalar(const uint8_t *p, size_t n, uint8_t quote, bool inside);
/* The mask kernel scan_buffer uses (chosen on first use). */
split_masks_fn split_masks_kernel(void);

/* The structural index of a buffer (scan_index.c), a window of blocks at a
 * time, for slice_infer's record walk.  Offsets are uint32_t: buffers of
 * 4 GiB or more use scan_buffer. */
#define SCAN_INDEX_WINDOW 256 /* blocks of 64 bytes indexed per call: 16 KiB */
struct scan_index {
    uint8_t delim, quote;
    split_masks_fn kernel;
    uint32_t *pos;      /* [np]: offsets of the delimiters and newlines outside
                           quotes (field ends); pos[-1]: the offset before the
                           waiting record's first field (UINT32_MAX at 0) */
    uint32_t *qcum;     /* [np], and [-1]: quote bytes before pos[i] (from the
                           buffer's start, modulo 2^32: only differences count) */
    uint32_t *ends;     /* [ne]: indices in pos of the newlines (record ends) */
    uint32_t *qnl;      /* [nqn]: offsets of the newlines inside quotes */
    size_t np, ne, nqn, pcap, ecap, qncap;
    uint32_t quotes;    /* quote bytes before the next block */
    uint64_t inq;       /* all ones: inside quotes at the next block */
    size_t block;       /* the next block to index */
    bool avx512;        /* index with AVX-512 (the mask kernel is the AVX-512 one
                           and the CPU has VBMI2, BMI2 and PCLMUL) */
};
/* The CPU can run the AVX-512 index (AVX-512BW and VBMI2, BMI2, PCLMUL). */
bool scan_index_have_avx512(void);
/* len: the buffer's length (sizes the arrays; they grow as needed). */
int scan_index_init(struct scan_index *ix, uint8_t delim, uint8_t quote, size_t len);
/* The same for an index that was initialised before (its arrays kept if
 * they are large enough for len). */
int scan_index_reinit(struct scan_index *ix, uint8_t delim, uint8_t quote, size_t len);
void scan_index_free(struct scan_index *ix);
/* Index the next window (up to SCAN_INDEX_WINDOW blocks) of buf[0, len),
 * appending to the arrays.  0, or -ENOMEM. */
int scan_index_more(struct scan_index *ix, const uint8_t *buf, size_t len);
/* Forget the first `records` records (their field ends) and `quoted_nls`
 * quoted newlines: what the walk has used. */
void scan_index_drop(struct scan_index *ix, size_t records, size_t quoted_nls);

/* Bit i of the result: XOR of bits 0..i of x (with a quote mask: the bytes
 * inside quotes, each opening quote included, no closing one). */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* Content of a field: strips the quoting as PostgreSQL's COPY does.  Returns a
 * pointer into buf, or into scratch (cap >= field length) when quotes had to
 * be removed from the middle.  *quoted: a quoted section was present. */
const uint8_t *field_content(const uint8_t *buf, const struct scan_field *f, uint8_t quote,
                             uint8_t *scratch, size_t *len /* OUT */, bool *quoted /* OUT */);

/* ---- sniffing ----------------------------------------------------------- */

struct sniff_result {
    uint8_t delim, quote;
    bool header;
    bool crlf;
};
/* Sniff the dialect of sample[0, n) (the start of a file, BOM removed).
 * eof: the sample is the whole file.  Options given by the user win. */
int sniff_dialect(const uint8_t *sample, size_t n, bool eof, const struct csvi_options *opt,
                  const struct classify_cfg *cfg, struct sniff_result *out /* OUT */);

/* ---- per file ---------------------------------------------------------- */

struct reader;
struct engine_cfg {
    struct csvi_options opt;    /* null_tokens etc. point into this struct's copies */
    struct classify_cfg ccfg;
};

/* What every slice of a file needs to know, fixed before any slice is
 * inferred (from the sniffer and the first record); read-only afterwards. */
/* What a file that is not 8-bit text looks like (plan.c's table). */
struct wide_encoding {
    const char *name;  /* "UTF-16LE", ... */
    const char *why;   /* what says so ("it starts with the byte order mark FF FE") */
    const char *iconv; /* iconv's name for it ("UTF-16": the mark picks the order and is
                          dropped) */
};

struct file_plan {
    const struct engine_cfg *cfg;
    uint8_t delim, quote;
    bool header;        /* the first record is the header */
    size_t ncols;       /* fields of the first record; 0: the file has no record */
    char **names;       /* [ncols], owned by the plan until handed to the result */
    const struct wide_encoding *wide; /* the file starts as UTF-16 or UTF-32 text does
                           (a byte order mark, or NUL in every other byte), for the
                           error that says to convert it; NULL if not */
    size_t too_wide;    /* the first record's fields when more than CSVI_MAX_COLUMNS
                           (ncols is 0 then, the error in the result) */
    bool cr_only;       /* lines end with a lone CR (the error in the result, no
                           dialect: the file is unreadable) */
    bool refused;       /* too_wide or cr_only: no slice is read */
};

/* May a verdict be cached with its plan (a small file's record, a
 * --trust-mtime record)?  Not when the plan put an error in the result
 * (too_wide, cr_only) or words a message by what it saw (wide): a record's
 * plan keeps neither, so a hit lost the error (a too-wide file's second run
 * exited 0 without it) or the UTF-16 wording. */
static inline bool file_plan_cacheable(const struct file_plan *plan)
{
    return !plan->refused && !plan->wide;
}

#define CSVI_SNIFF_BYTES (64u * 1024u) /* the sniffer's sample: the same for every path */

/* Fill plan from the start of a file (BOM removed): sniff the dialect, find
 * the first record, name the columns.  Returns 1 if buf[0, len) does not yet
 * hold the whole first record (and !eof): read more and call again.
 * Returns 0, or -ENOMEM.  On 0, the dialect is written into res. */
int file_plan_init(struct file_plan *plan, const struct engine_cfg *cfg, const uint8_t *buf,
                   size_t len, bool eof, struct csvi_file_result *res);
void file_plan_free(struct file_plan *plan);

/* The partial verdict of one slice: a run of whole records of one file. */
struct slice_verdict {
    uint64_t rows;
    size_t ncols;
    struct column_state *cols;      /* [ncols] */
    struct csvi_error *errors;      /* line order; at most CSVI_MAX_ERRORS */
    size_t n_errors;
    uint64_t error_total;
    uint64_t lead_blank, lead_blank_line; /* blank lines before the slice's first record */
    uint64_t tail_blank, tail_blank_line; /* ... after its last record */
    bool has_record;
    bool header_taken;              /* this slice consumed the file's header record */
    bool stop;                      /* fatal error: nothing after this slice counts */
    uint64_t nul_line, utf8_line;   /* first line with a NUL / invalid UTF-8; 0: none */
    /* what PostgreSQL's COPY rejects though csvinfer reads it (first lines; 0: none) */
    uint64_t bare_cr_line;          /* a carriage return inside an unquoted field */
    uint64_t eod_line;              /* a line holding only \. (COPY's end of data) */
    uint64_t crlf_line, lf_line;    /* first record ended by CRLF / by a bare LF */
    size_t consumed;                /* bytes of whole records used */
    uint64_t lines;                 /* '\n' in [0, consumed) */
};

/* What slice_infer keeps from one slice to the next of one thread: the
 * structural index's arrays, the run's lines, a record's fields.  Allocated
 * and freed per slice, they trimmed the thread's heap on every 8 MiB slice
 * (an madvise, a TLB flush on both cores) and were faulted in again by the
 * next.  Zero it to start, slice_work_free at the end.  scratch is the
 * caller's (slice_infer reads it, >= len bytes), freed by slice_work_free. */
struct slice_work {
    uint8_t *scratch;
    size_t scratch_cap;          /* its size (slice_work_scratch) */
    struct scan_index ix;        /* arrays kept; its state is reset per slice */
    bool have_ix;
    uint64_t *run_line;          /* [run_cap] */
    size_t run_cap;
    struct scan_field *rec;      /* [rec_cap] */
    size_t rec_cap;
    uint32_t *one;               /* [2 * (one_cap + 1)] */
    size_t one_cap;
};
/* scratch of >= n bytes (grown if need be).  false: no memory. */
bool slice_work_scratch(struct slice_work *w, size_t n);
void slice_work_free(struct slice_work *w);

/* Infer buf[0, len), which starts at a record start on line first_line.
 * eof: the bytes after the last newline are the file's last record.
 * truncated: buf ends inside a record longer than max_record.
 * header_pending: the file's first record (its header) may be in this slice.
 * w: the thread's slice_work, its scratch >= len bytes.  Returns 0 or -ENOMEM. */
int slice_infer(const struct file_plan *plan, const uint8_t *buf, size_t len, bool eof,
                bool truncated, uint64_t first_line, bool header_pending, struct slice_work *w,
                struct slice_verdict *out /* OUT */);
void slice_verdict_free(struct slice_verdict *v);
/* Heap bytes v holds (its columns and errors): what a verdict waiting to be
 * merged costs (the pipeline bounds their sum). */
size_t slice_verdict_bytes(const struct slice_verdict *v);
/* Tests: false makes slice_infer use scan_buffer and on_record (the
 * reference, and the path of slices of 4 GiB or more) instead of the walk
 * over the structural index.  Not thread-safe: set before any slice. */
void slice_set_walk(bool on);
/* Records for slice_infer's column loops, [record][column], as the index
 * (scan_index.c) holds them: field i of record r, at k = r * stride + i, is
 * [pos[k - 1] + 1, pos[k]) (pos[-1] is read: UINT32_MAX + 1 is 0), with
 * qcum[k] - qcum[k - 1] quote bytes; in column strip_col (SIZE_MAX: none) a
 * '\r' that ends a field of at least one byte is not part of it (the CR of
 * a CRLF record end, as scan_buffer drops it). */
struct field_batch {
    const uint32_t *pos, *qcum;
    size_t stride, strip_col;
};
/* Add the values of records [r, nrec) of a settled text column (strict,
 * already text: column_settled) to it: fields k = r * b->stride + column,
 * content as field_content gives it (scratch: >= the longest field).  The
 * same state as column_add_settled of classify_null_bits per value; returns
 * nrec. */
size_t slice_text_run(struct column_state *col, const uint8_t *buf, const struct field_batch *b,
                      size_t column, size_t r, size_t nrec, uint8_t quote,
                      const struct classify_cfg *cc, uint8_t *scratch);

/* Fold slices of one file, strictly in order, into its result. */
struct file_merge {
    const struct file_plan *plan;
    struct csvi_file_result *res;
    struct column_state *cols;      /* [plan->ncols] */
    bool started;                   /* a record has been merged */
    bool stopped;                   /* a fatal error: ignore later slices */
    uint64_t blank, blank_line;     /* blank run not yet known to be trailing */
    bool nul_seen, utf8_seen, wide_said;
    uint64_t bare_cr_line, eod_line, crlf_line, lf_line; /* first in the file */
};
int file_merge_init(struct file_merge *m, const struct file_plan *plan,
                    struct csvi_file_result *res);
/* Merge the next slice (v is emptied: its memory moves or is freed).
 * -ENOMEM: a column could not be joined (the file's verdict is incomplete). */
int file_merge_slice(struct file_merge *m, struct slice_verdict *v);
/* Final verdict into res (names move from the plan); frees the merge state. */
void file_merge_finish(struct file_merge *m, struct file_plan *plan);
void file_merge_abort(struct file_merge *m);

/* The engine handle (csvinfer.h): engine.c makes and frees it, paths.c runs
 * paths through it. */
struct csvi_engine {
    struct engine_cfg cfg;
    char **null_tokens;   /* owned copies; cfg.ccfg points here */
    char **include, **exclude; /* owned copies of the walk's globs; cfg.opt points here */
    size_t *null_lens;
    struct csvi_file_result *files;
    size_t n_files, cap_files;
    double seconds;
    struct reader *rd;    /* read backend of the pipeline, made on first use */
    bool rd_tried;
    struct cache *cache;  /* the verdict cache, opened on first use (NULL: off) */
    bool cache_tried;
    char *cache_dir;      /* where it lives (NULL: in memory only, or off) */
    char *cache_warning;  /* why the cache directory could not be used */
    /* the run (run.c): ledger, drift, progress */
    struct ledger *ledger;     /* NULL: no ledger (--no-ledger, or not begun) */
    char *ledger_path, *ledger_warning;
    char *stdin_key;           /* "stdin:NAME" (--stdin-name), or NULL: standard input is "-" */
    char run_id[40];
    struct ledger_basis *basis;  /* the drift basis (ledger_basis.c) */
    struct json_t *last_schemas; /* basis->last: path -> its last file_done line; read-only
                                    in a run */
    struct json_t *last_tables;  /* basis->tables: table key -> its last table_done line */
    bool run_begun;
    double run_t0;
    uint8_t *reported;         /* [cap_files]: result i's events are written (the merger
                                  or the calling thread, never both for one file) */
    atomic_uint_fast64_t files_done, files_total, bytes_done, bytes_total;
    csvi_file_fn on_file;      /* csvi_engine_on_file: set before a run, read-only in it */
    void *on_file_ctx;
    pthread_mutex_t on_file_mu; /* one on_file call at a time */
    /* --group (group.c): the tables of the last csvi_engine_group; caller's thread */
    struct csvi_table *tables;
    size_t n_tables;
    bool grouped;
    /* csvinfer merge (verdict_merge.c): caller's thread only */
    uint8_t *merge_opts;       /* the options block every merged state must carry */
    size_t merge_opts_len;
    uint32_t merge_opts_src;   /* the verdict it came from */
    char **merge_names;        /* [merge_n_src]: the verdicts' names (messages) */
    uint32_t merge_n_src;
    uint32_t *merge_src;       /* [cap_files]: which verdict each result came from */
    bool merge_tables;         /* a verdict held "tables" */
    bool merge_drift;          /* a verdict carried drift fields (a run with a ledger) */
};

/* A file's result is final (from the merger thread or the calling thread):
 * progress, drift against the ledger, its ledger events.  Once per result. */
void run_file_finished(csvi_engine *e, struct csvi_file_result *r);
/* Bytes of a file inferred so far (progress; any thread). */
static inline void run_bytes_done(csvi_engine *e, uint64_t n)
{
    atomic_fetch_add_explicit(&e->bytes_done, n, memory_order_relaxed);
}

/* drift.c: fill r->drift from the "schema" array of the last file_done. */
void drift_compare(struct csvi_file_result *r, const struct json_t *old_schema);
void drift_clear(struct csvi_file_result *r);
/* The ledger's default path, and the key a file is known by in it (its
 * absolute path; "-" for stdin).  malloc'd; NULL if out of memory / unknown. */
char *run_default_ledger_path(void);
char *run_path_key(const char *path);
/* --trust-append: the size and exact mtime (ns) the ledger's last complete
 * run recorded for path (false: none, or no ledger).  Thread-safe: reads
 * the basis read at begin_run. */
bool run_previous_identity(csvi_engine *e, const char *path, uint64_t *size, int64_t *mtime_ns);
/* A copy of s with every byte that is not UTF-8 replaced by U+FFFD (as names
 * and paths are written to the ledger); malloc'd, NULL if out of memory. */
char *utf8_sanitize(const char *s);
/* --group's tables are made (the caller's thread): each one's drift against
 * the ledger's last table_done of the same table, and its events. */
void run_tables_finished(csvi_engine *e);
/* Free the run's ledger, schemas and bookkeeping (engine free). */
void run_free(csvi_engine *e);

/* Infer one opened file (fd) sequentially, through one buffer, into *res
 * (path already set).  Never fails on data: problems become res->errors.
 * Returns CSVI_ERR_NOMEM only. */
/* A pipe's first bytes (up to cap, fewer at its end or on an interrupt; a
 * read error is left for the next read to meet), read to see whether it is
 * gzip/zstd: the stream then starts with them. */
size_t pipe_head_read(int fd, uint8_t *head, size_t cap);
struct content_digest;
#define INFER_FD_DETECT (-1) /* a pipe: its first bytes, read, say if it is gzip/zstd */
enum csvi_status infer_fd(const struct engine_cfg *cfg, int fd,
                          int compression /* enum decomp_kind: DECOMP_NONE, gzip, zstd;
                                             or INFER_FD_DETECT */,
                          struct content_digest *dg /* NULL: none; else res->digest if whole */,
                          struct csvi_file_result *res);

/* The parallel engine (pipeline.c): infer the regular files of items, in
 * order, with opt.threads workers, reading through rd. */
struct reader;
struct pipeline_item {
    const char *path;
    struct csvi_file_result *res; /* stable for the whole run */
    bool stream;                  /* standard input (fd 0) or a FIFO (path): read as a
                                     stream, gzip/zstd seen by its first bytes */
};
struct cache;
enum csvi_status pipeline_run(const struct engine_cfg *cfg, struct reader *rd, struct cache *cache,
                              csvi_engine *e /* run_file_finished, progress */,
                              const struct pipeline_item *items, size_t n);

/* Errors kept in line order, at most CSVI_MAX_ERRORS: those that end the
 * file (csvi_error_ends_file) and the first others by line.  Insert one. */
void error_list_add(struct csvi_error **list, size_t *n, uint64_t *total, uint64_t line,
                    enum csvi_error_kind kind, char *message /* owned; NULL: out of memory */);
char *error_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *error_vformat(const char *fmt, va_list ap);

/* Append an error to a result (message formatted; keeps CSVI_MAX_ERRORS). */
void result_add_error(struct csvi_file_result *res, uint64_t line, enum csvi_error_kind kind,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void result_clear(struct csvi_file_result *res);

/* JSON string escaping (invalid UTF-8 becomes U+FFFD). */
void json_put_string(FILE *out, const char *s, size_t n);
/* A result's JSON file object on one line, as csvi_write_json writes it
 * (drift: with the drift fields; state_cfg: with "state", made with these
 * options where the result has none).  *buf is malloc'd (the caller frees);
 * returns 0 or -ENOMEM. */
int json_render_file(const struct engine_cfg *state_cfg /* NULL: no "state" */,
                     const struct csvi_file_result *r, bool drift, char **buf /* OUT */,
                     size_t *len /* OUT */);

/* ---- mergeable state (verdict_state.c) ----------------------------------
 * A file's final column states and the facts its outputs need beyond the
 * JSON fields, encoded with verdict_codec.c and checksummed: the JSON
 * "state" (base64).  Layout and checks: verdict_state.c. */

/* Make a column state canonical: the same values give the same state
 * whatever slices they came in (the pending run folded into fit[]; a
 * strict column settled as text keeps only what its verdict uses).  Its
 * verdict does not change. */
void column_canonical(struct column_state *c);

/* Encode r's final states into r->state (replacing it): cols[ncols] are
 * canonical, r's rows and COPY facts final.  Returns 0 or -ENOMEM. */
int state_encode(const struct engine_cfg *cfg, struct csvi_file_result *r,
                 const struct column_state *cols, size_t ncols);
/* The same into *out (malloc'd, the caller frees): for a result that has no
 * state (a file that could not be read has no columns, and a state says so). */
int state_encode_bytes(const struct engine_cfg *cfg, const struct csvi_file_result *r,
                       const struct column_state *cols, size_t ncols, uint8_t **out /* OUT */,
                       size_t *len /* OUT */);

/* The inference options a state was made with (all that changes a verdict). */
struct state_options {
    double threshold;
    bool dayfirst, quoted_empty_is_text, no_trim;
    int delimiter, quote, header;  /* CSVI_AUTO or the value given */
    uint64_t sample_rows, max_record;
    size_t n_null;
    char **null_tokens;            /* [n_null], owned */
};

struct file_state {
    const uint8_t *opts;           /* the options block, inside the decoded bytes */
    size_t opts_len;
    struct state_options o;
    uint64_t rows, trailing_blank_lines;
    uint64_t copy_bare_cr_line, copy_eod_line, copy_mixed_eol_line;
    size_t ncols;
    struct column_state *cols;     /* [ncols], owned */
};
/* Decode (and check) a state of n bytes.  Returns 0; -EINVAL with *why (a
 * static message) if it is not a state this build wrote; -ENOMEM.  fs
 * points into p: keep p while fs is used.  Free with state_free. */
int state_decode(const uint8_t *p, size_t n, struct file_state *fs /* OUT */,
                 const char **why /* OUT */);
void state_free(struct file_state *fs);

/* Standard base64 with padding.  _encode: into out (4 * ceil(n / 3) bytes,
 * not terminated).  _decode: out holds 3 * (len / 4) bytes; returns the
 * decoded length, or -1 if s is not canonical base64. */
void base64_encode(const uint8_t *p, size_t n, char *out);
long base64_decode(const char *s, size_t len, uint8_t *out);

/* Free the tables (group.c) and the merge bookkeeping (verdict_merge.c). */
void group_clear(csvi_engine *e);
void merge_clear(csvi_engine *e);

/* Table names (group.c): the base name of a path without its extensions
 * (.gz .zst .csv .tsv .txt .psv); "stdin" for "-"; a name that is not UTF-8
 * read as latin-1 (caf\xe9.csv: café).  malloc'd. */
char *table_base_name(const char *path);
/* *name (malloc'd), read as latin-1, in UTF-8 (merge.c): a header name of a
 * latin-1 file, a table name from a file name that is not UTF-8. */
void name_latin1_to_utf8(char **name);

#endif /* CSVI_INTERNAL_H */
