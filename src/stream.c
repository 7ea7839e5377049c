#include "stream.h"
#include "array.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

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
}

/* Called with the lock held; the op has already run. */
static void finish_op(weft_stream *s, weft_op *op)
{
    mark_pending(op, -1);
    s->busy = 0;
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
        pthread_mutex_unlock(&s->lock);

        weft_error_clear();
        weft_status status = op->run(op);
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
    pthread_mutex_lock(&s->lock);
    if (!future && !s->busy && s->head == NULL) {
        /* Nothing ahead of it: run here, saving a thread handoff per call. */
        s->busy = 1;
        mark_pending(op, +1);
        pthread_mutex_unlock(&s->lock);
        weft_status status = op->run(op);
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

void weft_stream_wait_array(weft_stream *s, weft_array *array)
{
    pthread_mutex_lock(&s->lock);
    while (array->pending > 0)
        pthread_cond_wait(&s->idle_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

weft_status weft_stream_finish(weft_stream *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->head || s->busy)
        pthread_cond_wait(&s->idle_cond, &s->lock);
    weft_status status = s->unreported;
    s->unreported = WEFT_OK;
    pthread_mutex_unlock(&s->lock);
    if (status != WEFT_OK)
        weft_error_set(status, "an operation whose future was released without waiting failed");
    return status;
}

void weft_stream_destroy(weft_stream *s)
{
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
