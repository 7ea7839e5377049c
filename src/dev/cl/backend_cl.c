/* The OpenCL backend: buffers, transfers and the built-in kernels on one
 * OpenCL device (its own cl_context and in-order queue). Starts from the host
 * table and overrides what a device does natively. */
#include "backend_cl.h"
#include "cl_common.h"
#include "../../core/error.h"
#include "../../core/kernels.h"
#include "../device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cl_int queue_unlock(weft_device *dev, cl_int err, cl_event event, int ours);

/* ---- memory ---- */

static weft_status cl_buffer_create(weft_device *dev, size_t bytes, void *host, void **buffer)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_int err;
    cl_mem_flags flags = CL_MEM_READ_WRITE | (host ? CL_MEM_USE_HOST_PTR : 0);
    cl_mem mem = clCreateBuffer(weft_cl(dev)->context, flags, bytes ? bytes : 1, host, &err);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateBuffer", err);
    *buffer = mem;
    return WEFT_OK;
}

static void cl_buffer_release(weft_device *dev, void *buffer)
{
    if (weft_cl_forked(dev)) return; /* leaked: see weft_cl_forked */
    clReleaseMemObject((cl_mem)buffer);
}

static weft_status cl_sub_buffer(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                                 void **sub)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_buffer_region region = {offset, bytes ? bytes : 1};
    cl_int err;
    cl_mem mem = clCreateSubBuffer((cl_mem)buffer, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                                   &region, &err);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateSubBuffer", err);
    *sub = mem;
    return WEFT_OK;
}

/* Waits for a command: CL_SUCCESS, or why it or the wait failed. */
static cl_int command_outcome(cl_event event)
{
    cl_int err = clWaitForEvents(1, &event), status = CL_COMPLETE;
    if (err == CL_SUCCESS)
        err =
            clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    return err == CL_SUCCESS && status < 0 ? status : err;
}

/* A blocking transfer is enqueued without blocking and waited for outside
 * the queue lock: other threads keep enqueueing meanwhile. */
static weft_status wait_command(weft_device *dev, cl_event event, const char *call)
{
    cl_int err = command_outcome(event);
    clReleaseEvent(event);
    return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, call, err);
}

/* WEFT_FAULT=upload: the copy's event, which its waiters see, fails as a
 * copy failing on the device would (the copy itself still runs, and the
 * queue's order with it). The copy is waited for first: once its event
 * reads failed, residency may free the host memory it reads from. */
static void fail_copy_event(weft_cl_device *cl, void **done)
{
    cl_int err;
    cl_event failed = clCreateUserEvent(cl->context, &err);
    if (err != CL_SUCCESS) return; /* no fault to inject: the copy stands */
    clWaitForEvents(1, (cl_event *)done);
    clSetUserEventStatus(failed, CL_OUT_OF_RESOURCES);
    clReleaseEvent((cl_event)*done);
    *done = failed;
}

/* done NULL: blocks, for the host memory may change as soon as the residency
 * module returns; else *done is the copy's event. */
static weft_status cl_write(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                            const void *src, void **done)
{
    if (done) *done = NULL;
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (weft_dev_fault(dev->services, WEFT_FAULT_WRITE))
        return weft_cl_fail(dev, "clEnqueueWriteBuffer (WEFT_FAULT)", CL_OUT_OF_RESOURCES);
    if (bytes == 0) return WEFT_OK;
    cl_event event = NULL;
    weft_cl_queue_lock(dev);
    cl_int err = clEnqueueWriteBuffer(weft_cl(dev)->queue, buffer, CL_FALSE, offset, bytes, src, 0,
                                      NULL, &event);
    if (err == CL_SUCCESS && done && (dev->services->faults & WEFT_FAULT_UPLOAD))
        fail_copy_event(weft_cl(dev), (void **)&event); /* the queue's record sees it fail too */
    if (queue_unlock(dev, err, event, done != NULL) != CL_SUCCESS)
        return weft_cl_fail(dev, "clEnqueueWriteBuffer", err);
    if (!done) return wait_command(dev, event, "clEnqueueWriteBuffer");
    *done = event;
    return WEFT_OK;
}

/* 1 when a command still has to run: one that finished, or failed (its own
 * operation reports that), orders nothing. */
