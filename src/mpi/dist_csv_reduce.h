/* Job reductions of weft_dist_csv_run with one process's bits (docs/mpi.md,
 * "CSV files over ranks"). One process folds a partial per WEFT_SUM_BLOCK
 * records of the whole file in order; the ranks' records are cut on block
 * boundaries, so each rank's blocks are one process's. Each rank keeps its
 * blocks' partials while its weft_csv_run folds them; every rank then gathers
 * all of them and folds them in file order as one process does. */
#ifndef WEFT_MPI_DIST_CSV_REDUCE_H
#define WEFT_MPI_DIST_CSV_REDUCE_H

#include "partials.h"

typedef struct csv_blocks {
    size_t nreductions;
    dist_partial **kept; /* per reduction, this rank's blocks in order */
    size_t *count, *cap;
    uint64_t rows; /* this rank's records */
} csv_blocks;

weft_status csv_blocks_init(csv_blocks *b, size_t nreductions);
/* Keeps the block partials of weft_csv_run on this thread in b (NULL: stops). */
void csv_blocks_watch(csv_blocks *b);
/* Collective, after every rank's weft_csv_run succeeded: each reduction of
 * the job gets the whole file's result on every rank. */
weft_status csv_blocks_combine(csv_blocks *b, MPI_Comm comm, int nranks, weft_csv_job *job);
void csv_blocks_free(csv_blocks *b);

#endif
