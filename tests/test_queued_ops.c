/* Built-in operations that cannot run at once: a synchronous call with an
 * operation running ahead of it, and calls with futures whose caller has
 * returned. Their op is built on the caller's stack and copied to the heap in
 * these cases; the copy must not depend on the caller's frame. */
#include "common.h"
#include "copy_kernel.h"
#include "spin_kernel.h"

#include "../src/api/testing.h"

#include <pthread.h>
#include <unistd.h>
#include <stdatomic.h>

static const char hold_source[] =
    "__kernel void hold(__global float *y, __global const float *x) { }\n";
/* No device can build it, so its launches run on the host alone: the gate
 * below holds the stream while devices stay free for other operations. */
static const char hold_host_source[] =
    "__kernel void hold(__global float *y, __global const float *x) { not C; }\n";

/* A launch that runs until the test opens the gate: everything submitted
 * meanwhile queues behind it. */
typedef struct gate {
    atomic_int started, open;
} gate;

static void gated_host_fn(const weft_host_call *call)
{
    gate *g = call->user;
    atomic_store(&g->started, 1);
    while (!atomic_load(&g->open))
        usleep(100); /* not a bare spin: valgrind runs one thread at a time */
}

typedef struct fixture {
    weft_ctx *ctx;
    weft_program *program;
    weft_array *x, *y, *z, *w, *unit;
    size_t n;
    float *xh, *yh, *zh;
} fixture;

/* Integer values: every result below is exact, so it is compared bit for bit.
 * small: arrays under this many elements stay on the host (0: none do). */
static void fixture_make_on(fixture *f, size_t n, const char *devices, int64_t small)
{
    weft_options o = test_options();
    o.devices = devices;
    o.small_elements = small;
    f->ctx = test_ctx_with(&o);
    f->n = n;
    f->xh = malloc(n * sizeof *f->xh);
    f->yh = malloc(n * sizeof *f->yh);
    f->zh = malloc(n * sizeof *f->zh);
    assert_non_null(f->xh);
    assert_non_null(f->yh);
    assert_non_null(f->zh);
    for (size_t i = 0; i < n; i++) {
        f->xh[i] = (float)(i % 7);
        f->yh[i] = (float)(i % 3);
        f->zh[i] = (float)(i % 5);
    }
    ASSERT_OK(weft_array_from(f->ctx, WEFT_F32, n, f->xh, &f->x));
    ASSERT_OK(weft_array_from(f->ctx, WEFT_F32, n, f->yh, &f->y));
    ASSERT_OK(weft_array_from(f->ctx, WEFT_F32, n, f->zh, &f->z));
    ASSERT_OK(weft_array_create(f->ctx, WEFT_F32, n, &f->w));
    ASSERT_OK(weft_array_create(f->ctx, WEFT_F32, 1, &f->unit));
    if (strcmp(devices, "host") == 0) {
        ASSERT_OK(weft_program_build(f->ctx, hold_source, NULL, &f->program));
    } else {
        weft_status st = weft_program_build(f->ctx, hold_host_source, NULL, &f->program);
        assert_int_equal(st, selected_opencl(f->ctx) > 0 ? WEFT_ERR_BUILD : WEFT_OK);
    }
}

static void fixture_make(fixture *f, size_t n)
{
    /* The gate's host_fn runs: no device takes the launch. */
    fixture_make_on(f, n, "host", 0);
}

static void fixture_free(fixture *f)
{
    weft_program_free(f->program);
    weft_array_free(f->x);
    weft_array_free(f->y);
    weft_array_free(f->z);
    weft_array_free(f->w);
    weft_array_free(f->unit);
    ASSERT_OK(weft_ctx_free(f->ctx));
    free(f->xh);
    free(f->yh);
    free(f->zh);
}

/* Returns once the gated launch runs: the stream is busy until the gate opens.
 * held: an array the launch writes (writes 1: every operation on it queues
 * behind the launch) or only reads (writes 0: operations that only read it
 * need not wait); unit, read, lets operations on the others go too. */
