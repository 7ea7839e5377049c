/* What the language needs to know of dtypes. */
#include "expr.h"

#include <math.h>

int weft_dtype_is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

int weft_dtype_is_signed(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_I64 || weft_dtype_is_float(t);
}

/* A 64-bit integer to f32 rounded once, to nearest even, in integer
 * arithmetic: the hardware conversion does the same, but emulators (valgrind)
 * go through double and round twice. Constants and scalars take this path. */
float weft_u64_to_f32(uint64_t u)
{
    if (u < ((uint64_t)1 << 24)) return (float)u; /* exact */
    int shift = 64 - 24 - __builtin_clzll(u);     /* bits below the 24 kept */
    uint64_t kept = u >> shift, rest = u & ((((uint64_t)1) << shift) - 1);
    uint64_t half = (uint64_t)1 << (shift - 1);
    if (rest > half || (rest == half && (kept & 1))) kept++; /* may reach 2^24: still exact */
    return ldexpf((float)kept, shift);
}

float weft_i64_to_f32(int64_t i)
{
    uint64_t magnitude = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    float f = weft_u64_to_f32(magnitude);
    return i < 0 ? -f : f;
}
