/*
 * fuzz_infer.c — libFuzzer target for whole-file inference through the
 * public API (csvinfer.h): csvi_engine_create, csvi_engine_infer_path,
 * csvi_write_json / csvi_write_table / csvi_write_sql.
 *
 * Input: bytes 0 and 1 pick the options, the rest is the file.  The file is
 * written to a temp file of this process (/tmp/csvi-fuzz-infer-PID.csv: the
 * pipeline reads regular files by path) and inferred with --threads 1 (the
 * sequential reference).  For 3 inputs in 4 it is inferred again with
 * threads 2 and a tiny chunk size (1, 7 or 64 bytes: many slices), the
 * parallel pipeline, twice, with a small cache directory of its own (the
 * second pass reads its verdicts back from the cache); the JSON documents,
 * with the "seconds" values blanked and the per-file "cache" object
 * removed, the SQL outputs (all three dialects) and the statuses must be
 * identical — abort() otherwise
 * (as tests/test_pipeline.c compares the JSON).  The other inputs are
 * inferred again with --sample-rows 1-4: at most that many rows.
 *
 * Byte 0: bits 0-2 delimiter (0-3 auto, then , ; tab |); bits 3-4 quote
 *   (auto, ", ', none); bits 5-6 header (auto, auto, no, yes); bit 7
 *   quoted_empty_is_text.
 * Byte 1: bit 0 dayfirst; bit 1 no_trim; bit 2 threshold 0.9; bits 3-4
 *   pipeline run (none, chunk 7, chunk 64, chunk 1); bits 5-6 max_record
 *   (default, default, 16, 100); bit 7 io pread (else auto).
 */
#define _GNU_SOURCE
#include "csvinfer.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_path[64], cache_dir[64];

static void remove_tmp(void)
{
    if (tmp_path[0])
        unlink(tmp_path);
    if (cache_dir[0]) {
        char p[96];
        snprintf(p, sizeof p, "%s/verdicts.csvc", cache_dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/lock", cache_dir);
        unlink(p);
        rmdir(cache_dir);
    }
}

static void write_file(const uint8_t *p, size_t n)
{
    if (!tmp_path[0]) {
        snprintf(tmp_path, sizeof tmp_path, "/tmp/csvi-fuzz-infer-%ld.csv", (long)getpid());
        snprintf(cache_dir, sizeof cache_dir, "/tmp/csvi-fuzz-cache-%ld", (long)getpid());
        atexit(remove_tmp);
    }
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror("fuzz_infer: open temp file");
        abort();
    }
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            perror("fuzz_infer: write temp file");
            abort();
        }
        p += w;
        n -= (size_t)w;
    }
    close(fd);
}

/* Blank every "seconds" value and drop every "cache" object.  Inside JSON
 * strings every '"' is escaped, so these patterns only match keys. */
