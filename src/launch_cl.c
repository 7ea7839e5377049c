/* The OpenCL side of user-kernel launches: kernel lookup, signature, and
 * running pieces in three phases (stage inputs, launch, collect outputs) so
 * that no device's kernel writes host memory a neighbour is still reading. */
#include "array.h"
#include "cl_common.h"
#include "error.h"
#include "launch.h"
#include "launch_limits.h"

#include <stdlib.h>
#include <string.h>

static weft_status get_kernel(weft_program *p, size_t dev, const char *name, cl_kernel *out)
{
    weft_status st = WEFT_OK;
    pthread_mutex_lock(&p->lock);
    for (weft_kernel_entry *k = p->kernels; k; k = k->next) {
        if (k->device == dev && strcmp(k->name, name) == 0) {
            *out = k->kernel;
            pthread_mutex_unlock(&p->lock);
            return WEFT_OK;
        }
    }
    cl_int err;
    cl_kernel kernel = clCreateKernel((cl_program)p->per_device[dev], name, &err);
    if (err == CL_INVALID_KERNEL_NAME) {
        st = weft_error_set(WEFT_ERR_INVALID_ARG, "the program has no kernel named \"%s\"", name);
    } else if (err != CL_SUCCESS) {
        st = weft_cl_fail(&p->ctx->devices[dev], "clCreateKernel", err);
    } else {
        weft_kernel_entry *e = calloc(1, sizeof *e);
        if (e) e->name = strdup(name);
        if (!e || !e->name) {
            free(e);
            clReleaseKernel(kernel);
            st = weft_error_set(WEFT_ERR_NOMEM, "cannot cache kernel %s", name);
        } else {
            e->device = dev;
            e->kernel = kernel;
            e->next = p->kernels;
            p->kernels = e;
            *out = kernel;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

weft_status weft_cl_launch_kernel(weft_program *p, size_t dev, const char *name, void **kernel)
{
    return get_kernel(p, dev, name, (cl_kernel *)kernel);
}

weft_status weft_cl_kernel_params(weft_program *p, size_t dev, const char *name, weft_param *params,
                                  size_t capacity, size_t *count)
{
    cl_kernel kernel;
    RETURN_ON_ERROR(get_kernel(p, dev, name, &kernel));
    cl_uint nargs = 0;
    cl_int err = clGetKernelInfo(kernel, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL);
    if (err != CL_SUCCESS) return weft_cl_fail(&p->ctx->devices[dev], "clGetKernelInfo", err);
    *count = nargs;
    for (cl_uint i = 0; i < nargs && i < capacity; i++) {
        weft_param *w = &params[i];
        cl_kernel_arg_address_qualifier address;
        cl_kernel_arg_type_qualifier type_q = 0;
        err = clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_ADDRESS_QUALIFIER, sizeof address,
                                 &address, NULL);
        if (err == CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
            return weft_error_set(WEFT_ERR_UNSUPPORTED, "no kernel argument info");
        if (err != CL_SUCCESS)
            return weft_cl_fail(&p->ctx->devices[dev], "clGetKernelArgInfo", err);
        clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_TYPE_QUALIFIER, sizeof type_q, &type_q, NULL);
        clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_TYPE_NAME, sizeof w->type, w->type, NULL);
        clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_NAME, sizeof w->name, w->name, NULL);
        w->type[sizeof w->type - 1] = w->name[sizeof w->name - 1] = '\0';
        w->address = address == CL_KERNEL_ARG_ADDRESS_GLOBAL     ? 1
                     : address == CL_KERNEL_ARG_ADDRESS_LOCAL    ? 2
                     : address == CL_KERNEL_ARG_ADDRESS_CONSTANT ? 3
                                                                 : 0;
        w->is_const = (type_q & CL_KERNEL_ARG_TYPE_CONST) != 0 || w->address == 3;
    }
    return WEFT_OK;
}

/* Per piece and argument: the buffer, and how its result comes home. */
typedef struct staged {
    cl_mem mem;
    int zero_copy;
    void *home;    /* host memory of the owned part, for written arguments */
    size_t offset; /* bytes into mem where the owned part starts */
    size_t bytes;  /* of the owned part */
} staged;

static size_t scalar_size(weft_dtype dt)
{
    return weft_dtype_size(dt);
}

