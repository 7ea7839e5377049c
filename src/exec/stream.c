/* The stream: operations run in submission order on an executor thread (or
 * inline on a caller that waits anyway and finds nothing queued, or beside
 * the queue on such a caller when nothing ahead conflicts with it: uses an
 * array that one of the two writes). An
 * asynchronous operation may return with its device work still running; the
 * completer thread waits for that work in order, then completes the future
 * and releases the operation's arrays. So the executor only ever enqueues:
 * launch after launch pipelines on the device queues. */
#include "stream.h"
#include "../mem/array.h"
#include "../core/clock.h"
#include "../dev/device.h"
#include "../core/error.h"
#include "../mem/residency.h"
#include "../mem/wraps.h"
#include "../core/pool.h"
#include "../core/process.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static void owner_waited(weft_future_owner *owner, double since)
{
    weft_stream_waited((weft_stream *)owner, since);
}

static void owner_unreported(weft_future_owner *owner, weft_status status)
{
    weft_stream_unreported((weft_stream *)owner, status);
}

static void owner_check_fork(weft_future_owner *owner)
{
    weft_stream_check_fork((weft_stream *)owner);
}

void weft_stream_waited(weft_stream *s, double t0)
{
    atomic_fetch_add(&s->wait_ns, (unsigned long long)((weft_now() - t0) * 1e9));
}

/* A thread that runs an operation (or a pool chunk of one) must not wait for
 * operations: they queue behind the one it is running. */
int weft_stream_in_operation(void)
{
    return weft_pool_in_operation() != NULL;
}

static _Thread_local weft_stream *current_task;

weft_stream *weft_stream_current_task(void)
{
    return current_task;
}

weft_stream *weft_stream_set_current_task(weft_stream *s)
{
    weft_stream *before = current_task;
    current_task = s;
    return before;
}

/* With the lock held: an operation is queued, running (on the executor or
 * beside it) or in flight. */
static int ops_about(const weft_stream *s)
{
    return s->head || s->busy || s->inflight_head || s->beside;
}

/* Called with the lock held after the queue, the runner or the in-flight list
 * changed: while operations are about, an OpenCL CPU device may compute on
 * the pool's cores, so tasks and user loops run one thread at a time. */
static void note_activity(weft_stream *s)
{
    int active = ops_about(s);
    if (!s->throttles || !s->pool || active == s->throttling) return;
    s->throttling = active;
    weft_pool_throttle(s->pool, active);
}

