/*
 * fuzz_ledger.c — libFuzzer target for the ledger line reader: whatever a
 * ledger file holds (torn lines, garbage, JSON of the wrong shape), reading
 * it back must not crash, hang or leak.  The input is written as a ledger
 * file and read three ways: ledger_read (every event), drift_compare of a
 * fixed schema against every file_done's "schema" (as a run does), and
 * csvi_write_history for the path "-" in text and JSON (as `csvinfer
 * history` does).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "ledger.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void drop(void) { unlink(path); }

static void on_event(void *ctx, json_t *ev)
{
    (void)ctx;
    const char *kind = json_string_value(json_object_get(ev, "event"));
    if (!kind || strcmp(kind, "file_done") != 0)
        return;
    struct csvi_column cols[3] = {
        {.name = "id", .type = CSVI_TYPE_INTEGER},
        {.name = "amount", .type = CSVI_TYPE_DECIMAL, .nullable = true},
        {.name = "when", .type = CSVI_TYPE_DATE}};
    struct csvi_file_result r = {.n_columns = 3, .columns = cols};
    drift_compare(&r, json_object_get(ev, "schema"));
    drift_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/csvi-fuzz-ledger-%ld.jsonl", (long)getpid());
        atexit(drop);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (n && write(fd, d, n) != (ssize_t)n))
        abort();
    close(fd);
    uint64_t skipped;
    if (ledger_read(path, on_event, NULL, &skipped) != 0)
        abort();
    FILE *null = fopen("/dev/null", "w");
    if (!null)
        abort();
    bool found;
    csvi_write_history(path, "-", false, null, &found);
    csvi_write_history(path, "-", true, null, &found);
    fclose(null);
    return 0;
}
