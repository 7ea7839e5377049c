#include "../dev/device.h"
#include "../core/error.h"
#include "launch_limits.h"

#include <stdint.h>

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
    weft_device *device = &job->program->ctx->devices[dev];
    return device->ops.launch_limits(device, job);
}
