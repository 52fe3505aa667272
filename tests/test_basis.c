/*
 * test_basis.c — the ledger's basis snapshot (engine/ledger_basis.c): a run
 * reads LEDGER.basis and only the ledger bytes after it, so a nightly run
 * does not re-read every past run.  The drift a run reports must be exactly
 * what reading the whole ledger gives, whatever happened to the snapshot
 * (damaged, truncated, deleted, from a rotated ledger); the prefix it covers
 * must really not be read; runs that never ended stay out of the basis until
 * their run_end appears.
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
#include <time.h>
#include <unistd.h>

static char *tmpdir(void)
{
    char *d = strdup("/tmp/csvi-basis-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* csvinfer --format json --ledger LEDGER --no-cache PATHS: the drift of each
 * file as one string ("path: kind column; ..."), for comparing runs. */
static char *drift_of(const char *ledger, const char *paths, int *status)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --format json --no-cache --ledger '%s' %s 2>/dev/null",
             CSVI_BIN_PATH, ledger, paths);
    size_t len;
    int st;
    char *out = capture(cmd, &len, &st);
    if (status)
        *status = st;
    json_error_t jerr;
    json_t *doc = json_loadb(out, len, 0, &jerr);
    free(out);
    cr_assert_not_null(doc, "no JSON from %s", cmd);
    char *s = NULL;
    size_t sn = 0;
    FILE *m = open_memstream(&s, &sn);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f) {
        fprintf(m, "%s:", json_string_value(json_object_get(f, "path")));
        size_t j;
        json_t *d;
        json_array_foreach(json_object_get(f, "drift"), j, d)
            fprintf(m, " %s %s;", json_string_value(json_object_get(d, "kind")),
                    json_string_value(json_object_get(d, "column")));
        fputc('\n', m);
    }
    fclose(m);
    json_decref(doc);
    return s;
}

static const char *headers[] = {
    "id,name,amount\n1,a,1.5\n2,b,2\n",
    "id,name,amount,note\n1,a,1.5,x\n2,b,2,y\n",
    "id,amount\n1,1.5\n2,2\n",
    "id,name,amount\nx,a,1.5\n2,b,2\n",
    "id,name,amount\n1,a,1.5\n2,,2\n",
};

Test(basis, the_snapshot_gives_the_drift_of_reading_the_whole_ledger)
{
    /* Twelve runs over three files whose schemas change at random; before each
     * run the snapshot is left alone, deleted, damaged, truncated or swapped
     * for a stale one, and the run's drift is compared with a run from a copy
     * of the state without any snapshot (the whole ledger read). */
    char *d = tmpdir();
    char ledger[400], copy[400], files[1400], stale[400];
    snprintf(ledger, sizeof ledger, "%s/l/ledger.jsonl", d);
    snprintf(copy, sizeof copy, "%s/c/ledger.jsonl", d);
    snprintf(stale, sizeof stale, "%s/stale.basis", d);
    sh("mkdir -p '%s/l' '%s/c'", d, d);
    snprintf(files, sizeof files, "'%s/a.csv' '%s/b.csv' '%s/c.csv'", d, d, d);
    srand(3);
    for (int run = 0; run < 12; run++) {
        for (int k = 0; k < 3; k++) {
            char p[500];
            snprintf(p, sizeof p, "%s/%c.csv", d, 'a' + k);
            spit(p, headers[rand() % 5]);
        }
        int what = run < 2 ? 0 : run % 5; /* each case twice (4: after the stale copy) */
        if (what == 1)
            sh("rm -f '%s.basis'", ledger);
        else if (what == 2)
            sh("printf 'garbage\\n{\"x\":1}\\n' | dd of='%s.basis' bs=1 seek=120 conv=notrunc "
               "status=none",
               ledger);
        else if (what == 3)
            sh("truncate -s 150 '%s.basis'", ledger);
        else if (what == 4)
            sh("cp '%s' '%s.basis'", stale, ledger);
        sh("rm -f '%s'; [ ! -f '%s' ] || cp '%s' '%s'", copy, ledger, ledger, copy);
        /* (the reference: the same ledger, no snapshot) */
        int st_ref, st;
        char *want = drift_of(copy, files, &st_ref);
        char *got = drift_of(ledger, files, &st);
        cr_expect_str_eq(got, want, "run %d (snapshot case %d): drift differs from a full read",
                         run, what);
        cr_expect_eq(st, st_ref, "run %d: exit %d, full read %d", run, st, st_ref);
        free(want);
        free(got);
        if (run == 3)
            sh("cp '%s.basis' '%s'", ledger, stale);
        struct stat sb;
        cr_expect_eq(stat(ledger, &sb), 0);
        char snap[500];
        snprintf(snap, sizeof snap, "%s.basis", ledger);
        cr_expect_eq(stat(snap, &sb), 0, "run %d: no snapshot written", run);
    }
    sh("rm -rf '%s'", d);
    free(d);
}

