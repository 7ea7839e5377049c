/* Failure and misuse across ranks: a rank that fails reports on every rank
 * (one status everywhere, the failing rank named), nothing hangs, and the
 * next call works; mismatched sizes, roots and communicators are refused;
 * under WEFT_MPI_CHECK=1 mismatched collectives are caught. The test's own
 * failures abort the job, so no rank waits forever. */
#include "mpi_check.h"
#include "smooth_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int last;
static weft_ctx *ctx;

/* st failed with one status on every rank; the ranks but `culprit` name it. */
#define failed_everywhere(st, want, culprit) failed_everywhere_at(st, want, culprit, __LINE__)
static void failed_everywhere_at(weft_status st, weft_status want, int culprit, int line)
{
    int mine = (int)st, low = 0, high = 0;
    MPI_Allreduce(&mine, &low, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &high, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(low == high && st != WEFT_OK, "line %d: statuses %d to %d (%s)", line, low, high,
          weft_mpi_last_error());
    CHECK(want == WEFT_OK || st == want, "status %s, wanted %s: %s", weft_status_str(st),
          weft_status_str(want), weft_mpi_last_error());
    char named[32];
    snprintf(named, sizeof named, "failed on rank %d", culprit);
    if (culprit >= 0 && rank != culprit)
        CHECK(strstr(weft_mpi_last_error(), named), "detail \"%s\" does not name rank %d",
              weft_mpi_last_error(), culprit);
}

static void failing_launch(void)
{
    enum { N = 40 };
    weft_program *program = NULL;
    weft_dist_rows *a = NULL, *b = NULL;
    OK(weft_program_build(ctx, smooth_source, NULL, &program));
    OK(weft_dist_rows_create(ctx, MPI_COMM_WORLD, WEFT_F32, N, 1, &a));
    OK(weft_dist_rows_create_like(a, WEFT_F32, &b));
    float ones[N], out[N];
    for (int i = 0; i < N; i++)
        ones[i] = 1.0f;
    OK(weft_dist_rows_scatter(a, 0, ones));
    weft_range range = weft_range_1d(N);
    weft_dist_arg args[] = {weft_dist_arg_halo(a, 1), weft_dist_arg_slice(b),
                            weft_dist_arg_plain(weft_arg_i32(N))};
    /* Late: the last rank's launch fails after the halo rows were posted. */
    int bad = rank == last;
    weft_status st = weft_dist_launch(program, bad ? "missing" : "smooth", &range, args, 3,
                                      bad ? NULL : smooth_host, NULL);
    failed_everywhere(st, WEFT_OK, last);
    /* Early: the last rank's own arguments are wrong. */
    weft_dist_arg wrong[] = {weft_dist_arg_halo(a, 1), weft_dist_arg_slice(NULL),
                             weft_dist_arg_plain(weft_arg_i32(N))};
    st = weft_dist_launch(program, "smooth", &range, bad ? wrong : args, 3, smooth_host, NULL);
    failed_everywhere(st, WEFT_ERR_INVALID_ARG, last);
    /* Nothing is left in flight: the next launch gives the right answer. */
    OK(weft_dist_launch(program, "smooth", &range, args, 3, smooth_host, NULL));
    OK(weft_dist_rows_gather(b, 0, out));
    for (int i = 0; rank == 0 && i < N; i++)
        CHECK(out[i] == (i == 0 || i == N - 1 ? 2.0f : 3.0f), "out[%d] = %g", i, out[i]);
    /* Arrays on communicators that are not the same group in the same order. */
    if (nranks > 1) {
        MPI_Comm reversed;
        MPI_Comm_split(MPI_COMM_WORLD, 0, nranks - rank, &reversed);
        weft_dist_rows *r = NULL;
        OK(weft_dist_rows_create(ctx, reversed, WEFT_F32, N, 1, &r));
        weft_dist_arg mixed[] = {weft_dist_arg_halo(a, 1), weft_dist_arg_slice(r),
                                 weft_dist_arg_plain(weft_arg_i32(N))};
        st = weft_dist_launch(program, "smooth", &range, mixed, 3, smooth_host, NULL);
        failed_everywhere(st, WEFT_ERR_INVALID_ARG, -1);
        OK(weft_dist_rows_free(r));
        MPI_Comm_free(&reversed);
    }
    /* Shapes that differ between ranks. */
    weft_dist_rows *odd = NULL;
    st = weft_dist_rows_create(ctx, MPI_COMM_WORLD, WEFT_F32, rank == last ? N + 1 : N, 1, &odd);
    if (nranks > 1) failed_everywhere(st, WEFT_ERR_SIZE, -1);
    if (nranks > 1) CHECK(!odd, "an array came back");
    OK(weft_dist_rows_free(odd));
    OK(weft_dist_rows_free(a));
    OK(weft_dist_rows_free(b));
    weft_program_free(program);
}

/* A rank whose halo edges cannot be read (its block lived on a device that
 * failed mid-write: WEFT_FAULT=finish on that rank alone) still sends, its
 * failure in the message: its neighbours' end fails naming it instead of
 * waiting forever, the ranks further away are not concerned. Needs an
 * OpenCL device to fail. */
static void halo_after_device_failure(void)
{
    enum { N = 4 * 4096 };
    size_t ndevices = 0;
    weft_device_count(ctx, &ndevices);
    if (ndevices < 2) return; /* the same on every rank: one environment */
    int victim = nranks > 2 ? 1 : 0;
    static const double on_the_device[] = {0.0, 1.0};
    weft_options o;
    weft_options_init(&o);
    o.weights = WEFT_WEIGHTS_GIVEN;
    o.given = on_the_device;
    o.given_count = 2;
    o.small_elements = 0;
    if (rank == victim) setenv("WEFT_FAULT", "finish", 1);
    weft_ctx *faulty = NULL;
    OK(weft_ctx_create(&o, &faulty));
    unsetenv("WEFT_FAULT");
    weft_dist *x = NULL, *y = NULL;
    weft_dist_halo *h = NULL;
    OK(weft_dist_create(faulty, MPI_COMM_WORLD, WEFT_F32, N, NULL, &x));
    OK(weft_dist_create_like(x, WEFT_F32, &y));
    OK(weft_dist_halo_create(y, 1, &h));
    if (rank == victim) {
        weft_status st = weft_axpy(faulty, 1.0, weft_dist_local(x), weft_dist_local(y), NULL);
        CHECK(st == WEFT_ERR_DEVICE, "the faulty device's axpy: %s", weft_status_str(st));
    }
    weft_status begun = weft_dist_halo_begin(h), st = weft_dist_halo_end(h);
    if (rank == victim) {
        CHECK(begun == WEFT_ERR_DEVICE && st == WEFT_ERR_DEVICE, "begin %s, end %s",
              weft_status_str(begun), weft_status_str(st));
    } else if (rank == victim - 1 || rank == victim + 1) {
        char named[32];
        snprintf(named, sizeof named, "failed on rank %d", victim);
        CHECK(begun == WEFT_OK && st == WEFT_ERR_DEVICE && strstr(weft_mpi_last_error(), named),
              "a neighbour's end: %s, %s", weft_status_str(st), weft_mpi_last_error());
    } else {
        OK(st);
    }
    OK(weft_dist_halo_free(h));
    OK(weft_dist_free(y));
    OK(weft_dist_free(x));
    weft_ctx_free(faulty);
}

static void misuse_of_arrays(int checking)
{
    enum { N = 10000 };
    weft_dist *x = NULL, *y = NULL;
    weft_status st =
        weft_dist_create(ctx, MPI_COMM_WORLD, WEFT_F32, rank == last ? N + 1 : N, NULL, &x);
    if (nranks > 1) failed_everywhere(st, WEFT_ERR_SIZE, -1);
    OK(weft_dist_free(x));
    OK(weft_dist_create(ctx, MPI_COMM_WORLD, WEFT_F32, N, NULL, &x));
    float *all = calloc(N, sizeof *all);
    st = weft_dist_gather(x, rank == last ? 0 : nranks - 1, all);
    if (nranks > 1) failed_everywhere(st, WEFT_ERR_SIZE, -1);
    st = weft_dist_create(ctx, MPI_COMM_NULL, WEFT_F32, N, NULL, &y);
    CHECK(st == WEFT_ERR_INVALID_ARG, "MPI_COMM_NULL: %s", weft_status_str(st));
    if (nranks > 1) {
        MPI_Comm reversed;
        MPI_Comm_split(MPI_COMM_WORLD, 0, nranks - rank, &reversed);
        OK(weft_dist_create(ctx, reversed, WEFT_F32, N, NULL, &y));
        weft_dist_bind binds[] = {weft_dist_bind_array("x", x), weft_dist_bind_array("y", y)};
        weft_scalar s;
        st = weft_dist_reduce_expr(WEFT_SUM, "x + y", binds, 2, &s);
        failed_everywhere(st, WEFT_ERR_INVALID_ARG, -1);
        OK(weft_dist_free(y));
        MPI_Comm_free(&reversed);
    }
    /* A rank whose own arguments are bad (a NULL result) still takes part. */
    weft_scalar s;
    st = weft_dist_reduce(WEFT_SUM, x, rank == last ? NULL : &s);
    failed_everywhere(st, WEFT_ERR_NULL, last);
    if (checking && nranks > 1) {
        /* Rank 0 gathers while the others reduce: caught, not a hang. */
        st = rank == 0 ? weft_dist_gather(x, 0, all) : weft_dist_reduce(WEFT_SUM, x, &s);
        failed_everywhere(st, WEFT_ERR_STATE, -1);
        CHECK(strstr(weft_mpi_last_error(), "mismatched collectives"), "%s", weft_mpi_last_error());
        /* The same call with another operation, range or flags on the last
         * rank: caught, not a blend of the two. */
        st = weft_dist_reduce(rank == last ? WEFT_MAX : WEFT_SUM, x, &s);
        failed_everywhere(st, WEFT_ERR_SIZE, -1);
        uint64_t counts[4];
        st = weft_dist_histogram(x, 0.0, rank == last ? 2.0 : 1.0, 4, counts);
        failed_everywhere(st, WEFT_ERR_SIZE, -1);
        st = weft_dist_sort(x, NULL, rank == last ? WEFT_SORT_DESCENDING : 0);
        failed_everywhere(st, WEFT_ERR_SIZE, -1);
        CHECK(strstr(weft_mpi_last_error(), "with other arguments"), "%s", weft_mpi_last_error());
    }
    OK(weft_dist_reduce(WEFT_SUM, x, &s));
    CHECK(s.value.f32 == 0.0f, "sum %g", s.value.f32);
    OK(weft_dist_free(x));
    free(all);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    last = nranks - 1;
    const char *check = getenv("WEFT_MPI_CHECK");
    int checking = check && check[0] && strcmp(check, "0") != 0;
    OK(weft_ctx_create(NULL, &ctx));
    failing_launch();
    misuse_of_arrays(checking);
    halo_after_device_failure();
    weft_ctx_free(ctx);
    if (rank == 0) printf("test_mpi_errors: %d ranks%s: ok\n", nranks, checking ? ", checked" : "");
    MPI_Finalize();
    return 0;
}
