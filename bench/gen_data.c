/*
 * gen_data.c — deterministic CSV data generator for csvinfer's benchmarks
 * (bench/bench.sh) and sanity checks. Standalone C17, libc (+ POSIX mkdir) only.
 * Build: cc -std=c17 -O2 -o build/gen_data bench/gen_data.c   (scripts/gen-data does it)
 *
 * Usage:
 *   gen_data --profile mixed|numeric|text --size BYTES[K|M|G] [--seed N] -o FILE|-
 *   gen_data --profile P --files N --file-size BYTES[K|M|G] [--seed N] --dir DIR
 *            (writes DIR/part-00000.csv ... DIR/part-(N-1).csv; DIR is created)
 *
 * Output: UTF-8, a header row, comma delimiter, '"' quote (doubled inside quotes),
 * LF line endings, every record (the last one too) ends with LF. Records are written
 * until the file holds at least BYTES bytes: the file ends at the first record end at
 * or after BYTES (a BYTES no larger than the header gives a header-only file).
 * Sizes are binary: K = 1024, M = 1024^2, G = 1024^3 (a trailing B/iB is accepted).
 * The same (profile, size, seed) always gives the same bytes, on any machine. File k
 * of --files is seeded from (seed, k), so `--size S -o F` equals part-00000.csv of
 * `--files N --file-size S`, and a smaller --size gives a prefix of a larger one (up
 * to its last record). Ids of the mixed profile continue across parts.
 * "Row 0" below is the first data record of each file: it holds boundary values so
 * that even tiny files (10 KB) get the documented type and SQL type.
 *
 * Expected verdicts (DESIGN.md §2, docs/types.md). No column of any profile holds a
 * null except mixed.note; every other column has nullable = false.
 *
 * --profile mixed  (~143 bytes/record; ~7.5 M records per GiB)
 *   id          integer     1, 2, 3, ... (continues across --files parts); SQL type by
 *                           range: SMALLINT up to 32767 rows, then INTEGER
 *   uuid        uuid        random version-4 UUIDs, lowercase
 *   customer    text        "First Last"; ~2% quoted with an embedded comma
 *                           ("Last, First"); ~0.1% quoted with an embedded LF and
 *                           doubled quotes ("First ""Nick"" Last<LF>c/o Company")
 *   amount      decimal     -1234.50 .. 99999.99, always 2 places: NUMERIC(7,2)
 *                           (row 0 is 99999.99)
 *   qty         integer     0 .. 500: SMALLINT
 *   ratio       double      exponent form d.ddde±XX, e.g. 1.234e-05 (10^-12 .. 10^2)
 *   created     date        %Y-%m-%d, valid dates 2000-01-01 .. 2030-12-31
 *   updated_at  timestamp   %Y-%m-%d %H:%M:%S, created + 0..364 days (up to 2031-12-30)
 *   active      boolean     true / false
 *   zip         text        5-digit codes 00000..99999; ~10% have leading zeros
 *                           (row 0 is 00501), so the column is text, never integer
 *   note        text        nullable: ~30% empty fields (row 0 is never empty);
 *                           1-8 plain words otherwise
 *
 * --profile numeric  (~124 bytes/record)
 *   n_tiny      integer     0 .. 9: SMALLINT
 *   n_small     integer     -32768 .. 32767: SMALLINT (row 0 is -32768, row 1 32767)
 *   n_int       integer     int32 range: INTEGER (row 0 is -2147483648, row 1 2147483647)
 *   n_big       integer     int64 range: BIGINT (row 0 is INT64_MIN, row 1 INT64_MAX)
 *   n_width     integer     1..18 digits, ~25% negative: BIGINT (row 0 has 18 digits)
 *   d_price     decimal     0.00 .. 99999.99: NUMERIC(7,2) (row 0 is 99999.99)
 *   d_rate      decimal     -9.9999 .. 9.9999: NUMERIC(5,4) (row 0 is -9.9999)
 *   d_wide      decimal     1..20 integer digits, 1..10 fraction digits, ~1/3
 *                           negative: NUMERIC(30,10) (row 0 has 20 and 10 digits)
 *   d_mixed     decimal     half integers (-99999..99999), half with 1..3 places:
 *                           integers widen into decimal: NUMERIC(8,3) (row 0 -99999.999)
 *   f_exp       double      d[.dddddd]e±XX[X], exponent -300..300, e.g. -4.5e-213
 *   f_mixed     double      ~half fixed point (1..5 places, up to 9 integer digits),
 *                           ~half exponent form (e or E), ~0.4% NaN / Inf / -Inf /
 *                           Infinity (row 0 is 6.02214076E+23, so the column never
 *                           reads as decimal)
 *   f_intexp    double      integer mantissa with exponent: 6e23, -3E-7, 12e+05
 *
 * --profile text  (6 columns, ~25 bytes/field on average, ~20% of fields quoted)
 *   title, author, category, summary, location, comment
 *               text        words (some non-ASCII UTF-8: café, Zürich, São, naïve);
 *                           ~20% of fields quoted, holding a comma (", "), doubled
 *                           quotes (""word"") or both. Every column is text, so per
 *                           DESIGN.md §2 the first row is taken as the header.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define OUT_BUF_CAP ((size_t)1 << 20) /* 1 MiB: stays in L2 between fill and write */
