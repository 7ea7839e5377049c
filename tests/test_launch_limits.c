/* Launches a device cannot take (docs/RELIABILITY.md, round 2): local memory
 * or work-group sizes above the device's limits and ranges whose work-item
 * count overflows are refused with WEFT_ERR_INVALID_ARG before anything runs,
 * and never rerun on the host_fn as if a device had failed. */
#include "common.h"

#include <stdatomic.h>

static const char *const source =
    "__kernel void stage(__global float *y, __local float *a, __local float *b)\n"
    "{\n"
    "    size_t l = get_local_id(0), i = get_global_id(0);\n"
    "    a[l] = (float)i;\n"
    "    b[l] = 1.0f;\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    y[i] = a[l] + b[get_local_size(0) - 1 - l];\n"
    "}\n"
    "__kernel void touch(__global float *y) { if (get_global_id(0) == 0) y[0] = 1.0f; }\n"
    "__kernel void bump(__global float *y) { y[get_global_id(0)] += 1.0f; }\n";

static void bump_host(const weft_host_call *call)
{
    float *y = call->args[0];
    for (size_t i = call->begin; i < call->end; i++)
        y[i] += 1.0f;
}

static void count_calls(const weft_host_call *call)
{
    atomic_fetch_add((atomic_int *)call->user, 1);
}

typedef struct fixture {
    weft_ctx *ctx;
    weft_program *program;
    weft_array *y;
} fixture;

static fixture setup(size_t elements)
{
    fixture f;
    f.ctx = test_ctx();
    ASSERT_OK(weft_program_build(f.ctx, source, NULL, &f.program));
    ASSERT_OK(weft_array_create(f.ctx, WEFT_F32, elements, &f.y));
    return f;
}

static void teardown(fixture *f)
{
    weft_array_free(f->y);
    weft_program_free(f->program);
    weft_ctx_free(f->ctx);
}

/* The launch is refused, says why, and runs nothing (not even the host_fn). */
static void assert_refused(fixture *f, const char *kernel, const weft_range *r,
                           const weft_arg *args, size_t nargs, const char *says)
{
    atomic_int calls = 0;
    weft_status st = weft_launch(f->program, kernel, r, args, nargs, count_calls, &calls, NULL);
    if (st != WEFT_ERR_INVALID_ARG)
        fail_msg("%s: %s (%s), want WEFT_ERR_INVALID_ARG", kernel, weft_status_str(st),
                 weft_last_error());
    if (!strstr(weft_last_error(), says))
        fail_msg("\"%s\" does not say \"%s\"", weft_last_error(), says);
    ASSERT_OK(weft_ctx_finish(f->ctx));
    assert_int_equal(atomic_load(&calls), 0);
}

static void test_local_memory_above_the_device_is_refused(void **state)
{
    (void)state;
    enum { N = 64 * 16, GROUP = 64 };
    fixture f = setup(N);
    if (selected_opencl(f.ctx) == 0) { /* only devices have local memory */
        teardown(&f);
        skip();
    }
    weft_range r = {1, {N, 1, 1}, {GROUP, 0, 0}};
    /* The refusal says how much there is: a device's local memory differs
     * from one CPU to the next (PoCL gives 2 MiB on some). */
    weft_arg probe[] = {weft_arg_slice(f.y), weft_arg_local(SIZE_MAX / 2), weft_arg_local(64)};
    assert_refused(&f, "stage", &r, probe, 3, " bytes");
    const char *has = strstr(weft_last_error(), " has ");
    assert_non_null(has);
    size_t limit = strtoull(has + 5, NULL, 10), half = limit / 2 + 64;
    assert_true(limit >= 16384); /* OpenCL 1.2 guarantees 32 KiB, older 16 KiB */
    char says[96];
    weft_arg big[] = {weft_arg_slice(f.y), weft_arg_local(limit + 1), weft_arg_local(64)};
    snprintf(says, sizeof says, "argument 1 asks for %zu bytes of local memory", limit + 1);
    assert_refused(&f, "stage", &r, big, 3, says);
    weft_arg huge[] = {weft_arg_slice(f.y), weft_arg_local(64), weft_arg_local(SIZE_MAX - 8)};
    assert_refused(&f, "stage", &r, huge, 3, "argument 2 asks for");
    /* Each fits, together they do not. */
    weft_arg sum[] = {weft_arg_slice(f.y), weft_arg_local(half), weft_arg_local(half)};
    snprintf(says, sizeof says, "argument 2 asks for %zu bytes", half);
    assert_refused(&f, "stage", &r, sum, 3, says);

    /* Local memory for a __global parameter (a port's clSetKernelArg one
     * slot off) is named as a signature mistake, not OpenCL's bare
     * CL_INVALID_ARG_SIZE from the limits asked of the kernel. */
    weft_arg shifted[] = {weft_arg_local(64), weft_arg_local(64), weft_arg_slice(f.y)};
    assert_refused(&f, "stage", &r, shifted, 3, "argument 0");
    weft_arg fits[] = {weft_arg_slice(f.y), weft_arg_local(GROUP * sizeof(float)),
                       weft_arg_local(GROUP * sizeof(float))};
    ASSERT_OK(weft_launch(f.program, "stage", &r, fits, 3, NULL, NULL, NULL));
    float got[N];
    ASSERT_OK(weft_array_read(f.y, 0, N, got));
    for (size_t i = 0; i < N; i++)
        assert_true(got[i] == (float)i + 1.0f);
    teardown(&f);
}

