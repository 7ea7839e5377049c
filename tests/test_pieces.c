/* The pieces of an operation (src/pieces.c) when a device fails: what the
 * failed device held, what the operation's other pieces did, and what the
 * arrays read back afterwards. Faults are aimed at one OpenCL call of one
 * operation (the context's WEFT_FAULT=call:K counter, moved past the calls
 * the setup made), for every call that operation makes. Copies are explicit
 * (zero-copy off) unless a test says otherwise, so a device holds copies of
 * its own. */
#include "common.h"
#include "../src/api/testing.h"

enum { N = 1 << 15 };

static weft_ctx *ctx_for(int host_chunk, int zero_copy)
{
    static const double even[] = {1, 1, 1, 1};
    weft_options o = test_options();
    o.weights = WEFT_WEIGHTS_EVEN;
    if (host_chunk) { /* given by hand, weights keep the host beside CPU devices */
        o.weights = WEFT_WEIGHTS_GIVEN;
        o.given = even;
        o.given_count = 4;
    }
    o.zero_copy = zero_copy;
    o.log_level = WEFT_LOG_ERROR; /* the reruns' warnings are expected */
    return test_ctx_with(&o);
}

static weft_ctx *copying_ctx(int host_chunk)
{
    return ctx_for(host_chunk, 0);
}

/* The k-th OpenCL call from now fails (0: none does). Set only while the
 * stream is idle: the next operation's threads read it after the handoff. */
static void fail_call(weft_ctx *ctx, long k)
{
    weft_testing_fail_call(ctx, k);
}

/* 1 when the aimed call was reached. */
static int fault_fired(weft_ctx *ctx)
{
    return weft_testing_fault_fired(ctx);
}

static void expect_f32(weft_array *a, const float *want, const char *what, long k)
{
    float *got = malloc(N * sizeof *got);
    weft_status st = weft_array_read(a, 0, N, got);
    if (st != WEFT_OK) fail_msg("call %ld: reading %s: %s", k, what, weft_last_error());
    for (size_t i = 0; i < N; i++)
        if (!same_bits(&got[i], &want[i], sizeof *got))
            fail_msg("call %ld: %s[%zu] = %a, want %a", k, what, i, got[i], want[i]);
    free(got);
}

static void expect_device_error(weft_status st, long k)
{
    if (st != WEFT_ERR_DEVICE && st != WEFT_ERR_OPENCL)
        fail_msg("call %ld: status %d: %s", k, (int)st, weft_last_error());
}

/* y = x + 1 leaves y's device chunks current on their devices only; then
 * z = 2 * y fails at its k-th OpenCL call. z may be lost, but y was only read:
 * whatever the failed device held of it that nobody else holds must still
 * read back, as it did before copies to devices became non-blocking. */
static void inputs_survive(int asynchronous)
{
    weft_ctx *ctx = copying_ctx(0);
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *z = malloc(N * sizeof *z);
    fill_f32(x, N, 41);
    for (size_t i = 0; i < N; i++) {
        y[i] = x[i] + 1.0f;
        z[i] = 2.0f * y[i];
    }
    long k = 1;
    int failed = 0;
    for (int warm = 1; k < 200; k += !warm, warm = 0) {
        weft_array *xa, *ya, *za;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &za));
        weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya),
                         weft_bind_array("z", za)};
        ASSERT_OK(weft_map(ctx, "y = x + 1", b, 2, NULL));
        fail_call(ctx, warm ? 0 : k); /* the first round builds the kernels */
        weft_status st;
        if (asynchronous) {
            weft_future *f = NULL;
            st = weft_map(ctx, "z = 2 * y", b + 1, 2, &f);
            if (st == WEFT_OK) st = weft_future_wait(f);
            weft_future_release(f);
        } else {
            st = weft_map(ctx, "z = 2 * y", b + 1, 2, NULL);
        }
        int fired = fault_fired(ctx);
        fail_call(ctx, 0);
        if (st == WEFT_OK)
            expect_f32(za, z, "z", k);
        else
            expect_device_error(st, k);
        failed += st != WEFT_OK;
        expect_f32(ya, y, "y (only read)", k);
        expect_f32(xa, x, "x (only read)", k);
        ASSERT_OK(weft_array_free(xa));
        ASSERT_OK(weft_array_free(ya));
        ASSERT_OK(weft_array_free(za));
        if (!warm && !fired) break; /* past the operation's last call */
    }
    print_message("%ld OpenCL calls of the operation failed one at a time, %d of them failed it\n",
                  k - 1, failed);
    assert_true(k > 2);
    free(x);
    free(y);
    free(z);
    weft_ctx_free(ctx);
}

static void test_failed_device_keeps_inputs_only_it_holds(void **state)
{
    (void)state;
    fail_after(120);
    inputs_survive(0);
    fail_after(0);
}

static void test_failed_async_device_keeps_inputs_only_it_holds(void **state)
{
    (void)state;
    fail_after(120);
    inputs_survive(1);
    fail_after(0);
}

