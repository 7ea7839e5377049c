/* Placement by measured cost: the model's decisions from synthetic
 * histories, its files (damaged, stale, shared by processes), devices that
 * fail, hints, statistics, and results that do not depend on placement. */
#include "common.h"
#include "../src/api/testing.h"
#include "../src/exec/perf_model.h"
#include "../src/exec/perf_store.h"
#include "../src/core/clock.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* A history of time = fixed + per_element * n at every size from 2^10 to 2^24. */
static void synthetic(weft_perf_history *h, double fixed, double per_element)
{
    memset(h, 0, sizeof *h);
    for (double n = 1024; n <= (1 << 24); n *= 2)
        weft_perf_record(h, n * 1.3, fixed + per_element * n * 1.3);
}

/* Plans are read up to their counts (alone: up to the candidates'). */
static void assert_same_plan(const weft_perf_plan *a, const weft_perf_plan *b, size_t candidates)
{
    assert_int_equal(a->count, b->count);
    assert_memory_equal(a->device, b->device, a->count * sizeof *a->device);
    assert_memory_equal(a->share, b->share, a->count * sizeof *a->share);
    assert_memory_equal(a->alone, b->alone, candidates * sizeof *a->alone);
    assert_true(a->predicted == b->predicted);
    assert_int_equal(a->exploring, b->exploring);
    assert_int_equal(a->remeasuring, b->remeasuring);
}

static weft_perf_candidate candidate(size_t device, const weft_perf_history *h, int group)
{
    return (weft_perf_candidate){.device = device,
                                 .history = h,
                                 .overhead = device ? 40e-6 : 2e-6,
                                 .estimate = 1e-9,
                                 .group = group,
                                 .explore = 1};
}

/* Size classes are the keys of saved models: the class of a count is
 * floor(log2(n)) however it is worked out, at and around every power of
 * two, for fractions and past 2^32. */
static void test_size_classes_are_floor_log2(void **state)
{
    (void)state;
    for (int k = 0; k < 64; k++) {
        double p = ldexp(1.0, k);
        const double around[] = {p - 1, p, p + 1, p * 1.5, p - 0.5, p + 0.25};
        for (size_t i = 0; i < sizeof around / sizeof *around; i++) {
            double n = around[i];
            int want = !(n >= 1) ? 0 : (int)floor(log2(n));
            if (want >= WEFT_PERF_CLASSES) want = WEFT_PERF_CLASSES - 1;
            if (weft_perf_class_of(n) != want)
                fail_msg("n %.17g: class %d, floor(log2) %d", n, weft_perf_class_of(n), want);
        }
    }
    uint64_t r = 0x2545f4914f6cdd1du;
    for (int i = 0; i < 100000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double n = (double)(r >> (r & 63));
        int want = !(n >= 1) ? 0 : (int)floor(log2(n));
        if (want >= WEFT_PERF_CLASSES) want = WEFT_PERF_CLASSES - 1;
        assert_int_equal(weft_perf_class_of(n), want);
    }
    assert_int_equal(weft_perf_class_of(0), 0);
    assert_int_equal(weft_perf_class_of(NAN), 0);
}

static void test_each_op_goes_where_it_is_fast(void **state)
{
    (void)state;
    /* Op A: the device is 10x slower per element; op B: 10x faster. */
    weft_perf_history pool_a, dev_a, pool_b, dev_b;
    synthetic(&pool_a, 2e-6, 1e-9);
    synthetic(&dev_a, 40e-6, 10e-9);
    synthetic(&pool_b, 2e-6, 10e-9);
    synthetic(&dev_b, 40e-6, 1e-9);
    weft_perf_candidate a[] = {candidate(0, &pool_a, 0), candidate(1, &dev_a, 0)};
    weft_perf_candidate b[] = {candidate(0, &pool_b, 0), candidate(1, &dev_b, 0)};
    weft_perf_plan plan;
    for (double n = 2000; n < 1e7; n *= 10) {
        weft_perf_choose(a, 2, n, &plan);
        assert_int_equal(plan.count, 1);
        assert_int_equal(plan.device[0], 0);
        assert_false(plan.exploring);
    }
    /* B: the launch makes small work the pool's; large work goes to the device. */
    weft_perf_choose(b, 2, 2000, &plan);
    assert_int_equal(plan.device[0], 0);
    weft_perf_choose(b, 2, 4e6, &plan);
    assert_int_equal(plan.count, 1);
    assert_int_equal(plan.device[0], 1);
    /* The same histories give the same choice, every time. */
    weft_perf_plan again;
    weft_perf_choose(b, 2, 4e6, &again);
    assert_same_plan(&plan, &again, 2);
}

static void test_unmeasured_device_is_measured_first(void **state)
{
    (void)state;
    weft_perf_history pool, dev, empty;
    synthetic(&pool, 2e-6, 1e-9);
    synthetic(&dev, 40e-6, 1e-9);
    memset(&empty, 0, sizeof empty);
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &dev, 0),
                               candidate(2, &empty, 0)};
    weft_perf_plan plan;
    weft_perf_choose(c, 3, 1e6, &plan);
    assert_true(plan.exploring);
    assert_int_equal(plan.device[0], 2);
    /* Not while its code is still being built. */
    c[2].explore = 0;
    weft_perf_choose(c, 3, 1e6, &plan);
    assert_false(plan.exploring);
    /* Sizes on both sides predict it hopeless: not explored at this size. */
    c[2].explore = 1;
    weft_perf_history slow;
    memset(&slow, 0, sizeof slow);
    weft_perf_record(&slow, 1 << 18, 100 * 1e-9 * (1 << 18));
    weft_perf_record(&slow, 1 << 22, 100 * 1e-9 * (1 << 22));
    c[2].history = &slow;
    weft_perf_choose(c, 3, 1 << 20, &plan);
    assert_false(plan.exploring);
    assert_int_not_equal(plan.device[0], 2);
}

/* Work whose measured time on the pool is below what a launch costs on a
 * device however small never goes to the device to be measured. */
static void test_tiny_work_is_not_explored_on_a_device(void **state)
{
    (void)state;
    weft_perf_history pool, empty;
    memset(&pool, 0, sizeof pool);
    memset(&empty, 0, sizeof empty);
    weft_perf_record(&pool, 100, 1e-6); /* 100 elements in 1 us on the pool */
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &empty, 0)};
    weft_perf_plan plan;
    weft_perf_choose(c, 2, 100, &plan);
    assert_false(plan.exploring);
    assert_int_equal(plan.device[0], 0);
    /* Nor chosen there when a noisy sample made the pool look slow. */
    weft_perf_history noisy, fast;
    memset(&noisy, 0, sizeof noisy);
    memset(&fast, 0, sizeof fast);
    weft_perf_record(&noisy, 100, 200e-6);
    weft_perf_record(&fast, 100, 50e-6);
    weft_perf_candidate d[] = {candidate(0, &noisy, 0), candidate(1, &fast, 0)};
    weft_perf_choose(d, 2, 100, &plan);
    assert_int_equal(plan.count, 1);
    assert_int_equal(plan.device[0], 0);
    /* Large work is still measured there. */
    weft_perf_record(&pool, 1 << 22, 4e-3);
    weft_perf_choose(c, 2, 1 << 22, &plan);
    assert_true(plan.exploring);
    assert_int_equal(plan.device[0], 1);
}

/* Every 16th call at a size runs the runner-up when it is predicted within
 * 1.5x of the best, or rests on one sample there; never one predicted
 * slower than that whose samples agree. */
static void test_runner_up_is_measured_again_now_and_then(void **state)
{
    (void)state;
    weft_perf_history pool, close, far;
    synthetic(&pool, 2e-6, 1.0e-9);
    synthetic(&close, 2e-6, 1.2e-9);
    synthetic(&far, 2e-6, 3.0e-9);
    for (int i = 0; i < WEFT_PERF_SETTLE - 1; i++) /* settled: three samples a size */
        for (double n = 1024; n <= (1 << 24); n *= 2) {
            weft_perf_record(&close, n * 1.3, 2e-6 + 1.2e-9 * n * 1.3);
            weft_perf_record(&far, n * 1.3, 2e-6 + 3.0e-9 * n * 1.3);
        }
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &close, 0),
                               candidate(2, &far, 0)};
    c[1].overhead = c[2].overhead = 2e-6;
    weft_perf_plan plan, again;
    for (uint64_t call = 0; call < 64; call++) {
        weft_perf_choose_at(c, 3, 1e6, call, &plan);
        /* Two calls in a row: the first runs in the best's wake, untimed. */
        int remeasure = call % WEFT_PERF_REMEASURE_EVERY >= WEFT_PERF_REMEASURE_EVERY - 2;
        assert_int_equal(plan.count, 1);
        assert_int_equal(plan.device[0], remeasure ? 1 : 0);
        assert_int_equal(plan.remeasuring, remeasure);
        assert_false(plan.exploring);
        weft_perf_choose_at(c, 3, 1e6, call, &again); /* deterministic */
        assert_same_plan(&plan, &again, 3);
    }
    /* Not a device that may not be measured (its code is not built). */
    c[1].explore = 0;
    weft_perf_choose_at(c, 3, 1e6, WEFT_PERF_REMEASURE_EVERY - 1, &plan);
    assert_int_equal(plan.device[0], 0);
    assert_false(plan.remeasuring);
    /* Nothing within 1.5x: no re-measurement. */
    weft_perf_candidate two[] = {candidate(0, &pool, 0), candidate(2, &far, 0)};
    two[1].overhead = 2e-6;
    weft_perf_choose_at(two, 2, 1e6, WEFT_PERF_REMEASURE_EVERY - 1, &plan);
    assert_int_equal(plan.device[0], 0);
    assert_false(plan.remeasuring);
    /* Unless its one sample there may have been a busy moment's: 10x slower
     * on one sample is measured once more, on the next call (a context's
     * first samples are the likeliest to be off), on two at the periodic
     * calls, then left alone. */
    weft_perf_history once;
    synthetic(&once, 2e-6, 10e-9);
    two[1].history = &once;
    weft_perf_choose_at(two, 2, 1e6, 0, &plan);
    assert_int_equal(plan.device[0], 0);
    for (uint64_t call = 1; call < WEFT_PERF_REMEASURE_EVERY; call++) {
        weft_perf_choose_at(two, 2, 1e6, call, &plan);
        assert_int_equal(plan.device[0], 2);
        assert_true(plan.remeasuring);
    }
    weft_perf_record(&once, 1e6, 2e-6 + 10e-9 * 1e6);
    weft_perf_choose_at(two, 2, 1e6, 1, &plan);
    assert_int_equal(plan.device[0], 0);
    assert_false(plan.remeasuring);
    weft_perf_choose_at(two, 2, 1e6, 2 * WEFT_PERF_REMEASURE_EVERY - 1, &plan);
    assert_int_equal(plan.device[0], 2);
    assert_true(plan.remeasuring);
    weft_perf_record(&once, 1e6, 2e-6 + 10e-9 * 1e6);
    weft_perf_choose_at(two, 2, 1e6, 3 * WEFT_PERF_REMEASURE_EVERY - 1, &plan);
    assert_int_equal(plan.device[0], 0);
    assert_false(plan.remeasuring);
}

