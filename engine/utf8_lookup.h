/*
 * utf8_lookup.h — the tables of the "lookup" UTF-8 validation (Keiser and
 * Lemire, "Validating UTF-8 in less than one instruction per byte", 2021),
 * shared by the AVX2 (utf8_avx2.c) and AVX-512 (utf8_avx512.c) kernels: for
 * the high and low nibbles of a byte's predecessor and the high nibble of
 * the byte, the error classes each allows; a byte pair is invalid when the
 * three lookups have a class in common.
 */
#ifndef CSVI_UTF8_LOOKUP_H
#define CSVI_UTF8_LOOKUP_H

#include <stdint.h>

/* Error classes of a byte pair (previous byte, this byte) */
#define U8_TOO_SHORT (1u << 0)  /* 11______ 0_______ or 11______ 11______ */
#define U8_TOO_LONG (1u << 1)   /* 0_______ 10______ */
#define U8_OVERLONG_3 (1u << 2) /* 11100000 100_____ */
#define U8_TOO_LARGE (1u << 3)  /* 11110100 1001____ ... (past U+10FFFF) */
#define U8_SURROGATE (1u << 4)  /* 11101101 101_____ */
#define U8_OVERLONG_2 (1u << 5) /* 1100000_ 10______ */
#define U8_TOO_LARGE_1000 (1u << 6) /* 11110101 1000____ ... */
#define U8_OVERLONG_4 (1u << 6) /* 11110000 1000____ */
#define U8_TWO_CONTS (1u << 7)  /* 10______ 10______ */
#define U8_CARRY (U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS)

/* by the previous byte's high nibble */
static const uint8_t u8_prev_hi[16] = {
    U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
    U8_TOO_LONG, U8_TOO_LONG, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS,
    U8_TOO_SHORT | U8_OVERLONG_2, U8_TOO_SHORT, U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
    U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4};

/* by the previous byte's low nibble */
static const uint8_t u8_prev_lo[16] = {
    U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4,
    U8_CARRY | U8_OVERLONG_2,
    U8_CARRY,
    U8_CARRY,
    U8_CARRY | U8_TOO_LARGE,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_SURROGATE,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
    U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000};

/* by the byte's high nibble */
static const uint8_t u8_this_hi[16] = {
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
    U8_TOO_SHORT, U8_TOO_SHORT,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE_1000 |
        U8_OVERLONG_4,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT};

/* A lead byte in the last three places of a block needs bytes of the next
 * one: the largest byte each of the last 16 places may hold without that
 * (the last lane of a register; the others take any byte). */
static const uint8_t u8_max_last16[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                          0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0 - 1,
                                          0xE0 - 1, 0xC0 - 1};

#endif
