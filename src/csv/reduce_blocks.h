/* The block partials of weft_csv_run's reductions, for weft::mpi
 * (src/mpi/dist_csv_reduce.c), which combines the blocks of several ranks in
 * one process's order. Exported from libweft for that layer; not public API. */
#ifndef WEFT_CSV_REDUCE_BLOCKS_H
#define WEFT_CSV_REDUCE_BLOCKS_H

#include "weft.h"

#include <stdint.h>

/* Called with each block's partial as it is folded: the job's reduction k,
 * the weft_reduce_expr result over that block alone (ARGMIN/ARGMAX indices
 * within it), and the index in the file of its first row. A failure fails the
 * run. */
typedef weft_status (*weft_csv_block_fn)(void *user, size_t reduction, const weft_scalar *partial,
                                         uint64_t first_row);

/* While set (fn not NULL), weft_csv_run on the calling thread hands every
 * block's partial to fn. */
WEFT_API void weft_csv_watch_blocks(weft_csv_block_fn fn, void *user);

#endif
