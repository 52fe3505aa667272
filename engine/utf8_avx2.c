/*
 * utf8_avx2.c — UTF-8 validation 64 bytes at a time with AVX2, for
 * utf8_first_invalid (classify.c) and, with a NUL and a '\r' check in the
 * same loop, for bytecheck (bytecheck.c), which runs over every byte of every
 * slice.
 *
 * The check is the "lookup" algorithm of Keiser and Lemire ("Validating UTF-8
 * in less than one instruction per byte", 2021; simdjson, simdutf): three
 * 16-entry table lookups on the high and low nibbles of each byte and of the
 * byte before it flag every two-byte pattern that cannot occur in UTF-8, and
 * a comparison with the bytes two and three places back checks the lengths of
 * three- and four-byte sequences.  Blocks of pure ASCII skip all of it.
 *
 * It only answers "is this 64-byte block valid, given what came before".  The
 * offset of the first invalid byte comes from utf8_first_invalid_scalar, the
 * reference, run from the last character boundary before the first bad block
 * (so it reads a few bytes, not the buffer).  Built without global AVX flags;
 * chosen at run time (split_have_avx2).  tests/test_scan.c and
 * tests/test_bytecheck.c compare them with the scalar functions on random
 * inputs.
 */
#include "internal.h"
#include "utf8_lookup.h"

#include <string.h>

/* The scalar function from the last character start at or before `from`:
 * everything before `from` is valid UTF-8 but for, at most, a sequence cut
 * short at its end, so character starts there are the non-continuation bytes. */
size_t utf8_first_invalid_from(const uint8_t *p, size_t n, size_t from)
{
    size_t s = from >= 4 ? from - 4 : 0;
    while (s < from && (p[s] & 0xC0) == 0x80)
        s++;
    return s + utf8_first_invalid_scalar(p + s, n - s);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

struct u8_tables {
    __m256i hi1, lo1, hi2, nib, max_last;
    __m256i third, fourth, high; /* 0xE0 - 0x80, 0xF0 - 0x80, 0x80 in every byte */
};

__attribute__((target("avx2"))) static inline __m256i u8_shr4(__m256i x, __m256i nib)
{
    return _mm256_and_si256(_mm256_srli_epi16(x, 4), nib);
}

/* The error bits of the 32 bytes of `in`, the 32 before them being `prev`. */
__attribute__((target("avx2"))) static inline __m256i u8_check(const struct u8_tables *t,
                                                               __m256i in, __m256i prev)
{
    __m256i join = _mm256_permute2x128_si256(prev, in, 0x21); /* prev's high lane, in's low */
    __m256i prev1 = _mm256_alignr_epi8(in, join, 15);
    __m256i prev2 = _mm256_alignr_epi8(in, join, 14);
    __m256i prev3 = _mm256_alignr_epi8(in, join, 13);
    __m256i sc = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(t->hi1, u8_shr4(prev1, t->nib)),
                         _mm256_shuffle_epi8(t->lo1, _mm256_and_si256(prev1, t->nib))),
        _mm256_shuffle_epi8(t->hi2, u8_shr4(in, t->nib)));
    /* third and fourth bytes of a sequence: must be continuations (TWO_CONTS) */
    __m256i third = _mm256_subs_epu8(prev2, t->third);
    __m256i fourth = _mm256_subs_epu8(prev3, t->fourth);
    __m256i must23 = _mm256_and_si256(_mm256_or_si256(third, fourth), t->high);
    return _mm256_xor_si256(must23, sc);
}

/* The tables of u8_check (both kernels below use them): utf8_lookup.h's, in
 * both 128-bit lanes. */
__attribute__((target("avx2"))) static inline __m256i u8_lanes(const uint8_t *t16)
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)t16));
}

