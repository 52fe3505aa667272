/*
 * classify.c — one field's content -> the set of types it fits (docs/types.md).
 *
 * This is the hot path: it runs once per field of every row.  It dispatches
 * on the first byte so that a value is parsed by at most a few recognisers,
 * never allocates, and never reads outside [p, p + n).  The widening chains
 * are encoded in the masks returned (an integer also fits decimal, double and
 * text; a date also fits timestamp, timestamptz and text).
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#define T_TEXT CSVI_BIT(CSVI_TYPE_TEXT)
#define T_INT_CHAIN                                                                          \
    (CSVI_BIT(CSVI_TYPE_INTEGER) | CSVI_BIT(CSVI_TYPE_DECIMAL) | CSVI_BIT(CSVI_TYPE_DOUBLE) |   \
     T_TEXT)
#define T_DEC_CHAIN (CSVI_BIT(CSVI_TYPE_DECIMAL) | CSVI_BIT(CSVI_TYPE_DOUBLE) | T_TEXT)
#define T_DBL_CHAIN (CSVI_BIT(CSVI_TYPE_DOUBLE) | T_TEXT)
#define T_DATE_CHAIN                                                                         \
    (CSVI_BIT(CSVI_TYPE_DATE) | CSVI_BIT(CSVI_TYPE_TIMESTAMP) |                                \
     CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | T_TEXT)
#define T_TS_CHAIN (CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | T_TEXT)
#define T_TSTZ_CHAIN (CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | T_TEXT)

static inline bool is_digit(uint8_t c) { return (unsigned)(c - '0') < 10u; }
static inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

static bool eq_nocase_n(const uint8_t *p, size_t n, const char *lit, size_t k)
{
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (uint8_t)lit[i])
            return false;
    return true;
}
#define eq_nocase(p, n, lit) eq_nocase_n(p, n, lit, sizeof(lit) - 1)

/* A double written with an exponent (or too many digits) must be in the
 * range PostgreSQL's float8 input accepts. */
static bool double_in_range(const uint8_t *p, size_t n)
{
    char buf[512];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    errno = 0;
    double v = strtod(buf, NULL);
    if (errno == ERANGE && (v == 0.0 || isinf(v)))
        return false;
    return !isinf(v);
}

