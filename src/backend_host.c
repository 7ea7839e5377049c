/* The host backend: every primitive in portable C on the thread pool. This is
 * the reference the OpenCL kernels must match bit for bit, so the arithmetic
 * here is written out in the same order as in the kernels/ sources (the library is
 * built with -ffp-contract=off: no silent fma). */
#include "backend.h"
#include "ctx.h"
#include "error.h"
#include "ops/expr_op.h"

#include <string.h>

enum { LANES = 16 }; /* the vector width the block sum is defined over */

static weft_status host_buffer_create(weft_device *dev, size_t bytes, void *host, void **buffer)
{
    (void)dev;
    (void)bytes;
    *buffer = host; /* the host storage is the host device's buffer */
    return WEFT_OK;
}

static void host_buffer_release(weft_device *dev, void *buffer)
{
    (void)dev;
    (void)buffer;
}

static weft_status host_copy(weft_device *dev, void *buffer, size_t bytes, const void *src,
                             int zero_copy)
{
    (void)dev;
    (void)zero_copy;
    if (buffer != src) memmove(buffer, src, bytes);
    return WEFT_OK;
}

static weft_status host_to_host(weft_device *dev, void *buffer, size_t bytes, void *dst,
                                int zero_copy)
{
    return host_copy(dev, dst, bytes, buffer, zero_copy);
}

/* ---- axpy ---- */

typedef struct axpy_args {
    weft_dtype dtype;
    double a;
    void *x, *y;
} axpy_args;

static void axpy_f32(size_t n, float a, const float *restrict x, float *restrict y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

static void axpy_f64(size_t n, double a, const double *restrict x, double *restrict y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

static void axpy_range(void *arg, size_t begin, size_t end)
{
    const axpy_args *p = arg;
    if (p->dtype == WEFT_F32)
        axpy_f32(end - begin, (float)p->a, (const float *)p->x + begin, (float *)p->y + begin);
    else
        axpy_f64(end - begin, p->a, (const double *)p->x + begin, (double *)p->y + begin);
}

/* Elements per pool chunk: big enough to amortise the hand-out, small enough
 * (256 KiB of f32) to balance two cores and stay in L2. */
#define MAP_GRAIN ((size_t)1 << 16)

static int pool_width_for(const weft_device *dev, size_t n)
{
    return n < dev->ctx->pool_min_elements ? 1 : 0;
}

static weft_status host_axpy(weft_device *dev, weft_dtype dtype, double a, weft_view x, weft_view y,
                             size_t n)
{
    RETURN_IF(dtype != WEFT_F32 && dtype != WEFT_F64, WEFT_ERR_DTYPE,
              "axpy needs f32 or f64, got %s", weft_dtype_name(dtype));
    axpy_args args = {dtype, a, x.host, y.host};
    weft_pool_parallel_for(dev->ctx->pool, n, MAP_GRAIN, pool_width_for(dev, n), axpy_range, &args);
    return WEFT_OK;
}

/* ---- block sums ---- */

/* Lane l adds elements l, l+16, l+32, ... in order; the 16 lanes then fold
 * pairwise (l + l+8, then +4, +2, +1). kernels/sum.cl does exactly this. */
static double fold_lanes(double acc[LANES])
{
    for (int width = LANES / 2; width >= 1; width /= 2)
        for (int l = 0; l < width; l++)
            acc[l] = acc[l] + acc[l + width];
    return acc[0];
}

static double block_sum_f32(const float *x, size_t n)
{
    double acc[LANES] = {0};
    size_t full = n / LANES * LANES;
    for (size_t i = 0; i < full; i += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += (double)x[i + l];
    for (size_t l = 0; l < n - full; l++)
        acc[l] += (double)x[full + l];
    return fold_lanes(acc);
}

static double block_sum_f64(const double *x, size_t n)
{
    double acc[LANES] = {0};
    size_t full = n / LANES * LANES;
    for (size_t i = 0; i < full; i += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += x[i + l];
    for (size_t l = 0; l < n - full; l++)
        acc[l] += x[full + l];
    return fold_lanes(acc);
}

typedef struct sum_args {
    weft_dtype dtype;
    const void *x;
    size_t n;
    double *partials;
} sum_args;

static void sum_range(void *arg, size_t first_block, size_t end_block)
{
    const sum_args *p = arg;
    for (size_t b = first_block; b < end_block; b++) {
        size_t begin = b * WEFT_SUM_BLOCK;
        size_t len = p->n - begin < WEFT_SUM_BLOCK ? p->n - begin : WEFT_SUM_BLOCK;
        p->partials[b] = p->dtype == WEFT_F32 ? block_sum_f32((const float *)p->x + begin, len)
                                              : block_sum_f64((const double *)p->x + begin, len);
    }
}

static weft_status host_sum_blocks(weft_device *dev, weft_dtype dtype, weft_view x, size_t n,
                                   double *partials)
{
    RETURN_IF(dtype != WEFT_F32 && dtype != WEFT_F64, WEFT_ERR_DTYPE,
              "sum needs f32 or f64, got %s", weft_dtype_name(dtype));
    sum_args args = {dtype, x.host, n, partials};
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    weft_pool_parallel_for(dev->ctx->pool, blocks, 16, pool_width_for(dev, n), sum_range, &args);
    return WEFT_OK;
}

static weft_status host_finish(weft_device *dev)
{
    (void)dev;
    return WEFT_OK;
}

static const char *host_impl(const weft_device *dev, const char *primitive)
{
    (void)dev;
    (void)primitive;
    return "reference";
}

static const weft_backend reference = {
    .name = "host",
    .buffer_create = host_buffer_create,
    .buffer_release = host_buffer_release,
    .to_device = host_copy,
    .to_host = host_to_host,
    .axpy = host_axpy,
    .sum_blocks = host_sum_blocks,
    .map_expr = weft_host_map_expr,
    .reduce_expr = weft_host_reduce_expr,
    .scan_totals = weft_host_scan_totals,
    .scan_apply = weft_host_scan_apply,
    .finish = host_finish,
    .impl = host_impl,
};

void weft_backend_host_init(weft_backend *ops)
{
    *ops = reference;
}

const weft_backend *weft_backend_reference(void)
{
    return &reference;
}
