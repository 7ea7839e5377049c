/* How the pipeline's thread and an I/O thread (sink.c's writer, source.c's
 * reader) hand a buffer, or the word to stop, to each other: a flag changed
 * under their lock wakes whoever waits on their condition. */
#ifndef WEFT_CSV_HANDOFF_H
#define WEFT_CSV_HANDOFF_H

#include <pthread.h>

static inline void csv_handoff_set(pthread_mutex_t *lock, pthread_cond_t *cond, int *flag,
                                   int value)
{
    pthread_mutex_lock(lock);
    *flag = value;
    pthread_cond_broadcast(cond);
    pthread_mutex_unlock(lock);
}

/* Takes the lock and waits, holding it on return, while *flag is still value
 * and *stop is not set: an I/O thread waiting for its next buffer. */
static inline void csv_handoff_wait(pthread_mutex_t *lock, pthread_cond_t *cond, const int *flag,
                                    int value, const int *stop)
{
    pthread_mutex_lock(lock);
    while (*flag == value && !*stop)
        pthread_cond_wait(cond, lock);
}

#endif
