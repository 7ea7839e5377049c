/* Tasks across fork(): what the parent had submitted and not finished never
 * runs in the child (its threads are gone, and running it there would do its
 * work twice); the child's waits for it end with WEFT_ERR_STATE. */
#include "common.h"

#include <stdatomic.h>
#include <sys/wait.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parent_tasks_fail_in_fork_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
