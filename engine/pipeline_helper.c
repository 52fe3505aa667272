/*
 * pipeline_helper.c — a second reading thread beside the splitter: it copies
 * half of a chunk's blocks (the odd ones) out of the page cache, counting
 * and hashing each as it lands, while the splitter reads the even ones
 * through the reader backend.
 *
 * Why: a read that hits the page cache is a copy done by the thread that
 * submits it (io_uring completes it inline), so one splitter copies a whole
 * file alone.  A re-run over cached files is nothing but that copy and the
 * hashing (perf: ~70 % kernel copy), and two threads copy ~1.8x faster than
 * one here (the memory bus, not one core, is then the bound).
 *
 * Only what is cached: the helper reads with preadv2(RWF_NOWAIT), which
 * copies pages already in the page cache and fails rather than wait for the
 * disk.  A block it could not copy whole is left (res = HELPER_LEFT) and the
 * splitter reads it through the backend after the helper is done.  A cold
 * file is read as before — two threads' streams of reads on one file from
 * disk made the kernel's time jump (sys 0.3 s -> 1.1-3.1 s for 1 GiB) — and
 * after a chunk with a block left, the next chunks go without the helper
 * but for one probe every HELPER_PROBE chunks.
 *
 * The job and its completion are guarded by the helper's mutex; the per-block
 * arrays (counts, hashes) it writes are at its own indices and are read by
 * the splitter only after the job is done (the mutex orders them).
 */
#define _GNU_SOURCE
#include "pipeline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

/* Copy r[0, n) if cached, calling done for each block copied whole. */
static void copy_cached(struct read_req *r, size_t n,
                        void (*done)(void *ctx, const struct read_req *req), void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        struct iovec iov = {r[i].dst, r[i].len};
        ssize_t k;
        do
            k = preadv2(r[i].fd, &iov, 1, (off_t)r[i].off, RWF_NOWAIT);
        while (k < 0 && errno == EINTR);
        if (k < 0 || (size_t)k != r[i].len) { /* not cached, unsupported, or short */
            r[i].res = HELPER_LEFT;
            continue;
        }
        r[i].res = (int32_t)k;
        if (done)
            done(ctx, &r[i]);
    }
}

static void *helper_main(void *arg)
{
    struct read_helper *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->has_job && !h->quit)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->quit)
            break;
        struct read_req *r = h->r;
        size_t n = h->n;
        void (*done)(void *, const struct read_req *) = h->done;
        void *ctx = h->ctx;
        pthread_mutex_unlock(&h->mu);
        copy_cached(r, n, done, ctx);
        pthread_mutex_lock(&h->mu);
        h->has_job = false;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    h->cpu_ms = thread_cpu_ms(); /* (its own field; read after pthread_join) */
    return NULL;
}

int read_helper_start(struct read_helper *h)
{
    memset(h, 0, sizeof *h);
    if (pthread_mutex_init(&h->mu, NULL))
        return -EAGAIN;
    if (pthread_cond_init(&h->cv, NULL)) {
        pthread_mutex_destroy(&h->mu);
        return -EAGAIN;
    }
    if (thread_start(&h->th, helper_main, h)) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        return -EAGAIN;
    }
    h->started = true;
    return 0;
}

void read_helper_post(struct read_helper *h, struct read_req *r, size_t n,
                      void (*done)(void *ctx, const struct read_req *req), void *ctx)
{
    pthread_mutex_lock(&h->mu);
    h->r = r;
    h->n = n;
    h->done = done;
    h->ctx = ctx;
    h->has_job = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void read_helper_wait(struct read_helper *h)
{
    pthread_mutex_lock(&h->mu);
    while (h->has_job)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

void read_helper_stop(struct read_helper *h)
{
    if (!h->started)
        return;
    pthread_mutex_lock(&h->mu);
    h->quit = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    h->started = false;
}