/* The n-body row at 10^3: the pool's first two calls in a context took
 * 27.8 and 17.3 ms (thread start, page faults), its steady time is 1.6 ms,
 * the device's 3.1 ms. Resting on early samples only (fewer than
 * WEFT_PERF_SETTLE), however slow, the pool is re-measured at the periodic
 * calls, and not before them once it has two. */
static void test_unsettled_runner_up_is_measured_again(void **state)
{
    (void)state;
    const double n = 1000;
    weft_perf_history pool, dev;
    memset(&pool, 0, sizeof pool);
    memset(&dev, 0, sizeof dev);
    weft_perf_record(&pool, n, 27.8e-3);
    weft_perf_record(&pool, n, 17.3e-3);
    for (int i = 0; i < 8; i++)
        weft_perf_record(&dev, n, 3.14e-3);
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &dev, 0)};
    c[1].overhead = 2e-6;
    weft_perf_plan plan;
    for (uint64_t call = 0; call < 2 * WEFT_PERF_REMEASURE_EVERY; call++) {
        weft_perf_choose_at(c, 2, n, call, &plan);
        int periodic = call % WEFT_PERF_REMEASURE_EVERY >= WEFT_PERF_REMEASURE_EVERY - 2;
        assert_int_equal(plan.device[0], periodic ? 0 : 1);
        assert_int_equal(plan.remeasuring, periodic);
    }
    /* Settled and still that slow: left alone. */
    weft_perf_record(&pool, n, 17.3e-3);
    weft_perf_choose_at(c, 2, n, WEFT_PERF_REMEASURE_EVERY - 1, &plan);
    assert_int_equal(plan.device[0], 1);
    assert_false(plan.remeasuring);
}

/* A device whose first sample came out 1.3x too slow (a busy moment) loses
 * the calls to one truly 1.1x slower; re-measuring wins them back. */
static void test_noisy_first_sample_is_outvoted(void **state)
{
    (void)state;
    const double n = 1e6, true_s[2] = {1.0e-3, 1.1e-3};
    weft_perf_history h[2];
    memset(h, 0, sizeof h);
    weft_perf_record(&h[0], n, 1.3e-3); /* the noisy first sample */
    weft_perf_record(&h[1], n, true_s[1]);
    weft_perf_candidate c[] = {candidate(0, &h[0], 0), candidate(1, &h[1], 0)};
    c[1].overhead = 2e-6;
    weft_perf_plan plan;
    uint64_t switched_at = 0;
    for (uint64_t call = 0; call < 4 * WEFT_PERF_REMEASURE_EVERY && !switched_at; call++) {
        weft_perf_choose_at(c, 2, n, call, &plan);
        size_t d = plan.device[0];
        weft_perf_record(&h[d], n, true_s[d]);
        if (d == 0 && !plan.remeasuring) switched_at = call;
    }
    assert_true(switched_at > 0);
    /* Without re-measurement it would never have switched. */
    memset(h, 0, sizeof h);
    weft_perf_record(&h[0], n, 1.3e-3);
    weft_perf_record(&h[1], n, true_s[1]);
    for (int call = 0; call < 64; call++) {
        weft_perf_choose(c, 2, n, &plan);
        assert_int_equal(plan.device[0], 1);
        weft_perf_record(&h[1], n, true_s[1]);
    }
}

/* The hash row's wrong decision: the device's settled 2.2 ms, one 9 ms
 * sample (the cores taken by something else for a moment), and the mean
 * said 3.9 ms, behind the pool's 3.6: the pool kept the operation at twice
 * the device's time. One slow sample may not move a settled class past
 * twice its estimate. */
static void test_one_slow_sample_does_not_move_a_settled_class(void **state)
{
    (void)state;
    const double n = 1e7;
    weft_perf_history pool, dev;
    memset(&pool, 0, sizeof pool);
    memset(&dev, 0, sizeof dev);
    weft_perf_record(&pool, n, 3.63e-3);
    for (int i = 0; i < WEFT_PERF_SETTLE; i++)
        weft_perf_record(&dev, n, 2.22e-3);
    weft_perf_record(&dev, n, 9.06e-3);
    enum weft_perf_basis basis;
    double predicted = weft_perf_predict(&dev, n, 40e-6, &basis);
    assert_true(predicted < 3.0e-3);
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &dev, 0)};
    weft_perf_plan plan;
    weft_perf_choose(c, 2, n, &plan);
    assert_int_equal(plan.device[0], 1);
}

/* ...but a device that has really become slower loses the operation within
 * a window's worth of calls, not never. */
static void test_a_device_that_stays_slow_loses_the_operation(void **state)
{
    (void)state;
    const double n = 1e7;
    weft_perf_history h[2];
    memset(h, 0, sizeof h);
    for (int i = 0; i < WEFT_PERF_WINDOW; i++) {
        weft_perf_record(&h[0], n, 3.6e-3);
        weft_perf_record(&h[1], n, 2.2e-3);
    }
    const double now_s[2] = {3.6e-3, 4 * 2.2e-3};
    weft_perf_candidate c[] = {candidate(0, &h[0], 0), candidate(1, &h[1], 0)};
    weft_perf_plan plan;
    int calls_on_device = 0;
    for (uint64_t call = 0; call < 2 * WEFT_PERF_WINDOW; call++) {
        weft_perf_choose_at(c, 2, n, call, &plan);
        size_t d = plan.device[0];
        calls_on_device += d == 1;
        weft_perf_record(&h[d], n, now_s[d]);
    }
    assert_true(calls_on_device <= WEFT_PERF_WINDOW);
    weft_perf_choose_at(c, 2, n, 2 * WEFT_PERF_WINDOW, &plan);
    assert_int_equal(plan.device[0], 0);
}

/* The n-body row at 10^3, once in 9 runs: the pool settled at 1.6-2x the
 * device's time on samples taken while the machine was busy, though the two
 * are even. Past WEFT_PERF_REMEASURE_WITHIN it was never measured again, and
 * the device kept the operation at 0.57 of the best. A distant runner-up is
 * measured again at doubling intervals, and its fast samples bring it back. */
static void test_runner_up_settled_in_a_busy_moment_wins_back(void **state)
{
    (void)state;
    const double n = 1e5, busy_s = 2.0e-3, true_s[2] = {1.0e-3, 1.2e-3};
    weft_perf_history h[2];
    memset(h, 0, sizeof h);
    for (int i = 0; i < WEFT_PERF_WINDOW; i++) {
        weft_perf_record(&h[0], n, busy_s);
        weft_perf_record(&h[1], n, true_s[1]);
    }
    weft_perf_candidate c[] = {candidate(0, &h[0], 0), candidate(1, &h[1], 0)};
    c[1].overhead = 2e-6;
    c[1].incumbent = 1;
    weft_perf_plan plan;
    uint64_t won_at = 0;
    for (uint64_t call = 0; call < 8 * WEFT_PERF_REMEASURE_EVERY && !won_at; call++) {
        weft_perf_choose_at(c, 2, n, call, &plan);
        size_t d = plan.device[0];
        if (plan.remeasuring) /* as placement records it */
            weft_perf_record_fresh(&h[d], n, true_s[d]);
        else
            weft_perf_record(&h[d], n, true_s[d]);
        if (d == 0 && !plan.remeasuring) won_at = call;
    }
    assert_true(won_at > 0);

    /* A runner-up that really is 2.5x slower costs two calls per doubling
     * of the calls made: 12 of 1024 here. */
    const double slow_s[2] = {2.5e-3, 1.0e-3};
    memset(h, 0, sizeof h);
    for (int i = 0; i < WEFT_PERF_WINDOW; i++) {
        weft_perf_record(&h[0], n, slow_s[0]);
        weft_perf_record(&h[1], n, slow_s[1]);
    }
    unsigned on_slow = 0;
    for (uint64_t call = 0; call < 64 * WEFT_PERF_REMEASURE_EVERY; call++) {
        weft_perf_choose_at(c, 2, n, call, &plan);
        size_t d = plan.device[0];
        on_slow += d == 0;
        if (plan.remeasuring)
            weft_perf_record_fresh(&h[d], n, slow_s[d]);
        else
            weft_perf_record(&h[d], n, slow_s[d]);
    }
    assert_true(on_slow > 0);
    assert_true(on_slow <= 2 * 7);
}