static weft_future *hold_stream_on(fixture *f, gate *g, weft_array *held_array, int writes)
{
    size_t n = 1;
    if (writes) weft_array_size(held_array, &n);
    weft_range range = {1, {n, 1, 1}, {0, 0, 0}};
    weft_arg read_args[] = {weft_arg_slice(f->unit), weft_arg_whole(held_array)};
    weft_arg write_args[] = {weft_arg_slice(held_array), weft_arg_whole(f->unit)};
    weft_future *held = NULL;
    ASSERT_OK(weft_launch(f->program, "hold", &range, writes ? write_args : read_args, 2,
                          gated_host_fn, g, &held));
    while (!atomic_load(&g->started))
        usleep(100);
    return held;
}

/* Every operation below reads x: they all queue behind this one, which
 * writes it. */
static weft_future *hold_stream(fixture *f, gate *g)
{
    return hold_stream_on(f, g, f->x, 1);
}

enum { OP_SUM, OP_REDUCE, OP_MAP, OP_AXPY, OP_SCAN, OPS };

typedef struct results {
    double sum;
    weft_scalar scaled; /* sum of 3 * x */
} results;

/* Operation k on the fixture, with a future or (future NULL) synchronously.
 * Scalars are bound by value in this frame, which is gone when a future's
 * operation runs. */
__attribute__((noinline)) static weft_status run_op(fixture *f, int k, results *r,
                                                    weft_future **future)
{
    weft_bind scaled[] = {weft_bind_array("x", f->x), weft_bind_f32("a", 3.0f)};
    weft_bind map[] = {weft_bind_array("x", f->x), weft_bind_array("y", f->y),
                       weft_bind_f32("a", 2.0f)};
    switch (k) {
    case OP_SUM:
        return weft_sum(f->ctx, f->x, &r->sum, future);
    case OP_REDUCE:
        return weft_reduce_expr(f->ctx, WEFT_SUM, "x * a", scaled, 2, &r->scaled, future);
    case OP_MAP:
        return weft_map(f->ctx, "y = a * x + y", map, 3, future);
    case OP_AXPY:
        return weft_axpy(f->ctx, 0.5, f->x, f->z, future);
    default:
        return weft_scan(f->ctx, WEFT_SUM, 0, f->x, f->w, future);
    }
}

/* Overwrites the stack below the caller, where returned calls had their frames. */
__attribute__((noinline)) static void clobber_stack(void)
{
    volatile unsigned char junk[64 * 1024];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xA5;
}

static void check_result(const fixture *f, int k, const results *r)
{
    size_t n = f->n;
    float *got = malloc(n * sizeof *got);
    assert_non_null(got);
    double total = 0, running = 0;
    for (size_t i = 0; i < n; i++)
        total += f->xh[i];
    switch (k) {
    case OP_SUM:
        assert_true(r->sum == reference_sum(f->xh, 0, n));
        break;
    case OP_REDUCE:
        assert_int_equal(r->scaled.dtype, WEFT_F64);
        assert_true(r->scaled.value.f64 == 3.0 * total);
        break;
    case OP_MAP:
        ASSERT_OK(weft_array_read(f->y, 0, n, got));
        for (size_t i = 0; i < n; i++)
            assert_true(got[i] == 2.0f * f->xh[i] + f->yh[i]);
        break;
    case OP_AXPY:
        ASSERT_OK(weft_array_read(f->z, 0, n, got));
        for (size_t i = 0; i < n; i++)
            assert_true(got[i] == 0.5f * f->xh[i] + f->zh[i]);
        break;
    default:
        ASSERT_OK(weft_array_read(f->w, 0, n, got));
        for (size_t i = 0; i < n; i++) {
            running += f->xh[i];
            assert_true(got[i] == (float)running);
        }
        break;
    }
    free(got);
}

/* One block (partials kept in the op) and several (allocated). */
static const size_t sizes[] = {1000, 5 * WEFT_SUM_BLOCK + 3};

