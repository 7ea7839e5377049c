/* Copies beside kernels: the OpenCL driver's copy queue (WEFT_COPY_QUEUE=1,
 * the default) against one in-order queue per device (WEFT_COPY_QUEUE=0),
 * and both against zero-copy, in one process, the three alternated round by
 * round (the driver reads WEFT_COPY_QUEUE when a context opens its devices).
 *
 *   POCL_DEVICES="pthread pthread" bench_copy_queue [N] [STEPS] [ROUNDS]
 *                                                 (defaults 1048576 200 5)
 *
 * Cases, microseconds per step, medians over the rounds:
 *   heat        bench_heat's stencil, one synchronous weft_launch per step
 *   heat async  the same launches with futures, waited for at the end
 *   fresh input a map per step over an array the host has just rewritten
 *               (8 arrays in turn): its copy into the devices may run
 *               beside the previous map's kernels */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"
#include "../tests/heat_kernel.h"

#include <weft.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CONFIGS = 3, CASES = 3, MAX_ROUNDS = 32, FRESH = 8 };

static const char *const config_names[CONFIGS] = {"copying, copy queue", "copying, one queue",
                                                  "zero-copy"};
static const char *const case_names[CASES] = {"heat", "heat async", "fresh input"};

/* Seconds for steps launches of the stencil (async: with futures). */
static double heat(weft_ctx *ctx, weft_program *p, const double *u0, int n, int steps, int async)
{
    weft_array *u, *v;
    if (weft_array_from(ctx, WEFT_F64, (size_t)n, u0, &u) != WEFT_OK ||
        weft_array_create(ctx, WEFT_F64, (size_t)n, &v) != WEFT_OK)
        return -1;
    weft_range r = {1, {(size_t)n, 1, 1}, {0, 0, 0}};
    double t0 = bench_now();
    for (int s = 0; s < steps; s++) {
        weft_arg args[] = {weft_arg_halo(u, 1), weft_arg_slice(v), weft_arg_i32(n),
                           weft_arg_f64(0.25)};
        weft_future *f = NULL;
        if (weft_launch(p, "heat", &r, args, 4, heat_host, NULL, async ? &f : NULL) != WEFT_OK)
            return -1;
        if (f) weft_future_release(f);
        weft_array *t = u;
        u = v;
        v = t;
    }
    if (weft_ctx_finish(ctx) != WEFT_OK) return -1;
    double t = bench_now() - t0;
    weft_array_free(u);
    weft_array_free(v);
    return t;
}

/* Seconds for steps maps, each over an array the host rewrote just before. */
static double fresh(weft_ctx *ctx, const float *data, size_t m, int steps)
{
    weft_array *x[FRESH], *y[FRESH];
    for (int k = 0; k < FRESH; k++)
        if (weft_array_create(ctx, WEFT_F32, m, &x[k]) != WEFT_OK ||
            weft_array_create(ctx, WEFT_F32, m, &y[k]) != WEFT_OK)
            return -1;
    double t0 = bench_now();
    for (int s = 0; s < steps; s++) {
        int k = s % FRESH;
        if (weft_array_write(x[k], 0, m, data + (size_t)(s % 3)) != WEFT_OK) return -1;
        weft_bind b[] = {weft_bind_array("x", x[k]), weft_bind_array("y", y[k])};
        weft_future *f;
        if (weft_map(ctx, "y = sqrt(x * x + 1) * x + x / (x * x + 2)", b, 2, &f) != WEFT_OK)
            return -1;
        weft_future_release(f);
    }
    if (weft_ctx_finish(ctx) != WEFT_OK) return -1;
    double t = bench_now() - t0;
    for (int k = 0; k < FRESH; k++) {
        weft_array_free(x[k]);
        weft_array_free(y[k]);
    }
    return t;
}

/* One round of every case in one configuration, microseconds per step. */
static int run_config(int config, const double *u0, const float *data, int n, int steps, double *us)
{
    setenv("WEFT_COPY_QUEUE", config == 1 ? "0" : "1", 1);
    weft_options o;
    weft_options_init(&o);
    o.zero_copy = config == 2;
    weft_ctx *ctx;
    weft_program *p;
    if (weft_ctx_create(&o, &ctx) != WEFT_OK) return -1;
    if (weft_program_build(ctx, heat_source, NULL, &p) != WEFT_OK) return -1;
    /* Warm: builds, the first launch's split check, placement samples. */
    if (heat(ctx, p, u0, n, 20, 0) < 0 || fresh(ctx, data, (size_t)n, 2 * FRESH) < 0) return -1;
    double t[CASES] = {heat(ctx, p, u0, n, steps, 0), heat(ctx, p, u0, n, steps, 1),
                       fresh(ctx, data, (size_t)n, steps)};
    for (int c = 0; c < CASES; c++) {
        if (t[c] < 0) return -1;
        us[c] = t[c] * 1e6 / steps;
    }
    weft_program_free(p);
    weft_ctx_free(ctx);
    return 0;
}

static double median(double *v, int count)
{
    qsort(v, (size_t)count, sizeof *v, bench_cmp_double);
    return count % 2 ? v[count / 2] : 0.5 * (v[count / 2 - 1] + v[count / 2]);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1 << 20, steps = argc > 2 ? atoi(argv[2]) : 200,
        rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (n < 3 || steps < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_copy_queue [N >= 3] [STEPS >= 1] [ROUNDS 1..32]\n");
        return 2;
    }
    double *u0 = malloc((size_t)n * sizeof *u0);
    float *data = malloc(((size_t)n + 3) * sizeof *data);
    if (!u0 || !data) return 1;
    for (int i = 0; i < n; i++)
        u0[i] = (i > n / 3 && i < 2 * n / 3) ? 100.0 : 0.0;
    for (int i = 0; i < n + 3; i++)
        data[i] = (float)(i % 1000) * 0.01f;
    static double us[CONFIGS][CASES][MAX_ROUNDS];
    for (int round = 0; round < rounds; round++)
        for (int k = 0; k < CONFIGS; k++) {
            int config = (round + k) % CONFIGS; /* each goes first in turn */
            double one[CASES];
            if (run_config(config, u0, data, n, steps, one) != 0) {
                fprintf(stderr, "bench_copy_queue: %s: %s\n", config_names[config],
                        weft_last_error());
                return 1;
            }
            for (int c = 0; c < CASES; c++)
                us[config][c][round] = one[c];
        }
    printf("%d elements, %d steps, medians of %d alternated rounds, us per step:\n", n, steps,
           rounds);
    printf("%-22s", "");
    for (int c = 0; c < CASES; c++)
        printf("%14s", case_names[c]);
    printf("\n");
    for (int k = 0; k < CONFIGS; k++) {
        printf("%-22s", config_names[k]);
        for (int c = 0; c < CASES; c++)
            printf("%14.1f", median(us[k][c], rounds));
        printf("\n");
    }
    free(u0);
    free(data);
    return 0;
}