static const char fill_source[] =
    "__kernel void fill(__global float *x, float v) { x[get_global_id(0)] = v; }\n";

static void fill_host(const weft_host_call *call)
{
    float *x = call->args[0];
    float v = *(const float *)call->args[1];
    for (size_t i = call->begin; i < call->end; i++)
        x[i] = v;
}

/* x is written by a launch, whose pieces are all on devices: the host's
 * chunk of x is current on a device only, and the host piece of y += x must
 * fetch it. Whatever call of the axpy fails, the operation must not return
 * while its device pieces still run unaccounted for: the host's copy of y
 * and each device's must agree afterwards (a map copying y runs its device
 * chunks on the devices' copies, a read returns the host's). */
static void host_piece_fails(int asynchronous)
{
    weft_ctx *ctx = copying_ctx(1);
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, fill_source, NULL, &p));
    float *y = malloc(N * sizeof *y), *sum = malloc(N * sizeof *sum);
    float *got = malloc(N * sizeof *got);
    fill_f32(y, N, 42);
    for (size_t i = 0; i < N; i++)
        sum[i] = y[i] + 1.0f;
    long k = 1;
    int failed = 0, host_piece = 0;
    for (int warm = 1; k < 200; k += !warm, warm = 0) {
        weft_array *xa, *ya, *wa;
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &xa));
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, y, &ya));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &wa));
        weft_arg args[] = {weft_arg_slice(xa), weft_arg_f32(1.0f)};
        weft_range r = {1, {N, 1, 1}, {0, 0, 0}};
        ASSERT_OK(weft_launch(p, "fill", &r, args, 2, fill_host, NULL, NULL));
        fail_call(ctx, warm ? 0 : k);
        weft_status st;
        if (asynchronous) {
            weft_future *f = NULL;
            st = weft_axpy(ctx, 1.0, xa, ya, &f);
            if (st == WEFT_OK) st = weft_future_wait(f);
            weft_future_release(f);
        } else {
            st = weft_axpy(ctx, 1.0, xa, ya, NULL);
        }
        int fired = fault_fired(ctx);
        fail_call(ctx, 0);
        if (warm) {
            weft_piece_report pieces[8];
            size_t count = 0;
            ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
            for (size_t i = 0; i < count; i++)
                host_piece |= pieces[i].device == 0;
        }
        if (st == WEFT_OK)
            expect_f32(ya, sum, "y", k);
        else
            expect_device_error(st, k);
        failed += st != WEFT_OK;
        /* After a failure the caller no longer waited for, its results are
         * lost (current nowhere): a read says so. */
        weft_status read = weft_array_read(ya, 0, N, got);
        if (read != WEFT_OK && !(asynchronous && st != WEFT_OK && read == WEFT_ERR_DEVICE))
            fail_msg("call %ld: reading y: %s", k, weft_last_error());
        weft_bind b[] = {weft_bind_array("y", ya), weft_bind_array("w", wa)};
        if (read == WEFT_OK) {
            ASSERT_OK(weft_map(ctx, "w = y", b, 2, NULL));
            expect_f32(wa, got, "w = y (a copy of what y reads back)", k);
        }
        ASSERT_OK(weft_array_free(xa));
        ASSERT_OK(weft_array_free(ya));
        ASSERT_OK(weft_array_free(wa));
        if (!warm && !fired) break;
    }
    print_message("%ld OpenCL calls of the axpy failed one at a time, %d of them failed it\n",
                  k - 1, failed);
    assert_true(host_piece);
    assert_true(k > 2);
    weft_program_free(p);
    free(y);
    free(sum);
    free(got);
    weft_ctx_free(ctx);
}

static void test_failed_host_piece_leaves_no_device_work_behind(void **state)
{
    (void)state;
    fail_after(120);
    host_piece_fails(0);
    fail_after(0);
}

static void test_failed_async_host_piece_leaves_no_device_work_behind(void **state)
{
    (void)state;
    fail_after(120);
    host_piece_fails(1);
    fail_after(0);
}

/* Whatever OpenCL call of a map fails, a device's piece that read a copy
 * whose wait failed (the host's own piece waits for the copies before it
 * writes the host storage) cannot count as done: the call's failure must
 * show as a rerun, or the operation's error. */
