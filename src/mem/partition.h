/* Splitting [0, n) into contiguous pieces, one per selected device, by weight. */
#ifndef WEFT_PARTITION_H
#define WEFT_PARTITION_H

#include "../core/ctx.h"

/* Piece boundaries fall on multiples of this many elements, so block-wise
 * reductions combine the same blocks whatever the split, and every piece of
 * an aligned host allocation starts aligned for zero-copy. */
#define WEFT_GRANULE ((size_t)WEFT_SUM_BLOCK)

typedef struct weft_span {
    size_t device;
    size_t begin, end;
} weft_span;

/* Fills spans (capacity ctx->ndevices) and returns how many. Small arrays
 * (below the measured threshold) are one span on the host. Pure function of
 * n and the context's weights, so equal-sized arrays split identically. */
size_t weft_partition(weft_ctx *ctx, size_t n, weft_span *spans);

/* Largest-remainder split of units among weights (exposed for tests). */
void weft_split_units(size_t units, const double *weights, size_t count, size_t *shares);

#endif
