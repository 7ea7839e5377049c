/* Global scans with one process's bits.
 *
 * Integer sums (wrapping in the dtype), minima and maxima are associative and
 * exact: each rank scans its block, and the carry of the ranks before it
 * (their totals folded in rank order) is combined into every element.
 *
 * Float sums are not: one process starts each block's accumulators from the
 * carry of all blocks before it and adds element by element, so an element's
 * bits depend on the exact carry, and the public API cannot start a scan from
 * a given carry. They are scanned where one process would scan them: the
 * array is gathered to rank 0, scanned there, and scattered back. */
#include "dist.h"
#include "collective_check.h"
#include "mpi_error.h"
#include "partials.h"
#include "../core/values.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef weft_acc64 carry;

static int is_float(weft_dtype t)
{
    return t == WEFT_F32 || t == WEFT_F64;
}

static int is_signed(weft_dtype t)
{
    return t == WEFT_I32 || t == WEFT_I64;
}

/* a then b, as one process's scan combines its running value with the next:
 * b replaces a only when strictly better. */
static carry combine(weft_reduce_op op, weft_dtype t, carry a, carry b)
{
    if (op == WEFT_SUM) {
        a.u += b.u; /* integers only: wraps, then weft_store_acc truncates to the dtype */
        return a;
    }
    int min = op == WEFT_MIN, take;
    if (is_float(t))
        take = min ? weft_dist_less_f(b.f, a.f) : weft_dist_greater_f(b.f, a.f);
    else if (is_signed(t))
        take = min ? b.i < a.i : b.i > a.i;
    else
        take = min ? b.u < a.u : b.u > a.u;
    return take ? b : a;
}

static carry identity(weft_reduce_op op, weft_dtype t)
{
    carry c = {.u = weft_fold_identity(op, t)};
    return c;
}

/* Scans the local block, then folds in the carry of the ranks before. */
static weft_status scan_with_carry(weft_reduce_op op, int exclusive, weft_dist *x, weft_dist *y)
{
    size_t count = x->counts[x->rank];
    weft_dtype t = x->dtype;
    void *buf = count > 0 ? malloc(count * x->elem_size) : NULL;
    weft_status st =
        count == 0 || buf ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for the block");
    carry last_x = identity(op, t), total = identity(op, t);
    if (st == WEFT_OK && count > 0 && exclusive) { /* the element an exclusive scan leaves out */
        weft_status r = weft_array_read(x->local, count - 1, 1, buf);
        st = r == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(r, "reading the block's last element");
        if (st == WEFT_OK) last_x = weft_load_acc(buf, t, 0);
    }
    if (st == WEFT_OK && count > 0) {
        weft_status r = weft_scan(x->ctx, op, exclusive, x->local, y->local, NULL);
        if (r == WEFT_OK) r = weft_array_read(y->local, 0, count, buf);
        st = r == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(r, "scanning the local block");
        if (st == WEFT_OK) total = combine(op, t, weft_load_acc(buf, t, count - 1), last_x);
    }
    st = weft_mpi_agree(x->comm, st);
    carry *totals = st == WEFT_OK ? calloc((size_t)x->nranks, sizeof *totals) : NULL;
    if (st == WEFT_OK && !totals) st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for totals");
    st = weft_mpi_agree(x->comm, st);
    if (st == WEFT_OK) {
        int rc = MPI_Allgather(&total, 8, MPI_BYTE, totals, 8, MPI_BYTE, x->comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "gathering block totals");
    }
    if (st == WEFT_OK && count > 0 && x->rank > 0) {
        carry c = identity(op, t);
        for (int r = 0; r < x->rank; r++)
            if (x->counts[r] > 0) c = combine(op, t, c, totals[r]);
        for (size_t k = 0; k < count; k++)
            weft_store_acc(buf, t, k, combine(op, t, c, weft_load_acc(buf, t, k)));
        weft_status r = weft_array_write(y->local, 0, count, buf);
        if (r != WEFT_OK) st = weft_mpi_fail_core(r, "writing the scanned block");
    }
    free(totals);
    free(buf);
    return weft_mpi_agree(x->comm, st);
}

/* Float sums: scanned on rank 0 as one process scans them. */
static weft_status scan_on_root(weft_reduce_op op, int exclusive, weft_dist *x, weft_dist *y)
{
    void *whole = x->rank == 0 ? malloc(x->n > 0 ? x->n * x->elem_size : 1) : NULL;
    weft_status st =
        x->rank != 0 || whole ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory on rank 0");
    RETURN_ON_ERROR(weft_mpi_agree(x->comm, st));
    st = weft_dist_gather(x, 0, whole);
    if (st == WEFT_OK && x->rank == 0 && x->n > 0) {
        weft_array *a = NULL;
        weft_status r = weft_array_wrap(x->ctx, x->dtype, x->n, whole, &a);
        if (r == WEFT_OK) r = weft_scan(x->ctx, op, exclusive, a, a, NULL);
        if (r == WEFT_OK) r = weft_array_sync(a);
        weft_array_free(a);
        if (r != WEFT_OK) st = weft_mpi_fail_core(r, "scanning on rank 0");
    }
    st = weft_mpi_agree(x->comm, st);
    if (st == WEFT_OK) {
        size_t count = y->counts[y->rank];
        void *buf = malloc(count > 0 ? count * y->elem_size : 1);
        int *counts = NULL, *displs = NULL;
        st = buf ? weft_dist_int_counts(y, &counts, &displs)
                 : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory");
        st = weft_mpi_agree(x->comm, st);
        if (st == WEFT_OK) {
            int rc = MPI_Scatterv(whole, counts, displs, y->element, buf, (int)count, y->element, 0,
                                  y->comm);
            if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "MPI_Scatterv");
        }
        if (st == WEFT_OK && count > 0) {
            weft_status r = weft_array_write(y->local, 0, count, buf);
            if (r != WEFT_OK) st = weft_mpi_fail_core(r, "writing the scanned block");
        }
        free(buf);
        free(counts); /* and displs */
        st = weft_mpi_agree(x->comm, st);
    }
    free(whole);
    return st;
}

weft_status weft_dist_scan(weft_reduce_op op, int exclusive, weft_dist *x, weft_dist *y)
{
    weft_mpi_clear_error();
    if (!x || !y) return weft_mpi_fail(WEFT_ERR_NULL, "x or y is NULL");
    RETURN_ON_ERROR(weft_mpi_check_collective(x->comm, "weft_dist_scan", (unsigned long long)op));
    weft_status st = WEFT_OK;
    if (op != WEFT_SUM && op != WEFT_MIN && op != WEFT_MAX)
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "scans are WEFT_SUM, WEFT_MIN or WEFT_MAX");
    else if (!weft_dist_same_split(x, y) || x->dtype != y->dtype)
        st = weft_mpi_fail(WEFT_ERR_INVALID_ARG, "x and y differ in split, dtype or context");
    RETURN_ON_ERROR(weft_mpi_agree(x->comm, st));
    if (op == WEFT_SUM && is_float(x->dtype)) return scan_on_root(op, exclusive, x, y);
    return scan_with_carry(op, exclusive, x, y);
}
