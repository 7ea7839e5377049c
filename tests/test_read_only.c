/* Read-only wraps (weft_array_wrap_read_only): memory weft must never write,
 * as a const table or a Python bytes object. Every operation reads them as
 * any array, with the same results; every operation that would write one is
 * refused with WEFT_ERR_INVALID_ARG before it runs, and not a byte of the
 * memory changes (a kernel launch wrote a bytes object in place). */
#include "common.h"

#include <sys/mman.h>

enum { N = 50000 }; /* above the small-array threshold: devices take part */

typedef struct fixture {
    weft_ctx *ctx;
    float *memory, *before; /* the read-only floats and a copy */
    uint32_t *keys;         /* read-only keys */
    weft_array *ro, *ro_keys, *out, *indices;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->ctx = test_ctx();
    f->memory = malloc(N * sizeof(float));
    f->before = malloc(N * sizeof(float));
    f->keys = malloc(N * sizeof(uint32_t));
    fill_f32(f->memory, N, 3);
    memcpy(f->before, f->memory, N * sizeof(float));
    for (size_t i = 0; i < N; i++)
        f->keys[i] = (uint32_t)((i * 2654435761u) % 1000);
    ASSERT_OK(weft_array_wrap_read_only(f->ctx, WEFT_F32, N, f->memory, &f->ro));
    ASSERT_OK(weft_array_wrap_read_only(f->ctx, WEFT_U32, N, f->keys, &f->ro_keys));
    ASSERT_OK(weft_array_create(f->ctx, WEFT_F32, N, &f->out));
    ASSERT_OK(weft_array_create(f->ctx, WEFT_U32, N, &f->indices));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    weft_array_free(f->ro);
    weft_array_free(f->ro_keys);
    weft_array_free(f->out);
    weft_array_free(f->indices);
    weft_ctx_free(f->ctx);
    free(f->memory);
    free(f->before);
    free(f->keys);
    free(f);
    return 0;
}

static void assert_untouched(const fixture *f, const char *what)
{
    if (memcmp(f->memory, f->before, N * sizeof(float)) != 0)
        fail_msg("%s: the read-only memory changed", what);
    for (size_t i = 0; i < N; i++)
        if (f->keys[i] != (uint32_t)((i * 2654435761u) % 1000))
            fail_msg("%s: read-only key %zu changed", what, i);
}

static void assert_refused(const fixture *f, weft_status st, const char *what)
{
    if (st != WEFT_ERR_INVALID_ARG || !strstr(weft_last_error(), "read-only") ||
        (strstr(what, "argument") && !strstr(weft_last_error(), what)))
        fail_msg("%s: status %d (%s), not a read-only refusal", what, (int)st, weft_last_error());
    assert_untouched(f, what);
}

static void test_read_as_any_array(void **state)
{
    fixture *f = *state;
    weft_bind b[] = {weft_bind_array("x", f->ro), weft_bind_array("y", f->out)};
    ASSERT_OK(weft_map(f->ctx, "y = x * 2 + 1", b, 2, NULL));
    float *got = malloc(N * sizeof(float));
    ASSERT_OK(weft_array_read(f->out, 0, N, got));
    for (size_t i = 0; i < N; i++)
        if (got[i] != f->before[i] * 2 + 1) fail_msg("map: element %zu", i);
    double sum = 0, want = 0;
    ASSERT_OK(weft_sum(f->ctx, f->ro, &sum, NULL));
    weft_array *copy;
    ASSERT_OK(weft_array_from(f->ctx, WEFT_F32, N, f->before, &copy));
    ASSERT_OK(weft_sum(f->ctx, copy, &want, NULL));
    assert_true(sum == want); /* the same bits as an ordinary array */
    ASSERT_OK(weft_array_free(copy));
    ASSERT_OK(weft_scan(f->ctx, WEFT_SUM, 0, f->ro, f->out, NULL));
    ASSERT_OK(weft_axpy(f->ctx, 2.0, f->ro, f->out, NULL));
    ASSERT_OK(weft_argsort(f->ctx, f->ro_keys, f->indices, 0, NULL));
    weft_array *counts;
    ASSERT_OK(weft_array_create(f->ctx, WEFT_U64, 16, &counts));
    ASSERT_OK(weft_histogram(f->ctx, f->ro, 0.0, 1.0, counts, NULL));
    ASSERT_OK(weft_array_free(counts));
    ASSERT_OK(weft_array_read(f->ro, 0, N, got));
    assert_memory_equal(got, f->before, N * sizeof(float));
    ASSERT_OK(weft_array_sync(f->ro));
    free(got);
    assert_untouched(f, "reads");
}

