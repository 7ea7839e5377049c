/* Histograms over ranks: each rank counts its block with weft_histogram and
 * the counts are summed with MPI_Allreduce. Counts are integers, so the sum
 * is exact in any order: one process's counts, whatever the split. */
#include "collective_check.h"
#include "dist.h"
#include "mpi_error.h"

#include <stdlib.h>
#include <string.h>

static weft_status local_counts(weft_dist *x, double lo, double hi, size_t nbins, uint64_t *mine)
{
    size_t count = x->counts[x->rank];
    memset(mine, 0, nbins * sizeof *mine);
    if (count == 0) return WEFT_OK; /* nothing to count: zeros */
    weft_array *bins = NULL;
    CORE_TRY(weft_array_create(x->ctx, WEFT_U64, nbins, &bins), "creating the bins");
    weft_status st = weft_histogram(x->ctx, x->local, lo, hi, bins, NULL);
    if (st == WEFT_OK) st = weft_array_read(bins, 0, nbins, mine);
    weft_array_free(bins);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, "weft_histogram");
}

weft_status weft_dist_histogram(weft_dist *x, double lo, double hi, size_t nbins, uint64_t *counts)
{
    weft_mpi_clear_error();
    if (!x) return weft_mpi_fail(WEFT_ERR_NULL, "x is NULL");
    double range[2] = {lo, hi};
    RETURN_ON_ERROR(weft_mpi_check_collective(x->comm, "weft_dist_histogram",
                                              weft_mpi_check_key(nbins, range, sizeof range)));
    uint64_t *mine = nbins ? malloc(nbins * sizeof *mine) : NULL;
    weft_status st = WEFT_OK;
    if (!counts)
        st = weft_mpi_fail(WEFT_ERR_NULL, "counts is NULL");
    else if (nbins == 0 || nbins > 2147483647u)
        st = weft_mpi_fail(WEFT_ERR_SIZE, "%zu bins (1 to 2^31 - 1)", nbins);
    else if (!mine)
        st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for %zu bins", nbins);
    else
        st = local_counts(x, lo, hi, nbins, mine);
    st = weft_mpi_same_everywhere(x->comm, st, "the bin count", nbins, 0);
    if (st == WEFT_OK) {
        int rc = MPI_Allreduce(mine, counts, (int)nbins, MPI_UINT64_T, MPI_SUM, x->comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "MPI_Allreduce of the counts");
    }
    free(mine);
    return st;
}
