/* A hand-written raw OpenCL baseline: what a competent user writes without
 * weft (one context and queue, zero-copy buffers on a CPU device, contiguous
 * chunks with 16-wide loads), so weft's overhead is measured against it. */
#ifndef WEFT_BENCH_RAW_OPENCL_H
#define WEFT_BENCH_RAW_OPENCL_H

#include <stddef.h>

typedef struct raw_cl raw_cl;

/* NULL when there is no OpenCL device. */
raw_cl *raw_cl_create(void);
void raw_cl_free(raw_cl *raw);
/* Binds host arrays (zero-copy) for the following calls; 0 on failure. */
int raw_cl_bind(raw_cl *raw, int f64, void *x, void *y, size_t n);
void raw_cl_unbind(raw_cl *raw);
/* One launch + finish of y = a*x + y over the bound arrays. */
int raw_cl_axpy(raw_cl *raw, double a);
/* `count` launches of y = a*x + y queued on the one queue, then one finish. */
int raw_cl_axpy_chain(raw_cl *raw, double a, int count);
/* The same with the kernel written the ordinary way (one element per
 * work-item, f32 only): y[i] = a * x[i] + y[i]. */
int raw_cl_axpy_each_chain(raw_cl *raw, float a, int count);
/* One launch + finish of a chunked sum of x; the host adds the chunk sums. */
int raw_cl_sum(raw_cl *raw, double *result);
/* One launch + finish of a chunked dot product of x and y. */
int raw_cl_dot(raw_cl *raw, double *result);

/* CLBlast on the same queue and buffers, where weft-bench was built with it. */
int raw_cl_has_clblast(void);
int raw_cl_clblast_axpy(raw_cl *raw, double a);
int raw_cl_clblast_dot(raw_cl *raw, double *result);

#endif
