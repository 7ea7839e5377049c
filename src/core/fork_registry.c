#include "fork_registry.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static weft_fork_member *levels[WEFT_FORK_LEVELS];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

/* fn on every member, level by level (from the last level when backwards). */
static void each_member(void (*fn)(weft_fork_member *m), int backwards)
{
    for (int k = 0; k < WEFT_FORK_LEVELS; k++) {
        int l = backwards ? WEFT_FORK_LEVELS - 1 - k : k;
        for (weft_fork_member *m = levels[l]; m; m = m->next)
            fn(m);
    }
}

static void lock(weft_fork_member *m)
{
    if (m->lock) pthread_mutex_lock(m->lock);
}

static void unlock(weft_fork_member *m)
{
    if (m->lock) pthread_mutex_unlock(m->lock);
}

static void make_anew(weft_fork_member *m)
{
    if (m->lock) pthread_mutex_init(m->lock, NULL);
}

static void run_child_hook(weft_fork_member *m)
{
    if (m->child) m->child(m->owner);
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
    each_member(lock, 0);
}

static void fork_parent(void)
{
    each_member(unlock, 1);
    pthread_mutex_unlock(&registry_lock);
}

static void fork_child(void)
{
    each_member(make_anew, 0);
    pthread_mutex_init(&registry_lock, NULL);
    each_member(run_child_hook, 0);
}

static void handlers_install(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void weft_fork_add(weft_fork_member *m)
{
    pthread_once(&handlers_once, handlers_install);
    pthread_mutex_lock(&registry_lock);
    m->next = levels[m->level];
    levels[m->level] = m;
    pthread_mutex_unlock(&registry_lock);
}

void weft_fork_remove(weft_fork_member *m)
{
    pthread_mutex_lock(&registry_lock);
    for (weft_fork_member **p = &levels[m->level]; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
}
