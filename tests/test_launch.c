/* User kernels: the examples against C references on every setup, argument
 * kinds (slice, halo, whole, scalars, local), 1D/2D/3D ranges, and bad input. */
#define WEFT_EXAMPLE_NO_MAIN
#include "common.h"

#include "../examples/black_scholes.c"
#include "../examples/jacobi.c"
#include "../examples/saxpy.c"

#include <unistd.h>

static void test_saxpy_example(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    static const size_t sizes[] = {1, 7, 4096, 100003};
    for (size_t s = 0; s < 4; s++) {
        size_t n = sizes[s];
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y),
              *ref = malloc(n * sizeof *ref);
        fill_f32(x, n, 3 * n);
        fill_f32(y, n, 3 * n + 1);
        for (size_t i = 0; i < n; i++)
            ref[i] = 1.5f * x[i] + y[i];
        ASSERT_OK(saxpy_run(ctx, 1.5f, x, y, n));
        /* A device may contract a*x + y into an fma: one rounding of a*x less. */
        for (size_t i = 0; i < n; i++)
            if (fabsf(y[i] - ref[i]) > 1.2e-7f * (fabsf(1.5f * x[i]) + fabsf(y[i] - 1.5f * x[i])))
                fail_msg("n=%zu y[%zu] = %.9g, want %.9g", n, i, y[i], ref[i]);
        free(x);
        free(y);
        free(ref);
    }
    weft_ctx_free(ctx);
}

static void jacobi_reference(float *grid, int nx, int ny, int sweeps)
{
    float *next = malloc(sizeof(float) * (size_t)nx * ny);
    for (int s = 0; s < sweeps; s++) {
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                const float *c = grid + (size_t)y * nx;
                float v = c[x];
                if (x > 0 && y > 0 && x < nx - 1 && y < ny - 1)
                    v = 0.25f * (c[x - 1] + c[x + 1] + c[x - nx] + c[x + nx]);
                next[(size_t)y * nx + x] = v;
            }
        memcpy(grid, next, sizeof(float) * (size_t)nx * ny);
    }
    free(next);
}

static void test_jacobi_converges_like_reference(void **state)
{
    (void)state;
    enum { NX = 48, NY = 37 }; /* rows do not split evenly */
    weft_ctx *ctx = test_ctx();
    float *grid = malloc(sizeof(float) * NX * NY), *ref = malloc(sizeof(float) * NX * NY);
    jacobi_initial(grid, NX, NY);
    int sweeps = 0;
    ASSERT_OK(jacobi_solve(ctx, grid, NX, NY, 1e-4f, 20, 5000, &sweeps));
    assert_true(sweeps < 5000); /* converged */
    jacobi_initial(ref, NX, NY);
    jacobi_reference(ref, NX, NY, sweeps);
    assert_true(same_bits(grid, ref, sizeof(float) * NX * NY));
    /* One device only: the same bits as the split run. */
    weft_options o = test_options();
    o.devices = "cl:0";
    weft_ctx *one = test_ctx_with(&o);
    jacobi_initial(ref, NX, NY);
    int sweeps_one = 0;
    ASSERT_OK(jacobi_solve(one, ref, NX, NY, 1e-4f, 20, 5000, &sweeps_one));
    assert_int_equal(sweeps_one, sweeps);
    assert_true(same_bits(grid, ref, sizeof(float) * NX * NY));
    weft_ctx_free(one);
    free(grid);
    free(ref);
    weft_ctx_free(ctx);
}