/* A device whose times vary is predicted at its mean, not its fast end: a
 * rule that weighed every fast sample more predicted one averaging 1.19 ms
 * at 0.82 and chose it over a steady 1.00 ms device. */
static void test_a_varying_device_is_predicted_at_its_mean(void **state)
{
    (void)state;
    const double n = 1000;
    weft_perf_history steady, varying;
    memset(&steady, 0, sizeof steady);
    memset(&varying, 0, sizeof varying);
    unsigned s = 1;
    double sum = 0;
    for (int i = 0; i < 200; i++) {
        weft_perf_record(&steady, n, 1.0e-3);
        s = s * 1103515245u + 12345u;
        double t = (s >> 16) % 10 < 7 ? 0.8e-3 : 2.1e-3; /* mean 1.19 ms */
        weft_perf_record(&varying, n, t);
        sum += t;
    }
    enum weft_perf_basis basis;
    double predicted = weft_perf_predict(&varying, n, 0, &basis);
    assert_true(predicted > 0.95e-3);
    weft_perf_candidate c[] = {
        {.device = 1, .history = &steady, .overhead = 1e-5, .group = 1, .explore = 1},
        {.device = 2, .history = &varying, .overhead = 1e-5, .group = 1, .explore = 1}};
    weft_perf_plan plan;
    weft_perf_choose_at(c, 2, n, 40, &plan);
    assert_int_equal(plan.count, 1);
    assert_int_equal(plan.device[0], 1);
    (void)sum;
}

/* The runner-up measured again is one resting on a single sample before one
 * merely close, and never a twin of the best (it shares the best's model:
 * measuring it measures the same history). A pool whose one sample was 100x
 * off lost its calls to the twin's re-measurements for good. */
static void test_runner_up_is_the_one_sample_not_a_twin(void **state)
{
    (void)state;
    const double n = 1e6;
    weft_perf_history pool, dev;
    memset(&pool, 0, sizeof pool);
    memset(&dev, 0, sizeof dev);
    weft_perf_record(&pool, n, 100 * 0.5e-3);
    for (int i = 0; i < 8; i++)
        weft_perf_record(&dev, n, 1.0e-3);
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &dev, 0),
                               candidate(2, &dev, 0)};
    weft_perf_plan plan;
    int pool_calls = 0, twin_calls = 0;
    for (uint64_t call = 0; call < 2 * WEFT_PERF_REMEASURE_EVERY; call++) {
        weft_perf_choose_at(c, 3, n, call, &plan);
        pool_calls += plan.device[0] == 0;
        twin_calls += plan.device[0] == 2;
    }
    assert_true(pool_calls >= 1);
    assert_int_equal(twin_calls, 0);
}

/* Two devices within the noise of each other (the stencil at 10^5: pool and
 * PoCL 0.10-0.12 ms each): whichever ran the size class's last call keeps
 * it, whatever the order of the candidates, so calls do not trade places
 * each time the means cross. The runner-up is still measured now and then. */
static void test_near_tie_keeps_the_incumbent(void **state)
{
    (void)state;
    const double n = 1e5;
    weft_perf_history pool, dev;
    synthetic(&pool, 2e-6, 1.00e-9);
    synthetic(&dev, 2e-6, 0.95e-9);                 /* 5% faster */
    for (double m = 1024; m <= (1 << 24); m *= 2) { /* settled: two samples a size */
        weft_perf_record(&pool, m * 1.3, 2e-6 + 1.00e-9 * m * 1.3);
        weft_perf_record(&dev, m * 1.3, 2e-6 + 0.95e-9 * m * 1.3);
    }
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &dev, 0)};
    c[1].overhead = 2e-6;
    weft_perf_plan plan, again;
    weft_perf_choose(c, 2, n, &plan); /* no incumbent: the faster */
    assert_int_equal(plan.device[0], 1);
    for (size_t inc = 0; inc < 2; inc++) {
        c[0].incumbent = inc == 0;
        c[1].incumbent = inc == 1;
        for (uint64_t call = 0; call < 4 * WEFT_PERF_REMEASURE_EVERY; call++) {
            weft_perf_choose_at(c, 2, n, call, &plan);
            assert_int_equal(plan.count, 1);
            if (!plan.remeasuring) assert_int_equal(plan.device[0], inc);
            int periodic = call % WEFT_PERF_REMEASURE_EVERY >= WEFT_PERF_REMEASURE_EVERY - 2;
            if (periodic) { /* the other is measured again, within 1.5x */
                assert_true(plan.remeasuring);
                assert_int_equal(plan.device[0], 1 - inc);
            }
            weft_perf_choose_at(c, 2, n, call, &again); /* deterministic */
            assert_same_plan(&plan, &again, 2);
        }
    }
    /* An incumbent never measured at this size has nothing to stand on: the
     * prediction decides. */
    weft_perf_history far;
    memset(&far, 0, sizeof far);
    weft_perf_record(&far, 1e3, 2e-6 + 1.00e-9 * 1e3);
    weft_perf_record(&far, 1e7, 2e-6 + 1.00e-9 * 1e7);
    weft_perf_record(&far, 1e7, 2e-6 + 1.00e-9 * 1e7);
    c[0].history = &far;
    c[0].incumbent = 1;
    c[0].explore = 0; /* else it is measured at this size first */
    c[1].incumbent = 0;
    weft_perf_choose(c, 2, n, &plan);
    assert_int_equal(plan.device[0], 1);
}

/* ...but a device predicted clearly faster (past WEFT_PERF_STICK) takes the
 * size class over at once, and shares that finish sooner still win. */
static void test_clearly_faster_device_takes_over_from_the_incumbent(void **state)
{
    (void)state;
    const double n = 1e6;
    weft_perf_history pool, dev;
    synthetic(&pool, 2e-6, 1.0e-9);
    synthetic(&dev, 2e-6, 1.0e-9 / (WEFT_PERF_STICK * 1.02));
    weft_perf_candidate c[] = {candidate(0, &pool, 0), candidate(1, &dev, 0)};
    c[1].overhead = 2e-6;
    c[0].incumbent = 1;
    weft_perf_plan plan;
    weft_perf_choose(c, 2, n, &plan);
    assert_int_equal(plan.count, 1);
    assert_int_equal(plan.device[0], 1);
    assert_false(plan.remeasuring);
    /* Different resources of equal speed: the split, incumbent or not. */
    synthetic(&dev, 2e-6, 1.0e-9);
    c[1].group = 1;
    weft_perf_choose(c, 2, 8e6, &plan);
    assert_int_equal(plan.count, 2);
}

/* A device that fails is left out (placement drops it from the candidates
 * until its retry), another becomes the incumbent meanwhile, and when the
 * device is back a near-tie no longer brings the calls to it; one clearly
 * faster wins them back. Placement's bookkeeping, replayed on synthetic
 * histories. */
static void test_failing_incumbent_is_not_chosen_forever(void **state)
{
    (void)state;
    const double n = 1e6, per_element[2] = {1.0e-9, 0.97e-9};
    weft_perf_history h[2];
    synthetic(&h[0], 2e-6, per_element[0]);
    synthetic(&h[1], 2e-6, per_element[1]);
    weft_perf_health health[2] = {{0}, {0}};
    size_t incumbent = 1;
    int fails = 1; /* device 1 fails every call until this is cleared */
    size_t on_device = 0;
    for (uint64_t call = 0; call < 256; call++) {
        weft_perf_candidate c[2];
        size_t count = 0;
        for (size_t d = 0; d < 2; d++) {
            if (!weft_perf_usable(&health[d], call)) continue;
            c[count] = candidate(d, &h[d], 0);
            c[count].overhead = 2e-6;
            c[count++].incumbent = d == incumbent;
        }
        weft_perf_plan plan;
        weft_perf_choose_at(c, count, n, call, &plan);
        size_t d = plan.device[0];
        if (!plan.remeasuring && !plan.exploring) incumbent = d;
        if (d == 1 && fails) {
            weft_perf_failed(&health[1], call);
            continue;
        }
        if (d == 1) on_device++;
        weft_perf_succeeded(&health[d]);
        weft_perf_record(&h[d], n, 2e-6 + per_element[d] * n);
    }
    /* Tried again now and then, with waits that double: a handful of calls. */
    assert_true(health[1].failures >= 5);
    assert_int_equal(on_device, 0);
    assert_int_equal(incumbent, 0);
    /* Back and 3% faster: the pool keeps it. Back and 2x faster: it wins. */
    weft_perf_succeeded(&health[1]);
    weft_perf_candidate c[] = {candidate(0, &h[0], 0), candidate(1, &h[1], 0)};
    c[1].overhead = 2e-6;
    c[0].incumbent = 1;
    weft_perf_plan plan;
    weft_perf_choose(c, 2, n, &plan);
    assert_int_equal(plan.device[0], 0);
    synthetic(&h[1], 2e-6, per_element[0] / 2);
    weft_perf_choose(c, 2, n, &plan);
    assert_int_equal(plan.device[0], 1);
}

