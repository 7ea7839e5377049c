/* Min and max in two passes the compiler vectorises, instead of one fold
 * that branches on every element (a max of 10^7 doubles took 25 ms on the
 * pool, a sum 2). Each value becomes a signed integer key in the order the
 * fold uses: floats' bits with the magnitude flipped when negative (so -0.0
 * sorts below +0.0), unsigned values with the top bit flipped; a min takes
 * the max of the complemented keys. The first pass finds the best key and
 * whether a NaN is there (a NaN beats everything); the second finds the
 * first element with that key, or the first NaN. Keys are one-to-one with
 * bits, so the element found is the one the fold keeps, bit for bit.
 * The 32- and 64-bit loops stay apart on purpose: one body over 64-bit keys
 * (32-bit values widened) ran a max of 1000 floats in 1.05 us, against 0.32
 * here (half the lanes, and no 64-bit max instruction in AVX2). */
#include "reduce_extreme.h"
#include "../../core/simd.h"

#include <stdint.h>
#include <string.h>

enum { CHUNK = 16 };

/* What turns a dtype's bits into its key, with no branch in the loops:
 * key = bits ^ (negative ? flip_negative : 0) ^ flip_top; a NaN's bits
 * without the sign are above nan_above (never, for integers). */
typedef struct order32 {
    uint32_t flip_negative, flip_top, nan_above;
} order32;

typedef struct order64 {
    uint64_t flip_negative, flip_top, nan_above;
} order64;

static inline uint32_t load32(const unsigned char *v, size_t k)
{
    uint32_t b;
    memcpy(&b, v + 4 * k, 4);
    return b;
}

static inline uint64_t load64(const unsigned char *v, size_t k)
{
    uint64_t b;
    memcpy(&b, v + 8 * k, 8);
    return b;
}

static inline int32_t key32(uint32_t b, order32 o)
{
    return (int32_t)(b ^ ((uint32_t)((int32_t)b >> 31) & o.flip_negative) ^ o.flip_top);
}

static inline int64_t key64(uint64_t b, order64 o)
{
    return (int64_t)(b ^ ((uint64_t)((int64_t)b >> 63) & o.flip_negative) ^ o.flip_top);
}

static inline int nan32(uint32_t b, order32 o)
{
    return (b & 0x7fffffffu) > o.nan_above;
}

static inline int nan64(uint64_t b, order64 o)
{
    return (b & 0x7fffffffffffffffu) > o.nan_above;
}

/* The first index of [0, n) whose element is a NaN, or has the key best,
 * looked for a chunk at a time so the test of a chunk vectorises; n when
 * none. */
static size_t first_nan32(const unsigned char *v, order32 o, size_t n)
{
    size_t c = 0;
    for (; c + CHUNK <= n; c += CHUNK) {
        int any = 0;
        for (size_t k = c; k < c + CHUNK; k++)
            any |= nan32(load32(v, k), o);
        if (any) break;
    }
    while (c < n && !nan32(load32(v, c), o))
        c++;
    return c;
}

static size_t first_key32(const unsigned char *v, order32 o, size_t n, int32_t flip, int32_t best)
{
    size_t c = 0;
    for (; c + CHUNK <= n; c += CHUNK) {
        int any = 0;
        for (size_t k = c; k < c + CHUNK; k++)
            any |= (key32(load32(v, k), o) ^ flip) == best;
        if (any) break;
    }
    while (c < n && (key32(load32(v, c), o) ^ flip) != best)
        c++;
    return c;
}

static size_t first_nan64(const unsigned char *v, order64 o, size_t n)
{
    size_t c = 0;
    for (; c + CHUNK <= n; c += CHUNK) {
        int any = 0;
        for (size_t k = c; k < c + CHUNK; k++)
            any |= nan64(load64(v, k), o);
        if (any) break;
    }
    while (c < n && !nan64(load64(v, c), o))
        c++;
    return c;
}

static size_t first_key64(const unsigned char *v, order64 o, size_t n, int64_t flip, int64_t best)
{
    size_t c = 0;
    for (; c + CHUNK <= n; c += CHUNK) {
        int any = 0;
        for (size_t k = c; k < c + CHUNK; k++)
            any |= (key64(load64(v, k), o) ^ flip) == best;
        if (any) break;
    }
    while (c < n && (key64(load64(v, c), o) ^ flip) != best)
        c++;
    return c;
}

WEFT_AVX2_CLONES
static size_t first_extreme32(const unsigned char *v, order32 o, size_t n, int32_t flip)
{
    int32_t best = INT32_MIN;
    int nan = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t b = load32(v, k);
        int32_t key = key32(b, o) ^ flip;
        best = key > best ? key : best;
        nan |= nan32(b, o);
    }
    return nan ? first_nan32(v, o, n) : first_key32(v, o, n, flip, best);
}

WEFT_AVX2_CLONES
static size_t first_extreme64(const unsigned char *v, order64 o, size_t n, int64_t flip)
{
    int64_t best = INT64_MIN;
    int nan = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t b = load64(v, k);
        int64_t key = key64(b, o) ^ flip;
        best = key > best ? key : best;
        nan |= nan64(b, o);
    }
    return nan ? first_nan64(v, o, n) : first_key64(v, o, n, flip, best);
}

size_t weft_ref_first_extreme(const void *values, weft_dtype t, size_t n, int want_less)
{
    const order32 f32 = {0x7fffffffu, 0, 0x7f800000u}, i32 = {0, 0, UINT32_MAX},
                  u32 = {0, 0x80000000u, UINT32_MAX};
    const order64 f64 = {0x7fffffffffffffffu, 0, 0x7ff0000000000000u}, i64 = {0, 0, UINT64_MAX},
                  u64 = {0, 0x8000000000000000u, UINT64_MAX};
    switch (t) {
    case WEFT_F32:
        return first_extreme32(values, f32, n, want_less ? -1 : 0);
    case WEFT_I32:
        return first_extreme32(values, i32, n, want_less ? -1 : 0);
    case WEFT_U32:
        return first_extreme32(values, u32, n, want_less ? -1 : 0);
    case WEFT_F64:
        return first_extreme64(values, f64, n, want_less ? -1 : 0);
    case WEFT_I64:
        return first_extreme64(values, i64, n, want_less ? -1 : 0);
    case WEFT_U64:
        return first_extreme64(values, u64, n, want_less ? -1 : 0);
    default:
        return n;
    }
}
