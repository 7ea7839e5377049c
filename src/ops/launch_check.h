/* Whether a kernel's answer depends on the split. A kernel written the
 * ordinary way may write outside the rows of its slices (a mirrored element, a
 * row picked by a scalar, one element from work-item 0) or index with the
 * dimension weft does not split: split over copying devices, those writes
 * would be lost or land twice. Its first split launch (per kernel and
 * argument kinds; every one under WEFT_VERIFY=1) therefore runs checked: the
 * split, then one device over the whole range from the same inputs, compared
 * bit for bit. The one-device answer is the one kept; a kernel whose split
 * differed runs on one device from then on, noted in the log and counted in
 * weft_ctx_stats. */
#ifndef WEFT_LAUNCH_CHECK_H
#define WEFT_LAUNCH_CHECK_H

#include "launch_job.h"

/* job->split_key: the kernel's name, the range's dimensions and the kinds of
 * its arguments, which together decide what a split does. */
weft_status weft_launch_split_key(weft_launch_job *job);

/* Runs the launch's pieces (run) checked, as above; waits for every device. */
weft_status weft_launch_checked(weft_launch_job *job, weft_piece_run *run);

#endif
