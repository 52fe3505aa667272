/*
 * scan_index.c — the structural index slice_infer walks: for a window of a
 * slice's 64-byte blocks, the offsets of its delimiters and newlines outside
 * quotes (field ends, in order), which of them end records, how many quote
 * bytes come before each (a field's quotes: the difference of two), and
 * its quoted newlines.
 *
 * The same masks and prefix-XOR as the scanner (scan.c), but no record is
 * cut here and no callback made: each block's field ends are written eight
 * at a time without a branch per field (as simdjson writes its structural
 * indexes), so the common record of the right width costs the walk in
 * slice.c a few instructions, not a call and a branch per field.  scan.c
 * stays the reference (the sniffer, the plan and the bare-CR pass use it);
 * test_scan_index compares the two on random inputs.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define INDEX_SLACK 16u /* entries a flatten may write past the last one */

/* Entries the arrays need for a buffer of len bytes: a window and what
 * waits, or the whole buffer (a small file's slice stays below malloc's mmap
 * threshold). */
static size_t index_cap(size_t len)
{
    return (len < SCAN_INDEX_WINDOW * 64 ? (len + 63) / 64 * 64 + 64 : 2 * SCAN_INDEX_WINDOW * 64) +
           INDEX_SLACK;
}

/* The state of an index at the start of a buffer (arrays as they are). */
static void index_reset(struct scan_index *ix, uint8_t delim, uint8_t quote)
{
    ix->delim = delim;
    ix->quote = quote;
    ix->kernel = split_masks_kernel();
#if defined(__x86_64__)
    ix->avx512 = ix->kernel == split_masks_avx512 && scan_index_have_avx512();
#endif
    ix->np = ix->ne = ix->nqn = 0;
    ix->quotes = 0;
    ix->inq = 0;
    ix->block = 0;
    ix->pos[-1] = UINT32_MAX; /* the buffer starts a record: its first field at 0 */
    ix->qcum[-1] = 0;
}

int scan_index_init(struct scan_index *ix, uint8_t delim, uint8_t quote, size_t len)
{
    memset(ix, 0, sizeof *ix);
    size_t cap = index_cap(len);
    uint32_t *pos = malloc((cap + 1) * sizeof *pos), *qcum = malloc((cap + 1) * sizeof *qcum);
    ix->ends = malloc(cap * sizeof *ix->ends);
    ix->qnl = malloc(cap * sizeof *ix->qnl);
    if (pos)
        ix->pos = pos + 1;
    if (qcum)
        ix->qcum = qcum + 1;
    if (!pos || !qcum || !ix->ends || !ix->qnl) {
        scan_index_free(ix);
        return -ENOMEM;
    }
    ix->pcap = ix->ecap = ix->qncap = cap;
    index_reset(ix, delim, quote);
    return 0;
}

int scan_index_reinit(struct scan_index *ix, uint8_t delim, uint8_t quote, size_t len)
{
    size_t cap = index_cap(len);
    /* large enough, and not grown far past a window by a long record */
    const size_t most = 4 * index_cap(SIZE_MAX);
    if (ix->pos && ix->pcap >= cap && ix->ecap >= cap && ix->qncap >= cap && ix->pcap <= most &&
        ix->ecap <= most && ix->qncap <= most) {
        index_reset(ix, delim, quote);
        return 0;
    }
    scan_index_free(ix);
    return scan_index_init(ix, delim, quote, len);
}

void scan_index_free(struct scan_index *ix)
{
    free(ix->pos ? ix->pos - 1 : NULL);
    free(ix->qcum ? ix->qcum - 1 : NULL);
    free(ix->ends);
    free(ix->qnl);
    memset(ix, 0, sizeof *ix);
}

/* Room for `more` entries after the first n of *a (capacity *cap). */
static int reserve(uint32_t **a, size_t *cap, size_t n, size_t more, bool one_before)
{
    if (n + more <= *cap)
        return 0;
    size_t ncap = *cap * 2;
    while (ncap < n + more)
        ncap *= 2;
    uint32_t *p = realloc(*a - one_before, (ncap + one_before) * sizeof *p);
    if (!p)
        return -ENOMEM;
    *a = p + one_before;
    *cap = ncap;
    return 0;
}

