/*
 * ledger.h — the run ledger (docs/ledger.md): a JSON Lines file every run
 * appends its events to, and the reading of it back (the last schema of each
 * path for drift detection, and `csvinfer history`).  Events are made and
 * read with jansson.
 *
 * Thread safety: ledger_add may be called from any thread (the merger, the
 * calling thread); the rest from one thread.
 */
#ifndef CSVI_LEDGER_H
#define CSVI_LEDGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ledger;

/* Open path for appending (creating it, and with make_parents its directories;
 * a non-empty file that does not start with "{" is refused), with a batch of
 * batch_events events or batch_ms milliseconds, whichever comes first.
 * Returns 0, or -errno and *why (malloc'd). */
int ledger_open(const char *path, bool make_parents, unsigned batch_events, unsigned batch_ms,
                struct ledger **out /* OUT */, char **why /* OUT */);

/* Append an event (a JSON object; the reference is stolen).  Written by the
 * next flush: when the batch is full or old enough, or ledger_flush. */
void ledger_add(struct ledger *l, json_t *event);

/* Append an event already written as one line of JSON (no newline in it). */
void ledger_add_line(struct ledger *l, const char *line, size_t n);

/* Write what is waiting: one write and one fdatasync under an exclusive
 * flock on the ledger.  Returns 0 or -errno (reported once by the caller). */
int ledger_flush(struct ledger *l);

/* Flush and free; accepts NULL.  Returns the last write error, or 0. */
int ledger_close(struct ledger *l);

/* Call fn for every whole event of the ledger file at path, oldest first;
 * lines that do not parse (a torn last line after a crash) are skipped and
 * counted in *skipped.  Returns 0, or -errno (a missing file is 0 events). */
int ledger_read(const char *path, void (*fn)(void *ctx, json_t *event), void *ctx,
                uint64_t *skipped /* OUT */);

/* The same, line by line from byte `from` on, unparsed: fn gets each whole
 * non-empty line (no newline) and returns whether it was an event (false:
 * counted in *skipped, as are lines past 64 MiB and a torn last line).
 * *end (may be NULL): the offset after the last whole line read. */
int ledger_read_lines(const char *path, uint64_t from,
                      bool (*fn)(void *ctx, const char *line, size_t n), void *ctx,
                      uint64_t *skipped /* OUT */, uint64_t *end /* OUT */);

#endif
