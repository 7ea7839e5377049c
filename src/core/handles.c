#include "handles.h"
#include "error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* Every public call checks its handles here, so reading must not take a
 * lock every thread shares (two of the ten mutex pairs of a tiny
 * synchronous call were this one). Readers take none: writers, under the
 * mutex, make the sequence odd while they change a chain, and a reader that
 * saw it odd or changed reads again. Nodes are never returned to malloc but
 * kept for the next add, so a reader racing a remove walks memory that is
 * still a node; what it read is thrown away when the sequence moved. */
typedef struct node {
    _Atomic(const void *) handle;
    _Atomic(struct node *) next;
} node;

enum { BUCKETS = 4096 };
static _Atomic(node *) buckets[BUCKETS];
static node *spare; /* removed nodes, for the next add; under lock */
static atomic_uint sequence;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* Every public call checks its handle here, on any thread: a fork child
 * must not find the lock held by a thread it does not have. Taken under a
 * stream's lock (a future is registered as it is queued), so its prepare
 * handler must run after the streams' (exec/stream_fork.c installs it). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
}

static void fork_handlers_install(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void weft_handles_install_fork_handlers(void)
{
    pthread_once(&fork_once, fork_handlers_install);
}

static size_t bucket_of(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= 0x9e3779b97f4a7c15ull;
    return (size_t)(x >> 40) % BUCKETS;
}

static void write_begin(void)
{
    atomic_fetch_add_explicit(&sequence, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_end(void)
{
    atomic_fetch_add_explicit(&sequence, 1, memory_order_release);
}

weft_status weft_handle_add(const void *handle)
{
    weft_handles_install_fork_handlers();
    size_t b = bucket_of(handle);
    pthread_mutex_lock(&lock);
    node *n = spare;
    if (n)
        spare = atomic_load_explicit(&n->next, memory_order_relaxed);
    else
        n = malloc(sizeof *n);
    if (!n) {
        pthread_mutex_unlock(&lock);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot register a handle");
    }
    write_begin();
    atomic_store_explicit(&n->handle, handle, memory_order_relaxed);
    atomic_store_explicit(&n->next, atomic_load_explicit(&buckets[b], memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&buckets[b], n, memory_order_relaxed);
    write_end();
    pthread_mutex_unlock(&lock);
    return WEFT_OK;
}

int weft_handle_remove(const void *handle)
{
    size_t b = bucket_of(handle);
    pthread_mutex_lock(&lock);
    _Atomic(node *) *link = &buckets[b];
    for (node *p; (p = atomic_load_explicit(link, memory_order_relaxed)); link = &p->next) {
        if (atomic_load_explicit(&p->handle, memory_order_relaxed) != handle) continue;
        write_begin();
        atomic_store_explicit(link, atomic_load_explicit(&p->next, memory_order_relaxed),
                              memory_order_relaxed);
        atomic_store_explicit(&p->handle, NULL, memory_order_relaxed);
        atomic_store_explicit(&p->next, spare, memory_order_relaxed);
        write_end();
        spare = p;
        pthread_mutex_unlock(&lock);
        return 1;
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

/* 1: the handle is in its chain; 0: it is not; -1: a writer moved nodes
 * meanwhile (a node removed and added again can even lead a walk in a
 * circle, so the walk looks at the sequence as it goes). */
static int walk(const void *handle, size_t b, unsigned before)
{
    size_t steps = 0;
    for (node *p = atomic_load_explicit(&buckets[b], memory_order_relaxed); p;
         p = atomic_load_explicit(&p->next, memory_order_relaxed)) {
        if (atomic_load_explicit(&p->handle, memory_order_relaxed) == handle) return 1;
        if (++steps % 256 == 0 && atomic_load_explicit(&sequence, memory_order_relaxed) != before)
            return -1;
    }
    return 0;
}

int weft_handle_live(const void *handle)
{
    size_t b = bucket_of(handle);
    for (;;) {
        unsigned before = atomic_load_explicit(&sequence, memory_order_acquire);
        if (before & 1) continue;
        int live = walk(handle, b, before);
        atomic_thread_fence(memory_order_acquire);
        if (live >= 0 && atomic_load_explicit(&sequence, memory_order_relaxed) == before)
            return live;
    }
}
