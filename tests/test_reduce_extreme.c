/* The vectorised min/max of a block (src/dev/ref/reduce_extreme.c) against
 * a plain fold that keeps the first element nothing beats: a NaN beats all
 * (the first NaN stays), -0.0 is less than +0.0, equal values keep the
 * first. Random blocks of every size up to 300 of each dtype, made of few
 * distinct values (many ties), signed zeros, NaNs of both signs and other
 * payloads, infinities and integer extremes. */
#include "common.h"
#include "../src/dev/ref/reduce_extreme.h"

#include <math.h>
#include <stdint.h>

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static double as_double(const void *v, weft_dtype t, size_t k)
{
    return t == WEFT_F32 ? ((const float *)v)[k] : ((const double *)v)[k];
}

/* 1 when element a beats element b. */
static int beats(const void *v, weft_dtype t, size_t a, size_t b, int want_less)
{
    if (t == WEFT_F32 || t == WEFT_F64) {
        double x = as_double(v, t, a), y = as_double(v, t, b);
        if (isnan(x)) return !isnan(y);
        if (isnan(y)) return 0;
        if (x == y) return want_less ? signbit(x) && !signbit(y) : !signbit(x) && signbit(y);
        return want_less ? x < y : x > y;
    }
    if (t == WEFT_I32 || t == WEFT_I64) {
        int64_t x = t == WEFT_I32 ? ((const int32_t *)v)[a] : ((const int64_t *)v)[a];
        int64_t y = t == WEFT_I32 ? ((const int32_t *)v)[b] : ((const int64_t *)v)[b];
        return want_less ? x < y : x > y;
    }
    uint64_t x = t == WEFT_U32 ? ((const uint32_t *)v)[a] : ((const uint64_t *)v)[a];
    uint64_t y = t == WEFT_U32 ? ((const uint32_t *)v)[b] : ((const uint64_t *)v)[b];
    return want_less ? x < y : x > y;
}

static size_t reference(const void *v, weft_dtype t, size_t n, int want_less)
{
    size_t best = 0;
    for (size_t k = 1; k < n; k++)
        if (beats(v, t, k, best, want_less)) best = k;
    return best;
}

static void fill(void *v, weft_dtype t, size_t n)
{
    const double floats[] = {0.0, -0.0, 1.5, -1.5, INFINITY, -INFINITY, 1e-310, -1e-310, 3.0};
    const uint64_t ints[] = {
        0,           1,           7,          UINT64_MAX, (uint64_t)INT64_MIN, (uint64_t)INT64_MAX,
        0x80000000u, 0x7fffffffu, 0xffffffffu};
    int nan_rate = (int)(next() % 4); /* 0: no NaN in the block */
    for (size_t k = 0; k < n; k++) {
        uint64_t r = next();
        int nan = nan_rate && r % 97 < (uint64_t)nan_rate;
        size_t pick = (size_t)(r >> 8) % 9;
        if (t == WEFT_F32) {
            float f = (float)floats[pick];
            uint32_t bits = 0x7fc00000u | (uint32_t)(r >> 40) | (r & 1 ? 0x80000000u : 0);
            if (nan) memcpy(&f, &bits, 4);
            ((float *)v)[k] = f;
        } else if (t == WEFT_F64) {
            double d = floats[pick];
            uint64_t bits = 0x7ff8000000000000u | (r >> 20) | (r & 1 ? 0x8000000000000000u : 0);
            if (nan) memcpy(&d, &bits, 8);
            ((double *)v)[k] = d;
        } else if (t == WEFT_I32 || t == WEFT_U32) {
            ((uint32_t *)v)[k] = (uint32_t)ints[pick];
        } else {
            ((uint64_t *)v)[k] = ints[pick];
        }
    }
}

static void test_first_extreme_matches_the_fold(void **state)
{
    (void)state;
    const weft_dtype types[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U32, WEFT_I64, WEFT_U64};
    uint64_t v[300];
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++)
        for (size_t n = 1; n <= 300; n++)
            for (int round = 0; round < 6; round++) {
                fill(v, types[ti], n);
                for (int want_less = 0; want_less < 2; want_less++) {
                    size_t got = weft_ref_first_extreme(v, types[ti], n, want_less);
                    size_t want = reference(v, types[ti], n, want_less);
                    if (got != want)
                        fail_msg("dtype %d, n %zu, %s: element %zu, the fold keeps %zu",
                                 (int)types[ti], n, want_less ? "min" : "max", got, want);
                }
            }
}

static void test_other_dtypes_are_left_to_the_fold(void **state)
{
    (void)state;
    uint8_t v[5] = {1, 9, 3, 9, 0};
    assert_int_equal(weft_ref_first_extreme(v, WEFT_U8, 5, 0), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_extreme_matches_the_fold),
        cmocka_unit_test(test_other_dtypes_are_left_to_the_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
