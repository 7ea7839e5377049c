/* Objects, each guarded by its own mutex, that fork() must find with every
 * one of those mutexes free: the prepare handler takes the registry's lock,
 * then each member's, so that no other thread is inside one while fork()
 * copies the process; the parent gives them back; the child, whose only
 * thread is the one that forked, makes them anew (it does not own them). */
#ifndef WEFT_FORK_REGISTRY_H
#define WEFT_FORK_REGISTRY_H

#include <pthread.h>

typedef struct weft_fork_member {
    pthread_mutex_t *lock;
    void *owner; /* the object, for what a child handler resets beyond the lock */
    struct weft_fork_member *next;
} weft_fork_member;

typedef struct weft_fork_registry {
    pthread_mutex_t lock;
    weft_fork_member *first;
} weft_fork_registry;

#define WEFT_FORK_REGISTRY_INIT                                                                    \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, NULL                                                            \
    }

void weft_fork_registry_add(weft_fork_registry *r, weft_fork_member *m, pthread_mutex_t *lock,
                            void *owner);
void weft_fork_registry_remove(weft_fork_registry *r, weft_fork_member *m);

/* The parts of pthread_atfork's prepare, parent and child handlers. */
void weft_fork_registry_lock_all(weft_fork_registry *r);
void weft_fork_registry_unlock_all(weft_fork_registry *r);
void weft_fork_registry_reinit_all(weft_fork_registry *r);

#endif
