/* weft_random: Philox4x32-10's known-answer vectors (and Random123 itself
 * where it is installed), every dtype against the per-element functions of
 * include/weft_random.h at any offset, ranges, and the moments of the
 * normals. */
#include "common.h"

#include <weft_random.h>
#if defined(__has_include)
#if __has_include(<Random123/philox.h>)
#include <Random123/philox.h>
#define HAVE_RANDOM123 1
#endif
#endif

static weft_ctx *ctx, *ctx1;

static int setup(void **state)
{
    (void)state;
    ctx = test_ctx();
    weft_options o = test_options();
    o.num_threads = 1;
    ctx1 = test_ctx_with(&o);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_ctx_free(ctx);
    weft_ctx_free(ctx1);
    return 0;
}

/* Random123's kat_vectors for philox4x32, 10 rounds: counter, key, result. */
static void test_known_answers(void **state)
{
    (void)state;
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int v = 0; v < 3; v++) {
        weft_philox4x32 c = {{kat[v][0], kat[v][1], kat[v][2], kat[v][3]}};
        weft_philox4x32 r = weft_philox4x32_10(c, kat[v][4], kat[v][5]);
        for (int w = 0; w < 4; w++)
            assert_int_equal(r.v[w], kat[v][6 + w]);
    }
    /* The first KAT through the public call: seed 0, elements 0..3. */
    weft_array *a;
    uint32_t got[4];
    ASSERT_OK(weft_array_create(ctx, WEFT_U32, 4, &a));
    ASSERT_OK(weft_random(ctx, a, WEFT_UNIFORM, 0, 0, NULL));
    ASSERT_OK(weft_array_read(a, 0, 4, got));
    for (int w = 0; w < 4; w++)
        assert_int_equal(got[w], kat[0][6 + w]);
    weft_array_free(a);
#ifdef HAVE_RANDOM123
    uint64_t seed = 3;
    for (int i = 0; i < 10000; i++) {
        philox4x32_ctr_t c = {{(uint32_t)test_rng(&seed), (uint32_t)test_rng(&seed),
                               (uint32_t)test_rng(&seed), (uint32_t)test_rng(&seed)}};
        philox4x32_key_t k = {{(uint32_t)test_rng(&seed), (uint32_t)test_rng(&seed)}};
        philox4x32_ctr_t want = philox4x32_R(10, c, k);
        weft_philox4x32 mine = {{c.v[0], c.v[1], c.v[2], c.v[3]}};
        weft_philox4x32 r = weft_philox4x32_10(mine, k.v[0], k.v[1]);
        assert_memory_equal(r.v, want.v, sizeof r.v);
    }
#endif
}

/* Element e of the stream, from the header's per-element functions. */
static void expected(weft_dtype t, int dist, uint64_t seed, uint64_t e, void *out, size_t k)
{
    switch (t) {
    case WEFT_F32:
        ((float *)out)[k] = dist == WEFT_NORMAL ? weft_rng_normal_f32_at(seed, e)
                                                : weft_rng_uniform_f32(weft_rng_u32_at(seed, e));
        break;
    case WEFT_F64:
        ((double *)out)[k] = dist == WEFT_NORMAL ? weft_rng_normal_f64_at(seed, e)
                                                 : weft_rng_uniform_f64(weft_rng_u64_at(seed, e));
        break;
    case WEFT_I32:
    case WEFT_U32:
        ((uint32_t *)out)[k] = weft_rng_u32_at(seed, e);
        break;
    case WEFT_U8:
        ((uint8_t *)out)[k] = (uint8_t)weft_rng_u32_at(seed, e);
        break;
    default:
        ((uint64_t *)out)[k] = weft_rng_u64_at(seed, e);
    }
}