static int still_running(cl_event event)
{
    cl_int status = CL_COMPLETE;
    if (clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL) !=
        CL_SUCCESS)
        return 1;
    return status > CL_COMPLETE;
}

/* On the copy queue, beside the kernels: after the work that last used the
 * array there (after), which what it overwrites may still feed; before the
 * kernels that read it, which wait for its event (cl_depend). The thread's
 * marker does not answer for it: residency keeps its event. Under
 * WEFT_FAULT=upload the copy goes on the compute queue, in order, for its
 * event is a stand-in that orders nothing. */
static weft_status cl_upload(weft_device *dev, void *buffer, size_t offset, size_t bytes,
                             const void *src, void *after, void **done)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    weft_cl_device *cl = weft_cl(dev);
    if (!cl->copy_queue || (dev->services->faults & WEFT_FAULT_UPLOAD))
        return cl_write(dev, buffer, offset, bytes, src, done);
    *done = NULL;
    if (weft_dev_fault(dev->services, WEFT_FAULT_WRITE))
        return weft_cl_fail(dev, "clEnqueueWriteBuffer (WEFT_FAULT)", CL_OUT_OF_RESOURCES);
    if (bytes == 0) return WEFT_OK;
    cl_event event = NULL, wait = after;
    cl_uint nwait = after && still_running(after);
    weft_cl_queue_lock(dev);
    cl_int err = clEnqueueWriteBuffer(cl->copy_queue, buffer, CL_FALSE, offset, bytes, src, nwait,
                                      nwait ? &wait : NULL, &event);
    /* Flushed: a command of another queue waiting for it is only sure to
     * progress once it was (the OpenCL rule for events across queues). */
    if (err == CL_SUCCESS) err = clFlush(cl->copy_queue);
    if (weft_cl_queue_unlock_other(dev, err, event) != CL_SUCCESS) {
        /* Enqueued but not flushed, the copy may still read src: no record
         * will wait for it, so it is waited for here. */
        if (event) clWaitForEvents(1, &event);
        if (event) clReleaseEvent(event);
        return weft_cl_fail(dev, "clEnqueueWriteBuffer (copy queue)", err);
    }
    *done = event;
    return WEFT_OK;
}

/* Blocks: the caller reads the host memory next. */
static weft_status cl_read(weft_device *dev, void *buffer, size_t offset, size_t bytes, void *dst)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (bytes == 0) return WEFT_OK;
    if (weft_dev_fault(dev->services, 0))
        return weft_cl_fail(dev, "clEnqueueReadBuffer (WEFT_FAULT=call)", CL_OUT_OF_RESOURCES);
    cl_event event = NULL;
    weft_cl_queue_lock(dev);
    cl_int err = clEnqueueReadBuffer(weft_cl(dev)->queue, buffer, CL_FALSE, offset, bytes, dst, 0,
                                     NULL, &event);
    if (weft_cl_queue_unlock_other(dev, err, event) != CL_SUCCESS)
        return weft_cl_fail(dev, "clEnqueueReadBuffer", err);
    return wait_command(dev, event, "clEnqueueReadBuffer");
}

static weft_status cl_copy(weft_device *dev, void *src, size_t src_offset, void *dst,
                           size_t dst_offset, size_t bytes)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (bytes == 0) return WEFT_OK;
    cl_event event = NULL; /* the thread's own record of the copy */
    cl_uint ndeps;
    cl_event *deps = weft_cl_take_depends(dev, &ndeps);
    weft_cl_queue_lock(dev);
    cl_int err = clEnqueueCopyBuffer(weft_cl(dev)->queue, src, dst, src_offset, dst_offset, bytes,
                                     ndeps, deps, &event);
    weft_cl_queue_unlock(dev, err, event);
    weft_cl_release_events(deps, ndeps);
    if (event) clReleaseEvent(event);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clEnqueueCopyBuffer", err);
    return WEFT_OK;
}

/* Devices of one platform share a cl_context (cl_discover.c): their buffers
 * are each other's to copy from. */
static int cl_peer_reachable(const weft_device *dev, const weft_device *other)
{
    return other->ops.peer_copy == dev->ops.peer_copy && weft_cl(other) &&
           weft_cl(dev)->context == weft_cl(other)->context;
}

