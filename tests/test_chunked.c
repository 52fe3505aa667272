/*
 * test_chunked.c — files cut into chunks of several 256 KiB blocks, which the
 * splitter reads together with its helper thread (the helper takes the odd
 * blocks, engine/pipeline_helper.c): their counts and hashes must be those
 * of the blocks the helper read.  A ~10 MiB file whose quoted fields hold
 * newlines, delimiters and doubled quotes, some of them long enough to span
 * blocks and chunks, with CRLF records, bad values and a ragged row, gives
 * the sequential engine's verdict (--threads 1 --no-cache) through the
 * pipeline at 2 and 3 threads, chunk sizes of an even and an odd number of
 * blocks, both io backends, with blocks dropped from the page cache (the
 * helper copies only cached ones and leaves the rest to the splitter), and
 * with the verdict cache cold and then warm (every slice a hit).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include "capture.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* The test file: ~10 MiB of records id,note,amount,day. */
static void write_file(const char *path)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("id,note,amount,day\n", f);
    size_t bytes = 0;
    for (unsigned i = 1; bytes < 10u << 20; i++) {
        int n = fprintf(f, "%u,", i);
        uint32_t r = next_rand();
        if (i % 20000 == 15000 || (i > 5000 && r % 997 == 0)) { /* quoted fields of ~300 KB (a block or more
                                                  inside quotes) and of ~20 KB, past
                                                  the sniffer's sample */
            fputc('"', f);
            for (int k = 0; k < (i % 20000 == 15000 ? 7000 : 500); k++)
                n += fprintf(f, "line %d, with \"\"quotes\"\" and\n a newline ", k);
            fputc('"', f);
            n += 2;
        } else if (r % 5 == 0) {
            n += fprintf(f, "\"quoted, %u\nsecond line\"", r % 1000);
        } else if (r % 7 == 0) {
            n += fprintf(f, "\"say \"\"hi\"\"\"");
        } else {
            n += fprintf(f, "plain %u", r % 100000);
        }
        if (i == 12345)
            n += fprintf(f, ",12.3x,2024-01-01"); /* a bad amount: the column is text */
        else
            n += fprintf(f, ",%u.%02u,2024-%02u-%02u", r % 10000, r % 100, 1 + r % 12, 1 + r % 28);
        if (i == 9876)
            n += fprintf(f, ",extra"); /* a ragged row */
        const char *eol = r % 11 == 0 ? "\r\n" : "\n";
        fputs(eol, f);
        n += (int)strlen(eol);
        bytes += (size_t)n;
    }
    fclose(f);
}

struct run {
    int status;
    char *verdict;
    json_t *doc; /* as printed, before normalising */
};

static struct run run(const char *dir, const char *args, const char *path)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "XDG_CACHE_HOME='%s/x' XDG_STATE_HOME='%s/x' '%s' --format json --no-ledger %s '%s' 2>/dev/null",
             dir, dir, CSVI_BIN_PATH, args, path);
    struct run r;
    r.verdict = capture_verdict(cmd, &r.status, &r.doc);
    return r;
}

static json_int_t cache_field(const struct run *r, const char *key)
{
    json_t *f = json_array_get(json_object_get(r->doc, "files"), 0);
    return json_integer_value(json_object_get(json_object_get(f, "cache"), key));
}

/* Drop every third 256 KiB block (from block `first`) of the file from the
 * page cache (written back first: dirty pages cannot be dropped). */
static void evict_every_third_block(const char *path, int first)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(fsync(fd), 0);
    struct stat sb;
    cr_assert_eq(fstat(fd, &sb), 0);
    for (off_t off = (off_t)first * 262144; off < sb.st_size; off += 3 * 262144)
        cr_assert_eq(posix_fadvise(fd, off, 262144, POSIX_FADV_DONTNEED), 0);
    close(fd);
}

/* Can --io uring run here?  (It exits 2 where io_uring cannot be set up.) */
static bool uring_ok(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "printf 'a\\n1\\n' | '%s' --io uring --threads 2 - >/dev/null 2>&1",
             CSVI_BIN_PATH);
    (void)dir;
    int st = system(cmd);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
        fprintf(stderr, "note: io_uring is not available here; the --io uring run is skipped\n");
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

