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
/* -0.0, the identity of IEEE addition: a sum of only -0.0 stays -0.0, as
 * numpy's cumsum keeps it. An exclusive scan starts from +0.0 instead (its
 * y[0] is 0, as CUB's): its outputs are the -0.0 start's plus 0.0, the same
 * bits. */
#define IDENTITY (-0.0)
#define EXCLUDED(a) ((a) + 0.0)
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

#ifndef EXCLUDED
#define EXCLUDED(a) (a)
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
        y[j] = (SCAN_T)(exclusive ? EXCLUDED(acc) : next);
        acc = next;
    }
}
#else
#if SCAN_KIND == 0
/* Float sums over a whole block on CPUs, in vectors of 4 sub-blocks' chains: 4
 * contiguous elements of each of 4 sub-blocks are loaded and transposed, so
 * lane s of column j is element j of sub-block s. Each lane still adds its
 * sub-block's elements one by one in index order (the bits of the scalar
 * loop), but PoCL gets vector loads, adds and stores instead of 16 strided
 * scalar chains it does not vectorise. */
#define W_CAT_(a, b) a##b
#define W_CAT(a, b) W_CAT_(a, b)
#define SCAN_T4 W_CAT(SCAN_T, 4)
#define NARROW4(a) W_CAT(convert_, SCAN_T4)(a)
#if SCAN_FLOAT
typedef double4 acc4_t;
#define WIDEN4(v) convert_double4(v)
#define ACC4_FROM_BITS(b) as_double4(b)
#elif SCAN_SIGNED
typedef ulong4 acc4_t;
#define WIDEN4(v) as_ulong4(convert_long4(v))
#define ACC4_FROM_BITS(b) (b)
#else
typedef ulong4 acc4_t;
#define WIDEN4(v) convert_ulong4(v)
#define ACC4_FROM_BITS(b) (b)
#endif
#define LOAD_COLUMNS(base, c0, c1, c2, c3)                                                         \
    do {                                                                                           \
        const acc4_t r0 = WIDEN4(vload4(0, (base)));                                               \
        const acc4_t r1 = WIDEN4(vload4(0, (base) + SCAN_SUB));                                    \
        const acc4_t r2 = WIDEN4(vload4(0, (base) + 2 * SCAN_SUB));                                \
        const acc4_t r3 = WIDEN4(vload4(0, (base) + 3 * SCAN_SUB));                                \
        c0 = (acc4_t)(r0.s0, r1.s0, r2.s0, r3.s0);                                                 \
        c1 = (acc4_t)(r0.s1, r1.s1, r2.s1, r3.s1);                                                 \
        c2 = (acc4_t)(r0.s2, r1.s2, r2.s2, r3.s2);                                                 \
        c3 = (acc4_t)(r0.s3, r1.s3, r2.s3, r3.s3);                                                 \
    } while (0)

#if !SCAN_FLOAT
/* Integer sums wrap, so their bits do not depend on the order: sub-block
 * totals are plain sums (widened to 64 bits), and y a running sum 4 elements
 * at a time, each vector's prefix taken in registers, in the element's own
 * unsigned width (the low bits of the 64-bit carries). */
#if SCAN_SIGNED
#define SCAN_U W_CAT(u, SCAN_T)
#else
#define SCAN_U SCAN_T
#endif
#define SCAN_U4 W_CAT(SCAN_U, 4)
#define AS_U4(v) W_CAT(as_, SCAN_U4)(v)
#define AS_T4(v) W_CAT(as_, SCAN_T4)(v)

void totals_block4(__global const SCAN_T *x, __global ulong *subtotals)
{
    for (int s = 0; s < 16; s++) {
        ulong4 acc = 0;
        for (int k = 0; k < SCAN_SUB; k += 4)
            acc += WIDEN4(vload4(0, x + s * SCAN_SUB + k));
        subtotals[s] = (acc.s0 + acc.s1) + (acc.s2 + acc.s3);
    }
}

