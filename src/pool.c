#include "pool.h"
#include "thread_count.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct pool_job {
    weft_range_fn fn;
    void *arg;
    size_t n, grain;
    atomic_size_t next; /* first index not yet handed out */
    int joined;         /* workers that entered the job (under pool->lock) */
    int max_joined;
    int active;       /* workers still inside it (under pool->lock) */
    int in_operation; /* the caller runs an operation: so do the workers, for it */
} pool_job;

struct weft_pool {
    pthread_mutex_t lock;
    pthread_cond_t work_cond; /* a job was posted, or stop */
    pthread_cond_t done_cond; /* a worker left a job */
    pthread_t *workers;
    int threads; /* width including the caller */
    int started; /* workers running */
    int stop;
    int busy; /* a parallel_for owns the pool */
    unsigned long generation;
    pool_job *job;
    weft_pool *next_registered;
};

static _Thread_local int in_task;
static _Thread_local int in_operation;

int weft_pool_in_operation(void)
{
    return in_operation;
}

int weft_pool_enter_operation(int entering)
{
    int before = in_operation;
    in_operation = entering;
    return before;
}

/* Registry of live pools, so the fork handlers can reach them all. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static weft_pool *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
    for (weft_pool *p = registry; p; p = p->next_registered)
        pthread_mutex_lock(&p->lock);
}

static void atfork_parent(void)
{
    for (weft_pool *p = registry; p; p = p->next_registered)
        pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&registry_lock);
}

/* The child has only the forking thread: workers are gone, so forget them and
 * let the next parallel_for start new ones. Their thread ids are not joinable. */
static void atfork_child(void)
{
    for (weft_pool *p = registry; p; p = p->next_registered) {
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->work_cond, NULL);
        pthread_cond_init(&p->done_cond, NULL);
        p->started = 0;
        p->busy = 0;
        p->job = NULL;
        p->stop = 0;
    }
    pthread_mutex_init(&registry_lock, NULL);
}

static void atfork_register(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int weft_pool_default_threads(void)
{
    return weft_thread_count(0, getenv("WEFT_NUM_THREADS"), NULL, 0);
}

weft_pool *weft_pool_create(int threads)
{
    pthread_once(&atfork_once, atfork_register);
    weft_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->threads = threads > 0 ? threads : weft_pool_default_threads();
    pool->workers = calloc((size_t)pool->threads, sizeof *pool->workers);
    if (!pool->workers) {
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_cond, NULL);
    pthread_cond_init(&pool->done_cond, NULL);
    pthread_mutex_lock(&registry_lock);
    pool->next_registered = registry;
    registry = pool;
    pthread_mutex_unlock(&registry_lock);
    return pool;
}

static void run_chunks(pool_job *job)
{
    int outer = in_task, outer_op = in_operation;
    in_task = 1;
    in_operation = job->in_operation;
    for (;;) {
        size_t begin = atomic_fetch_add_explicit(&job->next, job->grain, memory_order_relaxed);
        if (begin >= job->n) break;
        size_t end = job->n - begin < job->grain ? job->n : begin + job->grain;
        job->fn(job->arg, begin, end);
    }
    in_task = outer;
    in_operation = outer_op;
}

static void *worker_main(void *arg)
{
    weft_pool *pool = arg;
    /* A new worker has joined no job yet: the one being posted while it
     * starts (generation already advanced) is its first. */
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stop && (pool->job == NULL || pool->generation == seen))
            pthread_cond_wait(&pool->work_cond, &pool->lock);
        if (pool->stop) break;
        seen = pool->generation;
        pool_job *job = pool->job;
        if (job->joined >= job->max_joined) continue;
        job->joined++;
        job->active++;
        pthread_mutex_unlock(&pool->lock);
        run_chunks(job);
        pthread_mutex_lock(&pool->lock);
        if (--job->active == 0) pthread_cond_signal(&pool->done_cond);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* Called with the lock held. A worker that cannot start is not fatal: the
 * pool just runs narrower. */
static void start_workers(weft_pool *pool)
{
    while (pool->started < pool->threads - 1) {
        if (pthread_create(&pool->workers[pool->started], NULL, worker_main, pool) != 0) break;
        pool->started++;
    }
}

void weft_pool_parallel_for(weft_pool *pool, size_t n, size_t grain, int width, weft_range_fn fn,
                            void *arg)
{
    if (n == 0) return;
    if (grain == 0) grain = 1;
    if (width <= 0 || (pool && width > pool->threads)) width = pool ? pool->threads : 1;
    pool_job job = {.fn = fn,
                    .arg = arg,
                    .n = n,
                    .grain = grain,
                    .max_joined = width - 1,
                    .in_operation = in_operation};
    atomic_init(&job.next, 0);
    if (!pool || in_task || width == 1 || n <= grain) {
        run_chunks(&job);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    if (pool->busy) { /* another thread owns the workers: do the work here */
        pthread_mutex_unlock(&pool->lock);
        run_chunks(&job);
        return;
    }
    pool->busy = 1;
    start_workers(pool);
    pool->job = &job;
    pool->generation++;
    pthread_cond_broadcast(&pool->work_cond);
    pthread_mutex_unlock(&pool->lock);

    run_chunks(&job);

    pthread_mutex_lock(&pool->lock);
    pool->job = NULL; /* late workers must not join a job that is ending */
    while (job.active > 0)
        pthread_cond_wait(&pool->done_cond, &pool->lock);
    pool->busy = 0;
    pthread_mutex_unlock(&pool->lock);
}

int weft_pool_threads(const weft_pool *pool)
{
    return pool ? pool->threads : 1;
}

int weft_pool_in_task(void)
{
    return in_task;
}

void weft_pool_free(weft_pool *pool)
{
    if (!pool) return;
    pthread_mutex_lock(&registry_lock);
    for (weft_pool **p = &registry; *p; p = &(*p)->next_registered) {
        if (*p == pool) {
            *p = pool->next_registered;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);

    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->work_cond);
    int started = pool->started;
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < started; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->work_cond);
    pthread_cond_destroy(&pool->done_cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}
