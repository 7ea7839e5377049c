/* Sorting over ranks: weft_sort's order on the whole array (stable, floats as
 * numpy orders them), left in the array's own split. Three ways, chosen from
 * the split alone so every rank takes the same one:
 *   - one rank: weft_sort on its block, which is the whole array;
 *   - a small array: gathered to rank 0, sorted there, scattered back, in
 *     fewer collectives than the sample sort's eight;
 *   - otherwise the sample sort (dist_sort_sample.c): local sorts, splitters,
 *     two all-to-alls, nothing whole on any rank. */
#include "collective_check.h"
#include "dist_sort.h"
#include "dist_sort_keys.h"
#include "dist_sort_sample.h"
#include "mpi_error.h"

#include <stdlib.h>

/* Below this many elements, gathered. On one 2-core machine the gathering
 * sort was the faster up to 2^14 elements at 3 ranks, the sample sort from
 * 2^13 at 2 (bench/RESULTS.md, bench/bench_mpi_sort.c): in between. */
enum { GATHER_BELOW = 1 << 14 };

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

/* checked: this rank's verdict on the arguments, agreed here first. */
static weft_status sort_gathered(weft_dist *keys, weft_dist *values, unsigned flags,
                                 weft_status checked)
{
    weft_status st = checked;
    if (st == WEFT_OK && keys->n > 2147483647u)
        st = weft_mpi_fail(WEFT_ERR_SIZE, "%zu elements: gathering sorts need int counts", keys->n);
    void *kbuf = NULL, *vbuf = NULL;
    if (st == WEFT_OK && keys->rank == 0) {
        kbuf = weft_dist_host_alloc(keys->n * keys->elem_size);
        vbuf = values ? weft_dist_host_alloc(values->n * values->elem_size) : NULL;
        if (!kbuf || (values && !vbuf)) st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory on rank 0");
    }
    st = weft_mpi_agree(keys->comm, st);
    if (st == WEFT_OK) st = weft_dist_gather(keys, 0, kbuf);
    if (st == WEFT_OK && values) st = weft_dist_gather(values, 0, vbuf);
    if (st == WEFT_OK) {
        weft_status sorted = keys->rank == 0
                                 ? weft_dist_sort_host(keys, values, keys->n, kbuf, vbuf, flags,
                                                       "weft_sort on rank 0")
                                 : WEFT_OK;
        st = weft_mpi_agree(keys->comm, sorted);
    }
    if (st == WEFT_OK) st = scatter_back(keys, kbuf);
    if (st == WEFT_OK && values) st = scatter_back(values, vbuf);
    free(kbuf);
    free(vbuf);
    return st;
}

/* One rank's block is the whole array. */
static weft_status sort_alone(weft_dist *keys, weft_dist *values, unsigned flags,
                              weft_status checked)
{
    RETURN_ON_ERROR(checked);
    weft_status st = weft_sort(keys->ctx, keys->local, values ? values->local : NULL, flags, NULL);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, "weft_sort");
}

weft_status weft_dist_sort_by(weft_dist *keys, weft_dist *values, unsigned flags,
                              dist_sort_method method)
{
    weft_mpi_clear_error();
    if (!keys) return weft_mpi_fail(WEFT_ERR_NULL, "keys is NULL");
    unsigned long long key = weft_mpi_check_key(keys->n, &flags, sizeof flags);
    RETURN_ON_ERROR(weft_mpi_check_collective(keys->comm, "weft_dist_sort",
                                              weft_mpi_check_key(key, &method, sizeof method)));
    weft_status st = WEFT_OK;
    if (values && !weft_dist_same_split(keys, values))
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "keys and values differ in split or communicator");
    else if (flags & ~WEFT_SORT_DESCENDING)
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "flags 0x%x: only WEFT_SORT_DESCENDING is defined",
                           flags);
    if (method == DIST_SORT_AUTO) {
        if (keys->nranks == 1) return sort_alone(keys, values, flags, st);
        method = keys->n < GATHER_BELOW ? DIST_SORT_GATHER : DIST_SORT_SAMPLE;
    }
    if (method == DIST_SORT_GATHER) return sort_gathered(keys, values, flags, st);
    return weft_dist_sort_sample(keys, values, flags, st);
}

weft_status weft_dist_sort(weft_dist *keys, weft_dist *values, unsigned flags)
{
    return weft_dist_sort_by(keys, values, flags, DIST_SORT_AUTO);
}
