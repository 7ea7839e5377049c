/* What checking a user kernel's split costs when its scalar arguments
 * change from launch to launch (docs/kernels.md, "Which kernels split").
 *
 *   heat        bench_heat's stencil, the same scalars every step
 *   heat+step   the same stencil with the step number as a scalar (used in
 *               the value only): new values every launch
 *   heat+k      the same, the step also holding one element fixed (it
 *               steers: 8 checks, then one device)
 *   set_diag    r[k*n + k] from work-item 0 for k = 0..n-1 (finding 01):
 *               also prints how many diagonal elements came out wrong
 *   tiny        heat+step over 256 elements: what deciding costs per launch
 *
 * Run on the setup to measure, e.g.
 *   POCL_DEVICES="pthread pthread" WEFT_ZERO_COPY=0 build/bench_split_checks
 * (a case's name as the argument runs only it) and against another build of
 * the library with LD_LIBRARY_PATH. Prints the
 * median over ROUNDS fresh contexts of the seconds per launch. */
#define _POSIX_C_SOURCE 200809L
#include "bench_clock.h"
#include "../tests/heat_kernel.h"
#include "../tests/set_diag_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROUNDS = 3, STEPS = 200, HEAT_N = 1 << 20, DIAG_N = 512, TINY_N = 256, TINY_STEPS = 2000 };

static const char step_source[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "__kernel void heat_step(__global const double *u, __global double *v, const int n,\n"
    "                        const double r, const int step)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    if (i == 0 || i == n - 1) { v[i] = u[i] + 1e-12 * step; return; }\n"
    "    v[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]);\n"
    "}\n";

static const char steer_source[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "__kernel void heat_k(__global const double *u, __global double *v, const int n,\n"
    "                     const double r, const int step)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    if (i == 0 || i == n - 1 || i == step) { v[i] = u[i]; return; }\n"
    "    v[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]);\n"
    "}\n";

static void steer_host(const weft_host_call *call)
{
    const double *u = call->args[0];
    double *v = call->args[1];
    int n = *(const int *)call->args[2], step = *(const int *)call->args[4];
    double r = *(const double *)call->args[3];
    for (size_t k = call->begin; k < call->end; k++) {
        int i = (int)k;
        v[i] = (i == 0 || i == n - 1 || i == step) ? u[i]
                                                   : u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
    }
}

static void step_host(const weft_host_call *call)
{
    heat_host(call); /* the step only moves the two ends, which the check sees */
    double *v = call->args[1];
    int n = *(const int *)call->args[2], step = *(const int *)call->args[4];
    for (size_t k = call->begin; k < call->end; k++)
        if (k == 0 || (int)k == n - 1) v[k] += 1e-12 * step;
}

typedef struct result {
    double seconds; /* per launch */
    unsigned long long checked, whole;
    int wrong;
} result;

static int heat_run(int kind, size_t n, int steps, result *out)
{
    weft_ctx *ctx;
    weft_program *p;
    weft_array *u, *v;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK) return -1;
    double *init = calloc(n, sizeof *init);
    init[n / 2] = 1.0;
    weft_array_from(ctx, WEFT_F64, n, init, &u);
    weft_array_create(ctx, WEFT_F64, n, &v);
    const char *sources[] = {heat_source, step_source, steer_source};
    const char *kernels[] = {"heat", "heat_step", "heat_k"};
    weft_host_fn hosts[] = {heat_host, step_host, steer_host};
    weft_program_build(ctx, sources[kind], NULL, &p);
    weft_range r = weft_range_1d(n);
    double t0 = bench_now();
    for (int s = 0; s < steps; s++) {
        weft_array *from = s % 2 ? v : u, *to = s % 2 ? u : v;
        weft_arg args[] = {weft_arg_halo(from, 1), weft_arg_slice(to), weft_arg_i32((int)n),
                           weft_arg_f64(0.25), weft_arg_i32(s)};
        if (weft_launch(p, kernels[kind], &r, args, kind ? 5 : 4, hosts[kind], NULL, NULL) !=
            WEFT_OK)
            return -1;
    }
    weft_array_read(u, 0, n, init);
    out->seconds = (bench_now() - t0) / steps;
    weft_stats st;
    weft_ctx_stats(ctx, &st);
    out->checked = st.splits_checked;
    out->whole = st.kernels_kept_whole;
    out->wrong = 0;
    free(init);
    weft_program_free(p);
    weft_array_free(u);
    weft_array_free(v);
    weft_ctx_free(ctx);
    return 0;
}

static int diag_run(result *out)
{
    size_t nn = (size_t)DIAG_N * DIAG_N;
    float *r0 = calloc(nn, sizeof *r0);
    weft_ctx *ctx;
    weft_array *r;
    weft_program *p;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK) return -1;
    weft_array_from(ctx, WEFT_F32, nn, r0, &r);
    weft_program_build(ctx, set_diag_source, NULL, &p);
    weft_range rg = weft_range_1d(DIAG_N);
    double t0 = bench_now();
    for (int k = 0; k < DIAG_N; k++) {
        weft_arg args[] = {weft_arg_slice(r), weft_arg_i32(k), weft_arg_i32(DIAG_N)};
        if (weft_launch(p, "set_diag", &rg, args, 3, NULL, NULL, NULL) != WEFT_OK) return -1;
    }
    weft_array_read(r, 0, nn, r0);
    out->seconds = (bench_now() - t0) / DIAG_N;
    out->wrong = 0;
    for (int k = 0; k < DIAG_N; k++)
        out->wrong += r0[(size_t)k * DIAG_N + k] != (float)(k + 1);
    weft_stats st;
    weft_ctx_stats(ctx, &st);
    out->checked = st.splits_checked;
    out->whole = st.kernels_kept_whole;
    free(r0);
    weft_program_free(p);
    weft_array_free(r);
    weft_ctx_free(ctx);
    return 0;
}

static int by_seconds(const void *a, const void *b)
{
    double x = ((const result *)a)->seconds, y = ((const result *)b)->seconds;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *names[] = {"heat", "heat+step", "heat+k", "set_diag", "tiny"};
    printf("%-10s %12s %8s %6s %6s\n", "case", "ms/launch", "checked", "whole", "wrong");
    for (int c = 0; c < 5; c++) {
        if (argc > 1 && strcmp(argv[1], names[c]) != 0) continue;
        result runs[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            int rc = c < 3    ? heat_run(c, HEAT_N, STEPS, &runs[i])
                     : c == 3 ? diag_run(&runs[i])
                              : heat_run(1, TINY_N, TINY_STEPS, &runs[i]);
            if (rc) {
                fprintf(stderr, "%s failed: %s\n", names[c], weft_last_error());
                return 1;
            }
        }
        qsort(runs, ROUNDS, sizeof *runs, by_seconds);
        result *m = &runs[ROUNDS / 2];
        printf("%-10s %12.3f %8llu %6llu %6d\n", names[c], m->seconds * 1e3, m->checked, m->whole,
               m->wrong);
    }
    return 0;
}
