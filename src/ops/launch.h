/* User-kernel launches: the job the stream runs, shared by the generic
 * orchestration (launch.c) and the OpenCL side (launch_cl.c). */
#ifndef WEFT_LAUNCH_H
#define WEFT_LAUNCH_H

#include "../exec/pieces.h"
#include "program.h"

#define WEFT_LAUNCH_MAX_ARRAYS WEFT_OP_MAX_ARRAYS

/* What the kernel's signature says of one argument (from clGetKernelArgInfo). */
typedef struct weft_param {
    char name[64];
    char type[64];
    int address; /* 0 private (scalar), 1 global, 2 local, 3 constant */
    int is_const;
} weft_param;

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

#endif