/* SWAR on 8 bytes (little-endian): are they all ASCII digits, and their value. */
static inline bool eight_digits(uint64_t w)
{
    /* each byte 0x30..0x39: high nibble 3, and adding 6 does not carry into it */
    return ((w & 0xF0F0F0F0F0F0F0F0ull) |
            (((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) == 0x3333333333333333ull;
}

static inline uint64_t eight_digits_value(uint64_t w)
{
    w -= 0x3030303030303030ull;                       /* bytes d0 d1 ... d7, d0 lowest */
    w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFull;  /* pairs: 10*d0+d1 in even bytes */
    w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFull; /* quads */
    return (w * 10000 + (w >> 32)) & 0xFFFFFFFFull;   /* eight */
}

/* A mantissa (int_len digits at ip, frac_len at fp) with the exponent
 * (-)ex: is its decimal exponent E (value in [10^E, 10^(E+1))) surely
 * inside the doubles strtod gives without overflow or underflow to zero,
 * -320 <= E <= 307 (DBL_MAX is 1.8e308, the least denormal 4.9e-324)?
 * false: not sure (a zero mantissa, an exponent at the edges): ask strtod. */
static bool exponent_in_range(const uint8_t *ip, size_t int_len, const uint8_t *fp,
                              size_t frac_len, bool neg_exp, unsigned ex)
{
    long e = neg_exp ? -(long)ex : (long)ex;
    size_t k = 0;
    while (k < int_len && ip[k] == '0')
        k++;
    if (k < int_len) {
        e += (long)(int_len - 1 - k);
    } else {
        k = 0;
        while (k < frac_len && fp[k] == '0')
            k++;
        if (k == frac_len)
            return false;
        e -= (long)k + 1;
    }
    return e >= -320 && e <= 307;
}

/* Numbers: integer, decimal, double.  Returns false if p is not a number. */
static bool classify_number(const uint8_t *p, size_t n, struct field_class *out)
{
    size_t i = 0;
    bool neg = false;
    if (p[0] == '+' || p[0] == '-') {
        neg = p[0] == '-';
        i = 1;
    }
    size_t int_start = i;
    uint64_t mag = 0;
    /* 19 digits always fit in uint64; a longer integer part is past int64 anyway */
    while (i + 8 <= n && i - int_start <= 11) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (!eight_digits(w))
            break;
        mag = mag * 100000000u + eight_digits_value(w);
        i += 8;
    }
    while (i < n && is_digit(p[i])) {
        if (i - int_start < 19)
            mag = mag * 10 + (unsigned)(p[i] - '0');
        i++;
    }
    size_t int_len = i - int_start;
    bool overflow = int_len > 19;
    if (int_len > 1 && p[int_start] == '0')
        return false; /* leading zero: a code, keep it text */
    size_t frac_len = 0;
    bool point = false;
    if (i < n && p[i] == '.') {
        point = true;
        i++;
        size_t fs = i;
        uint64_t w;
        while (i + 8 <= n && (memcpy(&w, p + i, 8), eight_digits(w)))
            i += 8;
        while (i < n && is_digit(p[i]))
            i++;
        frac_len = i - fs;
    }
    if (int_len + frac_len == 0)
        return false;
    if (i < n) {
        if (p[i] != 'e' && p[i] != 'E')
            return false;
        size_t j = i + 1;
        if (j < n && (p[j] == '+' || p[j] == '-'))
            j++;
        size_t es = j;
        unsigned ex = 0;
        while (j < n && is_digit(p[j])) {
            if (ex < 100000)
                ex = ex * 10 + (unsigned)(p[j] - '0');
            j++;
        }
        if (j == es || j != n)
            return false;
        /* |exponent| + digits well inside double's range: no need to ask strtod */
        if (ex + int_len + frac_len > 280 &&
            !exponent_in_range(p + int_start, int_len, p + int_start + int_len + point,
                               frac_len, p[i + 1] == '-', ex) &&
            !double_in_range(p, n))
            return false;
        out->types = T_DBL_CHAIN;
        return true;
    }
    size_t sig_int = (int_len == 1 && p[int_start] == '0') ? 0 : int_len;
    if (sig_int + frac_len > CSVI_NUMERIC_MAX_PRECISION) {
        if (!double_in_range(p, n))
            return false;
        out->types = T_DBL_CHAIN;
        return true;
    }
    out->int_digits = (uint8_t)sig_int;
    out->scale = (uint8_t)frac_len;
    if (point) {
        out->types = T_DEC_CHAIN;
        return true;
    }
    if (!overflow && (neg ? mag <= (uint64_t)INT64_MAX + 1u : mag <= (uint64_t)INT64_MAX)) {
        out->types = T_INT_CHAIN;
        out->ival = neg ? (int64_t)(0u - mag) : (int64_t)mag;
        return true;
    }
    out->types = T_DEC_CHAIN; /* past int64: widen, never wrap */
    return true;
}

#if !defined(__SSE2__) /* the portable uuid check; SSE2 has hex16 below */
/* SWAR: the high bit of each byte of the result is set where that byte of w
 * is in [lo, hi].  Only for w of ASCII bytes (no byte >= 0x80), so that no
 * addition carries into the next byte; lo >= 0x21 and hi <= 0x7e. */
static inline uint64_t bytes_in_range(uint64_t w, uint8_t lo, uint8_t hi)
{
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t ge_lo = w + ones * (uint64_t)(0x80 - lo); /* high bit: byte >= lo */
    uint64_t gt_hi = w + ones * (uint64_t)(0x7f - hi); /* high bit: byte > hi */
    return ge_lo & ~gt_hi & 0x8080808080808080ull;
}

/* Are the 8 bytes of w all hexadecimal digits? */
static inline bool eight_hex(uint64_t w)
{
    if (w & 0x8080808080808080ull)
        return false;
    uint64_t ok = bytes_in_range(w, '0', '9') |
                  bytes_in_range(w | 0x2020202020202020ull, 'a', 'f');
    return ok == 0x8080808080808080ull;
}
#endif

#if defined(__SSE2__)
/* Bit i set: byte i of p[0, 16) is a hexadecimal digit (either case).  As
 * nondigit16 below: bytes minus (lo + 128) are below -128 + k exactly for
 * the k bytes lo .. lo + k - 1; OR-ing 0x20 folds 'A'-'F' onto 'a'-'f'. */
static inline unsigned hex16(const uint8_t *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i dig = _mm_cmplt_epi8(_mm_sub_epi8(v, _mm_set1_epi8((char)('0' + 128))),
                                 _mm_set1_epi8(-128 + 10));
    __m128i low = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i af = _mm_cmplt_epi8(_mm_sub_epi8(low, _mm_set1_epi8((char)('a' + 128))),
                                _mm_set1_epi8(-128 + 6));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(dig, af));
}
#endif

/* 8-4-4-4-12 hexadecimal digits with dashes: with SSE2 three masks of 16
 * bytes (0-15, 16-31, 20-35), else 8 bytes at a time. */
static bool is_uuid(const uint8_t *p, size_t n)
{
    if (n != 36 || p[8] != '-' || p[13] != '-' || p[18] != '-' || p[23] != '-')
        return false;
#if defined(__SSE2__)
    uint64_t hex = (uint64_t)hex16(p) | (uint64_t)hex16(p + 16) << 16 |
                   (uint64_t)hex16(p + 20) << 20;
    const uint64_t dashes = 1ull << 8 | 1ull << 13 | 1ull << 18 | 1ull << 23;
    return hex == (((1ull << 36) - 1) & ~dashes);
#else
    uint64_t a, b, c, d;
    uint32_t h1, h2, h3, h4;
    memcpy(&a, p, 8);
    memcpy(&h1, p + 9, 4);
    memcpy(&h2, p + 14, 4);
    memcpy(&h3, p + 19, 4);
    memcpy(&h4, p + 24, 4);
    memcpy(&d, p + 28, 8);
    b = (uint64_t)h1 | (uint64_t)h2 << 32;
    c = (uint64_t)h3 | (uint64_t)h4 << 32;
    return eight_hex(a) && eight_hex(b) && eight_hex(c) && eight_hex(d);
#endif
}

/* Dates, timestamps, timestamptz, times. */
static bool classify_temporal(const uint8_t *p, size_t n, struct field_class *out)
{
    uint32_t fmts;
    size_t k = dt_parse_date(p, n, &fmts);
    if (k) {
        out->date_fmts = fmts;
        if (k == n) {
            out->types = T_DATE_CHAIN;
            return true;
        }
        if (p[k] != 'T' && p[k] != ' ')
            return false;
        if (p[k] == 'T') { /* PostgreSQL rejects "15-Mar-2024T10:30:00" */
            fmts &= ~CSVI_BIT(DF_DbY_DASH);
            if (!fmts)
                return false;
            out->date_fmts = fmts;
        }
        uint8_t tf;
        size_t t = dt_parse_time(p + k + 1, n - k - 1, &tf);
        if (!t)
            return false;
        tf |= p[k] == 'T' ? TF_SEP_T : TF_SEP_SPACE;
        size_t e = k + 1 + t;
        if (e == n) {
            out->time_flags = tf;
            out->types = T_TS_CHAIN;
            return true;
        }
        if (dt_parse_zone(p + e, n - e) != n - e)
            return false;
        out->time_flags = tf | TF_ZONE;
        out->types = T_TSTZ_CHAIN;
        return true;
    }
    uint8_t tf;
    if (is_digit(p[0]) && dt_parse_time(p, n, &tf) == n) {
        out->time_flags = tf;
        out->types = CSVI_BIT(CSVI_TYPE_TIME) | T_TEXT;
        return true;
    }
    return false;
}

/* true/false, t/f, yes/no, y/n in any case.  OR-ing 0x20 into a byte gives
 * a lower-case letter exactly for that letter and its upper case, so the
 * words are compared 2 or 4 bytes at a time (little-endian, as above). */
static bool is_boolean(const uint8_t *p, size_t n)
{
    uint32_t w;
    uint16_t h;
    switch (n) {
    case 1: {
        uint8_t c = lower(p[0]);
        return c == 't' || c == 'f' || c == 'y' || c == 'n';
    }
    case 2: memcpy(&h, p, 2); return (h | 0x2020u) == ('n' | 'o' << 8);
    case 3: memcpy(&h, p, 2); return (h | 0x2020u) == ('y' | 'e' << 8) && (p[2] | 0x20) == 's';
    case 4:
        memcpy(&w, p, 4);
        return (w | 0x20202020u) == ('t' | 'r' << 8 | 'u' << 16 | (uint32_t)'e' << 24);
    case 5:
        memcpy(&w, p, 4);
        return (w | 0x20202020u) == ('f' | 'a' << 8 | 'l' << 16 | (uint32_t)'s' << 24) &&
               (p[4] | 0x20) == 'e';
    default: return false;
    }
}

static bool is_special_double(const uint8_t *p, size_t n)
{
    if (n && (p[0] == '+' || p[0] == '-')) {
        p++;
        n--;
    }
    return eq_nocase(p, n, "nan") || eq_nocase(p, n, "inf") || eq_nocase(p, n, "infinity");
}

void classify_cfg_init(struct classify_cfg *cfg, const char *const *tokens, const size_t *lens,
                       size_t n, bool quoted_empty_is_text, bool no_trim)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->null_tokens = tokens;
    cfg->null_lens = lens;
    cfg->n_null = n;
    cfg->quoted_empty_is_text = quoted_empty_is_text;
    cfg->no_trim = no_trim;
    for (size_t i = 0; i < n; i++) {
        if (!lens[i])
            continue;
        cfg->null_first[(uint8_t)tokens[i][0]] = 1;
        cfg->null_len_mask |= 1ull << (lens[i] < 63 ? lens[i] : 63);
    }
}

