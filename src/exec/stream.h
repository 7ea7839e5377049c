/* Per-context ordering of operations, like a stream: operations run one after
 * another in submission order on an executor thread (started lazily), or on
 * the caller's thread when it waits anyway and nothing is queued ahead, or
 * beside the queue when it waits and nothing ahead uses an array that one of
 * the two writes. */
#ifndef WEFT_STREAM_H
#define WEFT_STREAM_H

#include "../core/fork_registry.h"
#include "../dev/device.h"
#include "../mem/device_work.h"
#include "future.h"
#include "weft.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#define WEFT_OP_MAX_ARRAYS WEFT_PRIM_MAX_VIEWS

typedef struct weft_device weft_device;
typedef struct weft_pool weft_pool;
typedef struct weft_pool_item weft_pool_item;

/* Device work an operation left running: it completes when every event has. */
typedef struct weft_op_wait {
    weft_device *device;
    void *event;
    /* Per array of the op: the elements this device was writing, which it
     * loses if the wait fails (empty: none). */
    weft_mem_span writing[WEFT_OP_MAX_ARRAYS];
    /* Bit i: the device's work read the op's array i, through copies the
     * completer settles, reading[i] of it; copy_mark: the failed copies found
     * before they were made (weft_mem_copy_mark). */
    unsigned reads;
    weft_mem_span reading[WEFT_OP_MAX_ARRAYS];
    unsigned copy_mark;
} weft_op_wait;

typedef struct weft_op weft_op;
struct weft_op {
    weft_status (*run)(weft_op *op);
    void (*destroy)(weft_op *op); /* frees the op; NULL: free() */
    weft_ctx *ctx;
    weft_array *arrays[WEFT_OP_MAX_ARRAYS]; /* arrays it reads or writes */
    size_t narrays;
    /* Bit i: the op only reads arrays[i] (0: it may write it). Operations
     * that only read an array may run side by side; a writer keeps its
     * order with every other user. */
    unsigned read_only;
    int *holds; /* another use count it keeps up while queued (a program's), or NULL */
    /* Asynchronous operations (those with a future) may return from run with
     * their device work still running, listed here; the stream's completer
     * waits for it, then completes the future. */
    weft_op_wait *waits;
    size_t nwaits;
    int caller_waits; /* submitted with a NULL future: finishes its device work itself */
    /* A read, write or sync of an array: never held behind a gate (it waits
     * for the held operations that use its array before it takes its turn,
     * except in a task, which the gate may be waiting for). */
    int host_access;
    /* In the stream's list of synchronous ops running on their callers beside
     * queued work that uses none of their arrays. */
    weft_op *beside_next;
    weft_status status;
    weft_future *future;
    /* Lets the thread that waits for the future run the queue up to this op
     * itself, as the executor would (saving two thread hand-offs); `taken`
     * is the op it took first. Set by weft_stream_submit. */
    weft_future_producer producer;
    struct weft_stream *stream;
    weft_op *taken;
    weft_op *next;
};

typedef struct weft_gate weft_gate;

/* A C task as the stream keeps it: listed from submission to completion, so
 * that a fork child can fail what the parent left unfinished. */
typedef struct weft_stream_task weft_stream_task;
struct weft_stream_task {
    weft_stream_task *prev, *next;
    /* In a fork child: the task was the parent's and never runs here; fail
     * its future (WEFT_ERR_STATE) unless it finished. */
    void (*abandon)(weft_stream_task *task);
};

typedef struct weft_stream {
    weft_future_owner owner; /* first: the futures of its operations and tasks report here */
    pthread_mutex_t lock;
    pthread_cond_t work_cond; /* an op was queued, the runner went idle, or stop */
    pthread_cond_t idle_cond; /* an op finished */
    weft_op *head, *tail;
    weft_op *inflight_head, *inflight_tail; /* ran, device work pending (completer) */
    pthread_cond_t inflight_cond;
    pthread_t completer;
    /* Held shared while an op runs, exclusively while the completer accounts
     * for a failed device: the two must not change an array's residency at
     * once (ops running side by side share no array that one writes). */
    pthread_rwlock_t residency;
    weft_op *beside;     /* synchronous ops running on their callers beside the queue */
    int busy;            /* an op is running (on the executor, inline or on a waiter) */
    int waiters_running; /* threads that wait for a future running the queue (destroy waits) */
    weft_op *running;
    int stop, executor_done;
    /* Read without the lock by the fork check (a child's lock may be held by
     * a thread that is gone): atomic. */
    _Atomic int started;
    /* Of the process that started the executor or a task (0: neither yet):
     * a fork child sees another, and adopts (stream.c). */
    _Atomic pid_t pid;
    pthread_t thread;
    weft_pool *pool; /* where tasks run */
    int throttles;   /* operations run on the pool's cores (a CPU device): throttle it */
    int throttling;  /* operations are queued, running or in flight, and it is throttled */
    int tasks;       /* submitted C tasks not yet complete (weft_submit) */
    weft_stream_task *task_list; /* those tasks */
    weft_status unreported;      /* first failure whose future was released unread */
    /* weft_ctx_wait_for: operations submitted behind a gate are held, outside
     * the queue and using no array, until its futures are done (oldest first). */
    weft_gate *gates, *gates_tail;
    weft_gate *failed_gate; /* the last gate, opened with a failure: what follows fails */
    _Atomic unsigned long long wait_ns; /* callers blocked in waits (the ledger) */
    weft_fork_member registered;        /* stream_fork.c */
} weft_stream;

