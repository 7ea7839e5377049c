/* Kernels written the ordinary OpenCL way, not for weft: every buffer is the
 * whole array, indexed with get_global_id. They must give the C reference's
 * bits on one, two or three devices, zero-copy or not, and on the pool
 * through their host_fn. */
#include "common.h"
#include "nbody_kernel.h"
#include "heat_kernel.h"

#include <math.h>

/* ---- Mandelbrot (the classic per-pixel escape count) ---- */

static const char mandelbrot_source[] =
    "__kernel void mandelbrot(__global uint *out, const int width, const int height,\n"
    "                         const int max_iter)\n"
    "{\n"
    "    int gx = get_global_id(0), gy = get_global_id(1);\n"
    "    float x0 = -2.0f + 3.0f * gx / width;\n"
    "    float y0 = -1.5f + 3.0f * gy / height;\n"
    "    float x = 0.0f, y = 0.0f;\n"
    "    int i = 0;\n"
    "    while (x * x + y * y <= 4.0f && i < max_iter) {\n"
    "        float xt = x * x - y * y + x0;\n"
    "        y = 2.0f * x * y + y0;\n"
    "        x = xt;\n"
    "        i++;\n"
    "    }\n"
    "    out[gy * width + gx] = i;\n"
    "}\n";

static uint32_t mandelbrot_pixel(int gx, int gy, int width, int height, int max_iter)
{
    float x0 = -2.0f + 3.0f * gx / width;
    float y0 = -1.5f + 3.0f * gy / height;
    float x = 0.0f, y = 0.0f;
    int i = 0;
    while (x * x + y * y <= 4.0f && i < max_iter) {
        float xt = x * x - y * y + x0;
        y = 2.0f * x * y + y0;
        x = xt;
        i++;
    }
    return (uint32_t)i;
}

static void mandelbrot_host(const weft_host_call *call)
{
    uint32_t *out = call->args[0];
    int width = *(const int *)call->args[1], height = *(const int *)call->args[2];
    int max_iter = *(const int *)call->args[3];
    for (size_t gy = call->begin; gy < call->end; gy++)
        for (int gx = 0; gx < width; gx++)
            out[gy * (size_t)width + gx] = mandelbrot_pixel(gx, (int)gy, width, height, max_iter);
}

static void test_mandelbrot_matches_c(void **state)
{
    (void)state;
    enum { W = 203, H = 157, ITER = 200 }; /* rows do not split evenly */
    weft_ctx *ctx = test_ctx();
    weft_program *p;
    /* Division correctly rounded, as in C: then the bits agree. */
    ASSERT_OK(
        weft_program_build(ctx, mandelbrot_source, "-cl-fp32-correctly-rounded-divide-sqrt", &p));
    weft_array *out;
    ASSERT_OK(weft_array_create(ctx, WEFT_U32, W * H, &out));
    weft_arg args[] = {weft_arg_slice(out), weft_arg_i32(W), weft_arg_i32(H), weft_arg_i32(ITER)};
    weft_range r = {2, {W, H, 1}, {0, 0, 0}};
    ASSERT_OK(weft_launch(p, "mandelbrot", &r, args, 4, mandelbrot_host, NULL, NULL));
    uint32_t *got = malloc(sizeof(uint32_t) * W * H);
    ASSERT_OK(weft_array_read(out, 0, W * H, got));
    size_t wrong = 0;
    for (int gy = 0; gy < H; gy++)
        for (int gx = 0; gx < W; gx++)
            wrong += got[gy * W + gx] != mandelbrot_pixel(gx, gy, W, H, ITER);
    if (wrong) fail_msg("%zu of %d pixels differ from C", wrong, W * H);
    free(got);
    weft_array_free(out);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* ---- all-pairs n-body accelerations (double4: x, y, z, mass) ---- */

static void test_nbody_matches_c(void **state)
{
    (void)state;
    enum { N = 1031 };
    weft_ctx *ctx = test_ctx();
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, nbody_source, NULL, &p));
    double *pos = malloc(sizeof(double) * 4 * N), *got = malloc(sizeof(double) * 4 * N);
    fill_f64(pos, 4 * N, 11);
    weft_array *pa, *acc;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, 4 * N, pos, &pa));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 4 * N, &acc));
    weft_arg args[] = {weft_arg_whole(pa), weft_arg_slice(acc), weft_arg_i32(N),
                       weft_arg_f64(1e-3)};
    weft_range r = {1, {N, 1, 1}, {0, 0, 0}};
    ASSERT_OK(weft_launch(p, "accel", &r, args, 4, nbody_host, NULL, NULL));
    ASSERT_OK(weft_array_read(acc, 0, 4 * N, got));
    for (int i = 0; i < N; i++) {
        double want[4];
        nbody_one(pos, N, 1e-3, i, want);
        if (!same_bits(want, got + 4 * i, sizeof want))
            fail_msg("body %d: (%.17g, %.17g, %.17g), want (%.17g, %.17g, %.17g)", i, got[4 * i],
                     got[4 * i + 1], got[4 * i + 2], want[0], want[1], want[2]);
    }
    free(pos);
    free(got);
    weft_array_free(pa);
    weft_array_free(acc);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* ---- 1-D heat stencil, iterated: data must stay on the devices ---- */

