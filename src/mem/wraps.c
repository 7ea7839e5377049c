#include "wraps.h"
#include "residency.h"
#include "../core/fork_registry.h"
#include "../core/interval_set.h"

#include <pthread.h>
#include <stdlib.h>

/* The live wraps of every context, by the memory they cover: creating,
 * freeing and settling a wrap visit only the wraps overlapping it, so many
 * live wraps cost a logarithm each, not a walk of all the others. Settling
 * holds the lock while it copies, so no wrap it reaches is destroyed
 * meanwhile. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static weft_interval_set wraps;

/* A fork child must not find the lock held by a thread it does not have
 * (a settle copying while another thread forked). */
static weft_fork_member fork_member = {.lock = &lock, .level = WEFT_FORK_WRAPS};
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void join_fork_registry(void)
{
    weft_fork_add(&fork_member);
}

static uintptr_t lo_of(const weft_array *a)
{
    return (uintptr_t)a->host;
}

static uintptr_t hi_of(const weft_array *a)
{
    return (uintptr_t)a->host + a->n * a->elem_size;
}

/* Wraps of one context over overlapping memory (a wrap is not its own). */
static int overlapping(const weft_array *a, const weft_array *b)
{
    return a != b && a->ctx == b->ctx && lo_of(a) < hi_of(b) && lo_of(b) < hi_of(a);
}

/* For each listed wrap w overlapping a: what to do with it. */
typedef struct around {
    weft_array *a;
    int (*with)(weft_array *w, struct around *around);
    weft_status status;
} around;

static int visit_overlapping(void *item, void *arg)
{
    around *r = arg;
    weft_array *w = item;
    return overlapping(r->a, w) ? r->with(w, r) : 0;
}

/* Under the lock: calls with(w) for each listed wrap w overlapping a until
 * one returns nonzero; returns that. */
static int each_overlapping(weft_array *a, int (*with)(weft_array *, around *), around *r)
{
    r->a = a;
    r->with = with;
    return weft_interval_visit(&wraps, lo_of(a), hi_of(a), visit_overlapping, r);
}

static int mark_both(weft_array *w, around *r)
{
    atomic_store(&r->a->overlaps, 1);
    atomic_store(&w->overlaps, 1);
    return 0;
}

static int found(weft_array *w, around *r)
{
    (void)w, (void)r;
    return 1;
}

void weft_wraps_add(weft_array *a)
{
    pthread_once(&fork_once, join_fork_registry);
    pthread_mutex_lock(&lock);
    around r;
    each_overlapping(a, mark_both, &r);
    /* Unlisted, it could not be settled for the others: it orders as
     * overlapping everything it overlaps, and settles itself only. */
    if (!weft_interval_add(&wraps, lo_of(a), hi_of(a), a)) atomic_store(&a->overlaps, 1);
    pthread_mutex_unlock(&lock);
}

/* A wrap the removed one alone overlapped is a plain array again: its
 * operations stop settling (each would bring every copy back to the host). */
static int unmark_if_alone(weft_array *w, around *r)
{
    around inner;
    if (!each_overlapping(w, found, &inner)) atomic_store(&w->overlaps, 0);
    (void)r;
    return 0;
}

void weft_wraps_remove(weft_array *a)
{
    pthread_mutex_lock(&lock);
    weft_interval_remove(&wraps, lo_of(a), a);
    around r;
    if (atomic_load(&a->overlaps)) each_overlapping(a, unmark_if_alone, &r);
    pthread_mutex_unlock(&lock);
}

/* The host holds a's only current copy afterwards. */
static weft_status to_host(weft_array *a)
{
    if (a->n == 0) return WEFT_OK;
    weft_status st = weft_mem_make_current(a, 0, 0, a->n);
    return st == WEFT_OK ? weft_mem_wrote(a, 0, 0, a->n) : st;
}

static int settle_one(weft_array *w, around *r)
{
    r->status = to_host(w);
    return r->status != WEFT_OK;
}

weft_status weft_wraps_settle(weft_array *a)
{
    pthread_mutex_lock(&lock);
    /* The others first: what one of them wrote reaches the host memory a
     * shares before a's own record says the host is current. */
    around r = {.status = WEFT_OK};
    each_overlapping(a, settle_one, &r);
    weft_status st = r.status == WEFT_OK ? to_host(a) : r.status;
    pthread_mutex_unlock(&lock);
    return st;
}
