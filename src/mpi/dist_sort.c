/* Sorting over ranks, gathered: every key (and value) goes to rank 0, which
 * runs weft_sort on the whole array, and the sorted array goes back in the
 * same split. The answer is one process's by construction (stable, floats as
 * numpy orders them), at the price of O(n) traffic and a serial sort on rank
 * 0: meant for arrays that fit one rank. A sample sort (splitters, an
 * all-to-all, local sorts) would scale but must also keep stability across
 * ranks; docs/mpi.md says what it would take. */
#include "collective_check.h"
#include "dist.h"
#include "mpi_error.h"

#include <stdlib.h>

static weft_status sort_on_root(weft_dist *keys, weft_dist *values, unsigned flags, void *kbuf,
                                void *vbuf)
{
    weft_array *k = NULL, *v = NULL;
    weft_status st = weft_array_wrap(keys->ctx, keys->dtype, keys->n, kbuf, &k);
    if (st == WEFT_OK && values)
        st = weft_array_wrap(keys->ctx, values->dtype, values->n, vbuf, &v);
    if (st == WEFT_OK) st = weft_sort(keys->ctx, k, v, flags, NULL);
    if (st == WEFT_OK) st = weft_array_sync(k);
    if (st == WEFT_OK && v) st = weft_array_sync(v);
    weft_array_free(k);
    weft_array_free(v);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, "weft_sort on rank 0");
}

/* Root's whole array at buf back into every rank's block. */
static weft_status scatter_back(weft_dist *d, const void *buf)
{
    int *counts = NULL, *displs = NULL;
    size_t mine = d->counts[d->rank];
    void *block = malloc(mine * d->elem_size + 1);
    weft_status st = block ? weft_dist_int_counts(d, &counts, &displs)
                           : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory");
    st = weft_mpi_agree(d->comm, st);
    if (st == WEFT_OK) {
        int rc =
            MPI_Scatterv(buf, counts, displs, d->element, block, (int)mine, d->element, 0, d->comm);
        if (rc != MPI_SUCCESS)
            st = weft_mpi_fail_mpi(rc, "MPI_Scatterv");
        else if (mine > 0) {
            weft_status w = weft_array_write(d->local, 0, mine, block);
            if (w != WEFT_OK) st = weft_mpi_fail_core(w, "writing the sorted block");
        }
        st = weft_mpi_agree(d->comm, st);
    }
    free(counts); /* and displs */
    free(block);
    return st;
}

weft_status weft_dist_sort(weft_dist *keys, weft_dist *values, unsigned flags)
{
    weft_mpi_clear_error();
    if (!keys) return weft_mpi_fail(WEFT_ERR_NULL, "keys is NULL");
    TRY(weft_mpi_check_collective(keys->comm, "weft_dist_sort",
                                  weft_mpi_check_key(keys->n, &flags, sizeof flags)));
    weft_status st = WEFT_OK;
    if (values && !weft_dist_same_split(keys, values))
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "keys and values differ in split or communicator");
    else if (keys->n > 2147483647u)
        st = weft_mpi_fail(WEFT_ERR_SIZE, "%zu elements: gathering sorts need int counts", keys->n);
    void *kbuf = NULL, *vbuf = NULL;
    if (st == WEFT_OK && keys->rank == 0) {
        kbuf = weft_dist_host_alloc(keys->n * keys->elem_size);
        vbuf = values ? weft_dist_host_alloc(values->n * values->elem_size) : NULL;
        if (!kbuf || (values && !vbuf)) st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory on rank 0");
    }
    TRY(weft_mpi_agree(keys->comm, st));
    st = weft_dist_gather(keys, 0, kbuf);
    if (st == WEFT_OK && values) st = weft_dist_gather(values, 0, vbuf);
    if (st == WEFT_OK) {
        weft_status sorted =
            keys->rank == 0 ? sort_on_root(keys, values, flags, kbuf, vbuf) : WEFT_OK;
        st = weft_mpi_agree(keys->comm, sorted);
    }
    if (st == WEFT_OK) st = scatter_back(keys, kbuf);
    if (st == WEFT_OK && values) st = scatter_back(values, vbuf);
    free(kbuf);
    free(vbuf);
    return st;
}
