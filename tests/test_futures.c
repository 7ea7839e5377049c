/* Futures and stream order: async operations run in submission order, reads
 * wait for writers, failures surface through the future. */
#include "common.h"

#include <stdint.h>

#include <pthread.h>

static void test_async_chain_matches_serial(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    enum { N = 50000, STEPS = 40 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *got = malloc(N * sizeof *got);
    fill_f32(x, N, 5);
    fill_f32(y, N, 6);
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, x, &xa));
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, y, &ya));
    weft_future *futures[STEPS];
    double sums[STEPS];
    for (int s = 0; s < STEPS; s++) {
        /* Alternate writers and readers: each sum must see exactly s+1 axpys. */
        if (s % 2 == 0)
            ASSERT_OK(weft_axpy(ctx, 0.25 * (s + 1), xa, ya, &futures[s]));
        else
            ASSERT_OK(weft_sum(ctx, ya, &sums[s], &futures[s]));
    }
    for (int s = STEPS - 1; s >= 0; s--) { /* wait out of order */
        ASSERT_OK(weft_future_wait(futures[s]));
        weft_future_state fs;
        weft_status result;
        ASSERT_OK(weft_future_status(futures[s], &fs, &result));
        assert_int_equal(fs, WEFT_FUTURE_DONE);
        assert_int_equal(result, WEFT_OK);
        weft_future_release(futures[s]);
    }
    for (int s = 0; s < STEPS; s++) {
        if (s % 2 == 0) {
            float a = (float)(0.25 * (s + 1));
            for (int i = 0; i < N; i++)
                y[i] = a * x[i] + y[i];
        } else {
            double want = reference_sum(y, 0, N);
            if (!same_bits(&want, &sums[s], sizeof want))
                fail_msg("step %d: sum %.17g, want %.17g", s, sums[s], want);
        }
    }
    ASSERT_OK(weft_array_read(ya, 0, N, got)); /* waits for nothing: all done */
    assert_true(same_bits(got, y, N * sizeof *y));
    weft_array_free(xa);
    weft_array_free(ya);
    free(x);
    free(y);
    free(got);
    weft_ctx_free(ctx);
}

static void test_read_waits_for_writer(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    enum { N = 1 << 20 };
    float *one = malloc(N * sizeof *one);
    for (int i = 0; i < N; i++)
        one[i] = 1.0f;
    weft_array *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, one, &xa));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &ya));
    for (int r = 0; r < 10; r++) {
        weft_future *f;
        ASSERT_OK(weft_axpy(ctx, 1.0, xa, ya, &f));
        weft_future_release(f); /* not waited: the read below must wait */
    }
    float got[3];
    ASSERT_OK(weft_array_read(ya, N - 3, 3, got));
    for (int i = 0; i < 3; i++)
        assert_true(got[i] == 10.0f);
    ASSERT_OK(weft_ctx_finish(ctx));
    weft_array_free(xa);
    weft_array_free(ya);
    free(one);
    weft_ctx_free(ctx);
}

typedef struct shared {
    weft_ctx *ctx;
    weft_array *x;
    int failures;
} shared;

static void *submit_many(void *arg)
{
    shared *s = arg;
    for (int r = 0; r < 50; r++) {
        double total;
        weft_future *f;
        if (weft_sum(s->ctx, s->x, &total, &f) != WEFT_OK || weft_future_wait(f) != WEFT_OK ||
            total != 4096.0 * 3)
            __atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
        weft_future_release(f);
        if (weft_sum(s->ctx, s->x, &total, NULL) != WEFT_OK || total != 4096.0 * 3)
            __atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_threads_share_a_context(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    float *ones = malloc(4096 * 3 * sizeof *ones);
    for (int i = 0; i < 4096 * 3; i++)
        ones[i] = 1.0f;
    shared s = {ctx, NULL, 0};
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, 4096 * 3, ones, &s.x));
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, submit_many, &s);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(s.failures, 0);
    weft_array_free(s.x);
    free(ones);
    weft_ctx_free(ctx);
}

static void test_free_waits_for_queued_work(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 300000, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, 300000, &y));
    for (int i = 0; i < 5; i++) {
        weft_future *f;
        ASSERT_OK(weft_axpy(ctx, 1.0, x, y, &f));
        weft_future_release(f);
    }
    weft_array_free(x); /* waits for the queued axpys that use it */
    weft_array_free(y);
    weft_ctx_free(ctx);
}

/* A future outlives its context: weft_ctx_free waited for its operation, so
 * waits return the final status, and releasing it is the caller's to do in
 * either order (the ordinary cleanup frees the context first). */
