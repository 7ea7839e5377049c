/* weft_reduce and weft_reduce_expr: block partials on every device, combined
 * in index order on the host. */
#include "../core/error.h"
#include "dispatch.h"
#include "../dev/ref/reduce_rules.h"
#include "../exec/placement.h"
#include "../mem/residency.h"
#include "expr_build.h"
#include "expr_op.h"
#include "reduction_blocks.h"
#include "submit_local.h"

#include <stdlib.h>
#include <string.h>

/* Partials kept in the op itself: an array of up to this many blocks (small
 * ones are one) needs no allocation. */
enum { FEW_BLOCKS = 4 };

typedef struct reduce_op {
    weft_op base;
    weft_compiled *compiled;
    weft_bind binds[WEFT_EXPR_MAX_BINDINGS];
    int view_of_bind[WEFT_EXPR_MAX_BINDINGS];
    weft_expr_call call;
    weft_scalar *out;
    weft_scalar own;        /* out, for weft_sum */
    double *as_f64;         /* weft_sum's or weft_mean's result */
    int mean;               /* as_f64 is the sum divided by the element count */
    weft_partial *partials; /* few, or allocated */
    weft_partial few[FEW_BLOCKS];
    /* Set: each block's own result goes here (weft_reduce_expr_blocks),
     * with overflowed[b] 1 where block b's integer sum left 64 bits. */
    weft_scalar *blocks_out;
    uint8_t *overflowed;
} reduce_op;

static weft_status reduce_chunk(void *op, weft_device *dev, const weft_view *views, size_t begin,
                                size_t count)
{
    const reduce_op *r = op;
    return dev->ops.reduce_expr(dev, &r->call, views, begin, count,
                                r->partials + begin / WEFT_SUM_BLOCK);
}

static weft_dtype result_dtype(weft_reduce_op op, weft_dtype t)
{
    switch (op) {
    case WEFT_SUM:
        return weft_dtype_is_float(t) ? WEFT_F64 : weft_dtype_is_signed(t) ? WEFT_I64 : WEFT_U64;
    case WEFT_PROD:
        return WEFT_F64;
    case WEFT_ANY:
    case WEFT_ALL:
        return WEFT_I32;
    default:
        return t;
    }
}

static void set_value(weft_scalar *out, weft_dtype t, uint64_t bits)
{
    out->dtype = t;
    switch (t) {
    case WEFT_F32:
        out->value.f32 = (float)weft_partial_f(bits, t);
        break;
    case WEFT_F64:
        out->value.f64 = weft_partial_f(bits, t);
        break;
    case WEFT_I32:
        out->value.i32 = (int32_t)weft_partial_i(bits, t);
        break;
    case WEFT_U32:
        out->value.u32 = (uint32_t)bits;
        break;
    case WEFT_I64:
        out->value.i64 = (int64_t)bits;
        break;
    default:
        out->value.u64 = bits;
        break;
    }
}

/* One fixed order, block after block: the result cannot depend on the split.
 * Blocks [first, first + blocks) of the partials. */
static weft_status combine(const reduce_op *r, size_t first, size_t blocks, weft_scalar *out)
{
    const weft_partial *partials = r->partials + first;
    weft_reduce_op op = r->compiled->op;
    weft_dtype t = r->compiled->expr->result->type;
    weft_dtype rt = result_dtype(op, t);
    memset(out, 0, sizeof *out);
    out->dtype = rt;
    if (weft_reduce_uses_lanes(op, t)) {
        double total = op == WEFT_PROD ? 1.0 : 0.0;
        for (size_t b = 0; b < blocks; b++)
            total = op == WEFT_PROD ? total * weft_partial_f(partials[b].bits, WEFT_F64)
                                    : total + weft_partial_f(partials[b].bits, WEFT_F64);
        out->value.f64 = total;
        return WEFT_OK;
    }
    if (op == WEFT_SUM) {
        uint64_t s = 0;
        int overflow = 0;
        for (size_t b = 0; b < blocks; b++) {
            overflow |= partials[b].aux != 0;
            if (rt == WEFT_I64) {
                int64_t v;
                overflow |= __builtin_add_overflow((int64_t)s, (int64_t)partials[b].bits, &v);
                s = (uint64_t)v;
            } else {
                overflow |= __builtin_add_overflow(s, partials[b].bits, &s);
            }
        }
        RETURN_IF(overflow, WEFT_ERR_RANGE, "integer sum overflows %s",
                  rt == WEFT_I64 ? "a signed 64-bit result" : "an unsigned 64-bit result");
        set_value(out, rt, s);
        return WEFT_OK;
    }
    if (op == WEFT_ANY || op == WEFT_ALL) {
        int v = op == WEFT_ALL;
        for (size_t b = 0; b < blocks; b++)
            v = op == WEFT_ANY ? (v | (partials[b].bits != 0)) : (v & (partials[b].bits != 0));
        out->value.i32 = v;
        return WEFT_OK;
    }
    int want_less = op == WEFT_MIN || op == WEFT_ARGMIN;
    size_t best = 0;
    for (size_t b = 1; b < blocks; b++) {
        uint64_t x = partials[b].bits, y = partials[best].bits;
        int better;
        if (weft_dtype_is_float(t)) {
            double fx = weft_partial_f(x, t), fy = weft_partial_f(y, t);
            better = want_less ? weft_less_f(fx, fy) : weft_greater_f(fx, fy);
        } else if (t == WEFT_U64 || t == WEFT_U32) {
            better = want_less ? x < y : x > y;
        } else {
            int64_t ix = weft_partial_i(x, t), iy = weft_partial_i(y, t);
            better = want_less ? ix < iy : ix > iy;
        }
        if (better) best = b;
    }
    set_value(out, t, partials[best].bits);
    out->index = partials[best].aux;
    return WEFT_OK;
}

