/* The engine's failure attribution: an operation is told of the failures of
 * the device work it depends on (its own commands and the copies and writes
 * it reads), and of no one else's. */
#include "common.h"
#include "../src/api/testing.h"
#include "../src/dev/services.h"
#include "../src/mem/device_work.h"
#include "../src/mem/residency.h"

#include <unistd.h>

/* Devices that copy (no zero-copy), every array split evenly over the pool
 * and them, so each operation has pieces on each. */
static weft_ctx *copying_ctx(void)
{
    weft_options o = test_options();
    o.weights = WEFT_WEIGHTS_EVEN;
    o.zero_copy = 0;
    o.log_level = WEFT_LOG_ERROR;
    return test_ctx_with(&o);
}

static int all_equal(const float *got, const float *want, size_t n)
{
    return same_bits(got, want, n * sizeof *got);
}

/* Two asynchronous operations whose device pieces were refused (they reran
 * on the pool, their results are right) must not be failed by device work
 * that is not theirs: the first's copies failed as they ran, but no piece of
 * it read them; the second enqueued nothing at all, and its completion
 * marker was the queue's last command, the first's failed copy. */
static void test_refused_operations_are_not_blamed(void **state)
{
    (void)state;
    enum { N = 70001 };
    weft_ctx *ctx = copying_ctx();
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x), *w = malloc(N * sizeof *w), *got = malloc(N * sizeof *got),
          *want = malloc(N * sizeof *want);
    fill_f32(x, N, 61);
    fill_f32(w, N, 62);
    weft_array *xa, *wa, *ya, *za;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, w, &wa));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &za));
    double total;
    ASSERT_OK(weft_sum(ctx, wa, &total, NULL)); /* w is current on the devices now */

    weft_testing_set_faults(ctx, WEFT_FAULT_UPLOAD | WEFT_FAULT_LAUNCH);
    weft_bind first[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    weft_bind second[] = {weft_bind_array("w", wa), weft_bind_array("z", za)};
    weft_future *f, *g;
    ASSERT_OK(weft_map(ctx, "y = x + 1", first, 2, &f));
    ASSERT_OK(weft_map(ctx, "z = w * 2", second, 2, &g));
    weft_status fs = weft_future_wait(f);
    weft_future_release(f);
    weft_status gs = weft_future_wait(g);
    weft_future_release(g);
    weft_testing_set_faults(ctx, 0);
    if (fs != WEFT_OK)
        fail_msg("the map whose pieces reran on the pool failed: %s", weft_status_str(fs));
    if (gs != WEFT_OK)
        fail_msg("the map that enqueued nothing was failed by another's copy: %s",
                 weft_status_str(gs));
    for (int i = 0; i < N; i++)
        want[i] = x[i] + 1.0f;
    ASSERT_OK(weft_array_read(ya, 0, N, got));
    assert_true(all_equal(got, want, N));
    for (int i = 0; i < N; i++)
        want[i] = w[i] * 2.0f;
    ASSERT_OK(weft_array_read(za, 0, N, got));
    assert_true(all_equal(got, want, N));
    /* The failed copies are not current on the devices: x goes up again. */
    weft_stats stats;
    ASSERT_OK(weft_ctx_stats_reset(ctx));
    ASSERT_OK(weft_sum(ctx, xa, &total, NULL));
    ASSERT_OK(weft_ctx_stats(ctx, &stats));
    assert_true(stats.bytes_to_device > sizeof(float));
    double want_total = reference_sum(x, 0, N);
    assert_true(same_bits(&total, &want_total, sizeof total));
    weft_array_free(xa);
    weft_array_free(wa);
    weft_array_free(ya);
    weft_array_free(za);
    free(x);
    free(w);
    free(got);
    free(want);
    weft_ctx_free(ctx);
}

/* A blocking operation that reads what an asynchronous one is still writing
 * on a device runs after it on the device's queue; when that operation's
 * device work fails (here: the copy it read failed as it ran), the blocking
 * reader must see the failure (fail, or rerun from good data), never return
 * what it computed from the lost results as good. */
