/* Scans on an OpenCL device: kernels/scan.cl specialised per (op, dtype). */
#include "cl_common.h"
#include "../../core/error.h"
#include "../../core/kernels.h"
#include "../device.h"

#include <stdio.h>

/* -D knobs giving kernels/scan.cl its element type and operation. */
static void scan_options(const weft_device *dev, weft_reduce_op op, weft_dtype t, char *out,
                         size_t cap)
{
    static const char *const ctype[] = {"float", "double", "int", "uint", "long", "ulong", "uchar"};
    static const char *const max_value[] = {"INFINITY", "((double)INFINITY)", "INT_MAX",
                                            "UINT_MAX", "LONG_MAX",           "ULONG_MAX",
                                            "UCHAR_MAX"};
    static const char *const min_value[] = {
        "(-INFINITY)", "(-(double)INFINITY)", "INT_MIN", "0u", "LONG_MIN", "0ul", "((uchar)0)"};
    int kind = op == WEFT_SUM ? 0 : op == WEFT_MIN ? 1 : 2;
    int is_float = t == WEFT_F32 || t == WEFT_F64;
    int is_signed = t == WEFT_I32 || t == WEFT_I64;
    snprintf(out, cap,
             "-cl-std=CL1.2 -w -DSCAN_T=%s -DSCAN_KIND=%d -DSCAN_FLOAT=%d -DSCAN_SIGNED=%d "
             "-DSCAN_GPU=%d -DSCAN_MAX_VALUE=%s -DSCAN_MIN_VALUE=%s",
             ctype[t], kind, is_float, is_signed, weft_cl(dev)->gpu_class, max_value[t],
             min_value[t]);
}

static weft_status scan_kernels(weft_device *dev, weft_reduce_op op, weft_dtype t, cl_kernel **out)
{
    weft_cl_device *cl = weft_cl(dev);
    int kind = op == WEFT_SUM ? 0 : op == WEFT_MIN ? 1 : 2;
    cl_kernel *pair = cl->scan[kind][t];
    if (pair[0] == WEFT_KERNEL_FAILED)
        return weft_error_set(WEFT_ERR_BUILD, "scan kernels failed to build on device %zu",
                              dev->index);
    if (!pair[0]) {
        char options[768];
        scan_options(dev, op, t, options, sizeof options);
        cl_program program = NULL;
        weft_status st = weft_cl_program_get(dev, weft_kernel_scan, options, &program, NULL);
        cl_int err = CL_SUCCESS;
        if (st == WEFT_OK) {
            pair[0] = clCreateKernel(program, "scan_totals", &err);
            if (err == CL_SUCCESS) pair[1] = clCreateKernel(program, "scan_apply", &err);
            clReleaseProgram(program);
            if (err != CL_SUCCESS) st = weft_cl_fail(dev, "clCreateKernel (scan)", err);
        }
        if (st != WEFT_OK) {
            if (pair[0] && pair[0] != WEFT_KERNEL_FAILED) clReleaseKernel(pair[0]);
            pair[0] = WEFT_KERNEL_FAILED;
            pair[1] = NULL;
            return st;
        }
    }
    *out = pair;
    return WEFT_OK;
}

/* GPU variant: a work-group of 16 per block, one work-item per sub-block. */
static weft_status launch_blocks(weft_device *dev, cl_kernel k, size_t n)
{
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    int gpu = weft_cl(dev)->gpu_class;
    return weft_cl_enqueue_1d(dev, k, gpu ? blocks * 16 : blocks, gpu ? 16 : 0);
}

/* Both passes, with the submit lock held: the kernels, and scratch for 16
 * subtotals per block of n. */
static weft_status scan_setup(weft_device *dev, weft_reduce_op op, weft_dtype dtype, size_t n,
                              cl_kernel **k, size_t *bytes)
{
    RETURN_ON_ERROR(scan_kernels(dev, op, dtype, k));
    *bytes = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK * 16 * sizeof(uint64_t);
    return weft_cl_scratch(dev, *bytes);
}

static weft_status totals_locked(weft_device *dev, weft_reduce_op op, weft_dtype dtype, weft_view x,
                                 size_t n, uint64_t *subtotals)
{
    weft_cl_device *cl = weft_cl(dev);
    cl_kernel *k;
    size_t bytes;
    RETURN_ON_ERROR(scan_setup(dev, op, dtype, n, &k, &bytes));
    cl_ulong count = n;
    cl_mem xm = x.buffer;
    cl_int err = clSetKernelArg(k[0], 0, sizeof count, &count);
    if (err == CL_SUCCESS) err = clSetKernelArg(k[0], 1, sizeof xm, &xm);
    if (err == CL_SUCCESS) err = clSetKernelArg(k[0], 2, sizeof cl->scratch, &cl->scratch);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clSetKernelArg (scan)", err);
    RETURN_ON_ERROR(launch_blocks(dev, k[0], n));
    weft_cl_queue_lock(dev);
    err = clEnqueueReadBuffer(cl->queue, cl->scratch, CL_FALSE, 0, bytes, subtotals, 0, NULL, NULL);
    if (weft_cl_queue_unlock(dev, err, NULL) != CL_SUCCESS)
        return weft_cl_fail(dev, "clEnqueueReadBuffer (scan)", err);
    return WEFT_OK;
}

static weft_status apply_locked(weft_device *dev, weft_reduce_op op, weft_dtype dtype,
                                int exclusive, weft_view x, weft_view y, size_t n,
                                const uint64_t *carries)
{
    weft_cl_device *cl = weft_cl(dev);
    cl_kernel *k;
    size_t bytes;
    RETURN_ON_ERROR(scan_setup(dev, op, dtype, n, &k, &bytes));
    /* The carries live in the op until it completes: a non-blocking write is safe. */
    weft_cl_queue_lock(dev);
    cl_int err =
        clEnqueueWriteBuffer(cl->queue, cl->scratch, CL_FALSE, 0, bytes, carries, 0, NULL, NULL);
    weft_cl_queue_unlock(dev, err, NULL);
    cl_ulong count = n;
    cl_mem xm = x.buffer, ym = y.buffer;
    cl_int excl = exclusive;
    if (err == CL_SUCCESS) err = clSetKernelArg(k[1], 0, sizeof count, &count);
    if (err == CL_SUCCESS) err = clSetKernelArg(k[1], 1, sizeof xm, &xm);
    if (err == CL_SUCCESS) err = clSetKernelArg(k[1], 2, sizeof ym, &ym);
    if (err == CL_SUCCESS) err = clSetKernelArg(k[1], 3, sizeof cl->scratch, &cl->scratch);
    if (err == CL_SUCCESS) err = clSetKernelArg(k[1], 4, sizeof excl, &excl);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "scan arguments", err);
    return launch_blocks(dev, k[1], n);
}

weft_status weft_cl_scan_totals(weft_device *dev, weft_reduce_op op, weft_dtype dtype, weft_view x,
                                size_t n, uint64_t *subtotals)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (n == 0) return WEFT_OK;
    WEFT_CL_RETURN_LOCKED(dev, totals_locked(dev, op, dtype, x, n, subtotals));
}

weft_status weft_cl_scan_apply(weft_device *dev, weft_reduce_op op, weft_dtype dtype, int exclusive,
                               weft_view x, weft_view y, size_t n, const uint64_t *carries)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (n == 0) return WEFT_OK;
    WEFT_CL_RETURN_LOCKED(dev, apply_locked(dev, op, dtype, exclusive, x, y, n, carries));
}
