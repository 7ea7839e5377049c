/* Parsing of `weft run` argument specs and ranges: strict, with a message
 * that says what was expected (the fuzz target tests/fuzz/fuzz_argspec.c feeds
 * it arbitrary text). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_dtype(const char **p, weft_dtype *dtype)
{
    for (int t = 0; t < WEFT_DTYPE_COUNT; t++) {
        const char *name = weft_dtype_name((weft_dtype)t);
        size_t len = strlen(name);
        if (strncmp(*p, name, len) == 0) {
            *dtype = (weft_dtype)t;
            *p += len;
            return 1;
        }
    }
    return 0;
}

static int parse_size(const char *text, const char **end, size_t *value)
{
    if (*text < '0' || *text > '9') return 0;
    errno = 0;
    char *stop;
    unsigned long long v = strtoull(text, &stop, 10);
    if (errno == ERANGE || v > ((size_t)1 << 40)) return 0;
    *value = (size_t)v;
    *end = stop;
    return 1;
}

int cli_parse_range(const char *text, size_t size[3], unsigned *dims)
{
    *dims = 0;
    const char *p = text;
    while (*dims < 3) {
        const char *end;
        if (!parse_size(p, &end, &size[*dims]) || size[*dims] == 0) return 0;
        (*dims)++;
        if (*end == '\0') return 1;
        if (*end != ',') return 0;
        p = end + 1;
    }
    return 0;
}

#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(err, errcap, __VA_ARGS__);                                                        \
        return 0;                                                                                  \
    } while (0)

int cli_parse_argspec(const char *text, cli_argspec *spec, char *err, size_t errcap)
{
    memset(spec, 0, sizeof *spec);
    spec->kind = WEFT_ARG_SLICE;
    const char *p = text;
    if (strncmp(p, "local:", 6) == 0) {
        const char *end;
        if (!parse_size(p + 6, &end, &spec->local_bytes) || *end || spec->local_bytes == 0)
            BAD("\"%s\": local memory needs a byte count, as in local:4096", text);
        spec->kind = WEFT_ARG_LOCAL;
        return 1;
    }
    if (strncmp(p, "slice:", 6) == 0) {
        p += 6;
    } else if (strncmp(p, "whole:", 6) == 0) {
        spec->kind = WEFT_ARG_WHOLE;
        p += 6;
    } else if (strncmp(p, "halo:", 5) == 0) {
        const char *end;
        if (!parse_size(p + 5, &end, &spec->halo) || *end != ':')
            BAD("\"%s\": a halo needs a width, as in halo:1:f32[*]", text);
        spec->kind = WEFT_ARG_HALO;
        p = end + 1;
    }
    if (!parse_dtype(&p, &spec->dtype))
        BAD("\"%s\": unknown dtype (f32, f64, i32, u32, i64, u64, u8)", text);
    if (*p == ':') { /* a scalar */
        if (spec->kind != WEFT_ARG_SLICE || p == text)
            BAD("\"%s\": a scalar takes no slice/whole/halo prefix", text);
        char *end;
        errno = 0;
        spec->constant = strtod(p + 1, &end);
        if (end == p + 1 || *end || errno == ERANGE)
            BAD("\"%s\": expected a number after the dtype, as in f32:1.5", text);
        spec->kind = WEFT_ARG_SCALAR;
        return 1;
    }
    if (*p != '[') BAD("\"%s\": expected [COUNT] or :VALUE after the dtype", text);
    p++;
    if (*p == '*') {
        spec->count_is_range = 1;
        p++;
    } else {
        const char *end;
        if (!parse_size(p, &end, &spec->count))
            BAD("\"%s\": expected an element count in [ ]", text);
        p = end;
    }
    if (*p != ']') BAD("\"%s\": expected ] after the count", text);
    p++;
    spec->fill = FILL_ZEROS;
    if (*p == '\0') return 1;
    if (*p != '=') BAD("\"%s\": expected =FILL after the buffer", text);
    p++;
    if (strcmp(p, "zeros") == 0) {
        spec->fill = FILL_ZEROS;
    } else if (strcmp(p, "random") == 0) {
        spec->fill = FILL_RANDOM;
    } else if (strcmp(p, "ramp") == 0) {
        spec->fill = FILL_RAMP;
    } else if (strncmp(p, "file:", 5) == 0) {
        if (!p[5] || strlen(p + 5) >= sizeof spec->path) BAD("\"%s\": file: needs a path", text);
        spec->fill = FILL_FILE;
        strcpy(spec->path, p + 5);
    } else {
        char *end;
        errno = 0;
        spec->constant = strtod(p, &end);
        if (end == p || *end || errno == ERANGE)
            BAD("\"%s\": fill must be zeros, random, ramp, a number or file:PATH", text);
        spec->fill = FILL_CONST;
    }
    return 1;
}
