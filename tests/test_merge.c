/*
 * test_merge.c — `csvinfer merge` (docs/scaling.md): verdicts of separate
 * runs over disjoint shards join into the verdict of one run over all.
 *
 * A generated directory (walk-order traps like a/ beside a.csv and a-b.csv,
 * tables with an added column, errors, an empty and a header-only file, a
 * latin-1 file, a file of many slices, a gzip file) is split into 3 shards
 * at random, several times; each shard is run on its own (its files named
 * on the command line in a random order, as a scheduler hands them out),
 * and `csvinfer merge` of the shards' verdicts (given in a random order)
 * must equal one run over the directory: JSON equal as values but
 * summary.seconds, also with --group (the tables), in tolerant mode, with
 * one shard written as NDJSON, and for the sql and table formats.  Shards
 * run with other engines (--threads 1 --no-cache, small --chunk-size) merge
 * to the same verdict but for the "cache" facts, which count slices.
 *
 * Verdicts that cannot be merged exit 2 and name the verdict: a changed
 * state, a changed column, changed rows, no state (run without
 * --mergeable), other options, a path in two shards, not JSON, an empty
 * file, another JSON version, a file that is not there.
 */
#include "csvi_run.h"

#include <stdint.h>

/* ---- the directory ----------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct files {
    char *v[64];
    size_t n;
};

static const char *const values[] = {"1", "-12", "40000", "2.5", "-0.125", "2024-01-02",
                                     "2024-01-02 10:00:00", "13/01/2024", "true", "no", "abc",
                                     "", "NA", "007", "1e5", "10:30"};

static void add_random(struct files *fs, const char *dir, const char *rel, const char *header,
                       int ncols, int rows, int typed)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    rt_append(&buf, &n, &cap, header, strlen(header));
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < ncols; c++) {
            /* column c keeps to a few values most of the time, so types vary */
            size_t k = (rnd() % 100) < (uint64_t)typed ? (size_t)(c * 3 + r % 2) % 16
                                                       : (size_t)(rnd() % 16);
            rt_append(&buf, &n, &cap, c ? "," : "", c ? 1 : 0);
            rt_append(&buf, &n, &cap, values[k], strlen(values[k]));
        }
        rt_append(&buf, &n, &cap, "\n", 1);
    }
    rt_write(dir, rel, buf, n);
    free(buf);
    fs->v[fs->n++] = strdup(rel);
}

static void add_text(struct files *fs, const char *dir, const char *rel, const char *text)
{
    rt_write(dir, rel, text, strlen(text));
    fs->v[fs->n++] = strdup(rel);
}

static void make_lake(const char *dir, struct files *fs)
{
    rng_state = 42;
    fs->n = 0;
    add_random(fs, dir, "lake/a.csv", "p,q,r\n", 3, 20, 90);
    add_random(fs, dir, "lake/a/x.csv", "p,q,r\n", 3, 5, 50);
    add_random(fs, dir, "lake/a/y/z.csv", "u,v\n", 2, 8, 90);
    add_random(fs, dir, "lake/a-b.csv", "p,q,r\n", 3, 9, 95);
    add_random(fs, dir, "lake/B.csv", "k,l,m,n\n", 4, 30, 70);
    for (int m = 1; m <= 6; m++) { /* one table; from month 4 a column more */
        char rel[64];
        snprintf(rel, sizeof rel, "lake/sales/2024-%02d.csv", m);
        if (m < 4)
            add_random(fs, dir, rel, "id,amount,day\n", 3, 10 + m, 95);
        else
            add_random(fs, dir, rel, "id,amount,day,channel\n", 4, 10 + m, 95);
    }
    add_text(fs, dir, "lake/errs/ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n");
    add_text(fs, dir, "lake/errs/blank.csv", "a,b\n1,2\n\n3,4\n\n\n");
    add_text(fs, dir, "lake/errs/empty.csv", "");
    add_text(fs, dir, "lake/errs/header_only.csv", "a,b,c\n");
    add_text(fs, dir, "lake/errs/latin1.csv", "name,n\nK\xf6ln,1\nM\xfcnchen,2\n");
    add_text(fs, dir, "lake/errs/tolerant.csv", "n\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\nx\n");
    add_random(fs, dir, "lake/big/big.csv", "c1,c2,c3,c4,c5\n", 5, 6000, 97);
    for (int t = 0; t < 8; t++) {
        char rel[64];
        snprintf(rel, sizeof rel, "lake/types/t%d.csv", t);
        add_random(fs, dir, rel, "w,x,y,z\n", 4, 1 + (int)(rnd() % 40), 80);
    }
    /* a gzip file, if gzip is here */
    add_random(fs, dir, "lake/gz/g.csv", "g,h\n", 2, 25, 90);
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "cd %s/lake/gz && gzip -n g.csv 2>/dev/null", dir) >= 0);
    if (system(cmd) == 0) {
        free(fs->v[fs->n - 1]);
        fs->v[fs->n - 1] = strdup("lake/gz/g.csv.gz");
    }
    free(cmd);
}

