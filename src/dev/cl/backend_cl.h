/* The OpenCL driver's context-level entry points (its weft_driver, in
 * cl_discover.c); nothing outside the driver's files includes this. */
#ifndef WEFT_BACKEND_CL_H
#define WEFT_BACKEND_CL_H

#include "../device.h"

/* Finds every OpenCL device, smoke-tests it and adds it to the context
 * (usable or set aside with a reason). Never fails the context: problems
 * become notes. programs: the cache from weft_cl_programs_create. */
void weft_cl_discover(const weft_dev_services *services, void *programs);
void weft_backend_cl_init(weft_backend *ops);
/* The context's program cache (the driver's state): cl_programs per device
 * and source, shared by user programs, expressions and built-in kernels. */
weft_status weft_cl_programs_create(const weft_dev_services *services, void **programs);
void weft_cl_programs_release(void *programs);

#endif