/* Each block combined alone: what a reduction of that block alone gives. */
static weft_status blocks_apart(reduce_op *r, size_t blocks)
{
    for (size_t b = 0; b < blocks; b++) {
        weft_status st = combine(r, b, 1, &r->blocks_out[b]);
        weft_reduce_op op = r->compiled->op;
        if (op == WEFT_MIN || op == WEFT_MAX || op == WEFT_ARGMIN || op == WEFT_ARGMAX)
            r->blocks_out[b].index -= b * WEFT_SUM_BLOCK; /* within the block, as alone */
        r->overflowed[b] = st == WEFT_ERR_RANGE;
        if (st == WEFT_ERR_RANGE)
            weft_error_clear();
        else
            RETURN_ON_ERROR(st);
    }
    return WEFT_OK;
}

__extension__ typedef __int128 wide_int;
__extension__ typedef unsigned __int128 wide_uint;

/* The exact sum of one block of 64-bit integers, from the host's copy. */
static weft_status block_sum_wide(weft_array *a, size_t begin, size_t end, wide_int *si,
                                  wide_uint *su)
{
    RETURN_ON_ERROR(weft_mem_make_current(a, 0, begin, end));
    weft_view v;
    RETURN_ON_ERROR(weft_mem_view(a, 0, begin, end, &v));
    if (a->dtype == WEFT_I64) {
        const int64_t *x = v.host;
        for (size_t k = 0; k < end - begin; k++)
            *si += x[k];
    } else {
        const uint64_t *x = v.host;
        for (size_t k = 0; k < end - begin; k++)
            *su += x[k];
    }
    return WEFT_OK;
}

/* weft_mean of 64-bit integers whose exact sum left 64 bits (nanosecond
 * timestamps): the mean of such values is an ordinary double. The blocks'
 * sums are added in 128 bits, a block that overflowed summed again from the
 * host's copy, and the total is rounded to double once: the same exact sum,
 * so the same bits, whatever the split. Overflow is rare, so the host pass
 * over those blocks costs nothing the common case pays. */
static weft_status mean_past_64_bits(reduce_op *r, size_t n, size_t blocks)
{
    weft_array *a = r->base.arrays[0];
    wide_int si = 0;
    wide_uint su = 0;
    for (size_t b = 0; b < blocks; b++) {
        const weft_partial *p = &r->partials[b];
        if (p->aux) {
            size_t begin = b * WEFT_SUM_BLOCK;
            size_t end = begin + WEFT_SUM_BLOCK < n ? begin + WEFT_SUM_BLOCK : n;
            RETURN_ON_ERROR(block_sum_wide(a, begin, end, &si, &su));
        } else if (a->dtype == WEFT_I64) {
            si += (int64_t)p->bits;
        } else {
            su += p->bits;
        }
    }
    *r->as_f64 = (a->dtype == WEFT_I64 ? (double)si : (double)su) / (double)n;
    return WEFT_OK;
}

