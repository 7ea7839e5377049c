/* C tasks (weft_submit): a function that runs on the pool once the futures it
 * depends on are done. Each dependency holds a continuation on its future;
 * the last one to complete posts the task, so no thread blocks on a
 * dependency. Tasks do not go through the stream: independent ones run side
 * by side, as wide as the pool is allowed to be. */
#include "../core/clock.h"
#include "../core/ctx.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "../core/pool.h"
#include "../core/process.h"
#include "stream.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct weft_task weft_task;

/* A task runs once, in the process that submitted it: whoever moves it out
 * of WAITING decides whether it runs (task_run) or fails without running
 * (a fork child's stream, which finds it left by the parent). */
enum { TASK_WAITING, TASK_RUNNING, TASK_DONE, TASK_ABANDONED };

struct weft_task {
    weft_pool_item item;           /* first: the pool hands it back */
    weft_future_producer producer; /* a waiting pool thread may run it (future.h) */
    weft_stream_task link;         /* in its stream's list until it completes */
    atomic_int phase;
    pid_t pid; /* the process that submitted it */
    weft_ctx *ctx;
    weft_task_fn fn;
    void *user;
    weft_future *future;
    weft_after after; /* its dependencies (after[]) */
    weft_after_dep deps[];
};

/* Dependency failures are posted too, not completed here: completing would
 * run the dependents' continuations on this stack, one level per task of a
 * failing chain. */
static void task_run(weft_pool_item *item)
{
    weft_task *t = (weft_task *)item;
    /* A fork child's pool may hand over what the parent queued: the child's
     * stream fails it instead (its memory stays: a parent thread may have
     * held it mid-use). Once failed, its context may be gone already (the
     * child freed it while the item waited in the pool): touch nothing. */
    if (t->pid != weft_process_id()) {
        if (atomic_load(&t->phase) == TASK_ABANDONED) return;
        weft_stream_check_fork(t->ctx->stream);
    }
    weft_stream *stream = t->ctx->stream;
    int waiting = TASK_WAITING;
    if (!atomic_compare_exchange_strong(&t->phase, &waiting, TASK_RUNNING)) return;
    weft_status status = (weft_status)atomic_load(&t->after.failed);
    char *detail = NULL;
    weft_status cause = WEFT_OK;
    if (status != WEFT_OK) {
        cause = t->after.cause;
        status = weft_dependency_error(atomic_load(&t->after.failed_index), cause,
                                       t->after.cause_detail, "the task did not run");
    } else {
        weft_stream *outer = weft_stream_set_current_task(stream);
        weft_future_frame frame;
        weft_future_frame_push(&frame, t->future);
        weft_error_clear();
        status = t->fn(t->user);
        weft_future_frame_pop(&frame);
        weft_stream_set_current_task(outer);
    }
    if (status != WEFT_OK && cause == WEFT_OK) {
        cause = status;
        const char *last = weft_last_error();
        if (!last[0]) weft_error_set(status, "the task returned %s", weft_status_str(status));
    }
    if (status != WEFT_OK) detail = strdup(weft_last_error());
    weft_future *f = t->future;
    int running = TASK_RUNNING;
    if (!atomic_compare_exchange_strong(&t->phase, &running, TASK_DONE)) {
        free(detail); /* a fork child failed it meanwhile (fork() from inside the task) */
        return;
    }
    int outer = weft_pool_finishing(1);
    int orphaned = weft_future_complete_caused(f, status, detail, cause, t->after.cause_detail);
    weft_pool_finishing(outer);
    free(detail);
    free(t->after.cause_detail);
    weft_future_drop(f);
    weft_stream_task_end(stream, &t->link, orphaned ? status : WEFT_OK);
    free(t);
}

