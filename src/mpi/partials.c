#include "partials.h"
#include "mpi_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int weft_dist_op_per_block(weft_reduce_op op)
{
    return op == WEFT_SUM || op == WEFT_PROD;
}

dist_partial weft_dist_partial_of(const weft_scalar *s, uint64_t index_offset)
{
    dist_partial p = {0, s->index + index_offset, (int32_t)s->dtype, PARTIAL_HAVE};
    memcpy(&p.bits, &s->value, sizeof p.bits < sizeof s->value ? sizeof p.bits : sizeof s->value);
    return p;
}

dist_partial weft_dist_status_partial(int rank, weft_status st)
{
    dist_partial p = {(uint64_t)(int64_t)st, (uint64_t)rank, -1, PARTIAL_STATUS};
    return p;
}

weft_status weft_dist_settle(int rank, dist_partial *p, size_t *n, weft_status local)
{
    int failed = -1;
    weft_status first = WEFT_OK;
    size_t kept = 0;
    for (size_t k = 0; k < *n; k++) {
        if (!(p[k].flags & PARTIAL_STATUS)) {
            p[kept++] = p[k];
        } else if (failed < 0 && (weft_status)(int64_t)p[k].bits != WEFT_OK) {
            failed = (int)p[k].index;
            first = (weft_status)(int64_t)p[k].bits;
        }
    }
    *n = kept;
    return weft_mpi_settle(rank, failed, first, local);
}

static weft_value value_of(const dist_partial *p)
{
    weft_value v;
    memset(&v, 0, sizeof v);
    memcpy(&v, &p->bits, sizeof p->bits < sizeof v ? sizeof p->bits : sizeof v);
    return v;
}

int weft_dist_less_f(double a, double b)
{
    if (isnan(a)) return !isnan(b);
    return !isnan(b) && (a < b || (a == b && signbit(a) && !signbit(b)));
}

int weft_dist_greater_f(double a, double b)
{
    if (isnan(a)) return !isnan(b);
    return !isnan(b) && (a > b || (a == b && !signbit(a) && signbit(b)));
}

/* Is x strictly better than the best so far? Ties keep the earlier one. */
static int better(weft_reduce_op op, const dist_partial *x, const dist_partial *best)
{
    int want_less = op == WEFT_MIN || op == WEFT_ARGMIN;
    weft_scalar a = {(weft_dtype)x->dtype, value_of(x), 0};
    weft_scalar b = {(weft_dtype)best->dtype, value_of(best), 0};
    switch (a.dtype) {
    case WEFT_F32:
    case WEFT_F64: {
        double fa = weft_scalar_as_double(&a), fb = weft_scalar_as_double(&b);
        return want_less ? weft_dist_less_f(fa, fb) : weft_dist_greater_f(fa, fb);
    }
    case WEFT_I32:
    case WEFT_I64: {
        int64_t ia = a.dtype == WEFT_I32 ? a.value.i32 : a.value.i64;
        int64_t ib = b.dtype == WEFT_I32 ? b.value.i32 : b.value.i64;
        return want_less ? ia < ib : ia > ib;
    }
    default: {
        uint64_t ua = a.dtype == WEFT_U64   ? a.value.u64
                      : a.dtype == WEFT_U32 ? a.value.u32
                                            : a.value.u8;
        uint64_t ub = b.dtype == WEFT_U64   ? b.value.u64
                      : b.dtype == WEFT_U32 ? b.value.u32
                                            : b.value.u8;
        return want_less ? ua < ub : ua > ub;
    }
    }
}

