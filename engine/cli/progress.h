/*
 * progress.h — the CLI's progress line on stderr (files, bytes, GB/s, ETA),
 * redrawn by a thread of its own from csvi_engine_progress while a run goes.
 */
#ifndef CSVI_CLI_PROGRESS_H
#define CSVI_CLI_PROGRESS_H

#include "csvinfer.h"

struct progress;
/* Start drawing every 200 ms; NULL if the thread cannot start (no line then). */
struct progress *progress_start(const csvi_engine *e);
/* Stop, and clear the line.  Accepts NULL. */
void progress_stop(struct progress *p);

#endif