static void test_writes_are_refused(void **state)
{
    fixture *f = *state;
    weft_bind b[] = {weft_bind_array("x", f->out), weft_bind_array("y", f->ro)};
    assert_refused(f, weft_map(f->ctx, "y = x * 2", b, 2, NULL), "map output");
    weft_bind in_place[] = {weft_bind_array("y", f->ro)};
    assert_refused(f, weft_map(f->ctx, "y = y + 1", in_place, 1, NULL), "map in place");
    weft_future *fut = (weft_future *)1;
    assert_refused(f, weft_map(f->ctx, "y = x * 2", b, 2, &fut), "map output, async");
    assert_null(fut);
    assert_refused(f, weft_scan(f->ctx, WEFT_SUM, 0, f->out, f->ro, NULL), "scan output");
    assert_refused(f, weft_scan(f->ctx, WEFT_SUM, 0, f->ro, f->ro, NULL), "scan in place");
    assert_refused(f, weft_axpy(f->ctx, 2.0, f->out, f->ro, NULL), "axpy y");
    assert_refused(f, weft_sort(f->ctx, f->ro_keys, NULL, 0, NULL), "sort keys");
    assert_refused(f, weft_random(f->ctx, f->ro, WEFT_UNIFORM, 1, 0, NULL), "random");
    float one = 1;
    assert_refused(f, weft_array_write(f->ro, 0, 1, &one), "weft_array_write");
    /* Writes queued behind other work are refused the same way. */
    weft_bind busy[] = {weft_bind_array("y", f->out)};
    ASSERT_OK(weft_map(f->ctx, "y = y + 1", busy, 1, &fut));
    assert_refused(f, weft_map(f->ctx, "y = x * 2", b, 2, NULL), "map behind another");
    ASSERT_OK(weft_future_wait(fut));
    ASSERT_OK(weft_future_release(fut));
}

static const char *kernels =
    "__kernel void fill(__global float *y) { y[get_global_id(0)] = 2.0f; }\n"
    "__kernel void copy_plain(__global float *x, __global float *y)\n"
    "{ size_t i = get_global_id(0); y[i] = x[i]; }\n"
    "__kernel void copy(__global const float *x, __global float *y)\n"
    "{ size_t i = get_global_id(0); y[i] = x[i]; }\n"
    /* Writes a library's kernels make through a macro (CLBlast's
     * MultiplyAdd) or a parenthesised element. */
    "#define MultiplyAdd(c, a, b) c += a * b\n"
    "__kernel void fill_macro(__global float *y)\n"
    "{ size_t i = get_global_id(0); MultiplyAdd(y[i], 2.0f, 1.0f); }\n"
    "__kernel void fill_paren(__global float *y) { (y[get_global_id(0)]) += 2.0f; }\n";

static void fill_host(const weft_host_call *call)
{
    float *y = weft_host_arg(call, 0);
    for (size_t i = call->begin; i < call->end; i++)
        y[i] = 2.0f;
}

static void copy_host(const weft_host_call *call)
{
    const float *x = weft_host_arg(call, 0);
    float *y = weft_host_arg(call, 1);
    for (size_t i = call->begin; i < call->end; i++)
        y[i] = x[i];
}

