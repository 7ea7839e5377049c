/* The 1-D heat stencil a new user writes first: an ordinary OpenCL kernel
 * (buffers indexed with get_global_id over the whole array) launched step
 * after step with weft_launch, against a single-threaded C loop in the same
 * process, and against the same kernel launched with plain OpenCL on weft's
 * first device (bench/raw_heat.c): weft's overhead is the gap to that, the
 * platform's code for the kernel the gap between that and the C loop. Prints
 * medians of repeated runs and the ledger of one run.
 *
 *   bench_heat [N] [STEPS] [REPEATS] [LOCAL]     (defaults 1048576 500 3 0)
 *
 * LOCAL is the work-group size given to both weft and the raw launches (0: none,
 * the device chooses).
 * Run it under the device setups to compare them: POCL_DEVICES="pthread
 * pthread", WEFT_ZERO_COPY=0. */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"
#include "../tests/heat_kernel.h"
#include "raw_heat.h"

#include <weft.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double c_loop(double *u, double *v, int n, int steps)
{
    double t0 = bench_now();
    for (int s = 0; s < steps; s++) {
        v[0] = u[0];
        v[n - 1] = u[n - 1];
        for (int i = 1; i < n - 1; i++)
            v[i] = u[i] + 0.25 * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
        double *t = u;
        u = v;
        v = t;
    }
    return bench_now() - t0;
}

static double weft_run(weft_ctx *ctx, weft_program *p, const double *u0, double *out, int n,
                       int steps, size_t local)
{
    weft_array *u, *v;
    if (weft_array_from(ctx, WEFT_F64, (size_t)n, u0, &u) != WEFT_OK ||
        weft_array_create(ctx, WEFT_F64, (size_t)n, &v) != WEFT_OK)
        return -1;
    weft_range r = {1, {(size_t)n, 1, 1}, {local, 0, 0}};
    double t0 = bench_now();
    for (int s = 0; s < steps; s++) {
        weft_arg args[] = {weft_arg_halo(u, 1), weft_arg_slice(v), weft_arg_i32(n),
                           weft_arg_f64(0.25)};
        if (weft_launch(p, "heat", &r, args, 4, heat_host, NULL, NULL) != WEFT_OK) return -1;
        weft_array *t = u;
        u = v;
        v = t;
    }
    if (weft_array_read(u, 0, (size_t)n, out) != WEFT_OK) return -1;
    double t = bench_now() - t0;
    weft_array_free(u);
    weft_array_free(v);
    return t;
}

/* The first launch of a kernel over several devices is checked against one
 * device (docs/kernels.md): its cost, once, next to a launch after it. */
