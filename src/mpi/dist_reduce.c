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
#include "../expr/expr.h"
#include "../ops/reduction_blocks.h"

#include <stdlib.h>
#include <string.h>

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
        if (a != c->first && !weft_dist_same_split(a, c->first))
            return weft_mpi_fail(WEFT_ERR_INVALID_ARG,
                                 "\"%s\" is split differently from the first array bound "
                                 "(or belongs to another context)",
                                 c->binds[k].name ? c->binds[k].name : "?");
    }
    if (!c->first) return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "no distributed array is bound");
    return WEFT_OK;
}

/* The core binds over this rank's local arrays, and where i starts: the
 * rank's first element in the global array. Returns their count. */
static size_t bind_local(const reduce_call *c, weft_bind *binds)
{
    for (size_t k = 0; k < c->nbinds; k++) {
        const weft_dist_bind *b = &c->binds[k];
        binds[k] = (weft_bind){b->name, b->array ? b->array->local : NULL, b->dtype, b->value};
    }
    if (!weft_expr_text_uses_index(c->expr)) return c->nbinds;
    const weft_dist *d = c->first;
    binds[c->nbinds] = weft_bind_i64(WEFT_EXPR_INDEX_BASE, (int64_t)d->offsets[d->rank]);
    return c->nbinds + 1;
}

/* How many partials rank r makes: one per block for sums and products, else
 * one if it holds elements (the split is known to every rank). */
