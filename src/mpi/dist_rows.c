/* Arrays distributed by rows for user kernels: every rank's weft_array has
 * the whole range's size, so a kernel indexes it globally as on one process,
 * but a rank only ever touches its own rows and their halos (weft's host
 * storage is zero pages until written, so the rest costs address space, not
 * memory). Rows are split as evenly as they go, earlier ranks one more. */
#include "dist_rows.h"
#include "collective_check.h"
#include "mpi_error.h"

#include <stdlib.h>
#include <string.h>

int weft_dist_rows_neighbour(const weft_dist_rows *a, int step)
{
    return weft_mpi_neighbour(a->count, a->nranks, a->rank, step);
}

static void destroy(weft_dist_rows *a)
{
    if (!a) return;
    weft_array_free(a->array);
    if (a->row != MPI_DATATYPE_NULL) MPI_Type_free(&a->row);
    if (a->comm != MPI_COMM_NULL) MPI_Comm_free(&a->comm);
    free(a->first); /* and the counts after them */
    free(a);
}

static weft_status build_local(weft_dist_rows *a, weft_ctx *ctx, weft_dtype dtype, size_t rows,
                               size_t row_elems)
{
    size_t elem = weft_dtype_size(dtype);
    if (!ctx) return weft_mpi_fail(WEFT_ERR_NULL, "context is NULL");
    if (elem == 0) return weft_mpi_fail(WEFT_ERR_DTYPE, "dtype %d is not a weft dtype", (int)dtype);
    if (rows == 0 || row_elems == 0)
        return weft_mpi_fail(WEFT_ERR_SIZE, "%zu rows of %zu elements: nothing to hold", rows,
                             row_elems);
    if (row_elems > (size_t)-1 / elem / rows)
        return weft_mpi_fail(WEFT_ERR_SIZE, "%zu rows of %zu elements overflow", rows, row_elems);
    if (rows > 2147483647u || row_elems * elem > 2147483647u)
        return weft_mpi_fail(WEFT_ERR_SIZE, "rows or row bytes exceed MPI's int counts");
    a->ctx = ctx;
    a->dtype = dtype;
    a->rows = rows;
    a->row_elems = row_elems;
    a->row_bytes = row_elems * elem;
    a->first = calloc(2 * (size_t)a->nranks, sizeof *a->first); /* first, then count */
    if (!a->first) return weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate counts");
    a->count = a->first + a->nranks;
    size_t at = 0;
    for (int r = 0; r < a->nranks; r++) {
        a->first[r] = at;
        a->count[r] = rows / (size_t)a->nranks + ((size_t)r < rows % (size_t)a->nranks);
        at += a->count[r];
    }
    CORE_TRY(weft_array_create(ctx, dtype, rows * row_elems, &a->array), "creating the rows");
    MPI_TRY(MPI_Type_contiguous((int)a->row_bytes, MPI_BYTE, &a->row), "MPI_Type_contiguous");
    MPI_TRY(MPI_Type_commit(&a->row), "MPI_Type_commit");
    return WEFT_OK;
}

weft_status weft_dist_rows_create(weft_ctx *ctx, MPI_Comm comm, weft_dtype dtype, size_t rows,
                                  size_t row_elems, weft_dist_rows **array)
{
    weft_mpi_clear_error();
    RETURN_ON_ERROR(weft_mpi_check_comm(comm)); /* a rank outside the communicator reaches nobody */
    RETURN_ON_ERROR(weft_mpi_check_collective(comm, "weft_dist_rows_create", rows));
    weft_dist_rows *a = array ? calloc(1, sizeof *a) : NULL;
    weft_status st = !array ? weft_mpi_fail(WEFT_ERR_NULL, "output handle is NULL")
                     : !a   ? weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate an array")
                            : WEFT_OK;
    if (array) *array = NULL;
    st = weft_mpi_agree(comm, st);
    if (st != WEFT_OK) {
        free(a);
        return st;
    }
    a->comm = MPI_COMM_NULL;
    a->row = MPI_DATATYPE_NULL;
    st = weft_mpi_dup_comm(comm, &a->comm, &a->rank, &a->nranks);
    if (st == WEFT_OK) st = build_local(a, ctx, dtype, rows, row_elems);
    /* Every rank must mean the same global array. */
    unsigned long long mine[2] = {rows, row_elems}, low[2] = {0, 0}, high[2] = {0, 0};
    if (MPI_Allreduce(mine, low, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm) != MPI_SUCCESS ||
        MPI_Allreduce(mine, high, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm) != MPI_SUCCESS)
        st = weft_mpi_fail(WEFT_ERR_IO, "comparing the ranks' shapes");
    else if (st == WEFT_OK && memcmp(low, high, sizeof low) != 0)
        st = weft_mpi_fail(WEFT_ERR_SIZE,
                           "the ranks disagree on the shape: rows %llu to %llu, row elements "
                           "%llu to %llu",
                           low[0], high[0], low[1], high[1]);
    st = weft_mpi_agree(comm, st);
    if (st != WEFT_OK) {
        destroy(a);
        return st;
    }
    *array = a;
    return WEFT_OK;
}