static void test_black_scholes_example(void **state)
{
    (void)state;
    enum { N = 20011 };
    weft_ctx *ctx = test_ctx();
    float *s = malloc(N * sizeof *s), *k = malloc(N * sizeof *k), *t = malloc(N * sizeof *t);
    float *c = malloc(N * sizeof *c), *p = malloc(N * sizeof *p);
    uint64_t seed = 77;
    for (int i = 0; i < N; i++) {
        s[i] = 5.0f + 25.0f * (float)(test_rng(&seed) % 10000) / 10000.0f;
        k[i] = 1.0f + 99.0f * (float)(test_rng(&seed) % 10000) / 10000.0f;
        t[i] = 0.25f + 9.75f * (float)(test_rng(&seed) % 10000) / 10000.0f;
    }
    ASSERT_OK(black_scholes_price(ctx, N, s, k, t, 0.02f, 0.30f, c, p));
    for (int i = 0; i < N; i++) {
        /* Reference in double: float math builtins stay within a few ulp. */
        double sq = sqrt((double)t[i]);
        double d1 = (log((double)s[i] / k[i]) + (0.02 + 0.5 * 0.09) * t[i]) / (0.30 * sq);
        double d2 = d1 - 0.30 * sq, disc = k[i] * exp(-0.02 * t[i]);
        double call = s[i] * 0.5 * erfc(-d1 / sqrt(2.0)) - disc * 0.5 * erfc(-d2 / sqrt(2.0));
        double put = disc * 0.5 * erfc(d2 / sqrt(2.0)) - s[i] * 0.5 * erfc(d1 / sqrt(2.0));
        double tol = 2e-4 * (s[i] + k[i]);
        if (fabs(c[i] - call) > tol || fabs(p[i] - put) > tol)
            fail_msg("option %d: call %g put %g, want %g %g", i, c[i], p[i], call, put);
    }
    free(s);
    free(k);
    free(t);
    free(c);
    free(p);
    weft_ctx_free(ctx);
}

static const char misc_source[] =
    "__kernel void reverse(__global const float *whole, __global float *out, const int n)\n"
    "{\n"
    "    size_t g = get_global_id(0);\n"
    "    out[g] = whole[n - 1 - g];\n"
    "}\n"
    "__kernel void group_sum(__global const float *x, __global float *out, __local float *tmp)\n"
    "{\n"
    "    size_t i = get_global_id(0), l = get_local_id(0);\n"
    "    tmp[l] = x[i];\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    float s = 0;\n"
    "    for (size_t j = 0; j < get_local_size(0); j++) s += tmp[j];\n"
    "    out[i] = s;\n"
    "}\n"
    "__kernel void index3(__global float *out)\n"
    "{\n"
    "    size_t x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);\n"
    "    size_t nx = get_global_size(0), ny = get_global_size(1);\n"
    "    out[(z * ny + y) * nx + x] = x + 10 * y + 100 * z;\n"
    "}\n"
    "__kernel void scalars(__global double *out, const float a, const double b, const int c,\n"
    "                      const uint d, const long e, const ulong f, const uchar g)\n"
    "{\n"
    "    out[0] = a; out[1] = b; out[2] = c; out[3] = d; out[4] = e; out[5] = f; out[6] = g;\n"
    "}\n";

static void reverse_host(const weft_host_call *call)
{
    const float *whole = call->args[0];
    float *out = call->args[1];
    int n = *(const int *)call->args[2];
    for (size_t g = call->begin; g < call->end; g++)
        out[g] = whole[n - 1 - (int)g];
}

static void index3_host(const weft_host_call *call)
{
    float *out = call->args[0];
    const weft_range *r = call->range;
    for (size_t z = call->begin; z < call->end; z++)
        for (size_t y = 0; y < r->size[1]; y++)
            for (size_t x = 0; x < r->size[0]; x++)
                out[(z * r->size[1] + y) * r->size[0] + x] = (float)(x + 10 * y + 100 * z);
}

static void test_whole_arrays_and_3d(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, misc_source, NULL, &p));
    enum { N = 30011 };
    float *x = malloc(N * sizeof *x), *got = malloc(N * sizeof *got);
    fill_f32(x, N, 4);
    weft_array *whole, *out;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &whole));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &out));
    weft_arg args[] = {weft_arg_whole(whole), weft_arg_slice(out), weft_arg_i32(N)};
    weft_range r1 = {1, {N, 1, 1}, {0, 0, 0}};
    ASSERT_OK(weft_launch(p, "reverse", &r1, args, 3, reverse_host, NULL, NULL));
    ASSERT_OK(weft_array_read(out, 0, N, got));
    for (int i = 0; i < N; i++)
        assert_true(got[i] == x[N - 1 - i]); /* every device saw the whole array */
    weft_array_free(out);

    enum { NX = 5, NY = 6, NZ = 7 };
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, NX * NY * NZ, &out));
    weft_arg a3[] = {weft_arg_slice(out)};
    weft_range r3 = {3, {NX, NY, NZ}, {0, 0, 0}};
    ASSERT_OK(weft_launch(p, "index3", &r3, a3, 1, index3_host, NULL, NULL));
    ASSERT_OK(weft_array_read(out, 0, NX * NY * NZ, got));
    for (int z = 0; z < NZ; z++)
        for (int y = 0; y < NY; y++)
            for (int xx = 0; xx < NX; xx++)
                assert_true(got[(z * NY + y) * NX + xx] == (float)(xx + 10 * y + 100 * z));
    weft_array_free(out);
    weft_array_free(whole);
    weft_program_free(p);
    free(x);
    free(got);
    weft_ctx_free(ctx);
}

