/*
 * threading.h — the small pthread layer the pipeline is built from: a
 * bounded blocking queue (one mutex, two condition variables; closing wakes
 * everyone, as zstd's pool.c), a counting semaphore, and thread_start.  Each
 * structure owns its lock; nothing here ever holds two locks at once.
 */
#ifndef CSVI_THREADING_H
#define CSVI_THREADING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct tqueue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    void **items;   /* ring [cap]: guarded by mu */
    size_t cap, head, count; /* guarded by mu */
    bool closed;    /* guarded by mu: no more pushes; pops drain then get NULL */
};

int tqueue_init(struct tqueue *q, size_t cap);
void tqueue_destroy(struct tqueue *q);
/* Blocks while full.  false if the queue is closed (item not taken). */
bool tqueue_push(struct tqueue *q, void *item);
/* Blocks while empty.  NULL once closed and empty. */
void *tqueue_pop(struct tqueue *q);
/* The same, but the item pushed last (a stack: a buffer pool hands out the
 * buffer given back most recently, still mapped and maybe cached). */
void *tqueue_pop_newest(struct tqueue *q);
void tqueue_close(struct tqueue *q);

struct tsem {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long count; /* guarded by mu */
};
int tsem_init(struct tsem *s, long count);
void tsem_destroy(struct tsem *s);
void tsem_wait(struct tsem *s);
void tsem_post(struct tsem *s);

/* pthread_create with SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked in the new
 * thread: such a signal then always reaches the thread that started the run,
 * so a read of stdin or a FIFO blocked there returns EINTR (were it delivered
 * to a worker waiting on a condition variable, the read would wait on until
 * the writer closed — a SIGTERM that did not stop the run).  Returns 0 or an
 * errno value, as pthread_create. */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* CPU time the calling thread has used, in milliseconds (CLOCK_THREAD_CPUTIME_ID;
 * 0 where the clock is missing): the pipeline's per-thread line under
 * CSVINFER_LOG=debug. */
double thread_cpu_ms(void);

#endif
