/*
 * fsutil.c — whole writes and mkdir -p (see fsutil.h).
 */
#include "fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int fs_mkdir_p(const char *path, bool parents_only)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    int rc = 0;
    for (char *s = p + 1; *s && rc == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -errno;
        *s = '/';
    }
    if (rc == 0 && !parents_only && mkdir(p, 0700) != 0 && errno != EEXIST)
        rc = -errno;
    free(p);
    return rc;
}