#define MAX_RECORD ((size_t)16 << 10) /* no generated record comes close to this */

/* ---- PRNG: xoshiro256**, seeded with splitmix64 -------------------------------- */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform-enough integer in [0, n), n <= 2^32 (multiply-shift, no division). */
static inline uint32_t below(rng_t *r, uint64_t n)
{
    return (uint32_t)(((next(r) >> 32) * n) >> 32);
}

/* ---- formatting helpers: each writes at p and returns the new end ------------- */

typedef struct {
    const char *s;
    size_t n;
} str_t;
#define S(lit) {lit, sizeof(lit) - 1}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char DIGITS2[] = "00010203040506070809101112131415161718192021222324"
                              "25262728293031323334353637383940414243444546474849"
                              "50515253545556575859606162636465666768697071727374"
                              "75767778798081828384858687888990919293949596979899";
static const char HEX[] = "0123456789abcdef";

static inline char *put_str(char *p, str_t s)
{
    memcpy(p, s.s, s.n);
    return p + s.n;
}

static inline char *put_lit(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static inline char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *q = e;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, DIGITS2 + 2 * d, 2);
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, DIGITS2 + 2 * v, 2);
    } else {
        *--q = (char)('0' + v);
    }
    memcpy(p, q, (size_t)(e - q));
    return p + (e - q);
}

static inline char *put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

/* v zero-padded to exactly `width` digits (v < 10^width). */
static inline char *put_padded(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

static inline char *put_2d(char *p, unsigned v)
{
    memcpy(p, DIGITS2 + 2 * v, 2);
    return p + 2;
}

static const uint64_t POW10[] = {1ULL,
                                 10ULL,
                                 100ULL,
                                 1000ULL,
                                 10000ULL,
                                 100000ULL,
                                 1000000ULL,
                                 10000000ULL,
                                 100000000ULL,
                                 1000000000ULL,
                                 10000000000ULL,
                                 100000000000ULL,
                                 1000000000000ULL,
                                 10000000000000ULL,
                                 100000000000000ULL,
                                 1000000000000000ULL,
                                 10000000000000000ULL,
                                 100000000000000000ULL,
                                 1000000000000000000ULL};

/* Fixed point: v / 10^scale with exactly `scale` places ("-0.05", "12.50"). */
static inline char *put_fixed(char *p, int64_t v, int scale)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *p++ = '-';
    p = put_u64(p, u / POW10[scale]);
    *p++ = '.';
    return put_padded(p, u % POW10[scale], scale);
}

/* A random number of exactly n digits (first digit 1-9; n == 1 gives 0-9), any n. */
static char *put_rand_digits(char *p, rng_t *r, int n)
{
    if (n == 1) {
        *p++ = (char)('0' + below(r, 10));
        return p;
    }
    *p++ = (char)('1' + below(r, 9));
    n--;
    while (n > 0) {
        int k = n < 18 ? n : 18;
        p = put_padded(p, next(r) % POW10[k], k);
        n -= k;
    }
    return p;
}

/* Exponent "e-05" / "E+123": at least two digits, like printf's %e. */
static inline char *put_exp(char *p, int e, char letter)
{
    *p++ = letter;
    *p++ = e < 0 ? '-' : '+';
    unsigned a = (unsigned)(e < 0 ? -e : e);
    if (a >= 100) {
        *p++ = (char)('0' + a / 100);
        a %= 100;
    }
    return put_2d(p, a);
}

