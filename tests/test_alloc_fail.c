/* Fault injection: allocation number k fails, for every k over a sequence of
 * representative operations. Each call must succeed or return an error (never
 * crash or give a wrong answer), nothing may leak, and the context must still
 * work afterwards. Allocations are intercepted with the linker's --wrap, so
 * only weft's own calls (and this file's) are affected. */
#include "common.h"

#include <stdatomic.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static atomic_long calls, fail_at, live;

/* WEFT_TRACE_ALLOC=k aborts at the k-th allocation instead, for a debugger's
 * backtrace of the call site a failure points at. */
static int should_fail(void)
{
    long k = atomic_fetch_add(&calls, 1) + 1;
    if (atomic_load(&fail_at) != k) return 0;
    const char *trace = getenv("WEFT_TRACE_ALLOC");
    if (trace && atol(trace) == k) abort();
    return 1;
}

void *__wrap_malloc(size_t size)
{
    if (should_fail()) return NULL;
    void *p = __real_malloc(size);
    if (p) atomic_fetch_add(&live, 1);
    return p;
}

void *__wrap_calloc(size_t count, size_t size)
{
    if (should_fail()) return NULL;
    void *p = __real_calloc(count, size);
    if (p) atomic_fetch_add(&live, 1);
    return p;
}

void *__wrap_realloc(void *p, size_t size)
{
    if (should_fail()) return NULL;
    void *q = __real_realloc(p, size);
    if (q && !p) atomic_fetch_add(&live, 1);
    return q;
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
    if (should_fail()) return NULL;
    void *p = __real_aligned_alloc(align, size);
    if (p) atomic_fetch_add(&live, 1);
    return p;
}

void __wrap_free(void *p)
{
    if (p) atomic_fetch_sub(&live, 1);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __wrap_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *__wrap_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = __wrap_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static int acceptable(weft_status st)
{
    return st == WEFT_OK || st == WEFT_ERR_NOMEM || st == WEFT_ERR_THREAD;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        weft_status st_ = (expr);                                                                  \
        if (!acceptable(st_)) fail_msg("k=%ld: %s -> %s", k, #expr, weft_last_error());            \
        if (st_ != WEFT_OK) goto done;                                                             \
    } while (0)

/* Runs the scenario with allocation k failing; returns 1 once k is past the
 * scenario's last allocation (everything succeeded). */
static int scenario(long k, const char *devices)
{
    int completed = 0;
    weft_ctx *ctx = NULL;
    weft_array *x = NULL, *y = NULL;
    weft_future *f = NULL;
    enum { N = 9000 };
    static float data[N];
    for (int i = 0; i < N; i++)
        data[i] = (float)(i % 17);
    atomic_store(&calls, 0);
    atomic_store(&fail_at, k);
    weft_options o = test_options();
    o.devices = devices;
    o.disk_cache = 0;
    TRY(weft_ctx_create(&o, &ctx));
    TRY(weft_array_from(ctx, WEFT_F32, N, data, &x));
    TRY(weft_array_create(ctx, WEFT_F32, N, &y));
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_f32("a", 2)};
    TRY(weft_map(ctx, "t = a * x; y = t + y", b, 3, NULL));
    weft_scalar s;
    TRY(weft_reduce_expr(ctx, WEFT_SUM, "x * y", b, 2, &s, NULL));
    TRY(weft_scan(ctx, WEFT_MAX, 1, x, y, NULL));
    TRY(weft_axpy(ctx, 1.0, x, y, &f));
    TRY(weft_future_wait(f));
    double sum;
    TRY(weft_sum(ctx, y, &sum, NULL));
    completed = 1;
done:
    /* The context, if any, still works with allocations back to normal. */
    atomic_store(&fail_at, 0);
    if (f) weft_future_release(f);
    if (ctx) {
        weft_array *z = NULL;
        double total = 0;
        ASSERT_OK(weft_array_from(ctx, WEFT_F32, N, data, &z));
        ASSERT_OK(weft_sum(ctx, z, &total, NULL));
        assert_true(total == reference_sum(data, 0, N));
        weft_array_free(z);
    }
    weft_array_free(x);
    weft_array_free(y);
    weft_ctx_free(ctx);
    return completed;
}

static void run_every_k(const char *devices)
{
    /* This thread's error-detail buffer lives as long as the thread: create it
     * before counting. */
    weft_future_wait(NULL);
    long before = atomic_load(&live);
    long k = 1;
    for (; k < 100000; k++) {
        int done = scenario(k, devices);
        long leaked = atomic_load(&live) - before;
        if (leaked != 0)
            fail_msg("%s: allocation %ld failing leaked %ld blocks", devices, k, leaked);
        if (done && atomic_load(&calls) < k) break; /* k beyond the last allocation */
    }
    print_message("%s: %ld allocation sites failed one at a time, no leak, no crash\n", devices,
                  k - 1);
    assert_true(k > 20);
}

static void test_every_allocation_failing_on_host(void **state)
{
    (void)state;
    run_every_k("host");
}

static void test_every_allocation_failing_with_devices(void **state)
{
    (void)state;
    run_every_k("all");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_failing_on_host),
        cmocka_unit_test(test_every_allocation_failing_with_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
