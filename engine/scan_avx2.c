/*
 * scan_avx2.c — the AVX2 and AVX-512 mask kernels of the structural scanner,
 * and the splitter's AVX2 and AVX-512 counters.
 *
 * Built without global AVX flags: each function carries its
 * __attribute__((target(...))) and scan.c calls it only when cpuid says the
 * CPU (and the OS, for the AVX-512 registers) has it (split_have_avx2,
 * split_have_avx512bw).  They must give exactly the masks of
 * split_masks_scalar, the reference (tests/test_scan.c compares them).
 */
#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

bool split_have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

__attribute__((target("avx2"))) void split_masks_avx2(const uint8_t *p, size_t nblocks,
                                                      uint8_t quote, uint8_t delim, uint64_t *qm,
                                                      uint64_t *dm, uint64_t *nm)
{
    const __m256i vq = _mm256_set1_epi8((char)quote);
    const __m256i vd = _mm256_set1_epi8((char)delim);
    const __m256i vn = _mm256_set1_epi8('\n');
    for (size_t b = 0; b < nblocks; b++, p += 64) {
        __m256i lo = _mm256_loadu_si256((const __m256i *)p);
        __m256i hi = _mm256_loadu_si256((const __m256i *)(p + 32));
#define MASK64(v)                                                                            \
    ((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v)) |                   \
     ((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v)) << 32))
        qm[b] = quote ? MASK64(vq) : 0;
        dm[b] = MASK64(vd);
        nm[b] = MASK64(vn);
#undef MASK64
    }
}

bool split_have_avx512bw(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw");
}

/* One 64-byte load, three compares straight into 64-bit masks. */
__attribute__((target("avx512bw"))) void split_masks_avx512(const uint8_t *p, size_t nblocks,
                                                            uint8_t quote, uint8_t delim,
                                                            uint64_t *qm, uint64_t *dm,
                                                            uint64_t *nm)
{
    const __m512i vq = _mm512_set1_epi8((char)quote);
    const __m512i vd = _mm512_set1_epi8((char)delim);
    const __m512i vn = _mm512_set1_epi8('\n');
    for (size_t b = 0; b < nblocks; b++, p += 64) {
        __m512i v = _mm512_loadu_si512((const void *)p);
        qm[b] = quote ? (uint64_t)_mm512_cmpeq_epi8_mask(v, vq) : 0;
        dm[b] = (uint64_t)_mm512_cmpeq_epi8_mask(v, vd);
        nm[b] = (uint64_t)_mm512_cmpeq_epi8_mask(v, vn);
    }
}

#else /* not x86: the scalar kernel is the only one */

bool split_have_avx2(void) { return false; }
bool split_have_avx512bw(void) { return false; }

void split_masks_avx512(const uint8_t *p, size_t nblocks, uint8_t quote, uint8_t delim,
                        uint64_t *qm, uint64_t *dm, uint64_t *nm)
{
    split_masks_scalar(p, nblocks, quote, delim, qm, dm, nm);
}

void split_masks_avx2(const uint8_t *p, size_t nblocks, uint8_t quote, uint8_t delim,
                      uint64_t *qm, uint64_t *dm, uint64_t *nm)
{
    split_masks_scalar(p, nblocks, quote, delim, qm, dm, nm);
}

#endif

#if defined(__x86_64__) || defined(__i386__)
/* Count quote and '\n' bytes, 64 at a time (the splitter's pass over every
 * chunk while it is still in cache).  Same result as split_count_scalar. */