static void test_futures_outlive_the_callers_frame(void **state)
{
    (void)state;
    fail_after(60);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        fixture f;
        fixture_make(&f, sizes[s]);
        gate g = {0, 0};
        weft_future *held = hold_stream(&f, &g);
        results r;
        memset(&r, 0, sizeof r);
        weft_future *futures[OPS];
        for (int k = 0; k < OPS; k++)
            ASSERT_OK(run_op(&f, k, &r, &futures[k]));
        clobber_stack();
        atomic_store(&g.open, 1);
        ASSERT_OK(weft_future_wait(held));
        ASSERT_OK(weft_future_release(held));
        for (int k = 0; k < OPS; k++) {
            ASSERT_OK(weft_future_wait(futures[k]));
            ASSERT_OK(weft_future_release(futures[k]));
            check_result(&f, k, &r);
        }
        fixture_free(&f);
    }
    fail_after(0);
}

typedef struct sync_call {
    fixture *f;
    int op;
    results r;
    weft_status status;
    atomic_int done;
} sync_call;

static void *sync_thread(void *arg)
{
    sync_call *c = arg;
    c->status = run_op(c->f, c->op, &c->r, NULL);
    atomic_store(&c->done, 1);
    return NULL;
}

/* White-box: the stream has an operation queued (the helper thread's). */
static int stream_has_queued(weft_ctx *ctx)
{
    return weft_testing_stream_queued(ctx);
}

/* Operation k, called synchronously on another thread while the gated launch
 * holds `held` (written or only read), queues behind it. */
static void check_call_queues(fixture *f, int k, weft_array *held_array, int writes)
{
    gate g = {0, 0};
    weft_future *held = hold_stream_on(f, &g, held_array, writes);
    sync_call c = {.f = f, .op = k, .status = WEFT_ERR_STATE};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, sync_thread, &c), 0);
    int queued = 0;
    while (!queued && !atomic_load(&c.done)) { /* it waits behind the gate */
        queued = stream_has_queued(f->ctx);
        usleep(100);
    }
    atomic_store(&g.open, 1);
    assert_int_equal(pthread_join(thread, NULL), 0);
    ASSERT_OK(c.status);
    assert_true(queued);
    ASSERT_OK(weft_future_wait(held));
    ASSERT_OK(weft_future_release(held));
    check_result(f, k, &c.r);
}

typedef struct ran_on {
    int ran;
    pthread_t thread;
} ran_on;

static void record_thread_host_fn(const weft_host_call *call)
{
    ran_on *r = call->user;
    r->thread = pthread_self();
    r->ran = 1;
}

/* One launch of a single item, with a future waited for at once: 1 when
 * the waiting thread ran it. */
static int launch_and_wait(fixture *f)
{
    weft_range range = {1, {1, 1, 1}, {0, 0, 0}};
    weft_arg args[] = {weft_arg_slice(f->unit), weft_arg_whole(f->x)};
    ran_on ran = {0};
    weft_future *done = NULL;
    ASSERT_OK(weft_launch(f->program, "hold", &range, args, 2, record_thread_host_fn, &ran, &done));
    ASSERT_OK(weft_future_wait(done));
    ASSERT_OK(weft_future_release(done));
    assert_true(ran.ran);
    return pthread_equal(ran.thread, pthread_self());
}

/* A future waited for at once: the waiting thread runs the operation itself,
 * as the executor would have, instead of sleeping through two thread
 * hand-offs. The executor may still be first now and then (it was woken when
 * the operation was queued), so one of many waits must have run it. */
static void test_a_waiter_runs_its_queued_operation(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f, 64);
    int on_waiter = 0;
    for (int i = 0; i < 200 && !on_waiter; i++)
        on_waiter = launch_and_wait(&f);
    assert_true(on_waiter);
    fixture_free(&f);
}

/* The operations a waiter runs leave its thread's error detail alone: a
 * failure met before the wait still reads as it did (the CSV pipeline lost
 * a parse error's line this way). */
static void test_a_waiter_keeps_its_error_detail(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f, 64);
    weft_bind b[] = {weft_bind_array("x", f.x), weft_bind_array("y", f.y)};
    int on_waiter = 0;
    for (int i = 0; i < 200 && !on_waiter; i++) {
        assert_int_equal(weft_map(f.ctx, "y = x +", b, 2, NULL), WEFT_ERR_EXPR);
        char before[512];
        snprintf(before, sizeof before, "%s", weft_last_error());
        assert_true(before[0] != 0);
        on_waiter = launch_and_wait(&f);
        assert_string_equal(weft_last_error(), before);
    }
    assert_true(on_waiter);
    fixture_free(&f);
}

