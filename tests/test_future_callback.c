/* weft_future_on_done: callbacks run once per future, off the completing
 * thread and outside weft's locks, in completion order. */
#include "common.h"

#include <pthread.h>

enum { STEPS = 64, N = 20000 };

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    int order[STEPS];
    weft_status status[STEPS];
    pthread_t thread[STEPS];
    weft_ctx *ctx; /* for a callback that runs an operation */
    weft_array *x;
    double sum_seen;
    weft_status sum_status;
} record;

typedef struct {
    record *r;
    int step;
} slot;

static void record_init(record *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
}

static void record_wait(record *r, int calls)
{
    pthread_mutex_lock(&r->lock);
    while (r->calls < calls)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

static void note(void *user, weft_status status)
{
    slot *s = user;
    record *r = s->r;
    pthread_mutex_lock(&r->lock);
    r->order[r->calls] = s->step;
    r->status[s->step] = status;
    r->thread[s->step] = pthread_self();
    r->calls++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void test_each_callback_runs_once_in_completion_order(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &y));
    record r;
    record_init(&r);
    slot slots[STEPS];
    weft_future *futures[STEPS];
    for (int i = 0; i < STEPS; i++) {
        slots[i] = (slot){&r, i};
        /* Each axpy writes y: they run, and complete, in stream order. */
        ASSERT_OK(weft_axpy(ctx, 1.0, x, y, &futures[i]));
        ASSERT_OK(weft_future_on_done(futures[i], note, &slots[i]));
        if (i % 2) weft_future_release(futures[i]); /* still called back */
    }
    record_wait(&r, STEPS);
    for (int i = 0; i < STEPS; i++) {
        assert_int_equal(r.order[i], i);
        assert_int_equal(r.status[i], WEFT_OK);
        assert_false(pthread_equal(r.thread[i], pthread_self()));
        if (i % 2 == 0) weft_future_release(futures[i]);
    }
    ASSERT_OK(weft_ctx_finish(ctx));
    assert_int_equal(r.calls, STEPS); /* never twice */
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

static weft_status failing_task(void *user)
{
    (void)user;
    return WEFT_ERR_DATA;
}

static void test_a_failure_reaches_the_callback(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    record r;
    record_init(&r);
    slot s = {&r, 0};
    weft_future *f;
    ASSERT_OK(weft_submit(ctx, failing_task, NULL, NULL, 0, &f));
    ASSERT_OK(weft_future_on_done(f, note, &s));
    record_wait(&r, 1);
    assert_int_equal(r.status[0], WEFT_ERR_DATA);
    assert_int_equal(weft_future_wait(f), WEFT_ERR_DATA);
    weft_future_release(f);
    weft_ctx_free(ctx);
}

static void test_a_done_future_calls_back_on_the_callback_thread(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *x;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    double sum = 0;
    weft_future *f;
    ASSERT_OK(weft_sum(ctx, x, &sum, &f));
    ASSERT_OK(weft_future_wait(f));
    record r;
    record_init(&r);
    slot s = {&r, 0};
    ASSERT_OK(weft_future_on_done(f, note, &s));
    record_wait(&r, 1);
    assert_int_equal(r.status[0], WEFT_OK);
    assert_false(pthread_equal(r.thread[0], pthread_self()));
    weft_future_release(f);
    weft_array_free(x);
    weft_ctx_free(ctx);
}

/* Under the stream's lock this would deadlock: the callback runs a blocking
 * operation on the context whose operation just completed. */
static void sum_inside(void *user, weft_status status)
{
    record *r = user;
    double sum = -1;
    weft_status st = status == WEFT_OK ? weft_sum(r->ctx, r->x, &sum, NULL) : status;
    pthread_mutex_lock(&r->lock);
    r->sum_seen = sum;
    r->sum_status = st;
    r->calls++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void test_a_callback_may_call_weft_on_the_same_context(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &y));
    double *ones = malloc(N * sizeof *ones);
    for (int i = 0; i < N; i++)
        ones[i] = 1.0;
    ASSERT_OK(weft_array_write(x, 0, N, ones));
    record r;
    record_init(&r);
    r.ctx = ctx;
    r.x = y;
    weft_future *f;
    ASSERT_OK(weft_axpy(ctx, 2.0, x, y, &f)); /* y = 2 */
    ASSERT_OK(weft_future_on_done(f, sum_inside, &r));
    record_wait(&r, 1);
    ASSERT_OK(r.sum_status);
    assert_true(r.sum_seen == 2.0 * N);
    weft_future_release(f);
    weft_array_free(x);
    weft_array_free(y);
    free(ones);
    weft_ctx_free(ctx);
}

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int open;
} gate;