static void free_files(struct files *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->v[i]);
    fs->n = 0;
}

/* ---- runs --------------------------------------------------------------- */

#define MAX_ARGS 96

struct argv {
    const char *v[MAX_ARGS];
    size_t n;
};

static void push(struct argv *a, const char *s)
{
    cr_assert_lt(a->n, MAX_ARGS - 1);
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void push_all(struct argv *a, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        push(a, list[i]);
}

/* One run over the directory. */
static struct rt_run whole_run(const char *dir, const char *fmt, const char *const *opts)
{
    struct argv a = {{0}, 0};
    push(&a, "--format");
    push(&a, fmt);
    push(&a, "--mergeable");
    push(&a, "--no-ledger");
    push(&a, "--no-cache"); /* runs share a cache: hits would differ */
    push_all(&a, opts);
    push(&a, "lake");
    struct rt_run r;
    rt_run(dir, dir, a.v, &r);
    return r;
}

/* Shard runs into dir/sN.json (or .ndjson); returns how many verdicts. */
static size_t shard_runs(const char *dir, struct files *fs, int nshards, const char *const *opts,
                         const char *const *shard_opts[], bool ndjson_first, char names[][32])
{
    int *shard = calloc(fs->n, sizeof *shard);
    for (size_t i = 0; i < fs->n; i++)
        shard[i] = (int)(rnd() % (uint64_t)nshards);
    size_t made = 0;
    for (int s = 0; s < nshards; s++) {
        size_t idx[64], k = 0;
        for (size_t i = 0; i < fs->n; i++)
            if (shard[i] == s)
                idx[k++] = i;
        if (!k)
            continue; /* an empty shard has nothing to run */
        for (size_t i = k; i > 1; i--) { /* the order a scheduler hands them out */
            size_t j = (size_t)(rnd() % i);
            size_t t = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = t;
        }
        bool nd = ndjson_first && made == 0;
        snprintf(names[made], 32, "s%d.%s", s, nd ? "ndjson" : "json");
        struct argv a = {{0}, 0};
        push(&a, "--format");
        push(&a, nd ? "ndjson" : "json");
        push(&a, "--mergeable");
        push(&a, "--no-ledger");
        push(&a, "-o");
        push(&a, names[made]);
        push_all(&a, opts);
        if (shard_opts) /* other engines: the cache among them (merged without cache facts) */
            push_all(&a, shard_opts[s]);
        else
            push(&a, "--no-cache");
        for (size_t i = 0; i < k; i++)
            push(&a, fs->v[idx[i]]);
        struct rt_run r;
        rt_run(dir, dir, a.v, &r);
        cr_assert_lt(r.status, 2, "shard %d: exit %d: %s", s, r.status, r.err);
        rt_run_free(&r);
        made++;
    }
    free(shard);
    return made;
}

static struct rt_run merge_run(const char *dir, char names[][32], size_t n, const char *const *opts)
{
    struct argv a = {{0}, 0};
    push(&a, "merge");
    push_all(&a, opts);
    size_t order[8];
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rnd() % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        push(&a, names[order[i]]);
    struct rt_run r;
    rt_run(dir, dir, a.v, &r);
    return r;
}

static void drop_cache_facts(json_t *doc)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f)
        json_object_del(f, "cache");
}

