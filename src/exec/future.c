/* Futures: a status that becomes known later (future.h). */
#include "../core/clock.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "../core/pool.h"
#include "future.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct weft_future_link weft_future_link;

struct weft_future {
    atomic_int refs;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int observed;           /* the user saw the status (wait or status) */
    int user_released;      /* the user dropped their reference */
    weft_future_link *link; /* to where waits and an unobserved failure are reported */
    weft_status status;
    char *detail;                    /* the failing operation's weft_last_error() */
    weft_status cause;               /* the first failure down a chain of dependencies */
    char *cause_detail;              /* and its detail (NULL: detail is the cause's) */
    weft_future_callback *callbacks; /* newest first, until done */
    weft_future_producer *producer;  /* NULL: nothing a waiter could run */
};

/* The owner is freed with its context and the future when the user releases
 * it, in either order, so futures reach their owner through a link that
 * closing cuts (owner NULL). A call through the link counts itself in `calls`
 * before it reads the owner, so closing knows when nobody uses the owner any
 * more. The owner's struct is the stream's to lay out: links are found by
 * its address, in a list as short as the number of live contexts. */
struct weft_future_link {
    const weft_future_owner *key;       /* never read through */
    _Atomic(weft_future_owner *) owner; /* NULL once closed */
    atomic_int calls;
    atomic_int refs;        /* the owner's and one per future */
    pid_t pid;              /* a fork child cannot wait for calls of the parent's threads */
    weft_future_link *next; /* in links, until the owner is freed */
};

static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER; /* a leaf */
static weft_future_link *links;

/* With links_lock held. */
static weft_future_link **link_slot(const weft_future_owner *owner)
{
    weft_future_link **slot = &links;
    while (*slot && (*slot)->key != owner)
        slot = &(*slot)->next;
    return slot;
}

static void link_drop(weft_future_link *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1) free(l);
}

weft_status weft_future_owner_open(weft_future_owner *owner)
{
    weft_future_link *l = calloc(1, sizeof *l);
    RETURN_IF(!l, WEFT_ERR_NOMEM, "cannot allocate a context's link to its futures");
    atomic_init(&l->owner, owner);
    atomic_init(&l->calls, 0);
    atomic_init(&l->refs, 1);
    l->pid = getpid();
    l->key = owner;
    pthread_mutex_lock(&links_lock);
    l->next = links;
    links = l;
    pthread_mutex_unlock(&links_lock);
    return WEFT_OK;
}

void weft_future_owner_close(weft_future_owner *owner)
{
    pthread_mutex_lock(&links_lock);
    weft_future_link *l = *link_slot(owner);
    pthread_mutex_unlock(&links_lock);
    if (!l) return;
    atomic_store(&l->owner, NULL);
    while (atomic_load(&l->calls) > 0 && getpid() == l->pid)
        sched_yield(); /* a wait finishing its bookkeeping: a few instructions */
}

void weft_future_owner_free(weft_future_owner *owner)
{
    pthread_mutex_lock(&links_lock);
    weft_future_link **slot = link_slot(owner), *l = *slot;
    if (l) *slot = l->next;
    pthread_mutex_unlock(&links_lock);
    link_drop(l);
}

enum report { WAITED, UNREPORTED, CHECK_FORK };

/* Tells f's owner, unless its context was freed already. */
static void report(weft_future *f, enum report what, double since, weft_status status)
{
    weft_future_link *l = f->link;
    if (!l) return;
    atomic_fetch_add(&l->calls, 1);
    weft_future_owner *owner = atomic_load(&l->owner);
    if (owner && what == WAITED) owner->waited(owner, since);
    if (owner && what == UNREPORTED) owner->unreported(owner, status);
    if (owner && what == CHECK_FORK && owner->check_fork) owner->check_fork(owner);
    atomic_fetch_sub(&l->calls, 1);
}

/* weft_future_wait_any sleeps on one process-wide condition that every
 * completion signals, only while someone waits there. */
static pthread_mutex_t any_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t any_cond = PTHREAD_COND_INITIALIZER;
static atomic_int any_waiters;

weft_future *weft_future_create(int refs, weft_future_owner *owner)
{
    weft_future *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    if (weft_handle_add(f, WEFT_HANDLE_FUTURE) != WEFT_OK) {
        free(f);
        return NULL;
    }
    if (owner) {
        pthread_mutex_lock(&links_lock);
        f->link = *link_slot(owner);
        if (f->link) atomic_fetch_add(&f->link->refs, 1);
        pthread_mutex_unlock(&links_lock);
    }
    atomic_init(&f->refs, refs);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    return f;
}

