/* A rank that runs out of memory inside a collective: allocation number k on
 * one rank fails, for every k the call makes, and every rank must return one
 * status (the others naming the failing rank), never wait forever for it;
 * when every rank succeeds the answer is the fault-free one. Allocations are
 * intercepted with the linker's --wrap, as tests/test_alloc_fail.c does, so
 * only weft's and weft::mpi's own calls fail (MPI's are its own). A hang
 * ends in SIGALRM, which takes the whole job down. A halo exchange is not
 * collective: only the neighbours of the failing rank hear of it (its begin
 * failing on a device is in test_mpi_errors.c: no allocation reaches it). */
#include "mpi_check.h"
#include "smooth_kernel.h"
#include "../../src/mpi/dist_sort.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);

static atomic_long calls, fail_at;
static atomic_int fired;

static int should_fail(void)
{
    long k = atomic_fetch_add(&calls, 1) + 1;
    if (atomic_load(&fail_at) != k) return 0;
    atomic_store(&fired, 1);
    return 1;
}

void *__wrap_malloc(size_t size)
{
    return should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return should_fail() ? NULL : __real_realloc(p, size);
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
    return should_fail() ? NULL : __real_aligned_alloc(align, size);
}

enum { N = 3 * 4096 + 5, MAX_K = 600 };

static weft_ctx *ctx;
static weft_dist *x, *y, *keys;
static weft_dist *made;        /* what a constructor made, freed after the checks */
static weft_dist *made_values; /* and its values */
static double whole[N];
static int64_t indices[N];

/* One collective under test: returns its status, and on success checks its
 * answer against the fault-free one it records on its first call. */
typedef weft_status (*collective)(int first);

static weft_status reduce_sum(int first)
{
    static weft_scalar want;
    weft_scalar s;
    weft_status st = weft_dist_reduce(WEFT_SUM, x, &s);
    if (st == WEFT_OK && first) want = s;
    if (st == WEFT_OK) CHECK(memcmp(&s, &want, sizeof s) == 0, "sum %.17g", s.value.f64);
    return st;
}

static weft_status reduce_argmin(int first)
{
    static weft_scalar want;
    weft_scalar s;
    weft_status st = weft_dist_reduce(WEFT_ARGMIN, x, &s);
    if (st == WEFT_OK && first) want = s;
    if (st == WEFT_OK) CHECK(s.index == want.index, "argmin %llu", (unsigned long long)s.index);
    return st;
}

static weft_status reduce_dot(int first)
{
    static weft_scalar want;
    weft_dist_bind b[] = {weft_dist_bind_array("x", x), weft_dist_bind_array("y", y)};
    weft_scalar s;
    weft_status st = weft_dist_reduce_expr(WEFT_SUM, "x * y", b, 2, &s);
    if (st == WEFT_OK && first) want = s;
    if (st == WEFT_OK) CHECK(memcmp(&s, &want, sizeof s) == 0, "dot %.17g", s.value.f64);
    return st;
}

static weft_status create_free(int first)
{
    (void)first;
    weft_status st = weft_dist_create(ctx, MPI_COMM_WORLD, WEFT_F32, N, NULL, &made);
    CHECK((st == WEFT_OK) == (made != NULL), "an array and %s", weft_status_str(st));
    return st;
}

static weft_status scatter_gather(int first)
{
    (void)first;
    static double back[N];
    weft_status st = weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F64, N, NULL, whole, 0, &made);
    if (st == WEFT_OK) {
        memset(back, 0, sizeof back);
        st = weft_dist_allgather(made, back);
        if (st == WEFT_OK) CHECK(memcmp(back, whole, sizeof back) == 0, "allgather");
    }
    return st;
}

static weft_status scan_float(int first)
{
    (void)first;
    return weft_dist_scan(WEFT_SUM, 0, x, y);
}

static weft_status histogram(int first)
{
    static uint64_t want[7];
    uint64_t counts[7];
    weft_status st = weft_dist_histogram(x, -1.0, 1.0, 7, counts);
    if (st == WEFT_OK && first) memcpy(want, counts, sizeof want);
    if (st == WEFT_OK) CHECK(memcmp(counts, want, sizeof want) == 0, "histogram");
    return st;
}

static weft_status sort(int first)
{
    (void)first;
    return weft_dist_sort(keys, NULL, 0);
}

/* The sample sort (the array is below the size weft_dist_sort samples at)
 * of fresh keys with their indices: a failure may leave an array half
 * written, so each call sorts a new one. */
