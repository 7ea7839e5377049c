/* weft_dist_csv_run over ranks, with and without column reductions: what
 * cutting on whole blocks of records and folding every block's partial in
 * file order cost beside the plain pipeline. The job is the seed's statement
 * (`new = old_column * 2 + 1`) written to FILE.out, plus three reductions.
 * Runs alternate, medians of the slowest rank's wall time are printed.
 *   weft-csv-gen 2000000 in.csv && mpirun -np 2 ./bench/bench_mpi_csv in.csv [repeats] */
#include "bench_clock.h"

#include <weft_mpi.h>

#include <stdio.h>
#include <stdlib.h>

enum { MAX_REPEATS = 31 };

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    return t[n / 2];
}

static double timed_run(weft_ctx *ctx, const char *input, const char *output, weft_csv_job *job)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (weft_dist_csv_run(ctx, MPI_COMM_WORLD, input, output, NULL, job, NULL) != WEFT_OK) {
        fprintf(stderr, "weft_dist_csv_run: %s\n", weft_mpi_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    double mine = MPI_Wtime() - t0, slowest = 0;
    MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return slowest;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc < 2) {
        if (rank == 0) fprintf(stderr, "usage: bench_mpi_csv FILE [repeats]\n");
        MPI_Finalize();
        return 2;
    }
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    if (repeats < 1 || repeats > MAX_REPEATS) repeats = 5;
    char output[4096];
    snprintf(output, sizeof output, "%s.out", argv[1]);
    weft_ctx *ctx = NULL;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK) MPI_Abort(MPI_COMM_WORLD, 1);
    static const char *set[] = {"new = old_column * 2 + 1"};
    weft_csv_reduction reds[] = {
        {WEFT_SUM, "old_column", {0}}, {WEFT_MAX, "id", {0}}, {WEFT_SUM, "new", {0}}};
    weft_csv_job plain = {0}, reducing = {0};
    plain.statements = reducing.statements = set;
    plain.nstatements = reducing.nstatements = 1;
    reducing.reductions = reds;
    reducing.nreductions = 3;
    double without[MAX_REPEATS], with[MAX_REPEATS];
    timed_run(ctx, argv[1], output, &plain); /* warm the page cache */
    for (int k = 0; k < repeats; k++) {
        without[k] = timed_run(ctx, argv[1], output, &plain);
        with[k] = timed_run(ctx, argv[1], output, &reducing);
    }
    if (rank == 0) {
        double a = median(without, repeats), b = median(with, repeats);
        printf("ranks %d, %s: pipeline %.3f s; with 3 reductions %.3f s (%.2fx); max(id) %lld\n",
               nranks, argv[1], a, b, b / a, (long long)reds[1].result.value.i64);
    }
    remove(output);
    weft_ctx_free(ctx);
    MPI_Finalize();
    return 0;
}
