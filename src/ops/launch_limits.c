#include "../core/ctx.h"
#include "../dev/device.h"
#include "../core/error.h"
#include "launch_call.h"
#include "launch_limits.h"

#include <stdint.h>
#include <stdlib.h>

weft_status weft_launch_check_buffers(const weft_launch_job *job, size_t dev)
{
    if (dev == 0) return WEFT_OK;
    uint64_t limit = job->program->ctx->devices[dev].info.max_alloc_bytes;
    for (size_t k = 0; k < job->nargs; k++) {
        const weft_arg *a = &job->args[k];
        if (a->kind > WEFT_ARG_WHOLE) continue;
        uint64_t bytes = (uint64_t)a->array->n * a->array->elem_size;
        RETURN_IF(bytes > limit, WEFT_ERR_INVALID_ARG,
                  "weft_launch: argument %zu of kernel %s (%zu %s elements, %llu bytes) does not "
                  "fit in one buffer on device %zu, whose largest allocation is %llu bytes (a "
                  "kernel indexes the whole array); give a host_fn to run it on the pool, or "
                  "launch on smaller arrays",
                  k, job->name, a->array->n, weft_dtype_name(a->array->dtype),
                  (unsigned long long)bytes, dev, (unsigned long long)limit);
    }
    return WEFT_OK;
}

weft_status weft_launch_check_limits(weft_launch_job *job, size_t dev)
{
    const weft_range *r = &job->range;
    size_t items = 1;
    for (unsigned d = 0; d < r->dims; d++) {
        RETURN_IF(r->size[d] > SIZE_MAX / items, WEFT_ERR_INVALID_ARG,
                  "weft_launch: the range overflows: %zu x %zu x %zu work-items is more than "
                  "%zu",
                  r->size[0], r->dims > 1 ? r->size[1] : 1, r->dims > 2 ? r->size[2] : 1, SIZE_MAX);
        items *= r->size[d];
    }
    RETURN_ON_ERROR(weft_launch_check_buffers(job, dev));
    weft_device *device = &job->program->ctx->devices[dev];
    if (!device->ops.launch_limits) return WEFT_OK;
    weft_kernel_arg small[16], *args = job->nargs <= 16 ? small : calloc(job->nargs, sizeof *args);
    RETURN_IF(!args, WEFT_ERR_NOMEM, "weft_launch: cannot allocate the arguments");
    weft_piece whole = {.device = dev, .begin = 0, .end = weft_range_outer(r)};
    weft_kernel_call call;
    weft_launch_describe(job, &whole, args, NULL, &call);
    weft_status st = weft_program_kernel(job->program, dev, job->name, &call.kernel);
    if (st == WEFT_OK) st = device->ops.launch_limits(device, &call);
    if (args != small) free(args);
    return st;
}