/* A kernel's own __local arrays (tiles sized by a -D, as Rodinia's lud and
 * the SDK samples declare them) count too: above the device's local memory
 * PoCL aborted the process on an assertion. */
static const char *const tile_source = "__kernel void tiles(__global float *m)\n"
                                       "{\n"
                                       "    __local float row[TILE], col[TILE];\n"
                                       "    size_t l = get_local_id(0), i = get_global_id(0);\n"
                                       "    row[l] = m[i];\n"
                                       "    col[l] = 2.0f;\n"
                                       "    barrier(CLK_LOCAL_MEM_FENCE);\n"
                                       "    m[i] = row[l] * col[get_local_size(0) - 1 - l];\n"
                                       "}\n";

static void test_static_local_memory_above_the_device_is_refused(void **state)
{
    (void)state;
    enum { N = 1024, GROUP = 64 };
    fixture f = setup(N);
    if (selected_opencl(f.ctx) == 0) {
        teardown(&f);
        skip();
    }
    weft_program *big, *small;
    ASSERT_OK(weft_program_build(f.ctx, tile_source, "-DTILE=8388608", &big)); /* 64 MiB */
    ASSERT_OK(weft_program_build(f.ctx, tile_source, "-DTILE=64", &small));
    weft_range r = {1, {N, 1, 1}, {GROUP, 0, 0}};
    weft_arg m[] = {weft_arg_slice(f.y)};
    weft_program *kept = f.program;
    f.program = big;
    assert_refused(&f, "tiles", &r, m, 1, "local memory");
    assert_non_null(strstr(weft_last_error(), "tiles"));
    f.program = small;
    ASSERT_OK(weft_launch(small, "tiles", &r, m, 1, NULL, NULL, NULL));
    f.program = kept;
    weft_program_free(big);
    weft_program_free(small);
    teardown(&f);
}

/* Images, samplers and pipes: weft passes buffers and scalars only. A u8
 * array bound to an image2d_t was taken for a record's bytes and the
 * process crashed in PoCL; a sampler was called a vector or a struct. */
static void test_images_and_samplers_are_refused(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = NULL;
    weft_status built = weft_program_build(
        ctx,
        "__kernel void img(__read_only image2d_t im, __global float *o)\n"
        "{ int i = get_global_id(0); o[i] = read_imagef(im, (int2)(i, 0)).x; }\n"
        "__kernel void smp(sampler_t s, __global float *o) { o[get_global_id(0)] = 1.0f; }\n"
        "__kernel void fill(short v, __global float *o) { o[get_global_id(0)] = v; }\n",
        NULL, &p);
    if (built != WEFT_OK || selected_opencl(ctx) == 0) { /* no device with images */
        weft_program_free(p);
        weft_ctx_free(ctx);
        skip();
    }
    weft_array *bytes, *o;
    ASSERT_OK(weft_array_create(ctx, WEFT_U8, 256, &bytes));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 64, &o));
    weft_range r = weft_range_1d(64);
    weft_arg as_bytes[] = {weft_arg_whole(bytes), weft_arg_slice(o)};
    weft_arg as_floats[] = {weft_arg_whole(o), weft_arg_slice(o)};
    weft_arg sampler[] = {weft_arg_i32(0), weft_arg_slice(o)};
    weft_arg narrow[] = {weft_arg_i32(7), weft_arg_slice(o)};
    const struct {
        const char *kernel, *says;
        weft_arg *args;
    } cases[] = {{"img", "image", as_bytes},
                 {"img", "image", as_floats},
                 {"smp", "sampler", sampler},
                 {"fill", "16-bit value", narrow}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        weft_status st = weft_launch(p, cases[c].kernel, &r, cases[c].args, 2, NULL, NULL, NULL);
        if (st != WEFT_ERR_UNSUPPORTED || !strstr(weft_last_error(), cases[c].says))
            fail_msg("%s: %s (%s)", cases[c].kernel, weft_status_str(st), weft_last_error());
    }
    weft_array_free(bytes);
    weft_array_free(o);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

