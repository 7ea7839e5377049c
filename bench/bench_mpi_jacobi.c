/* The 2-D Jacobi of examples/jacobi.c over MPI ranks (weft_dist_launch):
 * seconds per sweep (median of repeats) and halo bytes each rank sends per
 * sweep. Strong scaling: a fixed nx x ny grid; weak: ny rows per rank.
 *   mpirun -np 2 ./bench/bench_mpi_jacobi [nx] [ny] [sweeps] [weak 0|1] */
#include <weft_mpi.h>

#define WEFT_EXAMPLE_NO_MAIN
#include "../examples/jacobi.c"

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int nx = argc > 1 ? atoi(argv[1]) : 1024, ny = argc > 2 ? atoi(argv[2]) : 1024;
    int sweeps = argc > 3 ? atoi(argv[3]) : 20, weak = argc > 4 && atoi(argv[4]);
    if (weak) ny *= nranks;
    weft_ctx *ctx = NULL;
    weft_program *program = NULL;
    weft_dist_rows *a = NULL, *b = NULL;
    weft_status st = weft_ctx_create(NULL, &ctx);
    if (st == WEFT_OK) st = weft_program_build(ctx, jacobi_source, NULL, &program);
    if (st == WEFT_OK)
        st = weft_dist_rows_create(ctx, MPI_COMM_WORLD, WEFT_F32, (size_t)ny, (size_t)nx, &a);
    if (st == WEFT_OK) st = weft_dist_rows_create_like(a, WEFT_F32, &b);
    weft_range range = weft_range_2d((size_t)nx, (size_t)ny);
    enum { REPEATS = 7 };
    double times[REPEATS];
    for (int r = -1; st == WEFT_OK && r < REPEATS; r++) { /* r = -1: warm-up */
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int s = 0; st == WEFT_OK && s < sweeps; s++) {
            weft_dist_arg args[] = {weft_dist_arg_halo(a, 1), weft_dist_arg_slice(b),
                                    weft_dist_arg_plain(weft_arg_i32(nx)),
                                    weft_dist_arg_plain(weft_arg_i32(ny))};
            st = weft_dist_launch(program, "jacobi", &range, args, 4, jacobi_host, NULL);
            weft_dist_rows *t = a;
            a = b;
            b = t;
        }
        double t = (MPI_Wtime() - t0) / sweeps, slowest = 0;
        MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (r >= 0) times[r] = slowest;
    }
    size_t first = 0, count = 0;
    if (st == WEFT_OK) st = weft_dist_rows_range(a, &first, &count);
    /* One halo row to each neighbouring rank per sweep. */
    unsigned long long sent = (unsigned long long)((first > 0) + (first + count < (size_t)ny)) *
                              (unsigned long long)nx * sizeof(float);
    if (st != WEFT_OK) fprintf(stderr, "rank %d: %s\n", rank, weft_mpi_last_error());
    if (st == WEFT_OK && rank == 0) {
        qsort(times, REPEATS, sizeof *times, compare);
        printf("bench_mpi_jacobi: %d ranks, %dx%d grid, %.3f ms per sweep, %.1f Mcells/s, "
               "rank 0 sends %llu bytes per sweep\n",
               nranks, nx, ny, times[REPEATS / 2] * 1e3, (double)nx * ny / times[REPEATS / 2] / 1e6,
               sent);
    }
    weft_dist_rows_free(a);
    weft_dist_rows_free(b);
    weft_program_free(program);
    weft_ctx_free(ctx);
    MPI_Finalize();
    return st != WEFT_OK;
}
