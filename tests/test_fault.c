/* Device failure: with WEFT_FAULT making the OpenCL backend fail on purpose,
 * every piece is rerun on the host pool, the result is still right, and the
 * log says so; where a rerun cannot be right, the caller is told. */
#include "common.h"
#include "copy_kernel.h"
#include "../src/api/testing.h"
#include "../src/dev/services.h"

#include <pthread.h>
#include <unistd.h>

typedef struct captured {
    int fallbacks;
} captured;

static void capture(void *user, weft_log_level level, const char *message)
{
    captured *c = user;
    if (level <= WEFT_LOG_WARN && strstr(message, "rerunning")) c->fallbacks++;
}

/* WEFT_ZERO_COPY=0 in the environment turns it off whatever the options say. */
static int zero_copy(weft_ctx *ctx)
{
    weft_device_info info;
    return weft_device_get_info(ctx, 1, &info) == WEFT_OK && info.zero_copy;
}

static weft_ctx *faulty_ctx(const char *fault, int zero_copy, captured *log)
{
    setenv("WEFT_FAULT", fault, 1);
    weft_options o = test_options();
    o.weights = WEFT_WEIGHTS_EVEN;
    o.zero_copy = zero_copy;
    o.log = capture;
    o.log_user = log;
    o.log_level = WEFT_LOG_WARN;
    weft_ctx *ctx = test_ctx_with(&o);
    unsetenv("WEFT_FAULT");
    return ctx;
}

/* Runs axpy and sum; returns the number of pieces reported as fallen back. */
static size_t run_and_check(weft_ctx *ctx, weft_status want_axpy)
{
    enum { N = 70001 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *got = malloc(N * sizeof *got);
    fill_f32(x, N, 21);
    fill_f32(y, N, 22);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, y, &ya));
    double total;
    ASSERT_OK(weft_sum(ctx, xa, &total, NULL));
    double want = reference_sum(x, 0, N);
    assert_true(same_bits(&total, &want, sizeof want));
    weft_piece_report pieces[8];
    size_t count = 0, fell = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
    for (size_t p = 0; p < count; p++)
        fell += pieces[p].fell_back;

    weft_status st = weft_axpy(ctx, 3.0, xa, ya, NULL);
    assert_int_equal(st, want_axpy);
    if (st == WEFT_OK) {
        for (int i = 0; i < N; i++)
            y[i] = 3.0f * x[i] + y[i];
        ASSERT_OK(weft_array_read(ya, 0, N, got));
        assert_true(same_bits(got, y, N * sizeof *y));
    } else {
        assert_non_null(strstr(weft_last_error(), "in place"));
    }
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    free(y);
    free(got);
    return fell;
}

static void test_launch_failure_reruns_on_host(void **state)
{
    (void)state;
    for (int zc = 0; zc <= 1; zc++) {
        captured log = {0};
        weft_ctx *ctx = faulty_ctx("launch", zc, &log);
        size_t devices = selected_opencl(ctx);
        size_t fell = run_and_check(ctx, WEFT_OK);
        assert_int_equal(fell, devices);
        if (devices) assert_true(log.fallbacks >= (int)devices);
        weft_ctx_free(ctx);
    }
}

static void test_transfer_failure_reruns_on_host(void **state)
{
    (void)state;
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("write", 0, &log);
    size_t devices = selected_opencl(ctx);
    assert_int_equal(run_and_check(ctx, WEFT_OK), devices);
    weft_ctx_free(ctx);
}

static void test_late_failure(void **state)
{
    (void)state;
    /* Explicit copies keep the host's pre-operation values: a rerun is right. */
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("finish", 0, &log);
    size_t devices = selected_opencl(ctx);
    assert_int_equal(run_and_check(ctx, WEFT_OK), devices);
    weft_ctx_free(ctx);
    /* Zero-copy: the device may already have updated y in place, so a rerun
     * would apply axpy twice; weft must say so instead of returning junk. */
    ctx = faulty_ctx("finish", 1, &log);
    devices = selected_opencl(ctx);
    run_and_check(ctx, devices && zero_copy(ctx) ? WEFT_ERR_DEVICE : WEFT_OK);
    weft_ctx_free(ctx);
}

/* A blocking call queued behind other work is still a blocking call: its
 * failed device's pieces rerun on the pool (copies keep the host's values). */