/* Another process's file joins a class as its samples would: counted at
 * most WEFT_PERF_OUTLIER times the class's time. Contexts sharing a cache
 * directory (the placement bench's columns) merged one context's first call
 * (3-12 ms of page faults) into another's settled 0.085 ms: the pool's
 * stencil read 1.87 ms, and the calls left it for a slower device. */
static void temp_dir(char *dir);
static void remove_dir(const char *dir);

static void test_merged_files_are_clipped_like_samples(void **state)
{
    (void)state;
    const double n = 1e5;
    weft_perf_history mine, theirs;
    memset(&mine, 0, sizeof mine);
    memset(&theirs, 0, sizeof theirs);
    for (int i = 0; i < 4; i++)
        weft_perf_record(&mine, n, 0.085e-3);
    weft_perf_record(&theirs, n, 9e-3);
    weft_perf_merge(&mine, &theirs);
    enum weft_perf_basis basis;
    double t = weft_perf_predict(&mine, n, 2e-6, &basis);
    assert_int_equal(basis, WEFT_PERF_EXACT);
    assert_true(t <= (4 * 0.085e-3 + WEFT_PERF_OUTLIER * 0.085e-3) / 5 * 1.0001);
    assert_int_equal(mine.cls[weft_perf_class_of(n)].samples, 5);
    /* Faster samples join as they are, and an empty class takes the file's. */
    memset(&theirs, 0, sizeof theirs);
    weft_perf_record(&theirs, n, 0.05e-3);
    weft_perf_record(&theirs, 4 * n, 0.3e-3);
    weft_perf_merge(&mine, &theirs);
    t = weft_perf_predict(&mine, n, 2e-6, &basis);
    assert_true(t < (4 * 0.085e-3 + WEFT_PERF_OUTLIER * 0.085e-3) / 5);
    t = weft_perf_predict(&mine, 4 * n, 2e-6, &basis);
    assert_int_equal(basis, WEFT_PERF_EXACT);
    assert_true(fabs(t - 0.3e-3) < 1e-12);
    /* Saving adds ours to the file and leaves ours as it is: the file's slow
     * samples never reach a settled model through a save. */
    char dir[64], path[128];
    temp_dir(dir);
    snprintf(path, sizeof path, "%s/model.txt", dir);
    memset(&theirs, 0, sizeof theirs);
    for (int i = 0; i < WEFT_PERF_WINDOW; i++)
        weft_perf_record(&theirs, n, 9e-3);
    assert_int_equal(weft_perf_save(path, "op", "dev", &theirs), WEFT_OK);
    memset(&mine, 0, sizeof mine);
    for (int i = 0; i < 4; i++)
        weft_perf_record(&mine, n, 0.085e-3);
    assert_int_equal(weft_perf_save(path, "op", "dev", &mine), WEFT_OK);
    t = weft_perf_predict(&mine, n, 2e-6, &basis);
    assert_true(t <= WEFT_PERF_OUTLIER * 0.085e-3 * 1.0001);
    remove_dir(dir);
}

/* The nearest measured classes come from the history's bit mask: the same
 * predictions as a scan of every class, for histories recorded, merged and
 * loaded from a file. */
static double predict_by_scan(const weft_perf_history *h, double n, double overhead)
{
    int k = weft_perf_class_of(n < 1 ? 1 : n), lo = -1, hi = -1;
    for (int j = k; j >= 0 && lo < 0; j--)
        if (h->cls[j].samples > 0) lo = j;
    for (int j = k; j < WEFT_PERF_CLASSES && hi < 0; j++)
        if (h->cls[j].samples > 0) hi = j;
    if (lo < 0 && hi < 0) return 0;
    const weft_perf_class *a = &h->cls[lo >= 0 ? lo : hi], *b = &h->cls[hi >= 0 ? hi : lo];
    if (lo >= 0 && hi >= 0 && lo != hi)
        return a->mean_s + (b->mean_s - a->mean_s) * (n - a->mean_n) / (b->mean_n - a->mean_n);
    double fixed = overhead < a->mean_s ? overhead : a->mean_s;
    return fixed + (a->mean_s - fixed) * n / a->mean_n;
}

static void test_predictions_find_measured_classes_at_once(void **state)
{
    (void)state;
    char dir[64], path[128];
    temp_dir(dir);
    snprintf(path, sizeof path, "%s/model.txt", dir);
    uint64_t r = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 200; round++) {
        weft_perf_history a, b, loaded;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        for (int i = 0; i < round % 7; i++) { /* a few classes, anywhere */
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            double n = ldexp(1.0 + (double)(r & 1023) / 1024, (int)(r >> 20) % WEFT_PERF_CLASSES);
            weft_perf_record(i & 1 ? &b : &a, n, n * 1e-9 + 1e-6);
        }
        weft_perf_merge(&a, &b);
        unlink(path); /* saving merges with what the file holds */
        assert_int_equal(weft_perf_save(path, "op", "dev", &a), WEFT_OK);
        assert_true(weft_perf_load(path, &loaded));
        for (int k = 0; k < 2 * WEFT_PERF_CLASSES; k++) {
            double n = ldexp(1.3, k / 2) * (k & 1 ? 1.2 : 1);
            enum weft_perf_basis basis;
            for (int which = 0; which < 2; which++) {
                const weft_perf_history *h = which ? &loaded : &a;
                double want = predict_by_scan(h, n, 5e-6);
                double got = weft_perf_predict(h, n, 5e-6, &basis);
                if (fabs(got - want) > 1e-12 * fabs(want))
                    fail_msg("round %d n %g: %.17g, by scan %.17g", round, n, got, want);
            }
        }
    }
    remove_dir(dir);
}

static void test_devices_of_different_groups_split(void **state)
{
    (void)state;
    weft_perf_history gpu, cpu;
    synthetic(&gpu, 20e-6, 1e-9);
    synthetic(&cpu, 2e-6, 1e-9);
    /* Equal speed, different resources: half each, finishing together. */
    weft_perf_candidate c[] = {candidate(0, &cpu, 0), candidate(1, &gpu, 1)};
    weft_perf_plan plan;
    weft_perf_choose(c, 2, 8e6, &plan);
    assert_int_equal(plan.count, 2);
    assert_true(fabs(plan.share[0] - 0.5) < 0.01);
    assert_true(fabs(plan.share[0] + plan.share[1] - 1) < 1e-9);
    /* The same resource: splitting gains nothing. */
    c[1].group = 0;
    weft_perf_choose(c, 2, 8e6, &plan);
    assert_int_equal(plan.count, 1);
    /* Data not on the device counts: copies make the pool better alone. */
    c[1].group = 1;
    c[1].transfer = 1.0;
    weft_perf_choose(c, 2, 8e6, &plan);
    assert_int_equal(plan.count, 1);
    assert_int_equal(plan.device[0], 0);
}

static void test_failed_device_is_retried_later(void **state)
{
    (void)state;
    weft_perf_health h = {0};
    assert_true(weft_perf_usable(&h, 0));
    weft_perf_failed(&h, 10);
    assert_false(weft_perf_usable(&h, 10));
    assert_false(weft_perf_usable(&h, 11));
    assert_true(weft_perf_usable(&h, 12)); /* not forever */
    weft_perf_failed(&h, 12);
    assert_false(weft_perf_usable(&h, 15));
    assert_true(weft_perf_usable(&h, 16)); /* each failure doubles the wait */
    weft_perf_succeeded(&h);
    assert_true(weft_perf_usable(&h, 16));
    for (int i = 0; i < 100; i++)
        weft_perf_failed(&h, 0);
    assert_true(weft_perf_usable(&h, (uint64_t)1 << 17)); /* the wait is bounded */
}

