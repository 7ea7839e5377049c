/* Contexts under adversarial use (docs/RELIABILITY.md, round 2): created and
 * freed from many threads at once, device lists with out-of-range indices,
 * thread counts out of range. */
#include "common.h"
#include "../src/core/ctx.h"

#include <pthread.h>

enum { ELEMENTS = 100000, ROUNDS = 6 };

/* Under AddressSanitizer: PoCL's LLVM replaces a thread's alternate signal
 * stack with one it allocates (llvm::sys::RemoveFileOnSignal while building),
 * and ASan then fails to unmap that stack when the thread exits. ASan's own
 * alternate stack is not needed here; other builds never call this. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "use_sigaltstack=0";
}

/* Each thread creates a context, runs a map that the devices take (small
 * arrays are not kept on the host), checks it against C and frees it. */
static void *create_use_free(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    float *x = malloc(ELEMENTS * sizeof *x), *y = malloc(ELEMENTS * sizeof *y);
    intptr_t failures = 0;
    for (int r = 0; r < ROUNDS && x && y; r++) {
        fill_f32(x, ELEMENTS, seed + (uint64_t)r);
        weft_options o = test_options();
        weft_ctx *ctx = NULL;
        weft_array *ax = NULL, *ay = NULL;
        if (weft_ctx_create(&o, &ctx) != WEFT_OK ||
            weft_array_from(ctx, WEFT_F32, ELEMENTS, x, &ax) != WEFT_OK ||
            weft_array_create(ctx, WEFT_F32, ELEMENTS, &ay) != WEFT_OK) {
            failures++;
        } else {
            weft_bind binds[] = {weft_bind_array("x", ax), weft_bind_array("y", ay)};
            if (weft_map(ctx, "y = x * 2 + 1", binds, 2, NULL) != WEFT_OK ||
                weft_array_read(ay, 0, ELEMENTS, y) != WEFT_OK)
                failures++;
            else
                for (size_t i = 0; i < ELEMENTS; i++)
                    failures += y[i] != x[i] * 2.0f + 1.0f;
        }
        weft_array_free(ax);
        weft_array_free(ay);
        if (weft_ctx_free(ctx) != WEFT_OK) failures++;
    }
    free(x);
    free(y);
    return (void *)failures;
}

static void run_threads(int count)
{
    pthread_t threads[8];
    for (int t = 0; t < count; t++)
        assert_int_equal(
            pthread_create(&threads[t], NULL, create_use_free, (void *)(uintptr_t)(t + 1)), 0);
    intptr_t failures = 0;
    for (int t = 0; t < count; t++) {
        void *result;
        pthread_join(threads[t], &result);
        failures += (intptr_t)result;
    }
    assert_int_equal(failures, 0);
}

static void test_two_threads_create_and_free_contexts(void **state)
{
    (void)state;
    run_threads(2);
}

static void test_four_threads_create_and_free_contexts(void **state)
{
    (void)state;
    run_threads(4);
}

static weft_status create_with_devices(const char *devices)
{
    weft_options o = test_options();
    o.devices = devices;
    weft_ctx *ctx = NULL;
    weft_status st = weft_ctx_create(&o, &ctx);
    if (st == WEFT_OK) assert_non_null(ctx);
    weft_ctx_free(ctx);
    return st;
}