static weft_status combine_sum_prod(weft_reduce_op op, const dist_partial *p, size_t n,
                                    weft_scalar *out)
{
    weft_dtype rt = op == WEFT_PROD ? WEFT_F64 : WEFT_DTYPE_COUNT;
    int overflow = 0;
    for (size_t k = 0; k < n; k++) {
        overflow |= (p[k].flags & PARTIAL_OVERFLOW) != 0;
        if (p[k].flags & PARTIAL_HAVE) rt = (weft_dtype)p[k].dtype;
    }
    out->dtype = rt;
    if (rt == WEFT_F64) {
        double total = op == WEFT_PROD ? 1.0 : 0.0;
        for (size_t k = 0; k < n; k++) {
            double v = value_of(&p[k]).f64;
            total = op == WEFT_PROD ? total * v : total + v;
        }
        out->value.f64 = total;
        return WEFT_OK;
    }
    uint64_t s = 0;
    for (size_t k = 0; k < n && !overflow; k++) {
        if (rt == WEFT_I64) {
            int64_t v;
            overflow |= __builtin_add_overflow((int64_t)s, (int64_t)p[k].bits, &v);
            s = (uint64_t)v;
        } else {
            overflow |= __builtin_add_overflow(s, p[k].bits, &s);
        }
    }
    if (overflow)
        return weft_mpi_fail(WEFT_ERR_RANGE, "integer sum overflows %s",
                             rt == WEFT_I64 ? "a signed 64-bit result"
                                            : "an unsigned 64-bit result");
    if (rt == WEFT_I64)
        out->value.i64 = (int64_t)s;
    else
        out->value.u64 = s;
    return WEFT_OK;
}

weft_status weft_dist_combine(weft_reduce_op op, const dist_partial *p, size_t n, weft_scalar *out)
{
    memset(out, 0, sizeof *out);
    if (weft_dist_op_per_block(op)) return combine_sum_prod(op, p, n, out);
    const dist_partial *best = NULL;
    int any = 0, all = 1;
    for (size_t k = 0; k < n; k++) {
        if (!(p[k].flags & PARTIAL_HAVE)) continue;
        any |= value_of(&p[k]).i32 != 0;
        all &= value_of(&p[k]).i32 != 0;
        if (!best || better(op, &p[k], best)) best = &p[k];
    }
    if (op == WEFT_ANY || op == WEFT_ALL) {
        out->dtype = WEFT_I32;
        out->value.i32 = op == WEFT_ANY ? any : all;
        return WEFT_OK;
    }
    if (!best) return weft_mpi_fail(WEFT_ERR_SIZE, "no rank holds an element");
    out->dtype = (weft_dtype)best->dtype;
    out->value = value_of(best);
    out->index = best->index;
    return WEFT_OK;
}

/* Every rank's partials, in rank order, on every rank. Each allocation is
 * agreed on before the collective it feeds, so a rank out of memory fails
 * every rank instead of leaving them in an exchange it never enters. */
weft_status weft_dist_gather_partials(MPI_Comm comm, int nranks, const dist_partial *mine,
                                      size_t nmine, dist_partial **all, size_t *nall)
{
    int *counts = calloc(2 * (size_t)nranks, sizeof *counts);
    int *displs = counts ? counts + nranks : NULL;
    int bytes = (int)(nmine * sizeof *mine);
    *all = NULL;
    *nall = 0;
    weft_status st = weft_mpi_agree(
        comm, counts ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for counts"));
    int rc =
        st == WEFT_OK ? MPI_Allgather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, comm) : MPI_SUCCESS;
    if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "gathering partial counts");
    size_t total = 0;
    for (int r = 0; st == WEFT_OK && r < nranks; r++) {
        displs[r] = (int)total;
        total += (size_t)counts[r];
    }
    if (st == WEFT_OK) {
        *all = malloc(total > 0 ? total : 1);
        st = weft_mpi_agree(comm, *all ? WEFT_OK
                                       : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for partials"));
    }
    if (st == WEFT_OK) {
        rc = MPI_Allgatherv(mine, bytes, MPI_BYTE, *all, counts, displs, MPI_BYTE, comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "gathering partials");
        *nall = total / sizeof **all;
    }
    free(counts);
    return st;
}
