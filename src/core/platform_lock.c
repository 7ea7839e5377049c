#include "platform_lock.h"

#include <pthread.h>

static pthread_mutex_t platform_lock = PTHREAD_MUTEX_INITIALIZER;

void weft_platform_lock(void)
{
    pthread_mutex_lock(&platform_lock);
}

void weft_platform_unlock(void)
{
    pthread_mutex_unlock(&platform_lock);
}
