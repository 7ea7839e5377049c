/* A user program: one cl_program per selected OpenCL device, and the kernels
 * created from it so far (a launch looks its kernel up by name). */
#ifndef WEFT_PROGRAM_H
#define WEFT_PROGRAM_H

#include "../core/ctx.h"

typedef struct weft_kernel_entry {
    char *name;
    size_t device;
    void *kernel;              /* cl_kernel */
    struct weft_param *params; /* its signature, once asked (launch.h) */
    size_t nparams;
    int params_known; /* 0 not asked, 1 known, -1 the platform gives none */
    struct weft_kernel_entry *next;
} weft_kernel_entry;

struct weft_program {
    weft_ctx *ctx;
    void **per_device; /* cl_program per device index; NULL where not built */
    char *log;
    pthread_mutex_t lock; /* kernels */
    weft_kernel_entry *kernels;
    int pending; /* queued or running launches (under the stream lock) */
};

/* options + the flags every user build needs; *full is malloc'd. */
weft_status weft_user_options(const char *options, char **full);
/* The source as built: FP_CONTRACT OFF first, unless options (from
 * weft_user_options, edited in place) hold -weft-fp-contract. */
weft_status weft_user_source(const char *source, char *options, char **full);

#endif
