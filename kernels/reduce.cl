/* Expression reductions: one partial per block of REDUCE_BLOCK elements, in
 * an order fixed by the data's indices alone, so the bits do not depend on
 * the split or on the device. The host mirrors it (src/ops/reduce.c) and
 * folds the partials.
 *
 * src/expr/codegen_cl.c puts before this file the expression's helpers and
 * these knobs (as CLBlast's kernels take theirs):
 *   REDUCE_PARAMS   the kernel's parameters (n, base, the bound arrays and scalars)
 *   REDUCE_ELEMENT  statements declaring `const REDUCE_T v`, element j's value
 *   REDUCE_T        the value's type; REDUCE_FLOAT, REDUCE_DOUBLE, REDUCE_SIGNED
 *   REDUCE_KIND     0 lanes (float sums and products: 16 double accumulators),
 *                   1 integer sum (64 bits, overflow flagged), 2 any / all,
 *                   3 extreme (min, max, argmin, argmax: the first best wins)
 *   REDUCE_PROD, REDUCE_ALL, REDUCE_LESS (min and argmin)
 *   REDUCE_GPU      a work-group of 16 per block, work-item l owning lane l
 *                   (elements l, l+16, ...: neighbours read neighbours), lanes
 *                   folded by work-item 0 in the CPU variant's order, so both
 *                   give the same bits. Else one work-item per block.
 * The build adds REDUCE_BLOCK. Partials are (value bits, overflow or index). */

#if REDUCE_FLOAT
/* NaN first, then -0.0 before +0.0: a total order, so the first extreme wins
 * the same way on every device and split. */
inline int w_less(REDUCE_T a, REDUCE_T b)
{
    return isnan(a) ? !isnan(b) : (!isnan(b) && (a < b || (a == b && signbit(a) && !signbit(b))));
}
inline int w_greater(REDUCE_T a, REDUCE_T b)
{
    return isnan(a) ? !isnan(b) : (!isnan(b) && (a > b || (a == b && !signbit(a) && signbit(b))));
}
#else
inline int w_less(REDUCE_T a, REDUCE_T b) { return a < b; }
inline int w_greater(REDUCE_T a, REDUCE_T b) { return a > b; }
#endif

#if REDUCE_DOUBLE
#define REDUCE_TO_BITS(x) as_ulong(x)
#define REDUCE_FROM_BITS(b) as_double(b)
#elif REDUCE_FLOAT
#define REDUCE_TO_BITS(x) ((ulong)as_uint(x))
#define REDUCE_FROM_BITS(b) as_float((uint)(b))
#else
#define REDUCE_TO_BITS(x) ((ulong)(long)(x))
#define REDUCE_FROM_BITS(b) ((REDUCE_T)(b))
#endif

#if REDUCE_PROD
#define REDUCE_LANE_IDENTITY 1.0
#define REDUCE_LANE_JOIN *=
#else
#define REDUCE_LANE_IDENTITY 0.0
#define REDUCE_LANE_JOIN +=
#endif
#if REDUCE_LESS
#define REDUCE_BETTER w_less
#else
#define REDUCE_BETTER w_greater
#endif

#if REDUCE_SIGNED
#define REDUCE_SUM_T long
#define REDUCE_SUM_FROM_BITS(b) as_long(b)
/* Wrapping addition, and whether it overflowed. */
#define REDUCE_ADD(s, w, overflow)                                                                 \
    do {                                                                                           \
        const long s2 = as_long(as_ulong(s) + as_ulong(w));                                        \
        overflow |= (((s ^ s2) & (w ^ s2)) < 0);                                                   \
        s = s2;                                                                                    \
    } while (0)
#else
#define REDUCE_SUM_T ulong
#define REDUCE_SUM_FROM_BITS(b) (b)
#define REDUCE_ADD(s, w, overflow)                                                                 \
    do {                                                                                           \
        const ulong s2 = s + w;                                                                    \
        overflow |= s2 < w;                                                                        \
        s = s2;                                                                                    \
    } while (0)
#endif

/* Element v joins this work-item's accumulator. */
#if REDUCE_KIND == 1
#define REDUCE_JOIN()                                                                              \
    do {                                                                                           \
        const REDUCE_SUM_T w = (REDUCE_SUM_T)v;                                                    \
        REDUCE_ADD(s, w, overflow);                                                                \
    } while (0)
#elif REDUCE_KIND == 2 && REDUCE_ALL
#define REDUCE_JOIN() (r &= v != 0)
#elif REDUCE_KIND == 2
#define REDUCE_JOIN() (r |= v != 0)
#elif REDUCE_KIND == 3
#define REDUCE_JOIN()                                                                              \
    do {                                                                                           \
        if (!have || REDUCE_BETTER(v, best)) {                                                     \
            best = v;                                                                              \
            at = base + j;                                                                         \
            have = 1;                                                                              \
        }                                                                                          \
    } while (0)
#endif

#if REDUCE_KIND == 0
#define REDUCE_STATE
#elif REDUCE_KIND == 1
#define REDUCE_STATE                                                                               \
    REDUCE_SUM_T s = 0;                                                                            \
    ulong overflow = 0;