/* Which null token p is: its index, or -1. */
static inline int null_token_index(const uint8_t *p, size_t n, const struct classify_cfg *cfg)
{
    if (!cfg->null_first[p[0]] || !((cfg->null_len_mask >> (n < 63 ? n : 63)) & 1u))
        return -1;
    for (size_t i = 0; i < cfg->n_null; i++)
        if (cfg->null_lens[i] == n && memcmp(cfg->null_tokens[i], p, n) == 0)
            return (int)i;
    return -1;
}

/* The null_bits of token i (tokens past the 27th share bit 28) */
static inline uint32_t token_bit(int i) { return 1u << (i + 2 < 28 ? i + 2 : 28); }

uint32_t classify_null_bits(const uint8_t *p, size_t n, bool quoted, const struct classify_cfg *cfg)
{
    if (n == 0)
        return (quoted && cfg->quoted_empty_is_text) ? 0
               : quoted                              ? CSVI_NULL_QUOTED_EMPTY
                                                     : CSVI_NULL_EMPTY;
    size_t s = 0, e = n;
    if (p[0] <= ' ' || p[n - 1] <= ' ') {
        while (s < e && (p[s] == ' ' || p[s] == '\t'))
            s++;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (s == e || ((s != 0 || e != n) && cfg->no_trim))
            return 0;
    }
    int t = null_token_index(p + s, e - s, cfg);
    if (t < 0)
        return 0;
    return token_bit(t) | (quoted ? CSVI_NULL_TOKEN_QUOTED : 0) |
           (s != 0 || e != n ? CSVI_NULL_TOKEN_PADDED : 0);
}