static void test_blocking_call_behind_queued_work_reruns(void **state)
{
    (void)state;
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("finish", 0, &log);
    enum { N = 1 << 16 };
    float *ones = malloc(N * sizeof *ones), *got = malloc(N * sizeof *got);
    for (size_t i = 0; i < N; i++)
        ones[i] = 1;
    weft_array *a, *b, *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, ones, &a));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, ones, &b));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, ones, &x));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, ones, &y));
    weft_future *f;
    weft_axpy(ctx, 1.0, a, b, &f); /* unrelated, queued first: the stream is busy */
    ASSERT_OK(weft_axpy(ctx, 1.0, x, y, NULL));
    ASSERT_OK(weft_array_read(y, 0, N, got));
    for (size_t i = 0; i < N; i++)
        if (got[i] != 2) fail_msg("y[%zu] = %g, want 2", i, got[i]);
    weft_future_wait(f);
    weft_future_release(f);
    weft_ctx_finish(ctx);
    weft_array_free(a);
    weft_array_free(b);
    weft_array_free(x);
    weft_array_free(y);
    free(ones);
    free(got);
    weft_ctx_free(ctx);
}

/* A zero-copy device that fails mid-write leaves host memory that no one may
 * read as current: the read says so instead of returning half-written data. */
static void test_zero_copy_failure_is_not_read_back(void **state)
{
    (void)state;
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("finish", 1, &log);
    if (selected_opencl(ctx) == 0 || !zero_copy(ctx)) {
        weft_ctx_free(ctx);
        skip();
    }
    enum { N = 1 << 16 };
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    assert_int_equal(weft_axpy(ctx, 1.0, x, y, NULL), WEFT_ERR_DEVICE);
    float v;
    assert_int_equal(weft_array_read(y, 0, 1, &v), WEFT_ERR_DEVICE);
    ASSERT_OK(weft_array_read(x, 0, 1, &v)); /* only read: still current */
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

static void test_async_failure_reported_by_future(void **state)
{
    (void)state;
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("finish", 1, &log);
    if (selected_opencl(ctx) == 0 || !zero_copy(ctx)) {
        weft_ctx_free(ctx);
        skip();
    }
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10000, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 10000, &y));
    weft_future *f;
    ASSERT_OK(weft_axpy(ctx, 1.0, x, y, &f));
    assert_int_equal(weft_future_wait(f), WEFT_ERR_DEVICE);
    assert_non_null(strstr(weft_last_error(), "device"));
    weft_future_state fs;
    weft_status result;
    ASSERT_OK(weft_future_status(f, &fs, &result));
    assert_int_equal(result, WEFT_ERR_DEVICE);
    weft_future_release(f);
    /* A failure nobody waited for comes out of weft_ctx_finish. */
    ASSERT_OK(weft_axpy(ctx, 1.0, x, y, &f));
    weft_future_release(f);
    assert_int_equal(weft_ctx_finish(ctx), WEFT_ERR_DEVICE);
    ASSERT_OK(weft_ctx_finish(ctx));
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

/* A read waits for the operations on its array submitted before it, in
 * flight too: an asynchronous one whose device failed has lost its results,
 * and the read says so every time. (It read them back while the operation
 * was in flight, and returned them as current about half of the time.) */
static void test_read_after_failed_async_op_fails(void **state)
{
    (void)state;
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("finish", 0, &log); /* the results live on the devices */
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    enum { N = 1 << 16, ROUNDS = 20 };
    float *ones = malloc(N * sizeof *ones), *got = malloc(N * sizeof *got);
    for (size_t i = 0; i < N; i++)
        ones[i] = 1;
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, ones, &x));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, ones, &y));
    int returned = 0;
    for (int r = 0; r < ROUNDS; r++) {
        weft_future *f;
        ASSERT_OK(weft_axpy(ctx, 1.0, x, y, &f));
        returned += weft_array_read(y, 0, N, got) == WEFT_OK;
        assert_int_equal(weft_future_wait(f), WEFT_ERR_DEVICE);
        weft_future_release(f);
        assert_int_equal(weft_array_read(y, 0, N, got), WEFT_ERR_DEVICE);
        ASSERT_OK(weft_array_write(y, 0, N, ones));
    }
    assert_int_equal(returned, 0);
    weft_array_free(x);
    weft_array_free(y);
    free(ones);
    free(got);
    weft_ctx_free(ctx);
}

/* A copy into a device that fails as it runs, not when it is enqueued: the
 * pieces that read it computed from whatever the device held. A blocking call
 * reruns them on the pool; an asynchronous one cannot (its caller moved on),
 * so its future must report the failure instead of completing as if the
 * results were good. */