__attribute__((target("avx2"))) static inline struct u8_tables u8_tables_make(void)
{
    static const uint8_t all[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    return (struct u8_tables){
        .hi1 = u8_lanes(u8_prev_hi),
        .lo1 = u8_lanes(u8_prev_lo),
        .hi2 = u8_lanes(u8_this_hi),
        .nib = _mm256_set1_epi8(0x0F),
        /* a lead byte in the last 3 places of a block needs bytes of the next one */
        .max_last = _mm256_inserti128_si256(u8_lanes(all),
                                            _mm_loadu_si128((const __m128i *)(const void *)u8_max_last16),
                                            1),
        .third = _mm256_set1_epi8((char)(0xE0 - 0x80)),
        .fourth = _mm256_set1_epi8((char)(0xF0 - 0x80)),
        .high = _mm256_set1_epi8((char)0x80),
    };
}

__attribute__((target("avx2"))) size_t utf8_first_invalid_avx2(const uint8_t *p, size_t n)
{
    const struct u8_tables t = u8_tables_make();
    const __m256i zero = _mm256_setzero_si256();
    __m256i prev = zero, incomplete = zero;
    uint8_t tail[64];
    size_t i = 0;
    for (;;) {
        const uint8_t *b = p + i;
        bool last = i + 64 > n;
        if (last) { /* the rest, padded with NULs (ASCII: a cut sequence shows) */
            memset(tail, 0, sizeof tail);
            if (n > i)
                memcpy(tail, p + i, n - i);
            b = tail;
        }
        __m256i lo = _mm256_loadu_si256((const __m256i *)b);
        __m256i hi = _mm256_loadu_si256((const __m256i *)(b + 32));
        __m256i err;
        if (!_mm256_movemask_epi8(_mm256_or_si256(lo, hi))) {
            err = incomplete;
            incomplete = zero;
        } else {
            err = _mm256_or_si256(u8_check(&t, lo, prev), u8_check(&t, hi, lo));
            incomplete = _mm256_subs_epu8(hi, t.max_last);
        }
        prev = hi;
        if (!_mm256_testz_si256(err, err))
            return utf8_first_invalid_from(p, n, i);
        if (last)
            return n;
        i += 64;
    }
}

/* bytecheck (bytecheck.c) for AVX2: utf8_first_invalid_avx2's loop with, in
 * the same pass, the first NUL and whether there is a '\r'.  The '\r'
 * compares are OR-ed into a mask without a branch; a NUL (a lane of
 * min(lo, hi) that is 0) joins the one test that sends a block of ASCII past
 * the UTF-8 check, so such a block still costs a single branch.  Once the
 * first invalid byte is known, a plain loop looks for what is still missing. */
struct bc_state {
    __m256i prev, incomplete; /* the block before; a sequence cut at its end */
    uint32_t crs;             /* lanes that held a '\r' (movemask bits) */
    size_t nul;               /* first NUL, or n */
};

/* One block of 64 bytes at b, offset i of the n bytes (the last block: a
 * padded copy).  Returns true if the UTF-8 check fails in it, or by a
 * sequence cut at the end of the block before. */
__attribute__((target("avx2"), always_inline)) static inline bool
bc_block(const struct u8_tables *t, __m256i vcr, const uint8_t *b, size_t i, size_t n,
         struct bc_state *s)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i lo = _mm256_loadu_si256((const __m256i *)b);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(b + 32));
    s->crs |= (uint32_t)_mm256_movemask_epi8(
        _mm256_or_si256(_mm256_cmpeq_epi8(lo, vcr), _mm256_cmpeq_epi8(hi, vcr)));
    __m256i high = _mm256_or_si256(lo, hi);
    __m256i nuls = _mm256_cmpeq_epi8(_mm256_min_epu8(lo, hi), zero);
    if (__builtin_expect(!_mm256_movemask_epi8(_mm256_or_si256(high, nuls)), 1)) {
        /* ASCII, no NUL: fails only by a cut sequence (else incomplete stays 0) */
        if (__builtin_expect(!_mm256_testz_si256(s->incomplete, s->incomplete), 0))
            return true;
        s->prev = hi;
        return false;
    }
    if (s->nul == n && _mm256_movemask_epi8(nuls)) {
        uint64_t m = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, zero)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, zero))
                         << 32;
        /* the last block's padding starts at n: a first NUL there leaves n */
        s->nul = i + (size_t)__builtin_ctzll(m);
    }
    __m256i err = s->incomplete;
    if (_mm256_movemask_epi8(high)) {
        err = _mm256_or_si256(u8_check(t, lo, s->prev), u8_check(t, hi, lo));
        s->incomplete = _mm256_subs_epu8(hi, t->max_last);
    } else {
        s->incomplete = zero;
    }
    s->prev = hi;
    if (__builtin_expect(!_mm256_testz_si256(err, err), 0))
        return true;
    return false;
}

