/* Operations that need every element of their arrays at once (sort,
 * histograms, scatter-add, grouping, filtering): the arrays are made current
 * in host memory, whichever devices held them, and the primitive runs there
 * on the pool through the host device's table. What the arrays' devices
 * held stays valid for reads; what the operation writes is current on the
 * host only. */
#ifndef WEFT_OPS_HOST_WHOLE_H
#define WEFT_OPS_HOST_WHOLE_H

#include "../exec/stream.h"
#include "../mem/array.h"

/* host[i] = element 0 of op->arrays[i] in host memory, current there when
 * bit i of reads is set (NULL for an empty array). */
weft_status weft_whole_acquire(weft_op *op, unsigned reads, void **host);
/* The host wrote every element of the arrays whose bit is set in writes. */
weft_status weft_whole_wrote(weft_op *op, unsigned writes);

/* The host device (the pool), whose table runs these primitives. */
weft_device *weft_whole_device(weft_op *op);

/* out[indices[i]] += values[i] on the host device (values NULL: += 1), for
 * the arrays idx and out whose elements are at indices and host_out in host
 * memory; `what` names the public call in messages. */
weft_status weft_whole_scatter_add(weft_op *op, const weft_array *idx, const weft_array *out,
                                   const void *indices, const void *values, void *host_out,
                                   const char *what);

/* WEFT_OK when a is a live array of ctx, else the error naming `what`. */
weft_status weft_whole_check(weft_ctx *ctx, const weft_array *a, const char *call,
                             const char *what);

#endif