/* A host_fn that waits for an operation queued behind its own launch: that
 * operation cannot start while the launch runs; an error, not a hang. */
typedef struct later_wait {
    _Atomic(weft_future *) later;
    weft_status status;
    int how; /* 0 weft_future_wait, 1 _wait_all, 2 _wait_any */
} later_wait;

static void wait_for_later_host_fn(const weft_host_call *call)
{
    later_wait *w = call->user;
    if (call->begin != 0) return;
    weft_future *f;
    while (!(f = atomic_load(&w->later)))
        usleep(100);
    size_t index;
    w->status = w->how == 0   ? weft_future_wait(f)
                : w->how == 1 ? weft_future_wait_all(&f, 1)
                              : weft_future_wait_any(&f, 1, &index);
}

/* Launches fn over range, then a map reading `in` into `out`, queued behind
 * the launch (it reads what the launch uses); fn finds that map's future in
 * *later. Both complete: the waits fn tries are refused, not hung. */
static void launch_then_later(fixture *f, const weft_range *range, const weft_arg *args,
                              weft_host_fn fn, void *user, _Atomic(weft_future *) *later,
                              weft_array *in, weft_array *out)
{
    weft_future *first, *second;
    alarm(30); /* it hung before */
    ASSERT_OK(weft_launch(f->program, "hold", range, args, 2, fn, user, &first));
    weft_bind b[] = {weft_bind_array("x", in), weft_bind_array("y", out)};
    ASSERT_OK(weft_map(f->ctx, "y = x + 1", b, 2, &second));
    atomic_store(later, second);
    ASSERT_OK(weft_future_wait(first));
    ASSERT_OK(weft_future_wait(second));
    alarm(0);
    ASSERT_OK(weft_future_release(first));
    ASSERT_OK(weft_future_release(second));
}

static void test_host_fn_waiting_for_a_later_operation_fails(void **state)
{
    (void)state;
    for (int how = 0; how < 3; how++) { /* wait, wait_all and wait_any hung alike */
        fixture f;
        fixture_make(&f, 64);
        later_wait w = {.status = WEFT_OK, .how = how};
        weft_range range = {1, {1, 1, 1}, {0, 0, 0}};
        weft_arg args[] = {weft_arg_slice(f.unit), weft_arg_whole(f.x)};
        launch_then_later(&f, &range, args, wait_for_later_host_fn, &w, &w.later, f.x, f.y);
        assert_int_equal(w.status, WEFT_ERR_STATE);
        fixture_free(&f);
    }
}

/* The same wait from every chunk of a launch split over the pool: chunks on
 * the pool's workers run inside the launch as much as its own thread's. */
typedef struct later_wait_all {
    _Atomic(weft_future *) later;
    atomic_int chunks, refused;
    _Atomic(pthread_t) first_thread;
    atomic_int threads_apart; /* chunks run by another thread than the first's */
} later_wait_all;

static void every_chunk_waits_for_later(const weft_host_call *call)
{
    later_wait_all *w = call->user;
    weft_future *f;
    while (!(f = atomic_load(&w->later)))
        usleep(100);
    pthread_t none = 0, me = pthread_self();
    if (!atomic_compare_exchange_strong(&w->first_thread, &none, me) && !pthread_equal(none, me))
        atomic_fetch_add(&w->threads_apart, 1);
    usleep(1000); /* chunks worth the pool's workers */
    atomic_fetch_add(&w->chunks, 1);
    if (weft_future_wait(f) == WEFT_ERR_STATE) atomic_fetch_add(&w->refused, 1);
}