__attribute__((target("avx2"))) void bytecheck_avx2(const uint8_t *p, size_t n,
                                                    struct bytecheck *out)
{
    struct u8_tables t = u8_tables_make();
    const __m256i zero = _mm256_setzero_si256();
    __m256i vcr = _mm256_set1_epi8('\r');
    /* The constants made opaque to the compiler: short of registers in the
     * UTF-8 check, gcc built the broadcasts again in the loop (3 instructions
     * each, every block) and reloaded the tables, rather than keep them in a
     * register or read them back from the stack (callgrind, the 20 MB text
     * prefix: this function 19.6 M instructions without, 17.2 M with). */
    __asm__(""
            : "+x"(vcr), "+x"(t.nib), "+x"(t.third), "+x"(t.fourth), "+x"(t.high), "+x"(t.hi1),
              "+x"(t.lo1), "+x"(t.hi2), "+x"(t.max_last));
    struct bc_state s = {zero, zero, 0, n};
    size_t i = 0, bad = n;
    for (; i + 64 <= n; i += 64) {
        /* This is the first pass over a work unit that the reader wrote from
         * another core: its loads wait on memory.  Asking 2 KiB ahead keeps
         * more lines in flight (perf, 1 GiB mixed file, 2 threads: this
         * function's share of the samples 8.9-9.0 % without, 6.6 % with).
         * A prefetch never faults: past the end it only fetches a line not
         * needed. */
        _mm_prefetch((const char *)((uintptr_t)p + i + 2048), _MM_HINT_T0);
        if (__builtin_expect(bc_block(&t, vcr, p + i, i, n, &s), 0)) {
            bad = utf8_first_invalid_from(p, n, i);
            break;
        }
    }
    if (bad == n) { /* the rest, padded with NULs (ASCII: a cut sequence shows) */
        uint8_t tail[64] = {0};
        if (n > i)
            memcpy(tail, p + i, n - i);
        if (bc_block(&t, vcr, tail, i, n, &s))
            bad = utf8_first_invalid_from(p, n, i);
        i = n;
    } else {
        i += 64;
    }
    /* past the block of the first invalid byte: only a NUL and a '\r', while
     * one of them is still missing */
    for (; i + 64 <= n && (s.nul == n || !s.crs); i += 64) {
        __m256i lo = _mm256_loadu_si256((const __m256i *)(p + i));
        __m256i hi = _mm256_loadu_si256((const __m256i *)(p + i + 32));
        s.crs |= (uint32_t)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpeq_epi8(lo, vcr), _mm256_cmpeq_epi8(hi, vcr)));
        uint64_t m = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, zero)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, zero))
                         << 32;
        if (m && s.nul == n)
            s.nul = i + (size_t)__builtin_ctzll(m);
    }
    bool cr = s.crs != 0;
    for (; i < n && (s.nul == n || !cr); i++) {
        if (p[i] == 0 && s.nul == n)
            s.nul = i;
        cr |= p[i] == '\r';
    }
    out->bad_utf8 = bad;
    out->first_nul = s.nul;
    out->any_cr = cr;
}

#else /* not x86 */

size_t utf8_first_invalid_avx2(const uint8_t *p, size_t n) { return utf8_first_invalid_from(p, n, 0); }

void bytecheck_avx2(const uint8_t *p, size_t n, struct bytecheck *out)
{
    bytecheck_scalar(p, n, out);
}

#endif
