/*
 * test_compressed.c — gzip and zstd inputs (issue 7): for every CSV of the
 * end-to-end corpus (tests/data), the file compressed with zlib (one gzip
 * member, and two concatenated) and with libzstd gives the verdict of the
 * plain file — the JSON equal as a value once each file's path, seconds,
 * cache and compression are set aside — and the same exit status; a
 * truncated or corrupt archive is a read_failed error for that file naming
 * what is wrong, never a crash, and the same verdict from the pipeline at any
 * chunk size and thread count as from the sequential engine; the cache keys
 * are the decompressed slices (a gzip and a zstd of one CSV share them);
 * --trust-mtime keeps the CSV's byte count; a directory walk finds *.gz and
 * *.zst.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include "capture.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    *n = 0;
    for (;;) {
        if (*n + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        size_t k = fread(buf + *n, 1, cap - *n, f);
        *n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    return buf;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* gzip of p[0, n) (one member), malloc'd. */
static uint8_t *gzip_of(const void *p, size_t n, size_t *out_n)
{
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, n) + 64;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static uint8_t *zstd_of(const void *p, size_t n, size_t *out_n)
{
    size_t cap = ZSTD_compressBound(n);
    uint8_t *out = malloc(cap ? cap : 1);
    size_t r = ZSTD_compress(out, cap, p, n, 3);
    cr_assert(!ZSTD_isError(r), "zstd: %s", ZSTD_getErrorName(r));
    *out_n = r;
    return out;
}

struct run {
    int status;
    json_t *doc;
    char *err;
};

/* csvinfer --format json ARGS PATH (in dir; cache and ledger beside dir), stdout parsed. */
static struct run run_with(const char *dir, const char *args, const char *path)
{
    char cmd[4096], errpath[512];
    snprintf(errpath, sizeof errpath, "%s.stderr", dir); /* beside it: a walk of dir reads *.txt */
    snprintf(cmd, sizeof cmd, "cd '%s' && XDG_CACHE_HOME='%s.x' XDG_STATE_HOME='%s.x' '%s' --format json %s '%s' 2>'%s'",
             dir, dir, dir, CSVI_BIN_PATH, args, path, errpath);
    size_t len;
    int st;
    char *out = capture(cmd, &len, &st);
    struct run r = {st, NULL, NULL};
    json_error_t jerr;
    r.doc = json_loadb(out, len, 0, &jerr);
    free(out);
    size_t en;
    r.err = slurp(errpath, &en);
    r.err = realloc(r.err, en + 1);
    r.err[en] = '\0';
    return r;
}

/* csvinfer --format json --no-cache --no-ledger ARGS PATH (in dir), stdout parsed. */
static struct run run_cli(const char *dir, const char *args, const char *path)
{
    char all[1024];
    snprintf(all, sizeof all, "--no-cache --no-ledger %s", args);
    return run_with(dir, all, path);
}

static char *tmpdir(void)
{
    char *d = strdup("/tmp/csvi-compressed-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void rmrf(const char *d)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.stderr' '%s.x'", d, d, d);
    cr_assert_eq(system(cmd), 0);
}

