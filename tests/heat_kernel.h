/* The 1-D heat stencil the tests and benchmarks launch: its OpenCL source,
 * an ordinary get_global_id kernel over the whole array, and the same step on
 * the host (a launch's host_fn). */
#ifndef WEFT_TEST_HEAT_KERNEL_H
#define WEFT_TEST_HEAT_KERNEL_H

#include <weft.h>

static const char heat_source[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "__kernel void heat(__global const double *u, __global double *v, const int n,\n"
    "                   const double r)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    if (i == 0 || i == n - 1) { v[i] = u[i]; return; }\n"
    "    v[i] = u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]);\n"
    "}\n";

static inline void heat_host(const weft_host_call *call)
{
    const double *u = call->args[0];
    double *v = call->args[1];
    int n = *(const int *)call->args[2];
    double r = *(const double *)call->args[3];
    for (size_t k = call->begin; k < call->end; k++) {
        int i = (int)k;
        v[i] = (i == 0 || i == n - 1) ? u[i] : u[i] + r * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
    }
}

#endif
