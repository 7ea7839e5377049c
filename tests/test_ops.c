/* axpy and sum against plain C references on random data and edge sizes. */
#include "common.h"

static const size_t sizes[] = {0, 1, 2, 15, 16, 17, 4095, 4096, 4097, 8191, 65536, 100003, 1 << 20};

static void check_axpy_f32(weft_ctx *ctx, size_t n, float a)
{
    float *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
    float *got = malloc((n + 1) * sizeof *got);
    fill_f32(x, n, n + 1);
    fill_f32(y, n, n + 2);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, n, x, &xa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, n, y, &ya));
    ASSERT_OK(weft_axpy(ctx, a, xa, ya, NULL));
    ASSERT_OK(weft_axpy(ctx, a, xa, ya, NULL)); /* second pass: data already on devices */
    for (size_t i = 0; i < n; i++) {
        y[i] = a * x[i] + y[i];
        y[i] = a * x[i] + y[i];
    }
    ASSERT_OK(weft_array_read(ya, 0, n, got));
    for (size_t i = 0; i < n; i++)
        if (!same_bits(&got[i], &y[i], sizeof(float)))
            fail_msg("f32 n=%zu: y[%zu] = %.9g, want %.9g", n, i, got[i], y[i]);
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    free(y);
    free(got);
}

static void check_axpy_f64(weft_ctx *ctx, size_t n, double a)
{
    double *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
    double *got = malloc((n + 1) * sizeof *got);
    fill_f64(x, n, n + 3);
    fill_f64(y, n, n + 4);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, n, x, &xa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, n, y, &ya));
    ASSERT_OK(weft_axpy(ctx, a, xa, ya, NULL));
    for (size_t i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
    ASSERT_OK(weft_array_read(ya, 0, n, got));
    for (size_t i = 0; i < n; i++)
        if (!same_bits(&got[i], &y[i], sizeof(double)))
            fail_msg("f64 n=%zu: y[%zu] = %.17g, want %.17g", n, i, got[i], y[i]);
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    free(y);
    free(got);
}

static void test_axpy(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        check_axpy_f32(ctx, sizes[s], 0.7f);
        check_axpy_f64(ctx, sizes[s], -2.25);
    }
    weft_ctx_free(ctx);
}

static void check_sum(weft_ctx *ctx, size_t n, int is_f64)
{
    size_t elem = is_f64 ? 8 : 4;
    void *x = malloc((n + 1) * elem);
    if (is_f64)
        fill_f64(x, n, n * 5 + 1);
    else
        fill_f32(x, n, n * 5 + 2);
    weft_array *xa;
    ASSERT_OK(weft_array_from(ctx, is_f64 ? WEFT_F64 : WEFT_F32, n, x, &xa));
    double got = -1;
    ASSERT_OK(weft_sum(ctx, xa, &got, NULL));
    double want = reference_sum(x, is_f64, n);
    if (!same_bits(&got, &want, sizeof got))
        fail_msg("%s sum n=%zu: %.17g, want %.17g", is_f64 ? "f64" : "f32", n, got, want);
    /* And close to an exact sum: the block order is a reordering, not an approximation. */
    long double exact = 0;
    for (size_t i = 0; i < n; i++)
        exact += is_f64 ? ((double *)x)[i] : ((float *)x)[i];
    assert_true(fabsl((long double)got - exact) <= 1e-12L * (1 + n));
    weft_array_free(xa);
    free(x);
}

static void test_sum(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        check_sum(ctx, sizes[s], 0);
        check_sum(ctx, sizes[s], 1);
    }
    weft_ctx_free(ctx);
}