static size_t partial_count(const weft_dist *d, weft_reduce_op op, int r)
{
    size_t count = d->counts[r];
    if (!weft_dist_op_per_block(op)) return count > 0;
    return (count + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
}

/* What one reduction exchanges and folds, sized for the most partials any
 * op makes (sums and products: one per block). */
struct dist_scratch {
    dist_partial *mine; /* this rank's status, then its partials */
    dist_partial *all;  /* every rank's, in rank order */
    weft_scalar *blocks;
    uint8_t *overflowed;
    int *counts, *displs; /* bytes per rank, for MPI_Allgatherv */
    /* The last per-block reduction, compiled (src/ops/reduction_blocks.h):
     * an array reduced again and again skips the expression cache. */
    const weft_reduce_prepared *prepared;
    weft_reduce_op prepared_op;
    char prepared_expr[64];
};

weft_status weft_dist_scratch_make(weft_dist *d)
{
    size_t nmine = partial_count(d, WEFT_SUM, d->rank), nall = 0;
    for (int r = 0; r < d->nranks; r++)
        nall += partial_count(d, WEFT_SUM, r) + 1;
    size_t bytes = sizeof(struct dist_scratch) + (nmine + 1 + nall) * sizeof(dist_partial) +
                   nmine * sizeof(weft_scalar) + 2 * (size_t)d->nranks * sizeof(int) + nmine;
    struct dist_scratch *s = malloc(bytes);
    if (!s) return weft_mpi_fail(WEFT_ERR_NOMEM, "cannot allocate %zu partials", nall);
    /* Carved widest first: every part stays aligned. */
    s->mine = (dist_partial *)(s + 1);
    s->all = s->mine + nmine + 1;
    s->blocks = (weft_scalar *)(s->all + nall);
    s->counts = (int *)(s->blocks + nmine);
    s->displs = s->counts + d->nranks;
    s->overflowed = (uint8_t *)(s->displs + d->nranks);
    s->prepared = NULL;
    d->scratch = s;
    return WEFT_OK;
}

/* One MPI_Allgatherv of every rank's entries (a status, then its partials),
 * in rank order: the sizes follow from the split, so none are exchanged. */
static weft_status exchange(const weft_dist *d, weft_reduce_op op, size_t nmine, size_t *nall)
{
    struct dist_scratch *s = d->scratch;
    size_t total = 0;
    for (int r = 0; r < d->nranks; r++) {
        size_t entries = partial_count(d, op, r) + 1;
        s->counts[r] = (int)(entries * sizeof *s->all);
        s->displs[r] = (int)(total * sizeof *s->all);
        total += entries;
    }
    *nall = total;
    int rc = MPI_Allgatherv(s->mine, (int)(nmine * sizeof *s->mine), MPI_BYTE, s->all, s->counts,
                            s->displs, MPI_BYTE, d->comm);
    return rc == MPI_SUCCESS ? WEFT_OK : weft_mpi_fail_mpi(rc, "gathering partials");
}

/* The array's compiled reduction for this call, kept from the last call or
 * made now; NULL (the plain call then says what is wrong) when it cannot be
 * made or the expression is too long to keep. */
static const weft_reduce_prepared *prepared_for(const reduce_call *c, const weft_bind *binds,
                                                size_t nbinds)
{
    struct dist_scratch *s = c->first->scratch;
    if (s->prepared && s->prepared_op == c->op && strcmp(s->prepared_expr, c->expr) == 0 &&
        weft_reduce_prepared_fits(s->prepared, binds, nbinds))
        return s->prepared;
    s->prepared = NULL;
    if (strlen(c->expr) >= sizeof s->prepared_expr ||
        weft_reduce_blocks_prepare(c->first->ctx, c->op, c->expr, binds, nbinds, &s->prepared) !=
            WEFT_OK) {
        s->prepared = NULL;
        return NULL;
    }
    s->prepared_op = c->op;
    strcpy(s->prepared_expr, c->expr);
    return s->prepared;
}

/* This rank's partials: one per block for sums and products, else one. */
static weft_status local_partials(const reduce_call *c, dist_partial *p, size_t *np)
{
    const weft_dist *d = c->first;
    size_t count = d->counts[d->rank], offset = d->offsets[d->rank];
    weft_bind binds[65];
    *np = 0;
    if (count == 0) return WEFT_OK;
    size_t nbinds = bind_local(c, binds);
    if (!weft_dist_op_per_block(c->op)) {
        weft_scalar s;
        CORE_TRY(weft_reduce_expr(d->ctx, c->op, c->expr, binds, nbinds, &s, NULL),
                 "reducing the local block");
        p[(*np)++] = weft_dist_partial_of(&s, offset);
        return WEFT_OK;
    }
    /* Every block's own result in one pass over the local arrays, wherever
     * they are current (src/ops/reduction_blocks.h). */
    size_t nblocks = (count + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    weft_scalar *blocks = d->scratch->blocks;
    uint8_t *overflowed = d->scratch->overflowed;
    const weft_reduce_prepared *prepared = prepared_for(c, binds, nbinds);
    CORE_TRY(prepared ? weft_reduce_expr_blocks_prepared(d->ctx, prepared, binds, nbinds, blocks,
                                                         overflowed, nblocks)
                      : weft_reduce_expr_blocks(d->ctx, c->op, c->expr, binds, nbinds, blocks,
                                                overflowed, nblocks),
             "reducing the local blocks");
    for (size_t b = 0; b < nblocks; b++) {
        dist_partial part = {0, 0, -1, PARTIAL_OVERFLOW};
        if (!overflowed[b]) part = weft_dist_partial_of(&blocks[b], 0);
        part.index = 0;
        p[(*np)++] = part;
    }
    return WEFT_OK;
}

weft_status weft_dist_reduce_expr(weft_reduce_op op, const char *expr, const weft_dist_bind *binds,
                                  size_t nbinds, weft_scalar *out)
{
    weft_mpi_clear_error();
    reduce_call c = {op, expr, binds, nbinds, NULL};
    for (size_t k = 0; binds && k < nbinds && !c.first; k++)
        c.first = binds[k].array;
    if (!c.first) return weft_mpi_fail(WEFT_ERR_INVALID_ARG, "no distributed array is bound");
    RETURN_ON_ERROR(
        weft_mpi_check_collective(c.first->comm, "weft_dist_reduce", (unsigned long long)op));
    /* A rank whose own arguments are wrong still takes part, so none waits. */
    weft_status checked = !expr || !out
                              ? weft_mpi_fail(WEFT_ERR_NULL, "expression or result is NULL")
                              : check_binds(&c);
    const weft_dist *d = c.first;
    if (d->n == 0) {
        /* Every rank holds the whole (empty) array: its answer is one process's. */
        RETURN_ON_ERROR(weft_mpi_agree(d->comm, checked));
        weft_bind empty[65];
        size_t nempty = bind_local(&c, empty);
        weft_status r = weft_reduce_expr(d->ctx, op, expr, empty, nempty, out, NULL);
        return weft_mpi_agree(d->comm,
                              r == WEFT_OK ? WEFT_OK : weft_mpi_fail_core(r, "weft_dist_reduce"));
    }
    /* One exchange carries every rank's outcome and partials: the argument
     * check, the local reduction's status and the partials travel together
     * (a failing rank still sends as many entries as it owes, from buffers
     * made with the array: nothing here can fail to allocate). */
    size_t nmine = partial_count(d, op, d->rank), made = 0, nall = 0;
    dist_partial *mine = d->scratch->mine, *all = d->scratch->all;
    weft_status st = checked;
    if (st == WEFT_OK) st = local_partials(&c, mine + 1, &made);
    if (st == WEFT_OK && made != nmine)
        st = weft_mpi_fail(WEFT_ERR_STATE, "%zu partials, %zu expected", made, nmine);
    if (st != WEFT_OK) memset(mine + 1, 0, nmine * sizeof *mine);
    mine[0] = weft_dist_status_partial(d->rank, st);
    weft_status ex = exchange(d, op, nmine + 1, &nall);
    if (ex == WEFT_OK) {
        ex = weft_dist_settle(d->rank, all, &nall, st);
        if (ex == WEFT_OK) ex = weft_dist_combine(op, all, nall, out);
    }
    return ex;
}

weft_status weft_dist_reduce(weft_reduce_op op, weft_dist *x, weft_scalar *out)
{
    weft_dist_bind bind = weft_dist_bind_array("x", x);
    return weft_dist_reduce_expr(op, "x", &bind, 1, out);
}