weft_status weft_dist_rows_create_like(const weft_dist_rows *like, weft_dtype dtype,
                                       weft_dist_rows **array)
{
    weft_mpi_clear_error();
    if (!like) return weft_mpi_fail(WEFT_ERR_NULL, "array is NULL");
    return weft_dist_rows_create(like->ctx, like->comm, dtype, like->rows, like->row_elems, array);
}

weft_status weft_dist_rows_free(weft_dist_rows *array)
{
    weft_mpi_clear_error();
    destroy(array);
    return WEFT_OK;
}

weft_array *weft_dist_rows_array(const weft_dist_rows *array)
{
    return array ? array->array : NULL;
}

weft_status weft_dist_rows_range(const weft_dist_rows *array, size_t *first, size_t *count)
{
    if (!array || !first || !count)
        return weft_mpi_fail(WEFT_ERR_NULL, "weft_dist_rows_range: NULL argument");
    *first = array->first[array->rank];
    *count = array->count[array->rank];
    return WEFT_OK;
}

static weft_status int_rows(const weft_dist_rows *a, int **counts, int **displs)
{
    *counts = calloc(2 * (size_t)a->nranks, sizeof **counts); /* counts, then displs */
    *displs = *counts ? *counts + a->nranks : NULL;
    if (!*counts) return weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate counts");
    for (int r = 0; r < a->nranks; r++) {
        (*counts)[r] = (int)a->count[r];
        (*displs)[r] = (int)a->first[r];
    }
    return WEFT_OK;
}

/* The start of a scatter or gather of rows: this rank's rows' buffer, the
 * ranks' counts and displacements, and the root and its buffer checked. */
static weft_status exchange_begin(const weft_dist_rows *a, int root, const void *root_buffer,
                                  const char *buffer_name, void **rows, int **counts, int **displs)
{
    *rows = malloc(a->count[a->rank] * a->row_bytes + 1);
    weft_status st =
        *rows ? int_rows(a, counts, displs) : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory");
    if (st == WEFT_OK && (root < 0 || root >= a->nranks))
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "root %d of %d ranks", root, a->nranks);
    if (st == WEFT_OK && a->rank == root && !root_buffer)
        st = weft_mpi_fail(WEFT_ERR_NULL, "%s is NULL", buffer_name);
    return st;
}

/* Scatters the root's data into the ranks' rows, or (gather) gathers the
 * ranks' rows into the root's dst. */
static weft_status exchange(weft_dist_rows *a, int root, const void *data, void *dst, int gather)
{
    weft_mpi_clear_error();
    if (!a) return weft_mpi_fail(WEFT_ERR_NULL, "array is NULL");
    RETURN_ON_ERROR(weft_mpi_check_collective(
        a->comm, gather ? "weft_dist_rows_gather" : "weft_dist_rows_scatter", a->rows));
    int *counts = NULL, *displs = NULL;
    size_t mine = a->count[a->rank], at = a->first[a->rank] * a->row_elems;
    void *rows = NULL;
    weft_status st =
        gather ? exchange_begin(a, root, dst, "the root's destination", &rows, &counts, &displs)
               : exchange_begin(a, root, data, "the root's data", &rows, &counts, &displs);
    if (gather && st == WEFT_OK && mine > 0) {
        weft_status r = weft_array_read(a->array, at, mine * a->row_elems, rows);
        if (r != WEFT_OK) st = weft_mpi_fail_core(r, "reading the rows");
    }
    st = weft_mpi_same_everywhere(a->comm, st, "the root", (unsigned long long)root, 0);
    if (st == WEFT_OK && gather) {
        int rc = MPI_Gatherv(rows, (int)mine, a->row, dst, counts, displs, a->row, root, a->comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "MPI_Gatherv");
    } else if (st == WEFT_OK) {
        int rc = MPI_Scatterv(data, counts, displs, a->row, rows, (int)mine, a->row, root, a->comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "MPI_Scatterv");
        if (st == WEFT_OK && mine > 0) {
            weft_status w = weft_array_write(a->array, at, mine * a->row_elems, rows);
            if (w != WEFT_OK) st = weft_mpi_fail_core(w, "writing the rows");
        }
        st = weft_mpi_agree(a->comm, st);
    }
    free(rows);
    free(counts); /* and displs */
    return st;
}

weft_status weft_dist_rows_scatter(weft_dist_rows *array, int root, const void *data)
{
    return exchange(array, root, data, NULL, 0);
}

weft_status weft_dist_rows_gather(weft_dist_rows *array, int root, void *dst)
{
    return exchange(array, root, NULL, dst, 1);
}
