/* The backend interface: what a device can do, as a table of functions.
 *
 * weft_backend_host_init fills the reference table: portable C on the thread
 * pool, the implementation every primitive has. An OpenCL device starts from a
 * copy of it and overrides what it does natively (weft_backend_cl_init); a
 * primitive it leaves alone still points at the reference, and the dispatcher
 * runs that piece on the host instead (weft_backend_is_native).
 *
 * Device-side calls enqueue and may return before the work is done;
 * `finish` waits and reports the first failure since the last finish. Data
 * written into host memory by an enqueued read is valid after finish.
 */
#ifndef WEFT_BACKEND_H
#define WEFT_BACKEND_H

#include "weft.h"

typedef struct weft_device weft_device;
typedef struct weft_expr_call weft_expr_call;
typedef struct weft_partial weft_partial;
typedef struct weft_launch_job weft_launch_job;
typedef struct weft_piece weft_piece;
typedef struct weft_param weft_param;

/* A stretch of an array as a primitive sees it. */
typedef struct weft_view {
    void *host;   /* first element in host memory */
    void *buffer; /* the device buffer holding it (cl_mem), NULL on the host */
} weft_view;

typedef struct weft_backend {
    const char *name;

    /* Releases what the driver holds for the device (its impl). */
    void (*release)(weft_device *dev);

    /* User programs (program.c): built through the binary cache; *log
     * (malloc'd) holds the build log on WEFT_ERR_BUILD. Kernels created from
     * programs (and from expressions) are released through kernel_release. */
    weft_status (*program_build)(weft_device *dev, const char *source, const char *options,
                                 void **program, char **log);
    void (*program_release)(weft_device *dev, void *program);
    void (*kernel_release)(weft_device *dev, void *kernel);

    /* User-kernel launches (launch.c): the kernel's signature (WEFT_ERR_UNSUPPORTED
     * when the platform gives none), the device's limits for the launch
     * (WEFT_ERR_INVALID_ARG naming what does not fit), one piece enqueued
     * with each array argument as its whole-array buffer, and the piece's
     * completion bookkeeping once the device finished. */
    weft_status (*kernel_params)(weft_device *dev, weft_program *program, const char *name,
                                 weft_param *params, size_t capacity, size_t *count);
    weft_status (*launch_limits)(weft_device *dev, weft_launch_job *job);
    weft_status (*launch)(weft_device *dev, weft_launch_job *job, weft_piece *piece,
                          void *const *buffers);
    void (*launch_done)(weft_device *dev, weft_launch_job *job, weft_piece *piece);

    /* Device memory (the residency module, src/mem/, is the only caller).
     * host non-NULL asks for a buffer that wraps that host memory
     * (zero-copy). read is blocking; offsets are in bytes. write is blocking
     * when done is NULL; else it only enqueues, and *done (NULL if nothing is
     * left running; released with event_release) completes once src may
     * change again. */
    weft_status (*buffer_create)(weft_device *dev, size_t bytes, void *host, void **buffer);
    void (*buffer_release)(weft_device *dev, void *buffer);
    /* A buffer aliasing bytes [offset, offset + bytes) of buffer. */
    weft_status (*sub_buffer)(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                              void **sub);
    weft_status (*write)(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                         const void *src, void **done);
    weft_status (*read)(weft_device *dev, void *buffer, size_t offset, size_t bytes, void *dst);
    /* Within one device: bytes from src at src_offset to dst at dst_offset. */
    weft_status (*copy)(weft_device *dev, void *src, size_t src_offset, void *dst,
                        size_t dst_offset, size_t bytes);
    /* 1 when dev can copy straight from other's buffers (peer_copy works). */
    int (*peer_reachable)(const weft_device *dev, const weft_device *other);
    /* From another device's buffer into dev's, without the host: after the
     * work already queued on src, and before src's later work (which may
     * overwrite what is being copied). Enqueued, not waited for. */
    weft_status (*peer_copy)(weft_device *dev, void *dst, size_t dst_offset, weft_device *src,
                             void *src_buffer, size_t src_offset, size_t bytes);

    /* Primitives over n elements. */
    weft_status (*axpy)(weft_device *dev, weft_dtype dtype, double a, weft_view x, weft_view y,
                        size_t n);

    /* Expressions (prim.h): views[k] is the k-th array of the call. */
    weft_status (*map_expr)(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                            size_t begin, size_t n);
    /* One weft_partial per WEFT_SUM_BLOCK elements from begin (a block boundary). */
    weft_status (*reduce_expr)(weft_device *dev, const weft_expr_call *call, const weft_view *views,
                               size_t begin, size_t n, weft_partial *partials);

    /* Scans (op SUM, MIN or MAX) in two passes over blocks of WEFT_SUM_BLOCK,
     * each of 16 sub-blocks of 256 (kernels/scan.cl): subtotals[16k + s] =
     * fold of sub-block s of block k; then each sub-block rescans from
     * carries[16k + s]. Accumulator bits: ops/scan_host.c. */
    weft_status (*scan_totals)(weft_device *dev, weft_reduce_op op, weft_dtype dtype, weft_view x,
                               size_t n, uint64_t *subtotals);
    weft_status (*scan_apply)(weft_device *dev, weft_reduce_op op, weft_dtype dtype, int exclusive,
                              weft_view x, weft_view y, size_t n, const uint64_t *carries);

    weft_status (*finish)(weft_device *dev);
    /* Events, so an operation need not finish a device: a marker completes
     * when everything enqueued on the device before it has; wait blocks until
     * it does and reports the device's failure, if any. The host's work is
     * done when its calls return: its marker is NULL. */
    weft_status (*marker)(weft_device *dev, void **event);
    weft_status (*wait)(weft_device *dev, void *event);
    void (*event_retain)(weft_device *dev, void *event);
    void (*event_release)(weft_device *dev, void *event);
    /* "reference", "opencl-cpu", ... for a primitive name. */
    const char *(*impl)(const weft_device *dev, const char *primitive);
} weft_backend;

void weft_backend_host_init(weft_backend *ops);
const weft_backend *weft_backend_reference(void);

#endif
