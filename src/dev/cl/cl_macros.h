/* The predefined macros of a device's OpenCL C compiler, as -D options. */
#ifndef WEFT_CL_MACROS_H
#define WEFT_CL_MACROS_H

#include "cl_common.h"

#include <stddef.h>

/* Writes " -DNAME=VALUE" for __OPENCL_VERSION__, the CL_VERSION_X_Y names,
 * __OPENCL_C_VERSION__ (without -cl-std), __ENDIAN_LITTLE__,
 * __IMAGE_SUPPORT__ and each extension the device lists; what does not fit
 * cap is left out. */
void weft_cl_compiler_macros(cl_device_id id, char *out, size_t cap);

#endif
