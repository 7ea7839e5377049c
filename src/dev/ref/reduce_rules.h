/* How every reduction treats values: shared by the pool (ref/expr_host.c) and the
 * final combine (reduce.c), and spelled the same way in the generated OpenCL
 * (expr/codegen_cl.c), so all three agree bit for bit. */
#ifndef WEFT_REDUCE_RULES_H
#define WEFT_REDUCE_RULES_H

#include "../device.h"

#include <math.h>
#include <string.h>

/* NaN first, then -0.0 before +0.0: a total order for floats. */
static inline int weft_less_f(double a, double b)
{
    if (isnan(a)) return !isnan(b);
    return !isnan(b) && (a < b || (a == b && signbit(a) && !signbit(b)));
}

static inline int weft_greater_f(double a, double b)
{
    if (isnan(a)) return !isnan(b);
    return !isnan(b) && (a > b || (a == b && !signbit(a) && signbit(b)));
}

static inline int weft_reduce_uses_lanes(weft_reduce_op op, weft_dtype t)
{
    return op == WEFT_PROD || (op == WEFT_SUM && (t == WEFT_F32 || t == WEFT_F64));
}

/* The partial's bits as a value of type t, widened. */
static inline double weft_partial_f(uint64_t bits, weft_dtype t)
{
    if (t == WEFT_F32) {
        uint32_t u = (uint32_t)bits;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

static inline int64_t weft_partial_i(uint64_t bits, weft_dtype t)
{
    switch (t) {
    case WEFT_I32:
        return (int32_t)(uint32_t)bits;
    case WEFT_U32:
        return (int64_t)(uint32_t)bits;
    default:
        return (int64_t)bits;
    }
}

#endif
