#include "handles.h"
#include "error.h"
#include "fork_registry.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct node {
    const void *handle;
    struct node *next;
} node;

enum { BUCKETS = 4096 };
static node *buckets[BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* Every public call checks its handle here, on any thread: a fork child
 * must not find the lock held by a thread it does not have. Taken under a
 * stream's lock (a future is registered as it is queued). */
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

weft_status weft_handle_add(const void *handle)
{
    node *n = malloc(sizeof *n);
    RETURN_IF(!n, WEFT_ERR_NOMEM, "cannot register a handle");
    n->handle = handle;
    weft_handles_install_fork_handlers();
    size_t b = bucket_of(handle);
    pthread_mutex_lock(&lock);
    n->next = buckets[b];
    buckets[b] = n;
    pthread_mutex_unlock(&lock);
    return WEFT_OK;
}

int weft_handle_remove(const void *handle)
{
    size_t b = bucket_of(handle);
    pthread_mutex_lock(&lock);
    for (node **p = &buckets[b]; *p; p = &(*p)->next) {
        if ((*p)->handle == handle) {
            node *gone = *p;
            *p = gone->next;
            pthread_mutex_unlock(&lock);
            free(gone);
            return 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

int weft_handle_live(const void *handle)
{
    size_t b = bucket_of(handle);
    pthread_mutex_lock(&lock);
    int live = 0;
    for (node *p = buckets[b]; p && !live; p = p->next)
        live = p->handle == handle;
    pthread_mutex_unlock(&lock);
    return live;
}

weft_status weft_handle_check_free(const void *handle, const char *call, const char *kind)
{
    RETURN_IF(!weft_handle_live(handle), WEFT_ERR_STATE, "%s: %p is not a live %s (freed twice?)",
              call, handle, kind);
    return WEFT_OK;
}
