/*
 * uring.c — the io_uring read backend (liburing), after the shape of
 * liburing's examples: one ring sized for `depth` reads, reads queued as
 * SQEs and submitted together, completions reaped in batches with
 * io_uring_for_each_cqe + io_uring_cq_advance.  A short read is finished
 * here (the rest is queued again) so callers see whole reads, as from
 * pread.c.  Nothing may be left in flight at destroy: the caller drains.
 */
#include "reader.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

struct uring_read {       /* one slot per outstanding read */
    int fd;
    char *buf;
    size_t len, done;
    uint64_t off, tag;
    bool used;
};

struct uring_reader {
    struct reader base;
    struct io_uring ring;
    struct uring_read *slots; /* [depth] */
    unsigned free_hint;
};

static int ur_prep(struct uring_reader *u, unsigned slot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        int rc = io_uring_submit(&u->ring);
        if (rc < 0)
            return rc;
        if (!(sqe = io_uring_get_sqe(&u->ring)))
            return -EBUSY;
    }
    struct uring_read *s = &u->slots[slot];
    io_uring_prep_read(sqe, s->fd, s->buf + s->done, (unsigned)(s->len - s->done), s->off + s->done);
    io_uring_sqe_set_data64(sqe, slot);
    return 0;
}

static int ur_queue_read(struct reader *r, int fd, void *buf, size_t len, uint64_t off,
                         uint64_t tag)
{
    struct uring_reader *u = (struct uring_reader *)r;
    if (r->pending == r->depth)
        return -EBUSY;
    unsigned slot = u->free_hint;
    while (u->slots[slot].used)
        slot = (slot + 1) % r->depth;
    u->free_hint = (slot + 1) % r->depth;
    u->slots[slot] = (struct uring_read){fd, buf, len, 0, off, tag, true};
    int rc = ur_prep(u, slot);
    if (rc) {
        u->slots[slot].used = false;
        return rc;
    }
    r->pending++;
    return 0;
}

static int ur_submit(struct reader *r)
{
    struct uring_reader *u = (struct uring_reader *)r;
    int rc = io_uring_submit(&u->ring);
    return rc < 0 ? rc : 0;
}

static int ur_reap(struct reader *r, struct reader_cqe *out, size_t max, bool wait)
{
    struct uring_reader *u = (struct uring_reader *)r;
    size_t n = 0;
    bool resubmit = false;
    while (n == 0) {
        if (r->pending == 0)
            return 0;
        if (wait) {
            struct io_uring_cqe *cqe;
            int rc = io_uring_wait_cqe(&u->ring, &cqe);
            if (rc == -EINTR)
                continue;
            if (rc < 0)
                return rc;
        }
        unsigned head, seen = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(&u->ring, head, cqe)
        {
            if (n == max)
                break;
            seen++;
            unsigned slot = (unsigned)io_uring_cqe_get_data64(cqe);
            struct uring_read *s = &u->slots[slot];
            int res = cqe->res;
            if (res > 0 && s->done + (size_t)res < s->len) { /* short read: go on */
                s->done += (size_t)res;
                if (ur_prep(u, slot) == 0) {
                    resubmit = true;
                    continue;
                }
                res = -EIO;
            } else if (res == -EAGAIN || res == -EINTR) {
                if (ur_prep(u, slot) == 0) {
                    resubmit = true;
                    continue;
                }
            }
            out[n++] = (struct reader_cqe){s->tag, res >= 0 ? (int32_t)(s->done + (size_t)res) : res};
            s->used = false;
            r->pending--;
        }
        io_uring_cq_advance(&u->ring, seen);
        if (resubmit) {
            io_uring_submit(&u->ring);
            resubmit = false;
        }
        if (!wait)
            break;
    }
    return (int)n;
}

static void ur_destroy(struct reader *r)
{
    struct uring_reader *u = (struct uring_reader *)r;
    io_uring_queue_exit(&u->ring);
    free(u->slots);
    free(u);
}

static const struct reader_ops uring_ops = {"uring", ur_queue_read, ur_submit, ur_reap, ur_destroy};

int reader_uring_create(unsigned depth, struct reader **out)
{
    if (depth == 0)
        depth = 1;
    struct uring_reader *u = calloc(1, sizeof *u);
    if (!u || !(u->slots = calloc(depth, sizeof *u->slots))) {
        free(u);
        return -ENOMEM;
    }
    int rc = io_uring_queue_init(depth, &u->ring, 0);
    if (rc < 0) { /* -ENOSYS old kernel, -EPERM seccomp, -EINVAL, -ENOMEM locked memory */
        free(u->slots);
        free(u);
        return rc;
    }
    u->base = (struct reader){&uring_ops, depth, 0};
    *out = &u->base;
    return 0;
}