/* The partials made: each block's own result, or their fold. */
static weft_status finish(reduce_op *r, size_t n, size_t blocks)
{
    if (r->blocks_out) return blocks_apart(r, blocks);
    weft_status st = combine(r, 0, blocks, r->out);
    weft_dtype t = r->base.arrays[0]->dtype;
    if (st == WEFT_ERR_RANGE && r->mean && (t == WEFT_I64 || t == WEFT_U64)) {
        weft_error_clear();
        return mean_past_64_bits(r, n, blocks);
    }
    RETURN_ON_ERROR(st);
    if (r->as_f64)
        *r->as_f64 = r->mean ? weft_scalar_as_double(r->out) / (double)n : r->out->value.f64;
    return WEFT_OK;
}

/* parallel_for for work of one block: all of it on the calling thread. */
static void one_block_here(weft_pool *pool, size_t n, size_t grain, int width,
                           weft_prim_range_fn fn, void *arg)
{
    (void)pool, (void)grain, (void)width;
    if (n > 0) fn(arg, 0, n);
}

/* One block whose arrays the host holds current: the host device's own
 * reduction on the calling thread, with no placement, split or pieces. Those
 * cost several times the reduction of a block, and the cost model keeps such
 * tiny work on the pool anyway (docs/architecture.md); the primitive and the
 * block are the ones the pool runs, so are the bits. Returns 0 (nothing
 * done) where the general path must decide: more than a block, an input
 * current only on a device, a hint or static weights that leave the pool
 * out. */
static int ran_inline(reduce_op *r, size_t n, weft_status *st)
{
    weft_op *base = &r->base;
    if (n == 0 || n > WEFT_SUM_BLOCK) return 0;
    if (!weft_place_pool_may_run(base->ctx, r->compiled->expr->text)) return 0;
    weft_view views[WEFT_OP_MAX_ARRAYS];
    for (size_t i = 0; i < base->narrays; i++) {
        int current;
        *st = weft_mem_host_view_if_current(base->arrays[i], 0, n, &views[i], &current);
        if (*st != WEFT_OK) return 1;
        if (!current) return 0;
    }
    /* The host driver's own primitive (devices[0], the host's reduce_expr)
     * with its one block run here: the pool would run one block on its
     * caller too (fewer elements than a thread's share), after entering it
     * for nothing. */
    weft_prim_threads caller = {one_block_here, NULL, (size_t)-1, 1};
    *st = weft_ref_reduce_expr(&caller, &r->call, views, 0, n, r->partials);
    return 1;
}