static void temp_dir(char *dir)
{
    strcpy(dir, "/tmp/weft-test-placement-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char path[4200];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static weft_device_info device_named(const char *driver)
{
    weft_device_info info;
    memset(&info, 0, sizeof info);
    strcpy(info.name, "test device");
    strcpy(info.vendor, "test");
    strcpy(info.driver_version, driver);
    return info;
}

static void test_model_files_damaged_or_stale_are_ignored(void **state)
{
    (void)state;
    char dir[64], path[4400];
    temp_dir(dir);
    weft_device_info info = device_named("1.0");
    weft_perf_path(dir, &info, "map:y = x", path, sizeof path);
    weft_perf_history h, loaded;
    synthetic(&h, 1e-6, 1e-9);
    ASSERT_OK(weft_perf_save(path, "map \"y = x\"", info.name, &h));
    assert_true(weft_perf_load(path, &loaded));
    assert_true(fabs(loaded.cls[20].mean_s - h.cls[20].mean_s) < 1e-15);
    const char *damaged[] = {
        "",
        "weft-model-1\n20 1 1048576 0.001", /* cut short */
        "weft-model-1\n20 1 1048576 nan\n",
        "weft-model-1\n20 1 99 0.001\n",        /* elements outside the class */
        "weft-model-1\n60 1 1048576 0.001\n",   /* no such class */
        "weft-model-1\n20 1e9 1048576 0.001\n", /* too many samples */
        "weft-model-1\n20 1 1048576 -1\n",
        "weft-model-1\n20 1 1048576 0.001 junk\n",
        "weft-model-0\n20 1 1048576 0.001\n", /* another format: stale */
        "\x01\x02\x03garbage",
    };
    for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
        write_file(path, damaged[i]);
        memset(&loaded, 0x55, sizeof loaded);
        assert_false(weft_perf_load(path, &loaded));
        /* A save replaces the damaged file with a sound one. */
        weft_perf_history fresh = h;
        ASSERT_OK(weft_perf_save(path, "x", "y", &fresh));
        assert_true(weft_perf_load(path, &loaded));
    }
    /* A FIFO in its place is not read (it would block). */
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_false(weft_perf_load(path, &loaded));
    unlink(path);
    /* Another driver version or identity is another file: old models go stale. */
    char other[4400];
    weft_device_info newer = device_named("1.1");
    weft_perf_path(dir, &newer, "map:y = x", other, sizeof other);
    assert_string_not_equal(path, other);
    weft_perf_path(dir, &info, "map:y = 2*x", other, sizeof other);
    assert_string_not_equal(path, other);
    remove_dir(dir);
}

static void test_processes_share_one_model(void **state)
{
    (void)state;
    char dir[64], path[4400];
    temp_dir(dir);
    weft_device_info info = device_named("1.0");
    weft_perf_path(dir, &info, "reduce:x", path, sizeof path);
    enum { CHILDREN = 4, SAVES = 40 };
    pid_t pids[CHILDREN];
    for (int c = 0; c < CHILDREN; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0) {
            int bad = 0;
            for (int s = 0; s < SAVES; s++) {
                weft_perf_history h;
                memset(&h, 0, sizeof h);
                weft_perf_record(&h, 1 << (10 + c), 1e-6 * (c + 1));
                bad |= weft_perf_save(path, "reduce \"x\"", info.name, &h) != WEFT_OK;
                weft_perf_history seen;
                bad |= !weft_perf_load(path, &seen); /* never a half-written file */
            }
            _exit(bad);
        }
    }
    for (int c = 0; c < CHILDREN; c++) {
        int status;
        assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    weft_perf_history h;
    assert_true(weft_perf_load(path, &h));
    int classes = 0;
    for (int k = 0; k < WEFT_PERF_CLASSES; k++)
        classes += h.cls[k].samples > 0;
    assert_true(classes >= 1);
    /* Every temporary was renamed into place or removed. */
    DIR *d = opendir(dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));)
        files += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 1);
    remove_dir(dir);
}

/* ---- On a context, with the default options (placement from the model) ---- */

static weft_ctx *model_ctx(const char *cache_dir)
{
    weft_options o;
    weft_options_init(&o);
    o.cache_dir = cache_dir;
    return test_ctx_with(&o);
}

/* A context with models in dir (made here) and an OpenCL device selected;
 * NULL, dir removed, where there is none (the caller skips). */
static weft_ctx *opencl_model_ctx(char *dir)
{
    temp_dir(dir);
    weft_ctx *ctx = model_ctx(dir);
    if (selected_opencl(ctx) > 0) return ctx;
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
    return NULL;
}

enum { N = 300000 };

/* Made of + - * / sqrt: the same bits on every device and the pool
 * (docs/expressions.md); exp, pow, erfc may differ in their last bits. */
static void run_all(weft_ctx *ctx, weft_array *x, weft_array *y, weft_array *z, double *sum,
                    weft_scalar *dot)
{
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f32("a", 0.75f)};
    ASSERT_OK(weft_map(ctx, "y = sqrt(fabs(x)) * a + x / (x * x + 1)", b, 3, NULL));
    ASSERT_OK(weft_sum(ctx, y, sum, NULL));
    ASSERT_OK(weft_reduce_expr(ctx, WEFT_SUM, "x * y", b, 2, dot, NULL));
    ASSERT_OK(weft_scan(ctx, WEFT_SUM, 0, y, z, NULL));
}

static void place_all(weft_ctx *ctx, uint64_t mask)
{
    ASSERT_OK(weft_ctx_place(ctx, "y = sqrt(fabs(x)) * a + x / (x * x + 1)", mask));
    ASSERT_OK(weft_ctx_place(ctx, "x", mask));
    ASSERT_OK(weft_ctx_place(ctx, "x * y", mask));
    ASSERT_OK(weft_ctx_place(ctx, "scan totals", mask));
    ASSERT_OK(weft_ctx_place(ctx, "scan apply", mask));
}

static void test_results_identical_wherever_placed(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir);
    weft_ctx *ctx = model_ctx(dir);
    float *in = malloc(N * sizeof *in), *ref_y = malloc(N * sizeof *ref_y),
          *ref_z = malloc(N * sizeof *ref_z), *got = malloc(N * sizeof *got);
    fill_f32(in, N, 7);
    weft_array *x, *y, *z;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, in, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &z));
    size_t ndev = 0;
    weft_device_count(ctx, &ndev);
    double ref_sum = 0;
    weft_scalar ref_dot;
    place_all(ctx, WEFT_PLACE_HOST);
    run_all(ctx, x, y, z, &ref_sum, &ref_dot);
    ASSERT_OK(weft_array_read(y, 0, N, ref_y));
    ASSERT_OK(weft_array_read(z, 0, N, ref_z));
    /* Each device alone, the devices together, then the model's own choice
     * over several calls (measuring, then choosing). */
    uint64_t masks[8 + 3];
    size_t nmasks = 0;
    for (size_t d = 1; d < ndev && d < 8; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        if (info.selected) masks[nmasks++] = WEFT_PLACE_DEVICE(d);
    }
    masks[nmasks++] = WEFT_PLACE_DEVICES;
    masks[nmasks++] = WEFT_PLACE_AUTO;
    for (size_t m = 0; m < nmasks; m++) {
        place_all(ctx, masks[m]);
        for (int call = 0; call < (masks[m] == WEFT_PLACE_AUTO ? 5 : 1); call++) {
            double sum = 0;
            weft_scalar dot;
            ASSERT_OK(weft_array_write(y, 0, N, in)); /* stale it: the map must rewrite it */
            run_all(ctx, x, y, z, &sum, &dot);
            assert_memory_equal(&sum, &ref_sum, sizeof sum);
            assert_memory_equal(&dot.value.f64, &ref_dot.value.f64, sizeof(double));
            ASSERT_OK(weft_array_read(y, 0, N, got));
            assert_memory_equal(got, ref_y, N * sizeof *got);
            ASSERT_OK(weft_array_read(z, 0, N, got));
            assert_memory_equal(got, ref_z, N * sizeof *got);
        }
    }
    /* Hinted to a device, the pieces ran there (else on the pool). */
    size_t dev = selected_opencl(ctx) ? 1 : 0;
    place_all(ctx, dev ? WEFT_PLACE_DEVICE(1) : WEFT_PLACE_HOST);
    double sum;
    ASSERT_OK(weft_sum(ctx, y, &sum, NULL));
    weft_piece_report pieces[16];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 16, &count));
    for (size_t i = 0; i < count; i++)
        if (!pieces[i].fell_back) assert_int_equal(pieces[i].device, dev);
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_array_free(z));
    ASSERT_OK(weft_ctx_free(ctx));
    free(in);
    free(ref_y);
    free(ref_z);
    free(got);
    /* The models went to the cache directory, and weft_cache_clear removes them. */
    weft_cache_usage usage;
    ASSERT_OK(weft_cache_usage_get(dir, &usage));
    assert_true(usage.models >= 1);
    size_t removed = 0;
    ASSERT_OK(weft_cache_clear(dir, &removed));
    ASSERT_OK(weft_cache_usage_get(dir, &usage));
    assert_int_equal(usage.models, 0);
    remove_dir(dir);
}

/* The path of the pool's model file in dir for the operation whose label
 * holds fragment, into path (cap bytes): 1 when a file holds it. */
static int pool_model_file(const char *dir, const char *pool_name, const char *fragment, char *path,
                           size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char text[4096], want[300];
    snprintf(want, sizeof want, "# device: %s\n", pool_name);
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        snprintf(path, cap, "%s/%s", dir, e->d_name);
        FILE *f = e->d_name[0] == '.' ? NULL : fopen(path, "r");
        if (!f) continue;
        size_t len = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[len] = 0;
        found = strstr(text, want) && strstr(text, fragment);
    }
    closedir(d);
    return found;
}

/* Rewrites the pool's model file of the operation whose text holds
 * `fragment`: one sample at size class of n, its time times factor. */
static void scale_pool_model(const char *dir, const char *pool_name, const char *fragment, double n,
                             double factor)
{
    char path[4200], text[4096];
    assert_true(pool_model_file(dir, pool_name, fragment, path, sizeof path));
    weft_perf_history h;
    assert_true(weft_perf_load(path, &h));
    weft_perf_class *c = &h.cls[weft_perf_class_of(n)];
    assert_true(c->samples > 0);
    snprintf(text, sizeof text,
             "weft-model-1\n# op: map\n# device: pool\n# class samples elements seconds\n"
             "%d 1 %.17g %.17g\n",
             weft_perf_class_of(n), c->mean_n, c->mean_s * factor);
    write_file(path, text);
}

/* The samples of the pool's model in dir for the operation whose label holds
 * fragment, at n elements; -1 when no file holds it. */
