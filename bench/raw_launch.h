/* Raw OpenCL launch latency, the baseline weft_launch is measured against:
 * an empty kernel over one work-item on one in-order queue, as a user without
 * weft would launch it. Shared by `weft peak` and the bench. */
#ifndef WEFT_BENCH_RAW_LAUNCH_H
#define WEFT_BENCH_RAW_LAUNCH_H

/* The empty kernel launched here, and through weft by `weft peak` and the
 * overhead bench: both sides of the comparison run the same one. */
#define NOP_KERNEL_SOURCE "__kernel void nop(__global int *out) { }\n"

typedef struct raw_launch raw_launch;
struct _cl_device_id;

/* The OpenCL device `index` counted over all platforms in order, as weft's
 * cl:INDEX counts them (a cl_device_id); NULL when there is none. */
struct _cl_device_id *raw_find_device(unsigned index);

/* The OpenCL device `index` counted over all platforms in order, as weft's
 * cl:INDEX counts them; NULL when there is none or it cannot build. */
raw_launch *raw_launch_create(unsigned index);
void raw_launch_free(raw_launch *raw);
/* Median microseconds of clEnqueueNDRangeKernel + clFinish over `reps`; < 0 on failure. */
double raw_launch_sync_us(raw_launch *raw, int reps);
/* Microseconds per launch of `count` queued clEnqueueNDRangeKernel and one clFinish. */
double raw_launch_pipelined_us(raw_launch *raw, int count);

#endif