static void test_failed_copy_under_async_operation_shows(void **state)
{
    (void)state;
    enum { N = 70001 };
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("upload", 0, &log);
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x), *want = malloc(N * sizeof *want),
          *got = malloc(N * sizeof *got);
    fill_f32(x, N, 31);
    for (int i = 0; i < N; i++)
        want[i] = x[i] + 1.0f;
    for (int async = 0; async <= 1; async++) {
        weft_array *xa, *ya;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
        weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
        ASSERT_OK(weft_ctx_stats_reset(ctx));
        weft_future *f = NULL;
        weft_status st = weft_map(ctx, "y = x + 1", b, 2, async ? &f : NULL);
        if (async) {
            ASSERT_OK(st);
            st = weft_future_wait(f);
            weft_future_release(f);
        }
        weft_stats stats;
        ASSERT_OK(weft_ctx_stats(ctx, &stats));
        if (!async) { /* every device piece reran: the result is the pool's */
            ASSERT_OK(st);
            assert_true(stats.pieces_rerun >= selected_opencl(ctx));
            ASSERT_OK(weft_array_read(ya, 0, N, got));
            assert_true(same_bits(got, want, N * sizeof *got));
        } else if (st != WEFT_ERR_DEVICE) {
            fail_msg("an asynchronous map whose copies failed returned %s", weft_status_str(st));
        }
        /* What the failed copies left on the devices is not current there: a
         * sum copies x again (and, its copies failing too, reruns). */
        ASSERT_OK(weft_ctx_stats_reset(ctx));
        double total, want_total = reference_sum(x, 0, N);
        ASSERT_OK(weft_sum(ctx, xa, &total, NULL));
        assert_true(same_bits(&total, &want_total, sizeof total));
        ASSERT_OK(weft_ctx_stats(ctx, &stats));
        if (stats.bytes_to_device <= sizeof(float))
            fail_msg("copies whose wait failed stayed current: %llu bytes copied again",
                     (unsigned long long)stats.bytes_to_device);
        weft_array_free(xa);
        weft_array_free(ya);
    }
    free(x);
    free(want);
    free(got);
    weft_ctx_free(ctx);
}

static void test_build_failure_falls_back(void **state)
{
    (void)state;
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("build", 1, &log);
    size_t n;
    weft_device_count(ctx, &n);
    /* The smoke kernel cannot build either: devices are set aside, host runs. */
    assert_int_equal(selected_opencl(ctx), 0);
    run_and_check(ctx, WEFT_OK);
    weft_ctx_free(ctx);
}

/* WEFT_FAULT=call:k makes the k-th OpenCL call site fail, for every k over a
 * sequence of operations: each either completes right (rerun on the pool) or
 * returns a clear error; nothing comes back silently wrong. */
static void test_every_opencl_call_failing(void **state)
{
    (void)state;
    enum { N = 20011 };
    float x[N], y[N], got[N];
    fill_f32(x, N, 31);
    int reruns = 0, errors = 0;
    long k = 1;
    for (; k < 500; k++) {
        char spec[32];
        snprintf(spec, sizeof spec, "call:%ld", k);
        captured log = {0};
        weft_ctx *ctx = faulty_ctx(spec, 1, &log);
        if (selected_opencl(ctx) == 0) {
            weft_ctx_free(ctx);
            skip();
        }
        weft_array *xa = NULL, *ya = NULL;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
        weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
        weft_status st = weft_map(ctx, "y = 2 * x + 1", b, 2, NULL);
        if (st == WEFT_OK) st = weft_array_read(ya, 0, N, got);
        if (st == WEFT_OK) {
            for (int i = 0; i < N; i++)
                y[i] = 2 * x[i] + 1;
            assert_true(same_bits(got, y, sizeof y));
            weft_scalar s;
            st = weft_reduce_expr(ctx, WEFT_SUM, "x * y", b, 2, &s, NULL);
            if (st == WEFT_OK) {
                float p[N];
                for (int i = 0; i < N; i++)
                    p[i] = x[i] * y[i];
                double want = reference_sum(p, 0, N);
                assert_true(same_bits(&s.value.f64, &want, 8));
                st = weft_scan(ctx, WEFT_MAX, 0, xa, ya, NULL);
            }
            if (st == WEFT_OK) st = weft_array_read(ya, 0, N, got);
            if (st == WEFT_OK) {
                float m = -INFINITY;
                for (int i = 0; i < N; i++) {
                    m = x[i] > m ? x[i] : m;
                    assert_true(got[i] == m);
                }
            }
        }
        if (st != WEFT_OK) {
            if (st != WEFT_ERR_DEVICE && st != WEFT_ERR_OPENCL)
                fail_msg("call %ld: %s", k, weft_last_error());
            errors++;
        }
        reruns += log.fallbacks > 0;
        long fired = weft_testing_fault_calls(ctx);
        weft_array_free(xa);
        weft_array_free(ya);
        weft_ctx_free(ctx);
        if (fired < k) break; /* past the last call site: nothing failed */
    }
    print_message("%ld OpenCL call sites failed one at a time: %d reran on the pool, %d errors\n",
                  k - 1, reruns, errors);
    assert_true(k > 5);
}