static void test_host_fn_chunks_waiting_for_a_later_operation_fail(void **state)
{
    (void)state;
    enum { N = 1 << 16 };
    fixture f;
    fixture_make(&f, N);
    later_wait_all w = {0};
    weft_range range = {1, {N, 1, 1}, {0, 0, 0}};
    weft_arg args[] = {weft_arg_slice(f.y), weft_arg_whole(f.x)};
    launch_then_later(&f, &range, args, every_chunk_waits_for_later, &w, &w.later, f.y, f.z);
    assert_true(atomic_load(&w.threads_apart) > 0); /* else the case is not tried */
    assert_int_equal(atomic_load(&w.refused), atomic_load(&w.chunks));
    fixture_free(&f);
}

static void test_synchronous_call_behind_a_running_op(void **state)
{
    (void)state;
    fail_after(60);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        fixture f;
        fixture_make(&f, sizes[s]);
        for (int k = 0; k < OPS; k++)
            check_call_queues(&f, k, f.x, 1);
        fixture_free(&f);
    }
    fail_after(0);
}

/* Writers follow readers: a call that writes an array the running operation
 * only reads queues behind it. */
static void test_writer_waits_for_a_reader(void **state)
{
    (void)state;
    fail_after(60);
    fixture f;
    fixture_make(&f, 1000);
    for (int k = OP_MAP; k < OPS; k++)
        check_call_queues(&f, k, k == OP_MAP ? f.y : k == OP_AXPY ? f.z : f.w, 0);
    fixture_free(&f);
    fail_after(0);
}

/* A synchronous call that shares no array with the operation running ahead
 * of it, or shares only arrays that neither writes (held, which both read),
 * does not wait for it: it runs on its caller at once. */
static void check_calls_run_beside(fixture *f, weft_array *held_array)
{
    for (int k = 0; k < OPS; k++) {
        gate g = {0, 0};
        weft_future *held = hold_stream_on(f, &g, held_array, 0);
        sync_call c = {.f = f, .op = k, .status = WEFT_ERR_STATE};
        pthread_t thread;
        assert_int_equal(pthread_create(&thread, NULL, sync_thread, &c), 0);
        for (int i = 0; i < 100000 && !atomic_load(&c.done); i++)
            usleep(100);
        int beside = atomic_load(&c.done); /* finished with the gate still shut */
        atomic_store(&g.open, 1);
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_true(beside);
        ASSERT_OK(c.status);
        ASSERT_OK(weft_future_wait(held));
        ASSERT_OK(weft_future_release(held));
        check_result(f, k, &c.r);
    }
}

static void test_independent_call_runs_beside_a_running_op(void **state)
{
    (void)state;
    fail_after(60);
    fixture f;
    fixture_make(&f, 1000);
    check_calls_run_beside(&f, f.unit);
    fixture_free(&f);
    fail_after(0);
}

/* Readers of one array run side by side: every call below reads x (and
 * writes another array), as the operation ahead of it does. */
static void test_readers_of_an_array_run_beside_each_other(void **state)
{
    (void)state;
    fail_after(60);
    fixture f;
    fixture_make(&f, 1000);
    check_calls_run_beside(&f, f.x);
    fixture_free(&f);
    fail_after(0);
}

/* The same with the calls on the devices: the gate's launch runs on the host
 * (its program builds on no device), the calls' arrays are split over every
 * device (the gate's one-element array, under `small`, stays on the host). */
static void test_independent_device_call_runs_beside_a_running_op(void **state)
{
    (void)state;
    fail_after(60);
    fixture f;
    fixture_make_on(&f, 5 * WEFT_SUM_BLOCK + 3, "all", 100);
    weft_stats before, after;
    ASSERT_OK(weft_ctx_stats(f.ctx, &before));
    check_calls_run_beside(&f, f.unit);
    ASSERT_OK(weft_ctx_stats(f.ctx, &after));
    if (selected_opencl(f.ctx) > 0) /* the calls ran kernels, beside the gate */
        assert_true(after.kernel_launches >= before.kernel_launches + OPS);
    fixture_free(&f);
    fail_after(0);
}

/* Two threads run the same operations at once on arrays of their own, on
 * every device: the kernels (one per expression and device) and the
 * reductions' scratch are shared, so each call's arguments and partials must
 * stay its own. Scalars differ per thread, so a crossed argument shows. */
static const char scale_source[] =
    "__kernel void scale(__global float *z, __global const float *x, float a) {\n"
    "    size_t i = get_global_id(0);\n"
    "    z[i] += a * x[i];\n"
    "}\n";

