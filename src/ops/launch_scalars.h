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

/* 1 when every use of pointer parameter `param` in kernel `name`'s body is
 * a subscript read (`data[i * m + j]`, not assigned, incremented, its
 * address taken, passed on or used bare): an input the kernel only reads,
 * though not declared const, as public suites declare them. 0 when it may
 * be written, or the definition cannot be read. */
/* The offset just past the closing brace of kernel name's body in source
 * (the source keeps its offsets in weft's reading); 0 when weft cannot
 * tell (the kernel defined twice, a brace in a directive, none). */
size_t weft_launch_kernel_end(const char *source, const char *options, const char *name);
int weft_launch_param_only_read(const char *source, const char *options, const char *name,
                                const char *param);
/* 1 when every use of pointer parameter `param` of kernel `name` stores into
 * it by subscript (`out[i] = ...`): the kernel never reads it. */
int weft_launch_param_only_stored(const char *source, const char *options, const char *name,
                                  const char *param);

#endif
