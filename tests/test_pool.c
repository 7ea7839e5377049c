/* The thread pool: every index exactly once, nesting, concurrency, fork,
 * waits under the throttle. */
#include "common.h"
#include "../src/core/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct hits {
    atomic_int *count;
    weft_pool *pool;
} hits;

static void mark(void *arg, size_t begin, size_t end)
{
    hits *h = arg;
    for (size_t i = begin; i < end; i++)
        atomic_fetch_add(&h->count[i], 1);
}

static void check_each_once(weft_pool *pool, size_t n, size_t grain, int width)
{
    atomic_int *count = calloc(n ? n : 1, sizeof *count);
    hits h = {count, pool};
    weft_pool_parallel_for(pool, n, grain, width, mark, &h);
    for (size_t i = 0; i < n; i++)
        if (count[i] != 1)
            fail_msg("n=%zu grain=%zu: index %zu ran %d times", n, grain, i, count[i]);
    free(count);
}

static void test_every_index_once(void **state)
{
    (void)state;
    weft_pool *pool = weft_pool_create(4);
    static const size_t sizes[] = {0, 1, 2, 7, 63, 64, 65, 1000, 100003};
    static const size_t grains[] = {1, 3, 64, 1 << 20};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t g = 0; g < sizeof grains / sizeof *grains; g++) {
            check_each_once(pool, sizes[s], grains[g], 0);
            check_each_once(pool, sizes[s], grains[g], 2);
        }
    assert_int_equal(weft_pool_threads(pool), 4);
    weft_pool_free(pool);
}

static void nested(void *arg, size_t begin, size_t end)
{
    hits *h = arg;
    assert_true(weft_pool_in_task());
    for (size_t i = begin; i < end; i++) {
        /* From inside a task: runs inline, must not deadlock. */
        hits inner = {h->count + i * 10, h->pool};
        weft_pool_parallel_for(h->pool, 10, 1, 0, mark, &inner);
    }
}

static void test_nested_runs_inline(void **state)
{
    (void)state;
    weft_pool *pool = weft_pool_create(3);
    atomic_int *count = calloc(1000, sizeof *count);
    hits h = {count, pool};
    weft_pool_parallel_for(pool, 100, 1, 0, nested, &h);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(count[i], 1);
    assert_false(weft_pool_in_task());
    free(count);
    weft_pool_free(pool);
}

static void *hammer(void *arg)
{
    weft_pool *pool = arg;
    for (int r = 0; r < 200; r++)
        check_each_once(pool, 5000, 100, 0);
    return NULL;
}

static void test_concurrent_callers(void **state)
{
    (void)state;
    weft_pool *pool = weft_pool_create(2);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, hammer, pool);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    weft_pool_free(pool);
}

static void test_lazy_start_and_free(void **state)
{
    (void)state;
    weft_pool_free(weft_pool_create(8)); /* never used: no threads to join */
    weft_pool_free(NULL);
    setenv("WEFT_NUM_THREADS", "3", 1);
    assert_int_equal(weft_pool_default_threads(), 3);
    weft_pool *pool = weft_pool_create(0);
    assert_int_equal(weft_pool_threads(pool), 3);
    weft_pool_free(pool);
    setenv("WEFT_NUM_THREADS", "banana", 1);
    assert_true(weft_pool_default_threads() >= 1);
    unsetenv("WEFT_NUM_THREADS");
}

