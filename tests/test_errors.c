/* Status codes, per-thread error detail, and NULL / bad input on every call. */
#include "common.h"

#include <pthread.h>

static void test_status_names(void **state)
{
    (void)state;
    assert_int_equal(WEFT_OK, 0);
    assert_non_null(strstr(weft_status_str(WEFT_OK), "WEFT_OK"));
    assert_non_null(strstr(weft_status_str(WEFT_ERR_BUILD), "WEFT_ERR_BUILD"));
    assert_non_null(strstr(weft_status_str((weft_status)999), "unknown"));
    /* Every listed code has its own name. */
#define CHECK_NAME(name, value, msg) assert_non_null(strstr(weft_status_str(WEFT_##name), #name));
    WEFT_STATUS_MAP(CHECK_NAME)
#undef CHECK_NAME
    assert_int_equal(weft_version_number(), WEFT_VERSION_NUMBER);
    assert_string_equal(weft_version_string(), WEFT_VERSION_STRING);
}

static void test_null_handles(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *a = NULL;
    double r;
    size_t n;
    assert_int_equal(weft_ctx_create(NULL, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_array_create(NULL, WEFT_F32, 4, &a), WEFT_ERR_NULL);
    assert_int_equal(weft_array_create(ctx, WEFT_F32, 4, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_array_from(ctx, WEFT_F32, 4, NULL, &a), WEFT_ERR_NULL);
    assert_int_equal(weft_array_wrap(ctx, WEFT_F32, 4, NULL, &a), WEFT_ERR_NULL);
    assert_int_equal(weft_array_read(NULL, 0, 1, &r), WEFT_ERR_NULL);
    assert_int_equal(weft_array_size(NULL, &n), WEFT_ERR_NULL);
    assert_int_equal(weft_axpy(ctx, 1.0, NULL, NULL, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_sum(ctx, NULL, &r, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_future_wait(NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_device_count(NULL, &n), WEFT_ERR_NULL);
    assert_int_equal(weft_ctx_finish(NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_program_build(ctx, NULL, NULL, NULL), WEFT_ERR_NULL);
    assert_non_null(strstr(weft_last_error(), "weft_program_build"));
    /* free accepts NULL */
    weft_array_free(NULL);
    weft_future_release(NULL);
    weft_program_free(NULL);
    weft_ctx_free(NULL);
    weft_ctx_free(ctx);
}

static void test_bad_dtype_and_size(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *a = NULL, *b = NULL, *i32 = NULL;
    double r;
    assert_int_equal(weft_array_create(ctx, (weft_dtype)42, 4, &a), WEFT_ERR_DTYPE);
    assert_null(a);
    assert_int_equal(weft_array_create(ctx, WEFT_F64, SIZE_MAX / 4, &a), WEFT_ERR_SIZE);
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10, &a));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 11, &b));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, 10, &i32));
    assert_int_equal(weft_axpy(ctx, 1.0, a, b, NULL), WEFT_ERR_SIZE);
    assert_non_null(strstr(weft_last_error(), "10"));
    assert_non_null(strstr(weft_last_error(), "11"));
    assert_int_equal(weft_axpy(ctx, 1.0, a, i32, NULL), WEFT_ERR_DTYPE);
    assert_int_equal(weft_sum(ctx, i32, &r, NULL), WEFT_ERR_DTYPE);
    assert_non_null(strstr(weft_last_error(), "i32"));
    assert_int_equal(weft_dtype_size((weft_dtype)-1), 0);
    assert_string_equal(weft_dtype_name((weft_dtype)99), "invalid");
    weft_array_free(a);
    weft_array_free(b);
    weft_array_free(i32);
    weft_ctx_free(ctx);
}

/* A bad binding after the same expression was compiled with good ones: the
 * expression cache must not take it for the cached entry (a scalar's dtype
 * 256 and f32 differ by a multiple of 256). */