Test(basis, the_ledger_before_the_snapshot_is_not_read_again)
{
    /* Garbage put in the middle of the ledger's covered bytes (away from the
     * 4 KiB the snapshot checks) is not seen by the next run — it reads only
     * after the snapshot — and is seen (skipped, counted) once the snapshot is
     * gone.  Also: a run never ended (killed) is no basis until its run_end. */
    char *d = tmpdir();
    char ledger[400], files[500];
    snprintf(ledger, sizeof ledger, "%s/ledger.jsonl", d);
    snprintf(files, sizeof files, "'%s/a.csv'", d);
    char p[500];
    snprintf(p, sizeof p, "%s/a.csv", d);
    spit(p, headers[0]);
    for (int i = 0; i < 40; i++) /* a ledger well past 4 KiB */
        free(drift_of(ledger, files, NULL));
    sh("printf 'x\\\"}{\\\"' | dd of='%s' bs=1 seek=100 conv=notrunc status=none", ledger);
    free(drift_of(ledger, files, NULL));
    sh("tail -n 2 '%s' | head -n 1 | grep -q file_done", ledger); /* (sanity) */
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "grep run_start '%s' | tail -n 1 | grep -q ledger_lines_skipped", ledger);
    cr_expect_neq(system(cmd), 0, "the run read the ledger's covered bytes again");
    sh("rm '%s.basis'", ledger);
    free(drift_of(ledger, files, NULL));
    cr_expect_eq(system(cmd), 0, "without the snapshot the damaged line must be read and skipped");

    /* a killed run: its file_done for a.csv with another schema, no run_end */
    spit(p, headers[2]);
    char *before = drift_of(ledger, files, NULL); /* drift: name removed */
    cr_expect(strstr(before, "removed name") != NULL, "%s", before);
    free(before);
    char run_id[64]; /* a run id begins with its start time (hex seconds) */
    snprintf(run_id, sizeof run_id, "%lx-1-1", (long)time(NULL));
    sh("grep file_done '%s' | tail -n 1 | sed 's/\"run\":\"[^\"]*\"/\"run\":\"%s\"/; "
       "s/\"name\":\"amount\"/\"name\":\"total\"/' >> '%s'",
       ledger, run_id, ledger);
    char *again = drift_of(ledger, files, NULL); /* the killed run is no basis: no drift */
    cr_expect_str_eq(strchr(again, ':'), ":\n", "a run with no run_end became a basis: %s", again);
    free(again);
    sh("printf '{\"event\":\"run_end\",\"v\":1,\"run\":\"%s\",\"status\":\"ok\"}\\n' >> '%s'",
       run_id, ledger);
    char *now = drift_of(ledger, files, NULL); /* its run_end came: now it is the basis */
    cr_expect(strstr(now, "renamed") != NULL || strstr(now, "added amount") != NULL,
              "the ended run's file_done is the basis now: %s", now);
    free(now);
    sh("rm -rf '%s'", d);
    free(d);
}
