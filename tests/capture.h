/*
 * capture.h — for the tests that drive the csvinfer binary through a shell
 * command: run it and take its standard output whole, and set aside what
 * differs by design between two verdicts of one CSV.  Header-only (each
 * test is one program).
 */
#ifndef CSVI_TEST_CAPTURE_H
#define CSVI_TEST_CAPTURE_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* popen(cmd): its standard output (malloc'd, *len bytes, NUL after them)
 * and its exit status (128 + signal if killed). */
static inline char *capture(const char *cmd, size_t *len, int *status)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen: %s", cmd);
    char *out = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&out, &n);
    cr_assert_not_null(m);
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0)
        fwrite(buf, 1, k, m);
    fclose(m);
    int st = pclose(p);
    if (status)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (len)
        *len = n;
    return out;
}

/* The arguments a corpus file X.csv comes with (X.args, one a line), quoted
 * for a shell, into args[size] ("" if none). */
static inline void corpus_args(const char *csv_path, char *args, size_t size)
{
    char p[1024];
    args[0] = '\0';
    snprintf(p, sizeof p, "%.*s.args", (int)(strlen(csv_path) - 4), csv_path);
    FILE *af = fopen(p, "r");
    if (!af)
        return;
    char line[256];
    size_t used = 0;
    while (used < size && fgets(line, sizeof line, af)) {
        line[strcspn(line, "\n")] = '\0';
        used += (size_t)snprintf(args + used, size - used, "'%s' ", line);
    }
    fclose(af);
}

/* Set aside what differs by design between runs of one CSV read different
 * ways (a path, a pipe, an archive): paths, timings, cache counts, the
 * compression, and error messages (they may name the path). */
static inline void normalize_verdict(json_t *doc)
{
    json_object_del(json_object_get(doc, "summary"), "seconds");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f) {
        json_object_del(f, "path");
        json_object_del(f, "seconds");
        json_object_del(f, "cache");
        json_object_del(json_object_get(f, "dialect"), "compression");
        size_t j;
        json_t *e;
        json_array_foreach(json_object_get(f, "errors"), j, e)
            json_object_set_new(e, "message", json_string(""));
    }
}

/* Run cmd and parse its standard output as JSON (asserting it is JSON):
 * the document as printed into *doc if doc is not NULL (the caller's to
 * json_decref), the exit status into *status, and the verdict normalised
 * (normalize_verdict, keys sorted) as a string the caller frees. */
static inline char *capture_verdict(const char *cmd, int *status, json_t **doc)
{
    size_t len;
    char *out = capture(cmd, &len, status);
    json_error_t jerr;
    json_t *d = json_loadb(out, len, 0, &jerr);
    free(out);
    cr_assert_not_null(d, "no JSON from: %s", cmd);
    if (doc)
        *doc = json_deep_copy(d);
    normalize_verdict(d);
    char *verdict = json_dumps(d, JSON_SORT_KEYS);
    json_decref(d);
    return verdict;
}

#endif
