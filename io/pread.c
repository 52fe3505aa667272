/*
 * pread.c — the portable read backend: each queued read is done at once
 * with pread(2) (retried on EINTR and short reads until the length or end of
 * file), its completion kept until reaped.  Same results as uring.c, where
 * io_uring is unavailable or --io=pread is asked for.
 */
#define _GNU_SOURCE
#include "reader.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct pread_reader {
    struct reader base;
    struct reader_cqe *done; /* ring of finished reads, [depth] */
    unsigned head, count;
};

static int pr_queue_read(struct reader *r, int fd, void *buf, size_t len, uint64_t off,
                         uint64_t tag)
{
    struct pread_reader *p = (struct pread_reader *)r;
    if (p->count == r->depth)
        return -EBUSY;
    size_t got = 0;
    int32_t res = 0;
    while (got < len) {
        ssize_t k = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            res = -errno;
            break;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    if (res == 0)
        res = (int32_t)got;
    p->done[(p->head + p->count) % r->depth] = (struct reader_cqe){tag, res};
    p->count++;
    r->pending++;
    return 0;
}

static int pr_submit(struct reader *r)
{
    (void)r;
    return 0;
}

static int pr_reap(struct reader *r, struct reader_cqe *out, size_t max, bool wait)
{
    (void)wait; /* every queued read is already done */
    struct pread_reader *p = (struct pread_reader *)r;
    size_t n = 0;
    while (n < max && p->count) {
        out[n++] = p->done[p->head];
        p->head = (p->head + 1) % r->depth;
        p->count--;
        r->pending--;
    }
    return (int)n;
}

static void pr_destroy(struct reader *r)
{
    struct pread_reader *p = (struct pread_reader *)r;
    free(p->done);
    free(p);
}

static const struct reader_ops pread_ops = {"pread", pr_queue_read, pr_submit, pr_reap, pr_destroy};

int reader_pread_create(unsigned depth, struct reader **out)
{
    struct pread_reader *p = calloc(1, sizeof *p);
    if (!p || !(p->done = calloc(depth ? depth : 1, sizeof *p->done))) {
        free(p);
        return -ENOMEM;
    }
    p->base = (struct reader){&pread_ops, depth ? depth : 1, 0};
    *out = &p->base;
    return 0;
}

void reader_destroy(struct reader *r)
{
    if (r)
        r->ops->destroy(r);
}