/* A heavy host_fn: each index spins, so the pool takes the rest after the
 * calling thread's timed first chunks (src/ops/launch.c, run_host_range). */
static void heavy_reverse_host(const weft_host_call *call)
{
    for (size_t g = call->begin; g < call->end; g++) {
        volatile unsigned spin = 0;
        for (int k = 0; k < 2000; k++)
            spin += (unsigned)k;
    }
    reverse_host(call);
}

/* On the pool, a launch's indices run as timed chunks on the calling thread
 * and the rest in one call or on the workers: every index once, at its own
 * offset, at sizes around the chunk boundaries. */
static void test_pool_runs_every_index_once(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, misc_source, NULL, &p));
    ASSERT_OK(weft_ctx_place(ctx, "reverse", WEFT_PLACE_HOST));
    const size_t sizes[] = {1, 15, 16, 17, 47, 48, 49, 1000, 4099, 30011};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int n = (int)sizes[s];
        float *x = malloc((size_t)n * sizeof *x), *got = malloc((size_t)n * sizeof *got);
        float *unset = malloc((size_t)n * sizeof *unset);
        fill_f32(x, (size_t)n, (unsigned)s + 20);
        for (int i = 0; i < n; i++)
            unset[i] = -1.0f;
        weft_array *whole, *out;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, (size_t)n, x, &whole));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, (size_t)n, &out));
        weft_arg args[] = {weft_arg_whole(whole), weft_arg_slice(out), weft_arg_i32(n)};
        weft_range r = weft_range_1d((size_t)n);
        for (int heavy = 0; heavy < 2; heavy++) {
            ASSERT_OK(weft_array_write(out, 0, (size_t)n, unset));
            ASSERT_OK(weft_launch(p, "reverse", &r, args, 3,
                                  heavy ? heavy_reverse_host : reverse_host, NULL, NULL));
            ASSERT_OK(weft_array_read(out, 0, (size_t)n, got));
            for (int i = 0; i < n; i++)
                if (!same_bits(&got[i], &x[n - 1 - i], sizeof *got))
                    fail_msg("n %d heavy %d: index %d is %g, want %g", n, heavy, i, got[i],
                             x[n - 1 - i]);
        }
        weft_array_free(out);
        weft_array_free(whole);
        free(x);
        free(got);
        free(unset);
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
}

static void test_local_memory_and_scalars(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    if (selected_opencl(ctx) == 0) { /* these need a device: no host_fn given */
        weft_ctx_free(ctx);
        skip();
    }
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, misc_source, NULL, &p));
    enum { N = 64 * 40, GROUP = 64 };
    float *x = malloc(N * sizeof *x), *got = malloc(N * sizeof *got);
    for (int i = 0; i < N; i++)
        x[i] = (float)(i % 7);
    weft_array *xa, *out;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &out));
    weft_arg args[] = {weft_arg_slice(xa), weft_arg_slice(out),
                       weft_arg_local(GROUP * sizeof(float))};
    weft_range r = {1, {N, 1, 1}, {GROUP, 0, 0}};
    ASSERT_OK(weft_launch(p, "group_sum", &r, args, 3, NULL, NULL, NULL));
    ASSERT_OK(weft_array_read(out, 0, N, got));
    for (int g = 0; g < N / GROUP; g++) {
        float want = 0;
        for (int j = 0; j < GROUP; j++)
            want += x[g * GROUP + j];
        for (int j = 0; j < GROUP; j++)
            assert_true(got[g * GROUP + j] == want);
    }
    weft_array *d;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 7, &d));
    weft_arg s[] = {weft_arg_slice(d),         weft_arg_f32(1.5f),
                    weft_arg_f64(-2.25),       weft_arg_i32(-7),
                    weft_arg_u32(4000000000u), weft_arg_i64(-5000000000ll),
                    weft_arg_u64(1ull << 40),  weft_arg_u8(200)};
    weft_range one = {1, {1, 1, 1}, {0, 0, 0}}; /* one work-item owning all 7 elements */
    ASSERT_OK(weft_launch(p, "scalars", &one, s, 8, NULL, NULL, NULL));
    double values[7], want[7] = {1.5, -2.25, -7, 4000000000.0, -5000000000.0, 1099511627776.0, 200};
    ASSERT_OK(weft_array_read(d, 0, 7, values));
    for (int i = 0; i < 7; i++)
        assert_true(values[i] == want[i]);
    weft_array_free(d);
    weft_array_free(xa);
    weft_array_free(out);
    weft_program_free(p);
    free(x);
    free(got);
    weft_ctx_free(ctx);
}

