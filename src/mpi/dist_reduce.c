/* Global reductions with one process's bits. One process reduces each block
 * of WEFT_SUM_BLOCK elements to a partial and folds the partials left to
 * right (src/ops/reduction.c). Rank blocks start on block boundaries, so each
 * rank forms exactly one process's blocks; it computes their partials, every
 * rank gathers all of them and folds them in the same order.
 *
 * Each block's partial is what weft_reduce_expr gives over that block
 * alone, all of a rank's blocks made in one pass by weft_reduce_expr_blocks
 * (exported by libweft for this layer, src/ops/reduction_blocks.h). */
#include "dist.h"
#include "collective_check.h"
#include "mpi_error.h"
#include "partials.h"
#include "../ops/reduction_blocks.h"

#include <stdlib.h>

typedef struct reduce_call {
    weft_reduce_op op;
    const char *expr;
    const weft_dist_bind *binds;
    size_t nbinds;
    weft_dist *first; /* the first array bound: split, context, communicator */
} reduce_call;

static weft_status check_binds(reduce_call *c)
{
    if (c->nbinds > 0 && !c->binds) return weft_mpi_fail(WEFT_ERR_NULL, "binds is NULL");
    if (c->nbinds > 64) return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "%zu bindings", c->nbinds);
    for (size_t k = 0; k < c->nbinds; k++) {
        weft_dist *a = c->binds[k].array;
        if (!a) continue;
        if (!c->first) c->first = a;
        if (!weft_dist_same_split(a, c->first))
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                 "\"%s\" is split differently from the first array bound "
                                 "(or belongs to another context)",
                                 c->binds[k].name ? c->binds[k].name : "?");
    }
    if (!c->first) return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "no distributed array is bound");
    return WEFT_OK;
}

/* The core binds over this rank's local arrays. */
static void bind_local(const reduce_call *c, weft_bind *binds)
{
    for (size_t k = 0; k < c->nbinds; k++) {
        const weft_dist_bind *b = &c->binds[k];
        binds[k] = (weft_bind){b->name, b->array ? b->array->local : NULL, b->dtype, b->value};
    }
}

/* How many partials rank r makes: one per block for sums and products, else
 * one if it holds elements (the split is known to every rank). */
