/* Entry points of the OpenCL backend used by the context. */
#ifndef WEFT_BACKEND_CL_H
#define WEFT_BACKEND_CL_H

#include "ctx.h"

/* Finds every OpenCL device, smoke-tests it and appends it to ctx->devices
 * (usable or set aside with a reason). Never fails the context: problems
 * become notes. */
void weft_cl_discover(weft_ctx *ctx);
void weft_backend_cl_init(weft_backend *ops);
void weft_cl_device_release(weft_device *dev);
weft_status weft_cl_program_cache_create(weft_ctx *ctx);
void weft_cl_program_cache_release(weft_ctx *ctx);
/* Builds source for one OpenCL device through the caches: *handle gets a
 * retained cl_program; on WEFT_ERR_BUILD *log (malloc'd) the build log. */
weft_status weft_cl_build_for(weft_device *dev, const char *source, const char *options,
                              void **handle, char **log);
void weft_cl_program_release(void *handle);
void weft_cl_kernel_release(void *kernel);
/* options + the flags every user build needs; *full is malloc'd. */
weft_status weft_user_options(const char *options, char **full);
/* The source as built: FP_CONTRACT OFF first, unless options (from
 * weft_user_options, edited in place) hold -weft-fp-contract. */
weft_status weft_user_source(const char *source, char *options, char **full);

#endif