/* ---- dates (proleptic Gregorian, H. Hinnant's algorithms) --------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static char *put_date(char *p, int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    p = put_padded(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_2d(p, m);
    *p++ = '-';
    return put_2d(p, d);
}

/* ---- word lists ---------------------------------------------------------------- */

static const str_t FIRST[] = {
    S("James"),  S("Mary"),    S("John"),    S("Patricia"), S("Robert"),  S("Jennifer"),
    S("Michael"), S("Linda"),  S("William"), S("Elizabeth"), S("David"),  S("Barbara"),
    S("Richard"), S("Susan"),  S("Joseph"),  S("Jessica"),  S("Thomas"),  S("Sarah"),
    S("Charles"), S("Karen"),  S("Daniel"),  S("Nancy"),    S("Matthew"), S("Lisa"),
    S("Anthony"), S("Betty"),  S("Mark"),    S("Sandra"),   S("Paul"),    S("Ashley"),
    S("Steven"),  S("Emily"),  S("Andrew"),  S("Donna"),    S("Joshua"),  S("Michelle"),
    S("Kevin"),   S("Carol"),  S("Brian"),   S("Amanda"),   S("George"),  S("Melissa"),
    S("Ana"),     S("Li"),     S("Wei"),     S("Fatima"),   S("Olga"),    S("Hiroshi"),
    S("José"),    S("Zoë"),    S("Søren"),   S("Björn"),    S("Chloé"),   S("Ali"),
    S("Priya"),   S("Arjun"),  S("Mei"),     S("Ngozi"),    S("Kwame"),   S("Ines"),
    S("Lucas"),   S("Noah"),   S("Emma"),    S("Mia"),
};

static const str_t LAST[] = {
    S("Smith"),    S("Johnson"),  S("Williams"), S("Brown"),     S("Jones"),   S("Garcia"),
    S("Miller"),   S("Davis"),    S("Rodriguez"), S("Martinez"), S("Hernandez"), S("Lopez"),
    S("Gonzalez"), S("Wilson"),   S("Anderson"), S("Thomas"),    S("Taylor"),  S("Moore"),
    S("Jackson"),  S("Martin"),   S("Lee"),      S("Perez"),     S("Thompson"), S("White"),
    S("Harris"),   S("Sanchez"),  S("Clark"),    S("Ramirez"),   S("Lewis"),   S("Robinson"),
    S("Walker"),   S("Young"),    S("Allen"),    S("King"),      S("Wright"),  S("Scott"),
    S("Nguyen"),   S("Hill"),     S("Flores"),   S("Green"),     S("Adams"),   S("Nelson"),
    S("Müller"),   S("Schmidt"),  S("Kowalski"), S("Novák"),     S("Silva"),   S("Santos"),
    S("Tanaka"),   S("Sato"),     S("Wang"),     S("Chen"),      S("Kim"),     S("Park"),
    S("Okafor"),   S("Mensah"),   S("O'Brien"),  S("Dubois"),    S("Rossi"),   S("Jansen"),
    S("Ivanova"),  S("Petrov"),   S("Andersson"), S("Øberg"),
};

static const str_t NICK[] = {S("JJ"), S("Bud"), S("Doc"), S("Ace"), S("Red"), S("Sky"),
                             S("Max"), S("Kit")};

static const str_t COMPANY[] = {S("Acme Corp"),    S("Globex"),  S("Initech"),
                                S("Umbrella Ltd"), S("Hooli"),   S("Stark Industries"),
                                S("Wayne Enterprises"), S("Vandelay Imports")};

