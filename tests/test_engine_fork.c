/* Tasks across fork(): what the parent had submitted and not finished never
 * runs in the child (its threads are gone, and running it there would do its
 * work twice); the child's waits for it end with WEFT_ERR_STATE. */
#include "common.h"

#include <pthread.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int gate_open, task_started, ran_in_child;
static pid_t parent_pid;

static weft_status blocked_task(void *user)
{
    (void)user;
    atomic_store(&task_started, 1);
    while (!atomic_load(&gate_open))
        usleep(200);
    return WEFT_OK;
}

static weft_status counting_task(void *user)
{
    (void)user;
    if (getpid() != parent_pid) atomic_store(&ran_in_child, 1);
    return WEFT_OK;
}

static void test_parent_tasks_fail_in_fork_child(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* ThreadSanitizer cannot follow a multi-threaded fork */
#endif
    weft_options o = test_options();
    o.devices = "host";
    o.num_threads = 1; /* the second task stays queued behind the first */
    weft_ctx *ctx = test_ctx_with(&o);
    parent_pid = getpid();
    weft_future *running, *queued, *dependent;
    ASSERT_OK(weft_submit(ctx, blocked_task, NULL, NULL, 0, &running));
    while (!atomic_load(&task_started))
        usleep(100);
    ASSERT_OK(weft_submit(ctx, counting_task, NULL, NULL, 0, &queued));
    ASSERT_OK(weft_submit(ctx, counting_task, NULL, &running, 1, &dependent));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a hang is a failure, not a stuck suite */
        int ok = weft_future_wait(running) == WEFT_ERR_STATE;
        ok = ok && weft_future_wait(queued) == WEFT_ERR_STATE;
        ok = ok && weft_future_wait(dependent) != WEFT_OK;
        /* The child's own tasks run, and finish returns. */
        weft_future *mine;
        ok = ok && weft_submit(ctx, counting_task, NULL, NULL, 0, &mine) == WEFT_OK &&
             weft_future_wait(mine) == WEFT_OK && weft_future_release(mine) == WEFT_OK;
        weft_ctx_finish(ctx);
        ok = ok && weft_ctx_finish(ctx) == WEFT_OK;
        /* Only the child's own task ran here; the parent's did not. */
        atomic_store(&ran_in_child, 0);
        usleep(20000);
        ok = ok && !atomic_load(&ran_in_child);
        _exit(ok ? 0 : 1);
    }
    atomic_store(&gate_open, 1);
    ASSERT_OK(weft_future_wait(running));
    ASSERT_OK(weft_future_wait(queued));
    ASSERT_OK(weft_future_wait(dependent));
    weft_future_release(running);
    weft_future_release(queued);
    weft_future_release(dependent);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the fork child %s",
                 WIFSIGNALED(status) ? "hung or crashed" : "saw a wrong status");
    weft_ctx_free(ctx);
}

static weft_status summing_task(void *user)
{
    double *x = user, s = 0;
    for (int i = 0; i < 20000; i++)
        s += x[i % 64] * i;
    x[64] = s;
    return WEFT_OK;
}

/* Keeps the stream's lock busy from another thread of the parent: queued,
 * running and retiring operations at every moment a fork may land on. */
typedef struct churn {
    weft_ctx *ctx;
    weft_array *z;
    atomic_int stop;
    weft_status status;
} churn;

static void *churn_main(void *arg)
{
    churn *c = arg;
    weft_bind b[] = {weft_bind_array("z", c->z)};
    while (!atomic_load(&c->stop) && c->status == WEFT_OK) {
        weft_future *f;
        c->status = weft_map(c->ctx, "z = z + 1", b, 1, &f);
        if (c->status == WEFT_OK) c->status = weft_future_wait(f);
        weft_future_release(f);
    }
    return NULL;
}

/* Waits for the child at most `seconds`; a child still running then is
 * killed, so a hang fails the test instead of blocking the suite. */
