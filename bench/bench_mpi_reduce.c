/* A global sum over MPI ranks: weft_dist_reduce (one process's bits) against
 * the plain way (weft_reduce on each rank's block, then MPI_Allreduce of the
 * doubles, whose bits depend on the split). Median of repeated runs.
 *   mpirun -np 2 ./bench/bench_mpi_reduce [elements] */
#include "bench_clock.h"

#include <weft_mpi.h>

#include <stdio.h>
#include <stdlib.h>

enum { REPEATS = 9 };

static double median(double *t)
{
    qsort(t, REPEATS, sizeof *t, bench_cmp_double);
    return t[REPEATS / 2];
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)1 << 23;
    weft_ctx *ctx = NULL;
    weft_dist *d = NULL;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK ||
        weft_dist_create(ctx, MPI_COMM_WORLD, WEFT_F32, n, NULL, &d) != WEFT_OK) {
        fprintf(stderr, "setup failed: %s %s\n", weft_last_error(), weft_mpi_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    weft_bind bind = weft_bind_array("x", weft_dist_local(d));
    weft_map(ctx, "x = 0.001 * x + 1.5", &bind, 1, NULL);
    double plain[REPEATS], exact[REPEATS], exact_max[REPEATS], local[REPEATS];
    double plain_sum = 0;
    weft_scalar s;
    for (int k = 0; k < REPEATS + 1; k++) { /* the first round warms up */
        int at = k == 0 ? 0 : k - 1;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        weft_reduce(ctx, WEFT_SUM, weft_dist_local(d), &s, NULL);
        double t1 = MPI_Wtime();
        MPI_Allreduce(&s.value.f64, &plain_sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double t2 = MPI_Wtime();
        MPI_Barrier(MPI_COMM_WORLD);
        double t3 = MPI_Wtime();
        weft_dist_reduce(WEFT_SUM, d, &s);
        double t4 = MPI_Wtime();
        MPI_Barrier(MPI_COMM_WORLD);
        double t5 = MPI_Wtime();
        weft_scalar m;
        weft_dist_reduce(WEFT_MAX, d, &m);
        double t6 = MPI_Wtime();
        local[at] = t1 - t0;
        plain[at] = t2 - t0;
        exact[at] = t4 - t3;
        exact_max[at] = t6 - t5;
    }
    if (rank == 0)
        printf("ranks %d, n %zu f32: local weft_reduce %.3f ms; + MPI_Allreduce %.3f ms; "
               "weft_dist_reduce SUM %.3f ms (%.1fx); MAX %.3f ms; sums %.17g vs %.17g\n",
               nranks, n, 1e3 * median(local), 1e3 * median(plain), 1e3 * median(exact),
               median(exact) / median(plain), 1e3 * median(exact_max), plain_sum, s.value.f64);
    weft_dist_free(d);
    weft_ctx_free(ctx);
    MPI_Finalize();
    return 0;
}