void apply_block4(__global const SCAN_T *x, __global SCAN_T *y, __global const ulong *carries,
                  const int exclusive)
{
    for (int s = 0; s < 16; s++) {
        SCAN_U4 carry = (SCAN_U4)((SCAN_U)carries[s]);
        for (int k = 0; k < SCAN_SUB; k += 4) {
            const SCAN_U4 v = AS_U4(vload4(0, x + s * SCAN_SUB + k));
            SCAN_U4 p = v + (SCAN_U4)(0, v.s0, v.s1, v.s2);
            p = p + (SCAN_U4)(0, 0, p.s0, p.s1) + carry;
            vstore4(AS_T4(exclusive ? p - v : p), 0, y + s * SCAN_SUB + k);
            carry = (SCAN_U4)(p.s3);
        }
    }
}
#else
void totals_block4(__global const SCAN_T *x, __global ulong *subtotals)
{
    acc4_t run[4];
    for (int g = 0; g < 4; g++)
        run[g] = (acc4_t)(IDENTITY);
    for (int k = 0; k < SCAN_SUB; k += 4)
#pragma unroll
        for (int g = 0; g < 4; g++) {
            acc4_t c0, c1, c2, c3;
            LOAD_COLUMNS(x + 4 * g * SCAN_SUB + k, c0, c1, c2, c3);
            run[g] = (((run[g] + c0) + c1) + c2) + c3;
        }
    for (int g = 0; g < 4; g++)
        vstore4(as_ulong4(run[g]), 0, subtotals + 4 * g);
}

void apply_block4(__global const SCAN_T *x, __global SCAN_T *y, __global const ulong *carries,
                  const int exclusive)
{
    acc4_t run[4];
    for (int g = 0; g < 4; g++)
        run[g] = ACC4_FROM_BITS(vload4(0, carries + 4 * g));
    for (int k = 0; k < SCAN_SUB; k += 4)
#pragma unroll
        for (int g = 0; g < 4; g++) {
            acc4_t c0, c1, c2, c3;
            LOAD_COLUMNS(x + 4 * g * SCAN_SUB + k, c0, c1, c2, c3);
            acc4_t n0 = run[g] + c0, n1 = n0 + c1, n2 = n1 + c2, n3 = n2 + c3;
            if (exclusive) {
                c0 = EXCLUDED(run[g]);
                c1 = EXCLUDED(n0);
                c2 = EXCLUDED(n1);
                c3 = EXCLUDED(n2);
            } else {
                c0 = n0;
                c1 = n1;
                c2 = n2;
                c3 = n3;
            }
            run[g] = n3;
            __global SCAN_T *row = y + 4 * g * SCAN_SUB + k;
            vstore4(NARROW4(((acc4_t)(c0.s0, c1.s0, c2.s0, c3.s0))), 0, row);
            vstore4(NARROW4(((acc4_t)(c0.s1, c1.s1, c2.s1, c3.s1))), 0, row + SCAN_SUB);
            vstore4(NARROW4(((acc4_t)(c0.s2, c1.s2, c2.s2, c3.s2))), 0, row + 2 * SCAN_SUB);
            vstore4(NARROW4(((acc4_t)(c0.s3, c1.s3, c2.s3, c3.s3))), 0, row + 3 * SCAN_SUB);
        }
}
#endif /* SCAN_FLOAT */
#endif

/* One work-item per block, its 16 sub-blocks interleaved. */
__kernel void scan_totals(const ulong n, __global const SCAN_T *x, __global ulong *subtotals)
{
    const ulong block = get_global_id(0), begin = block * SCAN_BLOCK;
    if (begin >= n) return;
#if SCAN_KIND == 0
    if (begin + SCAN_BLOCK <= n) {
        totals_block4(x + begin, subtotals + block * 16);
        return;
    }
#endif
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
#if SCAN_KIND == 0
    if (begin + SCAN_BLOCK <= n) {
        apply_block4(x + begin, y + begin, carries + block * 16, exclusive);
        return;
    }
#endif
    acc_t acc[16];
    for (int s = 0; s < 16; s++)
        acc[s] = SCAN_FROM_BITS(carries[block * 16 + s]);
    if (begin + SCAN_BLOCK <= n) {
        for (int k = 0; k < SCAN_SUB; k++)
#pragma unroll
            for (int s = 0; s < 16; s++) {
                const ulong j = begin + s * SCAN_SUB + k;
                const acc_t next = COMBINE(acc[s], x[j]);
                y[j] = (SCAN_T)(exclusive ? EXCLUDED(acc[s]) : next);
                acc[s] = next;
            }
    } else {
        for (int s = 0; s < 16; s++)
            for (ulong j = begin + s * SCAN_SUB; j < min(begin + (s + 1) * SCAN_SUB, n); j++) {
                const acc_t next = COMBINE(acc[s], x[j]);
                y[j] = (SCAN_T)(exclusive ? EXCLUDED(acc[s]) : next);
                acc[s] = next;
            }
    }
}
#endif