static void expect_same_json(const char *label, struct rt_run *whole, struct rt_run *merged,
                             bool ignore_cache)
{
    cr_assert_eq(merged->status, whole->status, "%s: merge exit %d, run exit %d: %s", label,
                 merged->status, whole->status, merged->err);
    json_t *a = rt_parse("whole run", whole->out, whole->out_len);
    json_t *b = rt_parse("merge", merged->out, merged->out_len);
    rt_drop_timing(a);
    rt_drop_timing(b);
    if (ignore_cache) {
        drop_cache_facts(a);
        drop_cache_facts(b);
    }
    if (!json_equal(a, b)) {
        rt_dump("one run", a);
        rt_dump("merged", b);
        cr_assert(false, "%s: the merge differs from one run", label);
    }
    json_decref(a);
    json_decref(b);
}

/* The table format but for the line with the seconds. */
static void strip_last_line(char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '\n')
        s[--n] = '\0';
    char *nl = strrchr(s, '\n');
    if (nl)
        nl[1] = '\0';
}

/* ---- the equality --------------------------------------------------------- */

static void merge_equals_one_run(const char *const *opts, bool group, int rounds)
{
    char *dir = rt_tmpdir();
    struct files fs;
    make_lake(dir, &fs);
    const char *gopts[] = {"--group", NULL};
    struct rt_run whole;
    if (!group) {
        whole = whole_run(dir, "json", opts);
    } else {
        const char *both[16];
        size_t k = 0;
        for (size_t i = 0; opts && opts[i]; i++)
            both[k++] = opts[i];
        both[k++] = "--group";
        both[k] = NULL;
        whole = whole_run(dir, "json", both);
        json_t *doc = rt_parse("whole", whole.out, whole.out_len);
        cr_assert_geq(json_array_size(json_object_get(doc, "tables")), 5, "tables to join");
        json_decref(doc);
    }
    cr_assert_eq(whole.status, 1, "the directory has errors: exit 1 (%s)", whole.err);
    for (int round = 0; round < rounds; round++) {
        char names[4][32];
        size_t n = shard_runs(dir, &fs, 3, opts, NULL, round % 2 == 1, names);
        struct rt_run m = merge_run(dir, names, n, group ? gopts : NULL);
        char label[64];
        snprintf(label, sizeof label, "round %d (%zu verdicts)", round, n);
        expect_same_json(label, &whole, &m, false);
        rt_run_free(&m);
    }
    rt_run_free(&whole);
    free_files(&fs);
    rt_rm_tree(dir);
    free(dir);
}

Test(merge, random_shardings_equal_one_run, .timeout = 300)
{
    rng_state = 1;
    merge_equals_one_run(NULL, false, 6);
}

Test(merge, random_shardings_equal_one_run_grouped, .timeout = 300)
{
    rng_state = 2;
    merge_equals_one_run(NULL, true, 6);
}

Test(merge, tolerant_mode_and_options, .timeout = 300)
{
    rng_state = 3;
    const char *opts[] = {"--threshold", "0.85", "--null", "NA", "--null", "-", "--dayfirst", NULL};
    merge_equals_one_run(opts, false, 3);
    rng_state = 4;
    merge_equals_one_run(opts, true, 2);
}

Test(merge, shards_of_other_engines_give_the_same_columns, .timeout = 300)
{
    char *dir = rt_tmpdir();
    struct files fs;
    make_lake(dir, &fs);
    rng_state = 5;
    struct rt_run whole = whole_run(dir, "json", NULL);
    static const char *const seq[] = {"--threads", "1", "--no-cache", NULL};
    static const char *const small[] = {"--chunk-size", "2K", "--threads", "2", NULL};
    static const char *const cached[] = {"--chunk-size", "4K", NULL}; /* with the cache */
    const char *const *per_shard[] = {seq, small, cached};
    for (int round = 0; round < 3; round++) {
        char names[4][32];
        size_t n = shard_runs(dir, &fs, 3, NULL, per_shard, false, names);
        struct rt_run m = merge_run(dir, names, n, NULL);
        expect_same_json("engines", &whole, &m, true);
        rt_run_free(&m);
    }
    rt_run_free(&whole);
    free_files(&fs);
    rt_rm_tree(dir);
    free(dir);
}

