/*
 * pipeline_append.c — --trust-append (docs/cache.md): find the whole-file
 * record of a file that only grew since the ledger's last complete run
 * (same device and inode, larger, its old tail unchanged, same chunk size,
 * not compressed), so that the splitter reads it from its old last slice on.
 */
#include "pipeline_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Is the file's tail as it was: its old last app->tail_len bytes before old_size? */
bool pipe_tail_unchanged(int fd, const struct resume *rs)
{
    uint8_t *t = malloc(rs->app.tail_len);
    bool same = t && pread(fd, t, rs->app.tail_len, (off_t)(rs->old_size - rs->app.tail_len)) ==
                         (ssize_t)rs->app.tail_len;
    if (same) {
        XXH128_hash_t h = XXH3_128bits(t, rs->app.tail_len);
        same = h.low64 == rs->app.tail.low64 && h.high64 == rs->app.tail.high64;
    }
    free(t);
    return same;
}

/* --trust-append: the record of this file (same device and inode) as the
 * ledger's last complete run saw it, if the file only grew since: 1 and rs
 * filled (its plan in f->plan, bytes/compression/digest in f->res reset),
 * 0 if there is none that fits, -ENOMEM. */
int pipe_resume_lookup(struct pipeline *p, struct pipe_file *f, struct resume *rs)
{
    memset(rs, 0, sizeof *rs);
    uint64_t old_size;
    int64_t mt;
    if (!run_previous_identity(p->eng, f->res->path, &old_size, &mt) || old_size >= f->size)
        return 0;
    struct cache_key key = pcache_trust_key(&p->pc, (uint64_t)f->st0.st_dev,
                                            (uint64_t)f->st0.st_ino, old_size,
                                            mt / 1000000000, mt % 1000000000);
    uint8_t *val;
    size_t vlen;
    if (cache_get(p->pc.cache, key, &val, &vlen) != 1)
        return 0;
    size_t nu;
    f->plan.cfg = p->cfg;
    int d = pcache_trust_decode(val, vlen, &f->plan, f->res, &rs->units, &rs->lines, &nu, &rs->app);
    free(val);
    if (d)
        return d == -ENOMEM ? d : 0;
    f->res->bytes = f->size; /* the record's are the old file's */
    f->res->digest[0] = '\0';
    bool fits = !f->res->compression && rs->app.set &&
                rs->app.chunk == p->chunk && rs->app.units <= nu && rs->app.off <= old_size &&
                rs->app.tail_len <= old_size;
    for (size_t u = fits ? rs->app.units : 0; u < nu; u++) /* the old last slice's: not used */
        slice_verdict_free(&rs->units[u]);
    rs->old_size = old_size;
    if (!fits) {
        rs->app.units = 0;
        free(rs->units);
        free(rs->lines);
        rs->units = NULL;
        rs->lines = NULL;
        file_plan_free(&f->plan);
        f->res->dialect.bom = false;
        f->res->has_dialect = false;
        return 0;
    }
    return 1;
}

void pipe_resume_free(struct resume *rs)
{
    for (size_t u = 0; u < rs->app.units; u++) /* not dispatched */
        slice_verdict_free(&rs->units[u]);
    free(rs->units);
    free(rs->lines);
}