static size_t partial_count(const weft_dist *d, weft_reduce_op op, int r)
{
    size_t count = d->counts[r];
    if (!weft_dist_op_per_block(op)) return count > 0;
    return (count + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
}

/* One MPI_Allgatherv of every rank's entries (a status, then its partials),
 * in rank order: the sizes follow from the split, so none are exchanged. */
static weft_status exchange(const weft_dist *d, weft_reduce_op op, const dist_partial *mine,
                            size_t nmine, dist_partial **all, size_t *nall)
{
    int *counts = calloc((size_t)d->nranks, sizeof *counts);
    int *displs = calloc((size_t)d->nranks, sizeof *displs);
    size_t total = 0;
    for (int r = 0; counts && displs && r < d->nranks; r++) {
        size_t bytes = (partial_count(d, op, r) + 1) * sizeof *mine;
        counts[r] = (int)bytes;
        displs[r] = (int)(total * sizeof *mine);
        total += bytes / sizeof *mine;
    }
    *all = counts && displs ? malloc(total * sizeof **all) : NULL;
    weft_status st = *all ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for partials");
    /* A rank without memory cannot take part: the others fail in MPI or wait. */
    if (st == WEFT_OK) {
        int rc = MPI_Allgatherv(mine, (int)(nmine * sizeof *mine), MPI_BYTE, *all, counts, displs,
                                MPI_BYTE, d->comm);
        if (rc != MPI_SUCCESS) st = weft_mpi_fail_mpi(rc, "gathering partials");
    }
    *nall = total;
    free(counts);
    free(displs);
    return st;
}

/* This rank's partials: one per block for sums and products, else one. */
static weft_status local_partials(const reduce_call *c, dist_partial *p, size_t *np)
{
    const weft_dist *d = c->first;
    size_t count = d->counts[d->rank], offset = d->offsets[d->rank];
    weft_bind binds[64];
    *np = 0;
    if (count == 0) return WEFT_OK;
    if (!weft_dist_op_per_block(c->op)) {
        bind_local(c, binds);
        weft_scalar s;
        CORE_TRY(weft_reduce_expr(d->ctx, c->op, c->expr, binds, c->nbinds, &s, NULL),
                 "reducing the local block");
        p[(*np)++] = weft_dist_partial_of(&s, offset);
        return WEFT_OK;
    }
    /* Every block's own result in one pass over the local arrays, wherever
     * they are current (src/ops/reduction_blocks.h). */
    size_t nblocks = (count + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    weft_scalar *blocks = malloc(nblocks * sizeof *blocks);
    uint8_t *overflowed = malloc(nblocks);
    weft_status st =
        blocks && overflowed ? WEFT_OK : weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for blocks");
    if (st == WEFT_OK) {
        bind_local(c, binds);
        weft_status r = weft_reduce_expr_blocks(d->ctx, c->op, c->expr, binds, c->nbinds, blocks,
                                                overflowed, nblocks);
        if (r != WEFT_OK) st = weft_mpi_fail_core(r, "reducing the local blocks");
    }
    for (size_t b = 0; st == WEFT_OK && b < nblocks; b++) {
        dist_partial part = {0, 0, -1, PARTIAL_OVERFLOW};
        if (!overflowed[b]) part = weft_dist_partial_of(&blocks[b], 0);
        part.index = 0;
        p[(*np)++] = part;
    }
    free(blocks);
    free(overflowed);
    return st;
}

weft_status weft_dist_reduce_expr(weft_reduce_op op, const char *expr, const weft_dist_bind *binds,
                                  size_t nbinds, weft_scalar *out)
{
    weft_mpi_clear_error();
    reduce_call c = {op, expr, binds, nbinds, NULL};
    for (size_t k = 0; binds && k < nbinds && !c.first; k++)
        c.first = binds[k].array;
    if (!c.first) return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "no distributed array is bound");
    TRY(weft_mpi_check_collective(c.first->comm, "weft_dist_reduce", (unsigned long long)op));
    /* A rank whose own arguments are wrong still takes part, so none waits. */
    weft_status checked = !expr || !out
                              ? weft_mpi_fail(WEFT_ERR_NULL, "expression or result is NULL")
                              : check_binds(&c);
    const weft_dist *d = c.first;
    if (d->n == 0) {
        /* Every rank holds the whole (empty) array: its answer is one process's. */
        TRY(weft_mpi_agree(d->comm, checked));
        weft_bind empty[64];
        bind_local(&c, empty);
        weft_status r = weft_reduce_expr(d->ctx, op, expr, empty, nbinds, out, NULL);
        return weft_mpi_agree(d->comm,
                              r == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(r, "weft_dist_reduce"));
    }
    /* One exchange carries every rank's outcome and partials: the argument
     * check, the local reduction's status and the partials travel together
     * (a failing rank still sends as many entries as it owes). */
    size_t nmine = partial_count(d, op, d->rank), nall = 0;
    dist_partial *mine = calloc(nmine + 1, sizeof *mine), *all = NULL;
    weft_status st = checked;
    if (st == WEFT_OK && !mine) st = weft_mpi_fail(WEFT_ERR_NOMEM, "no memory for partials");
    size_t made = 0;
    if (st == WEFT_OK) st = local_partials(&c, mine + 1, &made);
    if (st == WEFT_OK && made != nmine)
        st = weft_mpi_fail(WEFT_ERR_STATE, "%zu partials, %zu expected", made, nmine);
    if (!mine) return st; /* out of memory: it cannot take part, the others' exchange fails */
    mine[0] = weft_dist_status_partial(d->rank, st);
    weft_status ex = exchange(d, op, mine, nmine + 1, &all, &nall);
    if (ex == WEFT_OK) {
        ex = weft_dist_settle(d->rank, all, &nall, st);
        if (ex == WEFT_OK) ex = weft_dist_combine(op, all, nall, out);
    }
    free(mine);
    free(all);
    return ex;
}

weft_status weft_dist_reduce(weft_reduce_op op, weft_dist *x, weft_scalar *out)
{
    weft_dist_bind bind = weft_dist_bind_array("x", x);
    return weft_dist_reduce_expr(op, "x", &bind, 1, out);
}