static void test_device_index_out_of_range_is_refused(void **state)
{
    (void)state;
    static const char *const refused[] = {"cl:2147483647",
                                          "cl:2147483648",
                                          "cl:4294967296",
                                          "cl:18446744073709551616",
                                          "cl:65536",
                                          "cl:99999999999999999",
                                          "cl:-1",
                                          "cl:+1",
                                          "cl:0x1",
                                          "cl: 1",
                                          "cl:",
                                          "cl:1a",
                                          "all,cl:4294967297"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        weft_status st = create_with_devices(refused[i]);
        if (st != WEFT_ERR_INVALID_ARG) fail_msg("%s: %s", refused[i], weft_status_str(st));
        const char *why = weft_last_error();
        assert_non_null(strstr(why, "cl:"));
    }
    /* Empty items (a word left out) are refused; words read in any case,
     * as every other variable's. */
    static const char *const empty[] = {"cpu,", ",host", "host,,cpu", "host, ,cpu"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        if (create_with_devices(empty[i]) != WEFT_ERR_INVALID_ARG)
            fail_msg("%s accepted", empty[i]);
        assert_non_null(strstr(weft_last_error(), "empty item"));
    }
    ASSERT_OK(create_with_devices("HOST"));
    ASSERT_OK(create_with_devices("Host All"));
    /* The same rule for the environment. */
    setenv("WEFT_DEVICES", "cl:4294967296", 1);
    weft_options o = test_options();
    weft_ctx *ctx = NULL;
    assert_int_equal(weft_ctx_create(&o, &ctx), WEFT_ERR_INVALID_ARG);
    assert_null(ctx);
    assert_non_null(strstr(weft_last_error(), "4294967296"));
    unsetenv("WEFT_DEVICES");
}

static void test_device_index_in_range_is_accepted(void **state)
{
    (void)state;
    ASSERT_OK(create_with_devices("cl:0"));
    ASSERT_OK(create_with_devices("cl:65535")); /* no such device: the host runs */
    ASSERT_OK(create_with_devices("cl:00000000000000000000001"));
    ASSERT_OK(create_with_devices("host, cl:0,cpu"));
    /* cl:4294967296 once wrapped to cl:0: a large index must not pick device 1. */
    weft_options o = test_options();
    o.devices = "cl:65535";
    weft_ctx *ctx = test_ctx_with(&o);
    assert_int_equal(selected_opencl(ctx), 0);
    weft_ctx_free(ctx);
}

static int ctx_threads(const weft_options *o, char *notes, size_t cap)
{
    weft_ctx *ctx = test_ctx_with(o);
    int threads = 0;
    ASSERT_OK(weft_ctx_num_threads(ctx, &threads));
    snprintf(notes, cap, "%s", weft_ctx_notes(ctx));
    weft_ctx_free(ctx);
    return threads;
}

static void test_thread_counts_share_one_rule(void **state)
{
    (void)state;
    char notes[4096];
    weft_options o = test_options();
    o.num_threads = 20000;
    assert_int_equal(ctx_threads(&o, notes, sizeof notes), 1024);
    assert_non_null(strstr(notes, "num_threads = 20000"));
    o.num_threads = 1024;
    assert_int_equal(ctx_threads(&o, notes, sizeof notes), 1024);
    assert_null(strstr(notes, "num_threads"));
    o.num_threads = 3;
    assert_int_equal(ctx_threads(&o, notes, sizeof notes), 3);
    o.num_threads = -5;
    int cores = ctx_threads(&o, notes, sizeof notes);
    assert_true(cores >= 1 && cores <= 1024);
    assert_non_null(strstr(notes, "num_threads = -5"));

    o.num_threads = 0;
    static const struct {
        const char *env;
        int threads; /* 0: the online cores */
        const char *note;
    } cases[] = {{"20000", 1024, "WEFT_NUM_THREADS=20000"},
                 {"99999999999999999999999", 1024, "WEFT_NUM_THREADS=9999"},
                 {"1024", 1024, NULL},
                 {"2", 2, NULL},
                 {"", 0, NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("WEFT_NUM_THREADS", cases[i].env, 1);
        int got = ctx_threads(&o, notes, sizeof notes);
        if (cases[i].threads)
            assert_int_equal(got, cases[i].threads);
        else
            assert_int_equal(got, cores);
        if (cases[i].note && !strstr(notes, cases[i].note))
            fail_msg("WEFT_NUM_THREADS=%s: no note in \"%s\"", cases[i].env, notes);
        if (!cases[i].note) assert_null(strstr(notes, "WEFT_NUM_THREADS"));
    }
    /* Not a positive count: refused, as any malformed WEFT_* value. */
    static const char *const refused[] = {"0", "-3", "lots", "4x", " "};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        setenv("WEFT_NUM_THREADS", refused[i], 1);
        weft_ctx *ctx = NULL;
        assert_int_equal(weft_ctx_create(&o, &ctx), WEFT_ERR_INVALID_ARG);
        assert_non_null(strstr(weft_last_error(), "WEFT_NUM_THREADS"));
    }
    /* An explicit option wins over the environment. */
    setenv("WEFT_NUM_THREADS", "7", 1);
    o.num_threads = 5;
    assert_int_equal(ctx_threads(&o, notes, sizeof notes), 5);
    /* A negative option is ignored as a whole: the environment applies. */
    o.num_threads = -1;
    assert_int_equal(ctx_threads(&o, notes, sizeof notes), 7);
    assert_non_null(strstr(notes, "num_threads = -1 is negative"));
    unsetenv("WEFT_NUM_THREADS");
}

