/*
 * out_frictionless.c — --format frictionless: a Frictionless Table Schema
 * (https://specs.frictionlessdata.io/table-schema/) per file, as a JSON list
 * of {"path", "schema"}.  Fields carry name, type, format (dates and times in
 * the spec's "fmt:" pattern form, uuid as string/uuid) and
 * constraints.required; missingValues lists the null spellings the file used
 * (the empty string always, as the spec's default).
 */
#include "internal.h"

#include <string.h>

static const char *fl_type(enum csvi_type t)
{
    switch (t) {
    case CSVI_TYPE_BOOLEAN: return "boolean";
    case CSVI_TYPE_INTEGER: return "integer";
    case CSVI_TYPE_DECIMAL:
    case CSVI_TYPE_DOUBLE: return "number";
    case CSVI_TYPE_DATE: return "date";
    case CSVI_TYPE_TIME: return "time";
    case CSVI_TYPE_TIMESTAMP:
    case CSVI_TYPE_TIMESTAMPTZ: return "datetime";
    case CSVI_TYPE_UUID:
    case CSVI_TYPE_TEXT: return "string";
    default: return "any";
    }
}

/* Every upper/lower-case spelling of the ASCII word w as JSON strings, the
 * all-lower one first; a ", " before each but the very first (first). */
static void put_every_case(FILE *out, const char *w, bool first)
{
    size_t n = strlen(w);
    for (unsigned mask = 0; mask < 1u << n; mask++) {
        fputs(first && mask == 0 ? "\"" : ", \"", out);
        for (size_t k = 0; k < n; k++)
            fputc(mask >> k & 1u ? w[k] - 'a' + 'A' : w[k], out);
        fputc('"', out);
    }
}

static void put_field(FILE *out, const struct csvi_column *c)
{
    fputs("{\"name\": ", out);
    json_put_string(out, c->name, strlen(c->name));
    fprintf(out, ", \"type\": \"%s\"", fl_type(c->type));
    switch (c->type) {
    case CSVI_TYPE_UUID: fputs(", \"format\": \"uuid\"", out); break;
    case CSVI_TYPE_DATE:
    case CSVI_TYPE_TIME:
    case CSVI_TYPE_TIMESTAMP:
    case CSVI_TYPE_TIMESTAMPTZ: {
        char fmt[64];
        snprintf(fmt, sizeof fmt, "fmt:%s", c->format);
        fputs(", \"format\": ", out);
        json_put_string(out, fmt, strlen(fmt));
        break;
    }
    default: fputs(", \"format\": \"default\"", out); break;
    }
    if (c->type == CSVI_TYPE_BOOLEAN) { /* the spellings csvinfer accepts, in every case */
        static const char *const yes[] = {"true", "t", "yes", "y"}, *const no[] = {"false", "f", "no", "n"};
        fputs(", \"trueValues\": [", out);
        for (size_t i = 0; i < 4; i++)
            put_every_case(out, yes[i], i == 0);
        fputs("], \"falseValues\": [", out);
        for (size_t i = 0; i < 4; i++)
            put_every_case(out, no[i], i == 0);
        fputc(']', out);
    }
    fprintf(out, ", \"constraints\": {\"required\": %s}}", c->nullable ? "false" : "true");
}

enum csvi_status csvi_write_frictionless(const csvi_engine *e, FILE *out)
{
    size_t n = csvi_engine_file_count(e);
    fputs("[", out);
    for (size_t i = 0; i < n; i++) {
        const struct csvi_file_result *r = csvi_engine_file(e, i);
        fputs(i ? ",\n " : "\n ", out);
        fputs("{\"path\": ", out);
        json_put_string(out, r->path, strlen(r->path));
        fputs(",\n  \"schema\": {\"fields\": [", out);
        unsigned kinds = 0;
        for (size_t k = 0; k < r->n_columns; k++) {
            fputs(k ? ",\n    " : "\n    ", out);
            put_field(out, &r->columns[k]);
            kinds |= r->columns[k].null_kinds;
        }
        fputs(r->n_columns ? "\n   ],\n   \"missingValues\": [\"\"" : "],\n   \"missingValues\": [\"\"",
              out);
        for (int b = 2; b <= 28; b++) {
            const char *t = (kinds >> b) & 1u ? csvi_engine_null_token(e, (size_t)(b - 2)) : NULL;
            if (t) {
                fputs(", ", out);
                json_put_string(out, t, strlen(t));
            }
        }
        fputs("]}}", out);
    }
    fputs(n ? "\n]\n" : "]\n", out);
    if (fflush(out) != 0 || ferror(out))
        return CSVI_ERR_OUTPUT;
    return CSVI_OK;
}
