/*
 * progress.c — the progress line: a thread that wakes every 200 ms, reads the
 * engine's progress counters (atomics, see csvi_engine_progress) and redraws
 * one line on stderr with "\r".  Only started when stderr is a terminal (or
 * with --progress always): under cron nothing is printed.
 */
#define _GNU_SOURCE
#include "progress.h"
#include "../threading.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct progress {
    const csvi_engine *e;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;            /* guarded by mu */
    bool drawn;           /* progress thread only */
    struct timespec t0;
};

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void draw(struct progress *p)
{
    struct csvi_progress pr;
    csvi_engine_progress(p->e, &pr);
    double s = since(&p->t0);
    double rate = s > 0 ? (double)pr.bytes_done / s : 0;
    char eta[32] = "";
    if (rate > 0 && pr.bytes_total > pr.bytes_done)
        snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(pr.bytes_total - pr.bytes_done) / rate);
    fprintf(stderr, "\rcsvinfer: %llu/%llu files, %.2f/%.2f GB, %.2f GB/s%s\033[K",
            (unsigned long long)pr.files_done, (unsigned long long)pr.files_total,
            (double)pr.bytes_done / 1e9, (double)pr.bytes_total / 1e9, rate / 1e9, eta);
    fflush(stderr);
    p->drawn = true;
}

static void *progress_main(void *arg)
{
    struct progress *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &until);
        if (!p->stop && since(&p->t0) >= 0.5) { /* short runs print nothing */
            pthread_mutex_unlock(&p->mu);
            draw(p);
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    return NULL;
}

struct progress *progress_start(const csvi_engine *e)
{
    struct progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->e = e;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    if (thread_start(&p->thread, progress_main, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    return p;
}

void progress_stop(struct progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
