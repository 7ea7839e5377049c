#include "pool.h"
#include "clock.h"
#include "fork_registry.h"
#include "thread_count.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Workers beyond the width, started only to stand in for threads blocked in
 * waits; the cap bounds what a pathological chain of waits can start. */
enum { SPARE_WORKERS = 64 };
#define SPIN_SECONDS 10e-6
#define FORK_GIVE_UP 1e-3

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

typedef struct pool_job {
    weft_pool_fn fn;
    void *arg;
    size_t end, grain;
    atomic_size_t next; /* first index not yet handed out */
    int joined;         /* workers that entered the job (under pool->lock) */
    int max_joined;
    int active;               /* workers still inside it (under pool->lock) */
    const void *in_operation; /* the caller runs this operation: so do the workers, for it */
    int user;                 /* obeys the throttle */
    struct pool_job *next_open;
} pool_job;

struct weft_pool {
    pthread_mutex_t lock;
    pthread_cond_t work_cond; /* work was posted, a slot freed, or stop */
    pthread_cond_t done_cond; /* a worker left a job */
    pthread_t *workers;
    int max_workers, nworkers;
    int threads;          /* width including the caller */
    int idle;             /* workers asleep on work_cond */
    int wakes;            /* of those, already signalled */
    int starting;         /* created, not yet looking for work */
    int running;          /* threads holding a slot */
    atomic_int throttled; /* changed without the lock; read with it */
    int stop;
    pool_job *open; /* parallel_for jobs workers may join */
    weft_pool_item *head, *tail;
    _Atomic double fork_seconds; /* 0 until measured */
    atomic_uint posts;           /* items and jobs posted so far: what idle workers watch */
    weft_fork_member registered;
};

static _Thread_local int in_task;
static _Thread_local const void *in_operation;
static _Thread_local weft_pool *slot_pool; /* whose slot this thread holds */
static _Thread_local int finishing;        /* posts it may keep for itself */
static _Thread_local int taken_depth;      /* items it runs for a wait (weft_pool_take) */

int weft_pool_finishing(int on)
{
    int before = finishing;
    finishing = on;
    return before;
}

const void *weft_pool_in_operation(void)
{
    return in_operation;
}

const void *weft_pool_enter_operation(const void *entering)
{
    const void *before = in_operation;
    in_operation = entering;
    return before;
}

/* The child has only the forking thread: workers are gone, so forget them and
 * let the next post or parallel_for start new ones. Their thread ids are not
 * joinable. The pool's lock is made anew by the fork registry. */
static void forget_workers(void *pool)
{
    weft_pool *p = pool;
    pthread_cond_init(&p->work_cond, NULL);
    pthread_cond_init(&p->done_cond, NULL);
    p->nworkers = p->idle = p->wakes = p->starting = 0;
    p->running = p->stop = 0;
    p->open = NULL;
    slot_pool = NULL; /* the forking thread's slot, if any, was in one of them */
}

int weft_pool_default_threads(void)
{
    return weft_thread_count(0, getenv("WEFT_NUM_THREADS"), NULL, 0);
}

weft_pool *weft_pool_create(int threads)
{
    weft_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->threads = threads > 0 ? threads : weft_pool_default_threads();
    pool->max_workers = pool->threads + SPARE_WORKERS;
    pool->workers = calloc((size_t)pool->max_workers, sizeof *pool->workers);
    if (!pool->workers) {
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_cond, NULL);
    pthread_cond_init(&pool->done_cond, NULL);
    pool->registered = (weft_fork_member){
        .lock = &pool->lock, .child = forget_workers, .owner = pool, .level = WEFT_FORK_POOLS};
    weft_fork_add(&pool->registered);
    return pool;
}