/* Plain words for note/text: never a null token, boolean, number, date or uuid. */
static const str_t WORD[] = {
    S("alpha"),    S("bravo"),     S("charlie"),  S("delta"),    S("echo"),     S("foxtrot"),
    S("order"),    S("shipped"),   S("pending"),  S("refund"),   S("customer"), S("invoice"),
    S("payment"),  S("delivery"),  S("warehouse"), S("priority"), S("express"), S("standard"),
    S("returned"), S("damaged"),   S("replaced"), S("backorder"), S("discount"), S("coupon"),
    S("the"),      S("a"),         S("of"),       S("and"),      S("to"),       S("in"),
    S("with"),     S("for"),       S("on"),       S("at"),       S("from"),     S("by"),
    S("quick"),    S("brown"),     S("lazy"),     S("dog"),      S("jumps"),    S("over"),
    S("café"),     S("naïve"),     S("Zürich"),   S("São"),      S("Paulo"),    S("résumé"),
    S("blue"),     S("green"),     S("red"),      S("large"),    S("small"),    S("medium"),
    S("north"),    S("south"),     S("east"),     S("west"),     S("river"),    S("mountain"),
    S("please"),   S("call"),      S("back"),     S("later"),
};

static inline str_t pick(rng_t *r, const str_t *list, size_t n) { return list[below(r, n)]; }

/* ---- per-profile record writers ------------------------------------------------- */

typedef struct {
    rng_t rng;
    uint64_t next_id; /* mixed.id, continues across parts */
    int64_t day0, ndays;
} gen_t;

typedef char *(*row_fn)(gen_t *g, char *p, uint64_t row);

static const char HEADER_MIXED[] =
    "id,uuid,customer,amount,qty,ratio,created,updated_at,active,zip,note\n";
static const char HEADER_NUMERIC[] = "n_tiny,n_small,n_int,n_big,n_width,d_price,d_rate,"
                                     "d_wide,d_mixed,f_exp,f_mixed,f_intexp\n";
static const char HEADER_TEXT[] = "title,author,category,summary,location,comment\n";

static char *put_uuid(char *p, rng_t *r)
{
    uint64_t a = next(r), b = next(r);
    a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; /* version 4 */
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10xx */
    for (int i = 0; i < 16; i++) {
        int nib = 15 - i;
        *p++ = HEX[(a >> (4 * nib)) & 0xf];
        if (i == 7 || i == 11)
            *p++ = '-';
    }
    *p++ = '-';
    for (int i = 0; i < 16; i++) {
        int nib = 15 - i;
        *p++ = HEX[(b >> (4 * nib)) & 0xf];
        if (i == 3)
            *p++ = '-';
    }
    return p;
}

static char *put_words(char *p, rng_t *r, unsigned nwords)
{
    for (unsigned i = 0; i < nwords; i++) {
        if (i)
            *p++ = ' ';
        p = put_str(p, pick(r, WORD, COUNT(WORD)));
    }
    return p;
}

static char *row_mixed(gen_t *g, char *p, uint64_t row)
{
    rng_t *r = &g->rng;

    p = put_u64(p, g->next_id++);
    *p++ = ',';
    p = put_uuid(p, r);
    *p++ = ',';

    /* customer */
    uint32_t c = below(r, 10000);
    str_t first = pick(r, FIRST, COUNT(FIRST)), last = pick(r, LAST, COUNT(LAST));
    if (c < 10) { /* ~0.1%: quoted, doubled quotes and an embedded newline */
        *p++ = '"';
        p = put_str(p, first);
        p = put_lit(p, " \"\"");
        p = put_str(p, pick(r, NICK, COUNT(NICK)));
        p = put_lit(p, "\"\" ");
        p = put_str(p, last);
        p = put_lit(p, "\nc/o ");
        p = put_str(p, pick(r, COMPANY, COUNT(COMPANY)));
        *p++ = '"';
    } else if (c < 210) { /* ~2%: quoted "Last, First" */
        *p++ = '"';
        p = put_str(p, last);
        *p++ = ',';
        *p++ = ' ';
        p = put_str(p, first);
        *p++ = '"';
    } else {
        p = put_str(p, first);
        *p++ = ' ';
        p = put_str(p, last);
    }
    *p++ = ',';

    /* amount: -1234.50 .. 99999.99 */
    int64_t cents = row == 0 ? 9999999 : (int64_t)below(r, 9999999 + 123450 + 1) - 123450;
    p = put_fixed(p, cents, 2);
    *p++ = ',';

    /* qty */
    p = put_u64(p, below(r, 501));
    *p++ = ',';

    /* ratio: d.ddde±XX, exponent -12 .. 2 */
    uint32_t mant = 1000 + below(r, 9000);
    *p++ = (char)('0' + mant / 1000);
    *p++ = '.';
    p = put_padded(p, mant % 1000, 3);
    p = put_exp(p, (int)below(r, 15) - 12, 'e');
    *p++ = ',';

    /* created, updated_at */
    int64_t day = g->day0 + below(r, (uint64_t)g->ndays);
    p = put_date(p, day);
    *p++ = ',';
    p = put_date(p, day + below(r, 365));
    *p++ = ' ';
    uint32_t secs = below(r, 86400);
    p = put_2d(p, secs / 3600);
    *p++ = ':';
    p = put_2d(p, secs / 60 % 60);
    *p++ = ':';
    p = put_2d(p, secs % 60);
    *p++ = ',';

    /* active */
    p = put_lit(p, (next(r) >> 63) ? "true" : "false");
    *p++ = ',';

    /* zip */
    if (row == 0)
        p = put_lit(p, "00501");
    else
        p = put_padded(p, below(r, 100000), 5);
    *p++ = ',';

    /* note: ~30% empty */
    uint32_t nw = below(r, 100) < 30 && row != 0 ? 0 : 1 + below(r, 8);
    p = put_words(p, r, nw);

    *p++ = '\n';
    return p;
}

