/* All-pairs n-body accelerations (double4: x, y, z, mass): the OpenCL
 * source, one body's acceleration in C (the reference, in the kernel's order
 * of operations) and the launch's host_fn. A header so that the placement
 * bench (tools/bench_placement_kernels.c) can launch the same kernel. */
#ifndef WEFT_TEST_NBODY_KERNEL_H
#define WEFT_TEST_NBODY_KERNEL_H

#include <weft.h>

#include <math.h>

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

static inline void nbody_one(const double *pos, int n, double eps2, int i, double *out)
{
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
    out[0] = ax;
    out[1] = ay;
    out[2] = az;
    out[3] = 0.0;
}

static inline void nbody_host(const weft_host_call *call)
{
    const double *pos = call->args[0];
    double *acc = call->args[1];
    int n = *(const int *)call->args[2];
    double eps2 = *(const double *)call->args[3];
    for (size_t i = call->begin; i < call->end; i++)
        nbody_one(pos, n, eps2, (int)i, acc + 4 * i);
}

#endif
