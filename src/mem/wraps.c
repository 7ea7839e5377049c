#include "wraps.h"
#include "residency.h"
#include "../core/fork_registry.h"

#include <pthread.h>
#include <stdlib.h>

/* The live wraps of every context, in a list: only creating, freeing and
 * settling an overlapping wrap walk it. Settling holds the lock while it
 * copies, so no wrap it reaches is destroyed meanwhile. */
typedef struct wrap_node {
    weft_array *array;
    struct wrap_node *next;
} wrap_node;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static wrap_node *wraps;

/* A fork child must not find the lock held by a thread it does not have
 * (a settle copying while another thread forked). */
static weft_fork_member fork_member = {.lock = &lock, .level = WEFT_FORK_WRAPS};
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void join_fork_registry(void)
{
    weft_fork_add(&fork_member);
}

static int overlapping(const weft_array *a, const weft_array *b)
{
    const unsigned char *a_end = a->host + a->n * a->elem_size;
    const unsigned char *b_end = b->host + b->n * b->elem_size;
    return a != b && a->ctx == b->ctx && a->host < b_end && b->host < a_end;
}

void weft_wraps_add(weft_array *a)
{
    pthread_once(&fork_once, join_fork_registry);
    wrap_node *n = malloc(sizeof *n);
    pthread_mutex_lock(&lock);
    for (wrap_node *w = wraps; w; w = w->next)
        if (overlapping(a, w->array)) {
            atomic_store(&a->overlaps, 1);
            atomic_store(&w->array->overlaps, 1);
        }
    if (n) {
        *n = (wrap_node){a, wraps};
        wraps = n;
    } else {
        /* Unlisted, it could not be settled for the others: it orders as
         * overlapping everything it overlaps, and settles itself only. */
        atomic_store(&a->overlaps, 1);
    }
    pthread_mutex_unlock(&lock);
}

/* Under the lock: 1 when a listed wrap overlaps a. */
static int overlaps_any(const weft_array *a)
{
    for (const wrap_node *w = wraps; w; w = w->next)
        if (overlapping(a, w->array)) return 1;
    return 0;
}

void weft_wraps_remove(weft_array *a)
{
    pthread_mutex_lock(&lock);
    for (wrap_node **link = &wraps; *link; link = &(*link)->next)
        if ((*link)->array == a) {
            wrap_node *gone = *link;
            *link = gone->next;
            free(gone);
            break;
        }
    /* A wrap a alone overlapped is a plain array again: its operations stop
     * settling (each would bring every copy back to the host). */
    if (atomic_load(&a->overlaps))
        for (wrap_node *w = wraps; w; w = w->next)
            if (overlapping(a, w->array) && !overlaps_any(w->array))
                atomic_store(&w->array->overlaps, 0);
    pthread_mutex_unlock(&lock);
}

/* The host holds a's only current copy afterwards. */
static weft_status to_host(weft_array *a)
{
    if (a->n == 0) return WEFT_OK;
    weft_status st = weft_mem_make_current(a, 0, 0, a->n);
    return st == WEFT_OK ? weft_mem_wrote(a, 0, 0, a->n) : st;
}

weft_status weft_wraps_settle(weft_array *a)
{
    pthread_mutex_lock(&lock);
    weft_status st = WEFT_OK;
    /* The others first: what one of them wrote reaches the host memory a
     * shares before a's own record says the host is current. */
    for (wrap_node *w = wraps; w && st == WEFT_OK; w = w->next)
        if (overlapping(a, w->array)) st = to_host(w->array);
    if (st == WEFT_OK) st = to_host(a);
    pthread_mutex_unlock(&lock);
    return st;
}
