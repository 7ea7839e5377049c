/* What a row-distributed array (for user kernels) is made of. */
#ifndef WEFT_MPI_DIST_ROWS_H
#define WEFT_MPI_DIST_ROWS_H

#include "weft_mpi.h"

struct weft_dist_rows {
    weft_ctx *ctx;
    MPI_Comm comm; /* our duplicate: errors return, tags are ours */
    int rank, nranks;
    weft_dtype dtype;
    size_t rows, row_elems, row_bytes;
    size_t *first, *count; /* rows per rank, the same on every rank */
    weft_array *array;     /* the whole range's size; this rank's rows current */
    MPI_Datatype row;      /* one row, for row counts in MPI calls */
};

/* The nearest rank in direction step (-1, +1) holding rows, or MPI_PROC_NULL. */
int weft_dist_rows_neighbour(const weft_dist_rows *a, int step);

#endif
