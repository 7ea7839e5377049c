/* A kernel whose work-item 0 alone writes one element outside its own rows,
 * r[k*n + k] (Gram-Schmidt's r[k][k]), and the same on the host: what a
 * split launch must not lose. */
#ifndef WEFT_TEST_SET_DIAG_KERNEL_H
#define WEFT_TEST_SET_DIAG_KERNEL_H

#include <weft.h>

static const char set_diag_source[] =
    "__kernel void set_diag(__global float *r, int k, int n)\n"
    "{\n"
    "    if (get_global_id(0) == 0) r[k * n + k] = (float)(k + 1);\n"
    "}\n";

static inline void set_diag_host(const weft_host_call *call)
{
    float *r = call->args[0];
    int k = *(const int *)call->args[1], n = *(const int *)call->args[2];
    if (call->begin == 0 && call->end > 0) r[k * n + k] = (float)(k + 1);
}

#endif