Test(compressed, gzip_and_zstd_give_the_plain_verdict_for_the_whole_corpus)
{
    char *dir = tmpdir();
    DIR *dd = opendir(CSVI_TEST_DATA_DIR);
    cr_assert_not_null(dd);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dd)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".csv") != 0)
            continue;
        char src[1024], plain[1000], gz[1024], gz2[1024], zs[1024];
        snprintf(src, sizeof src, "%s/%s", CSVI_TEST_DATA_DIR, de->d_name);
        snprintf(plain, sizeof plain, "%s/%s", dir, de->d_name);
        snprintf(gz, sizeof gz, "%s.gz", plain);
        snprintf(gz2, sizeof gz2, "%s.2.gz", plain);
        snprintf(zs, sizeof zs, "%s.zst", plain);
        size_t n, cn, half = 0;
        char *data = slurp(src, &n);
        spit(plain, data, n);
        uint8_t *c = gzip_of(data, n, &cn);
        spit(gz, c, cn);
        free(c);
        /* two members (gzip a b > ab.gz): the halves, concatenated */
        half = n / 2;
        size_t c1n, c2n;
        uint8_t *c1 = gzip_of(data, half, &c1n), *c2 = gzip_of(data + half, n - half, &c2n);
        uint8_t *both = malloc(c1n + c2n);
        memcpy(both, c1, c1n);
        memcpy(both + c1n, c2, c2n);
        spit(gz2, both, c1n + c2n);
        free(c1);
        free(c2);
        free(both);
        c = zstd_of(data, n, &cn);
        spit(zs, c, cn);
        free(c);
        free(data);
        char args[512]; /* the file's own arguments, if the corpus has them */
        corpus_args(src, args, sizeof args);
        struct run ref = run_cli(dir, args, plain);
        cr_assert_not_null(ref.doc, "%s: plain run gave no JSON", de->d_name);
        normalize_verdict(ref.doc);
        const char *variants[] = {gz, gz2, zs};
        for (int v = 0; v < 3; v++) {
            struct run r = run_cli(dir, args, variants[v]);
            cr_assert_not_null(r.doc, "%s: no JSON (exit %d): %s", variants[v], r.status, r.err);
            cr_expect_eq(r.status, ref.status, "%s: exit %d, plain %d", variants[v], r.status,
                         ref.status);
            const char *comp = json_string_value(json_object_get(
                json_object_get(json_array_get(json_object_get(r.doc, "files"), 0), "dialect"),
                "compression"));
            if (json_object_get(json_array_get(json_object_get(ref.doc, "files"), 0), "dialect") &&
                !json_is_null(json_object_get(json_array_get(json_object_get(ref.doc, "files"), 0), "dialect")))
                cr_expect(comp && strcmp(comp, v == 2 ? "zstd" : "gzip") == 0,
                          "%s: dialect.compression is %s", variants[v], comp ? comp : "missing");
            normalize_verdict(r.doc);
            if (!json_equal(r.doc, ref.doc)) {
                char *a = json_dumps(ref.doc, JSON_SORT_KEYS), *b = json_dumps(r.doc, JSON_SORT_KEYS);
                cr_expect(false, "%s: verdict differs from the plain file's\nplain: %s\n%s: %s",
                          de->d_name, a, variants[v], b);
                free(a);
                free(b);
            }
            json_decref(r.doc);
            free(r.err);
        }
        json_decref(ref.doc);
        free(ref.err);
        files++;
    }
    closedir(dd);
    cr_assert_gt(files, 20, "only %d corpus files", files);
    rmrf(dir);
    free(dir);
}

