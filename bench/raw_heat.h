/* The heat stencil with plain OpenCL, the baseline weft_launch is measured
 * against: the same kernel source built as weft builds it (no contraction into
 * fma), on the same device, one clEnqueueNDRangeKernel per step with the two
 * buffers swapped, one clFinish at the end. */
#ifndef WEFT_BENCH_RAW_HEAT_H
#define WEFT_BENCH_RAW_HEAT_H

#include <stddef.h>

typedef struct raw_heat raw_heat;

/* Kernel `name` of `source` on OpenCL device `index` (weft's cl:INDEX), with
 * arguments (const double *u, double *v, int n, double r); NULL on failure. */
raw_heat *raw_heat_create(unsigned index, const char *source, const char *name);
void raw_heat_free(raw_heat *raw);
/* Where the raw run's two buffers live: allocated by the platform, as a user
 * without weft writes it, or in host memory with huge pages wrapped with
 * CL_MEM_USE_HOST_PTR, as weft's zero-copy arrays are (src/array.c): a 16 MB
 * working set in 4 KiB pages costs more TLB misses than the kernel's own work. */
typedef enum { RAW_PLATFORM_BUFFERS, RAW_HUGE_HOST_BUFFERS } raw_heat_memory;

/* Seconds for `steps` steps from u0 of n doubles, the result read into out;
 * local == 0 lets the device choose the work-group size. < 0 on failure. */
double raw_heat_run(raw_heat *raw, raw_heat_memory memory, const double *u0, double *out, int n,
                    int steps, double r, size_t local);

#endif