static weft_status stage_array(const weft_device *dev, const weft_launch_job *job, size_t k,
                               const weft_launch_piece *piece, staged *s)
{
    const weft_arg *a = &job->args[k];
    const weft_array *arr = a->array;
    weft_cl_device *cl = weft_cl(dev);
    size_t outer = weft_range_outer(&job->range);
    size_t inner = arr->n / outer, elem = arr->elem_size;
    cl_int err;
    if (a->kind == WEFT_ARG_WHOLE) {
        int zc = dev->info.zero_copy && (uintptr_t)arr->host % cl->base_align == 0;
        s->mem = clCreateBuffer(
            cl->context, CL_MEM_READ_ONLY | (zc ? CL_MEM_USE_HOST_PTR : CL_MEM_COPY_HOST_PTR),
            arr->n ? arr->n * elem : 1, arr->host, &err);
        return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, "clCreateBuffer (whole)", err);
    }
    unsigned char *own = arr->host + piece->begin * inner * elem;
    s->home = own;
    s->bytes = (piece->end - piece->begin) * inner * elem;
    if (a->kind == WEFT_ARG_SLICE) {
        s->zero_copy = dev->info.zero_copy && (uintptr_t)own % cl->base_align == 0;
        s->mem = clCreateBuffer(cl->context,
                                CL_MEM_READ_WRITE |
                                    (s->zero_copy ? CL_MEM_USE_HOST_PTR : CL_MEM_COPY_HOST_PTR),
                                s->bytes, own, &err);
        return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, "clCreateBuffer (slice)", err);
    }
    /* Halo: rows [begin - h, end + h); rows outside the array read as zero. */
    size_t h = a->halo, row = inner * elem;
    size_t total = (piece->end - piece->begin + 2 * h) * row;
    s->mem = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, total, NULL, &err);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateBuffer (halo)", err);
    s->offset = h * row;
    size_t first = piece->begin >= h ? piece->begin - h : 0;
    size_t last = piece->end + h <= outer ? piece->end + h : outer;
    size_t lead = first + h - piece->begin; /* zero rows before the data */
    const cl_uchar zero = 0;
    if (lead > 0 || last < piece->end + h)
        err = clEnqueueFillBuffer(cl->queue, s->mem, &zero, 1, 0, total, 0, NULL, NULL);
    /* Blocking: every input is copied before any kernel may write the host. */
    if (err == CL_SUCCESS)
        err = clEnqueueWriteBuffer(cl->queue, s->mem, CL_TRUE, lead * row, (last - first) * row,
                                   arr->host + first * row, 0, NULL, NULL);
    return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, "staging a halo", err);
}

static weft_status stage_piece(weft_launch_job *job, weft_launch_piece *piece, staged *st,
                               cl_kernel *kernel_out)
{
    weft_program *p = job->program;
    weft_device *dev = &p->ctx->devices[piece->device];
    cl_kernel kernel;
    RETURN_ON_ERROR(get_kernel(p, piece->device, job->name, &kernel));
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        cl_int err;
        if (a->kind <= WEFT_ARG_WHOLE) {
            RETURN_ON_ERROR(stage_array(dev, job, k, piece, &st[k]));
            err = clSetKernelArg(kernel, (cl_uint)k, sizeof st[k].mem, &st[k].mem);
        } else if (a->kind == WEFT_ARG_SCALAR) {
            err = clSetKernelArg(kernel, (cl_uint)k, scalar_size(a->dtype), &a->value);
        } else {
            err = clSetKernelArg(kernel, (cl_uint)k, a->local_bytes, NULL);
        }
        if (err != CL_SUCCESS) {
            weft_cl_fail(dev, "clSetKernelArg", err);
            return weft_error_set(WEFT_ERR_INVALID_ARG, "argument %zu of kernel %s: %s", k,
                                  job->name, weft_last_error());
        }
    }
    *kernel_out = kernel;
    return WEFT_OK;
}

static weft_status enqueue_piece(weft_launch_job *job, weft_launch_piece *piece, cl_kernel kernel,
                                 cl_event *event)
{
    weft_device *dev = &job->program->ctx->devices[piece->device];
    const weft_range *r = &job->range;
    size_t offset[3] = {0, 0, 0}, global[3], *local = r->local[0] ? (size_t *)r->local : NULL;
    for (unsigned d = 0; d < r->dims; d++)
        global[d] = r->size[d];
    offset[r->dims - 1] = piece->begin;
    global[r->dims - 1] = piece->end - piece->begin;
    return weft_cl_enqueue(dev, kernel, r->dims, offset, global, local, event);
}

