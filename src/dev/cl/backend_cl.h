/* The OpenCL driver's context-level entry points (its weft_driver, in
 * cl_discover.c); nothing outside the driver's files includes this. */
#ifndef WEFT_BACKEND_CL_H
#define WEFT_BACKEND_CL_H

#include "../../core/ctx.h"
#include "../device.h"

/* Finds every OpenCL device, smoke-tests it and appends it to ctx->devices
 * (usable or set aside with a reason). Never fails the context: problems
 * become notes. */
void weft_cl_discover(weft_ctx *ctx);
void weft_backend_cl_init(weft_backend *ops);
weft_status weft_cl_program_cache_create(weft_ctx *ctx);
void weft_cl_program_cache_release(weft_ctx *ctx);

#endif
