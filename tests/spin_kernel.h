/* A user kernel that takes reps steps per element of y, and its host
 * fallback: for tests that need a launch to keep a device (or the pool)
 * busy for a while. Both compute the same values. */
#ifndef WEFT_TEST_SPIN_KERNEL_H
#define WEFT_TEST_SPIN_KERNEL_H

#include <weft.h>

#define SPIN_KERNEL_SOURCE                                                                         \
    "__kernel void spin(__global float *y, const int reps)\n"                                      \
    "{\n"                                                                                          \
    "    size_t i = get_global_id(0);\n"                                                           \
    "    float v = y[i];\n"                                                                        \
    "    for (int r = 0; r < reps; r++) v = v * 0.5f + 1.0f;\n"                                    \
    "    y[i] = v;\n"                                                                              \
    "}\n"

static inline void spin_on_host(const weft_host_call *call)
{
    float *y = call->args[0];
    int reps = *(const int *)call->args[1];
    for (size_t i = call->begin; i < call->end; i++) {
        float v = y[i];
        for (int r = 0; r < reps; r++)
            v = v * 0.5f + 1.0f;
        y[i] = v;
    }
}

#endif