Test(compressed, truncated_and_corrupt_archives_are_errors_of_their_file)
{
    char *dir = tmpdir();
    /* a few hundred KB of rows, so truncation falls mid-stream */
    char *csv = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&csv, &n);
    fputs("id,amount,label\n", m);
    for (int i = 1; i <= 40000; i++)
        fprintf(m, "%d,%d.%02d,item %d\n", i, i % 977, i % 100, i);
    fclose(m);
    size_t gn, zn;
    uint8_t *gz = gzip_of(csv, n, &gn), *zs = zstd_of(csv, n, &zn);
    const size_t cuts[] = {1, 2, 3, 10, 18, 100, 1000};
    for (int kind = 0; kind < 2; kind++) {
        uint8_t *c = kind ? zs : gz;
        size_t cn = kind ? zn : gn;
        for (size_t i = 0; i < sizeof cuts / sizeof *cuts + 2; i++) {
            char path[600];
            snprintf(path, sizeof path, "%s/bad.csv.%s", dir, kind ? "zst" : "gz");
            uint8_t *copy = malloc(cn);
            memcpy(copy, c, cn);
            size_t len = cn;
            const char *what;
            if (i < sizeof cuts / sizeof *cuts) { /* truncated: from the end */
                len = cn > cuts[i] + 4 ? cn - cuts[i] : 4;
                what = "truncated";
            } else if (i == sizeof cuts / sizeof *cuts) { /* a flipped byte in the middle */
                copy[cn / 2] ^= 0x5a;
                what = "corrupt";
            } else { /* garbage after the magic bytes */
                memset(copy + 4, 0xAB, cn - 4 > 64 ? 64 : cn - 4);
                what = "corrupt header";
            }
            spit(path, copy, len);
            free(copy);
            struct run r = run_cli(dir, "", path);
            cr_assert(r.status == 1 || r.status == 0, "%s %s: exit %d (crash?): %s",
                      kind ? "zstd" : "gzip", what, r.status, r.err);
            cr_assert_not_null(r.doc, "%s %s: no JSON", kind ? "zstd" : "gzip", what);
            json_t *errs = json_object_get(json_array_get(json_object_get(r.doc, "files"), 0), "errors");
            bool read_failed = false;
            size_t j;
            json_t *e;
            json_array_foreach(errs, j, e) {
                if (strcmp(json_string_value(json_object_get(e, "kind")), "read_failed") == 0) {
                    read_failed = true;
                    const char *msg = json_string_value(json_object_get(e, "message"));
                    cr_expect(strstr(msg, kind ? "zstd" : "gzip") != NULL,
                              "%s %s: message does not say what is wrong: %s",
                              kind ? "zstd" : "gzip", what, msg);
                }
            }
            /* a flipped byte may land where the format cannot see it (zstd without a
             * checksum): then the rows still differ or the run is clean; otherwise an error */
            if (strcmp(what, "corrupt") != 0)
                cr_expect(read_failed && r.status == 1, "%s %s (cut %zu): no read_failed error, exit %d",
                          kind ? "zstd" : "gzip", what, i, r.status);
            json_decref(r.doc);
            free(r.err);
        }
    }
    free(gz);
    free(zs);
    free(csv);
    rmrf(dir);
    free(dir);
}

Test(compressed, a_directory_walk_reads_gz_and_zst_files)
{
    char *dir = tmpdir();
    const char *csv = "id,name\n1,a\n2,b\n";
    size_t cn;
    char path[600];
    uint8_t *c = gzip_of(csv, strlen(csv), &cn);
    snprintf(path, sizeof path, "%s/a.csv.gz", dir);
    spit(path, c, cn);
    free(c);
    c = zstd_of(csv, strlen(csv), &cn);
    snprintf(path, sizeof path, "%s/b.zst", dir);
    spit(path, c, cn);
    free(c);
    snprintf(path, sizeof path, "%s/c.csv", dir);
    spit(path, csv, strlen(csv));
    struct run r = run_cli(dir, "", dir);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    json_t *files = json_object_get(r.doc, "files");
    cr_assert_eq(json_array_size(files), 3, "expected a.csv.gz, b.zst and c.csv");
    for (size_t i = 0; i < 3; i++) {
        json_t *f = json_array_get(files, i);
        cr_expect_eq(json_integer_value(json_object_get(f, "rows")), 2, "file %zu rows", i);
        cr_expect_eq(json_integer_value(json_object_get(f, "bytes")), (json_int_t)strlen(csv),
                     "file %zu: bytes are the CSV's, not the archive's", i);
    }
    json_decref(r.doc);
    free(r.err);
    rmrf(dir);
    free(dir);
}

/* The CSV of the damage tests: a few hundred KB of rows. */
static char *rows_csv(int n_rows, size_t *n)
{
    char *csv = NULL;
    FILE *m = open_memstream(&csv, n);
    fputs("id,amount,label,day\n", m);
    for (int i = 1; i <= n_rows; i++)
        fprintf(m, "%d,%d.%02d,\"item, %d\",2024-%02d-%02d\n", i, i % 977, i % 100, i, 1 + i % 12,
                1 + i % 28);
    fclose(m);
    return csv;
}

/* Everything but what differs by design between two runs of one file. */
static char *verdict_text(json_t *doc)
{
    json_object_del(json_object_get(doc, "summary"), "seconds");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f) {
        json_object_del(f, "seconds");
        json_object_del(f, "cache");
    }
    return json_dumps(doc, JSON_SORT_KEYS);
}