/* Every WEFT_* switch reads 1/0, yes/no, true/false, on/off in any case;
 * words in any case. */
static void test_env_values_read_one_way(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int on;
    } forms[] = {{"1", 1},     {"yes", 1},   {"YES", 1}, {"true", 1}, {"True", 1},
                 {"on", 1},    {"On", 1},    {"0", 0},   {"no", 0},   {"No", 0},
                 {"false", 0}, {"FALSE", 0}, {"off", 0}, {"oFF", 0}};
    weft_options o = test_options();
    o.log_level = WEFT_LOG_INFO;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        setenv("WEFT_VERIFY", forms[i].text, 1);
        setenv("WEFT_PEER_COPY", forms[i].text, 1);
        setenv("WEFT_SMOKE", forms[i].text, 1);
        setenv("WEFT_ZERO_COPY", forms[i].text, 1);
        weft_ctx *ctx = NULL;
        if (weft_ctx_create(&o, &ctx) != WEFT_OK)
            fail_msg("switches = %s: %s", forms[i].text, weft_last_error());
        if (ctx->verify_splits != forms[i].on || ctx->peer_copies != forms[i].on ||
            ctx->smoke_test != forms[i].on || ctx->zero_copy != forms[i].on)
            fail_msg("switches = %s: verify %d, peer copies %d, smoke %d, zero copy %d, want %d",
                     forms[i].text, ctx->verify_splits, ctx->peer_copies, ctx->smoke_test,
                     ctx->zero_copy, forms[i].on);
        weft_ctx_free(ctx);
    }
    unsetenv("WEFT_VERIFY");
    unsetenv("WEFT_PEER_COPY");
    unsetenv("WEFT_SMOKE");
    unsetenv("WEFT_ZERO_COPY");
    setenv("WEFT_COMPILE", "SYNC", 1);
    setenv("WEFT_LOG", "Error", 1);
    setenv("WEFT_WEIGHTS", "Even", 1);
    weft_ctx *ctx = test_ctx();
    assert_int_equal(ctx->compile_sync, 1);
    assert_int_equal(ctx->log.enabled, 1);
    assert_int_equal(ctx->log.level, WEFT_LOG_ERROR);
    assert_int_equal(ctx->weights, WEFT_WEIGHTS_EVEN);
    weft_ctx_free(ctx);
    unsetenv("WEFT_WEIGHTS");
    unsetenv("WEFT_LOG");
    setenv("WEFT_COMPILE", "sync", 1); /* as ctest sets it */
}

/* A value that is none of its variable's forms fails weft_ctx_create, naming
 * the variable and the value, instead of running as if it were unset. */
