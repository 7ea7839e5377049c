/* Completion callbacks of public futures (weft_future_on_done).
 *
 * A future completes on whichever thread finished its work, and an
 * operation's future completes with its stream's lock held (stream.c,
 * retire). A user callback run there could not call weft on that context
 * without deadlocking, and a binding that must take its own lock first (a
 * Python callback takes the GIL) would invert the lock order with a thread
 * that holds it and submits. So the completion only queues a notice, and one
 * process-wide thread runs the callbacks with no weft lock held. It is not
 * the pool: a callback may drop the last reference to a context, whose free
 * joins the pool's workers. */
#include "../core/error.h"
#include "future.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

typedef struct notice notice;
struct notice {
    weft_future_callback callback; /* first: the future calls back through it */
    weft_future_done_fn fn;
    void *user;
    weft_status status;
    notice *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static notice *queue_head, *queue_tail;
static int notifier_started;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;

/* Runs on a completing thread, possibly under its stream's lock: queue_lock
 * is a leaf, held for nothing but the list. */
static void post(notice *n)
{
    n->next = NULL;
    pthread_mutex_lock(&queue_lock);
    if (queue_tail)
        queue_tail->next = n;
    else
        queue_head = n;
    queue_tail = n;
    pthread_cond_signal(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
}

static void future_done(weft_future_callback *callback, weft_status status)
{
    notice *n = (notice *)callback;
    n->status = status;
    post(n);
}

static void *notifier_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&queue_lock);
    for (;;) {
        while (!queue_head)
            pthread_cond_wait(&queue_cond, &queue_lock);
        notice *n = queue_head;
        queue_head = n->next;
        if (!queue_head) queue_tail = NULL;
        pthread_mutex_unlock(&queue_lock);
        n->fn(n->user, n->status);
        free(n);
        pthread_mutex_lock(&queue_lock);
    }
    return NULL;
}

/* The child has no notifier: notices of the parent's futures are dropped,
 * since those futures never complete there, and the queue starts empty with
 * a lock made anew. No prepare handler takes queue_lock: a stream's lock is
 * held around posts (stream_fork.c takes those first), and the child keeps
 * nothing of the queue a thread may have been changing. */
static void fork_child(void)
{
    pthread_mutex_init(&queue_lock, NULL);
    pthread_cond_init(&queue_cond, NULL);
    queue_head = queue_tail = NULL;
    notifier_started = 0;
}

static void fork_handlers_install(void)
{
    pthread_atfork(NULL, NULL, fork_child);
}

/* Started before the first registration, so a completion never has to. The
 * thread takes no signals: they belong to the program's own threads. */
static weft_status notifier_start(void)
{
    pthread_once(&fork_handlers_once, fork_handlers_install);
    pthread_mutex_lock(&queue_lock);
    int rc = 0;
    if (!notifier_started) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        rc = pthread_create(&thread, &attr, notifier_main, NULL);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        notifier_started = rc == 0;
    }
    pthread_mutex_unlock(&queue_lock);
    RETURN_IF(rc != 0, WEFT_ERR_THREAD,
              "weft_future_on_done: cannot start the thread that runs callbacks (error %d)", rc);
    return WEFT_OK;
}

weft_status weft_future_on_done(weft_future *future, weft_future_done_fn fn, void *user)
{
    RETURN_IF(!fn, WEFT_ERR_NULL, "weft_future_on_done: fn is NULL");
    RETURN_ON_ERROR(weft_future_check(future, NULL, "weft_future_on_done"));
    RETURN_ON_ERROR(notifier_start());
    notice *n = calloc(1, sizeof *n);
    RETURN_IF(!n, WEFT_ERR_NOMEM, "weft_future_on_done: cannot allocate the callback");
    n->callback.fn = future_done;
    n->fn = fn;
    n->user = user;
    weft_status status = WEFT_OK;
    if (!weft_future_then(future, &n->callback, &status)) future_done(&n->callback, status);
    return WEFT_OK;
}

static int notice_is(const weft_future_callback *callback, const void *key)
{
    const notice *n = (const notice *)callback, *k = key;
    return callback->fn == future_done && n->fn == k->fn && n->user == k->user;
}

weft_status weft_future_on_done_cancel(weft_future *future, weft_future_done_fn fn, void *user,
                                       int *cancelled)
{
    if (cancelled) *cancelled = 0;
    RETURN_IF(!fn || !cancelled, WEFT_ERR_NULL,
              "weft_future_on_done_cancel: fn or cancelled is NULL");
    RETURN_ON_ERROR(weft_future_check(future, NULL, "weft_future_on_done_cancel"));
    notice key = {.fn = fn, .user = user};
    weft_future_callback *taken = weft_future_unthen(future, notice_is, &key);
    free(taken); /* the notice it is the first member of */
    *cancelled = taken != NULL;
    return WEFT_OK;
}
