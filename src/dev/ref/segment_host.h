/* Group-by without a sort (ref/group_dense.c), for weft_group_by, and what
 * it shares with the runs of ref/segment_host.c. */
#ifndef WEFT_SEGMENT_HOST_H
#define WEFT_SEGMENT_HOST_H

#include "../device.h"

/* A group's result in the output's dtype: integers as 64 bits (stored
 * truncated), floats as a double. */
static inline void weft_segment_store(void *out, weft_dtype t, size_t g, uint64_t bits, double f)
{
    switch (t) {
    case WEFT_F32:
        ((float *)out)[g] = (float)f;
        break;
    case WEFT_F64:
        ((double *)out)[g] = f;
        break;
    case WEFT_I32:
    case WEFT_U32:
        ((uint32_t *)out)[g] = (uint32_t)bits;
        break;
    case WEFT_U8:
        ((uint8_t *)out)[g] = (uint8_t)bits;
        break;
    default:
        ((uint64_t *)out)[g] = bits;
    }
}

/* The groups of unsorted keys whose range is narrow (at most 2^20 and half
 * the keys): one pass in index order into a table per key, the results of a
 * stable sort and weft_ref_reduce_by_key bit for bit. *done = 0, nothing
 * written, when the range is wider or the table cannot be allocated. */
weft_status weft_ref_group_dense(const weft_segment_call *c, int *done);

#endif