static char *row_numeric(gen_t *g, char *p, uint64_t row)
{
    rng_t *r = &g->rng;
    int64_t v;

    /* n_tiny */
    *p++ = (char)('0' + below(r, 10));
    *p++ = ',';

    /* n_small */
    v = row == 0 ? -32768 : row == 1 ? 32767 : (int64_t)below(r, 65536) - 32768;
    p = put_i64(p, v);
    *p++ = ',';

    /* n_int */
    v = row == 0 ? INT32_MIN : row == 1 ? INT32_MAX : (int32_t)(uint32_t)(next(r) >> 32);
    p = put_i64(p, v);
    *p++ = ',';

    /* n_big */
    v = row == 0 ? INT64_MIN : row == 1 ? INT64_MAX : (int64_t)next(r);
    p = put_i64(p, v);
    *p++ = ',';

    /* n_width: 1..18 digits, ~25% negative */
    {
        int w = row == 0 ? 18 : 1 + (int)below(r, 18);
        if (below(r, 4) == 0)
            *p++ = '-';
        p = put_rand_digits(p, r, w);
        if (p[-1] == '0' && w == 1 && p[-2] == '-') /* "-0" is fine, but keep it tidy */
            p[-1] = '7';
    }
    *p++ = ',';

    /* d_price: 0.00 .. 99999.99 */
    p = put_fixed(p, row == 0 ? 9999999 : (int64_t)below(r, 10000000), 2);
    *p++ = ',';

    /* d_rate: -9.9999 .. 9.9999 */
    p = put_fixed(p, row == 0 ? -99999 : (int64_t)below(r, 199999) - 99999, 4);
    *p++ = ',';

    /* d_wide: 1..20 integer digits, 1..10 fraction digits */
    {
        int wi = row == 0 ? 20 : 1 + (int)below(r, 20);
        int wf = row == 0 ? 10 : 1 + (int)below(r, 10);
        if (below(r, 3) == 0)
            *p++ = '-';
        p = put_rand_digits(p, r, wi);
        *p++ = '.';
        p = put_padded(p, next(r) % POW10[wf], wf);
    }
    *p++ = ',';

    /* d_mixed: integers and 1..3-place decimals */
    if (row == 0) {
        p = put_lit(p, "-99999.999");
    } else if (next(r) >> 63) {
        p = put_i64(p, (int64_t)below(r, 199999) - 99999);
    } else {
        int sc = 1 + (int)below(r, 3);
        p = put_fixed(p, (int64_t)below(r, (uint64_t)(199999 * POW10[sc])) - 99999 * (int64_t)POW10[sc], sc);
    }
    *p++ = ',';

    /* f_exp: d[.dddddd]e±XX[X], exponent -300 .. 300 */
    {
        if (next(r) >> 63)
            *p++ = '-';
        int md = 1 + (int)below(r, 7);
        *p++ = (char)('1' + below(r, 9));
        if (md > 1) {
            *p++ = '.';
            p = put_padded(p, next(r) % POW10[md - 1], md - 1);
        }
        p = put_exp(p, (int)below(r, 601) - 300, 'e');
    }
    *p++ = ',';

    /* f_mixed: fixed point, exponent form, and a few NaN/Inf */
    if (row == 0) {
        p = put_lit(p, "6.02214076E+23");
    } else {
        uint32_t k = below(r, 1000);
        if (k < 4) {
            static const char *const special[] = {"NaN", "Inf", "-Inf", "Infinity"};
            p = put_lit(p, special[k]);
        } else if (k < 502) {
            int sc = 1 + (int)below(r, 5);
            p = put_fixed(p, (int64_t)(next(r) % (2 * 10000000000ULL)) - 10000000000LL, sc);
        } else {
            if (next(r) >> 63)
                *p++ = '-';
            *p++ = (char)('1' + below(r, 9));
            *p++ = '.';
            p = put_padded(p, next(r) % 100000, 5);
            p = put_exp(p, (int)below(r, 61) - 30, below(r, 4) ? 'e' : 'E');
        }
    }
    *p++ = ',';

    /* f_intexp: integer mantissa with an exponent, varied spellings */
    {
        if (below(r, 4) == 0)
            *p++ = '-';
        p = put_u64(p, 1 + below(r, 999));
        uint32_t form = below(r, 4);
        int e = (int)below(r, 61) - 30;
        *p++ = form & 1 ? 'E' : 'e';
        if (form & 2) {
            *p++ = e < 0 ? '-' : '+';
            p = put_2d(p, (unsigned)(e < 0 ? -e : e));
        } else {
            p = put_i64(p, e);
        }
    }
    *p++ = '\n';
    return p;
}

