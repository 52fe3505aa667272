/*
 * test_stdin.c — standard input and FIFOs (issue 7 item 4): for every CSV
 * of the end-to-end corpus (tests/data, with its .args), the file piped into
 * `csvinfer -` — plain, gzip and zstd (recognised by their first bytes) — and
 * written into a FIFO given as a path give the sequential engine's verdict on
 * the file (--threads 1 --no-cache), through the pipeline at two chunk
 * sizes and through the sequential engine (gzip piped, zstd on standard
 * input, a --sample-rows run against the same run on the file); empty and
 * one-byte inputs too.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include "capture.h"
#include <dirent.h>
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
    char *verdict; /* the JSON without path, seconds, cache, compression */
};

/* sh -c "SHELL_CMD" with \\$BIN set; stdout parsed and normalised. */
static struct run run_sh(const char *dir, const char *shell_cmd)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && BIN='%s' XDG_CACHE_HOME='%s/x' XDG_STATE_HOME='%s/x' sh -c \"%s\" "
             "2>/dev/null",
             dir, CSVI_BIN_PATH, dir, dir, shell_cmd);
    struct run r;
    r.verdict = capture_verdict(cmd, &r.status, NULL);
    return r;
}

static void check_same(const char *dir, const char *what, const char *ref_cmd, const char *cmd)
{
    struct run a = run_sh(dir, ref_cmd), b = run_sh(dir, cmd);
    cr_expect_str_eq(b.verdict, a.verdict, "%s: `%s` differs from `%s`", what, cmd, ref_cmd);
    cr_expect_eq(b.status, a.status, "%s: exit %d, reference %d", what, b.status, a.status);
    free(a.verdict);
    free(b.verdict);
}

Test(stdin, piped_and_fifo_inputs_give_the_files_verdict, .timeout = 300)
{
    char dir[] = "/tmp/csvi-stdin-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkfifo '%s/fifo.csv'", dir);
    cr_assert_eq(system(cmd), 0);
    DIR *dd = opendir(CSVI_TEST_DATA_DIR);
    cr_assert_not_null(dd);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dd)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".csv") != 0)
            continue;
        char src[1024], args[512];
        snprintf(src, sizeof src, "%s/%s", CSVI_TEST_DATA_DIR, de->d_name);
        corpus_args(src, args, sizeof args);
        char ref[2048], c[2048];
        snprintf(ref, sizeof ref, "\\$BIN --format json --no-ledger --threads 1 --no-cache %s '%s'",
                 args, src);
        snprintf(c, sizeof c, "cat '%s' | \\$BIN --format json --no-ledger --threads 2 %s -", src, args);
        check_same(dir, de->d_name, ref, c);
        snprintf(c, sizeof c,
                 "cat '%s' | \\$BIN --format json --no-ledger --threads 2 --chunk-size 4K %s -", src,
                 args);
        check_same(dir, de->d_name, ref, c);
        snprintf(c, sizeof c, "gzip -c '%s' | \\$BIN --format json --no-ledger --no-cache %s -", src,
                 args);
        check_same(dir, de->d_name, ref, c);
        snprintf(c, sizeof c, "zstd -q -c '%s' | \\$BIN --format json --no-ledger --no-cache %s -",
                 src, args);
        check_same(dir, de->d_name, ref, c);
        snprintf(c, sizeof c,
                 "(cat '%s' > fifo.csv &) ; \\$BIN --format json --no-ledger --threads 2 %s fifo.csv",
                 src, args);
        check_same(dir, de->d_name, ref, c);
        /* the sequential engine on a pipe: its first bytes say gzip/zstd too,
         * and are the data's first bytes when they do not */
        snprintf(c, sizeof c, "cat '%s' | \\$BIN --format json --no-ledger --threads 1 --no-cache %s -",
                 src, args);
        check_same(dir, de->d_name, ref, c);
        snprintf(c, sizeof c,
                 "gzip -c '%s' | \\$BIN --format json --no-ledger --threads 1 --no-cache %s -", src,
                 args);
        check_same(dir, de->d_name, ref, c);
        snprintf(c, sizeof c,
                 "zstd -q -c '%s' > in.zst && \\$BIN --format json --no-ledger --threads 1 "
                 "--no-cache %s - < in.zst",
                 src, args);
        check_same(dir, de->d_name, ref, c);
        snprintf(ref, sizeof ref, "\\$BIN --format json --no-ledger --sample-rows 3 %s '%s'", args,
                 src);
        snprintf(c, sizeof c, "gzip -c '%s' | \\$BIN --format json --no-ledger --sample-rows 3 %s -",
                 src, args);
        check_same(dir, de->d_name, ref, c);
        files++;
    }
    closedir(dd);
    cr_assert_gt(files, 20, "only %d corpus files", files);
    /* no bytes, one byte, one line without a newline */
    const char *tiny[] = {"", "7", "a,b"};
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/tiny.csv", dir);
        FILE *f = fopen(p, "w");
        fputs(tiny[i], f);
        fclose(f);
        char ref[1024], c[1024];
        snprintf(ref, sizeof ref, "\\$BIN --format json --no-ledger --threads 1 --no-cache tiny.csv");
        snprintf(c, sizeof c, "cat tiny.csv | \\$BIN --format json --no-ledger --threads 2 -");
        check_same(dir, tiny[i], ref, c);
        snprintf(c, sizeof c,
                 "cat tiny.csv | \\$BIN --format json --no-ledger --threads 1 --no-cache -");
        check_same(dir, tiny[i], ref, c);
        snprintf(c, sizeof c,
                 "gzip -c tiny.csv | \\$BIN --format json --no-ledger --threads 1 --no-cache -");
        check_same(dir, tiny[i], ref, c);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
