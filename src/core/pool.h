/* Persistent worker threads that run two kinds of work: chunks of a
 * parallel_for (in which the caller takes part) and queued items (tasks).
 *
 * Width: at most `threads` threads run pool work at once (each holds a
 * *slot*). Workers start lazily, when work is posted and no idle worker can
 * take it. A thread that blocks in a wait while holding a slot gives it up
 * (weft_pool_block_begin), so another worker may run meanwhile, and takes it
 * back at once when the wait ends (weft_pool_block_end): waiting never
 * deadlocks the pool. New work starts only below the width, so the threads
 * *running* exceed it only by threads back from a wait, until the work that
 * stood in for them ends or waits. A thread about to wait for a
 * queued item runs it itself instead (weft_pool_take). A parallel_for issued from
 * inside a chunk runs inline. After fork() the child's copy of every pool
 * forgets its (non-existent) workers and restarts them lazily.
 */
#ifndef WEFT_POOL_H
#define WEFT_POOL_H

#include <stddef.h>

typedef struct weft_pool weft_pool;
typedef void (*weft_pool_fn)(void *arg, size_t begin, size_t end);

/* A unit of queued work; embedded in its owner (no allocation per post). */
typedef struct weft_pool_item weft_pool_item;
struct weft_pool_item {
    void (*run)(weft_pool_item *item);
    weft_pool_item *next, *prev; /* in the queue (under the pool's lock) */
    int queued;
};

/* threads: total width including the calling thread; <= 0 means
 * WEFT_NUM_THREADS, else the number of online cores. NULL on out of memory. */
weft_pool *weft_pool_create(int threads);
/* Joins the workers; what is still queued does not run. */
void weft_pool_free(weft_pool *pool);
int weft_pool_threads(const weft_pool *pool);

/* Calls fn over [0, n) in chunks of `grain` handed out dynamically. width
 * caps how many threads take part (<= 0: all). Returns after every chunk ran. */
void weft_pool_parallel_for(weft_pool *pool, size_t n, size_t grain, int width, weft_pool_fn fn,
                            void *arg);
/* The same over [begin, end), for user work: while the pool is throttled
 * (weft_pool_throttle) no worker joins it. */
void weft_pool_parallel_for_user(weft_pool *pool, size_t begin, size_t end, size_t grain,
                                 weft_pool_fn fn, void *arg);

/* Queues an item; a worker runs it (FIFO) when the width allows. */
void weft_pool_post(weft_pool *pool, weft_pool_item *item);
/* Between on (1) and off (0), the calling thread is finishing an item: the
 * first item it posts is left for itself (it takes the next one anyway), so
 * a chain of tasks wakes no other thread. Returns the previous setting. */
int weft_pool_finishing(int on);
/* Around a blocking wait: the calling thread's slot (if it holds one) is free
 * for other workers meanwhile. It is taken back without waiting, above the
 * width or the throttle if need be: whoever holds the slots may be blocked on
 * a lock the returning thread holds. */
void weft_pool_block_begin(void);
void weft_pool_block_end(void);
/* For a thread about to wait for what a queued item produces: removes the
 * item from the queue and returns 1 when it was still queued and the calling
 * thread holds a slot of pool outside an operation; the caller then runs it
 * (weft_pool_run_taken) in that slot instead of blocking it, as fork-join
 * runtimes run a joined task that nobody has started. Only the awaited item
 * is run so: any other could wait for what the waiter does next. */
int weft_pool_take(weft_pool *pool, weft_pool_item *item);
void weft_pool_run_taken(weft_pool_item *item);

/* While on (nested count > 0), tasks and user parallel_for run one thread at
 * a time: an OpenCL CPU device is computing on the same cores. */
void weft_pool_throttle(weft_pool *pool, int on);
/* How many threads user work may use now (1 while throttled). */
int weft_pool_user_width(weft_pool *pool);
/* Seconds a parallel_for over the whole width costs beyond its work, measured
 * once per pool (the first call measures). */
double weft_pool_fork_seconds(weft_pool *pool);

/* 1 when the calling thread is running a pool chunk. */
int weft_pool_in_task(void);

/* A per-thread mark naming the queued operation the thread runs for (NULL:
 * none), carried to the workers of any parallel_for it issues. The stream
 * sets it, so a host_fn that would wait for its own operation, or one queued
 * behind it, is refused on the launch's thread and on the pool's workers
 * alike. Returns the previous mark. */
const void *weft_pool_enter_operation(const void *op);
const void *weft_pool_in_operation(void);

/* The width used when none is given: WEFT_NUM_THREADS, else online cores. */
int weft_pool_default_threads(void);

#endif
