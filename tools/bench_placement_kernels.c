/* The user-kernel rows of `weft bench placement`: a compute-bound all-pairs
 * n-body and a bandwidth-bound 3-point stencil, each launched with a host_fn
 * so the pool is one of the candidates the model weighs. */
#include "bench_placement.h"

#include <stdlib.h>
#include <string.h>

static const char nbody_source[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "__kernel void accel(__global const double4 *pos, __global double4 *acc, const int n,\n"
    "                    const double eps2)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    double4 p = pos[i];\n"
    "    double ax = 0.0, ay = 0.0, az = 0.0;\n"
    "    for (int j = 0; j < n; j++) {\n"
    "        double4 q = pos[j];\n"
    "        double dx = q.x - p.x, dy = q.y - p.y, dz = q.z - p.z;\n"
    "        double r2 = dx * dx + dy * dy + dz * dz + eps2;\n"
    "        double inv = 1.0 / sqrt(r2);\n"
    "        double s = q.w * inv * inv * inv;\n"
    "        ax += dx * s; ay += dy * s; az += dz * s;\n"
    "    }\n"
    "    acc[i] = (double4)(ax, ay, az, 0.0);\n"
    "}\n";

static void nbody_host(const weft_host_call *call)
{
    const double *pos = weft_host_arg(call, 0);
    double *acc = weft_host_arg(call, 1);
    int n = *(const int *)weft_host_arg(call, 2);
    double eps2 = *(const double *)weft_host_arg(call, 3);
    for (size_t i = call->begin; i < call->end; i++) {
        const double *p = pos + 4 * i;
        double ax = 0.0, ay = 0.0, az = 0.0;
        for (int j = 0; j < n; j++) {
            const double *q = pos + 4 * j;
            double dx = q[0] - p[0], dy = q[1] - p[1], dz = q[2] - p[2];
            double r2 = dx * dx + dy * dy + dz * dz + eps2;
            double inv = 1.0 / sqrt(r2);
            double s = q[3] * inv * inv * inv;
            ax += dx * s;
            ay += dy * s;
            az += dz * s;
        }
        double *out = acc + 4 * i;
        out[0] = ax;
        out[1] = ay;
        out[2] = az;
        out[3] = 0.0;
    }
}

static const char stencil_source[] =
    "__kernel void stencil(__global const float *x, __global float *y, const int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    float l = i > 0 ? x[i - 1] : x[i], r = i < n - 1 ? x[i + 1] : x[i];\n"
    "    y[i] = 0.25f * l + 0.5f * x[i] + 0.25f * r;\n"
    "}\n";

static void stencil_host(const weft_host_call *call)
{
    const float *x = weft_host_arg(call, 0);
    float *y = weft_host_arg(call, 1);
    int n = *(const int *)weft_host_arg(call, 2);
    for (size_t k = call->begin; k < call->end; k++) {
        int i = (int)k;
        float l = i > 0 ? x[i - 1] : x[i], r = i < n - 1 ? x[i + 1] : x[i];
        y[i] = 0.25f * l + 0.5f * x[i] + 0.25f * r;
    }
}

int bench_kernel_fits(bench_kernel kernel, size_t n)
{
    return kernel != BENCH_NBODY || n <= BENCH_NBODY_MAX;
}

weft_status bench_kernel_make(weft_ctx *ctx, bench_kernel kernel, size_t n, bench_kernel_state *s)
{
    memset(s, 0, sizeof *s);
    s->kernel = kernel;
    s->n = n;
    size_t count = kernel == BENCH_NBODY ? 4 * n : n;
    weft_dtype dt = kernel == BENCH_NBODY ? WEFT_F64 : WEFT_F32;
    size_t bytes = count * weft_dtype_size(dt);
    void *buf = malloc(bytes);
    if (!buf) return WEFT_ERR_NOMEM;
    uint64_t r = 88172645463325252u;
    for (size_t i = 0; i < count; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double u = 0.5 + 1.5 * (double)(r >> 11) * 0x1p-53;
        if (dt == WEFT_F64)
            ((double *)buf)[i] = u;
        else
            ((float *)buf)[i] = (float)u;
    }
    weft_status st = weft_array_from(ctx, dt, count, buf, &s->in);
    free(buf);
    if (st == WEFT_OK) st = weft_array_create(ctx, dt, count, &s->out);
    if (st == WEFT_OK)
        st = weft_program_build(ctx, kernel == BENCH_NBODY ? nbody_source : stencil_source, NULL,
                                &s->program);
    return st;
}

weft_status bench_kernel_run(const bench_kernel_state *s)
{
    weft_range range = weft_range_1d(s->n);
    if (s->kernel == BENCH_NBODY) {
        weft_arg args[] = {weft_arg_whole(s->in), weft_arg_slice(s->out), weft_arg_i32((int)s->n),
                           weft_arg_f64(1e-3)};
        return weft_launch(s->program, "accel", &range, args, 4, nbody_host, NULL, NULL);
    }
    weft_arg args[] = {weft_arg_halo(s->in, 1), weft_arg_slice(s->out), weft_arg_i32((int)s->n)};
    return weft_launch(s->program, "stencil", &range, args, 3, stencil_host, NULL, NULL);
}

void bench_kernel_release(bench_kernel_state *s)
{
    weft_program_free(s->program);
    weft_array_free(s->in);
    weft_array_free(s->out);
    memset(s, 0, sizeof *s);
}
