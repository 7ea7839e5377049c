/* The exact global sum of a tiny array (one f64 per rank) against one plain
 * MPI_Allreduce of 8 bytes: what weft_dist_reduce's agreement and exchange
 * cost when there is nothing to compute. The array's n = ranks elements sit
 * in rank 0's block (blocks start on multiples of WEFT_SUM_BLOCK), so the
 * exact sum is rank 0's one-block partial sent to every rank; the plain sum
 * is each rank's double summed by MPI (bits that depend on the order MPI
 * picks). Each call is timed on its own after a barrier, the two alternate,
 * and the medians of rank 0's times are printed, with rank 0's local
 * weft_reduce of its block alone and one MPI_Allgatherv of the bytes the
 * exact sum exchanges (32 per rank, 32 more per block: its floor is the two
 * together).
 *   mpirun -np 2 ./bench/bench_mpi_small_sum [repeats] */
#include "bench_clock.h"

#include <weft_mpi.h>

#include <stdio.h>
#include <stdlib.h>

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    return t[n / 2];
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int repeats = argc > 1 ? atoi(argv[1]) : 2001;
    if (repeats < 1) repeats = 1;
    weft_ctx *ctx = NULL;
    weft_dist *d = NULL;
    double *values = malloc((size_t)nranks * sizeof *values);
    double *plain = malloc((size_t)repeats * sizeof *plain);
    double *exact = malloc((size_t)repeats * sizeof *exact);
    double *local = malloc((size_t)repeats * sizeof *local);
    double *gather = malloc((size_t)repeats * sizeof *gather);
    int *counts = malloc(2 * (size_t)nranks * sizeof *counts), *displs = counts + nranks;
    char sent[64] = {0}, *got = malloc(32 * ((size_t)nranks + 1));
    for (int r = 0; r < nranks; r++)
        values[r] = 0.1 * (r + 1);
    if (!values || !plain || !exact || !local || !gather || !counts || !got ||
        weft_ctx_create(NULL, &ctx) != WEFT_OK ||
        weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F64, (size_t)nranks, NULL, values, 0, &d) !=
            WEFT_OK) {
        fprintf(stderr, "setup failed: %s %s\n", weft_last_error(), weft_mpi_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (int r = 0; r < nranks; r++) { /* rank 0: its status and one block's partial */
        counts[r] = r == 0 ? 64 : 32;
        displs[r] = r == 0 ? 0 : 32 * (r + 1);
    }
    double mine = values[rank], total = 0;
    weft_scalar s = {0};
    for (int k = -50; k < repeats; k++) { /* 50 rounds warm up */
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(&mine, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double t1 = MPI_Wtime();
        MPI_Barrier(MPI_COMM_WORLD);
        double t2 = MPI_Wtime();
        if (weft_dist_reduce(WEFT_SUM, d, &s) != WEFT_OK) {
            fprintf(stderr, "weft_dist_reduce: %s\n", weft_mpi_last_error());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        double t3 = MPI_Wtime();
        weft_scalar part;
        weft_reduce(ctx, WEFT_SUM, weft_dist_local(d), &part, NULL);
        double t4 = MPI_Wtime();
        MPI_Barrier(MPI_COMM_WORLD);
        double t5 = MPI_Wtime();
        MPI_Allgatherv(sent, counts[rank], MPI_BYTE, got, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
        double t6 = MPI_Wtime();
        if (k >= 0) {
            plain[k] = t1 - t0;
            exact[k] = t3 - t2;
            local[k] = t4 - t3;
            gather[k] = t6 - t5;
        }
    }
    if (rank == 0) {
        double p = median(plain, repeats), e = median(exact, repeats), l = median(local, repeats);
        double g = median(gather, repeats);
        printf("ranks %d, %d repeats: MPI_Allreduce of one double %.2f us; weft_dist_reduce "
               "SUM of %d f64 %.2f us (%.1fx); rank 0's weft_reduce of its block alone %.2f us; "
               "MPI_Allgatherv of the exchange's bytes %.2f us; sums %.17g vs %.17g\n",
               nranks, repeats, 1e6 * p, nranks, 1e6 * e, e / p, 1e6 * l, 1e6 * g, total,
               s.value.f64);
    }
    weft_dist_free(d);
    weft_ctx_free(ctx);
    free(values);
    free(plain);
    free(exact);
    free(local);
    free(gather);
    free(counts);
    free(got);
    MPI_Finalize();
    return 0;
}
