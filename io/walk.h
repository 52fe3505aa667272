/*
 * walk.h — recursive directory walk in sorted order.
 *
 * io/ knows nothing of the engine: the walk hands each entry (a file to read,
 * a skipped non-regular file, or an error) to a callback.  Errors are -errno.
 */
#ifndef CSVI_WALK_H
#define CSVI_WALK_H

#include <stdbool.h>
#include <stddef.h>

enum walk_kind {
    WALK_FILE,        /* a regular file matching the globs */
    WALK_NOT_REGULAR, /* FIFO, device, socket: skipped */
    WALK_ERROR,       /* could not stat / open / read; err = -errno */
    WALK_LOOP         /* a symlink leads back to a directory being walked */
};

/* Return false to stop the walk. */
typedef bool (*walk_fn)(void *ctx, const char *path, enum walk_kind kind, int err);

struct walk_globs {
    const char *const *include; /* basename must match one (fnmatch, ignoring case;
                                   FNM_PERIOD: a leading '.' only by a pattern's own '.') */
    size_t n_include;
    const char *const *exclude; /* basename or path matching one (ignoring case) is skipped */
    size_t n_exclude;
};

/* Walk directory root: entries sorted by name (bytewise), directories
 * entered where they sort, hidden ones (".name") skipped.  Symlinks are
 * followed; a loop is reported, not followed.  Returns 0, or -ENOMEM. */
int walk_dir(const char *root, const struct walk_globs *g, walk_fn fn, void *ctx);

/* Does name pass the include/exclude globs? */
bool walk_match(const struct walk_globs *g, const char *path);

#endif