/* The copy waits on a marker of src's queue (what src has queued that may
 * write the buffer), and src's queue waits on the copy (what src queues next
 * may overwrite it). Every wait points at a command enqueued earlier, so no
 * two queues can wait on each other in a circle. */
static weft_status cl_peer_copy(weft_device *dev, void *dst, size_t dst_offset, weft_device *src,
                                void *src_buffer, size_t src_offset, size_t bytes)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    if (weft_cl_forked(src)) return weft_cl_forked_fail(src);
    if (bytes == 0) return WEFT_OK;
    if (weft_dev_fault(dev->services, 0))
        return weft_cl_fail(dev, "clEnqueueCopyBuffer between devices (WEFT_FAULT=call)",
                            CL_OUT_OF_RESOURCES);
    cl_event ready = NULL, copied = NULL;
    weft_cl_queue_lock(src);
    cl_int err = clEnqueueMarkerWithWaitList(weft_cl(src)->queue, 0, NULL, &ready);
    if (weft_cl_queue_unlock_other(src, err, ready) != CL_SUCCESS)
        return weft_cl_fail(src, "clEnqueueMarkerWithWaitList", err);
    cl_uint ndeps;
    cl_event *deps = weft_cl_take_depends(dev, &ndeps), *waits = deps;
    if (deps) deps[ndeps] = ready; /* take_depends leaves room for one more */
    weft_cl_queue_lock(dev);
    err = clEnqueueCopyBuffer(weft_cl(dev)->queue, src_buffer, dst, src_offset, dst_offset, bytes,
                              ndeps + 1, waits ? waits : &ready, &copied);
    weft_cl_queue_unlock(dev, err, copied);
    clReleaseEvent(ready);
    weft_cl_release_events(deps, ndeps);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clEnqueueCopyBuffer between devices", err);
    weft_cl_queue_lock(src);
    err = clEnqueueBarrierWithWaitList(weft_cl(src)->queue, 1, &copied, NULL);
    weft_cl_queue_unlock_other(src, err, NULL);
    clReleaseEvent(copied);
    if (err != CL_SUCCESS) return weft_cl_fail(src, "clEnqueueBarrierWithWaitList", err);
    return WEFT_OK;
}

/* ---- built-in kernels ---- */

static void kernel_options(const weft_device *dev, char *out, size_t cap, const char *extra)
{
    /* -w: PoCL prints "N warnings generated." to stderr itself, and the
     * library must not print; the kernels are warning-free where it matters. */
    snprintf(out, cap, "-cl-std=CL1.2 -w -DAXPY_ITEMS=%d -DSUM_BLOCK=%d -DSUM_GPU=%d%s %s",
             weft_cl(dev)->gpu_class ? 1 : 4096, WEFT_SUM_BLOCK, weft_cl(dev)->gpu_class,
             weft_cl(dev)->has_fp64 ? " -DWEFT_HAVE_FP64" : "", extra ? extra : "");
}

static weft_status create_kernel(weft_device *dev, cl_program program, const char *name,
                                 cl_kernel *out)
{
    cl_int err;
    *out = clCreateKernel(program, name, &err);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, name, err);
    return WEFT_OK;
}

/* Builds the built-in programs on first use. A device whose compiler fails
 * keeps working through the reference implementation. */
static weft_status ensure_kernels(weft_device *dev)
{
    weft_cl_device *cl = weft_cl(dev);
    pthread_mutex_lock(&cl->lock);
    weft_status st = WEFT_OK;
    if (cl->kernels.built == 0) {
        char options[256];
        kernel_options(dev, options, sizeof options, NULL);
        cl_program axpy = NULL;
        st = weft_cl_program_get(dev, weft_kernel_axpy, options, &axpy, NULL);
        if (st == WEFT_OK) st = create_kernel(dev, axpy, "axpy_f32", &cl->kernels.axpy[0]);
        if (st == WEFT_OK && cl->has_fp64)
            st = create_kernel(dev, axpy, "axpy_f64", &cl->kernels.axpy[1]);
        if (axpy) clReleaseProgram(axpy);
        cl->kernels.built = st == WEFT_OK ? 1 : -1;
        if (st != WEFT_OK)
            weft_log(dev->services->log, WEFT_LOG_WARN,
                     "device %zu: built-in kernels unavailable, using the host: %s", dev->index,
                     weft_last_error());
    } else if (cl->kernels.built < 0) {
        st = weft_error_set(WEFT_ERR_BUILD, "device %zu: built-in kernels failed to build",
                            dev->index);
    }
    pthread_mutex_unlock(&cl->lock);
    return st;
}