/* An asynchronous axpy whose wait fails on one of several zero-copy devices:
 * only that device's piece may have been half written in host memory, so
 * only that piece stops being current; the others' results stay readable. */
static void test_async_failure_keeps_other_devices_results(void **state)
{
    (void)state;
    enum { N = 40000 };
    float x[N], y[N], got[N], want[N];
    fill_f32(x, N, 41);
    fill_f32(y, N, 42);
    for (int i = 0; i < N; i++)
        want[i] = 3.0f * x[i] + y[i];
    int wait_failures = 0;
    for (long k = 1; k < 200; k++) {
        char spec[32];
        snprintf(spec, sizeof spec, "call:%ld", k);
        captured log = {0};
        weft_ctx *ctx = faulty_ctx(spec, 1, &log);
        if (selected_opencl(ctx) < 2 || !zero_copy(ctx)) {
            weft_ctx_free(ctx);
            skip();
        }
        weft_array *xa, *ya;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, y, &ya));
        weft_future *f;
        ASSERT_OK(weft_axpy(ctx, 3.0, xa, ya, &f));
        weft_status st = weft_future_wait(f);
        weft_future_release(f);
        weft_piece_report pieces[8];
        size_t count = 0;
        ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 8, &count));
        if (st == WEFT_ERR_DEVICE && strstr(weft_last_error(), "asynchronous")) {
            wait_failures++;
            size_t unreadable = 0;
            for (size_t p = 0; p < count; p++) {
                size_t b = pieces[p].begin, n = pieces[p].end - pieces[p].begin;
                if (weft_array_read(ya, b, n, got + b) != WEFT_OK) {
                    unreadable++;
                    continue;
                }
                assert_true(same_bits(got + b, want + b, n * sizeof *got));
            }
            if (unreadable > 1)
                fail_msg("call %ld: %zu of %zu device pieces lost after one device failed", k,
                         unreadable, count);
        }
        long fired = weft_testing_fault_calls(ctx);
        weft_array_free(xa);
        weft_array_free(ya);
        weft_ctx_free(ctx);
        if (fired < k) break; /* past the last call site */
    }
    assert_true(wait_failures > 0);
}

/* Returns once op's device work is in flight (its copies made), or done. */
static void wait_in_flight(weft_ctx *ctx, weft_future *f)
{
    for (;;) {
        int flying = weft_testing_stream_in_flight(ctx);
        weft_future_state state;
        weft_status done;
        ASSERT_OK(weft_future_status(f, &state, &done));
        if (flying || state == WEFT_FUTURE_DONE) return;
        usleep(100);
    }
}

/* A failed copy into a device stays failed when a later copy of the same
 * array into that device succeeds before anyone waited for the first: here an
 * operation that reads the array beside the asynchronous one copies the rest
 * of it into the devices while the first's copies are in flight. The first's
 * future must still report its failed copies. */
static void test_failed_copy_shows_after_a_later_copy(void **state)
{
    (void)state;
    enum { N = 1 << 20, ROUNDS = 4 };
    captured log = {0};
    weft_ctx *ctx = faulty_ctx("upload", 0, &log);
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    weft_program *program;
    ASSERT_OK(weft_program_build(ctx, COPY_KERNEL_SOURCE, NULL, &program));
    float *x = malloc(N * sizeof *x), *got = malloc(N * sizeof *got);
    fill_f32(x, N, 51);
    int missed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        weft_testing_set_faults(ctx, WEFT_FAULT_UPLOAD);
        weft_array *xa, *ya, *za;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &za));
        weft_bind b[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
        weft_future *f;
        ASSERT_OK(weft_map(ctx, "y = sin(x) * cos(x) + sqrt(fabs(x)) * exp(-x * x)", b, 2, &f));
        wait_in_flight(ctx, f);
        weft_testing_set_faults(ctx,
                                0); /* the executor is done with the map: the next copies arrive */
        weft_range range = {1, {N, 1, 1}, {0, 0, 0}};
        weft_arg args[] = {weft_arg_slice(za), weft_arg_whole(xa)};
        ASSERT_OK(weft_launch(program, "copy", &range, args, 2, copy_on_host, NULL, NULL));
        ASSERT_OK(weft_array_read(za, 0, N, got));
        assert_true(same_bits(got, x, N * sizeof *got));
        weft_status st = weft_future_wait(f);
        weft_future_release(f);
        missed += st != WEFT_ERR_DEVICE;
        weft_array_free(xa);
        weft_array_free(ya);
        weft_array_free(za);
    }
    if (missed)
        fail_msg("%d of %d asynchronous maps whose copies failed completed as if they arrived",
                 missed, ROUNDS);
    weft_program_free(program);
    free(x);
    free(got);
    weft_ctx_free(ctx);
}

