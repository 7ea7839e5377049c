#include "platform_lock.h"

#include <pthread.h>

static pthread_mutex_t platform_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* Made anew in a fork child, where a parent thread creating or freeing a
 * context may have held it: what it guards there is the parent's OpenCL
 * runtime, which the child never calls (dev/cl/cl_common.h,
 * weft_cl_forked). Not taken before fork: its holder calls into OpenCL,
 * whose own fork handlers weft cannot order against. */
static void fork_child(void)
{
    pthread_mutex_init(&platform_lock, NULL);
}

static void fork_handler_install(void)
{
    pthread_atfork(NULL, NULL, fork_child);
}

void weft_platform_lock(void)
{
    pthread_once(&fork_once, fork_handler_install);
    pthread_mutex_lock(&platform_lock);
}

void weft_platform_unlock(void)
{
    pthread_mutex_unlock(&platform_lock);
}
