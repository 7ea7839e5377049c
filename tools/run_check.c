/* weft run --check: compares one run's buffer with another's (or with a golden
 * file) and says what it compared, so an agreement is only ever reported
 * about elements that were looked at. */
#include "run_check.h"

#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static double element(weft_dtype dtype, const void *p, size_t i)
{
    switch (dtype) {
    case WEFT_F32:
        return ((const float *)p)[i];
    case WEFT_F64:
        return ((const double *)p)[i];
    case WEFT_I32:
        return ((const int32_t *)p)[i];
    case WEFT_U32:
        return ((const uint32_t *)p)[i];
    case WEFT_I64:
        return (double)((const int64_t *)p)[i];
    case WEFT_U64:
        return (double)((const uint64_t *)p)[i];
    default:
        return ((const uint8_t *)p)[i];
    }
}

void run_check_compare(weft_dtype dtype, const void *got, const void *want, size_t n, double rtol,
                       double atol, run_check_diff *d)
{
    memset(d, 0, sizeof *d);
    d->first = -1;
    int floating = dtype == WEFT_F32 || dtype == WEFT_F64;
    size_t elem = weft_dtype_size(dtype);
    for (size_t i = 0; i < n; i++) {
        double x = element(dtype, got, i), y = element(dtype, want, i);
        double rel;
        int same;
        if (floating) {
            if (isnan(x) || isnan(y)) {
                same = isnan(x) && isnan(y);
                rel = same ? 0 : INFINITY;
            } else if (isinf(x) || isinf(y)) { /* no tolerance is wide enough for an infinity */
                same = x == y;
                rel = same ? 0 : INFINITY;
            } else {
                double diff = fabs(x - y);
                rel = diff == 0 ? 0 : y != 0 ? diff / fabs(y) : INFINITY;
                same = diff <= atol + rtol * fabs(y);
            }
        } else { /* integers compare bitwise: a double would round 64-bit values */
            same = memcmp((const char *)got + i * elem, (const char *)want + i * elem, elem) == 0;
            rel = same ? 0 : y != 0 ? fabs(x - y) / fabs(y) : INFINITY;
        }
        if (rel > d->max_rel) d->max_rel = rel;
        if (!same) {
            if (d->first < 0) {
                d->first = (long)i;
                d->got = x;
                d->want = y;
            }
            d->differ++;
        }
    }
}

static void json_number(double v)
{
    if (isfinite(v))
        printf("%.9g", v);
    else
        printf("null");
}

void run_check_print(int json, int first_entry, const char *run, const char *against, size_t arg,
                     weft_dtype dtype, size_t n, const run_check_diff *d)
{
    const char *dt = weft_dtype_name(dtype);
    int floating = dtype == WEFT_F32 || dtype == WEFT_F64;
    if (json) {
        printf("%s{\"run\": ", first_entry ? "" : ", ");
        cli_json_string(run);
        printf(", \"against\": ");
        cli_json_string(against);
        printf(", \"argument\": %zu, \"dtype\": \"%s\", \"elements\": %zu, \"max_rel_diff\": ", arg,
               dt, n);
        json_number(d->max_rel);
        printf(", \"differ\": %zu, \"first\": %ld, \"agree\": %s}", d->differ, d->first,
               d->differ ? "false" : "true");
        return;
    }
    printf("%s vs %s: argument %zu, %zu %s elements, ", run, against, arg, n, dt);
    if (floating)
        printf("max rel diff %.3g, ", d->max_rel);
    else
        printf("compared bitwise, ");
    if (!d->differ) {
        printf("agree\n");
        return;
    }
    printf("%zu differ (first at element %ld: %.9g, expected %.9g), DIFFER\n", d->differ, d->first,
           d->got, d->want);
}