void classify_field(const uint8_t *p, size_t n, bool quoted, const struct classify_cfg *cfg,
                    struct field_class *out)
{
    *out = (struct field_class){.types = T_TEXT};
    if (n == 0) {
        if (!(quoted && cfg->quoted_empty_is_text)) {
            out->types = CSVI_BIT(CSVI_TYPE_NULL);
            out->null_bits = quoted ? CSVI_NULL_QUOTED_EMPTY : CSVI_NULL_EMPTY;
        }
        return;
    }
    size_t s = 0, e = n;
    bool padded = false;
    if (p[0] <= ' ' || p[n - 1] <= ' ') { /* rare: look for spaces and tabs to trim */
        while (s < e && (p[s] == ' ' || p[s] == '\t'))
            s++;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (s == e)
            return; /* only blanks: a string, not a null */
        padded = s != 0 || e != n;
    }
    if (padded && cfg->no_trim)
        return;
    const uint8_t *v = p + s;
    size_t len = e - s;
    int tok = null_token_index(v, len, cfg);
    if (tok >= 0) {
        out->types = CSVI_BIT(CSVI_TYPE_NULL);
        out->null_bits = token_bit(tok) | (quoted ? CSVI_NULL_TOKEN_QUOTED : 0) |
                         (padded ? CSVI_NULL_TOKEN_PADDED : 0);
        return;
    }
    uint8_t c = v[0];
    if (is_digit(c) && len >= 10 && v[4] == '-') { /* ISO date/timestamp: never a number */
        classify_temporal(v, len, out);
        return;
    }
    if (is_digit(c) || c == '-' || c == '+' || c == '.') {
        if (classify_number(v, len, out))
            return;
        if (is_uuid(v, len)) {
            if (!padded)
                out->types = CSVI_BIT(CSVI_TYPE_UUID) | T_TEXT;
            return;
        }
        if (is_digit(c))
            classify_temporal(v, len, out);
        else if (is_special_double(v, len))
            out->types = T_DBL_CHAIN;
        return;
    }
    if (is_uuid(v, len)) {
        if (!padded)
            out->types = CSVI_BIT(CSVI_TYPE_UUID) | T_TEXT;
        return;
    }
    if (is_boolean(v, len)) {
        out->types = CSVI_BIT(CSVI_TYPE_BOOLEAN) | T_TEXT;
        return;
    }
    if (is_special_double(v, len)) {
        out->types = T_DBL_CHAIN;
        return;
    }
    /* month-name dates ("Mar 15 2024", "March 15, 2024 10:00") end in a digit or Z */
    if (lower(c) >= 'a' && lower(c) <= 'z' && len >= 10 &&
        (is_digit(v[len - 1]) || v[len - 1] == 'Z'))
        classify_temporal(v, len, out);
}

