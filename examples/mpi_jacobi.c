/* The 2-D Jacobi stencil of examples/jacobi.c over MPI ranks: the same
 * kernel source and host function, the grid's rows split over the ranks
 * (and inside each rank over its devices). Each sweep sends one halo row to
 * each neighbouring rank while the rows that need none are computed. Rank 0
 * runs the same sweeps in one process (weft_launch) and checks the gathered
 * grid bit for bit.
 *   mpirun -np 3 ./example_mpi_jacobi [nx] [ny] [sweeps] */
#include <weft_mpi.h>

#define WEFT_EXAMPLE_NO_MAIN
#include "jacobi.c"

static weft_status distributed(weft_ctx *ctx, weft_program *program, const float *grid, int nx,
                               int ny, int sweeps, float *out)
{
    weft_dist_rows *a = NULL, *b = NULL;
    weft_status st =
        weft_dist_rows_create(ctx, MPI_COMM_WORLD, WEFT_F32, (size_t)ny, (size_t)nx, &a);
    if (st == WEFT_OK) st = weft_dist_rows_create_like(a, WEFT_F32, &b);
    if (st == WEFT_OK) st = weft_dist_rows_scatter(a, 0, grid);
    weft_range range = weft_range_2d((size_t)nx, (size_t)ny);
    for (int s = 0; st == WEFT_OK && s < sweeps; s++) {
        weft_dist_arg args[] = {weft_dist_arg_halo(a, 1), weft_dist_arg_slice(b),
                                weft_dist_arg_plain(weft_arg_i32(nx)),
                                weft_dist_arg_plain(weft_arg_i32(ny))};
        st = weft_dist_launch(program, "jacobi", &range, args, WEFT_COUNTOF(args), jacobi_host,
                              NULL);
        weft_dist_rows *t = a; /* the new grid is the next sweep's input */
        a = b;
        b = t;
    }
    if (st == WEFT_OK) st = weft_dist_rows_gather(a, 0, out);
    weft_dist_rows_free(a);
    weft_dist_rows_free(b);
    return st;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int nx = argc > 1 ? atoi(argv[1]) : 128, ny = argc > 2 ? atoi(argv[2]) : 96;
    int sweeps = argc > 3 ? atoi(argv[3]) : 40;
    size_t cells = (size_t)nx * (size_t)ny;
    float *grid = malloc(cells * sizeof *grid), *out = malloc(cells * sizeof *out);
    weft_ctx *ctx = NULL;
    weft_program *program = NULL;
    weft_status st = grid && out ? weft_ctx_create(NULL, &ctx) : WEFT_ERR_NOMEM;
    if (st == WEFT_OK) {
        jacobi_initial(grid, nx, ny);
        st = weft_program_build(ctx, jacobi_source, NULL, &program);
    }
    if (st == WEFT_OK) st = distributed(ctx, program, grid, nx, ny, sweeps, out);
    int bad = st != WEFT_OK;
    if (bad) fprintf(stderr, "rank %d: %s %s\n", rank, weft_mpi_last_error(), weft_last_error());
    if (!bad && rank == 0) {
        int done = 0; /* a tolerance below zero: exactly `sweeps` sweeps */
        st = jacobi_solve(ctx, grid, nx, ny, -1.0f, sweeps, sweeps, &done);
        bad = st != WEFT_OK || memcmp(grid, out, cells * sizeof *out) != 0;
        printf("mpi_jacobi: %dx%d, %d sweeps: %s one process\n", nx, ny, sweeps,
               bad ? "DIFFERS from" : "the same bits as");
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    weft_program_free(program);
    weft_ctx_free(ctx);
    free(grid);
    free(out);
    MPI_Finalize();
    return bad;
}