static weft_status sort_sampled(int first)
{
    static double want[N], got[N];
    static int64_t want_v[N], got_v[N];
    weft_status st = weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F64, N, NULL, whole, 0, &made);
    if (st == WEFT_OK)
        st = weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_I64, N, NULL, indices, 0, &made_values);
    if (st == WEFT_OK)
        st = weft_dist_sort_by(made, made_values, WEFT_SORT_DESCENDING, DIST_SORT_SAMPLE);
    if (st == WEFT_OK) st = weft_dist_allgather(made, got);
    if (st == WEFT_OK) st = weft_dist_allgather(made_values, got_v);
    if (st != WEFT_OK) return st;
    if (first) {
        memcpy(want, got, sizeof want);
        memcpy(want_v, got_v, sizeof want_v);
    }
    CHECK(memcmp(got, want, sizeof got) == 0 && memcmp(got_v, want_v, sizeof got_v) == 0,
          "sample sort");
    return st;
}

/* Not collective: only the ranks next to the failing one hear of it. */
static weft_dist_halo *halo;
static weft_status begin_status;
static weft_status halo_exchange(int first)
{
    static double want[2];
    weft_status st = begin_status = weft_dist_halo_begin(halo), end = weft_dist_halo_end(halo);
    if (st == WEFT_OK) st = end;
    double got[2] = {0, 0};
    weft_array *left = weft_dist_halo_left(halo);
    if (st == WEFT_OK && rank > 0) st = weft_array_read(left, 0, 2, got);
    if (st == WEFT_OK && first) memcpy(want, got, sizeof want);
    if (st == WEFT_OK) CHECK(memcmp(got, want, sizeof got) == 0, "ghosts %g %g", got[0], got[1]);
    return st;
}

/* Rows made, scattered, a kernel with a halo over them, gathered. */
static weft_program *program;
static weft_status rows_launch(int first)
{
    enum { ROWS = 40 };
    static float want[ROWS];
    float ones[ROWS], out[ROWS];
    for (int i = 0; i < ROWS; i++)
        ones[i] = 1.0f + (float)i;
    static weft_dist_rows *keep[2];
    weft_dist_rows_free(keep[0]);
    weft_dist_rows_free(keep[1]);
    weft_dist_rows *a = NULL, *b = NULL;
    weft_status st = weft_dist_rows_create(ctx, MPI_COMM_WORLD, WEFT_F32, ROWS, 1, &a);
    if (st == WEFT_OK) st = weft_dist_rows_create_like(a, WEFT_F32, &b);
    if (st == WEFT_OK) st = weft_dist_rows_scatter(a, 0, ones);
    weft_range range = weft_range_1d(ROWS);
    weft_dist_arg args[] = {weft_dist_arg_halo(a, 1), weft_dist_arg_slice(b),
                            weft_dist_arg_plain(weft_arg_i32(ROWS))};
    if (st == WEFT_OK) st = weft_dist_launch(program, "smooth", &range, args, 3, smooth_host, NULL);
    if (st == WEFT_OK) st = weft_dist_rows_gather(b, 0, out);
    if (st == WEFT_OK && first && rank == 0) memcpy(want, out, sizeof want);
    if (st == WEFT_OK && rank == 0) CHECK(memcmp(out, want, sizeof out) == 0, "rows");
    keep[0] = a; /* freed by the next call: freeing clears the detail */
    keep[1] = b;
    return st;
}

/* A CSV file of two blocks of records and a few more, summed over ranks. */
static char csv_in[64], csv_out[80];
static weft_status csv_sum(int first)
{
    static weft_scalar want;
    weft_csv_reduction red = {WEFT_SUM, "a * 0.5", {0}};
    weft_csv_job job;
    memset(&job, 0, sizeof job);
    job.reductions = &red;
    job.nreductions = 1;
    weft_status st = weft_dist_csv_run(ctx, MPI_COMM_WORLD, csv_in, csv_out, NULL, &job, NULL);
    if (st == WEFT_OK && first) want = red.result;
    if (st == WEFT_OK)
        CHECK(memcmp(&red.result, &want, sizeof want) == 0, "csv sum %.17g", red.result.value.f64);
    return st;
}