static void scale_host(const weft_host_call *call)
{
    float *z = call->args[0];
    const float *x = call->args[1];
    float a = *(const float *)call->args[2];
    for (size_t i = call->begin; i < call->end; i++)
        z[i] += a * x[i];
}

typedef struct worker {
    weft_ctx *ctx;
    weft_program *program; /* scale_source, shared by the workers */
    size_t n;
    float scale;
    int rounds;
    weft_status status;
    int wrong; /* results that differ from the C reference */
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    size_t n = w->n;
    float *xh = malloc(n * sizeof *xh), *got = malloc(n * sizeof *got);
    float *zeros = calloc(n, sizeof *zeros);
    weft_array *x = NULL, *y = NULL, *s = NULL, *z = NULL;
    weft_status st = xh && got && zeros ? WEFT_OK : WEFT_ERR_NOMEM;
    double total = 0;
    for (size_t i = 0; st == WEFT_OK && i < n; i++) {
        xh[i] = (float)(i % 11) * w->scale;
        total += xh[i];
    }
    if (st == WEFT_OK) st = weft_array_from(w->ctx, WEFT_F32, n, xh, &x);
    if (st == WEFT_OK) st = weft_array_create(w->ctx, WEFT_F32, n, &y);
    if (st == WEFT_OK) st = weft_array_create(w->ctx, WEFT_F32, n, &s);
    if (st == WEFT_OK) st = weft_array_from(w->ctx, WEFT_F32, n, zeros, &z);
    weft_range range = {1, {n, 1, 1}, {0, 0, 0}};
    for (int r = 0; st == WEFT_OK && r < w->rounds; r++) {
        weft_bind map[] = {weft_bind_array("x", x), weft_bind_array("y", y),
                           weft_bind_f32("a", w->scale)};
        double sum = 0;
        st = weft_map(w->ctx, "y = a * x", map, 3, NULL);
        if (st == WEFT_OK) st = weft_sum(w->ctx, x, &sum, NULL);
        if (st == WEFT_OK) st = weft_scan(w->ctx, WEFT_SUM, 0, x, s, NULL);
        weft_arg args[] = {weft_arg_slice(z), weft_arg_slice(x), weft_arg_f32(w->scale)};
        for (int l = 0; st == WEFT_OK && l < 8; l++) /* launches meet more often */
            st = weft_launch(w->program, "scale", &range, args, 3, scale_host, NULL, NULL);
        w->wrong += st == WEFT_OK && sum != total;
        if (st == WEFT_OK) st = weft_array_read(y, 0, n, got);
        for (size_t i = 0; st == WEFT_OK && i < n; i++)
            w->wrong += got[i] != w->scale * xh[i];
        if (st == WEFT_OK) st = weft_array_read(z, 0, n, got);
        for (size_t i = 0; st == WEFT_OK && i < n; i++) /* a lost or doubled launch shows */
            w->wrong += got[i] != (float)(8 * (r + 1)) * w->scale * xh[i];
        if (st == WEFT_OK) st = weft_array_read(s, 0, n, got);
        double running = 0;
        for (size_t i = 0; st == WEFT_OK && i < n; i++) {
            running += xh[i];
            w->wrong += got[i] != (float)running;
        }
    }
    w->status = st;
    weft_array_free(x);
    weft_array_free(y);
    weft_array_free(s);
    weft_array_free(z);
    free(zeros);
    free(xh);
    free(got);
    return NULL;
}

static void test_concurrent_calls_keep_their_own_arguments(void **state)
{
    (void)state;
    fail_after(120);
    weft_options o = test_options();
    weft_ctx *ctx = test_ctx_with(&o);
    weft_program *program = NULL;
    ASSERT_OK(weft_program_build(ctx, scale_source, NULL, &program));
    worker w[2] = {{ctx, program, 3 * WEFT_SUM_BLOCK + 5, 1.0f, 40, WEFT_OK, 0},
                   {ctx, program, 3 * WEFT_SUM_BLOCK + 5, 3.0f, 40, WEFT_OK, 0}};
    pthread_t threads[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, worker_main, &w[t]), 0);
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < 2; t++) {
        ASSERT_OK(w[t].status);
        assert_int_equal(w[t].wrong, 0);
    }
    ASSERT_OK(weft_program_free(program));
    ASSERT_OK(weft_ctx_free(ctx));
    fail_after(0);
}

