/*
 * weft_mpi: weft arrays distributed over the ranks of an MPI communicator
 * (library weft::mpi, pkg-config weft-mpi; docs/mpi.md).
 *
 * A distributed array holds N elements; each rank owns one contiguous block
 * of them as an ordinary weft_array on its own devices (weft_dist_local), so
 * every weft operation works on a rank's block unchanged. Blocks start on
 * multiples of WEFT_SUM_BLOCK, which lets the global reductions and scans
 * below give the bits one process gets from weft_reduce / weft_scan on the
 * whole array, for any number of ranks and any devices.
 *
 * Conventions, beside weft.h's:
 *  - Calls marked "collective" must be made by every rank of the array's
 *    communicator, in the same order. They fail on every rank alike: a rank
 *    whose own arguments are bad reports them, the others report
 *    "failed on rank R".
 *  - The detail of a failure is in weft_mpi_last_error() (weft_last_error()
 *    belongs to the core library; a failing core call's detail is copied).
 *  - MPI errors are returned (WEFT_ERR_IO with MPI's text), never fatal: each
 *    array communicates on its own duplicate of the communicator.
 *  - The caller initialises and finalises MPI. Blocking calls are made from
 *    one thread per rank.
 */
#ifndef WEFT_MPI_H
#define WEFT_MPI_H

#include <mpi.h>
#include <weft.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Detail of the last failure of a weft_mpi call on this thread ("" if none). */
WEFT_API const char *weft_mpi_last_error(void);

typedef struct weft_dist weft_dist;

/* How the N elements are split over the ranks: always in whole blocks of
 * WEFT_SUM_BLOCK elements (the last rank holding elements may hold a partial
 * block), in rank order. */
typedef enum weft_dist_split {
    WEFT_DIST_EVEN = 0, /* blocks as even as they go, earlier ranks one more */
    WEFT_DIST_MEASURED, /* by each rank's measured speed (a timed weft_map) */
    WEFT_DIST_WEIGHTED, /* by weight: each rank gives its own */
    WEFT_DIST_COUNTS    /* counts[]: elements per rank, the same on every rank */
} weft_dist_split;

typedef struct weft_dist_layout {
    weft_dist_split split;
    double weight;        /* WEIGHTED: this rank's share (>= 0; not all 0) */
    const size_t *counts; /* COUNTS: nranks entries summing to n; every rank
                             holding elements after another starts on a
                             multiple of WEFT_SUM_BLOCK */
} weft_dist_layout;

WEFT_API void weft_dist_layout_init(weft_dist_layout *layout);

/* Collective. A global array of n elements of dtype, zero-filled. layout
 * NULL: WEFT_DIST_EVEN. */
WEFT_API weft_status weft_dist_create(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, size_t n,
                                      const weft_dist_layout *layout, weft_dist **array);
/* Collective. As weft_dist_create, filled from root's n elements at data
 * (read on root only; the other ranks may pass NULL). */
WEFT_API weft_status weft_dist_scatter(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, size_t n,
                                       const weft_dist_layout *layout, const void *data, int root,
                                       weft_dist **array);
/* Collective. Each rank brings its own block: count elements at data (data
 * may be NULL when count is 0). The blocks, in rank order, are the global
 * array; they must start on multiples of WEFT_SUM_BLOCK (WEFT_ERR_INVALID_ARG). */
WEFT_API weft_status weft_dist_from_local(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype,
                                          size_t count, const void *data, weft_dist **array);
/* Collective. A zero-filled array with like's split and communicator. */
WEFT_API weft_status weft_dist_create_like(const weft_dist *like, weft_dtype dtype,
                                           weft_dist **array);
/* Collective (it frees the communicator's duplicate). NULL: WEFT_OK. The
 * local array must not be in use. */
WEFT_API weft_status weft_dist_free(weft_dist *array);

/* This rank's block as an ordinary weft_array, owned by the distributed array. */
WEFT_API weft_array *weft_dist_local(const weft_dist *array);
/* Global size, and this rank's block: elements [*offset, *offset + *count). */
WEFT_API weft_status weft_dist_size(const weft_dist *array, size_t *n);
WEFT_API weft_status weft_dist_local_range(const weft_dist *array, size_t *offset, size_t *count);
/* The elements rank `rank` holds (for any rank of the communicator). */
WEFT_API weft_status weft_dist_rank_range(const weft_dist *array, int rank, size_t *offset,
                                          size_t *count);

/* Collective. Every element into root's dst (n elements; ignored elsewhere). */
WEFT_API weft_status weft_dist_gather(weft_dist *array, int root, void *dst);
/* Collective. Every element into every rank's dst. */
WEFT_API weft_status weft_dist_allgather(weft_dist *array, void *dst);

