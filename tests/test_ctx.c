/* Contexts and devices: discovery, selection, introspection, set-aside reasons. */
#include "common.h"

#include <float.h>

static int opencl_expected(void)
{
    /* The no-OpenCL setup points the ICD loader at an empty directory. */
    const char *vendors = getenv("OCL_ICD_VENDORS");
    return !(vendors && strstr(vendors, "empty"));
}

static void test_host_is_device_zero(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    size_t n = 0;
    ASSERT_OK(weft_device_count(ctx, &n));
    assert_true(n >= 1);
    weft_device_info info;
    ASSERT_OK(weft_device_get_info(ctx, 0, &info));
    assert_int_equal(info.kind, WEFT_DEVICE_HOST);
    assert_true(info.usable);
    assert_true(info.compute_units >= 1);
    assert_int_equal(weft_device_get_info(ctx, n, &info), WEFT_ERR_RANGE);
    int threads = 0;
    ASSERT_OK(weft_ctx_num_threads(ctx, &threads));
    assert_int_equal((unsigned)threads, info.compute_units);
    weft_ctx_free(ctx);
}

static void test_opencl_devices_described(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    size_t n = 0;
    weft_device_count(ctx, &n);
    if (!opencl_expected()) {
        assert_int_equal(n, 1);
        /* The reason reaches the caller: error -1001 from the ICD loader. */
        assert_non_null(strstr(weft_ctx_notes(ctx), "no OpenCL platform"));
        assert_true(strstr(weft_ctx_notes(ctx), "-1001") ||
                    strstr(weft_ctx_notes(ctx), "WEFT_WITH_OPENCL=OFF"));
        weft_device_info host;
        weft_device_get_info(ctx, 0, &host);
        assert_true(host.selected);
        weft_ctx_free(ctx);
        return;
    }
    assert_true(n >= 2);
    const char *pocl = getenv("POCL_DEVICES");
    if (pocl && strcmp(pocl, "pthread pthread") == 0) assert_int_equal(n, 3);
    for (size_t d = 1; d < n; d++) {
        weft_device_info info;
        ASSERT_OK(weft_device_get_info(ctx, d, &info));
        assert_true(info.usable);
        assert_true(info.selected);
        assert_int_equal(info.kind, WEFT_DEVICE_CPU);
        assert_true(strlen(info.name) > 0);
        assert_true(strlen(info.vendor) > 0);
        assert_true(strlen(info.driver_version) > 0);
        assert_true(info.global_mem_bytes > 0);
        assert_true(info.max_alloc_bytes > 0 && info.max_alloc_bytes <= info.global_mem_bytes);
        assert_true(info.compute_units > 0);
        assert_true(info.weight > 0);
        const char *impl;
        ASSERT_OK(weft_device_impl(ctx, d, "axpy", &impl));
        const char *klass = getenv("WEFT_KERNEL_CLASS");
        assert_string_equal(impl, klass && !strcmp(klass, "gpu") ? "opencl-gpu" : "opencl-cpu");
    }
    /* The pool shares cores with the PoCL CPU device: it takes no pieces. */
    weft_device_info host;
    weft_device_get_info(ctx, 0, &host);
    assert_false(host.selected);
    assert_non_null(strstr(host.reason, "shares its cores"));
    const char *impl;
    ASSERT_OK(weft_device_impl(ctx, 0, "sum", &impl));
    assert_string_equal(impl, "reference");
    assert_int_equal(weft_device_impl(ctx, 0, "teleport", &impl), WEFT_ERR_INVALID_ARG);
    weft_ctx_free(ctx);
}

static void test_select_host_only(void **state)
{
    (void)state;
    weft_options o = test_options();
    o.devices = "host";
    weft_ctx *ctx = test_ctx_with(&o);
    assert_int_equal(selected_opencl(ctx), 0);
    weft_device_info host;
    weft_device_get_info(ctx, 0, &host);
    assert_true(host.selected);
    weft_ctx_free(ctx);
}

static void test_select_by_index(void **state)
{
    (void)state;
    weft_options o = test_options();
    o.devices = "cl:1";
    weft_ctx *ctx = test_ctx_with(&o);
    size_t n;
    weft_device_count(ctx, &n);
    for (size_t d = 1; d < n; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        assert_int_equal(info.selected, d == 2);
    }
    if (n < 3) { /* no such device: the host takes over, and says why */
        weft_device_info host;
        weft_device_get_info(ctx, 0, &host);
        assert_true(host.selected);
        assert_non_null(strstr(weft_ctx_notes(ctx), "no OpenCL device selected"));
    }
    weft_ctx_free(ctx);
}

static void test_env_selects_devices(void **state)
{
    (void)state;
    setenv("WEFT_DEVICES", "host", 1);
    weft_ctx *ctx = test_ctx();
    assert_int_equal(selected_opencl(ctx), 0);
    weft_ctx_free(ctx);
    /* An explicit option wins over the environment. */
    weft_options o = test_options();
    o.devices = "all";
    ctx = test_ctx_with(&o);
    assert_int_equal(selected_opencl(ctx) > 0, opencl_expected());
    weft_ctx_free(ctx);
    unsetenv("WEFT_DEVICES");
}

