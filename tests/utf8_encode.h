/*
 * utf8_encode.h — the tests' UTF-8 encoder: one code point to its 1-4 bytes
 * (no checks: callers give scalar values only).  Header-only, for the tests
 * that build random text (test_scan.c, test_bytecheck.c).
 */
#ifndef CSVI_TEST_UTF8_ENCODE_H
#define CSVI_TEST_UTF8_ENCODE_H

#include <stddef.h>
#include <stdint.h>

static inline size_t utf8_encode(uint32_t cp, uint8_t *o)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

#endif