/* Is the year of "YYYY..." (four digits) a leap year?  (Out of line: rare.) */
__attribute__((noinline, cold)) static bool leap_year(const uint8_t *p)
{
    unsigned y = (p[0] - '0') * 1000u + (p[1] - '0') * 100u + (p[2] - '0') * 10u + (p[3] - '0');
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The calendar check of "YYYY-MM-DD" whose eight digits are known digits:
 * month 1-12, day 1 to the month's length (February 29 only in a leap year),
 * year not 0000.  The year's value is needed for February 29 alone. */
static inline bool ymd_valid(const uint8_t *p)
{
    static const uint8_t mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned m = (p[5] - '0') * 10u + (p[6] - '0'), d = (p[8] - '0') * 10u + (p[9] - '0');
    if (m - 1u > 11u || d - 1u >= mdays[m])
        return false;
    uint32_t y4;
    memcpy(&y4, p, 4);
    if (y4 == 0x30303030u) /* "0000" */
        return false;
    return m != 2 || d != 29 || leap_year(p);
}

/* "YYYY-MM-DD" (n >= 10): the first ten bytes, as dt_parse_date's fast
 * branch reads them (the caller checks what follows). */
static inline bool iso_date10(const uint8_t *p)
{
    if (p[4] != '-' || p[7] != '-')
        return false;
    unsigned d0 = p[0] - '0', d1 = p[1] - '0', d2 = p[2] - '0', d3 = p[3] - '0';
    unsigned m0 = p[5] - '0', m1 = p[6] - '0', a0 = p[8] - '0', a1 = p[9] - '0';
    if ((d0 | d1 | d2 | d3 | m0 | m1 | a0 | a1) > 9u && /* cheap test first, exact below */
        (d0 > 9 || d1 > 9 || d2 > 9 || d3 > 9 || m0 > 9 || m1 > 9 || a0 > 9 || a1 > 9))
        return false;
    return ymd_valid(p);
}

/* The first byte at or after i in p[0, n) that is not a digit (8 at a time). */
static inline size_t skip_digits(const uint8_t *p, size_t i, size_t n)
{
    uint64_t w;
    while (i + 8 <= n && (memcpy(&w, p + i, 8), eight_digits(w)))
        i += 8;
    while (i < n && is_digit(p[i]))
        i++;
    return i;
}

bool classify_plain_int(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                        int64_t *ival, uint32_t *digits)
{
    if (n == 0 || cfg->null_first[p[0]])
        return false;
    size_t s = p[0] == '-' || p[0] == '+';
    size_t len = n - s;
    if (len == 0 || len > 19 || (p[s] == '0' && len > 1))
        return false;
    uint64_t v = 0;
    size_t i = s;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (!eight_digits(w))
            return false;
        v = v * 100000000u + eight_digits_value(w);
    }
    for (; i < n; i++) {
        unsigned d = (unsigned)p[i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    bool neg = p[0] == '-';
    if (len == 19 && v > (uint64_t)INT64_MAX + neg) /* 19 digits fit in uint64 */
        return false;
    *ival = neg ? (int64_t)(0u - v) : (int64_t)v;
    *digits = p[s] == '0' ? 0 : (uint32_t)len;
    return true;
}

#if defined(__SSE2__)
/* Bit i set: byte i of p[0, 16) is not an ASCII digit (SSE2, part of x86-64).
 * Bytes minus ('0' + 128): the digits become -128..-119, signed, and only
 * they are below -118. */
static inline unsigned nondigit16(const uint8_t *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i x = _mm_sub_epi8(v, _mm_set1_epi8((char)('0' + 128)));
    __m128i digit = _mm_cmplt_epi8(x, _mm_set1_epi8(-128 + 10));
    return ~(unsigned)_mm_movemask_epi8(digit) & 0xFFFFu;
}

/* The value of digit values (0..9) in the 8 bytes of w, the first lowest. */
static inline uint64_t digits8_value(uint64_t w)
{
    w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFull;
    w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFull;
    return (w * 10000 + (w >> 32)) & 0xFFFFFFFFull;
}

/* The value of the k (1..8) digits at p (8 bytes readable): the bytes past
 * them are shifted out (a borrow of the subtraction only goes up into them). */
static inline uint64_t first_digits_value(const uint8_t *p, unsigned k)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return digits8_value((w - 0x3030303030303030ull) << (8 * (8 - k)));
}

bool classify_plain_int16(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                          int64_t *ival, uint32_t *digits)
{
    /* the usual integer first: 1 to 8 digits, the first not 0 (no sign, no
     * leading zero: what the general branch below gives it, shorter) */
    if (n - 1u < 8u && (unsigned)(p[0] - '1') < 9u && !cfg->null_first[p[0]]) {
        if (nondigit16(p) & ((1u << n) - 1u))
            return false;
        *ival = (int64_t)first_digits_value(p, (unsigned)n);
        *digits = (uint32_t)n;
        return true;
    }
    if (n == 0 || n > 16 || cfg->null_first[p[0]])
        return classify_plain_int(p, n, cfg, ival, digits);
    unsigned s = p[0] == '-' || p[0] == '+';
    unsigned len = (unsigned)n - s;
    if (len == 0 || (p[s] == '0' && len > 1) || (nondigit16(p) & ((1u << n) - 1u) & ~s))
        return false;
    uint64_t v = len <= 8 ? first_digits_value(p + s, len)
                          : first_digits_value(p + s, len - 8) * 100000000u +
                                first_digits_value(p + n - 8, 8);
    *ival = p[0] == '-' ? (int64_t)(0u - v) : (int64_t)v; /* 16 digits: no overflow */
    *digits = p[s] == '0' ? 0 : len;
    return true;
}

bool classify_plain_double16(const uint8_t *p, size_t n, const struct classify_cfg *cfg)
{
    if (n == 0 || n > 16 || cfg->null_first[p[0]] || (n >= 10 && p[4] == '-'))
        return false; /* (a digit, then '-' at 4: the general path reads it as a date) */
    unsigned s = p[0] == '-' || p[0] == '+';
    unsigned m = nondigit16(p) & ((1u << n) - 1u) & ~s;
    if (!m)
        return false;
    unsigned e = (unsigned)__builtin_ctz(m), dot = 0;
    bool point = p[e] == '.';
    if (point) {
        dot = e;
        m &= m - 1u;
        if (!m)
            return false;
        e = (unsigned)__builtin_ctz(m);
    }
    if ((p[e] | 0x20) != 'e')
        return false;
    m &= m - 1u;
    unsigned es = e + 1;
    if (m) { /* only the exponent's sign may follow */
        if (m != 1u << es || (p[es] != '-' && p[es] != '+'))
            return false;
        es++;
    }
    if (es >= n || n - es > 5)
        return false; /* no exponent digits, or more than the fast check reads */
    unsigned il = (point ? dot : e) - s, fl = point ? e - dot - 1 : 0;
    if (il + fl == 0 || (il > 1 && p[s] == '0'))
        return false;
    unsigned ex = 0;
    for (unsigned j = es; j < n; j++)
        ex = ex * 10 + (unsigned)(p[j] - '0');
    return ex + il + fl <= 280; /* else the range check of classify_number */
}

bool classify_iso_date16(const uint8_t *p, size_t n, const struct classify_cfg *cfg)
{
    if (n != 10 || cfg->null_first[p[0]] || (nondigit16(p) & 0x3FFu) != (1u << 4 | 1u << 7) ||
        p[4] != '-' || p[7] != '-')
        return false;
    return ymd_valid(p);
}

/* Bit i set: byte i of v is in [lo[i], hi[i]] (unsigned). */
static inline unsigned bytes_within16(__m128i v, const uint8_t *lo, const uint8_t *hi)
{
    __m128i l = _mm_loadu_si128((const __m128i *)(const void *)lo);
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)hi);
    __m128i ok = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, l), v),
                               _mm_cmpeq_epi8(_mm_min_epu8(v, h), v));
    return (unsigned)_mm_movemask_epi8(ok);
}

