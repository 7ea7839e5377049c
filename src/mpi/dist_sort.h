/* weft_dist_sort by a chosen way: the gathering sort or the sample sort
 * (tests and the bench reach both at every size). */
#ifndef WEFT_MPI_DIST_SORT_H
#define WEFT_MPI_DIST_SORT_H

#include "dist.h"

typedef enum dist_sort_method {
    DIST_SORT_AUTO = 0, /* one rank: in place; a small array: gathered; else sampled */
    DIST_SORT_GATHER,   /* everything to rank 0, sorted there, scattered back */
    DIST_SORT_SAMPLE    /* splitters from samples, two all-to-alls (dist_sort_sample.c) */
} dist_sort_method;

weft_status weft_dist_sort_by(weft_dist *keys, weft_dist *values, unsigned flags,
                              dist_sort_method method);

#endif