/* A name bound to a distributed array or to a scalar (weft_bind's value). */
typedef struct weft_dist_bind {
    const char *name;
    weft_dist *array; /* NULL for a scalar */
    weft_dtype dtype;
    weft_value value;
} weft_dist_bind;

static inline weft_dist_bind weft_dist_bind_array(const char *name, weft_dist *array)
{
    weft_dist_bind b = {name, array, WEFT_F32, {0}};
    return b;
}
/* A scalar made with weft_bind_f64("a", 2.0) and its kin. */
static inline weft_dist_bind weft_dist_bind_scalar(weft_bind scalar)
{
    weft_dist_bind b = {scalar.name, NULL, scalar.dtype, scalar.value};
    return b;
}

/* Collective. The reduction of the whole array, on every rank: the same
 * weft_scalar, bit for bit, that one process gets from weft_reduce /
 * weft_reduce_expr on the global array (errors included: an integer sum that
 * overflows there overflows here). Arrays bound together must have one split.
 * The communicator is the bound arrays': a rank that binds none (or passes
 * x NULL) has none to reach the others with, so its error stays its own and
 * the others wait for it, as with any MPI collective one rank skips. */
WEFT_API weft_status weft_dist_reduce(weft_reduce_op op, weft_dist *x, weft_scalar *out);
WEFT_API weft_status weft_dist_reduce_expr(weft_reduce_op op, const char *expr,
                                           const weft_dist_bind *binds, size_t nbinds,
                                           weft_scalar *out);

/* Collective. The global prefix scan of x into y (y may be x), as weft_scan
 * on the whole array gives it, bit for bit. x and y must have one split.
 * Integer sums, minima and maxima scan each block in place and fix it up
 * with the carry of the ranks before; float sums, whose bits depend on the
 * carry each block starts from, are scanned on rank 0 (the data travels;
 * docs/mpi.md says why). */
WEFT_API weft_status weft_dist_scan(weft_reduce_op op, int exclusive, weft_dist *x, weft_dist *y);

/* Ghost (halo) exchange for stencils, begun and ended around computation.
 * `width` elements on each side: the left ghosts are global elements
 * [offset - width, offset), the right ones [offset + count, offset + count +
 * width), each in a weft_array of `width` elements. At the ends of the global
 * array the ghosts are not touched (write them for a boundary condition).
 * Ranks holding no elements take no part; every rank holding elements must
 * hold at least `width` of them. */
typedef struct weft_dist_halo weft_dist_halo;

/* Collective. */
WEFT_API weft_status weft_dist_halo_create(weft_dist *array, size_t width, weft_dist_halo **halo);
WEFT_API weft_status weft_dist_halo_free(weft_dist_halo *halo);
/* Reads this rank's edge elements (waiting for operations writing them) and
 * starts sending them; starts receiving the neighbours'. Returns without
 * waiting: compute what needs no ghosts meanwhile. */
WEFT_API weft_status weft_dist_halo_begin(weft_dist_halo *halo);
/* Waits for the exchange and writes the ghost arrays. A rank whose begin
 * failed (its edges could not be read) has still posted the exchange, with
 * its failure in it: call end there too, which returns that failure again;
 * the neighbours' end returns it as "failed on rank R" and writes no ghosts. */
WEFT_API weft_status weft_dist_halo_end(weft_dist_halo *halo);
WEFT_API weft_array *weft_dist_halo_left(const weft_dist_halo *halo);
WEFT_API weft_array *weft_dist_halo_right(const weft_dist_halo *halo);

/* Collective. The counts of weft_histogram(x, lo, hi) with nbins bins, into
 * every rank's counts[nbins]: each rank counts its block, the counts are
 * summed exactly (MPI_Allreduce of integers). */
WEFT_API weft_status weft_dist_histogram(weft_dist *x, double lo, double hi, size_t nbins,
                                         uint64_t *counts);
/* Collective. weft_sort of the whole array (keys, and values permuted with
 * them; values NULL or with keys' split), one process's order exactly. It is
 * gathered to rank 0, sorted there and scattered back: O(n) traffic, for
 * arrays that fit one rank (docs/mpi.md). */
WEFT_API weft_status weft_dist_sort(weft_dist *keys, weft_dist *values, unsigned flags);

/* User kernels across ranks (docs/mpi.md, "User kernels across ranks").
 *
 * A weft_dist_rows is a 1-D, 2-D or 3-D array split by rows (the outermost
 * index of a launch's range) over the ranks, as evenly as they go (earlier
 * ranks one more). Each rank's weft_array has the whole array's size, so a
 * kernel indexes it globally exactly as on one process; a rank keeps current
 * only its rows and the halo rows its launches fetch (weft's host storage is
 * zero pages until written: the rest costs address space, not memory). */