/* ---- whose commands a marker answers for ----
 *
 * An operation's completion marker must fail when its own work failed, and
 * only then. The queue's last command is not that: two threads enqueue on
 * one queue at once (an operation beside the queue), so the last command may
 * be another operation's, and an operation whose pieces were all refused
 * would take the previous one's. Each thread enqueues its operation's
 * commands itself, so each keeps, per device, its own last command since its
 * last marker or finish there: the queue is in order, so that command
 * completes after everything the operation put before it, and fails when
 * any of the operation's commands did (PoCL fails every later command of an
 * in-order queue once one failed). */
typedef struct own_command {
    unsigned long serial; /* the device's (weft_cl_device.serial); 0: a free slot */
    cl_event event;       /* its last command with an event, retained (NULL: none yet) */
    int eventless;        /* a later command of it had no event: only a marker covers it */
    /* Copies its next command waits for (cl_depend), retained. */
    cl_event *depends;
    cl_uint ndepends, depends_cap;
} own_command;

enum { OWN_DEVICES = 8 };
static _Thread_local own_command owned[OWN_DEVICES];
static _Thread_local int own_overflow; /* more devices than slots: markers fall back */

static own_command *own_find(const weft_cl_device *cl, int add)
{
    own_command *free_slot = NULL;
    for (int i = 0; i < OWN_DEVICES; i++) {
        if (owned[i].serial == cl->serial) return &owned[i];
        if (!owned[i].serial && !free_slot) free_slot = &owned[i];
    }
    if (!add) return NULL;
    if (!free_slot) {
        own_overflow = 1;
        return NULL;
    }
    free_slot->serial = cl->serial;
    return free_slot;
}

static void own_note(const weft_cl_device *cl, cl_event event)
{
    own_command *mine = own_find(cl, 1);
    if (!mine) return;
    if (!event) {
        mine->eventless = 1;
        return;
    }
    clRetainEvent(event);
    if (mine->event) clReleaseEvent(mine->event);
    mine->event = event;
    mine->eventless = 0;
}

void weft_cl_release_events(cl_event *events, cl_uint count)
{
    for (cl_uint i = 0; i < count; i++)
        clReleaseEvent(events[i]);
    free(events);
}

/* The copies the thread's next command on the device waits for: those its
 * work reads, named by residency (per range, so a kernel waits for the
 * copies it reads and no others). A fault's stand-in event is not a copy
 * (the copy ran on the compute queue, in order): it orders nothing. */
static void cl_depend(weft_device *dev, void *event)
{
    if (weft_cl_forked(dev)) return; /* nothing runs there to order */
    cl_event copy = event;
    cl_command_type type = 0;
    if (!copy || !still_running(copy) ||
        clGetEventInfo(copy, CL_EVENT_COMMAND_TYPE, sizeof type, &type, NULL) != CL_SUCCESS ||
        type == CL_COMMAND_USER)
        return;
    own_command *mine = own_find(weft_cl(dev), 1);
    if (!mine) { /* more devices than slots: no list to wait by on the device */
        clWaitForEvents(1, &copy);
        return;
    }
    for (cl_uint i = 0; i < mine->ndepends; i++)
        if (mine->depends[i] == copy) return;
    if (mine->ndepends + 1 >= mine->depends_cap) { /* room for one more: cl_peer_copy */
        cl_uint cap = mine->depends_cap ? 2 * mine->depends_cap : 8;
        cl_event *grown = realloc(mine->depends, cap * sizeof *grown);
        if (!grown) { /* no room to wait on the device: wait here */
            clWaitForEvents(1, &copy);
            return;
        }
        mine->depends = grown;
        mine->depends_cap = cap;
    }
    clRetainEvent(copy);
    mine->depends[mine->ndepends++] = copy;
}

