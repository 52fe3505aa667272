/*
 * walk.c — recursive directory walk in sorted order (see walk.h).
 *
 * Each directory's names are read whole, sorted with strcmp, and visited in
 * that order; subdirectories are entered where they sort.  The (device,
 * inode) pairs of the directories on the current path are kept, so a symlink
 * pointing back up is reported as a loop instead of being followed forever.
 *
 * Globs ignore case (FNM_CASEFOLD): `*.csv` matches the ORDERS.CSV of a
 * Windows or SAP export.
 * Hidden entries (names starting with '.') are skipped as a shell's `*`
 * skips them: include globs match with FNM_PERIOD (`*.csv` does not match
 * macOS's `._data.csv` AppleDouble files; `.*.csv` does), and hidden
 * directories (.git, .Trash, .snapshot) are not entered.  A path named on
 * the command line is read or walked whatever its name.
 */
#define _GNU_SOURCE
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ancestor {
    dev_t dev;
    ino_t ino;
};

struct walk {
    const struct walk_globs *g;
    walk_fn fn;
    void *ctx;
    struct ancestor *stack;
    size_t depth, cap;
    bool stop;
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

bool walk_match(const struct walk_globs *g, const char *path)
{
    const char *base = base_name(path);
    for (size_t i = 0; i < g->n_exclude; i++)
        if (fnmatch(g->exclude[i], base, FNM_CASEFOLD) == 0 ||
            fnmatch(g->exclude[i], path, FNM_CASEFOLD) == 0)
            return false;
    if (g->n_include == 0) /* (as a "*" would) */
        return base[0] != '.';
    for (size_t i = 0; i < g->n_include; i++)
        if (fnmatch(g->include[i], base, FNM_PERIOD | FNM_CASEFOLD) == 0)
            return true;
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_into(struct walk *w, const char *dir, const struct stat *st);

static int visit(struct walk *w, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) { /* dangling symlink, ELOOP, EACCES on a parent ... */
        w->stop = !w->fn(w->ctx, path, WALK_ERROR, -errno);
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return base_name(path)[0] == '.' ? 0 : walk_into(w, path, &st);
    if (!walk_match(w->g, path))
        return 0;
    if (!S_ISREG(st.st_mode))
        w->stop = !w->fn(w->ctx, path, WALK_NOT_REGULAR, 0);
    else
        w->stop = !w->fn(w->ctx, path, WALK_FILE, 0);
    return 0;
}

static int walk_into(struct walk *w, const char *dir, const struct stat *st)
{
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino) {
            w->stop = !w->fn(w->ctx, dir, WALK_LOOP, -ELOOP);
            return 0;
        }
    DIR *d = opendir(dir);
    if (!d) {
        w->stop = !w->fn(w->ctx, dir, WALK_ERROR, -errno);
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0) {
        if (n) /* (qsort wants a non-null array even for none) */
            qsort(names, n, sizeof *names, cmp_names);
        if (w->depth == w->cap) {
            size_t ncap = w->cap ? w->cap * 2 : 16;
            struct ancestor *ns = realloc(w->stack, ncap * sizeof *ns);
            if (!ns)
                rc = -ENOMEM;
            else {
                w->stack = ns;
                w->cap = ncap;
            }
        }
    }
    if (rc == 0) {
        w->stack[w->depth++] = (struct ancestor){st->st_dev, st->st_ino};
        size_t dl = strlen(dir);
        bool slash = dl > 0 && dir[dl - 1] == '/';
        for (size_t i = 0; i < n && !w->stop && rc == 0; i++) {
            char *path;
            if (asprintf(&path, "%s%s%s", dir, slash ? "" : "/", names[i]) < 0) {
                rc = -ENOMEM;
                break;
            }
            rc = visit(w, path);
            free(path);
        }
        w->depth--;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int walk_dir(const char *root, const struct walk_globs *g, walk_fn fn, void *ctx)
{
    struct walk w = {.g = g, .fn = fn, .ctx = ctx};
    struct stat st;
    int rc;
    if (stat(root, &st) != 0) {
        fn(ctx, root, WALK_ERROR, -errno);
        return 0;
    }
    rc = walk_into(&w, root, &st);
    free(w.stack);
    return rc;
}
