/* weft run --check: element-wise comparison of two runs' buffers. */
#ifndef WEFT_RUN_CHECK_H
#define WEFT_RUN_CHECK_H

#include <weft.h>

#include <stddef.h>

typedef struct run_check_diff {
    size_t differ;    /* elements outside the tolerance (integers: not bitwise equal) */
    long first;       /* the first of them, or -1 */
    double got, want; /* its values */
    double max_rel;   /* largest |got - want| / |want| (infinite where want is 0) */
} run_check_diff;

/* Floats agree within atol + rtol * |want| (NaN agrees with NaN only). */
void run_check_compare(weft_dtype dtype, const void *got, const void *want, size_t n, double rtol,
                       double atol, run_check_diff *d);
/* One line (or one JSON object): "RUN vs AGAINST: argument K, N DTYPE elements, ...". */
void run_check_print(int json, int first_entry, const char *run, const char *against, size_t arg,
                     weft_dtype dtype, size_t n, const run_check_diff *d);

#endif
