/*
 * ledger_basis.h — the drift basis of a run, read from the ledger and its
 * snapshot (ledger_basis.c): each path's last file_done and each table's
 * last table_done from runs that ended, kept as raw lines.
 */
#ifndef CSVI_LEDGER_BASIS_H
#define CSVI_LEDGER_BASIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ledger_basis {
    json_t *last;     /* path -> its file_done line (a JSON string) */
    json_t *tables;   /* table key -> its table_done line */
    json_t *pending;  /* run id -> {path or "\x01table key" -> line} until its run_end */
    uint64_t covered; /* the ledger's bytes read into it */
};

/* Read the basis of ledger: its snapshot if it fits, then the ledger after
 * it (or the ledger whole).  0 or -errno (a missing ledger is no events);
 * *skipped counts lines that were no events (a torn line). */
int basis_load(struct ledger_basis *b, const char *ledger, uint64_t *skipped /* OUT */);
/* After the run's events are written: add the ledger's new events and write
 * the snapshot (best effort: a snapshot not written is a slower next start). */
void basis_save(struct ledger_basis *b, const char *ledger);
/* The event kept under key in map (last or tables), parsed: a new reference,
 * or NULL.  Thread-safe while nobody changes the map. */
json_t *basis_event(json_t *map, const char *key);
void basis_free(struct ledger_basis *b);

#endif
