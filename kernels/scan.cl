/* Block scans in two passes, in an order fixed by the data's indices alone,
 * so the bits do not depend on how the array was split or on the device.
 *
 * A block is SCAN_BLOCK (4096) elements in 16 sub-blocks of SCAN_SUB (256).
 * Pass 1 (scan_totals) folds each sub-block in index order from the identity
 * into subtotals[16 * block + s]. The host folds subtotals in index order into
 * the carry each sub-block starts from (src/ops/scan_host.c). Pass 2
 * (scan_apply) rescans each sub-block from its carry. The 16 sub-blocks of a
 * block are independent chains: interleaved in one work-item on CPUs (16
 * additions in flight instead of one), one work-item each on GPUs.
 *
 * Knobs: SCAN_T, SCAN_KIND 0 sum / 1 min / 2 max, SCAN_FLOAT, SCAN_SIGNED,
 * SCAN_GPU, SCAN_MIN_VALUE, SCAN_MAX_VALUE. Sums accumulate in double (floats)
 * or 64 bits that wrap (integers); min and max in the element type. */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define SCAN_BLOCK 4096
#define SCAN_SUB 256

/* Carries of min and max: doubles for floats (exact), 64-bit integers otherwise. */
#if SCAN_FLOAT
#define SCAN_TO_BITS(a) as_ulong((double)(a))
#define SCAN_FROM_BITS(b) ((SCAN_T)as_double(b))
#elif SCAN_SIGNED
#define SCAN_TO_BITS(a) ((ulong)(long)(a))
#define SCAN_FROM_BITS(b) ((SCAN_T)(b))
#else
#define SCAN_TO_BITS(a) ((ulong)(a))
#define SCAN_FROM_BITS(b) ((SCAN_T)(b))
#endif

#if SCAN_KIND == 0 && SCAN_FLOAT
typedef double acc_t;
#define IDENTITY 0.0
#define COMBINE(a, v) ((a) + (double)(v))
#undef SCAN_TO_BITS
#undef SCAN_FROM_BITS
#define SCAN_TO_BITS(a) as_ulong(a)
#define SCAN_FROM_BITS(b) as_double(b)
#elif SCAN_KIND == 0
typedef ulong acc_t;
#define IDENTITY 0
#if SCAN_SIGNED
#define COMBINE(a, v) ((a) + (ulong)(long)(v))
#else
#define COMBINE(a, v) ((a) + (ulong)(v))
#endif
#undef SCAN_TO_BITS
#undef SCAN_FROM_BITS
#define SCAN_TO_BITS(a) (a)
#define SCAN_FROM_BITS(b) (b)
#else
typedef SCAN_T acc_t;
#if SCAN_FLOAT
/* NaN first, then -0.0 before +0.0: the order reductions use. */
inline int w_less(acc_t a, acc_t b)
{
    return isnan(a) ? !isnan(b) : (!isnan(b) && (a < b || (a == b && signbit(a) && !signbit(b))));
}
inline int w_greater(acc_t a, acc_t b)
{
    return isnan(a) ? !isnan(b) : (!isnan(b) && (a > b || (a == b && !signbit(a) && signbit(b))));
}
#else
#define w_less(a, b) ((a) < (b))
#define w_greater(a, b) ((a) > (b))
#endif
#if SCAN_KIND == 1
#define IDENTITY SCAN_MAX_VALUE
#define COMBINE(a, v) (w_less((v), (a)) ? (v) : (a))
#else
#define IDENTITY SCAN_MIN_VALUE
#define COMBINE(a, v) (w_greater((v), (a)) ? (v) : (a))
#endif
#endif

#if SCAN_GPU
/* One work-item per sub-block: a work-group of 16 per block. */
__kernel __attribute__((reqd_work_group_size(16, 1, 1))) void
scan_totals(const ulong n, __global const SCAN_T *x, __global ulong *subtotals)
{
    const ulong block = get_group_id(0), s = get_local_id(0);
    const ulong begin = min(block * SCAN_BLOCK + s * SCAN_SUB, n);
    const ulong end = min(begin + SCAN_SUB, n);
    acc_t acc = IDENTITY;
    for (ulong j = begin; j < end; j++)
        acc = COMBINE(acc, x[j]);
    subtotals[block * 16 + s] = SCAN_TO_BITS(acc);
}

__kernel __attribute__((reqd_work_group_size(16, 1, 1))) void
scan_apply(const ulong n, __global const SCAN_T *x, __global SCAN_T *y,
           __global const ulong *carries, const int exclusive)
{
    const ulong block = get_group_id(0), s = get_local_id(0);
    const ulong begin = min(block * SCAN_BLOCK + s * SCAN_SUB, n);
    const ulong end = min(begin + SCAN_SUB, n);
    acc_t acc = SCAN_FROM_BITS(carries[block * 16 + s]);
    for (ulong j = begin; j < end; j++) {
        const acc_t next = COMBINE(acc, x[j]);
        y[j] = (SCAN_T)(exclusive ? acc : next);
        acc = next;
    }
}
#else
/* One work-item per block, its 16 sub-blocks interleaved. */
__kernel void scan_totals(const ulong n, __global const SCAN_T *x, __global ulong *subtotals)
{
    const ulong block = get_global_id(0), begin = block * SCAN_BLOCK;
    if (begin >= n) return;
    acc_t acc[16];
    for (int s = 0; s < 16; s++)
        acc[s] = IDENTITY;
    if (begin + SCAN_BLOCK <= n) {
        for (int k = 0; k < SCAN_SUB; k++)
            #pragma unroll
            for (int s = 0; s < 16; s++)
                acc[s] = COMBINE(acc[s], x[begin + s * SCAN_SUB + k]);
    } else {
        for (int s = 0; s < 16; s++)
            for (ulong j = begin + s * SCAN_SUB; j < min(begin + (s + 1) * SCAN_SUB, n); j++)
                acc[s] = COMBINE(acc[s], x[j]);
    }
    for (int s = 0; s < 16; s++)
        subtotals[block * 16 + s] = SCAN_TO_BITS(acc[s]);
}

__kernel void scan_apply(const ulong n, __global const SCAN_T *x, __global SCAN_T *y,
                         __global const ulong *carries, const int exclusive)
{
    const ulong block = get_global_id(0), begin = block * SCAN_BLOCK;
    if (begin >= n) return;
    acc_t acc[16];
    for (int s = 0; s < 16; s++)
        acc[s] = SCAN_FROM_BITS(carries[block * 16 + s]);
    if (begin + SCAN_BLOCK <= n) {
        for (int k = 0; k < SCAN_SUB; k++)
            #pragma unroll
            for (int s = 0; s < 16; s++) {
                const ulong j = begin + s * SCAN_SUB + k;
                const acc_t next = COMBINE(acc[s], x[j]);
                y[j] = (SCAN_T)(exclusive ? acc[s] : next);
                acc[s] = next;
            }
    } else {
        for (int s = 0; s < 16; s++)
            for (ulong j = begin + s * SCAN_SUB; j < min(begin + (s + 1) * SCAN_SUB, n); j++) {
                const acc_t next = COMBINE(acc[s], x[j]);
                y[j] = (SCAN_T)(exclusive ? acc[s] : next);
                acc[s] = next;
            }
    }
}
#endif
