/*
 * value_template.c — what a column loop learns from one value to take the
 * next values of its shape with one 16-byte compare: per byte position, the
 * bytes that keep the exact classifier's verdict.
 *
 * Learned only from a value the exact check accepted (classify_plain_double16,
 * or classify_expected for a literal), and built so that every value of the
 * same length inside the ranges is accepted by that check with the same
 * result:
 *   - literal: the same bytes (the classifier is a function of the bytes);
 *   - double, [+-]d[.d](e|E)[+-]d: each digit position takes any digit, every
 *     other byte is kept, so the non-digits sit where they were and the
 *     digit counts are the same; the first integer digit of a part of two or
 *     more is 1-9 (no leading zero, as the check demands); at most two
 *     exponent digits, so exponent + digits stays under the check's 280; no
 *     byte the first position takes may start a null token.
 * (Decimals were tried too: their check is cheap already, no gain.)
 * tests/test_column.c: a template takes only values the check accepts.
 */
#include "internal.h"

#include <string.h>

static bool is_digit(uint8_t c) { return (unsigned)(c - '0') < 10u; }

bool value_template_learn(struct value_template *t, const uint8_t *p, size_t n,
                          enum value_template_kind kind, const struct classify_cfg *cfg)
{
    if (n == 0 || n > 16 || (kind == VT_DOUBLE && n > 2 && is_digit(p[n - 2]) && is_digit(p[n - 3])))
        return false; /* (a double's exponent of three digits or more) */
    memset(t->lo, 0, sizeof t->lo);
    memset(t->hi, 0xFF, sizeof t->hi);
    for (size_t i = 0; i < n; i++) {
        bool digit = kind != VT_LITERAL && is_digit(p[i]);
        t->lo[i] = digit ? '0' : p[i];
        t->hi[i] = digit ? '9' : p[i];
    }
    if (kind == VT_LITERAL)
        return true;
    size_t s = p[0] == '-' || p[0] == '+', il = 0;
    while (s + il < n && is_digit(p[s + il]))
        il++;
    if (il > 1)
        t->lo[s] = '1';
    for (unsigned c = t->lo[0]; c <= t->hi[0]; c++)
        if (cfg->null_first[c])
            return false;
    return true;
}
