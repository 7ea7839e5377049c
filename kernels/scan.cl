/* Block scans. Pass 1 (scan_totals): one work-item per block of SCAN_BLOCK
 * elements folds it in order. The host folds the block totals in order into
 * each block's carry. Pass 2 (scan_apply): each block rescans from its carry.
 * Every step is sequential in index order, so the bits do not depend on how
 * the array was split; src/ops/scan_host.c is the same algorithm in C.
 *
 * Knobs: SCAN_T element type, SCAN_KIND 0 sum / 1 min / 2 max, SCAN_FLOAT,
 * SCAN_SIGNED, SCAN_BLOCK. Sums accumulate in double (floats) or in 64 bits
 * that wrap (integers); min and max in the element type. */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#ifndef SCAN_BLOCK
#define SCAN_BLOCK 4096
#endif

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
#define TO_BITS(a) as_ulong(a)
#define FROM_BITS(b) as_double(b)
#elif SCAN_KIND == 0
typedef ulong acc_t;
#define IDENTITY 0
#if SCAN_SIGNED
#define COMBINE(a, v) ((a) + (ulong)(long)(v))
#else
#define COMBINE(a, v) ((a) + (ulong)(v))
#endif
#define TO_BITS(a) (a)
#define FROM_BITS(b) (b)
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
#define TO_BITS(a) SCAN_TO_BITS(a)
#define FROM_BITS(b) SCAN_FROM_BITS(b)
#endif

__kernel void scan_totals(const ulong n, __global const SCAN_T *x, __global ulong2 *totals)
{
    const ulong block = get_global_id(0), begin = block * SCAN_BLOCK;
    if (begin >= n) return;
    const ulong end = min(begin + (ulong)SCAN_BLOCK, n);
    acc_t acc = IDENTITY;
    for (ulong j = begin; j < end; j++)
        acc = COMBINE(acc, x[j]);
    totals[block] = (ulong2)(TO_BITS(acc), 0);
}

__kernel void scan_apply(const ulong n, __global const SCAN_T *x, __global SCAN_T *y,
                         __global const ulong2 *carries, const int exclusive)
{
    const ulong block = get_global_id(0), begin = block * SCAN_BLOCK;
    if (begin >= n) return;
    const ulong end = min(begin + (ulong)SCAN_BLOCK, n);
    acc_t acc = FROM_BITS(carries[block].x);
    for (ulong j = begin; j < end; j++) {
        const acc_t next = COMBINE(acc, x[j]);
        y[j] = (SCAN_T)(exclusive ? acc : next);
        acc = next;
    }
}
