/*
 * stoppable.c — reads and FIFO opens that a stop signal always ends
 * (stoppable.h): the flag is checked with the stop signals blocked, and
 * ppoll waits with them unblocked, atomically.
 */
#define _GNU_SOURCE
#include "stoppable.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGQUIT);
}

/* Wait until fd has input (or its end, or an error): 0, or -EINTR once
 * stopped() is true. */
static int wait_input(int fd, bool (*stopped)(void))
{
    sigset_t stop, old;
    stop_signals(&stop);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    int rc = 0;
    for (;;) {
        if (stopped()) {
            rc = -EINTR;
            break;
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        /* the stop signals are unblocked only inside the wait (ppoll's mask) */
        int k = ppoll(&pf, 1, NULL, &old);
        if (k > 0)
            break; /* input, its end (POLLHUP) or an error read reports */
        if (k < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        /* EINTR: another signal, or a stop signal (the loop sees the flag) */
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

ssize_t read_stoppable(int fd, void *buf, size_t n, bool (*stopped)(void))
{
    int rc = wait_input(fd, stopped);
    if (rc < 0)
        return rc;
    ssize_t k = read(fd, buf, n);
    return k < 0 ? -errno : k;
}

int open_stoppable(const char *path, bool (*stopped)(void))
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISFIFO(sb.st_mode)) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
    }
    /* A FIFO opened without waiting, then waited for: Linux reports no
     * POLLHUP on a FIFO that has had no writer since it was opened, so the
     * wait lasts until a writer writes (POLLIN) or opens and closes (POLLHUP:
     * an empty input), as a blocking open and its first read would. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    int rc = wait_input(fd, stopped);
    int fl = rc < 0 ? -1 : fcntl(fd, F_GETFL);
    if (rc == 0 && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0))
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}
