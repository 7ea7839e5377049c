/* weft peak: what each device can do, measured clpeak-style through weft
 * itself: memory bandwidth (read, copy, triad), array transfers, kernel launch
 * latency (synchronous and pipelined, beside raw OpenCL launches of the same
 * empty kernel in this process), arithmetic rate, and program build time cold
 * and from the binary cache. */
#define _POSIX_C_SOURCE 200809L
#include "../bench/raw_launch.h" /* its empty kernel; its launches with WEFT_TOOL_RAW_OPENCL */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPS = 5, SYNC_LAUNCHES = 50, QUEUED_LAUNCHES = 1000 };

/* FMA-bound: 8 independent chains of 64 mads per work-item. */
static const char arith_source[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "#define BODY(T) T a = (T)get_global_id(0), b = a + (T)1, c = a + (T)2, d = a + (T)3,\\\n"
    "  e = a + (T)4, f = a + (T)5, g = a + (T)6, h = a + (T)7;\\\n"
    "  for (int i = 0; i < 64; i++) { a = a * m + k; b = b * m + k; c = c * m + k;\\\n"
    "    d = d * m + k; e = e * m + k; f = f * m + k; g = g * m + k; h = h * m + k; }\\\n"
    "  out[get_global_id(0)] = a + b + c + d + e + f + g + h;\n"
    "__kernel void f32(__global float *out, const float m, const float k) { BODY(float) }\n"
    "__kernel void f64(__global double *out, const double m, const double k) { BODY(double) }\n"
    "__kernel void i32(__global int *out, const int m, const int k) { BODY(int) "
    "}\n" NOP_KERNEL_SOURCE;

typedef struct peak {
    double read, copy, triad, to_device_gbs, to_host_gbs;
    double launch_us, pipelined_us, gflops[3], build_cold_ms, build_cached_ms;
    double raw_launch_us, raw_pipelined_us; /* < 0: not measured (no raw OpenCL in this build) */
    int has_kernels;
} peak;

static void print_json_us(double us)
{
    if (us >= 0)
        printf("%.1f", us);
    else
        printf("null");
}

static double best_of(double *t, int n)
{
    double b = t[0];
    for (int i = 1; i < n; i++)
        b = t[i] < b ? t[i] : b;
    return b;
}

static int memory(weft_ctx *ctx, size_t n, peak *p)
{
    weft_array *x = NULL, *y = NULL, *z = NULL;
    float *host = calloc(n, sizeof *host);
    int ok = host && weft_array_create(ctx, WEFT_F32, n, &x) == WEFT_OK &&
             weft_array_create(ctx, WEFT_F32, n, &y) == WEFT_OK &&
             weft_array_create(ctx, WEFT_F32, n, &z) == WEFT_OK;
    weft_bind b[] = {weft_bind_array("x", x), weft_bind_array("y", y), weft_bind_array("z", z),
                     weft_bind_f32("a", 3)};
    double t[5][REPS];
    weft_scalar s;
    for (int r = 0; ok && r < REPS + 1; r++) { /* the first round warms up */
        double t0 = cli_now();
        ok = ok && weft_reduce(ctx, WEFT_SUM, x, &s, NULL) == WEFT_OK;
        double t1 = cli_now();
        ok = ok && weft_map(ctx, "y = x", b, 4, NULL) == WEFT_OK;
        double t2 = cli_now();
        ok = ok && weft_map(ctx, "z = x + a * y", b, 4, NULL) == WEFT_OK;
        double t3 = cli_now();
        ok = ok && weft_array_write(x, 0, n, host) == WEFT_OK &&
             weft_reduce(ctx, WEFT_ANY, x, &s, NULL) == WEFT_OK;
        double t4 = cli_now();
        ok = ok && weft_reduce(ctx, WEFT_ANY, x, &s, NULL) == WEFT_OK; /* x already there */
        double t4b = cli_now();
        ok = ok && weft_map(ctx, "y = x", b, 4, NULL) == WEFT_OK;
        double t5 = cli_now();
        ok = ok && weft_array_read(y, 0, n, host) == WEFT_OK;
        double t6 = cli_now();
        if (r == 0) continue;
        t[0][r - 1] = t1 - t0;
        t[1][r - 1] = t2 - t1;
        t[2][r - 1] = t3 - t2;
        /* host to device: a write and the transfer the next reader triggers,
         * less that reader's own time; device to host: a read of fresh results */
        t[3][r - 1] = (t4 - t3) - (t4b - t4);
        t[4][r - 1] = t6 - t5;
    }
    if (ok) {
        double bytes = 4.0 * (double)n;
        p->read = bytes / best_of(t[0], REPS) * 1e-9;
        p->copy = 2 * bytes / best_of(t[1], REPS) * 1e-9;
        p->triad = 3 * bytes / best_of(t[2], REPS) * 1e-9;
        double up = best_of(t[3], REPS), down = best_of(t[4], REPS);
        p->to_device_gbs = up > 0 ? bytes / up * 1e-9 : 0;
        p->to_host_gbs = down > 0 ? bytes / down * 1e-9 : 0;
    }
    weft_array_free(x);
    weft_array_free(y);
    weft_array_free(z);
    free(host);
    return ok;
}

/* The same empty kernel launched with plain OpenCL on the same device, right
 * after weft's launches: on a shared machine only a ratio measured together
 * means anything. */
static void raw_launches(unsigned cl_index, peak *p)
{
    p->raw_launch_us = p->raw_pipelined_us = -1;
#ifdef WEFT_TOOL_RAW_OPENCL
    raw_launch *raw = raw_launch_create(cl_index);
    if (!raw) return;
    p->raw_launch_us = raw_launch_sync_us(raw, SYNC_LAUNCHES);
    p->raw_pipelined_us = raw_launch_pipelined_us(raw, QUEUED_LAUNCHES);
    raw_launch_free(raw);
#else
    (void)cl_index;
#endif
}

/* One-item launches of an empty kernel: synchronous, then 1000 queued with
 * futures; raw OpenCL's right after. */
static int launch_latency(weft_program *prog, weft_array *one, unsigned cl_index, peak *p)
{
    weft_arg nop[] = {weft_arg_slice(one)};
    weft_range r1 = {1, {1, 1, 1}, {0, 0, 0}};
    double t[SYNC_LAUNCHES];
    int ok = weft_launch(prog, "nop", &r1, nop, 1, NULL, NULL, NULL) == WEFT_OK; /* warm up */
    for (int i = 0; ok && i < SYNC_LAUNCHES; i++) {
        double t1 = cli_now();
        ok = weft_launch(prog, "nop", &r1, nop, 1, NULL, NULL, NULL) == WEFT_OK;
        t[i] = cli_now() - t1;
    }
    if (ok) {
        qsort(t, SYNC_LAUNCHES, sizeof *t, cli_cmp_double);
        p->launch_us = t[SYNC_LAUNCHES / 2] * 1e6;
        static weft_future *f[QUEUED_LAUNCHES];
        int queued = 0;
        double t1 = cli_now();
        for (; queued < QUEUED_LAUNCHES && ok; queued++)
            ok = weft_launch(prog, "nop", &r1, nop, 1, NULL, NULL, &f[queued]) == WEFT_OK;
        queued -= !ok;
        for (int i = 0; i < queued; i++) {
            ok = weft_future_wait(f[i]) == WEFT_OK && ok;
            weft_future_release(f[i]);
        }
        p->pipelined_us = (cli_now() - t1) / QUEUED_LAUNCHES * 1e6;
        raw_launches(cl_index, p);
    }
    return ok;
}

static int kernels(weft_ctx *ctx, unsigned cl_index, peak *p)
{
    char cold[sizeof arith_source + 64];
    snprintf(cold, sizeof cold, "%s// %ld %ld\n", arith_source, (long)time(NULL), (long)clock());
    weft_program *prog = NULL;
    double t0 = cli_now();
    if (weft_program_build(ctx, cold, NULL, &prog) != WEFT_OK) return cli_fail("building") && 0;
    p->build_cold_ms = (cli_now() - t0) * 1e3;
    weft_program_free(prog);
    t0 = cli_now();
    if (weft_program_build(ctx, arith_source, NULL, &prog) != WEFT_OK) return 0;
    weft_program_free(prog);
    weft_ctx *fresh = cli_ctx(NULL); /* another context: from the disk cache, as a new process */
    if (fresh) {
        t0 = cli_now();
        weft_program_build(fresh, arith_source, NULL, &prog);
        p->build_cached_ms = (cli_now() - t0) * 1e3;
        weft_program_free(prog);
        weft_ctx_free(fresh);
    }
    weft_program_build(ctx, arith_source, NULL, &prog);
    enum { ITEMS = 1 << 20 };
    weft_array *out[3] = {NULL, NULL, NULL}, *one = NULL;
    weft_dtype types[3] = {WEFT_F32, WEFT_F64, WEFT_I32};
    const char *names[3] = {"f32", "f64", "i32"};
    int ok = weft_array_create(ctx, WEFT_I32, 1, &one) == WEFT_OK;
    /* First: reading kernel times (below) makes every later launch of the
     * context ask for a profiled event, which raw OpenCL's launches do not. */
    ok = ok && launch_latency(prog, one, cl_index, p);
    for (int k = 0; k < 3 && ok; k++) {
        ok = weft_array_create(ctx, types[k], ITEMS, &out[k]) == WEFT_OK;
        weft_arg args[3] = {weft_arg_slice(out[k]), weft_arg_f32(0.999f), weft_arg_f32(0.5f)};
        if (k == 1) args[1] = weft_arg_f64(0.999), args[2] = weft_arg_f64(0.5);
        if (k == 2) args[1] = weft_arg_i32(3), args[2] = weft_arg_i32(1);
        weft_range r = {1, {ITEMS, 1, 1}, {0, 0, 0}};
        double t[REPS];
        for (int i = 0; ok && i < REPS + 1; i++) {
            ok = weft_launch(prog, names[k], &r, args, 3, NULL, NULL, NULL) == WEFT_OK;
            double kt = 0;
            weft_ctx_last_kernel_time(ctx, &kt);
            if (i > 0) t[i - 1] = kt > 0 ? kt : 1e9;
        }
        if (ok) p->gflops[k] = 2.0 * 8 * 64 * ITEMS / best_of(t, REPS) * 1e-9;
    }
    for (int k = 0; k < 3; k++)
        weft_array_free(out[k]);
    weft_array_free(one);
    weft_program_free(prog);
    p->has_kernels = ok;
    return ok;
}

int cmd_peak(int argc, char **argv)
{
    int json = 0;
    const char *device = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: weft peak [--json] [--device D]\n"
                   "Measures each device (D as in WEFT_DEVICES; default: every OpenCL device and\n"
                   "the host pool): read, copy and triad bandwidth, array write + read-back,\n"
                   "kernel launch latency (synchronous, pipelined) beside raw OpenCL launches of\n"
                   "the same kernel, f32/f64/i32 arithmetic rate, and program build time cold\n"
                   "and from the binary cache.\n");
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else {
            fprintf(stderr, "weft peak: unexpected argument \"%s\"\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    weft_ctx *probe = cli_ctx(device);
    if (!probe) return EXIT_WEFT;
    size_t count;
    weft_device_count(probe, &count);
    char specs[17][32];
    size_t nspecs = 0;
    for (size_t d = 1; d < count && nspecs < 16; d++) {
        weft_device_info info;
        weft_device_get_info(probe, d, &info);
        if (info.selected) snprintf(specs[nspecs++], 32, "cl:%zu", d - 1);
    }
    if (!device || strstr(device, "host") || nspecs == 0) snprintf(specs[nspecs++], 32, "host");
    weft_ctx_free(probe);
    if (json) printf("{\"devices\": [");
    for (size_t s = 0; s < nspecs; s++) {
        weft_ctx *ctx = cli_ctx(specs[s]);
        if (!ctx) return EXIT_WEFT;
        size_t index = strcmp(specs[s], "host") == 0 ? 0 : (size_t)atoi(specs[s] + 3) + 1;
        weft_device_info info;
        weft_device_get_info(ctx, index, &info);
        peak p = {0};
        if (!memory(ctx, (size_t)1 << 24, &p)) return cli_fail("measuring memory");
        if (index > 0) kernels(ctx, (unsigned)(index - 1), &p);
        if (json) {
            printf("%s{\"device\": %zu, \"name\": ", s ? ", " : "", index);
            cli_json_string(info.name);
            printf(", \"read_gbs\": %.2f, \"copy_gbs\": %.2f, \"triad_gbs\": %.2f, "
                   "\"to_device_gbs\": %.2f, \"to_host_gbs\": %.2f",
                   p.read, p.copy, p.triad, p.to_device_gbs, p.to_host_gbs);
            if (p.has_kernels) {
                printf(", \"launch_us\": %.1f, \"pipelined_us\": %.1f, \"raw_launch_us\": ",
                       p.launch_us, p.pipelined_us);
                print_json_us(p.raw_launch_us);
                printf(", \"raw_pipelined_us\": ");
                print_json_us(p.raw_pipelined_us);
                printf(", \"gflops_f32\": %.1f, \"gflops_f64\": %.1f, \"gops_i32\": %.1f, "
                       "\"build_cold_ms\": %.1f, \"build_cached_ms\": %.1f",
                       p.gflops[0], p.gflops[1], p.gflops[2], p.build_cold_ms, p.build_cached_ms);
            }
            printf("}");
        } else {
            printf("device %zu: %s\n", index, info.name);
            printf("  bandwidth: read %.1f GB/s, copy %.1f GB/s, triad %.1f GB/s\n", p.read, p.copy,
                   p.triad);
            if (index > 0)
                printf("  transfers: host to device %.1f GB/s, device to host %.1f GB/s\n",
                       p.to_device_gbs, p.to_host_gbs);
            else
                printf("  transfers: none (the pool works in host memory)\n");
            if (p.has_kernels) {
                printf("  launch: %.1f us synchronous, %.1f us pipelined (%d queued)\n",
                       p.launch_us, p.pipelined_us, QUEUED_LAUNCHES);
                if (p.raw_launch_us >= 0)
                    printf("  raw OpenCL launch, same kernel and device: %.1f us synchronous "
                           "(clEnqueueNDRangeKernel + clFinish), %.1f us pipelined\n",
                           p.raw_launch_us, p.raw_pipelined_us);
                printf("  arithmetic: f32 %.1f GFLOP/s, f64 %.1f GFLOP/s, i32 %.1f GOP/s\n",
                       p.gflops[0], p.gflops[1], p.gflops[2]);
                printf("  program build: %.0f ms cold, %.1f ms from the binary cache\n",
                       p.build_cold_ms, p.build_cached_ms);
            }
        }
        weft_ctx_free(ctx);
    }
    if (json) printf("]}\n");
    return 0;
}