static void test_bad_binding_after_a_cache_hit(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 16, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 16, &y));
    weft_bind good[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f32("a", 2)};
    ASSERT_OK(weft_map(ctx, "y = a * x", good, 3, NULL));
    weft_bind bad[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f32("a", 2)};
    bad[2].dtype = (weft_dtype)(WEFT_F32 + 256);
    assert_int_equal(weft_map(ctx, "y = a * x", bad, 3, NULL), WEFT_ERR_DTYPE);
    bad[2].dtype = WEFT_F32;
    bad[1].name = "y y";
    assert_int_equal(weft_map(ctx, "y = a * x", bad, 3, NULL), WEFT_ERR_INVALID_ARG);
    bad[1].name = "x";
    assert_int_equal(weft_map(ctx, "y = a * x", bad, 3, NULL), WEFT_ERR_INVALID_ARG);
    bad[1].name = NULL;
    assert_int_equal(weft_map(ctx, "y = a * x", bad, 3, NULL), WEFT_ERR_NULL);
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

static void *fail_on_other_thread(void *arg)
{
    (void)arg;
    weft_future_wait(NULL);
    return strstr(weft_last_error(), "weft_future_wait") ? (void *)1 : NULL;
}

static void test_error_is_per_thread(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *a;
    assert_int_equal(weft_array_create(ctx, (weft_dtype)77, 1, &a), WEFT_ERR_DTYPE);
    pthread_t t;
    void *ok = NULL;
    pthread_create(&t, NULL, fail_on_other_thread, NULL);
    pthread_join(t, &ok);
    assert_non_null(ok);
    assert_non_null(strstr(weft_last_error(), "dtype 77"));
    weft_ctx_free(ctx);
}

static void test_bad_device_list(void **state)
{
    (void)state;
    weft_options o = test_options();
    o.devices = "gpu,warp-drive";
    weft_ctx *ctx = NULL;
    assert_int_equal(weft_ctx_create(&o, &ctx), WEFT_ERR_INVALID_ARG);
    assert_null(ctx);
    assert_non_null(strstr(weft_last_error(), "warp-drive"));
    o.devices = "host";
    o.weights = WEFT_WEIGHTS_GIVEN; /* without weights */
    assert_int_equal(weft_ctx_create(&o, &ctx), WEFT_ERR_INVALID_ARG);
}

static void test_double_free_detected(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *a;
    double r;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 100, &a));
    ASSERT_OK(weft_array_free(a));
    assert_int_equal(weft_array_free(a), WEFT_ERR_STATE);
    assert_non_null(strstr(weft_last_error(), "freed twice"));
    assert_int_equal(weft_sum(ctx, a, &r, NULL), WEFT_ERR_STATE); /* use after free */
    weft_array *b;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 100, &b));
    weft_future *f;
    ASSERT_OK(weft_sum(ctx, b, &r, &f));
    ASSERT_OK(weft_future_wait(f));
    ASSERT_OK(weft_future_release(f));
    assert_int_equal(weft_future_release(f), WEFT_ERR_STATE);
    ASSERT_OK(weft_array_free(b));
    weft_program *p = NULL;
    ASSERT_OK(weft_program_build(ctx, "__kernel void k(__global int *x) { x[0] = 1; }", NULL, &p));
    ASSERT_OK(weft_program_free(p));
    assert_int_equal(weft_program_free(p), WEFT_ERR_STATE);
    ASSERT_OK(weft_ctx_free(ctx));
    assert_int_equal(weft_ctx_free(ctx), WEFT_ERR_STATE);
    assert_int_equal(weft_ctx_free(NULL), WEFT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_bad_dtype_and_size),
        cmocka_unit_test(test_error_is_per_thread),
        cmocka_unit_test(test_bad_binding_after_a_cache_hit),
        cmocka_unit_test(test_bad_device_list),
        cmocka_unit_test(test_double_free_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