static void test_bad_launches(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    int devices = selected_opencl(ctx) > 0;
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, misc_source, NULL, &p));
    weft_array *f32, *f64, *odd;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 100, &f32));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 100, &f64));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 99, &odd));
    weft_range r = {1, {100, 1, 1}, {0, 0, 0}};
    weft_arg good[] = {weft_arg_whole(f32), weft_arg_slice(f32), weft_arg_i32(100)};

    weft_range zero = {1, {0, 1, 1}, {0, 0, 0}};
    assert_int_equal(weft_launch(p, "reverse", &zero, good, 3, reverse_host, NULL, NULL),
                     WEFT_ERR_INVALID_ARG);
    assert_non_null(strstr(weft_last_error(), "range of 0"));
    weft_range four = {4, {1, 1, 1}, {0, 0, 0}};
    assert_int_equal(weft_launch(p, "reverse", &four, good, 3, reverse_host, NULL, NULL),
                     WEFT_ERR_INVALID_ARG);
    weft_range bad_local = {1, {100, 1, 1}, {30, 0, 0}};
    assert_int_equal(weft_launch(p, "reverse", &bad_local, good, 3, reverse_host, NULL, NULL),
                     WEFT_ERR_INVALID_ARG);
    weft_arg mismatched[] = {weft_arg_whole(f32), weft_arg_slice(odd), weft_arg_i32(100)};
    assert_int_equal(weft_launch(p, "reverse", &r, mismatched, 3, reverse_host, NULL, NULL),
                     WEFT_ERR_SIZE);
    /* 99 rows under a range of 100 with no local size: the way out is named
     * (Rodinia nn rounds to 64 and leaves local NULL). */
    assert_non_null(strstr(weft_last_error(), "range.local[0]"));
    /* 100 rows under an interior range of 98 with no local size: no local
     * size would do (the advice was one, refused in turn), weft_arg_whole
     * does. */
    weft_range interior = {1, {98, 1, 1}, {0, 0, 0}};
    assert_int_equal(weft_launch(p, "reverse", &interior, good, 3, reverse_host, NULL, NULL),
                     WEFT_ERR_SIZE);
    assert_non_null(strstr(weft_last_error(), "weft_arg_whole"));
    assert_null(strstr(weft_last_error(), "range.local[0]"));
    assert_int_equal(weft_launch(p, "reverse", &r, NULL, 3, reverse_host, NULL, NULL),
                     WEFT_ERR_NULL);

    if (devices) {
        assert_int_equal(weft_launch(p, "no_such_kernel", &r, good, 3, NULL, NULL, NULL),
                         WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "no_such_kernel"));
        assert_int_equal(weft_launch(p, "reverse", &r, good, 2, NULL, NULL, NULL),
                         WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "takes 3 arguments, 2 given"));
        weft_arg wrong_type[] = {weft_arg_whole(f64), weft_arg_slice(f32), weft_arg_i32(100)};
        assert_int_equal(weft_launch(p, "reverse", &r, wrong_type, 3, NULL, NULL, NULL),
                         WEFT_ERR_DTYPE);
        assert_non_null(strstr(weft_last_error(), "whole")); /* names the argument */
        weft_arg wrong_scalar[] = {weft_arg_whole(f32), weft_arg_slice(f32), weft_arg_f32(1)};
        assert_int_equal(weft_launch(p, "reverse", &r, wrong_scalar, 3, NULL, NULL, NULL),
                         WEFT_ERR_DTYPE);
        weft_arg scalar_for_array[] = {weft_arg_i32(1), weft_arg_slice(f32), weft_arg_i32(100)};
        assert_int_equal(weft_launch(p, "reverse", &r, scalar_for_array, 3, NULL, NULL, NULL),
                         WEFT_ERR_INVALID_ARG);
    } else {
        /* No device and no host_fn: nothing can run it. */
        assert_int_equal(weft_launch(p, "reverse", &r, good, 3, NULL, NULL, NULL),
                         WEFT_ERR_NO_DEVICE);
        assert_non_null(strstr(weft_last_error(), "host_fn"));
    }
    weft_array_free(f32);
    weft_array_free(f64);
    weft_array_free(odd);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