static void heat_reference(double *u, int n, double r, int steps)
{
    double *v = malloc(sizeof(double) * (size_t)n);
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < n; i++)
            v[i] = (i == 0 || i == n - 1) ? u[i] : u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
        memcpy(u, v, sizeof(double) * (size_t)n);
    }
    free(v);
}

/* Two selected devices that copy (no zero-copy): the stencil's traffic is
 * then exactly predictable. */
static int two_copying_devices(weft_ctx *ctx)
{
    return selected_opencl(ctx) == 2 && copying_opencl(ctx) == 2;
}

/* A kernel's first split launch is checked against one device, which moves
 * whole arrays through the host (docs/kernels.md): launched once on arrays of
 * its own, the stencil is known to split, and the traffic measured next is a
 * resident chain's. */
static void learn_heat_splits(weft_ctx *ctx, weft_program *p, size_t n)
{
    weft_array *a, *b;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, n, &a));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, n, &b));
    weft_range r = {1, {n, 1, 1}, {0, 0, 0}};
    weft_arg args[] = {weft_arg_halo(a, 1), weft_arg_slice(b), weft_arg_i32((int)n),
                       weft_arg_f64(0.25)};
    ASSERT_OK(weft_launch(p, "heat", &r, args, 4, heat_host, NULL, NULL));
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    assert_int_equal(st.kernels_kept_whole, 0);
    weft_array_free(a);
    weft_array_free(b);
}

static void test_heat_stays_resident(void **state)
{
    (void)state;
    enum { N = 1 << 16, STEPS = 50 };
    weft_ctx *ctx = test_ctx();
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, heat_source, NULL, &p));
    double *u0 = malloc(sizeof(double) * N), *got = malloc(sizeof(double) * N);
    fill_f64(u0, N, 5);
    weft_array *u, *v;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, N, u0, &u));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &v));
    learn_heat_splits(ctx, p, N);
    ASSERT_OK(weft_ctx_stats_reset(ctx));
    weft_range r = {1, {N, 1, 1}, {0, 0, 0}};
    for (int s = 0; s < STEPS; s++) {
        weft_arg args[] = {weft_arg_halo(u, 1), weft_arg_slice(v), weft_arg_i32(N),
                           weft_arg_f64(0.25)};
        ASSERT_OK(weft_launch(p, "heat", &r, args, 4, heat_host, NULL, NULL));
        weft_array *t = u;
        u = v;
        v = t;
    }
    ASSERT_OK(weft_array_read(u, 0, N, got));
    heat_reference(u0, N, 0.25, STEPS);
    assert_true(same_bits(got, u0, sizeof(double) * N));
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    if (two_copying_devices(ctx)) {
        /* In: u with one halo row each side of the boundary, v once. Between
         * the devices: one row each way per later step. Out: the result. */
        assert_int_equal(st.bytes_to_device, (2 * N + 2) * sizeof(double));
        assert_int_equal(st.bytes_device_to_device, (STEPS - 1) * 2 * sizeof(double));
        assert_int_equal(st.bytes_to_host, N * sizeof(double));
        assert_int_equal(st.kernel_launches, 2 * STEPS);
    }
    if (selected_opencl(ctx) == 0) assert_int_equal(st.bytes_to_device + st.bytes_to_host, 0);
    free(u0);
    free(got);
    weft_array_free(u);
    weft_array_free(v);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

/* The same launch, once split over the devices and once on the pool through
 * host_fn, gives the same bits: no contraction into fma on either side. */