static void init_sync(weft_stream *s)
{
    pthread_mutex_init(&s->lock, NULL);
    pthread_rwlock_init(&s->residency, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    pthread_cond_init(&s->idle_cond, NULL);
    pthread_cond_init(&s->inflight_cond, NULL);
}

weft_status weft_stream_init(weft_stream *s)
{
    memset(s, 0, sizeof *s);
    s->owner = (weft_future_owner){owner_waited, owner_unreported, owner_check_fork};
    init_sync(s);
    weft_stream_fork_register(s);
    return WEFT_OK;
}

/* Arrays over memory another live wrap overlaps start from the host
 * memory they share (mem/wraps.h). */
static weft_status settle_overlaps(const weft_op *op)
{
    for (size_t i = 0; i < op->narrays; i++)
        if (op->arrays[i] && atomic_load(&op->arrays[i]->overlaps))
            RETURN_ON_ERROR(weft_wraps_settle(op->arrays[i]));
    return WEFT_OK;
}

static weft_status run_op(weft_stream *s, weft_op *op)
{
    const void *outer = weft_pool_enter_operation(op);
    pthread_rwlock_rdlock(&s->residency);
    weft_status status = settle_overlaps(op);
    if (status == WEFT_OK) status = op->run(op);
    pthread_rwlock_unlock(&s->residency);
    weft_pool_enter_operation(outer);
    return status;
}

weft_status weft_op_wait_for(weft_op *op, weft_device *dev, size_t ndevices)
{
    if (!op->waits) {
        op->waits = calloc(ndevices, sizeof *op->waits);
        RETURN_IF(!op->waits, WEFT_ERR_NOMEM, "cannot allocate the operation's device waits");
    }
    void *event = NULL;
    RETURN_ON_ERROR(dev->ops.marker(dev, &event));
    if (event) op->waits[op->nwaits++] = (weft_op_wait){.device = dev, .event = event};
    return WEFT_OK;
}

static void op_destroy(weft_op *op)
{
    free(op->waits);
    op->waits = NULL;
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

/* Called with the lock held: the op is done, device work included. */
static void retire(weft_stream *s, weft_op *op, weft_status status, const char *detail)
{
    weft_future *f = op->future;
    if (f && weft_future_complete(f, status, detail) && status != WEFT_OK &&
        s->unreported == WEFT_OK)
        s->unreported = status;
    mark_pending(op, -1);
    pthread_cond_broadcast(&s->idle_cond);
}

/* In a fork child the stream's threads do not exist, and what they were
 * running never finishes: fail what the parent had queued or in flight (its
 * futures complete, its arrays are free again) and start afresh. Locks may
 * have been held by threads that are gone, so they are made anew. */

/* Notes the process that starts the stream's threads or tasks. */
static void note_process(weft_stream *s)
{
    if (atomic_load(&s->pid) == 0) atomic_store(&s->pid, weft_process_id());
}

/* Tasks of the parent never run in the child (tasks.c declines them): their
 * futures fail, and they count no more. Not freed: a parent thread may have
 * held their memory mid-use. */
static void abandon_tasks(weft_stream *s)
{
    weft_stream_task *list = s->task_list;
    s->task_list = NULL;
    s->tasks = 0;
    for (weft_stream_task *t = list, *next; t; t = next) {
        next = t->next;
        t->prev = t->next = NULL;
        t->abandon(t);
    }
}

static void adopt_after_fork(weft_stream *s)
{
    pid_t pid = atomic_load(&s->pid);
    if (pid == 0 || pid == weft_process_id()) return;
    if (!atomic_compare_exchange_strong(&s->pid, &pid, 0)) return; /* another child thread does */
    init_sync(s);
    abandon_tasks(s);
    weft_op *lists[3] = {s->running, s->head, s->inflight_head};
    if (s->running) s->running->next = NULL;
    s->head = s->tail = s->running = s->inflight_head = s->inflight_tail = NULL;
    for (weft_op *b = s->beside; b; b = b->beside_next)
        mark_pending(b, -1); /* their callers were threads of the parent */
    s->beside = NULL;
    s->busy = s->stop = s->executor_done = s->waiters_running = 0;
    s->started = 0;
    note_activity(s);
    for (int l = 0; l < 3; l++)
        for (weft_op *op = lists[l], *next; op; op = next) {
            next = op->next;
            if (op->future) weft_future_forked(op->future); /* a parent thread may hold it */
            retire(s, op, WEFT_ERR_STATE,
                   "the operation was queued in the parent process before fork()");
            if (op->future) weft_future_drop(op->future);
            /* Not destroyed: a parent thread may have held its memory mid-use. */
        }
}

/* Waits for an op's device work; a failed device's copies of what the op
 * wrote there are lost (the future says so: there is no rerun once the
 * caller has moved on). */
static weft_status await_devices(weft_stream *s, weft_op *op, char **detail)
{
    weft_status status = op->status;
    for (size_t w = 0; w < op->nwaits; w++) {
        weft_device *dev = op->waits[w].device;
        weft_mem_device_work work = {op->arrays, op->narrays, op->waits[w].reads, dev->index,
                                     op->waits[w].reading};
        weft_status st = dev->ops.wait(dev, op->waits[w].event);
        dev->ops.event_release(dev, op->waits[w].event);
        if (st == WEFT_OK) st = weft_mem_check_copies(&work, op->waits[w].copy_mark);
        if (st == WEFT_OK) continue;
        pthread_rwlock_wrlock(&s->residency);
        weft_mem_device_failed(&work, op->waits[w].writing);
        pthread_rwlock_unlock(&s->residency);
        if (status == WEFT_OK) {
            status = weft_error_set(WEFT_ERR_DEVICE,
                                    "device %zu failed while running an asynchronous operation "
                                    "(%s); its results there are lost",
                                    dev->index, weft_last_error());
            free(*detail);
            *detail = strdup(weft_last_error());
        }
    }
    op->nwaits = 0;
    return status;
}

static void *completer_main(void *arg)
{
    weft_stream *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->inflight_head && !s->executor_done)
            pthread_cond_wait(&s->inflight_cond, &s->lock);
        weft_op *op = s->inflight_head;
        if (!op) break; /* the executor stopped, and nothing is left in flight */
        pthread_mutex_unlock(&s->lock);
        char *detail = NULL;
        weft_status status = await_devices(s, op, &detail);
        pthread_mutex_lock(&s->lock);
        s->inflight_head = op->next;
        if (!s->inflight_head) s->inflight_tail = NULL;
        note_activity(s);
        weft_future *f = op->future;
        retire(s, op, status, detail);
        if (s->head) pthread_cond_broadcast(&s->work_cond); /* a blocking op may wait for it */
        pthread_mutex_unlock(&s->lock);
        free(detail);
        if (f) weft_future_drop(f);
        op_destroy(op);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* a and b must keep their order: an array both use, which one of them may
 * write (readers follow writers, writers follow readers). */
static int conflict(const weft_op *a, const weft_op *b)
{
    for (size_t i = 0; i < a->narrays; i++)
        for (size_t j = 0; j < b->narrays; j++)
            if ((a->arrays[i] == b->arrays[j] &&
                 !((a->read_only >> i) & (b->read_only >> j) & 1u)) ||
                (a->arrays[i] && b->arrays[j] && weft_wraps_overlap(a->arrays[i], b->arrays[j])))
                return 1; /* overlapping wraps: ordered always (settling rewrites residency) */
    return 0;
}

/* With the lock held: op conflicts with one running beside the queue, which
 * was submitted before it. */
static int held_back(const weft_stream *s, const weft_op *op)
{
    for (const weft_op *b = s->beside; b; b = b->beside_next)
        if (conflict(op, b)) return 1;
    return 0;
}

/* With the lock held: op may run now on its caller, beside the queue, when
 * nothing queued, running, in flight or beside conflicts with it: then
 * no order between them can be observed. (Devices take commands from two
 * operations at once: each driver keeps its shared state, such as a kernel's
 * arguments, to one call at a time.) */
static int may_run_beside(const weft_stream *s, const weft_op *op)
{
    if (held_back(s, op)) return 0;
    if (s->running && conflict(op, s->running)) return 0;
    for (const weft_op *q = s->head; q; q = q->next)
        if (conflict(op, q)) return 0;
    for (const weft_op *q = s->inflight_head; q; q = q->next)
        if (conflict(op, q)) return 0;
    return 1;
}

/* With the lock held: a blocking op that uses an array an in-flight op
 * writes (or writes one it reads) waits until that op completed. Enqueued
 * behind it on the same in-order queue, it would compute from what the
 * in-flight op's device is still writing and count it good before anyone
 * knew whether that device failed; once the op completed, a failure has
 * made its results current nowhere, and the blocking op fails or reruns
 * from what is still good. Asynchronous ops go on (pipelining): their
 * futures fail with the device's queue. */
static int behind_in_flight(const weft_stream *s, const weft_op *op)
{
    for (const weft_op *q = s->inflight_head; q; q = q->next)
        if (conflict(op, q)) return 1;
    return 0;
}

/* With the lock held: the executor may not start the queue's first op yet. */
static int head_waits(const weft_stream *s)
{
    const weft_op *op = s->head;
    return held_back(s, op) || (op->caller_waits && behind_in_flight(s, op));
}

/* Appends op to the list from *head to *tail (the queue, the operations in
 * flight, those a gate holds). */
static void op_append(weft_op **head, weft_op **tail, weft_op *op)
{
    if (*tail)
        (*tail)->next = op;
    else
        *head = op;
    *tail = op;
}

/* With the lock held: the queue's first op may start now. */
static int may_take_head(const weft_stream *s)
{
    return s->head && !s->busy && !head_waits(s);
}

/* With the lock held: the queue's first op becomes the running one. */
static weft_op *take_head(weft_stream *s)
{
    weft_op *op = s->head;
    s->head = op->next;
    if (!s->head) s->tail = NULL;
    s->busy = 1;
    s->running = op;
    note_activity(s);
    return op;
}

/* Runs the op take_head gave, and hands it to the completer when it left
 * device work running, or retires it. Called and returns with the lock held
 * (released meanwhile). */
static void run_taken(weft_stream *s, weft_op *op)
{
    pthread_mutex_unlock(&s->lock);
    weft_error_clear();
    op->status = run_op(s, op);
    char *detail = op->status != WEFT_OK ? strdup(weft_last_error()) : NULL;
    if (op->status != WEFT_OK) /* failed: settle its device work now */
        await_devices(s, op, &detail);

    pthread_mutex_lock(&s->lock);
    s->busy = 0;
    s->running = NULL;
    pthread_cond_broadcast(&s->work_cond);
    if (op->nwaits > 0) { /* the completer finishes it */
        op->next = NULL;
        op_append(&s->inflight_head, &s->inflight_tail, op);
        pthread_cond_signal(&s->inflight_cond);
        return;
    }
    note_activity(s);
    weft_future *f = op->future;
    retire(s, op, op->status, detail);
    pthread_mutex_unlock(&s->lock);
    free(detail);
    weft_future_drop(f);
    op_destroy(op);
    pthread_mutex_lock(&s->lock);
}

static void *executor_main(void *arg)
{
    weft_stream *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && !may_take_head(s))
            pthread_cond_wait(&s->work_cond, &s->lock);
        if (!may_take_head(s)) {
            /* An op a waiter runs may still go in flight: the completer
             * stops only after the executor. */
            if (s->stop && s->head == NULL && !s->busy) break;
            if (s->stop) pthread_cond_wait(&s->work_cond, &s->lock);
            continue;
        }
        run_taken(s, take_head(s));
    }
    s->executor_done = 1;
    pthread_cond_broadcast(&s->inflight_cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- a waiter runs the queue up to its own op (future.h's producer) ---- */

static weft_op *op_of_producer(weft_future_producer *producer)
{
    return (weft_op *)((char *)producer - offsetof(weft_op, producer));
}

/* With the lock held: op is still queued (nobody took it yet). Compares
 * pointers only: op may be gone. */
static int still_queued(const weft_stream *s, const weft_op *op)
{
    for (const weft_op *q = s->head; q; q = q->next)
        if (q == op) return 1;
    return 0;
}

/* Called with the future's lock held (the op is alive): the stream's lock is
 * taken the other way round elsewhere (retire completes futures under it),
 * so only tried. A thread inside an operation never runs another one; a
 * fork child's queue is the parent's. */
static int waiter_claim(weft_future_producer *producer)
{
    weft_op *target = op_of_producer(producer);
    weft_stream *s = target->stream;
    if (weft_stream_in_operation() || atomic_load(&s->pid) != weft_process_id()) return 0;
    if (pthread_mutex_trylock(&s->lock) != 0) return 0;
    int take = still_queued(s, target) && may_take_head(s);
    if (take) {
        target->taken = take_head(s);
        s->waiters_running++;
    }
    pthread_mutex_unlock(&s->lock);
    return take;
}

/* While this thread runs for the stream's running op (a host_fn inside it,
 * on the launch's thread or a pool worker running its chunks), an op still
 * queued cannot start: waiting for it would never end. */
static int waiter_waits_forever(weft_future_producer *producer)
{
    weft_op *target = op_of_producer(producer);
    weft_stream *s = target->stream;
    const weft_op *current_op = weft_pool_in_operation();
    if (!current_op) return 0;
    if (pthread_mutex_trylock(&s->lock) != 0) return -1;
    int forever = s->running == current_op && still_queued(s, target);
    pthread_mutex_unlock(&s->lock);
    return forever;
}

/* Runs what the executor would, in order, until the awaited op has run (or
 * another thread took it, or the head must wait). */
static void waiter_run(weft_future_producer *producer)
{
    weft_op *target = op_of_producer(producer);
    weft_stream *s = target->stream;
    weft_op *op = target->taken;
    /* The ops run here set and clear this thread's error detail; the
     * waiter's own (a failure it met before it waited) must outlive them. */
    const char *detail = weft_last_error();
    char *kept = detail[0] ? strdup(detail) : NULL;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        int last = op == target; /* target may be gone once it ran */
        run_taken(s, op);
        if (last || !still_queued(s, target) || !may_take_head(s)) break;
        op = take_head(s);
    }
    s->waiters_running--;
    pthread_cond_broadcast(&s->idle_cond);
    pthread_mutex_unlock(&s->lock);
    if (kept)
        weft_error_copy(kept);
    else
        weft_error_clear();
    free(kept);
}

static weft_status start_threads(weft_stream *s)
{
    if (s->started) return WEFT_OK;
    RETURN_IF(pthread_create(&s->thread, NULL, executor_main, s) != 0, WEFT_ERR_THREAD,
              "cannot start the stream executor thread");
    if (pthread_create(&s->completer, NULL, completer_main, s) != 0) {
        s->stop = 1;
        pthread_cond_broadcast(&s->work_cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        pthread_mutex_lock(&s->lock);
        s->stop = s->executor_done = 0;
        return weft_error_set(WEFT_ERR_THREAD, "cannot start the stream completer thread");
    }
    /* Before started: the fork check reads them without the lock. */
    atomic_store(&s->pid, weft_process_id());
    s->started = 1;
    return WEFT_OK;
}

/* Runs op on its caller, saving a thread handoff per call: as the running op
 * when nothing is queued or running ahead of it, or beside the queue when
 * nothing ahead conflicts with it (may_run_beside). A synchronous op finishes
 * its device work itself (op->future NULL). Called with the lock held;
 * returns with it released. */
static weft_status run_on_caller(weft_stream *s, weft_op *op, int beside)
{
    if (beside) {
        op->beside_next = s->beside;
        s->beside = op;
    } else {
        s->busy = 1;
        s->running = op;
    }
    mark_pending(op, +1);
    note_activity(s);
    pthread_mutex_unlock(&s->lock);
    weft_status status = run_op(s, op);
    pthread_mutex_lock(&s->lock);
    if (beside) {
        weft_op **link = &s->beside;
        while (*link != op)
            link = &(*link)->beside_next;
        *link = op->beside_next;
    } else {
        s->busy = 0;
        s->running = NULL;
    }
    mark_pending(op, -1);
    note_activity(s);
    pthread_cond_broadcast(&s->idle_cond);
    /* Only the executor waits on work_cond, and it has work only if an op was
     * queued meanwhile, or one held back by this one may go: waking it for
     * nothing costs a system call per call. */
    if (s->head || s->stop) pthread_cond_broadcast(&s->work_cond);
    pthread_mutex_unlock(&s->lock);
    return status;
}

/* With the lock held: whether a synchronous op may run on its caller now,
 * and how (*beside 0: as the running op, nothing being queued or running). */
static int caller_may_run(const weft_stream *s, const weft_op *op, int *beside)
{
    if ((s->gates || s->failed_gate) && !op->host_access) return 0; /* behind a gate */
    *beside = s->busy || s->head != NULL;
    return *beside ? may_run_beside(s, op) : !held_back(s, op) && !behind_in_flight(s, op);
}

/* WEFT_OK, or the error for an op that would write a read-only wrap: told
 * before it runs, so not a byte of that memory is touched. */
static weft_status writes_read_only(const weft_op *op)
{
    for (size_t i = 0; i < op->narrays; i++) {
        const weft_array *a = op->arrays[i];
        if (a && a->read_only && !(op->read_only & (1u << i)))
            return weft_error_set(WEFT_ERR_INVALID_ARG,
                                  "the operation writes a read-only array (%zu elements of %s, "
                                  "made by weft_array_wrap_read_only): write into another array",
                                  a->n, weft_dtype_name(a->dtype));
    }
    return WEFT_OK;
}

int weft_stream_run_inline(weft_stream *s, weft_op *op, weft_status *status)
{
    if ((*status = writes_read_only(op)) != WEFT_OK) return 1;
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    int beside;
    if (!caller_may_run(s, op, &beside)) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    *status = run_on_caller(s, op, beside);
    free(op->waits); /* a synchronous op leaves none; the op itself is the caller's */
    op->waits = NULL;
    return 1;
}

/* With the lock held: op joins the queue. */
static void enqueue(weft_stream *s, weft_op *op)
{
    mark_pending(op, +1);
    op_append(&s->head, &s->tail, op);
    note_activity(s);
    pthread_cond_broadcast(&s->work_cond);
}

/* ---- gates (weft_ctx_wait_for) ---- */

struct weft_gate {
    weft_pool_item item; /* posted when the last future is done: opens the gate */
    weft_stream *stream;
    weft_after after;
    int ready;
    weft_op *held_head, *held_tail;
    weft_gate *next;
    weft_after_dep deps[];
};

static void gate_free(weft_gate *g)
{
    if (!g) return;
    free(g->after.cause_detail);
    free(g);
}

/* With the lock held: the op behind a failed gate completes without running. */
static void fail_held(weft_stream *s, weft_gate *g, weft_op *op)
{
    const weft_after *a = &g->after;
    weft_dependency_error(atomic_load(&a->failed_index), a->cause, a->cause_detail,
                          "the operation did not run (weft_ctx_wait_for)");
    char *detail = strdup(weft_last_error());
    weft_future *f = op->future;
    if (weft_future_complete_caused(f, WEFT_ERR_DEPENDENCY, detail, a->cause, a->cause_detail) &&
        s->unreported == WEFT_OK)
        s->unreported = WEFT_ERR_DEPENDENCY;
    free(detail);
    weft_future_drop(f);
    op_destroy(op);
}

/* With the lock held: opens the oldest gates whose futures are all done, in
 * order; what they held joins the queue (or fails). */
static void open_ready_gates(weft_stream *s)
{
    while (s->gates && s->gates->ready) {
        weft_gate *g = s->gates;
        s->gates = g->next;
        if (!s->gates) s->gates_tail = NULL;
        for (weft_op *op = g->held_head, *next; op; op = next) {
            next = op->next;
            op->next = NULL;
            if (atomic_load(&g->after.failed) != WEFT_OK)
                fail_held(s, g, op);
            else
                enqueue(s, op);
        }
        g->held_head = g->held_tail = NULL;
        if (!s->gates && atomic_load(&g->after.failed) != WEFT_OK) {
            s->failed_gate = g; /* later operations of its scope fail the same way */
            continue;
        }
        gate_free(g);
    }
    pthread_cond_broadcast(&s->idle_cond);
    pthread_cond_broadcast(&s->work_cond);
}

/* On a pool thread: a future's completion may run with the stream's lock held
 * (an operation of this context), so the gate opens here instead. */
static void gate_open(weft_pool_item *item)
{
    weft_gate *g = (weft_gate *)item;
    weft_stream *s = g->stream;
    pthread_mutex_lock(&s->lock);
    g->ready = 1;
    open_ready_gates(s);
    pthread_mutex_unlock(&s->lock);
}

/* ---- waiting for futures (gates and tasks) ---- */

static void after_dependency_done(weft_future_callback *callback, weft_status status)
{
    weft_after_dep *dep = (weft_after_dep *)callback;
    weft_after *a = dep->after;
    int none = WEFT_OK;
    if (status != WEFT_OK && atomic_compare_exchange_strong(&a->failed, &none, (int)status)) {
        atomic_store(&a->failed_index, dep->index);
        /* The first failure only: the item is posted after the last release. */
        weft_future_cause_get(dep->source, &a->cause, &a->cause_detail);
    }
    weft_after_release(a);
}

void weft_after_watch(weft_after *a, weft_pool *pool, weft_pool_item *item,
                      weft_future *const *futures, size_t n, weft_after_dep *deps)
{
    a->pool = pool;
    a->item = item;
    atomic_init(&a->remaining, n + 1);
    atomic_init(&a->failed, WEFT_OK);
    atomic_init(&a->failed_index, 0);
    for (size_t i = 0; i < n; i++) {
        deps[i] = (weft_after_dep){.callback = {.fn = after_dependency_done},
                                   .after = a,
                                   .source = futures[i],
                                   .index = i};
        weft_status status = WEFT_OK;
        if (!weft_future_then(futures[i], &deps[i].callback, &status))
            after_dependency_done(&deps[i].callback, status);
    }
}

void weft_after_release(weft_after *a)
{
    if (atomic_fetch_sub(&a->remaining, 1) == 1) weft_pool_post(a->pool, a->item);
}

weft_status weft_stream_wait_for(weft_stream *s, weft_future *const *futures, size_t n)
{
    RETURN_IF(n > 0 && !futures, WEFT_ERR_NULL, "weft_ctx_wait_for: futures is NULL with n = %zu",
              n);
    for (size_t i = 0; i < n; i++) {
        RETURN_ON_ERROR(weft_future_check(futures[i], NULL, "weft_ctx_wait_for"));
        /* Every operation submitted behind the gate, this task's blocking
         * ones included, would wait for the task that is submitting them. */
        RETURN_IF(weft_future_produced_here(futures[i]), WEFT_ERR_STATE,
                  "weft_ctx_wait_for: futures[%zu] is the calling task's own future: its "
                  "operations behind it would wait for it forever",
                  i);
    }
    if (n == 0) {
        pthread_mutex_lock(&s->lock);
        gate_free(s->failed_gate);
        s->failed_gate = NULL;
        pthread_mutex_unlock(&s->lock);
        return WEFT_OK;
    }
    RETURN_IF(!s->pool, WEFT_ERR_STATE, "weft_ctx_wait_for: the context has no pool");
    weft_gate *g = calloc(1, sizeof *g + n * sizeof g->deps[0]);
    RETURN_IF(!g, WEFT_ERR_NOMEM, "weft_ctx_wait_for: cannot allocate the gate");
    g->item.run = gate_open;
    g->stream = s;
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    gate_free(s->failed_gate); /* its scope ends here */
    s->failed_gate = NULL;
    if (s->gates_tail)
        s->gates_tail->next = g;
    else
        s->gates = g;
    s->gates_tail = g;
    pthread_mutex_unlock(&s->lock);
    weft_after_watch(&g->after, s->pool, &g->item, futures, n, g->deps);
    weft_after_release(&g->after);
    return WEFT_OK;
}

/* With the lock held: an operation held behind a gate uses the counter (an
 * array's or a program's). A task never waits for those: the gate may be
 * waiting for that very task (it writes the input of what the gate holds). */
static int held_uses(const weft_stream *s, const int *counter)
{
    if (current_task) return 0;
    for (const weft_gate *g = s->gates; g; g = g->next)
        for (const weft_op *op = g->held_head; op; op = op->next) {
            if (op->holds == counter) return 1;
            for (size_t i = 0; i < op->narrays; i++)
                if (op->arrays[i] && &op->arrays[i]->pending == counter) return 1;
        }
    return 0;
}

weft_status weft_stream_submit(weft_stream *s, weft_op *op, weft_future **future)
{
    weft_status refused = writes_read_only(op);
    if (refused != WEFT_OK) {
        op_destroy(op);
        return refused;
    }
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    int beside;
    if (!future && caller_may_run(s, op, &beside)) {
        weft_status status = run_on_caller(s, op, beside);
        op_destroy(op);
        return status;
    }
    if (!future && weft_stream_in_operation()) { /* waiting would wait for ourselves */
        pthread_mutex_unlock(&s->lock);
        op_destroy(op); /* never queued: run later, it would write through the caller's pointers */
        return weft_error_set(WEFT_ERR_STATE,
                              "a blocking call from inside a running operation (a host_fn) "
                              "cannot wait for operations queued behind it; pass a future");
    }
    op->caller_waits = !future; /* queued behind others, but still a blocking call */
    weft_future *f = weft_future_create(2, &s->owner); /* the stream's and the waiter's */
    weft_status st = f ? start_threads(s) : WEFT_ERR_NOMEM;
    if (st != WEFT_OK) {
        pthread_mutex_unlock(&s->lock);
        if (f) {
            weft_future_drop(f);
            weft_future_drop(f);
        }
        op_destroy(op);
        return st == WEFT_ERR_NOMEM ? weft_error_set(st, "cannot allocate a future") : st;
    }
    op->future = f;
    op->stream = s;
    op->producer = (weft_future_producer){waiter_claim, waiter_run, waiter_waits_forever};
    weft_future_set_producer(f, &op->producer);
    op->next = NULL;
    if (s->gates && !op->host_access)
        op_append(&s->gates_tail->held_head, &s->gates_tail->held_tail, op);
    else if (s->failed_gate && !op->host_access)
        fail_held(s, s->failed_gate, op);
    else
        enqueue(s, op);
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
    int waited = *counter > 0 || held_uses(s, counter);
    if (waited) {
        double t0 = weft_now();
        weft_pool_block_begin(); /* a task's pool slot serves others meanwhile */
        while (*counter > 0 || held_uses(s, counter))
            pthread_cond_wait(&s->idle_cond, &s->lock);
        weft_stream_waited(s, t0);
    }
    pthread_mutex_unlock(&s->lock);
    if (waited) weft_pool_block_end(); /* may wait for a slot: not under the lock */
    return WEFT_OK;
}

weft_status weft_stream_wait_array(weft_stream *s, weft_array *array, const char *what)
{
    return weft_stream_wait_held(s, &array->pending, what);
}

void weft_stream_check_fork(weft_stream *s)
{
    adopt_after_fork(s);
}

void weft_stream_task_begin(weft_stream *s, weft_stream_task *task)
{
    adopt_after_fork(s);
    note_process(s);
    pthread_mutex_lock(&s->lock);
    s->tasks++;
    task->prev = NULL;
    task->next = s->task_list;
    if (s->task_list) s->task_list->prev = task;
    s->task_list = task;
    pthread_mutex_unlock(&s->lock);
}

/* The task's last touch of the stream: a waiter in finish or destroy may free
 * it as soon as the lock is released. */
void weft_stream_task_end(weft_stream *s, weft_stream_task *task, weft_status orphaned_failure)
{
    pthread_mutex_lock(&s->lock);
    if (orphaned_failure != WEFT_OK && s->unreported == WEFT_OK) s->unreported = orphaned_failure;
    if (task->prev)
        task->prev->next = task->next;
    else
        s->task_list = task->next;
    if (task->next) task->next->prev = task->prev;
    if (--s->tasks == 0) pthread_cond_broadcast(&s->idle_cond);
    pthread_mutex_unlock(&s->lock);
}

/* With the lock held: until nothing is queued, running or in flight (or, with
 * tasks_only, until no task is left). */
static void wait_idle(weft_stream *s, int tasks_only)
{
    while (s->tasks > 0 || s->gates || (!tasks_only && ops_about(s))) {
        /* A pool thread (a task of another context) frees its slot meanwhile. */
        pthread_mutex_unlock(&s->lock);
        weft_pool_block_begin();
        pthread_mutex_lock(&s->lock);
        if (s->tasks > 0 || s->gates || (!tasks_only && ops_about(s)))
            pthread_cond_wait(&s->idle_cond, &s->lock);
        pthread_mutex_unlock(&s->lock);
        weft_pool_block_end();
        pthread_mutex_lock(&s->lock);
    }
}

weft_status weft_stream_finish(weft_stream *s)
{
    adopt_after_fork(s);
    if (weft_stream_in_operation())
        return weft_error_set(WEFT_ERR_STATE, "weft_ctx_finish: called from inside a running "
                                              "operation (a host_fn): it would wait for itself");
    if (current_task == s)
        return weft_error_set(WEFT_ERR_STATE, "weft_ctx_finish: called from inside a task of "
                                              "the same context: it would wait for itself");
    pthread_mutex_lock(&s->lock);
    double t0 = weft_now();
    wait_idle(s, 0);
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
    weft_stream_fork_unregister(s);
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    wait_idle(s, 1); /* tasks may still wait for queued operations: the executor runs */
    s->stop = 1;
    pthread_cond_broadcast(&s->work_cond);
    pthread_cond_broadcast(&s->inflight_cond);
    int started = s->started;
    pthread_mutex_unlock(&s->lock);
    if (started) { /* the executor runs what is queued; the completer drains the rest */
        pthread_join(s->thread, NULL);
        pthread_join(s->completer, NULL);
    }
    pthread_mutex_lock(&s->lock); /* a waiter running ops may still hold it */
    while (s->waiters_running > 0)
        pthread_cond_wait(&s->idle_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    gate_free(s->failed_gate);
    s->failed_gate = NULL;
    pthread_cond_destroy(&s->work_cond);
    pthread_cond_destroy(&s->idle_cond);
    pthread_cond_destroy(&s->inflight_cond);
    pthread_rwlock_destroy(&s->residency);
    pthread_mutex_destroy(&s->lock);
}

int weft_stream_access_idle(weft_stream *s, int *pending, int (*access)(void *), void *arg)
{
    adopt_after_fork(s);
    pthread_mutex_lock(&s->lock);
    int idle = *pending == 0 && !held_uses(s, pending) && access(arg);
    pthread_mutex_unlock(&s->lock);
    return idle;
}