static void run_chunks(pool_job *job)
{
    int outer = in_task;
    const void *outer_op = in_operation;
    in_task = 1;
    in_operation = job->in_operation;
    for (;;) {
        size_t begin = atomic_fetch_add_explicit(&job->next, job->grain, memory_order_relaxed);
        if (begin >= job->end) break;
        size_t end = job->end - begin < job->grain ? job->end : begin + job->grain;
        job->fn(job->arg, begin, end);
    }
    in_task = outer;
    in_operation = outer_op;
}

/* Items are not chunks of anything: a task may issue its own parallel_for. */
static void run_item(weft_pool_item *item)
{
    int outer = in_task;
    const void *outer_op = in_operation;
    in_task = 0;
    in_operation = NULL;
    item->run(item);
    in_task = outer;
    in_operation = outer_op;
}

/* The rest is called with pool->lock held. */

static int width_for(const weft_pool *pool, int user)
{
    return user && atomic_load_explicit(&pool->throttled, memory_order_relaxed) > 0 ? 1
                                                                                    : pool->threads;
}

static pool_job *joinable(weft_pool *pool)
{
    for (pool_job *j = pool->open; j; j = j->next_open)
        if (j->joined < j->max_joined && pool->running < width_for(pool, j->user) &&
            atomic_load_explicit(&j->next, memory_order_relaxed) < j->end)
            return j;
    return NULL;
}

static int item_ready(const weft_pool *pool)
{
    return pool->head != NULL && pool->running < width_for(pool, 1);
}

static void unlink_item(weft_pool *pool, weft_pool_item *item)
{
    if (item->prev)
        item->prev->next = item->next;
    else
        pool->head = item->next;
    if (item->next)
        item->next->prev = item->prev;
    else
        pool->tail = item->prev;
    item->next = item->prev = NULL;
    item->queued = 0;
}

static weft_pool_item *pop_item(weft_pool *pool)
{
    weft_pool_item *item = pool->head;
    unlink_item(pool, item);
    return item;
}

static void *worker_main(void *arg);

/* Wakes (or starts) up to `want` workers for work that is waiting. A worker
 * that cannot start is not fatal: the pool just runs narrower. */
static void wake_workers(weft_pool *pool, int want)
{
    while (want-- > 0 && !pool->stop) {
        if (pool->idle > pool->wakes) {
            pool->wakes++;
            pthread_cond_signal(&pool->work_cond);
        } else if (pool->running + pool->starting < pool->threads &&
                   pool->nworkers < pool->max_workers &&
                   pthread_create(&pool->workers[pool->nworkers], NULL, worker_main, pool) == 0) {
            pool->nworkers++;
            pool->starting++;
        } else {
            return;
        }
    }
}

static void take_slot(weft_pool *pool)
{
    pool->running++;
    slot_pool = pool;
}

static void give_slot(weft_pool *pool)
{
    pool->running--;
    slot_pool = NULL;
    if (pool->head || pool->open) wake_workers(pool, 1);
}

/* Called with the lock held, and returns with it. Work that follows work
 * closely (a submit loop, a chain of tasks) finds the worker awake: a few
 * microseconds of watching cost less than a sleep and a wake-up. */
static void spin_for_work(weft_pool *pool)
{
    unsigned seen = atomic_load_explicit(&pool->posts, memory_order_relaxed);
    pthread_mutex_unlock(&pool->lock);
    double until = weft_now() + SPIN_SECONDS;
    int posted = 0;
    while (!posted && weft_now() < until) {
        for (int i = 0; i < 64; i++)
            cpu_relax();
        posted = atomic_load_explicit(&pool->posts, memory_order_relaxed) != seen;
    }
    pthread_mutex_lock(&pool->lock);
}

