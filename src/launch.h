/* User-kernel launches: the job the stream runs, shared by the generic
 * orchestration (launch.c) and the OpenCL side (launch_cl.c). */
#ifndef WEFT_LAUNCH_H
#define WEFT_LAUNCH_H

#include "program.h"
#include "stream.h"

#define WEFT_LAUNCH_MAX_ARRAYS WEFT_OP_MAX_ARRAYS

enum weft_piece_state {
    PIECE_PENDING,
    PIECE_DONE,
    PIECE_FAILED_EARLY, /* the device refused it before its kernel ran */
    PIECE_FAILED_LATE   /* the device failed after the kernel may have run */
};

typedef struct weft_launch_piece {
    size_t device;
    size_t begin, end; /* outer indices */
    enum weft_piece_state state;
    void *event; /* the kernel's completion (cl_event), for its device time */
} weft_launch_piece;

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
    size_t *inner;         /* per array argument: elements per outer index */
    weft_host_fn host_fn;
    void *user;
    weft_launch_piece *pieces;
    size_t npieces;
    double kernel_seconds; /* device time of the slowest piece (profiling) */
} weft_launch_job;

static inline size_t weft_range_outer(const weft_range *r)
{
    return r->size[r->dims - 1];
}

/* The kernel's parameters on device dev (looked up once per program and
 * kernel); WEFT_ERR_INVALID_ARG if it has no kernel of that name,
 * WEFT_ERR_UNSUPPORTED if the platform gives no argument info (then no check
 * is possible). params has room for capacity. */
weft_status weft_cl_kernel_params(weft_program *p, size_t dev, const char *name, weft_param *params,
                                  size_t capacity, size_t *count);
/* Sets the kernel's arguments (buffers[k]: the device buffer of array
 * argument k, indexed like the whole array) and enqueues the piece. */
weft_status weft_cl_enqueue_piece(weft_launch_job *job, weft_launch_piece *piece,
                                  void *const *buffers);
/* After the device finished: the piece's kernel time into job->kernel_seconds
 * (the slowest piece), and its event released. */
void weft_cl_piece_done(weft_launch_job *job, weft_launch_piece *piece);

#endif
