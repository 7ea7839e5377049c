/* The sample sort over ranks (dist_sort_sample.c). */
#ifndef WEFT_MPI_DIST_SORT_SAMPLE_H
#define WEFT_MPI_DIST_SORT_SAMPLE_H

#include "dist.h"

/* Collective: the sample sort. checked is this rank's verdict on the
 * arguments, which it agrees on with its first outcome. */
weft_status weft_dist_sort_sample(weft_dist *keys, weft_dist *values, unsigned flags,
                                  weft_status checked);
#endif