static weft_status reduce_run(weft_op *base)
{
    reduce_op *r = (reduce_op *)base;
    size_t n = base->arrays[0]->n;
    size_t blocks = (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK;
    if (blocks <= FEW_BLOCKS) {
        memset(r->few, 0, sizeof r->few);
        r->partials = r->few;
    } else {
        r->partials = calloc(blocks, sizeof *r->partials);
        RETURN_IF(!r->partials, WEFT_ERR_NOMEM, "cannot allocate %zu partial results", blocks);
    }
    weft_status inline_status;
    if (ran_inline(r, n, &inline_status)) {
        RETURN_ON_ERROR(inline_status);
        return finish(r, n, blocks);
    }
    const weft_expr *e = r->compiled->expr;
    weft_dispatch d = {.base = base,
                       .prim = WEFT_PRIM_REDUCE_EXPR,
                       .compiled = r->compiled,
                       .run = reduce_chunk,
                       .op = r,
                       .name = "a reduction",
                       .kind = "reduce"};
    for (size_t b = 0; b < e->nbindings; b++)
        if (r->view_of_bind[b] >= 0) d.reads |= 1u << r->view_of_bind[b];
    RETURN_ON_ERROR(weft_dispatch_run(&d));
    return finish(r, n, blocks);
}

static void reduce_release(weft_op *base)
{
    reduce_op *r = (reduce_op *)base;
    if (r->partials != r->few) free(r->partials);
    r->partials = NULL;
}

static void reduce_destroy(weft_op *base)
{
    reduce_release(base);
    free(base);
}

static void reduce_relink(weft_op *copy, const weft_op *from)
{
    reduce_op *r = (reduce_op *)copy;
    const reduce_op *f = (const reduce_op *)from;
    r->call.binds = r->binds;
    r->call.view_of_bind = r->view_of_bind;
    if (f->out == &f->own) r->out = &r->own;
}

/* out NULL: the result goes to *as_f64 (weft_sum; divided by n for weft_mean).
 * blocks NULL: one result; else each of the nblocks blocks' own. */
static weft_status reduce_submit_blocks(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                                        const weft_bind *binds, size_t nbinds, weft_scalar *out,
                                        double *as_f64, int mean, weft_scalar *blocks,
                                        uint8_t *overflowed, size_t nblocks,
                                        weft_compiled *prepared, weft_future **future)
{
    RETURN_IF((unsigned)op > WEFT_ALL, WEFT_ERR_INVALID_ARG, "weft_reduce: unknown operation %d",
              (int)op);
    /* Built here; a copy goes to the heap only if it cannot run at once. */
    reduce_op r;
    r.base = (weft_op){.run = reduce_run, .destroy = reduce_destroy, .ctx = ctx};
    r.compiled = NULL;
    r.call = (weft_expr_call){0};
    r.out = out ? out : &r.own;
    r.own = (weft_scalar){0};
    r.as_f64 = as_f64;
    r.mean = mean;
    r.partials = NULL;
    r.blocks_out = blocks;
    r.overflowed = overflowed;
    const char *what = !as_f64 ? "weft_reduce" : mean ? "weft_mean" : "weft_sum";
    RETURN_ON_ERROR(
        weft_expr_bind(ctx, what, binds, nbinds, &r.base, r.binds, r.view_of_bind, &r.call));
    if (as_f64) { /* weft_sum's and weft_mean's array, read once binding found it live */
        const weft_array *x = r.base.arrays[0];
        RETURN_IF(!mean && x->dtype != WEFT_F32 && x->dtype != WEFT_F64, WEFT_ERR_DTYPE,
                  "weft_sum: needs an f32 or f64 array, got %s", weft_dtype_name(x->dtype));
        RETURN_IF(mean && x->n == 0, WEFT_ERR_SIZE,
                  "weft_mean: the mean of an empty array is undefined");
    }
    r.compiled = prepared;
    if (!prepared)
        RETURN_ON_ERROR(
            weft_compiled_get(ctx, WEFT_EXPR_REDUCE, op, expr, binds, nbinds, &r.compiled));
    size_t n = r.base.arrays[0]->n;
    RETURN_IF(!blocks && n == 0 && op != WEFT_SUM && op != WEFT_PROD && op != WEFT_ANY &&
                  op != WEFT_ALL,
              WEFT_ERR_SIZE, "weft_reduce: the %s of an empty array is undefined",
              op == WEFT_MIN || op == WEFT_ARGMIN ? "minimum" : "maximum");
    RETURN_IF(blocks && nblocks != (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK, WEFT_ERR_SIZE,
              "weft_reduce_expr_blocks: %zu elements make %zu blocks of %d, not %zu", n,
              (n + WEFT_SUM_BLOCK - 1) / WEFT_SUM_BLOCK, WEFT_SUM_BLOCK, nblocks);
    r.call.compiled = r.compiled;
    r.base.read_only = (1u << r.base.narrays) - 1; /* a reduction writes no array */
    weft_local_op local = {&r.base, sizeof r, reduce_relink, reduce_release};
    return weft_submit_local(ctx->stream, &local, future);
}

/* out NULL: the result goes to *as_f64 (weft_sum; divided by n for weft_mean). */
static weft_status reduce_submit(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                                 const weft_bind *binds, size_t nbinds, weft_scalar *out,
                                 double *as_f64, int mean, weft_future **future)
{
    return reduce_submit_blocks(ctx, op, expr, binds, nbinds, out, as_f64, mean, NULL, NULL, 0,
                                NULL, future);
}

weft_status weft_reduce_expr_blocks(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                                    const weft_bind *binds, size_t nbinds, weft_scalar *blocks,
                                    uint8_t *overflowed, size_t nblocks)
{
    RETURN_IF(!ctx || !expr || (nblocks && (!blocks || !overflowed)), WEFT_ERR_NULL,
              "weft_reduce_expr_blocks: context, expression or results are NULL");
    weft_scalar unused;
    return reduce_submit_blocks(ctx, op, expr, binds, nbinds, &unused, NULL, 0, blocks, overflowed,
                                nblocks, NULL, NULL);
}

weft_status weft_reduce_blocks_prepare(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                                       const weft_bind *binds, size_t nbinds,
                                       const weft_reduce_prepared **prepared)
{
    RETURN_IF(!ctx || !expr || !prepared, WEFT_ERR_NULL,
              "weft_reduce_blocks_prepare: context, expression or result is NULL");
    RETURN_IF((unsigned)op > WEFT_ALL, WEFT_ERR_INVALID_ARG, "weft_reduce: unknown operation %d",
              (int)op);
    weft_compiled *c;
    RETURN_ON_ERROR(weft_compiled_get(ctx, WEFT_EXPR_REDUCE, op, expr, binds, nbinds, &c));
    *prepared = (const weft_reduce_prepared *)c;
    return WEFT_OK;
}

int weft_reduce_prepared_fits(const weft_reduce_prepared *prepared, const weft_bind *binds,
                              size_t nbinds)
{
    const weft_expr *e = ((const weft_compiled *)prepared)->expr;
    if (!binds || nbinds != e->nbindings) return 0;
    for (size_t b = 0; b < nbinds; b++) {
        const weft_expr_binding *want = &e->bindings[b];
        weft_dtype dt = binds[b].array ? binds[b].array->dtype : binds[b].dtype;
        if (!binds[b].name || strcmp(binds[b].name, want->name) != 0 ||
            (binds[b].array != NULL) != (want->is_array != 0) || dt != want->dtype)
            return 0;
    }
    return 1;
}

weft_status weft_reduce_expr_blocks_prepared(weft_ctx *ctx, const weft_reduce_prepared *prepared,
                                             const weft_bind *binds, size_t nbinds,
                                             weft_scalar *blocks, uint8_t *overflowed,
                                             size_t nblocks)
{
    RETURN_IF(!ctx || !prepared || (nblocks && (!blocks || !overflowed)), WEFT_ERR_NULL,
              "weft_reduce_expr_blocks: context, reduction or results are NULL");
    RETURN_IF(!weft_reduce_prepared_fits(prepared, binds, nbinds), WEFT_ERR_INVALID_ARG,
              "weft_reduce_expr_blocks: the bindings are not those the reduction was made for");
    weft_compiled *c = (weft_compiled *)prepared;
    weft_scalar unused;
    return reduce_submit_blocks(ctx, c->op, c->expr->text, binds, nbinds, &unused, NULL, 0, blocks,
                                overflowed, nblocks, c, NULL);
}

weft_status weft_reduce_expr(weft_ctx *ctx, weft_reduce_op op, const char *expr,
                             const weft_bind *binds, size_t nbinds, weft_scalar *out,
                             weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx || !expr || !out, WEFT_ERR_NULL,
              "weft_reduce: context, expression or result is NULL");
    return reduce_submit(ctx, op, expr, binds, nbinds, out, NULL, 0, future);
}

/* weft_sum and weft_mean: a reduction of "x" like any other, with the sum
 * (divided by n for the mean) written as a double. */
static weft_status sum_of_x(weft_ctx *ctx, weft_array *x, double *result, int mean,
                            weft_future **future)
{
    const char *what = mean ? "weft_mean" : "weft_sum";
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx || !result, WEFT_ERR_NULL, "%s: context or result is NULL", what);
    RETURN_IF(!x, WEFT_ERR_NULL, "%s: array is NULL", what);
    weft_bind bind = weft_bind_array("x", x);
    return reduce_submit(ctx, WEFT_SUM, "x", &bind, 1, NULL, result, mean, future);
}