static void test_blocking_reader_sees_async_writers_failure(void **state)
{
    (void)state;
    enum { N = 1 << 16, ROUNDS = 8 };
    weft_ctx *ctx = copying_ctx();
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x);
    fill_f32(x, N, 71);
    int counted_good = 0;
    for (int round = 0; round < ROUNDS; round++) {
        weft_array *xa, *ya, *za;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &za));
        weft_testing_set_faults(ctx, WEFT_FAULT_UPLOAD);
        weft_bind writer[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
        weft_bind reader[] = {weft_bind_array("y", ya), weft_bind_array("z", za)};
        weft_future *f;
        ASSERT_OK(weft_map(ctx, "y = x + 1", writer, 2, &f));
        weft_status read_status = weft_map(ctx, "z = y * 2", reader, 2, NULL);
        weft_status write_status = weft_future_wait(f);
        weft_future_release(f);
        weft_testing_set_faults(ctx, 0);
        assert_int_equal(write_status, WEFT_ERR_DEVICE);
        counted_good += read_status == WEFT_OK;
        weft_array_free(xa);
        weft_array_free(ya);
        weft_array_free(za);
    }
    if (counted_good)
        fail_msg("%d of %d blocking reads of a failed asynchronous write returned WEFT_OK",
                 counted_good, ROUNDS);
    free(x);
    weft_ctx_free(ctx);
}

/* The accounting both ends of device work share (src/mem/device_work.c): a
 * copy that failed as it ran is seen by the work that read it, and by no work
 * that marked after it; a failed device loses what it was writing and what
 * others hold too, and keeps its own earlier results. */
static void test_device_work_accounting(void **state)
{
    (void)state;
    enum { N = 4096 };
    weft_ctx *ctx = copying_ctx();
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x);
    fill_f32(x, N, 81);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
    weft_array *arrays[] = {xa, ya};
    weft_mem_device_work work = {arrays, 2, 1u, 1, NULL}; /* reads all of x on device 1 */

    unsigned mark = weft_mem_copy_mark(&work);
    weft_testing_set_faults(ctx, WEFT_FAULT_UPLOAD);
    ASSERT_OK(weft_mem_make_current(xa, 1, 0, N)); /* fails as it runs, not here */
    weft_testing_set_faults(ctx, 0);
    assert_int_equal(weft_mem_check_copies(&work, mark), WEFT_ERR_DEVICE);
    assert_false(weft_mem_is_current(xa, 1, 0, N));
    mark = weft_mem_copy_mark(&work); /* later work is not blamed */
    ASSERT_OK(weft_mem_make_current(xa, 1, 0, N));
    ASSERT_OK(weft_mem_check_copies(&work, mark));
    assert_true(weft_mem_is_current(xa, 1, 0, N));

    ASSERT_OK(weft_mem_wrote(ya, 1, 0, N / 2)); /* device 1 alone holds y[0, N/2) */
    weft_mem_span writing[] = {{0, 0}, {0, N / 4}};
    assert_int_equal(weft_mem_device_failed(&work, writing), 0u); /* no host memory hit */
    assert_false(weft_mem_is_current(xa, 1, 0, 1));               /* the host holds it too */
    assert_false(weft_mem_is_current(ya, 1, 0, 1));               /* what it was writing */
    assert_true(weft_mem_is_current(ya, 1, N / 4, N / 2));        /* its own earlier results */
    assert_true(weft_mem_is_current(xa, 0, 0, N));
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    weft_ctx_free(ctx);
}

/* Two pieces of work read disjoint halves of one array on one device, each
 * through its own copy, both pending at once. The copy of one half fails as
 * it runs: the work that read that half is blamed and its half is no longer
 * current there; the work that read the other half is not blamed, whichever
 * copy was made first, and keeps its half. */
static void test_failed_copy_blames_only_its_range(void **state)
{
    (void)state;
    enum { N = 1 << 15 };
    weft_ctx *ctx = copying_ctx();
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x);
    fill_f32(x, N, 91);
    for (int failing_first = 0; failing_first < 2; failing_first++) {
        weft_array *xa;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        weft_array *arrays[] = {xa};
        const weft_mem_span low = {0, N / 2}, high = {N / 2, N};
        weft_mem_device_work good = {arrays, 1, 1u, 1, &low}, bad = {arrays, 1, 1u, 1, &high};
        unsigned good_mark = weft_mem_copy_mark(&good), bad_mark = weft_mem_copy_mark(&bad);
        for (int step = 0; step < 2; step++) {
            int failing = step == !failing_first;
            weft_testing_set_faults(ctx, failing ? WEFT_FAULT_UPLOAD : 0);
            const weft_mem_span *half = failing ? &high : &low;
            ASSERT_OK(weft_mem_make_current(xa, 1, half->begin, half->end));
        }
        weft_testing_set_faults(ctx, 0);
        if (weft_mem_check_copies(&good, good_mark) != WEFT_OK)
            fail_msg("work that read only the copied half was blamed for the other half's "
                     "failed copy (failing copy %s)",
                     failing_first ? "first" : "second");
        assert_int_equal(weft_mem_check_copies(&bad, bad_mark), WEFT_ERR_DEVICE);
        assert_true(weft_mem_is_current(xa, 1, 0, N / 2));
        assert_false(weft_mem_is_current(xa, 1, N / 2, N / 2 + 1));
        weft_array_free(xa);
    }
    free(x);
    weft_ctx_free(ctx);
}