static int child_exit(pid_t pid, double seconds)
{
    int status = 0;
    for (double waited = 0; waited < seconds; waited += 1e-3) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* A child that frees the context it inherited (cleanup code that runs in
 * both processes) returns promptly, whatever the parent's threads were doing
 * at fork(): operations queued, running on the pool or a device, retiring,
 * and tasks running. Forked many times, at varied moments. */
static void test_fork_child_frees_inherited_context(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* ThreadSanitizer cannot follow a multi-threaded fork */
#endif
    /* Valgrind follows each child, and the leaks it reports there (the
     * parent's objects, left to the child's exit by design) fail the child. */
    if (under_valgrind()) skip();
#ifdef __SANITIZE_ADDRESS__
    /* Debian 12's AddressSanitizer (GCC 12) does not lock its allocator
     * across fork(): a child hangs in its own malloc, under ASan's lock, when
     * a parent thread held it (seen: every thread of the child in
     * SizeClassAllocator64::GetFromAllocator). The unit stage runs this. */
    skip();
#endif
    weft_ctx *ctx = test_ctx();
    enum { N = 1 << 14, ROUNDS = 150, OPS = 3 };
    weft_array *x;
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &x));
    weft_bind b[] = {weft_bind_array("x", x)};
    double task_data[65] = {1};
    uint64_t rng = 17;
    churn c = {ctx, NULL, 0, WEFT_OK};
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 256, &c.z));
    pthread_t churner;
    assert_int_equal(pthread_create(&churner, NULL, churn_main, &c), 0);
    int hung = 0, failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        weft_array *y;
        ASSERT_OK(weft_array_create(ctx, WEFT_F32, N, &y));
        weft_bind by[] = {weft_bind_array("y", y), weft_bind_array("x", x)};
        weft_future *f[OPS + 1];
        for (int i = 0; i < OPS; i++)
            ASSERT_OK(weft_map(ctx, i == 1 ? "y = x * 2 + 1" : "x = x + 1", i == 1 ? by : b,
                               i == 1 ? 2 : 1, &f[i]));
        ASSERT_OK(weft_submit(ctx, summing_task, task_data, NULL, 0, &f[OPS]));
        /* Fork at a varied moment of the work in flight. */
        struct timespec pause = {0, (long)(test_rng(&rng) % 300) * 1000};
        nanosleep(&pause, NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(20); /* the parent's limit is shorter: this one is a backstop */
            for (int i = 0; i <= OPS; i++)
                weft_future_release(f[i]);
            int ok = weft_array_free(y) == WEFT_OK && weft_array_free(x) == WEFT_OK &&
                     weft_array_free(c.z) == WEFT_OK && weft_ctx_free(ctx) == WEFT_OK;
            _exit(ok ? 0 : 1);
        }
        int code = child_exit(pid, 10.0);
        hung += code == -1;
        failed += code != 0 && code != -1;
        for (int i = 0; i <= OPS; i++) {
            ASSERT_OK(weft_future_wait(f[i]));
            ASSERT_OK(weft_future_release(f[i]));
        }
        ASSERT_OK(weft_array_free(y));
        if (hung || failed) break;
    }
    atomic_store(&c.stop, 1);
    assert_int_equal(pthread_join(churner, NULL), 0);
    ASSERT_OK(c.status);
    ASSERT_OK(weft_array_free(c.z));
    if (hung || failed)
        fail_msg("a fork child freeing its inherited context %s",
                 hung ? "hung" : "failed or crashed");
    ASSERT_OK(weft_array_free(x));
    ASSERT_OK(weft_ctx_free(ctx));
}

/* A child that uses the context it inherited while a parent thread was
 * placing an operation (its placement lock held at fork()): its first
 * operation waited for good on that lock (a Python script forking beside a
 * thread calling weft hung about one run in 12). */
static void test_fork_child_places_beside_parent_threads(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* ThreadSanitizer cannot follow a multi-threaded fork */
#endif
    if (under_valgrind()) skip();
#ifdef __SANITIZE_ADDRESS__
    skip(); /* the child's malloc may hang under ASan (above) */
#endif
    weft_options o = test_options();
    o.devices = "host"; /* OpenCL is not fork-safe: the child uses the pool */
    weft_ctx *ctx = test_ctx_with(&o);
    churn c = {ctx, NULL, 0, WEFT_OK};
    ASSERT_OK(weft_array_create(ctx, WEFT_F32, 64, &c.z));
    pthread_t churner;
    assert_int_equal(pthread_create(&churner, NULL, churn_main, &c), 0);
    uint64_t rng = 5;
    int hung = 0, failed = 0;
    for (int round = 0; round < 200 && !hung && !failed; round++) {
        struct timespec pause = {0, (long)(test_rng(&rng) % 200) * 1000};
        nanosleep(&pause, NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(20);
            weft_array *y = NULL;
            double sum = 0;
            int ok = weft_array_create(ctx, WEFT_F64, 100, &y) == WEFT_OK;
            weft_bind b[] = {weft_bind_array("y", y)};
            ok = ok && weft_map(ctx, "y = 1.5", b, 1, NULL) == WEFT_OK &&
                 weft_sum(ctx, y, &sum, NULL) == WEFT_OK && sum == 150.0;
            _exit(ok ? 0 : 1);
        }
        int code = child_exit(pid, 10.0);
        hung += code == -1;
        failed += code != 0 && code != -1;
    }
    atomic_store(&c.stop, 1);
    assert_int_equal(pthread_join(churner, NULL), 0);
    ASSERT_OK(c.status);
    ASSERT_OK(weft_array_free(c.z));
    if (hung || failed)
        fail_msg("a fork child using its inherited context %s",
                 hung ? "hung" : "failed or crashed");
    weft_ctx_free(ctx);
}

/* A context that built expressions' device code in the background (its
 * builder thread waiting for work at fork()): the child maps, sums and
 * maps again, then frees the context. The child inherited the builder's
 * condition with a waiter that is not there: its second map hung in about
 * half the runs, and weft_ctx_free every time (multiprocessing.Pool's
 * workers do exactly this). */