weft_status weft_stream_init(weft_stream *stream);
/* Every live stream is known to the fork handlers (stream_fork.c): init and
 * destroy call these. */
void weft_stream_fork_register(weft_stream *stream);
void weft_stream_fork_unregister(weft_stream *stream);
/* Runs what is queued, then stops the executor. */
void weft_stream_destroy(weft_stream *stream);
/* Lets run() of an op know whether it may leave device work running. */
static inline int weft_op_async(const weft_op *op)
{
    return op->future != NULL && !op->caller_waits;
}
/* Appends dev's marker event to op's waits (op owns the event). */
weft_status weft_op_wait_for(weft_op *op, weft_device *dev, size_t ndevices);

/* Takes ownership of op (destroyed even on failure). future NULL: waits and
 * returns the op's status; else hands back a future and returns WEFT_OK. */
weft_status weft_stream_submit(weft_stream *stream, weft_op *op, weft_future **future);
/* A synchronous call's op, which may live in the caller's memory: when
 * nothing is queued or running ahead of it, runs it on this thread, sets
 * *status and returns 1; the op is not destroyed (what its run allocated is
 * the caller's to free). Else returns 0 having done nothing: submit a heap
 * copy instead. */
int weft_stream_run_inline(weft_stream *stream, weft_op *op, weft_status *status);
/* Blocks until no queued or running op uses the array. WEFT_ERR_STATE when
 * called from inside a running operation (a host_fn) while the array is in
 * use: that wait could never end. `what` names the caller in the error. */
weft_status weft_stream_wait_array(weft_stream *stream, weft_array *array, const char *what);
/* Calls access(arg) under the stream's lock when *pending (an array's count)
 * is 0: no operation queued, running, in flight or beside uses the array, and
 * none can start or fail meanwhile. Returns whether access ran and did its
 * work (it returns 0 to decline); 0: nothing happened. */
int weft_stream_access_idle(weft_stream *stream, int *pending, int (*access)(void *), void *arg);
/* Blocks until *counter (an op's `holds`) drops to 0; the same rule. */
weft_status weft_stream_wait_held(weft_stream *stream, int *counter, const char *what);
/* 1 on a thread that is running an operation (or a pool chunk of one). */
int weft_stream_in_operation(void);
/* Also waits for tasks. */
weft_status weft_stream_finish(weft_stream *stream);

/* What runs once n futures are done (a task, a gate): item is posted to pool
 * when the last one is, and the first failure among them is kept. */
typedef struct weft_after weft_after;
typedef struct weft_after_dep {
    weft_future_callback callback;
    weft_after *after;
    weft_future *source; /* alive while its callbacks run, or while watch holds it */
    size_t index;
} weft_after_dep;
struct weft_after {
    weft_pool *pool;
    weft_pool_item *item;
    atomic_size_t remaining;    /* futures not done, plus one while setting up */
    atomic_int failed;          /* the first failed future's status (0: none) */
    atomic_size_t failed_index; /* and its index */
    weft_status cause;          /* that future's first cause, and its detail */
    char *cause_detail;
};
/* Watches futures[0, n) through deps[0, n), which live as long as a does;
 * after it, a (and what holds it) may be gone once release is called. */
void weft_after_watch(weft_after *a, weft_pool *pool, weft_pool_item *item,
                      weft_future *const *futures, size_t n, weft_after_dep *deps);
/* Ends the setup: the item is posted now if every future is done. */
void weft_after_release(weft_after *a);

/* C tasks (tasks.c) count themselves in and out; finish and destroy wait for
 * them. task_end records a failure nobody will see (orphaned future). */
void weft_stream_task_begin(weft_stream *stream, weft_stream_task *task);
void weft_stream_task_end(weft_stream *stream, weft_stream_task *task,
                          weft_status orphaned_failure);
/* In a fork child, fails what the parent had queued, running or in flight,
 * tasks included, and starts afresh; elsewhere returns at once. */
void weft_stream_check_fork(weft_stream *stream);
/* The stream whose task the calling thread runs (NULL: none); set returns
 * the previous one. */
weft_stream *weft_stream_current_task(void);
weft_stream *weft_stream_set_current_task(weft_stream *stream);

/* Adds the time since t0 (weft_now) to the stream's wait total. */
void weft_stream_waited(weft_stream *stream, double t0);

/* Operations submitted from now on (until the next call) run once every
 * future is done (any context's, tasks' too); if one failed, they fail with
 * WEFT_ERR_DEPENDENCY naming its first cause, without running. n == 0 ends
 * the previous call's scope. */
weft_status weft_stream_wait_for(weft_stream *stream, weft_future *const *futures, size_t n);

/* Keeps the first failure nobody observed, for weft_stream_finish. */
void weft_stream_unreported(weft_stream *stream, weft_status status);

#endif