static void test_env_values_not_understood_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
    } bad[] = {{"WEFT_VERIFY", "yess"},
               {"WEFT_VERIFY", "2"},
               {"WEFT_ZERO_COPY", "disable"},
               {"WEFT_PEER_COPY", " 0"},
               {"WEFT_SMOKE", "none"},
               {"WEFT_DISK_CACHE", "nope"},
               {"WEFT_COPY_QUEUE", "fast"},
               {"WEFT_LOG", "verbose"},
               {"WEFT_WEIGHTS", "foo"},
               {"WEFT_COMPILE", "later"},
               {"WEFT_KERNEL_CLASS", "fpga"},
               {"WEFT_PLACEMENT", "x"},
               {"WEFT_MAX_ALLOC", "abc"},
               {"WEFT_MAX_ALLOC", "-5"},
               {"WEFT_SMALL_ELEMENTS", "abc"},
               {"WEFT_SMALL_ELEMENTS", "-2"},
               {"WEFT_POOL_MIN_ELEMENTS", "1e5"},
               {"WEFT_NUM_THREADS", "lots"},
               {"WEFT_NUM_THREADS", "+2"}, /* whole decimal digits only */
               {"WEFT_FAULT", "lunch"},
               {"WEFT_FAULT", "call:x"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *old = getenv(bad[i].name);
        char *saved = old ? strdup(old) : NULL;
        setenv(bad[i].name, bad[i].text, 1);
        weft_options o = test_options();
        weft_ctx *ctx = NULL;
        weft_status st = weft_ctx_create(&o, &ctx);
        if (saved)
            setenv(bad[i].name, saved, 1);
        else
            unsetenv(bad[i].name);
        free(saved);
        if (st != WEFT_ERR_INVALID_ARG) {
            weft_ctx_free(ctx);
            fail_msg("%s=%s: %s, want WEFT_ERR_INVALID_ARG", bad[i].name, bad[i].text,
                     weft_status_str(st));
        }
        assert_null(ctx);
        char want[96];
        snprintf(want, sizeof want, "%s=\"%s\"", bad[i].name, bad[i].text);
        if (!strstr(weft_last_error(), want))
            fail_msg("%s: the error does not name it: %s", want, weft_last_error());
    }
    /* Well-formed values of the same variables are taken. */
    setenv("WEFT_FAULT", "launch, call:0", 1);
    setenv("WEFT_MAX_ALLOC", "0", 1);
    setenv("WEFT_SMALL_ELEMENTS", "-1", 1);
    weft_ctx *ctx = test_ctx();
    weft_ctx_free(ctx);
    unsetenv("WEFT_FAULT");
    unsetenv("WEFT_MAX_ALLOC");
    unsetenv("WEFT_SMALL_ELEMENTS");
}

/* The same settings as options: a value the header gives no meaning was
 * taken silently (small_elements -7, weights 9, compile 9, log_level 99). */
static void test_option_values_out_of_range_are_refused(void **state)
{
    (void)state;
    for (int k = 0; k < 4; k++) {
        weft_options o = test_options();
        const char *field = NULL;
        switch (k) {
        case 0:
            o.small_elements = -7, field = "options.small_elements = -7";
            break;
        case 1:
            o.weights = (weft_weights)9, field = "options.weights = 9";
            break;
        case 2:
            o.compile = (weft_compile)9, field = "options.compile = 9";
            break;
        default:
            o.log_level = (weft_log_level)99, field = "options.log_level = 99";
            break;
        }
        weft_ctx *ctx = NULL;
        weft_status st = weft_ctx_create(&o, &ctx);
        if (st != WEFT_ERR_INVALID_ARG || !strstr(weft_last_error(), field)) {
            weft_ctx_free(ctx);
            fail_msg("%s: %s (%s)", field, weft_status_str(st), weft_last_error());
        }
        assert_null(ctx);
    }
    weft_ctx *ctx = test_ctx();
    assert_int_equal(weft_ctx_set_log(ctx, NULL, NULL, (weft_log_level)-5), WEFT_ERR_INVALID_ARG);
    ASSERT_OK(weft_ctx_set_log(ctx, NULL, NULL, WEFT_LOG_WARN));
    weft_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_threads_create_and_free_contexts),
        cmocka_unit_test(test_four_threads_create_and_free_contexts),
        cmocka_unit_test(test_device_index_out_of_range_is_refused),
        cmocka_unit_test(test_device_index_in_range_is_accepted),
        cmocka_unit_test(test_thread_counts_share_one_rule),
        cmocka_unit_test(test_env_values_read_one_way),
        cmocka_unit_test(test_env_values_not_understood_are_refused),
        cmocka_unit_test(test_option_values_out_of_range_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
