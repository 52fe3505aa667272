/*
 * verdict_codec.h — serialize partial verdicts (and file plans) for the
 * cache, and read them back with every field checked.  See verdict_codec.c.
 */
#ifndef CSVI_VERDICT_CODEC_H
#define CSVI_VERDICT_CODEC_H

#include "internal.h"

struct codec_buf {        /* a growing byte buffer; data is malloc'd, the owner frees it */
    uint8_t *data;
    size_t len, cap;
    bool failed;          /* out of memory: the content is incomplete */
};

struct codec_reader {     /* reads data[pos, len) */
    const uint8_t *data;
    size_t len, pos;
    bool bad;             /* inconsistent input: the value must not be used */
};

/* Append one work unit's verdict; unit_line is the unit's first line, first
 * the slice's (lines are stored relative to it). */
void codec_put_unit(struct codec_buf *b, const struct slice_verdict *v, uint64_t unit_line,
                    uint64_t first);
/* Append what file_plan_init decided (dialect, header, names). */
void codec_put_plan(struct codec_buf *b, const struct file_plan *plan,
                    const struct csvi_file_result *res);
void codec_put_varint(struct codec_buf *b, uint64_t v);

/* Read one unit written by codec_put_unit for a slice starting on line first;
 * *v is filled (free it with slice_verdict_free).  Returns 0, -EINVAL (the
 * value is inconsistent with the plan: r->bad), or -ENOMEM. */
int codec_get_unit(struct codec_reader *r, const struct file_plan *plan, uint64_t first,
                   struct slice_verdict *v /* OUT */, uint64_t *unit_line /* OUT */);
/* Read a plan into *plan (its cfg already set) and the dialect into res. */
int codec_get_plan(struct codec_reader *r, struct file_plan *plan, struct csvi_file_result *res);
/* A varint of at most max (false and r->bad if not). */
bool codec_get_varint(struct codec_reader *r, uint64_t max, uint64_t *v);

#endif