void weft_future_forked(weft_future *f)
{
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
}

void weft_future_forked_globals(void)
{
    pthread_mutex_init(&links_lock, NULL);
    pthread_mutex_init(&any_lock, NULL);
    pthread_cond_init(&any_cond, NULL);
}

int weft_future_complete(weft_future *f, weft_status status, const char *detail)
{
    return weft_future_complete_caused(f, status, detail, status, NULL);
}

void weft_future_cause_get(weft_future *f, weft_status *cause, char **detail)
{
    pthread_mutex_lock(&f->lock);
    *cause = f->cause;
    const char *text = f->cause_detail ? f->cause_detail : f->detail;
    *detail = text ? strdup(text) : NULL;
    pthread_mutex_unlock(&f->lock);
}

int weft_future_complete_caused(weft_future *f, weft_status status, const char *detail,
                                weft_status cause, const char *cause_detail)
{
    pthread_mutex_lock(&f->lock);
    f->status = status;
    f->detail = (status != WEFT_OK && detail) ? strdup(detail) : NULL;
    f->cause = status != WEFT_OK ? cause : WEFT_OK;
    f->cause_detail = (status != WEFT_OK && cause_detail) ? strdup(cause_detail) : NULL;
    f->done = 1;
    int orphaned = f->user_released;
    weft_future_callback *list = f->callbacks, *ordered = NULL;
    f->callbacks = NULL;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    atomic_thread_fence(memory_order_seq_cst); /* done is visible before waiters are counted */
    if (atomic_load(&any_waiters) > 0) {
        pthread_mutex_lock(&any_lock);
        pthread_cond_broadcast(&any_cond);
        pthread_mutex_unlock(&any_lock);
    }
    while (list) { /* in registration order */
        weft_future_callback *next = list->next;
        list->next = ordered;
        ordered = list;
        list = next;
    }
    while (ordered) {
        weft_future_callback *next = ordered->next;
        ordered->fn(ordered, status);
        ordered = next;
    }
    return orphaned;
}

int weft_future_then(weft_future *f, weft_future_callback *cb, weft_status *status)
{
    pthread_mutex_lock(&f->lock);
    int registered = !f->done;
    if (registered) {
        cb->next = f->callbacks;
        f->callbacks = cb;
    } else {
        *status = f->status;
    }
    pthread_mutex_unlock(&f->lock);
    return registered;
}

weft_future_callback *weft_future_unthen(weft_future *f,
                                         int (*match)(const weft_future_callback *callback,
                                                      const void *key),
                                         const void *key)
{
    pthread_mutex_lock(&f->lock);
    weft_future_callback **slot = &f->callbacks; /* empty once done */
    while (*slot && !match(*slot, key))
        slot = &(*slot)->next;
    weft_future_callback *found = *slot;
    if (found) *slot = found->next;
    pthread_mutex_unlock(&f->lock);
    return found;
}

weft_status weft_future_check(weft_future *f, const weft_future_owner *owner, const char *what)
{
    RETURN_IF(!f, WEFT_ERR_NULL, "%s: a future is NULL", what);
    RETURN_IF(!weft_handle_live(f, WEFT_HANDLE_FUTURE), WEFT_ERR_STATE,
              "%s: %p is not a live future (released already?)", what, (void *)f);
    pthread_mutex_lock(&f->lock);
    int released = f->user_released;
    pthread_mutex_unlock(&f->lock);
    const weft_future_owner *mine = f->link ? atomic_load(&f->link->owner) : NULL;
    RETURN_IF(released, WEFT_ERR_STATE, "%s: the future was released", what);
    RETURN_IF(owner && mine != owner, WEFT_ERR_INVALID_ARG,
              "%s: the future belongs to another context", what);
    return WEFT_OK;
}

void weft_future_set_producer(weft_future *f, weft_future_producer *producer)
{
    f->producer = producer;
}

static int is_done(weft_future *f)
{
    pthread_mutex_lock(&f->lock);
    int done = f->done;
    pthread_mutex_unlock(&f->lock);
    return done;
}

/* Runs f's producer on this thread when nobody has started it and the
 * producer lets this thread (a pool thread waiting for a queued task). Safe
 * where running any other work would not be: the waiter needs exactly this. */
static int produce_here(weft_future *f)
{
    pthread_mutex_lock(&f->lock);
    weft_future_producer *p = f->done ? NULL : f->producer;
    int claimed = p && p->claim(p);
    pthread_mutex_unlock(&f->lock);
    if (claimed) p->run(p);
    return claimed;
}

