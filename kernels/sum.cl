/* Per-block sums: one work-item per block of SUM_BLOCK elements writes the
 * block's sum, accumulated in double, to partials[block]. The host combines
 * partials in index order, so the total does not depend on how the array was
 * split. The order inside a block is the reference's (src/backend_host.c):
 * lane l of a 16-wide accumulator adds elements l, l+16, ...; a short tail adds
 * element t to lane t; the lanes then fold pairwise (hi half onto lo half). */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#ifndef SUM_BLOCK
#define SUM_BLOCK 4096
#endif

inline double fold16(double16 acc)
{
    double8 a8 = acc.lo + acc.hi;
    double4 a4 = a8.lo + a8.hi;
    double2 a2 = a4.lo + a4.hi;
    return a2.lo + a2.hi;
}

#define SUM_KERNEL(NAME, T, LOAD16)                                                                \
    __kernel void NAME(const ulong n, __global const T *x, __global double *partials)              \
    {                                                                                              \
        const ulong block = get_global_id(0);                                                      \
        const ulong begin = block * SUM_BLOCK;                                                     \
        if (begin >= n) return;                                                                    \
        const ulong len = min((ulong)SUM_BLOCK, n - begin);                                        \
        const ulong full = len / 16 * 16;                                                          \
        __global const T *p = x + begin;                                                           \
        double16 acc = (double16)(0.0);                                                            \
        for (ulong i = 0; i < full; i += 16)                                                       \
            acc += LOAD16(p + i);                                                                  \
        double lanes[16];                                                                          \
        vstore16(acc, 0, lanes);                                                                   \
        for (ulong t = 0; t < len - full; t++)                                                     \
            lanes[t] += (double)p[full + t];                                                       \
        partials[block] = fold16(vload16(0, lanes));                                               \
    }

#define LOAD16_F32(ptr) convert_double16(vload16(0, ptr))
#define LOAD16_F64(ptr) vload16(0, ptr)

/* The GPU variant (SUM_GPU=1): a work-group of 16 per block, work-item l
 * owning lane l (neighbouring items read neighbouring elements), the lanes
 * folded by work-item 0 in the same pairwise order: the same bits. */
#define SUM_KERNEL_GPU(NAME, T)                                                                    \
    __kernel __attribute__((reqd_work_group_size(16, 1, 1))) void NAME(                           \
        const ulong n, __global const T *x, __global double *partials)                            \
    {                                                                                              \
        const ulong block = get_group_id(0);                                                       \
        const uint lane = get_local_id(0);                                                         \
        const ulong begin = block * SUM_BLOCK;                                                     \
        if (begin >= n) return;                                                                    \
        const ulong end = min(begin + (ulong)SUM_BLOCK, n);                                        \
        double acc = 0.0;                                                                          \
        for (ulong j = begin + lane; j < end; j += 16)                                             \
            acc += (double)x[j];                                                                   \
        __local double lanes[16];                                                                  \
        lanes[lane] = acc;                                                                         \
        barrier(CLK_LOCAL_MEM_FENCE);                                                              \
        if (lane != 0) return;                                                                     \
        double l[16];                                                                              \
        for (int k = 0; k < 16; k++)                                                               \
            l[k] = lanes[k];                                                                       \
        for (int w = 8; w >= 1; w /= 2)                                                            \
            for (int k = 0; k < w; k++)                                                            \
                l[k] = l[k] + l[k + w];                                                            \
        partials[block] = l[0];                                                                    \
    }

#if SUM_GPU
SUM_KERNEL_GPU(sum_f32, float)
SUM_KERNEL_GPU(sum_f64, double)
#else
SUM_KERNEL(sum_f32, float, LOAD16_F32)
SUM_KERNEL(sum_f64, double, LOAD16_F64)
#endif
