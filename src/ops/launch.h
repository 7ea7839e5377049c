/* User-kernel launches: the job the stream runs, shared by the generic
 * orchestration (launch.c) and the OpenCL side (launch_cl.c). */
#ifndef WEFT_LAUNCH_H
#define WEFT_LAUNCH_H

#include "../exec/pieces.h"
#include "program.h"

#define WEFT_LAUNCH_MAX_ARRAYS WEFT_OP_MAX_ARRAYS

typedef struct weft_launch_job {
    weft_op base;
    weft_program *program;
    char *name;
    weft_range range;
    weft_arg *args;
    size_t nargs;
    unsigned char *writes; /* per argument: the kernel may write it */
    weft_host_fn host_fn;
    void *user;
    weft_piece *pieces;
    size_t npieces;
    double kernel_seconds; /* device time of the slowest piece (profiling) */
} weft_launch_job;

static inline size_t weft_range_outer(const weft_range *r)
{
    return r->size[r->dims - 1];
}

/* The piece as a neutral kernel call (dev/device.h): the launch's geometry
 * with the piece's outer indices, each argument as the device takes it
 * (buffers: one per argument, or NULL when only the shape matters); the
 * caller sets call->kernel. */
void weft_launch_describe(const weft_launch_job *job, const weft_piece *piece,
                          weft_kernel_arg *args, void *const *buffers, weft_kernel_call *call);

#endif