static void test_sum_special_values(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    double x[5] = {1.0, INFINITY, 2.0, 0, 0};
    weft_array *a;
    double r;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, 3, x, &a));
    ASSERT_OK(weft_sum(ctx, a, &r, NULL));
    assert_true(isinf(r) && r > 0);
    weft_array_free(a);
    x[1] = NAN;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, 3, x, &a));
    ASSERT_OK(weft_sum(ctx, a, &r, NULL));
    assert_true(isnan(r));
    weft_array_free(a);
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, 0, x, &a));
    r = 5;
    ASSERT_OK(weft_sum(ctx, a, &r, NULL));
    assert_true(r == 0.0);
    weft_array_free(a);
    weft_ctx_free(ctx);
}

/* The same bits whatever the split: one device, two, uneven weights, host. */
static void test_sum_reproducible_across_splits(void **state)
{
    (void)state;
    enum { N = 300007 };
    float *x = malloc(N * sizeof *x);
    fill_f32(x, N, 99);
    for (int i = 0; i < N; i += 7)
        x[i] *= 1e6f; /* wide dynamic range makes any reordering visible */
    weft_ctx *probe = test_ctx();
    size_t ndev;
    weft_device_count(probe, &ndev);
    weft_ctx_free(probe);
    double given[4][8] = {{1, 1, 1, 1, 1, 1, 1, 1},
                          {1, 3, 1, 1, 1, 1, 1, 1},
                          {0, 1, 5, 1, 1, 1, 1, 1},
                          {1, 0, 0, 0, 0, 0, 0, 0}};
    double first = 0;
    for (int w = 0; w < 4; w++) {
        weft_options o = test_options();
        o.weights = WEFT_WEIGHTS_GIVEN;
        o.given = given[w];
        o.given_count = ndev;
        weft_ctx *ctx = test_ctx_with(&o);
        weft_array *a;
        double r;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &a));
        ASSERT_OK(weft_sum(ctx, a, &r, NULL));
        if (w == 0) first = r;
        if (!same_bits(&r, &first, sizeof r)) fail_msg("split %d: %.17g vs %.17g", w, r, first);
        weft_array_free(a);
        weft_ctx_free(ctx);
    }
    double want = reference_sum(x, 0, N);
    assert_true(same_bits(&first, &want, sizeof want));
    free(x);
}

static void test_pieces_cover_every_device(void **state)
{
    (void)state;
    weft_options o = test_options();
    o.weights = WEFT_WEIGHTS_EVEN;
    weft_ctx *ctx = test_ctx_with(&o);
    size_t devices = selected_opencl(ctx);
    enum { N = 1 << 18 };
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    ASSERT_OK(weft_axpy(ctx, 1.0, x, y, NULL));
    weft_piece_report pieces[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
    assert_int_equal(count, devices ? devices : 1);
    size_t next = 0;
    for (size_t p = 0; p < count; p++) {
        assert_int_equal(pieces[p].begin, next); /* contiguous, in order */
        assert_int_equal(pieces[p].begin % WEFT_SUM_BLOCK, 0);
        assert_false(pieces[p].fell_back);
        assert_int_equal(pieces[p].device, devices ? p + 1 : 0);
        next = pieces[p].end;
    }
    assert_int_equal(next, N);
    if (devices == 2) assert_int_equal(pieces[0].end, N / 2); /* even split */
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

/* With the measured threshold, 100 elements never pay for a launch. */
static void test_small_work_stays_on_host(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx_with(NULL);
    int64_t small = -1;
    ASSERT_OK(weft_ctx_small_elements(ctx, &small));
    if (selected_opencl(ctx) > 0) assert_true(small >= 100);
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 100, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 100, &y));
    ASSERT_OK(weft_axpy(ctx, 1.0, x, y, NULL));
    weft_piece_report piece;
    size_t count;
    ASSERT_OK(weft_ctx_last_pieces(ctx, &piece, 1, &count));
    assert_int_equal(count, 1);
    assert_int_equal(piece.device, 0);
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_axpy),
        cmocka_unit_test(test_sum),
        cmocka_unit_test(test_sum_special_values),
        cmocka_unit_test(test_sum_reproducible_across_splits),
        cmocka_unit_test(test_pieces_cover_every_device),
        cmocka_unit_test(test_small_work_stays_on_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