/* Each of variants[n] gives ref's exit status and verdict on path (what:
 * for the messages). */
static void expect_engines_agree(const char *dir, const char *path, const struct run *ref,
                                 const char *const *variants, size_t n, const char *what)
{
    char *want = verdict_text(ref->doc);
    for (size_t v = 0; v < n; v++) {
        struct run r = run_cli(dir, variants[v], path);
        cr_assert_not_null(r.doc, "%s %s: no JSON", what, variants[v]);
        cr_expect_eq(r.status, ref->status, "%s %s: exit %d, sequential %d", what, variants[v],
                     r.status, ref->status);
        char *got = verdict_text(r.doc);
        cr_expect_str_eq(got, want, "%s %s", what, variants[v]);
        free(got);
        json_decref(r.doc);
        free(r.err);
    }
    free(want);
}

Test(compressed, a_damaged_archive_gives_the_same_verdict_on_every_engine_and_chunk_size)
{
    /* The pipeline cuts the decompressed stream into chunks; whatever the
     * chunk size or thread count, the records before the damage are the
     * verdict and the error's line is the one after them, exactly as the
     * sequential engine (--threads 1 --no-cache) reads it. */
    char *dir = tmpdir();
    size_t n, gn, zn;
    char *csv = rows_csv(60000, &n);
    uint8_t *gz = gzip_of(csv, n, &gn), *zs = zstd_of(csv, n, &zn);
    srand(7);
    int compared = 0, with_rows = 0;
    for (int kind = 0; kind < 2; kind++) {
        uint8_t *c = kind ? zs : gz;
        size_t cn = kind ? zn : gn;
        for (int round = 0; round < 10; round++) {
            char path[600];
            snprintf(path, sizeof path, "%s/bad.csv.%s", dir, kind ? "zst" : "gz");
            uint8_t *copy = malloc(cn);
            memcpy(copy, c, cn);
            size_t off = 20 + (size_t)rand() % (cn - 20), len = cn;
            if (round % 2)
                len = off; /* truncated there */
            else
                for (int k = 0; k < 3 && off + k < cn; k++)
                    copy[off + k] ^= (uint8_t)(0x5a + k); /* damaged there */
            spit(path, copy, len);
            free(copy);
            struct run ref = run_cli(dir, "--threads 1", path);
            cr_assert_not_null(ref.doc, "%s at %zu: no JSON: %s", kind ? "zstd" : "gzip", off, ref.err);
            with_rows += json_integer_value(json_object_get(
                             json_array_get(json_object_get(ref.doc, "files"), 0), "rows")) > 0;
            static const char *const variants[] = {"--threads 2", "--threads 2 --chunk-size 64K",
                                                   "--threads 3 --chunk-size 300K"};
            char what[96];
            snprintf(what, sizeof what, "%s at %zu (%s)", kind ? "zstd" : "gzip", off,
                     round % 2 ? "truncated" : "damaged");
            expect_engines_agree(dir, path, &ref, variants, 3, what);
            compared += 3;
            json_decref(ref.doc);
            free(ref.err);
        }
    }
    cr_expect_gt(with_rows, 4, "the damage should fall after some rows in most rounds");
    cr_expect_eq(compared, 60);
    free(gz);
    free(zs);
    free(csv);
    rmrf(dir);
    free(dir);
}

