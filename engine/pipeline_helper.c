/*
 * pipeline_helper.c — a second reading thread beside the splitter: it takes
 * half of a chunk's blocks (the odd ones) through its own reader backend
 * (its own io_uring ring, or pread), counting and hashing each as it lands,
 * while the splitter reads the even ones.
 *
 * Why: a read that hits the page cache is a copy done by the thread that
 * submits it (io_uring completes it inline), so one splitter copies a whole
 * file alone.  A re-run over cached files is nothing but that copy and the
 * hashing (perf: ~70 % kernel copy), and two threads copy ~1.8x faster than
 * one here (the memory bus, not one core, is then the bound).  A first run
 * does the same work on the same cores, only less of it waits on one thread.
 *
 * Interleaved blocks, not two halves: both threads move through the file
 * together, so a cold file still looks sequential to the kernel's readahead.
 * The job and its completion are guarded by the helper's mutex; the per-block
 * arrays (counts, hashes) it writes are at its own indices and are read by
 * the splitter only after the job is done (the mutex orders them).
 */
#include "pipeline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
        int rc = pipe_read_batch(h->rd, r, n, done, ctx);
        pthread_mutex_lock(&h->mu);
        h->rc = rc;
        h->has_job = false;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int read_helper_start(struct read_helper *h, const struct reader *like)
{
    memset(h, 0, sizeof *h);
    int rc = strcmp(like->ops->name, "uring") == 0 ? reader_uring_create(like->depth, &h->rd)
                                                   : reader_pread_create(like->depth, &h->rd);
    if (rc)
        return rc;
    if (pthread_mutex_init(&h->mu, NULL)) {
        reader_destroy(h->rd);
        return -EAGAIN;
    }
    if (pthread_cond_init(&h->cv, NULL)) {
        pthread_mutex_destroy(&h->mu);
        reader_destroy(h->rd);
        return -EAGAIN;
    }
    if (pthread_create(&h->th, NULL, helper_main, h)) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        reader_destroy(h->rd);
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
    h->rc = 0;
    h->has_job = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

int read_helper_wait(struct read_helper *h)
{
    pthread_mutex_lock(&h->mu);
    while (h->has_job)
        pthread_cond_wait(&h->cv, &h->mu);
    int rc = h->rc;
    pthread_mutex_unlock(&h->mu);
    return rc;
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
    reader_destroy(h->rd);
    h->started = false;
}
