/*
 * plan.c — what a file's slices share, fixed from its first bytes before any
 * slice is inferred: the dialect (sniffed or given), whether the first record
 * is a header, the number of columns and their names.
 *
 * Names: the header's values trimmed; a missing one becomes column_N (its
 * 1-based position), a repeated one name_2, name_3 ...
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


struct first_record {
    const struct file_plan *plan;
    char **names;
    size_t ncols;
    bool found, nomem;
    uint8_t *scratch;
};

static char *make_name(const uint8_t *v, size_t len, size_t pos)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    char tmp[32];
    if (len == 0) {
        len = (size_t)snprintf(tmp, sizeof tmp, "column_%zu", pos + 1);
        v = (const uint8_t *)tmp;
    }
    char *s = malloc(len + 24); /* room for a _N suffix */
    if (s) {
        memcpy(s, v, len);
        s[len] = '\0';
    }
    return s;
}

static bool first_record_cb(void *ctx, const uint8_t *buf, const struct scan_field *f,
                            size_t nf, uint64_t line)
{
    (void)line;
    struct first_record *fr = ctx;
    if (nf == 1 && f[0].start == f[0].end)
        return true; /* blank line */
    fr->found = true;
    fr->ncols = nf;
    fr->names = calloc(nf, sizeof *fr->names);
    if (!fr->names) {
        fr->nomem = true;
        return false;
    }
    for (size_t i = 0; i < nf; i++) {
        size_t len = 0;
        const uint8_t *v = NULL;
        if (fr->plan->header) {
            bool quoted;
            v = field_content(buf, &f[i], fr->plan->quote, fr->scratch, &len, &quoted);
        }
        char *s = make_name(v, len, i);
        if (!s) {
            fr->nomem = true;
            return false;
        }
        size_t base = strlen(s);
        for (unsigned k = 2;; k++) { /* distinct from every name before it */
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(fr->names[j], s) == 0;
            if (!dup)
                break;
            snprintf(s + base, 24, "_%u", k);
        }
        fr->names[i] = s;
    }
    return false;
}

int file_plan_init(struct file_plan *plan, const struct engine_cfg *cfg, const uint8_t *buf,
                   size_t len, bool eof, struct csvi_file_result *res)
{
    file_plan_free(plan);
    memset(plan, 0, sizeof *plan);
    plan->cfg = cfg;
    struct sniff_result sn;
    size_t sample = len < CSVI_SNIFF_BYTES ? len : CSVI_SNIFF_BYTES;
    if (sniff_dialect(buf, sample, eof && sample == len, &cfg->opt, &cfg->ccfg, &sn))
        return -ENOMEM;
    plan->delim = sn.delim;
    plan->quote = sn.quote;
    plan->header = sn.header;
    res->has_dialect = true;
    res->dialect.delimiter = (char)sn.delim;
    res->dialect.quote = (char)sn.quote;
    res->dialect.header = sn.header;
    res->dialect.crlf = sn.crlf;

    struct first_record fr = {.plan = plan};
    struct scanner sc;
    if (scanner_init(&sc, plan->delim, plan->quote))
        return -ENOMEM;
    fr.scratch = malloc(len + 1);
    struct scan_result r;
    int rc = fr.scratch ? scan_buffer(&sc, buf, len, eof, 1, first_record_cb, &fr, &r) : -ENOMEM;
    scanner_free(&sc);
    free(fr.scratch);
    if (rc == 0 && fr.nomem)
        rc = -ENOMEM;
    plan->names = fr.names;
    plan->ncols = fr.names ? fr.ncols : 0;
    if (rc)
        return rc;
    return (!fr.found && !eof) ? 1 : 0;
}

void file_plan_free(struct file_plan *plan)
{
    if (plan->names)
        for (size_t i = 0; i < plan->ncols; i++)
            free(plan->names[i]);
    free(plan->names);
    plan->names = NULL;
    plan->ncols = 0;
}