/* A text field of at least `min_len` bytes of words; ~20% quoted with a comma, doubled
 * quotes, or both. */
static char *put_text_field(char *p, rng_t *r, unsigned lo, unsigned hi)
{
    unsigned target = lo + below(r, hi - lo + 1);
    uint32_t q = below(r, 100);
    int quoted = q < 20;
    int comma = quoted && q < 15;       /* 15%: a comma */
    int dquote = quoted && q >= 9;      /* 11%: doubled quotes (6% both) */
    char *start = p;
    if (quoted)
        *p++ = '"';
    unsigned i = 0;
    while ((unsigned)(p - start) < target || i < 2) {
        if (i) {
            if (i == 1 && comma)
                *p++ = ',';
            *p++ = ' ';
        }
        if (i == 1 && dquote) {
            *p++ = '"';
            *p++ = '"';
            p = put_str(p, pick(r, WORD, COUNT(WORD)));
            *p++ = '"';
            *p++ = '"';
        } else {
            p = put_str(p, pick(r, WORD, COUNT(WORD)));
        }
        i++;
    }
    if (quoted)
        *p++ = '"';
    return p;
}

static char *row_text(gen_t *g, char *p, uint64_t row)
{
    static const unsigned LO[6] = {8, 8, 4, 20, 6, 10}, HI[6] = {30, 30, 24, 50, 26, 40};
    (void)row;
    for (int c = 0; c < 6; c++) {
        if (c)
            *p++ = ',';
        p = put_text_field(p, &g->rng, LO[c], HI[c]);
    }
    *p++ = '\n';
    return p;
}