cl_event *weft_cl_take_depends(weft_device *dev, cl_uint *count)
{
    own_command *mine = own_find(weft_cl(dev), 0);
    *count = 0;
    if (!mine || !mine->ndepends) return NULL;
    cl_event *events = mine->depends;
    *count = mine->ndepends;
    mine->depends = NULL;
    mine->ndepends = mine->depends_cap = 0;
    return events;
}

/* Hands over the thread's record for the device (the caller releases
 * *event) and forgets it, copies to wait for included. Returns 0 when the
 * thread enqueued nothing there. */
static int own_take(const weft_cl_device *cl, cl_event *event, int *eventless)
{
    own_command *mine = own_find(cl, 0);
    if (!mine) return 0;
    int enqueued = mine->event || mine->eventless; /* not only copies to wait for */
    *event = mine->event;
    *eventless = mine->eventless;
    weft_cl_release_events(mine->depends, mine->ndepends);
    *mine = (own_command){0};
    return enqueued;
}

void weft_cl_queue_lock(weft_device *dev)
{
    pthread_mutex_lock(&weft_cl(dev)->queue_lock);
}

static cl_int queue_unlock(weft_device *dev, cl_int err, cl_event event, int ours)
{
    pthread_mutex_unlock(&weft_cl(dev)->queue_lock);
    if (err == CL_SUCCESS && ours) own_note(weft_cl(dev), event);
    return err;
}

cl_int weft_cl_queue_unlock(weft_device *dev, cl_int err, cl_event event)
{
    return queue_unlock(dev, err, event, 1);
}

cl_int weft_cl_queue_unlock_other(weft_device *dev, cl_int err, cl_event event)
{
    return queue_unlock(dev, err, event, 0);
}

weft_status weft_cl_enqueue(weft_device *dev, cl_kernel kernel, cl_uint dims, const size_t *offset,
                            const size_t *global, const size_t *local, cl_event *event)
{
    if (weft_dev_fault(dev->services, WEFT_FAULT_LAUNCH))
        return weft_cl_fail(dev, "clEnqueueNDRangeKernel (WEFT_FAULT)", CL_OUT_OF_RESOURCES);
    cl_event own = NULL;
    cl_uint ndeps;
    cl_event *deps = weft_cl_take_depends(dev, &ndeps);
    weft_cl_queue_lock(dev);
    cl_int err = clEnqueueNDRangeKernel(weft_cl(dev)->queue, kernel, dims, offset, global, local,
                                        ndeps, deps, &own);
    weft_cl_release_events(deps, ndeps);
    if (weft_cl_queue_unlock(dev, err, own) != CL_SUCCESS)
        return weft_cl_fail(dev, "clEnqueueNDRangeKernel", err);
    if (event)
        *event = own; /* the caller's reference; the thread's record keeps its own */
    else if (own)
        clReleaseEvent(own);
    dev->services->count(dev->services->owner, WEFT_COUNT_LAUNCHES, 1);
    return WEFT_OK;
}

weft_status weft_cl_enqueue_1d(weft_device *dev, cl_kernel kernel, size_t global, size_t local)
{
    return weft_cl_enqueue(dev, kernel, 1, NULL, &global, local ? &local : NULL, NULL);
}

static weft_status set_args(weft_device *dev, cl_kernel k, size_t count, const size_t *sizes,
                            const void *const *values)
{
    for (cl_uint i = 0; i < count; i++) {
        cl_int err = clSetKernelArg(k, i, sizes[i], values[i]);
        if (err != CL_SUCCESS) return weft_cl_fail(dev, "clSetKernelArg", err);
    }
    return WEFT_OK;
}

/* With the submit lock held. */
static weft_status axpy_locked(weft_device *dev, cl_kernel k, weft_dtype dtype, double a,
                               weft_view x, weft_view y, size_t n)
{
    cl_ulong count = n;
    float af = (float)a;
    cl_mem xm = x.buffer, ym = y.buffer;
    size_t sizes[] = {sizeof count, dtype == WEFT_F32 ? sizeof af : sizeof a, sizeof xm, sizeof ym};
    const void *values[] = {&count, dtype == WEFT_F32 ? (const void *)&af : (const void *)&a, &xm,
                            &ym};
    RETURN_ON_ERROR(set_args(dev, k, 4, sizes, values));
    size_t items = weft_cl(dev)->gpu_class ? 1 : 4096;
    return weft_cl_enqueue_1d(dev, k, (n + items - 1) / items, 0);
}

