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

#include <pthread.h>

static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void futures_forked(void *unused)
{
    (void)unused;
    weft_future_forked_globals();
}

/* The futures' own locks are made anew in the child with the streams'. */
static weft_fork_member futures_member = {.child = futures_forked, .level = WEFT_FORK_STREAMS};

/* The table locks a thread may take under a stream's are registered now, so
 * that no first use of them under a stream's lock registers (the registry
 * is taken before the streams' locks at fork). */
static void handlers_install(void)
{
    weft_handles_install_fork_handlers();
    weft_error_install_fork_handlers();
    weft_fork_add(&futures_member);
}

void weft_stream_fork_register(weft_stream *s)
{
    pthread_once(&handlers_once, handlers_install);
    s->registered = (weft_fork_member){.lock = &s->lock, .owner = s, .level = WEFT_FORK_STREAMS};
    weft_fork_add(&s->registered);
}

void weft_stream_fork_unregister(weft_stream *s)
{
    weft_fork_remove(&s->registered);
}