typedef struct window_race {
    weft_ctx *ctx;
    pthread_barrier_t round;
    weft_array *x, *y;
    int rounds;
    weft_status status;
} window_race;

static void *map_each_round(void *arg)
{
    window_race *r = arg;
    for (int k = 0; k < r->rounds; k++) {
        pthread_barrier_wait(&r->round);
        weft_bind b[] = {weft_bind_array("x", r->x), weft_bind_array("y", r->y)};
        weft_status st = weft_map(r->ctx, "y = x + 1", b, 2, NULL);
        if (st != WEFT_OK && r->status == WEFT_OK) r->status = st;
        pthread_barrier_wait(&r->round);
    }
    return NULL;
}

/* Two operations that only read x run side by side on the devices: a map
 * whose pieces view parts of x, and a launch that takes x whole on each
 * device, which makes one buffer of all of it there. Neither may lose the
 * buffer or the copy of x that its kernel reads to the other. */
static void test_readers_keep_their_device_buffers(void **state)
{
    (void)state;
    enum { N = 1 << 14, ROUNDS = 1000 };
    weft_options o = test_options();
    o.zero_copy = 0; /* every device reads its own copies */
    o.weights = WEFT_WEIGHTS_EVEN;
    window_race r = {.ctx = test_ctx_with(&o), .rounds = ROUNDS};
    weft_program *program;
    if (selected_opencl(r.ctx) == 0 ||
        weft_program_build(r.ctx, COPY_KERNEL_SOURCE, NULL, &program) != WEFT_OK) {
        weft_ctx_free(r.ctx);
        skip();
    }
    float *x = malloc(N * sizeof *x), *got = malloc(N * sizeof *got);
    for (size_t i = 0; i < N; i++)
        x[i] = (float)(i % 1000);
    pthread_barrier_init(&r.round, NULL, 2);
    pthread_t mapper;
    assert_int_equal(pthread_create(&mapper, NULL, map_each_round, &r), 0);
    int wrong_map = 0, wrong_launch = 0;
    for (int k = 0; k < ROUNDS; k++) {
        weft_array *z;
        ASSERT_OK(weft_array_from(r.ctx, WEFT_F32, N, x, &r.x)); /* no device holds it */
        ASSERT_OK(weft_array_create(r.ctx, WEFT_F32, N, &r.y));
        ASSERT_OK(weft_array_create(r.ctx, WEFT_F32, N, &z));
        pthread_barrier_wait(&r.round);
        weft_range range = {1, {N, 1, 1}, {0, 0, 0}};
        weft_arg args[] = {weft_arg_slice(z), weft_arg_whole(r.x)};
        ASSERT_OK(weft_launch(program, "copy", &range, args, 2, copy_on_host, NULL, NULL));
        pthread_barrier_wait(&r.round);
        ASSERT_OK(r.status);
        ASSERT_OK(weft_array_read(z, 0, N, got));
        wrong_launch += !same_bits(got, x, N * sizeof *got);
        ASSERT_OK(weft_array_read(r.y, 0, N, got));
        for (size_t i = 0; i < N; i++)
            if (got[i] != x[i] + 1) {
                wrong_map++;
                break;
            }
        weft_array_free(r.x);
        weft_array_free(r.y);
        weft_array_free(z);
    }
    pthread_join(mapper, NULL);
    pthread_barrier_destroy(&r.round);
    if (wrong_map || wrong_launch)
        fail_msg("of %d rounds, %d maps and %d launches read wrong copies", ROUNDS, wrong_map,
                 wrong_launch);
    weft_program_free(program);
    free(x);
    free(got);
    ASSERT_OK(weft_ctx_free(r.ctx));
}

