/* Futures: a status that becomes known later, shared by whoever completes it
 * (the stream, a task) and the user who waits for it. */
#ifndef WEFT_FUTURE_H
#define WEFT_FUTURE_H

#include "weft.h"

/* Where a future reports what its waiters alone would not: the time callers
 * spent blocked in waits, and a failure nobody observed. The stream is one
 * (it embeds this first); the future knows nothing else of it. */
typedef struct weft_future_owner weft_future_owner;
struct weft_future_owner {
    void (*waited)(weft_future_owner *owner, double since);
    void (*unreported)(weft_future_owner *owner, weft_status status);
    /* Before a wait: in a fork child, fails what the parent left unfinished
     * (its threads are gone), so the wait ends. */
    void (*check_fork)(weft_future_owner *owner);
};

/* Owner lifetime, around the stream's, since the user may keep a future after
 * its context is freed: open before any future is created; close before the
 * stream is destroyed (its futures, those already made and any made
 * meanwhile, no longer reach the owner; returns once no call through it is in
 * progress); free once no future can be created for it any more. */
weft_status weft_future_owner_open(weft_future_owner *owner);
void weft_future_owner_close(weft_future_owner *owner);
void weft_future_owner_free(weft_future_owner *owner);

/* owner NULL, or never opened: a future that reports nowhere. */
weft_future *weft_future_create(int refs, weft_future_owner *owner);
/* A continuation: called once when the future completes, on the completing
 * thread, after waiters are woken. It must not block. */
typedef struct weft_future_callback weft_future_callback;
struct weft_future_callback {
    void (*fn)(weft_future_callback *callback, weft_status status);
    weft_future_callback *next;
};
/* Registers callback and returns 1, or returns 0 with *status when the future
 * is done already (the caller acts at once). */
int weft_future_then(weft_future *future, weft_future_callback *callback, weft_status *status);
/* Takes back the newest registered callback that match accepts, while the
 * future is not done: returns it (it will not be called), or NULL. */
weft_future_callback *weft_future_unthen(weft_future *future,
                                         int (*match)(const weft_future_callback *callback,
                                                      const void *key),
                                         const void *key);
/* WEFT_OK for a live future of owner that the user has not released;
 * otherwise the status and detail (naming `what`) for a bad one. owner
 * NULL: any context. */
weft_status weft_future_check(weft_future *future, const weft_future_owner *owner,
                              const char *what);
/* Returns 1 when the user already released the future: nobody will see the
 * status unless its owner keeps it for weft_ctx_finish. */
int weft_future_complete(weft_future *future, weft_status status, const char *detail);
/* The same, for a failure caused by another one down a chain of
 * dependencies: cause and cause_detail are that first failure's, which every
 * dependant passes on. */
int weft_future_complete_caused(weft_future *future, weft_status status, const char *detail,
                                weft_status cause, const char *cause_detail);
/* A done future's first cause (WEFT_OK when it succeeded) and a copy of its
 * detail (NULL: none; the caller frees it). */
void weft_future_cause_get(weft_future *future, weft_status *cause, char **detail);
/* WEFT_ERR_DEPENDENCY for work that did not run (`what`) because its
 * dependency after[index] failed, with that failure's first cause. */
weft_status weft_dependency_error(size_t index, weft_status cause, const char *cause_detail,
                                  const char *what);
/* What produces a future, for a waiter that can produce it itself: claim
 * returns 1 when the calling thread now owns running it (then run, after
 * which the future is done). Called with the future's lock held while it is
 * not done, so the producer is alive. A task sets it before anyone waits. */
typedef struct weft_future_producer weft_future_producer;
struct weft_future_producer {
    int (*claim)(weft_future_producer *producer);
    void (*run)(weft_future_producer *producer);
    /* Optional: 1 when the calling thread's wait could never end (a host_fn
     * waiting for an operation queued behind its own), 0 when it can end,
     * -1 when the producer cannot tell without a lock it may only try (ask
     * again); the same locking as claim. */
    int (*waits_forever)(weft_future_producer *producer);
};
void weft_future_set_producer(weft_future *future, weft_future_producer *producer);
/* What a thread is producing right now, innermost first (a task, and the
 * tasks it ran inline while waiting): a wait for one of them would wait for
 * itself, and fails with WEFT_ERR_STATE instead. Push before running the
 * producer, pop after. */
typedef struct weft_future_frame {
    weft_future *future;
    struct weft_future_frame *outer;
} weft_future_frame;
void weft_future_frame_push(weft_future_frame *frame, weft_future *future);
void weft_future_frame_pop(weft_future_frame *frame);
/* 1 when the calling thread is producing future (its frames): work that
 * must wait for it, on this thread, never starts. */
int weft_future_produced_here(const weft_future *future);
/* Drops a reference without the user-side bookkeeping of weft_future_release. */
void weft_future_drop(weft_future *future);

/* In a fork child: a future of an operation inherited from the parent, whose
 * lock a parent thread may have held at fork(), gets its lock and condition
 * made anew before the child completes it; weft_future_forked_globals does
 * the same for the locks all futures share (from the fork handlers). */
void weft_future_forked(weft_future *future);
void weft_future_forked_globals(void);

#endif
