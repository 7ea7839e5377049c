/* Which scalar parameters of a kernel may decide where it reads or writes,
 * read from its source (launch_scalars.c). */
#ifndef WEFT_LAUNCH_SCALARS_H
#define WEFT_LAUNCH_SCALARS_H

#include <stddef.h>
#include <stdint.h>

/* Bit k set: parameter k of kernel `name` (of nparams) built from source
 * with options may steer the
 * kernel's reads or writes. Every bit when the kernel's definition cannot be
 * read; bits of parameters past 63 are not given (assume they steer). */
uint64_t weft_launch_steering_scalars(const char *source, const char *options, const char *name,
                                      size_t nparams);

#endif
