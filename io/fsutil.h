/*
 * fsutil.h — two small file-system helpers the cache (cache/) and the
 * ledger (engine/ledger.c) share: write a whole buffer, make directories.
 * Errors are -errno values, as everywhere in io/.
 */
#ifndef CSVI_IO_FSUTIL_H
#define CSVI_IO_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* write(2) all n bytes of p (retrying short writes and EINTR): 0 or -errno. */
int fs_write_all(int fd, const void *p, size_t n);

/* mkdir -p with mode 0700: every directory of path, and path itself unless
 * parents_only (path names a file then).  0 or -errno. */
int fs_mkdir_p(const char *path, bool parents_only);

#endif