/* A pool thread (a task that waits) runs the awaited task itself when it is
 * still queued; otherwise it gives up its slot while it sleeps, so another
 * worker runs meanwhile. It runs no other task on its own stack: one of them
 * could wait for something the waiting task does next. */
static void await_done(weft_future *f)
{
    if (is_done(f)) return;
    double t0 = weft_now();
    if (produce_here(f) && is_done(f)) return;
    weft_pool_block_begin();
    pthread_mutex_lock(&f->lock);
    while (!f->done)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
    weft_pool_block_end();
    report(f, WAITED, t0, WEFT_OK);
}

/* With the future done: its status, which the user has now seen. */
static weft_status observe(weft_future *f)
{
    pthread_mutex_lock(&f->lock);
    weft_status status = f->status;
    f->observed = 1;
    pthread_mutex_unlock(&f->lock);
    if (status != WEFT_OK) weft_error_copy(f->detail ? f->detail : weft_status_str(status));
    return status;
}

static _Thread_local weft_future_frame *producing;
static int produced_here(const weft_future *f);

void weft_future_frame_push(weft_future_frame *frame, weft_future *future)
{
    frame->future = future;
    frame->outer = producing;
    producing = frame;
}

void weft_future_frame_pop(weft_future_frame *frame)
{
    producing = frame->outer;
}

int weft_future_produced_here(const weft_future *f)
{
    return produced_here(f);
}

static int produced_here(const weft_future *f)
{
    for (const weft_future_frame *frame = producing; frame; frame = frame->outer)
        if (frame->future == f) return 1;
    return 0;
}

static weft_status refuse_own(const char *what, size_t index)
{
    return weft_error_set(WEFT_ERR_STATE,
                          "%s: future %zu is the calling task's own (or that of a task it is "
                          "running): the wait could never end",
                          what, index);
}

/* 1 when the calling thread runs for an operation (a host_fn) that f's
 * operation is queued behind: waiting for f could never end. */
static int never_ends(weft_future *f)
{
    int forever;
    for (;;) { /* "cannot tell": its lock was busy for a moment */
        pthread_mutex_lock(&f->lock);
        weft_future_producer *p = f->done ? NULL : f->producer;
        forever = p && p->waits_forever ? p->waits_forever(p) : 0;
        pthread_mutex_unlock(&f->lock);
        if (forever >= 0) return forever;
        sched_yield();
    }
}

static weft_status refuse_behind(const char *what, size_t index)
{
    return weft_error_set(WEFT_ERR_STATE,
                          "%s: future %zu is of an operation queued behind the running one this "
                          "thread works for (a host_fn): the wait could never end",
                          what, index);
}

weft_status weft_future_wait(weft_future *f)
{
    RETURN_IF(!f, WEFT_ERR_NULL, "weft_future_wait: future is NULL");
    RETURN_IF(!weft_handle_live(f, WEFT_HANDLE_FUTURE), WEFT_ERR_STATE,
              "weft_future_wait: not a live future");
    RETURN_ON_ERROR(weft_future_check(f, NULL, "weft_future_wait"));
    if (produced_here(f)) return refuse_own("weft_future_wait", 0);
    if (never_ends(f)) return refuse_behind("weft_future_wait", 0);
    report(f, CHECK_FORK, 0, WEFT_OK);
    await_done(f);
    return observe(f);
}

/* A future the calling thread produces is an error (any: only when every
 * one is: another may still end the wait). */
static weft_status check_all(weft_future *const *futures, size_t n, const char *what, int any)
{
    RETURN_IF(n > 0 && !futures, WEFT_ERR_NULL, "%s: futures is NULL with n = %zu", what, n);
    size_t own = 0, first_own = 0, behind = 0, first_behind = 0;
    for (size_t i = 0; i < n; i++) {
        RETURN_ON_ERROR(weft_future_check(futures[i], NULL, what));
        if (produced_here(futures[i])) {
            if (own++ == 0) first_own = i;
        } else if (never_ends(futures[i]) && behind++ == 0) {
            first_behind = i;
        }
    }
    if (own + behind > 0 && (!any || own + behind == n))
        return own ? refuse_own(what, first_own) : refuse_behind(what, first_behind);
    return WEFT_OK;
}

weft_status weft_future_wait_all(weft_future *const *futures, size_t n)
{
    RETURN_ON_ERROR(check_all(futures, n, "weft_future_wait_all", 0));
    weft_status first = WEFT_OK;
    char *detail = NULL;
    for (size_t i = 0; i < n; i++) {
        await_done(futures[i]);
        weft_status st = observe(futures[i]);
        if (st != WEFT_OK && first == WEFT_OK) {
            first = st;
            detail = strdup(weft_last_error());
        }
    }
    if (first != WEFT_OK) weft_error_copy(detail ? detail : weft_status_str(first));
    free(detail);
    return first;
}