static void test_streams(void **state)
{
    (void)state;
    const weft_dtype ts[] = {WEFT_F32, WEFT_F64, WEFT_I32, WEFT_U32, WEFT_I64, WEFT_U64, WEFT_U8};
    const size_t sizes[] = {0, 1, 2, 3, 5, 255, 257, 65537, 200001};
    const uint64_t offsets[] = {0, 1, 3, 0xfffffffffull, UINT64_MAX - 300000};
    for (size_t d = 0; d < 7; d++)
        for (int dist = 0; dist < 2; dist++) {
            if (dist == WEFT_NORMAL && ts[d] != WEFT_F32 && ts[d] != WEFT_F64) continue;
            for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
                for (size_t o = 0; o < 5; o++) {
                    size_t n = sizes[s], es = weft_dtype_size(ts[d]);
                    uint64_t seed = 0x123456789abcdefull * (o + 1);
                    void *want = malloc(n * es + 8), *got = malloc(n * es + 8);
                    for (size_t k = 0; k < n; k++)
                        expected(ts[d], dist, seed, offsets[o] + k, want, k);
                    weft_array *a;
                    weft_ctx *c = (s + o) % 2 ? ctx1 : ctx;
                    ASSERT_OK(weft_array_create(c, ts[d], n, &a));
                    weft_future *f;
                    ASSERT_OK(weft_random(c, a, dist, seed, offsets[o], &f));
                    ASSERT_OK(weft_future_wait(f));
                    weft_future_release(f);
                    ASSERT_OK(weft_array_read(a, 0, n, got));
                    if (!same_bits(got, want, n * es))
                        fail_msg("random %s dist %d n=%zu offset %llu differs",
                                 weft_dtype_name(ts[d]), dist, n, (unsigned long long)offsets[o]);
                    weft_array_free(a);
                    free(want);
                    free(got);
                }
        }
}

/* Uniforms in [0, 1) with mean 1/2; normals with mean 0 and deviation 1. */
static void test_moments(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    double *x = malloc(n * sizeof *x);
    float *y = malloc(n * sizeof *y);
    weft_array *a, *b;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, n, &a));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, n, &b));
    for (int dist = 0; dist < 2; dist++) {
        ASSERT_OK(weft_random(ctx, a, dist, 42, 0, NULL));
        ASSERT_OK(weft_random(ctx, b, dist, 43, 0, NULL));
        ASSERT_OK(weft_array_read(a, 0, n, x));
        ASSERT_OK(weft_array_read(b, 0, n, y));
        double s = 0, s2 = 0, t = 0, t2 = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(isfinite(x[i]) && isfinite(y[i]));
            if (dist == WEFT_UNIFORM) assert_true(x[i] >= 0 && x[i] < 1 && y[i] >= 0 && y[i] < 1);
            s += x[i];
            s2 += x[i] * x[i];
            t += y[i];
            t2 += (double)y[i] * y[i];
        }
        double mean = s / n, var = s2 / n - mean * mean, tm = t / n, tv = t2 / n - tm * tm;
        double want_mean = dist == WEFT_UNIFORM ? 0.5 : 0.0;
        double want_var = dist == WEFT_UNIFORM ? 1.0 / 12 : 1.0;
        assert_true(fabs(mean - want_mean) < 0.005 && fabs(tm - want_mean) < 0.005);
        assert_true(fabs(var - want_var) < 0.01 && fabs(tv - want_var) < 0.01);
    }
    weft_array_free(a);
    weft_array_free(b);
    free(x);
    free(y);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    weft_array *i32, *f32;
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, 10, &i32));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10, &f32));
    assert_int_equal(weft_random(NULL, f32, WEFT_UNIFORM, 1, 0, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_random(ctx, NULL, WEFT_UNIFORM, 1, 0, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_random(ctx, f32, 7, 1, 0, NULL), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_random(ctx, i32, WEFT_NORMAL, 1, 0, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_random(ctx, f32, WEFT_UNIFORM, 1, UINT64_MAX - 3, NULL), WEFT_ERR_RANGE);
    assert_int_equal(weft_random(ctx1, f32, WEFT_UNIFORM, 1, 0, NULL), WEFT_ERR_INVALID_ARG);
    weft_array_free(i32);
    weft_array_free(f32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_moments),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