Test(compressed, the_cache_keys_are_the_decompressed_slices)
{
    /* A compressed file's slices are cached like a plain file's: a second
     * run finds them all, and the same CSV compressed otherwise (zstd for
     * gzip, or a gzip of two members) finds the same slices. */
    char *dir = tmpdir();
    size_t n, gn, zn;
    char *csv = rows_csv(200000, &n); /* ~7 MB: several 1 MiB chunks */
    uint8_t *gz = gzip_of(csv, n, &gn), *zs = zstd_of(csv, n, &zn);
    char gzp[600], zsp[600], plain[600];
    snprintf(gzp, sizeof gzp, "%s/a.csv.gz", dir);
    snprintf(zsp, sizeof zsp, "%s/b.csv.zst", dir);
    snprintf(plain, sizeof plain, "%s/c.csv", dir);
    spit(gzp, gz, gn);
    spit(zsp, zs, zn);
    spit(plain, csv, n);
    const char *args = "--threads 2 --chunk-size 1M --no-ledger";
    struct run ref = run_cli(dir, "--threads 1", plain);
    char *want = verdict_text(ref.doc);
    const char *paths[] = {gzp, gzp, zsp, plain};
    const json_int_t hits_expected[] = {-1, -2, -2, -2}; /* -1: none, -2: all */
    for (int i = 0; i < 4; i++) {
        struct run r = run_with(dir, args, paths[i]);
        cr_assert_not_null(r.doc, "%s: no JSON: %s", paths[i], r.err);
        json_t *f = json_array_get(json_object_get(r.doc, "files"), 0);
        json_int_t slices = json_integer_value(json_object_get(json_object_get(f, "cache"), "slices"));
        json_int_t hits = json_integer_value(json_object_get(json_object_get(f, "cache"), "hits"));
        cr_expect_geq(slices, 6, "run %d (%s): %lld slices for ~7 MB in 1 MiB chunks", i,
                      paths[i], (long long)slices);
        if (hits_expected[i] == -1)
            cr_expect_eq(hits, 0, "run %d: %lld hits on a cold cache", i, (long long)hits);
        else
            cr_expect_eq(hits, slices, "run %d (%s): %lld of %lld slices found", i, paths[i],
                         (long long)hits, (long long)slices);
        cr_expect_eq(json_integer_value(json_object_get(f, "bytes")), (json_int_t)n,
                     "run %d: bytes are the CSV's", i);
        json_object_set_new(f, "path", json_string(json_string_value(json_object_get(
                                           json_array_get(json_object_get(ref.doc, "files"), 0), "path"))));
        json_object_del(json_object_get(f, "dialect"), "compression");
        char *got = verdict_text(r.doc);
        cr_expect_str_eq(got, want, "run %d (%s): the cached verdict differs from the plain file's", i,
                         paths[i]);
        free(got);
        json_decref(r.doc);
        free(r.err);
    }
    /* --trust-mtime: the second run reads nothing and still reports the CSV */
    for (int i = 0; i < 2; i++) {
        struct run r = run_with(dir, "--threads 2 --chunk-size 1M --no-ledger --trust-mtime", gzp);
        json_t *f = json_array_get(json_object_get(r.doc, "files"), 0);
        cr_expect_eq(json_integer_value(json_object_get(f, "bytes")), (json_int_t)n,
                     "--trust-mtime run %d: bytes %lld, the CSV has %zu", i,
                     (long long)json_integer_value(json_object_get(f, "bytes")), n);
        const char *comp = json_string_value(json_object_get(json_object_get(f, "dialect"), "compression"));
        cr_expect(comp && strcmp(comp, "gzip") == 0, "--trust-mtime run %d: compression %s", i,
                  comp ? comp : "missing");
        if (i == 1)
            cr_expect_eq(json_integer_value(json_object_get(json_object_get(f, "cache"), "slices")), 1,
                         "the second --trust-mtime run is one whole-file record");
        json_decref(r.doc);
        free(r.err);
    }
    free(want);
    json_decref(ref.doc);
    free(ref.err);
    free(gz);
    free(zs);
    free(csv);
    rmrf(dir);
    free(dir);
}

/* Zero bytes after the last gzip member (tape and block-device padding),
 * which gzip -t accepts: the same verdict as without them, on both engines;
 * anything else after them is still an error. */
