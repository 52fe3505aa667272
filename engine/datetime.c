/*
 * datetime.c — parsers for the date, time and zone parts of a value.
 *
 * dt_parse_date recognises every date format of docs/types.md and returns the
 * set of formats the value parses under (03/04/2024 is both month-first and
 * day-first); each format checks the real calendar (leap years).  The parsers
 * never read past n and never allocate.
 */
#include "internal.h"

#include <string.h>

static const char *const date_format_strings[DF_COUNT] = {
    "%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%m-%d-%Y", "%d-%m-%Y", "%m.%d.%Y", "%d.%m.%Y",
    "%b %d %Y", "%d %b %Y", "%b %d, %Y", "%B %d %Y", "%B %d, %Y", "%d %B %Y", "%d-%b-%Y",
};

const char *date_format_string(enum date_format f)
{
    return (unsigned)f < DF_COUNT ? date_format_strings[f] : "";
}

static bool is_digit(uint8_t c) { return (unsigned)(c - '0') < 10u; }

/* Read between min and max digits at p[*i]; returns -1 if fewer than min. */
static int read_digits(const uint8_t *p, size_t n, size_t *i, int min, int max)
{
    int v = 0, k = 0;
    while (k < max && *i < n && is_digit(p[*i])) {
        v = v * 10 + (p[*i] - '0');
        (*i)++;
        k++;
    }
    return k >= min ? v : -1;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    int lim = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        lim = 29;
    return d <= lim;
}

/* English month name at p[*i] (letters only, any case).  Sets *month and
 * whether the word is an abbreviation (%b) and/or a full name (%B). */
static bool read_month(const uint8_t *p, size_t n, size_t *i, int *month, bool *abbr, bool *full)
{
    static const char *const names[12] = {"january", "february", "march",     "april",
                                          "may",     "june",     "july",      "august",
                                          "september", "october", "november", "december"};
    static const uint8_t lens[12] = {7, 8, 5, 5, 3, 4, 4, 6, 9, 7, 8, 8};
    char w[10];
    size_t k = 0;
    while (*i + k < n && k < sizeof w) {
        uint8_t c = p[*i + k];
        c |= 0x20; /* ASCII letters to lower case; other bytes fail the test below */
        if (c < 'a' || c > 'z')
            break;
        w[k++] = (char)c;
    }
    if (k < 3 || (*i + k < n && k == sizeof w))
        return false;
    for (int m = 0; m < 12; m++) {
        if (w[0] != names[m][0] || w[1] != names[m][1] || w[2] != names[m][2])
            continue;
        bool is_abbr = k == 3;
        bool is_full = k == lens[m] && memcmp(w, names[m], k) == 0;
        if (!is_abbr && !is_full)
            return false;
        *month = m + 1;
        *abbr = is_abbr;
        *full = is_full;
        *i += k;
        return true;
    }
    return false;
}

/* Numeric dates: Y-m-d, Y/m/d, and a?b?Y with ? in / - . */
static size_t parse_numeric_date(const uint8_t *p, size_t n, uint32_t *fmts)
{
    size_t i = 0;
    size_t start_digits = 0;
    while (start_digits < n && start_digits < 5 && is_digit(p[start_digits]))
        start_digits++;
    if (start_digits == 4) {
        int y = read_digits(p, n, &i, 4, 4);
        if (i >= n || (p[i] != '-' && p[i] != '/'))
            return 0;
        uint8_t sep = p[i++];
        int m = read_digits(p, n, &i, 1, 2);
        if (m < 0 || i >= n || p[i] != sep)
            return 0;
        i++;
        int d = read_digits(p, n, &i, 1, 2);
        if (d < 0 || (i < n && is_digit(p[i])) || !valid_ymd(y, m, d))
            return 0;
        *fmts = CSVI_BIT(sep == '-' ? DF_YMD_DASH : DF_YMD_SLASH);
        return i;
    }
    if (start_digits != 1 && start_digits != 2)
        return 0;
    int a = read_digits(p, n, &i, 1, 2);
    if (i >= n)
        return 0;
    uint8_t sep = p[i];
    if (sep != '/' && sep != '-' && sep != '.')
        return 0;
    i++;
    if (sep == '-' && i < n && !is_digit(p[i])) { /* %d-%b-%Y */
        int m;
        bool ab, fu;
        if (!read_month(p, n, &i, &m, &ab, &fu) || !ab || i >= n || p[i] != '-')
            return 0;
        i++;
        int y = read_digits(p, n, &i, 4, 4);
        if (y < 0 || (i < n && is_digit(p[i])) || !valid_ymd(y, m, a))
            return 0;
        *fmts = CSVI_BIT(DF_DbY_DASH);
        return i;
    }
    int b = read_digits(p, n, &i, 1, 2);
    if (b < 0 || i >= n || p[i] != sep)
        return 0;
    i++;
    int y = read_digits(p, n, &i, 4, 4);
    if (y < 0 || (i < n && is_digit(p[i])))
        return 0;
    uint32_t f = 0;
    int mfirst = sep == '/' ? DF_MDY_SLASH : sep == '-' ? DF_MDY_DASH : DF_MDY_DOT;
    if (valid_ymd(y, a, b))
        f |= CSVI_BIT(mfirst);
    if (valid_ymd(y, b, a))
        f |= CSVI_BIT(mfirst + 1); /* the day-first twin follows its month-first one */
    *fmts = f;
    return f ? i : 0;
}

