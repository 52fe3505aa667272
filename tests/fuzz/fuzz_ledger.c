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
#include "ledger_basis.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static char path[64], lpath[64], bpath[80];

static void drop(void)
{
    unlink(path);
    unlink(lpath);
    unlink(bpath);
}

static void put(const char *p, const uint8_t *d, size_t n)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (n && write(fd, d, n) != (ssize_t)n))
        abort();
    close(fd);
}

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
        snprintf(lpath, sizeof lpath, "/tmp/csvi-fuzz-basis-%ld.jsonl", (long)getpid());
        snprintf(bpath, sizeof bpath, "%s.basis", lpath);
        atexit(drop);
    }
    put(path, d, n);
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
    /* the input as a snapshot: a header that fits the small ledger beside it
     * is hard to hit at random, so the input's own first line is replaced by one */
    static const char ledger_text[] =
        "{\"event\":\"run_end\",\"v\":1,\"run\":\"x\",\"status\":\"ok\"}\n";
    put(lpath, (const uint8_t *)ledger_text, sizeof ledger_text - 1);
    struct stat sb;
    if (stat(lpath, &sb) != 0)
        abort();
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "{\"csvinfer_basis\":1,\"dev\":%lld,\"ino\":%lld,\"covered\":%lld,"
                      "\"check\":\"%016llx\"}\n",
                      (long long)sb.st_dev, (long long)sb.st_ino, (long long)sb.st_size,
                      (unsigned long long)XXH64(ledger_text, sizeof ledger_text - 1, 0));
    const uint8_t *nl = memchr(d, '\n', n);
    size_t skip = nl ? (size_t)(nl + 1 - d) : n;
    uint8_t *snap = malloc((size_t)hn + n - skip + 1);
    if (!snap)
        abort();
    memcpy(snap, head, (size_t)hn);
    memcpy(snap + hn, d + skip, n - skip);
    put(bpath, snap, (size_t)hn + n - skip);
    free(snap);
    struct ledger_basis b;
    if (basis_load(&b, lpath, &skipped) != 0)
        abort();
    const char *k;
    json_t *v;
    json_object_foreach(b.last, k, v)
        json_decref(basis_event(b.last, k));
    json_object_foreach(b.tables, k, v)
        json_decref(basis_event(b.tables, k));
    basis_save(&b, lpath);
    basis_free(&b);
    return 0;
}
