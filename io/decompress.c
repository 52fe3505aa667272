/*
 * decompress.c — gzip (zlib, several members allowed, as gzip(1) writes
 * when files are concatenated) and zstd (libzstd, several frames allowed)
 * streams, read through a fixed input buffer.  See decompress.h.
 */
#include "decompress.h"
#include "stoppable.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_BUF (256u * 1024u)
#define OUT_BUF (256u * 1024u) /* the decoder always fills this, whatever the caller asks */

struct decomp {
    int fd;
    bool (*stopped)(void);     /* a pipe: read through read_stoppable (NULL: read) */
    enum decomp_kind kind;
    uint8_t *in;
    size_t in_len, in_pos;     /* in[in_pos, in_len) not yet given to the decoder */
    uint8_t *out;
    size_t out_len, out_pos;   /* out[out_pos, out_len) decoded, not yet given to the caller */
    bool in_eof;
    uint64_t in_total;
    bool done;                 /* the stream ended cleanly */
    bool mid_unit;             /* inside a gzip member / zstd frame */
    bool unit_done;            /* a gzip member / zstd frame has ended */
    z_stream z;
    ZSTD_DStream *zs;
    char err[160];
};

enum decomp_kind decomp_detect(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return DECOMP_GZIP;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
        return DECOMP_ZSTD;
    return DECOMP_NONE;
}

const char *decomp_name(enum decomp_kind k)
{
    return k == DECOMP_GZIP ? "gzip" : k == DECOMP_ZSTD ? "zstd" : NULL;
}

int decomp_open(int fd, enum decomp_kind kind, struct decomp **out)
{
    *out = NULL;
    struct decomp *d = calloc(1, sizeof *d);
    if (!d || !(d->in = malloc(IN_BUF)) || !(d->out = malloc(OUT_BUF))) {
        if (d)
            free(d->in);
        free(d);
        return -ENOMEM;
    }
    d->fd = fd;
    d->kind = kind;
    if (kind == DECOMP_GZIP) {
        if (inflateInit2(&d->z, 15 + 16) != Z_OK) { /* gzip wrapper only */
            free(d->out);
            free(d->in);
            free(d);
            return -ENOMEM;
        }
    } else {
        d->zs = ZSTD_createDStream();
        if (!d->zs || ZSTD_isError(ZSTD_initDStream(d->zs))) {
            ZSTD_freeDStream(d->zs);
            free(d->out);
            free(d->in);
            free(d);
            return -ENOMEM;
        }
    }
    *out = d;
    return 0;
}

int decomp_open_prefixed(int fd, enum decomp_kind kind, const uint8_t *prefix, size_t n,
                         struct decomp **out)
{
    int rc = decomp_open(fd, kind, out);
    if (rc == 0 && n) {
        memcpy((*out)->in, prefix, n < IN_BUF ? n : IN_BUF);
        (*out)->in_len = n < IN_BUF ? n : IN_BUF;
        (*out)->in_total = (*out)->in_len;
    }
    return rc;
}

void decomp_set_stop(struct decomp *d, bool (*stopped)(void)) { d->stopped = stopped; }

/* Refill the input buffer when it is empty.  Returns 0 or -errno. */
static int refill(struct decomp *d)
{
    if (d->in_pos < d->in_len || d->in_eof)
        return 0;
    ssize_t k = d->stopped ? read_stoppable(d->fd, d->in, IN_BUF, d->stopped)
                           : read(d->fd, d->in, IN_BUF);
    if (k < 0 && !d->stopped)
        k = -errno;
    if (k < 0)
        return (int)k; /* -EINTR: the caller decides (an interrupt stops the run) */
    d->in_pos = 0;
    d->in_len = (size_t)k;
    d->in_total += (uint64_t)k;
    d->in_eof = k == 0;
    return 0;
}

static ssize_t fail(struct decomp *d, const char *what)
{
    snprintf(d->err, sizeof d->err, "%s", what);
    return -EBADMSG;
}

