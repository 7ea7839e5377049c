/* y = a*x + y over one chunk. Written without contraction so that every device
 * and the host reference (src/backend_host.c) produce the same bits.
 *
 * Knobs (-D): AXPY_ITEMS elements per work-item. The CPU variant gives each
 * work-item a contiguous run read with 16-wide vector loads (PoCL compiles
 * one work-group to a vectorised loop); the GPU variant (AXPY_ITEMS=1) maps one
 * element per work-item so neighbouring items touch neighbouring addresses. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef AXPY_ITEMS
#define AXPY_ITEMS 4096
#endif

#define AXPY_KERNEL(NAME, T, T16)                                                                  \
    __kernel void NAME(const ulong n, const T a, __global const T *x, __global T *y)               \
    {                                                                                              \
        const ulong begin = (ulong)get_global_id(0) * AXPY_ITEMS;                                  \
        if (begin >= n) return;                                                                    \
        const ulong end = min(begin + (ulong)AXPY_ITEMS, n);                                       \
        ulong i = begin;                                                                           \
        if (AXPY_ITEMS >= 16) {                                                                    \
            for (; i + 16 <= end; i += 16) {                                                       \
                T16 xv = vload16(0, x + i);                                                        \
                T16 yv = vload16(0, y + i);                                                        \
                vstore16(a * xv + yv, 0, y + i);                                                   \
            }                                                                                      \
        }                                                                                          \
        for (; i < end; i++)                                                                       \
            y[i] = a * x[i] + y[i];                                                                \
    }

AXPY_KERNEL(axpy_f32, float, float16)

#ifdef WEFT_HAVE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
AXPY_KERNEL(axpy_f64, double, double16)
#endif
