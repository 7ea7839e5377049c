#include "process.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static _Atomic pid_t process_id;
static pthread_once_t process_id_once = PTHREAD_ONCE_INIT;

static void process_id_renew(void)
{
    atomic_store(&process_id, getpid());
}

static void process_id_init(void)
{
    process_id_renew();
    pthread_atfork(NULL, NULL, process_id_renew);
}

pid_t weft_process_id(void)
{
    pthread_once(&process_id_once, process_id_init);
    return atomic_load_explicit(&process_id, memory_order_relaxed);
}