static double pool_samples_on_disk(const char *dir, const char *pool_name, const char *fragment,
                                   double n)
{
    char path[4200];
    weft_perf_history h;
    if (!pool_model_file(dir, pool_name, fragment, path, sizeof path) || !weft_perf_load(path, &h))
        return -1;
    return h.cls[weft_perf_class_of(n)].samples;
}

/* A context saves its model when a class reaches 1 and 4 samples and when it
 * is freed. Each save merged the whole history into the file, the file's
 * own samples (read when the operation was first placed, or written by the
 * previous save) included: 3 calls left 4 samples on disk, and a second
 * context's one call 7. Each sample reaches the file once. */
static void test_each_sample_is_saved_once(void **state)
{
    (void)state;
    enum { M = 5000 };
    char dir[64];
    temp_dir(dir);
    const char *map = "y = x * 5 + 2";
    int calls[] = {3, 1};
    double want = 0;
    for (int round = 0; round < 2; round++) {
        weft_ctx *ctx = model_ctx(dir);
        weft_device_info pool;
        ASSERT_OK(weft_device_get_info(ctx, 0, &pool));
        weft_array *x, *y;
        ASSERT_OK(weft_array_create(ctx, WEFT_F64, M, &x));
        ASSERT_OK(weft_array_create(ctx, WEFT_F64, M, &y));
        weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
        ASSERT_OK(weft_ctx_place(ctx, map, WEFT_PLACE_HOST)); /* every call timed there */
        for (int c = 0; c < calls[round]; c++)
            ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
        ASSERT_OK(weft_array_free(x));
        ASSERT_OK(weft_array_free(y));
        ASSERT_OK(weft_ctx_free(ctx));
        want += calls[round];
        double got = pool_samples_on_disk(dir, pool.name, "x * 5 + 2", M);
        if (got != want) fail_msg("round %d: %g samples on disk, %g calls made", round, got, want);
    }
    remove_dir(dir);
}

/* The pool is measured again now and then like any device: its code needs no
 * build. (It was never explored or re-measured for expressions, so one slow
 * first sample, a first touch of the output, kept every later call on a
 * device.) A pool model file holding one sample 100x too slow: within two
 * rounds of re-measurement the pool runs a call. */
static void test_pool_is_measured_again_like_a_device(void **state)
{
    (void)state;
    char dir[64];
    weft_ctx *ctx = opencl_model_ctx(dir);
    if (!ctx) skip();
    const char *map = "y = x * 3 + 1";
    weft_device_info pool;
    ASSERT_OK(weft_device_get_info(ctx, 0, &pool));
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    /* Samples of both, saved to the cache directory at weft_ctx_free; the
     * devices first, so no build runs beside the pool's call (such a call
     * is not the pool's time). */
    ASSERT_OK(weft_ctx_place(ctx, map, WEFT_PLACE_DEVICES));
    for (int i = 0; i < 3; i++)
        ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
    ASSERT_OK(weft_ctx_place(ctx, map, WEFT_PLACE_HOST));
    for (int i = 0; i < 2; i++) { /* the first may leave another device's build to do */
        ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
        weft_testing_wait_builds(ctx);
    }
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    /* The pool's file: its one sample at N made 100x slower. */
    scale_pool_model(dir, pool.name, map, N, 100);
    ctx = model_ctx(dir);
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &y));
    b[0] = weft_bind_array("x", x);
    b[1] = weft_bind_array("y", y);
    /* The device's code built (else the pool runs while it builds). */
    ASSERT_OK(weft_ctx_place(ctx, map, WEFT_PLACE_DEVICES));
    ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
    ASSERT_OK(weft_ctx_place(ctx, map, WEFT_PLACE_AUTO));
    weft_op_stats before[4], after[4];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, before, 4, &count));
    for (int i = 0; i < 2 * WEFT_PERF_REMEASURE_EVERY; i++)
        ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
    ASSERT_OK(weft_ctx_op_stats(ctx, after, 4, &count));
    assert_int_equal(count, 1);
    assert_true(after[0].device[0].pieces > before[0].device[0].pieces);
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
}

/* Arrays a zero-copy device must copy (wrapped memory not aligned for it)
 * make another operation for the model: copies in and out cost that device
 * many times its time on arrays it works on in place. */
static void test_arrays_a_device_must_copy_are_modelled_apart(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir);
    weft_ctx *ctx = model_ctx(dir);
    const char *map = "y = x * 2 + 1";
    size_t ndev = 0, zero_copy = 0;
    weft_device_count(ctx, &ndev);
    for (size_t d = 1; d < ndev; d++) {
        weft_device_info info;
        ASSERT_OK(weft_device_get_info(ctx, d, &info));
        zero_copy += info.selected && info.zero_copy;
    }
    double *mem = malloc((2 * N + 1) * sizeof *mem), *xu = mem + 1, *yu = xu + N;
    fill_f64(xu, N, 5);
    weft_array *x, *y, *xa, *ya;
    ASSERT_OK(weft_array_from(ctx, WEFT_F64, N, xu, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &y));
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F64, N, xu, &xa)); /* 8 bytes past an aligned start */
    ASSERT_OK(weft_array_wrap(ctx, WEFT_F64, N, yu, &ya));
    weft_bind in_place[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    weft_bind copied[] = {weft_bind_array("x", xa), weft_bind_array("y", ya)};
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(weft_map(ctx, map, in_place, 2, NULL));
        ASSERT_OK(weft_map(ctx, map, copied, 2, NULL));
    }
    ASSERT_OK(weft_array_sync(ya));
    for (size_t i = 0; i < N; i++)
        if (yu[i] != xu[i] * 2 + 1) fail_msg("element %zu: %g, want %g", i, yu[i], xu[i] * 2 + 1);
    weft_op_stats stats[4];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 4, &count));
    assert_int_equal(count, zero_copy ? 2 : 1);
    if (zero_copy) {
        assert_null(strstr(stats[0].operation, "copied"));
        assert_non_null(strstr(stats[1].operation, "(arrays copied)"));
        assert_int_equal(stats[0].calls, 3);
        assert_int_equal(stats[1].calls, 3);
    }
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_array_free(xa));
    ASSERT_OK(weft_array_free(ya));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
    free(mem);
}

static const char triple_source[] =
    "__kernel void triple(__global const float *x, __global float *y) {\n"
    "    size_t i = get_global_id(0); y[i] = x[i] * 3.0f;\n}\n";

static void triple_host(const weft_host_call *call)
{
    const float *x = weft_host_arg(call, 0);
    float *y = weft_host_arg(call, 1);
    for (size_t i = call->begin; i < call->end; i++)
        y[i] = x[i] * 3.0f;
}

/* User-kernel launches are placed by the model as kernel:<hash>:<name>:
 * hints send them to the pool (through host_fn) or a device, the model
 * measures and chooses, and every placement gives the same bits. */
static void test_user_launches_are_placed(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir);
    weft_ctx *ctx = model_ctx(dir);
    enum { LN = 1 << 16 };
    float *in = malloc(LN * sizeof *in), *got = malloc(LN * sizeof *got);
    fill_f32(in, LN, 5);
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, LN, in, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, LN, &y));
    weft_program *p;
    ASSERT_OK(weft_program_build(ctx, triple_source, NULL, &p));
    weft_range r = weft_range_1d(LN);
    weft_arg args[] = {weft_arg_slice(x), weft_arg_slice(y)};
    size_t dev = selected_opencl(ctx) ? 1 : 0;
    uint64_t masks[] = {WEFT_PLACE_HOST, dev ? WEFT_PLACE_DEVICE(dev) : WEFT_PLACE_HOST,
                        WEFT_PLACE_AUTO};
    /* The first split launch is checked against one device as split_range
     * cut it (launch_check.c); the model places the launches after it. */
    ASSERT_OK(weft_launch(p, "triple", &r, args, 2, triple_host, NULL, NULL));
    int calls = 0; /* placed launches after the first */
    for (size_t m = 0; m < 3; m++) {
        ASSERT_OK(weft_ctx_place(ctx, "triple", masks[m]));
        for (int call = 0; call < (m == 2 ? 6 : 2); call++, calls++) {
            ASSERT_OK(weft_launch(p, "triple", &r, args, 2, triple_host, NULL, NULL));
            ASSERT_OK(weft_array_read(y, 0, LN, got));
            for (size_t i = 0; i < LN; i++)
                assert_true(got[i] == in[i] * 3.0f);
            if (m == 2) continue;
            weft_piece_report pieces[16];
            size_t count = 0;
            ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 16, &count));
            assert_int_equal(count, 1);
            assert_int_equal(pieces[0].device, m == 0 ? 0 : dev);
        }
    }
    weft_op_stats stats[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 8, &count));
    int found = 0;
    for (size_t i = 0; i < count; i++)
        if (strstr(stats[i].operation, "triple")) {
            found = 1;
            /* the first launch too, where it was not split */
            assert_in_range(stats[i].calls, (uint64_t)calls, (uint64_t)calls + 1);
        }
    assert_true(found);
    ASSERT_OK(weft_program_free(p));
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    weft_cache_clear(dir, NULL);
    remove_dir(dir);
    free(in);
    free(got);
}

typedef struct captured {
    char text[16384];
    size_t len;
} captured;