/* In a fork child, for a task the parent submitted and did not finish. */
static void task_abandon(weft_stream_task *link)
{
    weft_task *t = (weft_task *)((char *)link - offsetof(weft_task, link));
    int phase = atomic_load(&t->phase);
    while ((phase == TASK_WAITING || phase == TASK_RUNNING) &&
           !atomic_compare_exchange_weak(&t->phase, &phase, TASK_ABANDONED))
        ;
    if (phase != TASK_WAITING && phase != TASK_RUNNING) return; /* done, or failed already */
    weft_error_set(WEFT_ERR_STATE, "the task was submitted in the parent process before fork(): "
                                   "it does not run in the child");
    char *detail = strdup(weft_last_error());
    weft_future_complete(t->future, WEFT_ERR_STATE, detail);
    free(detail);
    weft_future_drop(t->future);
}

static int task_claim(weft_future_producer *producer)
{
    weft_task *t = (weft_task *)((char *)producer - offsetof(weft_task, producer));
    return weft_pool_take(t->ctx->pool, &t->item);
}

static void task_run_taken(weft_future_producer *producer)
{
    weft_task *t = (weft_task *)((char *)producer - offsetof(weft_task, producer));
    weft_pool_run_taken(&t->item);
}

static weft_status check_ctx(weft_ctx *ctx, const char *what)
{
    RETURN_IF(!ctx, WEFT_ERR_NULL, "%s: context is NULL", what);
    RETURN_IF(!weft_handle_live(ctx, WEFT_HANDLE_CONTEXT), WEFT_ERR_STATE, "%s: not a live context",
              what);
    return WEFT_OK;
}

/* Queues fn(user) behind after[]; *future gets the task's future (never NULL
 * on success). */
static weft_status submit(weft_ctx *ctx, weft_task_fn fn, void *user, weft_future *const *after,
                          size_t nafter, weft_future **future)
{
    weft_task *t = calloc(1, sizeof *t + nafter * sizeof t->deps[0]);
    RETURN_IF(!t, WEFT_ERR_NOMEM, "weft_submit: cannot allocate a task");
    weft_future *f = weft_future_create(2, &ctx->stream->owner); /* the task's and the caller's */
    if (!f) {
        free(t);
        return weft_error_set(WEFT_ERR_NOMEM, "weft_submit: cannot allocate a future");
    }
    *t = (weft_task){.item = {.run = task_run},
                     .producer = {task_claim, task_run_taken, NULL},
                     .ctx = ctx,
                     .fn = fn,
                     .user = user,
                     .future = f,
                     .link = {.abandon = task_abandon},
                     .pid = weft_process_id()};
    atomic_init(&t->phase, TASK_WAITING);
    weft_future_set_producer(f, &t->producer);
    weft_stream_task_begin(ctx->stream, &t->link);
    weft_after_watch(&t->after, ctx->pool, &t->item, after, nafter, t->deps);
    *future = f;
    weft_after_release(&t->after); /* after *future: the task may complete and free itself now */
    return WEFT_OK;
}

/* A pool thread that waits runs the task itself if no worker has started it
 * (weft_future_wait). */
static weft_status wait_and_release(weft_future *f)
{
    weft_status status = weft_future_wait(f);
    char *detail = status != WEFT_OK ? strdup(weft_last_error()) : NULL;
    weft_future_release(f);
    if (detail) weft_error_copy(detail);
    free(detail);
    return status;
}

weft_status weft_submit(weft_ctx *ctx, weft_task_fn fn, void *user, weft_future *const *after,
                        size_t nafter, weft_future **future)
{
    if (future) *future = NULL;
    RETURN_ON_ERROR(check_ctx(ctx, "weft_submit"));
    RETURN_IF(!fn, WEFT_ERR_NULL, "weft_submit: fn is NULL");
    RETURN_IF(nafter > 0 && !after, WEFT_ERR_NULL, "weft_submit: after is NULL with nafter = %zu",
              nafter);
    for (size_t i = 0; i < nafter; i++) {
        RETURN_ON_ERROR(weft_future_check(after[i], NULL, "weft_submit (after[])"));
        /* Waited for here, a task after the calling task's own end never
         * starts: the wait could never end. */
        RETURN_IF(!future && weft_future_produced_here(after[i]), WEFT_ERR_STATE,
                  "weft_submit: after[%zu] is the calling task's own future, and the call "
                  "waits: pass a future",
                  i);
    }
    weft_future *f = NULL;
    RETURN_ON_ERROR(submit(ctx, fn, user, after, nafter, &f));
    if (future) {
        *future = f;
        return WEFT_OK;
    }
    return wait_and_release(f);
}