bool classify_iso_ts19(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                       uint8_t *time_flags)
{
    /* bytes 0-15 and 3-18 in their ranges: the digits (the tens of month,
     * day, hour, minute and second no higher than they can be), '-' and ':';
     * byte 10 (' ' or 'T') is let through here and looked at after */
    static const uint8_t lo_a[16] = {'0', '0', '0', '0', '-', '0', '0', '-',
                                     '0', '0', 0,   '0', '0', ':', '0', '0'};
    static const uint8_t hi_a[16] = {'9', '9', '9', '9', '-', '1', '9', '-',
                                     '3', '9', 255, '2', '9', ':', '5', '9'};
    static const uint8_t lo_b[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ':', '0', '0'};
    static const uint8_t hi_b[16] = {255, 255, 255, 255, 255, 255, 255, 255,
                                     255, 255, 255, 255, 255, ':', '5', '9'};
    if (n != 19 || cfg->null_first[p[0]])
        return false;
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 3));
    if ((bytes_within16(a, lo_a, hi_a) & bytes_within16(b, lo_b, hi_b)) != 0xFFFFu ||
        (p[10] != ' ' && p[10] != 'T') || !ymd_valid(p))
        return false;
    /* hours 20-23, or 24:00:00 */
    if (p[11] == '2' && p[12] > '3' &&
        (p[12] != '4' || p[14] != '0' || p[15] != '0' || p[17] != '0' || p[18] != '0'))
        return false;
    *time_flags = TF_SECONDS | (p[10] == 'T' ? TF_SEP_T : TF_SEP_SPACE);
    return true;
}

