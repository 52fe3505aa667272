/*
 * test_digest.c — the content digest of file_done events (docs/ledger.md):
 * computed here independently from its definition (XXH3-128 of each
 * 256 KiB block's canonical XXH3-128, then the size, little-endian), it must
 * equal what csvinfer records, whichever engine read the file: the
 * sequential one (--threads 1 --no-cache), the pipeline at chunk sizes that
 * are multiples of 256 KiB, with the cache cold and warm; a file read only
 * in part (a record past --max-record stops the reading long before its
 * end) gets no digest.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static void expected_digest(const uint8_t *p, size_t n, char out[42])
{
    XXH3_state_t *root = XXH3_createState();
    XXH3_128bits_reset(root);
    for (size_t off = 0; off < n; off += 256 * 1024) {
        size_t len = n - off < 256 * 1024 ? n - off : 256 * 1024;
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits(p + off, len));
        XXH3_128bits_update(root, c.digest, sizeof c.digest);
    }
    uint8_t size[8];
    for (int i = 0; i < 8; i++)
        size[i] = (uint8_t)((uint64_t)n >> (8 * i));
    XXH3_128bits_update(root, size, 8);
    XXH128_hash_t h = XXH3_128bits_digest(root);
    XXH3_freeState(root);
    snprintf(out, 42, "xxh3-128:%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

/* The digest of the last file_done of the ledger, or "" (null). */
static void last_digest(const char *ledger, char out[64])
{
    FILE *f = fopen(ledger, "r");
    cr_assert_not_null(f);
    char *line = NULL;
    size_t cap = 0;
    out[0] = '\0';
    bool seen = false;
    while (getline(&line, &cap, f) > 0) {
        json_t *ev = json_loads(line, 0, NULL);
        if (ev && strcmp(json_string_value(json_object_get(ev, "event")), "file_done") == 0) {
            const char *d = json_string_value(json_object_get(ev, "digest"));
            snprintf(out, 64, "%s", d ? d : "");
            seen = true;
        }
        json_decref(ev);
    }
    free(line);
    fclose(f);
    cr_assert(seen, "no file_done in %s", ledger);
}

static void run(const char *dir, const char *args, const char *file)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "XDG_CACHE_HOME=%s/x XDG_STATE_HOME=%s/x '%s' --ledger %s/ledger.jsonl --cache %s/cache "
             "%s -o /dev/null '%s' 2>/dev/null",
             dir, dir, CSVI_BIN_PATH, dir, dir, args, file);
    int st = system(cmd);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) <= 1, "%s: status %d", cmd, st);
}

Test(digest, equals_its_definition_whatever_reads_the_file)
{
    char dir[] = "/tmp/csvi-digest-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    /* sizes around the 256 KiB leaves and the chunk sizes used */
    const size_t sizes[] = {0, 1, 1000, 262143, 262144, 262145, 1048576 + 77, 3 * 1048576 + 5};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        char path[256];
        snprintf(path, sizeof path, "%s/f%zu.csv", dir, s);
        size_t n = sizes[s];
        uint8_t *p = malloc(n + 64);
        size_t o = 0;
        if (n) {
            o = (size_t)snprintf((char *)p, n + 64, "id,v\n");
            for (unsigned i = 0; o < n; i++)
                o += (size_t)snprintf((char *)p + o, n + 64 - o, "%u,%u\n", i, i * 7919u % 1000u);
            p[n - 1] = '\n';
        }
        FILE *f = fopen(path, "wb");
        fwrite(p, 1, n, f);
        fclose(f);
        char want[42], got[64];
        expected_digest(p, n, want);
        free(p);
        const char *variants[] = {"--threads 1 --no-cache", "--threads 2 --no-cache",
                                  "--threads 2 --chunk-size 256k", "--threads 2 --chunk-size 256k",
                                  "--threads 2 --chunk-size 1M --no-cache", "--threads 1"};
        for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
            run(dir, variants[v], path);
            char ledger[300];
            snprintf(ledger, sizeof ledger, "%s/ledger.jsonl", dir);
            last_digest(ledger, got);
            cr_expect_str_eq(got, want, "%zu bytes, %s: digest %s, expected %s", n, variants[v],
                             got, want);
        }
    }
    /* a record past --max-record: the file is not read to its end, no digest */
    char path[256], ledger[300], got[64];
    snprintf(path, sizeof path, "%s/long.csv", dir);
    FILE *f = fopen(path, "wb");
    fputs("id,v\n1,2\n", f);
    for (int i = 0; i < 3000; i++)
        fputs("xxxxxxxxxx", f);
    for (int i = 0; i < 300000; i++) /* 2 MB after it: more than one read, never reached */
        fprintf(f, "\n%d,%d", i, i);
    fputs("\n", f);
    fclose(f);
    run(dir, "--threads 1 --no-cache --max-record 1000", path);
    snprintf(ledger, sizeof ledger, "%s/ledger.jsonl", dir);
    last_digest(ledger, got);
    cr_expect_str_eq(got, "", "a file read in part has a digest: %s", got);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
