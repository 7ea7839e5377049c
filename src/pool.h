/* Persistent worker threads with a parallel_for in which the caller takes part.
 *
 * Workers start on the first parallel_for that can use them (lazily), and the
 * pool shuts down cleanly in weft_pool_free. A parallel_for issued from inside
 * a pool task, or while another parallel_for holds the pool, runs inline on
 * the calling thread: nesting never deadlocks. After fork() the child's copy
 * of every pool forgets its (non-existent) workers and restarts them lazily.
 */
#ifndef WEFT_POOL_H
#define WEFT_POOL_H

#include <stddef.h>

typedef struct weft_pool weft_pool;
typedef void (*weft_range_fn)(void *arg, size_t begin, size_t end);

/* threads: total width including the calling thread; <= 0 means
 * WEFT_NUM_THREADS, else the number of online cores. NULL on out of memory. */
weft_pool *weft_pool_create(int threads);
void weft_pool_free(weft_pool *pool);
int weft_pool_threads(const weft_pool *pool);

/* Calls fn over [0, n) in chunks of `grain` handed out dynamically. width
 * caps how many threads take part (<= 0: all). Returns after every chunk ran. */
void weft_pool_parallel_for(weft_pool *pool, size_t n, size_t grain, int width, weft_range_fn fn,
                            void *arg);

/* 1 when the calling thread is running a pool chunk. */
int weft_pool_in_task(void);

/* A per-thread mark that the thread runs on behalf of a queued operation,
 * carried to the workers of any parallel_for it issues. The stream sets it
 * (so a host_fn that would wait for its own operation is refused). Returns
 * the previous mark. */
int weft_pool_enter_operation(int entering);
int weft_pool_in_operation(void);

/* The width used when none is given: WEFT_NUM_THREADS, else online cores. */
int weft_pool_default_threads(void);

#endif