Test(merge, sql_and_table_formats_equal_one_run, .timeout = 300)
{
    char *dir = rt_tmpdir();
    struct files fs;
    make_lake(dir, &fs);
    rng_state = 6;
    char names[4][32];
    size_t n = shard_runs(dir, &fs, 3, NULL, NULL, false, names);
    static const char *const variants[][4] = {
        {"sql", NULL, NULL, NULL},
        {"sql", "--group", NULL, NULL},
        {"sql", "--sql-dialect", "sqlite", "--group"},
        {"table", NULL, NULL, NULL},
        {"table", "--group", NULL, NULL},
    };
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        const char *opts[6] = {"--format", variants[v][0], variants[v][1], variants[v][2],
                               variants[v][3], NULL};
        struct rt_run m = merge_run(dir, names, n, opts);
        struct argv a = {{0}, 0};
        push_all(&a, opts);
        push(&a, "--no-ledger");
        push(&a, "--no-cache");
        push(&a, "lake");
        struct rt_run w;
        rt_run(dir, dir, a.v, &w);
        cr_assert_eq(m.status, w.status, "%s: exit %d vs %d: %s", variants[v][0], m.status,
                     w.status, m.err);
        if (!strcmp(variants[v][0], "table")) {
            strip_last_line(m.out);
            strip_last_line(w.out);
        }
        cr_assert_str_eq(m.out, w.out, "%s %s: the merge's output differs", variants[v][0],
                         variants[v][1] ? variants[v][1] : "");
        rt_run_free(&m);
        rt_run_free(&w);
    }
    free_files(&fs);
    rt_rm_tree(dir);
    free(dir);
}

Test(merge, merged_verdicts_merge_again)
{
    char *dir = rt_tmpdir();
    struct files fs;
    make_lake(dir, &fs);
    rng_state = 7;
    struct rt_run whole = whole_run(dir, "json", NULL);
    char names[4][32];
    size_t n = shard_runs(dir, &fs, 3, NULL, NULL, false, names);
    cr_assert_eq(n, 3);
    /* (s0 + s1) then + s2 */
    struct rt_run r;
    rt_runv(dir, dir, &r, "merge", "-o", "s01.json", names[0], names[1], NULL);
    cr_assert_lt(r.status, 2, "%s", r.err);
    rt_run_free(&r);
    rt_runv(dir, dir, &r, "merge", "-o", "s01.json", "s01.json", NULL); /* in place, alone */
    cr_assert_lt(r.status, 2, "%s", r.err);
    rt_run_free(&r);
    char final_names[2][32];
    snprintf(final_names[0], 32, "s01.json");
    snprintf(final_names[1], 32, "%s", names[2]);
    struct rt_run m = merge_run(dir, final_names, 2, NULL);
    expect_same_json("merge of a merge", &whole, &m, false);
    rt_run_free(&m);
    rt_run_free(&whole);
    free_files(&fs);
    rt_rm_tree(dir);
    free(dir);
}

/* ---- verdicts that are not mergeable ------------------------------------ */

static char *replace_once(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    cr_assert_not_null(p, "no %s in the verdict", from);
    char *r = NULL;
    cr_assert(asprintf(&r, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from)) >= 0);
    return r;
}

static char *read_in(const char *dir, const char *name)
{
    char *p = rt_path(dir, name);
    char *s = rt_read(p, NULL);
    free(p);
    return s;
}

/* merge good.json + bad: exit 2, a message naming bad and saying `what`. */
static void expect_refused(const char *dir, const char *bad_text, const char *what)
{
    rt_write_text(dir, "bad.json", bad_text);
    struct rt_run r;
    rt_runv(dir, dir, &r, "merge", "good.json", "bad.json", NULL);
    cr_assert_eq(r.status, 2, "%s: exit %d (%s)", what, r.status, r.err);
    cr_assert_not_null(strstr(r.err, "bad.json"), "%s: the message names the file: %s", what, r.err);
    cr_assert_not_null(strstr(r.err, what), "%s: message: %s", what, r.err);
    cr_assert_eq(r.out_len, 0, "%s: nothing on stdout", what);
    rt_run_free(&r);
}

