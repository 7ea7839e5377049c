/* Helpers shared by the tests: contexts for the current setup, random data,
 * and plain C references. The setup (PoCL, two PoCL devices, no OpenCL) comes
 * from the environment ctest gives each test; tests adapt to what is there. */
#ifndef WEFT_TEST_COMMON_H
#define WEFT_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the three above first */
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <weft.h>

#define ASSERT_OK(expr)                                                                            \
    do {                                                                                           \
        weft_status st_ = (expr);                                                                  \
        if (st_ != WEFT_OK) fail_msg("%s -> %s", #expr, weft_last_error());                        \
    } while (0)

/* Options that partition even small arrays over every selected device, so
 * test sizes exercise the multi-device paths. */
static inline weft_options test_options(void)
{
    weft_options o;
    weft_options_init(&o);
    o.small_elements = 0;
    return o;
}

static inline weft_ctx *test_ctx_with(const weft_options *o)
{
    weft_ctx *ctx = NULL;
    weft_status st = weft_ctx_create(o, &ctx);
    if (st != WEFT_OK) fail_msg("weft_ctx_create: %s", weft_last_error());
    return ctx;
}

static inline weft_ctx *test_ctx(void)
{
    weft_options o = test_options();
    return test_ctx_with(&o);
}

/* Number of selected OpenCL devices (0 in the no-OpenCL setup). */
static inline size_t selected_opencl(weft_ctx *ctx)
{
    size_t count = 0, n = 0;
    weft_device_count(ctx, &n);
    for (size_t d = 1; d < n; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        count += info.selected;
    }
    return count;
}

/* Selected OpenCL devices that keep copies of their own (no zero-copy). */
static inline size_t copying_opencl(weft_ctx *ctx)
{
    size_t count = 0, n = 0;
    weft_device_count(ctx, &n);
    for (size_t d = 1; d < n; d++) {
        weft_device_info info;
        weft_device_get_info(ctx, d, &info);
        count += info.selected && !info.zero_copy;
    }
    return count;
}

static inline uint64_t test_rng(uint64_t *state)
{
    /* splitmix64: a fixed seed per test keeps failures reproducible */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void fill_f32(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((double)(test_rng(&seed) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static inline void fill_f64(double *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(test_rng(&seed) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* The documented block-sum order, written independently of the library. */
static inline double reference_sum(const void *data, int is_f64, size_t n)
{
    double total = 0;
    for (size_t begin = 0; begin < n; begin += WEFT_SUM_BLOCK) {
        size_t len = n - begin < WEFT_SUM_BLOCK ? n - begin : WEFT_SUM_BLOCK;
        double lane[16] = {0};
        for (size_t i = 0; i < len; i++) {
            double v = is_f64 ? ((const double *)data)[begin + i]
                              : (double)((const float *)data)[begin + i];
            lane[i % 16] += v;
        }
        for (int w = 8; w >= 1; w /= 2)
            for (int l = 0; l < w; l++)
                lane[l] = lane[l] + lane[l + w];
        total += lane[0];
    }
    return total;
}

/* rm -rf of a scratch directory a test made under /tmp. */
static inline void on_test_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "timed out: something blocked (a FIFO read?)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(124);
}

/* A test that could hang forever on a regression (a FIFO read) fails after
 * seconds instead; fail_after(0) disarms. */
static inline void fail_after(unsigned seconds)
{
    signal(SIGALRM, on_test_alarm);
    alarm(seconds);
}

/* 1 under valgrind, whose preload library gives it away. */
static inline int under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload") != NULL;
}

static inline int remove_tree(const char *path)
{
    char cmd[600];
    if (strncmp(path, "/tmp/", 5) != 0) return -1;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd) == 0 ? 0 : -1;
}

/* Bit-identical, except that any NaN equals any NaN: IEEE leaves the sign and
 * payload of a NaN result open, and compilers exploit it (documented). */
static inline int same_floats(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])) && memcmp(&a[i], &b[i], sizeof *a) != 0) return 0;
    return 1;
}

static inline int same_doubles(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])) && memcmp(&a[i], &b[i], sizeof *a) != 0) return 0;
    return 1;
}

static inline int same_bits(const void *a, const void *b, size_t bytes)
{
    return memcmp(a, b, bytes) == 0;
}

#endif
