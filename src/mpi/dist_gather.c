/* Moving whole arrays between one rank and all: scatter, gather, allgather. */
#include "dist.h"
#include "collective_check.h"
#include "mpi_error.h"

#include <stdlib.h>

/* Element counts and displacements as MPI's ints, all of which fit. */
static weft_status int_counts(const weft_dist *d, int **counts, int **displs)
{
    RETURN_ON_ERROR(weft_dist_int_counts(d, counts, displs));
    for (int r = 0; r < d->nranks; r++)
        if (d->offsets[r] + d->counts[r] > 2147483647u)
            return weft_mpi_fail(WEFT_ERR_SIZE,
                                 "%zu elements exceed MPI's int displacements: gather in parts",
                                 d->n);
    return WEFT_OK;
}

weft_status weft_dist_scatter(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, size_t n,
                              const weft_dist_layout *layout, const void *data, int root,
                              weft_dist **array)
{
    weft_mpi_clear_error();
    weft_dist *d = NULL;
    RETURN_ON_ERROR(weft_mpi_check_comm(comm));
    RETURN_ON_ERROR(weft_mpi_check_collective(comm, "weft_dist_scatter", n));
    RETURN_ON_ERROR(weft_dist_create(ctx, comm, dtype, n, layout, &d));
    int *counts = NULL, *displs = NULL;
    weft_status st = int_counts(d, &counts, &displs);
    if (st == WEFT_OK && (root < 0 || root >= d->nranks))
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "root %d of %d ranks", root, d->nranks);
    if (st == WEFT_OK && d->rank == root && !data && n > 0)
        st = weft_mpi_fail(WEFT_ERR_NULL, "the root's data is NULL");
    st = weft_mpi_same_everywhere(d->comm, st, "the root", (unsigned long long)root, 0);
    /* Straight into the block's storage: nothing has used the array yet, so
     * the host copy is the only one. */
    if (st == WEFT_OK) {
        int rc = MPI_Scatterv(data, counts, displs, d->element, d->host, (int)d->counts[d->rank],
                              d->element, root, d->comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "MPI_Scatterv");
    }
    free(counts); /* and displs */
    if (st != WEFT_OK) {
        weft_dist_discard(d);
        return st;
    }
    *array = d;
    return WEFT_OK;
}

static weft_status gather(weft_dist *d, int root, void *dst, int all)
{
    weft_mpi_clear_error();
    if (!d) return weft_mpi_fail(WEFT_ERR_NULL, "array is NULL");
    RETURN_ON_ERROR(weft_mpi_check_collective(
        d->comm, all ? "weft_dist_allgather" : "weft_dist_gather", (unsigned long long)d->n));
    int *counts = NULL, *displs = NULL;
    weft_status st = int_counts(d, &counts, &displs);
    if (st == WEFT_OK && !all && (root < 0 || root >= d->nranks))
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "root %d of %d ranks", root, d->nranks);
    if (st == WEFT_OK && (all || d->rank == root) && !dst && d->n > 0)
        st = weft_mpi_fail(WEFT_ERR_NULL, "dst is NULL");
    if (st == WEFT_OK) {
        weft_status synced = weft_array_sync(d->local);
        if (synced != WEFT_OK) st = weft_mpi_fail_core(synced, "bringing the block to the host");
    }
    st = weft_mpi_same_everywhere(d->comm, st, "the root", all ? 0 : (unsigned long long)root, 0);
    if (st == WEFT_OK) {
        int mine = (int)d->counts[d->rank];
        int rc = all ? MPI_Allgatherv(d->host, mine, d->element, dst, counts, displs, d->element,
                                      d->comm)
                     : MPI_Gatherv(d->host, mine, d->element, dst, counts, displs, d->element, root,
                                   d->comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, all ? "MPI_Allgatherv" : "MPI_Gatherv");
    }
    free(counts); /* and displs */
    return st;
}

weft_status weft_dist_gather(weft_dist *array, int root, void *dst)
{
    return gather(array, root, dst, 0);
}

weft_status weft_dist_allgather(weft_dist *array, void *dst)
{
    return gather(array, 0, dst, 1);
}
