/* Group-by without a sort (ref/segment_host.c), for weft_group_by. */
#ifndef WEFT_SEGMENT_HOST_H
#define WEFT_SEGMENT_HOST_H

#include "../device.h"

/* The groups of unsorted keys whose range is narrow (at most 2^20 and half
 * the keys): one pass in index order into a table per key, the results of a
 * stable sort and weft_ref_reduce_by_key bit for bit. *done = 0, nothing
 * written, when the range is wider or the table cannot be allocated. */
weft_status weft_ref_group_dense(const weft_segment_call *c, int *done);

#endif