static int reserve_window(struct scan_index *ix, size_t nb)
{
    size_t more = nb * 64 + INDEX_SLACK, pcap = ix->pcap;
    int rc = reserve(&ix->pos, &ix->pcap, ix->np, more, true);
    if (!rc)
        rc = reserve(&ix->qcum, &pcap, ix->np, more, true);
    if (!rc)
        rc = reserve(&ix->ends, &ix->ecap, ix->ne, more, false);
    if (!rc)
        rc = reserve(&ix->qnl, &ix->qncap, ix->nqn, more, false);
    return rc;
}

/* The offsets of bits's set bits (+ base) at o, in order, four at a time
 * (a block holds ~2-5 field ends in the usual file; eight at a time wasted
 * half the stores of a text file): up to 3 entries past them are written
 * with garbage.  Returns the end of the real ones.  (Bit 63 set for the
 * count of trailing zeros: defined for 0, and no branch.) */
static inline __attribute__((always_inline)) uint32_t *flatten(uint32_t *o, uint32_t base,
                                                               uint64_t bits)
{
    uint32_t *end = o + __builtin_popcountll(bits);
    do {
        for (unsigned i = 0; i < 4; i++) {
            o[i] = base + (uint32_t)__builtin_ctzll(bits | 1ull << 63);
            bits &= bits - 1;
        }
        o += 4;
    } while (o < end);
    return end;
}

/* flatten for the field ends, with the quote bytes before each at c:
 * qbase, plus those of the block below the field end (q: the block's
 * quote mask; a block without quotes, the usual one, only copies qbase). */
static inline __attribute__((always_inline)) uint32_t *
flatten_ends(uint32_t *o, uint32_t *c, uint32_t base, uint64_t bits, uint64_t q, uint32_t qbase)
{
    uint32_t *end = o + __builtin_popcountll(bits);
    if (!q) {
        do {
            for (unsigned i = 0; i < 4; i++) {
                o[i] = base + (uint32_t)__builtin_ctzll(bits | 1ull << 63);
                c[i] = qbase;
                bits &= bits - 1;
            }
            o += 4, c += 4;
        } while (o < end);
    } else {
        do {
            for (unsigned i = 0; i < 4; i++) {
                o[i] = base + (uint32_t)__builtin_ctzll(bits | 1ull << 63);
                c[i] = qbase + (uint32_t)__builtin_popcountll(q & ((bits & (0 - bits)) - 1));
                bits &= bits - 1;
            }
            o += 4, c += 4;
        } while (o < end);
    }
    return end;
}

/* The blocks of the next window of buf[0, len) (0: none left), with room
 * reserved for what they can add; -ENOMEM in *rc if there is none. */
static size_t window_blocks(struct scan_index *ix, size_t len, size_t max_blocks, int *rc)
{
    size_t nblocks = (len + 63) / 64;
    size_t nb = nblocks - ix->block < max_blocks ? nblocks - ix->block : max_blocks;
    if (nb > SCAN_INDEX_WINDOW)
        nb = SCAN_INDEX_WINDOW;
    *rc = nb ? reserve_window(ix, nb) : 0;
    return *rc ? 0 : nb;
}

/* What a window's loop keeps in registers (loaded from and stored back to
 * the index around it). */
struct index_regs {
    uint32_t *pos, *ends, *qcum, *qnl;
    size_t np, ne, nqn;
    uint32_t quotes;
    uint64_t inq;
};

static inline __attribute__((always_inline)) struct index_regs regs_load(const struct scan_index *ix)
{
    return (struct index_regs){ix->pos, ix->ends, ix->qcum, ix->qnl, ix->np,
                               ix->ne,  ix->nqn,  ix->quotes, ix->inq};
}

static inline __attribute__((always_inline)) void regs_store(struct scan_index *ix,
                                                             const struct index_regs *r,
                                                             size_t blocks)
{
    ix->np = r->np;
    ix->ne = r->ne;
    ix->quotes = r->quotes;
    ix->nqn = r->nqn;
    ix->inq = r->inq;
    ix->block += blocks;
}

/* The end of a block's step in both bodies: its quotes counted, its quoted
 * newlines listed (inq: the block's inside-quotes mask). */
static inline __attribute__((always_inline)) void block_quotes(struct index_regs *r,
                                                               uint32_t base, uint64_t q,
                                                               uint64_t n, uint64_t inq)
{
    r->quotes += (uint32_t)__builtin_popcountll(q);
    uint64_t qnl = n & inq;
    if (__builtin_expect(qnl != 0, 0))
        r->nqn = (size_t)(flatten(r->qnl + r->nqn, base, qnl) - r->qnl);
}