static void test_future_outlives_its_context(void **state)
{
    (void)state;
    enum { N = 200000 };
    weft_ctx *ctx = test_ctx();
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    int64_t big[2] = {INT64_MAX, 1};
    ASSERT_OK(weft_array_from(ctx, WEFT_I64, 2, big, &y));
    weft_bind b[] = {weft_bind_array("x", x)};
    weft_future *ok[3], *failed[2];
    for (int i = 0; i < 3; i++)
        ASSERT_OK(weft_map(ctx, "x = sqrt(i)", b, 1, &ok[i]));
    weft_scalar sums[2];
    for (int i = 0; i < 2; i++)
        ASSERT_OK(weft_reduce(ctx, WEFT_SUM, y, &sums[i], &failed[i]));
    weft_array_free(x);
    weft_array_free(y);
    ASSERT_OK(weft_ctx_free(ctx));
    ASSERT_OK(weft_future_wait(ok[0]));
    ASSERT_OK(weft_future_wait_all(&ok[1], 1));
    size_t index;
    ASSERT_OK(weft_future_wait_any(&ok[2], 1, &index));
    assert_int_equal(index, 0);
    assert_int_not_equal(weft_future_wait(failed[0]), WEFT_OK);
    assert_non_null(strstr(weft_last_error(), "overflow"));
    for (int i = 0; i < 3; i++)
        ASSERT_OK(weft_future_release(ok[i]));
    ASSERT_OK(weft_future_release(failed[0]));
    ASSERT_OK(weft_future_release(failed[1])); /* failed, never observed */
}

/* A failed operation hands back no future (a stale one collected in a
 * list was waited for), and the future calls refuse live handles of other
 * kinds (a wait on an array read its memory as a future's: a crash or a
 * hang). */
static void test_failed_calls_and_other_handles(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *x;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 100, &x));
    weft_bind b[] = {weft_bind_array("x", x)};
    weft_future *f = (weft_future *)(uintptr_t)0x1234;
    assert_int_equal(weft_map(ctx, "x = ", b, 1, &f), WEFT_ERR_EXPR);
    assert_null(f);
    f = (weft_future *)(uintptr_t)0x1234;
    assert_int_equal(weft_sum(ctx, NULL, NULL, &f), WEFT_ERR_NULL);
    assert_null(f);
    weft_future *not_futures[] = {(weft_future *)x, (weft_future *)ctx};
    for (int k = 0; k < 2; k++) {
        size_t index;
        assert_int_equal(weft_future_wait(not_futures[k]), WEFT_ERR_STATE);
        assert_int_equal(weft_future_wait_all(&not_futures[k], 1), WEFT_ERR_STATE);
        assert_int_equal(weft_future_wait_any(&not_futures[k], 1, &index), WEFT_ERR_STATE);
        assert_int_equal(weft_future_release(not_futures[k]), WEFT_ERR_STATE);
    }
    /* And the other way round: a future is no array. */
    ASSERT_OK(weft_map(ctx, "x = 1", b, 1, &f));
    assert_int_equal(weft_array_free((weft_array *)f), WEFT_ERR_STATE);
    ASSERT_OK(weft_future_wait(f));
    ASSERT_OK(weft_future_release(f));
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_ctx_free(ctx));
}

typedef struct {
    weft_future *f;
    weft_status status;
} waiter;

static void *wait_then_release(void *arg)
{
    waiter *w = arg;
    w->status = weft_future_wait(w->f);
    weft_future_release(w->f);
    return NULL;
}

/* A wait that ends while another thread frees the context. */
static void test_wait_beside_ctx_free(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        weft_ctx *ctx = test_ctx();
        weft_array *x;
        ASSERT_OK(weft_array_create(ctx, WEFT_F64, 100000, &x));
        weft_bind b[] = {weft_bind_array("x", x)};
        waiter w = {NULL, WEFT_ERR_STATE};
        ASSERT_OK(weft_map(ctx, "x = sqrt(i) + x", b, 1, &w.f));
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, wait_then_release, &w), 0);
        weft_array_free(x);
        ASSERT_OK(weft_ctx_free(ctx));
        pthread_join(t, NULL);
        assert_int_equal(w.status, WEFT_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_async_chain_matches_serial),
        cmocka_unit_test(test_read_waits_for_writer),
        cmocka_unit_test(test_threads_share_a_context),
        cmocka_unit_test(test_free_waits_for_queued_work),
        cmocka_unit_test(test_future_outlives_its_context),
        cmocka_unit_test(test_wait_beside_ctx_free),
        cmocka_unit_test(test_failed_calls_and_other_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
