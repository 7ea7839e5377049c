/* Cutting an operation's range into pieces: the one split that built-in
 * primitives (ops/dispatch.c) and user launches (ops/launch.c) share, whether
 * the shares come from the cost model's plan or from the devices' weights.
 *
 * Pieces begin on granules counted from the range's start (so reductions
 * combine the same blocks, and launches keep whole work-groups, whatever the
 * shares), follow the candidates in order, and never exceed a device's
 * capacity: a longer share becomes several pieces on that device. */
#ifndef WEFT_SPLIT_H
#define WEFT_SPLIT_H

#include "pieces.h"

typedef struct weft_split {
    size_t first, last;   /* the range, in the operation's units */
    size_t granule;       /* pieces begin on first + a multiple of it; the last ends at last */
    const size_t *device; /* the candidates, in the order their pieces run along the range */
    const double *share;  /* their weights, on any scale; 0 or less: no piece */
    size_t count;
    /* Optional: the most units one piece may hold on dev (SIZE_MAX: no limit). */
    size_t (*capacity)(const void *self, size_t dev);
    const void *self;
} weft_split;

/* Returns how many pieces the split makes, and fills pieces when it is not
 * NULL. An empty range is one empty piece on the first candidate; a range
 * that no candidate takes a share of makes no pieces (the caller decides). */
size_t weft_split_pieces(const weft_split *s, weft_piece *pieces);

#endif
