/* The OpenCL side of user-kernel launches: kernels, their signatures, and
 * one neutral kernel call enqueued. What a launch is split into and which
 * buffers it binds is decided above (ops/launch.c); the driver only runs it. */
#include "cl_common.h"
#include "../../core/error.h"

#include <stdlib.h>
#include <string.h>

weft_status weft_cl_kernel_create(weft_device *dev, void *program, const char *name, void **kernel)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_int err;
    cl_kernel k = clCreateKernel((cl_program)program, name, &err);
    RETURN_IF(err == CL_INVALID_KERNEL_NAME, WEFT_ERR_INVALID_ARG,
              "the program has no kernel named \"%s\"", name);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clCreateKernel", err);
    *kernel = k;
    return WEFT_OK;
}

static void describe_param(cl_kernel kernel, cl_uint i, cl_kernel_arg_address_qualifier address,
                           weft_param *w)
{
    cl_kernel_arg_type_qualifier type_q = 0;
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

weft_status weft_cl_kernel_group_size(weft_device *dev, void *kernel, size_t required[3])
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_int err =
        clGetKernelWorkGroupInfo(kernel, weft_cl(dev)->id, CL_KERNEL_COMPILE_WORK_GROUP_SIZE,
                                 3 * sizeof(size_t), required, NULL);
    return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, "clGetKernelWorkGroupInfo", err);
}

weft_status weft_cl_kernel_params(weft_device *dev, void *kernel, weft_param *params,
                                  size_t capacity, size_t *count)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    cl_kernel k = kernel;
    cl_uint nargs = 0;
    cl_int err = clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clGetKernelInfo", err);
    *count = nargs;
    for (cl_uint i = 0; i < nargs && i < capacity; i++) {
        cl_kernel_arg_address_qualifier address;
        err = clGetKernelArgInfo(k, i, CL_KERNEL_ARG_ADDRESS_QUALIFIER, sizeof address, &address,
                                 NULL);
        RETURN_IF(err == CL_KERNEL_ARG_INFO_NOT_AVAILABLE, WEFT_ERR_UNSUPPORTED,
                  "no kernel argument info");
        if (err != CL_SUCCESS) return weft_cl_fail(dev, "clGetKernelArgInfo", err);
        describe_param(k, i, address, &params[i]);
    }
    return WEFT_OK;
}

/* With the device's submit lock held: the kernel's arguments are shared. */
static weft_status launch_locked(weft_device *dev, weft_kernel_call *call)
{
    cl_kernel kernel = call->kernel;
    for (size_t k = 0; k < call->nargs; k++) {
        const weft_kernel_arg *a = &call->args[k];
        cl_int err;
        if (a->kind == WEFT_KERNEL_ARG_BUFFER)
            err = clSetKernelArg(kernel, (cl_uint)k, sizeof(cl_mem), &a->buffer);
        else if (a->kind == WEFT_KERNEL_ARG_VALUE)
            err = clSetKernelArg(kernel, (cl_uint)k, a->bytes, a->value);
        else
            err = clSetKernelArg(kernel, (cl_uint)k, a->bytes, NULL);
        if (err != CL_SUCCESS) {
            weft_cl_fail(dev, "clSetKernelArg", err);
            return weft_error_set(WEFT_ERR_INVALID_ARG, "argument %zu of kernel %s: %s", k,
                                  call->name, weft_last_error());
        }
    }
    cl_event event = NULL;
    RETURN_ON_ERROR(weft_cl_enqueue(dev, kernel, call->dims, call->offset, call->global,
                                    call->local[0] ? call->local : NULL,
                                    call->keep_event ? &event : NULL));
    call->event = event;
    return WEFT_OK;
}

weft_status weft_cl_launch(weft_device *dev, weft_kernel_call *call)
{
    if (weft_cl_forked(dev)) return weft_cl_forked_fail(dev);
    WEFT_CL_RETURN_LOCKED(dev, launch_locked(dev, call));
}

double weft_cl_event_seconds(weft_device *dev, void *event)
{
    if (weft_cl_forked(dev)) return 0;
    cl_ulong start = 0, end = 0;
    if (clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) !=
            CL_SUCCESS ||
        clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) !=
            CL_SUCCESS ||
        end <= start)
        return 0;
    return (double)(end - start) * 1e-9;
}