static weft_status gated_task(void *user)
{
    gate *g = user;
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    return WEFT_OK;
}

/* Two callbacks on one future, the first taken back before the future is
 * done: only the second runs. They would run in registration order, so once
 * the second ran the first never will. */
static void test_a_callback_taken_back_never_runs(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    weft_future *f;
    ASSERT_OK(weft_submit(ctx, gated_task, &g, NULL, 0, &f));
    record r;
    record_init(&r);
    slot first = {&r, 0}, second = {&r, 1};
    ASSERT_OK(weft_future_on_done(f, note, &first));
    ASSERT_OK(weft_future_on_done(f, note, &second));
    int cancelled = -1;
    ASSERT_OK(weft_future_on_done_cancel(f, note, &first, &cancelled));
    assert_int_equal(cancelled, 1);
    ASSERT_OK(weft_future_on_done_cancel(f, note, &first, &cancelled));
    assert_int_equal(cancelled, 0); /* gone already */
    pthread_mutex_lock(&g.lock);
    g.open = 1;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    ASSERT_OK(weft_future_wait(f));
    record_wait(&r, 1);
    ASSERT_OK(weft_future_release(f));
    weft_ctx_free(ctx);
    pthread_mutex_lock(&r.lock);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.order[0], 1);
    pthread_mutex_unlock(&r.lock);
}

/* Once the future is done the callback is the callback thread's: it runs. */
static void test_a_callback_of_a_done_future_cannot_be_taken_back(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    weft_future *f;
    ASSERT_OK(weft_submit(ctx, failing_task, NULL, NULL, 0, &f));
    record r;
    record_init(&r);
    slot s = {&r, 0};
    ASSERT_OK(weft_future_on_done(f, note, &s));
    assert_int_equal(weft_future_wait(f), WEFT_ERR_DATA);
    int cancelled = -1;
    ASSERT_OK(weft_future_on_done_cancel(f, note, &s, &cancelled));
    assert_int_equal(cancelled, 0);
    record_wait(&r, 1);
    assert_int_equal(r.status[0], WEFT_ERR_DATA);
    int other = 0;
    ASSERT_OK(weft_future_on_done_cancel(f, note, &other, &cancelled)); /* never registered */
    assert_int_equal(cancelled, 0);
    assert_int_equal(weft_future_on_done_cancel(f, NULL, &s, &cancelled), WEFT_ERR_NULL);
    assert_int_equal(weft_future_on_done_cancel(f, note, &s, NULL), WEFT_ERR_NULL);
    assert_int_equal(weft_future_on_done_cancel(NULL, note, &s, &cancelled), WEFT_ERR_NULL);
    ASSERT_OK(weft_future_release(f));
    weft_ctx_free(ctx);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    int user = 0;
    assert_int_equal(weft_future_on_done(NULL, NULL, &user), WEFT_ERR_NULL);
    weft_ctx *ctx = test_ctx();
    weft_array *x;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 16, &x));
    double sum;
    weft_future *f;
    ASSERT_OK(weft_sum(ctx, x, &sum, &f));
    assert_int_equal(weft_future_on_done(f, NULL, &user), WEFT_ERR_NULL);
    assert_int_equal(weft_future_on_done(NULL, note, &user), WEFT_ERR_NULL);
    weft_future_release(f);
    weft_array_free(x);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_callback_runs_once_in_completion_order),
        cmocka_unit_test(test_a_failure_reaches_the_callback),
        cmocka_unit_test(test_a_done_future_calls_back_on_the_callback_thread),
        cmocka_unit_test(test_a_callback_may_call_weft_on_the_same_context),
        cmocka_unit_test(test_a_callback_taken_back_never_runs),
        cmocka_unit_test(test_a_callback_of_a_done_future_cannot_be_taken_back),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