Test(chunked, helper_read_blocks_give_the_sequential_verdict, .timeout = 300)
{
    char dir[] = "/tmp/csvi-chunked-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    write_file(path);

    struct run ref = run(dir, "--threads 1 --no-cache", path);
    cr_assert(strstr(ref.verdict, "\"ragged_row\"") && strstr(ref.verdict, "NUMERIC") == NULL,
              "the reference should have the ragged row and a text amount: %.2000s", ref.verdict);
    const char *variants[] = {
        "--threads 2 --no-cache --chunk-size 512k",
        "--threads 2 --no-cache --chunk-size 1280k --io pread",
        "--threads 3 --no-cache --chunk-size 768k",
        "--threads 2 --no-cache --chunk-size 1M --io uring",
        "--threads 2 --no-cache",
        "--threads 4 --no-cache --chunk-size 2M",
    };
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        if (strstr(variants[i], "uring") && !uring_ok(dir))
            continue; /* no io_uring here (seccomp, old kernel): --io uring refuses */
        struct run r = run(dir, variants[i], path);
        cr_expect_str_eq(r.verdict, ref.verdict, "`%s` differs from --threads 1 --no-cache",
                         variants[i]);
        cr_expect_eq(r.status, ref.status, "`%s`: exit %d, reference %d", variants[i], r.status,
                     ref.status);
        free(r.verdict);
        json_decref(r.doc);
    }
    /* blocks out of the page cache (every third 256 KiB block dropped): the
     * helper copies only cached blocks and leaves the others to the splitter */
    for (int round = 0; round < 3; round++) {
        evict_every_third_block(path, round);
        struct run r = run(dir, "--threads 2 --no-cache --chunk-size 1M", path);
        cr_expect_str_eq(r.verdict, ref.verdict, "partly evicted file (round %d) differs", round);
        free(r.verdict);
        json_decref(r.doc);
    }
    /* the cache: a cold run stores every slice under keys made of the block
     * hashes, a warm one finds every slice by them again */
    for (int pass = 0; pass < 2; pass++) {
        struct run r = run(dir, "--threads 2 --chunk-size 768k", path);
        cr_expect_str_eq(r.verdict, ref.verdict, "cached run %d differs from the reference", pass);
        json_int_t slices = cache_field(&r, "slices"), hits = cache_field(&r, "hits");
        cr_expect_gt(slices, 10, "a ~10 MiB file in 768 KiB chunks: %lld slices", (long long)slices);
        cr_expect_eq(hits, pass ? slices : 0, "run %d: %lld hits of %lld slices", pass,
                     (long long)hits, (long long)slices);
        free(r.verdict);
        json_decref(r.doc);
    }
    /* a byte changed in an odd block read by the helper (the second 256 KiB
     * block of the second 768 KiB chunk: the first chunk is hashed by the
     * splitter after sniffing): the id of a record starting there becomes
     * "x...", so the id column turns text — its slice must miss and the
     * verdict be the new file's */
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    static char blk[256 * 1024];
    cr_assert_eq(fseek(f, 1024 * 1024, SEEK_SET), 0);
    cr_assert_eq(fread(blk, 1, sizeof blk, f), sizeof blk);
    char *at = NULL;
    for (char *p = blk; !at && (p = memchr(p, '\n', sizeof blk - (size_t)(p - blk) - 32)); p++)
        if (p[1] >= '1' && p[1] <= '9' && strncmp(p + 1 + strspn(p + 1, "0123456789"), ",plain ", 7) == 0)
            at = p + 1;
    cr_assert_not_null(at, "no record start in the block at 1 MiB");
    cr_assert_eq(fseek(f, 1024 * 1024 + (at - blk), SEEK_SET), 0);
    fputc('x', f);
    fclose(f);
    struct run fresh = run(dir, "--threads 1 --no-cache", path);
    cr_assert(strstr(fresh.verdict, "\"name\": \"id\", \"null_count\": 0, \"nullable\": false, "
                                    "\"sql_type\": \"TEXT\"") != NULL,
              "the changed file's id column should be text: %.1000s", fresh.verdict);
    struct run r = run(dir, "--threads 2 --chunk-size 768k", path);
    cr_expect_str_eq(r.verdict, fresh.verdict, "a warm run after a change in the block at 1 MiB differs");
    cr_expect_lt(cache_field(&r, "hits"), cache_field(&r, "slices"),
                 "the changed slice should miss the cache");
    free(r.verdict);
    json_decref(r.doc);
    free(fresh.verdict);
    json_decref(fresh.doc);
    free(ref.verdict);
    json_decref(ref.doc);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}