static inline __attribute__((always_inline)) int index_body(struct scan_index *ix,
                                                            const uint8_t *buf, size_t len,
                                                            size_t max_blocks)
{
    uint64_t qm[SCAN_INDEX_WINDOW], dm[SCAN_INDEX_WINDOW], nm[SCAN_INDEX_WINDOW];
    int rc;
    size_t nb = window_blocks(ix, len, max_blocks, &rc);
    if (nb == 0)
        return rc;
    size_t base0 = ix->block * 64;
    size_t full = (len - base0) / 64 < nb ? (len - base0) / 64 : nb;
    ix->kernel(buf + base0, full, ix->quote, ix->delim, qm, dm, nm);
    if (full < nb) { /* the last, partial block: zero padding matches nothing */
        uint8_t pad[64] = {0};
        memcpy(pad, buf + base0 + full * 64, len - base0 - full * 64);
        ix->kernel(pad, 1, ix->quote, ix->delim, qm + full, dm + full, nm + full);
    }
    struct index_regs r = regs_load(ix);
    for (size_t bi = 0; bi < nb; bi++) {
        uint32_t base = (uint32_t)(base0 + bi * 64);
        uint64_t q = qm[bi];
        uint64_t inq = (q ? prefix_xor(q) : 0) ^ r.inq; /* most blocks: no quote */
        r.inq = (uint64_t)((int64_t)inq >> 63);
        uint64_t st = (dm[bi] | nm[bi]) & ~inq;
        uint64_t nl = nm[bi] & ~inq;
        if (st) {
            /* each record end's index: the field ends before it in the block */
            for (uint64_t m = nl; m; m &= m - 1)
                r.ends[r.ne++] =
                    (uint32_t)(r.np + (size_t)__builtin_popcountll(st & ((m & (0 - m)) - 1)));
            r.np = (size_t)(flatten_ends(r.pos + r.np, r.qcum + r.np, base, st, q, r.quotes) -
                            r.pos);
        }
        block_quotes(&r, base, q, nm[bi], inq);
    }
    regs_store(ix, &r, nb);
    return 0;
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("popcnt,bmi"))) static int index_popcnt(struct scan_index *ix,
                                                               const uint8_t *buf, size_t len,
                                                               size_t max_blocks)
{
    return index_body(ix, buf, len, max_blocks);
}
#endif

#if defined(__x86_64__)
#define INDEX_AVX512 "avx512f,avx512bw,avx512vbmi2,bmi,bmi2,popcnt,pclmul"

bool scan_index_have_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("pclmul");
}

/* index_body with AVX-512 (Ice Lake and later): the masks straight from one
 * 64-byte load (the last, partial block by a masked load: zeros past the
 * end), the prefix-XOR by a carry-less multiply, and a block's field ends
 * without a quote by one compress of the byte offsets 0..63 under the mask,
 * widened 16 at a time: no branch per field end, and none per block for the
 * usual count (at most 16).  A record end's index is its rank among the
 * block's field ends (PEXT).  Blocks with quotes count them per field end as
 * index_body does. */