static void capture(void *user, weft_log_level level, const char *message)
{
    (void)level;
    captured *c = user;
    int w = snprintf(c->text + c->len, sizeof c->text - c->len, "%s\n", message);
    if (w > 0 && c->len + (size_t)w < sizeof c->text) c->len += (size_t)w;
}

static void test_stats_and_log_say_where_and_why(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir);
    weft_ctx *ctx = model_ctx(dir);
    captured log = {.len = 0};
    ASSERT_OK(weft_ctx_set_log(ctx, capture, &log, WEFT_LOG_INFO));
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    for (int i = 0; i < 6; i++)
        ASSERT_OK(weft_map(ctx, "y = pow(x + 1, 1.7)", b, 2, NULL));
    /* The pool's calls while the device's code builds are not its time. */
    weft_testing_wait_builds(ctx);
    ASSERT_OK(weft_ctx_place(ctx, "y = pow(x + 1, 1.7)", WEFT_PLACE_HOST));
    ASSERT_OK(weft_map(ctx, "y = pow(x + 1, 1.7)", b, 2, NULL));
    weft_op_stats stats[4];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 4, &count));
    assert_int_equal(count, 1);
    assert_non_null(strstr(stats[0].operation, "pow(x + 1, 1.7)"));
    assert_int_equal(stats[0].calls, 7);
    uint64_t pieces = 0;
    for (size_t d = 0; d < stats[0].ndevices; d++)
        pieces += stats[0].device[d].pieces;
    assert_true(pieces >= 7);
    assert_true(stats[0].device[0].pieces >= 2); /* measured once, then hinted */
    assert_true(stats[0].device[0].seconds_per_element > 0);
    assert_true(stats[0].device[0].model_seconds_per_element > 0);
    assert_non_null(strstr(log.text, "placement: map \"y = pow(x + 1, 1.7)\""));
    assert_non_null(strstr(log.text, "predicted"));
    /* NULL arguments are refused, not crashed on. */
    assert_int_equal(weft_ctx_op_stats(ctx, NULL, 1, &count), WEFT_ERR_NULL);
    assert_int_equal(weft_ctx_place(ctx, NULL, 0), WEFT_ERR_NULL);
    ASSERT_OK(weft_ctx_op_stats(ctx, NULL, 0, &count));
    assert_int_equal(count, 1);
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
}

/* A call right after the operation ran on another device runs in its wake
 * (PoCL's threads still spinning on the cores the pool needs, caches cold):
 * n-body at 10^3 took the pool 3.0 ms there and 1.6 ms in steady state, and
 * with such samples the pool never won its calls back. Only a call that
 * follows one on the same device is taken into the model. */
static void test_calls_in_another_devices_wake_are_not_timed(void **state)
{
    (void)state;
    char dir[64];
    weft_ctx *ctx = opencl_model_ctx(dir);
    if (!ctx) skip();
    const char *text = "y = x * 2 + 1";
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    /* The device's first call is not timed (it builds), and every later
     * call runs in the other's wake. */
    const uint64_t where[2] = {WEFT_PLACE_DEVICE(1), WEFT_PLACE_HOST};
    for (int i = 0; i < 8; i++) {
        ASSERT_OK(weft_ctx_place(ctx, text, where[i & 1]));
        ASSERT_OK(weft_map(ctx, text, b, 2, NULL));
    }
    weft_op_stats stats[2];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 2, &count));
    assert_int_equal(count, 1);
    assert_true(stats[0].device[0].pieces >= 4 && stats[0].device[1].pieces >= 4);
    assert_true(stats[0].device[0].seconds_per_element == 0);
    assert_true(stats[0].device[1].seconds_per_element == 0);
    for (int i = 0; i < 2; i++) { /* the second follows the first on the pool */
        ASSERT_OK(weft_ctx_place(ctx, text, WEFT_PLACE_HOST));
        ASSERT_OK(weft_map(ctx, text, b, 2, NULL));
    }
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 2, &count));
    assert_true(stats[0].device[0].seconds_per_element > 0);
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
}

/* A device that fails is left out of the next calls (they run on the pool),
 * and tried again later rather than never. */
static void test_failing_device_is_left_out_then_retried(void **state)
{
    (void)state;
    char dir[64];
    weft_ctx *ctx = opencl_model_ctx(dir);
    if (!ctx) skip();
    weft_array *x;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_ctx_place(ctx, "x", WEFT_PLACE_DEVICE(1)));
    double sum;
    ASSERT_OK(weft_sum(ctx, x, &sum, NULL)); /* builds the device's code */
    weft_testing_set_faults(ctx, 1u << 0);   /* WEFT_FAULT_LAUNCH */
    ASSERT_OK(weft_sum(ctx, x, &sum, NULL)); /* fails there, reruns on the pool */
    weft_stats before, after;
    ASSERT_OK(weft_ctx_stats(ctx, &before));
    ASSERT_OK(weft_sum(ctx, x, &sum, NULL)); /* left out: straight to the pool */
    ASSERT_OK(weft_ctx_stats(ctx, &after));
    assert_int_equal(after.pieces_rerun, before.pieces_rerun);
    weft_testing_set_faults(ctx, 0);
    int back = 0;
    for (int i = 0; i < 8 && !back; i++) {
        ASSERT_OK(weft_sum(ctx, x, &sum, NULL));
        weft_piece_report p[16];
        size_t count = 0;
        ASSERT_OK(weft_ctx_last_pieces(ctx, p, 16, &count));
        back = count > 0 && p[0].device != 0;
    }
    assert_true(back);
    assert_true(sum == 0.0);
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
}

/* ---- Tiered compile: device code built in the background ---- */

static weft_ctx *tiered_ctx(const char *cache_dir)
{
    weft_options o;
    weft_options_init(&o);
    o.cache_dir = cache_dir; /* fresh: every device build starts from source */
    o.compile = WEFT_COMPILE_BACKGROUND;
    return test_ctx_with(&o);
}

static int ran_on_a_device(weft_ctx *ctx)
{
    weft_piece_report pieces[16];
    size_t count = 0;
    ASSERT_OK(weft_ctx_last_pieces(ctx, pieces, 16, &count));
    int device = 0;
    for (size_t i = 0; i < count; i++)
        if (pieces[i].device != 0 && !pieces[i].fell_back) device = 1;
    return device;
}

/* The pool's measured seconds per element for the operation (0: never timed). */
static double pool_seconds_per_element(weft_ctx *ctx, const char *operation)
{
    weft_op_stats stats[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 8, &count));
    for (size_t i = 0; i < count && i < 8; i++)
        if (strstr(stats[i].operation, operation)) return stats[i].device[0].seconds_per_element;
    return 0;
}

static uint64_t device_pieces(weft_ctx *ctx, const char *operation)
{
    weft_op_stats stats[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 8, &count));
    uint64_t pieces = 0;
    for (size_t i = 0; i < count && i < 8; i++)
        if (strstr(stats[i].operation, operation))
            for (size_t d = 1; d < stats[i].ndevices; d++)
                pieces += stats[i].device[d].pieces;
    return pieces;
}

/* A first call on a cold cache returns with the pool's result without
 * waiting for the device's build; once built, the model measures the
 * device, whose kernel (built in the background with the options the
 * driver uses) gives the pool's bits. */
static void test_first_call_does_not_wait_for_device_code(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir);
    weft_ctx *ctx = tiered_ctx(dir);
    const char *map = "y = sqrt(x * x + 1) / (x + 2) - x * 0.25f";
    float *in = malloc(N * sizeof *in), *pool_y = malloc(N * sizeof *pool_y),
          *got = malloc(N * sizeof *got);
    fill_f32(in, N, 3);
    weft_array *x, *y;
    ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, in, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    weft_cache_stats before, built, after;
    ASSERT_OK(weft_cache_stats_get(ctx, &before));
    double t0 = weft_now();
    ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
    double call = weft_now() - t0;
    weft_scalar pool_dot, dot;
    ASSERT_OK(weft_reduce_expr(ctx, WEFT_SUM, "x * y", b, 2, &pool_dot, NULL));
    assert_false(ran_on_a_device(ctx));
    assert_int_equal(device_pieces(ctx, map), 0);
    assert_int_equal(device_pieces(ctx, "x * y"), 0);
    ASSERT_OK(weft_array_read(y, 0, N, pool_y));
    /* Timed while the device's code built on the same cores (queued by
     * this very call, so not built when it was placed), the pool's call is
     * not its own time: not taken into its model. */
    if (selected_opencl(ctx) > 0) assert_true(pool_seconds_per_element(ctx, map) == 0);
    weft_testing_wait_builds(ctx);
    print_message("first call %.2f ms; device code built %.2f ms after it started\n", call * 1e3,
                  (weft_now() - t0) * 1e3);
    if (selected_opencl(ctx) == 0) goto done; /* nothing to build */
    /* The devices' code was built though only the pool ran. */
    ASSERT_OK(weft_cache_stats_get(ctx, &built));
    assert_true(built.misses + built.disk_hits > before.misses + before.disk_hits);
    /* Built: the next calls measure the pool (its first time was not taken)
     * and a device (no sample there yet), and build nothing in the call. */
    int on_device = 0;
    for (int tries = 0; tries < 2 && !on_device; tries++) {
        ASSERT_OK(weft_array_write(y, 0, N, in)); /* stale it: the map must rewrite it */
        ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
        on_device = ran_on_a_device(ctx);
        ASSERT_OK(weft_array_read(y, 0, N, got));
        assert_memory_equal(got, pool_y, N * sizeof *got);
    }
    assert_true(on_device);
    on_device = 0;
    for (int tries = 0; tries < 2 && !on_device; tries++) {
        ASSERT_OK(weft_reduce_expr(ctx, WEFT_SUM, "x * y", b, 2, &dot, NULL));
        on_device = ran_on_a_device(ctx);
        assert_memory_equal(&dot.value.f64, &pool_dot.value.f64, sizeof(double));
    }
    assert_true(on_device);
    ASSERT_OK(weft_cache_stats_get(ctx, &after));
    assert_int_equal(after.misses, built.misses);
    assert_int_equal(after.disk_hits, built.disk_hits);
    assert_true(device_pieces(ctx, map) > 0);
