/* A launch's piece as the neutral kernel call a device takes (dev/device.h). */
#ifndef WEFT_LAUNCH_CALL_H
#define WEFT_LAUNCH_CALL_H

#include "launch_job.h"

/* The piece as a neutral kernel call (dev/device.h): the launch's geometry
 * with the piece's outer indices, each argument as the device takes it
 * (buffers: one per argument, or NULL when only the shape matters); the
 * caller sets call->kernel. */
void weft_launch_describe(const weft_launch_job *job, const weft_piece *piece,
                          weft_kernel_arg *args, void *const *buffers, weft_kernel_call *call);

/* 1 when array argument a goes whole to every device that runs a piece: a
 * whole argument, or a read-only array (it never changes, so each device
 * gets all of it once, and no read across the split sees a stale row). */
int weft_launch_arg_whole(const weft_arg *a);

/* The elements of array argument k that a piece reads: its rows, plus the
 * halo rows on each side (clipped to the array), or the whole array. */
void weft_launch_rows_read(const weft_launch_job *job, size_t k, const weft_piece *piece,
                           size_t *begin, size_t *end);

#endif
