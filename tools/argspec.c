/* Parsing of `weft run` argument specs and ranges: strict, with a message
 * that says what was expected (the fuzz target tests/fuzz/fuzz_argspec.c feeds
 * it arbitrary text). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
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

/* The range of an integer dtype, as doubles (exact: powers of two). */
static void integer_bounds(weft_dtype dtype, double *lo, double *hi_excl)
{
    switch (dtype) {
    case WEFT_I32:
        *lo = -2147483648.0, *hi_excl = 2147483648.0;
        break;
    case WEFT_U32:
        *lo = 0, *hi_excl = 4294967296.0;
        break;
    case WEFT_I64:
        *lo = -9223372036854775808.0, *hi_excl = 9223372036854775808.0;
        break;
    case WEFT_U64:
        *lo = 0, *hi_excl = 18446744073709551616.0;
        break;
    default: /* u8 */
        *lo = 0, *hi_excl = 256.0;
        break;
    }
}

static void store_integer(weft_dtype dtype, int negative, unsigned long long magnitude,
                          weft_value *out)
{
    long long v = negative ? (long long)(0 - magnitude) : (long long)magnitude;
    switch (dtype) {
    case WEFT_I32:
        out->i32 = (int32_t)v;
        break;
    case WEFT_U32:
        out->u32 = (uint32_t)magnitude;
        break;
    case WEFT_I64:
        out->i64 = v;
        break;
    case WEFT_U64:
        out->u64 = magnitude;
        break;
    default:
        out->u8 = (uint8_t)magnitude;
        break;
    }
}

/* An integer literal, exactly: [-]digits within the dtype's range. */
static int parse_integer_literal(const char *text, weft_dtype dtype, weft_value *out, int *fits)
{
    const char *digits = text + (*text == '-' || *text == '+');
    if (*digits < '0' || *digits > '9') return 0;
    char *end;
    errno = 0;
    unsigned long long magnitude = strtoull(digits, &end, 10);
    if (*end) return 0;
    int negative = *text == '-' && magnitude != 0;
    double lo, hi;
    integer_bounds(dtype, &lo, &hi);
    /* hi - 1 and -lo are exact in unsigned long long for every dtype. */
    unsigned long long max_up = (unsigned long long)(hi / 2) * 2 - 1;
    unsigned long long max_down = (unsigned long long)-lo;
    *fits = errno != ERANGE && (negative ? magnitude <= max_down : magnitude <= max_up);
    if (*fits) store_integer(dtype, negative, magnitude, out);
    return 1;
}

/* text as a value of dtype; 0 with a reason when it is not a number of that
 * dtype or does not fit it (no silent wrap, saturation or truncation). */
static int parse_value(const char *text, weft_dtype dtype, weft_value *out, char *why, size_t cap)
{
    int fits = 0;
    if (dtype != WEFT_F32 && dtype != WEFT_F64 && parse_integer_literal(text, dtype, out, &fits)) {
        if (!fits) snprintf(why, cap, "%s is out of the range of %s", text, weft_dtype_name(dtype));
        return fits;
    }
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end) {
        snprintf(why, cap, "expected a number, not \"%s\"", text);
        return 0;
    }
    if (errno == ERANGE && isfinite(v) && v != 0) errno = 0; /* subnormal: kept */
    if (errno == ERANGE || (dtype == WEFT_F32 && isfinite(v) && isinf((float)v))) {
        snprintf(why, cap, "%s is out of the range of %s", text, weft_dtype_name(dtype));
        return 0;
    }
    if (dtype == WEFT_F32) {
        out->f32 = (float)v;
        return 1;
    }
    if (dtype == WEFT_F64) {
        out->f64 = v;
        return 1;
    }
    double lo, hi;
    integer_bounds(dtype, &lo, &hi);
    if (!isfinite(v) || v != floor(v)) {
        snprintf(why, cap, "%s takes an integer, not %s", weft_dtype_name(dtype), text);
        return 0;
    }
    if (v < lo || v >= hi) {
        snprintf(why, cap, "%s is out of the range of %s", text, weft_dtype_name(dtype));
        return 0;
    }
    store_integer(dtype, v < 0, (unsigned long long)fabs(v), out);
    return 1;
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

int cli_range_items(const size_t size[3], unsigned dims, size_t *items)
{
    *items = 1;
    for (unsigned d = 0; d < dims; d++) {
        if (size[d] != 0 && *items > SIZE_MAX / size[d]) return 0;
        *items *= size[d];
    }
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
    const char *dtype_at = p;
    if (!parse_dtype(&p, &spec->dtype))
        BAD("\"%s\": unknown dtype (f32, f64, i32, u32, i64, u64, u8)", text);
    if (*p == ':') { /* a scalar */
        if (dtype_at != text) BAD("\"%s\": a scalar takes no slice/whole/halo prefix", text);
        char why[160];
        if (!parse_value(p + 1, spec->dtype, &spec->value, why, sizeof why))
            BAD("\"%s\": %s (a scalar is DTYPE:VALUE, as in f32:1.5)", text, why);
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
        char why[160];
        if (!parse_value(p, spec->dtype, &spec->value, why, sizeof why))
            BAD("\"%s\": fill must be zeros, random, ramp, a number or file:PATH: %s", text, why);
        spec->fill = FILL_CONST;
    }
    return 1;
}