done:
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
    free(in);
    free(pool_y);
    free(got);
}

/* Compiled in the call (WEFT_COMPILE=sync), a device whose code was not
 * built yet was never explored: when the pool's first time beat the
 * device's static estimate, the device was never built nor measured, and
 * the integer hash stayed on the pool at 1.6x the device's time. */
static void test_sync_compile_explores_unbuilt_devices(void **state)
{
    (void)state;
    enum { M = 1 << 21 };
    char dir[64];
    temp_dir(dir);
    weft_options o;
    weft_options_init(&o);
    o.cache_dir = dir;
    o.compile = WEFT_COMPILE_SYNC;
    const char *map = "h = x * (uint)73244475; h = h ^ (h >> 15); y = h ^ (h >> 13)";
    char models[80];
    weft_ctx *ctx = test_ctx_with(&o);
    /* A copying device must first copy what the pool's (made-up) time beats:
     * there it is rightly not explored. */
    const char *zero_copy = getenv("WEFT_ZERO_COPY");
    if (selected_opencl(ctx) == 0 || (zero_copy && strcmp(zero_copy, "0") == 0)) {
        ASSERT_OK(weft_ctx_free(ctx));
        remove_dir(dir);
        skip();
    }
    weft_device_info pool;
    ASSERT_OK(weft_device_get_info(ctx, 0, &pool));
    for (int round = 0; round < 2; round++) {
        weft_array *x, *y;
        ASSERT_OK(weft_array_create(ctx, WEFT_U32, M, &x));
        ASSERT_OK(weft_array_create(ctx, WEFT_U32, M, &y));
        weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
        if (round == 0) { /* a model of the pool alone, made 10x faster than it is */
            ASSERT_OK(weft_ctx_place(ctx, map, WEFT_PLACE_HOST));
            ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
        } else { /* the device, never built here, is still measured */
            for (int call = 0; call < 4; call++)
                ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
            assert_true(device_pieces(ctx, "73244475") > 0);
        }
        ASSERT_OK(weft_array_free(x));
        ASSERT_OK(weft_array_free(y));
        ASSERT_OK(weft_ctx_free(ctx));
        if (round == 0) { /* only the model goes on: no binary the device could load */
            scale_pool_model(dir, pool.name, "73244475", M, 0.1);
            char cmd[300];
            snprintf(cmd, sizeof cmd, "mkdir -p %s-2 && cp %s/model-* %s-2/", dir, dir, dir);
            assert_int_equal(system(cmd), 0);
            snprintf(models, sizeof models, "%s-2", dir);
            o.cache_dir = models;
            ctx = test_ctx_with(&o);
        }
    }
    remove_dir(dir);
    remove_dir(models);
}

/* A hint that leaves the pool out waits for the build (in the call, or the
 * background one already under way): the first call runs on the device. */
static void test_hint_without_pool_waits_for_device_code(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir);
    weft_ctx *ctx = tiered_ctx(dir);
    if (selected_opencl(ctx) == 0) {
        ASSERT_OK(weft_ctx_free(ctx));
        remove_dir(dir);
        skip();
    }
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F64, N, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    const char *map = "y = x * 3 + 1";
    ASSERT_OK(weft_ctx_place(ctx, map, WEFT_PLACE_DEVICES));
    ASSERT_OK(weft_map(ctx, map, b, 2, NULL));
    assert_true(ran_on_a_device(ctx));
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
}

/* Freeing the context while a build runs waits for it: no leak, no use of
 * freed expressions or devices (ASan, LSan and TSan builds run this). */
static void test_ctx_free_while_device_code_builds(void **state)
{
    (void)state;
    char dir[64];
    temp_dir(dir);
    weft_ctx *ctx = tiered_ctx(dir);
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    ASSERT_OK(weft_map(ctx, "y = erfc(x) + exp(x) * log(x + 2)", b, 2, NULL));
    ASSERT_OK(weft_map(ctx, "y = pow(x + 2, 1.5f)", b, 2, NULL)); /* queued behind it */
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_array_free(y));
    ASSERT_OK(weft_ctx_free(ctx));
    remove_dir(dir);
}

/* A hint names its operation however it is spaced and its statements
 * separated (the CSV pipeline joins them with line ends); a mask naming no
 * device of the context, or an empty text, is refused (both were silently
 * void pins). */
static void test_hints_match_their_operation_and_name_real_devices(void **state)
{
    (void)state;
    weft_ctx *ctx = test_ctx();
    size_t ndev = 0;
    ASSERT_OK(weft_device_count(ctx, &ndev));
    assert_int_equal(weft_ctx_place(ctx, "y = x", WEFT_PLACE_DEVICE(ndev)), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_ctx_place(ctx, "y = x", WEFT_PLACE_DEVICE(63)), WEFT_ERR_INVALID_ARG);
    assert_int_equal(weft_ctx_place(ctx, " \n ", WEFT_PLACE_HOST), WEFT_ERR_INVALID_ARG);
    ASSERT_OK(weft_ctx_place(ctx, "y = x", WEFT_PLACE_DEVICES)); /* every device there is */
    ASSERT_OK(weft_ctx_place(ctx, "y = x", WEFT_PLACE_AUTO));
    /* Pinned to the pool in another spelling, the call runs nowhere else. */
    ASSERT_OK(weft_ctx_place(ctx, "t=x*2;y=t+1", WEFT_PLACE_HOST));
    enum { M = 200000 };
    weft_array *x, *y;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &x));
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, M, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y)};
    for (int i = 0; i < 4; i++)
        ASSERT_OK(weft_map(ctx, "t = x * 2\ny = t + 1\n", b, 2, NULL));
    weft_op_stats stats[8];
    size_t count = 0;
    ASSERT_OK(weft_ctx_op_stats(ctx, stats, 8, &count));
    int found = 0;
    for (size_t k = 0; k < count && k < 8; k++) {
        if (!strstr(stats[k].operation, "t = x * 2")) continue;
        found = 1;
        assert_true(stats[k].device[0].pieces >= 4);
        for (size_t d = 1; d < stats[k].ndevices; d++)
            assert_int_equal(stats[k].device[d].pieces, 0);
    }
    assert_true(found);
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_classes_are_floor_log2),
        cmocka_unit_test(test_each_op_goes_where_it_is_fast),
        cmocka_unit_test(test_unmeasured_device_is_measured_first),
        cmocka_unit_test(test_tiny_work_is_not_explored_on_a_device),
        cmocka_unit_test(test_runner_up_is_measured_again_now_and_then),
        cmocka_unit_test(test_unsettled_runner_up_is_measured_again),
        cmocka_unit_test(test_noisy_first_sample_is_outvoted),
        cmocka_unit_test(test_one_slow_sample_does_not_move_a_settled_class),
        cmocka_unit_test(test_a_device_that_stays_slow_loses_the_operation),
        cmocka_unit_test(test_runner_up_settled_in_a_busy_moment_wins_back),
        cmocka_unit_test(test_a_varying_device_is_predicted_at_its_mean),
        cmocka_unit_test(test_runner_up_is_the_one_sample_not_a_twin),
        cmocka_unit_test(test_near_tie_keeps_the_incumbent),
        cmocka_unit_test(test_clearly_faster_device_takes_over_from_the_incumbent),
        cmocka_unit_test(test_failing_incumbent_is_not_chosen_forever),
        cmocka_unit_test(test_predictions_find_measured_classes_at_once),
        cmocka_unit_test(test_merged_files_are_clipped_like_samples),
        cmocka_unit_test(test_devices_of_different_groups_split),
        cmocka_unit_test(test_failed_device_is_retried_later),
        cmocka_unit_test(test_model_files_damaged_or_stale_are_ignored),
        cmocka_unit_test(test_processes_share_one_model),
        cmocka_unit_test(test_results_identical_wherever_placed),
        cmocka_unit_test(test_user_launches_are_placed),
        cmocka_unit_test(test_stats_and_log_say_where_and_why),
        cmocka_unit_test(test_pool_is_measured_again_like_a_device),
        cmocka_unit_test(test_each_sample_is_saved_once),
        cmocka_unit_test(test_arrays_a_device_must_copy_are_modelled_apart),
        cmocka_unit_test(test_failing_device_is_left_out_then_retried),
        cmocka_unit_test(test_calls_in_another_devices_wake_are_not_timed),
        cmocka_unit_test(test_first_call_does_not_wait_for_device_code),
        cmocka_unit_test(test_sync_compile_explores_unbuilt_devices),
        cmocka_unit_test(test_hint_without_pool_waits_for_device_code),
        cmocka_unit_test(test_ctx_free_while_device_code_builds),
        cmocka_unit_test(test_hints_match_their_operation_and_name_real_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
