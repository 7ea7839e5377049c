/* A user program: one cl_program per selected OpenCL device, and the kernels
 * created from it so far (a launch looks its kernel up by name). */
#ifndef WEFT_PROGRAM_H
#define WEFT_PROGRAM_H

#include "../dev/device.h"

#include <stdatomic.h>

typedef struct weft_kernel_entry {
    char *name;
    size_t device;
    void *kernel;       /* cl_kernel */
    weft_param *params; /* its signature, once asked */
    size_t nparams;
    int params_known; /* 0 not asked, 1 known, -1 the platform gives none */
    int group_known;  /* 1: required_group holds the kernel's reqd_work_group_size */
    size_t required_group[3];
    struct weft_kernel_entry *next;
} weft_kernel_entry;

/* What a kernel's split launches were found to do (ops/launch_check.c). */
typedef enum weft_split_verdict {
    WEFT_SPLIT_UNKNOWN, /* not split yet: the first split launch is checked */
    WEFT_SPLIT_SAFE,    /* splits gave the bits of one device running the whole range */
    WEFT_SPLIT_WHOLE    /* it did not: the kernel runs on one device */
} weft_split_verdict;

typedef struct weft_split_entry {
    weft_split_verdict verdict;
    unsigned checks;       /* splits found SAFE under this key */
    unsigned inconclusive; /* splits that agreed on data that could not show a read across */
    int steering_known;    /* steering, once read from the source */
    uint64_t steering;     /* the scalars that may steer its reads and writes (launch_scalars.c) */
    struct weft_split_entry *next;
    char key[]; /* kernel name and argument kinds, or also their values (launch_check.c) */
} weft_split_entry;

struct weft_program {
    weft_ctx *ctx;
    void **per_device; /* cl_program per device index; NULL where not built */
    char *log;
    char *source, *options;   /* as built: signatures' type names are resolved in them */
    int reads_geometry;       /* it asks for the launch's geometry: never split */
    int inexact_math;         /* its host_fn may give other bits: a fallback only */
    int build_failed;         /* a selected device refused to build it (the log says why) */
    atomic_int noted_unbuilt; /* the note that its launches run on the pool, given */
    pthread_mutex_t lock;     /* kernels, splits */
    weft_kernel_entry *kernels;
    weft_split_entry *splits;
    /* What devices' compilers said of type sizes (program.c): kernels that
     * share a type ask once. */
    struct weft_type_size *type_sizes;
    int pending; /* queued or running launches (under the stream lock) */
};

/* What split launches under `key` were found to do, and how many were
 * found SAFE (checks may be NULL). */
weft_split_verdict weft_program_split_verdict(weft_program *p, const char *key, unsigned *checks);
/* Records it (SAFE counts one more check, and never replaces WHOLE);
 * *checks (may be NULL) gets the count. WEFT_ERR_NOMEM leaves the key
 * unknown (checked again). */
weft_status weft_program_set_split_verdict(weft_program *p, const char *key,
                                           weft_split_verdict verdict, unsigned *checks);

/* One more check of kernel key `key` that agreed on data its poison could
 * not order against (launch_check.c): the count so far, this one included;
 * 0 without memory. */
unsigned weft_program_split_inconclusive(weft_program *p, const char *key);

/* The scalars of kernel key `key` that may steer where it reads and writes
 * (launch_scalars.h), read from the source once per key. */
uint64_t weft_program_split_steering(weft_program *p, const char *key, const char *name,
                                     size_t nparams);

/* The kernel `name` of the program on device dev, created once and kept
 * (WEFT_ERR_INVALID_ARG when the program has none of that name). */
weft_status weft_program_kernel(weft_program *p, size_t dev, const char *name, void **kernel);
/* The first device that built the program (whose kernels can be asked
 * their signature); 0 when none did. */
size_t weft_program_built_device(const weft_program *p);
/* The work-group size its source requires (reqd_work_group_size), all 0
 * when none or when the device cannot say; asked once per kernel. */
weft_status weft_program_required_group(weft_program *p, size_t dev, const char *name,
                                        size_t required[3]);
/* Its signature, asked of the device once per kernel: launches that follow
 * reuse it (a launch must cost about what clEnqueueNDRangeKernel does).
 * WEFT_ERR_UNSUPPORTED when the platform gives none. */
weft_status weft_program_params(weft_program *p, size_t dev, const char *name, weft_param *params,
                                size_t capacity, size_t *count);

/* options + the flags every user build needs; *full is malloc'd. */
weft_status weft_user_options(const char *options, char **full);
/* The source as built: FP_CONTRACT OFF first, unless options (from
 * weft_user_options, edited in place) hold -weft-fp-contract. */
weft_status weft_user_source(const char *source, char *options, char **full);

#endif