/* ---- output ---------------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
    const char *path;
} out_t;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "gen_data: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static void flush_out(out_t *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
        die("write error on %s", o->path);
    o->len = 0;
}

/* Writes one file: header, then records until at least `size` bytes. */
static uint64_t write_file(gen_t *g, out_t *o, const char *path, uint64_t size,
                           const char *header, row_fn row)
{
    int to_stdout = strcmp(path, "-") == 0;
    o->path = to_stdout ? "<stdout>" : path;
    o->f = to_stdout ? stdout : fopen(path, "wb");
    if (!o->f) {
        fprintf(stderr, "gen_data: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    setvbuf(o->f, NULL, _IONBF, 0); /* we hand fwrite whole 1 MiB blocks */
    o->len = 0;

    size_t hn = strlen(header);
    memcpy(o->buf, header, hn);
    o->len = hn;
    uint64_t total = hn;
    for (uint64_t r = 0; total < size; r++) {
        char *start = o->buf + o->len;
        char *end = row(g, start, r);
        size_t n = (size_t)(end - start);
        if (n > MAX_RECORD)
            die("internal error: record longer than MAX_RECORD in %s", o->path);
        o->len += n;
        total += n;
        if (o->len > OUT_BUF_CAP - MAX_RECORD)
            flush_out(o);
    }
    flush_out(o);
    if (to_stdout ? fflush(o->f) != 0 : fclose(o->f) != 0)
        die("write error on %s", o->path);
    return total;
}

/* ---- command line ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: gen_data --profile mixed|numeric|text --size BYTES[K|M|G] [--seed N] -o FILE|-\n"
          "       gen_data --profile P --files N --file-size BYTES[K|M|G] [--seed N] --dir DIR\n"
          "Writes deterministic CSV (header, LF, comma) ending at the first record end at or\n"
          "after BYTES. K/M/G are powers of 1024. Default seed: 42. Column types: see the\n"
          "comment at the top of bench/gen_data.c.\n",
          f);
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
        end += strlen(end);
    if (*end)
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static void mkdir_p(const char *dir)
{
    size_t n = strlen(dir);
    char *tmp = malloc(n + 1);
    if (!tmp)
        die("%s", "out of memory");
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "gen_data: cannot create %s: %s\n", tmp, strerror(errno));
                exit(1);
            }
            tmp[i] = c;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        die("%s is not a directory", dir);
    free(tmp);
}

int main(int argc, char **argv)
{
    const char *profile = NULL, *out_path = NULL, *dir = NULL;
    uint64_t size = 0, file_size = 0, nfiles = 0, seed = 42;
    int have_size = 0, have_file_size = 0, have_files = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char name[32];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        /* --opt=value or --opt value */
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            a = name;
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "gen_data: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        int bad = 0;
        if (strcmp(a, "--profile") == 0)
            profile = val;
        else if (strcmp(a, "--size") == 0)
            bad = parse_size(val, &size), have_size = 1;
        else if (strcmp(a, "--file-size") == 0)
            bad = parse_size(val, &file_size), have_file_size = 1;
        else if (strcmp(a, "--files") == 0)
            bad = parse_u64(val, &nfiles), have_files = 1;
        else if (strcmp(a, "--seed") == 0)
            bad = parse_u64(val, &seed);
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
            out_path = val;
        else if (strcmp(a, "--dir") == 0)
            dir = val;
        else {
            fprintf(stderr, "gen_data: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "gen_data: bad value for %s: %s\n", a, val);
            return 2;
        }
    }

    const char *header;
    row_fn row;
    if (!profile) {
        fputs("gen_data: --profile is required\n", stderr);
        usage(stderr);
        return 2;
    } else if (strcmp(profile, "mixed") == 0) {
        header = HEADER_MIXED, row = row_mixed;
    } else if (strcmp(profile, "numeric") == 0) {
        header = HEADER_NUMERIC, row = row_numeric;
    } else if (strcmp(profile, "text") == 0) {
        header = HEADER_TEXT, row = row_text;
    } else {
        fprintf(stderr, "gen_data: unknown profile %s (mixed, numeric, text)\n", profile);
        return 2;
    }

    int single = out_path || have_size;
    int multi = dir || have_files || have_file_size;
    if (single == multi || (single && !(out_path && have_size)) ||
        (multi && !(dir && have_files && have_file_size))) {
        fputs("gen_data: give either --size and -o, or --files, --file-size and --dir\n", stderr);
        usage(stderr);
        return 2;
    }

    gen_t g;
    g.next_id = 1;
    g.day0 = days_from_civil(2000, 1, 1);
    g.ndays = days_from_civil(2030, 12, 31) - g.day0 + 1;

    out_t o = {0};
    o.buf = malloc(OUT_BUF_CAP);
    if (!o.buf)
        die("%s", "out of memory");

    if (single) {
        rng_seed(&g.rng, seed, 0);
        write_file(&g, &o, out_path, size, header, row);
    } else {
        mkdir_p(dir);
        size_t plen = strlen(dir) + 32;
        char *path = malloc(plen);
        if (!path)
            die("%s", "out of memory");
        for (uint64_t k = 0; k < nfiles; k++) {
            snprintf(path, plen, "%s/part-%05" PRIu64 ".csv", dir, k);
            rng_seed(&g.rng, seed, k);
            write_file(&g, &o, path, file_size, header, row);
        }
        free(path);
    }
    free(o.buf);
    return 0;
}
