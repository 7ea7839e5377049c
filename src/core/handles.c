#include "handles.h"
#include "error.h"
#include "fork_registry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* Every public call checks its handles here, so reading must not take a
 * lock every thread shares (two of the ten mutex pairs of a tiny
 * synchronous call were this one). Readers take none: writers, under the
 * mutex, make the sequence odd while they change a chain, and a reader that
 * saw it odd or changed reads again. A removed node is freed only when no
 * reader is walking (a reader counts itself in before it reads a chain, so
 * one that comes later cannot reach the node); otherwise it is kept for the
 * next add, so a reader racing the remove walks memory that is still a
 * node, and what it read is thrown away when the sequence moved. Every
 * access is sequentially consistent, which that argument needs (a writer's
 * unlink, then its look at the reader count; a reader's count, then its
 * look at the chain) and which costs a reader nothing on x86: its loads are
 * plain loads. */
typedef struct node {
    _Atomic(const void *) handle;
    _Atomic(struct node *) next;
    atomic_int kind;
} node;

/* Chains stay short for hundreds of thousands of live handles (each public
 * call walks one); a page of the table is touched only once a handle hashes
 * there. */
enum { BUCKETS = 1 << 16 };
static _Atomic(node *) buckets[BUCKETS];
static node *spare; /* removed nodes, for the next add; under lock */
static atomic_uint sequence;
static atomic_uint readers; /* walking a chain now */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* Handles are added and removed on any thread: a fork child must not find
 * the lock held by a thread it does not have. Taken under a stream's lock
 * (a future is registered as it is queued). */
static weft_fork_member fork_member = {.lock = &lock, .level = WEFT_FORK_TABLES};

static void fork_member_add(void)
{
    weft_fork_add(&fork_member);
}

void weft_handles_install_fork_handlers(void)
{
    pthread_once(&fork_once, fork_member_add);
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
    atomic_fetch_add(&sequence, 1);
}

static void write_end(void)
{
    atomic_fetch_add(&sequence, 1);
}

weft_status weft_handle_add(const void *handle, weft_handle_kind kind)
{
    weft_handles_install_fork_handlers();
    size_t b = bucket_of(handle);
    pthread_mutex_lock(&lock);
    node *n = spare;
    if (n)
        spare = atomic_load(&n->next);
    else
        n = malloc(sizeof *n);
    if (!n) {
        pthread_mutex_unlock(&lock);
        return weft_error_set(WEFT_ERR_NOMEM, "cannot register a handle");
    }
    write_begin();
    atomic_store(&n->handle, handle);
    atomic_store(&n->kind, (int)kind);
    atomic_store(&n->next, atomic_load(&buckets[b]));
    atomic_store(&buckets[b], n);
    write_end();
    pthread_mutex_unlock(&lock);
    return WEFT_OK;
}

/* Under lock. */
static void free_spares(void)
{
    while (spare) {
        node *next = atomic_load(&spare->next);
        free(spare);
        spare = next;
    }
}

int weft_handle_remove(const void *handle)
{
    size_t b = bucket_of(handle);
    pthread_mutex_lock(&lock);
    _Atomic(node *) *link = &buckets[b];
    for (node *p; (p = atomic_load(link)); link = &p->next) {
        if (atomic_load(&p->handle) != handle) continue;
        write_begin();
        atomic_store(link, atomic_load(&p->next));
        atomic_store(&p->handle, NULL);
        atomic_store(&p->next, spare);
        write_end();
        spare = p;
        if (atomic_load(&readers) == 0) free_spares(); /* no walk can reach them */
        pthread_mutex_unlock(&lock);
        return 1;
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

/* 1: the handle is in its chain; 0: it is not; -1: a writer moved nodes
 * meanwhile (a node removed and added again can even lead a walk in a
 * circle, so the walk looks at the sequence as it goes). */
static int walk(const void *handle, weft_handle_kind kind, size_t b, unsigned before)
{
    size_t steps = 0;
    for (node *p = atomic_load(&buckets[b]); p; p = atomic_load(&p->next)) {
        if (atomic_load(&p->handle) == handle)
            return kind == WEFT_HANDLE_ANY || atomic_load(&p->kind) == (int)kind;
        if (++steps % 256 == 0 && atomic_load(&sequence) != before) return -1;
    }
    return 0;
}

int weft_handle_live(const void *handle, weft_handle_kind kind)
{
    size_t b = bucket_of(handle);
    atomic_fetch_add(&readers, 1);
    for (;;) {
        unsigned before = atomic_load(&sequence);
        if (before & 1) continue;
        int live = walk(handle, kind, b, before);
        if (live >= 0 && atomic_load(&sequence) == before) {
            atomic_fetch_sub(&readers, 1);
            return live;
        }
    }
}

static const char *kind_name(weft_handle_kind kind)
{
    static const char *const names[] = {"handle",  "context", "array",
                                        "program", "future",  "CSV reader"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "handle";
}

weft_status weft_handle_check_free(const void *handle, weft_handle_kind kind, const char *call)
{
    RETURN_IF(!weft_handle_live(handle, kind), WEFT_ERR_STATE,
              "%s: %p is not a live %s (freed twice, or another kind of handle?)", call, handle,
              kind_name(kind));
    return WEFT_OK;
}
