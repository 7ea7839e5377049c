#include "fork_registry.h"

void weft_fork_registry_add(weft_fork_registry *r, weft_fork_member *m, pthread_mutex_t *lock,
                            void *owner)
{
    m->lock = lock;
    m->owner = owner;
    pthread_mutex_lock(&r->lock);
    m->next = r->first;
    r->first = m;
    pthread_mutex_unlock(&r->lock);
}

void weft_fork_registry_remove(weft_fork_registry *r, weft_fork_member *m)
{
    pthread_mutex_lock(&r->lock);
    for (weft_fork_member **p = &r->first; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    pthread_mutex_unlock(&r->lock);
}

void weft_fork_registry_lock_all(weft_fork_registry *r)
{
    pthread_mutex_lock(&r->lock);
    for (weft_fork_member *m = r->first; m; m = m->next)
        pthread_mutex_lock(m->lock);
}

void weft_fork_registry_unlock_all(weft_fork_registry *r)
{
    for (weft_fork_member *m = r->first; m; m = m->next)
        pthread_mutex_unlock(m->lock);
    pthread_mutex_unlock(&r->lock);
}

void weft_fork_registry_reinit_all(weft_fork_registry *r)
{
    for (weft_fork_member *m = r->first; m; m = m->next)
        pthread_mutex_init(m->lock, NULL);
    pthread_mutex_init(&r->lock, NULL);
}
