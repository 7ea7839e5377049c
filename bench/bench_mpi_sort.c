/* A distributed sort of random u32 keys: weft_dist_sort's sample sort
 * against its gathering sort (everything to rank 0 and back) and against
 * weft_sort of the whole array in one process (rank 0 alone, the other ranks
 * waiting), alternated in every round; medians of repeated rounds, after one
 * round to warm up. Each round sorts the same unsorted keys again.
 *   mpirun -np 2 ./bench/bench_mpi_sort [elements] [repeats] */
#include "../src/mpi/dist_sort.h"
#include "bench_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double median(double *t, int count)
{
    qsort(t, (size_t)count, sizeof *t, bench_cmp_double);
    return t[count / 2];
}

static void fail(const char *what)
{
    fprintf(stderr, "%s: %s | %s\n", what, weft_mpi_last_error(), weft_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)1 << 24;
    int repeats = argc > 2 ? atoi(argv[2]) : 7;
    if (repeats < 1 || repeats > 99) repeats = 7;
    uint32_t *whole = malloc(n * sizeof *whole + 1), *copy = malloc(n * sizeof *copy + 1);
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        whole[i] = (uint32_t)s;
    }
    weft_ctx *ctx = NULL;
    weft_dist *d = NULL;
    weft_array *one = NULL;
    if (weft_ctx_create(NULL, &ctx) != WEFT_OK ||
        weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_U32, n, NULL, whole, 0, &d) != WEFT_OK ||
        weft_array_wrap(ctx, WEFT_U32, n, copy, &one) != WEFT_OK)
        fail("setup");
    weft_array *local = weft_dist_local(d);
    size_t mine = 0, offset = 0;
    weft_dist_local_range(d, &offset, &mine);
    double t_sample[100], t_gather[100], t_one[100];
    for (int k = 0; k <= repeats; k++) { /* round 0 warms up */
        int at = k == 0 ? 0 : k - 1;
        for (int way = 0; way < 3; way++) {
            if (way < 2 && mine > 0 && weft_array_write(local, 0, mine, whole + offset) != WEFT_OK)
                fail("resetting the block");
            if (way == 2 && rank == 0 && weft_array_write(one, 0, n, whole) != WEFT_OK)
                fail("resetting the copy");
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            weft_status st = WEFT_OK;
            if (way == 0) st = weft_dist_sort_by(d, NULL, 0, DIST_SORT_SAMPLE);
            if (way == 1) st = weft_dist_sort_by(d, NULL, 0, DIST_SORT_GATHER);
            if (way == 2 && rank == 0) {
                st = weft_sort(ctx, one, NULL, 0, NULL);
                if (st == WEFT_OK) st = weft_array_sync(one);
            }
            if (way == 2) MPI_Barrier(MPI_COMM_WORLD);
            double t = MPI_Wtime() - t0;
            if (st != WEFT_OK) fail("sorting");
            (way == 0 ? t_sample : way == 1 ? t_gather : t_one)[at] = t;
        }
    }
    if (rank == 0)
        printf("ranks %d, n %zu u32: sample sort %.3f ms, gathering sort %.3f ms, "
               "one process's weft_sort %.3f ms (medians of %d)\n",
               nranks, n, 1e3 * median(t_sample, repeats), 1e3 * median(t_gather, repeats),
               1e3 * median(t_one, repeats), repeats);
    weft_array_free(one);
    weft_dist_free(d);
    weft_ctx_free(ctx);
    free(whole);
    free(copy);
    MPI_Finalize();
    return 0;
}
