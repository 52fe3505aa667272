/*
 * history.c — `csvinfer history PATH`: a file's schema versions, read back
 * from the ledger (jansson), oldest first — or a --group table's (its
 * table_done events), PATH being DIR/NAME.  A version is a run of events
 * with the same schema (names, types, nullability, SQL types); the
 * drift events recorded against the file are listed with the version they
 * led to.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "ledger.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct history {
    const char *key;
    json_t *versions;   /* [{"version", "run", "first_seen", "last_seen", "runs", "rows",
                            "schema", "drift"}] */
};

static void on_event(void *ctx, json_t *ev)
{
    struct history *h = ctx;
    const char *kind = json_string_value(json_object_get(ev, "event"));
    /* a file's events name its path; a --group table's, its key (its directory and
     * name: `history DIR/NAME` gives the table NAME of DIR's files) */
    const char *path = json_string_value(json_object_get(ev, "path"));
    if (!path)
        path = json_string_value(json_object_get(ev, "table"));
    if (!kind || !path || strcmp(path, h->key) != 0)
        return;
    json_t *time = json_object_get(ev, "time");
    if (strcmp(kind, "drift") == 0) { /* written right after the file_done it is about */
        size_t nv = json_array_size(h->versions);
        json_t *last = nv ? json_array_get(h->versions, nv - 1) : NULL;
        if (last && json_equal(json_object_get(last, "run"), json_object_get(ev, "run")))
            json_array_extend(json_object_get(last, "drift"), json_object_get(ev, "changes"));
        return;
    }
    if (strcmp(kind, "file_done") != 0 && strcmp(kind, "table_done") != 0)
        return;
    json_t *schema = json_object_get(ev, "schema");
    size_t n = json_array_size(h->versions);
    json_t *last = n ? json_array_get(h->versions, n - 1) : NULL;
    if (last && json_equal(json_object_get(last, "schema"), schema)) {
        json_object_set(last, "last_seen", time);
        json_object_set_new(last, "runs",
                            json_integer(json_integer_value(json_object_get(last, "runs")) + 1));
        json_object_set(last, "rows", json_object_get(ev, "rows"));
        return;
    }
    json_array_append_new(h->versions,
                          json_pack("{s:I, s:O, s:O, s:O, s:i, s:O, s:O, s:[]}", "version",
                                    (json_int_t)n + 1, "run", json_object_get(ev, "run"),
                                    "first_seen", time, "last_seen", time, "runs", 1, "rows",
                                    json_object_get(ev, "rows"), "schema", schema, "drift"));
}

static void put_schema_text(FILE *out, const json_t *schema)
{
    size_t i;
    json_t *c;
    json_array_foreach(schema, i, c) {
        const char *f = json_string_value(json_object_get(c, "format"));
        fprintf(out, "    %-30s %-12s %s%s%s%s\n", json_string_value(json_object_get(c, "name")),
                json_string_value(json_object_get(c, "type")),
                json_string_value(json_object_get(c, "sql_type")),
                json_is_true(json_object_get(c, "nullable")) ? "" : " NOT NULL",
                f ? "  format " : "", f ? f : "");
    }
}

enum csvi_status csvi_write_history(const char *ledger_path, const char *file_path, bool json,
                                    FILE *out, bool *found)
{
    *found = false;
    char *ledger = ledger_path ? strdup(ledger_path) : run_default_ledger_path();
    char *key = run_path_key(file_path);
    struct history h = {key, json_array()};
    enum csvi_status st = CSVI_OK;
    uint64_t skipped = 0;
    if (!ledger || !key || !h.versions)
        st = CSVI_ERR_NOMEM;
    else if (ledger_read(ledger, on_event, &h, &skipped) != 0)
        st = CSVI_ERR_IO;
    if (st == CSVI_OK) {
        size_t n = json_array_size(h.versions);
        *found = n > 0;
        if (json) {
            json_t *doc = json_pack("{s:s, s:s, s:O}", "path", key, "ledger", ledger, "versions",
                                    h.versions);
            json_dumpf(doc, out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
            fputc('\n', out);
            json_decref(doc);
        } else {
            fprintf(out, "%s: %zu schema version%s in %s\n", key, n, n == 1 ? "" : "s", ledger);
            size_t i;
            json_t *v;
            json_array_foreach(h.versions, i, v) {
                long long runs = (long long)json_integer_value(json_object_get(v, "runs"));
                long long rows = (long long)json_integer_value(json_object_get(v, "rows"));
                fprintf(out, "\nversion %zu: first seen %s, last seen %s, %lld run%s, %lld row%s\n",
                        i + 1, json_string_value(json_object_get(v, "first_seen")),
                        json_string_value(json_object_get(v, "last_seen")), runs,
                        runs == 1 ? "" : "s", rows, rows == 1 ? "" : "s");
                size_t k;
                json_t *d;
                json_array_foreach(json_object_get(v, "drift"), k, d) {
                    fprintf(out, "  drift: %s %s: %s\n", json_string_value(json_object_get(d, "kind")),
                            json_string_value(json_object_get(d, "column")),
                            json_string_value(json_object_get(d, "detail")));
                }
                put_schema_text(out, json_object_get(v, "schema"));
            }
            if (skipped)
                fprintf(out, "\n(%llu ledger line%s could not be read and were skipped)\n",
                        (unsigned long long)skipped, skipped == 1 ? "" : "s");
        }
        if (fflush(out) != 0 || ferror(out))
            st = CSVI_ERR_OUTPUT;
    }
    json_decref(h.versions);
    free(ledger);
    free(key);
    return st;
}
