/*
 * utf8_avx512.c — bytecheck (bytecheck.c) with AVX-512BW: the AVX2 kernel's
 * loop (utf8_avx2.c) with a block of 64 bytes in one register, so each step
 * of the UTF-8 "lookup" check, the NUL and '\r' compares and the ASCII test
 * is one instruction a block instead of two, and the last block is a masked
 * load instead of a copy.  The same tables (utf8_lookup.h); the bytes one,
 * two and three places back come from VALIGNQ (the block before's last 16
 * bytes and this block's first 48) and a per-lane PALIGNR.
 *
 * Chosen at run time (split_have_avx512bw); tests/test_bytecheck.c compares
 * it with the definition written there, as it does the AVX2 and scalar ones.
 */
#include "internal.h"
#include "utf8_lookup.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,bmi")))

struct u8z_tables {
    __m512i prev_hi, prev_lo, this_hi, nib, max_last, third, fourth, high;
};

AVX512 static inline __m512i u8z_lanes(const uint8_t *t16)
{
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)t16));
}

AVX512 static inline struct u8z_tables u8z_tables_make(void)
{
    return (struct u8z_tables){
        .prev_hi = u8z_lanes(u8_prev_hi),
        .prev_lo = u8z_lanes(u8_prev_lo),
        .this_hi = u8z_lanes(u8_this_hi),
        .nib = _mm512_set1_epi8(0x0F),
        .max_last = _mm512_inserti32x4(_mm512_set1_epi8((char)0xFF),
                                       _mm_loadu_si128((const __m128i *)(const void *)u8_max_last16),
                                       3),
        .third = _mm512_set1_epi8((char)(0xE0 - 0x80)),
        .fourth = _mm512_set1_epi8((char)(0xF0 - 0x80)),
        .high = _mm512_set1_epi8((char)0x80),
    };
}

AVX512 static inline __m512i u8z_shr4(__m512i x, __m512i nib)
{
    return _mm512_and_si512(_mm512_srli_epi16(x, 4), nib);
}

/* The error bits of the 64 bytes of `in`, the 64 before them being `prev`. */
AVX512 static inline __m512i u8z_check(const struct u8z_tables *t, __m512i in, __m512i prev)
{
    __m512i join = _mm512_alignr_epi64(in, prev, 6); /* prev's last lane, in's first three */
    __m512i prev1 = _mm512_alignr_epi8(in, join, 15);
    __m512i prev2 = _mm512_alignr_epi8(in, join, 14);
    __m512i prev3 = _mm512_alignr_epi8(in, join, 13);
    __m512i sc = _mm512_and_si512(
        _mm512_and_si512(_mm512_shuffle_epi8(t->prev_hi, u8z_shr4(prev1, t->nib)),
                         _mm512_shuffle_epi8(t->prev_lo, _mm512_and_si512(prev1, t->nib))),
        _mm512_shuffle_epi8(t->this_hi, u8z_shr4(in, t->nib)));
    /* third and fourth bytes of a sequence: must be continuations (TWO_CONTS) */
    __m512i third = _mm512_subs_epu8(prev2, t->third);
    __m512i fourth = _mm512_subs_epu8(prev3, t->fourth);
    __m512i must23 = _mm512_and_si512(_mm512_or_si512(third, fourth), t->high);
    return _mm512_xor_si512(must23, sc);
}

struct bcz_state {
    __m512i prev, incomplete; /* the block before; a sequence cut at its end */
    uint64_t crs;             /* bytes that held a '\r' */
    size_t nul;               /* first NUL, or n */
};

/* The block v at offset i of the n bytes (the last one: zeros past n).
 * true: the UTF-8 check fails in it, or by a sequence cut at the end of the
 * block before. */
AVX512 static inline __attribute__((always_inline)) bool
bcz_block(const struct u8z_tables *t, __m512i vcr, __m512i v, size_t i, size_t n,
          struct bcz_state *s)
{
    s->crs |= _mm512_cmpeq_epi8_mask(v, vcr);
    uint64_t high = _mm512_movepi8_mask(v), nuls = _mm512_testn_epi8_mask(v, v);
    if (__builtin_expect(!(high | nuls), 1)) {
        /* ASCII, no NUL: fails only by a cut sequence (else incomplete stays 0) */
        if (__builtin_expect(_mm512_test_epi8_mask(s->incomplete, s->incomplete) != 0, 0))
            return true;
        s->prev = v;
        return false;
    }
    if (s->nul == n && nuls) /* the last block's zeros start at n: a first NUL there leaves n */
        s->nul = i + _tzcnt_u64(nuls);
    __m512i err = s->incomplete;
    if (high) {
        err = u8z_check(t, v, s->prev);
        s->incomplete = _mm512_subs_epu8(v, t->max_last);
    } else {
        s->incomplete = _mm512_setzero_si512();
    }
    s->prev = v;
    return __builtin_expect(_mm512_test_epi8_mask(err, err) != 0, 0);
}

AVX512 void bytecheck_avx512(const uint8_t *p, size_t n, struct bytecheck *out)
{
    const struct u8z_tables t = u8z_tables_make();
    const __m512i vcr = _mm512_set1_epi8('\r'), zero = _mm512_setzero_si512();
    struct bcz_state s = {zero, zero, 0, n};
    size_t i = 0, bad = n;
    for (; i + 64 <= n; i += 64) {
        _mm_prefetch((const char *)((uintptr_t)p + i + 2048), _MM_HINT_T0); /* as bytecheck_avx2 */
        if (__builtin_expect(
                bcz_block(&t, vcr, _mm512_loadu_si512((const void *)(p + i)), i, n, &s), 0)) {
            bad = utf8_first_invalid_from(p, n, i);
            break;
        }
    }
    if (bad == n) { /* the rest: a masked load, zeros past n (ASCII: a cut sequence shows) */
        __m512i v = _mm512_maskz_loadu_epi8((1ull << (n - i)) - 1, /* n - i < 64 */
                                            (const void *)(p + i));
        if (bcz_block(&t, vcr, v, i, n, &s))
            bad = utf8_first_invalid_from(p, n, i);
        i = n;
    } else {
        i += 64;
    }
    /* past the block of the first invalid byte: only a NUL and a '\r', while
     * one of them is still missing */
    for (; i + 64 <= n && (s.nul == n || !s.crs); i += 64) {
        __m512i v = _mm512_loadu_si512((const void *)(p + i));
        s.crs |= _mm512_cmpeq_epi8_mask(v, vcr);
        uint64_t nuls = _mm512_testn_epi8_mask(v, v);
        if (nuls && s.nul == n)
            s.nul = i + _tzcnt_u64(nuls);
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

#else /* not x86-64 */

void bytecheck_avx512(const uint8_t *p, size_t n, struct bytecheck *out)
{
    bytecheck_scalar(p, n, out);
}

#endif
