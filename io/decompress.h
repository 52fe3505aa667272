/*
 * decompress.h — gzip and zstd inputs as a stream of plain bytes, for the
 * pipeline's splitter (which cuts the decompressed stream into slices like a
 * plain file's) and the sequential engine.  Recognised by magic bytes, never by name.  zlib and
 * libzstd do the work; this file only adapts them to read(2)'s shape.
 * Errors are -errno values; a corrupt or truncated stream is -EBADMSG with
 * a message from decomp_error().
 */
#ifndef CSVI_IO_DECOMPRESS_H
#define CSVI_IO_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum decomp_kind { DECOMP_NONE = 0, DECOMP_GZIP, DECOMP_ZSTD };

/* What the first n bytes of a file say it is. */
enum decomp_kind decomp_detect(const uint8_t *p, size_t n);
const char *decomp_name(enum decomp_kind k); /* "gzip", "zstd", NULL for none */

struct decomp;
/* Decompress what fd reads (from its current offset).  The caller keeps
 * fd and closes it after decomp_close.  Returns 0 or -ENOMEM. */
int decomp_open(int fd, enum decomp_kind kind, struct decomp **out /* OUT */);
/* The same, for a pipe whose first n bytes (n <= 16) were read already to
 * see what it is: the stream starts with prefix[0, n), then fd. */
int decomp_open_prefixed(int fd, enum decomp_kind kind, const uint8_t *prefix, size_t n,
                         struct decomp **out /* OUT */);
/* Read a pipe through read_stoppable (stoppable.h): its wait for input ends
 * with -EINTR once stopped() is true.  Without it, read(2) as is. */
void decomp_set_stop(struct decomp *d, bool (*stopped)(void));
/* Up to n decompressed bytes into buf: > 0 bytes, 0 at the end of the
 * stream, -errno (-EBADMSG: corrupt or truncated; see decomp_error).  The
 * bytes decoded before a corruption are returned first and the error on the
 * next call, so what a reader sees before an error never depends on n. */
ssize_t decomp_read(struct decomp *d, uint8_t *buf, size_t n);
/* What went wrong, for the file's error message ("" if nothing). */
const char *decomp_error(const struct decomp *d);
/* Compressed bytes consumed so far. */
uint64_t decomp_in_bytes(const struct decomp *d);
void decomp_close(struct decomp *d); /* accepts NULL */

#endif
