/* Splitting the global array over the ranks. Every rank boundary falls on a
 * multiple of WEFT_SUM_BLOCK: one process reduces and scans in those blocks,
 * so a rank's blocks are exactly the blocks one process would form. */
#include "dist.h"
#include "mpi_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void weft_dist_layout_init(weft_dist_layout *layout)
{
    if (!layout) return;
    layout->split = WEFT_DIST_EVEN;
    layout->weight = 1.0;
    layout->counts = NULL;
}

void weft_dist_split_weights(size_t n, int nranks, const double *weights, size_t *counts)
{
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    double total = 0;
    for (int r = 0; r < nranks; r++)
        total += weights[r];
    /* Largest remainder: floors first, then the ranks with the largest
     * fractional parts (earlier ranks on ties) get one block more. */
    size_t given = 0;
    double *frac = malloc((size_t)nranks * sizeof *frac);
    for (int r = 0; r < nranks; r++) {
        double share = total > 0 ? (double)blocks * weights[r] / total : 0;
        counts[r] = (size_t)floor(share);
        given += counts[r];
        if (frac) frac[r] = share - floor(share);
    }
    while (given < blocks) {
        int best = 0;
        for (int r = 1; r < nranks; r++)
            if (frac && frac[r] > frac[best]) best = r;
        counts[best]++;
        given++;
        if (frac) frac[best] = -1;
    }
    free(frac);
    /* Blocks to elements: the rank holding the last block holds the tail. */
    size_t left = n;
    for (int r = 0; r < nranks; r++) {
        size_t elems = counts[r] * WEFT_SUM_BLOCK;
        counts[r] = elems < left ? elems : left;
        left -= counts[r];
    }
}

static weft_status check_counts(size_t n, int nranks, const size_t *counts)
{
    size_t sum = 0;
    for (int r = 0; r < nranks; r++) {
        if (counts[r] > 0 && sum % WEFT_SUM_BLOCK != 0)
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                 "rank %d's block starts at element %zu, not a multiple of "
                                 "WEFT_SUM_BLOCK (%d): global reductions could not match one "
                                 "process",
                                 r, sum, WEFT_SUM_BLOCK);
        sum += counts[r];
    }
    if (sum != n)
        return weft_mpi_fail(WEFT_ERR_SIZE, "the ranks' counts sum to %zu, not %zu elements", sum,
                             n);
    return WEFT_OK;
}

/* Elements per second of a small weft_map on this rank's devices. */
static weft_status measure_speed(weft_ctx *ctx, double *speed)
{
    enum { ELEMENTS = 1 << 20, REPEATS = 3 };
    weft_array *x = NULL;
    weft_status st = weft_array_create(ctx, WEFT_F32, ELEMENTS, &x);
    weft_bind bind = weft_bind_array("x", x);
    double best = INFINITY;
    for (int k = 0; st == WEFT_OK && k <= REPEATS; k++) {
        double t0 = MPI_Wtime();
        st = weft_map(ctx, "x = x * 0.5 + 1", &bind, 1, NULL);
        double t = MPI_Wtime() - t0;
        if (k > 0 && t < best) best = t; /* the first run builds the kernels */
    }
    weft_array_free(x);
    if (st != WEFT_OK) return weft_mpi_fail_core(st, "measuring this rank's speed");
    *speed = best > 0 ? ELEMENTS / best : 1.0;
    return WEFT_OK;
}

static weft_status local_weight(weft_ctx *ctx, const weft_dist_layout *layout, double *weight)
{
    *weight = 1.0;
    if (layout->split == WEFT_DIST_MEASURED) return measure_speed(ctx, weight);
    if (layout->split == WEFT_DIST_WEIGHTED) {
        if (!(layout->weight >= 0) || isinf(layout->weight))
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "weight %g is not a finite value >= 0",
                                 layout->weight);
        *weight = layout->weight;
    }
    return WEFT_OK;
}

weft_status weft_dist_plan(weft_ctx *ctx, MPI_Comm comm, size_t n, const weft_dist_layout *layout,
                           size_t *counts)
{
    int nranks = 1;
    MPI_TRY(MPI_Comm_size(comm, &nranks), "MPI_Comm_size");
    weft_dist_layout even;
    weft_dist_layout_init(&even);
    if (!layout) layout = &even;
    weft_status st = WEFT_OK;
    if ((unsigned)layout->split > WEFT_DIST_COUNTS)
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "unknown split %d", (int)layout->split);
    if (st == WEFT_OK && layout->split == WEFT_DIST_COUNTS) {
        if (!layout->counts)
            st = weft_mpi_fail(WEFT_ERR_NULL, "WEFT_DIST_COUNTS without counts");
        else
            st = check_counts(n, nranks, layout->counts);
        RETURN_ON_ERROR(weft_mpi_agree(comm, st));
        for (int r = 0; r < nranks; r++)
            counts[r] = layout->counts[r];
        return WEFT_OK;
    }
    double weight = 1.0;
    if (st == WEFT_OK) st = local_weight(ctx, layout, &weight);
    RETURN_ON_ERROR(weft_mpi_agree(comm, st));
    double *weights = malloc((size_t)nranks * sizeof *weights);
    st = weights ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate %d weights", nranks);
    RETURN_ON_ERROR(weft_mpi_agree(comm, st));
    int rc = MPI_Allgather(&weight, 1, MPI_DOUBLE, weights, 1, MPI_DOUBLE, comm);
    if (rc != MPI_SUCCESS) {
        free(weights);
        return weft_mpi_fail_mpi(rc, "gathering the ranks' weights");
    }
    double total = 0;
    for (int r = 0; r < nranks; r++)
        total += weights[r];
    if (!(total > 0)) /* every rank sees the same weights: the same answer */
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "the ranks' weights are all 0");
    else
        weft_dist_split_weights(n, nranks, weights, counts);
    free(weights);
    return st;
}

int weft_dist_same_split(const weft_dist *a, const weft_dist *b)
{
    if (a->ctx != b->ctx || a->n != b->n || a->nranks != b->nranks) return 0;
    if (memcmp(a->counts, b->counts, (size_t)a->nranks * sizeof *a->counts) != 0) return 0;
    int same = MPI_UNEQUAL; /* duplicates of one communicator are congruent */
    return a->comm == b->comm ||
           (MPI_Comm_compare(a->comm, b->comm, &same) == MPI_SUCCESS && same == MPI_CONGRUENT);
}