/* The first primitive, now a reduction of "x" like any other: the same lanes,
 * blocks and kernels, so the same bits as weft_reduce(WEFT_SUM). */
weft_status weft_sum(weft_ctx *ctx, weft_array *x, double *result, weft_future **future)
{
    return sum_of_x(ctx, x, result, 0, future);
}

/* numpy's mean of a float32 array sums pairwise in float32; this sums in
 * double over weft_sum's blocks, so it is both closer and reproducible. */
weft_status weft_mean(weft_ctx *ctx, weft_array *x, double *mean, weft_future **future)
{
    return sum_of_x(ctx, x, mean, 1, future);
}

weft_status weft_reduce(weft_ctx *ctx, weft_reduce_op op, weft_array *x, weft_scalar *out,
                        weft_future **future)
{
    if (future) *future = NULL; /* on any failure too */
    RETURN_IF(!ctx, WEFT_ERR_NULL, "weft_reduce: context is NULL");
    /* Binding checks the array is live (one handle look-up per call, not two). */
    RETURN_IF(!x, WEFT_ERR_NULL, "weft_reduce: array is NULL");
    weft_bind bind = weft_bind_array("x", x);
    return weft_reduce_expr(ctx, op, "x", &bind, 1, out, future);
}

double weft_scalar_as_double(const weft_scalar *s)
{
    if (!s) return 0;
    switch (s->dtype) {
    case WEFT_F32:
        return s->value.f32;
    case WEFT_F64:
        return s->value.f64;
    case WEFT_I32:
        return s->value.i32;
    case WEFT_U32:
        return s->value.u32;
    case WEFT_I64:
        return (double)s->value.i64;
    case WEFT_U64:
        return (double)s->value.u64;
    default:
        return s->value.u8;
    }
}