/* Waits for the piece, then brings written owned parts home. */
static weft_status collect_piece(weft_launch_job *job, weft_launch_piece *piece, staged *st,
                                 int *late)
{
    weft_device *dev = &job->program->ctx->devices[piece->device];
    cl_command_queue q = weft_cl(dev)->queue;
    cl_int err = clFinish(q);
    if (err == CL_SUCCESS && (dev->ctx->faults & WEFT_FAULT_FINISH)) err = CL_OUT_OF_RESOURCES;
    if (err != CL_SUCCESS) {
        for (size_t k = 0; k < job->nargs; k++)
            if (job->writes[k] && st[k].zero_copy) *late = 1; /* host memory may be half-written */
        return weft_cl_fail(dev, "clFinish", err);
    }
    for (size_t k = 0; k < job->nargs; k++) {
        if (!job->writes[k] || !st[k].mem) continue;
        if (st[k].zero_copy) {
            void *mapped = clEnqueueMapBuffer(q, st[k].mem, CL_TRUE, CL_MAP_READ, 0, st[k].bytes, 0,
                                              NULL, NULL, &err);
            if (err == CL_SUCCESS) {
                if (mapped != st[k].home) memcpy(st[k].home, mapped, st[k].bytes);
                err = clEnqueueUnmapMemObject(q, st[k].mem, mapped, 0, NULL, NULL);
            }
        } else {
            err = clEnqueueReadBuffer(q, st[k].mem, CL_TRUE, st[k].offset, st[k].bytes, st[k].home,
                                      0, NULL, NULL);
        }
        if (err != CL_SUCCESS) {
            *late = 1;
            return weft_cl_fail(dev, "reading results back", err);
        }
    }
    err = clFinish(q);
    return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, "clFinish", err);
}

static void fail_piece(weft_launch_job *job, weft_launch_piece *piece, int late)
{
    piece->state = late ? PIECE_FAILED_LATE : PIECE_FAILED_EARLY;
    weft_log(&job->program->ctx->log, WEFT_LOG_WARN, "device %zu, kernel %s: %s", piece->device,
             job->name, weft_last_error());
}

void weft_cl_run_pieces(weft_launch_job *job)
{
    size_t n = job->npieces, nargs = job->nargs;
    staged *st = calloc(n * (nargs + 1), sizeof *st);
    cl_kernel *kernels = calloc(n, sizeof *kernels);
    cl_event *events = calloc(n, sizeof *events);
    if (!st || !kernels || !events) {
        for (size_t p = 0; p < n; p++)
            if (job->pieces[p].device) job->pieces[p].state = PIECE_FAILED_EARLY;
        free(st);
        free(kernels);
        free(events);
        return;
    }
    for (size_t p = 0; p < n; p++) /* 1. stage every input everywhere */
        if (job->pieces[p].device &&
            stage_piece(job, &job->pieces[p], st + p * (nargs + 1), &kernels[p]) != WEFT_OK)
            fail_piece(job, &job->pieces[p], 0);
    for (size_t p = 0; p < n; p++) { /* 2. launch */
        weft_launch_piece *piece = &job->pieces[p];
        if (piece->device && piece->state == PIECE_PENDING &&
            enqueue_piece(job, piece, kernels[p], &events[p]) != WEFT_OK)
            fail_piece(job, piece, 0);
    }
    for (size_t p = 0; p < n; p++) { /* 3. collect */
        weft_launch_piece *piece = &job->pieces[p];
        if (!piece->device) continue;
        int late = 0;
        if (piece->state == PIECE_PENDING) {
            if (collect_piece(job, piece, st + p * (nargs + 1), &late) == WEFT_OK)
                piece->state = PIECE_DONE;
            else
                fail_piece(job, piece, late);
        } else {
            clFinish(weft_cl(&job->program->ctx->devices[piece->device])->queue);
        }
        for (size_t k = 0; k < nargs; k++)
            if (st[p * (nargs + 1) + k].mem) clReleaseMemObject(st[p * (nargs + 1) + k].mem);
        /* Device time of the kernel: the launch reports the slowest piece. */
        cl_ulong start = 0, end = 0;
        if (events[p] && piece->state == PIECE_DONE &&
            clGetEventProfilingInfo(events[p], CL_PROFILING_COMMAND_START, sizeof start, &start,
                                    NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(events[p], CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) ==
                CL_SUCCESS &&
            end > start && (double)(end - start) * 1e-9 > job->kernel_seconds)
            job->kernel_seconds = (double)(end - start) * 1e-9;
        if (events[p]) clReleaseEvent(events[p]);
    }
    free(st);
    free(kernels);
    free(events);
}
