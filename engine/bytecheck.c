/*
 * bytecheck.c — one pass over a slice's bytes for what slice_infer needs of
 * them besides the records: the first byte that is not valid UTF-8, the
 * first NUL, and whether any '\r' occurs (so the per-record checks know
 * whether to look for carriage returns at all).  It replaces three passes
 * (memchr '\r', memchr NUL, utf8_first_invalid) over the same bytes.
 *
 * Here: the portable version, which is the reference, and the choice of the
 * kernel.  The AVX2 kernel (bytecheck_avx2) is the UTF-8 validator's loop in
 * utf8_avx2.c with the two compares added, the AVX-512 one (utf8_avx512.c) the
 * same a register of 64 bytes at a time; tests/test_bytecheck.c checks that
 * each equals utf8_first_invalid_scalar + memchr + memchr on random inputs.
 */
#include "internal.h"

#include <string.h>

#define BYTES_ONES 0x0101010101010101ull
#define BYTES_HIGH 0x8080808080808080ull

/* Nonzero exactly when one of the 8 bytes of w is 0 (the bits above the
 * first zero byte may be wrong: use it as a truth value only). */
static inline uint64_t zero_byte(uint64_t w) { return (w - BYTES_ONES) & ~w & BYTES_HIGH; }

void bytecheck_scalar(const uint8_t *p, size_t n, struct bytecheck *out)
{
    size_t i = 0, nul = n;
    bool cr = false;
    /* utf8_first_invalid_scalar's walk.  A word of 8 bytes is skipped when it
     * is ASCII and holds no byte still looked for (a NUL until one is found,
     * a '\r' likewise); otherwise a byte at a time.  A multi-byte character is
     * all bytes >= 0x80: no NUL or '\r' in it. */
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            uint64_t stop = (w & BYTES_HIGH) | (nul == n ? zero_byte(w) : 0) |
                            (cr ? 0 : zero_byte(w ^ (BYTES_ONES * '\r')));
            if (!stop) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == 0 && nul == n)
                nul = i;
            cr |= c == '\r';
            i++;
            continue;
        }
        size_t k = utf8_char_len(p + i, n - i);
        if (!k)
            break; /* i: the first byte that is not UTF-8 */
        i += k;
    }
    out->bad_utf8 = i;
    /* past an invalid byte, only the NUL and the '\r' are still looked for */
    if (nul == n && i < n) {
        const uint8_t *z = memchr(p + i, 0, n - i);
        nul = z ? (size_t)(z - p) : n;
    }
    if (!cr && i < n)
        cr = memchr(p + i, '\r', n - i) != NULL;
    out->first_nul = nul;
    out->any_cr = cr;
}

static void (*bytecheck_fn)(const uint8_t *, size_t, struct bytecheck *);

/* Chosen once: split_select_kernels calls it before threads start. */
void bytecheck_select_kernel(void)
{
    if (!bytecheck_fn)
        bytecheck_fn = split_have_avx512bw() ? bytecheck_avx512
                       : split_have_avx2()   ? bytecheck_avx2
                                             : bytecheck_scalar;
}

void bytecheck(const uint8_t *p, size_t n, struct bytecheck *out)
{
    bytecheck_select_kernel();
    bytecheck_fn(p, n, out);
}