static const char sum3_source[] =
    "__kernel void sum3(__global const int *u, __global int *v, const int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    v[i] = i == 0 || i == n - 1 ? u[i] : (u[i - 1] + u[i] + u[i + 1]) & 0xffff;\n"
    "}\n";

static void sum3_step(const int32_t *u, int32_t *v, int n, size_t begin, size_t end)
{
    for (size_t k = begin; k < end; k++) {
        int i = (int)k;
        v[i] = i == 0 || i == n - 1 ? u[i] : (u[i - 1] + u[i] + u[i + 1]) & 0xffff;
    }
}

static void sum3_host(const weft_host_call *call)
{
    sum3_step(call->args[0], call->args[1], *(const int *)call->args[2], call->begin, call->end);
}

/* Launches with futures, one after the other, each reading halo rows its
 * neighbours wrote in the launch before, moved through the host (no peer
 * copies): each copy into a device must wait for the queued kernels that
 * still read what it overwrites, and each kernel for the copies it reads,
 * though copies and kernels run on queues of their own. The result matches
 * the plain loop exactly (integers). */
static void test_queued_halo_steps_keep_their_order(void **state)
{
    (void)state;
    enum { N = 30011, STEPS = 40 };
    setenv("WEFT_PEER_COPY", "0", 1);
    weft_ctx *ctx = copying_ctx();
    unsetenv("WEFT_PEER_COPY");
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, sum3_source, NULL, &p));
    int32_t *u0 = malloc(N * sizeof *u0), *want = malloc(N * sizeof *want),
            *spare = malloc(N * sizeof *spare), *got = malloc(N * sizeof *got);
    for (int i = 0; i < N; i++)
        u0[i] = want[i] = (int32_t)((i * 7919u) & 0xffff);
    for (int s = 0; s < STEPS; s++) {
        sum3_step(want, spare, N, 0, N);
        memcpy(want, spare, N * sizeof *want);
    }
    weft_array *u, *v;
    ASSERT_OK(weft_array_from(ctx, WEFT_I32, N, u0, &u));
    ASSERT_OK(weft_array_create(ctx, WEFT_I32, N, &v));
    weft_range r = {1, {N, 1, 1}, {0, 0, 0}};
    weft_future *f[STEPS];
    for (int s = 0; s < STEPS; s++) {
        weft_arg args[] = {weft_arg_halo(u, 1), weft_arg_slice(v), weft_arg_i32(N)};
        ASSERT_OK(weft_launch(p, "sum3", &r, args, 3, sum3_host, NULL, &f[s]));
        weft_array *t = u;
        u = v;
        v = t;
    }
    for (int s = 0; s < STEPS; s++) {
        ASSERT_OK(weft_future_wait(f[s]));
        weft_future_release(f[s]);
    }
    weft_stats st;
    ASSERT_OK(weft_ctx_stats(ctx, &st));
    /* The steps ran on the devices, their halo rows through the host. */
    assert_true(st.kernel_launches >= STEPS);
    assert_true(st.bytes_to_device > (uint64_t)STEPS * sizeof *got);
    ASSERT_OK(weft_array_read(u, 0, N, got));
    assert_true(same_bits(got, want, N * sizeof *got));
    weft_array_free(u);
    weft_array_free(v);
    weft_program_free(p);
    free(u0);
    free(want);
    free(spare);
    free(got);
    weft_ctx_free(ctx);
}

int main(void)
{
    /* PoCL's CPU devices have no copy queue by default: these tests check
     * the accounting with one (WEFT_COPY_QUEUE=0 in the environment still
     * checks it without). */
    setenv("WEFT_COPY_QUEUE", "1", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_operations_are_not_blamed),
        cmocka_unit_test(test_blocking_reader_sees_async_writers_failure),
        cmocka_unit_test(test_device_work_accounting),
        cmocka_unit_test(test_failed_copy_blames_only_its_range),
        cmocka_unit_test(test_queued_halo_steps_keep_their_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