static void normalize(char *s)
{
    static const char SEC[] = "\"seconds\": ";
    static const char CACHE[] = "\"cache\": {";
    char *r = s, *w = s;
    while (*r) {
        if (strncmp(r, SEC, sizeof SEC - 1) == 0) {
            memmove(w, SEC, sizeof SEC - 1); /* w <= r: safe */
            w += sizeof SEC - 1;
            r += sizeof SEC - 1;
            *w++ = '0';
            while (*r && *r != ',' && *r != '}' && *r != '\n')
                r++;
        } else if (strncmp(r, CACHE, sizeof CACHE - 1) == 0) {
            r += sizeof CACHE - 1; /* skip the object first: w may equal r */
            while (*r && *r != '}')
                r++;
            if (*r)
                r++;
            memmove(w, "\"cache\": {}", 11); /* 11 bytes <= what r skipped */
            w += 11;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

struct run_out {
    enum csvi_status create_st, infer_st, json_st, sql_st;
    char *json;
    size_t json_len;
    char *sql; /* the three SQL dialects, one after the other */
    size_t sql_len;
};

static void run(const struct csvi_options *opt, struct run_out *out, bool table)
{
    memset(out, 0, sizeof *out);
    csvi_engine *e = csvi_engine_create(opt, &out->create_st);
    if (!e) {
        fprintf(stderr, "fuzz_infer: csvi_engine_create: %s\n", csvi_strerror(out->create_st));
        abort(); /* the options made here are all valid */
    }
    out->infer_st = csvi_engine_infer_path(e, tmp_path);
    if (out->infer_st != CSVI_OK && out->infer_st != CSVI_ERR_DATA) {
        fprintf(stderr, "fuzz_infer: csvi_engine_infer_path: %s\n", csvi_strerror(out->infer_st));
        abort();
    }
    if (csvi_engine_file_count(e) != 1 || !csvi_engine_file(e, 0)) {
        fprintf(stderr, "fuzz_infer: %zu results for one file\n", csvi_engine_file_count(e));
        abort();
    }
    FILE *m = open_memstream(&out->json, &out->json_len);
    if (!m)
        abort();
    out->json_st = csvi_write_json(e, m);
    fclose(m);
    FILE *sq = open_memstream(&out->sql, &out->sql_len);
    if (!sq)
        abort();
    out->sql_st = csvi_write_sql(e, sq, CSVI_SQL_POSTGRES);
    if (out->sql_st == CSVI_OK)
        out->sql_st = csvi_write_sql(e, sq, CSVI_SQL_DUCKDB);
    if (out->sql_st == CSVI_OK)
        out->sql_st = csvi_write_sql(e, sq, CSVI_SQL_SQLITE);
    fclose(sq);
    if (table) {
        char *t = NULL;
        size_t tl = 0;
        FILE *tm = open_memstream(&t, &tl);
        if (!tm)
            abort();
        csvi_write_table(e, tm);
        fclose(tm);
        free(t);
    }
    csvi_engine_free(e);
    normalize(out->json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t b0 = data[0], b1 = data[1];
    write_file(data + 2, size - 2);

    struct csvi_options opt;
    csvi_options_init(&opt);
    static const int delims[8] = {CSVI_AUTO, CSVI_AUTO, CSVI_AUTO, CSVI_AUTO, ',', ';', '\t', '|'};
    static const int quotes[4] = {CSVI_AUTO, '"', '\'', 0};
    static const int headers[4] = {CSVI_AUTO, CSVI_AUTO, 0, 1};
    static const size_t chunks[4] = {0, 7, 64, 1};
    static const size_t max_records[4] = {0, 0, 16, 100};
    opt.delimiter = delims[b0 & 7];
    opt.quote = quotes[(b0 >> 3) & 3];
    opt.header = headers[(b0 >> 5) & 3];
    opt.quoted_empty_is_text = (b0 >> 7) & 1;
    opt.dayfirst = b1 & 1;
    opt.no_trim = (b1 >> 1) & 1;
    if ((b1 >> 2) & 1)
        opt.threshold = 0.9;
    size_t chunk = chunks[(b1 >> 3) & 3];
    if (max_records[(b1 >> 5) & 3])
        opt.max_record = max_records[(b1 >> 5) & 3];
    opt.io = (b1 >> 7) & 1 ? CSVI_IO_PREAD : CSVI_IO_AUTO;
    opt.threads = 1;
    opt.no_cache = true; /* the reference reads every byte */

    struct run_out seq, par;
    run(&opt, &seq, true);
    /* the pipeline, with a small cache of this process's own: the first run
     * may find slices of earlier inputs, the second finds all of its own */
    for (int pass = 0; chunk && pass < 2; pass++) {
        opt.threads = 2;
        opt.chunk_size = chunk;
        opt.no_cache = false;
        opt.cache_dir = cache_dir;
        opt.cache_size = 256 * 1024;
        run(&opt, &par, false);
        if (seq.infer_st != par.infer_st || seq.json_st != par.json_st ||
            strcmp(seq.json, par.json) != 0) {
            fprintf(stderr,
                    "fuzz_infer: --threads 2 --chunk-size %zu (cached pass %d) differs from "
                    "--threads 1\nstatus %d / %d\n--- threads 1:\n%s\n--- threads 2:\n%s\n",
                    chunk, pass, (int)seq.infer_st, (int)par.infer_st, seq.json, par.json);
            abort();
        }
        /* the SQL output also shows what the JSON does not (null_kinds,
         * trailing_blank_lines) */
        if (seq.sql_st != par.sql_st || strcmp(seq.sql, par.sql) != 0) {
            fprintf(stderr,
                    "fuzz_infer: SQL output of --threads 2 --chunk-size %zu differs from "
                    "--threads 1\n--- threads 1:\n%s\n--- threads 2:\n%s\n",
                    chunk, seq.sql, par.sql);
            abort();
        }
        free(par.json);
        free(par.sql);
    }
    if (!chunk) { /* the other inputs: --sample-rows through the sequential engine */
        opt.sample_rows = 1 + size % 4;
        enum csvi_status st;
        csvi_engine *e = csvi_engine_create(&opt, &st);
        if (!e)
            abort();
        st = csvi_engine_infer_path(e, tmp_path);
        const struct csvi_file_result *r = csvi_engine_file(e, 0);
        if ((st != CSVI_OK && st != CSVI_ERR_DATA) || !r || r->rows > opt.sample_rows) {
            fprintf(stderr, "fuzz_infer: --sample-rows %llu: status %d, %llu rows\n",
                    (unsigned long long)opt.sample_rows, (int)st,
                    r ? (unsigned long long)r->rows : 0ull);
            abort();
        }
        csvi_engine_free(e);
    }
    free(seq.json);
    free(seq.sql);
    return 0;
}
