/* What a launch asks of a device, checked against what the device allows,
 * before anything runs: a launch the device cannot take is the caller's
 * mistake (WEFT_ERR_INVALID_ARG), not a device failure to fall back from. */
#ifndef WEFT_LAUNCH_LIMITS_H
#define WEFT_LAUNCH_LIMITS_H

#include "launch_job.h"

/* For device dev of the launch (0: the host pool): the range's work-item
 * count fits a size_t, and on an OpenCL device the local size fits
 * CL_DEVICE_MAX_WORK_GROUP_SIZE, CL_DEVICE_MAX_WORK_ITEM_SIZES and the
 * kernel's CL_KERNEL_WORK_GROUP_SIZE, and the local arguments together fit
 * CL_DEVICE_LOCAL_MEM_SIZE, and its arrays fit its buffers (below). The error
 * names the local size or the argument. */
weft_status weft_launch_check_limits(weft_launch_job *job, size_t dev);

/* Every array argument fits in one buffer of device dev (a kernel indexes
 * the whole array, so a device holds all of it); the error names the
 * argument, its bytes and the device's largest allocation. */
weft_status weft_launch_check_buffers(const weft_launch_job *job, size_t dev);

#endif
