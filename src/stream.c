#include "stream.h"
#include "array.h"
#include "clock.h"
#include "error.h"
#include "pool.h"

#include <stdatomic.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A thread that runs an operation (or a pool chunk of one) must not wait for
 * operations: they queue behind the one it is running. */
void weft_stream_waited(weft_stream *s, double t0)
{
    atomic_fetch_add(&s->wait_ns, (unsigned long long)((weft_now() - t0) * 1e9));
}

int weft_stream_in_operation(void)
{
    return weft_pool_in_operation();
}

static weft_status run_op(weft_op *op)
{
    int outer = weft_pool_enter_operation(1);
    weft_status status = op->run(op);
    weft_pool_enter_operation(outer);
    return status;
}

weft_status weft_stream_init(weft_stream *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    pthread_cond_init(&s->idle_cond, NULL);
    return WEFT_OK;
}

static void op_destroy(weft_op *op)
{
    if (op->destroy)
        op->destroy(op);
    else
        free(op);
}

static void mark_pending(weft_op *op, int delta)
{
    for (size_t i = 0; i < op->narrays; i++)
        if (op->arrays[i]) op->arrays[i]->pending += delta;
    if (op->holds) *op->holds += delta;
}

/* In a fork child the executor thread does not exist, and the op it was
 * running never finishes: fail what the parent had queued (its futures
 * complete, its arrays are free again) and start afresh. Locks may have been
 * held by threads that are gone, so they are made anew. */
static void adopt_after_fork(weft_stream *s)
{
    if (!s->started || s->pid == getpid()) return;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    pthread_cond_init(&s->idle_cond, NULL);
    weft_op *orphans = s->head;
    if (s->running) {
        s->running->next = orphans;
        orphans = s->running;
    }
    s->head = s->tail = s->running = NULL;
    s->busy = s->started = s->stop = 0;
    while (orphans) {
        weft_op *op = orphans;
        orphans = op->next;
        mark_pending(op, -1);
        if (op->future) {
            weft_future_complete(op->future, WEFT_ERR_STATE,
                                 "the operation was queued in the parent process before fork()");
            weft_future_drop(op->future);
        }
        /* Not destroyed: the parent's thread may have held its memory mid-use. */
    }
}

/* Called with the lock held; the op has already run. */
static void finish_op(weft_stream *s, weft_op *op)
{
    mark_pending(op, -1);
    s->busy = 0;
    s->running = NULL;
    pthread_cond_broadcast(&s->idle_cond);
    pthread_cond_broadcast(&s->work_cond);
}

static void *executor_main(void *arg)
{
    weft_stream *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && (s->head == NULL || s->busy))
            pthread_cond_wait(&s->work_cond, &s->lock);
        if (s->head == NULL || s->busy) {
            if (s->stop && s->head == NULL) break;
            continue;
        }
        weft_op *op = s->head;
        s->head = op->next;
        if (!s->head) s->tail = NULL;
        s->busy = 1;
        s->running = op;
        pthread_mutex_unlock(&s->lock);

        weft_error_clear();
        weft_status status = run_op(op);
        const char *detail = weft_last_error();

        pthread_mutex_lock(&s->lock);
        weft_future *f = op->future;
        /* Complete before releasing the runner slot so waiters see the result. */
        if (weft_future_complete(f, status, detail) && status != WEFT_OK &&
            s->unreported == WEFT_OK)
            s->unreported = status;
        finish_op(s, op);
        pthread_mutex_unlock(&s->lock);
        weft_future_drop(f);
        op_destroy(op);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

weft_status weft_stream_submit(weft_stream *s, weft_op *op, weft_future **future)
{
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    if (!future && !s->busy && s->head == NULL) {
        /* Nothing ahead of it: run here, saving a thread handoff per call. */
        s->busy = 1;
        s->running = op;
        mark_pending(op, +1);
        pthread_mutex_unlock(&s->lock);
        weft_status status = run_op(op);
        pthread_mutex_lock(&s->lock);
        finish_op(s, op);
        pthread_mutex_unlock(&s->lock);
        op_destroy(op);
        return status;
    }
    weft_future *f = weft_future_create(2, s); /* one for the stream, one for the waiter */
    if (!f) {
        pthread_mutex_unlock(&s->lock);
        op_destroy(op);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot allocate a future");
    }
    if (!s->started) {
        if (pthread_create(&s->thread, NULL, executor_main, s) != 0) {
            pthread_mutex_unlock(&s->lock);
            weft_future_drop(f);
            weft_future_drop(f);
            op_destroy(op);
            return weft_error_set(WEFT_ERR_THREAD, "cannot start the stream executor thread");
        }
        s->started = 1;
        s->pid = getpid();
    }
    op->future = f;
    op->next = NULL;
    mark_pending(op, +1);
    if (s->tail)
        s->tail->next = op;
    else
        s->head = op;
    s->tail = op;
    pthread_cond_broadcast(&s->work_cond);
    pthread_mutex_unlock(&s->lock);

    if (future) {
        *future = f;
        return WEFT_OK;
    }
    if (weft_stream_in_operation()) { /* waiting here would wait for ourselves */
        weft_future_release(f);
        return weft_error_set(WEFT_ERR_STATE,
                              "a blocking call from inside a running operation (a host_fn) "
                              "cannot wait for operations queued behind it; pass a future");
    }
    weft_status status = weft_future_wait(f);
    weft_future_release(f);
    return status;
}

void weft_stream_unreported(weft_stream *s, weft_status status)
{
    pthread_mutex_lock(&s->lock);
    if (s->unreported == WEFT_OK) s->unreported = status;
    pthread_mutex_unlock(&s->lock);
}

weft_status weft_stream_wait_held(weft_stream *s, int *counter, const char *what)
{
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    if (*counter > 0 && weft_stream_in_operation()) {
        pthread_mutex_unlock(&s->lock);
        return weft_error_set(WEFT_ERR_STATE,
                              "%s: called from inside a running operation (a host_fn) on data "
                              "that operation or one queued behind it uses: it would wait for "
                              "itself",
                              what);
    }
    if (*counter > 0) {
        double t0 = weft_now();
        while (*counter > 0)
            pthread_cond_wait(&s->idle_cond, &s->lock);
        weft_stream_waited(s, t0);
    }
    pthread_mutex_unlock(&s->lock);
    return WEFT_OK;
}

weft_status weft_stream_wait_array(weft_stream *s, weft_array *array, const char *what)
{
    return weft_stream_wait_held(s, &array->pending, what);
}

weft_status weft_stream_finish(weft_stream *s)
{
    adopt_after_fork(s);
    if (weft_stream_in_operation())
        return weft_error_set(WEFT_ERR_STATE, "weft_ctx_finish: called from inside a running "
                                              "operation (a host_fn): it would wait for itself");
    pthread_mutex_lock(&s->lock);
    double t0 = weft_now();
    while (s->head || s->busy)
        pthread_cond_wait(&s->idle_cond, &s->lock);
    weft_stream_waited(s, t0);
    weft_status status = s->unreported;
    s->unreported = WEFT_OK;
    pthread_mutex_unlock(&s->lock);
    if (status != WEFT_OK)
        weft_error_set(status, "an operation whose future was released without waiting failed");
    return status;
}

void weft_stream_destroy(weft_stream *s)
{
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->work_cond);
    int started = s->started;
    pthread_mutex_unlock(&s->lock);
    if (started) pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->work_cond);
    pthread_cond_destroy(&s->idle_cond);
    pthread_mutex_destroy(&s->lock);
}