static void write_csv(void)
{
    snprintf(csv_in, sizeof csv_in, "alloc-fail-np%d.csv", nranks);
    snprintf(csv_out, sizeof csv_out, "%s.out", csv_in);
    if (rank == 0) {
        FILE *f = fopen(csv_in, "w");
        CHECK(f != NULL, "cannot write %s", csv_in);
        fprintf(f, "a,b\n");
        for (int i = 0; i < 2 * 4096 + 7; i++)
            fprintf(f, "%d,%d\n", (int)(next_random() % 1000), i);
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* Arms allocation k (from now) on the victim rank, runs call and checks that
 * every rank returns the victim's status, naming it where that failed (with
 * neighbours: the ranks next to it get the status of its halo begin).
 * Returns whether the victim's k-th allocation was reached. */
static int one_fault(collective call, const char *name, int victim, long k, int neighbours)
{
    MPI_Barrier(MPI_COMM_WORLD);
    atomic_store(&fired, 0);
    if (getenv("WEFT_TEST_TRACE")) /* which call hangs, when one does */
        fprintf(stderr, "rank %d: %s, allocation %ld failing on rank %d\n", rank, name, k, victim);
    if (rank == victim) atomic_store(&fail_at, atomic_load(&calls) + k);
    weft_status st = call(0);
    atomic_store(&fail_at, 0);
    int hit = atomic_load(&fired), any_hit = 0, victims = 0;
    /* Collectives: every rank gets the victim's status; a halo: its
     * neighbours get the failure of its begin, the others succeed. */
    int told = !neighbours || rank == victim - 1 || rank == victim + 1;
    int mine = rank != victim ? 0 : neighbours ? (int)begin_status : (int)st;
    MPI_Allreduce(&hit, &any_hit, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &victims, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    weft_status want = told ? (weft_status)victims : WEFT_OK;
    CHECK(rank == victim || st == want,
          "%s, allocation %ld failing on rank %d: %s here, %s there (%s)", name, k, victim,
          weft_status_str(st), weft_status_str(want), weft_mpi_last_error());
    char named[32];
    snprintf(named, sizeof named, "failed on rank %d", victim);
    if (st != WEFT_OK && rank != victim)
        CHECK(strstr(weft_mpi_last_error(), named),
              "%s, allocation %ld: %s, \"%s\" names no rank %d", name, k, weft_status_str(st),
              weft_mpi_last_error(), victim);
    CHECK(any_hit || st == WEFT_OK, "%s: %s with no fault", name, weft_mpi_last_error());
    OK(weft_dist_free(made));
    OK(weft_dist_free(made_values));
    made = made_values = NULL;
    return any_hit;
}

static void sweep(collective call, const char *name, int neighbours)
{
    OK(call(1));
    OK(weft_dist_free(made));
    OK(weft_dist_free(made_values));
    made = made_values = NULL;
    int step = nranks > 1 ? nranks - 1 : 1; /* the first rank and the last */
    for (int victim = 0; victim < nranks; victim += step) {
        long k = 1;
        while (k <= MAX_K && one_fault(call, name, victim, k, neighbours))
            k++;
        CHECK(k <= MAX_K, "%s: more than %d allocations", name, MAX_K);
        OK(call(0)); /* and the next call works */
        OK(weft_dist_free(made));
        OK(weft_dist_free(made_values));
        made = made_values = NULL;
    }
}

int main(int argc, char **argv)
{
    alarm(240); /* a rank waiting forever fails the test */
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    for (size_t i = 0; i < N; i++)
        whole[i] = (double)(int64_t)(next_random() % 2001 - 1000) / 997.0;
    for (size_t i = 0; i < N; i++)
        indices[i] = (int64_t)i;
    OK(weft_ctx_create(NULL, &ctx));
    OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F64, N, NULL, whole, 0, &x));
    OK(weft_dist_create_like(x, WEFT_F64, &y));
    OK(weft_dist_scatter(ctx, MPI_COMM_WORLD, WEFT_F64, N, NULL, whole, 0, &keys));
    OK(weft_dist_scan(WEFT_SUM, 1, x, y));
    sweep(reduce_sum, "weft_dist_reduce SUM", 0);
    sweep(reduce_argmin, "weft_dist_reduce ARGMIN", 0);
    sweep(reduce_dot, "weft_dist_reduce_expr", 0);
    sweep(create_free, "weft_dist_create", 0);
    sweep(scatter_gather, "weft_dist_scatter", 0);
    sweep(scan_float, "weft_dist_scan", 0);
    sweep(histogram, "weft_dist_histogram", 0);
    sweep(sort, "weft_dist_sort", 0);
    sweep(sort_sampled, "weft_dist_sort (sample sort)", 0);
    OK(weft_dist_halo_create(x, 2, &halo));
    sweep(halo_exchange, "weft_dist_halo_begin/end", 1);
    OK(weft_dist_halo_free(halo));
    OK(weft_program_build(ctx, smooth_source, NULL, &program));
    sweep(rows_launch, "weft_dist_rows and weft_dist_launch", 0);
    rows_launch(0); /* frees the last call's rows */
    weft_program_free(program);
    write_csv();
    sweep(csv_sum, "weft_dist_csv_run", 0);
    if (rank == 0) remove(csv_in);
    if (rank == 0) remove(csv_out);
    weft_dist_free(keys);
    weft_dist_free(y);
    weft_dist_free(x);
    weft_ctx_free(ctx);
    if (rank == 0) printf("test_mpi_alloc_fail: %d ranks: ok (%d checks)\n", nranks, checks);
    MPI_Finalize();
    return 0;
}