__attribute__((target(INDEX_AVX512))) static int index_avx512(struct scan_index *ix,
                                                               const uint8_t *buf, size_t len,
                                                               size_t max_blocks)
{
    static const uint8_t offsets[64] = {
        0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
        22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
        44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
    int rc;
    size_t nb = window_blocks(ix, len, max_blocks, &rc);
    if (nb == 0)
        return rc;
    const size_t b0 = ix->block;
    const __m512i vq = _mm512_set1_epi8((char)ix->quote), vd = _mm512_set1_epi8((char)ix->delim),
                  vn = _mm512_set1_epi8('\n');
    const __m512i iota = _mm512_loadu_si512((const void *)offsets);
    const __m128i ones = _mm_set1_epi8(-1);
    const bool quoting = ix->quote != 0;
    struct index_regs r = regs_load(ix);
    uint32_t *const pos = r.pos, *const ends = r.ends, *const qcum = r.qcum;
    for (size_t bi = 0; bi < nb; bi++) {
        size_t off = (b0 + bi) * 64;
        uint32_t base = (uint32_t)off;
        __m512i v = off + 64 <= len
                        ? _mm512_loadu_si512((const void *)(buf + off))
                        : _mm512_maskz_loadu_epi8(_bzhi_u64(~0ull, (unsigned)(len - off)),
                                                  (const void *)(buf + off));
        uint64_t q = quoting ? _mm512_cmpeq_epi8_mask(v, vq) : 0;
        uint64_t d = _mm512_cmpeq_epi8_mask(v, vd), n = _mm512_cmpeq_epi8_mask(v, vn);
        uint64_t inq = r.inq;
        if (q)
            inq ^= (uint64_t)_mm_cvtsi128_si64(
                _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)q), ones, 0));
        r.inq = (uint64_t)((int64_t)inq >> 63);
        uint64_t st = (d | n) & ~inq;
        uint64_t nl = n & ~inq;
        if (st) {
            /* record ends: their ranks among the block's field ends */
            uint64_t rank = _pext_u64(nl, st);
            ends[r.ne] = (uint32_t)(r.np + _tzcnt_u64(rank)); /* (kept only if rank != 0) */
            if (__builtin_expect(rank & (rank - 1), 0)) {
                size_t k = r.ne + 1;
                for (uint64_t m = rank & (rank - 1); m; m &= m - 1)
                    ends[k++] = (uint32_t)(r.np + _tzcnt_u64(m));
            }
            r.ne += (size_t)_mm_popcnt_u64(rank);
            size_t cnt = (size_t)_mm_popcnt_u64(st);
            if (!q) {
                __m512i idx = _mm512_maskz_compress_epi8(st, iota);
                __m512i vb = _mm512_set1_epi32((int)base), vc = _mm512_set1_epi32((int)r.quotes);
                uint32_t *o = pos + r.np, *c = qcum + r.np;
                _mm512_storeu_si512((void *)o,
                                    _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(idx)), vb));
                _mm512_storeu_si512((void *)c, vc);
                if (__builtin_expect(cnt > 16, 0)) {
                    _mm512_storeu_si512((void *)(o + 16),
                                        _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(idx, 1)), vb));
                    _mm512_storeu_si512((void *)(c + 16), vc);
                    if (cnt > 32) {
                        _mm512_storeu_si512((void *)(o + 32),
                                            _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(idx, 2)), vb));
                        _mm512_storeu_si512((void *)(c + 32), vc);
                        _mm512_storeu_si512((void *)(o + 48),
                                            _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(idx, 3)), vb));
                        _mm512_storeu_si512((void *)(c + 48), vc);
                    }
                }
            } else {
                flatten_ends(pos + r.np, qcum + r.np, base, st, q, r.quotes);
            }
            r.np += cnt;
        }
        block_quotes(&r, base, q, n, inq);
    }
    regs_store(ix, &r, nb);
    return 0;
}
#endif

static int index_base(struct scan_index *ix, const uint8_t *buf, size_t len, size_t max_blocks)
{
    return index_body(ix, buf, len, max_blocks);
}

int scan_index_more(struct scan_index *ix, const uint8_t *buf, size_t len)
{
#if defined(__x86_64__)
    if (ix->avx512)
        return index_avx512(ix, buf, len, SCAN_INDEX_WINDOW);
#endif
#if defined(__x86_64__) || defined(__i386__)
    if (ix->kernel == split_masks_avx2 || ix->kernel == split_masks_avx512)
        return index_popcnt(ix, buf, len, SCAN_INDEX_WINDOW); /* both imply POPCNT, BMI1 */
#endif
    return index_base(ix, buf, len, SCAN_INDEX_WINDOW);
}

void scan_index_drop(struct scan_index *ix, size_t records, size_t quoted_nls)
{
    if (records) {
        size_t first = ix->ends[records - 1] + 1; /* the waiting record's first field end */
        ix->pos[-1] = ix->pos[first - 1];
        ix->qcum[-1] = ix->qcum[first - 1];
        memmove(ix->pos, ix->pos + first, (ix->np - first) * sizeof *ix->pos);
        memmove(ix->qcum, ix->qcum + first, (ix->np - first) * sizeof *ix->qcum);
        ix->np -= first;
        memmove(ix->ends, ix->ends + records, (ix->ne - records) * sizeof *ix->ends);
        ix->ne -= records;
        for (size_t i = 0; i < ix->ne; i++)
            ix->ends[i] -= (uint32_t)first;
    }
    memmove(ix->qnl, ix->qnl + quoted_nls, (ix->nqn - quoted_nls) * sizeof *ix->qnl);
    ix->nqn -= quoted_nls;
}
