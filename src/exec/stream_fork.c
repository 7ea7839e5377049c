/* Streams across fork(): the child sees each stream as it was between two
 * of its critical sections, never in one. A thread of the parent caught
 * mid-way (an operation taken off the in-flight list and not yet retired)
 * would leave the child an operation on no list whose arrays stay busy
 * forever, and freeing them would wait for it. The child then adopts each
 * stream (stream.c, adopt_after_fork). */
#include "future.h"
#include "stream.h"
#include "../core/error.h"
#include "../core/handles.h"
#include "../core/pool.h"

#include <pthread.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static weft_stream *registry;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
    for (weft_stream *s = registry; s; s = s->next_registered)
        pthread_mutex_lock(&s->lock);
}

static void fork_parent(void)
{
    for (weft_stream *s = registry; s; s = s->next_registered)
        pthread_mutex_unlock(&s->lock);
    pthread_mutex_unlock(&registry_lock);
}

/* Made anew rather than unlocked: the child's thread is not their owner. */
static void fork_child(void)
{
    for (weft_stream *s = registry; s; s = s->next_registered)
        pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&registry_lock, NULL);
    weft_future_forked_globals();
}

/* Prepare handlers run in the reverse order of their installation, and a
 * thread holding a stream's lock may take a pool's (weft_pool_block_begin),
 * the handle registry's (a future is registered as it is queued) or the
 * error slots' (a thread's first error): those are installed first, so the
 * streams' locks are taken first, as every thread takes them. */
static void handlers_install(void)
{
    weft_pool_install_fork_handlers();
    weft_handles_install_fork_handlers();
    weft_error_install_fork_handlers();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void weft_stream_fork_register(weft_stream *s)
{
    pthread_once(&handlers_once, handlers_install);
    pthread_mutex_lock(&registry_lock);
    s->next_registered = registry;
    registry = s;
    pthread_mutex_unlock(&registry_lock);
}

void weft_stream_fork_unregister(weft_stream *s)
{
    pthread_mutex_lock(&registry_lock);
    for (weft_stream **p = &registry; *p; p = &(*p)->next_registered)
        if (*p == s) {
            *p = s->next_registered;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
}