static void test_every_failed_call_shows(void **state)
{
    (void)state;
    fail_after(120);
    weft_ctx *ctx = copying_ctx(1);
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    fill_f32(x, N, 44);
    for (size_t i = 0; i < N; i++)
        y[i] = x[i] + 1.0f;
    long k = 1;
    for (int warm = 1; k < 200; k += !warm, warm = 0) {
        weft_array *xa, *ya;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
        weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
        ASSERT_OK(weft_ctx_stats_reset(ctx));
        fail_call(ctx, warm ? 0 : k);
        weft_status st = weft_map(ctx, "y = x + 1", b, 2, NULL);
        int fired = fault_fired(ctx);
        fail_call(ctx, 0);
        weft_stats stats;
        ASSERT_OK(weft_ctx_stats(ctx, &stats));
        if (st == WEFT_OK) {
            expect_f32(ya, y, "y", k);
            if (fired && stats.pieces_rerun == 0)
                fail_msg("call %ld failed, and every piece counted as done", k);
        } else {
            expect_device_error(st, k);
        }
        ASSERT_OK(weft_array_free(xa));
        ASSERT_OK(weft_array_free(ya));
        if (!warm && !fired) break;
    }
    assert_true(k > 2);
    free(x);
    free(y);
    weft_ctx_free(ctx);
    fail_after(0);
}

static const char blur_source[] =
    "__kernel void blur(__global const int *u, __global int *v, int n) {\n"
    "    int i = get_global_id(0);\n"
    "    v[i] = (i > 0 ? u[i - 1] : 0) + u[i] + (i + 1 < n ? u[i + 1] : 0);\n"
    "}\n";

static void blur_host(const weft_host_call *call)
{
    const int32_t *u = call->args[0];
    int32_t *v = call->args[1];
    int32_t n = *(const int32_t *)call->args[2];
    for (size_t i = call->begin; i < call->end; i++)
        v[i] = (i > 0 ? u[i - 1] : 0) + u[i] + ((int32_t)i + 1 < n ? u[i + 1] : 0);
}

static void blur_reference(const int32_t *u, int32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (i > 0 ? u[i - 1] : 0) + u[i] + (i + 1 < n ? u[i + 1] : 0);
}

/* A stencil whose halo rows another device wrote, failing at each of its
 * OpenCL calls in turn: right, or an error, and its input intact. */
static void halo_launch_fails(int zero_copy)
{
    weft_ctx *ctx = ctx_for(0, zero_copy);
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, blur_source, NULL, &p));
    enum { M = 4099 };
    int32_t *u0 = malloc(M * sizeof *u0), *u1 = malloc(M * sizeof *u1);
    int32_t *u2 = malloc(M * sizeof *u2), *got = malloc(M * sizeof *got);
    for (size_t i = 0; i < M; i++)
        u0[i] = (int32_t)(i * 7919 % 1000);
    blur_reference(u0, u1, M);
    blur_reference(u1, u2, M);
    weft_range r = {1, {M, 1, 1}, {0, 0, 0}};
    long k = 1;
    for (int warm = 1; k < 200; k += !warm, warm = 0) {
        weft_array *a, *b, *c;
        ASSERT_OK(weft_array_from(ctx, WEFT_I32, M, u0, &a));
        ASSERT_OK(weft_array_create(ctx, WEFT_I32, M, &b));
        ASSERT_OK(weft_array_create(ctx, WEFT_I32, M, &c));
        weft_arg first[] = {weft_arg_halo(a, 1), weft_arg_slice(b), weft_arg_i32(M)};
        weft_arg second[] = {weft_arg_halo(b, 1), weft_arg_slice(c), weft_arg_i32(M)};
        ASSERT_OK(weft_launch(p, "blur", &r, first, 3, blur_host, NULL, NULL));
        fail_call(ctx, warm ? 0 : k); /* b's rows are on the devices that wrote them */
        weft_status st = weft_launch(p, "blur", &r, second, 3, blur_host, NULL, NULL);
        int fired = fault_fired(ctx);
        fail_call(ctx, 0);
        if (st != WEFT_OK) expect_device_error(st, k);
        ASSERT_OK(weft_array_read(b, 0, M, got));
        if (memcmp(got, u1, M * sizeof *got) != 0) fail_msg("call %ld: the input changed", k);
        if (st == WEFT_OK) {
            ASSERT_OK(weft_array_read(c, 0, M, got));
            for (size_t i = 0; i < M; i++)
                if (got[i] != u2[i])
                    fail_msg("call %ld: c[%zu] = %d, want %d", k, i, got[i], u2[i]);
        }
        ASSERT_OK(weft_array_free(a));
        ASSERT_OK(weft_array_free(b));
        ASSERT_OK(weft_array_free(c));
        if (!warm && !fired) break;
    }
    assert_true(k > 2);
    weft_program_free(p);
    free(u0);
    free(u1);
    free(u2);
    free(got);
    weft_ctx_free(ctx);
}

static void test_halo_launch_under_every_failed_call(void **state)
{
    (void)state;
    fail_after(120);
    halo_launch_fails(0);
    halo_launch_fails(1);
    fail_after(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_device_keeps_inputs_only_it_holds),
        cmocka_unit_test(test_failed_async_device_keeps_inputs_only_it_holds),
        cmocka_unit_test(test_failed_host_piece_leaves_no_device_work_behind),
        cmocka_unit_test(test_failed_async_host_piece_leaves_no_device_work_behind),
        cmocka_unit_test(test_every_failed_call_shows),
        cmocka_unit_test(test_halo_launch_under_every_failed_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