/* A failed copy settled after later work wrote the same elements on the
 * device keeps what that work wrote: the first map's copy of x into device
 * 1 fails while it runs; the second map writes all of x there before the
 * first completes. The second map succeeds, so x must read back as it
 * wrote it (not "current nowhere"), whatever the first reports. */
static void test_failed_copy_keeps_later_writes(void **state)
{
    (void)state;
    enum { N = 1 << 20, ROUNDS = 3 };
    setenv("WEFT_FAULT", "upload", 1);
    weft_options o = test_options();
    o.zero_copy = 0;
    o.log_level = WEFT_LOG_ERROR;
    weft_ctx *ctx = test_ctx_with(&o);
    unsetenv("WEFT_FAULT");
    if (selected_opencl(ctx) == 0) {
        weft_ctx_free(ctx);
        skip();
    }
    ASSERT_OK(weft_ctx_place(ctx, "map", WEFT_PLACE_DEVICE(1)));
    float *x = malloc(N * sizeof *x), *c = malloc(N * sizeof *c), *got = malloc(N * sizeof *got);
    for (size_t i = 0; i < N; i++) {
        x[i] = (float)i * 1e-6f;
        c[i] = (float)(i % 1000);
    }
    for (int round = 0; round < ROUNDS; round++) {
        weft_array *xa, *ya, *ca;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, c, &ca));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
        weft_testing_set_faults(ctx, WEFT_FAULT_UPLOAD);
        weft_bind b1[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
        weft_future *f1, *f2;
        /* long enough that the second map is enqueued while it runs */
        ASSERT_OK(weft_map(ctx,
                           "y = pow(sin(x) * cos(x) + sqrt(fabs(x)) * exp(-x * x), 1.7f) + "
                           "erfc(x) * log(x + 1) + tanh(x) * atan(x) + cbrt(x + 2)",
                           b1, 2, &f1));
        wait_in_flight(ctx, f1);
        weft_testing_set_faults(ctx, 0);
        weft_bind b2[] = {weft_bind_array("x", xa), weft_bind_array("c", ca)};
        ASSERT_OK(weft_map(ctx, "x = c + 1", b2, 2, &f2));
        weft_future_wait(f1);
        weft_status s2 = weft_future_wait(f2);
        weft_future_release(f1);
        weft_future_release(f2);
        if (s2 == WEFT_OK) {
            if (weft_array_read(xa, 0, N, got) != WEFT_OK)
                fail_msg("round %d: the second map succeeded but x is lost: %s", round,
                         weft_last_error());
            for (size_t i = 0; i < N; i++)
                if (got[i] != c[i] + 1)
                    fail_msg("round %d: x[%zu] = %g, want %g", round, i, (double)got[i],
                             (double)(c[i] + 1));
        }
        weft_array_free(xa);
        weft_array_free(ya);
        weft_array_free(ca);
    }
    free(x);
    free(c);
    free(got);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launch_failure_reruns_on_host),
        cmocka_unit_test(test_transfer_failure_reruns_on_host),
        cmocka_unit_test(test_late_failure),
        cmocka_unit_test(test_async_failure_reported_by_future),
        cmocka_unit_test(test_read_after_failed_async_op_fails),
        cmocka_unit_test(test_blocking_call_behind_queued_work_reruns),
        cmocka_unit_test(test_zero_copy_failure_is_not_read_back),
        cmocka_unit_test(test_build_failure_falls_back),
        cmocka_unit_test(test_every_opencl_call_failing),
        cmocka_unit_test(test_async_failure_keeps_other_devices_results),
        cmocka_unit_test(test_failed_copy_under_async_operation_shows),
        cmocka_unit_test(test_failed_copy_shows_after_a_later_copy),
        cmocka_unit_test(test_failed_copy_keeps_later_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