Test(compressed, zero_padding_after_a_gzip_member_is_ignored)
{
    char *dir = tmpdir();
    static const char csv[] = "id,name\n1,a\n2,b\n";
    size_t gn;
    uint8_t *gz = gzip_of(csv, sizeof csv - 1, &gn);
    for (int junk = 0; junk < 2; junk++) {
        size_t n = gn + 512 + (junk ? 4 : 0);
        uint8_t *p = calloc(1, n);
        memcpy(p, gz, gn);
        if (junk)
            memcpy(p + gn + 512, "junk", 4);
        char path[600];
        snprintf(path, sizeof path, "%s/pad.csv.gz", dir);
        spit(path, p, n);
        free(p);
        static const char *const engines[] = {"--threads 1", "--threads 2"};
        for (int e = 0; e < 2; e++) {
            struct run r = run_cli(dir, engines[e], path);
            cr_assert_not_null(r.doc);
            json_t *f = json_array_get(json_object_get(r.doc, "files"), 0);
            json_t *errs = json_object_get(f, "errors");
            if (!junk) {
                cr_expect_eq(r.status, 0, "%s: exit %d: %s", engines[e], r.status, r.err);
                cr_expect_eq(json_array_size(errs), 0, "%s: errors", engines[e]);
                cr_expect_eq(json_integer_value(json_object_get(f, "rows")), 2, "%s", engines[e]);
            } else {
                cr_expect_eq(r.status, 1, "%s: junk after the padding: exit %d", engines[e],
                             r.status);
                cr_expect_str_eq(
                    json_string_value(json_object_get(json_array_get(errs, 0), "kind")),
                    "read_failed");
                /* said as gzip(1) calls it, not "incorrect header check" */
                const char *msg =
                    json_string_value(json_object_get(json_array_get(errs, 0), "message"));
                cr_expect(msg && strstr(msg, "bytes after the last gzip member are not gzip"),
                          "%s: %s", engines[e], msg);
                cr_expect_eq(json_integer_value(json_object_get(f, "rows")), 2, "%s", engines[e]);
            }
            json_decref(r.doc);
            free(r.err);
        }
    }
    free(gz);
    rmrf(dir);
    free(dir);
}

/* An archive of less CSV than the sniffer's 64 KiB sample, truncated: the
 * records before the damage are the verdict and the error comes after them,
 * on every engine — not a file error with no verdict, as before (the sample
 * was never whole). */
Test(compressed, a_small_truncated_archive_keeps_the_records_before_the_damage)
{
    char *dir = tmpdir();
    size_t n, gn, zn;
    char *csv = rows_csv(1000, &n); /* ~45 KB */
    cr_assert_lt(n, 64 * 1024);
    uint8_t *gz = gzip_of(csv, n, &gn), *zs = zstd_of(csv, n, &zn);
    for (int kind = 0; kind < 2; kind++) {
        uint8_t *c = kind ? zs : gz;
        size_t cn = kind ? zn : gn;
        char path[600];
        snprintf(path, sizeof path, "%s/small.csv.%s", dir, kind ? "zst" : "gz");
        spit(path, c, cn * 2 / 3); /* truncated two thirds in */
        struct run ref = run_cli(dir, "--threads 1", path);
        cr_assert_not_null(ref.doc, "%s: no JSON: %s", kind ? "zstd" : "gzip", ref.err);
        json_t *f = json_array_get(json_object_get(ref.doc, "files"), 0);
        json_int_t rows = json_integer_value(json_object_get(f, "rows"));
        json_t *e = json_array_get(json_object_get(f, "errors"), 0);
        cr_expect_str_eq(json_string_value(json_object_get(e, "kind")), "read_failed");
        if (!kind) { /* (zstd gives nothing of a block it has not whole: here the file's
                        one block, so no row; deflate streams out as it goes) */
            cr_expect(rows > 100 && rows < 1000, "gzip: %lld rows", (long long)rows);
            cr_expect_eq(json_integer_value(json_object_get(e, "line")), rows + 2,
                         "gzip: the error's line is the one after the last row (header + "
                         "rows + 1)");
            cr_expect_eq(json_array_size(json_object_get(f, "columns")), 4);
        }
        static const char *const variants[] = {"--threads 2", "--threads 2 --chunk-size 1000",
                                               "--threads 3 --chunk-size 7"};
        expect_engines_agree(dir, path, &ref, variants, 3, kind ? "zstd" : "gzip");
        json_decref(ref.doc);
        free(ref.err);
    }
    free(gz);
    free(zs);
    free(csv);
    rmrf(dir);
    free(dir);
}
