/*
 * reader.h — the read backends behind one small interface (in the manner of
 * sqlite3_io_methods): io_uring (uring.c) and pread (pread.c), chosen at run
 * time.  A caller queues reads (fd, buffer, length, offset, tag), submits
 * them, and reaps completions in batches; a completion carries the tag and
 * the byte count or -errno.  io/ knows nothing of CSV: it moves bytes.
 * Errors are -errno, never the global errno.
 */
#ifndef CSVI_READER_H
#define CSVI_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reader_cqe {
    uint64_t tag;
    int32_t res; /* bytes read (0 at end of file) or -errno */
};

struct reader;

struct reader_ops {
    const char *name;
    /* Queue one read; at most `depth` may be outstanding.  0 or -errno. */
    int (*queue_read)(struct reader *r, int fd, void *buf, size_t len, uint64_t off, uint64_t tag);
    /* Hand queued reads to the kernel.  0 or -errno. */
    int (*submit)(struct reader *r);
    /* Up to max completions; with wait, block until at least one.
     * Returns how many (>= 0) or -errno. */
    int (*reap)(struct reader *r, struct reader_cqe *out, size_t max, bool wait);
    void (*destroy)(struct reader *r);
};

struct reader {
    const struct reader_ops *ops;
    unsigned depth;    /* most reads outstanding at once */
    unsigned pending;  /* queued or in flight, not yet reaped */
};

/* Create a backend for up to `depth` outstanding reads.  uring returns
 * -ENOSYS / -EPERM / -EINVAL ... where io_uring cannot be set up (old
 * kernel, seccomp): the caller falls back to pread.  *out freed by
 * reader_destroy. */
int reader_uring_create(unsigned depth, struct reader **out /* OUT */);
int reader_pread_create(unsigned depth, struct reader **out /* OUT */);
void reader_destroy(struct reader *r); /* accepts NULL */

#endif