#elif REDUCE_KIND == 2
#define REDUCE_STATE int r = REDUCE_ALL;
#else
#define REDUCE_STATE                                                                               \
    REDUCE_T best = 0;                                                                             \
    ulong at = 0;                                                                                  \
    int have = 0;
#endif

#if REDUCE_GPU

__kernel __attribute__((reqd_work_group_size(16, 1, 1))) void weft_reduce(
    REDUCE_PARAMS, __global ulong2 *partials)
{
    const ulong block = get_group_id(0);
    const uint lane = get_local_id(0);
    const ulong begin = block * REDUCE_BLOCK;
    if (begin >= n) return;
    const ulong end = min(begin + (ulong)REDUCE_BLOCK, n);
    __local ulong lbits[16], laux[16];
    __local int lhave[16];
#if REDUCE_KIND == 0
    double acc = REDUCE_LANE_IDENTITY;
#endif
    REDUCE_STATE
    for (ulong j = begin + lane; j < end; j += 16) {
        REDUCE_ELEMENT
#if REDUCE_KIND == 0
        acc REDUCE_LANE_JOIN(double) v;
#else
        REDUCE_JOIN();
#endif
    }
#if REDUCE_KIND == 0
    lbits[lane] = as_ulong(acc);
    laux[lane] = 0;
    lhave[lane] = 1;
#elif REDUCE_KIND == 1
    lbits[lane] = as_ulong(s);
    laux[lane] = overflow;
    lhave[lane] = 1;
#elif REDUCE_KIND == 2
    lbits[lane] = (ulong)r;
    laux[lane] = 0;
    lhave[lane] = 1;
#else
    lbits[lane] = REDUCE_TO_BITS(best);
    laux[lane] = at;
    lhave[lane] = have;
#endif
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lane != 0) return;
#if REDUCE_KIND == 0
    double l[16];
    for (int k = 0; k < 16; k++) l[k] = as_double(lbits[k]);
    for (int w = 8; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) l[k] REDUCE_LANE_JOIN l[k + w];
    partials[block] = (ulong2)(as_ulong(l[0]), 0);
#elif REDUCE_KIND == 1
    REDUCE_SUM_T total = 0;
    ulong flag = 0;
    for (int k = 0; k < 16; k++) {
        flag |= laux[k];
        const REDUCE_SUM_T w = REDUCE_SUM_FROM_BITS(lbits[k]);
        REDUCE_ADD(total, w, flag);
    }
    partials[block] = (ulong2)(as_ulong(total), flag);
#elif REDUCE_KIND == 2
    int v = REDUCE_ALL;
    for (int k = 0; k < 16; k++) {
#if REDUCE_ALL
        v &= (int)lbits[k];
#else
        v |= (int)lbits[k];
#endif
    }
    partials[block] = (ulong2)((ulong)v, 0);
#else
    int found = 0;
    REDUCE_T b = 0;
    ulong where = 0;
    for (int k = 0; k < 16; k++) {
        if (!lhave[k]) continue;
        const REDUCE_T c = REDUCE_FROM_BITS(lbits[k]);
        /* better value, or the same one found earlier in the array */
        if (!found || REDUCE_BETTER(c, b) || (!REDUCE_BETTER(b, c) && laux[k] < where)) {
            b = c;
            where = laux[k];
            found = 1;
        }
    }
    partials[block] = (ulong2)(REDUCE_TO_BITS(b), where);
#endif
}

#else

__kernel void weft_reduce(REDUCE_PARAMS, __global ulong2 *partials)
{
    const ulong block = get_global_id(0);
    const ulong begin = block * REDUCE_BLOCK;
    if (begin >= n) return;
    const ulong end = min(begin + (ulong)REDUCE_BLOCK, n);
#if REDUCE_KIND == 0
    double acc[16];
    for (int l = 0; l < 16; l++) acc[l] = REDUCE_LANE_IDENTITY;
    /* Whole groups of 16 with the lane index a constant: the compiler keeps
     * the 16 accumulators in registers and vectorises across them. */
    ulong j0 = begin;
    for (; j0 + 16 <= end; j0 += 16) {
#pragma unroll
        for (int l = 0; l < 16; l++) {
            const ulong j = j0 + l;
            REDUCE_ELEMENT
            acc[l] REDUCE_LANE_JOIN(double) v;
        }
    }
    for (ulong j = j0; j < end; j++) {
        REDUCE_ELEMENT
        acc[(j - begin) & 15] REDUCE_LANE_JOIN(double) v;
    }
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) acc[l] REDUCE_LANE_JOIN acc[l + w];
    partials[block] = (ulong2)(as_ulong(acc[0]), 0);
#else
    REDUCE_STATE
    for (ulong j = begin; j < end; j++) {
        REDUCE_ELEMENT
        REDUCE_JOIN();
    }
#if REDUCE_KIND == 1
    partials[block] = (ulong2)(as_ulong(s), overflow);
#elif REDUCE_KIND == 2
    partials[block] = (ulong2)((ulong)r, 0);
#else
    partials[block] = (ulong2)(REDUCE_TO_BITS(best), at);
#endif
#endif
}

#endif