static int first_done(weft_future *const *futures, size_t n, size_t *index)
{
    for (size_t i = 0; i < n; i++)
        if (is_done(futures[i])) {
            *index = i;
            return 1;
        }
    return 0;
}

weft_status weft_future_wait_any(weft_future *const *futures, size_t n, size_t *index)
{
    if (index) *index = (size_t)-1;
    RETURN_IF(!index, WEFT_ERR_NULL, "weft_future_wait_any: index is NULL");
    RETURN_IF(n == 0, WEFT_ERR_INVALID_ARG, "weft_future_wait_any: no futures to wait for");
    RETURN_ON_ERROR(check_all(futures, n, "weft_future_wait_any", 1));
    size_t found = 0;
    double t0 = weft_now();
    for (size_t i = 0; i < n && !first_done(futures, n, &found); i++)
        produce_here(futures[i]);
    while (!first_done(futures, n, &found)) {
        weft_pool_block_begin();
        atomic_fetch_add(&any_waiters, 1);
        atomic_thread_fence(memory_order_seq_cst);
        pthread_mutex_lock(&any_lock);
        if (!first_done(futures, n, &found)) pthread_cond_wait(&any_cond, &any_lock);
        pthread_mutex_unlock(&any_lock);
        atomic_fetch_sub(&any_waiters, 1);
        weft_pool_block_end();
    }
    report(futures[found], WAITED, t0, WEFT_OK);
    *index = found;
    return observe(futures[found]);
}

weft_status weft_dependency_error(size_t index, weft_status cause, const char *cause_detail,
                                  const char *what)
{
    return weft_error_set(WEFT_ERR_DEPENDENCY,
                          "%s: its dependency after[%zu] failed; first cause: %s", what, index,
                          cause_detail ? cause_detail : weft_status_str(cause));
}

weft_status weft_future_first_cause(weft_future *f, weft_status *cause)
{
    RETURN_IF(!cause, WEFT_ERR_NULL, "weft_future_first_cause: cause is NULL");
    RETURN_ON_ERROR(weft_future_check(f, NULL, "weft_future_first_cause"));
    pthread_mutex_lock(&f->lock);
    int done = f->done;
    *cause = f->cause;
    pthread_mutex_unlock(&f->lock);
    RETURN_IF(!done, WEFT_ERR_STATE, "weft_future_first_cause: the future is not done yet");
    return WEFT_OK;
}

weft_status weft_future_status(weft_future *f, weft_future_state *state, weft_status *result)
{
    RETURN_IF(!f || !state, WEFT_ERR_NULL, "weft_future_status: future or state is NULL");
    RETURN_IF(!weft_handle_live(f, WEFT_HANDLE_FUTURE), WEFT_ERR_STATE,
              "weft_future_status: %p is not a live future (released already?)", (void *)f);
    pthread_mutex_lock(&f->lock);
    if (f->user_released) { /* the operation still holds it, the caller no longer does */
        pthread_mutex_unlock(&f->lock);
        return weft_error_set(WEFT_ERR_STATE, "weft_future_status: the future was released");
    }
    *state = f->done ? WEFT_FUTURE_DONE : WEFT_FUTURE_PENDING;
    if (result) *result = f->done ? f->status : WEFT_OK;
    if (f->done && result) f->observed = 1;
    pthread_mutex_unlock(&f->lock);
    return WEFT_OK;
}

/* The completer's own reference is dropped with weft_future_drop. */
weft_status weft_future_release(weft_future *f)
{
    if (!f) return WEFT_OK;
    RETURN_IF(!weft_handle_live(f, WEFT_HANDLE_FUTURE), WEFT_ERR_STATE,
              "weft_future_release: %p is not a live future (released twice?)", (void *)f);
    pthread_mutex_lock(&f->lock);
    if (f->user_released) {
        pthread_mutex_unlock(&f->lock);
        return weft_error_set(WEFT_ERR_STATE, "weft_future_release: future released twice");
    }
    f->user_released = 1;
    weft_status unseen = f->done && !f->observed ? f->status : WEFT_OK;
    pthread_mutex_unlock(&f->lock);
    if (unseen != WEFT_OK) report(f, UNREPORTED, 0, unseen);
    weft_future_drop(f);
    return WEFT_OK;
}

void weft_future_drop(weft_future *f)
{
    if (atomic_fetch_sub(&f->refs, 1) != 1) return;
    weft_handle_remove(f);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    link_drop(f->link);
    free(f->detail);
    free(f->cause_detail);
    free(f);
}