static void first_launch_cost(weft_ctx *ctx, weft_program *p, const double *u0, int n, size_t local)
{
    weft_array *u, *v;
    if (weft_array_from(ctx, WEFT_F64, (size_t)n, u0, &u) != WEFT_OK ||
        weft_array_create(ctx, WEFT_F64, (size_t)n, &v) != WEFT_OK)
        return;
    weft_range r = {1, {(size_t)n, 1, 1}, {local, 0, 0}};
    weft_arg args[] = {weft_arg_halo(u, 1), weft_arg_slice(v), weft_arg_i32(n), weft_arg_f64(0.25)};
    double t[2];
    weft_stats before, after;
    weft_ctx_stats(ctx, &before);
    for (int k = 0; k < 2; k++) {
        double t0 = bench_now();
        weft_launch(p, "heat", &r, args, 4, heat_host, NULL, NULL);
        weft_array_sync(v);
        t[k] = bench_now() - t0;
    }
    weft_ctx_stats(ctx, &after);
    printf("  first launch %.2f ms, the next %.2f ms (%.1fx)%s\n", t[0] * 1e3, t[1] * 1e3,
           t[0] / t[1],
           after.splits_checked > before.splits_checked
               ? ": the first checked its split against one device"
               : "");
    weft_array_free(u);
    weft_array_free(v);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1 << 20, steps = argc > 2 ? atoi(argv[2]) : 500;
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    long local = argc > 4 ? atol(argv[4]) : 0;
    if (n < 3 || steps < 1 || reps < 1 || reps > 32 || local < 0 || (local && n % local)) {
        fprintf(stderr, "usage: bench_heat [N >= 3] [STEPS >= 1] [REPEATS 1..32] [LOCAL "
                        "dividing N]\n");
        return 2;
    }
    weft_ctx *ctx;
    weft_program *p;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK ||
        weft_program_build(ctx, heat_source, NULL, &p) != WEFT_OK) {
        fprintf(stderr, "bench_heat: %s\n", weft_last_error());
        return 3;
    }
    raw_heat *raw = raw_heat_create(0, heat_source, "heat"); /* NULL: no raw lines */
    double *u0 = malloc(sizeof(double) * (size_t)n), *u = malloc(sizeof(double) * (size_t)n);
    double *v = malloc(sizeof(double) * (size_t)n), *out = malloc(sizeof(double) * (size_t)n);
    double *raw_out = malloc(sizeof(double) * (size_t)n);
    for (int i = 0; i < n; i++)
        u0[i] = (double)(((long)i * 7919) % 1000) / 1000.0; /* i * 7919 overflows int */
    double tc[32], tw[32], tr[2][32];
    int raw_same[2] = {1, 1};
    memcpy(u, u0, sizeof(double) * (size_t)n);
    c_loop(u, v, n, steps);
    const double *c_result = steps % 2 ? v : u;
    for (int k = 0; k < reps; k++) {
        memcpy(u, u0, sizeof(double) * (size_t)n);
        tc[k] = c_loop(u, v, n, steps);
        weft_ctx_stats_reset(ctx);
        tw[k] = weft_run(ctx, p, u0, out, n, steps, (size_t)local);
        if (tw[k] < 0) {
            fprintf(stderr, "bench_heat: %s\n", weft_last_error());
            return 3;
        }
        for (int m = 0; m < 2; m++) {
            tr[m][k] = raw ? raw_heat_run(raw, (raw_heat_memory)m, u0, raw_out, n, steps, 0.25,
                                          (size_t)local)
                           : -1;
            raw_same[m] &= tr[m][k] < 0 || !memcmp(raw_out, c_result, sizeof(double) * (size_t)n);
        }
    }
    int same = memcmp(out, c_result, sizeof(double) * (size_t)n) == 0;
    weft_stats st;
    weft_ctx_stats(ctx, &st);
    qsort(tc, (size_t)reps, sizeof *tc, bench_cmp_double);
    qsort(tw, (size_t)reps, sizeof *tw, bench_cmp_double);
    double mc = tc[reps / 2], mw = tw[reps / 2];
    printf("heat stencil, %d doubles, %d steps, local size %ld (medians of %d):\n", n, steps, local,
           reps);
    printf("  C loop, one thread: %.3f s\n  weft_launch:        %.3f s  (%.2fx the C loop; "
           "%.1f us per step)\n",
           mc, mw, mc / mw, mw / steps * 1e6);
    weft_program *fresh; /* a kernel whose split is not known yet */
    if (weft_program_build(ctx, heat_source, NULL, &fresh) == WEFT_OK)
        first_launch_cost(ctx, fresh, u0, n, (size_t)local);
    weft_program_free(fresh);
    static const char *const memory_name[2] = {"platform's buffers", "huge-page host buffers"};
    for (int m = 0; m < 2; m++) {
        qsort(tr[m], (size_t)reps, sizeof *tr[m], bench_cmp_double);
        double mr = tr[m][reps / 2];
        if (tr[m][0] < 0)
            printf("  raw OpenCL on cl:0, %s: not measured (no OpenCL device or it failed)\n",
                   memory_name[m]);
        else
            printf("  raw OpenCL on cl:0, %s: %.3f s  (%.2fx the C loop; %.1f us per step; "
                   "weft - raw %+.1f us per step; bit-identical: %s)\n",
                   memory_name[m], mr, mc / mr, mr / steps * 1e6, (mw - mr) / steps * 1e6,
                   raw_same[m] ? "yes" : "NO");
    }
    printf("  weft's result bit-identical to the C loop: %s\n", same ? "yes" : "NO");
    printf("  ledger of one run: %.2f MB in, %.2f MB out, %.4f MB between devices, %llu "
           "launches\n",
           (double)st.bytes_to_device * 1e-6, (double)st.bytes_to_host * 1e-6,
           (double)st.bytes_device_to_device * 1e-6, (unsigned long long)st.kernel_launches);
    free(u0);
    free(u);
    free(v);
    free(out);
    free(raw_out);
    raw_heat_free(raw);
    weft_program_free(p);
    weft_ctx_free(ctx);
    return same && raw_same[0] && raw_same[1] ? 0 : 1;
}