static void *worker_main(void *arg)
{
    weft_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    pool->starting--;
    for (;;) {
        pool_job *job = NULL;
        weft_pool_item *item = NULL;
        int spun = 0; /* once per idle spell; then everything is checked again */
        while (!pool->stop) {
            job = joinable(pool);
            if (!job && item_ready(pool)) item = pop_item(pool);
            if (job || item) break;
            if (!spun) {
                spun = 1;
                spin_for_work(pool);
                continue;
            }
            pool->idle++;
            pthread_cond_wait(&pool->work_cond, &pool->lock);
            pool->idle--;
            if (pool->wakes > 0) pool->wakes--;
        }
        if (pool->stop) break;
        take_slot(pool);
        if (job) {
            job->joined++;
            job->active++;
            pthread_mutex_unlock(&pool->lock);
            run_chunks(job);
            pthread_mutex_lock(&pool->lock);
            if (--job->active == 0) pthread_cond_broadcast(&pool->done_cond);
        } else {
            pthread_mutex_unlock(&pool->lock);
            run_item(item);
            pthread_mutex_lock(&pool->lock);
        }
        pool->running--;
        slot_pool = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* The caller runs chunks too, in its own slot (a thread outside the pool takes
 * one even beyond the width: it runs its own work either way). */
static void run_job(weft_pool *pool, pool_job *job, size_t begin)
{
    atomic_init(&job->next, begin);
    if (!pool || in_task || job->max_joined == 0 || job->end - begin <= job->grain) {
        run_chunks(job);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    int took = slot_pool == NULL;
    if (took) take_slot(pool);
    job->next_open = pool->open;
    pool->open = job;
    atomic_fetch_add_explicit(&pool->posts, 1, memory_order_relaxed);
    wake_workers(pool, job->max_joined);
    pthread_mutex_unlock(&pool->lock);

    run_chunks(job);

    pthread_mutex_lock(&pool->lock);
    for (pool_job **j = &pool->open; *j; j = &(*j)->next_open) /* late workers must not join */
        if (*j == job) {
            *j = job->next_open;
            break;
        }
    while (job->active > 0)
        pthread_cond_wait(&pool->done_cond, &pool->lock);
    if (took) give_slot(pool);
    pthread_mutex_unlock(&pool->lock);
}

void weft_pool_parallel_for(weft_pool *pool, size_t n, size_t grain, int width, weft_pool_fn fn,
                            void *arg)
{
    if (n == 0) return;
    if (width <= 0 || (pool && width > pool->threads)) width = pool ? pool->threads : 1;
    pool_job job = {.fn = fn,
                    .arg = arg,
                    .end = n,
                    .grain = grain ? grain : 1,
                    .max_joined = width - 1,
                    .in_operation = in_operation};
    run_job(pool, &job, 0);
}

void weft_pool_parallel_for_user(weft_pool *pool, size_t begin, size_t end, size_t grain,
                                 weft_pool_fn fn, void *arg)
{
    if (begin >= end) return;
    pool_job job = {.fn = fn,
                    .arg = arg,
                    .end = end,
                    .grain = grain ? grain : 1,
                    .max_joined = pool ? pool->threads - 1 : 0,
                    .in_operation = in_operation,
                    .user = 1};
    run_job(pool, &job, begin);
}

void weft_pool_post(weft_pool *pool, weft_pool_item *item)
{
    pthread_mutex_lock(&pool->lock);
    item->next = NULL;
    item->prev = pool->tail;
    item->queued = 1;
    if (pool->tail)
        pool->tail->next = item;
    else
        pool->head = item;
    pool->tail = item;
    atomic_fetch_add_explicit(&pool->posts, 1, memory_order_relaxed);
    if (finishing && slot_pool == pool && taken_depth == 0) /* this thread takes it next */
        finishing = 0;
    else if (item_ready(pool))
        wake_workers(pool, 1);
    pthread_mutex_unlock(&pool->lock);
}

static _Thread_local weft_pool *blocked_pool;

/* Gives the slot up (returning 0) or takes it back (1), under the lock. */
static void block_slot(weft_pool *pool, int returning)
{
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    if (returning)
        take_slot(pool);
    else
        give_slot(pool);
    pthread_mutex_unlock(&pool->lock);
}

void weft_pool_block_begin(void)
{
    blocked_pool = slot_pool;
    block_slot(blocked_pool, 0);
}

/* A thread returning from a wait takes its slot back at once, whatever the
 * width or the throttle: every thread that could stand in its way may be
 * blocked on a lock it holds (a user mutex weft cannot see), so any wait for
 * a slot here can deadlock. ForkJoinPool resumes a joiner the same way. The
 * excess is transient: no worker starts new work until `running` is back
 * under the width, so it ends when the task that took the lent slot ends or
 * waits (docs/architecture.md, "Tasks beside the stream"). */
void weft_pool_block_end(void)
{
    weft_pool *pool = blocked_pool;
    blocked_pool = NULL;
    block_slot(pool, 1);
}

int weft_pool_take(weft_pool *pool, weft_pool_item *item)
{
    if (!pool || slot_pool != pool || in_operation) return 0;
    pthread_mutex_lock(&pool->lock);
    int taken = item->queued;
    if (taken) unlink_item(pool, item);
    pthread_mutex_unlock(&pool->lock);
    return taken;
}

/* Its thread goes back to a wait, not to the queue: it keeps no post. */
void weft_pool_run_taken(weft_pool_item *item)
{
    taken_depth++;
    run_item(item);
    taken_depth--;
}

void weft_pool_throttle(weft_pool *pool, int on)
{
    /* Every synchronous operation turns it on and off: the lock is taken only
     * to wake workers when it goes off. A worker decides under the lock, so
     * it either saw the count at 0 or sleeps before this wakes it. */
    if (on) {
        atomic_fetch_add_explicit(&pool->throttled, 1, memory_order_relaxed);
        return;
    }
    if (atomic_fetch_sub_explicit(&pool->throttled, 1, memory_order_relaxed) != 1) return;
    pthread_mutex_lock(&pool->lock);
    if (pool->head || pool->open) wake_workers(pool, pool->threads);
    pthread_mutex_unlock(&pool->lock);
}

int weft_pool_user_width(weft_pool *pool)
{
    if (!pool) return 1;
    pthread_mutex_lock(&pool->lock);
    int width = width_for(pool, 1);
    pthread_mutex_unlock(&pool->lock);
    return width;
}

typedef struct rendezvous {
    atomic_int arrived;
    int need;
    double deadline;
} rendezvous;

/* Each chunk waits until every thread has one: the time until then is what a
 * worker takes to wake up and join. */
static void meet(void *arg, size_t begin, size_t end)
{
    (void)begin;
    (void)end;
    rendezvous *r = arg;
    atomic_fetch_add(&r->arrived, 1);
    while (atomic_load(&r->arrived) < r->need && weft_now() < r->deadline)
        cpu_relax();
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of a few parallel_fors whose chunks wait for each other, over
 * the whole width: wake-up, hand-out and join, what work must outweigh to be
 * worth sharing. A worker that never comes counts as FORK_GIVE_UP. */
double weft_pool_fork_seconds(weft_pool *pool)
{
    if (!pool || pool->threads < 2) return 1e9;
    double known = atomic_load(&pool->fork_seconds);
    if (known > 0) return known;
    enum { REPS = 7 };
    double t[REPS];
    size_t n = (size_t)pool->threads;
    for (int r = -1; r < REPS; r++) { /* the first starts the workers */
        double t0 = weft_now();
        rendezvous meeting = {0, (int)n, t0 + FORK_GIVE_UP};
        weft_pool_parallel_for(pool, n, 1, 0, meet, &meeting);
        if (r >= 0) t[r] = weft_now() - t0;
    }
    qsort(t, REPS, sizeof *t, compare_doubles);
    double median = t[REPS / 2] > 1e-7 ? t[REPS / 2] : 1e-7;
    atomic_store(&pool->fork_seconds, median);
    return median;
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
    weft_fork_remove(&pool->registered);

    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->work_cond);
    int started = pool->nworkers;
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < started; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->work_cond);
    pthread_cond_destroy(&pool->done_cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}