static void test_work_group_above_the_device_is_refused(void **state)
{
    (void)state;
    fixture f = setup(4);
    weft_arg y[] = {weft_arg_slice(f.y)};
    weft_range total = {2, {1 << 16, 4, 1}, {1 << 15, 2, 0}};
    weft_range wide = {2, {1 << 16, 4, 1}, {1 << 16, 1, 0}};
    weft_range fits = {2, {256, 4, 1}, {64, 1, 0}};
    if (selected_opencl(f.ctx) == 0) {
        /* No device, no device limit: the host_fn runs the range. */
        atomic_int calls = 0;
        ASSERT_OK(weft_launch(f.program, "touch", &wide, y, 1, count_calls, &calls, NULL));
        ASSERT_OK(weft_ctx_finish(f.ctx));
        assert_true(atomic_load(&calls) > 0);
        teardown(&f);
        return;
    }
    assert_refused(&f, "touch", &wide, y, 1, "local size 65536 in dimension 0");
    /* Within each dimension's maximum, not in all (PoCL: 4096 per dimension and in all). */
    weft_range group = {2, {4096, 4, 1}, {4096, 2, 0}};
    assert_refused(&f, "touch", &group, y, 1, "local size of 8192 work-items");
    assert_refused(&f, "touch", &total, y, 1, "local size");
    ASSERT_OK(weft_launch(f.program, "touch", &fits, y, 1, NULL, NULL, NULL));
    float got[4];
    ASSERT_OK(weft_array_read(f.y, 0, 4, got));
    assert_true(got[0] == 1.0f);
    teardown(&f);
}

static void test_range_overflow_is_refused(void **state)
{
    (void)state;
    fixture f = setup(2);
    weft_arg y[] = {weft_arg_slice(f.y)};
    size_t half = (size_t)1 << (sizeof(size_t) * 4);
    weft_range r = {3, {half, half, 2}, {0, 0, 0}};
    assert_refused(&f, "touch", &r, y, 1, "the range overflows");
    weft_range r2 = {2, {SIZE_MAX, 2, 1}, {0, 0, 0}};
    assert_refused(&f, "touch", &r2, y, 1, "the range overflows");
    teardown(&f);
}

/* A kernel indexes each array whole, so a device holds all of it in one
 * buffer: an array above a device's largest allocation keeps the launch off
 * that device. Without a device left, the host_fn runs it; without one,
 * the error names the argument, its bytes and the limit. */
static void test_array_above_a_device_buffer(void **state)
{
    (void)state;
    enum { N = 1000000 };
    weft_options o = test_options();
    o.max_alloc = 600000;
    weft_ctx *ctx = test_ctx_with(&o);
    weft_program *p;
    weft_array *big, *small;
    ASSERT_OK(weft_program_build(ctx, source, NULL, &p));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &big));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 1000, &small));
    weft_range r = weft_range_1d(N), r_small = weft_range_1d(1000);
    weft_arg args[] = {weft_arg_slice(big)}, args_small[] = {weft_arg_slice(small)};
    weft_status st = weft_launch(p, "bump", &r, args, 1, NULL, NULL, NULL);
    if (selected_opencl(ctx) == 0) {
        assert_int_equal(st, WEFT_ERR_NO_DEVICE);
    } else {
        if (st != WEFT_ERR_INVALID_ARG)
            fail_msg("%s (%s), want WEFT_ERR_INVALID_ARG", weft_status_str(st), weft_last_error());
        const char *says[] = {"argument 0", "4000000 bytes", "600000 bytes", "host_fn"};
        for (size_t i = 0; i < 4; i++)
            if (!strstr(weft_last_error(), says[i]))
                fail_msg("\"%s\" does not say \"%s\"", weft_last_error(), says[i]);
        ASSERT_OK(weft_launch(p, "bump", &r_small, args_small, 1, NULL, NULL, NULL));
    }
    for (int round = 0; round < 2; round++)
        ASSERT_OK(weft_launch(p, "bump", &r, args, 1, bump_host, NULL, NULL));
    float *got = malloc(sizeof(float) * N);
    assert_non_null(got);
    ASSERT_OK(weft_array_read(big, 0, N, got));
    for (size_t i = 0; i < N; i++)
        assert_true(got[i] == 2.0f);
    free(got);
    weft_array_free(big);
    weft_array_free(small);
    weft_program_free(p);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_memory_above_the_device_is_refused),
        cmocka_unit_test(test_static_local_memory_above_the_device_is_refused),
        cmocka_unit_test(test_images_and_samplers_are_refused),
        cmocka_unit_test(test_work_group_above_the_device_is_refused),
        cmocka_unit_test(test_range_overflow_is_refused),
        cmocka_unit_test(test_array_above_a_device_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