Test(merge, verdicts_that_cannot_be_merged)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "one.csv", "id,name,amount\n1,a,2.5\n2,b,3\n");
    rt_write_text(dir, "two.csv", "id,name\n3,c\n");
    struct rt_run r;
    rt_runv(dir, dir, &r, "--format", "json", "--mergeable", "--no-ledger", "-o", "good.json",
            "one.csv", NULL);
    cr_assert_eq(r.status, 0);
    rt_run_free(&r);
    rt_runv(dir, dir, &r, "--format", "json", "--mergeable", "--no-ledger", "-o", "two.json",
            "two.csv", NULL);
    rt_run_free(&r);
    rt_runv(dir, dir, &r, "--format", "json", "--no-ledger", "-o", "plain.json", "two.csv", NULL);
    rt_run_free(&r);
    rt_runv(dir, dir, &r, "--format", "json", "--mergeable", "--no-ledger", "--dayfirst", "-o",
            "dayfirst.json", "two.csv", NULL);
    rt_run_free(&r);
    char *two = read_in(dir, "two.json"), *plain = read_in(dir, "plain.json");
    char *dayfirst = read_in(dir, "dayfirst.json"), *good = read_in(dir, "good.json");
    cr_assert(two && plain && dayfirst && good);

    /* a character of the state changed (still base64): the checksum */
    char *st = strstr(two, "\"state\": \"");
    cr_assert_not_null(st);
    char *bad = strdup(two);
    char *c = bad + (st - two) + 20;
    *c = *c == 'A' ? 'B' : 'A';
    expect_refused(dir, bad, "checksum");
    free(bad);
    /* not base64 */
    bad = strdup(two);
    bad[(st - two) + 12] = '*';
    expect_refused(dir, bad, "not base64");
    free(bad);
    /* a column's type changed by hand */
    bad = replace_once(two, "\"type\": \"integer\"", "\"type\": \"text\"");
    expect_refused(dir, bad, "\"columns\" does not agree");
    free(bad);
    /* the rows changed */
    bad = replace_once(two, "\"rows\": 1,", "\"rows\": 2,");
    expect_refused(dir, bad, "\"rows\" is 2, its state says 1");
    free(bad);
    /* run without --mergeable */
    expect_refused(dir, plain, "--mergeable");
    /* other options */
    expect_refused(dir, dayfirst, "other options");
    /* a path in two shards */
    expect_refused(dir, good, "both");
    /* not JSON, truncated */
    bad = strndup(two, strlen(two) / 2);
    expect_refused(dir, bad, "not JSON");
    free(bad);
    expect_refused(dir, "", "empty");
    expect_refused(dir, "{\"version\": 2, \"files\": []}", "version");
    expect_refused(dir, "[1, 2]", "not a csvinfer verdict");
    /* a file that is not there */
    rt_runv(dir, dir, &r, "merge", "good.json", "nowhere.json", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert_not_null(strstr(r.err, "nowhere.json"));
    rt_run_free(&r);
    /* and the good pair merges */
    rt_runv(dir, dir, &r, "merge", "two.json", "good.json", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_t *doc = rt_parse("merge", r.out, r.out_len);
    json_t *files = json_object_get(doc, "files");
    cr_assert_eq(json_array_size(files), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "path")), "one.csv");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "summary"), "rows")), 3);
    json_decref(doc);
    rt_run_free(&r);
    free(two);
    free(plain);
    free(dayfirst);
    free(good);
    rt_rm_tree(dir);
    free(dir);
}

Test(merge, wrong_column_count_in_the_object)
{
    char *dir = rt_tmpdir();
    rt_write_text(dir, "one.csv", "id,name,amount\n1,a,2.5\n");
    rt_write_text(dir, "two.csv", "id,name\n3,c\n");
    struct rt_run r;
    rt_runv(dir, dir, &r, "--format", "json", "--mergeable", "--no-ledger", "-o", "good.json",
            "one.csv", NULL);
    rt_run_free(&r);
    rt_runv(dir, dir, &r, "--format", "json", "--mergeable", "--no-ledger", "-o", "two.json",
            "two.csv", NULL);
    rt_run_free(&r);
    char *p = rt_path(dir, "two.json");
    char *two = rt_read(p, NULL);
    free(p);
    /* drop the second column object of two.csv */
    char *a = strstr(two, ",\n        {\"name\": \"name\"");
    cr_assert_not_null(a);
    char *b = strstr(a + 1, "}");
    cr_assert_not_null(b);
    char *bad = NULL;
    cr_assert(asprintf(&bad, "%.*s%s", (int)(a - two), two, b + 1) >= 0);
    expect_refused(dir, bad, "the state holds 2 columns, the file object 1");
    free(bad);
    free(two);
    rt_rm_tree(dir);
    free(dir);
}
