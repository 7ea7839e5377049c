/* Reading element k of a buffer of any dtype, widened: one definition for
 * the bytecode VM, the reductions and the scans on the pool. */
#ifndef WEFT_VALUES_H
#define WEFT_VALUES_H

#include "weft.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* As a double: exact for floats and for integers below 2^53. */
static inline double weft_load_double(const void *p, weft_dtype t, size_t k)
{
    switch (t) {
    case WEFT_F32:
        return ((const float *)p)[k];
    case WEFT_F64:
        return ((const double *)p)[k];
    case WEFT_I32:
        return ((const int32_t *)p)[k];
    case WEFT_U32:
        return ((const uint32_t *)p)[k];
    case WEFT_I64:
        return (double)((const int64_t *)p)[k];
    case WEFT_U64:
        return (double)((const uint64_t *)p)[k];
    default:
        return ((const uint8_t *)p)[k];
    }
}

/* An integer as 64 bits: signed dtypes sign-extended, unsigned zero-extended. */
static inline uint64_t weft_load_bits(const void *p, weft_dtype t, size_t k)
{
    switch (t) {
    case WEFT_I32:
        return (uint64_t)(int64_t)((const int32_t *)p)[k];
    case WEFT_U32:
        return ((const uint32_t *)p)[k];
    case WEFT_U8:
        return ((const uint8_t *)p)[k];
    default:
        return ((const uint64_t *)p)[k];
    }
}

/* A fold's running value in 64 bits: a double for floats, an integer
 * widened (sign-extended where signed) for the others. */
typedef union weft_acc64 {
    double f;
    int64_t i;
    uint64_t u;
} weft_acc64;

static inline weft_acc64 weft_load_acc(const void *p, weft_dtype t, size_t k)
{
    weft_acc64 a;
    if (t == WEFT_F32 || t == WEFT_F64)
        a.f = weft_load_double(p, t, k);
    else
        a.u = weft_load_bits(p, t, k);
    return a;
}

/* a stored as element k of p, of dtype t (integers wrap to the dtype). */
static inline void weft_store_acc(void *p, weft_dtype t, size_t k, weft_acc64 a)
{
    switch (t) {
    case WEFT_F32:
        ((float *)p)[k] = (float)a.f;
        break;
    case WEFT_F64:
        ((double *)p)[k] = a.f;
        break;
    case WEFT_I32:
        ((int32_t *)p)[k] = (int32_t)(uint32_t)a.u;
        break;
    case WEFT_U32:
        ((uint32_t *)p)[k] = (uint32_t)a.u;
        break;
    case WEFT_U8:
        ((uint8_t *)p)[k] = (uint8_t)a.u;
        break;
    default:
        ((uint64_t *)p)[k] = a.u;
        break;
    }
}

/* The identity of op (WEFT_SUM, WEFT_MIN or WEFT_MAX) over dtype t as the
 * scans carry it in 64 bits: 0 for integer sums and -0.0 for float sums (a
 * sum of only -0.0 stays -0.0, as numpy's cumsum keeps it); for minima and
 * maxima the dtype's far end, a double's bits for floats, sign-extended for
 * signed integers. */
static inline uint64_t weft_fold_identity(weft_reduce_op op, weft_dtype t)
{
    if (op == WEFT_SUM) return t == WEFT_F32 || t == WEFT_F64 ? (uint64_t)1 << 63 : 0;
    int min = op == WEFT_MIN;
    switch (t) {
    case WEFT_F32:
    case WEFT_F64: {
        double d = min ? INFINITY : -INFINITY;
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return bits;
    }
    case WEFT_I32:
        return (uint64_t)(int64_t)(min ? INT32_MAX : INT32_MIN);
    case WEFT_I64:
        return (uint64_t)(min ? INT64_MAX : INT64_MIN);
    case WEFT_U32:
        return min ? UINT32_MAX : 0;
    case WEFT_U8:
        return min ? UINT8_MAX : 0;
    default:
        return min ? UINT64_MAX : 0;
    }
}

#endif
