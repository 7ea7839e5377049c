/* A user-kernel launch as the stream runs it (launch.c), with its split
 * check (launch_check.c), its limits (launch_limits.c) and the kernel call a
 * device gets (launch_call.c). */
#ifndef WEFT_LAUNCH_H
#define WEFT_LAUNCH_H

#include "../exec/pieces.h"
#include "program.h"

#define WEFT_LAUNCH_MAX_ARRAYS WEFT_OP_MAX_ARRAYS

/* What a kernel may do to an array argument. */
typedef enum weft_arg_access {
    WEFT_ACCESS_READ,    /* const, in the constant space, or a scalar */
    WEFT_ACCESS_WRITTEN, /* a slice or halo whose parameter is not const */
    /* Passed whole to a parameter that is not const: public suites rarely
     * write const on inputs, yet an atomics histogram writes its bins so.
     * Run on one device it is written there; split, only once a check saw
     * the kernel leave it unchanged (launch_check.c). */
    WEFT_ACCESS_WHOLE_MAY_WRITE
} weft_arg_access;

typedef struct weft_launch_job {
    weft_op base;
    weft_program *program;
    char *name;
    weft_range range;
    weft_arg *args;
    size_t nargs;
    unsigned char *writes; /* per argument, a weft_arg_access (in args' block) */
    uint64_t stored_only;  /* bit k: argument k's kernel only stores into it, never reads */
    /* Bit k: argument k is a u8 array whose parameter points to numbers
     * (uchar, bool; char), not records (launch_poison.h). */
    uint64_t unsigned_bytes, signed_bytes;
    weft_host_fn host_fn;
    void *user;
    size_t first, last; /* the indices of the split dimension that run (weft_launch_rows) */
    weft_piece *pieces;
    size_t npieces;
    /* The split is checked against one device running the whole range
     * (launch_check.c): a split launch with sizes and scalar values no
     * check has seen, or every one under WEFT_VERIFY=1. */
    int check_split;
    char *split_key;       /* the kernel's name and argument kinds (launch_check.c) */
    char *values_key;      /* split_key, the sizes and the scalars' values (launch_check.c) */
    double kernel_seconds; /* device time of the slowest piece (profiling) */
} weft_launch_job;

/* The dimension a launch is split along: the outermost one with more than
 * one index, so that a range of {N, 1} splits along its N. */
static inline unsigned weft_range_split_dim(const weft_range *r)
{
    unsigned d = r->dims - 1;
    while (d > 0 && r->size[d] == 1)
        d--;
    return d;
}

/* The number of indices of the split dimension: a launch's units. */
static inline size_t weft_range_outer(const weft_range *r)
{
    return r->size[weft_range_split_dim(r)];
}

#endif
