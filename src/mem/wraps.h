/* Arrays that wrap overlapping host memory: several arrays over one memory.
 * Each array's residency knows only its own copies, so a launch that wrote
 * one on a copying device left the other reading stale host memory (and
 * one device gave another answer than two). Such arrays are ordered as one
 * (the stream asks weft_wraps_overlap) and, before an operation uses one,
 * the host memory is made the only current copy of all of them. */
#ifndef WEFT_WRAPS_H
#define WEFT_WRAPS_H

#include "layout.h"

/* Registers a wrapped array; marks it and every live wrap of the same
 * context whose memory overlaps. */
void weft_wraps_add(weft_array *a);
/* Before a wrapped array is destroyed (nothing of it may be in use). */
void weft_wraps_remove(weft_array *a);
/* 1 when a and b are different wraps of the same context over overlapping
 * memory. */
static inline int weft_wraps_overlap(const weft_array *a, const weft_array *b)
{
    if (a == b || !atomic_load(&a->overlaps) || !atomic_load(&b->overlaps) || a->ctx != b->ctx)
        return 0;
    const unsigned char *a_end = a->host + a->n * a->elem_size;
    const unsigned char *b_end = b->host + b->n * b->elem_size;
    return a->host < b_end && b->host < a_end;
}
/* For an array marked overlapping: brings every copy of it and of the live
 * wraps that overlap it back to the host, which then holds the only current
 * copy. */
weft_status weft_wraps_settle(weft_array *a);

#endif