/* With a copy queue (WEFT_COPY_QUEUE=1), a window that grows over older ones
 * gets their contents by a copy on the device's kernel queue, which may wait
 * there behind other work while later copies from the host run on the copy
 * queue. A copy from the host into the grown window must not be overwritten
 * by the older window's stale contents landing after it. Here the older
 * windows hold x as it was before a host write, the kernel queues are busy
 * with a slow launch on another array, and a launch reads x whole. */
static void test_grown_window_keeps_later_uploads(void **state)
{
    (void)state;
    enum { N = 1 << 14, ROUNDS = 4 };
    setenv("WEFT_COPY_QUEUE", "1", 1);
    weft_options o = test_options();
    o.zero_copy = 0; /* every device reads its own copies */
    o.weights = WEFT_WEIGHTS_EVEN;
    weft_ctx *ctx = test_ctx_with(&o);
    unsetenv("WEFT_COPY_QUEUE");
    weft_program *copy, *spin;
    /* Two devices: each holds a window of half of x, which grows. */
    if (copying_opencl(ctx) < 2 ||
        weft_program_build(ctx, COPY_KERNEL_SOURCE, NULL, &copy) != WEFT_OK) {
        weft_ctx_free(ctx);
        skip();
    }
    ASSERT_OK(weft_program_build(ctx, SPIN_KERNEL_SOURCE, NULL, &spin));
    float *old = malloc(N * sizeof *old), *fresh = malloc(N * sizeof *fresh);
    float *got = malloc(N * sizeof *got);
    int wrong = 0;
    for (int k = 0; k < ROUNDS; k++) {
        for (size_t i = 0; i < N; i++) {
            old[i] = (float)(i % 1000);
            fresh[i] = (float)(k * 7 + i % 13) + 2000.0f;
        }
        weft_array *x, *y, *z, *w;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, old, &x));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &z));
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &w));
        weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
        ASSERT_OK(weft_map(ctx, "y = x + 1", b, 2, NULL)); /* a window of x per device */
        ASSERT_OK(weft_array_write(x, 0, N, fresh));       /* their contents are stale */
        weft_range range = {1, {N, 1, 1}, {0, 0, 0}};
        weft_arg spin_args[] = {weft_arg_slice(w), weft_arg_i32(5000)};
        weft_future *busy;
        ASSERT_OK(weft_launch(spin, "spin", &range, spin_args, 2, spin_on_host, NULL, &busy));
        weft_arg copy_args[] = {weft_arg_slice(z), weft_arg_whole(x)};
        ASSERT_OK(weft_launch(copy, "copy", &range, copy_args, 2, copy_on_host, NULL, NULL));
        ASSERT_OK(weft_array_read(z, 0, N, got));
        wrong += !same_bits(got, fresh, N * sizeof *got);
        ASSERT_OK(weft_future_wait(busy));
        ASSERT_OK(weft_future_release(busy));
        weft_array_free(x);
        weft_array_free(y);
        weft_array_free(z);
        weft_array_free(w);
    }
    free(old);
    free(fresh);
    free(got);
    weft_program_free(copy);
    weft_program_free(spin);
    ASSERT_OK(weft_ctx_free(ctx));
    if (wrong) fail_msg("%d of %d launches read a stale copy of x", wrong, ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_futures_outlive_the_callers_frame),
        cmocka_unit_test(test_synchronous_call_behind_a_running_op),
        cmocka_unit_test(test_a_waiter_runs_its_queued_operation),
        cmocka_unit_test(test_a_waiter_keeps_its_error_detail),
        cmocka_unit_test(test_host_fn_waiting_for_a_later_operation_fails),
        cmocka_unit_test(test_host_fn_chunks_waiting_for_a_later_operation_fail),
        cmocka_unit_test(test_independent_call_runs_beside_a_running_op),
        cmocka_unit_test(test_readers_of_an_array_run_beside_each_other),
        cmocka_unit_test(test_writer_waits_for_a_reader),
        cmocka_unit_test(test_independent_device_call_runs_beside_a_running_op),
        cmocka_unit_test(test_concurrent_calls_keep_their_own_arguments),
        cmocka_unit_test(test_readers_keep_their_device_buffers),
        cmocka_unit_test(test_grown_window_keeps_later_uploads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
