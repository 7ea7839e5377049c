/* Device limits of a launch, queried when the launch is checked: cheap
 * (the platform answers from its device description) and never stale. */
#include "cl_common.h"
#include "../../core/error.h"

static weft_status device_size(weft_device *dev, cl_device_info what, size_t bytes, void *out)
{
    cl_int err = clGetDeviceInfo(weft_cl(dev)->id, what, bytes, out, NULL);
    return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, "clGetDeviceInfo", err);
}

/* With the submit lock held (the kernel's arguments are shared): the local
 * memory the kernel takes with this call's local arguments set, its own
 * __local arrays (sized by the compiler) included. */
static weft_status kernel_local_locked(weft_device *dev, const weft_kernel_call *call,
                                       cl_ulong *bytes)
{
    cl_kernel kernel = (cl_kernel)call->kernel;
    for (size_t k = 0; k < call->nargs; k++) {
        if (call->args[k].kind != WEFT_KERNEL_ARG_LOCAL) continue;
        cl_int err = clSetKernelArg(kernel, (cl_uint)k, call->args[k].bytes, NULL);
        if (err != CL_SUCCESS) return weft_cl_fail(dev, "clSetKernelArg", err);
    }
    cl_int err = clGetKernelWorkGroupInfo(kernel, weft_cl(dev)->id, CL_KERNEL_LOCAL_MEM_SIZE,
                                          sizeof *bytes, bytes, NULL);
    return err == CL_SUCCESS ? WEFT_OK : weft_cl_fail(dev, "clGetKernelWorkGroupInfo", err);
}

/* Local arguments one by one (the refusal names the one past the limit),
 * then everything the kernel takes: a kernel whose own __local arrays
 * exceed the device's memory made PoCL abort the process. */
static weft_status check_local_memory(const weft_kernel_call *call, weft_device *dev)
{
    cl_ulong available = 0;
    RETURN_ON_ERROR(device_size(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof available, &available));
    cl_ulong total = 0;
    for (size_t k = 0; k < call->nargs; k++) {
        size_t bytes = call->args[k].bytes;
        if (call->args[k].kind != WEFT_KERNEL_ARG_LOCAL) continue;
        RETURN_IF(bytes > available || total > available - bytes, WEFT_ERR_INVALID_ARG,
                  "weft_launch: argument %zu asks for %zu bytes of local memory (%llu with the "
                  "local arguments before it); device %zu (%s) has %llu bytes",
                  k, bytes, (unsigned long long)total + bytes, dev->index, dev->info.name,
                  (unsigned long long)available);
        total += bytes;
    }
    cl_ulong in_use = 0;
    pthread_mutex_lock(&weft_cl(dev)->submit);
    weft_status st = kernel_local_locked(dev, call, &in_use);
    pthread_mutex_unlock(&weft_cl(dev)->submit);
    RETURN_ON_ERROR(st);
    RETURN_IF(in_use > available, WEFT_ERR_INVALID_ARG,
              "weft_launch: kernel %s takes %llu bytes of local memory (its own __local arrays "
              "and %llu bytes of local arguments); device %zu (%s) has %llu bytes",
              call->name, (unsigned long long)in_use, (unsigned long long)total, dev->index,
              dev->info.name, (unsigned long long)available);
    return WEFT_OK;
}

static weft_status check_local_size(const weft_kernel_call *call, weft_device *dev)
{
    if (call->local[0] == 0) return WEFT_OK; /* chosen by the device */
    size_t group = 1, max_group = 0, max_items[64] = {0};
    cl_uint max_dims = 0;
    for (unsigned d = 0; d < call->dims; d++)
        group *= call->local[d]; /* divides the range, whose product fits */
    RETURN_ON_ERROR(
        device_size(dev, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof max_dims, &max_dims));
    RETURN_IF(max_dims < 3 || max_dims > 64, WEFT_ERR_DEVICE,
              "device %zu reports %u work-item dimensions", dev->index, max_dims);
    RETURN_ON_ERROR(
        device_size(dev, CL_DEVICE_MAX_WORK_ITEM_SIZES, max_dims * sizeof(size_t), max_items));
    RETURN_ON_ERROR(device_size(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_group, &max_group));
    for (unsigned d = 0; d < call->dims; d++)
        RETURN_IF(call->local[d] > max_items[d], WEFT_ERR_INVALID_ARG,
                  "weft_launch: local size %zu in dimension %u is above the maximum of %zu of "
                  "device %zu (%s)",
                  call->local[d], d, max_items[d], dev->index, dev->info.name);
    RETURN_IF(group > max_group, WEFT_ERR_INVALID_ARG,
              "weft_launch: local size of %zu work-items is above the maximum work-group size "
              "of %zu of device %zu (%s)",
              group, max_group, dev->index, dev->info.name);
    size_t kernel_max = 0;
    cl_int err =
        clGetKernelWorkGroupInfo((cl_kernel)call->kernel, weft_cl(dev)->id,
                                 CL_KERNEL_WORK_GROUP_SIZE, sizeof kernel_max, &kernel_max, NULL);
    if (err != CL_SUCCESS) return weft_cl_fail(dev, "clGetKernelWorkGroupInfo", err);
    RETURN_IF(group > kernel_max, WEFT_ERR_INVALID_ARG,
              "weft_launch: local size of %zu work-items is above the %zu that kernel %s allows "
              "on device %zu (%s)",
              group, kernel_max, call->name, dev->index, dev->info.name);
    return WEFT_OK;
}

weft_status weft_cl_launch_limits(weft_device *device, const weft_kernel_call *call)
{
    if (weft_cl_forked(device)) return weft_cl_forked_fail(device);
    RETURN_ON_ERROR(check_local_memory(call, device));
    return check_local_size(call, device);
}