static void test_kernels_read_but_never_write(void **state)
{
    fixture *f = *state;
    weft_program *p = NULL;
    weft_status st = weft_program_build(f->ctx, kernels, NULL, &p);
    if (st == WEFT_ERR_NO_DEVICE) skip(); /* no OpenCL: kernels need a device to build */
    ASSERT_OK(st);
    weft_range r = weft_range_1d(N);
    /* With no device to describe the kernel (no OpenCL), a read-only array
     * is taken as read: the host_fn is C code weft cannot look into. */
    weft_dtype unused;
    int described = weft_program_scalar_dtype(p, "fill", 0, &unused) != WEFT_ERR_UNSUPPORTED;
    if (described) {
        weft_arg fill_slice[] = {weft_arg_slice(f->ro)};
        assert_refused(f, weft_launch(p, "fill", &r, fill_slice, 1, fill_host, NULL, NULL),
                       "kernel slice");
        weft_arg fill_whole[] = {weft_arg_whole(f->ro)};
        assert_refused(f, weft_launch(p, "fill", &r, fill_whole, 1, fill_host, NULL, NULL),
                       "kernel whole");
    }
    if (described) { /* written through a macro or in parentheses: refused too */
        static const char *const hidden[] = {"fill_macro", "fill_paren"};
        for (int k = 0; k < 2; k++) {
            weft_arg whole[] = {weft_arg_whole(f->ro)};
            assert_refused(f, weft_launch(p, hidden[k], &r, whole, 1, fill_host, NULL, NULL),
                           hidden[k]);
        }
    }
    if (described) { /* not const, but only read by subscript (most suites): read */
        weft_arg plain[] = {weft_arg_slice(f->ro), weft_arg_slice(f->out)};
        ASSERT_OK(weft_launch(p, "copy_plain", &r, plain, 2, copy_host, NULL, NULL));
        /* a refusal names the argument and the kernel */
        weft_arg fill_slice[] = {weft_arg_slice(f->ro)};
        assert_refused(f, weft_launch(p, "fill", &r, fill_slice, 1, fill_host, NULL, NULL),
                       "argument 0 (float* y) of kernel fill");
    }
    weft_arg copy_args[] = {weft_arg_slice(f->ro), weft_arg_slice(f->out)};
    ASSERT_OK(weft_launch(p, "copy", &r, copy_args, 2, copy_host, NULL, NULL));
    float *got = malloc(N * sizeof(float));
    ASSERT_OK(weft_array_read(f->out, 0, N, got));
    assert_memory_equal(got, f->before, N * sizeof(float));
    free(got);
    assert_untouched(f, "kernel reads");
    ASSERT_OK(weft_program_free(p));
}

/* Memory the process cannot write at all (a read-only mapping, as a
 * Python bytes object may be): a split over copying devices once poisoned
 * and restored the wrapped memory itself for its check (SIGSEGV). Read-only
 * arrays go whole to each device (they never change, so once), so a kernel
 * reading across the split reads them right too. */
static void test_read_only_mapping_split_over_devices(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_program *p = NULL;
    weft_status st = weft_program_build(
        ctx,
        "__kernel void shifted(__global const float *x, __global float *y, int n)\n"
        "{ int i = get_global_id(0); y[i] = x[(i + 1) % n] * 2.0f; }\n",
        NULL, &p);
    if (st == WEFT_ERR_NO_DEVICE || selected_opencl(ctx) == 0) { /* a host_fn is the caller's C */
        weft_program_free(p);
        weft_ctx_free(ctx);
        skip();
    }
    ASSERT_OK(st);
    size_t bytes = N * sizeof(float);
    float *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(memory != MAP_FAILED);
    fill_f32(memory, N, 9);
    assert_int_equal(mprotect(memory, bytes, PROT_READ), 0);
    weft_array *x, *y;
    ASSERT_OK(weft_array_wrap_read_only(ctx, WEFT_F32, N, memory, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_range r = weft_range_1d(N);
    float *got = malloc(bytes);
    for (int call = 0; call < 3; call++) {
        weft_arg args[] = {weft_arg_slice(x), weft_arg_slice(y), weft_arg_i32(N)};
        ASSERT_OK(weft_launch(p, "shifted", &r, args, 3, NULL, NULL, NULL));
        ASSERT_OK(weft_array_read(y, 0, N, got));
        for (size_t i = 0; i < N; i++)
            if (got[i] != memory[(i + 1) % N] * 2.0f) fail_msg("call %d: element %zu", call, i);
    }
    free(got);
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_program_free(p));
    ASSERT_OK(weft_ctx_free(ctx));
    munmap(memory, bytes);
}

static void test_null_memory_is_refused(void **state)
{
    fixture *f = *state;
    weft_array *a = (weft_array *)1;
    assert_int_equal(weft_array_wrap_read_only(f->ctx, WEFT_F32, 4, NULL, &a), WEFT_ERR_NULL);
    assert_int_equal(weft_array_wrap_read_only(NULL, WEFT_F32, 4, f->memory, &a), WEFT_ERR_NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_as_any_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernels_read_but_never_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_memory_is_refused, setup, teardown),
        cmocka_unit_test(test_read_only_mapping_split_over_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