static void test_fork_child_uses_pool(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* ThreadSanitizer cannot follow a multi-threaded fork */
#endif
    weft_pool *pool = weft_pool_create(3);
    check_each_once(pool, 10000, 10, 0); /* workers running in the parent */
    pid_t pid = fork();
    if (pid == 0) {
        /* The child has no workers; the pool must restart them, not hang. */
        atomic_int *count = calloc(10000, sizeof *count);
        hits h = {count, pool};
        weft_pool_parallel_for(pool, 10000, 10, 0, mark, &h);
        for (int i = 0; i < 10000; i++)
            if (count[i] != 1) _exit(1);
        weft_pool_free(pool);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    check_each_once(pool, 10000, 10, 0); /* the parent's pool still works */
    weft_pool_free(pool);
}

/* While throttled (one thread), a task returning from a wait still takes its
 * slot back at once: the task that took its lent slot may be blocked on a
 * lock the returning one holds (ForkJoinPool lets a joiner resume above its
 * parallelism for the same reason). */
typedef struct lock_holders {
    pthread_mutex_t user_lock;
    atomic_int holding, second_started, gate, done;
} lock_holders;

typedef struct holder {
    weft_pool_item item; /* first: the pool hands it back */
    lock_holders *shared;
} holder;

static void hold_lock_across_wait(weft_pool_item *item)
{
    lock_holders *h = ((holder *)item)->shared;
    pthread_mutex_lock(&h->user_lock);
    atomic_store(&h->holding, 1);
    weft_pool_block_begin(); /* as weft's own waits do */
    while (!atomic_load(&h->gate))
        usleep(100);
    weft_pool_block_end(); /* the other task holds the only throttled slot */
    pthread_mutex_unlock(&h->user_lock);
    atomic_fetch_add(&h->done, 1);
}

static void take_lock(weft_pool_item *item)
{
    lock_holders *h = ((holder *)item)->shared;
    atomic_fetch_add(&h->second_started, 1);
    pthread_mutex_lock(&h->user_lock);
    pthread_mutex_unlock(&h->user_lock);
    atomic_fetch_add(&h->done, 1);
}

static void wait_for_count(atomic_int *count, int want)
{
    for (int i = 0; i < 100000 && atomic_load(count) < want; i++)
        usleep(100);
    assert_int_equal(atomic_load(count), want);
}

static void test_resuming_beside_the_throttle_cannot_deadlock(void **state)
{
    (void)state;
    fail_after(60);
    weft_pool *pool = weft_pool_create(2);
    weft_pool_throttle(pool, 1);
    lock_holders h = {.user_lock = PTHREAD_MUTEX_INITIALIZER};
    holder first = {{.run = hold_lock_across_wait}, &h};
    holder second = {{.run = take_lock}, &h};
    weft_pool_post(pool, &first.item);
    wait_for_count(&h.holding, 1);
    weft_pool_post(pool, &second.item);
    wait_for_count(&h.second_started, 1); /* it took the lent slot, and blocks */
    atomic_store(&h.gate, 1);
    wait_for_count(&h.done, 2);
    weft_pool_free(pool);
    fail_after(0);
}

/* At full width too: the lent slot and every other one are held by tasks
 * blocked on a lock the returning task holds. Waiting for a slot, at any
 * width, would wait for them, and they wait for it. */
static void test_resuming_at_full_width_cannot_deadlock(void **state)
{
    (void)state;
    fail_after(30);
    weft_pool *pool = weft_pool_create(2);
    lock_holders h = {.user_lock = PTHREAD_MUTEX_INITIALIZER};
    holder first = {{.run = hold_lock_across_wait}, &h};
    holder others[2] = {{{.run = take_lock}, &h}, {{.run = take_lock}, &h}};
    weft_pool_post(pool, &first.item);
    wait_for_count(&h.holding, 1);
    weft_pool_post(pool, &others[0].item);
    weft_pool_post(pool, &others[1].item);
    wait_for_count(&h.second_started, 2); /* both slots held, both blocked */
    atomic_store(&h.gate, 1);
    wait_for_count(&h.done, 3);
    weft_pool_free(pool);
    fail_after(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_once),
        cmocka_unit_test(test_nested_runs_inline),
        cmocka_unit_test(test_concurrent_callers),
        cmocka_unit_test(test_lazy_start_and_free),
        cmocka_unit_test(test_fork_child_uses_pool),
        cmocka_unit_test(test_resuming_beside_the_throttle_cannot_deadlock),
        cmocka_unit_test(test_resuming_at_full_width_cannot_deadlock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