bool classify_plain_decimal16(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                              uint32_t *int_digits, uint32_t *scale)
{
    if (n == 0 || n > 16 || cfg->null_first[p[0]])
        return classify_plain_decimal(p, n, cfg, int_digits, scale);
    unsigned s = p[0] == '-' || p[0] == '+';
    unsigned nd = nondigit16(p) & ((1u << n) - 1u) & ~s; /* the sign is bit 0 */
    if (!nd || (nd & (nd - 1u)))
        return false; /* no point, or another byte that is no digit */
    unsigned e = (unsigned)__builtin_ctz(nd);
    unsigned il = e - s, fl = (unsigned)n - 1u - e;
    if (p[e] != '.' || (il > 1 && p[s] == '0') || il + fl == 0)
        return false;
    *int_digits = (il == 1 && p[s] == '0') ? 0 : il;
    *scale = fl;
    return true;
}
#else
bool classify_iso_ts19(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                       uint8_t *time_flags)
{
    struct field_class fc;
    if (n != 19 ||
        !classify_expected(CSVI_BIT(CSVI_TYPE_TIMESTAMP) | CSVI_BIT(CSVI_TYPE_TIMESTAMPTZ) | T_TEXT,
                           p, n, cfg, &fc) ||
        fc.types != T_TS_CHAIN)
        return false;
    *time_flags = fc.time_flags;
    return true;
}

bool classify_iso_date16(const uint8_t *p, size_t n, const struct classify_cfg *cfg)
{
    return n == 10 && !cfg->null_first[p[0]] && iso_date10(p);
}

bool classify_plain_double16(const uint8_t *p, size_t n, const struct classify_cfg *cfg)
{
    (void)p, (void)n, (void)cfg;
    return false;
}

bool classify_plain_int16(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                          int64_t *ival, uint32_t *digits)
{
    return classify_plain_int(p, n, cfg, ival, digits);
}

bool classify_plain_decimal16(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                              uint32_t *int_digits, uint32_t *scale)
{
    return classify_plain_decimal(p, n, cfg, int_digits, scale);
}
#endif

bool classify_plain_decimal(const uint8_t *p, size_t n, const struct classify_cfg *cfg,
                            uint32_t *int_digits, uint32_t *scale)
{
    if (n == 0 || cfg->null_first[p[0]])
        return false;
    size_t s = p[0] == '-' || p[0] == '+';
    size_t e = skip_digits(p, s, n);
    size_t il = e - s;
    if (e >= n || p[e] != '.' || (il > 1 && p[s] == '0'))
        return false;
    size_t f = skip_digits(p, e + 1, n);
    size_t fl = f - e - 1;
    size_t sig = (il == 1 && p[s] == '0') ? 0 : il;
    if (f != n || il + fl == 0 || sig + fl > CSVI_NUMERIC_MAX_PRECISION)
        return false;
    *int_digits = (uint32_t)sig;
    *scale = (uint32_t)fl;
    return true;
}

