/* Threads that call weft at once on arrays of their own: C synchronous calls
 * (a map, then a sum, on n floats) made by one thread, against the same C
 * calls split over T threads sharing one context. Rounds alternate the two;
 * prints the median wall time per call of each and their ratio.
 *
 *   bench_threads [devices] [n] [calls] [rounds] [threads]
 *
 * devices as weft_options.devices (default "all"). Arrays are split over the
 * devices whatever their size (small_elements 0), so the calls run kernels. */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"

#include <weft.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ROUNDS = 64, MAX_THREADS = 16 };

typedef struct caller {
    weft_ctx *ctx;
    weft_array *x, *y;
    long calls;
    weft_status status;
} caller;

static void *call_loop(void *arg)
{
    caller *c = arg;
    weft_bind b[] = {weft_bind_array("x", c->x), weft_bind_array("y", c->y),
                     weft_bind_f32("a", 2.0f)};
    for (long i = 0; i < c->calls && c->status == WEFT_OK; i += 2) {
        double s;
        c->status = weft_map(c->ctx, "y = a * x + y", b, 3, NULL);
        if (c->status == WEFT_OK) c->status = weft_sum(c->ctx, c->y, &s, NULL);
    }
    return NULL;
}

/* Seconds for calls in total over the first `threads` callers. */
static double run(caller *callers, int threads, long calls)
{
    pthread_t tid[MAX_THREADS];
    double t0 = bench_now();
    for (int t = 0; t < threads; t++) {
        callers[t].calls = calls / threads;
        pthread_create(&tid[t], NULL, call_loop, &callers[t]);
    }
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    return bench_now() - t0;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    const char *devices = argc > 1 ? argv[1] : "all";
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 65536;
    long calls = argc > 3 ? atol(argv[3]) : 2000;
    int rounds = argc > 4 ? atoi(argv[4]) : 5, threads = argc > 5 ? atoi(argv[5]) : 2;
    if (rounds < 1 || rounds > MAX_ROUNDS || threads < 1 || threads > MAX_THREADS || calls < 2) {
        fprintf(stderr, "usage: bench_threads [devices] [n] [calls] [rounds 1-%d] [threads 1-%d]\n",
                MAX_ROUNDS, MAX_THREADS);
        return 2;
    }
    weft_options o;
    weft_options_init(&o);
    o.devices = devices;
    o.small_elements = 0;
    weft_ctx *ctx = NULL;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) {
        fprintf(stderr, "weft_ctx_create: %s\n", weft_last_error());
        return 1;
    }
    caller callers[MAX_THREADS];
    float *init = calloc(n, sizeof *init);
    for (int t = 0; t < threads; t++) {
        callers[t] = (caller){.ctx = ctx, .status = WEFT_OK};
        if (!init || weft_array_from(ctx, WEFT_F32, n, init, &callers[t].x) != WEFT_OK ||
            weft_array_from(ctx, WEFT_F32, n, init, &callers[t].y) != WEFT_OK) {
            fprintf(stderr, "arrays: %s\n", weft_last_error());
            return 1;
        }
    }
    run(callers, threads, calls / 4); /* warm: kernels built, copies resident */
    double one[MAX_ROUNDS], many[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++) {
        one[r] = run(callers, 1, calls) / (double)calls * 1e6;
        many[r] = run(callers, threads, calls) / (double)calls * 1e6;
    }
    for (int t = 0; t < threads; t++)
        if (callers[t].status != WEFT_OK) {
            fprintf(stderr, "call failed: %s\n", weft_last_error());
            return 1;
        }
    double m1 = median(one, rounds), mt = median(many, rounds);
    printf("devices %s, n %zu, %ld calls (map, sum alternating), %d rounds\n", devices, n, calls,
           rounds);
    printf("1 thread:   %8.2f us per call (median)\n", m1);
    printf("%d threads:  %8.2f us per call (median)\n", threads, mt);
    printf("ratio %d threads / 1 thread: %.2f\n", threads, mt / m1);
    for (int t = 0; t < threads; t++) {
        weft_array_free(callers[t].x);
        weft_array_free(callers[t].y);
    }
    free(init);
    weft_ctx_free(ctx);
    return 0;
}
