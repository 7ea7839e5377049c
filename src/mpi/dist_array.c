/* Creating and freeing distributed arrays; what a rank holds. */
#include "dist.h"
#include "collective_check.h"
#include "mpi_error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

void *weft_dist_host_alloc(size_t bytes)
{
    enum { PAGE = 4096 };
    size_t rounded = (bytes + PAGE - 1) / PAGE * PAGE;
    void *p = aligned_alloc(PAGE, rounded > 0 ? rounded : PAGE);
    if (p) memset(p, 0, rounded > 0 ? rounded : PAGE);
    return p;
}

weft_status weft_dist_check_int(size_t count, const char *what)
{
    if (count > INT_MAX)
        return weft_mpi_fail(WEFT_ERR_SIZE, "%s: %zu elements on one rank exceed MPI's int counts",
                             what, count);
    return WEFT_OK;
}

weft_status weft_dist_int_counts(const weft_dist *d, int **counts, int **displs)
{
    *counts = calloc(2 * (size_t)d->nranks, sizeof **counts);
    *displs = *counts ? *counts + d->nranks : NULL;
    if (!*counts) return weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate counts");
    for (int r = 0; r < d->nranks; r++) {
        (*counts)[r] = (int)d->counts[r];
        (*displs)[r] = (int)d->offsets[r];
    }
    return WEFT_OK;
}

static void destroy(weft_dist *d)
{
    if (!d) return;
    weft_array_free(d->local);
    if (d->element != MPI_DATATYPE_NULL) MPI_Type_free(&d->element);
    if (d->comm != MPI_COMM_NULL) MPI_Comm_free(&d->comm);
    free(d->host);
    free(d->scratch);
    free(d->counts); /* and the offsets after them */
    free(d);
}

/* Everything that can fail on one rank only; the caller agrees on it. */
static weft_status build_local(weft_dist *d, weft_ctx *ctx, weft_dtype dtype, const size_t *counts,
                               const void *local_data)
{
    d->ctx = ctx;
    d->dtype = dtype;
    d->elem_size = weft_dtype_size(dtype);
    if (d->elem_size == 0)
        return weft_mpi_fail(WEFT_ERR_DTYPE, "dtype %d is not a weft dtype", (int)dtype);
    d->counts = calloc(2 * (size_t)d->nranks, sizeof *d->counts); /* counts, then offsets */
    if (!d->counts) return weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate counts");
    d->offsets = d->counts + d->nranks;
    for (int r = 0; r < d->nranks; r++) {
        d->counts[r] = counts[r];
        d->offsets[r] = d->n;
        d->n += counts[r];
    }
    size_t count = counts[d->rank];
    RETURN_ON_ERROR(weft_dist_check_int(count, "weft_dist"));
    d->host = weft_dist_host_alloc(count * d->elem_size);
    if (!d->host)
        return weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate %zu elements of %s", count,
                             weft_dtype_name(dtype));
    if (local_data && count > 0) memcpy(d->host, local_data, count * d->elem_size);
    RETURN_ON_ERROR(weft_dist_scratch_make(d));
    CORE_TRY(weft_array_wrap(ctx, dtype, count, d->host, &d->local), "wrapping the local block");
    MPI_TRY(MPI_Type_contiguous((int)d->elem_size, MPI_BYTE, &d->element), "MPI_Type_contiguous");
    MPI_TRY(MPI_Type_commit(&d->element), "MPI_Type_commit");
    return WEFT_OK;
}

weft_status weft_dist_build(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, const size_t *counts,
                            const void *local_data, weft_dist **array)
{
    weft_dist *d = calloc(1, sizeof *d);
    weft_status st = d ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate an array");
    if (d) {
        d->comm = MPI_COMM_NULL;
        d->element = MPI_DATATYPE_NULL;
    }
    RETURN_ON_ERROR(weft_mpi_agree(comm, st));
    st = weft_mpi_dup_comm(comm, &d->comm, &d->rank, &d->nranks);
    if (st == WEFT_OK) st = build_local(d, ctx, dtype, counts, local_data);
    st = weft_mpi_agree(comm, st);
    if (st != WEFT_OK) {
        destroy(d);
        return st;
    }
    *array = d;
    return WEFT_OK;
}

/* A collective constructor under way: counts (one per rank, nranks of
 * them) and this rank's own verdict on its arguments, which the caller
 * shares with the other ranks before acting on it. */
typedef struct creation {
    int nranks;
    size_t *counts;
    weft_status local;
} creation;

/* The start of a collective constructor named what. It returns early on what
 * every rank sees alike (a bad communicator, a mismatched collective call);
 * otherwise c->counts is allocated (the caller frees it) and c->local set. */