static ssize_t read_gzip(struct decomp *d, uint8_t *buf, size_t n)
{
    size_t produced = 0;
    while (produced == 0) {
        int rc = refill(d);
        if (rc)
            return rc;
        if (d->in_pos == d->in_len && d->in_eof) {
            if (d->mid_unit)
                return fail(d, "the gzip data is truncated (the file ends inside a member)");
            d->done = true;
            return 0;
        }
        if (!d->mid_unit && d->in[d->in_pos] == 0) { /* zero padding after a member, which */
            while (d->in_pos < d->in_len && d->in[d->in_pos] == 0) /* gzip(1) ignores too */
                d->in_pos++;
            continue;
        }
        if (!d->mid_unit && d->unit_done && d->in[d->in_pos] != 0x1f)
            return fail(d, "bytes after the last gzip member are not gzip (\"trailing "
                           "garbage\", which gzip -d ignores with a warning)");
        d->z.next_in = d->in + d->in_pos;
        d->z.avail_in = (uInt)(d->in_len - d->in_pos);
        d->z.next_out = buf;
        d->z.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
        int zr = inflate(&d->z, Z_NO_FLUSH);
        d->in_pos = d->in_len - d->z.avail_in;
        produced = (size_t)(d->z.next_out - buf);
        d->mid_unit = true;
        if (zr == Z_STREAM_END) { /* a member ended; another may follow */
            d->mid_unit = false;
            d->unit_done = true;
            inflateReset(&d->z);
        } else if (zr == Z_BUF_ERROR && produced == 0 && d->in_pos == d->in_len) {
            continue; /* needs more input */
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            char msg[128];
            snprintf(msg, sizeof msg, "corrupt gzip data (%s)", d->z.msg ? d->z.msg : "zlib error");
            ssize_t e = fail(d, msg);
            return produced ? (ssize_t)produced : e; /* the bytes before it first */
        }
    }
    return (ssize_t)produced;
}

static ssize_t read_zstd(struct decomp *d, uint8_t *buf, size_t n)
{
    size_t produced = 0;
    while (produced == 0) {
        int rc = refill(d);
        if (rc)
            return rc;
        if (d->in_pos == d->in_len && d->in_eof) {
            if (d->mid_unit)
                return fail(d, "the zstd data is truncated (the file ends inside a frame)");
            d->done = true;
            return 0;
        }
        ZSTD_inBuffer in = {d->in, d->in_len, d->in_pos};
        ZSTD_outBuffer out = {buf, n, 0};
        size_t zr = ZSTD_decompressStream(d->zs, &out, &in);
        d->in_pos = in.pos;
        produced = out.pos;
        if (ZSTD_isError(zr)) {
            char msg[128];
            snprintf(msg, sizeof msg, "corrupt zstd data (%s)", ZSTD_getErrorName(zr));
            ssize_t e = fail(d, msg);
            return produced ? (ssize_t)produced : e; /* the bytes before it first */
        }
        d->mid_unit = zr != 0; /* 0: a frame is complete */
    }
    return (ssize_t)produced;
}

/* The decoder always writes into d->out with all of OUT_BUF free, so how
 * much comes out before a corruption is the same for every caller. */
ssize_t decomp_read(struct decomp *d, uint8_t *buf, size_t n)
{
    if (n == 0)
        return 0;
    if (d->out_pos == d->out_len) {
        if (d->done)
            return 0;
        if (d->err[0])
            return -EBADMSG;
        ssize_t k = d->kind == DECOMP_GZIP ? read_gzip(d, d->out, OUT_BUF)
                                           : read_zstd(d, d->out, OUT_BUF);
        if (k <= 0)
            return k;
        d->out_pos = 0;
        d->out_len = (size_t)k;
    }
    size_t k = d->out_len - d->out_pos < n ? d->out_len - d->out_pos : n;
    memcpy(buf, d->out + d->out_pos, k);
    d->out_pos += k;
    return (ssize_t)k;
}

const char *decomp_error(const struct decomp *d) { return d->err; }
uint64_t decomp_in_bytes(const struct decomp *d) { return d->in_total; }

void decomp_close(struct decomp *d)
{
    if (!d)
        return;
    if (d->kind == DECOMP_GZIP)
        inflateEnd(&d->z);
    else
        ZSTD_freeDStream(d->zs);
    free(d->out);
    free(d->in);
    free(d);
}