__attribute__((target("avx2,popcnt"))) void split_count_avx2(const uint8_t *p, size_t n,
                                                             uint8_t quote, uint64_t *quotes,
                                                             uint64_t *newlines)
{
    /* Byte counters: each compare adds 1 to a lane (subtracting -1); before a
     * lane can overflow (2 per 64-byte step, 127 steps) they are summed into
     * 64-bit lanes with vpsadbw.  No movemask/popcnt per block. */
    const __m256i vq = _mm256_set1_epi8((char)quote);
    const __m256i vn = _mm256_set1_epi8('\n');
    const __m256i zero = _mm256_setzero_si256();
    __m256i sum_q = zero, sum_n = zero;
    size_t i = 0;
    while (i + 64 <= n) {
        __m256i acc_q = zero, acc_n = zero;
        size_t steps = (n - i) / 64;
        if (steps > 127)
            steps = 127;
        for (size_t k = 0; k < steps; k++, i += 64) {
            __m256i lo = _mm256_loadu_si256((const __m256i *)(p + i));
            __m256i hi = _mm256_loadu_si256((const __m256i *)(p + i + 32));
            acc_q = _mm256_sub_epi8(acc_q, _mm256_cmpeq_epi8(lo, vq));
            acc_q = _mm256_sub_epi8(acc_q, _mm256_cmpeq_epi8(hi, vq));
            acc_n = _mm256_sub_epi8(acc_n, _mm256_cmpeq_epi8(lo, vn));
            acc_n = _mm256_sub_epi8(acc_n, _mm256_cmpeq_epi8(hi, vn));
        }
        sum_q = _mm256_add_epi64(sum_q, _mm256_sad_epu8(acc_q, zero));
        sum_n = _mm256_add_epi64(sum_n, _mm256_sad_epu8(acc_n, zero));
    }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, sum_q);
    uint64_t q = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    _mm256_storeu_si256((__m256i *)lanes, sum_n);
    uint64_t nl = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (; i < n; i++) {
        q += p[i] == quote;
        nl += p[i] == '\n';
    }
    *quotes = quote ? q : 0;
    *newlines = nl;
}

/* The same count, one 64-byte load and two compares into masks per step;
 * a lane's byte counter takes at most 255 steps before vpsadbw sums it. */
__attribute__((target("avx512bw"))) void split_count_avx512(const uint8_t *p, size_t n,
                                                            uint8_t quote, uint64_t *quotes,
                                                            uint64_t *newlines)
{
    const __m512i vq = _mm512_set1_epi8((char)quote);
    const __m512i vn = _mm512_set1_epi8('\n');
    const __m512i one = _mm512_set1_epi8(1);
    const __m512i zero = _mm512_setzero_si512();
    __m512i sum_q = zero, sum_n = zero;
    size_t i = 0;
    while (i + 64 <= n) {
        __m512i acc_q = zero, acc_n = zero;
        size_t steps = (n - i) / 64;
        if (steps > 255)
            steps = 255;
        for (size_t k = 0; k < steps; k++, i += 64) {
            __m512i v = _mm512_loadu_si512((const void *)(p + i));
            acc_q = _mm512_mask_add_epi8(acc_q, _mm512_cmpeq_epi8_mask(v, vq), acc_q, one);
            acc_n = _mm512_mask_add_epi8(acc_n, _mm512_cmpeq_epi8_mask(v, vn), acc_n, one);
        }
        sum_q = _mm512_add_epi64(sum_q, _mm512_sad_epu8(acc_q, zero));
        sum_n = _mm512_add_epi64(sum_n, _mm512_sad_epu8(acc_n, zero));
    }
    uint64_t q = (uint64_t)_mm512_reduce_add_epi64(sum_q);
    uint64_t nl = (uint64_t)_mm512_reduce_add_epi64(sum_n);
    if (i < n) { /* the last 1..63 bytes under a load mask */
        __mmask64 m = ~(__mmask64)0 >> (64 - (n - i));
        __m512i v = _mm512_maskz_loadu_epi8(m, (const void *)(p + i));
        q += (uint64_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(m, v, vq));
        nl += (uint64_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(m, v, vn));
    }
    *quotes = quote ? q : 0;
    *newlines = nl;
}
#else
void split_count_avx2(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes,
                      uint64_t *newlines)
{
    split_count_scalar(p, n, quote, quotes, newlines);
}

void split_count_avx512(const uint8_t *p, size_t n, uint8_t quote, uint64_t *quotes,
                        uint64_t *newlines)
{
    split_count_scalar(p, n, quote, quotes, newlines);
}
#endif
