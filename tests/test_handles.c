/* The registry of live handles read without a lock: threads checking
 * handles that stay registered must always find them, and never find ones
 * that are not, while other threads add and remove handles as fast as they
 * can (nodes are reused, so a reader's walk can run through a moved node). */
#include "common.h"
#include "../src/core/handles.h"

#include <pthread.h>
#include <stdatomic.h>

enum { STABLE = 512, CHURN = 4096, READERS = 2, WRITERS = 2 };

static char stable[STABLE], churn[WRITERS][CHURN], never[STABLE];
static atomic_int stop;
static atomic_long wrong;

static void *reader(void *arg)
{
    (void)arg;
    long checks = 0;
    while (!atomic_load(&stop) || checks < 100000) {
        size_t i = (size_t)checks % STABLE;
        if (!weft_handle_live(&stable[i], WEFT_HANDLE_ANY)) atomic_fetch_add(&wrong, 1);
        if (weft_handle_live(&never[i], WEFT_HANDLE_ANY)) atomic_fetch_add(&wrong, 1);
        checks++;
    }
    return NULL;
}

static void *writer(void *arg)
{
    char *mine = arg;
    for (int round = 0; round < 40; round++) {
        for (size_t i = 0; i < CHURN; i++)
            if (weft_handle_add(&mine[i], WEFT_HANDLE_ARRAY) != WEFT_OK)
                atomic_fetch_add(&wrong, 1);
        for (size_t i = 0; i < CHURN; i++)
            if (!weft_handle_live(&mine[i], WEFT_HANDLE_ANY)) atomic_fetch_add(&wrong, 1);
        /* Removed in another order than added, so chains are cut mid-way. */
        for (size_t i = 0; i < CHURN; i++) {
            size_t k = (i * 2654435761u) % CHURN;
            if (weft_handle_remove(&mine[k]) != 1) atomic_fetch_add(&wrong, 1);
        }
        for (size_t i = 0; i < CHURN; i += 7)
            if (weft_handle_live(&mine[i], WEFT_HANDLE_ANY)) atomic_fetch_add(&wrong, 1);
    }
    return NULL;
}

static void test_readers_see_the_truth_while_writers_churn(void **state)
{
    (void)state;
    for (size_t i = 0; i < STABLE; i++)
        assert_int_equal(weft_handle_add(&stable[i], WEFT_HANDLE_ARRAY), WEFT_OK);
    pthread_t r[READERS], w[WRITERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&w[i], NULL, writer, churn[i]), 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(atomic_load(&wrong), 0);
    for (size_t i = 0; i < STABLE; i++) {
        assert_int_equal(weft_handle_remove(&stable[i]), 1);
        assert_int_equal(weft_handle_remove(&stable[i]), 0); /* a double free is seen */
        assert_false(weft_handle_live(&stable[i], WEFT_HANDLE_ANY));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readers_see_the_truth_while_writers_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
