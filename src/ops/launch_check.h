/* Whether a kernel's answer depends on the split. A kernel written the
 * ordinary way may write outside the rows of its slices (a mirrored element, a
 * row picked by a scalar, one element from work-item 0) or index with the
 * dimension weft does not split: split over copying devices, those writes
 * would be lost or land twice. Where a kernel writes may depend on its
 * scalars and sizes (r[k*n + k] stays in work-item 0's rows for small k
 * only), so a split launch runs checked whenever its sizes and scalar values
 * are ones no check of the kernel has seen (every one under WEFT_VERIFY=1):
 * the split, then one device over the whole range from the same inputs,
 * compared bit for bit. The one-device answer is the one kept; a kernel
 * whose split differed runs on one device from then on, noted in the log
 * and counted in weft_ctx_stats. After WEFT_SPLIT_CHECKS checked value sets
 * (a loop over k), launches with new values run on one device unchecked,
 * which costs less than a check and is always right. */
#ifndef WEFT_LAUNCH_CHECK_H
#define WEFT_LAUNCH_CHECK_H

#include "launch_job.h"

enum { WEFT_SPLIT_CHECKS = 8, WEFT_SPLIT_INCONCLUSIVE = 3 };

typedef enum weft_split_mode {
    WEFT_RUN_SPLIT,     /* a check saw these values split right */
    WEFT_RUN_CHECKED,   /* new values: split, checked against one device */
    WEFT_RUN_DIFFERED,  /* a check differed: one device */
    WEFT_RUN_NEW_VALUES /* new values after WEFT_SPLIT_CHECKS checks: one device */
} weft_split_mode;

/* job->split_key: the kernel's name, the range's dimensions and the kinds of
 * its arguments; job->values_key: also the range's and arrays' sizes, the
 * rows that run and every scalar's bytes. */
weft_status weft_launch_split_key(weft_launch_job *job);

/* How a launch split over several devices runs. */
weft_split_mode weft_launch_split_mode(const weft_launch_job *job);

/* Bit i: base.arrays[i] (the array arguments in order) is written;
 * one_device: whole arguments the kernel may write count as written (run on
 * one device, nothing checks them). */
unsigned weft_launch_written_arrays(const weft_launch_job *job, int one_device);

/* Runs the launch's pieces (run) checked, as above; waits for every device.
 * A whole argument the kernel may write (weft_arg_access) that the split
 * left changed makes the kernel one device's from then on, as a difference
 * does: an atomics histogram's bins, counted twice over shared memory or
 * lost in two devices' copies. */
weft_status weft_launch_checked(weft_launch_job *job, weft_piece_run *run);

#endif
