/* Arrays: every dtype, ranges, wrapping, residency across devices, and arrays
 * split into several buffers because they exceed the max allocation. */
#include "common.h"

static const size_t sizes[] = {0, 1, 3, 4095, 4096, 4097, 12289, 65537};

static void test_round_trip_every_dtype(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    for (int t = 0; t < WEFT_DTYPE_COUNT; t++) {
        size_t elem = weft_dtype_size((weft_dtype)t);
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            size_t n = sizes[s];
            unsigned char *src = malloc(n * elem + 1), *dst = malloc(n * elem + 1);
            uint64_t seed = n * 31 + (uint64_t)t;
            for (size_t i = 0; i < n * elem; i++)
                src[i] = (unsigned char)test_rng(&seed);
            weft_array *a;
            ASSERT_OK(weft_array_from(ctx, (weft_dtype)t, n, src, &a));
            size_t got_n;
            weft_dtype got_t;
            ASSERT_OK(weft_array_size(a, &got_n));
            ASSERT_OK(weft_array_dtype(a, &got_t));
            assert_int_equal(got_n, n);
            assert_int_equal(got_t, t);
            ASSERT_OK(weft_array_read(a, 0, n, dst));
            assert_true(same_bits(src, dst, n * elem));
            weft_array_free(a);
            free(src);
            free(dst);
        }
    }
    weft_ctx_free(ctx);
}

static void test_create_is_zeroed(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *a;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 10000, &a));
    double *x = malloc(10000 * sizeof *x);
    ASSERT_OK(weft_array_read(a, 0, 10000, x));
    for (int i = 0; i < 10000; i++)
        assert_true(x[i] == 0.0);
    free(x);
    weft_array_free(a);
    weft_ctx_free(ctx);
}

static void test_ranges(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    enum { N = 20000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    fill_f32(x, N, 7);
    weft_array *a, *ones;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &a));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ones));
    /* Move a's pieces onto the devices, then write ranges that straddle pieces. */
    ASSERT_OK(weft_axpy(ctx, 1.0, ones, a, NULL));
    float patch[5000];
    for (int i = 0; i < 5000; i++)
        patch[i] = (float)i;
    ASSERT_OK(weft_array_write(a, 3000, 5000, patch));
    memcpy(x + 3000, patch, sizeof patch);
    ASSERT_OK(weft_array_write(a, N - 1, 1, patch + 7));
    x[N - 1] = 7;
    ASSERT_OK(weft_array_read(a, 0, N, y));
    assert_true(same_bits(x, y, N * sizeof *x));
    ASSERT_OK(weft_array_read(a, 4000, 10, y));
    assert_true(same_bits(x + 4000, y, 10 * sizeof *x));
    assert_int_equal(weft_array_read(a, N - 2, 3, y), WEFT_ERR_RANGE);
    assert_non_null(strstr(weft_last_error(), "outside"));
    assert_int_equal(weft_array_read(a, N + 1, 0, y), WEFT_ERR_RANGE);
    assert_int_equal(weft_array_write(a, SIZE_MAX, 2, y), WEFT_ERR_RANGE);
    assert_int_equal(weft_array_read(a, 0, 1, NULL), WEFT_ERR_NULL);
    ASSERT_OK(weft_array_read(a, N, 0, y));    /* empty range at the end */
    ASSERT_OK(weft_array_read(a, 0, 0, NULL)); /* nothing to copy: no buffer needed */
    weft_array_free(a);
    weft_array_free(ones);
    free(x);
    free(y);
    weft_ctx_free(ctx);
}

static void test_wrap_aligned_and_not(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    enum { N = 50000 };
    size_t align = weft_array_wrap_alignment();
    assert_true(align >= 64 && (align & (align - 1)) == 0);
    float *aligned = aligned_alloc(4096, (N * sizeof(float) + 4095) / 4096 * 4096);
    float *odd = (float *)((char *)malloc(N * sizeof(float) + 64) + 4); /* misaligned */
    float *x = malloc(N * sizeof *x);
    fill_f32(x, N, 11);
    float *targets[2] = {aligned, odd};
    for (int t = 0; t < 2; t++) {
        float *data = targets[t];
        for (int i = 0; i < N; i++)
            data[i] = (float)i;
        weft_array *w, *xa;
        ASSERT_OK(weft_array_wrap(ctx, WEFT_F32, N, data, &w));
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_axpy(ctx, 2.0, xa, w, NULL));
        ASSERT_OK(weft_array_sync(w)); /* the wrapped memory is now current */
        for (int i = 0; i < N; i++) {
            float want = 2.0f * x[i] + (float)i;
            if (!same_bits(&want, &data[i], sizeof want))
                fail_msg("wrap %d: element %d is %g, want %g", t, i, data[i], want);
        }
        weft_array_free(w);
        weft_array_free(xa);
    }
    free(aligned);
    free((char *)odd - 4);
    free(x);
    weft_ctx_free(ctx);
}

/* A tiny max allocation splits each piece into many buffers. */
static void test_larger_than_max_alloc(void **state)
{
    (void)state;
    weft_options o = test_options();
    o.max_alloc = 3 * 4096 * sizeof(float) + 100; /* 3 granules of f32 */
    weft_ctx *ctx = test_ctx_with(&o);
    weft_device_info info;
    size_t ndev;
    weft_device_count(ctx, &ndev);
    if (ndev > 1) {
        weft_device_get_info(ctx, 1, &info);
        assert_true(info.max_alloc_bytes == o.max_alloc);
    }
    enum { N = 100003 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *got = malloc(N * sizeof *got);
    fill_f32(x, N, 1);
    fill_f32(y, N, 2);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, y, &ya));
    ASSERT_OK(weft_axpy(ctx, -1.5, xa, ya, NULL));
    for (int i = 0; i < N; i++)
        y[i] = -1.5f * x[i] + y[i];
    ASSERT_OK(weft_array_read(ya, 0, N, got));
    assert_true(same_bits(y, got, N * sizeof *y));
    double sum;
    ASSERT_OK(weft_sum(ctx, ya, &sum, NULL));
    double want = reference_sum(y, 0, N);
    assert_true(same_bits(&sum, &want, sizeof sum));
    /* f64 is split at different element counts than f32. */
    double *xd = malloc(N * sizeof *xd);
    fill_f64(xd, N, 3);
    weft_array *da;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, N, xd, &da));
    ASSERT_OK(weft_sum(ctx, da, &sum, NULL));
    want = reference_sum(xd, 1, N);
    assert_true(same_bits(&sum, &want, sizeof sum));
    weft_array_free(da);
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    free(y);
    free(got);
    free(xd);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_dtype),
        cmocka_unit_test(test_create_is_zeroed),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_wrap_aligned_and_not),
        cmocka_unit_test(test_larger_than_max_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