static weft_status cl_axpy(weft_device *dev, weft_dtype dtype, double a, weft_view x, weft_view y,
                           size_t n)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    RETURN_IF(dtype != WEFT_F32 && dtype != WEFT_F64, WEFT_ERR_DTYPE, "axpy needs f32 or f64");
    RETURN_ON_ERROR(ensure_kernels(dev));
    cl_kernel k = weft_cl(dev)->kernels.axpy[dtype == WEFT_F64];
    RETURN_IF(!k, WEFT_ERR_UNSUPPORTED, "device %zu has no fp64", dev->index);
    if (n == 0) return WEFT_OK;
    WEFT_CL_RETURN_LOCKED(dev, axpy_locked(dev, k, dtype, a, x, y, n));
}

/* With the submit lock held. */
weft_status weft_cl_scratch(weft_device *dev, size_t bytes)
{
    weft_cl_device *cl = weft_cl(dev);
    if (cl->scratch_bytes >= bytes) return WEFT_OK;
    /* Wait for reads still using the old scratch before dropping it. */
    cl_int err = clFinish(cl->queue);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clFinish", err);
    if (cl->scratch) clReleaseMemObject(cl->scratch);
    cl->scratch = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    cl->scratch_bytes = err == CL_SUCCESS ? bytes : 0;
    if (err != CL_SUCCESS) {
        cl->scratch = NULL;
        return weft_cl_fail(dev, "clCreateBuffer (partials)", err);
    }
    return WEFT_OK;
}

/* The status of a finished command (CL_SUCCESS, or why it failed). */
static cl_int finished_status(cl_event event)
{
    cl_int status = CL_COMPLETE;
    cl_int err =
        clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    return err != CL_SUCCESS ? err : status < 0 ? status : CL_SUCCESS;
}

/* clFinish succeeds even when commands failed (PoCL): the caller's own last
 * command says whether its work did. */
static weft_status cl_finish(weft_device *dev)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_event mine = NULL;
    int eventless = 0;
    int enqueued = own_take(weft_cl(dev), &mine, &eventless);
    cl_int err = clFinish(weft_cl(dev)->queue);
    if (err == CL_SUCCESS && enqueued && mine) err = finished_status(mine);
    if (mine) clReleaseEvent(mine);
    if (err == CL_SUCCESS && weft_dev_fault(dev->services, WEFT_FAULT_FINISH))
        err = CL_OUT_OF_RESOURCES;
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clFinish", err);
    return WEFT_OK;
}

/* The calling thread's last command on the device (see own_command), or a
 * marker where that command had no event; NULL when the thread enqueued
 * nothing there since its last marker or finish: none of its work is left. */
static weft_status cl_marker(weft_device *dev, void **event)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    weft_cl_device *cl = weft_cl(dev);
    cl_event ev = NULL;
    int eventless = 0, enqueued = own_take(cl, &ev, &eventless);
    if (!enqueued && !own_overflow) {
        *event = NULL;
        return WEFT_OK;
    }
    cl_int err = CL_SUCCESS;
    if (!ev || eventless) {
        if (ev) clReleaseEvent(ev);
        ev = NULL;
        weft_cl_queue_lock(dev);
        err = clEnqueueMarkerWithWaitList(cl->queue, 0, NULL, &ev);
        weft_cl_queue_unlock_other(dev, err, ev);
    }
    if (err == CL_SUCCESS) err = clFlush(cl->queue); /* started now, not at the first wait */
    if (err != CL_SUCCESS) {
        if (ev) clReleaseEvent(ev);
        return weft_cl_fail(dev, "clEnqueueMarkerWithWaitList", err);
    }
    *event = ev;
    return WEFT_OK;
}

