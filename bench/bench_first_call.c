/* The first calls of an expression whose device code is not built yet
 * (issue 19, tiered compile): the Black-Scholes map of `weft bench
 * placement` over 4 Mi floats, 12 calls, each timed with where it ran. Run
 * it on fresh caches (its argument: an empty weft cache directory; and
 * POCL_CACHE_DIR=$(mktemp -d)) once with WEFT_COMPILE=sync and once without.
 * Calls 1-5 are 0.4 s apart, so a background build can finish meanwhile. */
#define _POSIX_C_SOURCE 200809L
#include <weft.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char black_scholes[] =
    "sq = sqrt(t); d1 = (log(x / k) + (0.02f + 0.5f * 0.3f * 0.3f) * t) / (0.3f * sq); "
    "d2 = d1 - 0.3f * sq; disc = k * exp(-0.02f * t); "
    "y = x * (0.5f * erfc(-d1 * 0.70710678f)) - disc * (0.5f * erfc(-d2 * 0.70710678f))";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static weft_array *filled(weft_ctx *ctx, size_t n, float lo, float step, size_t period)
{
    float *v = malloc(n * sizeof *v);
    weft_array *a = NULL;
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = lo + step * (float)(i % period);
    if (weft_array_from(ctx, WEFT_F32, n, v, &a) != WEFT_OK) a = NULL;
    free(v);
    return a;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_first_call EMPTY_CACHE_DIR\n");
        return 2;
    }
    enum { N = 4 << 20, CALLS = 12 };
    weft_options o;
    weft_options_init(&o);
    o.cache_dir = argv[1];
    weft_ctx *ctx = NULL;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) {
        fprintf(stderr, "bench_first_call: %s\n", weft_last_error());
        return 1;
    }
    weft_array *x = filled(ctx, N, 0.5f, 1e-3f, 1000), *k = filled(ctx, N, 0.9f, 1e-3f, 300),
               *t = filled(ctx, N, 0.1f, 2.5e-3f, 700), *y = filled(ctx, N, 0, 0, 1);
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("k", k), weft_bind_array("t", t),
                     weft_bind_array("y", y)};
    double start = now();
    for (int i = 0; i < CALLS; i++) {
        double t0 = now();
        weft_status st = weft_map(ctx, black_scholes, b, 4, NULL);
        double took = now() - t0;
        weft_piece_report p[8];
        size_t count = 0;
        weft_ctx_last_pieces(ctx, p, 8, &count);
        printf("call %2d at %6.0f ms: %8.1f ms on %s%s\n", i, (t0 - start) * 1e3, took * 1e3,
               count && p[0].device ? "device" : "pool", st == WEFT_OK ? "" : " (failed)");
        if (i >= 1 && i < 6) nanosleep(&(struct timespec){0, 400000000}, NULL);
    }
    weft_array_free(x);
    weft_array_free(k);
    weft_array_free(t);
    weft_array_free(y);
    double f0 = now();
    weft_ctx_free(ctx);
    printf("weft_ctx_free: %.1f ms\n", (now() - f0) * 1e3);
    return 0;
}
