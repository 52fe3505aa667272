/*
 * stoppable.h — a read of a pipe and an open of a FIFO that a stop signal
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT) always ends, however close it comes to
 * the call.
 *
 * Checking a "stop" flag and then calling read(2) leaves a window: a signal
 * that lands between the check and the call sets the flag, and read then
 * blocks until the writer writes or closes — a cron job's `csvinfer -` that
 * a SIGTERM did not stop.  Here the stop signals are blocked while the flag
 * is checked, and ppoll(2) unblocks them atomically as it waits, so a signal
 * either came before the check (seen) or interrupts the wait (EINTR).
 * Errors are -errno values, as everywhere in io/.
 */
#ifndef CSVI_IO_STOPPABLE_H
#define CSVI_IO_STOPPABLE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The signals that stop a run (a set for sigprocmask and friends). */
void stop_signals(sigset_t *set);

/* read(2) of up to n bytes of fd that waits for input only while stopped()
 * is false: -EINTR once it is true (before or while waiting), else what
 * read returns (-errno on error). */
ssize_t read_stoppable(int fd, void *buf, size_t n, bool (*stopped)(void));

/* open(path, O_RDONLY | O_CLOEXEC); a FIFO's wait for its writer ends with
 * -EINTR once stopped() is true.  The descriptor is blocking, as open's.
 * Returns it or -errno. */
int open_stoppable(const char *path, bool (*stopped)(void));

#endif
