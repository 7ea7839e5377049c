/* weft_dist_sort's two ways and what the sample sort is built from. */
#ifndef WEFT_MPI_DIST_SORT_H
#define WEFT_MPI_DIST_SORT_H

#include "dist.h"

#include <stdint.h>

typedef enum dist_sort_method {
    DIST_SORT_AUTO = 0, /* one rank: in place; a small array: gathered; else sampled */
    DIST_SORT_GATHER,   /* everything to rank 0, sorted there, scattered back */
    DIST_SORT_SAMPLE    /* splitters from samples, two all-to-alls (dist_sort_sample.c) */
} dist_sort_method;

/* weft_dist_sort by the given way (tests reach both at every size). */
weft_status weft_dist_sort_by(weft_dist *keys, weft_dist *values, unsigned flags,
                              dist_sort_method method);
/* Collective: the sample sort. checked is this rank's verdict on the
 * arguments, which it agrees on with its first outcome. */
weft_status weft_dist_sort_sample(weft_dist *keys, weft_dist *values, unsigned flags,
                                  weft_status checked);
/* weft_sort of n keys at kbuf (keys' dtype) with n values at vbuf (values'
 * dtype; values NULL: none) on this rank; `what` heads a failure's detail. */
weft_status weft_dist_sort_host(const weft_dist *keys, const weft_dist *values, size_t n,
                                void *kbuf, void *vbuf, unsigned flags, const char *what);

/* ---- dist_sort_keys.c: the order weft_sort uses, on the host ---- */

/* Element i of base (dtype t) as an unsigned integer whose order is
 * weft_sort's (descending when desc): -0.0 equals 0.0, NaNs last and equal. */
uint64_t weft_sort_ordered(const void *base, size_t i, weft_dtype t, int desc);

/* One sample: an element of a rank's locally sorted block. (ordered, rank,
 * pos) orders elements as one stable sort of the whole array does: equal
 * keys by rank, and inside a rank by sorted position, which a stable local
 * sort keeps in input order. */
typedef struct sort_sample {
    uint64_t ordered;
    uint64_t pos;
    int64_t rank;
} sort_sample;

/* The samples each rank takes of its sorted block, from the split alone (so
 * every rank knows every rank's count without asking). */
size_t weft_sort_sample_count(const weft_dist *d, int rank);
/* This rank's samples of its sorted keys into out (sample_count of them). */
void weft_sort_take_samples(const weft_dist *d, const void *sorted, int desc, sort_sample *out);
/* Sorts all count (> 0) samples and picks nranks - 1 splitters from them. */
void weft_sort_splitters(sort_sample *all, size_t count, int nranks, sort_sample *splitters);
/* How many of this rank's sorted keys go before each splitter: bounds[j]
 * for j < nranks - 1, non-decreasing. */
void weft_sort_bounds(const weft_dist *d, const void *sorted, int desc,
                      const sort_sample *splitters, size_t *bounds);

#endif
