/* The locks fork() must find free, in one registry and one order. Its prepare
 * handler takes them all, level by level, so that no other thread is inside
 * one while fork() copies the process; the parent gives them back; the child,
 * whose only thread is the one that forked, makes them anew (it does not own
 * them), then runs each member's child hook for what else its object keeps.
 * A thread may take a lock of a later level while it holds one of an earlier
 * level, never the reverse, and adds or removes no member while it holds any. */
#ifndef WEFT_FORK_REGISTRY_H
#define WEFT_FORK_REGISTRY_H

#include <pthread.h>

typedef enum weft_fork_level {
    WEFT_FORK_STREAMS, /* a stream's lock (exec/stream_fork.c) */
    WEFT_FORK_MODELS,  /* a context's placement (exec/placement.c): taken under a stream's */
    WEFT_FORK_WRAPS,   /* the overlapping wraps' list (mem/wraps.c): held while settling */
    WEFT_FORK_TABLES,  /* the handle table's, the error slots': taken under a stream's */
    WEFT_FORK_POOLS,   /* a pool's: taken under a stream's (weft_pool_block_begin) */
    WEFT_FORK_BUILDS,  /* a context's background builds (ops/expr_build.c): no lock inside */
    WEFT_FORK_LEAVES,  /* a context's own lock (notes, expression cache): takes none inside */
    WEFT_FORK_LEVELS
} weft_fork_level;

typedef struct weft_fork_member {
    pthread_mutex_t *lock;      /* NULL: a child hook alone */
    void (*child)(void *owner); /* NULL: the lock made anew is all */
    void *owner;
    weft_fork_level level;
    struct weft_fork_member *next;
} weft_fork_member;

/* The first add installs the handlers. m stays the caller's until removed. */
void weft_fork_add(weft_fork_member *m);
void weft_fork_remove(weft_fork_member *m);

#endif