static weft_status begin_create(weft_ctx *ctx, MPI_Comm comm, const char *what, size_t n,
                                weft_dist **array, creation *c)
{
    weft_mpi_clear_error();
    RETURN_ON_ERROR(weft_mpi_check_comm(comm));
    MPI_TRY(MPI_Comm_size(comm, &c->nranks), "MPI_Comm_size");
    RETURN_ON_ERROR(weft_mpi_check_collective(comm, what, n));
    c->counts = calloc((size_t)c->nranks, sizeof *c->counts);
    c->local = WEFT_OK;
    if (!ctx || !array)
        c->local = weft_mpi_fail(WEFT_ERR_NULL, "context or output handle is NULL");
    else
        *array = NULL;
    if (c->local == WEFT_OK && !c->counts)
        c->local = weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate counts");
    return WEFT_OK;
}

weft_status weft_dist_create(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, size_t n,
                             const weft_dist_layout *layout, weft_dist **array)
{
    creation c;
    RETURN_ON_ERROR(begin_create(ctx, comm, "weft_dist_create", n, array, &c));
    weft_status st =
        weft_mpi_same_everywhere(comm, c.local, "the size and dtype", n, (unsigned long long)dtype);
    if (st == WEFT_OK) st = weft_dist_plan(ctx, comm, n, layout, c.counts);
    if (st == WEFT_OK) st = weft_dist_build(ctx, comm, dtype, c.counts, NULL, array);
    free(c.counts);
    return st;
}

weft_status weft_dist_create_like(const weft_dist *like, weft_dtype dtype, weft_dist **array)
{
    weft_mpi_clear_error();
    if (!like || !array) return weft_mpi_fail(WEFT_ERR_NULL, "array or output handle is NULL");
    *array = NULL;
    RETURN_ON_ERROR(weft_mpi_check_collective(like->comm, "weft_dist_create_like", 0));
    return weft_dist_build(like->ctx, like->comm, dtype, like->counts, NULL, array);
}

weft_status weft_dist_from_local(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, size_t count,
                                 const void *data, weft_dist **array)
{
    creation c;
    RETURN_ON_ERROR(begin_create(ctx, comm, "weft_dist_from_local", 0, array, &c));
    weft_status st = c.local;
    if (st == WEFT_OK && !data && count > 0) st = weft_mpi_fail(WEFT_ERR_NULL, "data is NULL");
    st = weft_mpi_same_everywhere(comm, st, "the dtype", (unsigned long long)dtype, 0);
    if (st != WEFT_OK) {
        free(c.counts);
        return st;
    }
    unsigned long long mine = count, *all = (unsigned long long *)calloc((size_t)c.nranks, 8);
    int rc =
        all ? MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG, comm)
            : MPI_ERR_NO_MEM;
    if (rc == MPI_SUCCESS) {
        size_t n = 0;
        for (int r = 0; r < c.nranks; r++) {
            c.counts[r] = (size_t)all[r];
            n += c.counts[r];
        }
        weft_dist_layout given = {WEFT_DIST_COUNTS, 1.0, c.counts};
        st = weft_dist_plan(ctx, comm, n, &given, c.counts);
        if (st == WEFT_OK) st = weft_dist_build(ctx, comm, dtype, c.counts, data, array);
    } else {
        st = weft_mpi_fail_mpi(rc, "gathering the ranks' counts");
    }
    free(all);
    free(c.counts);
    return st;
}

weft_status weft_dist_discard(weft_dist *array)
{
    if (!array) return WEFT_OK;
    weft_status st = weft_array_free(array->local);
    array->local = NULL;
    destroy(array);
    return st;
}

weft_status weft_dist_free(weft_dist *array)
{
    weft_mpi_clear_error();
    weft_status st = weft_dist_discard(array);
    return st == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(st, "weft_dist_free");
}

weft_array *weft_dist_local(const weft_dist *array)
{
    return array ? array->local : NULL;
}

weft_status weft_dist_size(const weft_dist *array, size_t *n)
{
    if (!array || !n) return weft_mpi_fail(WEFT_ERR_NULL, "weft_dist_size: NULL argument");
    *n = array->n;
    return WEFT_OK;
}

weft_status weft_dist_rank_range(const weft_dist *array, int rank, size_t *offset, size_t *count)
{
    if (!array || !offset || !count)
        return weft_mpi_fail(WEFT_ERR_NULL, "weft_dist_rank_range: NULL argument");
    if (rank < 0 || rank >= array->nranks)
        return weft_mpi_fail(WEFT_ERR_RANGE, "rank %d of %d", rank, array->nranks);
    *offset = array->offsets[rank];
    *count = array->counts[rank];
    return WEFT_OK;
}

weft_status weft_dist_local_range(const weft_dist *array, size_t *offset, size_t *count)
{
    if (!array) return weft_mpi_fail(WEFT_ERR_NULL, "weft_dist_local_range: array is NULL");
    return weft_dist_rank_range(array, array->rank, offset, count);
}
