/* What a distributed array is made of. */
#ifndef WEFT_MPI_DIST_H
#define WEFT_MPI_DIST_H

#include "weft_mpi.h"

struct weft_dist {
    weft_ctx *ctx;
    MPI_Comm comm; /* our duplicate: errors return, tags are ours */
    int rank, nranks;
    weft_dtype dtype;
    size_t elem_size;
    size_t n;
    size_t *counts, *offsets; /* per rank, the same on every rank */
    void *host;               /* the local block's storage, page-aligned */
    weft_array *local;        /* wraps host */
    MPI_Datatype element;     /* elem_size bytes, for element counts in MPI calls */
    /* weft_dist_reduce's buffers, made with the array (one allocation): a
     * reduction allocates nothing, so no rank can fail to take part in the
     * exchange the others wait in, and a tiny one costs no malloc. */
    struct dist_scratch *scratch;
};

/* Splits n elements over nranks in whole WEFT_SUM_BLOCK blocks by weight:
 * the same counts on every rank, from the same weights. */
void weft_dist_split_weights(size_t n, int nranks, const double *weights, size_t *counts);
/* Collective: counts[] for the layout, the same on every rank. */
weft_status weft_dist_plan(weft_ctx *ctx, MPI_Comm comm, size_t n, const weft_dist_layout *layout,
                           size_t *counts);
/* Collective: a distributed array over comm with these counts; data (may be
 * NULL: zeros) fills the local block. */
weft_status weft_dist_build(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, const size_t *counts,
                            const void *local_data, weft_dist **array);
/* The array's dist_scratch for its split (src/mpi/dist_reduce.c). */
weft_status weft_dist_scratch_make(weft_dist *d);
/* weft_dist_free that keeps the failure detail of the call that gives up on
 * the array (returns the core's status of freeing its block). */
weft_status weft_dist_discard(weft_dist *array);
/* Two arrays with one split and one context (dist_split.c). */
int weft_dist_same_split(const weft_dist *a, const weft_dist *b);
/* Page-aligned storage for count elements (at least one page). */
void *weft_dist_host_alloc(size_t bytes);
/* Counts must fit an int for MPI. */
weft_status weft_dist_check_int(size_t count, const char *what);
/* The ranks' element counts and offsets as MPI's ints, for the v-collectives:
 * one allocation, displs after counts (free counts only). */
weft_status weft_dist_int_counts(const weft_dist *d, int **counts, int **displs);

#endif