/* ---- parallel_for ---- */

typedef struct range_call {
    weft_range_fn fn;
    void *user;
} range_call;

static void range_chunk(void *arg, size_t begin, size_t end)
{
    const range_call *call = arg;
    call->fn(call->user, begin, end);
}

/* Enough work per chunk that handing it out costs little next to it. */
#define CHUNK_SECONDS 20e-6
/* Timing below this is mostly the clock itself: probe further. */
#define PROBE_SECONDS 1e-6

/* grain 0: runs growing chunks on the calling thread and times them; once
 * the rest would clearly outweigh a fork (measured once per pool), hands the
 * rest to the pool in chunks of about CHUNK_SECONDS. A small n never leaves
 * the calling thread, and costs a few clock reads more than calling fn.
 * A grain given says how the work is cut: its chunks go to the pool at once.
 * Timing the first on its own cost a whole item where items are few and
 * heavy (Pool.map's chunksize=1 over a handful: two items on two threads
 * took two item-times). */
static void parallel_for_now(weft_ctx *ctx, size_t n, size_t grain, weft_range_fn fn, void *user)
{
    if (n == 0) return;
    weft_pool *pool = ctx->pool;
    int width = weft_pool_in_task() ? 1 : weft_pool_user_width(pool);
    if (width < 2 || n <= (grain ? grain : 1)) {
        fn(user, 0, n);
        return;
    }
    range_call call = {fn, user};
    if (grain) {
        weft_pool_parallel_for_user(pool, 0, n, grain, range_chunk, &call);
        return;
    }
    size_t chunk = 1, done = 0;
    double t0 = weft_now(), spent = 0;
    for (;;) {
        size_t end = n - done <= chunk ? n : done + chunk;
        fn(user, done, end);
        done = end;
        if (done == n) return;
        spent = weft_now() - t0;
        double rest = spent / (double)done * (double)(n - done);
        if (rest < PROBE_SECONDS) { /* not worth a measurement, let alone a fork */
            fn(user, done, n);
            return;
        }
        if (spent >= PROBE_SECONDS) break;
        chunk *= 2;
    }
    double per = spent / (double)done, rest = per * (double)(n - done);
    if (rest < 2 * weft_pool_fork_seconds(pool)) {
        fn(user, done, n);
        return;
    }
    size_t balanced = (n - done) / (8 * (size_t)width) + 1; /* leaves room to balance */
    size_t step = (size_t)(CHUNK_SECONDS / per) + 1;
    if (step > balanced) step = balanced;
    weft_pool_parallel_for_user(pool, done, n, step, range_chunk, &call);
}

typedef struct async_range {
    weft_ctx *ctx;
    size_t n, grain;
    weft_range_fn fn;
    void *user;
} async_range;

static weft_status async_range_run(void *arg)
{
    async_range *a = arg;
    parallel_for_now(a->ctx, a->n, a->grain, a->fn, a->user);
    free(a);
    return WEFT_OK;
}

weft_status weft_parallel_for(weft_ctx *ctx, size_t n, size_t grain, weft_range_fn fn, void *user,
                              weft_future **future)
{
    if (future) *future = NULL;
    RETURN_ON_ERROR(check_ctx(ctx, "weft_parallel_for"));
    RETURN_IF(!fn, WEFT_ERR_NULL, "weft_parallel_for: fn is NULL");
    if (!future) {
        parallel_for_now(ctx, n, grain, fn, user);
        return WEFT_OK;
    }
    async_range *a = malloc(sizeof *a);
    RETURN_IF(!a, WEFT_ERR_NOMEM, "weft_parallel_for: cannot allocate the call");
    *a = (async_range){ctx, n, grain, fn, user};
    weft_status st = submit(ctx, async_range_run, a, NULL, 0, future);
    if (st != WEFT_OK) free(a);
    return st;
}
