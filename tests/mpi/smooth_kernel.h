/* The three-point kernel the MPI error tests launch over rows, and its
 * host function: one halo row each side. */
#ifndef WEFT_TESTS_MPI_SMOOTH_KERNEL_H
#define WEFT_TESTS_MPI_SMOOTH_KERNEL_H

#include <weft.h>

static const char smooth_source[] =
    "__kernel void smooth(__global const float *in, __global float *out, const int n)\n"
    "{\n"
    "    int i = get_global_id(0);\n"
    "    out[i] = in[i] + (i > 0 ? in[i - 1] : 0.0f) + (i < n - 1 ? in[i + 1] : 0.0f);\n"
    "}\n";

static inline void smooth_host(const weft_host_call *call)
{
    const float *in = call->args[0];
    float *out = call->args[1];
    int n = *(const int *)call->args[2];
    for (size_t i = call->begin; i < call->end; i++)
        out[i] = in[i] + (i > 0 ? in[i - 1] : 0.0f) + ((int)i < n - 1 ? in[i + 1] : 0.0f);
}

#endif
