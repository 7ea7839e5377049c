/* The OpenCL side of user-kernel launches: kernel lookup, signature, and
 * running pieces in three phases (stage inputs, launch, collect outputs) so
 * that no device's kernel writes host memory a neighbour is still reading. */
#include "../../mem/array.h"
#include "cl_common.h"
#include "../../core/error.h"
#include "../../ops/launch.h"

#include <stdlib.h>
#include <string.h>

static weft_status get_entry(weft_program *p, size_t dev, const char *name,
                             weft_kernel_entry **found)
{
    weft_status st = WEFT_OK;
    pthread_mutex_lock(&p->lock);
    for (weft_kernel_entry *k = p->kernels; k; k = k->next) {
        if (k->device == dev && strcmp(k->name, name) == 0) {
            *found = k;
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
            *found = e;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

static weft_status get_kernel(weft_program *p, size_t dev, const char *name, cl_kernel *out)
{
    weft_kernel_entry *e;
    RETURN_ON_ERROR(get_entry(p, dev, name, &e));
    *out = e->kernel;
    return WEFT_OK;
}

weft_status weft_cl_launch_kernel(weft_program *p, size_t dev, const char *name, void **kernel)
{
    return get_kernel(p, dev, name, (cl_kernel *)kernel);
}

static weft_status query_params(weft_program *p, size_t dev, cl_kernel kernel, weft_param *params,
                                size_t capacity, size_t *count)
{
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

/* With p->lock held: asks the platform for e's signature. */
static weft_status learn_params(weft_program *p, size_t dev, weft_kernel_entry *e, const char *name)
{
    weft_param probe[1];
    size_t n = 0;
    weft_status st = query_params(p, dev, e->kernel, probe, 0, &n);
    if (st == WEFT_ERR_UNSUPPORTED || (st == WEFT_OK && n == 0)) {
        e->params_known = st == WEFT_OK ? 1 : -1;
        return WEFT_OK;
    }
    RETURN_ON_ERROR(st);
    weft_param *all = calloc(n, sizeof *all);
    RETURN_IF(!all, WEFT_ERR_NOMEM, "cannot keep the signature of kernel %s", name);
    st = query_params(p, dev, e->kernel, all, n, &n);
    if (st != WEFT_OK) {
        free(all);
        if (st != WEFT_ERR_UNSUPPORTED) return st;
        e->params_known = -1;
        return WEFT_OK;
    }
    e->params = all;
    e->nparams = n;
    e->params_known = 1;
    return WEFT_OK;
}

/* The signature is asked of the platform once per kernel: launches that
 * follow reuse it (a launch must cost about what clEnqueueNDRangeKernel does).
 * Under the program's lock: two operations may launch its kernels at once. */
weft_status weft_cl_kernel_params(weft_device *device, weft_program *p, const char *name,
                                  weft_param *params, size_t capacity, size_t *count)
{
    size_t dev = device->index;
    weft_kernel_entry *e;
    RETURN_ON_ERROR(get_entry(p, dev, name, &e));
    pthread_mutex_lock(&p->lock);
    weft_status st = e->params_known ? WEFT_OK : learn_params(p, dev, e, name);
    if (st == WEFT_OK && e->params_known < 0)
        st = weft_error_set(WEFT_ERR_UNSUPPORTED, "no kernel argument info");
    if (st == WEFT_OK) {
        *count = e->nparams;
        if (e->nparams)
            memcpy(params, e->params,
                   (e->nparams < capacity ? e->nparams : capacity) * sizeof *params);
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

/* With the device's submit lock held: the kernel's arguments are shared. */
static weft_status launch_locked(weft_device *dev, weft_launch_job *job, weft_piece *piece,
                                 cl_kernel kernel, void *const *buffers)
{
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        cl_int err;
        if (a->kind <= WEFT_ARG_WHOLE)
            err = clSetKernelArg(kernel, (cl_uint)k, sizeof(cl_mem), &buffers[k]);
        else if (a->kind == WEFT_ARG_SCALAR)
            err = clSetKernelArg(kernel, (cl_uint)k, weft_dtype_size(a->dtype), &a->value);
        else
            err = clSetKernelArg(kernel, (cl_uint)k, a->local_bytes, NULL);
        if (err != CL_SUCCESS) {
            weft_cl_fail(dev, "clSetKernelArg", err);
            return weft_error_set(WEFT_ERR_INVALID_ARG, "argument %zu of kernel %s: %s", k,
                                  job->name, weft_last_error());
        }
    }
    const weft_range *r = &job->range;
    size_t offset[3] = {0, 0, 0}, global[3], *local = r->local[0] ? (size_t *)r->local : NULL;
    for (unsigned d = 0; d < r->dims; d++)
        global[d] = r->size[d];
    offset[r->dims - 1] = piece->begin;
    global[r->dims - 1] = piece->end - piece->begin;
    cl_event event = NULL;
    RETURN_ON_ERROR(weft_cl_enqueue(dev, kernel, r->dims, offset, global, local,
                                    atomic_load(&job->program->ctx->time_kernels) ? &event : NULL));
    piece->event = event;
    return WEFT_OK;
}

weft_status weft_cl_launch(weft_device *dev, weft_launch_job *job, weft_piece *piece,
                           void *const *buffers)
{
    cl_kernel kernel;
    RETURN_ON_ERROR(get_kernel(job->program, piece->device, job->name, &kernel));
    pthread_mutex_lock(&weft_cl(dev)->submit);
    weft_status st = launch_locked(dev, job, piece, kernel, buffers);
    pthread_mutex_unlock(&weft_cl(dev)->submit);
    return st;
}

void weft_cl_launch_done(weft_device *dev, weft_launch_job *job, weft_piece *piece)
{
    (void)dev;
    cl_event event = piece->event;
    if (!event) return;
    cl_ulong start = 0, end = 0;
    if (piece->state == PIECE_DONE &&
        clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) ==
            CL_SUCCESS &&
        clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) ==
            CL_SUCCESS &&
        end > start && (double)(end - start) * 1e-9 > job->kernel_seconds)
        job->kernel_seconds = (double)(end - start) * 1e-9;
    clReleaseEvent(event);
    piece->event = NULL;
}