typedef struct weft_dist_rows weft_dist_rows;

/* Collective. rows x row_elems elements of dtype, zero-filled; every rank
 * passes the same shape (WEFT_ERR_SIZE otherwise). */
WEFT_API weft_status weft_dist_rows_create(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype,
                                           size_t rows, size_t row_elems, weft_dist_rows **array);
/* Collective. The same shape, split and communicator. */
WEFT_API weft_status weft_dist_rows_create_like(const weft_dist_rows *like, weft_dtype dtype,
                                                weft_dist_rows **array);
/* Collective. */
WEFT_API weft_status weft_dist_rows_free(weft_dist_rows *array);
/* Collective. Root's rows x row_elems elements at data into every rank's rows. */
WEFT_API weft_status weft_dist_rows_scatter(weft_dist_rows *array, int root, const void *data);
/* Collective. Every rank's rows into root's dst (rows x row_elems elements). */
WEFT_API weft_status weft_dist_rows_gather(weft_dist_rows *array, int root, void *dst);
/* The whole-size weft_array (current on this rank's rows only). */
WEFT_API weft_array *weft_dist_rows_array(const weft_dist_rows *array);
/* This rank's rows: [*first, *first + *count). */
WEFT_API weft_status weft_dist_rows_range(const weft_dist_rows *array, size_t *first,
                                          size_t *count);

/* An argument of a distributed launch: slices and halos name a
 * weft_dist_rows; whole arrays (the same on every rank: the caller's word),
 * scalars and local memory are weft_args as on one process. */
typedef struct weft_dist_arg {
    weft_arg arg;
    weft_dist_rows *rows;
} weft_dist_arg;

static inline weft_dist_arg weft_dist_arg_slice(weft_dist_rows *rows)
{
    weft_dist_arg a = {weft_arg_slice(NULL), rows};
    return a;
}
static inline weft_dist_arg weft_dist_arg_halo(weft_dist_rows *rows, size_t halo)
{
    weft_dist_arg a = {weft_arg_halo(NULL, halo), rows};
    return a;
}
/* weft_arg_whole(a), weft_arg_i32(n), weft_arg_local(bytes) and kin. */
static inline weft_dist_arg weft_dist_arg_plain(weft_arg arg)
{
    weft_dist_arg a = {arg, NULL};
    return a;
}

/* Collective over the communicator of the first weft_dist_rows argument.
 * Runs kernel `name` over range (its split dimension must have the arrays'
 * rows): each rank runs its own rows, with the kernel source and host_fn of
 * one process, split over its devices as weft_launch splits. Halo rows come
 * from the neighbouring ranks, sent and received while the rows that need no
 * ghosts run. Arrays bound together must share rows and communicator
 * (WEFT_ERR_INVALID_ARG); every rank holding rows must hold at least each
 * halo's width. Kernels that write outside their rows, or read the launch's
 * geometry (get_global_size and kin), cannot be distributed. Returns when
 * the launch is done on this rank. */
WEFT_API weft_status weft_dist_launch(weft_program *program, const char *name,
                                      const weft_range *range, const weft_dist_arg *args,
                                      size_t nargs, weft_host_fn host_fn, void *user);

/* Collective. weft_csv_run over the ranks (docs/mpi.md, "CSV files over
 * ranks"): rank 0 cuts the input at record boundaries (line ends outside
 * quotes) near equal byte offsets and types the parsed columns from the
 * first window, as one process does; each rank runs weft_csv_run on its
 * records (with the header) in a part file beside `output`; rank 0 joins the
 * parts, the header once, in a temporary file renamed onto `output` only when
 * every rank succeeded. The output is one process's, byte for byte. Job
 * reductions give every rank one process's results bit for bit: with them
 * the cuts fall after whole blocks of WEFT_SUM_BLOCK records, and the
 * blocks' partials are gathered and folded in file order. Every rank passes
 * the same arguments; the ranks must share a file system. Progress and
 * cancel act on each rank's part. stats
 * (may be NULL): rows, windows and bytes_read summed over the ranks (the
 * header is read once per rank), bytes_written the output's size, seconds
 * the call's wall time, the stage times this rank's. */
WEFT_API weft_status weft_dist_csv_run(weft_ctx *ctx, MPI_Comm comm, const char *input,
                                       const char *output, const weft_csv_options *options,
                                       weft_csv_job *job, weft_csv_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_MPI_H */
