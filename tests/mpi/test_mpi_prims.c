/* Distributed histograms and sorts against one process, bit for bit, at the
 * rank count this runs under. Every rank generates the whole data from one
 * seed; a failure aborts the job so no rank waits. */
#include "mpi_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static weft_ctx *ctx;

/* Floats with duplicates, NaNs, -0.0 and +0.0: what stability and numpy's
 * order are about. */
static void fill(float *keys, int32_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_random();
        keys[i] = (float)(r % 1000) / 8.0f - 60.0f;
        if (r % 97 == 0) keys[i] = NAN;
        if (r % 89 == 0) keys[i] = (r >> 20) & 1 ? -0.0f : 0.0f;
        values[i] = (int32_t)i;
    }
}

static void one_size(size_t n, unsigned flags)
{
    float *keys = malloc(n * sizeof *keys), *sorted = malloc(n * sizeof *sorted);
    int32_t *values = malloc(n * sizeof *values), *permuted = malloc(n * sizeof *permuted);
    fill(keys, values, n);
    /* One process. */
    weft_array *k = NULL, *v = NULL, *bins = NULL;
    enum { NBINS = 37 };
    uint64_t want[NBINS], got[NBINS];
    OK(weft_array_from(ctx, WEFT_F32, n, keys, &k));
    OK(weft_array_from(ctx, WEFT_I32, n, values, &v));
    OK(weft_array_create(ctx, WEFT_U64, NBINS, &bins));
    OK(weft_histogram(ctx, k, -50.0, 60.0, bins, NULL));
    OK(weft_array_read(bins, 0, NBINS, want));
    OK(weft_sort(ctx, k, v, flags, NULL));
    OK(weft_array_read(k, 0, n, sorted));
    OK(weft_array_read(v, 0, n, permuted));
    /* Over the ranks. */
    weft_dist *dk = NULL, *dv = NULL;
    OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F32, n, NULL, keys, 0, &dk));
    OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_I32, n, NULL, values, 0, &dv));
    OK(weft_dist_histogram(dk, -50.0, 60.0, NBINS, got));
    CHECK(memcmp(want, got, sizeof want) == 0, "histogram of %zu differs", n);
    OK(weft_dist_sort(dk, dv, flags));
    float *dsorted = malloc(n * sizeof *dsorted);
    int32_t *dpermuted = malloc(n * sizeof *dpermuted);
    OK(weft_dist_allgather(dk, dsorted));
    OK(weft_dist_allgather(dv, dpermuted));
    CHECK(memcmp(sorted, dsorted, n * sizeof *sorted) == 0, "keys of %zu differ", n);
    CHECK(memcmp(permuted, dpermuted, n * sizeof *permuted) == 0, "values of %zu differ", n);
    /* Keys alone. */
    OK(weft_dist_free(dk));
    OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F32, n, NULL, keys, 0, &dk));
    OK(weft_dist_sort(dk, NULL, flags));
    OK(weft_dist_allgather(dk, dsorted));
    CHECK(memcmp(sorted, dsorted, n * sizeof *sorted) == 0, "keys alone of %zu differ", n);
    OK(weft_dist_free(dk));
    OK(weft_dist_free(dv));
    weft_array_free(k);
    weft_array_free(v);
    weft_array_free(bins);
    free(keys);
    free(sorted);
    free(values);
    free(permuted);
    free(dsorted);
    free(dpermuted);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    seed = 0x2545F4914F6CDD1Du; /* this test's data, as before */
    OK(weft_ctx_create(NULL, &ctx));
    size_t sizes[] = {1, 5000, 30011};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        one_size(sizes[s], 0);
        one_size(sizes[s], WEFT_SORT_DESCENDING);
    }
    weft_ctx_free(ctx);
    if (rank == 0) printf("test_mpi_prims: ok\n");
    MPI_Finalize();
    return 0;
}
