#include "drivers.h"

#ifdef WEFT_HAVE_OPENCL
extern const weft_driver weft_driver_opencl;
#endif

const weft_driver *const weft_drivers[] = {
#ifdef WEFT_HAVE_OPENCL
    &weft_driver_opencl,
#endif
    NULL};
