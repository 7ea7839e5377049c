/* Streams across fork(): the child sees each stream as it was between two
 * of its critical sections, never in one. A thread of the parent caught
 * mid-way (an operation taken off the in-flight list and not yet retired)
 * would leave the child an operation on no list whose arrays stay busy
 * forever, and freeing them would wait for it. The child then adopts each
 * stream (stream.c, adopt_after_fork). */
#include "future.h"
#include "stream.h"
#include "../core/error.h"
#include "../core/fork_registry.h"
#include "../core/handles.h"
#include "../core/pool.h"

#include <pthread.h>

static weft_fork_registry registry = WEFT_FORK_REGISTRY_INIT;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    weft_fork_registry_lock_all(&registry);
}

static void fork_parent(void)
{
    weft_fork_registry_unlock_all(&registry);
}

static void fork_child(void)
{
    weft_fork_registry_reinit_all(&registry);
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
    weft_fork_registry_add(&registry, &s->registered, &s->lock, s);
}

void weft_stream_fork_unregister(weft_stream *s)
{
    weft_fork_registry_remove(&registry, &s->registered);
}