/* One map (kind 'm') or sum ('s') on fresh arrays of n doubles. */
static weft_status fresh_op(weft_ctx *ctx, char kind, size_t n)
{
    double *r = malloc(n * sizeof *r), *z = calloc(n, sizeof *z);
    if (!r || !z) return WEFT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        r[i] = (double)((i * 2654435761u) % 1000) / 1000.0;
    weft_array *ra = NULL, *za = NULL;
    weft_status st = weft_array_wrap(ctx, WEFT_F64, n, r, &ra);
    if (st == WEFT_OK) st = weft_array_wrap(ctx, WEFT_F64, n, z, &za);
    if (st == WEFT_OK && kind == 's') {
        double sum;
        st = weft_sum(ctx, ra, &sum, NULL);
    } else if (st == WEFT_OK) {
        weft_bind b[] = {weft_bind_array("r", ra), weft_bind_array("z", za)};
        st = weft_map(ctx, "z = r * 2 + 1", b, 2, NULL);
    }
    weft_array_free(ra);
    weft_array_free(za);
    free(r);
    free(z);
    return st;
}

static void test_fork_child_uses_background_builds(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip();
#endif
    if (under_valgrind()) skip();
#ifdef __SANITIZE_ADDRESS__
    skip(); /* as above: ASan's allocator across fork() */
#endif
    weft_options o;
    weft_options_init(&o);
    o.compile = WEFT_COMPILE_BACKGROUND;
    static const char *const sequences[] = {"mf", "msmf"};
    for (int round = 0; round < 4; round++) {
        const char *seq = sequences[round % 2];
        weft_ctx *ctx = test_ctx_with(&o);
        ASSERT_OK(fresh_op(ctx, 's', 5000000));
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(30);
            int ok = 1;
            for (const char *k = seq; *k && ok; k++) /* devices may refuse: a return will do */
                ok = *k == 'f' ? weft_ctx_free(ctx) == WEFT_OK : fresh_op(ctx, *k, 3000000) != 42;
            _exit(ok ? 0 : 1);
        }
        int code = child_exit(pid, 20.0);
        if (code != 0) fail_msg("%s: the child %s", seq, code == -1 ? "hung" : "failed");
        ASSERT_OK(weft_ctx_free(ctx));
    }
}

/* A thread settles overlapping wraps (their list's lock held while copies
 * come back) while the main thread forks: the child frees an inherited wrap,
 * which takes that lock; a child that found it held by the parent's thread
 * hung. */
typedef struct settler {
    weft_ctx *ctx;
    weft_array *a, *b;
    atomic_int stop;
} settler;

static void *settle_loop(void *arg)
{
    settler *s = arg;
    weft_bind ba[] = {weft_bind_array("x", s->a)}, bb[] = {weft_bind_array("x", s->b)};
    while (!atomic_load(&s->stop)) { /* each settles the other's copies */
        weft_map(s->ctx, "x = x + 1", ba, 1, NULL);
        weft_map(s->ctx, "x = x + 1", bb, 1, NULL);
    }
    return NULL;
}

static void test_fork_while_overlapping_wraps_settle(void **state)
{
    (void)state;
    enum { M = 1 << 20, FORKS = 12 };
    weft_options o = test_options();
    o.small_elements = 0;
    settler s = {.ctx = test_ctx_with(&o)};
    float *mem = aligned_alloc(weft_array_wrap_alignment(), (M + 1024) * sizeof(float));
    float *other = aligned_alloc(weft_array_wrap_alignment(), 1024 * sizeof(float));
    memset(mem, 0, (M + 1024) * sizeof(float));
    weft_array *c;
    ASSERT_OK(weft_array_wrap(s.ctx, WEFT_F32, M, mem, &s.a));
    ASSERT_OK(weft_array_wrap(s.ctx, WEFT_F32, M, mem + 1024, &s.b)); /* overlaps a */
    ASSERT_OK(weft_array_wrap(s.ctx, WEFT_F32, 1024, other, &c));     /* overlaps nothing */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, settle_loop, &s), 0);
    int hung = 0;
    for (int i = 0; i < FORKS && !hung; i++) {
        usleep(20000);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(20); /* the parent's limit is shorter: a backstop */
            _exit(weft_array_free(c) == WEFT_OK ? 0 : 1);
        }
        hung = child_exit(pid, 5.0) == -1;
    }
    atomic_store(&s.stop, 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    ASSERT_OK(weft_array_free(s.a));
    ASSERT_OK(weft_array_free(s.b));
    ASSERT_OK(weft_array_free(c));
    ASSERT_OK(weft_ctx_free(s.ctx));
    free(mem);
    free(other);
    if (hung) fail_msg("a fork child freeing an inherited wrap hung");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parent_tasks_fail_in_fork_child),
        cmocka_unit_test(test_fork_child_frees_inherited_context),
        cmocka_unit_test(test_fork_child_places_beside_parent_threads),
        cmocka_unit_test(test_fork_child_uses_background_builds),
        cmocka_unit_test(test_fork_while_overlapping_wraps_settle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
