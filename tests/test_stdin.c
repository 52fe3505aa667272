/*
 * test_stdin.c — standard input and FIFOs (issue 7 item 4): for every CSV
 * of the end-to-end corpus (tests/data, with its .args), the file piped into
 * `csvinfer -` — plain, gzip and zstd (recognised by their first bytes) — and
 * written into a FIFO given as a path give the sequential engine's verdict on
 * the file (--threads 1 --no-cache), through the pipeline at two chunk
 * sizes and through the sequential engine (gzip piped, zstd on standard
 * input, a --sample-rows run against the same run on the file); empty and
 * one-byte inputs too.  And a stop signal always stops a run that reads
 * standard input or a FIFO, whenever it lands.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include "capture.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
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

/* ---- a stop signal while standard input or a FIFO is read ----------------- */

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Wait up to ms for pid: its wait status, or -1 (it was killed with SIGKILL then). */
static int wait_for(pid_t pid, int ms)
{
    int st;
    for (int t = 0; t < ms; t++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        sleep_us(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* The run `BIN args...` with standard input the read end of a pipe whose
 * write end the test keeps open (after writing `head`): a cron job's
 * `producer | csvinfer -` whose producer is slow.  SIGTERM after delay_us
 * must end it (exit 130, or death by SIGTERM when it lands before the
 * handler is installed) within 10 s — it hung until the producer closed
 * when the signal landed between the run's "stop?" check and its read(2). */
static void expect_stops(const char *what, const char *const *args, const void *head, size_t head_n,
                         const char *fifo, long delay_us)
{
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(p[0], 0);
        dup2(null, 1);
        dup2(null, 2);
        const char *argv[16] = {CSVI_BIN_PATH, "--no-ledger", "--no-cache", "--format", "json"};
        size_t n = 5;
        for (size_t i = 0; args[i] && n < 15; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(CSVI_BIN_PATH, (char *const *)argv);
        _exit(127);
    }
    close(p[0]);
    int w = -1;
    if (fifo) /* the writer of the FIFO opens it only after the delay: the run waits in open */
        sleep_us(delay_us);
    if (fifo)
        w = open(fifo, O_WRONLY | O_CLOEXEC | O_NONBLOCK); /* fails (ENXIO) if the run is not there yet */
    if (head_n)
        cr_assert_eq(write(fifo ? (w >= 0 ? w : p[1]) : p[1], head, head_n), (ssize_t)head_n);
    if (!fifo)
        sleep_us(delay_us);
    kill(pid, SIGTERM);
    int st = wait_for(pid, 10000);
    cr_expect(st != -1, "%s, SIGTERM after %ld us: the run did not stop within 10 s", what, delay_us);
    if (st != -1)
        cr_expect((WIFEXITED(st) && WEXITSTATUS(st) == 130) ||
                      (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM),
                  "%s, SIGTERM after %ld us: exit %d signal %d", what, delay_us,
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (w >= 0)
        close(w);
    close(p[1]);
}

Test(stdin, a_stop_signal_always_stops_a_read_of_stdin_or_a_fifo, .timeout = 600)
{
    char dir[] = "/tmp/csvi-stop-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char fifo[600], src[600], cmd[2048];
    snprintf(fifo, sizeof fifo, "%s/in.csv", dir);
    snprintf(src, sizeof src, "%s/src.csv", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    FILE *f = fopen(src, "w");
    cr_assert_not_null(f);
    fputs("id,name,when\n", f);
    for (int i = 0; i < 2000; i++)
        fprintf(f, "%d,name %d,2024-01-%02d\n", i, i, i % 28 + 1);
    fclose(f);
    /* the first half of a gzip stream: the decoder waits for the rest */
    snprintf(cmd, sizeof cmd, "gzip -c '%s'", src);
    FILE *gz = popen(cmd, "r");
    cr_assert_not_null(gz);
    static unsigned char zbuf[1 << 16];
    size_t zn = fread(zbuf, 1, sizeof zbuf, gz);
    pclose(gz);
    cr_assert_gt(zn, 100);
    static const char plain[] = "id,name\n1,a\n2,b\n";
    struct mode {
        const char *what;
        const char *args[6];
        const void *head;
        size_t n;
        bool fifo;
    } modes[] = {
        {"stdin, 2 threads", {"--threads", "2", "-"}, plain, sizeof plain - 1, false},
        {"stdin, 1 thread", {"--threads", "1", "-"}, plain, sizeof plain - 1, false},
        {"stdin, nothing written, 2 threads", {"--threads", "2", "-"}, NULL, 0, false},
        {"gzip on stdin, 2 threads", {"--threads", "2", "-"}, zbuf, zn / 2, false},
        {"gzip on stdin, 1 thread", {"--threads", "1", "-"}, zbuf, zn / 2, false},
        {"a file, then stdin, 2 threads", {"--threads", "2", src, "-"}, plain, sizeof plain - 1,
         false},
        {"FIFO, 2 threads", {"--threads", "2", fifo}, plain, sizeof plain - 1, true},
        {"FIFO, 1 thread", {"--threads", "1", fifo}, plain, sizeof plain - 1, true},
    };
    unsigned seed = 12345;
    for (size_t m = 0; m < sizeof modes / sizeof *modes; m++)
        for (int i = 0; i < 25; i++) {
            seed = seed * 1103515245u + 12345u;
            long delay = i < 5 ? i * 1000L : (long)(seed >> 8) % 30000; /* 0-30 ms: every phase */
            expect_stops(modes[m].what, modes[m].args, modes[m].head, modes[m].n,
                         modes[m].fifo ? fifo : NULL, delay);
        }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