bool classify_expected(uint32_t expect, const uint8_t *p, size_t n,
                       const struct classify_cfg *cfg, struct field_class *out)
{
    /* empty values and anything that may be a null token: the general path;
     * every shape below starts and ends with a byte above ' ' (no trimming).
     * Only the fields column_add reads for the type set returned are set. */
    if (n == 0 || cfg->null_first[p[0]])
        return false;
    uint8_t c = p[0];
    if (expect & CSVI_BIT(CSVI_TYPE_DOUBLE)) { /* integer, decimal, double */
        if (!(is_digit(c) || c == '-' || c == '+' || c == '.') || p[n - 1] <= ' ' ||
            (is_digit(c) && n >= 10 && p[4] == '-'))
            return false;
        return classify_number(p, n, out);
    }
    if (expect & CSVI_BIT(CSVI_TYPE_TIMESTAMP)) { /* date, timestamp: ISO, fixed width */
        if (n == 10) {
            if (!iso_date10(p))
                return false;
            out->date_fmts = CSVI_BIT(DF_YMD_DASH);
            out->time_flags = 0;
            out->types = T_DATE_CHAIN;
            return true;
        }
        /* YYYY-MM-DD[T ]HH:MM:SS */
        if (n != 19 || (p[10] != ' ' && p[10] != 'T') || p[13] != ':' || p[16] != ':')
            return false;
        unsigned h0 = p[11] - '0', h1 = p[12] - '0', i0 = p[14] - '0', i1 = p[15] - '0';
        unsigned s0 = p[17] - '0', s1 = p[18] - '0';
#if defined(__SSE2__)
        /* the 14 digits by two masks over bytes 0-15 and 3-18 (in the value) */
        if (((nondigit16(p) | nondigit16(p + 3) << 3) & 0x7FFFFu) !=
                (1u << 4 | 1u << 7 | 1u << 10 | 1u << 13 | 1u << 16) ||
            p[4] != '-' || p[7] != '-' || !ymd_valid(p))
            return false;
#else
        if (!iso_date10(p) || h0 > 9 || h1 > 9 || i0 > 9 || i1 > 9 || s0 > 9 || s1 > 9)
            return false;
#endif
        unsigned h = h0 * 10 + h1, mi = i0 * 10 + i1, s = s0 * 10 + s1;
        if (mi > 59 || s > 59 || h > 24 || (h == 24 && (mi != 0 || s != 0)))
            return false;
        out->date_fmts = CSVI_BIT(DF_YMD_DASH);
        out->time_flags = TF_SECONDS | (p[10] == 'T' ? TF_SEP_T : TF_SEP_SPACE);
        out->types = T_TS_CHAIN;
        return true;
    }
    if (expect == (CSVI_BIT(CSVI_TYPE_UUID) | T_TEXT)) {
        if (!is_uuid(p, n))
            return false;
        out->types = expect;
        return true;
    }
    if (expect == (CSVI_BIT(CSVI_TYPE_BOOLEAN) | T_TEXT)) {
        if (!is_boolean(p, n)) /* letters only: no trimming, not a number or uuid */
            return false;
        out->types = expect;
        return true;
    }
    return false;
}

uint64_t utf8_char_count(const uint8_t *p, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (p[i] & 0xC0) != 0x80;
    return k;
}

size_t utf8_first_invalid_scalar(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* fast path: 32, then 8 ASCII bytes at a time */
        if (i + 32 <= n) {
            uint64_t w[4];
            memcpy(w, p + i, 32);
            if (((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull) == 0) {
                i += 32;
                continue;
            }
        }
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_char_len(p + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

static size_t (*utf8_fn)(const uint8_t *, size_t);

/* Chosen once: split_select_kernels calls it before threads start. */
void utf8_select_kernel(void)
{
    if (!utf8_fn)
        utf8_fn = split_have_avx2() ? utf8_first_invalid_avx2 : utf8_first_invalid_scalar;
}

size_t utf8_first_invalid(const uint8_t *p, size_t n)
{
    utf8_select_kernel();
    return utf8_fn(p, n);
}
