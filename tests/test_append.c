/*
 * test_append.c — --trust-append (docs/cache.md): a file that only grew since
 * the ledger's last complete run is read from its old last slice on, and its
 * verdict is the one a full read without any cache gives, over many rounds of
 * appends (quoted fields with newlines, a record left unfinished and completed
 * by the next append, a ragged row whose error line must be right). It is not
 * used when the file shrank, was replaced, had its old tail rewritten, when
 * the chunk size changed, or without a ledger; and a rewrite of the old
 * prefix that keeps the tail is NOT seen — the documented risk, which is also
 * the proof that the prefix is not read again.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include "capture.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct run {
    int status;
    json_t *doc;
};

/* csvinfer --format json ARGS PATH with the cache and ledger in dir/x. */
static struct run run_cli(const char *dir, const char *args, const char *path)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "XDG_CACHE_HOME='%s/x' XDG_STATE_HOME='%s/x' '%s' --format json --threads 2 %s '%s' "
             "2>/dev/null",
             dir, dir, CSVI_BIN_PATH, args, path);
    size_t len;
    int st;
    char *out = capture(cmd, &len, &st);
    json_error_t jerr;
    struct run r = {st,
                    json_loadb(out, len, 0, &jerr)};
    free(out);
    cr_assert_not_null(r.doc, "%s %s: no JSON (exit %d)", args, path, r.status);
    return r;
}

static json_t *file0(json_t *doc) { return json_array_get(json_object_get(doc, "files"), 0); }

static json_int_t cache_field(json_t *doc, const char *k)
{
    return json_integer_value(json_object_get(json_object_get(file0(doc), "cache"), k));
}

/* The verdict, without what differs by design between runs. */
static char *verdict(json_t *doc)
{
    json_object_del(json_object_get(doc, "summary"), "seconds");
    json_t *f = file0(doc);
    json_object_del(f, "seconds");
    json_object_del(f, "cache");
    json_object_del(f, "drift");
    json_object_del(f, "drift_since");
    return json_dumps(doc, JSON_SORT_KEYS);
}

/* The reference: the sequential engine, no cache, no ledger. */
static char *reference(const char *dir, const char *path)
{
    struct run r = run_cli(dir, "--threads 1 --no-cache --no-ledger", path);
    char *v = verdict(r.doc);
    json_decref(r.doc);
    return v;
}

static void append_rows(const char *path, int from, int n, unsigned *seed)
{
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    for (int i = from; i < from + n; i++) {
        unsigned r = rand_r(seed);
        if (r % 7 == 0)
            fprintf(f, "%d,\"note %u, with a comma\nand a newline\",%d.%02u,2025-%02u-%02u\n", i, r,
                    i % 1000, r % 100, 1 + r % 12, 1 + r % 28);
        else
            fprintf(f, "%d,plain %u,%d.%02u,2025-%02u-%02u\n", i, r % 1000, i % 1000, r % 100,
                    1 + r % 12, 1 + r % 28);
    }
    cr_assert_eq(fclose(f), 0);
}

static char *tmpdir(void)
{
    char *d = strdup("/tmp/csvi-append-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void rmrf(char *d)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    cr_assert_eq(system(cmd), 0);
    free(d);
}

#define ARGS "--trust-append --chunk-size 64K"

/* A ~1.2 MB file: ~19 slices of 64 KiB. */
static void make_file(const char *path, unsigned *seed)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("id,label,amount,day\n", f);
    cr_assert_eq(fclose(f), 0);
    append_rows(path, 1, 30000, seed);
}

Test(append, a_growing_file_is_read_from_its_old_last_slice_with_the_full_verdict)
{
    char *dir = tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/grow.csv", dir);
    unsigned seed = 11;
    make_file(path, &seed);
    struct run r = run_cli(dir, ARGS, path); /* the first run: reads it whole, records it */
    json_int_t full_slices = cache_field(r.doc, "slices");
    cr_assert_geq(full_slices, 15, "%lld slices", (long long)full_slices);
    json_decref(r.doc);
    int next = 30001;
    for (int round = 0; round < 8; round++) {
        FILE *f = fopen(path, "a");
        cr_assert_not_null(f);
        if (round == 3) /* a record left unfinished: the next append completes it */
            fputs("99999,unfinished", f);
        else if (round == 4)
            fputs(",1.00,2025-01-01\n", f);
        else if (round == 5) /* a ragged row: its error line must be absolute */
            fputs("1,2\n", f);
        cr_assert_eq(fclose(f), 0);
        if (round != 3)
            append_rows(path, next, 200 + 900 * (round % 3), &seed);
        next += 2000;
        char *want = reference(dir, path);
        r = run_cli(dir, ARGS, path);
        json_int_t slices = cache_field(r.doc, "slices"), hits = cache_field(r.doc, "hits");
        char *got = verdict(r.doc);
        cr_expect_str_eq(got, want, "round %d: the appended file's verdict differs", round);
        /* resumed: the old part is one slice found, then the old last slice and the new
         * ones are read; a full read would find ~full_slices slices */
        cr_expect(hits >= 1 && slices <= 6, "round %d: %lld slices, %lld hits (full read: %lld)",
                  round, (long long)slices, (long long)hits, (long long)full_slices);
        free(got);
        free(want);
        json_decref(r.doc);
    }
    rmrf(dir);
}

