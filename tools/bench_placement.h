/* The user-kernel rows of `weft bench placement` (bench_placement_kernels.c). */
#ifndef WEFT_BENCH_PLACEMENT_H
#define WEFT_BENCH_PLACEMENT_H

#include <weft.h>

#include <math.h>

typedef enum bench_kernel { BENCH_NBODY = 1, BENCH_STENCIL } bench_kernel;

/* All pairs: 10^4 bodies are 10^8 interactions, seconds on two cores. */
enum { BENCH_NBODY_MAX = 10000 };

typedef struct bench_kernel_state {
    bench_kernel kernel;
    size_t n; /* bodies, or stencil points */
    weft_array *in, *out;
    weft_program *program;
} bench_kernel_state;

/* Whether the row has a size n (n-body stops at BENCH_NBODY_MAX bodies). */
int bench_kernel_fits(bench_kernel kernel, size_t n);
weft_status bench_kernel_make(weft_ctx *ctx, bench_kernel kernel, size_t n, bench_kernel_state *s);
/* One synchronous launch, with its host_fn. */
weft_status bench_kernel_run(const bench_kernel_state *s);
void bench_kernel_release(bench_kernel_state *s);

#endif
