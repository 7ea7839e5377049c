/* Reading element k of a buffer of any dtype, widened: one definition for
 * the bytecode VM, the reductions and the scans on the pool. */
#ifndef WEFT_VALUES_H
#define WEFT_VALUES_H

#include "weft.h"

#include <stddef.h>
#include <stdint.h>

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

#endif