Test(append, a_rewritten_prefix_with_the_same_tail_is_not_seen_the_documented_risk)
{
    char *dir = tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/risk.csv", dir);
    unsigned seed = 5;
    make_file(path, &seed);
    json_decref(run_cli(dir, ARGS, path).doc);
    /* rewrite an id near the start in place ("2," -> "x,": the id column is now text),
     * then append */
    FILE *f = fopen(path, "r+");
    cr_assert_not_null(f);
    char head[64];
    cr_assert(fgets(head, sizeof head, f) != NULL); /* the header */
    cr_assert(fgets(head, sizeof head, f) != NULL); /* row 1 */
    cr_assert_eq(fputc('x', f), 'x');               /* row 2's id */
    cr_assert_eq(fclose(f), 0);
    append_rows(path, 40000, 100, &seed);
    struct run r = run_cli(dir, ARGS, path);
    const char *type = json_string_value(json_object_get(
        json_array_get(json_object_get(file0(r.doc), "columns"), 0), "type"));
    cr_expect_str_eq(type, "integer", "--trust-append read the rewritten prefix after all");
    json_decref(r.doc);
    r = run_cli(dir, "--chunk-size 64K", path); /* without it: the change is seen */
    type = json_string_value(json_object_get(
        json_array_get(json_object_get(file0(r.doc), "columns"), 0), "type"));
    cr_expect_str_eq(type, "text", "without --trust-append the rewrite must be seen");
    json_decref(r.doc);
    rmrf(dir);
}

/* After a first --trust-append run, change the file with `how`, then check
 * the next run gives the full verdict and did not resume (it found, at most,
 * the slice cache's hits: more than a resumed run's slices). */
static void no_resume_case(const char *name, void (*how)(const char *path, const char *dir),
                           const char *args2)
{
    char *dir = tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    unsigned seed = 3;
    make_file(path, &seed);
    json_decref(run_cli(dir, ARGS, path).doc);
    how(path, dir);
    char *want = reference(dir, path);
    struct run r = run_cli(dir, args2, path);
    json_int_t slices = cache_field(r.doc, "slices");
    char *got = verdict(r.doc);
    cr_expect_str_eq(got, want, "%s: the verdict differs from a full read", name);
    cr_expect_gt(slices, 8, "%s: %lld slices: resumed where it must not", name, (long long)slices);
    free(got);
    free(want);
    json_decref(r.doc);
    rmrf(dir);
}

static void grow(const char *path, const char *dir)
{
    (void)dir;
    unsigned seed = 9;
    append_rows(path, 50000, 300, &seed);
}

static void rewrite_tail_and_grow(const char *path, const char *dir)
{
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    FILE *f = fopen(path, "r+");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, sb.st_size - 20, SEEK_SET), 0); /* inside the last row */
    cr_assert_eq(fputc('#', f), '#');
    cr_assert_eq(fclose(f), 0);
    grow(path, dir);
}

static void shrink(const char *path, const char *dir)
{
    (void)dir;
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(truncate(path, sb.st_size - 5000), 0);
}

static void replace_and_grow(const char *path, const char *dir)
{
    char tmp[500], cmd[1100];
    snprintf(tmp, sizeof tmp, "%s/new.tmp", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && mv '%s' '%s'", path, tmp, tmp, path);
    cr_assert_eq(system(cmd), 0); /* same bytes, another inode */
    grow(path, dir);
}

Test(append, not_used_when_the_tail_was_rewritten)
{
    no_resume_case("tail", rewrite_tail_and_grow, ARGS);
}

Test(append, not_used_when_the_file_shrank) { no_resume_case("shrank", shrink, ARGS); }

Test(append, not_used_when_the_file_was_replaced)
{
    no_resume_case("replaced", replace_and_grow, ARGS);
}

Test(append, not_used_when_the_chunk_size_changed)
{
    no_resume_case("chunk", grow, "--trust-append --chunk-size 32K");
}

Test(append, not_used_without_the_ledger)
{
    no_resume_case("noledger", grow, "--trust-append --chunk-size 64K --no-ledger");
}
