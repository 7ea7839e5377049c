/* Expressions on an OpenCL device: the generated kernels, built through the
 * program cache on first use, launched per chunk. */
#include "cl_common.h"
#include "../../core/error.h"
#include "../device.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Elements per work-item of a map: a contiguous run on CPUs, one element on
 * GPUs (neighbouring items, neighbouring addresses). */
static size_t map_items(const weft_device *dev)
{
    return weft_cl(dev)->gpu_class ? 1 : 1024;
}

/* CPUs run the map's vector variant: PoCL does not vectorise calls to erfc,
 * log, pow ... in a loop, but has fast vector overloads of them. */
static int map_vector(const weft_device *dev)
{
    return !weft_cl(dev)->gpu_class;
}

/* With the submit lock held: the kernel is created on first use. */
/* Builds the expression's kernel for this device, without touching its slot. */
static weft_status build_kernel(weft_device *dev, const weft_compiled *compiled, cl_kernel *made)
{
    char options[256];
    snprintf(options, sizeof options,
             "-cl-std=CL1.2 -w -cl-fp32-correctly-rounded-divide-sqrt -DMAP_ITEMS=%zu "
             "-DMAP_VECTOR=%d -DREDUCE_BLOCK=%d",
             map_items(dev), map_vector(dev), WEFT_SUM_BLOCK);
    cl_program program = NULL;
    const char *source =
        weft_cl(dev)->gpu_class && compiled->source_gpu ? compiled->source_gpu : compiled->source;
    weft_status st = weft_cl_program_get(dev, source, options, &program, NULL);
    if (st != WEFT_OK) return st;
    cl_int err;
    *made =
        clCreateKernel(program, compiled->mode == WEFT_EXPR_MAP ? "weft_map" : "weft_reduce", &err);
    clReleaseProgram(program);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateKernel (expression)", err);
    return WEFT_OK;
}

/* Puts a kernel (or WEFT_KERNEL_FAILED) into the expression's slot unless
 * another thread did first: the one in the slot is the one used. */
static void *publish(weft_device *dev, const weft_compiled *compiled, void *kernel)
{
    void *_Atomic *slot = &compiled->kernels[dev->index];
    void *expected = NULL;
    if (atomic_compare_exchange_strong(slot, &expected, kernel)) return kernel;
    if (kernel != WEFT_KERNEL_FAILED) clReleaseKernel(kernel);
    return expected;
}

static weft_status build_into_slot(weft_device *dev, const weft_compiled *compiled)
{
    cl_kernel made = NULL;
    weft_status st = build_kernel(dev, compiled, &made);
    if (st != WEFT_OK) { /* the pool runs this expression from now on */
        publish(dev, compiled, WEFT_KERNEL_FAILED);
        weft_log(dev->services->log, WEFT_LOG_WARN, "device %zu cannot build \"%s\": %s",
                 dev->index, compiled->expr->text, weft_last_error());
        return st;
    }
    publish(dev, compiled, made);
    return WEFT_OK;
}

weft_status weft_cl_expr_build(weft_device *dev, const weft_compiled *compiled)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (atomic_load(&compiled->kernels[dev->index]) != NULL) return WEFT_OK;
    return build_into_slot(dev, compiled);
}

static weft_status expr_kernel(weft_device *dev, const weft_compiled *compiled, cl_kernel *out)
{
    void *kernel = atomic_load(&compiled->kernels[dev->index]);
    if (!kernel) {
        weft_status st = build_into_slot(dev, compiled);
        kernel = atomic_load(&compiled->kernels[dev->index]);
        if (st != WEFT_OK && kernel == WEFT_KERNEL_FAILED) return st;
    }
    if (kernel == WEFT_KERNEL_FAILED)
        return weft_error_set(WEFT_ERR_BUILD, "expression kernel failed to build on device %zu",
                              dev->index);
    *out = kernel;
    return WEFT_OK;
}

static weft_status set_args(weft_device *dev, cl_kernel k, const weft_expr_call *call,
                            const weft_view *views, size_t begin, size_t n, cl_uint *next)
{
    const weft_expr *e = call->compiled->expr;
    cl_ulong count = n, base = begin;
    cl_int err = clSetKernelArg(k, 0, sizeof count, &count);
    if (err == CL_SUCCESS) err = clSetKernelArg(k, 1, sizeof base, &base);
    cl_uint index = 2;
    for (size_t b = 0; b < e->nbindings && err == CL_SUCCESS; b++, index++) {
        int v = call->view_of_bind[b];
        if (v >= 0) {
            cl_mem mem = views[v].buffer;
            err = clSetKernelArg(k, index, sizeof mem, &mem);
        } else {
            err = clSetKernelArg(k, index, weft_dtype_size(call->binds[b].dtype),
                                 &call->binds[b].value);
        }
    }
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clSetKernelArg (expression)", err);
    *next = index;
    return WEFT_OK;
}

/* With the submit lock held, as the two below. */
static weft_status map_locked(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                              size_t begin, size_t n)
{
    cl_kernel k = NULL;
    cl_uint next;
    RETURN_ON_ERROR(expr_kernel(dev, call->compiled, &k));
    RETURN_ON_ERROR(set_args(dev, k, call, views, begin, n, &next));
    size_t items = map_items(dev);
    return weft_cl_enqueue_1d(dev, k, (n + items - 1) / items, 0);
}

/* Partials of the chunk go to a device scratch buffer, then (in queue order,
 * without blocking) to the caller's array, valid after finish. */
static weft_status reduce_locked(weft_device *dev, const weft_expr_call *call,
                                 const weft_view *views, size_t begin, size_t n,
                                 weft_partial *partials)
{
    weft_cl_device *cl = weft_cl(dev);
    cl_kernel k = NULL;
    cl_uint next;
    RETURN_ON_ERROR(expr_kernel(dev, call->compiled, &k));
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    size_t bytes = blocks * sizeof(weft_partial);
    RETURN_ON_ERROR(weft_cl_scratch(dev, bytes));
    RETURN_ON_ERROR(set_args(dev, k, call, views, begin, n, &next));
    cl_int err = clSetKernelArg(k, next, sizeof cl->scratch, &cl->scratch);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clSetKernelArg (partials)", err);
    /* GPU variant: a work-group of 16 lanes per block */
    if (cl->gpu_class)
        RETURN_ON_ERROR(weft_cl_enqueue_1d(dev, k, blocks * 16, 16));
    else
        RETURN_ON_ERROR(weft_cl_enqueue_1d(dev, k, blocks, 0));
    weft_cl_queue_lock(dev);
    err = clEnqueueReadBuffer(cl->queue, cl->scratch, CL_FALSE, 0, bytes, partials, 0, NULL, NULL);
    if (weft_cl_queue_unlock(dev, err, NULL) != CL_SUCCESS)
        return weft_cl_fail(dev, "clEnqueueReadBuffer (partials)", err);
    return WEFT_OK;
}

weft_status weft_cl_map_expr(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                             size_t begin, size_t n)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (n == 0) return WEFT_OK;
    WEFT_CL_RETURN_LOCKED(dev, map_locked(dev, call, views, begin, n));
}

weft_status weft_cl_reduce_expr(weft_device *dev, const weft_expr_call *call,
                                const weft_view *views, size_t begin, size_t n,
                                weft_partial *partials)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (n == 0) return WEFT_OK;
    WEFT_CL_RETURN_LOCKED(dev, reduce_locked(dev, call, views, begin, n, partials));
}