static void test_smoke_failure_sets_device_aside(void **state)
{
    (void)state;
    setenv("WEFT_FAULT", "smoke", 1);
    weft_ctx *ctx = test_ctx();
    unsetenv("WEFT_FAULT");
    size_t n;
    weft_device_count(ctx, &n);
    for (size_t d = 1; d < n; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        assert_false(info.usable);
        assert_false(info.selected);
        assert_non_null(strstr(info.reason, "smoke"));
    }
    if (n > 1) assert_non_null(strstr(weft_ctx_notes(ctx), "set aside"));
    /* The context still works, on the host. */
    float x[5] = {1, 2, 3, 4, 5};
    weft_array *a;
    double sum;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, 5, x, &a));
    ASSERT_OK(weft_sum(ctx, a, &sum, NULL));
    assert_true(sum == 15.0);
    weft_array_free(a);
    weft_ctx_free(ctx);
}

typedef struct captured {
    int count;
    char text[4096];
} captured;

static void capture(void *user, weft_log_level level, const char *message)
{
    captured *c = user;
    (void)level;
    c->count++;
    size_t used = strlen(c->text);
    snprintf(c->text + used, sizeof c->text - used, "%s\n", message);
}

static void test_log_hook(void **state)
{
    (void)state;
    captured c = {0};
    weft_options o = test_options();
    o.log = capture;
    o.log_user = &c;
    o.log_level = WEFT_LOG_INFO;
    weft_ctx *ctx = test_ctx_with(&o);
    assert_true(c.count > 0);
    assert_non_null(strstr(c.text, "device 0"));
    if (!opencl_expected()) assert_non_null(strstr(c.text, "no OpenCL platform"));
    ASSERT_OK(weft_ctx_set_log(ctx, NULL, NULL, WEFT_LOG_ERROR));
    weft_ctx_free(ctx);
}

static void test_even_and_given_weights(void **state)
{
    (void)state;
    weft_ctx *probe = test_ctx();
    size_t n;
    weft_device_count(probe, &n);
    weft_ctx_free(probe);
    double given[8] = {0, 3, 1, 1, 1, 1, 1, 1};
    weft_options o = test_options();
    o.weights = WEFT_WEIGHTS_GIVEN;
    o.given = given;
    o.given_count = n;
    if (n == 1) given[0] = 1; /* host only */
    weft_ctx *ctx = test_ctx_with(&o);
    for (size_t d = 0; d < n; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        if (info.selected) assert_true(info.weight == given[d]);
    }
    weft_ctx_free(ctx);
    o.weights = WEFT_WEIGHTS_EVEN;
    ctx = test_ctx_with(&o);
    for (size_t d = 1; d < n; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        assert_true(info.weight == 1.0);
    }
    weft_ctx_free(ctx);
}

/* A weight is a finite relative size: infinite, NaN and negative ones are
 * refused, naming the device, while the largest finite ones work. */
static void test_weights_must_be_finite(void **state)
{
    (void)state;
    weft_ctx *probe = test_ctx();
    size_t n;
    weft_device_count(probe, &n);
    weft_ctx_free(probe);
    const double bad[] = {INFINITY, -INFINITY, NAN, -1};
    weft_options o = test_options();
    o.weights = WEFT_WEIGHTS_GIVEN;
    o.given_count = n;
    double given[8];
    o.given = given;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        for (size_t d = 0; d < n && d < 8; d++) {
            for (size_t i = 0; i < n && i < 8; i++)
                given[i] = i == d ? bad[b] : 1;
            weft_ctx *ctx = NULL;
            assert_int_equal(weft_ctx_create(&o, &ctx), WEFT_ERR_INVALID_ARG);
            assert_null(ctx);
            char want[64];
            snprintf(want, sizeof want, "device %zu", d);
            if (!strstr(weft_last_error(), want) || !strstr(weft_last_error(), "finite"))
                fail_msg("weight %g for device %zu: %s", bad[b], d, weft_last_error());
        }
    /* The pool takes nothing where devices are there to take it all. */
    for (size_t i = 0; i < n && i < 8; i++)
        given[i] = i == 0 && n > 1 ? 0 : DBL_MAX;
    weft_ctx *ctx = test_ctx_with(&o);
    enum { N = 1 << 20 };
    weft_array *x;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    weft_bind b[] = {weft_bind_array("x", x)};
    ASSERT_OK(weft_map(ctx, "x = i", b, 1, NULL));
    weft_piece_report pieces[8];
    size_t count = 0, covered = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
    for (size_t p = 0; p < count; p++) {
        covered += pieces[p].end - pieces[p].begin;
        if (n > 1 && pieces[p].device == 0) fail_msg("the pool (weight 0) got a piece");
        size_t even = N / (n > 1 ? n - 1 : 1), size = pieces[p].end - pieces[p].begin;
        if (size + 4096 < even || size > even + 4096)
            fail_msg("device %zu got %zu elements, want about %zu", pieces[p].device, size, even);
    }
    assert_int_equal(covered, N);
    double sum = 0, want = 0;
    ASSERT_OK(weft_sum(ctx, x, &sum, NULL));
    for (size_t i = 0; i < N; i++)
        want += (double)i;
    assert_true(sum == want);
    weft_array_free(x);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_is_device_zero),
        cmocka_unit_test(test_opencl_devices_described),
        cmocka_unit_test(test_select_host_only),
        cmocka_unit_test(test_select_by_index),
        cmocka_unit_test(test_env_selects_devices),
        cmocka_unit_test(test_smoke_failure_sets_device_aside),
        cmocka_unit_test(test_log_hook),
        cmocka_unit_test(test_even_and_given_weights),
        cmocka_unit_test(test_weights_must_be_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
