/* Shared pieces of the OpenCL backend: headers, error names, per-device state. */
#ifndef WEFT_CL_COMMON_H
#define WEFT_CL_COMMON_H

#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include "../../core/process.h"
#include "../device.h"

#include <pthread.h>

/* "CL_OUT_OF_RESOURCES"-style name of an OpenCL error code. */
const char *weft_cl_error_name(cl_int err);
/* Sets WEFT_ERR_OPENCL naming the call, the device and the error; returns it. */
weft_status weft_cl_fail(const weft_device *dev, const char *call, cl_int err);

typedef struct weft_cl_kernels {
    cl_kernel axpy[2]; /* f32, f64 */
    int built;         /* 1 ok, -1 failed (use the reference) */
} weft_cl_kernels;

typedef struct weft_cl_device {
    cl_platform_id platform;
    cl_device_id id;
    cl_context context;
    cl_command_queue queue;
    /* With WEFT_COPY_QUEUE=1, copies from the host run here, beside the
     * kernels (NULL: on queue); events order a kernel after the copies it
     * reads and a copy after the work that used what it overwrites. */
    cl_command_queue copy_queue;
    char platform_version[128];
    int has_fp64;
    int gpu_class; /* kernels in their GPU variant */
    unsigned base_align;
    pthread_mutex_t lock; /* lazy creation of the axpy kernels */
    /* Held by one primitive call at a time, from creating its kernel on
     * first use and setting its arguments to enqueueing the last command that
     * touches the scratch buffer: two operations may run on the device at
     * once, and a cl_kernel's arguments (clSetKernelArg is not thread-safe)
     * and the scratch are shared by every call. */
    pthread_mutex_t submit;
    weft_cl_kernels kernels;
    cl_kernel scan[3][WEFT_DTYPE_COUNT][2]; /* [sum/min/max][dtype][totals/apply] */
    cl_mem scratch;                         /* per-block partials of the chunk being summed */
    size_t scratch_bytes;
    /* Held across each enqueue: one command at a time enters the queue. */
    pthread_mutex_t queue_lock;
    /* Unique among the devices of the process: a thread's record of its own
     * commands names the device by it (backend_cl.c), so a record left for
     * a freed device never matches a new one at the same address. */
    unsigned long serial;
    struct weft_cl_programs *programs; /* the driver's program cache for the context */
    pid_t pid;                         /* the process that opened it */
} weft_cl_device;

static inline weft_cl_device *weft_cl(const weft_device *dev)
{
    return (weft_cl_device *)dev->impl;
}

/* 1 in a fork child of the process that opened the device. The OpenCL
 * runtime there is the parent's: its threads are gone and its locks may be
 * held by them forever (PoCL's are), so no call may reach it. Every entry of
 * the table checks first: work fails (weft_cl_forked_fail), releases leak
 * what the parent's runtime allocated (the child's exit returns it). */
static inline int weft_cl_forked(const weft_device *dev)
{
    return weft_cl(dev)->pid != weft_process_id();
}
/* Sets WEFT_ERR_DEVICE: the device cannot be used in a fork child; returns it. */
weft_status weft_cl_forked_fail(const weft_device *dev);

/* Returns what call (an entry's _locked part) returns, run under dev's
 * submit lock: one thread at a time enqueues on the device's queue. */
#define WEFT_CL_RETURN_LOCKED(dev, call)                                                           \
    do {                                                                                           \
        pthread_mutex_lock(&weft_cl(dev)->submit);                                                 \
        weft_status locked_status_ = (call);                                                       \
        pthread_mutex_unlock(&weft_cl(dev)->submit);                                               \
        return locked_status_;                                                                     \
    } while (0)

/* Builds source for one device through the memory and disk caches. On
 * WEFT_ERR_BUILD *log (malloc'd, may be NULL) holds the build log. */
weft_status weft_cl_program_get(weft_device *dev, const char *source, const char *options,
                                cl_program *program, char **log);

/* Every kernel launch goes through here, so the fault hooks (WEFT_FAULT=launch,
 * call:K) cover them all. */
weft_status weft_cl_enqueue(weft_device *dev, cl_kernel kernel, cl_uint dims, const size_t *offset,
                            const size_t *global, const size_t *local, cl_event *event);
/* 1D, no offset, no event; local 0: chosen by the implementation. */
weft_status weft_cl_enqueue_1d(weft_device *dev, cl_kernel kernel, size_t global, size_t local);

/* Every command enters the device's queue between these two calls:
 * queue_unlock records the command's event (retained here; NULL: it has
 * none) as the calling thread's own last command there, what its next
 * marker or finish answers for, when err is CL_SUCCESS; returns err. */
void weft_cl_queue_lock(weft_device *dev);
cl_int weft_cl_queue_unlock(weft_device *dev, cl_int err, cl_event event);
/* The events the calling thread's next command on the compute queue waits
 * for (dev->ops.depend): handed over, and forgotten (*count 0: none). The
 * caller releases them with weft_cl_release_events. */
cl_event *weft_cl_take_depends(weft_device *dev, cl_uint *count);
void weft_cl_release_events(cl_event *events, cl_uint count);
/* The same for a command that is not the caller's work on the device: one
 * waited for at once (a blocking transfer), or one a peer copy puts on the
 * source's queue. */
cl_int weft_cl_queue_unlock_other(weft_device *dev, cl_int err, cl_event event);

/* Grows the device's scratch buffer for per-block partials to bytes. */
weft_status weft_cl_scratch(weft_device *dev, size_t bytes);

/* The table entries of the OpenCL driver (weft_backend_cl_init). */
void weft_cl_device_release(weft_device *dev);
weft_status weft_cl_program_build(weft_device *dev, const char *source, const char *options,
                                  void **program, char **log);
void weft_cl_program_release(weft_device *dev, void *program);
void weft_cl_kernel_release(weft_device *dev, void *kernel);
weft_status weft_cl_kernel_create(weft_device *dev, void *program, const char *name, void **kernel);
weft_status weft_cl_kernel_group_size(weft_device *dev, void *kernel, size_t required[3]);
weft_status weft_cl_type_sizes(weft_device *dev, const char *source, size_t at, const char *options,
                               const char *const *types, size_t ntypes, size_t *sizes);
weft_status weft_cl_kernel_params(weft_device *dev, void *kernel, weft_param *params,
                                  size_t capacity, size_t *count);
weft_status weft_cl_launch_limits(weft_device *dev, const weft_kernel_call *call);
weft_status weft_cl_launch(weft_device *dev, weft_kernel_call *call);
double weft_cl_event_seconds(weft_device *dev, void *event);

typedef struct weft_expr_call weft_expr_call;
typedef struct weft_partial weft_partial;
weft_status weft_cl_expr_build(weft_device *dev, const weft_compiled *compiled);
weft_status weft_cl_map_expr(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                             size_t begin, size_t n);
weft_status weft_cl_reduce_expr(weft_device *dev, const weft_expr_call *call,
                                const weft_view *views, size_t begin, size_t n,
                                weft_partial *partials);

weft_status weft_cl_scan_totals(weft_device *dev, weft_reduce_op op, weft_dtype dtype, weft_view x,
                                size_t n, uint64_t *subtotals);
weft_status weft_cl_scan_apply(weft_device *dev, weft_reduce_op op, weft_dtype dtype, int exclusive,
                               weft_view x, weft_view y, size_t n, const uint64_t *carries);

#endif