static weft_status cl_wait(weft_device *dev, void *event)
{
    if (!event) return WEFT_OK;
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_int err = command_outcome(event);
    if (err == CL_SUCCESS && weft_dev_fault(dev->services, WEFT_FAULT_FINISH))
        err = CL_OUT_OF_RESOURCES;
    if (err != CL_SUCCESS)
        return weft_cl_fail(dev, "waiting for the device (clWaitForEvents)", err);
    return WEFT_OK;
}

static void cl_event_retain(weft_device *dev, void *event)
{
    if (weft_cl_forked(dev)) return; /* leaked: see weft_cl_forked */
    if (event) clRetainEvent(event);
}

static void cl_event_release(weft_device *dev, void *event)
{
    if (weft_cl_forked(dev)) return; /* leaked: see weft_cl_forked */
    if (event) clReleaseEvent(event);
}

static const char *cl_impl(const weft_device *dev, const char *primitive)
{
    const weft_cl_device *cl = weft_cl(dev);
    /* sum is an expression reduction: its double lanes need fp64 */
    int native = strcmp(primitive, "axpy") == 0 ? cl->kernels.built >= 0 : cl->has_fp64;
    if (!native) return "reference";
    return cl->gpu_class ? "opencl-gpu" : "opencl-cpu";
}

void weft_backend_cl_init(weft_backend *ops)
{
    weft_backend_host_init(ops);
    ops->name = "opencl";
    ops->buffer_create = cl_buffer_create;
    ops->buffer_release = cl_buffer_release;
    ops->sub_buffer = cl_sub_buffer;
    ops->write = cl_write;
    ops->read = cl_read;
    ops->copy = cl_copy;
    ops->upload = cl_upload;
    ops->depend = cl_depend;
    ops->peer_reachable = cl_peer_reachable;
    ops->peer_copy = cl_peer_copy;
    ops->axpy = cl_axpy;
    ops->map_expr = weft_cl_map_expr;
    ops->reduce_expr = weft_cl_reduce_expr;
    ops->expr_build = weft_cl_expr_build;
    ops->scan_totals = weft_cl_scan_totals;
    ops->scan_apply = weft_cl_scan_apply;
    ops->release = weft_cl_device_release;
    ops->program_build = weft_cl_program_build;
    ops->program_release = weft_cl_program_release;
    ops->kernel_release = weft_cl_kernel_release;
    ops->kernel_create = weft_cl_kernel_create;
    ops->kernel_params = weft_cl_kernel_params;
    ops->kernel_group_size = weft_cl_kernel_group_size;
    ops->type_sizes = weft_cl_type_sizes;
    ops->launch_limits = weft_cl_launch_limits;
    ops->launch = weft_cl_launch;
    ops->event_seconds = weft_cl_event_seconds;
    ops->finish = cl_finish;
    ops->marker = cl_marker;
    ops->wait = cl_wait;
    ops->event_retain = cl_event_retain;
    ops->event_release = cl_event_release;
    ops->impl = cl_impl;
}

void weft_cl_device_release(weft_device *dev)
{
    weft_cl_device *cl = weft_cl(dev);
    if (!cl) return;
    if (weft_cl_forked(dev)) { /* its OpenCL objects leak, and its locks: see weft_cl_forked */
        free(cl);
        dev->impl = NULL;
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (cl->kernels.axpy[i]) clReleaseKernel(cl->kernels.axpy[i]);
    }
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < WEFT_DTYPE_COUNT; t++)
            for (int p = 0; p < 2; p++)
                if (cl->scan[k][t][p] && cl->scan[k][t][p] != WEFT_KERNEL_FAILED)
                    clReleaseKernel(cl->scan[k][t][p]);
    if (cl->scratch) clReleaseMemObject(cl->scratch);
    cl_event mine = NULL;
    int eventless;
    if (own_take(cl, &mine, &eventless) && mine) clReleaseEvent(mine);
    pthread_mutex_destroy(&cl->queue_lock);
    pthread_mutex_destroy(&cl->submit);
    if (cl->copy_queue) clFinish(cl->copy_queue);
    if (cl->copy_queue) clReleaseCommandQueue(cl->copy_queue);
    if (cl->queue) clReleaseCommandQueue(cl->queue);
    if (cl->context) clReleaseContext(cl->context);
    pthread_mutex_destroy(&cl->lock);
    free(cl);
    dev->impl = NULL;
}
