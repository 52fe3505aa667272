/*
 * split.c — what the splitter needs to cut a file into record-aligned
 * slices without parsing it: counts of quote and newline bytes (the quote
 * parity at any chunk edge tells whether it lies inside a quoted field; the
 * newline count gives every slice its first physical line), and the first
 * record start after a chunk edge.  A slice boundary is the first record
 * start at or after k x chunk_size, so the same bytes always give the same
 * slices (DESIGN.md §1).  The AVX2 and AVX-512 counters are in scan_avx2.c.
 */
#include "internal.h"

#include <string.h>

void split_count_scalar(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes,
                        uint64_t *newlines)
{
    uint64_t q = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        q += p[i] == quote;
        nl += p[i] == '\n';
    }
    *quotes = quote ? q : 0;
    *newlines = nl;
}

static void (*count_fn)(const uint8_t *, size_t, uint8_t, uint64_t *, uint64_t *);

void split_count(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes, uint64_t *newlines)
{
    if (!count_fn)
        count_fn = split_have_avx512bw() ? split_count_avx512
                   : split_have_avx2()   ? split_count_avx2
                                         : split_count_scalar;
    count_fn(p, n, quote, quotes, newlines);
}

uint64_t split_count_byte(const uint8_t *p, size_t n, uint8_t byte)
{
    uint64_t k = 0;
    for (const uint8_t *e = p + n; (p = memchr(p, byte, (size_t)(e - p))) != NULL; p++)
        k++;
    return k;
}

uint64_t split_count_newlines(const uint8_t *p, size_t n) { return split_count_byte(p, n, '\n'); }

size_t split_next_record(const uint8_t *p, size_t n, uint8_t quote, bool inside)
{
    if (!quote) /* no quoting: the byte loop is a memchr */
        return split_next_record_scalar(p, n, quote, inside);
    /* as the scanner: quote and newline masks 64 bytes at a time, their
     * prefix-XOR the bytes inside quotes (a record longer than a chunk is
     * searched once a chunk: a byte loop was ~1 byte a cycle) */
    split_masks_fn kernel = split_masks_kernel();
    uint64_t qm[64], dm[64], nm[64];
    uint64_t carry = inside ? ~0ull : 0; /* all ones: inside quotes at the block's start */
    size_t i = 0;
    while (n - i >= 64) {
        size_t nb = (n - i) / 64 < 64 ? (n - i) / 64 : 64;
        kernel(p + i, nb, quote, '\n', qm, dm, nm);
        for (size_t b = 0; b < nb; b++) {
            uint64_t inq = (qm[b] ? prefix_xor(qm[b]) : 0) ^ carry;
            uint64_t ends = nm[b] & ~inq;
            if (ends)
                return i + b * 64 + (size_t)__builtin_ctzll(ends) + 1;
            carry = (uint64_t)((int64_t)inq >> 63);
        }
        i += nb * 64;
    }
    size_t r = split_next_record_scalar(p + i, n - i, quote, carry != 0);
    return r == SIZE_MAX ? SIZE_MAX : i + r;
}

size_t split_next_record_scalar(const uint8_t *p, size_t n, uint8_t quote, bool inside)
{
    if (!quote) {
        const uint8_t *nl = memchr(p, '\n', n);
        return nl ? (size_t)(nl - p) + 1 : SIZE_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == quote)
            inside = !inside;
        else if (p[i] == '\n' && !inside)
            return i + 1;
    }
    return SIZE_MAX;
}
