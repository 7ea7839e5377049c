/* The host backend: every primitive in portable C on the thread pool. This is
 * the reference the OpenCL kernels must match bit for bit, so the arithmetic
 * here is written out in the same order as in the kernels/ sources (the library is
 * built with -ffp-contract=off: no silent fma). */
#include "../../core/pool.h"
#include "../device.h"
#include "../../core/error.h"

#include <string.h>

static weft_status host_buffer_create(weft_device *dev, size_t bytes, void *host, void **buffer)
{
    (void)dev;
    (void)bytes;
    *buffer = host; /* the host storage is the host device's buffer */
    return WEFT_OK;
}

/* The host's "buffers" are host memory itself. */
static weft_status host_sub_buffer(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                                   void **sub)
{
    (void)dev;
    (void)bytes;
    *sub = (unsigned char *)buffer + offset;
    return WEFT_OK;
}

static weft_status host_write(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                              const void *src, void **done)
{
    (void)dev;
    if (done) *done = NULL;
    memmove((unsigned char *)buffer + offset, src, bytes);
    return WEFT_OK;
}

static weft_status host_read(weft_device *dev, void *buffer, size_t offset, size_t bytes, void *dst)
{
    (void)dev;
    memmove(dst, (const unsigned char *)buffer + offset, bytes);
    return WEFT_OK;
}

/* The host holds no device buffers: data reaches it through read and write. */
static int host_peer_reachable(const weft_device *dev, const weft_device *other)
{
    (void)dev;
    (void)other;
    return 0;
}

static weft_status host_peer_copy(weft_device *dev, void *dst, size_t dst_offset, weft_device *src,
                                  void *src_buffer, size_t src_offset, size_t bytes)
{
    (void)dst;
    (void)dst_offset;
    (void)src_buffer;
    (void)src_offset;
    (void)bytes;
    return weft_error_set(WEFT_ERR_UNSUPPORTED, "device %zu cannot copy from device %zu directly",
                          dev->index, src->index);
}

static weft_status host_copy(weft_device *dev, void *src, size_t src_offset, void *dst,
                             size_t dst_offset, size_t bytes)
{
    (void)dev;
    memmove((unsigned char *)dst + dst_offset, (const unsigned char *)src + src_offset, bytes);
    return WEFT_OK;
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

/* The context's pool, as the reference primitives take it (weft_prim_threads). */
static weft_prim_threads threads_of(const weft_device *dev)
{
    return (weft_prim_threads){weft_pool_parallel_for, dev->services->pool,
                               dev->services->pool_min_elements,
                               weft_pool_threads(dev->services->pool)};
}

static weft_status host_axpy(weft_device *dev, weft_dtype dtype, double a, weft_view x, weft_view y,
                             size_t n)
{
    RETURN_IF(dtype != WEFT_F32 && dtype != WEFT_F64, WEFT_ERR_DTYPE,
              "axpy needs f32 or f64, got %s", weft_dtype_name(dtype));
    axpy_args args = {dtype, a, x.host, y.host};
    weft_prim_threads t = threads_of(dev);
    t.parallel_for(t.pool, n, MAP_GRAIN, n < t.min_elements ? 1 : 0, axpy_range, &args);
    return WEFT_OK;
}

static weft_status host_map_expr(weft_device *dev, const weft_expr_call *call,
                                 const weft_view *views, size_t begin, size_t n)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_map_expr(&t, call, views, begin, n);
}

static weft_status host_reduce_expr(weft_device *dev, const weft_expr_call *call,
                                    const weft_view *views, size_t begin, size_t n,
                                    weft_partial *partials)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_reduce_expr(&t, call, views, begin, n, partials);
}

static weft_status host_scan_totals(weft_device *dev, weft_reduce_op op, weft_dtype dtype,
                                    weft_view x, size_t n, uint64_t *subtotals)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_scan_totals(&t, op, dtype, x, n, subtotals);
}

static weft_status host_scan_apply(weft_device *dev, weft_reduce_op op, weft_dtype dtype,
                                   int exclusive, weft_view x, weft_view y, size_t n,
                                   const uint64_t *carries)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_scan_apply(&t, op, dtype, exclusive, x, y, n, carries);
}

static weft_status host_sort(weft_device *dev, const weft_sort_call *call)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_sort(&t, call);
}

static weft_status host_histogram(weft_device *dev, const weft_histogram_call *call)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_histogram(&t, call);
}

static weft_status host_scatter_add(weft_device *dev, const weft_scatter_call *call)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_scatter_add(&t, call);
}

static weft_status host_random(weft_device *dev, weft_dtype dtype, int dist, uint64_t seed,
                               uint64_t first, weft_view y, size_t n)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_random(&t, dtype, dist, seed, first, y.host, n);
}

static weft_status host_reduce_by_key(weft_device *dev, const weft_segment_call *call)
{
    weft_prim_threads t = threads_of(dev);
    return weft_ref_reduce_by_key(&t, call);
}

static weft_status host_marker(weft_device *dev, void **event)
{
    (void)dev;
    *event = NULL;
    return WEFT_OK;
}

static weft_status host_wait(weft_device *dev, void *event)
{
    (void)dev;
    (void)event;
    return WEFT_OK;
}

/* Buffers are the host's own memory and events NULL: nothing to keep or let go. */
static void host_ignore_handle(weft_device *dev, void *handle)
{
    (void)dev;
    (void)handle;
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
    .buffer_release = host_ignore_handle,
    .sub_buffer = host_sub_buffer,
    .write = host_write,
    .read = host_read,
    .copy = host_copy,
    .peer_reachable = host_peer_reachable,
    .peer_copy = host_peer_copy,
    .axpy = host_axpy,
    .map_expr = host_map_expr,
    .reduce_expr = host_reduce_expr,
    .scan_totals = host_scan_totals,
    .scan_apply = host_scan_apply,
    /* The pool runs no OpenCL C: user kernels reach it through their
     * host_fn, so program and kernel entries stay NULL. */
    .finish = host_finish,
    .marker = host_marker,
    .wait = host_wait,
    .event_retain = host_ignore_handle,
    .event_release = host_ignore_handle,
    .impl = host_impl,
    .sort = host_sort,
    .histogram = host_histogram,
    .scatter_add = host_scatter_add,
    .random = host_random,
    .reduce_by_key = host_reduce_by_key,
};

void weft_backend_host_init(weft_backend *ops)
{
    *ops = reference;
}

const weft_backend *weft_backend_reference(void)
{
    return &reference;
}
