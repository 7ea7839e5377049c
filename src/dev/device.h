/* One device of a context: the host pool or an OpenCL device. */
#ifndef WEFT_DEVICE_H
#define WEFT_DEVICE_H

#include "backend.h"

struct weft_device {
    weft_device_info info;
    size_t index;
    weft_ctx *ctx;
    weft_backend ops;
    void *impl;            /* backend state; NULL for the host */
    double bytes_per_sec;  /* measured axpy throughput (calibration) */
    double launch_seconds; /* measured launch + finish of a tiny kernel */
};

static inline int weft_device_is_host(const weft_device *dev)
{
    return dev->info.kind == WEFT_DEVICE_HOST;
}

#endif
