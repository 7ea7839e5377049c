/* A user kernel that copies x into z, and its host fallback: for tests that
 * need a launch reading one array whole. */
#ifndef WEFT_TEST_COPY_KERNEL_H
#define WEFT_TEST_COPY_KERNEL_H

#include <weft.h>

#define COPY_KERNEL_SOURCE                                                                         \
    "__kernel void copy(__global float *z, __global const float *x)\n"                             \
    "{ size_t i = get_global_id(0); z[i] = x[i]; }\n"

static inline void copy_on_host(const weft_host_call *call)
{
    float *z = call->args[0];
    const float *x = call->args[1];
    for (size_t i = call->begin; i < call->end; i++)
        z[i] = x[i];
}

#endif
