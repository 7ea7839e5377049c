/* Concurrency stress: threads share one context and submit random mixes of
 * maps, reductions, scans, user kernels, reads and writes, on arrays of their
 * own and on shared ones, handing futures to other threads to wait on; every
 * result is checked against a serial reference. Contexts are created and
 * freed in a loop beside them. Bounded in time. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

enum { THREADS = 4, N = 6000, SECONDS = 3 };

static weft_ctx *ctx;
static weft_array *shared_counter; /* every thread adds 1 to every element */
static atomic_long shared_adds;
static atomic_int failures;
static atomic_int stop;

/* A hand-off slot for futures waited by another thread. */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static weft_future *slot[16];
static int slot_count;

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            atomic_fetch_add(&failures, 1);                                                        \
            print_error("%s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, weft_last_error());         \
        }                                                                                          \
    } while (0)

static void hand_off(weft_future *f)
{
    pthread_mutex_lock(&slot_lock);
    if (slot_count < 16) {
        slot[slot_count++] = f;
        f = NULL;
    }
    pthread_mutex_unlock(&slot_lock);
    if (f) { /* full: wait here */
        CHECK(weft_future_wait(f) == WEFT_OK);
        weft_future_release(f);
    }
}

static void drain_one(void)
{
    weft_future *f = NULL;
    pthread_mutex_lock(&slot_lock);
    if (slot_count > 0) f = slot[--slot_count];
    pthread_mutex_unlock(&slot_lock);
    if (f) {
        CHECK(weft_future_wait(f) == WEFT_OK);
        weft_future_release(f);
    }
}

static const char bump_source[] = "__kernel void bump(__global float *y, const float by)\n"
                                  "{ y[get_global_id(0)] += by; }\n";
static weft_program *bump;

static void bump_host(const weft_host_call *call)
{
    float *y = call->args[0];
    float by = *(const float *)call->args[1];
    for (size_t i = call->begin; i < call->end; i++)
        y[i] += by;
}

static void *worker(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 7919 + 1;
    float *mine = malloc(N * sizeof *mine), *got = malloc(N * sizeof *got);
    for (int i = 0; i < N; i++)
        mine[i] = (float)(i % 13);
    weft_array *x = NULL, *y = NULL;
    CHECK(weft_array_from(ctx, WEFT_F32, N, mine, &x) == WEFT_OK);
    CHECK(weft_array_create(ctx, WEFT_F32, N, &y) == WEFT_OK);
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y),
                     weft_bind_array("c", shared_counter)};
    float ref_y[N] = {0};
    while (!atomic_load(&stop)) {
        switch (test_rng(&seed) % 8) {
        case 6: { /* a user kernel (or its C version on the pool) */
            weft_arg args[] = {weft_arg_slice(y), weft_arg_f32(0.5f)};
            weft_range r = {1, {N, 1, 1}, {0, 0, 0}};
            CHECK(weft_launch(bump, "bump", &r, args, 2, bump_host, NULL, NULL) == WEFT_OK);
            for (int i = 0; i < N; i++)
                ref_y[i] += 0.5f;
            break;
        }
        case 0: /* y = 2x + y, async, waited by someone else */ {
            weft_future *f;
            CHECK(weft_map(ctx, "y = 2 * x + y", b, 2, &f) == WEFT_OK);
            for (int i = 0; i < N; i++)
                ref_y[i] = 2 * mine[i] + ref_y[i];
            hand_off(f);
            break;
        }
        case 1: { /* the shared array: commutative increments */
            CHECK(weft_map(ctx, "c = c + 1", b + 2, 1, NULL) == WEFT_OK);
            atomic_fetch_add(&shared_adds, 1);
            break;
        }
        case 2: { /* a reduction of this thread's y */
            weft_scalar s;
            CHECK(weft_reduce(ctx, WEFT_SUM, y, &s, NULL) == WEFT_OK);
            double want = reference_sum(ref_y, 0, N);
            CHECK(s.value.f64 == want);
            break;
        }
        case 3: { /* read back and compare */
            CHECK(weft_array_read(y, 0, N, got) == WEFT_OK);
            CHECK(memcmp(got, ref_y, sizeof ref_y) == 0);
            break;
        }
        case 4: { /* overwrite x with new values */
            for (int i = 0; i < N; i++)
                mine[i] = (float)(test_rng(&seed) % 100);
            CHECK(weft_array_write(x, 0, N, mine) == WEFT_OK);
            break;
        }
        case 5: { /* a scan into y, then y from the reference */
            CHECK(weft_scan(ctx, WEFT_MAX, 0, x, y, NULL) == WEFT_OK);
            float m = -INFINITY;
            for (int i = 0; i < N; i++) {
                m = mine[i] > m ? mine[i] : m;
                ref_y[i] = m;
            }
            break;
        }
        default:
            drain_one();
            break;
        }
    }
    CHECK(weft_array_read(y, 0, N, got) == WEFT_OK);
    CHECK(memcmp(got, ref_y, sizeof ref_y) == 0);
    weft_array_free(x);
    weft_array_free(y);
    free(mine);
    free(got);
    return NULL;
}

static void *churn_contexts(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        weft_options o = test_options();
        o.devices = "host";
        weft_ctx *c = NULL;
        CHECK(weft_ctx_create(&o, &c) == WEFT_OK);
        weft_array *a = NULL;
        double s = 0;
        float v[3] = {1, 2, 3};
        CHECK(weft_array_from(c, WEFT_F32, 3, v, &a) == WEFT_OK);
        CHECK(weft_sum(c, a, &s, NULL) == WEFT_OK && s == 6);
        weft_array_free(a);
        weft_ctx_free(c);
    }
    return NULL;
}

static void test_threads_hammer_one_context(void **state)
{
    (void)state;
    ctx = test_ctx();
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &shared_counter));
    ASSERT_OK(weft_program_build(ctx, bump_source, NULL, &bump));
    pthread_t t[THREADS], churn;
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    pthread_create(&churn, NULL, churn_contexts, NULL);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (elapsed(&t0) < SECONDS)
        drain_one();
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_join(churn, NULL);
    while (slot_count > 0)
        drain_one();
    float got[N];
    ASSERT_OK(weft_array_read(shared_counter, 0, N, got));
    for (int i = 0; i < N; i++)
        if (got[i] != (float)atomic_load(&shared_adds))
            fail_msg("shared[%d] = %g after %ld increments", i, got[i], atomic_load(&shared_adds));
    print_message("%ld increments of the shared array, %d failures\n", atomic_load(&shared_adds),
                  atomic_load(&failures));
    assert_int_equal(atomic_load(&failures), 0);
    weft_array_free(shared_counter);
    weft_program_free(bump);
    ASSERT_OK(weft_ctx_finish(ctx));
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_hammer_one_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
