/* Partial results of a global reduction, and combining them the way one
 * process does (src/ops/reduction.c): sums and products fold one partial per
 * WEFT_SUM_BLOCK block left to right from the identity; minima, maxima, any
 * and all are associative and exact, so one partial per rank does. */
#ifndef WEFT_MPI_PARTIALS_H
#define WEFT_MPI_PARTIALS_H

#include "weft_mpi.h"

#include <stdint.h>

enum { PARTIAL_HAVE = 1, PARTIAL_OVERFLOW = 2, PARTIAL_STATUS = 4 };

/* One partial as it travels: a weft_scalar's value bits and index, its dtype,
 * and flags (PARTIAL_HAVE: holds a value; PARTIAL_OVERFLOW: the block's
 * integer sum overflowed). Plain integers, so MPI moves it as bytes. */
typedef struct dist_partial {
    uint64_t bits, index;
    int32_t dtype, flags;
} dist_partial;

/* weft's order for floats (src/dev/ref/reduce_rules.h): NaN first, then
 * -0.0 before +0.0; the comparisons a minimum and a maximum take. */
int weft_dist_less_f(double a, double b);
int weft_dist_greater_f(double a, double b);

/* Does op need one partial per block (sums and products) rather than one per rank? */
int weft_dist_op_per_block(weft_reduce_op op);
dist_partial weft_dist_partial_of(const weft_scalar *s, uint64_t index_offset);
/* A rank's outcome travelling in front of its partials (index: the rank,
 * bits: the status). */
dist_partial weft_dist_status_partial(int rank, weft_status st);
/* After an exchange of statuses and partials: the outcome every rank agrees
 * on (as weft_mpi_agree gives it; local is this rank's own), and the status
 * entries removed from p, *n shrunk. */
weft_status weft_dist_settle(int rank, dist_partial *p, size_t *n, weft_status local);
/* Folds n partials in order into *out, as one process folds its blocks. */
weft_status weft_dist_combine(weft_reduce_op op, const dist_partial *p, size_t n, weft_scalar *out);

/* Collective: every rank's partials, in rank order, on every rank (*all is
 * malloc'd; the caller frees it). */
weft_status weft_dist_gather_partials(MPI_Comm comm, int nranks, const dist_partial *mine,
                                      size_t nmine, dist_partial **all, size_t *nall);

#endif