static void test_device_failure_uses_host_fn(void **state)
{
    (void)state;
    setenv("WEFT_FAULT", "launch", 1);
    weft_ctx *ctx = test_ctx();
    unsetenv("WEFT_FAULT");
    enum { N = 5003 };
    float x[N], y[N], ref[N];
    fill_f32(x, N, 8);
    fill_f32(y, N, 9);
    for (int i = 0; i < N; i++)
        ref[i] = 0.5f * x[i] + y[i];
    ASSERT_OK(saxpy_run(ctx, 0.5f, x, y, N));
    assert_true(same_bits(y, ref, sizeof ref)); /* the host_fn ran: plain C bits */
    weft_piece_report pieces[4];
    size_t count;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 4, &count));
    for (size_t i = 0; i < count; i++)
        assert_int_equal(pieces[i].fell_back, selected_opencl(ctx) > 0);
    weft_ctx_free(ctx);
}

static void test_async_launch(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, saxpy_source, NULL, &p));
    enum { N = 10000 };
    weft_array *x, *y;
    float ones[N], got[N];
    for (int i = 0; i < N; i++)
        ones[i] = 1.0f;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, ones, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_range r = {1, {N, 1, 1}, {0, 0, 0}};
    weft_future *f[8];
    for (int i = 0; i < 8; i++) {
        weft_arg args[] = {weft_arg_f32(2.0f), weft_arg_slice(x), weft_arg_slice(y)};
        ASSERT_OK(weft_launch(p, "saxpy", &r, args, 3, saxpy_host, NULL, &f[i]));
    }
    for (int i = 0; i < 8; i++) {
        ASSERT_OK(weft_future_wait(f[i]));
        weft_future_release(f[i]);
    }
    ASSERT_OK(weft_array_read(y, 0, N, got));
    for (int i = 0; i < N; i++)
        assert_true(got[i] == 16.0f);
    weft_array_free(x);
    weft_array_free(y);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

static void test_precompile_fills_cache(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/weft-test-precompile-%ld", (long)getpid());
    weft_options o = test_options();
    o.cache_dir = dir;
    weft_ctx *ctx = test_ctx_with(&o);
    const char *sources[] = {saxpy_source, jacobi_source};
    ASSERT_OK(weft_program_precompile(ctx, sources, 2, NULL));
    const char *broken[] = {"__kernel void k( {"};
    assert_int_equal(weft_program_precompile(ctx, broken, 1, NULL),
                     selected_opencl(ctx) ? WEFT_ERR_BUILD : WEFT_OK);
    weft_ctx_free(ctx);
    ctx = test_ctx_with(&o); /* as the next CI job would */
    weft_cache_stats before, after;
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    ASSERT_OK(weft_program_precompile(ctx, sources, 2, NULL));
    ASSERT_OK(weft_cache_stats_get(ctx, &after));
    assert_int_equal(after.misses, before.misses);
    assert_int_equal(after.disk_hits - before.disk_hits, 2 * selected_opencl(ctx));
    weft_ctx_free(ctx);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saxpy_example),
        cmocka_unit_test(test_jacobi_converges_like_reference),
        cmocka_unit_test(test_black_scholes_example),
        cmocka_unit_test(test_whole_arrays_and_3d),
        cmocka_unit_test(test_local_memory_and_scalars),
        cmocka_unit_test(test_bad_launches),
        cmocka_unit_test(test_device_failure_uses_host_fn),
        cmocka_unit_test(test_pool_runs_every_index_once),
        cmocka_unit_test(test_async_launch),
        cmocka_unit_test(test_precompile_fills_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