static void test_device_and_host_fn_agree(void **state)
{
    (void)state;
    enum { W = 256, H = 64, ITER = 500 };
    weft_options o = test_options();
    o.devices = "host";
    weft_ctx *dev_ctx = test_ctx(), *host_ctx = test_ctx_with(&o);
    weft_ctx *ctxs[2] = {dev_ctx, host_ctx};
    uint32_t *got[2];
    for (int c = 0; c < 2; c++) {
        weft_program *p;
        ASSERT_OK(weft_program_build(ctxs[c], mandelbrot_source,
                                     "-cl-fp32-correctly-rounded-divide-sqrt", &p));
        weft_array *out;
        ASSERT_OK(weft_array_create(ctxs[c], WEFT_U32, W * H, &out));
        weft_arg args[] = {weft_arg_slice(out), weft_arg_i32(W), weft_arg_i32(H),
                           weft_arg_i32(ITER)};
        weft_range r = {2, {W, H, 1}, {0, 0, 0}};
        ASSERT_OK(weft_launch(p, "mandelbrot", &r, args, 4, mandelbrot_host, NULL, NULL));
        got[c] = malloc(sizeof(uint32_t) * W * H);
        ASSERT_OK(weft_array_read(out, 0, W * H, got[c]));
        weft_array_free(out);
        weft_program_free(p);
    }
    assert_true(same_bits(got[0], got[1], sizeof(uint32_t) * W * H));
    free(got[0]);
    free(got[1]);
    weft_ctx_free(dev_ctx);
    weft_ctx_free(host_ctx);
}

/* Two heat steps on two copying devices, then the first step's output read
 * back: returns the bytes that read moved to the host. The second step's
 * halo rows move between the devices either way; through the host (peer
 * copies off), they leave the host a current copy of those rows. */
static uint64_t heat_twice_then_read(int peer_copies, double *got, size_t n)
{
    setenv("WEFT_PEER_COPY", peer_copies ? "1" : "0", 1);
    weft_ctx *ctx = test_ctx();
    unsetenv("WEFT_PEER_COPY");
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, heat_source, NULL, &p));
    double *u0 = malloc(sizeof(double) * n);
    fill_f64(u0, n, 9);
    weft_array *u, *v, *w;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, n, u0, &u));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, n, &v));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, n, &w));
    learn_heat_splits(ctx, p, n);
    ASSERT_OK(weft_ctx_stats_reset(ctx));
    weft_range r = {1, {n, 1, 1}, {0, 0, 0}};
    weft_arg first[] = {weft_arg_halo(u, 1), weft_arg_slice(v), weft_arg_i32((int)n),
                        weft_arg_f64(0.25)};
    weft_arg second[] = {weft_arg_halo(v, 1), weft_arg_slice(w), weft_arg_i32((int)n),
                         weft_arg_f64(0.25)};
    ASSERT_OK(weft_launch(p, "heat", &r, first, 4, heat_host, NULL, NULL));
    ASSERT_OK(weft_launch(p, "heat", &r, second, 4, heat_host, NULL, NULL));
    weft_stats before, after;
    ASSERT_OK(weft_ctx_stats(ctx, &before));
    ASSERT_OK(weft_array_read(v, 0, n, got));
    ASSERT_OK(weft_ctx_stats(ctx, &after));
    assert_int_equal(after.bytes_device_to_device, 2 * sizeof(double));
    uint64_t moved = after.bytes_to_host - before.bytes_to_host;
    free(u0);
    weft_array_free(u);
    weft_array_free(v);
    weft_array_free(w);
    weft_program_free(p);
    weft_ctx_free(ctx);
    return moved;
}

static void test_halo_rows_move_between_devices_directly(void **state)
{
    (void)state;
    enum { N = 1 << 14 };
    weft_ctx *probe = test_ctx();
    int applies = two_copying_devices(probe);
    weft_ctx_free(probe);
    if (!applies) skip();
    double *direct = malloc(sizeof(double) * N), *staged = malloc(sizeof(double) * N);
    double *want = malloc(sizeof(double) * N);
    fill_f64(want, N, 9);
    heat_reference(want, N, 0.25, 1);
    /* Directly, the host holds none of v: all of it comes back. Through the
     * host, the two halo rows were left there on the way. */
    assert_int_equal(heat_twice_then_read(1, direct, N), N * sizeof(double));
    assert_int_equal(heat_twice_then_read(0, staged, N), (N - 2) * sizeof(double));
    assert_true(same_bits(direct, want, sizeof(double) * N));
    assert_true(same_bits(staged, want, sizeof(double) * N));
    free(direct);
    free(staged);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mandelbrot_matches_c),
        cmocka_unit_test(test_nbody_matches_c),
        cmocka_unit_test(test_heat_stays_resident),
        cmocka_unit_test(test_halo_rows_move_between_devices_directly),
        cmocka_unit_test(test_device_and_host_fn_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