/* "15 Mar 2024", "15 March 2024" */
static size_t parse_day_month_name(const uint8_t *p, size_t n, uint32_t *fmts)
{
    size_t i = 0;
    int d = read_digits(p, n, &i, 1, 2);
    if (d < 0 || i >= n || p[i] != ' ')
        return 0;
    i++;
    int m;
    bool ab, fu;
    if (!read_month(p, n, &i, &m, &ab, &fu) || i >= n || p[i] != ' ')
        return 0;
    i++;
    int y = read_digits(p, n, &i, 4, 4);
    if (y < 0 || (i < n && is_digit(p[i])) || !valid_ymd(y, m, d))
        return 0;
    *fmts = (ab ? CSVI_BIT(DF_DbY) : 0) | (fu ? CSVI_BIT(DF_DBY) : 0);
    return i;
}

/* "Mar 15 2024", "Mar 15, 2024", "March 15 2024", "March 15, 2024" */
static size_t parse_month_name_first(const uint8_t *p, size_t n, uint32_t *fmts)
{
    size_t i = 0;
    int m;
    bool ab, fu;
    if (!read_month(p, n, &i, &m, &ab, &fu) || i >= n || p[i] != ' ')
        return 0;
    i++;
    int d = read_digits(p, n, &i, 1, 2);
    if (d < 0 || i >= n)
        return 0;
    bool comma = p[i] == ',';
    if (comma)
        i++;
    if (i >= n || p[i] != ' ')
        return 0;
    i++;
    int y = read_digits(p, n, &i, 4, 4);
    if (y < 0 || (i < n && is_digit(p[i])) || !valid_ymd(y, m, d))
        return 0;
    uint32_t f = 0;
    if (ab)
        f |= CSVI_BIT(comma ? DF_bD_Y : DF_bDY);
    if (fu)
        f |= CSVI_BIT(comma ? DF_BD_Y : DF_BDY);
    *fmts = f;
    return i;
}

size_t dt_parse_date(const uint8_t *p, size_t n, uint32_t *fmts)
{
    if (n < 6)
        return 0;
    *fmts = 0;
    /* the common case first: %Y-%m-%d with two-digit month and day */
    if (n >= 10 && p[4] == '-' && p[7] == '-' && (n == 10 || !is_digit(p[10])) &&
        is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
        is_digit(p[5]) && is_digit(p[6]) && is_digit(p[8]) && is_digit(p[9])) {
        int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
        int m = (p[5] - '0') * 10 + (p[6] - '0'), d = (p[8] - '0') * 10 + (p[9] - '0');
        if (!valid_ymd(y, m, d))
            return 0;
        *fmts = CSVI_BIT(DF_YMD_DASH);
        return 10;
    }
    if (is_digit(p[0])) {
        size_t k = parse_numeric_date(p, n, fmts);
        return k ? k : parse_day_month_name(p, n, fmts);
    }
    return parse_month_name_first(p, n, fmts);
}

size_t dt_parse_time(const uint8_t *p, size_t n, uint8_t *flags)
{
    size_t i = 0;
    int h = read_digits(p, n, &i, 1, 2);
    if (h < 0 || i >= n || p[i] != ':')
        return 0;
    i++;
    size_t before = i;
    int mi = read_digits(p, n, &i, 2, 2);
    if (mi < 0 || i - before != 2 || mi > 59 || (i < n && is_digit(p[i])))
        return 0;
    uint8_t f = 0;
    int s = 0;
    bool frac_nonzero = false;
    if (i < n && p[i] == ':') {
        i++;
        s = read_digits(p, n, &i, 2, 2);
        if (s < 0 || s > 59 || (i < n && is_digit(p[i])))
            return 0;
        f |= TF_SECONDS;
        if (i < n && p[i] == '.') {
            size_t j = i + 1;
            while (j < n && is_digit(p[j])) {
                frac_nonzero |= p[j] != '0';
                j++;
            }
            if (j == i + 1)
                return 0;
            i = j;
            f |= TF_FRACTION;
        }
    }
    if (h > 24 || (h == 24 && (mi != 0 || s != 0 || frac_nonzero)))
        return 0;
    *flags = f;
    return i;
}

size_t dt_parse_zone(const uint8_t *p, size_t n)
{
    if (n >= 1 && p[0] == 'Z')
        return 1;
    if (n < 3 || (p[0] != '+' && p[0] != '-'))
        return 0;
    size_t i = 1;
    int hh = read_digits(p, n, &i, 2, 2);
    if (hh < 0 || hh > 15)
        return 0;
    if (i == n)
        return i;
    size_t j = i + (p[i] == ':');
    int mm = read_digits(p, n, &j, 2, 2);
    if (mm < 0 || mm > 59 || (j < n && is_digit(p[j])))
        return 0;
    return j;
}
